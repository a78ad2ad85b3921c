/*  test_proc - self-test of the test harness (gc_proc, gc_test_run) using /bin/sh scripts
    SPDX-License-Identifier: MPL-2.0

    The children may sleep (they stand in for a server that never says READY); the test itself
    never does: every wait is one of gc_proc's deadline-bounded waits.
*/
#include "gc_proc.h"
#include "gc_test.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

//  Generous: these only bound a wait for something that should take milliseconds
#define WAIT_MS 20000

//  Resources a case may hold; released by s_with_fixture even when a CHECK ends the case early
typedef struct {
    char *dir;       //  the case's own temp directory
    gc_proc_t *proc; //  a process the case started
    char *out;       //  captured stdout from gc_run
    char *err;       //  captured stderr from gc_run
} fixture_t;

static void
s_with_fixture (void (*body) (fixture_t *f))
{
    fixture_t f = { NULL, NULL, NULL, NULL };
    f.dir = gc_tmpdir_new ("test_proc");
    CHECK (f.dir);
    body (&f);
    gc_proc_destroy (&f.proc);
    free (f.out);
    free (f.err);
    gc_tmpdir_destroy (&f.dir);
}

static gc_proc_t *
s_sh (fixture_t *f, const char *tag, const char *script, bool with_stdin)
{
    char *argv[] = { "/bin/sh", "-c", (char *) script, NULL };
    return gc_proc_start (f->dir, tag, argv, NULL, with_stdin);
}

static int
s_run (fixture_t *f, const char *script, char *const env[], const char *input, int timeout_ms)
{
    char *argv[] = { "/bin/sh", "-c", (char *) script, NULL };
    free (f->out);
    free (f->err);
    return gc_run (f->dir, argv, env, input, timeout_ms, &f->out, &f->err);
}

