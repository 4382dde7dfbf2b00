/*
 * cv_int.h - libcv's internal interfaces (testable, not exported).
 */
#ifndef CV_INT_H
#define CV_INT_H

#include <openssl/x509.h>

#include <openssl/decoder.h>
#include <openssl/x509v3.h>

#include "cv.h"

#define CV_DETAIL_MAX   1024
#define CV_MAX_FINDINGS 64
#define CV_CRL_CACHE_MAX 64
#define CV_CRL_MEMO_MAX 64      /* CRL verdicts kept per context */
#define CV_CRL_MEMO_CRLS 2      /* cached CRLs one verdict may rest on */
#define CV_CRL_MAX_REDIRECTS 5     /* followed when fetching a CRL */
/*
 * Key derivation rounds accepted for one derivation (an encrypted key, a
 * PKCS#12 MAC or encrypted part; scrypt: N x r x p): about a third of a
 * second of CPU; more would let one upload hold a worker for minutes
 * (2^31 rounds: about ten).  Tools use 2,048 to 600,000.  A file's
 * derivations together (a PKCS#12 MAC, its encrypted certificates, its
 * key) may spend at most CV_MAX_KDF_TOTAL: each is priced before any runs.
 */
#define CV_MAX_KDF_ITER 1000000L
#define CV_MAX_KDF_TOTAL 3000000L

/* report.c */
/* A new empty report; caller frees with cv_report_free(). */
struct cv_report *cv_report_new(void);
/* validation=none: every finding that is not CV_HARD stops blocking. */
void cv_report_relax(struct cv_report *rep);

/* util.c */
/* 1 when buf holds a PEM "-----BEGIN " line. */
int cv_is_pem(const uint8_t *buf, size_t len);
/* Skips a UTF-8 byte order mark. */
void cv_skip_bom(const uint8_t **bufp, size_t *lenp);
/* A name as "C = US, O = Contoso, CN = x" into buf. */
void cv_name_text(const X509_NAME *name, char *buf, size_t len);
/* A certificate's CN (or its subject if none) into buf, for details. */
void cv_cert_label(const X509 *x, char *buf, size_t len);
/* ASN1_TIME to time_t; 0 when unparsable. */
time_t cv_asn1_time(const ASN1_TIME *t);
/*
 * The SHA-256 of x's DER into md (CV_SHA256_LEN bytes): computed once per
 * certificate object and kept with it, so the anchors and the leaf are
 * not encoded and hashed again by each use.  Returns 1, or 0 when it
 * cannot be computed (x not encodable, out of memory).
 */
#define CV_SHA256_LEN 32
int cv_cert_sha256(X509 *x, unsigned char *md);
/*
 * cv_crl_dp_each() over a decoded list of distribution points (a
 * certificate's or a CRL's freshestCRL too).
 */
int cv_dps_each(STACK_OF(DIST_POINT) *dps, int (*fn)(const char *uri,
    size_t len, void *arg), void *arg);

/* load.c */
/*
 * Loads a private key: PEM (PKCS#1, PKCS#8, legacy-encrypted, PBES2) or DER
 * (PKCS#1, PKCS#8, encrypted PKCS#8).  pass may be NULL.  Returns CV_OK,
 * CV_UNREADABLE_KEY or CV_PASSPHRASE_MISMATCH, with OpenSSL's reason in
 * detail.  Caller frees *keyp with EVP_PKEY_free().  ctx (may be NULL)
 * keeps a PEM key decoder across calls.
 */
enum cv_code cv_key_load(struct cv_ctx *ctx, const uint8_t *buf, size_t len,
    const char *pass, EVP_PKEY **keyp, char *detail, size_t dlen);
/*
 * Loads the certificate: PEM (first block is the leaf, further blocks go to
 * *extrap), DER, PKCS#7, or PKCS#12 (with pass; its key goes to *p12keyp).
 * Returns CV_OK, CV_UNREADABLE_CRT or CV_PASSPHRASE_MISMATCH.  Caller frees
 * *leafp, *extrap (sk_X509_pop_free) and *p12keyp.
 */
enum cv_code cv_crt_load(const uint8_t *buf, size_t len, const char *pass,
    X509 **leafp, STACK_OF(X509) **extrap, EVP_PKEY **p12keyp,
    char *detail, size_t dlen);
/*
 * Loads a chain file: PEM certificates in any order with text between them,
 * a DER certificate or PKCS#7.  Returns CV_OK or CV_UNREADABLE_CHAIN.
 * Caller frees *chainp with sk_X509_pop_free().
 */
enum cv_code cv_chain_load(const uint8_t *buf, size_t len,
    STACK_OF(X509) **chainp, char *detail, size_t dlen);

/* ctx.c */
struct cv_crl_entry {
    char *url;
    X509_CRL *crl;              /* judged by OpenSSL, or a memo's verdict */
    time_t expires;             /* wall clock: the CRL's nextUpdate */
    size_t bytes;               /* what it counts against the cap */
    unsigned long gen;          /* cv_ctx.crl_gen when it was put: unique */
};

/*
 * A CRL pass that found nothing, for the same inputs again (crl.c, "the
 * memo"; docs/DESIGN.md "Trust, CRLs and time").
 */
