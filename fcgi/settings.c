/*
 * settings.c - certdialog-fcgi's configuration file: one JSON object whose
 * keys are the members of struct cd_settings; every key has a default.
 */
#include "config.h"

#include "settings.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>


enum opt_type { T_STR, T_INT, T_SIZE, T_ADMINS, T_DAYS, T_NETS };

struct opt {
    const char *key;
    enum opt_type type;
    size_t off;
    long long min, max;
};

#define OFF(m) offsetof(struct cd_settings, m)
static const struct opt opts[] = {
    { "state_dir", T_STR, OFF(state_dir), 0, 0 },
    { "socket", T_STR, OFF(socket_path), 0, 0 },
    { "socket_group", T_STR, OFF(socket_group), 0, 0 },
    { "workers", T_INT, OFF(workers), 1, 64 },
    { "admins", T_ADMINS, 0, 0, 0 },
    { "hostname", T_STR, OFF(hostname), 0, 0 },
    { "ca_file", T_STR, OFF(ca_file), 0, 0 },
    { "ca_dir", T_STR, OFF(ca_dir), 0, 0 },
    { "extra_ca_dir", T_STR, OFF(extra_ca_dir), 0, 0 },
    { "crl_timeout", T_INT, OFF(crl_timeout), 1, 60 },
    { "crl_max_size", T_SIZE, OFF(crl_max_size), 1024, 1LL << 30 },
    { "crl_proxy", T_STR, OFF(crl_proxy), 0, 0 },
    { "crl_fetch_slots", T_INT, OFF(crl_fetch_slots), 1, 64 },
    { "crl_allow_loopback", T_INT, OFF(crl_allow_loopback), 0, 1 },
    { "crl_denied_ranges", T_NETS, 0, 0, 0 },
    { "crl_cache_max", T_SIZE, OFF(crl_cache_max), 65536, 1LL << 30 },
    { "max_body", T_SIZE, OFF(max_body), 4096, 64LL << 20 },
    { "max_file", T_SIZE, OFF(max_file), 1024, 16LL << 20 },
    { "reload_command", T_STR, OFF(reload_command), 0, 0 },
    { "nginx_pid_file", T_STR, OFF(nginx_pid_file), 0, 0 },
    { "reload_timeout", T_INT, OFF(reload_timeout), 1, 120 },
    { "check_command", T_STR, OFF(check_command), 0, 0 },
    { "served_address", T_STR, OFF(served_address), 0, 0 },
    { "releases_kept", T_INT, OFF(releases_kept), 2, 100 },
    { "expiry_thresholds", T_DAYS, 0, 0, 3650 },
    { "expiry_webhook", T_STR, OFF(expiry_webhook), 0, 0 },
    { "expiry_webhook_ca", T_STR, OFF(expiry_webhook_ca), 0, 0 },
    { "expiry_webhook_timeout", T_INT, OFF(expiry_webhook_timeout), 5, 600 },
    { "expiry_metrics_file", T_STR, OFF(expiry_metrics_file), 0, 0 },
    { "expiry_state", T_STR, OFF(expiry_state), 0, 0 },
    { "key_policy", T_STR, OFF(key_policy), 0, 0 },
    { "session_idle_timeout", T_INT, OFF(session_idle_timeout), 60, 86400 },
    { "session_lifetime", T_INT, OFF(session_lifetime), 300, 2592000 },
    { "acme_client", T_STR, OFF(acme_client), 0, 0 },
    { "acme_hook", T_STR, OFF(acme_hook), 0, 0 },
    { "acme_timeout", T_INT, OFF(acme_timeout), 30, 3600 },
};

static const int default_days[] = { 30, 14, 7, 3, 1, 0 };

/* crl_denied_ranges: "defaults" in the list stands for libcv's own. */
#define NETS_DEFAULTS   "defaults"

static int
set_str(char **dst, const char *v)
{
    char *n = v != NULL ? strdup(v) : NULL;

    if (v != NULL && n == NULL)
        return -1;
    free(*dst);
    *dst = n;
    return 0;
}

static void
set_default_nets(struct cd_settings *c)
{
    const struct cv_net *d;
    size_t n = cv_net_defaults(&d);

    memcpy(c->crl_denied, d, n * sizeof(*d));
    c->n_crl_denied = n;
}

static int
defaults(struct cd_settings *c)
{
    char host[256];

    memset(c, 0, sizeof(*c));
    if (gethostname(host, sizeof(host)) != 0 || host[0] == '\0')
        snprintf(host, sizeof(host), "localhost");
    host[sizeof(host) - 1] = '\0';
    c->workers = 2;
    c->crl_timeout = 5;
    c->reload_timeout = 10;
    c->crl_max_size = 10u << 20;
    c->crl_cache_max = 32u << 20;
    c->max_body = 1u << 20;
    c->max_file = 256u << 10;
    c->releases_kept = 5;
    c->session_idle_timeout = 900;
    c->session_lifetime = 28800;
    c->n_admins = 1;
    memcpy(c->expiry_thresholds, default_days, sizeof(default_days));
    c->n_expiry_thresholds = sizeof(default_days) / sizeof(default_days[0]);
    c->expiry_webhook_timeout = 60;
    c->acme_timeout = 600;
    set_default_nets(c);
    return set_str(&c->state_dir, CD_LOCALSTATEDIR "/lib/certdialog") |
        set_str(&c->hostname, host) |
        set_str(&c->nginx_pid_file, "/run/nginx.pid") |
        set_str(&c->admins[0], "admin");
}

