/*
 * crl_server.c - a loopback HTTP server for the CRL tests: it serves a CRL,
 * or misbehaves in one chosen way, on 127.0.0.1 at a port the kernel picks.
 *
 *   crl_server --mode MODE --port-file FILE [--file CRL] [--max-seconds N]
 *              [--count-file FILE] [--max-requests N] [--location URL]
 *
 * MODE:
 *   file         200 application/pkix-crl, Content-Length, body = --file
 *                (read again for each request, so a test may replace it)
 *   hang         reads the request, never answers
 *   trickle      the answer of "file" (or a short body) one byte a second
 *   big          200 with Content-Length 100 MB, zeros until the client goes
 *   big-nolen    the same without Content-Length (connection-close framing)
 *   big-der      like big-nolen, but the body starts with a DER SEQUENCE
 *                header announcing 100 MB (so a client reading ASN.1 sees
 *                the length at once)
 *   html         200 text/html with an HTML page
 *   404          404 Not Found
 *   redirect     302 to the same URL, forever (or to --location URL)
 *   reset        accepts and closes at once with SO_LINGER 0 (a TCP RST)
 *   garbage-der  200 application/pkix-crl with random bytes
 *
 * The port is written (decimal, newline) to --port-file once listening, by
 * rename, so a reader never sees half of it.  --count-file holds the number
 * of connections accepted so far (each client request is one connection:
 * every answer closes it), rewritten after each accept.  One line per
 * connection is logged on stderr.
 *
 * Bounded: the server and every child stop at --max-seconds (default 60)
 * after the start, or on SIGTERM / SIGINT; it accepts at most
 * --max-requests connections (default 1000), at most MAX_CHILDREN at once.
 * Each connection is served by a forked child that also exits at that
 * deadline.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <time.h>
#include <unistd.h>

#define PROG            "crl_server"
#define MAX_CHILDREN    64
#define MAX_REQ_HEAD    8192
#define MAX_FILE        (16 * 1024 * 1024)
#define BIG_LEN         (100ULL * 1024 * 1024)
#define GARBAGE_LEN     4096
#define CHUNK           65536

enum mode {
    M_FILE, M_HANG, M_TRICKLE, M_BIG, M_BIG_NOLEN, M_BIG_DER, M_HTML,
    M_404, M_REDIRECT, M_RESET, M_GARBAGE
};

static const struct {
    const char *name;
    enum mode mode;
} modes[] = {
    { "file", M_FILE }, { "hang", M_HANG }, { "trickle", M_TRICKLE },
    { "big", M_BIG }, { "big-nolen", M_BIG_NOLEN }, { "big-der", M_BIG_DER },
    { "html", M_HTML }, { "404", M_404 }, { "redirect", M_REDIRECT },
    { "reset", M_RESET }, { "garbage-der", M_GARBAGE },
};

static volatile sig_atomic_t stop;
static struct timespec deadline;        /* CLOCK_MONOTONIC */
static enum mode mode;
static const char *file_path;
static const char *location;            /* redirect: where to; NULL: self */
static int port;

static void
on_signal(int sig)
{
    (void)sig;
    stop = 1;
}

static void
logmsg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* One line on stderr, written at once (children write concurrently). */
static void
logmsg(const char *fmt, ...)
{
    char line[512];
    va_list ap;
    int n, m;

    n = snprintf(line, sizeof(line), PROG "[%ld]: ", (long)getpid());
    va_start(ap, fmt);
    m = vsnprintf(line + n, sizeof(line) - n - 1, fmt, ap);
    va_end(ap);
    if (m < 0)
        m = 0;
    n += m;
    if (n > (int)sizeof(line) - 2)
        n = (int)sizeof(line) - 2;
    line[n++] = '\n';
    if (write(STDERR_FILENO, line, n) < 0) {
        /* nothing to do */
    }
}

/* Milliseconds until the deadline, 0 when past it. */
static int
ms_left(void)
{
    struct timespec now;
    long long ms;

    clock_gettime(CLOCK_MONOTONIC, &now);
    ms = (long long)(deadline.tv_sec - now.tv_sec) * 1000 +
        (deadline.tv_nsec - now.tv_nsec) / 1000000;
    if (ms <= 0)
        return 0;
    return ms > 1000000 ? 1000000 : (int)ms;
}

