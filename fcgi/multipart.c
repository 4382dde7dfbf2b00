/*
 * multipart.c - a bounded, zero-copy multipart/form-data parser.
 *
 * The body is never copied or changed; every bounds check is written as
 * "remaining < need" so that it cannot overflow (sshbuf style).
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "multipart.h"

static int
is_bchar(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
        (c >= 'A' && c <= 'Z') || (c != '\0' && strchr("'()+_,-./:=? ", c) != NULL);
}

static const char *
skip_ws(const char *p)
{
    while (*p == ' ' || *p == '\t')
        p++;
    return p;
}

enum cd_mp_status
cd_multipart_boundary(const char *ct, char *out, size_t outlen)
{
    static const char type[] = "multipart/form-data";
    const char *p, *name, *val;
    size_t nlen, vlen;
    int quoted;

    if (outlen > 0)
        out[0] = '\0';
    if (ct == NULL)
        return CD_MP_NOT_MULTIPART;
    p = skip_ws(ct);
    if (strncasecmp(p, type, sizeof(type) - 1) != 0)
        return CD_MP_NOT_MULTIPART;
    p += sizeof(type) - 1;
    if (*p != '\0' && *p != ';' && *p != ' ' && *p != '\t')
        return CD_MP_NOT_MULTIPART;
    for (;;) {
        p = skip_ws(p);
        if (*p == '\0')
            return CD_MP_BAD;   /* no boundary */
        if (*p != ';')
            return CD_MP_BAD;
        p = skip_ws(p + 1);
        name = p;
        while (*p != '\0' && *p != '=' && *p != ';' && *p != ' ')
            p++;
        nlen = (size_t)(p - name);
        p = skip_ws(p);
        if (*p != '=')
            return CD_MP_BAD;
        p = skip_ws(p + 1);
        if ((quoted = *p == '"'))
            p++;
        val = p;
        if (quoted)
            while (*p != '\0' && *p != '"')
                p++;
        else
            while (*p != '\0' && *p != ';' && *p != ' ' && *p != '\t')
                p++;
        vlen = (size_t)(p - val);
        if (quoted) {
            if (*p != '"')
                return CD_MP_BAD;
            p++;
        }
        if (nlen != 8 || strncasecmp(name, "boundary", 8) != 0)
            continue;
        if (vlen < 1 || vlen > CD_BOUNDARY_MAX || vlen >= outlen ||
            val[vlen - 1] == ' ')
            return CD_MP_BAD;
        for (nlen = 0; nlen < vlen; nlen++)
            if (!is_bchar(val[nlen]) || (!quoted && val[nlen] == ' '))
                return CD_MP_BAD;
        memcpy(out, val, vlen);
        out[vlen] = '\0';
        return CD_MP_OK;
    }
}

