/*
 * acmeconf.c - ACME renewal's settings and status under STATE/acme/
 * (acme.h), and the decisions of when to renew and when to try again.
 * No HTTP and no ACME client here.
 */
#include "config.h"

#include "acme.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "cv_util.h"
#include "files.h"

#define CONFIG_MAX      (16u * 1024)

int
cd_acme_path(const struct cd_settings *s, const char *name, char *buf)
{
    return cd_path(buf, "%s/acme%s%s", s->state_dir, name[0] ? "/" : "",
        name);
}

int
cd_acme_mkdir(const struct cd_settings *s)
{
    char p[PATH_MAX];

    if (cd_acme_path(s, "", p) != 0)
        return -1;
    if (mkdir(p, 0700) != 0 && errno != EEXIST)
        return -1;
    return 0;
}

/* ---- checks of each member ---- */

static int
printable(const char *v, size_t max)
{
    size_t i, n = strlen(v);

    if (n == 0 || n > max)
        return 0;
    for (i = 0; i < n; i++)
        if ((unsigned char)v[i] <= 0x20 || (unsigned char)v[i] >= 0x7f)
            return 0;
    return 1;
}

/* https://HOST[:PORT][/PATH], printable ASCII without quotes. */
static int
url_ok(const char *v)
{
    const char *h = v + 8;

    if (!printable(v, CD_ACME_URL_MAX) || strncmp(v, "https://", 8) != 0)
        return 0;
    if (*h == '\0' || *h == '/' || *h == ':' || strpbrk(v, "\"'\\<>`") !=
        NULL || strchr(h, '@') != NULL)
        return 0;
    return 1;
}

/* A plain address: LOCAL@DOMAIN, letters, digits and a few marks. */
static int
email_ok(const char *v)
{
    const char *at = strchr(v, '@');
    size_t i;

    if (!printable(v, CD_ACME_EMAIL_MAX) || at == NULL || at == v ||
        at[1] == '\0' || strchr(at + 1, '@') != NULL)
        return 0;
    for (i = 0; v[i] != '\0'; i++)
        if (strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
            "0123456789.!#$%&*+/=?^_{|}~-@", v[i]) == NULL)
            return 0;
    return 1;
}

/* chars of set only, 1 to max of them */
static int
only(const char *v, const char *set, size_t max)
{
    size_t n = strlen(v);

    return n > 0 && n <= max && strspn(v, set) == n;
}

#define B64URL "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz" \
    "0123456789-_"

/* A string member, NULL when absent; -1 when present but not a string. */
static int
str_member(json_t *o, const char *k, const char **vp, int *nullp)
{
    json_t *v = json_object_get(o, k);

    *vp = NULL;
    if (nullp != NULL)
        *nullp = v != NULL && json_is_null(v);
    if (v == NULL || json_is_null(v))
        return 0;
    if (!json_is_string(v) ||
        strlen(json_string_value(v)) != json_string_length(v))
        return -1;
    *vp = json_string_value(v);
    return 0;
}

#define FAIL(f, ...) do { \
    *fieldp = (f); \
    snprintf(why, wlen, __VA_ARGS__); \
    goto fail; \
} while (0)

static int
parse_names(json_t *names, struct cd_acme_config *c, const char **fieldp,
    char *why, size_t wlen)
{
    json_t *v;
    size_t i, j;

    c->n_names = 0;
    if (names == NULL || json_is_null(names))
        return 0;
    if (!json_is_array(names) || json_array_size(names) > CD_ACME_MAX_NAMES)
        FAIL("names", "names must be a list of at most %d host names or "
            "IP addresses, or null (the served certificate's)",
            CD_ACME_MAX_NAMES);
    json_array_foreach(names, i, v) {
        if (!json_is_string(v) || !cd_name_ok(json_string_value(v)) ||
            strlen(json_string_value(v)) >= sizeof(c->names[0]))
            FAIL("names", "names[%zu] is not a host name or IP address "
                "(no wildcard)", i);
        for (j = 0; j < c->n_names; j++)
            if (strcasecmp(c->names[j], json_string_value(v)) == 0)
                FAIL("names", "names[%zu] is listed twice", i);
        snprintf(c->names[c->n_names++], sizeof(c->names[0]), "%s",
            json_string_value(v));
    }
    return 0;
fail:
    return -1;
}

