/*
 * metrics.h - certdialog-expiry's Prometheus metrics, in the text format
 * node_exporter's textfile collector reads ("expiry_metrics_file").
 */
#ifndef CD_NOTIFY_METRICS_H
#define CD_NOTIFY_METRICS_H

#include <time.h>

#include "expiry.h"

/*
 * The metrics text: certdialog_certificate_not_after_seconds and
 * certdialog_certificate_days_left for c (labels fingerprint, subject;
 * left out when c is NULL: no certificate was found), then
 * certdialog_expiry_check_timestamp_seconds (now) and
 * certdialog_expiry_check_success (success).  Returns a new string
 * (free()), NULL when out of memory.
 */
char *cd_metrics_text(const struct cd_expiry_cert *c, time_t now,
    int success);

/* Replaces the file at path with text (0644).  Returns 0, or -1 with err. */
int cd_metrics_write(const char *path, const char *text, char *err,
    size_t errlen);

#endif
