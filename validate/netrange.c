/*
 * netrange.c - the address ranges CRLs are never fetched from (cv.h,
 * docs/API.md setting crl_denied_ranges): CIDR text parsed into struct
 * cv_net, the default list, and the judgement of one address, which
 * validate/crl.c applies to every address it would connect to.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cv.h"

#define V4(a, b, c, d) { a, b, c, d }

/*
 * An upload must not make the appliance probe its own services or a
 * cloud's metadata service.  Private ranges (RFC 1918, fc00::/7) are not
 * here: CRL servers of an OT network live there.
 */
static const struct cv_net defaults[] = {
    { AF_INET, V4(0, 0, 0, 0), 8, "an unspecified address" },
    { AF_INET, V4(169, 254, 0, 0), 16,
        "a link-local address (cloud metadata services live there)" },
    { AF_INET, V4(224, 0, 0, 0), 4, "a multicast address" },
    { AF_INET, V4(240, 0, 0, 0), 4, "a reserved or broadcast address" },
    { AF_INET6, { 0 }, 128, "an unspecified address" },
    { AF_INET6, { 0xfe, 0x80 }, 10, "a link-local address" },
    { AF_INET6, { 0xff }, 8, "a multicast address" },
    /* fd00:ec2::254, a cloud's IPv6 metadata service (in fc00::/7) */
    { AF_INET6, { 0xfd, 0, 0x0e, 0xc2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02,
        0x54 }, 128, "a cloud metadata address" },
};

size_t
cv_net_defaults(const struct cv_net **out)
{
    *out = defaults;
    return sizeof(defaults) / sizeof(defaults[0]);
}

/* 1 when the first bits of a and b are equal. */
static int
prefix_eq(const unsigned char *a, const unsigned char *b, unsigned bits)
{
    unsigned whole = bits / 8, rest = bits % 8;
    unsigned char mask;

    if (memcmp(a, b, whole) != 0)
        return 0;
    if (rest == 0)
        return 1;
    mask = (unsigned char)(0xff << (8 - rest));
    return (a[whole] & mask) == (b[whole] & mask);
}

/* 1 when the bits of addr after the first bits (of max) are all 0. */
static int
host_bits_zero(const unsigned char *addr, unsigned bits, unsigned max)
{
    unsigned i;

    for (i = bits; i < max; i++)
        if (addr[i / 8] & (0x80 >> (i % 8)))
            return 0;
    return 1;
}

int
cv_net_parse(const char *text, struct cv_net *out)
{
    char buf[INET6_ADDRSTRLEN + 8], *slash, *end;
    unsigned long bits;
    unsigned max;
    size_t n = strlen(text);

    memset(out, 0, sizeof(*out));
    if (n == 0 || n >= sizeof(buf))
        return -1;
    memcpy(buf, text, n + 1);
    if ((slash = strchr(buf, '/')) != NULL)
        *slash = '\0';
    if (inet_pton(AF_INET, buf, out->addr) == 1)
        out->family = AF_INET;
    else if (inet_pton(AF_INET6, buf, out->addr) == 1)
        out->family = AF_INET6;
    else
        return -1;
    max = out->family == AF_INET ? 32 : 128;
    bits = max;
    if (slash != NULL) {
        if (slash[1] < '0' || slash[1] > '9' || strlen(slash + 1) > 3)
            return -1;
        bits = strtoul(slash + 1, &end, 10);
        if (*end != '\0' || bits > max)
            return -1;
    }
    out->bits = (unsigned)bits;
    /* host bits set ("10.1.2.3/8"): more often a typo than a wish */
    return host_bits_zero(out->addr, out->bits, max) ? 0 : -1;
}

void
cv_net_text(const struct cv_net *net, char *buf, size_t len)
{
    char a[INET6_ADDRSTRLEN];

    if (inet_ntop(net->family, net->addr, a, sizeof(a)) == NULL)
        snprintf(a, sizeof(a), "?");
    snprintf(buf, len, "%s/%u", a, net->bits);
}

/* The address of sa, IPv4 carried in IPv6 (mapped, compatible, NAT64)
 * as IPv4; -1 when it is not an IP address. */
static int
plain_addr(const struct sockaddr *sa, unsigned char a[16], int *loopback)
{
    static const unsigned char mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        0xff, 0xff };
    static const unsigned char nat64[12] = { 0, 0x64, 0xff, 0x9b };
    static const unsigned char zero[15];
    const unsigned char *b;

    if (sa->sa_family == AF_INET) {
        memcpy(a, &((const struct sockaddr_in *)(const void *)sa)->sin_addr,
            4);
        *loopback = a[0] == 127;
        return AF_INET;
    }
    if (sa->sa_family != AF_INET6)
        return -1;
    b = ((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr.s6_addr;
    memcpy(a, b, 16);
    if (memcmp(b, zero, 15) == 0 && b[15] <= 1) {    /* :: and ::1 */
        *loopback = b[15] == 1;
        return AF_INET6;
    }
    if (memcmp(b, mapped, 12) == 0 || memcmp(b, nat64, 12) == 0 ||
        memcmp(b, zero, 12) == 0) {
        memmove(a, b + 12, 4);
        *loopback = a[0] == 127;
        return AF_INET;
    }
    *loopback = 0;
    return AF_INET6;
}

int
cv_net_denied(const struct sockaddr *sa, const struct cv_net *denied,
    size_t n, int allow_loopback, char *why, size_t wlen)
{
    unsigned char a[16];
    char net[INET6_ADDRSTRLEN + 8];
    int fam, loopback = 0;
    size_t i;

    if (denied == NULL)
        n = cv_net_defaults(&denied);
    if ((fam = plain_addr(sa, a, &loopback)) < 0) {
        snprintf(why, wlen, "not an IP address");
        return 1;
    }
    /* the list first: a range of it is denied even within loopback */
    for (i = 0; i < n; i++) {
        if (denied[i].family != fam ||
            !prefix_eq(a, denied[i].addr, denied[i].bits))
            continue;
        if (denied[i].why != NULL)
            snprintf(why, wlen, "%s", denied[i].why);
        else {
            cv_net_text(&denied[i], net, sizeof(net));
            snprintf(why, wlen, "in the denied range %s", net);
        }
        return 1;
    }
    if (loopback && !allow_loopback) {
        snprintf(why, wlen, "a loopback address");
        return 1;
    }
    return 0;
}
