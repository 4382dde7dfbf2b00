/*
 * reply.h - the JSON form of the engine's answers (jansson), shared by
 * certdialog-check and certdialog-fcgi.  No FastCGI and no HTTP status
 * here: the caller decides how to send it.
 *
 * Every function returns a new reference that the caller releases with
 * json_decref(), or NULL when out of memory; none crashes on NULL input.
 * Messages come only from cv_code_message() (validate/cv_codes.def).
 * Text that is not valid UTF-8 (a certificate's Latin-1 subject, say) is
 * sent with each bad byte replaced by U+FFFD, never dropped.
 */
#ifndef CD_REPLY_H
#define CD_REPLY_H

#include <jansson.h>

#include "cv.h"

/*
 * {"code", "message", "field", "detail"} of one finding; field and detail
 * are null when the finding has none.  NULL when f is NULL.
 * Caller releases with json_decref().
 */
json_t *cd_reply_finding(const struct cv_finding *f);

/*
 * {"subject", "subject_cn", "issuer", "serial", "not_before", "not_after",
 * "days_left", "key_type", "key_bits", "signature_algorithm",
 * "sha256_fingerprint", "self_signed", "san", "crl_distribution_points"},
 * times in ISO 8601 UTC.  NULL when s is NULL or !s->valid (callers send
 * json null then) or out of memory.  Caller releases with json_decref().
 */
json_t *cd_reply_summary(const struct cv_summary *s);

/*
 * {"ok", "certificate", "errors", "warnings"}: the body of SPEC §4's
 * validate answer and what certdialog-check prints.  "errors" holds the
 * blocking findings, "warnings" the others, each in report order;
 * "certificate" is null when no certificate could be read.  NULL when rep
 * is NULL.  Caller releases with json_decref().
 */
json_t *cd_reply_report(const struct cv_report *rep);

/*
 * {"ok": false, "errors": [one finding], "warnings": []}, for a request
 * the service refuses before the engine runs (400, 413, ...).  field and
 * detail may be NULL.  Caller releases with json_decref().
 */
json_t *cd_reply_error(enum cv_code code, const char *field,
    const char *detail);

/*
 * The text of j, indented by two, keys in insertion order, with a final
 * newline.  NULL when j is NULL or out of memory.  Caller frees with free().
 */
char *cd_reply_dumps(const json_t *j);

#endif /* CD_REPLY_H */
