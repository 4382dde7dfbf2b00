/*
 * test_api_rollback.c - making a kept release current again through
 * fcgi/api.h: POST /api/certificate/rollback (nothing to go back to: 409;
 * back to the release active before the current one, with its reload) and
 * POST /api/certificate/history/{id}/activate (404, 409, the history's
 * spans of activity); meta.json's CRL outcome; and the name check of an
 * upload against the address in use (status.c).
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <jansson.h>

#include "apitest.h"
#include "meta.h"

#define P_CERT          "/api/certificate"
#define P_ROLLBACK      "/api/certificate/rollback"
#define P_HISTORY       "/api/certificate/history/"
#define P_VALIDATE      "/api/certificate/validate"

/* POST the rollback as the dialog does: no body. */
static void
rollback(struct at_fx *t, struct cd_response *resp)
{
    struct cd_request rq;

    at_request(&rq, "POST", P_ROLLBACK, NULL);
    assert_int_equal(at_run(t, &rq, resp), 0);
}

/* A 200 rollback answer back to release want. */
static void
assert_rolled_back(const struct cd_response *resp, const char *want)
{
    json_t *reload, *cert;
    char *txt;

    if (resp->status != 200) {
        txt = at_text(resp);
        fail_msg("rollback: %d %s", resp->status, txt);
    }
    assert_true(json_is_true(json_object_get(resp->body, "ok")));
    assert_string_equal(at_str(resp->body, "release"), want);
    reload = json_object_get(resp->body, "reload");
    assert_true(json_is_object(reload));
    assert_true(json_is_true(json_object_get(reload, "ok")));
    at_str(reload, "detail");
    /* the answer shows the certificate now served */
    cert = json_object_get(resp->body, "certificate");
    assert_true(json_is_object(cert));
    assert_string_equal(at_str(cert, "release"), want);
    assert_string_equal(at_str(cert, "sha256_fingerprint"), resp->sha256);
}

static void
test_cd_api_rollback_one_release(void **state)
{
    struct at_fx *t = *state;
    struct cd_response resp;
    char id[64], cur[64];

    at_ensure(t, id, sizeof(id));
    rollback(t, &resp);
    at_assert_error(&resp, "no_previous_release", NULL);
    cd_api_response_clear(&resp);
    at_current(t, cur, sizeof(cur));
    assert_string_equal(cur, id);
    assert_int_equal(at_releases(t), 1);
}

static void
test_cd_api_rollback_nothing_installed(void **state)
{
    struct at_fx *t = *state;
    struct cd_response resp;

    rollback(t, &resp);
    at_assert_error(&resp, "no_previous_release", NULL);
    cd_api_response_clear(&resp);
    assert_int_equal(at_releases(t), 0);
}

static void
test_cd_api_rollback_two_releases(void **state)
{
    struct at_fx *t = *state;
    struct cd_response resp;
    json_t *cert;
    char older[64], newer[64], cur[64];

    at_ensure(t, older, sizeof(older));
    at_install_good(t, newer, sizeof(newer));
    at_current(t, cur, sizeof(cur));
    assert_string_equal(cur, newer);

    rollback(t, &resp);
    assert_rolled_back(&resp, older);
    cd_api_response_clear(&resp);
    at_current(t, cur, sizeof(cur));
    assert_string_equal(cur, older);
    /* nothing is deleted: the newer release can be installed again */
    assert_int_equal(at_releases(t), 2);

    /* the status answer agrees: the first start's self-signed one */
    at_get(t, P_CERT, NULL, &resp);
    assert_int_equal(resp.status, 200);
    cert = json_object_get(resp.body, "certificate");
    assert_true(json_is_object(cert));
    assert_string_equal(at_str(cert, "release"), older);
    assert_true(json_is_true(json_object_get(cert, "self_signed")));
    assert_string_equal(at_str(cert, "mode"), "self-signed");
    cd_api_response_clear(&resp);
}

/* Three releases: each rollback goes to the one before the current. */
static void
test_cd_api_rollback_three_releases(void **state)
{
    struct at_fx *t = *state;
    struct cd_response resp;
    char first[64], second[64], third[64], cur[64];

    at_ensure(t, first, sizeof(first));
    at_install_good(t, second, sizeof(second));
    at_install_good(t, third, sizeof(third));
    rollback(t, &resp);
    assert_rolled_back(&resp, second);
    cd_api_response_clear(&resp);
    at_current(t, cur, sizeof(cur));
    assert_string_equal(cur, second);
}

