/*
 * keygen.c - keys and subjectAltNames made on the appliance (keygen.h).
 */
#include "config.h"

#include "keygen.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <openssl/err.h>

#include "cv_util.h"

#define DNS_NAME_MAX    253
#define LABEL_MAX       63

static const struct {
    enum cd_key_type t;
    const char *name;
} types[] = {
    { CD_KEY_RSA2048, "rsa2048" }, { CD_KEY_RSA4096, "rsa4096" },
    { CD_KEY_EC_P256, "ec-p256" }, { CD_KEY_EC_P384, "ec-p384" },
};
#define N_TYPES (sizeof(types) / sizeof(types[0]))

int
cd_key_type_parse(const char *s, enum cd_key_type *t)
{
    size_t i;

    for (i = 0; s != NULL && i < N_TYPES; i++)
        if (strcmp(s, types[i].name) == 0) {
            *t = types[i].t;
            return 0;
        }
    return -1;
}

const char *
cd_key_type_name(enum cd_key_type t)
{
    size_t i;

    for (i = 0; i < N_TYPES; i++)
        if (types[i].t == t)
            return types[i].name;
    return "unknown";
}

int
cd_key_type_is_ec(enum cd_key_type t)
{
    return t == CD_KEY_EC_P256 || t == CD_KEY_EC_P384;
}

EVP_PKEY *
cd_keygen(enum cd_key_type t, char *why, size_t wlen)
{
    EVP_PKEY *k = NULL;
    char detail[128];

    ERR_clear_error();
    switch (t) {
    case CD_KEY_RSA2048:
        k = EVP_RSA_gen(2048);
        break;
    case CD_KEY_RSA4096:
        k = EVP_RSA_gen(4096);
        break;
    case CD_KEY_EC_P256:
        k = EVP_EC_gen("P-256");
        break;
    case CD_KEY_EC_P384:
        k = EVP_EC_gen("P-384");
        break;
    }
    if (k == NULL) {
        cv_ossl_detail(detail, sizeof(detail));
        snprintf(why, wlen, "cannot generate a %s key: %s",
            cd_key_type_name(t), detail);
    }
    return k;
}

/* 1 when name is a DNS host name: LDH labels, no wildcard. */
static int
host_name_ok(const char *name)
{
    size_t i, n = strlen(name), label = 0;
    char c;

    if (n == 0 || n > DNS_NAME_MAX || name[n - 1] == '.')
        return 0;
    for (i = 0; i < n; i++) {
        c = name[i];
        if (c == '.') {
            if (label == 0 || name[i - 1] == '-')
                return 0;
            label = 0;
            continue;
        }
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
            (c >= '0' && c <= '9') || c == '-'))
            return 0;
        if (c == '-' && label == 0)
            return 0;
        if (++label > LABEL_MAX)
            return 0;
    }
    return name[n - 1] != '-';
}

int
cd_name_ok(const char *name)
{
    return name != NULL && (cv_is_ip(name) || host_name_ok(name));
}

/* One GENERAL_NAME for an address or a host name; NULL on failure. */
static GENERAL_NAME *
gen_of(const char *name)
{
    GENERAL_NAME *gn;
    ASN1_STRING *v;
    int type = GEN_DNS;

    if (cv_is_ip(name)) {
        type = GEN_IPADD;
        v = a2i_IPADDRESS(name);
    } else if ((v = ASN1_IA5STRING_new()) != NULL &&
        ASN1_STRING_set(v, name, (int)strlen(name)) != 1) {
        ASN1_STRING_free(v);
        v = NULL;
    }
    if (v == NULL || (gn = GENERAL_NAME_new()) == NULL) {
        ASN1_STRING_free(v);
        return NULL;
    }
    GENERAL_NAME_set0_value(gn, type, v);
    return gn;
}

GENERAL_NAMES *
cd_names_san(const char *const *names, size_t n, char *why, size_t wlen)
{
    GENERAL_NAMES *gens;
    GENERAL_NAME *gn;
    size_t i, j;
    int dup;

    if ((gens = GENERAL_NAMES_new()) == NULL) {
        snprintf(why, wlen, "out of memory");
        return NULL;
    }
    for (i = 0; i < n; i++) {
        if (!cd_name_ok(names[i])) {
            snprintf(why, wlen, "'%.80s' is neither a host name nor an IP "
                "address", names[i]);
            goto fail;
        }
        for (j = 0, dup = 0; j < i && !dup; j++)
            dup = strcasecmp(names[i], names[j]) == 0 ||
                (cv_is_ip(names[i]) && cv_ip_equal(names[i], names[j]));
        if (dup)
            continue;
        if ((gn = gen_of(names[i])) == NULL ||
            sk_GENERAL_NAME_push(gens, gn) <= 0) {
            GENERAL_NAME_free(gn);
            snprintf(why, wlen, "out of memory");
            goto fail;
        }
    }
    if (sk_GENERAL_NAME_num(gens) == 0) {
        snprintf(why, wlen, "no host name or address is given");
        goto fail;
    }
    return gens;
fail:
    GENERAL_NAMES_free(gens);
    return NULL;
}
