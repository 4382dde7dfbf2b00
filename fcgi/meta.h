/*
 * meta.h - a release's meta.json: what was installed, how and when, for
 * the history and the rollback (docs/API.md lists the fields).
 */
#ifndef CD_META_H
#define CD_META_H

#include <time.h>

#include "install.h"

/* Largest meta.json read back. */
#define CD_META_MAX     (64u << 10)

/*
 * meta.json for release id of f, installed at now as the seq-th install:
 * id, name, mode, validation, use_crl, installed_at, seq and, from the
 * leaf, sha256, subject_cn and not_after.  Never key material.  Returns a
 * new NUL-terminated string (free()), NULL when out of memory.
 */
char *cd_meta_encode(const struct cd_install_files *f, const char *id,
    time_t now, long long seq);

/*
 * Reads release id's meta.json at path into info (name, mode, validation,
 * use_crl, installed_at) and *seq (0 when it has none).  What meta.json
 * lacks is left as it was, but for installed_at, which is then the time
 * in the id.  Returns 0, or -1 when meta.json is missing or not an object.
 */
int cd_meta_read(const char *path, const char *id, struct cd_release *info,
    long long *seq);

#endif
