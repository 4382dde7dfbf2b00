/*
 * expiry.c - the decisions of certdialog-expiry (expiry.h): thresholds,
 * what was already sent, priorities, the journal line and the webhook's
 * JSON.  No I/O here.
 */
#include "config.h"

#include "expiry.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>

#include <jansson.h>

#include "cv_util.h"

/* The names a certificate is valid for, in the order the API lists them. */
static void
names_of(struct cd_expiry_cert *c, const struct cv_summary *s)
{
    const char *v[CV_MAX_NAMES];
    size_t i, n = cv_summary_names(s, v);

    for (c->n_names = 0, i = 0; i < n &&
        c->n_names < sizeof(c->names) / sizeof(c->names[0]); i++)
        snprintf(c->names[c->n_names++], sizeof(c->names[0]), "%s", v[i]);
}

int
cd_expiry_cert_from(struct cd_expiry_cert *c, const struct cv_summary *sums,
    size_t n)
{
    size_t i, first = 0;

    memset(c, 0, sizeof(*c));
    if (n == 0 || !sums[0].valid)
        return -1;
    for (i = 1; i < n; i++)
        if (sums[i].valid && sums[i].not_after < sums[first].not_after)
            first = i;
    snprintf(c->fingerprint, sizeof(c->fingerprint), "%s", sums[0].sha256);
    snprintf(c->subject, sizeof(c->subject), "%s", sums[0].subject);
    names_of(c, &sums[0]);
    c->not_after = sums[first].not_after;
    c->days_left = sums[first].days_left;
    snprintf(c->earliest, sizeof(c->earliest), "%s", sums[first].subject);
    c->earliest_is_leaf = first == 0;
    c->n_certs = n;
    return 0;
}

int
cd_expiry_crossed(const int *th, size_t n, long days_left)
{
    int t = -1;
    size_t i;

    for (i = 0; i < n; i++)
        if (days_left <= th[i] && (t < 0 || th[i] < t))
            t = th[i];
    return t;
}

int
cd_expiry_next(const int *th, size_t n, long days_left)
{
    int t = -1;
    size_t i;

    for (i = 0; i < n; i++)
        if (th[i] < days_left && th[i] > t)
            t = th[i];
    return t;
}

time_t
cd_expiry_reached(time_t not_after, int t)
{
    /* days left = (not_after - now) / 86400, rounded down (libcv) */
    return not_after - ((time_t)t + 1) * 86400 + 1;
}

int
cd_expiry_was_sent(const struct cd_expiry_sent *sent, int t)
{
    size_t i;

    for (i = 0; i < sent->n; i++)
        if (sent->days[i] == t)
            return 1;
    return 0;
}

void
cd_expiry_mark_sent(struct cd_expiry_sent *sent, const int *th, size_t n,
    int t)
{
    size_t i;

    for (i = 0; i < n; i++)
        if (th[i] >= t && !cd_expiry_was_sent(sent, th[i]) &&
            sent->n < CD_MAX_THRESHOLDS)
            sent->days[sent->n++] = th[i];
}

int
cd_expiry_priority(int t, long days_left)
{
    if (t <= 0 || days_left < 0)
        return LOG_CRIT;
    if (t == 1)
        return LOG_ERR;
    if (t <= 7)
        return LOG_WARNING;
    return LOG_NOTICE;
}

void
cd_expiry_log_line(char *buf, size_t len, const struct cd_expiry_cert *c,
    int t, int test)
{
    const char *name = c->n_names > 0 ? c->names[0] : c->subject;
    char when[32], which[1280];

    cv_time_iso(c->not_after, when, sizeof(when));
    /* the chain may end before the leaf: say which certificate it is */
    if (c->earliest_is_leaf)
        snprintf(which, sizeof(which), "the certificate for %s", name);
    else
        snprintf(which, sizeof(which), "the chain of the certificate for %s "
            "(%s)", name, c->earliest);
    if (test)
        snprintf(buf, len, "<%d>certdialog-expiry: test notification: %s "
            "(SHA-256 %s) expires on %s, %ld days left\n", LOG_NOTICE, which,
            c->fingerprint, when, c->days_left);
    else if (c->days_left < 0)
        snprintf(buf, len, "<%d>certdialog-expiry: %s (SHA-256 %s) expired "
            "on %s, %ld days ago (threshold %d days)\n",
            cd_expiry_priority(t, c->days_left), which, c->fingerprint, when,
            -c->days_left, t);
    else
        snprintf(buf, len, "<%d>certdialog-expiry: %s (SHA-256 %s) expires "
            "on %s, %ld days left (threshold %d days)\n",
            cd_expiry_priority(t, c->days_left), which, c->fingerprint, when,
            c->days_left, t);
}

char *
cd_expiry_payload(const struct cd_expiry_cert *c, const char *appliance,
    int t, int test)
{
    json_t *o = NULL, *names = NULL;
    char when[32], *out = NULL;
    size_t i;

    cv_time_iso(c->not_after, when, sizeof(when));
    if ((names = json_array()) == NULL)
        goto out;
    for (i = 0; i < c->n_names; i++)
        if (json_array_append_new(names, json_string(c->names[i])) != 0)
            goto out;
    o = json_pack("{s:s, s:s, s:O, s:s, s:I, s:s, s:o, s:s, s:b}",
        "appliance", appliance,
        "subject", c->subject,
        "names", names,
        "not_after", when,
        "days_left", (json_int_t)c->days_left,
        "fingerprint", c->fingerprint,
        "threshold", test ? json_null() : json_integer(t),
        "earliest", c->earliest,
        "test", test != 0);
    if (o != NULL)
        out = json_dumps(o, JSON_COMPACT);
out:
    json_decref(names);
    json_decref(o);
    return out;
}
