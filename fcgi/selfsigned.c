/*
 * selfsigned.c - the self-signed certificate a first start serves, and
 * that a self-signed upload asks for: a key and a certificate made in
 * memory (selfsigned.h), then installed by the release store
 * (cd_install_self_signed() and cd_install_ensure() of install.h).
 */
#include "config.h"

#include "selfsigned.h"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include "cv.h"
#include "cv_util.h"
#include "install.h"
#include "keygen.h"
#include "release.h"

#define CN_MAX          64      /* ub-common-name: longer lives in the SAN */
/* names in the SAN: what a summary lists (CV_MAX_LIST), so all are shown */
#define SAN_MAX         CV_MAX_LIST

/* The SAN's names: the host name, then addresses as text. */
struct san {
    const char *v[SAN_MAX];
    char addr[SAN_MAX][INET6_ADDRSTRLEN];
    size_t n;
};

/* Adds the address a (AF_INET or AF_INET6) unless it is there already. */
static void
san_add_addr(struct san *sn, int family, const void *a)
{
    char txt[INET6_ADDRSTRLEN];
    size_t i;

    if (sn->n >= SAN_MAX || inet_ntop(family, a, txt, sizeof(txt)) == NULL)
        return;
    for (i = 0; i < sn->n; i++)
        if (cv_is_ip(sn->v[i]) && cv_ip_equal(sn->v[i], txt))
            return;
    memcpy(sn->addr[sn->n], txt, sizeof(txt));
    sn->v[sn->n] = sn->addr[sn->n];
    sn->n++;
}

/*
 * The names of the self-signed certificate, as Proxmox makes its own: the
 * host name, the loopback addresses (so the first visit, often on the
 * appliance itself or through a tunnel to 127.0.0.1, matches), then every
 * address of the interfaces, at most SAN_MAX in all.  IPv6 link-local
 * addresses (fe80::/10) are left out: they work only with a zone
 * ("fe80::1%eth0") that no certificate can name, and they change with the
 * hardware.  Without getifaddrs() the list stops at the loopback.
 */
static void
san_names(const char *host, struct san *sn)
{
    static const struct in6_addr lo6 = IN6ADDR_LOOPBACK_INIT;
    struct in_addr lo4 = { htonl(INADDR_LOOPBACK) };
    struct ifaddrs *ifs = NULL, *i;
    const struct sockaddr_in6 *s6;

    memset(sn, 0, sizeof(*sn));
    sn->v[sn->n++] = host;
    san_add_addr(sn, AF_INET, &lo4);
    san_add_addr(sn, AF_INET6, &lo6);
    if (getifaddrs(&ifs) != 0)
        return;
    for (i = ifs; i != NULL; i = i->ifa_next) {
        if (i->ifa_addr == NULL)
            continue;
        if (i->ifa_addr->sa_family == AF_INET) {
            san_add_addr(sn, AF_INET,
                &((const struct sockaddr_in *)(void *)i->ifa_addr)->sin_addr);
        } else if (i->ifa_addr->sa_family == AF_INET6) {
            s6 = (const struct sockaddr_in6 *)(void *)i->ifa_addr;
            if (!IN6_IS_ADDR_LINKLOCAL(&s6->sin6_addr))
                san_add_addr(sn, AF_INET6, &s6->sin6_addr);
        }
    }
    freeifaddrs(ifs);
}

