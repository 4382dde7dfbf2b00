/*
 * fixture.h - reading the test fixtures made by tests/data/mkfixtures.sh.
 */
#ifndef CD_FIXTURE_H
#define CD_FIXTURE_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* The fixture directory ($CD_FIXTURES, else "tests/fixtures"). */
const char *cd_fixture_dir(void);
/*
 * Reads a fixture into a new buffer (NUL-terminated, *lenp excludes it).
 * Returns NULL when missing.  Caller frees with free().
 */
uint8_t *cd_fixture_read(const char *name, size_t *lenp);
/* Full path of a fixture in a static buffer (overwritten by each call). */
const char *cd_fixture_path(const char *name);
/* The "made_at" time + 60 s: the validation time tests use. */
time_t cd_fixture_time(void);

#endif