static enum cd_mp_status
fail(char *err, size_t errlen, enum cd_mp_status st, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static enum cd_mp_status
fail(char *err, size_t errlen, enum cd_mp_status st, const char *fmt, ...)
{
    va_list ap;

    if (errlen > 0) {
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return st;
}

/*
 * A Content-Disposition parameter's value within [p, end), which holds the
 * parameters after "form-data": a list of ";" name "=" (token or quoted
 * string).  Quoted strings are skipped whole, so a file name holding
 * ";name=" is not taken for a parameter.  Returns 1 and sets *v and *vlen
 * (a quoted value without its quotes) when name is found,
 * 0 when it is not, -1 when the list is malformed.
 */
static int
disp_param(const char *p, const char *end, const char *name,
    const char **v, size_t *vlen)
{
    size_t nl = strlen(name);
    const char *q = p, *pn, *pv;
    size_t pnl, pvl;

    for (;;) {
        while (q < end && (*q == ' ' || *q == '\t'))
            q++;
        if (q == end)
            return 0;
        if (*q++ != ';')
            return -1;
        while (q < end && (*q == ' ' || *q == '\t'))
            q++;
        for (pn = q; q < end && *q != '=' && *q != ';' && *q != ' ' &&
            *q != '\t' && *q != '"'; q++)
            ;
        pnl = (size_t)(q - pn);
        while (q < end && (*q == ' ' || *q == '\t'))
            q++;
        if (pnl == 0 || q == end || *q++ != '=')
            return -1;
        while (q < end && (*q == ' ' || *q == '\t'))
            q++;
        if (q < end && *q == '"') {
            /*
             * Browsers write '"' in a name as %22 and leave '\\' alone
             * (WHATWG HTML form encoding): no escapes here.
             */
            for (pv = ++q; q < end && *q != '"'; q++)
                ;
            if (q == end)
                return -1;          /* not closed */
            pvl = (size_t)(q++ - pv);
        } else {
            for (pv = q; q < end && *q != ';' && *q != ' ' && *q != '\t' &&
                *q != '"'; q++)
                ;
            pvl = (size_t)(q - pv);
        }
        if (pnl == nl && strncasecmp(pn, name, nl) == 0) {
            *v = pv;
            *vlen = pvl;
            return 1;
        }
    }
}

/* Parses one part's header block [h, h + hlen) into part; -1 if bad. */
static int
part_headers(const char *h, size_t hlen, struct cd_part *part,
    char *err, size_t errlen)
{
    static const char cd[] = "content-disposition:";
    const char *line = h, *end = h + hlen, *eol, *v, *e;
    int have = 0, r;

    while (line < end) {
        eol = memmem(line, (size_t)(end - line), "\r\n", 2);
        if (eol == NULL)
            eol = end;
        if (memchr(line, '\0', (size_t)(eol - line)) != NULL) {
            fail(err, errlen, CD_MP_BAD, "a part header holds a NUL byte");
            return -1;
        }
        if ((size_t)(eol - line) >= sizeof(cd) - 1 &&
            strncasecmp(line, cd, sizeof(cd) - 1) == 0) {
            if (have) {
                fail(err, errlen, CD_MP_BAD, "a part has two "
                    "Content-Disposition headers");
                return -1;
            }
            have = 1;
            v = line + sizeof(cd) - 1;
            while (v < eol && (*v == ' ' || *v == '\t'))
                v++;
            if ((size_t)(eol - v) < 9 || strncasecmp(v, "form-data", 9) != 0 ||
                (v + 9 < eol && v[9] != ';' && v[9] != ' ')) {
                fail(err, errlen, CD_MP_BAD, "a part is not form-data");
                return -1;
            }
            e = eol;
            if ((r = disp_param(v + 9, e, "name", &part->name,
                &part->name_len)) != 1 || part->name_len == 0) {
                fail(err, errlen, CD_MP_BAD, "a part has no field name");
                return -1;
            }
            part->filename = NULL;
            part->filename_len = 0;
            if (disp_param(v + 9, e, "filename", &part->filename,
                &part->filename_len) < 0) {
                fail(err, errlen, CD_MP_BAD, "a part's file name is not "
                    "closed");
                return -1;
            }
        }
        line = eol + 2;
    }
    if (!have) {
        fail(err, errlen, CD_MP_BAD, "a part has no Content-Disposition");
        return -1;
    }
    return 0;
}

/* The number of blanks (space, tab) at the start of [p, p + len). */
static size_t
strspn_ws(const uint8_t *p, size_t len)
{
    size_t i;

    for (i = 0; i < len && (p[i] == ' ' || p[i] == '\t'); i++)
        ;
    return i;
}

/*
 * Finds the next delimiter line ("\r\n--" boundary followed by "--" or by
 * optional white space and CRLF) at or after from.  Returns its offset (of
 * the CR) or len when there is none.  *closing says whether it is the last.
 */
static size_t
next_delim(const uint8_t *body, size_t len, size_t from, const char *dl,
    size_t dlen, int *closing)
{
    const uint8_t *p;
    size_t at, o;

    while (from < len && len - from >= dlen) {
        p = memmem(body + from, len - from, dl, dlen);
        if (p == NULL)
            return len;
        at = (size_t)(p - body);
        o = at + dlen;
        if (len - o >= 2 && body[o] == '-' && body[o + 1] == '-') {
            *closing = 1;
            return at;
        }
        while (o < len && (body[o] == ' ' || body[o] == '\t'))
            o++;
        if (len - o >= 2 && body[o] == '\r' && body[o + 1] == '\n') {
            *closing = 0;
            return at;
        }
        from = at + 1;          /* "--boundaryX" inside data: not ours */
    }
    return len;
}

enum cd_mp_status
cd_multipart_parse(const uint8_t *body, size_t len, const char *boundary,
    const struct cd_multipart_limits *lim, const char *const *allowed,
    struct cd_part *parts, size_t *n_parts, char *err, size_t errlen)
{
    char dl[4 + CD_BOUNDARY_MAX + 1];
    size_t blen, dlen, pos, o, w, hend, dend, i, n = 0;
    const uint8_t *h;
    struct cd_part part;
    int closing = 0, known;

    *n_parts = 0;
    if (errlen > 0)
        err[0] = '\0';
    if (boundary == NULL || (blen = strlen(boundary)) == 0 ||
        blen > CD_BOUNDARY_MAX)
        return fail(err, errlen, CD_MP_BAD, "bad boundary");
    if (body == NULL)
        return fail(err, errlen, CD_MP_BAD, "no body");
    dl[0] = '\r';
    dl[1] = '\n';
    dl[2] = '-';
    dl[3] = '-';
    memcpy(dl + 4, boundary, blen);
    dlen = blen + 4;

    /*
     * The first delimiter may open the body without the leading CRLF; a
     * line that only starts like it, with more boundary characters after
     * ("--boundaryX"), is preamble (RFC 2046).
     */
    o = dlen - 2;
    w = o;
    if (len >= o && memcmp(body, dl + 2, o) == 0)
        w += strspn_ws(body + o, len - o);
    closing = len >= o + 2 && body[o] == '-' && body[o + 1] == '-';
    if (len >= o && memcmp(body, dl + 2, o) == 0 && (closing || w == len ||
        (len == o + 1 && body[o] == '-') || !is_bchar((char)body[w]))) {
        pos = o;
    } else {
        closing = 0;
        if ((pos = next_delim(body, len, 0, dl, dlen, &closing)) == len)
            return fail(err, errlen, CD_MP_BAD, "no multipart boundary in "
                "the body");
        pos += dlen;
    }
    for (;;) {
        if (closing)
            break;
        /* after the delimiter: optional white space, CRLF */
        while (pos < len && (body[pos] == ' ' || body[pos] == '\t'))
            pos++;
        if (len - pos < 2 || body[pos] != '\r' || body[pos + 1] != '\n')
            return fail(err, errlen, CD_MP_BAD, "the body ends before the "
                "closing boundary");
        pos += 2;
        if (n == lim->max_parts)
            return fail(err, errlen, CD_MP_TOO_LARGE, "more than %zu parts",
                lim->max_parts);
        /* the header block, up to an empty line */
        h = body + pos;
        if (len - pos >= 2 && h[0] == '\r' && h[1] == '\n')
            hend = pos;         /* no header at all */
        else {
            size_t look = len - pos < lim->max_header + 4 ? len - pos :
                lim->max_header + 4;
            const uint8_t *e = memmem(h, look, "\r\n\r\n", 4);

            if (e == NULL)
                return look < len - pos ?
                    fail(err, errlen, CD_MP_TOO_LARGE, "a part's headers "
                    "are longer than %zu bytes", lim->max_header) :
                    fail(err, errlen, CD_MP_BAD, "the body ends inside a "
                    "part's headers");
            hend = (size_t)(e - body) + 2;
            if (hend - pos > lim->max_header)
                return fail(err, errlen, CD_MP_TOO_LARGE, "a part's "
                    "headers are longer than %zu bytes", lim->max_header);
        }
        memset(&part, 0, sizeof(part));
        if (part_headers((const char *)h, hend - pos, &part, err,
            errlen) != 0)
            return CD_MP_BAD;
        pos = hend + 2;
        dend = next_delim(body, len, pos, dl, dlen, &closing);
        if (dend == len)
            return fail(err, errlen, CD_MP_BAD, "the body ends before the "
                "closing boundary");
        part.data = body + pos;
        part.len = dend - pos;
        for (known = 0, i = 0; allowed != NULL && allowed[i] != NULL; i++)
            if (strlen(allowed[i]) == part.name_len &&
                memcmp(allowed[i], part.name, part.name_len) == 0)
                known = 1;
        if (!known)
            return fail(err, errlen, CD_MP_BAD, "unknown field");
        for (i = 0; i < n; i++)
            if (parts[i].name_len == part.name_len &&
                memcmp(parts[i].name, part.name, part.name_len) == 0)
                return fail(err, errlen, CD_MP_BAD, "duplicate field: %.*s",
                    (int)part.name_len, part.name);   /* a known name */
        if (part.len > lim->max_file)
            return fail(err, errlen, CD_MP_TOO_LARGE, "field %.*s is larger "
                "than %zu bytes", (int)part.name_len, part.name,
                lim->max_file);
        parts[n++] = part;
        pos = dend + dlen;
    }
    *n_parts = n;
    return CD_MP_OK;
}

const struct cd_part *
cd_multipart_get(const struct cd_part *parts, size_t n, const char *name)
{
    size_t i, nl = strlen(name);

    for (i = 0; i < n; i++)
        if (parts[i].name_len == nl && memcmp(parts[i].name, name, nl) == 0)
            return &parts[i];
    return NULL;
}
