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

#endif /* CD_SERVED_H */
