/*
 * authsess.c - sessions: STATE/auth/sessions/HEX, HEX the sha256 of the
 * cookie value, holding {"user","created","last","must_change"}.  The
 * cookie itself is never written: a copy of the directory signs nobody
 * in.  Checking a session is one small read; "last" is rewritten at most
 * every CD_AUTH_SESSION_TOUCH seconds.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "auth.h"

static int
session_path(const struct cd_settings *s, const char *id, char *buf,
    size_t len)
{
    size_t i;

    if (strlen(id) != 64)
        return -1;
    for (i = 0; i < 64; i++)
        if (!((id[i] >= '0' && id[i] <= '9') || (id[i] >= 'a' &&
            id[i] <= 'f')))
            return -1;
    snprintf(buf, len, "%s/auth/sessions/%s", s->state_dir, id);
    return 0;
}

static json_t *
session_json(const struct cd_session *ss)
{
    return json_pack("{s:s, s:I, s:I, s:b}", "user", ss->user,
        "created", (json_int_t)ss->created, "last", (json_int_t)ss->last,
        "must_change", ss->must_change);
}

/* *out from a session file's JSON: 0, or -1 when it is not one. */
static int
session_parse(const json_t *j, const char *id, struct cd_session *out)
{
    json_t *u = json_object_get(j, "user"), *c = json_object_get(j,
        "created"), *l = json_object_get(j, "last");

    if (!json_is_string(u) || !json_is_integer(c) || !json_is_integer(l) ||
        !cd_auth_name_ok(json_string_value(u)))
        return -1;
    memset(out, 0, sizeof(*out));
    snprintf(out->id, sizeof(out->id), "%s", id);
    snprintf(out->user, sizeof(out->user), "%s", json_string_value(u));
    out->created = (time_t)json_integer_value(c);
    out->last = (time_t)json_integer_value(l);
    out->must_change = json_is_true(json_object_get(j, "must_change"));
    return 0;
}

time_t
cd_session_expires(const struct cd_settings *s, const struct cd_session *ss)
{
    return ss->created + s->session_lifetime;
}

static int
expired(const struct cd_settings *s, const struct cd_session *ss, time_t now)
{
    return now - ss->last >= s->session_idle_timeout ||
        now - ss->created >= s->session_lifetime || now < ss->created - 60;
}

/*
 * Walks the sessions: removes the expired ones and those of user (NULL:
 * none; "": everyone's).  Under the auth lock.  Returns how many of user's
 * went, or -1.
 */
static int
sweep(const struct cd_settings *s, const char *user, char *err,
    size_t errlen)
{
    char dir[4096], p[4400];
    struct cd_session ss;
    struct dirent *de;
    json_t *j;
    time_t now = cd_auth_now();
    DIR *d;
    int n = 0, mine;

    if (cd_auth_dir(s, "sessions", dir, sizeof(dir), err, errlen) != 0)
        return -1;
    if ((d = opendir(dir)) == NULL) {
        snprintf(err, errlen, "cannot read %s: %s", dir, strerror(errno));
        return -1;
    }
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.')
            continue;
        snprintf(p, sizeof(p), "%s/%s", dir, de->d_name);
        j = cd_auth_read_json(p);
        if (j == NULL || session_parse(j, de->d_name, &ss) != 0) {
            json_decref(j);
            unlink(p);          /* not a session: never signs anyone in */
            continue;
        }
        json_decref(j);
        mine = user != NULL && (user[0] == '\0' ||
            strcmp(ss.user, user) == 0);
        if (mine || expired(s, &ss, now)) {
            if (unlink(p) == 0 && mine)
                n++;
        }
    }
    closedir(d);
    return n;
}

int
cd_session_new(const struct cd_settings *s, const char *user,
    int must_change, char *cookie, size_t cookielen, struct cd_session *out,
    char *err, size_t errlen)
{
    char dir[4096], p[4400];
    json_t *j = NULL;
    int lock, rc = -1;

    if ((lock = cd_auth_lock(s, err, errlen)) < 0)
        return -1;
    /* a good moment to forget the expired ones */
    if (sweep(s, NULL, err, errlen) < 0)
        goto out;
    if (cd_auth_dir(s, "sessions", dir, sizeof(dir), err, errlen) != 0)
        goto out;
    if (cookielen < CD_AUTH_COOKIE_LEN + 1 ||
        cd_auth_random_b64(32, cookie, cookielen) != 0) {
        snprintf(err, errlen, "no random bytes for a session");
        goto out;
    }
    memset(out, 0, sizeof(*out));
    cd_auth_sha256_hex(cookie, strlen(cookie), out->id);
    snprintf(out->user, sizeof(out->user), "%s", user);
    out->created = out->last = cd_auth_now();
    out->must_change = must_change;
    snprintf(p, sizeof(p), "%s/%s", dir, out->id);
    if ((j = session_json(out)) == NULL) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    rc = cd_auth_write_json(p, j, err, errlen);
out:
    json_decref(j);
    cd_auth_unlock(lock);
    if (rc != 0)
        OPENSSL_cleanse(cookie, cookielen);
    return rc;
}

/* 1 when v is 43 characters of base64url. */
static int
cookie_ok(const char *v)
{
    size_t i;
    char c;

    for (i = 0; (c = v[i]) != '\0'; i++)
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
            (c >= '0' && c <= '9') || c == '-' || c == '_'))
            return 0;
    return i == CD_AUTH_COOKIE_LEN;
}

/* Writes the new "last" unless the session was ended meanwhile. */
static void
touch(const struct cd_settings *s, const char *p, struct cd_session *ss,
    time_t now)
{
    struct stat st;
    char err[256];
    json_t *j;
    int lock;

    if ((lock = cd_auth_lock(s, err, sizeof(err))) < 0)
        return;
    ss->last = now;
    if (lstat(p, &st) == 0 && (j = session_json(ss)) != NULL) {
        cd_auth_write_json(p, j, err, sizeof(err));
        json_decref(j);
    }
    cd_auth_unlock(lock);
}

int
cd_session_find(const struct cd_settings *s, const char *cookie,
    struct cd_session *out)
{
    char id[65], p[4400];
    json_t *j;
    time_t now;

    if (cookie == NULL || !cookie_ok(cookie))
        return -1;
    cd_auth_sha256_hex(cookie, strlen(cookie), id);
    if (session_path(s, id, p, sizeof(p)) != 0)
        return -1;
    if ((j = cd_auth_read_json(p)) == NULL)
        return 1;
    if (session_parse(j, id, out) != 0) {
        json_decref(j);
        return 1;
    }
    json_decref(j);
    now = cd_auth_now();
    if (expired(s, out, now)) {
        unlink(p);
        return 1;
    }
    if (now - out->last >= CD_AUTH_SESSION_TOUCH)
        touch(s, p, out, now);
    return 0;
}

void
cd_session_end(const struct cd_settings *s, const char *id)
{
    char p[4400], err[256];
    int lock;

    if (session_path(s, id, p, sizeof(p)) != 0)
        return;
    lock = cd_auth_lock(s, err, sizeof(err));
    unlink(p);
    cd_auth_unlock(lock);
}

int
cd_session_end_user(const struct cd_settings *s, const char *user,
    char *err, size_t errlen)
{
    int lock, n;

    if ((lock = cd_auth_lock(s, err, errlen)) < 0)
        return -1;
    n = sweep(s, user != NULL ? user : "", err, errlen);
    cd_auth_unlock(lock);
    return n;
}
