/*
 * state.h - what certdialog-expiry remembers between runs (STATE/
 * expiry.json unless "expiry_state" says otherwise): the certificate it
 * last saw and the thresholds each channel has told about, plus the last
 * check's outcome for the dialog.  certdialog-expiry(8) shows the format.
 */
#ifndef CD_NOTIFY_STATE_H
#define CD_NOTIFY_STATE_H

#include <stddef.h>
#include <time.h>

#include "expiry.h"
#include "settings.h"

#define CD_EXPIRY_STATE_MAX     (64u << 10)

struct cd_expiry_record {
    char fingerprint[96];       /* "" before the first check */
    struct cd_expiry_sent journal;
    struct cd_expiry_sent webhook;
    time_t last_check;          /* 0: never */
    int success;                /* the last check read the chain and
                                   delivered every notification due */
    time_t not_after;           /* 0: no certificate found */
    long days_left;
    int next_threshold;         /* -1: none left */
    char detail[512];           /* why the last check failed; "" */
};

/*
 * The state file's path: "expiry_state", else STATE/expiry.json, into
 * buf.  Returns 0, or -1 when it does not fit in len bytes.
 */
int cd_expiry_state_path(const struct cd_settings *s, char *buf, size_t len);

/* Empties r (no certificate, nothing sent, never checked). */
void cd_expiry_record_init(struct cd_expiry_record *r);
/*
 * Makes r about the certificate fp: when r was about another one, what
 * was sent is forgotten, so a new certificate is announced afresh.
 */
void cd_expiry_record_for(struct cd_expiry_record *r, const char *fp);

/* r as JSON; a new string (free()), NULL when out of memory. */
char *cd_expiry_record_encode(const struct cd_expiry_record *r);
/* Parses the len bytes at buf into r.  Returns 0, or -1 (r emptied). */
int cd_expiry_record_decode(const char *buf, size_t len,
    struct cd_expiry_record *r);

/*
 * Reads the state file at path into r; a missing file is an empty record.
 * Returns 0, or -1 with a reason in err (r emptied: everything due is
 * announced again rather than never).
 */
int cd_expiry_state_read(const char *path, struct cd_expiry_record *r,
    char *err, size_t errlen);
/* Replaces the state file whole (0600).  Returns 0, or -1 with err. */
int cd_expiry_state_write(const char *path, const struct cd_expiry_record *r,
    char *err, size_t errlen);
/*
 * Takes path.lock (flock, exclusive, waiting): the timer and the hourly
 * run of scripts/run never interleave.  Returns the fd to close, or -1.
 */
int cd_expiry_state_lock(const char *path, char *err, size_t errlen);

#endif
