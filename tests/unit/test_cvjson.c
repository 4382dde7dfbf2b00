/*
 * test_reply.c - fcgi/reply.c: the JSON form of findings, summaries,
 * reports and request errors, built from hand-made cv_report values.
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

#include "cv.h"
#include "cvjson.h"

/* 2023-11-14T22:13:20Z and 2024-11-13T22:13:20Z */
#define T_NB 1700000000
#define T_NA (1700000000 + 365 * 86400)

#define FPR "AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:" \
    "AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89"

static const char *const finding_keys[] = {
    "code", "message", "field", "detail"
};
static const char *const report_keys[] = {
    "ok", "certificate", "errors", "warnings"
};
static const char *const error_keys[] = {
    "ok", "errors", "warnings"
};
static const char *const summary_keys[] = {
    "subject", "subject_cn", "issuer", "serial", "not_before", "not_after",
    "days_left", "key_type", "key_bits", "signature_algorithm",
    "sha256_fingerprint", "self_signed", "san", "crl_distribution_points"
};

#define NKEYS(a) (sizeof(a) / sizeof((a)[0]))

/* obj has exactly these keys, in this order, in the dumped text. */
static void
assert_keys(const json_t *obj, const char *const *keys, size_t n)
{
    char *text = NULL, *p, needle[64];
    size_t i;

    assert_non_null(obj);
    assert_true(json_is_object(obj));
    assert_int_equal(json_object_size(obj), n);
    text = cvjson_dumps(obj);
    assert_non_null(text);
    p = text;
    for (i = 0; i < n; i++) {
        snprintf(needle, sizeof(needle), "\n  \"%s\": ", keys[i]);
        p = strstr(p, needle);
        if (p == NULL)
            fail_msg("key \"%s\" missing or out of order in:\n%s", keys[i],
                text);
        p += strlen(needle);
    }
    free(text);
}

static void
assert_str(const json_t *obj, const char *key, const char *want)
{
    const json_t *v = json_object_get(obj, key);

    if (!json_is_string(v))
        fail_msg("\"%s\" is not a string", key);
    assert_string_equal(json_string_value(v), want);
}

static void
assert_json_null(const json_t *obj, const char *key)
{
    const json_t *v = json_object_get(obj, key);

    assert_non_null(v);
    assert_true(json_is_null(v));
}

static void
assert_finding(const json_t *f, enum cv_code code, const char *field,
    const char *detail)
{
    assert_keys(f, finding_keys, NKEYS(finding_keys));
    assert_str(f, "code", cv_code_name(code));
    assert_str(f, "message", cv_code_message(code));
    if (field != NULL)
        assert_str(f, "field", field);
    else
        assert_json_null(f, "field");
    if (detail != NULL)
        assert_str(f, "detail", detail);
    else
        assert_json_null(f, "detail");
}

static struct cv_report *
report_new(void)
{
    struct cv_report *rep = calloc(1, sizeof(*rep));

    assert_non_null(rep);
    return rep;
}

static void
summary_fill(struct cv_summary *s)
{
    memset(s, 0, sizeof(*s));
    s->valid = 1;
    snprintf(s->subject, sizeof(s->subject), "%s",
        "C = US, O = Contoso Ltd, OU = Contoso Labs, CN = sensor.contoso.com");
    snprintf(s->subject_cn, sizeof(s->subject_cn), "sensor.contoso.com");
    snprintf(s->issuer, sizeof(s->issuer), "CN = Contoso Test Int");
    snprintf(s->serial, sizeof(s->serial), "01:02:0A");
    s->not_before = T_NB;
    s->not_after = T_NA;
    s->days_left = 42;
    snprintf(s->key_type, sizeof(s->key_type), "RSA");
    s->key_bits = 2048;
    snprintf(s->signature_algorithm, sizeof(s->signature_algorithm),
        "sha256WithRSAEncryption");
    snprintf(s->sha256, sizeof(s->sha256), "%s", FPR);
    s->self_signed = 0;
    s->n_san = 2;
    snprintf(s->san[0], sizeof(s->san[0]), "DNS:sensor.contoso.com");
    snprintf(s->san[1], sizeof(s->san[1]), "IP:127.0.0.1");
    s->n_crl_dp = 1;
    snprintf(s->crl_dp[0], sizeof(s->crl_dp[0]), "http://127.0.0.1:1/int.crl");
}

/* ---- cvjson_finding ---- */

