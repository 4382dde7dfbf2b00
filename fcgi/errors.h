/*
 * errors.h - the service's own error answers (fcgi/errors.def) and the one
 * rule that gives every error answer its HTTP status: a service code's
 * status is its row's; an engine finding (validate/cv_codes.def) is 422.
 */
#ifndef CD_ERRORS_H
#define CD_ERRORS_H

#include <jansson.h>

#include "cv.h"

enum cd_err {
    CD_ERR_NONE = 0,
#define CD_ERR(id, name, status, msg) CD_ERR_##id,
#include "errors.def"
#undef CD_ERR
    CD_ERR_COUNT
};

/* The HTTP status of an answer that holds engine findings. */
#define CD_FINDING_STATUS 422

/* JSON name, HTTP status and message of a code; out of range: 500. */
const char *cd_err_name(enum cd_err e);
int cd_err_status(enum cd_err e);
const char *cd_err_message(enum cd_err e);

/*
 * {"ok": false, "errors": [{code, message, field, detail}], "warnings":
 * []} for e.  field and detail may be NULL.  Caller releases with
 * json_decref(); NULL when out of memory.
 */
json_t *cd_err_json(enum cd_err e, const char *field, const char *detail);
/* The same for one engine finding answered by the service itself. */
json_t *cd_err_finding_json(enum cv_code code, const char *field,
    const char *detail);

#endif /* CD_ERRORS_H */
