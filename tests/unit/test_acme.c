/*
 * test_acme.c - ACME renewal's settings and decisions (fcgi/acme.h): every
 * member of PUT /api/acme checked, the HMAC key kept across a PUT that
 * leaves it out but never answered, the stored file 0600 and read back,
 * the backoff's doubling and cap, and when a run renews.
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
#include <unistd.h>

#include <cmocka.h>

#include <jansson.h>

#include "acme.h"
#include "files.h"
#include "settings.h"

#define DIR_OK "\"directory\": \"https://ca.contoso.com/acme/directory\""

struct fx {
    struct cd_settings s;
    char dir[64];
};

static int
setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));
    char err[256];

    assert_non_null(f);
    snprintf(f->dir, sizeof(f->dir), "/tmp/test_acme.XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    assert_int_equal(cd_settings_load(&f->s, NULL, err, sizeof(err)), 0);
    free(f->s.state_dir);
    f->s.state_dir = strdup(f->dir);
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    struct fx *f = *state;
    char p[600];

    snprintf(p, sizeof(p), "%s/acme", f->dir);
    cd_remove_dir(p);
    rmdir(f->dir);
    cd_settings_free(&f->s);
    free(f);
    return 0;
}

/* Parses text: 0, or -1 with the field at fault in *fieldp. */
static int
parse(struct fx *f, const char *text, const struct cd_acme_config *old,
    struct cd_acme_config *c, const char **fieldp)
{
    char why[256];
    json_t *j = json_loads(text, 0, NULL);
    int r;

    assert_non_null(j);
    r = cd_acme_config_parse(&f->s, j, old, c, fieldp, why, sizeof(why));
    if (r != 0)
        assert_true(strlen(why) > 10);  /* a reason, always */
    json_decref(j);
    return r;
}

static void
refused(struct fx *f, const char *text, const char *field)
{
    struct cd_acme_config c;
    const char *got = NULL;
    char why[256];
    json_t *j = json_loads(text, 0, NULL);

    /* got may point into j (an unknown member's name): checked first */
    assert_non_null(j);
    if (cd_acme_config_parse(&f->s, j, NULL, &c, &got, why,
        sizeof(why)) == 0)
        fail_msg("accepted: %s", text);
    assert_true(strlen(why) > 10);
    if (field == NULL)
        assert_null(got);
    else {
        assert_non_null(got);
        assert_string_equal(got, field);
    }
    json_decref(j);
}

static void
test_cd_acme_config_refused(void **state)
{
    struct fx *f = *state;

    refused(f, "[]", NULL);
    refused(f, "{}", "directory");
    refused(f, "{\"directory\": \"http://ca.contoso.com/dir\"}", "directory");
    refused(f, "{\"directory\": \"https://\"}", "directory");
    refused(f, "{\"directory\": \"https://user@ca/dir\"}", "directory");
    refused(f, "{\"directory\": \"https://ca/a b\"}", "directory");
    refused(f, "{\"directory\": 5}", "directory");
    refused(f, "{" DIR_OK ", \"email\": \"nobody\"}", "email");
    refused(f, "{" DIR_OK ", \"email\": \"a@b@c\"}", "email");
    refused(f, "{" DIR_OK ", \"email\": \"a,b@c\"}", "email");
    refused(f, "{" DIR_OK ", \"eab_key_id\": \"kid\"}", "eab_hmac_key");
    refused(f, "{" DIR_OK ", \"eab_hmac_key\": \"abc\"}", "eab_key_id");
    refused(f, "{" DIR_OK ", \"eab_key_id\": \"k:d\", \"eab_hmac_key\": "
        "\"abc\"}", "eab_key_id");
    refused(f, "{" DIR_OK ", \"eab_key_id\": \"kid\", \"eab_hmac_key\": "
        "\"a+b/\"}", "eab_hmac_key");
    refused(f, "{" DIR_OK ", \"names\": \"host\"}", "names");
    refused(f, "{" DIR_OK ", \"names\": [\"*.contoso.com\"]}", "names");
    refused(f, "{" DIR_OK ", \"names\": [\"a.contoso.com\", "
        "\"A.contoso.com\"]}", "names");
    refused(f, "{" DIR_OK ", \"key_type\": \"dsa\"}", "key_type");
    /* the key policy is rsa: no EC key */
    refused(f, "{" DIR_OK ", \"key_type\": \"ec-p256\"}", "key_type");
    refused(f, "{" DIR_OK ", \"challenge\": \"dns-01\"}", "challenge");
    refused(f, "{" DIR_OK ", \"challenge\": \"tls-alpn-01\"}", "challenge");
    refused(f, "{" DIR_OK ", \"enabled\": \"yes\"}", "enabled");
    refused(f, "{" DIR_OK ", \"contact\": \"a@b\"}", "contact");
}