static void
test_cvjson_finding_fields(void **state)
{
    char detail[] = "modulus differs";
    struct cv_finding f = { CV_KEY_MISMATCH, 1, "key", detail };
    json_t *j = cvjson_finding(&f);

    (void)state;
    assert_finding(j, CV_KEY_MISMATCH, "key", "modulus differs");
    assert_str(j, "code", "key_mismatch");
    json_decref(j);
}

static void
test_cvjson_finding_null_field_and_detail(void **state)
{
    struct cv_finding f = { CV_EXPIRED, 1, NULL, NULL };
    json_t *j = cvjson_finding(&f);

    (void)state;
    assert_finding(j, CV_EXPIRED, NULL, NULL);
    json_decref(j);
}

static void
test_cvjson_finding_null(void **state)
{
    (void)state;
    assert_null(cvjson_finding(NULL));
}

/* The six documented strings, byte for byte (docs/API.md "Codes"). */
static void
test_cvjson_finding_documented_messages(void **state)
{
    static const struct {
        enum cv_code code;
        const char *name;
        const char *message;
    } six[] = {
        { CV_PASSPHRASE_MISMATCH, "passphrase_mismatch",
          "Passphrase does not match to the key" },
        { CV_CHAIN_UNTRUSTED, "chain_untrusted",
          "Cannot validate chain of trust. The provided Certificate and "
          "Root CA don't match." },
        { CV_EXPIRED, "expired",
          "This SSL certificate has expired and isn't considered valid." },
        { CV_REVOKED, "revoked",
          "This certificate has been revoked by the CRL and can't be "
          "trusted for a secure connection" },
        { CV_CRL_UNREACHABLE, "crl_unreachable",
          "The CRL (Certificate Revocation List) location is not "
          "reachable. Verify the URL can be accessed from this appliance" },
        { CV_VALIDATION_FAILED, "validation_failed",
          "Certificate validation failed" },
    };
    struct cv_finding f = { CV_OK, 1, NULL, NULL };
    json_t *j = NULL;
    char *text = NULL, want[512];
    size_t i;

    (void)state;
    for (i = 0; i < NKEYS(six); i++) {
        f.code = six[i].code;
        j = cvjson_finding(&f);
        assert_non_null(j);
        assert_str(j, "code", six[i].name);
        assert_str(j, "message", six[i].message);
        /* and in the text as sent: no escaping of ' or . or () */
        text = cvjson_dumps(j);
        assert_non_null(text);
        snprintf(want, sizeof(want), "\"message\": \"%s\"", six[i].message);
        assert_non_null(strstr(text, want));
        free(text);
        json_decref(j);
    }
}

/* An unknown code is never a crash: validation_failed's words. */
static void
test_cvjson_finding_out_of_range_code(void **state)
{
    struct cv_finding f = { (enum cv_code)9999, 1, NULL, NULL };
    json_t *j = cvjson_finding(&f);

    (void)state;
    assert_non_null(j);
    assert_str(j, "code", "validation_failed");
    assert_str(j, "message", "Certificate validation failed");
    json_decref(j);
}

/* OpenSSL or a certificate may hand over bytes that are not UTF-8. */
static void
test_cvjson_finding_invalid_utf8(void **state)
{
    char detail[] = "caf\xe9 \xc3\xa9 \xed\xa0\x80 \xf4\x90\x80\x80 \xc0\xaf";
    struct cv_finding f = { CV_UNREADABLE_CRT, 1, "crt", detail };
    json_t *j = cvjson_finding(&f);

    (void)state;
    assert_non_null(j);
    /* valid é kept; lone byte, surrogate, > U+10FFFF, overlong replaced */
    assert_str(j, "detail", "caf\xef\xbf\xbd \xc3\xa9 "
        "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd "
        "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd "
        "\xef\xbf\xbd\xef\xbf\xbd");
    json_decref(j);
}

/* ---- cvjson_summary ---- */

