/*
 * test_api_acme.c - /api/acme through fcgi/api.h: nothing set up, then a
 * configuration stored (0600) and read back without its HMAC key, a bad
 * one refused with its field, "renew now" before a configuration and in
 * a service that cannot start a run, and the public http-01 answers of
 * /api/acme/challenge/TOKEN: only a token's own file, nothing else.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include <jansson.h>

#define CD_FIXTURE_CMOCKA
#include "fixture.h"
#include "apitest.h"

#define HMAC "c2VjcmV0LWhtYWMta2V5LWZvci10ZXN0cw"
#define GOOD "{\"directory\": \"https://ca.contoso.com/acme/directory\", " \
    "\"email\": \"pki@contoso.com\", \"eab_key_id\": \"kid-1\", " \
    "\"eab_hmac_key\": \"" HMAC "\"}"

static void
test_cd_acme_none(void **state)
{
    struct at_fx *t = *state;
    struct cd_response resp;

    at_get(t, "/api/acme", NULL, &resp);
    assert_int_equal(resp.status, 200);
    assert_true(json_is_null(json_object_get(resp.body, "config")));
    assert_true(json_is_false(json_object_get(json_object_get(resp.body,
        "status"), "running")));
    cd_api_response_clear(&resp);
    at_json(t, "POST", "/api/acme/renew", NULL, &resp);
    at_assert_error(&resp, "acme_not_configured", NULL);
    cd_api_response_clear(&resp);
}

static void
test_cd_acme_put_get(void **state)
{
    struct at_fx *t = *state;
    struct cd_response resp;
    char p[256], *text;
    struct stat st;

    at_json(t, "PUT", "/api/acme", GOOD, &resp);
    assert_int_equal(resp.status, 200);
    text = at_text(&resp);
    assert_null(strstr(text, HMAC));
    free(text);
    cd_api_response_clear(&resp);
    snprintf(p, sizeof(p), "%s/acme/config.json", t->dir);
    assert_int_equal(stat(p, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);

    at_get(t, "/api/acme", NULL, &resp);
    assert_int_equal(resp.status, 200);
    text = at_text(&resp);
    assert_null(strstr(text, HMAC));
    free(text);
    assert_true(json_is_true(json_object_get(json_object_get(resp.body,
        "config"), "eab_hmac_set")));
    assert_string_equal(at_str(json_object_get(resp.body, "config"),
        "eab_key_id"), "kid-1");
    cd_api_response_clear(&resp);

    at_json(t, "PUT", "/api/acme", "{\"directory\": \"ftp://ca\"}", &resp);
    at_assert_error(&resp, "bad_request", "directory");
    cd_api_response_clear(&resp);
    at_json(t, "PUT", "/api/acme", "{\"directory\": \"https://ca/d\", "
        "\"key\": 1}", &resp);
    at_assert_error(&resp, "bad_request", "key");
    cd_api_response_clear(&resp);

    /* this process was not started with a settings file: no run */
    at_json(t, "POST", "/api/acme/renew", NULL, &resp);
    at_assert_error(&resp, "unavailable", NULL);
    cd_api_response_clear(&resp);
}

static void
challenge(struct at_fx *t, const char *path, struct cd_response *resp)
{
    struct cd_request rq;

    /* as nginx's port-80 server passes it: no credentials, plain HTTP */
    memset(&rq, 0, sizeof(rq));
    rq.method = "GET";
    rq.path = path;
    rq.remote_addr = AT_CLIENT;
    memset(resp, 0, sizeof(*resp));
    at_run(t, &rq, resp);
}

static void
test_cd_acme_challenge(void **state)
{
    struct at_fx *t = *state;
    struct cd_response resp;
    char p[256];
    FILE *f;

    snprintf(p, sizeof(p), "%s/acme", t->dir);
    assert_int_equal(mkdir(p, 0700), 0);
    snprintf(p, sizeof(p), "%s/acme/challenge", t->dir);
    assert_int_equal(mkdir(p, 0700), 0);
    snprintf(p, sizeof(p), "%s/acme/challenge/Tok_en-1", t->dir);
    assert_non_null(f = fopen(p, "w"));
    fputs("Tok_en-1.thumbprint", f);
    fclose(f);
    challenge(t, "/api/acme/challenge/Tok_en-1", &resp);
    assert_int_equal(resp.status, 200);
    assert_non_null(resp.raw);
    assert_int_equal(resp.raw_len, strlen("Tok_en-1.thumbprint"));
    assert_memory_equal(resp.raw, "Tok_en-1.thumbprint", resp.raw_len);
    assert_string_equal(resp.content_type, "text/plain");
    cd_api_response_clear(&resp);

    challenge(t, "/api/acme/challenge/nothere", &resp);
    at_assert_error(&resp, "not_found", NULL);
    cd_api_response_clear(&resp);
    /* a name that is no token, however it reached us */
    challenge(t, "/api/acme/challenge/..", &resp);
    at_assert_error(&resp, "not_found", NULL);
    cd_api_response_clear(&resp);
    challenge(t, "/api/acme/challenge/a.b", &resp);
    at_assert_error(&resp, "not_found", NULL);
    cd_api_response_clear(&resp);
    /* the settings stay the admin's */
    challenge(t, "/api/acme", &resp);
    at_assert_error(&resp, "not_signed_in", NULL);
    cd_api_response_clear(&resp);
}

#define T(f) cmocka_unit_test_setup_teardown(f, at_setup, at_teardown)

int
main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_cd_acme_none),
        T(test_cd_acme_put_get),
        T(test_cd_acme_challenge),
    };

    return cmocka_run_group_tests(tests, at_group_setup, at_group_teardown);
}