int
cd_acme_config_parse(const struct cd_settings *s, json_t *body,
    const struct cd_acme_config *old, struct cd_acme_config *c,
    const char **fieldp, char *why, size_t wlen)
{
    static const char *const known[] = {
        "enabled", "directory", "email", "eab_key_id", "eab_hmac_key",
        "names", "key_type", "challenge", NULL
    };
    const char *v, *key;
    json_t *m;
    size_t i;
    int isnull;

    *fieldp = NULL;
    memset(c, 0, sizeof(*c));
    if (!json_is_object(body))
        FAIL(NULL, "the body must be a JSON object");
    json_object_foreach(body, key, m) {
        for (i = 0; known[i] != NULL && strcmp(known[i], key) != 0; i++)
            ;
        if (known[i] == NULL)
            FAIL(key, "unknown member");
    }
    m = json_object_get(body, "enabled");
    if (m != NULL && !json_is_boolean(m))
        FAIL("enabled", "enabled is true or false");
    c->enabled = m == NULL || json_is_true(m);

    if (str_member(body, "directory", &v, NULL) != 0 || v == NULL ||
        !url_ok(v))
        FAIL("directory", "directory must be the ACME server's directory "
            "URL, https:// (at most %d characters)", CD_ACME_URL_MAX);
    snprintf(c->directory, sizeof(c->directory), "%s", v);

    if (str_member(body, "email", &v, NULL) != 0 ||
        (v != NULL && v[0] != '\0' && !email_ok(v)))
        FAIL("email", "email must be a plain e-mail address "
            "(name@domain) or null");
    snprintf(c->email, sizeof(c->email), "%s", v != NULL ? v : "");

    if (str_member(body, "eab_key_id", &v, &isnull) != 0 ||
        (v != NULL && !only(v, B64URL ".~", CD_ACME_KID_MAX)))
        FAIL("eab_key_id", "eab_key_id is the key id the CA gave "
            "(letters, digits, - _ . ~; at most %d) or null",
            CD_ACME_KID_MAX);
    snprintf(c->eab_kid, sizeof(c->eab_kid), "%s", v != NULL ? v : "");
    if (str_member(body, "eab_hmac_key", &v, NULL) != 0 ||
        (v != NULL && !only(v, B64URL "=", CD_ACME_HMAC_MAX)))
        FAIL("eab_hmac_key", "eab_hmac_key is the HMAC key the CA gave, "
            "base64url (at most %d characters)", CD_ACME_HMAC_MAX);
    if (v != NULL)
        snprintf(c->eab_hmac, sizeof(c->eab_hmac), "%s", v);
    else if (json_object_get(body, "eab_hmac_key") == NULL && old != NULL &&
        c->eab_kid[0] != '\0' && strcmp(old->eab_kid, c->eab_kid) == 0)
        memcpy(c->eab_hmac, old->eab_hmac, sizeof(c->eab_hmac));
    if ((c->eab_kid[0] != '\0') != (c->eab_hmac[0] != '\0'))
        FAIL(c->eab_kid[0] ? "eab_hmac_key" : "eab_key_id",
            "external account binding needs both eab_key_id and "
            "eab_hmac_key");

    if (parse_names(json_object_get(body, "names"), c, fieldp, why,
        wlen) != 0)
        goto fail;

    if (str_member(body, "key_type", &v, NULL) != 0 ||
        cd_key_type_parse(v != NULL ? v : "rsa2048", &c->key_type) != 0)
        FAIL("key_type", "key_type must be rsa2048, rsa4096, ec-p256 or "
            "ec-p384");
    if (cd_key_type_is_ec(c->key_type) && !cd_settings_allow_ec(s))
        FAIL("key_type", "EC keys are allowed only with the key policy "
            "rsa+ec; this appliance's is rsa: choose rsa2048 or rsa4096");

    if (str_member(body, "challenge", &v, NULL) != 0)
        FAIL("challenge", "challenge must be a string");
    if (v != NULL && strcmp(v, "dns-01") == 0)
        FAIL("challenge", "dns-01 is not supported on this appliance: "
            "choose http-01");
    if (v != NULL && strcmp(v, "http-01") != 0)
        FAIL("challenge", "challenge must be http-01");
    snprintf(c->challenge, sizeof(c->challenge), "http-01");
    return 0;
fail:
    cd_acme_config_clear(c);
    return -1;
}

