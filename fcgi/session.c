/*
 * session.c - signing in and out, and changing one's password:
 * POST/GET/DELETE /api/session and PUT /api/session/password (docs/API.md
 * "Signing in").  The password is checked here only, never per request;
 * every try counts towards the guessing limits (ratelimit.c) first.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>

#include "auth.h"
#include "cv_util.h"
#include "handlers.h"

/* A password inside a parsed body: overwritten before it is freed. */
static void
wipe(json_t *v)
{
    if (json_is_string(v))
        OPENSSL_cleanse((char *)json_string_value(v), json_string_length(v));
}

/* Wipes every string member of j, then releases it. */
static void
body_free(json_t *j)
{
    const char *k;
    json_t *v;

    if (j == NULL)
        return;
    json_object_foreach(j, k, v)
        wipe(v);
    json_decref(j);
}

/* The string member key of j: its value, or NULL with a 400 in resp. */
static const char *
member(json_t *j, const char *key, struct cd_response *resp)
{
    json_t *v = json_object_get(j, key);
    char d[64];

    if (!json_is_string(v) || strlen(json_string_value(v)) !=
        json_string_length(v)) {
        snprintf(d, sizeof(d), "\"%s\" must be a string", key);
        cd_api_fail(resp, CD_ERR_BAD_REQUEST, key, d);
        return NULL;
    }
    return json_string_value(v);
}

/* 0 when user may try now, or -1 with a 429 (or 503) in resp. */
static int
limited(struct cd_app *app, const struct cd_request *rq, const char *user,
    struct cd_response *resp)
{
    long w = cd_ratelimit_wait(app->settings, rq->remote_addr, user);
    char d[64];

    if (w <= 0)
        return 0;
    snprintf(d, sizeof(d), "try again in %ld s", w);
    cd_api_fail(resp, CD_ERR_TOO_MANY_ATTEMPTS, NULL, d);
    resp->retry_after = w;
    return -1;
}

/* A new session for user: Set-Cookie in resp, *ss.  0 or -1 (503). */
static int
start(struct cd_app *app, const char *user, int must_change,
    struct cd_session *ss, struct cd_response *resp)
{
    char cookie[CD_AUTH_COOKIE_LEN + 8], err[256];

    if (cd_session_new(app->settings, user, must_change, cookie,
        sizeof(cookie), ss, err, sizeof(err)) != 0) {
        cd_api_fail(resp, CD_ERR_UNAVAILABLE, NULL, err);
        return -1;
    }
    cd_api_set_cookie(resp, cookie);
    OPENSSL_cleanse(cookie, sizeof(cookie));
    snprintf(resp->user, sizeof(resp->user), "%s", user);
    resp->via = CD_VIA_SESSION;
    memcpy(resp->session_id, ss->id, sizeof(resp->session_id));
    resp->must_change = must_change;
    resp->expires = (long long)cd_session_expires(app->settings, ss);
    return 0;
}

static json_t *
iso(long long t)
{
    char buf[32];

    cv_time_iso((time_t)t, buf, sizeof(buf));
    return json_string(buf);
}

void
cd_session_post(struct cd_app *app, const struct cd_request *rq,
    struct cd_response *resp)
{
    struct cd_session ss;
    const char *user, *pass;
    char err[256];
    json_t *j;
    int must = 0, ok;

    if ((j = cd_api_json_body(rq, resp)) == NULL)
        return;
    if ((user = member(j, "user", resp)) == NULL ||
        (pass = member(j, "password", resp)) == NULL)
        goto out;
    if (limited(app, rq, user, resp) != 0)
        goto out;
    ok = cd_auth_verify(app->settings, user, pass, &must, err, sizeof(err));
    if (ok < 0) {
        cd_api_fail(resp, CD_ERR_UNAVAILABLE, NULL, err);
        goto out;
    }
    if (ok == 0) {
        cd_ratelimit_fail(app->settings, rq->remote_addr, user);
        cd_api_fail(resp, CD_ERR_SIGN_IN_FAILED, NULL, NULL);
        goto out;
    }
    cd_ratelimit_clear(app->settings, rq->remote_addr, user);
    if (start(app, user, must, &ss, resp) != 0)
        goto out;
    resp->status = 200;
    resp->body = json_pack("{s:b, s:s, s:b, s:i, s:o}", "ok", 1,
        "user", ss.user, "must_change_password", must,
        "idle_timeout", app->settings->session_idle_timeout,
        "expires", iso(resp->expires));
out:
    body_free(j);
}

void
cd_session_get(struct cd_app *app, const struct cd_request *rq,
    struct cd_response *resp)
{
    int session = resp->via == CD_VIA_SESSION;

    (void)rq;
    resp->status = 200;
    resp->body = json_pack("{s:b, s:s, s:s, s:b, s:o, s:o}", "ok", 1,
        "user", resp->user, "via", session ? "session" : "token",
        "must_change_password", resp->must_change,
        "idle_timeout", session ?
        json_integer(app->settings->session_idle_timeout) : json_null(),
        "expires", session ? iso(resp->expires) : json_null());
}

void
cd_session_delete(struct cd_app *app, const struct cd_request *rq,
    struct cd_response *resp)
{
    char err[256];

    (void)rq;
    /* signing out ends every session of the user, not only this one */
    if (cd_session_end_user(app->settings, resp->user, err, sizeof(err)) <
        0) {
        cd_session_end(app->settings, resp->session_id);
        cd_api_fail(resp, CD_ERR_UNAVAILABLE, NULL, err);
        return;
    }
    cd_api_clear_cookie(resp);
    resp->status = 200;
    resp->body = json_pack("{s:b}", "ok", 1);
}

void
cd_password_put(struct cd_app *app, const struct cd_request *rq,
    struct cd_response *resp)
{
    struct cd_session ss;
    const char *cur, *nw, *weak;
    char user[sizeof(resp->user)], err[256];
    json_t *j;
    int must, ok;

    snprintf(user, sizeof(user), "%s", resp->user);
    if ((j = cd_api_json_body(rq, resp)) == NULL)
        return;
    if ((cur = member(j, "current", resp)) == NULL ||
        (nw = member(j, "new", resp)) == NULL)
        goto out;
    if (limited(app, rq, user, resp) != 0)
        goto out;
    ok = cd_auth_verify(app->settings, user, cur, &must, err, sizeof(err));
    if (ok < 0) {
        cd_api_fail(resp, CD_ERR_UNAVAILABLE, NULL, err);
        goto out;
    }
    if (ok == 0) {
        cd_ratelimit_fail(app->settings, rq->remote_addr, user);
        cd_api_fail(resp, CD_ERR_SIGN_IN_FAILED, "current", NULL);
        goto out;
    }
    cd_ratelimit_clear(app->settings, rq->remote_addr, user);
    if ((weak = cd_auth_password_weak(user, nw, cur)) != NULL) {
        cd_api_fail(resp, CD_ERR_WEAK_PASSWORD, "new", weak);
        goto out;
    }
    /* ends every session of the user; this browser gets a new one */
    if (cd_auth_set_password(app->settings, user, nw, 0, err,
        sizeof(err)) != 0) {
        cd_api_fail(resp, CD_ERR_UNAVAILABLE, NULL, err);
        goto out;
    }
    if (start(app, user, 0, &ss, resp) != 0)
        goto out;
    resp->status = 200;
    resp->body = json_pack("{s:b}", "ok", 1);
out:
    body_free(j);
}