/* A rollback from another site is refused before anything changes. */
static void
test_cd_api_rollback_cross_site(void **state)
{
    struct at_fx *t = *state;
    struct cd_request rq;
    struct cd_response resp;
    char older[64], newer[64], cur[64];

    at_ensure(t, older, sizeof(older));
    at_install_good(t, newer, sizeof(newer));
    at_request(&rq, "POST", P_ROLLBACK, NULL);
    rq.origin = "https://evil.example";
    rq.sec_fetch_site = "cross-site";
    assert_int_equal(at_run(t, &rq, &resp), -1);
    at_assert_error(&resp, "forbidden", NULL);
    cd_api_response_clear(&resp);
    at_current(t, cur, sizeof(cur));
    assert_string_equal(cur, newer);
}

/* POST .../history/id/activate as the dialog does: no body. */
static void
activate(struct at_fx *t, const char *id, struct cd_response *resp)
{
    struct cd_request rq;
    char path[160];

    snprintf(path, sizeof(path), P_HISTORY "%s/activate", id);
    at_request(&rq, "POST", path, NULL);
    assert_int_equal(at_run(t, &rq, resp), 0);
}

/* A new self-signed release through the upload route; its id into id. */
static void
install_self_signed(struct at_fx *t, char *id, size_t len)
{
    struct cd_response resp;
    struct cd_buf b;

    memset(&b, 0, sizeof(b));
    at_field(&b, "mode", "self-signed");
    at_field(&b, "confirm", "yes");
    at_body_end(&b);
    at_post(t, P_CERT, &b, &resp);
    cd_buf_free(&b);
    assert_int_equal(resp.status, 200);
    snprintf(id, len, "%s", at_str(resp.body, "release"));
    cd_api_response_clear(&resp);
}

/* The history row of release id in a status answer; it must be there. */
static json_t *
history_row(const json_t *body, const char *id)
{
    json_t *h = json_object_get(body, "history"), *row;
    size_t i;

    json_array_foreach(h, i, row)
        if (strcmp(at_str(row, "release"), id) == 0)
            return row;
    fail_msg("release %s is not in the history", id);
    return NULL;
}

/*
 * The case: A, then B, back to A, then a self-signed C: a
 * rollback goes to A, the one active before C, not to B, the one
 * installed before C.
 */
static void
test_cd_api_rollback_previously_active(void **state)
{
    struct at_fx *t = *state;
    struct cd_response resp;
    char a[64], b[64], c[64], cur[64];

    at_ensure(t, a, sizeof(a));
    at_install_good(t, b, sizeof(b));
    rollback(t, &resp);
    assert_rolled_back(&resp, a);
    cd_api_response_clear(&resp);
    install_self_signed(t, c, sizeof(c));
    at_current(t, cur, sizeof(cur));
    assert_string_equal(cur, c);

    /* the status answer says where a rollback goes */
    at_get(t, P_CERT, NULL, &resp);
    assert_true(json_is_true(json_object_get(history_row(resp.body, a),
        "previous")));
    assert_true(json_is_false(json_object_get(history_row(resp.body, b),
        "previous")));
    cd_api_response_clear(&resp);

    rollback(t, &resp);
    assert_rolled_back(&resp, a);
    cd_api_response_clear(&resp);
    /* a rollback undoes, like Back: from A nothing was active before */
    rollback(t, &resp);
    at_assert_error(&resp, "no_previous_release", NULL);
    cd_api_response_clear(&resp);
    /* Make active of B, then a rollback undoes it: A again */
    activate(t, b, &resp);
    assert_rolled_back(&resp, b);
    cd_api_response_clear(&resp);
    rollback(t, &resp);
    assert_rolled_back(&resp, a);
    cd_api_response_clear(&resp);
}

/* Any kept release can be made active again; the history says when. */
static void
test_cd_api_activate(void **state)
{
    struct at_fx *t = *state;
    struct cd_response resp;
    json_t *row, *spans, *last;
    char a[64], b[64], cur[64];

    at_ensure(t, a, sizeof(a));
    at_install_good(t, b, sizeof(b));
    rollback(t, &resp);
    assert_rolled_back(&resp, a);
    cd_api_response_clear(&resp);

    activate(t, b, &resp);
    assert_rolled_back(&resp, b);       /* the same answer as a rollback */
    at_current(t, cur, sizeof(cur));
    assert_string_equal(cur, b);
    assert_int_equal(at_releases(t), 2);

    /* B was current twice: once ended, once still */
    row = history_row(resp.body, b);
    assert_true(json_is_true(json_object_get(row, "current")));
    spans = json_object_get(row, "active");
    assert_int_equal(json_array_size(spans), 2);
    assert_true(json_is_string(json_object_get(json_array_get(spans, 0),
        "to")));
    last = json_array_get(spans, 1);
    at_str(last, "from");
    assert_true(json_is_null(json_object_get(last, "to")));
    /* A: from the first start to B, then from the rollback to now */
    row = history_row(resp.body, a);
    assert_int_equal(json_array_size(json_object_get(row, "active")), 2);
    assert_true(json_is_true(json_object_get(row, "previous")));
    /* what the dialog's confirmation names */
    assert_string_equal(at_str(row, "subject_cn"), "sensor.contoso.com");
    at_str(row, "not_after");
    assert_string_equal(at_str(row, "crl"), "off");
    assert_int_equal(json_integer_value(json_object_get(resp.body,
        "releases_kept")), 5);
    cd_api_response_clear(&resp);
}

