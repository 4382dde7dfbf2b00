/*
 * slowloris.c - a bounded connection flood for test_hostile.sh: opens N
 * TLS connections to 127.0.0.1:PORT, sends half a request header on each,
 * then holds them all, sending nothing more, for SECONDS (at most 60) and
 * exits.  The handshakes run side by side for at most 20 s; then it prints
 * "held K" on stdout (K < N: the server did not take them all in time),
 * and "done" at the end.
 *
 *   slowloris PORT N SECONDS
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "cv_util.h"

#define MAX_CONNS       2000
#define MAX_SECONDS     60
/* for all the handshakes together: a loaded machine or a sanitizer build
 * makes a few hundred in seconds, not in a fixed time */
#define HANDSHAKE_S     20

static const char half[] = "GET /api/certificate HTTP/1.1\r\n"
    "Host: 127.0.0.1\r\n";

/* A TLS connection being made to 127.0.0.1:port (non-blocking); NULL. */
static SSL *
start_one(SSL_CTX *ctx, int port)
{
    struct sockaddr_in sa;
    SSL *ssl = NULL;
    int fd;

    if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
        0)) == -1)
        return NULL;
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_port = htons((unsigned short)port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if ((connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == -1 &&
        errno != EINPROGRESS) || (ssl = SSL_new(ctx)) == NULL ||
        SSL_set_fd(ssl, fd) != 1 ||
        SSL_set_tlsext_host_name(ssl, "sensor.contoso.com") != 1) {
        SSL_free(ssl);
        close(fd);
        ERR_clear_error();
        return NULL;
    }
    SSL_set_connect_state(ssl);
    return ssl;
}

/* 1: handshake done and half a header sent; 0: not yet; -1: failed. */
static int
step(SSL *ssl)
{
    int r = SSL_do_handshake(ssl), e;

    if (r == 1)
        return SSL_write(ssl, half, (int)sizeof(half) - 1) > 0 ? 1 : -1;
    e = SSL_get_error(ssl, r);
    ERR_clear_error();
    return e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE ? 0 : -1;
}

int
main(int argc, char **argv)
{
    static SSL *conns[MAX_CONNS];
    static int state[MAX_CONNS];        /* 0 pending, 1 held, -1 failed */
    uint64_t port, n, secs;
    SSL_CTX *ctx;
    size_t i, held = 0, pending;
    time_t until;

    if (argc != 4 || cv_parse_uint(argv[1], strlen(argv[1]), 65535,
        &port) != 0 || cv_parse_uint(argv[2], strlen(argv[2]), MAX_CONNS,
        &n) != 0 || cv_parse_uint(argv[3], strlen(argv[3]), MAX_SECONDS,
        &secs) != 0) {
        fprintf(stderr, "usage: slowloris PORT N SECONDS (N <= %d, "
            "SECONDS <= %d)\n", MAX_CONNS, MAX_SECONDS);
        return 2;
    }
    /* the server closing a connection must not end the flood */
    signal(SIGPIPE, SIG_IGN);
    if ((ctx = SSL_CTX_new(TLS_client_method())) == NULL)
        return 1;
    SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
    for (i = 0; i < n; i++)
        state[i] = (conns[i] = start_one(ctx, (int)port)) != NULL ? 0 : -1;
    /* every handshake at once; what is not done in HANDSHAKE_S failed */
    until = time(NULL) + HANDSHAKE_S;
    do {
        for (pending = 0, i = 0; i < n; i++)
            if (state[i] == 0 && (state[i] = step(conns[i])) == 0)
                pending++;
        if (pending > 0)
            usleep(10000);
    } while (pending > 0 && time(NULL) < until);
    for (i = 0; i < n; i++)
        held += state[i] == 1;
    printf("held %zu\n", held);
    fflush(stdout);
    sleep((unsigned)secs);
    for (i = 0; i < n; i++) {
        if (conns[i] == NULL)
            continue;
        close(SSL_get_fd(conns[i]));
        SSL_free(conns[i]);
    }
    SSL_CTX_free(ctx);
    printf("done\n");
    return 0;
}
