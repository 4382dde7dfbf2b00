/*
 * apitest.h - driving fcgi/api.h the way the FastCGI front does, for the
 * route tests (tests/unit/test_api_*.c): a state directory per test,
 * multipart bodies built in C, requests through cd_api_precheck() then
 * cd_api_handle(), and checks of the answers against fcgi/errors.def.
 *
 * Uses cmocka's assertions: a test includes <setjmp.h>, <stdarg.h>,
 * <stddef.h> and <cmocka.h> before this file.  Every helper fails the
 * running test instead of returning an error.
 */
#ifndef CD_APITEST_H
#define CD_APITEST_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "api.h"
#include "fixture.h"
#include "settings.h"

/* The appliance the tests talk to, and its only administrator. */
#define AT_HOST         "sensor.contoso.com"
#define AT_ADMIN        "admin"
#define AT_CLIENT       "192.0.2.7"     /* REMOTE_ADDR of the requests */
#define AT_ORIGIN       "https://" AT_HOST
/* Chrome's style of boundary: starts with dashes, as browsers send it. */
#define AT_BOUNDARY     "----WebKitFormBoundaryQ2xaW5lcnRkaWFsb2c"
#define AT_CONTENT_TYPE "multipart/form-data; boundary=" AT_BOUNDARY

/* A multipart body is built in a struct cd_buf (tests/lib/fixture.h). */

/* A text field: name=value. */
void at_field(struct cd_buf *b, const char *name, const char *value);
/* A file part with a file name; data may hold any bytes. */
void at_file(struct cd_buf *b, const char *name, const char *filename,
    const void *data, size_t len);
/* A file part holding the fixture's bytes, sent under its own name. */
void at_file_fx(struct cd_buf *b, const char *name, const char *fixture);
/* The closing boundary. */
void at_body_end(struct cd_buf *b);
/*
 * A complete ca-signed upload of the fixtures key, crt and chain (NULL:
 * the part is not sent) named name (NULL: no name part), CRL checking off
 * (the fixtures' distribution points lead nowhere) and the passphrase
 * pass (NULL: none).
 */
void at_upload(struct cd_buf *b, const char *name, const char *key,
    const char *crt, const char *chain, const char *pass);

/* One test's appliance: settings on a fresh state directory. */
struct at_fx {
    char dir[64];               /* mkdtemp: the state directory */
    struct cd_settings s;
    struct cd_app app;
    struct cv_ctx *own_cv;      /* set by at_use_ctx(), freed at teardown */
};

/* cmocka group and test fixtures; *state is a struct at_fx. */
int at_group_setup(void **state);
int at_group_teardown(void **state);
int at_setup(void **state);
int at_teardown(void **state);

/*
 * Makes t's engine one whose only trust anchor is the fixture ca (no
 * system bundle), instead of the group's root.pem context.
 */
void at_use_ctx(struct at_fx *t, const char *ca);

/*
 * A request from the admin, from the appliance's own pages: same Origin
 * and Sec-Fetch-Site as a browser sends them, over HTTPS, Host AT_HOST,
 * connection on 127.0.0.1 from AT_CLIENT, signed in with the session
 * at_setup() made for AT_ADMIN (its Cookie header).  No body.
 */
void at_request(struct cd_request *rq, const char *method, const char *path,
    const char *query);
/*
 * The same with body b as multipart/form-data; lenbuf (at least 32
 * bytes) holds the Content-Length text rq points at.
 */
void at_request_body(struct cd_request *rq, const char *path,
    const struct cd_buf *b, char *lenbuf, size_t lenlen);

/*
 * Runs rq as the front does: cd_api_precheck(), then, when it passed,
 * cd_api_handle() with the body in a heap buffer of exactly the length
 * the precheck asked for (so that ASan sees a read past its end).
 * Returns the precheck's result.  Caller clears resp.
 */
int at_run(struct at_fx *t, const struct cd_request *rq,
    struct cd_response *resp);
/* The Cookie header of the admin's session of the running test. */
const char *at_admin_cookie(void);
/* A new admin session for at_request() (after the old one ended). */
void at_admin_session(struct at_fx *t);
/*
 * A new session of user, made in the store directly (no password): its
 * Cookie header "cd_session=VALUE" into hdr (at least 64 bytes).
 */
void at_session(struct at_fx *t, const char *user, int must_change,
    char *hdr, size_t len);
/* A new API token of user: its Authorization header into hdr (80). */
void at_token(struct at_fx *t, const char *user, char *hdr, size_t len);
/* Creates user with password pass (cd_auth_set_password()). */
void at_add_user(struct at_fx *t, const char *user, const char *pass,
    int must_change);

/* GET path?query from the admin. */
void at_get(struct at_fx *t, const char *path, const char *query,
    struct cd_response *resp);
/* POST body b to path from the admin. */
void at_post(struct at_fx *t, const char *path, const struct cd_buf *b,
    struct cd_response *resp);
/* method path from the admin with a JSON body (NULL: none). */
void at_json(struct at_fx *t, const char *method, const char *path,
    const char *json, struct cd_response *resp);

/*
 * resp is the service's error answer code (fcgi/errors.def): the row's
 * status and message, {"ok": false, "errors": [{code, message, field,
 * detail}], "warnings": []}, field as given (NULL: JSON null), and code
 * on the log line.
 */
void at_assert_error(const struct cd_response *resp, const char *code,
    const char *field);
/*
 * resp is a 422 answer holding at least one blocking finding code on field
 * (NULL: any field).
 */
void at_assert_finding(const struct cd_response *resp, const char *code,
    const char *field);
/*
 * The findings of code in body's list ("errors" or "warnings") on field
 * (NULL: any field).
 */
size_t at_count(const json_t *body, const char *list, const char *code,
    const char *field);
/* The answer as one line of JSON for a failure message; caller frees. */
char *at_text(const struct cd_response *resp);
/* The string member key of obj, which must be there. */
const char *at_str(const json_t *obj, const char *key);

/* The release "current" names, "" when none. */
void at_current(struct at_fx *t, char *id, size_t len);
/* Number of releases kept. */
size_t at_releases(struct at_fx *t);
/* First start: cd_install_ensure(); the self-signed release id into id. */
void at_ensure(struct at_fx *t, char *id, size_t len);
/* Installs good.pem with chain.pem through POST /api/certificate. */
void at_install_good(struct at_fx *t, char *id, size_t len);

#endif
