/*
 * acmerun.c - certdialog-fcgi --acme-renew (certdialog-fcgi(8)): one
 * renewal over ACME.  Decides whether one is due; makes a new key (kept in
 * memory until the install writes it 0600 into the release) and its
 * signing request; has Debian's uacme order the certificate, answering
 * http-01 through libexec/acme-hook into STATE/acme/challenge/; then sends
 * what the CA issued through the same gate as an upload (the engine with
 * the configured anchors and key policy, the configured names, the atomic
 * install with its reload, handshake check and rollback).  A refused or
 * failed run leaves the served certificate alone, is written to
 * STATE/acme/status.json with the next attempt (backoff), the journal, and
 * the expiry warnings' webhook and metrics.
 *
 * Linked into certdialog-fcgi only (it uses notify/ for the webhook and
 * the metrics; libcdfcgi.a does not).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <openssl/x509v3.h>

#include "acme.h"
#include "acmerun.h"
#include "cv_util.h"
#include "files.h"
#include "gate.h"
#include "install.h"
#include "metrics.h"
#include "webhook.h"

#ifndef CD_PKGLIBEXECDIR
#define CD_PKGLIBEXECDIR "/usr/libexec/certdialog"
#endif
#define ME "certdialog-fcgi: acme"
#define CERT_MAX (256u * 1024)
#define OUT_KEEP 400

struct run {
    const struct cd_settings *s;
    struct cd_acme_config c;
    time_t deadline;
    char dir[PATH_MAX];         /* STATE/acme */
    char msg[CD_ACME_MSG_MAX];  /* why it failed */
};

static void
say(int prio, const char *fmt, ...)
{
    char line[1024];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    /* one journal line: systemd reads the "<N>" prefix */
    fprintf(stderr, "<%d>" ME ": %s\n", prio, line);
    fflush(stderr);
}

#define FAIL(r, ...) do { \
    snprintf((r)->msg, sizeof((r)->msg), __VA_ARGS__); \
    goto out; \
} while (0)

/* ---- the served certificate and the names ---- */

static int
san_has(const struct cv_summary *sum, const char *name)
{
    const char *v;
    size_t i;

    for (i = 0; i < sum->n_san && i < CV_MAX_LIST; i++) {
        v = strchr(sum->san[i], ':') + 1;
        if (strncmp(sum->san[i], "IP:", 3) == 0 ? cv_is_ip(name) &&
            cv_ip_equal(v, name) : strcasecmp(v, name) == 0)
            return 1;
    }
    return 0;
}

/* 1 when sum names exactly the configured names. */
static int
names_equal(const struct cv_summary *sum, const struct cd_acme_config *c)
{
    size_t i;

    if (sum->n_san != c->n_names)
        return 0;
    for (i = 0; i < c->n_names; i++)
        if (!san_has(sum, c->names[i]))
            return 0;
    return 1;
}

/*
 * The served certificate as the decision sees it; with no names
 * configured, they become its DNS names, else the host name.  Not its IP
 * addresses: the self-signed certificate names every interface address,
 * loopback included, which no CA can validate.
 */
static void
served(struct run *r, struct cd_acme_served *sv)
{
    struct cv_summary sum;
    char *pem;
    size_t len = 0, i;

    memset(sv, 0, sizeof(*sv));
    memset(&sum, 0, sizeof(sum));
    if ((pem = cd_install_current_cert(r->s, &len)) != NULL &&
        cv_cert_summary((const uint8_t *)pem, len, 0, &sum) == 0 &&
        sum.valid) {
        sv->present = 1;
        sv->self_signed = sum.self_signed;
        sv->not_before = sum.not_before;
        sv->not_after = sum.not_after;
    }
    free(pem);
    if (r->c.n_names == 0) {
        for (i = 0; sv->present && i < sum.n_san && i < CV_MAX_LIST &&
            r->c.n_names < CD_ACME_MAX_NAMES; i++)
            if (strncmp(sum.san[i], "DNS:", 4) == 0 &&
                cd_name_ok(sum.san[i] + 4))
                snprintf(r->c.names[r->c.n_names++], sizeof(r->c.names[0]),
                    "%s", sum.san[i] + 4);
        if (r->c.n_names == 0)
            snprintf(r->c.names[r->c.n_names++], sizeof(r->c.names[0]),
                "%s", r->s->hostname);
    }
    sv->names_match = sv->present && names_equal(&sum, &r->c);
}

