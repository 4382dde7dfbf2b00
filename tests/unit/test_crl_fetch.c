/*
 * test_crl_fetch.c - validate/crl.c against a real HTTP server on the
 * loopback (tests/lib/crl_server): cv_crl_fetch_http() itself, and what
 * cv_validate() reports for a leaf whose CRL distribution point is that
 * server, in every way a CRL server can answer or fail to (docs/API.md
 * "Codes", docs/DESIGN.md
 * "Trust, CRLs and time").
 *
 * Each test starts its own crl_server (fork/exec, $CD_CRL_SERVER or
 * ./tests/lib/crl_server from the build directory), waits for its port
 * file, and kills it by its PID in the teardown.  The leaf is good.pem
 * re-signed by int.key with the server's URL as its only CRL DP (and,
 * for "revoked", revoked.pem's serial, which the fixture int.crl lists).
 * The intermediate's own DP (127.0.0.1:1) is answered by the offline
 * root.crl, so the leaf's DP is the only one fetched.
 *
 * Validation time: cd_fixture_time(), the time the fixture CRLs were made
 * for; the engine checks a CRL's lastUpdate/nextUpdate against that time
 * and expires its cache by the wall clock.
 *
 * The cache's peak memory is measured on OpenSSL's own heap, tracked by
 * allocation functions main() sets first (heap_malloc()).
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "cv.h"
#include "fixture.h"

#define CRL_TIMEOUT     2       /* seconds: the hang and trickle cases */
#define HANG_SLACK      1.5     /* seconds over the timeout a hang may take */
#define FAST            1.5     /* seconds: "at once" (no timeout waited) */
#define SMALL_MAX       (64u * 1024)
#define SERVER_SECONDS  "20"    /* every server stops by itself by then */

/* One running crl_server. */
struct srv {
    pid_t pid;
    int port;
    char port_file[512];
    char count_file[512];
    char log_file[512];
};

static struct {
    char dir[256];              /* mkdtemp: port/count/log/CRL files */
    const char *server;         /* the crl_server binary */
    struct cv_ctx *ctx;
    X509 *good;                 /* template leaf */
    X509 *int_crt;
    EVP_PKEY *int_key;
    const ASN1_INTEGER *revoked_serial;     /* in revoked */
    X509 *revoked;
    uint8_t *key;
    size_t key_len;
    uint8_t *chain;
    size_t chain_len;
    STACK_OF(X509_CRL) *offline;            /* root.crl: for int's DP */
    time_t at;
    int n;                                  /* servers started */
} st;

static struct srv srv;          /* the server of the running test */
static struct srv srv2;         /* a second one (a redirect's target) */

/* ---- helpers ---- */

static double
now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void
sleep_ms(long ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

    while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
        ;
}

/* A small decimal number from a file; -1 when missing or empty. */
static long
read_num(const char *path)
{
    char buf[32];
    long v = -1;
    size_t i;
    ssize_t n;
    int fd = open(path, O_RDONLY);

    if (fd == -1)
        return -1;
    n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    for (i = 0; n > 0 && i < (size_t)n && buf[i] >= '0' && buf[i] <= '9';
        i++)
        v = (v < 0 ? 0 : v * 10) + (buf[i] - '0');
    return v;
}

/* Shows the server's log (on a failure, for the reader of the test log). */
static void
show_log(const char *path)
{
    char line[512];
    FILE *f = fopen(path, "r");
    int i;

    for (i = 0; f != NULL && i < 40 && fgets(line, sizeof(line), f); i++)
        print_message("    | %s", line);
    if (f != NULL)
        fclose(f);
}

