/*
 * test_crl_pkits.c - the CRL cases NIST PKITS covers, made here with
 * OpenSSL's APIs (the keys are the fixtures' RSA-2048 keys: no key is
 * generated): an indirect CRL, a delta CRL, a separate CRL-signing key, a
 * critical unknown CRL extension, a CRL signer without cRLSign, a revoked
 * certificate under a self-issued CA (key rollover), and an issuing
 * distribution point that leaves the certificate out.
 *
 * Each case says what OpenSSL's own verifier gives with CRL checking
 * (X509_V_FLAG_CRL_CHECK | CRL_CHECK_ALL | EXTENDED_CRL_SUPPORT |
 * USE_DELTAS, as `openssl verify -crl_check_all -extended_crl
 * -use_deltas`), checks that OpenSSL does give it for the files made, and
 * then checks the engine's answer (validate/crl.c, offline CRLs as
 * `certdialog-check --crl-file` gives them): revoked, crl_invalid, or
 * nothing.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <openssl/bio.h>
#include <openssl/conf.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "cv.h"
#include "cv_int.h"             /* the memo's hits */
#define CD_FIXTURE_CMOCKA
#include "fixture.h"

#define DAY 86400L

static time_t now;
static char tmpdir[256];
static CONF *conf;              /* sections the extensions refer to */

/* Sections for the extensions that need more than one line. */
static const char conf_text[] =
    "[dp_indirect]\n"
    "fullname = URI:http://crl.example/indirect.crl\n"
    "CRLissuer = dirName:dn_crl_issuer\n"
    "[dn_crl_issuer]\n"
    "C = US\nO = PKITS Test\nOU = PKITS Lab\nCN = PKITS Indirect CRL Issuer\n"
    "[idp_indirect]\n"
    "fullname = URI:http://crl.example/indirect.crl\n"
    "indirectCRL = TRUE\n"
    "[idp_only_ca]\n"
    "onlyCA = TRUE\n"
    "[idp_other]\n"
    "fullname = URI:http://crl.example/other.crl\n";

static int
group_setup(void **state)
{
    BIO *b = BIO_new_mem_buf(conf_text, -1);
    const char *t = getenv("TMPDIR");
    long eline = 0;

    (void)state;
    now = time(NULL);
    if (b == NULL || (conf = NCONF_new(NULL)) == NULL ||
        NCONF_load_bio(conf, b, &eline) <= 0) {
        fprintf(stderr, "config line %ld\n", eline);
        return -1;
    }
    BIO_free(b);
    snprintf(tmpdir, sizeof(tmpdir), "%s/test_crl_pkits.XXXXXX",
        t != NULL && *t != '\0' ? t : "/tmp");
    if (mkdtemp(tmpdir) == NULL)
        return -1;
    return 0;
}

static int
group_teardown(void **state)
{
    char path[512];

    (void)state;
    NCONF_free(conf);
    cd_fixture_blobs_free();
    snprintf(path, sizeof(path), "%s/root.pem", tmpdir);
    unlink(path);
    rmdir(tmpdir);
    return 0;
}

/* ---- making certificates and CRLs ---- */

/* "C=US, O=PKITS Test, CN=cn" */
static X509_NAME *
dn(const char *cn)
{
    X509_NAME *n = X509_NAME_new();

    assert_non_null(n);
    assert_int_equal(X509_NAME_add_entry_by_txt(n, "C", MBSTRING_ASC,
        (const unsigned char *)"US", -1, -1, 0), 1);
    assert_int_equal(X509_NAME_add_entry_by_txt(n, "O", MBSTRING_ASC,
        (const unsigned char *)"PKITS Test", -1, -1, 0), 1);
    assert_int_equal(X509_NAME_add_entry_by_txt(n, "OU", MBSTRING_ASC,
        (const unsigned char *)"PKITS Lab", -1, -1, 0), 1);
    assert_int_equal(X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC,
        (const unsigned char *)cn, -1, -1, 0), 1);
    return n;
}

/* One extension "name = value" (a section of conf_text by @name). */
static X509_EXTENSION *
ext(X509V3_CTX *v3, const char *name, const char *value)
{
    X509_EXTENSION *e = X509V3_EXT_nconf(conf, v3, name, value);

    if (e == NULL)
        fail_msg("extension %s = %s", name, value);
    return e;
}

/*
 * A certificate as a reader gets it: the extension flags OpenSSL caches
 * (key usage, CA) worked out from the final encoding.
 */
static X509 *
reread_cert(X509 *x)
{
    unsigned char *der = NULL;
    const unsigned char *p;
    X509 *out;
    int n = i2d_X509(x, &der);

    assert_true(n > 0);
    p = der;
    out = d2i_X509(NULL, &p, n);
    assert_non_null(out);
    OPENSSL_free(der);
    X509_free(x);
    return out;
}

/*
 * A certificate for cn with key, issued by issuer (NULL: itself) with
 * ikey; exts: "name", "value" pairs, NULL-terminated.
 */
static X509 *
cert(const char *cn, EVP_PKEY *key, X509 *issuer, EVP_PKEY *ikey,
    long serial, ...)
{
    X509 *x = X509_new();
    X509_NAME *n = dn(cn);
    X509V3_CTX v3;
    X509_EXTENSION *e;
    const char *name, *value;
    va_list ap;

    assert_non_null(x);
    assert_int_equal(X509_set_version(x, 2), 1);
    assert_int_equal(ASN1_INTEGER_set(X509_get_serialNumber(x), serial), 1);
    assert_int_equal(X509_set_subject_name(x, n), 1);
    assert_int_equal(X509_set_issuer_name(x, issuer != NULL ?
        X509_get_subject_name(issuer) : n), 1);
    assert_non_null(X509_time_adj_ex(X509_getm_notBefore(x), -30, 0, &now));
    assert_non_null(X509_time_adj_ex(X509_getm_notAfter(x), 365, 0, &now));
    assert_int_equal(X509_set_pubkey(x, key), 1);
    X509V3_set_ctx(&v3, issuer != NULL ? issuer : x, x, NULL, NULL, 0);
    X509V3_set_nconf(&v3, conf);
    va_start(ap, serial);
    while ((name = va_arg(ap, const char *)) != NULL) {
        value = va_arg(ap, const char *);
        e = ext(&v3, name, value);
        assert_int_equal(X509_add_ext(x, e, -1), 1);
        X509_EXTENSION_free(e);
    }
    va_end(ap);
    assert_true(X509_sign(x, ikey != NULL ? ikey : key, EVP_sha256()) > 0);
    X509_NAME_free(n);
    return reread_cert(x);
}

/* A CA certificate: key usage as given ("keyCertSign, cRLSign"). */
static X509 *
ca_cert(const char *cn, EVP_PKEY *key, X509 *issuer, EVP_PKEY *ikey,
    long serial, const char *ku)
{
    char kuv[128];

    snprintf(kuv, sizeof(kuv), "critical, %s", ku);
    return cert(cn, key, issuer, ikey, serial,
        "basicConstraints", "critical, CA:TRUE",
        "keyUsage", kuv,
        "subjectKeyIdentifier", "hash",
        "authorityKeyIdentifier", "keyid:always", NULL);
}

/*
 * The leaf: good.key, a TLS server, its CRL DP as given ("URI:..."), a
 * freshestCRL pointer (where delta CRLs are) unless NULL.
 */
