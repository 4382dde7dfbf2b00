/*
 * main.c - certdialog-fcgi: the FastCGI upload service.
 *
 * Loads the settings and the trust anchors once, makes sure a certificate
 * is installed (so nginx can start), opens or inherits the listening socket,
 * and runs a few pre-forked workers, each in a FCGX_Accept_r loop.  The
 * master replaces a worker that dies and stops them all on SIGTERM/SIGINT.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <fcgiapp.h>

#include "api.h"
#include "install.h"
#include "request.h"
#include "settings.h"

#define MAX_WORKERS 64

static volatile sig_atomic_t stopping;

static void
on_stop(int sig)
{
    (void)sig;
    stopping = 1;
}

static void
usage(FILE *f)
{
    fprintf(f, "usage: certdialog-fcgi [-c CONFIG] [-s SOCKET] [-w WORKERS] "
        "[--init] [--check-config]\n"
        "  -c, --config FILE   settings (JSON); default: built-in defaults\n"
        "  -s, --socket PATH   unix socket to listen on (else the socket on "
        "fd 0,\n"
        "                      or systemd's LISTEN_FDS)\n"
        "  -w, --workers N     worker processes (default 2)\n"
        "      --init          install a self-signed certificate when none "
        "is, then exit\n"
        "      --check-config  load the settings and trust anchors, then "
        "exit\n");
}

/* The listening socket: our own unix socket, systemd's, or fd 0. */
static int
listen_fd(const struct cd_settings *s)
{
    const char *lp = getenv("LISTEN_PID"), *lf = getenv("LISTEN_FDS");
    struct group *g;
    struct sockaddr_storage ss;
    socklen_t sl = sizeof(ss);
    char pid[32];
    mode_t old;
    int fd;

    if (s->socket_path != NULL) {
        unlink(s->socket_path);
        old = umask(0117);      /* 0660: only us and the socket group */
        fd = FCGX_OpenSocket(s->socket_path, 128);
        umask(old);
        if (fd < 0) {
            fprintf(stderr, "certdialog-fcgi: cannot listen on %s: %s\n",
                s->socket_path, strerror(errno));
            return -1;
        }
        if (s->socket_group != NULL) {
            if ((g = getgrnam(s->socket_group)) == NULL ||
                chown(s->socket_path, (uid_t)-1, g->gr_gid) != 0) {
                fprintf(stderr, "certdialog-fcgi: cannot give %s to group "
                    "%s\n", s->socket_path, s->socket_group);
                return -1;
            }
        }
        return fd;
    }
    snprintf(pid, sizeof(pid), "%ld", (long)getpid());
    if (lp != NULL && lf != NULL && strcmp(lp, pid) == 0 &&
        strcmp(lf, "1") == 0)
        return 3;               /* SD_LISTEN_FDS_START */
    if (getsockname(0, (struct sockaddr *)&ss, &sl) == 0)
        return 0;               /* FCGI_LISTENSOCK_FILENO (spawn-fcgi) */
    fprintf(stderr, "certdialog-fcgi: no socket: give -s PATH, \"socket\" "
        "in the settings, or start it with a socket on fd 0\n");
    return -1;
}

static void
worker(struct cd_app *app, int fd)
{
    FCGX_Request req;
    sigset_t term, old;

    signal(SIGTERM, SIG_DFL);
    signal(SIGINT, SIG_DFL);
    signal(SIGPIPE, SIG_IGN);
    /*
     * docs/DESIGN.md "Security": libfcgi reads the body (key bytes,
     * passphrase) through its own buffers and frees them unwiped; glibc
     * overwrites what is freed.
     */
    mallopt(M_PERTURB, 0x5a);
    sigemptyset(&term);
    sigaddset(&term, SIGTERM);
    sigaddset(&term, SIGINT);
    if (FCGX_Init() != 0 || FCGX_InitRequest(&req, fd, 0) != 0)
        _exit(1);
    while (FCGX_Accept_r(&req) >= 0) {
        /* a request in progress is finished before SIGTERM ends us */
        sigprocmask(SIG_BLOCK, &term, &old);
        cd_request_serve(app, &req);
        FCGX_Finish_r(&req);
        sigprocmask(SIG_SETMASK, &old, NULL);
    }
    _exit(0);
}

static pid_t
spawn(struct cd_app *app, int fd)
{
    pid_t pid = fork();

    if (pid == 0)
        worker(app, fd);
    return pid;
}

