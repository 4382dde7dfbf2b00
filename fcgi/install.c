/*
 * install.c - the installer's entry points (install.h), which fcgi/api.c
 * and fcgi/main.c call: each starts a fresh result and runs one sequence
 * of the release store (release.c), with a self-signed certificate
 * (selfsigned.c) where one is wanted.
 */
#include "config.h"

#include "install.h"

#include <stdio.h>
#include <string.h>

#include "release.h"
#include "selfsigned.h"

/* res emptied, or a scratch result when the caller wants none. */
static struct cd_install_result *
fresh(struct cd_install_result *res, struct cd_install_result *scratch)
{
    if (res == NULL)
        res = scratch;
    memset(res, 0, sizeof(*res));
    return res;
}

int
cd_install_release(const struct cd_settings *s,
    const struct cd_install_files *f, struct cd_install_result *res)
{
    struct cd_install_result scratch;

    return cd_release_install(s, f, 0, fresh(res, &scratch));
}

int
cd_install_rollback(const struct cd_settings *s,
    struct cd_install_result *res)
{
    struct cd_install_result scratch;

    return cd_release_rollback(s, fresh(res, &scratch));
}

/* A new self-signed key and certificate, installed as a release. */
static int
self_signed(const struct cd_settings *s, int only_if_missing,
    struct cd_install_result *res)
{
    struct cd_install_files f;
    EVP_PKEY *key = NULL;
    X509 *cert = NULL;
    int rc;

    if (cd_selfsigned_make(s != NULL ? s->hostname : NULL, &key, &cert,
        res->err, sizeof(res->err)) != 0)
        return -1;
    memset(&f, 0, sizeof(f));
    f.name = "self-signed";
    f.mode = "self-signed";
    f.validation = "none";
    f.use_crl = 0;
    f.key = key;
    f.leaf = cert;
    rc = cd_release_install(s, &f, only_if_missing, res);
    EVP_PKEY_free(key);
    X509_free(cert);
    return rc;
}

int
cd_install_self_signed(const struct cd_settings *s,
    struct cd_install_result *res)
{
    struct cd_install_result scratch;

    return self_signed(s, 0, fresh(res, &scratch));
}

int
cd_install_ensure(const struct cd_settings *s, struct cd_install_result *res)
{
    struct cd_install_result scratch;
    char id[CD_RELEASE_ID_LEN + 1];

    res = fresh(res, &scratch);
    if (s == NULL || s->state_dir == NULL) {
        snprintf(res->err, sizeof(res->err),
            "no state directory is configured");
        return -1;
    }
    /* no key is made when one is installed; the lock decides the rest */
    if (cd_release_current(s->state_dir, id)) {
        snprintf(res->release, sizeof(res->release), "%s", id);
        snprintf(res->reload_detail, sizeof(res->reload_detail),
            "a certificate is already installed");
        return 0;
    }
    /* checked again under the lock: two starting workers install once */
    return self_signed(s, 1, res);
}

int
cd_install_reload(const struct cd_settings *s, struct cd_install_result *res)
{
    struct cd_install_result scratch;

    return cd_release_reload(s, fresh(res, &scratch));
}

int
cd_install_list(const struct cd_settings *s, struct cd_release *out,
    size_t max, size_t *n)
{
    return cd_release_list(s, out, max, n);
}

char *
cd_install_current_cert(const struct cd_settings *s, size_t *lenp)
{
    return cd_release_current_cert(s, lenp);
}
