/*
 * multipart.h - a bounded, zero-copy multipart/form-data parser
 * (RFC 7578, RFC 2046).  No allocation: parts are views into the body.
 */
#ifndef CD_MULTIPART_H
#define CD_MULTIPART_H

#include <stddef.h>
#include <stdint.h>

enum cd_mp_status {
    CD_MP_OK = 0,
    CD_MP_BAD,                  /* malformed, truncated, unknown/duplicate: 400 */
    CD_MP_TOO_LARGE,            /* a limit was passed: 413 */
    CD_MP_NOT_MULTIPART         /* not multipart/form-data: 415 */
};

/* One part.  Every pointer points into the body; the caller frees none. */
struct cd_part {
    const char *name;
    size_t name_len;
    const char *filename;       /* NULL when the part has none */
    size_t filename_len;
    const uint8_t *data;
    size_t len;
};

struct cd_multipart_limits {
    size_t max_parts;
    size_t max_header;          /* one part's header block */
    size_t max_file;            /* one part's data */
};

#define CD_MULTIPART_MAX_PARTS 16
#define CD_MULTIPART_LIMITS_DEFAULT \
    { CD_MULTIPART_MAX_PARTS, 8192, 256 * 1024 }
#define CD_BOUNDARY_MAX 70

/*
 * The boundary of a CONTENT_TYPE value into out (NUL-terminated; outlen
 * at least CD_BOUNDARY_MAX + 1).  CD_MP_NOT_MULTIPART when the type is not
 * multipart/form-data, CD_MP_BAD when the boundary is missing or invalid.
 */
enum cd_mp_status cd_multipart_boundary(const char *content_type, char *out,
    size_t outlen);

/*
 * Parses body into parts (an array of lim->max_parts entries; *n_parts set).
 * Only names in allowed (NULL-terminated) are accepted, each once.  On
 * failure, err gets a short reason that never quotes the body.
 */
enum cd_mp_status cd_multipart_parse(const uint8_t *body, size_t len,
    const char *boundary, const struct cd_multipart_limits *lim,
    const char *const *allowed, struct cd_part *parts, size_t *n_parts,
    char *err, size_t errlen);

/* The part named name, or NULL.  Points into parts; caller frees nothing. */
const struct cd_part *cd_multipart_get(const struct cd_part *parts, size_t n,
    const char *name);

#endif
