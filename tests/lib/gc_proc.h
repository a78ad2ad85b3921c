/*  gc_proc - run the real groupcast binaries from tests: spawn, wait for READY, run a command
    with a deadline, stop only our own processes
    SPDX-License-Identifier: MPL-2.0

    Every wait here has a deadline; nothing sleeps for synchronisation. A process's stdout and
    stderr are captured into files in the test's own temp directory, so a test can assert on them
    and gc_proc_clean () can refuse czmq "dangling" warnings and sanitizer reports.
*/
#ifndef GC_PROC_H_INCLUDED
#define GC_PROC_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

//  A fresh temp directory for one test (mkdtemp under $TMPDIR or /tmp), removed with its contents
//  by gc_tmpdir_destroy. Returns an owned path, or NULL. gc_tmpdir_destroy removes only a
//  directory named like gc_tmpdir_new's ("gc-TAG-XXXXXX"), never follows symlinks out of it, and
//  frees and nulls *path_p; accepts NULL.
char *gc_tmpdir_new (const char *tag);
void gc_tmpdir_destroy (char **path_p);

//  The path of a groupcast binary: bin_dir "/" name (pass GC_BIN_DIR). Returns an owned string,
//  or NULL if out of memory.
char *gc_bin (const char *bin_dir, const char *name);

typedef struct gc_proc gc_proc_t;

//  Starts argv[0] (a path) with argv, in working directory `dir`, stdin from /dev/null (or a pipe
//  when `with_stdin`), stdout and stderr to files under dir named after `tag` (tag.out, tag.err).
//  Extra environment entries ("K=V", NULL-terminated list, may be NULL) are added to ours; one
//  replaces ours of the same name. argv[0] should be absolute (a relative one is looked up from
//  `dir`). The files are opened O_APPEND and only what this process writes is read back, but two
//  live processes in one dir must not share a tag. A line the tests wait for must be flushed by
//  the child (stdout to a file is fully buffered). SIGPIPE is ignored in the calling process from
//  now on (the child gets the default). Returns NULL if the spawn failed.
gc_proc_t *gc_proc_start (const char *dir, const char *tag, char *const argv[],
                          char *const env[], bool with_stdin);

//  Waits up to timeout_ms for a line in the process's stdout (or stderr: both are searched)
//  starting with `prefix` (e.g. "READY "); copies the rest of that line into out (may be NULL).
//  Only complete lines count (a last line without newline once the process has exited). Returns
//  0, or -1 if the deadline passed, the process exited without printing it, or the rest of the
//  line does not fit in outlen (never truncated).
int gc_proc_wait_line (gc_proc_t *self, const char *prefix, int timeout_ms, char *out,
                       size_t outlen);

//  Waits up to timeout_ms until the process's captured output (stdout+stderr) contains `needle`
//  `count` times or more. Returns 0, or -1 on deadline / exit.
int gc_proc_wait_output (gc_proc_t *self, const char *needle, int count, int timeout_ms);

//  Writes all of data to the process's stdin (only when started with_stdin), waiting at most
//  10 s for it to read. Returns 0, or -1 (no stdin, the process closed it, or it did not read).
int gc_proc_write (gc_proc_t *self, const char *data, size_t len);
//  Closes the process's stdin.
void gc_proc_close_stdin (gc_proc_t *self);

//  Sends signal sig to the process. Returns 0, or -1 if it has already exited and been reaped
//  (its pid may be someone else's by then, so it is never signalled).
int gc_proc_kill (gc_proc_t *self, int sig);

//  Waits up to timeout_ms for the process to exit; returns its exit status (0..255), 128+signal
//  if it was killed by a signal, or -1 on deadline (the process is then left running).
int gc_proc_wait (gc_proc_t *self, int timeout_ms);

//  Stops the process: SIGTERM, waits up to timeout_ms, then SIGKILL and waits up to 10 s more.
//  Returns its status as gc_proc_wait does (already exited: that status).
int gc_proc_stop (gc_proc_t *self, int timeout_ms);

//  The captured stdout / stderr so far, as an owned NUL-terminated string.
char *gc_proc_stdout (gc_proc_t *self);
char *gc_proc_stderr (gc_proc_t *self);

pid_t gc_proc_pid (gc_proc_t *self);

//  True when the captured output has no czmq "dangling" warning and no AddressSanitizer,
//  LeakSanitizer or UBSan report ("runtime error:", "ERROR: AddressSanitizer" ...). Prints the
//  offending lines (and the whole captured stderr, if any) to stderr when false. Call it after
//  the process has exited: LeakSanitizer reports at exit.
bool gc_proc_clean (gc_proc_t *self);

//  SIGKILLs and reaps every process started and not yet destroyed (gc_test_run calls it after
//  each case, so a failed CHECK cannot leave servers running).
void gc_proc_kill_all (void);

//  Stops the process if still running (SIGKILL, then reaps it) and frees. Accepts NULL.
void gc_proc_destroy (gc_proc_t **self_p);

//  Runs a command to completion with a deadline: argv as for gc_proc_start, `input` (may be
//  NULL) written to its stdin. Sets *out and *err to owned captured output (either may be NULL
//  if not wanted); they are set on timeout too, and NULL only if the spawn failed. Its files
//  are dir/run.out and dir/run.err (appended to by every gc_run in dir). Returns the exit status
//  as gc_proc_wait, or -1 if it could not start or did not finish in timeout_ms (it is then
//  killed and reaped).
int gc_run (const char *dir, char *const argv[], char *const env[], const char *input,
            int timeout_ms, char **out, char **err);

#endif
