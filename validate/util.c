/*
 * util.c - small helpers: OpenSSL error text, PEM detection, names, time.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/x509.h>

#include "cv.h"
#include "cv_int.h"

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
    const X509_NAME *nm = X509_get_subject_name(x);

    buf[0] = '\0';
    if (X509_NAME_get_text_by_NID((X509_NAME *)nm, NID_commonName, buf,
        (int)len) <= 0)
        cv_name_text(nm, buf, len);
    else {
        char cn[256];

        snprintf(cn, sizeof(cn), "%s", buf);
        snprintf(buf, len, "CN=%s", cn);
    }
}

time_t
cv_asn1_time(const ASN1_TIME *t)
{
    struct tm tm;

    if (t == NULL || !ASN1_TIME_to_tm(t, &tm))
        return 0;
    return timegm(&tm);
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
    size_t i;
    char c;

    if (name == NULL || len < 1 || len > 64)
        return 0;
    for (i = 0; i < len; i++) {
        c = name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
            (c >= '0' && c <= '9') || c == ' ' || c == '.' || c == '_' ||
            c == '-'))
            return 0;
    }
    return 1;
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
