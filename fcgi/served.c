/*
 * served.c - what the web server actually serves (served.h): after a
 * reload, the installer makes a real TLS handshake to the address nginx
 * listens on and looks at the certificate that comes back.  A key nginx
 * loads but cannot use (a DSA key: no cipher suite), a reload that did
 * not happen, or another server on the port all show here, and nowhere
 * else before an admin is locked out.
 */
#include "config.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "cv.h"
#include "cv_util.h"
#include "served.h"

#define CERT_MAX        (64u * 1024)
#define NAP_MS          200
#define PEEK_TIMEOUT    1       /* s: one handshake of a GET */
#define PEEK_CACHE      3       /* s a GET's answer is reused */

/* The certificate of the release in dir, or NULL. */
static X509 *
release_cert(const char *dir)
{
    char path[PATH_MAX];
    size_t len = 0;
    char *pem;
    BIO *b;
    X509 *x = NULL;

    if ((size_t)snprintf(path, sizeof(path), "%s/cert.pem", dir) >=
        sizeof(path) ||
        (pem = cv_read_file(path, CERT_MAX, CV_READ_REGULAR, &len)) == NULL)
        return NULL;
    if ((b = BIO_new_mem_buf(pem, (int)len)) != NULL)
        x = PEM_read_bio_X509(b, NULL, NULL, NULL);
    BIO_free(b);
    free(pem);
    ERR_clear_error();
    return x;
}

/*
 * One handshake to addr with SNI sni, within timeout_s; the certificate
 * presented, or NULL with why in detail.  Nothing is verified: the point
 * is which certificate is served, not whether a browser would trust it.
 */
static X509 *
handshake(const char *addr, const char *sni, int timeout_s, char *detail,
    size_t dlen)
{
    struct timeval tv = { timeout_s, 0 };
    SSL_CTX *ctx = NULL;
    SSL *ssl = NULL;
    BIO *conn = NULL;
    X509 *x = NULL;
    char why[200];
    int fd;

    if ((ctx = SSL_CTX_new(TLS_client_method())) == NULL ||
        (conn = BIO_new_connect(addr)) == NULL)
        goto fail;
    SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
    (void)BIO_set_nbio(conn, 1);
    if (BIO_do_connect_retry(conn, timeout_s, NAP_MS) <= 0) {
        cv_ossl_detail(why, sizeof(why));
        snprintf(detail, dlen, "cannot connect to %s: %s", addr, why);
        goto out;
    }
    if ((fd = (int)BIO_get_fd(conn, NULL)) < 0 ||
        !BIO_socket_nbio(fd, 0) ||
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) != 0 ||
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) != 0 ||
        (ssl = SSL_new(ctx)) == NULL || SSL_set_fd(ssl, fd) != 1 ||
        SSL_set_tlsext_host_name(ssl, sni) != 1)
        goto fail;
    if (SSL_connect(ssl) != 1) {
        cv_ossl_detail(why, sizeof(why));
        snprintf(detail, dlen, "the TLS handshake with %s failed: %s",
            addr, why[0] != '\0' ? why : "closed or timed out");
        goto out;
    }
    if ((x = SSL_get1_peer_certificate(ssl)) == NULL)
        snprintf(detail, dlen, "%s presented no certificate", addr);
    goto out;
fail:
    cv_ossl_detail(why, sizeof(why));
    snprintf(detail, dlen, "cannot check %s: %s", addr, why);
out:
    SSL_free(ssl);              /* does not close fd: the BIO owns it */
    BIO_free_all(conn);
    SSL_CTX_free(ctx);
    ERR_clear_error();
    return x;
}

int
cd_served_is(const struct cd_settings *s, const char *dir, char *detail,
    size_t dlen)
{
    time_t until = time(NULL) + s->reload_timeout;
    X509 *want, *got;
    int same = 0;

    if (s->served_address == NULL || s->served_address[0] == '\0') {
        snprintf(detail, dlen, "not checked (no served_address)");
        return 1;
    }
    if ((want = release_cert(dir)) == NULL) {
        snprintf(detail, dlen, "cannot read the new certificate");
        return 0;
    }
    for (;;) {
        got = handshake(s->served_address, s->hostname, s->reload_timeout,
            detail, dlen);
        same = got != NULL && X509_cmp(got, want) == 0;
        if (got != NULL && !same)
            snprintf(detail, dlen, "%s still presents another "
                "certificate", s->served_address);
        X509_free(got);
        if (same || time(NULL) >= until)
            break;
        usleep(NAP_MS * 1000);
    }
    X509_free(want);
    if (same)
        snprintf(detail, dlen, "%s presents the new certificate",
            s->served_address);
    return same;
}

/* The SHA-256 fingerprint of x as the summaries print it (AA:BB:...). */
static int
fingerprint(X509 *x, char *fp, size_t fplen)
{
    struct cv_summary sum;
    unsigned char *der = NULL;
    int len, rc = -1;

    if ((len = i2d_X509(x, &der)) > 0 &&
        cv_cert_summary(der, (size_t)len, 0, &sum) == 0 && sum.valid) {
        snprintf(fp, fplen, "%s", sum.sha256);
        rc = 0;
    }
    OPENSSL_free(der);
    ERR_clear_error();
    return rc;
}

/*
 * One handshake, the answer kept PEEK_CACHE seconds for the same want: the
 * dialog asks for the status often, and a handshake costs nginx a
 * signature.  Keyed by want so that an install in this worker is seen at
 * once.
 */
int
cd_served_peek(const struct cd_settings *s, const char *want, char *fp,
    size_t fplen, char *detail, size_t dlen)
{
    static struct {
        time_t at;
        char want[96], fp[96], detail[256];
        int rc;
    } c;
    time_t now = time(NULL);
    X509 *got;

    fp[0] = '\0';
    if (s->served_address == NULL || s->served_address[0] == '\0') {
        snprintf(detail, dlen, "not checked (no served_address)");
        return -1;
    }
    if (c.at != 0 && now >= c.at && now - c.at < PEEK_CACHE &&
        strcmp(c.want, want) == 0) {
        snprintf(fp, fplen, "%s", c.fp);
        snprintf(detail, dlen, "%s", c.detail);
        return c.rc;
    }
    c.rc = 0;
    c.fp[0] = '\0';
    got = handshake(s->served_address, s->hostname, PEEK_TIMEOUT, c.detail,
        sizeof(c.detail));
    if (got != NULL && fingerprint(got, c.fp, sizeof(c.fp)) != 0)
        snprintf(c.detail, sizeof(c.detail), "%s presents a certificate "
            "that cannot be read", s->served_address);
    else if (got != NULL) {
        c.rc = strcasecmp(c.fp, want) == 0 ? 1 : 0;
        snprintf(c.detail, sizeof(c.detail), "%s presents %s",
            s->served_address, c.rc ? "the active certificate" :
            "another certificate than the active one");
    }
    X509_free(got);
    snprintf(c.want, sizeof(c.want), "%s", want);
    c.at = now;
    snprintf(fp, fplen, "%s", c.fp);
    snprintf(detail, dlen, "%s", c.detail);
    return c.rc;
}
