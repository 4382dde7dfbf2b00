/*
 * run_limbo - the x509-limbo server cases (tests/conformance/limbo/, from
 * C2SP/x509-limbo, Apache-2.0) through the engine, as
 * tests/conformance/limbo/README.md maps a case onto certdialog: anchors
 * roots.pem, chain intermediates.pem, CRLs crls.pem given offline, time
 * validation_time_unix, host name expected_peer_name.
 *
 * A case is judged by the trust findings only: chain, time, revocation,
 * purpose, names, and key strength where the case is about key strength.
 * The appliance's own policy (RSA-only keys, SHA256RSA, C/O/OU in the
 * subject, no wildcard CN, http:// CRL DPs) is not path validation.
 *
 * Every case whose result differs from limbo's must be listed in
 * limbo-deliberate.txt (a difference on purpose, with its reason) or in
 * limbo-defects.txt (a known defect, reported but not failed); any other
 * difference fails, and so does a listed case that now agrees (the list is
 * stale).  Prints "limbo: N/M agree".
 *
 * usage: run_limbo [SRCDIR]   (default $CD_TOP_SRCDIR, else ".")
 *        CD_LIMBO_VERBOSE=1   prints the findings of every case
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "cv.h"

#define MAX_FILE        (4u * 1024 * 1024)
#define MAX_LIST        256
#define MAX_FIELDS      8

enum { F_DIR, F_ID, F_EXPECTED, F_TIME, F_FEATURES, F_PEER, F_HAS_KEY,
    F_N_CRLS };

struct list {
    char *id[MAX_LIST];
    int seen[MAX_LIST];
    size_t n;
};

static const char *srcdir = ".";
static int verbose;

/* Reads srcdir/tests/conformance/rel (rel may hold a case dir). */
static char *
read_rel(const char *rel, size_t *lenp)
{
    char path[4096];
    size_t len;
    char *p;

    snprintf(path, sizeof(path), "%s/tests/conformance/%s", srcdir, rel);
    p = cv_read_file(path, MAX_FILE, CV_READ_REGULAR, &len);
    if (lenp != NULL)
        *lenp = len;
    return p;
}

/* Reads a list file: the first word of each line not empty or '#'. */
static int
list_load(const char *rel, struct list *l)
{
    char *buf, *line, *nl, *end;
    size_t len;

    memset(l, 0, sizeof(*l));
    if ((buf = read_rel(rel, &len)) == NULL) {
        fprintf(stderr, "run_limbo: %s: %s\n", rel, strerror(errno));
        return -1;
    }
    for (line = buf; line < buf + len; line = nl + 1) {
        if ((nl = memchr(line, '\n', buf + len - line)) == NULL)
            nl = buf + len;
        *nl = '\0';
        if (line[0] == '#' || line[0] == '\0' || line[0] == ' ' ||
            line[0] == '\t')
            continue;
        for (end = line; *end != '\0' && *end != ' ' && *end != '\t'; end++)
            ;
        *end = '\0';
        if (l->n == MAX_LIST || (l->id[l->n] = strdup(line)) == NULL) {
            free(buf);
            return -1;
        }
        l->n++;
    }
    free(buf);
    return 0;
}

static int
list_has(struct list *l, const char *id)
{
    size_t i;

    for (i = 0; i < l->n; i++)
        if (strcmp(l->id[i], id) == 0) {
            l->seen[i] = 1;
            return 1;
        }
    return 0;
}

static void
list_free(struct list *l)
{
    size_t i;

    for (i = 0; i < l->n; i++)
        free(l->id[i]);
}

/*
 * A case about key strength: weak_key counts, on the certificate named
 * ("": on any).
 */
static const char *
key_case_field(const char *id)
{
    if (strstr(id, "explicit-curve") != NULL)
        return "";
    if (strstr(id, "forbidden-") == NULL)
        return NULL;
    if (strstr(id, "-leaf") != NULL)
        return "crt";
    if (strstr(id, "-root") != NULL)
        return "chain";
    return NULL;
}

/* 1 when the finding says the path is not valid, as limbo judges it. */
static int
is_trust_failure(const struct cv_finding *f, const char *id)
{
    const char *kf;

    switch (f->code) {
    case CV_NAME_MISMATCH:
        return 1;               /* a warning for the appliance; a failure */
    case CV_SIGNATURE_ALGORITHM:
    case CV_SUBJECT_INCOMPLETE:
    case CV_WILDCARD_CN:
    case CV_CRL_NOT_HTTP:
    case CV_MISSING_FIELD:
        return 0;               /* the appliance's policy */
    case CV_WEAK_KEY:
        kf = key_case_field(id);
        return kf != NULL && f->field != NULL &&
            (kf[0] == '\0' || strcmp(f->field, kf) == 0);
    default:
        return f->blocking;
    }
}

