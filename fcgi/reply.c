/*
 * reply.c - the JSON form of the engine's answers.  Messages come only from
 * cv_code_message(): validate/cv_codes.def is the one table.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "reply.h"

static json_t *
str_or_null(const char *s)
{
    return s != NULL ? json_string(s) : json_null();
}

static json_t *
finding(enum cv_code code, const char *field, const char *detail)
{
    json_t *j = json_object();

    if (j == NULL)
        return NULL;
    if (json_object_set_new(j, "code", json_string(cv_code_name(code))) ||
        json_object_set_new(j, "message",
        json_string(cv_code_message(code))) ||
        json_object_set_new(j, "field", str_or_null(field)) ||
        json_object_set_new(j, "detail", str_or_null(detail))) {
        json_decref(j);
        return NULL;
    }
    return j;
}

json_t *
cd_reply_finding(const struct cv_finding *f)
{
    return f != NULL ? finding(f->code, f->field, f->detail) : NULL;
}

static json_t *
list(const char (*items)[256], size_t n)
{
    json_t *a = json_array();
    size_t i;

    for (i = 0; a != NULL && i < n; i++)
        json_array_append_new(a, json_string(items[i]));
    return a;
}

json_t *
cd_reply_summary(const struct cv_summary *s)
{
    char nb[32], na[32];

    if (s == NULL || !s->valid)
        return NULL;
    cv_time_iso(s->not_before, nb, sizeof(nb));
    cv_time_iso(s->not_after, na, sizeof(na));
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:s, s:i, s:s, "
        "s:s, s:b, s:o, s:o}",
        "subject", s->subject, "subject_cn", s->subject_cn,
        "issuer", s->issuer, "serial", s->serial,
        "not_before", nb, "not_after", na,
        "days_left", (json_int_t)s->days_left,
        "key_type", s->key_type, "key_bits", s->key_bits,
        "signature_algorithm", s->signature_algorithm,
        "sha256_fingerprint", s->sha256, "self_signed", s->self_signed,
        "san", list(s->san, s->n_san),
        "crl_distribution_points", list(s->crl_dp, s->n_crl_dp));
}

json_t *
cd_reply_report(const struct cv_report *rep)
{
    json_t *j = NULL, *errs = NULL, *warns = NULL, *cert = NULL, *f;
    size_t i;

    if (rep == NULL)
        return NULL;
    if ((errs = json_array()) == NULL || (warns = json_array()) == NULL)
        goto fail;
    for (i = 0; i < rep->n_findings; i++) {
        if ((f = cd_reply_finding(&rep->findings[i])) == NULL ||
            json_array_append_new(rep->findings[i].blocking ? errs : warns,
            f) != 0)
            goto fail;
    }
    cert = cd_reply_summary(&rep->summary);
    if (rep->summary.valid && cert == NULL)
        goto fail;
    j = json_pack("{s:b, s:o, s:o, s:o}", "ok", cv_report_ok(rep),
        "certificate", cert != NULL ? cert : json_null(),
        "errors", errs, "warnings", warns);
    return j;
fail:
    json_decref(errs);
    json_decref(warns);
    json_decref(cert);
    return NULL;
}

json_t *
cd_reply_error(enum cv_code code, const char *field, const char *detail)
{
    json_t *f = finding(code, field, detail);

    if (f == NULL)
        return NULL;
    return json_pack("{s:b, s:[o], s:[]}", "ok", 0, "errors", f, "warnings");
}

char *
cd_reply_dumps(const json_t *j)
{
    char *s, *t;
    size_t n;

    if (j == NULL ||
        (s = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER)) == NULL)
        return NULL;
    n = strlen(s);
    if ((t = realloc(s, n + 2)) == NULL) {
        free(s);
        return NULL;
    }
    t[n] = '\n';
    t[n + 1] = '\0';
    return t;
}
