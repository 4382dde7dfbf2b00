/*
 * files.c - file operations shared by the stores under STATE (files.h).
 */
#include "config.h"

#include "files.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/rand.h>

int
cd_path(char *buf, const char *fmt, ...)
{
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(buf, PATH_MAX, fmt, ap);
    va_end(ap);
    if (n < 0 || n >= PATH_MAX) {
        errno = ENAMETOOLONG;
        return -1;
    }
    return 0;
}

int
cd_write_all(int fd, const void *buf, size_t len)
{
    const unsigned char *p = buf;
    ssize_t n;

    while (len > 0) {
        n = write(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -1;
        if (n == 0) {
            errno = EIO;
            return -1;
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

int
cd_file_create(const char *dir, const char *name, const void *buf,
    size_t len, mode_t mode)
{
    char path[PATH_MAX];
    int fd, e;

    if (cd_path(path, "%s/%s", dir, name) != 0)
        return -1;
    fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
        mode);
    if (fd < 0)
        return -1;
    if (cd_write_all(fd, buf, len) != 0 || fsync(fd) != 0) {
        e = errno;
        close(fd);
        unlink(path);
        errno = e;
        return -1;
    }
    if (close(fd) != 0) {
        e = errno;
        unlink(path);
        errno = e;
        return -1;
    }
    return 0;
}

/* dir into buf: path without its last component ("." when none). */
static int
dir_of(const char *path, char *buf)
{
    const char *slash = strrchr(path, '/');

    if (slash == NULL)
        return cd_path(buf, ".");
    if (slash == path)
        return cd_path(buf, "/");
    return cd_path(buf, "%.*s", (int)(slash - path), path);
}

int
cd_file_replace(const char *path, const void *buf, size_t len, mode_t mode,
    char *err, size_t errlen)
{
    char tmp[PATH_MAX], dir[PATH_MAX], rnd[17];
    const char *what = NULL;
    struct stat st;
    int fd;

    if (dir_of(path, dir) != 0 || cd_rand_hex(rnd, 8) != 0 ||
        cd_path(tmp, "%s/.tmp-%s", dir, rnd) != 0) {
        snprintf(err, errlen, "cannot name a file next to %s: %s", path,
            strerror(errno));
        return -1;
    }
    fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
        0600);
    if (fd < 0) {
        snprintf(err, errlen, "cannot create %s: %s", tmp, strerror(errno));
        return -1;
    }
    /* root writing the service's files leaves them the service's (best
     * effort: the mode protects them either way) */
    if (geteuid() == 0 && stat(dir, &st) == 0 &&
        fchown(fd, st.st_uid, st.st_gid) != 0)
        errno = 0;
    /* 0600 until written, then the mode asked for */
    if (fchmod(fd, mode) != 0)
        what = "chmod";
    else if (cd_write_all(fd, buf, len) != 0)
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
    /* the rename survives a crash once the directory is synced */
    cd_fsync_dir(dir);
    return 0;
}

int
cd_fsync_dir(const char *dir)
{
    int fd, rc, e;

    if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
        return -1;
    rc = fsync(fd);
    e = errno;
    close(fd);
    errno = e;
    return rc;
}

int
cd_remove_dir(const char *path)
{
    DIR *d;
    struct dirent *de;
    int rc = 0;

    if ((d = opendir(path)) == NULL)
        return errno == ENOENT ? 0 : -1;
    while ((de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        if (unlinkat(dirfd(d), de->d_name, 0) != 0 && errno != ENOENT)
            rc = -1;
    }
    closedir(d);
    if (rmdir(path) != 0 && errno != ENOENT)
        rc = -1;
    return rc;
}

int
cd_rand_hex(char *out, size_t nbytes)
{
    static const char hex[] = "0123456789abcdef";
    unsigned char b[16];
    size_t i;

    if (nbytes > sizeof(b) || RAND_bytes(b, (int)nbytes) != 1) {
        ERR_clear_error();
        errno = EIO;
        return -1;
    }
    for (i = 0; i < nbytes; i++) {
        out[2 * i] = hex[b[i] >> 4];
        out[2 * i + 1] = hex[b[i] & 15];
    }
    out[2 * nbytes] = '\0';
    return 0;
}
