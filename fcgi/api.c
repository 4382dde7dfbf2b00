/*
 * api.c - the routes of SPEC §4: status, validate, install, rollback.
 * No FastCGI here (request.c is the front); answers are jansson objects.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/crypto.h>

#include "api.h"
#include "install.h"
#include "multipart.h"
#include "reply.h"

enum route {
    R_NONE = 0,
    R_CERT,                     /* /api/certificate */
    R_VALIDATE,                 /* /api/certificate/validate */
    R_ROLLBACK                  /* /api/certificate/rollback */
};

static const char *const fields[] = {
    "mode", "name", "passphrase", "key", "crt", "chain", "use_crl",
    "validation", "confirm", NULL
};

static enum route
route_of(const char *path)
{
    size_t n;

    if (path == NULL)
        return R_NONE;
    n = strlen(path);
    while (n > 1 && path[n - 1] == '/')     /* one trailing slash is fine */
        n--;
    if (n == 16 && strncmp(path, "/api/certificate", n) == 0)
        return R_CERT;
    if (n == 25 && strncmp(path, "/api/certificate/validate", n) == 0)
        return R_VALIDATE;
    if (n == 25 && strncmp(path, "/api/certificate/rollback", n) == 0)
        return R_ROLLBACK;
    return R_NONE;
}

static void
set_codes(struct cd_response *resp, const char *codes)
{
    snprintf(resp->codes, sizeof(resp->codes), "%s", codes);
}

