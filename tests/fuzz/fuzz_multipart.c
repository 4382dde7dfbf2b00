/*
 * fuzz_multipart.c - libFuzzer harness for fcgi/multipart.c.
 *
 * Each input is parsed twice:
 *  1. as a whole body with the fixed boundary FIXED_BOUNDARY, with the
 *     default limits and with small ones;
 *  2. its first line (up to LF) is a Content-Type value (prefixed with
 *     "multipart/form-data; boundary=" unless it starts with "multipart"),
 *     given to cd_multipart_boundary(); on success the rest of the input
 *     is parsed with that boundary.
 * Besides ASan/UBSan, the result is checked: every view lies inside the
 * body, parts are in order and disjoint, names are allowed and unique,
 * limits hold, and no part's data holds a real delimiter.
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cv_util.h"
#include "multipart.h"
#include "fuzz_common.h"

#define FIXED_BOUNDARY "cdFuzzBoundary"

static const char *const fields[] = {
    "mode", "name", "passphrase", "key", "crt", "chain", "use_crl",
    "validation", "confirm", NULL
};

static int
in_body(const void *p, size_t len, const uint8_t *body, size_t blen)
{
    const uint8_t *q = p;

    return q >= body && q <= body + blen && len <= (size_t)(body + blen - q);
}

/* A real delimiter starts at body[at] (it is "\r\n--" boundary). */
static int
is_delim(const uint8_t *body, size_t len, size_t at, size_t dlen)
{
    size_t o = at + dlen;

    if (len - o >= 2 && body[o] == '-' && body[o + 1] == '-')
        return 1;
    while (o < len && (body[o] == ' ' || body[o] == '\t'))
        o++;
    return len - o >= 2 && body[o] == '\r' && body[o + 1] == '\n';
}

static void
check(const uint8_t *body, size_t len, const char *bnd,
    const struct cd_multipart_limits *lim)
{
    struct cd_part parts[CD_MULTIPART_MAX_PARTS];
    char err[160], dl[4 + CD_BOUNDARY_MAX + 1];
    size_t n = 12345, i, j, dlen;
    const uint8_t *prev_end = body;
    enum cd_mp_status st;

    FUZZ_CHECK(lim->max_parts <= CD_MULTIPART_MAX_PARTS);
    memset(err, 'Z', sizeof(err));
    st = cd_multipart_parse(body, len, bnd, lim, fields, parts, &n, err,
        sizeof(err));
    FUZZ_CHECK(memchr(err, '\0', sizeof(err)) != NULL);
    if (st != CD_MP_OK) {
        FUZZ_CHECK(st == CD_MP_BAD || st == CD_MP_TOO_LARGE);
        FUZZ_CHECK(n == 0);
        FUZZ_CHECK(err[0] != '\0');
        return;
    }
    FUZZ_CHECK(err[0] == '\0');
    FUZZ_CHECK(n <= lim->max_parts);
    dlen = strlen(bnd) + 4;
    memcpy(dl, "\r\n--", 4);
    memcpy(dl + 4, bnd, dlen - 4);
    for (i = 0; i < n; i++) {
        const struct cd_part *p = &parts[i];
        const uint8_t *q;
        size_t off;

        FUZZ_CHECK(p->name != NULL && p->name_len > 0);
        FUZZ_CHECK(in_body(p->name, p->name_len, body, len));
        FUZZ_CHECK(p->data != NULL && in_body(p->data, p->len, body, len));
        FUZZ_CHECK(p->filename == NULL ||
            in_body(p->filename, p->filename_len, body, len));
        FUZZ_CHECK(p->filename != NULL || p->filename_len == 0);
        FUZZ_CHECK(p->len <= lim->max_file);
        /* in order, disjoint; the header precedes the data */
        FUZZ_CHECK(p->data >= prev_end);
        FUZZ_CHECK((const uint8_t *)p->name < p->data);
        prev_end = p->data + p->len;
        /* the data is followed by a delimiter */
        off = (size_t)(prev_end - body);
        FUZZ_CHECK(len - off >= dlen && memcmp(prev_end, dl, dlen) == 0);
        FUZZ_CHECK(is_delim(body, len, off, dlen));
        /* and holds none */
        for (q = p->data; (q = memmem(q, (size_t)(prev_end - q), dl,
            dlen)) != NULL; q++)
            FUZZ_CHECK(!is_delim(body, len, (size_t)(q - body), dlen));
        for (j = 0; fields[j] != NULL; j++)
            if (strlen(fields[j]) == p->name_len &&
                memcmp(fields[j], p->name, p->name_len) == 0)
                break;
        FUZZ_CHECK(fields[j] != NULL);
        FUZZ_CHECK(cd_multipart_get(parts, n, fields[j]) == p);
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const struct cd_multipart_limits small = { 4, 64, 128 };
    struct cd_multipart_limits lim = CD_MULTIPART_LIMITS_DEFAULT;
    char ct[256], out[CD_BOUNDARY_MAX + 1];
    const uint8_t *nl;
    size_t line, pre = 0;
    uint64_t v;
    enum cd_mp_status st;

    check(data, size, FIXED_BOUNDARY, &lim);
    check(data, size, FIXED_BOUNDARY, &small);

    nl = memchr(data, '\n', size < 200 ? size : 200);
    if (nl == NULL)
        return 0;
    line = (size_t)(nl - data);
    if (line > 0 && data[line - 1] == '\r')
        line--;
    if (line < 9 || memcmp(data, "multipart", 9) != 0) {
        pre = strlen("multipart/form-data; boundary=");
        memcpy(ct, "multipart/form-data; boundary=", pre);
    }
    memcpy(ct + pre, data, line);
    ct[pre + line] = '\0';
    memset(out, 'Q', sizeof(out));
    st = cd_multipart_boundary(ct, out, sizeof(out));
    if (st == CD_MP_OK) {
        size_t bl = strlen(out);

        FUZZ_CHECK(bl >= 1 && bl <= CD_BOUNDARY_MAX);
        FUZZ_CHECK(out[bl - 1] != ' ');
        /* the rest of the input, in an exact-size copy */
        {
            size_t rl = size - (size_t)(nl + 1 - data);
            uint8_t *rest = malloc(rl > 0 ? rl : 1);

            FUZZ_CHECK(rest != NULL);
            if (rl > 0)
                memcpy(rest, nl + 1, rl);
            check(rest, rl, out, &lim);
            check(rest, rl, out, &small);
            free(rest);
        }
    } else {
        FUZZ_CHECK(st == CD_MP_BAD || st == CD_MP_NOT_MULTIPART);
        FUZZ_CHECK(out[0] == '\0');
    }
    /* the number parser on the same line */
    if (cv_parse_uint((const char *)data, line, UINT64_MAX, &v) == 0)
        FUZZ_CHECK(line >= 1 && line <= 20);
    return 0;
}
