/*
 * ratelimit.c - the guessing limits of docs/API.md "Guessing limits": a
 * count of failed sign-ins per client address and per user name in
 * STATE/auth/failures, {"a:ADDR"|"u:NAME": {"n": N, "last_ms": EPOCH_MS}}.
 * Milliseconds: with whole seconds a "1 s" wait could last 1 ms.
 * The first CD_AUTH_FREE_FAILURES failures of a key are answered at once;
 * from then on a key waits 2^(n-5) s (at most CD_AUTH_MAX_WAIT) after its
 * last failure before a try is even checked.  A key is forgotten
 * CD_AUTH_FORGET s after its last failure, or at a successful sign-in.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "auth.h"

#define MAX_KEYS        10000   /* a flood of names cannot grow it further */

typedef long long ms_t;

/* cd_auth_now() in milliseconds: the real clock's, or the test's. */
static ms_t
now_ms(void)
{
    struct timespec ts;
    time_t t = cd_auth_now();

    if (clock_gettime(CLOCK_REALTIME, &ts) == 0 && ts.tv_sec == t)
        return (ms_t)t * 1000 + ts.tv_nsec / 1000000;
    return (ms_t)t * 1000;      /* a test's clock, or a second boundary */
}

static ms_t
last_of(const json_t *e)
{
    return (ms_t)json_integer_value(json_object_get(e, "last_ms"));
}

static void
failures_path(const struct cd_settings *s, char *buf, size_t len)
{
    snprintf(buf, len, "%s/auth/failures", s->state_dir);
}

/* The keys of addr and user ("" when absent). */
static void
keys(const char *addr, const char *user, char *ka, size_t alen, char *ku,
    size_t ulen)
{
    char hex[65];

    snprintf(ka, alen, "a:%.64s", addr != NULL ? addr : "-");
    if (user != NULL && cd_auth_name_ok(user))
        snprintf(ku, ulen, "u:%s", user);
    else {
        /* not a possible name: any bytes, kept short and printable */
        cd_auth_sha256_hex(user != NULL ? user : "", user != NULL ?
            strlen(user) : 0, hex);
        snprintf(ku, ulen, "u#%.16s", hex);
    }
}

/* Seconds (rounded up) key e must still wait at now; 0: none. */
static long
wait_of(const json_t *e, ms_t now)
{
    json_int_t n = json_integer_value(json_object_get(e, "n"));
    ms_t w, rem;

    if (e == NULL || n < CD_AUTH_FREE_FAILURES ||
        now - last_of(e) >= CD_AUTH_FORGET * 1000LL)
        return 0;
    w = n - CD_AUTH_FREE_FAILURES >= 10 ? CD_AUTH_MAX_WAIT :
        1L << (n - CD_AUTH_FREE_FAILURES);
    if (w > CD_AUTH_MAX_WAIT)
        w = CD_AUTH_MAX_WAIT;
    rem = last_of(e) + w * 1000 - now;
    return rem > 0 ? (long)((rem + 999) / 1000) : 0;
}

/* Drops the keys forgotten by now. */
static void
prune(json_t *f, ms_t now)
{
    const char *k;
    json_t *e;
    void *tmp;

    json_object_foreach_safe(f, tmp, k, e) {
        if (!json_is_object(e) || now - last_of(e) >=
            CD_AUTH_FORGET * 1000LL)
            json_object_del(f, k);
    }
}

long
cd_ratelimit_wait(const struct cd_settings *s, const char *addr,
    const char *user)
{
    char p[4400], ka[80], ku[80];
    json_t *f;
    ms_t now = now_ms();
    long wa, wu;

    failures_path(s, p, sizeof(p));
    if ((f = cd_auth_read_json(p)) == NULL)
        return 0;               /* none yet (a bad file is rewritten) */
    keys(addr, user, ka, sizeof(ka), ku, sizeof(ku));
    wa = wait_of(json_object_get(f, ka), now);
    wu = wait_of(json_object_get(f, ku), now);
    json_decref(f);
    return wa > wu ? wa : wu;
}

