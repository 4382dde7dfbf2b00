/*
 * test_api_csr.c - /api/csr through fcgi/api.h: a key and a signing
 * request made on the appliance, the request's fields, the rules on what
 * it may say, one pending at a time, an upload without a key matched to
 * the pending key (signed here by the fixtures' intermediate CA, as the
 * organisation's CA would), a certificate for another key refused, the
 * renewal that keeps the key, and no answer ever holding the key.
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
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#define CD_FIXTURE_CMOCKA
#include "fixture.h"
#include "apitest.h"

#define P_CSR   "/api/csr"

#define GOOD_REQ "{\"subject\": {\"cn\": \"" AT_HOST "\", \"o\": \"Contoso\"," \
    " \"ou\": \"OT\", \"c\": \"DE\", \"l\": \"Köln\"}, \"names\": " \
    "[\"" AT_HOST "\", \"10.1.2.3\"]}"

/* The answer's status is want; the answer's text when not. */
static void
assert_status(const struct cd_response *resp, int want, const char *what)
{
    char *txt;

    if (resp->status == want)
        return;
    txt = at_text(resp);
    fail_msg("%s: %d, not %d: %s", what, resp->status, want, txt);
}

/* No answer may hold a private key, whatever the route. */
static void
assert_no_key(const struct cd_response *resp)
{
    char *txt = at_text(resp);

    assert_null(strstr(txt, "PRIVATE KEY"));
    free(txt);
    if (resp->raw != NULL)
        assert_null(memmem(resp->raw, resp->raw_len, "PRIVATE KEY", 11));
}

static json_t *
csr_fields(const struct cd_response *resp)
{
    json_t *c = json_object_get(resp->body, "csr");

    assert_true(json_is_object(c));
    return c;
}

/* POST /api/csr with json: the status. */
static int
post(struct at_fx *t, const char *json, struct cd_response *resp)
{
    at_json(t, "POST", P_CSR, json, resp);
    assert_no_key(resp);
    return resp->status;
}

/* The pending request's PEM parsed. */
static X509_REQ *
pending_req(struct at_fx *t)
{
    struct cd_response resp = { 0 };
    const char *pem;
    X509_REQ *rq;
    BIO *b;

    at_get(t, P_CSR, NULL, &resp);
    assert_status(&resp, 200, "GET /api/csr");
    pem = at_str(resp.body, "pem");
    b = BIO_new_mem_buf(pem, -1);
    rq = PEM_read_bio_X509_REQ(b, NULL, NULL, NULL);
    BIO_free(b);
    assert_non_null(rq);
    cd_api_response_clear(&resp);
    return rq;
}

/*
 * The organisation's CA at work: a server certificate for rq's key and
 * names, issued by the fixtures' intermediate (chain.pem leads to the
 * engine's root).  key NULL: rq's key; else that key's certificate.
 */
