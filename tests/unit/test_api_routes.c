/*
 * test_api_routes.c - cd_api_precheck() (fcgi/api.h) for every route and
 * method: what is refused before the body is read (route, sign-in,
 * administrator, method, origin, content type and length), with the
 * status and code of fcgi/errors.def, and what the front must read.
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

#include "apitest.h"

#define P_CERT          "/api/certificate"
#define P_VALIDATE      "/api/certificate/validate"
#define P_ROLLBACK      "/api/certificate/rollback"
#define P_DOWNLOAD      "/api/certificate/download"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* Every route with a method it takes. */
static const struct {
    const char *path;
    const char *method;
} routes[] = {
    { P_CERT, "GET" },
    { P_CERT, "POST" },
    { P_VALIDATE, "POST" },
    { P_ROLLBACK, "POST" },
    { P_DOWNLOAD, "GET" },
};

/* The routes that change state: those an other site must not reach. */
static const char *const posts[] = { P_CERT, P_VALIDATE, P_ROLLBACK };
static const char *const uploads[] = { P_CERT, P_VALIDATE };

/* A small upload with a valid multipart body: its length is what matters. */
static void
small_body(struct cd_buf *b)
{
    at_field(b, "mode", "ca-signed");
    at_body_end(b);
}

/*
 * rq for method on path, with a body when it is an upload: the request
 * each case below starts from.
 */
static void
request_for(struct cd_request *rq, const char *method, const char *path,
    const struct cd_buf *b, char *lenbuf, size_t lenlen)
{
    if (b != NULL && strcmp(method, "POST") == 0)
        at_request_body(rq, path, b, lenbuf, lenlen);
    else
        at_request(rq, method, path, NULL);
    rq->method = method;
}

/* Runs the precheck alone; resp must be cleared by the caller. */
static int
precheck(struct at_fx *t, const struct cd_request *rq,
    enum cd_body_need *need, size_t *len, struct cd_response *resp)
{
    *need = (enum cd_body_need)-1;
    *len = (size_t)-1;
    return cd_api_precheck(&t->app, rq, need, len, resp);
}

/* The precheck refuses rq with code on field (NULL: none). */
static void
refused(struct at_fx *t, const struct cd_request *rq, const char *code,
    const char *field, const char *what)
{
    struct cd_response resp;
    enum cd_body_need need;
    size_t len;

    if (precheck(t, rq, &need, &len, &resp) != -1)
        fail_msg("%s %s (%s): not refused", rq->method ? rq->method : "-",
            rq->path ? rq->path : "-", what);
    at_assert_error(&resp, code, field);
    cd_api_response_clear(&resp);
}

/* The precheck lets rq on, needing the body (when want_len) or not. */
static void
passed(struct at_fx *t, const struct cd_request *rq, enum cd_body_need want,
    size_t want_len, const char *what)
{
    struct cd_response resp;
    enum cd_body_need need;
    size_t len;
    char *txt;

    if (precheck(t, rq, &need, &len, &resp) != 0) {
        txt = at_text(&resp);
        fail_msg("%s %s (%s): refused: %d %s", rq->method, rq->path, what,
            resp.status, txt);
    }
    if (need != want)
        fail_msg("%s %s (%s): need %d, not %d", rq->method, rq->path, what,
            (int)need, (int)want);
    if (want == CD_BODY_READ && len != want_len)
        fail_msg("%s %s (%s): body_len %zu, not %zu", rq->method, rq->path,
            what, len, want_len);
    cd_api_response_clear(&resp);
}

/* ---- route, user ---- */

