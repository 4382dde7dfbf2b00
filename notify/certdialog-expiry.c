/*
 * certdialog-expiry.c - warns before the served certificate expires
 * (certdialog-expiry(8)): run daily by certdialog-expiry.timer, it reads
 * the served chain from the release store, and at each threshold crossed
 * tells the journal and the webhook once, and rewrites the Prometheus
 * metrics on every run.
 *
 * Exit status: 0 when the chain was read and every notification due was
 * delivered, 1 when not (the next run tries again), 2 on a usage or
 * settings error.
 */
#include "config.h"

#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "chain.h"
#include "cv_util.h"
#include "expiry.h"
#include "metrics.h"
#include "send.h"
#include "settings.h"
#include "state.h"
#include "webhook.h"

#define ME "certdialog-expiry"

/* What this run found and did, for --json. */
struct run {
    time_t now;
    char release[CD_RELEASE_ID_LEN + 1];
    struct cd_expiry_cert cert;
    int have_cert;
    int threshold;              /* crossed; -1: none */
    int next;                   /* to come; -1: none */
    int logged;                 /* priority of the line written; -1 */
    int hook_due, hook_ok, hook_tries;
    char hook_err[256];
    int metrics_ok;
    int dry;                    /* --dry-run: decide, send and write nothing */
    int success;
    char detail[512];
};

static void
usage(FILE *f)
{
    fprintf(f, "usage: " ME " [-c CONFIG] [--now TIME] [--json] "
        "[--dry-run]\n"
        "       [--test-notification]\n"
        "  -c, --config FILE      settings (JSON), as certdialog-fcgi's\n"
        "      --now TIME         check as at TIME: 2026-12-01T00:00:00Z or "
        "seconds\n"
        "                         since the epoch (default: now)\n"
        "      --json             print what was found and done as JSON\n"
        "      --dry-run          decide only: nothing sent, nothing "
        "recorded\n"
        "      --test-notification  send a test notification (journal and "
        "webhook)\n"
        "                         whatever the thresholds; nothing is "
        "recorded\n");
}

/* --now: seconds since the epoch, or ISO 8601 in UTC. */
static int
parse_now(const char *s, time_t *t)
{
    static const char *const fmts[] = {
        "%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d"
    };
    struct tm tm;
    const char *end;
    uint64_t v;
    size_t i;

    if (cv_parse_uint(s, strlen(s), (uint64_t)1 << 40, &v) == 0) {
        *t = (time_t)v;
        return 0;
    }
    for (i = 0; i < sizeof(fmts) / sizeof(fmts[0]); i++) {
        memset(&tm, 0, sizeof(tm));
        if ((end = strptime(s, fmts[i], &tm)) != NULL && *end == '\0') {
            *t = timegm(&tm);
            return 0;
        }
    }
    return -1;
}

/* One journal line (stderr: systemd reads its "<N>" prefix). */
static void
journal(const char *line)
{
    cd_send_journal(line, NULL, 0);
}

static int
send_hook(const struct cd_settings *s, struct run *r, int t)
{
    r->hook_ok = cd_send_webhook(s, &r->cert, t, 0, 0, &r->hook_tries,
        r->hook_err, sizeof(r->hook_err)) == 0;
    return r->hook_ok ? 0 : -1;
}

/* --test-notification: both channels, whatever the thresholds. */
static int
test_notification(const struct cd_settings *s, struct run *r)
{
    struct cd_send_result sr;

    r->success = cd_send_test(s, &r->cert, 0, &sr) == 0;
    r->logged = sr.journal_ok ? sr.journal_priority : -1;
    r->hook_due = sr.webhook_configured;
    r->hook_ok = sr.webhook_ok;
    r->hook_tries = sr.webhook_tries;
    snprintf(r->hook_err, sizeof(r->hook_err), "%s", sr.webhook_err);
    return r->success ? 0 : 1;
}