static int
run(struct cd_app *app, int fd, int n)
{
    pid_t pids[MAX_WORKERS], pid;
    time_t born[MAX_WORKERS];
    struct sigaction sa;
    int i, st;

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_stop;    /* no SA_RESTART: wait() returns EINTR */
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    for (i = 0; i < n; i++) {
        pids[i] = spawn(app, fd);
        born[i] = time(NULL);
    }
    fprintf(stderr, "certdialog-fcgi: %d workers serving\n", n);
    while (!stopping) {
        if ((pid = wait(&st)) < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        for (i = 0; i < n; i++) {
            if (pids[i] != pid)
                continue;
            fprintf(stderr, "certdialog-fcgi: worker %ld %s %d; "
                "replacing it\n", (long)pid, WIFSIGNALED(st) ?
                "killed by signal" : "exited with", WIFSIGNALED(st) ?
                WTERMSIG(st) : WEXITSTATUS(st));
            if (time(NULL) - born[i] < 1)
                sleep(1);       /* a worker that dies at once: no storm */
            if (stopping)
                break;
            pids[i] = spawn(app, fd);
            born[i] = time(NULL);
        }
    }
    for (i = 0; i < n; i++)
        if (pids[i] > 0)
            kill(pids[i], SIGTERM);
    while (wait(&st) > 0 || errno == EINTR)
        ;
    fprintf(stderr, "certdialog-fcgi: stopped\n");
    return 0;
}

int
main(int argc, char **argv)
{
    static const struct option longopts[] = {
        { "config", required_argument, NULL, 'c' },
        { "socket", required_argument, NULL, 's' },
        { "workers", required_argument, NULL, 'w' },
        { "init", no_argument, NULL, 'I' },
        { "check-config", no_argument, NULL, 'C' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 }
    };
    struct cd_settings s;
    struct cd_app app;
    static struct cd_crl_slots slots;
    struct cv_config cvc;
    struct cd_install_result res;
    const char *cfgpath = NULL, *sock = NULL, *workers = NULL;
    char err[512], *cverr = NULL;
    int c, init_only = 0, check_only = 0, fd, rc = 2, n;

    while ((c = getopt_long(argc, argv, "c:s:w:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'c': cfgpath = optarg; break;
        case 's': sock = optarg; break;
        case 'w': workers = optarg; break;
        case 'I': init_only = 1; break;
        case 'C': check_only = 1; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (optind != argc) {
        usage(stderr);
        return 2;
    }
    if (cd_settings_load(&s, cfgpath, err, sizeof(err)) != 0) {
        fprintf(stderr, "certdialog-fcgi: %s\n", err);
        return 2;
    }
    memset(&app, 0, sizeof(app));
    app.settings = &s;
    if (sock != NULL) {
        free(s.socket_path);
        if ((s.socket_path = strdup(sock)) == NULL)
            goto out;
    }
    if (workers != NULL) {
        n = 0;
        for (c = 0; workers[c] >= '0' && workers[c] <= '9' && n <= 64; c++)
            n = n * 10 + (workers[c] - '0');
        if (workers[c] != '\0' || n < 1 || n > MAX_WORKERS) {
            fprintf(stderr, "certdialog-fcgi: -w takes 1 to %d\n",
                MAX_WORKERS);
            goto out;
        }
        s.workers = n;
    }
    /* one worker always stays free of CRL servers that hang */
    cd_crl_slots_init(&slots, s.state_dir, s.crl_fetch_slots > 0 ?
        s.crl_fetch_slots : s.workers - 1);
    app.crl_slots = &slots;
    memset(&cvc, 0, sizeof(cvc));
    cvc.ca_file = s.ca_file;
    cvc.ca_dir = s.ca_dir;
    cvc.no_default_ca = s.ca_file != NULL || s.ca_dir != NULL;
    cvc.extra_ca_dir = s.extra_ca_dir;
    if ((app.cv = cv_ctx_new(&cvc, &cverr)) == NULL) {
        fprintf(stderr, "certdialog-fcgi: %s\n", cverr ? cverr : "no memory");
        goto out;
    }
    if (check_only) {
        printf("certdialog-fcgi: settings ok, %zu trust anchors\n",
            cv_ctx_anchor_count(app.cv));
        rc = 0;
        goto out;
    }
    memset(&res, 0, sizeof(res));
    if (cd_install_ensure(&s, &res) != 0) {
        fprintf(stderr, "certdialog-fcgi: cannot install the first "
            "certificate: %s\n", res.err);
        goto out;
    }
    if (init_only) {
        rc = 0;
        goto out;
    }
    /* an installer killed after its swap left nginx on the old files */
    if (cd_install_reload(&s, &res) == 0)
        fprintf(stderr, "certdialog-fcgi: release %s: %s\n", res.release,
            res.reload_detail);
    if ((fd = listen_fd(&s)) < 0)
        goto out;
    rc = run(&app, fd, s.workers);
    if (s.socket_path != NULL)
        unlink(s.socket_path);
out:
    free(cverr);
    cv_ctx_free(app.cv);
    cd_settings_free(&s);
    return rc;
}
