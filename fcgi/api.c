/*
 * api.c - the routes of SPEC §4: status, validate, install, rollback, and
 * the certificate download (leaf, chain or root; never the key).
 * No FastCGI here (request.c is the front); answers are jansson objects.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "api.h"
#include "install.h"
#include "multipart.h"
#include "cvjson.h"
#include "errors.h"

enum route {
    R_NONE = 0,
    R_CERT,                     /* /api/certificate */
    R_VALIDATE,                 /* /api/certificate/validate */
    R_ROLLBACK,                 /* /api/certificate/rollback */
    R_DOWNLOAD                  /* /api/certificate/download */
};

/* Where a hosts-file line goes on the admin's own computer. */
#define HOSTS_WINDOWS   "C:\\Windows\\System32\\drivers\\etc\\hosts"
#define HOSTS_UNIX      "/etc/hosts"
/* STATE/current/chain.pem is a few certificates; more is not ours. */
#define CHAIN_MAX       (1u << 20)
/* Anchors appended to an installed chain that stops below its root. */
#define CHAIN_DEPTH_MAX 8

static const char *const fields[] = {
    "mode", "name", "passphrase", "key", "crt", "chain", "use_crl",
    "validation", "confirm", NULL
};

static enum route
route_of(const char *path)
{
    size_t n;

    if (path == NULL)
        return R_NONE;
    n = strlen(path);
    while (n > 1 && path[n - 1] == '/')     /* one trailing slash is fine */
        n--;
    if (n == 16 && strncmp(path, "/api/certificate", n) == 0)
        return R_CERT;
    if (n == 25 && strncmp(path, "/api/certificate/validate", n) == 0)
        return R_VALIDATE;
    if (n == 25 && strncmp(path, "/api/certificate/rollback", n) == 0)
        return R_ROLLBACK;
    if (n == 25 && strncmp(path, "/api/certificate/download", n) == 0)
        return R_DOWNLOAD;
    return R_NONE;
}

static void
set_codes(struct cd_response *resp, const char *codes)
{
    snprintf(resp->codes, sizeof(resp->codes), "%s", codes);
}

/* An error answer; its code decides the status and the log line. */
void
cd_api_fail(struct cd_response *resp, enum cd_err e, const char *field,
    const char *detail)
{
    json_decref(resp->body);
    resp->status = cd_err_status(e);
    resp->body = cd_err_json(e, field, detail);
    set_codes(resp, cd_err_name(e));
}

/*
 * Same-origin policy for state changes: a browser says where a request
 * comes from; curl says nothing and is let through (it must still sign in).
 */
static int
cross_site(const struct cd_request *rq)
{
    const char *o = rq->origin, *h;

    if (rq->sec_fetch_site != NULL &&
        strcmp(rq->sec_fetch_site, "same-origin") != 0 &&
        strcmp(rq->sec_fetch_site, "none") != 0)
        return 1;
    if (o == NULL)
        return 0;
    if (strcmp(o, "null") == 0 || rq->host == NULL)
        return 1;
    if (strncasecmp(o, "https://", 8) == 0)
        h = o + 8;
    else if (strncasecmp(o, "http://", 7) == 0)
        h = o + 7;
    else
        return 1;
    return strcasecmp(h, rq->host) != 0;
}

int
cd_api_precheck(struct cd_app *app, const struct cd_request *rq,
    enum cd_body_need *need, size_t *body_len, struct cd_response *resp)
{
    enum route r = route_of(rq->path);
    int is_get, is_post;
    char boundary[80];
    uint64_t len;
    enum cd_mp_status st;

