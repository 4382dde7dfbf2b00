/*
 * request.c - the FastCGI side of a request: reads the parameters and the
 * body (exactly CONTENT_LENGTH bytes, never more than the limit), hands
 * them to api.c, writes the JSON answer, logs one line (with the user
 * api.c authenticated, never a cookie or token).  The body holds key
 * bytes, a passphrase or a password: it is wiped before it is freed.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>

#include "api.h"
#include "cv_util.h"
#include "cvjson.h"
#include "request.h"

/* Reads exactly len bytes; -1 on a short body. */
static int
read_body(FCGX_Stream *in, uint8_t *buf, size_t len)
{
    size_t off = 0;
    int n, want;

    while (off < len) {
        want = len - off > 65536 ? 65536 : (int)(len - off);
        if ((n = FCGX_GetStr((char *)buf + off, want, in)) <= 0)
            return -1;
        off += (size_t)n;
    }
    return 0;
}

static void
respond(FCGX_Request *fr, const struct cd_request *rq,
    const struct cd_response *resp)
{
    static const char *const reason[] = {
        [200] = "OK", [201] = "Created", [400] = "Bad Request", [401] = "Unauthorized",
        [403] = "Forbidden", [404] = "Not Found",
        [405] = "Method Not Allowed", [409] = "Conflict",
        [411] = "Length Required", [413] = "Content Too Large",
        [415] = "Unsupported Media Type", [422] = "Unprocessable Content",
        [429] = "Too Many Requests",
        [500] = "Internal Server Error", [503] = "Service Unavailable",
    };
    char *text;
    const char *r = resp->status > 0 && resp->status < 600 &&
        reason[resp->status] != NULL ? reason[resp->status] : "Error";

    /*
     * Cache-Control and X-Content-Type-Options are nginx's business: its
     * /api/ location adds them to every answer (written here too, they
     * came twice).  FCGX_FPrintF knows no %zu: sizes go as unsigned long.
     */
    if (resp->raw != NULL) {
        FCGX_FPrintF(fr->out, "Status: %d %s\r\n"
            "Content-Type: %s\r\n"
            "Content-Length: %lu\r\n", resp->status, r,
            resp->content_type != NULL ? resp->content_type :
            "application/octet-stream", (unsigned long)resp->raw_len);
        if (resp->filename[0] != '\0')
            FCGX_FPrintF(fr->out, "Content-Disposition: attachment; "
                "filename=\"%s\"\r\n", resp->filename);
        if (resp->set_cookie[0] != '\0')
            FCGX_FPrintF(fr->out, "Set-Cookie: %s\r\n", resp->set_cookie);
        FCGX_FPrintF(fr->out, "\r\n");
        if (rq->method == NULL || strcmp(rq->method, "HEAD") != 0)
            FCGX_PutStr((const char *)resp->raw, (int)resp->raw_len,
                fr->out);
        return;
    }
    text = resp->body != NULL ? cvjson_dumps(resp->body) : NULL;
    FCGX_FPrintF(fr->out, "Status: %d %s\r\n"
        "Content-Type: application/json; charset=utf-8\r\n", resp->status,
        r);
    if (resp->allow[0] != '\0')
        FCGX_FPrintF(fr->out, "Allow: %s\r\n", resp->allow);
    if (resp->set_cookie[0] != '\0')
        FCGX_FPrintF(fr->out, "Set-Cookie: %s\r\n", resp->set_cookie);
    if (resp->retry_after > 0)
        FCGX_FPrintF(fr->out, "Retry-After: %d\r\n",
            (int)resp->retry_after);
    FCGX_FPrintF(fr->out, "\r\n");
    if (rq->method == NULL || strcmp(rq->method, "HEAD") != 0)
        FCGX_PutS(text != NULL ? text : "{\"ok\":false,\"errors\":[{\"code\":"
            "\"validation_failed\",\"message\":\"Certificate validation "
            "failed\",\"field\":null,\"detail\":\"out of memory\"}],"
            "\"warnings\":[]}\n", fr->out);
    free(text);
}

