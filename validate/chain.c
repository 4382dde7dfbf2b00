/*
 * chain.c - the chain of trust, built and verified by OpenSSL's
 * X509_verify_cert(); its verify errors mapped to our codes.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include "cv.h"
#include "cv_int.h"

#define MAX_VERR 16

struct verr {
    int err;
    int depth;
    X509 *cert;                 /* not owned; valid while the ctx lives */
};

struct vstate {
    struct verr e[MAX_VERR];
    int n;
    time_t at;                  /* the validation time */
};

/*
 * 1 for CERT_HAS_EXPIRED at the very notAfter second: OpenSSL calls that
 * expired, RFC 5280 4.1.2.5 valid (notAfter is inclusive).
 */
static int
valid_at_not_after(int err, X509 *x, time_t at)
{
    return err == X509_V_ERR_CERT_HAS_EXPIRED && x != NULL &&
        ASN1_TIME_cmp_time_t(X509_get0_notAfter(x), at) == 0;
}

/* Records every verify error and lets OpenSSL go on, to report them all. */
static int
verify_cb(int ok, X509_STORE_CTX *vctx)
{
    struct vstate *st;
    int i, err;

    if (ok)
        return 1;
    st = X509_STORE_CTX_get_app_data(vctx);
    err = X509_STORE_CTX_get_error(vctx);
    if (st == NULL)
        return 0;
    if (valid_at_not_after(err, X509_STORE_CTX_get_current_cert(vctx),
        st->at))
        return 1;
    for (i = 0; i < st->n; i++)
        if (st->e[i].err == err &&
            st->e[i].depth == X509_STORE_CTX_get_error_depth(vctx))
            return 1;
    if (st->n < MAX_VERR) {
        st->e[st->n].err = err;
        st->e[st->n].depth = X509_STORE_CTX_get_error_depth(vctx);
        st->e[st->n].cert = X509_STORE_CTX_get_current_cert(vctx);
        st->n++;
    }
    return 1;
}

static int
is_self_signed_ca(X509 *x)
{
    return X509_check_ca(x) > 0 && X509_self_signed(x, 0) == 1;
}

/*
 * "Name (OID)" of the first critical extension of x that OpenSSL does not
 * process, into buf ("an extension" when none is found).
 */
static void
unhandled_ext(X509 *x, char *buf, size_t len)
{
    X509_EXTENSION *ext;
    const ASN1_OBJECT *obj;
    char oid[128];
    int i, nid;

    snprintf(buf, len, "an extension");
    for (i = 0; x != NULL && i < X509_get_ext_count(x); i++) {
        ext = X509_get_ext(x, i);
        if (!X509_EXTENSION_get_critical(ext) ||
            X509_supported_extension(ext))
            continue;
        obj = X509_EXTENSION_get_object(ext);
        OBJ_obj2txt(oid, sizeof(oid), obj, 1);
        nid = OBJ_obj2nid(obj);
        if (nid != NID_undef)
            snprintf(buf, len, "%s (%s)", OBJ_nid2ln(nid), oid);
        else
            snprintf(buf, len, "%s", oid);
        return;
    }
}

/*
 * The certificate at the top of what was uploaded names an issuer that
 * neither the upload nor the anchors hold: most often an intermediate
 * uploaded without its root (docs/DESIGN.md "Trust, CRLs and time").  Says
 * what is missing and where it goes, on the field the admin can fix.
 */
static void
missing_issuer(const struct verr *v, int chain_given, struct cv_report *rep)
{
    char name[256], issuer[512];
    const char *what;

    if (cv_cert_cn(v->cert, name, sizeof(name)) != 0)
        cv_name_text(X509_get_subject_name(v->cert), name, sizeof(name));
    cv_name_text(X509_get_issuer_name(v->cert), issuer, sizeof(issuer));
    what = X509_check_ca(v->cert) ? "the root CA" : "the CA";
    cv_report_add(rep, CV_CHAIN_UNTRUSTED, chain_given ? "chain" : "crt",
        "%s that issued '%s' (issuer: %s) is not known to this appliance: "
        "add it to the chain file, or to the enterprise roots", what, name,
        issuer);
}

