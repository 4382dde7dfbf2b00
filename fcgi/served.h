/*
 * served.h - what the web server actually serves: a TLS handshake to the
 * served_address setting, with the appliance's host name as SNI, and the
 * certificate it presents compared with a release's.
 */
#ifndef CD_SERVED_H
#define CD_SERVED_H

#include <stddef.h>

#include "settings.h"

/*
 * 1 when a handshake to s->served_address (SNI s->hostname) presents the
 * certificate of the release in dir (its cert.pem); 0 when it presents
 * another or the handshake fails, with what happened in detail.  Tries
 * again until s->reload_timeout has passed, for a server still starting
 * its new workers.  1 without trying when s->served_address is NULL.
 */
int cd_served_is(const struct cd_settings *s, const char *dir, char *detail,
    size_t dlen);

/*
 * What nginx serves now, for GET /api/certificate: one handshake to
 * s->served_address (SNI s->hostname) of at most a few seconds, its
 * certificate's SHA-256 fingerprint (AA:BB:...) into fp ("" when none),
 * compared with want, the active certificate's.  Returns 1 when they are
 * the same, 0 when not or the handshake failed, -1 when there is no
 * served_address; detail says which.  An answer is reused for a few
 * seconds while want stays the same.
 */
int cd_served_peek(const struct cd_settings *s, const char *want, char *fp,
    size_t fplen, char *detail, size_t dlen);

#endif /* CD_SERVED_H */
