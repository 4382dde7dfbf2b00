/*
 * cv_util.h - the small helpers every part of certdialog shares: one copy
 * each, here at the bottom layer (libc + OpenSSL), so that validate/,
 * fcgi/ and cli/ use the same rules.
 */
#ifndef CV_UTIL_H
#define CV_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <openssl/x509.h>

#ifdef __cplusplus
extern "C" {
#endif

/* 1 when s is an IPv4 or IPv6 address in text form. */
int cv_is_ip(const char *s);
/* 1 when a and b are the same IPv4 or IPv6 address, whatever the spelling. */
int cv_ip_equal(const char *a, const char *b);

/*
 * Parses the len bytes at p as a decimal number: digits only (no sign,
 * space or prefix), at most max.  Returns 0, or -1 with *out untouched.
 * Use it instead of atoi/strtol/sscanf on anything that came from outside.
 */
int cv_parse_uint(const char *p, size_t len, uint64_t max, uint64_t *out);

/* cv_read_file() flags */
#define CV_READ_REGULAR 0x1     /* refuse anything but a regular file */

/*
 * Reads the file at path whole, at most max bytes, into a new buffer with a
 * NUL after the last byte (*lenp bytes before it).  read(2) only, so no
 * stdio buffer keeps a copy, and every buffer let go of on the way is
 * wiped first (the file may hold a key).  With CV_READ_REGULAR anything
 * but a regular file is refused (EINVAL) without waiting on it (a FIFO put
 * in place of a pid file must not hang us); without, pipes, FIFOs and
 * devices are read to their end, as any reader would.  Returns NULL with
 * errno set (EFBIG: larger than max).  Caller frees with
 * cv_free_secret(buf, *lenp + 1), or free() when it held no secret.
 */
char *cv_read_file(const char *path, size_t max, int flags, size_t *lenp);

/* Wipes len bytes at p (OPENSSL_cleanse), then frees p; p may be NULL. */
void cv_free_secret(void *p, size_t len);

/* Milliseconds on clock clk (CLOCK_MONOTONIC, a CPU clock) since *t0. */
double cv_ms_since(clockid_t clk, const struct timespec *t0);

/* Formats a time as "2026-11-22T16:20:00Z" into buf (at least 21 bytes). */
void cv_time_iso(time_t t, char *buf, size_t len);

/*
 * Drains OpenSSL's error queue into buf as "reason; reason" (no file or
 * line, never key material).  buf is always NUL-terminated.
 */
void cv_ossl_detail(char *buf, size_t len);

/*
 * The certificate's common name in UTF-8 into buf ("" when it has none).
 * The rule, everywhere: the last CN of the subject, the most specific one,
 * as OpenSSL's host name check takes it.  Returns 0, or -1 (buf "") when
 * there is no CN or it cannot be converted.
 */
int cv_cert_cn(X509 *x, char *buf, size_t len);
/* The same rule for any attribute (nid) of a name: its last value. */
int cv_name_get(const X509_NAME *nm, int nid, char *buf, size_t len);

/*
 * Calls fn(uri, uri_len, arg) for each URI of the certificate's CRL
 * distribution points (fullName form), in order, until fn returns
 * non-zero; that value is returned (0 when every URI was seen).  The URI
 * is not NUL-terminated and may hold any byte.  *has_dpp (may be NULL) says
 * whether the certificate has the extension at all.
 */
int cv_crl_dp_each(X509 *x, int (*fn)(const char *uri, size_t len,
    void *arg), void *arg, int *has_dpp);

#ifdef __cplusplus
}
#endif
#endif /* CV_UTIL_H */
