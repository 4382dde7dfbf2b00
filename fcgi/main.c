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
#include <limits.h>
#include <getopt.h>
#include <grp.h>
#include <malloc.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include <fcgiapp.h>

#include "acme.h"
#include "acmerun.h"
#include "api.h"
#include "auth.h"
#include "cv_util.h"
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
        "       certdialog-fcgi [-c CONFIG] --set-password USER "
        "[--must-change] < PASSWORD\n"
        "       certdialog-fcgi [-c CONFIG] --create-token USER NAME "
        "[--expires-days N]\n"
        "       certdialog-fcgi [-c CONFIG] --end-sessions [USER]\n"
        "       certdialog-fcgi [-c CONFIG] --acme-renew [--force]\n"
        "  -c, --config FILE   settings (JSON); default: built-in defaults\n"
        "  -s, --socket PATH   unix socket to listen on (else the socket on "
        "fd 0,\n"
        "                      or systemd's LISTEN_FDS)\n"
        "  -w, --workers N     worker processes (default 2)\n"
        "      --init          install a self-signed certificate when none "
        "is, then exit\n"
        "      --check-config  load the settings and trust anchors, then "
        "exit\n"
        "      --set-password USER  set USER's password (one line on stdin; "
        "creates USER)\n"
        "      --must-change   with --set-password: USER must choose a new "
        "one at sign-in\n"
        "      --create-token USER NAME  print a new API token of USER\n"
        "      --expires-days N  with --create-token: it expires after N "
        "days\n"
        "      --end-sessions [USER]  sign out USER (default: everyone)\n"
        "      --acme-renew    renew the certificate over ACME when due "
        "(see /api/acme)\n"
        "      --force         with --acme-renew: renew now, due or not\n");
}

/*
 * One line of stdin into buf (no echo on a terminal): 0, or -1 with a
 * reason on stderr.  The password is never an argument: the process
 * list shows arguments to every local user.
 */
static int
read_password(char *buf, size_t len)
{
    struct termios old, quiet;
    int tty = isatty(0), rc = -1;
    size_t n;

    if (tty) {
        fprintf(stderr, "Password: ");
        if (tcgetattr(0, &old) == 0) {
            quiet = old;
            quiet.c_lflag &= ~(tcflag_t)ECHO;
            tcsetattr(0, TCSAFLUSH, &quiet);
        } else
            tty = 0;
    }
    if (fgets(buf, (int)len, stdin) == NULL) {
        fprintf(stderr, "certdialog-fcgi: no password on stdin\n");
        goto out;
    }
    n = strlen(buf);
    if (n == len - 1 && buf[n - 1] != '\n') {
        fprintf(stderr, "certdialog-fcgi: the password is longer than %d "
            "bytes\n", CD_AUTH_PASS_MAX);
        goto out;
    }
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
        buf[--n] = '\0';
    rc = 0;
out:
    if (tty) {
        tcsetattr(0, TCSAFLUSH, &old);
        fprintf(stderr, "\n");
    }
    return rc;
}

static int
cmd_set_password(const struct cd_settings *s, const char *user, int must)
{
    char pass[CD_AUTH_PASS_MAX + 2], err[512];
    const char *weak;
    int rc = 1;

    if (!cd_auth_name_ok(user)) {
        fprintf(stderr, "certdialog-fcgi: \"%s\" is not a valid user name "
            "(1-32 of A-Z a-z 0-9 . _ -, not starting with . or -)\n", user);
        return 1;
    }
    if (read_password(pass, sizeof(pass)) != 0)
        goto out;
    if ((weak = cd_auth_password_weak(user, pass, NULL)) != NULL) {
        fprintf(stderr, "certdialog-fcgi: %s\n", weak);
        goto out;
    }
    if (cd_auth_set_password(s, user, pass, must, err, sizeof(err)) != 0) {
        fprintf(stderr, "certdialog-fcgi: %s\n", err);
        goto out;
    }
    rc = 0;
out:
    OPENSSL_cleanse(pass, sizeof(pass));
    return rc;
}

