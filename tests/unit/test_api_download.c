/*
 * test_api_download.c - GET /api/certificate/download through
 * fcgi/api.h: format=pem|der, part=leaf|chain|root, the bytes parsed back
 * as certificates, the query string's errors, and the root of a chain
 * that stops below it.
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

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#define CD_FIXTURE_CMOCKA
#include "fixture.h"
#include "apitest.h"
#include "install.h"

#define P_DOWNLOAD      "/api/certificate/download"
#define PEM_TYPE        "application/x-pem-file"
#define DER_TYPE        "application/pkix-cert"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* GET the download with query; a 200 whose text is shown when it is not. */
static void
download_ok(struct at_fx *t, const char *query, struct cd_response *resp)
{
    char *txt;

    at_get(t, P_DOWNLOAD, query, resp);
    if (resp->status != 200 || resp->raw == NULL || resp->raw_len == 0) {
        txt = at_text(resp);
        fail_msg("download?%s: %d %s", query != NULL ? query : "",
            resp->status, txt);
    }
    assert_null(resp->body);
    assert_non_null(resp->content_type);
}

/* The PEM certificates of a download, in order; all of it must parse. */
static STACK_OF(X509) *
pem_certs(const struct cd_response *resp)
{
    STACK_OF(X509) *sk = sk_X509_new_null();
    BIO *b;
    X509 *x;

    assert_non_null(sk);
    assert_true(resp->raw_len < (size_t)INT32_MAX);
    b = BIO_new_mem_buf(resp->raw, (int)resp->raw_len);
    assert_non_null(b);
    while ((x = PEM_read_bio_X509(b, NULL, NULL, NULL)) != NULL)
        assert_true(sk_X509_push(sk, x) > 0);
    ERR_clear_error();
    /* nothing but certificates: no key, no stray text after them */
    assert_int_equal(BIO_pending(b), 0);
    BIO_free(b);
    assert_true(sk_X509_num(sk) >= 1);
    assert_null(memmem(resp->raw, resp->raw_len, "PRIVATE KEY", 11));
    return sk;
}

/* The one DER certificate of a download, every byte of it. */
static X509 *
der_cert(const struct cd_response *resp)
{
    const unsigned char *p = resp->raw;
    X509 *x;

    x = d2i_X509(NULL, &p, (long)resp->raw_len);
    if (x == NULL)
        fail_msg("the DER download does not parse as a certificate");
    assert_ptr_equal(p, resp->raw + resp->raw_len);
    return x;
}

/* x is the certificate of the fixture name. */
static void
assert_cert(X509 *x, const char *name)
{
    X509 *want = fx_x509(name);
    int cmp = X509_cmp(x, want);

    X509_free(want);
    if (cmp != 0)
        fail_msg("the certificate is not %s", name);
}

/* The certificates of a PEM download are exactly names, in order. */
static void
assert_pem(struct at_fx *t, const char *query, const char *filename,
    const char *const *names, int n)
{
    struct cd_response resp;
    STACK_OF(X509) *sk;
    int i;

    download_ok(t, query, &resp);
    assert_string_equal(resp.content_type, PEM_TYPE);
    assert_string_equal(resp.filename, filename);
    sk = pem_certs(&resp);
    if (sk_X509_num(sk) != n)
        fail_msg("download?%s: %d certificates, not %d", query,
            sk_X509_num(sk), n);
    for (i = 0; i < n; i++)
        assert_cert(sk_X509_value(sk, i), names[i]);
    sk_X509_pop_free(sk, X509_free);
    cd_api_response_clear(&resp);
}

/* The DER download is the certificate of the fixture name. */
static void
assert_der(struct at_fx *t, const char *query, const char *filename,
    const char *name)
{
    struct cd_response resp;
    X509 *x;

    download_ok(t, query, &resp);
    assert_string_equal(resp.content_type, DER_TYPE);
    assert_string_equal(resp.filename, filename);
    x = der_cert(&resp);
    assert_cert(x, name);
    X509_free(x);
    cd_api_response_clear(&resp);
}

/*
 * Installs good.pem straight through the release store with path above it (NULL:
 * none), for chains the engine would have completed itself.
 */
static void
install_path(struct at_fx *t, STACK_OF(X509) *path)
{
    struct cd_install_result res;
    struct cd_install_files f;
    EVP_PKEY *key = fx_key("good.key");
    X509 *leaf = fx_x509("good.pem");
    int rc;

    memset(&f, 0, sizeof(f));
    f.name = "Sensor 1";
    f.mode = "ca-signed";
    f.validation = "mandatory";
    f.key = key;
    f.leaf = leaf;
    f.path = path;
    memset(&res, 0, sizeof(res));
    rc = cd_install_release(&t->s, &f, &res);
    EVP_PKEY_free(key);
    X509_free(leaf);
    if (rc != 0)
        fail_msg("cd_install_release: %s", res.err);
}

