/*
 * load.c - reading keys, certificates and chains in the formats of
 * docs/API.md "Upload fields", telling unreadable input from a wrong
 * passphrase.
 */
#include "config.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/pkcs7.h>
#include <openssl/x509.h>

#include "cv.h"
#include "cv_int.h"

struct pw {
    const char *pass;           /* NUL-terminated or NULL */
};

/* Never prompts: gives the uploaded passphrase or fails. */
static int
pw_cb(char *buf, int size, int rwflag, void *u)
{
    const struct pw *pw = u;
    size_t n;

    (void)rwflag;
    if (pw == NULL || pw->pass == NULL)
        return -1;
    n = strlen(pw->pass);
    if (n > (size_t)size)
        return -1;
    memcpy(buf, pw->pass, n);
    return (int)n;
}

static int
has(const uint8_t *buf, size_t len, const char *s)
{
    return memmem(buf, len, s, strlen(s)) != NULL;
}

static void
set_detail(char *detail, size_t dlen, const char *what)
{
    char ossl[CV_DETAIL_MAX];

    cv_ossl_detail(ossl, sizeof(ossl));
    if (ossl[0] != '\0')
        snprintf(detail, dlen, "%s (%s)", what, ossl);
    else
        snprintf(detail, dlen, "%s", what);
}

/*
 * The key derivation rounds an EncryptedPrivateKeyInfo asks for (PBES2 with
 * PBKDF2, or a PKCS#5 v1 / PKCS#12 PBE); 0 when it names none we know,
 * LONG_MAX when the count does not fit.
 */
static long
p8_iter(const X509_SIG *sig)
{
    const X509_ALGOR *alg = NULL, *kf;
    const ASN1_OBJECT *obj;
    const void *pval;
    const ASN1_TYPE *t;
    PBE2PARAM *p2 = NULL;
    PBKDF2PARAM *kdf = NULL;
    PBEPARAM *pbe = NULL;
    long iter = 0;
    int ptype;

    X509_SIG_get0(sig, &alg, NULL);
    X509_ALGOR_get0(&obj, &ptype, &pval, alg);
    if (ptype != V_ASN1_SEQUENCE)
        return 0;
    t = alg->parameter;
    if (OBJ_obj2nid(obj) == NID_pbes2) {
        if ((p2 = ASN1_TYPE_unpack_sequence(ASN1_ITEM_rptr(PBE2PARAM),
            t)) != NULL && (kf = p2->keyfunc) != NULL &&
            OBJ_obj2nid(kf->algorithm) == NID_id_pbkdf2 &&
            (kdf = ASN1_TYPE_unpack_sequence(ASN1_ITEM_rptr(PBKDF2PARAM),
            kf->parameter)) != NULL)
            iter = ASN1_INTEGER_get(kdf->iter);
    } else if ((pbe = ASN1_TYPE_unpack_sequence(ASN1_ITEM_rptr(PBEPARAM),
        t)) != NULL)
        iter = ASN1_INTEGER_get(pbe->iter);
    PBE2PARAM_free(p2);
    PBKDF2PARAM_free(kdf);
    PBEPARAM_free(pbe);
    ERR_clear_error();
    return iter < 0 ? LONG_MAX : iter;
}

/* CV_OK, or CV_UNREADABLE_KEY when the key asks for too many rounds. */
static enum cv_code
p8_iter_ok(const X509_SIG *sig, char *detail, size_t dlen)
{
    long iter = p8_iter(sig);

    if (iter <= CV_MAX_KDF_ITER)
        return CV_OK;
    snprintf(detail, dlen, "the key's encryption asks for %s%ld key "
        "derivation rounds; at most %ld are accepted", iter == LONG_MAX ?
        "more than " : "", iter == LONG_MAX ? CV_MAX_KDF_ITER : iter,
        CV_MAX_KDF_ITER);
    return CV_UNREADABLE_KEY;
}

