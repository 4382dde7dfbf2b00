/*
 * test_codes.c - validate/codes.c and validate/cv_codes.def: the one table
 * of findings.  Every code has a unique JSON name, a non-empty message and
 * the kind docs/API.md "Codes" implies; the six vendor messages are byte
 * for byte what the vendor's documents print; name <-> code lookups
 * round-trip; the report's blocking flag follows the kind.
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

#include "cv.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/*
 * The six documented vendor strings, byte for byte, copied from the
 * vendor's documents (not from cv_codes.def; docs/API.md "Codes" lists
 * them too, and test_api_doc checks that table against the .def).
 */
static const struct {
    enum cv_code code;
    const char *name;
    const char *message;
} vendor[] = {
    { CV_PASSPHRASE_MISMATCH, "passphrase_mismatch",
      "Passphrase does not match to the key" },
    { CV_CHAIN_UNTRUSTED, "chain_untrusted",
      "Cannot validate chain of trust. The provided Certificate and Root CA "
      "don't match." },
    { CV_EXPIRED, "expired",
      "This SSL certificate has expired and isn't considered valid." },
    { CV_REVOKED, "revoked",
      "This certificate has been revoked by the CRL and can't be trusted for "
      "a secure connection" },
    { CV_CRL_UNREACHABLE, "crl_unreachable",
      "The CRL (Certificate Revocation List) location is not reachable. "
      "Verify the URL can be accessed from this appliance" },
    { CV_VALIDATION_FAILED, "validation_failed",
      "Certificate validation failed" },
};

/*
 * Every code of the table with the JSON name docs/API.md "Codes" fixes and
 * the kind
 * it implies: warnings never block; with validation=none only unreadable
 * input, a wrong passphrase, a key that does not match (and what cannot be
 * an upload at all: bad characters, missing fields, a bad name, an internal
 * failure, request-level answers) still block.
 */
static const struct {
    enum cv_code code;
    const char *name;
    enum cv_kind kind;
} expect[] = {
    { CV_PASSPHRASE_MISMATCH, "passphrase_mismatch", CV_HARD },
    { CV_CHAIN_UNTRUSTED, "chain_untrusted", CV_ERROR },
    { CV_EXPIRED, "expired", CV_ERROR },
    { CV_REVOKED, "revoked", CV_ERROR },
    { CV_CRL_UNREACHABLE, "crl_unreachable", CV_ERROR },
    { CV_VALIDATION_FAILED, "validation_failed", CV_HARD },
    { CV_KEY_MISMATCH, "key_mismatch", CV_HARD },
    { CV_NOT_YET_VALID, "not_yet_valid", CV_ERROR },
    { CV_WEAK_KEY, "weak_key", CV_ERROR },
    { CV_SIGNATURE_ALGORITHM, "signature_algorithm", CV_ERROR },
    { CV_SUBJECT_INCOMPLETE, "subject_incomplete", CV_ERROR },
    { CV_WILDCARD_CN, "wildcard_cn", CV_ERROR },
    { CV_NOT_SERVER_CERT, "not_server_cert", CV_ERROR },
    { CV_CRL_NOT_HTTP, "crl_not_http", CV_ERROR },
    { CV_CRL_INVALID, "crl_invalid", CV_ERROR },
    { CV_UNREADABLE_KEY, "unreadable_key", CV_HARD },
    { CV_UNREADABLE_CRT, "unreadable_crt", CV_HARD },
    { CV_UNREADABLE_CHAIN, "unreadable_chain", CV_HARD },
    { CV_PASSPHRASE_CHARSET, "passphrase_charset", CV_HARD },
    { CV_MISSING_FIELD, "missing_field", CV_HARD },
    { CV_BAD_NAME, "bad_name", CV_HARD },
    { CV_UNUSABLE_KEY, "unusable_key", CV_HARD },
    { CV_NAME_MISMATCH, "name_mismatch", CV_WARNING },
    { CV_NO_CRL_DP, "no_crl_dp", CV_WARNING },
    { CV_EXPIRES_SOON, "expires_soon", CV_WARNING },
    { CV_CHAIN_EXTRA, "chain_extra", CV_WARNING },
    { CV_NAME_CONSTRAINTS, "name_constraints", CV_ERROR },
    { CV_POLICY, "policy", CV_ERROR },
    { CV_MISSING_KEY_IDENTIFIER, "missing_key_identifier", CV_ERROR },
    { CV_MALFORMED_CERTIFICATE, "malformed_certificate", CV_ERROR },
    { CV_UNHANDLED_CRITICAL_EXTENSION, "unhandled_critical_extension",
      CV_ERROR },
    { CV_UNREADABLE_CSR, "unreadable_csr", CV_HARD },
    { CV_CSR_SIGNATURE, "csr_signature", CV_HARD },
};

