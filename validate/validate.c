/*
 * validate.c - one upload, start to end: read what was sent, check the leaf,
 * build and verify the chain, check CRLs, and report every finding.
 */
#include "config.h"

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

static void
check_match(X509 *leaf, EVP_PKEY *key, struct cv_report *rep)
{
    EVP_PKEY *pub = X509_get0_pubkey(leaf);

    if (pub != NULL && X509_check_private_key(leaf, key) == 1)
        return;
    ERR_clear_error();
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
            check_match(leaf, key, rep);
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
