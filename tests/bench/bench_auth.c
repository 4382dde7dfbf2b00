/*
 * bench_auth.c - the cost of the per-request sign-in check (a session
 * cookie or an API token looked up, fcgi/auth.h) against a dry-run
 * validation (POST /api/certificate/validate through fcgi/api.h), side by
 * side in one run.  Run by `make bench` (scripts/bench).
 *
 * Usage: bench_auth FIXTURE_DIR [--quick]
 *
 * The validation is the dialog's: good.key, good.pem, chain-int-only.pem,
 * CRL checking off, root.pem the only trust anchor, through
 * cd_api_precheck() and cd_api_handle().  The check is what every request
 * pays before its handler: cd_session_find() of a cookie, or
 * cd_token_find() of a token (sha256, one small file read, a JSON parse).
 * Both run in interleaved rounds, timed in process CPU time
 * (CLOCK_PROCESS_CPUTIME_ID: user and system, so the file reads count);
 * each figure is the median of its rounds.
 *
 * Prints a table, then
 *   bench: auth_session_us N        one session check
 *   bench: auth_token_us N          one token check
 *   bench: validate_dry_run_ms N    one dry-run validation
 *   bench: auth_overhead_pct P      the dearer check / the validation
 * Exits 0; 1 when a side fails; 2 on a usage or I/O error.
 */
#include "config.h"

#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "api.h"
#include "auth.h"
#include "cv_util.h"

#define MAX_ROUNDS      15
#define VALIDATIONS     10      /* a round's batch */
#define CHECKS          2000
#define BOUNDARY        "benchauth0boundary"

static double
cpu_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int
cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return x < y ? -1 : x > y;
}

