/*
 * codes.c - names, messages and kinds of the findings, from cv_codes.def.
 */
#include "config.h"

#include <string.h>

#include "cv.h"

struct code_entry {
    const char *name;
    enum cv_kind kind;
    const char *message;
};

static const struct code_entry table[CV_CODE_COUNT] = {
    [CV_OK] = { "ok", CV_WARNING, "OK" },
#define CV_CODE(id, name, kind, msg) [CV_##id] = { name, kind, msg },
#include "cv_codes.def"
#undef CV_CODE
};

static int
in_range(enum cv_code code)
{
    return (int)code > (int)CV_OK && (int)code < (int)CV_CODE_COUNT;
}

const char *
cv_code_name(enum cv_code code)
{
    if (code == CV_OK)
        return table[CV_OK].name;
    return table[in_range(code) ? code : CV_VALIDATION_FAILED].name;
}

const char *
cv_code_message(enum cv_code code)
{
    return table[in_range(code) ? code : CV_VALIDATION_FAILED].message;
}

enum cv_kind
cv_code_kind(enum cv_code code)
{
    return in_range(code) ? table[code].kind : CV_HARD;
}

enum cv_code
cv_code_from_name(const char *name)
{
    int i;

    if (name == NULL)
        return CV_OK;
    for (i = CV_OK + 1; i < CV_CODE_COUNT; i++)
        if (strcmp(table[i].name, name) == 0)
            return (enum cv_code)i;
    return CV_OK;
}
