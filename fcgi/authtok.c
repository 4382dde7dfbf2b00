/*
 * authtok.c - API tokens for scripts: "cdt_ID_SECRET", ID 12 hex digits
 * naming STATE/auth/tokens/ID, SECRET 32 random bytes (base64url) of which
 * only the sha256 is kept.  "last_used" is rewritten at most every
 * CD_AUTH_TOKEN_TOUCH seconds.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "auth.h"
#include "cv_util.h"
#include "cvjson.h"

#define PREFIX "cdt_"

int
cd_token_name_ok(const char *name)
{
    const unsigned char *p = (const unsigned char *)name;
    size_t chars = 0;

    if (name == NULL || name[0] == '\0')
        return 0;
    for (; *p != '\0'; p++) {
        if (*p < 0x20 || *p == 0x7f)
            return 0;
        if ((*p & 0xc0) != 0x80)        /* not a UTF-8 continuation */
            chars++;
    }
    return chars <= CD_AUTH_TOKEN_NAME_MAX;
}

static int
id_ok(const char *id)
{
    size_t i;

    for (i = 0; id[i] != '\0'; i++)
        if (!((id[i] >= '0' && id[i] <= '9') || (id[i] >= 'a' &&
            id[i] <= 'f')))
            return 0;
    return i == CD_AUTH_TOKEN_ID_LEN;
}

static json_t *
time_or_null(time_t t)
{
    return t != 0 ? json_integer((json_int_t)t) : json_null();
}

static time_t
time_of(const json_t *v)
{
    return json_is_integer(v) ? (time_t)json_integer_value(v) : 0;
}

/* A token file's JSON into *out (hash into hash): 0, or -1. */
static int
token_parse(const json_t *j, const char *id, struct cd_token *out,
    char hash[65])
{
    json_t *u = json_object_get(j, "user"), *n = json_object_get(j, "name"),
        *h = json_object_get(j, "hash");

    if (!json_is_string(u) || !json_is_string(n) || !json_is_string(h) ||
        json_string_length(h) != 64 || !cd_auth_name_ok(json_string_value(u)))
        return -1;
    memset(out, 0, sizeof(*out));
    snprintf(out->id, sizeof(out->id), "%s", id);
    snprintf(out->user, sizeof(out->user), "%s", json_string_value(u));
    snprintf(out->name, sizeof(out->name), "%s", json_string_value(n));
    out->created = time_of(json_object_get(j, "created"));
    out->expires = time_of(json_object_get(j, "expires"));
    out->last_used = time_of(json_object_get(j, "last_used"));
    if (hash != NULL)
        memcpy(hash, json_string_value(h), 65);
    return 0;
}

static json_t *
token_json(const struct cd_token *t, const char *hash)
{
    return json_pack("{s:s, s:s, s:I, s:o, s:o, s:s}", "user", t->user,
        "name", t->name, "created", (json_int_t)t->created,
        "expires", time_or_null(t->expires),
        "last_used", time_or_null(t->last_used), "hash", hash);
}

int
cd_token_new(const struct cd_settings *s, const char *user,
    const char *name, unsigned days, char *secret, size_t secretlen,
    struct cd_token *out, char *err, size_t errlen)
{
    unsigned char raw[CD_AUTH_TOKEN_ID_LEN / 2];
    char dir[4096], p[4400], sec[48], hash[65];
    struct stat st;
    json_t *j = NULL;
    size_t i;
    int lock = -1, rc = -1, tries;

    if (!cd_token_name_ok(name)) {
        snprintf(err, errlen, "a token name is 1 to 64 characters, no "
            "control characters");
        return -1;
    }
    if (secretlen < CD_AUTH_TOKEN_LEN + 1) {
        snprintf(err, errlen, "no room for the token");
        return -1;
    }
    if ((lock = cd_auth_lock(s, err, errlen)) < 0)
        return -1;
    if (cd_auth_dir(s, "tokens", dir, sizeof(dir), err, errlen) != 0)
        goto out;
    memset(out, 0, sizeof(*out));
    for (tries = 0; tries < 8; tries++) {
        if (RAND_bytes(raw, sizeof(raw)) != 1)
            break;
        for (i = 0; i < sizeof(raw); i++)
            snprintf(out->id + 2 * i, 3, "%02x", raw[i]);
        snprintf(p, sizeof(p), "%s/%s", dir, out->id);
        if (lstat(p, &st) != 0)
            break;
    }
    if (tries == 8 || cd_auth_random_b64(32, sec, sizeof(sec)) != 0) {
        snprintf(err, errlen, "no random bytes for a token");
        goto out;
    }
    snprintf(out->user, sizeof(out->user), "%s", user);
    snprintf(out->name, sizeof(out->name), "%s", name);
    out->created = cd_auth_now();
    out->expires = days != 0 ? out->created + (time_t)days * 86400 : 0;
    cd_auth_sha256_hex(sec, strlen(sec), hash);
    if ((j = token_json(out, hash)) == NULL) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    if (cd_auth_write_json(p, j, err, errlen) != 0)
        goto out;
    snprintf(secret, secretlen, PREFIX "%s_%s", out->id, sec);
    rc = 0;
out:
    OPENSSL_cleanse(sec, sizeof(sec));
    json_decref(j);
    cd_auth_unlock(lock);
    return rc;
}

