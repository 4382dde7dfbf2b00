/*
 * auth.c - the users file STATE/auth/users ("NAME:HASH:FLAGS" a line),
 * yescrypt hashes through libxcrypt's crypt_r(), the password rules, and
 * what the auth stores share: their directory, their lock, atomic writes.
 *
 * docs/DESIGN.md "Sign-in": yescrypt is the hash of Debian 12's own
 * /etc/shadow (libxcrypt), memory-hard, and costs one hash per sign-in
 * only; every other request is checked against a session or token hash.
 */
#include "config.h"

#include <crypt.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include "auth.h"
#include "files.h"
#include "cv_util.h"

#define USERS_MAX       (1u << 20)

static time_t (*clock_fn)(void);

time_t
cd_auth_now(void)
{
    return clock_fn != NULL ? clock_fn() : time(NULL);
}

void
cd_auth_set_clock(time_t (*fn)(void))
{
    clock_fn = fn;
}

int
cd_auth_name_ok(const char *name)
{
    size_t i;
    char c;

    if (name == NULL || name[0] == '\0' || name[0] == '-' || name[0] == '.')
        return 0;
    for (i = 0; (c = name[i]) != '\0'; i++) {
        if (i >= CD_AUTH_NAME_MAX)
            return 0;
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
            (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'))
            return 0;
    }
    return 1;
}

const char *
cd_auth_password_weak(const char *user, const char *pass, const char *cur)
{
    size_t n = pass != NULL ? strlen(pass) : 0;

    if (n < CD_AUTH_PASS_MIN)
        return "the password must have at least 12 characters";
    if (n > CD_AUTH_PASS_MAX)
        return "the password must have at most 1024 bytes";
    if (user != NULL && strcmp(pass, user) == 0)
        return "the password must not be the user name";
    if (cur != NULL && strcmp(pass, cur) == 0)
        return "the new password must differ from the current one";
    return NULL;
}

/* ---- the store's directory, lock and files ---- */

/* As root (a command run by the admin), new files go to the dir's owner. */
static void
own_like(int fd, const char *dir)
{
    struct stat st;

    if (geteuid() != 0 || stat(dir, &st) != 0)
        return;
    if (fchown(fd, st.st_uid, st.st_gid) != 0)
        return;                 /* best effort: the mode still protects */
}

/* buf (a path) made a 0700 directory owned like state, or found one. */
static int
own_dir(const char *buf, const char *state, char *err, size_t errlen)
{
    struct stat st;
    int fd;

    if (mkdir(buf, 0700) == 0) {
        if ((fd = open(buf, O_RDONLY | O_DIRECTORY | O_NOFOLLOW)) >= 0) {
            own_like(fd, state);
            close(fd);
        }
    } else if (errno != EEXIST) {
        snprintf(err, errlen, "cannot create %s: %s", buf, strerror(errno));
        return -1;
    }
    if (lstat(buf, &st) != 0 || !S_ISDIR(st.st_mode)) {
        snprintf(err, errlen, "%s is not a directory", buf);
        return -1;
    }
    return 0;
}

int
cd_auth_dir(const struct cd_settings *s, const char *sub, char *buf,
    size_t len, char *err, size_t errlen)
{
    int n;

    n = snprintf(buf, len, "%s/auth", s->state_dir);
    if (n < 0 || (size_t)n >= len)
        goto toolong;
    if (own_dir(buf, s->state_dir, err, errlen) != 0)
        return -1;
    if (sub == NULL)
        return 0;
    n = snprintf(buf, len, "%s/auth/%s", s->state_dir, sub);
    if (n < 0 || (size_t)n >= len)
        goto toolong;
    return own_dir(buf, s->state_dir, err, errlen);
toolong:
    snprintf(err, errlen, "the state directory's path is too long");
    return -1;
}

int
cd_auth_lock(const struct cd_settings *s, char *err, size_t errlen)
{
    char p[4096];
    int fd;

    if (cd_auth_dir(s, NULL, p, sizeof(p), err, errlen) != 0)
        return -1;
    snprintf(p, sizeof(p), "%s/auth/lock", s->state_dir);
    if ((fd = open(p, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600)) < 0) {
        snprintf(err, errlen, "cannot open %s: %s", p, strerror(errno));
        return -1;
    }
    while (flock(fd, LOCK_EX) != 0) {
        if (errno != EINTR) {
            snprintf(err, errlen, "cannot lock %s: %s", p, strerror(errno));
            close(fd);
            return -1;
        }
    }
    return fd;
}

void
cd_auth_unlock(int fd)
{
    if (fd >= 0)
        close(fd);              /* drops the flock */
}

int
cd_auth_write(const char *path, const void *data, size_t len, char *err,
    size_t errlen)
{
    return cd_file_replace(path, data, len, 0600, err, errlen);
}

/*
 * Every request reads a session or token file: a few hundred bytes.  The
 * worker keeps the last few files open with what they hold (opening and
 * parsing were most of the check's cost): every change the service makes
 * is a rename() or an unlink(), after which the kept file has no link left
 * (fstat()) and is opened and read anew; a file changed in place (by hand)
 * shows in its size or modification time.  So what is kept is never stale.
 * O_NONBLOCK: a FIFO put there must not make a worker wait.
 */
#define KEPT            4
static struct {
    char path[512];
    int fd;
    json_t *j;                  /* what it holds, parsed */
    struct timespec mtime;      /* and when it was last written */
    off_t size;
} kept[KEPT];

static int
unchanged(size_t i, const struct stat *st)
{
    return st->st_nlink > 0 && st->st_size == kept[i].size &&
        st->st_mtim.tv_sec == kept[i].mtime.tv_sec &&
        st->st_mtim.tv_nsec == kept[i].mtime.tv_nsec;
}
static unsigned kept_next;

static void
forget(size_t i)
{
    close(kept[i].fd);
    json_decref(kept[i].j);
    kept[i].j = NULL;
    kept[i].path[0] = '\0';
}

/* Parses a store file's text: an object, or NULL. */
static json_t *
parse(const char *text, size_t len)
{
    json_t *j = json_loadb(text, len, JSON_REJECT_DUPLICATES, NULL);

    if (j != NULL && !json_is_object(j)) {
        json_decref(j);
        return NULL;
    }
    return j;
}

/* A small file read in one go (three system calls, no allocation). */
static json_t *
read_small(int fd, const char *path)
{
    char small[4096], *text;
    ssize_t n;
    size_t len;
    json_t *j;

    if ((n = pread(fd, small, sizeof(small), 0)) < 0)
        return NULL;
    if ((size_t)n < sizeof(small))
        return parse(small, (size_t)n);
    if ((text = cv_read_file(path, 1u << 20, CV_READ_REGULAR, &len)) == NULL)
        return NULL;
    j = parse(text, len);
    free(text);
    return j;
}

json_t *
cd_auth_read_json(const char *path)
{
    json_t *j;
    int fd;

    if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)) < 0)
        return NULL;
    j = read_small(fd, path);
    close(fd);
    return j;
}

