/*
 * files.h - the few file operations every store under STATE/ shares (the
 * releases, the pending signing request): paths that must fit, files
 * created new and synced, directories synced and removed.  Each returns 0,
 * or -1 with errno set.
 */
#ifndef CD_FILES_H
#define CD_FILES_H

#include <stddef.h>
#include <sys/types.h>

/* snprintf into a PATH_MAX buffer; -1 (ENAMETOOLONG) when it doesn't fit. */
int cd_path(char *buf, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Writes all of buf, through short writes and EINTR. */
int cd_write_all(int fd, const void *buf, size_t len);
/*
 * dir/name created new (O_EXCL, never through a symbolic link) with mode,
 * written fully, fsync'ed and closed.  A partial file is removed.
 */
int cd_file_create(const char *dir, const char *name, const void *buf,
    size_t len, mode_t mode);
/*
 * path replaced whole: len bytes of buf written to a new file next to it
 * (O_EXCL, never through a link), given mode, fsync'ed, renamed over path,
 * and the directory fsync'ed; readers see the old file or the new one.
 * Run as root (a command-line tool on the service's state), the file gets
 * the directory's owner.  Returns 0, or -1 with a one-line reason in err
 * (the temporary file is removed).
 */
int cd_file_replace(const char *path, const void *buf, size_t len,
    mode_t mode, char *err, size_t errlen);
/* fsync(2) of a directory, so that the names in it are on disk. */
int cd_fsync_dir(const char *dir);
/* Removes a directory and the plain files in it (no subdirectories). */
int cd_remove_dir(const char *path);
/* 2 * nbytes lower-case random hex digits and a NUL into out. */
int cd_rand_hex(char *out, size_t nbytes);

#endif
