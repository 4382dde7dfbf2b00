/*
 * fault.h - the crash tests' kill switch.  A build configured with
 * --enable-fault-hooks dies by SIGKILL when it reaches the step that
 * CERTDIALOG_FAULT_STEP names, so tests/integration/test_crash.sh can prove
 * that every prefix of an install leaves a whole release current; in any
 * other build CD_FAULT_STEP() is nothing.  The step names are the crash
 * test's list: rename or drop one there too.
 */
#ifndef CD_FAULT_H
#define CD_FAULT_H

#ifdef CD_FAULT_HOOKS
/* Dies by SIGKILL when step is the one CERTDIALOG_FAULT_STEP names. */
void cd_fault_step(const char *step);
#define CD_FAULT_STEP(step) cd_fault_step(step)
#else
#define CD_FAULT_STEP(step) ((void)0)
#endif

#endif
