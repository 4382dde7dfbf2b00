/*
 * cvjson.c - the JSON form of the engine's answers.  Messages come only
 * from the callers' tables: cv_code_message() (validate/cv_codes.def) for
 * findings, the service's own table for its errors.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cvjson.h"

/* Room for "9999-12-31T23:59:59Z" and then some. */
#define ISO_LEN 32

/*
 * Length of the well-formed UTF-8 sequence at p (at most n bytes), or 0:
 * no overlong forms, no surrogates, nothing past U+10FFFF (RFC 3629, as
 * strict as jansson's own check, so json_string() takes what passes).
 */
static size_t
utf8_seq(const unsigned char *p, size_t n)
{
    unsigned char lo = 0x80, hi = 0xbf;
    size_t len, i;

    if (p[0] < 0x80)
        return 1;
    if (p[0] >= 0xc2 && p[0] <= 0xdf)
        len = 2;
    else if (p[0] >= 0xe0 && p[0] <= 0xef) {
        len = 3;
        if (p[0] == 0xe0)
            lo = 0xa0;          /* overlong */
        else if (p[0] == 0xed)
            hi = 0x9f;          /* surrogates */
    } else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
        len = 4;
        if (p[0] == 0xf0)
            lo = 0x90;          /* overlong */
        else if (p[0] == 0xf4)
            hi = 0x8f;          /* past U+10FFFF */
    } else
        return 0;
    if (n < len || p[1] < lo || p[1] > hi)
        return 0;
    for (i = 2; i < len; i++)
        if (p[i] < 0x80 || p[i] > 0xbf)
            return 0;
    return len;
}

/*
 * A JSON string of the first len bytes of s (stopping at a NUL), each byte
 * that is not part of well-formed UTF-8 replaced by U+FFFD; json null when
 * s is NULL.  New reference or NULL.
 */
static json_t *
textn(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    char *buf = NULL;
    json_t *ret = NULL;
    size_t i, k, o = 0;

    if (s == NULL)
        return json_null();
    len = strnlen(s, len);
    for (i = 0; i < len; i += k)
        if ((k = utf8_seq(p + i, len - i)) == 0)
            break;
    if (i == len) {
        ret = json_stringn(s, len);
        goto out;
    }
    if (len > (SIZE_MAX - 1) / 3 || (buf = malloc(len * 3 + 1)) == NULL)
        goto out;
    for (i = 0; i < len; i += k) {
        if ((k = utf8_seq(p + i, len - i)) == 0) {
            memcpy(buf + o, "\xef\xbf\xbd", 3);
            o += 3;
            k = 1;
        } else {
            memcpy(buf + o, p + i, k);
            o += k;
        }
    }
    ret = json_stringn(buf, o);
out:
    free(buf);
    return ret;
}

static json_t *
text(const char *s)
{
    return textn(s, s != NULL ? strlen(s) : 0);
}

/* Adds value under key, taking the reference; -1 when value is NULL. */
static int
put(json_t *obj, const char *key, json_t *value)
{
    return json_object_set_new(obj, key, value) == 0 ? 0 : -1;
}

static json_t *
finding_text(const char *code, const char *message, const char *field,
    const char *detail)
{
    json_t *j = NULL, *ret = NULL;

    if ((j = json_object()) == NULL ||
        put(j, "code", text(code)) != 0 ||
        put(j, "message", text(message)) != 0 ||
        put(j, "field", text(field)) != 0 ||
        put(j, "detail", text(detail)) != 0)
        goto out;
    ret = j;
    j = NULL;
out:
    json_decref(j);
    return ret;
}

/*
 * One finding as {"code", "message", "field", "detail"}.
 * Caller releases with json_decref().
 */
json_t *
cvjson_finding(const struct cv_finding *f)
{
    if (f == NULL)
        return NULL;
    return finding_text(cv_code_name(f->code), cv_code_message(f->code),
        f->field, f->detail);
}

/* An array of the first n strings of a summary list (at most CV_MAX_LIST). */
static json_t *
list(const char (*items)[256], size_t n)
{
    json_t *a = NULL, *ret = NULL;
    size_t i;

    if (n > CV_MAX_LIST)
        n = CV_MAX_LIST;
    if ((a = json_array()) == NULL)
        goto out;
    for (i = 0; i < n; i++)
        if (json_array_append_new(a, textn(items[i], sizeof(items[i]))) != 0)
            goto out;
    ret = a;
    a = NULL;
out:
    json_decref(a);
    return ret;
}

/* A fixed-size char array of the summary, NUL or not. */
#define FIELD(s, m) textn((s)->m, sizeof((s)->m))

/*
 * The certificate summary, times in ISO 8601 UTC; NULL when there is none.
 * Caller releases with json_decref().
 */
json_t *
cvjson_summary(const struct cv_summary *s)
{
    json_t *j = NULL, *ret = NULL;
    char nb[ISO_LEN], na[ISO_LEN];

    if (s == NULL || !s->valid)
        return NULL;
    cv_time_iso(s->not_before, nb, sizeof(nb));
    cv_time_iso(s->not_after, na, sizeof(na));
    if ((j = json_object()) == NULL ||
        put(j, "subject", FIELD(s, subject)) != 0 ||
        put(j, "subject_cn", FIELD(s, subject_cn)) != 0 ||
        put(j, "issuer", FIELD(s, issuer)) != 0 ||
        put(j, "serial", FIELD(s, serial)) != 0 ||
        put(j, "not_before", textn(nb, sizeof(nb))) != 0 ||
        put(j, "not_after", textn(na, sizeof(na))) != 0 ||
        put(j, "days_left", json_integer((json_int_t)s->days_left)) != 0 ||
        put(j, "key_type", FIELD(s, key_type)) != 0 ||
        put(j, "key_bits", json_integer(s->key_bits)) != 0 ||
        put(j, "signature_algorithm", FIELD(s, signature_algorithm)) != 0 ||
        put(j, "sha256_fingerprint", FIELD(s, sha256)) != 0 ||
        put(j, "self_signed", json_boolean(s->self_signed)) != 0 ||
        put(j, "san", list(s->san, s->n_san)) != 0 ||
        put(j, "crl_distribution_points",
        list(s->crl_dp, s->n_crl_dp)) != 0)
        goto out;
    ret = j;
    j = NULL;
out:
    json_decref(j);
    return ret;
}