/* Copies a fixture to path by a rename (the server reads it per request). */
static void
put_file(const char *fixture, const char *path)
{
    char tmp[600];
    uint8_t *buf;
    size_t len;
    FILE *f;

    buf = cd_fixture_read(fixture, &len);
    assert_non_null(buf);
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    f = fopen(tmp, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(buf, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
    assert_int_equal(rename(tmp, path), 0);
    free(buf);
}

/*
 * Starts crl_server in the given mode (file: the path it serves, or NULL;
 * location: where "redirect" sends to, or NULL) into *sp; waits at most 5 s
 * for its port file.
 */
static void
server_start_into(struct srv *sp, const char *mode, const char *file,
    const char *location)
{
#define srv (*sp)
    const char *argv[16];
    double t0;
    int i = 0, fd;
    pid_t pid;

    memset(&srv, 0, sizeof(srv));
    st.n++;
    snprintf(srv.port_file, sizeof(srv.port_file), "%s/port%d", st.dir,
        st.n);
    snprintf(srv.count_file, sizeof(srv.count_file), "%s/count%d", st.dir,
        st.n);
    snprintf(srv.log_file, sizeof(srv.log_file), "%s/log%d", st.dir, st.n);
    argv[i++] = st.server;
    argv[i++] = "--mode";
    argv[i++] = mode;
    argv[i++] = "--port-file";
    argv[i++] = srv.port_file;
    argv[i++] = "--count-file";
    argv[i++] = srv.count_file;
    argv[i++] = "--max-seconds";
    argv[i++] = SERVER_SECONDS;
    if (file != NULL) {
        argv[i++] = "--file";
        argv[i++] = file;
    }
    if (location != NULL) {
        argv[i++] = "--location";
        argv[i++] = location;
    }
    argv[i] = NULL;
    pid = fork();
    assert_true(pid != -1);
    if (pid == 0) {
        fd = open(srv.log_file, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd != -1)
            dup2(fd, STDERR_FILENO);
        execv(st.server, (char *const *)argv);
        _exit(127);
    }
    srv.pid = pid;
    t0 = now_s();
    while ((srv.port = (int)read_num(srv.port_file)) <= 0) {
        if (waitpid(pid, NULL, WNOHANG) == pid) {
            srv.pid = 0;
            show_log(srv.log_file);
            fail_msg("crl_server --mode %s exited before listening", mode);
        }
        if (now_s() - t0 > 5) {
            show_log(srv.log_file);
            fail_msg("crl_server --mode %s: no port file after 5 s", mode);
        }
        sleep_ms(20);
    }
#undef srv
}

static void
server_start(const char *mode, const char *file)
{
    server_start_into(&srv, mode, file, NULL);
}

/* Stops a server by its PID: SIGTERM, at most 3 s, then SIGKILL. */
static void
server_stop_one(struct srv *sp)
{
#define srv (*sp)
    double t0 = now_s();

    if (srv.pid <= 0)
        return;
    kill(srv.pid, SIGTERM);
    while (waitpid(srv.pid, NULL, WNOHANG) != srv.pid) {
        if (now_s() - t0 > 3) {
            kill(srv.pid, SIGKILL);
            waitpid(srv.pid, NULL, 0);
            break;
        }
        sleep_ms(10);
    }
    srv.pid = 0;
#undef srv
}

static void
server_stop(void)
{
    server_stop_one(&srv);
    server_stop_one(&srv2);
}

static long
server_count(void)
{
    return read_num(srv.count_file);
}

/* The URL of the running server, with a path unique to this run. */
static void
server_url(char *buf, size_t len)
{
    snprintf(buf, len, "http://127.0.0.1:%d/t%d/int.crl", srv.port, st.n);
}

/*
 * good.pem re-signed by int.key with url as its CRL DP and the given serial
 * (NULL: good.pem's), as PEM.  Caller frees with free().
 */
static uint8_t *
make_leaf(const char *url, const ASN1_INTEGER *serial, size_t *lenp)
{
    X509 *x = X509_dup(st.good);
    X509_EXTENSION *ext;
    X509V3_CTX v3;
    BIO *b = BIO_new(BIO_s_mem());
    char val[600], *p;
    uint8_t *out;
    long n;
    int idx;

    assert_non_null(x);
    assert_non_null(b);
    while ((idx = X509_get_ext_by_NID(x, NID_crl_distribution_points,
        -1)) >= 0)
        X509_EXTENSION_free(X509_delete_ext(x, idx));
    snprintf(val, sizeof(val), "URI:%s", url);
    X509V3_set_ctx(&v3, st.int_crt, x, NULL, NULL, 0);
    ext = X509V3_EXT_nconf_nid(NULL, &v3, NID_crl_distribution_points, val);
    assert_non_null(ext);
    assert_int_equal(X509_add_ext(x, ext, -1), 1);
    X509_EXTENSION_free(ext);
    if (serial != NULL)
        assert_int_equal(X509_set_serialNumber(x, (ASN1_INTEGER *)serial),
            1);
    assert_true(X509_sign(x, st.int_key, EVP_sha256()) > 0);
    assert_int_equal(PEM_write_bio_X509(b, x), 1);
    n = BIO_get_mem_data(b, &p);
    assert_true(n > 0);
    out = malloc((size_t)n + 1);
    assert_non_null(out);
    memcpy(out, p, (size_t)n);
    out[n] = '\0';
    *lenp = (size_t)n;
    BIO_free(b);
    X509_free(x);
    return out;
}

/* The findings of rep as "code code ..." for messages. */
static void
codes_text(const struct cv_report *rep, char *buf, size_t len)
{
    size_t i, off = 0;

    buf[0] = '\0';
    for (i = 0; i < rep->n_findings && off < len; i++)
        off += (size_t)snprintf(buf + off, len - off, "%s%s(%s)",
            i ? " " : "", cv_code_name(rep->findings[i].code),
            rep->findings[i].detail ? rep->findings[i].detail : "");
}

/*
 * rep holds exactly one finding, want (CV_OK: none), and so its verdict is
 * cv_report_ok() == (want == CV_OK).
 */
static void
expect_only(const struct cv_report *rep, enum cv_code want)
{
    char text[4096];

    assert_non_null(rep);
    codes_text(rep, text, sizeof(text));
    if ((want == CV_OK && rep->n_findings != 0) ||
        (want != CV_OK && (rep->n_findings != 1 ||
        rep->findings[0].code != want))) {
        show_log(srv.log_file);
        fail_msg("wanted [%s], got [%s]", want == CV_OK ? "" :
            cv_code_name(want), text);
    }
    if (want != CV_OK)
        assert_string_equal(rep->findings[0].field, "crt");
    assert_int_equal(cv_report_ok(rep), want == CV_OK);
}

/*
 * Validates good.key + a leaf whose CRL DP is url (serial: see make_leaf)
 * + chain.pem at the fixture time; *elapsed gets the seconds it took.
 */
static struct cv_report *
validate_url(const char *url, const ASN1_INTEGER *serial, int timeout,
    size_t max_size, double *elapsed)
{
    struct cv_input in;
    struct cv_options opt;
    struct cv_report *rep;
    size_t crt_len;
    uint8_t *crt = make_leaf(url, serial, &crt_len);
    double t0;

    memset(&in, 0, sizeof(in));
    in.key = st.key;
    in.key_len = st.key_len;
    in.crt = crt;
    in.crt_len = crt_len;
    in.chain = st.chain;
    in.chain_len = st.chain_len;
    memset(&opt, 0, sizeof(opt));
    opt.at = st.at;
    opt.use_crl = 1;
    opt.hostname = "sensor.contoso.com";
    opt.fetch.timeout = timeout;
    opt.fetch.max_size = max_size;
    opt.fetch.allow_loopback = 1;   /* the servers are on 127.0.0.1 */
    opt.offline_crls = st.offline;
    t0 = now_s();
    rep = cv_validate(st.ctx, &in, &opt);
    if (elapsed != NULL)
        *elapsed = now_s() - t0;
    free(crt);
    return rep;
}

/* Starts a server and validates once against it; see validate_url. */
static struct cv_report *
validate_mode(const char *mode, const char *file, const ASN1_INTEGER *serial,
    int timeout, size_t max_size, double *elapsed)
{
    char url[256];

    server_start(mode, file);
    server_url(url, sizeof(url));
    return validate_url(url, serial, timeout, max_size, elapsed);
}

static void
expect_elapsed_max(const char *what, double elapsed, double max)
{
    print_message("    %s: %.2f s\n", what, elapsed);
    if (elapsed > max)
        fail_msg("%s took %.2f s, more than %.2f s", what, elapsed, max);
}

/* ---- group and per-test fixtures ---- */

static X509 *
load_crt(const char *name)
{
    X509 *x = NULL;
    BIO *b = BIO_new_file(cd_fixture_path(name), "r");

    if (b != NULL)
        x = PEM_read_bio_X509(b, NULL, NULL, NULL);
    BIO_free(b);
    return x;
}

static int
group_setup(void **state)
{
    struct cv_config cfg;
    char *err = NULL, path[512];
    X509_CRL *crl = NULL;
    BIO *b = NULL;
    const char *s = getenv("CD_CRL_SERVER");

    (void)state;
    /* the loopback server must be reached directly, never via a proxy */
    unsetenv("http_proxy");
    unsetenv("HTTP_PROXY");
    unsetenv("https_proxy");
    unsetenv("HTTPS_PROXY");
    unsetenv("no_proxy");
    unsetenv("NO_PROXY");
    signal(SIGPIPE, SIG_IGN);   /* as the service does */
    st.server = s != NULL && *s != '\0' ? s : "./tests/lib/crl_server";
    if (access(st.server, X_OK) != 0) {
        fprintf(stderr, "test_crl_fetch: no crl_server at %s (set "
            "CD_CRL_SERVER or run from the build directory)\n", st.server);
        return -1;
    }
    snprintf(st.dir, sizeof(st.dir), "%s/test_crl_fetch.XXXXXX",
        getenv("TMPDIR") != NULL ? getenv("TMPDIR") : "/tmp");
    if (mkdtemp(st.dir) == NULL)
        return -1;
    st.at = cd_fixture_time();
    st.good = load_crt("good.pem");
    st.int_crt = load_crt("int.pem");
    st.revoked = load_crt("revoked.pem");
    if ((b = BIO_new_file(cd_fixture_path("int.key"), "r")) != NULL)
        st.int_key = PEM_read_bio_PrivateKey(b, NULL, NULL, NULL);
    BIO_free(b);
    if ((b = BIO_new_file(cd_fixture_path("root.crl"), "rb")) != NULL)
        crl = d2i_X509_CRL_bio(b, NULL);
    BIO_free(b);
    st.key = cd_fixture_read("good.key", &st.key_len);
    st.chain = cd_fixture_read("chain.pem", &st.chain_len);
    if (st.good == NULL || st.int_crt == NULL || st.revoked == NULL ||
        st.int_key == NULL || crl == NULL || st.key == NULL ||
        st.chain == NULL) {
        fprintf(stderr, "test_crl_fetch: fixtures missing in %s\n",
            cd_fixture_dir());
        X509_CRL_free(crl);
        return -1;
    }
    st.revoked_serial = X509_get0_serialNumber(st.revoked);
    if ((st.offline = sk_X509_CRL_new_null()) == NULL ||
        !sk_X509_CRL_push(st.offline, crl)) {
        X509_CRL_free(crl);
        return -1;
    }
    memset(&cfg, 0, sizeof(cfg));
    snprintf(path, sizeof(path), "%s", cd_fixture_path("root.pem"));
    cfg.ca_file = path;
    cfg.no_default_ca = 1;
    if ((st.ctx = cv_ctx_new(&cfg, &err)) == NULL) {
        fprintf(stderr, "test_crl_fetch: cv_ctx_new: %s\n",
            err != NULL ? err : "?");
        return -1;
    }
    return 0;
}

static int
group_teardown(void **state)
{
    DIR *d;
    struct dirent *de;
    char path[600];

    (void)state;
    server_stop();
    cv_ctx_free(st.ctx);
    X509_free(st.good);
    X509_free(st.int_crt);
    X509_free(st.revoked);
    EVP_PKEY_free(st.int_key);
    sk_X509_CRL_pop_free(st.offline, X509_CRL_free);
    free(st.key);
    free(st.chain);
    if (st.dir[0] != '\0' && (d = opendir(st.dir)) != NULL) {
        while ((de = readdir(d)) != NULL) {
            if (strcmp(de->d_name, ".") == 0 ||
                strcmp(de->d_name, "..") == 0)
                continue;
            snprintf(path, sizeof(path), "%s/%s", st.dir, de->d_name);
            unlink(path);
        }
        closedir(d);
        rmdir(st.dir);
    }
    return 0;
}

static int
setup(void **state)
{
    (void)state;
    memset(&srv, 0, sizeof(srv));
    memset(&srv2, 0, sizeof(srv2));
    cv_ctx_crl_cache_clear(st.ctx);
    return 0;
}

static int
teardown(void **state)
{
    (void)state;
    server_stop();
    return 0;
}

/* ---- cv_crl_fetch_http() itself ---- */

static enum cv_fetch_result
fetch(const char *mode, const char *fixture, X509_CRL **crlp, char *detail,
    size_t dlen, double *elapsed)
{
    struct cv_fetch_opts fo = { .timeout = CRL_TIMEOUT, .max_size = SMALL_MAX,
        .proxy = NULL, .allow_loopback = 1 };
    char url[256], file[512];
    enum cv_fetch_result fr;
    double t0;

    snprintf(file, sizeof(file), "%s/crl%d", st.dir, st.n + 1);
    if (fixture != NULL)
        put_file(fixture, file);
    server_start(mode, fixture != NULL ? file : NULL);
    server_url(url, sizeof(url));
    t0 = now_s();
    fr = cv_crl_fetch_http(url, &fo, NULL, crlp, detail, dlen);
    *elapsed = now_s() - t0;
    return fr;
}

static void
test_cv_crl_fetch_http_file(void **state)
{
    X509_CRL *crl = NULL;
    char detail[512];
    double el;

    (void)state;
    assert_int_equal(fetch("file", "int.crl", &crl, detail, sizeof(detail),
        &el), CV_FETCH_OK);
    assert_non_null(crl);
    assert_int_equal(X509_NAME_cmp(X509_CRL_get_issuer(crl),
        X509_get_subject_name(st.int_crt)), 0);
    X509_CRL_free(crl);
    assert_int_equal(server_count(), 1);
    expect_elapsed_max("file", el, FAST);
}

static void
test_cv_crl_fetch_http_garbage_der(void **state)
{
    X509_CRL *crl = NULL;
    char detail[512];
    enum cv_fetch_result fr;
    double el;

    (void)state;
    fr = fetch("garbage-der", NULL, &crl, detail, sizeof(detail), &el);
    assert_true(fr == CV_FETCH_NOT_CRL || fr == CV_FETCH_UNREACHABLE);
    assert_null(crl);
    assert_true(detail[0] != '\0');
    expect_elapsed_max("garbage-der", el, FAST);
}

static void
test_cv_crl_fetch_http_html(void **state)
{
    X509_CRL *crl = NULL;
    char detail[512];
    enum cv_fetch_result fr;
    double el;

    (void)state;
    fr = fetch("html", NULL, &crl, detail, sizeof(detail), &el);
    assert_true(fr == CV_FETCH_NOT_CRL || fr == CV_FETCH_UNREACHABLE);
    assert_null(crl);
    assert_true(detail[0] != '\0');
    expect_elapsed_max("html", el, FAST);
}

static void
test_cv_crl_fetch_http_404(void **state)
{
    X509_CRL *crl = NULL;
    char detail[512];
    double el;

    (void)state;
    assert_int_equal(fetch("404", NULL, &crl, detail, sizeof(detail), &el),
        CV_FETCH_UNREACHABLE);
    assert_null(crl);
    assert_true(detail[0] != '\0');
    expect_elapsed_max("404", el, FAST);
}

static void
test_cv_crl_fetch_http_not_http(void **state)
{
    struct cv_fetch_opts fo = { .timeout = CRL_TIMEOUT, .max_size = SMALL_MAX,
        .proxy = NULL, .allow_loopback = 1 };
    X509_CRL *crl = NULL;
    char detail[512];

    (void)state;
    assert_int_equal(cv_crl_fetch_http("https://127.0.0.1:1/int.crl", &fo,
        NULL, &crl, detail, sizeof(detail)), CV_FETCH_UNREACHABLE);
    assert_null(crl);
    assert_true(detail[0] != '\0');
    assert_int_equal(cv_crl_fetch_http("not a url", &fo, NULL, &crl,
        detail, sizeof(detail)), CV_FETCH_UNREACHABLE);
    assert_null(crl);
}

/* The proxy option is used: the DP is dead, the "proxy" serves the CRL. */
static void
test_cv_crl_fetch_http_proxy(void **state)
{
    struct cv_fetch_opts fo = { .timeout = CRL_TIMEOUT, .max_size = SMALL_MAX,
        .proxy = NULL, .allow_loopback = 1 };
    X509_CRL *crl = NULL;
    char detail[512], proxy[64], file[512];

    (void)state;
    snprintf(file, sizeof(file), "%s/crl-proxy", st.dir);
    put_file("int.crl", file);
    server_start("file", file);
    snprintf(proxy, sizeof(proxy), "127.0.0.1:%d", srv.port);
    fo.proxy = proxy;
    assert_int_equal(cv_crl_fetch_http("http://127.0.0.1:1/int.crl", &fo,
        NULL, &crl, detail, sizeof(detail)), CV_FETCH_OK);
    assert_non_null(crl);
    X509_CRL_free(crl);
    assert_int_equal(server_count(), 1);
}

/* ---- the engine: what each answer becomes ---- */

/* Serves a fixture CRL in file mode and validates once. */
static struct cv_report *
validate_file(const char *fixture, const ASN1_INTEGER *serial)
{
    char file[512];

    snprintf(file, sizeof(file), "%s/crl%d", st.dir, st.n + 1);
    put_file(fixture, file);
    return validate_mode("file", file, serial, CRL_TIMEOUT, 0, NULL);
}

static void
test_cv_validate_crl_good(void **state)
{
    struct cv_report *rep;

    (void)state;
    rep = validate_file("int.crl", NULL);
    expect_only(rep, CV_OK);
    assert_int_equal(server_count(), 1);
    cv_report_free(rep);
}

static void
test_cv_validate_crl_revoked(void **state)
{
    struct cv_report *rep;

    (void)state;
    rep = validate_file("int.crl", st.revoked_serial);
    expect_only(rep, CV_REVOKED);
    cv_report_free(rep);
}

static void
test_cv_validate_crl_stale(void **state)
{
    struct cv_report *rep;

    (void)state;
    rep = validate_file("int-stale.crl", NULL);
    expect_only(rep, CV_CRL_INVALID);
    cv_report_free(rep);
}

static void
test_cv_validate_crl_forged(void **state)
{
    struct cv_report *rep;

    (void)state;
    rep = validate_file("int-forged.crl", NULL);
    expect_only(rep, CV_CRL_INVALID);
    cv_report_free(rep);
}

/* A CRL of another issuer (root.crl at the leaf's DP). */
static void
test_cv_validate_crl_wrong_issuer(void **state)
{
    struct cv_report *rep;

    (void)state;
    rep = validate_file("root.crl", NULL);
    expect_only(rep, CV_CRL_INVALID);
    cv_report_free(rep);
}

/* A PEM CRL over HTTP is not the DER the RFC 5280 DP serves. */
static void
test_cv_validate_crl_pem_body(void **state)
{
    struct cv_report *rep;

    (void)state;
    rep = validate_file("int.crl.pem", NULL);
    expect_only(rep, CV_CRL_UNREACHABLE);
    cv_report_free(rep);
}

/* mode: expect crl_unreachable within max seconds. */
static void
unreachable_within(const char *mode, int timeout, size_t max_size,
    double max)
{
    struct cv_report *rep;
    double el;

    rep = validate_mode(mode, NULL, NULL, timeout, max_size, &el);
    expect_only(rep, CV_CRL_UNREACHABLE);
    expect_elapsed_max(mode, el, max);
    cv_report_free(rep);
}

static void
test_cv_validate_crl_hang(void **state)
{
    (void)state;
    unreachable_within("hang", CRL_TIMEOUT, 0, CRL_TIMEOUT + HANG_SLACK);
}

static void
test_cv_validate_crl_trickle(void **state)
{
    struct cv_report *rep;
    char file[512];
    double el;

    (void)state;
    /* a real CRL: only the timeout stops it */
    snprintf(file, sizeof(file), "%s/crl%d", st.dir, st.n + 1);
    put_file("int.crl", file);
    rep = validate_mode("trickle", file, NULL, CRL_TIMEOUT, 0, &el);
    expect_only(rep, CV_CRL_UNREACHABLE);
    expect_elapsed_max("trickle", el, CRL_TIMEOUT + HANG_SLACK);
    cv_report_free(rep);
}

/* The size cap: Content-Length says 100 MB; refused before the body. */
static void
test_cv_validate_crl_big(void **state)
{
    (void)state;
    unreachable_within("big", 10, SMALL_MAX, FAST);
}

/* The same with the default cap (10 MiB) and default timeout. */
static void
test_cv_validate_crl_big_default_cap(void **state)
{
    (void)state;
    unreachable_within("big", 0, 0, FAST);
}

static void
test_cv_validate_crl_big_nolen(void **state)
{
    (void)state;
    unreachable_within("big-nolen", 10, SMALL_MAX, FAST);
}

/* No Content-Length, but a DER header announcing 100 MiB. */
static void
test_cv_validate_crl_big_der(void **state)
{
    (void)state;
    unreachable_within("big-der", 10, SMALL_MAX, FAST);
}

static void
test_cv_validate_crl_html(void **state)
{
    (void)state;
    unreachable_within("html", 10, 0, FAST);
}

static void
test_cv_validate_crl_404(void **state)
{
    (void)state;
    unreachable_within("404", 10, 0, FAST);
}

static void
test_cv_validate_crl_redirect_loop(void **state)
{
    (void)state;
    unreachable_within("redirect", CRL_TIMEOUT, 0, CRL_TIMEOUT + HANG_SLACK);
}

static void
test_cv_validate_crl_reset(void **state)
{
    (void)state;
    unreachable_within("reset", 10, 0, FAST);
}

static void
test_cv_validate_crl_garbage_der(void **state)
{
    (void)state;
    unreachable_within("garbage-der", 10, 0, FAST);
}

/*
 * A redirect to another server (as CDNs answer): the CRL is fetched from
 * there, and the first server is asked once, not in a loop.  (crl.c hands
 * its own connected BIO to OSSL_HTTP_get(), which then sends every
 * redirected request down that BIO, to the first server again.)
 */
static void
test_cv_validate_crl_redirect_other_server(void **state)
{
    struct cv_report *rep;
    char file[512], url[256], target[256];
    long a, b;
    double el;

    (void)state;
    snprintf(file, sizeof(file), "%s/crl-target", st.dir);
    put_file("int.crl", file);
    server_start_into(&srv2, "file", file, NULL);
    snprintf(target, sizeof(target), "http://127.0.0.1:%d/moved/int.crl",
        srv2.port);
    server_start_into(&srv, "redirect", NULL, target);
    server_url(url, sizeof(url));
    rep = validate_url(url, NULL, CRL_TIMEOUT, 0, &el);
    a = read_num(srv.count_file);
    b = read_num(srv2.count_file);
    print_message("    first server asked %ld time(s), target %ld\n", a, b);
    if (a != 1 || b != 1) {
        char text[1024];

        codes_text(rep, text, sizeof(text));
        cv_report_free(rep);
        show_log(srv.log_file);
        fail_msg("the redirect was not followed to the other server "
            "(first server asked %ld time(s), target %ld; findings [%s])",
            a, b, text);
    }
    expect_only(rep, CV_OK);
    expect_elapsed_max("redirect to another server", el, FAST);
    cv_report_free(rep);
}

/* Nothing listens: refused at once, not after the timeout. */
static void
test_cv_validate_crl_closed_port(void **state)
{
    struct sockaddr_in sa;
    socklen_t slen = sizeof(sa);
    struct cv_report *rep;
    char url[128];
    double el;
    int fd;

    (void)state;
    fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &slen), 0);
    close(fd);
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/int.crl",
        ntohs(sa.sin_port));
    rep = validate_url(url, NULL, 10, 0, &el);
    expect_only(rep, CV_CRL_UNREACHABLE);
    expect_elapsed_max("closed port", el, FAST);
    cv_report_free(rep);
}