static X509 *
leaf_cert_delta(X509 *issuer, EVP_PKEY *ikey, long serial, const char *dp,
    const char *freshest)
{
    EVP_PKEY *key = fx_key("good.key");
    X509 *x = cert("sensor.contoso.com", key, issuer, ikey, serial,
        "basicConstraints", "critical, CA:FALSE",
        "keyUsage", "critical, digitalSignature, keyEncipherment",
        "extendedKeyUsage", "serverAuth",
        "subjectAltName", "DNS:sensor.contoso.com",
        "authorityKeyIdentifier", "keyid:always",
        "crlDistributionPoints", dp,
        freshest != NULL ? "freshestCRL" : NULL, freshest, NULL);

    EVP_PKEY_free(key);
    return x;
}

static X509 *
leaf_cert(X509 *issuer, EVP_PKEY *ikey, long serial, const char *dp)
{
    return leaf_cert_delta(issuer, ikey, serial, dp, NULL);
}

/*
 * A CRL as a reader gets it: OpenSSL works out its issuing distribution
 * point, key identifier, delta base and critical extensions when it
 * decodes one, not for a CRL built in memory.
 */
static X509_CRL *
reread_crl(X509_CRL *c)
{
    unsigned char *der = NULL;
    const unsigned char *p;
    X509_CRL *out;
    int n = i2d_X509_CRL(c, &der);

    assert_true(n > 0);
    p = der;
    out = d2i_X509_CRL(NULL, &p, n);
    assert_non_null(out);
    OPENSSL_free(der);
    X509_CRL_free(c);
    return out;
}

/* A revoked entry: serial, and for an indirect CRL its issuer's name. */
struct entry {
    long serial;
    X509 *issuer;               /* NULL: the CRL's issuer */
};

/*
 * A CRL of issuer (its name and key identifier) signed with key: number,
 * the entries (serial 0 ends them), and "name", "value" extension pairs,
 * NULL-terminated ("deltaCRL" takes the base number).
 */
static X509_CRL *
crl(X509 *issuer, EVP_PKEY *key, long number, const struct entry *ents,
    ...)
{
    X509_CRL *c = X509_CRL_new();
    ASN1_TIME *t = ASN1_TIME_new();
    ASN1_INTEGER *num = ASN1_INTEGER_new();
    X509V3_CTX v3;
    X509_EXTENSION *e;
    const char *name, *value;
    va_list ap;

    assert_non_null(c);
    assert_non_null(t);
    assert_non_null(num);
    assert_int_equal(X509_CRL_set_version(c, 1), 1);
    assert_int_equal(X509_CRL_set_issuer_name(c,
        X509_get_subject_name(issuer)), 1);
    assert_non_null(X509_time_adj_ex(t, -1, 0, &now));
    assert_int_equal(X509_CRL_set1_lastUpdate(c, t), 1);
    assert_non_null(X509_time_adj_ex(t, 30, 0, &now));
    assert_int_equal(X509_CRL_set1_nextUpdate(c, t), 1);
    for (; ents != NULL && ents->serial != 0; ents++) {
        X509_REVOKED *r = X509_REVOKED_new();
        ASN1_INTEGER *s = ASN1_INTEGER_new();

        assert_non_null(r);
        assert_non_null(s);
        assert_int_equal(ASN1_INTEGER_set(s, ents->serial), 1);
        assert_int_equal(X509_REVOKED_set_serialNumber(r, s), 1);
        assert_non_null(X509_time_adj_ex(t, -2, 0, &now));
        assert_int_equal(X509_REVOKED_set_revocationDate(r, t), 1);
        if (ents->issuer != NULL) {
            GENERAL_NAMES *gns = sk_GENERAL_NAME_new_null();
            GENERAL_NAME *gn = GENERAL_NAME_new();

            assert_non_null(gns);
            assert_non_null(gn);
            gn->type = GEN_DIRNAME;
            gn->d.directoryName = X509_NAME_dup(
                X509_get_subject_name(ents->issuer));
            assert_true(sk_GENERAL_NAME_push(gns, gn) > 0);
            assert_int_equal(X509_REVOKED_add1_ext_i2d(r,
                NID_certificate_issuer, gns, 1, 0), 1);
            GENERAL_NAMES_free(gns);
        }
        assert_int_equal(X509_CRL_add0_revoked(c, r), 1);
        ASN1_INTEGER_free(s);
    }
    assert_int_equal(ASN1_INTEGER_set(num, number), 1);
    assert_int_equal(X509_CRL_add1_ext_i2d(c, NID_crl_number, num, 0, 0), 1);
    X509V3_set_ctx(&v3, issuer, NULL, NULL, c, 0);
    X509V3_set_nconf(&v3, conf);
    e = ext(&v3, "authorityKeyIdentifier", "keyid:always");
    assert_int_equal(X509_CRL_add_ext(c, e, -1), 1);
    X509_EXTENSION_free(e);
    va_start(ap, ents);
    while ((name = va_arg(ap, const char *)) != NULL) {
        value = va_arg(ap, const char *);
        if (strcmp(name, "deltaCRL") == 0) {
            assert_int_equal(ASN1_INTEGER_set(num, atol(value)), 1);
            assert_int_equal(X509_CRL_add1_ext_i2d(c, NID_delta_crl, num, 1,
                0), 1);
            continue;
        }
        e = ext(&v3, name, value);
        assert_int_equal(X509_CRL_add_ext(c, e, -1), 1);
        X509_EXTENSION_free(e);
    }
    va_end(ap);
    assert_int_equal(X509_CRL_sort(c), 1);
    assert_true(X509_CRL_sign(c, key, EVP_sha256()) > 0);
    ASN1_TIME_free(t);
    ASN1_INTEGER_free(num);
    return reread_crl(c);
}

/* ---- one case ---- */

#define MAXC 6

struct pki {
    X509 *root;
    EVP_PKEY *root_key;
    X509 *leaf;
    X509 *chain[MAXC];          /* the upload's chain file, NULL-ended */
    X509_CRL *crls[MAXC];       /* the offline CRLs, NULL-ended */
    X509 *anchors[MAXC];        /* more anchors than the root, NULL-ended */
    /*
     * fetch: the engine downloads the CRLs (through serve()) instead of
     * being given crls offline; served[i] is at urls[i] (NULL CRL: the
     * URL is unreachable).
     */
    int fetch;
    time_t at;                  /* the validation time; 0: now */
    int root_uploaded;          /* the root in the chain file, not an anchor */
    const char *urls[MAXC];
    X509_CRL *served[MAXC];
    int hits[MAXC];             /* downloads of urls[i] */
    /* what the shapes below make, freed with the rest */
    EVP_PKEY *ca_key;           /* "PKITS CA"'s: int.key */
    EVP_PKEY *other_key;        /* a second key: other-int.key */
    X509 *signer;               /* a CRL signer apart from the CA */
    struct entry rev[2];        /* the leaf revoked, serial 0 ending */
};

/*
 * The root of every case (root.key), and its CRL, revoking nothing; rev
 * lists the leaf every case makes (serial 7).
 */
static void
pki_init(struct pki *p)
{
    memset(p, 0, sizeof(*p));
    p->root_key = fx_key("root.key");
    p->root = ca_cert("PKITS Root", p->root_key, NULL, NULL, 1,
        "keyCertSign, cRLSign");
    p->crls[0] = crl(p->root, p->root_key, 1, NULL, NULL);
    p->rev[0].serial = 7;
}

