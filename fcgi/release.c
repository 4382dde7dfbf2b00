/*
 * release.c - the release store: the releases under STATE/, the link that
 * makes one current, and the lock that serialises the processes changing
 * them: install.h's entry points but the self-signed ones (selfsigned.c),
 * and release.h.  Nothing else writes lock, current or releases/; the
 * other stores under STATE/ have their own names and locks (auth/ of
 * auth.c, pending/ of pending.c, expiry.json of certdialog-expiry).
 *
 * STATE/
 *   lock                   flock(LOCK_EX) of every install, rollback and
 *                          reload at start
 *   current -> releases/<id>
 *   releases/<id>/         cert.pem chain.pem fullchain.pem privkey.pem
 *                          meta.json
 *   releases/.tmp-<id>/    a release being written or removed
 *   .current-tmp-<rnd>     the next "current", before its rename(2)
 *
 * What is true of STATE/ at every instant, whenever the process dies
 * (tests/lib/check_state.sh checks it after each kill of
 * tests/integration/test_crash.sh):
 *
 *  1. Once a release is installed, "current" is a symbolic link to
 *     releases/<id>, and that release is whole: its five files written in
 *     full, privkey.pem 0600 and its key the certificate's (checked the
 *     way nginx loads it), fullchain.pem starting with cert.pem, meta.json
 *     naming <id>.
 *  2. A releases/<id> is only ever whole: it is written and checked as
 *     .tmp-<id>, each file and the directory fsync'ed, and only then
 *     renamed to <id>; to go, it is renamed back to .tmp-<id> before its
 *     files are removed.  So history and rollback never see half a
 *     release.
 *  3. releases/.tmp-* and .current-tmp-* are never current: they are a
 *     crash's debris, which the next install removes.
 *  4. "current" changes only by rename(2) of a new symbolic link over it,
 *     then STATE/ is fsync'ed: a reader following it sees the whole old
 *     release or the whole new one.  A failed install leaves it as it was,
 *     except when the sync fails and the old link cannot be put back: the
 *     new release, whole, stays current and the error says so.
 *  5. The lock is held through write, check, swap, prune and reload: one
 *     install never interleaves with another, and nginx reads the files
 *     while no other install can swap "current".
 *  6. The current release is never pruned; releases_kept newest stay.
 *  7. Ids are sortable (UTC time, then a random suffix) and never reused;
 *     the order of installs is meta.json's "seq" (the clock may step back).
 *
 * docs/DESIGN.md ("Installing") walks through an install step by step.
 * The crash tests kill the installer at each CD_FAULT_STEP() below; keep
 * their names in step with tests/integration/test_crash.sh.
 */
#include "config.h"

#include "release.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "cv_util.h"
#include "fault.h"
#include "files.h"
#include "meta.h"
#include "proc.h"
#include "reload.h"
#include "served.h"

#define ID_LEN          CD_RELEASE_ID_LEN
#define CERT_MAX        (1u << 20)      /* current/cert.pem */
#define TRIES           8               /* random names tried, then no */

/* One release found under STATE/releases. */
struct rel {
    char id[ID_LEN + 1];
    long long seq;              /* install order; 0: no meta.json */
    struct cd_release info;
};

/* ---- names ---- */

static void __attribute__((format(printf, 2, 3)))
seterr(struct cd_install_result *res, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    /* the first reason counts: later clean-up failures don't hide it */
    if (res->err[0] == '\0')
        vsnprintf(res->err, sizeof(res->err), fmt, ap);
    va_end(ap);
}

/* res emptied, or scratch when the caller wants no result. */
static struct cd_install_result *
fresh(struct cd_install_result *res, struct cd_install_result *scratch)
{
    if (res == NULL)
        res = scratch;
    memset(res, 0, sizeof(*res));
    return res;
}

