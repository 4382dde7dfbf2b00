/*
 * crl.c - CRL checks of docs/DESIGN.md "Trust, CRLs and time": the http://
 * distribution point of each
 * certificate of the built path, fetched with OpenSSL's HTTP client (or an
 * offline CRL), its signature and nextUpdate checked, the serial looked up;
 * fetched CRLs cached per context until their nextUpdate.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/err.h>
#include <openssl/http.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "cv.h"
#include "cv_int.h"

/*
 * Connects to host:port without OpenSSL's retry loop, which keeps retrying
 * a refused connection until the timeout: a CRL server that is down must be
 * reported at once.  Returns a connected non-blocking BIO or NULL.
 */
static BIO *
connect_direct(const char *host, const char *port, time_t max_time,
    char *detail, size_t dlen)
{
    BIO *b = BIO_new_connect(host);

    if (b == NULL || !BIO_set_conn_port(b, port)) {
        BIO_free_all(b);
        return NULL;
    }
    BIO_set_nbio(b, 1);
    for (;;) {
        if (BIO_do_connect(b) > 0)
            return b;
        if (!BIO_should_retry(b)) {
            cv_ossl_detail(detail, dlen);
            break;
        }
        if (BIO_wait(b, max_time, 100) <= 0) {
            ERR_clear_error();
            snprintf(detail, dlen, "connect timeout");
            break;
        }
    }
    BIO_free_all(b);
    return NULL;
}

/*
 * One GET of an http:// URL: on a 30x, *redirp is the new location (the
 * caller follows it, reconnecting); else the answer's body, or NULL with
 * detail filled.
 */
static BIO *
get_once(const char *url, const struct cv_fetch_opts *fo, size_t max,
    time_t max_time, char **redirp, char *detail, size_t dlen)
{
    OSSL_HTTP_REQ_CTX *rctx = NULL;
    BIO *cbio = NULL, *resp = NULL;
    char *host = NULL, *port = NULL, *path = NULL;
    const char *proxy;
    int ssl = 0, left;

    *redirp = NULL;
    if (!OSSL_HTTP_parse_url(url, &ssl, NULL, &host, &port, NULL, &path,
        NULL, NULL) || ssl) {
        snprintf(detail, dlen, "not an http:// URL: %.200s", url);
        goto out;
    }
    proxy = OSSL_HTTP_adapt_proxy(fo != NULL ? fo->proxy : NULL, NULL, host,
        0);
    if (proxy == NULL &&
        (cbio = connect_direct(host, port, max_time, detail, dlen)) == NULL)
        goto out;
    left = max_time > time(NULL) ? (int)(max_time - time(NULL)) : 1;
    /* expect_asn1: the answer must be DER; its length is checked early */
    if ((rctx = OSSL_HTTP_open(host, port, proxy, NULL, 0, cbio, cbio, NULL,
        NULL, 0, left)) == NULL ||
        !OSSL_HTTP_set1_request(rctx, path, NULL, NULL, NULL, NULL, 1, max,
        left, 0) ||
        (resp = OSSL_HTTP_exchange(rctx, redirp)) == NULL) {
        if (*redirp == NULL) {
            cv_ossl_detail(detail, dlen);
            if (detail[0] == '\0')
                snprintf(detail, dlen, "no answer");
        }
    }
out:
    OSSL_HTTP_close(rctx, resp != NULL);
    BIO_free_all(cbio);
    OPENSSL_free(host);
    OPENSSL_free(port);
    OPENSSL_free(path);
    return resp;
}

enum cv_fetch_result
cv_crl_fetch_http(const char *url, const struct cv_fetch_opts *fo, void *arg,
    X509_CRL **crlp, char *detail, size_t dlen)
{
    BIO *bio = NULL;
    char *cur, *redir = NULL, *host = NULL, *port = NULL;
    enum cv_fetch_result rc = CV_FETCH_UNREACHABLE;
    int hops, ssl = 0, timeout = fo != NULL && fo->timeout > 0 ?
        fo->timeout : CV_DEFAULT_CRL_TIMEOUT;
    size_t max = fo != NULL && fo->max_size > 0 ? fo->max_size :
        CV_DEFAULT_CRL_MAX_SIZE;
    time_t max_time = time(NULL) + timeout;

    (void)arg;
    *crlp = NULL;
    detail[0] = '\0';
    ERR_clear_error();
    if ((cur = OPENSSL_strdup(url)) == NULL) {
        snprintf(detail, dlen, "out of memory");
        return rc;
    }
    /* redirects are followed a few times, to http:// only, same deadline */
    for (hops = 0; (bio = get_once(cur, fo, max, max_time, &redir, detail,
        dlen)) == NULL && redir != NULL; hops++) {
        if (hops == CV_CRL_MAX_REDIRECTS) {
            snprintf(detail, dlen, "more than %d redirections",
                CV_CRL_MAX_REDIRECTS);
            goto out;
        }
        if (redir[0] == '/') {  /* same server, new path */
            char *abs;
            size_t n;

            if (!OSSL_HTTP_parse_url(cur, &ssl, NULL, &host, &port, NULL,
                NULL, NULL, NULL) ||
                (abs = OPENSSL_malloc(n = strlen(host) + strlen(port) +
                strlen(redir) + 16)) == NULL) {
                snprintf(detail, dlen, "cannot follow the redirection");
                goto out;
            }
            snprintf(abs, n, "http://%s:%s%s", host, port, redir);
            OPENSSL_free(host);
            OPENSSL_free(port);
            host = port = NULL;
            OPENSSL_free(redir);
            redir = abs;
        }
        OPENSSL_free(cur);
        cur = redir;
        redir = NULL;
        ERR_clear_error();
    }
    if (bio == NULL)
        goto out;
    if ((*crlp = d2i_X509_CRL_bio(bio, NULL)) == NULL) {
        rc = CV_FETCH_NOT_CRL;
        snprintf(detail, dlen, "the answer is not a DER CRL");
        goto out;
    }
    rc = CV_FETCH_OK;
out:
    ERR_clear_error();
    BIO_free_all(bio);
    OPENSSL_free(cur);
    OPENSSL_free(redir);
    OPENSSL_free(host);
    OPENSSL_free(port);
    return rc;
}

