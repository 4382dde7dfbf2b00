/*
 * test_api_rollback.c - POST /api/certificate/rollback through
 * fcgi/api.h: nothing to go back to (409), and back to the release
 * installed before the current one, with its reload.
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

#define P_CERT          "/api/certificate"
#define P_ROLLBACK      "/api/certificate/rollback"

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
    };

    return cmocka_run_group_tests(tests, at_group_setup, at_group_teardown);
}
