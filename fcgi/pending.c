/*
 * pending.c - the signing request made on the appliance (pending.h): the
 * key made here (or kept), the PKCS#10 request signed with it, stored
 * under STATE/pending/ until a certificate for it is installed or the
 * admin discards it.
 */
#include "config.h"

#include "pending.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "cv_util.h"
#include "files.h"

#define PEM_MAX         (64u * 1024)
#define FIELD_MAX       64      /* ub-organization-name and the like */
#define STATE_MAX       128     /* ub-state-name, ub-locality-name */

/* ---- the parameters ---- */

/* 1 when s is 1 to max bytes of UTF-8 without control characters. */
static int
text_ok(const char *s, size_t max)
{
    size_t i, n = s != NULL ? strlen(s) : 0;

    if (n == 0 || n > max)
        return 0;
    for (i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
            return 0;
    return 1;
}

static int
present(const char *s)
{
    return s != NULL && s[0] != '\0';
}

/* Checks p against the rules of docs/API.md; -1 with field and why. */
static int
check_params(const struct cd_settings *s, const struct cd_csr_params *p,
    const char **fieldp, char *why, size_t wlen)
{
    static const char *const need[] = { "O", "OU" };
    const char *const val[] = { p->o, p->ou };
    size_t i;

    if (cd_key_type_is_ec(p->key_type) && !p->keep_key &&
        !cd_settings_allow_ec(s)) {
        *fieldp = "key_type";
        snprintf(why, wlen, "EC keys are allowed only with the key policy "
            "rsa+ec; this appliance's is rsa: choose rsa2048 or rsa4096");
        return -1;
    }
    if (!present(p->cn) || !cd_name_ok(p->cn)) {
        *fieldp = "cn";
        snprintf(why, wlen, "the Common Name must be the appliance's host "
            "name or IP address (no wildcard)");
        return -1;
    }
    for (i = 0; i < sizeof(need) / sizeof(need[0]); i++)
        if (!text_ok(val[i], FIELD_MAX)) {
            *fieldp = i == 0 ? "o" : "ou";
            snprintf(why, wlen, "%s is required: 1 to %d characters, no "
                "control characters", need[i], FIELD_MAX);
            return -1;
        }
    if (!present(p->c) || strlen(p->c) != 2 || p->c[0] < 'A' ||
        p->c[0] > 'Z' || p->c[1] < 'A' || p->c[1] > 'Z') {
        *fieldp = "c";
        snprintf(why, wlen, "C is required: the two-letter country code "
            "in capitals (ISO 3166), e.g. DE");
        return -1;
    }
    if (present(p->st) && !text_ok(p->st, STATE_MAX)) {
        *fieldp = "st";
        snprintf(why, wlen, "ST: at most %d characters, no control "
            "characters", STATE_MAX);
        return -1;
    }
    if (present(p->l) && !text_ok(p->l, STATE_MAX)) {
        *fieldp = "l";
        snprintf(why, wlen, "L: at most %d characters, no control "
            "characters", STATE_MAX);
        return -1;
    }
    for (i = 0; i < p->n_names; i++)
        if (!cd_name_ok(p->names[i])) {
            *fieldp = "names";
            snprintf(why, wlen, "'%.80s' is neither a host name nor an IP "
                "address", p->names[i]);
            return -1;
        }
    return 0;
}

/* ---- making the request ---- */

static int
add_entry(X509_NAME *nm, int nid, const char *v)
{
    if (!present(v))
        return 0;
    return X509_NAME_add_entry_by_NID(nm, nid, MBSTRING_UTF8,
        (const unsigned char *)v, -1, -1, 0) == 1 ? 0 : -1;
}

/* The request's extensions: the names (CN first), a TLS server's usages. */
static STACK_OF(X509_EXTENSION) *
extensions(const struct cd_csr_params *p, char *why, size_t wlen)
{
    const char *names[CD_CSR_MAX_NAMES + 1];
    STACK_OF(X509_EXTENSION) *exts = NULL;
    X509_EXTENSION *ext = NULL;
    GENERAL_NAMES *gens;
    EXTENDED_KEY_USAGE *eku = NULL;
    size_t i, n = 0;

    names[n++] = p->cn;
    for (i = 0; i < p->n_names && n < CD_CSR_MAX_NAMES + 1; i++)
        names[n++] = p->names[i];
    if ((gens = cd_names_san(names, n, why, wlen)) == NULL)
        return NULL;
    if ((exts = sk_X509_EXTENSION_new_null()) == NULL ||
        (ext = X509V3_EXT_i2d(NID_subject_alt_name, 0, gens)) == NULL ||
        sk_X509_EXTENSION_push(exts, ext) <= 0)
        goto fail;
    ext = NULL;
    if ((eku = EXTENDED_KEY_USAGE_new()) == NULL ||
        sk_ASN1_OBJECT_push(eku, OBJ_nid2obj(NID_server_auth)) <= 0 ||
        (ext = X509V3_EXT_i2d(NID_ext_key_usage, 0, eku)) == NULL ||
        sk_X509_EXTENSION_push(exts, ext) <= 0)
        goto fail;
    EXTENDED_KEY_USAGE_free(eku);
    GENERAL_NAMES_free(gens);
    return exts;
fail:
    snprintf(why, wlen, "cannot make the request's extensions");
    X509_EXTENSION_free(ext);
    EXTENDED_KEY_USAGE_free(eku);
    sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
    GENERAL_NAMES_free(gens);
    return NULL;
}

static X509_REQ *
make_request(EVP_PKEY *key, const struct cd_csr_params *p, char *why,
    size_t wlen)
{
    STACK_OF(X509_EXTENSION) *exts = NULL;
    X509_NAME *nm = NULL;
    X509_REQ *rq = NULL;
    char detail[128];
    int ok = 0;

    if ((exts = extensions(p, why, wlen)) == NULL)
        return NULL;
    ERR_clear_error();
    if ((rq = X509_REQ_new()) == NULL || (nm = X509_NAME_new()) == NULL ||
        X509_REQ_set_version(rq, X509_REQ_VERSION_1) != 1 ||
        add_entry(nm, NID_countryName, p->c) != 0 ||
        add_entry(nm, NID_stateOrProvinceName, p->st) != 0 ||
        add_entry(nm, NID_localityName, p->l) != 0 ||
        add_entry(nm, NID_organizationName, p->o) != 0 ||
        add_entry(nm, NID_organizationalUnitName, p->ou) != 0 ||
        add_entry(nm, NID_commonName, p->cn) != 0 ||
        X509_REQ_set_subject_name(rq, nm) != 1 ||
        X509_REQ_set_pubkey(rq, key) != 1 ||
        X509_REQ_add_extensions(rq, exts) != 1 ||
        X509_REQ_sign(rq, key, EVP_sha256()) <= 0) {
        cv_ossl_detail(detail, sizeof(detail));
        snprintf(why, wlen, "cannot make the signing request: %s", detail);
        goto out;
    }
    ok = 1;
out:
    sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
    X509_NAME_free(nm);
    if (!ok) {
        X509_REQ_free(rq);
        rq = NULL;
    }
    return rq;
}

/* A PEM private key from a file (the current release's, or ours). */
static EVP_PKEY *
read_key(const char *path, char *why, size_t wlen)
{
    EVP_PKEY *k = NULL;
    size_t len = 0;
    char *buf;
    BIO *b;

    if ((buf = cv_read_file(path, PEM_MAX, CV_READ_REGULAR, &len)) == NULL) {
        snprintf(why, wlen, "cannot read the key: %s", strerror(errno));
        return NULL;
    }
    if ((b = BIO_new_mem_buf(buf, (int)len)) != NULL)
        k = PEM_read_bio_PrivateKey(b, NULL, NULL, NULL);
    BIO_free(b);
    cv_free_secret(buf, len + 1);
    if (k == NULL) {
        ERR_clear_error();
        snprintf(why, wlen, "the key cannot be read");
    }
    return k;
}

/* ---- the store ---- */

static int
lock_state(const char *state)
{
    char path[PATH_MAX];
    int fd;

    if (mkdir(state, 0700) != 0 && errno != EEXIST)
        return -1;
    if (cd_path(path, "%s/pending.lock", state) != 0 ||
        (fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW,
        0600)) < 0)
        return -1;
    while (flock(fd, LOCK_EX) != 0)
        if (errno != EINTR) {
            close(fd);
            return -1;
        }
    return fd;
}