static double
median(double *v, size_t n)
{
    qsort(v, n, sizeof(*v), cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* Appends to a growing body; exits on no memory. */
static void
add(char **buf, size_t *len, const void *p, size_t n)
{
    char *nb = realloc(*buf, *len + n);

    if (nb == NULL) {
        fprintf(stderr, "bench_auth: out of memory\n");
        exit(2);
    }
    memcpy(nb + *len, p, n);
    *buf = nb;
    *len += n;
}

static void
field(char **buf, size_t *len, const char *name, const char *value)
{
    char h[256];
    int n = snprintf(h, sizeof(h), "--" BOUNDARY "\r\nContent-Disposition: "
        "form-data; name=\"%s\"\r\n\r\n%s\r\n", name, value);

    add(buf, len, h, (size_t)n);
}

static void
file(char **buf, size_t *len, const char *dir, const char *name,
    const char *fx)
{
    char p[1024], h[256];
    size_t n;
    char *data;
    int hn;

    snprintf(p, sizeof(p), "%s/%s", dir, fx);
    if ((data = cv_read_file(p, 1 << 20, CV_READ_REGULAR, &n)) == NULL) {
        fprintf(stderr, "bench_auth: cannot read %s\n", p);
        exit(2);
    }
    hn = snprintf(h, sizeof(h), "--" BOUNDARY "\r\nContent-Disposition: "
        "form-data; name=\"%s\"; filename=\"%s\"\r\nContent-Type: "
        "application/octet-stream\r\n\r\n", name, fx);
    add(buf, len, h, (size_t)hn);
    add(buf, len, data, n);
    add(buf, len, "\r\n", 2);
    free(data);
}

static int
rm_one(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)ftw;
    return flag == FTW_DP ? rmdir(p) : unlink(p);
}

/* One dry run through the front's two calls: 0 when it answered 200. */
static int
validate(struct cd_app *app, const char *body, size_t len,
    const char *cookie)
{
    struct cd_request rq;
    struct cd_response resp;
    enum cd_body_need need;
    char lenbuf[32];
    size_t blen;
    int ok;

    memset(&rq, 0, sizeof(rq));
    snprintf(lenbuf, sizeof(lenbuf), "%zu", len);
    rq.method = "POST";
    rq.path = "/api/certificate/validate";
    rq.content_type = "multipart/form-data; boundary=" BOUNDARY;
    rq.content_length = lenbuf;
    rq.cookie = cookie;
    rq.https = "on";
    rq.host = "sensor.contoso.com";
    rq.remote_addr = "127.0.0.1";
    if (cd_api_precheck(app, &rq, &need, &blen, &resp) != 0) {
        fprintf(stderr, "bench_auth: precheck: %d %s\n", resp.status,
            resp.codes);
        cd_api_response_clear(&resp);
        return -1;
    }
    rq.body = (const uint8_t *)body;
    rq.body_len = len;
    cd_api_handle(app, &rq, &resp);
    ok = resp.status == 200;
    if (!ok)
        fprintf(stderr, "bench_auth: validate: %d %s\n", resp.status,
            resp.codes);
    cd_api_response_clear(&resp);
    return ok ? 0 : -1;
}

int
main(int argc, char **argv)
{
    double vt[MAX_ROUNDS], st[MAX_ROUNDS], tt[MAX_ROUNDS], t0, v, sv, tv, pct;
    char dir[] = "/tmp/cd-bench-auth-XXXXXX", err[256], ca[1024];
    char cookie[CD_AUTH_COOKIE_LEN + 1], hdr[80], tok[CD_AUTH_TOKEN_LEN + 1];
    struct cd_settings s;
    struct cd_app app;
    struct cd_session ss;
    struct cd_token tk;
    struct cv_config cvc;
    char *body = NULL, *cverr = NULL;
    size_t blen = 0;
    int rounds = MAX_ROUNDS, r, i, rc = 1;

    if (argc < 2 || argc > 3 || (argc == 3 && strcmp(argv[2], "--quick"))) {
        fprintf(stderr, "usage: bench_auth FIXTURE_DIR [--quick]\n");
        return 2;
    }
    if (argc == 3)
        rounds = 5;
    if (mkdtemp(dir) == NULL || cd_settings_load(&s, NULL, err,
        sizeof(err)) != 0) {
        fprintf(stderr, "bench_auth: set-up failed\n");
        return 2;
    }
    free(s.state_dir);
    free(s.hostname);
    s.state_dir = strdup(dir);
    s.hostname = strdup("sensor.contoso.com");
    memset(&app, 0, sizeof(app));
    app.settings = &s;
    snprintf(ca, sizeof(ca), "%s/root.pem", argv[1]);
    memset(&cvc, 0, sizeof(cvc));
    cvc.ca_file = ca;
    cvc.no_default_ca = 1;
    if (s.state_dir == NULL || s.hostname == NULL ||
        (app.cv = cv_ctx_new(&cvc, &cverr)) == NULL) {
        fprintf(stderr, "bench_auth: %s\n", cverr ? cverr : "no memory");
        goto out;
    }
    field(&body, &blen, "mode", "ca-signed");
    field(&body, &blen, "name", "bench");
    file(&body, &blen, argv[1], "key", "good.key");
    file(&body, &blen, argv[1], "crt", "good.pem");
    file(&body, &blen, argv[1], "chain", "chain-int-only.pem");
    field(&body, &blen, "use_crl", "off");
    field(&body, &blen, "validation", "mandatory");
    add(&body, &blen, "--" BOUNDARY "--\r\n", strlen(BOUNDARY) + 6);
    if (cd_session_new(&s, "admin", 0, cookie, sizeof(cookie), &ss, err,
        sizeof(err)) != 0 || cd_token_new(&s, "admin", "bench", 0, tok,
        sizeof(tok), &tk, err, sizeof(err)) != 0) {
        fprintf(stderr, "bench_auth: %s\n", err);
        goto out;
    }
    snprintf(hdr, sizeof(hdr), CD_AUTH_COOKIE "=%s", cookie);
    for (r = 0; r < rounds; r++) {
        t0 = cpu_now();
        for (i = 0; i < VALIDATIONS; i++)
            if (validate(&app, body, blen, hdr) != 0)
                goto out;
        vt[r] = (cpu_now() - t0) / VALIDATIONS;
        t0 = cpu_now();
        for (i = 0; i < CHECKS; i++)
            if (cd_session_find(&s, cookie, &ss) != 0) {
                fprintf(stderr, "bench_auth: the session was not found\n");
                goto out;
            }
        st[r] = (cpu_now() - t0) / CHECKS;
        t0 = cpu_now();
        for (i = 0; i < CHECKS; i++)
            if (cd_token_find(&s, tok, &tk) != 0) {
                fprintf(stderr, "bench_auth: the token was not found\n");
                goto out;
            }
        tt[r] = (cpu_now() - t0) / CHECKS;
    }
    v = median(vt, (size_t)rounds);
    sv = median(st, (size_t)rounds);
    tv = median(tt, (size_t)rounds);
    pct = 100.0 * (sv > tv ? sv : tv) / v;
    printf("%-28s %12s\n", "per request (median of rounds)", "CPU time");
    printf("%-28s %9.1f us\n", "session cookie check", sv * 1e6);
    printf("%-28s %9.1f us\n", "API token check", tv * 1e6);
    printf("%-28s %9.2f ms\n", "dry-run validation", v * 1e3);
    printf("bench: auth_session_us %.1f\n", sv * 1e6);
    printf("bench: auth_token_us %.1f\n", tv * 1e6);
    printf("bench: validate_dry_run_ms %.2f\n", v * 1e3);
    printf("bench: auth_overhead_pct %.3f\n", pct);
    rc = 0;
out:
    OPENSSL_cleanse(cookie, sizeof(cookie));
    OPENSSL_cleanse(tok, sizeof(tok));
    free(body);
    free(cverr);
    cv_ctx_free(app.cv);
    nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
    cd_settings_free(&s);
    return rc;
}
