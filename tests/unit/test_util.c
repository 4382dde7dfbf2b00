/*
 * test_util.c - validate/cv_util.h: the helpers every part of certdialog
 * shares (addresses, numbers, capped file reads, wiping, names, CRL
 * distribution points), and a certificate's SHA-256 kept with it.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "cv.h"
#include "cv_int.h"             /* cv_cert_sha256() */
#include "cv_util.h"

/* ---- addresses ---- */

static void
test_cv_is_ip_cases(void **state)
{
    (void)state;
    assert_true(cv_is_ip("192.0.2.1"));
    assert_true(cv_is_ip("::1"));
    assert_true(cv_is_ip("2001:db8::1"));
    assert_false(cv_is_ip("sensor.contoso.com"));
    assert_false(cv_is_ip("192.0.2.256"));
    assert_false(cv_is_ip("[::1]"));
    assert_false(cv_is_ip(""));
    assert_false(cv_is_ip(NULL));
}

static void
test_cv_ip_equal_cases(void **state)
{
    (void)state;
    assert_true(cv_ip_equal("192.0.2.1", "192.0.2.1"));
    assert_true(cv_ip_equal("2001:db8::1", "2001:DB8:0:0:0:0:0:1"));
    assert_false(cv_ip_equal("192.0.2.1", "192.0.2.2"));
    assert_false(cv_ip_equal("::ffff:192.0.2.1", "192.0.2.1"));
    assert_false(cv_ip_equal("host", "host"));
    assert_false(cv_ip_equal(NULL, "192.0.2.1"));
}

/* ---- numbers ---- */

static void
test_cv_parse_uint_cases(void **state)
{
    uint64_t v;

    (void)state;
    v = 7;
    assert_int_equal(cv_parse_uint("0", 1, 10, &v), 0);
    assert_int_equal(v, 0);
    assert_int_equal(cv_parse_uint("1048576", 7, 1048576, &v), 0);
    assert_int_equal(v, 1048576);
    assert_int_equal(cv_parse_uint("1048577", 7, 1048576, &v), -1);
    assert_int_equal(cv_parse_uint("007", 3, 10, &v), 0);
    assert_int_equal(v, 7);
    assert_int_equal(cv_parse_uint("18446744073709551615", 20, UINT64_MAX,
        &v), 0);
    assert_true(v == UINT64_MAX);
    assert_int_equal(cv_parse_uint("18446744073709551616", 20, UINT64_MAX,
        &v), -1);
    assert_int_equal(cv_parse_uint("99999999999999999999", 20, UINT64_MAX,
        &v), -1);
    assert_int_equal(cv_parse_uint("000000000000000000001", 21, UINT64_MAX,
        &v), -1);
    v = 5;
    assert_int_equal(cv_parse_uint("", 0, 10, &v), -1);
    assert_int_equal(cv_parse_uint(NULL, 1, 10, &v), -1);
    assert_int_equal(cv_parse_uint("-1", 2, 10, &v), -1);
    assert_int_equal(cv_parse_uint("+1", 2, 10, &v), -1);
    assert_int_equal(cv_parse_uint(" 1", 2, 10, &v), -1);
    assert_int_equal(cv_parse_uint("1 ", 2, 10, &v), -1);
    assert_int_equal(cv_parse_uint("0x10", 4, 100, &v), -1);
    assert_int_equal(cv_parse_uint("1\0" "2", 3, 100, &v), -1);
    assert_int_equal(v, 5);     /* untouched on failure */
}

/* ---- capped file reads ---- */

static char dir[64];

static int
setup_dir(void **state)
{
    (void)state;
    snprintf(dir, sizeof(dir), "/tmp/cd-test-util.XXXXXX");
    return mkdtemp(dir) != NULL ? 0 : -1;
}