/* ---- the cache ---- */

/* A second validation with the same DP does not ask the server again. */
static void
test_cv_validate_crl_cached(void **state)
{
    struct cv_report *rep;
    char url[256];

    (void)state;
    rep = validate_file("int.crl", NULL);
    expect_only(rep, CV_OK);
    cv_report_free(rep);
    assert_int_equal(server_count(), 1);
    server_url(url, sizeof(url));
    rep = validate_url(url, NULL, CRL_TIMEOUT, 0, NULL);
    expect_only(rep, CV_OK);
    cv_report_free(rep);
    assert_int_equal(server_count(), 1);
    /* and a revoked leaf is found in the cached CRL */
    rep = validate_url(url, st.revoked_serial, CRL_TIMEOUT, 0, NULL);
    expect_only(rep, CV_REVOKED);
    cv_report_free(rep);
    assert_int_equal(server_count(), 1);
    /* cleared: fetched again */
    cv_ctx_crl_cache_clear(st.ctx);
    rep = validate_url(url, NULL, CRL_TIMEOUT, 0, NULL);
    expect_only(rep, CV_OK);
    cv_report_free(rep);
    assert_int_equal(server_count(), 2);
}

/* A CRL past its nextUpdate is not kept: the next upload asks again. */
static void
test_cv_validate_crl_stale_not_cached(void **state)
{
    struct cv_report *rep;
    char url[256];

    (void)state;
    rep = validate_file("int-stale.crl", NULL);
    expect_only(rep, CV_CRL_INVALID);
    cv_report_free(rep);
    server_url(url, sizeof(url));
    rep = validate_url(url, NULL, CRL_TIMEOUT, 0, NULL);
    expect_only(rep, CV_CRL_INVALID);
    cv_report_free(rep);
    assert_int_equal(server_count(), 2);
}

