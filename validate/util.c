/*
 * util.c - small helpers: OpenSSL error text, PEM detection, names, time,
 * and the ones all of certdialog shares (cv_util.h).
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "cv.h"
#include "cv_int.h"
#include "cv_util.h"

void
cv_ossl_detail(char *buf, size_t len)
{
    unsigned long e;
    size_t off = 0;
    const char *r, *data;
    int n, flags;

    if (len == 0)
        return;
    buf[0] = '\0';
    while ((e = ERR_get_error_all(NULL, NULL, NULL, &data, &flags)) != 0) {
        if (ERR_SYSTEM_ERROR(e))
            r = strerror(ERR_GET_REASON(e));
        else if ((r = ERR_reason_error_string(e)) == NULL)
            continue;
        if (strstr(buf, r) != NULL)
            continue;
        if (!ERR_SYSTEM_ERROR(e) || !(flags & ERR_TXT_STRING))
            data = "";
        n = snprintf(buf + off, len - off, "%s%s%s%s%s", off ? "; " : "", r,
            *data ? " (" : "", data, *data ? ")" : "");
        if (n < 0 || (size_t)n >= len - off) {
            ERR_clear_error();
            break;
        }
        off += (size_t)n;
    }
}

int
cv_is_pem(const uint8_t *buf, size_t len)
{
    static const char tag[] = "-----BEGIN ";

    return memmem(buf, len, tag, sizeof(tag) - 1) != NULL;
}

void
cv_skip_bom(const uint8_t **bufp, size_t *lenp)
{
    if (*lenp >= 3 && (*bufp)[0] == 0xef && (*bufp)[1] == 0xbb &&
        (*bufp)[2] == 0xbf) {
        *bufp += 3;
        *lenp -= 3;
    }
}

void
cv_name_text(const X509_NAME *name, char *buf, size_t len)
{
    BIO *bio;
    int n;

    buf[0] = '\0';
    if (name == NULL || (bio = BIO_new(BIO_s_mem())) == NULL)
        return;
    if (X509_NAME_print_ex(bio, name, 0,
        (XN_FLAG_ONELINE & ~ASN1_STRFLGS_ESC_MSB) |
        ASN1_STRFLGS_UTF8_CONVERT) >= 0) {
        n = BIO_read(bio, buf, (int)len - 1);
        buf[n > 0 ? n : 0] = '\0';
    }
    BIO_free(bio);
}

void
cv_cert_label(const X509 *x, char *buf, size_t len)
{
    char cn[256];

    if (cv_cert_cn((X509 *)x, cn, sizeof(cn)) == 0)
        snprintf(buf, len, "CN=%s", cn);
    else
        cv_name_text(X509_get_subject_name(x), buf, len);
}

time_t
cv_asn1_time(const ASN1_TIME *t)
{
    struct tm tm;

    if (t == NULL || !ASN1_TIME_to_tm(t, &tm))
        return 0;
    return timegm(&tm);
}

/* the ex_data slot of cv_cert_sha256(): the digest, or NULL */
static CRYPTO_ONCE sha256_once = CRYPTO_ONCE_STATIC_INIT;
static int sha256_idx = -1;

static void
sha256_free(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl,
    void *argp)
{
    (void)parent;
    (void)ad;
    (void)idx;
    (void)argl;
    (void)argp;
    OPENSSL_free(ptr);
}

/* a copy of the object's data gets its own copy of the digest */
static int
sha256_dup(CRYPTO_EX_DATA *to, const CRYPTO_EX_DATA *from, void **pp,
    int idx, long argl, void *argp)
{
    (void)to;
    (void)from;
    (void)idx;
    (void)argl;
    (void)argp;
    if (*pp != NULL && (*pp = OPENSSL_memdup(*pp, CV_SHA256_LEN)) == NULL)
        return 0;
    return 1;
}

static void
sha256_index(void)
{
    sha256_idx = X509_get_ex_new_index(0, NULL, NULL, sha256_dup,
        sha256_free);
}

