/*
 * test_expiry.c - certdialog-expiry's decisions (notify/expiry.h), its
 * memory between runs (notify/state.h), its metrics text
 * (notify/metrics.h) and its settings (the expiry_* keys of
 * fcgi/settings.h).  tests/notify/test_expiry.sh runs the program itself.
 */
#include "config.h"

#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "expiry.h"
#include "files.h"
#include "metrics.h"
#include "settings.h"
#include "state.h"

static const int TH[] = { 30, 14, 7, 3, 1, 0 };
#define NTH (sizeof(TH) / sizeof(TH[0]))

static char dir[] = "/tmp/test_expiry.XXXXXX";

static int
setup_dir(void **state)
{
    (void)state;
    return mkdtemp(dir) == NULL ? -1 : 0;
}

static int
teardown_dir(void **state)
{
    char cmd[sizeof(dir) + 16];

    (void)state;
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

/* A served chain of one leaf: sensor.contoso.com, 7 days left at 1e9. */
static void
leaf(struct cd_expiry_cert *c, long days_left)
{
    struct cv_summary s;

    memset(&s, 0, sizeof(s));
    s.valid = 1;
    snprintf(s.subject, sizeof(s.subject), "CN = sensor.contoso.com");
    snprintf(s.subject_cn, sizeof(s.subject_cn), "sensor.contoso.com");
    snprintf(s.sha256, sizeof(s.sha256), "AB:CD:EF");
    snprintf(s.san[0], sizeof(s.san[0]), "IP:192.0.2.10");
    snprintf(s.san[1], sizeof(s.san[1]), "DNS:sensor.contoso.com");
    snprintf(s.san[2], sizeof(s.san[2]), "DNS:sensor");
    s.n_san = 3;
    s.not_after = 1000000000 + days_left * 86400;
    s.days_left = days_left;
    assert_int_equal(cd_expiry_cert_from(c, &s, 1), 0);
}

/* ---- thresholds ---- */

static void
test_cd_expiry_crossed_steps(void **state)
{
    static const struct { long days; int t; } cases[] = {
        { 400, -1 }, { 31, -1 }, { 30, 30 }, { 29, 30 }, { 15, 30 },
        { 14, 14 }, { 8, 14 }, { 7, 7 }, { 4, 7 }, { 3, 3 }, { 2, 3 },
        { 1, 1 }, { 0, 0 }, { -1, 0 }, { -400, 0 },
    };
    static const int odd[] = { 10 };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        assert_int_equal(cd_expiry_crossed(TH, NTH, cases[i].days),
            cases[i].t);
    /* no 0 threshold: an expired certificate still crosses the last one */
    assert_int_equal(cd_expiry_crossed(odd, 1, -3), 10);
    assert_int_equal(cd_expiry_crossed(odd, 1, 11), -1);
}

static void
test_cd_expiry_next_steps(void **state)
{
    (void)state;
    assert_int_equal(cd_expiry_next(TH, NTH, 365), 30);
    assert_int_equal(cd_expiry_next(TH, NTH, 31), 30);
    assert_int_equal(cd_expiry_next(TH, NTH, 30), 14);
    assert_int_equal(cd_expiry_next(TH, NTH, 8), 7);
    assert_int_equal(cd_expiry_next(TH, NTH, 7), 3);
    assert_int_equal(cd_expiry_next(TH, NTH, 1), 0);
    assert_int_equal(cd_expiry_next(TH, NTH, 0), -1);
    assert_int_equal(cd_expiry_next(TH, NTH, -2), -1);
}

/*
 * What certdialog-expiry does with the journal at each daily run: the
 * tightest threshold crossed, when not yet sent.  Returns how many lines
 * were written; got[] gets their thresholds.
 */
static size_t
daily(struct cd_expiry_sent *sent, const long *days, size_t n, int *got)
{
    size_t i, k = 0;
    int t;

    for (i = 0; i < n; i++) {
        t = cd_expiry_crossed(TH, NTH, days[i]);
        if (t >= 0 && !cd_expiry_was_sent(sent, t)) {
            got[k++] = t;
            cd_expiry_mark_sent(sent, TH, NTH, t);
        }
    }
    return k;
}

static void
test_cd_expiry_mark_sent_once_per_threshold(void **state)
{
    /* hourly and daily runs, the clock even stepping back once */
    static const long days[] = {
        40, 31, 30, 30, 29, 20, 14, 14, 13, 16, 7, 6, 5, 3, 3, 2, 1, 1, 0,
        0, -1, -2,
    };
    struct cd_expiry_sent sent;
    int got[64];
    size_t k;

    (void)state;
    memset(&sent, 0, sizeof(sent));
    k = daily(&sent, days, sizeof(days) / sizeof(days[0]), got);
    assert_int_equal(k, 6);
    assert_int_equal(got[0], 30);
    assert_int_equal(got[1], 14);
    assert_int_equal(got[2], 7);
    assert_int_equal(got[3], 3);
    assert_int_equal(got[4], 1);
    assert_int_equal(got[5], 0);
    assert_int_equal(sent.n, NTH);
}

static void
test_cd_expiry_mark_sent_first_run_late(void **state)
{
    static const long days[] = { 5, 4, 3, 2 };
    struct cd_expiry_sent sent;
    int got[8];

    (void)state;
    memset(&sent, 0, sizeof(sent));
    /* installed with 5 days left: 7 once, not 30, 14 and 7 in a row */
    assert_int_equal(daily(&sent, days, 4, got), 2);
    assert_int_equal(got[0], 7);
    assert_int_equal(got[1], 3);
    assert_true(cd_expiry_was_sent(&sent, 30));
    assert_true(cd_expiry_was_sent(&sent, 14));
    assert_false(cd_expiry_was_sent(&sent, 1));
}

static void
test_cd_expiry_record_for_new_fingerprint(void **state)
{
    struct cd_expiry_record r;

    (void)state;
    cd_expiry_record_init(&r);
    cd_expiry_record_for(&r, "AA:01");
    cd_expiry_mark_sent(&r.journal, TH, NTH, 7);
    cd_expiry_mark_sent(&r.webhook, TH, NTH, 14);
    cd_expiry_record_for(&r, "AA:01");         /* the same: kept */
    assert_true(cd_expiry_was_sent(&r.journal, 7));
    assert_true(cd_expiry_was_sent(&r.webhook, 14));
    assert_false(cd_expiry_was_sent(&r.webhook, 7));
    cd_expiry_record_for(&r, "BB:02");         /* a new certificate */
    assert_string_equal(r.fingerprint, "BB:02");
    assert_int_equal(r.journal.n, 0);
    assert_int_equal(r.webhook.n, 0);
    assert_false(cd_expiry_was_sent(&r.journal, 30));
}

static void
test_cd_expiry_priority_rises(void **state)
{
    (void)state;
    assert_int_equal(cd_expiry_priority(30, 29), LOG_NOTICE);
    assert_int_equal(cd_expiry_priority(14, 14), LOG_NOTICE);
    assert_int_equal(cd_expiry_priority(8, 8), LOG_NOTICE);
    assert_int_equal(cd_expiry_priority(7, 6), LOG_WARNING);
    assert_int_equal(cd_expiry_priority(3, 2), LOG_WARNING);
    assert_int_equal(cd_expiry_priority(1, 1), LOG_ERR);
    assert_int_equal(cd_expiry_priority(0, 0), LOG_CRIT);
    assert_int_equal(cd_expiry_priority(0, -3), LOG_CRIT);
    /* a loose threshold crossed only once expired is still critical */
    assert_int_equal(cd_expiry_priority(30, -1), LOG_CRIT);
}

/* ---- the served chain ---- */

static void
test_cd_expiry_cert_from_earliest(void **state)
{
    struct cv_summary s[3];
    struct cd_expiry_cert c;

    (void)state;
    memset(s, 0, sizeof(s));
    s[0].valid = s[1].valid = s[2].valid = 1;
    snprintf(s[0].subject, sizeof(s[0].subject), "CN = leaf");
    snprintf(s[0].subject_cn, sizeof(s[0].subject_cn), "leaf");
    snprintf(s[0].sha256, sizeof(s[0].sha256), "01:02");
    s[0].not_after = 5000000;
    s[0].days_left = 50;
    snprintf(s[1].subject, sizeof(s[1].subject), "CN = issuing");
    s[1].not_after = 2000000;
    s[1].days_left = 20;
    snprintf(s[2].subject, sizeof(s[2].subject), "CN = root");
    s[2].not_after = 9000000;
    s[2].days_left = 90;
    assert_int_equal(cd_expiry_cert_from(&c, s, 3), 0);
    assert_string_equal(c.fingerprint, "01:02");        /* the leaf's */
    assert_string_equal(c.subject, "CN = leaf");
    assert_int_equal(c.n_names, 1);                     /* CN, no SAN */
    assert_string_equal(c.names[0], "leaf");
    assert_int_equal(c.not_after, 2000000);             /* the chain's */
    assert_int_equal(c.days_left, 20);
    assert_string_equal(c.earliest, "CN = issuing");
    assert_false(c.earliest_is_leaf);
    assert_int_equal(c.n_certs, 3);
    /* an unreadable leaf is no chain */
    s[0].valid = 0;
    assert_int_equal(cd_expiry_cert_from(&c, s, 3), -1);
    assert_int_equal(cd_expiry_cert_from(&c, s, 0), -1);
}

static void
test_cd_expiry_log_line_forms(void **state)
{
    struct cd_expiry_cert c;
    char line[2048];

    (void)state;
    leaf(&c, 6);
    assert_string_equal(c.names[0], "sensor.contoso.com");      /* DNS first */
    assert_string_equal(c.names[1], "sensor");
    assert_string_equal(c.names[2], "192.0.2.10");
    assert_int_equal(c.n_names, 3);             /* the CN is among them */
    cd_expiry_log_line(line, sizeof(line), &c, 7, 0);
    assert_string_equal(line, "<4>certdialog-expiry: the certificate for "
        "sensor.contoso.com (SHA-256 AB:CD:EF) expires on "
        "2001-09-15T01:46:40Z, 6 days left (threshold 7 days)\n");
    leaf(&c, -2);
    cd_expiry_log_line(line, sizeof(line), &c, 0, 0);
    assert_string_equal(line, "<2>certdialog-expiry: the certificate for "
        "sensor.contoso.com (SHA-256 AB:CD:EF) expired on "
        "2001-09-07T01:46:40Z, 2 days ago (threshold 0 days)\n");
    leaf(&c, 100);
    cd_expiry_log_line(line, sizeof(line), &c, -1, 1);
    assert_non_null(strstr(line, "<5>certdialog-expiry: test notification"));
    /* the chain ending first is named */
    leaf(&c, 20);
    c.earliest_is_leaf = 0;
    snprintf(c.earliest, sizeof(c.earliest), "CN = Issuing CA 2");
    cd_expiry_log_line(line, sizeof(line), &c, 30, 0);
    assert_non_null(strstr(line, "<5>certdialog-expiry: the chain of the "
        "certificate for sensor.contoso.com (CN = Issuing CA 2)"));
}

static void
test_cd_expiry_payload_fields(void **state)
{
    struct cd_expiry_cert c;
    json_error_t je;
    json_t *o, *names;
    char *s;

    (void)state;
    leaf(&c, 6);
    assert_non_null(s = cd_expiry_payload(&c, "sensor", 7, 0));
    assert_non_null(o = json_loads(s, 0, &je));
    free(s);
    assert_int_equal(json_object_size(o), 9);
    assert_string_equal(json_string_value(json_object_get(o, "appliance")),
        "sensor");
    assert_string_equal(json_string_value(json_object_get(o, "subject")),
        "CN = sensor.contoso.com");
    names = json_object_get(o, "names");
    assert_int_equal(json_array_size(names), 3);
    assert_string_equal(json_string_value(json_array_get(names, 0)),
        "sensor.contoso.com");
    assert_string_equal(json_string_value(json_array_get(names, 2)),
        "192.0.2.10");
    assert_string_equal(json_string_value(json_object_get(o, "not_after")),
        "2001-09-15T01:46:40Z");
    assert_int_equal(json_integer_value(json_object_get(o, "days_left")), 6);
    assert_string_equal(json_string_value(json_object_get(o, "fingerprint")),
        "AB:CD:EF");
    assert_int_equal(json_integer_value(json_object_get(o, "threshold")), 7);
    assert_true(json_is_false(json_object_get(o, "test")));
    json_decref(o);
    /* a test notification has no threshold */
    assert_non_null(s = cd_expiry_payload(&c, "sensor", -1, 1));
    assert_non_null(o = json_loads(s, 0, &je));
    free(s);
    assert_true(json_is_null(json_object_get(o, "threshold")));
    assert_true(json_is_true(json_object_get(o, "test")));
    json_decref(o);
}

/* ---- metrics ---- */

static void
test_cd_metrics_text_exact(void **state)
{
    struct cd_expiry_cert c;
    char *t;

    (void)state;
    leaf(&c, 6);
    /* a subject with what the exposition format escapes */
    snprintf(c.subject, sizeof(c.subject), "CN = a\"b\\c\nd, O = x");
    assert_non_null(t = cd_metrics_text(&c, 1000000000, 1));
    assert_string_equal(t,
        "# HELP certdialog_certificate_not_after_seconds End of validity of "
        "the served chain (its earliest notAfter), Unix time.\n"
        "# TYPE certdialog_certificate_not_after_seconds gauge\n"
        "certdialog_certificate_not_after_seconds{fingerprint=\"AB:CD:EF\","
        "subject=\"CN = a\\\"b\\\\c\\nd, O = x\"} 1000518400\n"
        "# HELP certdialog_certificate_days_left Whole days until the served "
        "chain expires (negative: expired).\n"
        "# TYPE certdialog_certificate_days_left gauge\n"
        "certdialog_certificate_days_left{fingerprint=\"AB:CD:EF\","
        "subject=\"CN = a\\\"b\\\\c\\nd, O = x\"} 6\n"
        "# HELP certdialog_expiry_check_timestamp_seconds When "
        "certdialog-expiry last ran, Unix time.\n"
        "# TYPE certdialog_expiry_check_timestamp_seconds gauge\n"
        "certdialog_expiry_check_timestamp_seconds 1000000000\n"
        "# HELP certdialog_expiry_check_success 1 when the last check read "
        "the served chain and delivered every notification due.\n"
        "# TYPE certdialog_expiry_check_success gauge\n"
        "certdialog_expiry_check_success 1\n");
    free(t);
    /* no certificate: the check's own metrics only, and a failure */
    assert_non_null(t = cd_metrics_text(NULL, 1000000001, 0));
    assert_null(strstr(t, "certdialog_certificate_"));
    assert_non_null(strstr(t, "\ncertdialog_expiry_check_timestamp_seconds "
        "1000000001\n"));
    assert_non_null(strstr(t, "\ncertdialog_expiry_check_success 0\n"));
    free(t);
}

/* ---- the state file ---- */

static int
decode(const char *s, struct cd_expiry_record *r)
{
    return cd_expiry_record_decode(s, strlen(s), r);
}

static void
test_cd_expiry_record_roundtrip(void **state)
{
    struct cd_expiry_record r, back;
    char *s;

    (void)state;
    cd_expiry_record_init(&r);
    cd_expiry_record_for(&r, "AA:BB");
    cd_expiry_mark_sent(&r.journal, TH, NTH, 7);
    cd_expiry_mark_sent(&r.webhook, TH, NTH, 14);
    r.last_check = 1000000000;
    r.success = 0;
    r.not_after = 1000518400;
    r.days_left = 6;
    r.next_threshold = 3;
    snprintf(r.detail, sizeof(r.detail), "the webhook: refused");
    assert_non_null(s = cd_expiry_record_encode(&r));
    assert_int_equal(cd_expiry_record_decode(s, strlen(s), &back), 0);
    free(s);
    assert_string_equal(back.fingerprint, "AA:BB");
    assert_int_equal(back.journal.n, 3);
    assert_true(cd_expiry_was_sent(&back.journal, 30));
    assert_true(cd_expiry_was_sent(&back.journal, 7));
    assert_int_equal(back.webhook.n, 2);
    assert_false(cd_expiry_was_sent(&back.webhook, 7));
    assert_int_equal(back.last_check, 1000000000);
    assert_int_equal(back.success, 0);
    assert_int_equal(back.not_after, 1000518400);
    assert_int_equal(back.days_left, 6);
    assert_int_equal(back.next_threshold, 3);
    assert_string_equal(back.detail, "the webhook: refused");
    /* not ours: refused, and the record is empty (everything due again) */
    assert_int_equal(decode("[1]", &back), -1);
    assert_string_equal(back.fingerprint, "");
    assert_int_equal(decode("{\"journal\":[]}", &back), -1);
    assert_int_equal(decode("{\"fingerprint\":\"x\",\"journal\":[\"7\"]}",
        &back), -1);
    assert_int_equal(back.journal.n, 0);
}

static int
entries(const char *d)
{
    DIR *dp = opendir(d);
    struct dirent *e;
    int n = 0;

    assert_non_null(dp);
    while ((e = readdir(dp)) != NULL)
        if (e->d_name[0] != '.')
            n++;
    closedir(dp);
    return n;
}

static void
test_cd_expiry_state_file(void **state)
{
    struct cd_expiry_record r, back;
    char path[256], sub[200], err[512];
    struct stat st;
    FILE *f;
    int fd;

    (void)state;
    snprintf(sub, sizeof(sub), "%s/state", dir);
    assert_int_equal(mkdir(sub, 0700), 0);
    snprintf(path, sizeof(path), "%s/expiry.json", sub);
    /* none yet: an empty record, no error */
    assert_int_equal(cd_expiry_state_read(path, &back, err, sizeof(err)), 0);
    assert_string_equal(back.fingerprint, "");
    cd_expiry_record_init(&r);
    cd_expiry_record_for(&r, "CC:DD");
    cd_expiry_mark_sent(&r.journal, TH, NTH, 30);
    assert_int_equal(cd_expiry_state_write(path, &r, err, sizeof(err)), 0);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(entries(sub), 1);          /* no temporary file left */
    assert_int_equal(cd_expiry_state_read(path, &back, err, sizeof(err)), 0);
    assert_string_equal(back.fingerprint, "CC:DD");
    assert_true(cd_expiry_was_sent(&back.journal, 30));
    /* locked by us, the lock file sits next to it */
    assert_true((fd = cd_expiry_state_lock(path, err, sizeof(err))) >= 0);
    close(fd);
    assert_int_equal(entries(sub), 2);
    /* damaged: an error and an empty record */
    assert_non_null(f = fopen(path, "w"));
    fputs("{\"fingerprint\":", f);
    fclose(f);
    assert_int_equal(cd_expiry_state_read(path, &back, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "is not certdialog-expiry's state"));
    assert_string_equal(back.fingerprint, "");
    /* a directory that does not exist: a reason, nothing written */
    snprintf(path, sizeof(path), "%s/none/expiry.json", dir);
    assert_int_equal(cd_expiry_state_write(path, &r, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "cannot create"));
}

static void
test_cd_file_replace_mode(void **state)
{
    char path[256], err[512], buf[16];
    struct stat st;
    FILE *f;

    (void)state;
    snprintf(path, sizeof(path), "%s/m.prom", dir);
    assert_int_equal(cd_file_replace(path, "one\n", 4, 0644, err,
        sizeof(err)), 0);
    assert_int_equal(cd_file_replace(path, "two\n", 4, 0644, err,
        sizeof(err)), 0);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0644);
    assert_non_null(f = fopen(path, "r"));
    assert_non_null(fgets(buf, sizeof(buf), f));
    fclose(f);
    assert_string_equal(buf, "two\n");
}