/* Every CRL of a PEM file onto a new stack; NULL when there is no file. */
static STACK_OF(X509_CRL) *
load_crls(const char *dir)
{
    STACK_OF(X509_CRL) *sk = NULL;
    X509_CRL *crl;
    char rel[1024], *buf;
    size_t len;
    BIO *bio;

    snprintf(rel, sizeof(rel), "limbo/cases/%s/crls.pem", dir);
    if ((buf = read_rel(rel, &len)) == NULL)
        return NULL;
    if ((bio = BIO_new_mem_buf(buf, (int)len)) != NULL &&
        (sk = sk_X509_CRL_new_null()) != NULL)
        while ((crl = PEM_read_bio_X509_CRL(bio, NULL, NULL, NULL)) != NULL)
            if (!sk_X509_CRL_push(sk, crl))
                X509_CRL_free(crl);
    ERR_clear_error();
    BIO_free(bio);
    free(buf);
    return sk;
}

/* Never goes to the network: a case's CRLs are given offline. */
static enum cv_fetch_result
no_fetch(const char *url, const struct cv_fetch_opts *fo, void *arg,
    X509_CRL **crlp, char *detail, size_t dlen)
{
    (void)url;
    (void)fo;
    (void)arg;
    *crlp = NULL;
    snprintf(detail, dlen, "offline");
    return CV_FETCH_UNREACHABLE;
}

/*
 * Runs one case.  Returns 1 when certdialog accepts it, 0 when it rejects
 * it, -1 when the case cannot be run.  *codesp gets the findings as text.
 */
static int
run_case(char **f, char *codes, size_t clen)
{
    struct cv_config cfg;
    struct cv_input in;
    struct cv_options opt;
    struct cv_ctx *ctx = NULL;
    struct cv_report *rep = NULL;
    STACK_OF(X509_CRL) *crls = NULL;
    char rel[1024], roots[4096], *err = NULL, *crt = NULL, *key = NULL;
    char *chain = NULL;
    size_t crt_len = 0, key_len = 0, chain_len = 0, i, off = 0;
    uint64_t t = 0;
    int rc = -1, ok = 1;

    codes[0] = '\0';
    snprintf(roots, sizeof(roots), "%s/tests/conformance/limbo/cases/%s/"
        "roots.pem", srcdir, f[F_DIR]);
    memset(&cfg, 0, sizeof(cfg));
    cfg.ca_file = roots;
    cfg.no_default_ca = 1;
    if ((ctx = cv_ctx_new(&cfg, &err)) == NULL) {
        snprintf(codes, clen, "no context: %s", err ? err : "?");
        goto out;
    }
    snprintf(rel, sizeof(rel), "limbo/cases/%s/leaf.crt", f[F_DIR]);
    if ((crt = read_rel(rel, &crt_len)) == NULL)
        goto out;
    snprintf(rel, sizeof(rel), "limbo/cases/%s/intermediates.pem", f[F_DIR]);
    chain = read_rel(rel, &chain_len);
    if (strcmp(f[F_HAS_KEY], "1") == 0) {
        snprintf(rel, sizeof(rel), "limbo/cases/%s/leaf.key", f[F_DIR]);
        key = read_rel(rel, &key_len);
    }
    memset(&in, 0, sizeof(in));
    in.crt = (uint8_t *)crt;
    in.crt_len = crt_len;
    in.key = (uint8_t *)key;
    in.key_len = key_len;
    if (chain != NULL && chain_len > 0) {
        in.chain = (uint8_t *)chain;
        in.chain_len = chain_len;
    }
    memset(&opt, 0, sizeof(opt));
    if (f[F_TIME][0] != '\0' &&
        cv_parse_uint(f[F_TIME], strlen(f[F_TIME]), UINT32_MAX, &t) != 0)
        goto out;
    opt.at = (time_t)t;
    opt.validation = CV_VALIDATION_MANDATORY;
    opt.fetch_fn = no_fetch;
    if (strcmp(f[F_N_CRLS], "0") != 0) {
        crls = load_crls(f[F_DIR]);
        opt.offline_crls = crls;
        opt.use_crl = 1;
    }
    if (strncmp(f[F_PEER], "DNS:", 4) == 0 ||
        strncmp(f[F_PEER], "IP:", 3) == 0)
        opt.hostname = strchr(f[F_PEER], ':') + 1;
    if ((rep = cv_validate(ctx, &in, &opt)) == NULL)
        goto out;
    for (i = 0; i < rep->n_findings; i++) {
        const struct cv_finding *fd = &rep->findings[i];
        int fail = is_trust_failure(fd, f[F_ID]);

        if (fail)
            ok = 0;
        if (off < clen)
            off += snprintf(codes + off, clen - off, "%s%s%s/%s%s%s%s",
                off ? " " : "", fail ? "!" : "", cv_code_name(fd->code),
                fd->field ? fd->field : "-", verbose && fd->detail ? "(" :
                "", verbose && fd->detail ? fd->detail : "",
                verbose && fd->detail ? ")" : "");
    }
    rc = ok;
out:
    cv_report_free(rep);
    cv_ctx_free(ctx);
    if (err != NULL)
        free(err);
    sk_X509_CRL_pop_free(crls, X509_CRL_free);
    free(crt);
    free(chain);
    cv_free_secret(key, key != NULL ? key_len + 1 : 0);
    return rc;
}

