/*
 * test_csr.c - cv_csr_check(): a signing request read as PEM or DER, its
 * fields, its self-signature (a request altered after signing is refused,
 * as "openssl req -verify" refuses it), the subject's required fields and
 * the key rules under both key policies.  Requests are made here with
 * OpenSSL, keys from the fixtures.
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

#include <openssl/pem.h>
#include <openssl/x509v3.h>

#define CD_FIXTURE_CMOCKA
#include "fixture.h"
#include "cv.h"

/* A request for key with subject subj ("/C=DE/O=..") and a SAN. */
static X509_REQ *
make(const char *key, const char *subj, const char *san)
{
    X509_REQ *rq = X509_REQ_new();
    X509_NAME *nm = X509_NAME_new();
    STACK_OF(X509_EXTENSION) *exts = sk_X509_EXTENSION_new_null();
    X509_EXTENSION *e;
    EVP_PKEY *k = fx_key(key);
    char buf[256], *p, *tok, *save = NULL;

    assert_non_null(rq);
    snprintf(buf, sizeof(buf), "%s", subj);
    for (tok = strtok_r(buf, "/", &save); tok != NULL;
        tok = strtok_r(NULL, "/", &save)) {
        assert_non_null(p = strchr(tok, '='));
        *p++ = '\0';
        assert_int_equal(X509_NAME_add_entry_by_txt(nm, tok, MBSTRING_UTF8,
            (const unsigned char *)p, -1, -1, 0), 1);
    }
    assert_int_equal(X509_REQ_set_subject_name(rq, nm), 1);
    assert_int_equal(X509_REQ_set_pubkey(rq, k), 1);
    if (san != NULL) {
        assert_non_null(e = X509V3_EXT_conf_nid(NULL, NULL,
            NID_subject_alt_name, san));
        assert_true(sk_X509_EXTENSION_push(exts, e) > 0);
        assert_int_equal(X509_REQ_add_extensions(rq, exts), 1);
    }
    assert_true(X509_REQ_sign(rq, k, EVP_sha256()) > 0);
    sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
    X509_NAME_free(nm);
    EVP_PKEY_free(k);
    return rq;
}

/* rq as PEM (der 0) or DER into b. */
static void
encode(X509_REQ *rq, int der, struct cd_buf *b)
{
    BIO *bio = BIO_new(BIO_s_mem());
    char *p;
    long n;

    assert_int_equal(der ? i2d_X509_REQ_bio(bio, rq) :
        PEM_write_bio_X509_REQ(bio, rq), 1);
    n = BIO_get_mem_data(bio, &p);
    b->len = 0;
    cd_buf_add(b, p, (size_t)n);
    BIO_free(bio);
}

/* The codes of rep as "a,b" into out. */
static const char *
codes(const struct cv_report *rep, char *out, size_t len)
{
    size_t i, off = 0;

    out[0] = '\0';
    for (i = 0; i < rep->n_findings && off < len; i++)
        off += (size_t)snprintf(out + off, len - off, "%s%s", i ? "," : "",
            cv_code_name(rep->findings[i].code));
    return out;
}

/* Checks buf with policy allow_ec: the codes found, as "a,b". */
static void
expect(const struct cd_buf *b, int allow_ec, const char *want,
    struct cv_csr_summary *s)
{
    struct cv_report *rep = cv_csr_check(b->p, b->len, allow_ec, s);
    char got[256];

    assert_non_null(rep);
    assert_string_equal(codes(rep, got, sizeof(got)), want);
    assert_int_equal(cv_report_ok(rep), want[0] == '\0');
    cv_report_free(rep);
}

#define SUBJ "/C=DE/O=Contoso/OU=OT/CN=sensor.contoso.com"

