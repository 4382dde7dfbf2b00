/*
 * test_engine.c - the validation engine (validate/, libcv) end to end on
 * the real fixtures of tests/data/FIXTURES.md, at an explicit validation
 * time (cd_fixture_time()):
 *
 *   - every code a file can produce, from a table of cases (one cmocka test
 *     per case; a table test checks the table covers every such code);
 *   - several findings at once; validation=none;
 *   - the summary, against the openssl CLI;
 *   - CRLs: offline ones, CRLs made here (revoked intermediate, not yet
 *     valid), and a stub fetcher (cv_options.fetch_fn) for the mapping of
 *     fetch results and the cache, without any network;
 *   - one cv_ctx for many validations (anchors read once), other configs;
 *   - the host name check.
 *
 * The trust anchor is root.pem only (no system bundle) unless said.
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
#define HOST "sensor.contoso.com"
#define URL_INT "http://127.0.0.1:1/int.crl"
#define URL_ROOT "http://127.0.0.1:1/root.crl"
#define OFF "int.crl root.crl"

/* ---- fixtures: read once by fx() of tests/lib/fixture.h ---- */

static struct cv_ctx *ctx;         /* the one run() uses */
static struct cv_ctx *main_ctx;    /* root.pem only, made once */
static time_t at;                   /* the validation time run() uses */

/* The CRLs named in a space-separated list.  Caller pop_frees. */
static STACK_OF(X509_CRL) *
crl_stack(const char *names)
{
    STACK_OF(X509_CRL) *sk = sk_X509_CRL_new_null();
    char buf[256], *tok, *save = NULL;

    assert_non_null(sk);
    snprintf(buf, sizeof(buf), "%s", names);
    for (tok = strtok_r(buf, " ", &save); tok != NULL;
        tok = strtok_r(NULL, " ", &save))
        assert_true(sk_X509_CRL_push(sk, fx_crl(tok)) > 0);
    return sk;
}

static int
group_setup(void **state)
{
    (void)state;
    if ((main_ctx = cd_fixture_ctx()) == NULL) {
        fprintf(stderr, "%s\n", cd_fixture_error());
        return -1;
    }
    ctx = main_ctx;
    at = cd_fixture_time();
    return 0;
}

/* Before each test: the main context, the fixtures' time, no cached CRL. */
static int
reset(void **state)
{
    (void)state;
    ctx = main_ctx;
    at = cd_fixture_time();
    cv_ctx_crl_cache_clear(main_ctx);
    return 0;
}

static int
group_teardown(void **state)
{
    (void)state;
    cv_ctx_free(main_ctx);
    ctx = main_ctx = NULL;
    cd_fixture_blobs_free();
    return 0;
}

/* ---- the stub CRL fetcher ---- */

struct stub {
    enum cv_fetch_result result;    /* what every fetch answers */
    X509_CRL *crl_int;              /* served for URL_INT when OK */
    X509_CRL *crl_root;             /* served for URL_ROOT when OK */
    int null_crl;                   /* OK but no CRL */
    const char *detail;
    int calls;
    char urls[8][256];
    struct cv_fetch_opts seen;
    void *seen_arg;
};

static enum cv_fetch_result
stub_fetch(const char *url, const struct cv_fetch_opts *fo, void *arg,
    X509_CRL **crlp, char *detail, size_t dlen)
{
    struct stub *s = arg;
    X509_CRL *c;

    *crlp = NULL;
    assert_non_null(s);
    if (s->calls < (int)NELEM(s->urls))
        snprintf(s->urls[s->calls], sizeof(s->urls[0]), "%s", url);
    s->calls++;
    s->seen_arg = arg;
    if (fo != NULL)
        s->seen = *fo;
    if (s->detail != NULL)
        snprintf(detail, dlen, "%s", s->detail);
    if (s->result != CV_FETCH_OK || s->null_crl)
        return s->result;
    c = strcmp(url, URL_INT) == 0 ? s->crl_int :
        strcmp(url, URL_ROOT) == 0 ? s->crl_root : NULL;
    if (c == NULL) {
        snprintf(detail, dlen, "stub: nothing at %s", url);
        return CV_FETCH_UNREACHABLE;
    }
    assert_int_equal(X509_CRL_up_ref(c), 1);
    *crlp = c;
    return CV_FETCH_OK;
}

/* A stub answering result (and detail, when not NULL) to every fetch. */
static void
stub_init(struct stub *s, enum cv_fetch_result result, const char *detail)
{
    memset(s, 0, sizeof(*s));
    s->result = result;
    s->detail = detail;
}

static void
stub_free(struct stub *s)
{
    X509_CRL_free(s->crl_int);
    X509_CRL_free(s->crl_root);
    memset(s, 0, sizeof(*s));
}

/* ---- running the engine ---- */

struct run {
    const char *crt, *key, *chain, *pass, *name;
    const char *crls;               /* offline CRL fixtures, or NULL */
    int use_crl;
    enum cv_validation validation;
    const char *host;
    struct stub *stub;              /* NULL: a stub that is unreachable */
};

static struct stub default_stub;

/* Validates r with the offline CRLs crls (taken; NULL: none). */
static struct cv_report *
run_with(const struct run *r, STACK_OF(X509_CRL) *crls)
{
    struct cv_input in;
    struct cv_options opt;
    struct cv_report *rep;
    const struct cd_blob *b;

    input_fx(&in, r->key, r->crt, r->chain);
    if (r->pass != NULL) {
        if (strcmp(r->pass, "pass.txt") == 0 ||
            strcmp(r->pass, "wrongpass.txt") == 0 ||
            strcmp(r->pass, "badchars.txt") == 0) {
            b = fx(r->pass);
            in.passphrase = (const char *)b->p;
            in.passphrase_len = b->n;
        } else {
            in.passphrase = r->pass;
            in.passphrase_len = strlen(r->pass);
        }
    }
    in.name = r->name;
    memset(&opt, 0, sizeof(opt));
    opt.at = at;
    opt.use_crl = r->use_crl;
    opt.validation = r->validation;
    opt.hostname = r->host;
    opt.fetch_fn = stub_fetch;
    if (r->stub != NULL)
        opt.fetch_arg = r->stub;
    else {
        stub_init(&default_stub, CV_FETCH_UNREACHABLE,
            "stub: connection refused");
        opt.fetch_arg = &default_stub;
    }
    opt.offline_crls = crls;
    rep = cv_validate(ctx, &in, &opt);
    assert_non_null(rep);
    sk_X509_CRL_pop_free(crls, X509_CRL_free);
    return rep;
}

/* Validates r, with the offline CRL fixtures r->crls names. */
static struct cv_report *
run(const struct run *r)
{
    return run_with(r, r->crls != NULL ? crl_stack(r->crls) : NULL);
}

/*
 * The report holds exactly the codes of errs as blocking findings and of
 * warns as warnings (both CV_OK-terminated), and hands over the key, leaf
 * and path exactly when nothing blocks.
 */
static void
assert_report_(const struct cv_report *rep, const enum cv_code *errs,
    const enum cv_code *warns, const char *what, const char *file, int line)
{
    int none = errs[0] == CV_OK;
    int bad = !cd_fixture_report_codes(rep, errs, warns);
    char got[4096];
    size_t j;

    /* every finding of an upload names its field */
    for (j = 0; j < rep->n_findings; j++)
        if (rep->findings[j].field == NULL)
            bad = 1;
    if (bad || cv_report_ok(rep) != none) {
        cd_fixture_report_text(rep, got, sizeof(got));
        fail_msg("%s:%d: %s: got [%s]", file, line, what, got);
    }
    if (none) {
        assert_non_null(rep->key);
        assert_non_null(rep->leaf);
        assert_non_null(rep->path);
    } else {
        assert_null(rep->key);
        assert_null(rep->leaf);
        assert_null(rep->path);
    }
}

#define E(...) ((const enum cv_code[]){ __VA_ARGS__, CV_OK })
#define NONE E(CV_OK)
#define ASSERT_REPORT(rep, errs, warns, what) \
    assert_report_((rep), (errs), (warns), (what), __FILE__, __LINE__)

/* One of the findings with code (one per field) has s in its detail. */
static void
assert_detail_has(const struct cv_report *rep, enum cv_code code,
    const char *s)
{
    const struct cv_finding *f = finding(rep, code);
    size_t i;

    for (i = 0; i < rep->n_findings; i++)
        if (rep->findings[i].code == code &&
            rep->findings[i].detail != NULL &&
            strstr(rep->findings[i].detail, s) != NULL)
            return;
    fail_msg("%s: detail \"%s\" lacks \"%s\"", cv_code_name(code),
        f->detail ? f->detail : "(null)", s);
}

/* ---- every code from a real fixture: the table ---- */

#define MAXC 6

struct ecase {
    const char *id;
    struct run r;
    enum cv_code errs[MAXC];        /* CV_OK-terminated (zero-filled) */
    enum cv_code warns[MAXC];
    const char *field;              /* field of errs[0] (or warns[0]) */
    const char *detail;             /* substring of its detail, or NULL */
};

/* R(crt, key, chain, crls) and NOCRL(crt, key, chain); G: key, chain */
#define R(...) R_(__VA_ARGS__)
#define R_(crt, key, chain, crls) \
    { crt, key, chain, NULL, NULL, crls, 1, CV_VALIDATION_MANDATORY, HOST, \
      NULL }
#define G "good.key", "chain-int-only.pem"
#define NOCRL(...) NOCRL_(__VA_ARGS__)
#define NOCRL_(crt, key, chain) \
    { crt, key, chain, NULL, NULL, NULL, 0, CV_VALIDATION_MANDATORY, HOST, \
      NULL }

