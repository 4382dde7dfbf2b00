/*
 * handlers.h - the handlers that fcgi/api.c's route table names, one file
 * a resource.  Each gets a request that passed its row's checks (method,
 * access, origin, body) and fills resp: a status and a JSON body, or a
 * download, or an error through cd_api_fail().
 */
#ifndef CD_HANDLERS_H
#define CD_HANDLERS_H

#include <jansson.h>

#include "api.h"
#include "cv.h"
#include "install.h"

/* status.c: GET /api/certificate */
void cd_status_get(struct cd_app *app, const struct cd_request *rq,
    struct cd_response *resp);
/*
 * The status answer {ok, certificate, hostname, history} and, with rq,
 * "access" (how the admin reached the appliance).  Sets resp->sha256.
 * New reference, NULL when out of memory.
 */
json_t *cd_status_json(struct cd_app *app, const struct cd_request *rq,
    struct cd_response *resp);
/*
 * The name check of an upload against the address the admin uses (the
 * request's Host, else its server address): when the certificate does not
 * cover it, one name_mismatch warning saying that https://ADDRESS shows a
 * name error after Save (installed: now); when it does, no warning, but
 * for the configured host name when that is not a loopback name.
 */
void cd_status_name_check(struct cd_app *app, const struct cd_request *rq,
    struct cv_report *rep, int installed);
/* Adds "release" and "reload" of an install or rollback to body. */
void cd_status_add_install(json_t *body, const struct cd_install_result *res);

/* upload.c: POST /api/certificate, POST /api/certificate/validate */
void cd_upload_install(struct cd_app *app, const struct cd_request *rq,
    struct cd_response *resp);
void cd_upload_validate(struct cd_app *app, const struct cd_request *rq,
    struct cd_response *resp);

/* download.c: GET /api/certificate/download */
void cd_download_get(struct cd_app *app, const struct cd_request *rq,
    struct cd_response *resp);

/*
 * rollback.c: POST /api/certificate/rollback,
 * POST /api/certificate/history/ID/activate
 */
void cd_rollback_post(struct cd_app *app, const struct cd_request *rq,
    struct cd_response *resp);
void cd_activate_post(struct cd_app *app, const struct cd_request *rq,
    struct cd_response *resp);

/*
 * session.c: POST/GET/DELETE /api/session, PUT /api/session/password.
 * resp->user, via, session_id hold the caller (cd_api_precheck()).
 */
void cd_session_post(struct cd_app *app, const struct cd_request *rq,
    struct cd_response *resp);
void cd_session_get(struct cd_app *app, const struct cd_request *rq,
    struct cd_response *resp);
void cd_session_delete(struct cd_app *app, const struct cd_request *rq,
    struct cd_response *resp);
void cd_password_put(struct cd_app *app, const struct cd_request *rq,
    struct cd_response *resp);

/* tokens.c: GET/POST /api/tokens, DELETE /api/tokens/ID */
void cd_tokens_get(struct cd_app *app, const struct cd_request *rq,
    struct cd_response *resp);
void cd_tokens_post(struct cd_app *app, const struct cd_request *rq,
    struct cd_response *resp);
void cd_tokens_delete(struct cd_app *app, const struct cd_request *rq,
    struct cd_response *resp);

/*
 * csr.c: GET/POST/DELETE /api/csr, GET /api/csr/download (the pending
 * signing request; its key is answered by no route)
 */
void cd_csr_get(struct cd_app *app, const struct cd_request *rq,
    struct cd_response *resp);
void cd_csr_post(struct cd_app *app, const struct cd_request *rq,
    struct cd_response *resp);
void cd_csr_delete(struct cd_app *app, const struct cd_request *rq,
    struct cd_response *resp);
void cd_csr_download(struct cd_app *app, const struct cd_request *rq,
    struct cd_response *resp);

/*
 * acme.c: GET/PUT /api/acme (automatic renewal's settings and status),
 * POST /api/acme/renew (starts a run now), the http-01 answers
 */
void cd_acme_get(struct cd_app *app, const struct cd_request *rq,
    struct cd_response *resp);
void cd_acme_put(struct cd_app *app, const struct cd_request *rq,
    struct cd_response *resp);
void cd_acme_renew(struct cd_app *app, const struct cd_request *rq,
    struct cd_response *resp);
/* GET /api/acme/challenge/TOKEN: an http-01 answer (public) */
void cd_acme_challenge(struct cd_app *app, const struct cd_request *rq,
    struct cd_response *resp);

/*
 * expiry.c: GET /api/expiry (the warnings before expiry: the chain's end,
 * thresholds, last check, channels), POST /api/expiry/test (a test
 * notification through every channel, nothing recorded)
 */
void cd_expiry_get(struct cd_app *app, const struct cd_request *rq,
    struct cd_response *resp);
void cd_expiry_test(struct cd_app *app, const struct cd_request *rq,
    struct cd_response *resp);

#endif /* CD_HANDLERS_H */
