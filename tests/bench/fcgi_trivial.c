/*
 * fcgi_trivial.c - the trivial FastCGI responder of scripts/bench-http's
 * http_overhead_pct: it reads each request's whole body and answers a
 * fixed small JSON 200, nothing else.  Behind the same nginx
 * configuration as certdialog-fcgi, its CPU per request is what TLS,
 * nginx and FastCGI cost without certdialog.
 *
 * A request with the header "X-Bench-Busy-Us: N" (0 to 100000) keeps the
 * worker busy for N microseconds of its own CPU time before the answer:
 * a stand-in for the engine, so that the cores are as loaded and nginx
 * holds as many requests at once as with certdialog-fcgi; the benchmark
 * subtracts N again, as it subtracts the engine's CPU from certdialog's.
 * The loop reads the thread's CPU clock until N have passed, so it
 * spends N plus at most one reading (under a microsecond).
 *
 *   fcgi_trivial -s SOCKET [-w WORKERS]
 *
 * Unlinks and binds SOCKET (mode 0666: a benchmark's private directory),
 * forks WORKERS (default 2) processes in an FCGX_Accept_r loop, stops
 * them all on SIGTERM/SIGINT.
 */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <fcgiapp.h>

#define MAX_WORKERS 64
#define MAX_BUSY_US 100000L

static const char answer[] = "Status: 200 OK\r\n"
    "Content-Type: application/json; charset=utf-8\r\n"
    "Cache-Control: no-store\r\n\r\n"
    "{\"ok\": true}\n";

/*
 * The same stop flag and handler as fcgi/main.c's, written again on
 * purpose: this responder is the baseline certdialog-fcgi is measured
 * against, so it links libfcgi alone and nothing of the service's (no
 * libcdfcgi, no libcv, no OpenSSL), and six lines are no reason to give
 * both a shared file.
 */
static volatile sig_atomic_t stopping;

static void
on_stop(int sig)
{
    (void)sig;
    stopping = 1;
}

/* spend US microseconds of this thread's CPU time */
static void
busy(long us)
{
    struct timespec t0, t;

    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t0);
    do {
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    } while ((t.tv_sec - t0.tv_sec) * 1000000L +
        (t.tv_nsec - t0.tv_nsec) / 1000 < us);
}

static void
worker(int fd)
{
    FCGX_Request req;
    char buf[16384];
    const char *b;
    long us;

    signal(SIGTERM, SIG_DFL);
    signal(SIGINT, SIG_DFL);
    if (FCGX_Init() != 0 || FCGX_InitRequest(&req, fd, 0) != 0)
        _exit(1);
    while (FCGX_Accept_r(&req) >= 0) {
        while (FCGX_GetStr(buf, sizeof(buf), req.in) > 0)
            ;
        if ((b = FCGX_GetParam("HTTP_X_BENCH_BUSY_US", req.envp)) != NULL &&
            (us = atol(b)) > 0)
            busy(us < MAX_BUSY_US ? us : MAX_BUSY_US);
        FCGX_PutStr(answer, (int)sizeof(answer) - 1, req.out);
        FCGX_Finish_r(&req);
    }
    _exit(0);
}

int
main(int argc, char **argv)
{
    pid_t pids[MAX_WORKERS];
    struct sigaction sa;
    const char *sock = NULL;
    int c, n = 2, i, fd, st;

    while ((c = getopt(argc, argv, "s:w:")) != -1) {
        switch (c) {
        case 's': sock = optarg; break;
        case 'w': n = atoi(optarg); break;
        default: goto usage;
        }
    }
    if (sock == NULL || n < 1 || n > MAX_WORKERS)
        goto usage;
    unlink(sock);
    if ((fd = FCGX_OpenSocket(sock, 128)) < 0 || chmod(sock, 0666) != 0) {
        fprintf(stderr, "fcgi_trivial: cannot listen on %s: %s\n", sock,
            strerror(errno));
        return 1;
    }
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_stop;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    for (i = 0; i < n; i++)
        if ((pids[i] = fork()) == 0)
            worker(fd);
    fprintf(stderr, "fcgi_trivial: %d workers serving\n", n);
    while (!stopping)
        if (wait(&st) < 0 && errno != EINTR)
            break;
    for (i = 0; i < n; i++)
        if (pids[i] > 0)
            kill(pids[i], SIGTERM);
    while (wait(&st) > 0 || errno == EINTR)
        ;
    unlink(sock);
    return 0;
usage:
    fprintf(stderr, "usage: fcgi_trivial -s SOCKET [-w WORKERS]\n");
    return 2;
}
