/*
 * api.c - the route table of docs/API.md and what every route shares: the
 * checks made before a body is read (path, access, method, origin, body
 * kind and size), each decided by the route's row, and the one way to an
 * error answer.  The handlers live in a file per resource (handlers.h).
 * No FastCGI here (request.c is the front).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>

#include "api.h"
#include "auth.h"
#include "handlers.h"
#include "multipart.h"

/*
 * Adding a route is one row here and its handler.  A row that changes
 * state must refuse other sites (same_origin = 1; test_api_routes checks
 * every row).
 */
static const struct cd_route routes[] = {
    /* path                       methods              body */
    { "/api/certificate",          CD_M_GET | CD_M_HEAD, CD_BODY_EMPTY,
        CD_ACCESS_ADMIN, 0, cd_status_get },
    { "/api/certificate",          CD_M_POST,           CD_BODY_MULTIPART,
        CD_ACCESS_ADMIN, 1, cd_upload_install },
    { "/api/certificate/validate", CD_M_POST,           CD_BODY_MULTIPART,
        CD_ACCESS_ADMIN, 1, cd_upload_validate },
    { "/api/certificate/rollback", CD_M_POST,           CD_BODY_EMPTY,
        CD_ACCESS_ADMIN, 1, cd_rollback_post },
    { "/api/certificate/history/{id}/activate", CD_M_POST, CD_BODY_EMPTY,
        CD_ACCESS_ADMIN, 1, cd_activate_post },
    /* a download started by another site is refused like a post */
    { "/api/certificate/download", CD_M_GET | CD_M_HEAD, CD_BODY_EMPTY,
        CD_ACCESS_ADMIN, 1, cd_download_get },
    /* signing in and out (session.c) */
    { "/api/session",              CD_M_GET | CD_M_HEAD, CD_BODY_EMPTY,
        CD_ACCESS_USER, 0, cd_session_get },
    { "/api/session",              CD_M_POST,           CD_BODY_JSON,
        CD_ACCESS_PUBLIC, 1, cd_session_post },
    { "/api/session",              CD_M_DELETE,         CD_BODY_EMPTY,
        CD_ACCESS_USER_SESSION, 1, cd_session_delete },
    { "/api/session/password",     CD_M_PUT,            CD_BODY_JSON,
        CD_ACCESS_USER_SESSION, 1, cd_password_put },
    /* the signing request made here (csr.c) */
    { "/api/csr",                  CD_M_GET | CD_M_HEAD, CD_BODY_EMPTY,
        CD_ACCESS_ADMIN, 0, cd_csr_get },
    { "/api/csr",                  CD_M_POST,           CD_BODY_JSON,
        CD_ACCESS_ADMIN, 1, cd_csr_post },
    { "/api/csr",                  CD_M_DELETE,         CD_BODY_EMPTY,
        CD_ACCESS_ADMIN, 1, cd_csr_delete },
    { "/api/csr/download",         CD_M_GET | CD_M_HEAD, CD_BODY_EMPTY,
        CD_ACCESS_ADMIN, 1, cd_csr_download },
    /* automatic renewal over ACME (acme.c) */
    { "/api/acme",                 CD_M_GET | CD_M_HEAD, CD_BODY_EMPTY,
        CD_ACCESS_ADMIN, 0, cd_acme_get },
    { "/api/acme",                 CD_M_PUT,            CD_BODY_JSON,
        CD_ACCESS_ADMIN, 1, cd_acme_put },
    { "/api/acme/renew",           CD_M_POST,           CD_BODY_EMPTY,
        CD_ACCESS_ADMIN, 1, cd_acme_renew },
    /* port 80's /.well-known/acme-challenge/TOKEN (nginx rewrites it) */
    { "/api/acme/challenge/{id}",  CD_M_GET | CD_M_HEAD, CD_BODY_EMPTY,
        CD_ACCESS_PUBLIC, 0, cd_acme_challenge },
    /* warnings before expiry (expiry.c, certdialog-expiry(8)) */
    { "/api/expiry",               CD_M_GET | CD_M_HEAD, CD_BODY_EMPTY,
        CD_ACCESS_ADMIN, 0, cd_expiry_get },
    { "/api/expiry/test",          CD_M_POST,           CD_BODY_EMPTY,
        CD_ACCESS_ADMIN, 1, cd_expiry_test },
    /* API tokens (tokens.c): never reachable with a token */
    { "/api/tokens",               CD_M_GET | CD_M_HEAD, CD_BODY_EMPTY,
        CD_ACCESS_ADMIN_SESSION, 0, cd_tokens_get },
    { "/api/tokens",               CD_M_POST,           CD_BODY_JSON,
        CD_ACCESS_ADMIN_SESSION, 1, cd_tokens_post },
    { "/api/tokens/{id}",          CD_M_DELETE,         CD_BODY_EMPTY,
        CD_ACCESS_ADMIN_SESSION, 1, cd_tokens_delete },
};
#define N_ROUTES (sizeof(routes) / sizeof(routes[0]))

