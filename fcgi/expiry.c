/*
 * expiry.c - GET /api/expiry and POST /api/expiry/test: the dialog's view
 * of the warnings before expiry that certdialog-expiry(8) sends (notify/):
 * the served chain's end, the thresholds, the last check and what was
 * told, the channels, and a test notification sent through each of them
 * now.  The decisions, the state file and the sending are notify/'s.
 */
#include "config.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "chain.h"
#include "cv_util.h"
#include "cvjson.h"
#include "expiry.h"
#include "handlers.h"
#include "send.h"
#include "state.h"
#include "webhook.h"

/*
 * A test's webhook gets at most this many seconds ("expiry_webhook_timeout"
 * when smaller): the answer must come before nginx's fastcgi_read_timeout
 * (60 s) ends the request.
 */
#define TEST_MAX_SECONDS        45

static json_t *
int_or_null(long v)
{
    return v >= 0 ? json_integer(v) : json_null();
}

static json_t *
str_or_null(const char *s)
{
    return s != NULL && s[0] != '\0' ? json_string(s) : json_null();
}

static json_t *
days_json(const int *days, size_t n)
{
    json_t *a = json_array();
    size_t i;

    for (i = 0; a != NULL && i < n; i++)
        json_array_append_new(a, json_integer(days[i]));
    return a;
}

/*
 * The channels and where they lead: the journal always; the webhook's
 * host and port only (its user, path and query may hold the receiver's
 * token); the metrics file.  New reference, NULL when out of memory.
 */
static json_t *
channels_json(const struct cd_settings *s)
{
    json_t *o = json_object(), *w;
    char host[256];
    int port = 0;

    if (o == NULL)
        return NULL;
    json_object_set_new(o, "journal", json_pack("{s:b}", "configured", 1));
    if (s->expiry_webhook != NULL &&
        cd_webhook_host(s->expiry_webhook, host, sizeof(host), &port) == 0)
        w = json_pack("{s:b, s:s, s:i}", "configured", 1, "host", host,
            "port", port);
    else
        w = json_pack("{s:b, s:n, s:n}", "configured", 0, "host", "port");
    json_object_set_new(o, "webhook", w);
    json_object_set_new(o, "metrics", json_pack("{s:b, s:o}", "configured",
        s->expiry_metrics_file != NULL, "file",
        str_or_null(s->expiry_metrics_file)));
    if (json_object_size(o) != 3) {
        json_decref(o);
        return NULL;
    }
    return o;
}

/* The served chain's end as the check sees it, or null. */
static json_t *
cert_json(const struct cd_expiry_cert *c)
{
    char until[32];

    cv_time_iso(c->not_after, until, sizeof(until));
    return json_pack("{s:s, s:s, s:s, s:I, s:s, s:b}",
        "subject", c->subject,
        "fingerprint", c->fingerprint,
        "not_after", until,
        "days_left", (json_int_t)c->days_left,
        "earliest", c->earliest,
        "earliest_is_leaf", c->earliest_is_leaf != 0);
}

/* {threshold, date, in_days} of the next warning, or null. */
static json_t *
next_json(const struct cd_settings *s, const struct cd_expiry_cert *c)
{
    int t = cd_expiry_next(s->expiry_thresholds, s->n_expiry_thresholds,
        c->days_left);
    char when[32];

    if (t < 0)
        return json_null();
    cv_time_iso(cd_expiry_reached(c->not_after, t), when, sizeof(when));
    return json_pack("{s:i, s:s, s:I}", "threshold", t, "date", when,
        "in_days", (json_int_t)(c->days_left - t));
}

/* The last check of the state file, or null before the first. */
static json_t *
last_check_json(const struct cd_expiry_record *rec)
{
    if (rec->last_check == 0)
        return json_null();
    return json_pack("{s:o, s:b, s:o, s:o}",
        "at", cvjson_time(rec->last_check),
        "success", rec->success != 0,
        "days_left", rec->not_after != 0 ? json_integer(rec->days_left) :
            json_null(),
        "detail", str_or_null(rec->detail));
}

void
cd_expiry_get(struct cd_app *app, const struct cd_request *rq,
    struct cd_response *resp)
{
    const struct cd_settings *s = app->settings;
    struct cd_expiry_record rec;
    struct cd_expiry_cert cert;
    char id[CD_RELEASE_ID_LEN + 1], detail[512], serr[512];
    char path[PATH_MAX];
    json_t *b, *notified;
    time_t now = time(NULL);
    int have, crossed = -1, state_ok;

