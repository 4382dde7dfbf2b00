/*
 * validate.c - one upload, start to end: read what was sent, check the leaf,
 * build and verify the chain, check CRLs, and report every finding.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/x509.h>

#include "cv.h"
#include "cv_int.h"

#define MAX_PASSPHRASE 1023     /* what OpenSSL's callbacks take */

/* A NUL-terminated copy of the passphrase, or NULL; see free_pass(). */
static char *
copy_pass(const struct cv_input *in, struct cv_report *rep, int *okp)
{
    char *p;

    *okp = 1;
    if (in->passphrase == NULL || in->passphrase_len == 0)
        return NULL;
    if (in->passphrase_len > MAX_PASSPHRASE) {
        cv_report_add(rep, CV_PASSPHRASE_CHARSET, "passphrase",
            "longer than %d characters", MAX_PASSPHRASE);
        *okp = 0;
        return NULL;
    }
    if (!cv_passphrase_is_valid(in->passphrase, in->passphrase_len)) {
        cv_report_add(rep, CV_PASSPHRASE_CHARSET, "passphrase", NULL);
        *okp = 0;
        return NULL;
    }
    if ((p = malloc(in->passphrase_len + 1)) == NULL)
        return NULL;
    memcpy(p, in->passphrase, in->passphrase_len);
    p[in->passphrase_len] = '\0';
    return p;
}

static void
free_pass(char *p)
{
    if (p == NULL)
        return;
    OPENSSL_cleanse(p, strlen(p));
    free(p);
}

/*
 * 1 when the key field holds a certificate and the crt field a private key
 * (both already failed to load as what they should be).
 */
static int
looks_swapped(struct cv_ctx *ctx, const struct cv_input *in,
    const char *pass)
{
    char d[CV_DETAIL_MAX];
    X509 *x = NULL;
    STACK_OF(X509) *extra = NULL;
    EVP_PKEY *k = NULL, *p12k = NULL;
    enum cv_code kc;
    int swapped = 0;

    if (in->key == NULL || in->crt == NULL)
        return 0;
    if (cv_crt_load(in->key, in->key_len, NULL, &x, &extra, &p12k, d,
        sizeof(d)) == CV_OK && x != NULL) {
        kc = cv_key_load(ctx, in->crt, in->crt_len, pass, &k, d, sizeof(d));
        swapped = kc == CV_OK || kc == CV_PASSPHRASE_MISMATCH;
    }
    X509_free(x);
    sk_X509_pop_free(extra, X509_free);
    EVP_PKEY_free(p12k);
    EVP_PKEY_free(k);
    ERR_clear_error();
    return swapped;
}

/* The uploaded CA certificates: extra blocks of the crt file, then chain. */
static STACK_OF(X509) *
upload_stack(STACK_OF(X509) *extra, STACK_OF(X509) *chain)
{
    STACK_OF(X509) *all = sk_X509_new_null();
    int i;

    if (all == NULL)
        return NULL;
    for (i = 0; i < sk_X509_num(extra); i++)
        sk_X509_push(all, sk_X509_value(extra, i));
    for (i = 0; i < sk_X509_num(chain); i++)
        sk_X509_push(all, sk_X509_value(chain, i));
    return all;
}

/*
 * The certificate of the chain file that key belongs to, when the
 * certificate file holds a CA: the admin gave the two files the other way
 * round.  NULL otherwise.
 */
static X509 *
leaf_in_chain(X509 *crt, EVP_PKEY *key, STACK_OF(X509) *chain)
{
    int i;

    if (!X509_check_ca(crt))
        return NULL;
    for (i = 0; i < sk_X509_num(chain); i++) {
        X509 *x = sk_X509_value(chain, i);

        if (!X509_check_ca(x) && X509_get0_pubkey(x) != NULL &&
            X509_check_private_key(x, key) == 1)
            return x;
    }
    ERR_clear_error();
    return NULL;
}

static void
check_match(X509 *leaf, EVP_PKEY *key, STACK_OF(X509) *chain,
    struct cv_report *rep)
{
    EVP_PKEY *pub = X509_get0_pubkey(leaf);
    char a[256], b[256];
    X509 *other;

    if (pub != NULL && X509_check_private_key(leaf, key) == 1)
        return;
    ERR_clear_error();
    if ((other = leaf_in_chain(leaf, key, chain)) != NULL) {
        cv_cert_label(other, a, sizeof(a));
        cv_cert_label(leaf, b, sizeof(b));
        cv_report_add(rep, CV_KEY_MISMATCH, "crt", "the server certificate "
            "is in the Chain file (%s, the one the key belongs to), and the "
            "Certificate file holds the CA certificate %s: exchange the two "
            "files", a, b);
        return;
    }
    if (pub == NULL)
        cv_report_add(rep, CV_KEY_MISMATCH, "key", "the certificate's "
            "public key cannot be decoded, so it cannot match the key");
    else
        cv_report_add(rep, CV_KEY_MISMATCH, "key", "the key is %s %d bits; "
            "the certificate's public key is %s %d bits and differs",
            EVP_PKEY_get0_type_name(key), EVP_PKEY_get_bits(key),
            EVP_PKEY_get0_type_name(pub), EVP_PKEY_get_bits(pub));
}

