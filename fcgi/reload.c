/*
 * reload.c - having the web server load the current release (reload.h):
 * the configured reload_command, or else SIGHUP to the nginx master named
 * by nginx_pid_file and a wait until it has started new workers.
 */
#include "config.h"

#include "reload.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cv_util.h"
#include "proc.h"

#define PIDFILE_MAX     32
#define MAX_CHILDREN    256

/* A pid file's content: digits and an optional newline, 1..INT_MAX. */
static int
parse_pid(const char *buf, size_t len, pid_t *pid)
{
    uint64_t v;

    if (len > 0 && buf[len - 1] == '\n')
        len--;
    if (len > 0 && buf[len - 1] == '\r')
        len--;
    if (cv_parse_uint(buf, len, INT_MAX, &v) != 0 || v < 1)
        return -1;
    *pid = (pid_t)v;
    return 0;
}

/* 1 when /proc says pid is nginx or /proc can't tell; 0 when it isn't. */
static int
is_nginx(pid_t pid, char *comm, size_t len)
{
    if (cd_proc_name(pid, comm, len) != 0)
        return 1;       /* no /proc: kill() says whether it exists */
    return strncmp(comm, "nginx", 5) == 0;
}

/* 1 when one of now[] is not among before[]. */
static int
new_child(const pid_t *before, int nb, const pid_t *now, int nn)
{
    int i, j;

    for (i = 0; i < nn; i++) {
        for (j = 0; j < nb && before[j] != now[i]; j++)
            ;
        if (j == nb)
            return 1;
    }
    return 0;
}

/*
 * SIGHUP to nginx, then waits until its master has started new workers:
 * by then it has read the new certificate and key (it loads them before
 * forking), so the caller may let the next install swap "current".  A
 * master that keeps its old workers refused the new files.
 */
static void
signal_nginx(const struct cd_settings *s, pid_t pid,
    struct cd_install_result *res)
{
    pid_t before[MAX_CHILDREN], now[MAX_CHILDREN];
    struct timespec t0, nap = { 0, 20 * 1000 * 1000 };
    int nb, nn;
    double waited;

    nb = cd_proc_children(pid, before, MAX_CHILDREN);
    if (kill(pid, SIGHUP) != 0) {
        snprintf(res->reload_detail, sizeof(res->reload_detail),
            errno == ESRCH ? "nginx (pid %d from %s) is not running" :
            "cannot signal nginx (pid %d from %s): %s", (int)pid,
            s->nginx_pid_file, strerror(errno));
        return;
    }
    if (nb < 0) {
        res->reloaded = 1;
        snprintf(res->reload_detail, sizeof(res->reload_detail),
            "sent SIGHUP to nginx (pid %d); /proc cannot show whether it "
            "reloaded", (int)pid);
        return;
    }
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (;;) {
        nanosleep(&nap, NULL);
        waited = cv_ms_since(CLOCK_MONOTONIC, &t0) / 1e3;
        if (cd_proc_gone(pid)) {
            snprintf(res->reload_detail, sizeof(res->reload_detail),
                "nginx (pid %d) exited after SIGHUP", (int)pid);
            return;
        }
        nn = cd_proc_children(pid, now, MAX_CHILDREN);
        if (nn > 0 && new_child(before, nb, now, nn)) {
            res->reloaded = 1;
            snprintf(res->reload_detail, sizeof(res->reload_detail),
                "sent SIGHUP to nginx (pid %d); it reloaded in %.0f ms",
                (int)pid, waited * 1e3);
            return;
        }
        if (waited >= s->reload_timeout)
            break;
    }
    snprintf(res->reload_detail, sizeof(res->reload_detail),
        "sent SIGHUP to nginx (pid %d), but it started no new workers "
        "within %d s: it refused the new files or is still busy (see its "
        "error log)", (int)pid, s->reload_timeout);
}

void
cd_reload_run(const struct cd_settings *s, const char *dir,
    struct cd_install_result *res)
{
    char what[96], out[128], comm[32], *buf;
    size_t len = 0;
    pid_t pid;

    res->reloaded = 0;
    if (s->reload_command != NULL) {
        res->reloaded = cd_proc_run(s->reload_command, dir, what,
            sizeof(what), out, sizeof(out)) == 0;
        snprintf(res->reload_detail, sizeof(res->reload_detail),
            "the reload command %s%s%s", what, out[0] ? ": " : "", out);
        return;
    }
    if (s->nginx_pid_file == NULL) {
        snprintf(res->reload_detail, sizeof(res->reload_detail),
            "neither a reload command nor an nginx pid file is configured");
        return;
    }
    if ((buf = cv_read_file(s->nginx_pid_file, PIDFILE_MAX,
        CV_READ_REGULAR, &len)) == NULL) {
        if (errno == ENOENT)
            snprintf(res->reload_detail, sizeof(res->reload_detail),
                "no nginx pid file at %s", s->nginx_pid_file);
        else
            snprintf(res->reload_detail, sizeof(res->reload_detail),
                "cannot read the nginx pid file %s: %s", s->nginx_pid_file,
                errno == EFBIG ? "it is not a process id" : strerror(errno));
        return;
    }
    if (parse_pid(buf, len, &pid) != 0) {
        free(buf);
        snprintf(res->reload_detail, sizeof(res->reload_detail),
            "the nginx pid file %s does not hold a process id",
            s->nginx_pid_file);
        return;
    }
    free(buf);
    if (!is_nginx(pid, comm, sizeof(comm))) {
        snprintf(res->reload_detail, sizeof(res->reload_detail),
            "process %d from %s is %s, not nginx; not signalled", (int)pid,
            s->nginx_pid_file, comm);
        return;
    }
    signal_nginx(s, pid, res);
}
