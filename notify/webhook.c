/*
 * webhook.c - the expiry webhook (webhook.h) over OpenSSL's HTTP client:
 * OSSL_HTTP_transfer() with a callback that puts a TLS BIO over the
 * connection, the way openssl-cmp's app_http_tls_cb() does.  No proxy:
 * an appliance's webhook receiver is reached directly.
 */
#include "config.h"

#include "webhook.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/http.h>
#include <openssl/httperr.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "cv_util.h"

#define MAX_ANSWER      (64 * 1024)
#define ATTEMPT_TIMEOUT 20      /* s for one POST, within the total */

/* One connection's TLS: the callback's argument. */
struct tls {
    SSL_CTX *ctx;
    const char *host;
    long verify;                /* SSL_get_verify_result() at the end */
    int handshook;              /* an SSL object was made */
};

static BIO *
tls_cb(BIO *bio, void *arg, int connect, int detail)
{
    struct tls *t = arg;
    BIO *sbio, *cbio;
    SSL *ssl = NULL;

    (void)detail;
    if (connect) {
        if ((sbio = BIO_new(BIO_f_ssl())) == NULL ||
            (ssl = SSL_new(t->ctx)) == NULL) {
            BIO_free(sbio);
            return NULL;
        }
        /* the name in the URL is checked: an IP address as one */
        if (cv_is_ip(t->host) ?
            X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), t->host) != 1 :
            (SSL_set_tlsext_host_name(ssl, t->host) != 1 ||
            SSL_set1_host(ssl, t->host) != 1)) {
            SSL_free(ssl);
            BIO_free(sbio);
            return NULL;
        }
        SSL_set_connect_state(ssl);
        BIO_set_ssl(sbio, ssl, BIO_CLOSE);
        t->handshook = 1;
        return BIO_push(sbio, bio);
    }
    /* done (or failed): note the verification, then drop the TLS BIO */
    if (BIO_get_ssl(bio, &ssl) > 0 && ssl != NULL) {
        t->verify = SSL_get_verify_result(ssl);
        ERR_set_mark();
        BIO_ssl_shutdown(bio);
        cbio = BIO_pop(bio);
        BIO_free(bio);
        ERR_pop_to_mark();
        return cbio;
    }
    return bio;
}

static SSL_CTX *
client_ctx(const char *ca_file, char *err, size_t errlen)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    char d[256];

    if (ctx == NULL ||
        SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1 ||
        (ca_file != NULL ? SSL_CTX_load_verify_file(ctx, ca_file) :
        SSL_CTX_set_default_verify_paths(ctx)) != 1) {
        cv_ossl_detail(d, sizeof(d));
        snprintf(err, errlen, "cannot load the CA certificates%s%s: %s",
            ca_file ? " of " : "", ca_file ? ca_file : "", d);
        SSL_CTX_free(ctx);
        return NULL;
    }
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
    return ctx;
}

/*
 * The status of an answer OpenSSL refused, from its error data
 * ("code=500, reason=..." into buf), or 0.  OpenSSL 3.0's client takes
 * only 200 as success: 201, 202 and 204, which webhook receivers often
 * answer, come back as HTTP_R_STATUS_CODE_UNSUPPORTED.
 */
static int
status_of(char *buf, size_t len)
{
    const char *data = NULL;
    unsigned long e;
    uint64_t code;
    int flags = 0, r;

    buf[0] = '\0';
    e = ERR_peek_error_data(&data, &flags);
    if (e == 0 || ERR_GET_LIB(e) != ERR_LIB_HTTP)
        e = ERR_peek_last_error_data(&data, &flags);
    if (e == 0 || ERR_GET_LIB(e) != ERR_LIB_HTTP ||
        !(flags & ERR_TXT_STRING) || data == NULL)
        return 0;
    r = ERR_GET_REASON(e);
    if (r != HTTP_R_RECEIVED_ERROR && r != HTTP_R_STATUS_CODE_UNSUPPORTED)
        return 0;
    snprintf(buf, len, "%s", data);
    if (strncmp(data, "code=", 5) != 0 ||
        cv_parse_uint(data + 5, strspn(data + 5, "0123456789"), 999,
        &code) != 0)
        return 0;
    return (int)code;
}

/*
 * One POST.  Returns 0 (2xx), 1 (failed, worth another try) or -1 (the
 * server's certificate was refused, or a 4xx but 408 and 429).
 */