/* ---- the parts of an installed CA-signed certificate ---- */

static void
test_cd_api_download_leaf(void **state)
{
    static const char *const leaf[] = { "good.pem" };
    struct at_fx *t = *state;
    struct cd_response resp;
    char id[64];

    at_install_good(t, id, sizeof(id));
    assert_pem(t, NULL, AT_HOST ".pem", leaf, 1);
    assert_pem(t, "", AT_HOST ".pem", leaf, 1);
    assert_pem(t, "format=pem", AT_HOST ".pem", leaf, 1);
    assert_pem(t, "part=leaf", AT_HOST ".pem", leaf, 1);
    assert_pem(t, "format=pem&part=leaf", AT_HOST ".pem", leaf, 1);
    assert_pem(t, "part=leaf&format=pem", AT_HOST ".pem", leaf, 1);
    assert_der(t, "format=der", AT_HOST ".cer", "good.pem");
    assert_der(t, "format=der&part=leaf", AT_HOST ".cer", "good.pem");
    /* the log line names the certificate sent */
    download_ok(t, NULL, &resp);
    assert_true(strlen(resp.sha256) > 0);
    cd_api_response_clear(&resp);
}

static void
test_cd_api_download_chain(void **state)
{
    static const char *const chain[] = { "good.pem", "int.pem", "root.pem" };
    struct at_fx *t = *state;
    char id[64];

    at_install_good(t, id, sizeof(id));
    assert_pem(t, "part=chain", AT_HOST "-chain.pem", chain, 3);
    assert_pem(t, "format=pem&part=chain", AT_HOST "-chain.pem", chain, 3);
}

static void
test_cd_api_download_root(void **state)
{
    static const char *const root[] = { "root.pem" };
    struct at_fx *t = *state;
    char id[64];

    at_install_good(t, id, sizeof(id));
    assert_pem(t, "part=root", AT_HOST "-root.pem", root, 1);
    assert_der(t, "format=der&part=root", AT_HOST "-root.cer", "root.pem");
}

/* HEAD is answered as GET: the front sends the headers only. */
static void
test_cd_api_download_head(void **state)
{
    struct at_fx *t = *state;
    struct cd_request rq;
    struct cd_response resp;
    char id[64];

    at_install_good(t, id, sizeof(id));
    at_request(&rq, "HEAD", P_DOWNLOAD, "format=der");
    assert_int_equal(at_run(t, &rq, &resp), 0);
    assert_int_equal(resp.status, 200);
    assert_string_equal(resp.content_type, DER_TYPE);
    assert_string_equal(resp.filename, AT_HOST ".cer");
    cd_api_response_clear(&resp);
}

/* ---- a self-signed certificate is its own root ---- */

static void
test_cd_api_download_self_signed(void **state)
{
    struct at_fx *t = *state;
    struct cd_response leaf, root;
    STACK_OF(X509) *sk;
    X509 *l, *r;
    char id[64];

    at_ensure(t, id, sizeof(id));
    download_ok(t, "format=der", &leaf);
    l = der_cert(&leaf);
    download_ok(t, "format=der&part=root", &root);
    assert_string_equal(root.filename, AT_HOST "-root.cer");
    r = der_cert(&root);
    assert_int_equal(X509_cmp(l, r), 0);
    cd_api_response_clear(&root);
    /* and its chain is itself alone */
    download_ok(t, "part=chain", &root);
    sk = pem_certs(&root);
    assert_int_equal(sk_X509_num(sk), 1);
    assert_int_equal(X509_cmp(sk_X509_value(sk, 0), l), 0);
    sk_X509_pop_free(sk, X509_free);
    cd_api_response_clear(&root);
    cd_api_response_clear(&leaf);
    X509_free(l);
    X509_free(r);
}

/* ---- a chain installed without its root ---- */

/* The engine's trust anchors complete it. */
static void
test_cd_api_download_root_from_anchor(void **state)
{
    static const char *const chain[] = { "good.pem", "int.pem", "root.pem" };
    static const char *const root[] = { "root.pem" };
    struct at_fx *t = *state;
    STACK_OF(X509) *path = sk_X509_new_null();
    X509 *inter = fx_x509("int.pem");

    assert_non_null(path);
    assert_true(sk_X509_push(path, inter) > 0);
    install_path(t, path);
    sk_X509_pop_free(path, X509_free);
    assert_pem(t, "part=root", AT_HOST "-root.pem", root, 1);
    assert_pem(t, "part=chain", AT_HOST "-chain.pem", chain, 3);
}

