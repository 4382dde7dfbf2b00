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

/* One request; every string may be NULL (absent). */
struct cd_request {
    const char *method;
    const char *path;           /* without the query string */
    const char *query;          /* after '?', may be NULL */
    const char *content_type;
    const char *content_length;
    const char *remote_user;
    const char *origin;
    const char *sec_fetch_site;
    const char *host;           /* Host header */
    const char *server_addr;    /* local address of the connection */
    const uint8_t *body;        /* exactly body_len bytes, when read */
    size_t body_len;
};

struct cd_response {
    int status;
    json_t *body;               /* owned; caller json_decref()s */
    char allow[32];             /* Allow header of a 405, or "" */
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
    CD_BODY_MULTIPART           /* multipart/form-data, at most max_body */
};

/* who may call a route */
enum cd_access {
    CD_ACCESS_ADMIN = 0         /* a signed-in user of the admins list */
};

typedef void cd_handler_fn(struct cd_app *app, const struct cd_request *rq,
    struct cd_response *resp);

/*
 * One row: a path (one trailing slash is also accepted), the methods this
 * row answers, its body, who may call it, whether a request from another
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
/* Handles a request that passed cd_api_precheck (body read, if needed). */
void cd_api_handle(struct cd_app *app, const struct cd_request *rq,
    struct cd_response *resp);
/*
 * Makes resp the error answer of e (its status from fcgi/errors.def, its
 * code for the log line), replacing any body.  field, detail may be NULL.
 */
void cd_api_fail(struct cd_response *resp, enum cd_err e, const char *field,
    const char *detail);
/* Frees the response body. */
void cd_api_response_clear(struct cd_response *resp);

#endif
