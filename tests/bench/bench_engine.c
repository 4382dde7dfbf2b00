/*
 * bench_engine.c - the engine's full validation against the bare OpenSSL
 * calls it cannot avoid, and against the openssl commands the seed
 * documents tell admins to run.  Run by `make bench` (scripts/bench).
 *
 * Usage: bench_engine FIXTURE_DIR [--quick]
 *
 * Cases: RSA-2048 and RSA-4096, each with a plain and a PBES2-encrypted
 * key; the chain is chain-int-only.pem and root.pem the only trust anchor.
 *
 *   engine  cv_validate() (use_crl=0, at = made_at + 60 s), cv_report_free()
 *   bare    PEM_read_bio_PrivateKey, PEM_read_bio_X509 (certificate and
 *           chain), X509_check_private_key, X509_STORE_CTX_new/init, set
 *           time, X509_verify_cert, frees
 *   naive   openssl rsa -check, openssl x509 -text, openssl verify, each
 *           spawned with its output to /dev/null
 *
 * Engine and bare run in interleaved rounds (each round: per case, one
 * batch of each side, the order alternating) and are timed in process CPU
 * time (CLOCK_PROCESS_CPUTIME_ID), which a noisy neighbour on a shared core
 * disturbs less than wall time; each side's per-case figure is the median
 * of its rounds.  The naive commands are timed in wall time
 * (CLOCK_MONOTONIC), so naive_speedup divides by the engine's wall-time
 * median, measured in the same batches.
 *
 * Prints a table, then
 *   bench: engine_vs_openssl_<case> RATIO   per case
 *   bench: engine_vs_openssl RATIO          sum of engine / sum of bare
 *   bench: naive_speedup RATIO              sum of naive / sum of engine
 * Exits 0; 1 when a side fails on a case (nothing is timed then); 2 on a
 * usage or I/O error.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include "cv.h"
#include "fixture.h"

extern char **environ;

#define MAX_ROUNDS  16
#define MAX_NAIVE   8
#define TIME_BUDGET 45.0        /* seconds; stop adding rounds after it */

struct bcase {
    const char *name;
    const char *key_file;
    const char *crt_file;
    int encrypted;
    uint8_t *key;
    size_t key_len;
    uint8_t *crt;
    size_t crt_len;
    long eng_batch, bare_batch;
    double eng_cpu[MAX_ROUNDS];         /* seconds per operation */
    double eng_wall[MAX_ROUNDS];
    double bare_cpu[MAX_ROUNDS];
    double naive[MAX_NAIVE];            /* seconds per set of 3 commands */
};

static struct bcase cases[] = {
    { .name = "rsa2048", .key_file = "good.key", .crt_file = "good.pem" },
    { .name = "rsa2048_pbes2", .key_file = "good-pbes2.key",
      .crt_file = "good.pem", .encrypted = 1 },
    { .name = "rsa4096", .key_file = "good4096.key",
      .crt_file = "good4096.pem" },
    { .name = "rsa4096_pbes2", .key_file = "good4096-pbes2.key",
      .crt_file = "good4096.pem", .encrypted = 1 },
};
#define N_CASES (sizeof(cases) / sizeof(cases[0]))

static const char *fixdir;
static struct cv_ctx *ctx;
static X509_STORE *store;       /* the bare side's anchors, built once */
static uint8_t *chain;
static size_t chain_len;
static char *pass;              /* NUL-terminated, from pass.txt */
static time_t at;

