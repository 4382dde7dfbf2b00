/*
 * install.c - atomic installation of accepted certificates (SPEC §6).
 *
 * STATE/
 *   lock                   flock(LOCK_EX) held across write, check, swap,
 *                          prune and reload (nginx reads the files while
 *                          no other install can swap "current")
 *   current -> releases/<id>
 *   releases/<id>/         cert.pem chain.pem fullchain.pem privkey.pem
 *                          meta.json
 *   releases/.tmp-<id>/    a release being written or removed (never
 *                          current)
 *   .current-tmp-<rnd>     the next symlink, before its rename(2)
 *
 * A release is written under .tmp-<id> (each file and the directory
 * fsync'ed), checked the way nginx will load it, renamed to <id>, and made
 * current with the Kubernetes AtomicWriter sequence: a new symlink renamed
 * over "current", then STATE fsync'ed.  A reader following "current" sees
 * the whole old release or the whole new one, whenever the process dies.
 * The ids are sortable (UTC time + random suffix); the order of installs is
 * the "seq" number in meta.json (the clock may step back).
 */
#include "config.h"

#include "install.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

extern char **environ;

#define ID_LEN          25              /* 20261122T163200Z-1a2b3c4d */
#define CMD_TIMEOUT     30              /* s: check and reload commands */
#define CERT_MAX        (1u << 20)      /* current/cert.pem */
#define META_MAX        (64u << 10)     /* meta.json */
#define PIDFILE_MAX     32
#define TRIES           8               /* random names tried before giving up */
#define ENV_RELEASE     "CERTDIALOG_RELEASE="

/* One release found under STATE/releases. */
struct rel {
    char id[ID_LEN + 1];
    long long seq;              /* install order; 0: no meta.json */
    struct cd_release info;
};

/* ---- crash tests ---- */

#ifdef CD_FAULT_HOOKS
/*
 * A test build (configure --enable-fault-hooks) dies by SIGKILL when the
 * install sequence reaches the step named by CERTDIALOG_FAULT_STEP, so
 * tests/integration/test_crash.sh can prove that every prefix of the
 * sequence leaves a whole release current.  The variable is read once.
 */
static void
fault_step(const char *step)
{
    static const char *want;
    static int done;

    if (!done) {
        want = getenv("CERTDIALOG_FAULT_STEP");
        done = 1;
    }
    if (want != NULL && strcmp(want, step) == 0) {
        raise(SIGKILL);
        _exit(137);
    }
}
#define FAULT_STEP(step) fault_step(step)
#else
#define FAULT_STEP(step) ((void)0)
#endif

/* ---- small helpers ---- */

