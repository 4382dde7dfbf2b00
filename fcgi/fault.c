/*
 * fault.c - the crash tests' kill switch (fault.h); compiled to nothing
 * unless configure --enable-fault-hooks.
 */
#include "config.h"

#include "fault.h"

#ifdef CD_FAULT_HOOKS
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void
cd_fault_step(const char *step)
{
    static const char *want;
    static int done;

    /* read once: the steps run with the install lock held */
    if (!done) {
        want = getenv("CERTDIALOG_FAULT_STEP");
        done = 1;
    }
    if (want != NULL && strcmp(want, step) == 0) {
        raise(SIGKILL);
        _exit(137);
    }
}
#endif