json_t *
cd_auth_read_json_kept(const char *path)
{
    struct stat st;
    json_t *j;
    size_t i;
    int fd;

    for (i = 0; i < KEPT; i++) {
        if (kept[i].path[0] == '\0' || strcmp(kept[i].path, path) != 0)
            continue;
        if (fstat(kept[i].fd, &st) == 0 && unchanged(i, &st) &&
            kept[i].j != NULL)
            return json_incref(kept[i].j);
        forget(i);
    }
    if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)) < 0)
        return NULL;
    /* the times first: a change while reading shows at the next request */
    j = NULL;
    if (fstat(fd, &st) != 0 || (j = read_small(fd, path)) == NULL ||
        strlen(path) >= sizeof(kept[0].path)) {
        close(fd);
        return j;
    }
    i = kept_next++ % KEPT;
    if (kept[i].path[0] != '\0')
        forget(i);
    snprintf(kept[i].path, sizeof(kept[i].path), "%s", path);
    kept[i].fd = fd;
    kept[i].j = json_incref(j);
    kept[i].mtime = st.st_mtim;
    kept[i].size = st.st_size;
    return j;
}

int
cd_auth_write_json(const char *path, const json_t *j, char *err,
    size_t errlen)
{
    char *text = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
    int rc;

    if (text == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    rc = cd_auth_write(path, text, strlen(text), err, errlen);
    free(text);
    return rc;
}

int
cd_auth_random_b64(size_t n, char *out, size_t outlen)
{
    static const char b64[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    unsigned char raw[64];
    size_t i, o = 0;
    unsigned v;
    int bits = 0;

    if (n > sizeof(raw) || outlen < (n * 4 + 2) / 3 + 1 ||
        RAND_bytes(raw, (int)n) != 1)
        return -1;
    v = 0;
    for (i = 0; i < n; i++) {
        v = (v << 8) | raw[i];
        bits += 8;
        while (bits >= 6) {
            bits -= 6;
            out[o++] = b64[(v >> bits) & 63];
        }
    }
    if (bits > 0)
        out[o++] = b64[(v << (6 - bits)) & 63];
    out[o] = '\0';
    OPENSSL_cleanse(raw, sizeof(raw));
    return 0;
}

/*
 * Once per request: the digest is fetched once per process (SHA256()
 * fetches it on every call in OpenSSL 3, most of its cost here).
 */
void
cd_auth_sha256_hex(const char *s, size_t len, char hex[65])
{
    static const char digits[] = "0123456789abcdef";
    static EVP_MD *md;
    unsigned char d[SHA256_DIGEST_LENGTH];
    unsigned int dl = 0;
    size_t i;

    if (md == NULL)
        md = EVP_MD_fetch(NULL, "SHA256", NULL);
    if (md == NULL || EVP_Digest(s, len, d, &dl, md, NULL) != 1 ||
        dl != sizeof(d))
        SHA256((const unsigned char *)s, len, d);
    for (i = 0; i < sizeof(d); i++) {
        hex[2 * i] = digits[d[i] >> 4];
        hex[2 * i + 1] = digits[d[i] & 15];
    }
    hex[64] = '\0';
}

/* ---- hashing ---- */

/*
 * libxcrypt takes at most CRYPT_MAX_PASSPHRASE_SIZE bytes: a longer
 * password (up to 1024) goes in as its SHA-512, base64.  buf: 100 bytes.
 */
static const char *
hash_input(const char *pass, char *buf)
{
    unsigned char md[SHA512_DIGEST_LENGTH];

    if (strlen(pass) < CRYPT_MAX_PASSPHRASE_SIZE)
        return pass;
    SHA512((const unsigned char *)pass, strlen(pass), md);
    EVP_EncodeBlock((unsigned char *)buf, md, sizeof(md));
    OPENSSL_cleanse(md, sizeof(md));
    return buf;
}

/* crypt_r(pass, setting) into out (CRYPT_OUTPUT_SIZE): 0, or -1. */
static int
hash_with(const char *pass, const char *setting, char *out)
{
    struct crypt_data *cd;
    char pre[100];
    const char *h;
    int rc = -1;

    if ((cd = calloc(1, sizeof(*cd))) == NULL)
        return -1;
    h = crypt_r(hash_input(pass, pre), setting, cd);
    /* a failure is NULL or a string starting with '*' */
    if (h != NULL && h[0] == '$' && strlen(h) < CRYPT_OUTPUT_SIZE) {
        snprintf(out, CRYPT_OUTPUT_SIZE, "%s", h);
        rc = 0;
    }
    cv_free_secret(cd, sizeof(*cd));
    OPENSSL_cleanse(pre, sizeof(pre));
    return rc;
}

/* A new yescrypt hash of pass (libxcrypt's default cost). */
static int
hash_new(const char *pass, char *out)
{
    char setting[CRYPT_GENSALT_OUTPUT_SIZE];

    if (crypt_gensalt_rn("$y$", 0, NULL, 0, setting, sizeof(setting)) ==
        NULL)
        return -1;
    return hash_with(pass, setting, out);
}

/* ---- the users file ---- */

static void
users_path(const struct cd_settings *s, char *buf, size_t len)
{
    snprintf(buf, len, "%s/auth/users", s->state_dir);
}

/*
 * user's line of text (NUL-terminated copy): its hash into hash, its
 * flags into flags.  1 when found, 0 when not.
 */
static int
users_find(const char *text, const char *user, char *hash, size_t hlen,
    char *flags, size_t flen)
{
    const char *line = text, *end, *c1, *c2;
    size_t ul = strlen(user);

    for (; line != NULL && *line != '\0'; line = end ? end + 1 : NULL) {
        end = strchr(line, '\n');
        c1 = memchr(line, ':', end ? (size_t)(end - line) : strlen(line));
        if (c1 == NULL || (size_t)(c1 - line) != ul ||
            strncmp(line, user, ul) != 0)
            continue;
        c2 = strchr(c1 + 1, ':');
        if (c2 == NULL || (end != NULL && c2 > end))
            return 0;
        snprintf(hash, hlen, "%.*s", (int)(c2 - c1 - 1), c1 + 1);
        snprintf(flags, flen, "%.*s", (int)(end ? end - c2 - 1 :
            (long)strlen(c2 + 1)), c2 + 1);
        return 1;
    }
    return 0;
}

int
cd_auth_verify(const struct cd_settings *s, const char *user,
    const char *pass, int *must_change, char *err, size_t errlen)
{
    static const unsigned char zero[16];
    char path[4096], hash[CRYPT_OUTPUT_SIZE], flags[64];
    char out[CRYPT_OUTPUT_SIZE], dummy[CRYPT_GENSALT_OUTPUT_SIZE];
    char *text;
    size_t len;
    int found = 0, ok;

    *must_change = 0;
    users_path(s, path, sizeof(path));
    text = cv_read_file(path, USERS_MAX, CV_READ_REGULAR, &len);
    if (text == NULL && errno != ENOENT) {
        snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
        return -1;
    }
    if (text != NULL && cd_auth_name_ok(user))
        found = users_find(text, user, hash, sizeof(hash), flags,
            sizeof(flags));
    free(text);
    if (!found) {
        /* the same time for an unknown user: no list of names by timing */
        if (crypt_gensalt_rn("$y$", 0, (const char *)zero, sizeof(zero),
            dummy, sizeof(dummy)) != NULL)
            hash_with(pass, dummy, out);
        return 0;
    }
    ok = hash_with(pass, hash, out) == 0 && strlen(out) == strlen(hash) &&
        CRYPTO_memcmp(out, hash, strlen(hash)) == 0;
    OPENSSL_cleanse(out, sizeof(out));
    if (ok)
        *must_change = strstr(flags, "must_change") != NULL;
    return ok;
}

int
cd_auth_set_password(const struct cd_settings *s, const char *user,
    const char *pass, int must_change, char *err, size_t errlen)
{
    char path[4096], hash[CRYPT_OUTPUT_SIZE];
    char *text = NULL, *line, *next, *out = NULL;
    size_t len = 0, ul = strlen(user), olen = 0, cap;
    int lock = -1, rc = -1, n;

    if (!cd_auth_name_ok(user)) {
        snprintf(err, errlen, "\"%s\" is not a valid user name (1-32 of "
            "A-Z a-z 0-9 . _ -, not starting with . or -)", user);
        return -1;
    }
    if (hash_new(pass, hash) != 0) {
        snprintf(err, errlen, "cannot hash the password");
        return -1;
    }
    if ((lock = cd_auth_lock(s, err, errlen)) < 0)
        return -1;
    users_path(s, path, sizeof(path));
    text = cv_read_file(path, USERS_MAX, CV_READ_REGULAR, &len);
    if (text == NULL && errno != ENOENT) {
        snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
        goto out;
    }
    cap = len + ul + strlen(hash) + 32;
    if ((out = malloc(cap)) == NULL) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    /* every other line as it is; this user's line last */
    for (line = text; line != NULL && *line != '\0'; line = next) {
        next = strchr(line, '\n');
        if (next != NULL)
            *next++ = '\0';
        if (line[0] == '\0' || (strncmp(line, user, ul) == 0 &&
            line[ul] == ':'))
            continue;
        olen += (size_t)snprintf(out + olen, cap - olen, "%s\n", line);
    }
    n = snprintf(out + olen, cap - olen, "%s:%s:%s\n", user, hash,
        must_change ? "must_change" : "");
    olen += (size_t)n;
    if (cd_auth_write(path, out, olen, err, errlen) != 0)
        goto out;
    cd_auth_unlock(lock);
    lock = -1;
    if (cd_session_end_user(s, user, err, errlen) < 0)
        goto out;
    rc = 0;
out:
    cd_auth_unlock(lock);
    free(text);
    free(out);
    OPENSSL_cleanse(hash, sizeof(hash));
    return rc;
}
