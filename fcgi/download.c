/*
 * download.c - GET /api/certificate/download?format=pem|der&part=leaf|
 * chain|root: the active certificate, the path it is served with, or the
 * root that path ends in, as a file for the admin's own computer.  Never
 * reads the private key.
 */
#include "config.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "handlers.h"
#include "install.h"

/* STATE/current/chain.pem is a few certificates; more is not ours. */
#define CHAIN_MAX       (1u << 20)
/* Anchors appended to an installed chain that stops below its root. */
#define CHAIN_DEPTH_MAX 8

enum dl_part {
    DL_LEAF = 0,
    DL_CHAIN,
    DL_ROOT
};

static int
hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/*
 * Percent-decodes the n bytes at p into buf ('+' is a space).  Returns 0,
 * or -1 when an escape is bad, a byte is NUL or it does not fit.
 */
static int
unescape(const char *p, size_t n, char *buf, size_t len)
{
    size_t i, o = 0;
    int hi, lo;
    char c;

    for (i = 0; i < n; i++) {
        c = p[i];
        if (c == '+')
            c = ' ';
        else if (c == '%') {
            if (n - i < 3 || (hi = hexval(p[i + 1])) < 0 ||
                (lo = hexval(p[i + 2])) < 0)
                return -1;
            c = (char)(hi * 16 + lo);
            i += 2;
        }
        if (c == '\0' || o + 1 >= len)
            return -1;
        buf[o++] = c;
    }
    buf[o] = '\0';
    return 0;
}

/*
 * Reads format=pem|der and part=leaf|chain|root from the query string
 * (defaults pem and leaf).  Returns 0, or -1 with a 400 in resp for an
 * unknown parameter or value, a repeated parameter or a bad escape.
 */
static int
download_query(const char *q, int *der, enum dl_part *part,
    struct cd_response *resp)
{
    char key[32], val[32], d[160];
    const char *p = q, *end, *eq;
    int seen_format = 0, seen_part = 0;

    *der = 0;
    *part = DL_LEAF;
    while (p != NULL && *p != '\0') {
        if ((end = strchr(p, '&')) == NULL)
            end = p + strlen(p);
        if (end == p) {         /* "a=b&&c=d" or a trailing '&' */
            p = end + 1;
            continue;
        }
        if ((eq = memchr(p, '=', (size_t)(end - p))) == NULL)
            eq = end;
        if (unescape(p, (size_t)(eq - p), key, sizeof(key)) != 0 ||
            (strcmp(key, "format") != 0 && strcmp(key, "part") != 0)) {
            snprintf(d, sizeof(d), "unknown parameter '%.*s': the "
                "parameters are format (pem or der) and part (leaf, chain "
                "or root)", (int)((eq - p) > 40 ? 40 : eq - p), p);
            cd_api_fail(resp, CD_ERR_BAD_REQUEST, NULL, d);
            return -1;
        }
        if (eq == end || unescape(eq + 1, (size_t)(end - eq - 1), val,
            sizeof(val)) != 0)
            val[0] = '\0';
        if (strcmp(key, "format") == 0) {
            if (seen_format++) {
                cd_api_fail(resp, CD_ERR_BAD_REQUEST, "format",
                    "format is given more than once");
                return -1;
            }
            if (strcmp(val, "pem") == 0)
                *der = 0;
            else if (strcmp(val, "der") == 0)
                *der = 1;
            else {
                cd_api_fail(resp, CD_ERR_BAD_REQUEST, "format",
                    "format must be pem or der");
                return -1;
            }
        } else {
            if (seen_part++) {
                cd_api_fail(resp, CD_ERR_BAD_REQUEST, "part",
                    "part is given more than once");
                return -1;
            }
            if (strcmp(val, "leaf") == 0)
                *part = DL_LEAF;
            else if (strcmp(val, "chain") == 0)
                *part = DL_CHAIN;
            else if (strcmp(val, "root") == 0)
                *part = DL_ROOT;
            else {
                cd_api_fail(resp, CD_ERR_BAD_REQUEST, "part",
                    "part must be leaf, chain or root");
                return -1;
            }
        }
        if (*end == '\0')
            break;
        p = end + 1;
    }
    return 0;
}

/* 1 when certs holds a certificate equal to x. */
static int
has_cert(STACK_OF(X509) *certs, X509 *x)
{
    int i;

    for (i = 0; i < sk_X509_num(certs); i++)
        if (X509_cmp(sk_X509_value(certs, i), x) == 0)
            return 1;
    return 0;
}

/*
 * Appends every PEM certificate of buf that certs does not hold yet.
 * Returns 0, or -1 when out of memory.
 */
static int
add_pem_certs(STACK_OF(X509) *certs, const char *buf, size_t len)
{
    BIO *b = NULL;
    X509 *x = NULL;
    int rc = -1;

    if (len == 0)
        return 0;
    if (len > INT_MAX || (b = BIO_new_mem_buf(buf, (int)len)) == NULL)
        goto out;
    while ((x = PEM_read_bio_X509(b, NULL, NULL, NULL)) != NULL) {
        if (!has_cert(certs, x)) {
            if (!sk_X509_push(certs, x))
                goto out;
            x = NULL;
        }
        X509_free(x);
        x = NULL;
    }
    rc = 0;
out:
    ERR_clear_error();
    X509_free(x);
    BIO_free(b);
    return rc;
}

/*
 * The certificate's name for a file name: its first subjectAltName DNS
 * entry, else its CN, kept to [A-Za-z0-9.-] ('*' becomes "wildcard",
 * anything else '-'); "certificate" when nothing is left.
 */
