/*
 * test_api_doc.c - docs/API.md's table of codes against the two tables
 * that hold the real ones: validate/cv_codes.def (the engine's findings,
 * every one answered with 422) and fcgi/errors.def (the service's own
 * codes, each with its HTTP status).  A curl user relies on the document;
 * a message or a status changed in a .def file without the document, or
 * the other way round, fails here.
 *
 * Neither table is linked in: both are included below as X-macros, so
 * this test does not depend on libcv or on the service being built.
 * The document is $CD_TOP_SRCDIR/docs/API.md (make check exports it).
 *
 * nginx answers a few refusals itself (401, 413) with JSON written into
 * its site template: those copies are checked against fcgi/errors.def
 * too, so a message still has one source.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

#ifndef CD_SRCDIR
#define CD_SRCDIR "."
#endif

/* The heading of the section and the header row its table must have. */
#define CODES_HEADING   "## Codes"
#define CODES_HEADER    "| code | status | field | message |"
#define API_DOC_MAX     (1u << 20)
#define MAX_ROWS        256

struct code {
    const char *name;
    int status;
    const char *message;
};

/* The kind column is not needed: every engine finding is a 422. */
static const struct code engine[] = {
#define CV_CODE(id, name, kind, msg) { name, 422, msg },
#include "cv_codes.def"
#undef CV_CODE
};

static const struct code service[] = {
#define CD_ERR(id, name, status, msg) { name, status, msg },
#include "errors.def"
#undef CD_ERR
};

/* One row of the document's table; the strings point into the text. */
struct row {
    const char *name;
    size_t name_len;
    int status;
    const char *message;
    size_t message_len;
    int line;
};

struct doc {
    char *text;
    struct row rows[MAX_ROWS];
    size_t n_rows;
    /* what every code must be: both tables, as the service answers */
    struct code expect[NELEM(engine) + NELEM(service)];
    size_t n_expect;
};

/* ---- the expected codes ---- */

static int
in_table(const struct code *t, size_t n, const char *name)
{
    size_t i;

    for (i = 0; i < n; i++)
        if (strcmp(t[i].name, name) == 0)
            return 1;
    return 0;
}

/*
 * The service's codes, then the engine's.  While cv_codes.def still holds
 * its old request-level rows (bad_request, too_large, ...), the service
 * answers them with errors.def's status and message, so a name found in
 * both is taken from errors.def only.
 */
static void
expect_fill(struct doc *d)
{
    size_t i;

    d->n_expect = 0;
    for (i = 0; i < NELEM(service); i++)
        d->expect[d->n_expect++] = service[i];
    for (i = 0; i < NELEM(engine); i++)
        if (!in_table(service, NELEM(service), engine[i].name))
            d->expect[d->n_expect++] = engine[i];
}

/* ---- reading docs/API.md ---- */

/* The whole file at path as a NUL-terminated string, or NULL. */
static char *
slurp(const char *path)
{
    FILE *f;
    char *buf;
    size_t n;

    if ((f = fopen(path, "rb")) == NULL)
        return NULL;
    if ((buf = malloc(API_DOC_MAX + 1)) == NULL) {
        fclose(f);
        return NULL;
    }
    n = fread(buf, 1, API_DOC_MAX + 1, f);
    fclose(f);
    if (n > API_DOC_MAX) {      /* not a document any more: refuse */
        free(buf);
        return NULL;
    }
    buf[n] = '\0';
    return buf;
}

/* The line at p (without its '\n') as p..*endp; the next line's start. */
static const char *
line_of(const char *p, const char **endp)
{
    const char *nl = strchr(p, '\n');

    *endp = nl != NULL ? nl : p + strlen(p);
    if (*endp > p && (*endp)[-1] == '\r')
        (*endp)--;
    return nl != NULL ? nl + 1 : *endp;
}

static int
line_is(const char *p, const char *end, const char *s)
{
    size_t n = strlen(s);

    return (size_t)(end - p) == n && memcmp(p, s, n) == 0;
}

/* p..end without the spaces around it. */
static void
trim(const char **p, const char **end)
{
    while (*p < *end && (**p == ' ' || **p == '\t'))
        (*p)++;
    while (*end > *p && ((*end)[-1] == ' ' || (*end)[-1] == '\t'))
        (*end)--;
}

/*
 * Splits a table row into its cells.  A '|' inside a code span belongs to
 * the text (a message may one day hold one), so the split skips them.
 * Returns the number of cells, at most max, or -1 when the line is not a
 * row ("| a | b |").
 */
static int
cells_of(const char *p, const char *end, const char **cs, const char **ce,
    int max)
{
    const char *start;
    int n = 0, in_code = 0;

    trim(&p, &end);
    if (end - p < 2 || p[0] != '|' || end[-1] != '|')
        return -1;
    start = ++p;
    for (; p < end; p++) {
        if (*p == '`')
            in_code = !in_code;
        else if (*p == '|' && !in_code) {
            if (n == max)
                return -1;
            cs[n] = start;
            ce[n] = p;
            trim(&cs[n], &ce[n]);
            n++;
            start = p + 1;
        }
    }
    return in_code ? -1 : n;
}

