/*
 * proc.c - other processes (proc.h): a command run as a child with a
 * timeout and its output captured, and what /proc says about a process.
 */
#include "config.h"

#include "proc.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cv_util.h"

extern char **environ;

#define ENV_RELEASE     "CERTDIALOG_RELEASE="
#define PROC_FILE_MAX   8192    /* /proc/PID/{comm,stat,task/PID/children} */

/* Printable ASCII only (the answer is JSON), runs of blanks squeezed. */
static void
sanitize(char *s)
{
    char *w = s;
    const char *r;

    for (r = s; *r != '\0'; r++) {
        char c = (*r >= 0x20 && *r < 0x7f) ? *r : ' ';

        if (c == ' ' && (w == s || w[-1] == ' '))
            continue;
        *w++ = c;
    }
    while (w > s && w[-1] == ' ')
        w--;
    *w = '\0';
}

/* Reads what is there now; keeps the first olen - 1 bytes.  1 at EOF. */
static int
drain(int fd, char *out, size_t olen, size_t *used)
{
    char buf[512];
    ssize_t n;
    size_t k;

    for (;;) {
        n = read(fd, buf, sizeof(buf));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : 1;
        if (n == 0)
            return 1;
        k = (size_t)n;
        if (k > olen - 1 - *used)
            k = olen - 1 - *used;
        memcpy(out + *used, buf, k);
        *used += k;
        out[*used] = '\0';
    }
}

/* In the child: async-signal-safe calls only. */
static void
exec_sh(int wfd, const char *cmd, char **envp)
{
    char *argv[] = { "sh", "-c", (char *)cmd, NULL };
    struct sigaction sa;
    sigset_t none;
    int nul, sig, fd;

    setpgid(0, 0);
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = SIG_DFL;
    for (sig = 1; sig < NSIG; sig++)
        sigaction(sig, &sa, NULL);
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    if (wfd < 3)
        wfd = fcntl(wfd, F_DUPFD, 3);
    nul = open("/dev/null", O_RDONLY);
    if (nul >= 0 && nul < 3)
        nul = fcntl(nul, F_DUPFD, 3);
    if (wfd < 0 || nul < 0 || dup2(nul, 0) < 0 || dup2(wfd, 1) < 0 ||
        dup2(wfd, 2) < 0)
        _exit(126);
    if (close_range(3, ~0U, 0) != 0)
        for (fd = 3; fd < 4096; fd++)
            close(fd);
    execve("/bin/sh", argv, envp);
    _exit(127);
}

/*
 * Our environment without any CERTDIALOG_RELEASE, then
 * CERTDIALOG_RELEASE=release (when not NULL), into a new array; *relenv
 * is the one new string.  Built before fork(): the child may not malloc.
 */
static char **
child_env(const char *release, char **relenv)
{
    char **envp;
    size_t n, i, j, rlen;

    *relenv = NULL;
    for (n = 0; environ != NULL && environ[n] != NULL; n++)
        ;
    if ((envp = calloc(n + 2, sizeof(*envp))) == NULL)
        return NULL;
    for (i = j = 0; i < n; i++)
        if (strncmp(environ[i], ENV_RELEASE, sizeof(ENV_RELEASE) - 1) != 0)
            envp[j++] = environ[i];
    if (release != NULL) {
        rlen = strlen(release);
        if ((*relenv = malloc(sizeof(ENV_RELEASE) + rlen)) == NULL) {
            free(envp);
            return NULL;
        }
        memcpy(*relenv, ENV_RELEASE, sizeof(ENV_RELEASE) - 1);
        memcpy(*relenv + sizeof(ENV_RELEASE) - 1, release, rlen + 1);
        envp[j++] = *relenv;
    }
    envp[j] = NULL;
    return envp;
}