static void
test_cvjson_summary_fields(void **state)
{
    struct cv_summary s;
    const json_t *a;
    json_t *j = NULL;

    (void)state;
    summary_fill(&s);
    j = cvjson_summary(&s);
    assert_keys(j, summary_keys, NKEYS(summary_keys));
    assert_str(j, "subject",
        "C = US, O = Contoso Ltd, OU = Contoso Labs, CN = sensor.contoso.com");
    assert_str(j, "subject_cn", "sensor.contoso.com");
    assert_str(j, "issuer", "CN = Contoso Test Int");
    assert_str(j, "serial", "01:02:0A");
    assert_str(j, "not_before", "2023-11-14T22:13:20Z");
    assert_str(j, "not_after", "2024-11-13T22:13:20Z");
    assert_true(json_is_integer(json_object_get(j, "days_left")));
    assert_int_equal(json_integer_value(json_object_get(j, "days_left")), 42);
    assert_str(j, "key_type", "RSA");
    assert_int_equal(json_integer_value(json_object_get(j, "key_bits")),
        2048);
    assert_str(j, "signature_algorithm", "sha256WithRSAEncryption");
    assert_str(j, "sha256_fingerprint", FPR);
    assert_true(json_is_false(json_object_get(j, "self_signed")));
    a = json_object_get(j, "san");
    assert_true(json_is_array(a));
    assert_int_equal(json_array_size(a), 2);
    assert_string_equal(json_string_value(json_array_get(a, 0)),
        "DNS:sensor.contoso.com");
    assert_string_equal(json_string_value(json_array_get(a, 1)),
        "IP:127.0.0.1");
    a = json_object_get(j, "crl_distribution_points");
    assert_true(json_is_array(a));
    assert_int_equal(json_array_size(a), 1);
    assert_string_equal(json_string_value(json_array_get(a, 0)),
        "http://127.0.0.1:1/int.crl");
    json_decref(j);
}

static void
test_cvjson_summary_self_signed_expired(void **state)
{
    struct cv_summary s;
    json_t *j = NULL;

    (void)state;
    summary_fill(&s);
    s.self_signed = 1;
    s.days_left = -30;
    s.n_san = 0;
    s.n_crl_dp = 0;
    j = cvjson_summary(&s);
    assert_non_null(j);
    assert_true(json_is_true(json_object_get(j, "self_signed")));
    assert_int_equal(json_integer_value(json_object_get(j, "days_left")),
        -30);
    assert_int_equal(json_array_size(json_object_get(j, "san")), 0);
    assert_int_equal(json_array_size(json_object_get(j,
        "crl_distribution_points")), 0);
    json_decref(j);
}

static void
test_cvjson_summary_not_valid(void **state)
{
    struct cv_summary s;

    (void)state;
    summary_fill(&s);
    s.valid = 0;
    assert_null(cvjson_summary(&s));
    assert_null(cvjson_summary(NULL));
}

/* Counts past CV_MAX_LIST and unterminated arrays stay inside the struct. */
static void
test_cvjson_summary_bounds(void **state)
{
    struct cv_summary s;
    json_t *j = NULL;
    const char *cn;
    size_t i;

    (void)state;
    summary_fill(&s);
    for (i = 0; i < CV_MAX_LIST; i++)
        snprintf(s.san[i], sizeof(s.san[i]), "DNS:h%zu.example.com", i);
    s.n_san = CV_MAX_LIST + 5;
    memset(s.subject_cn, 'a', sizeof(s.subject_cn));    /* no NUL */
    j = cvjson_summary(&s);
    assert_non_null(j);
    assert_int_equal(json_array_size(json_object_get(j, "san")),
        CV_MAX_LIST);
    cn = json_string_value(json_object_get(j, "subject_cn"));
    assert_non_null(cn);
    assert_int_equal(strlen(cn), sizeof(s.subject_cn));
    json_decref(j);
}

/* A T61String CN copied raw (Latin-1) must not lose the whole answer. */
static void
test_cvjson_summary_latin1(void **state)
{
    struct cv_summary s;
    json_t *j = NULL;

    (void)state;
    summary_fill(&s);
    snprintf(s.subject_cn, sizeof(s.subject_cn), "caf\xe9.example.com");
    snprintf(s.san[0], sizeof(s.san[0]), "DNS:\xff");
    j = cvjson_summary(&s);
    assert_non_null(j);
    assert_str(j, "subject_cn", "caf\xef\xbf\xbd.example.com");
    assert_string_equal(json_string_value(json_array_get(json_object_get(j,
        "san"), 0)), "DNS:\xef\xbf\xbd");
    json_decref(j);
}

/* ---- cvjson_report ---- */

static void
test_cvjson_report_empty_ok(void **state)
{
    struct cv_report *rep = report_new();
    json_t *j = NULL;

    (void)state;
    j = cvjson_report(rep);
    assert_keys(j, report_keys, NKEYS(report_keys));
    assert_true(json_is_true(json_object_get(j, "ok")));
    assert_json_null(j, "certificate");
    assert_int_equal(json_array_size(json_object_get(j, "errors")), 0);
    assert_int_equal(json_array_size(json_object_get(j, "warnings")), 0);
    json_decref(j);
    cv_report_free(rep);
}

