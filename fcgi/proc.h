/*
 * proc.h - other processes: running a command as a child (the check and
 * reload commands) and what /proc says about a process we did not start
 * (nginx's master).
 */
#ifndef CD_PROC_H
#define CD_PROC_H

#include <stddef.h>
#include <sys/types.h>

/* How long a command may run before it is killed. */
#define CD_PROC_TIMEOUT 30      /* s */

/*
 * Runs cmd with /bin/sh -c in a process group of its own,
 * CERTDIALOG_RELEASE=release in its environment (when not NULL), stdin
 * /dev/null, stdout+stderr captured into out (the first olen - 1 bytes,
 * printable ASCII, blanks squeezed), at most CD_PROC_TIMEOUT seconds.
 * Returns 0 when it exits with status 0, else -1; what says how it ended
 * ("succeeded", "failed with exit status 3", "timed out after 30 s"...).
 */
int cd_proc_run(const char *cmd, const char *release, char *what,
    size_t wlen, char *out, size_t olen);

/*
 * The name of process pid (/proc/PID/comm, sanitised as above) into buf.
 * Returns 0, or -1 (buf "?") when /proc cannot tell.
 */
int cd_proc_name(pid_t pid, char *buf, size_t len);

/*
 * The children of pid, from /proc/PID/task/PID/children (so only those of
 * its main thread: nginx's master is single-threaded), at most max.
 * Returns their number, or -1 when /proc cannot tell.
 */
int cd_proc_children(pid_t pid, pid_t *out, int max);

/* 1 when pid no longer runs (gone, or a zombie not yet reaped). */
int cd_proc_gone(pid_t pid);

#endif