static const struct ecase cases[] = {
    /* accepted */
    { "good", R("good.pem", G, OFF), { 0 }, { 0 }, NULL, NULL },
    { "good/full-chain", R("good.pem", "good.key", "chain.pem", OFF),
      { 0 }, { 0 }, NULL, NULL },
    { "good/4096", R("good4096.pem", "good4096.key", "chain.pem", OFF),
      { 0 }, { 0 }, NULL, NULL },
    { "good/p12", { "good.p12", NULL, NULL, "pass.txt", NULL, OFF, 1,
      CV_VALIDATION_MANDATORY, HOST, NULL }, { 0 }, { 0 }, NULL, NULL },
    { "good/pem-crl", R("good.pem", G, "int.crl.pem root.crl"),
      { 0 }, { 0 }, NULL, NULL },
    { "good/no-crl", NOCRL("good.pem", G), { 0 }, { 0 }, NULL, NULL },
    { "good/name", { "good.pem", G, NULL, "Sensor cert_2026-11.a", OFF, 1,
      CV_VALIDATION_MANDATORY, HOST, NULL }, { 0 }, { 0 }, NULL, NULL },

    /* the six documented codes */
    { "passphrase_mismatch/wrong", { "good.pem", "good-pbes2.key",
      "chain.pem", "wrongpass.txt", NULL, OFF, 1, CV_VALIDATION_MANDATORY,
      HOST, NULL }, { CV_PASSPHRASE_MISMATCH }, { 0 }, "passphrase", NULL },
    { "passphrase_mismatch/none-legacy", R("good.pem", "good-legacy.key",
      "chain.pem", OFF), { CV_PASSPHRASE_MISMATCH }, { 0 }, "passphrase",
      NULL },
    { "passphrase_mismatch/p12", { "good.p12", NULL, NULL, "wrongpass.txt",
      NULL, OFF, 1, CV_VALIDATION_MANDATORY, HOST, NULL },
      { CV_PASSPHRASE_MISMATCH }, { 0 }, "passphrase", NULL },
    { "chain_untrusted/other-ca", NOCRL("untrusted.pem", "good.key", NULL),
      { CV_CHAIN_UNTRUSTED }, { 0 }, "crt", NULL },
    { "chain_untrusted/no-chain", NOCRL("good.pem", "good.key", NULL),
      { CV_CHAIN_UNTRUSTED }, { 0 }, "crt", "the CA that issued "
      "'sensor.contoso.com' (issuer: C = US, O = Contoso Ltd, "
      "OU = Contoso PKI, "
      "CN = Contoso Test Intermediate) is not known to this appliance: add it "
      "to the chain file, or to the enterprise roots" },
    { "chain_untrusted/other-int-in-chain", NOCRL("untrusted.pem",
      "good.key", "other-int.pem"), { CV_CHAIN_UNTRUSTED }, { 0 }, NULL,
      NULL },
    { "expired", R("expired.pem", G, OFF), { CV_EXPIRED }, { 0 }, "crt",
      "Valid To is " },
    { "expired/intermediate", NOCRL("good.pem", "good.key",
      "chain-int-expired.pem"), { CV_EXPIRED }, { 0 }, "chain",
      "Contoso Test Intermediate" },
    { "revoked", R("revoked.pem", G, OFF), { CV_REVOKED }, { 0 }, "crt",
      "sensor.contoso.com" },
    { "crl_unreachable", R("good.pem", G, "root.crl"),
      { CV_CRL_UNREACHABLE }, { 0 }, "crt", URL_INT },
    { "unhandled_critical_extension/akid-critical",
      R("akid-critical.pem", G, OFF), { CV_UNHANDLED_CRITICAL_EXTENSION },
      { 0 }, "crt", "Authority Key Identifier (2.5.29.35)" },
    /* OpenSSL's verify errors, each named */
    { "missing_key_identifier", NOCRL("no-akid.pem", G),
      { CV_MISSING_KEY_IDENTIFIER }, { 0 }, "crt", "Authority Key" },
    { "name_constraints", NOCRL("nc-violation.pem", "good.key",
      "chain-nc.pem"), { CV_NAME_CONSTRAINTS }, { 0 }, "crt",
      "permitted subtree violation" },
    { "policy", NOCRL("no-policy.pem", "good.key", "chain-pol.pem"),
      { CV_POLICY }, { 0 }, NULL, "explicit policy" },
    /* policyConstraints with no usable certificatePolicies: OpenSSL 3.0's
     * policy cache loses the decoded extension on these (the sanitizer
     * build's leak check fails without the refusal) */
    { "policy/pcons-intermediate", NOCRL("pcons-orphan.pem", "good.key",
      "chain-pcons.pem"), { CV_POLICY }, { 0 }, "chain",
      "Contoso Constraining Intermediate" },
    { "policy/pcons-leaf", NOCRL("pcons-leaf.pem", G), { CV_POLICY },
      { 0 }, "crt", "without a certificatePolicies extension" },
    { "policy/pcons-duplicate", NOCRL("pcons-dup.pem", G), { CV_POLICY },
      { 0 }, "crt", "1.3.6.1.4.1.55555.1 twice" },
    { "malformed_certificate/strict", NOCRL("ku-certsign.pem", G),
      { CV_MALFORMED_CERTIFICATE }, { 0 }, "crt", "keyCertSign" },
    /* what OpenSSL lets through */
    { "malformed_certificate/serial-zero", NOCRL("serial0.pem", G),
      { CV_MALFORMED_CERTIFICATE }, { 0 }, "crt", "serial number" },
    { "malformed_certificate/underscore", NOCRL("underscore.pem", G),
      { CV_MALFORMED_CERTIFICATE }, { CV_NAME_MISMATCH }, "crt",
      "foo_bar.contoso.com" },

    /* the project's own */
    { "key_mismatch", R("good.pem", "other.key", "chain.pem", OFF),
      { CV_KEY_MISMATCH }, { 0 }, "key", NULL },
    { "key_mismatch/4096-key", R("good.pem", "good4096.key", "chain.pem",
      OFF), { CV_KEY_MISMATCH }, { 0 }, "key", "4096" },
    { "not_yet_valid", R("notyet.pem", G, OFF), { CV_NOT_YET_VALID },
      { 0 }, "crt", "Valid From is " },
    { "weak_key/1024", R("weak1024.pem", "weak1024.key", "chain.pem", OFF),
      { CV_WEAK_KEY }, { 0 }, "crt", "1024" },
    { "weak_key/3072", R("rsa3072.pem", "rsa3072.key", "chain.pem", OFF),
      { CV_WEAK_KEY }, { 0 }, "crt", "3072" },
    { "weak_key/ec", R("ec.pem", "ec.key", "chain.pem", OFF),
      { CV_WEAK_KEY }, { 0 }, "crt", "EC 256" },
    { "unusable_key/dsa", R("dsa.pem", "dsa.key", "chain.pem", OFF),
      { CV_UNUSABLE_KEY, CV_WEAK_KEY }, { 0 }, "crt", "DSA" },
    { "unusable_key/p521", R("ec521.pem", "ec521.key", "chain.pem", OFF),
      { CV_UNUSABLE_KEY, CV_WEAK_KEY }, { 0 }, "crt", "secp521r1" },
    { "unusable_key/ed25519", R("ed25519.pem", "ed25519.key", "chain.pem",
      OFF), { CV_UNUSABLE_KEY, CV_WEAK_KEY }, { 0 }, "crt", "ED25519" },
    { "signature_algorithm", R("sha1.pem", G, OFF),
      { CV_SIGNATURE_ALGORITHM }, { 0 }, "crt", "sha1WithRSAEncryption" },
    { "subject_incomplete/ou", R("no-ou.pem", G, OFF),
      { CV_SUBJECT_INCOMPLETE }, { 0 }, "crt", "missing: OU" },
    { "subject_incomplete/c-o", R("no-c-o.pem", G, OFF),
      { CV_SUBJECT_INCOMPLETE }, { 0 }, "crt", "missing: C, O" },
    { "wildcard_cn", { "wildcard.pem", G, NULL, NULL, OFF, 1,
      CV_VALIDATION_MANDATORY, "host.example.org", NULL },
      { CV_WILDCARD_CN }, { CV_NAME_MISMATCH }, "crt", "*.contoso.com" },
    { "wildcard_cn/matching-host", { "wildcard.pem", G, NULL, NULL, OFF, 1,
      CV_VALIDATION_MANDATORY, HOST, NULL }, { CV_WILDCARD_CN }, { 0 },
      "crt", NULL },
    { "not_server_cert/ca", R("ca-leaf.pem", G, OFF), { CV_NOT_SERVER_CERT },
      { 0 }, "crt", NULL },
    { "not_server_cert/client", R("client-only.pem", G, OFF),
      { CV_NOT_SERVER_CERT }, { 0 }, "crt", NULL },
    { "crl_not_http", R("ldap-cdp.pem", G, "root.crl"), { CV_CRL_NOT_HTTP },
      { 0 }, "crt", NULL },
    { "crl_invalid/stale", R("good.pem", G, "int-stale.crl root.crl"),
      { CV_CRL_INVALID }, { 0 }, "crt", "out of date" },
    { "crl_invalid/forged", R("good.pem", G, "int-forged.crl root.crl"),
      { CV_CRL_INVALID }, { 0 }, "crt", "signature" },
    { "unreadable_key", R("good.pem", "garbage.bin", "chain.pem", OFF),
      { CV_UNREADABLE_KEY }, { 0 }, "key", NULL },
    { "unreadable_key/crt-as-key", R("good.pem", "good.pem", "chain.pem",
      OFF), { CV_UNREADABLE_KEY }, { 0 }, "key", NULL },
    { "unreadable_crt", R("garbage.bin", G, OFF), { CV_UNREADABLE_CRT },
      { 0 }, "crt", NULL },
    { "unreadable_crt/key-as-crt", R("good.key", G, OFF),
      { CV_UNREADABLE_CRT }, { 0 }, "crt", NULL },
    { "unreadable_chain", R("good.pem", "good.key", "garbage.bin", OFF),
      { CV_UNREADABLE_CHAIN, CV_CHAIN_UNTRUSTED }, { 0 }, "chain", NULL },
    { "passphrase_charset", { "good.pem", "good-pbes2.key", "chain.pem",
      "badchars.txt", NULL, OFF, 1, CV_VALIDATION_MANDATORY, HOST, NULL },
      { CV_PASSPHRASE_CHARSET }, { 0 }, "passphrase", NULL },
    { "missing_field/key", R("good.pem", NULL, "chain.pem", OFF),
      { CV_MISSING_FIELD }, { 0 }, "key", NULL },
    { "missing_field/crt", R(NULL, G, OFF), { CV_MISSING_FIELD }, { 0 },
      "crt", NULL },
    { "bad_name", { "good.pem", G, NULL, "bad/name", OFF, 1,
      CV_VALIDATION_MANDATORY, HOST, NULL }, { CV_BAD_NAME }, { 0 }, "name",
      NULL },
    { "bad_name/too-long", { "good.pem", G, NULL,
      "a123456789b123456789c123456789d123456789e123456789f123456789g1234",
      OFF, 1, CV_VALIDATION_MANDATORY, HOST, NULL }, { CV_BAD_NAME },
      { 0 }, "name", NULL },
    { "bad_name/empty", { "good.pem", G, NULL, "", OFF, 1,
      CV_VALIDATION_MANDATORY, HOST, NULL }, { CV_BAD_NAME }, { 0 }, "name",
      NULL },

    /* warnings */
    { "name_mismatch", R("other-name.pem", G, OFF), { 0 },
      { CV_NAME_MISMATCH }, "crt", HOST },
    { "no_crl_dp", R("no-cdp.pem", G, "root.crl"), { 0 }, { CV_NO_CRL_DP },
      "crt", NULL },
    { "no_crl_dp/not-without-crl", NOCRL("no-cdp.pem", G), { 0 }, { 0 },
      NULL, NULL },
    { "no_crl_dp/not-with-a-crl-file", R("no-cdp.pem", G, OFF), { 0 },
      { 0 }, NULL, NULL },
    { "expires_soon", R("soon.pem", G, OFF), { 0 }, { CV_EXPIRES_SOON },
      "crt", "days left" },
    { "chain_extra", R("good.pem", "good.key", "chain-extra.pem", OFF),
      { 0 }, { CV_CHAIN_EXTRA }, "chain", "Fabrikam Other Root" },

    /* several at once */
    { "three", R("three.pem", "weak1024.key", "chain.pem", OFF),
      { CV_EXPIRED, CV_WEAK_KEY, CV_SUBJECT_INCOMPLETE }, { 0 }, "crt",
      NULL },
    { "expired+mismatch+untrusted", NOCRL("expired.pem", "other.key", NULL),
      { CV_EXPIRED, CV_KEY_MISMATCH, CV_CHAIN_UNTRUSTED }, { 0 }, "crt",
      NULL },
    { "sha1+key_mismatch", R("sha1.pem", "other.key",
      "chain-int-only.pem", OFF), { CV_SIGNATURE_ALGORITHM,
      CV_KEY_MISMATCH }, { 0 }, "crt", NULL },
    { "appliance-self-signed", NOCRL("selfsigned.pem", "selfsigned.key",
      NULL), { CV_CHAIN_UNTRUSTED, CV_SUBJECT_INCOMPLETE }, { 0 }, NULL,
      NULL },

    /* validation=none */
    { "none/expired", { "expired.pem", G, NULL, NULL, OFF, 1,
      CV_VALIDATION_NONE, HOST, NULL }, { 0 }, { CV_EXPIRED }, "crt", NULL },
    { "none/untrusted", { "untrusted.pem", "good.key", NULL, NULL, NULL,
      NULL, 0, CV_VALIDATION_NONE, HOST, NULL }, { 0 },
      { CV_CHAIN_UNTRUSTED }, "crt", NULL },
    { "none/three", { "three.pem", "weak1024.key", "chain.pem", NULL, NULL,
      OFF, 1, CV_VALIDATION_NONE, HOST, NULL }, { 0 }, { CV_EXPIRED,
      CV_WEAK_KEY, CV_SUBJECT_INCOMPLETE }, NULL, NULL },
    /* what nginx must not serve blocks in every mode */
    { "none/dsa", { "dsa.pem", "dsa.key", "chain.pem", NULL, NULL, OFF, 1,
      CV_VALIDATION_NONE, HOST, NULL }, { CV_UNUSABLE_KEY },
      { CV_WEAK_KEY }, "crt", "DSA" },
    { "none/revoked", { "revoked.pem", G, NULL, NULL, OFF, 1,
      CV_VALIDATION_NONE, HOST, NULL }, { 0 }, { CV_REVOKED }, "crt", NULL },
    { "none/crl-unreachable", { "good.pem", G, NULL, NULL, "root.crl", 1,
      CV_VALIDATION_NONE, HOST, NULL }, { 0 }, { CV_CRL_UNREACHABLE },
      "crt", NULL },
    { "none/appliance-self-signed", { "selfsigned.pem", "selfsigned.key",
      NULL, NULL, NULL, NULL, 0, CV_VALIDATION_NONE, HOST, NULL }, { 0 },
      { CV_CHAIN_UNTRUSTED, CV_SUBJECT_INCOMPLETE }, NULL, NULL },
    { "none/key_mismatch-blocks", { "good.pem", "other.key", "chain.pem",
      NULL, NULL, OFF, 1, CV_VALIDATION_NONE, HOST, NULL },
      { CV_KEY_MISMATCH }, { 0 }, "key", NULL },
    { "none/expired-warns-mismatch-blocks", { "expired.pem", "other.key",
      "chain-int-only.pem", NULL, NULL, OFF, 1, CV_VALIDATION_NONE, HOST,
      NULL }, { CV_KEY_MISMATCH }, { CV_EXPIRED }, "key", NULL },
    { "none/passphrase-blocks", { "good.pem", "good-pbes2.key", "chain.pem",
      NULL, NULL, OFF, 1, CV_VALIDATION_NONE, HOST, NULL },
      { CV_PASSPHRASE_MISMATCH }, { 0 }, "passphrase", NULL },
    { "none/unreadable-blocks", { "garbage.bin", G, NULL, NULL, OFF, 1,
      CV_VALIDATION_NONE, HOST, NULL }, { CV_UNREADABLE_CRT }, { 0 }, "crt",
      NULL },
    { "none/charset-blocks", { "good.pem", "good-pbes2.key", "chain.pem",
      "badchars.txt", NULL, OFF, 1, CV_VALIDATION_NONE, HOST, NULL },
      { CV_PASSPHRASE_CHARSET }, { 0 }, "passphrase", NULL },
    { "none/akid-critical-warns", { "akid-critical.pem", G, NULL, NULL,
      OFF, 1, CV_VALIDATION_NONE, HOST, NULL }, { 0 },
      { CV_UNHANDLED_CRITICAL_EXTENSION }, "crt", "sensor.contoso.com" },
};

