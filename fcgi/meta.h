/*
 * meta.h - a release's meta.json: what was installed, how and when, for
 * the history and the rollback (docs/API.md lists the fields).
 */
#ifndef CD_META_H
#define CD_META_H

#include <time.h>

#include "cv.h"
#include "install.h"

/* Largest meta.json read back. */
#define CD_META_MAX     (64u << 10)

/*
 * What CRL checking did for an install (meta.json "crl"): "checked" (the
 * server certificate's CRL was fetched and enforced), "not_enforced"
 * (fetched with validation none: a failure did not stop the install),
 * "no_dp" (on, but the certificate names no CRL Distribution Point, so
 * nothing was checked), "off" (CRL checking was off).
 */
const char *cd_meta_crl_outcome(const struct cd_install_files *f,
    const struct cv_summary *sum);

/*
 * meta.json for release id of f, installed at now as the seq-th install:
 * id, name, mode, validation, use_crl, crl, installed_at, seq and, from
 * the leaf, sha256, subject_cn and not_after.  Never key material.
 * Returns a new NUL-terminated string (free()), NULL when out of memory.
 */
char *cd_meta_encode(const struct cd_install_files *f, const char *id,
    time_t now, long long seq);

/*
 * Reads release id's meta.json at path into info (name, mode, validation,
 * use_crl, crl, subject_cn, not_after, installed_at) and *seq (0 when it
 * has none).  What meta.json lacks is left as it was, but for
 * installed_at, which is then the time in the id.  Returns 0, or -1 when
 * meta.json is missing or not an object.
 */
int cd_meta_read(const char *path, const char *id, struct cd_release *info,
    long long *seq);

/*
 * STATE/activations.json: when each release became current and when it
 * stopped being current, oldest first, the CD_META_LOG_MAX newest kept.
 * Written only under STATE/lock, replaced whole (cd_file_replace()).
 */
#define CD_META_LOG         "activations.json"
#define CD_META_LOG_MAX     64

struct cd_activation {
    char id[64];
    char how[12];               /* "install", "activate" or "rollback" */
    time_t from;
    time_t to;                  /* 0: still current */
};

/*
 * The log into a (at most max entries, oldest first).  Returns how many;
 * 0 when there is no log or it cannot be read (the history then shows no
 * times, and a rollback goes to the release installed before).
 */
size_t cd_meta_log_read(const char *state, struct cd_activation *a,
    size_t max);
/*
 * Records that release id became current at now by how (the entry before
 * it ends then).  Returns 0, or -1 with a one-line reason in err.
 */
int cd_meta_log_append(const char *state, const char *id, const char *how,
    time_t now, char *err, size_t errlen);

#endif