/* Failures are not cached either: the server is asked each time. */
static void
test_cv_validate_crl_unreachable_not_cached(void **state)
{
    struct cv_report *rep;
    char url[256];

    (void)state;
    server_start("404", NULL);
    server_url(url, sizeof(url));
    rep = validate_url(url, NULL, CRL_TIMEOUT, 0, NULL);
    expect_only(rep, CV_CRL_UNREACHABLE);
    cv_report_free(rep);
    rep = validate_url(url, NULL, CRL_TIMEOUT, 0, NULL);
    expect_only(rep, CV_CRL_UNREACHABLE);
    cv_report_free(rep);
    assert_int_equal(server_count(), 2);
}

/*
 * A CRL whose signature does not verify is not a CRL of that issuer, so it
 * must not stand in the cache until its (forged) nextUpdate: once the
 * server publishes the right CRL, the next upload must see it.  (crl.c
 * caches every fetched CRL with a future nextUpdate before check_one()
 * has verified it.)
 */
static void
test_cv_validate_crl_forged_not_cached(void **state)
{
    struct cv_report *rep;
    char url[256], file[512];

    (void)state;
    snprintf(file, sizeof(file), "%s/crl%d", st.dir, st.n + 1);
    rep = validate_file("int-forged.crl", NULL);
    expect_only(rep, CV_CRL_INVALID);
    cv_report_free(rep);
    put_file("int.crl", file);  /* the server now has the right one */
    server_url(url, sizeof(url));
    rep = validate_url(url, NULL, CRL_TIMEOUT, 0, NULL);
    if (server_count() != 2) {
        char text[1024];

        codes_text(rep, text, sizeof(text));
        cv_report_free(rep);
        fail_msg("the forged CRL was served from the cache (server asked "
            "%ld time(s), findings [%s])", server_count(), text);
    }
    expect_only(rep, CV_OK);
    cv_report_free(rep);
}

/* ---- addresses CRLs are never fetched from (issue 12, finding 8) ---- */

/*
 * Loopback is refused unless allowed, by the address the name resolves
 * to, before any connection: the server running there is never asked.
 */
static void
test_cv_crl_fetch_http_loopback_denied(void **state)
{
    struct cv_fetch_opts fo = { .timeout = CRL_TIMEOUT, .max_size = SMALL_MAX,
        .proxy = NULL, .allow_loopback = 0 };
    static const char *const hosts[] = { "127.0.0.1", "localhost",
        "127.1.2.3" };
    X509_CRL *crl = NULL;
    char detail[512], url[256], file[512];
    size_t i;

    (void)state;
    snprintf(file, sizeof(file), "%s/crl-lo", st.dir);
    put_file("int.crl", file);
    server_start("file", file);
    for (i = 0; i < sizeof(hosts) / sizeof(hosts[0]); i++) {
        snprintf(url, sizeof(url), "http://%s:%d/int.crl", hosts[i],
            srv.port);
        assert_int_equal(cv_crl_fetch_http(url, &fo, NULL, &crl, detail,
            sizeof(detail)), CV_FETCH_UNREACHABLE);
        assert_null(crl);
        if (strstr(detail, "loopback") == NULL ||
            strstr(detail, "not fetched") == NULL)
            fail_msg("%s: detail \"%s\"", url, detail);
    }
    assert_int_equal(server_count(), 0);
    /* allowed (as every other test here): fetched */
    fo.allow_loopback = 1;
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/int.crl", srv.port);
    assert_int_equal(cv_crl_fetch_http(url, &fo, NULL, &crl, detail,
        sizeof(detail)), CV_FETCH_OK);
    X509_CRL_free(crl);
    assert_int_equal(server_count(), 1);
}

/*
 * Link-local (cloud metadata), unspecified, multicast, reserved, also
 * inside IPv6: refused at once, loopback allowed or not; private ranges
 * are not refused (the attempt fails otherwise).
 */
static void
test_cv_crl_fetch_http_denied_ranges(void **state)
{
    static const struct {
        const char *host;
        const char *why;
    } denied[] = {
        { "169.254.169.254", "link-local" },
        { "169.254.0.1", "link-local" },
        { "[fe80::1]", "link-local" },
        { "[fe80::a9fe:a9fe]", "link-local" },
        { "[::ffff:169.254.169.254]", "link-local" },
        { "[64:ff9b::a9fe:a9fe]", "link-local" },
        { "[fd00:ec2::254]", "metadata" },
        { "0.0.0.0", "unspecified" },
        { "[::]", "unspecified" },
        { "224.0.0.1", "multicast" },
        { "239.255.255.250", "multicast" },
        { "[ff02::1]", "multicast" },
        { "255.255.255.255", "broadcast" },
        { "[::ffff:127.0.0.1]", "loopback" },
        { "[::1]", "loopback" },
    };
    struct cv_fetch_opts fo = { .timeout = 1, .max_size = SMALL_MAX,
        .proxy = NULL, .allow_loopback = 0 };
    X509_CRL *crl = NULL;
    char detail[512], url[256];
    size_t i;
    double t0, el;
    int lo;

    (void)state;
    for (i = 0; i < sizeof(denied) / sizeof(denied[0]); i++) {
        lo = strcmp(denied[i].why, "loopback") == 0;
        fo.allow_loopback = !lo;
        snprintf(url, sizeof(url), "http://%s/x.crl", denied[i].host);
        t0 = now_s();
        assert_int_equal(cv_crl_fetch_http(url, &fo, NULL, &crl, detail,
            sizeof(detail)), CV_FETCH_UNREACHABLE);
        el = now_s() - t0;
        assert_null(crl);
        if (strstr(detail, denied[i].why) == NULL ||
            strstr(detail, "not fetched") == NULL)
            fail_msg("%s: detail \"%s\"", url, detail);
        expect_elapsed_max(url, el, FAST);
    }
    /* 10.0.0.0/8 is tried (nothing listens on this documentation-like
     * address, so it fails some other way within the 1 s timeout) */
    snprintf(url, sizeof(url), "http://10.255.255.1:1/x.crl");
    assert_int_equal(cv_crl_fetch_http(url, &fo, NULL, &crl, detail,
        sizeof(detail)), CV_FETCH_UNREACHABLE);
    if (strstr(detail, "not fetched") != NULL)
        fail_msg("a private address was refused: %s", detail);
}

/* A redirect to a denied address is refused like the address itself. */
static void
test_cv_crl_fetch_http_redirect_denied(void **state)
{
    struct cv_fetch_opts fo = { .timeout = CRL_TIMEOUT, .max_size = SMALL_MAX,
        .proxy = NULL, .allow_loopback = 1 };
    X509_CRL *crl = NULL;
    char detail[512], url[256];

    (void)state;
    server_start_into(&srv, "redirect", NULL,
        "http://169.254.169.254/latest/meta-data/");
    server_url(url, sizeof(url));
    assert_int_equal(cv_crl_fetch_http(url, &fo, NULL, &crl, detail,
        sizeof(detail)), CV_FETCH_UNREACHABLE);
    assert_null(crl);
    if (strstr(detail, "link-local") == NULL)
        fail_msg("redirect to 169.254.169.254: detail \"%s\"", detail);
    assert_int_equal(server_count(), 1);
}

/*
 * Through a proxy, the URL's host is judged here (the proxy would reach
 * it): the proxy is never asked for a denied one.
 */
static void
test_cv_crl_fetch_http_proxy_denied(void **state)
{
    struct cv_fetch_opts fo = { .timeout = CRL_TIMEOUT, .max_size = SMALL_MAX,
        .proxy = NULL, .allow_loopback = 1 };
    X509_CRL *crl = NULL;
    char detail[512], proxy[64], file[512];

    (void)state;
    snprintf(file, sizeof(file), "%s/crl-proxy", st.dir);
    put_file("int.crl", file);
    server_start("file", file);
    snprintf(proxy, sizeof(proxy), "127.0.0.1:%d", srv.port);
    fo.proxy = proxy;
    assert_int_equal(cv_crl_fetch_http("http://169.254.169.254/int.crl",
        &fo, NULL, &crl, detail, sizeof(detail)), CV_FETCH_UNREACHABLE);
    assert_null(crl);
    if (strstr(detail, "link-local") == NULL)
        fail_msg("through a proxy: detail \"%s\"", detail);
    assert_int_equal(server_count(), 0);
}

/*
 * crl_denied_ranges (issue 12, finding 8): a configured range is refused
 * at once even inside an allowed loopback, for the URL's own address and
 * for a redirect; the rest of loopback is still fetched from.
 */
