/*
 * apitest.c - see apitest.h.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ftw.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include <jansson.h>

#define CD_FIXTURE_CMOCKA
#include "fixture.h"
#include "apitest.h"
#include "auth.h"
#include "install.h"

/*
 * The service's codes straight from the table, not through errors.c: a
 * test of the answers must not take its expectations from the code that
 * makes them.
 */
static const struct {
    const char *code;
    int status;
    const char *message;
} service_errors[] = {
#define CD_ERR(id, name, status, msg) { name, status, msg },
#include "errors.def"
#undef CD_ERR
};

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* The engine of the whole group: trust anchor root.pem, parsed once. */
static struct cv_ctx *group_cv;
/* The running test's admin session (at_setup()), as a Cookie header. */
static char admin_cookie[64];

/* ---- multipart bodies ---- */

static void
add_str(struct cd_buf *b, const char *s)
{
    cd_buf_add(b, s, strlen(s));
}

void
at_field(struct cd_buf *b, const char *name, const char *value)
{
    add_str(b, "--" AT_BOUNDARY "\r\nContent-Disposition: form-data; "
        "name=\"");
    add_str(b, name);
    add_str(b, "\"\r\n\r\n");
    add_str(b, value);
    add_str(b, "\r\n");
}

void
at_file(struct cd_buf *b, const char *name, const char *filename,
    const void *data, size_t len)
{
    add_str(b, "--" AT_BOUNDARY "\r\nContent-Disposition: form-data; "
        "name=\"");
    add_str(b, name);
    add_str(b, "\"; filename=\"");
    add_str(b, filename);
    add_str(b, "\"\r\nContent-Type: application/octet-stream\r\n\r\n");
    cd_buf_add(b, data, len);
    add_str(b, "\r\n");
}

void
at_file_fx(struct cd_buf *b, const char *name, const char *fixture)
{
    const struct cd_blob *f = fx(fixture);

    at_file(b, name, fixture, f->p, f->n);
}

void
at_body_end(struct cd_buf *b)
{
    add_str(b, "--" AT_BOUNDARY "--\r\n");
}

void
at_upload(struct cd_buf *b, const char *name, const char *key,
    const char *crt, const char *chain, const char *pass)
{
    at_field(b, "mode", "ca-signed");
    if (name != NULL)
        at_field(b, "name", name);
    if (pass != NULL)
        at_field(b, "passphrase", pass);
    if (key != NULL)
        at_file_fx(b, "key", key);
    if (crt != NULL)
        at_file_fx(b, "crt", crt);
    if (chain != NULL)
        at_file_fx(b, "chain", chain);
    at_field(b, "use_crl", "off");
    at_field(b, "validation", "mandatory");
    at_body_end(b);
}

/* ---- fixtures ---- */

int
at_group_setup(void **state)
{
    (void)state;
    if ((group_cv = cd_fixture_ctx()) == NULL) {
        fprintf(stderr, "%s\n", cd_fixture_error());
        return -1;
    }
    return 0;
}

int
at_group_teardown(void **state)
{
    (void)state;
    cv_ctx_free(group_cv);
    group_cv = NULL;
    cd_fixture_blobs_free();
    return 0;
}

static int
set_str(char **dst, const char *v)
{
    free(*dst);
    *dst = v != NULL ? strdup(v) : NULL;
    return v != NULL && *dst == NULL ? -1 : 0;
}

