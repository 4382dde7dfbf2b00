/*
 * state.c - certdialog-expiry's memory between runs (state.h): one JSON
 * object, replaced whole (file.h) under its own lock.
 */
#include "config.h"

#include "state.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include <jansson.h>

#include "cv_util.h"
#include "files.h"

int
cd_expiry_state_path(const struct cd_settings *s, char *buf, size_t len)
{
    int n;

    if (s->expiry_state != NULL)
        n = snprintf(buf, len, "%s", s->expiry_state);
    else
        n = snprintf(buf, len, "%s/expiry.json", s->state_dir);
    return n < 0 || (size_t)n >= len ? -1 : 0;
}

void
cd_expiry_record_init(struct cd_expiry_record *r)
{
    memset(r, 0, sizeof(*r));
    r->next_threshold = -1;
}

void
cd_expiry_record_for(struct cd_expiry_record *r, const char *fp)
{
    if (strcmp(r->fingerprint, fp) == 0)
        return;
    snprintf(r->fingerprint, sizeof(r->fingerprint), "%s", fp);
    memset(&r->journal, 0, sizeof(r->journal));
    memset(&r->webhook, 0, sizeof(r->webhook));
}

static json_t *
sent_json(const struct cd_expiry_sent *s)
{
    json_t *a = json_array();
    size_t i;

    for (i = 0; a != NULL && i < s->n; i++)
        if (json_array_append_new(a, json_integer(s->days[i])) != 0) {
            json_decref(a);
            return NULL;
        }
    return a;
}

/* A time as ISO 8601, or null for 0. */
static json_t *
time_json(time_t t)
{
    char buf[32];

    if (t == 0)
        return json_null();
    cv_time_iso(t, buf, sizeof(buf));
    return json_string(buf);
}

char *
cd_expiry_record_encode(const struct cd_expiry_record *r)
{
    json_t *o;
    char *out = NULL;

    o = json_pack("{s:s, s:o, s:o, s:o, s:b, s:o, s:o, s:o, s:s}",
        "fingerprint", r->fingerprint,
        "journal", sent_json(&r->journal),
        "webhook", sent_json(&r->webhook),
        "last_check", time_json(r->last_check),
        "success", r->success != 0,
        "not_after", time_json(r->not_after),
        "days_left", r->not_after != 0 ?
            json_integer(r->days_left) : json_null(),
        "next_threshold", r->next_threshold >= 0 ?
            json_integer(r->next_threshold) : json_null(),
        "detail", r->detail);
    if (o != NULL)
        out = json_dumps(o, JSON_INDENT(2));
    json_decref(o);
    return out;
}

static int
sent_from(json_t *a, struct cd_expiry_sent *s)
{
    size_t i;
    json_t *v;

    s->n = 0;
    if (a == NULL)
        return 0;
    if (!json_is_array(a) || json_array_size(a) > CD_MAX_THRESHOLDS)
        return -1;
    json_array_foreach(a, i, v) {
        if (!json_is_integer(v))
            return -1;
        s->days[s->n++] = (int)json_integer_value(v);
    }
    return 0;
}

static time_t
time_from(json_t *v)
{
    struct tm tm;
    const char *s = json_string_value(v), *end;

    memset(&tm, 0, sizeof(tm));
    if (s == NULL || (end = strptime(s, "%Y-%m-%dT%H:%M:%SZ", &tm)) == NULL ||
        *end != '\0')
        return 0;
    return timegm(&tm);
}

int
cd_expiry_record_decode(const char *buf, size_t len,
    struct cd_expiry_record *r)
{
    json_t *o, *v;
    json_error_t je;
    int rc = -1;

    cd_expiry_record_init(r);
    if ((o = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &je)) == NULL)
        return -1;
    v = json_object_get(o, "fingerprint");
    if (!json_is_object(o) || !json_is_string(v) ||
        sent_from(json_object_get(o, "journal"), &r->journal) != 0 ||
        sent_from(json_object_get(o, "webhook"), &r->webhook) != 0)
        goto out;
    snprintf(r->fingerprint, sizeof(r->fingerprint), "%s",
        json_string_value(v));
    r->last_check = time_from(json_object_get(o, "last_check"));
    r->not_after = time_from(json_object_get(o, "not_after"));
    r->success = json_is_true(json_object_get(o, "success"));
    if (json_is_integer(v = json_object_get(o, "days_left")))
        r->days_left = (long)json_integer_value(v);
    if (json_is_integer(v = json_object_get(o, "next_threshold")))
        r->next_threshold = (int)json_integer_value(v);
    if (json_is_string(v = json_object_get(o, "detail")))
        snprintf(r->detail, sizeof(r->detail), "%s", json_string_value(v));
    rc = 0;
out:
    json_decref(o);
    if (rc != 0)
        cd_expiry_record_init(r);
    return rc;
}

int
cd_expiry_state_read(const char *path, struct cd_expiry_record *r, char *err,
    size_t errlen)
{
    char *buf;
    size_t len;
    int rc;

    cd_expiry_record_init(r);
    if ((buf = cv_read_file(path, CD_EXPIRY_STATE_MAX, CV_READ_REGULAR,
        &len)) == NULL) {
        if (errno == ENOENT)
            return 0;
        snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
        return -1;
    }
    rc = cd_expiry_record_decode(buf, len, r);
    free(buf);
    if (rc != 0)
        snprintf(err, errlen, "%s is not certdialog-expiry's state; "
            "starting afresh", path);
    return rc;
}

int
cd_expiry_state_write(const char *path, const struct cd_expiry_record *r,
    char *err, size_t errlen)
{
    char *out = cd_expiry_record_encode(r);
    int rc;

    if (out == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    rc = cd_file_replace(path, out, strlen(out), 0600, err, errlen);
    free(out);
    return rc;
}

int
cd_expiry_state_lock(const char *path, char *err, size_t errlen)
{
    char lp[PATH_MAX];
    int fd;

    if (snprintf(lp, sizeof(lp), "%s.lock", path) >= (int)sizeof(lp)) {
        snprintf(err, errlen, "%s: path too long", path);
        return -1;
    }
    if ((fd = open(lp, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) < 0) {
        snprintf(err, errlen, "cannot open %s: %s", lp, strerror(errno));
        return -1;
    }
    while (flock(fd, LOCK_EX) != 0) {
        if (errno == EINTR)
            continue;
        snprintf(err, errlen, "cannot lock %s: %s", lp, strerror(errno));
        close(fd);
        return -1;
    }
    return fd;
}
