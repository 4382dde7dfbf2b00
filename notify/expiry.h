/*
 * expiry.h - certdialog-expiry's decisions, free of I/O so the unit tests
 * drive them with any time: which threshold the served chain has crossed,
 * whether a channel (journal, webhook) has told about it yet, how urgent
 * it is, and the webhook's JSON.  certdialog-expiry(8) describes the
 * behaviour; state.h keeps what was sent between runs.
 */
#ifndef CD_EXPIRY_H
#define CD_EXPIRY_H

#include <stddef.h>
#include <time.h>

#include "cv.h"
#include "settings.h"

#define CD_EXPIRY_MAX_NAMES     (2 * CV_MAX_LIST + 1)

/* The served chain as the check sees it. */
struct cd_expiry_cert {
    char fingerprint[96];       /* the leaf's SHA-256, AA:BB:... */
    char subject[512];          /* the leaf's */
    char names[CD_EXPIRY_MAX_NAMES][256]; /* SAN DNS, SAN IP, CN if new */
    size_t n_names;
    time_t not_after;           /* the earliest of the chain's */
    long days_left;             /* to not_after; < 0: expired */
    char earliest[512];         /* subject of the one ending first */
    int earliest_is_leaf;
    size_t n_certs;             /* leaf + chain certificates read */
};

/* The thresholds a channel has told about, for one certificate. */
struct cd_expiry_sent {
    int days[CD_MAX_THRESHOLDS];
    size_t n;
};

/*
 * Fills c from the certificates of a served chain, leaf first (libcv
 * summaries made at the time of the check).  Returns 0, or -1 when n is 0
 * or the leaf's summary is not valid.
 */
int cd_expiry_cert_from(struct cd_expiry_cert *c,
    const struct cv_summary *sums, size_t n);

/*
 * The tightest threshold crossed (days_left <= it; th descending), or -1
 * when none is yet.
 */
int cd_expiry_crossed(const int *th, size_t n, long days_left);
/* The next threshold to come (the largest below days_left), or -1. */
int cd_expiry_next(const int *th, size_t n, long days_left);

/*
 * When threshold t is reached for a chain ending at not_after: the first
 * instant whose days left (whole days, rounded down) are t or fewer.
 */
time_t cd_expiry_reached(time_t not_after, int t);

/* 1 when sent holds threshold t. */
int cd_expiry_was_sent(const struct cd_expiry_sent *sent, int t);
/*
 * Records t and every looser threshold of th as sent: a first check at 5
 * days left announces 7 once, not 30, 14 and 7 in a row.
 */
void cd_expiry_mark_sent(struct cd_expiry_sent *sent, const int *th,
    size_t n, int t);

/*
 * The syslog priority (LOG_NOTICE..LOG_CRIT) for threshold t: notice
 * above 7 days, warning from 7 to 2, err at 1, crit at 0 or once expired.
 */
int cd_expiry_priority(int t, long days_left);

/*
 * The journal line for threshold t (test: a test notification) into buf,
 * starting with the sd-daemon prefix "<N>" and ending with a newline.
 */
void cd_expiry_log_line(char *buf, size_t len, const struct cd_expiry_cert *c,
    int t, int test);

/*
 * The webhook's JSON: appliance, subject, names, not_after, days_left,
 * fingerprint, threshold (null for a test), earliest (the subject of the
 * certificate ending first) and test.  Returns a new string (free()),
 * NULL when out of memory.
 */
char *cd_expiry_payload(const struct cd_expiry_cert *c, const char *appliance,
    int t, int test);

#endif