static void
pki_free(struct pki *p)
{
    size_t i;

    X509_free(p->root);
    EVP_PKEY_free(p->root_key);
    X509_free(p->leaf);
    EVP_PKEY_free(p->ca_key);
    EVP_PKEY_free(p->other_key);
    X509_free(p->signer);
    for (i = 0; i < MAXC; i++) {
        X509_free(p->chain[i]);
        X509_CRL_free(p->crls[i]);
        X509_free(p->anchors[i]);
        X509_CRL_free(p->served[i]);
    }
}

/*
 * The engine's fetcher for a case with fetch set: the CRL served at url,
 * else unreachable, as a refused connection is.
 */
static enum cv_fetch_result
serve(const char *url, const struct cv_fetch_opts *fo, void *arg,
    X509_CRL **crlp, char *detail, size_t dlen)
{
    struct pki *p = arg;
    size_t i;

    (void)fo;
    *crlp = NULL;
    for (i = 0; i < MAXC && p->urls[i] != NULL; i++) {
        if (strcmp(p->urls[i], url) != 0)
            continue;
        p->hits[i]++;
        if (p->served[i] == NULL)
            break;
        assert_int_equal(X509_CRL_up_ref(p->served[i]), 1);
        *crlp = p->served[i];
        return CV_FETCH_OK;
    }
    snprintf(detail, dlen, "Connection refused");
    return CV_FETCH_UNREACHABLE;
}

/* Serves crl (taken) at url, replacing what was served there. */
static void
pki_serve(struct pki *p, const char *url, X509_CRL *crl)
{
    size_t i;

    for (i = 0; i < MAXC && p->urls[i] != NULL &&
        strcmp(p->urls[i], url) != 0; i++)
        ;
    assert_true(i < MAXC);
    p->urls[i] = url;
    X509_CRL_free(p->served[i]);
    p->served[i] = crl;
}

/* Serves crls[i], the one given offline too, at url as well. */
static void
pki_serve_offline(struct pki *p, const char *url, size_t i)
{
    assert_int_equal(X509_CRL_up_ref(p->crls[i]), 1);
    pki_serve(p, url, p->crls[i]);
}

/* How many times url was downloaded. */
static int
pki_hits(const struct pki *p, const char *url)
{
    size_t i;

    for (i = 0; i < MAXC && p->urls[i] != NULL; i++)
        if (strcmp(p->urls[i], url) == 0)
            return p->hits[i];
    return 0;
}

static STACK_OF(X509_CRL) *
crl_stack(const struct pki *p)
{
    STACK_OF(X509_CRL) *sk = sk_X509_CRL_new_null();
    size_t i;

    assert_non_null(sk);
    for (i = 0; i < MAXC && p->crls[i] != NULL; i++)
        assert_true(sk_X509_CRL_push(sk, p->crls[i]) > 0);
    return sk;
}

/* What OpenSSL's own verifier says, with every CRL flag. */
static int
openssl_verify(const struct pki *p, int *depthp)
{
    X509_STORE *store = X509_STORE_new();
    X509_STORE_CTX *vctx = X509_STORE_CTX_new();
    STACK_OF(X509) *untrusted = sk_X509_new_null();
    STACK_OF(X509_CRL) *crls = crl_stack(p);
    int i, err;

    assert_non_null(store);
    assert_non_null(vctx);
    assert_non_null(untrusted);
    assert_int_equal(X509_STORE_add_cert(store, p->root), 1);
    for (i = 0; i < MAXC && p->anchors[i] != NULL; i++)
        assert_int_equal(X509_STORE_add_cert(store, p->anchors[i]), 1);
    for (i = 0; i < MAXC && p->chain[i] != NULL; i++)
        assert_true(sk_X509_push(untrusted, p->chain[i]) > 0);
    assert_int_equal(X509_STORE_CTX_init(vctx, store, p->leaf, untrusted),
        1);
    X509_STORE_CTX_set0_crls(vctx, crls);
    X509_VERIFY_PARAM_set_flags(X509_STORE_CTX_get0_param(vctx),
        X509_V_FLAG_CRL_CHECK | X509_V_FLAG_CRL_CHECK_ALL |
        X509_V_FLAG_EXTENDED_CRL_SUPPORT | X509_V_FLAG_USE_DELTAS);
    X509_verify_cert(vctx);
    err = X509_STORE_CTX_get_error(vctx);
    *depthp = X509_STORE_CTX_get_error_depth(vctx);
    X509_STORE_CTX_free(vctx);
    X509_STORE_free(store);
    sk_X509_free(untrusted);
    sk_X509_CRL_free(crls);
    return err;
}

/* PEM of certificates into a new buffer.  Caller frees. */
static uint8_t *
pem(X509 *const *xs, size_t n, size_t *lenp)
{
    BIO *b = BIO_new(BIO_s_mem());
    BUF_MEM *bm;
    uint8_t *out;
    size_t i;

    assert_non_null(b);
    for (i = 0; i < n && xs[i] != NULL; i++)
        assert_int_equal(PEM_write_bio_X509(b, xs[i]), 1);
    BIO_get_mem_ptr(b, &bm);
    out = malloc(bm->length + 1);
    assert_non_null(out);
    if (bm->length > 0)         /* no certificate: data may be NULL */
        memcpy(out, bm->data, bm->length);
    *lenp = bm->length;
    BIO_free(b);
    return out;
}

/* A context whose anchors are the root and p->anchors. */
static struct cv_ctx *
engine_ctx(const struct pki *p)
{
    X509 *anchors[MAXC + 1];
    struct cv_config cfg;
    struct cv_ctx *ctx;
    char path[512], *err = NULL;
    uint8_t *rootpem;
    size_t n, i;
    FILE *f;

    /* root_uploaded: an unrelated root is the only anchor */
    anchors[0] = p->root_uploaded ? ca_cert("PKITS Unrelated Root",
        p->root_key, NULL, NULL, 99, "keyCertSign, cRLSign") : p->root;
    for (i = 0; i < MAXC; i++)
        anchors[i + 1] = p->anchors[i];
    rootpem = pem(anchors, MAXC + 1, &n);
    if (p->root_uploaded)
        X509_free(anchors[0]);
    snprintf(path, sizeof(path), "%s/root.pem", tmpdir);
    assert_non_null(f = fopen(path, "w"));
    assert_int_equal(fwrite(rootpem, 1, n, f), n);
    assert_int_equal(fclose(f), 0);
    free(rootpem);
    memset(&cfg, 0, sizeof(cfg));
    cfg.ca_file = path;
    cfg.no_default_ca = 1;
    if ((ctx = cv_ctx_new(&cfg, &err)) == NULL)
        fail_msg("cv_ctx_new: %s", err);
    return ctx;
}

/*
 * The engine on the case with ctx: good.key, the leaf, the chain, the
 * CRLs offline or (p->fetch) downloaded through serve().
 */
