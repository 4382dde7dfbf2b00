/*
 * fixture.h - reading the test fixtures made by tests/data/mkfixtures.sh,
 * and looking at engine reports (libcdtest.a, no cmocka): the functions
 * return NULL (or -1, 0) on failure and cd_fixture_error() says why.
 *
 * A cmocka test defines CD_FIXTURE_CMOCKA and includes <cmocka.h> before
 * this file to get, at the end, fx() and friends: the same, failing the
 * running test instead of returning NULL.
 */
#ifndef CD_FIXTURE_H
#define CD_FIXTURE_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "cv.h"

/* The fixture directory ($CD_FIXTURES, else "tests/fixtures"). */
const char *cd_fixture_dir(void);
/*
 * Reads a fixture into a new buffer (NUL-terminated, *lenp excludes it).
 * Returns NULL when missing.  Caller frees with free().
 */
uint8_t *cd_fixture_read(const char *name, size_t *lenp);
/* Full path of a fixture in a static buffer (overwritten by each call). */
const char *cd_fixture_path(const char *name);
/* The "made_at" time + 60 s: the validation time tests use. */
time_t cd_fixture_time(void);

/* A fixture's bytes, read once; p[n] is a NUL past the end. */
struct cd_blob {
    const char *name;
    const uint8_t *p;
    size_t n;
};

/*
 * The fixture name, read on the first call and kept until
 * cd_fixture_blobs_free().  Returns NULL when it is missing.  Points into
 * the cache; caller does not free.
 */
const struct cd_blob *cd_fixture_blob(const char *name);
/* Frees every cached fixture; the pointers handed out become invalid. */
void cd_fixture_blobs_free(void);

/*
 * Fills in with the bytes of the fixtures key, crt and chain (NULL: not
 * sent), everything else zero.  Returns 0, or -1 when one is missing.
 * Points into the cache; caller does not free.
 */
int cd_fixture_input(struct cv_input *in, const char *key, const char *crt,
    const char *chain);

/*
 * The first PEM certificate, PEM private key (unencrypted) or CRL (DER or
 * PEM) of a fixture.  Return NULL when the fixture is missing or holds no
 * such thing.  Caller frees with X509_free(), EVP_PKEY_free(),
 * X509_CRL_free().
 */
X509 *cd_fixture_x509(const char *name);
EVP_PKEY *cd_fixture_key(const char *name);
X509_CRL *cd_fixture_crl(const char *name);

/*
 * Why the last of the calls above returned NULL, e.g. "fixture x.pem
 * missing (CD_FIXTURES=tests/fixtures)".  A static buffer.
 */
const char *cd_fixture_error(void);

/*
 * A context whose only trust anchor is the fixture root.pem (no system
 * bundle).  Returns NULL on failure.  Caller frees with cv_ctx_free().
 */
struct cv_ctx *cd_fixture_ctx(void);

/*
 * The findings of rep as text for a failure message, cut to fit len:
 * "code(field: detail), code[w](field: detail)", "[w]" marking a warning.
 */
void cd_fixture_report_text(const struct cv_report *rep, char *buf,
    size_t len);
/*
 * The first finding of rep with the given code, NULL when none.  Points
 * into rep; caller does not free.
 */
const struct cv_finding *cd_fixture_finding(const struct cv_report *rep,
    enum cv_code code);
/*
 * 1 when the findings of rep carry exactly the codes of errs and warns
 * (CV_OK-terminated; warns may be NULL): each listed code is found, and
 * each finding's code is listed.  With warns != NULL a finding of errs
 * must block and one of warns must not; with warns NULL, errs lists every
 * code and whether a finding blocks is not looked at.  0 otherwise.
 */
int cd_fixture_report_codes(const struct cv_report *rep,
    const enum cv_code *errs, const enum cv_code *warns);

/* ---- a growing byte buffer for the tests' bodies ---- */

struct cd_buf {
    uint8_t *p;                 /* len bytes and a NUL; NULL when empty */
    size_t len;
    size_t cap;
};

/* Appends len bytes (a NUL kept after them); aborts when out of memory. */
void cd_buf_add(struct cd_buf *b, const void *data, size_t len);
/* Frees b's bytes; b is empty again. */
void cd_buf_free(struct cd_buf *b);

#ifdef CD_FIXTURE_CMOCKA
/* p, or the running test fails with cd_fixture_error() when it is NULL. */
static inline void *
fx_must(void *p)
{
    if (p == NULL)
        fail_msg("%s", cd_fixture_error());
    return p;
}

/* cd_fixture_blob(): a fixture's bytes, read once. */
static inline const struct cd_blob *
fx(const char *name)
{
    const struct cd_blob *b = cd_fixture_blob(name);

    if (b == NULL)
        fail_msg("%s", cd_fixture_error());
    return b;
}

/* cd_fixture_x509(), _key(), _crl(): caller frees. */
static inline X509 *
fx_x509(const char *name)
{
    return fx_must(cd_fixture_x509(name));
}

static inline EVP_PKEY *
fx_key(const char *name)
{
    return fx_must(cd_fixture_key(name));
}

static inline X509_CRL *
fx_crl(const char *name)
{
    return fx_must(cd_fixture_crl(name));
}

/* cd_fixture_input(): in from fixture names (NULL: not sent). */
static inline void
input_fx(struct cv_input *in, const char *key, const char *crt,
    const char *chain)
{
    if (cd_fixture_input(in, key, crt, chain) != 0)
        fail_msg("%s", cd_fixture_error());
}

/* cd_fixture_finding(): the first finding of a code, which must be there. */
static inline const struct cv_finding *
finding(const struct cv_report *rep, enum cv_code code)
{
    const struct cv_finding *f = cd_fixture_finding(rep, code);

    if (f == NULL)
        fail_msg("no %s finding", cv_code_name(code));
    return f;
}
#endif /* CD_FIXTURE_CMOCKA */

#endif