    memset(resp, 0, sizeof(*resp));
    *need = CD_BODY_NONE;
    *body_len = 0;
    set_codes(resp, "-");
    if (r == R_NONE) {
        cd_api_fail(resp, CD_ERR_NOT_FOUND, NULL, rq->path);
        return -1;
    }
    if (rq->remote_user == NULL || rq->remote_user[0] == '\0') {
        cd_api_fail(resp, CD_ERR_NOT_SIGNED_IN, NULL, NULL);
        return -1;
    }
    if (!cd_settings_is_admin(app->settings, rq->remote_user)) {
        cd_api_fail(resp, CD_ERR_FORBIDDEN, NULL, "not an administrator");
        return -1;
    }
    is_get = rq->method != NULL && (strcmp(rq->method, "GET") == 0 ||
        strcmp(rq->method, "HEAD") == 0);
    is_post = rq->method != NULL && strcmp(rq->method, "POST") == 0;
    if (r == R_DOWNLOAD && !is_get) {
        cd_api_fail(resp, CD_ERR_METHOD_NOT_ALLOWED, NULL, rq->method);
        resp->allow = "GET, HEAD";
        return -1;
    }
    if ((r == R_CERT && !is_get && !is_post) ||
        (r != R_CERT && r != R_DOWNLOAD && !is_post)) {
        cd_api_fail(resp, CD_ERR_METHOD_NOT_ALLOWED, NULL, rq->method);
        resp->allow = r == R_CERT ? "GET, HEAD, POST" : "POST";
        return -1;
    }
    /* a download started by another site is refused like a post */
    if (is_get && r != R_DOWNLOAD)
        return 0;
    if (cross_site(rq)) {
        cd_api_fail(resp, CD_ERR_FORBIDDEN, NULL, "cross-site request refused");
        return -1;
    }
    if (r == R_ROLLBACK || r == R_DOWNLOAD)
        return 0;
    st = cd_multipart_boundary(rq->content_type, boundary, sizeof(boundary));
    if (st == CD_MP_NOT_MULTIPART) {
        cd_api_fail(resp, CD_ERR_UNSUPPORTED_MEDIA, NULL, rq->content_type);
        return -1;
    }
    if (st != CD_MP_OK) {
        cd_api_fail(resp, CD_ERR_BAD_REQUEST, NULL,
            "the multipart boundary is missing or not valid");
        return -1;
    }
    if (rq->content_length == NULL || rq->content_length[0] == '\0') {
        cd_api_fail(resp, CD_ERR_LENGTH_REQUIRED, NULL, "Content-Length is required");
        return -1;
    }
    if (cv_parse_uint(rq->content_length, strlen(rq->content_length),
        UINT64_MAX, &len) != 0) {
        cd_api_fail(resp, CD_ERR_BAD_REQUEST, NULL, "Content-Length is not a "
            "number");
        return -1;
    }
    if (len > app->settings->max_body) {
        char d[96];

        snprintf(d, sizeof(d), "the limit is %zu bytes",
            app->settings->max_body);
        cd_api_fail(resp, CD_ERR_TOO_LARGE, NULL, d);
        return -1;
    }
    *need = CD_BODY_READ;
    *body_len = (size_t)len;
    return 0;
}

/* ---- the names a certificate is valid for, and the admin's address ---- */

/* The names of a certificate: SAN DNS, then SAN IP, then CN if new. */
struct names {
    const char *v[2 * CV_MAX_LIST + 1];
    size_t n;
};

static void
names_of(const struct cv_summary *sum, struct names *nm)
{
    static const char *const kind[] = { "DNS:", "IP:" };
    size_t i, k, j, kl;
    int seen;

    nm->n = 0;
    for (k = 0; k < 2; k++) {
        kl = strlen(kind[k]);
        for (i = 0; i < sum->n_san && i < CV_MAX_LIST; i++)
            if (strncmp(sum->san[i], kind[k], kl) == 0 &&
                sum->san[i][kl] != '\0')
                nm->v[nm->n++] = sum->san[i] + kl;
    }
    if (sum->subject_cn[0] == '\0')
        return;
    for (seen = 0, j = 0; j < nm->n && !seen; j++)
        seen = strcasecmp(nm->v[j], sum->subject_cn) == 0;
    if (!seen)
        nm->v[nm->n++] = sum->subject_cn;
}