static void
test_cv_crl_fetch_http_configured_range(void **state)
{
    struct cv_fetch_opts fo = { .timeout = CRL_TIMEOUT, .max_size = SMALL_MAX,
        .proxy = NULL, .allow_loopback = 1 };
    struct cv_net net[2];
    X509_CRL *crl = NULL;
    char detail[512], url[256], file[512], to[256];
    double t0;

    (void)state;
    assert_int_equal(cv_net_parse("127.0.0.2/32", &net[0]), 0);
    assert_int_equal(cv_net_parse("192.0.2.0/24", &net[1]), 0);
    fo.denied = net;
    fo.n_denied = 2;
    snprintf(file, sizeof(file), "%s/crl-range", st.dir);
    put_file("int.crl", file);
    server_start("file", file);
    snprintf(url, sizeof(url), "http://127.0.0.2:%d/int.crl", srv.port);
    t0 = now_s();
    assert_int_equal(cv_crl_fetch_http(url, &fo, NULL, &crl, detail,
        sizeof(detail)), CV_FETCH_UNREACHABLE);
    expect_elapsed_max(url, now_s() - t0, FAST);
    assert_null(crl);
    if (strstr(detail, "in the denied range 127.0.0.2/32") == NULL ||
        strstr(detail, "not fetched") == NULL)
        fail_msg("%s: detail \"%s\"", url, detail);
    assert_int_equal(server_count(), 0);
    /* 127.0.0.1 is outside the range: fetched */
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/int.crl", srv.port);
    assert_int_equal(cv_crl_fetch_http(url, &fo, NULL, &crl, detail,
        sizeof(detail)), CV_FETCH_OK);
    X509_CRL_free(crl);
    crl = NULL;
    assert_int_equal(server_count(), 1);
    /* a redirect into the range: refused after the one request */
    snprintf(to, sizeof(to), "http://127.0.0.2:%d/int.crl", srv.port);
    server_stop_one(&srv);
    server_start_into(&srv, "redirect", NULL, to);
    server_url(url, sizeof(url));
    assert_int_equal(cv_crl_fetch_http(url, &fo, NULL, &crl, detail,
        sizeof(detail)), CV_FETCH_UNREACHABLE);
    assert_null(crl);
    if (strstr(detail, "denied range 127.0.0.2/32") == NULL)
        fail_msg("redirect to %s: detail \"%s\"", to, detail);
    assert_int_equal(server_count(), 1);
}

/* cv_net_parse and cv_net_denied: the setting's text and its judgement. */
static void
test_cv_net(void **state)
{
    static const char *good[] = { "10.0.0.0/8", "169.254.169.254",
        "fe80::/10", "::1/128", "0.0.0.0/0", "::/0", "192.0.2.128/25" };
    static const char *bad[] = { "", "10.1.2.3/8", "1.2.3.4/33", "x",
        "1.2.3.4/", "1.2.3.4/ 8", "fe80::1/10", "::/129", "1.2.3.4/-1",
        "10.0.0.0/08x", "999.1.1.1" };
    struct sockaddr_in v4;
    struct sockaddr_in6 v6;
    struct cv_net n;
    char why[96], text[64];
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(good) / sizeof(good[0]); i++)
        if (cv_net_parse(good[i], &n) != 0)
            fail_msg("\"%s\" refused", good[i]);
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        if (cv_net_parse(bad[i], &n) == 0)
            fail_msg("\"%s\" accepted", bad[i]);
    assert_int_equal(cv_net_parse("10.9.0.0/16", &n), 0);
    cv_net_text(&n, text, sizeof(text));
    assert_string_equal(text, "10.9.0.0/16");
    memset(&v4, 0, sizeof(v4));
    v4.sin_family = AF_INET;
    memset(&v6, 0, sizeof(v6));
    v6.sin6_family = AF_INET6;
    /* the configured list replaces the defaults */
    inet_pton(AF_INET, "10.9.1.1", &v4.sin_addr);
    assert_int_equal(cv_net_denied((struct sockaddr *)&v4, &n, 1, 0, why,
        sizeof(why)), 1);
    assert_string_equal(why, "in the denied range 10.9.0.0/16");
    assert_int_equal(cv_net_denied((struct sockaddr *)&v4, NULL, 0, 0, why,
        sizeof(why)), 0);
    inet_pton(AF_INET, "169.254.169.254", &v4.sin_addr);
    assert_int_equal(cv_net_denied((struct sockaddr *)&v4, &n, 1, 0, why,
        sizeof(why)), 0);
    assert_int_equal(cv_net_denied((struct sockaddr *)&v4, NULL, 0, 1, why,
        sizeof(why)), 1);
    assert_non_null(strstr(why, "link-local"));
    /* an empty list: loopback still follows allow_loopback */
    inet_pton(AF_INET, "127.0.0.1", &v4.sin_addr);
    assert_int_equal(cv_net_denied((struct sockaddr *)&v4, &n, 0, 0, why,
        sizeof(why)), 1);
    assert_string_equal(why, "a loopback address");
    assert_int_equal(cv_net_denied((struct sockaddr *)&v4, &n, 0, 1, why,
        sizeof(why)), 0);
    /* IPv4 in IPv6 is judged by the IPv4 ranges */
    inet_pton(AF_INET6, "::ffff:10.9.3.4", &v6.sin6_addr);
    assert_int_equal(cv_net_denied((struct sockaddr *)&v6, &n, 1, 0, why,
        sizeof(why)), 1);
    inet_pton(AF_INET6, "2001:db8::1", &v6.sin6_addr);
    assert_int_equal(cv_net_denied((struct sockaddr *)&v6, &n, 1, 0, why,
        sizeof(why)), 0);
}

/* The engine: a leaf whose DP is on the loopback, not allowed. */
static void
test_cv_validate_crl_loopback_denied(void **state)
{
    struct cv_input in;
    struct cv_options opt;
    struct cv_report *rep;
    const struct cv_finding *f = NULL;
    char url[256], file[512];
    uint8_t *crt;
    size_t n, i;

    (void)state;
    snprintf(file, sizeof(file), "%s/crl-eng", st.dir);
    put_file("int.crl", file);
    server_start("file", file);
    server_url(url, sizeof(url));
    crt = make_leaf(url, NULL, &n);
    memset(&in, 0, sizeof(in));
    in.key = st.key;
    in.key_len = st.key_len;
    in.crt = crt;
    in.crt_len = n;
    in.chain = st.chain;
    in.chain_len = st.chain_len;
    memset(&opt, 0, sizeof(opt));
    opt.at = st.at;
    opt.use_crl = 1;
    opt.hostname = "sensor.contoso.com";
    opt.fetch.timeout = CRL_TIMEOUT;
    opt.offline_crls = st.offline;
    rep = cv_validate(st.ctx, &in, &opt);
    expect_only(rep, CV_CRL_UNREACHABLE);
    for (i = 0; i < rep->n_findings && f == NULL; i++)
        if (rep->findings[i].code == CV_CRL_UNREACHABLE)
            f = &rep->findings[i];
    assert_non_null(f);
    assert_non_null(f->detail);
    assert_non_null(strstr(f->detail, "loopback"));
    assert_int_equal(server_count(), 0);
    cv_report_free(rep);
    free(crt);
}

/* ---- the cache's byte cap ---- */

/* Validates a good leaf whose DP is the running server's URL + suffix. */
static void
validate_suffix(const char *suffix)
{
    struct cv_report *rep;
    char base[256], url[300];

    server_url(base, sizeof(base));
    snprintf(url, sizeof(url), "%s.%s", base, suffix);
    rep = validate_url(url, NULL, CRL_TIMEOUT, 0, NULL);
    expect_only(rep, CV_OK);
    cv_report_free(rep);
}

/* A context like the group's, its CRL cache capped at max bytes. */
static struct cv_ctx *
ctx_capped(size_t max)
{
    struct cv_config cfg;
    struct cv_ctx *ctx;
    char path[512], *err = NULL;

    memset(&cfg, 0, sizeof(cfg));
    snprintf(path, sizeof(path), "%s", cd_fixture_path("root.pem"));
    cfg.ca_file = path;
    cfg.no_default_ca = 1;
    cfg.crl_cache_max = max;
    ctx = cv_ctx_new(&cfg, &err);
    if (ctx == NULL)
        fail_msg("cv_ctx_new: %s", err != NULL ? err : "?");
    return ctx;
}

static size_t count_in(const struct cv_report *, enum cv_code,
    const char *);

/*
 * The same CRL (int.crl) at four URLs, in a cache capped at two and a half
 * of it: the least recently used goes, a recently used one stays, and the
 * total never passes the cap.  A CRL larger than the cap is not read.
 */