int
cd_proc_run(const char *cmd, const char *release, char *what, size_t wlen,
    char *out, size_t olen)
{
    char **envp = NULL, *relenv = NULL;
    struct timespec t0, t1;
    struct pollfd pfd;
    int p[2] = { -1, -1 }, st = 0, rc = -1, exited = 0, eof = 0, r, e = 0;
    size_t used = 0;
    pid_t pid;

    out[0] = '\0';
    snprintf(what, wlen, "could not be run");
    if ((envp = child_env(release, &relenv)) == NULL)
        goto out;
    if (pipe2(p, O_CLOEXEC) != 0) {
        snprintf(what, wlen, "could not be run: %s", strerror(errno));
        goto out;
    }
    if ((pid = fork()) < 0) {
        snprintf(what, wlen, "could not be run: %s", strerror(errno));
        goto out;
    }
    if (pid == 0)
        exec_sh(p[1], cmd, envp);
    setpgid(pid, pid);
    close(p[1]);
    p[1] = -1;
    fcntl(p[0], F_SETFL, fcntl(p[0], F_GETFL) | O_NONBLOCK);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (;;) {
        if (!eof) {
            pfd.fd = p[0];
            pfd.events = POLLIN;
            if (poll(&pfd, 1, 100) > 0)
                eof = drain(p[0], out, olen, &used);
        } else {
            poll(NULL, 0, 10);
        }
        r = waitpid(pid, &st, WNOHANG);
        if (r == pid || (r < 0 && errno != EINTR)) {
            exited = r == pid;
            e = errno;
            /* a daemon it started may keep the pipe: don't wait for EOF */
            if (!eof)
                drain(p[0], out, olen, &used);
            break;
        }
        clock_gettime(CLOCK_MONOTONIC, &t1);
        if (t1.tv_sec - t0.tv_sec >= CD_PROC_TIMEOUT) {
            kill(-pid, SIGKILL);
            kill(pid, SIGKILL);
            while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
                ;
            snprintf(what, wlen, "timed out after %d s", CD_PROC_TIMEOUT);
            goto out;
        }
    }
    if (!exited)
        snprintf(what, wlen, "could not be waited for: %s", strerror(e));
    else if (WIFEXITED(st) && WEXITSTATUS(st) == 0) {
        snprintf(what, wlen, "succeeded");
        rc = 0;
    } else if (WIFEXITED(st))
        snprintf(what, wlen, "failed with exit status %d", WEXITSTATUS(st));
    else if (WIFSIGNALED(st))
        snprintf(what, wlen, "was killed by signal %d", WTERMSIG(st));
out:
    if (p[0] >= 0)
        close(p[0]);
    if (p[1] >= 0)
        close(p[1]);
    free(relenv);
    free(envp);
    sanitize(out);
    return rc;
}

/* /proc/PID/NAME into a new buffer (free()), NULL when it can't be read. */
static char *
proc_file(pid_t pid, const char *name, size_t *lenp)
{
    char path[64];

    snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, name);
    return cv_read_file(path, PROC_FILE_MAX, CV_READ_REGULAR, lenp);
}

int
cd_proc_name(pid_t pid, char *buf, size_t len)
{
    size_t n = 0;
    char *s;

    snprintf(buf, len, "?");
    if ((s = proc_file(pid, "comm", &n)) == NULL)
        return -1;
    snprintf(buf, len, "%s", s);
    sanitize(buf);
    free(s);
    return 0;
}

int
cd_proc_children(pid_t pid, pid_t *out, int max)
{
    char name[48], *buf, *p, *end;
    size_t len = 0;
    long v;
    int n = 0;

    snprintf(name, sizeof(name), "task/%d/children", (int)pid);
    if ((buf = proc_file(pid, name, &len)) == NULL)
        return -1;
    for (p = buf; n < max && *p != '\0'; p = end) {
        errno = 0;
        v = strtol(p, &end, 10);
        if (end == p)
            break;
        if (errno == 0 && v > 0 && v <= INT_MAX)
            out[n++] = (pid_t)v;
    }
    free(buf);
    return n;
}

int
cd_proc_gone(pid_t pid)
{
    size_t len = 0;
    char *buf, *p;
    int z;

    if (kill(pid, 0) != 0 && errno == ESRCH)
        return 1;
    if ((buf = proc_file(pid, "stat", &len)) == NULL)
        return 0;
    /* "pid (comm) S ...": the state follows the last ')' */
    p = strrchr(buf, ')');
    z = p != NULL && (p[1] == ' ') && (p[2] == 'Z' || p[2] == 'X');
    free(buf);
    return z;
}