/* The check proper: notify what is due, remember it, write the metrics. */
static int
check(const struct cd_settings *s, const char *state_path, struct run *r)
{
    struct cd_expiry_record rec;
    char line[2048], err[512];
    char *text;
    int t;

    if (cd_expiry_state_read(state_path, &rec, err, sizeof(err)) != 0) {
        snprintf(line, sizeof(line), "<4>" ME ": %s\n", err);
        journal(line);
    }
    r->success = r->have_cert;
    if (r->have_cert) {
        cd_expiry_record_for(&rec, r->cert.fingerprint);
        t = r->threshold;
        if (t >= 0 && !cd_expiry_was_sent(&rec.journal, t)) {
            cd_expiry_log_line(line, sizeof(line), &r->cert, t, 0);
            if (!r->dry)
                journal(line);
            r->logged = cd_expiry_priority(t, r->cert.days_left);
            cd_expiry_mark_sent(&rec.journal, s->expiry_thresholds,
                s->n_expiry_thresholds, t);
        }
        /* an undelivered webhook stays due: the next run tries again */
        if (t >= 0 && s->expiry_webhook != NULL &&
            !cd_expiry_was_sent(&rec.webhook, t)) {
            r->hook_due = 1;
            if (!r->dry && send_hook(s, r, t) == 0)
                cd_expiry_mark_sent(&rec.webhook, s->expiry_thresholds,
                    s->n_expiry_thresholds, t);
            else if (!r->dry)
                r->success = 0;
        }
        rec.not_after = r->cert.not_after;
        rec.days_left = r->cert.days_left;
    } else {
        rec.not_after = 0;
        rec.days_left = 0;
    }
    rec.last_check = r->now;
    rec.success = r->success;
    rec.next_threshold = r->next;
    snprintf(rec.detail, sizeof(rec.detail), "%s", r->detail[0] ?
        r->detail : r->hook_err);
    if (r->dry)
        return r->success ? 0 : 1;
    if (cd_expiry_state_write(state_path, &rec, err, sizeof(err)) != 0) {
        snprintf(line, sizeof(line), "<3>" ME ": %s\n", err);
        journal(line);
        r->success = 0;
    }
    if (s->expiry_metrics_file != NULL) {
        if ((text = cd_metrics_text(r->have_cert ? &r->cert : NULL, r->now,
            r->success)) == NULL)
            snprintf(err, sizeof(err), "out of memory");
        else if (cd_metrics_write(s->expiry_metrics_file, text, err,
            sizeof(err)) == 0)
            r->metrics_ok = 1;
        free(text);
        if (!r->metrics_ok) {
            snprintf(line, sizeof(line), "<3>" ME ": metrics: %s\n", err);
            journal(line);
            r->success = 0;
        }
    }
    return r->success ? 0 : 1;
}

static json_t *
int_or_null(int v)
{
    return v >= 0 ? json_integer(v) : json_null();
}

static void
print_json(const struct cd_settings *s, const char *state_path,
    const struct run *r, int test)
{
    json_t *o, *cert = json_null(), *names, *th = json_array();
    char when[32], until[32];
    char *out;
    size_t i;

    cv_time_iso(r->now, when, sizeof(when));
    for (i = 0; th != NULL && i < s->n_expiry_thresholds; i++)
        json_array_append_new(th, json_integer(s->expiry_thresholds[i]));
    if (r->have_cert && (names = json_array()) != NULL) {
        for (i = 0; i < r->cert.n_names; i++)
            json_array_append_new(names, json_string(r->cert.names[i]));
        cv_time_iso(r->cert.not_after, until, sizeof(until));
        cert = json_pack("{s:s, s:o, s:s, s:I, s:s, s:s, s:I}",
            "subject", r->cert.subject, "names", names,
            "not_after", until, "days_left", (json_int_t)r->cert.days_left,
            "fingerprint", r->cert.fingerprint,
            "earliest", r->cert.earliest,
            "certificates", (json_int_t)r->cert.n_certs);
    }
    o = json_pack("{s:s, s:b, s:b, s:s, s:s, s:o*, s:o, s:o, s:o, s:{s:o},"
        " s:{s:b, s:b, s:o, s:i, s:s}, s:{s:o, s:b}, s:b, s:s}",
        "checked_at", when,
        "test", test != 0,
        "dry_run", r->dry != 0,
        "release", r->release,
        "state_file", state_path,
        "certificate", cert,
        "threshold", int_or_null(r->threshold),
        "next_threshold", int_or_null(r->next),
        "thresholds", th,
        "journal", "priority", int_or_null(r->logged),
        "webhook", "configured", s->expiry_webhook != NULL,
        "due", r->hook_due,
        "delivered", r->hook_due && !r->dry ? json_boolean(r->hook_ok) :
            json_null(),
        "attempts", r->hook_tries,
        "detail", r->hook_err,
        "metrics", "file", s->expiry_metrics_file ?
            json_string(s->expiry_metrics_file) : json_null(),
        "written", r->metrics_ok,
        "success", r->success != 0,
        "detail", r->detail);
    if (o == NULL || (out = json_dumps(o, JSON_INDENT(2))) == NULL) {
        fprintf(stderr, ME ": out of memory\n");
    } else {
        printf("%s\n", out);
        free(out);
    }
    json_decref(o);
}