void
cd_acme_config_clear(struct cd_acme_config *c)
{
    OPENSSL_cleanse(c, sizeof(*c));
}

/* The stored form: the PUT body's, with the HMAC key. */
static json_t *
stored_json(const struct cd_acme_config *c)
{
    json_t *j = cd_acme_config_json(c);

    if (j == NULL)
        return NULL;
    json_object_del(j, "eab_hmac_set");
    if (c->eab_hmac[0] != '\0')
        json_object_set_new(j, "eab_hmac_key", json_string(c->eab_hmac));
    return j;
}

json_t *
cd_acme_config_json(const struct cd_acme_config *c)
{
    json_t *j, *names;
    size_t i;

    names = c->n_names > 0 ? json_array() : json_null();
    for (i = 0; i < c->n_names; i++)
        json_array_append_new(names, json_string(c->names[i]));
    j = json_pack("{s:b, s:s, s:s?, s:s?, s:b, s:o, s:s, s:s}",
        "enabled", c->enabled, "directory", c->directory,
        "email", c->email[0] ? c->email : NULL,
        "eab_key_id", c->eab_kid[0] ? c->eab_kid : NULL,
        "eab_hmac_set", c->eab_hmac[0] != '\0', "names", names,
        "key_type", cd_key_type_name(c->key_type),
        "challenge", c->challenge);
    return j;
}

int
cd_acme_config_load(const struct cd_settings *s, struct cd_acme_config *c,
    char *why, size_t wlen)
{
    char p[PATH_MAX], *buf;
    const char *field;
    size_t len;
    json_t *j;
    json_error_t je;
    int rc;

    memset(c, 0, sizeof(*c));
    if (cd_acme_path(s, "config.json", p) != 0) {
        snprintf(why, wlen, "the state directory's path is too long");
        return -1;
    }
    if ((buf = cv_read_file(p, CONFIG_MAX, CV_READ_REGULAR, &len)) == NULL) {
        if (errno == ENOENT)
            return 0;
        snprintf(why, wlen, "%s: %s", p, strerror(errno));
        return -1;
    }
    j = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &je);
    cv_free_secret(buf, len + 1);
    if (j == NULL) {
        snprintf(why, wlen, "%s: not JSON (%s)", p, je.text);
        return -1;
    }
    rc = cd_acme_config_parse(s, j, NULL, c, &field, why, wlen) == 0 ? 1 :
        -1;
    json_decref(j);
    return rc;
}

int
cd_acme_config_save(const struct cd_settings *s,
    const struct cd_acme_config *c, char *why, size_t wlen)
{
    char p[PATH_MAX], *text;
    json_t *j;
    int rc;

    if (cd_acme_mkdir(s) != 0 || cd_acme_path(s, "config.json", p) != 0) {
        snprintf(why, wlen, "cannot make %s/acme: %s", s->state_dir,
            strerror(errno));
        return -1;
    }
    if ((j = stored_json(c)) == NULL ||
        (text = json_dumps(j, JSON_INDENT(2))) == NULL) {
        json_decref(j);
        snprintf(why, wlen, "out of memory");
        return -1;
    }
    rc = cd_file_replace(p, text, strlen(text), 0600, why, wlen);
    cv_free_secret(text, strlen(text));
    json_decref(j);
    return rc;
}

/* ---- status ---- */

static time_t
num(json_t *o, const char *k)
{
    json_t *v = json_object_get(o, k);

    return json_is_integer(v) && json_integer_value(v) > 0 ?
        (time_t)json_integer_value(v) : 0;
}

static void
str(json_t *o, const char *k, char *buf, size_t len)
{
    json_t *v = json_object_get(o, k);

    snprintf(buf, len, "%s", json_is_string(v) ? json_string_value(v) : "");
}

int
cd_acme_status_load(const struct cd_settings *s, struct cd_acme_status *st)
{
    char p[PATH_MAX];
    json_t *j;

    memset(st, 0, sizeof(*st));
    if (cd_acme_path(s, "status.json", p) != 0)
        return -1;
    if ((j = json_load_file(p, 0, NULL)) == NULL)
        return access(p, F_OK) == 0 ? -1 : 0;
    st->last_attempt = num(j, "last_attempt");
    str(j, "last_result", st->last_result, sizeof(st->last_result));
    str(j, "last_message", st->last_message, sizeof(st->last_message));
    st->last_success = num(j, "last_success");
    st->failures = (int)num(j, "failures");
    st->next_attempt = num(j, "next_attempt");
    str(j, "release", st->release, sizeof(st->release));
    json_decref(j);
    return 0;
}

