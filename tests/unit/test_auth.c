/*
 * test_auth.c - signing in (docs/API.md "Signing in", "API tokens",
 * "Guessing limits") through fcgi/api.h and fcgi/auth.h: password hashes,
 * sessions and their expiry on a clock the test sets, sign-out and
 * password changes ending sessions, tokens and what they cannot reach,
 * the forced password change, the guessing limits, JSON bodies, and the
 * cookie's exact flags.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include <jansson.h>

#include "apitest.h"
#include "auth.h"
#include "cv_util.h"

#define P_SESSION       "/api/session"
#define P_PASSWORD      "/api/session/password"
#define P_TOKENS        "/api/tokens"
#define P_CERT          "/api/certificate"

#define PASS            "correct horse battery"
#define PASS2           "staple of the new order"
#define USER2           "operator"
#define PASS_OP         "operator's own secret"

#define COOKIE_FLAGS    "; HttpOnly; Secure; SameSite=Strict; Path=/"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* ---- a clock the tests move ---- */

static time_t fake_now;

static time_t
fake_clock(void)
{
    return fake_now;
}

static int
setup(void **state)
{
    fake_now = 1767225600;      /* 2026-01-01 */
    cd_auth_set_clock(fake_clock);
    if (at_setup(state) != 0)
        return -1;
    /* setting the password ended apitest's session: a new one */
    at_add_user(*state, AT_ADMIN, PASS, 0);
    at_admin_session(*state);
    return 0;
}

static int
teardown(void **state)
{
    cd_auth_set_clock(NULL);
    return at_teardown(state);
}

/* ---- requests ---- */

/*
 * method path with cookie (a Cookie header, NULL: none), auth (an
 * Authorization header, NULL: none) and a JSON body json (NULL: none),
 * from addr (NULL: AT_CLIENT).  Returns at_run()'s result.
 */
static int
call(struct at_fx *t, const char *method, const char *path,
    const char *cookie, const char *auth, const char *json, const char *addr,
    struct cd_response *resp)
{
    struct cd_request rq;
    char len[32];

    at_request(&rq, method, path, NULL);
    rq.cookie = cookie;
    rq.authorization = auth;
    if (addr != NULL)
        rq.remote_addr = addr;
    if (json != NULL) {
        snprintf(len, sizeof(len), "%zu", strlen(json));
        rq.content_type = "application/json";
        rq.content_length = len;
        rq.body = (const uint8_t *)json;
        rq.body_len = strlen(json);
    }
    return at_run(t, &rq, resp);
}

/* {"user": user, "password": pass} */
static char *
creds(const char *user, const char *pass)
{
    json_t *j = json_pack("{s:s, s:s}", "user", user, "password", pass);
    char *s = json_dumps(j, JSON_COMPACT);

    json_decref(j);
    assert_non_null(s);
    return s;
}

/*
 * POST /api/session as user from addr: the status; on 200 the Cookie
 * header of the new session into cookie (64 bytes).
 */
static int
sign_in(struct at_fx *t, const char *user, const char *pass,
    const char *addr, char *cookie, struct cd_response *keep)
{
    struct cd_response resp;
    char *body = creds(user, pass);
    size_t n;
    int status;

    call(t, "POST", P_SESSION, NULL, NULL, body, addr, &resp);
    free(body);
    status = resp.status;
    if (status == 200 && cookie != NULL) {
        n = strcspn(resp.set_cookie, ";");
        assert_true(n < 64);
        memcpy(cookie, resp.set_cookie, n);
        cookie[n] = '\0';
    }
    if (keep != NULL)
        *keep = resp;
    else
        cd_api_response_clear(&resp);
    return status;
}

/* The status of GET path with cookie or auth. */
static int
get_status(struct at_fx *t, const char *path, const char *cookie,
    const char *auth)
{
    struct cd_response resp;
    int status;

    call(t, "GET", path, cookie, auth, NULL, NULL, &resp);
    status = resp.status;
    cd_api_response_clear(&resp);
    return status;
}

static void
assert_status(const struct cd_response *resp, int want)
{
    char *txt;

    if (resp->status != want) {
        txt = at_text(resp);
        fail_msg("status %d, not %d: %s", resp->status, want, txt);
    }
}

/* The error's detail of resp. */
static const char *
detail(const struct cd_response *resp)
{
    json_t *e = json_array_get(json_object_get(resp->body, "errors"), 0);

    return json_string_value(json_object_get(e, "detail"));
}

/* ---- hashing ---- */