/* An error answer with one finding; code decides the log line too. */
static void
fail(struct cd_response *resp, int status, enum cv_code code,
    const char *field, const char *detail)
{
    json_decref(resp->body);
    resp->status = status;
    resp->body = cd_reply_error(code, field, detail);
    set_codes(resp, cv_code_name(code));
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

int
cd_api_precheck(struct cd_app *app, const struct cd_request *rq,
    enum cd_body_need *need, size_t *body_len, struct cd_response *resp)
{
    enum route r = route_of(rq->path);
    int is_get, is_post;
    char boundary[80];
    uint64_t len;
    enum cd_mp_status st;

    memset(resp, 0, sizeof(*resp));
    *need = CD_BODY_NONE;
    *body_len = 0;
    set_codes(resp, "-");
    if (r == R_NONE) {
        fail(resp, 404, CV_NOT_FOUND, NULL, rq->path);
        return -1;
    }
    if (rq->remote_user == NULL || rq->remote_user[0] == '\0') {
        fail(resp, 401, CV_NOT_SIGNED_IN, NULL, NULL);
        return -1;
    }
    if (!cd_settings_is_admin(app->settings, rq->remote_user)) {
        fail(resp, 403, CV_FORBIDDEN, NULL, "not an administrator");
        return -1;
    }
    is_get = rq->method != NULL && (strcmp(rq->method, "GET") == 0 ||
        strcmp(rq->method, "HEAD") == 0);
    is_post = rq->method != NULL && strcmp(rq->method, "POST") == 0;
    if ((r == R_CERT && !is_get && !is_post) || (r != R_CERT && !is_post)) {
        fail(resp, 405, CV_METHOD_NOT_ALLOWED, NULL, rq->method);
        resp->allow = r == R_CERT ? "GET, HEAD, POST" : "POST";
        return -1;
    }
    if (is_get)
        return 0;
    if (cross_site(rq)) {
        fail(resp, 403, CV_FORBIDDEN, NULL, "cross-site request refused");
        return -1;
    }
    if (r == R_ROLLBACK)
        return 0;
    st = cd_multipart_boundary(rq->content_type, boundary, sizeof(boundary));
    if (st == CD_MP_NOT_MULTIPART) {
        fail(resp, 415, CV_UNSUPPORTED_MEDIA, NULL, rq->content_type);
        return -1;
    }
    if (st != CD_MP_OK) {
        fail(resp, 400, CV_BAD_REQUEST, NULL,
            "the multipart boundary is missing or not valid");
        return -1;
    }
    if (rq->content_length == NULL || rq->content_length[0] == '\0') {
        fail(resp, 411, CV_BAD_REQUEST, NULL, "Content-Length is required");
        return -1;
    }
    if (cd_parse_uint(rq->content_length, strlen(rq->content_length),
        UINT64_MAX, &len) != 0) {
        fail(resp, 400, CV_BAD_REQUEST, NULL, "Content-Length is not a "
            "number");
        return -1;
    }
    if (len > app->settings->max_body) {
        char d[96];

        snprintf(d, sizeof(d), "the limit is %zu bytes",
            app->settings->max_body);
        fail(resp, 413, CV_TOO_LARGE, NULL, d);
        return -1;
    }
    *need = CD_BODY_READ;
    *body_len = (size_t)len;
    return 0;
}

/* The certificate part of an answer: summary plus what the release says. */
static json_t *
current_json(struct cd_app *app, struct cd_response *resp)
{
    struct cd_release rel[CD_MAX_RELEASES];
    struct cv_summary sum;
    json_t *cert = NULL, *hist, *out;
    size_t n = 0, i, len = 0;
    char *pem, when[32];

    pem = cd_install_current_cert(app->settings, &len);
    if (pem != NULL && cv_cert_summary((const uint8_t *)pem, len, 0,
        &sum) == 0) {
        cert = cd_reply_summary(&sum);
        snprintf(resp->sha256, sizeof(resp->sha256), "%s", sum.sha256);
    }
    free(pem);
    if (cd_install_list(app->settings, rel, CD_MAX_RELEASES, &n) != 0)
        n = 0;
    hist = json_array();
    for (i = 0; i < n; i++) {
        json_t *h;

        cv_time_iso(rel[i].installed_at, when, sizeof(when));
        h = json_pack("{s:s, s:s, s:s, s:s, s:b, s:s, s:b}",
            "release", rel[i].id, "name", rel[i].name, "mode", rel[i].mode,
            "validation", rel[i].validation, "use_crl", rel[i].use_crl,
            "installed_at", when, "current", rel[i].current);
        if (rel[i].current && json_is_object(cert)) {
            json_object_set_new(cert, "name", json_string(rel[i].name));
            json_object_set_new(cert, "mode", json_string(rel[i].mode));
            json_object_set_new(cert, "validation",
                json_string(rel[i].validation));
            json_object_set_new(cert, "use_crl",
                json_boolean(rel[i].use_crl));
            json_object_set_new(cert, "installed_at", json_string(when));
            json_object_set_new(cert, "release", json_string(rel[i].id));
        }
        json_array_append_new(hist, h);
    }
    out = json_pack("{s:b, s:o, s:s, s:o}", "ok", cert != NULL,
        "certificate", cert != NULL ? cert : json_null(),
        "hostname", app->settings->hostname, "history", hist);
    return out;
}

static void
add_install(json_t *body, const struct cd_install_result *res)
{
    json_object_set_new(body, "release", json_string(res->release));
    json_object_set_new(body, "reload", json_pack("{s:b, s:s}", "ok",
        res->reloaded, "detail", res->reload_detail));
}

static void
log_codes(struct cd_response *resp, const struct cv_report *rep)
{
    size_t i, off = 0;
    int n;

    resp->codes[0] = '\0';
    for (i = 0; i < rep->n_findings; i++) {
        n = snprintf(resp->codes + off, sizeof(resp->codes) - off, "%s%s",
            off ? "," : "", cv_code_name(rep->findings[i].code));
        if (n < 0 || (size_t)n >= sizeof(resp->codes) - off)
            break;
        off += (size_t)n;
    }
    if (off == 0)
        set_codes(resp, "-");
    if (rep->summary.valid)
        snprintf(resp->sha256, sizeof(resp->sha256), "%s",
            rep->summary.sha256);
}

/* A text field's value as a NUL-terminated copy in buf, or NULL. */
static const char *
text(const struct cd_part *parts, size_t n, const char *name, char *buf,
    size_t len)
{
    const struct cd_part *p = cd_multipart_get(parts, n, name);

    if (p == NULL)
        return NULL;
    if (p->len >= len || memchr(p->data, '\0', p->len) != NULL)
        return "";      /* too long or binary: refused by the checks */
    memcpy(buf, p->data, p->len);
    buf[p->len] = '\0';
    return buf;
}

static void
self_signed(struct cd_app *app, const char *confirm, int install,
    struct cd_response *resp)
{
    struct cd_install_result res;

    if (confirm == NULL || strcmp(confirm, "yes") != 0) {
        resp->status = 422;
        resp->body = cd_reply_error(CV_MISSING_FIELD, "confirm",
            "a self-signed certificate must be confirmed (confirm=yes)");
        set_codes(resp, "missing_field");
        return;
    }
    if (!install) {
        resp->status = 200;
        resp->body = json_pack("{s:b, s:o, s:[], s:[]}", "ok", 1,
            "certificate", json_null(), "errors", "warnings");
        return;
    }
    memset(&res, 0, sizeof(res));
    if (cd_install_self_signed(app->settings, &res) != 0) {
        fail(resp, 500, CV_VALIDATION_FAILED, NULL, res.err);
        return;
    }
    resp->status = 200;
    resp->body = current_json(app, resp);
    add_install(resp->body, &res);
}

static void
upload(struct cd_app *app, const struct cd_request *rq, int install,
    struct cd_response *resp)
{
    struct cd_part parts[16];
    struct cd_multipart_limits lim = CD_MULTIPART_LIMITS_DEFAULT;
    char boundary[80], err[160];
    char mode[32], name[80], use_crl[16], validation[32], confirm[16];
    const char *m, *nm, *uc, *va;
    const struct cd_part *pass, *key, *crt, *chain;
    struct cv_input in;
    struct cv_options opt;
    struct cv_report *rep = NULL;
    struct cd_install_result res;
    size_t n = 0;
    enum cd_mp_status st;

    lim.max_file = app->settings->max_file;
    if (cd_multipart_boundary(rq->content_type, boundary,
        sizeof(boundary)) != CD_MP_OK) {
        fail(resp, 400, CV_BAD_REQUEST, NULL, "bad boundary");
        return;
    }
    st = cd_multipart_parse(rq->body, rq->body_len, boundary, &lim, fields,
        parts, &n, err, sizeof(err));
    if (st == CD_MP_TOO_LARGE) {
        fail(resp, 413, CV_TOO_LARGE, NULL, err);
        return;
    }
    if (st != CD_MP_OK) {
        fail(resp, 400, CV_BAD_REQUEST, NULL, err);
        return;
    }
    m = text(parts, n, "mode", mode, sizeof(mode));
    if (m != NULL && strcmp(m, "self-signed") == 0) {
        self_signed(app, text(parts, n, "confirm", confirm, sizeof(confirm)),
            install, resp);
        return;
    }
    if (m != NULL && strcmp(m, "ca-signed") != 0) {
        fail(resp, 400, CV_BAD_REQUEST, "mode",
            "mode must be ca-signed or self-signed");
        return;
    }
    uc = text(parts, n, "use_crl", use_crl, sizeof(use_crl));
    va = text(parts, n, "validation", validation, sizeof(validation));
    if (uc != NULL && strcmp(uc, "on") != 0 && strcmp(uc, "off") != 0) {
        fail(resp, 400, CV_BAD_REQUEST, "use_crl", "use_crl must be on or "
            "off");
        return;
    }
    if (va != NULL && strcmp(va, "mandatory") != 0 &&
        strcmp(va, "none") != 0) {
        fail(resp, 400, CV_BAD_REQUEST, "validation",
            "validation must be mandatory or none");
        return;
    }
    nm = text(parts, n, "name", name, sizeof(name));
    pass = cd_multipart_get(parts, n, "passphrase");
    key = cd_multipart_get(parts, n, "key");
    crt = cd_multipart_get(parts, n, "crt");
    chain = cd_multipart_get(parts, n, "chain");

    memset(&in, 0, sizeof(in));
    in.name = nm != NULL ? nm : NULL;
    if (key != NULL) {
        in.key = key->data;
        in.key_len = key->len;
    }
    if (crt != NULL) {
        in.crt = crt->data;
        in.crt_len = crt->len;
    }
    if (chain != NULL) {
        in.chain = chain->data;
        in.chain_len = chain->len;
    }
    if (pass != NULL) {
        in.passphrase = (const char *)pass->data;
        in.passphrase_len = pass->len;
    }
    memset(&opt, 0, sizeof(opt));
    opt.use_crl = uc == NULL || strcmp(uc, "on") == 0;
    opt.validation = va != NULL && strcmp(va, "none") == 0 ?
        CV_VALIDATION_NONE : CV_VALIDATION_MANDATORY;
    opt.hostname = app->settings->hostname;
    opt.fetch.timeout = app->settings->crl_timeout;
    opt.fetch.max_size = app->settings->crl_max_size;
    opt.fetch.proxy = app->settings->crl_proxy;

    if ((rep = cv_validate(app->cv, &in, &opt)) == NULL) {
        fail(resp, 503, CV_VALIDATION_FAILED, NULL, "out of memory");
        return;
    }
    if (nm == NULL || nm[0] == '\0')
        cv_report_add(rep, CV_MISSING_FIELD, "name",
            "the Certificate Name is required");
    log_codes(resp, rep);
    resp->body = cd_reply_report(rep);
    if (resp->body == NULL) {
        fail(resp, 503, CV_VALIDATION_FAILED, NULL, "out of memory");
        goto out;
    }
    if (!cv_report_ok(rep)) {
        resp->status = 422;
        goto out;
    }
    resp->status = 200;
    if (!install)
        goto out;
    memset(&res, 0, sizeof(res));
    {
        struct cd_install_files f = {
            .name = nm, .mode = "ca-signed",
            .validation = opt.validation == CV_VALIDATION_NONE ?
                "none" : "mandatory",
            .use_crl = opt.use_crl, .key = rep->key, .leaf = rep->leaf,
            .path = rep->path,
        };

        if (cd_install_release(app->settings, &f, &res) != 0) {
            fail(resp, 500, CV_VALIDATION_FAILED, NULL, res.err);
            goto out;
        }
    }
    add_install(resp->body, &res);
out:
    cv_report_free(rep);
}

void
cd_api_handle(struct cd_app *app, const struct cd_request *rq,
    struct cd_response *resp)
{
    struct cd_install_result res;
    enum route r = route_of(rq->path);

    if (rq->method != NULL && (strcmp(rq->method, "GET") == 0 ||
        strcmp(rq->method, "HEAD") == 0)) {
        resp->status = 200;
        resp->body = current_json(app, resp);
        return;
    }
    switch (r) {
    case R_CERT:
    case R_VALIDATE:
        upload(app, rq, r == R_CERT, resp);
        return;
    case R_ROLLBACK:
        memset(&res, 0, sizeof(res));
        if (cd_install_rollback(app->settings, &res) != 0) {
            fail(resp, 409, CV_NO_PREVIOUS, NULL, res.err);
            return;
        }
        resp->status = 200;
        resp->body = current_json(app, resp);
        add_install(resp->body, &res);
        return;
    case R_NONE:
        break;
    }
    fail(resp, 404, CV_NOT_FOUND, NULL, rq->path);
}

void
cd_api_response_clear(struct cd_response *resp)
{
    json_decref(resp->body);
    resp->body = NULL;
    free(resp->raw);
    resp->raw = NULL;
}