/* ---- the key and the request ---- */

static X509_REQ *
request(EVP_PKEY *key, const struct cd_acme_config *c, char *why,
    size_t wlen)
{
    const char *names[CD_ACME_MAX_NAMES];
    STACK_OF(X509_EXTENSION) *exts = NULL;
    GENERAL_NAMES *san;
    X509_EXTENSION *ext = NULL;
    X509_REQ *rq = NULL;
    size_t i;

    for (i = 0; i < c->n_names; i++)
        names[i] = c->names[i];
    if ((san = cd_names_san(names, c->n_names, why, wlen)) == NULL)
        return NULL;
    if ((rq = X509_REQ_new()) == NULL ||
        !X509_REQ_set_version(rq, 0) ||
        !X509_NAME_add_entry_by_NID(X509_REQ_get_subject_name(rq),
        NID_commonName, MBSTRING_UTF8, (const unsigned char *)c->names[0],
        -1, -1, 0) ||
        (ext = X509V3_EXT_i2d(NID_subject_alt_name, 0, san)) == NULL ||
        (exts = sk_X509_EXTENSION_new_null()) == NULL ||
        !sk_X509_EXTENSION_push(exts, ext) ||
        !X509_REQ_add_extensions(rq, exts) ||
        !X509_REQ_set_pubkey(rq, key) ||
        X509_REQ_sign(rq, key, EVP_sha256()) <= 0) {
        cv_ossl_detail(why, wlen);
        X509_REQ_free(rq);
        rq = NULL;
    }
    if (exts != NULL)
        sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
    else
        X509_EXTENSION_free(ext);
    GENERAL_NAMES_free(san);
    return rq;
}

/* The key's PEM in a new buffer (caller: cv_free_secret(p, *lenp)). */
static char *
key_pem(EVP_PKEY *key, size_t *lenp)
{
    BIO *b = BIO_new(BIO_s_secmem());
    char *p = NULL, *d;
    long n;

    if (b != NULL && PEM_write_bio_PrivateKey(b, key, NULL, NULL, 0, NULL,
        NULL) && (n = BIO_get_mem_data(b, &d)) > 0 &&
        (p = malloc((size_t)n + 1)) != NULL) {
        memcpy(p, d, (size_t)n);
        p[n] = '\0';
        *lenp = (size_t)n;
    }
    BIO_free(b);            /* a secure-heap BIO wipes what it held */
    return p;
}

/* ---- the ACME client ---- */

/* Keeps the last OUT_KEEP bytes of out; logs every full line. */
struct out {
    char tail[OUT_KEEP + 1];
    size_t n;
    char line[512];
    size_t ln;
};

static void
out_add(struct out *o, const char *b, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        if (b[i] == '\n' || o->ln == sizeof(o->line) - 1) {
            o->line[o->ln] = '\0';
            if (o->ln > 0) {
                say(6, "uacme: %s", o->line);
                snprintf(o->tail, sizeof(o->tail), "%.*s", OUT_KEEP, o->line);
            }
            o->ln = 0;
            continue;
        }
        o->line[o->ln++] = (unsigned char)b[i] < 0x20 ? ' ' : b[i];
    }
}

/*
 * Runs the client with argv until it ends or the run's deadline (then
 * its process group is killed).  Returns its exit status, -2 on timeout,
 * -1 when it could not be started; the last line it wrote in last.
 */
