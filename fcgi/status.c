/*
 * status.c - the status answer: the active certificate, what each kept
 * release was, and how the admin reached the appliance (the names the
 * certificate is valid for against the address typed, and the hosts-file
 * line when they differ).  GET /api/certificate answers it; an install or
 * a rollback answers it too, with what the install did.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cvjson.h"
#include "handlers.h"
#include "install.h"
#include "served.h"

/* Where a hosts-file line goes on the admin's own computer. */
#define HOSTS_WINDOWS   "C:\\Windows\\System32\\drivers\\etc\\hosts"
#define HOSTS_UNIX      "/etc/hosts"

/* ---- the names a certificate is valid for, and the admin's address ---- */

/* The names of a certificate: SAN DNS, then SAN IP, then CN if new. */
struct names {
    const char *v[CV_MAX_NAMES];
    size_t n;
};

static void
names_of(const struct cv_summary *sum, struct names *nm)
{
    nm->n = cv_summary_names(sum, nm->v);
}

/*
 * RFC 6125 §6.4: case-insensitive, and a wildcard only as the whole
 * left-most label, standing for exactly one non-empty label ("*.b.c"
 * matches "a.b.c", not "b.c" nor "x.a.b.c"; "*.com" matches nothing).
 */
static int
dns_match(const char *pattern, const char *host)
{
    const char *dot;

    if (strcasecmp(pattern, host) == 0)
        return 1;
    if (strncmp(pattern, "*.", 2) != 0 || strchr(pattern + 2, '.') == NULL)
        return 0;
    if ((dot = strchr(host, '.')) == NULL || dot == host)
        return 0;
    return strcasecmp(dot + 1, pattern + 2) == 0;
}

/*
 * 1 when the address the admin used is one of the certificate's names: an
 * IP address equal to an IP name, or a host name matching a DNS name.
 */
static int
address_matches(const struct names *nm, const char *addr)
{
    size_t i;
    int ip = cv_is_ip(addr);

    for (i = 0; i < nm->n; i++)
        if (ip ? cv_ip_equal(addr, nm->v[i]) : (!cv_is_ip(nm->v[i]) &&
            dns_match(nm->v[i], addr)))
            return 1;
    return 0;
}

/*
 * The host of a Host header: without its port, IPv6 brackets removed, one
 * trailing dot dropped.  Returns 0, or -1 when there is no usable host.
 */
static int
host_of(const char *host, char *buf, size_t len)
{
    const char *p, *end;
    size_t n, i;

    if (host == NULL || host[0] == '\0')
        return -1;
    if (host[0] == '[') {
        if ((end = strchr(host, ']')) == NULL ||
            (end[1] != '\0' && end[1] != ':'))
            return -1;
        p = host + 1;
    } else {
        p = host;
        end = strchr(host, ':');
        /* more than one colon: an IPv6 address without brackets */
        if (end != NULL && strchr(end + 1, ':') != NULL)
            end = NULL;
        if (end == NULL)
            end = host + strlen(host);
    }
    n = (size_t)(end - p);
    if (n > 1 && p[n - 1] == '.')
        n--;
    if (n == 0 || n >= len)
        return -1;
    for (i = 0; i < n; i++)
        if ((unsigned char)p[i] <= ' ' || (unsigned char)p[i] >= 127)
            return -1;
    memcpy(buf, p, n);
    buf[n] = '\0';
    return 0;
}

/* Drops rep's findings of code (a warning: nothing else depends on it). */
static void
drop_code(struct cv_report *rep, enum cv_code code)
{
    size_t i = 0;

    while (i < rep->n_findings) {
        if (rep->findings[i].code != code) {
            i++;
            continue;
        }
        free(rep->findings[i].detail);
        memmove(&rep->findings[i], &rep->findings[i + 1],
            (rep->n_findings - i - 1) * sizeof(rep->findings[0]));
        rep->n_findings--;
    }
}

/* 1 for a name only this machine itself answers to. */
static int
loopback_name(const char *h)
{
    return strcasecmp(h, "localhost") == 0 || strcmp(h, "::1") == 0 ||
        strncmp(h, "127.", 4) == 0;
}

void
cd_status_name_check(struct cd_app *app, const struct cd_request *rq,
    struct cv_report *rep, int installed)
{
    const char *hn = app->settings->hostname;
    struct names nm;
    char addr[256];
    int v6;