static void
file_base(const struct cv_summary *sum, char *buf, size_t len)
{
    const char *s = sum->subject_cn;
    size_t i, o = 0;
    char c;

    for (i = 0; i < sum->n_san && i < CV_MAX_LIST; i++)
        if (strncmp(sum->san[i], "DNS:", 4) == 0 && sum->san[i][4] != '\0') {
            s = sum->san[i] + 4;
            break;
        }
    for (i = 0; s[i] != '\0' && o + 1 < len; i++) {
        c = s[i];
        if (c == '*') {
            if (len - o <= 8)
                break;
            memcpy(buf + o, "wildcard", 8);
            o += 8;
            continue;
        }
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
            (c >= '0' && c <= '9') || c == '.' || c == '-'))
            c = '-';
        if (o == 0 && (c == '.' || c == '-'))
            continue;           /* no hidden file, no option-like name */
        buf[o++] = c;
    }
    buf[o] = '\0';
    if (o == 0)
        snprintf(buf, len, "certificate");
}

/*
 * GET /api/certificate/download?format=pem|der&part=leaf|chain|root: the
 * active certificate, the path it is served with, or the root that path
 * ends in (from STATE/current/chain.pem, completed from the engine's trust
 * anchors when it stops below its root).  Never reads the private key.
 */
void
cd_download_get(struct cd_app *app, const struct cd_request *rq,
    struct cd_response *resp)
{
    static const char *const suffix[][2] = {
        [DL_LEAF] = { ".pem", ".cer" },
        [DL_CHAIN] = { "-chain.pem", "-chain.pem" },
        [DL_ROOT] = { "-root.pem", "-root.cer" },
    };
    struct cv_summary sum;
    STACK_OF(X509) *certs = NULL;
    X509 *top, *x = NULL;
    BIO *out = NULL;
    char *pem = NULL, *cpem = NULL, *p, path[PATH_MAX], base[96];
    char label[256], d[400];
    enum dl_part part;
    size_t len = 0, clen = 0;
    long n;
    int der, i, first, last;

    if (download_query(rq->query, &der, &part, resp) != 0)
        return;
    if (der && part == DL_CHAIN) {
        cd_api_fail(resp, CD_ERR_BAD_REQUEST, "format", "a DER file holds one "
            "certificate: use format=pem for the chain, or part=leaf or "
            "part=root with format=der");
        return;
    }
    pem = cd_install_current_cert(app->settings, &len);
    if (pem == NULL || cv_cert_summary((const uint8_t *)pem, len, 0,
        &sum) != 0) {
        cd_api_fail(resp, CD_ERR_NOT_FOUND, NULL,
            "no certificate is installed");
        goto out;
    }
    snprintf(resp->sha256, sizeof(resp->sha256), "%s", sum.sha256);
    if ((certs = sk_X509_new_null()) == NULL ||
        add_pem_certs(certs, pem, len) != 0)
        goto oom;
    if (sk_X509_num(certs) < 1) {
        cd_api_fail(resp, CD_ERR_NOT_FOUND, NULL,
            "no certificate is installed");
        goto out;
    }
    while (sk_X509_num(certs) > 1)      /* cert.pem holds the leaf only */
        X509_free(sk_X509_pop(certs));
    if (part != DL_LEAF) {
        if ((size_t)snprintf(path, sizeof(path), "%s/current/chain.pem",
            app->settings->state_dir) < sizeof(path) &&
            (cpem = cv_read_file(path, CHAIN_MAX, CV_READ_REGULAR,
            &clen)) != NULL &&
            add_pem_certs(certs, cpem, clen) != 0)
            goto oom;
        for (i = 0; i < CHAIN_DEPTH_MAX; i++) {
            top = sk_X509_value(certs, sk_X509_num(certs) - 1);
            if (X509_self_signed(top, 0) == 1 ||
                (x = cv_ctx_find_issuer(app->cv, top)) == NULL ||
                has_cert(certs, x))
                break;
            if (!sk_X509_push(certs, x))
                goto oom;
            x = NULL;
        }
        X509_free(x);
        x = NULL;
        ERR_clear_error();
    }
    last = sk_X509_num(certs) - 1;
    top = sk_X509_value(certs, last);
    if (part == DL_ROOT && X509_self_signed(top, 0) != 1) {
        X509_NAME_oneline(X509_get_issuer_name(top), label, sizeof(label));
        snprintf(d, sizeof(d), "the installed chain ends below its root, "
            "and no trust anchor of this appliance issued its last "
            "certificate (issuer %s)", label);
        cd_api_fail(resp, CD_ERR_NOT_FOUND, "part", d);
        goto out;
    }
    first = part == DL_ROOT ? last : 0;
    if (part == DL_LEAF)
        last = 0;
    if ((out = BIO_new(BIO_s_mem())) == NULL)
        goto oom;
    for (i = first; i <= last; i++)
        if ((der ? i2d_X509_bio(out, sk_X509_value(certs, i)) :
            PEM_write_bio_X509(out, sk_X509_value(certs, i))) != 1)
            goto oom;
    if ((n = BIO_get_mem_data(out, &p)) <= 0 ||
        (resp->raw = malloc((size_t)n)) == NULL)
        goto oom;
    memcpy(resp->raw, p, (size_t)n);
    resp->raw_len = (size_t)n;
    resp->content_type = der ? "application/pkix-cert" :
        "application/x-pem-file";
    file_base(&sum, base, sizeof(base));
    snprintf(resp->filename, sizeof(resp->filename), "%s%s", base,
        suffix[part][der]);
    resp->status = 200;
    goto out;
oom:
    cd_api_fail(resp, CD_ERR_UNAVAILABLE, NULL, "out of memory");
out:
    ERR_clear_error();
    X509_free(x);
    BIO_free(out);
    sk_X509_pop_free(certs, X509_free);
    free(cpem);
    free(pem);
}

