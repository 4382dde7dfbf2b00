/*
 * rollback.c - making a kept release current again: POST
 * /api/certificate/rollback (the release active before the current one)
 * and POST /api/certificate/history/{id}/activate (the one named).  Both
 * go through release.c's one path: the install lock, the check, the swap,
 * the reload and handshake, and the way back when it is not served.
 */
#include "config.h"

#include <string.h>

#include "handlers.h"
#include "install.h"

/* The answer of a switch that cd_install_rollback/activate returned rc. */
static void
answer(struct cd_app *app, int rc, struct cd_install_result *res,
    struct cd_response *resp)
{
    switch (rc) {
    case 0:
        break;
    case -2:
        cd_api_fail(resp, CD_ERR_NO_PREVIOUS, NULL, res->err);
        return;
    default:            /* a full or read-only disk, an unserved release */
        cd_api_fail(resp, CD_ERR_INSTALL_FAILED, NULL, res->err);
        cd_status_add_install(resp->body, res);
        return;
    }
    resp->status = 200;
    if ((resp->body = cd_status_json(app, NULL, resp)) == NULL) {
        cd_api_fail(resp, CD_ERR_UNAVAILABLE, NULL, "out of memory");
        return;
    }
    cd_status_add_install(resp->body, res);
}

void
cd_rollback_post(struct cd_app *app, const struct cd_request *rq,
    struct cd_response *resp)
{
    struct cd_install_result res;

    (void)rq;
    memset(&res, 0, sizeof(res));
    answer(app, cd_install_rollback(app->settings, &res), &res, resp);
}

void
cd_activate_post(struct cd_app *app, const struct cd_request *rq,
    struct cd_response *resp)
{
    struct cd_install_result res;
    char id[64];
    int rc;

    memset(&res, 0, sizeof(res));
    if (cd_api_path_param(rq, id, sizeof(id)) != 0) {
        cd_api_fail(resp, CD_ERR_NO_SUCH_RELEASE, NULL,
            "no kept release has this id");
        return;
    }
    rc = cd_install_activate(app->settings, id, &res);
    if (rc == -3)
        cd_api_fail(resp, CD_ERR_NO_SUCH_RELEASE, NULL, res.err);
    else if (rc == -2)
        cd_api_fail(resp, CD_ERR_ALREADY_ACTIVE, NULL, res.err);
    else
        answer(app, rc, &res, resp);
}
