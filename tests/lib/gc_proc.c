/*  gc_proc - test harness: the gc_test_run case runner, and helpers that run real processes
    with deadlines and capture their output
    SPDX-License-Identifier: MPL-2.0

    How output is captured and waited for
    -------------------------------------
    The child's stdout and stderr are plain files in the test's directory (TAG.out, TAG.err,
    opened O_APPEND), not pipes. A pipe that the test does not drain fills up after 64 KiB and
    stalls a chatty server while the test is busy elsewhere (sending requests, say), and draining
    it needs a reader thread; a grandchild that inherits a pipe keeps it open after the child
    dies. A file has neither problem, the output survives a crash of the test itself, and the
    child's last words (a LeakSanitizer report written at exit) are all on disk once it is reaped.

    Waits are bounded by a CLOCK_MONOTONIC deadline and sleep in poll () on two Linux event
    sources: an inotify watch on the two files (IN_MODIFY: the child wrote something) and a pidfd
    (the child exited). So a wait wakes as soon as there is something new to look at, with no
    fixed sleep. Each wake re-reads only the new bytes (pread from where we stopped) and checks
    with waitpid (WNOHANG) whether the child is gone, so a wait for a line that will never come
    fails as soon as the process dies. If inotify or pidfd_open is not available, the same loop
    polls the files with a short backoff (1 ms doubling to 32 ms); even with them, no single
    poll () sleeps longer than 250 ms, as a safety net.

    We only ever signal a pid we have not reaped yet, so it cannot have been recycled for some
    other process, and we only reap our own pid.
*/
//  posix_spawn_file_actions_addchdir_np (glibc 2.29+); the build defines only POSIX + DEFAULT
#define _GNU_SOURCE

#include "gc_proc.h"
#include "gc_test.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

//  ---------------------------------------------------------------------------------------------
//  The case runner

int gc_test_failed;

static bool
s_case_selected (int argc, char **argv, const char *name)
{
    if (argc <= 1) {
        return true;
    }
    for (int i = 1; i < argc; i++) {
        if (strcmp (argv[i], name) == 0) {
            return true;
        }
    }
    return false;
}

int
gc_test_run (int argc, char **argv, const gc_test_case_t *cases)
{
    assert (cases);
    int passed = 0;
    int failed = 0;

    //  A name that matches no case is a failure, so a typo cannot turn into "0 failed"
    for (int i = 1; i < argc; i++) {
        bool known = false;
        for (const gc_test_case_t *c = cases; c->name; c++) {
            if (strcmp (argv[i], c->name) == 0) {
                known = true;
            }
        }
        if (!known) {
            printf ("FAIL %s\n", argv[i]);
            fprintf (stderr, "cannot run test case '%s': no such case\n", argv[i]);
            failed++;
        }
    }
    for (const gc_test_case_t *c = cases; c->name; c++) {
        if (!s_case_selected (argc, argv, c->name)) {
            continue;
        }
        gc_test_failed = 0;
        c->fn ();
        gc_proc_kill_all ();
        //  Flush stderr first so a CHECK message appears before its FAIL line when both go to
        //  the same terminal or log
        fflush (stderr);
        if (gc_test_failed) {
            printf ("FAIL %s\n", c->name);
            failed++;
        }
        else {
            printf ("ok %s\n", c->name);
            passed++;
        }
        fflush (stdout);
    }
    printf ("%d passed, %d failed\n", passed, failed);
    fflush (stdout);
    return failed == 0 ? 0 : 1;
}

//  ---------------------------------------------------------------------------------------------
//  Temp directories and binary paths

#define GC_TMPDIR_PREFIX "gc-"

char *
gc_tmpdir_new (const char *tag)
{
    assert (tag);
    if (*tag == '\0' || strchr (tag, '/')) {
        fprintf (stderr, "cannot create temp dir for '%s': tag must be a non-empty name\n", tag);
        return NULL;
    }
    const char *base = getenv ("TMPDIR");
    if (!base || *base == '\0') {
        base = "/tmp";
    }
    size_t size = strlen (base) + strlen (GC_TMPDIR_PREFIX) + strlen (tag) + sizeof "/-XXXXXX";
    char *path = malloc (size);
    if (!path) {
        return NULL;
    }
    snprintf (path, size, "%s/" GC_TMPDIR_PREFIX "%s-XXXXXX", base, tag);
    if (!mkdtemp (path)) {
        fprintf (stderr, "cannot create temp dir '%s': %s\n", path, strerror (errno));
        free (path);
        return NULL;
    }
    return path;
}

