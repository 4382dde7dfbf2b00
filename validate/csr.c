/*
 * csr.c - a certificate signing request read and judged the way the
 * vendor's "openssl req -text -noout -verify" step does, plus the rules a
 * certificate made from it must meet here (docs/API.md "Signing request"):
 * its self-signature, the subject's C, O, OU and CN, the key rules.
 */
#include "config.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "cv.h"
#include "cv_int.h"

#define CSR_MAX_DER     (64u * 1024)

/* PEM ("CERTIFICATE REQUEST" or "NEW CERTIFICATE REQUEST") or DER. */
static X509_REQ *
read_req(const uint8_t *buf, size_t len)
{
    const unsigned char *p;
    X509_REQ *rq = NULL;
    BIO *b;

    cv_skip_bom(&buf, &len);
    if (len == 0 || len > CSR_MAX_DER * 2)
        return NULL;
    if (cv_is_pem(buf, len)) {
        if ((b = BIO_new_mem_buf(buf, (int)len)) != NULL)
            rq = PEM_read_bio_X509_REQ(b, NULL, NULL, NULL);
        BIO_free(b);
    } else if (len <= CSR_MAX_DER) {
        p = buf;
        rq = d2i_X509_REQ(NULL, &p, (long)len);
        if (rq != NULL && p != buf + len) {     /* trailing bytes */
            X509_REQ_free(rq);
            rq = NULL;
        }
    }
    ERR_clear_error();
    return rq;
}

static void
hex_digest(const unsigned char *md, unsigned int n, char *out, size_t len)
{
    size_t off = 0;
    unsigned int i;

    out[0] = '\0';
    for (i = 0; i < n && off + 3 < len; i++)
        off += (size_t)snprintf(out + off, len - off, "%s%02X",
            i ? ":" : "", md[i]);
}

static void
fill(X509_REQ *rq, struct cv_csr_summary *s)
{
    static const struct {
        int nid;
        size_t off;
    } attrs[] = {
        { NID_commonName, offsetof(struct cv_csr_summary, cn) },
        { NID_organizationName, offsetof(struct cv_csr_summary, o) },
        { NID_organizationalUnitName, offsetof(struct cv_csr_summary, ou) },
        { NID_countryName, offsetof(struct cv_csr_summary, c) },
        { NID_stateOrProvinceName, offsetof(struct cv_csr_summary, st) },
        { NID_localityName, offsetof(struct cv_csr_summary, l) },
    };
    const X509_NAME *nm = X509_REQ_get_subject_name(rq);
    STACK_OF(X509_EXTENSION) *exts;
    GENERAL_NAMES *gens;
    EVP_PKEY *pk = X509_REQ_get0_pubkey(rq);
    unsigned char md[EVP_MAX_MD_SIZE], *der = NULL;
    unsigned int mdlen = 0;
    const char *t;
    size_t i;
    int n;

    s->valid = 1;
    cv_name_text(nm, s->subject, sizeof(s->subject));
    for (i = 0; i < sizeof(attrs) / sizeof(attrs[0]); i++)
        cv_name_get(nm, attrs[i].nid, (char *)s + attrs[i].off,
            CV_CSR_FIELD_MAX);
    if ((exts = X509_REQ_get_extensions(rq)) != NULL) {
        gens = X509V3_get_d2i(exts, NID_subject_alt_name, NULL, NULL);
        cv_san_list(gens, s->san, CV_MAX_LIST, &s->n_san);
        GENERAL_NAMES_free(gens);
        sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
    }
    if (pk != NULL) {
        t = EVP_PKEY_get0_type_name(pk);
        snprintf(s->key_type, sizeof(s->key_type), "%s", t ? t : "unknown");
        s->key_bits = EVP_PKEY_get_bits(pk);
        /* the public key's SHA-256 (SPKI), to match certificates with */
        if ((n = i2d_PUBKEY(pk, &der)) > 0 &&
            EVP_Digest(der, (size_t)n, md, &mdlen, EVP_sha256(), NULL))
            hex_digest(md, mdlen, s->key_sha256, sizeof(s->key_sha256));
        OPENSSL_free(der);
    }
    snprintf(s->signature_algorithm, sizeof(s->signature_algorithm), "%s",
        OBJ_nid2ln(X509_REQ_get_signature_nid(rq)));
    ERR_clear_error();
}

struct cv_report *
cv_csr_check(const uint8_t *buf, size_t len, int allow_ec,
    struct cv_csr_summary *s)
{
    struct cv_report *rep;
    X509_REQ *rq;
    EVP_PKEY *pk;
    char detail[256];

    memset(s, 0, sizeof(*s));
    if ((rep = cv_report_new()) == NULL)
        return NULL;
    if ((rq = read_req(buf, len)) == NULL) {
        cv_report_add(rep, CV_UNREADABLE_CSR, "csr", NULL);
        return rep;
    }
    fill(rq, s);
    if ((pk = X509_REQ_get0_pubkey(rq)) == NULL ||
        X509_REQ_verify(rq, pk) != 1) {
        cv_ossl_detail(detail, sizeof(detail));
        cv_report_add(rep, CV_CSR_SIGNATURE, "csr", "%s", detail[0] ?
            detail : "the signature does not match the request's key");
    }
    cv_checks_key(pk, "csr", allow_ec, rep);
    cv_checks_subject(X509_REQ_get_subject_name(rq), "csr", rep);
    X509_REQ_free(rq);
    return rep;
}