static int
teardown_dir(void **state)
{
    char cmd[128];

    (void)state;
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static void
put_file(const char *name, const void *buf, size_t len, char *path,
    size_t plen)
{
    FILE *f;

    snprintf(path, plen, "%s/%s", dir, name);
    assert_non_null(f = fopen(path, "wb"));
    assert_int_equal(fwrite(buf, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
}

static void
test_cv_read_file_whole(void **state)
{
    static const char data[] = "abc\0def";
    char path[128], *b;
    size_t n = 99;

    (void)state;
    put_file("whole", data, sizeof(data) - 1, path, sizeof(path));
    assert_non_null(b = cv_read_file(path, 7, 0, &n));
    assert_int_equal(n, 7);
    assert_memory_equal(b, data, 7);
    assert_int_equal(b[7], '\0');
    cv_free_secret(b, n + 1);
    /* exactly at the limit and one past it */
    assert_non_null(b = cv_read_file(path, 7, CV_READ_REGULAR, &n));
    cv_free_secret(b, n + 1);
    errno = 0;
    assert_null(cv_read_file(path, 6, 0, &n));
    assert_int_equal(errno, EFBIG);
    assert_int_equal(n, 0);
}

static void
test_cv_read_file_empty_missing_dir(void **state)
{
    char path[128], *b;
    size_t n = 99;

    (void)state;
    put_file("empty", "", 0, path, sizeof(path));
    assert_non_null(b = cv_read_file(path, 10, CV_READ_REGULAR, &n));
    assert_int_equal(n, 0);
    assert_int_equal(b[0], '\0');
    free(b);
    snprintf(path, sizeof(path), "%s/missing", dir);
    errno = 0;
    assert_null(cv_read_file(path, 10, 0, &n));
    assert_int_equal(errno, ENOENT);
    errno = 0;
    assert_null(cv_read_file(dir, 10, 0, &n));
    assert_int_equal(errno, EISDIR);
    assert_null(cv_read_file(NULL, 10, 0, &n));
}

/* A FIFO is read like a pipe, unless only a regular file will do. */
static void
test_cv_read_file_fifo(void **state)
{
    char path[128], *b;
    size_t n;
    pid_t pid;
    int fd, st;

    (void)state;
    snprintf(path, sizeof(path), "%s/fifo", dir);
    assert_int_equal(mkfifo(path, 0600), 0);
    /* refused at once, without waiting for a writer */
    errno = 0;
    assert_null(cv_read_file(path, 100, CV_READ_REGULAR, &n));
    assert_int_equal(errno, EINVAL);
    /* read to its end, in more than one buffer, past the first 4096 */
    if ((pid = fork()) == 0) {
        char big[10000];

        memset(big, 'x', sizeof(big));
        if ((fd = open(path, O_WRONLY)) < 0 ||
            write(fd, big, sizeof(big)) != (ssize_t)sizeof(big))
            _exit(1);
        _exit(0);
    }
    assert_true(pid > 0);
    b = cv_read_file(path, 20000, 0, &n);
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_non_null(b);
    assert_int_equal(n, 10000);
    assert_int_equal(b[9999], 'x');
    assert_int_equal(b[10000], '\0');
    cv_free_secret(b, n + 1);
}

static void
test_cv_free_secret_null(void **state)
{
    (void)state;
    cv_free_secret(NULL, 100);  /* no crash */
}

/* ---- time ---- */

static void
test_cv_time_iso_cases(void **state)
{
    char buf[32];

    (void)state;
    cv_time_iso(0, buf, sizeof(buf));
    assert_string_equal(buf, "1970-01-01T00:00:00Z");
    cv_time_iso(1795350000, buf, sizeof(buf));
    assert_string_equal(buf, "2026-11-22T12:20:00Z");
    cv_time_iso(1795350000, buf, 5);    /* does not fit: empty */
    assert_string_equal(buf, "");
}

/* ---- certificates ---- */

/* An unsigned certificate with the given subject entries and extension. */
static X509 *
make_cert(const char *const *cns, size_t ncn, const char *dp)
{
    X509 *x = X509_new();
    X509_NAME *nm = X509_get_subject_name(x);
    X509_EXTENSION *ext;
    size_t i;

    assert_non_null(x);
    assert_true(X509_NAME_add_entry_by_txt(nm, "O", MBSTRING_UTF8,
        (const unsigned char *)"Contoso", -1, -1, 0));
    for (i = 0; i < ncn; i++)
        assert_true(X509_NAME_add_entry_by_txt(nm, "CN", MBSTRING_UTF8,
            (const unsigned char *)cns[i], -1, -1, 0));
    if (dp != NULL) {
        assert_non_null(ext = X509V3_EXT_conf_nid(NULL, NULL,
            NID_crl_distribution_points, dp));
        assert_true(X509_add_ext(x, ext, -1));
        X509_EXTENSION_free(ext);
    }
    return x;
}

static void
test_cv_cert_cn_last_wins(void **state)
{
    static const char *const two[] = { "first.example", "last.example" };
    static const char *const utf8[] = { "caf\xc3\xa9.example" };
    char buf[64];
    X509 *x;

    (void)state;
    x = make_cert(two, 2, NULL);
    assert_int_equal(cv_cert_cn(x, buf, sizeof(buf)), 0);
    assert_string_equal(buf, "last.example");
    X509_free(x);
    x = make_cert(utf8, 1, NULL);
    assert_int_equal(cv_cert_cn(x, buf, sizeof(buf)), 0);
    assert_string_equal(buf, "caf\xc3\xa9.example");
    X509_free(x);
    x = make_cert(NULL, 0, NULL);
    assert_int_equal(cv_cert_cn(x, buf, sizeof(buf)), -1);
    assert_string_equal(buf, "");
    X509_free(x);
    assert_int_equal(cv_cert_cn(NULL, buf, sizeof(buf)), -1);
}

struct uris {
    char v[4][64];
    int n, stop_at;
};

static int
collect(const char *uri, size_t len, void *arg)
{
    struct uris *u = arg;

    snprintf(u->v[u->n], sizeof(u->v[0]), "%.*s", (int)len, uri);
    return ++u->n == u->stop_at;
}

static void
test_cv_crl_dp_each_walk(void **state)
{
    struct uris u;
    X509 *x;
    int has = -1;

    (void)state;
    x = make_cert(NULL, 0, "URI:ldap://ldap.example/cn=ca,URI:http://crl."
        "example/ca.crl");
    memset(&u, 0, sizeof(u));
    assert_int_equal(cv_crl_dp_each(x, collect, &u, &has), 0);
    assert_int_equal(has, 1);
    assert_int_equal(u.n, 2);
    assert_string_equal(u.v[0], "ldap://ldap.example/cn=ca");
    assert_string_equal(u.v[1], "http://crl.example/ca.crl");
    /* the callback stops the walk */
    memset(&u, 0, sizeof(u));
    u.stop_at = 1;
    assert_int_equal(cv_crl_dp_each(x, collect, &u, NULL), 1);
    assert_int_equal(u.n, 1);
    X509_free(x);
    /* no extension */
    x = make_cert(NULL, 0, NULL);
    memset(&u, 0, sizeof(u));
    assert_int_equal(cv_crl_dp_each(x, collect, &u, &has), 0);
    assert_int_equal(has, 0);
    assert_int_equal(u.n, 0);
    X509_free(x);
}

/* make_cert(), self-signed with a new P-256 key: one that encodes */
static X509 *
signed_cert(const char *const *cns, size_t ncn)
{
    X509 *x = make_cert(cns, ncn, NULL);
    EVP_PKEY *k = EVP_EC_gen("P-256");

    assert_non_null(k);
    assert_true(X509_set_issuer_name(x, X509_get_subject_name(x)));
    assert_true(X509_set_pubkey(x, k));
    assert_non_null(X509_gmtime_adj(X509_getm_notBefore(x), 0));
    assert_non_null(X509_gmtime_adj(X509_getm_notAfter(x), 3600));
    assert_true(X509_sign(x, k, EVP_sha256()) > 0);
    EVP_PKEY_free(k);
    return x;
}

/*
 * cv_cert_sha256(): OpenSSL's SHA-256 of the DER, the same when asked
 * again (the kept copy), each certificate its own, and a copy made with
 * X509_dup() freed apart from the original.
 */
static void
test_cv_cert_sha256_kept(void **state)
{
    static const char *const a[] = { "a.example" };
    static const char *const b[] = { "b.example" };
    unsigned char want[EVP_MAX_MD_SIZE], got[CV_SHA256_LEN];
    unsigned int len = 0;
    X509 *x, *y, *dup;

    (void)state;
    x = signed_cert(a, 1);
    y = signed_cert(b, 1);
    assert_true(X509_digest(x, EVP_sha256(), want, &len));
    assert_int_equal(len, CV_SHA256_LEN);
    assert_int_equal(cv_cert_sha256(x, got), 1);
    assert_memory_equal(got, want, CV_SHA256_LEN);
    memset(got, 0, sizeof(got));
    assert_int_equal(cv_cert_sha256(x, got), 1);
    assert_memory_equal(got, want, CV_SHA256_LEN);
    assert_int_equal(cv_cert_sha256(y, got), 1);
    assert_memory_not_equal(got, want, CV_SHA256_LEN);
    dup = X509_dup(x);
    assert_non_null(dup);
    assert_int_equal(cv_cert_sha256(dup, got), 1);
    assert_memory_equal(got, want, CV_SHA256_LEN);
    X509_free(dup);
    assert_int_equal(cv_cert_sha256(x, got), 1);
    assert_memory_equal(got, want, CV_SHA256_LEN);
    X509_free(x);
    X509_free(y);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cv_is_ip_cases),
        cmocka_unit_test(test_cv_ip_equal_cases),
        cmocka_unit_test(test_cv_parse_uint_cases),
        cmocka_unit_test(test_cv_read_file_whole),
        cmocka_unit_test(test_cv_read_file_empty_missing_dir),
        cmocka_unit_test(test_cv_read_file_fifo),
        cmocka_unit_test(test_cv_free_secret_null),
        cmocka_unit_test(test_cv_time_iso_cases),
        cmocka_unit_test(test_cv_cert_cn_last_wins),
        cmocka_unit_test(test_cv_crl_dp_each_walk),
        cmocka_unit_test(test_cv_cert_sha256_kept),
    };

    return cmocka_run_group_tests(tests, setup_dir, teardown_dir);
}
