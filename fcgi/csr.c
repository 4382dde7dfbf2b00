/*
 * csr.c - /api/csr (docs/API.md "Signing request"): a key and a signing
 * request made on the appliance (the store is pending.c), read back with
 * its fields and the values a new request would start from, downloaded
 * for the CA, discarded.  The key itself is answered by no route: an
 * upload without a key uses it (upload.c).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/pem.h>

#include "cvjson.h"
#include "handlers.h"
#include "install.h"
#include "pending.h"

/* A string member of o, or NULL; -1 (answered) when it is not a string. */
static int
member(json_t *o, const char *key, const char **vp, struct cd_response *resp)
{
    json_t *v = json_object_get(o, key);
    char d[96];

    *vp = NULL;
    if (v == NULL || json_is_null(v))
        return 0;
    if (!json_is_string(v) ||
        strlen(json_string_value(v)) != json_string_length(v)) {
        snprintf(d, sizeof(d), "%s must be a string", key);
        cd_api_fail(resp, CD_ERR_BAD_REQUEST, key, d);
        return -1;
    }
    *vp = json_string_value(v);
    return 0;
}

/* The request's body into p (pointers into j); -1 when answered. */
static int
params_of(json_t *j, struct cd_csr_params *p, int *replacep,
    struct cd_response *resp)
{
    static const char *const known[] = {
        "key_type", "keep_key", "subject", "names", "replace", NULL
    };
    json_t *subj, *names, *v;
    const char *kt, *key;
    size_t i;

    memset(p, 0, sizeof(*p));
    json_object_foreach(j, key, v) {
        for (i = 0; known[i] != NULL && strcmp(known[i], key) != 0; i++)
            ;
        if (known[i] == NULL) {
            cd_api_fail(resp, CD_ERR_BAD_REQUEST, key, "unknown member");
            return -1;
        }
    }
    if (member(j, "key_type", &kt, resp) != 0)
        return -1;
    if (kt == NULL)
        kt = "rsa2048";
    if (cd_key_type_parse(kt, &p->key_type) != 0) {
        cd_api_fail(resp, CD_ERR_BAD_REQUEST, "key_type", "key_type must "
            "be rsa2048, rsa4096, ec-p256 or ec-p384");
        return -1;
    }
    if (((v = json_object_get(j, "keep_key")) != NULL && !json_is_boolean(v))
        || ((v = json_object_get(j, "replace")) != NULL &&
        !json_is_boolean(v))) {
        cd_api_fail(resp, CD_ERR_BAD_REQUEST, NULL,
            "keep_key and replace are true or false");
        return -1;
    }
    p->keep_key = json_is_true(json_object_get(j, "keep_key"));
    *replacep = json_is_true(json_object_get(j, "replace"));
    if ((subj = json_object_get(j, "subject")) == NULL ||
        !json_is_object(subj)) {
        cd_api_fail(resp, CD_ERR_BAD_REQUEST, "subject", "subject must be "
            "an object with cn, o, ou, c (and st, l)");
        return -1;
    }
    if (member(subj, "cn", &p->cn, resp) != 0 ||
        member(subj, "o", &p->o, resp) != 0 ||
        member(subj, "ou", &p->ou, resp) != 0 ||
        member(subj, "c", &p->c, resp) != 0 ||
        member(subj, "st", &p->st, resp) != 0 ||
        member(subj, "l", &p->l, resp) != 0)
        return -1;
    names = json_object_get(j, "names");
    if (names != NULL && (!json_is_array(names) ||
        json_array_size(names) > CD_CSR_MAX_NAMES)) {
        cd_api_fail(resp, CD_ERR_BAD_REQUEST, "names", "names must be a "
            "list of at most 16 host names or IP addresses");
        return -1;
    }
    json_array_foreach(names, i, v) {
        if (!json_is_string(v)) {
            cd_api_fail(resp, CD_ERR_BAD_REQUEST, "names",
                "names must be strings");
            return -1;
        }
        p->names[p->n_names++] = json_string_value(v);
    }
    return 0;
}

/* The current certificate's subject and names: the values to start from. */
static json_t *
defaults(struct cd_app *app)
{
    static const struct {
        const char *key;
        int nid;
    } attrs[] = {
        { "cn", NID_commonName }, { "o", NID_organizationName },
        { "ou", NID_organizationalUnitName }, { "c", NID_countryName },
        { "st", NID_stateOrProvinceName }, { "l", NID_localityName },
    };
    struct cv_summary sum;
    json_t *d, *subj, *names;
    char *pem, v[256];
    size_t len = 0, i;
    X509 *x = NULL;
    BIO *b;

    d = json_pack("{s:{}, s:[], s:[s, s], s:s}", "subject", "names",
        "key_types", "rsa2048", "rsa4096", "key_policy",
        cd_settings_allow_ec(app->settings) ? "rsa+ec" : "rsa");
    if (d == NULL)
        return NULL;
    if (cd_settings_allow_ec(app->settings)) {
        json_array_append_new(json_object_get(d, "key_types"),
            json_string("ec-p256"));
        json_array_append_new(json_object_get(d, "key_types"),
            json_string("ec-p384"));
    }
    subj = json_object_get(d, "subject");
    names = json_object_get(d, "names");
    if ((pem = cd_install_current_cert(app->settings, &len)) != NULL &&
        (b = BIO_new_mem_buf(pem, (int)len)) != NULL) {
        x = PEM_read_bio_X509(b, NULL, NULL, NULL);
        BIO_free(b);
    }
    ERR_clear_error();
    for (i = 0; x != NULL && i < sizeof(attrs) / sizeof(attrs[0]); i++)
        if (cv_name_get(X509_get_subject_name(x), attrs[i].nid, v,
            sizeof(v)) == 0)
            json_object_set_new(subj, attrs[i].key, json_string(v));
    if (pem != NULL && cv_cert_summary((const uint8_t *)pem, len, 0,
        &sum) == 0)
        for (i = 0; i < sum.n_san && i < CV_MAX_LIST; i++)
            json_array_append_new(names, json_string(strchr(sum.san[i],
                ':') + 1));
    /* a self-signed first certificate says little: the host name then */
    if (json_object_get(subj, "cn") == NULL ||
        (x != NULL && X509_self_signed(x, 0) == 1))
        json_object_set_new(subj, "cn",
            json_string(app->settings->hostname));
    if (json_array_size(names) == 0)
        json_array_append_new(names, json_string(app->settings->hostname));
    X509_free(x);
    free(pem);
    return d;
}