static enum cv_code
key_from_der(const uint8_t *buf, size_t len, const char *pass, EVP_PKEY **keyp,
    char *detail, size_t dlen)
{
    const unsigned char *p = buf;
    X509_SIG *p8 = NULL;
    PKCS8_PRIV_KEY_INFO *inf = NULL;
    enum cv_code rc = CV_UNREADABLE_KEY;

    if ((*keyp = d2i_AutoPrivateKey(NULL, &p, (long)len)) != NULL) {
        ERR_clear_error();
        return CV_OK;
    }
    ERR_clear_error();
    p = buf;
    if ((p8 = d2i_X509_SIG(NULL, &p, (long)len)) == NULL) {
        set_detail(detail, dlen, "not a private key in PEM or DER form");
        goto out;
    }
    if ((rc = p8_iter_ok(p8, detail, dlen)) != CV_OK)
        goto out;
    rc = CV_PASSPHRASE_MISMATCH;
    if (pass == NULL) {
        snprintf(detail, dlen, "the key is encrypted and no passphrase "
            "was given");
        goto out;
    }
    if ((inf = PKCS8_decrypt(p8, pass, (int)strlen(pass))) == NULL ||
        (*keyp = EVP_PKCS82PKEY(inf)) == NULL) {
        set_detail(detail, dlen, "the key cannot be decrypted");
        goto out;
    }
    rc = CV_OK;
out:
    X509_SIG_free(p8);
    PKCS8_PRIV_KEY_INFO_free(inf);
    return rc;
}

/*
 * 1 when the first PEM block of an encrypted key decodes (base64, and for
 * PKCS#8 the EncryptedPrivateKeyInfo structure): a failure to decrypt it is
 * then the passphrase's, not a damaged file's.  *itercode is CV_OK, or
 * CV_UNREADABLE_KEY (detail filled) when it asks for too many rounds.
 */
static int
pem_block_sound(const uint8_t *buf, size_t len, enum cv_code *itercode,
    char *detail, size_t dlen)
{
    BIO *bio = BIO_new_mem_buf(buf, (int)len);
    char *name = NULL, *header = NULL;
    unsigned char *data = NULL;
    const unsigned char *p;
    long n = 0;
    int ok = 0;
    X509_SIG *sig;

    *itercode = CV_OK;
    if (bio != NULL && PEM_read_bio(bio, &name, &header, &data, &n) == 1 &&
        n > 0) {
        if (strcmp(name, "ENCRYPTED PRIVATE KEY") == 0) {
            p = data;
            if ((sig = d2i_X509_SIG(NULL, &p, n)) != NULL &&
                p == data + n) {
                ok = 1;
                *itercode = p8_iter_ok(sig, detail, dlen);
            }
            X509_SIG_free(sig);
        } else
            ok = 1;     /* legacy: only the decryption can tell */
    }
    ERR_clear_error();
    OPENSSL_free(name);
    OPENSSL_free(header);
    OPENSSL_clear_free(data, n > 0 ? (size_t)n : 0);
    BIO_free(bio);
    return ok;
}

/*
 * A PEM key through ctx's decoder, made on first use and kept; NULL when
 * it cannot read it (the caller then asks PEM_read_bio_PrivateKey(),
 * which also looks past other PEM blocks and knows legacy formats).  The
 * password callback is dropped after each use, with any cached copy.
 */
static EVP_PKEY *
pem_key_reused_decoder(struct cv_ctx *ctx, const uint8_t *buf, size_t len,
    struct pw *pw)
{
    EVP_PKEY *k = NULL;
    BIO *bio;

    if (ctx->key_dec == NULL && (ctx->key_dec =
        OSSL_DECODER_CTX_new_for_pkey(&ctx->key_dec_out, "PEM", NULL, NULL,
        EVP_PKEY_KEYPAIR, NULL, NULL)) == NULL)
        goto out;
    if ((bio = BIO_new_mem_buf(buf, (int)len)) == NULL)
        goto out;
    ctx->key_dec_out = NULL;
    if (OSSL_DECODER_CTX_set_pem_password_cb(ctx->key_dec, pw_cb, pw) &&
        OSSL_DECODER_from_bio(ctx->key_dec, bio))
        k = ctx->key_dec_out;
    else
        EVP_PKEY_free(ctx->key_dec_out);
    ctx->key_dec_out = NULL;
    OSSL_DECODER_CTX_set_pem_password_cb(ctx->key_dec, NULL, NULL);
    BIO_free(bio);
out:
    ERR_clear_error();
    return k;
}

