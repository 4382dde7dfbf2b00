/*
 * load.c - reading keys, certificates and chains in the formats of
 * docs/API.md "Upload fields", telling unreadable input from a wrong
 * passphrase.
 */
#include "config.h"

#include <stdint.h>
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
 * What one password-based key derivation costs, in rounds: PBKDF2's or a
 * PKCS#5 v1 / PKCS#12 PBE's iteration count, scrypt's N * r * p (about as
 * dear per unit as a PBKDF2 round).  Everything OpenSSL derives a key
 * from an upload with is priced by kdf_charge() before it runs.
 */
struct kdf {
    uint64_t left;              /* rounds the file may still spend */
    const char *what;           /* "the key's encryption", ... */
    int scrypt;                 /* the last price was scrypt's */
};

/* An INTEGER that must fit; UINT64_MAX when negative or too large. */
static uint64_t
int_u64(const ASN1_INTEGER *ai)
{
    uint64_t v;

    if (ai == NULL || !ASN1_INTEGER_get_uint64(&v, ai))
        return UINT64_MAX;
    return v;
}

/* scrypt's N * r * p, UINT64_MAX when it does not fit. */
static uint64_t
scrypt_cost(const SCRYPT_PARAMS *sp)
{
    uint64_t n = int_u64(sp->costParameter), r = int_u64(sp->blockSize);
    uint64_t p = int_u64(sp->parallelizationParameter);

    if (n == UINT64_MAX || r == UINT64_MAX || p == UINT64_MAX)
        return UINT64_MAX;
    if (r != 0 && n > UINT64_MAX / r)
        return UINT64_MAX;
    n *= r;
    if (p != 0 && n > UINT64_MAX / p)
        return UINT64_MAX;
    return n * p;
}

/*
 * The rounds the password-based encryption alg names (PBES2 with PBKDF2
 * or scrypt, PKCS#5 v1, PKCS#12 PBE); 0 for anything else, from which
 * OpenSSL derives nothing.  UINT64_MAX when a count does not fit.
 */
static uint64_t
kdf_price(const X509_ALGOR *alg, int *scryptp)
{
    const ASN1_OBJECT *obj;
    const void *pval;
    const ASN1_TYPE *t;
    const X509_ALGOR *kf;
    PBE2PARAM *p2 = NULL;
    PBKDF2PARAM *kdf = NULL;
    SCRYPT_PARAMS *sp = NULL;
    PBEPARAM *pbe = NULL;
    uint64_t cost = 0;
    int ptype;

    *scryptp = 0;
    if (alg == NULL)
        return 0;
    X509_ALGOR_get0(&obj, &ptype, &pval, alg);
    if (ptype != V_ASN1_SEQUENCE)
        return 0;
    t = alg->parameter;
    if (OBJ_obj2nid(obj) == NID_pbes2) {
        if ((p2 = ASN1_TYPE_unpack_sequence(ASN1_ITEM_rptr(PBE2PARAM),
            t)) == NULL || (kf = p2->keyfunc) == NULL)
            goto out;
        if (OBJ_obj2nid(kf->algorithm) == NID_id_pbkdf2 &&
            (kdf = ASN1_TYPE_unpack_sequence(ASN1_ITEM_rptr(PBKDF2PARAM),
            kf->parameter)) != NULL)
            cost = int_u64(kdf->iter);
        else if (OBJ_obj2nid(kf->algorithm) == NID_id_scrypt &&
            (sp = ASN1_TYPE_unpack_sequence(ASN1_ITEM_rptr(SCRYPT_PARAMS),
            kf->parameter)) != NULL) {
            cost = scrypt_cost(sp);
            *scryptp = 1;
        }
    } else if (EVP_PBE_find(EVP_PBE_TYPE_OUTER, OBJ_obj2nid(obj), NULL,
        NULL, NULL) && (pbe = ASN1_TYPE_unpack_sequence(
        ASN1_ITEM_rptr(PBEPARAM), t)) != NULL)
        cost = int_u64(pbe->iter);
out:
    PBE2PARAM_free(p2);
    PBKDF2PARAM_free(kdf);
    SCRYPT_PARAMS_free(sp);
    PBEPARAM_free(pbe);
    ERR_clear_error();
    return cost;
}

