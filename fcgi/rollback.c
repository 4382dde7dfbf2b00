/*
 * rollback.c - POST /api/certificate/rollback: the release installed
 * before the current one becomes current again.
 */
#include "config.h"

#include <string.h>

#include "handlers.h"
#include "install.h"

void
cd_rollback_post(struct cd_app *app, const struct cd_request *rq,
    struct cd_response *resp)
{
    struct cd_install_result res;

    (void)rq;
    memset(&res, 0, sizeof(res));
    switch (cd_install_rollback(app->settings, &res)) {
    case 0:
        break;
    case -2:
        cd_api_fail(resp, CD_ERR_NO_PREVIOUS, NULL, res.err);
        return;
    default:            /* a full or read-only disk, an unserved release */
        cd_api_fail(resp, CD_ERR_INSTALL_FAILED, NULL, res.err);
        cd_status_add_install(resp->body, &res);
        return;
    }
    resp->status = 200;
    if ((resp->body = cd_status_json(app, NULL, resp)) == NULL) {
        cd_api_fail(resp, CD_ERR_UNAVAILABLE, NULL, "out of memory");
        return;
    }
    cd_status_add_install(resp->body, &res);
}
