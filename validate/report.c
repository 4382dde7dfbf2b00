/*
 * report.c - the ordered list of findings of one upload.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "cv.h"
#include "cv_int.h"

struct cv_report *
cv_report_new(void)
{
    return calloc(1, sizeof(struct cv_report));
}

/* 1 when two findings' fields are the same (both may be NULL). */
static int
same_field(const char *a, const char *b)
{
    if (a == NULL || b == NULL)
        return a == b;
    return strcmp(a, b) == 0;
}

/*
 * Adds a finding; a code already present on the same field is not added
 * twice (its detail is appended instead, so "expired" on the chain names
 * every expired CA certificate once), while the same code on another field
 * is a finding of its own: each field the dialog marks has its own.
 * Out of memory drops the detail, never the finding's code when it fits.
 */
void
cv_report_add(struct cv_report *rep, enum cv_code code, const char *field,
    const char *fmt, ...)
{
    struct cv_finding *f;
    char buf[CV_DETAIL_MAX];
    va_list ap;
    size_t i;

    if (rep == NULL)
        return;
    buf[0] = '\0';
    if (fmt != NULL) {
        va_start(ap, fmt);
        vsnprintf(buf, sizeof(buf), fmt, ap);
        va_end(ap);
    }
    for (i = 0; i < rep->n_findings; i++) {
        f = &rep->findings[i];
        if (f->code != code || !same_field(f->field, field))
            continue;
        if (buf[0] != '\0' && (f->detail == NULL ||
            strstr(f->detail, buf) == NULL)) {
            size_t ol = f->detail ? strlen(f->detail) : 0;
            size_t nl = strlen(buf);
            char *d;

            if (ol + nl + 3 > CV_DETAIL_MAX)
                return;
            if ((d = realloc(f->detail, ol + nl + 3)) == NULL)
                return;
            if (ol == 0)
                memcpy(d, buf, nl + 1);
            else {
                memcpy(d + ol, "; ", 2);
                memcpy(d + ol + 2, buf, nl + 1);
            }
            f->detail = d;
        }
        return;
    }
    if (rep->n_findings == rep->cap) {
        size_t ncap = rep->cap ? rep->cap * 2 : 8;
        struct cv_finding *nf;

        if (ncap > CV_MAX_FINDINGS ||
            (nf = realloc(rep->findings, ncap * sizeof(*nf))) == NULL)
            return;
        rep->findings = nf;
        rep->cap = ncap;
    }
    f = &rep->findings[rep->n_findings++];
    f->code = code;
    f->blocking = cv_code_kind(code) != CV_WARNING;
    f->field = field;
    f->detail = buf[0] != '\0' ? strdup(buf) : NULL;
}

/* validation=none: everything that is not CV_HARD stops blocking. */
void
cv_report_relax(struct cv_report *rep)
{
    size_t i;

    for (i = 0; i < rep->n_findings; i++)
        if (cv_code_kind(rep->findings[i].code) != CV_HARD)
            rep->findings[i].blocking = 0;
}

int
cv_report_ok(const struct cv_report *rep)
{
    size_t i;

    if (rep == NULL)
        return 0;
    for (i = 0; i < rep->n_findings; i++)
        if (rep->findings[i].blocking)
            return 0;
    return 1;
}

int
cv_report_has(const struct cv_report *rep, enum cv_code code)
{
    size_t i;

    if (rep == NULL)
        return 0;
    for (i = 0; i < rep->n_findings; i++)
        if (rep->findings[i].code == code)
            return 1;
    return 0;
}

void
cv_report_free(struct cv_report *rep)
{
    size_t i;

    if (rep == NULL)
        return;
    for (i = 0; i < rep->n_findings; i++)
        free(rep->findings[i].detail);
    free(rep->findings);
    EVP_PKEY_free(rep->key);
    X509_free(rep->leaf);
    sk_X509_pop_free(rep->path, X509_free);
    free(rep);
}
