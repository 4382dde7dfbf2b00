/*
 * certdialog-check - validates a key, a certificate and a chain offline,
 * with the engine the upload service uses, and prints the same JSON as
 * POST /api/certificate/validate (certdialog-check(1)).
 *
 * Exit status: 0 the upload would be accepted, 1 it would be rejected,
 * 2 a usage or I/O error (message on stderr, nothing on stdout).
 *
 * --print-hosts-line IP prints "IP name" instead, the hosts-file line that
 * makes a certificate's name lead to the appliance (as GET /api/certificate
 * gives it in access.hosts_line).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "cv.h"
#include "cvjson.h"

#define PROG            "certdialog-check"
#define MAX_FILE        (16u * 1024 * 1024)     /* per input file */
#define MAX_AT          253402300799ULL         /* 9999-12-31T23:59:59Z */
#define MAX_CRL_TIMEOUT 600

/* The whole contents of one input file; wiped before it is freed. */
struct file {
    uint8_t *p;                 /* len bytes and a NUL */
    size_t len;
};

static void
usage(FILE *f)
{
    fprintf(f,
        "usage: " PROG " --crt FILE --key FILE [--chain FILE]\n"
        "         [--passphrase-file FILE] [--no-crl] [--crl-file FILE]...\n"
        "         [--validation mandatory|none] [--at UNIX_SECONDS]\n"
        "         [--hostname NAME] [--ca-file FILE] [--ca-dir DIR]\n"
        "         [--extra-ca-dir DIR] [--crl-timeout SECONDS]\n"
        "         [--crl-proxy HOST:PORT] [--crl-allow-loopback]\n"
        "         [--name NAME] [--key-policy rsa|rsa+ec] [--help] [--version]\n"
        "       " PROG " --csr FILE [--key-policy rsa|rsa+ec]\n"
        "       " PROG " --print-hosts-line IP [--crt FILE] [CERTFILE]...\n"
        "Prints the JSON answer of POST /api/certificate/validate on stdout;\n"
        "exits 0 when the upload would be accepted, 1 when it would be\n"
        "rejected, 2 on a usage or I/O error.\n"
        "With --csr FILE, prints a signing request's fields and findings\n"
        "(its signature, subject and key checked, as \"openssl req -verify\")\n"
        "and exits 0 when a certificate for it could be accepted, else 1.\n"
        "With --print-hosts-line IP (IPv4 or IPv6), prints instead the\n"
        "hosts-file line \"IP name\" for each certificate (PEM or DER; name\n"
        "is its first subjectAltName DNS entry, else its CN) and exits 0;\n"
        "exits 2 when IP is not an address or a certificate names no host.\n"
        "The hosts file is C:\\Windows\\System32\\drivers\\etc\\hosts on\n"
        "Windows, /etc/hosts on Linux and macOS.\n");
}