static void
test_cd_api_precheck_not_found(void **state)
{
    static const char *const paths[] = {
        "/", "/api", "/api/", "/api/certificates", "/api/certificate/x",
        "/api/certificate/install", "/api/certificate/validate/x",
        "/API/certificate", "/api/certificate.json", "api/certificate",
        "/api/certificate/download.pem", "",
    };
    struct at_fx *t = *state;
    struct cd_request rq;
    size_t i;

    for (i = 0; i < NELEM(paths); i++) {
        at_request(&rq, "GET", paths[i], NULL);
        refused(t, &rq, "not_found", NULL, paths[i]);
        at_request(&rq, "POST", paths[i], NULL);
        refused(t, &rq, "not_found", NULL, paths[i]);
    }
    at_request(&rq, "GET", NULL, NULL);
    refused(t, &rq, "not_found", NULL, "no path");
}

/*
 * No cookie, a cookie that names no session, a bearer that is no token:
 * not signed in, whatever else the request says.
 */
static void
test_cd_api_precheck_not_signed_in(void **state)
{
    static const char *const cookies[] = {
        NULL, "", "cd_session=", "cd_session=abc",
        "cd_session=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "other=1", "xcd_session=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
    };
    static const char *const auths[] = {
        NULL, "", "Bearer", "Bearer ", "Bearer cdt_", "Basic YWRtaW46YWRtaW4=",
        "Bearer cdt_000000000000_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
    };
    struct at_fx *t = *state;
    struct cd_buf b = { 0 };
    struct cd_request rq;
    char len[32];
    size_t i, j;

    small_body(&b);
    for (i = 0; i < NELEM(routes); i++) {
        for (j = 0; j < NELEM(cookies); j++) {
            request_for(&rq, routes[i].method, routes[i].path, &b, len,
                sizeof(len));
            rq.cookie = cookies[j];
            refused(t, &rq, "not_signed_in", NULL, "no session");
        }
        for (j = 0; j < NELEM(auths); j++) {
            request_for(&rq, routes[i].method, routes[i].path, &b, len,
                sizeof(len));
            rq.cookie = NULL;
            rq.authorization = auths[j];
            refused(t, &rq, "not_signed_in", NULL, "no token");
        }
    }
    cd_buf_free(&b);
}

static void
test_cd_api_precheck_forbidden_user(void **state)
{
    struct at_fx *t = *state;
    struct cd_buf b = { 0 };
    struct cd_request rq;
    char len[32], op[64], a2[64], tok[96];
    size_t i;

    small_body(&b);
    at_session(t, "operator", 0, op, sizeof(op));
    at_session(t, "admin2", 0, a2, sizeof(a2));
    at_token(t, "operator", tok, sizeof(tok));
    for (i = 0; i < NELEM(routes); i++) {
        request_for(&rq, routes[i].method, routes[i].path, &b, len,
            sizeof(len));
        rq.cookie = op;
        refused(t, &rq, "forbidden", NULL, "not an admin");
        rq.cookie = a2;
        refused(t, &rq, "forbidden", NULL, "an admin's name as prefix");
        rq.cookie = NULL;
        rq.authorization = tok;
        refused(t, &rq, "forbidden", NULL, "a token of a non-admin");
    }
    cd_buf_free(&b);
}

/* ---- methods ---- */