    if (rq == NULL || !rep->summary.valid)
        return;
    if (host_of(rq->host, addr, sizeof(addr)) != 0) {
        /* no usable Host: the connection's own address, else the
         * engine's check against the host name stands */
        if (rq->server_addr == NULL || !cv_is_ip(rq->server_addr) ||
            strlen(rq->server_addr) >= sizeof(addr))
            return;
        snprintf(addr, sizeof(addr), "%s", rq->server_addr);
    }
    names_of(&rep->summary, &nm);
    if (address_matches(&nm, addr)) {
        /* the address in use is covered: the host name still counts
         * when other computers may use it, not when it is "localhost" */
        if (hn == NULL || hn[0] == '\0' || loopback_name(hn) ||
            strcasecmp(hn, addr) == 0)
            drop_code(rep, CV_NAME_MISMATCH);
        return;
    }
    drop_code(rep, CV_NAME_MISMATCH);
    v6 = strchr(addr, ':') != NULL;
    cv_report_add(rep, CV_NAME_MISMATCH, "crt", "%s https://%s%s%s/ %s a "
        "name error: the certificate does not name %s, the address in use",
        installed ? "now that it is saved," : "after Save,",
        v6 ? "[" : "", addr, v6 ? "]" : "", installed ? "shows" :
        "will show", addr);
}

/* A new array of the names; NULL when out of memory. */
static json_t *
names_json(const struct names *nm)
{
    json_t *a = json_array(), *v;
    size_t i;

    for (i = 0; a != NULL && i < nm->n; i++) {
        /* not UTF-8 (a Latin-1 CN): the summary's "subject" has it */
        if ((v = json_string(nm->v[i])) == NULL)
            continue;
        if (json_array_append_new(a, v) != 0) {
            json_decref(a);
            return NULL;
        }
    }
    return a;
}

/*
 * {"address", "server_addr", "matches", "hosts_line", "hosts_files"}: how
 * the admin reached the appliance, and the hosts-file line that makes the
 * certificate's name lead here when the address is not one of its names.
 * New reference or NULL.
 */
static json_t *
access_json(const struct cd_request *rq, const struct cv_summary *sum)
{
    struct names nm;
    char addr[256], name[256], line[320];
    const char *ip = NULL;
    int have_addr, matches = 0, have_line = 0, n;

    have_addr = host_of(rq->host, addr, sizeof(addr)) == 0;
    if (sum != NULL && sum->valid) {
        names_of(sum, &nm);
        matches = have_addr && address_matches(&nm, addr);
    }
    /* the address this connection came in on; else the one typed */
    if (rq->server_addr != NULL && cv_is_ip(rq->server_addr))
        ip = rq->server_addr;
    else if (have_addr && cv_is_ip(addr))
        ip = addr;
    if (!matches && ip != NULL && sum != NULL && sum->valid &&
        cv_summary_host_name(sum, name, sizeof(name)) == 0) {
        n = snprintf(line, sizeof(line), "%s %s", ip, name);
        have_line = n > 0 && (size_t)n < sizeof(line);
    }
    return json_pack("{s:o, s:o, s:b, s:o, s:{s:s, s:s, s:s}}",
        "address", have_addr ? json_string(addr) : json_null(),
        "server_addr", rq->server_addr != NULL && rq->server_addr[0] != '\0' ?
        json_string(rq->server_addr) : json_null(),
        "matches", matches,
        "hosts_line", have_line ? json_string(line) : json_null(),
        "hosts_files", "windows", HOSTS_WINDOWS, "linux", HOSTS_UNIX,
        "macos", HOSTS_UNIX);
}

/* A string, or null when empty. */
static json_t *
opt_str(const char *v)
{
    return v[0] != '\0' ? json_string(v) : json_null();
}

/* [{"from", "to"}] of the spans a release was current, oldest first. */
static json_t *
periods_json(const struct cd_release *r)
{
    json_t *a = json_array();
    size_t i;

    for (i = 0; a != NULL && i < r->n_active; i++)
        json_array_append_new(a, json_pack("{s:o, s:o}",
            "from", cvjson_time(r->active[i].from),
            "to", cvjson_time(r->active[i].to)));
    return a;
}

