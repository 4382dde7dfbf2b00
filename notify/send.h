/*
 * send.h - telling the channels about the served certificate: a journal
 * line and the webhook, for certdialog-expiry's check and for a test
 * notification (certdialog-expiry --test-notification, POST
 * /api/expiry/test).  Nothing here records what was sent: state.h does.
 */
#ifndef CD_NOTIFY_SEND_H
#define CD_NOTIFY_SEND_H

#include <stddef.h>

#include "expiry.h"
#include "settings.h"

/* What a test notification did on each channel. */
struct cd_send_result {
    int journal_ok;
    int journal_priority;       /* LOG_NOTICE for a test */
    char journal_line[1024];    /* the line without "<N>" and newline */
    char journal_err[128];      /* why it was not written; "" */
    int webhook_configured;     /* "expiry_webhook" is set */
    int webhook_ok;
    int webhook_tries;          /* POSTs made */
    char webhook_err[256];      /* the last attempt's reason; "" */
};

/*
 * Writes one journal line (with its sd-daemon "<N>" prefix and newline)
 * to standard error, which the service units hand to the journal.
 * Returns 0, or -1 with the reason in err (err may be NULL).
 */
int cd_send_journal(const char *line, char *err, size_t errlen);

/*
 * POSTs the webhook JSON about c at threshold t (test: a test
 * notification, t ignored) to "expiry_webhook", retried as webhook.h
 * says within "expiry_webhook_timeout" seconds, or max_seconds when that
 * is smaller and above 0.  An undelivered webhook is also logged at err.
 * *tries (may be NULL) gets the POSTs made.  Returns 0 when delivered,
 * else -1 with the reason in err.  The webhook must be configured.
 */
int cd_send_webhook(const struct cd_settings *s,
    const struct cd_expiry_cert *c, int t, int test, int max_seconds,
    int *tries, char *err, size_t errlen);

/*
 * A test notification about c now, whatever the thresholds: a notice
 * line marked as a test in the journal and, when configured, the webhook
 * with "test": true (max_seconds as for cd_send_webhook()).  The metrics
 * are not written.  Fills r; returns 0 when every configured channel
 * delivered, else -1.
 */
int cd_send_test(const struct cd_settings *s, const struct cd_expiry_cert *c,
    int max_seconds, struct cd_send_result *r);

#endif