static int
cmd_create_token(const struct cd_settings *s, const char *user,
    const char *name, const char *days)
{
    char secret[CD_AUTH_TOKEN_LEN + 8], err[512];
    struct cd_token t;
    uint64_t n = 0;

    if (!cd_auth_name_ok(user)) {
        fprintf(stderr, "certdialog-fcgi: \"%s\" is not a valid user "
            "name\n", user);
        return 1;
    }
    if (days != NULL && (cv_parse_uint(days, strlen(days), 3650, &n) != 0 ||
        n == 0)) {
        fprintf(stderr, "certdialog-fcgi: --expires-days takes 1 to "
            "3650\n");
        return 1;
    }
    if (cd_token_new(s, user, name, (unsigned)n, secret, sizeof(secret), &t,
        err, sizeof(err)) != 0) {
        fprintf(stderr, "certdialog-fcgi: %s\n", err);
        return 1;
    }
    printf("%s\n", secret);
    OPENSSL_cleanse(secret, sizeof(secret));
    return fflush(stdout) == 0 ? 0 : 1;
}

static int
cmd_end_sessions(const struct cd_settings *s, const char *user)
{
    char err[512];
    int n;

    if ((n = cd_session_end_user(s, user, err, sizeof(err))) < 0) {
        fprintf(stderr, "certdialog-fcgi: %s\n", err);
        return 1;
    }
    fprintf(stderr, "certdialog-fcgi: %d session%s ended\n", n,
        n == 1 ? "" : "s");
    return 0;
}