static void
test_engine_case(void **state)
{
    const struct ecase *c = *state;
    struct cv_report *rep;
    const struct cv_finding *f;
    enum cv_code first = c->errs[0] != CV_OK ? c->errs[0] : c->warns[0];
    int wants_fetch = 0;
    size_t i;

    assert_non_null(c);
    cv_ctx_crl_cache_clear(ctx);
    rep = run(&c->r);
    ASSERT_REPORT(rep, c->errs, c->warns, c->id);
    if (first != CV_OK && (c->field != NULL || c->detail != NULL)) {
        f = finding(rep, first);
        if (c->field != NULL)
            assert_string_equal(f->field, c->field);
        if (c->detail != NULL)
            assert_detail_has(rep, first, c->detail);
    }
    /* the stub is reached only when a CRL had to be fetched */
    for (i = 0; i < MAXC; i++)
        if (c->errs[i] == CV_CRL_UNREACHABLE ||
            c->warns[i] == CV_CRL_UNREACHABLE)
            wants_fetch = 1;
    if (wants_fetch)
        assert_true(default_stub.calls > 0);
    else
        assert_int_equal(default_stub.calls, 0);
    /* a report with a certificate has its summary */
    assert_int_equal(rep->summary.valid, c->r.crt != NULL &&
        !cv_report_has(rep, CV_UNREADABLE_CRT) &&
        !(c->r.crt != NULL && strcmp(c->r.crt, "good.p12") == 0 &&
        cv_report_has(rep, CV_PASSPHRASE_MISMATCH)));
    cv_report_free(rep);
}

/*
 * The table produces every code of the engine's message table, but
 * validation_failed: it is left for the engine's own failures (out of
 * memory, an OpenSSL verify error no rule names; docs/API.md "Codes"), and
 * no file makes it on purpose since unhandled critical extensions have
 * their own code.
 */
static void
test_engine_cases_cover_every_code(void **state)
{
    int covered[CV_CODE_COUNT];
    size_t i, j;
    int c;

    (void)state;
    memset(covered, 0, sizeof(covered));
    for (i = 0; i < NELEM(cases); i++)
        for (j = 0; j < MAXC; j++) {
            covered[cases[i].errs[j]] = 1;
            covered[cases[i].warns[j]] = 1;
        }
    covered[CV_VALIDATION_FAILED] = 1;
    /* a signing request's own codes: tests/unit/test_csr.c */
    covered[CV_UNREADABLE_CSR] = covered[CV_CSR_SIGNATURE] = 1;
    for (c = CV_OK + 1; c < CV_CODE_COUNT; c++)
        if (!covered[c])
            fail_msg("no test case produces %s", cv_code_name(c));
}

/* ---- findings: more than one, relaxed, ordered ---- */

static void
test_engine_none_same_findings(void **state)
{
    struct run r = R("three.pem", "weak1024.key", "chain.pem", OFF);
    struct cv_report *a, *b;
    size_t i;

    (void)state;
    a = run(&r);
    r.validation = CV_VALIDATION_NONE;
    b = run(&r);
    /* the same findings in the same order, only the blocking flag differs */
    assert_int_equal(a->n_findings, 3);
    assert_int_equal(b->n_findings, a->n_findings);
    for (i = 0; i < a->n_findings; i++) {
        assert_int_equal(a->findings[i].code, b->findings[i].code);
        assert_string_equal(a->findings[i].field, b->findings[i].field);
        assert_true(a->findings[i].blocking);
        assert_false(b->findings[i].blocking);
        if (a->findings[i].detail != NULL)
            assert_string_equal(a->findings[i].detail,
                b->findings[i].detail);
    }
    assert_false(cv_report_ok(a));
    assert_true(cv_report_ok(b));
    /* what an install needs: the leaf, the key, the path [int, root] */
    assert_int_equal(sk_X509_num(b->path), 2);
    assert_int_equal(EVP_PKEY_get_bits(b->key), 1024);
    assert_detail_has(a, CV_SUBJECT_INCOMPLETE, "OU");
    assert_detail_has(a, CV_WEAK_KEY, "1024");
    cv_report_free(a);
    cv_report_free(b);
}

/* ---- the summary ---- */

/* One line of `openssl x509 -in FIXTURE -noout ARGS`, after the '='. */
static void
openssl_x509(const char *fixture, const char *args, char *out, size_t len)
{
    char cmd[4600], line[1024], *eq;
    const char *o = getenv("OPENSSL");
    FILE *p;

    snprintf(cmd, sizeof(cmd), "'%s' x509 -in '%s' -noout %s 2>/dev/null",
        o != NULL && *o != '\0' ? o : "openssl", cd_fixture_path(fixture),
        args);
    p = popen(cmd, "r");
    assert_non_null(p);
    if (fgets(line, sizeof(line), p) == NULL)
        line[0] = '\0';
    assert_int_equal(pclose(p), 0);
    line[strcspn(line, "\r\n")] = '\0';
    eq = strchr(line, '=');
    if (eq == NULL)
        fail_msg("openssl x509 %s: unexpected output \"%s\"", args, line);
    snprintf(out, len, "%s", eq + 1);
}

/* "2026-11-24T18:36:40Z" -> "2026-11-24 18:36:40Z" (-dateopt iso_8601) */
static void
iso_space(time_t t, char *buf, size_t len)
{
    char *p;

    cv_time_iso(t, buf, len);
    if ((p = strchr(buf, 'T')) != NULL)
        *p = ' ';
}