static struct cv_report *
engine_with(struct pki *p, struct cv_ctx *ctx)
{
    struct cv_input in;
    struct cv_options opt;
    struct cv_report *rep;
    uint8_t *crt, *chain;
    X509 *upload[MAXC + 1];
    size_t i;

    input_fx(&in, "good.key", NULL, NULL);
    crt = pem(&p->leaf, 1, &in.crt_len);
    in.crt = crt;
    for (i = 0; i < MAXC; i++)
        upload[i] = p->chain[i];
    upload[MAXC] = NULL;
    if (p->root_uploaded) {     /* after the chain's last */
        for (i = 0; i < MAXC && upload[i] != NULL; i++)
            ;
        upload[i] = p->root;
    }
    chain = pem(upload, MAXC + 1, &in.chain_len);
    in.chain = in.chain_len > 0 ? chain : NULL;
    memset(&opt, 0, sizeof(opt));
    opt.at = p->at != 0 ? p->at : now;
    opt.use_crl = 1;
    if (p->fetch) {
        opt.fetch_fn = serve;
        opt.fetch_arg = p;
    } else
        opt.offline_crls = crl_stack(p);
    rep = cv_validate(ctx, &in, &opt);
    assert_non_null(rep);
    sk_X509_CRL_free(opt.offline_crls);
    free(crt);
    free(chain);
    return rep;
}

/* The engine on the case, in a context of its own. */
static struct cv_report *
engine(struct pki *p)
{
    struct cv_ctx *ctx = engine_ctx(p);
    struct cv_report *rep = engine_with(p, ctx);

    cv_ctx_free(ctx);
    return rep;
}

/*
 * The engine's errors are exactly want (CV_OK: none) on field, and the
 * detail of want has needle (unless NULL).
 */
static void
engine_says_(struct cv_report *rep, enum cv_code want, const char *field,
    const char *needle, const char *what)
{
    const struct cv_finding *fd = cd_fixture_finding(rep, want);
    char got[4096];
    size_t i, nerr = 0;

    cd_fixture_report_text(rep, got, sizeof(got));
    for (i = 0; i < rep->n_findings; i++)
        if (rep->findings[i].blocking)
            nerr++;
    if (want == CV_OK ? nerr != 0 : (nerr != 1 || fd == NULL ||
        !fd->blocking || strcmp(fd->field, field) != 0))
        fail_msg("%s: the engine says [%s], wanted %s on %s", what, got,
            want == CV_OK ? "no error" : cv_code_name(want), field);
    if (needle != NULL && (fd->detail == NULL ||
        strstr(fd->detail, needle) == NULL))
        fail_msg("%s: the engine says [%s], wanted \"%s\" in %s's detail",
            what, got, needle, cv_code_name(want));
}

/*
 * The case: OpenSSL's verifier gives ossl_err (X509_V_OK or an error at
 * depth ossl_depth), and the engine's errors are exactly want (CV_OK: none)
 * on field.
 */
static void
expect_(struct pki *p, int ossl_err, int ossl_depth, enum cv_code want,
    const char *field, const char *what)
{
    struct cv_report *rep;
    int err, depth;

    err = openssl_verify(p, &depth);
    if (err != ossl_err || (err != X509_V_OK && depth != ossl_depth))
        fail_msg("%s: OpenSSL's verifier says \"%s\" at depth %d, the case "
            "states \"%s\" at %d", what, X509_verify_cert_error_string(err),
            depth, X509_verify_cert_error_string(ossl_err), ossl_depth);
    rep = engine(p);
    engine_says_(rep, want, field, NULL, what);
    cv_report_free(rep);
}

#define EXPECT(p, e, d, want, field) \
    expect_((p), (e), (d), (want), (field), __func__)

/* ---- the shapes of the cases: one builder each, on a new pki ---- */

#define URL_CA "http://crl.example/ca.crl"
#define URL_DELTA "http://crl.example/ca-delta.crl"
#define DP_CA "URI:" URL_CA
#define FRESHEST "URI:" URL_DELTA
#define KU_CA "keyCertSign, cRLSign"

/* Where a shape puts its second CA certificate, p->signer. */
enum place { IN_UPLOAD, IN_ANCHORS, NOWHERE };

static void
pki_place_signer(struct pki *p, X509 *signer, enum place where)
{
    p->signer = signer;
    if (where == NOWHERE)
        return;
    assert_int_equal(X509_up_ref(signer), 1);
    if (where == IN_UPLOAD)
        p->chain[1] = signer;
    else
        p->anchors[0] = signer;
}

/*
 * root -> "PKITS CA" (ca_key, key usage ku) -> the leaf (serial 7), its
 * CRL DP dp and its freshestCRL (unless NULL).
 */
static void
pki_ca_dp(struct pki *p, const char *ku, const char *dp,
    const char *freshest)
{
    pki_init(p);
    p->ca_key = fx_key("int.key");
    p->chain[0] = ca_cert("PKITS CA", p->ca_key, p->root, p->root_key, 2,
        ku);
    p->leaf = leaf_cert_delta(p->chain[0], p->ca_key, 7, dp, freshest);
}

/* The CA: its key usage as given, the leaf's CRL DP at URL_CA. */
static void
pki_ca(struct pki *p, const char *ku)
{
    pki_ca_dp(p, ku, DP_CA, NULL);
}

/* The CA with deltas: the leaf's freshestCRL as given (NULL: none). */
static void
pki_ca_delta(struct pki *p, const char *freshest)
{
    pki_ca_dp(p, KU_CA, DP_CA, freshest);
}

/*
 * A separate CRL key: the CA signs certificates (keyCertSign only) with
 * ca_key and CRLs with other_key, whose certificate, signer (same name,
 * key usage ku), the root issues; it is put where given.
 */
static void
pki_crl_signer(struct pki *p, const char *ku, enum place where)
{
    pki_ca(p, "keyCertSign");
    p->other_key = fx_key("other-int.key");
    pki_place_signer(p, ca_cert("PKITS CA", p->other_key, p->root,
        p->root_key, 4, ku), where);
}

/*
 * An indirect CRL: the leaf's distribution point names a cRLIssuer, a
 * separate "PKITS Indirect CRL Issuer" (other_key, a CA with cRLSign,
 * certified by the root), signer, put where given; rev names the CA as
 * the leaf's certificateIssuer.
 */
static void
pki_indirect(struct pki *p, enum place where)
{
    pki_ca_dp(p, KU_CA, "dp_indirect", NULL);
    p->other_key = fx_key("other-int.key");
    pki_place_signer(p, ca_cert("PKITS Indirect CRL Issuer", p->other_key,
        p->root, p->root_key, 3, "cRLSign"), where);
    p->rev[0].issuer = p->chain[0];
}

/* ---- the cases ---- */

/* The plain case, both ways: the cases below differ from it in one thing. */
static void
test_crl_pkits_direct(void **state)
{
    struct pki p;

    (void)state;
    pki_ca(&p, KU_CA);
    p.crls[1] = crl(p.chain[0], p.ca_key, 1, NULL, NULL);
    EXPECT(&p, X509_V_OK, 0, CV_OK, NULL);
    X509_CRL_free(p.crls[1]);
    p.crls[1] = crl(p.chain[0], p.ca_key, 2, p.rev, NULL);
    EXPECT(&p, X509_V_ERR_CERT_REVOKED, 0, CV_REVOKED, "crt");
    pki_free(&p);
}

/*
 * PKITS 4.14 (indirect CRLs): the leaf's distribution point names a
 * cRLIssuer, a separate "PKITS Indirect CRL Issuer" (other-int.key, a CA
 * with cRLSign, certified by the root, in the upload); its CRL is marked
 * indirect and lists the leaf with the CA as certificateIssuer.
 * OpenSSL: certificate revoked, at depth 0.
 */
