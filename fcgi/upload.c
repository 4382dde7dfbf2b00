/*
 * upload.c - POST /api/certificate (install) and POST
 * /api/certificate/validate (dry run): the multipart form of docs/API.md
 * read into the engine's input, the report answered, and what passes
 * installed.  mode=self-signed with confirm=yes returns to a fresh
 * self-signed certificate instead.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cv_util.h"
#include "cvjson.h"
#include "gate.h"
#include "handlers.h"
#include "install.h"
#include "multipart.h"
#include "pending.h"

/* The form's fields; anything else is a 400. */
static const char *const fields[] = {
    "mode", "name", "passphrase", "key", "crt", "chain", "use_crl",
    "validation", "confirm", NULL
};

/* The codes of a report for the log line, "-" when none. */
static void
log_codes(struct cd_response *resp, const struct cv_report *rep)
{
    size_t i, off = 0;
    int n;

    snprintf(resp->codes, sizeof(resp->codes), "-");
    for (i = 0; i < rep->n_findings; i++) {
        n = snprintf(resp->codes + off, sizeof(resp->codes) - off, "%s%s",
            off ? "," : "", cv_code_name(rep->findings[i].code));
        if (n < 0 || (size_t)n >= sizeof(resp->codes) - off)
            break;
        off += (size_t)n;
    }
    if (rep->summary.valid)
        snprintf(resp->sha256, sizeof(resp->sha256), "%s",
            rep->summary.sha256);
}

/*
 * A short choice field (mode, use_crl, validation, confirm) as a
 * NUL-terminated copy in buf, or NULL when absent.  A value too long for
 * buf or holding a NUL becomes "", which no choice accepts.
 */
static const char *
choice(const struct cd_part *parts, size_t n, const char *name, char *buf,
    size_t len)
{
    const struct cd_part *p = cd_multipart_get(parts, n, name);

    if (p == NULL)
        return NULL;
    if (p->len >= len || memchr(p->data, '\0', p->len) != NULL)
        return "";
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
        resp->status = CD_FINDING_STATUS;
        resp->body = cd_err_finding_json(CV_MISSING_FIELD, "confirm",
            "a self-signed certificate must be confirmed (confirm=yes)");
        snprintf(resp->codes, sizeof(resp->codes), "%s",
            cv_code_name(CV_MISSING_FIELD));
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
        cd_api_fail(resp, CD_ERR_INSTALL_FAILED, NULL, res.err);
        cd_status_add_install(resp->body, &res);
        return;
    }
    resp->status = 200;
    resp->body = cd_status_json(app, NULL, resp);
    cd_status_add_install(resp->body, &res);
}

/* The engine's options from the form and the settings (gate.c). */
static void
options(const struct cd_app *app, const char *use_crl,
    const char *validation, struct cv_options *opt)
{
    cd_gate_options(app->settings, app->crl_slots,
        use_crl == NULL || strcmp(use_crl, "on") == 0,
        validation != NULL && strcmp(validation, "none") == 0 ?
        CV_VALIDATION_NONE : CV_VALIDATION_MANDATORY, opt);
}

/* A part's bytes as the engine's input (NULL, 0 when absent). */
static const uint8_t *
part_data(const struct cd_part *p, size_t *lenp)
{
    *lenp = p != NULL ? p->len : 0;
    return p != NULL ? p->data : NULL;
}

/*
 * With the pending key, a key_mismatch means the certificate was not
 * issued for the request made here: the detail says so.
 */
static void
pending_mismatch(struct cv_report *rep)
{
    size_t i;

    for (i = 0; i < rep->n_findings; i++) {
        if (rep->findings[i].code != CV_KEY_MISMATCH)
            continue;
        free(rep->findings[i].detail);
        rep->findings[i].detail = strdup("no key was uploaded, and the "
            "certificate does not match the pending signing request's key: "
            "it was issued for another request");
        rep->findings[i].field = "crt";
    }
}

static void
upload(struct cd_app *app, const struct cd_request *rq, int install,
    struct cd_response *resp)
{
    struct cd_part parts[CD_MULTIPART_MAX_PARTS];
    struct cd_multipart_limits lim = CD_MULTIPART_LIMITS_DEFAULT;
    char boundary[80], err[160], name[80];
    char mode[32], use_crl[16], validation[32], confirm[16];
    const char *m, *uc, *va;
    const struct cd_part *nm, *pass;
    struct cv_input in;
    struct cv_options opt;
    struct timespec c0;
    struct cv_report *rep = NULL;
    struct cd_install_result res;
    uint8_t *pkey = NULL;
    size_t n = 0, pkey_len = 0;
    enum cd_mp_status st;