/* Decimal digits only, at most max.  Returns 0 or -1. */
static int
parse_num(const char *s, long max, long *out)
{
    long v = 0;

    if (s == NULL || *s == '\0')
        return -1;
    for (; *s != '\0'; s++) {
        if (*s < '0' || *s > '9' || v > (max - (*s - '0')) / 10)
            return -1;
        v = v * 10 + (*s - '0');
    }
    *out = v;
    return 0;
}

/* Writes text to path by a rename, so readers see all of it or nothing. */
static int
write_file_atomic(const char *path, const char *text)
{
    char tmp[4096];
    size_t len = strlen(text);
    int fd;

    if (snprintf(tmp, sizeof(tmp), "%s.tmp%ld", path, (long)getpid()) >=
        (int)sizeof(tmp))
        return -1;
    if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644)) == -1)
        return -1;
    if (write(fd, text, len) != (ssize_t)len) {
        close(fd);
        unlink(tmp);
        return -1;
    }
    close(fd);
    if (rename(tmp, path) == -1) {
        unlink(tmp);
        return -1;
    }
    return 0;
}

/* Reads a whole file (at most MAX_FILE bytes) into a new buffer. */
static char *
read_file(const char *path, size_t *lenp)
{
    char *buf = NULL, *nb;
    size_t len = 0, cap = 0;
    ssize_t n;
    int fd;

    *lenp = 0;
    if ((fd = open(path, O_RDONLY)) == -1)
        return NULL;
    for (;;) {
        if (len == cap) {
            if (cap >= MAX_FILE)
                break;
            cap = cap ? cap * 2 : 16384;
            if ((nb = realloc(buf, cap)) == NULL) {
                free(buf);
                close(fd);
                return NULL;
            }
            buf = nb;
        }
        n = read(fd, buf + len, cap - len);
        if (n == -1 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        len += (size_t)n;
    }
    close(fd);
    if (buf == NULL)
        buf = malloc(1);
    *lenp = len;
    return buf;
}

/*
 * Writes all of buf, waiting for the socket at most until the deadline.
 * Returns 0, or -1 when the client went or time ran out.
 */
static int
send_all(int fd, const void *buf, size_t len)
{
    const char *p = buf;
    struct pollfd pfd;
    ssize_t n;
    int left;

    while (len > 0) {
        if (stop || (left = ms_left()) == 0)
            return -1;
        pfd.fd = fd;
        pfd.events = POLLOUT;
        pfd.revents = 0;
        if (poll(&pfd, 1, left > 500 ? 500 : left) <= 0)
            continue;
        n = send(fd, p, len, MSG_NOSIGNAL);
        if (n == -1 && (errno == EINTR || errno == EAGAIN))
            continue;
        if (n <= 0)
            return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

/*
 * Reads the request head (up to the blank line, at most MAX_REQ_HEAD bytes)
 * and puts its method and path into the buffers.  Returns 0, or -1 when the
 * client went, the head is too long, or time ran out.
 */
static int
read_request(int fd, char *method, size_t mlen, char *path, size_t plen)
{
    char head[MAX_REQ_HEAD + 1], *sp, *sp2;
    size_t len = 0;
    struct pollfd pfd;
    ssize_t n;
    int left;

    snprintf(method, mlen, "-");
    snprintf(path, plen, "-");
    for (;;) {
        if (len == MAX_REQ_HEAD || stop || (left = ms_left()) == 0)
            return -1;
        pfd.fd = fd;
        pfd.events = POLLIN;
        pfd.revents = 0;
        if (poll(&pfd, 1, left > 500 ? 500 : left) <= 0)
            continue;
        n = recv(fd, head + len, MAX_REQ_HEAD - len, 0);
        if (n == -1 && (errno == EINTR || errno == EAGAIN))
            continue;
        if (n <= 0)
            return -1;
        len += (size_t)n;
        head[len] = '\0';
        if (strstr(head, "\r\n\r\n") != NULL || strstr(head, "\n\n") != NULL)
            break;
    }
    head[strcspn(head, "\r\n")] = '\0';
    if ((sp = strchr(head, ' ')) != NULL) {
        *sp++ = '\0';
        if ((sp2 = strchr(sp, ' ')) != NULL)
            *sp2 = '\0';
        snprintf(path, plen, "%.*s", 200, sp);
    }
    snprintf(method, mlen, "%.*s", 16, head);
    return 0;
}

/* Waits until the client closes or the deadline; reads and drops input. */
static void
wait_for_close(int fd)
{
    char buf[4096];
    struct pollfd pfd;
    ssize_t n;
    int left;

    while (!stop && (left = ms_left()) > 0) {
        pfd.fd = fd;
        pfd.events = POLLIN;
        pfd.revents = 0;
        if (poll(&pfd, 1, left > 500 ? 500 : left) <= 0)
            continue;
        n = recv(fd, buf, sizeof(buf), 0);
        if (n == 0 || (n == -1 && errno != EINTR && errno != EAGAIN))
            return;
    }
}

/* Streams zeros (after an optional prefix) until the client goes. */
static unsigned long long
stream_zeros(int fd, const unsigned char *prefix, size_t plen)
{
    static unsigned char zeros[CHUNK];
    unsigned long long sent = 0;
    size_t n;

    if (plen > 0) {
        if (send_all(fd, prefix, plen) != 0)
            return 0;
        sent = plen;
    }
    while (sent < BIG_LEN) {
        n = BIG_LEN - sent < CHUNK ? (size_t)(BIG_LEN - sent) : CHUNK;
        if (send_all(fd, zeros, n) != 0)
            break;
        sent += n;
    }
    return sent;
}

static void
fill_random(unsigned char *p, size_t len)
{
    size_t got = 0;
    ssize_t n;
    int fd = open("/dev/urandom", O_RDONLY);

    while (fd != -1 && got < len) {
        n = read(fd, p + got, len - got);
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    if (fd != -1)
        close(fd);
    srand((unsigned)getpid());
    for (; got < len; got++)
        p[got] = (unsigned char)rand();
    /* never a DER SEQUENCE: random bytes must not parse as a CRL */
    if (p[0] == 0x30)
        p[0] = 0x04;
}

/* Serves one connection in a child process; returns the exit status. */
static int
serve(int fd)
{
    char method[32], path[256], head[1024], *body = NULL;
    const char *status = "-";
    size_t blen = 0, i;
    unsigned long long sent = 0;
    int hlen;
    static const char html[] =
        "<!DOCTYPE html>\n<html><head><title>Sign in</title></head>\n"
        "<body><p>Please sign in to the proxy.</p></body></html>\n";
    static const unsigned char der_big[] = {
        0x30, 0x84, 0x06, 0x40, 0x00, 0x00      /* SEQUENCE, 100 MiB */
    };
    unsigned char garbage[GARBAGE_LEN];

    if (read_request(fd, method, sizeof(method), path, sizeof(path)) != 0) {
        logmsg("%s: no complete request", modes[mode].name);
        return 0;
    }
    switch (mode) {
    case M_FILE:
    case M_TRICKLE:
        if (file_path != NULL)
            body = read_file(file_path, &blen);
        if (body == NULL && mode == M_FILE) {
            hlen = snprintf(head, sizeof(head), "HTTP/1.0 500 No File\r\n"
                "Content-Length: 0\r\nConnection: close\r\n\r\n");
            send_all(fd, head, hlen);
            status = "500 (cannot read the file)";
            break;
        }
        if (body == NULL) {
            body = strdup("0123456789abcdefghijklmnopqrstuvwxyz");
            blen = body != NULL ? strlen(body) : 0;
        }
        hlen = snprintf(head, sizeof(head), "HTTP/1.0 200 OK\r\n"
            "Content-Type: application/pkix-crl\r\n"
            "Content-Length: %zu\r\nConnection: close\r\n\r\n", blen);
        if (mode == M_FILE) {
            status = send_all(fd, head, hlen) == 0 &&
                send_all(fd, body, blen) == 0 ? "200" : "200 (cut)";
            break;
        }
        status = "200 trickled, cut";
        for (i = 0; i < (size_t)hlen + blen; i++) {
            char c = i < (size_t)hlen ? head[i] : body[i - hlen];
            struct timespec ts = { 1, 0 };

            if (send_all(fd, &c, 1) != 0)
                break;
            while (!stop && ms_left() > 0 &&
                nanosleep(&ts, &ts) == -1 && errno == EINTR)
                ;
            if (stop || ms_left() == 0)
                break;
        }
        if (i == (size_t)hlen + blen)
            status = "200 trickled";
        break;
    case M_HANG:
        status = "hung";
        wait_for_close(fd);
        break;
    case M_BIG:
    case M_BIG_NOLEN:
    case M_BIG_DER:
        if (mode == M_BIG)
            hlen = snprintf(head, sizeof(head), "HTTP/1.0 200 OK\r\n"
                "Content-Type: application/pkix-crl\r\n"
                "Content-Length: %llu\r\nConnection: close\r\n\r\n",
                BIG_LEN);
        else
            hlen = snprintf(head, sizeof(head), "HTTP/1.0 200 OK\r\n"
                "Content-Type: application/pkix-crl\r\n"
                "Connection: close\r\n\r\n");
        if (send_all(fd, head, hlen) == 0)
            sent = stream_zeros(fd, der_big,
                mode == M_BIG_DER ? sizeof(der_big) : 0);
        logmsg("%s %s %s: 200, %llu body bytes sent", modes[mode].name,
            method, path, sent);
        return 0;
    case M_HTML:
        hlen = snprintf(head, sizeof(head), "HTTP/1.0 200 OK\r\n"
            "Content-Type: text/html; charset=utf-8\r\n"
            "Content-Length: %zu\r\nConnection: close\r\n\r\n",
            sizeof(html) - 1);
        if (send_all(fd, head, hlen) == 0)
            send_all(fd, html, sizeof(html) - 1);
        status = "200 text/html";
        break;
    case M_404:
        hlen = snprintf(head, sizeof(head), "HTTP/1.0 404 Not Found\r\n"
            "Content-Type: text/plain\r\nContent-Length: 10\r\n"
            "Connection: close\r\n\r\nNot Found\n");
        send_all(fd, head, hlen);
        status = "404";
        break;
    case M_REDIRECT:
        if (location != NULL)
            hlen = snprintf(head, sizeof(head), "HTTP/1.0 302 Found\r\n"
                "Location: %.200s\r\nContent-Length: 0\r\n"
                "Connection: close\r\n\r\n", location);
        else
            hlen = snprintf(head, sizeof(head), "HTTP/1.0 302 Found\r\n"
                "Location: http://127.0.0.1:%d%s\r\nContent-Length: 0\r\n"
                "Connection: close\r\n\r\n", port,
                path[0] == '/' ? path : "/");
        send_all(fd, head, hlen);
        status = "302";
        break;
    case M_GARBAGE:
        fill_random(garbage, sizeof(garbage));
        hlen = snprintf(head, sizeof(head), "HTTP/1.0 200 OK\r\n"
            "Content-Type: application/pkix-crl\r\n"
            "Content-Length: %zu\r\nConnection: close\r\n\r\n",
            sizeof(garbage));
        if (send_all(fd, head, hlen) == 0)
            send_all(fd, garbage, sizeof(garbage));
        status = "200 garbage";
        break;
    case M_RESET:               /* handled by the parent */
        break;
    }
    logmsg("%s %s %s: %s", modes[mode].name, method, path, status);
    free(body);
    /* let the client read everything before the close */
    shutdown(fd, SHUT_WR);
    if (mode != M_HANG)
        wait_for_close(fd);
    return 0;
}

static pid_t children[MAX_CHILDREN];
static int n_children;

static void
reap(int block_ms)
{
    struct timespec ts = { 0, 20 * 1000 * 1000 };
    int i, waited = 0;

    for (;;) {
        for (i = 0; i < n_children;) {
            if (waitpid(children[i], NULL, WNOHANG) == children[i])
                children[i] = children[--n_children];
            else
                i++;
        }
        if (n_children == 0 || waited >= block_ms)
            return;
        nanosleep(&ts, NULL);
        waited += 20;
    }
}

static void
usage(void)
{
    fprintf(stderr, "usage: " PROG " --mode MODE --port-file FILE "
        "[--file CRL] [--max-seconds N]\n"
        "                  [--count-file FILE] [--max-requests N] "
        "[--location URL]\n"
        "modes: file hang trickle big big-nolen big-der html 404 redirect "
        "reset garbage-der\n");
}

int
main(int argc, char **argv)
{
    const char *port_file = NULL, *count_file = NULL, *mode_name = NULL;
    long max_seconds = 60, max_requests = 1000, count = 0;
    struct sockaddr_in sa;
    socklen_t slen = sizeof(sa);
    struct sigaction act;
    struct pollfd pfd;
    char text[64];
    size_t k;
    int i, lfd, fd, one = 1, found = 0;
    pid_t pid;

    for (i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

        if (v == NULL) {
            usage();
            return 2;
        }
        if (strcmp(a, "--mode") == 0)
            mode_name = v;
        else if (strcmp(a, "--port-file") == 0)
            port_file = v;
        else if (strcmp(a, "--file") == 0)
            file_path = v;
        else if (strcmp(a, "--location") == 0)
            location = v;
        else if (strcmp(a, "--count-file") == 0)
            count_file = v;
        else if (strcmp(a, "--max-seconds") == 0) {
            if (parse_num(v, 3600, &max_seconds) != 0 || max_seconds == 0) {
                fprintf(stderr, PROG ": --max-seconds takes 1 to 3600\n");
                return 2;
            }
        } else if (strcmp(a, "--max-requests") == 0) {
            if (parse_num(v, 100000, &max_requests) != 0 ||
                max_requests == 0) {
                fprintf(stderr, PROG ": --max-requests takes 1 to 100000\n");
                return 2;
            }
        } else {
            usage();
            return 2;
        }
        i++;
    }
    for (k = 0; mode_name != NULL && k < sizeof(modes) / sizeof(modes[0]);
        k++) {
        if (strcmp(mode_name, modes[k].name) == 0) {
            mode = modes[k].mode;
            found = 1;
        }
    }
    if (!found || port_file == NULL) {
        usage();
        return 2;
    }
    if (mode == M_FILE && file_path == NULL) {
        fprintf(stderr, PROG ": --mode file needs --file\n");
        return 2;
    }

    clock_gettime(CLOCK_MONOTONIC, &deadline);
    deadline.tv_sec += max_seconds;
    memset(&act, 0, sizeof(act));
    act.sa_handler = on_signal;
    sigemptyset(&act.sa_mask);
    sigaction(SIGTERM, &act, NULL);
    sigaction(SIGINT, &act, NULL);
    signal(SIGPIPE, SIG_IGN);

    if ((lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1) {
        perror(PROG ": socket");
        return 1;
    }
    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    sa.sin_port = 0;
    if (bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) == -1 ||
        listen(lfd, 64) == -1 ||
        getsockname(lfd, (struct sockaddr *)&sa, &slen) == -1) {
        perror(PROG ": bind/listen");
        close(lfd);
        return 1;
    }
    port = ntohs(sa.sin_port);
    if (count_file != NULL && write_file_atomic(count_file, "0\n") != 0) {
        perror(PROG ": count file");
        close(lfd);
        return 1;
    }
    snprintf(text, sizeof(text), "%d\n", port);
    if (write_file_atomic(port_file, text) != 0) {
        perror(PROG ": port file");
        close(lfd);
        return 1;
    }
    logmsg("mode %s on 127.0.0.1:%d for at most %ld s", modes[mode].name,
        port, max_seconds);

    while (!stop && count < max_requests && ms_left() > 0) {
        reap(0);
        pfd.fd = lfd;
        pfd.events = POLLIN;
        pfd.revents = 0;
        if (poll(&pfd, 1, ms_left() > 200 ? 200 : ms_left()) <= 0)
            continue;
        if ((fd = accept(lfd, NULL, NULL)) == -1)
            continue;
        fcntl(fd, F_SETFD, FD_CLOEXEC);
        count++;
        if (count_file != NULL) {
            snprintf(text, sizeof(text), "%ld\n", count);
            write_file_atomic(count_file, text);
        }
        if (mode == M_RESET) {
            struct linger lg = { 1, 0 };

            setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
            close(fd);
            logmsg("reset: connection %ld reset", count);
            continue;
        }
        if (n_children == MAX_CHILDREN) {
            logmsg("too many connections: closing one");
            close(fd);
            continue;
        }
        if ((pid = fork()) == -1) {
            logmsg("fork: %s", strerror(errno));
            close(fd);
            continue;
        }
        if (pid == 0) {
            /* the SIGTERM handler stays: every loop of serve() sees stop */
            close(lfd);
            _exit(serve(fd));
        }
        children[n_children++] = pid;
        close(fd);
    }
    close(lfd);
    for (i = 0; i < n_children; i++)
        kill(children[i], SIGTERM);
    reap(2000);
    for (i = 0; i < n_children; i++)
        kill(children[i], SIGKILL);
    reap(1000);
    logmsg("done after %ld connection(s)%s", count,
        stop ? " (signal)" : ms_left() == 0 ? " (time limit)" :
        " (request limit)");
    return 0;
}