enum cv_code
cv_key_load(struct cv_ctx *ctx, const uint8_t *buf, size_t len,
    const char *pass, EVP_PKEY **keyp, char *detail, size_t dlen)
{
    enum cv_code rc = CV_UNREADABLE_KEY, itercode = CV_OK;
    struct pw pw = { pass };
    BIO *bio = NULL;
    int encrypted, sound = 0;

    *keyp = NULL;
    detail[0] = '\0';
    cv_skip_bom(&buf, &len);
    if (len == 0) {
        snprintf(detail, dlen, "the file is empty");
        return CV_UNREADABLE_KEY;
    }
    if (!cv_is_pem(buf, len))
        return key_from_der(buf, len, pass, keyp, detail, dlen);

    if (!has(buf, len, "PRIVATE KEY-----")) {
        snprintf(detail, dlen, "%s", has(buf, len, "CERTIFICATE-----") ?
            "the file holds a certificate, not a private key" :
            "no PEM private key block found");
        return CV_UNREADABLE_KEY;
    }
    encrypted = has(buf, len, "ENCRYPTED");
    if (encrypted && pass == NULL) {
        snprintf(detail, dlen, "the key is encrypted and no passphrase "
            "was given");
        return CV_PASSPHRASE_MISMATCH;
    }
    if (encrypted) {
        sound = pem_block_sound(buf, len, &itercode, detail, dlen);
        if (itercode != CV_OK)
            return itercode;
    }
    if (ctx != NULL &&
        (*keyp = pem_key_reused_decoder(ctx, buf, len, &pw)) != NULL)
        return CV_OK;
    if ((bio = BIO_new_mem_buf(buf, (int)len)) == NULL)
        return CV_VALIDATION_FAILED;
    *keyp = PEM_read_bio_PrivateKey(bio, NULL, pw_cb, &pw);
    if (*keyp != NULL) {
        rc = CV_OK;
        ERR_clear_error();
    } else if (encrypted && sound) {
        rc = CV_PASSPHRASE_MISMATCH;
        set_detail(detail, dlen, "the key cannot be decrypted with this "
            "passphrase");
    } else if (encrypted)
        set_detail(detail, dlen, "the encrypted PEM private key is damaged "
            "(cut short or altered)");
    else
        set_detail(detail, dlen, "the PEM private key cannot be decoded");
    BIO_free(bio);
    return rc;
}

/* Adds the certificates of a signed PKCS#7 to out; 0 when there are none. */
static int
p7_certs(PKCS7 *p7, STACK_OF(X509) *out)
{
    STACK_OF(X509) *certs = NULL;
    X509 *x;
    int i, n = 0;

    if (p7 == NULL || !PKCS7_type_is_signed(p7) || p7->d.sign == NULL)
        return 0;
    certs = p7->d.sign->cert;
    for (i = 0; i < sk_X509_num(certs); i++) {
        x = sk_X509_value(certs, i);
        if (!X509_up_ref(x))
            continue;
        if (!sk_X509_push(out, x))
            X509_free(x);
        else
            n++;
    }
    return n;
}

/*
 * Every certificate of a buffer (PEM blocks with any text between them, a
 * DER certificate, or PKCS#7) appended to out.  Returns the number read,
 * -1 when a PEM certificate block is damaged (detail says why).
 */
