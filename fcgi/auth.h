/*
 * auth.h - who may sign in and who is calling (docs/API.md "Signing in"):
 * the users file with yescrypt hashes (auth.c), the sessions (authsess.c),
 * the API tokens (authtok.c) and the guessing limits (ratelimit.c), all
 * kept in STATE/auth/.  Only hashes of session cookies and token secrets
 * are ever written.  No HTTP here: the handlers (session.c, tokens.c) and
 * api.c's access check use these.
 */
#ifndef CD_AUTH_H
#define CD_AUTH_H

#include <stddef.h>
#include <time.h>

#include <jansson.h>

#include "settings.h"

#define CD_AUTH_NAME_MAX        32      /* user name, bytes */
#define CD_AUTH_PASS_MIN        12
#define CD_AUTH_PASS_MAX        1024
#define CD_AUTH_COOKIE          "cd_session"
#define CD_AUTH_COOKIE_LEN      43      /* 32 bytes, base64url */
#define CD_AUTH_TOKEN_ID_LEN    12      /* hex */
#define CD_AUTH_TOKEN_LEN       (4 + CD_AUTH_TOKEN_ID_LEN + 1 + 43)
#define CD_AUTH_TOKEN_NAME_MAX  64      /* characters */
#define CD_AUTH_SESSION_TOUCH   30      /* s between writes of "last" */
#define CD_AUTH_TOKEN_TOUCH     60      /* s between writes of "last_used" */
#define CD_AUTH_FREE_FAILURES   5       /* failures answered at once */
#define CD_AUTH_MAX_WAIT        900     /* s, cap of the backoff */
#define CD_AUTH_FORGET          900     /* s after which a count is gone */

/* ---- auth.c: the clock, names, the users file, hashing ---- */

/*
 * The clock of every expiry and limit: time(NULL), or fn for tests
 * (NULL restores time()).
 */
time_t cd_auth_now(void);
void cd_auth_set_clock(time_t (*fn)(void));

/* 1 when name is a valid user name: 1-32 of [A-Za-z0-9._-], not -. first. */
int cd_auth_name_ok(const char *name);

/*
 * The rule a new password breaks for user (NULL: none), checked against
 * the current password cur (NULL: not known).  The text is a detail.
 */
const char *cd_auth_password_weak(const char *user, const char *pass,
    const char *cur);

/*
 * Checks pass against user's hash (always spending one hash, also for an
 * unknown user).  Returns 1 on a match (*must_change set), 0 when wrong or
 * unknown, -1 when the file cannot be read (err).
 */
int cd_auth_verify(const struct cd_settings *s, const char *user,
    const char *pass, int *must_change, char *err, size_t errlen);
/*
 * Sets user's password (creating the user), must_change on or off, and
 * ends the user's sessions.  0, or -1 with err.
 */
int cd_auth_set_password(const struct cd_settings *s, const char *user,
    const char *pass, int must_change, char *err, size_t errlen);

/*
 * Shared by the stores: STATE/auth[/sub] made (0700) when absent, into
 * buf.  0 or -1 with err.
 */
int cd_auth_dir(const struct cd_settings *s, const char *sub, char *buf,
    size_t len, char *err, size_t errlen);
/* An exclusive flock of STATE/auth/lock: its fd, or -1 (err). */
int cd_auth_lock(const struct cd_settings *s, char *err, size_t errlen);
void cd_auth_unlock(int fd);
/*
 * Writes len bytes to path atomically: a new temp file in its directory
 * (O_EXCL|O_NOFOLLOW, 0600), fsync, rename.  0, or -1 with err.
 */
int cd_auth_write(const char *path, const void *data, size_t len, char *err,
    size_t errlen);
/* A small JSON file of the store (NULL when absent or not an object). */
json_t *cd_auth_read_json(const char *path);
/* Writes j (compact) to path with cd_auth_write(). */
int cd_auth_write_json(const char *path, const json_t *j, char *err,
    size_t errlen);
/* n random bytes as base64url without padding into out (4n/3+2 bytes). */
int cd_auth_random_b64(size_t n, char *out, size_t outlen);
/* sha256 of s as 64 hex digits (+ NUL) into hex. */
void cd_auth_sha256_hex(const char *s, size_t len, char hex[65]);

/* ---- authsess.c: sessions ---- */

struct cd_session {
    char id[65];                /* sha256 hex of the cookie: the file */
    char user[CD_AUTH_NAME_MAX + 1];
    time_t created;
    time_t last;
    int must_change;
};

/*
 * A new session of user: its cookie value (CD_AUTH_COOKIE_LEN + 1) into
 * cookie, its data into *out.  0 or -1 with err.
 */
int cd_session_new(const struct cd_settings *s, const char *user,
    int must_change, char *cookie, size_t cookielen, struct cd_session *out,
    char *err, size_t errlen);
/*
 * The session of a cookie value: 0 and *out (its "last" brought up to
 * date at most every CD_AUTH_SESSION_TOUCH s), 1 when it does not exist
 * or has expired (the file is removed), -1 on a malformed value.
 */
int cd_session_find(const struct cd_settings *s, const char *cookie,
    struct cd_session *out);
/* Ends one session (by its id). */
void cd_session_end(const struct cd_settings *s, const char *id);
/*
 * Ends every session of user (NULL: of everyone).  Returns how many, or
 * -1 with err.
 */
int cd_session_end_user(const struct cd_settings *s, const char *user,
    char *err, size_t errlen);
/* When a session ends at the latest (absolute lifetime). */
time_t cd_session_expires(const struct cd_settings *s,
    const struct cd_session *ss);

/* ---- authtok.c: API tokens ---- */

struct cd_token {
    char id[CD_AUTH_TOKEN_ID_LEN + 1];
    char user[CD_AUTH_NAME_MAX + 1];
    char name[4 * CD_AUTH_TOKEN_NAME_MAX + 1];
    time_t created;
    time_t expires;             /* 0: never */
    time_t last_used;           /* 0: never */
};

/* 1 when name is a valid token name: 1-64 characters, no control bytes. */
int cd_token_name_ok(const char *name);
/*
 * A new token of user, expiring after days (0: never): the secret
 * "cdt_ID_SECRET" into secret (CD_AUTH_TOKEN_LEN + 1), its data into *out.
 */
int cd_token_new(const struct cd_settings *s, const char *user,
    const char *name, unsigned days, char *secret, size_t secretlen,
    struct cd_token *out, char *err, size_t errlen);
/*
 * The token an Authorization value "cdt_..." names: 0 and *out (its
 * last_used brought up to date), 1 when unknown, revoked, wrong or
 * expired.
 */
int cd_token_find(const struct cd_settings *s, const char *value,
    struct cd_token *out);
/* Every token, as GET /api/tokens lists them; NULL on error (err). */
json_t *cd_token_list(const struct cd_settings *s, char *err, size_t errlen);
/* Removes token id: 0, 1 when there is none, -1 with err. */
int cd_token_revoke(const struct cd_settings *s, const char *id, char *err,
    size_t errlen);

/* ---- ratelimit.c: the guessing limits ---- */

/*
 * Seconds the address addr or user must still wait before a try is
 * checked (0: go on).  -1 when the store cannot be read.
 */
long cd_ratelimit_wait(const struct cd_settings *s, const char *addr,
    const char *user);
/* A failed try of user from addr: counts both and logs the fail2ban line. */
void cd_ratelimit_fail(const struct cd_settings *s, const char *addr,
    const char *user);
/* A successful sign-in: forgets both counts. */
void cd_ratelimit_clear(const struct cd_settings *s, const char *addr,
    const char *user);

#endif /* CD_AUTH_H */