static int
s_remove_entry (const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    (void) st;
    (void) ftw;
    //  FTW_DEPTH: a directory comes after its contents. FTW_PHYS: a symlink is removed itself,
    //  never followed, so nothing outside the tree is touched.
    int rc = (type == FTW_DP) ? rmdir (path) : unlink (path);
    if (rc != 0) {
        fprintf (stderr, "cannot remove '%s': %s\n", path, strerror (errno));
    }
    return 0; //  keep going: remove as much as we can
}

void
gc_tmpdir_destroy (char **path_p)
{
    assert (path_p);
    char *path = *path_p;
    if (!path) {
        return;
    }
    //  Only ever remove a directory that looks like one gc_tmpdir_new made: a guard against a
    //  wrong pointer turning this into rm -rf of something else
    const char *name = strrchr (path, '/');
    name = name ? name + 1 : path;
    struct stat st;
    if (strncmp (name, GC_TMPDIR_PREFIX, strlen (GC_TMPDIR_PREFIX)) != 0) {
        fprintf (stderr, "cannot remove '%s': not a gc_tmpdir_new directory\n", path);
    }
    else if (lstat (path, &st) != 0 || !S_ISDIR (st.st_mode)) {
        fprintf (stderr, "cannot remove '%s': not a directory\n", path);
    }
    else if (nftw (path, s_remove_entry, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT) != 0) {
        fprintf (stderr, "cannot remove '%s': %s\n", path, strerror (errno));
    }
    free (path);
    *path_p = NULL;
}

static char *
s_join (const char *a, const char *sep, const char *b)
{
    size_t size = strlen (a) + strlen (sep) + strlen (b) + 1;
    char *s = malloc (size);
    if (s) {
        snprintf (s, size, "%s%s%s", a, sep, b);
    }
    return s;
}

char *
gc_bin (const char *bin_dir, const char *name)
{
    assert (bin_dir);
    assert (name);
    return s_join (bin_dir, "/", name);
}

//  ---------------------------------------------------------------------------------------------
//  Processes

//  Longest single sleep in a wait when event sources are available (a safety net only)
#define GC_PROC_EVENT_CAP_MS 250
//  Backoff between file polls when they are not
#define GC_PROC_BACKOFF_MAX_MS 32
//  How long gc_proc_write may block on a full stdin pipe, and how long we wait for a process
//  to disappear after SIGKILL
#define GC_PROC_WRITE_TIMEOUT_MS 10000
#define GC_PROC_KILL_WAIT_MS     10000
//  Most bytes read from one capture file per refresh, so a refresh is bounded even when the
//  child writes as fast as we read; the rest is picked up by the next refresh
#define GC_PROC_READ_CHUNK      65536
#define GC_PROC_READ_MAX_CHUNKS 256

typedef struct {
    char *path;   //  TAG.out or TAG.err in the process's directory
    int fd;       //  read-only descriptor on path, or -1
    off_t start;  //  offset where this process's output begins (the file is O_APPEND)
    char *data;   //  bytes captured so far, NUL-terminated
    size_t size;  //  bytes in data, excluding the NUL
    size_t alloc; //  bytes allocated for data
} s_capture_t;

struct gc_proc {
    char *tag;       //  capture file base name, for messages
    pid_t pid;       //  the child; never signalled once reaped
    bool reaped;     //  waitpid has collected the child
    int status;      //  exit status as gc_proc_wait reports it, once reaped
    int stdin_fd;    //  write end of the child's stdin pipe, or -1
    int pidfd;       //  pollable descriptor of the child (readable on exit), or -1
    int inotify_fd;  //  watches both capture files for writes, or -1
    s_capture_t out; //  the child's stdout
    s_capture_t err; //  the child's stderr
};