/* {"pending", ...}: the pending request with its fields, or none. */
static json_t *
pending_json(struct cd_app *app)
{
    struct cd_pending_info info;
    struct cv_csr_summary sum;
    struct cv_report *rep;
    char created[32], *pem = NULL;
    size_t len = 0;
    json_t *j = NULL, *fields = NULL;
    int r;

    r = cd_pending_request(app->settings->state_dir, &pem, &len, &info);
    if (r < 0)
        return NULL;
    if (r == 0) {
        j = json_pack("{s:b}", "pending", 0);
        goto out;
    }
    if ((rep = cv_csr_check((const uint8_t *)pem, len,
        cd_settings_allow_ec(app->settings), &sum)) != NULL) {
        fields = cvjson_csr_summary(&sum);
        cv_report_free(rep);
    }
    cv_time_iso(info.created, created, sizeof(created));
    j = json_pack("{s:b, s:s, s:s, s:b, s:s%, s:o?}", "pending", 1,
        "created", created, "key_type", info.key_type, "kept_key",
        info.kept_key, "pem", pem, len, "csr", fields);
out:
    if (j != NULL)
        json_object_set_new(j, "defaults", defaults(app));
    free(pem);
    return j;
}

void
cd_csr_get(struct cd_app *app, const struct cd_request *rq,
    struct cd_response *resp)
{
    (void)rq;
    if ((resp->body = pending_json(app)) == NULL) {
        cd_api_fail(resp, CD_ERR_UNAVAILABLE, NULL,
            "the pending signing request cannot be read");
        return;
    }
    resp->status = 200;
}

void
cd_csr_post(struct cd_app *app, const struct cd_request *rq,
    struct cd_response *resp)
{
    struct cd_csr_params p;
    const char *field;
    char why[256];
    json_t *j;
    int replace = 0, r;

    if ((j = cd_api_json_body(rq, resp)) == NULL)
        return;
    if (params_of(j, &p, &replace, resp) != 0)
        goto out;
    r = cd_pending_create(app->settings, &p, replace, &field, why,
        sizeof(why));
    if (r == -2) {
        cd_api_fail(resp, CD_ERR_CSR_PENDING, NULL, "send \"replace\": "
            "true to replace it, or DELETE /api/csr first");
        goto out;
    }
    if (r != 0) {
        cd_api_fail(resp, field != NULL ? CD_ERR_BAD_REQUEST :
            CD_ERR_UNAVAILABLE, field, why);
        goto out;
    }
    if ((resp->body = pending_json(app)) == NULL) {
        cd_api_fail(resp, CD_ERR_UNAVAILABLE, NULL,
            "the signing request was made but cannot be read back");
        goto out;
    }
    resp->status = 201;
out:
    json_decref(j);
}

void
cd_csr_delete(struct cd_app *app, const struct cd_request *rq,
    struct cd_response *resp)
{
    int r;

    (void)rq;
    r = cd_pending_discard(app->settings->state_dir, NULL);
    if (r == -2) {
        cd_api_fail(resp, CD_ERR_NOT_FOUND, NULL,
            "no signing request is pending");
        return;
    }
    if (r != 0) {
        cd_api_fail(resp, CD_ERR_UNAVAILABLE, NULL,
            "the pending signing request cannot be discarded");
        return;
    }
    resp->status = 200;
    resp->body = json_pack("{s:b}", "ok", 1);
}

void
cd_csr_download(struct cd_app *app, const struct cd_request *rq,
    struct cd_response *resp)
{
    struct cd_pending_info info;
    char *pem = NULL, host[64];
    size_t len = 0, i;
    int r;

    (void)rq;
    r = cd_pending_request(app->settings->state_dir, &pem, &len, &info);
    if (r <= 0) {
        cd_api_fail(resp, r == 0 ? CD_ERR_NOT_FOUND : CD_ERR_UNAVAILABLE,
            NULL, r == 0 ? "no signing request is pending" :
            "the pending signing request cannot be read");
        return;
    }
    /* the file is named after the host: letters, digits, dots, hyphens */
    snprintf(host, sizeof(host), "%s", app->settings->hostname);
    for (i = 0; host[i] != '\0'; i++)
        if (!((host[i] >= 'a' && host[i] <= 'z') ||
            (host[i] >= 'A' && host[i] <= 'Z') ||
            (host[i] >= '0' && host[i] <= '9') || host[i] == '.' ||
            host[i] == '-'))
            host[i] = '_';
    resp->raw = (uint8_t *)pem;
    resp->raw_len = len;
    resp->content_type = "application/pkcs10";
    snprintf(resp->filename, sizeof(resp->filename), "%s.csr", host);
    resp->status = 200;
}