static void
test_auth_hash(void **state)
{
    struct at_fx *t = *state;
    char p[512], err[256], line[1200], *text, big[1025];
    struct stat st;
    size_t len;
    int must = -1;

    assert_int_equal(cd_auth_verify(&t->s, AT_ADMIN, PASS, &must, err,
        sizeof(err)), 1);
    assert_int_equal(must, 0);
    assert_int_equal(cd_auth_verify(&t->s, AT_ADMIN, PASS "x", &must, err,
        sizeof(err)), 0);
    assert_int_equal(cd_auth_verify(&t->s, AT_ADMIN, "", &must, err,
        sizeof(err)), 0);
    assert_int_equal(cd_auth_verify(&t->s, "nobody", PASS, &must, err,
        sizeof(err)), 0);
    /* the file: one line, a yescrypt hash, no password, 0600 */
    snprintf(p, sizeof(p), "%s/auth/users", t->dir);
    text = cv_read_file(p, 1 << 20, CV_READ_REGULAR, &len);
    assert_non_null(text);
    assert_int_equal(strncmp(text, "admin:$y$", 9), 0);
    assert_null(strstr(text, PASS));
    assert_int_equal(text[len - 1], '\n');
    assert_ptr_equal(strchr(text, '\n'), text + len - 1);
    assert_int_equal(strcmp(text + len - 2, ":\n"), 0);
    free(text);
    assert_int_equal(stat(p, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    snprintf(p, sizeof(p), "%s/auth", t->dir);
    assert_int_equal(stat(p, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0700);
    /* two hashes of one password differ (salt) */
    at_add_user(t, USER2, PASS, 1);
    snprintf(p, sizeof(p), "%s/auth/users", t->dir);
    text = cv_read_file(p, 1 << 20, CV_READ_REGULAR, &len);
    assert_non_null(text);
    snprintf(line, sizeof(line), "%s", text);
    assert_non_null(strstr(text, "\noperator:$y$"));
    assert_non_null(strstr(text, ":must_change\n"));
    free(text);
    assert_int_equal(cd_auth_verify(&t->s, USER2, PASS, &must, err,
        sizeof(err)), 1);
    assert_int_equal(must, 1);
    /* 1024 bytes (past libxcrypt's 512): all of them count */
    memset(big, 'p', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    at_add_user(t, USER2, big, 0);
    assert_int_equal(cd_auth_verify(&t->s, USER2, big, &must, err,
        sizeof(err)), 1);
    big[1023] = 'q';
    assert_int_equal(cd_auth_verify(&t->s, USER2, big, &must, err,
        sizeof(err)), 0);
    /* the admin's line is untouched by another user's change */
    assert_int_equal(cd_auth_verify(&t->s, AT_ADMIN, PASS, &must, err,
        sizeof(err)), 1);
}

static void
test_auth_names_and_rules(void **state)
{
    static const char *const good[] = { "admin", "a", "Op.1_x-y",
        "abcdefghijklmnopqrstuvwxyz012345" };
    static const char *const bad[] = { "", "-a", ".a", "a b", "a:b",
        "a/b", "é", "abcdefghijklmnopqrstuvwxyz0123456", "a\n" };
    size_t i;

    (void)state;
    for (i = 0; i < NELEM(good); i++)
        assert_true(cd_auth_name_ok(good[i]));
    for (i = 0; i < NELEM(bad); i++)
        if (cd_auth_name_ok(bad[i]))
            fail_msg("\"%s\" taken as a user name", bad[i]);
    assert_non_null(cd_auth_password_weak("admin", "elevenchars", NULL));
    assert_null(cd_auth_password_weak("admin", "twelve chars", NULL));
    assert_non_null(cd_auth_password_weak("administrator",
        "administrator", NULL));
    assert_non_null(cd_auth_password_weak("admin", PASS, PASS));
    assert_null(cd_auth_password_weak("admin", PASS2, PASS));
}

/* ---- sessions ---- */

static void
test_auth_sign_in(void **state)
{
    struct at_fx *t = *state;
    struct cd_response resp;
    char cookie[64], expires[32], id[65], p[512];
    struct stat st;
    size_t i;

    assert_int_equal(sign_in(t, AT_ADMIN, PASS, NULL, cookie, &resp), 200);
    /* the cookie: 43 characters of base64url, and exactly these flags */
    assert_int_equal(strncmp(resp.set_cookie, "cd_session=", 11), 0);
    for (i = 11; i < 11 + CD_AUTH_COOKIE_LEN; i++)
        assert_non_null(strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnop"
            "qrstuvwxyz0123456789-_", resp.set_cookie[i]));
    assert_string_equal(resp.set_cookie + 11 + CD_AUTH_COOKIE_LEN,
        COOKIE_FLAGS);
    assert_true(json_is_true(json_object_get(resp.body, "ok")));
    assert_string_equal(at_str(resp.body, "user"), AT_ADMIN);
    assert_true(json_is_false(json_object_get(resp.body,
        "must_change_password")));
    assert_int_equal(json_integer_value(json_object_get(resp.body,
        "idle_timeout")), 900);
    cv_time_iso(fake_now + 28800, expires, sizeof(expires));
    assert_string_equal(at_str(resp.body, "expires"), expires);
    assert_string_equal(resp.user, AT_ADMIN);
    cd_api_response_clear(&resp);
    /* only the cookie's hash is kept, 0600 */
    cd_auth_sha256_hex(cookie + 11, strlen(cookie + 11), id);
    snprintf(p, sizeof(p), "%s/auth/sessions/%s", t->dir, id);
    assert_int_equal(stat(p, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    /* who am I */
    call(t, "GET", P_SESSION, cookie, NULL, NULL, NULL, &resp);
    assert_status(&resp, 200);
    assert_string_equal(at_str(resp.body, "user"), AT_ADMIN);
    assert_string_equal(at_str(resp.body, "via"), "session");
    assert_string_equal(at_str(resp.body, "expires"), expires);
    cd_api_response_clear(&resp);
    /* the cookie among others, as browsers send it */
    snprintf(p, sizeof(p), "theme=dark; %s; lang=en", cookie);
    assert_int_equal(get_status(t, P_CERT, p, NULL), 200);
    /* wrong password, unknown user: one answer for both */
    assert_int_equal(sign_in(t, AT_ADMIN, PASS "!", NULL, NULL, &resp), 401);
    at_assert_error(&resp, "sign_in_failed", NULL);
    assert_string_equal(resp.set_cookie, "");
    cd_api_response_clear(&resp);
    assert_int_equal(sign_in(t, "nobody", PASS, NULL, NULL, &resp), 401);
    at_assert_error(&resp, "sign_in_failed", NULL);
    cd_api_response_clear(&resp);
    /* no session: GET /api/session says so */
    call(t, "GET", P_SESSION, NULL, NULL, NULL, NULL, &resp);
    at_assert_error(&resp, "not_signed_in", NULL);
    cd_api_response_clear(&resp);
}

static void
test_auth_session_idle(void **state)
{
    struct at_fx *t = *state;
    struct cd_response resp;
    char cookie[64], id[65], p[512];
    struct stat st;

    assert_int_equal(sign_in(t, AT_ADMIN, PASS, NULL, cookie, NULL), 200);
    cd_auth_sha256_hex(cookie + 11, strlen(cookie + 11), id);
    snprintf(p, sizeof(p), "%s/auth/sessions/%s", t->dir, id);
    /* each request within 15 min keeps it */
    fake_now += 600;
    assert_int_equal(get_status(t, P_CERT, cookie, NULL), 200);
    fake_now += 899;
    assert_int_equal(get_status(t, P_CERT, cookie, NULL), 200);
    /* 15 min without a request: gone, the browser told to forget it */
    fake_now += 900;
    call(t, "GET", P_CERT, cookie, NULL, NULL, NULL, &resp);
    at_assert_error(&resp, "not_signed_in", NULL);
    assert_string_equal(resp.set_cookie, "cd_session=" COOKIE_FLAGS
        "; Max-Age=0");
    cd_api_response_clear(&resp);
    assert_int_not_equal(stat(p, &st), 0);
    assert_int_equal(get_status(t, P_SESSION, cookie, NULL), 401);
}

/*
 * A session file changed in place, as an admin's editor or a test ages it:
 * the next request reads it anew.  (The worker's kept copy looked only at
 * the link count, so a rewrite of the same inode went unseen: the browser
 * suite's session-expired case found it.)
 */
static void
test_auth_session_changed_in_place(void **state)
{
    struct at_fx *t = *state;
    char cookie[64], id[65], p[512];
    FILE *f;

    assert_int_equal(sign_in(t, AT_ADMIN, PASS, NULL, cookie, NULL), 200);
    cd_auth_sha256_hex(cookie + 11, strlen(cookie + 11), id);
    snprintf(p, sizeof(p), "%s/auth/sessions/%s", t->dir, id);
    assert_int_equal(get_status(t, P_CERT, cookie, NULL), 200);
    /* the same inode, written over: signed in long ago, idle since */
    assert_non_null(f = fopen(p, "w"));
    fprintf(f, "{\"created\": 1000, \"last\": 1000, \"user\": \"%s\"}",
        AT_ADMIN);
    assert_int_equal(fclose(f), 0);
    assert_int_equal(get_status(t, P_CERT, cookie, NULL), 401);
}

/* Requests every 10 min keep a session only for its 8 h. */
static void
test_auth_session_lifetime(void **state)
{
    struct at_fx *t = *state;
    char cookie[64];
    int i;

    t->s.session_lifetime = 3600;
    assert_int_equal(sign_in(t, AT_ADMIN, PASS, NULL, cookie, NULL), 200);
    for (i = 0; i < 5; i++) {
        fake_now += 600;
        assert_int_equal(get_status(t, P_CERT, cookie, NULL), 200);
    }
    fake_now += 599;            /* 3599 s */
    assert_int_equal(get_status(t, P_CERT, cookie, NULL), 200);
    fake_now += 1;
    assert_int_equal(get_status(t, P_CERT, cookie, NULL), 401);
}

/* "last" is written at most every 30 s: the file's times show it. */
static void
test_auth_session_touch(void **state)
{
    struct at_fx *t = *state;
    char cookie[64], id[65], p[512];
    json_t *j;
    time_t t0 = fake_now;

    assert_int_equal(sign_in(t, AT_ADMIN, PASS, NULL, cookie, NULL), 200);
    cd_auth_sha256_hex(cookie + 11, strlen(cookie + 11), id);
    snprintf(p, sizeof(p), "%s/auth/sessions/%s", t->dir, id);
    fake_now += 29;
    assert_int_equal(get_status(t, P_CERT, cookie, NULL), 200);
    j = cd_auth_read_json(p);
    assert_int_equal(json_integer_value(json_object_get(j, "last")), t0);
    json_decref(j);
    fake_now += 1;
    assert_int_equal(get_status(t, P_CERT, cookie, NULL), 200);
    j = cd_auth_read_json(p);
    assert_int_equal(json_integer_value(json_object_get(j, "last")),
        t0 + 30);
    assert_int_equal(json_integer_value(json_object_get(j, "created")), t0);
    json_decref(j);
}

static void
test_auth_sign_out(void **state)
{
    struct at_fx *t = *state;
    struct cd_response resp;
    char c1[64], c2[64], c3[64];

    at_add_user(t, USER2, PASS_OP, 0);
    assert_int_equal(sign_in(t, AT_ADMIN, PASS, NULL, c1, NULL), 200);
    assert_int_equal(sign_in(t, AT_ADMIN, PASS, NULL, c2, NULL), 200);
    assert_int_equal(sign_in(t, USER2, PASS_OP, NULL, c3, NULL), 200);
    call(t, "DELETE", P_SESSION, c1, NULL, NULL, NULL, &resp);
    assert_status(&resp, 200);
    assert_true(json_is_true(json_object_get(resp.body, "ok")));
    assert_string_equal(resp.set_cookie, "cd_session=" COOKIE_FLAGS
        "; Max-Age=0");
    cd_api_response_clear(&resp);
    /* every session of the user ends; another user's stays */
    assert_int_equal(get_status(t, P_SESSION, c1, NULL), 401);
    assert_int_equal(get_status(t, P_SESSION, c2, NULL), 401);
    assert_int_equal(get_status(t, P_SESSION, c3, NULL), 200);
    /* signing out twice: not signed in */
    call(t, "DELETE", P_SESSION, c1, NULL, NULL, NULL, &resp);
    at_assert_error(&resp, "not_signed_in", NULL);
    cd_api_response_clear(&resp);
}

static void
test_auth_end_sessions(void **state)
{
    struct at_fx *t = *state;
    char c1[64], c2[64], err[256];

    at_add_user(t, USER2, PASS_OP, 0);
    assert_int_equal(sign_in(t, AT_ADMIN, PASS, NULL, c1, NULL), 200);
    assert_int_equal(sign_in(t, USER2, PASS_OP, NULL, c2, NULL), 200);
    assert_int_equal(cd_session_end_user(&t->s, USER2, err, sizeof(err)), 1);
    assert_int_equal(get_status(t, P_SESSION, c1, NULL), 200);
    assert_int_equal(get_status(t, P_SESSION, c2, NULL), 401);
    /* everyone: the admin's, and apitest's own */
    assert_int_equal(cd_session_end_user(&t->s, NULL, err, sizeof(err)), 2);
    assert_int_equal(get_status(t, P_SESSION, c1, NULL), 401);
    /* setting a password (--set-password) ends that user's sessions */
    assert_int_equal(sign_in(t, AT_ADMIN, PASS, NULL, c1, NULL), 200);
    at_add_user(t, AT_ADMIN, PASS2, 0);
    assert_int_equal(get_status(t, P_SESSION, c1, NULL), 401);
}

/* ---- changing the password ---- */

static char *
change(const char *cur, const char *nw)
{
    json_t *j = json_pack("{s:s, s:s}", "current", cur, "new", nw);
    char *s = json_dumps(j, JSON_COMPACT);

    json_decref(j);
    assert_non_null(s);
    return s;
}

static void
test_auth_password_change(void **state)
{
    static const struct {
        const char *nw;
        const char *what;
    } weak[] = {
        { "short", "at least 12" },
        { "elevenchars", "at least 12" },
        { AT_ADMIN, "at least 12" },
        { PASS, "differ" },
    };
    struct at_fx *t = *state;
    struct cd_response resp;
    char c1[64], c2[64], c3[64], *b;
    size_t i;

    assert_int_equal(sign_in(t, AT_ADMIN, PASS, NULL, c1, NULL), 200);
    assert_int_equal(sign_in(t, AT_ADMIN, PASS, NULL, c2, NULL), 200);
    /* the current password must be right: a failed try */
    b = change(PASS "x", PASS2);
    call(t, "PUT", P_PASSWORD, c1, NULL, b, NULL, &resp);
    free(b);
    at_assert_error(&resp, "sign_in_failed", "current");
    cd_api_response_clear(&resp);
    for (i = 0; i < NELEM(weak); i++) {
        b = change(PASS, weak[i].nw);
        call(t, "PUT", P_PASSWORD, c1, NULL, b, NULL, &resp);
        free(b);
        at_assert_error(&resp, "weak_password", "new");
        if (strstr(detail(&resp), weak[i].what) == NULL)
            fail_msg("\"%s\": detail \"%s\" lacks \"%s\"", weak[i].nw,
                detail(&resp), weak[i].what);
        cd_api_response_clear(&resp);
    }
    assert_int_equal(get_status(t, P_SESSION, c1, NULL), 200);
    b = change(PASS, PASS2);
    call(t, "PUT", P_PASSWORD, c1, NULL, b, NULL, &resp);
    free(b);
    assert_status(&resp, 200);
    /* a fresh session for the browser that changed it */
    assert_int_equal(strncmp(resp.set_cookie, "cd_session=", 11), 0);
    assert_string_equal(resp.set_cookie + 11 + CD_AUTH_COOKIE_LEN,
        COOKIE_FLAGS);
    snprintf(c3, sizeof(c3), "%.*s", 11 + CD_AUTH_COOKIE_LEN,
        resp.set_cookie);
    cd_api_response_clear(&resp);
    /* the old sessions are gone, the new one works */
    assert_int_equal(get_status(t, P_SESSION, c1, NULL), 401);
    assert_int_equal(get_status(t, P_SESSION, c2, NULL), 401);
    assert_int_equal(get_status(t, P_SESSION, c3, NULL), 200);
    assert_int_equal(sign_in(t, AT_ADMIN, PASS, NULL, NULL, NULL), 401);
    assert_int_equal(sign_in(t, AT_ADMIN, PASS2, NULL, NULL, NULL), 200);
}

/* A user who must choose a password reaches nothing else first. */
static void
test_auth_must_change(void **state)
{
    struct at_fx *t = *state;
    struct cd_response resp;
    char c1[64], c2[64], *b;

    at_add_user(t, AT_ADMIN, PASS, 1);
    assert_int_equal(sign_in(t, AT_ADMIN, PASS, NULL, c1, &resp), 200);
    assert_true(json_is_true(json_object_get(resp.body,
        "must_change_password")));
    cd_api_response_clear(&resp);
    call(t, "GET", P_CERT, c1, NULL, NULL, NULL, &resp);
    at_assert_error(&resp, "password_change_required", NULL);
    cd_api_response_clear(&resp);
    call(t, "GET", P_TOKENS, c1, NULL, NULL, NULL, &resp);
    at_assert_error(&resp, "password_change_required", NULL);
    cd_api_response_clear(&resp);
    call(t, "POST", "/api/certificate/rollback", c1, NULL, NULL, NULL,
        &resp);
    at_assert_error(&resp, "password_change_required", NULL);
    cd_api_response_clear(&resp);
    call(t, "GET", P_SESSION, c1, NULL, NULL, NULL, &resp);
    assert_status(&resp, 200);
    assert_true(json_is_true(json_object_get(resp.body,
        "must_change_password")));
    cd_api_response_clear(&resp);
    b = change(PASS, PASS2);
    call(t, "PUT", P_PASSWORD, c1, NULL, b, NULL, &resp);
    free(b);
    assert_status(&resp, 200);
    snprintf(c2, sizeof(c2), "%.*s", 11 + CD_AUTH_COOKIE_LEN,
        resp.set_cookie);
    cd_api_response_clear(&resp);
    assert_int_equal(get_status(t, P_CERT, c2, NULL), 200);
    call(t, "GET", P_SESSION, c2, NULL, NULL, NULL, &resp);
    assert_true(json_is_false(json_object_get(resp.body,
        "must_change_password")));
    cd_api_response_clear(&resp);
    /* and the next sign-in no longer asks */
    assert_int_equal(sign_in(t, AT_ADMIN, PASS2, NULL, NULL, &resp), 200);
    assert_true(json_is_false(json_object_get(resp.body,
        "must_change_password")));
    cd_api_response_clear(&resp);
}

/* ---- tokens ---- */

/* POST /api/tokens as cookie: the secret's Authorization header, the id. */
static void
new_token(struct at_fx *t, const char *cookie, const char *json,
    char *auth, size_t alen, char *id, size_t idlen)
{
    struct cd_response resp;

    call(t, "POST", P_TOKENS, cookie, NULL, json, NULL, &resp);
    assert_status(&resp, 201);
    assert_int_equal(strncmp(at_str(resp.body, "token"), "cdt_", 4), 0);
    assert_int_equal(strlen(at_str(resp.body, "token")), CD_AUTH_TOKEN_LEN);
    snprintf(auth, alen, "Bearer %s", at_str(resp.body, "token"));
    snprintf(id, idlen, "%s", at_str(resp.body, "id"));
    assert_int_equal(strncmp(at_str(resp.body, "token") + 4, id, 12), 0);
    /* the log line names no secret */
    assert_null(strstr(resp.codes, "cdt_"));
    cd_api_response_clear(&resp);
}

/* The entry of id in GET /api/tokens (new reference), NULL when none. */
static json_t *
listed(struct at_fx *t, const char *cookie, const char *id)
{
    struct cd_response resp;
    json_t *e, *found = NULL;
    size_t i;
    char *txt;

    call(t, "GET", P_TOKENS, cookie, NULL, NULL, NULL, &resp);
    assert_status(&resp, 200);
    txt = at_text(&resp);
    assert_null(strstr(txt, "cdt_"));       /* never a secret again */
    assert_null(strstr(txt, "hash"));
    free(txt);
    json_array_foreach(json_object_get(resp.body, "tokens"), i, e)
        if (strcmp(at_str(e, "id"), id) == 0)
            found = json_incref(e);
    cd_api_response_clear(&resp);
    return found;
}

static void
test_auth_tokens(void **state)
{
    struct at_fx *t = *state;
    struct cd_response resp;
    char c[64], auth[96], id[32], path[64], created[32], p[512], *txt;
    json_t *e;
    size_t n;

    assert_int_equal(sign_in(t, AT_ADMIN, PASS, NULL, c, NULL), 200);
    new_token(t, c, "{\"name\": \"backup script\"}", auth, sizeof(auth), id,
        sizeof(id));
    e = listed(t, c, id);
    assert_non_null(e);
    cv_time_iso(fake_now, created, sizeof(created));
    assert_string_equal(at_str(e, "name"), "backup script");
    assert_string_equal(at_str(e, "created"), created);
    assert_true(json_is_null(json_object_get(e, "last_used")));
    assert_true(json_is_null(json_object_get(e, "expires")));
    assert_true(json_is_false(json_object_get(e, "expired")));
    json_decref(e);
    /* the file holds the secret's hash only */
    snprintf(p, sizeof(p), "%s/auth/tokens/%s", t->dir, id);
    txt = cv_read_file(p, 1 << 16, CV_READ_REGULAR, &n);
    assert_non_null(txt);
    assert_null(strstr(txt, auth + 7 + 17));
    free(txt);
    /* the certificate routes, with the token alone */
    fake_now += 5;
    assert_int_equal(get_status(t, P_CERT, NULL, auth), 200);
    call(t, "GET", P_SESSION, NULL, auth, NULL, NULL, &resp);
    assert_status(&resp, 200);
    assert_string_equal(at_str(resp.body, "via"), "token");
    assert_string_equal(at_str(resp.body, "user"), AT_ADMIN);
    cd_api_response_clear(&resp);
    e = listed(t, c, id);
    cv_time_iso(fake_now, created, sizeof(created));
    assert_string_equal(at_str(e, "last_used"), created);
    json_decref(e);
    /* a wrong secret of the same id */
    snprintf(p, sizeof(p), "%.*sA", (int)strlen(auth) - 1, auth);
    if (strcmp(p, auth) == 0)
        p[strlen(p) - 1] = 'B';
    assert_int_equal(get_status(t, P_CERT, NULL, p), 401);
    /* revoked: 401; revoking twice: 404 */
    snprintf(path, sizeof(path), P_TOKENS "/%s", id);
    call(t, "DELETE", path, c, NULL, NULL, NULL, &resp);
    assert_status(&resp, 200);
    cd_api_response_clear(&resp);
    assert_int_equal(get_status(t, P_CERT, NULL, auth), 401);
    assert_null(listed(t, c, id));
    call(t, "DELETE", path, c, NULL, NULL, NULL, &resp);
    at_assert_error(&resp, "not_found", NULL);
    cd_api_response_clear(&resp);
    call(t, "DELETE", P_TOKENS "/../users", c, NULL, NULL, NULL, &resp);
    at_assert_error(&resp, "not_found", NULL);
    cd_api_response_clear(&resp);
}

static void
test_auth_token_expiry(void **state)
{
    struct at_fx *t = *state;
    char c[64], auth[96], id[32], exp[32];
    json_t *e;

    assert_int_equal(sign_in(t, AT_ADMIN, PASS, NULL, c, NULL), 200);
    new_token(t, c, "{\"name\": \"ci\", \"expires_days\": 1}", auth,
        sizeof(auth), id, sizeof(id));
    cv_time_iso(fake_now + 86400, exp, sizeof(exp));
    e = listed(t, c, id);
    assert_string_equal(at_str(e, "expires"), exp);
    json_decref(e);
    fake_now += 86399;
    assert_int_equal(get_status(t, P_CERT, NULL, auth), 200);
    fake_now += 1;
    assert_int_equal(get_status(t, P_CERT, NULL, auth), 401);
    /* still listed, marked expired (the session is renewed by sign-in) */
    assert_int_equal(sign_in(t, AT_ADMIN, PASS, NULL, c, NULL), 200);
    e = listed(t, c, id);
    assert_true(json_is_true(json_object_get(e, "expired")));
    json_decref(e);
}

static void
test_auth_token_bad_bodies(void **state)
{
    static const char *const bodies[] = {
        "{}", "{\"name\": \"\"}", "{\"name\": 5}",
        "{\"name\": \"a\\u0007b\"}",
        "{\"name\": \"12345678901234567890123456789012345678901234567890"
            "123456789012345\"}",
        "{\"name\": \"x\", \"expires_days\": 0}",
        "{\"name\": \"x\", \"expires_days\": -1}",
        "{\"name\": \"x\", \"expires_days\": 3651}",
        "{\"name\": \"x\", \"expires_days\": \"7\"}",
        "{\"name\": \"x\", \"expires_days\": 1.5}",
    };
    struct at_fx *t = *state;
    struct cd_response resp;
    char c[64];
    size_t i;

    assert_int_equal(sign_in(t, AT_ADMIN, PASS, NULL, c, NULL), 200);
    for (i = 0; i < NELEM(bodies); i++) {
        call(t, "POST", P_TOKENS, c, NULL, bodies[i], NULL, &resp);
        if (resp.status != 400)
            fail_msg("%s: %d, not 400", bodies[i], resp.status);
        at_assert_error(&resp, "bad_request", strstr(bodies[i],
            "expires_days") != NULL ? "expires_days" : "name");
        cd_api_response_clear(&resp);
    }
    /* 64 characters, some of them two bytes, and null expiry: fine */
    call(t, "POST", P_TOKENS, c, NULL, "{\"name\": \"\\u00e9123456789012345"
        "678901234567890123456789012345678901234567890123\", "
        "\"expires_days\": null}", NULL, &resp);
    assert_status(&resp, 201);
    cd_api_response_clear(&resp);
}

/* A token reaches the certificate routes, never tokens or passwords. */
static void
test_auth_token_limits(void **state)
{
    struct at_fx *t = *state;
    struct cd_response resp;
    char auth[96], *b;
    static const struct {
        const char *method;
        const char *path;
        const char *json;
    } refused[] = {
        { "GET", P_TOKENS, NULL },
        { "POST", P_TOKENS, "{\"name\": \"another\"}" },
        { "DELETE", P_TOKENS "/0123456789ab", NULL },
        { "PUT", P_PASSWORD, NULL },
        { "DELETE", P_SESSION, NULL },
    };
    size_t i;

    at_token(t, AT_ADMIN, auth, sizeof(auth));
    b = change(PASS, PASS2);
    for (i = 0; i < NELEM(refused); i++) {
        call(t, refused[i].method, refused[i].path, NULL, auth,
            strcmp(refused[i].path, P_PASSWORD) == 0 ? b : refused[i].json, NULL,
            &resp);
        at_assert_error(&resp, "forbidden", NULL);
        assert_string_equal(detail(&resp),
            "an API token cannot do this; sign in");
        cd_api_response_clear(&resp);
    }
    free(b);
    assert_int_equal(sign_in(t, AT_ADMIN, PASS, NULL, NULL, NULL), 200);
    /* the password did not change */
    assert_int_equal(sign_in(t, AT_ADMIN, PASS2, NULL, NULL, NULL), 401);
}

/* A user outside admins: signs in, changes their password, nothing else. */
static void
test_auth_non_admin(void **state)
{
    struct at_fx *t = *state;
    struct cd_response resp;
    char c[64], *b;

    at_add_user(t, USER2, PASS_OP, 0);
    assert_int_equal(sign_in(t, USER2, PASS_OP, NULL, c, NULL), 200);
    assert_int_equal(get_status(t, P_SESSION, c, NULL), 200);
    call(t, "GET", P_CERT, c, NULL, NULL, NULL, &resp);
    at_assert_error(&resp, "forbidden", NULL);
    cd_api_response_clear(&resp);
    call(t, "POST", P_TOKENS, c, NULL, "{\"name\": \"x\"}", NULL, &resp);
    at_assert_error(&resp, "forbidden", NULL);
    cd_api_response_clear(&resp);
    b = change(PASS_OP, PASS2);
    call(t, "PUT", P_PASSWORD, c, NULL, b, NULL, &resp);
    free(b);
    assert_status(&resp, 200);
    cd_api_response_clear(&resp);
}

/* ---- guessing limits ---- */

/* A wrong password from addr answers want; on 429 Retry-After is retry. */
static void
guess(struct at_fx *t, const char *user, const char *addr, int want,
    long retry)
{
    struct cd_response resp;

    if (sign_in(t, user, "wrong password!", addr, NULL, &resp) != want)
        fail_msg("%s from %s: %d, not %d", user, addr, resp.status, want);
    if (want == 429) {
        at_assert_error(&resp, "too_many_attempts", NULL);
        if (resp.retry_after != retry)
            fail_msg("Retry-After %ld, not %ld", resp.retry_after, retry);
    } else
        assert_int_equal(resp.retry_after, 0);
    cd_api_response_clear(&resp);
}

static void
test_auth_limit_address(void **state)
{
    struct at_fx *t = *state;
    struct cd_response resp;
    int i;

    at_add_user(t, USER2, PASS_OP, 0);
    for (i = 0; i < 5; i++)
        guess(t, AT_ADMIN, "198.51.100.1", 401, 0);
    /* the 6th try from there is not even checked, right password or not */
    guess(t, AT_ADMIN, "198.51.100.1", 429, 1);
    assert_int_equal(sign_in(t, AT_ADMIN, PASS, "198.51.100.1", NULL,
        &resp), 429);
    assert_int_equal(resp.retry_after, 1);
    cd_api_response_clear(&resp);
    /* another user from that address: the address waits too */
    assert_int_equal(sign_in(t, USER2, PASS_OP, "198.51.100.1", NULL,
        NULL), 429);
    /* backoff doubles: 1, 2, 4 s after each further failure */
    fake_now += 1;
    guess(t, AT_ADMIN, "198.51.100.1", 401, 0);
    guess(t, AT_ADMIN, "198.51.100.1", 429, 2);
    fake_now += 1;
    guess(t, AT_ADMIN, "198.51.100.1", 429, 1);
    fake_now += 1;
    guess(t, AT_ADMIN, "198.51.100.1", 401, 0);
    guess(t, AT_ADMIN, "198.51.100.1", 429, 4);
    fake_now += 4;
    assert_int_equal(sign_in(t, AT_ADMIN, PASS, "198.51.100.1", NULL,
        NULL), 200);
    /* success forgets the counts: five answered at once again */
    for (i = 0; i < 5; i++)
        guess(t, AT_ADMIN, "198.51.100.1", 401, 0);
    guess(t, AT_ADMIN, "198.51.100.1", 429, 1);
    /* 15 min after the last failure, forgotten */
    fake_now += 900;
    for (i = 0; i < 5; i++)
        guess(t, AT_ADMIN, "198.51.100.1", 401, 0);
    guess(t, AT_ADMIN, "198.51.100.1", 429, 1);
}

static void
test_auth_limit_user(void **state)
{
    struct at_fx *t = *state;
    char addr[32];
    long w;
    int i;

    at_add_user(t, USER2, PASS_OP, 0);
    /* one guess each from five addresses: the user's count blocks */
    for (i = 0; i < 5; i++) {
        snprintf(addr, sizeof(addr), "203.0.113.%d", i + 1);
        guess(t, AT_ADMIN, addr, 401, 0);
    }
    guess(t, AT_ADMIN, "203.0.113.99", 429, 1);
    /* another user from a fresh address goes on */
    assert_int_equal(sign_in(t, USER2, PASS_OP, "203.0.113.100", NULL,
        NULL), 200);
    /* waits of 1, 2, ... 512 s, then the cap: 900 s at most */
    for (w = 1; w <= 512; w *= 2) {
        fake_now += w;
        guess(t, AT_ADMIN, "203.0.113.99", 401, 0);
        guess(t, AT_ADMIN, "203.0.113.99", 429, w * 2 > 900 ? 900 : w * 2);
    }
}

/* A wrong current password in a change counts towards the limits. */
static void
test_auth_limit_password_change(void **state)
{
    struct at_fx *t = *state;
    struct cd_response resp;
    char c[64], *b;
    int i;

    assert_int_equal(sign_in(t, AT_ADMIN, PASS, NULL, c, NULL), 200);
    b = change("wrong password!", PASS2);
    for (i = 0; i < 5; i++) {
        call(t, "PUT", P_PASSWORD, c, NULL, b, NULL, &resp);
        at_assert_error(&resp, "sign_in_failed", "current");
        cd_api_response_clear(&resp);
    }
    call(t, "PUT", P_PASSWORD, c, NULL, b, NULL, &resp);
    at_assert_error(&resp, "too_many_attempts", NULL);
    assert_int_equal(resp.retry_after, 1);
    cd_api_response_clear(&resp);
    free(b);
}

/* ---- bodies, origin, routes ---- */

static void
test_auth_json_bodies(void **state)
{
    static const struct {
        const char *type;
        const char *body;
        const char *len;        /* NULL: the body's */
        const char *code;
        const char *field;
    } cases[] = {
        { "text/plain", "{}", NULL, "unsupported_media_type", NULL },
        { NULL, "{}", NULL, "unsupported_media_type", NULL },
        { "application/jsonx", "{}", NULL, "unsupported_media_type", NULL },
        { "multipart/form-data; boundary=x", "{}", NULL,
          "unsupported_media_type", NULL },
        { "application/json", "{}", "", "length_required", NULL },
        { "application/json", "{}", "4097", "too_large", NULL },
        { "application/json", "{}", "x", "bad_request", NULL },
        { "application/json", "{", NULL, "bad_request", NULL },
        { "application/json", "", NULL, "bad_request", NULL },
        { "application/json", "[]", NULL, "bad_request", NULL },
        { "application/json", "\"admin\"", NULL, "bad_request", NULL },
        { "application/json", "{\"user\": \"admin\"}", NULL, "bad_request",
          "password" },
        { "application/json", "{\"user\": 1, \"password\": \"x\"}", NULL,
          "bad_request", "user" },
        { "application/json", "{\"user\": \"admin\", \"password\": null}",
          NULL, "bad_request", "password" },
        { "application/json", "{\"user\": \"a\", \"user\": \"b\", "
          "\"password\": \"x\"}", NULL, "bad_request", NULL },
        { "application/json", "{\"user\": \"admin\", \"password\": "
          "\"a\\u0000b\"}", NULL, "bad_request", NULL },
    };
    struct at_fx *t = *state;
    struct cd_request rq;
    struct cd_response resp;
    enum cd_body_need need;
    char len[32];
    size_t i, n;

    for (i = 0; i < NELEM(cases); i++) {
        at_request(&rq, "POST", P_SESSION, NULL);
        rq.cookie = NULL;
        snprintf(len, sizeof(len), "%zu", strlen(cases[i].body));
        rq.content_type = cases[i].type;
        rq.content_length = cases[i].len != NULL ? cases[i].len : len;
        rq.body = (const uint8_t *)cases[i].body;
        rq.body_len = strlen(cases[i].body);
        at_run(t, &rq, &resp);
        if (strcmp(resp.codes, cases[i].code) != 0)
            fail_msg("case %zu (%s): %s, not %s", i, cases[i].body,
                resp.codes, cases[i].code);
        at_assert_error(&resp, cases[i].code, cases[i].field);
        cd_api_response_clear(&resp);
    }
    /* a charset parameter and 4096 bytes are fine */
    at_request(&rq, "POST", P_SESSION, NULL);
    rq.content_type = "application/json; charset=utf-8";
    rq.content_length = "4096";
    assert_int_equal(cd_api_precheck(&t->app, &rq, &need, &n, &resp), 0);
    assert_int_equal(need, CD_BODY_READ);
    assert_int_equal(n, 4096);
    cd_api_response_clear(&resp);
}

/* Signing in from another site (login CSRF) is refused like a post. */
static void
test_auth_cross_site(void **state)
{
    static const struct {
        const char *origin;
        const char *https;
        const char *host;
    } cross[] = {
        { "http://" AT_HOST, "on", AT_HOST },
        { "https://" AT_HOST, NULL, AT_HOST },
        { "https://" AT_HOST ":8443", "on", AT_HOST ":9443" },
        { "https://" AT_HOST ":8443", "on", AT_HOST },
        { "https://evil.example", "on", AT_HOST },
    };
    struct at_fx *t = *state;
    struct cd_request rq;
    struct cd_response resp;
    char *b = creds(AT_ADMIN, PASS), len[32];
    size_t i;

    for (i = 0; i < NELEM(cross); i++) {
        at_request(&rq, "POST", P_SESSION, NULL);
        rq.origin = cross[i].origin;
        rq.https = cross[i].https;
        rq.host = cross[i].host;
        rq.content_type = "application/json";
        snprintf(len, sizeof(len), "%zu", strlen(b));
        rq.content_length = len;
        rq.body = (const uint8_t *)b;
        rq.body_len = strlen(b);
        at_run(t, &rq, &resp);
        at_assert_error(&resp, "forbidden", NULL);
        assert_string_equal(resp.set_cookie, "");
        cd_api_response_clear(&resp);
    }
    /* the same from the appliance's own page, on a port */
    at_request(&rq, "POST", P_SESSION, NULL);
    rq.origin = "https://" AT_HOST ":8443";
    rq.host = AT_HOST ":8443";
    rq.content_type = "application/json";
    rq.content_length = len;
    rq.body = (const uint8_t *)b;
    rq.body_len = strlen(b);
    at_run(t, &rq, &resp);
    assert_status(&resp, 200);
    cd_api_response_clear(&resp);
    free(b);
}

static void
test_auth_routes(void **state)
{
    struct at_fx *t = *state;
    struct cd_response resp;

    call(t, "GET", P_TOKENS "/0123456789ab", at_admin_cookie(), NULL, NULL,
        NULL, &resp);
    at_assert_error(&resp, "method_not_allowed", NULL);
    assert_string_equal(resp.allow, "DELETE");
    cd_api_response_clear(&resp);
    call(t, "DELETE", P_TOKENS, at_admin_cookie(), NULL, NULL, NULL, &resp);
    at_assert_error(&resp, "method_not_allowed", NULL);
    assert_string_equal(resp.allow, "GET, HEAD, POST");
    cd_api_response_clear(&resp);
    call(t, "PUT", P_SESSION, at_admin_cookie(), NULL, NULL, NULL, &resp);
    at_assert_error(&resp, "method_not_allowed", NULL);
    assert_string_equal(resp.allow, "GET, HEAD, POST, DELETE");
    cd_api_response_clear(&resp);
    call(t, "DELETE", P_TOKENS "/0123456789ab/x", at_admin_cookie(), NULL,
        NULL, NULL, &resp);
    at_assert_error(&resp, "not_found", NULL);
    cd_api_response_clear(&resp);
    call(t, "DELETE", P_TOKENS "/0123456789ab/", at_admin_cookie(), NULL,
        NULL, NULL, &resp);
    at_assert_error(&resp, "not_found", NULL);      /* no such token */
    cd_api_response_clear(&resp);
    /* signing in needs nobody signed in; the rest does */
    call(t, "GET", P_TOKENS, NULL, NULL, NULL, NULL, &resp);
    at_assert_error(&resp, "not_signed_in", NULL);
    cd_api_response_clear(&resp);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int
main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_auth_hash),
        T(test_auth_names_and_rules),
        T(test_auth_sign_in),
        T(test_auth_session_idle),
        T(test_auth_session_changed_in_place),
        T(test_auth_session_lifetime),
        T(test_auth_session_touch),
        T(test_auth_sign_out),
        T(test_auth_end_sessions),
        T(test_auth_password_change),
        T(test_auth_must_change),
        T(test_auth_tokens),
        T(test_auth_token_expiry),
        T(test_auth_token_bad_bodies),
        T(test_auth_token_limits),
        T(test_auth_non_admin),
        T(test_auth_limit_address),
        T(test_auth_limit_user),
        T(test_auth_limit_password_change),
        T(test_auth_json_bodies),
        T(test_auth_cross_site),
        T(test_auth_routes),
    };

    return cmocka_run_group_tests(tests, at_group_setup, at_group_teardown);
}