/* The text of a `code span` cell, without its backticks; -1 if not one. */
static int
unquote(const char **p, const char **end)
{
    if (*end - *p < 2 || (*p)[0] != '`' || (*end)[-1] != '`')
        return -1;
    (*p)++;
    (*end)--;
    return memchr(*p, '`', (size_t)(*end - *p)) == NULL ? 0 : -1;
}

/* A three-digit HTTP status; -1 when the cell is anything else. */
static int
status_of(const char *p, const char *end)
{
    int v = 0;

    if (end - p != 3)
        return -1;
    for (; p < end; p++) {
        if (*p < '0' || *p > '9')
            return -1;
        v = v * 10 + (*p - '0');
    }
    return v >= 100 && v <= 599 ? v : -1;
}

/*
 * Finds the table that follows CODES_HEADING and fills d->rows.  Returns
 * 0, or -1 after saying on stderr which line is wrong.
 */
static int
parse_codes(struct doc *d)
{
    const char *p = d->text, *end, *next, *cs[4], *ce[4];
    int line = 0, state = 0;        /* 0 heading, 1 header, 2 rule, 3 rows */
    struct row *r;

    d->n_rows = 0;
    for (; *p != '\0'; p = next) {
        next = line_of(p, &end);
        line++;
        switch (state) {
        case 0:
            if (line_is(p, end, CODES_HEADING))
                state = 1;
            continue;
        case 1:
            if (p == end || p[0] != '|')
                continue;       /* the prose before the table */
            if (!line_is(p, end, CODES_HEADER)) {
                print_error("API.md:%d: the Codes table must start with "
                    "\"%s\"\n", line, CODES_HEADER);
                return -1;
            }
            state = 2;
            continue;
        case 2:
            if (cells_of(p, end, cs, ce, 4) != 4 || *cs[0] != '-') {
                print_error("API.md:%d: no |---| rule under the header\n",
                    line);
                return -1;
            }
            state = 3;
            continue;
        }
        if (p == end || p[0] != '|')
            break;              /* the table ends at its first other line */
        if (d->n_rows == MAX_ROWS) {
            print_error("API.md:%d: more than %d rows\n", line, MAX_ROWS);
            return -1;
        }
        r = &d->rows[d->n_rows];
        r->line = line;
        if (cells_of(p, end, cs, ce, 4) != 4 ||
            unquote(&cs[0], &ce[0]) != 0 || cs[0] == ce[0] ||
            (r->status = status_of(cs[1], ce[1])) < 0 ||
            unquote(&cs[3], &ce[3]) != 0) {
            print_error("API.md:%d: not | `code` | status | field | "
                "`message` |: %.*s\n", line, (int)(end - p), p);
            return -1;
        }
        r->name = cs[0];
        r->name_len = (size_t)(ce[0] - cs[0]);
        r->message = cs[3];
        r->message_len = (size_t)(ce[3] - cs[3]);
        d->n_rows++;
    }
    if (state != 3) {
        print_error("API.md: no \"%s\" section with a \"%s\" table\n",
            CODES_HEADING, CODES_HEADER);
        return -1;
    }
    return 0;
}

static int
row_is(const struct row *r, const char *name)
{
    return r->name_len == strlen(name) &&
        memcmp(r->name, name, r->name_len) == 0;
}

/* ---- fixture ---- */

static int
setup(void **state)
{
    const char *top = getenv("CD_TOP_SRCDIR");
    char path[4096];
    struct doc *d;
    int n;

    if ((d = calloc(1, sizeof(*d))) == NULL)
        return -1;
    *state = d;
    expect_fill(d);
    if (top == NULL || top[0] == '\0')
        top = CD_SRCDIR;
    n = snprintf(path, sizeof(path), "%s/docs/API.md", top);
    if (n < 0 || (size_t)n >= sizeof(path))
        return -1;
    if ((d->text = slurp(path)) == NULL) {
        print_error("cannot read %s\n", path);
        return -1;
    }
    return parse_codes(d);
}

static int
teardown(void **state)
{
    struct doc *d = *state;

    if (d != NULL)
        free(d->text);
    free(d);
    return 0;
}

/* ---- the checks ---- */

/* An empty table would make every other check pass. */
static void
test_table_not_empty(void **state)
{
    struct doc *d = *state;

    assert_true(NELEM(engine) > 0);
    assert_true(NELEM(service) > 0);
    assert_true(d->n_expect > 0);
    assert_true(d->n_rows > 0);
    assert_int_equal(d->n_rows, d->n_expect);
}