static void
test_cd_acme_config_accepted(void **state)
{
    struct fx *f = *state;
    struct cd_acme_config c;
    const char *field;

    assert_int_equal(parse(f, "{" DIR_OK "}", NULL, &c, &field), 0);
    assert_true(c.enabled);
    assert_int_equal(c.n_names, 0);
    assert_int_equal(c.key_type, CD_KEY_RSA2048);
    assert_string_equal(c.challenge, "http-01");
    assert_string_equal(c.email, "");
    assert_int_equal(parse(f, "{" DIR_OK ", \"enabled\": false, \"email\": "
        "\"pki@contoso.com\", \"names\": [\"sensor.contoso.com\", "
        "\"10.1.2.3\"], \"key_type\": \"rsa4096\"}", NULL, &c, &field), 0);
    assert_false(c.enabled);
    assert_int_equal(c.n_names, 2);
    assert_string_equal(c.names[1], "10.1.2.3");
    assert_int_equal(c.key_type, CD_KEY_RSA4096);
    /* EC under the key policy rsa+ec */
    free(f->s.key_policy);
    f->s.key_policy = strdup("rsa+ec");
    assert_int_equal(parse(f, "{" DIR_OK ", \"key_type\": \"ec-p384\"}",
        NULL, &c, &field), 0);
    assert_int_equal(c.key_type, CD_KEY_EC_P384);
}

