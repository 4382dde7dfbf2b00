/*
 * test_api_expiry.c - GET /api/expiry and POST /api/expiry/test through
 * fcgi/api.h: the served chain's end, the next threshold and its date,
 * the last check and what was told (from the state file certdialog-expiry
 * writes), the channels without the webhook's secrets; a test
 * notification through the journal and a webhook received by
 * tests/notify/hook_server on loopback (delivered, a 500, a closed port),
 * which marks no threshold as told.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include <jansson.h>

#define CD_FIXTURE_CMOCKA
#include "fixture.h"
#include "apitest.h"
#include "cv_util.h"
#include "state.h"

#define P_EXPIRY        "/api/expiry"
#define P_TEST          "/api/expiry/test"

extern char **environ;

/* ---- the loopback receiver (tests/notify/hook_server) ---- */

static pid_t hook_pid = -1;

static void
write_file(const char *path, const void *p, size_t n, const char *mode)
{
    FILE *f = fopen(path, mode);

    assert_non_null(f);
    assert_int_equal(fwrite(p, 1, n, f), n);
    assert_int_equal(fclose(f), 0);
}

/* Starts hook_server answering statuses; its port is returned. */
static int
start_hook(struct at_fx *t, const char *statuses)
{
    const char *build = getenv("CD_TOP_BUILDDIR");
    char prog[PATH_MAX], cert[PATH_MAX], key[PATH_MAX], portf[PATH_MAX];
    char dir[PATH_MAX], buf[16];
    const struct cd_blob *b;
    char *argv[16];
    FILE *f;
    int i, port = 0;

    snprintf(prog, sizeof(prog), "%s/tests/notify/hook_server",
        build != NULL ? build : ".");
    if (access(prog, X_OK) != 0)
        fail_msg("%s is not built", prog);
    /* good.pem names IP:127.0.0.1; root.pem verifies it through int */
    snprintf(cert, sizeof(cert), "%s/hook.pem", t->dir);
    snprintf(key, sizeof(key), "%s/hook.key", t->dir);
    snprintf(portf, sizeof(portf), "%s/hook.port", t->dir);
    snprintf(dir, sizeof(dir), "%s/hook", t->dir);
    b = fx("good.pem");
    write_file(cert, b->p, b->n, "w");
    b = fx("int.pem");
    write_file(cert, b->p, b->n, "a");
    b = fx("good.key");
    write_file(key, b->p, b->n, "w");
    assert_int_equal(mkdir(dir, 0700), 0);
    i = 0;
    argv[i++] = prog;
    argv[i++] = "--cert"; argv[i++] = cert;
    argv[i++] = "--key"; argv[i++] = key;
    argv[i++] = "--port-file"; argv[i++] = portf;
    argv[i++] = "--dir"; argv[i++] = dir;
    argv[i++] = "--status"; argv[i++] = (char *)statuses;
    argv[i++] = "--max-seconds"; argv[i++] = "60";
    argv[i] = NULL;
    assert_int_equal(posix_spawn(&hook_pid, prog, NULL, NULL, argv,
        environ), 0);
    for (i = 0; i < 200 && port == 0; i++) {
        if ((f = fopen(portf, "r")) != NULL) {
            if (fgets(buf, sizeof(buf), f) != NULL)
                port = atoi(buf);
            fclose(f);
        }
        if (port == 0)
            usleep(25000);
    }
    if (port == 0)
        fail_msg("hook_server did not start within 5 s");
    return port;
}

static void
stop_hook(void)
{
    if (hook_pid > 0) {
        kill(hook_pid, SIGTERM);
        waitpid(hook_pid, NULL, 0);
    }
    hook_pid = -1;
}

/* The receiver's file name (log, body-N) as a string; NULL: missing. */
static char *
hook_file(struct at_fx *t, const char *name)
{
    char path[PATH_MAX];
    size_t len;

    snprintf(path, sizeof(path), "%s/hook/%s", t->dir, name);
    return cv_read_file(path, 1 << 20, CV_READ_REGULAR, &len);
}

/* A loopback port nobody listens on (bound, then closed). */
static int
closed_port(void)
{
    struct sockaddr_in a;
    socklen_t al = sizeof(a);
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    assert_true(fd >= 0);
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &al), 0);
    close(fd);
    return ntohs(a.sin_port);
}