    (void)rq;
    detail[0] = serr[0] = '\0';
    have = cd_chain_read(s->state_dir, now, &cert, id, detail,
        sizeof(detail)) == 0;
    if (cd_expiry_state_path(s, path, sizeof(path)) != 0) {
        cd_expiry_record_init(&rec);
        snprintf(serr, sizeof(serr), "the state file's path is too long");
        state_ok = 0;
    } else
        state_ok = cd_expiry_state_read(path, &rec, serr, sizeof(serr)) == 0;
    if (have) {
        /* what was told about another certificate does not count */
        cd_expiry_record_for(&rec, cert.fingerprint);
        crossed = cd_expiry_crossed(s->expiry_thresholds,
            s->n_expiry_thresholds, cert.days_left);
    }
    notified = json_pack("{s:o, s:o}",
        "journal", days_json(rec.journal.days, rec.journal.n),
        "webhook", days_json(rec.webhook.days, rec.webhook.n));
    b = json_pack("{s:b, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, "
        "s:o}",
        "ok", have,
        "certificate", have ? cert_json(&cert) : json_null(),
        "detail", have ? json_null() : str_or_null(detail),
        "thresholds", days_json(s->expiry_thresholds,
            s->n_expiry_thresholds),
        "crossed", int_or_null(crossed),
        "next", have ? next_json(s, &cert) : json_null(),
        "last_check", last_check_json(&rec),
        "state_detail", state_ok ? json_null() : str_or_null(serr),
        "notified", notified,
        "channels", channels_json(s),
        "now", cvjson_time(now));
    if (b == NULL) {
        cd_api_fail(resp, CD_ERR_UNAVAILABLE, NULL, "out of memory");
        return;
    }
    resp->status = 200;
    resp->body = b;
    if (have)
        snprintf(resp->sha256, sizeof(resp->sha256), "%s", cert.fingerprint);
}

/* What each channel did in a test: {journal, webhook, metrics}. */
static json_t *
test_channels_json(const struct cd_settings *s,
    const struct cd_send_result *r)
{
    json_t *o = channels_json(s), *j, *w, *m;

    if (o == NULL)
        return NULL;
    j = json_object_get(o, "journal");
    w = json_object_get(o, "webhook");
    m = json_object_get(o, "metrics");
    json_object_set_new(j, "ok", json_boolean(r->journal_ok));
    json_object_set_new(j, "detail", json_string(r->journal_ok ?
        r->journal_line : r->journal_err));
    if (r->webhook_configured) {
        json_object_set_new(w, "ok", json_boolean(r->webhook_ok));
        json_object_set_new(w, "attempts", json_integer(r->webhook_tries));
        json_object_set_new(w, "detail", r->webhook_ok ?
            json_string("delivered") : json_string(r->webhook_err));
    } else {
        json_object_set_new(w, "ok", json_null());
        json_object_set_new(w, "attempts", json_integer(0));
        json_object_set_new(w, "detail",
            json_string("no webhook is configured (setting expiry_webhook)"));
    }
    /* the metrics describe the served certificate and the last check */
    json_object_set_new(m, "ok", json_null());
    json_object_set_new(m, "detail", json_string(s->expiry_metrics_file ?
        "not written by a test: the metrics always describe the served "
        "certificate and the last check" :
        "no metrics file is configured (setting expiry_metrics_file)"));
    return o;
}

void
cd_expiry_test(struct cd_app *app, const struct cd_request *rq,
    struct cd_response *resp)
{
    const struct cd_settings *s = app->settings;
    struct cd_expiry_cert cert;
    struct cd_send_result r;
    char id[CD_RELEASE_ID_LEN + 1], detail[512];
    json_t *ch;
    time_t now = time(NULL);
    int rc;

    (void)rq;
    if (cd_chain_read(s->state_dir, now, &cert, id, detail,
        sizeof(detail)) != 0) {
        cd_api_fail(resp, CD_ERR_UNAVAILABLE, NULL, detail);
        return;
    }
    snprintf(resp->sha256, sizeof(resp->sha256), "%s", cert.fingerprint);
    /* nothing is recorded: no threshold counts as told after a test */
    rc = cd_send_test(s, &cert, TEST_MAX_SECONDS, &r);
    if ((ch = test_channels_json(s, &r)) == NULL) {
        cd_api_fail(resp, CD_ERR_UNAVAILABLE, NULL, "out of memory");
        return;
    }
    if (rc == 0) {
        resp->status = 200;
        resp->body = json_pack("{s:b}", "ok", 1);
    } else {
        snprintf(detail, sizeof(detail), "%s%s", r.journal_ok ?
            "the webhook: " : "the journal: ", r.journal_ok ?
            r.webhook_err : r.journal_err);
        cd_api_fail(resp, CD_ERR_NOTIFICATION_FAILED, NULL, detail);
    }
    if (resp->body == NULL) {
        json_decref(ch);
        cd_api_fail(resp, CD_ERR_UNAVAILABLE, NULL, "out of memory");
        return;
    }
    json_object_set_new(resp->body, "test", json_true());
    json_object_set_new(resp->body, "sent_at", cvjson_time(now));
    json_object_set_new(resp->body, "channels", ch);
}
