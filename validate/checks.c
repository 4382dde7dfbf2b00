/*
 * checks.c - the leaf's own requirements (docs/API.md "Codes") and its summary.
 */
#include "config.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "cv.h"
#include "cv_int.h"

static void
check_time(X509 *leaf, time_t at, struct cv_report *rep)
{
    time_t nb = cv_asn1_time(X509_get0_notBefore(leaf));
    time_t na = cv_asn1_time(X509_get0_notAfter(leaf));
    char when[32];

    /* valid AT its notAfter second (RFC 5280 4.1.2.5) */
    if (ASN1_TIME_cmp_time_t(X509_get0_notAfter(leaf), at) < 0) {
        cv_time_iso(na, when, sizeof(when));
        cv_report_add(rep, CV_EXPIRED, "crt", "Valid To is %s", when);
    } else if (na - at < (time_t)CV_EXPIRES_SOON_DAYS * 86400) {
        cv_time_iso(na, when, sizeof(when));
        cv_report_add(rep, CV_EXPIRES_SOON, "crt", "Valid To is %s (%ld "
            "days left)", when, (long)((na - at) / 86400));
    }
    if (ASN1_TIME_cmp_time_t(X509_get0_notBefore(leaf), at) > 0) {
        cv_time_iso(nb, when, sizeof(when));
        cv_report_add(rep, CV_NOT_YET_VALID, "crt", "Valid From is %s",
            when);
    }
}

/* 1 when pk is EC on P-256 or P-384; its group's name into group. */
static int
ec_served_curve(EVP_PKEY *pk, char *group, size_t len)
{
    group[0] = '\0';
    if (EVP_PKEY_get_base_id(pk) != EVP_PKEY_EC)
        return 0;
    if (EVP_PKEY_get_utf8_string_param(pk, OSSL_PKEY_PARAM_GROUP_NAME,
        group, len, NULL) != 1) {
        ERR_clear_error();
        group[0] = '\0';
        return 0;
    }
    return strcmp(group, "prime256v1") == 0 || strcmp(group, "secp384r1") == 0;
}

/*
 * The key rule (docs/API.md "Codes", weak_key): RSA, 2048 or 4096 bits;
 * with the key policy rsa+ec (allow_ec) also EC on P-256 or P-384.
 */
static int
key_ok(EVP_PKEY *pk, int allow_ec, const char **typep, int *bitsp)
{
    char group[64];

    *bitsp = pk != NULL ? EVP_PKEY_get_bits(pk) : 0;
    *typep = pk != NULL ? EVP_PKEY_get0_type_name(pk) : NULL;
    if (*typep == NULL)
        *typep = "unknown";
    if (pk == NULL)
        return 0;
    if (allow_ec && ec_served_curve(pk, group, sizeof(group)))
        return 1;
    return EVP_PKEY_get_base_id(pk) == EVP_PKEY_RSA &&
        (*bitsp == 2048 || *bitsp == 4096);
}

/*
 * What nginx may serve in every validation mode (unusable_key otherwise):
 * RSA of at most 4096 bits, EC on P-256 or P-384.  A DSA key loads, but
 * no browser's cipher suite uses it, so every handshake fails; RSA-8192
 * makes each handshake cost about 12 times a 2048-bit one, for anyone who
 * connects; other curves and EdDSA are not what browsers accept.  RSA
 * below 2048 bits is weak_key, and nginx's OpenSSL refuses to load it.
 */
static int
key_servable(EVP_PKEY *pk, char *what, size_t len)
{
    const char *type;
    char group[64] = "";
    int bits;

    if (pk == NULL)
        return 1;               /* not read: other findings say so */
    bits = EVP_PKEY_get_bits(pk);
    switch (EVP_PKEY_get_base_id(pk)) {
    case EVP_PKEY_RSA:
        if (bits <= 4096)
            return 1;
        snprintf(what, len, "found RSA %d bits", bits);
        return 0;
    case EVP_PKEY_EC:
        if (ec_served_curve(pk, group, sizeof(group)))
            return 1;
        snprintf(what, len, "found EC on %s", group[0] != '\0' ? group :
            "an unknown curve");
        return 0;
    }
    type = EVP_PKEY_get0_type_name(pk);
    snprintf(what, len, "found %s %d bits", type != NULL ? type :
        "an unknown key type", bits);
    return 0;
}