static void
test_cv_validate_crl_cache_cap(void **state)
{
    struct cv_ctx *group_ctx = st.ctx;
    struct cv_report *rep;
    uint8_t *der;
    size_t unit, der_len, n, cap;
    char file[512], base[256], url[300];
    int k;

    (void)state;
    der = cd_fixture_read("int.crl", &der_len);
    assert_non_null(der);
    free(der);
    snprintf(file, sizeof(file), "%s/crl-cap", st.dir);
    put_file("int.crl", file);
    server_start("file", file);

    /* what one cached int.crl counts: at least its DER size */
    validate_suffix("unit");
    unit = cv_ctx_crl_cache_bytes(st.ctx, &n);
    assert_int_equal(n, 1);
    print_message("    int.crl: %zu bytes DER, counts %zu\n", der_len, unit);
    assert_true(unit >= der_len);
    assert_int_equal(server_count(), 1);

    cap = unit * 2 + unit / 2;
    st.ctx = ctx_capped(cap);
    validate_suffix("a");
    validate_suffix("b");
    assert_int_equal(cv_ctx_crl_cache_bytes(st.ctx, &n), 2 * unit);
    assert_int_equal(n, 2);
    assert_int_equal(server_count(), 3);
    validate_suffix("a");               /* a hit: a is now the newest */
    assert_int_equal(server_count(), 3);
    validate_suffix("c");               /* b, the least recently used, goes */
    assert_int_equal(server_count(), 4);
    assert_true(cv_ctx_crl_cache_bytes(st.ctx, &n) <= cap);
    assert_int_equal(n, 2);
    validate_suffix("a");               /* still cached */
    assert_int_equal(server_count(), 4);
    validate_suffix("b");               /* evicted: fetched again */
    assert_int_equal(server_count(), 5);
    assert_true(cv_ctx_crl_cache_bytes(st.ctx, &n) <= cap);
    assert_int_equal(n, 2);
    validate_suffix("c");               /* c went for b: a, b are left */
    assert_int_equal(server_count(), 6);
    validate_suffix("d");
    validate_suffix("e");
    assert_int_equal(server_count(), 8);
    assert_true(cv_ctx_crl_cache_bytes(st.ctx, &n) <= cap);
    assert_int_equal(n, 2);
    cv_ctx_free(st.ctx);

    /*
     * a cap below one CRL: downloaded, not read, not kept, the detail
     * says which setting to raise; every upload asks again
     */
    st.ctx = ctx_capped(unit - 1);
    for (k = 0; k < 2; k++) {
        server_url(base, sizeof(base));
        snprintf(url, sizeof(url), "%s.f", base);
        rep = validate_url(url, NULL, CRL_TIMEOUT, 0, NULL);
        assert_non_null(rep);
        assert_int_equal(count_in(rep, CV_CRL_UNREACHABLE,
            "more than crl_cache_max"), 1);
        assert_int_equal(count_in(rep, CV_CRL_UNREACHABLE,
            "raise crl_cache_max"), 1);
        cv_report_free(rep);
    }
    assert_int_equal(cv_ctx_crl_cache_bytes(st.ctx, &n), 0);
    assert_int_equal(n, 0);
    assert_int_equal(server_count(), 10);
    cv_ctx_free(st.ctx);
    st.ctx = group_ctx;
}

/* ---- one deadline for all the CRL fetches of a request ---- */

/* Adds the extension nid = val (issuer: the extension context) to x. */
static void
add_ext(X509 *x, X509 *issuer, int nid, const char *val)
{
    X509V3_CTX v3;
    X509_EXTENSION *ext;
    int idx;

    while ((idx = X509_get_ext_by_NID(x, nid, -1)) >= 0)
        X509_EXTENSION_free(X509_delete_ext(x, idx));
    X509V3_set_ctx(&v3, issuer, x, NULL, NULL, 0);
    ext = X509V3_EXT_nconf_nid(NULL, &v3, nid, val);
    assert_non_null(ext);
    assert_int_equal(X509_add_ext(x, ext, -1), 1);
    X509_EXTENSION_free(ext);
}

/*
 * A CA "CN=Hang CA <i>" issued by issuer/ikey, with url as its CRL DP and
 * the key *keyp (made beforehand); valid around the fixture time.
 */
static X509 *
make_ca(int i, X509 *issuer, EVP_PKEY *ikey, const char *url,
    EVP_PKEY **keyp)
{
    X509 *x = X509_new();
    X509_NAME *nm = X509_NAME_new();
    char cn[64], dp[600];

    assert_non_null(x);
    assert_non_null(nm);
    assert_non_null(*keyp);
    snprintf(cn, sizeof(cn), "Hang CA %d", i);
    assert_int_equal(X509_NAME_add_entry_by_txt(nm, "CN", MBSTRING_ASC,
        (const unsigned char *)cn, -1, -1, 0), 1);
    assert_int_equal(X509_set_version(x, 2), 1);
    assert_int_equal(ASN1_INTEGER_set(X509_get_serialNumber(x), 1000 + i),
        1);
    assert_int_equal(X509_set_subject_name(x, nm), 1);
    assert_int_equal(X509_set_issuer_name(x,
        X509_get_subject_name(issuer)), 1);
    assert_non_null(X509_time_adj_ex(X509_getm_notBefore(x), -1, 0,
        &st.at));
    assert_non_null(X509_time_adj_ex(X509_getm_notAfter(x), 365, 0,
        &st.at));
    assert_int_equal(X509_set_pubkey(x, *keyp), 1);
    add_ext(x, issuer, NID_basic_constraints, "critical,CA:TRUE");
    add_ext(x, issuer, NID_key_usage, "critical,keyCertSign,cRLSign");
    add_ext(x, issuer, NID_subject_key_identifier, "hash");
    add_ext(x, issuer, NID_authority_key_identifier, "keyid:always");
    snprintf(dp, sizeof(dp), "URI:%s", url);
    add_ext(x, issuer, NID_crl_distribution_points, dp);
    assert_true(X509_sign(x, ikey, EVP_sha256()) > 0);
    X509_NAME_free(nm);
    return x;
}

/* Appends x as PEM to b. */
static void
pem_add(BIO *b, X509 *x)
{
    assert_int_equal(PEM_write_bio_X509(b, x), 1);
}

/* The fixtures' root key. */
static EVP_PKEY *
root_key_load(void)
{
    BIO *kb = BIO_new_file(cd_fixture_path("root.key"), "r");
    EVP_PKEY *k = NULL;

    if (kb != NULL)
        k = PEM_read_bio_PrivateKey(kb, NULL, NULL, NULL);
    BIO_free(kb);
    assert_non_null(k);
    return k;
}

/*
 * The upload of a chain: good.pem re-issued by issuer (ikey) with its CRL
 * DP at base + ".leaf" into *leafp and lb, the CAs ca[n - 1] .. ca[0] into
 * cb, and in / opt for a validation with CRLs over the loopback.
 */
static void
chain_upload(X509 *issuer, EVP_PKEY *ikey, X509 **ca, int n,
    const char *base, X509 **leafp, BIO *lb, BIO *cb, struct cv_input *in,
    struct cv_options *opt)
{
    X509 *leaf = X509_dup(st.good);
    char url[300], *cp, *lp;
    long clen, llen;
    int k;

    assert_non_null(leaf);
    assert_int_equal(X509_set_issuer_name(leaf,
        X509_get_subject_name(issuer)), 1);
    add_ext(leaf, issuer, NID_authority_key_identifier, "keyid:always");
    snprintf(url, sizeof(url), "URI:%s.leaf", base);
    add_ext(leaf, issuer, NID_crl_distribution_points, url);
    assert_true(X509_sign(leaf, ikey, EVP_sha256()) > 0);
    pem_add(lb, leaf);
    for (k = n - 1; k >= 0; k--)
        pem_add(cb, ca[k]);
    clen = BIO_get_mem_data(cb, &cp);
    llen = BIO_get_mem_data(lb, &lp);
    memset(in, 0, sizeof(*in));
    in->key = st.key;
    in->key_len = st.key_len;
    in->crt = (const uint8_t *)lp;
    in->crt_len = (size_t)llen;
    in->chain = (const uint8_t *)cp;
    in->chain_len = (size_t)clen;
    memset(opt, 0, sizeof(*opt));
    opt->at = st.at;
    opt->use_crl = 1;
    opt->hostname = "sensor.contoso.com";
    opt->fetch.timeout = CRL_TIMEOUT;
    opt->fetch.allow_loopback = 1;
    opt->offline_crls = st.offline;
    *leafp = leaf;
}

#define DEEP_CAS        5       /* CAs between the root and the leaf */

/* How many times needle occurs in the details of code's findings. */
static size_t
count_in(const struct cv_report *rep, enum cv_code code, const char *needle)
{
    const char *p;
    size_t i, n = 0;

    for (i = 0; i < rep->n_findings; i++) {
        if (rep->findings[i].code != code || rep->findings[i].detail == NULL)
            continue;
        for (p = rep->findings[i].detail; (p = strstr(p, needle)) != NULL;
            p += strlen(needle))
            n++;
    }
    return n;
}

/*
 * A leaf under DEEP_CAS CAs (the first issued by the root, its CRL the
 * offline root.crl), the CRL DPs of the others and of the leaf on a server
 * that never answers: the request gives up when the one deadline for all
 * its fetches (timeout + 1 s) has passed, not after one timeout per
 * certificate.  Every certificate still gets its crl_unreachable; those
 * not fetched say why.
 */