/* Subject CN=host (when it fits), O=certdialog; the SAN of san_names(). */
static X509 *
make_cert(EVP_PKEY *key, const char *host)
{
    /* name, value: a TLS server's leaf, no CA */
    static const char *const exts[][2] = {
        { "basicConstraints", "critical,CA:FALSE" },
        { "keyUsage", "critical,digitalSignature,keyEncipherment" },
        { "extendedKeyUsage", "serverAuth" },
        { "subjectKeyIdentifier", "hash" },
    };
    unsigned char serial[16];
    char why[128];
    GENERAL_NAMES *gens = NULL;
    X509_EXTENSION *ext;
    X509_NAME *nm = NULL;
    X509V3_CTX v3;
    struct san sn;
    BIGNUM *bn = NULL;
    X509 *x = NULL;
    size_t i, hl = strlen(host);
    int ok = 0;

    if (RAND_bytes(serial, sizeof(serial)) != 1)
        goto out;
    serial[0] = (serial[0] & 0x7f) | 0x40;      /* positive, 16 bytes */
    if ((x = X509_new()) == NULL || (nm = X509_NAME_new()) == NULL ||
        X509_set_version(x, X509_VERSION_3) != 1 ||
        (bn = BN_bin2bn(serial, sizeof(serial), NULL)) == NULL ||
        BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) == NULL)
        goto out;
    if (hl <= CN_MAX && X509_NAME_add_entry_by_NID(nm, NID_commonName,
        MBSTRING_ASC, (const unsigned char *)host, (int)hl, -1, 0) != 1)
        goto out;
    if (X509_NAME_add_entry_by_NID(nm, NID_organizationName, MBSTRING_ASC,
        (const unsigned char *)"certdialog", -1, -1, 0) != 1 ||
        X509_set_subject_name(x, nm) != 1 ||
        X509_set_issuer_name(x, nm) != 1 ||
        X509_gmtime_adj(X509_getm_notBefore(x), -3600) == NULL ||
        X509_time_adj_ex(X509_getm_notAfter(x), 365, 0, NULL) == NULL ||
        X509_set_pubkey(x, key) != 1)
        goto out;
    san_names(host, &sn);
    if ((gens = cd_names_san(sn.v, sn.n, why, sizeof(why))) == NULL ||
        X509_add1_ext_i2d(x, NID_subject_alt_name, gens, 0,
        X509V3_ADD_DEFAULT) != 1)
        goto out;
    X509V3_set_ctx(&v3, x, x, NULL, NULL, 0);
    for (i = 0; i < sizeof(exts) / sizeof(exts[0]); i++) {
        ext = X509V3_EXT_nconf(NULL, &v3, exts[i][0], exts[i][1]);
        if (ext == NULL || X509_add_ext(x, ext, -1) != 1) {
            X509_EXTENSION_free(ext);
            goto out;
        }
        X509_EXTENSION_free(ext);
    }
    ok = X509_sign(x, key, EVP_sha256()) > 0;
out:
    GENERAL_NAMES_free(gens);
    X509_NAME_free(nm);
    BN_free(bn);
    if (!ok) {
        X509_free(x);
        x = NULL;
    }
    return x;
}

int
cd_selfsigned_make(const char *host, EVP_PKEY **keyp, X509 **certp,
    char *why, size_t wlen)
{
    char detail[128];

    *keyp = NULL;
    *certp = NULL;
    if (host == NULL || host[0] == '\0') {
        snprintf(why, wlen, "no host name is configured for the "
            "self-signed certificate");
        return -1;
    }
    if (!cd_name_ok(host)) {
        snprintf(why, wlen, "the host name is not a valid DNS name or IP "
            "address, so no self-signed certificate can be made for it");
        return -1;
    }
    if ((*keyp = cd_keygen(CD_KEY_RSA2048, why, wlen)) == NULL)
        return -1;
    if ((*certp = make_cert(*keyp, host)) == NULL) {
        cv_ossl_detail(detail, sizeof(detail));
        snprintf(why, wlen, "cannot make a self-signed certificate for %s: "
            "%s", host, detail);
        EVP_PKEY_free(*keyp);
        *keyp = NULL;
        return -1;
    }
    return 0;
}

/* A new self-signed key and certificate, installed as a release. */
static int
self_signed(const struct cd_settings *s, int only_if_missing,
    struct cd_install_result *res)
{
    struct cd_install_files f;
    EVP_PKEY *key = NULL;
    X509 *cert = NULL;
    int rc;

    if (cd_selfsigned_make(s != NULL ? s->hostname : NULL, &key, &cert,
        res->err, sizeof(res->err)) != 0)
        return -1;
    memset(&f, 0, sizeof(f));
    f.name = "self-signed";
    f.mode = "self-signed";
    f.validation = "none";
    f.use_crl = 0;
    f.key = key;
    f.leaf = cert;
    rc = cd_release_install(s, &f, only_if_missing, res);
    EVP_PKEY_free(key);
    X509_free(cert);
    return rc;
}

int
cd_install_self_signed(const struct cd_settings *s,
    struct cd_install_result *res)
{
    struct cd_install_result scratch;

    if (res == NULL)
        res = &scratch;
    memset(res, 0, sizeof(*res));
    return self_signed(s, 0, res);
}

int
cd_install_ensure(const struct cd_settings *s, struct cd_install_result *res)
{
    struct cd_install_result scratch;
    char id[CD_RELEASE_ID_LEN + 1];

    if (res == NULL)
        res = &scratch;
    memset(res, 0, sizeof(*res));
    if (s == NULL || s->state_dir == NULL) {
        snprintf(res->err, sizeof(res->err),
            "no state directory is configured");
        return -1;
    }
    /* no key is made when one is installed already */
    if (cd_release_current(s->state_dir, id)) {
        snprintf(res->release, sizeof(res->release), "%s", id);
        snprintf(res->reload_detail, sizeof(res->reload_detail),
            "a certificate is already installed");
        return 0;
    }
    /* checked again under the lock: two starting workers install once */
    return self_signed(s, 1, res);
}