static void
issue(X509_REQ *rq, EVP_PKEY *key, struct cd_buf *out)
{
    static const char *const exts[][2] = {
        { "basicConstraints", "critical,CA:FALSE" },
        { "keyUsage", "critical,digitalSignature,keyEncipherment" },
        { "extendedKeyUsage", "serverAuth" },
        { "subjectKeyIdentifier", "hash" },
        { "authorityKeyIdentifier", "keyid" },
    };
    STACK_OF(X509_EXTENSION) *rext = X509_REQ_get_extensions(rq);
    X509 *ca = fx_x509("int.pem"), *x = X509_new();
    EVP_PKEY *cakey = fx_key("int.key");
    unsigned char serial[16];
    X509V3_CTX v3;
    BIGNUM *bn;
    BIO *b;
    char *p;
    long n;
    size_t i;
    int k;

    assert_non_null(x);
    assert_int_equal(RAND_bytes(serial, sizeof(serial)), 1);
    serial[0] &= 0x7f;
    serial[0] |= 0x40;
    bn = BN_bin2bn(serial, sizeof(serial), NULL);
    assert_non_null(BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)));
    BN_free(bn);
    assert_int_equal(X509_set_version(x, X509_VERSION_3), 1);
    assert_int_equal(X509_set_subject_name(x,
        X509_REQ_get_subject_name(rq)), 1);
    assert_int_equal(X509_set_issuer_name(x, X509_get_subject_name(ca)), 1);
    assert_int_equal(X509_set_pubkey(x, key != NULL ? key :
        X509_REQ_get0_pubkey(rq)), 1);
    assert_non_null(X509_gmtime_adj(X509_getm_notBefore(x), -3600));
    assert_non_null(X509_time_adj_ex(X509_getm_notAfter(x), 90, 0, NULL));
    /* the request's subjectAltName, as a CA copies it */
    for (k = 0; k < sk_X509_EXTENSION_num(rext); k++) {
        X509_EXTENSION *e = sk_X509_EXTENSION_value(rext, k);

        if (OBJ_obj2nid(X509_EXTENSION_get_object(e)) ==
            NID_subject_alt_name)
            assert_int_equal(X509_add_ext(x, e, -1), 1);
    }
    sk_X509_EXTENSION_pop_free(rext, X509_EXTENSION_free);
    X509V3_set_ctx(&v3, ca, x, NULL, NULL, 0);
    for (i = 0; i < sizeof(exts) / sizeof(exts[0]); i++) {
        X509_EXTENSION *e = X509V3_EXT_nconf(NULL, &v3, exts[i][0],
            exts[i][1]);

        assert_non_null(e);
        assert_int_equal(X509_add_ext(x, e, -1), 1);
        X509_EXTENSION_free(e);
    }
    assert_true(X509_sign(x, cakey, EVP_sha256()) > 0);
    b = BIO_new(BIO_s_mem());
    assert_int_equal(PEM_write_bio_X509(b, x), 1);
    n = BIO_get_mem_data(b, &p);
    out->len = 0;
    cd_buf_add(out, p, (size_t)n);
    BIO_free(b);
    X509_free(x);
    X509_free(ca);
    EVP_PKEY_free(cakey);
}

/* An upload of crt (and chain.pem) without a key, to path. */
static void
upload_crt(struct at_fx *t, const char *path, const struct cd_buf *crt,
    struct cd_response *resp)
{
    struct cd_buf b = { 0 };

    at_field(&b, "name", "sensor");
    at_file(&b, "crt", "sensor.crt", crt->p, crt->len);
    at_file_fx(&b, "chain", "chain.pem");
    at_field(&b, "use_crl", "off");
    at_body_end(&b);
    at_post(t, path, &b, resp);
    cd_buf_free(&b);
    assert_no_key(resp);
}

static void
test_cd_csr_none_pending_gives_defaults(void **state)
{
    struct at_fx *t = *state;
    struct cd_response resp = { 0 };
    json_t *d;
    char id[64];

    at_ensure(t, id, sizeof(id));
    at_get(t, P_CSR, NULL, &resp);
    assert_status(&resp, 200, "GET");
    assert_true(json_is_false(json_object_get(resp.body, "pending")));
    d = json_object_get(resp.body, "defaults");
    /* the first certificate is self-signed: the host name then */
    assert_string_equal(at_str(json_object_get(d, "subject"), "cn"),
        AT_HOST);
    assert_string_equal(json_string_value(json_array_get(
        json_object_get(d, "names"), 0)), AT_HOST);
    assert_string_equal(at_str(d, "key_policy"), "rsa");
    assert_int_equal(json_array_size(json_object_get(d, "key_types")), 2);
    cd_api_response_clear(&resp);
}

