/*
 * cv.h - certdialog's validation engine (libcv).
 *
 * Decides whether a private key, a certificate and an optional chain may be
 * installed on the appliance, and says why not in the documented words.
 * libc + OpenSSL only: no HTTP, no JSON.
 *
 * Typical use:
 *
 *	struct cv_ctx *ctx = cv_ctx_new(&cfg, &err);	   once per process
 *	struct cv_report *rep = cv_validate(ctx, &in, &opt);  per upload
 *	... cv_report_ok(rep), rep->findings[i], rep->summary ...
 *	cv_report_free(rep);
 *	cv_ctx_free(ctx);
 *
 * A cv_ctx holds the trust anchors (parsed once) and the CRL cache; it is
 * not thread-safe: use one per thread or process.
 */
#ifndef CV_H
#define CV_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <openssl/x509.h>

#include "cv_util.h"

#ifdef __cplusplus
extern "C" {
#endif

enum cv_kind {
    CV_WARNING = 0,     /* never blocks */
    CV_ERROR,           /* blocks unless validation=none */
    CV_HARD             /* blocks even with validation=none */
};

enum cv_code {
    CV_OK = 0,
#define CV_CODE(id, name, kind, msg) CV_##id,
#include "cv_codes.def"
#undef CV_CODE
    CV_CODE_COUNT
};

/* The JSON name ("passphrase_mismatch") of a code; never NULL. */
const char *cv_code_name(enum cv_code code);
/* The exact message of a code; out of range gives validation_failed's. */
const char *cv_code_message(enum cv_code code);
/* The kind of a code as in the table; out of range gives CV_HARD. */
enum cv_kind cv_code_kind(enum cv_code code);
/* Looks a JSON name up; CV_OK when unknown. */
enum cv_code cv_code_from_name(const char *name);

/* ---- configuration, once per process ---- */

struct cv_config {
    const char *ca_file;        /* PEM bundle; NULL: OpenSSL's default */
    const char *ca_dir;         /* directory of PEM files; NULL: default */
    int no_default_ca;          /* 1: neither default file nor dir */
    const char *extra_ca_dir;   /* enterprise roots, every file read; NULL */
    size_t crl_cache_max;       /* bytes of cached CRLs; 0: the default */
};

#define CV_DEFAULT_CRL_CACHE_MAX (32u * 1024 * 1024)

struct cv_ctx;

/*
 * Loads the trust anchors once.  Returns NULL on failure with a message in
 * *errp (static or caller frees with free(); see cv_ctx_new's comment in
 * ctx.c).  Caller frees the context with cv_ctx_free().
 */
struct cv_ctx *cv_ctx_new(const struct cv_config *cfg, char **errp);
void cv_ctx_free(struct cv_ctx *ctx);
/* Number of trust anchors loaded (for tests and status). */
size_t cv_ctx_anchor_count(const struct cv_ctx *ctx);
/* Drops every cached CRL. */
void cv_ctx_crl_cache_clear(struct cv_ctx *ctx);
/*
 * The bytes the cached CRLs count against the cap (docs/DESIGN.md "Trust,
 * CRLs and time"), and in *np (if not NULL) how many there are.
 */
size_t cv_ctx_crl_cache_bytes(const struct cv_ctx *ctx, size_t *np);
/*
 * The trust anchor that issued x (issuer name, key identifiers and
 * signature checked), or NULL when no anchor did.  Completes a chain that
 * was installed without its root.  Caller frees the result with X509_free().
 */
X509 *cv_ctx_find_issuer(const struct cv_ctx *ctx, X509 *x);

/* ---- one upload ---- */

struct cv_input {
    const uint8_t *key;         /* NULL: missing; empty: unreadable */
    size_t key_len;
    const uint8_t *crt;
    size_t crt_len;
    const uint8_t *chain;       /* optional */
    size_t chain_len;
    const char *passphrase;     /* optional; not NUL-terminated */
    size_t passphrase_len;
    const char *name;           /* Certificate Name; NULL: not checked */
    size_t name_len;            /* bytes of name; 0: strlen(name) */
};

enum cv_validation {
    CV_VALIDATION_MANDATORY = 0,
    CV_VALIDATION_NONE
};

/* What a CRL fetch returned. */
enum cv_fetch_result {
    CV_FETCH_OK = 0,
    CV_FETCH_UNREACHABLE,       /* refused, DNS, timeout, non-200, too big */
    CV_FETCH_NOT_CRL            /* answered, but the body is not a CRL */
};

/* An address range CRLs are not fetched from (validate/netrange.c). */
struct cv_net {
    int family;                 /* AF_INET or AF_INET6 */
    unsigned char addr[16];     /* the network; 4 bytes for AF_INET */
    unsigned bits;              /* prefix length */
    const char *why;            /* "a multicast address"; NULL: "in the
                                   denied range NET/BITS" */
};

struct cv_fetch_opts {
    int timeout;                /* seconds, whole transfer */
    size_t max_size;            /* bytes */
    const char *proxy;          /* "host:port" or URL; NULL: environment */
    int allow_loopback;         /* 1: CRLs may come from 127/8 and ::1
                                   (tests); see docs/DESIGN.md "Trust,
                                   CRLs and time" for what is refused */
    const struct cv_net *denied; /* ranges never fetched from (even in
                                   loopback); NULL: cv_net_defaults() */
    size_t n_denied;
    /*
     * Set by the engine for its fetches (a fetcher passes fo on as it
     * is): a fetcher that downloads DER calls it with the body before
     * parsing it, so that the CRL cache makes room for the decoded form
     * first (docs/DESIGN.md "Trust, CRLs and time").  Returns 0, or -1
     * with a reason in detail when the CRL is not to be parsed (the
     * request holds as much as the cache's cap allows): the fetcher then
     * returns CV_FETCH_UNREACHABLE.  NULL: nothing to call.
     */
    int (*make_room)(void *room_arg, const unsigned char *der, size_t len,
        char *detail, size_t dlen);
    void *room_arg;
};

/*
 * "192.0.2.0/24", "fe80::/10", or an address alone (all its bits) into
 * out (why NULL).  Returns 0, or -1 when it is not one, or bits are set
 * after the prefix.
 */
int cv_net_parse(const char *text, struct cv_net *out);
/* "NET/BITS" of net into buf. */
void cv_net_text(const struct cv_net *net, char *buf, size_t len);
/*
 * The default denied ranges: link-local (169.254.0.0/16, fe80::/10),
 * unspecified, multicast, reserved, fd00:ec2::254.  Returns their number.
 */
size_t cv_net_defaults(const struct cv_net **out);
/*
 * 1 when no CRL may be fetched from the address sa, with why ("a
 * loopback address", "in the denied range 10.9.0.0/16") into why: it is
 * in one of denied[n] (NULL: the defaults), or it is a loopback address
 * and allow_loopback is 0, or it is not an IP address.  IPv4 carried in
 * IPv6 (mapped, compatible, NAT64) is judged as IPv4.  Else 0.
 */
struct sockaddr;
int cv_net_denied(const struct sockaddr *sa, const struct cv_net *denied,
    size_t n, int allow_loopback, char *why, size_t wlen);

/*
 * Fetches the CRL at an http:// URL.  On CV_FETCH_OK, *crlp is set and the
 * caller frees it.  On failure, may put a reason into detail (size dlen).
 * A fetcher that parses DER calls fo->make_room (when set) first.
 */
typedef enum cv_fetch_result (*cv_crl_fetch_fn)(const char *url,
    const struct cv_fetch_opts *fo, void *arg, X509_CRL **crlp,
    char *detail, size_t dlen);

/* The default fetcher, OpenSSL's HTTP client (OSSL_HTTP_get). */
enum cv_fetch_result cv_crl_fetch_http(const char *url,
    const struct cv_fetch_opts *fo, void *arg, X509_CRL **crlp,
    char *detail, size_t dlen);

struct cv_options {
    time_t at;                  /* validation time; 0: now */
    int use_crl;                /* 1: check CRLs */
    enum cv_validation validation;
    const char *hostname;       /* appliance name for name_mismatch; NULL */
    struct cv_fetch_opts fetch; /* zero fields take the defaults */
    cv_crl_fetch_fn fetch_fn;   /* NULL: cv_crl_fetch_http */
    void *fetch_arg;
    STACK_OF(X509_CRL) *offline_crls; /* used before fetching; not owned */
    int allow_ec;               /* key policy rsa+ec: EC P-256/P-384 too */
};

#define CV_DEFAULT_CRL_TIMEOUT  5
#define CV_DEFAULT_CRL_MAX_SIZE (10u * 1024 * 1024)
#define CV_EXPIRES_SOON_DAYS    30

struct cv_finding {
    enum cv_code code;
    int blocking;               /* 1: an error, 0: a warning */
    const char *field;          /* "key", "crt", "chain", "passphrase", ... */
    char *detail;               /* OpenSSL's reason etc.; may be NULL */
};

#define CV_MAX_LIST 16

struct cv_summary {
    int valid;                  /* 0: no certificate could be read */
    char subject[512];
    char subject_cn[256];
    char issuer[512];
    char serial[128];           /* hex, colon separated */
    time_t not_before;
    time_t not_after;
    long days_left;             /* at the validation time; <0: expired */
    char key_type[16];          /* "RSA", "EC", ... */
    int key_bits;
    char signature_algorithm[64];
    char sha256[96];            /* AA:BB:... */
    int self_signed;
    size_t n_san;
    char san[CV_MAX_LIST][256]; /* "DNS:x" or "IP:1.2.3.4" */
    size_t n_crl_dp;
    char crl_dp[CV_MAX_LIST][256];
};

struct cv_report {
    struct cv_finding *findings;
    size_t n_findings;
    size_t cap;
    struct cv_summary summary;
    /* what the engine accepted, for an install; NULL when blocked */
    EVP_PKEY *key;
    X509 *leaf;
    STACK_OF(X509) *path;       /* built chain without the leaf */
};

/*
 * Validates one upload.  Never returns NULL except when out of memory.
 * Caller frees with cv_report_free().
 */
struct cv_report *cv_validate(struct cv_ctx *ctx, const struct cv_input *in,
    const struct cv_options *opt);

/* ---- a certificate signing request ---- */

#define CV_CSR_FIELD_MAX 256

struct cv_csr_summary {
    int valid;                  /* 0: the request could not be read */
    char subject[512];
    char cn[CV_CSR_FIELD_MAX];
    char o[CV_CSR_FIELD_MAX];
    char ou[CV_CSR_FIELD_MAX];
    char c[CV_CSR_FIELD_MAX];
    char st[CV_CSR_FIELD_MAX];
    char l[CV_CSR_FIELD_MAX];
    size_t n_san;
    char san[CV_MAX_LIST][256]; /* "DNS:x" or "IP:1.2.3.4" */
    char key_type[16];
    int key_bits;
    char key_sha256[96];        /* SHA-256 of the public key (SPKI) */
    char signature_algorithm[64];
};

/*
 * Reads a PKCS#10 request (PEM or DER) into *s and judges it on field
 * "csr": its self-signature (csr_signature), the subject (C, O, OU, CN)
 * and the key rules of an upload (allow_ec: key policy rsa+ec).  Never
 * NULL except when out of memory; caller frees with cv_report_free().
 */
struct cv_report *cv_csr_check(const uint8_t *buf, size_t len, int allow_ec,
    struct cv_csr_summary *s);

/* 1 when no finding blocks the upload. */
int cv_report_ok(const struct cv_report *rep);
/* 1 when the report holds the given code. */
int cv_report_has(const struct cv_report *rep, enum cv_code code);
void cv_report_free(struct cv_report *rep);

/* Internal use and tests: adds a finding, printf-style detail (may be NULL). */
void cv_report_add(struct cv_report *rep, enum cv_code code,
    const char *field, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/*
 * The summary of a certificate given as PEM or DER (the first one of a PEM
 * file), at validation time at (0: now).  Returns 0, or -1 when no
 * certificate can be read.
 */
int cv_cert_summary(const uint8_t *buf, size_t len, time_t at,
    struct cv_summary *s);

/*
 * The host name a hosts-file line gives a certificate: its first
 * subjectAltName DNS entry that is a plain host name (letters, digits, '-'
 * and '.'; no wildcard, not an IP address), else its CN when that is one.
 * Returns 0 with the name in buf, or -1 (buf "") when there is none or it
 * does not fit in len bytes.
 */
int cv_summary_host_name(const struct cv_summary *s, char *buf, size_t len);
/* Room for every name cv_summary_names() can give. */
#define CV_MAX_NAMES (2 * CV_MAX_LIST + 1)
/*
 * The names a certificate is valid for, in the order docs/API.md lists
 * them: its SAN DNS names, then its SAN IP addresses, then its CN when not
 * already there (without regard to case).  Pointers into s; returns how
 * many (at most CV_MAX_NAMES) were put in out.
 */
size_t cv_summary_names(const struct cv_summary *s,
    const char *out[CV_MAX_NAMES]);

/* Checks a Certificate Name: 1-64 of [A-Za-z0-9 ._-]. */
int cv_name_is_valid(const char *name, size_t len);
/* Checks a passphrase's characters against docs/API.md "Upload fields". */
int cv_passphrase_is_valid(const char *pass, size_t len);


#ifdef __cplusplus
}
#endif
#endif /* CV_H */
