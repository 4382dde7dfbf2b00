/*
 * file.c - replacing a small file whole (file.h): write a temporary file
 * in the same directory, fsync, rename(2), fsync the directory.
 */
#include "config.h"

#include "file.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The directory part of path into dir ("." when it has none). */
static int
dir_of(const char *path, char *dir, size_t len)
{
    const char *slash = strrchr(path, '/');
    size_t n;

    if (slash == NULL)
        return snprintf(dir, len, ".") >= (int)len ? -1 : 0;
    n = slash == path ? 1 : (size_t)(slash - path);
    if (n >= len)
        return -1;
    memcpy(dir, path, n);
    dir[n] = '\0';
    return 0;
}

static int
write_all(int fd, const char *p, size_t len)
{
    ssize_t w;

    while (len > 0) {
        if ((w = write(fd, p, len)) < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += w;
        len -= (size_t)w;
    }
    return 0;
}

int
cd_file_replace(const char *path, const void *buf, size_t len, mode_t mode,
    char *err, size_t errlen)
{
    char tmp[PATH_MAX], dir[PATH_MAX];
    const char *what = NULL;
    int fd, dfd;

    if (dir_of(path, dir, sizeof(dir)) != 0 ||
        snprintf(tmp, sizeof(tmp), "%s.tmp-XXXXXX", path) >= (int)sizeof(tmp)) {
        snprintf(err, errlen, "%s: path too long", path);
        return -1;
    }
    if ((fd = mkstemp(tmp)) < 0) {
        snprintf(err, errlen, "cannot create a file next to %s: %s", path,
            strerror(errno));
        return -1;
    }
    /* mkstemp's 0600, then the mode asked for: readers never see less */
    if (fchmod(fd, mode) != 0)
        what = "chmod";
    else if (write_all(fd, buf, len) != 0)
        what = "write";
    else if (fsync(fd) != 0)
        what = "fsync";
    if (close(fd) != 0 && what == NULL)
        what = "close";
    if (what == NULL && rename(tmp, path) != 0)
        what = "rename";
    if (what != NULL) {
        snprintf(err, errlen, "cannot %s %s: %s", what, tmp, strerror(errno));
        unlink(tmp);
        return -1;
    }
    /* the rename itself survives a crash only once the directory is synced */
    if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0) {
        fsync(dfd);
        close(dfd);
    }
    return 0;
}