static void
test_cd_csr_create_and_read(void **state)
{
    struct at_fx *t = *state;
    struct cd_response resp = { 0 };
    char path[256];
    struct stat st;
    json_t *c, *san;
    X509_REQ *rq;

    assert_int_equal(post(t, GOOD_REQ, &resp), 201);
    c = csr_fields(&resp);
    assert_string_equal(at_str(c, "cn"), AT_HOST);
    assert_string_equal(at_str(c, "o"), "Contoso");
    assert_string_equal(at_str(c, "ou"), "OT");
    assert_string_equal(at_str(c, "c"), "DE");
    assert_string_equal(at_str(c, "l"), "Köln");
    assert_string_equal(at_str(c, "key_type"), "RSA");
    assert_int_equal(json_integer_value(json_object_get(c, "key_bits")),
        2048);
    san = json_object_get(c, "san");
    /* the CN is not named twice */
    assert_int_equal(json_array_size(san), 2);
    assert_string_equal(json_string_value(json_array_get(san, 0)),
        "DNS:" AT_HOST);
    assert_string_equal(json_string_value(json_array_get(san, 1)),
        "IP:10.1.2.3");
    assert_true(json_is_true(json_object_get(resp.body, "pending")));
    cd_api_response_clear(&resp);

    /* its self-signature verifies (openssl req -verify) */
    rq = pending_req(t);
    assert_int_equal(X509_REQ_verify(rq, X509_REQ_get0_pubkey(rq)), 1);
    X509_REQ_free(rq);
    /* the key stays here, readable by the service alone */
    snprintf(path, sizeof(path), "%s/pending/key.pem", t->dir);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
}

static void
test_cd_csr_one_pending_at_a_time(void **state)
{
    struct at_fx *t = *state;
    struct cd_response resp = { 0 };
    char k1[128], k2[128];

    assert_int_equal(post(t, GOOD_REQ, &resp), 201);
    snprintf(k1, sizeof(k1), "%s", at_str(csr_fields(&resp), "key_sha256"));
    cd_api_response_clear(&resp);
    assert_int_equal(post(t, GOOD_REQ, &resp), 409);
    at_assert_error(&resp, "csr_pending", NULL);
    cd_api_response_clear(&resp);
    /* replaced after a confirmation: a new key */
    assert_int_equal(post(t, "{\"replace\": true, \"subject\": {\"cn\": \""
        AT_HOST "\", \"o\": \"C\", \"ou\": \"O\", \"c\": \"DE\"}}", &resp),
        201);
    snprintf(k2, sizeof(k2), "%s", at_str(csr_fields(&resp), "key_sha256"));
    assert_string_not_equal(k1, k2);
    cd_api_response_clear(&resp);
    /* discarded, then nothing to discard */
    at_json(t, "DELETE", P_CSR, NULL, &resp);
    assert_status(&resp, 200, "DELETE");
    cd_api_response_clear(&resp);
    at_json(t, "DELETE", P_CSR, NULL, &resp);
    at_assert_error(&resp, "not_found", NULL);
    cd_api_response_clear(&resp);
}

static void
test_cd_csr_bad_requests(void **state)
{
    static const struct {
        const char *json, *code, *field;
    } cases[] = {
        { "{}", "bad_request", "subject" },
        { "{\"subject\": {\"cn\": \"" AT_HOST "\", \"ou\": \"OT\", "
            "\"c\": \"DE\"}}", "bad_request", "o" },
        { "{\"subject\": {\"cn\": \"" AT_HOST "\", \"o\": \"C\", "
            "\"ou\": \"OT\", \"c\": \"de\"}}", "bad_request", "c" },
        { "{\"subject\": {\"cn\": \"*.contoso.com\", \"o\": \"C\", "
            "\"ou\": \"OT\", \"c\": \"DE\"}}", "bad_request", "cn" },
        { "{\"subject\": {\"cn\": \"" AT_HOST "\", \"o\": \"C\", "
            "\"ou\": \"O\\u0001T\", \"c\": \"DE\"}}", "bad_request", "ou" },
        { "{\"key_type\": \"ec-p256\", \"subject\": {\"cn\": \"" AT_HOST
            "\", \"o\": \"C\", \"ou\": \"OT\", \"c\": \"DE\"}}",
            "bad_request", "key_type" },
        { "{\"key_type\": \"dsa\", \"subject\": {}}", "bad_request",
            "key_type" },
        { "{\"names\": [\"evil.example/#\"], \"subject\": {\"cn\": \""
            AT_HOST "\", \"o\": \"C\", \"ou\": \"OT\", \"c\": \"DE\"}}",
            "bad_request", "names" },
        { "{\"names\": \"x\", \"subject\": {}}", "bad_request", "names" },
        { "{\"key\": \"-----BEGIN PRIVATE KEY-----\"}", "bad_request",
            "key" },
        { "{\"subject\": {\"cn\": 5}}", "bad_request", "cn" },
        { "[1]", "bad_request", NULL },
    };
    struct at_fx *t = *state;
    struct cd_response resp = { 0 };
    char path[256];
    struct stat st;
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        post(t, cases[i].json, &resp);
        at_assert_error(&resp, cases[i].code, cases[i].field);
        cd_api_response_clear(&resp);
    }
    /* and nothing was made */
    snprintf(path, sizeof(path), "%s/pending", t->dir);
    assert_int_not_equal(stat(path, &st), 0);
}