/* Maps one OpenSSL verify error to our finding. */
static void
map_error(const struct verr *v, int chain_given, struct cv_report *rep)
{
    char label[256], when[32], ext[256];
    const char *reason = X509_verify_cert_error_string(v->err);
    const char *field = v->depth == 0 ? "crt" : "chain";

    label[0] = '\0';
    if (v->cert != NULL)
        cv_cert_label(v->cert, label, sizeof(label));
    switch (v->err) {
    case X509_V_ERR_CERT_HAS_EXPIRED:
        if (v->depth == 0)
            return;     /* the leaf's own time is checks.c's */
        cv_time_iso(cv_asn1_time(X509_get0_notAfter(v->cert)), when,
            sizeof(when));
        cv_report_add(rep, CV_EXPIRED, "chain", "the CA certificate %s "
            "expired on %s", label, when);
        return;
    case X509_V_ERR_CERT_NOT_YET_VALID:
        if (v->depth == 0)
            return;
        cv_time_iso(cv_asn1_time(X509_get0_notBefore(v->cert)), when,
            sizeof(when));
        cv_report_add(rep, CV_NOT_YET_VALID, "chain", "the CA certificate "
            "%s is valid from %s", label, when);
        return;
    case X509_V_ERR_INVALID_PURPOSE:
        if (v->depth == 0) {
            cv_report_add(rep, CV_NOT_SERVER_CERT, "crt", "%s", reason);
            return;
        }
        break;
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
    case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
        if (v->cert != NULL) {
            missing_issuer(v, chain_given, rep);
            return;
        }
        break;
    case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
    case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
    case X509_V_ERR_CERT_SIGNATURE_FAILURE:
    case X509_V_ERR_UNABLE_TO_DECRYPT_CERT_SIGNATURE:
    case X509_V_ERR_UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY:
    case X509_V_ERR_CERT_UNTRUSTED:
    case X509_V_ERR_CERT_REJECTED:
    case X509_V_ERR_INVALID_CA:
    case X509_V_ERR_PATH_LENGTH_EXCEEDED:
    case X509_V_ERR_KEYUSAGE_NO_CERTSIGN:
    case X509_V_ERR_CERT_CHAIN_TOO_LONG:
    case X509_V_ERR_SUBJECT_ISSUER_MISMATCH:
    case X509_V_ERR_AKID_SKID_MISMATCH:
    case X509_V_ERR_AKID_ISSUER_SERIAL_MISMATCH:
        break;
    case X509_V_ERR_UNABLE_TO_GET_CRL:
        return;         /* CRLs are crl.c's */
    case X509_V_ERR_PERMITTED_VIOLATION:
    case X509_V_ERR_EXCLUDED_VIOLATION:
    case X509_V_ERR_SUBTREE_MINMAX:
    case X509_V_ERR_UNSUPPORTED_CONSTRAINT_TYPE:
    case X509_V_ERR_UNSUPPORTED_CONSTRAINT_SYNTAX:
    case X509_V_ERR_UNSUPPORTED_NAME_SYNTAX:
        cv_report_add(rep, CV_NAME_CONSTRAINTS, field, "%s (%s)", reason,
            label);
        return;
    case X509_V_ERR_INVALID_POLICY_EXTENSION:
    case X509_V_ERR_NO_EXPLICIT_POLICY:
        cv_report_add(rep, CV_POLICY, field, "%s (%s)", reason, label);
        return;
    case X509_V_ERR_MISSING_AUTHORITY_KEY_IDENTIFIER:
    case X509_V_ERR_MISSING_SUBJECT_KEY_IDENTIFIER:
        cv_report_add(rep, CV_MISSING_KEY_IDENTIFIER, field, "%s (%s)",
            reason, label);
        return;
    /* RFC 5280's rules that X509_V_FLAG_X509_STRICT checks */
    case X509_V_ERR_INVALID_EXTENSION:
    case X509_V_ERR_ERROR_IN_CERT_NOT_BEFORE_FIELD:
    case X509_V_ERR_ERROR_IN_CERT_NOT_AFTER_FIELD:
    case X509_V_ERR_CA_BCONS_NOT_CRITICAL:
    case X509_V_ERR_CA_CERT_MISSING_KEY_USAGE:
    case X509_V_ERR_EXTENSIONS_REQUIRE_VERSION_3:
    case X509_V_ERR_KU_KEY_CERT_SIGN_INVALID_FOR_NON_CA:
    case X509_V_ERR_ISSUER_NAME_EMPTY:
    case X509_V_ERR_SUBJECT_NAME_EMPTY:
    case X509_V_ERR_EMPTY_SUBJECT_ALT_NAME:
    case X509_V_ERR_EMPTY_SUBJECT_SAN_NOT_CRITICAL:
    case X509_V_ERR_AUTHORITY_KEY_IDENTIFIER_CRITICAL:
    case X509_V_ERR_SUBJECT_KEY_IDENTIFIER_CRITICAL:
    case X509_V_ERR_PATHLEN_INVALID_FOR_NON_CA:
    case X509_V_ERR_PATHLEN_WITHOUT_KU_KEY_CERT_SIGN:
    case X509_V_ERR_SIGNATURE_ALGORITHM_MISMATCH:
    case X509_V_ERR_SIGNATURE_ALGORITHM_INCONSISTENCY:
        cv_report_add(rep, CV_MALFORMED_CERTIFICATE, field, "%s (%s)",
            reason, label);
        return;
    case X509_V_ERR_CA_KEY_TOO_SMALL:
    case X509_V_ERR_EE_KEY_TOO_SMALL:
    case X509_V_ERR_EC_KEY_EXPLICIT_PARAMS:
        cv_report_add(rep, CV_WEAK_KEY, field, "%s (%s)", reason, label);
        return;
    case X509_V_ERR_UNHANDLED_CRITICAL_EXTENSION:
        unhandled_ext(v->cert, ext, sizeof(ext));
        cv_report_add(rep, CV_UNHANDLED_CRITICAL_EXTENSION, field,
            "%s of %s is critical and not processed", ext, label);
        return;
    default:
        /* anything else is not a rule of ours: the engine's failure */
        cv_report_add(rep, CV_VALIDATION_FAILED, field, "%s (%s)", reason,
            label);
        return;
    }
    cv_report_add(rep, CV_CHAIN_UNTRUSTED, field, "%s (%s)", reason, label);
}

