/*
 * acme.h - automatic renewal over ACME (docs/API.md "Automatic renewal
 * (ACME)"): the admin's settings, the runner's status, and the decisions
 * (due, backoff) shared by the routes (acme.c), the runner (acmerun.c,
 * certdialog-fcgi --acme-renew) and the tests.
 *
 *	STATE/acme/config.json   the settings, 0600 (holds the EAB HMAC key)
 *	STATE/acme/status.json   the last attempt, its result, the next one
 *	STATE/acme/run.lock      flock'ed by the one run in progress
 *	STATE/acme/uacme/        the ACME client's account (key 0600)
 *	STATE/acme/challenge/    http-01 answers (acme-hook writes them,
 *	                         GET /api/acme/challenge/TOKEN reads them
 *	                         for nginx's port-80 server)
 */
#ifndef CD_ACME_H
#define CD_ACME_H

#include <stddef.h>
#include <time.h>

#include <jansson.h>

#include "keygen.h"
#include "settings.h"

#define CD_ACME_MAX_NAMES       16
#define CD_ACME_URL_MAX         512
#define CD_ACME_EMAIL_MAX       254
#define CD_ACME_KID_MAX         256
#define CD_ACME_HMAC_MAX        512
#define CD_ACME_MSG_MAX         512

/* Backoff after failures: 1 h, doubled each time, at most a day. */
#define CD_ACME_BACKOFF_FIRST   3600
#define CD_ACME_BACKOFF_MAX     86400

struct cd_acme_config {
    int enabled;
    char directory[CD_ACME_URL_MAX + 1];        /* https:// */
    char email[CD_ACME_EMAIL_MAX + 1];          /* "" when none */
    char eab_kid[CD_ACME_KID_MAX + 1];          /* "" when none */
    char eab_hmac[CD_ACME_HMAC_MAX + 1];        /* secret; "" when none */
    char names[CD_ACME_MAX_NAMES][254];         /* none: the served ones */
    size_t n_names;
    enum cd_key_type key_type;
    char challenge[16];                         /* "http-01" */
};

struct cd_acme_status {
    time_t last_attempt;        /* 0: never */
    char last_result[16];       /* "ok", "failed", "" */
    char last_message[CD_ACME_MSG_MAX];
    time_t last_success;        /* 0: never */
    int failures;               /* in a row, since the last success */
    time_t next_attempt;        /* 0: at the next run */
    char release[64];           /* the last release ACME installed */
};

/*
 * The configuration from a PUT body over the stored one (old, may be
 * NULL): every member checked.  An absent eab_hmac_key keeps the stored
 * one while eab_key_id stays; null removes both.  Returns 0, or -1 with
 * the member at fault in *fieldp (a string of body's, or a constant) and
 * a one-line reason.
 */
int cd_acme_config_parse(const struct cd_settings *s, json_t *body,
    const struct cd_acme_config *old, struct cd_acme_config *c,
    const char **fieldp, char *why, size_t wlen);
/*
 * STATE/acme/config.json: 1 with *c, 0 when none, -1 (why) when it
 * cannot be read or is not valid.
 */
int cd_acme_config_load(const struct cd_settings *s,
    struct cd_acme_config *c, char *why, size_t wlen);
/* Writes it (0600, atomically): 0, or -1 with why. */
int cd_acme_config_save(const struct cd_settings *s,
    const struct cd_acme_config *c, char *why, size_t wlen);
/* Its JSON for GET: the HMAC key only as "eab_hmac_set". */
json_t *cd_acme_config_json(const struct cd_acme_config *c);
/* Wipes the secret. */
void cd_acme_config_clear(struct cd_acme_config *c);

/* STATE/acme/status.json into *st (zeros when none): 0, or -1. */
int cd_acme_status_load(const struct cd_settings *s,
    struct cd_acme_status *st);
int cd_acme_status_save(const struct cd_settings *s,
    const struct cd_acme_status *st, char *why, size_t wlen);
/* {last_attempt, last_result, ..., running}: times ISO 8601 or null. */
json_t *cd_acme_status_json(const struct cd_acme_status *st, int running);
/* 1 when a run holds STATE/acme/run.lock. */
int cd_acme_running(const struct cd_settings *s);

/* Seconds to wait after the failures-th failure in a row (>= 1). */
long cd_acme_backoff(int failures);

/* What the runner knows of the served certificate. */
struct cd_acme_served {
    int present;                /* 0: none could be read */
    int self_signed;
    time_t not_before, not_after;
    int names_match;            /* its names are the configured ones */
};

/*
 * Whether a run at now renews: 1 (with why), or 0 with *nextp the time a
 * run will.  Due: forced; no certificate, a self-signed one, or one with
 * other names than configured; a third or less of its lifetime left.
 * After a failure nothing is due before the backoff's next attempt
 * (unless forced).
 */
int cd_acme_due(time_t now, const struct cd_acme_served *c,
    const struct cd_acme_status *st, int force, time_t *nextp,
    char *why, size_t wlen);
/* The time a third of [nb, na] is left. */
time_t cd_acme_renew_at(time_t nb, time_t na);

/* STATE/acme/NAME into buf (PATH_MAX): 0, or -1. */
int cd_acme_path(const struct cd_settings *s, const char *name, char *buf);
/* Makes STATE/acme (0700): 0, or -1 (errno). */
int cd_acme_mkdir(const struct cd_settings *s);

/*
 * Set by certdialog-fcgi at start for POST /api/acme/renew: the program
 * and the settings file a run is started with (NULL: renew refused).
 */
void cd_acme_set_self(const char *exe, const char *config);
/*
 * Starts `EXE -c CONFIG --acme-renew --force` detached (its own session,
 * no descriptor of ours but /dev/null).  0, or -1 with why.
 */
int cd_acme_start(char *why, size_t wlen);

#endif /* CD_ACME_H */