/* Printable for the log: no spaces or control bytes from the client. */
static const char *
clean(const char *s, char *buf, size_t len)
{
    size_t i;

    if (s == NULL || *s == '\0')
        return "-";
    for (i = 0; s[i] != '\0' && i + 1 < len; i++)
        buf[i] = s[i] > ' ' && s[i] < 127 ? s[i] : '?';
    buf[i] = '\0';
    return buf;
}

void
cd_request_serve(struct cd_app *app, FCGX_Request *fr)
{
    struct cd_request rq;
    struct cd_response resp;
    struct timespec t0, c0;
    enum cd_body_need need;
    uint8_t *body = NULL;
    size_t blen = 0;
    char pathbuf[512], ub[64], pb[128];
    const char *uri, *q;

    clock_gettime(CLOCK_MONOTONIC, &t0);
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c0);
    memset(&rq, 0, sizeof(rq));
    rq.method = FCGX_GetParam("REQUEST_METHOD", fr->envp);
    uri = FCGX_GetParam("DOCUMENT_URI", fr->envp);
    if (uri == NULL)
        uri = FCGX_GetParam("REQUEST_URI", fr->envp);
    if (uri != NULL) {
        snprintf(pathbuf, sizeof(pathbuf), "%s", uri);
        if ((q = strchr(uri, '?')) != NULL && (size_t)(q - uri) <
            sizeof(pathbuf)) {
            pathbuf[q - uri] = '\0';
            rq.query = q + 1;
        }
        rq.path = pathbuf;
    }
    if (rq.query == NULL)
        rq.query = FCGX_GetParam("QUERY_STRING", fr->envp);
    rq.content_type = FCGX_GetParam("CONTENT_TYPE", fr->envp);
    rq.content_length = FCGX_GetParam("CONTENT_LENGTH", fr->envp);
    /* REMOTE_USER means nothing: whoever opens the socket can send it */
    rq.cookie = FCGX_GetParam("HTTP_COOKIE", fr->envp);
    rq.authorization = FCGX_GetParam("HTTP_AUTHORIZATION", fr->envp);
    rq.remote_addr = FCGX_GetParam("REMOTE_ADDR", fr->envp);
    rq.https = FCGX_GetParam("HTTPS", fr->envp);
    rq.origin = FCGX_GetParam("HTTP_ORIGIN", fr->envp);
    rq.sec_fetch_site = FCGX_GetParam("HTTP_SEC_FETCH_SITE", fr->envp);
    rq.host = FCGX_GetParam("HTTP_HOST", fr->envp);
    rq.server_addr = FCGX_GetParam("SERVER_ADDR", fr->envp);

    if (cd_api_precheck(app, &rq, &need, &blen, &resp) == 0) {
        if (need == CD_BODY_READ &&
            ((body = malloc(blen ? blen : 1)) == NULL ||
            read_body(fr->in, body, blen) != 0)) {
            cd_api_fail(&resp, body == NULL ? CD_ERR_UNAVAILABLE :
                CD_ERR_BAD_REQUEST, NULL, body == NULL ? "out of memory" :
                "the body is shorter than Content-Length");
        } else {
            rq.body = body;
            rq.body_len = blen;
            cd_api_handle(app, &rq, &resp);
        }
    }
    respond(fr, &rq, &resp);
    cv_free_secret(body, blen);
    /*
     * the wall time, then the worker's CPU time and the engine's part
     * (cv_validate() and freeing its report)
     */
    fprintf(stderr, "certdialog: user=%s %s %s %d codes=%s sha256=%s "
        "%.1fms cpu=%.2fms engine=%.2fms\n", clean(resp.user, ub,
        sizeof(ub)), clean(rq.method, pb, 16), clean(rq.path, pb + 16,
        sizeof(pb) - 16), resp.status, resp.codes,
        resp.sha256[0] ? resp.sha256 : "-", cv_ms_since(CLOCK_MONOTONIC, &t0),
        cv_ms_since(CLOCK_THREAD_CPUTIME_ID, &c0), resp.engine_ms);
    cd_api_response_clear(&resp);
}