/* Errors and warnings split by blocking, each in report order. */
static void
test_cvjson_report_split(void **state)
{
    struct cv_report *rep = report_new();
    const json_t *errs, *warns;
    json_t *j = NULL;

    (void)state;
    cv_report_add(rep, CV_EXPIRES_SOON, "crt", "%d days left", 10);
    cv_report_add(rep, CV_EXPIRED, "chain", "CN=%s", "Contoso Test Int");
    cv_report_add(rep, CV_NAME_MISMATCH, "crt", NULL);
    cv_report_add(rep, CV_WEAK_KEY, "crt", "RSA %d bits", 1024);
    cv_report_add(rep, CV_SUBJECT_INCOMPLETE, "crt", "missing: OU");
    assert_int_equal(rep->n_findings, 5);
    j = cvjson_report(rep);
    assert_keys(j, report_keys, NKEYS(report_keys));
    assert_true(json_is_false(json_object_get(j, "ok")));
    errs = json_object_get(j, "errors");
    warns = json_object_get(j, "warnings");
    assert_int_equal(json_array_size(errs), 3);
    assert_int_equal(json_array_size(warns), 2);
    assert_finding(json_array_get(errs, 0), CV_EXPIRED, "chain",
        "CN=Contoso Test Int");
    assert_finding(json_array_get(errs, 1), CV_WEAK_KEY, "crt",
        "RSA 1024 bits");
    assert_finding(json_array_get(errs, 2), CV_SUBJECT_INCOMPLETE, "crt",
        "missing: OU");
    assert_finding(json_array_get(warns, 0), CV_EXPIRES_SOON, "crt",
        "10 days left");
    assert_finding(json_array_get(warns, 1), CV_NAME_MISMATCH, "crt", NULL);
    json_decref(j);
    cv_report_free(rep);
}

/* The split follows the finding's blocking flag (validation=none). */
static void
test_cvjson_report_blocking_flag(void **state)
{
    struct cv_report *rep = report_new();
    json_t *j = NULL;

    (void)state;
    cv_report_add(rep, CV_EXPIRED, "crt", NULL);
    cv_report_add(rep, CV_CHAIN_UNTRUSTED, "chain", NULL);
    rep->findings[0].blocking = 0;
    rep->findings[1].blocking = 0;
    j = cvjson_report(rep);
    assert_non_null(j);
    assert_true(json_is_true(json_object_get(j, "ok")));
    assert_int_equal(json_array_size(json_object_get(j, "errors")), 0);
    assert_int_equal(json_array_size(json_object_get(j, "warnings")), 2);
    assert_str(json_array_get(json_object_get(j, "warnings"), 0), "code",
        "expired");
    assert_str(json_array_get(json_object_get(j, "warnings"), 1), "code",
        "chain_untrusted");
    json_decref(j);

    rep->findings[1].blocking = 1;
    j = cvjson_report(rep);
    assert_true(json_is_false(json_object_get(j, "ok")));
    assert_int_equal(json_array_size(json_object_get(j, "errors")), 1);
    assert_str(json_array_get(json_object_get(j, "errors"), 0), "code",
        "chain_untrusted");
    json_decref(j);
    cv_report_free(rep);
}

static void
test_cvjson_report_certificate(void **state)
{
    struct cv_report *rep = report_new();
    const json_t *cert;
    json_t *j = NULL;

    (void)state;
    summary_fill(&rep->summary);
    cv_report_add(rep, CV_EXPIRES_SOON, "crt", NULL);
    j = cvjson_report(rep);
    assert_keys(j, report_keys, NKEYS(report_keys));
    assert_true(json_is_true(json_object_get(j, "ok")));
    cert = json_object_get(j, "certificate");
    assert_keys(cert, summary_keys, NKEYS(summary_keys));
    assert_str(cert, "sha256_fingerprint", FPR);
    assert_str(cert, "not_after", "2024-11-13T22:13:20Z");
    json_decref(j);
    cv_report_free(rep);
}

static void
test_cvjson_report_null(void **state)
{
    (void)state;
    assert_null(cvjson_report(NULL));
}