static void
test_cd_csr_ec_under_rsa_ec_policy(void **state)
{
    struct at_fx *t = *state;
    struct cd_response resp = { 0 };
    json_t *c;

    free(t->s.key_policy);
    t->s.key_policy = strdup("rsa+ec");
    assert_int_equal(post(t, "{\"key_type\": \"ec-p384\", \"subject\": "
        "{\"cn\": \"" AT_HOST "\", \"o\": \"C\", \"ou\": \"OT\", "
        "\"c\": \"DE\"}}", &resp), 201);
    c = csr_fields(&resp);
    assert_string_equal(at_str(c, "key_type"), "EC");
    assert_int_equal(json_integer_value(json_object_get(c, "key_bits")),
        384);
    cd_api_response_clear(&resp);
}

/* The signed certificate alone installs with the pending key. */
static void
test_cd_csr_upload_without_key(void **state)
{
    struct at_fx *t = *state;
    struct cd_response resp = { 0 };
    struct cd_buf crt = { 0 };
    char path[256], id[64];
    struct stat st;
    X509_REQ *rq;

    at_ensure(t, id, sizeof(id));
    assert_int_equal(post(t, GOOD_REQ, &resp), 201);
    cd_api_response_clear(&resp);
    rq = pending_req(t);
    issue(rq, NULL, &crt);
    X509_REQ_free(rq);

    /* the dry run accepts it and leaves the request pending */
    upload_crt(t, "/api/certificate/validate", &crt, &resp);
    assert_status(&resp, 200, "validate without a key");
    cd_api_response_clear(&resp);
    snprintf(path, sizeof(path), "%s/pending/key.pem", t->dir);
    assert_int_equal(stat(path, &st), 0);

    upload_crt(t, "/api/certificate", &crt, &resp);
    assert_status(&resp, 200, "install without a key");
    assert_true(json_is_true(json_object_get(resp.body, "ok")));
    cd_api_response_clear(&resp);
    /* installed: no longer pending, the key is the release's */
    assert_int_not_equal(stat(path, &st), 0);
    at_get(t, P_CSR, NULL, &resp);
    assert_true(json_is_false(json_object_get(resp.body, "pending")));
    /* the next request starts from the installed certificate */
    assert_string_equal(at_str(json_object_get(json_object_get(resp.body,
        "defaults"), "subject"), "o"), "Contoso");
    cd_api_response_clear(&resp);
    cd_buf_free(&crt);
}

