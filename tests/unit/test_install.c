/*
 * test_install.c - fcgi/install.h's store and what it is built on
 * (release.c, reload.c, proc.c, selfsigned.c, meta.c): releases, swap, rollback, prune,
 * reload, self-signed first start, meta.json, syscall faults, crashes and
 * concurrent installers.
 *
 * Linked with -Wl,--wrap=rename,--wrap=fsync,--wrap=symlink: a test arms
 * faults[fn].fail_at = N and the Nth call from libcdfcgi fails with EIO;
 * every other call goes to the real function.
 */
#include "config.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include <jansson.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "install.h"
#include "meta.h"
#include "release.h"
#include "settings.h"

#define HOST "appliance.example.test"

/* ---- syscall faults ---- */

enum fault_fn { F_RENAME, F_FSYNC, F_SYMLINK, F_COUNT };

static struct {
    int fail_at;        /* 0: never */
    int calls;
    int fired;
} faults[F_COUNT];

int __real_rename(const char *from, const char *to);
int __real_fsync(int fd);
int __real_symlink(const char *target, const char *path);
int __wrap_rename(const char *from, const char *to);
int __wrap_fsync(int fd);
int __wrap_symlink(const char *target, const char *path);

static int
fault(enum fault_fn fn)
{
    if (faults[fn].fail_at == 0 || ++faults[fn].calls != faults[fn].fail_at)
        return 0;
    faults[fn].fired = 1;
    errno = EIO;
    return 1;
}

int
__wrap_rename(const char *from, const char *to)
{
    return fault(F_RENAME) ? -1 : __real_rename(from, to);
}

int
__wrap_fsync(int fd)
{
    return fault(F_FSYNC) ? -1 : __real_fsync(fd);
}

int
__wrap_symlink(const char *target, const char *path)
{
    return fault(F_SYMLINK) ? -1 : __real_symlink(target, path);
}

static void
faults_clear(void)
{
    memset(faults, 0, sizeof(faults));
}

/* ---- keys and certificates, made once ---- */

static EVP_PKEY *root_key, *inter_key, *leaf_key, *other_key;
static X509 *root_crt, *inter_crt, *leaf_crt;
static STACK_OF(X509) *path;

static X509 *
mkcert(const char *cn, EVP_PKEY *key, X509 *issuer, EVP_PKEY *issuer_key,
    int ca, long serial)
{
    X509 *x = X509_new();
    X509_NAME *nm = X509_NAME_new();
    X509V3_CTX v3;
    X509_EXTENSION *e;

    assert_non_null(x);
    assert_int_equal(X509_set_version(x, X509_VERSION_3), 1);
    ASN1_INTEGER_set(X509_get_serialNumber(x), serial);
    X509_NAME_add_entry_by_txt(nm, "CN", MBSTRING_ASC,
        (const unsigned char *)cn, -1, -1, 0);
    X509_set_subject_name(x, nm);
    X509_set_issuer_name(x, issuer != NULL ? X509_get_subject_name(issuer) :
        nm);
    X509_gmtime_adj(X509_getm_notBefore(x), -3600);
    X509_gmtime_adj(X509_getm_notAfter(x), 86400L * 90);
    X509_set_pubkey(x, key);
    X509V3_set_ctx(&v3, issuer != NULL ? issuer : x, x, NULL, NULL, 0);
    e = X509V3_EXT_nconf_nid(NULL, &v3, NID_basic_constraints,
        ca ? "critical,CA:TRUE" : "CA:FALSE");
    X509_add_ext(x, e, -1);
    X509_EXTENSION_free(e);
    if (!ca) {
        char san[128];

        snprintf(san, sizeof(san), "DNS:%s", cn);
        e = X509V3_EXT_nconf_nid(NULL, &v3, NID_subject_alt_name, san);
        X509_add_ext(x, e, -1);
        X509_EXTENSION_free(e);
    }
    assert_true(X509_sign(x, issuer_key != NULL ? issuer_key : key,
        EVP_sha256()) > 0);
    X509_NAME_free(nm);
    return x;
}

static int
group_setup(void **state)
{
    (void)state;
    root_key = EVP_RSA_gen(2048);
    inter_key = EVP_RSA_gen(2048);
    leaf_key = EVP_RSA_gen(2048);
    other_key = EVP_RSA_gen(2048);
    if (root_key == NULL || inter_key == NULL || leaf_key == NULL ||
        other_key == NULL)
        return -1;
    root_crt = mkcert("Test Root CA", root_key, NULL, NULL, 1, 1);
    inter_crt = mkcert("Test Intermediate CA", inter_key, root_crt, root_key,
        1, 2);
    leaf_crt = mkcert(HOST, leaf_key, inter_crt, inter_key, 0, 3);
    path = sk_X509_new_null();
    sk_X509_push(path, inter_crt);
    sk_X509_push(path, root_crt);
    return 0;
}

static int
group_teardown(void **state)
{
    (void)state;
    sk_X509_free(path);
    X509_free(root_crt);
    X509_free(inter_crt);
    X509_free(leaf_crt);
    EVP_PKEY_free(root_key);
    EVP_PKEY_free(inter_key);
    EVP_PKEY_free(leaf_key);
    EVP_PKEY_free(other_key);
    return 0;
}

/* ---- a state directory per test ---- */

struct fx {
    char dir[64];               /* mkdtemp */
    char state[128];            /* dir/state, made by install.c */
    struct cd_settings s;
};

static void
set(char **dst, const char *v)
{
    free(*dst);
    *dst = v != NULL ? strdup(v) : NULL;
}

static int
setup(void **state)
{
    struct fx *fx = calloc(1, sizeof(*fx));

    if (fx == NULL)
        return -1;
    snprintf(fx->dir, sizeof(fx->dir), "/tmp/cd-install-XXXXXX");
    if (mkdtemp(fx->dir) == NULL) {
        free(fx);
        return -1;
    }
    snprintf(fx->state, sizeof(fx->state), "%s/state", fx->dir);
    set(&fx->s.state_dir, fx->state);
    set(&fx->s.hostname, HOST);
    set(&fx->s.reload_command, "true");
    fx->s.releases_kept = 5;
    faults_clear();
    *state = fx;
    return 0;
}

static int
rm_one(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)ftw;
    return flag == FTW_DP ? rmdir(p) : unlink(p);
}

