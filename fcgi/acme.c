/*
 * acme.c - /api/acme (docs/API.md "Automatic renewal (ACME)"): the
 * renewal's settings read and replaced, its status, and "renew now",
 * which starts certdialog-fcgi --acme-renew detached (acmerun.c does the
 * work; acmeconf.c keeps the files).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "acme.h"
#include "cv_util.h"
#include "files.h"
#include "handlers.h"

static char *self_exe, *self_config;

void
cd_acme_set_self(const char *exe, const char *config)
{
    free(self_exe);
    free(self_config);
    self_exe = exe != NULL ? strdup(exe) : NULL;
    self_config = config != NULL ? strdup(config) : NULL;
}

/*
 * In the grandchild: stdin and stdout on /dev/null, stderr kept (the
 * service's journal, or serve's log), every other descriptor closed (the
 * listening socket, the request's connection).
 */
static void
detach_fds(void)
{
    int fd = open("/dev/null", O_RDWR);
    long max = sysconf(_SC_OPEN_MAX), i;

    if (fd >= 0) {
        dup2(fd, 0);
        dup2(fd, 1);
    }
    for (i = 3; i < (max > 0 && max < 65536 ? max : 65536); i++)
        close((int)i);
}

int
cd_acme_start(char *why, size_t wlen)
{
    pid_t pid, w;
    int st;

    if (self_exe == NULL || self_config == NULL) {
        snprintf(why, wlen, "this service was started without a settings "
            "file: run certdialog-fcgi --acme-renew --force instead");
        return -1;
    }
    /*
     * Twice forked, in its own session: the run outlives this request
     * and the worker, and is never our zombie.
     */
    if ((pid = fork()) < 0) {
        snprintf(why, wlen, "fork: %s", strerror(errno));
        return -1;
    }
    if (pid == 0) {
        sigset_t none;

        /* the worker blocks SIGTERM while it answers: not the run */
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        signal(SIGTERM, SIG_DFL);
        signal(SIGINT, SIG_DFL);
        signal(SIGPIPE, SIG_DFL);
        if (setsid() < 0 || (pid = fork()) < 0)
            _exit(1);
        if (pid > 0)
            _exit(0);
        detach_fds();
        execl(self_exe, self_exe, "-c", self_config, "--acme-renew",
            "--force", (char *)NULL);
        _exit(127);
    }
    while ((w = waitpid(pid, &st, 0)) < 0 && errno == EINTR)
        ;
    if (w != pid || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
        snprintf(why, wlen, "the renewal could not be started");
        return -1;
    }
    return 0;
}

/*
 * GET /api/acme/challenge/TOKEN: an http-01 answer the hook wrote into
 * STATE/acme/challenge/ (0700, the service's alone), for nginx's port-80
 * location /.well-known/acme-challenge/TOKEN.  Public: the CA asks
 * without credentials, and the answer is public by design (RFC 8555
 * 8.3): the token it names and the account key's thumbprint.
 */
void
cd_acme_challenge(struct cd_app *app, const struct cd_request *rq,
    struct cd_response *resp)
{
    char tok[130], p[PATH_MAX], *buf;
    size_t len = 0;

    if (cd_api_path_param(rq, tok, sizeof(tok)) != 0 || tok[0] == '\0' ||
        strspn(tok, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
        "0123456789-_") != strlen(tok) ||
        cd_path(p, "%s/acme/challenge/%s", app->settings->state_dir,
        tok) != 0 ||
        (buf = cv_read_file(p, 4096, CV_READ_REGULAR, &len)) == NULL) {
        cd_api_fail(resp, CD_ERR_NOT_FOUND, NULL,
            "no such challenge is pending");
        return;
    }
    resp->raw = (uint8_t *)buf;
    resp->raw_len = len;
    resp->content_type = "text/plain";
    resp->status = 200;
}