void
cv_crl_entry_clear(struct cv_crl_entry *e)
{
    free(e->url);
    X509_CRL_free(e->crl);
    EVP_PKEY_free(e->verified_with);
    memset(e, 0, sizeof(*e));
}

/*
 * The first http:// URL among the certificate's CRL distribution points
 * into buf.  Returns 1 when found; *has_dpp says whether the certificate
 * names any distribution point at all.
 */
struct dp_http {
    char *buf;
    size_t len;
};

/* cv_crl_dp_each() callback: stops at the first usable http:// URL. */
static int
first_http(const char *u, size_t ulen, void *arg)
{
    struct dp_http *d = arg;

    if (ulen > 7 && strncasecmp(u, "http://", 7) == 0 && ulen < d->len &&
        memchr(u, '\0', ulen) == NULL) {
        memcpy(d->buf, u, ulen);
        d->buf[ulen] = '\0';
        return 1;
    }
    return 0;
}

int
cv_crl_dp_http(X509 *x, char *buf, size_t len, int *has_dpp)
{
    struct dp_http d = { buf, len };

    return cv_crl_dp_each(x, first_http, &d, has_dpp);
}

/* An offline CRL issued by the certificate's issuer, or NULL. */
static X509_CRL *
offline_crl(const struct cv_options *opt, X509 *x)
{
    int i;

    for (i = 0; i < sk_X509_CRL_num(opt->offline_crls); i++) {
        X509_CRL *c = sk_X509_CRL_value(opt->offline_crls, i);

        if (X509_NAME_cmp(X509_CRL_get_issuer(c),
            X509_get_issuer_name(x)) == 0)
            return c;
    }
    return NULL;
}

static struct cv_crl_entry *
cache_find(struct cv_ctx *ctx, const char *url, time_t now)
{
    size_t i;

    for (i = 0; i < ctx->n_crl; i++) {
        if (strcmp(ctx->crl[i].url, url) != 0)
            continue;
        if (ctx->crl[i].expires > now)
            return &ctx->crl[i];
        cv_crl_entry_clear(&ctx->crl[i]);
        ctx->crl[i] = ctx->crl[--ctx->n_crl];
        memset(&ctx->crl[ctx->n_crl], 0, sizeof(ctx->crl[0]));
        return NULL;
    }
    return NULL;
}

/* Keeps a fetched CRL until its nextUpdate; the oldest goes when full. */
static struct cv_crl_entry *
cache_put(struct cv_ctx *ctx, const char *url, X509_CRL *crl, time_t now)
{
    const ASN1_TIME *nu = X509_CRL_get0_nextUpdate(crl);
    time_t expires = nu != NULL ? cv_asn1_time(nu) : 0;
    struct cv_crl_entry *e;

    if (expires <= now)
        return NULL;
    if (ctx->n_crl == CV_CRL_CACHE_MAX) {
        cv_crl_entry_clear(&ctx->crl[0]);
        memmove(&ctx->crl[0], &ctx->crl[1],
            (CV_CRL_CACHE_MAX - 1) * sizeof(ctx->crl[0]));
        ctx->n_crl--;
    }
    e = &ctx->crl[ctx->n_crl];
    memset(e, 0, sizeof(*e));
    if ((e->url = strdup(url)) == NULL || !X509_CRL_up_ref(crl)) {
        free(e->url);
        e->url = NULL;
        return NULL;
    }
    e->crl = crl;
    e->expires = expires;
    ctx->n_crl++;
    return e;
}

/*
 * Checks one CRL against x and its issuer; adds findings.  Returns 0 when
 * the CRL itself is sound (issuer, signature, dates), -1 when it is not.
 */
