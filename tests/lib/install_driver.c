/*
 * install_driver.c - drives the release store (fcgi/release.c) from the
 * command line for the crash tests (tests/integration/test_crash.sh), without FastCGI.
 *
 *   install_driver -c SETTINGS install KEY CERT [CHAIN [NAME]]
 *   install_driver -c SETTINGS rollback
 *   install_driver -c SETTINGS ensure
 *   install_driver hooks
 *
 * install: cd_install_release() of KEY (unencrypted PEM), CERT (the leaf)
 * and CHAIN (the CA certificates above it, in order); rollback:
 * cd_install_rollback(); ensure: cd_install_ensure(); hooks: prints 1 when
 * this build honours CERTDIALOG_FAULT_STEP (configure --enable-fault-hooks),
 * else 0.  Prints "ok RELEASE reloaded=0|1" or "failed: WHY".  Exits 0 on
 * success, 1 when the install failed, 2 on a usage or input error.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "install.h"
#include "settings.h"

static void
usage(void)
{
    fprintf(stderr,
        "usage: install_driver -c SETTINGS install KEY CERT [CHAIN [NAME]]\n"
        "       install_driver -c SETTINGS rollback|ensure\n"
        "       install_driver hooks\n");
}

static EVP_PKEY *
read_key(const char *path)
{
    EVP_PKEY *key = NULL;
    FILE *fp;

    if ((fp = fopen(path, "r")) == NULL)
        return NULL;
    key = PEM_read_PrivateKey(fp, NULL, NULL, (void *)"");
    fclose(fp);
    return key;
}

/* Every certificate in path, in file order (an empty file: none). */
static STACK_OF(X509) *
read_certs(const char *path)
{
    STACK_OF(X509) *sk = NULL;
    X509 *x;
    FILE *fp;

    if ((fp = fopen(path, "r")) == NULL)
        return NULL;
    if ((sk = sk_X509_new_null()) == NULL)
        goto out;
    while ((x = PEM_read_X509(fp, NULL, NULL, NULL)) != NULL)
        if (sk_X509_push(sk, x) <= 0) {
            X509_free(x);
            sk_X509_pop_free(sk, X509_free);
            sk = NULL;
            goto out;
        }
    ERR_clear_error();          /* the end of the file */
out:
    fclose(fp);
    return sk;
}

static int
do_install(const struct cd_settings *s, int argc, char **argv,
    struct cd_install_result *res)
{
    struct cd_install_files f;
    STACK_OF(X509) *leaf = NULL, *path = NULL;
    EVP_PKEY *key = NULL;
    int rc = 2;

    if (argc < 2 || argc > 4) {
        usage();
        return 2;
    }
    if ((key = read_key(argv[0])) == NULL) {
        fprintf(stderr, "install_driver: cannot read the key %s\n", argv[0]);
        goto out;
    }
    if ((leaf = read_certs(argv[1])) == NULL || sk_X509_num(leaf) < 1) {
        fprintf(stderr, "install_driver: no certificate in %s\n", argv[1]);
        goto out;
    }
    path = argc > 2 ? read_certs(argv[2]) : sk_X509_new_null();
    if (path == NULL) {
        fprintf(stderr, "install_driver: cannot read the chain %s\n",
            argv[2]);
        goto out;
    }
    memset(&f, 0, sizeof(f));
    f.name = argc > 3 ? argv[3] : "crash-test";
    f.mode = "ca-signed";
    f.validation = "none";
    f.key = key;
    f.leaf = sk_X509_value(leaf, 0);
    f.path = path;
    rc = cd_install_release(s, &f, res) == 0 ? 0 : 1;
out:
    EVP_PKEY_free(key);
    sk_X509_pop_free(leaf, X509_free);
    sk_X509_pop_free(path, X509_free);
    return rc;
}

int
main(int argc, char **argv)
{
    struct cd_settings s;
    struct cd_install_result res;
    const char *cfg = NULL, *cmd;
    char err[256];
    int c, rc;

    while ((c = getopt(argc, argv, "c:")) != -1) {
        if (c != 'c') {
            usage();
            return 2;
        }
        cfg = optarg;
    }
    if (optind >= argc) {
        usage();
        return 2;
    }
    cmd = argv[optind++];
    if (strcmp(cmd, "hooks") == 0) {
#ifdef CD_FAULT_HOOKS
        puts("1");
#else
        puts("0");
#endif
        return 0;
    }
    if (cfg == NULL) {
        usage();
        return 2;
    }
    if (cd_settings_load(&s, cfg, err, sizeof(err)) != 0) {
        fprintf(stderr, "install_driver: %s: %s\n", cfg, err);
        return 2;
    }
    memset(&res, 0, sizeof(res));
    if (strcmp(cmd, "install") == 0)
        rc = do_install(&s, argc - optind, argv + optind, &res);
    else if (strcmp(cmd, "rollback") == 0 && optind == argc)
        rc = cd_install_rollback(&s, &res) == 0 ? 0 : 1;
    else if (strcmp(cmd, "ensure") == 0 && optind == argc)
        rc = cd_install_ensure(&s, &res) == 0 ? 0 : 1;
    else {
        usage();
        rc = 2;
    }
    if (rc == 0)
        printf("ok %s reloaded=%d\n", res.release, res.reloaded);
    else if (rc == 1)
        printf("failed: %s\n", res.err);
    cd_settings_free(&s);
    return rc;
}
