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

#include "api.h"
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
    /* a download started by another site is refused like a post */
    { "/api/certificate/download", CD_M_GET | CD_M_HEAD, CD_BODY_EMPTY,
        CD_ACCESS_ADMIN, 1, cd_download_get },
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

/* 1 when path names p, with or without trailing slashes. */
static int
path_is(const char *path, const char *p)
{
    size_t n = strlen(path), pl = strlen(p);

    while (n > 1 && path[n - 1] == '/')
        n--;
    return n == pl && strncmp(path, p, n) == 0;
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
 * Same-origin policy for state changes: a browser says where a request
 * comes from; curl says nothing and is let through (it must still sign in).
 */
static int
cross_site(const struct cd_request *rq)
{
    const char *o = rq->origin, *h;

    if (rq->sec_fetch_site != NULL &&
        strcmp(rq->sec_fetch_site, "same-origin") != 0 &&
        strcmp(rq->sec_fetch_site, "none") != 0)
        return 1;
    if (o == NULL)
        return 0;
    if (strcmp(o, "null") == 0 || rq->host == NULL)
        return 1;
    if (strncasecmp(o, "https://", 8) == 0)
        h = o + 8;
    else if (strncasecmp(o, "http://", 7) == 0)
        h = o + 7;
    else
        return 1;
    return strcasecmp(h, rq->host) != 0;
}

/* Who may call: 0, or -1 with a 401/403 in resp. */
static int
check_access(struct cd_app *app, enum cd_access access,
    const struct cd_request *rq, struct cd_response *resp)
{
    switch (access) {
    case CD_ACCESS_ADMIN:
        if (rq->remote_user == NULL || rq->remote_user[0] == '\0') {
            cd_api_fail(resp, CD_ERR_NOT_SIGNED_IN, NULL, NULL);
            return -1;
        }
        if (!cd_settings_is_admin(app->settings, rq->remote_user)) {
            cd_api_fail(resp, CD_ERR_FORBIDDEN, NULL,
                "not an administrator");
            return -1;
        }
        return 0;
    }
    cd_api_fail(resp, CD_ERR_FORBIDDEN, NULL, NULL);
    return -1;
}

/* A multipart body's type and length: 0 and *lenp, or -1 with resp. */
static int
check_multipart(struct cd_app *app, const struct cd_request *rq,
    size_t *lenp, struct cd_response *resp)
{
    char boundary[80], d[96];
    enum cd_mp_status st;
    uint64_t len;

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
    if (len > app->settings->max_body) {
        snprintf(d, sizeof(d), "the limit is %zu bytes",
            app->settings->max_body);
        cd_api_fail(resp, CD_ERR_TOO_LARGE, NULL, d);
        return -1;
    }
    *lenp = (size_t)len;
    return 0;
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
    }
    return 0;
}

void
cd_api_handle(struct cd_app *app, const struct cd_request *rq,
    struct cd_response *resp)
{
    const struct cd_route *r;
    unsigned allow;

    if ((r = route_of(rq->path, rq->method, &allow)) == NULL) {
        cd_api_fail(resp, CD_ERR_NOT_FOUND, NULL, rq->path);
        return;
    }
    r->handler(app, rq, resp);
}

void
cd_api_response_clear(struct cd_response *resp)
{
    json_decref(resp->body);
    resp->body = NULL;
    free(resp->raw);
    resp->raw = NULL;
}
