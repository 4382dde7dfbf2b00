/*
 * meta.c - a release's meta.json (meta.h): written once with the
 * release, read back for the history and the rollback.
 */
#include "config.h"

#include "meta.h"

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/err.h>
#include <openssl/x509.h>

#include "cv.h"
#include "cv_util.h"
#include "files.h"

#define ISO_FMT         "%Y-%m-%dT%H:%M:%SZ"
#define ID_TIME_FMT     "%Y%m%dT%H%M%SZ-"       /* release.c's make_id() */

/* s as fmt, 0 when it isn't; a prefix may have more after the time. */
static time_t
parse_time(const char *s, const char *fmt, int prefix)
{
    struct tm tm;
    const char *end;

    memset(&tm, 0, sizeof(tm));
    if (s == NULL || (end = strptime(s, fmt, &tm)) == NULL ||
        (!prefix && *end != '\0'))
        return 0;
    return timegm(&tm);
}

/* libcv's summary of the leaf: its fingerprint, CN and end of validity. */
static int
summarize(X509 *leaf, time_t now, struct cv_summary *sum)
{
    unsigned char *der = NULL;
    int n, rc;

    memset(sum, 0, sizeof(*sum));
    if ((n = i2d_X509(leaf, &der)) <= 0) {
        ERR_clear_error();
        return -1;
    }
    rc = cv_cert_summary(der, (size_t)n, now, sum);
    OPENSSL_free(der);
    ERR_clear_error();
    return rc;
}

const char *
cd_meta_crl_outcome(const struct cd_install_files *f,
    const struct cv_summary *sum)
{
    if (!f->use_crl)
        return "off";
    if (sum == NULL || !sum->valid || sum->n_crl_dp == 0)
        return "no_dp";
    /* an unreachable or invalid CRL is only a warning with "none" */
    if (f->validation != NULL && strcmp(f->validation, "none") == 0)
        return "not_enforced";
    return "checked";
}

char *
cd_meta_encode(const struct cd_install_files *f, const char *id, time_t now,
    long long seq)
{
    struct cv_summary sum;
    char when[32], until[32];
    json_t *m;
    char *out;

    cv_time_iso(now, when, sizeof(when));
    if (summarize(f->leaf, now, &sum) != 0 || sum.not_after == 0)
        snprintf(until, sizeof(until), "unknown");
    else
        cv_time_iso(sum.not_after, until, sizeof(until));
    m = json_pack("{s:s, s:s, s:s, s:s, s:b, s:s, s:s, s:I, s:s, s:s, s:s}",
        "id", id,
        "name", f->name != NULL ? f->name : "",
        "mode", f->mode != NULL ? f->mode : "ca-signed",
        "validation", f->validation != NULL ? f->validation : "mandatory",
        "use_crl", f->use_crl != 0,
        "crl", cd_meta_crl_outcome(f, &sum),
        "installed_at", when,
        "seq", (json_int_t)seq,
        "sha256", sum.sha256,
        "subject_cn", sum.subject_cn,
        "not_after", until);
    if (m == NULL)
        return NULL;
    out = json_dumps(m, JSON_INDENT(2));
    json_decref(m);
    return out;
}

/* A string member of m into buf; buf untouched when there is none. */
static void
get_str(json_t *m, const char *key, char *buf, size_t len)
{
    json_t *v = json_object_get(m, key);

    if (json_is_string(v))
        snprintf(buf, len, "%s", json_string_value(v));
}

int
cd_meta_read(const char *path, const char *id, struct cd_release *info,
    long long *seq)
{
    json_t *m = NULL, *v;
    size_t len = 0;
    char *buf;
    int rc = -1;

    *seq = 0;
    info->installed_at = parse_time(id, ID_TIME_FMT, 1);
    if ((buf = cv_read_file(path, CD_META_MAX, CV_READ_REGULAR, &len)) ==
        NULL)
        return -1;
    if ((m = json_loadb(buf, len, 0, NULL)) == NULL || !json_is_object(m))
        goto out;
    get_str(m, "name", info->name, sizeof(info->name));
    get_str(m, "mode", info->mode, sizeof(info->mode));
    get_str(m, "validation", info->validation, sizeof(info->validation));
    info->use_crl = json_is_true(json_object_get(m, "use_crl"));
    get_str(m, "crl", info->crl, sizeof(info->crl));
    get_str(m, "subject_cn", info->subject_cn, sizeof(info->subject_cn));
    if (json_is_string(v = json_object_get(m, "not_after")))
        info->not_after = parse_time(json_string_value(v), ISO_FMT, 0);
    if (json_is_string(v = json_object_get(m, "installed_at")))
        info->installed_at = parse_time(json_string_value(v), ISO_FMT, 0);
    if (json_is_integer(v = json_object_get(m, "seq")) &&
        json_integer_value(v) > 0)
        *seq = json_integer_value(v);
    rc = 0;
out:
    json_decref(m);
    free(buf);
    return rc;
}