static void
test_cv_validate_crl_deadline_deep_chain(void **state)
{
    X509 *ca[DEEP_CAS], *issuer, *leaf, *root = load_crt("root.pem");
    EVP_PKEY *key[DEEP_CAS], *ikey, *root_key = root_key_load();
    struct cv_input in;
    struct cv_options opt;
    struct cv_report *rep;
    BIO *cb = BIO_new(BIO_s_mem()), *lb = BIO_new(BIO_s_mem());
    char url[300], base[256], text[8192];
    size_t unreachable, not_fetched;
    long started;
    double t0, el;
    int k;

    (void)state;
    assert_non_null(root);
    assert_non_null(cb);
    assert_non_null(lb);
    issuer = root;
    ikey = root_key;
    /*
     * The keys first: five RSA keys took 26 s on a loaded machine, past
     * the server's own SERVER_SECONDS when it was started before them.
     */
    for (k = 0; k < DEEP_CAS; k++)
        key[k] = EVP_RSA_gen(2048);
    server_start("hang", NULL);
    server_url(base, sizeof(base));
    for (k = 0; k < DEEP_CAS; k++) {
        snprintf(url, sizeof(url), "%s.%d", base, k);
        ca[k] = make_ca(k, issuer, ikey, url, &key[k]);
        issuer = ca[k];
        ikey = key[k];
    }
    /* the leaf: good.pem re-issued by the last CA, its DP hangs too */
    chain_upload(issuer, ikey, ca, DEEP_CAS, base, &leaf, lb, cb, &in,
        &opt);
    t0 = now_s();
    rep = cv_validate(st.ctx, &in, &opt);
    el = now_s() - t0;
    assert_non_null(rep);
    codes_text(rep, text, sizeof(text));
    print_message("    %s\n", text);
    /* the leaf's finding is on crt, the CAs' (merged) on chain */
    if (rep->n_findings != 2 ||
        rep->findings[0].code != CV_CRL_UNREACHABLE ||
        rep->findings[1].code != CV_CRL_UNREACHABLE)
        fail_msg("wanted [crl_unreachable crl_unreachable], got [%s]", text);
    /* the leaf and every CA under the first: one URL each */
    unreachable = count_in(rep, CV_CRL_UNREACHABLE, "http://");
    not_fetched = count_in(rep, CV_CRL_UNREACHABLE, "not fetched: the 3 s "
        "allowed for all CRL downloads of one request had passed");
    assert_int_equal(unreachable, DEEP_CAS);
    /*
     * Timeout 2 s, deadline 3 s (whole seconds): one fetch waits its 2 s,
     * a second at most the second left, a third may start in the last
     * part of a second; the rest are never started.
     */
    started = server_count();
    print_message("    fetches started: %ld of %d\n", started, DEEP_CAS);
    if (started < 1 || started > 3)
        fail_msg("%ld fetches started, wanted 1 to 3", started);
    assert_true(not_fetched >= (size_t)(DEEP_CAS - 3));
    assert_int_equal(not_fetched + (size_t)started, DEEP_CAS);
    expect_elapsed_max("deep hanging chain", el, CRL_TIMEOUT + 1 + 5);
    cv_report_free(rep);
    for (k = 0; k < DEEP_CAS; k++) {
        X509_free(ca[k]);
        EVP_PKEY_free(key[k]);
    }
    X509_free(leaf);
    X509_free(root);
    EVP_PKEY_free(root_key);
    BIO_free(cb);
    BIO_free(lb);
}

/*
 * A CRL of int.pem (its name and key identifier) signed with int.key into
 * path as DER: number, a delta on base (0: a complete CRL), revoking
 * serial (NULL: nothing) and more other serials (none of the fixtures'),
 * valid around the fixture time.
 */
static void
write_int_crl(const char *path, long number, long base,
    const ASN1_INTEGER *serial, long more)
{
    X509_CRL *c = X509_CRL_new();
    ASN1_TIME *t = ASN1_TIME_new();
    ASN1_INTEGER *num = ASN1_INTEGER_new();
    X509_EXTENSION *ext;
    X509V3_CTX v3;
    BIO *b;

    assert_non_null(c);
    assert_non_null(t);
    assert_non_null(num);
    assert_int_equal(X509_CRL_set_version(c, 1), 1);
    assert_int_equal(X509_CRL_set_issuer_name(c,
        X509_get_subject_name(st.int_crt)), 1);
    assert_non_null(X509_time_adj_ex(t, -1, 0, &st.at));
    assert_int_equal(X509_CRL_set1_lastUpdate(c, t), 1);
    assert_non_null(X509_time_adj_ex(t, 7, 0, &st.at));
    assert_int_equal(X509_CRL_set1_nextUpdate(c, t), 1);
    if (serial != NULL) {
        X509_REVOKED *r = X509_REVOKED_new();

        assert_non_null(r);
        assert_int_equal(X509_REVOKED_set_serialNumber(r,
            (ASN1_INTEGER *)serial), 1);
        assert_non_null(X509_time_adj_ex(t, -1, 0, &st.at));
        assert_int_equal(X509_REVOKED_set_revocationDate(r, t), 1);
        assert_int_equal(X509_CRL_add0_revoked(c, r), 1);
    }
    assert_non_null(X509_time_adj_ex(t, -1, 0, &st.at));
    for (; more > 0; more--) {
        X509_REVOKED *r = X509_REVOKED_new();

        assert_non_null(r);
        assert_int_equal(ASN1_INTEGER_set(num, 0x7e000000L + more), 1);
        assert_int_equal(X509_REVOKED_set_serialNumber(r, num), 1);
        assert_int_equal(X509_REVOKED_set_revocationDate(r, t), 1);
        assert_int_equal(X509_CRL_add0_revoked(c, r), 1);
    }
    assert_int_equal(ASN1_INTEGER_set(num, number), 1);
    assert_int_equal(X509_CRL_add1_ext_i2d(c, NID_crl_number, num, 0, 0), 1);
    if (base != 0) {
        assert_int_equal(ASN1_INTEGER_set(num, base), 1);
        assert_int_equal(X509_CRL_add1_ext_i2d(c, NID_delta_crl, num, 1, 0),
            1);
    }
    X509V3_set_ctx(&v3, st.int_crt, NULL, NULL, c, 0);
    ext = X509V3_EXT_nconf_nid(NULL, &v3, NID_authority_key_identifier,
        "keyid:always");
    assert_non_null(ext);
    assert_int_equal(X509_CRL_add_ext(c, ext, -1), 1);
    X509_EXTENSION_free(ext);
    assert_int_equal(X509_CRL_sort(c), 1);
    assert_true(X509_CRL_sign(c, st.int_key, EVP_sha256()) > 0);
    assert_non_null(b = BIO_new_file(path, "wb"));
    assert_int_equal(i2d_X509_CRL_bio(b, c), 1);
    BIO_free(b);
    X509_CRL_free(c);
    ASN1_TIME_free(t);
    ASN1_INTEGER_free(num);
}

/*
 * A delta CRL over HTTP: the leaf's CRL DP on one loopback server (a base
 * CRL, number 1, listing nothing), its freshestCRL on a second (a delta
 * on 1 listing the leaf): revoked, from the delta's URL; both downloaded
 * once.  With the cache cleared (both were kept) and the delta's server
 * gone: crl_unreachable for the delta's URL, the base downloaded again.
 */
static void
test_cv_validate_crl_delta_http(void **state)
{
    char base_file[512], delta_file[512], base_url[256], delta_url[256];
    char text[4096];
    X509 *leaf = X509_dup(st.revoked);
    struct cv_input in;
    struct cv_options opt;
    struct cv_report *rep;
    BIO *b = BIO_new(BIO_s_mem());
    char *p;
    long n;
    int rnd;

    (void)state;
    assert_non_null(leaf);
    assert_non_null(b);
    snprintf(base_file, sizeof(base_file), "%s/base.crl", st.dir);
    snprintf(delta_file, sizeof(delta_file), "%s/delta.crl", st.dir);
    write_int_crl(base_file, 1, 0, NULL, 0);
    write_int_crl(delta_file, 2, 1, X509_get0_serialNumber(st.revoked), 0);
    server_start_into(&srv, "file", base_file, NULL);
    snprintf(base_url, sizeof(base_url), "http://127.0.0.1:%d/t%d/base.crl",
        srv.port, st.n);
    server_start_into(&srv2, "file", delta_file, NULL);
    snprintf(delta_url, sizeof(delta_url),
        "http://127.0.0.1:%d/t%d/delta.crl", srv2.port, st.n);
    /* revoked.pem, its CRL DP the base's server, freshestCRL the delta's */
    while ((rnd = X509_get_ext_by_NID(leaf, NID_crl_distribution_points,
        -1)) >= 0)
        X509_EXTENSION_free(X509_delete_ext(leaf, rnd));
    snprintf(text, sizeof(text), "URI:%s", base_url);
    add_ext(leaf, st.int_crt, NID_crl_distribution_points, text);
    snprintf(text, sizeof(text), "URI:%s", delta_url);
    add_ext(leaf, st.int_crt, NID_freshest_crl, text);
    assert_true(X509_sign(leaf, st.int_key, EVP_sha256()) > 0);
    assert_int_equal(PEM_write_bio_X509(b, leaf), 1);
    n = BIO_get_mem_data(b, &p);
    memset(&in, 0, sizeof(in));
    in.key = st.key;
    in.key_len = st.key_len;
    in.crt = (const uint8_t *)p;
    in.crt_len = (size_t)n;
    in.chain = st.chain;
    in.chain_len = st.chain_len;
    memset(&opt, 0, sizeof(opt));
    opt.at = st.at;
    opt.use_crl = 1;
    opt.hostname = "sensor.contoso.com";
    opt.fetch.timeout = CRL_TIMEOUT;
    opt.fetch.allow_loopback = 1;
    opt.offline_crls = st.offline;
    rep = cv_validate(st.ctx, &in, &opt);
    expect_only(rep, CV_REVOKED);
    if (strstr(rep->findings[0].detail, delta_url) == NULL)
        fail_msg("the revocation names %s, not the delta %s",
            rep->findings[0].detail, delta_url);
    assert_int_equal(server_count(), 1);
    assert_int_equal(read_num(srv2.count_file), 1);
    cv_report_free(rep);
    /* the delta's server stops: its URL is unreachable */
    cv_ctx_crl_cache_clear(st.ctx);
    server_stop_one(&srv2);
    rep = cv_validate(st.ctx, &in, &opt);
    expect_only(rep, CV_CRL_UNREACHABLE);
    if (strstr(rep->findings[0].detail, delta_url) == NULL)
        fail_msg("crl_unreachable says %s, not the delta %s",
            rep->findings[0].detail, delta_url);
    assert_int_equal(server_count(), 2);
    cv_report_free(rep);
    BIO_free(b);
    X509_free(leaf);
}

