/*
 * errors.c - names, statuses and messages of the service's own answers,
 * from errors.def.
 */
#include "config.h"

#include "cvjson.h"
#include "errors.h"

struct err_entry {
    const char *name;
    int status;
    const char *message;
};

static const struct err_entry table[CD_ERR_COUNT] = {
    [CD_ERR_NONE] = { "internal_error", 500, "Internal error" },
#define CD_ERR(id, name, status, msg) [CD_ERR_##id] = { name, status, msg },
#include "errors.def"
#undef CD_ERR
};

static const struct err_entry *
entry(enum cd_err e)
{
    return (int)e > (int)CD_ERR_NONE && (int)e < (int)CD_ERR_COUNT ?
        &table[e] : &table[CD_ERR_NONE];
}

const char *
cd_err_name(enum cd_err e)
{
    return entry(e)->name;
}

int
cd_err_status(enum cd_err e)
{
    return entry(e)->status;
}

const char *
cd_err_message(enum cd_err e)
{
    return entry(e)->message;
}

json_t *
cd_err_json(enum cd_err e, const char *field, const char *detail)
{
    return cvjson_error(entry(e)->name, entry(e)->message, field, detail);
}

json_t *
cd_err_finding_json(enum cv_code code, const char *field, const char *detail)
{
    return cvjson_error(cv_code_name(code), cv_code_message(code), field,
        detail);
}