static int
exists(const char *state)
{
    char path[PATH_MAX];
    struct stat st;

    if (cd_path(path, "%s/pending/request.pem", state) != 0)
        return -1;
    if (lstat(path, &st) == 0)
        return 1;
    return errno == ENOENT ? 0 : -1;
}

/* Writes the key (0600), the request and meta.json into dir. */
static int
write_files(const char *dir, EVP_PKEY *key, X509_REQ *rq,
    const struct cd_csr_params *p, char *why, size_t wlen)
{
    BIO *kb = NULL, *rb = NULL;
    char *data, *meta = NULL;
    json_t *m;
    long n;
    int rc = -1;

    /* secure memory: wiped when freed */
    if ((kb = BIO_new(BIO_s_secmem())) == NULL ||
        (rb = BIO_new(BIO_s_mem())) == NULL ||
        PEM_write_bio_PrivateKey(kb, key, NULL, NULL, 0, NULL, NULL) != 1 ||
        PEM_write_bio_X509_REQ(rb, rq) != 1) {
        ERR_clear_error();
        snprintf(why, wlen, "cannot encode the key and the request");
        goto out;
    }
    m = json_pack("{s:I, s:s, s:b}", "created", (json_int_t)time(NULL),
        "key_type", p->keep_key ? "kept" : cd_key_type_name(p->key_type),
        "kept_key", p->keep_key);
    meta = m != NULL ? json_dumps(m, JSON_COMPACT) : NULL;
    json_decref(m);
    if (meta == NULL) {
        snprintf(why, wlen, "out of memory");
        goto out;
    }
    n = BIO_get_mem_data(kb, &data);
    if (cd_file_create(dir, "key.pem", data, (size_t)n, 0600) != 0)
        goto io;
    n = BIO_get_mem_data(rb, &data);
    if (cd_file_create(dir, "request.pem", data, (size_t)n, 0644) != 0 ||
        cd_file_create(dir, "meta.json", meta, strlen(meta), 0644) != 0 ||
        cd_fsync_dir(dir) != 0)
        goto io;
    rc = 0;
    goto out;
io:
    snprintf(why, wlen, "cannot store the signing request: %s",
        strerror(errno));
out:
    free(meta);
    BIO_free(kb);
    BIO_free(rb);
    return rc;
}