/* The methods, in the order an Allow header lists them. */
static const struct {
    unsigned bit;
    const char *name;
} methods[] = {
    { CD_M_GET, "GET" }, { CD_M_HEAD, "HEAD" }, { CD_M_POST, "POST" },
    { CD_M_PUT, "PUT" }, { CD_M_DELETE, "DELETE" },
};
#define N_METHODS (sizeof(methods) / sizeof(methods[0]))

const struct cd_route *
cd_api_routes(size_t *n)
{
    *n = N_ROUTES;
    return routes;
}

static unsigned
method_bit(const char *m)
{
    size_t i;

    for (i = 0; m != NULL && i < N_METHODS; i++)
        if (strcmp(m, methods[i].name) == 0)
            return methods[i].bit;
    return 0;
}

#define PARAM "{id}"
#define PARAM_LEN (sizeof(PARAM) - 1)

/* path's length without its trailing slashes ("/" stays). */
static size_t
trimmed_len(const char *path)
{
    size_t n = strlen(path);

    while (n > 1 && path[n - 1] == '/')
        n--;
    return n;
}

/*
 * 1 when path names p, with or without trailing slashes; a segment PARAM
 * of p stands for one non-empty segment.  With seg, the segment PARAM
 * stood for goes to *seg and *seglen.
 */
static int
path_match(const char *path, const char *p, const char **seg, size_t *seglen)
{
    const char *end = path + trimmed_len(path), *s;

    while (*p != '\0') {
        if (strncmp(p, PARAM, PARAM_LEN) == 0) {
            for (s = path; s < end && *s != '/'; s++)
                ;
            if (s == path)
                return 0;
            if (seg != NULL) {
                *seg = path;
                *seglen = (size_t)(s - path);
            }
            path = s;
            p += PARAM_LEN;
            continue;
        }
        if (path == end || *path != *p)
            return 0;
        path++;
        p++;
    }
    return path == end;
}

static int
path_is(const char *path, const char *p)
{
    return path_match(path, p, NULL, NULL);
}

int
cd_api_path_param(const struct cd_request *rq, char *buf, size_t len)
{
    const char *p = rq->path != NULL ? rq->path : "", *seg = NULL;
    size_t i, n = 0;

    for (i = 0; i < N_ROUTES; i++)
        if (strstr(routes[i].path, PARAM) != NULL &&
            path_match(p, routes[i].path, &seg, &n))
            break;
    if (i == N_ROUTES || seg == NULL || n + 1 > len)
        return -1;
    memcpy(buf, seg, n);
    buf[n] = '\0';
    return 0;
}

/*
 * The row for path and method; NULL.  *allowp gets the methods the path
 * answers (0: no such path).
 */
static const struct cd_route *
route_of(const char *path, const char *method, unsigned *allowp)
{
    const struct cd_route *r = NULL;
    unsigned m = method_bit(method);
    size_t i;

    *allowp = 0;
    for (i = 0; path != NULL && i < N_ROUTES; i++) {
        if (!path_is(path, routes[i].path))
            continue;
        *allowp |= routes[i].methods;
        if ((routes[i].methods & m) != 0)
            r = &routes[i];
    }
    return r;
}

/* "GET, HEAD, POST" of a method set into buf. */
static void
allow_text(unsigned set, char *buf, size_t len)
{
    size_t i, off = 0;
    int n;

    buf[0] = '\0';
    for (i = 0; i < N_METHODS; i++) {
        if ((set & methods[i].bit) == 0)
            continue;
        n = snprintf(buf + off, len - off, "%s%s", off ? ", " : "",
            methods[i].name);
        if (n < 0 || (size_t)n >= len - off)
            return;
        off += (size_t)n;
    }
}

