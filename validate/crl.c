/*
 * crl.c - CRL checks of docs/DESIGN.md "Trust, CRLs and time": for each
 * certificate of the built path, the offline CRLs of its issuer, else the
 * CRL at its http:// distribution point (fetched with OpenSSL's HTTP
 * client, cached per context until its nextUpdate once it passed, within
 * crl_cache_max bytes made room for before a CRL is parsed), all
 * judged by OpenSSL's verifier (X509_V_FLAG_CRL_CHECK_ALL unless the leaf
 * alone has CRLs to judge, extended CRL support, deltas; the path's
 * signatures are not checked a second time); its CRL errors mapped to our
 * codes.  A pass over cached CRLs that found nothing is remembered for
 * the same inputs (the memo, before cv_crl_check()).
 */
#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/http.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "cv.h"
#include "cv_int.h"

/* The text of an address into buf. */
static void
addr_text(const struct sockaddr *sa, char *buf, size_t len)
{
    if (getnameinfo(sa, sa->sa_family == AF_INET6 ?
        sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in), buf,
        (socklen_t)len, NULL, 0, NI_NUMERICHOST) != 0)
        snprintf(buf, len, "?");
}

/* Milliseconds left until max_time, at least 1. */
static int
ms_left(time_t max_time)
{
    time_t now = time(NULL);

    return max_time > now ? (int)(max_time - now) * 1000 : 1;
}

/*
 * Connects to one address without blocking past max_time.  Returns the
 * socket, or -1 with errno set.
 */
static int
connect_one(const struct addrinfo *ai, time_t max_time)
{
    struct pollfd pfd;
    socklen_t elen = sizeof(int);
    int fd, err = 0, r;

    if ((fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK |
        SOCK_CLOEXEC, 0)) == -1)
        return -1;
    if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
        return fd;
    if (errno != EINPROGRESS)
        goto fail;
    pfd.fd = fd;
    pfd.events = POLLOUT;
    while ((r = poll(&pfd, 1, ms_left(max_time))) == -1 && errno == EINTR)
        ;
    if (r == 0) {
        errno = ETIMEDOUT;
        goto fail;
    }
    if (r == -1 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen) == -1)
        goto fail;
    if (err == 0)
        return fd;
    errno = err;
fail:
    err = errno;
    close(fd);
    errno = err;
    return -1;
}

/*
 * Resolves host once and connects to the first of its addresses that a
 * CRL may be fetched from (cv_net_denied(): fo's ranges and loopback), without OpenSSL's retry loop,
 * which keeps retrying a refused connection until the timeout: a CRL
 * server that is down must be reported at once.  The address checked is
 * the one connected to, so a name that resolves differently the next time
 * gains nothing.  With only_check, nothing is connected: every address of
 * host must be allowed (the proxy resolves it on its own).  Returns a
 * connected non-blocking socket BIO (only_check: a non-NULL dummy), or
 * NULL with detail filled.
 */