/* ---- settings ---- */

static int
load(const char *json, struct cd_settings *s, char *err, size_t errlen)
{
    char path[256];
    FILE *f;

    snprintf(path, sizeof(path), "%s/settings.json", dir);
    assert_non_null(f = fopen(path, "w"));
    fputs(json, f);
    fclose(f);
    return cd_settings_load(s, path, err, errlen);
}

static void
test_cd_settings_load_expiry_keys(void **state)
{
    struct cd_settings s;
    char err[512];

    (void)state;
    assert_int_equal(cd_settings_load(&s, NULL, err, sizeof(err)), 0);
    assert_int_equal(s.n_expiry_thresholds, 6);
    assert_memory_equal(s.expiry_thresholds, TH, sizeof(TH));
    assert_null(s.expiry_webhook);
    assert_null(s.expiry_metrics_file);
    assert_null(s.expiry_state);
    assert_int_equal(s.expiry_webhook_timeout, 60);
    cd_settings_free(&s);
    assert_int_equal(load("{\"expiry_thresholds\": [2, 60, 0, 10],"
        "\"expiry_webhook\": \"https://hooks.contoso.com/x?t=1\","
        "\"expiry_webhook_ca\": \"/etc/ssl/hooks.pem\","
        "\"expiry_metrics_file\": \"/var/lib/node/certdialog.prom\","
        "\"expiry_webhook_timeout\": 5,"
        "\"expiry_state\": \"/var/lib/certdialog/e.json\"}", &s, err,
        sizeof(err)), 0);
    assert_int_equal(s.n_expiry_thresholds, 4);         /* descending */
    assert_int_equal(s.expiry_thresholds[0], 60);
    assert_int_equal(s.expiry_thresholds[1], 10);
    assert_int_equal(s.expiry_thresholds[2], 2);
    assert_int_equal(s.expiry_thresholds[3], 0);
    assert_string_equal(s.expiry_webhook, "https://hooks.contoso.com/x?t=1");
    assert_string_equal(s.expiry_webhook_ca, "/etc/ssl/hooks.pem");
    assert_string_equal(s.expiry_metrics_file,
        "/var/lib/node/certdialog.prom");
    assert_string_equal(s.expiry_state, "/var/lib/certdialog/e.json");
    assert_int_equal(s.expiry_webhook_timeout, 5);
    cd_settings_free(&s);
    assert_int_equal(load("{\"expiry_webhook\": null}", &s, err,
        sizeof(err)), 0);
    cd_settings_free(&s);
    /* refused, with the reason */
    assert_int_equal(load("{\"expiry_thresholds\": [7, 7]}", &s, err,
        sizeof(err)), -1);
    assert_non_null(strstr(err, "holds 7 twice"));
    assert_int_equal(load("{\"expiry_thresholds\": [-1]}", &s, err,
        sizeof(err)), -1);
    assert_non_null(strstr(err, "\"expiry_thresholds\""));
    assert_int_equal(load("{\"expiry_thresholds\": []}", &s, err,
        sizeof(err)), -1);
    assert_int_equal(load("{\"expiry_thresholds\": 7}", &s, err,
        sizeof(err)), -1);
    assert_int_equal(load("{\"expiry_thresholds\": [7.5]}", &s, err,
        sizeof(err)), -1);
    assert_int_equal(load("{\"expiry_webhook\": \"http://hooks.contoso.com/\"}",
        &s, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "must be an https:// URL"));
    assert_int_equal(load("{\"expiry_webhook_timeout\": 4}", &s, err,
        sizeof(err)), -1);
    assert_int_equal(load("{\"expiry_webhooks\": null}", &s, err,
        sizeof(err)), -1);
    assert_non_null(strstr(err, "unknown setting \"expiry_webhooks\""));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cd_expiry_crossed_steps),
        cmocka_unit_test(test_cd_expiry_next_steps),
        cmocka_unit_test(test_cd_expiry_mark_sent_once_per_threshold),
        cmocka_unit_test(test_cd_expiry_mark_sent_first_run_late),
        cmocka_unit_test(test_cd_expiry_record_for_new_fingerprint),
        cmocka_unit_test(test_cd_expiry_priority_rises),
        cmocka_unit_test(test_cd_expiry_cert_from_earliest),
        cmocka_unit_test(test_cd_expiry_log_line_forms),
        cmocka_unit_test(test_cd_expiry_payload_fields),
        cmocka_unit_test(test_cd_metrics_text_exact),
        cmocka_unit_test(test_cd_expiry_record_roundtrip),
        cmocka_unit_test(test_cd_expiry_state_file),
        cmocka_unit_test(test_cd_file_replace_mode),
        cmocka_unit_test(test_cd_settings_load_expiry_keys),
    };

    return cmocka_run_group_tests(tests, setup_dir, teardown_dir);
}