/* ---- the table as a whole ---- */

static void
test_codes_table_complete(void **state)
{
    size_t i;
    int seen[CV_CODE_COUNT];

    (void)state;
    /* a code added to cv_codes.def must be added to expect[] too */
    assert_int_equal(NELEM(expect), CV_CODE_COUNT - 1);
    memset(seen, 0, sizeof(seen));
    for (i = 0; i < NELEM(expect); i++) {
        assert_true(expect[i].code > CV_OK);
        assert_true(expect[i].code < CV_CODE_COUNT);
        assert_int_equal(seen[expect[i].code], 0);
        seen[expect[i].code] = 1;
    }
    /* the vendor's six come first, in the documents' order */
    for (i = 0; i < NELEM(vendor); i++)
        assert_int_equal(vendor[i].code, (enum cv_code)(CV_OK + 1 + i));
}

static void
test_cv_code_name_unique_and_wellformed(void **state)
{
    int i, j;
    const char *n, *p;

    (void)state;
    for (i = CV_OK + 1; i < CV_CODE_COUNT; i++) {
        n = cv_code_name((enum cv_code)i);
        assert_non_null(n);
        assert_true(strlen(n) > 0);
        assert_true(strlen(n) < 64);
        for (p = n; *p != '\0'; p++)
            if (!((*p >= 'a' && *p <= 'z') || *p == '_'))
                fail_msg("code %d: name \"%s\" is not [a-z_]+", i, n);
        assert_true(n[0] != '_');
        assert_true(n[strlen(n) - 1] != '_');
        assert_string_not_equal(n, "ok");
        for (j = CV_OK + 1; j < i; j++)
            if (strcmp(n, cv_code_name((enum cv_code)j)) == 0)
                fail_msg("codes %d and %d share the name \"%s\"", j, i, n);
    }
}

static void
test_cv_code_name_as_spec(void **state)
{
    size_t i;

    (void)state;
    for (i = 0; i < NELEM(expect); i++)
        assert_string_equal(cv_code_name(expect[i].code), expect[i].name);
}

static void
test_cv_code_message_nonempty_unique(void **state)
{
    int i, j;
    const char *m;
    size_t len;

    (void)state;
    for (i = CV_OK + 1; i < CV_CODE_COUNT; i++) {
        m = cv_code_message((enum cv_code)i);
        assert_non_null(m);
        len = strlen(m);
        if (len < 10)
            fail_msg("code %s: message \"%s\" too short",
                cv_code_name((enum cv_code)i), m);
        /* one line, no leading or trailing blanks, printable */
        assert_null(strchr(m, '\n'));
        assert_null(strchr(m, '\r'));
        assert_null(strchr(m, '\t'));
        assert_true(m[0] != ' ');
        assert_true(m[len - 1] != ' ');
        assert_true(m[0] >= 'A' && m[0] <= 'Z');
        for (j = 0; j < (int)len; j++)
            assert_true((unsigned char)m[j] >= 0x20 &&
                (unsigned char)m[j] != 0x7f);
        /* the message is not the JSON name */
        assert_string_not_equal(m, cv_code_name((enum cv_code)i));
        for (j = CV_OK + 1; j < i; j++)
            if (strcmp(m, cv_code_message((enum cv_code)j)) == 0)
                fail_msg("codes %s and %s share a message",
                    cv_code_name((enum cv_code)j),
                    cv_code_name((enum cv_code)i));
    }
}

static void
test_cv_code_message_vendor_exact(void **state)
{
    size_t i;
    const char *m;

    (void)state;
    for (i = 0; i < NELEM(vendor); i++) {
        m = cv_code_message(vendor[i].code);
        assert_string_equal(cv_code_name(vendor[i].code), vendor[i].name);
        assert_string_equal(m, vendor[i].message);
        assert_int_equal(strlen(m), strlen(vendor[i].message));
        assert_memory_equal(m, vendor[i].message, strlen(m) + 1);
    }
}