/* A certificate for another key: key_mismatch, saying why. */
static void
test_cd_csr_certificate_for_another_key(void **state)
{
    struct at_fx *t = *state;
    struct cd_response resp = { 0 };
    struct cd_buf crt = { 0 };
    const json_t *errs, *e;
    EVP_PKEY *other;
    X509_REQ *rq;
    size_t i;
    int found = 0;

    assert_int_equal(post(t, GOOD_REQ, &resp), 201);
    cd_api_response_clear(&resp);
    rq = pending_req(t);
    other = fx_key("other.key");
    issue(rq, other, &crt);
    EVP_PKEY_free(other);
    X509_REQ_free(rq);
    upload_crt(t, "/api/certificate", &crt, &resp);
    at_assert_finding(&resp, "key_mismatch", "crt");
    errs = json_object_get(resp.body, "errors");
    json_array_foreach(errs, i, e)
        if (strcmp(at_str(e, "code"), "key_mismatch") == 0 &&
            strstr(at_str(e, "detail"), "pending signing request") != NULL)
            found = 1;
    assert_true(found);
    cd_api_response_clear(&resp);
    cd_buf_free(&crt);
    /* still pending */
    at_get(t, P_CSR, NULL, &resp);
    assert_true(json_is_true(json_object_get(resp.body, "pending")));
    cd_api_response_clear(&resp);
}

/* Renewal keeping the key: the request carries the current public key. */
static void
test_cd_csr_keep_key(void **state)
{
    struct at_fx *t = *state;
    struct cd_response resp = { 0 };
    X509 *cur = fx_x509("good.pem");
    X509_REQ *rq;
    char id[64];

    at_install_good(t, id, sizeof(id));
    assert_int_equal(post(t, "{\"keep_key\": true, \"subject\": {\"cn\": \""
        AT_HOST "\", \"o\": \"C\", \"ou\": \"OT\", \"c\": \"DE\"}}", &resp),
        201);
    assert_true(json_is_true(json_object_get(resp.body, "kept_key")));
    cd_api_response_clear(&resp);
    rq = pending_req(t);
    assert_int_equal(EVP_PKEY_eq(X509_REQ_get0_pubkey(rq),
        X509_get0_pubkey(cur)), 1);
    X509_REQ_free(rq);
    X509_free(cur);
}

static void
test_cd_csr_download(void **state)
{
    struct at_fx *t = *state;
    struct cd_response resp = { 0 };

    at_get(t, "/api/csr/download", NULL, &resp);
    at_assert_error(&resp, "not_found", NULL);
    cd_api_response_clear(&resp);
    assert_int_equal(post(t, GOOD_REQ, &resp), 201);
    cd_api_response_clear(&resp);
    at_get(t, "/api/csr/download", NULL, &resp);
    assert_status(&resp, 200, "download");
    assert_non_null(resp.raw);
    assert_string_equal(resp.content_type, "application/pkcs10");
    assert_string_equal(resp.filename, AT_HOST ".csr");
    assert_non_null(memmem(resp.raw, resp.raw_len,
        "-----BEGIN CERTIFICATE REQUEST-----", 35));
    assert_no_key(&resp);
    cd_api_response_clear(&resp);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(
            test_cd_csr_none_pending_gives_defaults, at_setup, at_teardown),
        cmocka_unit_test_setup_teardown(test_cd_csr_create_and_read,
            at_setup, at_teardown),
        cmocka_unit_test_setup_teardown(test_cd_csr_one_pending_at_a_time,
            at_setup, at_teardown),
        cmocka_unit_test_setup_teardown(test_cd_csr_bad_requests,
            at_setup, at_teardown),
        cmocka_unit_test_setup_teardown(test_cd_csr_ec_under_rsa_ec_policy,
            at_setup, at_teardown),
        cmocka_unit_test_setup_teardown(test_cd_csr_upload_without_key,
            at_setup, at_teardown),
        cmocka_unit_test_setup_teardown(
            test_cd_csr_certificate_for_another_key, at_setup, at_teardown),
        cmocka_unit_test_setup_teardown(test_cd_csr_keep_key,
            at_setup, at_teardown),
        cmocka_unit_test_setup_teardown(test_cd_csr_download,
            at_setup, at_teardown),
    };

    return cmocka_run_group_tests(tests, at_group_setup, at_group_teardown);
}
