/*
 * selfsigned.h - making the self-signed certificate a first start serves.
 */
#ifndef CD_SELFSIGNED_H
#define CD_SELFSIGNED_H

#include <stddef.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

/*
 * A new RSA-2048 key and a certificate for host signed with it
 * (SHA-256, a year, serverAuth): subject CN=host when it fits (64
 * characters) and O=certdialog; its subjectAltName holds host (DNS:, or
 * IP: for an address), 127.0.0.1, ::1 and the addresses of the
 * interfaces but IPv6 link-local ones, at most CV_MAX_LIST names.
 * Returns 0 with *keyp and *certp set (caller frees both), or -1 with why
 * holding a sentence for the answer (no key material).
 */
int cd_selfsigned_make(const char *host, EVP_PKEY **keyp, X509 **certp,
    char *why, size_t wlen);

#endif
