/*
 * certdialog-check - validates a key, a certificate and a chain offline,
 * with the engine the upload service uses, and prints the same JSON as
 * POST /api/certificate/validate (SPEC §5).
 *
 * Exit status: 0 the upload would be accepted, 1 it would be rejected,
 * 2 a usage or I/O error (message on stderr).
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "cv.h"
#include "reply.h"

#define MAX_FILE (16u * 1024 * 1024)

static void
usage(FILE *f)
{
    fprintf(f,
        "usage: certdialog-check --crt FILE --key FILE [--chain FILE]\n"
        "         [--passphrase-file FILE] [--no-crl] [--crl-file FILE]...\n"
        "         [--validation mandatory|none] [--at UNIX_SECONDS]\n"
        "         [--hostname NAME] [--ca-file FILE] [--ca-dir DIR]\n"
        "         [--extra-ca-dir DIR] [--crl-timeout SECONDS]\n"
        "         [--crl-proxy HOST:PORT] [--name NAME]\n"
        "Prints the JSON answer of POST /api/certificate/validate; exits 0 "
        "when the\nupload would be accepted, 1 when rejected, 2 on a usage "
        "or I/O error.\n");
}

static int
die(const char *fmt, const char *arg)
{
    fprintf(stderr, "certdialog-check: ");
    fprintf(stderr, fmt, arg);
    fputc('\n', stderr);
    return 2;
}

/* Digits only, no sign, no overflow past max. */
static int
parse_num(const char *s, unsigned long long max, unsigned long long *out)
{
    unsigned long long v = 0;
    size_t i;

    if (s == NULL || *s == '\0' || strlen(s) > 20)
        return -1;
    for (i = 0; s[i] != '\0'; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        if (v > (max - (unsigned)(s[i] - '0')) / 10)
            return -1;
        v = v * 10 + (unsigned)(s[i] - '0');
    }
    *out = v;
    return 0;
}

/* Reads a whole file (at most MAX_FILE bytes); caller frees via wipe(). */
static uint8_t *
slurp(const char *path, size_t *lenp)
{
    FILE *f = fopen(path, "rb");
    uint8_t *buf = NULL, *nb;
    size_t len = 0, cap = 0, n;

    *lenp = 0;
    if (f == NULL)
        return NULL;
    for (;;) {
        if (cap - len < 65536) {
            cap = cap ? cap * 2 : 65536;
            if (cap > MAX_FILE + 65536 ||
                (nb = realloc(buf, cap)) == NULL) {
                errno = EFBIG;
                goto fail;
            }
            buf = nb;
        }
        n = fread(buf + len, 1, cap - len, f);
        len += n;
        if (len > MAX_FILE) {
            errno = EFBIG;
            goto fail;
        }
        if (n == 0)
            break;
    }
    if (ferror(f))
        goto fail;
    fclose(f);
    *lenp = len;
    return buf != NULL ? buf : calloc(1, 1);
fail:
    if (buf != NULL)
        OPENSSL_cleanse(buf, cap);
    free(buf);
    fclose(f);
    return NULL;
}

static void
wipe(uint8_t *p, size_t len)
{
    if (p == NULL)
        return;
    OPENSSL_cleanse(p, len);
    free(p);
}

/* Every CRL (DER, or PEM blocks) of a file onto crls; -1 when none. */
static int
load_crls(const char *path, STACK_OF(X509_CRL) *crls)
{
    size_t len;
    uint8_t *buf = slurp(path, &len);
    const unsigned char *p = buf;
    X509_CRL *c;
    BIO *bio;
    int n = 0;

    if (buf == NULL)
        return -1;
    if ((c = d2i_X509_CRL(NULL, &p, (long)len)) != NULL) {
        if (sk_X509_CRL_push(crls, c))
            n++;
        else
            X509_CRL_free(c);
    } else if ((bio = BIO_new_mem_buf(buf, (int)len)) != NULL) {
        while ((c = PEM_read_bio_X509_CRL(bio, NULL, NULL, NULL)) != NULL) {
            if (!sk_X509_CRL_push(crls, c)) {
                X509_CRL_free(c);
                break;
            }
            n++;
        }
        BIO_free(bio);
    }
    ERR_clear_error();
    free(buf);
    return n > 0 ? 0 : -1;
}

