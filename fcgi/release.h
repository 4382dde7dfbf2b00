/*
 * release.h - the release store under STATE/ (release.c says what is
 * always true of it) for the self-signed first start (selfsigned.c); the
 * rest of it is install.h's.
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
/*
 * 1 when "current" leads to a release nginx can start with (its id into
 * id, CD_RELEASE_ID_LEN + 1 bytes, "" when the link is not one of ours),
 * else 0.  Without the lock: the answer may be stale.
 */
int cd_release_current(const char *state, char *id);

/* 1 when s has the form of a release id (and so names no .tmp-*). */
int cd_release_id_ok(const char *s);

#endif