void
cv_checks_key(EVP_PKEY *pk, const char *field, int allow_ec,
    struct cv_report *rep)
{
    const char *type;
    char what[96];
    int bits;

    if (!key_servable(pk, what, sizeof(what)))
        cv_report_add(rep, CV_UNUSABLE_KEY, field, "%s", what);
    if (!key_ok(pk, allow_ec, &type, &bits))
        cv_report_add(rep, CV_WEAK_KEY, field, "found %s %d bits", type,
            bits);
}

void
cv_checks_ca_keys(STACK_OF(X509) *path, int allow_ec, struct cv_report *rep)
{
    const char *type;
    char label[256];
    int i, bits;

    for (i = 1; i < sk_X509_num(path); i++) {
        X509 *x = sk_X509_value(path, i);

        if (key_ok(X509_get0_pubkey(x), allow_ec, &type, &bits))
            continue;
        cv_cert_label(x, label, sizeof(label));
        cv_report_add(rep, CV_WEAK_KEY, "chain", "the CA certificate %s: "
            "found %s %d bits", label, type, bits);
    }
}

void
cv_checks_subject(const X509_NAME *nm, const char *field,
    struct cv_report *rep)
{
    static const struct {
        int nid;
        const char *name;
    } need[] = {
        { NID_countryName, "C" },
        { NID_organizationName, "O" },
        { NID_organizationalUnitName, "OU" },
        { NID_commonName, "CN" },
    };
    char missing[32] = "", cn[256];
    size_t i, off = 0;

    for (i = 0; i < sizeof(need) / sizeof(need[0]); i++) {
        if (X509_NAME_get_index_by_NID(nm, need[i].nid, -1) >= 0)
            continue;
        off += snprintf(missing + off, sizeof(missing) - off, "%s%s",
            off ? ", " : "", need[i].name);
    }
    if (missing[0] != '\0')
        cv_report_add(rep, CV_SUBJECT_INCOMPLETE, field, "missing: %s",
            missing);
    if (cv_name_get(nm, NID_commonName, cn, sizeof(cn)) == 0 &&
        strchr(cn, '*') != NULL)
        cv_report_add(rep, CV_WILDCARD_CN, field, "CN is %s", cn);
}

static void
check_usage(X509 *leaf, struct cv_report *rep)
{
    uint32_t fl = X509_get_extension_flags(leaf);

    if ((fl & EXFLAG_BCONS) && (fl & EXFLAG_CA))
        cv_report_add(rep, CV_NOT_SERVER_CERT, "crt", "basicConstraints "
            "says CA:TRUE");
    if (X509_check_purpose(leaf, X509_PURPOSE_SSL_SERVER, 0) != 1)
        cv_report_add(rep, CV_NOT_SERVER_CERT, "crt", "keyUsage or "
            "extendedKeyUsage does not allow TLS server authentication");
}

/*
 * The signature rule (signature_algorithm): sha256WithRSAEncryption; with
 * the key policy rsa+ec also ECDSA with SHA-256 or SHA-384.
 */
static int
signature_ok(int nid, int allow_ec)
{
    return nid == NID_sha256WithRSAEncryption || (allow_ec &&
        (nid == NID_ecdsa_with_SHA256 || nid == NID_ecdsa_with_SHA384));
}

void
cv_checks_leaf(X509 *leaf, const struct cv_options *opt, time_t at,
    struct cv_report *rep)
{
    const char *h = opt->hostname;
    int r;

    check_time(leaf, at, rep);
    cv_checks_key(X509_get0_pubkey(leaf), "crt", opt->allow_ec, rep);
    if (!signature_ok(X509_get_signature_nid(leaf), opt->allow_ec))
        cv_report_add(rep, CV_SIGNATURE_ALGORITHM, "crt", "found %s",
            OBJ_nid2ln(X509_get_signature_nid(leaf)));
    cv_checks_subject(X509_get_subject_name(leaf), "crt", rep);
    check_usage(leaf, rep);
    if (h != NULL && *h != '\0') {
        r = cv_is_ip(h) ? X509_check_ip_asc(leaf, h, 0) :
            X509_check_host(leaf, h, strlen(h),
            X509_CHECK_FLAG_NEVER_CHECK_SUBJECT |
            X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS, NULL);
        if (r != 1)
            cv_report_add(rep, CV_NAME_MISMATCH, "crt", "the appliance's "
                "host name is %s", h);
    }
}

