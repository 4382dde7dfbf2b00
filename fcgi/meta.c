/*
 * meta.c - a release's meta.json (meta.h): written once with the
 * release, read back for the history and the rollback.
 */
#include "config.h"

#include "meta.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/err.h>
#include <openssl/x509.h>

#include "cv.h"
#include "cv_util.h"

#define ISO_FMT         "%Y-%m-%dT%H:%M:%SZ"
#define ID_TIME_FMT     "%Y%m%dT%H%M%SZ-"       /* release.c's make_id() */

/* s as fmt, 0 when it isn't; a prefix may have more after the time. */
static time_t
parse_time(const char *s, const char *fmt, int prefix)
{
    struct tm tm;
    const char *end;

    memset(&tm, 0, sizeof(tm));
    if (s == NULL || (end = strptime(s, fmt, &tm)) == NULL ||
        (!prefix && *end != '\0'))
        return 0;
    return timegm(&tm);
}

/* libcv's summary of the leaf: its fingerprint, CN and end of validity. */
static int
summarize(X509 *leaf, time_t now, struct cv_summary *sum)
{
    unsigned char *der = NULL;
    int n, rc;

    memset(sum, 0, sizeof(*sum));
    if ((n = i2d_X509(leaf, &der)) <= 0) {
        ERR_clear_error();
        return -1;
    }
    rc = cv_cert_summary(der, (size_t)n, now, sum);
    OPENSSL_free(der);
    ERR_clear_error();
    return rc;
}

char *
cd_meta_encode(const struct cd_install_files *f, const char *id, time_t now,
    long long seq)
{
    struct cv_summary sum;
    char when[32], until[32];
    json_t *m;
    char *out;

    cv_time_iso(now, when, sizeof(when));
    if (summarize(f->leaf, now, &sum) != 0 || sum.not_after == 0)
        snprintf(until, sizeof(until), "unknown");
    else
        cv_time_iso(sum.not_after, until, sizeof(until));
    m = json_pack("{s:s, s:s, s:s, s:s, s:b, s:s, s:I, s:s, s:s, s:s}",
        "id", id,
        "name", f->name != NULL ? f->name : "",
        "mode", f->mode != NULL ? f->mode : "ca-signed",
        "validation", f->validation != NULL ? f->validation : "mandatory",
        "use_crl", f->use_crl != 0,
        "installed_at", when,
        "seq", (json_int_t)seq,
        "sha256", sum.sha256,
        "subject_cn", sum.subject_cn,
        "not_after", until);
    if (m == NULL)
        return NULL;
    out = json_dumps(m, JSON_INDENT(2));
    json_decref(m);
    return out;
}

/* A string member of m into buf; buf untouched when there is none. */
static void
get_str(json_t *m, const char *key, char *buf, size_t len)
{
    json_t *v = json_object_get(m, key);

    if (json_is_string(v))
        snprintf(buf, len, "%s", json_string_value(v));
}

int
cd_meta_read(const char *path, const char *id, struct cd_release *info,
    long long *seq)
{
    json_t *m = NULL, *v;
    size_t len = 0;
    char *buf;
    int rc = -1;

    *seq = 0;
    info->installed_at = parse_time(id, ID_TIME_FMT, 1);
    if ((buf = cv_read_file(path, CD_META_MAX, CV_READ_REGULAR, &len)) ==
        NULL)
        return -1;
    if ((m = json_loadb(buf, len, 0, NULL)) == NULL || !json_is_object(m))
        goto out;
    get_str(m, "name", info->name, sizeof(info->name));
    get_str(m, "mode", info->mode, sizeof(info->mode));
    get_str(m, "validation", info->validation, sizeof(info->validation));
    info->use_crl = json_is_true(json_object_get(m, "use_crl"));
    if (json_is_string(v = json_object_get(m, "installed_at")))
        info->installed_at = parse_time(json_string_value(v), ISO_FMT, 0);
    if (json_is_integer(v = json_object_get(m, "seq")) &&
        json_integer_value(v) > 0)
        *seq = json_integer_value(v);
    rc = 0;
out:
    json_decref(m);
    free(buf);
    return rc;
}