static void
test_csr_good_pem_and_der(void **state)
{
    struct cv_csr_summary s;
    struct cd_buf b = { 0 };
    X509_REQ *rq = make("good.key", SUBJ "/L=Köln",
        "DNS:sensor.contoso.com,IP:10.1.2.3");
    int der;

    (void)state;
    for (der = 0; der <= 1; der++) {
        encode(rq, der, &b);
        expect(&b, 0, "", &s);
        assert_true(s.valid);
        assert_string_equal(s.cn, "sensor.contoso.com");
        assert_string_equal(s.o, "Contoso");
        assert_string_equal(s.ou, "OT");
        assert_string_equal(s.c, "DE");
        assert_string_equal(s.l, "Köln");
        assert_string_equal(s.st, "");
        assert_int_equal(s.n_san, 2);
        assert_string_equal(s.san[0], "DNS:sensor.contoso.com");
        assert_string_equal(s.san[1], "IP:10.1.2.3");
        assert_string_equal(s.key_type, "RSA");
        assert_int_equal(s.key_bits, 2048);
        assert_string_equal(s.signature_algorithm,
            "sha256WithRSAEncryption");
        assert_int_equal(strlen(s.key_sha256), 95);
    }
    cd_buf_free(&b);
    X509_REQ_free(rq);
}

/* One byte of the subject changed after signing: csr_signature. */
static void
test_csr_altered_after_signing(void **state)
{
    struct cv_csr_summary s;
    struct cd_buf b = { 0 };
    X509_REQ *rq = make("good.key", SUBJ, NULL);
    uint8_t *p;

    (void)state;
    encode(rq, 1, &b);
    assert_non_null(p = memmem(b.p, b.len, "Contoso", 7));
    p[0] = 'K';
    expect(&b, 0, "csr_signature", &s);
    assert_string_equal(s.o, "Kontoso");
    cd_buf_free(&b);
    X509_REQ_free(rq);
}

static void
test_csr_unreadable(void **state)
{
    static const char *const junk[] = {
        "", "hello", "-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n"
        "-----END CERTIFICATE REQUEST-----\n",
    };
    struct cv_csr_summary s;
    struct cd_buf b = { 0 };
    X509_REQ *rq = make("good.key", SUBJ, NULL);
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(junk) / sizeof(junk[0]); i++) {
        b.len = 0;
        cd_buf_add(&b, junk[i], strlen(junk[i]));
        expect(&b, 0, "unreadable_csr", &s);
        assert_false(s.valid);
    }
    /* a certificate is not a request */
    b.len = 0;
    cd_buf_add(&b, fx("good.pem")->p, fx("good.pem")->n);
    expect(&b, 0, "unreadable_csr", &s);
    /* DER with bytes after it */
    encode(rq, 1, &b);
    cd_buf_add(&b, "x", 1);
    expect(&b, 0, "unreadable_csr", &s);
    cd_buf_free(&b);
    X509_REQ_free(rq);
}

static void
test_csr_subject_and_keys(void **state)
{
    struct cv_csr_summary s;
    struct cd_buf b = { 0 };
    X509_REQ *rq;

    (void)state;
    rq = make("good.key", "/CN=sensor.contoso.com", NULL);
    encode(rq, 0, &b);
    expect(&b, 0, "subject_incomplete", &s);
    X509_REQ_free(rq);
    rq = make("good.key", "/C=DE/O=C/OU=OT/CN=*.contoso.com", NULL);
    encode(rq, 0, &b);
    expect(&b, 0, "wildcard_cn", &s);
    X509_REQ_free(rq);
    /* EC P-256: weak under the key policy rsa, fine under rsa+ec */
    rq = make("ec.key", SUBJ, NULL);
    encode(rq, 0, &b);
    expect(&b, 0, "weak_key", &s);
    expect(&b, 1, "", &s);
    assert_string_equal(s.key_type, "EC");
    X509_REQ_free(rq);
    /* P-521: never served */
    rq = make("ec521.key", SUBJ, NULL);
    encode(rq, 0, &b);
    expect(&b, 1, "unusable_key,weak_key", &s);
    X509_REQ_free(rq);
    rq = make("weak1024.key", SUBJ, NULL);
    encode(rq, 0, &b);
    expect(&b, 1, "weak_key", &s);
    X509_REQ_free(rq);
    cd_buf_free(&b);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_csr_good_pem_and_der),
        cmocka_unit_test(test_csr_altered_after_signing),
        cmocka_unit_test(test_csr_unreadable),
        cmocka_unit_test(test_csr_subject_and_keys),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