/* RFC 5280 4.1.2.2: a positive serial number of at most 20 octets. */
static const char *
bad_serial(X509 *x)
{
    const ASN1_INTEGER *sn = X509_get0_serialNumber(x);
    int i, zero = 1;

    if (sn == NULL || ASN1_STRING_type(sn) == V_ASN1_NEG_INTEGER)
        return "its serial number is negative";
    for (i = 0; i < sn->length; i++)
        zero = zero && sn->data[i] == 0;
    if (zero)
        return "its serial number is 0";
    /* DER adds a 0x00 octet before a magnitude whose top bit is set */
    if (sn->length + ((sn->data[0] & 0x80) != 0) > 20)
        return "its serial number is longer than 20 octets";
    return NULL;
}

/*
 * RFC 5280 4.2.1.6: a dNSName in the preferred name syntax: labels of
 * letters, digits and '-', a "*" left-most label allowed.
 */
static int
dns_name_ok(const unsigned char *p, int len)
{
    int i, label = 0;

    if (len >= 2 && p[0] == '*' && p[1] == '.') {
        p += 2;
        len -= 2;
    }
    for (i = 0; i < len; i++) {
        if (p[i] == '.') {
            if (label == 0)
                return 0;
            label = 0;
            continue;
        }
        if (!((p[i] >= 'a' && p[i] <= 'z') || (p[i] >= 'A' && p[i] <= 'Z') ||
            (p[i] >= '0' && p[i] <= '9') || p[i] == '-'))
            return 0;
        label++;
    }
    return label > 0;
}

/*
 * A wildcard dNSName "*.S" of the leaf that may stand for a name a CA of
 * the path excludes (one label under S): RFC 5280's name constraints do
 * not say, so refuse it.  Returns 1 and fills buf when found.
 */
static int
wildcard_excluded(X509 *leaf, X509 *ca, char *buf, size_t blen)
{
    NAME_CONSTRAINTS *nc = X509_get_ext_d2i(ca, NID_name_constraints, NULL,
        NULL);
    GENERAL_NAMES *gens = X509_get_ext_d2i(leaf, NID_subject_alt_name, NULL,
        NULL);
    int i, j, found = 0;

    for (i = 0; nc != NULL && i < sk_GENERAL_SUBTREE_num(nc->excludedSubtrees)
        && !found; i++) {
        GENERAL_SUBTREE *st = sk_GENERAL_SUBTREE_value(nc->excludedSubtrees,
            i);
        const unsigned char *e;
        int elen;

        if (st->base->type != GEN_DNS)
            continue;
        e = ASN1_STRING_get0_data(st->base->d.dNSName);
        elen = ASN1_STRING_length(st->base->d.dNSName);
        for (j = 0; j < sk_GENERAL_NAME_num(gens) && !found; j++) {
            GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, j);
            const unsigned char *w;
            int wlen, k;

            if (g->type != GEN_DNS)
                continue;
            w = ASN1_STRING_get0_data(g->d.dNSName);
            wlen = ASN1_STRING_length(g->d.dNSName);
            if (wlen < 3 || w[0] != '*' || w[1] != '.' || elen <= wlen - 1)
                continue;
            /* e is "label" + w[1..]: the wildcard's one label */
            if (strncasecmp((const char *)e + elen - (wlen - 1),
                (const char *)w + 1, wlen - 1) != 0)
                continue;
            for (k = 0; k < elen - (wlen - 1) && e[k] != '.'; k++)
                ;
            if (k != elen - (wlen - 1) || k == 0)
                continue;
            snprintf(buf, blen, "%.*s may stand for the excluded %.*s", wlen,
                (const char *)w, elen, (const char *)e);
            found = 1;
        }
    }
    NAME_CONSTRAINTS_free(nc);
    GENERAL_NAMES_free(gens);
    return found;
}