static int
set_admins(struct cd_settings *c, json_t *v, char *err, size_t errlen)
{
    size_t i;
    json_t *a;

    if (!json_is_array(v) || json_array_size(v) == 0 ||
        json_array_size(v) > CD_MAX_ADMINS) {
        snprintf(err, errlen, "\"admins\" must be a list of 1 to %d user "
            "names", CD_MAX_ADMINS);
        return -1;
    }
    for (i = 0; i < c->n_admins; i++) {
        free(c->admins[i]);
        c->admins[i] = NULL;
    }
    c->n_admins = 0;
    json_array_foreach(v, i, a) {
        if (!json_is_string(a) || json_string_length(a) == 0) {
            snprintf(err, errlen, "\"admins\" holds a value that is not a "
                "user name");
            return -1;
        }
        if (set_str(&c->admins[c->n_admins++], json_string_value(a)) != 0)
            return -1;
    }
    return 0;
}

/*
 * expiry_thresholds: days before the end of validity, kept in descending
 * order (certdialog-expiry walks them from the first warning to the last).
 */
static int
set_days(struct cd_settings *c, const struct opt *o, json_t *v, char *err,
    size_t errlen)
{
    size_t i, j, n = json_array_size(v);
    json_t *a;
    long long d;
    int t;

    if (!json_is_array(v) || n == 0 || n > CD_MAX_THRESHOLDS) {
        snprintf(err, errlen, "\"%s\" must be a list of 1 to %d numbers "
            "of days", o->key, CD_MAX_THRESHOLDS);
        return -1;
    }
    json_array_foreach(v, i, a) {
        if (!json_is_integer(a) || (d = json_integer_value(a)) < o->min ||
            d > o->max) {
            snprintf(err, errlen, "\"%s\" holds a value that is not a "
                "whole number from %lld to %lld", o->key, o->min, o->max);
            return -1;
        }
        for (j = 0; j < i; j++)
            if (c->expiry_thresholds[j] == (int)d) {
                snprintf(err, errlen, "\"%s\" holds %lld twice", o->key,
                    d);
                return -1;
            }
        c->expiry_thresholds[i] = (int)d;
    }
    c->n_expiry_thresholds = n;
    for (i = 1; i < n; i++)            /* insertion sort, descending */
        for (j = i; j > 0 && c->expiry_thresholds[j - 1] <
            c->expiry_thresholds[j]; j--) {
            t = c->expiry_thresholds[j];
            c->expiry_thresholds[j] = c->expiry_thresholds[j - 1];
            c->expiry_thresholds[j - 1] = t;
        }
    return 0;
}

/*
 * crl_denied_ranges: CIDRs, an address alone, or "defaults" (the built-in
 * list); a list replaces the whole default, [] denies nothing more than
 * loopback (and that only without crl_allow_loopback).
 */
static int
set_nets(struct cd_settings *c, const struct opt *o, json_t *v, char *err,
    size_t errlen)
{
    const struct cv_net *d;
    size_t i, k, nd;
    json_t *a;
    const char *t;

    if (!json_is_array(v)) {
        snprintf(err, errlen, "\"%s\" must be a list of address ranges "
            "such as \"169.254.0.0/16\" (or \"%s\")", o->key,
            NETS_DEFAULTS);
        return -1;
    }
    c->n_crl_denied = 0;
    json_array_foreach(v, i, a) {
        t = json_string_value(a);
        if (t != NULL && strcmp(t, NETS_DEFAULTS) == 0) {
            nd = cv_net_defaults(&d);
            for (k = 0; k < nd && c->n_crl_denied < CD_MAX_DENIED; k++)
                c->crl_denied[c->n_crl_denied++] = d[k];
            if (k < nd)
                goto many;
            continue;
        }
        if (c->n_crl_denied == CD_MAX_DENIED)
            goto many;
        if (t == NULL || strlen(t) != json_string_length(a)) {
            snprintf(err, errlen, "\"%s\" holds a value that is not a "
                "string", o->key);
            return -1;
        }
        if (cv_net_parse(t, &c->crl_denied[c->n_crl_denied]) != 0) {
            snprintf(err, errlen, "\"%s\": \"%.60s\" is not an address "
                "range (\"192.0.2.0/24\", \"fe80::/10\"; no bits set after "
                "the prefix)", o->key, t);
            return -1;
        }
        c->n_crl_denied++;
    }
    return 0;
many:
    snprintf(err, errlen, "\"%s\" holds more than %d ranges", o->key,
        CD_MAX_DENIED);
    return -1;
}

