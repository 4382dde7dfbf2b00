/*
 * gate.c - the engine's options and the install of an accepted
 * certificate, the same for an upload and an ACME renewal (gate.h).
 */
#include "config.h"

#include "gate.h"

#include <stdio.h>
#include <string.h>

void
cd_gate_options(const struct cd_settings *s, struct cd_crl_slots *slots,
    int use_crl, enum cv_validation validation, struct cv_options *opt)
{
    memset(opt, 0, sizeof(*opt));
    opt->use_crl = use_crl;
    opt->validation = validation;
    opt->hostname = s->hostname;
    opt->allow_ec = cd_settings_allow_ec(s);
    opt->fetch.timeout = s->crl_timeout;
    opt->fetch.max_size = s->crl_max_size;
    opt->fetch.proxy = s->crl_proxy;
    opt->fetch.allow_loopback = s->crl_allow_loopback;
    opt->fetch.denied = s->crl_denied;
    opt->fetch.n_denied = s->n_crl_denied;
    if (slots != NULL) {
        opt->fetch_fn = cd_crl_slots_fetch;
        opt->fetch_arg = slots;
    }
}

int
cd_gate_install(const struct cd_settings *s, const char *name,
    const struct cv_options *opt, const struct cv_report *rep,
    struct cd_install_result *res)
{
    struct cd_install_files f = {
        .name = name, .mode = "ca-signed",
        .validation = opt->validation == CV_VALIDATION_NONE ?
            "none" : "mandatory",
        .use_crl = opt->use_crl, .key = rep->key, .leaf = rep->leaf,
        .path = rep->path,
    };

    memset(res, 0, sizeof(*res));
    if (rep->key == NULL || rep->leaf == NULL) {
        snprintf(res->err, sizeof(res->err), "%s",
            "the engine did not accept the certificate");
        return -1;
    }
    return cd_install_release(s, &f, res);
}