void
cv_checks_path(STACK_OF(X509) *path, struct cv_report *rep)
{
    X509 *leaf = sk_X509_value(path, 0);
    GENERAL_NAMES *gens;
    X509_EXTENSION *ext;
    const char *why, *field;
    char label[256], buf[600];
    int i, j, n = sk_X509_num(path);

    if (leaf == NULL)
        return;
    /* the top of the path is the anchor, trusted as configured (or the
     * chain is untrusted anyway); the others are checked */
    for (i = 0; i < n; i++) {
        X509 *x = sk_X509_value(path, i);

        if (i > 0 && i == n - 1)
            break;
        field = i == 0 ? "crt" : "chain";
        cv_cert_label(x, label, sizeof(label));
        if ((why = bad_serial(x)) != NULL)
            cv_report_add(rep, CV_MALFORMED_CERTIFICATE, field, "%s: %s",
                label, why);
        /* RFC 5280 4.2.1.11: policyConstraints MUST be critical */
        if ((j = X509_get_ext_by_NID(x, NID_policy_constraints, -1)) >= 0 &&
            (ext = X509_get_ext(x, j)) != NULL &&
            !X509_EXTENSION_get_critical(ext))
            cv_report_add(rep, CV_MALFORMED_CERTIFICATE, field, "%s: its "
                "policyConstraints extension is not critical", label);
        if (i > 0 && wildcard_excluded(leaf, x, buf, sizeof(buf)))
            cv_report_add(rep, CV_NAME_CONSTRAINTS, "crt", "%s (%s)", buf,
                label);
    }
    gens = X509_get_ext_d2i(leaf, NID_subject_alt_name, NULL, NULL);
    for (i = 0; i < sk_GENERAL_NAME_num(gens); i++) {
        GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);

        if (g->type == GEN_DNS && !dns_name_ok(
            ASN1_STRING_get0_data(g->d.dNSName),
            ASN1_STRING_length(g->d.dNSName)))
            cv_report_add(rep, CV_MALFORMED_CERTIFICATE, "crt", "the "
                "subjectAltName DNS:%.*s is not a host name",
                ASN1_STRING_length(g->d.dNSName),
                (const char *)ASN1_STRING_get0_data(g->d.dNSName));
    }
    GENERAL_NAMES_free(gens);
}

void
cv_san_list(const GENERAL_NAMES *gens, char san[][256], size_t max,
    size_t *np)
{
    int i;

    for (i = 0; i < sk_GENERAL_NAME_num(gens) && *np < max; i++) {
        const GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);
        char *out = san[*np];
        char ip[INET6_ADDRSTRLEN];

        if (g->type == GEN_DNS) {
            snprintf(out, 256, "DNS:%.*s",
                ASN1_STRING_length(g->d.dNSName),
                (const char *)ASN1_STRING_get0_data(g->d.dNSName));
        } else if (g->type == GEN_IPADD &&
            (ASN1_STRING_length(g->d.iPAddress) == 4 ||
            ASN1_STRING_length(g->d.iPAddress) == 16)) {
            inet_ntop(ASN1_STRING_length(g->d.iPAddress) == 4 ? AF_INET :
                AF_INET6, ASN1_STRING_get0_data(g->d.iPAddress), ip,
                sizeof(ip));
            snprintf(out, 256, "IP:%s", ip);
        } else
            continue;
        (*np)++;
    }
}

static void
fill_san(X509 *leaf, struct cv_summary *s)
{
    GENERAL_NAMES *gens = X509_get_ext_d2i(leaf, NID_subject_alt_name,
        NULL, NULL);

    cv_san_list(gens, s->san, CV_MAX_LIST, &s->n_san);
    GENERAL_NAMES_free(gens);
}

/* cv_crl_dp_each() callback: one URI into the summary's list. */
static int
add_crl_dp(const char *uri, size_t len, void *arg)
{
    struct cv_summary *s = arg;

    if (s->n_crl_dp >= CV_MAX_LIST)
        return 1;
    snprintf(s->crl_dp[s->n_crl_dp++], sizeof(s->crl_dp[0]), "%.*s",
        (int)len, uri);
    return 0;
}