static int
set_opt(struct cd_settings *c, const struct opt *o, json_t *v, char *err,
    size_t errlen)
{
    char *base = (char *)c;
    long long n;

    switch (o->type) {
    case T_ADMINS:
        return set_admins(c, v, err, errlen);
    case T_DAYS:
        return set_days(c, o, v, err, errlen);
    case T_NETS:
        return set_nets(c, o, v, err, errlen);
    case T_STR:
        if (json_is_null(v))
            return set_str((char **)(base + o->off), NULL);
        if (!json_is_string(v) || json_string_length(v) == 0 ||
            strlen(json_string_value(v)) != json_string_length(v)) {
            snprintf(err, errlen, "\"%s\" must be a non-empty string or "
                "null", o->key);
            return -1;
        }
        return set_str((char **)(base + o->off), json_string_value(v));
    case T_INT:
    case T_SIZE:
        if (!json_is_integer(v) || (n = json_integer_value(v)) < o->min ||
            n > o->max) {
            snprintf(err, errlen, "\"%s\" must be a whole number from %lld "
                "to %lld", o->key, o->min, o->max);
            return -1;
        }
        if (o->type == T_INT)
            *(int *)(base + o->off) = (int)n;
        else
            *(size_t *)(base + o->off) = (size_t)n;
        return 0;
    }
    return -1;
}

int
cd_settings_allow_ec(const struct cd_settings *cfg)
{
    return cfg != NULL && cfg->key_policy != NULL &&
        strcmp(cfg->key_policy, "rsa+ec") == 0;
}

int
cd_settings_load(struct cd_settings *cfg, const char *path, char *err,
    size_t errlen)
{
    json_t *root = NULL, *v;
    json_error_t je;
    const char *key;
    size_t i;
    int rc = -1;

    err[0] = '\0';
    if (defaults(cfg) != 0) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    if (path == NULL)
        return 0;
    if ((root = json_load_file(path, JSON_REJECT_DUPLICATES, &je)) == NULL) {
        snprintf(err, errlen, "%s:%d: %s", path, je.line, je.text);
        goto out;
    }
    if (!json_is_object(root)) {
        snprintf(err, errlen, "%s: must hold one JSON object", path);
        goto out;
    }
    json_object_foreach(root, key, v) {
        for (i = 0; i < sizeof(opts) / sizeof(opts[0]); i++)
            if (strcmp(opts[i].key, key) == 0)
                break;
        if (i == sizeof(opts) / sizeof(opts[0])) {
            snprintf(err, errlen, "%s: unknown setting \"%s\"", path, key);
            goto out;
        }
        if (set_opt(cfg, &opts[i], v, err, errlen) != 0) {
            if (err[0] == '\0')
                snprintf(err, errlen, "out of memory");
            goto out;
        }
    }
    if (cfg->key_policy != NULL && strcmp(cfg->key_policy, "rsa") != 0 &&
        strcmp(cfg->key_policy, "rsa+ec") != 0) {
        snprintf(err, errlen, "%s: \"key_policy\" must be \"rsa\" or "
            "\"rsa+ec\"", path);
        goto out;
    }
    if (cfg->state_dir == NULL || cfg->hostname == NULL) {
        snprintf(err, errlen, "%s: \"state_dir\" and \"hostname\" cannot be "
            "null", path);
        goto out;
    }
    /* the payload names the certificate: never sent in clear text */
    if (cfg->expiry_webhook != NULL &&
        strncmp(cfg->expiry_webhook, "https://", 8) != 0) {
        snprintf(err, errlen, "%s: \"expiry_webhook\" must be an https:// "
            "URL or null", path);
        goto out;
    }
    rc = 0;
out:
    json_decref(root);
    if (rc != 0)
        cd_settings_free(cfg);
    return rc;
}

void
cd_settings_free(struct cd_settings *c)
{
    size_t i;

    if (c == NULL)
        return;
    for (i = 0; i < c->n_admins; i++)
        free(c->admins[i]);
    free(c->state_dir);
    free(c->socket_path);
    free(c->socket_group);
    free(c->hostname);
    free(c->ca_file);
    free(c->ca_dir);
    free(c->extra_ca_dir);
    free(c->crl_proxy);
    free(c->key_policy);
    free(c->acme_client);
    free(c->acme_hook);
    free(c->reload_command);
    free(c->nginx_pid_file);
    free(c->check_command);
    free(c->served_address);
    free(c->expiry_webhook);
    free(c->expiry_webhook_ca);
    free(c->expiry_metrics_file);
    free(c->expiry_state);
    memset(c, 0, sizeof(*c));
}

int
cd_settings_is_admin(const struct cd_settings *c, const char *user)
{
    size_t i;

    if (user == NULL || *user == '\0')
        return 0;
    for (i = 0; i < c->n_admins; i++)
        if (strcmp(c->admins[i], user) == 0)
            return 1;
    return 0;
}