struct cv_crl_memo {
    unsigned char key[32];      /* SHA-256 of the pass's inputs */
    time_t from, until;         /* it holds for from <= at < until */
    unsigned long gen[CV_CRL_MEMO_CRLS]; /* the cache entries it rests on */
    size_t n_gen;
};

struct cv_ctx {
    X509_STORE *store;          /* the anchors, for X509_verify_cert */
    STACK_OF(X509) *anchors;    /* the same certificates */
    struct cv_crl_entry crl[CV_CRL_CACHE_MAX]; /* least recently used first */
    size_t n_crl;
    size_t crl_bytes;           /* sum of their bytes */
    size_t crl_cache_max;       /* the cap on crl_bytes */
    unsigned long crl_gen;      /* bumped by every cache put */
    struct cv_crl_memo memo[CV_CRL_MEMO_MAX]; /* least recently used first */
    size_t n_memo;
    unsigned long memo_hits;    /* CRL passes it answered (for tests) */
    /*
     * A PEM private key decoder, made once: OpenSSL 3.0 spends ten times
     * longer building one than decoding a key with it.
     */
    OSSL_DECODER_CTX *key_dec;
    EVP_PKEY *key_dec_out;      /* where key_dec puts what it decodes */
};

/* chain.c */
/*
 * Builds and verifies the path of leaf with OpenSSL (strict, TLS server
 * purpose, at the given time), the uploaded certificates as untrusted and
 * their self-signed CAs as extra anchors.  Adds chain findings to rep (a
 * missing issuer on "chain" when chain_given, else on "crt").
 * *pathp gets the built path, leaf first (caller frees with
 * sk_X509_pop_free()); it may be partial when the chain is untrusted.
 */
void cv_chain_verify(struct cv_ctx *ctx, X509 *leaf, STACK_OF(X509) *upload,
    int chain_given, time_t at, struct cv_report *rep, STACK_OF(X509) **pathp);
/*
 * The verify context cv_chain_verify() uses (anchors, upload, time, strict,
 * TLS server purpose, policies unless a certificate's cannot be processed:
 * those are findings in rep when not NULL), for a second verification
 * with CRLs too.  Returns NULL when out of memory.  Caller frees the
 * context with X509_STORE_CTX_free(), then *trustedp with sk_X509_free().
 */
X509_STORE_CTX *cv_chain_vctx(struct cv_ctx *ctx, X509 *leaf,
    STACK_OF(X509) *upload, time_t at, struct cv_report *rep,
    STACK_OF(X509) **trustedp);
/* Warns about uploaded certificates that are not on the path. */
void cv_chain_extra(STACK_OF(X509) *upload, STACK_OF(X509) *path,
    struct cv_report *rep);

/* crl.c */
/*
 * The CRL checks of docs/DESIGN.md "Trust, CRLs and time" over the path
 * cv_chain_verify() built (leaf first) from leaf and upload: the CRLs the
 * path needs gathered (offline, cached or fetched), then judged by
 * OpenSSL's verifier.
 */
void cv_crl_check(struct cv_ctx *ctx, X509 *leaf, STACK_OF(X509) *upload,
    STACK_OF(X509) *path, const struct cv_options *opt, time_t at,
    struct cv_report *rep);
/* Frees one cache entry's contents. */
void cv_crl_entry_clear(struct cv_crl_entry *e);
/* The first http:// URL of a certificate's CRL DPs into buf; see crl.c. */
int cv_crl_dp_http(X509 *x, char *buf, size_t len, int *has_dpp);

/* checks.c */
/* The leaf's own requirements: time, key, signature, subject, usage, name. */
void cv_checks_leaf(X509 *leaf, const struct cv_options *opt, time_t at,
    struct cv_report *rep);
/* The leaf's key rule for the CAs of a built path (leaf first): weak_key
 * on "chain". */
void cv_checks_ca_keys(STACK_OF(X509) *path, int allow_ec,
    struct cv_report *rep);
/*
 * A served key's rules (unusable_key, weak_key) and a subject's
 * (subject_incomplete, wildcard_cn), reported on field: the leaf's and a
 * signing request's.
 */
void cv_checks_key(EVP_PKEY *pk, const char *field, int allow_ec,
    struct cv_report *rep);
void cv_checks_subject(const X509_NAME *nm, const char *field,
    struct cv_report *rep);
/*
 * What OpenSSL's verifier lets through, over a built path (leaf first, the
 * anchor at its top left out): serial numbers, policyConstraints
 * criticality, the leaf's dNSNames, wildcards against excluded subtrees.
 */
void cv_checks_path(STACK_OF(X509) *path, struct cv_report *rep);
/*
 * The DNS names and IP addresses of gens as "DNS:x" / "IP:a" into san
 * (entries of 256 bytes), from san[*np] on, at most max in all.
 */
void cv_san_list(const GENERAL_NAMES *gens, char san[][256], size_t max,
    size_t *np);
/* Fills the summary of a certificate. */
void cv_summary_fill(X509 *leaf, time_t at, struct cv_summary *s);

#endif /* CV_INT_H */