/* ---- the peak memory of the CRL cache (issue 12, finding 4) ---- */

/*
 * OpenSSL's heap, tracked through CRYPTO_set_mem_functions() from the
 * start of main(): what is allocated now and the most since heap_peak was
 * last reset.  Sizes are malloc_usable_size()'s, so that memory freed
 * with the other allocator's free only skews the count (signed).
 */
static long long heap_cur, heap_peak;
static int heap_tracked;

static void
heap_add(long long n)
{
    heap_cur += n;
    if (heap_cur > heap_peak)
        heap_peak = heap_cur;
}

static void *
heap_malloc(size_t n, const char *file, int line)
{
    void *p = malloc(n);

    (void)file;
    (void)line;
    if (p != NULL)
        heap_add((long long)malloc_usable_size(p));
    return p;
}

static void
heap_free(void *p, const char *file, int line)
{
    (void)file;
    (void)line;
    if (p != NULL)
        heap_add(-(long long)malloc_usable_size(p));
    free(p);
}

static void *
heap_realloc(void *p, size_t n, const char *file, int line)
{
    long long old = p != NULL ? (long long)malloc_usable_size(p) : 0;
    void *q;

    if (n == 0) {
        heap_free(p, file, line);
        return NULL;
    }
    if ((q = realloc(p, n)) != NULL)
        heap_add((long long)malloc_usable_size(q) - old);
    return q;
}

#define BIG_ENTRIES     10000   /* revoked entries of the big CRL */

/* The big CRL (int.pem's, BIG_ENTRIES entries) served by a new server. */
static void
big_server(void)
{
    char file[512];

    if (!heap_tracked)
        fail_msg("OpenSSL's allocations are not tracked: "
            "CRYPTO_set_mem_functions() came after its first allocation");
    snprintf(file, sizeof(file), "%s/big%d.crl", st.dir, st.n + 1);
    write_int_crl(file, 1, 0, NULL, BIG_ENTRIES);
    server_start("file", file);
}

/*
 * What one cached big CRL counts (*unitp) and takes on OpenSSL's heap
 * (returned), with the group's context; its cache is left empty.
 */
static long long
big_unit(size_t *unitp)
{
    long long before = heap_cur, one;
    size_t n;

    validate_suffix("unit");
    *unitp = cv_ctx_crl_cache_bytes(st.ctx, &n);
    assert_int_equal(n, 1);
    one = heap_cur - before;
    cv_ctx_crl_cache_clear(st.ctx);
    print_message("    a cached CRL of %d entries counts %zu bytes, takes "
        "%lld on the heap\n", BIG_ENTRIES, *unitp, one);
    assert_true(one > 0);
    return one;
}

/* The heap's peak while a good leaf whose DP is URL.suffix validates. */
static long long
peak_of(const char *suffix)
{
    heap_peak = heap_cur;
    validate_suffix(suffix);
    return heap_peak;
}

/*
 * A cache capped at one and a half big CRLs, and uploads whose CRLs are
 * each at another URL: each new CRL is parsed only after the cached one
 * went, so the heap's peak is that of an upload with an empty cache.
 * Before, the next CRL was parsed while the cache still held the last
 * one: a whole CRL more, the 52 MiB of bench: crl_cache_peak_mib.
 */
static void
test_cv_validate_crl_cache_peak(void **state)
{
    struct cv_ctx *group_ctx = st.ctx;
    long long one, empty, peak;
    const char *next[] = { "b", "c", "d" };
    size_t unit, n, i;

    (void)state;
    big_server();
    one = big_unit(&unit);
    st.ctx = ctx_capped(unit + unit / 2);
    empty = peak_of("a");
    for (i = 0; i < sizeof(next) / sizeof(next[0]); i++) {
        peak = peak_of(next[i]);
        assert_true(cv_ctx_crl_cache_bytes(st.ctx, &n) <= unit + unit / 2);
        assert_int_equal(n, 1);
        print_message("    %s: heap peak %lld bytes over the empty "
            "cache's\n", next[i], peak - empty);
        if (peak - empty > one / 2)
            fail_msg("uploading %s took %lld bytes more than with an empty "
                "cache (a cached CRL takes %lld): the new CRL was parsed "
                "before the cached one made room", next[i], peak - empty,
                one);
    }
    assert_int_equal(server_count(), 5);
    cv_ctx_free(st.ctx);
    st.ctx = group_ctx;
}

/*
 * One upload whose three fetched CRLs are each a big CRL (a leaf under
 * CAs 1 and 2 of a chain root > CA 0 > CA 1 > CA 2, every CRL DP on the
 * server but CA 0's, which the offline root.crl answers), in a cache
 * capped at one and a half of them: the first is read, the second and
 * third are downloaded but not read (crl_unreachable), so one at most is
 * parsed.  Before, all three were.  (The CRLs are int.pem's, not the
 * CAs': each is crl_invalid besides.)
 */
static void
test_cv_validate_crl_upload_within_cap(void **state)
{
    struct cv_ctx *group_ctx = st.ctx;
    X509 *ca[3], *issuer, *leaf, *root = load_crt("root.pem");
    EVP_PKEY *ikey, *root_key = root_key_load();
    BIO *cb = BIO_new(BIO_s_mem()), *lb = BIO_new(BIO_s_mem());
    char base[256], url[300], text[8192];
    long long one, empty, peak;
    struct cv_input in;
    struct cv_options opt;
    struct cv_report *rep;
    size_t unit;
    int k;

    (void)state;
    assert_non_null(root);
    assert_non_null(cb);
    assert_non_null(lb);
    big_server();
    one = big_unit(&unit);
    server_url(base, sizeof(base));
    issuer = root;
    ikey = root_key;
    for (k = 0; k < 3; k++) {       /* int.key for every CA: no keygen */
        snprintf(url, sizeof(url), "%s.ca%d", base, k);
        ca[k] = make_ca(k, issuer, ikey, url, &st.int_key);
        issuer = ca[k];
        ikey = st.int_key;
    }
    chain_upload(issuer, ikey, ca, 3, base, &leaf, lb, cb, &in, &opt);

    st.ctx = ctx_capped(unit + unit / 2);
    empty = peak_of("a");           /* one big CRL, parsed alone */
    cv_ctx_crl_cache_clear(st.ctx);
    heap_peak = heap_cur;
    rep = cv_validate(st.ctx, &in, &opt);
    peak = heap_peak;
    assert_non_null(rep);
    codes_text(rep, text, sizeof(text));
    print_message("    %s\n", text);
    print_message("    heap peak %lld bytes over one CRL's upload (a CRL "
        "takes %lld)\n", peak - empty, one);
    assert_int_equal(server_count(), 5);    /* unit, a, three here */
    if (count_in(rep, CV_CRL_UNREACHABLE, "not read: with the other "
        "CRLs of this upload") != 2)
        fail_msg("wanted two CRLs not read, got [%s]", text);
    if (peak - empty > one / 2)
        fail_msg("the upload took %lld bytes more than one with one CRL: "
            "more than one CRL of %lld was parsed", peak - empty, one);
    cv_report_free(rep);
    cv_ctx_free(st.ctx);
    st.ctx = group_ctx;
    for (k = 0; k < 3; k++)
        X509_free(ca[k]);
    X509_free(leaf);
    X509_free(root);
    EVP_PKEY_free(root_key);
    BIO_free(cb);
    BIO_free(lb);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int
main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_cv_crl_fetch_http_file),
        T(test_cv_crl_fetch_http_garbage_der),
        T(test_cv_crl_fetch_http_html),
        T(test_cv_crl_fetch_http_404),
        T(test_cv_crl_fetch_http_not_http),
        T(test_cv_crl_fetch_http_proxy),
        T(test_cv_crl_fetch_http_loopback_denied),
        T(test_cv_crl_fetch_http_denied_ranges),
        T(test_cv_crl_fetch_http_redirect_denied),
        T(test_cv_crl_fetch_http_proxy_denied),
        T(test_cv_crl_fetch_http_configured_range),
        T(test_cv_net),
        T(test_cv_validate_crl_loopback_denied),
        T(test_cv_validate_crl_good),
        T(test_cv_validate_crl_revoked),
        T(test_cv_validate_crl_stale),
        T(test_cv_validate_crl_forged),
        T(test_cv_validate_crl_wrong_issuer),
        T(test_cv_validate_crl_pem_body),
        T(test_cv_validate_crl_hang),
        T(test_cv_validate_crl_trickle),
        T(test_cv_validate_crl_big),
        T(test_cv_validate_crl_big_default_cap),
        T(test_cv_validate_crl_big_nolen),
        T(test_cv_validate_crl_big_der),
        T(test_cv_validate_crl_html),
        T(test_cv_validate_crl_404),
        T(test_cv_validate_crl_redirect_loop),
        T(test_cv_validate_crl_redirect_other_server),
        T(test_cv_validate_crl_reset),
        T(test_cv_validate_crl_garbage_der),
        T(test_cv_validate_crl_closed_port),
        T(test_cv_validate_crl_cached),
        T(test_cv_validate_crl_stale_not_cached),
        T(test_cv_validate_crl_unreachable_not_cached),
        T(test_cv_validate_crl_forged_not_cached),
        T(test_cv_validate_crl_cache_cap),
        T(test_cv_validate_crl_deadline_deep_chain),
        T(test_cv_validate_crl_delta_http),
        T(test_cv_validate_crl_cache_peak),
        T(test_cv_validate_crl_upload_within_cap),
    };

    /* before OpenSSL's first allocation: see heap_malloc() */
    heap_tracked = CRYPTO_set_mem_functions(heap_malloc, heap_realloc,
        heap_free);
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
