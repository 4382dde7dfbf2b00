/*
 * fuzz_common.h - helpers shared by the libFuzzer harnesses of
 * tests/fuzz/ (see scripts/fuzz).
 *
 * The load and engine harnesses split one input into pieces separated by
 * CD_FUZZ_SEP: key, certificate, chain, passphrase (then, for fuzz_engine,
 * an options byte).  Each piece is copied into a heap buffer of exactly its
 * size, so that ASan sees a read past its end.
 */
#ifndef CD_FUZZ_COMMON_H
#define CD_FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* memmem: include config.h (_GNU_SOURCE) before this header */

#define CD_FUZZ_SEP     "\n#CDFUZZ#\n"
#define CD_FUZZ_SEP_LEN (sizeof(CD_FUZZ_SEP) - 1)
#define CD_FUZZ_PIECES  5

/* An invariant broke: a crash libFuzzer keeps. */
#define FUZZ_CHECK(c) do { if (!(c)) __builtin_trap(); } while (0)

struct fuzz_piece {
    uint8_t *p;                 /* exact-size copy, never NULL */
    size_t len;
    int present;                /* 0: the input has fewer pieces */
};

/* Splits data into up to CD_FUZZ_PIECES pieces; returns how many. */
static inline size_t
fuzz_split(const uint8_t *data, size_t size, struct fuzz_piece *pc)
{
    size_t n = 0, off = 0;

    memset(pc, 0, sizeof(*pc) * CD_FUZZ_PIECES);
    for (n = 0; n < CD_FUZZ_PIECES; n++) {
        pc[n].p = malloc(1);
        FUZZ_CHECK(pc[n].p != NULL);
    }
    n = 0;
    while (n < CD_FUZZ_PIECES) {
        const uint8_t *e = NULL;
        size_t len;

        if (n < CD_FUZZ_PIECES - 1)
            e = memmem(data + off, size - off, CD_FUZZ_SEP,
                CD_FUZZ_SEP_LEN);
        len = e != NULL ? (size_t)(e - (data + off)) : size - off;
        if (len > 0) {
            free(pc[n].p);
            pc[n].p = malloc(len);
            FUZZ_CHECK(pc[n].p != NULL);
            memcpy(pc[n].p, data + off, len);
        }
        pc[n].len = len;
        pc[n].present = 1;
        n++;
        if (e == NULL)
            break;
        off += len + CD_FUZZ_SEP_LEN;
    }
    return n;
}

static inline void
fuzz_free(struct fuzz_piece *pc)
{
    size_t i;

    for (i = 0; i < CD_FUZZ_PIECES; i++)
        free(pc[i].p);
}

/* A NUL-terminated copy of a piece (the passphrase); caller frees. */
static inline char *
fuzz_cstr(const struct fuzz_piece *pc)
{
    char *s = malloc(pc->len + 1);

    FUZZ_CHECK(s != NULL);
    if (pc->len > 0)
        memcpy(s, pc->p, pc->len);
    s[pc->len] = '\0';
    return s;
}

#endif