void
cv_summary_fill(X509 *leaf, time_t at, struct cv_summary *s)
{
    EVP_PKEY *pk = X509_get0_pubkey(leaf);
    const ASN1_INTEGER *sn = X509_get0_serialNumber(leaf);
    unsigned char md[CV_SHA256_LEN];
    unsigned int i;
    const char *t;
    size_t off;

    memset(s, 0, sizeof(*s));
    s->valid = 1;
    cv_name_text(X509_get_subject_name(leaf), s->subject, sizeof(s->subject));
    cv_name_text(X509_get_issuer_name(leaf), s->issuer, sizeof(s->issuer));
    cv_cert_cn(leaf, s->subject_cn, sizeof(s->subject_cn));
    for (off = 0, i = 0; sn != NULL && i < (unsigned)sn->length &&
        off + 4 < sizeof(s->serial); i++)
        off += snprintf(s->serial + off, sizeof(s->serial) - off, "%s%02X",
            i ? ":" : "", sn->data[i]);
    s->not_before = cv_asn1_time(X509_get0_notBefore(leaf));
    s->not_after = cv_asn1_time(X509_get0_notAfter(leaf));
    s->days_left = s->not_after >= at ? (long)((s->not_after - at) / 86400) :
        -(long)((at - s->not_after + 86399) / 86400);
    if (pk != NULL) {
        t = EVP_PKEY_get0_type_name(pk);
        snprintf(s->key_type, sizeof(s->key_type), "%s", t ? t : "unknown");
        s->key_bits = EVP_PKEY_get_bits(pk);
    }
    snprintf(s->signature_algorithm, sizeof(s->signature_algorithm), "%s",
        OBJ_nid2ln(X509_get_signature_nid(leaf)));
    if (cv_cert_sha256(leaf, md))
        for (off = 0, i = 0; i < CV_SHA256_LEN; i++)
            off += snprintf(s->sha256 + off, sizeof(s->sha256) - off,
                "%s%02X", i ? ":" : "", md[i]);
    s->self_signed = X509_self_signed(leaf, 0) == 1;
    fill_san(leaf, s);
    cv_crl_dp_each(leaf, add_crl_dp, s, NULL);
}

int
cv_cert_summary(const uint8_t *buf, size_t len, time_t at,
    struct cv_summary *s)
{
    STACK_OF(X509) *extra = NULL;
    EVP_PKEY *p12key = NULL;
    X509 *leaf = NULL;
    char detail[CV_DETAIL_MAX];

    memset(s, 0, sizeof(*s));
    if (cv_crt_load(buf, len, NULL, &leaf, &extra, &p12key, detail,
        sizeof(detail)) != CV_OK) {
        sk_X509_pop_free(extra, X509_free);
        EVP_PKEY_free(p12key);
        return -1;
    }
    cv_summary_fill(leaf, at != 0 ? at : time(NULL), s);
    X509_free(leaf);
    sk_X509_pop_free(extra, X509_free);
    EVP_PKEY_free(p12key);
    return 0;
}

/* 1 when s is a plain DNS host name: labels of [A-Za-z0-9-], not an IP. */
static int
is_host_name(const char *s)
{
    size_t i, label = 0;

    if (s == NULL || s[0] == '\0' || cv_is_ip(s))
        return 0;
    for (i = 0; s[i] != '\0'; i++) {
        if (s[i] == '.') {
            if (label == 0)
                return 0;       /* empty label, or a leading dot */
            label = 0;
            continue;
        }
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
            (s[i] >= '0' && s[i] <= '9') || s[i] == '-') || ++label > 63)
            return 0;
    }
    return label > 0 && i <= 253;  /* no trailing dot */
}

size_t
cv_summary_names(const struct cv_summary *s, const char *out[CV_MAX_NAMES])
{
    static const char *const kind[] = { "DNS:", "IP:" };
    size_t i, k, j, kl, n = 0;
    int seen;

    for (k = 0; k < 2; k++) {
        kl = strlen(kind[k]);
        for (i = 0; i < s->n_san && i < CV_MAX_LIST; i++)
            if (strncmp(s->san[i], kind[k], kl) == 0 &&
                s->san[i][kl] != '\0')
                out[n++] = s->san[i] + kl;
    }
    if (s->subject_cn[0] == '\0')
        return n;
    for (seen = 0, j = 0; j < n && !seen; j++)
        seen = strcasecmp(out[j], s->subject_cn) == 0;
    if (!seen)
        out[n++] = s->subject_cn;
    return n;
}

int
cv_summary_host_name(const struct cv_summary *s, char *buf, size_t len)
{
    const char *name = NULL;
    size_t i;

    if (len > 0)
        buf[0] = '\0';
    if (s == NULL || !s->valid || len == 0)
        return -1;
    for (i = 0; i < s->n_san && i < CV_MAX_LIST && name == NULL; i++)
        if (strncmp(s->san[i], "DNS:", 4) == 0 &&
            is_host_name(s->san[i] + 4))
            name = s->san[i] + 4;
    if (name == NULL && is_host_name(s->subject_cn))
        name = s->subject_cn;
    if (name == NULL || (size_t)snprintf(buf, len, "%s", name) >= len) {
        buf[0] = '\0';
        return -1;
    }
    return 0;
}