static void
say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* One line on stderr, prefixed with the program's name. */
static void
say(const char *fmt, ...)
{
    va_list ap;

    fputs(PROG ": ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

/* Wipes and frees what f holds. */
static void
file_wipe(struct file *f)
{
    cv_free_secret(f->p, f->p != NULL ? f->len + 1 : 0);
    f->p = NULL;
    f->len = 0;
}

/*
 * Reads the file at path whole into f, at most MAX_FILE bytes (pipes and
 * devices too, for <(...) and /dev/stdin).  Returns 0, or -1 after saying
 * why on stderr.  Caller wipes f with file_wipe() either way.
 */
static int
file_read(const char *path, struct file *f)
{
    f->p = (uint8_t *)cv_read_file(path, MAX_FILE, 0, &f->len);
    if (f->p != NULL)
        return 0;
    if (errno == EFBIG)
        say("%s: larger than the %u MiB limit", path, MAX_FILE >> 20);
    else
        say("cannot read %s: %s", path, strerror(errno));
    return -1;
}

/*
 * Loads every CRL of a file (one DER CRL, or PEM blocks) onto crls.
 * Returns 0, or -1 after saying why on stderr.
 */
static int
load_crls(const char *path, STACK_OF(X509_CRL) *crls)
{
    struct file f = { NULL, 0 };
    const unsigned char *p = NULL;
    X509_CRL *crl = NULL;
    BIO *bio = NULL;
    size_t skip = 0;
    int n = 0, rc = -1;

    if (file_read(path, &f) != 0)
        goto out;
    if (f.len >= 3 && memcmp(f.p, "\xef\xbb\xbf", 3) == 0)
        skip = 3;               /* UTF-8 BOM before a PEM block */
    p = f.p;
    if ((crl = d2i_X509_CRL(NULL, &p, (long)f.len)) != NULL) {
        if (!sk_X509_CRL_push(crls, crl))
            goto out;
        crl = NULL;
        n++;
    } else {
        if ((bio = BIO_new_mem_buf(f.p + skip, (int)(f.len - skip))) == NULL)
            goto out;
        while ((crl = PEM_read_bio_X509_CRL(bio, NULL, NULL, NULL)) != NULL) {
            if (!sk_X509_CRL_push(crls, crl))
                goto out;
            crl = NULL;
            n++;
        }
    }
    if (n > 0)
        rc = 0;
out:
    if (rc != 0 && f.p != NULL)
        say("%s: not a CRL (DER or PEM)", path);
    ERR_clear_error();
    X509_CRL_free(crl);
    BIO_free(bio);
    file_wipe(&f);
    return rc;
}

/*
 * --print-hosts-line: "ip name\n" for each certificate file, all on
 * stdout once every file gave one.  Returns the exit status (0 or 2).
 */
static int
hosts_lines(const char *ip, const char *const *paths, size_t n)
{
    struct file f = { NULL, 0 };
    struct cv_summary sum;
    char name[256], *out = NULL, *tmp;
    size_t i, len = 0, add;
    int rc = 2;

    for (i = 0; i < n; i++) {
        if (file_read(paths[i], &f) != 0)
            goto out;
        if (cv_cert_summary(f.p, f.len, 0, &sum) != 0) {
            say("%s: no certificate can be read from it (PEM or DER)",
                paths[i]);
            goto out;
        }
        file_wipe(&f);
        if (cv_summary_host_name(&sum, name, sizeof(name)) != 0) {
            say("%s: the certificate names no DNS host (no subjectAltName "
                "DNS entry and no host name as CN), so no hosts-file line "
                "can reach it by name", paths[i]);
            goto out;
        }
        add = strlen(ip) + 1 + strlen(name) + 1;
        if ((tmp = realloc(out, len + add + 1)) == NULL) {
            say("out of memory");
            goto out;
        }
        out = tmp;
        if ((size_t)snprintf(out + len, add + 1, "%s %s\n", ip, name) !=
            add) {
            say("out of memory");
            goto out;
        }
        len += add;
    }
    if (fwrite(out, 1, len, stdout) != len || fflush(stdout) != 0) {
        say("cannot write the answer: %s", strerror(errno));
        goto out;
    }
    rc = 0;
out:
    file_wipe(&f);
    free(out);
    return rc;
}

/*
 * Prints j (a report's JSON, NULL when it could not be made) on stdout and
 * frees it.  Returns the exit status: 0 when rep has no error, 1 when it
 * has, 2 when the answer could not be made or written.
 */
static int
print_answer(const struct cv_report *rep, json_t *j)
{
    char *text = NULL;
    int rc = 2;

    if (rep == NULL || j == NULL || (text = cvjson_dumps(j)) == NULL)
        say("out of memory");
    else if (fputs(text, stdout) == EOF || fflush(stdout) != 0)
        say("cannot write the answer: %s", strerror(errno));
    else
        rc = cv_report_ok(rep) ? 0 : 1;
    free(text);
    json_decref(j);
    return rc;
}

/* --csr: the request's JSON on stdout; the exit status (0, 1 or 2). */
static int
check_csr(const char *path, int allow_ec)
{
    struct file f = { NULL, 0 };
    struct cv_csr_summary sum;
    struct cv_report *rep;
    int rc;

    if (file_read(path, &f) != 0)
        return 2;
    rep = cv_csr_check(f.p, f.len, allow_ec, &sum);
    rc = print_answer(rep, rep != NULL ? cvjson_csr_report(rep, &sum) : NULL);
    cv_report_free(rep);
    file_wipe(&f);
    return rc;
}

int
main(int argc, char **argv)
{
    static const struct option longopts[] = {
        { "crt",             required_argument, NULL, 'c' },
        { "key",             required_argument, NULL, 'k' },
        { "chain",           required_argument, NULL, 'C' },
        { "passphrase-file", required_argument, NULL, 'p' },
        { "no-crl",          no_argument,       NULL, 'n' },
        { "crl-file",        required_argument, NULL, 'r' },
        { "validation",      required_argument, NULL, 'v' },
        { "at",              required_argument, NULL, 'a' },
        { "hostname",        required_argument, NULL, 'H' },
        { "ca-file",         required_argument, NULL, 'f' },
        { "ca-dir",          required_argument, NULL, 'd' },
        { "extra-ca-dir",    required_argument, NULL, 'e' },
        { "crl-timeout",     required_argument, NULL, 't' },
        { "crl-proxy",       required_argument, NULL, 'P' },
        { "crl-allow-loopback", no_argument,    NULL, 'l' },
        { "name",            required_argument, NULL, 'N' },
        { "print-hosts-line", required_argument, NULL, 'L' },
        { "csr",             required_argument, NULL, 'R' },
        { "key-policy",      required_argument, NULL, 'K' },
        { "help",            no_argument,       NULL, 'h' },
        { "version",         no_argument,       NULL, 'V' },
        { NULL, 0, NULL, 0 }
    };
    const char *crt = NULL, *key = NULL, *chain = NULL, *passfile = NULL;
    const char *hosts_ip = NULL, *csr = NULL, **paths = NULL;
    struct file fcrt = { NULL, 0 }, fkey = { NULL, 0 };
    struct file fchain = { NULL, 0 }, fpass = { NULL, 0 };
    struct cv_config cfg;
    struct cv_options opt;
    struct cv_input in;
    struct cv_ctx *ctx = NULL;
    struct cv_report *rep = NULL;
    STACK_OF(X509_CRL) *crls = NULL;
    char *cverr = NULL;
    uint64_t num = 0;
    size_t pl = 0;
    int c, rc = 2, show_usage = 0;

    memset(&cfg, 0, sizeof(cfg));
    memset(&opt, 0, sizeof(opt));
    memset(&in, 0, sizeof(in));
    opt.use_crl = 1;
    opt.validation = CV_VALIDATION_MANDATORY;
    if ((crls = sk_X509_CRL_new_null()) == NULL) {
        say("out of memory");
        goto out;
    }
    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (c) {
        case 'c':
            crt = optarg;
            break;
        case 'k':
            key = optarg;
            break;
        case 'C':
            chain = optarg;
            break;
        case 'p':
            passfile = optarg;
            break;
        case 'n':
            opt.use_crl = 0;
            break;
        case 'r':
            if (load_crls(optarg, crls) != 0)
                goto out;
            break;
        case 'v':
            if (strcmp(optarg, "mandatory") == 0)
                opt.validation = CV_VALIDATION_MANDATORY;
            else if (strcmp(optarg, "none") == 0)
                opt.validation = CV_VALIDATION_NONE;
            else {
                say("--validation takes mandatory or none, not '%s'",
                    optarg);
                show_usage = 1;
                goto out;
            }
            break;
        case 'a':
            if (cv_parse_uint(optarg, strlen(optarg), MAX_AT, &num) != 0 ||
                num == 0) {
                say("--at takes unix seconds (1 to %llu), not '%s'",
                    MAX_AT, optarg);
                show_usage = 1;
                goto out;
            }
            opt.at = (time_t)num;
            break;
        case 'H':
            opt.hostname = optarg;
            break;
        case 'f':
            cfg.ca_file = optarg;
            cfg.no_default_ca = 1;
            break;
        case 'd':
            cfg.ca_dir = optarg;
            cfg.no_default_ca = 1;
            break;
        case 'e':
            cfg.extra_ca_dir = optarg;
            break;
        case 't':
            if (cv_parse_uint(optarg, strlen(optarg), MAX_CRL_TIMEOUT,
                &num) != 0 || num == 0) {
                say("--crl-timeout takes 1 to %d seconds, not '%s'",
                    MAX_CRL_TIMEOUT, optarg);
                show_usage = 1;
                goto out;
            }
            opt.fetch.timeout = (int)num;
            break;
        case 'P':
            opt.fetch.proxy = optarg;
            break;
        case 'l':
            opt.fetch.allow_loopback = 1;
            break;
        case 'N':
            in.name = optarg;
            break;
        case 'R':
            csr = optarg;
            break;
        case 'K':
            if (strcmp(optarg, "rsa") != 0 && strcmp(optarg, "rsa+ec") != 0) {
                say("--key-policy takes rsa or rsa+ec, not '%s'", optarg);
                show_usage = 1;
                goto out;
            }
            opt.allow_ec = strcmp(optarg, "rsa+ec") == 0;
            break;
        case 'L':
            if (!cv_is_ip(optarg)) {
                say("--print-hosts-line takes an IPv4 or IPv6 address, not "
                    "'%s'", optarg);
                show_usage = 1;
                goto out;
            }
            hosts_ip = optarg;
            break;
        case 'h':
            usage(stdout);
            rc = 0;
            goto out;
        case 'V':
            printf("%s %s\n", PROG, PACKAGE_VERSION);
            rc = 0;
            goto out;
        default:
            /* getopt_long has said what was wrong */
            show_usage = 1;
            goto out;
        }
    }
    if (hosts_ip != NULL) {
        /* the certificates: --crt, then the operands */
        size_t n = 0;

        if ((paths = calloc((size_t)argc + 1, sizeof(*paths))) == NULL) {
            say("out of memory");
            goto out;
        }
        if (crt != NULL)
            paths[n++] = crt;
        while (optind < argc)
            paths[n++] = argv[optind++];
        if (n == 0) {
            say("--print-hosts-line needs a certificate: --crt FILE or "
                "CERTFILE");
            show_usage = 1;
            goto out;
        }
        rc = hosts_lines(hosts_ip, paths, n);
        goto out;
    }
    if (optind < argc) {
        say("unexpected argument '%s'", argv[optind]);
        show_usage = 1;
        goto out;
    }
    if (csr != NULL) {
        if (crt != NULL || key != NULL || chain != NULL) {
            say("--csr takes no --crt, --key or --chain");
            show_usage = 1;
            goto out;
        }
        rc = check_csr(csr, opt.allow_ec);
        goto out;
    }
    if (crt == NULL) {
        say("--crt FILE is required");
        show_usage = 1;
        goto out;
    }
    if (file_read(crt, &fcrt) != 0 ||
        (key != NULL && file_read(key, &fkey) != 0) ||
        (chain != NULL && file_read(chain, &fchain) != 0) ||
        (passfile != NULL && file_read(passfile, &fpass) != 0))
        goto out;
    /* one trailing "\n" or "\r\n", as an editor or echo leaves it */
    pl = fpass.len;
    if (pl > 0 && fpass.p[pl - 1] == '\n') {
        pl--;
        if (pl > 0 && fpass.p[pl - 1] == '\r')
            pl--;
    }

    in.crt = fcrt.p;
    in.crt_len = fcrt.len;
    in.key = fkey.p;            /* NULL when --key is absent: missing */
    in.key_len = fkey.len;
    in.chain = fchain.p;
    in.chain_len = fchain.len;
    in.passphrase = passfile != NULL ? (const char *)fpass.p : NULL;
    in.passphrase_len = pl;
    opt.offline_crls = crls;

    if ((ctx = cv_ctx_new(&cfg, &cverr)) == NULL) {
        say("%s", cverr != NULL ? cverr : "cannot load the trust anchors");
        goto out;
    }
    rep = cv_validate(ctx, &in, &opt);
    rc = print_answer(rep, rep != NULL ? cvjson_report(rep) : NULL);
out:
    if (show_usage)
        usage(stderr);
    free(paths);
    cv_report_free(rep);
    cv_ctx_free(ctx);
    free(cverr);
    sk_X509_CRL_pop_free(crls, X509_CRL_free);
    file_wipe(&fkey);
    file_wipe(&fpass);
    file_wipe(&fcrt);
    file_wipe(&fchain);
    return rc;
}