/* The whole text as certdialog-check prints it. */
static void
test_cvjson_report_text(void **state)
{
    struct cv_report *rep = report_new();
    json_t *j = NULL;
    char *text = NULL;

    (void)state;
    cv_report_add(rep, CV_PASSPHRASE_MISMATCH, "passphrase", NULL);
    j = cvjson_report(rep);
    text = cvjson_dumps(j);
    assert_non_null(text);
    assert_string_equal(text,
        "{\n"
        "  \"ok\": false,\n"
        "  \"certificate\": null,\n"
        "  \"errors\": [\n"
        "    {\n"
        "      \"code\": \"passphrase_mismatch\",\n"
        "      \"message\": \"Passphrase does not match to the key\",\n"
        "      \"field\": \"passphrase\",\n"
        "      \"detail\": null\n"
        "    }\n"
        "  ],\n"
        "  \"warnings\": []\n"
        "}\n");
    free(text);
    json_decref(j);
    cv_report_free(rep);
}

/* ---- cvjson_error ---- */

#define ERR(c) cv_code_name(c), cv_code_message(c)

static void
test_cvjson_error_shape(void **state)
{
    const json_t *errs;
    json_t *j = cvjson_error(ERR(CV_UNREADABLE_CRT), "crt", "300000 bytes");

    (void)state;
    assert_keys(j, error_keys, NKEYS(error_keys));
    assert_true(json_is_false(json_object_get(j, "ok")));
    errs = json_object_get(j, "errors");
    assert_true(json_is_array(errs));
    assert_int_equal(json_array_size(errs), 1);
    assert_finding(json_array_get(errs, 0), CV_UNREADABLE_CRT, "crt",
        "300000 bytes");
    assert_true(json_is_array(json_object_get(j, "warnings")));
    assert_int_equal(json_array_size(json_object_get(j, "warnings")), 0);
    json_decref(j);
}

static void
test_cvjson_error_nulls(void **state)
{
    json_t *j = cvjson_error(ERR(CV_VALIDATION_FAILED), NULL, NULL);

    (void)state;
    assert_non_null(j);
    assert_finding(json_array_get(json_object_get(j, "errors"), 0),
        CV_VALIDATION_FAILED, NULL, NULL);
    json_decref(j);
}

/* ---- cvjson_dumps ---- */

static void
test_cvjson_dumps_text(void **state)
{
    json_t *j = cvjson_error(ERR(CV_MISSING_FIELD), "key", NULL);
    char *text = NULL, want[1024];

    (void)state;
    text = cvjson_dumps(j);
    assert_non_null(text);
    snprintf(want, sizeof(want),
        "{\n"
        "  \"ok\": false,\n"
        "  \"errors\": [\n"
        "    {\n"
        "      \"code\": \"missing_field\",\n"
        "      \"message\": \"%s\",\n"
        "      \"field\": \"key\",\n"
        "      \"detail\": null\n"
        "    }\n"
        "  ],\n"
        "  \"warnings\": []\n"
        "}\n", cv_code_message(CV_MISSING_FIELD));
    assert_string_equal(text, want);
    free(text);
    json_decref(j);
}

static void
test_cvjson_dumps_null(void **state)
{
    (void)state;
    assert_null(cvjson_dumps(NULL));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cvjson_finding_fields),
        cmocka_unit_test(test_cvjson_finding_null_field_and_detail),
        cmocka_unit_test(test_cvjson_finding_null),
        cmocka_unit_test(test_cvjson_finding_documented_messages),
        cmocka_unit_test(test_cvjson_finding_out_of_range_code),
        cmocka_unit_test(test_cvjson_finding_invalid_utf8),
        cmocka_unit_test(test_cvjson_summary_fields),
        cmocka_unit_test(test_cvjson_summary_self_signed_expired),
        cmocka_unit_test(test_cvjson_summary_not_valid),
        cmocka_unit_test(test_cvjson_summary_bounds),
        cmocka_unit_test(test_cvjson_summary_latin1),
        cmocka_unit_test(test_cvjson_report_empty_ok),
        cmocka_unit_test(test_cvjson_report_split),
        cmocka_unit_test(test_cvjson_report_blocking_flag),
        cmocka_unit_test(test_cvjson_report_certificate),
        cmocka_unit_test(test_cvjson_report_null),
        cmocka_unit_test(test_cvjson_report_text),
        cmocka_unit_test(test_cvjson_error_shape),
        cmocka_unit_test(test_cvjson_error_nulls),
        cmocka_unit_test(test_cvjson_dumps_text),
        cmocka_unit_test(test_cvjson_dumps_null),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
