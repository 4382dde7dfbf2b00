/*
 * crlslots.h - a limit on CRL downloads running at once across the
 * workers.  The engine fetches a CRL synchronously, so a CRL server that
 * never answers holds a worker for the whole CRL timeout; with every
 * worker held, the service would stop answering.  Each download takes one
 * of a few slots (flock(2) on STATE/.crl-slot-N) and an upload that finds
 * none free answers crl_unreachable at once instead of waiting.
 */
#ifndef CD_CRLSLOTS_H
#define CD_CRLSLOTS_H

#include <stddef.h>
#include <sys/types.h>

#include "cv.h"

#define CD_CRL_SLOTS_MAX 64

struct cd_crl_slots {
    char dir[512];              /* where the slot files are */
    int n;                      /* slots: downloads that may run at once */
    int fd[CD_CRL_SLOTS_MAX];   /* opened by this process (pid) */
    pid_t pid;
};

/* n slots in dir (n is clamped to 1..CD_CRL_SLOTS_MAX). */
void cd_crl_slots_init(struct cd_crl_slots *sl, const char *dir, int n);
/* A cv_crl_fetch_fn: arg is the struct cd_crl_slots. */
enum cv_fetch_result cd_crl_slots_fetch(const char *url,
    const struct cv_fetch_opts *fo, void *arg, X509_CRL **crlp,
    char *detail, size_t dlen);

#endif