static int
teardown(void **state)
{
    struct fx *fx = *state;

    faults_clear();
    nftw(fx->dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
    cd_settings_free(&fx->s);
    free(fx);
    return 0;
}

/* ---- helpers ---- */

static int
install(struct fx *fx, const char *name, EVP_PKEY *key, X509 *leaf,
    STACK_OF(X509) *p, struct cd_install_result *res)
{
    struct cd_install_files f = {
        .name = name, .mode = "ca-signed", .validation = "mandatory",
        .use_crl = 1, .key = key, .leaf = leaf, .path = p,
    };

    return cd_install_release(&fx->s, &f, res);
}

static int
install_leaf(struct fx *fx, const char *name, struct cd_install_result *res)
{
    return install(fx, name, leaf_key, leaf_crt, path, res);
}

/* Installs the leaf as name, which must work; its release id into id. */
static void
install_ok(struct fx *fx, const char *name, char *id, size_t len)
{
    struct cd_install_result res;

    assert_int_equal(install_leaf(fx, name, &res), 0);
    snprintf(id, len, "%s", res.release);
}

/* The id "current" names, "" when none. */
static void
current_of(struct fx *fx, char *id, size_t len)
{
    char p[256], t[100];
    ssize_t n;

    snprintf(p, sizeof(p), "%s/current", fx->state);
    n = readlink(p, t, sizeof(t) - 1);
    t[n > 0 ? n : 0] = '\0';
    snprintf(id, len, "%s", strncmp(t, "releases/", 9) == 0 ? t + 9 : t);
}

static int
no_pass(char *buf, int size, int rw, void *u)
{
    (void)buf;
    (void)size;
    (void)rw;
    (void)u;
    return 0;
}

static X509 *
read_cert(const char *file)
{
    FILE *f = fopen(file, "r");
    X509 *x;

    assert_non_null(f);
    x = PEM_read_X509(f, NULL, NULL, NULL);
    fclose(f);
    return x;
}

static char *
slurp(const char *file)
{
    FILE *f = fopen(file, "r");
    char *buf = calloc(1, 1 << 16);
    size_t n;

    assert_non_null(f);
    assert_non_null(buf);
    n = fread(buf, 1, (1 << 16) - 1, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

/* Number of PEM certificates in a file. */
static int
count_pem(const char *file)
{
    char *buf = slurp(file), *p = buf;
    int n = 0;

    while ((p = strstr(p, "-----BEGIN CERTIFICATE-----")) != NULL) {
        n++;
        p++;
    }
    free(buf);
    return n;
}

/*
 * "current" names a whole release (expect_id, when not NULL): the key
 * matches the certificate, is 0600, fullchain starts with cert.pem.
 */
static void
assert_current_whole(struct fx *fx, const char *expect_id)
{
    char id[128], p[512];
    struct stat st;
    EVP_PKEY *key;
    X509 *crt, *full;
    FILE *f;

    current_of(fx, id, sizeof(id));
    assert_true(id[0] != '\0');
    if (expect_id != NULL)
        assert_string_equal(id, expect_id);
    snprintf(p, sizeof(p), "%s/current/cert.pem", fx->state);
    assert_non_null(crt = read_cert(p));
    snprintf(p, sizeof(p), "%s/current/fullchain.pem", fx->state);
    assert_non_null(full = read_cert(p));
    assert_int_equal(X509_cmp(crt, full), 0);
    snprintf(p, sizeof(p), "%s/current/privkey.pem", fx->state);
    assert_int_equal(stat(p, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_non_null(f = fopen(p, "r"));
    key = PEM_read_PrivateKey(f, NULL, no_pass, NULL);
    fclose(f);
    assert_non_null(key);
    assert_int_equal(X509_check_private_key(crt, key), 1);
    snprintf(p, sizeof(p), "%s/current/meta.json", fx->state);
    assert_int_equal(stat(p, &st), 0);
    EVP_PKEY_free(key);
    X509_free(crt);
    X509_free(full);
}

/* Entries of dir whose names start with prefix ("" : release ids). */
static int
count_in(const char *dir, const char *prefix)
{
    struct dirent *de;
    DIR *d = opendir(dir);
    int n = 0;

    if (d == NULL)
        return 0;
    while ((de = readdir(d)) != NULL) {
        if (prefix[0] == '\0') {
            if (de->d_name[0] != '.' && strlen(de->d_name) == 25)
                n++;
        } else if (strncmp(de->d_name, prefix, strlen(prefix)) == 0) {
            n++;
        }
    }
    closedir(d);
    return n;
}

static int
count_releases(struct fx *fx)
{
    char p[256];

    snprintf(p, sizeof(p), "%s/releases", fx->state);
    return count_in(p, "");
}

static void
assert_no_leftovers(struct fx *fx)
{
    char p[256];

    snprintf(p, sizeof(p), "%s/releases", fx->state);
    assert_int_equal(count_in(p, ".tmp-"), 0);
    assert_int_equal(count_in(fx->state, ".current-tmp-"), 0);
}

static void
write_text(const char *file, const char *text)
{
    FILE *f = fopen(file, "w");

    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

/* ---- tests ---- */

static void
test_cd_install_release_whole(void **state)
{
    struct fx *fx = *state;
    struct cd_install_result res;
    struct cd_release rel[4];
    char p[512], *meta, *pem;
    size_t n = 0, len = 0;
    struct stat st;
    X509 *x;

    assert_int_equal(install_leaf(fx, "Web cert", &res), 0);
    assert_string_equal(res.err, "");
    assert_int_equal(strlen(res.release), 25);
    assert_int_equal(res.reloaded, 1);
    assert_non_null(strstr(res.reload_detail, "succeeded"));
    assert_current_whole(fx, res.release);
    assert_no_leftovers(fx);

    /* state and releases are private, the key was never wider than 0600 */
    assert_int_equal(stat(fx->state, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0700);
    snprintf(p, sizeof(p), "%s/releases/%s", fx->state, res.release);
    assert_int_equal(stat(p, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0700);

    /* fullchain: leaf + intermediate, not the root; chain: the path */
    snprintf(p, sizeof(p), "%s/current/fullchain.pem", fx->state);
    assert_int_equal(count_pem(p), 2);
    snprintf(p, sizeof(p), "%s/current/chain.pem", fx->state);
    assert_int_equal(count_pem(p), 2);
    assert_non_null(x = read_cert(p));
    assert_int_equal(X509_cmp(x, inter_crt), 0);
    X509_free(x);
    snprintf(p, sizeof(p), "%s/current/cert.pem", fx->state);
    assert_int_equal(count_pem(p), 1);

    /* PKCS#8, unencrypted */
    snprintf(p, sizeof(p), "%s/current/privkey.pem", fx->state);
    pem = slurp(p);
    assert_non_null(strstr(pem, "-----BEGIN PRIVATE KEY-----"));
    free(pem);

    /* meta.json: the documented fields, no key material */
    snprintf(p, sizeof(p), "%s/current/meta.json", fx->state);
    meta = slurp(p);
    assert_null(strstr(meta, "PRIVATE"));
    {
        json_t *m = json_loads(meta, 0, NULL);

        assert_non_null(m);
        assert_string_equal(json_string_value(json_object_get(m, "name")),
            "Web cert");
        assert_string_equal(json_string_value(json_object_get(m, "mode")),
            "ca-signed");
        assert_string_equal(json_string_value(json_object_get(m,
            "validation")), "mandatory");
        assert_true(json_is_true(json_object_get(m, "use_crl")));
        assert_string_equal(json_string_value(json_object_get(m,
            "subject_cn")), HOST);
        assert_int_equal(strlen(json_string_value(json_object_get(m,
            "sha256"))), 95);
        assert_non_null(json_string_value(json_object_get(m, "not_after")));
        assert_non_null(json_string_value(json_object_get(m,
            "installed_at")));
        json_decref(m);
    }
    free(meta);

    assert_int_equal(cd_install_list(&fx->s, rel, 4, &n), 0);
    assert_int_equal(n, 1);
    assert_string_equal(rel[0].id, res.release);
    assert_string_equal(rel[0].name, "Web cert");
    assert_string_equal(rel[0].mode, "ca-signed");
    assert_int_equal(rel[0].use_crl, 1);
    assert_int_equal(rel[0].current, 1);
    assert_true(labs((long)(rel[0].installed_at - time(NULL))) < 60);

    pem = cd_install_current_cert(&fx->s, &len);
    assert_non_null(pem);
    assert_int_equal(strlen(pem), len);
    assert_non_null(strstr(pem, "-----BEGIN CERTIFICATE-----"));
    free(pem);
}

static void
test_cd_install_release_fullchain_root(void **state)
{
    struct fx *fx = *state;
    struct cd_install_result res;
    STACK_OF(X509) *p = sk_X509_new_null();
    X509 *leaf = mkcert(HOST, leaf_key, root_crt, root_key, 0, 9);
    char f[512];

    sk_X509_push(p, root_crt);
    assert_int_equal(install(fx, "direct", leaf_key, leaf, p, &res), 0);
    snprintf(f, sizeof(f), "%s/current/fullchain.pem", fx->state);
    assert_int_equal(count_pem(f), 1);
    snprintf(f, sizeof(f), "%s/current/chain.pem", fx->state);
    assert_int_equal(count_pem(f), 1);
    sk_X509_free(p);
    X509_free(leaf);

    /* no path at all: chain.pem exists and is empty */
    assert_int_equal(install(fx, "bare", leaf_key, leaf_crt, NULL, &res), 0);
    snprintf(f, sizeof(f), "%s/current/chain.pem", fx->state);
    assert_int_equal(count_pem(f), 0);
    assert_current_whole(fx, res.release);
}

static void
test_cd_install_release_twice(void **state)
{
    struct fx *fx = *state;
    struct cd_install_result res;
    struct cd_release rel[4];
    char first[64];
    size_t n = 0;

    install_ok(fx, "one", first, sizeof(first));
    assert_int_equal(install_leaf(fx, "two", &res), 0);
    assert_string_not_equal(first, res.release);
    assert_current_whole(fx, res.release);
    assert_int_equal(cd_install_list(&fx->s, rel, 4, &n), 0);
    assert_int_equal(n, 2);
    assert_string_equal(rel[0].id, res.release);
    assert_string_equal(rel[0].name, "two");
    assert_int_equal(rel[0].current, 1);
    assert_string_equal(rel[1].id, first);
    assert_string_equal(rel[1].name, "one");
    assert_int_equal(rel[1].current, 0);
    /* max bounds the list */
    assert_int_equal(cd_install_list(&fx->s, rel, 1, &n), 0);
    assert_int_equal(n, 1);
}

static void
test_cd_install_rollback_previous(void **state)
{
    struct fx *fx = *state;
    struct cd_install_result res;
    struct cd_release rel[4];
    char first[64], second[64];
    X509 *other = mkcert(HOST, other_key, NULL, NULL, 0, 5);
    size_t n = 0;

    install_ok(fx, "one", first, sizeof(first));
    assert_int_equal(install(fx, "two", other_key, other, NULL, &res), 0);
    X509_free(other);
    snprintf(second, sizeof(second), "%s", res.release);

    assert_int_equal(cd_install_rollback(&fx->s, &res), 0);
    assert_string_equal(res.release, first);
    assert_int_equal(res.reloaded, 1);
    assert_current_whole(fx, first);
    assert_int_equal(cd_install_list(&fx->s, rel, 4, &n), 0);
    assert_int_equal(n, 2);
    assert_string_equal(rel[0].id, second);     /* still newest first */
    assert_int_equal(rel[0].current, 0);
    assert_int_equal(rel[1].current, 1);

    /* nothing was installed before the first: -2, nothing to go back to */
    assert_int_equal(cd_install_rollback(&fx->s, &res), -2);
    assert_non_null(strstr(res.err, "no earlier release"));
    assert_current_whole(fx, first);

    /*
     * a new install after a rollback is current; rollback goes to first,
     * the one active before it, not to second, the one installed before
     */
    assert_int_equal(install_leaf(fx, "three", &res), 0);
    assert_int_equal(cd_install_rollback(&fx->s, &res), 0);
    assert_string_equal(res.release, first);
}

static void
test_cd_install_rollback_none(void **state)
{
    struct fx *fx = *state;
    struct cd_install_result res;
    char id[64];

    assert_int_equal(cd_install_rollback(&fx->s, &res), -2);
    assert_true(res.err[0] != '\0');
    install_ok(fx, "only", id, sizeof(id));
    assert_int_equal(cd_install_rollback(&fx->s, &res), -2);
    assert_non_null(strstr(res.err, "no earlier release"));
    assert_current_whole(fx, id);
}

static void
test_cd_install_release_prune(void **state)
{
    struct fx *fx = *state;
    struct cd_install_result res;
    struct cd_release rel[8];
    size_t n = 0;
    int i;

    fx->s.releases_kept = 2;
    for (i = 0; i < 4; i++)
        assert_int_equal(install_leaf(fx, "p", &res), 0);
    assert_int_equal(count_releases(fx), 2);
    assert_no_leftovers(fx);
    assert_current_whole(fx, res.release);
    assert_int_equal(cd_install_list(&fx->s, rel, 8, &n), 0);
    assert_int_equal(n, 2);
    assert_string_equal(rel[0].id, res.release);

    /* rolled back to the older one, which stays while it is current */
    assert_int_equal(cd_install_rollback(&fx->s, &res), 0);
    assert_string_equal(res.release, rel[1].id);
    fx->s.releases_kept = 1;
    assert_int_equal(install_leaf(fx, "p", &res), 0);
    assert_int_equal(count_releases(fx), 1);
    assert_current_whole(fx, res.release);
}

static void
test_cd_install_release_mismatch(void **state)
{
    struct fx *fx = *state;
    struct cd_install_result res;
    char first[64];

    install_ok(fx, "good", first, sizeof(first));
    assert_int_equal(install(fx, "bad", other_key, leaf_crt, path, &res), -1);
    assert_non_null(strstr(res.err, "does not match"));
    assert_string_equal(res.release, "");
    assert_current_whole(fx, first);
    assert_int_equal(count_releases(fx), 1);
    assert_no_leftovers(fx);
    /* nothing to install */
    assert_int_equal(install(fx, "none", NULL, leaf_crt, NULL, &res), -1);
    assert_current_whole(fx, first);
}

static void
test_cd_install_release_check_command(void **state)
{
    struct fx *fx = *state;
    struct cd_install_result res;
    char first[64], cmd[512], seen[256], *s;

    install_ok(fx, "good", first, sizeof(first));

    set(&fx->s.check_command, "false");
    assert_int_equal(install_leaf(fx, "checked", &res), -1);
    assert_non_null(strstr(res.err, "check command failed with exit "
        "status 1"));
    assert_current_whole(fx, first);
    assert_int_equal(count_releases(fx), 1);
    assert_no_leftovers(fx);

    /* its output, one line, in the reason */
    set(&fx->s.check_command, "echo 'nginx: [emerg] test failed' >&2; "
        "exit 3");
    assert_int_equal(install_leaf(fx, "checked", &res), -1);
    assert_non_null(strstr(res.err, "exit status 3: nginx: [emerg] test "
        "failed"));
    assert_current_whole(fx, first);

    /* the release to check is in CERTDIALOG_RELEASE */
    snprintf(seen, sizeof(seen), "%s/seen", fx->dir);
    snprintf(cmd, sizeof(cmd), "test -s \"$CERTDIALOG_RELEASE/fullchain.pem\""
        " && test -s \"$CERTDIALOG_RELEASE/privkey.pem\" && "
        "printf %%s \"$CERTDIALOG_RELEASE\" > '%s'", seen);
    set(&fx->s.check_command, cmd);
    assert_int_equal(install_leaf(fx, "checked", &res), 0);
    assert_current_whole(fx, res.release);
    s = slurp(seen);
    assert_non_null(strstr(s, fx->state));
    assert_non_null(strstr(s, "/releases/.tmp-"));
    assert_non_null(strstr(s, res.release));
    free(s);
}

static void
test_cd_install_release_reload_command(void **state)
{
    struct fx *fx = *state;
    struct cd_install_result res;

    set(&fx->s.reload_command, "false");
    assert_int_equal(install_leaf(fx, "r", &res), 0);
    assert_int_equal(res.reloaded, 0);
    assert_non_null(strstr(res.reload_detail, "failed with exit status 1"));
    assert_current_whole(fx, res.release);

    set(&fx->s.reload_command, "echo \"reloading $CERTDIALOG_RELEASE\"; "
        "printf '\\001\\n'; exit 0");
    assert_int_equal(install_leaf(fx, "r", &res), 0);
    assert_int_equal(res.reloaded, 1);
    assert_non_null(strstr(res.reload_detail, "succeeded: reloading "));
    assert_non_null(strstr(res.reload_detail, res.release));
    assert_null(strchr(res.reload_detail, '\001'));
    assert_null(strchr(res.reload_detail, '\n'));

    /* lots of output is drained and cut, the command is not blocked */
    set(&fx->s.reload_command, "head -c 1000000 /dev/zero | tr '\\0' x");
    assert_int_equal(install_leaf(fx, "r", &res), 0);
    assert_int_equal(res.reloaded, 1);
    assert_true(strlen(res.reload_detail) < sizeof(res.reload_detail));
}

enum stub_kind { NGINX_FORKS, NGINX_IGNORES, NGINX_DIES, NOT_NGINX };
static volatile sig_atomic_t stub_hup;

static void
stub_on_hup(int sig)
{
    (void)sig;
    stub_hup = 1;
}

/*
 * A process named "nginx": on SIGHUP it forks a "worker" (NGINX_FORKS),
 * ignores the signal (NGINX_IGNORES) or dies of it (NGINX_DIES); or one
 * named "not-the-server" that only waits (NOT_NGINX).  Returns once it is
 * ready for the signal.
 */
static pid_t
nginx_stub(enum stub_kind kind)
{
    int fds[2];
    char c;
    pid_t pid;

    assert_int_equal(pipe(fds), 0);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        sigset_t hup, none;

        close(fds[0]);
        prctl(PR_SET_NAME, kind == NOT_NGINX ? "not-the-server" : "nginx");
        /* SIGHUP stays blocked but in sigsuspend(): none is missed */
        sigemptyset(&hup);
        sigaddset(&hup, SIGHUP);
        sigemptyset(&none);
        if (kind == NGINX_FORKS) {
            signal(SIGHUP, stub_on_hup);
            sigprocmask(SIG_BLOCK, &hup, NULL);
        } else if (kind == NGINX_IGNORES)
            signal(SIGHUP, SIG_IGN);
        if (write(fds[1], "x", 1) != 1)
            _exit(1);
        for (;;) {
            sigsuspend(&none);
            if (stub_hup) {
                stub_hup = 0;
                if (fork() == 0) {
                    prctl(PR_SET_PDEATHSIG, SIGKILL);
                    pause();
                    _exit(0);
                }
            }
        }
    }
    close(fds[1]);
    assert_int_equal(read(fds[0], &c, 1), 1);
    close(fds[0]);
    return pid;
}

static void
nginx_stub_stop(pid_t pid)
{
    int st;

    kill(pid, SIGKILL);
    assert_int_equal(waitpid(pid, &st, 0), pid);
}

/*
 * Writes text to the nginx pid file (NULL: leaves the file as it is) and
 * installs: the install works, the reload did (reloaded) or did not, and
 * its detail says why.
 */
static void
assert_pid_reload(struct fx *fx, const char *text, int reloaded,
    const char *why, struct cd_install_result *res)
{
    char before[64] = "", after[64] = "";
    int had = cd_release_current(fx->s.state_dir, before);

    if (text != NULL)
        write_text(fx->s.nginx_pid_file, text);
    if (install_leaf(fx, "pid", res) != (reloaded || !had ? 0 : -1))
        fail_msg("install (before: %s): %s; reload: %s", had ? before : "-",
            res->err, res->reload_detail);
    assert_int_equal(res->reloaded, reloaded);
    assert_non_null(strstr(res->reload_detail, why));
    /* not reloaded: the release before it is current again, if any */
    assert_int_equal(res->rolled_back, !reloaded && had);
    if (!reloaded && had) {
        assert_true(cd_release_current(fx->s.state_dir, after));
        assert_string_equal(after, before);
        assert_string_equal(res->release, before);
        assert_non_null(strstr(res->err, "is active again"));
    }
}

static void
test_cd_install_release_pid_file(void **state)
{
    static const char *garbage[] = { "12ab\n", "", "0\n", "-5\n",
        "99999999999\n", " 12\n", "12 13\n", "1e3", "123456789012345678901"
        "234567890123\n" };
    struct fx *fx = *state;
    struct cd_install_result res;
    char pidfile[256], buf[64];
    size_t i;
    pid_t pid;
    int st;

    set(&fx->s.reload_command, NULL);
    snprintf(pidfile, sizeof(pidfile), "%s/nginx.pid", fx->dir);
    set(&fx->s.nginx_pid_file, pidfile);

    /* missing, and nothing installed before: the release stands */
    assert_pid_reload(fx, NULL, 0, "no nginx pid file at", &res);
    assert_non_null(strstr(res.reload_detail, pidfile));
    assert_current_whole(fx, res.release);

    for (i = 0; i < sizeof(garbage) / sizeof(garbage[0]); i++) {
        write_text(pidfile, garbage[i]);
        assert_int_equal(install_leaf(fx, "pid", &res), -1);
        assert_int_equal(res.reloaded, 0);
        assert_int_equal(res.rolled_back, 1);
        assert_true(res.reload_detail[0] != '\0');
        assert_null(strstr(res.reload_detail, "SIGHUP"));
    }

    /* a live process that is not nginx is left alone */
    pid = nginx_stub(NOT_NGINX);
    snprintf(buf, sizeof(buf), "%d\n", (int)pid);
    assert_pid_reload(fx, buf, 0, "not nginx", &res);
    assert_int_equal(kill(pid, 0), 0);
    nginx_stub_stop(pid);

    /*
     * A process called nginx gets SIGHUP, and the reload counts only once
     * it has started a new worker (as nginx does after reading the files).
     */
    fx->s.reload_timeout = 10;     /* a bound for a loaded machine */
    pid = nginx_stub(NGINX_FORKS);
    snprintf(buf, sizeof(buf), "%d", (int)pid);
    assert_pid_reload(fx, buf, 1, "sent SIGHUP", &res);
    assert_non_null(strstr(res.reload_detail, "reloaded in"));
    nginx_stub_stop(pid);

    /* an nginx that keeps its old workers refused the files */
    fx->s.reload_timeout = 1;
    pid = nginx_stub(NGINX_IGNORES);
    snprintf(buf, sizeof(buf), "%d", (int)pid);
    assert_pid_reload(fx, buf, 0, "started no new workers", &res);
    assert_current_whole(fx, res.release);
    nginx_stub_stop(pid);

    /* one that dies of the signal */
    pid = nginx_stub(NGINX_DIES);
    snprintf(buf, sizeof(buf), "%d", (int)pid);
    assert_pid_reload(fx, buf, 0, "exited after SIGHUP", &res);
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFSIGNALED(st));
    assert_int_equal(WTERMSIG(st), SIGHUP);

    /* ... and a pid that is gone is reported */
    assert_pid_reload(fx, NULL, 0, "not running", &res);

    /* at start: the current release is reloaded as it is */
    fx->s.reload_timeout = 10;
    pid = nginx_stub(NGINX_FORKS);
    snprintf(buf, sizeof(buf), "%d", (int)pid);
    write_text(pidfile, buf);
    assert_int_equal(cd_install_reload(&fx->s, &res), 0);
    if (res.reloaded != 1)
        fail_msg("reload: %s", res.reload_detail);
    assert_non_null(strstr(res.reload_detail, "reloaded in"));
    assert_current_whole(fx, res.release);
    nginx_stub_stop(pid);
}

/* Reloading with nothing installed is an error, not a crash. */
static void
test_cd_install_reload_empty(void **state)
{
    struct fx *fx = *state;
    struct cd_install_result res;

    assert_int_equal(cd_install_reload(&fx->s, &res), -1);
    assert_non_null(strstr(res.err, "no certificate is installed"));
    assert_int_equal(res.reloaded, 0);
}

static X509 *
current_cert(struct fx *fx)
{
    char p[512];

    snprintf(p, sizeof(p), "%s/current/cert.pem", fx->state);
    return read_cert(p);
}

static void
test_cd_install_ensure_empty(void **state)
{
    struct fx *fx = *state;
    struct cd_install_result res;
    struct cd_release rel[4];
    GENERAL_NAMES *gens;
    GENERAL_NAME *gn;
    const ASN1_INTEGER *serial;
    BIGNUM *bn;
    EVP_PKEY *pub;
    X509 *x;
    char cn[256];
    size_t n = 0;
    int days = 0, secs = 0;

    assert_int_equal(cd_install_ensure(&fx->s, &res), 0);
    assert_int_equal(strlen(res.release), 25);
    assert_current_whole(fx, res.release);
    assert_non_null(x = current_cert(fx));

    assert_true(X509_NAME_get_text_by_NID(X509_get_subject_name(x),
        NID_commonName, cn, sizeof(cn)) > 0);
    assert_string_equal(cn, HOST);
    gens = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
    assert_non_null(gens);
    /* the host name first, then addresses (self_signed_addresses) */
    assert_true(sk_GENERAL_NAME_num(gens) >= 3);
    gn = sk_GENERAL_NAME_value(gens, 0);
    assert_int_equal(gn->type, GEN_DNS);
    assert_string_equal((const char *)ASN1_STRING_get0_data(gn->d.dNSName),
        HOST);
    GENERAL_NAMES_free(gens);
    assert_int_equal(X509_check_host(x, HOST, 0, 0, NULL), 1);

    pub = X509_get0_pubkey(x);
    assert_int_equal(EVP_PKEY_get_base_id(pub), EVP_PKEY_RSA);
    assert_int_equal(EVP_PKEY_get_bits(pub), 2048);
    assert_int_equal(X509_get_signature_nid(x), NID_sha256WithRSAEncryption);
    assert_int_equal(X509_verify(x, pub), 1);
    assert_int_equal(X509_get_version(x), X509_VERSION_3);
    assert_int_equal(X509_check_ca(x), 0);
    assert_true(X509_get_extended_key_usage(x) & XKU_SSL_SERVER);
    assert_true(X509_get_key_usage(x) & KU_DIGITAL_SIGNATURE);
    assert_true(X509_get_key_usage(x) & KU_KEY_ENCIPHERMENT);
    assert_non_null(X509_get0_subject_key_id(x));
    serial = X509_get0_serialNumber(x);
    bn = ASN1_INTEGER_to_BN(serial, NULL);
    assert_false(BN_is_negative(bn));
    assert_int_equal(BN_num_bytes(bn), 16);
    BN_free(bn);
    assert_int_equal(ASN1_TIME_diff(&days, &secs, NULL,
        X509_get0_notAfter(x)), 1);
    assert_true(days >= 364 && days <= 365);
    assert_true(X509_cmp_current_time(X509_get0_notBefore(x)) < 0);
    X509_free(x);

    assert_int_equal(cd_install_list(&fx->s, rel, 4, &n), 0);
    assert_int_equal(n, 1);
    assert_string_equal(rel[0].mode, "self-signed");
    assert_string_equal(rel[0].name, "self-signed");
    assert_int_equal(rel[0].current, 1);
}

static void
test_cd_install_ensure_ip(void **state)
{
    struct fx *fx = *state;
    struct cd_install_result res;
    X509 *x;

    set(&fx->s.hostname, "192.0.2.10");
    assert_int_equal(cd_install_ensure(&fx->s, &res), 0);
    assert_non_null(x = current_cert(fx));
    assert_int_equal(X509_check_ip_asc(x, "192.0.2.10", 0), 1);
    X509_free(x);

    set(&fx->s.hostname, "2001:db8::1");
    assert_int_equal(cd_install_self_signed(&fx->s, &res), 0);
    assert_non_null(x = current_cert(fx));
    assert_int_equal(X509_check_ip_asc(x, "2001:db8::1", 0), 1);
    X509_free(x);
}

/*
 * The self-signed certificate names the host and every address of the
 * interfaces, loopback included (issue 16, point 6), but no IPv6
 * link-local one (a zone no certificate can name).  The addresses are
 * read here with getifaddrs() as well, independently.
 */
static void
test_cd_install_self_signed_addresses(void **state)
{
    struct fx *fx = *state;
    struct cd_install_result res;
    struct ifaddrs *ifs = NULL, *i;
    GENERAL_NAMES *gens;
    const struct sockaddr_in6 *s6;
    char txt[INET6_ADDRSTRLEN];
    int n, dns = 0, ip = 0, linklocal = 0, k;
    X509 *x;

    set(&fx->s.hostname, "sensor.test");
    assert_int_equal(cd_install_ensure(&fx->s, &res), 0);
    assert_non_null(x = current_cert(fx));
    assert_int_equal(X509_check_host(x, "sensor.test", 0, 0, NULL), 1);
    assert_int_equal(X509_check_ip_asc(x, "127.0.0.1", 0), 1);
    assert_int_equal(X509_check_ip_asc(x, "::1", 0), 1);
    /* the host name is the first name, and the only DNS one */
    gens = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
    assert_non_null(gens);
    n = sk_GENERAL_NAME_num(gens);
    assert_true(n >= 3 && n <= 16);
    assert_int_equal(sk_GENERAL_NAME_value(gens, 0)->type, GEN_DNS);
    for (k = 0; k < n; k++) {
        const GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, k);
        const ASN1_OCTET_STRING *a;

        if (g->type == GEN_DNS) {
            dns++;
            continue;
        }
        assert_int_equal(g->type, GEN_IPADD);
        ip++;
        a = g->d.iPAddress;
        if (ASN1_STRING_length(a) == 16 &&
            IN6_IS_ADDR_LINKLOCAL((const struct in6_addr *)(const void *)
            ASN1_STRING_get0_data(a)))
            linklocal++;
    }
    GENERAL_NAMES_free(gens);
    assert_int_equal(dns, 1);
    assert_int_equal(linklocal, 0);
    /* every address of the interfaces (the list holds up to 16 names) */
    assert_int_equal(getifaddrs(&ifs), 0);
    for (i = ifs; i != NULL && n < 16; i = i->ifa_next) {
        if (i->ifa_addr == NULL)
            continue;
        if (i->ifa_addr->sa_family == AF_INET) {
            inet_ntop(AF_INET, &((const struct sockaddr_in *)(void *)
                i->ifa_addr)->sin_addr, txt, sizeof(txt));
        } else if (i->ifa_addr->sa_family == AF_INET6) {
            s6 = (const struct sockaddr_in6 *)(void *)i->ifa_addr;
            if (IN6_IS_ADDR_LINKLOCAL(&s6->sin6_addr))
                continue;
            inet_ntop(AF_INET6, &s6->sin6_addr, txt, sizeof(txt));
        } else
            continue;
        if (X509_check_ip_asc(x, txt, 0) != 1)
            fail_msg("the self-signed certificate lacks %s (of %s)", txt,
                i->ifa_name);
    }
    freeifaddrs(ifs);
    X509_free(x);

    /* an address as the host name is named once */
    set(&fx->s.hostname, "127.0.0.1");
    assert_int_equal(cd_install_self_signed(&fx->s, &res), 0);
    assert_non_null(x = current_cert(fx));
    gens = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
    assert_non_null(gens);
    assert_int_equal(sk_GENERAL_NAME_num(gens), ip);
    GENERAL_NAMES_free(gens);
    X509_free(x);
}

static void
test_cd_install_self_signed_long_name(void **state)
{
    struct fx *fx = *state;
    struct cd_install_result res;
    char host[128], cn[256];
    X509 *x;

    /* longer than ub-common-name (64): the SAN carries it, no CN */
    snprintf(host, sizeof(host), "%s.%s.example.test",
        "a-rather-long-label-for-an-appliance-name-0123456789",
        "another-label-that-is-also-quite-long");
    set(&fx->s.hostname, host);
    assert_int_equal(cd_install_self_signed(&fx->s, &res), 0);
    assert_non_null(x = current_cert(fx));
    assert_int_equal(X509_check_host(x, host, 0, 0, NULL), 1);
    assert_true(X509_NAME_get_text_by_NID(X509_get_subject_name(x),
        NID_commonName, cn, sizeof(cn)) < 0);
    X509_free(x);

    /* a name no certificate can carry is refused before any work */
    set(&fx->s.hostname, "bad host");
    assert_int_equal(cd_install_self_signed(&fx->s, &res), -1);
    assert_non_null(strstr(res.err, "host name"));
    assert_current_whole(fx, NULL);
}

static void
test_cd_install_ensure_populated(void **state)
{
    struct fx *fx = *state;
    struct cd_install_result res;
    char id[64];

    install_ok(fx, "mine", id, sizeof(id));
    assert_int_equal(cd_install_ensure(&fx->s, &res), 0);
    assert_string_equal(res.release, id);
    assert_int_equal(count_releases(fx), 1);
    assert_current_whole(fx, id);
}

static void
test_cd_install_ensure_dangling(void **state)
{
    struct fx *fx = *state;
    struct cd_install_result res;
    char p[512], id[64];

    assert_int_equal(mkdir(fx->state, 0700), 0);
    snprintf(p, sizeof(p), "%s/current", fx->state);
    assert_int_equal(symlink("releases/20200101T000000Z-00000000", p), 0);
    assert_int_equal(cd_install_ensure(&fx->s, &res), 0);
    assert_current_whole(fx, res.release);
    current_of(fx, id, sizeof(id));
    assert_string_equal(id, res.release);
}

/*
 * Fails the Nth call of fn, for N = 1, 2, ... until an install makes no
 * such call: each failed install returns -1 with the errno in its reason
 * and leaves the previous release current and whole.
 */
static void
fault_every_step(struct fx *fx, enum fault_fn fn)
{
    struct cd_install_result res;
    char first[64];
    int n, rc, fired;

    install_ok(fx, "first", first, sizeof(first));
    for (n = 1; n < 64; n++) {
        faults_clear();
        faults[fn].fail_at = n;
        rc = install_leaf(fx, "second", &res);
        fired = faults[fn].fired;
        faults_clear();
        /*
         * Past the end, or into the activation log, written last once the
         * new release is served: a log that cannot be written does not
         * undo it (release.c log_activation()).
         */
        if (!fired || rc == 0) {
            assert_int_equal(rc, 0);
            break;
        }
        assert_int_equal(rc, -1);
        assert_non_null(strstr(res.err, strerror(EIO)));
        assert_current_whole(fx, first);
        assert_int_equal(count_releases(fx), 1);
    }
    assert_true(n > 1);
    assert_string_not_equal(res.release, first);
    assert_current_whole(fx, res.release);
    assert_no_leftovers(fx);
}

static void
test_cd_install_release_fault_rename(void **state)
{
    fault_every_step(*state, F_RENAME);
}

static void
test_cd_install_release_fault_fsync(void **state)
{
    fault_every_step(*state, F_FSYNC);
}

static void
test_cd_install_release_fault_symlink(void **state)
{
    fault_every_step(*state, F_SYMLINK);
}

/*
 * The sync after the swap fails and so does putting the old link back:
 * the answer says the new release is current, and it is whole.
 */
static void
test_cd_install_release_fault_restore(void **state)
{
    struct fx *fx = *state;
    struct cd_install_result res;
    int fsyncs, renames;

    assert_int_equal(install_leaf(fx, "first", &res), 0);
    /* count the calls of a clean install */
    faults[F_FSYNC].fail_at = 1000;
    faults[F_RENAME].fail_at = 1000;
    assert_int_equal(install_leaf(fx, "count", &res), 0);
    fsyncs = faults[F_FSYNC].calls;
    renames = faults[F_RENAME].calls;
    faults_clear();
    /* the activation log comes last: its file, its rename, STATE */
    faults[F_FSYNC].fail_at = fsyncs - 2;       /* the sync of STATE */
    faults[F_RENAME].fail_at = renames;         /* the restore */
    assert_int_equal(install_leaf(fx, "second", &res), -1);
    assert_int_equal(faults[F_FSYNC].fired, 1);
    assert_int_equal(faults[F_RENAME].fired, 1);
    faults_clear();
    assert_non_null(strstr(res.err, "became current"));
    assert_current_whole(fx, NULL);
    assert_int_equal(count_releases(fx), 3);
    assert_int_equal(install_leaf(fx, "third", &res), 0);
    assert_no_leftovers(fx);
}

static void
test_cd_install_release_stale_cleanup(void **state)
{
    struct fx *fx = *state;
    struct cd_install_result res;
    char p[512];

    assert_int_equal(install_leaf(fx, "first", &res), 0);
    /* what a crash between steps leaves behind */
    snprintf(p, sizeof(p), "%s/releases/.tmp-20200101T000000Z-0badf00d",
        fx->state);
    assert_int_equal(mkdir(p, 0700), 0);
    snprintf(p, sizeof(p), "%s/releases/.tmp-20200101T000000Z-0badf00d/"
        "privkey.pem", fx->state);
    write_text(p, "half a key");
    snprintf(p, sizeof(p), "%s/.current-tmp-0badf00d", fx->state);
    assert_int_equal(symlink("releases/.tmp-20200101T000000Z-0badf00d", p),
        0);
    assert_current_whole(fx, res.release);
    assert_int_equal(install_leaf(fx, "second", &res), 0);
    assert_no_leftovers(fx);
    assert_current_whole(fx, res.release);
    /* the list never shows a temporary directory */
    assert_int_equal(count_releases(fx), 2);
}

/* The installer is killed while its release is being checked. */
static void
test_cd_install_release_crash(void **state)
{
    struct fx *fx = *state;
    struct cd_install_result res;
    char first[64], p[256];
    pid_t pid;
    int st;

    install_ok(fx, "first", first, sizeof(first));
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        set(&fx->s.check_command, "kill -9 $PPID; sleep 5");
        install_leaf(fx, "killed", &res);
        _exit(0);
    }
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFSIGNALED(st));
    assert_current_whole(fx, first);
    snprintf(p, sizeof(p), "%s/releases", fx->state);
    assert_int_equal(count_in(p, ".tmp-"), 1);
    /* the lock died with it; the next install cleans up */
    assert_int_equal(install_leaf(fx, "after", &res), 0);
    assert_current_whole(fx, res.release);
    assert_no_leftovers(fx);
    assert_int_equal(count_releases(fx), 2);
}

static void
test_cd_install_release_concurrent(void **state)
{
    struct fx *fx = *state;
    struct cd_install_result res;
    struct cd_release rel[16];
    pid_t pids[8];
    size_t n = 0;
    int i, st;

    for (i = 0; i < 8; i++) {
        pids[i] = fork();
        assert_true(pids[i] >= 0);
        if (pids[i] == 0) {
            char name[16];

            snprintf(name, sizeof(name), "child %d", i);
            _exit(install_leaf(fx, name, &res) == 0 ? 0 : 1);
        }
    }
    for (i = 0; i < 8; i++) {
        assert_int_equal(waitpid(pids[i], &st, 0), pids[i]);
        assert_true(WIFEXITED(st));
        assert_int_equal(WEXITSTATUS(st), 0);
    }
    assert_current_whole(fx, NULL);
    assert_no_leftovers(fx);
    assert_int_equal(count_releases(fx), fx->s.releases_kept);
    /* the last one to get the lock is current: the newest */
    assert_int_equal(cd_install_list(&fx->s, rel, 16, &n), 0);
    assert_int_equal(n, (size_t)fx->s.releases_kept);
    assert_int_equal(rel[0].current, 1);
    assert_int_equal(install_leaf(fx, "after", &res), 0);
    assert_current_whole(fx, res.release);
    assert_no_leftovers(fx);
}

static void
test_cd_install_list_empty(void **state)
{
    struct fx *fx = *state;
    struct cd_release rel[2];
    size_t n = 7, len = 7;

    assert_int_equal(cd_install_list(&fx->s, rel, 2, &n), 0);
    assert_int_equal(n, 0);
    assert_null(cd_install_current_cert(&fx->s, &len));
    assert_int_equal(len, 0);
}

static void
test_cd_install_release_bad_state(void **state)
{
    struct fx *fx = *state;
    struct cd_install_result res;
    char p[256];

    /* the state directory's parent is a file */
    snprintf(p, sizeof(p), "%s/file", fx->dir);
    write_text(p, "x");
    snprintf(p, sizeof(p), "%s/file/state", fx->dir);
    set(&fx->s.state_dir, p);
    assert_int_equal(install_leaf(fx, "x", &res), -1);
    assert_non_null(strstr(res.err, "cannot create the state directory"));
    assert_int_equal(cd_install_ensure(&fx->s, &res), -1);
    assert_int_equal(cd_install_rollback(&fx->s, &res), -1);
}

/* The form of an id: what keeps .tmp-* and strays out of the history. */
static void
test_cd_release_id_ok(void **state)
{
    static const char *bad[] = { "", "20261122T163200Z-1a2b3c4",
        "20261122T163200Z-1a2b3c4d0", ".tmp-20261122T163200Z-1a2b3c4d",
        "20261122T163200Z-1A2B3C4D", "20261122X163200Z-1a2b3c4d",
        "2026112aT163200Z-1a2b3c4d", "20261122T163200Z_1a2b3c4d",
        "20261122T163200Y-1a2b3c4d", "20261122T163200Z-1a2b3c4g" };
    size_t i;

    (void)state;
    assert_true(cd_release_id_ok("20261122T163200Z-1a2b3c4d"));
    assert_true(cd_release_id_ok("19700101T000000Z-00000000"));
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        if (cd_release_id_ok(bad[i]))
            fail_msg("accepted \"%s\"", bad[i]);
    assert_false(cd_release_id_ok(NULL));
}

/* A leaf whose subject has two CNs: the last one is its name. */
static X509 *
two_cn_cert(void)
{
    X509 *x = X509_new();
    X509_NAME *nm = X509_NAME_new();

    assert_non_null(x);
    assert_non_null(nm);
    X509_set_version(x, X509_VERSION_3);
    ASN1_INTEGER_set(X509_get_serialNumber(x), 42);
    X509_NAME_add_entry_by_txt(nm, "CN", MBSTRING_ASC,
        (const unsigned char *)"first.example.test", -1, -1, 0);
    X509_NAME_add_entry_by_txt(nm, "CN", MBSTRING_ASC,
        (const unsigned char *)HOST, -1, -1, 0);
    X509_set_subject_name(x, nm);
    X509_set_issuer_name(x, nm);
    X509_gmtime_adj(X509_getm_notBefore(x), 0);
    ASN1_TIME_set_string(X509_getm_notAfter(x), "20380119031408Z");
    X509_set_pubkey(x, leaf_key);
    assert_true(X509_sign(x, leaf_key, EVP_sha256()) > 0);
    X509_NAME_free(nm);
    return x;
}

/* meta.json as written is what is read back; sha256 and CN from libcv. */
static void
test_cd_meta_round_trip(void **state)
{
    struct fx *fx = *state;
    const char *id = "20261122T163200Z-1a2b3c4d";
    struct cd_install_files f = {
        .name = "Round trip", .mode = "self-signed", .validation = "none",
        .use_crl = 1, .key = leaf_key, .path = NULL,
    };
    struct cd_release info;
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    char p[256], want[8];
    time_t now = 1800000000;
    long long seq = 0;
    json_t *m;
    char *text;

    f.leaf = two_cn_cert();
    text = cd_meta_encode(&f, id, now, 7);
    assert_non_null(text);
    assert_null(strstr(text, "PRIVATE"));
    m = json_loads(text, 0, NULL);
    assert_non_null(m);
    assert_string_equal(json_string_value(json_object_get(m, "id")), id);
    assert_string_equal(json_string_value(json_object_get(m,
        "subject_cn")), HOST);
    assert_string_equal(json_string_value(json_object_get(m,
        "installed_at")), "2027-01-15T08:00:00Z");
    assert_string_equal(json_string_value(json_object_get(m, "not_after")),
        "2038-01-19T03:14:08Z");
    assert_int_equal(X509_digest(f.leaf, EVP_sha256(), md, &mdlen), 1);
    snprintf(want, sizeof(want), "%02X:%02X", md[0], md[1]);
    assert_int_equal(strncmp(json_string_value(json_object_get(m, "sha256")),
        want, 5), 0);
    assert_int_equal(strlen(json_string_value(json_object_get(m, "sha256"))),
        95);
    json_decref(m);

    snprintf(p, sizeof(p), "%s/meta.json", fx->dir);
    write_text(p, text);
    free(text);
    memset(&info, 0, sizeof(info));
    assert_int_equal(cd_meta_read(p, id, &info, &seq), 0);
    assert_string_equal(info.name, "Round trip");
    assert_string_equal(info.mode, "self-signed");
    assert_string_equal(info.validation, "none");
    assert_int_equal(info.use_crl, 1);
    assert_int_equal(info.installed_at, now);
    assert_int_equal(seq, 7);

    /* without installed_at, the time is the id's; no seq: 0 */
    write_text(p, "{\"name\": \"old\"}");
    memset(&info, 0, sizeof(info));
    assert_int_equal(cd_meta_read(p, id, &info, &seq), 0);
    assert_string_equal(info.name, "old");
    assert_int_equal(info.installed_at, 1795365120);
    assert_int_equal(seq, 0);

    /* not an object, or missing: -1, and still the id's time */
    write_text(p, "[1]");
    assert_int_equal(cd_meta_read(p, id, &info, &seq), -1);
    unlink(p);
    memset(&info, 0, sizeof(info));
    assert_int_equal(cd_meta_read(p, id, &info, &seq), -1);
    assert_int_equal(info.installed_at, 1795365120);
    X509_free(f.leaf);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int
main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_cd_install_release_whole),
        T(test_cd_install_release_fullchain_root),
        T(test_cd_install_release_twice),
        T(test_cd_install_rollback_previous),
        T(test_cd_install_rollback_none),
        T(test_cd_install_release_prune),
        T(test_cd_install_release_mismatch),
        T(test_cd_install_release_check_command),
        T(test_cd_install_release_reload_command),
        T(test_cd_install_release_pid_file),
        T(test_cd_install_reload_empty),
        T(test_cd_install_ensure_empty),
        T(test_cd_install_ensure_ip),
        T(test_cd_install_self_signed_addresses),
        T(test_cd_install_self_signed_long_name),
        T(test_cd_install_ensure_populated),
        T(test_cd_install_ensure_dangling),
        T(test_cd_install_release_fault_rename),
        T(test_cd_install_release_fault_fsync),
        T(test_cd_install_release_fault_symlink),
        T(test_cd_install_release_fault_restore),
        T(test_cd_install_release_stale_cleanup),
        T(test_cd_install_release_crash),
        T(test_cd_install_release_concurrent),
        T(test_cd_install_list_empty),
        T(test_cd_install_release_bad_state),
        cmocka_unit_test(test_cd_release_id_ok),
        T(test_cd_meta_round_trip),
    };

    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