static void
test_crl_pkits_indirect(void **state)
{
    struct pki p;

    (void)state;
    pki_indirect(&p, IN_UPLOAD);
    p.crls[1] = crl(p.signer, p.other_key, 1, p.rev,
        "issuingDistributionPoint", "critical, @idp_indirect", NULL);
    EXPECT(&p, X509_V_ERR_CERT_REVOKED, 0, CV_REVOKED, "crt");
    pki_free(&p);
}

/*
 * PKITS 4.15 (delta CRLs): a complete CRL (number 1) that lists nothing
 * and a delta CRL on it (number 2, deltaCRLIndicator 1) that lists the
 * leaf.  OpenSSL with deltas: certificate revoked, at depth 0.
 */
static void
test_crl_pkits_delta(void **state)
{
    struct pki p;

    (void)state;
    pki_ca_delta(&p, FRESHEST);
    p.crls[1] = crl(p.chain[0], p.ca_key, 1, NULL, NULL);
    p.crls[2] = crl(p.chain[0], p.ca_key, 2, p.rev, "deltaCRL", "1", NULL);
    EXPECT(&p, X509_V_ERR_CERT_REVOKED, 0, CV_REVOKED, "crt");
    pki_free(&p);
}

/*
 * PKITS 4.4.19 / 4.4.20 (separate certificate and CRL keys): the CA
 * signs certificates with int.key (keyCertSign only) and CRLs with a
 * second key, other-int.key, certified by the root under the same name
 * with cRLSign only (given in the upload).  OpenSSL: valid when the CRL
 * lists nothing, certificate revoked (depth 0) when it lists the leaf.
 */
static void
test_crl_pkits_separate_crl_key(void **state)
{
    struct pki p;

    (void)state;
    pki_crl_signer(&p, "cRLSign", IN_UPLOAD);
    p.crls[1] = crl(p.signer, p.other_key, 1, NULL, NULL);
    EXPECT(&p, X509_V_OK, 0, CV_OK, NULL);
    X509_CRL_free(p.crls[1]);
    p.crls[1] = crl(p.signer, p.other_key, 2, p.rev, NULL);
    EXPECT(&p, X509_V_ERR_CERT_REVOKED, 0, CV_REVOKED, "crt");
    pki_free(&p);
}

/*
 * PKITS 4.4.x (unknown critical CRL extension): the CA's CRL carries a
 * critical private extension.  OpenSSL: "unhandled critical CRL
 * extension" at depth 0; the engine: crl_invalid.
 */
static void
test_crl_pkits_critical_crl_extension(void **state)
{
    struct pki p;

    (void)state;
    pki_ca(&p, KU_CA);
    p.crls[1] = crl(p.chain[0], p.ca_key, 1, NULL, "1.3.6.1.4.1.55555.1",
        "critical, ASN1:NULL", NULL);
    EXPECT(&p, X509_V_ERR_UNHANDLED_CRITICAL_CRL_EXTENSION, 0,
        CV_CRL_INVALID, "crt");
    pki_free(&p);
}

/*
 * PKITS 4.7.4 (CRL signer without cRLSign): the CA's key usage has
 * keyCertSign only, and it signs its CRL anyway.  OpenSSL: "key usage
 * does not include CRL signing" at depth 0; the engine: crl_invalid.
 */
static void
test_crl_pkits_no_crl_sign(void **state)
{
    struct pki p;

    (void)state;
    pki_ca(&p, "keyCertSign, digitalSignature");
    p.crls[1] = crl(p.chain[0], p.ca_key, 1, NULL, NULL);
    EXPECT(&p, X509_V_ERR_KEYUSAGE_NO_CRL_SIGN, 0, CV_CRL_INVALID, "crt");
    pki_free(&p);
}

/*
 * PKITS 4.5.2 (self-issued new with old): the CA rolled its key over:
 * "PKITS CA" with the old key (int.key) is certified by the root, "PKITS
 * CA" with the new key (other-int.key) by the old key; the leaf by the new
 * key.  The CA's CRLs: one signed with the new key listing the leaf, one
 * with the old key (for the new-with-old certificate) listing nothing.
 * OpenSSL: certificate revoked, at depth 0.
 */
static void
test_crl_pkits_self_issued_revoked(void **state)
{
    struct pki p;
    EVP_PKEY *old_key, *new_key;

    (void)state;
    pki_init(&p);
    old_key = p.ca_key = fx_key("int.key");
    new_key = p.other_key = fx_key("other-int.key");
    p.chain[0] = ca_cert("PKITS CA", old_key, p.root, p.root_key, 2, KU_CA);
    p.chain[1] = ca_cert("PKITS CA", new_key, p.chain[0], old_key, 3, KU_CA);
    p.leaf = leaf_cert(p.chain[1], new_key, 7, DP_CA);
    p.crls[1] = crl(p.chain[0], old_key, 1, NULL, NULL);
    p.crls[2] = crl(p.chain[1], new_key, 1, p.rev, NULL);
    EXPECT(&p, X509_V_ERR_CERT_REVOKED, 0, CV_REVOKED, "crt");
    pki_free(&p);
}

/*
 * PKITS 4.14.x (issuing distribution point out of scope): the CA's only
 * CRL covers CA certificates only (onlyContainsCACerts), or another
 * distribution point; it even lists the leaf's serial, which must not
 * count.  OpenSSL: "different CRL scope" at depth 0; the engine:
 * crl_invalid (no CRL covers the leaf), never revoked.
 */
static void
test_crl_pkits_idp_excludes(void **state)
{
    static const char *const idps[] = { "critical, @idp_only_ca",
        "critical, @idp_other" };
    struct pki p;
    size_t i;

    (void)state;
    for (i = 0; i < 2; i++) {
        pki_ca(&p, KU_CA);
        p.crls[1] = crl(p.chain[0], p.ca_key, 1, p.rev,
            "issuingDistributionPoint", idps[i], NULL);
        EXPECT(&p, X509_V_ERR_DIFFERENT_CRL_SCOPE, 0, CV_CRL_INVALID,
            "crt");
        pki_free(&p);
    }
}

/* ---- downloaded CRLs: delta CRLs and separate CRL signers ---- */

/* The engine on a case with downloaded CRLs: want on field, with needle. */
static void
fetched_(struct pki *p, enum cv_code want, const char *field,
    const char *needle, const char *what)
{
    struct cv_report *rep;

    p->fetch = 1;
    rep = engine(p);
    engine_says_(rep, want, field, needle, what);
    cv_report_free(rep);
}

#define FETCHED(p, want, field, needle) \
    fetched_((p), (want), (field), (needle), __func__)

/*
 * The delta CRL named by the leaf's freshestCRL is downloaded with its
 * base and given to the verifier: the base lists nothing, the delta lists
 * the leaf.  OpenSSL given both: revoked; the engine downloading them:
 * revoked, from the delta's URL.  The same when only the base CRL names
 * the delta (its own freshestCRL).
 */
