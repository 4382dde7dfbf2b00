/*
 * hook_server.c - a loopback HTTPS server receiving certdialog-expiry's
 * webhook in tests/notify/test_expiry.sh.
 *
 *   hook_server --cert PEM --key PEM --port-file FILE --dir DIR
 *               [--status LIST] [--max-seconds N]
 *
 * Listens on 127.0.0.1 at a port the kernel picks, written (decimal,
 * newline) to --port-file by rename once listening.  Serves one
 * connection at a time: a TLS handshake (a client refusing the
 * certificate is logged as "handshake-failed"), one request read whole
 * (headers up to 16 KiB, a Content-Length body up to 64 KiB), its body
 * saved as DIR/body-N (N counts requests from 1), and an answer with the
 * N-th status of --status (a comma-separated list, default "200"; the
 * last one repeats).  DIR/log gets a line a connection:
 *   N METHOD TARGET STATUS CONTENT-TYPE      or      handshake-failed
 *
 * Bounded: it exits after --max-seconds (default 60) or on SIGTERM; a
 * client silent for 20 s (valgrind's TLS is slow) is dropped.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#define MAX_HEAD        (16 * 1024)
#define MAX_BODY        (64 * 1024)
#define MAX_STATUSES    32

static int statuses[MAX_STATUSES] = { 200 };
static int n_statuses = 1;

static void
die(const char *what)
{
    fprintf(stderr, "hook_server: %s\n", what);
    exit(2);
}

static void
logline(const char *dir, const char *line)
{
    char path[4096];
    FILE *f;

    snprintf(path, sizeof(path), "%s/log", dir);
    if ((f = fopen(path, "a")) == NULL)
        die("cannot open the log");
    fprintf(f, "%s\n", line);
    fclose(f);
}

static void
parse_statuses(const char *s)
{
    char *end;
    long v;

    n_statuses = 0;
    while (*s != '\0' && n_statuses < MAX_STATUSES) {
        v = strtol(s, &end, 10);
        if (end == s || v < 100 || v > 599)
            die("--status takes a list like 500,200");
        statuses[n_statuses++] = (int)v;
        s = *end == ',' ? end + 1 : end;
    }
    if (n_statuses == 0)
        die("--status is empty");
}

static void
write_port(const char *file, int port)
{
    char tmp[4096];
    FILE *f;

    snprintf(tmp, sizeof(tmp), "%s.tmp", file);
    if ((f = fopen(tmp, "w")) == NULL)
        die("cannot write the port file");
    fprintf(f, "%d\n", port);
    if (fclose(f) != 0 || rename(tmp, file) != 0)
        die("cannot write the port file");
}

/* Content-Length of the header block, -1 when absent or bad. */
static long
content_length(const char *head)
{
    const char *p = head;
    char *end;
    long v;

    while ((p = strstr(p, "\r\n")) != NULL) {
        p += 2;
        if (strncasecmp(p, "Content-Length:", 15) == 0) {
            p += 15;
            while (*p == ' ')
                p++;
            v = strtol(p, &end, 10);
            return end == p || v < 0 || v > MAX_BODY ? -1 : v;
        }
    }
    return -1;
}

static void
header_value(const char *head, const char *name, char *buf, size_t len)
{
    const char *p = head, *e;
    size_t nl = strlen(name);

    snprintf(buf, len, "-");
    while ((p = strstr(p, "\r\n")) != NULL) {
        p += 2;
        if (strncasecmp(p, name, nl) == 0 && p[nl] == ':') {
            p += nl + 1;
            while (*p == ' ')
                p++;
            e = strstr(p, "\r\n");
            snprintf(buf, len, "%.*s", (int)(e ? e - p : (long)strlen(p)), p);
            return;
        }
    }
}