static void
test_engine_summary_good(void **state)
{
    struct run r = R("good.pem", G, OFF);
    struct cv_report *rep;
    const struct cv_summary *s;
    char want[512], got[64], serial[128];
    size_t i, o;

    (void)state;
    rep = run(&r);
    ASSERT_REPORT(rep, NONE, NONE, "good");
    s = &rep->summary;
    assert_int_equal(s->valid, 1);
    assert_string_equal(s->subject, "C = US, ST = Illinois, L = Springfield, "
        "O = Contoso Ltd, OU = Contoso Labs, CN = sensor.contoso.com");
    assert_string_equal(s->subject_cn, "sensor.contoso.com");
    assert_string_equal(s->issuer, "C = US, O = Contoso Ltd, OU = Contoso "
        "PKI, CN = Contoso Test Intermediate");
    openssl_x509("good.pem", "-subject -nameopt oneline", want,
        sizeof(want));
    assert_string_equal(s->subject, want);
    openssl_x509("good.pem", "-issuer -nameopt oneline", want, sizeof(want));
    assert_string_equal(s->issuer, want);
    /* serial: openssl's hex, colon separated */
    openssl_x509("good.pem", "-serial", want, sizeof(want));
    for (i = 0, o = 0; want[i] != '\0' && o + 4 < sizeof(serial); i += 2) {
        o += snprintf(serial + o, sizeof(serial) - o, "%s%.2s",
            i ? ":" : "", want + i);
    }
    assert_string_equal(s->serial, serial);
    /* validity */
    openssl_x509("good.pem", "-startdate -dateopt iso_8601", want,
        sizeof(want));
    iso_space(s->not_before, got, sizeof(got));
    assert_string_equal(got, want);
    openssl_x509("good.pem", "-enddate -dateopt iso_8601", want,
        sizeof(want));
    iso_space(s->not_after, got, sizeof(got));
    assert_string_equal(got, want);
    /* FIXTURES.md: now-1 day to now+365 days, made just before at */
    assert_true(s->not_after - s->not_before == 366 * 86400L);
    assert_true(s->not_before <= at - 86400 + 60 &&
        s->not_before > at - 86400 - 3600);
    assert_int_equal(s->days_left, (long)((s->not_after - at) / 86400));
    assert_true(s->days_left == 364 || s->days_left == 365);
    /* key, signature, fingerprint */
    assert_string_equal(s->key_type, "RSA");
    assert_int_equal(s->key_bits, 2048);
    assert_string_equal(s->signature_algorithm, "sha256WithRSAEncryption");
    openssl_x509("good.pem", "-fingerprint -sha256", want, sizeof(want));
    assert_int_equal(strlen(want), 32 * 3 - 1);
    assert_string_equal(s->sha256, want);
    assert_int_equal(s->self_signed, 0);
    /* SANs and CRL DPs */
    assert_int_equal(s->n_san, 2);
    assert_string_equal(s->san[0], "DNS:sensor.contoso.com");
    assert_string_equal(s->san[1], "IP:127.0.0.1");
    assert_int_equal(s->n_crl_dp, 1);
    assert_string_equal(s->crl_dp[0], URL_INT);
    cv_report_free(rep);
}

/* The summary is the same whatever the container of the certificate. */
static void
test_engine_summary_same_in_every_format(void **state)
{
    static const char *const crts[] = {
        "good.der", "good-crlf.pem", "good-bom.pem", "good.p12",
    };
    struct run r = R("good.pem", G, OFF);
    struct cv_report *ref, *rep;
    size_t i;

    (void)state;
    ref = run(&r);
    for (i = 0; i < NELEM(crts); i++) {
        r.crt = crts[i];
        r.pass = strcmp(crts[i], "good.p12") == 0 ? "pass.txt" : NULL;
        rep = run(&r);
        ASSERT_REPORT(rep, NONE, NONE, crts[i]);
        assert_memory_equal(&rep->summary, &ref->summary,
            sizeof(ref->summary));
        cv_report_free(rep);
    }
    cv_report_free(ref);
}

static void
test_engine_summary_others(void **state)
{
    struct run r = NOCRL("ec.pem", "ec.key", "chain.pem");
    struct cv_report *rep;
    char want[128];

    (void)state;
    rep = run(&r);
    assert_string_equal(rep->summary.key_type, "EC");
    assert_int_equal(rep->summary.key_bits, 256);
    cv_report_free(rep);

    r.crt = "good4096.pem";
    r.key = "good4096.key";
    rep = run(&r);
    assert_string_equal(rep->summary.key_type, "RSA");
    assert_int_equal(rep->summary.key_bits, 4096);
    cv_report_free(rep);

    r.crt = "sha1.pem";
    r.key = "good.key";
    rep = run(&r);
    assert_string_equal(rep->summary.signature_algorithm,
        "sha1WithRSAEncryption");
    openssl_x509("sha1.pem", "-fingerprint -sha256", want, sizeof(want));
    assert_string_equal(rep->summary.sha256, want);
    cv_report_free(rep);

    r.crt = "selfsigned.pem";
    r.key = "selfsigned.key";
    r.chain = NULL;
    rep = run(&r);
    assert_int_equal(rep->summary.self_signed, 1);
    assert_string_equal(rep->summary.subject, "CN = sensor.contoso.com");
    assert_string_equal(rep->summary.issuer, "CN = sensor.contoso.com");
    assert_int_equal(rep->summary.n_san, 1);
    assert_string_equal(rep->summary.san[0], "DNS:sensor.contoso.com");
    assert_int_equal(rep->summary.n_crl_dp, 0);
    cv_report_free(rep);

    r.crt = "ldap-cdp.pem";
    r.key = "good.key";
    r.chain = "chain.pem";
    rep = run(&r);
    assert_int_equal(rep->summary.n_crl_dp, 1);
    assert_string_equal(rep->summary.crl_dp[0],
        "ldap://ldap.contoso.com/cn=crl");
    cv_report_free(rep);

    r.crt = "no-cdp.pem";
    rep = run(&r);
    assert_int_equal(rep->summary.n_crl_dp, 0);
    cv_report_free(rep);

    r.crt = "wildcard.pem";
    rep = run(&r);
    assert_string_equal(rep->summary.subject_cn, "*.contoso.com");
    assert_int_equal(rep->summary.n_san, 1);
    assert_string_equal(rep->summary.san[0], "DNS:*.contoso.com");
    cv_report_free(rep);

    r.crt = "other-name.pem";
    rep = run(&r);
    assert_string_equal(rep->summary.subject_cn, "other.example.com");
    assert_int_equal(rep->summary.n_san, 1);
    assert_string_equal(rep->summary.san[0], "DNS:other.example.com");
    cv_report_free(rep);
}

static void
test_engine_summary_days_left(void **state)
{
    struct run r = NOCRL("expired.pem", G);
    struct cv_report *rep;
    const struct cv_summary *s;

    (void)state;
    /* expired.pem: notAfter now-30d: -30 or -31 (whole days, rounded up) */
    rep = run(&r);
    s = &rep->summary;
    assert_true(s->not_after < at);
    assert_int_equal(s->days_left,
        -(long)((at - s->not_after + 86399) / 86400));
    assert_true(s->days_left == -30 || s->days_left == -31);
    cv_report_free(rep);
    /* soon.pem: notAfter now+10d */
    r.crt = "soon.pem";
    rep = run(&r);
    s = &rep->summary;
    assert_int_equal(s->days_left, (long)((s->not_after - at) / 86400));
    assert_true(s->days_left == 9 || s->days_left == 10);
    cv_report_free(rep);
    /* notyet.pem: notAfter now+400d */
    r.crt = "notyet.pem";
    rep = run(&r);
    assert_true(rep->summary.days_left == 399 ||
        rep->summary.days_left == 400);
    cv_report_free(rep);
}

/* 1 when the report has code on field. */
static int
finding_on(const struct cv_report *rep, enum cv_code code, const char *field)
{
    size_t i;

    for (i = 0; i < rep->n_findings; i++)
        if (rep->findings[i].code == code && rep->findings[i].field != NULL &&
            strcmp(rep->findings[i].field, field) == 0)
            return 1;
    return 0;
}

/*
 * A certificate is valid AT its notAfter second (RFC 5280 4.1.2.5), expired
 * one second later: the leaf's own check and OpenSSL's for the CAs.
 */
static void
test_engine_not_after_inclusive(void **state)
{
    struct run r = NOCRL("good.pem", G);
    struct cv_report *rep;
    X509 *x;
    struct tm tm;
    time_t saved = at;

    (void)state;
    rep = run(&r);
    at = rep->summary.not_after;
    cv_report_free(rep);
    rep = run(&r);
    ASSERT_REPORT(rep, NONE, E(CV_EXPIRES_SOON), "leaf at its notAfter");
    cv_report_free(rep);
    at++;
    rep = run(&r);
    ASSERT_REPORT(rep, E(CV_EXPIRED), NONE, "leaf a second later");
    cv_report_free(rep);
    /* int-expired.pem at its own notAfter (yesterday), long before the
     * root's */
    r.chain = "chain-int-expired.pem";
    x = fx_x509("int-expired.pem");
    assert_int_equal(ASN1_TIME_to_tm(X509_get0_notAfter(x), &tm), 1);
    at = timegm(&tm);
    X509_free(x);
    rep = run(&r);
    assert_false(finding_on(rep, CV_EXPIRED, "chain"));
    cv_report_free(rep);
    at++;
    rep = run(&r);
    assert_true(finding_on(rep, CV_EXPIRED, "chain"));
    cv_report_free(rep);
    at = saved;
}

/* expires_soon is "fewer than 30 days left" at the validation time. */
static void
test_engine_expires_soon_boundary(void **state)
{
    struct run r = NOCRL("good.pem", G);
    struct cv_report *rep;
    time_t na, saved = at;

    (void)state;
    rep = run(&r);
    na = rep->summary.not_after;
    cv_report_free(rep);
    at = na - 30 * 86400L;              /* exactly 30 days left */
    rep = run(&r);
    ASSERT_REPORT(rep, NONE, NONE, "30 days left");
    cv_report_free(rep);
    at = na - 30 * 86400L + 1;          /* a second less */
    rep = run(&r);
    ASSERT_REPORT(rep, NONE, E(CV_EXPIRES_SOON), "29.99 days left");
    cv_report_free(rep);
    /*
     * at == notAfter itself: OpenSSL (X509_cmp_time) counts it as expired,
     * RFC 5280 as valid; not asserted.
     */
    at = na - 1;                        /* the last second */
    rep = run(&r);
    ASSERT_REPORT(rep, NONE, E(CV_EXPIRES_SOON), "last second");
    assert_int_equal(rep->summary.days_left, 0);
    cv_report_free(rep);
    at = na + 1;                        /* expired */
    rep = run(&r);
    ASSERT_REPORT(rep, E(CV_EXPIRED), NONE, "a second after");
    assert_int_equal(rep->summary.days_left, -1);
    cv_report_free(rep);
    at = saved;
}