/* Splits a tab-separated line in place into at most MAX_FIELDS fields. */
static int
split_tabs(char *line, char **f)
{
    int n = 0;

    f[n++] = line;
    for (; *line != '\0'; line++)
        if (*line == '\t') {
            *line = '\0';
            if (n == MAX_FIELDS)
                return -1;
            f[n++] = line + 1;
        }
    return n;
}

/*
 * LeakSanitizer (the sanitizer build): OpenSSL 3.0 itself leaks 42 bytes
 * in its policy tree for one limbo case (rfc5280::pc::ica-noncritical-pc;
 * fixed upstream), with no symbols to name it by.  Leaks inside libcrypto
 * are not looked for in this runner; test_engine runs the same engine
 * under the sanitizers without any suppression.
 */
const char *__lsan_default_suppressions(void);

const char *
__lsan_default_suppressions(void)
{
    return "leak:libcrypto.so\n";
}

int
main(int argc, char **argv)
{
    struct list delib, defects;
    char *buf = NULL, *line, *nl, *f[MAX_FIELDS], codes[4096];
    size_t len, i;
    int r, total = 0, agree = 0, n_delib = 0, n_defect = 0, bad = 0;

    if (argc > 1)
        srcdir = argv[1];
    else if (getenv("CD_TOP_SRCDIR") != NULL)
        srcdir = getenv("CD_TOP_SRCDIR");
    verbose = getenv("CD_LIMBO_VERBOSE") != NULL;
    if (list_load("limbo-deliberate.txt", &delib) != 0 ||
        list_load("limbo-defects.txt", &defects) != 0)
        return 99;
    if ((buf = read_rel("limbo/cases/index.tsv", &len)) == NULL) {
        fprintf(stderr, "run_limbo: index.tsv: %s\n", strerror(errno));
        return 99;
    }
    for (line = buf; line < buf + len; line = nl + 1) {
        const char *exp, *got, *why;

        if ((nl = memchr(line, '\n', buf + len - line)) == NULL)
            nl = buf + len;
        *nl = '\0';
        if (line[0] == '\0' || strncmp(line, "dir\t", 4) == 0)
            continue;
        if (split_tabs(line, f) != MAX_FIELDS) {
            fprintf(stderr, "run_limbo: bad index line: %s\n", line);
            bad++;
            continue;
        }
        total++;
        r = run_case(f, codes, sizeof(codes));
        exp = f[F_EXPECTED];
        got = r == 1 ? "SUCCESS" : "FAILURE";
        if (r < 0) {
            printf("ERROR %s: cannot run (%s)\n", f[F_ID], codes);
            bad++;
            continue;
        }
        if (strcmp(exp, got) == 0) {
            agree++;
            if (list_has(&delib, f[F_ID]) || list_has(&defects, f[F_ID])) {
                printf("STALE %s: agrees now (%s) but is listed\n", f[F_ID],
                    got);
                bad++;
            } else if (verbose)
                printf("ok    %s: %s [%s]\n", f[F_ID], got, codes);
            continue;
        }
        if (list_has(&delib, f[F_ID])) {
            n_delib++;
            why = "deliberate";
        } else if (list_has(&defects, f[F_ID])) {
            n_defect++;
            why = "KNOWN DEFECT";
        } else {
            bad++;
            why = "FAIL";
        }
        printf("%-5.5s %s: limbo %s, certdialog %s [%s]\n",
            strcmp(why, "deliberate") == 0 ? "diff" :
            strcmp(why, "FAIL") == 0 ? "FAIL" : "known", f[F_ID], exp, got,
            codes);
    }
    for (i = 0; i < delib.n; i++)
        if (!delib.seen[i]) {
            printf("STALE %s: in limbo-deliberate.txt, not a case\n",
                delib.id[i]);
            bad++;
        }
    for (i = 0; i < defects.n; i++)
        if (!defects.seen[i]) {
            printf("STALE %s: in limbo-defects.txt, not a case\n",
                defects.id[i]);
            bad++;
        }
    printf("limbo: %d/%d agree; %d deliberate differences, %d known "
        "defects, %d failures\n", agree, total, n_delib, n_defect, bad);
    free(buf);
    list_free(&delib);
    list_free(&defects);
    return bad == 0 && total > 0 ? 0 : 1;
}