int
cd_release_id_ok(const char *s)
{
    static const char pat[] = "ddddddddTddddddZ-hhhhhhhh";
    size_t i;

    if (s == NULL || strlen(s) != ID_LEN)
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

/* The UTC time of now, then 8 random hex digits (meta.c reads the time). */
static int
make_id(char *id, time_t now)
{
    struct tm tm;
    char rnd[9];

    if (gmtime_r(&now, &tm) == NULL || cd_rand_hex(rnd, 4) != 0)
        return -1;
    if (strftime(id, ID_LEN + 1, "%Y%m%dT%H%M%SZ-", &tm) != ID_LEN - 8)
        return -1;
    memcpy(id + ID_LEN - 8, rnd, 9);
    return 0;
}

/* ---- files ---- */

/* dir/name, new (O_EXCL), written fully, fsync'ed and closed. */
static int
write_file(const char *dir, const char *name, const void *buf, size_t len,
    mode_t mode, struct cd_install_result *res)
{
    if (cd_file_create(dir, name, buf, len, mode) == 0)
        return 0;
    seterr(res, "cannot write %s: %s", name, strerror(errno));
    return -1;
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
        cv_ossl_detail(why, sizeof(why));
        seterr(res, "cannot encode the certificates: %s", why);
        goto out;
    }
    if ((meta = cd_meta_encode(f, id, now, seq)) == NULL) {
        seterr(res, "cannot encode meta.json: out of memory");
        goto out;
    }
    n = BIO_get_mem_data(cert, &p);
    if (write_file(dir, "cert.pem", p, (size_t)n, 0644, res) != 0)
        goto out;
    CD_FAULT_STEP("after_write_cert");
    n = BIO_get_mem_data(chain, &p);
    if (write_file(dir, "chain.pem", p, (size_t)n, 0644, res) != 0)
        goto out;
    CD_FAULT_STEP("after_write_chain");
    n = BIO_get_mem_data(full, &p);
    if (write_file(dir, "fullchain.pem", p, (size_t)n, 0644, res) != 0)
        goto out;
    CD_FAULT_STEP("after_write_fullchain");
    /* PKCS#8, unencrypted: nginx reads it without a passphrase */
    if (PEM_write_bio_PKCS8PrivateKey(key, f->key, NULL, NULL, 0, NULL,
        NULL) != 1) {
        cv_ossl_detail(why, sizeof(why));
        seterr(res, "cannot encode the private key: %s", why);
        goto out;
    }
    n = BIO_get_mem_data(key, &p);
    rc = write_file(dir, "privkey.pem", p, (size_t)n, 0600, res);
    OPENSSL_cleanse(p, (size_t)n);
    if (rc != 0)
        goto out;
    CD_FAULT_STEP("after_write_key");
    rc = -1;
    if (write_file(dir, "meta.json", meta, strlen(meta), 0644, res) != 0)
        goto out;
    CD_FAULT_STEP("after_write_meta");
    if (cd_fsync_dir(dir) != 0) {
        seterr(res, "cannot sync the release directory: %s",
            strerror(errno));
        goto out;
    }
    CD_FAULT_STEP("after_fsync_release");
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

    if (cd_path(path, "%s/current", state) != 0)
        return -1;
    n = readlink(path, target, sizeof(target) - 1);
    if (n <= 0)
        return -1;
    target[n] = '\0';
    if (strncmp(target, "releases/", 9) != 0 ||
        !cd_release_id_ok(target + 9))
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

    if (cd_path(path, "%s/current/fullchain.pem", state) != 0 ||
        stat(path, &st) != 0 || !S_ISREG(st.st_mode))
        return 0;
    if (cd_path(path, "%s/current/privkey.pem", state) != 0 ||
        stat(path, &st) != 0 || !S_ISREG(st.st_mode))
        return 0;
    return 1;
}

int
cd_release_current(const char *state, char *id)
{
    id[0] = '\0';
    if (state == NULL || !current_ok(state))
        return 0;
    if (current_id(state, id) != 0)
        id[0] = '\0';
    return 1;
}