/* ---- the appliance's settings ---- */

static void
set(char **dst, const char *v)
{
    free(*dst);
    *dst = v != NULL ? strdup(v) : NULL;
    assert_true(v == NULL || *dst != NULL);
}

/* The webhook to the receiver on port, verified with the fixtures' root. */
static void
use_hook(struct at_fx *t, int port, int timeout)
{
    char url[128];

    snprintf(url, sizeof(url), "https://127.0.0.1:%d/hook?token=s3cret",
        port);
    set(&t->s.expiry_webhook, url);
    set(&t->s.expiry_webhook_ca, cd_fixture_path("root.pem"));
    t->s.expiry_webhook_timeout = timeout;
}

static void
state_path(struct at_fx *t, char *buf, size_t len)
{
    assert_int_equal(cd_expiry_state_path(&t->s, buf, len), 0);
}

/* The state file's bytes, NULL when there is none. */
static char *
state_bytes(struct at_fx *t, size_t *len)
{
    char path[PATH_MAX];

    state_path(t, path, sizeof(path));
    return cv_read_file(path, 1 << 20, CV_READ_REGULAR, len);
}

/* ---- requests ---- */

static void
get(struct at_fx *t, struct cd_response *resp)
{
    at_get(t, P_EXPIRY, NULL, resp);
    if (resp->status != 200)
        fail_msg("GET %s: %d %s", P_EXPIRY, resp->status, at_text(resp));
}

static void
post_test(struct at_fx *t, struct cd_response *resp)
{
    struct cd_request rq;

    at_request(&rq, "POST", P_TEST, NULL);
    assert_int_equal(at_run(t, &rq, resp), 0);
}

static json_t *
member(const json_t *o, const char *path)
{
    char key[64];
    const char *dot, *all = path;
    json_t *v = (json_t *)o;

    while (v != NULL && path != NULL) {
        dot = strchr(path, '.');
        snprintf(key, sizeof(key), "%.*s", dot ? (int)(dot - path) :
            (int)strlen(path), path);
        v = json_object_get(v, key);
        path = dot ? dot + 1 : NULL;
    }
    if (v == NULL)
        fail_msg("no member %s", all);
    return v;
}

static long long
int_at(const json_t *o, const char *path)
{
    json_t *v = member(o, path);

    if (!json_is_integer(v))
        fail_msg("%s is not an integer", path);
    return json_integer_value(v);
}

static const char *
str_at(const json_t *o, const char *path)
{
    json_t *v = member(o, path);

    if (!json_is_string(v))
        fail_msg("%s is not a string", path);
    return json_string_value(v);
}

/* The 502 notification_failed answer, with its channels. */
static void
assert_failed(const struct cd_response *resp)
{
    const json_t *e;
    char *txt = at_text(resp);

    if (resp->status != 502)
        fail_msg("status %d, not 502: %s", resp->status, txt);
    assert_true(json_is_false(json_object_get(resp->body, "ok")));
    e = json_array_get(json_object_get(resp->body, "errors"), 0);
    assert_non_null(e);
    assert_string_equal(at_str(e, "code"), "notification_failed");
    assert_string_equal(at_str(e, "message"),
        cd_err_message(CD_ERR_NOTIFICATION_FAILED));
    assert_string_equal(resp->codes, "notification_failed");
    assert_true(json_is_true(json_object_get(resp->body, "test")));
    assert_true(json_is_object(json_object_get(resp->body, "channels")));
    free(txt);
}

/* ---- GET /api/expiry ---- */

static void
test_cd_expiry_get_nothing_installed(void **state)
{
    struct at_fx *t = *state;
    struct cd_response resp;
    json_t *th;

    get(t, &resp);
    assert_true(json_is_false(json_object_get(resp.body, "ok")));
    assert_true(json_is_null(json_object_get(resp.body, "certificate")));
    assert_non_null(strstr(str_at(resp.body, "detail"),
        "no certificate is installed"));
    assert_true(json_is_null(json_object_get(resp.body, "next")));
    assert_true(json_is_null(json_object_get(resp.body, "last_check")));
    th = json_object_get(resp.body, "thresholds");
    assert_int_equal(json_array_size(th), 6);
    assert_int_equal(json_integer_value(json_array_get(th, 0)), 30);
    assert_int_equal(json_integer_value(json_array_get(th, 5)), 0);
    assert_true(json_is_true(member(resp.body,
        "channels.journal.configured")));
    assert_true(json_is_false(member(resp.body,
        "channels.webhook.configured")));
    assert_true(json_is_null(member(resp.body, "channels.webhook.host")));
    assert_true(json_is_false(member(resp.body,
        "channels.metrics.configured")));
    cd_api_response_clear(&resp);
}

