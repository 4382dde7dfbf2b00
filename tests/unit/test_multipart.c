/*
 * test_multipart.c - fcgi/multipart.c: the bounded, zero-copy
 * multipart/form-data parser and its Content-Type boundary parser,
 * against valid bodies, every truncation of a valid body,
 * every single-byte corruption of its delimiters and hostile lengths.
 *
 * Every body is handed to the parser in a heap buffer of exactly its
 * length, so that under ASan a read past the end is caught.
 *
 * The tests at the end are regressions of parser bugs they found.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cv.h"
#include "fixture.h"
#include "multipart.h"

/* Chrome's style of boundary: 38 characters, starts with dashes. */
#define BND "----WebKitFormBoundary7MA4YWxkTrZu0gW"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static const char *const fields[] = {
    "mode", "name", "passphrase", "key", "crt", "chain", "use_crl",
    "validation", "confirm", NULL
};

/* The three reasons a truncated or cut body may be refused with. */
static const char *const trunc_errs[] = {
    "no multipart boundary in the body",
    "the body ends before the closing boundary",
    "the body ends inside a part's headers",
};

/* ---- bodies in a growing buffer (tests/lib/fixture.h) ---- */

static void
buf_str(struct cd_buf *b, const char *s)
{
    cd_buf_add(b, s, strlen(s));
}