int
at_setup(void **state)
{
    struct at_fx *t = calloc(1, sizeof(*t));
    char err[256];
    size_t i;

    if (t == NULL)
        return -1;
    snprintf(t->dir, sizeof(t->dir), "/tmp/cd-apitest-XXXXXX");
    if (mkdtemp(t->dir) == NULL) {
        free(t);
        return -1;
    }
    if (cd_settings_load(&t->s, NULL, err, sizeof(err)) != 0) {
        fprintf(stderr, "cd_settings_load: %s\n", err);
        rmdir(t->dir);
        free(t);
        return -1;
    }
    for (i = 0; i < t->s.n_admins; i++) {
        free(t->s.admins[i]);
        t->s.admins[i] = NULL;
    }
    t->s.n_admins = 1;
    /* no nginx here: "true" stands for a reload that works */
    if (set_str(&t->s.admins[0], AT_ADMIN) != 0 ||
        set_str(&t->s.state_dir, t->dir) != 0 ||
        set_str(&t->s.hostname, AT_HOST) != 0 ||
        set_str(&t->s.reload_command, "true") != 0 ||
        set_str(&t->s.check_command, NULL) != 0) {
        cd_settings_free(&t->s);
        rmdir(t->dir);
        free(t);
        return -1;
    }
    t->app.settings = &t->s;
    t->app.cv = group_cv;
    t->app.crl_slots = NULL;
    *state = t;
    at_admin_session(t);
    return 0;
}

const char *
at_admin_cookie(void)
{
    return admin_cookie;
}

void
at_admin_session(struct at_fx *t)
{
    at_session(t, AT_ADMIN, 0, admin_cookie, sizeof(admin_cookie));
}

void
at_session(struct at_fx *t, const char *user, int must_change, char *hdr,
    size_t len)
{
    char cookie[CD_AUTH_COOKIE_LEN + 1], err[256];
    struct cd_session ss;

    if (cd_session_new(&t->s, user, must_change, cookie, sizeof(cookie),
        &ss, err, sizeof(err)) != 0)
        fail_msg("cd_session_new(%s): %s", user, err);
    snprintf(hdr, len, CD_AUTH_COOKIE "=%s", cookie);
}

void
at_token(struct at_fx *t, const char *user, char *hdr, size_t len)
{
    char secret[CD_AUTH_TOKEN_LEN + 1], err[256];
    struct cd_token tk;

    if (cd_token_new(&t->s, user, "apitest", 0, secret, sizeof(secret), &tk,
        err, sizeof(err)) != 0)
        fail_msg("cd_token_new(%s): %s", user, err);
    snprintf(hdr, len, "Bearer %s", secret);
}

void
at_add_user(struct at_fx *t, const char *user, const char *pass,
    int must_change)
{
    char err[256];

    if (cd_auth_set_password(&t->s, user, pass, must_change, err,
        sizeof(err)) != 0)
        fail_msg("cd_auth_set_password(%s): %s", user, err);
}

static int
rm_one(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)ftw;
    return flag == FTW_DP ? rmdir(p) : unlink(p);
}