/* The validation time decides, not the wall clock. */
static void
test_engine_validation_time(void **state)
{
    struct run r = NOCRL("good.pem", G);
    struct cv_report *rep;
    time_t saved = at;

    (void)state;
    at = saved - 2 * 86400L;            /* before notBefore */
    rep = run(&r);
    ASSERT_REPORT(rep, E(CV_NOT_YET_VALID), NONE, "two days before");
    cv_report_free(rep);
    at = saved + 400 * 86400L;          /* after notAfter */
    rep = run(&r);
    ASSERT_REPORT(rep, E(CV_EXPIRED), NONE, "400 days after");
    assert_true(rep->summary.days_left < 0);
    cv_report_free(rep);
    /* soon.pem: fine today, expired in 20 days, soon in 5 */
    r.crt = "soon.pem";
    at = saved + 20 * 86400L;
    rep = run(&r);
    ASSERT_REPORT(rep, E(CV_EXPIRED), NONE, "soon.pem in 20 days");
    cv_report_free(rep);
    at = saved + 5 * 86400L;
    rep = run(&r);
    ASSERT_REPORT(rep, NONE, E(CV_EXPIRES_SOON), "soon.pem in 5 days");
    assert_true(rep->summary.days_left == 4 || rep->summary.days_left == 5);
    cv_report_free(rep);
    /* (root.pem starts when the fixtures were made: no earlier times) */
    at = saved;
}

static void
test_cv_cert_summary(void **state)
{
    struct run r = NOCRL("good.pem", G);
    struct cv_report *rep;
    struct cv_summary s;
    const struct cd_blob *b;

    (void)state;
    rep = run(&r);
    b = fx("good.pem");
    memset(&s, 0xa5, sizeof(s));
    assert_int_equal(cv_cert_summary(b->p, b->n, at, &s), 0);
    assert_memory_equal(&s, &rep->summary, sizeof(s));
    b = fx("good.der");
    assert_int_equal(cv_cert_summary(b->p, b->n, at, &s), 0);
    assert_memory_equal(&s, &rep->summary, sizeof(s));
    /* the first certificate of a chain */
    b = fx("chain.pem");
    assert_int_equal(cv_cert_summary(b->p, b->n, at, &s), 0);
    assert_string_equal(s.subject_cn, "Contoso Test Intermediate");
    assert_string_equal(s.crl_dp[0], URL_ROOT);
    /* nothing readable */
    b = fx("garbage.bin");
    memset(&s, 0xa5, sizeof(s));
    assert_int_equal(cv_cert_summary(b->p, b->n, at, &s), -1);
    assert_int_equal(s.valid, 0);
    b = fx("good.key");
    assert_int_equal(cv_cert_summary(b->p, b->n, at, &s), -1);
    b = fx("empty.bin");
    assert_int_equal(cv_cert_summary(b->p, 0, at, &s), -1);
    /* at 0: now; a certificate still is a certificate */
    b = fx("good.pem");
    assert_int_equal(cv_cert_summary(b->p, b->n, 0, &s), 0);
    assert_string_equal(s.sha256, rep->summary.sha256);
    cv_report_free(rep);
}

/* ---- CRLs: offline and made here ---- */

/* 1: make_crl() leaves the CRL number out (RFC 5280 5.2.3: MUST be in). */
static int crl_without_number;

/*
 * A CRL by issuer (PEM cert fixture) signed with key (fixture), valid from
 * at+last to at+next seconds, listing revoke (a PEM fixture) if not NULL;
 * CRL number 1.
 */
static X509_CRL *
make_crl(const char *issuer, const char *key, long last, long next,
    const char *revoke)
{
    X509 *ic = fx_x509(issuer), *rc = NULL;
    EVP_PKEY *k = fx_key(key);
    X509_CRL *c = X509_CRL_new();
    ASN1_TIME *t1 = ASN1_TIME_adj(NULL, at, 0, last);
    ASN1_TIME *t2 = ASN1_TIME_adj(NULL, at, 0, next);
    X509_REVOKED *rv;
    ASN1_INTEGER *num;

    assert_non_null(c);
    assert_non_null(t1);
    assert_non_null(t2);
    assert_int_equal(X509_CRL_set_version(c, 1), 1);
    assert_int_equal(X509_CRL_set_issuer_name(c,
        X509_get_subject_name(ic)), 1);
    assert_int_equal(X509_CRL_set1_lastUpdate(c, t1), 1);
    assert_int_equal(X509_CRL_set1_nextUpdate(c, t2), 1);
    if (crl_without_number)
        goto sign;
    assert_non_null(num = ASN1_INTEGER_new());
    assert_int_equal(ASN1_INTEGER_set(num, 1), 1);
    assert_int_equal(X509_CRL_add1_ext_i2d(c, NID_crl_number, num, 0, 0),
        1);
    ASN1_INTEGER_free(num);
    if (revoke != NULL) {
        rc = fx_x509(revoke);
        rv = X509_REVOKED_new();
        assert_non_null(rv);
        assert_int_equal(X509_REVOKED_set_serialNumber(rv,
            (ASN1_INTEGER *)X509_get0_serialNumber(rc)), 1);
        assert_int_equal(X509_REVOKED_set_revocationDate(rv, t1), 1);
        assert_int_equal(X509_CRL_add0_revoked(c, rv), 1);
        assert_int_equal(X509_CRL_sort(c), 1);
    }
sign:
    assert_true(X509_CRL_sign(c, k, EVP_sha256()) > 0);
    ASN1_TIME_free(t1);
    ASN1_TIME_free(t2);
    X509_free(ic);
    X509_free(rc);
    EVP_PKEY_free(k);
    return c;
}

/* Validates r with the given offline CRLs (taken; NULL: not there). */
static struct cv_report *
run_crls(const struct run *r, X509_CRL *c1, X509_CRL *c2)
{
    STACK_OF(X509_CRL) *sk = sk_X509_CRL_new_null();

    assert_non_null(sk);
    if (c1 != NULL)
        assert_true(sk_X509_CRL_push(sk, c1) > 0);
    if (c2 != NULL)
        assert_true(sk_X509_CRL_push(sk, c2) > 0);
    return run_with(r, sk);
}

static void
test_engine_crl_offline_ok_revoked(void **state)
{
    struct run r = R("good.pem", G, NULL);
    struct cv_report *rep;

    (void)state;
    cv_ctx_crl_cache_clear(ctx);
    rep = run_crls(&r, fx_crl("int.crl"), fx_crl("root.crl"));
    ASSERT_REPORT(rep, NONE, NONE, "good with both CRLs");
    assert_int_equal(default_stub.calls, 0);
    cv_report_free(rep);

    r.crt = "revoked.pem";
    rep = run_crls(&r, fx_crl("int.crl"), fx_crl("root.crl"));
    ASSERT_REPORT(rep, E(CV_REVOKED), NONE, "revoked");
    assert_string_equal(finding(rep, CV_REVOKED)->field, "crt");
    assert_detail_has(rep, CV_REVOKED, "CN=sensor.contoso.com");
    assert_detail_has(rep, CV_REVOKED, "CRL file");
    assert_int_equal(default_stub.calls, 0);
    cv_report_free(rep);

    /* the CRLs in the other order */
    rep = run_crls(&r, fx_crl("root.crl"), fx_crl("int.crl.pem"));
    ASSERT_REPORT(rep, E(CV_REVOKED), NONE, "revoked, PEM CRL");
    cv_report_free(rep);

    /* use_crl off: no CRL looked at, nothing fetched */
    r.use_crl = 0;
    rep = run(&(struct run){ "revoked.pem", "good.key", "chain.pem", NULL,
        NULL, OFF, 0, CV_VALIDATION_MANDATORY, HOST, NULL });
    ASSERT_REPORT(rep, NONE, NONE, "revoked, CRL off");
    assert_int_equal(default_stub.calls, 0);
    cv_report_free(rep);
}

static void
test_engine_crl_revoked_intermediate(void **state)
{
    struct run r = R("good.pem", "good.key", "chain.pem", NULL);
    struct cv_report *rep;

    (void)state;
    rep = run_crls(&r, fx_crl("int.crl"), make_crl("root.pem", "root.key",
        -3600, 7 * 86400, "int.pem"));
    ASSERT_REPORT(rep, E(CV_REVOKED), NONE, "intermediate revoked");
    assert_string_equal(finding(rep, CV_REVOKED)->field, "chain");
    assert_detail_has(rep, CV_REVOKED, "Contoso Test Intermediate");
    cv_report_free(rep);
    /* both revoked: one finding naming both */
    r.crt = "revoked.pem";
    rep = run_crls(&r, fx_crl("int.crl"), make_crl("root.pem", "root.key",
        -3600, 7 * 86400, "int.pem"));
    ASSERT_REPORT(rep, E(CV_REVOKED), NONE, "both revoked");
    assert_detail_has(rep, CV_REVOKED, "CN=sensor.contoso.com");
    assert_detail_has(rep, CV_REVOKED, "Contoso Test Intermediate");
    cv_report_free(rep);
}

