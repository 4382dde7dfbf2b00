/*
 * ctx.c - the per-process context: trust anchors parsed once, CRL cache.
 */
#include "config.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "cv.h"
#include "cv_int.h"

/* Reads every PEM certificate of one file; 0 on failure to open. */
static int
load_file(STACK_OF(X509) *anchors, const char *path, int must)
{
    BIO *bio = BIO_new_file(path, "r");
    X509 *x;
    int n = 0;

    if (bio == NULL) {
        ERR_clear_error();
        return must ? -1 : 0;
    }
    while ((x = PEM_read_bio_X509_AUX(bio, NULL, NULL, NULL)) != NULL) {
        if (!sk_X509_push(anchors, x)) {
            X509_free(x);
            break;
        }
        n++;
    }
    ERR_clear_error();
    BIO_free(bio);
    return n;
}

/* Reads every regular file of a directory; -1 when it cannot be opened. */
static int
load_dir(STACK_OF(X509) *anchors, const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    char path[4096];
    int n = 0, r;

    if (d == NULL)
        return -1;
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.')
            continue;
        if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir,
            de->d_name) >= sizeof(path))
            continue;
        if ((r = load_file(anchors, path, 0)) > 0)
            n += r;
    }
    closedir(d);
    return n;
}

static char *
errdup(const char *what, const char *path)
{
    char buf[4200];

    snprintf(buf, sizeof(buf), "%s: %s", what, path);
    return strdup(buf);
}

/*
 * Loads the trust anchors once: cfg->ca_file (else OpenSSL's default file,
 * unless no_default_ca), cfg->ca_dir, cfg->extra_ca_dir.  On failure
 * returns NULL and, when errp is not NULL, a message the caller frees with
 * free().  Caller frees the context with cv_ctx_free().
 */
struct cv_ctx *
cv_ctx_new(const struct cv_config *cfg, char **errp)
{
    struct cv_ctx *ctx = NULL;
    const char *file = NULL;
    char *err = NULL;
    int i;

    if (errp != NULL)
        *errp = NULL;
    if ((ctx = calloc(1, sizeof(*ctx))) == NULL ||
        (ctx->anchors = sk_X509_new_null()) == NULL ||
        (ctx->store = X509_STORE_new()) == NULL) {
        err = strdup("out of memory");
        goto fail;
    }
    ctx->crl_cache_max = cfg != NULL && cfg->crl_cache_max > 0 ?
        cfg->crl_cache_max : CV_DEFAULT_CRL_CACHE_MAX;
    file = cfg != NULL ? cfg->ca_file : NULL;
    if (file == NULL && (cfg == NULL || !cfg->no_default_ca)) {
        const char *env = getenv(X509_get_default_cert_file_env());

        file = env != NULL ? env : X509_get_default_cert_file();
        load_file(ctx->anchors, file, 0);
    } else if (file != NULL && load_file(ctx->anchors, file, 1) <= 0) {
        err = errdup("cannot read any certificate from the CA file", file);
        goto fail;
    }
    if (cfg != NULL && cfg->ca_dir != NULL &&
        load_dir(ctx->anchors, cfg->ca_dir) < 0) {
        err = errdup("cannot read the CA directory", cfg->ca_dir);
        goto fail;
    }
    if (cfg != NULL && cfg->extra_ca_dir != NULL &&
        load_dir(ctx->anchors, cfg->extra_ca_dir) < 0) {
        err = errdup("cannot read the enterprise roots directory",
            cfg->extra_ca_dir);
        goto fail;
    }
    for (i = 0; i < sk_X509_num(ctx->anchors); i++)
        X509_STORE_add_cert(ctx->store, sk_X509_value(ctx->anchors, i));
    ERR_clear_error();   /* duplicates in a bundle are not an error */
    return ctx;
fail:
    if (errp != NULL)
        *errp = err;
    else
        free(err);
    cv_ctx_free(ctx);
    return NULL;
}

void
cv_ctx_crl_cache_clear(struct cv_ctx *ctx)
{
    size_t i;

    if (ctx == NULL)
        return;
    for (i = 0; i < ctx->n_crl; i++)
        cv_crl_entry_clear(&ctx->crl[i]);
    ctx->n_crl = 0;
    ctx->crl_bytes = 0;
    ctx->n_memo = 0;            /* every verdict rested on a cached CRL */
}

size_t
cv_ctx_crl_cache_bytes(const struct cv_ctx *ctx, size_t *np)
{
    if (np != NULL)
        *np = ctx != NULL ? ctx->n_crl : 0;
    return ctx != NULL ? ctx->crl_bytes : 0;
}

void
cv_ctx_free(struct cv_ctx *ctx)
{
    if (ctx == NULL)
        return;
    cv_ctx_crl_cache_clear(ctx);
    OSSL_DECODER_CTX_free(ctx->key_dec);
    EVP_PKEY_free(ctx->key_dec_out);
    X509_STORE_free(ctx->store);
    sk_X509_pop_free(ctx->anchors, X509_free);
    free(ctx);
}

size_t
cv_ctx_anchor_count(const struct cv_ctx *ctx)
{
    return ctx != NULL ? (size_t)sk_X509_num(ctx->anchors) : 0;
}

X509 *
cv_ctx_find_issuer(const struct cv_ctx *ctx, X509 *x)
{
    X509 *a;
    int i;

    if (ctx == NULL || x == NULL)
        return NULL;
    for (i = 0; i < sk_X509_num(ctx->anchors); i++) {
        a = sk_X509_value(ctx->anchors, i);
        if (X509_check_issued(a, x) != X509_V_OK)
            continue;
        if (X509_verify(x, X509_get0_pubkey(a)) != 1) {
            ERR_clear_error();
            continue;
        }
        if (!X509_up_ref(a))
            break;
        return a;
    }
    ERR_clear_error();
    return NULL;
}