static void
test_crl_fetched_delta(void **state)
{
    struct pki p;
    int by_crl;

    (void)state;
    for (by_crl = 0; by_crl < 2; by_crl++) {
        pki_ca_delta(&p, by_crl ? NULL : FRESHEST);
        p.crls[1] = by_crl ? crl(p.chain[0], p.ca_key, 1, NULL,
            "freshestCRL", FRESHEST, NULL) : crl(p.chain[0], p.ca_key, 1,
            NULL, NULL);
        p.crls[2] = crl(p.chain[0], p.ca_key, 2, p.rev, "deltaCRL", "1",
            NULL);
        EXPECT(&p, X509_V_ERR_CERT_REVOKED, 0, CV_REVOKED, "crt");
        pki_serve_offline(&p, URL_CA, 1);
        pki_serve_offline(&p, URL_DELTA, 2);
        FETCHED(&p, CV_REVOKED, "crt", URL_DELTA);
        assert_int_equal(pki_hits(&p, URL_DELTA), 1);
        /* without the leaf in the delta: nothing to say */
        pki_serve(&p, URL_DELTA, crl(p.chain[0], p.ca_key, 2, NULL,
            "deltaCRL", "1", NULL));
        FETCHED(&p, CV_OK, NULL, NULL);
        pki_free(&p);
    }
}

/*
 * The delta CRL cannot be downloaded: crl_unreachable, as for a base CRL
 * (the certificate's status is not known to be current), naming the
 * delta's URL; the base alone does not hide it.
 */
static void
test_crl_fetched_delta_unreachable(void **state)
{
    struct pki p;

    (void)state;
    pki_ca_delta(&p, FRESHEST);
    pki_serve(&p, URL_CA, crl(p.chain[0], p.ca_key, 1, NULL, NULL));
    pki_serve(&p, URL_DELTA, NULL);
    FETCHED(&p, CV_CRL_UNREACHABLE, "crt", URL_DELTA);
    assert_int_equal(pki_hits(&p, URL_DELTA), 1);
    pki_free(&p);
}

/*
 * A delta CRL signed with another key than the CA's (its key identifier
 * still the CA's): OpenSSL given it: CRL signature failure at depth 0; the
 * engine: crl_invalid, naming the delta's URL, and not revoked although
 * the delta lists the leaf.
 */
static void
test_crl_fetched_delta_bad_signature(void **state)
{
    struct pki p;

    (void)state;
    pki_ca_delta(&p, FRESHEST);
    p.other_key = fx_key("other-int.key");
    p.crls[1] = crl(p.chain[0], p.ca_key, 1, NULL, NULL);
    p.crls[2] = crl(p.chain[0], p.other_key, 2, p.rev, "deltaCRL", "1",
        NULL);
    EXPECT(&p, X509_V_ERR_CRL_SIGNATURE_FAILURE, 0, CV_CRL_INVALID, "crt");
    pki_serve_offline(&p, URL_CA, 1);
    pki_serve_offline(&p, URL_DELTA, 2);
    FETCHED(&p, CV_CRL_INVALID, "crt", URL_DELTA);
    pki_free(&p);
}

/*
 * What OpenSSL's verifier passes over without a word, so that a delta's
 * revocations would go unseen, is crl_invalid: a complete CRL where the
 * delta should be, and a delta of another key (its key identifier too).
 */
static void
test_crl_fetched_delta_does_not_fit(void **state)
{
    struct pki p;

    (void)state;
    pki_ca_delta(&p, FRESHEST);
    pki_serve(&p, URL_CA, crl(p.chain[0], p.ca_key, 1, NULL, NULL));
    pki_serve(&p, URL_DELTA, crl(p.chain[0], p.ca_key, 2, p.rev, NULL));
    FETCHED(&p, CV_CRL_INVALID, "crt", "is not a delta CRL");
    p.other_key = fx_key("other-int.key");
    p.signer = ca_cert("PKITS CA", p.other_key, p.root, p.root_key, 9,
        KU_CA);
    pki_serve(&p, URL_DELTA, crl(p.signer, p.other_key, 2, p.rev,
        "deltaCRL", "1", NULL));
    FETCHED(&p, CV_CRL_INVALID, "crt", "another signing key");
    pki_free(&p);
}

/*
 * The cache holds an older base CRL (number 1) than the one the delta is
 * for (number 3): the base is downloaded anew, and the delta's revocation
 * counts.  Then a delta based on a newer CRL than the server has is
 * crl_invalid, saying so.
 */
static void
test_crl_fetched_delta_newer_base(void **state)
{
    struct pki p;
    struct cv_ctx *ctx;
    struct cv_report *rep;

    (void)state;
    pki_ca_delta(&p, FRESHEST);
    p.fetch = 1;
    ctx = engine_ctx(&p);
    pki_serve(&p, URL_CA, crl(p.chain[0], p.ca_key, 1, NULL, NULL));
    pki_serve(&p, URL_DELTA, NULL);
    rep = engine_with(&p, ctx);         /* the base is cached */
    engine_says_(rep, CV_CRL_UNREACHABLE, "crt", URL_DELTA, __func__);
    cv_report_free(rep);
    assert_int_equal(pki_hits(&p, URL_CA), 1);
    pki_serve(&p, URL_CA, crl(p.chain[0], p.ca_key, 3, NULL, NULL));
    pki_serve(&p, URL_DELTA, crl(p.chain[0], p.ca_key, 4, p.rev,
        "deltaCRL", "3", NULL));
    rep = engine_with(&p, ctx);
    engine_says_(rep, CV_REVOKED, "crt", URL_DELTA, __func__);
    cv_report_free(rep);
    assert_int_equal(pki_hits(&p, URL_CA), 2);
    cv_ctx_crl_cache_clear(ctx);
    pki_serve(&p, URL_DELTA, crl(p.chain[0], p.ca_key, 6, p.rev,
        "deltaCRL", "5", NULL));
    rep = engine_with(&p, ctx);
    engine_says_(rep, CV_CRL_INVALID, "crt", "applies to CRL number 5 or "
        "later; the base CRL is number 3", __func__);
    cv_report_free(rep);
    cv_ctx_free(ctx);
    pki_free(&p);
}

/*
 * A separate CRL-signing certificate (same name as the CA, other-int.key,
 * cRLSign only, certified by the root) found among the anchors, not
 * uploaded: OpenSSL looks for a CRL signer off the path only among the
 * untrusted certificates, so the engine hands it over.  Revoked when the
 * downloaded CRL lists the leaf; nothing when it lists nothing.
 */
static void
test_crl_fetched_signer_in_anchors(void **state)
{
    struct pki p;

    (void)state;
    pki_crl_signer(&p, "cRLSign", IN_ANCHORS);
    pki_serve(&p, URL_CA, crl(p.signer, p.other_key, 1, NULL, NULL));
    FETCHED(&p, CV_OK, NULL, NULL);
    pki_serve(&p, URL_CA, crl(p.signer, p.other_key, 2, p.rev, NULL));
    FETCHED(&p, CV_REVOKED, "crt", URL_CA);
    pki_free(&p);
}

/*
 * An indirect CRL downloaded from the cRLIssuer's distribution point, its
 * issuer's certificate among the anchors: revoked.
 */
static void
test_crl_fetched_indirect_signer_in_anchors(void **state)
{
    struct pki p;

    (void)state;
    pki_indirect(&p, IN_ANCHORS);
    pki_serve(&p, "http://crl.example/indirect.crl", crl(p.signer,
        p.other_key, 1, p.rev, "issuingDistributionPoint",
        "critical, @idp_indirect", NULL));
    FETCHED(&p, CV_REVOKED, "crt", "indirect.crl");
    pki_free(&p);
}