static void
test_engine_crl_invalid_made_here(void **state)
{
    struct run r = R("good.pem", "good.key", "chain.pem", NULL);
    struct cv_report *rep;

    (void)state;
    /* the root's CRL out of date: the intermediate's check is invalid */
    rep = run_crls(&r, fx_crl("int.crl"), make_crl("root.pem", "root.key",
        -20 * 86400L, -86400, NULL));
    ASSERT_REPORT(rep, E(CV_CRL_INVALID), NONE, "stale root CRL");
    assert_string_equal(finding(rep, CV_CRL_INVALID)->field, "chain");
    assert_detail_has(rep, CV_CRL_INVALID, "out of date");
    cv_report_free(rep);
    /* a CRL not valid yet (lastUpdate after the validation time) */
    rep = run_crls(&r, make_crl("int.pem", "int.key", 3600, 7 * 86400,
        NULL), fx_crl("root.crl"));
    ASSERT_REPORT(rep, E(CV_CRL_INVALID), NONE, "future CRL");
    assert_string_equal(finding(rep, CV_CRL_INVALID)->field, "crt");
    cv_report_free(rep);
    /* int's name, signed by the leaf's key */
    rep = run_crls(&r, make_crl("int.pem", "good.key", -3600, 7 * 86400,
        NULL), fx_crl("root.crl"));
    ASSERT_REPORT(rep, E(CV_CRL_INVALID), NONE, "CRL signed by the leaf");
    assert_detail_has(rep, CV_CRL_INVALID, "signature");
    cv_report_free(rep);
    /* a stale CRL that would list the leaf: invalid, not revoked */
    r.crt = "revoked.pem";
    rep = run_crls(&r, make_crl("int.pem", "int.key", -20 * 86400L,
        -86400, "revoked.pem"), fx_crl("root.crl"));
    ASSERT_REPORT(rep, E(CV_CRL_INVALID), NONE, "stale CRL listing leaf");
    cv_report_free(rep);
    /* a CRL without a CRL number: invalid, and what it lists not read */
    crl_without_number = 1;
    rep = run_crls(&r, make_crl("int.pem", "int.key", -3600, 7 * 86400,
        "revoked.pem"), fx_crl("root.crl"));
    crl_without_number = 0;
    ASSERT_REPORT(rep, E(CV_CRL_INVALID), NONE, "CRL without a number");
    assert_detail_has(rep, CV_CRL_INVALID, "no CRL number");
    cv_report_free(rep);
    /* validation=none: a warning */
    r.validation = CV_VALIDATION_NONE;
    r.crt = "good.pem";
    rep = run_crls(&r, fx_crl("int-forged.crl"), fx_crl("root.crl"));
    ASSERT_REPORT(rep, NONE, E(CV_CRL_INVALID), "forged, none");
    cv_report_free(rep);
}

/* ---- CRLs fetched through the stub ---- */

static void
stub_ok(struct stub *s)
{
    stub_init(s, CV_FETCH_OK, NULL);
    s->crl_int = fx_crl("int.crl");
    s->crl_root = fx_crl("root.crl");
}

static void
test_engine_fetch_unreachable(void **state)
{
    struct stub s;
    struct run r = R("good.pem", G, NULL);
    struct cv_report *rep;

    (void)state;
    cv_ctx_crl_cache_clear(ctx);
    stub_init(&s, CV_FETCH_UNREACHABLE, "connect: Connection refused");
    r.stub = &s;
    rep = run(&r);
    /* both distribution points tried, in path order, one finding */
    ASSERT_REPORT(rep, E(CV_CRL_UNREACHABLE), NONE, "unreachable");
    assert_int_equal(s.calls, 2);
    assert_string_equal(s.urls[0], URL_INT);
    assert_string_equal(s.urls[1], URL_ROOT);
    assert_ptr_equal(s.seen_arg, &s);
    assert_string_equal(finding(rep, CV_CRL_UNREACHABLE)->field, "crt");
    assert_detail_has(rep, CV_CRL_UNREACHABLE, URL_INT);
    assert_detail_has(rep, CV_CRL_UNREACHABLE, URL_ROOT);
    assert_detail_has(rep, CV_CRL_UNREACHABLE, "Connection refused");
    cv_report_free(rep);
    /* nothing cached: asked again */
    rep = run(&r);
    assert_int_equal(s.calls, 4);
    cv_report_free(rep);
}

static void
test_engine_fetch_not_crl(void **state)
{
    struct stub s;
    struct run r = R("good.pem", G, "root.crl");
    struct cv_report *rep;

    (void)state;
    cv_ctx_crl_cache_clear(ctx);
    stub_init(&s, CV_FETCH_NOT_CRL, "the answer is not a DER CRL");
    r.stub = &s;
    rep = run(&r);
    ASSERT_REPORT(rep, E(CV_CRL_UNREACHABLE), NONE, "not a CRL");
    assert_int_equal(s.calls, 1);           /* root.crl was offline */
    assert_string_equal(s.urls[0], URL_INT);
    assert_detail_has(rep, CV_CRL_UNREACHABLE, "not a DER CRL");
    cv_report_free(rep);
    /* OK without a CRL is no CRL */
    stub_init(&s, CV_FETCH_OK, NULL);
    s.null_crl = 1;
    rep = run(&r);
    ASSERT_REPORT(rep, E(CV_CRL_UNREACHABLE), NONE, "OK, no CRL");
    cv_report_free(rep);
}

static void
test_engine_fetch_ok_and_options(void **state)
{
    struct stub s;
    struct cv_input in;
    struct cv_options opt;
    struct cv_report *rep;

    (void)state;
    cv_ctx_crl_cache_clear(ctx);
    stub_ok(&s);
    input_fx(&in, "good.key", "revoked.pem", "chain.pem");
    memset(&opt, 0, sizeof(opt));
    opt.at = at;
    opt.use_crl = 1;
    opt.fetch_fn = stub_fetch;
    opt.fetch_arg = &s;
    opt.fetch.timeout = 7;
    opt.fetch.max_size = 12345;
    opt.fetch.proxy = "proxy.example:3128";
    rep = cv_validate(ctx, &in, &opt);
    ASSERT_REPORT(rep, E(CV_REVOKED), NONE, "revoked via fetch");
    assert_detail_has(rep, CV_REVOKED, URL_INT);
    assert_int_equal(s.calls, 2);
    assert_int_equal(s.seen.timeout, 7);
    assert_int_equal(s.seen.max_size, 12345);
    assert_non_null(s.seen.proxy);
    assert_string_equal(s.seen.proxy, "proxy.example:3128");
    cv_report_free(rep);
    stub_free(&s);
    cv_ctx_crl_cache_clear(ctx);
}

/* Fetched CRLs are kept until their nextUpdate, per context. */
static void
test_engine_fetch_cache(void **state)
{
    struct stub s;
    struct run r = R("good.pem", G, NULL);
    struct cv_report *rep;
    int i;

    (void)state;
    cv_ctx_crl_cache_clear(ctx);
    stub_ok(&s);
    r.stub = &s;
    rep = run(&r);
    ASSERT_REPORT(rep, NONE, NONE, "first, fetched");
    assert_int_equal(s.calls, 2);
    cv_report_free(rep);
    for (i = 0; i < 5; i++) {
        rep = run(&r);
        ASSERT_REPORT(rep, NONE, NONE, "cached");
        cv_report_free(rep);
    }
    assert_int_equal(s.calls, 2);
    /* another leaf of the same issuer: the cached CRL lists it */
    r.crt = "revoked.pem";
    rep = run(&r);
    ASSERT_REPORT(rep, E(CV_REVOKED), NONE, "revoked from the cache");
    assert_int_equal(s.calls, 2);
    cv_report_free(rep);
    /* a fetch failure now is not seen: the cache answers */
    s.result = CV_FETCH_UNREACHABLE;
    rep = run(&r);
    ASSERT_REPORT(rep, E(CV_REVOKED), NONE, "cache beats a dead server");
    assert_int_equal(s.calls, 2);
    cv_report_free(rep);
    /* cleared: fetched again (and now unreachable) */
    cv_ctx_crl_cache_clear(ctx);
    rep = run(&r);
    ASSERT_REPORT(rep, E(CV_CRL_UNREACHABLE), NONE, "after clear");
    assert_int_equal(s.calls, 4);
    cv_report_free(rep);
    stub_free(&s);
    cv_ctx_crl_cache_clear(ctx);
}

/* A stale or forged CRL from the server is crl_invalid, every time. */
static void
test_engine_fetch_invalid(void **state)
{
    struct stub s;
    struct run r = R("good.pem", G, NULL);
    struct cv_report *rep;
    int i;

    (void)state;
    cv_ctx_crl_cache_clear(ctx);
    stub_init(&s, CV_FETCH_OK, NULL);
    s.crl_int = fx_crl("int-stale.crl");
    s.crl_root = fx_crl("root.crl");
    r.stub = &s;
    for (i = 0; i < 3; i++) {
        rep = run(&r);
        ASSERT_REPORT(rep, E(CV_CRL_INVALID), NONE, "stale from server");
        assert_detail_has(rep, CV_CRL_INVALID, URL_INT);
        cv_report_free(rep);
    }
    /* a stale CRL is not cached: asked for each time; root.crl is */
    assert_int_equal(s.calls, 4);
    X509_CRL_free(s.crl_int);
    s.crl_int = fx_crl("int-forged.crl");
    cv_ctx_crl_cache_clear(ctx);
    for (i = 0; i < 3; i++) {
        rep = run(&r);
        ASSERT_REPORT(rep, E(CV_CRL_INVALID), NONE, "forged from server");
        assert_detail_has(rep, CV_CRL_INVALID, "signature");
        cv_report_free(rep);
    }
    /* the server swaps the two: each CRL is not its certificate's issuer's */
    X509_CRL_free(s.crl_int);
    X509_CRL_free(s.crl_root);
    s.crl_int = fx_crl("root.crl");
    s.crl_root = fx_crl("int.crl");
    cv_ctx_crl_cache_clear(ctx);
    rep = run(&r);
    ASSERT_REPORT(rep, E(CV_CRL_INVALID), NONE, "swapped CRLs");
    assert_detail_has(rep, CV_CRL_INVALID, "not issued by the issuer");
    cv_report_free(rep);
    stub_free(&s);
    cv_ctx_crl_cache_clear(ctx);
}

/* An offline CRL is used before fetching; the rest is fetched. */
static void
test_engine_fetch_offline_first(void **state)
{
    struct stub s;
    struct run r = R("revoked.pem", G, "int.crl");
    struct cv_report *rep;

    (void)state;
    cv_ctx_crl_cache_clear(ctx);
    stub_ok(&s);
    r.stub = &s;
    rep = run(&r);
    ASSERT_REPORT(rep, E(CV_REVOKED), NONE, "offline int.crl");
    assert_int_equal(s.calls, 1);
    assert_string_equal(s.urls[0], URL_ROOT);
    assert_detail_has(rep, CV_REVOKED, "CRL file");
    cv_report_free(rep);
    stub_free(&s);
    cv_ctx_crl_cache_clear(ctx);
}

/* ---- the host name ---- */

