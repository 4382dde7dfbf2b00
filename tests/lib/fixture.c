/*
 * fixture.c - reading the test fixtures made by tests/data/mkfixtures.sh.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fixture.h"

const char *
cd_fixture_dir(void)
{
    const char *d = getenv("CD_FIXTURES");

    return d != NULL && *d != '\0' ? d : "tests/fixtures";
}

const char *
cd_fixture_path(const char *name)
{
    static char path[4096];

    snprintf(path, sizeof(path), "%s/%s", cd_fixture_dir(), name);
    return path;
}

uint8_t *
cd_fixture_read(const char *name, size_t *lenp)
{
    FILE *f;
    uint8_t *buf = NULL, *nb;
    size_t len = 0, cap = 0, n;

    *lenp = 0;
    if ((f = fopen(cd_fixture_path(name), "rb")) == NULL)
        return NULL;
    for (;;) {
        if (cap - len < 4097) {
            cap = cap ? cap * 2 : 8192;
            if ((nb = realloc(buf, cap)) == NULL) {
                free(buf);
                fclose(f);
                return NULL;
            }
            buf = nb;
        }
        n = fread(buf + len, 1, cap - len - 1, f);
        len += n;
        if (n == 0)
            break;
    }
    fclose(f);
    buf[len] = '\0';
    *lenp = len;
    return buf;
}

time_t
cd_fixture_time(void)
{
    size_t len;
    uint8_t *b = cd_fixture_read("made_at", &len);
    time_t t = 0;
    size_t i;

    if (b == NULL)
        return time(NULL);
    for (i = 0; i < len && b[i] >= '0' && b[i] <= '9'; i++)
        t = t * 10 + (b[i] - '0');
    free(b);
    return t + 60;
}