void
cd_api_fail(struct cd_response *resp, enum cd_err e, const char *field,
    const char *detail)
{
    json_decref(resp->body);
    resp->status = cd_err_status(e);
    resp->body = cd_err_json(e, field, detail);
    snprintf(resp->codes, sizeof(resp->codes), "%s", cd_err_name(e));
}

/*
 * Splits "host[:port]" (host may be "[v6]") into host and port, the port
 * dflt when absent.  0, or -1 when it is not one.
 */
static int
host_port(const char *hp, size_t n, const char *dflt, char *host,
    size_t hlen, char *port, size_t plen)
{
    const char *colon = NULL, *e;
    size_t i;

    if (n == 0)
        return -1;
    if (hp[0] == '[') {
        if ((e = memchr(hp, ']', n)) == NULL)
            return -1;
        if ((size_t)(e + 1 - hp) < n) {
            if (e[1] != ':')
                return -1;
            colon = e + 1;
        }
    } else
        colon = memchr(hp, ':', n);
    i = colon != NULL ? (size_t)(colon - hp) : n;
    if (i == 0 || i >= hlen)
        return -1;
    memcpy(host, hp, i);
    host[i] = '\0';
    if (colon == NULL) {
        snprintf(port, plen, "%s", dflt);
        return 0;
    }
    n -= i + 1;
    if (n == 0 || n >= plen)
        return -1;
    for (i = 0; i < n; i++)
        if (colon[1 + i] < '0' || colon[1 + i] > '9')
            return -1;
    memcpy(port, colon + 1, n);
    port[n] = '\0';
    while (port[0] == '0' && port[1] != '\0')
        memmove(port, port + 1, strlen(port));
    return 0;
}

/*
 * Same-origin policy for state changes: a browser says where a request
 * comes from; curl says nothing and is let through (it must still sign
 * in).  An origin is scheme, host and port: http://x is another origin
 * than https://x, and https://x:8443 than https://x.
 */
static int
cross_site(const struct cd_request *rq)
{
    const char *o = rq->origin, *scheme, *dport;
    char oh[256], op[8], rh[256], rp[8];
    size_t sl;

    if (rq->sec_fetch_site != NULL &&
        strcmp(rq->sec_fetch_site, "same-origin") != 0 &&
        strcmp(rq->sec_fetch_site, "none") != 0)
        return 1;
    if (o == NULL)
        return 0;
    if (strcmp(o, "null") == 0 || rq->host == NULL)
        return 1;
    if (rq->https != NULL && strcasecmp(rq->https, "on") == 0) {
        scheme = "https://";
        dport = "443";
    } else {
        scheme = "http://";
        dport = "80";
    }
    sl = strlen(scheme);
    if (strncasecmp(o, scheme, sl) != 0)
        return 1;
    if (host_port(o + sl, strlen(o + sl), dport, oh, sizeof(oh), op,
        sizeof(op)) != 0 || host_port(rq->host, strlen(rq->host), dport,
        rh, sizeof(rh), rp, sizeof(rp)) != 0)
        return 1;
    return strcasecmp(oh, rh) != 0 || strcmp(op, rp) != 0;
}

/* The value of cookie name in a Cookie header into buf: 0, or -1. */
static int
cookie_value(const char *hdr, const char *name, char *buf, size_t len)
{
    size_t nl = strlen(name), vl;
    const char *p = hdr, *v;

    while (p != NULL && *p != '\0') {
        while (*p == ' ' || *p == ';')
            p++;
        if (strncmp(p, name, nl) == 0 && p[nl] == '=') {
            v = p + nl + 1;
            vl = strcspn(v, "; ");
            if (vl == 0 || vl >= len)
                return -1;
            memcpy(buf, v, vl);
            buf[vl] = '\0';
            return 0;
        }
        p = strchr(p, ';');
    }
    return -1;
}

/* The caller from the session cookie or the bearer token: 0, or 1. */
static int
authenticate(struct cd_app *app, const struct cd_request *rq,
    struct cd_response *resp)
{
    struct cd_session ss;
    struct cd_token tk;
    const char *a = rq->authorization;
    char v[64];
    int rc;