/*
 * The first self-signed certificate (a year): the next warning is the
 * 30-day one, reached at the first second with 30 whole days left.
 */
static void
test_cd_expiry_get_next_threshold(void **state)
{
    struct at_fx *t = *state;
    struct cd_response resp;
    struct tm tm;
    char id[64], want[32];
    const char *na;
    time_t end;
    long long left;

    at_ensure(t, id, sizeof(id));
    get(t, &resp);
    assert_true(json_is_true(json_object_get(resp.body, "ok")));
    assert_true(json_is_null(json_object_get(resp.body, "detail")));
    assert_true(json_is_string(json_object_get(resp.body, "now")));
    assert_string_equal(str_at(resp.body, "certificate.subject"),
        "CN = " AT_HOST ", O = certdialog");
    assert_string_equal(str_at(resp.body, "certificate.fingerprint"),
        resp.sha256);
    assert_true(json_is_true(member(resp.body,
        "certificate.earliest_is_leaf")));
    left = int_at(resp.body, "certificate.days_left");
    assert_true(left >= 364 && left <= 365);
    assert_true(json_is_null(json_object_get(resp.body, "crossed")));
    assert_int_equal(int_at(resp.body, "next.threshold"), 30);
    assert_int_equal(int_at(resp.body, "next.in_days"), left - 30);
    na = str_at(resp.body, "certificate.not_after");
    memset(&tm, 0, sizeof(tm));
    assert_non_null(strptime(na, "%Y-%m-%dT%H:%M:%SZ", &tm));
    end = timegm(&tm);
    cv_time_iso(end - 31 * 86400 + 1, want, sizeof(want));
    assert_string_equal(str_at(resp.body, "next.date"), want);
    /* never checked: no last check, nothing told */
    assert_true(json_is_null(json_object_get(resp.body, "last_check")));
    assert_int_equal(json_array_size(member(resp.body, "notified.journal")),
        0);
    assert_int_equal(json_array_size(member(resp.body, "notified.webhook")),
        0);
    cd_api_response_clear(&resp);

    /* thresholds of the settings, crossed ones said so */
    t->s.n_expiry_thresholds = 2;
    t->s.expiry_thresholds[0] = 400;
    t->s.expiry_thresholds[1] = 100;
    get(t, &resp);
    assert_int_equal(int_at(resp.body, "crossed"), 400);
    assert_int_equal(int_at(resp.body, "next.threshold"), 100);
    assert_int_equal(int_at(resp.body, "next.in_days"), left - 100);
    cd_api_response_clear(&resp);
    t->s.expiry_thresholds[1] = 380;
    get(t, &resp);
    assert_int_equal(int_at(resp.body, "crossed"), 380);
    assert_true(json_is_null(json_object_get(resp.body, "next")));
    cd_api_response_clear(&resp);
}