/*
 * Charges k for times derivations of cost rounds: 1, or 0 with detail
 * when one asks for more than CV_MAX_KDF_ITER or all of the file's
 * together for more than CV_MAX_KDF_TOTAL.
 */
static int
kdf_charge_rounds(struct kdf *k, uint64_t cost, int times, char *detail,
    size_t dlen)
{
    const char *unit = k->scrypt ? " scrypt work (N x r x p)" :
        " key derivation rounds";

    if (cost > (uint64_t)CV_MAX_KDF_ITER) {
        if (cost == UINT64_MAX)
            snprintf(detail, dlen, "%s asks for more than %ld%s; at most "
                "%ld are accepted", k->what, CV_MAX_KDF_ITER, unit,
                CV_MAX_KDF_ITER);
        else
            snprintf(detail, dlen, "%s asks for %llu%s; at most %ld are "
                "accepted", k->what, (unsigned long long)cost, unit,
                CV_MAX_KDF_ITER);
        return 0;
    }
    cost *= (uint64_t)times;
    if (cost > k->left) {
        snprintf(detail, dlen, "%s would bring the file's key derivation "
            "rounds over %ld in all", k->what, CV_MAX_KDF_TOTAL);
        return 0;
    }
    k->left -= cost;
    return 1;
}

/* kdf_charge_rounds() for the derivation an encryption algorithm names. */
static int
kdf_charge(struct kdf *k, const X509_ALGOR *alg, const char *what,
    char *detail, size_t dlen)
{
    uint64_t cost = kdf_price(alg, &k->scrypt);

    k->what = what;
    return kdf_charge_rounds(k, cost, 1, detail, dlen);
}

/* kdf_charge() for an EncryptedPrivateKeyInfo's encryption. */
static int
p8_charge(struct kdf *k, const X509_SIG *sig, const char *what,
    char *detail, size_t dlen)
{
    const X509_ALGOR *alg = NULL;

    X509_SIG_get0(sig, &alg, NULL);
    return kdf_charge(k, alg, what, detail, dlen);
}

/* A fresh budget for one file. */
static void
kdf_init(struct kdf *k)
{
    memset(k, 0, sizeof(*k));
    k->left = (uint64_t)CV_MAX_KDF_TOTAL;
}

static enum cv_code
key_from_der(const uint8_t *buf, size_t len, const char *pass, EVP_PKEY **keyp,
    char *detail, size_t dlen)
{
    const unsigned char *p = buf;
    X509_SIG *p8 = NULL;
    PKCS8_PRIV_KEY_INFO *inf = NULL;
    enum cv_code rc = CV_UNREADABLE_KEY;
    struct kdf k;

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
    kdf_init(&k);
    if (!p8_charge(&k, p8, "the key's encryption", detail, dlen))
        goto out;
    rc = CV_PASSPHRASE_MISMATCH;
    if (pass == NULL) {
        snprintf(detail, dlen, "the key is encrypted: enter its "
            "passphrase");
        goto out;
    }
    if ((inf = PKCS8_decrypt(p8, pass, (int)strlen(pass))) == NULL ||
        (*keyp = EVP_PKCS82PKEY(inf)) == NULL) {
        /* OpenSSL's reason ("pkcs12 cipherfinal error") helps nobody */
        snprintf(detail, dlen, "the passphrase does not open this key");
        ERR_clear_error();
        goto out;
    }
    rc = CV_OK;
out:
    X509_SIG_free(p8);
    PKCS8_PRIV_KEY_INFO_free(inf);
    return rc;
}

/* The PEM block a key is read from, found by pem_key_scan(). */
struct keyblock {
    size_t start, end;          /* its bytes in the buffer (text before it
                                   included); end 0: there is none */
    int encrypted;              /* PKCS#8 encrypted, or a Proc-Type:
                                   4,ENCRYPTED header */
    int sound;                  /* it decodes, so a failure to decrypt it is
                                   the passphrase's */
    int damaged;                /* reading stopped at a damaged block */
};