static void
test_cd_api_precheck_method_not_allowed(void **state)
{
    static const struct {
        const char *path;
        const char *allow;
        const char *bad[6];
    } cases[] = {
        { P_CERT, "GET, HEAD, POST",
          { "PUT", "DELETE", "PATCH", "OPTIONS", "get", NULL } },
        { P_CERT "/", "GET, HEAD, POST", { "DELETE", NULL } },
        { P_VALIDATE, "POST",
          { "GET", "HEAD", "PUT", "DELETE", "OPTIONS", NULL } },
        { P_VALIDATE "/", "POST", { "GET", NULL } },
        { P_ROLLBACK, "POST",
          { "GET", "HEAD", "PUT", "DELETE", "post", NULL } },
        { P_ROLLBACK "/", "POST", { "GET", NULL } },
        { P_DOWNLOAD, "GET, HEAD",
          { "POST", "PUT", "DELETE", "OPTIONS", NULL } },
        { P_DOWNLOAD "/", "GET, HEAD", { "POST", NULL } },
    };
    struct at_fx *t = *state;
    struct cd_request rq;
    struct cd_response resp;
    enum cd_body_need need;
    size_t i, j, len;

    for (i = 0; i < NELEM(cases); i++) {
        for (j = 0; cases[i].bad[j] != NULL; j++) {
            at_request(&rq, cases[i].bad[j], cases[i].path, NULL);
            rq.content_type = AT_CONTENT_TYPE;
            rq.content_length = "10";
            assert_int_equal(precheck(t, &rq, &need, &len, &resp), -1);
            at_assert_error(&resp, "method_not_allowed", NULL);
            if (resp.allow[0] == '\0')
                fail_msg("%s %s: no Allow header", cases[i].bad[j],
                    cases[i].path);
            if (strcmp(resp.allow, cases[i].allow) != 0)
                fail_msg("%s %s: Allow \"%s\", not \"%s\"", cases[i].bad[j],
                    cases[i].path, resp.allow, cases[i].allow);
            cd_api_response_clear(&resp);
        }
    }
}

/* The methods each route takes pass, HEAD as GET; nothing else is read. */
static void
test_cd_api_precheck_methods_allowed(void **state)
{
    struct at_fx *t = *state;
    struct cd_buf b = { 0 };
    struct cd_request rq;
    char len[32];

    small_body(&b);
    at_request(&rq, "GET", P_CERT, NULL);
    passed(t, &rq, CD_BODY_NONE, 0, "status");
    at_request(&rq, "HEAD", P_CERT, NULL);
    passed(t, &rq, CD_BODY_NONE, 0, "status");
    at_request(&rq, "GET", P_DOWNLOAD, "format=der&part=root");
    passed(t, &rq, CD_BODY_NONE, 0, "download");
    at_request(&rq, "HEAD", P_DOWNLOAD, NULL);
    passed(t, &rq, CD_BODY_NONE, 0, "download");
    /* a rollback takes no body, whatever the request says it carries */
    at_request(&rq, "POST", P_ROLLBACK, NULL);
    passed(t, &rq, CD_BODY_NONE, 0, "rollback");
    at_request_body(&rq, P_CERT, &b, len, sizeof(len));
    passed(t, &rq, CD_BODY_READ, b.len, "install");
    at_request_body(&rq, P_VALIDATE, &b, len, sizeof(len));
    passed(t, &rq, CD_BODY_READ, b.len, "validate");
    cd_buf_free(&b);
}

static void
test_cd_api_precheck_trailing_slash(void **state)
{
    struct at_fx *t = *state;
    struct cd_buf b = { 0 };
    struct cd_request rq;
    char len[32];

    small_body(&b);
    at_request(&rq, "GET", P_CERT "/", NULL);
    passed(t, &rq, CD_BODY_NONE, 0, "status/");
    at_request(&rq, "GET", P_DOWNLOAD "/", NULL);
    passed(t, &rq, CD_BODY_NONE, 0, "download/");
    at_request(&rq, "POST", P_ROLLBACK "/", NULL);
    passed(t, &rq, CD_BODY_NONE, 0, "rollback/");
    at_request_body(&rq, P_CERT "/", &b, len, sizeof(len));
    passed(t, &rq, CD_BODY_READ, b.len, "install/");
    at_request_body(&rq, P_VALIDATE "/", &b, len, sizeof(len));
    passed(t, &rq, CD_BODY_READ, b.len, "validate/");
    cd_buf_free(&b);
}

/* ---- origin ---- */