//  Every process started and not yet destroyed, so a case that fails a CHECK half-way (and
//  returns before its cleanup) does not leave servers running: gc_test_run kills them.
#define S_LIVE_MAX 256
static gc_proc_t *s_live[S_LIVE_MAX];
static size_t s_live_count;

static void
s_live_add (gc_proc_t *proc)
{
    if (s_live_count < S_LIVE_MAX) {
        s_live[s_live_count++] = proc;
    }
}

static void
s_live_remove (gc_proc_t *proc)
{
    for (size_t i = 0; i < s_live_count; i++) {
        if (s_live[i] == proc) {
            s_live[i] = s_live[--s_live_count];
            return;
        }
    }
}

static int64_t
s_now_ms (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
s_close (int *fd_p)
{
    if (*fd_p >= 0) {
        close (*fd_p);
        *fd_p = -1;
    }
}

static void
s_capture_init (s_capture_t *self)
{
    memset (self, 0, sizeof *self);
    self->fd = -1;
}

static void
s_capture_free (s_capture_t *self)
{
    s_close (&self->fd);
    free (self->path);
    free (self->data);
    s_capture_init (self);
}

//  Opens path for the child (append) and for us (read); the child's output starts at the
//  current end of the file. Returns the child's write descriptor, or -1.
static int
s_capture_open (s_capture_t *self, const char *dir, const char *tag, const char *suffix)
{
    char *base = s_join (dir, "/", tag);
    self->path = base ? s_join (base, "", suffix) : NULL;
    free (base);
    self->data = malloc (1);
    if (!self->path || !self->data) {
        fprintf (stderr, "cannot capture output of '%s': out of memory\n", tag);
        return -1;
    }
    self->data[0] = '\0';
    self->alloc = 1;
    int wfd = open (self->path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (wfd < 0) {
        fprintf (stderr, "cannot open '%s': %s\n", self->path, strerror (errno));
        return -1;
    }
    self->fd = open (self->path, O_RDONLY | O_CLOEXEC);
    off_t end = lseek (wfd, 0, SEEK_END);
    if (self->fd < 0 || end < 0) {
        fprintf (stderr, "cannot open '%s': %s\n", self->path, strerror (errno));
        close (wfd);
        return -1;
    }
    self->start = end;
    return wfd;
}

//  Reads what the child wrote since the last call (bounded, see GC_PROC_READ_MAX_CHUNKS)
static void
s_capture_refresh (s_capture_t *self)
{
    if (self->fd < 0) {
        return;
    }
    for (int chunk = 0; chunk < GC_PROC_READ_MAX_CHUNKS; chunk++) {
        if (self->alloc - self->size < GC_PROC_READ_CHUNK + 1) {
            size_t alloc = self->size + GC_PROC_READ_CHUNK + 1;
            alloc = alloc < self->alloc * 2 ? self->alloc * 2 : alloc;
            char *data = realloc (self->data, alloc);
            if (!data) {
                fprintf (stderr, "cannot read '%s': out of memory\n", self->path);
                return;
            }
            self->data = data;
            self->alloc = alloc;
        }
        ssize_t n = pread (self->fd, self->data + self->size, GC_PROC_READ_CHUNK,
                           self->start + (off_t) self->size);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            fprintf (stderr, "cannot read '%s': %s\n", self->path, strerror (errno));
            return;
        }
        self->size += (size_t) n;
        self->data[self->size] = '\0';
        if (n < GC_PROC_READ_CHUNK) {
            return;
        }
    }
}

static void
s_refresh (gc_proc_t *self)
{
    s_capture_refresh (&self->out);
    s_capture_refresh (&self->err);
}

static int
s_decode_status (int wstatus)
{
    if (WIFEXITED (wstatus)) {
        return WEXITSTATUS (wstatus);
    }
    if (WIFSIGNALED (wstatus)) {
        return 128 + WTERMSIG (wstatus);
    }
    return -1;
}

//  Collects the child if it has exited, without blocking. Returns true once reaped.
static bool
s_try_reap (gc_proc_t *self)
{
    if (self->reaped) {
        return true;
    }
    int wstatus = 0;
    pid_t rc = waitpid (self->pid, &wstatus, WNOHANG);
    if (rc == 0 || (rc < 0 && errno == EINTR)) {
        return false; //  still running (or ask again on the next pass)
    }
    if (rc < 0) {
        //  ECHILD: someone else reaped our child; we can no longer know its status, and must
        //  never signal that pid again
        fprintf (stderr, "cannot wait for '%s' (pid %d): %s\n", self->tag, (int) self->pid,
                 strerror (errno));
        self->reaped = true;
        self->status = -1;
        return true;
    }
    self->reaped = true;
    self->status = s_decode_status (wstatus);
    return true;
}

//  Sleeps until something may have changed (the child wrote or exited) or for a short
//  backoff, never past the deadline. Returns false, without sleeping, once the deadline passed.
static bool
s_pause (gc_proc_t *self, int64_t deadline, int *backoff_ms)
{
    int64_t remaining = deadline - s_now_ms ();
    if (remaining <= 0) {
        return false;
    }
    struct pollfd fds[2];
    nfds_t nfds = 0;
    if (self->inotify_fd >= 0) {
        fds[nfds++] = (struct pollfd){ .fd = self->inotify_fd, .events = POLLIN };
    }
    if (self->pidfd >= 0 && !self->reaped) {
        fds[nfds++] = (struct pollfd){ .fd = self->pidfd, .events = POLLIN };
    }
    bool evented = self->inotify_fd >= 0 && self->pidfd >= 0;
    int cap = evented ? GC_PROC_EVENT_CAP_MS : *backoff_ms;
    int timeout = remaining < cap ? (int) remaining : cap;
    if (poll (fds, nfds, timeout) > 0 && self->inotify_fd >= 0) {
        //  Drain the queued events; which file changed does not matter, we re-read both
        _Alignas(struct inotify_event) char buf[4096];
        for (int i = 0; i < 64 && read (self->inotify_fd, buf, sizeof buf) > 0; i++) {
        }
    }
    if (*backoff_ms < GC_PROC_BACKOFF_MAX_MS) {
        *backoff_ms *= 2;
    }
    return true;
}

typedef bool (s_cond_fn) (gc_proc_t *self, void *arg);

//  Waits until cond holds, the process exits (cond is checked once more on the complete
//  output) or the deadline passes. Returns 0 when cond held, else -1.
static int
s_wait_for (gc_proc_t *self, s_cond_fn *cond, void *arg, int timeout_ms)
{
    int64_t deadline = s_now_ms () + (timeout_ms > 0 ? timeout_ms : 0);
    int backoff_ms = 1;
    //  Bounded: s_pause returns false once the deadline has passed
    do {
        s_refresh (self);
        if (cond (self, arg)) {
            return 0;
        }
        if (s_try_reap (self)) {
            //  Everything the child wrote is in the files now
            s_refresh (self);
            return cond (self, arg) ? 0 : -1;
        }
    } while (s_pause (self, deadline, &backoff_ms));
    return -1;
}

//  Our environment with `extra` ("K=V") added; an extra replaces a variable of the same name.
//  The strings are borrowed; free only the array.
static char **
s_env_merge (char *const extra[])
{
    size_t n_env = 0;
    size_t n_extra = 0;
    while (environ && environ[n_env]) {
        n_env++;
    }
    while (extra && extra[n_extra]) {
        assert (strchr (extra[n_extra], '='));
        n_extra++;
    }
    char **envp = calloc (n_env + n_extra + 1, sizeof *envp);
    if (!envp) {
        return NULL;
    }
    size_t n = 0;
    for (size_t i = 0; i < n_env; i++) {
        const char *eq = strchr (environ[i], '=');
        size_t keylen = eq ? (size_t) (eq - environ[i]) : strlen (environ[i]);
        bool replaced = false;
        for (size_t j = 0; j < n_extra && !replaced; j++) {
            replaced = strncmp (extra[j], environ[i], keylen) == 0 && extra[j][keylen] == '=';
        }
        if (!replaced) {
            envp[n++] = environ[i];
        }
    }
    for (size_t j = 0; j < n_extra; j++) {
        envp[n++] = extra[j];
    }
    envp[n] = NULL;
    return envp;
}

//  Event sources for s_pause; on any failure we fall back to the polling backoff
static void
s_watch (gc_proc_t *self)
{
#ifdef SYS_pidfd_open
    self->pidfd = (int) syscall (SYS_pidfd_open, self->pid, 0);
    if (self->pidfd >= 0) {
        fcntl (self->pidfd, F_SETFD, FD_CLOEXEC);
    }
#endif
    self->inotify_fd = inotify_init1 (IN_NONBLOCK | IN_CLOEXEC);
    if (self->inotify_fd >= 0 &&
        (inotify_add_watch (self->inotify_fd, self->out.path, IN_MODIFY) < 0 ||
         inotify_add_watch (self->inotify_fd, self->err.path, IN_MODIFY) < 0)) {
        s_close (&self->inotify_fd);
    }
}

gc_proc_t *
gc_proc_start (const char *dir, const char *tag, char *const argv[], char *const env[],
               bool with_stdin)
{
    assert (dir);
    assert (tag);
    assert (argv && argv[0]);

    //  A child that exits before reading its stdin must make our write fail with EPIPE, not
    //  kill the test. The child gets the default action back (POSIX_SPAWN_SETSIGDEF below).
    struct sigaction ignore = { .sa_handler = SIG_IGN };
    sigemptyset (&ignore.sa_mask);
    sigaction (SIGPIPE, &ignore, NULL);

    gc_proc_t *self = calloc (1, sizeof *self);
    if (!self) {
        return NULL;
    }
    self->pid = -1;
    self->stdin_fd = -1;
    self->pidfd = -1;
    self->inotify_fd = -1;
    s_capture_init (&self->out);
    s_capture_init (&self->err);

    int child_in = -1;
    int child_out = -1;
    int child_err = -1;
    char **envp = NULL;
    bool have_actions = false;
    bool have_attr = false;
    posix_spawn_file_actions_t actions;
    posix_spawnattr_t attr;
    int rc = -1;

    self->tag = strdup (tag);
    envp = s_env_merge (env);
    if (!self->tag || !envp) {
        fprintf (stderr, "cannot start '%s': out of memory\n", argv[0]);
        goto cleanup;
    }
    child_out = s_capture_open (&self->out, dir, tag, ".out");
    if (child_out < 0) {
        goto cleanup;
    }
    child_err = s_capture_open (&self->err, dir, tag, ".err");
    if (child_err < 0) {
        goto cleanup;
    }
    if (with_stdin) {
        int fds[2];
        if (pipe2 (fds, O_CLOEXEC) != 0) {
            fprintf (stderr, "cannot start '%s': pipe: %s\n", argv[0], strerror (errno));
            goto cleanup;
        }
        child_in = fds[0];
        self->stdin_fd = fds[1];
        //  Our end never blocks: writes wait in poll () with a deadline instead
        fcntl (self->stdin_fd, F_SETFL, fcntl (self->stdin_fd, F_GETFL) | O_NONBLOCK);
    }
    else {
        child_in = open ("/dev/null", O_RDONLY | O_CLOEXEC);
        if (child_in < 0) {
            fprintf (stderr, "cannot open '/dev/null': %s\n", strerror (errno));
            goto cleanup;
        }
    }

    if (posix_spawn_file_actions_init (&actions) != 0) {
        goto cleanup;
    }
    have_actions = true;
    if (posix_spawnattr_init (&attr) != 0) {
        goto cleanup;
    }
    have_attr = true;
    //  dup2 clears close-on-exec on 0, 1, 2; every other descriptor of ours is O_CLOEXEC
    sigset_t defaults;
    sigset_t mask;
    sigemptyset (&defaults);
    int reset[] = { SIGPIPE, SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGCHLD };
    for (size_t i = 0; i < sizeof reset / sizeof reset[0]; i++) {
        sigaddset (&defaults, reset[i]);
    }
    sigemptyset (&mask);
    if (posix_spawn_file_actions_adddup2 (&actions, child_in, STDIN_FILENO) != 0 ||
        posix_spawn_file_actions_adddup2 (&actions, child_out, STDOUT_FILENO) != 0 ||
        posix_spawn_file_actions_adddup2 (&actions, child_err, STDERR_FILENO) != 0 ||
        posix_spawn_file_actions_addchdir_np (&actions, dir) != 0 ||
        posix_spawnattr_setsigdefault (&attr, &defaults) != 0 ||
        posix_spawnattr_setsigmask (&attr, &mask) != 0 ||
        posix_spawnattr_setflags (&attr, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK) != 0) {
        fprintf (stderr, "cannot start '%s': cannot set up spawn\n", argv[0]);
        goto cleanup;
    }
    pid_t pid;
    int spawn_rc = posix_spawn (&pid, argv[0], &actions, &attr, argv, envp);
    if (spawn_rc != 0) {
        fprintf (stderr, "cannot start '%s': %s\n", argv[0], strerror (spawn_rc));
        goto cleanup;
    }
    s_live_add (self);
    self->pid = pid;
    s_watch (self);
    rc = 0;

cleanup:
    if (have_actions) {
        posix_spawn_file_actions_destroy (&actions);
    }
    if (have_attr) {
        posix_spawnattr_destroy (&attr);
    }
    free (envp);
    s_close (&child_in);
    s_close (&child_out);
    s_close (&child_err);
    if (rc != 0) {
        gc_proc_destroy (&self);
    }
    return self;
}

typedef struct {
    const char *prefix; //  what the line starts with
    char *out;          //  receives the rest of the line, may be NULL
    size_t outlen;      //  size of out
    bool too_long;      //  the line was found but does not fit in out
} s_line_arg_t;

//  Finds a complete line starting with arg->prefix in data; an unterminated last line counts
//  only once the writer has exited (it will never be completed)
static bool
s_find_line (const char *data, size_t size, bool final, s_line_arg_t *arg)
{
    size_t plen = strlen (arg->prefix);
    const char *line = data;
    const char *end = data + size;
    //  Bounded: every pass moves line forward past a newline, or returns
    while (line < end) {
        const char *nl = memchr (line, '\n', (size_t) (end - line));
        if (!nl && !final) {
            return false;
        }
        const char *eol = nl ? nl : end;
        if ((size_t) (eol - line) >= plen && memcmp (line, arg->prefix, plen) == 0) {
            size_t restlen = (size_t) (eol - line) - plen;
            if (arg->out) {
                if (restlen >= arg->outlen) {
                    arg->too_long = true;
                    return true;
                }
                memcpy (arg->out, line + plen, restlen);
                arg->out[restlen] = '\0';
            }
            return true;
        }
        if (!nl) {
            return false;
        }
        line = nl + 1;
    }
    return false;
}

static bool
s_cond_line (gc_proc_t *self, void *varg)
{
    s_line_arg_t *arg = varg;
    return s_find_line (self->out.data, self->out.size, self->reaped, arg) ||
           s_find_line (self->err.data, self->err.size, self->reaped, arg);
}

int
gc_proc_wait_line (gc_proc_t *self, const char *prefix, int timeout_ms, char *out, size_t outlen)
{
    assert (self);
    assert (prefix);
    assert (!out || outlen > 0);
    s_line_arg_t arg = { .prefix = prefix, .out = out, .outlen = outlen };
    if (s_wait_for (self, s_cond_line, &arg, timeout_ms) != 0) {
        return -1;
    }
    if (arg.too_long) {
        fprintf (stderr, "cannot read '%s' line of '%s': longer than %zu bytes\n", prefix,
                 self->tag, outlen - 1);
        return -1;
    }
    return 0;
}

static int
s_count (const char *haystack, const char *needle)
{
    int count = 0;
    size_t nlen = strlen (needle);
    //  Bounded: every pass moves past a match
    for (const char *p = strstr (haystack, needle); p; p = strstr (p + nlen, needle)) {
        count++;
    }
    return count;
}

typedef struct {
    const char *needle; //  what to count
    int count;          //  how many are wanted
} s_output_arg_t;

static bool
s_cond_output (gc_proc_t *self, void *varg)
{
    s_output_arg_t *arg = varg;
    return s_count (self->out.data, arg->needle) + s_count (self->err.data, arg->needle) >=
           arg->count;
}

int
gc_proc_wait_output (gc_proc_t *self, const char *needle, int count, int timeout_ms)
{
    assert (self);
    assert (needle && *needle);
    s_output_arg_t arg = { .needle = needle, .count = count };
    return s_wait_for (self, s_cond_output, &arg, timeout_ms);
}

//  Writes all of data before the deadline. Returns 0, or -1 (deadline, or the reader is gone)
static int
s_write_until (gc_proc_t *self, const char *data, size_t len, int64_t deadline)
{
    if (self->stdin_fd < 0) {
        return -1;
    }
    size_t done = 0;
    //  Bounded: each pass either writes, or waits in poll () for at most the remaining time
    //  and gives up once the deadline has passed
    while (done < len) {
        ssize_t n = write (self->stdin_fd, data + done, len - done);
        if (n > 0) {
            done += (size_t) n;
            continue;
        }
        if (n < 0 && errno != EAGAIN && errno != EINTR) {
            fprintf (stderr, "cannot write to '%s': %s\n", self->tag, strerror (errno));
            return -1;
        }
        int64_t remaining = deadline - s_now_ms ();
        if (remaining <= 0) {
            fprintf (stderr, "cannot write to '%s': it did not read its input in time\n",
                     self->tag);
            return -1;
        }
        struct pollfd pfd = { .fd = self->stdin_fd, .events = POLLOUT };
        poll (&pfd, 1, remaining < INT_MAX ? (int) remaining : INT_MAX);
    }
    return 0;
}

int
gc_proc_write (gc_proc_t *self, const char *data, size_t len)
{
    assert (self);
    assert (data || len == 0);
    return s_write_until (self, data, len, s_now_ms () + GC_PROC_WRITE_TIMEOUT_MS);
}

void
gc_proc_close_stdin (gc_proc_t *self)
{
    assert (self);
    s_close (&self->stdin_fd);
}

int
gc_proc_kill (gc_proc_t *self, int sig)
{
    assert (self);
    //  A reaped pid may already belong to another process
    if (s_try_reap (self)) {
        return -1;
    }
    return kill (self->pid, sig) == 0 ? 0 : -1;
}

static bool
s_cond_reaped (gc_proc_t *self, void *arg)
{
    (void) arg;
    return self->reaped;
}

int
gc_proc_wait (gc_proc_t *self, int timeout_ms)
{
    assert (self);
    if (s_wait_for (self, s_cond_reaped, NULL, timeout_ms) != 0) {
        return -1;
    }
    return self->status;
}

int
gc_proc_stop (gc_proc_t *self, int timeout_ms)
{
    assert (self);
    if (gc_proc_kill (self, SIGTERM) == 0 && gc_proc_wait (self, timeout_ms) == -1 &&
        !self->reaped) {
        fprintf (stderr, "'%s' (pid %d) ignored SIGTERM for %d ms: killing it\n", self->tag,
                 (int) self->pid, timeout_ms);
        gc_proc_kill (self, SIGKILL);
    }
    return gc_proc_wait (self, GC_PROC_KILL_WAIT_MS);
}

char *
gc_proc_stdout (gc_proc_t *self)
{
    assert (self);
    s_capture_refresh (&self->out);
    return strdup (self->out.data);
}

char *
gc_proc_stderr (gc_proc_t *self)
{
    assert (self);
    s_capture_refresh (&self->err);
    return strdup (self->err.data);
}

pid_t
gc_proc_pid (gc_proc_t *self)
{
    assert (self);
    return self->pid;
}

static const char *s_dirty_marks[] = {
    "dangling",       "AddressSanitizer",           "LeakSanitizer",
    "runtime error:", "UndefinedBehaviorSanitizer", NULL
};

//  Prints each line of capture that carries a dirty mark. Returns the number of such lines.
static int
s_report_dirty (const char *tag, const char *stream, const char *data)
{
    int dirty = 0;
    const char *line = data;
    //  Bounded: every pass moves line past a newline, or ends
    while (*line) {
        const char *nl = strchr (line, '\n');
        size_t len = nl ? (size_t) (nl - line) : strlen (line);
        for (const char **mark = s_dirty_marks; *mark; mark++) {
            size_t mlen = strlen (*mark);
            bool hit = false;
            for (size_t i = 0; i + mlen <= len && !hit; i++) {
                hit = memcmp (line + i, *mark, mlen) == 0;
            }
            if (hit) {
                fprintf (stderr, "%s.%s: %.*s\n", tag, stream, (int) len, line);
                dirty++;
                break;
            }
        }
        line += len + (nl ? 1 : 0);
    }
    return dirty;
}

bool
gc_proc_clean (gc_proc_t *self)
{
    assert (self);
    s_refresh (self);
    int dirty = s_report_dirty (self->tag, "out", self->out.data) +
                s_report_dirty (self->tag, "err", self->err.data);
    if (dirty > 0 && self->err.size > 0) {
        //  The matching lines alone do not say where: give the whole report (the temp dir,
        //  and the files in it, are usually gone by the time someone reads the log)
        fprintf (stderr, "---- %s stderr ----\n%s---- end of %s stderr ----\n", self->tag,
                 self->err.data, self->tag);
    }
    return dirty == 0;
}

void
gc_proc_kill_all (void)
{
    for (size_t i = 0; i < s_live_count; i++) {
        gc_proc_t *proc = s_live[i];
        if (proc->pid > 0 && !s_try_reap (proc)) {
            fprintf (stderr, "killing '%s' (pid %d), left running by the case\n", proc->tag,
                     (int) proc->pid);
            kill (proc->pid, SIGKILL);
            gc_proc_wait (proc, GC_PROC_KILL_WAIT_MS);
        }
    }
}

void
gc_proc_destroy (gc_proc_t **self_p)
{
    assert (self_p);
    gc_proc_t *self = *self_p;
    if (!self) {
        return;
    }
    s_live_remove (self);
    s_close (&self->stdin_fd);
    if (self->pid > 0 && !s_try_reap (self)) {
        kill (self->pid, SIGKILL);
        if (gc_proc_wait (self, GC_PROC_KILL_WAIT_MS) == -1 && !self->reaped) {
            fprintf (stderr, "cannot reap '%s' (pid %d): still running after SIGKILL\n", self->tag,
                     (int) self->pid);
        }
    }
    s_close (&self->pidfd);
    s_close (&self->inotify_fd);
    s_capture_free (&self->out);
    s_capture_free (&self->err);
    free (self->tag);
    free (self);
    *self_p = NULL;
}

int
gc_run (const char *dir, char *const argv[], char *const env[], const char *input, int timeout_ms,
        char **out, char **err)
{
    assert (dir);
    assert (argv && argv[0]);
    if (out) {
        *out = NULL;
    }
    if (err) {
        *err = NULL;
    }
    int64_t deadline = s_now_ms () + (timeout_ms > 0 ? timeout_ms : 0);
    //  One pair of files for every gc_run in dir: O_APPEND keeps them as a log of all runs,
    //  and each run reads only its own part
    gc_proc_t *proc = gc_proc_start (dir, "run", argv, env, input != NULL);
    if (!proc) {
        return -1;
    }
    if (input) {
        //  A command may exit without reading all its input: that is for its status to say
        s_write_until (proc, input, strlen (input), deadline);
        gc_proc_close_stdin (proc);
    }
    int64_t remaining = deadline - s_now_ms ();
    int status = gc_proc_wait (proc, remaining > 0 ? (int) remaining : 0);
    if (status == -1 && !proc->reaped) {
        fprintf (stderr, "'%s' did not finish in %d ms: killing it\n", argv[0], timeout_ms);
        gc_proc_kill (proc, SIGKILL);
        gc_proc_wait (proc, GC_PROC_KILL_WAIT_MS);
        status = -1;
    }
    if (out) {
        *out = gc_proc_stdout (proc);
    }
    if (err) {
        *err = gc_proc_stderr (proc);
    }
    gc_proc_destroy (&proc);
    return status;
}