static int
client(struct run *r, char *const argv[], char *last, size_t llen)
{
    char challenge[PATH_MAX], envc[PATH_MAX + 32], buf[512];
    char *envp[] = { "PATH=/usr/sbin:/usr/bin:/sbin:/bin", envc, NULL };
    struct out o;
    struct pollfd pfd;
    int p[2], st = 0, timed_out = 0;
    ssize_t n;
    long left;
    pid_t pid;

    memset(&o, 0, sizeof(o));
    last[0] = '\0';
    if (cd_path(challenge, "%s/challenge", r->dir) != 0)
        return -1;
    snprintf(envc, sizeof(envc), "CERTDIALOG_ACME_CHALLENGE=%s", challenge);
    if (pipe2(p, O_CLOEXEC) != 0)
        return -1;
    if ((pid = fork()) < 0) {
        close(p[0]);
        close(p[1]);
        return -1;
    }
    if (pid == 0) {
        sigset_t none;

        /* its own group: a timeout kills it and whatever it started */
        setpgid(0, 0);
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        signal(SIGPIPE, SIG_DFL);
        dup2(p[1], 1);
        dup2(p[1], 2);
        execve(argv[0], argv, envp);
        _exit(127);
    }
    close(p[1]);
    pfd.fd = p[0];
    pfd.events = POLLIN;
    for (;;) {
        left = (long)(r->deadline - time(NULL));
        if (left <= 0) {
            timed_out = 1;
            break;
        }
        if (poll(&pfd, 1, (int)(left > 1 ? 1000 : left * 1000)) < 0 &&
            errno != EINTR)
            break;
        if (pfd.revents == 0)
            continue;
        if ((n = read(p[0], buf, sizeof(buf))) < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        out_add(&o, buf, (size_t)n);
    }
    out_add(&o, "\n", 1);
    close(p[0]);
    if (timed_out)
        kill(-pid, SIGKILL);
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
        ;
    snprintf(last, llen, "%s", o.tail);
    if (timed_out)
        return -2;
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* The account's directory and key id, to know when to register anew. */
static void
account_id(const struct cd_acme_config *c, char *hex)
{
    unsigned char md[SHA256_DIGEST_LENGTH];
    EVP_MD_CTX *x = EVP_MD_CTX_new();
    unsigned i;

    memset(md, 0, sizeof(md));
    if (x != NULL && EVP_DigestInit_ex(x, EVP_sha256(), NULL)) {
        EVP_DigestUpdate(x, c->directory, strlen(c->directory) + 1);
        EVP_DigestUpdate(x, c->eab_kid, strlen(c->eab_kid) + 1);
        EVP_DigestFinal_ex(x, md, NULL);
    }
    EVP_MD_CTX_free(x);
    for (i = 0; i < 16; i++)
        snprintf(hex + 2 * i, 3, "%02x", md[i]);
}

/*
 * Orders the certificate for csr (a file): registers the account on the
 * first run with this CA, then "issue".  The issued chain's PEM into
 * *pemp.  0, or -1 with r->msg.
 */
static int
order(struct run *r, const char *csr, char **pemp, size_t *lenp)
{
    const char *prog = r->s->acme_client != NULL ? r->s->acme_client :
        "/usr/bin/uacme";
    char hook[PATH_MAX], conf[PATH_MAX], marker[PATH_MAX], cert[PATH_MAX];
    char id[40], have[40], eab[CD_ACME_KID_MAX + CD_ACME_HMAC_MAX + 2];
    char last[OUT_KEEP + 1], *argv[16], *b;
    size_t len;
    int i = 0, rc = -1, x;

    if (r->s->acme_hook != NULL)
        snprintf(hook, sizeof(hook), "%s", r->s->acme_hook);
    else
        snprintf(hook, sizeof(hook), "%s", CD_PKGLIBEXECDIR "/acme-hook");
    if (cd_path(conf, "%s/uacme", r->dir) != 0 ||
        cd_path(marker, "%s/uacme/account", r->dir) != 0) {
        snprintf(r->msg, sizeof(r->msg), "the state directory's path is too "
            "long");
        return -1;
    }
    if (mkdir(conf, 0700) != 0 && errno != EEXIST) {
        snprintf(r->msg, sizeof(r->msg), "cannot make %.200s: %s", conf,
            strerror(errno));
        return -1;
    }
    account_id(&r->c, id);
    have[0] = '\0';
    if ((b = cv_read_file(marker, 64, CV_READ_REGULAR, &len)) != NULL) {
        snprintf(have, sizeof(have), "%.32s", b);
        free(b);
    }
    if (strcmp(have, id) != 0) {
        /* another CA or account: a new account key */
        if (cd_path(cert, "%s/uacme/private/key.pem", r->dir) == 0)
            unlink(cert);
        argv[i++] = (char *)prog;
        argv[i++] = "-y";
        argv[i++] = "-c";
        argv[i++] = conf;
        argv[i++] = "-a";
        argv[i++] = r->c.directory;
        if (r->c.eab_kid[0] != '\0') {
            /*
             * uacme takes the HMAC key only as an argument: the process
             * list shows it, so the units hide other processes
             * (ProtectProc=invisible) and it is never logged.
             */
            snprintf(eab, sizeof(eab), "%s:%s", r->c.eab_kid, r->c.eab_hmac);
            argv[i++] = "-e";
            argv[i++] = eab;
        }
        argv[i++] = "new";
        if (r->c.email[0] != '\0')
            argv[i++] = r->c.email;
        argv[i] = NULL;
        say(6, "registering an account at %s", r->c.directory);
        x = client(r, argv, last, sizeof(last));
        OPENSSL_cleanse(eab, sizeof(eab));
        if (x != 0)
            goto failed;
        if (cd_file_replace(marker, id, strlen(id), 0600, r->msg,
            sizeof(r->msg)) != 0)
            return -1;
    }
    /* uacme writes the chain next to the request: order/request-cert.pem */
    if (cd_path(cert, "%s/order/request-cert.pem", r->dir) != 0)
        return -1;
    i = 0;
    argv[i++] = (char *)prog;
    argv[i++] = "-f";
    argv[i++] = "-n";
    argv[i++] = "-c";
    argv[i++] = conf;
    argv[i++] = "-a";
    argv[i++] = r->c.directory;
    argv[i++] = "-h";
    argv[i++] = hook;
    argv[i++] = "issue";
    argv[i++] = (char *)csr;
    argv[i] = NULL;
    say(6, "ordering a certificate for %s%s", r->c.names[0],
        r->c.n_names > 1 ? " and more" : "");
    if ((x = client(r, argv, last, sizeof(last))) != 0)
        goto failed;
    if ((*pemp = cv_read_file(cert, CERT_MAX, CV_READ_REGULAR, lenp)) ==
        NULL) {
        snprintf(r->msg, sizeof(r->msg), "the ACME client ended without a "
            "certificate (%s)", strerror(errno));
        return -1;
    }
    return 0;
failed:
    if (x == -2)
        snprintf(r->msg, sizeof(r->msg), "the ACME server did not finish "
            "within %d s (acme_timeout): %s", r->s->acme_timeout,
            last[0] ? last : "no answer");
    else if (x == -1 || x == 127)
        snprintf(r->msg, sizeof(r->msg), "the ACME client %s cannot be run",
            prog);
    else
        snprintf(r->msg, sizeof(r->msg), "the ACME exchange failed: %s",
            last[0] ? last : "no reason given");
    return rc;
}

/* ---- the gate ---- */

/*
 * The findings that refuse an ACME certificate, "code (detail); ..." into
 * buf; their number.  The engine's blocking ones but subject_incomplete:
 * an ACME CA writes the subject itself (most only a CN), whatever the
 * request said.  And name_mismatch, a warning for an upload: a
 * certificate ordered for this appliance must name it.
 */
static int
refusals(const struct cv_report *rep, char *buf, size_t len)
{
    const struct cv_finding *f;
    size_t i, off = 0;
    int n, count = 0;

    buf[0] = '\0';
    for (i = 0; i < rep->n_findings; i++) {
        f = &rep->findings[i];
        if (f->code == CV_SUBJECT_INCOMPLETE ||
            (!f->blocking && f->code != CV_NAME_MISMATCH))
            continue;
        count++;
        n = snprintf(buf + off, len - off, "%s%s%s%s%s", off ? "; " : "",
            cv_code_name(f->code), f->detail ? " (" : "",
            f->detail ? f->detail : "", f->detail ? ")" : "");
        if (n < 0 || (size_t)n >= len - off)
            break;
        off += (size_t)n;
    }
    return count;
}

/*
 * What the CA issued through the upload's gate, then installed.  0 with
 * res, or -1 with r->msg (nothing installed).
 */
static int
gate(struct run *r, struct cv_ctx *cv, const char *pem, size_t len,
    const char *key, size_t klen, struct cd_install_result *res)
{
    static const char end[] = "-----END CERTIFICATE-----";
    struct cv_input in;
    struct cv_options opt, lax;
    struct cv_report *rep, *rep2 = NULL;
    const char *e;
    char name[80], codes[400];
    int rc = -1;

    memset(&in, 0, sizeof(in));
    in.key = (const uint8_t *)key;
    in.key_len = klen;
    /* uacme's file: the leaf, then the CA certificates */
    in.crt = (const uint8_t *)pem;
    in.crt_len = len;
    if ((e = strstr(pem, end)) != NULL) {
        in.crt_len = (size_t)(e - pem) + sizeof(end) - 1;
        if (strstr(pem + in.crt_len, "-----BEGIN") != NULL) {
            in.chain = (const uint8_t *)pem + in.crt_len;
            in.chain_len = len - in.crt_len;
        }
    }
    cd_gate_options(r->s, NULL, 1, CV_VALIDATION_MANDATORY, &opt);
    if ((rep = cv_validate(cv, &in, &opt)) == NULL)
        FAIL(r, "out of memory");
    if (refusals(rep, codes, sizeof(codes)) > 0)
        FAIL(r, "the certificate the CA issued was refused: %s", codes);
    if (!names_equal(&rep->summary, &r->c))
        FAIL(r, "the certificate the CA issued was refused: its names are "
            "not the configured ones");
    if (!cv_report_ok(rep)) {
        /*
         * Only subject_incomplete blocked it: the engine's accepted
         * objects come from a run that lets its errors pass, every one
         * of which the run above has just seen to be that one.
         */
        cd_gate_options(r->s, NULL, 1, CV_VALIDATION_NONE, &lax);
        if ((rep2 = cv_validate(cv, &in, &lax)) == NULL ||
            !cv_report_ok(rep2) ||
            refusals(rep2, codes, sizeof(codes)) > 0)
            FAIL(r, "the certificate the CA issued was refused");
    }
    snprintf(name, sizeof(name), "ACME %.59s", r->c.names[0]);
    if (cd_gate_install(r->s, name, &opt, rep2 != NULL ? rep2 : rep,
        res) != 0)
        FAIL(r, "the certificate could not be installed: %s", res->err);
    rc = 0;
out:
    cv_report_free(rep);
    cv_report_free(rep2);
    return rc;
}

/* ---- reporting ---- */

static void
metrics(struct run *r, const struct cd_acme_status *st)
{
    char path[PATH_MAX], text[1024], err[256], *slash;

    if (r->s->expiry_metrics_file == NULL)
        return;
    /* a file of its own next to certdialog-expiry's (textfile collector) */
    snprintf(path, sizeof(path), "%s", r->s->expiry_metrics_file);
    if ((slash = strrchr(path, '/')) == NULL)
        return;
    snprintf(slash + 1, sizeof(path) - (size_t)(slash + 1 - path),
        "certdialog-acme.prom");
    snprintf(text, sizeof(text),
        "# HELP certdialog_acme_last_attempt_timestamp_seconds When the "
        "last ACME renewal was tried, Unix time.\n"
        "# TYPE certdialog_acme_last_attempt_timestamp_seconds gauge\n"
        "certdialog_acme_last_attempt_timestamp_seconds %lld\n"
        "# HELP certdialog_acme_last_success_timestamp_seconds When an ACME "
        "renewal last installed a certificate, Unix time (0: never).\n"
        "# TYPE certdialog_acme_last_success_timestamp_seconds gauge\n"
        "certdialog_acme_last_success_timestamp_seconds %lld\n"
        "# HELP certdialog_acme_failures ACME renewals failed in a row.\n"
        "# TYPE certdialog_acme_failures gauge\n"
        "certdialog_acme_failures %d\n",
        (long long)st->last_attempt, (long long)st->last_success,
        st->failures);
    if (cd_metrics_write(path, text, err, sizeof(err)) != 0)
        say(4, "metrics not written: %s", err);
}

static void
webhook(struct run *r, const struct cd_acme_status *st)
{
    struct cd_webhook w;
    char next[32], err[256], *body;
    json_t *j;
    int tries = 0;

    if (r->s->expiry_webhook == NULL)
        return;
    cv_time_iso(st->next_attempt, next, sizeof(next));
    j = json_pack("{s:s, s:s, s:s, s:i, s:s}", "event",
        "acme_renewal_failed", "host", r->s->hostname, "message",
        st->last_message, "failures", st->failures, "next_attempt", next);
    if (j == NULL || (body = json_dumps(j, JSON_COMPACT)) == NULL) {
        json_decref(j);
        return;
    }
    json_decref(j);
    cd_webhook_defaults(&w, r->s->expiry_webhook, r->s->expiry_webhook_ca);
    w.total_timeout = r->s->expiry_webhook_timeout;
    if (cd_webhook_post(&w, body, &tries, err, sizeof(err)) != 0)
        say(3, "the webhook was not delivered (%d attempt%s): %s", tries,
            tries == 1 ? "" : "s", err);
    free(body);
}

/* ---- the run ---- */

static int
lock_run(struct run *r)
{
    char p[PATH_MAX];
    int fd, i;

    if (cd_path(p, "%s/run.lock", r->dir) != 0 ||
        (fd = open(p, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600)) < 0)
        return -1;
    for (i = 0; i < 20; i++) {
        if (flock(fd, LOCK_EX | LOCK_NB) == 0)
            return fd;
        usleep(100000);     /* a status reader holds it for a moment */
    }
    close(fd);
    errno = EWOULDBLOCK;
    return -1;
}

static int
renew(struct run *r, struct cv_ctx *cv, struct cd_install_result *res)
{
    char csr[PATH_MAX], why[256], *pem = NULL, *key = NULL, *rq_pem;
    EVP_PKEY *k = NULL;
    X509_REQ *rq = NULL;
    size_t len = 0, klen = 0;
    BIO *b = NULL;
    long n;
    int rc = -1;

    if ((k = cd_keygen(r->c.key_type, why, sizeof(why))) == NULL)
        FAIL(r, "no key could be made: %s", why);
    if ((rq = request(k, &r->c, why, sizeof(why))) == NULL)
        FAIL(r, "no signing request could be made: %s", why);
    if ((key = key_pem(k, &klen)) == NULL)
        FAIL(r, "out of memory");
    /*
     * The request alone goes to a file, for the client, in a directory
     * of its own made anew: never an older run's certificate there.
     */
    if (cd_path(csr, "%s/order", r->dir) != 0 ||
        (cd_remove_dir(csr) != 0 && errno != ENOENT) ||
        mkdir(csr, 0700) != 0)
        FAIL(r, "cannot make %.200s: %s", csr, strerror(errno));
    if ((b = BIO_new(BIO_s_mem())) == NULL || !PEM_write_bio_X509_REQ(b, rq)
        || (n = BIO_get_mem_data(b, &rq_pem)) <= 0 ||
        cd_path(csr, "%s/order/request.pem", r->dir) != 0 ||
        cd_file_replace(csr, rq_pem, (size_t)n, 0600, why, sizeof(why)) != 0)
        FAIL(r, "the signing request cannot be written");
    if (order(r, csr, &pem, &len) != 0)
        goto out;
    rc = gate(r, cv, pem, len, key, klen, res);
out:
    BIO_free(b);
    X509_REQ_free(rq);
    EVP_PKEY_free(k);
    cv_free_secret(key, klen + 1);
    free(pem);
    return rc;
}

int
cd_acme_run(const struct cd_settings *s, struct cv_ctx *cv, int force)
{
    struct run r;
    struct cd_acme_status st;
    struct cd_acme_served sv;
    struct cd_install_result res;
    char why[256], next[32];
    time_t now = time(NULL), at;
    int lock = -1, rc = 1, x;

    memset(&r, 0, sizeof(r));
    r.s = s;
    umask(077);
    x = cd_acme_config_load(s, &r.c, why, sizeof(why));
    if (x < 0) {
        say(3, "the settings cannot be used: %s", why);
        return 1;
    }
    if (x == 0 || !r.c.enabled) {
        if (force)
            say(4, "automatic renewal is %s", x == 0 ? "not set up (PUT "
                "/api/acme)" : "turned off");
        cd_acme_config_clear(&r.c);
        return 0;
    }
    if (cd_acme_mkdir(s) != 0 || cd_acme_path(s, "", r.dir) != 0) {
        say(3, "cannot make %s/acme: %s", s->state_dir, strerror(errno));
        goto done;
    }
    if ((lock = lock_run(&r)) < 0) {
        say(errno == EWOULDBLOCK ? 5 : 3, "%s", errno == EWOULDBLOCK ?
            "a renewal is already running" : "cannot take run.lock");
        rc = errno == EWOULDBLOCK ? 0 : 1;
        goto done;
    }
    cd_acme_status_load(s, &st);
    served(&r, &sv);
    if (!cd_acme_due(now, &sv, &st, force, &at, why, sizeof(why))) {
        cv_time_iso(at, next, sizeof(next));
        say(6, "nothing to do: %s; next at %s", why, next);
        st.next_attempt = at;
        cd_acme_status_save(s, &st, why, sizeof(why));
        rc = 0;
        goto done;
    }
    say(5, "renewing: %s", why);
    /* the answers: certdialog-fcgi reads them for nginx (acme.c) */
    cd_path(why, "%s/challenge", r.dir);
    if (mkdir(why, 0700) != 0 && errno != EEXIST)
        say(4, "cannot make %s: %s", why, strerror(errno));
    r.deadline = now + s->acme_timeout;
    memset(&res, 0, sizeof(res));
    st.last_attempt = now;
    if (renew(&r, cv, &res) == 0) {
        snprintf(st.last_result, sizeof(st.last_result), "ok");
        snprintf(st.last_message, sizeof(st.last_message), "installed as "
            "release %s: %s", res.release, res.served_detail[0] ?
            res.served_detail : res.reload_detail);
        st.last_success = time(NULL);
        st.failures = 0;
        snprintf(st.release, sizeof(st.release), "%s", res.release);
        served(&r, &sv);
        st.next_attempt = cd_acme_renew_at(sv.not_before, sv.not_after);
        say(5, "%s", st.last_message);
        rc = 0;
    } else {
        snprintf(st.last_result, sizeof(st.last_result), "failed");
        snprintf(st.last_message, sizeof(st.last_message), "%s", r.msg);
        st.failures++;
        st.next_attempt = time(NULL) + cd_acme_backoff(st.failures);
        cv_time_iso(st.next_attempt, next, sizeof(next));
        say(3, "renewal failed (%d in a row; next attempt at %s); the "
            "served certificate is unchanged: %s", st.failures, next, r.msg);
    }
    if (cd_acme_status_save(s, &st, why, sizeof(why)) != 0)
        say(3, "the status was not written: %s", why);
    metrics(&r, &st);
    if (rc != 0)
        webhook(&r, &st);
done:
    if (lock >= 0)
        close(lock);
    cd_acme_config_clear(&r.c);
    return rc;
}