static void
test_engine_hostname(void **state)
{
    static const struct {
        const char *crt, *host;
        int mismatch;
    } h[] = {
        { "good.pem", HOST, 0 },
        { "good.pem", "SENSOR.Contoso.COM", 0 },
        { "good.pem", "127.0.0.1", 0 },
        { "good.pem", "127.0.0.2", 1 },
        { "good.pem", "::1", 1 },
        { "good.pem", "other.example.com", 1 },
        { "good.pem", "contoso.com", 1 },
        { "good.pem", "x.sensor.contoso.com", 1 },
        { "good.pem", "", 0 },                  /* not configured */
        { "good.pem", NULL, 0 },
        { "other-name.pem", NULL, 0 },
        { "other-name.pem", "other.example.com", 0 },
        { "other-name.pem", HOST, 1 },
        { "selfsigned.pem", HOST, 0 },
        { "wildcard.pem", "a.contoso.com", 0 },  /* matches, but ... */
        { "wildcard.pem", "a.b.contoso.com", 1 },
        { "wildcard.pem", "contoso.com", 1 },
        /* no partial wildcards: ba*.contoso.com is no name at all */
        { "partial-wildcard.pem", "baz.contoso.com", 1 },
        { "partial-wildcard.pem", "ba.contoso.com", 1 },
    };
    struct run r = NOCRL("good.pem", "good.key", "chain.pem");
    struct cv_report *rep;
    size_t i;
    char what[128];

    (void)state;
    for (i = 0; i < NELEM(h); i++) {
        r.crt = h[i].crt;
        r.key = strcmp(h[i].crt, "selfsigned.pem") == 0 ?
            "selfsigned.key" : "good.key";
        r.host = h[i].host;
        rep = run(&r);
        snprintf(what, sizeof(what), "%s for %s", h[i].crt,
            h[i].host ? h[i].host : "(null)");
        if (cv_report_has(rep, CV_NAME_MISMATCH) != h[i].mismatch)
            fail_msg("%s: name_mismatch %s", what, h[i].mismatch ?
                "missing" : "unexpected");
        if (h[i].mismatch) {
            assert_false(finding(rep, CV_NAME_MISMATCH)->blocking);
            assert_detail_has(rep, CV_NAME_MISMATCH, h[i].host);
        }
        if (strcmp(h[i].crt, "good.pem") == 0 ||
            strcmp(h[i].crt, "other-name.pem") == 0)
            ASSERT_REPORT(rep, NONE, h[i].mismatch ? E(CV_NAME_MISMATCH) :
                NONE, what);
        cv_report_free(rep);
    }
}

/* ---- the context ---- */

/* One context, loaded once, for many validations; then freed. */
static void
test_cv_ctx_reused(void **state)
{
    static const struct {
        struct run r;
        enum cv_code err;
    } mix[] = {
        { R("good.pem", G, OFF), CV_OK },
        { R("expired.pem", G, OFF), CV_EXPIRED },
        { R("revoked.pem", G, OFF), CV_REVOKED },
        { NOCRL("untrusted.pem", "good.key", NULL), CV_CHAIN_UNTRUSTED },
        { R("good.pem", "other.key", "chain.pem", OFF), CV_KEY_MISMATCH },
        { R("good.pem", "good.key", "chain-reversed.pem", OFF), CV_OK },
    };
    char dir[] = "/tmp/test_engine.XXXXXX", path[4200];
    struct cv_config cfg;
    struct cv_ctx *saved = ctx, *c;
    struct cv_report *rep;
    const struct cd_blob *b = fx("root.pem");
    char *err = NULL;
    FILE *f;
    int round;
    size_t i;

    (void)state;
    /* the anchors come from a file that is gone after cv_ctx_new() */
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/ca.pem", dir);
    assert_non_null(f = fopen(path, "wb"));
    assert_int_equal(fwrite(b->p, 1, b->n, f), b->n);
    assert_int_equal(fclose(f), 0);
    memset(&cfg, 0, sizeof(cfg));
    cfg.ca_file = path;
    cfg.no_default_ca = 1;
    c = cv_ctx_new(&cfg, &err);
    assert_non_null(c);
    assert_null(err);
    assert_int_equal(unlink(path), 0);
    assert_int_equal(rmdir(dir), 0);
    assert_int_equal(cv_ctx_anchor_count(c), 1);
    ctx = c;
    for (round = 0; round < 20; round++) {
        for (i = 0; i < NELEM(mix); i++) {
            rep = run(&mix[i].r);
            if (mix[i].err == CV_OK)
                ASSERT_REPORT(rep, NONE, NONE, "reused ctx: ok");
            else
                ASSERT_REPORT(rep, E(mix[i].err), NONE, "reused ctx");
            cv_report_free(rep);
        }
        if (round % 5 == 4)
            cv_ctx_crl_cache_clear(c);
    }
    assert_int_equal(cv_ctx_anchor_count(c), 1);
    ctx = saved;
    cv_ctx_free(c);
    cv_ctx_free(NULL);
    cv_ctx_crl_cache_clear(NULL);
    assert_int_equal(cv_ctx_anchor_count(NULL), 0);
}

/* The finding with code on field has s in its detail. */
static void
assert_on_says(const struct cv_report *rep, enum cv_code code,
    const char *field, const char *s, const char *what)
{
    char got[4096];
    size_t i;

    for (i = 0; i < rep->n_findings; i++)
        if (rep->findings[i].code == code &&
            strcmp(rep->findings[i].field, field) == 0 &&
            rep->findings[i].detail != NULL &&
            strstr(rep->findings[i].detail, s) != NULL)
            return;
    cd_fixture_report_text(rep, got, sizeof(got));
    fail_msg("%s: wanted %s on %s saying \"%s\", got [%s]", what,
        cv_code_name(code), field, s, got);
}

/*
 * Issue 16: files given in each other's place are recognised as such, the
 * documented codes kept: key and certificate exchanged (plain and
 * encrypted key), and the chain file given as the certificate.
 */
static void
test_swapped_files(void **state)
{
    struct cv_report *rep;
    struct run r = NOCRL("good.key", "good.pem", "chain.pem");

    (void)state;
    rep = run(&r);
    assert_on_says(rep, CV_UNREADABLE_KEY, "key", "the key and "
        "certificate files look swapped", "key <-> crt");
    assert_on_says(rep, CV_UNREADABLE_CRT, "crt", "the key and "
        "certificate files look swapped", "key <-> crt");
    cv_report_free(rep);

    /* an encrypted key in the crt field, its passphrase given */
    r = (struct run)NOCRL("good-pbes2.key", "good.pem", "chain.pem");
    r.pass = "pass.txt";
    rep = run(&r);
    assert_on_says(rep, CV_UNREADABLE_CRT, "crt", "look swapped",
        "encrypted key <-> crt");
    cv_report_free(rep);

    /* a key with a key, a certificate with a certificate: no swap */
    rep = run(&(struct run)NOCRL("good.key", "good.key", "chain.pem"));
    assert_null(strstr(cd_fixture_finding(rep, CV_UNREADABLE_CRT)->detail,
        "swapped"));
    cv_report_free(rep);

    /* the chain file (the intermediate) as the certificate, the leaf in
     * the chain field */
    rep = run(&(struct run)NOCRL("chain-int-only.pem", "good.key",
        "good.pem"));
    assert_on_says(rep, CV_KEY_MISMATCH, "crt", "the server certificate "
        "is in the Chain file (CN=sensor.contoso.com", "chain as crt");
    assert_on_says(rep, CV_KEY_MISMATCH, "crt", "the CA certificate "
        "CN=Contoso Test Intermediate: exchange the two files",
        "chain as crt");
    cv_report_free(rep);

    /* a CA certificate and a key of neither: a plain mismatch */
    rep = run(&(struct run)NOCRL("chain-int-only.pem", "other.key",
        "good.pem"));
    assert_on_says(rep, CV_KEY_MISMATCH, "key", "differs", "no swap");
    cv_report_free(rep);
}

/* The one chain_untrusted finding of rep is on field and says want. */
static void
assert_untrusted_says(const struct cv_report *rep, const char *field,
    const char *want, const char *what)
{
    char got[4096];
    size_t i, n = 0;

    for (i = 0; i < rep->n_findings; i++) {
        const struct cv_finding *f = &rep->findings[i];

        if (f->code != CV_CHAIN_UNTRUSTED)
            continue;
        n++;
        if (strcmp(f->field, field) != 0 || f->detail == NULL ||
            strstr(f->detail, want) == NULL) {
            cd_fixture_report_text(rep, got, sizeof(got));
            fail_msg("%s: wanted on %s \"%s\", got [%s]", what, field, want,
                got);
        }
    }
    if (n != 1) {
        cd_fixture_report_text(rep, got, sizeof(got));
        fail_msg("%s: wanted one chain_untrusted, got [%s]", what, got);
    }
}

/* A certificate from a fixture's PEM. */
static X509 *
fx_crt(const char *name)
{
    const struct cd_blob *b = fx(name);
    BIO *bio = BIO_new_mem_buf(b->p, (int)b->n);
    X509 *x = bio != NULL ? PEM_read_bio_X509(bio, NULL, NULL, NULL) : NULL;

    BIO_free(bio);
    assert_non_null(x);
    return x;
}

#define ROOT_MISSING "the root CA that issued 'Contoso Test Intermediate' " \
    "(issuer: C = US, O = Contoso Ltd, OU = Contoso PKI, " \
    "CN = Contoso Test Root) " \
    "is not known to this appliance: add it to the chain file, or to the " \
    "enterprise roots"

/*
 * Issue 16: an upload without its root (the intermediate only, or a .pfx
 * without the root) on an appliance that does not know the root keeps
 * chain_untrusted, but says what is missing, on the field to fix.
 */
static void
test_chain_without_root(void **state)
{
    struct cv_config cfg;
    struct cv_ctx *saved = ctx, *c;
    struct cv_report *rep;
    struct cv_input in;
    struct cv_options opt;
    const struct cd_blob *kb = fx("good.key"), *pb = fx("pass.txt");
    BIO *bio;
    EVP_PKEY *key;
    X509 *leaf, *inter;
    STACK_OF(X509) *cas;
    PKCS12 *p12;
    unsigned char *der = NULL;
    char pass[64];
    int der_len;
    char *err = NULL;

    (void)state;
    memset(&cfg, 0, sizeof(cfg));
    cfg.no_default_ca = 1;
    c = cv_ctx_new(&cfg, &err);
    assert_non_null(c);
    ctx = c;

    /* the intermediate only, in the chain file */
    rep = run(&(struct run)NOCRL("good.pem", "good.key",
        "chain-int-only.pem"));
    assert_untrusted_says(rep, "chain", ROOT_MISSING, "intermediate only");
    cv_report_free(rep);

    /* the leaf alone: its issuer is missing, on crt */
    rep = run(&(struct run)NOCRL("good.pem", "good.key", NULL));
    assert_untrusted_says(rep, "crt", "the CA that issued "
        "'sensor.contoso.com' (issuer: ", "leaf alone");
    cv_report_free(rep);

    /* a .pfx with the leaf, its key and the intermediate, no root */
    leaf = fx_crt("good.pem");
    inter = fx_crt("int.pem");
    bio = BIO_new_mem_buf(kb->p, (int)kb->n);
    assert_non_null(bio);
    key = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
    BIO_free(bio);
    assert_non_null(key);
    assert_true(pb->n > 0 && pb->n < sizeof(pass));
    memcpy(pass, pb->p, pb->n);
    pass[pb->n] = '\0';
    pass[strcspn(pass, "\r\n")] = '\0';
    assert_non_null(cas = sk_X509_new_null());
    assert_true(sk_X509_push(cas, inter) > 0);
    p12 = PKCS12_create(pass, NULL, key, leaf, cas, 0, 0, 0, 0, 0);
    assert_non_null(p12);
    der_len = i2d_PKCS12(p12, &der);
    assert_true(der_len > 0);
    memset(&in, 0, sizeof(in));
    in.crt = der;
    in.crt_len = (size_t)der_len;
    in.passphrase = pass;
    in.passphrase_len = strlen(pass);
    memset(&opt, 0, sizeof(opt));
    opt.at = at;
    opt.validation = CV_VALIDATION_MANDATORY;
    opt.hostname = HOST;
    rep = cv_validate(ctx, &in, &opt);
    assert_non_null(rep);
    assert_untrusted_says(rep, "crt", ROOT_MISSING, ".pfx without its root");
    cv_report_free(rep);

    /* with the root in the chain file: nothing is missing */
    rep = run(&(struct run)NOCRL("good.pem", "good.key", "chain.pem"));
    ASSERT_REPORT(rep, NONE, NONE, "root in the chain file");
    cv_report_free(rep);

    OPENSSL_free(der);
    PKCS12_free(p12);
    sk_X509_pop_free(cas, X509_free);
    X509_free(leaf);
    EVP_PKEY_free(key);
    cv_ctx_free(c);
    ctx = saved;
}

