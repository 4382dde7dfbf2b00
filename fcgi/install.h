/*
 * install.h - atomic installation of accepted certificates: the entry
 * points fcgi/api.c and fcgi/main.c call (release.c, and selfsigned.c for
 * the self-signed ones).
 *
 * STATE/releases/<id>/{cert.pem,privkey.pem,chain.pem,fullchain.pem,
 * meta.json}, STATE/current -> releases/<id> swapped with one rename(2),
 * STATE/lock serialising installers.  nginx serves current/fullchain.pem and
 * current/privkey.pem.  fcgi/release.c says what is always true of STATE.
 */
#ifndef CD_INSTALL_H
#define CD_INSTALL_H

#include <stddef.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "settings.h"

/* What an accepted upload installs; nothing here is freed by the store. */
struct cd_install_files {
    const char *name;           /* Certificate Name */
    const char *mode;           /* "ca-signed" or "self-signed" */
    const char *validation;     /* "mandatory" or "none" */
    int use_crl;
    EVP_PKEY *key;
    X509 *leaf;
    STACK_OF(X509) *path;       /* CA certificates above the leaf, in order */
};

struct cd_install_result {
    char release[64];           /* id of the release made current */
    int reloaded;               /* 1: reload succeeded */
    char reload_detail[256];    /* what the reload did or why it failed */
    int served;                 /* 1: a handshake saw the new certificate */
    char served_detail[256];    /* what the handshake saw */
    int rolled_back;            /* 1: not served, the previous is back */
    char err[256];              /* on failure: why (no key material) */
};

/* A span of time a release was current; to is 0 while it still is. */
struct cd_period {
    time_t from;
    time_t to;
};

#define CD_MAX_PERIODS 8        /* the newest spans a history row shows */

/* One kept release, newest first in lists. */
struct cd_release {
    char id[64];
    char name[65];
    char mode[16];
    char validation[16];
    int use_crl;
    char crl[16];               /* meta.h's CRL outcome; "" when unknown */
    char subject_cn[256];
    time_t not_after;           /* 0 when unknown */
    time_t installed_at;
    int current;
    int previous;               /* 1: the one a rollback makes current */
    struct cd_period active[CD_MAX_PERIODS];    /* oldest first */
    size_t n_active;
};

#define CD_MAX_RELEASES 100

/*
 * Writes a new release (each file and the directory fsync'ed, key 0600),
 * checks it loads the way nginx will load it, makes it current with one
 * rename(2) of a symlink, fsyncs STATE, prunes old releases, then reloads.
 * Serialised by an flock on STATE/lock.  Returns 0 or -1 (res->err says
 * why; nothing current changed).
 */
int cd_install_release(const struct cd_settings *s,
    const struct cd_install_files *f, struct cd_install_result *res);
/*
 * Makes the release that was current before the current one current again
 * (STATE/activations.json; without it, the one installed before).
 * Returns 0, -2 when there is none (nothing installed, or no earlier
 * release), or -1 when it could not be done (res->err says why).
 */
int cd_install_rollback(const struct cd_settings *s,
    struct cd_install_result *res);
/*
 * Makes the kept release id current, the way a rollback does (check,
 * swap, reload, handshake, back to the one before when it is not served).
 * Returns 0, -2 when it is current already, -3 when no kept release has
 * that id, or -1 when it could not be done (res->err says why).
 */
int cd_install_activate(const struct cd_settings *s, const char *id,
    struct cd_install_result *res);
/*
 * Generates an RSA-2048/SHA-256 self-signed certificate for s->hostname
 * (CN and SAN) and installs it.
 */
int cd_install_self_signed(const struct cd_settings *s,
    struct cd_install_result *res);
/* First start: installs a self-signed certificate when nothing is current. */
int cd_install_ensure(const struct cd_settings *s,
    struct cd_install_result *res);
/*
 * Reloads nginx on the current release and, when it reloaded, checks with
 * a handshake that it serves it (res->served; the lock held): at start,
 * and when a worker died, for an installer that died between its swap
 * and its reload.
 */
int cd_install_reload(const struct cd_settings *s,
    struct cd_install_result *res);
/* The kept releases, newest first; *n set.  Returns 0 or -1. */
int cd_install_list(const struct cd_settings *s, struct cd_release *out,
    size_t max, size_t *n);
/*
 * Reads the current certificate (PEM, STATE/current/cert.pem) into a new
 * buffer; caller frees with free().  NULL when nothing is installed.
 */
char *cd_install_current_cert(const struct cd_settings *s, size_t *lenp);

#endif