static double
now(clockid_t clk)
{
    struct timespec ts;

    clock_gettime(clk, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static const char *
fpath(const char *name, char *buf, size_t len)
{
    snprintf(buf, len, "%s/%s", fixdir, name);
    return buf;
}

static uint8_t *
must_read(const char *name, size_t *lenp)
{
    uint8_t *b = cd_fixture_read(name, lenp);

    if (b == NULL) {
        fprintf(stderr, "bench_engine: cannot read %s/%s: %s\n", fixdir,
            name, strerror(errno));
        exit(2);
    }
    return b;
}

/* ---- the engine ---- */

static struct cv_report *
engine_run(const struct bcase *c)
{
    struct cv_input in;
    struct cv_options opt;

    memset(&in, 0, sizeof(in));
    memset(&opt, 0, sizeof(opt));
    in.key = c->key;
    in.key_len = c->key_len;
    in.crt = c->crt;
    in.crt_len = c->crt_len;
    in.chain = chain;
    in.chain_len = chain_len;
    if (c->encrypted) {
        in.passphrase = pass;
        in.passphrase_len = strlen(pass);
    }
    opt.at = at;
    opt.use_crl = 0;
    opt.validation = CV_VALIDATION_MANDATORY;
    return cv_validate(ctx, &in, &opt);
}

static int
engine_once(const struct bcase *c)
{
    struct cv_report *rep = engine_run(c);
    int ok = cv_report_ok(rep);

    cv_report_free(rep);
    return ok;
}

/* ---- the bare OpenSSL calls ---- */

static int
pw_cb(char *buf, int size, int rwflag, void *u)
{
    size_t n = strlen(u);

    (void)rwflag;
    if (n > (size_t)size)
        return -1;
    memcpy(buf, u, n);
    return (int)n;
}

/* 1 when the chain verifies; *errp gets the verify error. */
static int
bare_run(const struct bcase *c, int *errp)
{
    BIO *bio;
    EVP_PKEY *key = NULL;
    X509 *leaf = NULL, *x;
    STACK_OF(X509) *untrusted = NULL;
    X509_STORE_CTX *vctx = NULL;
    int ok = 0;

    *errp = 0;
    if ((bio = BIO_new_mem_buf(c->key, (int)c->key_len)) != NULL) {
        key = PEM_read_bio_PrivateKey(bio, NULL,
            c->encrypted ? pw_cb : NULL, c->encrypted ? pass : NULL);
        BIO_free(bio);
    }
    if ((bio = BIO_new_mem_buf(c->crt, (int)c->crt_len)) != NULL) {
        leaf = PEM_read_bio_X509(bio, NULL, NULL, NULL);
        BIO_free(bio);
    }
    if ((untrusted = sk_X509_new_null()) != NULL &&
        (bio = BIO_new_mem_buf(chain, (int)chain_len)) != NULL) {
        while ((x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL)
            if (!sk_X509_push(untrusted, x))
                X509_free(x);
        BIO_free(bio);
    }
    if (key == NULL || leaf == NULL || X509_check_private_key(leaf, key) != 1)
        goto out;
    if ((vctx = X509_STORE_CTX_new()) == NULL ||
        !X509_STORE_CTX_init(vctx, store, leaf, untrusted))
        goto out;
    X509_STORE_CTX_set_time(vctx, 0, at);
    ok = X509_verify_cert(vctx) == 1;
    *errp = X509_STORE_CTX_get_error(vctx);
out:
    X509_STORE_CTX_free(vctx);
    sk_X509_pop_free(untrusted, X509_free);
    X509_free(leaf);
    EVP_PKEY_free(key);
    ERR_clear_error();          /* the chain loop ends on "no start line" */
    return ok;
}

static int
bare_once(const struct bcase *c)
{
    int err;

    return bare_run(c, &err);
}

/* ---- the openssl commands of the seed documents ---- */

static const char *openssl_cmd = "openssl";

/* Runs argv with stdin, stdout and stderr on /dev/null; its exit status. */
static int
spawn_wait(char *const argv[])
{
    posix_spawn_file_actions_t fa;
    pid_t pid;
    int st, rc;

    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
    rc = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0) {
        fprintf(stderr, "bench_engine: cannot run %s: %s\n", argv[0],
            strerror(rc));
        return -1;
    }
    while (waitpid(pid, &st, 0) < 0)
        if (errno != EINTR)
            return -1;
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* The three commands for one case; their wall time, or -1 on a failure. */
static double
naive_once(const struct bcase *c)
{
    char key[4096], crt[4096], root[4096], ch[4096], pin[4200], pf[4096];
    char *rsa[] = { (char *)openssl_cmd, "rsa", "-in", key, "-check",
        "-noout", NULL, NULL, NULL };
    char *x509[] = { (char *)openssl_cmd, "x509", "-in", crt, "-text",
        "-noout", NULL };
    char *verify[] = { (char *)openssl_cmd, "verify", "-CAfile", root,
        "-untrusted", ch, crt, NULL };
    char *const *cmds[] = { rsa, x509, verify };
    double t0;
    size_t i;
    int rc;

    fpath(c->key_file, key, sizeof(key));
    fpath(c->crt_file, crt, sizeof(crt));
    fpath("root.pem", root, sizeof(root));
    fpath("chain-int-only.pem", ch, sizeof(ch));
    if (c->encrypted) {
        snprintf(pin, sizeof(pin), "file:%s",
            fpath("pass.txt", pf, sizeof(pf)));
        rsa[6] = "-passin";
        rsa[7] = pin;
    }
    t0 = now(CLOCK_MONOTONIC);
    for (i = 0; i < 3; i++)
        if ((rc = spawn_wait(cmds[i])) != 0) {
            fprintf(stderr, "bench_engine: %s: `%s %s` failed (exit %d)\n",
                c->name, openssl_cmd, cmds[i][1], rc);
            return -1;
        }
    return now(CLOCK_MONOTONIC) - t0;
}

/* ---- measuring ---- */

static int
cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return x < y ? -1 : x > y;
}

static double
median(const double *v, int n)
{
    double s[MAX_ROUNDS > MAX_NAIVE ? MAX_ROUNDS : MAX_NAIVE];

    if (n <= 0)
        return 0;
    memcpy(s, v, (size_t)n * sizeof(*v));
    qsort(s, (size_t)n, sizeof(*s), cmp_double);
    return n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

/*
 * n runs of fn; CPU and wall seconds per run.  Exits when a run fails:
 * the sanity check passed, so the figures would be meaningless.
 */
static void
batch(int (*fn)(const struct bcase *), const struct bcase *c, long n,
    double *cpu, double *wall)
{
    double c0 = now(CLOCK_PROCESS_CPUTIME_ID), w0 = now(CLOCK_MONOTONIC);
    long i, bad = 0;

    for (i = 0; i < n; i++)
        bad += !fn(c);
    *cpu = (now(CLOCK_PROCESS_CPUTIME_ID) - c0) / (double)n;
    if (wall != NULL)
        *wall = (now(CLOCK_MONOTONIC) - w0) / (double)n;
    if (bad) {
        fprintf(stderr, "bench_engine: %s: %ld of %ld runs failed while "
            "timing\n", c->name, bad, n);
        exit(1);
    }
}

/* How many runs of fn take about target seconds of CPU time. */
static long
calibrate(int (*fn)(const struct bcase *), const struct bcase *c,
    double target)
{
    double t0, per;
    long n = 0;

    fn(c);                      /* warm up */
    fn(c);
    t0 = now(CLOCK_PROCESS_CPUTIME_ID);
    do {
        fn(c);
        n++;
    } while ((per = now(CLOCK_PROCESS_CPUTIME_ID) - t0) < target / 5);
    per /= (double)n;
    n = (long)(target / per);
    return n < 1 ? 1 : n > 1000000 ? 1000000 : n;
}

/* Before timing: both sides must accept every case. */
static int
sanity(void)
{
    struct cv_report *rep;
    size_t i, j;
    int err, fail = 0;

    for (i = 0; i < N_CASES; i++) {
        struct bcase *c = &cases[i];

        rep = engine_run(c);
        if (rep == NULL || !cv_report_ok(rep) || rep->leaf == NULL) {
            fprintf(stderr, "bench_engine: %s: the engine rejects the "
                "case:\n", c->name);
            for (j = 0; rep != NULL && j < rep->n_findings; j++)
                fprintf(stderr, "  %s%s: %s\n",
                    rep->findings[j].blocking ? "" : "(warning) ",
                    cv_code_name(rep->findings[j].code),
                    rep->findings[j].detail ? rep->findings[j].detail : "");
            fail = 1;
        }
        cv_report_free(rep);
        if (!bare_run(c, &err)) {
            fprintf(stderr, "bench_engine: %s: the bare calls fail: %s\n",
                c->name, err ? X509_verify_cert_error_string(err) :
                "cannot read the key or certificate, or they do not match");
            fail = 1;
        }
    }
    return fail ? -1 : 0;
}

static void
usage(void)
{
    fprintf(stderr, "usage: bench_engine FIXTURE_DIR [--quick]\n");
    exit(2);
}

int
main(int argc, char **argv)
{
    struct cv_config cfg;
    char path[4096], *err = NULL;
    const char *e;
    double start, target, t, eng_sum = 0, bare_sum = 0, wall_sum = 0;
    double naive_sum = 0, em, bm, wm, nm;
    int quick = 0, rounds, n_naive, r, k, i, done = 0;
    size_t len, ci;

    for (i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--quick") == 0)
            quick = 1;
        else if (argv[i][0] == '-' || fixdir != NULL)
            usage();
        else
            fixdir = argv[i];
    }
    if (fixdir == NULL)
        usage();
    if ((e = getenv("OPENSSL")) != NULL && *e != '\0')
        openssl_cmd = e;
    rounds = quick ? 3 : 10;
    n_naive = quick ? 1 : 5;
    target = quick ? 0.005 : 0.1;
    start = now(CLOCK_MONOTONIC);

    /* fixture.c reads $CD_FIXTURES */
    if (setenv("CD_FIXTURES", fixdir, 1) != 0)
        return 2;
    for (ci = 0; ci < N_CASES; ci++) {
        cases[ci].key = must_read(cases[ci].key_file, &cases[ci].key_len);
        cases[ci].crt = must_read(cases[ci].crt_file, &cases[ci].crt_len);
    }
    chain = must_read("chain-int-only.pem", &chain_len);
    pass = (char *)must_read("pass.txt", &len);
    free(must_read("made_at", &len));
    at = cd_fixture_time();

    memset(&cfg, 0, sizeof(cfg));
    cfg.ca_file = fpath("root.pem", path, sizeof(path));
    cfg.no_default_ca = 1;
    if ((ctx = cv_ctx_new(&cfg, &err)) == NULL) {
        fprintf(stderr, "bench_engine: %s\n", err ? err : "cv_ctx_new");
        return 2;
    }
    if ((store = X509_STORE_new()) == NULL ||
        !X509_STORE_load_file(store, path)) {
        fprintf(stderr, "bench_engine: cannot load %s\n", path);
        return 2;
    }
    if (sanity() != 0)
        return 1;
    /* the commands must succeed too; this first run is not timed */
    for (ci = 0; ci < N_CASES; ci++)
        if (naive_once(&cases[ci]) < 0)
            return 1;

    for (ci = 0; ci < N_CASES; ci++) {
        cases[ci].eng_batch = calibrate(engine_once, &cases[ci], target);
        cases[ci].bare_batch = calibrate(bare_once, &cases[ci], target);
    }
    for (r = 0; r < rounds; r++) {
        for (ci = 0; ci < N_CASES; ci++) {
            struct bcase *c = &cases[ci];

            if (r % 2 == 0) {
                batch(engine_once, c, c->eng_batch, &c->eng_cpu[r],
                    &c->eng_wall[r]);
                batch(bare_once, c, c->bare_batch, &c->bare_cpu[r], NULL);
            } else {
                batch(bare_once, c, c->bare_batch, &c->bare_cpu[r], NULL);
                batch(engine_once, c, c->eng_batch, &c->eng_cpu[r],
                    &c->eng_wall[r]);
            }
        }
        done = r + 1;
        if (done >= 3 && now(CLOCK_MONOTONIC) - start > TIME_BUDGET) {
            fprintf(stderr, "bench_engine: time budget spent after %d "
                "rounds\n", done);
            break;
        }
    }
    for (k = 0; k < n_naive; k++)
        for (ci = 0; ci < N_CASES; ci++) {
            if ((t = naive_once(&cases[ci])) < 0)
                return 1;
            cases[ci].naive[k] = t;
        }

    printf("# engine, bare: CPU time per validation, median of %d rounds; "
        "naive: wall time of\n# the 3 openssl commands, median of %d runs "
        "(naive_speedup uses the engine's wall time)\n", done, n_naive);
    printf("%-14s %10s %10s %7s %10s %9s\n", "case", "engine_us", "bare_us",
        "ratio", "naive_ms", "speedup");
    for (ci = 0; ci < N_CASES; ci++) {
        struct bcase *c = &cases[ci];

        em = median(c->eng_cpu, done);
        bm = median(c->bare_cpu, done);
        wm = median(c->eng_wall, done);
        nm = median(c->naive, n_naive);
        eng_sum += em;
        bare_sum += bm;
        wall_sum += wm;
        naive_sum += nm;
        printf("%-14s %10.1f %10.1f %7.3f %10.1f %9.1f\n", c->name, em * 1e6,
            bm * 1e6, em / bm, nm * 1e3, nm / wm);
    }
    for (ci = 0; ci < N_CASES; ci++)
        printf("bench: engine_vs_openssl_%s %.3f\n", cases[ci].name,
            median(cases[ci].eng_cpu, done) /
            median(cases[ci].bare_cpu, done));
    printf("bench: engine_vs_openssl %.3f\n", eng_sum / bare_sum);
    printf("bench: naive_speedup %.1f\n", naive_sum / wall_sum);

    for (ci = 0; ci < N_CASES; ci++) {
        free(cases[ci].key);
        free(cases[ci].crt);
    }
    free(chain);
    OPENSSL_cleanse(pass, strlen(pass));
    free(pass);
    X509_STORE_free(store);
    cv_ctx_free(ctx);
    return 0;
}