/* What a browser says when another site's page posts to the appliance. */
static const struct {
    const char *origin;
    const char *fetch_site;
    const char *what;
} cross[] = {
    { "https://evil.example", NULL, "Origin of another host" },
    { "https://evil.example", "cross-site", "another host, fetch metadata" },
    { "null", NULL, "Origin null (sandboxed or file: page)" },
    { NULL, "cross-site", "Sec-Fetch-Site cross-site" },
    { NULL, "same-site", "Sec-Fetch-Site same-site (a sibling host)" },
    { AT_ORIGIN, "same-site", "same Origin, but same-site" },
    { "https://" AT_HOST ".evil.example", NULL, "the host as a prefix" },
    { "https://" AT_HOST ":8443", NULL, "same host, other port" },
    { "https://evil.example/" AT_HOST, NULL, "the host in a path" },
    { AT_HOST, NULL, "no scheme" },
    { "http://" AT_HOST, NULL, "plain http to an https page" },
    { "http://" AT_HOST ":443", NULL, "plain http on port 443" },
    { "https://" AT_HOST ":444", NULL, "another port" },
    { "https://" AT_HOST ":x", NULL, "a port that is no number" },
    { "https://", NULL, "no host" },
};

static void
test_cd_api_precheck_cross_site_post(void **state)
{
    struct at_fx *t = *state;
    struct cd_buf b = { 0 };
    struct cd_request rq;
    char len[32];
    size_t i, j;

    small_body(&b);
    for (i = 0; i < NELEM(posts); i++) {
        for (j = 0; j < NELEM(cross); j++) {
            request_for(&rq, "POST", posts[i], &b, len, sizeof(len));
            rq.origin = cross[j].origin;
            rq.sec_fetch_site = cross[j].fetch_site;
            refused(t, &rq, "forbidden", NULL, cross[j].what);
        }
    }
    cd_buf_free(&b);
}

/* A download started by another site's page is refused like a post. */
static void
test_cd_api_precheck_cross_site_download(void **state)
{
    struct at_fx *t = *state;
    struct cd_request rq;
    size_t j;

    for (j = 0; j < NELEM(cross); j++) {
        at_request(&rq, "GET", P_DOWNLOAD, "part=leaf");
        rq.origin = cross[j].origin;
        rq.sec_fetch_site = cross[j].fetch_site;
        refused(t, &rq, "forbidden", NULL, cross[j].what);
    }
}

/*
 * The appliance's own pages: the Origin, without its scheme, is the Host
 * header (host and port); a client that sends no Origin (curl) passes.
 */
static void
test_cd_api_precheck_same_origin(void **state)
{
    static const struct {
        const char *origin;
        const char *fetch_site;
        const char *host;
        const char *what;
    } same[] = {
        { AT_ORIGIN, "same-origin", AT_HOST, "browser" },
        { AT_ORIGIN, NULL, AT_HOST, "no fetch metadata" },
        { "https://" AT_HOST ":8443", "same-origin", AT_HOST ":8443",
          "with a port" },
        { "https://192.0.2.10", "same-origin", "192.0.2.10", "an address" },
        { "https://[2001:db8::1]:8443", NULL, "[2001:db8::1]:8443",
          "an IPv6 address" },
        { "https://" AT_HOST ":443", NULL, AT_HOST, "the default port" },
        { "https://" AT_HOST, NULL, AT_HOST ":443", "Host with 443" },
        { "HTTPS://SENSOR.contoso.com", NULL, AT_HOST, "letter case" },
        { NULL, NULL, AT_HOST, "curl" },
        { NULL, NULL, NULL, "curl without Host" },
        { NULL, "same-origin", AT_HOST, "fetch metadata only" },
    };
    struct at_fx *t = *state;
    struct cd_buf b = { 0 };
    struct cd_request rq;
    char len[32];
    size_t i, j;

    small_body(&b);
    for (i = 0; i < NELEM(posts); i++) {
        for (j = 0; j < NELEM(same); j++) {
            request_for(&rq, "POST", posts[i], &b, len, sizeof(len));
            rq.origin = same[j].origin;
            rq.sec_fetch_site = same[j].fetch_site;
            rq.host = same[j].host;
            passed(t, &rq, strcmp(posts[i], P_ROLLBACK) == 0 ?
                CD_BODY_NONE : CD_BODY_READ, b.len, same[j].what);
        }
    }
    for (j = 0; j < NELEM(same); j++) {
        at_request(&rq, "GET", P_DOWNLOAD, NULL);
        rq.origin = same[j].origin;
        rq.sec_fetch_site = same[j].fetch_site;
        rq.host = same[j].host;
        passed(t, &rq, CD_BODY_NONE, 0, same[j].what);
    }
    cd_buf_free(&b);
}

