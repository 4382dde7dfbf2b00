/*
 * fixture.c - reading the test fixtures made by tests/data/mkfixtures.sh,
 * and looking at engine reports.  Shared by the unit tests and the bench;
 * no cmocka.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/pem.h>

#include "fixture.h"

static char fixture_err[512];

static void
set_error(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(fixture_err, sizeof(fixture_err), fmt, ap);
    va_end(ap);
}

const char *
cd_fixture_error(void)
{
    return fixture_err;
}

const char *
cd_fixture_dir(void)
{
    const char *d = getenv("CD_FIXTURES");

    return d != NULL && *d != '\0' ? d : "tests/fixtures";
}

const char *
cd_fixture_path(const char *name)
{
    static char path[4096];

    snprintf(path, sizeof(path), "%s/%s", cd_fixture_dir(), name);
    return path;
}

uint8_t *
cd_fixture_read(const char *name, size_t *lenp)
{
    FILE *f;
    uint8_t *buf = NULL, *nb;
    size_t len = 0, cap = 0, n;

    *lenp = 0;
    if ((f = fopen(cd_fixture_path(name), "rb")) == NULL)
        return NULL;
    for (;;) {
        if (cap - len < 4097) {
            cap = cap ? cap * 2 : 8192;
            if ((nb = realloc(buf, cap)) == NULL) {
                free(buf);
                fclose(f);
                return NULL;
            }
            buf = nb;
        }
        n = fread(buf + len, 1, cap - len - 1, f);
        len += n;
        if (n == 0)
            break;
    }
    fclose(f);
    buf[len] = '\0';
    *lenp = len;
    return buf;
}

time_t
cd_fixture_time(void)
{
    size_t len;
    uint8_t *b = cd_fixture_read("made_at", &len);
    time_t t = 0;
    size_t i;

    if (b == NULL)
        return time(NULL);
    for (i = 0; i < len && b[i] >= '0' && b[i] <= '9'; i++)
        t = t * 10 + (b[i] - '0');
    free(b);
    return t + 60;
}

/* ---- fixtures read once ---- */

static struct cd_blob **blobs;
static size_t n_blobs, cap_blobs;

const struct cd_blob *
cd_fixture_blob(const char *name)
{
    struct cd_blob *b = NULL, **nb;
    uint8_t *p = NULL;
    size_t i, n;

    for (i = 0; i < n_blobs; i++)
        if (strcmp(blobs[i]->name, name) == 0)
            return blobs[i];
    if ((p = cd_fixture_read(name, &n)) == NULL) {
        set_error("fixture %s missing (CD_FIXTURES=%s)", name,
            cd_fixture_dir());
        return NULL;
    }
    if (n_blobs == cap_blobs) {
        cap_blobs = cap_blobs ? cap_blobs * 2 : 64;
        if ((nb = realloc(blobs, cap_blobs * sizeof(*blobs))) == NULL)
            goto oom;
        blobs = nb;
    }
    if ((b = calloc(1, sizeof(*b))) == NULL ||
        (b->name = strdup(name)) == NULL)
        goto oom;
    b->p = p;
    b->n = n;
    blobs[n_blobs++] = b;
    return b;
oom:
    set_error("fixture %s: out of memory", name);
    free(b);
    free(p);
    return NULL;
}

void
cd_fixture_blobs_free(void)
{
    size_t i;

    for (i = 0; i < n_blobs; i++) {
        free((char *)blobs[i]->name);
        free((uint8_t *)blobs[i]->p);
        free(blobs[i]);
    }
    free(blobs);
    blobs = NULL;
    n_blobs = cap_blobs = 0;
}

/* *p, *n: the bytes of fixture name; left alone when name is NULL. */
static int
put_blob(const char *name, const uint8_t **p, size_t *n)
{
    const struct cd_blob *b;

    if (name == NULL)
        return 0;
    if ((b = cd_fixture_blob(name)) == NULL)
        return -1;
    *p = b->p;
    *n = b->n;
    return 0;
}

int
cd_fixture_input(struct cv_input *in, const char *key, const char *crt,
    const char *chain)
{
    memset(in, 0, sizeof(*in));
    if (put_blob(key, &in->key, &in->key_len) != 0 ||
        put_blob(crt, &in->crt, &in->crt_len) != 0 ||
        put_blob(chain, &in->chain, &in->chain_len) != 0)
        return -1;
    return 0;
}

/* A read-only memory BIO over a fixture, NULL (error set) when missing. */
static BIO *
blob_bio(const char *name)
{
    const struct cd_blob *b = cd_fixture_blob(name);
    BIO *bio;

    if (b == NULL)
        return NULL;
    if ((bio = BIO_new_mem_buf(b->p, (int)b->n)) == NULL)
        set_error("%s: BIO_new_mem_buf failed", name);
    return bio;
}