    lim.max_file = app->settings->max_file;
    if (cd_multipart_boundary(rq->content_type, boundary,
        sizeof(boundary)) != CD_MP_OK) {
        cd_api_fail(resp, CD_ERR_BAD_REQUEST, NULL, "bad boundary");
        return;
    }
    st = cd_multipart_parse(rq->body, rq->body_len, boundary, &lim, fields,
        parts, &n, err, sizeof(err));
    if (st != CD_MP_OK) {
        cd_api_fail(resp, st == CD_MP_TOO_LARGE ? CD_ERR_TOO_LARGE :
            CD_ERR_BAD_REQUEST, NULL, err);
        return;
    }
    m = choice(parts, n, "mode", mode, sizeof(mode));
    if (m != NULL && strcmp(m, "self-signed") == 0) {
        self_signed(app, choice(parts, n, "confirm", confirm,
            sizeof(confirm)), install, resp);
        return;
    }
    if (m != NULL && strcmp(m, "ca-signed") != 0) {
        cd_api_fail(resp, CD_ERR_BAD_REQUEST, "mode",
            "mode must be ca-signed or self-signed");
        return;
    }
    uc = choice(parts, n, "use_crl", use_crl, sizeof(use_crl));
    va = choice(parts, n, "validation", validation, sizeof(validation));
    if (uc != NULL && strcmp(uc, "on") != 0 && strcmp(uc, "off") != 0) {
        cd_api_fail(resp, CD_ERR_BAD_REQUEST, "use_crl",
            "use_crl must be on or off");
        return;
    }
    if (va != NULL && strcmp(va, "mandatory") != 0 &&
        strcmp(va, "none") != 0) {
        cd_api_fail(resp, CD_ERR_BAD_REQUEST, "validation",
            "validation must be mandatory or none");
        return;
    }

    memset(&in, 0, sizeof(in));
    /* the name's bytes as sent: the engine judges length and characters */
    if ((nm = cd_multipart_get(parts, n, "name")) != NULL && nm->len > 0) {
        in.name = (const char *)nm->data;
        in.name_len = nm->len;
    }
    in.key = part_data(cd_multipart_get(parts, n, "key"), &in.key_len);
    /* no key: the one made here with the pending signing request */
    if (in.key == NULL && cd_pending_key(app->settings->state_dir, &pkey,
        &pkey_len) == 1) {
        in.key = pkey;
        in.key_len = pkey_len;
    }
    in.crt = part_data(cd_multipart_get(parts, n, "crt"), &in.crt_len);
    in.chain = part_data(cd_multipart_get(parts, n, "chain"), &in.chain_len);
    if ((pass = cd_multipart_get(parts, n, "passphrase")) != NULL) {
        in.passphrase = (const char *)pass->data;
        in.passphrase_len = pass->len;
    }
    options(app, uc, va, &opt);

    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c0);
    rep = cv_validate(app->cv, &in, &opt);
    resp->engine_ms = cv_ms_since(CLOCK_THREAD_CPUTIME_ID, &c0);
    if (rep == NULL) {
        cd_api_fail(resp, CD_ERR_UNAVAILABLE, NULL, "out of memory");
        goto out;
    }
    if (in.name == NULL)
        cv_report_add(rep, CV_MISSING_FIELD, "name",
            "the Certificate Name is required");
    if (pkey != NULL)
        pending_mismatch(rep);
    cd_status_name_check(app, rq, rep, install && cv_report_ok(rep));
    log_codes(resp, rep);
    if ((resp->body = cvjson_report(rep)) == NULL) {
        cd_api_fail(resp, CD_ERR_UNAVAILABLE, NULL, "out of memory");
        goto out;
    }
    if (!cv_report_ok(rep)) {
        resp->status = CD_FINDING_STATUS;
        goto out;
    }
    resp->status = 200;
    if (!install)
        goto out;
    /* accepted, so the name is 1 to 64 plain characters */
    snprintf(name, sizeof(name), "%.*s", (int)in.name_len, in.name);
    if (cd_gate_install(app->settings, name, &opt, rep, &res) != 0) {
        /* with what the reload and the handshake saw */
        cd_api_fail(resp, CD_ERR_INSTALL_FAILED, NULL, res.err);
        cd_status_add_install(resp->body, &res);
        goto out;
    }
    cd_status_add_install(resp->body, &res);
    /* its certificate is served: the request is no longer pending */
    if (pkey != NULL)
        cd_pending_discard(app->settings->state_dir, rep->key);
out:
    if (rep != NULL) {
        /* freeing what cv_validate() made is the engine's work too */
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c0);
        cv_report_free(rep);
        resp->engine_ms += cv_ms_since(CLOCK_THREAD_CPUTIME_ID, &c0);
    }
    cv_free_secret(pkey, pkey_len + 1);
}

void
cd_upload_install(struct cd_app *app, const struct cd_request *rq,
    struct cd_response *resp)
{
    upload(app, rq, 1, resp);
}

void
cd_upload_validate(struct cd_app *app, const struct cd_request *rq,
    struct cd_response *resp)
{
    upload(app, rq, 0, resp);
}
