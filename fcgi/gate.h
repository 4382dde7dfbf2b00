/*
 * gate.h - the one path from a certificate to the served one, shared by
 * an upload (upload.c) and an ACME renewal (acmerun.c): the engine's
 * options from the settings, then the install of what the engine
 * accepted.  No HTTP here.
 */
#ifndef CD_GATE_H
#define CD_GATE_H

#include "crlslots.h"
#include "cv.h"
#include "install.h"
#include "settings.h"

/*
 * The engine's options: the appliance's name, the key policy, the CRL
 * download limits of the settings (slots: the workers' shared download
 * slots, or NULL), use_crl and validation as chosen.
 */
void cd_gate_options(const struct cd_settings *s, struct cd_crl_slots *slots,
    int use_crl, enum cv_validation validation, struct cv_options *opt);
/*
 * Installs what the engine accepted (rep passed cv_report_ok()) under
 * the Certificate Name name: the atomic install, the reload, the
 * handshake check and the rollback of cd_install_release().  Returns 0,
 * or -1 with res->err (the served certificate unchanged).
 */
int cd_gate_install(const struct cd_settings *s, const char *name,
    const struct cv_options *opt, const struct cv_report *rep,
    struct cd_install_result *res);

#endif /* CD_GATE_H */
