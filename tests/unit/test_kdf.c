/*
 * test_kdf.c - the key derivation limits of validate/load.c (docs/DESIGN.md
 * "Limits"): one derivation may ask for at most 1,000,000 rounds (scrypt:
 * N x r x p), a file's derivations together at most 3,000,000, and every
 * one is priced before it runs -- in every PEM block that is an encrypted
 * key, every PKCS#12 part and key bag, and the MAC.
 *
 * The files are made here with the openssl CLI at a cheap count (2,048
 * rounds), then the count is raised in the DER through OpenSSL's ASN.1
 * API: `openssl pkcs8 -iter 8388608` would itself spend 15 s per file on
 * a loaded build machine.  A raised file no longer decrypts with its
 * passphrase, which is what makes the assertions timing-free: a
 * derivation that ran gives passphrase_mismatch (or an undecryptable
 * PKCS#12), a refusal before it gives unreadable_key / unreadable_crt with
 * a detail that names the rounds.  One PKCS#12 made for real just over the
 * limit shows the refusal of a file that would otherwise be accepted.
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

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/x509.h>

#include "cv.h"
#define CD_FIXTURE_CMOCKA
#include "fixture.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))
#define PASS "Secr3t!pass"
#define WRONG "Wr0ng!pass"
#define ISSUE_ITER 8388608ULL   /* the count of issue 12's attacks */

static struct cv_ctx *ctx;
static time_t at;
static char tmpdir[256];

static int
group_setup(void **state)
{
    const char *t = getenv("TMPDIR");

    (void)state;
    if ((ctx = cd_fixture_ctx()) == NULL) {
        fprintf(stderr, "%s\n", cd_fixture_error());
        return -1;
    }
    at = cd_fixture_time();
    snprintf(tmpdir, sizeof(tmpdir), "%s/test_kdf.XXXXXX",
        t != NULL && *t != '\0' ? t : "/tmp");
    if (mkdtemp(tmpdir) == NULL) {
        perror("mkdtemp");
        return -1;
    }
    return 0;
}

static int
group_teardown(void **state)
{
    char cmd[512];

    (void)state;
    cv_ctx_free(ctx);
    cd_fixture_blobs_free();
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
    if (tmpdir[0] != '\0' && system(cmd) != 0)
        fprintf(stderr, "cannot remove %s\n", tmpdir);
    return 0;
}

/* ---- making files ---- */

/* A path in the test's directory (four rotating buffers). */
static const char *
tmp(const char *name)
{
    static char buf[4][512];
    static int i;

    i = (i + 1) % 4;
    snprintf(buf[i], sizeof(buf[i]), "%s/%s", tmpdir, name);
    return buf[i];
}

/*
 * Runs `openssl ARGS` ($OPENSSL), with $F the fixture directory and $T
 * this test's directory in ARGS; the test fails unless it exits 0.
 */
static void
ossl(const char *fmt, ...)
{
    char args[2048], cmd[4096];
    const char *o = getenv("OPENSSL");
    va_list ap;
    int rc;

    va_start(ap, fmt);
    vsnprintf(args, sizeof(args), fmt, ap);
    va_end(ap);
    snprintf(cmd, sizeof(cmd), "F='%s'; T='%s'; '%s' %s </dev/null "
        ">/dev/null 2>&1", cd_fixture_dir(), tmpdir,
        o != NULL && *o != '\0' ? o : "openssl", args);
    if ((rc = system(cmd)) != 0)
        fail_msg("openssl %s: exit %d", args, rc);
}

/* A whole file; the test fails when it cannot be read.  Caller frees. */
static uint8_t *
slurp(const char *path, size_t *lenp)
{
    char *p = cv_read_file(path, 1 << 20, 0, lenp);

    if (p == NULL)
        fail_msg("cannot read %s", path);
    return (uint8_t *)p;
}

/*
 * Sets the cost of a password-based encryption: PBES2 with PBKDF2 (iter)
 * or scrypt (N, r, p from nrp), or a PKCS#5 v1 / PKCS#12 PBE (iter).
 */
