/*
 * metrics.c - the Prometheus text exposition format (version 0.0.4) of
 * the expiry check, written whole for node_exporter's textfile collector.
 */
#include "config.h"

#include "metrics.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "files.h"

/* A growing string; failed once any step failed. */
struct out {
    char *p;
    size_t len, cap;
    int failed;
};

static void
put(struct out *o, const char *fmt, ...)
{
    va_list ap;
    size_t need;
    char *n;
    int w;

    if (o->failed)
        return;
    va_start(ap, fmt);
    w = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (w < 0) {
        o->failed = 1;
        return;
    }
    need = o->len + (size_t)w + 1;
    if (need > o->cap) {
        if ((n = realloc(o->p, need * 2)) == NULL) {
            o->failed = 1;
            return;
        }
        o->p = n;
        o->cap = need * 2;
    }
    va_start(ap, fmt);
    vsnprintf(o->p + o->len, o->cap - o->len, fmt, ap);
    va_end(ap);
    o->len += (size_t)w;
}

/* A label value: backslash, double quote and line feed escaped. */
static void
put_label(struct out *o, const char *v)
{
    for (; *v != '\0'; v++) {
        if (*v == '\\')
            put(o, "\\\\");
        else if (*v == '"')
            put(o, "\\\"");
        else if (*v == '\n')
            put(o, "\\n");
        else
            put(o, "%c", *v);
    }
}

static void
put_head(struct out *o, const char *name, const char *help)
{
    put(o, "# HELP %s %s\n# TYPE %s gauge\n", name, help, name);
}

static void
put_cert_metric(struct out *o, const struct cd_expiry_cert *c,
    const char *name, long long v)
{
    put(o, "%s{fingerprint=\"", name);
    put_label(o, c->fingerprint);
    put(o, "\",subject=\"");
    put_label(o, c->subject);
    put(o, "\"} %lld\n", v);
}

char *
cd_metrics_text(const struct cd_expiry_cert *c, time_t now, int success)
{
    struct out o = { NULL, 0, 0, 0 };

    if (c != NULL) {
        put_head(&o, "certdialog_certificate_not_after_seconds",
            "End of validity of the served chain (its earliest notAfter), "
            "Unix time.");
        put_cert_metric(&o, c, "certdialog_certificate_not_after_seconds",
            (long long)c->not_after);
        put_head(&o, "certdialog_certificate_days_left",
            "Whole days until the served chain expires (negative: expired).");
        put_cert_metric(&o, c, "certdialog_certificate_days_left",
            (long long)c->days_left);
    }
    put_head(&o, "certdialog_expiry_check_timestamp_seconds",
        "When certdialog-expiry last ran, Unix time.");
    put(&o, "certdialog_expiry_check_timestamp_seconds %lld\n",
        (long long)now);
    put_head(&o, "certdialog_expiry_check_success",
        "1 when the last check read the served chain and delivered every "
        "notification due.");
    put(&o, "certdialog_expiry_check_success %d\n", success ? 1 : 0);
    if (o.failed) {
        free(o.p);
        return NULL;
    }
    return o.p;
}

int
cd_metrics_write(const char *path, const char *text, char *err,
    size_t errlen)
{
    return cd_file_replace(path, text, strlen(text), 0644, err, errlen);
}