static void
read_meta(const char *state, struct rel *r)
{
    char path[PATH_MAX];

    snprintf(r->info.id, sizeof(r->info.id), "%s", r->id);
    if (cd_path(path, "%s/releases/%s/meta.json", state, r->id) == 0)
        cd_meta_read(path, r->id, &r->info, &r->seq);
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
    if (cd_path(path, "%s/releases", state) != 0)
        return -1;
    if ((d = opendir(path)) == NULL)
        return errno == ENOENT ? 0 : -1;
    while ((de = readdir(d)) != NULL) {
        if (!cd_release_id_ok(de->d_name))
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

/* ---- checking a release ---- */

/* nginx has no passphrase to give: an encrypted key must not load. */
static int
no_passphrase(char *buf, int size, int rwflag, void *u)
{
    (void)rwflag;
    (void)u;
    if (size > 0)
        buf[0] = '\0';
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
    if (cd_path(full, "%s/fullchain.pem", dir) != 0 ||
        cd_path(key, "%s/privkey.pem", dir) != 0) {
        seterr(res, "cannot check the release: %s", strerror(errno));
        goto out;
    }
    if ((ctx = SSL_CTX_new(TLS_server_method())) == NULL) {
        cv_ossl_detail(why, sizeof(why));
        seterr(res, "cannot check the release: %s", why);
        goto out;
    }
    SSL_CTX_set_default_passwd_cb(ctx, no_passphrase);
    if (SSL_CTX_use_certificate_chain_file(ctx, full) != 1) {
        cv_ossl_detail(why, sizeof(why));
        seterr(res, "the certificate chain would not load in nginx: %s",
            why);
        goto out;
    }
    if (SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1 ||
        SSL_CTX_check_private_key(ctx) != 1) {
        e = ERR_peek_error();
        cv_ossl_detail(why, sizeof(why));
        if (ERR_GET_LIB(e) == ERR_LIB_X509 &&
            ERR_GET_REASON(e) == X509_R_KEY_VALUES_MISMATCH)
            seterr(res, "the private key does not match the certificate");
        else
            seterr(res, "the private key would not load in nginx: %s", why);
        goto out;
    }
    if (s->check_command != NULL &&
        cd_proc_run(s->check_command, dir, what, sizeof(what), out,
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
    if (cd_path(path, "%s/lock", s->state_dir) != 0 ||
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
    if (cd_path(path, "%s/releases", s->state_dir) != 0 ||
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

/*
 * take_lock(), then the kept releases into *r and *n (the caller frees
 * *r).  Returns the locked fd, or -1 (res->err says why; nothing held).
 */
static int
lock_and_scan(const struct cd_settings *s, struct rel **r, size_t *n,
    struct cd_install_result *res)
{
    int lock;

    if ((lock = take_lock(s, res)) < 0)
        return -1;
    if (scan(s->state_dir, r, n) != 0) {
        seterr(res, "cannot read the releases in %s: %s", s->state_dir,
            strerror(errno));
        drop_lock(lock);
        return -1;
    }
    return lock;
}

/* A symlink to target at STATE/.current-tmp-<random>; its path in tmp. */
static int
link_tmp(const char *state, const char *target, char *tmp)
{
    char rnd[9];
    int i;

    for (i = 0; i < TRIES; i++) {
        if (cd_rand_hex(rnd, 4) != 0) {
            errno = EIO;
            return -1;
        }
        if (cd_path(tmp, "%s/.current-tmp-%s", state, rnd) != 0)
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
    if (cd_path(cur, "%s/current", state) != 0) {
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
    CD_FAULT_STEP("after_symlink_tmp");
    if (rename(tmp, cur) != 0) {
        e = errno;
        unlink(tmp);
        seterr(res, "cannot make release %s current: %s", id, strerror(e));
        return -1;
    }
    CD_FAULT_STEP("after_rename_current");
    if (cd_fsync_dir(state) == 0) {
        CD_FAULT_STEP("after_fsync_state");
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
    cd_fsync_dir(state);
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

    if (cd_path(path, "%s/releases", state) == 0 &&
        (d = opendir(path)) != NULL) {
        while ((de = readdir(d)) != NULL)
            if (strncmp(de->d_name, ".tmp-", 5) == 0 &&
                cd_path(sub, "%s/%s", path, de->d_name) == 0)
                cd_remove_dir(sub);
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
    if (cd_path(releases, "%s/releases", s->state_dir) != 0 ||
        scan(s->state_dir, &r, &n) != 0)
        return;
    for (i = keep; i < n; i++)
        if (strcmp(r[i].id, cur) != 0 &&
            cd_path(from, "%s/%s", releases, r[i].id) == 0 &&
            cd_path(to, "%s/.tmp-%s", releases, r[i].id) == 0 &&
            rename(from, to) == 0)
            moved = 1;
    free(r);
    CD_FAULT_STEP("after_prune_rename");
    /* not synced: keep the files until the next prune */
    if (moved && cd_fsync_dir(releases) == 0)
        clean_stale(s->state_dir);
    CD_FAULT_STEP("after_prune");
}

/* ---- the sequences, under the lock ---- */

/*
 * The release just made current was not served (the reload failed, or a
 * handshake saw another certificate or none): prev, the release current
 * before it, is made current again and reloaded, so that what "current"
 * names is what nginx serves and the admin is not locked out.  Returns
 * -1: the install did not happen.  prev is not "".
 */
static int
undo(const struct cd_settings *s, const char *prev,
    struct cd_install_result *res)
{
    struct cd_install_result again;
    char dir[PATH_MAX], why[300];

    snprintf(why, sizeof(why), "%s", !res->reloaded ? res->reload_detail :
        res->served_detail);
    if (cd_path(dir, "%s/releases/%s", s->state_dir, prev) != 0 ||
        swap(s->state_dir, prev, res) != 0) {
        seterr(res, "the web server does not serve the new certificate "
            "(%s), and going back to release %s failed", why, prev);
        return -1;
    }
    memset(&again, 0, sizeof(again));
    cd_reload_run(s, dir, &again);
    res->rolled_back = 1;
    snprintf(res->release, sizeof(res->release), "%s", prev);
    seterr(res, "the web server does not serve the new certificate (%s): "
        "release %s is active again (%s)", why, prev,
        again.reloaded ? "reloaded" : again.reload_detail);
    return -1;
}

/* A new release that was never served: named .tmp-<id>, then removed. */
static void
discard(const char *dir)
{
    char tmp[PATH_MAX];
    const char *slash = strrchr(dir, '/');

    if (slash == NULL || cd_path(tmp, "%.*s/.tmp-%s", (int)(slash - dir), dir,
        slash + 1) != 0 || rename(dir, tmp) != 0)
        return;
    cd_remove_dir(tmp);
}

/*
 * The release made current is served: the activation log says so.  A log
 * that cannot be written (a full disk) does not undo a served release:
 * the history then lacks this span, and a rollback falls back to the
 * order of installs.
 */
static void
log_activation(const char *state, const char *id, const char *how)
{
    char err[200];

    (void)cd_meta_log_append(state, id, how, time(NULL), err, sizeof(err));
}

/*
 * Reloads on the release made current (dir, NULL: none), checks that it
 * is what the web server serves, and goes back to prev (the release
 * current before; "" for none) when it is not: a new release (how is
 * "install") is then discarded; when it is, the activation log records
 * how it became current.  Old releases are pruned only once the new one is
 * served, so prev is still there to go back to.  Then unlocks.
 */
static int
finish(const struct cd_settings *s, int lock, const char *dir,
    const char *prev, const char *how, int rc,
    struct cd_install_result *res)
{
    if (dir != NULL) {
        CD_FAULT_STEP("before_reload");
        cd_reload_run(s, dir, res);
        CD_FAULT_STEP("after_reload");
        if (res->reloaded)
            res->served = cd_served_is(s, dir, res->served_detail,
                sizeof(res->served_detail));
        /* with nothing before it (the first start, before nginx runs),
         * the release stands: there is nothing else to serve */
        if (rc == 0 && (!res->reloaded || !res->served) &&
            prev[0] != '\0') {
            rc = undo(s, prev, res);
            if (strcmp(how, "install") == 0)
                discard(dir);
        }
        if (rc == 0) {
            log_activation(s->state_dir, res->release, how);
            prune(s, res->release);
        }
    }
    drop_lock(lock);
    return rc;
}

int
cd_release_install(const struct cd_settings *s,
    const struct cd_install_files *f, int only_if_missing,
    struct cd_install_result *res)
{
    char id[ID_LEN + 1], tmpdir[PATH_MAX], reldir[PATH_MAX];
    char releases[PATH_MAX], prev[ID_LEN + 1];
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
    if (current_id(s->state_dir, prev) != 0)
        prev[0] = '\0';
    CD_FAULT_STEP("after_lock");
    if (only_if_missing && cd_release_current(s->state_dir, id)) {
        snprintf(res->release, sizeof(res->release), "%s", id);
        snprintf(res->reload_detail, sizeof(res->reload_detail),
            "a certificate is already installed");
        drop_lock(lock);
        return 0;
    }
    if (cd_path(releases, "%s/releases", s->state_dir) != 0) {
        seterr(res, "cannot create a release: %s", strerror(errno));
        goto out;
    }
    seq = next_seq(s->state_dir);
    for (i = 0; i < TRIES; i++) {
        if (make_id(id, now) != 0) {
            seterr(res, "cannot create a release: no random numbers");
            goto out;
        }
        if (cd_path(tmpdir, "%s/.tmp-%s", releases, id) != 0 ||
            cd_path(reldir, "%s/%s", releases, id) != 0) {
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
    CD_FAULT_STEP("after_mkdir_tmp");
    if (write_release(tmpdir, f, id, now, seq, res) != 0 ||
        check_release(s, tmpdir, res) != 0)
        goto out;
    CD_FAULT_STEP("after_check");
    if (rename(tmpdir, reldir) != 0) {
        seterr(res, "cannot create release %s: %s", id, strerror(errno));
        goto out;
    }
    renamed = 1;
    CD_FAULT_STEP("after_rename_release");
    if (cd_fsync_dir(releases) != 0) {
        seterr(res, "cannot sync %s: %s", releases, strerror(errno));
        goto out;
    }
    CD_FAULT_STEP("after_fsync_releases");
    sw = swap(s->state_dir, id, res);
    if (sw == -2) {
        made = 0;       /* "current" names it: keep it */
        snprintf(res->release, sizeof(res->release), "%s", id);
    }
    if (sw != 0)
        goto out;
    made = 0;
    snprintf(res->release, sizeof(res->release), "%s", id);
    rc = 0;
out:
    /* named .tmp-<id> again first, like prune() does */
    if (made && renamed && rename(reldir, tmpdir) == 0)
        renamed = 0;
    if (made)
        cd_remove_dir(renamed ? reldir : tmpdir);
    return finish(s, lock, rc == 0 ? reldir : NULL, prev, "install", rc,
        res);
}

int
cd_install_release(const struct cd_settings *s,
    const struct cd_install_files *f, struct cd_install_result *res)
{
    struct cd_install_result scratch;

    return cd_release_install(s, f, 0, fresh(res, &scratch));
}

/* The index of id in r, or -1. */
static int
rel_index(const struct rel *r, size_t n, const char *id)
{
    size_t i;

    for (i = 0; i < n; i++)
        if (strcmp(r[i].id, id) == 0)
            return (int)i;
    return -1;
}

/*
 * The release a rollback goes to.  A rollback undoes the last change, like
 * a browser's Back: replaying the activation log, an install or an
 * activation pushes its release, a rollback pops back to the one it went
 * to; the answer is the kept release under the current one.  So after A,
 * B, back to A, then C, it is A (active before C), not B (installed
 * before C); and from A again, nothing.  A release the log never saw (no
 * log yet) falls back to the order of installs.  Its index in r (newest
 * first), or -1.
 */
static int
previous_of(const char *state, const struct rel *r, size_t n, const char *cur)
{
    struct cd_activation a[CD_META_LOG_MAX];
    const char *stack[CD_META_LOG_MAX];
    size_t k, j, top = 0;
    int i;

    k = cd_meta_log_read(state, a, CD_META_LOG_MAX);
    for (j = 0; j < k; j++) {
        if (strcmp(a[j].how, "rollback") != 0) {
            stack[top++] = a[j].id;
            continue;
        }
        if (top > 0)
            top--;                      /* the one rolled back from */
        while (top > 0 && strcmp(stack[top - 1], a[j].id) != 0)
            top--;                      /* pruned ones it went past */
        if (top == 0)
            stack[top++] = a[j].id;
    }
    /* the log may lack the current one (a crash before its entry) */
    if (top > 0 && strcmp(stack[top - 1], cur) == 0)
        top--;
    while (top > 0) {
        top--;
        if (strcmp(stack[top], cur) != 0 &&
            (i = rel_index(r, n, stack[top])) >= 0)
            return i;
    }
    /* the one installed before cur, when the log never saw it */
    if ((i = rel_index(r, n, cur)) < 0)
        i = -1;         /* a current release that vanished: the newest */
    if ((size_t)(i + 1) >= n)
        return -1;
    for (j = 0; j < k; j++)
        if (strcmp(a[j].id, r[i + 1].id) == 0)
            return -1;
    return i + 1;
}

/*
 * Makes the kept release id current, the lock held: checked the way nginx
 * loads it, swapped, reloaded and verified by finish(), which goes back to
 * cur when it is not served.  how: "rollback" or "activate".
 */
static int
make_current(const struct cd_settings *s, int lock, const char *id,
    const char *cur, const char *how, struct cd_install_result *res)
{
    char dir[PATH_MAX], why[sizeof(res->err)];
    const char *verb = strcmp(how, "rollback") == 0 ? "roll back to" :
        "activate";
    int rc = -1;

    if (cd_path(dir, "%s/releases/%s", s->state_dir, id) != 0) {
        seterr(res, "cannot %s release %s: %s", verb, id, strerror(errno));
        goto out;
    }
    if (check_release(s, dir, res) != 0) {
        memcpy(why, res->err, sizeof(why));
        res->err[0] = '\0';
        seterr(res, "cannot %s release %s: %s", verb, id, why);
        goto out;
    }
    if (swap(s->state_dir, id, res) != 0)
        goto out;
    snprintf(res->release, sizeof(res->release), "%s", id);
    rc = 0;
out:
    return finish(s, lock, rc == 0 ? dir : NULL, cur, how, rc, res);
}

int
cd_install_rollback(const struct cd_settings *s,
    struct cd_install_result *res)
{
    struct cd_install_result scratch;
    char cur[ID_LEN + 1] = "", id[ID_LEN + 1];
    struct rel *r = NULL;
    size_t n = 0;
    int lock, i;

    res = fresh(res, &scratch);
    if ((lock = lock_and_scan(s, &r, &n, res)) < 0)
        return -1;
    if (current_id(s->state_dir, cur) != 0) {
        seterr(res, "no certificate is installed, so there is nothing to "
            "roll back");
        free(r);
        drop_lock(lock);
        return -2;
    }
    if ((i = previous_of(s->state_dir, r, n, cur)) < 0) {
        seterr(res, "there is no earlier release to roll back to");
        free(r);
        drop_lock(lock);
        return -2;
    }
    memcpy(id, r[i].id, sizeof(id));
    free(r);
    return make_current(s, lock, id, cur, "rollback", res);
}

int
cd_install_activate(const struct cd_settings *s, const char *id,
    struct cd_install_result *res)
{
    struct cd_install_result scratch;
    char cur[ID_LEN + 1] = "";
    struct rel *r = NULL;
    size_t n = 0, i;
    int lock;

    res = fresh(res, &scratch);
    if (!cd_release_id_ok(id)) {
        seterr(res, "no kept release has this id");
        return -3;
    }
    if ((lock = lock_and_scan(s, &r, &n, res)) < 0)
        return -1;
    for (i = 0; i < n && strcmp(r[i].id, id) != 0; i++)
        ;
    free(r);
    if (i == n) {
        seterr(res, "no kept release has the id %s (it may have been "
            "pruned)", id);
        drop_lock(lock);
        return -3;
    }
    if (current_id(s->state_dir, cur) != 0)
        cur[0] = '\0';         /* nothing to go back to if not served */
    if (strcmp(cur, id) == 0) {
        seterr(res, "release %s is active already", id);
        drop_lock(lock);
        return -2;
    }
    return make_current(s, lock, id, cur, "activate", res);
}

int
cd_install_reload(const struct cd_settings *s, struct cd_install_result *res)
{
    struct cd_install_result scratch;
    char id[ID_LEN + 1], dir[PATH_MAX];
    int lock;

    res = fresh(res, &scratch);
    if ((lock = take_lock(s, res)) < 0)
        return -1;
    if (current_id(s->state_dir, id) != 0 ||
        cd_path(dir, "%s/releases/%s", s->state_dir, id) != 0) {
        seterr(res, "no certificate is installed");
        drop_lock(lock);
        return -1;
    }
    snprintf(res->release, sizeof(res->release), "%s", id);
    cd_reload_run(s, dir, res);
    if (res->reloaded)
        res->served = cd_served_is(s, dir, res->served_detail,
            sizeof(res->served_detail));
    drop_lock(lock);
    return 0;
}

/* ---- reading ---- */

/*
 * Each listed release's spans as current (the CD_MAX_PERIODS newest) from
 * the activation log, and which one a rollback goes to.
 */
static void
spans(const char *state, const struct rel *r, size_t k,
    struct cd_release *out, size_t n)
{
    struct cd_activation a[CD_META_LOG_MAX];
    size_t na, i, j;
    const char *cur = NULL;
    int p;

    na = cd_meta_log_read(state, a, CD_META_LOG_MAX);
    for (i = 0; i < n; i++) {
        struct cd_release *o = &out[i];

        if (o->current)
            cur = o->id;
        o->n_active = 0;
        for (j = 0; j < na; j++) {
            if (strcmp(a[j].id, o->id) != 0)
                continue;
            if (o->n_active == CD_MAX_PERIODS) {
                memmove(o->active, o->active + 1,
                    (CD_MAX_PERIODS - 1) * sizeof(o->active[0]));
                o->n_active--;
            }
            o->active[o->n_active].from = a[j].from;
            /* an open span of a release no longer current: unknown end */
            o->active[o->n_active].to = a[j].to;
            o->n_active++;
        }
    }
    if (cur != NULL && (p = previous_of(state, r, k, cur)) >= 0)
        for (i = 0; i < n; i++)
            out[i].previous = strcmp(out[i].id, r[p].id) == 0;
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
    spans(s->state_dir, r, k, out, *n);
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
        cd_path(path, "%s/current/cert.pem", s->state_dir) != 0 ||
        (buf = cv_read_file(path, CERT_MAX, CV_READ_REGULAR, &len)) == NULL)
        return NULL;
    if (lenp != NULL)
        *lenp = len;
    return buf;
}