/* Several contexts side by side keep their own anchors. */
static void
test_cv_ctx_configs(void **state)
{
    char dir[] = "/tmp/test_engine.XXXXXX", path[4200];
    struct cv_config cfg;
    struct cv_ctx *saved = ctx, *c;
    struct cv_report *rep;
    char *err = NULL;
    FILE *f;
    const struct cd_blob *b;

    (void)state;
    /* no anchors at all: only a self-signed CA of the upload is trusted */
    memset(&cfg, 0, sizeof(cfg));
    cfg.no_default_ca = 1;
    c = cv_ctx_new(&cfg, &err);
    assert_non_null(c);
    assert_int_equal(cv_ctx_anchor_count(c), 0);
    ctx = c;
    rep = run(&(struct run)R("good.pem", "good.key", "chain.pem", OFF));
    ASSERT_REPORT(rep, NONE, NONE, "root from the upload");
    cv_report_free(rep);
    rep = run(&(struct run)R("good.pem", G, OFF));
    ASSERT_REPORT(rep, E(CV_CHAIN_UNTRUSTED), NONE, "no root anywhere");
    cv_report_free(rep);
    cv_ctx_free(c);

    /* an enterprise roots directory with root.pem and junk */
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/root.pem", dir);
    b = fx("root.pem");
    assert_non_null(f = fopen(path, "wb"));
    assert_int_equal(fwrite(b->p, 1, b->n, f), b->n);
    assert_int_equal(fclose(f), 0);
    snprintf(path, sizeof(path), "%s/junk.txt", dir);
    assert_non_null(f = fopen(path, "wb"));
    assert_int_equal(fputs("not a certificate\n", f) >= 0, 1);
    assert_int_equal(fclose(f), 0);
    cfg.extra_ca_dir = dir;
    c = cv_ctx_new(&cfg, &err);
    assert_non_null(c);
    assert_int_equal(cv_ctx_anchor_count(c), 1);
    ctx = c;
    rep = run(&(struct run)R("good.pem", G, OFF));
    ASSERT_REPORT(rep, NONE, NONE, "root from extra_ca_dir");
    cv_report_free(rep);
    cv_ctx_free(c);
    /* the same as ca_dir */
    cfg.extra_ca_dir = NULL;
    cfg.ca_dir = dir;
    c = cv_ctx_new(&cfg, &err);
    assert_non_null(c);
    assert_int_equal(cv_ctx_anchor_count(c), 1);
    cv_ctx_free(c);
    unlink(path);
    snprintf(path, sizeof(path), "%s/root.pem", dir);
    unlink(path);
    rmdir(dir);

    /* an enterprise anchor that is not self-signed: the intermediate */
    snprintf(dir, sizeof(dir), "/tmp/test_engine.XXXXXX");
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/int.pem", dir);
    b = fx("int.pem");
    assert_non_null(f = fopen(path, "wb"));
    assert_int_equal(fwrite(b->p, 1, b->n, f), b->n);
    assert_int_equal(fclose(f), 0);
    memset(&cfg, 0, sizeof(cfg));
    cfg.no_default_ca = 1;
    cfg.ca_file = path;
    c = cv_ctx_new(&cfg, &err);
    assert_non_null(c);
    ctx = c;
    rep = run(&(struct run)R("good.pem", "good.key", NULL, OFF));
    ASSERT_REPORT(rep, NONE, NONE, "intermediate as the anchor");
    cv_report_free(rep);
    rep = run(&(struct run)R("revoked.pem", "good.key", NULL, OFF));
    ASSERT_REPORT(rep, E(CV_REVOKED), NONE, "revoked under that anchor");
    cv_report_free(rep);
    cv_ctx_free(c);
    unlink(path);
    rmdir(dir);
    /* ... but an uploaded intermediate is never one */
    memset(&cfg, 0, sizeof(cfg));
    cfg.no_default_ca = 1;
    c = cv_ctx_new(&cfg, &err);
    assert_non_null(c);
    ctx = c;
    rep = run(&(struct run)R("good.pem", G, OFF));
    ASSERT_REPORT(rep, E(CV_CHAIN_UNTRUSTED), NONE, "uploaded intermediate");
    cv_report_free(rep);
    cv_ctx_free(c);
    ctx = saved;

    /* errors: a missing file or directory is refused with a message */
    memset(&cfg, 0, sizeof(cfg));
    cfg.ca_file = "/nonexistent/ca.pem";
    assert_null(cv_ctx_new(&cfg, &err));
    assert_non_null(err);
    assert_non_null(strstr(err, "/nonexistent/ca.pem"));
    free(err);
    err = NULL;
    cfg.ca_file = cd_fixture_path("garbage.bin");
    assert_null(cv_ctx_new(&cfg, &err));
    assert_non_null(err);
    free(err);
    err = NULL;
    memset(&cfg, 0, sizeof(cfg));
    cfg.no_default_ca = 1;
    cfg.ca_dir = "/nonexistent-dir";
    assert_null(cv_ctx_new(&cfg, &err));
    assert_non_null(err);
    free(err);
    err = NULL;
    cfg.ca_dir = NULL;
    cfg.extra_ca_dir = "/nonexistent-dir";
    assert_null(cv_ctx_new(&cfg, NULL));      /* errp may be NULL */

    /* the system default: loads (maybe nothing), works, frees */
    c = cv_ctx_new(NULL, &err);
    assert_non_null(c);
    assert_null(err);
    ctx = c;
    rep = run(&(struct run)R("good.pem", "good.key", "chain.pem", OFF));
    ASSERT_REPORT(rep, NONE, NONE, "system anchors + uploaded root");
    cv_report_free(rep);
    ctx = saved;
    cv_ctx_free(c);
}

/* cv_validate with no options: now, CRL on (the stub is not there). */
static void
test_engine_default_options(void **state)
{
    struct cv_input in;
    struct cv_report *rep;

    (void)state;
    input_fx(&in, "other.key", "good.pem", NULL);
    /* no chain: the path stops at the leaf, so nothing is fetched */
    rep = cv_validate(ctx, &in, NULL);
    assert_non_null(rep);
    assert_true(cv_report_has(rep, CV_KEY_MISMATCH));
    assert_true(cv_report_has(rep, CV_CHAIN_UNTRUSTED));
    assert_false(cv_report_has(rep, CV_CRL_UNREACHABLE));
    assert_false(cv_report_ok(rep));
    cv_report_free(rep);
}

int
main(void)
{
    static const struct CMUnitTest fixed[] = {
        cmocka_unit_test_setup(test_engine_cases_cover_every_code, reset),
        cmocka_unit_test_setup(test_engine_none_same_findings, reset),
        cmocka_unit_test_setup(test_engine_summary_good, reset),
        cmocka_unit_test_setup(test_engine_not_after_inclusive, reset),
        cmocka_unit_test_setup(test_engine_summary_same_in_every_format, reset),
        cmocka_unit_test_setup(test_engine_summary_others, reset),
        cmocka_unit_test_setup(test_engine_summary_days_left, reset),
        cmocka_unit_test_setup(test_engine_expires_soon_boundary, reset),
        cmocka_unit_test_setup(test_engine_validation_time, reset),
        cmocka_unit_test_setup(test_cv_cert_summary, reset),
        cmocka_unit_test_setup(test_engine_crl_offline_ok_revoked, reset),
        cmocka_unit_test_setup(test_engine_crl_revoked_intermediate, reset),
        cmocka_unit_test_setup(test_engine_crl_invalid_made_here, reset),
        cmocka_unit_test_setup(test_engine_fetch_unreachable, reset),
        cmocka_unit_test_setup(test_engine_fetch_not_crl, reset),
        cmocka_unit_test_setup(test_engine_fetch_ok_and_options, reset),
        cmocka_unit_test_setup(test_engine_fetch_cache, reset),
        cmocka_unit_test_setup(test_engine_fetch_invalid, reset),
        cmocka_unit_test_setup(test_engine_fetch_offline_first, reset),
        cmocka_unit_test_setup(test_engine_hostname, reset),
        cmocka_unit_test_setup(test_cv_ctx_reused, reset),
        cmocka_unit_test_setup(test_cv_ctx_configs, reset),
        cmocka_unit_test_setup(test_chain_without_root, reset),
        cmocka_unit_test_setup(test_swapped_files, reset),
        cmocka_unit_test_setup(test_engine_default_options, reset),
    };
    struct CMUnitTest tests[NELEM(cases) + NELEM(fixed)];
    static char names[NELEM(cases)][96];
    size_t i, n = 0;

    /* one test per case, named after it */
    for (i = 0; i < NELEM(cases); i++) {
        snprintf(names[i], sizeof(names[i]), "test_engine_case %s",
            cases[i].id);
        tests[n].name = names[i];
        tests[n].test_func = test_engine_case;
        tests[n].setup_func = reset;
        tests[n].teardown_func = NULL;
        tests[n].initial_state = (void *)&cases[i];
        n++;
    }
    for (i = 0; i < NELEM(fixed); i++)
        tests[n++] = fixed[i];
    if (getenv("CD_TEST_FILTER") != NULL)
        cmocka_set_test_filter(getenv("CD_TEST_FILTER"));
    return _cmocka_run_group_tests("test_engine", tests, n, group_setup,
        group_teardown);
}