/* Writes the new last_used unless the token was revoked meanwhile. */
static void
touch(const struct cd_settings *s, const char *p, struct cd_token *t,
    time_t now)
{
    char err[256], hash[65];
    struct cd_token cur;
    json_t *j;
    int lock;

    if ((lock = cd_auth_lock(s, err, sizeof(err))) < 0)
        return;
    j = cd_auth_read_json(p);
    if (j != NULL && token_parse(j, t->id, &cur, hash) == 0) {
        json_decref(j);
        cur.last_used = t->last_used = now;
        if ((j = token_json(&cur, hash)) != NULL)
            cd_auth_write_json(p, j, err, sizeof(err));
    }
    json_decref(j);
    cd_auth_unlock(lock);
}

int
cd_token_find(const struct cd_settings *s, const char *value,
    struct cd_token *out)
{
    char id[CD_AUTH_TOKEN_ID_LEN + 1], p[4400], hash[65], want[65];
    const char *sec;
    json_t *j;
    time_t now;
    int ok;

    if (value == NULL || strncmp(value, PREFIX, 4) != 0 ||
        strlen(value) != CD_AUTH_TOKEN_LEN ||
        value[4 + CD_AUTH_TOKEN_ID_LEN] != '_')
        return 1;
    snprintf(id, sizeof(id), "%.*s", CD_AUTH_TOKEN_ID_LEN, value + 4);
    sec = value + 4 + CD_AUTH_TOKEN_ID_LEN + 1;
    if (!id_ok(id))
        return 1;
    snprintf(p, sizeof(p), "%s/auth/tokens/%s", s->state_dir, id);
    if ((j = cd_auth_read_json_kept(p)) == NULL)
        return 1;
    ok = token_parse(j, id, out, want) == 0;
    json_decref(j);
    if (!ok)
        return 1;
    cd_auth_sha256_hex(sec, strlen(sec), hash);
    if (CRYPTO_memcmp(hash, want, 64) != 0)
        return 1;
    now = cd_auth_now();
    if (out->expires != 0 && now >= out->expires)
        return 1;
    if (now - out->last_used >= CD_AUTH_TOKEN_TOUCH)
        touch(s, p, out, now);
    return 0;
}

/* Inserts e into a keeping it ordered by "created", then "id". */
static void
insert_sorted(json_t *a, json_t *e, time_t created)
{
    size_t i;

    for (i = 0; i < json_array_size(a); i++) {
        json_t *o = json_array_get(a, i);
        time_t c = time_of(json_object_get(o, "_created"));

        if (c > created || (c == created && strcmp(json_string_value(
            json_object_get(o, "id")), json_string_value(json_object_get(e,
            "id"))) > 0))
            break;
    }
    json_array_insert_new(a, i, e);
}

json_t *
cd_token_list(const struct cd_settings *s, char *err, size_t errlen)
{
    char dir[4096], p[4400];
    struct cd_token t;
    struct dirent *de;
    json_t *a, *j, *e;
    time_t now = cd_auth_now();
    size_t i;
    DIR *d;

    if (cd_auth_dir(s, "tokens", dir, sizeof(dir), err, errlen) != 0)
        return NULL;
    if ((d = opendir(dir)) == NULL) {
        snprintf(err, errlen, "cannot read %s: %s", dir, strerror(errno));
        return NULL;
    }
    if ((a = json_array()) == NULL) {
        closedir(d);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    while ((de = readdir(d)) != NULL) {
        if (!id_ok(de->d_name))
            continue;
        snprintf(p, sizeof(p), "%s/%s", dir, de->d_name);
        if ((j = cd_auth_read_json(p)) == NULL)
            continue;
        if (token_parse(j, de->d_name, &t, NULL) == 0) {
            e = json_pack("{s:s, s:s, s:s, s:o, s:o, s:o, s:b, s:I}",
                "id", t.id, "name", t.name, "user", t.user,
                "created", cvjson_time(t.created),
                "last_used", cvjson_time(t.last_used),
                "expires", cvjson_time(t.expires),
                "expired", t.expires != 0 && now >= t.expires,
                "_created", (json_int_t)t.created);
            if (e != NULL)
                insert_sorted(a, e, t.created);
        }
        json_decref(j);
    }
    closedir(d);
    for (i = 0; i < json_array_size(a); i++)
        json_object_del(json_array_get(a, i), "_created");
    return a;
}

int
cd_token_revoke(const struct cd_settings *s, const char *id, char *err,
    size_t errlen)
{
    char p[4400];
    int lock, rc;

    if (!id_ok(id))
        return 1;
    if ((lock = cd_auth_lock(s, err, errlen)) < 0)
        return -1;
    snprintf(p, sizeof(p), "%s/auth/tokens/%s", s->state_dir, id);
    if (unlink(p) == 0)
        rc = 0;
    else if (errno == ENOENT)
        rc = 1;
    else {
        snprintf(err, errlen, "cannot remove %s: %s", p, strerror(errno));
        rc = -1;
    }
    cd_auth_unlock(lock);
    return rc;
}
