/*
 * cvjson.h - the JSON form of the engine's report (jansson), shared by
 * certdialog-check and certdialog-fcgi.  No FastCGI, no HTTP status and
 * none of the service's own codes here: the caller decides how to send it.
 *
 * Every function returns a new reference that the caller releases with
 * json_decref(), or NULL when out of memory; none crashes on NULL input.
 * Finding messages come only from cv_code_message() (validate/cv_codes.def).
 * Text that is not valid UTF-8 (a certificate's Latin-1 subject, say) is
 * sent with each bad byte replaced by U+FFFD, never dropped.
 */
#ifndef CVJSON_H
#define CVJSON_H

#include <time.h>

#include <jansson.h>

#include "cv.h"

/*
 * {"code", "message", "field", "detail"} of one finding; field and detail
 * are null when the finding has none.  NULL when f is NULL.
 * Caller releases with json_decref().
 */
json_t *cvjson_finding(const struct cv_finding *f);

/*
 * {"subject", "subject_cn", "issuer", "serial", "not_before", "not_after",
 * "days_left", "key_type", "key_bits", "signature_algorithm",
 * "sha256_fingerprint", "self_signed", "san", "crl_distribution_points"},
 * times in ISO 8601 UTC.  NULL when s is NULL or !s->valid (callers send
 * json null then) or out of memory.  Caller releases with json_decref().
 */
json_t *cvjson_summary(const struct cv_summary *s);

/*
 * {"ok", "certificate", "errors", "warnings"}: the body of docs/API.md's
 * validate answer and what certdialog-check prints.  "errors" holds the
 * blocking findings, "warnings" the others, each in report order;
 * "certificate" is null when no certificate could be read.  NULL when rep
 * is NULL.  Caller releases with json_decref().
 */
json_t *cvjson_report(const struct cv_report *rep);

/*
 * A signing request's fields: {"subject", "cn", "o", "ou", "c", "st", "l",
 * "san", "key_type", "key_bits", "key_sha256", "signature_algorithm"};
 * absent fields are "".  NULL when s is NULL or !s->valid.
 */
json_t *cvjson_csr_summary(const struct cv_csr_summary *s);
/*
 * {"ok", "csr", "errors", "warnings"} of cv_csr_check()'s report: what
 * certdialog-check --csr prints.  "csr" is null when it could not be read.
 */
json_t *cvjson_csr_report(const struct cv_report *rep,
    const struct cv_csr_summary *s);

/*
 * {"ok": false, "errors": [{"code", "message", "field", "detail"}],
 * "warnings": []}: one error in the shape of a report, for an answer that
 * is not the engine's (the caller's table gives code and message).  field
 * and detail may be NULL.  Caller releases with json_decref().
 */
json_t *cvjson_error(const char *code, const char *message,
    const char *field, const char *detail);

/* A time as an ISO 8601 UTC string, or json null for 0 ("never"). */
json_t *cvjson_time(time_t t);

/*
 * The text of j, indented by two, keys in insertion order, with a final
 * newline.  NULL when j is NULL or out of memory.  Caller frees with free().
 */
char *cvjson_dumps(const json_t *j);

#endif /* CVJSON_H */