/* What POST /api/acme/renew starts: this program, these settings. */
static void
set_self(const char *cfgpath)
{
    char exe[PATH_MAX], cfg[PATH_MAX];
    ssize_t n;

    if (cfgpath == NULL || realpath(cfgpath, cfg) == NULL ||
        (n = readlink("/proc/self/exe", exe, sizeof(exe) - 1)) <= 0)
        return;
    exe[n] = '\0';
    cd_acme_set_self(exe, cfg);
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
    /*
     * docs/DESIGN.md "Trust, CRLs and time": blocks of 1 MiB or more (a
     * CRL as it downloads, grown by realloc) are mapped on their own and
     * given back when freed, not left in the heap where the next CRL
     * cannot use them, so a worker's peak stays near crl_cache_max.
     */
    mallopt(M_MMAP_THRESHOLD, 1 << 20);
    sigemptyset(&term);
    sigaddset(&term, SIGTERM);
    sigaddset(&term, SIGINT);
    if (FCGX_Init() != 0 || FCGX_InitRequest(&req, fd, 0) != 0)
        _exit(1);
    while (FCGX_Accept_r(&req) >= 0) {
        /* a request in progress is finished before SIGTERM ends us */
        sigprocmask(SIG_BLOCK, &term, &old);
        cd_request_serve(app, &req);
        /*
         * The answer is whole: close the connection at once.  Without
         * this libfcgi shuts it down and then waits for nginx to close
         * its end first, a wake-up more per request, the worker idle
         * meanwhile (docs/PERFORMANCE.md).
         */
        FCGX_Detach(&req);
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

/*
 * A worker that died by a signal or with an error may have been an
 * installer between its swap and its reload: nginx would go on serving
 * the old files while "current" names the new ones.  A child reloads on
 * the current release under the install lock and checks with a handshake
 * that it is served (cd_install_reload), while the master goes on
 * replacing workers.
 */
static pid_t
spawn_reloader(const struct cd_settings *s)
{
    struct cd_install_result res;
    pid_t pid = fork();

    if (pid != 0)
        return pid;
    signal(SIGTERM, SIG_DFL);
    signal(SIGINT, SIG_DFL);
    memset(&res, 0, sizeof(res));
    if (cd_install_reload(s, &res) != 0) {
        fprintf(stderr, "certdialog-fcgi: after a worker died: %s\n",
            res.err);
        _exit(1);
    }
    fprintf(stderr, "certdialog-fcgi: after a worker died, release %s: "
        "%s; %s\n", res.release, res.reload_detail, res.reloaded ?
        res.served_detail : "what is served was not checked");
    _exit(res.reloaded && res.served ? 0 : 1);
}

static int
died_abnormally(int st)
{
    return WIFSIGNALED(st) || (WIFEXITED(st) && WEXITSTATUS(st) != 0);
}

static int
run(struct cd_app *app, int fd, int n)
{
    pid_t pids[MAX_WORKERS], pid, reloader = 0;
    time_t born[MAX_WORKERS];
    struct sigaction sa;
    int i, st, again = 0;

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
        if (pid == reloader) {
            /* a death during its reload: it may have read "current" first */
            reloader = again && !stopping ? spawn_reloader(app->settings) :
                0;
            again = 0;
            continue;
        }
        for (i = 0; i < n; i++) {
            if (pids[i] != pid)
                continue;
            fprintf(stderr, "certdialog-fcgi: worker %ld %s %d; "
                "replacing it\n", (long)pid, WIFSIGNALED(st) ?
                "killed by signal" : "exited with", WIFSIGNALED(st) ?
                WTERMSIG(st) : WEXITSTATUS(st));
            if (died_abnormally(st) && !stopping) {
                if (reloader > 0)
                    again = 1;
                else
                    reloader = spawn_reloader(app->settings);
            }
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
    if (reloader > 0)
        kill(reloader, SIGTERM);
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
        { "set-password", required_argument, NULL, 'P' },
        { "must-change", no_argument, NULL, 'M' },
        { "create-token", required_argument, NULL, 'T' },
        { "expires-days", required_argument, NULL, 'E' },
        { "end-sessions", no_argument, NULL, 'X' },
        { "acme-renew", no_argument, NULL, 'A' },
        { "force", no_argument, NULL, 'F' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 }
    };
    struct cd_settings s;
    struct cd_app app;
    static struct cd_crl_slots slots;
    struct cv_config cvc;
    struct cd_install_result res;
    const char *cfgpath = NULL, *sock = NULL, *workers = NULL;
    const char *set_pw = NULL, *tok_user = NULL, *days = NULL;
    int must = 0, end_sessions = 0, acme = 0, force = 0;
    char err[512], *cverr = NULL;
    int c, init_only = 0, check_only = 0, fd, rc = 2, n;

    while ((c = getopt_long(argc, argv, "c:s:w:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'c': cfgpath = optarg; break;
        case 's': sock = optarg; break;
        case 'w': workers = optarg; break;
        case 'I': init_only = 1; break;
        case 'C': check_only = 1; break;
        case 'P': set_pw = optarg; break;
        case 'M': must = 1; break;
        case 'T': tok_user = optarg; break;
        case 'E': days = optarg; break;
        case 'X': end_sessions = 1; break;
        case 'A': acme = 1; break;
        case 'F': force = 1; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    /* --create-token USER NAME and --end-sessions [USER] take one more */
    if ((set_pw != NULL) + (tok_user != NULL) + end_sessions + acme > 1 ||
        (force && !acme) || (acme && optind < argc) ||
        (must && set_pw == NULL) || (days != NULL && tok_user == NULL) ||
        optind + (tok_user != NULL) < argc - end_sessions ||
        optind + (tok_user != NULL) > argc) {
        usage(stderr);
        return 2;
    }
    if (cd_settings_load(&s, cfgpath, err, sizeof(err)) != 0) {
        fprintf(stderr, "certdialog-fcgi: %s\n", err);
        return 2;
    }
    if (set_pw != NULL || tok_user != NULL || end_sessions) {
        if (set_pw != NULL)
            rc = cmd_set_password(&s, set_pw, must);
        else if (tok_user != NULL)
            rc = cmd_create_token(&s, tok_user, argv[optind], days);
        else
            rc = cmd_end_sessions(&s, optind < argc ? argv[optind] : NULL);
        cd_settings_free(&s);
        return rc;
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
    cvc.crl_cache_max = s.crl_cache_max;
    if ((app.cv = cv_ctx_new(&cvc, &cverr)) == NULL) {
        fprintf(stderr, "certdialog-fcgi: %s\n", cverr ? cverr : "no memory");
        goto out;
    }
    if (acme) {
        /* the anchors as the service has them, read anew for this run */
        rc = cd_acme_run(&s, app.cv, force);
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
    set_self(cfgpath);
    rc = run(&app, fd, s.workers);
    if (s.socket_path != NULL)
        unlink(s.socket_path);
out:
    free(cverr);
    cv_ctx_free(app.cv);
    cd_settings_free(&s);
    return rc;
}