X509 *
cd_fixture_x509(const char *name)
{
    BIO *bio = blob_bio(name);
    X509 *x = NULL;

    if (bio == NULL)
        return NULL;
    if ((x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) == NULL)
        set_error("%s: not a PEM certificate", name);
    BIO_free(bio);
    return x;
}

EVP_PKEY *
cd_fixture_key(const char *name)
{
    BIO *bio = blob_bio(name);
    EVP_PKEY *k = NULL;

    if (bio == NULL)
        return NULL;
    if ((k = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL)) == NULL)
        set_error("%s: not a PEM key", name);
    BIO_free(bio);
    return k;
}

X509_CRL *
cd_fixture_crl(const char *name)
{
    const struct cd_blob *b = cd_fixture_blob(name);
    const unsigned char *p;
    X509_CRL *c;
    BIO *bio;

    if (b == NULL)
        return NULL;
    p = b->p;
    if ((c = d2i_X509_CRL(NULL, &p, (long)b->n)) != NULL)
        return c;
    if ((bio = blob_bio(name)) == NULL)
        return NULL;
    if ((c = PEM_read_bio_X509_CRL(bio, NULL, NULL, NULL)) == NULL)
        set_error("%s: not a CRL", name);
    BIO_free(bio);
    return c;
}

/* ---- the engine ---- */

struct cv_ctx *
cd_fixture_ctx(void)
{
    struct cv_config cfg;
    struct cv_ctx *c;
    char *err = NULL;

    memset(&cfg, 0, sizeof(cfg));
    cfg.ca_file = cd_fixture_path("root.pem");
    cfg.no_default_ca = 1;
    if ((c = cv_ctx_new(&cfg, &err)) == NULL)
        set_error("cv_ctx_new: %s", err ? err : "?");
    free(err);
    return c;
}

void
cd_fixture_report_text(const struct cv_report *rep, char *buf, size_t len)
{
    const struct cv_finding *f;
    size_t i, off = 0;
    int n;

    if (len == 0)
        return;
    buf[0] = '\0';
    for (i = 0; i < rep->n_findings && off < len; i++) {
        f = &rep->findings[i];
        n = snprintf(buf + off, len - off, "%s%s%s(%s: %s)", i ? ", " : "",
            cv_code_name(f->code), f->blocking ? "" : "[w]",
            f->field ? f->field : "-", f->detail ? f->detail : "");
        if (n < 0)
            break;
        off += (size_t)n;
    }
}

const struct cv_finding *
cd_fixture_finding(const struct cv_report *rep, enum cv_code code)
{
    size_t i;

    for (i = 0; i < rep->n_findings; i++)
        if (rep->findings[i].code == code)
            return &rep->findings[i];
    return NULL;
}

/* 1 when code is in the CV_OK-terminated list (NULL: empty). */
static int
listed(const enum cv_code *list, enum cv_code code)
{
    size_t i;

    for (i = 0; list != NULL && list[i] != CV_OK; i++)
        if (list[i] == code)
            return 1;
    return 0;
}

int
cd_fixture_report_codes(const struct cv_report *rep,
    const enum cv_code *errs, const enum cv_code *warns)
{
    const struct cv_finding *f;
    size_t i;

    for (i = 0; errs[i] != CV_OK; i++)
        if (!cv_report_has(rep, errs[i]))
            return 0;
    for (i = 0; warns != NULL && warns[i] != CV_OK; i++)
        if (!cv_report_has(rep, warns[i]))
            return 0;
    for (i = 0; i < rep->n_findings; i++) {
        f = &rep->findings[i];
        if (warns == NULL ? !listed(errs, f->code) :
            !(listed(errs, f->code) && f->blocking) &&
            !(listed(warns, f->code) && !f->blocking))
            return 0;
    }
    return 1;
}

/* ---- a growing byte buffer ---- */

void
cd_buf_add(struct cd_buf *b, const void *data, size_t len)
{
    if (b->cap - b->len < len + 1) {
        size_t cap = b->cap ? b->cap : 256;

        while (cap - b->len < len + 1)
            cap *= 2;
        if ((b->p = realloc(b->p, cap)) == NULL)
            abort();
        b->cap = cap;
    }
    if (len > 0)
        memcpy(b->p + b->len, data, len);
    b->len += len;
    b->p[b->len] = '\0';
}

void
cd_buf_free(struct cd_buf *b)
{
    free(b->p);
    memset(b, 0, sizeof(*b));
}