/*
 * The separate CRL signer, uploaded, without cRLSign (digitalSignature
 * only): OpenSSL given the CRL refuses it (its first error: "CRL path
 * validation error" at depth 0); the engine downloading it: crl_invalid,
 * "key usage does not include CRL signing", and not revoked.
 */
static void
test_crl_fetched_signer_no_crl_sign(void **state)
{
    struct pki p;

    (void)state;
    pki_crl_signer(&p, "digitalSignature", IN_UPLOAD);
    p.crls[1] = crl(p.signer, p.other_key, 1, p.rev, NULL);
    EXPECT(&p, X509_V_ERR_CRL_PATH_VALIDATION_ERROR, 0, CV_CRL_INVALID,
        "crt");
    pki_serve_offline(&p, URL_CA, 1);
    FETCHED(&p, CV_CRL_INVALID, "crt", "key usage does not include CRL "
        "signing");
    pki_free(&p);
}

/*
 * The separate CRL signer's certificate is nowhere (neither uploaded nor
 * an anchor): crl_invalid that says what to add.  And a signer's
 * certificate whose own signature is forged (signed by int.key, not the
 * root's key): crl_invalid naming the signer, never accepted.
 */
static void
test_crl_fetched_signer_missing_or_forged(void **state)
{
    struct pki p;

    (void)state;
    pki_crl_signer(&p, "cRLSign", NOWHERE);
    pki_serve(&p, URL_CA, crl(p.signer, p.other_key, 1, p.rev, NULL));
    FETCHED(&p, CV_CRL_INVALID, "crt", "add the CRL signer's certificate");
    p.chain[1] = ca_cert("PKITS CA", p.other_key, p.root, p.ca_key, 4,
        "cRLSign");
    pki_serve(&p, URL_CA, crl(p.chain[1], p.other_key, 2, p.rev, NULL));
    FETCHED(&p, CV_CRL_INVALID, "crt", "signer's certificate does not "
        "verify");
    pki_free(&p);
}

/*
 * The separate CRL signer uploaded, and the root too (not an anchor: the
 * upload's self-signed root is one for this upload): OpenSSL builds the
 * signer's path from the configured anchors only, and the engine takes
 * the uploaded root there when it is the certificate's own anchor.
 * Revoked; nothing when the CRL lists nothing.
 */
static void
test_crl_fetched_signer_root_uploaded(void **state)
{
    struct pki p;

    (void)state;
    pki_crl_signer(&p, "cRLSign", IN_UPLOAD);
    p.root_uploaded = 1;
    pki_serve(&p, URL_CA, crl(p.signer, p.other_key, 1, NULL, NULL));
    FETCHED(&p, CV_OK, NULL, NULL);
    pki_serve(&p, URL_CA, crl(p.signer, p.other_key, 2, p.rev, NULL));
    FETCHED(&p, CV_REVOKED, "crt", URL_CA);
    pki_free(&p);
}

/* ---- which certificates the pass checks (validate/crl.c) ---- */

#define URL_ROOT "http://crl.example/root.crl"

/*
 * The CA has a distribution point of its own, the root's CRL, which lists
 * the CA (serial 2): revoked, on chain, given offline, downloaded, then
 * from the cache.  With only the leaf's CRL to judge, the pass checks the
 * leaf alone (X509_V_FLAG_CRL_CHECK without CRL_CHECK_ALL); here it must
 * check the CA too.
 */
static void
test_crl_fetched_ca_revoked_by_root(void **state)
{
    static const struct entry ca_rev[] = { { 2, NULL }, { 0, NULL } };
    struct pki p;
    struct cv_ctx *ctx;
    struct cv_report *rep;
    int k;

    (void)state;
    pki_init(&p);
    p.ca_key = fx_key("int.key");
    p.chain[0] = cert("PKITS CA", p.ca_key, p.root, p.root_key, 2,
        "basicConstraints", "critical, CA:TRUE",
        "keyUsage", "critical, keyCertSign, cRLSign",
        "subjectKeyIdentifier", "hash",
        "authorityKeyIdentifier", "keyid:always",
        "crlDistributionPoints", "URI:" URL_ROOT, NULL);
    p.leaf = leaf_cert(p.chain[0], p.ca_key, 7, DP_CA);
    X509_CRL_free(p.crls[0]);
    p.crls[0] = crl(p.root, p.root_key, 2, ca_rev, NULL);
    p.crls[1] = crl(p.chain[0], p.ca_key, 1, NULL, NULL);
    EXPECT(&p, X509_V_ERR_CERT_REVOKED, 1, CV_REVOKED, "chain");
    pki_serve_offline(&p, URL_ROOT, 0);
    pki_serve_offline(&p, URL_CA, 1);
    p.fetch = 1;
    ctx = engine_ctx(&p);
    for (k = 0; k < 3; k++) {       /* downloaded, then cached */
        rep = engine_with(&p, ctx);
        engine_says_(rep, CV_REVOKED, "chain", URL_ROOT, __func__);
        cv_report_free(rep);
    }
    assert_int_equal(pki_hits(&p, URL_ROOT), 1);
    assert_int_equal(pki_hits(&p, URL_CA), 1);
    cv_ctx_free(ctx);
    pki_free(&p);
}

/*
 * A leaf the root issued, its CRL signed by a separate CRL signer (the
 * root's name, other-int.key, cRLSign, certified by the root, uploaded)
 * that lists the signer itself.  OpenSSL checks the signer's own path
 * against the CRLs given when CRL_CHECK_ALL is set, and then refuses the
 * CRL: crl_invalid naming the signer, every time.  Only the leaf has a CRL
 * here, yet the pass must keep CRL_CHECK_ALL: the CRL's signer is not the
 * leaf's issuer on the path.
 */
static void
test_crl_fetched_signer_revoked_by_own_crl(void **state)
{
    static const struct entry signer_rev[] = { { 4, NULL }, { 0, NULL } };
    struct pki p;
    struct cv_ctx *ctx;
    struct cv_report *rep;
    int k;

    (void)state;
    pki_init(&p);
    p.leaf = leaf_cert(p.root, p.root_key, 7, DP_CA);
    p.other_key = fx_key("other-int.key");
    p.signer = ca_cert("PKITS Root", p.other_key, p.root, p.root_key, 4,
        "cRLSign");
    assert_int_equal(X509_up_ref(p.signer), 1);
    p.chain[0] = p.signer;          /* the upload: the signer alone */
    pki_serve(&p, URL_CA, crl(p.signer, p.other_key, 1, NULL, NULL));
    p.fetch = 1;
    ctx = engine_ctx(&p);
    for (k = 0; k < 2; k++) {
        rep = engine_with(&p, ctx);
        engine_says_(rep, CV_OK, NULL, NULL, __func__);
        cv_report_free(rep);
    }
    cv_ctx_crl_cache_clear(ctx);
    pki_serve(&p, URL_CA, crl(p.signer, p.other_key, 2, signer_rev, NULL));
    for (k = 0; k < 2; k++) {
        rep = engine_with(&p, ctx);
        engine_says_(rep, CV_CRL_INVALID, "crt", "signer's certificate "
            "does not verify (CN=PKITS Root: certificate revoked)", __func__);
        cv_report_free(rep);
    }
    cv_ctx_free(ctx);
    pki_free(&p);
}