static void
serve(SSL *ssl, const char *dir, int n)
{
    static char buf[MAX_HEAD + MAX_BODY + 1];
    char method[16], target[1024], ctype[256], line[2048], path[4096];
    size_t got = 0;
    char *eoh = NULL;
    long clen, have;
    int r, status;
    FILE *f;

    while (eoh == NULL && got < MAX_HEAD) {
        if ((r = SSL_read(ssl, buf + got, (int)(MAX_HEAD - got))) <= 0)
            return;
        got += (size_t)r;
        buf[got] = '\0';
        eoh = strstr(buf, "\r\n\r\n");
    }
    if (eoh == NULL)
        return;
    *eoh = '\0';
    if ((clen = content_length(buf)) < 0)
        clen = 0;
    have = (long)(got - (size_t)(eoh + 4 - buf));
    while (have < clen) {
        if ((r = SSL_read(ssl, eoh + 4 + have, (int)(clen - have))) <= 0)
            return;
        have += r;
    }
    if (sscanf(buf, "%15s %1023s", method, target) != 2)
        return;
    header_value(buf, "Content-Type", ctype, sizeof(ctype));
    snprintf(path, sizeof(path), "%s/body-%d", dir, n);
    if ((f = fopen(path, "w")) == NULL)
        die("cannot save a body");
    fwrite(eoh + 4, 1, (size_t)clen, f);
    fclose(f);
    status = statuses[n - 1 < n_statuses ? n - 1 : n_statuses - 1];
    snprintf(line, sizeof(line), "%d %s %s %d %s", n, method, target, status,
        ctype);
    logline(dir, line);
    snprintf(line, sizeof(line), "HTTP/1.1 %d %s\r\nContent-Type: text/plain"
        "\r\nContent-Length: 3\r\nConnection: close\r\n\r\nok\n", status,
        status < 300 ? "OK" : "Failed");
    SSL_write(ssl, line, (int)strlen(line));
    SSL_shutdown(ssl);
}

int
main(int argc, char **argv)
{
    const char *cert = NULL, *key = NULL, *port_file = NULL, *dir = NULL;
    struct sockaddr_in sa;
    socklen_t sl = sizeof(sa);
    struct timeval tv = { 20, 0 };
    SSL_CTX *ctx;
    SSL *ssl;
    int i, fd, c, one = 1, n = 0, max_seconds = 60;

    for (i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--cert") == 0) cert = argv[i + 1];
        else if (strcmp(argv[i], "--key") == 0) key = argv[i + 1];
        else if (strcmp(argv[i], "--port-file") == 0) port_file = argv[i + 1];
        else if (strcmp(argv[i], "--dir") == 0) dir = argv[i + 1];
        else if (strcmp(argv[i], "--status") == 0) parse_statuses(argv[i + 1]);
        else if (strcmp(argv[i], "--max-seconds") == 0)
            max_seconds = atoi(argv[i + 1]);
        else
            die("unknown option");
    }
    if (i != argc || !cert || !key || !port_file || !dir || max_seconds < 1)
        die("usage: hook_server --cert PEM --key PEM --port-file FILE "
            "--dir DIR [--status LIST] [--max-seconds N]");
    signal(SIGPIPE, SIG_IGN);
    alarm((unsigned)max_seconds);       /* SIGALRM ends us: bounded */
    if ((ctx = SSL_CTX_new(TLS_server_method())) == NULL ||
        SSL_CTX_use_certificate_chain_file(ctx, cert) != 1 ||
        SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1)
        die("cannot load the certificate and key");
    if ((fd = socket(AF_INET, SOCK_STREAM, 0)) < 0)
        die("socket");
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
        listen(fd, 16) != 0 ||
        getsockname(fd, (struct sockaddr *)&sa, &sl) != 0)
        die("cannot listen on 127.0.0.1");
    write_port(port_file, ntohs(sa.sin_port));
    for (;;) {
        if ((c = accept(fd, NULL, NULL)) < 0) {
            if (errno == EINTR)
                continue;
            die("accept");
        }
        setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        setsockopt(c, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
        if ((ssl = SSL_new(ctx)) == NULL || SSL_set_fd(ssl, c) != 1)
            die("SSL_new");
        if (SSL_accept(ssl) != 1)
            logline(dir, "handshake-failed");
        else
            serve(ssl, dir, ++n);
        ERR_clear_error();
        SSL_free(ssl);
        close(c);
    }
}