/* {config, status}: config null when none is stored. */
static json_t *
answer(struct cd_app *app, const struct cd_acme_config *c, char *why,
    size_t wlen)
{
    struct cd_acme_status st;

    if (cd_acme_status_load(app->settings, &st) != 0) {
        snprintf(why, wlen, "the renewal status cannot be read");
        return NULL;
    }
    return json_pack("{s:b, s:o, s:o}", "ok", 1, "config",
        c != NULL ? cd_acme_config_json(c) : json_null(),
        "status", cd_acme_status_json(&st, cd_acme_running(app->settings)));
}

/*
 * The stored settings into *c for GET and "renew now": 1, 0 when none,
 * or -1 with the 503 answer made (a file that cannot be read or no longer
 * passes).  The caller clears *c (it may hold the EAB HMAC key).
 */
static int
load_config(struct cd_app *app, struct cd_acme_config *c,
    struct cd_response *resp)
{
    char why[256];
    int r;

    if ((r = cd_acme_config_load(app->settings, c, why, sizeof(why))) < 0)
        cd_api_fail(resp, CD_ERR_UNAVAILABLE, NULL, why);
    return r;
}

void
cd_acme_get(struct cd_app *app, const struct cd_request *rq,
    struct cd_response *resp)
{
    struct cd_acme_config c;
    char why[256];
    int r;

    (void)rq;
    if ((r = load_config(app, &c, resp)) >= 0)
        resp->body = answer(app, r == 1 ? &c : NULL, why, sizeof(why));
    cd_acme_config_clear(&c);
    if (r < 0)
        return;
    if (resp->body == NULL) {
        cd_api_fail(resp, CD_ERR_UNAVAILABLE, NULL, why);
        return;
    }
    resp->status = 200;
}

void
cd_acme_put(struct cd_app *app, const struct cd_request *rq,
    struct cd_response *resp)
{
    struct cd_acme_config old, c;
    const char *field;
    char why[256];
    json_t *j;
    int r;

    if ((j = cd_api_json_body(rq, resp)) == NULL)
        return;
    r = cd_acme_config_load(app->settings, &old, why, sizeof(why));
    /* a stored file that no longer passes is simply replaced */
    if (cd_acme_config_parse(app->settings, j, r == 1 ? &old : NULL, &c,
        &field, why, sizeof(why)) != 0) {
        cd_api_fail(resp, CD_ERR_BAD_REQUEST, field, why);
        goto out;
    }
    if (cd_acme_config_save(app->settings, &c, why, sizeof(why)) != 0) {
        cd_api_fail(resp, CD_ERR_UNAVAILABLE, NULL, why);
        goto out;
    }
    if ((resp->body = answer(app, &c, why, sizeof(why))) == NULL) {
        cd_api_fail(resp, CD_ERR_UNAVAILABLE, NULL, why);
        goto out;
    }
    resp->status = 200;
out:
    cd_acme_config_clear(&old);
    cd_acme_config_clear(&c);
    json_decref(j);
}

void
cd_acme_renew(struct cd_app *app, const struct cd_request *rq,
    struct cd_response *resp)
{
    struct cd_acme_config c;
    char why[256];
    int r;

    (void)rq;
    r = load_config(app, &c, resp);
    cd_acme_config_clear(&c);
    if (r < 0)
        return;
    if (r == 0) {
        cd_api_fail(resp, CD_ERR_ACME_NOT_CONFIGURED, NULL,
            "PUT /api/acme first");
        return;
    }
    if (cd_acme_running(app->settings)) {
        cd_api_fail(resp, CD_ERR_ACME_RUNNING, NULL, NULL);
        return;
    }
    if (cd_acme_start(why, sizeof(why)) != 0) {
        cd_api_fail(resp, CD_ERR_UNAVAILABLE, NULL, why);
        return;
    }
    if ((resp->body = answer(app, NULL, why, sizeof(why))) == NULL) {
        cd_api_fail(resp, CD_ERR_UNAVAILABLE, NULL, why);
        return;
    }
    json_object_del(resp->body, "config");
    /* the run may not hold its lock yet: GET shows its progress */
    json_object_set_new(resp->body, "started", json_true());
    resp->status = 202;
}