int
main(int argc, char **argv)
{
    static const struct option longopts[] = {
        { "crt", required_argument, NULL, 'c' },
        { "key", required_argument, NULL, 'k' },
        { "chain", required_argument, NULL, 'C' },
        { "passphrase-file", required_argument, NULL, 'p' },
        { "no-crl", no_argument, NULL, 'n' },
        { "crl-file", required_argument, NULL, 'r' },
        { "validation", required_argument, NULL, 'v' },
        { "at", required_argument, NULL, 'a' },
        { "hostname", required_argument, NULL, 'H' },
        { "ca-file", required_argument, NULL, 'f' },
        { "ca-dir", required_argument, NULL, 'd' },
        { "extra-ca-dir", required_argument, NULL, 'e' },
        { "crl-timeout", required_argument, NULL, 't' },
        { "crl-proxy", required_argument, NULL, 'P' },
        { "name", required_argument, NULL, 'N' },
        { "help", no_argument, NULL, 'h' },
        { "version", no_argument, NULL, 'V' },
        { NULL, 0, NULL, 0 }
    };
    const char *crt = NULL, *key = NULL, *chain = NULL, *passfile = NULL;
    struct cv_config cfg;
    struct cv_options opt;
    struct cv_input in;
    struct cv_ctx *ctx = NULL;
    struct cv_report *rep = NULL;
    STACK_OF(X509_CRL) *crls = NULL;
    uint8_t *kb = NULL, *cb = NULL, *hb = NULL, *pb = NULL;
    size_t kl = 0, cl = 0, hl = 0, pl = 0;
    unsigned long long num;
    char *cverr = NULL, *text = NULL;
    json_t *j = NULL;
    int c, rc = 2;

    memset(&cfg, 0, sizeof(cfg));
    memset(&opt, 0, sizeof(opt));
    memset(&in, 0, sizeof(in));
    opt.use_crl = 1;
    if ((crls = sk_X509_CRL_new_null()) == NULL)
        return die("%s", "out of memory");
    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (c) {
        case 'c': crt = optarg; break;
        case 'k': key = optarg; break;
        case 'C': chain = optarg; break;
        case 'p': passfile = optarg; break;
        case 'n': opt.use_crl = 0; break;
        case 'r':
            if (load_crls(optarg, crls) != 0) {
                rc = die("cannot read a CRL from %s", optarg);
                goto out;
            }
            break;
        case 'v':
            if (strcmp(optarg, "mandatory") == 0)
                opt.validation = CV_VALIDATION_MANDATORY;
            else if (strcmp(optarg, "none") == 0)
                opt.validation = CV_VALIDATION_NONE;
            else {
                rc = die("--validation takes mandatory or none, not %s",
                    optarg);
                goto usage;
            }
            break;
        case 'a':
            if (parse_num(optarg, 253402300799ULL, &num) != 0 || num == 0) {
                rc = die("--at takes unix seconds, not %s", optarg);
                goto usage;
            }
            opt.at = (time_t)num;
            break;
        case 'H': opt.hostname = optarg; break;
        case 'f': cfg.ca_file = optarg; cfg.no_default_ca = 1; break;
        case 'd': cfg.ca_dir = optarg; cfg.no_default_ca = 1; break;
        case 'e': cfg.extra_ca_dir = optarg; break;
        case 't':
            if (parse_num(optarg, 600, &num) != 0 || num == 0) {
                rc = die("--crl-timeout takes 1 to 600 seconds, not %s",
                    optarg);
                goto usage;
            }
            opt.fetch.timeout = (int)num;
            break;
        case 'P': opt.fetch.proxy = optarg; break;
        case 'N': in.name = optarg; break;
        case 'h': usage(stdout); rc = 0; goto out;
        case 'V': printf("certdialog-check %s\n", PACKAGE_VERSION); rc = 0;
            goto out;
        default:
            goto usage;
        }
    }
    if (optind != argc) {
        rc = die("unexpected argument: %s", argv[optind]);
        goto usage;
    }
    if (crt == NULL) {
        rc = die("%s", "--crt FILE is required");
        goto usage;
    }
    if ((cb = slurp(crt, &cl)) == NULL) {
        rc = die("cannot read %s", crt);
        goto out;
    }
    if (key != NULL && (kb = slurp(key, &kl)) == NULL) {
        rc = die("cannot read %s", key);
        goto out;
    }
    if (chain != NULL && (hb = slurp(chain, &hl)) == NULL) {
        rc = die("cannot read %s", chain);
        goto out;
    }
    if (passfile != NULL) {
        if ((pb = slurp(passfile, &pl)) == NULL) {
            rc = die("cannot read %s", passfile);
            goto out;
        }
        if (pl > 0 && pb[pl - 1] == '\n')
            pl--;
        if (pl > 0 && pb[pl - 1] == '\r')
            pl--;
    }
    in.crt = cb;
    in.crt_len = cl;
    in.key = kb;
    in.key_len = kl;
    in.chain = hb;
    in.chain_len = hl;
    in.passphrase = (const char *)pb;
    in.passphrase_len = pl;
    opt.offline_crls = crls;
    if ((ctx = cv_ctx_new(&cfg, &cverr)) == NULL) {
        rc = die("%s", cverr != NULL ? cverr : "out of memory");
        goto out;
    }
    if ((rep = cv_validate(ctx, &in, &opt)) == NULL ||
        (j = cd_reply_report(rep)) == NULL ||
        (text = cd_reply_dumps(j)) == NULL) {
        rc = die("%s", "out of memory");
        goto out;
    }
    fputs(text, stdout);
    rc = cv_report_ok(rep) ? 0 : 1;
    goto out;
usage:
    usage(stderr);
out:
    free(text);
    json_decref(j);
    cv_report_free(rep);
    cv_ctx_free(ctx);
    free(cverr);
    sk_X509_CRL_pop_free(crls, X509_CRL_free);
    wipe(kb, kl);
    wipe(cb, cl);
    wipe(hb, hl);
    wipe(pb, pl);
    if (fflush(stdout) != 0 && rc != 2)
        rc = die("%s", "cannot write the answer");
    return rc;
}