/* ---- the activation log ---- */

static int
log_path(const char *state, char *path)
{
    return cd_path(path, "%s/" CD_META_LOG, state);
}

size_t
cd_meta_log_read(const char *state, struct cd_activation *a, size_t max)
{
    char path[PATH_MAX];
    json_t *m = NULL, *arr, *e;
    size_t len = 0, n = 0, i;
    const char *id;
    char *buf;

    if (state == NULL || log_path(state, path) != 0 || (buf =
        cv_read_file(path, CD_META_MAX, CV_READ_REGULAR, &len)) == NULL)
        return 0;
    m = json_loadb(buf, len, 0, NULL);
    free(buf);
    arr = json_object_get(m, "activations");
    /* the newest max of them */
    i = json_array_size(arr) > max ? json_array_size(arr) - max : 0;
    for (; json_is_array(arr) && i < json_array_size(arr); i++) {
        e = json_array_get(arr, i);
        id = json_string_value(json_object_get(e, "release"));
        if (id == NULL || strlen(id) >= sizeof(a[n].id))
            continue;
        snprintf(a[n].id, sizeof(a[n].id), "%s", id);
        a[n].how[0] = '\0';
        get_str(e, "how", a[n].how, sizeof(a[n].how));
        a[n].from = parse_time(json_string_value(json_object_get(e,
            "from")), ISO_FMT, 0);
        a[n].to = parse_time(json_string_value(json_object_get(e, "to")),
            ISO_FMT, 0);
        n++;
    }
    json_decref(m);
    return n;
}

/* {"release", "from", "to"} of one entry; to null while current. */
static json_t *
entry_json(const struct cd_activation *a)
{
    char from[32], to[32];

    cv_time_iso(a->from, from, sizeof(from));
    cv_time_iso(a->to, to, sizeof(to));
    return json_pack("{s:s, s:s, s:s, s:o}", "release", a->id, "how",
        a->how, "from", from, "to", a->to != 0 ? json_string(to) :
        json_null());
}

int
cd_meta_log_append(const char *state, const char *id, const char *how,
    time_t now, char *err, size_t errlen)
{
    struct cd_activation a[CD_META_LOG_MAX + 1];
    char path[PATH_MAX];
    json_t *arr, *m = NULL;
    size_t n, i;
    char *out = NULL;
    int rc = -1;

    n = cd_meta_log_read(state, a, CD_META_LOG_MAX);
    if (n > 0 && a[n - 1].to == 0 && strcmp(a[n - 1].id, id) == 0)
        return 0;               /* current already */
    if (n > 0 && a[n - 1].to == 0)
        a[n - 1].to = now;
    snprintf(a[n].id, sizeof(a[n].id), "%s", id);
    snprintf(a[n].how, sizeof(a[n].how), "%s", how);
    a[n].from = now;
    a[n].to = 0;
    n++;
    if ((arr = json_array()) == NULL ||
        (m = json_pack("{s:o}", "activations", arr)) == NULL)
        goto oom;
    /* the oldest one goes when the log is full */
    for (i = n > CD_META_LOG_MAX ? n - CD_META_LOG_MAX : 0; i < n; i++)
        if (json_array_append_new(arr, entry_json(&a[i])) != 0)
            goto oom;
    if ((out = json_dumps(m, JSON_INDENT(2))) == NULL)
        goto oom;
    if (log_path(state, path) != 0) {
        snprintf(err, errlen, "cannot write %s: %s", CD_META_LOG,
            strerror(errno));
        goto out;
    }
    rc = cd_file_replace(path, out, strlen(out), 0644, err, errlen);
    goto out;
oom:
    snprintf(err, errlen, "cannot write %s: out of memory", CD_META_LOG);
out:
    free(out);
    json_decref(m);
    return rc;
}