/* 1 for a PEM type that is a private key ("RSA PRIVATE KEY", ...). */
static int
is_key_type(const char *name)
{
    size_t n = strlen(name), k = strlen("PRIVATE KEY");

    return n >= k && strcmp(name + n - k, "PRIVATE KEY") == 0;
}

/*
 * Reads every PEM block of buf.  The derivation of each encrypted PKCS#8
 * block is priced before anything is decrypted (CV_UNREADABLE_KEY, detail
 * filled, when one asks too much), and the first private key block is the
 * one the key is read from: only its bytes go to OpenSSL's decoders, so
 * no other block is ever decrypted.
 */
static enum cv_code
pem_key_scan(const uint8_t *buf, size_t len, struct keyblock *kb,
    char *detail, size_t dlen)
{
    BIO *bio = BIO_new_mem_buf(buf, (int)len);
    char *name = NULL, *header = NULL;
    unsigned char *data = NULL;
    const unsigned char *p;
    enum cv_code rc = CV_OK;
    size_t pos = 0, end;
    long n = 0;
    X509_SIG *sig;
    struct kdf k;
    unsigned long e;
    int nblock = 0;

    memset(kb, 0, sizeof(*kb));
    kdf_init(&k);
    if (bio == NULL)
        return CV_VALIDATION_FAILED;
    /* each turn reads one block further into buf, or stops */
    while (PEM_read_bio(bio, &name, &header, &data, &n) == 1) {
        end = len - (size_t)BIO_pending(bio);
        nblock++;
        sig = NULL;
        if (strcmp(name, PEM_STRING_PKCS8) == 0 && n > 0) {
            p = data;
            if ((sig = d2i_X509_SIG(NULL, &p, n)) != NULL &&
                !p8_charge(&k, sig, nblock == 1 ? "the key's encryption" :
                "the encryption of a private key in the file", detail,
                dlen))
                rc = CV_UNREADABLE_KEY;
            if (kb->end == 0) {
                kb->encrypted = 1;
                kb->sound = sig != NULL && p == data + n;
            }
        } else if (is_key_type(name) && kb->end == 0) {
            kb->encrypted = header != NULL &&
                strstr(header, "ENCRYPTED") != NULL;
            kb->sound = 1;      /* legacy: only the decryption can tell */
        }
        if (is_key_type(name) && kb->end == 0) {
            kb->start = pos;
            kb->end = end;
        }
        X509_SIG_free(sig);
        OPENSSL_free(name);
        OPENSSL_free(header);
        OPENSSL_clear_free(data, n > 0 ? (size_t)n : 0);
        name = header = NULL;
        data = NULL;
        n = 0;
        if (rc != CV_OK || end <= pos)
            break;
        pos = end;
    }
    e = ERR_peek_last_error();
    kb->damaged = rc == CV_OK && !(ERR_GET_LIB(e) == ERR_LIB_PEM &&
        ERR_GET_REASON(e) == PEM_R_NO_START_LINE);
    ERR_clear_error();
    BIO_free(bio);
    return rc;
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
    enum cv_code rc;
    struct pw pw = { pass };
    struct keyblock kb;
    BIO *bio = NULL;

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
    if ((rc = pem_key_scan(buf, len, &kb, detail, dlen)) != CV_OK)
        return rc;
    if (kb.end == 0) {
        snprintf(detail, dlen, "%s", !kb.damaged ?
            "no PEM private key block found" :
            has(buf, len, "ENCRYPTED") ? "the encrypted PEM private key is "
            "damaged (cut short or altered)" : "the PEM private key cannot "
            "be decoded");
        return CV_UNREADABLE_KEY;
    }
    rc = CV_UNREADABLE_KEY;
    if (kb.encrypted && pass == NULL) {
        snprintf(detail, dlen, "the key is encrypted: enter its "
            "passphrase");
        return CV_PASSPHRASE_MISMATCH;
    }
    buf += kb.start;
    len = kb.end - kb.start;
    if (ctx != NULL &&
        (*keyp = pem_key_reused_decoder(ctx, buf, len, &pw)) != NULL)
        return CV_OK;
    if ((bio = BIO_new_mem_buf(buf, (int)len)) == NULL)
        return CV_VALIDATION_FAILED;
    *keyp = PEM_read_bio_PrivateKey(bio, NULL, pw_cb, &pw);
    if (*keyp != NULL) {
        rc = CV_OK;
        ERR_clear_error();
    } else if (kb.encrypted && kb.sound) {
        rc = CV_PASSPHRASE_MISMATCH;
        snprintf(detail, dlen, "the passphrase does not open this key");
        ERR_clear_error();
    } else if (kb.encrypted)
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

/*
 * Reading a PKCS#12 file as PKCS12_parse() does, but pricing every key
 * derivation before it runs: first all that can be seen without a key
 * (the MAC, each encrypted part, key bags in plain parts), then, once an
 * encrypted part is decrypted, the key bags found in it.
 */
struct p12 {
    const char *pass;           /* the one the MAC verified */
    int passlen;
    int pricing;                /* 1: price only, decrypt nothing */
    int key_priced;             /* pricing: a key bag was seen */
    int in_encrypted;           /* decoding: inside an encrypted part */
    struct kdf k;
    EVP_PKEY *key;              /* the first key bag's */
    STACK_OF(X509) *certs;      /* every certificate bag's, in order */
    enum cv_code rc;            /* CV_OK until something fails */
    char *detail;
    size_t dlen;
};

#define P12_MAX_NEST 8          /* safe contents within safe contents */

/* Fails the walk with code and a detail (OpenSSL's reason added). */
static int
p12_fail(struct p12 *w, enum cv_code code, const char *what)
{
    w->rc = code;
    set_detail(w->detail, w->dlen, what);
    return 0;
}

/* A shrouded key bag: priced, or decrypted (the first key only). */
static int
p12_shrouded(struct p12 *w, const PKCS12_SAFEBAG *bag)
{
    PKCS8_PRIV_KEY_INFO *inf;

    if (w->pricing ? w->key_priced : w->key != NULL)
        return 1;               /* never decrypted: the first key counts */
    if ((w->pricing || w->in_encrypted) && !p8_charge(&w->k,
        PKCS12_SAFEBAG_get0_pkcs8(bag), "the PKCS#12 file's key "
        "encryption", w->detail, w->dlen)) {
        w->rc = CV_UNREADABLE_CRT;
        return 0;
    }
    if (w->pricing) {
        w->key_priced = 1;
        return 1;
    }
    if ((inf = PKCS12_decrypt_skey(bag, w->pass, w->passlen)) == NULL)
        return p12_fail(w, CV_UNREADABLE_CRT, "the PKCS#12 file's key "
            "cannot be decrypted");
    w->key = EVP_PKCS82PKEY(inf);
    PKCS8_PRIV_KEY_INFO_free(inf);
    if (w->key == NULL)
        return p12_fail(w, CV_UNREADABLE_CRT, "the PKCS#12 file's key "
            "cannot be decoded");
    return 1;
}

static int
p12_bags(struct p12 *w, const STACK_OF(PKCS12_SAFEBAG) *bags, int depth)
{
    const PKCS12_SAFEBAG *bag;
    X509 *x;
    int i;

    for (i = 0; i < sk_PKCS12_SAFEBAG_num(bags); i++) {
        bag = sk_PKCS12_SAFEBAG_value(bags, i);
        switch (PKCS12_SAFEBAG_get_nid(bag)) {
        case NID_keyBag:
            if (w->pricing)
                w->key_priced = 1;
            else if (w->key == NULL && (w->key = EVP_PKCS82PKEY(
                PKCS12_SAFEBAG_get0_p8inf(bag))) == NULL)
                return p12_fail(w, CV_UNREADABLE_CRT, "the PKCS#12 "
                    "file's key cannot be decoded");
            break;
        case NID_pkcs8ShroudedKeyBag:
            if (!p12_shrouded(w, bag))
                return 0;
            break;
        case NID_certBag:
            if (w->pricing ||
                PKCS12_SAFEBAG_get_bag_nid(bag) != NID_x509Certificate)
                break;
            if ((x = PKCS12_SAFEBAG_get1_cert(bag)) == NULL)
                return p12_fail(w, CV_UNREADABLE_CRT, "a certificate of "
                    "the PKCS#12 file cannot be decoded");
            if (!sk_X509_push(w->certs, x)) {
                X509_free(x);
                return p12_fail(w, CV_VALIDATION_FAILED, "out of memory");
            }
            break;
        case NID_safeContentsBag:
            if (depth >= P12_MAX_NEST)
                return p12_fail(w, CV_UNREADABLE_CRT, "the PKCS#12 "
                    "file nests its contents too deep");
            if (!p12_bags(w, PKCS12_SAFEBAG_get0_safes(bag), depth + 1))
                return 0;
            break;
        default:
            break;              /* CRL and secret bags: not ours */
        }
    }
    return 1;
}

/* An encrypted part: priced (pricing), or decrypted into *bagsp. */
static int
p12_encrypted(struct p12 *w, PKCS7 *p7, STACK_OF(PKCS12_SAFEBAG) **bagsp)
{
    if (p7->d.encrypted == NULL || p7->d.encrypted->enc_data == NULL)
        return p12_fail(w, CV_UNREADABLE_CRT, "an encrypted part of the "
            "PKCS#12 file cannot be decoded");
    if (w->pricing) {
        if (kdf_charge(&w->k, p7->d.encrypted->enc_data->algorithm,
            "the PKCS#12 file's certificate encryption", w->detail,
            w->dlen))
            return 1;
        w->rc = CV_UNREADABLE_CRT;
        return 0;
    }
    if ((*bagsp = PKCS12_unpack_p7encdata(p7, w->pass, w->passlen)) == NULL)
        return p12_fail(w, CV_UNREADABLE_CRT, "an encrypted part of the "
            "PKCS#12 file cannot be decrypted");
    return 1;
}

/* Every part of the file, as w->pricing says. */
static int
p12_parts(struct p12 *w, PKCS12 *p12)
{
    STACK_OF(PKCS7) *parts = PKCS12_unpack_authsafes(p12);
    STACK_OF(PKCS12_SAFEBAG) *bags;
    PKCS7 *p7;
    int i, ok = 1;

    if (parts == NULL)
        return p12_fail(w, CV_UNREADABLE_CRT, "the PKCS#12 file's "
            "contents cannot be decoded");
    for (i = 0; i < sk_PKCS7_num(parts) && ok; i++) {
        p7 = sk_PKCS7_value(parts, i);
        bags = NULL;
        w->in_encrypted = 0;
        switch (OBJ_obj2nid(p7->type)) {
        case NID_pkcs7_data:
            if ((bags = PKCS12_unpack_p7data(p7)) == NULL)
                ok = p12_fail(w, CV_UNREADABLE_CRT, "a part of the "
                    "PKCS#12 file cannot be decoded");
            break;
        case NID_pkcs7_encrypted:
            ok = p12_encrypted(w, p7, &bags);
            w->in_encrypted = 1;
            break;
        default:
            break;              /* enveloped (public key): not supported */
        }
        if (ok && bags != NULL)
            ok = p12_bags(w, bags, 0);
        sk_PKCS12_SAFEBAG_pop_free(bags, PKCS12_SAFEBAG_free);
    }
    sk_PKCS7_pop_free(parts, PKCS7_free);
    return ok;
}

/* Prices the MAC; with no passphrase, two are tried (see p12_mac()). */
static int
p12_mac_price(struct p12 *w, PKCS12 *p12, const char *pass)
{
    const ASN1_INTEGER *it = NULL;

    if (!PKCS12_mac_present(p12))
        return 1;
    PKCS12_get0_mac(NULL, NULL, NULL, &it, p12);
    w->k.what = "the PKCS#12 file's integrity check (MAC)";
    w->k.scrypt = 0;
    /* no count: 1 (RFC 7292) */
    if (kdf_charge_rounds(&w->k, it != NULL ? int_u64(it) : 1,
        pass == NULL ? 2 : 1, w->detail, w->dlen))
        return 1;
    w->rc = CV_UNREADABLE_CRT;
    return 0;
}

/*
 * Verifies the (priced) MAC: with no passphrase, the empty one is tried
 * too, as PKCS12_parse() does; w->pass becomes the one that verified.
 * 1, or 0 with w->rc and the detail set.
 */
static int
p12_mac(struct p12 *w, PKCS12 *p12, const char *pass)
{
    w->pass = pass;
    w->passlen = pass != NULL ? (int)strlen(pass) : 0;
    if (!PKCS12_mac_present(p12))
        return 1;
    if (pass != NULL && PKCS12_verify_mac(p12, pass, -1))
        return 1;
    if (pass == NULL && PKCS12_verify_mac(p12, NULL, 0))
        return 1;
    if (pass == NULL && PKCS12_verify_mac(p12, "", 0)) {
        w->pass = "";
        return 1;
    }
    ERR_clear_error();
    w->rc = CV_PASSPHRASE_MISMATCH;
    snprintf(w->detail, w->dlen, "%s", pass == NULL ?
        "the PKCS#12 file is protected and no passphrase was given" :
        "the PKCS#12 file's integrity check fails with this passphrase");
    return 0;
}

/*
 * The leaf is the certificate that matches the key, the others are extras
 * (taken from the last, as PKCS12_parse() does).
 */
static int
p12_split(struct p12 *w, X509 **leafp, STACK_OF(X509) **extrap)
{
    X509 *x;

    if ((*extrap = sk_X509_new_null()) == NULL)
        return p12_fail(w, CV_VALIDATION_FAILED, "out of memory");
    while ((x = sk_X509_pop(w->certs)) != NULL) {
        if (w->key != NULL && *leafp == NULL &&
            X509_check_private_key(x, w->key) == 1) {
            *leafp = x;
            continue;
        }
        ERR_clear_error();
        if (!sk_X509_push(*extrap, x)) {
            X509_free(x);
            return p12_fail(w, CV_VALIDATION_FAILED, "out of memory");
        }
    }
    if (*leafp == NULL)
        return p12_fail(w, CV_UNREADABLE_CRT, "the PKCS#12 file holds no "
            "readable certificate");
    return 1;
}

static enum cv_code
crt_from_p12(const uint8_t *buf, size_t len, const char *pass, X509 **leafp,
    STACK_OF(X509) **extrap, EVP_PKEY **p12keyp, char *detail, size_t dlen,
    int *is_p12)
{
    const unsigned char *p = buf;
    PKCS12 *p12 = NULL;
    struct p12 w;

    *is_p12 = 0;
    if ((p12 = d2i_PKCS12(NULL, &p, (long)len)) == NULL) {
        ERR_clear_error();
        return CV_UNREADABLE_CRT;
    }
    *is_p12 = 1;
    memset(&w, 0, sizeof(w));
    kdf_init(&w.k);
    w.detail = detail;
    w.dlen = dlen;
    if ((w.certs = sk_X509_new_null()) == NULL) {
        w.rc = CV_VALIDATION_FAILED;
        snprintf(detail, dlen, "out of memory");
        goto out;
    }
    /* priced whole first; then the MAC; then decrypted */
    w.pricing = 1;
    if (!p12_mac_price(&w, p12, pass) || !p12_parts(&w, p12))
        goto out;
    w.pricing = 0;
    if (p12_mac(&w, p12, pass) && p12_parts(&w, p12) &&
        p12_split(&w, leafp, extrap)) {
        *p12keyp = w.key;
        w.key = NULL;
    }
out:
    if (w.rc != CV_OK) {
        X509_free(*leafp);
        sk_X509_pop_free(*extrap, X509_free);
        *leafp = NULL;
        *extrap = NULL;
    }
    ERR_clear_error();
    EVP_PKEY_free(w.key);
    sk_X509_pop_free(w.certs, X509_free);
    PKCS12_free(p12);
    return w.rc;
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