/* 1 when a and b are the same IPv4 or IPv6 address, whatever the spelling. */
static int
ip_equal(const char *a, const char *b)
{
    unsigned char x[16], y[16];

    if (inet_pton(AF_INET, a, x) == 1)
        return inet_pton(AF_INET, b, y) == 1 && memcmp(x, y, 4) == 0;
    if (inet_pton(AF_INET6, a, x) == 1)
        return inet_pton(AF_INET6, b, y) == 1 && memcmp(x, y, 16) == 0;
    return 0;
}

static int
is_ip(const char *s)
{
    unsigned char b[16];

    return inet_pton(AF_INET, s, b) == 1 || inet_pton(AF_INET6, s, b) == 1;
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
    int ip = is_ip(addr);

    for (i = 0; i < nm->n; i++)
        if (ip ? ip_equal(addr, nm->v[i]) : (!is_ip(nm->v[i]) &&
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
    if (rq->server_addr != NULL && is_ip(rq->server_addr))
        ip = rq->server_addr;
    else if (have_addr && is_ip(addr))
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

/*
 * The certificate part of an answer: summary plus what the release says.
 * With rq (a GET), also how the admin reached the appliance ("access").
 */
static json_t *
current_json(struct cd_app *app, const struct cd_request *rq,
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
        h = json_pack("{s:s, s:s, s:s, s:s, s:b, s:s, s:b}",
            "release", rel[i].id, "name", rel[i].name, "mode", rel[i].mode,
            "validation", rel[i].validation, "use_crl", rel[i].use_crl,
            "installed_at", when, "current", rel[i].current);
        if (rel[i].current && json_is_object(cert)) {
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
    out = json_pack("{s:b, s:o, s:s, s:o}", "ok", cert != NULL,
        "certificate", cert != NULL ? cert : json_null(),
        "hostname", app->settings->hostname, "history", hist);
    if (out != NULL && rq != NULL)
        json_object_set_new(out, "access", access_json(rq,
            have ? &sum : NULL));
    return out;
}

static void
add_install(json_t *body, const struct cd_install_result *res)
{
    json_object_set_new(body, "release", json_string(res->release));
    json_object_set_new(body, "reload", json_pack("{s:b, s:s}", "ok",
        res->reloaded, "detail", res->reload_detail));
}

static void
log_codes(struct cd_response *resp, const struct cv_report *rep)
{
    size_t i, off = 0;
    int n;

    resp->codes[0] = '\0';
    for (i = 0; i < rep->n_findings; i++) {
        n = snprintf(resp->codes + off, sizeof(resp->codes) - off, "%s%s",
            off ? "," : "", cv_code_name(rep->findings[i].code));
        if (n < 0 || (size_t)n >= sizeof(resp->codes) - off)
            break;
        off += (size_t)n;
    }
    if (off == 0)
        set_codes(resp, "-");
    if (rep->summary.valid)
        snprintf(resp->sha256, sizeof(resp->sha256), "%s",
            rep->summary.sha256);
}

/* A text field's value as a NUL-terminated copy in buf, or NULL. */
static const char *
text(const struct cd_part *parts, size_t n, const char *name, char *buf,
    size_t len)
{
    const struct cd_part *p = cd_multipart_get(parts, n, name);

    if (p == NULL)
        return NULL;
    if (p->len >= len || memchr(p->data, '\0', p->len) != NULL)
        return "";      /* too long or binary: refused by the checks */
    memcpy(buf, p->data, p->len);
    buf[p->len] = '\0';
    return buf;
}

static void
self_signed(struct cd_app *app, const char *confirm, int install,
    struct cd_response *resp)
{
    struct cd_install_result res;

    if (confirm == NULL || strcmp(confirm, "yes") != 0) {
        resp->status = CD_FINDING_STATUS;
        resp->body = cd_err_finding_json(CV_MISSING_FIELD, "confirm",
            "a self-signed certificate must be confirmed (confirm=yes)");
        set_codes(resp, "missing_field");
        return;
    }
    if (!install) {
        resp->status = 200;
        resp->body = json_pack("{s:b, s:o, s:[], s:[]}", "ok", 1,
            "certificate", json_null(), "errors", "warnings");
        return;
    }
    memset(&res, 0, sizeof(res));
    if (cd_install_self_signed(app->settings, &res) != 0) {
        cd_api_fail(resp, CD_ERR_INSTALL_FAILED, NULL, res.err);
        return;
    }
    resp->status = 200;
    resp->body = current_json(app, NULL, resp);
    add_install(resp->body, &res);
}

static void
upload(struct cd_app *app, const struct cd_request *rq, int install,
    struct cd_response *resp)
{
    struct cd_part parts[16];
    struct cd_multipart_limits lim = CD_MULTIPART_LIMITS_DEFAULT;
    char boundary[80], err[160];
    char mode[32], name[80], use_crl[16], validation[32], confirm[16];
    const char *m, *nm, *uc, *va;
    const struct cd_part *pass, *key, *crt, *chain;
    struct cv_input in;
    struct cv_options opt;
    struct cv_report *rep = NULL;
    struct cd_install_result res;
    size_t n = 0;
    enum cd_mp_status st;

    lim.max_file = app->settings->max_file;
    if (cd_multipart_boundary(rq->content_type, boundary,
        sizeof(boundary)) != CD_MP_OK) {
        cd_api_fail(resp, CD_ERR_BAD_REQUEST, NULL, "bad boundary");
        return;
    }
    st = cd_multipart_parse(rq->body, rq->body_len, boundary, &lim, fields,
        parts, &n, err, sizeof(err));
    if (st == CD_MP_TOO_LARGE) {
        cd_api_fail(resp, CD_ERR_TOO_LARGE, NULL, err);
        return;
    }
    if (st != CD_MP_OK) {
        cd_api_fail(resp, CD_ERR_BAD_REQUEST, NULL, err);
        return;
    }
    m = text(parts, n, "mode", mode, sizeof(mode));
    if (m != NULL && strcmp(m, "self-signed") == 0) {
        self_signed(app, text(parts, n, "confirm", confirm, sizeof(confirm)),
            install, resp);
        return;
    }
    if (m != NULL && strcmp(m, "ca-signed") != 0) {
        cd_api_fail(resp, CD_ERR_BAD_REQUEST, "mode",
            "mode must be ca-signed or self-signed");
        return;
    }
    uc = text(parts, n, "use_crl", use_crl, sizeof(use_crl));
    va = text(parts, n, "validation", validation, sizeof(validation));
    if (uc != NULL && strcmp(uc, "on") != 0 && strcmp(uc, "off") != 0) {
        cd_api_fail(resp, CD_ERR_BAD_REQUEST, "use_crl", "use_crl must be on or "
            "off");
        return;
    }
    if (va != NULL && strcmp(va, "mandatory") != 0 &&
        strcmp(va, "none") != 0) {
        cd_api_fail(resp, CD_ERR_BAD_REQUEST, "validation",
            "validation must be mandatory or none");
        return;
    }
    nm = text(parts, n, "name", name, sizeof(name));
    pass = cd_multipart_get(parts, n, "passphrase");
    key = cd_multipart_get(parts, n, "key");
    crt = cd_multipart_get(parts, n, "crt");
    chain = cd_multipart_get(parts, n, "chain");

    memset(&in, 0, sizeof(in));
    in.name = nm != NULL ? nm : NULL;
    if (key != NULL) {
        in.key = key->data;
        in.key_len = key->len;
    }
    if (crt != NULL) {
        in.crt = crt->data;
        in.crt_len = crt->len;
    }
    if (chain != NULL) {
        in.chain = chain->data;
        in.chain_len = chain->len;
    }
    if (pass != NULL) {
        in.passphrase = (const char *)pass->data;
        in.passphrase_len = pass->len;
    }
    memset(&opt, 0, sizeof(opt));
    opt.use_crl = uc == NULL || strcmp(uc, "on") == 0;
    opt.validation = va != NULL && strcmp(va, "none") == 0 ?
        CV_VALIDATION_NONE : CV_VALIDATION_MANDATORY;
    opt.hostname = app->settings->hostname;
    opt.fetch.timeout = app->settings->crl_timeout;
    opt.fetch.max_size = app->settings->crl_max_size;
    opt.fetch.proxy = app->settings->crl_proxy;
    if (app->crl_slots != NULL) {
        opt.fetch_fn = cd_crl_slots_fetch;
        opt.fetch_arg = app->crl_slots;
    }

    if ((rep = cv_validate(app->cv, &in, &opt)) == NULL) {
        cd_api_fail(resp, CD_ERR_UNAVAILABLE, NULL, "out of memory");
        return;
    }
    if (nm == NULL || nm[0] == '\0')
        cv_report_add(rep, CV_MISSING_FIELD, "name",
            "the Certificate Name is required");
    log_codes(resp, rep);
    resp->body = cvjson_report(rep);
    if (resp->body == NULL) {
        cd_api_fail(resp, CD_ERR_UNAVAILABLE, NULL, "out of memory");
        goto out;
    }
    if (!cv_report_ok(rep)) {
        resp->status = CD_FINDING_STATUS;
        goto out;
    }
    resp->status = 200;
    if (!install)
        goto out;
    memset(&res, 0, sizeof(res));
    {
        struct cd_install_files f = {
            .name = nm, .mode = "ca-signed",
            .validation = opt.validation == CV_VALIDATION_NONE ?
                "none" : "mandatory",
            .use_crl = opt.use_crl, .key = rep->key, .leaf = rep->leaf,
            .path = rep->path,
        };

        if (cd_install_release(app->settings, &f, &res) != 0) {
            cd_api_fail(resp, CD_ERR_INSTALL_FAILED, NULL, res.err);
            goto out;
        }
    }
    add_install(resp->body, &res);
out:
    cv_report_free(rep);
}

/* ---- GET /api/certificate/download: the leaf, its chain or its root ---- */

enum dl_part {
    DL_LEAF = 0,
    DL_CHAIN,
    DL_ROOT
};

static int
hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/*
 * Percent-decodes the n bytes at p into buf ('+' is a space).  Returns 0,
 * or -1 when an escape is bad, a byte is NUL or it does not fit.
 */
static int
unescape(const char *p, size_t n, char *buf, size_t len)
{
    size_t i, o = 0;
    int hi, lo;
    char c;

    for (i = 0; i < n; i++) {
        c = p[i];
        if (c == '+')
            c = ' ';
        else if (c == '%') {
            if (n - i < 3 || (hi = hexval(p[i + 1])) < 0 ||
                (lo = hexval(p[i + 2])) < 0)
                return -1;
            c = (char)(hi * 16 + lo);
            i += 2;
        }
        if (c == '\0' || o + 1 >= len)
            return -1;
        buf[o++] = c;
    }
    buf[o] = '\0';
    return 0;
}

/*
 * Reads format=pem|der and part=leaf|chain|root from the query string
 * (defaults pem and leaf).  Returns 0, or -1 with a 400 in resp for an
 * unknown parameter or value, a repeated parameter or a bad escape.
 */
static int
download_query(const char *q, int *der, enum dl_part *part,
    struct cd_response *resp)
{
    char key[32], val[32], d[160];
    const char *p = q, *end, *eq;
    int seen_format = 0, seen_part = 0;

    *der = 0;
    *part = DL_LEAF;
    while (p != NULL && *p != '\0') {
        if ((end = strchr(p, '&')) == NULL)
            end = p + strlen(p);
        if (end == p) {         /* "a=b&&c=d" or a trailing '&' */
            p = end + 1;
            continue;
        }
        if ((eq = memchr(p, '=', (size_t)(end - p))) == NULL)
            eq = end;
        if (unescape(p, (size_t)(eq - p), key, sizeof(key)) != 0 ||
            (strcmp(key, "format") != 0 && strcmp(key, "part") != 0)) {
            snprintf(d, sizeof(d), "unknown parameter '%.*s': the "
                "parameters are format (pem or der) and part (leaf, chain "
                "or root)", (int)((eq - p) > 40 ? 40 : eq - p), p);
            cd_api_fail(resp, CD_ERR_BAD_REQUEST, NULL, d);
            return -1;
        }
        if (eq == end || unescape(eq + 1, (size_t)(end - eq - 1), val,
            sizeof(val)) != 0)
            val[0] = '\0';
        if (strcmp(key, "format") == 0) {
            if (seen_format++) {
                cd_api_fail(resp, CD_ERR_BAD_REQUEST, "format",
                    "format is given more than once");
                return -1;
            }
            if (strcmp(val, "pem") == 0)
                *der = 0;
            else if (strcmp(val, "der") == 0)
                *der = 1;
            else {
                cd_api_fail(resp, CD_ERR_BAD_REQUEST, "format",
                    "format must be pem or der");
                return -1;
            }
        } else {
            if (seen_part++) {
                cd_api_fail(resp, CD_ERR_BAD_REQUEST, "part",
                    "part is given more than once");
                return -1;
            }
            if (strcmp(val, "leaf") == 0)
                *part = DL_LEAF;
            else if (strcmp(val, "chain") == 0)
                *part = DL_CHAIN;
            else if (strcmp(val, "root") == 0)
                *part = DL_ROOT;
            else {
                cd_api_fail(resp, CD_ERR_BAD_REQUEST, "part",
                    "part must be leaf, chain or root");
                return -1;
            }
        }
        if (*end == '\0')
            break;
        p = end + 1;
    }
    return 0;
}

/*
 * The whole file at path, at most max bytes, into a new buffer (NUL
 * added); NULL when it is missing, unreadable or larger.  Caller frees
 * with free().
 */
static char *
read_file(const char *path, size_t max, size_t *lenp)
{
    struct stat st;
    char *buf = NULL, *ret = NULL;
    size_t off = 0;
    ssize_t n;
    int fd;

    *lenp = 0;
    if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
        return NULL;
    if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) ||
        st.st_size < 0 || (uint64_t)st.st_size > max ||
        (buf = malloc((size_t)st.st_size + 1)) == NULL)
        goto out;
    while (off < (size_t)st.st_size) {
        n = read(fd, buf + off, (size_t)st.st_size - off);
        if (n == -1 && errno == EINTR)
            continue;
        if (n <= 0)
            break;              /* shrank: take what is there */
        off += (size_t)n;
    }
    buf[off] = '\0';
    *lenp = off;
    ret = buf;
    buf = NULL;
out:
    free(buf);
    close(fd);
    return ret;
}

/* 1 when certs holds a certificate equal to x. */
static int
has_cert(STACK_OF(X509) *certs, X509 *x)
{
    int i;

    for (i = 0; i < sk_X509_num(certs); i++)
        if (X509_cmp(sk_X509_value(certs, i), x) == 0)
            return 1;
    return 0;
}

/*
 * Appends every PEM certificate of buf that certs does not hold yet.
 * Returns 0, or -1 when out of memory.
 */
static int
add_pem_certs(STACK_OF(X509) *certs, const char *buf, size_t len)
{
    BIO *b = NULL;
    X509 *x = NULL;
    int rc = -1;

    if (len == 0)
        return 0;
    if (len > INT_MAX || (b = BIO_new_mem_buf(buf, (int)len)) == NULL)
        goto out;
    while ((x = PEM_read_bio_X509(b, NULL, NULL, NULL)) != NULL) {
        if (!has_cert(certs, x)) {
            if (!sk_X509_push(certs, x))
                goto out;
            x = NULL;
        }
        X509_free(x);
        x = NULL;
    }
    rc = 0;
out:
    ERR_clear_error();
    X509_free(x);
    BIO_free(b);
    return rc;
}

/*
 * The certificate's name for a file name: its first subjectAltName DNS
 * entry, else its CN, kept to [A-Za-z0-9.-] ('*' becomes "wildcard",
 * anything else '-'); "certificate" when nothing is left.
 */
static void
file_base(const struct cv_summary *sum, char *buf, size_t len)
{
    const char *s = sum->subject_cn;
    size_t i, o = 0;
    char c;

    for (i = 0; i < sum->n_san && i < CV_MAX_LIST; i++)
        if (strncmp(sum->san[i], "DNS:", 4) == 0 && sum->san[i][4] != '\0') {
            s = sum->san[i] + 4;
            break;
        }
    for (i = 0; s[i] != '\0' && o + 1 < len; i++) {
        c = s[i];
        if (c == '*') {
            if (len - o <= 8)
                break;
            memcpy(buf + o, "wildcard", 8);
            o += 8;
            continue;
        }
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
            (c >= '0' && c <= '9') || c == '.' || c == '-'))
            c = '-';
        if (o == 0 && (c == '.' || c == '-'))
            continue;           /* no hidden file, no option-like name */
        buf[o++] = c;
    }
    buf[o] = '\0';
    if (o == 0)
        snprintf(buf, len, "certificate");
}