int
cd_acme_status_save(const struct cd_settings *s,
    const struct cd_acme_status *st, char *why, size_t wlen)
{
    char p[PATH_MAX], *text;
    json_t *j;
    int rc;

    if (cd_acme_mkdir(s) != 0 || cd_acme_path(s, "status.json", p) != 0) {
        snprintf(why, wlen, "cannot make %s/acme: %s", s->state_dir,
            strerror(errno));
        return -1;
    }
    j = json_pack("{s:I, s:s, s:s, s:I, s:i, s:I, s:s}",
        "last_attempt", (json_int_t)st->last_attempt,
        "last_result", st->last_result, "last_message", st->last_message,
        "last_success", (json_int_t)st->last_success,
        "failures", st->failures,
        "next_attempt", (json_int_t)st->next_attempt,
        "release", st->release);
    if (j == NULL || (text = json_dumps(j, JSON_INDENT(2))) == NULL) {
        json_decref(j);
        snprintf(why, wlen, "out of memory");
        return -1;
    }
    rc = cd_file_replace(p, text, strlen(text), 0600, why, wlen);
    free(text);
    json_decref(j);
    return rc;
}

static json_t *
iso(time_t t)
{
    char b[32];

    if (t <= 0)
        return json_null();
    cv_time_iso(t, b, sizeof(b));
    return json_string(b);
}

json_t *
cd_acme_status_json(const struct cd_acme_status *st, int running)
{
    return json_pack("{s:b, s:o, s:s?, s:s?, s:o, s:i, s:o, s:s?}",
        "running", running, "last_attempt", iso(st->last_attempt),
        "last_result", st->last_result[0] ? st->last_result : NULL,
        "last_message", st->last_message[0] ? st->last_message : NULL,
        "last_success", iso(st->last_success), "failures", st->failures,
        "next_attempt", iso(st->next_attempt),
        "release", st->release[0] ? st->release : NULL);
}

int
cd_acme_running(const struct cd_settings *s)
{
    char p[PATH_MAX];
    int fd, busy;

    if (cd_acme_path(s, "run.lock", p) != 0 ||
        (fd = open(p, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) < 0)
        return 0;
    busy = flock(fd, LOCK_SH | LOCK_NB) != 0 && errno == EWOULDBLOCK;
    close(fd);
    return busy;
}

/* ---- decisions ---- */

long
cd_acme_backoff(int failures)
{
    long d = CD_ACME_BACKOFF_FIRST;
    int i;

    for (i = 1; i < failures && d < CD_ACME_BACKOFF_MAX; i++)
        d *= 2;
    return d < CD_ACME_BACKOFF_MAX ? d : CD_ACME_BACKOFF_MAX;
}

time_t
cd_acme_renew_at(time_t nb, time_t na)
{
    return na > nb ? na - (na - nb) / 3 : na;
}

int
cd_acme_due(time_t now, const struct cd_acme_served *c,
    const struct cd_acme_status *st, int force, time_t *nextp,
    char *why, size_t wlen)
{
    time_t at;

    *nextp = 0;
    if (force) {
        snprintf(why, wlen, "renewal asked for");
        return 1;
    }
    if (st->failures > 0 && st->next_attempt > now) {
        *nextp = st->next_attempt;
        snprintf(why, wlen, "the last attempt failed; the next is after "
            "the backoff");
        return 0;
    }
    if (!c->present || c->self_signed) {
        snprintf(why, wlen, "the served certificate is %s",
            c->present ? "self-signed" : "missing");
        return 1;
    }
    if (!c->names_match) {
        snprintf(why, wlen, "the served certificate's names are not the "
            "configured ones");
        return 1;
    }
    at = cd_acme_renew_at(c->not_before, c->not_after);
    if (now >= at) {
        snprintf(why, wlen, "a third or less of the served certificate's "
            "lifetime is left");
        return 1;
    }
    *nextp = at;
    snprintf(why, wlen, "the served certificate is not due yet");
    return 0;
}