/* No anchor issued its top: there is no root to send. */
static void
test_cd_api_download_root_unknown(void **state)
{
    static const char *const chain[] = { "good.pem", "int.pem" };
    struct at_fx *t = *state;
    STACK_OF(X509) *path = sk_X509_new_null();
    struct cd_response resp;
    X509 *inter = fx_x509("int.pem");

    assert_non_null(path);
    assert_true(sk_X509_push(path, inter) > 0);
    install_path(t, path);
    sk_X509_pop_free(path, X509_free);
    at_use_ctx(t, "other-root.pem");
    at_get(t, P_DOWNLOAD, "part=root", &resp);
    at_assert_error(&resp, "not_found", "part");
    cd_api_response_clear(&resp);
    at_get(t, P_DOWNLOAD, "format=der&part=root", &resp);
    at_assert_error(&resp, "not_found", "part");
    cd_api_response_clear(&resp);
    /* the leaf and what was installed above it are still there */
    assert_pem(t, "part=chain", AT_HOST "-chain.pem", chain, 2);
    assert_der(t, "format=der", AT_HOST ".cer", "good.pem");
}

/* ---- the query string ---- */

static void
test_cd_api_download_der_chain(void **state)
{
    struct at_fx *t = *state;
    struct cd_response resp;
    char id[64];

    at_install_good(t, id, sizeof(id));
    at_get(t, P_DOWNLOAD, "format=der&part=chain", &resp);
    at_assert_error(&resp, "bad_request", "format");
    cd_api_response_clear(&resp);
    at_get(t, P_DOWNLOAD, "part=chain&format=der", &resp);
    at_assert_error(&resp, "bad_request", "format");
    cd_api_response_clear(&resp);
}

static void
test_cd_api_download_bad_query(void **state)
{
    static const struct {
        const char *query;
        const char *field;
    } bad[] = {
        { "key=1", NULL },
        { "part=key", "part" },
        { "part=private", "part" },
        { "format=p12", "format" },
        { "format=PEM", "format" },
        { "format=", "format" },
        { "format", "format" },
        { "part=", "part" },
        { "format=pem&format=pem", "format" },
        { "format=pem&format=der", "format" },
        { "part=leaf&part=root", "part" },
        { "part=leaf&format=der&part=leaf", "part" },
        { "format=pem&name=x", NULL },
        { "Format=pem", NULL },
        { "%zzformat=pem", NULL },
        { "format=%zz", "format" },
        { "format=pe%", "format" },
        { "format=pe%6", "format" },
        { "format=pem%00", "format" },
        { "part=leaf%26format%3Dder", "part" },
    };
    struct at_fx *t = *state;
    struct cd_response resp;
    char id[64];
    size_t i;

    at_install_good(t, id, sizeof(id));
    for (i = 0; i < NELEM(bad); i++) {
        at_get(t, P_DOWNLOAD, bad[i].query, &resp);
        if (resp.status != 400) {
            char *txt = at_text(&resp);

            fail_msg("download?%s: %d, not 400: %s", bad[i].query,
                resp.status, txt);
        }
        at_assert_error(&resp, "bad_request", bad[i].field);
        cd_api_response_clear(&resp);
    }
}

/* Percent-escapes and empty pairs are what a browser may send. */
static void
test_cd_api_download_escaped_query(void **state)
{
    static const char *const leaf[] = { "good.pem" };
    struct at_fx *t = *state;
    char id[64];

    at_install_good(t, id, sizeof(id));
    assert_pem(t, "format=p%65m", AT_HOST ".pem", leaf, 1);
    assert_pem(t, "%66ormat=pem&part=%6C%65%61%66", AT_HOST ".pem", leaf, 1);
    assert_pem(t, "format=pem&", AT_HOST ".pem", leaf, 1);
    assert_der(t, "&format=der&&part=leaf", AT_HOST ".cer", "good.pem");
}

static void
test_cd_api_download_nothing_installed(void **state)
{
    struct at_fx *t = *state;
    struct cd_response resp;

    at_get(t, P_DOWNLOAD, NULL, &resp);
    at_assert_error(&resp, "not_found", NULL);
    cd_api_response_clear(&resp);
    at_get(t, P_DOWNLOAD, "part=root", &resp);
    at_assert_error(&resp, "not_found", NULL);
    cd_api_response_clear(&resp);
}

#define T(f) cmocka_unit_test_setup_teardown(f, at_setup, at_teardown)

int
main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_cd_api_download_leaf),
        T(test_cd_api_download_chain),
        T(test_cd_api_download_root),
        T(test_cd_api_download_head),
        T(test_cd_api_download_self_signed),
        T(test_cd_api_download_root_from_anchor),
        T(test_cd_api_download_root_unknown),
        T(test_cd_api_download_der_chain),
        T(test_cd_api_download_bad_query),
        T(test_cd_api_download_escaped_query),
        T(test_cd_api_download_nothing_installed),
    };

    return cmocka_run_group_tests(tests, at_group_setup, at_group_teardown);
}