static void
test_cd_api_activate_refused(void **state)
{
    struct at_fx *t = *state;
    struct cd_request rq;
    struct cd_response resp;
    char a[64], b[64], cur[64];

    at_ensure(t, a, sizeof(a));
    at_install_good(t, b, sizeof(b));
    activate(t, b, &resp);
    at_assert_error(&resp, "already_active", NULL);
    cd_api_response_clear(&resp);
    /* well formed, but no such release; and not an id at all */
    activate(t, "20200101T000000Z-0badc0de", &resp);
    at_assert_error(&resp, "no_such_release", NULL);
    cd_api_response_clear(&resp);
    activate(t, "..", &resp);
    at_assert_error(&resp, "no_such_release", NULL);
    cd_api_response_clear(&resp);
    /* only POST, and only from the appliance's own pages */
    {
        char path[160];

        snprintf(path, sizeof(path), P_HISTORY "%s/activate", a);
        at_request(&rq, "GET", path, NULL);
        assert_int_equal(at_run(t, &rq, &resp), -1);
        at_assert_error(&resp, "method_not_allowed", NULL);
        cd_api_response_clear(&resp);
        at_request(&rq, "POST", path, NULL);
        rq.origin = "https://evil.example";
        rq.sec_fetch_site = "cross-site";
        assert_int_equal(at_run(t, &rq, &resp), -1);
        at_assert_error(&resp, "forbidden", NULL);
        cd_api_response_clear(&resp);
    }
    /* a path with more after the id is no route */
    at_request(&rq, "POST", P_HISTORY "x/activate/more", NULL);
    assert_int_equal(at_run(t, &rq, &resp), -1);
    at_assert_error(&resp, "not_found", NULL);
    cd_api_response_clear(&resp);
    at_current(t, cur, sizeof(cur));
    assert_string_equal(cur, b);
}

/* The release a failed activation left: the current one stays. */
static void
test_cd_api_activate_unserved(void **state)
{
    struct at_fx *t = *state;
    struct cd_response resp;
    char a[64], b[64], cur[64];

    at_ensure(t, a, sizeof(a));
    at_install_good(t, b, sizeof(b));
    /* a reload that fails: the way back to B is taken */
    free(t->s.reload_command);
    t->s.reload_command = strdup("false");
    assert_non_null(t->s.reload_command);
    activate(t, a, &resp);
    /* the failure answer carries what the reload did */
    assert_int_equal(resp.status, 500);
    assert_string_equal(at_str(json_array_get(json_object_get(resp.body,
        "errors"), 0), "code"), "install_failed");
    assert_true(json_is_true(json_object_get(resp.body, "rolled_back")));
    assert_true(json_is_false(json_object_get(json_object_get(resp.body,
        "reload"), "ok")));
    cd_api_response_clear(&resp);
    at_current(t, cur, sizeof(cur));
    assert_string_equal(cur, b);
}

/* meta.json's "crl": what CRL checking did at install. */
static void
test_cd_meta_crl_outcome(void **state)
{
    struct cv_summary with_dp, no_dp;
    struct cd_install_files f;

    (void)state;
    memset(&with_dp, 0, sizeof(with_dp));
    with_dp.valid = 1;
    with_dp.n_crl_dp = 1;
    no_dp = with_dp;
    no_dp.n_crl_dp = 0;
    memset(&f, 0, sizeof(f));
    f.validation = "mandatory";
    assert_string_equal(cd_meta_crl_outcome(&f, &with_dp), "off");
    f.use_crl = 1;
    assert_string_equal(cd_meta_crl_outcome(&f, &with_dp), "checked");
    assert_string_equal(cd_meta_crl_outcome(&f, &no_dp), "no_dp");
    f.validation = "none";
    assert_string_equal(cd_meta_crl_outcome(&f, &with_dp), "not_enforced");
    assert_string_equal(cd_meta_crl_outcome(&f, &no_dp), "no_dp");
}