    if (rq->cookie != NULL && cookie_value(rq->cookie, CD_AUTH_COOKIE, v,
        sizeof(v)) == 0) {
        rc = cd_session_find(app->settings, v, &ss);
        OPENSSL_cleanse(v, sizeof(v));
        if (rc == 0) {
            snprintf(resp->user, sizeof(resp->user), "%s", ss.user);
            resp->via = CD_VIA_SESSION;
            memcpy(resp->session_id, ss.id, sizeof(resp->session_id));
            resp->must_change = ss.must_change;
            resp->expires = (long long)cd_session_expires(app->settings,
                &ss);
            return 0;
        }
        /* an ended or expired session: the browser forgets it */
        cd_api_clear_cookie(resp);
    }
    if (a != NULL && strncasecmp(a, "Bearer ", 7) == 0) {
        for (a += 7; *a == ' '; a++)
            ;
        if (cd_token_find(app->settings, a, &tk) == 0) {
            snprintf(resp->user, sizeof(resp->user), "%s", tk.user);
            resp->via = CD_VIA_TOKEN;
            return 0;
        }
    }
    return 1;
}

/* Who may call: 0, or -1 with a 401/403 in resp. */
static int
check_access(struct cd_app *app, enum cd_access access,
    const struct cd_request *rq, struct cd_response *resp)
{
    int admin_row = access == CD_ACCESS_ADMIN ||
        access == CD_ACCESS_ADMIN_SESSION;

    if (access == CD_ACCESS_PUBLIC)
        return 0;
    if (authenticate(app, rq, resp) != 0) {
        cd_api_fail(resp, CD_ERR_NOT_SIGNED_IN, NULL, NULL);
        return -1;
    }
    if (resp->via == CD_VIA_TOKEN && (access == CD_ACCESS_ADMIN_SESSION ||
        access == CD_ACCESS_USER_SESSION)) {
        cd_api_fail(resp, CD_ERR_FORBIDDEN, NULL,
            "an API token cannot do this; sign in");
        return -1;
    }
    if (resp->must_change && admin_row) {
        cd_api_fail(resp, CD_ERR_PASSWORD_CHANGE_REQUIRED, NULL, NULL);
        return -1;
    }
    if (admin_row && !cd_settings_is_admin(app->settings, resp->user)) {
        cd_api_fail(resp, CD_ERR_FORBIDDEN, NULL, "not an administrator");
        return -1;
    }
    return 0;
}

/* Content-Length into *lenp, at most max: 0, or -1 with resp. */
static int
check_length(const struct cd_request *rq, size_t max, size_t *lenp,
    struct cd_response *resp)
{
    char d[96];
    uint64_t len;

    if (rq->content_length == NULL || rq->content_length[0] == '\0') {
        cd_api_fail(resp, CD_ERR_LENGTH_REQUIRED, NULL,
            "Content-Length is required");
        return -1;
    }
    if (cv_parse_uint(rq->content_length, strlen(rq->content_length),
        UINT64_MAX, &len) != 0) {
        cd_api_fail(resp, CD_ERR_BAD_REQUEST, NULL,
            "Content-Length is not a number");
        return -1;
    }
    if (len > max) {
        snprintf(d, sizeof(d), "the limit is %zu bytes", max);
        cd_api_fail(resp, CD_ERR_TOO_LARGE, NULL, d);
        return -1;
    }
    *lenp = (size_t)len;
    return 0;
}

/* A JSON body's type and length: 0 and *lenp, or -1 with resp. */
static int
check_json(const struct cd_request *rq, size_t *lenp,
    struct cd_response *resp)
{
    const char *t = rq->content_type;
    size_t n = strlen("application/json");

    if (t == NULL || strncasecmp(t, "application/json", n) != 0 ||
        (t[n] != '\0' && t[n] != ';' && t[n] != ' ')) {
        cd_api_fail(resp, CD_ERR_UNSUPPORTED_MEDIA, NULL,
            "this route takes application/json");
        return -1;
    }
    return check_length(rq, CD_JSON_MAX, lenp, resp);
}