int
at_teardown(void **state)
{
    struct at_fx *t = *state;

    if (t == NULL)
        return 0;
    nftw(t->dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
    cd_settings_free(&t->s);
    cv_ctx_free(t->own_cv);
    free(t);
    *state = NULL;
    return 0;
}

void
at_use_ctx(struct at_fx *t, const char *ca)
{
    struct cv_config cfg;
    char *err = NULL;
    char path[1024];

    /* cd_fixture_path() is a static buffer: keep our own copy */
    snprintf(path, sizeof(path), "%s", cd_fixture_path(ca));
    memset(&cfg, 0, sizeof(cfg));
    cfg.ca_file = path;
    cfg.no_default_ca = 1;
    cv_ctx_free(t->own_cv);
    t->own_cv = cv_ctx_new(&cfg, &err);
    if (t->own_cv == NULL)
        fail_msg("cv_ctx_new(%s): %s", ca, err != NULL ? err : "?");
    free(err);
    t->app.cv = t->own_cv;
}

/* ---- requests ---- */

void
at_request(struct cd_request *rq, const char *method, const char *path,
    const char *query)
{
    memset(rq, 0, sizeof(*rq));
    rq->method = method;
    rq->path = path;
    rq->query = query;
    rq->cookie = admin_cookie;
    rq->remote_addr = AT_CLIENT;
    rq->https = "on";
    rq->origin = AT_ORIGIN;
    rq->sec_fetch_site = "same-origin";
    rq->host = AT_HOST;
    rq->server_addr = "127.0.0.1";
}

void
at_request_body(struct cd_request *rq, const char *path,
    const struct cd_buf *b, char *lenbuf, size_t lenlen)
{
    at_request(rq, "POST", path, NULL);
    snprintf(lenbuf, lenlen, "%zu", b->len);
    rq->content_type = AT_CONTENT_TYPE;
    rq->content_length = lenbuf;
    rq->body = b->p;
    rq->body_len = b->len;
}

int
at_run(struct at_fx *t, const struct cd_request *rq,
    struct cd_response *resp)
{
    struct cd_request r = *rq;
    enum cd_body_need need;
    size_t len = 0;
    uint8_t *body = NULL;

    if (cd_api_precheck(&t->app, rq, &need, &len, resp) != 0) {
        assert_true(resp->status >= 400);
        return -1;
    }
    if (need == CD_BODY_READ) {
        /* the front reads exactly Content-Length bytes */
        assert_int_equal(len, rq->body_len);
        body = malloc(len > 0 ? len : 1);
        assert_non_null(body);
        if (len > 0)
            memcpy(body, rq->body, len);
        r.body = body;
        r.body_len = len;
    } else {
        r.body = NULL;
        r.body_len = 0;
    }
    cd_api_handle(&t->app, &r, resp);
    free(body);
    return 0;
}

void
at_get(struct at_fx *t, const char *path, const char *query,
    struct cd_response *resp)
{
    struct cd_request rq;

    at_request(&rq, "GET", path, query);
    at_run(t, &rq, resp);
}

void
at_post(struct at_fx *t, const char *path, const struct cd_buf *b,
    struct cd_response *resp)
{
    struct cd_request rq;
    char len[32];

    at_request_body(&rq, path, b, len, sizeof(len));
    at_run(t, &rq, resp);
}

void
at_json(struct at_fx *t, const char *method, const char *path,
    const char *json, struct cd_response *resp)
{
    struct cd_request rq;
    char len[32];

    at_request(&rq, method, path, NULL);
    if (json != NULL) {
        snprintf(len, sizeof(len), "%zu", strlen(json));
        rq.content_type = "application/json";
        rq.content_length = len;
        rq.body = (const uint8_t *)json;
        rq.body_len = strlen(json);
    }
    at_run(t, &rq, resp);
}

/* ---- answers ---- */

char *
at_text(const struct cd_response *resp)
{
    char *s = NULL;

    if (resp->body != NULL)
        s = json_dumps(resp->body, JSON_COMPACT | JSON_PRESERVE_ORDER);
    if (s == NULL)
        s = strdup(resp->raw != NULL ? "(raw bytes)" : "(no body)");
    assert_non_null(s);
    return s;
}

const char *
at_str(const json_t *obj, const char *key)
{
    json_t *v = json_object_get(obj, key);

    if (!json_is_string(v))
        fail_msg("\"%s\" is not a string", key);
    return json_string_value(v);
}

/* 1 when the JSON value v is field: a string equal to it, or null for NULL. */
static int
field_is(const json_t *v, const char *field)
{
    if (field == NULL)
        return json_is_null(v);
    return json_is_string(v) && strcmp(json_string_value(v), field) == 0;
}

void
at_assert_error(const struct cd_response *resp, const char *code,
    const char *field)
{
    const json_t *e;
    char *txt = at_text(resp);
    size_t i;

    for (i = 0; i < NELEM(service_errors); i++)
        if (strcmp(service_errors[i].code, code) == 0)
            break;
    if (i == NELEM(service_errors))
        fail_msg("%s is not a code of fcgi/errors.def", code);
    if (resp->status != service_errors[i].status)
        fail_msg("status %d, not %d (%s): %s", resp->status,
            service_errors[i].status, code, txt);
    if (!json_is_object(resp->body) || json_object_size(resp->body) != 3 ||
        !json_is_false(json_object_get(resp->body, "ok")) ||
        !json_is_array(json_object_get(resp->body, "warnings")) ||
        json_array_size(json_object_get(resp->body, "warnings")) != 0 ||
        !json_is_array(json_object_get(resp->body, "errors")) ||
        json_array_size(json_object_get(resp->body, "errors")) != 1)
        fail_msg("not {ok: false, errors: [one], warnings: []}: %s", txt);
    e = json_array_get(json_object_get(resp->body, "errors"), 0);
    if (!json_is_object(e) || json_object_size(e) != 4 ||
        !json_is_string(json_object_get(e, "code")) ||
        !json_is_string(json_object_get(e, "message")) ||
        (!json_is_string(json_object_get(e, "detail")) &&
        !json_is_null(json_object_get(e, "detail"))))
        fail_msg("not {code, message, field, detail}: %s", txt);
    if (strcmp(at_str(e, "code"), code) != 0)
        fail_msg("code %s, not %s: %s", at_str(e, "code"), code, txt);
    if (strcmp(at_str(e, "message"), service_errors[i].message) != 0)
        fail_msg("message is not errors.def's: %s", txt);
    if (!field_is(json_object_get(e, "field"), field))
        fail_msg("field is not %s: %s", field != NULL ? field : "null", txt);
    if (strcmp(resp->codes, code) != 0)
        fail_msg("log line codes \"%s\", not %s", resp->codes, code);
    assert_null(resp->raw);
    free(txt);
}

size_t
at_count(const json_t *body, const char *list, const char *code,
    const char *field)
{
    const json_t *a = json_object_get(body, list), *f;
    size_t i, n = 0;

    if (!json_is_array(a))
        fail_msg("the answer has no \"%s\" list", list);
    json_array_foreach(a, i, f) {
        if (!json_is_object(f) ||
            !json_is_string(json_object_get(f, "code")))
            fail_msg("a finding of \"%s\" has no code", list);
        if (strcmp(at_str(f, "code"), code) != 0)
            continue;
        if (field == NULL || field_is(json_object_get(f, "field"), field))
            n++;
    }
    return n;
}

void
at_assert_finding(const struct cd_response *resp, const char *code,
    const char *field)
{
    char *txt = at_text(resp);

    if (resp->status != 422)
        fail_msg("status %d, not 422 for %s: %s", resp->status, code, txt);
    if (!json_is_false(json_object_get(resp->body, "ok")))
        fail_msg("ok is not false: %s", txt);
    if (at_count(resp->body, "errors", code, field) == 0)
        fail_msg("no %s error on %s: %s", code,
            field != NULL ? field : "any field", txt);
    if (strstr(resp->codes, code) == NULL)
        fail_msg("log line codes \"%s\" lack %s", resp->codes, code);
    free(txt);
}

/* ---- the state directory ---- */

void
at_current(struct at_fx *t, char *id, size_t len)
{
    char p[256], target[128];
    ssize_t n;

    snprintf(p, sizeof(p), "%s/current", t->dir);
    n = readlink(p, target, sizeof(target) - 1);
    target[n > 0 ? n : 0] = '\0';
    snprintf(id, len, "%s", strncmp(target, "releases/", 9) == 0 ?
        target + 9 : target);
}

size_t
at_releases(struct at_fx *t)
{
    struct cd_release rel[CD_MAX_RELEASES];
    size_t n = 0;

    if (cd_install_list(&t->s, rel, CD_MAX_RELEASES, &n) != 0)
        return 0;
    return n;
}

void
at_ensure(struct at_fx *t, char *id, size_t len)
{
    struct cd_install_result res;

    memset(&res, 0, sizeof(res));
    if (cd_install_ensure(&t->s, &res) != 0)
        fail_msg("cd_install_ensure: %s", res.err);
    at_current(t, id, len);
    assert_string_not_equal(id, "");
}

void
at_install_good(struct at_fx *t, char *id, size_t len)
{
    struct cd_buf b = { 0 };
    struct cd_response resp;
    char *txt;

    at_upload(&b, "Sensor 1", "good.key", "good.pem", "chain.pem", NULL);
    at_post(t, "/api/certificate", &b, &resp);
    if (resp.status != 200) {
        txt = at_text(&resp);
        fail_msg("install of good.pem: status %d: %s", resp.status, txt);
    }
    snprintf(id, len, "%s", at_str(resp.body, "release"));
    cd_api_response_clear(&resp);
    cd_buf_free(&b);
}