struct cv_report *
cv_validate(struct cv_ctx *ctx, const struct cv_input *in,
    const struct cv_options *opt)
{
    struct cv_report *rep = NULL;
    struct cv_options defopt;
    time_t at;
    char *pass = NULL;
    char kdet[CV_DETAIL_MAX], cdet[CV_DETAIL_MAX], hdet[CV_DETAIL_MAX];
    enum cv_code krc = CV_OK, crc = CV_OK, hrc = CV_OK;
    EVP_PKEY *key = NULL, *p12key = NULL;
    X509 *leaf = NULL;
    STACK_OF(X509) *extra = NULL, *chain = NULL, *upload = NULL;
    STACK_OF(X509) *path = NULL;
    int pass_ok;

    if ((rep = cv_report_new()) == NULL)
        return NULL;
    if (opt == NULL) {
        memset(&defopt, 0, sizeof(defopt));
        defopt.use_crl = 1;
        opt = &defopt;
    }
    at = opt->at != 0 ? opt->at : time(NULL);
    if (ctx == NULL || in == NULL) {
        cv_report_add(rep, CV_VALIDATION_FAILED, NULL, "no context");
        return rep;
    }
    if (in->name != NULL && !cv_name_is_valid(in->name, in->name_len != 0 ?
        in->name_len : strlen(in->name)))
        cv_report_add(rep, CV_BAD_NAME, "name", NULL);
    pass = copy_pass(in, rep, &pass_ok);

    /* read everything first: a PKCS#12 certificate may carry the key */
    if (in->crt != NULL)
        crc = cv_crt_load(in->crt, in->crt_len, pass, &leaf, &extra,
            &p12key, cdet, sizeof(cdet));
    if (in->key != NULL && pass_ok)
        krc = cv_key_load(ctx, in->key, in->key_len, pass, &key, kdet,
            sizeof(kdet));
    if (in->chain != NULL)
        hrc = cv_chain_load(in->chain, in->chain_len, &chain, hdet,
            sizeof(hdet));
    if (krc == CV_UNREADABLE_KEY && crc == CV_UNREADABLE_CRT &&
        looks_swapped(ctx, in, pass)) {
        snprintf(kdet, sizeof(kdet), "the key and certificate files look "
            "swapped: this field holds a certificate, and the Certificate "
            "field a private key");
        snprintf(cdet, sizeof(cdet), "the key and certificate files look "
            "swapped: this field holds a private key, and the Key field a "
            "certificate");
    }
    free_pass(pass);
    pass = NULL;

    if (in->key == NULL) {
        if (p12key != NULL) {
            key = p12key;
            p12key = NULL;
        } else if (crc != CV_PASSPHRASE_MISMATCH)
            cv_report_add(rep, CV_MISSING_FIELD, "key",
                "the private key (KEY file) is required");
    }
    if (krc != CV_OK)
        cv_report_add(rep, krc, krc == CV_PASSPHRASE_MISMATCH ?
            "passphrase" : "key", "%s", kdet);
    if (in->crt == NULL)
        cv_report_add(rep, CV_MISSING_FIELD, "crt",
            "the certificate (CRT file) is required");
    else if (crc != CV_OK)
        cv_report_add(rep, crc, crc == CV_PASSPHRASE_MISMATCH ?
            "passphrase" : "crt", "%s", cdet);
    if (hrc != CV_OK)
        cv_report_add(rep, hrc, "chain", "%s", hdet);

    if (leaf != NULL) {
        cv_summary_fill(leaf, at, &rep->summary);
        if (key != NULL)
            check_match(leaf, key, chain, rep);
        cv_checks_leaf(leaf, opt, at, rep);
        if ((upload = upload_stack(extra, chain)) == NULL) {
            cv_report_add(rep, CV_VALIDATION_FAILED, NULL, "out of memory");
            goto out;
        }
        cv_chain_verify(ctx, leaf, upload, in->chain != NULL &&
            in->chain_len > 0, at, rep, &path);
        cv_chain_extra(upload, path, rep);
        cv_checks_ca_keys(path, opt->allow_ec, rep);
        cv_checks_path(path, rep);
        if (opt->use_crl && path != NULL)
            cv_crl_check(ctx, leaf, upload, path, opt, at, rep);
    }
    if (opt->validation == CV_VALIDATION_NONE)
        cv_report_relax(rep);
    if (cv_report_ok(rep) && leaf != NULL && key != NULL && path != NULL) {
        X509_free(sk_X509_shift(path));   /* the leaf itself */
        rep->path = path;
        rep->leaf = leaf;
        rep->key = key;
        path = NULL;
        leaf = NULL;
        key = NULL;
    }
out:
    ERR_clear_error();
    sk_X509_free(upload);
    sk_X509_pop_free(path, X509_free);
    sk_X509_pop_free(extra, X509_free);
    sk_X509_pop_free(chain, X509_free);
    X509_free(leaf);
    EVP_PKEY_free(key);
    EVP_PKEY_free(p12key);
    return rep;
}