/* Spot checks of the bytes that are easy to get wrong. */
static void
test_cv_code_message_vendor_details(void **state)
{
    const char *m;

    (void)state;
    /* ASCII apostrophes, not typographic ones */
    m = cv_code_message(CV_CHAIN_UNTRUSTED);
    assert_non_null(strstr(m, "don't match."));
    assert_int_equal(m[strlen(m) - 1], '.');
    m = cv_code_message(CV_EXPIRED);
    assert_non_null(strstr(m, "isn't considered"));
    m = cv_code_message(CV_REVOKED);
    assert_non_null(strstr(m, "can't be trusted"));
    /* no final period on these three (as the documents print them) */
    assert_int_equal(m[strlen(m) - 1], 'n');
    m = cv_code_message(CV_CRL_UNREACHABLE);
    assert_int_equal(m[strlen(m) - 1], 'e');
    m = cv_code_message(CV_PASSPHRASE_MISMATCH);
    assert_int_equal(m[strlen(m) - 1], 'y');
    assert_non_null(strstr(m, "match to the"));
    m = cv_code_message(CV_VALIDATION_FAILED);
    assert_int_equal(strlen(m), 29);
}

static void
test_cv_code_kind_as_spec(void **state)
{
    size_t i;

    (void)state;
    for (i = 0; i < NELEM(expect); i++)
        if (cv_code_kind(expect[i].code) != expect[i].kind)
            fail_msg("%s: kind %d, wanted %d", expect[i].name,
                (int)cv_code_kind(expect[i].code), (int)expect[i].kind);
}

/* Warnings are exactly the four of docs/API.md "Codes". */
static void
test_cv_code_kind_warnings(void **state)
{
    int i, n = 0;

    (void)state;
    for (i = CV_OK + 1; i < CV_CODE_COUNT; i++)
        if (cv_code_kind((enum cv_code)i) == CV_WARNING)
            n++;
    assert_int_equal(n, 4);
    assert_int_equal(cv_code_kind(CV_NAME_MISMATCH), CV_WARNING);
    assert_int_equal(cv_code_kind(CV_NO_CRL_DP), CV_WARNING);
    assert_int_equal(cv_code_kind(CV_EXPIRES_SOON), CV_WARNING);
    assert_int_equal(cv_code_kind(CV_CHAIN_EXTRA), CV_WARNING);
}

/* ---- out of range ---- */

static void
test_cv_code_out_of_range(void **state)
{
    const enum cv_code bad[] = {
        CV_CODE_COUNT, (enum cv_code)(CV_CODE_COUNT + 1),
        (enum cv_code)-1, (enum cv_code)9999, (enum cv_code)0x7fffffff
    };
    size_t i;

    (void)state;
    for (i = 0; i < NELEM(bad); i++) {
        assert_string_equal(cv_code_name(bad[i]), "validation_failed");
        assert_string_equal(cv_code_message(bad[i]),
            "Certificate validation failed");
        assert_int_equal(cv_code_kind(bad[i]), CV_HARD);
    }
}

static void
test_cv_code_ok(void **state)
{
    (void)state;
    assert_int_equal(CV_OK, 0);
    assert_non_null(cv_code_name(CV_OK));
    assert_string_equal(cv_code_name(CV_OK), "ok");
    assert_non_null(cv_code_message(CV_OK));
}

/* ---- lookups ---- */

static void
test_cv_code_from_name_roundtrip(void **state)
{
    int i;
    size_t j;

    (void)state;
    for (i = CV_OK + 1; i < CV_CODE_COUNT; i++)
        assert_int_equal(cv_code_from_name(cv_code_name((enum cv_code)i)),
            i);
    for (j = 0; j < NELEM(expect); j++)
        assert_int_equal(cv_code_from_name(expect[j].name), expect[j].code);
}

static void
test_cv_code_from_name_unknown(void **state)
{
    static const char *const unknown[] = {
        "", "unknown", "EXPIRED", "Expired", "expired ", " expired",
        "expire", "expiredx", "expired\n", "passphrase-mismatch",
        "passphrase mismatch", "CV_EXPIRED", "ok ", "validation_failed_",
        "This SSL certificate has expired and isn't considered valid.",
    };
    size_t i;
    char longname[300];

    (void)state;
    assert_int_equal(cv_code_from_name(NULL), CV_OK);
    for (i = 0; i < NELEM(unknown); i++)
        if (cv_code_from_name(unknown[i]) != CV_OK)
            fail_msg("\"%s\" is not a code name but was accepted",
                unknown[i]);
    memset(longname, 'a', sizeof(longname) - 1);
    longname[sizeof(longname) - 1] = '\0';
    assert_int_equal(cv_code_from_name(longname), CV_OK);
}