json_t *
cd_status_json(struct cd_app *app, const struct cd_request *rq,
    struct cd_response *resp)
{
    struct cd_release rel[CD_MAX_RELEASES];
    struct cv_summary sum;
    struct names nm;
    json_t *cert = NULL, *hist, *out;
    size_t n = 0, i, len = 0;
    char *pem, when[32];
    int have = 0;

    pem = cd_install_current_cert(app->settings, &len);
    if (pem != NULL && cv_cert_summary((const uint8_t *)pem, len, 0,
        &sum) == 0) {
        have = 1;
        cert = cvjson_summary(&sum);
        snprintf(resp->sha256, sizeof(resp->sha256), "%s", sum.sha256);
        if (cert != NULL) {
            names_of(&sum, &nm);
            json_object_set_new(cert, "names", names_json(&nm));
        }
    }
    free(pem);
    if (cd_install_list(app->settings, rel, CD_MAX_RELEASES, &n) != 0)
        n = 0;
    hist = json_array();
    for (i = 0; i < n; i++) {
        json_t *h;

        cv_time_iso(rel[i].installed_at, when, sizeof(when));
        h = json_pack("{s:s, s:s, s:s, s:s, s:b, s:o, s:o, s:o, s:s, s:b, "
            "s:b, s:o}",
            "release", rel[i].id, "name", rel[i].name, "mode", rel[i].mode,
            "validation", rel[i].validation, "use_crl", rel[i].use_crl,
            "crl", opt_str(rel[i].crl),
            "subject_cn", opt_str(rel[i].subject_cn),
            "not_after", cvjson_time(rel[i].not_after),
            "installed_at", when, "current", rel[i].current,
            "previous", rel[i].previous, "active", periods_json(&rel[i]));
        if (rel[i].current && json_is_object(cert)) {
            json_object_set_new(cert, "crl", opt_str(rel[i].crl));
            json_object_set_new(cert, "name", json_string(rel[i].name));
            json_object_set_new(cert, "mode", json_string(rel[i].mode));
            json_object_set_new(cert, "validation",
                json_string(rel[i].validation));
            json_object_set_new(cert, "use_crl",
                json_boolean(rel[i].use_crl));
            json_object_set_new(cert, "installed_at", json_string(when));
            json_object_set_new(cert, "release", json_string(rel[i].id));
        }
        json_array_append_new(hist, h);
    }
    out = json_pack("{s:b, s:o, s:s, s:o, s:i}", "ok", cert != NULL,
        "certificate", cert != NULL ? cert : json_null(),
        "hostname", app->settings->hostname, "history", hist,
        "releases_kept", app->settings->releases_kept);
    if (out != NULL && rq != NULL)
        json_object_set_new(out, "access", access_json(rq,
            have ? &sum : NULL));
    return out;
}

void
cd_status_add_install(json_t *body, const struct cd_install_result *res)
{
    json_object_set_new(body, "release", json_string(res->release));
    json_object_set_new(body, "reload", json_pack("{s:b, s:s}", "ok",
        res->reloaded, "detail", res->reload_detail));
    json_object_set_new(body, "served", json_pack("{s:b, s:s}", "ok",
        res->served, "detail", res->served_detail));
    json_object_set_new(body, "rolled_back", json_boolean(res->rolled_back));
}

/*
 * {"fingerprint", "matches", "detail"}: the certificate nginx presents
 * now against the active one (want), so that a reload that never happened
 * shows.  matches is null when there is nothing to compare.
 */
static json_t *
served_json(struct cd_app *app, const char *want)
{
    char fp[96], detail[256];
    int rc;

    rc = cd_served_peek(app->settings, want, fp, sizeof(fp), detail,
        sizeof(detail));
    return json_pack("{s:o, s:o, s:s}",
        "fingerprint", fp[0] != '\0' ? json_string(fp) : json_null(),
        "matches", rc < 0 || want[0] == '\0' ? json_null() :
        json_boolean(rc == 1), "detail", detail);
}

void
cd_status_get(struct cd_app *app, const struct cd_request *rq,
    struct cd_response *resp)
{
    resp->status = 200;
    resp->sha256[0] = '\0';
    if ((resp->body = cd_status_json(app, rq, resp)) == NULL) {
        cd_api_fail(resp, CD_ERR_UNAVAILABLE, NULL, "out of memory");
        return;
    }
    json_object_set_new(resp->body, "served",
        served_json(app, resp->sha256));
}