/* What certdialog-expiry recorded: for this certificate, and another. */
static void
test_cd_expiry_get_state(void **state)
{
    struct at_fx *t = *state;
    struct cd_expiry_record rec;
    struct cd_response resp;
    char id[64], path[PATH_MAX], err[256], fp[96];
    json_t *j;

    at_ensure(t, id, sizeof(id));
    get(t, &resp);
    snprintf(fp, sizeof(fp), "%s", resp.sha256);
    cd_api_response_clear(&resp);

    cd_expiry_record_init(&rec);
    cd_expiry_record_for(&rec, fp);
    rec.journal.days[0] = 30;
    rec.journal.days[1] = 14;
    rec.journal.n = 2;
    rec.webhook.days[0] = 30;
    rec.webhook.n = 1;
    rec.last_check = 1796083200;        /* 2026-12-01T00:00:00Z */
    rec.success = 0;
    rec.not_after = 1797000000;
    rec.days_left = 10;
    snprintf(rec.detail, sizeof(rec.detail), "the server's certificate was "
        "refused");
    state_path(t, path, sizeof(path));
    assert_int_equal(cd_expiry_state_write(path, &rec, err, sizeof(err)), 0);
    get(t, &resp);
    assert_string_equal(str_at(resp.body, "last_check.at"),
        "2026-12-01T00:00:00Z");
    assert_true(json_is_false(member(resp.body, "last_check.success")));
    assert_int_equal(int_at(resp.body, "last_check.days_left"), 10);
    assert_string_equal(str_at(resp.body, "last_check.detail"),
        "the server's certificate was refused");
    j = member(resp.body, "notified.journal");
    assert_int_equal(json_array_size(j), 2);
    assert_int_equal(json_integer_value(json_array_get(j, 1)), 14);
    assert_int_equal(json_array_size(member(resp.body, "notified.webhook")),
        1);
    assert_true(json_is_null(json_object_get(resp.body, "state_detail")));
    cd_api_response_clear(&resp);

    /* told about another certificate: nothing told about this one yet */
    snprintf(rec.fingerprint, sizeof(rec.fingerprint), "AA:BB");
    assert_int_equal(cd_expiry_state_write(path, &rec, err, sizeof(err)), 0);
    get(t, &resp);
    assert_int_equal(json_array_size(member(resp.body, "notified.journal")),
        0);
    assert_string_equal(str_at(resp.body, "last_check.at"),
        "2026-12-01T00:00:00Z");
    cd_api_response_clear(&resp);

    /* a damaged file: said so, the rest still answered */
    write_file(path, "{not json", 9, "w");
    get(t, &resp);
    assert_true(json_is_true(json_object_get(resp.body, "ok")));
    assert_true(json_is_string(json_object_get(resp.body, "state_detail")));
    assert_true(json_is_null(json_object_get(resp.body, "last_check")));
    cd_api_response_clear(&resp);
}

/* The webhook's host and port, never its user, path or query. */
static void
test_cd_expiry_get_channels(void **state)
{
    struct at_fx *t = *state;
    struct cd_response resp;
    char *txt;

    set(&t->s.expiry_webhook,
        "https://hookuser:hookpass@hooks.contoso.com:8443/x/s3cretpath?"
        "token=s3cret");
    set(&t->s.expiry_metrics_file, "/var/lib/prometheus/node-exporter/"
        "certdialog.prom");
    get(t, &resp);
    assert_true(json_is_true(member(resp.body,
        "channels.webhook.configured")));
    assert_string_equal(str_at(resp.body, "channels.webhook.host"),
        "hooks.contoso.com");
    assert_int_equal(int_at(resp.body, "channels.webhook.port"), 8443);
    assert_string_equal(str_at(resp.body, "channels.metrics.file"),
        "/var/lib/prometheus/node-exporter/certdialog.prom");
    txt = at_text(&resp);
    assert_null(strstr(txt, "s3cret"));
    assert_null(strstr(txt, "hookpass"));
    assert_null(strstr(txt, "hookuser"));
    free(txt);
    cd_api_response_clear(&resp);
}

/* ---- POST /api/expiry/test ---- */

/* No webhook: the journal line, marked as a test; metrics untouched. */
static void
test_cd_expiry_test_journal(void **state)
{
    struct at_fx *t = *state;
    struct cd_response resp;
    struct stat st;
    char id[64], metrics[PATH_MAX];
    size_t len;

    at_ensure(t, id, sizeof(id));
    snprintf(metrics, sizeof(metrics), "%s/certdialog.prom", t->dir);
    set(&t->s.expiry_metrics_file, metrics);
    post_test(t, &resp);
    if (resp.status != 200)
        fail_msg("test notification: %d %s", resp.status, at_text(&resp));
    assert_true(json_is_true(json_object_get(resp.body, "ok")));
    assert_true(json_is_true(json_object_get(resp.body, "test")));
    assert_true(json_is_string(json_object_get(resp.body, "sent_at")));
    assert_true(json_is_true(member(resp.body, "channels.journal.ok")));
    assert_non_null(strstr(str_at(resp.body, "channels.journal.detail"),
        "certdialog-expiry: test notification: the certificate for "
        AT_HOST));
    assert_true(json_is_null(member(resp.body, "channels.webhook.ok")));
    assert_true(json_is_false(member(resp.body,
        "channels.webhook.configured")));
    assert_true(json_is_null(member(resp.body, "channels.metrics.ok")));
    /* the fingerprint of the served certificate */
    assert_non_null(strstr(str_at(resp.body, "channels.journal.detail"),
        resp.sha256));
    cd_api_response_clear(&resp);
    /* neither the metrics nor the state file are written by a test */
    assert_int_equal(stat(metrics, &st), -1);
    assert_null(state_bytes(t, &len));
}

