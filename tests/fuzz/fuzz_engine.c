/*
 * fuzz_engine.c - libFuzzer harness for the whole engine, cv_validate().
 *
 * Input: key SEP certificate SEP chain SEP passphrase SEP options, SEP
 * being CD_FUZZ_SEP (fuzz_common.h).  The options piece's first byte:
 * bit 0 validation=none, bit 1 a Certificate Name is given, bit 2 no key
 * (missing), bit 3 no certificate, bit 4 no chain, bit 5 no passphrase.
 * Pieces the input lacks: key and certificate empty ("unreadable"),
 * chain and passphrase absent.
 *
 * One cv_ctx for the process: trust anchors from $CD_FUZZ_CA_FILE (none
 * when unset).  use_crl is off and any CRL fetch traps; the validation
 * time is $CD_FUZZ_AT or 2026-01-01.  Checked: a report always, only known
 * codes, an accepted upload carries its key and certificate, and the
 * passphrase never shows in a finding (unless a file holds it too).
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <openssl/err.h>

#include "cv.h"
#include "fuzz_common.h"

static struct cv_ctx *ctx;
static time_t at = 1767225600;

static enum cv_fetch_result
no_fetch(const char *url, const struct cv_fetch_opts *fo, void *arg,
    X509_CRL **crlp, char *detail, size_t dlen)
{
    (void)url;
    (void)fo;
    (void)arg;
    (void)crlp;
    (void)detail;
    (void)dlen;
    __builtin_trap();           /* use_crl is off: never fetch */
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    struct cv_config cfg;
    const char *e;
    char *err = NULL;

    (void)argc;
    (void)argv;
    memset(&cfg, 0, sizeof(cfg));
    cfg.no_default_ca = 1;
    if ((e = getenv("CD_FUZZ_CA_FILE")) != NULL && *e != '\0')
        cfg.ca_file = e;
    if ((e = getenv("CD_FUZZ_AT")) != NULL && *e != '\0')
        at = (time_t)strtoll(e, NULL, 10);
    if ((ctx = cv_ctx_new(&cfg, &err)) == NULL) {
        fprintf(stderr, "fuzz_engine: cv_ctx_new: %s\n",
            err != NULL ? err : "?");
        abort();
    }
    return 0;
}

/*
 * The passphrase looks like one (not a word an error message may hold),
 * and the files do not hold it in the clear: a certificate whose issuer
 * name the fuzzer made "...Secr3t!pass" is rightly quoted in findings.
 */
static int
secret_like(const char *p, const struct fuzz_piece *files)
{
    size_t i, len = strlen(p);

    if (len < 10 || strpbrk(p, "!#%@~^{}[]") == NULL ||
        strpbrk(p, "0123456789") == NULL)
        return 0;
    for (i = 0; i < 3; i++)
        if (memmem(files[i].p, files[i].len, p, len) != NULL)
            return 0;
    return 1;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_piece pc[CD_FUZZ_PIECES];
    struct cv_input in;
    struct cv_options opt;
    struct cv_report *rep;
    unsigned flags;
    char *pass;
    size_t i;
    int blocking = 0;

    fuzz_split(data, size, pc);
    flags = pc[4].len > 0 ? pc[4].p[0] : 0;
    pass = fuzz_cstr(&pc[3]);

    memset(&in, 0, sizeof(in));
    if (!(flags & 4)) {
        in.key = pc[0].p;
        in.key_len = pc[0].len;
    }
    if (!(flags & 8)) {
        in.crt = pc[1].p;
        in.crt_len = pc[1].len;
    }
    if (!(flags & 16) && pc[2].present) {
        in.chain = pc[2].p;
        in.chain_len = pc[2].len;
    }
    if (!(flags & 32) && pc[3].present) {
        in.passphrase = (const char *)pc[3].p;
        in.passphrase_len = pc[3].len;
    }
    if (flags & 2)
        in.name = "Fuzz cert 1";
    memset(&opt, 0, sizeof(opt));
    opt.at = at;
    opt.use_crl = 0;
    opt.validation = (flags & 1) ? CV_VALIDATION_NONE :
        CV_VALIDATION_MANDATORY;
    opt.hostname = "sensor.contoso.com";
    opt.fetch_fn = no_fetch;

    rep = cv_validate(ctx, &in, &opt);
    FUZZ_CHECK(rep != NULL);
    for (i = 0; i < rep->n_findings; i++) {
        const struct cv_finding *f = &rep->findings[i];

        FUZZ_CHECK(f->code > CV_OK && f->code < CV_CODE_COUNT);
        FUZZ_CHECK(cv_code_message(f->code) != NULL);
        FUZZ_CHECK(f->code != CV_CRL_UNREACHABLE && f->code != CV_REVOKED);
        if (f->blocking)
            blocking = 1;
        if (f->detail != NULL && in.passphrase != NULL &&
            secret_like(pass, pc))
            FUZZ_CHECK(strstr(f->detail, pass) == NULL);
    }
    FUZZ_CHECK(cv_report_ok(rep) == !blocking);
    if (cv_report_ok(rep)) {
        FUZZ_CHECK(rep->leaf != NULL && rep->key != NULL);
        FUZZ_CHECK(in.crt != NULL);
    } else
        FUZZ_CHECK(rep->leaf == NULL && rep->key == NULL);
    FUZZ_CHECK(memchr(rep->summary.subject, '\0',
        sizeof(rep->summary.subject)) != NULL);
    FUZZ_CHECK(memchr(rep->summary.sha256, '\0',
        sizeof(rep->summary.sha256)) != NULL);
    cv_report_free(rep);
    ERR_clear_error();
    free(pass);
    fuzz_free(pc);
    return 0;
}
