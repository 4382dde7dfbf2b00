/*
 * api.h - the routes of docs/API.md, independent of FastCGI: a request
 * goes in as plain strings and bytes, an HTTP status and a JSON body (or a
 * file) come out.  Every route is one row of the table in api.c.
 */
#ifndef CD_API_H
#define CD_API_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "crlslots.h"
#include "cv.h"
#include "errors.h"
#include "settings.h"

struct cd_app {
    struct cd_settings *settings;
    struct cv_ctx *cv;
    struct cd_crl_slots *crl_slots;     /* NULL: no limit */
};

/*
 * One request; every string may be NULL (absent).  Who is calling is
 * decided from cookie or authorization only (docs/API.md "Signing in").
 */
struct cd_request {
    const char *method;
    const char *path;           /* without the query string */
    const char *query;          /* after '?', may be NULL */
    const char *content_type;
    const char *content_length;
    const char *cookie;         /* Cookie header */
    const char *authorization;  /* Authorization header */
    const char *remote_addr;    /* the client's address */
    const char *https;          /* "on" when the request came over TLS */
    const char *origin;
    const char *sec_fetch_site;
    const char *host;           /* Host header */
    const char *server_addr;    /* local address of the connection */
    const uint8_t *body;        /* exactly body_len bytes, when read */
    size_t body_len;
};

/* How the caller proved who they are. */
enum cd_via {
    CD_VIA_NONE = 0,
    CD_VIA_SESSION,
    CD_VIA_TOKEN
};

struct cd_response {
    int status;
    json_t *body;               /* owned; caller json_decref()s */
    char allow[32];             /* Allow header of a 405, or "" */
    char set_cookie[160];       /* Set-Cookie header value, or "" */
    long retry_after;           /* Retry-After header (s) when > 0 */
    /*
     * The caller, as cd_api_precheck() found them, for the handlers and
     * the log line: user "" when not signed in.
     */
    char user[40];
    enum cd_via via;
    char session_id[65];        /* via a session: its id */
    int must_change;            /* via a session: a new password is due */
    long long expires;          /* via a session: its end (epoch) */
    const struct cd_route *route;   /* the row cd_api_precheck() found */
    /*
     * A download instead of JSON: when raw != NULL the answer is raw_len
     * bytes of raw (owned, freed by cd_api_response_clear) with this
     * Content-Type and, when filename[0], Content-Disposition: attachment.
     */
    uint8_t *raw;
    size_t raw_len;
    const char *content_type;
    char filename[128];
    /* for the request log line */
    char codes[256];            /* "expired,weak_key" or "-" */
    char sha256[96];            /* fingerprint of the certificate, or "" */
    double engine_ms;           /* CPU time in cv_validate() and
                                   cv_report_free(), or 0 */
};

/* What the front must do before reading the body. */
enum cd_body_need {
    CD_BODY_NONE = 0,           /* the route takes no body */
    CD_BODY_READ                /* read exactly content_length bytes */
};

/* ---- the route table ---- */

/* methods, as a set */
#define CD_M_GET        0x1u
#define CD_M_HEAD       0x2u
#define CD_M_POST       0x4u
#define CD_M_PUT        0x8u
#define CD_M_DELETE     0x10u

/* what a route's body is */
enum cd_body_kind {
    CD_BODY_EMPTY = 0,          /* none is read */
    CD_BODY_MULTIPART,          /* multipart/form-data, at most max_body */
    CD_BODY_JSON                /* application/json, at most CD_JSON_MAX */
};

#define CD_JSON_MAX     4096

/*
 * who may call a route.  While a session's user must choose a new
 * password only the CD_ACCESS_USER* rows answer.
 */
enum cd_access {
    CD_ACCESS_ADMIN = 0,        /* an admin, by session or token */
    CD_ACCESS_ADMIN_SESSION,    /* an admin, by session only */
    CD_ACCESS_USER,             /* any user, by session or token */
    CD_ACCESS_USER_SESSION,     /* any user, by session only */
    CD_ACCESS_PUBLIC            /* anyone (signing in) */
};

typedef void cd_handler_fn(struct cd_app *app, const struct cd_request *rq,
    struct cd_response *resp);

/*
 * One row: a path (one trailing slash is also accepted; a segment
 * "{id}" stands for any one segment, see cd_api_path_param()), the
 * methods this row answers, its body, who may call it, whether a request from another
 * site is refused (every row that changes state, and downloads), and its
 * handler.  A path may have several rows, one per set of methods.
 */
struct cd_route {
    const char *path;
    unsigned methods;
    enum cd_body_kind body;
    enum cd_access access;
    int same_origin;
    cd_handler_fn *handler;
};

/* The table, for tests and docs: n rows. */
const struct cd_route *cd_api_routes(size_t *n);

/*
 * Checks method, route, user, origin, content type and length before the
 * body is read.  Returns 0 and *need when the request may go on, or -1
 * with resp filled (401, 403, 404, 405, 411, 413, 415, 400).
 */
int cd_api_precheck(struct cd_app *app, const struct cd_request *rq,
    enum cd_body_need *need, size_t *body_len, struct cd_response *resp);
/*
 * Handles a request that passed cd_api_precheck (body read, if needed):
 * the handler of the row it found (resp->route).
 */
void cd_api_handle(struct cd_app *app, const struct cd_request *rq,
    struct cd_response *resp);
/*
 * Makes resp the error answer of e (its status from fcgi/errors.def, its
 * code for the log line), replacing any body.  field, detail may be NULL.
 */
void cd_api_fail(struct cd_response *resp, enum cd_err e, const char *field,
    const char *detail);
/*
 * The body of a CD_BODY_JSON row as an object (new reference), or NULL
 * with a 400 in resp.
 */
json_t *cd_api_json_body(const struct cd_request *rq,
    struct cd_response *resp);
/*
 * The segment a row's "{id}" stood for into buf: 0, or -1 when too
 * long.
 */
int cd_api_path_param(const struct cd_request *rq, char *buf, size_t len);
/* Set-Cookie of a new session cookie value, or one that clears it. */
void cd_api_set_cookie(struct cd_response *resp, const char *value);
void cd_api_clear_cookie(struct cd_response *resp);
/* Frees the response body. */
void cd_api_response_clear(struct cd_response *resp);

#endif