static int
policy_id_cmp(const POLICYINFO *const *a, const POLICYINFO *const *b)
{
    return OBJ_cmp((*a)->policyid, (*b)->policyid);
}

/*
 * Why x's policyConstraints extension cannot be processed, or NULL: it has
 * one that decodes, and its certificatePolicies is absent, empty or names a
 * policy twice.  OpenSSL 3.0's policy cache (pcy_cache.c) loses the decoded
 * policyConstraints on exactly these certificates, once for every parsed
 * certificate: a leak an upload could repeat at will.  So such a path is
 * verified without policy processing and refused by this finding instead
 * (docs/DESIGN.md, "Certificate policies").  Sorting makes the duplicate
 * search O(n log n) for a certificate of any size.
 */
static const char *
pcons_unprocessable(X509 *x, char *buf, size_t len)
{
    POLICY_CONSTRAINTS *pc;
    CERTIFICATEPOLICIES *cp;
    const char *why = NULL;
    char oid[80];
    int i, crit;

    if ((pc = X509_get_ext_d2i(x, NID_policy_constraints, NULL,
        NULL)) == NULL)
        return NULL;            /* absent, or OpenSSL's own finding */
    POLICY_CONSTRAINTS_free(pc);
    cp = X509_get_ext_d2i(x, NID_certificate_policies, &crit, NULL);
    if (cp == NULL)
        return crit == -1 ? "its policyConstraints extension comes without "
            "a certificatePolicies extension" : NULL;
    if (sk_POLICYINFO_num(cp) == 0)
        why = "its certificatePolicies extension is empty";
    (void)sk_POLICYINFO_set_cmp_func(cp, policy_id_cmp);
    sk_POLICYINFO_sort(cp);
    for (i = 1; why == NULL && i < sk_POLICYINFO_num(cp); i++) {
        const ASN1_OBJECT *o = sk_POLICYINFO_value(cp, i)->policyid;

        if (OBJ_cmp(sk_POLICYINFO_value(cp, i - 1)->policyid, o) != 0)
            continue;
        if (OBJ_obj2txt(oid, sizeof(oid), o, 1) <= 0)
            snprintf(oid, sizeof(oid), "a policy");
        snprintf(buf, len, "its certificatePolicies extension names %s "
            "twice", oid);
        why = buf;
    }
    sk_POLICYINFO_pop_free(cp, POLICYINFO_free);
    return why;
}

/*
 * The number of certificates among the leaf and the upload whose
 * policyConstraints cannot be processed; each is a finding when rep is
 * not NULL.
 */
static int
pcons_findings(X509 *leaf, STACK_OF(X509) *upload, struct cv_report *rep)
{
    char label[256], buf[160];
    const char *why;
    X509 *x;
    int i, n = 0;

    for (i = -1; i < sk_X509_num(upload); i++) {
        x = i < 0 ? leaf : sk_X509_value(upload, i);
        if (i >= 0 && is_self_signed_ca(x))
            continue;           /* an anchor: its policies are not read */
        if ((why = pcons_unprocessable(x, buf, sizeof(buf))) == NULL)
            continue;
        n++;
        if (rep == NULL)
            continue;
        cv_cert_label(x, label, sizeof(label));
        cv_report_add(rep, CV_POLICY, i < 0 ? "crt" : "chain", "%s: %s, "
            "so its policies cannot be processed", label, why);
    }
    return n;
}

