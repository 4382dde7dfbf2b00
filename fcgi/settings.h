/*
 * settings.h - certdialog-fcgi's configuration file (JSON).
 */
#ifndef CD_SETTINGS_H
#define CD_SETTINGS_H

#include <stddef.h>

#include "cv.h"

#define CD_MAX_ADMINS 32
#define CD_MAX_THRESHOLDS 16
#define CD_MAX_DENIED 64        /* crl_denied_ranges */

struct cd_settings {
    char *state_dir;            /* releases/, current, lock */
    char *socket_path;          /* unix socket to listen on; NULL: fd 0 */
    char *socket_group;         /* group that may connect (nginx's) */
    int workers;
    char *admins[CD_MAX_ADMINS];
    size_t n_admins;
    char *hostname;             /* appliance name: name_mismatch, self-signed */
    char *ca_file;
    char *ca_dir;
    char *extra_ca_dir;
    int crl_timeout;
    size_t crl_max_size;
    char *crl_proxy;
    int crl_fetch_slots;        /* CRL downloads at once; 0: workers - 1 */
    int crl_allow_loopback;     /* 1: CRLs from 127/8, ::1 (tests only) */
    struct cv_net crl_denied[CD_MAX_DENIED]; /* never fetched from */
    size_t n_crl_denied;
    size_t crl_cache_max;       /* bytes of cached CRLs per worker */
    size_t max_body;
    size_t max_file;
    char *reload_command;       /* run with /bin/sh -c; NULL: SIGHUP */
    char *nginx_pid_file;       /* for the default reload */
    int reload_timeout;         /* s: wait for nginx's new workers */
    char *check_command;        /* run before a swap; env CERTDIALOG_RELEASE */
    char *served_address;       /* host:port checked after a reload; NULL */
    int releases_kept;
    /* certdialog-expiry (docs/API.md "Settings", certdialog-expiry(8)) */
    int expiry_thresholds[CD_MAX_THRESHOLDS];  /* days, descending */
    size_t n_expiry_thresholds;
    char *expiry_webhook;       /* https:// URL; NULL: no webhook */
    char *expiry_webhook_ca;    /* PEM bundle instead of the system CAs */
    int expiry_webhook_timeout; /* s for every attempt of one webhook */
    char *expiry_metrics_file;  /* Prometheus textfile; NULL: none */
    char *expiry_state;         /* NULL: STATE/expiry.json */
    char *key_policy;           /* "rsa" (NULL) or "rsa+ec" */
    int session_idle_timeout;   /* s without a request: signed out */
    int session_lifetime;       /* s after sign-in: signed out */
    /* certdialog-fcgi --acme-renew (docs/API.md "Automatic renewal") */
    char *acme_client;          /* NULL: /usr/bin/uacme */
    char *acme_hook;            /* NULL: the installed acme-hook */
    int acme_timeout;           /* s for a whole run's ACME exchange */
};

/*
 * Fills cfg with the defaults, then the file at path (NULL: defaults only).
 * Returns 0, or -1 with a one-line reason in err.  Unknown keys and wrong
 * types are errors.  Caller frees with cd_settings_free().
 */
int cd_settings_load(struct cd_settings *cfg, const char *path, char *err,
    size_t errlen);
void cd_settings_free(struct cd_settings *cfg);
/* 1 when the key policy is rsa+ec: EC P-256/P-384 keys are allowed. */
int cd_settings_allow_ec(const struct cd_settings *cfg);
/* 1 when user is in the admin list. */
int cd_settings_is_admin(const struct cd_settings *cfg, const char *user);

#endif