static int
post_once(SSL_CTX *ctx, const char *host,
    const char *port, const char *path, const char *body, int timeout,
    char *err, size_t errlen)
{
    struct tls t = { ctx, host, X509_V_OK, 0 };
    BIO *req = NULL, *ans = NULL;
    char d[256], st[128];
    int rc = 1, code;

    ERR_clear_error();
    if ((req = BIO_new_mem_buf(body, (int)strlen(body))) == NULL) {
        snprintf(err, errlen, "out of memory");
        return 1;
    }
    ans = OSSL_HTTP_transfer(NULL, host, port, path, 1, "", NULL, NULL, NULL,
        tls_cb, &t, 0, NULL, "application/json", req, NULL, 0, MAX_ANSWER,
        timeout, 0);
    if (ans != NULL) {
        rc = 0;
    } else if (t.handshook && t.verify != X509_V_OK) {
        snprintf(err, errlen, "the server's certificate was refused: %s",
            X509_verify_cert_error_string(t.verify));
        rc = -1;
    } else if ((code = status_of(st, sizeof(st))) >= 200 && code < 300) {
        rc = 0;                 /* received: 202, 204, ... */
    } else {
        cv_ossl_detail(d, sizeof(d));
        snprintf(err, errlen, "%s%s%s%s", d[0] ? d : "no answer",
            st[0] ? " (" : "", st, st[0] ? ")" : "");
        /* refused for what it is (404, 401, ...): asking again won't help */
        if (code >= 400 && code < 500 && code != 408 && code != 429)
            rc = -1;
    }
    ERR_clear_error();
    BIO_free(ans);
    BIO_free(req);
    return rc;
}

void
cd_webhook_defaults(struct cd_webhook *w, const char *url,
    const char *ca_file)
{
    w->url = url;
    w->ca_file = ca_file;
    w->attempts = 4;
    w->first_delay = 1;
    w->total_timeout = 60;
}

int
cd_webhook_post(const struct cd_webhook *w, const char *body, int *tries,
    char *err, size_t errlen)
{
    char *host = NULL, *port = NULL, *path = NULL, *query = NULL;
    char *target = NULL;
    size_t tl;
    SSL_CTX *ctx = NULL;
    time_t start = time(NULL), left;
    int ssl = 0, n = 0, delay = w->first_delay, r = 1;

    if (tries != NULL)
        *tries = 0;
    if (OSSL_HTTP_parse_url(w->url, &ssl, NULL, &host, &port, NULL, &path,
        &query, NULL) != 1 || !ssl) {
        ERR_clear_error();
        /* never the URL itself: its query may hold the receiver's token */
        snprintf(err, errlen, "the webhook is not an https:// URL");
        goto out;
    }
    /* the query belongs to the request target (a receiver's token) */
    if (query != NULL && *query == '\0') {
        OPENSSL_free(query);
        query = NULL;
    }
    tl = strlen(path) + (query != NULL ? strlen(query) + 1 : 0) + 1;
    if ((target = malloc(tl)) == NULL) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    snprintf(target, tl, "%s%s%s", path, query ? "?" : "", query ? query : "");
    if ((ctx = client_ctx(w->ca_file, err, errlen)) == NULL)
        goto out;
    for (n = 0; n < w->attempts; n++) {
        if (n > 0) {
            /* a receiver restarting gets a moment, within the total */
            left = w->total_timeout - (time(NULL) - start);
            if (left <= delay)
                break;
            sleep((unsigned)delay);
            delay *= 2;
        }
        left = w->total_timeout - (time(NULL) - start);
        if (left < 1)
            break;
        r = post_once(ctx, host, port, target, body,
            left < ATTEMPT_TIMEOUT ? (int)left : ATTEMPT_TIMEOUT, err, errlen);
        if (r <= 0) {
            n++;
            break;
        }
    }
out:
    if (r == 0)
        err[0] = '\0';         /* a retried 500 is no longer the news */
    if (tries != NULL)
        *tries = n;
    SSL_CTX_free(ctx);
    OPENSSL_free(host);
    OPENSSL_free(port);
    OPENSSL_free(path);
    OPENSSL_free(query);
    free(target);
    return r == 0 ? 0 : -1;
}

int
cd_webhook_host(const char *url, char *host, size_t hlen, int *port)
{
    char *h = NULL;
    int ssl = 0, pn = 0, rc = -1;

    if (url != NULL && OSSL_HTTP_parse_url(url, &ssl, NULL, &h, NULL, &pn,
        NULL, NULL, NULL) == 1 && ssl && h != NULL &&
        (size_t)snprintf(host, hlen, "%s", h) < hlen) {
        *port = pn;
        rc = 0;
    }
    ERR_clear_error();
    OPENSSL_free(h);
    return rc;
}
