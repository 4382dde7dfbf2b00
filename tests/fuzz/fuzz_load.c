/*
 * fuzz_load.c - libFuzzer harness for the engine's loaders
 * (validate/load.c via cv_int.h, and cv_cert_summary() of cv.h).
 *
 * Input: key SEP certificate SEP chain SEP passphrase, SEP being
 * CD_FUZZ_SEP (fuzz_common.h); missing pieces are empty.  Each loader gets
 * an exact-size copy.  Checked: only the documented codes come back, an
 * object exactly on CV_OK, details are terminated, nothing leaks.
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "cv.h"
#include "cv_int.h"
#include "fuzz_common.h"

/* 2026-01-01T00:00:00Z */
#define FUZZ_AT ((time_t)1767225600)

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_piece pc[CD_FUZZ_PIECES];
    char det[CV_DETAIL_MAX], *pass;
    const char *pw;
    EVP_PKEY *key = NULL, *p12key = NULL;
    X509 *leaf = NULL;
    STACK_OF(X509) *extra = NULL, *chain = NULL;
    struct cv_summary sum;
    enum cv_code rc;

    fuzz_split(data, size, pc);
    pass = fuzz_cstr(&pc[3]);
    pw = pass[0] != '\0' ? pass : NULL;

    memset(det, 'Z', sizeof(det));
    rc = cv_key_load(NULL, pc[0].p, pc[0].len, pw, &key, det, sizeof(det));
    FUZZ_CHECK(rc == CV_OK || rc == CV_UNREADABLE_KEY ||
        rc == CV_PASSPHRASE_MISMATCH);
    FUZZ_CHECK((rc == CV_OK) == (key != NULL));
    FUZZ_CHECK(memchr(det, '\0', sizeof(det)) != NULL);
    EVP_PKEY_free(key);

    memset(det, 'Z', sizeof(det));
    rc = cv_crt_load(pc[1].p, pc[1].len, pw, &leaf, &extra, &p12key, det,
        sizeof(det));
    FUZZ_CHECK(rc == CV_OK || rc == CV_UNREADABLE_CRT ||
        rc == CV_PASSPHRASE_MISMATCH || rc == CV_VALIDATION_FAILED);
    FUZZ_CHECK((rc == CV_OK) == (leaf != NULL));
    FUZZ_CHECK(rc == CV_OK || (extra == NULL && p12key == NULL));
    FUZZ_CHECK(memchr(det, '\0', sizeof(det)) != NULL);
    X509_free(leaf);
    sk_X509_pop_free(extra, X509_free);
    EVP_PKEY_free(p12key);

    memset(det, 'Z', sizeof(det));
    rc = cv_chain_load(pc[2].p, pc[2].len, &chain, det, sizeof(det));
    FUZZ_CHECK(rc == CV_OK || rc == CV_UNREADABLE_CHAIN ||
        rc == CV_VALIDATION_FAILED);
    FUZZ_CHECK((rc == CV_OK) == (chain != NULL));
    FUZZ_CHECK(rc != CV_OK || sk_X509_num(chain) > 0);
    FUZZ_CHECK(memchr(det, '\0', sizeof(det)) != NULL);
    sk_X509_pop_free(chain, X509_free);

    /* the public summary of the certificate */
    if (cv_cert_summary(pc[1].p, pc[1].len, FUZZ_AT, &sum) == 0) {
        FUZZ_CHECK(memchr(sum.subject, '\0', sizeof(sum.subject)) != NULL);
        FUZZ_CHECK(memchr(sum.issuer, '\0', sizeof(sum.issuer)) != NULL);
        FUZZ_CHECK(memchr(sum.serial, '\0', sizeof(sum.serial)) != NULL);
        FUZZ_CHECK(memchr(sum.sha256, '\0', sizeof(sum.sha256)) != NULL);
        FUZZ_CHECK(sum.n_san <= CV_MAX_LIST);
        FUZZ_CHECK(sum.n_crl_dp <= CV_MAX_LIST);
    }
    (void)cv_passphrase_is_valid((const char *)pc[3].p, pc[3].len);
    (void)cv_name_is_valid((const char *)pc[3].p, pc[3].len);

    ERR_clear_error();
    free(pass);
    fuzz_free(pc);
    return 0;
}
