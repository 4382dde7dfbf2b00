/*
 * chain.c - the served chain's certificates (chain.h), each summarised by
 * libcv at the time of the check.
 */
#include "config.h"

#include "chain.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "cv.h"
#include "cv_util.h"

/* Summaries of the PEM certificates in buf, at most max.  Returns count. */
static size_t
summarise(const char *buf, size_t len, time_t now, struct cv_summary *sums,
    size_t max)
{
    BIO *b = BIO_new_mem_buf(buf, (int)len);
    unsigned char *der;
    size_t n = 0;
    X509 *x;
    int dl;

    while (b != NULL && n < max &&
        (x = PEM_read_bio_X509(b, NULL, NULL, NULL)) != NULL) {
        der = NULL;
        dl = i2d_X509(x, &der);
        X509_free(x);
        if (dl <= 0 || cv_cert_summary(der, (size_t)dl, now, &sums[n]) != 0)
            memset(&sums[n], 0, sizeof(sums[n]));
        OPENSSL_free(der);
        n++;
    }
    ERR_clear_error();          /* the end of the file is a "no start line" */
    BIO_free(b);
    return n;
}

int
cd_chain_read(const char *state, time_t now, struct cd_expiry_cert *c,
    char *id, char *err, size_t errlen)
{
    static struct cv_summary sums[CD_CHAIN_MAX_CERTS]; /* ~100 KiB */
    char path[PATH_MAX];
    size_t len = 0, n;
    char *buf;

    memset(c, 0, sizeof(*c));
    if (!cd_release_current(state, id)) {
        snprintf(err, errlen, "no certificate is installed in %s", state);
        return -1;
    }
    if (snprintf(path, sizeof(path), "%s/%s%s/fullchain.pem", state,
        id[0] ? "releases/" : "current", id) >= (int)sizeof(path)) {
        snprintf(err, errlen, "%s: path too long", state);
        return -1;
    }
    if ((buf = cv_read_file(path, CD_CHAIN_MAX_BYTES, CV_READ_REGULAR,
        &len)) == NULL) {
        snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
        return -1;
    }
    n = summarise(buf, len, now, sums, CD_CHAIN_MAX_CERTS);
    free(buf);
    if (cd_expiry_cert_from(c, sums, n) != 0) {
        snprintf(err, errlen, "%s holds no certificate that can be read",
            path);
        return -1;
    }
    return 0;
}
