/*
 * acmerun.h - certdialog-fcgi --acme-renew: one renewal over ACME
 * (acmerun.c; linked into certdialog-fcgi only).
 */
#ifndef CD_ACMERUN_H
#define CD_ACMERUN_H

#include "cv.h"
#include "settings.h"

/*
 * Renews when due (or forced) and records the outcome in
 * STATE/acme/status.json.  Returns 0 when nothing was due, another run
 * holds the lock, nothing is set up, or the new certificate is served;
 * 1 when the renewal failed (the served certificate unchanged).
 */
int cd_acme_run(const struct cd_settings *s, struct cv_ctx *cv, int force);

#endif /* CD_ACMERUN_H */