static void
test_every_code_has_one_row(void **state)
{
    struct doc *d = *state;
    size_t i, j, bad = 0;
    int seen;

    for (i = 0; i < d->n_expect; i++) {
        for (seen = 0, j = 0; j < d->n_rows; j++)
            seen += row_is(&d->rows[j], d->expect[i].name);
        if (seen != 1) {
            print_error("%s: %d rows in docs/API.md, not 1\n",
                d->expect[i].name, seen);
            bad++;
        }
    }
    assert_int_equal(bad, 0);
}

static void
test_every_row_is_a_code(void **state)
{
    struct doc *d = *state;
    size_t i, j, bad = 0;
    int found;

    for (i = 0; i < d->n_rows; i++) {
        for (found = 0, j = 0; j < d->n_expect && !found; j++)
            found = row_is(&d->rows[i], d->expect[j].name);
        if (!found) {
            print_error("API.md:%d: %.*s is in no .def file\n",
                d->rows[i].line, (int)d->rows[i].name_len, d->rows[i].name);
            bad++;
        }
    }
    assert_int_equal(bad, 0);
}

static void
test_status_and_message_match(void **state)
{
    struct doc *d = *state;
    const struct code *c;
    const struct row *r;
    size_t i, j, bad = 0;

    for (i = 0; i < d->n_rows; i++) {
        r = &d->rows[i];
        for (c = NULL, j = 0; j < d->n_expect && c == NULL; j++)
            if (row_is(r, d->expect[j].name))
                c = &d->expect[j];
        if (c == NULL)
            continue;           /* test_every_row_is_a_code says so */
        if (r->status != c->status) {
            print_error("API.md:%d: %s: the document says %d, the .def "
                "%d\n", r->line, c->name, r->status, c->status);
            bad++;
        }
        if (r->message_len != strlen(c->message) ||
            memcmp(r->message, c->message, r->message_len) != 0) {
            print_error("API.md:%d: %s says\n  \"%.*s\"\nbut the .def has\n"
                "  \"%s\"\n", r->line, c->name, (int)r->message_len,
                r->message, c->message);
            bad++;
        }
    }
    assert_int_equal(bad, 0);
}

/*
 * Every '"code": "X", "message": "Y"' in the nginx template at rel (from
 * the source top) must be a service code with that message, answered with
 * the status of the "return NNN" on its line.  Returns the number of such
 * answers seen; counts disagreements in *bad.
 */
static size_t
check_nginx(const char *rel, size_t *bad)
{
    static const char ck[] = "\"code\": \"", mk[] = "\"message\": \"";
    const char *top = getenv("CD_TOP_SRCDIR"), *p, *e, *code, *msg, *ret;
    char path[4096], name[64];
    const struct code *c;
    size_t seen = 0, i, cl, ml;
    char *text;
    int n, st;

    if (top == NULL || top[0] == '\0')
        top = CD_SRCDIR;
    n = snprintf(path, sizeof(path), "%s/%s", top, rel);
    assert_true(n > 0 && (size_t)n < sizeof(path));
    if ((text = slurp(path)) == NULL)
        fail_msg("cannot read %s", path);
    for (p = text; (code = strstr(p, ck)) != NULL; p = e) {
        code += sizeof(ck) - 1;
        if ((e = strchr(code, '"')) == NULL)
            break;
        cl = (size_t)(e - code);
        if ((msg = strstr(e, mk)) == NULL)
            break;
        msg += sizeof(mk) - 1;
        if ((e = strchr(msg, '"')) == NULL)
            break;
        ml = (size_t)(e - msg);
        /* the status: "return NNN" earlier on the same line */
        for (ret = code; ret > text && ret[-1] != '\n'; ret--)
            ;
        ret = strstr(ret, "return ");
        st = ret != NULL && ret < code ? status_of(ret + 7, ret + 10) : -1;
        seen++;
        snprintf(name, sizeof(name), "%.*s", (int)(cl < 63 ? cl : 63), code);
        for (c = NULL, i = 0; i < NELEM(service) && c == NULL; i++)
            if (strcmp(service[i].name, name) == 0)
                c = &service[i];
        if (c == NULL || c->status != st || strlen(c->message) != ml ||
            memcmp(c->message, msg, ml) != 0) {
            print_error("%s: %s (%d) \"%.*s\" is not fcgi/errors.def's\n",
                rel, name, st, (int)ml, msg);
            (*bad)++;
        }
    }
    free(text);
    return seen;
}

static void
test_nginx_answers_match(void **state)
{
    size_t bad = 0;

    (void)state;
    /* the site answers 401 and 413 itself (the instance includes it) */
    assert_true(check_nginx("nginx/certdialog-site.conf.in", &bad) >= 2);
    assert_int_equal(bad, 0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table_not_empty),
        cmocka_unit_test(test_every_code_has_one_row),
        cmocka_unit_test(test_every_row_is_a_code),
        cmocka_unit_test(test_status_and_message_match),
        cmocka_unit_test(test_nginx_answers_match),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
