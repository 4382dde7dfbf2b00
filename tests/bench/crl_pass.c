/*
 * crl_pass.c - the upload of crl_cache_overhead_pct (scripts/bench-http)
 * in one process, for callgrind: good.key and a leaf of it issued by the
 * fixture root (root.pem the only anchor, no chain uploaded) whose CRL
 * distribution point is served root.crl by a stub fetcher; the first
 * validation downloads the CRL (into the context's cache), the others use
 * the cached copy.
 *
 * Usage: crl_pass FIXTURE_DIR N [off]
 *   validates N times (use_crl=1; "off": use_crl=0) with one context and
 *   says how many findings the reports had at most, how often the stub
 *   was asked and how many CRL passes the memo answered (the second
 *   validation judges and keeps the verdict, the third on use it).
 *   Instructions per validation in the steady state:
 *     valgrind --tool=callgrind crl_pass DIR 2, then DIR 12: the
 *     difference of cv_chain_verify / cv_crl_check inclusive over 10.
 * Exits 0, 1 when a report has a finding or the stub was asked more than
 * once, 2 on a usage or fixture error.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "cv.h"
#include "cv_int.h"             /* the CRL memo's hits */
#include "fixture.h"

#define CDP_URL "http://crl.invalid/root.crl"

static X509_CRL *served;
static int asked;

/* cv_crl_fetch_fn: root.crl for CDP_URL. */
static enum cv_fetch_result
serve(const char *url, const struct cv_fetch_opts *fo, void *arg,
    X509_CRL **crlp, char *detail, size_t dlen)
{
    (void)fo;
    (void)arg;
    asked++;
    *crlp = NULL;
    if (strcmp(url, CDP_URL) != 0 || !X509_CRL_up_ref(served)) {
        snprintf(detail, dlen, "not served: %s", url);
        return CV_FETCH_UNREACHABLE;
    }
    *crlp = served;
    return CV_FETCH_OK;
}

/* Adds the extension nid = val to x (issuer: the extension context). */
static int
add_ext(X509 *x, X509 *issuer, int nid, const char *val)
{
    X509V3_CTX v3;
    X509_EXTENSION *ext;
    int ok;

    X509V3_set_ctx(&v3, issuer, x, NULL, NULL, 0);
    if ((ext = X509V3_EXT_nconf_nid(NULL, &v3, nid, val)) == NULL)
        return 0;
    ok = X509_add_ext(x, ext, -1);
    X509_EXTENSION_free(ext);
    return ok;
}

/*
 * good.pem's subject and key, issued by root (root_key) with the
 * extensions scripts/bench-http gives its CDP leaf, as PEM into *pemp.
 */
static int
make_leaf(X509 *root, EVP_PKEY *root_key, time_t at, char **pemp,
    long *lenp)
{
    X509 *good = cd_fixture_x509("good.pem"), *x = X509_new();
    BIO *b = BIO_new(BIO_s_mem());
    char *p;
    int ok;

    ok = good != NULL && x != NULL && b != NULL &&
        X509_set_version(x, 2) &&
        ASN1_INTEGER_set(X509_get_serialNumber(x), 424242) &&
        X509_set_subject_name(x, X509_get_subject_name(good)) &&
        X509_set_issuer_name(x, X509_get_subject_name(root)) &&
        X509_time_adj_ex(X509_getm_notBefore(x), -1, 0, &at) != NULL &&
        X509_time_adj_ex(X509_getm_notAfter(x), 365, 0, &at) != NULL &&
        X509_set_pubkey(x, X509_get0_pubkey(good)) &&
        add_ext(x, root, NID_subject_key_identifier, "hash") &&
        add_ext(x, root, NID_authority_key_identifier, "keyid") &&
        add_ext(x, root, NID_basic_constraints, "CA:FALSE") &&
        add_ext(x, root, NID_key_usage,
        "critical,digitalSignature,keyEncipherment") &&
        add_ext(x, root, NID_ext_key_usage, "serverAuth") &&
        add_ext(x, root, NID_subject_alt_name,
        "DNS:sensor.contoso.com,IP:127.0.0.1") &&
        add_ext(x, root, NID_crl_distribution_points, "URI:" CDP_URL) &&
        X509_sign(x, root_key, EVP_sha256()) > 0 &&
        PEM_write_bio_X509(b, x);
    if (ok) {
        *lenp = BIO_get_mem_data(b, &p);
        ok = (*pemp = malloc((size_t)*lenp)) != NULL;
        if (ok)
            memcpy(*pemp, p, (size_t)*lenp);
    }
    X509_free(good);
    X509_free(x);
    BIO_free(b);
    return ok;
}

int
main(int argc, char **argv)
{
    struct cv_ctx *ctx = NULL;
    struct cv_input in;
    struct cv_options opt;
    struct cv_report *rep = NULL;
    X509 *root = NULL;
    EVP_PKEY *root_key = NULL;
    char *leaf = NULL;
    long leaf_len = 0;
    size_t nf = 0;
    int i, n, rc = 2;

    if (argc < 3 || (n = atoi(argv[2])) < 1) {
        fprintf(stderr, "usage: crl_pass FIXTURE_DIR N [off]\n");
        return 2;
    }
    setenv("CD_FIXTURES", argv[1], 1);
    memset(&opt, 0, sizeof(opt));
    opt.at = cd_fixture_time();
    opt.use_crl = argc < 4 || strcmp(argv[3], "off") != 0;
    opt.hostname = "sensor.contoso.com";
    opt.fetch_fn = serve;
    if ((root = cd_fixture_x509("root.pem")) == NULL ||
        (root_key = cd_fixture_key("root.key")) == NULL ||
        (served = cd_fixture_crl("root.crl")) == NULL ||
        (ctx = cd_fixture_ctx()) == NULL ||
        cd_fixture_input(&in, "good.key", NULL, NULL) != 0 ||
        !make_leaf(root, root_key, opt.at, &leaf, &leaf_len)) {
        fprintf(stderr, "crl_pass: %s\n", cd_fixture_error());
        goto out;
    }
    in.crt = (const uint8_t *)leaf;
    in.crt_len = (size_t)leaf_len;
    rc = 0;
    for (i = 0; i < n; i++) {
        cv_report_free(rep);
        if ((rep = cv_validate(ctx, &in, &opt)) == NULL) {
            rc = 2;
            goto out;
        }
        if (rep->n_findings > nf)
            nf = rep->n_findings;
    }
    printf("crl_pass: %d validations (use_crl=%d), at most %zu findings, "
        "the CRL asked for %d time(s), %lu answered by the memo\n", n,
        opt.use_crl, nf, asked, ctx->memo_hits);
    for (i = 0; i < (int)rep->n_findings; i++)
        printf("  %s: %s\n", cv_code_name(rep->findings[i].code),
            rep->findings[i].detail ? rep->findings[i].detail : "");
    if (nf > 0 || asked > 1)
        rc = 1;
out:
    cv_report_free(rep);
    cv_ctx_free(ctx);
    X509_free(root);
    EVP_PKEY_free(root_key);
    X509_CRL_free(served);
    free(leaf);
    cd_fixture_blobs_free();
    return rc;
}