int
cv_cert_sha256(X509 *x, unsigned char *md)
{
    unsigned char *kept;
    unsigned int len = 0;

    if (!CRYPTO_THREAD_run_once(&sha256_once, sha256_index) ||
        sha256_idx < 0)
        return X509_digest(x, EVP_sha256(), md, &len) &&
            len == CV_SHA256_LEN;
    if ((kept = X509_get_ex_data(x, sha256_idx)) != NULL) {
        memcpy(md, kept, CV_SHA256_LEN);
        return 1;
    }
    if (!X509_digest(x, EVP_sha256(), md, &len) || len != CV_SHA256_LEN)
        return 0;
    /* not kept (out of memory): the next use computes it again */
    if ((kept = OPENSSL_memdup(md, CV_SHA256_LEN)) != NULL &&
        !X509_set_ex_data(x, sha256_idx, kept))
        OPENSSL_free(kept);
    return 1;
}

double
cv_ms_since(clockid_t clk, const struct timespec *t0)
{
    struct timespec t1;

    clock_gettime(clk, &t1);
    return (t1.tv_sec - t0->tv_sec) * 1e3 + (t1.tv_nsec - t0->tv_nsec) / 1e6;
}

void
cv_time_iso(time_t t, char *buf, size_t len)
{
    struct tm tm;

    if (gmtime_r(&t, &tm) == NULL ||
        strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
        snprintf(buf, len, "%s", "");
}

int
cv_name_is_valid(const char *name, size_t len)
{
    size_t i, blanks = 0;
    char c;

    if (name == NULL || len < 1 || len > 64)
        return 0;
    for (i = 0; i < len; i++) {
        c = name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
            (c >= '0' && c <= '9') || c == ' ' || c == '.' || c == '_' ||
            c == '-'))
            return 0;
        blanks += c == ' ';
    }
    /* a name the history would show as nothing */
    return blanks < len;
}

int
cv_passphrase_is_valid(const char *pass, size_t len)
{
    static const char allowed[] = "!#%()+,-./:=?@[\\]^_{}~";
    size_t i;
    char c;

    if (pass == NULL)
        return 0;
    for (i = 0; i < len; i++) {
        c = pass[i];
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
            (c >= '0' && c <= '9'))
            continue;
        if (c == '\0' || strchr(allowed, c) == NULL)
            return 0;
    }
    return 1;
}

/* ---- shared with fcgi/ and cli/ (cv_util.h) ---- */

int
cv_is_ip(const char *s)
{
    unsigned char b[16];

    return s != NULL && (inet_pton(AF_INET, s, b) == 1 ||
        inet_pton(AF_INET6, s, b) == 1);
}

int
cv_ip_equal(const char *a, const char *b)
{
    unsigned char x[16], y[16];

    if (a == NULL || b == NULL)
        return 0;
    if (inet_pton(AF_INET, a, x) == 1)
        return inet_pton(AF_INET, b, y) == 1 && memcmp(x, y, 4) == 0;
    if (inet_pton(AF_INET6, a, x) == 1)
        return inet_pton(AF_INET6, b, y) == 1 && memcmp(x, y, 16) == 0;
    return 0;
}

int
cv_parse_uint(const char *p, size_t len, uint64_t max, uint64_t *out)
{
    uint64_t v = 0;
    size_t i;
    unsigned d;

    if (p == NULL || len == 0 || len > 20)
        return -1;
    for (i = 0; i < len; i++) {
        if (p[i] < '0' || p[i] > '9')
            return -1;
        d = (unsigned)(p[i] - '0');
        if (v > (UINT64_MAX - d) / 10)
            return -1;
        v = v * 10 + d;
    }
    if (v > max)
        return -1;
    *out = v;
    return 0;
}

void
cv_free_secret(void *p, size_t len)
{
    if (p == NULL)
        return;
    OPENSSL_cleanse(p, len);
    free(p);
}

/* A new buffer of cap bytes holding the len bytes of *bufp; old one wiped. */
static int
regrow(char **bufp, size_t len, size_t oldcap, size_t cap)
{
    char *nb;

    if ((nb = malloc(cap)) == NULL)
        return -1;
    if (len > 0)
        memcpy(nb, *bufp, len);
    cv_free_secret(*bufp, oldcap);
    *bufp = nb;
    return 0;
}