/* ---- what an upload must say about its body ---- */

static void
test_cd_api_precheck_not_multipart(void **state)
{
    static const char *const types[] = {
        NULL, "", "application/x-www-form-urlencoded", "application/json",
        "text/plain", "multipart/mixed; boundary=abc",
        "multipart/form-datax; boundary=abc",
    };
    struct at_fx *t = *state;
    struct cd_buf b = { 0 };
    struct cd_request rq;
    char len[32];
    size_t i, j;

    small_body(&b);
    for (i = 0; i < NELEM(uploads); i++) {
        for (j = 0; j < NELEM(types); j++) {
            at_request_body(&rq, uploads[i], &b, len, sizeof(len));
            rq.content_type = types[j];
            refused(t, &rq, "unsupported_media_type", NULL,
                types[j] != NULL ? types[j] : "no Content-Type");
        }
    }
    cd_buf_free(&b);
}

static void
test_cd_api_precheck_bad_boundary(void **state)
{
    static const char *const types[] = {
        "multipart/form-data",
        "multipart/form-data;",
        "multipart/form-data; boundary=",
        "multipart/form-data; boundary=\"\"",
        "multipart/form-data; charset=utf-8",
        "multipart/form-data; boundary=\"abc",
        "multipart/form-data; boundary=x123456789x123456789x123456789"
            "x123456789x123456789x123456789x123456789x",  /* 71 */
    };
    struct at_fx *t = *state;
    struct cd_buf b = { 0 };
    struct cd_request rq;
    char len[32];
    size_t i, j;

    small_body(&b);
    for (i = 0; i < NELEM(uploads); i++) {
        for (j = 0; j < NELEM(types); j++) {
            at_request_body(&rq, uploads[i], &b, len, sizeof(len));
            rq.content_type = types[j];
            refused(t, &rq, "bad_request", NULL, types[j]);
        }
    }
    cd_buf_free(&b);
}

static void
test_cd_api_precheck_length_required(void **state)
{
    struct at_fx *t = *state;
    struct cd_buf b = { 0 };
    struct cd_request rq;
    char len[32];
    size_t i;

    small_body(&b);
    for (i = 0; i < NELEM(uploads); i++) {
        at_request_body(&rq, uploads[i], &b, len, sizeof(len));
        rq.content_length = NULL;
        refused(t, &rq, "length_required", NULL, "no Content-Length");
        rq.content_length = "";
        refused(t, &rq, "length_required", NULL, "empty Content-Length");
    }
    cd_buf_free(&b);
}

static void
test_cd_api_precheck_bad_length(void **state)
{
    static const char *const lengths[] = {
        "abc", "-1", "+10", " 10", "10 ", "0x10", "1e3", "10.0", "1,000",
        "12abc",
    };
    struct at_fx *t = *state;
    struct cd_buf b = { 0 };
    struct cd_request rq;
    char len[32];
    size_t i, j;

    small_body(&b);
    for (i = 0; i < NELEM(uploads); i++) {
        for (j = 0; j < NELEM(lengths); j++) {
            at_request_body(&rq, uploads[i], &b, len, sizeof(len));
            rq.content_length = lengths[j];
            refused(t, &rq, "bad_request", NULL, lengths[j]);
        }
    }
    cd_buf_free(&b);
}

