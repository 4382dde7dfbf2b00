/*
 * file.h - replacing a small file whole, for the expiry state and the
 * metrics: readers (node_exporter, the next run, the dialog) see the old
 * file or the new one, never half of one.
 */
#ifndef CD_NOTIFY_FILE_H
#define CD_NOTIFY_FILE_H

#include <stddef.h>
#include <sys/types.h>

/*
 * Writes len bytes of buf to a new file next to path (mode), fsyncs it,
 * renames it over path and fsyncs the directory.  Returns 0, or -1 with a
 * one-line reason in err (the temporary file is removed).
 */
int cd_file_replace(const char *path, const void *buf, size_t len,
    mode_t mode, char *err, size_t errlen);

#endif