/* Delivered to the receiver: "test": true; no threshold marked. */
static void
test_cd_expiry_test_webhook_delivered(void **state)
{
    struct at_fx *t = *state;
    struct cd_expiry_record rec;
    struct cd_response resp;
    char id[64], path[PATH_MAX], err[256];
    char *before, *after, *body, *log;
    size_t bl, al;
    json_t *j;

    at_ensure(t, id, sizeof(id));
    use_hook(t, start_hook(t, "200"), 10);
    /* a state file telling 30 days: it stays as it is */
    get(t, &resp);
    cd_expiry_record_init(&rec);
    cd_expiry_record_for(&rec, resp.sha256);
    cd_api_response_clear(&resp);
    rec.journal.days[0] = rec.webhook.days[0] = 30;
    rec.journal.n = rec.webhook.n = 1;
    rec.last_check = 1796083200;
    state_path(t, path, sizeof(path));
    assert_int_equal(cd_expiry_state_write(path, &rec, err, sizeof(err)), 0);
    assert_non_null(before = state_bytes(t, &bl));

    post_test(t, &resp);
    if (resp.status != 200)
        fail_msg("test notification: %d %s", resp.status, at_text(&resp));
    assert_true(json_is_true(member(resp.body, "channels.webhook.ok")));
    assert_int_equal(int_at(resp.body, "channels.webhook.attempts"), 1);
    assert_string_equal(str_at(resp.body, "channels.webhook.host"),
        "127.0.0.1");
    assert_true(json_is_true(member(resp.body, "channels.journal.ok")));
    cd_api_response_clear(&resp);
    stop_hook();

    log = hook_file(t, "log");
    assert_non_null(log);
    assert_string_equal(log, "1 POST /hook?token=s3cret 200 "
        "application/json\n");
    free(log);
    body = hook_file(t, "body-1");
    assert_non_null(body);
    j = json_loads(body, 0, NULL);
    assert_non_null(j);
    assert_true(json_is_true(json_object_get(j, "test")));
    assert_true(json_is_null(json_object_get(j, "threshold")));
    assert_string_equal(at_str(j, "appliance"), AT_HOST);
    json_decref(j);
    free(body);

    after = state_bytes(t, &al);
    assert_non_null(after);
    assert_int_equal(al, bl);
    assert_memory_equal(after, before, bl);
    free(before);
    free(after);
}

/* A receiver answering 500: retried, then a per-channel error (502). */
static void
test_cd_expiry_test_webhook_500(void **state)
{
    struct at_fx *t = *state;
    struct cd_response resp;
    char id[64];
    size_t len;
    time_t start;
    const char *d;
    char *txt;

    at_ensure(t, id, sizeof(id));
    use_hook(t, start_hook(t, "500"), 5);
    start = time(NULL);
    post_test(t, &resp);
    assert_failed(&resp);
    assert_true(time(NULL) - start <= 10);
    assert_true(json_is_false(member(resp.body, "channels.webhook.ok")));
    assert_true(int_at(resp.body, "channels.webhook.attempts") >= 2);
    d = str_at(resp.body, "channels.webhook.detail");
    if (strstr(d, "code=500") == NULL)
        fail_msg("the webhook's detail does not say 500: %s", d);
    txt = at_text(&resp);
    assert_null(strstr(txt, "s3cret"));
    free(txt);
    /* the journal still got its line */
    assert_true(json_is_true(member(resp.body, "channels.journal.ok")));
    cd_api_response_clear(&resp);
    stop_hook();
    assert_null(state_bytes(t, &len));
}

