/*
 * release.h - the release store under STATE/ (release.c says what is
 * always true of it): what install.c builds the public entry points on.
 */
#ifndef CD_RELEASE_H
#define CD_RELEASE_H

#include <stddef.h>

#include "install.h"
#include "settings.h"

#define CD_RELEASE_ID_LEN 25    /* 20261122T163200Z-1a2b3c4d */

/*
 * Installs f as a new release and makes it current, under the lock, then
 * reloads the web server; with only_if_missing, does nothing (0) when a
 * release nginx can start with is current by the time the lock is held.
 * Returns 0, or -1 (res->err says why).
 */
int cd_release_install(const struct cd_settings *s,
    const struct cd_install_files *f, int only_if_missing,
    struct cd_install_result *res);
/* Makes the release installed before the current one current, reloads. */
int cd_release_rollback(const struct cd_settings *s,
    struct cd_install_result *res);
/* Reloads the web server on the current release, under the lock. */
int cd_release_reload(const struct cd_settings *s,
    struct cd_install_result *res);
/* The kept releases, newest first, at most max; *n set.  0 or -1. */
int cd_release_list(const struct cd_settings *s, struct cd_release *out,
    size_t max, size_t *n);
/* STATE/current/cert.pem in a new buffer (free()), NULL when none. */
char *cd_release_current_cert(const struct cd_settings *s, size_t *lenp);
/*
 * 1 when "current" leads to a release nginx can start with (its id into
 * id, CD_RELEASE_ID_LEN + 1 bytes, "" when the link is not one of ours),
 * else 0.  Without the lock: the answer may be stale.
 */
int cd_release_current(const char *state, char *id);

/* 1 when s has the form of a release id (and so names no .tmp-*). */
int cd_release_id_ok(const char *s);

#endif