/* Adds one failure to key k. */
static void
count(json_t *f, const char *k, ms_t now)
{
    json_t *e = json_object_get(f, k);
    json_int_t n = json_is_object(e) ?
        json_integer_value(json_object_get(e, "n")) : 0;

    json_object_set_new(f, k, json_pack("{s:I, s:I}", "n", n + 1,
        "last_ms", (json_int_t)now));
}

/* user for the log: printable ASCII, the rest (and " \) as \xHH. */
static void
escape(const char *in, char *out, size_t len)
{
    const unsigned char *p = (const unsigned char *)(in != NULL ? in : "");
    size_t o = 0, i;

    for (i = 0; p[i] != '\0' && i < 64 && o + 5 < len; i++) {
        if (p[i] > ' ' && p[i] < 127 && p[i] != '"' && p[i] != '\\')
            out[o++] = (char)p[i];
        else
            o += (size_t)snprintf(out + o, len - o, "\\x%02x", p[i]);
    }
    out[o] = '\0';
}

/* The address for the log: what an address may hold, else '?'. */
static void
clean_addr(const char *in, char *out, size_t len)
{
    size_t i;

    if (in == NULL || in[0] == '\0')
        in = "-";
    for (i = 0; in[i] != '\0' && i + 1 < len; i++)
        out[i] = strchr("0123456789abcdefABCDEF.:-", in[i]) != NULL ?
            in[i] : '?';
    out[i] = '\0';
}

void
cd_ratelimit_fail(const struct cd_settings *s, const char *addr,
    const char *user)
{
    char p[4400], ka[80], ku[80], err[256], eu[400], ea[80];
    json_t *f;
    ms_t now = now_ms();
    int lock;

    escape(user, eu, sizeof(eu));
    clean_addr(addr, ea, sizeof(ea));
    /* the fail2ban line: never the password */
    fprintf(stderr, "certdialog: sign-in failed for user \"%s\" from %s\n",
        eu, ea);
    if ((lock = cd_auth_lock(s, err, sizeof(err))) < 0) {
        fprintf(stderr, "certdialog: guessing limits: %s\n", err);
        return;
    }
    failures_path(s, p, sizeof(p));
    if ((f = cd_auth_read_json(p)) == NULL)
        f = json_object();
    if (f != NULL) {
        prune(f, now);
        keys(addr, user, ka, sizeof(ka), ku, sizeof(ku));
        if (json_object_size(f) < MAX_KEYS) {
            count(f, ka, now);
            count(f, ku, now);
        } else {
            count(f, ka, now);  /* the address always counts */
        }
        if (cd_auth_write_json(p, f, err, sizeof(err)) != 0)
            fprintf(stderr, "certdialog: guessing limits: %s\n", err);
        json_decref(f);
    }
    cd_auth_unlock(lock);
}

void
cd_ratelimit_clear(const struct cd_settings *s, const char *addr,
    const char *user)
{
    char p[4400], ka[80], ku[80], err[256];
    json_t *f;
    int lock;

    failures_path(s, p, sizeof(p));
    if ((f = cd_auth_read_json(p)) == NULL)
        return;                 /* nothing counted */
    keys(addr, user, ka, sizeof(ka), ku, sizeof(ku));
    if (json_object_get(f, ka) == NULL && json_object_get(f, ku) == NULL) {
        json_decref(f);
        return;
    }
    json_decref(f);
    if ((lock = cd_auth_lock(s, err, sizeof(err))) < 0)
        return;
    if ((f = cd_auth_read_json(p)) != NULL) {
        json_object_del(f, ka);
        json_object_del(f, ku);
        prune(f, now_ms());
        if (cd_auth_write_json(p, f, err, sizeof(err)) != 0)
            fprintf(stderr, "certdialog: guessing limits: %s\n", err);
        json_decref(f);
    }
    cd_auth_unlock(lock);
}