static void
test_cd_acme_config_secret(void **state)
{
    struct fx *f = *state;
    struct cd_acme_config c, old, back;
    const char *field;
    char why[256], p[600], *text;
    struct stat st;
    json_t *j;

    assert_int_equal(parse(f, "{" DIR_OK ", \"eab_key_id\": \"kid-1\", "
        "\"eab_hmac_key\": \"c2VjcmV0LWtleQ\"}", NULL, &old, &field), 0);
    assert_int_equal(cd_acme_config_save(&f->s, &old, why, sizeof(why)), 0);
    snprintf(p, sizeof(p), "%s/acme/config.json", f->dir);
    assert_int_equal(stat(p, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(cd_acme_config_load(&f->s, &back, why, sizeof(why)), 1);
    assert_string_equal(back.eab_hmac, "c2VjcmV0LWtleQ");
    assert_string_equal(back.directory, old.directory);

    /* GET: only that one is set */
    j = cd_acme_config_json(&back);
    text = json_dumps(j, 0);
    assert_null(strstr(text, "c2VjcmV0LWtleQ"));
    assert_true(json_is_true(json_object_get(j, "eab_hmac_set")));
    free(text);
    json_decref(j);

    /* a PUT without the key keeps it for the same key id ... */
    assert_int_equal(parse(f, "{" DIR_OK ", \"eab_key_id\": \"kid-1\"}",
        &back, &c, &field), 0);
    assert_string_equal(c.eab_hmac, "c2VjcmV0LWtleQ");
    /* ... not for another, and null removes both */
    refused(f, "{" DIR_OK ", \"eab_key_id\": \"kid-2\"}", "eab_hmac_key");
    assert_int_equal(parse(f, "{" DIR_OK ", \"eab_key_id\": null, "
        "\"eab_hmac_key\": null}", &back, &c, &field), 0);
    assert_string_equal(c.eab_hmac, "");
    assert_string_equal(c.eab_kid, "");
}

static void
test_cd_acme_status_roundtrip(void **state)
{
    struct fx *f = *state;
    struct cd_acme_status st, back;
    char why[256];
    json_t *j;

    assert_int_equal(cd_acme_status_load(&f->s, &back), 0);
    assert_int_equal(back.last_attempt, 0);     /* none yet */
    memset(&st, 0, sizeof(st));
    st.last_attempt = 1796000000;
    st.failures = 2;
    st.next_attempt = 1796007200;
    snprintf(st.last_result, sizeof(st.last_result), "failed");
    snprintf(st.last_message, sizeof(st.last_message), "no answer");
    assert_int_equal(cd_acme_status_save(&f->s, &st, why, sizeof(why)), 0);
    assert_int_equal(cd_acme_status_load(&f->s, &back), 0);
    assert_int_equal(back.failures, 2);
    assert_int_equal(back.next_attempt, 1796007200);
    assert_string_equal(back.last_message, "no answer");
    j = cd_acme_status_json(&back, 0);
    assert_string_equal(json_string_value(json_object_get(j,
        "next_attempt")), "2026-11-30T02:53:20Z");
    assert_true(json_is_null(json_object_get(j, "last_success")));
    json_decref(j);
    assert_false(cd_acme_running(&f->s));
}

static void
test_cd_acme_backoff(void **state)
{
    (void)state;
    assert_int_equal(cd_acme_backoff(1), 3600);
    assert_int_equal(cd_acme_backoff(2), 7200);
    assert_int_equal(cd_acme_backoff(3), 14400);
    assert_int_equal(cd_acme_backoff(5), 57600);
    assert_int_equal(cd_acme_backoff(6), 86400);        /* capped */
    assert_int_equal(cd_acme_backoff(1000), 86400);
}

static void
test_cd_acme_due(void **state)
{
    struct cd_acme_served c;
    struct cd_acme_status st;
    time_t nb = 1000000, na = nb + 90 * 86400, next;
    time_t third = na - 30 * 86400;
    char why[128];

    (void)state;
    memset(&st, 0, sizeof(st));
    memset(&c, 0, sizeof(c));
    /* nothing served, or self-signed: due */
    assert_true(cd_acme_due(nb, &c, &st, 0, &next, why, sizeof(why)));
    c.present = 1;
    c.self_signed = 1;
    c.not_before = nb;
    c.not_after = na;
    c.names_match = 1;
    assert_true(cd_acme_due(nb, &c, &st, 0, &next, why, sizeof(why)));
    c.self_signed = 0;
    /* CA-signed, fresh: not before a third is left */
    assert_false(cd_acme_due(nb + 86400, &c, &st, 0, &next, why,
        sizeof(why)));
    assert_int_equal(next, third);
    assert_false(cd_acme_due(third - 1, &c, &st, 0, &next, why,
        sizeof(why)));
    assert_true(cd_acme_due(third, &c, &st, 0, &next, why, sizeof(why)));
    assert_true(cd_acme_due(na + 5, &c, &st, 0, &next, why, sizeof(why)));
    /* other names than configured: due */
    c.names_match = 0;
    assert_true(cd_acme_due(nb + 86400, &c, &st, 0, &next, why,
        sizeof(why)));
    c.names_match = 1;
    /* forced: always */
    assert_true(cd_acme_due(nb + 86400, &c, &st, 1, &next, why,
        sizeof(why)));
    /* after a failure: not before the next attempt, even when due */
    st.failures = 1;
    st.next_attempt = third + 3600;
    assert_false(cd_acme_due(third + 10, &c, &st, 0, &next, why,
        sizeof(why)));
    assert_int_equal(next, third + 3600);
    assert_true(cd_acme_due(third + 3600, &c, &st, 0, &next, why,
        sizeof(why)));
    assert_true(cd_acme_due(third + 10, &c, &st, 1, &next, why,
        sizeof(why)));
    assert_int_equal(cd_acme_renew_at(0, 90), 60);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_cd_acme_config_refused, setup,
            teardown),
        cmocka_unit_test_setup_teardown(test_cd_acme_config_accepted, setup,
            teardown),
        cmocka_unit_test_setup_teardown(test_cd_acme_config_secret, setup,
            teardown),
        cmocka_unit_test_setup_teardown(test_cd_acme_status_roundtrip, setup,
            teardown),
        cmocka_unit_test(test_cd_acme_backoff),
        cmocka_unit_test(test_cd_acme_due),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