/* ---- the report's blocking flag follows the table ---- */

static void
test_cv_report_add_blocking_from_kind(void **state)
{
    struct cv_report *rep = calloc(1, sizeof(*rep));
    size_t i;

    (void)state;
    assert_non_null(rep);
    for (i = 0; i < NELEM(expect); i++)
        cv_report_add(rep, expect[i].code, "crt", NULL);
    assert_int_equal(rep->n_findings, NELEM(expect));
    for (i = 0; i < rep->n_findings; i++) {
        assert_int_equal(rep->findings[i].code, expect[i].code);
        assert_int_equal(rep->findings[i].blocking,
            expect[i].kind != CV_WARNING);
        assert_string_equal(rep->findings[i].field, "crt");
        assert_null(rep->findings[i].detail);
        assert_true(cv_report_has(rep, expect[i].code));
    }
    assert_false(cv_report_ok(rep));
    assert_false(cv_report_has(rep, CV_OK));
    cv_report_free(rep);
}

static void
test_cv_report_add_warnings_only_ok(void **state)
{
    struct cv_report *rep = calloc(1, sizeof(*rep));

    (void)state;
    assert_non_null(rep);
    assert_true(cv_report_ok(rep));
    assert_false(cv_report_has(rep, CV_EXPIRED));
    cv_report_add(rep, CV_NAME_MISMATCH, "crt", "host %s", "a.example");
    cv_report_add(rep, CV_EXPIRES_SOON, "crt", NULL);
    assert_true(cv_report_ok(rep));
    assert_string_equal(rep->findings[0].detail, "host a.example");
    cv_report_add(rep, CV_EXPIRED, "crt", NULL);
    assert_false(cv_report_ok(rep));
    cv_report_free(rep);
    assert_false(cv_report_ok(NULL));
    assert_false(cv_report_has(NULL, CV_EXPIRED));
    cv_report_free(NULL);
    cv_report_add(NULL, CV_EXPIRED, "crt", "x");
}

/*
 * One finding per code and field; a repeated (code, field) appends its
 * detail once; the same code on another field is a finding of its own.
 */
static void
test_cv_report_add_merges_same_code(void **state)
{
    struct cv_report *rep = calloc(1, sizeof(*rep));

    (void)state;
    assert_non_null(rep);
    cv_report_add(rep, CV_EXPIRED, "crt", "leaf %d", 1);
    cv_report_add(rep, CV_EXPIRED, "chain", "int");
    cv_report_add(rep, CV_EXPIRED, "chain", "int");
    cv_report_add(rep, CV_EXPIRED, "chain", NULL);
    cv_report_add(rep, CV_EXPIRED, "chain", "root");
    assert_int_equal(rep->n_findings, 2);
    assert_string_equal(rep->findings[0].detail, "leaf 1");
    assert_string_equal(rep->findings[0].field, "crt");
    assert_string_equal(rep->findings[1].detail, "int; root");
    assert_string_equal(rep->findings[1].field, "chain");
    cv_report_free(rep);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_codes_table_complete),
        cmocka_unit_test(test_cv_code_name_unique_and_wellformed),
        cmocka_unit_test(test_cv_code_name_as_spec),
        cmocka_unit_test(test_cv_code_message_nonempty_unique),
        cmocka_unit_test(test_cv_code_message_vendor_exact),
        cmocka_unit_test(test_cv_code_message_vendor_details),
        cmocka_unit_test(test_cv_code_kind_as_spec),
        cmocka_unit_test(test_cv_code_kind_warnings),
        cmocka_unit_test(test_cv_code_out_of_range),
        cmocka_unit_test(test_cv_code_ok),
        cmocka_unit_test(test_cv_code_from_name_roundtrip),
        cmocka_unit_test(test_cv_code_from_name_unknown),
        cmocka_unit_test(test_cv_report_add_blocking_from_kind),
        cmocka_unit_test(test_cv_report_add_warnings_only_ok),
        cmocka_unit_test(test_cv_report_add_merges_same_code),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