char *
cv_read_file(const char *path, size_t max, int flags, size_t *lenp)
{
    struct stat st;
    char *buf = NULL;
    size_t len = 0, cap = 0;
    ssize_t n;
    int fd, e;

    *lenp = 0;
    if (path == NULL || max >= SIZE_MAX / 2) {
        errno = EINVAL;
        return NULL;
    }
    /* only a regular file will do: a FIFO must not make us wait */
    if ((fd = open(path, O_RDONLY | O_CLOEXEC |
        ((flags & CV_READ_REGULAR) ? O_NONBLOCK : 0))) == -1)
        return NULL;
    if (fstat(fd, &st) == -1)
        goto fail;
    if (S_ISDIR(st.st_mode) || ((flags & CV_READ_REGULAR) &&
        !S_ISREG(st.st_mode))) {
        errno = S_ISDIR(st.st_mode) ? EISDIR : EINVAL;
        goto fail;
    }
    if (S_ISREG(st.st_mode) && (uint64_t)st.st_size > max) {
        errno = EFBIG;
        goto fail;
    }
    /* regular files: one buffer of the right size, +1 to see the end */
    cap = S_ISREG(st.st_mode) ? (size_t)st.st_size + 1 : 4096;
    if (cap > max + 1)
        cap = max + 1;
    if ((buf = malloc(cap)) == NULL)
        goto fail;
    for (;;) {
        if (len == cap) {
            if (len > max) {
                errno = EFBIG;
                goto fail;
            }
            if (regrow(&buf, len, cap, cap * 2 > max + 1 ? max + 1 :
                cap * 2) != 0)
                goto fail;
            cap = cap * 2 > max + 1 ? max + 1 : cap * 2;
        }
        n = read(fd, buf + len, cap - len);
        if (n == -1 && errno == EINTR)
            continue;
        if (n == -1)
            goto fail;
        if (n == 0)
            break;
        len += (size_t)n;
    }
    if (len > max) {
        errno = EFBIG;
        goto fail;
    }
    /* the caller wipes len + 1 bytes: give it exactly that many */
    if (len + 1 != cap && regrow(&buf, len, cap, len + 1) != 0)
        goto fail;
    close(fd);
    buf[len] = '\0';
    *lenp = len;
    return buf;
fail:
    e = errno;
    cv_free_secret(buf, buf != NULL ? cap : 0);
    close(fd);
    errno = e;
    return NULL;
}

int
cv_name_get(const X509_NAME *nm, int nid, char *buf, size_t len)
{
    unsigned char *u = NULL;
    int i, n;

    if (len == 0)
        return -1;
    buf[0] = '\0';
    if (nm == NULL || (i = X509_NAME_get_index_by_NID(nm, nid, -1)) < 0)
        return -1;
    while ((n = X509_NAME_get_index_by_NID(nm, nid, i)) >= 0)
        i = n;
    if ((n = ASN1_STRING_to_UTF8(&u,
        X509_NAME_ENTRY_get_data(X509_NAME_get_entry(nm, i)))) < 0) {
        ERR_clear_error();
        return -1;
    }
    snprintf(buf, len, "%.*s", n, (const char *)u);
    OPENSSL_free(u);
    return 0;
}

int
cv_cert_cn(X509 *x, char *buf, size_t len)
{
    return cv_name_get(x != NULL ? X509_get_subject_name(x) : NULL,
        NID_commonName, buf, len);
}

int
cv_dps_each(STACK_OF(DIST_POINT) *dps, int (*fn)(const char *uri,
    size_t len, void *arg), void *arg)
{
    int i, j, rc = 0;

    for (i = 0; i < sk_DIST_POINT_num(dps) && rc == 0; i++) {
        DIST_POINT *dp = sk_DIST_POINT_value(dps, i);
        GENERAL_NAMES *gens;

        if (dp->distpoint == NULL || dp->distpoint->type != 0)
            continue;
        gens = dp->distpoint->name.fullname;
        for (j = 0; j < sk_GENERAL_NAME_num(gens) && rc == 0; j++) {
            GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, j);

            if (g->type != GEN_URI)
                continue;
            rc = fn((const char *)ASN1_STRING_get0_data(g->d.ia5),
                (size_t)ASN1_STRING_length(g->d.ia5), arg);
        }
    }
    return rc;
}

int
cv_crl_dp_each(X509 *x, int (*fn)(const char *uri, size_t len, void *arg),
    void *arg, int *has_dpp)
{
    STACK_OF(DIST_POINT) *dps;
    int rc;

    if (has_dpp != NULL)
        *has_dpp = 0;
    dps = X509_get_ext_d2i(x, NID_crl_distribution_points, NULL, NULL);
    if (dps == NULL) {
        ERR_clear_error();
        return 0;
    }
    if (has_dpp != NULL)
        *has_dpp = sk_DIST_POINT_num(dps) > 0;
    rc = cv_dps_each(dps, fn, arg);
    sk_DIST_POINT_pop_free(dps, DIST_POINT_free);
    return rc;
}