/*
 * {"ok", "certificate", "errors", "warnings"} of a report.
 * Caller releases with json_decref().
 */
/*
 * {"ok", KEY, "errors", "warnings"} of a report, KEY holding cert (taken;
 * NULL: out of memory).
 */
static json_t *
report_with(const struct cv_report *rep, const char *key, json_t *cert)
{
    json_t *j = NULL, *ret = NULL, *errs = NULL, *warns = NULL;
    json_t *f = NULL;
    size_t i, n;

    if (cert == NULL)
        return NULL;
    n = rep->findings != NULL ? rep->n_findings : 0;
    if ((errs = json_array()) == NULL || (warns = json_array()) == NULL)
        goto out;
    for (i = 0; i < n; i++) {
        if ((f = cvjson_finding(&rep->findings[i])) == NULL ||
            json_array_append_new(rep->findings[i].blocking ? errs : warns,
            f) != 0)
            goto out;
    }
    if ((j = json_object()) == NULL ||
        put(j, "ok", json_boolean(cv_report_ok(rep))) != 0)
        goto out;
    /* put() takes each reference, whatever happens */
    if (put(j, key, cert) != 0) {
        cert = NULL;
        goto out;
    }
    cert = NULL;
    if (put(j, "errors", errs) != 0) {
        errs = NULL;
        goto out;
    }
    errs = NULL;
    if (put(j, "warnings", warns) != 0) {
        warns = NULL;
        goto out;
    }
    warns = NULL;
    ret = j;
    j = NULL;
out:
    json_decref(j);
    json_decref(cert);
    json_decref(errs);
    json_decref(warns);
    return ret;
}

json_t *
cvjson_time(time_t t)
{
    char buf[ISO_LEN];

    if (t == 0)
        return json_null();
    cv_time_iso(t, buf, sizeof(buf));
    return json_string(buf);
}

json_t *
cvjson_report(const struct cv_report *rep)
{
    if (rep == NULL)
        return NULL;
    return report_with(rep, "certificate", rep->summary.valid ?
        cvjson_summary(&rep->summary) : json_null());
}

json_t *
cvjson_csr_summary(const struct cv_csr_summary *s)
{
    json_t *j = NULL, *ret = NULL;

    if (s == NULL || !s->valid)
        return NULL;
    if ((j = json_object()) == NULL ||
        put(j, "subject", FIELD(s, subject)) != 0 ||
        put(j, "cn", FIELD(s, cn)) != 0 ||
        put(j, "o", FIELD(s, o)) != 0 ||
        put(j, "ou", FIELD(s, ou)) != 0 ||
        put(j, "c", FIELD(s, c)) != 0 ||
        put(j, "st", FIELD(s, st)) != 0 ||
        put(j, "l", FIELD(s, l)) != 0 ||
        put(j, "san", list(s->san, s->n_san)) != 0 ||
        put(j, "key_type", FIELD(s, key_type)) != 0 ||
        put(j, "key_bits", json_integer(s->key_bits)) != 0 ||
        put(j, "key_sha256", FIELD(s, key_sha256)) != 0 ||
        put(j, "signature_algorithm", FIELD(s, signature_algorithm)) != 0)
        goto out;
    ret = j;
    j = NULL;
out:
    json_decref(j);
    return ret;
}

json_t *
cvjson_csr_report(const struct cv_report *rep, const struct cv_csr_summary *s)
{
    if (rep == NULL || s == NULL)
        return NULL;
    return report_with(rep, "csr", s->valid ? cvjson_csr_summary(s) :
        json_null());
}

/*
 * {"ok": false, "errors": [one finding], "warnings": []}.
 * Caller releases with json_decref().
 */
json_t *
cvjson_error(const char *code, const char *message, const char *field,
    const char *detail)
{
    json_t *j = NULL, *ret = NULL, *errs = NULL;

    if ((j = json_object()) == NULL ||
        put(j, "ok", json_false()) != 0 ||
        (errs = json_array()) == NULL ||
        json_array_append_new(errs, finding_text(code, message, field,
        detail)) != 0)
        goto out;
    if (put(j, "errors", errs) != 0) {
        errs = NULL;
        goto out;
    }
    errs = NULL;
    if (put(j, "warnings", json_array()) != 0)
        goto out;
    ret = j;
    j = NULL;
out:
    json_decref(j);
    json_decref(errs);
    return ret;
}

/*
 * Indented text of j with a final newline.  Caller frees with free().
 */
char *
cvjson_dumps(const json_t *j)
{
    char *s = NULL, *t = NULL, *ret = NULL;
    size_t n;

    if (j == NULL ||
        (s = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER)) == NULL)
        goto out;
    n = strlen(s);
    if ((t = realloc(s, n + 2)) == NULL)
        goto out;
    s = NULL;
    t[n] = '\n';
    t[n + 1] = '\0';
    ret = t;
out:
    free(s);
    return ret;
}
