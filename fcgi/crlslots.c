/*
 * crlslots.c - at most a few CRL downloads at once across the workers.
 */
#include "config.h"

#include "crlslots.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

/* how long an upload waits for a slot before it gives up */
#define SLOT_WAIT_MS 200

void
cd_crl_slots_init(struct cd_crl_slots *sl, const char *dir, int n)
{
    int i;

    memset(sl, 0, sizeof(*sl));
    snprintf(sl->dir, sizeof(sl->dir), "%s", dir);
    sl->n = n < 1 ? 1 : n > CD_CRL_SLOTS_MAX ? CD_CRL_SLOTS_MAX : n;
    for (i = 0; i < CD_CRL_SLOTS_MAX; i++)
        sl->fd[i] = -1;
}

/*
 * The slot files are opened by each worker itself: an flock belongs to
 * the open file, so descriptors inherited from the master would be one
 * lock shared by all.
 */
static int
slot_fd(struct cd_crl_slots *sl, int i)
{
    char path[600];
    int j;

    if (sl->pid != getpid()) {
        for (j = 0; j < CD_CRL_SLOTS_MAX; j++) {
            if (sl->fd[j] >= 0)
                close(sl->fd[j]);
            sl->fd[j] = -1;
        }
        sl->pid = getpid();
    }
    if (sl->fd[i] < 0) {
        snprintf(path, sizeof(path), "%s/.crl-slot-%d", sl->dir, i);
        sl->fd[i] = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW,
            0600);
    }
    return sl->fd[i];
}

/* Takes a free slot; its index, or -1 after SLOT_WAIT_MS. */
static int
take(struct cd_crl_slots *sl)
{
    struct timespec nap = { 0, 20 * 1000 * 1000 };
    int i, fd, waited;

    for (waited = 0; waited <= SLOT_WAIT_MS; waited += 20) {
        for (i = 0; i < sl->n; i++) {
            if ((fd = slot_fd(sl, i)) < 0)
                continue;
            if (flock(fd, LOCK_EX | LOCK_NB) == 0)
                return i;
        }
        nanosleep(&nap, NULL);
    }
    return -1;
}

enum cv_fetch_result
cd_crl_slots_fetch(const char *url, const struct cv_fetch_opts *fo,
    void *arg, X509_CRL **crlp, char *detail, size_t dlen)
{
    struct cd_crl_slots *sl = arg;
    enum cv_fetch_result rc;
    int i;

    *crlp = NULL;
    if ((i = take(sl)) < 0) {
        snprintf(detail, dlen, "%d other CRL download%s still waiting on "
            "CRL servers; try again when %s done", sl->n, sl->n == 1 ?
            " is" : "s are", sl->n == 1 ? "it is" : "they are");
        return CV_FETCH_UNREACHABLE;
    }
    /* fo as it is: its make_room lets the engine's cache make room first */
    rc = cv_crl_fetch_http(url, fo, NULL, crlp, detail, dlen);
    flock(sl->fd[i], LOCK_UN);
    return rc;
}