static BIO *
connect_checked(const char *host, const char *port, time_t max_time,
    const struct cv_fetch_opts *fo, int only_check, char *detail,
    size_t dlen)
{
    struct addrinfo hints, *res = NULL, *ai;
    char why[96], first_why[sizeof(why)] = "";
    char addr[INET6_ADDRSTRLEN + 8], first_addr[sizeof(addr)];
    char bare[INET6_ADDRSTRLEN + 16];
    const char *name = host;
    size_t n;
    int fd = -1, rc, err = 0;
    BIO *b = NULL;

    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    n = strlen(host);
    if (n > 2 && host[0] == '[' && host[n - 1] == ']' &&
        n - 2 < sizeof(bare)) {         /* an IPv6 literal of the URL */
        memcpy(bare, host + 1, n - 2);
        bare[n - 2] = '\0';
        name = bare;
    }
    if ((rc = getaddrinfo(name, port, &hints, &res)) != 0) {
        snprintf(detail, dlen, "cannot resolve %.200s: %s", host,
            gai_strerror(rc));
        return NULL;
    }
    for (ai = res; ai != NULL && fd == -1; ai = ai->ai_next) {
        if (cv_net_denied(ai->ai_addr, fo != NULL ? fo->denied : NULL,
            fo != NULL ? fo->n_denied : 0, fo != NULL && fo->allow_loopback,
            why, sizeof(why))) {
            if (first_why[0] == '\0') {
                snprintf(first_why, sizeof(first_why), "%s", why);
                addr_text(ai->ai_addr, first_addr, sizeof(first_addr));
            }
            if (only_check)
                break;
            continue;
        }
        if (only_check)
            continue;
        if ((fd = connect_one(ai, max_time)) == -1) {
            err = errno;
            addr_text(ai->ai_addr, addr, sizeof(addr));
        }
    }
    freeaddrinfo(res);
    if (only_check && first_why[0] == '\0')
        return BIO_new(BIO_s_null());
    if (fd != -1) {
        if ((b = BIO_new_socket(fd, BIO_CLOSE)) == NULL)
            close(fd);
        return b;
    }
    if (err != 0)
        snprintf(detail, dlen, "%s: %s", addr, err == ETIMEDOUT ?
            "connect timeout" : strerror(err));
    else if (first_why[0] != '\0' && strcmp(name, first_addr) == 0)
        snprintf(detail, dlen, "%.200s is %s: CRLs are not fetched from "
            "there", host, first_why);
    else if (first_why[0] != '\0')
        snprintf(detail, dlen, "%.200s is %s (%s): CRLs are not fetched "
            "from there", host, first_why, first_addr);
    else
        snprintf(detail, dlen, "%.200s has no address", host);
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
    if ((cbio = connect_checked(host, port, max_time, fo, proxy != NULL,
        detail, dlen)) == NULL)
        goto out;
    if (proxy != NULL) {
        BIO_free(cbio);         /* only checked: OpenSSL connects */
        cbio = NULL;
    }
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
    const unsigned char *der;
    char *body = NULL;
    long len;
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
    /*
     * The body is parsed where it is (OpenSSL's answer is a memory BIO;
     * d2i_X509_CRL_bio() would copy it first), and only once the cache
     * made room for its decoded form: a worker never holds a cache full
     * of CRLs plus a new one parsed before the old ones went.
     */
    if ((len = BIO_get_mem_data(bio, &body)) <= 0 || body == NULL) {
        rc = CV_FETCH_NOT_CRL;
        snprintf(detail, dlen, "the answer is not a DER CRL");
        goto out;
    }
    der = (const unsigned char *)body;
    if (fo != NULL && fo->make_room != NULL && fo->make_room(fo->room_arg,
        der, (size_t)len, detail, dlen) != 0)
        goto out;
    if ((*crlp = d2i_X509_CRL(NULL, &der, len)) == NULL) {
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

/* Takes memo entry i out, keeping the order of the others. */
static void
memo_drop(struct cv_ctx *ctx, size_t i)
{
    memmove(&ctx->memo[i], &ctx->memo[i + 1],
        (ctx->n_memo - i - 1) * sizeof(ctx->memo[0]));
    ctx->n_memo--;
}

/* Forgets every verdict that rests on the cache entry numbered gen. */
static void
memo_forget(struct cv_ctx *ctx, unsigned long gen)
{
    size_t i, j;

    for (i = 0; i < ctx->n_memo;) {
        for (j = 0; j < ctx->memo[i].n_gen && ctx->memo[i].gen[j] != gen;
            j++)
            ;
        if (j < ctx->memo[i].n_gen)
            memo_drop(ctx, i);
        else
            i++;
    }
}

/*
 * 1 when a pass with these inputs (key) found nothing and holds at time
 * at; the entry becomes the most recently used.
 */
static int
memo_find(struct cv_ctx *ctx, const unsigned char *key, time_t at)
{
    struct cv_crl_memo m;
    size_t i;

    for (i = 0; i < ctx->n_memo; i++) {
        if (memcmp(ctx->memo[i].key, key, sizeof(m.key)) != 0)
            continue;
        if (at < ctx->memo[i].from || at >= ctx->memo[i].until)
            return 0;
        m = ctx->memo[i];
        memo_drop(ctx, i);
        ctx->memo[ctx->n_memo++] = m;
        return 1;
    }
    return 0;
}

/* Keeps m, in place of one with its key; the least recently used goes. */
static void
memo_put(struct cv_ctx *ctx, const struct cv_crl_memo *m)
{
    size_t i;

    for (i = 0; i < ctx->n_memo; i++)
        if (memcmp(ctx->memo[i].key, m->key, sizeof(m->key)) == 0) {
            memo_drop(ctx, i);
            break;
        }
    if (ctx->n_memo == CV_CRL_MEMO_MAX)
        memo_drop(ctx, 0);
    ctx->memo[ctx->n_memo++] = *m;
}

/* Takes entry i out of the cache, keeping the order of the others. */
static void
cache_drop(struct cv_ctx *ctx, size_t i)
{
    memo_forget(ctx, ctx->crl[i].gen);
    ctx->crl_bytes -= ctx->crl[i].bytes;
    cv_crl_entry_clear(&ctx->crl[i]);
    memmove(&ctx->crl[i], &ctx->crl[i + 1],
        (ctx->n_crl - i - 1) * sizeof(ctx->crl[0]));
    ctx->n_crl--;
    memset(&ctx->crl[ctx->n_crl], 0, sizeof(ctx->crl[0]));
}

/*
 * The cached CRL of url, made the most recently used (the array's end);
 * NULL when none, or when it passed its nextUpdate (then dropped).
 */
static struct cv_crl_entry *
cache_find(struct cv_ctx *ctx, const char *url, time_t now)
{
    struct cv_crl_entry e;
    size_t i;

    for (i = 0; i < ctx->n_crl; i++) {
        if (strcmp(ctx->crl[i].url, url) != 0)
            continue;
        if (ctx->crl[i].expires <= now) {
            cache_drop(ctx, i);
            return NULL;
        }
        e = ctx->crl[i];
        memmove(&ctx->crl[i], &ctx->crl[i + 1],
            (ctx->n_crl - i - 1) * sizeof(ctx->crl[0]));
        ctx->crl[ctx->n_crl - 1] = e;
        return &ctx->crl[ctx->n_crl - 1];
    }
    return NULL;
}

/*
 * What a CRL counts against the cache's cap, from its DER alone, so that
 * it is known before the CRL is parsed: the DER size (the decoded CRL
 * keeps a copy of its signed part), plus CRL_TLV_COST for each ASN.1
 * element in it, what OpenSSL allocates for the objects it decodes them
 * into (a revoked entry is three elements, sequence, serial and date, and
 * becomes an X509_REVOKED, its serial's and date's strings and a pointer
 * in the stack; an extension is three too).  Measured on OpenSSL 3.0
 * (its allocations tracked, malloc's chunk headers counted), per element
 * over the DER: 57.3 for 100,000 entries of 22 bytes (2.2 MB of DER took
 * 19.4 MB), 56.2 for the smallest entry it accepts (7 bytes: a one-byte
 * serial and an empty date, 25 times the DER), 61.1 for entries with one
 * extension of an unknown OID, 57.5 for CRL extensions, 33 to 43 for
 * issuer names of many parts; so 64 is an upper bound whatever the
 * shape, where a bound per DER byte would have to assume 7-byte entries
 * for every CRL.  The elements are counted by their headers without
 * decoding anything; what cannot be walked counts as if it were made of
 * 2-byte elements, the smallest.
 */
#define CRL_TLV_COST 64

static size_t
crl_cost(const unsigned char *der, size_t len)
{
    const unsigned char *p = der, *end = der + len;
    size_t n = 0;
    long l;
    int tag, cls, r;

    while (p < end) {
        r = ASN1_get_object(&p, &l, &tag, &cls, (long)(end - p));
        if (r & 0x80) {
            n += (size_t)(end - p) / 2 + 1;
            ERR_clear_error();
            break;
        }
        n++;
        /* constructed: its elements follow; else skip its content */
        if (!(r & V_ASN1_CONSTRUCTED))
            p += l;
    }
    return len + CRL_TLV_COST * n;
}

/* The same for a CRL parsed by someone else (a test's fetcher). */
static size_t
crl_bytes(X509_CRL *crl)
{
    unsigned char *der = NULL;
    int len = i2d_X509_CRL(crl, &der);
    size_t bytes = len > 0 ? crl_cost(der, (size_t)len) : 0;

    OPENSSL_free(der);
    ERR_clear_error();
    return bytes;
}

/*
 * Keeps a fetched CRL, counting bytes (crl_cost()), until its nextUpdate.
 * The least recently used go while the cache is full, in entries or in
 * bytes (ctx->crl_cache_max); a CRL larger than the whole cap is not kept.
 */
static struct cv_crl_entry *
cache_put(struct cv_ctx *ctx, const char *url, X509_CRL *crl, size_t bytes,
    time_t now)
{
    const ASN1_TIME *nu = X509_CRL_get0_nextUpdate(crl);
    time_t expires = nu != NULL ? cv_asn1_time(nu) : 0;
    size_t i;
    struct cv_crl_entry *e;

    if (expires <= now || bytes > ctx->crl_cache_max)
        return NULL;
    for (i = 0; i < ctx->n_crl; i++)     /* a newer copy replaces it */
        if (strcmp(ctx->crl[i].url, url) == 0) {
            cache_drop(ctx, i);
            break;
        }
    while (ctx->n_crl > 0 && (ctx->n_crl == CV_CRL_CACHE_MAX ||
        ctx->crl_bytes + bytes > ctx->crl_cache_max))
        cache_drop(ctx, 0);
    e = &ctx->crl[ctx->n_crl];
    memset(e, 0, sizeof(*e));
    if ((e->url = strdup(url)) == NULL || !X509_CRL_up_ref(crl)) {
        free(e->url);
        e->url = NULL;
        return NULL;
    }
    e->crl = crl;
    e->expires = expires;
    e->bytes = bytes;
    e->gen = ++ctx->crl_gen;
    ctx->crl_bytes += bytes;
    ctx->n_crl++;
    return e;
}

/* A CRL gathered for one verification, and where it came from. */
struct gathered {
    X509_CRL *crl;              /* not owned */
    char *src;                  /* the URL; NULL: the CRL file */
    int depth;                  /* the certificate it was fetched for */
    int fetched;                /* downloaded now: cached if it passed */
    size_t bytes;               /* fetched: what it counts in the cache */
};

/* What the CRL verify callback needs. */
struct crlstate {
    struct cv_report *rep;
    int n;                      /* certificates on the path */
    unsigned char *skip;        /* per depth: no CRL to be had, say nothing */
    unsigned char *bad;         /* per depth: crl_invalid already said */
    struct gathered *g;
    int ng, maxg;
    int signer_err;             /* the first error on a CRL signer's path */
    char signer[256];           /* the certificate it was about */
    int said;                   /* findings crl_verify_cb() made */
    STACK_OF(X509) *path;       /* cv_chain_verify()'s, already judged */
    X509_STORE_CTX_verify_fn walk;  /* OpenSSL's signature and time walk */
};

/* Fetching for one request: one deadline, what was downloaded or held. */
struct fetcher {
    struct cv_ctx *ctx;
    const struct cv_options *opt;
    cv_crl_fetch_fn fn;
    struct cv_fetch_opts fo;
    int timeout;                /* crl_timeout, seconds */
    time_t now, deadline;
    STACK_OF(X509_CRL) *owned;  /* a reference to every CRL obtained */
    size_t held;                /* the bytes of those downloaded now */
    size_t pending;             /* make_room(): the one being parsed */
    int misses;                 /* CRLs not found in the cache */
};

static const char *
crl_src(const struct crlstate *st, const X509_CRL *crl)
{
    int i;

    for (i = 0; i < st->ng; i++)
        if (st->g[i].crl == crl && st->g[i].src != NULL)
            return st->g[i].src;
    return "the CRL file";
}

/* 1 when crl is a delta CRL. */
static int
is_delta(X509_CRL *crl)
{
    return X509_CRL_get_ext_by_NID(crl, NID_delta_crl, -1) >= 0;
}

/*
 * Where the CRLs OpenSSL judged for depth d came from, into buf: crl's
 * source, and a delta CRL's too (OpenSSL names the base CRL only, also
 * when its delta failed).
 */
static const char *
crl_srcs(const struct crlstate *st, X509_CRL *crl, int d, char *buf,
    size_t len)
{
    int i;

    snprintf(buf, len, "%s", crl != NULL ? crl_src(st, crl) :
        "the CRL file");
    for (i = 0; i < st->ng; i++)
        if (st->g[i].depth == d && st->g[i].crl != crl &&
            st->g[i].src != NULL && is_delta(st->g[i].crl)) {
            snprintf(buf + strlen(buf), len - strlen(buf), " (with the "
                "delta CRL from %s)", st->g[i].src);
            break;
        }
    return buf;
}

/*
 * The gathered CRL that lists x (a delta's entry before its base's:
 * OpenSSL names the base even when the delta revoked), into *crlp and
 * *revp.
 */
static void
revoking_crl(const struct crlstate *st, X509 *x, X509_CRL **crlp,
    X509_REVOKED **revp)
{
    X509_REVOKED *rev;
    int i;

    for (i = st->ng - 1; x != NULL && i >= 0; i--) {
        rev = NULL;
        if (X509_CRL_get0_by_cert(st->g[i].crl, &rev, x) == 1 &&
            rev != NULL) {
            *crlp = st->g[i].crl;
            *revp = rev;
            return;
        }
    }
}

/*
 * 1 when a gathered CRL for depth d names an issuer whose certificate
 * with its key (authority key identifier) is nowhere OpenSSL looks: not
 * on the path, not uploaded, not among the anchors given to it (a
 * separate CRL signer left out).  Its source goes into *srcp.
 */
static int
signer_missing(const struct crlstate *st, X509_STORE_CTX *vctx, int d,
    const char **srcp)
{
    STACK_OF(X509) *pools[2];
    AUTHORITY_KEYID *akid;
    int i, j, k, found;

    pools[0] = X509_STORE_CTX_get0_chain(vctx);
    pools[1] = X509_STORE_CTX_get0_untrusted(vctx);
    for (i = 0; i < st->ng; i++) {
        X509_CRL *crl = st->g[i].crl;

        if (st->g[i].depth != d)
            continue;
        akid = X509_CRL_get_ext_d2i(crl, NID_authority_key_identifier, NULL,
            NULL);
        found = 0;
        for (k = 0; k < 2 && !found; k++)
            for (j = 0; j < sk_X509_num(pools[k]) && !found; j++) {
                X509 *c = sk_X509_value(pools[k], j);

                found = X509_NAME_cmp(X509_get_subject_name(c),
                    X509_CRL_get_issuer(crl)) == 0 &&
                    X509_check_akid(c, akid) == X509_V_OK;
            }
        AUTHORITY_KEYID_free(akid);
        ERR_clear_error();
        if (!found) {
            *srcp = crl_src(st, crl);
            return 1;
        }
    }
    return 0;
}

/*
 * The verify callback of the path OpenSSL builds for a CRL signer that is
 * not on the certificate's path (a separate CRL key, an indirect CRL
 * issuer: RFC 5280 6.3.3 (f)).  That check runs with the certificate's
 * parameters, so the TLS server purpose does not apply to the signer; the
 * signer's own CRL is not fetched, so of the CRLs gathered for the path
 * only one that lists the signer counts.  Any other error fails the CRL
 * (CRL path validation error), and the first is kept to say why.
 */
static int
signer_verify_cb(int ok, X509_STORE_CTX *vctx, X509_STORE_CTX *parent)
{
    struct crlstate *st = X509_STORE_CTX_get_app_data(parent);
    STACK_OF(X509) *pchain = X509_STORE_CTX_get0_chain(parent);
    int err = X509_STORE_CTX_get_error(vctx);
    X509 *x = X509_STORE_CTX_get_current_cert(vctx);

    if (ok)
        return 1;
    switch (err) {
    case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
    case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
        /*
         * OpenSSL builds the signer's path from the configured anchors
         * only: a root uploaded with the chain, an anchor for this upload
         * (docs/DESIGN.md "Trust, CRLs and time"), is one when it is the
         * certificate's own anchor (OpenSSL then requires the same).
         */
        if (x != NULL && sk_X509_num(pchain) > 0 && X509_cmp(x,
            sk_X509_value(pchain, sk_X509_num(pchain) - 1)) == 0)
            return 1;
        break;
    case X509_V_ERR_INVALID_PURPOSE:
    case X509_V_ERR_UNABLE_TO_GET_CRL:
    case X509_V_ERR_UNABLE_TO_GET_CRL_ISSUER:
    case X509_V_ERR_DIFFERENT_CRL_SCOPE:
    case X509_V_ERR_CRL_HAS_EXPIRED:
    case X509_V_ERR_CRL_NOT_YET_VALID:
    case X509_V_ERR_CRL_SIGNATURE_FAILURE:
    case X509_V_ERR_UNABLE_TO_DECRYPT_CRL_SIGNATURE:
    case X509_V_ERR_KEYUSAGE_NO_CRL_SIGN:
    case X509_V_ERR_UNHANDLED_CRITICAL_CRL_EXTENSION:
    case X509_V_ERR_CRL_PATH_VALIDATION_ERROR:
    case X509_V_ERR_ERROR_IN_CRL_LAST_UPDATE_FIELD:
    case X509_V_ERR_ERROR_IN_CRL_NEXT_UPDATE_FIELD:
        return 1;
    }
    if (st != NULL && st->signer_err == 0) {
        st->signer_err = err;
        st->signer[0] = '\0';
        if (x != NULL)
            cv_cert_label(x, st->signer, sizeof(st->signer));
    }
    return 0;
}

/*
 * OpenSSL's verify callback for the CRL pass: its CRL errors become our
 * findings; every other error was cv_chain_verify()'s, and all are let go
 * so that each certificate of the path is looked at.
 */
static int
crl_verify_cb(int ok, X509_STORE_CTX *vctx)
{
    struct crlstate *st = X509_STORE_CTX_get_app_data(vctx);
    X509_STORE_CTX *parent = X509_STORE_CTX_get0_parent_ctx(vctx);
    int err = X509_STORE_CTX_get_error(vctx);
    int d = X509_STORE_CTX_get_error_depth(vctx);
    X509 *x = X509_STORE_CTX_get_current_cert(vctx);
    X509_CRL *crl = X509_STORE_CTX_get0_current_crl(vctx);
    X509_REVOKED *rev = NULL;
    const char *field = d == 0 ? "crt" : "chain", *src, *msrc;
    char label[256], when[32], srcs[2100];

    if (parent != NULL)
        return signer_verify_cb(ok, vctx, parent);
    if (ok || st == NULL || d < 0 || d >= st->n || st->skip[d])
        return 1;   /* skip: no issuer on the path, or no CRL to be had */
    label[0] = '\0';
    if (x != NULL)
        cv_cert_label(x, label, sizeof(label));
    src = crl_srcs(st, crl, d, srcs, sizeof(srcs));
    switch (err) {
    case X509_V_ERR_UNABLE_TO_GET_CRL:
        if (st->bad[d])
            return 1;
        if (signer_missing(st, vctx, d, &msrc)) {
            cv_report_add(st->rep, CV_CRL_INVALID, field, "the CRL from %s "
                "for %s is signed by a key whose certificate is neither in "
                "the upload nor among the anchors: add the CRL signer's "
                "certificate to the chain file", msrc, label);
            break;
        }
        cv_report_add(st->rep, CV_CRL_INVALID, field, "no CRL given for %s "
            "is issued by its issuer or covers it", label);
        break;
    case X509_V_ERR_CERT_REVOKED:
        if (st->bad[d])
            return 1;   /* an unusable CRL does not revoke */
        when[0] = '\0';
        revoking_crl(st, x, &crl, &rev);
        if (rev != NULL)
            cv_time_iso(cv_asn1_time(X509_REVOKED_get0_revocationDate(rev)),
                when, sizeof(when));
        cv_report_add(st->rep, CV_REVOKED, field, "%s was revoked%s%s "
            "(CRL from %s)", label, when[0] ? " on " : "", when,
            crl != NULL ? crl_src(st, crl) : src);
        st->said++;
        return 1;
    case X509_V_ERR_CRL_HAS_EXPIRED:
        when[0] = '\0';
        if (crl != NULL && X509_CRL_get0_nextUpdate(crl) != NULL)
            cv_time_iso(cv_asn1_time(X509_CRL_get0_nextUpdate(crl)), when,
                sizeof(when));
        cv_report_add(st->rep, CV_CRL_INVALID, field, "the CRL from %s is "
            "out of date: its next update was due on %s", src, when);
        break;
    case X509_V_ERR_CRL_NOT_YET_VALID:
        cv_report_add(st->rep, CV_CRL_INVALID, field, "the CRL from %s is "
            "not valid yet", src);
        break;
    case X509_V_ERR_CRL_SIGNATURE_FAILURE:
    case X509_V_ERR_UNABLE_TO_DECRYPT_CRL_SIGNATURE:
        cv_report_add(st->rep, CV_CRL_INVALID, field, "the signature of "
            "the CRL from %s does not verify with the issuer of %s", src,
            label);
        break;
    case X509_V_ERR_UNABLE_TO_GET_CRL_ISSUER:
        cv_report_add(st->rep, CV_CRL_INVALID, field, "the CRL from %s for "
            "%s is signed by a key whose certificate is neither in the "
            "upload nor among the anchors: add the CRL signer's certificate "
            "to the chain file", src, label);
        break;
    case X509_V_ERR_CRL_PATH_VALIDATION_ERROR:
        if (st->signer_err != 0) {
            cv_report_add(st->rep, CV_CRL_INVALID, field, "the CRL from %s "
                "for %s: its signer's certificate does not verify (%s: %s)",
                src, label, st->signer,
                X509_verify_cert_error_string(st->signer_err));
            st->signer_err = 0;
            break;
        }
        /* FALLTHROUGH */
    case X509_V_ERR_KEYUSAGE_NO_CRL_SIGN:
    case X509_V_ERR_UNHANDLED_CRITICAL_CRL_EXTENSION:
    case X509_V_ERR_DIFFERENT_CRL_SCOPE:
    case X509_V_ERR_ERROR_IN_CRL_LAST_UPDATE_FIELD:
    case X509_V_ERR_ERROR_IN_CRL_NEXT_UPDATE_FIELD:
        cv_report_add(st->rep, CV_CRL_INVALID, field, "the CRL from %s for "
            "%s: %s", src, label, X509_verify_cert_error_string(err));
        break;
    default:
        return 1;
    }
    st->said++;
    st->bad[d] = 1;
    return 1;
}

/* 1 when a and b hold the same certificates in the same order. */
static int
same_certs(STACK_OF(X509) *a, STACK_OF(X509) *b)
{
    int i, n = sk_X509_num(a);

    if (a == NULL || b == NULL || n != sk_X509_num(b))
        return 0;
    for (i = 0; i < n; i++)
        if (sk_X509_value(a, i) != sk_X509_value(b, i) &&
            X509_cmp(sk_X509_value(a, i), sk_X509_value(b, i)) != 0)
            return 0;
    return 1;
}

/*
 * The CRL pass's verify function (X509_STORE_CTX_set_verify()): OpenSSL's
 * walk over the path's signatures and dates (internal_verify), unless the
 * pass built the very path cv_chain_verify() did.  That path's signatures
 * and dates were judged there; here crl_verify_cb() lets every error of
 * the walk go (none is a CRL error) and the walk changes nothing else, so
 * it would only spend the leaf's signature check again.  A CRL signer's
 * own path (check_crl_path()) is verified in a context of its own, which
 * gets the store's verify function, not this one: it keeps the full walk.
 */
static int
crl_walk(X509_STORE_CTX *vctx)
{
    struct crlstate *st = X509_STORE_CTX_get_app_data(vctx);

    if (X509_STORE_CTX_get0_parent_ctx(vctx) == NULL &&
        same_certs(X509_STORE_CTX_get0_chain(vctx), st->path))
        return 1;
    return st->walk(vctx);
}

/*
 * 1 when the CRL pass needs X509_V_FLAG_CRL_CHECK_ALL, 0 when checking
 * the leaf alone (CRL_CHECK) gives the same findings for less: no
 * certificate above the leaf has a CRL to judge (crl_verify_cb() ignores
 * what OpenSSL says about those), every CRL given is issued by the leaf's
 * issuer on the path (its name and key identifier: OpenSSL finds the
 * signer at depth 1), and the pass's untrusted certificates are the
 * upload alone (it builds cv_chain_verify()'s path again).  Then no CRL
 * signer's path is built (check_crl_path()), whose certificates OpenSSL
 * checks against the CRLs given with CRL_CHECK_ALL only.  Saves verifying
 * a self-signed anchor's CRL for the anchor itself.
 */
static int
needs_check_all(const struct crlstate *st, STACK_OF(X509) *path,
    STACK_OF(X509_CRL) *sk, STACK_OF(X509) *upload,
    STACK_OF(X509) *untrusted)
{
    AUTHORITY_KEYID *akid;
    X509 *issuer;
    X509_CRL *crl;
    int d, i, crit, ok;

    if (st->n < 2 || sk_X509_num(untrusted) != sk_X509_num(upload))
        return 1;
    for (d = 1; d < st->n; d++)
        if (!st->skip[d])
            return 1;
    issuer = sk_X509_value(path, 1);
    for (i = 0; i < sk_X509_CRL_num(sk); i++) {
        crl = sk_X509_CRL_value(sk, i);
        if (X509_NAME_cmp(X509_CRL_get_issuer(crl),
            X509_get_subject_name(issuer)) != 0)
            return 1;
        /* none (crit -1) matches any issuer; an unreadable one: CHECK_ALL */
        akid = X509_CRL_get_ext_d2i(crl, NID_authority_key_identifier,
            &crit, NULL);
        ok = (akid != NULL || crit == -1) &&
            X509_check_akid(issuer, akid) == X509_V_OK;
        AUTHORITY_KEYID_free(akid);
        ERR_clear_error();
        if (!ok)
            return 1;
    }
    return 0;
}

/* 1 when a CRL names its number (RFC 5280 5.2.3: MUST). */
static int
has_crl_number(X509_CRL *crl)
{
    return X509_CRL_get_ext_by_NID(crl, NID_crl_number, -1) >= 0;
}

/*
 * Adds crl (not owned) to the CRLs OpenSSL is given, unless it names no
 * CRL number: then crl_invalid for the certificate at depth d.  fetched:
 * downloaded now (kept in the cache if it passes, counting bytes).
 */
static int
gather(struct crlstate *st, STACK_OF(X509_CRL) *sk, X509_CRL *crl,
    const char *url, int d, int fetched, size_t bytes, const char *label)
{
    struct gathered *g;
    int j;

    if (!has_crl_number(crl)) {
        cv_report_add(st->rep, CV_CRL_INVALID, d == 0 ? "crt" : "chain",
            "the CRL from %s for %s has no CRL number", url != NULL ? url :
            "the CRL file", label);
        st->bad[d] = 1;
        return 0;
    }
    for (j = 0; j < sk_X509_CRL_num(sk); j++)
        if (sk_X509_CRL_value(sk, j) == crl)
            return 0;           /* one CRL for two certificates */
    if (st->ng == st->maxg)
        return 0;
    g = &st->g[st->ng];
    g->src = NULL;
    if ((url != NULL && (g->src = strdup(url)) == NULL) ||
        !sk_X509_CRL_push(sk, crl)) {
        free(g->src);
        g->src = NULL;
        return -1;
    }
    g->crl = crl;
    g->depth = d;
    g->fetched = fetched;
    g->bytes = bytes;
    st->ng++;
    return 0;
}

/*
 * 1 when crl may be the one for x: issued by x's issuer, or by a CRL
 * issuer one of x's distribution points names (an indirect CRL, RFC 5280
 * 4.2.1.13 cRLIssuer).  OpenSSL's verifier then judges its scope.
 */
static int
crl_may_cover(X509_CRL *crl, X509 *x)
{
    const X509_NAME *cn = X509_CRL_get_issuer(crl);
    STACK_OF(DIST_POINT) *dps;
    GENERAL_NAME *gn;
    int i, j, found = 0;

    if (X509_NAME_cmp(cn, X509_get_issuer_name(x)) == 0)
        return 1;
    dps = X509_get_ext_d2i(x, NID_crl_distribution_points, NULL, NULL);
    for (i = 0; i < sk_DIST_POINT_num(dps) && !found; i++) {
        DIST_POINT *dp = sk_DIST_POINT_value(dps, i);

        for (j = 0; j < sk_GENERAL_NAME_num(dp->CRLissuer) && !found;
            j++) {
            gn = sk_GENERAL_NAME_value(dp->CRLissuer, j);
            found = gn->type == GEN_DIRNAME &&
                X509_NAME_cmp(gn->d.directoryName, cn) == 0;
        }
    }
    sk_DIST_POINT_pop_free(dps, DIST_POINT_free);
    ERR_clear_error();
    return found;
}

/*
 * Hands the offline CRLs issued to x's issuer over (st NULL: only counts
 * them); returns how many there are.
 */
static int
gather_offline(struct crlstate *st, STACK_OF(X509_CRL) *sk,
    const struct cv_options *opt, X509 *x, int d, const char *label)
{
    int i, n = 0;

    for (i = 0; i < sk_X509_CRL_num(opt->offline_crls); i++) {
        X509_CRL *c = sk_X509_CRL_value(opt->offline_crls, i);

        if (!crl_may_cover(c, x))
            continue;
        n++;
        if (st != NULL && gather(st, sk, c, NULL, d, 0, 0, label) != 0)
            return -1;
    }
    return n;
}

/* 1 when this request holds crl (dropping it from the cache frees nothing). */
static int
holds(const struct fetcher *f, const X509_CRL *crl)
{
    int i;

    for (i = 0; i < sk_X509_CRL_num(f->owned); i++)
        if (sk_X509_CRL_value(f->owned, i) == crl)
            return 1;
    return 0;
}

/*
 * cv_fetch_opts.make_room: called with a downloaded CRL's DER before it
 * is parsed.  The CRLs this request holds (cached or downloaded) must fit
 * in the cap with the new one, else the new one is not read: the cap
 * bounds what CRLs take of a worker's memory, a hostile CRL included.
 * Then the least recently used cached CRLs that the request does not
 * hold go until the cache, the request's downloads and the new CRL fit
 * in the cap: memory freed here is what the parser reuses, so the
 * worker's peak stays near the cap (issue 12).
 */
static int
make_room(void *arg, const unsigned char *der, size_t len, char *detail,
    size_t dlen)
{
    struct fetcher *f = arg;
    struct cv_ctx *ctx = f->ctx;
    size_t need = crl_cost(der, len), held = f->held, i;
    const double mib = 1 << 20;

    for (i = 0; i < ctx->n_crl; i++)
        if (holds(f, ctx->crl[i].crl))
            held += ctx->crl[i].bytes;
    if (held + need > ctx->crl_cache_max) {
        if (held == 0)
            snprintf(detail, dlen, "not read: it would take about %.1f "
                "MiB of memory, more than crl_cache_max (%.1f MiB); "
                "raise crl_cache_max to at least %.0f MiB to check "
                "against it", need / mib, ctx->crl_cache_max / mib,
                need / mib + 1);
        else
            snprintf(detail, dlen, "not read: with the other CRLs of "
                "this upload it would take about %.1f MiB of memory, more "
                "than crl_cache_max (%.1f MiB)", (held + need) / mib,
                ctx->crl_cache_max / mib);
        return -1;
    }
    for (i = 0; i < ctx->n_crl &&
        ctx->crl_bytes + f->held + need > ctx->crl_cache_max;) {
        if (holds(f, ctx->crl[i].crl))
            i++;
        else
            cache_drop(ctx, i);
    }
    f->pending = need;
    return 0;
}

/*
 * The CRL at url for the certificate at depth d: the cached copy, unless
 * fresh, else downloaded within what is left of the request's deadline.
 * Returns it (a reference held in f->owned until the request ends, so the
 * cache may drop it meanwhile) with *fetchedp set when downloaded, and
 * *bytesp what it counts in the cache; NULL when it is not to be had
 * (crl_unreachable said) or out of memory (*oomp).
 */
static X509_CRL *
obtain(struct fetcher *f, struct cv_report *rep, const char *url, int d,
    int fresh, int *fetchedp, size_t *bytesp, int *oomp)
{
    const char *field = d == 0 ? "crt" : "chain";
    char detail[CV_DETAIL_MAX];
    struct cv_crl_entry *e;
    X509_CRL *crl = NULL;
    time_t left;

    *fetchedp = *oomp = 0;
    *bytesp = 0;
    if (!fresh && (e = cache_find(f->ctx, url, f->now)) != NULL) {
        if (!X509_CRL_up_ref(e->crl) || !sk_X509_CRL_push(f->owned,
            e->crl)) {
            *oomp = 1;
            return NULL;
        }
        *bytesp = e->bytes;
        return e->crl;
    }
    f->misses++;
    if ((left = f->deadline - time(NULL)) <= 0) {
        cv_report_add(rep, CV_CRL_UNREACHABLE, field, "%s: not fetched: "
            "the %d s allowed for all CRL downloads of one request had "
            "passed", url, f->timeout + 1);
        return NULL;
    }
    detail[0] = '\0';
    f->fo.timeout = left < f->timeout ? (int)left : f->timeout;
    f->pending = 0;
    if (f->fn(url, &f->fo, f->opt->fetch_arg, &crl, detail,
        sizeof(detail)) != CV_FETCH_OK || crl == NULL) {
        cv_report_add(rep, CV_CRL_UNREACHABLE, field, "%s: %s", url,
            detail[0] ? detail : "no CRL");
        X509_CRL_free(crl);
        return NULL;
    }
    if (!sk_X509_CRL_push(f->owned, crl)) {
        X509_CRL_free(crl);
        *oomp = 1;
        return NULL;
    }
    /* a fetcher that parsed without make_room(): counted afterwards */
    *bytesp = f->pending != 0 ? f->pending : crl_bytes(crl);
    f->held += *bytesp;
    *fetchedp = 1;
    return crl;
}

/* The first http:// URL of a freshestCRL extension into buf. */
static int
freshest_http(STACK_OF(DIST_POINT) *dps, char *buf, size_t len)
{
    struct dp_http dh = { buf, len };

    return dps != NULL && cv_dps_each(dps, first_http, &dh);
}

/*
 * Where the delta CRLs of x's CRL base are (RFC 5280 4.2.1.15, 5.2.6):
 * the first http:// URL of x's freshestCRL, else of base's.  Returns 1
 * when there is one.
 */
static int
delta_url(X509 *x, X509_CRL *base, char *buf, size_t len)
{
    STACK_OF(DIST_POINT) *dps;
    int found;

    dps = X509_get_ext_d2i(x, NID_freshest_crl, NULL, NULL);
    found = freshest_http(dps, buf, len);
    sk_DIST_POINT_pop_free(dps, DIST_POINT_free);
    if (!found) {
        dps = X509_CRL_get_ext_d2i(base, NID_freshest_crl, NULL, NULL);
        found = freshest_http(dps, buf, len);
        sk_DIST_POINT_pop_free(dps, DIST_POINT_free);
    }
    ERR_clear_error();
    return found;
}

/* 1 when a and b carry the extension nid alike (or both not at all). */
static int
same_ext(X509_CRL *a, X509_CRL *b, int nid)
{
    int ia = X509_CRL_get_ext_by_NID(a, nid, -1);
    int ib = X509_CRL_get_ext_by_NID(b, nid, -1);

    if (ia < 0 || ib < 0)
        return ia < 0 && ib < 0;
    return ASN1_OCTET_STRING_cmp(
        X509_EXTENSION_get_data(X509_CRL_get_ext(a, ia)),
        X509_EXTENSION_get_data(X509_CRL_get_ext(b, ib))) == 0;
}

/* An integer extension of a CRL (CRL number, delta CRL indicator). */
static ASN1_INTEGER *
crl_int(X509_CRL *crl, int nid)
{
    ASN1_INTEGER *v = X509_CRL_get_ext_d2i(crl, nid, NULL, NULL);

    ERR_clear_error();
    return v;
}

#define DELTA_FITS      0
#define DELTA_NEWER     1       /* based on a newer CRL than base */
#define DELTA_WRONG     2

/*
 * Whether delta may be combined with base (RFC 5280 5.2.4; the rules of
 * OpenSSL's verifier, which passes over a delta that does not fit without
 * a word, so its revocations would go unseen): a delta CRL of the same
 * issuer, key identifier and scope, based on base's number or an older
 * one.  Says why not into why.
 */
static int
delta_fits(X509_CRL *base, X509_CRL *delta, char *why, size_t len)
{
    ASN1_INTEGER *bnum = crl_int(base, NID_crl_number);
    ASN1_INTEGER *dbase = crl_int(delta, NID_delta_crl);
    char *bs = NULL, *ds = NULL;
    int rc = DELTA_WRONG;

    if (dbase == NULL)
        snprintf(why, len, "is not a delta CRL (it has no delta CRL "
            "indicator)");
    else if (X509_NAME_cmp(X509_CRL_get_issuer(base),
        X509_CRL_get_issuer(delta)) != 0)
        snprintf(why, len, "is issued by another CA than its base CRL");
    else if (!same_ext(base, delta, NID_authority_key_identifier))
        snprintf(why, len, "names another signing key than its base CRL");
    else if (!same_ext(base, delta, NID_issuing_distribution_point))
        snprintf(why, len, "has another scope (issuing distribution point) "
            "than its base CRL");
    else if (bnum != NULL && ASN1_INTEGER_cmp(dbase, bnum) > 0) {
        bs = i2s_ASN1_INTEGER(NULL, bnum);
        ds = i2s_ASN1_INTEGER(NULL, dbase);
        snprintf(why, len, "applies to CRL number %s or later; the base "
            "CRL is number %s", ds != NULL ? ds : "?", bs != NULL ? bs :
            "?");
        rc = DELTA_NEWER;
    } else
        rc = DELTA_FITS;
    OPENSSL_free(bs);
    OPENSSL_free(ds);
    ASN1_INTEGER_free(bnum);
    ASN1_INTEGER_free(dbase);
    return rc;
}

/*
 * The downloaded CRLs of x at depth d: the base at url and, when x or the
 * base names one (freshestCRL), the delta CRL, which must fit the base; a
 * base from the cache that is older than the delta's is fetched anew.  An
 * unreachable delta is crl_unreachable, as an unreachable base is: the
 * certificate's revocation status is not known to be current.  Returns -1
 * when out of memory.
 */
static int
gather_fetched(struct fetcher *f, struct crlstate *st,
    STACK_OF(X509_CRL) *sk, X509 *x, const char *url, int d,
    const char *label)
{
    const char *field = d == 0 ? "crt" : "chain";
    char durl[1024], why[256];
    X509_CRL *base, *delta = NULL;
    size_t bbytes, dbytes = 0;
    int bfetched, dfetched = 0, oom, fit = DELTA_FITS;

    if ((base = obtain(f, st->rep, url, d, 0, &bfetched, &bbytes,
        &oom)) == NULL) {
        st->skip[d] = !oom;
        return oom ? -1 : 0;
    }
    if (!crl_may_cover(base, x)) {
        cv_report_add(st->rep, CV_CRL_INVALID, field, "the CRL from %s is "
            "not issued by the issuer of %s", url, label);
        st->bad[d] = 1;
        return 0;
    }
    if (has_crl_number(base) && delta_url(x, base, durl, sizeof(durl))) {
        delta = obtain(f, st->rep, durl, d, 0, &dfetched, &dbytes, &oom);
        if (delta == NULL && oom)
            return -1;
        if (delta != NULL &&
            (fit = delta_fits(base, delta, why, sizeof(why))) ==
            DELTA_NEWER && !bfetched) {
            /* the cached base is older than the one the delta is for */
            if ((base = obtain(f, st->rep, url, d, 1, &bfetched, &bbytes,
                &oom)) == NULL) {
                st->skip[d] = !oom;
                return oom ? -1 : 0;
            }
            fit = delta_fits(base, delta, why, sizeof(why));
        }
    }
    if (gather(st, sk, base, url, d, bfetched, bbytes, label) != 0)
        return -1;
    if (delta == NULL || st->bad[d])
        return 0;
    if (fit != DELTA_FITS) {
        cv_report_add(st->rep, CV_CRL_INVALID, field, "the delta CRL from "
            "%s for %s %s (%s)", durl, label, why, url);
        st->bad[d] = 1;
        return 0;
    }
    return gather(st, sk, delta, durl, d, dfetched, dbytes, label);
}

/*
 * The untrusted certificates of the CRL pass: the upload, and the anchors
 * whose name is a gathered CRL's issuer and that are not on the path.
 * OpenSSL looks for a CRL signer off the path among the untrusted
 * certificates only (a separate CRL key, an indirect CRL issuer); one the
 * admin placed among the anchors is found this way.  Returns NULL when out
 * of memory.
 */
static STACK_OF(X509) *
crl_untrusted(struct cv_ctx *ctx, STACK_OF(X509) *upload,
    STACK_OF(X509) *path, STACK_OF(X509_CRL) *sk)
{
    STACK_OF(X509) *u;
    int i, j, use;

    u = upload != NULL ? sk_X509_dup(upload) : sk_X509_new_null();
    for (i = 0; u != NULL && i < sk_X509_num(ctx->anchors); i++) {
        X509 *a = sk_X509_value(ctx->anchors, i);

        use = 0;
        for (j = 0; j < sk_X509_CRL_num(sk) && !use; j++)
            use = X509_NAME_cmp(X509_get_subject_name(a),
                X509_CRL_get_issuer(sk_X509_CRL_value(sk, j))) == 0;
        for (j = 0; j < sk_X509_num(path) && use; j++)
            use = X509_cmp(a, sk_X509_value(path, j)) != 0;
        if (use && !sk_X509_push(u, a)) {
            sk_X509_free(u);
            return NULL;
        }
    }
    return u;
}

/*
 * The number of certificates of sk and the SHA-256 of each one's DER into
 * md (kept with the certificate: the anchors' and the leaf's are not
 * computed again on each pass).
 */
static int
digest_certs(EVP_MD_CTX *md, STACK_OF(X509) *sk)
{
    unsigned char d[CV_SHA256_LEN];
    int i, n = sk_X509_num(sk);

    if (!EVP_DigestUpdate(md, &n, sizeof(n)))
        return 0;
    for (i = 0; i < n; i++)
        if (!cv_cert_sha256(sk_X509_value(sk, i), d) ||
            !EVP_DigestUpdate(md, d, sizeof(d)))
            return 0;
    return 1;
}

/*
 * 1 when every certificate of sk is within its dates at at (by OpenSSL's
 * rule: notBefore <= at < notAfter), *untilp lowered to the earliest
 * notAfter; 0 when one is not, or its dates do not read.
 */
static int
certs_window(STACK_OF(X509) *sk, time_t at, time_t *untilp)
{
    time_t nb, na;
    int i;

    for (i = 0; i < sk_X509_num(sk); i++) {
        X509 *x = sk_X509_value(sk, i);

        nb = cv_asn1_time(X509_get0_notBefore(x));
        na = cv_asn1_time(X509_get0_notAfter(x));
        if (nb == 0 || na == 0 || nb > at || na <= at)
            return 0;
        if (na < *untilp)
            *untilp = na;
    }
    return 1;
}

/*
 * Whether this CRL pass may be answered from the memo, or its verdict
 * kept there (docs/DESIGN.md "Trust, CRLs and time"): every CRL given came
 * from the cache, none was missed there (so none downloaded or refused)
 * and no CRL file was given; the pass checks the leaf alone (flags, see
 * needs_check_all()); no CRL was found unusable while gathering; and the
 * path, the untrusted certificates and the CRLs are within their dates at
 * at.  Then m gets the key, a SHA-256 over what the verdict rests on (the
 * path's and the untrusted certificates' SHA-256, the flags, each CRL given
 * with the number of the cache entry holding it, unique to that entry),
 * and the time it holds: from at until the earliest notAfter and
 * nextUpdate among them.  Returns 1 when m is ready.
 */
static int
memo_ready(const struct fetcher *f, const struct crlstate *st,
    const struct cv_options *opt, STACK_OF(X509) *path,
    STACK_OF(X509) *untrusted, unsigned long flags, time_t at,
    struct cv_crl_memo *m)
{
    const struct cv_ctx *ctx = f->ctx;
    EVP_MD_CTX *md = NULL;
    const struct gathered *g;
    time_t lu, nu;
    size_t j, k;
    int i, ok = 0;

    memset(m, 0, sizeof(*m));
    if ((flags & X509_V_FLAG_CRL_CHECK_ALL) != 0 || f->misses != 0 ||
        sk_X509_CRL_num(opt->offline_crls) > 0 || st->ng == 0 ||
        st->ng > CV_CRL_MEMO_CRLS)
        return 0;
    for (i = 0; i < st->n; i++)
        if (st->bad[i])
            return 0;
    m->from = at;
    for (i = 0; i < st->ng; i++) {
        g = &st->g[i];
        lu = cv_asn1_time(X509_CRL_get0_lastUpdate(g->crl));
        nu = cv_asn1_time(X509_CRL_get0_nextUpdate(g->crl));
        if (g->src == NULL || g->fetched || lu == 0 || nu == 0 || lu > at ||
            nu <= at)
            return 0;
        if (i == 0 || nu < m->until)
            m->until = nu;
        /* the one cache entry holding it: its number */
        for (j = 0, k = ctx->n_crl; j < ctx->n_crl; j++)
            if (ctx->crl[j].crl == g->crl) {
                if (k != ctx->n_crl)
                    return 0;
                k = j;
            }
        if (k == ctx->n_crl)
            return 0;
        m->gen[m->n_gen++] = ctx->crl[k].gen;
    }
    if (!certs_window(path, at, &m->until) ||
        !certs_window(untrusted, at, &m->until))
        return 0;
    if ((md = EVP_MD_CTX_new()) == NULL ||
        !EVP_DigestInit_ex(md, EVP_sha256(), NULL) ||
        !digest_certs(md, path) || !digest_certs(md, untrusted) ||
        !EVP_DigestUpdate(md, &flags, sizeof(flags)))
        goto out;
    for (i = 0; i < st->ng; i++) {
        g = &st->g[i];
        if (!EVP_DigestUpdate(md, &g->crl, sizeof(g->crl)) ||
            !EVP_DigestUpdate(md, &m->gen[i], sizeof(m->gen[i])) ||
            !EVP_DigestUpdate(md, &g->depth, sizeof(g->depth)))
            goto out;
    }
    ok = EVP_DigestFinal_ex(md, m->key, NULL);
out:
    EVP_MD_CTX_free(md);
    ERR_clear_error();
    return ok;
}

void
cv_crl_check(struct cv_ctx *ctx, X509 *leaf, STACK_OF(X509) *upload,
    STACK_OF(X509) *path, const struct cv_options *opt, time_t at,
    struct cv_report *rep)
{
    char url[1024];
    int i, n = sk_X509_num(path), has_dp, http, noff;
    struct fetcher f;
    struct crlstate st;
    STACK_OF(X509_CRL) *sk = NULL;
    STACK_OF(X509) *trusted = NULL, *untrusted = NULL;
    X509_STORE_CTX *vctx = NULL;
    struct cv_crl_memo m;
    unsigned long flags;
    int memo;

    memset(&f, 0, sizeof(f));
    f.ctx = ctx;
    f.opt = opt;
    f.fn = opt->fetch_fn ? opt->fetch_fn : cv_crl_fetch_http;
    f.fo = opt->fetch;
    f.fo.make_room = make_room;
    f.fo.room_arg = &f;
    f.timeout = f.fo.timeout > 0 ? f.fo.timeout : CV_DEFAULT_CRL_TIMEOUT;
    f.now = time(NULL);
    /*
     * One deadline for all fetches of this request: a chain whose CRL
     * servers all hang must not hold a worker for one timeout per
     * certificate (docs/DESIGN.md "Trust, CRLs and time").
     */
    f.deadline = f.now + f.timeout + 1;
    memset(&st, 0, sizeof(st));
    st.rep = rep;
    st.n = n;
    if (n == 0)
        return;
    /* per certificate: a base, a delta, and a base fetched anew */
    st.maxg = 3 * n + sk_X509_CRL_num(opt->offline_crls);
    if ((st.skip = calloc(n, 1)) == NULL || (st.bad = calloc(n, 1)) == NULL ||
        (st.g = calloc(st.maxg, sizeof(*st.g))) == NULL ||
        (sk = sk_X509_CRL_new_null()) == NULL ||
        (f.owned = sk_X509_CRL_new_null()) == NULL)
        goto oom;
    for (i = 0; i < n; i++) {
        X509 *x = sk_X509_value(path, i);
        const char *field = i == 0 ? "crt" : "chain";
        char label[256];

        if (X509_self_signed(x, 0) == 1) {
            /* a trust anchor: nothing above it, nor above that */
            memset(st.skip + i, 1, n - i);
            break;
        }
        http = cv_crl_dp_http(x, url, sizeof(url), &has_dp);
        cv_cert_label(x, label, sizeof(label));
        noff = gather_offline(NULL, NULL, opt, x, i, label);
        if (has_dp && !http)
            cv_report_add(rep, CV_CRL_NOT_HTTP, field, "%s", label);
        if (!has_dp && i == 0 && noff == 0)
            cv_report_add(rep, CV_NO_CRL_DP, "crt", NULL);
        if (i + 1 == n || (noff == 0 && !http)) {
            st.skip[i] = 1;     /* no issuer on the path, or no CRL */
            continue;
        }
        if (noff > 0) {         /* the CRL file comes first */
            if (gather_offline(&st, sk, opt, x, i, label) < 0)
                goto oom;
            continue;
        }
        if (gather_fetched(&f, &st, sk, x, url, i, label) < 0)
            goto oom;
    }
    if (sk_X509_CRL_num(sk) == 0)
        goto out;               /* nothing to judge */
    if ((untrusted = crl_untrusted(ctx, upload, path, sk)) == NULL)
        goto oom;
    flags = X509_V_FLAG_CRL_CHECK | X509_V_FLAG_EXTENDED_CRL_SUPPORT |
        X509_V_FLAG_USE_DELTAS;
    if (needs_check_all(&st, path, sk, upload, untrusted))
        flags |= X509_V_FLAG_CRL_CHECK_ALL;
    memo = memo_ready(&f, &st, opt, path, untrusted, flags, at, &m);
    if (memo && memo_find(ctx, m.key, at)) {
        ctx->memo_hits++;       /* the same pass found nothing before */
        goto out;
    }
    if ((vctx = cv_chain_vctx(ctx, leaf, upload, at, NULL, &trusted)) == NULL)
        goto oom;
    X509_STORE_CTX_set0_untrusted(vctx, untrusted);
    X509_VERIFY_PARAM_set_flags(X509_STORE_CTX_get0_param(vctx), flags);
    X509_STORE_CTX_set0_crls(vctx, sk);
    X509_STORE_CTX_set_verify_cb(vctx, crl_verify_cb);
    st.path = path;
    if ((st.walk = X509_STORE_CTX_get_verify(vctx)) != NULL)
        X509_STORE_CTX_set_verify(vctx, crl_walk);
    X509_STORE_CTX_set_app_data(vctx, &st);
    /*
     * crl_verify_cb() lets every error go, so anything but 1 is OpenSSL
     * stopping (memory, a store lookup): no verdict, and not a pass
     */
    if (X509_verify_cert(vctx) != 1)
        cv_report_add(rep, CV_VALIDATION_FAILED, "crt", "the revocation "
            "check stopped: %s", X509_verify_cert_error_string(
            X509_STORE_CTX_get_error(vctx)));
    else if (memo && st.said == 0)
        memo_put(ctx, &m);
    /* only a downloaded CRL that passed is kept */
    for (i = 0; i < st.ng; i++)
        if (st.g[i].fetched && !st.bad[st.g[i].depth])
            cache_put(ctx, st.g[i].src, st.g[i].crl, st.g[i].bytes,
                f.now);
    goto out;
oom:
    cv_report_add(rep, CV_VALIDATION_FAILED, "crt", "out of memory");
out:
    ERR_clear_error();
    X509_STORE_CTX_free(vctx);
    sk_X509_free(trusted);
    sk_X509_free(untrusted);
    sk_X509_CRL_free(sk);
    sk_X509_CRL_pop_free(f.owned, X509_CRL_free);
    for (i = 0; i < st.ng; i++)
        free(st.g[i].src);
    free(st.g);
    free(st.skip);
    free(st.bad);
}
