/*
 * webhook.h - certdialog-expiry's webhook: an HTTPS POST of JSON, the
 * server verified against the system CAs (or a CA file) and its name
 * checked, retried with backoff.
 */
#ifndef CD_NOTIFY_WEBHOOK_H
#define CD_NOTIFY_WEBHOOK_H

#include <stddef.h>

struct cd_webhook {
    const char *url;            /* https://HOST[:PORT][/PATH] */
    const char *ca_file;        /* PEM bundle; NULL: the system CAs */
    int attempts;               /* at most this many POSTs (>= 1) */
    int first_delay;            /* s before the 2nd attempt, doubled after */
    int total_timeout;          /* s for every attempt and delay together */
};

/* The defaults: 4 attempts, 1 s then 2 s then 4 s apart, 60 s in all. */
void cd_webhook_defaults(struct cd_webhook *w, const char *url,
    const char *ca_file);

/*
 * POSTs body (application/json) to w->url until a 2xx answer, the
 * attempts or the time run out.  A server whose certificate does not
 * verify, or a 4xx answer but 408 and 429, is not tried again (the next
 * run will).  *tries (may be NULL)
 * gets the number of POSTs made.  Returns 0 when delivered, else -1 with
 * the last attempt's one-line reason in err.
 */
int cd_webhook_post(const struct cd_webhook *w, const char *body, int *tries,
    char *err, size_t errlen);

/*
 * The host of a webhook URL (brackets dropped from an IPv6 address) into
 * host and its port into *port, for showing where notifications go: the
 * rest of the URL (user, path, query) may hold the receiver's token and
 * is never shown.  Returns 0, or -1 when url is not an https:// URL or
 * the host does not fit in hlen bytes.
 */
int cd_webhook_host(const char *url, char *host, size_t hlen, int *port);

#endif