/* Nobody listening: an error within the webhook's timeout. */
static void
test_cd_expiry_test_webhook_closed(void **state)
{
    struct at_fx *t = *state;
    struct cd_response resp;
    char id[64];
    time_t start;
    const char *d;

    at_ensure(t, id, sizeof(id));
    use_hook(t, closed_port(), 2);
    start = time(NULL);
    post_test(t, &resp);
    assert_failed(&resp);
    assert_true(time(NULL) - start <= 6);
    assert_true(json_is_false(member(resp.body, "channels.webhook.ok")));
    d = str_at(resp.body, "channels.webhook.detail");
    assert_true(strlen(d) > 0);
    d = at_str(json_array_get(json_object_get(resp.body, "errors"), 0),
        "detail");
    assert_non_null(strstr(d, "the webhook: "));
    cd_api_response_clear(&resp);
}

/* Nothing served: nothing to tell about. */
static void
test_cd_expiry_test_nothing_installed(void **state)
{
    struct at_fx *t = *state;
    struct cd_response resp;

    post_test(t, &resp);
    at_assert_error(&resp, "unavailable", NULL);
    cd_api_response_clear(&resp);
}

/* The rows: admins only, a test only from the appliance's own pages. */
static void
test_cd_expiry_routes(void **state)
{
    struct at_fx *t = *state;
    struct cd_request rq;
    struct cd_response resp;
    char hdr[96];

    at_request(&rq, "POST", P_TEST, NULL);
    rq.origin = "https://evil.example";
    memset(&resp, 0, sizeof(resp));
    assert_int_equal(at_run(t, &rq, &resp), -1);
    at_assert_error(&resp, "forbidden", NULL);
    cd_api_response_clear(&resp);

    at_request(&rq, "GET", P_TEST, NULL);
    memset(&resp, 0, sizeof(resp));
    assert_int_equal(at_run(t, &rq, &resp), -1);
    at_assert_error(&resp, "method_not_allowed", NULL);
    assert_string_equal(resp.allow, "POST");
    cd_api_response_clear(&resp);

    at_request(&rq, "DELETE", P_EXPIRY, NULL);
    memset(&resp, 0, sizeof(resp));
    assert_int_equal(at_run(t, &rq, &resp), -1);
    at_assert_error(&resp, "method_not_allowed", NULL);
    assert_string_equal(resp.allow, "GET, HEAD");
    cd_api_response_clear(&resp);

    /* an operator may not see it */
    at_session(t, "operator", 0, hdr, sizeof(hdr));
    at_request(&rq, "GET", P_EXPIRY, NULL);
    rq.cookie = hdr;
    memset(&resp, 0, sizeof(resp));
    assert_int_equal(at_run(t, &rq, &resp), -1);
    at_assert_error(&resp, "forbidden", NULL);
    cd_api_response_clear(&resp);

    /* an admin's token may */
    at_token(t, AT_ADMIN, hdr, sizeof(hdr));
    at_request(&rq, "GET", P_EXPIRY, NULL);
    rq.cookie = NULL;
    rq.authorization = hdr;
    memset(&resp, 0, sizeof(resp));
    assert_int_equal(at_run(t, &rq, &resp), 0);
    assert_int_equal(resp.status, 200);
    cd_api_response_clear(&resp);
}

static int
teardown(void **state)
{
    stop_hook();
    return at_teardown(state);
}

#define T(f) cmocka_unit_test_setup_teardown(f, at_setup, teardown)

int
main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_cd_expiry_get_nothing_installed),
        T(test_cd_expiry_get_next_threshold),
        T(test_cd_expiry_get_state),
        T(test_cd_expiry_get_channels),
        T(test_cd_expiry_test_journal),
        T(test_cd_expiry_test_webhook_delivered),
        T(test_cd_expiry_test_webhook_500),
        T(test_cd_expiry_test_webhook_closed),
        T(test_cd_expiry_test_nothing_installed),
        T(test_cd_expiry_routes),
    };

    /* a receiver closing early is a failed attempt (as certdialog-fcgi) */
    signal(SIGPIPE, SIG_IGN);
    return cmocka_run_group_tests(tests, at_group_setup, at_group_teardown);
}
