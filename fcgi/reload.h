/*
 * reload.h - having the web server load the current release: the
 * reload_command, or SIGHUP to the nginx in nginx_pid_file.
 */
#ifndef CD_RELOAD_H
#define CD_RELOAD_H

#include "install.h"
#include "settings.h"

/*
 * Reloads the web server on the release in dir; called with the install
 * lock held, so no swap happens while nginx reads the files.  Sets
 * res->reloaded (1: it reloaded) and res->reload_detail (what happened or
 * why not); a failed reload is not a failed install.
 */
void cd_reload_run(const struct cd_settings *s, const char *dir,
    struct cd_install_result *res);

#endif