static void
buf_fmt(struct cd_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
buf_fmt(struct cd_buf *b, const char *fmt, ...)
{
    va_list ap;
    char *s = NULL;
    int n;

    va_start(ap, fmt);
    n = vasprintf(&s, fmt, ap);
    va_end(ap);
    assert_true(n >= 0);
    cd_buf_add(b, s, (size_t)n);
    free(s);
}

static void
buf_rep(struct cd_buf *b, int c, size_t n)
{
    uint8_t chunk[4096];

    memset(chunk, c, sizeof(chunk));
    while (n > 0) {
        size_t k = n < sizeof(chunk) ? n : sizeof(chunk);

        cd_buf_add(b, chunk, k);
        n -= k;
    }
}

/* One part, browser layout: "--B" CRLF headers CRLF data CRLF. */
static void
add_part(struct cd_buf *b, const char *bnd, const char *name,
    const char *filename, const void *data, size_t len)
{
    buf_fmt(b, "--%s\r\n", bnd);
    if (filename != NULL)
        buf_fmt(b, "Content-Disposition: form-data; name=\"%s\"; "
            "filename=\"%s\"\r\nContent-Type: application/octet-stream\r\n"
            "\r\n", name, filename);
    else
        buf_fmt(b, "Content-Disposition: form-data; name=\"%s\"\r\n\r\n",
            name);
    cd_buf_add(b, data, len);
    buf_str(b, "\r\n");
}

static void
add_text(struct cd_buf *b, const char *bnd, const char *name, const char *v)
{
    add_part(b, bnd, name, NULL, v, strlen(v));
}

/* A part with a hand-written header block (without the blank line). */
static void
add_raw(struct cd_buf *b, const char *bnd, const char *headers, const char *v)
{
    buf_fmt(b, "--%s\r\n%s\r\n\r\n%s\r\n", bnd, headers, v);
}

static void
add_close(struct cd_buf *b, const char *bnd)
{
    buf_fmt(b, "--%s--\r\n", bnd);
}

/* ---- parsing in an exact-size heap copy ---- */

struct mp {
    enum cd_mp_status st;
    struct cd_part *parts;
    size_t n;
    char err[256];
    uint8_t *copy;              /* the body the parts point into */
    size_t len;
};

static void
mp_done(struct mp *m)
{
    free(m->copy);
    free(m->parts);
    memset(m, 0, sizeof(*m));
}

static enum cd_mp_status
mp_parse_lim(struct mp *m, const uint8_t *body, size_t len, const char *bnd,
    const struct cd_multipart_limits *lim, const char *const *allowed)
{
    mp_done(m);
    m->copy = malloc(len > 0 ? len : 1);
    assert_non_null(m->copy);
    if (len > 0)
        memcpy(m->copy, body, len);
    m->len = len;
    m->parts = calloc(lim->max_parts > 0 ? lim->max_parts : 1,
        sizeof(*m->parts));
    assert_non_null(m->parts);
    m->n = 12345;
    memset(m->err, 'Z', sizeof(m->err));
    m->st = cd_multipart_parse(m->copy, len, bnd, lim, allowed, m->parts,
        &m->n, m->err, sizeof(m->err));
    /* err is always a C string; empty exactly on success */
    assert_non_null(memchr(m->err, '\0', sizeof(m->err)));
    if (m->st == CD_MP_OK)
        assert_string_equal(m->err, "");
    else {
        assert_true(m->err[0] != '\0');
        assert_int_equal(m->n, 0);
    }
    return m->st;
}

static enum cd_mp_status
mp_parse(struct mp *m, const uint8_t *body, size_t len, const char *bnd)
{
    struct cd_multipart_limits lim = CD_MULTIPART_LIMITS_DEFAULT;

    return mp_parse_lim(m, body, len, bnd, &lim, fields);
}

static enum cd_mp_status
mp_parse_buf(struct mp *m, const struct cd_buf *b)
{
    return mp_parse(m, b->p, b->len, BND);
}

/* Part i of m is named name, has data (len) and filename (or none). */
static void
assert_part(const struct mp *m, size_t i, const char *name,
    const char *filename, const void *data, size_t len)
{
    const struct cd_part *p;

    assert_true(i < m->n);
    p = &m->parts[i];
    assert_int_equal(p->name_len, strlen(name));
    assert_memory_equal(p->name, name, p->name_len);
    if (filename == NULL) {
        assert_null(p->filename);
        assert_int_equal(p->filename_len, 0);
    } else {
        assert_non_null(p->filename);
        assert_int_equal(p->filename_len, strlen(filename));
        if (p->filename_len > 0)
            assert_memory_equal(p->filename, filename, p->filename_len);
    }
    assert_int_equal(p->len, len);
    assert_non_null(p->data);
    if (len > 0)
        assert_memory_equal(p->data, data, len);
    /* a view into the body */
    assert_true(p->data >= m->copy && p->data + p->len <= m->copy + m->len);
    assert_true((const uint8_t *)p->name >= m->copy &&
        (const uint8_t *)p->name + p->name_len <= m->copy + m->len);
}

static void
assert_part_text(const struct mp *m, size_t i, const char *name,
    const char *v)
{
    assert_part(m, i, name, NULL, v, strlen(v));
}

static void
assert_err_one_of(const char *err, const char *const *errs, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        if (strcmp(err, errs[i]) == 0)
            return;
    fail_msg("unexpected reason \"%s\"", err);
}

/* ---- the valid body with every docs/API.md "Upload fields" field ---- */

static const char key_pem[] =
    "-----BEGIN ENCRYPTED PRIVATE KEY-----\r\n"
    "MIIFLTBXBgkqhkiG9w0BBQ0wSjApBgkqhkiG9w0BBQwwHAQIb3kDzq5K2lUCAggA\r\n"
    "MAwGCCqGSIb3DQIJBQAwHQYJYIZIAWUDBAEqBBDZ+1kZ9Qn6mDkWx0oQ0XH7BIIE\r\n"
    "-----END ENCRYPTED PRIVATE KEY-----\r\n";

static const char chain_pem[] =
    "Bag Attributes: <No Attributes>\n"
    "subject=C = US, O = Contoso Ltd, OU = Contoso PKI, CN = Contoso Test "
    "Intermediate\n"
    "issuer=C = US, O = Contoso Ltd, OU = Contoso PKI, CN = Contoso Test "
    "Root\n"
    "-----BEGIN CERTIFICATE-----\n"
    "MIIDnzCCAoegAwIBAgIUQk3x\n"
    "-----END CERTIFICATE-----\n"
    "--" BND "\n"                       /* LF only: not a delimiter */
    "\r--" BND "\r\n"                   /* CR only: not a delimiter */
    "x--" BND "--\r\n"                  /* not at a line start */
    "-----BEGIN CERTIFICATE-----\n"
    "MIIDazCCAlOgAwIBAgIUZ2Vu\n"
    "-----END CERTIFICATE-----";        /* no final newline */

/* DER-like binary: NUL, CR, LF, dashes, a boundary lacking its last byte */
static uint8_t crt_der[1500];

static void
make_crt_der(void)
{
    static const char partial[] = "\r\n--" BND;
    uint32_t x = 0x2545F491;
    size_t i;

    for (i = 0; i < sizeof(crt_der); i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        crt_der[i] = (uint8_t)x;
    }
    crt_der[0] = 0x30;
    crt_der[1] = 0x82;
    memset(crt_der + 100, 0, 16);
    memcpy(crt_der + 200, "\r\n\r\n\r\n--\r\n--", 12);
    memcpy(crt_der + 300, partial, sizeof(partial) - 2);   /* w/o last */
    memcpy(crt_der + 400, "\r\n--" BND "x", sizeof(BND) + 4);
    memcpy(crt_der + 500, "\r\n-", 3);
    crt_der[sizeof(crt_der) - 2] = '\r';
    crt_der[sizeof(crt_der) - 1] = '\r';
}

struct field {
    const char *name;
    const char *filename;
    const void *data;
    size_t len;
};

#define N_VALID 8

struct valid {
    struct cd_buf b;
    struct field f[N_VALID];
    /* delimiter k: [off[k], off[k] + dlen[k]); 0 opens, N_VALID closes */
    size_t off[N_VALID + 1];
    size_t dlen[N_VALID + 1];
    size_t close_end;           /* just after the closing "--B--" */
};

static void
valid_build(struct valid *v)
{
    size_t i;

    make_crt_der();
    memset(v, 0, sizeof(*v));
    v->f[0] = (struct field){ "mode", NULL, "ca-signed", 9 };
    v->f[1] = (struct field){ "name", NULL, "Sensor cert 2025", 16 };
    v->f[2] = (struct field){ "passphrase", NULL, "Secr3t!pass", 11 };
    v->f[3] = (struct field){ "key", "good-pbes2.key", key_pem,
        sizeof(key_pem) - 1 };
    v->f[4] = (struct field){ "crt", "good.der", crt_der, sizeof(crt_der) };
    v->f[5] = (struct field){ "chain", "chain-bag.pem", chain_pem,
        sizeof(chain_pem) - 1 };
    v->f[6] = (struct field){ "use_crl", NULL, "on", 2 };
    v->f[7] = (struct field){ "validation", NULL, "mandatory", 9 };
    v->off[0] = 0;
    v->dlen[0] = 2 + strlen(BND) + 2;
    for (i = 0; i < N_VALID; i++) {
        add_part(&v->b, BND, v->f[i].name, v->f[i].filename, v->f[i].data,
            v->f[i].len);
        v->off[i + 1] = v->b.len - 2;   /* the CRLF after the data */
        v->dlen[i + 1] = 2 + 2 + strlen(BND) + 2;
    }
    add_close(&v->b, BND);
    v->dlen[N_VALID] += 2;
    v->close_end = v->b.len - 2;
    assert_int_equal(v->off[N_VALID] + v->dlen[N_VALID], v->b.len);
}

static void
assert_valid_parts(const struct mp *m, const struct valid *v)
{
    size_t i;

    assert_int_equal(m->st, CD_MP_OK);
    assert_int_equal(m->n, N_VALID);
    for (i = 0; i < N_VALID; i++)
        assert_part(m, i, v->f[i].name, v->f[i].filename, v->f[i].data,
            v->f[i].len);
}

static void
test_cd_multipart_parse_all_fields(void **state)
{
    struct valid v;
    struct mp m = { 0 };
    const struct cd_part *p;
    size_t i;

    (void)state;
    valid_build(&v);
    assert_int_equal(mp_parse_buf(&m, &v.b), CD_MP_OK);
    assert_valid_parts(&m, &v);
    for (i = 0; i < N_VALID; i++) {
        p = cd_multipart_get(m.parts, m.n, v.f[i].name);
        assert_ptr_equal(p, &m.parts[i]);
    }
    assert_null(cd_multipart_get(m.parts, m.n, "confirm"));
    assert_null(cd_multipart_get(m.parts, m.n, "Key"));
    assert_null(cd_multipart_get(m.parts, m.n, "ke"));
    assert_null(cd_multipart_get(m.parts, 0, "key"));
    mp_done(&m);
    cd_buf_free(&v.b);
}

/* mode=self-signed with confirm=yes: the only fields of that form. */
static void
test_cd_multipart_parse_self_signed_confirm(void **state)
{
    struct cd_buf b = { 0 };
    struct mp m = { 0 };

    (void)state;
    add_text(&b, BND, "mode", "self-signed");
    add_text(&b, BND, "confirm", "yes");
    add_close(&b, BND);
    assert_int_equal(mp_parse_buf(&m, &b), CD_MP_OK);
    assert_int_equal(m.n, 2);
    assert_part_text(&m, 0, "mode", "self-signed");
    assert_part_text(&m, 1, "confirm", "yes");
    mp_done(&m);
    cd_buf_free(&b);
}

/* curl -F: a short boundary of dashes and hex, Content-Type per part. */
static void
test_cd_multipart_parse_curl_layout(void **state)
{
    static const char body[] =
        "--------------------------d74496d66958873e\r\n"
        "Content-Disposition: form-data; name=\"crt\"; filename=\"good.pem\""
        "\r\nContent-Type: application/x-x509-ca-cert\r\n\r\n"
        "PEM\n\r\n"
        "--------------------------d74496d66958873e--\r\n";
    struct mp m = { 0 };

    (void)state;
    assert_int_equal(mp_parse(&m, (const uint8_t *)body, sizeof(body) - 1,
        "------------------------d74496d66958873e"), CD_MP_OK);
    assert_int_equal(m.n, 1);
    assert_part(&m, 0, "crt", "good.pem", "PEM\n", 4);
    mp_done(&m);
}

/* ---- boundary from the Content-Type ---- */

struct ct_case {
    const char *ct;
    enum cd_mp_status st;
    const char *boundary;       /* on CD_MP_OK */
};

static void
test_cd_multipart_boundary_cases(void **state)
{
    static const char b70[] = "0123456789012345678901234567890123456789"
        "012345678901234567890123456789";
    static const char b71[] = "0123456789012345678901234567890123456789"
        "0123456789012345678901234567890";
    char ct70[128], ct71[128], ct70q[128], ct71q[128];
    const struct ct_case cases[] = {
        { "multipart/form-data; boundary=" BND, CD_MP_OK, BND },
        { "multipart/form-data; boundary=\"" BND "\"", CD_MP_OK, BND },
        { "multipart/form-data;boundary=abc", CD_MP_OK, "abc" },
        { "multipart/form-data ; boundary=abc", CD_MP_OK, "abc" },
        { "  multipart/form-data;  boundary = abc  ", CD_MP_OK, "abc" },
        { "\tmultipart/form-data;\tboundary=abc", CD_MP_OK, "abc" },
        { "MULTIPART/Form-Data; BOUNDARY=AbC", CD_MP_OK, "AbC" },
        { "multipart/form-data; charset=utf-8; boundary=abc", CD_MP_OK,
          "abc" },
        { "multipart/form-data; boundary=abc; charset=utf-8", CD_MP_OK,
          "abc" },
        { "multipart/form-data; charset=\"utf-8; x=y\"; boundary=abc",
          CD_MP_OK, "abc" },
        { "multipart/form-data; boundary=\"a b c\"", CD_MP_OK, "a b c" },
        { "multipart/form-data; boundary=\" lead\"", CD_MP_OK, " lead" },
        { "multipart/form-data; boundary=----=_Part_0_12.34", CD_MP_OK,
          "----=_Part_0_12.34" },
        { "multipart/form-data; boundary='()+_,-./:=?", CD_MP_OK,
          "'()+_,-./:=?" },
        { "multipart/form-data; boundary=x", CD_MP_OK, "x" },
        { "multipart/form-data; boundary=a; boundary=b", CD_MP_OK, "a" },
        { ct70, CD_MP_OK, b70 },
        { ct70q, CD_MP_OK, b70 },
        /* too long */
        { ct71, CD_MP_BAD, NULL },
        { ct71q, CD_MP_BAD, NULL },
        /* empty */
        { "multipart/form-data; boundary=", CD_MP_BAD, NULL },
        { "multipart/form-data; boundary=\"\"", CD_MP_BAD, NULL },
        { "multipart/form-data; boundary=;", CD_MP_BAD, NULL },
        /* missing */
        { "multipart/form-data", CD_MP_BAD, NULL },
        { "multipart/form-data;", CD_MP_BAD, NULL },
        { "multipart/form-data; ", CD_MP_BAD, NULL },
        { "multipart/form-data; charset=utf-8", CD_MP_BAD, NULL },
        { "multipart/form-data boundary=abc", CD_MP_BAD, NULL },
        { "multipart/form-data; boundary", CD_MP_BAD, NULL },
        { "multipart/form-data; boundaryx=abc", CD_MP_BAD, NULL },
        { "multipart/form-data; foo; boundary=abc", CD_MP_BAD, NULL },
        /* bad characters */
        { "multipart/form-data; boundary=ab@c", CD_MP_BAD, NULL },
        { "multipart/form-data; boundary=ab\"c", CD_MP_BAD, NULL },
        { "multipart/form-data; boundary=ab<c>", CD_MP_BAD, NULL },
        { "multipart/form-data; boundary=ab\\c", CD_MP_BAD, NULL },
        { "multipart/form-data; boundary=ab\xc3\xa4", CD_MP_BAD, NULL },
        { "multipart/form-data; boundary=ab\x01", CD_MP_BAD, NULL },
        { "multipart/form-data; boundary=\"trail \"", CD_MP_BAD, NULL },
        { "multipart/form-data; boundary=\"ab\tc\"", CD_MP_BAD, NULL },
        { "multipart/form-data; boundary=\"abc", CD_MP_BAD, NULL },
        { "multipart/form-data; boundary=\"a;b\"", CD_MP_BAD, NULL },
        { "multipart/form-data; boundary=a!b", CD_MP_BAD, NULL },
        /* the boundary parameter ends the scan: what follows is ignored */
        { "multipart/form-data; boundary=abc def", CD_MP_OK, "abc" },
        { "multipart/form-data; boundary=abc; x", CD_MP_OK, "abc" },
        /* not multipart/form-data */
        { "", CD_MP_NOT_MULTIPART, NULL },
        { "text/plain", CD_MP_NOT_MULTIPART, NULL },
        { "application/x-www-form-urlencoded", CD_MP_NOT_MULTIPART, NULL },
        { "multipart/mixed; boundary=abc", CD_MP_NOT_MULTIPART, NULL },
        { "multipart/form-data-x; boundary=abc", CD_MP_NOT_MULTIPART, NULL },
        { "multipart/form-dat", CD_MP_NOT_MULTIPART, NULL },
        { "multipart/form-data,boundary=abc", CD_MP_NOT_MULTIPART, NULL },
        { "x multipart/form-data; boundary=abc", CD_MP_NOT_MULTIPART,
          NULL },
    };
    char out[CD_BOUNDARY_MAX + 1];
    size_t i;

    (void)state;
    assert_int_equal(strlen(b70), 70);
    assert_int_equal(strlen(b71), 71);
    snprintf(ct70, sizeof(ct70), "multipart/form-data; boundary=%s", b70);
    snprintf(ct71, sizeof(ct71), "multipart/form-data; boundary=%s", b71);
    snprintf(ct70q, sizeof(ct70q), "multipart/form-data; boundary=\"%s\"",
        b70);
    snprintf(ct71q, sizeof(ct71q), "multipart/form-data; boundary=\"%s\"",
        b71);
    for (i = 0; i < NELEM(cases); i++) {
        enum cd_mp_status st;

        memset(out, 'Q', sizeof(out));
        st = cd_multipart_boundary(cases[i].ct, out, sizeof(out));
        if (st != cases[i].st)
            fail_msg("case %zu \"%s\": status %d, want %d", i, cases[i].ct,
                (int)st, (int)cases[i].st);
        if (st == CD_MP_OK)
            assert_string_equal(out, cases[i].boundary);
        else
            assert_string_equal(out, "");
    }
    /* NULL Content-Type: not multipart */
    memset(out, 'Q', sizeof(out));
    assert_int_equal(cd_multipart_boundary(NULL, out, sizeof(out)),
        CD_MP_NOT_MULTIPART);
    assert_string_equal(out, "");
}

/* The output buffer must hold the boundary and its NUL. */
static void
test_cd_multipart_boundary_outlen(void **state)
{
    char out[8];

    (void)state;
    assert_int_equal(cd_multipart_boundary("multipart/form-data; "
        "boundary=1234567", out, sizeof(out)), CD_MP_OK);
    assert_string_equal(out, "1234567");
    assert_int_equal(cd_multipart_boundary("multipart/form-data; "
        "boundary=12345678", out, sizeof(out)), CD_MP_BAD);
    assert_string_equal(out, "");
    assert_int_equal(cd_multipart_boundary("multipart/form-data; "
        "boundary=a", out, 1), CD_MP_BAD);
}


/* ---- every truncation ---- */

/*
 * Every prefix of the valid body.  A prefix that stops before the end of
 * the closing "--B--" is refused as malformed (never as too large), with
 * no part returned.  The CRLF after the closing delimiter is optional
 * (RFC 2046: close-delimiter transport-padding [CRLF epilogue]), so the
 * two longest prefixes are the whole body.
 */
static void
test_cd_multipart_parse_every_truncation(void **state)
{
    struct valid v;
    struct mp m = { 0 };
    size_t cut;

    (void)state;
    valid_build(&v);
    for (cut = 0; cut <= v.b.len; cut++) {
        enum cd_mp_status st = mp_parse(&m, v.b.p, cut, BND);

        if (cut < v.close_end) {
            if (st != CD_MP_BAD)
                fail_msg("prefix %zu of %zu: status %d", cut, v.b.len,
                    (int)st);
            assert_err_one_of(m.err, trunc_errs, NELEM(trunc_errs));
            /* the reason never quotes the body */
            assert_null(strstr(m.err, "Secr3t"));
            assert_null(strstr(m.err, "PRIVATE"));
        } else
            assert_valid_parts(&m, &v);
    }
    /* a few exact reasons */
    mp_parse(&m, v.b.p, 0, BND);
    assert_string_equal(m.err, "no multipart boundary in the body");
    mp_parse(&m, v.b.p, v.dlen[0] - 2, BND);
    assert_string_equal(m.err, "the body ends before the closing boundary");
    mp_parse(&m, v.b.p, v.dlen[0], BND);
    assert_string_equal(m.err, "the body ends inside a part's headers");
    mp_parse(&m, v.b.p, v.dlen[0] + 10, BND);
    assert_string_equal(m.err, "the body ends inside a part's headers");
    mp_parse(&m, v.b.p, v.off[1], BND);
    assert_string_equal(m.err, "the body ends before the closing boundary");
    mp_parse(&m, v.b.p, v.close_end - 1, BND);
    assert_string_equal(m.err, "the body ends before the closing boundary");
    mp_done(&m);
    cd_buf_free(&v.b);
}

/* Every truncation of a body with a preamble and an epilogue. */
static void
test_cd_multipart_parse_every_truncation_preamble(void **state)
{
    struct cd_buf b = { 0 };
    struct mp m = { 0 };
    size_t cut, close_end;

    (void)state;
    buf_str(&b, "This is the preamble.\r\n");
    add_part(&b, BND, "key", "k.key", "KEY", 3);
    add_part(&b, BND, "crt", "c.crt", "", 0);
    buf_fmt(&b, "--%s--", BND);
    close_end = b.len;
    buf_str(&b, "\r\nThis is the epilogue.\r\n");
    for (cut = 0; cut <= b.len; cut++) {
        enum cd_mp_status st = mp_parse(&m, b.p, cut, BND);

        if (cut < close_end) {
            if (st != CD_MP_BAD)
                fail_msg("prefix %zu of %zu: status %d", cut, b.len,
                    (int)st);
            assert_err_one_of(m.err, trunc_errs, NELEM(trunc_errs));
        } else {
            assert_int_equal(st, CD_MP_OK);
            assert_int_equal(m.n, 2);
            assert_part(&m, 0, "key", "k.key", "KEY", 3);
            assert_part(&m, 1, "crt", "c.crt", "", 0);
        }
    }
    mp_done(&m);
    cd_buf_free(&b);
}

/* ---- single-byte corruption of every delimiter ---- */

/*
 * What corrupting one byte of delimiter k does (RFC 2046 semantics):
 * - the opening "--B": the first part becomes preamble, the rest parse;
 * - the CRLF after the opening "--B": malformed, unless the CR became a
 *   boundary character (then "--BX" is preamble);
 * - any byte of a middle "CRLF--B CRLF": no longer a delimiter, so the
 *   part before it absorbs the next one (its data then differs);
 * - the closing "CRLF--B--": the last part never ends: malformed;
 * - the CRLF after the closing "--": epilogue, the same parts.
 */
static void
check_corruption(const struct valid *v, size_t k, size_t j, uint8_t c)
{
    struct mp m = { 0 };
    uint8_t *body = malloc(v->b.len);
    size_t at = v->off[k] + j, i;

    assert_non_null(body);
    memcpy(body, v->b.p, v->b.len);
    body[at] = c;
    mp_parse(&m, body, v->b.len, BND);
    /*
     * The CR after the opening "--B" turned into a boundary character
     * makes "--BX", a longer boundary-like line: preamble too.
     */
    if (k == 0 && (j < v->dlen[0] - 2 || (j == v->dlen[0] - 2 &&
        c != 0 && (isalnum(c) || strchr("'()+_,-./:=?", c) != NULL)))) {
        if (m.st != CD_MP_OK || m.n != N_VALID - 1)
            fail_msg("opening delimiter byte %zu = 0x%02x: status %d, %zu "
                "parts", j, c, (int)m.st, m.n);
        for (i = 1; i < N_VALID; i++)
            assert_part(&m, i - 1, v->f[i].name, v->f[i].filename,
                v->f[i].data, v->f[i].len);
    } else if (k == 0) {
        if (m.st != CD_MP_BAD)
            fail_msg("opening delimiter byte %zu = 0x%02x: status %d", j, c,
                (int)m.st);
        assert_string_equal(m.err, "the body ends before the closing "
            "boundary");
    } else if (k < N_VALID) {
        if (m.st != CD_MP_OK || m.n != N_VALID - 1)
            fail_msg("delimiter %zu byte %zu = 0x%02x: status %d, %zu parts",
                k, j, c, (int)m.st, m.n);
        for (i = 0; i < N_VALID - 1; i++) {
            size_t src = i < k ? i : i + 1;

            if (i == k - 1) {
                /* absorbed: its data, the corrupt delimiter, part k+1 */
                assert_int_equal(m.parts[i].name_len,
                    strlen(v->f[src].name));
                assert_memory_equal(m.parts[i].name, v->f[src].name,
                    m.parts[i].name_len);
                assert_true(m.parts[i].len > v->f[src].len +
                    v->dlen[k] + v->f[k].len);
                assert_memory_equal(m.parts[i].data, v->f[src].data,
                    v->f[src].len);
                assert_int_equal(m.parts[i].data + m.parts[i].len - m.copy,
                    v->off[k + 1]);
            } else
                assert_part(&m, i, v->f[src].name, v->f[src].filename,
                    v->f[src].data, v->f[src].len);
        }
    } else if (j < v->dlen[k] - 2) {
        if (m.st != CD_MP_BAD)
            fail_msg("closing delimiter byte %zu = 0x%02x: status %d", j, c,
                (int)m.st);
        assert_string_equal(m.err, "the body ends before the closing "
            "boundary");
    } else
        assert_valid_parts(&m, v);
    mp_done(&m);
    free(body);
}

static void
test_cd_multipart_parse_delimiter_corruption(void **state)
{
    static const uint8_t repl[] = { 0x00, 0xff, 'X', ' ', '\r', '\n', '-' };
    struct valid v;
    size_t k, j, r, n = 0, bytes = 0;

    (void)state;
    valid_build(&v);
    for (k = 0; k <= N_VALID; k++)
        for (j = 0; j < v.dlen[k]; j++, bytes++) {
            uint8_t orig = v.b.p[v.off[k] + j];

            check_corruption(&v, k, j, orig ^ 0x01);
            n++;
            for (r = 0; r < sizeof(repl); r++)
                if (repl[r] != orig) {
                    check_corruption(&v, k, j, repl[r]);
                    n++;
                }
        }
    assert_int_equal(bytes, 4 + (N_VALID - 1) * 6 + 8 + (N_VALID + 1) *
        strlen(BND));
    assert_true(n >= 7 * bytes);
    cd_buf_free(&v.b);
}

/* ---- hostile lengths ---- */

/* A part header line of 100 KB: too large, whole or truncated. */
static void
test_cd_multipart_parse_header_100k(void **state)
{
    struct cd_buf b = { 0 };
    struct mp m = { 0 };

    (void)state;
    buf_fmt(&b, "--%s\r\nContent-Disposition: form-data; name=\"key\"; "
        "filename=\"", BND);
    buf_rep(&b, 'A', 100 * 1024);
    buf_str(&b, "\"\r\n\r\nKEY\r\n");
    add_close(&b, BND);
    assert_int_equal(mp_parse_buf(&m, &b), CD_MP_TOO_LARGE);
    assert_string_equal(m.err, "a part's headers are longer than 8192 "
        "bytes");
    /* the same line, the body cut inside it */
    assert_int_equal(mp_parse(&m, b.p, 60 * 1024, BND), CD_MP_TOO_LARGE);
    cd_buf_free(&b);

    /* an unknown header line of 100 KB before the disposition */
    buf_fmt(&b, "--%s\r\nX-Pad: ", BND);
    buf_rep(&b, 'B', 100 * 1024);
    buf_str(&b, "\r\nContent-Disposition: form-data; name=\"key\"\r\n\r\n"
        "KEY\r\n");
    add_close(&b, BND);
    assert_int_equal(mp_parse_buf(&m, &b), CD_MP_TOO_LARGE);
    /* 100 KB of CRLF-free bytes after the delimiter, no end */
    cd_buf_free(&b);
    buf_fmt(&b, "--%s\r\n", BND);
    buf_rep(&b, '\r', 100 * 1024);
    assert_int_equal(mp_parse_buf(&m, &b), CD_MP_TOO_LARGE);
    mp_done(&m);
    cd_buf_free(&b);
}

/* The header block limit, byte by byte (the block includes its CRLF). */
static void
test_cd_multipart_parse_header_limit_exact(void **state)
{
    struct cd_multipart_limits lim = { 4, 200, 1024 };
    struct mp m = { 0 };
    size_t block;

    (void)state;
    for (block = 60; block <= 260; block++) {
        struct cd_buf b = { 0 };
        static const char cdh[] = "Content-Disposition: form-data; "
            "name=\"key\"\r\nX: ";
        size_t pad = block - (sizeof(cdh) - 1) - 2;

        buf_fmt(&b, "--%s\r\n%s", BND, cdh);
        buf_rep(&b, 'p', pad);
        buf_str(&b, "\r\n\r\nKEY\r\n");
        add_close(&b, BND);
        mp_parse_lim(&m, b.p, b.len, BND, &lim, fields);
        if (block <= 200) {
            assert_int_equal(m.st, CD_MP_OK);
            assert_part(&m, 0, "key", NULL, "KEY", 3);
        } else {
            if (m.st != CD_MP_TOO_LARGE)
                fail_msg("header block %zu: status %d", block, (int)m.st);
            assert_string_equal(m.err, "a part's headers are longer than "
                "200 bytes");
        }
        cd_buf_free(&b);
    }
    mp_done(&m);
}

static char **
make_names(size_t n)
{
    char **names = calloc(n + 1, sizeof(*names));
    size_t i;

    assert_non_null(names);
    for (i = 0; i < n; i++) {
        assert_true(asprintf(&names[i], "f%zu", i) > 0);
    }
    return names;
}

static void
free_names(char **names)
{
    size_t i;

    for (i = 0; names[i] != NULL; i++)
        free(names[i]);
    free(names);
}

/* 10,000 parts. */
static void
test_cd_multipart_parse_10000_parts(void **state)
{
    struct cd_multipart_limits lim = CD_MULTIPART_LIMITS_DEFAULT;
    struct cd_buf b = { 0 };
    struct mp m = { 0 };
    char **names = make_names(10000);
    size_t i;

    (void)state;
    /* all called "name": the second is a duplicate */
    for (i = 0; i < 10000; i++)
        add_text(&b, BND, "name", "x");
    add_close(&b, BND);
    assert_int_equal(mp_parse_buf(&m, &b), CD_MP_BAD);
    assert_string_equal(m.err, "duplicate field: name");
    cd_buf_free(&b);

    /* 10,000 distinct allowed names: the 17th is one too many */
    for (i = 0; i < 10000; i++)
        add_text(&b, BND, names[i], "x");
    add_close(&b, BND);
    assert_int_equal(mp_parse_lim(&m, b.p, b.len, BND, &lim,
        (const char *const *)names), CD_MP_TOO_LARGE);
    assert_string_equal(m.err, "more than 16 parts");
    cd_buf_free(&b);

    /* exactly 16 is fine, 17 is not */
    for (i = 0; i < 16; i++)
        add_text(&b, BND, names[i], "x");
    add_close(&b, BND);
    assert_int_equal(mp_parse_lim(&m, b.p, b.len, BND, &lim,
        (const char *const *)names), CD_MP_OK);
    assert_int_equal(m.n, 16);
    assert_part_text(&m, 15, "f15", "x");
    cd_buf_free(&b);

    /* 10,000 parts without any header */
    for (i = 0; i < 10000; i++)
        buf_fmt(&b, "--%s\r\n\r\nx\r\n", BND);
    add_close(&b, BND);
    assert_int_equal(mp_parse_buf(&m, &b), CD_MP_BAD);
    assert_string_equal(m.err, "a part has no Content-Disposition");
    cd_buf_free(&b);

    /*
     * 10,000 delimiter lines in a row: the first part's header block has
     * no blank line within the header limit (it does not stop at a
     * delimiter): too large.  Three in a row: cut inside the headers.
     */
    for (i = 0; i < 10000; i++)
        buf_fmt(&b, "--%s\r\n", BND);
    add_close(&b, BND);
    assert_int_equal(mp_parse_buf(&m, &b), CD_MP_TOO_LARGE);
    assert_string_equal(m.err, "a part's headers are longer than 8192 "
        "bytes");
    cd_buf_free(&b);
    for (i = 0; i < 3; i++)
        buf_fmt(&b, "--%s\r\n", BND);
    add_close(&b, BND);
    assert_int_equal(mp_parse_buf(&m, &b), CD_MP_BAD);
    assert_string_equal(m.err, "the body ends inside a part's headers");
    cd_buf_free(&b);

    /* a larger max_parts really is honoured: 2,000 distinct parts */
    lim.max_parts = 2000;
    for (i = 0; i < 2000; i++)
        add_text(&b, BND, names[i], names[i]);
    add_close(&b, BND);
    assert_int_equal(mp_parse_lim(&m, b.p, b.len, BND, &lim,
        (const char *const *)names), CD_MP_OK);
    assert_int_equal(m.n, 2000);
    assert_part_text(&m, 1999, "f1999", "f1999");
    cd_buf_free(&b);
    mp_done(&m);
    free_names(names);
}

/* The per-file limit (256 KiB by default), byte exact. */
static void
test_cd_multipart_parse_file_limit(void **state)
{
    struct cd_buf b = { 0 }, data = { 0 };
    struct mp m = { 0 };

    (void)state;
    buf_rep(&data, 'k', 256 * 1024 + 1);
    add_part(&b, BND, "key", "big.key", data.p, 256 * 1024);
    add_close(&b, BND);
    assert_int_equal(mp_parse_buf(&m, &b), CD_MP_OK);
    assert_int_equal(m.parts[0].len, 256 * 1024);
    cd_buf_free(&b);

    add_text(&b, BND, "name", "n");
    add_part(&b, BND, "key", "big.key", data.p, 256 * 1024 + 1);
    add_close(&b, BND);
    assert_int_equal(mp_parse_buf(&m, &b), CD_MP_TOO_LARGE);
    assert_string_equal(m.err, "field key is larger than 262144 bytes");
    cd_buf_free(&b);

    /* a text field is a part like any other */
    add_part(&b, BND, "passphrase", NULL, data.p, 256 * 1024 + 1);
    add_close(&b, BND);
    assert_int_equal(mp_parse_buf(&m, &b), CD_MP_TOO_LARGE);
    assert_string_equal(m.err, "field passphrase is larger than 262144 "
        "bytes");
    cd_buf_free(&b);

    /* unknown beats too large; so does a duplicate */
    add_part(&b, BND, "huge", NULL, data.p, 256 * 1024 + 1);
    add_close(&b, BND);
    assert_int_equal(mp_parse_buf(&m, &b), CD_MP_BAD);
    assert_string_equal(m.err, "unknown field");
    cd_buf_free(&b);

    /* a limit of 0 allows only empty parts */
    {
        struct cd_multipart_limits lim = { 16, 8192, 0 };

        add_part(&b, BND, "key", "k", "", 0);
        add_close(&b, BND);
        assert_int_equal(mp_parse_lim(&m, b.p, b.len, BND, &lim, fields),
            CD_MP_OK);
        cd_buf_free(&b);
        add_part(&b, BND, "key", "k", "x", 1);
        add_close(&b, BND);
        assert_int_equal(mp_parse_lim(&m, b.p, b.len, BND, &lim, fields),
            CD_MP_TOO_LARGE);
    }
    mp_done(&m);
    cd_buf_free(&b);
    cd_buf_free(&data);
}

/*
 * A body above the 1 MiB request limit.  The parser has no total limit:
 * the caller refuses a CONTENT_LENGTH above it (413) before reading the
 * body.  So a 1.25 MiB body of five parts under the per-file limit
 * parses; one 2 MiB part is too large.
 */
static void
test_cd_multipart_parse_total_above_limit(void **state)
{
    static const char *const names[] = {
        "key", "crt", "chain", "passphrase", "name"
    };
    struct cd_buf b = { 0 }, data = { 0 };
    struct mp m = { 0 };
    size_t i;

    (void)state;
    buf_rep(&data, 'd', 2 * 1024 * 1024);
    for (i = 0; i < NELEM(names); i++)
        add_part(&b, BND, names[i], "f", data.p, 256 * 1024);
    add_close(&b, BND);
    assert_true(b.len > 1024 * 1024);
    assert_int_equal(mp_parse_buf(&m, &b), CD_MP_OK);
    assert_int_equal(m.n, NELEM(names));
    cd_buf_free(&b);

    add_part(&b, BND, "chain", "f", data.p, data.len);
    add_close(&b, BND);
    assert_int_equal(mp_parse_buf(&m, &b), CD_MP_TOO_LARGE);
    assert_string_equal(m.err, "field chain is larger than 262144 bytes");
    cd_buf_free(&b);

    /* a 2 MiB preamble is skipped (the caller's limit bounds it) */
    cd_buf_add(&b, data.p, data.len);
    buf_str(&b, "\r\n");
    add_text(&b, BND, "name", "n");
    add_close(&b, BND);
    assert_int_equal(mp_parse_buf(&m, &b), CD_MP_OK);
    assert_part_text(&m, 0, "name", "n");
    mp_done(&m);
    cd_buf_free(&b);
    cd_buf_free(&data);
}

/* The boundary inside file content, not preceded by CRLF: data. */
static void
test_cd_multipart_parse_boundary_in_content(void **state)
{
    static const char *const datas[] = {
        "--" BND,
        "--" BND "\r\n",
        "--" BND "--",
        "abc--" BND "\r\ndef",
        "line\n--" BND "\r\nmore",
        "line\r--" BND "\r\nmore",
        "line\n\r--" BND "--\r\n",
        "\r\n--" BND "x\r\n",           /* a longer boundary */
        "\r\n--" BND "-\r\n",           /* one dash is not the close */
        "\r\n--" BND "\t-\r\n",         /* padding then not CRLF */
        "\r\n--" BND " \n",             /* padding then LF only */
        "\r\n--" BND "\r",
        "\r\n-" BND "\r\n",
        "\r\n---" BND,                  /* three dashes: not our boundary */
    };
    struct cd_buf b = { 0 };
    struct mp m = { 0 };
    size_t i;

    (void)state;
    for (i = 0; i < NELEM(datas); i++) {
        add_part(&b, BND, "chain", "c.pem", datas[i], strlen(datas[i]));
        add_text(&b, BND, "name", "n");
        add_close(&b, BND);
        if (mp_parse_buf(&m, &b) != CD_MP_OK || m.n != 2)
            fail_msg("data %zu: status %d, %zu parts (%s)", i, (int)m.st,
                m.n, m.err);
        assert_part(&m, 0, "chain", "c.pem", datas[i], strlen(datas[i]));
        assert_part_text(&m, 1, "name", "n");
        cd_buf_free(&b);
    }
    mp_done(&m);
}

/* CRLF--B followed by "--" ends the body wherever it appears. */
static void
test_cd_multipart_parse_close_inside_content(void **state)
{
    struct cd_buf b = { 0 };
    struct mp m = { 0 };

    (void)state;
    buf_fmt(&b, "--%s\r\nContent-Disposition: form-data; name=\"crt\"\r\n"
        "\r\nabc\r\n--%s--garbage\r\n", BND, BND);
    add_text(&b, BND, "crt", "ignored: epilogue");
    add_close(&b, BND);
    assert_int_equal(mp_parse_buf(&m, &b), CD_MP_OK);
    assert_int_equal(m.n, 1);
    assert_part_text(&m, 0, "crt", "abc");
    mp_done(&m);
    cd_buf_free(&b);
}

static void
test_cd_multipart_parse_preamble_epilogue(void **state)
{
    struct cd_buf b = { 0 };
    struct mp m = { 0 };

    (void)state;
    /* preamble ending in CRLF, epilogue with a fake part */
    buf_str(&b, "preamble line 1\r\n--" BND "x\r\n\r\n");
    add_text(&b, BND, "name", "n");
    add_text(&b, BND, "mode", "ca-signed");
    add_close(&b, BND);
    buf_str(&b, "epilogue\r\n");
    add_text(&b, BND, "key", "after the end");
    add_close(&b, BND);
    assert_int_equal(mp_parse_buf(&m, &b), CD_MP_OK);
    assert_int_equal(m.n, 2);
    assert_part_text(&m, 0, "name", "n");
    assert_part_text(&m, 1, "mode", "ca-signed");
    assert_null(cd_multipart_get(m.parts, m.n, "key"));
    cd_buf_free(&b);

    /* a body that opens with CRLF before the first delimiter */
    buf_str(&b, "\r\n");
    add_text(&b, BND, "name", "n");
    add_close(&b, BND);
    assert_int_equal(mp_parse_buf(&m, &b), CD_MP_OK);
    assert_part_text(&m, 0, "name", "n");
    cd_buf_free(&b);

    /*
     * a preamble not ended by CRLF hides the first delimiter: the whole
     * first part is preamble, up to the next delimiter
     */
    buf_str(&b, "preamble");
    add_text(&b, BND, "name", "n");
    add_text(&b, BND, "mode", "ca-signed");
    add_close(&b, BND);
    assert_int_equal(mp_parse_buf(&m, &b), CD_MP_OK);
    assert_int_equal(m.n, 1);
    assert_part_text(&m, 0, "mode", "ca-signed");
    cd_buf_free(&b);
    buf_str(&b, "preamble");
    add_text(&b, BND, "name", "n");
    add_close(&b, BND);
    assert_int_equal(mp_parse_buf(&m, &b), CD_MP_OK);
    assert_int_equal(m.n, 0);
    cd_buf_free(&b);
    buf_str(&b, "preamble--" BND "\r\n");
    assert_int_equal(mp_parse_buf(&m, &b), CD_MP_BAD);
    assert_string_equal(m.err, "no multipart boundary in the body");
    cd_buf_free(&b);

    /* only a closing delimiter: no part at all */
    add_close(&b, BND);
    assert_int_equal(mp_parse_buf(&m, &b), CD_MP_OK);
    assert_int_equal(m.n, 0);
    cd_buf_free(&b);
    buf_str(&b, "pre\r\n");
    add_close(&b, BND);
    assert_int_equal(mp_parse_buf(&m, &b), CD_MP_OK);
    assert_int_equal(m.n, 0);
    mp_done(&m);
    cd_buf_free(&b);
}

/* Transport padding after delimiters; no CRLF after the close. */
static void
test_cd_multipart_parse_padding_and_final_crlf(void **state)
{
    struct cd_buf b = { 0 };
    struct mp m = { 0 };

    (void)state;
    buf_fmt(&b, "--%s \t \r\nContent-Disposition: form-data; name=\"name\""
        "\r\n\r\nn\r\n--%s\t\r\nContent-Disposition: form-data; "
        "name=\"mode\"\r\n\r\nca-signed\r\n--%s--", BND, BND, BND);
    assert_int_equal(mp_parse_buf(&m, &b), CD_MP_OK);
    assert_int_equal(m.n, 2);
    assert_part_text(&m, 0, "name", "n");
    assert_part_text(&m, 1, "mode", "ca-signed");
    buf_str(&b, "  \r\n");
    assert_int_equal(mp_parse_buf(&m, &b), CD_MP_OK);
    assert_int_equal(m.n, 2);
    mp_done(&m);
    cd_buf_free(&b);
}

/* LF-only line ends are not multipart/form-data. */
static void
test_cd_multipart_parse_lf_only(void **state)
{
    struct cd_buf b = { 0 };
    struct mp m = { 0 };
    size_t i, j;

    (void)state;
    add_text(&b, BND, "name", "n");
    add_part(&b, BND, "key", "k.key", "KEY\n", 4);
    add_close(&b, BND);
    for (i = 0, j = 0; i < b.len; i++)
        if (b.p[i] != '\r')
            b.p[j++] = b.p[i];
    b.len = j;
    assert_int_equal(mp_parse_buf(&m, &b), CD_MP_BAD);
    assert_string_equal(m.err, "the body ends before the closing boundary");
    cd_buf_free(&b);

    /* CRLF delimiters, LF-only part headers: no blank line is found */
    buf_fmt(&b, "--%s\r\nContent-Disposition: form-data; name=\"name\"\n\n"
        "n\r\n--%s--\r\n", BND, BND);
    assert_int_equal(mp_parse_buf(&m, &b), CD_MP_BAD);
    assert_string_equal(m.err, "the body ends inside a part's headers");
    mp_done(&m);
    cd_buf_free(&b);
}

/* A body in another boundary, bad boundary arguments, NULL body. */
static void
test_cd_multipart_parse_bad_arguments(void **state)
{
    struct cd_multipart_limits lim = CD_MULTIPART_LIMITS_DEFAULT;
    struct cd_part parts[CD_MULTIPART_MAX_PARTS];
    char b71[72], err[64];
    struct cd_buf b = { 0 };
    struct mp m = { 0 };
    size_t n = 99;

    (void)state;
    add_text(&b, BND, "name", "n");
    add_close(&b, BND);
    assert_int_equal(mp_parse(&m, b.p, b.len, "other"), CD_MP_BAD);
    assert_string_equal(m.err, "no multipart boundary in the body");
    /* a prefix of the real boundary is not it */
    assert_int_equal(mp_parse(&m, b.p, b.len, "----WebKitFormBoundary"),
        CD_MP_BAD);
    assert_int_equal(mp_parse(&m, b.p, b.len, ""), CD_MP_BAD);
    assert_string_equal(m.err, "bad boundary");
    memset(b71, 'b', 71);
    b71[71] = '\0';
    assert_int_equal(mp_parse(&m, b.p, b.len, b71), CD_MP_BAD);
    assert_string_equal(m.err, "bad boundary");
    assert_int_equal(cd_multipart_parse(b.p, b.len, NULL, &lim, fields,
        parts, &n, err, sizeof(err)), CD_MP_BAD);
    assert_string_equal(err, "bad boundary");
    assert_int_equal(n, 0);
    n = 99;
    assert_int_equal(cd_multipart_parse(NULL, 0, BND, &lim, fields, parts,
        &n, err, sizeof(err)), CD_MP_BAD);
    assert_string_equal(err, "no body");
    assert_int_equal(n, 0);
    /* no room for a reason: none written */
    assert_int_equal(cd_multipart_parse(b.p, b.len, "other", &lim, fields,
        parts, &n, NULL, 0), CD_MP_BAD);
    /* a short reason buffer is cut and terminated */
    memset(err, 'Z', sizeof(err));
    assert_int_equal(cd_multipart_parse(b.p, b.len, "other", &lim, fields,
        parts, &n, err, 5), CD_MP_BAD);
    assert_string_equal(err, "no m");
    /* the 70-character boundary works end to end */
    cd_buf_free(&b);
    memset(b71, 'b', 70);
    b71[70] = '\0';
    add_text(&b, b71, "name", "n");
    add_close(&b, b71);
    assert_int_equal(mp_parse(&m, b.p, b.len, b71), CD_MP_OK);
    assert_part_text(&m, 0, "name", "n");
    mp_done(&m);
    cd_buf_free(&b);
}

/* ---- fields: duplicates, unknown names ---- */

static void
test_cd_multipart_parse_duplicate_unknown(void **state)
{
    static const char *const unknown[] = {
        "foo", "Key", "KEY", "key ", "keys", "ke", "confirm2",
        "file", "certificate"
    };
    struct cd_buf b = { 0 };
    struct mp m = { 0 };
    size_t i;

    (void)state;
    add_part(&b, BND, "key", "a.key", "A", 1);
    add_text(&b, BND, "name", "n");
    add_part(&b, BND, "key", "b.key", "B", 1);
    add_close(&b, BND);
    assert_int_equal(mp_parse_buf(&m, &b), CD_MP_BAD);
    assert_string_equal(m.err, "duplicate field: key");
    cd_buf_free(&b);

    /* an empty duplicate is still a duplicate */
    add_text(&b, BND, "passphrase", "");
    add_text(&b, BND, "passphrase", "");
    add_close(&b, BND);
    assert_int_equal(mp_parse_buf(&m, &b), CD_MP_BAD);
    assert_string_equal(m.err, "duplicate field: passphrase");
    cd_buf_free(&b);

    for (i = 0; i < NELEM(unknown); i++) {
        add_text(&b, BND, "name", "n");
        add_text(&b, BND, unknown[i], "v");
        add_close(&b, BND);
        if (mp_parse_buf(&m, &b) != CD_MP_BAD)
            fail_msg("field \"%s\" accepted", unknown[i]);
        assert_string_equal(m.err, "unknown field");
        cd_buf_free(&b);
    }

    /* no allowed list: nothing is known */
    add_text(&b, BND, "name", "n");
    add_close(&b, BND);
    {
        struct cd_multipart_limits lim = CD_MULTIPART_LIMITS_DEFAULT;

        assert_int_equal(mp_parse_lim(&m, b.p, b.len, BND, &lim, NULL),
            CD_MP_BAD);
        assert_string_equal(m.err, "unknown field");
    }
    mp_done(&m);
    cd_buf_free(&b);
}

/* ---- Content-Disposition ---- */

struct disp_case {
    const char *headers;
    enum cd_mp_status st;
    const char *name;           /* on CD_MP_OK */
    const char *filename;       /* NULL: none */
    const char *err;            /* on failure */
};

static void
run_disp_cases(const struct disp_case *cases, size_t n)
{
    struct cd_buf b = { 0 };
    struct mp m = { 0 };
    size_t i;

    for (i = 0; i < n; i++) {
        add_raw(&b, BND, cases[i].headers, "DATA");
        add_close(&b, BND);
        mp_parse_buf(&m, &b);
        if (m.st != cases[i].st)
            fail_msg("case %zu [%s]: status %d (%s), want %d", i,
                cases[i].headers, (int)m.st, m.err, (int)cases[i].st);
        if (m.st == CD_MP_OK) {
            assert_int_equal(m.n, 1);
            assert_part(&m, 0, cases[i].name, cases[i].filename, "DATA", 4);
        } else
            assert_string_equal(m.err, cases[i].err);
        cd_buf_free(&b);
    }
    mp_done(&m);
}

static void
test_cd_multipart_parse_disposition_order_case(void **state)
{
    static const struct disp_case cases[] = {
        { "Content-Disposition: form-data; name=\"key\"; filename=\"a.key\"",
          CD_MP_OK, "key", "a.key", NULL },
        { "Content-Disposition: form-data; filename=\"a.key\"; name=\"key\"",
          CD_MP_OK, "key", "a.key", NULL },
        { "content-disposition: FORM-DATA; NAME=\"key\"; FILENAME=\"A.KEY\"",
          CD_MP_OK, "key", "A.KEY", NULL },
        { "CONTENT-DISPOSITION: Form-Data; Name=\"key\"", CD_MP_OK, "key",
          NULL, NULL },
        { "Content-Disposition:form-data;name=key;filename=a.key",
          CD_MP_OK, "key", "a.key", NULL },
        { "Content-Disposition: \tform-data ;  name = \"key\" ;\tfilename ="
          " \"a.key\"", CD_MP_OK, "key", "a.key", NULL },
        { "Content-Disposition: form-data; size=12; name=\"key\"; "
          "creation-date=\"Wed, 12 Feb 1997 16:29:51 -0500\"",
          CD_MP_OK, "key", NULL, NULL },
        { "Content-Disposition: form-data; names=\"x\"; name=\"key\"",
          CD_MP_OK, "key", NULL, NULL },
        { "Content-Disposition: form-data; xname=\"x\"; name=\"key\"",
          CD_MP_OK, "key", NULL, NULL },
        { "Content-Disposition: form-data; name=\"key\"; "
          "filename*=UTF-8''a.key", CD_MP_OK, "key", NULL, NULL },
        { "Content-Type: application/x-pem-file\r\n"
          "Content-Disposition: form-data; name=\"key\"",
          CD_MP_OK, "key", NULL, NULL },
        { "Content-Disposition: form-data; name=\"key\"\r\n"
          "Content-Transfer-Encoding: binary\r\nX-Other: y",
          CD_MP_OK, "key", NULL, NULL },
        { "Content-Disposition: form-data; name=\"key\"; filename=\"\"",
          CD_MP_OK, "key", "", NULL },
        /* refused */
        { "Content-Disposition: attachment; name=\"key\"", CD_MP_BAD, NULL,
          NULL, "a part is not form-data" },
        { "Content-Disposition: form-datax; name=\"key\"", CD_MP_BAD, NULL,
          NULL, "a part is not form-data" },
        { "Content-Disposition: ", CD_MP_BAD, NULL, NULL,
          "a part is not form-data" },
        { "Content-Disposition: form-data", CD_MP_BAD, NULL, NULL,
          "a part has no field name" },
        { "Content-Disposition: form-data; name=\"\"", CD_MP_BAD, NULL,
          NULL, "a part has no field name" },
        { "Content-Disposition: form-data; name=", CD_MP_BAD, NULL,
          NULL, "a part has no field name" },
        { "Content-Disposition: form-data; name=\"key", CD_MP_BAD, NULL,
          NULL, "a part has no field name" },
        { "Content-Disposition: form-data; name*=UTF-8''key", CD_MP_BAD,
          NULL, NULL, "a part has no field name" },
        { "Content-Disposition: form-data; filename=\"a.key\"", CD_MP_BAD,
          NULL, NULL, "a part has no field name" },
        { "Content-Disposition: form-data; name=\"key\"; filename=\"a.key",
          CD_MP_BAD, NULL, NULL, "a part's file name is not closed" },
        { "Content-Disposition: form-data; name=\"key\"\r\n"
          "Content-Disposition: form-data; name=\"crt\"", CD_MP_BAD, NULL,
          NULL, "a part has two Content-Disposition headers" },
        { "Content-Type: text/plain", CD_MP_BAD, NULL, NULL,
          "a part has no Content-Disposition" },
        { "Content-Disposition : form-data; name=\"key\"", CD_MP_BAD, NULL,
          NULL, "a part has no Content-Disposition" },
        { "X-Content-Disposition: form-data; name=\"key\"", CD_MP_BAD, NULL,
          NULL, "a part has no Content-Disposition" },
    };

    (void)state;
    run_disp_cases(cases, NELEM(cases));
}

/* A NUL byte in a part header. */
static void
test_cd_multipart_parse_header_nul(void **state)
{
    struct cd_buf b = { 0 };
    struct mp m = { 0 };

    (void)state;
    buf_fmt(&b, "--%s\r\nContent-Disposition: form-data; name=\"key\"", BND);
    cd_buf_add(&b, "\0", 1);
    buf_str(&b, "; filename=\"a\"\r\n\r\nKEY\r\n");
    add_close(&b, BND);
    assert_int_equal(mp_parse_buf(&m, &b), CD_MP_BAD);
    assert_string_equal(m.err, "a part header holds a NUL byte");
    cd_buf_free(&b);
    buf_fmt(&b, "--%s\r\nX-A: ", BND);
    cd_buf_add(&b, "\0", 1);
    buf_fmt(&b, "\r\nContent-Disposition: form-data; name=\"key\"\r\n\r\n"
        "KEY\r\n--%s--\r\n", BND);
    assert_int_equal(mp_parse_buf(&m, &b), CD_MP_BAD);
    assert_string_equal(m.err, "a part header holds a NUL byte");
    mp_done(&m);
    cd_buf_free(&b);
}

/* File names with quotes, backslashes, UTF-8: views of the raw bytes. */
static void
test_cd_multipart_parse_filenames(void **state)
{
    static const struct disp_case cases[] = {
        { "Content-Disposition: form-data; name=\"crt\"; "
          "filename=\"C:\\Users\\admin\\good.crt\"",
          CD_MP_OK, "crt", "C:\\Users\\admin\\good.crt", NULL },
        { "Content-Disposition: form-data; name=\"crt\"; "
          "filename=\"Zertifikat \xc3\x84\xc3\x96\xc3\x9c "
          "\xe8\xa8\xbc\xe6\x98\x8e\xe6\x9b\xb8 \xf0\x9f\x94\x92.pem\"",
          CD_MP_OK, "crt", "Zertifikat \xc3\x84\xc3\x96\xc3\x9c "
          "\xe8\xa8\xbc\xe6\x98\x8e\xe6\x9b\xb8 \xf0\x9f\x94\x92.pem", NULL },
        /* browsers send a quote in a file name as %22 */
        { "Content-Disposition: form-data; name=\"crt\"; "
          "filename=\"%22my%22 cert.pem\"",
          CD_MP_OK, "crt", "%22my%22 cert.pem", NULL },
        { "Content-Disposition: form-data; name=\"crt\"; "
          "filename=\"a;b=c d.pem\"", CD_MP_OK, "crt", "a;b=c d.pem", NULL },
        { "Content-Disposition: form-data; name=\"crt\"; "
          "filename=\"'single' (1).pem\"",
          CD_MP_OK, "crt", "'single' (1).pem", NULL },
        /*
         * a backslash-escaped quote (RFC 2616 quoted-pair, curl
         * --form-escape): no unescaping in a zero-copy parser; the view
         * ends at the first quote, the name is still right
         */
        { "Content-Disposition: form-data; name=\"crt\"; "
          "filename=\"a\\\"b.pem\"", CD_MP_OK, "crt", "a\\", NULL },
        { "Content-Disposition: form-data; name=\"crt\"; "
          "filename=\"trailing\\\\\"", CD_MP_OK, "crt", "trailing\\\\",
          NULL },
    };

    (void)state;
    run_disp_cases(cases, NELEM(cases));
}

/* ---- empty and absent parts ---- */

/*
 * An empty file part is present with length 0 and a non-NULL data view
 * (the engine reports it "unreadable"); an absent one is not found
 * (reported "missing").  Checked through the engine the way fcgi/api.c
 * builds its cv_input.
 */
static void
test_cd_multipart_parse_empty_vs_absent(void **state)
{
    struct cv_config cfg = { .no_default_ca = 1 };
    struct cv_options opt;
    struct cv_input in;
    struct cv_report *rep;
    struct cv_ctx *ctx;
    const struct cd_part *key, *crt, *chain;
    struct cd_buf b = { 0 };
    struct mp m = { 0 };
    char *err = NULL;
    size_t i;
    int seen_key = 0, seen_crt = 0, seen_chain = 0;

    (void)state;
    add_text(&b, BND, "name", "n");
    add_part(&b, BND, "key", "empty.key", "", 0);
    add_part(&b, BND, "chain", "", "", 0);
    add_close(&b, BND);
    assert_int_equal(mp_parse_buf(&m, &b), CD_MP_OK);
    assert_int_equal(m.n, 3);
    key = cd_multipart_get(m.parts, m.n, "key");
    crt = cd_multipart_get(m.parts, m.n, "crt");
    chain = cd_multipart_get(m.parts, m.n, "chain");
    assert_non_null(key);
    assert_non_null(key->data);
    assert_int_equal(key->len, 0);
    assert_part(&m, 1, "key", "empty.key", "", 0);
    assert_part(&m, 2, "chain", "", "", 0);
    assert_null(crt);
    assert_non_null(chain);
    assert_non_null(chain->data);

    ctx = cv_ctx_new(&cfg, &err);
    assert_non_null(ctx);
    memset(&in, 0, sizeof(in));
    in.key = key->data;
    in.key_len = key->len;
    in.chain = chain->data;
    in.chain_len = chain->len;
    memset(&opt, 0, sizeof(opt));
    opt.at = 1767225600;
    opt.use_crl = 0;
    rep = cv_validate(ctx, &in, &opt);
    assert_non_null(rep);
    assert_false(cv_report_ok(rep));
    for (i = 0; i < rep->n_findings; i++) {
        const struct cv_finding *f = &rep->findings[i];

        if (f->code == CV_UNREADABLE_KEY && strcmp(f->field, "key") == 0)
            seen_key = 1;
        if (f->code == CV_MISSING_FIELD && strcmp(f->field, "crt") == 0)
            seen_crt = 1;
        if (f->code == CV_UNREADABLE_CHAIN &&
            strcmp(f->field, "chain") == 0)
            seen_chain = 1;
        assert_false(f->code == CV_MISSING_FIELD &&
            strcmp(f->field, "key") == 0);
    }
    assert_true(seen_key);
    assert_true(seen_crt);
    assert_true(seen_chain);
    cv_report_free(rep);
    cv_ctx_free(ctx);
    mp_done(&m);
    cd_buf_free(&b);
}

/* ---- regressions: bugs these tests found in fcgi/multipart.c ---- */

/*
 * disp_param() looks for ";name=" anywhere in the header, also inside a
 * quoted string: a file name holding ";name=key;" before the real name
 * parameter renames the part (here a crt becomes the key).
 */
static void
test_cd_multipart_parse_quoted_semicolon_name(void **state)
{
    static const struct disp_case cases[] = {
        { "Content-Disposition: form-data; filename=\"x;name=key;\"; "
          "name=\"crt\"", CD_MP_OK, "crt", "x;name=key;", NULL },
        { "Content-Disposition: form-data; filename=\"x; name=key \"; "
          "name=\"crt\"", CD_MP_OK, "crt", "x; name=key ", NULL },
    };

    (void)state;
    run_disp_cases(cases, NELEM(cases));
}

/*
 * The opening "--B" is matched as a prefix at the body's start: a
 * preamble line "--Bxyz" (not a delimiter by RFC 2046: the boundary must
 * be followed by padding and CRLF) makes the body malformed instead of
 * being skipped like the same line anywhere else in a preamble.
 */
static void
test_cd_multipart_parse_preamble_longer_boundary_first(void **state)
{
    struct cd_buf b = { 0 };
    struct mp m = { 0 };

    (void)state;
    buf_str(&b, "--" BND "xyz\r\n");
    add_text(&b, BND, "name", "n");
    add_close(&b, BND);
    assert_int_equal(mp_parse_buf(&m, &b), CD_MP_OK);
    assert_int_equal(m.n, 1);
    assert_part_text(&m, 0, "name", "n");
    mp_done(&m);
    cd_buf_free(&b);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cd_multipart_parse_all_fields),
        cmocka_unit_test(test_cd_multipart_parse_self_signed_confirm),
        cmocka_unit_test(test_cd_multipart_parse_curl_layout),
        cmocka_unit_test(test_cd_multipart_boundary_cases),
        cmocka_unit_test(test_cd_multipart_boundary_outlen),
        cmocka_unit_test(test_cd_multipart_parse_every_truncation),
        cmocka_unit_test(test_cd_multipart_parse_every_truncation_preamble),
        cmocka_unit_test(test_cd_multipart_parse_delimiter_corruption),
        cmocka_unit_test(test_cd_multipart_parse_header_100k),
        cmocka_unit_test(test_cd_multipart_parse_header_limit_exact),
        cmocka_unit_test(test_cd_multipart_parse_10000_parts),
        cmocka_unit_test(test_cd_multipart_parse_file_limit),
        cmocka_unit_test(test_cd_multipart_parse_total_above_limit),
        cmocka_unit_test(test_cd_multipart_parse_boundary_in_content),
        cmocka_unit_test(test_cd_multipart_parse_close_inside_content),
        cmocka_unit_test(test_cd_multipart_parse_preamble_epilogue),
        cmocka_unit_test(test_cd_multipart_parse_padding_and_final_crlf),
        cmocka_unit_test(test_cd_multipart_parse_lf_only),
        cmocka_unit_test(test_cd_multipart_parse_bad_arguments),
        cmocka_unit_test(test_cd_multipart_parse_duplicate_unknown),
        cmocka_unit_test(test_cd_multipart_parse_disposition_order_case),
        cmocka_unit_test(test_cd_multipart_parse_header_nul),
        cmocka_unit_test(test_cd_multipart_parse_filenames),
        cmocka_unit_test(test_cd_multipart_parse_empty_vs_absent),
        /* known bugs */
        cmocka_unit_test(test_cd_multipart_parse_quoted_semicolon_name),
        cmocka_unit_test(test_cd_multipart_parse_preamble_longer_boundary_first),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