int
main(int argc, char **argv)
{
    static const struct option longopts[] = {
        { "config", required_argument, NULL, 'c' },
        { "now", required_argument, NULL, 'n' },
        { "json", no_argument, NULL, 'j' },
        { "dry-run", no_argument, NULL, 'd' },
        { "test-notification", no_argument, NULL, 't' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 }
    };
    struct cd_settings s;
    struct run r;
    const char *cfgpath = NULL;
    char err[512], line[700], state_path[PATH_MAX];
    int c, json = 0, test = 0, lock = -1, rc;

    /* a receiver closing early is a failed attempt, not our end */
    signal(SIGPIPE, SIG_IGN);
    memset(&r, 0, sizeof(r));
    r.now = time(NULL);
    r.threshold = r.next = r.logged = -1;
    while ((c = getopt_long(argc, argv, "c:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'c': cfgpath = optarg; break;
        case 'n':
            if (parse_now(optarg, &r.now) != 0) {
                fprintf(stderr, ME ": --now takes 2026-12-01T00:00:00Z or "
                    "seconds since the epoch\n");
                return 2;
            }
            break;
        case 'j': json = 1; break;
        case 'd': r.dry = 1; break;
        case 't': test = 1; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (optind != argc) {
        usage(stderr);
        return 2;
    }
    if (cd_settings_load(&s, cfgpath, err, sizeof(err)) != 0) {
        fprintf(stderr, ME ": %s\n", err);
        return 2;
    }
    if (cd_expiry_state_path(&s, state_path, sizeof(state_path)) != 0) {
        fprintf(stderr, ME ": state path too long\n");
        cd_settings_free(&s);
        return 2;
    }
    if (cd_chain_read(s.state_dir, r.now, &r.cert, r.release, r.detail,
        sizeof(r.detail)) == 0) {
        r.have_cert = 1;
        r.threshold = cd_expiry_crossed(s.expiry_thresholds,
            s.n_expiry_thresholds, r.cert.days_left);
        r.next = cd_expiry_next(s.expiry_thresholds, s.n_expiry_thresholds,
            r.cert.days_left);
    } else {
        snprintf(line, sizeof(line), "<3>" ME ": %s\n", r.detail);
        journal(line);
    }
    if (test) {
        rc = r.have_cert ? test_notification(&s, &r) : 1;
    } else if ((lock = cd_expiry_state_lock(state_path, err,
        sizeof(err))) < 0) {
        snprintf(line, sizeof(line), "<3>" ME ": %s\n", err);
        journal(line);
        snprintf(r.detail, sizeof(r.detail), "%s", err);
        rc = 1;
    } else {
        rc = check(&s, state_path, &r);
        close(lock);
    }
    if (json)
        print_json(&s, state_path, &r, test);
    cd_settings_free(&s);
    return rc;
}