static void
alg_set_cost(X509_ALGOR *alg, uint64_t iter, const uint64_t *nrp)
{
    PBE2PARAM *p2;
    PBKDF2PARAM *kdf;
    SCRYPT_PARAMS *sp;
    PBEPARAM *pbe;
    X509_ALGOR *kf;

    if (OBJ_obj2nid(alg->algorithm) != NID_pbes2) {
        pbe = ASN1_TYPE_unpack_sequence(ASN1_ITEM_rptr(PBEPARAM),
            alg->parameter);
        assert_non_null(pbe);
        assert_int_equal(ASN1_INTEGER_set_uint64(pbe->iter, iter), 1);
        assert_non_null(ASN1_TYPE_pack_sequence(ASN1_ITEM_rptr(PBEPARAM),
            pbe, &alg->parameter));
        PBEPARAM_free(pbe);
        return;
    }
    p2 = ASN1_TYPE_unpack_sequence(ASN1_ITEM_rptr(PBE2PARAM),
        alg->parameter);
    assert_non_null(p2);
    kf = p2->keyfunc;
    if (nrp == NULL) {
        assert_int_equal(OBJ_obj2nid(kf->algorithm), NID_id_pbkdf2);
        kdf = ASN1_TYPE_unpack_sequence(ASN1_ITEM_rptr(PBKDF2PARAM),
            kf->parameter);
        assert_non_null(kdf);
        assert_int_equal(ASN1_INTEGER_set_uint64(kdf->iter, iter), 1);
        assert_non_null(ASN1_TYPE_pack_sequence(
            ASN1_ITEM_rptr(PBKDF2PARAM), kdf, &kf->parameter));
        PBKDF2PARAM_free(kdf);
    } else {
        assert_int_equal(OBJ_obj2nid(kf->algorithm), NID_id_scrypt);
        sp = ASN1_TYPE_unpack_sequence(ASN1_ITEM_rptr(SCRYPT_PARAMS),
            kf->parameter);
        assert_non_null(sp);
        assert_int_equal(ASN1_INTEGER_set_uint64(sp->costParameter,
            nrp[0]), 1);
        assert_int_equal(ASN1_INTEGER_set_uint64(sp->blockSize, nrp[1]), 1);
        assert_int_equal(ASN1_INTEGER_set_uint64(
            sp->parallelizationParameter, nrp[2]), 1);
        assert_non_null(ASN1_TYPE_pack_sequence(
            ASN1_ITEM_rptr(SCRYPT_PARAMS), sp, &kf->parameter));
        SCRYPT_PARAMS_free(sp);
    }
    assert_non_null(ASN1_TYPE_pack_sequence(ASN1_ITEM_rptr(PBE2PARAM), p2,
        &alg->parameter));
    PBE2PARAM_free(p2);
}

/* The DER of an encrypted PKCS#8 PEM file. */
static X509_SIG *
read_p8(const char *path)
{
    FILE *f = fopen(path, "r");
    X509_SIG *sig;

    assert_non_null(f);
    sig = PEM_read_PKCS8(f, NULL, NULL, NULL);
    fclose(f);
    assert_non_null(sig);
    return sig;
}

/* A BIO's bytes in a new buffer.  Caller frees. */
static uint8_t *
bio_bytes(BIO *mem, size_t *lenp)
{
    BUF_MEM *bm;
    uint8_t *out;

    BIO_get_mem_ptr(mem, &bm);
    out = malloc(bm->length + 1);
    assert_non_null(out);
    memcpy(out, bm->data, bm->length);
    out[bm->length] = '\0';
    *lenp = bm->length;
    return out;
}

/*
 * The encrypted PKCS#8 key at path with its cost raised (see
 * alg_set_cost()), as PEM, or DER when der.  Caller frees.
 */
static uint8_t *
raised_p8(const char *path, uint64_t iter, const uint64_t *nrp, int der,
    size_t *lenp)
{
    X509_SIG *sig = read_p8(path);
    X509_ALGOR *alg = NULL;
    BIO *mem = BIO_new(BIO_s_mem());
    uint8_t *out;

    assert_non_null(mem);
    X509_SIG_getm(sig, &alg, NULL);
    alg_set_cost(alg, iter, nrp);
    if (der)
        assert_true(i2d_PKCS8_bio(mem, sig) > 0);
    else
        assert_true(PEM_write_bio_PKCS8(mem, sig) > 0);
    out = bio_bytes(mem, lenp);
    BIO_free(mem);
    X509_SIG_free(sig);
    return out;
}