static int
read_certs(const uint8_t *buf, size_t len, STACK_OF(X509) *out,
    char *detail, size_t dlen)
{
    const unsigned char *p = buf;
    BIO *bio = NULL;
    PKCS7 *p7 = NULL;
    X509 *x = NULL;
    unsigned long e;
    int n = 0;

    if (!cv_is_pem(buf, len)) {
        if ((x = d2i_X509(NULL, &p, (long)len)) != NULL) {
            if (sk_X509_push(out, x))
                return 1;
            X509_free(x);
            return 0;
        }
        p = buf;
        if ((p7 = d2i_PKCS7(NULL, &p, (long)len)) != NULL)
            n = p7_certs(p7, out);
        PKCS7_free(p7);
        ERR_clear_error();
        return n;
    }
    if ((bio = BIO_new_mem_buf(buf, (int)len)) == NULL)
        return 0;
    while ((x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL) {
        if (!sk_X509_push(out, x)) {
            X509_free(x);
            break;
        }
        n++;
    }
    e = ERR_peek_last_error();
    if (ERR_GET_LIB(e) == ERR_LIB_PEM &&
        ERR_GET_REASON(e) == PEM_R_NO_START_LINE)
        ERR_clear_error();
    else if (e != 0) {
        set_detail(detail, dlen, "a PEM certificate block is damaged");
        n = -1;
    }
    if (n == 0 && has(buf, len, "BEGIN PKCS7")) {
        BIO_free(bio);
        if ((bio = BIO_new_mem_buf(buf, (int)len)) != NULL &&
            (p7 = PEM_read_bio_PKCS7(bio, NULL, NULL, NULL)) != NULL)
            n = p7_certs(p7, out);
        PKCS7_free(p7);
        ERR_clear_error();
    }
    BIO_free(bio);
    return n;
}

static enum cv_code
crt_from_p12(const uint8_t *buf, size_t len, const char *pass, X509 **leafp,
    STACK_OF(X509) **extrap, EVP_PKEY **p12keyp, char *detail, size_t dlen,
    int *is_p12)
{
    const unsigned char *p = buf;
    PKCS12 *p12 = NULL;
    enum cv_code rc = CV_UNREADABLE_CRT;

    *is_p12 = 0;
    if ((p12 = d2i_PKCS12(NULL, &p, (long)len)) == NULL) {
        ERR_clear_error();
        return CV_UNREADABLE_CRT;
    }
    *is_p12 = 1;
    if (PKCS12_mac_present(p12)) {
        const ASN1_INTEGER *it = NULL;
        long iter;

        PKCS12_get0_mac(NULL, NULL, NULL, &it, p12);
        iter = it != NULL ? ASN1_INTEGER_get(it) : 1;
        if (iter < 0 || iter > CV_MAX_KDF_ITER) {
            snprintf(detail, dlen, "the PKCS#12 file asks for more than "
                "%ld key derivation rounds", CV_MAX_KDF_ITER);
            goto out;
        }
    }
    if (PKCS12_mac_present(p12) &&
        !PKCS12_verify_mac(p12, pass, pass ? -1 : 0) &&
        !(pass == NULL && PKCS12_verify_mac(p12, "", 0))) {
        ERR_clear_error();
        snprintf(detail, dlen, "%s", pass == NULL ?
            "the PKCS#12 file is protected and no passphrase was given" :
            "the PKCS#12 file's integrity check fails with this passphrase");
        rc = CV_PASSPHRASE_MISMATCH;
        goto out;
    }
    if (!PKCS12_parse(p12, pass, p12keyp, leafp, extrap) || *leafp == NULL) {
        set_detail(detail, dlen, "the PKCS#12 file holds no readable "
            "certificate");
        goto out;
    }
    rc = CV_OK;
out:
    PKCS12_free(p12);
    return rc;
}

enum cv_code
cv_crt_load(const uint8_t *buf, size_t len, const char *pass, X509 **leafp,
    STACK_OF(X509) **extrap, EVP_PKEY **p12keyp, char *detail, size_t dlen)
{
    STACK_OF(X509) *all = NULL;
    enum cv_code rc = CV_UNREADABLE_CRT;
    int n, is_p12;

    *leafp = NULL;
    *extrap = NULL;
    *p12keyp = NULL;
    detail[0] = '\0';
    cv_skip_bom(&buf, &len);
    if (len == 0) {
        snprintf(detail, dlen, "the file is empty");
        return CV_UNREADABLE_CRT;
    }
    if (!cv_is_pem(buf, len)) {
        rc = crt_from_p12(buf, len, pass, leafp, extrap, p12keyp, detail,
            dlen, &is_p12);
        if (is_p12)
            return rc;
    }
    if ((all = sk_X509_new_null()) == NULL)
        return CV_VALIDATION_FAILED;
    n = read_certs(buf, len, all, detail, dlen);
    if (n <= 0) {
        if (detail[0] == '\0')
            snprintf(detail, dlen, "%s", has(buf, len, "PRIVATE KEY") ?
                "the file holds a private key, not a certificate" :
                "no certificate found (PEM, DER, PKCS#7 or PKCS#12)");
        sk_X509_pop_free(all, X509_free);
        return CV_UNREADABLE_CRT;
    }
    *leafp = sk_X509_shift(all);
    *extrap = all;
    return CV_OK;
}

enum cv_code
cv_chain_load(const uint8_t *buf, size_t len, STACK_OF(X509) **chainp,
    char *detail, size_t dlen)
{
    STACK_OF(X509) *all = NULL;
    int n;

    *chainp = NULL;
    detail[0] = '\0';
    cv_skip_bom(&buf, &len);
    if ((all = sk_X509_new_null()) == NULL)
        return CV_VALIDATION_FAILED;
    n = read_certs(buf, len, all, detail, dlen);
    if (n <= 0) {
        if (detail[0] == '\0')
            snprintf(detail, dlen, "%s", len == 0 ? "the file is empty" :
                "no certificate found: expected PEM certificates");
        sk_X509_pop_free(all, X509_free);
        return CV_UNREADABLE_CHAIN;
    }
    *chainp = all;
    return CV_OK;
}
