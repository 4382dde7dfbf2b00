/*
 * tokens.c - API tokens for scripts: GET/POST /api/tokens and
 * DELETE /api/tokens/ID (docs/API.md "API tokens").  Reachable only
 * signed in (a token never makes tokens); the secret is in the answer to
 * its creation and nowhere else.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>

#include "auth.h"
#include "cv_util.h"
#include "cvjson.h"
#include "handlers.h"

#define MAX_DAYS        3650

void
cd_tokens_get(struct cd_app *app, const struct cd_request *rq,
    struct cd_response *resp)
{
    char err[256];
    json_t *list;

    (void)rq;
    if ((list = cd_token_list(app->settings, err, sizeof(err))) == NULL) {
        cd_api_fail(resp, CD_ERR_UNAVAILABLE, NULL, err);
        return;
    }
    resp->status = 200;
    resp->body = json_pack("{s:b, s:o}", "ok", 1, "tokens", list);
}

void
cd_tokens_post(struct cd_app *app, const struct cd_request *rq,
    struct cd_response *resp)
{
    char secret[CD_AUTH_TOKEN_LEN + 8], err[256], d[64];
    struct cd_token t;
    json_t *j, *name, *days;
    json_int_t n = 0;

    if ((j = cd_api_json_body(rq, resp)) == NULL)
        return;
    name = json_object_get(j, "name");
    days = json_object_get(j, "expires_days");
    if (!json_is_string(name) || strlen(json_string_value(name)) !=
        json_string_length(name) ||
        !cd_token_name_ok(json_string_value(name))) {
        cd_api_fail(resp, CD_ERR_BAD_REQUEST, "name", "a token name is 1 "
            "to 64 characters, no control characters");
        goto out;
    }
    if (days != NULL && !json_is_null(days) && (!json_is_integer(days) ||
        (n = json_integer_value(days)) < 1 || n > MAX_DAYS)) {
        snprintf(d, sizeof(d), "a whole number of days from 1 to %d, or "
            "null", MAX_DAYS);
        cd_api_fail(resp, CD_ERR_BAD_REQUEST, "expires_days", d);
        goto out;
    }
    if (cd_token_new(app->settings, resp->user, json_string_value(name),
        (unsigned)n, secret, sizeof(secret), &t, err, sizeof(err)) != 0) {
        cd_api_fail(resp, CD_ERR_UNAVAILABLE, NULL, err);
        goto out;
    }
    resp->status = 201;
    resp->body = json_pack("{s:b, s:s, s:s, s:s, s:o, s:o}", "ok", 1,
        "id", t.id, "name", t.name, "token", secret,
        "created", cvjson_time(t.created), "expires",
        cvjson_time(t.expires));
    OPENSSL_cleanse(secret, sizeof(secret));
out:
    json_decref(j);
}

void
cd_tokens_delete(struct cd_app *app, const struct cd_request *rq,
    struct cd_response *resp)
{
    char id[64], err[256];
    int rc;

    if (cd_api_path_param(rq, id, sizeof(id)) != 0) {
        cd_api_fail(resp, CD_ERR_NOT_FOUND, NULL, "no such token");
        return;
    }
    rc = cd_token_revoke(app->settings, id, err, sizeof(err));
    if (rc < 0) {
        cd_api_fail(resp, CD_ERR_UNAVAILABLE, NULL, err);
        return;
    }
    if (rc > 0) {
        cd_api_fail(resp, CD_ERR_NOT_FOUND, NULL, "no such token");
        return;
    }
    resp->status = 200;
    resp->body = json_pack("{s:b}", "ok", 1);
}
