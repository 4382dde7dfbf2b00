/*
 * keygen.h - keys and names made on the appliance: the self-signed
 * certificate's and the signing request's (docs/API.md "Signing request").
 */
#ifndef CD_KEYGEN_H
#define CD_KEYGEN_H

#include <stddef.h>

#include <openssl/evp.h>
#include <openssl/x509v3.h>

/* The key types a key made here may have; EC only under key_policy rsa+ec. */
enum cd_key_type {
    CD_KEY_RSA2048 = 0,
    CD_KEY_RSA4096,
    CD_KEY_EC_P256,
    CD_KEY_EC_P384
};

/* "rsa2048", "rsa4096", "ec-p256", "ec-p384": 0, or -1 when unknown. */
int cd_key_type_parse(const char *s, enum cd_key_type *t);
const char *cd_key_type_name(enum cd_key_type t);
int cd_key_type_is_ec(enum cd_key_type t);
/* A new key of type t, or NULL with why (OpenSSL's reason). */
EVP_PKEY *cd_keygen(enum cd_key_type t, char *why, size_t wlen);

/*
 * 1 when name can be a subjectAltName: an IPv4 or IPv6 address, or a DNS
 * host name (letters, digits, hyphens; labels of 1 to 63, at most 253 in
 * all; no wildcard: certdialog's certificates name hosts).
 */
int cd_name_ok(const char *name);
/*
 * The subjectAltName of names (each an address or a host name, checked
 * with cd_name_ok; duplicates dropped), or NULL with why.
 */
GENERAL_NAMES *cd_names_san(const char *const *names, size_t n, char *why,
    size_t wlen);

#endif
