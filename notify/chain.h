/*
 * chain.h - the chain nginx serves, as certdialog-expiry reads it: the
 * current release's fullchain.pem (fcgi/release.c describes the store).
 */
#ifndef CD_NOTIFY_CHAIN_H
#define CD_NOTIFY_CHAIN_H

#include <stddef.h>
#include <time.h>

#include "expiry.h"
#include "release.h"

#define CD_CHAIN_MAX_CERTS      16
#define CD_CHAIN_MAX_BYTES      (1u << 20)

/*
 * Reads STATE/current's fullchain.pem (the leaf, then the chain) and
 * fills c at time now; id gets the release id (CD_RELEASE_ID_LEN + 1
 * bytes, "" when unknown).  Only reads: no lock, the release store is
 * replaced by rename(2), so a reader sees a whole release.  Returns 0, or
 * -1 with a one-line reason in err.
 */
int cd_chain_read(const char *state, time_t now, struct cd_expiry_cert *c,
    char *id, char *err, size_t errlen);

#endif