static int64_t
s_now_ms (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

//  ---------------------------------------------------------------------------------------------

static void
s_ready_line (fixture_t *f)
{
    //  The READY line comes in two writes: only the complete line may be matched
    f->proc = s_sh (f, "server",
                    "echo starting; echo 'PORT 7' >&2; printf 'READY tcp://127.0.0.1:'; "
                    "sleep 0.2; printf '5555\\n'; exec sleep 5",
                    false);
    CHECK (f->proc);
    CHECK (gc_proc_pid (f->proc) > 0);
    char endpoint[64];
    CHECK_INT_EQ (gc_proc_wait_line (f->proc, "READY ", WAIT_MS, endpoint, sizeof endpoint), 0);
    CHECK_STR_EQ (endpoint, "tcp://127.0.0.1:5555");
    //  stderr is searched too
    char port[8];
    CHECK_INT_EQ (gc_proc_wait_line (f->proc, "PORT ", WAIT_MS, port, sizeof port), 0);
    CHECK_STR_EQ (port, "7");
    //  A line that does not fit is an error, not a truncated endpoint
    char tiny[4];
    CHECK_INT_EQ (gc_proc_wait_line (f->proc, "READY ", WAIT_MS, tiny, sizeof tiny), -1);
    //  Matching is at the start of a line only
    CHECK_INT_EQ (gc_proc_wait_line (f->proc, "127.0.0.1", 0, NULL, 0), -1);

    char *out = gc_proc_stdout (f->proc);
    CHECK (out);
    bool same = strcmp (out, "starting\nREADY tcp://127.0.0.1:5555\n") == 0;
    free (out);
    CHECK (same);
    CHECK_INT_EQ (gc_proc_stop (f->proc, WAIT_MS), 128 + SIGTERM);
    CHECK (gc_proc_clean (f->proc));
}

static void
s_line_timeout (fixture_t *f)
{
    f->proc = s_sh (f, "silent", "exec sleep 5", false);
    CHECK (f->proc);
    char line[64];
    CHECK_INT_EQ (gc_proc_wait_line (f->proc, "READY ", 300, line, sizeof line), -1);
    CHECK_INT_EQ (gc_proc_wait_output (f->proc, "READY", 1, 300), -1);
    //  It was the deadline, not the process exiting: it is still running
    CHECK_INT_EQ (gc_proc_wait (f->proc, 0), -1);
    //  gc_proc_destroy (in the fixture) kills and reaps it
}

static void
s_line_after_exit (fixture_t *f)
{
    //  A process that dies without the line makes the wait fail at once, not at the deadline
    f->proc = s_sh (f, "dies", "echo 'not ready'; exit 3", false);
    CHECK (f->proc);
    int64_t start = s_now_ms ();
    CHECK_INT_EQ (gc_proc_wait_line (f->proc, "READY ", 2 * WAIT_MS, NULL, 0), -1);
    CHECK (s_now_ms () - start < WAIT_MS);
    CHECK_INT_EQ (gc_proc_wait (f->proc, 0), 3);

    //  A last line without a newline still counts once the writer has exited
    gc_proc_destroy (&f->proc);
    f->proc = s_sh (f, "partial", "printf 'READY end'", false);
    CHECK (f->proc);
    char rest[16];
    CHECK_INT_EQ (gc_proc_wait_line (f->proc, "READY ", WAIT_MS, rest, sizeof rest), 0);
    CHECK_STR_EQ (rest, "end");
}

static void
s_wait_output (fixture_t *f)
{
    f->proc = s_sh (f, "ticker", "echo tick; echo tick tick >&2; exec sleep 5", false);
    CHECK (f->proc);
    CHECK_INT_EQ (gc_proc_wait_output (f->proc, "tick", 3, WAIT_MS), 0);
    CHECK_INT_EQ (gc_proc_wait_output (f->proc, "tick", 4, 300), -1);
    char *err = gc_proc_stderr (f->proc);
    CHECK (err);
    bool same = strcmp (err, "tick tick\n") == 0;
    free (err);
    CHECK (same);
}

static void
s_exit_status (fixture_t *f)
{
    f->proc = s_sh (f, "exits", "exit 7", false);
    CHECK (f->proc);
    CHECK_INT_EQ (gc_proc_wait (f->proc, WAIT_MS), 7);
    //  The status is kept; a reaped pid is never signalled again
    CHECK_INT_EQ (gc_proc_wait (f->proc, 0), 7);
    CHECK_INT_EQ (gc_proc_stop (f->proc, 0), 7);
    CHECK_INT_EQ (gc_proc_kill (f->proc, SIGTERM), -1);
}

static void
s_signal_status (fixture_t *f)
{
    f->proc = s_sh (f, "victim", "echo READY; exec sleep 5", false);
    CHECK (f->proc);
    CHECK_INT_EQ (gc_proc_wait_line (f->proc, "READY", WAIT_MS, NULL, 0), 0);
    CHECK_INT_EQ (gc_proc_kill (f->proc, SIGUSR1), 0);
    CHECK_INT_EQ (gc_proc_wait (f->proc, WAIT_MS), 128 + SIGUSR1);

    //  One that ignores SIGTERM (SIG_IGN survives exec) is SIGKILLed by gc_proc_stop
    gc_proc_destroy (&f->proc);
    f->proc = s_sh (f, "stubborn", "trap '' TERM; echo READY; exec sleep 5", false);
    CHECK (f->proc);
    CHECK_INT_EQ (gc_proc_wait_line (f->proc, "READY", WAIT_MS, NULL, 0), 0);
    CHECK_INT_EQ (gc_proc_stop (f->proc, 300), 128 + SIGKILL);
}

static void
s_stdin (fixture_t *f)
{
    f->proc =
        s_sh (f, "echoer", "read line; echo \"got $line\"; read more; echo \"then $more\"", true);
    CHECK (f->proc);
    CHECK_INT_EQ (gc_proc_write (f->proc, "one\n", 4), 0);
    CHECK_INT_EQ (gc_proc_wait_line (f->proc, "got ", WAIT_MS, NULL, 0), 0);
    CHECK_INT_EQ (gc_proc_write (f->proc, "two\n", 4), 0);
    CHECK_INT_EQ (gc_proc_wait (f->proc, WAIT_MS), 0);
    char *out = gc_proc_stdout (f->proc);
    CHECK (out);
    bool same = strcmp (out, "got one\nthen two\n") == 0;
    free (out);
    CHECK (same);
    //  The reader is gone: EPIPE, and the test is not killed by SIGPIPE
    CHECK_INT_EQ (gc_proc_write (f->proc, "x\n", 2), -1);
    gc_proc_close_stdin (f->proc);
    CHECK_INT_EQ (gc_proc_write (f->proc, "x\n", 2), -1);

    //  Without with_stdin, stdin is /dev/null and writes fail
    gc_proc_destroy (&f->proc);
    f->proc = s_sh (f, "nostdin", "cat; echo eof", false);
    CHECK (f->proc);
    CHECK_INT_EQ (gc_proc_write (f->proc, "x\n", 2), -1);
    CHECK_INT_EQ (gc_proc_wait_line (f->proc, "eof", WAIT_MS, NULL, 0), 0);
}

static void
s_run_io (fixture_t *f)
{
    CHECK_INT_EQ (s_run (f, "tr a-z A-Z; echo oops >&2; exit 4", NULL, "hello\nworld\n", WAIT_MS),
                  4);
    CHECK_STR_EQ (f->out, "HELLO\nWORLD\n");
    CHECK_STR_EQ (f->err, "oops\n");

    //  A second run in the same directory sees only its own output
    CHECK_INT_EQ (s_run (f, "echo second", NULL, NULL, WAIT_MS), 0);
    CHECK_STR_EQ (f->out, "second\n");
    CHECK_STR_EQ (f->err, "");

    //  Extra environment entries are added and replace ours of the same name (the child sees
    //  one entry, the new one); the rest of ours is inherited. /usr/bin/env shows the raw list.
    CHECK_INT_EQ (setenv ("GC_TEST_INHERITED", "yes", 1), 0);
    CHECK_INT_EQ (setenv ("GC_TEST_REPLACED", "old", 1), 0);
    char *env[] = { "GC_TEST_EXTRA=42", "GC_TEST_REPLACED=new", NULL };
    char *print_env[] = { "/usr/bin/env", NULL };
    free (f->out);
    free (f->err);
    int env_status = gc_run (f->dir, print_env, env, NULL, WAIT_MS, &f->out, &f->err);
    unsetenv ("GC_TEST_INHERITED");
    unsetenv ("GC_TEST_REPLACED");
    CHECK_INT_EQ (env_status, 0);
    CHECK_CONTAINS (f->out, "\nGC_TEST_INHERITED=yes\n");
    CHECK_CONTAINS (f->out, "\nGC_TEST_EXTRA=42\n");
    CHECK_CONTAINS (f->out, "\nGC_TEST_REPLACED=new\n");
    CHECK (!strstr (f->out, "GC_TEST_REPLACED=old"));

    //  It runs in dir
    CHECK_INT_EQ (s_run (f, "pwd -P", NULL, NULL, WAIT_MS), 0);
    char real[PATH_MAX];
    CHECK (realpath (f->dir, real));
    CHECK (strlen (real) + 2 < sizeof real);
    strcat (real, "\n");
    CHECK_STR_EQ (f->out, real);

    //  Input far larger than a pipe buffer is written in full
    size_t big = 1024 * 1024;
    char *input = malloc (big + 1);
    CHECK (input);
    memset (input, 'x', big);
    input[big] = '\0';
    int status = s_run (f, "wc -c | tr -d ' '", NULL, input, WAIT_MS);
    free (input);
    CHECK_INT_EQ (status, 0);
    CHECK_STR_EQ (f->out, "1048576\n");

    //  A program that cannot be started
    char *missing[] = { "/nonexistent/groupcast-nothing", NULL };
    CHECK_INT_EQ (gc_run (f->dir, missing, NULL, NULL, WAIT_MS, NULL, NULL), -1);
    CHECK (gc_proc_start (f->dir, "missing", missing, NULL, false) == NULL);
}

static void
s_run_timeout (fixture_t *f)
{
    //  The child records its pid before blocking, so we can see it is gone afterwards
    CHECK_INT_EQ (s_run (f, "echo started; echo $$ > child.pid; exec sleep 5", NULL, NULL, 1000),
                  -1);
    CHECK_STR_EQ (f->out, "started\n");
    char path[PATH_MAX];
    snprintf (path, sizeof path, "%s/child.pid", f->dir);
    FILE *file = fopen (path, "r");
    CHECK (file);
    long pid = 0;
    int fields = fscanf (file, "%ld", &pid);
    fclose (file);
    CHECK_INT_EQ (fields, 1);
    CHECK (pid > 0);
    //  Killed and reaped: no such process any more
    errno = 0;
    CHECK_INT_EQ (kill ((pid_t) pid, 0), -1);
    CHECK_INT_EQ (errno, ESRCH);
}

static void
s_clean (fixture_t *f)
{
    f->proc = s_sh (f, "tidy", "echo all fine; echo 'no problems' >&2", false);
    CHECK (f->proc);
    CHECK_INT_EQ (gc_proc_wait (f->proc, WAIT_MS), 0);
    CHECK (gc_proc_clean (f->proc));

    //  czmq's warning goes to stdout, with status 0: the status alone would not catch it
    const char *dirty[] = {
        "echo \"I: 24-01-01 12:00:00 dangling 'REP' socket created at server.c:42\"",
        "echo '==12==ERROR: AddressSanitizer: heap-use-after-free on address' >&2",
        "echo '==12==ERROR: LeakSanitizer: detected memory leaks' >&2",
        "echo 'gc_wire.c:10:5: runtime error: signed integer overflow' >&2",
        "echo 'SUMMARY: UndefinedBehaviorSanitizer: undefined-behavior' >&2",
    };
    for (size_t i = 0; i < sizeof dirty / sizeof dirty[0]; i++) {
        gc_proc_destroy (&f->proc);
        f->proc = s_sh (f, "dirty", dirty[i], false);
        CHECK (f->proc);
        CHECK_INT_EQ (gc_proc_wait (f->proc, WAIT_MS), 0);
        fprintf (stderr, "(expected report follows)\n");
        CHECK (!gc_proc_clean (f->proc));
    }
}

static void
s_tmpdir (fixture_t *f)
{
    char *outside = gc_tmpdir_new ("outside");
    CHECK (outside);
    char *dir = gc_tmpdir_new ("tree");
    char *keep = strdup ("/tmp/test_proc-not-ours-XXXXXX");
    bool ok = dir && keep && mkdtemp (keep);
    //  A nested tree with a symlink out of it; removing the tree must not follow the link
    char script[PATH_MAX * 3];
    snprintf (script, sizeof script,
              "mkdir -p a/b && echo x > a/b/f && echo y > g && echo z > '%s/precious' && "
              "ln -s '%s' a/link && ln -s '%s/precious' a/b/flink",
              outside, outside, outside);
    char *argv[] = { "/bin/sh", "-c", script, NULL };
    int status = ok ? gc_run (dir, argv, NULL, NULL, WAIT_MS, NULL, NULL) : -1;
    gc_tmpdir_destroy (&dir);

    struct stat st;
    bool outside_kept = status == 0 && lstat (outside, &st) == 0;
    char precious[PATH_MAX];
    snprintf (precious, sizeof precious, "%s/precious", outside);
    bool precious_kept = lstat (precious, &st) == 0;
    char *dir_copy = keep ? strdup (keep) : NULL;
    //  Not made by gc_tmpdir_new: refused, and left alone
    char *not_ours = keep ? strdup (keep) : NULL;
    gc_tmpdir_destroy (&not_ours);
    bool refused = dir_copy && lstat (dir_copy, &st) == 0 && S_ISDIR (st.st_mode);
    if (keep) {
        rmdir (keep);
    }
    free (keep);
    free (dir_copy);
    gc_tmpdir_destroy (&outside);

    CHECK (ok);
    CHECK_INT_EQ (status, 0);
    CHECK (dir == NULL);
    CHECK (not_ours == NULL);
    CHECK (outside_kept);
    CHECK (precious_kept);
    CHECK (refused);
    //  The fixture's own directory exists until teardown
    CHECK (lstat (f->dir, &st) == 0 && S_ISDIR (st.st_mode));
    char *bin = gc_bin ("/opt/gc/bin", "groupcast-server");
    CHECK (bin);
    bool same = strcmp (bin, "/opt/gc/bin/groupcast-server") == 0;
    free (bin);
    CHECK (same);
}

//  gc_test_run itself, checked from outside: this binary re-run with --runner-demo runs the
//  demo table below instead of the real one
static void
s_demo_fails (void)
{
    CHECK_INT_EQ (1 + 1, 3);
}

static void
s_demo_passes (void)
{
    CHECK (1 + 1 == 2);
}

static const gc_test_case_t s_demo_cases[] = { { "fails", s_demo_fails },
                                               { "passes", s_demo_passes },
                                               { NULL, NULL } };

static void
s_runner (fixture_t *f)
{
    char self[PATH_MAX];
    ssize_t n = readlink ("/proc/self/exe", self, sizeof self - 1);
    CHECK (n > 0);
    self[n] = '\0';

    //  All cases; a failure does not leak into the next case
    char *all[] = { self, "--runner-demo", NULL };
    CHECK_INT_EQ (gc_run (f->dir, all, NULL, NULL, WAIT_MS, &f->out, &f->err), 1);
    CHECK_STR_EQ (f->out, "FAIL fails\nok passes\n1 passed, 1 failed\n");
    CHECK_CONTAINS (f->err, "CHECK failed: 1 + 1 == 3 (2 != 3)");
    free (f->out);
    free (f->err);

    //  Only the named ones
    char *one[] = { self, "--runner-demo", "passes", NULL };
    CHECK_INT_EQ (gc_run (f->dir, one, NULL, NULL, WAIT_MS, &f->out, &f->err), 0);
    CHECK_STR_EQ (f->out, "ok passes\n1 passed, 0 failed\n");
    free (f->out);
    free (f->err);

    //  A name that matches nothing fails the run
    char *typo[] = { self, "--runner-demo", "pases", NULL };
    CHECK_INT_EQ (gc_run (f->dir, typo, NULL, NULL, WAIT_MS, &f->out, &f->err), 1);
    CHECK_STR_EQ (f->out, "FAIL pases\n0 passed, 1 failed\n");
}

//  ---------------------------------------------------------------------------------------------

static void
test_ready_line (void)
{
    s_with_fixture (s_ready_line);
}
static void
test_line_timeout (void)
{
    s_with_fixture (s_line_timeout);
}
static void
test_line_after_exit (void)
{
    s_with_fixture (s_line_after_exit);
}
static void
test_wait_output (void)
{
    s_with_fixture (s_wait_output);
}
static void
test_exit_status (void)
{
    s_with_fixture (s_exit_status);
}
static void
test_signal_status (void)
{
    s_with_fixture (s_signal_status);
}
static void
test_stdin (void)
{
    s_with_fixture (s_stdin);
}
static void
test_run_io (void)
{
    s_with_fixture (s_run_io);
}
static void
test_run_timeout (void)
{
    s_with_fixture (s_run_timeout);
}
static void
test_clean (void)
{
    s_with_fixture (s_clean);
}
static void
test_tmpdir (void)
{
    s_with_fixture (s_tmpdir);
}
static void
test_runner (void)
{
    s_with_fixture (s_runner);
}

static const gc_test_case_t s_cases[] = { { "ready_line", test_ready_line },
                                          { "line_timeout", test_line_timeout },
                                          { "line_after_exit", test_line_after_exit },
                                          { "wait_output", test_wait_output },
                                          { "exit_status", test_exit_status },
                                          { "signal_status", test_signal_status },
                                          { "stdin", test_stdin },
                                          { "run_io", test_run_io },
                                          { "run_timeout", test_run_timeout },
                                          { "clean", test_clean },
                                          { "tmpdir", test_tmpdir },
                                          { "runner", test_runner },
                                          { NULL, NULL } };

int
main (int argc, char **argv)
{
    if (argc >= 2 && strcmp (argv[1], "--runner-demo") == 0) {
        return gc_test_run (argc - 1, argv + 1, s_demo_cases);
    }
    return gc_test_run (argc, argv, s_cases);
}