/*
 * GET /api/certificate/download?format=pem|der&part=leaf|chain|root: the
 * active certificate, the path it is served with, or the root that path
 * ends in (from STATE/current/chain.pem, completed from the engine's trust
 * anchors when it stops below its root).  Never reads the private key.
 */
static void
download(struct cd_app *app, const struct cd_request *rq,
    struct cd_response *resp)
{
    static const char *const suffix[][2] = {
        [DL_LEAF] = { ".pem", ".cer" },
        [DL_CHAIN] = { "-chain.pem", "-chain.pem" },
        [DL_ROOT] = { "-root.pem", "-root.cer" },
    };
    struct cv_summary sum;
    STACK_OF(X509) *certs = NULL;
    X509 *top, *x = NULL;
    BIO *out = NULL;
    char *pem = NULL, *cpem = NULL, *p, path[PATH_MAX], base[96];
    char label[256], d[400];
    enum dl_part part;
    size_t len = 0, clen = 0;
    long n;
    int der, i, first, last;

    if (download_query(rq->query, &der, &part, resp) != 0)
        return;
    if (der && part == DL_CHAIN) {
        cd_api_fail(resp, CD_ERR_BAD_REQUEST, "format", "a DER file holds one "
            "certificate: use format=pem for the chain, or part=leaf or "
            "part=root with format=der");
        return;
    }
    pem = cd_install_current_cert(app->settings, &len);
    if (pem == NULL || cv_cert_summary((const uint8_t *)pem, len, 0,
        &sum) != 0) {
        cd_api_fail(resp, CD_ERR_NOT_FOUND, NULL, "no certificate is installed");
        goto out;
    }
    snprintf(resp->sha256, sizeof(resp->sha256), "%s", sum.sha256);
    if ((certs = sk_X509_new_null()) == NULL ||
        add_pem_certs(certs, pem, len) != 0)
        goto oom;
    if (sk_X509_num(certs) < 1) {
        cd_api_fail(resp, CD_ERR_NOT_FOUND, NULL, "no certificate is installed");
        goto out;
    }
    while (sk_X509_num(certs) > 1)      /* cert.pem holds the leaf only */
        X509_free(sk_X509_pop(certs));
    if (part != DL_LEAF) {
        if ((size_t)snprintf(path, sizeof(path), "%s/current/chain.pem",
            app->settings->state_dir) < sizeof(path) &&
            (cpem = read_file(path, CHAIN_MAX, &clen)) != NULL &&
            add_pem_certs(certs, cpem, clen) != 0)
            goto oom;
        for (i = 0; i < CHAIN_DEPTH_MAX; i++) {
            top = sk_X509_value(certs, sk_X509_num(certs) - 1);
            if (X509_self_signed(top, 0) == 1 ||
                (x = cv_ctx_find_issuer(app->cv, top)) == NULL ||
                has_cert(certs, x))
                break;
            if (!sk_X509_push(certs, x))
                goto oom;
            x = NULL;
        }
        X509_free(x);
        x = NULL;
        ERR_clear_error();
    }
    last = sk_X509_num(certs) - 1;
    top = sk_X509_value(certs, last);
    if (part == DL_ROOT && X509_self_signed(top, 0) != 1) {
        X509_NAME_oneline(X509_get_issuer_name(top), label, sizeof(label));
        snprintf(d, sizeof(d), "the installed chain ends below its root, "
            "and no trust anchor of this appliance issued its last "
            "certificate (issuer %s)", label);
        cd_api_fail(resp, CD_ERR_NOT_FOUND, "part", d);
        goto out;
    }
    first = part == DL_ROOT ? last : 0;
    if (part == DL_LEAF)
        last = 0;
    if ((out = BIO_new(BIO_s_mem())) == NULL)
        goto oom;
    for (i = first; i <= last; i++)
        if ((der ? i2d_X509_bio(out, sk_X509_value(certs, i)) :
            PEM_write_bio_X509(out, sk_X509_value(certs, i))) != 1)
            goto oom;
    if ((n = BIO_get_mem_data(out, &p)) <= 0 ||
        (resp->raw = malloc((size_t)n)) == NULL)
        goto oom;
    memcpy(resp->raw, p, (size_t)n);
    resp->raw_len = (size_t)n;
    resp->content_type = der ? "application/pkix-cert" :
        "application/x-pem-file";
    file_base(&sum, base, sizeof(base));
    snprintf(resp->filename, sizeof(resp->filename), "%s%s", base,
        suffix[part][der]);
    resp->status = 200;
    goto out;
oom:
    cd_api_fail(resp, CD_ERR_UNAVAILABLE, NULL, "out of memory");
out:
    ERR_clear_error();
    X509_free(x);
    BIO_free(out);
    sk_X509_pop_free(certs, X509_free);
    free(cpem);
    free(pem);
}