static void
seterr(struct cd_install_result *res, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Keeps the first reason: later clean-up failures don't hide it. */
static void
seterr(struct cd_install_result *res, const char *fmt, ...)
{
    va_list ap;

    if (res->err[0] != '\0')
        return;
    va_start(ap, fmt);
    vsnprintf(res->err, sizeof(res->err), fmt, ap);
    va_end(ap);
}

/* OpenSSL's first reason (never key material), and the queue emptied. */
static unsigned long
ossl_reason(char *buf, size_t len)
{
    unsigned long e, first = 0;
    const char *r;

    snprintf(buf, len, "unknown OpenSSL error");
    while ((e = ERR_get_error()) != 0) {
        if (first != 0)
            continue;
        first = e;
        if (ERR_SYSTEM_ERROR(e))
            r = strerror(ERR_GET_REASON(e));
        else
            r = ERR_reason_error_string(e);
        if (r != NULL)
            snprintf(buf, len, "%s", r);
    }
    return first;
}

/* snprintf into a PATH_MAX buffer; -1 (ENAMETOOLONG) when it doesn't fit. */
static int
pjoin(char *buf, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int
pjoin(char *buf, const char *fmt, ...)
{
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(buf, PATH_MAX, fmt, ap);
    va_end(ap);
    if (n < 0 || n >= PATH_MAX) {
        errno = ENAMETOOLONG;
        return -1;
    }
    return 0;
}

/* 2 * nbytes lower-case hex digits and a NUL into out. */
static int
rand_hex(char *out, size_t nbytes)
{
    static const char hex[] = "0123456789abcdef";
    unsigned char b[16];
    size_t i;

    if (nbytes > sizeof(b) || RAND_bytes(b, (int)nbytes) != 1) {
        ERR_clear_error();
        return -1;
    }
    for (i = 0; i < nbytes; i++) {
        out[2 * i] = hex[b[i] >> 4];
        out[2 * i + 1] = hex[b[i] & 15];
    }
    out[2 * nbytes] = '\0';
    return 0;
}

static int
is_release_id(const char *s)
{
    static const char pat[] = "ddddddddTddddddZ-hhhhhhhh";
    size_t i;

    if (strlen(s) != ID_LEN)
        return 0;
    for (i = 0; i < ID_LEN; i++) {
        char p = pat[i], c = s[i];

        if (p == 'd' && !(c >= '0' && c <= '9'))
            return 0;
        if (p == 'h' && !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
            return 0;
        if (p != 'd' && p != 'h' && c != p)
            return 0;
    }
    return 1;
}

static int
make_id(char *id, time_t now)
{
    struct tm tm;
    char rnd[9];

    if (gmtime_r(&now, &tm) == NULL || rand_hex(rnd, 4) != 0)
        return -1;
    if (strftime(id, ID_LEN + 1, "%Y%m%dT%H%M%SZ-", &tm) != ID_LEN - 8)
        return -1;
    memcpy(id + ID_LEN - 8, rnd, 9);
    return 0;
}

static void
iso_time(time_t t, char *buf, size_t len)
{
    struct tm tm;

    if (gmtime_r(&t, &tm) == NULL ||
        strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
        snprintf(buf, len, "1970-01-01T00:00:00Z");
}

static time_t
parse_time(const char *s, const char *fmt)
{
    struct tm tm;
    const char *end;

    memset(&tm, 0, sizeof(tm));
    if (s == NULL || (end = strptime(s, fmt, &tm)) == NULL || *end != '\0')
        return 0;
    return timegm(&tm);
}

/* Printable ASCII only (the answer is JSON), runs of blanks squeezed. */
static void
sanitize(char *s)
{
    char *w = s;
    const char *r;

    for (r = s; *r != '\0'; r++) {
        char c = (*r >= 0x20 && *r < 0x7f) ? *r : ' ';

        if (c == ' ' && (w == s || w[-1] == ' '))
            continue;
        *w++ = c;
    }
    while (w > s && w[-1] == ' ')
        w--;
    *w = '\0';
}

/* ---- files ---- */

/* Writes all of buf, through short writes and EINTR. */
static int
write_all(int fd, const void *buf, size_t len)
{
    const unsigned char *p = buf;
    ssize_t n;

    while (len > 0) {
        n = write(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -1;
        if (n == 0) {
            errno = EIO;
            return -1;
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

/* dir/name, new (O_EXCL), written fully, fsync'ed and closed. */
static int
write_file(const char *dir, const char *name, const void *buf, size_t len,
    mode_t mode, struct cd_install_result *res)
{
    char path[PATH_MAX];
    int fd = -1, e;

    if (pjoin(path, "%s/%s", dir, name) != 0)
        goto fail;
    fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
        mode);
    if (fd < 0 || write_all(fd, buf, len) != 0 || fsync(fd) != 0)
        goto fail;
    e = close(fd);
    fd = -1;
    if (e != 0)
        goto fail;
    return 0;
fail:
    e = errno;
    if (fd >= 0)
        close(fd);
    seterr(res, "cannot write %s: %s", name, strerror(e));
    return -1;
}

static int
fsync_dir(const char *dir)
{
    int fd, rc, e;

    if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
        return -1;
    rc = fsync(fd);
    e = errno;
    close(fd);
    errno = e;
    return rc;
}

/* Removes a release directory and the files in it (no subdirectories). */
static int
remove_dir(const char *path)
{
    DIR *d;
    struct dirent *de;
    int rc = 0;

    if ((d = opendir(path)) == NULL)
        return errno == ENOENT ? 0 : -1;
    while ((de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        if (unlinkat(dirfd(d), de->d_name, 0) != 0 && errno != ENOENT)
            rc = -1;
    }
    closedir(d);
    if (rmdir(path) != 0 && errno != ENOENT)
        rc = -1;
    return rc;
}

/* Reads at most max bytes of a file into a new NUL-terminated buffer. */
static char *
read_small(const char *path, size_t max, size_t *lenp)
{
    char *buf = NULL;
    struct stat st;
    size_t len = 0;
    ssize_t n;
    int fd, e;

    /* O_NONBLOCK: a FIFO put in place of a pid file must not hang us */
    if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)) < 0)
        return NULL;
    if (fstat(fd, &st) != 0)
        goto fail;
    if (!S_ISREG(st.st_mode)) {
        errno = EINVAL;
        goto fail;
    }
    if ((buf = malloc(max + 1)) == NULL)
        goto fail;
    for (;;) {
        n = read(fd, buf + len, max + 1 - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            goto fail;
        if (n == 0)
            break;
        len += (size_t)n;
        if (len > max) {
            errno = EFBIG;
            goto fail;
        }
    }
    close(fd);
    buf[len] = '\0';
    *lenp = len;
    return buf;
fail:
    e = errno;
    free(buf);
    close(fd);
    errno = e;
    return NULL;
}

/* ---- what a release holds ---- */

/* The PEM of the leaf (when not NULL), then of the path's certificates. */
static int
pem_certs(BIO *b, X509 *leaf, STACK_OF(X509) *path, int skip_roots)
{
    int i;

    if (leaf != NULL && PEM_write_bio_X509(b, leaf) != 1)
        return -1;
    for (i = 0; i < sk_X509_num(path); i++) {
        X509 *x = sk_X509_value(path, i);

        if (skip_roots && X509_self_signed(x, 0) == 1)
            continue;
        if (PEM_write_bio_X509(b, x) != 1)
            return -1;
    }
    return 0;
}

static void
fingerprint(X509 *x, char *buf, size_t len)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0, i;

    buf[0] = '\0';
    if (X509_digest(x, EVP_sha256(), md, &n) != 1 || len < 3 * n)
        return;
    for (i = 0; i < n; i++)
        snprintf(buf + 3 * i, len - 3 * i, "%02X%s", md[i],
            i + 1 < n ? ":" : "");
}

static json_t *
subject_cn(X509 *x)
{
    X509_NAME *nm = X509_get_subject_name(x);
    unsigned char *u = NULL;
    json_t *j;
    int i, n;

    i = X509_NAME_get_index_by_NID(nm, NID_commonName, -1);
    if (i < 0 || (n = ASN1_STRING_to_UTF8(&u,
        X509_NAME_ENTRY_get_data(X509_NAME_get_entry(nm, i)))) < 0) {
        ERR_clear_error();
        return json_string("");
    }
    j = json_stringn((const char *)u, (size_t)n);
    OPENSSL_free(u);
    return j != NULL ? j : json_string("");
}

static char *
meta_json(const struct cd_install_files *f, const char *id, time_t now,
    long long seq)
{
    json_t *m;
    char when[32], until[32], fp[3 * EVP_MAX_MD_SIZE + 1];
    struct tm tm;
    char *out;

    iso_time(now, when, sizeof(when));
    if (ASN1_TIME_to_tm(X509_get0_notAfter(f->leaf), &tm) != 1 ||
        strftime(until, sizeof(until), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
        snprintf(until, sizeof(until), "unknown");
    ERR_clear_error();
    fingerprint(f->leaf, fp, sizeof(fp));
    m = json_pack("{s:s, s:s, s:s, s:s, s:b, s:s, s:I, s:s, s:o, s:s}",
        "id", id,
        "name", f->name != NULL ? f->name : "",
        "mode", f->mode != NULL ? f->mode : "ca-signed",
        "validation", f->validation != NULL ? f->validation : "mandatory",
        "use_crl", f->use_crl != 0,
        "installed_at", when,
        "seq", (json_int_t)seq,
        "sha256", fp,
        "subject_cn", subject_cn(f->leaf),
        "not_after", until);
    if (m == NULL)
        return NULL;
    out = json_dumps(m, JSON_INDENT(2));
    json_decref(m);
    return out;
}

/* Writes the five files of a release into dir and fsyncs dir. */
static int
write_release(const char *dir, const struct cd_install_files *f,
    const char *id, time_t now, long long seq, struct cd_install_result *res)
{
    BIO *cert = NULL, *chain = NULL, *full = NULL, *key = NULL;
    char *meta = NULL, *p, why[128];
    long n;
    int rc = -1;

    cert = BIO_new(BIO_s_mem());
    chain = BIO_new(BIO_s_mem());
    full = BIO_new(BIO_s_mem());
    key = BIO_new(BIO_s_secmem());      /* cleared when freed */
    if (cert == NULL || chain == NULL || full == NULL || key == NULL ||
        pem_certs(cert, f->leaf, NULL, 0) != 0 ||
        pem_certs(chain, NULL, f->path, 0) != 0 ||
        pem_certs(full, f->leaf, f->path, 1) != 0) {
        ossl_reason(why, sizeof(why));
        seterr(res, "cannot encode the certificates: %s", why);
        goto out;
    }
    if ((meta = meta_json(f, id, now, seq)) == NULL) {
        seterr(res, "cannot encode meta.json: out of memory");
        goto out;
    }
    n = BIO_get_mem_data(cert, &p);
    if (write_file(dir, "cert.pem", p, (size_t)n, 0644, res) != 0)
        goto out;
    FAULT_STEP("after_write_cert");
    n = BIO_get_mem_data(chain, &p);
    if (write_file(dir, "chain.pem", p, (size_t)n, 0644, res) != 0)
        goto out;
    FAULT_STEP("after_write_chain");
    n = BIO_get_mem_data(full, &p);
    if (write_file(dir, "fullchain.pem", p, (size_t)n, 0644, res) != 0)
        goto out;
    FAULT_STEP("after_write_fullchain");
    /* PKCS#8, unencrypted: nginx reads it without a passphrase */
    if (PEM_write_bio_PKCS8PrivateKey(key, f->key, NULL, NULL, 0, NULL,
        NULL) != 1) {
        ossl_reason(why, sizeof(why));
        seterr(res, "cannot encode the private key: %s", why);
        goto out;
    }
    n = BIO_get_mem_data(key, &p);
    rc = write_file(dir, "privkey.pem", p, (size_t)n, 0600, res);
    OPENSSL_cleanse(p, (size_t)n);
    if (rc != 0)
        goto out;
    FAULT_STEP("after_write_key");
    rc = -1;
    if (write_file(dir, "meta.json", meta, strlen(meta), 0644, res) != 0)
        goto out;
    FAULT_STEP("after_write_meta");
    if (fsync_dir(dir) != 0) {
        seterr(res, "cannot sync the release directory: %s",
            strerror(errno));
        goto out;
    }
    FAULT_STEP("after_fsync_release");
    rc = 0;
out:
    BIO_free(cert);
    BIO_free(chain);
    BIO_free(full);
    BIO_free(key);
    free(meta);
    return rc;
}

/* ---- the releases on disk ---- */

/* The id "current" names, or -1 when it is missing or not one of ours. */
static int
current_id(const char *state, char *id)
{
    char path[PATH_MAX], target[64];
    ssize_t n;

    if (pjoin(path, "%s/current", state) != 0)
        return -1;
    n = readlink(path, target, sizeof(target) - 1);
    if (n <= 0)
        return -1;
    target[n] = '\0';
    if (strncmp(target, "releases/", 9) != 0 || !is_release_id(target + 9))
        return -1;
    memcpy(id, target + 9, ID_LEN + 1);
    return 0;
}

/* 1 when "current" leads to a release nginx can start with. */
static int
current_ok(const char *state)
{
    char path[PATH_MAX];
    struct stat st;

    if (pjoin(path, "%s/current/fullchain.pem", state) != 0 ||
        stat(path, &st) != 0 || !S_ISREG(st.st_mode))
        return 0;
    if (pjoin(path, "%s/current/privkey.pem", state) != 0 ||
        stat(path, &st) != 0 || !S_ISREG(st.st_mode))
        return 0;
    return 1;
}

static void
read_meta(const char *state, struct rel *r)
{
    char path[PATH_MAX], *buf = NULL;
    json_t *m = NULL, *v;
    size_t len = 0;

    snprintf(r->info.id, sizeof(r->info.id), "%s", r->id);
    r->info.installed_at = parse_time(r->id, "%Y%m%dT%H%M%SZ-");
    if (pjoin(path, "%s/releases/%s/meta.json", state, r->id) != 0 ||
        (buf = read_small(path, META_MAX, &len)) == NULL ||
        (m = json_loadb(buf, len, 0, NULL)) == NULL || !json_is_object(m))
        goto out;
    if (json_is_string(v = json_object_get(m, "name")))
        snprintf(r->info.name, sizeof(r->info.name), "%s",
            json_string_value(v));
    if (json_is_string(v = json_object_get(m, "mode")))
        snprintf(r->info.mode, sizeof(r->info.mode), "%s",
            json_string_value(v));
    if (json_is_string(v = json_object_get(m, "validation")))
        snprintf(r->info.validation, sizeof(r->info.validation), "%s",
            json_string_value(v));
    r->info.use_crl = json_is_true(json_object_get(m, "use_crl"));
    if (json_is_string(v = json_object_get(m, "installed_at")))
        r->info.installed_at = parse_time(json_string_value(v),
            "%Y-%m-%dT%H:%M:%SZ");
    if (json_is_integer(v = json_object_get(m, "seq")) &&
        json_integer_value(v) > 0)
        r->seq = json_integer_value(v);
out:
    json_decref(m);
    free(buf);
}

/* Newest first: by seq, then by id. */
static int
rel_cmp(const void *a, const void *b)
{
    const struct rel *x = a, *y = b;

    if (x->seq != y->seq)
        return x->seq < y->seq ? 1 : -1;
    return -strcmp(x->id, y->id);
}

/*
 * The releases under STATE/releases, newest first, with the current one
 * marked.  *relp is NULL when there are none.  Caller frees with free().
 */
static int
scan(const char *state, struct rel **relp, size_t *np)
{
    char path[PATH_MAX], cur[ID_LEN + 1];
    struct rel *r = NULL, *t;
    size_t n = 0, cap = 0, i;
    struct dirent *de;
    DIR *d;

    *relp = NULL;
    *np = 0;
    if (pjoin(path, "%s/releases", state) != 0)
        return -1;
    if ((d = opendir(path)) == NULL)
        return errno == ENOENT ? 0 : -1;
    while ((de = readdir(d)) != NULL) {
        if (!is_release_id(de->d_name))
            continue;
        if (n == cap) {
            cap = cap ? 2 * cap : 16;
            if ((t = realloc(r, cap * sizeof(*r))) == NULL) {
                free(r);
                closedir(d);
                return -1;
            }
            r = t;
        }
        memset(&r[n], 0, sizeof(r[n]));
        memcpy(r[n].id, de->d_name, ID_LEN + 1);
        n++;
    }
    closedir(d);
    for (i = 0; i < n; i++)
        read_meta(state, &r[i]);
    if (n > 0)
        qsort(r, n, sizeof(*r), rel_cmp);
    if (current_id(state, cur) == 0)
        for (i = 0; i < n; i++)
            r[i].info.current = strcmp(r[i].id, cur) == 0;
    *relp = r;
    *np = n;
    return 0;
}

static long long
next_seq(const char *state)
{
    struct rel *r = NULL;
    size_t n = 0;
    long long seq = 1;

    if (scan(state, &r, &n) == 0 && n > 0)
        seq = r[0].seq + 1;
    free(r);
    return seq;
}

/* ---- commands ---- */

/* Reads what is there now; keeps the first olen - 1 bytes.  1 at EOF. */
static int
drain(int fd, char *out, size_t olen, size_t *used)
{
    char buf[512];
    ssize_t n;
    size_t k;

    for (;;) {
        n = read(fd, buf, sizeof(buf));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : 1;
        if (n == 0)
            return 1;
        k = (size_t)n;
        if (k > olen - 1 - *used)
            k = olen - 1 - *used;
        memcpy(out + *used, buf, k);
        *used += k;
        out[*used] = '\0';
    }
}

/* In the child: async-signal-safe calls only. */
static void
exec_sh(int wfd, const char *cmd, char **envp)
{
    char *argv[] = { "sh", "-c", (char *)cmd, NULL };
    struct sigaction sa;
    sigset_t none;
    int nul, sig, fd;

    setpgid(0, 0);
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = SIG_DFL;
    for (sig = 1; sig < NSIG; sig++)
        sigaction(sig, &sa, NULL);
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    if (wfd < 3)
        wfd = fcntl(wfd, F_DUPFD, 3);
    nul = open("/dev/null", O_RDONLY);
    if (nul >= 0 && nul < 3)
        nul = fcntl(nul, F_DUPFD, 3);
    if (wfd < 0 || nul < 0 || dup2(nul, 0) < 0 || dup2(wfd, 1) < 0 ||
        dup2(wfd, 2) < 0)
        _exit(126);
    if (close_range(3, ~0U, 0) != 0)
        for (fd = 3; fd < 4096; fd++)
            close(fd);
    execve("/bin/sh", argv, envp);
    _exit(127);
}

/*
 * Runs cmd with /bin/sh -c, CERTDIALOG_RELEASE=release in its environment
 * (when not NULL), stdin /dev/null, stdout+stderr captured into out (the
 * first olen - 1 bytes, sanitised), at most CMD_TIMEOUT seconds.  Returns 0
 * when it exits with status 0; what says how it ended.
 */
static int
run_cmd(const char *cmd, const char *release, char *what, size_t wlen,
    char *out, size_t olen)
{
    char **envp = NULL, *relenv = NULL;
    struct timespec t0, t1;
    struct pollfd pfd;
    int p[2] = { -1, -1 }, st = 0, rc = -1, exited = 0, eof = 0, r, e = 0;
    size_t n, i, j, used = 0;
    pid_t pid;

    out[0] = '\0';
    snprintf(what, wlen, "could not be run");
    for (n = 0; environ != NULL && environ[n] != NULL; n++)
        ;
    if ((envp = calloc(n + 2, sizeof(*envp))) == NULL)
        goto out;
    for (i = j = 0; i < n; i++)
        if (strncmp(environ[i], ENV_RELEASE, sizeof(ENV_RELEASE) - 1) != 0)
            envp[j++] = environ[i];
    if (release != NULL) {
        if ((relenv = malloc(sizeof(ENV_RELEASE) + strlen(release))) == NULL)
            goto out;
        memcpy(relenv, ENV_RELEASE, sizeof(ENV_RELEASE) - 1);
        memcpy(relenv + sizeof(ENV_RELEASE) - 1, release, strlen(release) + 1);
        envp[j++] = relenv;
    }
    envp[j] = NULL;
    if (pipe2(p, O_CLOEXEC) != 0) {
        snprintf(what, wlen, "could not be run: %s", strerror(errno));
        goto out;
    }
    if ((pid = fork()) < 0) {
        snprintf(what, wlen, "could not be run: %s", strerror(errno));
        goto out;
    }
    if (pid == 0)
        exec_sh(p[1], cmd, envp);
    setpgid(pid, pid);
    close(p[1]);
    p[1] = -1;
    fcntl(p[0], F_SETFL, fcntl(p[0], F_GETFL) | O_NONBLOCK);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (;;) {
        if (!eof) {
            pfd.fd = p[0];
            pfd.events = POLLIN;
            if (poll(&pfd, 1, 100) > 0)
                eof = drain(p[0], out, olen, &used);
        } else {
            poll(NULL, 0, 10);
        }
        r = waitpid(pid, &st, WNOHANG);
        if (r == pid || (r < 0 && errno != EINTR)) {
            exited = r == pid;
            e = errno;
            /* a daemon it started may keep the pipe: don't wait for EOF */
            if (!eof)
                drain(p[0], out, olen, &used);
            break;
        }
        clock_gettime(CLOCK_MONOTONIC, &t1);
        if (t1.tv_sec - t0.tv_sec >= CMD_TIMEOUT) {
            kill(-pid, SIGKILL);
            kill(pid, SIGKILL);
            while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
                ;
            snprintf(what, wlen, "timed out after %d s", CMD_TIMEOUT);
            goto out;
        }
    }
    if (!exited)
        snprintf(what, wlen, "could not be waited for: %s", strerror(e));
    else if (WIFEXITED(st) && WEXITSTATUS(st) == 0) {
        snprintf(what, wlen, "succeeded");
        rc = 0;
    } else if (WIFEXITED(st))
        snprintf(what, wlen, "failed with exit status %d", WEXITSTATUS(st));
    else if (WIFSIGNALED(st))
        snprintf(what, wlen, "was killed by signal %d", WTERMSIG(st));
out:
    if (p[0] >= 0)
        close(p[0]);
    if (p[1] >= 0)
        close(p[1]);
    free(relenv);
    free(envp);
    sanitize(out);
    return rc;
}

static int
no_passphrase(char *buf, int size, int rwflag, void *u)
{
    (void)buf;
    (void)size;
    (void)rwflag;
    (void)u;
    return 0;
}

/*
 * Loads dir's fullchain.pem and privkey.pem the way nginx does, then runs
 * the check command with CERTDIALOG_RELEASE=dir.
 */
static int
check_release(const struct cd_settings *s, const char *dir,
    struct cd_install_result *res)
{
    char full[PATH_MAX], key[PATH_MAX], why[128], what[96], out[128];
    SSL_CTX *ctx = NULL;
    unsigned long e;
    int rc = -1;

    ERR_clear_error();
    if (pjoin(full, "%s/fullchain.pem", dir) != 0 ||
        pjoin(key, "%s/privkey.pem", dir) != 0) {
        seterr(res, "cannot check the release: %s", strerror(errno));
        goto out;
    }
    if ((ctx = SSL_CTX_new(TLS_server_method())) == NULL) {
        ossl_reason(why, sizeof(why));
        seterr(res, "cannot check the release: %s", why);
        goto out;
    }
    SSL_CTX_set_default_passwd_cb(ctx, no_passphrase);
    if (SSL_CTX_use_certificate_chain_file(ctx, full) != 1) {
        ossl_reason(why, sizeof(why));
        seterr(res, "the certificate chain would not load in nginx: %s",
            why);
        goto out;
    }
    if (SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1 ||
        SSL_CTX_check_private_key(ctx) != 1) {
        e = ossl_reason(why, sizeof(why));
        if (ERR_GET_LIB(e) == ERR_LIB_X509 &&
            ERR_GET_REASON(e) == X509_R_KEY_VALUES_MISMATCH)
            seterr(res, "the private key does not match the certificate");
        else
            seterr(res, "the private key would not load in nginx: %s", why);
        goto out;
    }
    if (s->check_command != NULL &&
        run_cmd(s->check_command, dir, what, sizeof(what), out,
        sizeof(out)) != 0) {
        seterr(res, "the check command %s%s%s", what, out[0] ? ": " : "",
            out);
        goto out;
    }
    rc = 0;
out:
    SSL_CTX_free(ctx);
    ERR_clear_error();
    return rc;
}

/* ---- lock, swap, prune ---- */

/* Creates STATE and STATE/releases when missing; returns the locked fd. */
static int
take_lock(const struct cd_settings *s, struct cd_install_result *res)
{
    char path[PATH_MAX];
    int fd;

    if (s == NULL || s->state_dir == NULL || s->state_dir[0] == '\0') {
        seterr(res, "no state directory is configured");
        return -1;
    }
    if (mkdir(s->state_dir, 0700) != 0 && errno != EEXIST) {
        seterr(res, "cannot create the state directory %s: %s",
            s->state_dir, strerror(errno));
        return -1;
    }
    if (pjoin(path, "%s/lock", s->state_dir) != 0 ||
        (fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW,
        0600)) < 0) {
        seterr(res, "cannot open the lock file in %s: %s", s->state_dir,
            strerror(errno));
        return -1;
    }
    while (flock(fd, LOCK_EX) != 0) {
        if (errno != EINTR) {
            seterr(res, "cannot lock %s: %s", path, strerror(errno));
            close(fd);
            return -1;
        }
    }
    if (pjoin(path, "%s/releases", s->state_dir) != 0 ||
        (mkdir(path, 0700) != 0 && errno != EEXIST)) {
        seterr(res, "cannot create %s/releases: %s", s->state_dir,
            strerror(errno));
        close(fd);
        return -1;
    }
    return fd;
}

static void
drop_lock(int fd)
{
    if (fd >= 0)
        close(fd);      /* releases the flock */
}

/* A symlink to target at STATE/.current-tmp-<random>; its path in tmp. */
static int
link_tmp(const char *state, const char *target, char *tmp)
{
    char rnd[9];
    int i;

    for (i = 0; i < TRIES; i++) {
        if (rand_hex(rnd, 4) != 0) {
            errno = EIO;
            return -1;
        }
        if (pjoin(tmp, "%s/.current-tmp-%s", state, rnd) != 0)
            return -1;
        if (symlink(target, tmp) == 0)
            return 0;
        if (errno != EEXIST)
            return -1;
    }
    return -1;
}

/*
 * Makes releases/<id> current: symlink, rename(2) over "current", fsync
 * STATE.  Returns 0; -1 with "current" as it was; -2 when "current" names
 * the new release although the sync failed and could not be undone.
 */
static int
swap(const char *state, const char *id, struct cd_install_result *res)
{
    char target[64], prev[PATH_MAX], cur[PATH_MAX], tmp[PATH_MAX];
    ssize_t n;
    int e;

    snprintf(target, sizeof(target), "releases/%s", id);
    if (pjoin(cur, "%s/current", state) != 0) {
        seterr(res, "cannot make release %s current: %s", id,
            strerror(errno));
        return -1;
    }
    n = readlink(cur, prev, sizeof(prev) - 1);
    prev[n > 0 ? n : 0] = '\0';
    if (link_tmp(state, target, tmp) != 0) {
        seterr(res, "cannot make release %s current: cannot create a "
            "symbolic link in %s: %s", id, state, strerror(errno));
        return -1;
    }
    FAULT_STEP("after_symlink_tmp");
    if (rename(tmp, cur) != 0) {
        e = errno;
        unlink(tmp);
        seterr(res, "cannot make release %s current: %s", id, strerror(e));
        return -1;
    }
    FAULT_STEP("after_rename_current");
    if (fsync_dir(state) == 0) {
        FAULT_STEP("after_fsync_state");
        return 0;
    }
    e = errno;
    /* visible but maybe not durable: put the old link back */
    if (prev[0] != '\0') {
        if (link_tmp(state, prev, tmp) != 0)
            goto stuck;
        if (rename(tmp, cur) != 0) {
            unlink(tmp);
            goto stuck;
        }
    } else if (unlink(cur) != 0) {
        goto stuck;
    }
    fsync_dir(state);
    seterr(res, "cannot make release %s current: cannot sync %s: %s", id,
        state, strerror(e));
    return -1;
stuck:
    seterr(res, "release %s became current but cannot be synced to disk "
        "(%s), and the previous one could not be restored", id,
        strerror(e));
    return -2;
}

/* Stale .tmp-* releases and .current-tmp-* links, left by a crash. */
static void
clean_stale(const char *state)
{
    char path[PATH_MAX], sub[PATH_MAX];
    struct dirent *de;
    DIR *d;

    if (pjoin(path, "%s/releases", state) == 0 &&
        (d = opendir(path)) != NULL) {
        while ((de = readdir(d)) != NULL)
            if (strncmp(de->d_name, ".tmp-", 5) == 0 &&
                pjoin(sub, "%s/%s", path, de->d_name) == 0)
                remove_dir(sub);
        closedir(d);
    }
    if ((d = opendir(state)) != NULL) {
        while ((de = readdir(d)) != NULL)
            if (strncmp(de->d_name, ".current-tmp-", 13) == 0)
                unlinkat(dirfd(d), de->d_name, 0);
        closedir(d);
    }
}

/*
 * Keeps the releases_kept newest releases and the current one.  A release
 * to go is renamed to .tmp-<id> (and STATE/releases synced) before its
 * files are removed: a crash meanwhile leaves debris for clean_stale(),
 * never a partial release that the history would list and a rollback pick.
 */
static void
prune(const struct cd_settings *s, const char *cur)
{
    char releases[PATH_MAX], from[PATH_MAX], to[PATH_MAX];
    struct rel *r = NULL;
    size_t n = 0, i, keep;
    int moved = 0;

    keep = s->releases_kept > 0 ? (size_t)s->releases_kept : 1;
    clean_stale(s->state_dir);
    if (pjoin(releases, "%s/releases", s->state_dir) != 0 ||
        scan(s->state_dir, &r, &n) != 0)
        return;
    for (i = keep; i < n; i++)
        if (strcmp(r[i].id, cur) != 0 &&
            pjoin(from, "%s/%s", releases, r[i].id) == 0 &&
            pjoin(to, "%s/.tmp-%s", releases, r[i].id) == 0 &&
            rename(from, to) == 0)
            moved = 1;
    free(r);
    FAULT_STEP("after_prune_rename");
    /* not synced: keep the files until the next prune */
    if (moved && fsync_dir(releases) == 0)
        clean_stale(s->state_dir);
    FAULT_STEP("after_prune");
}

/* ---- reload ---- */

/* A pid file's content: digits and an optional newline, 1..INT_MAX. */
static int
parse_pid(const char *buf, size_t len, pid_t *pid)
{
    long long v = 0;
    size_t i;

    if (len > 0 && buf[len - 1] == '\n')
        len--;
    if (len > 0 && buf[len - 1] == '\r')
        len--;
    if (len == 0 || len > 10)
        return -1;
    for (i = 0; i < len; i++) {
        if (buf[i] < '0' || buf[i] > '9')
            return -1;
        v = v * 10 + (buf[i] - '0');
    }
    if (v < 1 || v > INT_MAX)
        return -1;
    *pid = (pid_t)v;
    return 0;
}

/* 1 when /proc says pid is nginx or /proc can't tell; 0 when it isn't. */
static int
is_nginx(pid_t pid, char *comm, size_t len)
{
    char path[64], *buf;
    size_t n = 0;

    snprintf(comm, len, "?");
    snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
    if ((buf = read_small(path, 64, &n)) == NULL)
        return 1;       /* no /proc: kill() says whether it exists */
    snprintf(comm, len, "%s", buf);
    sanitize(comm);
    free(buf);
    return strncmp(comm, "nginx", 5) == 0;
}

#define MAX_CHILDREN    256

/*
 * The children of pid, from /proc/PID/task/PID/children (nginx's master is
 * single-threaded).  Returns their number, or -1 when /proc can't tell.
 */
static int
children(pid_t pid, pid_t *out, int max)
{
    char path[64], *buf, *p, *end;
    size_t len = 0;
    long v;
    int n = 0;

    snprintf(path, sizeof(path), "/proc/%d/task/%d/children", (int)pid,
        (int)pid);
    if ((buf = read_small(path, 8192, &len)) == NULL)
        return -1;
    for (p = buf; n < max && *p != '\0'; p = end) {
        errno = 0;
        v = strtol(p, &end, 10);
        if (end == p)
            break;
        if (errno == 0 && v > 0 && v <= INT_MAX)
            out[n++] = (pid_t)v;
    }
    free(buf);
    return n;
}

/* 1 when pid no longer runs (gone, or a zombie not yet reaped). */
static int
gone(pid_t pid)
{
    char path[64], *buf, *p;
    size_t len = 0;
    int z;

    if (kill(pid, 0) != 0 && errno == ESRCH)
        return 1;
    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    if ((buf = read_small(path, 4096, &len)) == NULL)
        return 0;
    /* "pid (comm) S ...": the state follows the last ')' */
    p = strrchr(buf, ')');
    z = p != NULL && (p[1] == ' ') && (p[2] == 'Z' || p[2] == 'X');
    free(buf);
    return z;
}

/* 1 when one of now[] is not among before[]. */
static int
new_child(const pid_t *before, int nb, const pid_t *now, int nn)
{
    int i, j;

    for (i = 0; i < nn; i++) {
        for (j = 0; j < nb && before[j] != now[i]; j++)
            ;
        if (j == nb)
            return 1;
    }
    return 0;
}

/*
 * SIGHUP to nginx, then waits until its master has started new workers:
 * by then it has read the new certificate and key (it loads them before
 * forking), so the caller may let the next install swap "current".  A
 * master that keeps its old workers refused the new files.
 */
static void
signal_nginx(const struct cd_settings *s, pid_t pid,
    struct cd_install_result *res)
{
    pid_t before[MAX_CHILDREN], now[MAX_CHILDREN];
    struct timespec t0, t1, nap = { 0, 20 * 1000 * 1000 };
    int nb, nn;
    double waited;

    nb = children(pid, before, MAX_CHILDREN);
    if (kill(pid, SIGHUP) != 0) {
        snprintf(res->reload_detail, sizeof(res->reload_detail),
            errno == ESRCH ? "nginx (pid %d from %s) is not running" :
            "cannot signal nginx (pid %d from %s): %s", (int)pid,
            s->nginx_pid_file, strerror(errno));
        return;
    }
    if (nb < 0) {
        res->reloaded = 1;
        snprintf(res->reload_detail, sizeof(res->reload_detail),
            "sent SIGHUP to nginx (pid %d); /proc cannot show whether it "
            "reloaded", (int)pid);
        return;
    }
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (;;) {
        nanosleep(&nap, NULL);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        waited = (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
        if (gone(pid)) {
            snprintf(res->reload_detail, sizeof(res->reload_detail),
                "nginx (pid %d) exited after SIGHUP", (int)pid);
            return;
        }
        nn = children(pid, now, MAX_CHILDREN);
        if (nn > 0 && new_child(before, nb, now, nn)) {
            res->reloaded = 1;
            snprintf(res->reload_detail, sizeof(res->reload_detail),
                "sent SIGHUP to nginx (pid %d); it reloaded in %.0f ms",
                (int)pid, waited * 1e3);
            return;
        }
        if (waited >= s->reload_timeout)
            break;
    }
    snprintf(res->reload_detail, sizeof(res->reload_detail),
        "sent SIGHUP to nginx (pid %d), but it started no new workers "
        "within %d s: it refused the new files or is still busy (see its "
        "error log)", (int)pid, s->reload_timeout);
}

/* Called with the install lock held, so no swap happens while nginx reads. */
static void
reload(const struct cd_settings *s, const char *dir,
    struct cd_install_result *res)
{
    char what[96], out[128], comm[32], *buf;
    size_t len = 0;
    pid_t pid;

    res->reloaded = 0;
    if (s->reload_command != NULL) {
        res->reloaded = run_cmd(s->reload_command, dir, what, sizeof(what),
            out, sizeof(out)) == 0;
        snprintf(res->reload_detail, sizeof(res->reload_detail),
            "the reload command %s%s%s", what, out[0] ? ": " : "", out);
        return;
    }
    if (s->nginx_pid_file == NULL) {
        snprintf(res->reload_detail, sizeof(res->reload_detail),
            "neither a reload command nor an nginx pid file is configured");
        return;
    }
    if ((buf = read_small(s->nginx_pid_file, PIDFILE_MAX, &len)) == NULL) {
        if (errno == ENOENT)
            snprintf(res->reload_detail, sizeof(res->reload_detail),
                "no nginx pid file at %s", s->nginx_pid_file);
        else
            snprintf(res->reload_detail, sizeof(res->reload_detail),
                "cannot read the nginx pid file %s: %s", s->nginx_pid_file,
                errno == EFBIG ? "it is not a process id" : strerror(errno));
        return;
    }
    if (parse_pid(buf, len, &pid) != 0) {
        free(buf);
        snprintf(res->reload_detail, sizeof(res->reload_detail),
            "the nginx pid file %s does not hold a process id",
            s->nginx_pid_file);
        return;
    }
    free(buf);
    if (!is_nginx(pid, comm, sizeof(comm))) {
        snprintf(res->reload_detail, sizeof(res->reload_detail),
            "process %d from %s is %s, not nginx; not signalled", (int)pid,
            s->nginx_pid_file, comm);
        return;
    }
    signal_nginx(s, pid, res);
}

/* ---- installing ---- */

static int
install(const struct cd_settings *s, const struct cd_install_files *f,
    int only_if_missing, struct cd_install_result *res)
{
    char id[ID_LEN + 1], tmpdir[PATH_MAX], reldir[PATH_MAX];
    char releases[PATH_MAX];
    time_t now = time(NULL);
    struct stat st;
    int lock, rc = -1, made = 0, renamed = 0, i, sw;
    long long seq;

    if (f == NULL || f->key == NULL || f->leaf == NULL) {
        seterr(res, "nothing to install");
        return -1;
    }
    if ((lock = take_lock(s, res)) < 0)
        return -1;
    FAULT_STEP("after_lock");
    if (only_if_missing && current_ok(s->state_dir)) {
        if (current_id(s->state_dir, id) == 0)
            snprintf(res->release, sizeof(res->release), "%s", id);
        snprintf(res->reload_detail, sizeof(res->reload_detail),
            "a certificate is already installed");
        drop_lock(lock);
        return 0;
    }
    if (pjoin(releases, "%s/releases", s->state_dir) != 0) {
        seterr(res, "cannot create a release: %s", strerror(errno));
        goto out;
    }
    seq = next_seq(s->state_dir);
    for (i = 0; i < TRIES; i++) {
        if (make_id(id, now) != 0) {
            seterr(res, "cannot create a release: no random numbers");
            goto out;
        }
        if (pjoin(tmpdir, "%s/.tmp-%s", releases, id) != 0 ||
            pjoin(reldir, "%s/%s", releases, id) != 0) {
            seterr(res, "cannot create a release: %s", strerror(errno));
            goto out;
        }
        if (lstat(reldir, &st) == 0)
            continue;
        if (mkdir(tmpdir, 0700) == 0)
            break;
        if (errno != EEXIST) {
            seterr(res, "cannot create a release in %s: %s", releases,
                strerror(errno));
            goto out;
        }
    }
    if (i == TRIES) {
        seterr(res, "cannot create a release in %s: no free name",
            releases);
        goto out;
    }
    made = 1;
    FAULT_STEP("after_mkdir_tmp");
    if (write_release(tmpdir, f, id, now, seq, res) != 0 ||
        check_release(s, tmpdir, res) != 0)
        goto out;
    FAULT_STEP("after_check");
    if (rename(tmpdir, reldir) != 0) {
        seterr(res, "cannot create release %s: %s", id, strerror(errno));
        goto out;
    }
    renamed = 1;
    FAULT_STEP("after_rename_release");
    if (fsync_dir(releases) != 0) {
        seterr(res, "cannot sync %s: %s", releases, strerror(errno));
        goto out;
    }
    FAULT_STEP("after_fsync_releases");
    sw = swap(s->state_dir, id, res);
    if (sw == -2) {
        made = 0;       /* "current" names it: keep it */
        snprintf(res->release, sizeof(res->release), "%s", id);
    }
    if (sw != 0)
        goto out;
    made = 0;
    snprintf(res->release, sizeof(res->release), "%s", id);
    prune(s, id);
    rc = 0;
out:
    /* named .tmp-<id> again first, like prune() does */
    if (made && renamed && rename(reldir, tmpdir) == 0)
        renamed = 0;
    if (made)
        remove_dir(renamed ? reldir : tmpdir);
    if (rc == 0) {
        FAULT_STEP("before_reload");
        reload(s, reldir, res);
        FAULT_STEP("after_reload");
    }
    drop_lock(lock);
    return rc;
}

int
cd_install_release(const struct cd_settings *s,
    const struct cd_install_files *f, struct cd_install_result *res)
{
    struct cd_install_result dummy;

    if (res == NULL)
        res = &dummy;
    memset(res, 0, sizeof(*res));
    return install(s, f, 0, res);
}

int
cd_install_rollback(const struct cd_settings *s,
    struct cd_install_result *res)
{
    struct cd_install_result dummy;
    char cur[ID_LEN + 1], dir[PATH_MAX];
    struct rel *r = NULL;
    size_t n = 0, i;
    int lock, rc = -1;

    if (res == NULL)
        res = &dummy;
    memset(res, 0, sizeof(*res));
    if ((lock = take_lock(s, res)) < 0)
        return -1;
    if (scan(s->state_dir, &r, &n) != 0) {
        seterr(res, "cannot read the releases in %s: %s", s->state_dir,
            strerror(errno));
        goto out;
    }
    if (current_id(s->state_dir, cur) != 0) {
        seterr(res, "no certificate is installed, so there is nothing to "
            "roll back");
        goto out;
    }
    for (i = 0; i < n && strcmp(r[i].id, cur) != 0; i++)
        ;
    /* a current release that vanished: the newest one left is "before" */
    i = i < n ? i + 1 : 0;
    if (i >= n) {
        seterr(res, "there is no earlier release to roll back to");
        goto out;
    }
    if (pjoin(dir, "%s/releases/%s", s->state_dir, r[i].id) != 0) {
        seterr(res, "cannot roll back: %s", strerror(errno));
        goto out;
    }
    if (check_release(s, dir, res) != 0) {
        char why[sizeof(res->err)];

        memcpy(why, res->err, sizeof(why));
        res->err[0] = '\0';
        seterr(res, "cannot roll back to release %s: %s", r[i].id, why);
        goto out;
    }
    if (swap(s->state_dir, r[i].id, res) != 0)
        goto out;
    snprintf(res->release, sizeof(res->release), "%s", r[i].id);
    prune(s, r[i].id);
    rc = 0;
out:
    free(r);
    if (rc == 0) {
        FAULT_STEP("before_reload");
        reload(s, dir, res);
        FAULT_STEP("after_reload");
    }
    drop_lock(lock);
    return rc;
}

/* 1 when host can be a SAN dNSName: printable ASCII without blanks. */
static int
host_ok(const char *host)
{
    size_t i, n = strlen(host);

    if (n == 0 || n > 253)
        return 0;
    for (i = 0; i < n; i++)
        if (host[i] <= 0x20 || host[i] >= 0x7f)
            return 0;
    return 1;
}

/* Subject CN=host (when it fits), O=certdialog; SAN DNS:host or IP:host. */
static int
self_signed_cert(EVP_PKEY *key, const char *host, X509 **certp,
    char *why, size_t wlen)
{
    static const struct {
        int nid;
        const char *value;
    } exts[] = {
        { NID_basic_constraints, "critical,CA:FALSE" },
        { NID_key_usage, "critical,digitalSignature,keyEncipherment" },
        { NID_ext_key_usage, "serverAuth" },
        { NID_subject_key_identifier, "hash" },
    };
    unsigned char serial[16], ip[16];
    GENERAL_NAMES *gens = NULL;
    GENERAL_NAME *gn = NULL;
    X509_EXTENSION *ext;
    X509_NAME *nm = NULL;
    X509V3_CTX v3;
    BIGNUM *bn = NULL;
    X509 *x = NULL;
    size_t i, hl = strlen(host);
    int rc = -1, iplen = 0;

    *certp = NULL;
    if (inet_pton(AF_INET, host, ip) == 1)
        iplen = 4;
    else if (inet_pton(AF_INET6, host, ip) == 1)
        iplen = 16;
    if (RAND_bytes(serial, sizeof(serial)) != 1)
        goto ossl;
    serial[0] = (serial[0] & 0x7f) | 0x40;      /* positive, 16 bytes */
    if ((x = X509_new()) == NULL || (nm = X509_NAME_new()) == NULL ||
        X509_set_version(x, X509_VERSION_3) != 1 ||
        (bn = BN_bin2bn(serial, sizeof(serial), NULL)) == NULL ||
        BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) == NULL)
        goto ossl;
    /* ub-common-name is 64: a longer name lives in the SAN only */
    if (hl <= 64 && X509_NAME_add_entry_by_NID(nm, NID_commonName,
        MBSTRING_ASC, (const unsigned char *)host, (int)hl, -1, 0) != 1)
        goto ossl;
    if (X509_NAME_add_entry_by_NID(nm, NID_organizationName, MBSTRING_ASC,
        (const unsigned char *)"certdialog", -1, -1, 0) != 1 ||
        X509_set_subject_name(x, nm) != 1 ||
        X509_set_issuer_name(x, nm) != 1 ||
        X509_gmtime_adj(X509_getm_notBefore(x), -3600) == NULL ||
        X509_time_adj_ex(X509_getm_notAfter(x), 365, 0, NULL) == NULL ||
        X509_set_pubkey(x, key) != 1)
        goto ossl;
    if ((gens = GENERAL_NAMES_new()) == NULL ||
        (gn = GENERAL_NAME_new()) == NULL)
        goto ossl;
    if (iplen > 0) {
        ASN1_OCTET_STRING *o = ASN1_OCTET_STRING_new();

        if (o == NULL || ASN1_OCTET_STRING_set(o, ip, iplen) != 1) {
            ASN1_OCTET_STRING_free(o);
            goto ossl;
        }
        GENERAL_NAME_set0_value(gn, GEN_IPADD, o);
    } else {
        ASN1_IA5STRING *d = ASN1_IA5STRING_new();

        if (d == NULL || ASN1_STRING_set(d, host, (int)hl) != 1) {
            ASN1_IA5STRING_free(d);
            goto ossl;
        }
        GENERAL_NAME_set0_value(gn, GEN_DNS, d);
    }
    if (sk_GENERAL_NAME_push(gens, gn) <= 0)
        goto ossl;
    gn = NULL;
    if (X509_add1_ext_i2d(x, NID_subject_alt_name, gens, 0,
        X509V3_ADD_DEFAULT) != 1)
        goto ossl;
    X509V3_set_ctx(&v3, x, x, NULL, NULL, 0);
    for (i = 0; i < sizeof(exts) / sizeof(exts[0]); i++) {
        ext = X509V3_EXT_nconf_nid(NULL, &v3, exts[i].nid, exts[i].value);
        if (ext == NULL || X509_add_ext(x, ext, -1) != 1) {
            X509_EXTENSION_free(ext);
            goto ossl;
        }
        X509_EXTENSION_free(ext);
    }
    if (X509_sign(x, key, EVP_sha256()) <= 0)
        goto ossl;
    *certp = x;
    x = NULL;
    rc = 0;
    goto out;
ossl:
    ossl_reason(why, wlen);
out:
    GENERAL_NAME_free(gn);
    GENERAL_NAMES_free(gens);
    X509_NAME_free(nm);
    BN_free(bn);
    X509_free(x);
    return rc;
}

static int
self_signed(const struct cd_settings *s, int only_if_missing,
    struct cd_install_result *res)
{
    struct cd_install_files f;
    EVP_PKEY *key = NULL;
    X509 *cert = NULL;
    char why[128];
    int rc = -1;

    if (s == NULL || s->hostname == NULL || s->hostname[0] == '\0') {
        seterr(res, "no host name is configured for the self-signed "
            "certificate");
        return -1;
    }
    if (!host_ok(s->hostname)) {
        seterr(res, "the host name is not a valid DNS name or IP address, "
            "so no self-signed certificate can be made for it");
        return -1;
    }
    if ((key = EVP_RSA_gen(2048)) == NULL) {
        ossl_reason(why, sizeof(why));
        seterr(res, "cannot generate an RSA key: %s", why);
        goto out;
    }
    if (self_signed_cert(key, s->hostname, &cert, why, sizeof(why)) != 0) {
        seterr(res, "cannot make a self-signed certificate for %s: %s",
            s->hostname, why);
        goto out;
    }
    memset(&f, 0, sizeof(f));
    f.name = "self-signed";
    f.mode = "self-signed";
    f.validation = "none";
    f.use_crl = 0;
    f.key = key;
    f.leaf = cert;
    rc = install(s, &f, only_if_missing, res);
out:
    EVP_PKEY_free(key);
    X509_free(cert);
    return rc;
}

int
cd_install_self_signed(const struct cd_settings *s,
    struct cd_install_result *res)
{
    struct cd_install_result dummy;

    if (res == NULL)
        res = &dummy;
    memset(res, 0, sizeof(*res));
    return self_signed(s, 0, res);
}

int
cd_install_ensure(const struct cd_settings *s, struct cd_install_result *res)
{
    struct cd_install_result dummy;
    char id[ID_LEN + 1];

    if (res == NULL)
        res = &dummy;
    memset(res, 0, sizeof(*res));
    if (s == NULL || s->state_dir == NULL) {
        seterr(res, "no state directory is configured");
        return -1;
    }
    if (current_ok(s->state_dir)) {
        if (current_id(s->state_dir, id) == 0)
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
    struct cd_install_result dummy;
    char id[ID_LEN + 1], dir[PATH_MAX];
    int lock;

    if (res == NULL)
        res = &dummy;
    memset(res, 0, sizeof(*res));
    if ((lock = take_lock(s, res)) < 0)
        return -1;
    if (current_id(s->state_dir, id) != 0 ||
        pjoin(dir, "%s/releases/%s", s->state_dir, id) != 0) {
        seterr(res, "no certificate is installed");
        drop_lock(lock);
        return -1;
    }
    snprintf(res->release, sizeof(res->release), "%s", id);
    reload(s, dir, res);
    drop_lock(lock);
    return 0;
}

int
cd_install_list(const struct cd_settings *s, struct cd_release *out,
    size_t max, size_t *n)
{
    struct rel *r = NULL;
    size_t k = 0, i;

    *n = 0;
    if (s == NULL || s->state_dir == NULL ||
        scan(s->state_dir, &r, &k) != 0)
        return -1;
    for (i = 0; i < k && i < max; i++)
        out[i] = r[i].info;
    *n = i;
    free(r);
    return 0;
}

char *
cd_install_current_cert(const struct cd_settings *s, size_t *lenp)
{
    char path[PATH_MAX];
    size_t len = 0;
    char *buf;

    if (lenp != NULL)
        *lenp = 0;
    if (s == NULL || s->state_dir == NULL ||
        pjoin(path, "%s/current/cert.pem", s->state_dir) != 0 ||
        (buf = read_small(path, CERT_MAX, &len)) == NULL)
        return NULL;
    if (lenp != NULL)
        *lenp = len;
    return buf;
}