/* An upload with CRL checking on, of a certificate without a CDP. */
static void
test_cd_api_meta_crl_no_dp(void **state)
{
    struct at_fx *t = *state;
    struct cd_response resp;
    struct cd_buf b;
    json_t *cert;

    memset(&b, 0, sizeof(b));
    at_field(&b, "mode", "ca-signed");
    at_field(&b, "name", "No CDP");
    at_file_fx(&b, "key", "good.key");
    at_file_fx(&b, "crt", "no-cdp.pem");
    at_file_fx(&b, "chain", "chain.pem");
    /* "none": the chain's CRLs lead nowhere, and the leaf names none */
    at_field(&b, "use_crl", "on");
    at_field(&b, "validation", "none");
    at_body_end(&b);
    at_post(t, P_CERT, &b, &resp);
    cd_buf_free(&b);
    if (resp.status != 200)
        fail_msg("install of no-cdp.pem: %d %s", resp.status, at_text(&resp));
    cd_api_response_clear(&resp);
    at_get(t, P_CERT, NULL, &resp);
    cert = json_object_get(resp.body, "certificate");
    assert_string_equal(at_str(cert, "crl"), "no_dp");
    assert_true(json_is_true(json_object_get(cert, "use_crl")));
    cd_api_response_clear(&resp);
}

/*
 * The name check judges the address in use: good.pem names
 * sensor.contoso.com and 127.0.0.1.
 */
static void
validate_on(struct at_fx *t, const char *host, struct cd_response *resp)
{
    struct cd_request rq;
    struct cd_buf b;
    char len[32];

    memset(&b, 0, sizeof(b));
    at_upload(&b, "Sensor 1", "good.key", "good.pem", "chain.pem", NULL);
    at_request_body(&rq, P_VALIDATE, &b, len, sizeof(len));
    rq.host = host;
    rq.origin = NULL;           /* curl: no Origin to compare with Host */
    assert_int_equal(at_run(t, &rq, resp), 0);
    cd_buf_free(&b);
    assert_int_equal(resp->status, 200);
}

static const char *
name_warning(const struct cd_response *resp)
{
    json_t *w = json_object_get(resp->body, "warnings"), *f;
    size_t i;

    json_array_foreach(w, i, f)
        if (strcmp(at_str(f, "code"), "name_mismatch") == 0)
            return json_string_value(json_object_get(f, "detail"));
    return NULL;
}

static void
test_cd_api_name_check_address(void **state)
{
    struct at_fx *t = *state;
    struct cd_response resp;
    const char *d;

    /* covered: no warning, with the default host name "localhost" too */
    free(t->s.hostname);
    t->s.hostname = strdup("localhost");
    assert_non_null(t->s.hostname);
    validate_on(t, "127.0.0.1:8443", &resp);
    assert_null(name_warning(&resp));
    cd_api_response_clear(&resp);
    validate_on(t, "SENSOR.contoso.com", &resp);
    assert_null(name_warning(&resp));
    cd_api_response_clear(&resp);

    /* not covered: says what the address will show after Save */
    validate_on(t, "10.1.2.3", &resp);
    assert_non_null(d = name_warning(&resp));
    assert_non_null(strstr(d, "after Save, https://10.1.2.3/ will show a "
        "name error"));
    cd_api_response_clear(&resp);
    validate_on(t, "[2001:db8::1]:443", &resp);
    assert_non_null(d = name_warning(&resp));
    assert_non_null(strstr(d, "https://[2001:db8::1]/"));
    cd_api_response_clear(&resp);

    /* a real host name the certificate does not cover still counts */
    free(t->s.hostname);
    t->s.hostname = strdup("ot-gw.example.net");
    assert_non_null(t->s.hostname);
    validate_on(t, "127.0.0.1", &resp);
    assert_non_null(d = name_warning(&resp));
    assert_non_null(strstr(d, "ot-gw.example.net"));
    cd_api_response_clear(&resp);
}

#define T(f) cmocka_unit_test_setup_teardown(f, at_setup, at_teardown)

int
main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_cd_api_rollback_one_release),
        T(test_cd_api_rollback_nothing_installed),
        T(test_cd_api_rollback_two_releases),
        T(test_cd_api_rollback_three_releases),
        T(test_cd_api_rollback_cross_site),
        T(test_cd_api_rollback_previously_active),
        T(test_cd_api_activate),
        T(test_cd_api_activate_refused),
        T(test_cd_api_activate_unserved),
        cmocka_unit_test(test_cd_meta_crl_outcome),
        T(test_cd_api_meta_crl_no_dp),
        T(test_cd_api_name_check_address),
    };

    return cmocka_run_group_tests(tests, at_group_setup, at_group_teardown);
}