json_t *
cd_api_json_body(const struct cd_request *rq, struct cd_response *resp)
{
    json_error_t je;
    json_t *j;
    char d[200];

    j = json_loadb((const char *)rq->body, rq->body_len,
        JSON_REJECT_DUPLICATES, &je);
    if (j == NULL) {
        snprintf(d, sizeof(d), "the body is not valid JSON: %s", je.text);
        cd_api_fail(resp, CD_ERR_BAD_REQUEST, NULL, d);
        return NULL;
    }
    if (!json_is_object(j)) {
        json_decref(j);
        cd_api_fail(resp, CD_ERR_BAD_REQUEST, NULL,
            "the body must be a JSON object");
        return NULL;
    }
    return j;
}

void
cd_api_clear_cookie(struct cd_response *resp)
{
    snprintf(resp->set_cookie, sizeof(resp->set_cookie), "%s=; HttpOnly; "
        "Secure; SameSite=Strict; Path=/; Max-Age=0", CD_AUTH_COOKIE);
}

void
cd_api_set_cookie(struct cd_response *resp, const char *value)
{
    snprintf(resp->set_cookie, sizeof(resp->set_cookie), "%s=%s; HttpOnly; "
        "Secure; SameSite=Strict; Path=/", CD_AUTH_COOKIE, value);
}

/* A multipart body's type and length: 0 and *lenp, or -1 with resp. */
static int
check_multipart(struct cd_app *app, const struct cd_request *rq,
    size_t *lenp, struct cd_response *resp)
{
    char boundary[80];
    enum cd_mp_status st;

    st = cd_multipart_boundary(rq->content_type, boundary, sizeof(boundary));
    if (st == CD_MP_NOT_MULTIPART) {
        cd_api_fail(resp, CD_ERR_UNSUPPORTED_MEDIA, NULL, rq->content_type);
        return -1;
    }
    if (st != CD_MP_OK) {
        cd_api_fail(resp, CD_ERR_BAD_REQUEST, NULL,
            "the multipart boundary is missing or not valid");
        return -1;
    }
    return check_length(rq, app->settings->max_body, lenp, resp);
}

int
cd_api_precheck(struct cd_app *app, const struct cd_request *rq,
    enum cd_body_need *need, size_t *body_len, struct cd_response *resp)
{
    const struct cd_route *r;
    unsigned allow;
    size_t i;

    memset(resp, 0, sizeof(*resp));
    *need = CD_BODY_NONE;
    *body_len = 0;
    snprintf(resp->codes, sizeof(resp->codes), "-");
    r = route_of(rq->path, rq->method, &allow);
    if (allow == 0) {
        cd_api_fail(resp, CD_ERR_NOT_FOUND, NULL, rq->path);
        return -1;
    }
    /* who may call: the row's rule, or the path's first row's for a 405 */
    for (i = 0; r == NULL && i < N_ROUTES; i++)
        if (path_is(rq->path, routes[i].path))
            break;
    if (check_access(app, r != NULL ? r->access : routes[i].access, rq,
        resp) != 0)
        return -1;
    if (r == NULL) {
        cd_api_fail(resp, CD_ERR_METHOD_NOT_ALLOWED, NULL, rq->method);
        allow_text(allow, resp->allow, sizeof(resp->allow));
        return -1;
    }
    resp->route = r;
    if (r->same_origin && cross_site(rq)) {
        cd_api_fail(resp, CD_ERR_FORBIDDEN, NULL,
            "cross-site request refused");
        return -1;
    }
    switch (r->body) {
    case CD_BODY_EMPTY:
        return 0;
    case CD_BODY_MULTIPART:
        if (check_multipart(app, rq, body_len, resp) != 0)
            return -1;
        *need = CD_BODY_READ;
        return 0;
    case CD_BODY_JSON:
        if (check_json(rq, body_len, resp) != 0)
            return -1;
        *need = CD_BODY_READ;
        return 0;
    }
    return 0;
}

void
cd_api_handle(struct cd_app *app, const struct cd_request *rq,
    struct cd_response *resp)
{
    if (resp->route == NULL) {
        cd_api_fail(resp, CD_ERR_NOT_FOUND, NULL, rq->path);
        return;
    }
    resp->route->handler(app, rq, resp);
}

void
cd_api_response_clear(struct cd_response *resp)
{
    json_decref(resp->body);
    resp->body = NULL;
    free(resp->raw);
    resp->raw = NULL;
    /* a new session's cookie value */
    OPENSSL_cleanse(resp->set_cookie, sizeof(resp->set_cookie));
}