void
cd_api_handle(struct cd_app *app, const struct cd_request *rq,
    struct cd_response *resp)
{
    struct cd_install_result res;
    enum route r = route_of(rq->path);

    if (r == R_DOWNLOAD) {
        download(app, rq, resp);
        return;
    }
    if (rq->method != NULL && (strcmp(rq->method, "GET") == 0 ||
        strcmp(rq->method, "HEAD") == 0)) {
        resp->status = 200;
        resp->body = current_json(app, rq, resp);
        return;
    }
    switch (r) {
    case R_CERT:
    case R_VALIDATE:
        upload(app, rq, r == R_CERT, resp);
        return;
    case R_ROLLBACK:
        memset(&res, 0, sizeof(res));
        if (cd_install_rollback(app->settings, &res) != 0) {
            cd_api_fail(resp, CD_ERR_NO_PREVIOUS, NULL, res.err);
            return;
        }
        resp->status = 200;
        resp->body = current_json(app, NULL, resp);
        add_install(resp->body, &res);
        return;
    case R_DOWNLOAD:
    case R_NONE:
        break;
    }
    cd_api_fail(resp, CD_ERR_NOT_FOUND, NULL, rq->path);
}

void
cd_api_response_clear(struct cd_response *resp)
{
    json_decref(resp->body);
    resp->body = NULL;
    free(resp->raw);
    resp->raw = NULL;
}