/* Files one after the other (NULL-terminated list of paths). */
static uint8_t *
cat_files(size_t *lenp, ...)
{
    BIO *mem = BIO_new(BIO_s_mem());
    const char *path;
    uint8_t *p, *out;
    size_t n;
    va_list ap;

    assert_non_null(mem);
    va_start(ap, lenp);
    while ((path = va_arg(ap, const char *)) != NULL) {
        p = slurp(path, &n);
        assert_int_equal(BIO_write(mem, p, (int)n), (int)n);
        free(p);
    }
    va_end(ap);
    out = bio_bytes(mem, lenp);
    BIO_free(mem);
    return out;
}

/* Writes len bytes to a file of the test's directory; returns its path. */
static const char *
put(const char *name, const uint8_t *p, size_t len)
{
    const char *path = tmp(name);
    FILE *f = fopen(path, "w");

    assert_non_null(f);
    assert_int_equal(fwrite(p, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
    return path;
}

/* What to raise in a PKCS#12 file (0: leave as made). */
struct p12raise {
    uint64_t key;               /* every shrouded key bag */
    uint64_t part;              /* every encrypted part */
    uint64_t mac;
};

/*
 * The PKCS#12 file at path with its costs raised; the MAC is made anew
 * (at 2 rounds, then its count set: a raised MAC does not verify).
 * Caller frees.
 */
static uint8_t *
raised_p12(const char *path, const struct p12raise *r, size_t *lenp)
{
    size_t n;
    uint8_t *der = slurp(path, &n);
    const unsigned char *p = der;
    PKCS12 *p12 = d2i_PKCS12(NULL, &p, (long)n);
    STACK_OF(PKCS7) *parts;
    STACK_OF(PKCS12_SAFEBAG) *bags;
    const ASN1_INTEGER *it = NULL;
    X509_ALGOR *alg;
    BIO *mem = BIO_new(BIO_s_mem());
    PKCS7 *p7;
    uint8_t *out;
    int i, j;

    assert_non_null(p12);
    assert_non_null(mem);
    parts = PKCS12_unpack_authsafes(p12);
    assert_non_null(parts);
    for (i = 0; i < sk_PKCS7_num(parts); i++) {
        p7 = sk_PKCS7_value(parts, i);
        if (OBJ_obj2nid(p7->type) == NID_pkcs7_encrypted) {
            if (r->part != 0)
                alg_set_cost(p7->d.encrypted->enc_data->algorithm,
                    r->part, NULL);
            continue;
        }
        bags = PKCS12_unpack_p7data(p7);
        assert_non_null(bags);
        for (j = 0; j < sk_PKCS12_SAFEBAG_num(bags); j++) {
            PKCS12_SAFEBAG *bag = sk_PKCS12_SAFEBAG_value(bags, j);

            if (PKCS12_SAFEBAG_get_nid(bag) != NID_pkcs8ShroudedKeyBag ||
                r->key == 0)
                continue;
            alg = NULL;
            X509_SIG_getm((X509_SIG *)PKCS12_SAFEBAG_get0_pkcs8(bag), &alg,
                NULL);
            alg_set_cost(alg, r->key, NULL);
        }
        assert_non_null(p7 = PKCS12_pack_p7data(bags));
        PKCS7_free(sk_PKCS7_value(parts, i));
        (void)sk_PKCS7_set(parts, i, p7);
        sk_PKCS12_SAFEBAG_pop_free(bags, PKCS12_SAFEBAG_free);
    }
    assert_int_equal(PKCS12_pack_authsafes(p12, parts), 1);
    sk_PKCS7_pop_free(parts, PKCS7_free);
    assert_int_equal(PKCS12_set_mac(p12, PASS, -1, NULL, 0, 2, NULL), 1);
    if (r->mac != 0) {
        PKCS12_get0_mac(NULL, NULL, NULL, &it, p12);
        assert_non_null(it);
        assert_int_equal(ASN1_INTEGER_set_uint64((ASN1_INTEGER *)it,
            r->mac), 1);
    }
    assert_true(i2d_PKCS12_bio(mem, p12) > 0);
    out = bio_bytes(mem, lenp);
    BIO_free(mem);
    PKCS12_free(p12);
    free(der);
    return out;
}

/* good.key and good.pem as PKCS#12 by the CLI, with extra options. */
static const char *
make_p12(const char *name, const char *opts)
{
    ossl("pkcs12 -export -inkey \"$F/good.key\" -in \"$F/good.pem\" "
        "-certfile \"$F/chain.pem\" -passout pass:%s %s -out \"$T/%s\"",
        PASS, opts, name);
    return tmp(name);
}

/* ---- running the engine ---- */

/* Validates key (may be NULL) and crt (NULL: good.pem) with chain.pem. */
static struct cv_report *
validate(const uint8_t *key, size_t klen, const uint8_t *crt, size_t clen,
    const char *pass)
{
    struct cv_input in;
    struct cv_options opt;
    struct cv_report *rep;

    input_fx(&in, NULL, crt == NULL ? "good.pem" : NULL, "chain.pem");
    in.key = key;
    in.key_len = klen;
    if (crt != NULL) {
        in.crt = crt;
        in.crt_len = clen;
    }
    in.passphrase = pass;
    in.passphrase_len = pass != NULL ? strlen(pass) : 0;
    memset(&opt, 0, sizeof(opt));
    opt.at = at;
    opt.use_crl = 0;
    rep = cv_validate(ctx, &in, &opt);
    assert_non_null(rep);
    return rep;
}

/*
 * rep holds one finding code on field whose detail holds want (what a
 * refusal before any derivation says), and nothing else but, for a crt
 * with no key field, the key's missing_field.
 */
static void
assert_refused_(const struct cv_report *rep, enum cv_code code,
    const char *field, const char *want, const char *what,
    const char *file, int line)
{
    const struct cv_finding *f = cd_fixture_finding(rep, code);
    char got[4096];
    size_t i, others = 0;

    cd_fixture_report_text(rep, got, sizeof(got));
    for (i = 0; i < rep->n_findings; i++)
        if (rep->findings[i].code != code &&
            !(rep->findings[i].code == CV_MISSING_FIELD &&
            strcmp(field, "crt") == 0))
            others++;
    if (f == NULL || others != 0 || strcmp(f->field, field) != 0 ||
        f->detail == NULL || strstr(f->detail, want) == NULL)
        fail_msg("%s:%d: %s: got [%s], wanted %s(%s: ...%s...)", file,
            line, what, got, cv_code_name(code), field, want);
    assert_false(cv_report_ok(rep));
    assert_null(rep->key);
}

#define ASSERT_REFUSED(rep, code, field, want, what) \
    assert_refused_((rep), (code), (field), (want), (what), __FILE__, \
    __LINE__)

/* Key bytes with both passphrases: refused the same way each time. */
static void
key_refused(const uint8_t *key, size_t len, const char *want,
    const char *what)
{
    static const char *const passes[] = { PASS, WRONG };
    struct cv_report *rep;
    char w[256];
    size_t i;

    for (i = 0; i < NELEM(passes); i++) {
        rep = validate(key, len, NULL, 0, passes[i]);
        snprintf(w, sizeof(w), "%s, %s passphrase", what, i == 0 ? "right" :
            "wrong");
        ASSERT_REFUSED(rep, CV_UNREADABLE_KEY, "key", want, w);
        cv_report_free(rep);
    }
}

/* ---- PEM and DER keys ---- */

/*
 * Issue 12: a CERTIFICATE block before an ENCRYPTED PRIVATE KEY of
 * 8,388,608 rounds was decrypted (4.3 s) because only the first PEM block
 * was looked at.
 */
static void
test_kdf_pem_cert_then_key(void **state)
{
    const char *k;
    uint8_t *key, *both;
    size_t n;

    (void)state;
    ossl("pkcs8 -topk8 -v2 aes-256-cbc -iter 2048 -in \"$F/good.key\" "
        "-passout pass:%s -out \"$T/p8.pem\"", PASS);
    key = raised_p8(tmp("p8.pem"), ISSUE_ITER, NULL, 0, &n);
    k = put("p8-8m.pem", key, n);
    both = cat_files(&n, cd_fixture_path("good.pem"), k, NULL);
    key_refused(both, n, "8388608 key derivation rounds",
        "CERTIFICATE then an 8,388,608-round key");
    free(both);
    free(key);
}

/*
 * Every encrypted key block is priced, wherever it is: after a plain key,
 * after a good encrypted key (the one that would be read), after other
 * blocks and text.
 */
static void
test_kdf_pem_every_block(void **state)
{
    static const char *const before[][2] = {
        { "good.key", NULL },
        { "good-pbes2.key", NULL },
        { "int.crl.pem", "good-legacy.key" },
    };
    const char *k;
    uint8_t *key, *all;
    size_t i, n;
    char what[128];

    (void)state;
    ossl("pkcs8 -topk8 -v2 aes-256-cbc -iter 2048 -in \"$F/good.key\" "
        "-passout pass:%s -out \"$T/p8.pem\"", PASS);
    key = raised_p8(tmp("p8.pem"), ISSUE_ITER, NULL, 0, &n);
    k = put("p8-8m.pem", key, n);
    free(key);
    for (i = 0; i < NELEM(before); i++) {
        all = cat_files(&n, cd_fixture_path(before[i][0]),
            before[i][1] != NULL ? cd_fixture_path(before[i][1]) : k,
            before[i][1] != NULL ? k : NULL, NULL);
        snprintf(what, sizeof(what), "%s%s%s, then an 8,388,608-round key",
            before[i][0], before[i][1] ? " + " : "",
            before[i][1] ? before[i][1] : "");
        key_refused(all, n, "8388608 key derivation rounds", what);
        free(all);
    }
}

/* The limit itself: 1,000,001 is refused; 1,000,000 is derived. */
static void
test_kdf_pem_limit(void **state)
{
    struct cv_report *rep;
    uint8_t *key;
    size_t n;

    (void)state;
    ossl("pkcs8 -topk8 -v2 aes-256-cbc -iter 2048 -in \"$F/good.key\" "
        "-passout pass:%s -out \"$T/p8.pem\"", PASS);
    key = raised_p8(tmp("p8.pem"), 1000001, NULL, 0, &n);
    key_refused(key, n, "1000001 key derivation rounds", "1,000,001");
    free(key);
    /* allowed: derived, and the raised count no longer fits the key */
    key = raised_p8(tmp("p8.pem"), 1000000, NULL, 0, &n);
    rep = validate(key, n, NULL, 0, PASS);
    if (!cv_report_has(rep, CV_PASSPHRASE_MISMATCH) || rep->n_findings != 1)
        fail_msg("1,000,000 rounds: not derived");
    cv_report_free(rep);
    free(key);
}

/* DER, PKCS#5 v1 / PKCS#12 PBE, HMAC-SHA512 and scrypt keys are priced. */
static void
test_kdf_key_algorithms(void **state)
{
    static const uint64_t big_p[3] = { 1024, 8, 1024 };     /* 2^23 */
    static const uint64_t huge[3] = { UINT64_C(1) << 40, 8, 1 };
    struct cv_report *rep;
    uint8_t *key;
    size_t n;

    (void)state;
    ossl("pkcs8 -topk8 -v2 aes-256-cbc -iter 2048 -in \"$F/good.key\" "
        "-passout pass:%s -out \"$T/p8.pem\"", PASS);
    key = raised_p8(tmp("p8.pem"), ISSUE_ITER, NULL, 1, &n);
    key_refused(key, n, "8388608 key derivation rounds", "DER");
    free(key);

    ossl("pkcs8 -topk8 -v1 PBE-SHA1-3DES -iter 2048 -in \"$F/good.key\" "
        "-passout pass:%s -out \"$T/v1.pem\"", PASS);
    key = raised_p8(tmp("v1.pem"), ISSUE_ITER, NULL, 0, &n);
    key_refused(key, n, "8388608 key derivation rounds", "PBE-SHA1-3DES");
    free(key);

    ossl("pkcs8 -topk8 -v2 aes-128-cbc -v2prf hmacWithSHA512 -iter 2048 "
        "-in \"$F/good.key\" -passout pass:%s -out \"$T/sha512.pem\"", PASS);
    key = raised_p8(tmp("sha512.pem"), UINT64_C(0x7fffffff), NULL, 0, &n);
    key_refused(key, n, "2147483647 key derivation rounds", "SHA-512 PRF");
    free(key);
    /* a count of 2^64 does not fit OpenSSL's either: refused all the same */
    key = raised_p8(tmp("sha512.pem"), UINT64_MAX, NULL, 0, &n);
    key_refused(key, n, "more than 1000000 key derivation rounds",
        "count 2^64-1");
    free(key);

    /* scrypt: N x r x p, within OpenSSL's 32 MiB but 8 times the limit */
    ossl("pkcs8 -topk8 -scrypt -scrypt_N 1024 -scrypt_r 8 -scrypt_p 1 "
        "-in \"$F/good.key\" -passout pass:%s -out \"$T/scrypt.pem\"", PASS);
    key = raised_p8(tmp("scrypt.pem"), 0, big_p, 0, &n);
    key_refused(key, n, "8388608 scrypt work", "scrypt p=1024");
    free(key);
    key = raised_p8(tmp("scrypt.pem"), 0, huge, 0, &n);
    key_refused(key, n, "scrypt work", "scrypt N=2^40");
    free(key);
    /* the CLI's own scrypt default (N 16384, r 8, p 1) is accepted */
    ossl("pkcs8 -topk8 -scrypt -in \"$F/good.key\" -passout pass:%s "
        "-out \"$T/scrypt-default.pem\"", PASS);
    key = slurp(tmp("scrypt-default.pem"), &n);
    rep = validate(key, n, NULL, 0, PASS);
    if (rep->n_findings != 0 || !cv_report_ok(rep))
        fail_msg("the default scrypt key is not accepted");
    cv_report_free(rep);
    free(key);
}

/* ---- PKCS#12 ---- */

/* p12 bytes as the crt (no key field): refused with want in the detail. */
static void
p12_refused(const uint8_t *p12, size_t len, const char *pass,
    const char *want, const char *what)
{
    struct cv_report *rep = validate(NULL, 0, p12, len, pass);

    ASSERT_REFUSED(rep, CV_UNREADABLE_CRT, "crt", want, what);
    cv_report_free(rep);
}

/*
 * Issue 12: a MAC count of 1 with an 8,388,608-round key bag took 6.5 s;
 * only the MAC's count was looked at.  Also one made for real at
 * 1,000,001 rounds: accepted before, refused now.
 */
static void
test_kdf_p12_key_bag(void **state)
{
    struct p12raise r = { ISSUE_ITER, 0, 0 };
    uint8_t *p12;
    size_t n;

    (void)state;
    p12 = raised_p12(make_p12("k.p12", "-iter 2048 -nomaciter -certpbe "
        "NONE"), &r, &n);
    p12_refused(p12, n, PASS, "8388608 key derivation rounds",
        "MAC count 1, key bag 8,388,608");
    p12_refused(p12, n, WRONG, "8388608 key derivation rounds",
        "MAC count 1, key bag 8,388,608, wrong passphrase");
    free(p12);
    p12 = slurp(make_p12("k1m.p12", "-iter 1000001 -nomaciter -certpbe "
        "NONE"), &n);
    p12_refused(p12, n, PASS, "1000001 key derivation rounds",
        "made with -iter 1000001 -nomaciter");
    free(p12);
}

/* The encrypted certificates and the MAC are priced too. */
static void
test_kdf_p12_parts_and_mac(void **state)
{
    struct p12raise part = { 0, ISSUE_ITER, 0 }, mac = { 0, 0, ISSUE_ITER };
    uint8_t *p12;
    size_t n;

    (void)state;
    p12 = raised_p12(make_p12("c.p12", "-iter 2048 -nomaciter"), &part, &n);
    p12_refused(p12, n, PASS, "certificate encryption asks for 8388608",
        "encrypted certificates at 8,388,608");
    free(p12);
    p12 = raised_p12(make_p12("m.p12", "-iter 2048"), &mac, &n);
    p12_refused(p12, n, PASS, "(MAC) asks for 8388608", "MAC 8,388,608");
    p12_refused(p12, n, NULL, "(MAC) asks for 8388608",
        "MAC 8,388,608, no passphrase");
    free(p12);
}

/*
 * All of a file's derivations together: a MAC (tried twice without a
 * passphrase) and the encrypted certificates at 1,000,000 each, and the
 * key, are over 3,000,000: refused before the MAC's.
 */
static void
test_kdf_p12_total(void **state)
{
    struct p12raise r = { 0, 1000000, 1000000 };
    uint8_t *p12;
    size_t n;

    (void)state;
    p12 = raised_p12(make_p12("t.p12", "-iter 2048"), &r, &n);
    p12_refused(p12, n, NULL, "over 3000000 in all",
        "MAC and certificates at 1,000,000, no passphrase");
    free(p12);
}

/*
 * A key bag inside an encrypted part is seen only once that part is
 * decrypted: it is priced then, before its own derivation.
 */
static void
test_kdf_p12_key_in_encrypted_part(void **state)
{
    EVP_PKEY *key = fx_key("good.key");
    X509 *leaf = fx_x509("good.pem");
    STACK_OF(PKCS12_SAFEBAG) *bags = NULL;
    STACK_OF(PKCS7) *safes = NULL;
    PKCS12_SAFEBAG *bag;
    X509_ALGOR *alg = NULL;
    PKCS12 *p12;
    BIO *mem = BIO_new(BIO_s_mem());
    uint8_t *der;
    size_t n;

    (void)state;
    assert_non_null(mem);
    assert_non_null(PKCS12_add_cert(&bags, leaf));
    assert_non_null(bag = PKCS12_add_key(&bags, key, 0, 2048,
        NID_aes_256_cbc, PASS));
    X509_SIG_getm((X509_SIG *)PKCS12_SAFEBAG_get0_pkcs8(bag), &alg, NULL);
    alg_set_cost(alg, ISSUE_ITER, NULL);
    assert_non_null(PKCS12_add_safe(&safes, bags, NID_aes_256_cbc, 2048,
        PASS));
    assert_non_null(p12 = PKCS12_add_safes(safes, 0));
    assert_int_equal(PKCS12_set_mac(p12, PASS, -1, NULL, 0, 1, NULL), 1);
    assert_true(i2d_PKCS12_bio(mem, p12) > 0);
    der = bio_bytes(mem, &n);
    p12_refused(der, n, PASS, "key encryption asks for 8388608",
        "key bag at 8,388,608 inside an encrypted part");
    free(der);
    BIO_free(mem);
    PKCS12_free(p12);
    sk_PKCS7_pop_free(safes, PKCS7_free);
    sk_PKCS12_SAFEBAG_pop_free(bags, PKCS12_SAFEBAG_free);
    EVP_PKEY_free(key);
    X509_free(leaf);
}

/* What the CLI makes by default is read as before. */
static void
test_kdf_p12_defaults_accepted(void **state)
{
    static const char *const opts[] = {
        "", "-nomaciter", "-certpbe NONE -keypbe NONE", "-nomac",
        "-descert -iter 100000",
    };
    struct cv_report *rep;
    uint8_t *p12;
    size_t i, n;
    char name[32], got[1024];

    (void)state;
    for (i = 0; i < NELEM(opts); i++) {
        snprintf(name, sizeof(name), "d%zu.p12", i);
        p12 = slurp(make_p12(name, opts[i]), &n);
        rep = validate(NULL, 0, p12, n, PASS);
        cd_fixture_report_text(rep, got, sizeof(got));
        if (rep->n_findings != 0 || rep->key == NULL)
            fail_msg("pkcs12 -export %s: got [%s]", opts[i], got);
        cv_report_free(rep);
        rep = validate(NULL, 0, p12, n, WRONG);
        cd_fixture_report_text(rep, got, sizeof(got));
        if (cv_report_ok(rep) || (!cv_report_has(rep,
            CV_PASSPHRASE_MISMATCH) && !cv_report_has(rep,
            CV_UNREADABLE_CRT)))
            fail_msg("pkcs12 -export %s, wrong passphrase: got [%s]",
                opts[i], got);
        cv_report_free(rep);
        free(p12);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kdf_pem_cert_then_key),
        cmocka_unit_test(test_kdf_pem_every_block),
        cmocka_unit_test(test_kdf_pem_limit),
        cmocka_unit_test(test_kdf_key_algorithms),
        cmocka_unit_test(test_kdf_p12_key_bag),
        cmocka_unit_test(test_kdf_p12_parts_and_mac),
        cmocka_unit_test(test_kdf_p12_total),
        cmocka_unit_test(test_kdf_p12_key_in_encrypted_part),
        cmocka_unit_test(test_kdf_p12_defaults_accepted),
    };

    if (getenv("CD_TEST_FILTER") != NULL)
        cmocka_set_test_filter(getenv("CD_TEST_FILTER"));
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
