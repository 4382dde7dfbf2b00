/*
 * reply.h - the JSON form of the engine's answers (jansson), shared by
 * certdialog-check and certdialog-fcgi.  No FastCGI here.
 */
#ifndef CD_REPLY_H
#define CD_REPLY_H

#include <jansson.h>

#include "cv.h"

/* {"code","message","field","detail"}; new reference or NULL. */
json_t *cd_reply_finding(const struct cv_finding *f);
/* The certificate summary; NULL when !s->valid or out of memory. */
json_t *cd_reply_summary(const struct cv_summary *s);
/*
 * {"ok", "certificate", "errors", "warnings"}: the body of SPEC §4's
 * validate answer and what certdialog-check prints.  New reference or NULL.
 */
json_t *cd_reply_report(const struct cv_report *rep);
/* {"ok": false, "errors": [one finding], "warnings": []}. */
json_t *cd_reply_error(enum cv_code code, const char *field,
    const char *detail);
/* Indented text with a final newline; caller frees with free(). */
char *cd_reply_dumps(const json_t *j);

#endif