X509_STORE_CTX *
cv_chain_vctx(struct cv_ctx *ctx, X509 *leaf, STACK_OF(X509) *upload,
    time_t at, struct cv_report *rep, STACK_OF(X509) **trustedp)
{
    X509_STORE_CTX *vctx = NULL;
    X509_VERIFY_PARAM *param;
    STACK_OF(X509) *trusted = NULL;
    int i;

    *trustedp = NULL;
    if ((vctx = X509_STORE_CTX_new()) == NULL ||
        !X509_STORE_CTX_init(vctx, ctx->store, leaf, upload))
        goto fail;
    /* self-signed CAs of the upload are anchors too (docs/DESIGN.md "Trust,
     * CRLs and time") */
    for (i = 0; i < sk_X509_num(upload); i++) {
        X509 *x = sk_X509_value(upload, i);

        if (!is_self_signed_ca(x))
            continue;
        if (trusted == NULL &&
            (trusted = sk_X509_dup(ctx->anchors)) == NULL)
            goto fail;
        if (!sk_X509_push(trusted, x))
            goto fail;
    }
    if (trusted != NULL)
        X509_STORE_CTX_set0_trusted_stack(vctx, trusted);
    param = X509_STORE_CTX_get0_param(vctx);
    X509_VERIFY_PARAM_set_time(param, at);
    /*
     * Policies checked from the any-policy initial set (RFC 5280 6.1.1).
     * PARTIAL_CHAIN: a configured anchor need not be self-signed (an
     * enterprise intermediate); the trusted set holds only the configured
     * anchors and the upload's self-signed CAs, so an uploaded
     * intermediate never becomes one.
     */
    X509_VERIFY_PARAM_set_flags(param, X509_V_FLAG_X509_STRICT |
        X509_V_FLAG_PARTIAL_CHAIN);
    if (pcons_findings(leaf, upload, rep) == 0)
        X509_VERIFY_PARAM_set_flags(param, X509_V_FLAG_POLICY_CHECK);
    X509_VERIFY_PARAM_set_purpose(param, X509_PURPOSE_SSL_SERVER);
    *trustedp = trusted;
    return vctx;
fail:
    X509_STORE_CTX_free(vctx);
    sk_X509_free(trusted);
    return NULL;
}

void
cv_chain_verify(struct cv_ctx *ctx, X509 *leaf, STACK_OF(X509) *upload,
    int chain_given, time_t at, struct cv_report *rep, STACK_OF(X509) **pathp)
{
    X509_STORE_CTX *vctx = NULL;
    STACK_OF(X509) *trusted = NULL;
    struct vstate st;
    int i;

    *pathp = NULL;
    memset(&st, 0, sizeof(st));
    st.at = at;
    if ((vctx = cv_chain_vctx(ctx, leaf, upload, at, rep,
        &trusted)) == NULL) {
        cv_report_add(rep, CV_VALIDATION_FAILED, "crt", "out of memory");
        goto out;
    }
    X509_STORE_CTX_set_verify_cb(vctx, verify_cb);
    X509_STORE_CTX_set_app_data(vctx, &st);
    if (X509_verify_cert(vctx) < 0 && st.n == 0) {
        char d[CV_DETAIL_MAX];

        cv_ossl_detail(d, sizeof(d));
        cv_report_add(rep, CV_VALIDATION_FAILED, "crt", "%s", d);
    }
    for (i = 0; i < st.n; i++)
        map_error(&st.e[i], chain_given, rep);
    *pathp = X509_STORE_CTX_get1_chain(vctx);
out:
    ERR_clear_error();
    X509_STORE_CTX_free(vctx);
    sk_X509_free(trusted);
}

void
cv_chain_extra(STACK_OF(X509) *upload, STACK_OF(X509) *path,
    struct cv_report *rep)
{
    char label[256];
    int i, j, found;

    for (i = 0; i < sk_X509_num(upload); i++) {
        X509 *x = sk_X509_value(upload, i);

        found = 0;
        for (j = 0; j < sk_X509_num(path) && !found; j++)
            found = X509_cmp(x, sk_X509_value(path, j)) == 0;
        if (found)
            continue;
        cv_cert_label(x, label, sizeof(label));
        cv_report_add(rep, CV_CHAIN_EXTRA, "chain", "not on the path: %s",
            label);
    }
}