static int
check_one(X509_CRL *crl, X509 *x, X509 *issuer, struct cv_crl_entry *e,
    time_t at, const char *field, const char *src, struct cv_report *rep)
{
    EVP_PKEY *ik = X509_get0_pubkey(issuer);
    const ASN1_TIME *nu = X509_CRL_get0_nextUpdate(crl);
    X509_REVOKED *rev = NULL;
    char label[256], when[32];

    cv_cert_label(x, label, sizeof(label));
    if (X509_NAME_cmp(X509_CRL_get_issuer(crl),
        X509_get_subject_name(issuer)) != 0) {
        cv_report_add(rep, CV_CRL_INVALID, field, "the CRL from %s is not "
            "issued by the issuer of %s", src, label);
        return -1;
    }
    if (e == NULL || e->verified_with == NULL ||
        EVP_PKEY_eq(e->verified_with, ik) != 1) {
        if (ik == NULL || X509_CRL_verify(crl, ik) != 1) {
            ERR_clear_error();
            cv_report_add(rep, CV_CRL_INVALID, field, "the signature of "
                "the CRL from %s does not verify with the issuer of %s",
                src, label);
            return -1;
        }
        if (e != NULL && EVP_PKEY_up_ref(ik)) {
            EVP_PKEY_free(e->verified_with);
            e->verified_with = ik;
        }
    }
    if (X509_cmp_time(X509_CRL_get0_lastUpdate(crl), &at) > 0) {
        cv_report_add(rep, CV_CRL_INVALID, field, "the CRL from %s is not "
            "valid yet", src);
        return -1;
    }
    if (nu != NULL && X509_cmp_time(nu, &at) < 0) {
        cv_time_iso(cv_asn1_time(nu), when, sizeof(when));
        cv_report_add(rep, CV_CRL_INVALID, field, "the CRL from %s is out "
            "of date: its next update was due on %s", src, when);
        return -1;
    }
    if (X509_CRL_get0_by_cert(crl, &rev, x) == 1 && rev != NULL) {
        cv_time_iso(cv_asn1_time(X509_REVOKED_get0_revocationDate(rev)),
            when, sizeof(when));
        cv_report_add(rep, CV_REVOKED, field, "%s was revoked on %s "
            "(CRL from %s)", label, when, src);
    }
    return 0;
}

void
cv_crl_check(struct cv_ctx *ctx, STACK_OF(X509) *path,
    const struct cv_options *opt, time_t at, struct cv_report *rep)
{
    cv_crl_fetch_fn fetch = opt->fetch_fn ? opt->fetch_fn : cv_crl_fetch_http;
    char url[1024], detail[CV_DETAIL_MAX];
    time_t now = time(NULL);
    int i, n = sk_X509_num(path), has_dp, http;

    for (i = 0; i < n; i++) {
        X509 *x = sk_X509_value(path, i);
        X509 *issuer = i + 1 < n ? sk_X509_value(path, i + 1) : NULL;
        const char *field = i == 0 ? "crt" : "chain";
        struct cv_crl_entry *e = NULL;
        X509_CRL *crl, *fetched = NULL;
        char label[256];

        if (X509_self_signed(x, 0) == 1)
            break;              /* a trust anchor: nothing above it */
        http = cv_crl_dp_http(x, url, sizeof(url), &has_dp);
        cv_cert_label(x, label, sizeof(label));
        if (has_dp && !http)
            cv_report_add(rep, CV_CRL_NOT_HTTP, field, "%s", label);
        if (!has_dp && i == 0 && offline_crl(opt, x) == NULL)
            cv_report_add(rep, CV_NO_CRL_DP, "crt", NULL);
        if (issuer == NULL)
            continue;           /* no issuer: the CRL cannot be verified */
        if ((crl = offline_crl(opt, x)) != NULL) {
            check_one(crl, x, issuer, NULL, at, field, "the CRL file",
                rep);
            continue;
        }
        if (!http)
            continue;
        if ((e = cache_find(ctx, url, now)) == NULL) {
            enum cv_fetch_result fr;

            detail[0] = '\0';
            fr = fetch(url, &opt->fetch, opt->fetch_arg, &fetched, detail,
                sizeof(detail));
            if (fr != CV_FETCH_OK || fetched == NULL) {
                cv_report_add(rep, CV_CRL_UNREACHABLE, field, "%s: %s",
                    url, detail[0] ? detail : "no CRL");
                X509_CRL_free(fetched);
                continue;
            }
            /* only a CRL that passed its checks is kept */
            if (check_one(fetched, x, issuer, NULL, at, field, url,
                rep) == 0 &&
                (e = cache_put(ctx, url, fetched, now)) != NULL &&
                EVP_PKEY_up_ref(X509_get0_pubkey(issuer)))
                e->verified_with = X509_get0_pubkey(issuer);
            X509_CRL_free(fetched);
            continue;
        }
        check_one(e->crl, x, issuer, e, at, field, url, rep);
    }
}