static void
test_cd_api_precheck_too_large(void **state)
{
    struct at_fx *t = *state;
    struct cd_buf b = { 0 };
    struct cd_request rq;
    char len[32], big[32], limit[32];
    size_t i;

    small_body(&b);
    t->s.max_body = 64 * 1024;
    snprintf(big, sizeof(big), "%zu", t->s.max_body + 1);
    snprintf(limit, sizeof(limit), "%zu", t->s.max_body);
    for (i = 0; i < NELEM(uploads); i++) {
        at_request_body(&rq, uploads[i], &b, len, sizeof(len));
        rq.content_length = big;
        refused(t, &rq, "too_large", NULL, "max_body + 1");
        rq.content_length = "18446744073709551615";
        refused(t, &rq, "too_large", NULL, "UINT64_MAX");
        /* the limit itself is accepted: the front reads that many */
        rq.content_length = limit;
        passed(t, &rq, CD_BODY_READ, t->s.max_body, "max_body");
    }
    cd_buf_free(&b);
}

/* A good upload: read exactly Content-Length bytes; a GET reads nothing. */
static void
test_cd_api_precheck_body_need(void **state)
{
    struct at_fx *t = *state;
    struct cd_buf b = { 0 };
    struct cd_request rq;
    char len[32];
    size_t i;

    at_upload(&b, "Sensor 1", "good.key", "good.pem", "chain.pem", NULL);
    for (i = 0; i < NELEM(uploads); i++) {
        at_request_body(&rq, uploads[i], &b, len, sizeof(len));
        passed(t, &rq, CD_BODY_READ, b.len, "good upload");
        rq.content_length = "0";
        passed(t, &rq, CD_BODY_READ, 0, "empty upload");
        rq.content_type = "Multipart/Form-Data; boundary=\"" AT_BOUNDARY "\"";
        rq.content_length = len;
        passed(t, &rq, CD_BODY_READ, b.len, "quoted boundary");
    }
    at_request(&rq, "GET", P_CERT, NULL);
    passed(t, &rq, CD_BODY_NONE, 0, "status");
    cd_buf_free(&b);
}

/*
 * The table itself: every row has a path under /api/, methods and a
 * handler; a row that changes state refuses other sites; no two rows of a
 * path answer the same method (the second would never run).
 */
static void
test_cd_api_routes_rows(void **state)
{
    const struct cd_route *r;
    size_t n, i, j;

    (void)state;
    r = cd_api_routes(&n);
    assert_true(n >= 5);
    for (i = 0; i < n; i++) {
        assert_non_null(r[i].path);
        assert_int_equal(strncmp(r[i].path, "/api/", 5), 0);
        assert_true(r[i].methods != 0);
        assert_non_null(r[i].handler);
        if (r[i].methods & ~(CD_M_GET | CD_M_HEAD))
            assert_true(r[i].same_origin);
        if (r[i].body == CD_BODY_MULTIPART || r[i].body == CD_BODY_JSON)
            assert_true(r[i].methods & (CD_M_POST | CD_M_PUT));
        for (j = i + 1; j < n; j++)
            if (strcmp(r[i].path, r[j].path) == 0)
                assert_int_equal(r[i].methods & r[j].methods, 0);
    }
}

#define T(f) cmocka_unit_test_setup_teardown(f, at_setup, at_teardown)

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cd_api_routes_rows),
        T(test_cd_api_precheck_not_found),
        T(test_cd_api_precheck_not_signed_in),
        T(test_cd_api_precheck_forbidden_user),
        T(test_cd_api_precheck_method_not_allowed),
        T(test_cd_api_precheck_methods_allowed),
        T(test_cd_api_precheck_trailing_slash),
        T(test_cd_api_precheck_cross_site_post),
        T(test_cd_api_precheck_cross_site_download),
        T(test_cd_api_precheck_same_origin),
        T(test_cd_api_precheck_not_multipart),
        T(test_cd_api_precheck_bad_boundary),
        T(test_cd_api_precheck_length_required),
        T(test_cd_api_precheck_bad_length),
        T(test_cd_api_precheck_too_large),
        T(test_cd_api_precheck_body_need),
    };

    return cmocka_run_group_tests(tests, at_group_setup, at_group_teardown);
}
