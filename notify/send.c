/*
 * send.c - the journal line and the webhook of an expiry notification
 * (send.h), shared by certdialog-expiry and certdialog-fcgi's test
 * notification.
 */
#include "config.h"

#include "send.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "webhook.h"

int
cd_send_journal(const char *line, char *err, size_t errlen)
{
    /* stderr is unbuffered: a failed write shows in fputs or fflush */
    if (fputs(line, stderr) == EOF || fflush(stderr) == EOF) {
        if (err != NULL)
            snprintf(err, errlen, "standard error cannot be written: %s",
                strerror(errno));
        clearerr(stderr);
        return -1;
    }
    return 0;
}

int
cd_send_webhook(const struct cd_settings *s, const struct cd_expiry_cert *c,
    int t, int test, int max_seconds, int *tries, char *err, size_t errlen)
{
    struct cd_webhook w;
    char line[600];
    char *body;
    int n = 0, rc;

    if (tries != NULL)
        *tries = 0;
    if (s->expiry_webhook == NULL) {
        snprintf(err, errlen, "no webhook is configured");
        return -1;
    }
    if ((body = cd_expiry_payload(c, s->hostname, t, test)) == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    cd_webhook_defaults(&w, s->expiry_webhook, s->expiry_webhook_ca);
    w.total_timeout = s->expiry_webhook_timeout;
    if (max_seconds > 0 && max_seconds < w.total_timeout)
        w.total_timeout = max_seconds;
    rc = cd_webhook_post(&w, body, &n, err, errlen);
    free(body);
    if (tries != NULL)
        *tries = n;
    if (rc != 0) {
        /* never the URL: its query may hold the receiver's token */
        snprintf(line, sizeof(line), "<%d>certdialog-expiry: the %swebhook "
            "was not delivered (%d attempt%s): %s\n", LOG_ERR,
            test ? "test notification's " : "", n, n == 1 ? "" : "s", err);
        cd_send_journal(line, NULL, 0);
    }
    return rc;
}

int
cd_send_test(const struct cd_settings *s, const struct cd_expiry_cert *c,
    int max_seconds, struct cd_send_result *r)
{
    char line[sizeof(r->journal_line) + 8];
    const char *p;
    size_t n;

    memset(r, 0, sizeof(*r));
    cd_expiry_log_line(line, sizeof(line), c, -1, 1);
    r->journal_priority = LOG_NOTICE;
    r->journal_ok = cd_send_journal(line, r->journal_err,
        sizeof(r->journal_err)) == 0;
    /* the line as the journal shows it: no "<N>", no newline */
    p = line[0] == '<' && (p = strchr(line, '>')) != NULL ? p + 1 : line;
    n = strcspn(p, "\n");
    if (n >= sizeof(r->journal_line))
        n = sizeof(r->journal_line) - 1;
    memcpy(r->journal_line, p, n);
    r->journal_line[n] = '\0';
    if (s->expiry_webhook != NULL) {
        r->webhook_configured = 1;
        r->webhook_ok = cd_send_webhook(s, c, -1, 1, max_seconds,
            &r->webhook_tries, r->webhook_err,
            sizeof(r->webhook_err)) == 0;
    }
    return r->journal_ok && (!r->webhook_configured || r->webhook_ok) ?
        0 : -1;
}