/* ---- the memo of passes over cached CRLs (validate/crl.c) ---- */

/*
 * The shape of crl_cache_overhead_pct: a leaf (serial) the root issued,
 * its CRL at URL_CA downloaded through serve(): the root's, listing
 * serial 7 when revoking (p->rev).
 */
static struct cv_ctx *
pki_root_leaf(struct pki *p, long serial, int revoking)
{
    pki_init(p);
    p->leaf = leaf_cert(p->root, p->root_key, serial, DP_CA);
    pki_serve(p, URL_CA, crl(p->root, p->root_key, 1, revoking ? p->rev :
        NULL, NULL));
    p->fetch = 1;
    return engine_ctx(p);
}

/* The engine on p with ctx says want on field (needle in its detail). */
static void
again_(struct pki *p, struct cv_ctx *ctx, enum cv_code want,
    const char *field, const char *needle, const char *what)
{
    struct cv_report *rep = engine_with(p, ctx);

    engine_says_(rep, want, field, needle, what);
    cv_report_free(rep);
}

#define AGAIN(p, ctx, want, field, needle) \
    again_((p), (ctx), (want), (field), (needle), __func__)

/*
 * The end of a memo case: the CRL server saw fetches downloads and the
 * memo answered memo passes; frees ctx and p.
 */
static void
memo_end(struct pki *p, struct cv_ctx *ctx, int fetches, unsigned long memo)
{
    assert_int_equal(pki_hits(p, URL_CA), fetches);
    assert_int_equal(ctx->memo_hits, memo);
    cv_ctx_free(ctx);
    pki_free(p);
}

/*
 * A leaf the cached CRL does not list: downloaded, judged (the verdict
 * kept), then answered from the memo.  The leaf it lists (serial 7) is
 * another path: judged anew and revoked every time, the first leaf still
 * from the memo.
 */
static void
test_crl_memo_other_path(void **state)
{
    struct pki p;
    struct cv_ctx *ctx = pki_root_leaf(&p, 8, 1);
    X509 *good = p.leaf;
    int k;

    (void)state;
    for (k = 0; k < 3; k++)
        AGAIN(&p, ctx, CV_OK, NULL, NULL);
    assert_int_equal(pki_hits(&p, URL_CA), 1);
    assert_int_equal(ctx->memo_hits, 1);
    p.leaf = leaf_cert(p.root, p.root_key, 7, DP_CA);
    for (k = 0; k < 3; k++)
        AGAIN(&p, ctx, CV_REVOKED, "crt", URL_CA);
    assert_int_equal(ctx->memo_hits, 1);
    X509_free(p.leaf);
    p.leaf = good;
    AGAIN(&p, ctx, CV_OK, NULL, NULL);
    memo_end(&p, ctx, 1, 2);
}

/* A revoked leaf is revoked on every request, downloaded or cached. */
static void
test_crl_memo_revoked(void **state)
{
    struct pki p;
    struct cv_ctx *ctx = pki_root_leaf(&p, 7, 1);
    int k;

    (void)state;
    for (k = 0; k < 4; k++)
        AGAIN(&p, ctx, CV_REVOKED, "crt", URL_CA);
    memo_end(&p, ctx, 1, 0);
}

/*
 * The verdict holds from the time it was made until the CRL's nextUpdate
 * (30 days on): later (the CRL still cached: the cache goes by the wall
 * clock) the CRL is out of date, before it (its lastUpdate a day back) it
 * is not valid yet; in between the memo answers.
 */
static void
test_crl_memo_time(void **state)
{
    struct pki p;
    struct cv_ctx *ctx = pki_root_leaf(&p, 8, 0);

    (void)state;
    AGAIN(&p, ctx, CV_OK, NULL, NULL);          /* downloaded */
    AGAIN(&p, ctx, CV_OK, NULL, NULL);          /* judged, kept */
    p.at = now + 31 * DAY;
    AGAIN(&p, ctx, CV_CRL_INVALID, "crt", "out of date");
    AGAIN(&p, ctx, CV_CRL_INVALID, "crt", "out of date");
    p.at = now - 2 * DAY;
    AGAIN(&p, ctx, CV_CRL_INVALID, "crt", "not valid yet");
    assert_int_equal(ctx->memo_hits, 0);
    p.at = now + 29 * DAY;
    AGAIN(&p, ctx, CV_OK, NULL, NULL);
    memo_end(&p, ctx, 1, 1);
}

/*
 * A verdict rests on the cache entry it used: once the CRL left the cache,
 * the next one downloaded (now listing the leaf) is judged anew.
 */
static void
test_crl_memo_new_crl(void **state)
{
    struct pki p;
    struct cv_ctx *ctx = pki_root_leaf(&p, 7, 0);

    (void)state;
    AGAIN(&p, ctx, CV_OK, NULL, NULL);
    AGAIN(&p, ctx, CV_OK, NULL, NULL);
    AGAIN(&p, ctx, CV_OK, NULL, NULL);
    assert_int_equal(ctx->memo_hits, 1);
    cv_ctx_crl_cache_clear(ctx);
    pki_serve(&p, URL_CA, crl(p.root, p.root_key, 2, p.rev, NULL));
    AGAIN(&p, ctx, CV_REVOKED, "crt", URL_CA);
    AGAIN(&p, ctx, CV_REVOKED, "crt", URL_CA);
    memo_end(&p, ctx, 2, 1);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_crl_pkits_direct),
        cmocka_unit_test(test_crl_pkits_indirect),
        cmocka_unit_test(test_crl_pkits_delta),
        cmocka_unit_test(test_crl_pkits_separate_crl_key),
        cmocka_unit_test(test_crl_pkits_critical_crl_extension),
        cmocka_unit_test(test_crl_pkits_no_crl_sign),
        cmocka_unit_test(test_crl_pkits_self_issued_revoked),
        cmocka_unit_test(test_crl_pkits_idp_excludes),
        cmocka_unit_test(test_crl_fetched_delta),
        cmocka_unit_test(test_crl_fetched_delta_unreachable),
        cmocka_unit_test(test_crl_fetched_delta_bad_signature),
        cmocka_unit_test(test_crl_fetched_delta_does_not_fit),
        cmocka_unit_test(test_crl_fetched_delta_newer_base),
        cmocka_unit_test(test_crl_fetched_signer_in_anchors),
        cmocka_unit_test(test_crl_fetched_indirect_signer_in_anchors),
        cmocka_unit_test(test_crl_fetched_signer_no_crl_sign),
        cmocka_unit_test(test_crl_fetched_signer_missing_or_forged),
        cmocka_unit_test(test_crl_fetched_signer_root_uploaded),
        cmocka_unit_test(test_crl_fetched_ca_revoked_by_root),
        cmocka_unit_test(test_crl_fetched_signer_revoked_by_own_crl),
        cmocka_unit_test(test_crl_memo_other_path),
        cmocka_unit_test(test_crl_memo_revoked),
        cmocka_unit_test(test_crl_memo_time),
        cmocka_unit_test(test_crl_memo_new_crl),
    };

    if (getenv("CD_TEST_FILTER") != NULL)
        cmocka_set_test_filter(getenv("CD_TEST_FILTER"));
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