/* Puts dir in place of STATE/pending (whose old content is removed). */
static int
swap_in(const char *state, const char *dir, int had)
{
    char cur[PATH_MAX];

    if (cd_path(cur, "%s/pending", state) != 0)
        return -1;
    if (had) {
        if (renameat2(AT_FDCWD, dir, AT_FDCWD, cur, RENAME_EXCHANGE) != 0)
            return -1;
        cd_remove_dir(dir);     /* now the old request */
    } else {
        /* a stray empty or torn STATE/pending from a crash goes first */
        cd_remove_dir(cur);
        if (rename(dir, cur) != 0)
            return -1;
    }
    return cd_fsync_dir(state);
}

int
cd_pending_create(const struct cd_settings *s,
    const struct cd_csr_params *p, int replace, const char **fieldp,
    char *why, size_t wlen)
{
    char path[PATH_MAX], dir[PATH_MAX];
    EVP_PKEY *key = NULL;
    X509_REQ *rq = NULL;
    int fd, had, rc = -1;

    *fieldp = NULL;
    why[0] = '\0';
    if (s == NULL || s->state_dir == NULL) {
        snprintf(why, wlen, "no state directory is configured");
        return -1;
    }
    if (check_params(s, p, fieldp, why, wlen) != 0)
        return -1;
    if ((fd = lock_state(s->state_dir)) < 0) {
        snprintf(why, wlen, "cannot lock the signing request: %s",
            strerror(errno));
        return -1;
    }
    if ((had = exists(s->state_dir)) < 0) {
        snprintf(why, wlen, "cannot read the pending request: %s",
            strerror(errno));
        goto out;
    }
    if (had && !replace) {
        rc = -2;
        goto out;
    }
    if (p->keep_key) {
        if (cd_path(path, "%s/current/privkey.pem", s->state_dir) != 0 ||
            (key = read_key(path, why, wlen)) == NULL) {
            *fieldp = "keep_key";
            goto out;
        }
    } else if ((key = cd_keygen(p->key_type, why, wlen)) == NULL)
        goto out;
    if ((rq = make_request(key, p, why, wlen)) == NULL)
        goto out;
    if (cd_path(dir, "%s/.pending-XXXXXXXX", s->state_dir) != 0 ||
        mkdtemp(dir) == NULL) {
        snprintf(why, wlen, "cannot store the signing request: %s",
            strerror(errno));
        goto out;
    }
    if (write_files(dir, key, rq, p, why, wlen) != 0) {
        cd_remove_dir(dir);
        goto out;
    }
    if (swap_in(s->state_dir, dir, had) != 0) {
        snprintf(why, wlen, "cannot store the signing request: %s",
            strerror(errno));
        cd_remove_dir(dir);
        goto out;
    }
    rc = 0;
out:
    EVP_PKEY_free(key);
    X509_REQ_free(rq);
    close(fd);
    return rc;
}

