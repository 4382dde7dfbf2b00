/*
 * engine_rate.c - validations per second of the engine alone, in one
 * process on one thread, and its CPU per validation: what
 * scripts/bench-http's http_overhead_pct subtracts and divides by.
 *
 * Usage: engine_rate FIXTURE_DIR SECONDS [KEY CRT CHAIN]
 *
 * Calls cv_validate() as fcgi/api.c's upload() does for a dry run with
 * use_crl=off: a cv_ctx whose only trust anchor is FIXTURE_DIR/root.pem
 * (the bench stack's ca_file), validation mandatory, the validation time
 * now, hostname sensor.contoso.com.  The inputs default to good.key,
 * good.pem and chain-int-only.pem (the HTTP benchmark's good upload).
 *
 * Runs for SECONDS (0.2 to 60) of wall time after a short warm-up and
 * prints
 *   engine_rate OPS_PER_SECOND CPU_SECONDS_PER_OP
 * (wall-time rate; process CPU time per validation).  Exits 0; 1 when the
 * validation does not accept the upload (nothing is timed then); 2 on a
 * usage or I/O error.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cv.h"

static double
now(clockid_t clk)
{
    struct timespec ts;

    clock_gettime(clk, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The file dir/name in a new buffer; *lenp its length.  Exits on error. */
static uint8_t *
slurp(const char *dir, const char *name, size_t *lenp)
{
    char path[4096];
    uint8_t *buf = NULL;
    size_t cap = 0, len = 0, n;
    FILE *f;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    if ((f = fopen(path, "rb")) == NULL) {
        fprintf(stderr, "engine_rate: %s: %s\n", path, strerror(errno));
        exit(2);
    }
    for (;;) {
        if (cap - len < 4096) {
            cap = cap ? cap * 2 : 8192;
            if ((buf = realloc(buf, cap)) == NULL) {
                fprintf(stderr, "engine_rate: out of memory\n");
                exit(2);
            }
        }
        n = fread(buf + len, 1, cap - len, f);
        len += n;
        if (n == 0)
            break;
    }
    fclose(f);
    *lenp = len;
    return buf;
}

int
main(int argc, char **argv)
{
    const char *dir, *kf = "good.key", *cf = "good.pem",
        *chf = "chain-int-only.pem";
    char ca[4096], *err = NULL, *end;
    struct cv_config cfg;
    struct cv_ctx *ctx;
    struct cv_input in;
    struct cv_options opt;
    struct cv_report *rep;
    uint8_t *key, *crt, *chain;
    size_t key_len, crt_len, chain_len;
    double secs, t0, c0, t, deadline;
    long ops = 0, i;
    int ok;

    if (argc != 3 && argc != 6) {
        fprintf(stderr, "usage: engine_rate FIXTURE_DIR SECONDS "
            "[KEY CRT CHAIN]\n");
        return 2;
    }
    dir = argv[1];
    secs = strtod(argv[2], &end);
    if (*end != '\0' || !(secs >= 0.2 && secs <= 60)) {
        fprintf(stderr, "engine_rate: SECONDS must be 0.2 to 60\n");
        return 2;
    }
    if (argc == 6) {
        kf = argv[3];
        cf = argv[4];
        chf = argv[5];
    }
    key = slurp(dir, kf, &key_len);
    crt = slurp(dir, cf, &crt_len);
    chain = slurp(dir, chf, &chain_len);

    snprintf(ca, sizeof(ca), "%s/root.pem", dir);
    memset(&cfg, 0, sizeof(cfg));
    cfg.ca_file = ca;
    cfg.no_default_ca = 1;
    if ((ctx = cv_ctx_new(&cfg, &err)) == NULL) {
        fprintf(stderr, "engine_rate: %s\n", err ? err : "no memory");
        return 2;
    }
    memset(&in, 0, sizeof(in));
    in.name = "sensor";
    in.key = key;
    in.key_len = key_len;
    in.crt = crt;
    in.crt_len = crt_len;
    in.chain = chain;
    in.chain_len = chain_len;
    memset(&opt, 0, sizeof(opt));
    opt.use_crl = 0;
    opt.validation = CV_VALIDATION_MANDATORY;
    opt.hostname = "sensor.contoso.com";

    /* warm-up, and the upload must be accepted */
    for (i = 0; i < 20; i++) {
        if ((rep = cv_validate(ctx, &in, &opt)) == NULL) {
            fprintf(stderr, "engine_rate: cv_validate: out of memory\n");
            return 2;
        }
        ok = cv_report_ok(rep);
        cv_report_free(rep);
        if (!ok) {
            fprintf(stderr, "engine_rate: %s/%s is not accepted\n", dir, cf);
            return 1;
        }
    }
    t0 = now(CLOCK_MONOTONIC);
    c0 = now(CLOCK_PROCESS_CPUTIME_ID);
    deadline = t0 + secs;
    do {
        /* a batch between clock reads */
        for (i = 0; i < 16; i++) {
            rep = cv_validate(ctx, &in, &opt);
            cv_report_free(rep);
        }
        ops += 16;
        t = now(CLOCK_MONOTONIC);
    } while (t < deadline);
    printf("engine_rate %.1f %.9f\n", (double)ops / (t - t0),
        (now(CLOCK_PROCESS_CPUTIME_ID) - c0) / (double)ops);
    cv_ctx_free(ctx);
    free(key);
    free(crt);
    free(chain);
    return 0;
}
