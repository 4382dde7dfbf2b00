/*
 * pending.h - the signing request made on the appliance (docs/API.md
 * "Signing request"): one at a time, under STATE/pending/
 *
 *	key.pem       the new private key, 0600; no route returns it
 *	request.pem   the PKCS#10 request for the CA
 *	meta.json     {"created": EPOCH, "key_type": "...", "kept_key": bool}
 *
 * A new request is written whole into STATE/.pending-XXXXXXXX/ and then
 * exchanged with STATE/pending by one renameat2(RENAME_EXCHANGE) (or
 * renamed into place when none is pending), so a reader sees the old
 * request or the new one, never a key of one with the request of the
 * other.  STATE/pending.lock serialises writers.
 */
#ifndef CD_PENDING_H
#define CD_PENDING_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <openssl/evp.h>

#include "keygen.h"
#include "settings.h"

#define CD_CSR_MAX_NAMES 16

/* What the request names; NULL or "" for an absent optional field. */
struct cd_csr_params {
    enum cd_key_type key_type;
    int keep_key;               /* 1: the current certificate's key */
    const char *cn;             /* required: a host name or address */
    const char *o;              /* required */
    const char *ou;             /* required */
    const char *c;              /* required: two capital letters */
    const char *st;
    const char *l;
    const char *names[CD_CSR_MAX_NAMES];        /* DNS names, addresses */
    size_t n_names;
};

struct cd_pending_info {
    time_t created;
    char key_type[16];
    int kept_key;
};

/*
 * Makes a key (or takes the current one) and a request signed with it, and
 * makes them the pending request.  Returns 0; -2 when one is pending and
 * replace is 0 (nothing changed); -1 with why naming the field at fault in
 * *fieldp (or NULL) when the parameters are not acceptable or the request
 * cannot be made or stored.
 */
int cd_pending_create(const struct cd_settings *s,
    const struct cd_csr_params *p, int replace, const char **fieldp,
    char *why, size_t wlen);
/*
 * The pending request's PEM (NUL-terminated, caller frees) and facts.
 * Returns 1, 0 when none is pending, -1 on an error (errno).
 */
int cd_pending_request(const char *state, char **pemp, size_t *lenp,
    struct cd_pending_info *info);
/*
 * The pending key's PEM for an upload without a key: 1 with *keyp (caller
 * frees with cv_free_secret(*keyp, *lenp)), 0 when none is pending, -1.
 */
int cd_pending_key(const char *state, uint8_t **keyp, size_t *lenp);
/*
 * Discards the pending request: 0, -2 when none is pending, -1 (errno).
 * With key not NULL, only when the pending key is that key (an install
 * that used the pending key clears it; one that did not leaves it).
 */
int cd_pending_discard(const char *state, EVP_PKEY *key);

#endif