int
cd_pending_request(const char *state, char **pemp, size_t *lenp,
    struct cd_pending_info *info)
{
    char path[PATH_MAX], *meta;
    json_t *m;
    size_t len;
    json_int_t created = 0;
    const char *kt = "";
    int kept = 0;

    *pemp = NULL;
    *lenp = 0;
    memset(info, 0, sizeof(*info));
    if (cd_path(path, "%s/pending/request.pem", state) != 0)
        return -1;
    if ((*pemp = cv_read_file(path, PEM_MAX, CV_READ_REGULAR, lenp)) ==
        NULL)
        return errno == ENOENT ? 0 : -1;
    if (cd_path(path, "%s/pending/meta.json", state) == 0 &&
        (meta = cv_read_file(path, PEM_MAX, CV_READ_REGULAR, &len)) !=
        NULL) {
        if ((m = json_loadb(meta, len, 0, NULL)) != NULL &&
            json_unpack(m, "{s?I, s?s, s?b}", "created", &created,
            "key_type", &kt, "kept_key", &kept) == 0) {
            info->created = (time_t)created;
            snprintf(info->key_type, sizeof(info->key_type), "%s", kt);
            info->kept_key = kept;
        }
        json_decref(m);
        free(meta);
    }
    return 1;
}

int
cd_pending_key(const char *state, uint8_t **keyp, size_t *lenp)
{
    char path[PATH_MAX];

    *keyp = NULL;
    *lenp = 0;
    if (cd_path(path, "%s/pending/key.pem", state) != 0)
        return -1;
    if ((*keyp = (uint8_t *)cv_read_file(path, PEM_MAX, CV_READ_REGULAR,
        lenp)) == NULL)
        return errno == ENOENT ? 0 : -1;
    return 1;
}

int
cd_pending_discard(const char *state, EVP_PKEY *key)
{
    char path[PATH_MAX], dir[PATH_MAX], why[64];
    EVP_PKEY *pk;
    int fd, had, rc = -1, e = 0;

    if ((fd = lock_state(state)) < 0)
        return -1;
    if ((had = exists(state)) <= 0) {
        rc = had == 0 ? -2 : -1;
        e = errno;
        goto out;
    }
    if (key != NULL) {
        if (cd_path(path, "%s/pending/key.pem", state) != 0 ||
            (pk = read_key(path, why, sizeof(why))) == NULL) {
            e = errno;
            goto out;
        }
        had = EVP_PKEY_eq(pk, key) == 1;
        EVP_PKEY_free(pk);
        if (!had) {
            rc = -2;
            goto out;
        }
    }
    /* out of the way with one rename, then removed */
    if (cd_path(path, "%s/pending", state) != 0 ||
        cd_path(dir, "%s/.pending-XXXXXXXX", state) != 0 ||
        mkdtemp(dir) == NULL ||
        renameat2(AT_FDCWD, path, AT_FDCWD, dir, RENAME_EXCHANGE) != 0) {
        e = errno;
        goto out;
    }
    cd_remove_dir(dir);
    cd_remove_dir(path);        /* the empty directory exchanged in */
    cd_fsync_dir(state);
    rc = 0;
out:
    close(fd);
    if (rc == -1)
        errno = e;
    return rc;
}
