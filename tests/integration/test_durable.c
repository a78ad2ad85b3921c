/*  test_durable - durable history in SQLite: acknowledged means stored, whatever happens to the
    group; idempotent retries; bad databases and a busy data directory refused at start
    SPDX-License-Identifier: MPL-2.0

    Every case runs the real binaries on loopback (gc_itest). The senders are the real
    `groupcast send GROUP --json` fed numbered lines "s<k>-<n>" on stdin, and what they print is
    what was acknowledged. The checks are the same everywhere: history has contiguous sequence
    numbers from 1, every acknowledged message is in it exactly once at the acknowledged seq,
    and nothing is in it that was never sent. The database itself is checked with SQLite's own
    PRAGMA integrity_check, through a read-only connection of the test's own.

    Each sender's order across a restart is checked too: in kill_under_load, and on its own in
    sender_order_across_restart (see the comment above s_order_body).

    Two cases need root: the full disk (a small tmpfs mounted in the test's directory; skipped,
    with the reason printed, only when mount fails with EPERM) and the read-only database (the
    ext4 immutable flag on the database files while the group runs; skipped, with the reason,
    when the filesystem does not refuse writes to an immutable file).
*/
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <netinet/in.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "gc_itest.h"
#include "gc_jsonl.h"
#include "gc_test.h"
#include "gc_wire.h"

#define CLIENT(sys, user, input, out, err, ...)                                                \
    gc_itest_client (sys, user, input, out, err, __VA_ARGS__, (const char *) NULL)

#define S_TEXT 24   //  room for one test message text ("s2-2999", "while-full-1" ...)

//  ---------------------------------------------------------------------------------------------
//  Reading --json output

//  The lines of one --json output that carry a seq, in output order.
typedef struct {
    long long *seq;           //  seq of each line
    long long *ts_us;         //  its timestamp
    char (*text)[S_TEXT];     //  message text ("" for events; cut to S_TEXT - 1 bytes)
    bool *event;              //  a join or leave line
    int count;                //  lines read
    int capacity;             //  slots allocated
} s_lines_t;

static bool
s_collect (void *arg, const char *line)
{
    s_lines_t *lines = (s_lines_t *) arg;
    long long seq = gc_jsonl_num (line, "seq");
    if (seq < 0 || lines->count == lines->capacity) {
        return true;
    }
    int i = lines->count++;
    lines->seq[i] = seq;
    lines->ts_us[i] = gc_jsonl_num (line, "ts_us");
    char event[16];
    lines->event[i] = gc_jsonl_str (line, "event", event, sizeof event);
    if (!gc_jsonl_str (line, "text", lines->text[i], S_TEXT)) {
        lines->text[i][0] = '\0';
    }
    return true;
}

static void
s_lines_destroy (s_lines_t **self_p)
{
    s_lines_t *self = *self_p;
    if (self) {
        free (self->seq);
        free (self->ts_us);
        free (self->text);
        free (self->event);
        free (self);
        *self_p = NULL;
    }
}

//  Parses --json output (may be NULL: no lines). Returns an owned result, or NULL if out of
//  memory.
static s_lines_t *
s_lines_parse (const char *text)
{
    s_lines_t *self = (s_lines_t *) calloc (1, sizeof (s_lines_t));
    if (!self) {
        return NULL;
    }
    self->capacity = (text ? gc_jsonl_count (text) : 0) + 1;
    self->seq = (long long *) calloc ((size_t) self->capacity, sizeof (long long));
    self->ts_us = (long long *) calloc ((size_t) self->capacity, sizeof (long long));
    self->text = calloc ((size_t) self->capacity, S_TEXT);
    self->event = (bool *) calloc ((size_t) self->capacity, sizeof (bool));
    if (!self->seq || !self->ts_us || !self->text || !self->event) {
        s_lines_destroy (&self);
        return NULL;
    }
    if (text) {
        gc_jsonl_each (text, s_collect, self);
    }
    return self;
}

//  A process's --json stdout so far, parsed; owned.
static s_lines_t *
s_lines_of (gc_proc_t *proc)
{
    char *text = gc_proc_stdout (proc);
    s_lines_t *lines = s_lines_parse (text);
    free (text);
    return lines;
}

//  Reads a sender's text "s<k>-<n>"; false if it is anything else.
static bool
s_parse_text (const char *text, int *k, int *n)
{
    int used = 0;
    return sscanf (text, "s%d-%d%n", k, n, &used) == 2 && used > 0 && text[used] == '\0'
           && *k >= 0 && *n >= 0;
}

//  True when the lines' seqs are 1, 2, 3 ... and their timestamps never go back; prints the
//  first break otherwise.
static bool
s_contiguous_from_one (const s_lines_t *lines)
{
    for (int i = 0; i < lines->count; i++) {
        if (lines->seq[i] != i + 1) {
            fprintf (stderr, "history line %d has seq %lld, expected %d\n", i, lines->seq[i],
                     i + 1);
            return false;
        }
        if (i > 0 && lines->ts_us[i] < lines->ts_us[i - 1]) {
            fprintf (stderr, "history seq %lld goes back in time\n", lines->seq[i]);
            return false;
        }
    }
    return true;
}

//  ---------------------------------------------------------------------------------------------
//  Process and file helpers

//  Lines "s<k>-<from>" .. "s<k>-<to - 1>" written to a sender's stdin.
static int
s_feed (gc_proc_t *sender, int k, int from, int to)
{
    size_t size = (size_t) (to - from) * 16 + 1;
    char *buffer = (char *) malloc (size);
    if (!buffer) {
        return -1;
    }
    size_t len = 0;
    for (int n = from; n < to; n++) {
        len += (size_t) snprintf (buffer + len, size - len, "s%d-%d\n", k, n);
    }
    int rc = gc_proc_write (sender, buffer, len);
    free (buffer);
    return rc;
}

//  Binds a TCP socket of ours to the port of endpoint ("tcp://127.0.0.1:PORT") with
//  SO_REUSEADDR, never listening on it. Returns its descriptor, or -1 (printed).
static int
s_hold_port (const char *endpoint)
{
    const char *colon = strrchr (endpoint, ':');
    long port = colon ? strtol (colon + 1, NULL, 10) : 0;
    int fd = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int on = 1;
    struct sockaddr_in addr;
    memset (&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_port = htons ((uint16_t) port);
    addr.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
    if (fd < 0 || port <= 0 || port > 65535
        || setsockopt (fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on) != 0
        || bind (fd, (struct sockaddr *) &addr, sizeof addr) != 0) {
        fprintf (stderr, "cannot hold the port of %s: %s\n", endpoint, strerror (errno));
        if (fd >= 0) {
            close (fd);
        }
        return -1;
    }
    return fd;
}

//  Stops the group "ops" with signal sig (SIGKILL, or SIGTERM: then it must exit 0 with clean
//  output), then starts it again on the same data and the same endpoints, so that clients
//  reconnect by themselves. Returns the new process, or NULL (printed).
//
//  While it is down its ports must not go to anyone else: a port just freed may be handed to
//  another process binding port 0 (another test) or to an outgoing connection, and then the
//  restart fails with "Address already in use" (seen here with czmq's `*` ports). So from the
//  moment the old process is reaped until the new one is READY, a socket of ours holds each
//  port: bound with SO_REUSEADDR and never listening, which a listener with SO_REUSEADDR
//  (libzmq's) may share, but which the kernel's automatic choice (bind to port 0, connect)
//  never picks.
static gc_proc_t *
s_restart (gc_itest_t *sys, gc_proc_t *group, int sig, const char *ep, const char *pub)
{
    bool clean = true;
    int status = -1;
    if (sig == SIGKILL) {
        status = gc_proc_kill (group, SIGKILL) == 0 ? gc_itest_stop (sys, group, NULL) : -1;
    }
    else {
        status = gc_itest_stop (sys, group, &clean);
    }
    if (status != (sig == SIGKILL ? 128 + SIGKILL : 0) || !clean) {
        fprintf (stderr, "stopped group ended with status %d%s\n", status,
                 clean ? "" : ", output not clean");
        return NULL;
    }
    int held[2] = {s_hold_port (ep), s_hold_port (pub)};
    const char *args[] = {"--bind", ep, "--pub", pub, NULL};
    char ep2[256], pub2[256];
    gc_proc_t *again = gc_itest_group (sys, "ops", args, ep2, pub2);
    for (int i = 0; i < 2; i++) {
        if (held[i] >= 0) {
            close (held[i]);
        }
    }
    if (again && (strcmp (ep, ep2) != 0 || strcmp (pub, pub2) != 0)) {
        fprintf (stderr, "restarted group moved: %s %s, was %s %s\n", ep2, pub2, ep, pub);
        return NULL;
    }
    return again;
}

//  Stops every process of sys but the registry (so nothing holds files open). Returns true if
//  each one's output was clean.
static bool
s_stop_groups_and_clients (gc_itest_t *sys)
{
    bool clean = true;
    //  Bounded: every pass stops and forgets one process.
    while (sys->nprocs > 0) {
        bool ok = true;
        gc_itest_stop (sys, sys->procs[sys->nprocs - 1], &ok);
        clean = clean && ok;
    }
    return clean;
}

//  True when the captured stderr of a finished command has no sanitizer report or dangling
//  socket warning.
static bool
s_clean_text (const char *err)
{
    return err && !strstr (err, "dangling") && !strstr (err, "Sanitizer")
           && !strstr (err, "runtime error:");
}

//  Runs groupcast-group for group `name` on data directory `data` and expects it to refuse to
//  start: a non-zero exit within the deadline, no READY line. Returns its stderr (owned) or
//  NULL if it did not behave so (printed).
static char *
s_group_refused (gc_itest_t *sys, const char *name, const char *data)
{
    char *bin = gc_bin (sys->bin_dir, "groupcast-group");
    const char *argv[] = {bin,    "--name", name,   "--server", sys->server_ep, "--bind",
                          "tcp://127.0.0.1:0", "--pub", "tcp://127.0.0.1:0", "--data", data,
                          "--timeout", "2000", NULL};
    char *out = NULL, *err = NULL;
    int rc = gc_run (sys->dir, (char *const *) argv, NULL, NULL, 15000, &out, &err);
    free (bin);
    bool ok = rc > 0 && rc < 128 && out && !strstr (out, "READY") && s_clean_text (err);
    if (!ok) {
        fprintf (stderr, "group '%s' on '%s' was not refused cleanly: exit %d\nstdout:\n%s\n"
                 "stderr:\n%s\n", name, data, rc, out ? out : "", err ? err : "");
        free (err);
        err = NULL;
    }
    free (out);
    return err;
}

//  The whole content of a file (owned, *size set), or NULL.
static char *
s_read_file (const char *path, size_t *size)
{
    FILE *file = fopen (path, "rb");
    if (!file) {
        return NULL;
    }
    char *data = NULL;
    long len = -1;
    if (fseek (file, 0, SEEK_END) == 0) {
        len = ftell (file);
    }
    if (len >= 0 && fseek (file, 0, SEEK_SET) == 0) {
        data = (char *) malloc ((size_t) len + 1);
    }
    if (data && fread (data, 1, (size_t) len, file) != (size_t) len) {
        free (data);
        data = NULL;
    }
    fclose (file);
    if (data) {
        *size = (size_t) len;
    }
    return data;
}

//  True when file `path` holds exactly size bytes of data.
static bool
s_file_is (const char *path, const char *data, size_t size)
{
    size_t now_size = 0;
    char *now = s_read_file (path, &now_size);
    bool same = now && now_size == size && memcmp (now, data, size) == 0;
    free (now);
    return same;
}

//  PRAGMA integrity_check on the database at path through a read-only connection of our own
//  (which never checkpoints, so it changes nothing, even while the group runs). True if "ok";
//  prints the problems otherwise, unless quiet.
static bool
s_integrity (const char *path, bool quiet)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *stmt = NULL;
    bool ok = false;
    int rc = sqlite3_open_v2 (path, &db, SQLITE_OPEN_READONLY, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_db_config (db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, (int *) NULL);
        sqlite3_busy_timeout (db, 10000);
        rc = sqlite3_prepare_v2 (db, "PRAGMA integrity_check", -1, &stmt, NULL);
    }
    if (rc != SQLITE_OK) {
        fprintf (stderr, "cannot check '%s': %s\n", path, db ? sqlite3_errmsg (db) : "no memory");
        goto cleanup;
    }
    int rows = 0;
    bool all_ok = true;
    //  Bounded: integrity_check returns at most 100 rows.
    while ((rc = sqlite3_step (stmt)) == SQLITE_ROW) {
        const char *result = (const char *) sqlite3_column_text (stmt, 0);
        rows++;
        if (!result || strcmp (result, "ok") != 0) {
            if (!quiet) {
                fprintf (stderr, "integrity_check of '%s': %s\n", path,
                         result ? result : "(null)");
            }
            all_ok = false;
        }
    }
    if (rc != SQLITE_DONE) {
        if (!quiet) {
            fprintf (stderr, "cannot check '%s': %s\n", path, sqlite3_errmsg (db));
        }
        goto cleanup;
    }
    ok = all_ok && rows == 1;

cleanup:
    sqlite3_finalize (stmt);
    sqlite3_close (db);
    return ok;
}

static bool
s_integrity_ok (const char *path)
{
    return s_integrity (path, false);
}

//  True when the file at path does not exist or is empty.
static bool
s_absent_or_empty (const char *path)
{
    struct stat st;
    if (stat (path, &st) != 0) {
        return errno == ENOENT;
    }
    if (st.st_size != 0) {
        fprintf (stderr, "'%s' holds %lld bytes\n", path, (long long) st.st_size);
    }
    return st.st_size == 0;
}

static long long
s_file_size (const char *path)
{
    struct stat st;
    return stat (path, &st) == 0 ? (long long) st.st_size : -1;
}

//  Runs `body` against a fresh system (a registry in its own temp directory) and tears it down
//  whatever body did: a failed CHECK inside it leaves no process behind.
static void
s_with_system (const char *tag, void (*body) (gc_itest_t *sys))
{
    gc_itest_t *sys = gc_itest_new (GC_BIN_DIR, tag, true, NULL);
    CHECK (sys);
    body (sys);
    //  A failed case keeps its files (the processes' output) for a look.
    bool keep = gc_test_failed && !getenv ("GC_KEEP_TMP");
    if (keep) {
        setenv ("GC_KEEP_TMP", "1", 1);
    }
    bool clean = gc_itest_destroy (&sys);
    if (keep) {
        unsetenv ("GC_KEEP_TMP");
    }
    CHECK (clean);
}

//  ---------------------------------------------------------------------------------------------
//  kill -9 under load

#define S_SENDERS  3      //  concurrent senders, each its own user
#define S_MESSAGES 3000   //  lines each sends
#define S_KILLS    4      //  kill -9 and restart this many times

//  Checks history against what each sender had acknowledged: contiguous seqs from 1, `joins`
//  join entries first, then messages, each one sent, none twice, every acknowledged one at its
//  acknowledged seq. Counts into *disordered the acknowledged messages stored before an earlier
//  one of the same sender (printing the first), and fails on them only when check_order.
//  Prints the first problem and returns false.
static bool
s_verify_history (const s_lines_t *history, s_lines_t *const *acked, int joins,
                  bool check_order, int *disordered)
{
    *disordered = 0;
    size_t slots = (size_t) S_SENDERS * S_MESSAGES;
    long long *stored_at = (long long *) calloc (slots, sizeof (long long));
    long long *acked_at = (long long *) calloc (slots, sizeof (long long));
    bool ok = false;
    if (!stored_at || !acked_at) {
        goto cleanup;
    }
    if (!s_contiguous_from_one (history)) {
        goto cleanup;
    }
    for (int i = 0; i < history->count; i++) {
        if (history->event[i] != (i < joins)) {
            fprintf (stderr, "history seq %lld: %s where %s expected\n", history->seq[i],
                     history->event[i] ? "an event" : "a message",
                     i < joins ? "a join" : "a message");
            goto cleanup;
        }
        if (history->event[i]) {
            continue;
        }
        int k, n;
        //  Nothing that was never sent.
        if (!s_parse_text (history->text[i], &k, &n) || k >= S_SENDERS || n >= S_MESSAGES) {
            fprintf (stderr, "history seq %lld holds '%s', which was never sent\n",
                     history->seq[i], history->text[i]);
            goto cleanup;
        }
        //  Nothing twice.
        size_t slot = (size_t) k * S_MESSAGES + (size_t) n;
        if (stored_at[slot]) {
            fprintf (stderr, "'%s' is stored twice: seq %lld and %lld\n", history->text[i],
                     stored_at[slot], history->seq[i]);
            goto cleanup;
        }
        stored_at[slot] = history->seq[i];
    }
    for (int k = 0; k < S_SENDERS; k++) {
        const s_lines_t *lines = acked[k];
        for (int i = 0; i < lines->count; i++) {
            int sender, n;
            if (!s_parse_text (lines->text[i], &sender, &n) || sender != k || n >= S_MESSAGES) {
                fprintf (stderr, "sender %d acknowledged '%s', which it never sent\n", k,
                         lines->text[i]);
                goto cleanup;
            }
            size_t slot = (size_t) k * S_MESSAGES + (size_t) n;
            if (acked_at[slot]) {
                fprintf (stderr, "sender %d printed '%s' twice\n", k, lines->text[i]);
                goto cleanup;
            }
            acked_at[slot] = lines->seq[i];
            //  Every acknowledged message is stored, at the seq it was acknowledged with.
            if (stored_at[slot] != lines->seq[i]) {
                fprintf (stderr, "'%s' was acknowledged as seq %lld but is %s%lld in history\n",
                         lines->text[i], lines->seq[i], stored_at[slot] ? "at seq " : "not ",
                         stored_at[slot]);
                goto cleanup;
            }
        }
        //  In the sender's order.
        long long previous = 0;
        int previous_n = -1;
        for (int n = 0; n < S_MESSAGES; n++) {
            long long seq = acked_at[(size_t) k * S_MESSAGES + (size_t) n];
            if (!seq) {
                continue;
            }
            if (seq < previous) {
                if ((*disordered)++ == 0 && check_order) {
                    fprintf (stderr, "out of sender order: 's%d-%d' is seq %lld, before 's%d-%d'"
                             " at seq %lld\n", k, n, seq, k, previous_n, previous);
                }
                continue;
            }
            previous = seq;
            previous_n = n;
        }
    }
    ok = !check_order || *disordered == 0;

cleanup:
    free (stored_at);
    free (acked_at);
    return ok;
}

static void
s_kill_under_load (gc_itest_t *sys)
{
    unsigned seed = (unsigned) time (NULL) ^ (unsigned) getpid ();
    if (getenv ("GC_TEST_SEED")) {
        seed = (unsigned) strtoul (getenv ("GC_TEST_SEED"), NULL, 10);
    }
    printf ("kill_under_load: seed %u (GC_TEST_SEED=%u repeats it)\n", seed, seed);
    fflush (stdout);
    char ep[256], pub[256], db[1200];
    snprintf (db, sizeof db, "%s/data/ops/group.db", sys->dir);
    gc_proc_t *group = gc_itest_group (sys, "ops", NULL, ep, pub);
    CHECK (group);
    const char *users[S_SENDERS] = {"s0", "s1", "s2"};
    for (int k = 0; k < S_SENDERS; k++) {
        CHECK_INT_EQ (CLIENT (sys, users[k], NULL, NULL, NULL, "join", "ops"), 0);
    }
    gc_proc_t *senders[S_SENDERS];
    for (int k = 0; k < S_SENDERS; k++) {
        senders[k] = gc_itest_client_start (sys, users[k], 1, "--timeout", "1000", "send", "ops",
                                            "--json", (const char *) NULL);
        CHECK (senders[k]);
    }
    //  The lines go in S_KILLS + 1 slices, each kill at a random moment within a slice: once
    //  sender 0 has a random number of that slice's messages acknowledged. So every kill comes
    //  before the senders are done, however fast they are.
    int fed = 0;
    for (int kill = 0; kill <= S_KILLS; kill++) {
        int next = S_MESSAGES * (kill + 1) / (S_KILLS + 1);
        for (int k = 0; k < S_SENDERS; k++) {
            CHECK_INT_EQ (s_feed (senders[k], k, fed, next), 0);
        }
        if (kill == S_KILLS) {
            break;
        }
        int target = fed + 1 + (int) (rand_r (&seed) % (unsigned) (next - fed));
        fed = next;
        if (gc_proc_wait_output (senders[0], "\"seq\":", target, 30000) != 0) {
            fprintf (stderr, "sender 0 did not reach %d acknowledgements:\n", target);
            for (int k = 0; k < S_SENDERS; k++) {
                char *text = gc_proc_stdout (senders[k]);
                char *err = gc_proc_stderr (senders[k]);
                fprintf (stderr, "sender %d: %d acknowledged; stderr:\n%.2000s\n", k,
                         gc_jsonl_count (text), err ? err : "");
                free (text);
                free (err);
            }
        }
        CHECK_INT_EQ (gc_proc_wait_output (senders[0], "\"seq\":", target, 0), 0);
        group = s_restart (sys, group, SIGKILL, ep, pub);
        printf ("kill %d after %d acknowledgements of sender 0\n", kill + 1, target);
        fflush (stdout);
        CHECK (group);
        CHECK (s_integrity_ok (db));
    }
    for (int k = 0; k < S_SENDERS; k++) {
        gc_proc_close_stdin (senders[k]);
    }
    //  Each retried what the kills lost, with the same message ids, and got every ack.
    s_lines_t *acked[S_SENDERS] = {NULL};
    for (int k = 0; k < S_SENDERS; k++) {
        int status = gc_proc_wait (senders[k], 60000);
        acked[k] = s_lines_of (senders[k]);
        CHECK (acked[k]);
        if (status != 0 || acked[k]->count != S_MESSAGES) {
            char *err = gc_proc_stderr (senders[k]);
            fprintf (stderr, "sender %d: exit %d, %d acknowledged:\n%s\n", k, status,
                     acked[k]->count, err ? err : "");
            free (err);
        }
        CHECK_INT_EQ (status, 0);
        CHECK_INT_EQ (acked[k]->count, S_MESSAGES);
        bool clean = false;
        gc_itest_stop (sys, senders[k], &clean);
        CHECK (clean);
    }
    char *out = NULL;
    CHECK_INT_EQ (CLIENT (sys, "s0", NULL, &out, NULL, "history", "ops", "--json"), 0);
    s_lines_t *history = s_lines_parse (out);
    free (out);
    CHECK (history);
    int disordered = 0;
    bool verified = s_verify_history (history, acked, S_SENDERS, false, &disordered);
    int stored = history->count;
    printf ("kill_under_load: %d acknowledged messages stored out of their sender's order\n",
            disordered);
    s_lines_destroy (&history);
    for (int k = 0; k < S_SENDERS; k++) {
        s_lines_destroy (&acked[k]);
    }
    CHECK (verified);
    CHECK_INT_EQ (disordered, 0);
    CHECK_INT_EQ (stored, S_SENDERS + S_SENDERS * S_MESSAGES);
    CHECK (s_integrity_ok (db));
    //  The last start is stopped cleanly too.
    bool clean = false;
    CHECK_INT_EQ (gc_itest_stop (sys, group, &clean), 0);
    CHECK (clean);
    CHECK (s_integrity_ok (db));
}

static void
test_kill_under_load (void)
{
    s_with_system ("durable-kill", s_kill_under_load);
}

//  ---------------------------------------------------------------------------------------------
//  SIGTERM: finish what was acknowledged, checkpoint, exit 0

static void
s_sigterm_checkpoints (gc_itest_t *sys)
{
    char db[1200], wal[1300];
    snprintf (db, sizeof db, "%s/data/ops/group.db", sys->dir);
    snprintf (wal, sizeof wal, "%s-wal", db);
    char ep[256], pub[256];
    gc_proc_t *group = gc_itest_group (sys, "ops", NULL, ep, pub);
    CHECK (group);
    CHECK_INT_EQ (CLIENT (sys, "s0", NULL, NULL, NULL, "join", "ops"), 0);
    gc_proc_t *sender = gc_itest_client_start (sys, "s0", 1, "--timeout", "1000", "send", "ops",
                                               "--json", (const char *) NULL);
    CHECK (sender);
    CHECK_INT_EQ (s_feed (sender, 0, 0, 2000), 0);
    //  Stopped in the middle of the stream, with the WAL in use.
    unsigned seed = (unsigned) time (NULL) ^ (unsigned) getpid ();
    int target = 200 + (int) (rand_r (&seed) % 1000);
    CHECK_INT_EQ (gc_proc_wait_output (sender, "\"seq\":", target, 30000), 0);
    CHECK (s_file_size (wal) > 0);
    bool clean = false;
    CHECK_INT_EQ (gc_itest_stop (sys, group, &clean), 0);
    //  Its ports are kept for the next start (see s_restart), which the members remember.
    int held[2] = {s_hold_port (ep), s_hold_port (pub)};
    bool wal_done = s_absent_or_empty (wal);
    bool intact = s_integrity_ok (db);

    //  No group answers the sender now: what it was told is final (it prints and flushes each
    //  acknowledgement as it comes, so killing it loses none). Every message acknowledged is
    //  stored; the others may or may not be.
    bool sender_stopped = gc_proc_kill (sender, SIGKILL) == 0 && gc_proc_wait (sender, 15000) >= 0;
    s_lines_t *acked[S_SENDERS] = {s_lines_of (sender), s_lines_parse (NULL),
                                   s_lines_parse (NULL)};
    bool sender_clean = false;
    gc_itest_stop (sys, sender, &sender_clean);
    const char *args[] = {"--bind", ep, "--pub", pub, NULL};
    group = gc_itest_group (sys, "ops", args, NULL, NULL);
    for (int i = 0; i < 2; i++) {
        if (held[i] >= 0) {
            close (held[i]);
        }
    }
    char *out = NULL;
    int rc = group ? CLIENT (sys, "s0", NULL, &out, NULL, "history", "ops", "--json") : -1;
    s_lines_t *history = s_lines_parse (out);
    free (out);
    int disordered = 0;
    bool verified = rc == 0 && history && acked[0] && acked[1] && acked[2]
                    && s_verify_history (history, acked, 1, false, &disordered);
    int acked_count = acked[0] ? acked[0]->count : 0;
    s_lines_destroy (&history);
    for (int k = 0; k < S_SENDERS; k++) {
        s_lines_destroy (&acked[k]);
    }
    printf ("sigterm_checkpoints: %d acknowledged before the group stopped\n", acked_count);
    CHECK (clean);
    CHECK (wal_done);
    CHECK (intact);
    CHECK (sender_stopped);
    CHECK (sender_clean);
    CHECK (group);
    CHECK (verified);
    CHECK (acked_count >= target);
    CHECK_INT_EQ (gc_itest_stop (sys, group, &clean), 0);
    CHECK (clean);
    CHECK (s_absent_or_empty (wal));
}

static void
test_sigterm_checkpoints (void)
{
    s_with_system ("durable-term", s_sigterm_checkpoints);
}

//  ---------------------------------------------------------------------------------------------
//  A sender's messages stay in its order across a restart of the group. The windowed
//  `groupcast send` (gc_client_send_async) keeps up to 100 sends in flight on one DEALER. Before
//  the fix, those the dead group had read but not committed were resent only at their timeout,
//  while the sends queued behind them in the DEALER's pipe reached the restarted group first and
//  were stored first (seen: s0-651..653 stored after s0-654..712). Now a disconnect (or a
//  timeout) restarts the connection: the pipe is dropped and every in-flight send resent in order.

static void
s_order_body (gc_itest_t *sys)
{
    unsigned seed = (unsigned) time (NULL) ^ (unsigned) getpid ();
    char ep[256], pub[256];
    gc_proc_t *group = gc_itest_group (sys, "ops", NULL, ep, pub);
    CHECK (group);
    CHECK_INT_EQ (CLIENT (sys, "s0", NULL, NULL, NULL, "join", "ops"), 0);
    gc_proc_t *sender = gc_itest_client_start (sys, "s0", 1, "--timeout", "1000", "send", "ops",
                                               "--json", (const char *) NULL);
    CHECK (sender);
    //  Killed three times with sends in flight: well before the end of what it has been given.
    //  (One kill may lose too little to show it; three almost never do.)
    for (int kill = 0; kill < 3; kill++) {
        CHECK_INT_EQ (s_feed (sender, 0, kill * 400, kill * 400 + 400), 0);
        int target = kill * 400 + 50 + (int) (rand_r (&seed) % 150);
        CHECK_INT_EQ (gc_proc_wait_output (sender, "\"seq\":", target, 30000), 0);
        group = s_restart (sys, group, SIGKILL, ep, pub);
        CHECK (group);
    }
    CHECK_INT_EQ (s_feed (sender, 0, 1200, 1500), 0);
    gc_proc_close_stdin (sender);
    CHECK_INT_EQ (gc_proc_wait (sender, 30000), 0);
    s_lines_t *acked[S_SENDERS] = {s_lines_of (sender), s_lines_parse (NULL),
                                   s_lines_parse (NULL)};
    char *out = NULL;
    int rc = CLIENT (sys, "s0", NULL, &out, NULL, "history", "ops", "--json");
    s_lines_t *history = s_lines_parse (out);
    free (out);
    int disordered = 0;
    bool complete = rc == 0 && history && acked[0] && acked[1] && acked[2]
                    && acked[0]->count == 1500 && history->count == 1501;
    bool in_order = complete && s_verify_history (history, acked, 1, true, &disordered);
    s_lines_destroy (&history);
    for (int k = 0; k < S_SENDERS; k++) {
        s_lines_destroy (&acked[k]);
    }
    CHECK (complete);
    if (!in_order) {
        fprintf (stderr, "%d of 1500 messages stored out of their sender's order after a restart\n",
                 disordered);
    }
    CHECK (in_order);
}

static void
test_sender_order_across_restart (void)
{
    s_with_system ("durable-order", s_order_body);
}

//  ---------------------------------------------------------------------------------------------
//  Restart keeps membership and the next sequence number

//  The "id" values of a members --json output, in order, joined by spaces (owned).
static char *
s_member_ids (const char *out)
{
    char *ids = (char *) calloc (1, strlen (out) + 1);
    const char *line = out;
    //  Bounded: every pass moves to the next line.
    while (ids && line && *line) {
        char id[64];
        if (gc_jsonl_str (line, "id", id, sizeof id)) {
            strcat (strcat (ids, ids[0] ? " " : ""), id);
        }
        const char *next = strchr (line, '\n');
        line = next ? next + 1 : NULL;
    }
    return ids;
}

//  The user's UUID, from `whoami --json` (into id, GC_UUID_STR_LEN + 1 bytes).
static bool
s_whoami (gc_itest_t *sys, const char *user, char *id)
{
    char *out = NULL;
    int rc = CLIENT (sys, user, NULL, &out, NULL, "whoami", "--json");
    bool ok = rc == 0 && out && gc_jsonl_str (out, "id", id, GC_UUID_STR_LEN + 1)
              && gc_wire_valid_uuid (id);
    free (out);
    return ok;
}

//  Sends one message with --json and returns its acknowledged seq, or -1.
static long long
s_send_one (gc_itest_t *sys, const char *user, const char *text)
{
    char *out = NULL;
    int rc = CLIENT (sys, user, NULL, &out, NULL, "send", "ops", text, "--json");
    long long seq = rc == 0 && out ? gc_jsonl_num (out, "seq") : -1;
    free (out);
    return seq;
}

static void
s_restart_keeps_state (gc_itest_t *sys)
{
    char alice[GC_UUID_STR_LEN + 1], bob[GC_UUID_STR_LEN + 1], ep[256], pub[256];
    gc_proc_t *group = gc_itest_group (sys, "ops", NULL, ep, pub);
    CHECK (group);
    CHECK_INT_EQ (CLIENT (sys, "alice", NULL, NULL, NULL, "join", "ops"), 0);
    CHECK_INT_EQ (CLIENT (sys, "bob", NULL, NULL, NULL, "join", "ops"), 0);
    CHECK_INT_EQ (CLIENT (sys, "carol", NULL, NULL, NULL, "join", "ops"), 0);
    CHECK_INT_EQ (CLIENT (sys, "carol", NULL, NULL, NULL, "leave", "ops"), 0);
    CHECK_INT_EQ (s_send_one (sys, "alice", "a1"), 5);
    CHECK_INT_EQ (s_send_one (sys, "bob", "b1"), 6);
    CHECK (s_whoami (sys, "alice", alice));
    CHECK (s_whoami (sys, "bob", bob));
    const char *first = strcmp (alice, bob) < 0 ? alice : bob;
    const char *second = first == alice ? bob : alice;
    char expected[2 * GC_UUID_STR_LEN + 2];
    snprintf (expected, sizeof expected, "%s %s", first, second);

    //  Once killed, once stopped, and started again on the same data and endpoints.
    for (int round = 0; round < 2; round++) {
        group = s_restart (sys, group, round == 0 ? SIGKILL : SIGTERM, ep, pub);
        CHECK (group);
        char *out = NULL;
        CHECK_INT_EQ (CLIENT (sys, "bob", NULL, &out, NULL, "members", "ops", "--json"), 0);
        char *ids = s_member_ids (out);
        free (out);
        bool same = ids && strcmp (ids, expected) == 0;
        if (!same) {
            fprintf (stderr, "members after restart: '%s', expected '%s'\n", ids ? ids : "",
                     expected);
        }
        free (ids);
        CHECK (same);
        //  The next seq follows on; members send without joining again; carol is still out.
        CHECK_INT_EQ (s_send_one (sys, "alice", round == 0 ? "a2" : "a3"), 7 + 2 * round);
        CHECK_INT_EQ (s_send_one (sys, "bob", round == 0 ? "b2" : "b3"), 8 + 2 * round);
        char *err = NULL;
        CHECK_INT_EQ (CLIENT (sys, "carol", NULL, NULL, &err, "send", "ops", "c"), 1);
        CHECK_CONTAINS (err, "not a member");
        free (err);
    }
    char *out = NULL;
    CHECK_INT_EQ (CLIENT (sys, "alice", NULL, &out, NULL, "history", "ops", "--json"), 0);
    s_lines_t *history = s_lines_parse (out);
    free (out);
    CHECK (history);
    bool contiguous = s_contiguous_from_one (history);
    int count = history->count;
    bool texts = count == 10 && strcmp (history->text[4], "a1") == 0
                 && strcmp (history->text[7], "b2") == 0 && strcmp (history->text[9], "b3") == 0;
    s_lines_destroy (&history);
    CHECK (contiguous);
    CHECK_INT_EQ (count, 10);
    CHECK (texts);
}

static void
test_restart_keeps_members_and_seq (void)
{
    s_with_system ("durable-restart", s_restart_keeps_state);
}

//  ---------------------------------------------------------------------------------------------
//  Idempotent sends, at the wire level

//  A raw DEALER member of the group.
typedef struct {
    zsock_t *dealer;                     //  connected to the group's ROUTER
    char id[GC_UUID_STR_LEN + 1];        //  its UUID
    uint8_t token[GC_TOKEN_SIZE];        //  its token
    uint64_t next_request_id;            //  for the next request
} s_raw_t;

//  Sends one request (sender and token filled in) and returns its request_id, or 0.
static uint64_t
s_raw_send (s_raw_t *raw, gc_group_request_t *request)
{
    request->request_id = raw->next_request_id++;
    request->sender = raw->id;
    request->token.data = raw->token;
    request->token.len = GC_TOKEN_SIZE;
    zframe_t *frame = gc_wire_pack (&request->base);
    if (!frame || zframe_send (&frame, raw->dealer, 0) != 0) {
        zframe_destroy (&frame);
        return 0;
    }
    return request->request_id;
}

//  Waits up to 10 s for the reply to request_id (others are dropped). Owned, or NULL.
static gc_group_reply_t *
s_raw_reply (s_raw_t *raw, uint64_t request_id)
{
    zpoller_t *poller = zpoller_new (raw->dealer, NULL);
    int64_t deadline = zclock_mono () + 10000;
    gc_group_reply_t *reply = NULL;
    //  Bounded by the deadline.
    while (poller && !reply && zclock_mono () < deadline) {
        if (zpoller_wait (poller, (int) (deadline - zclock_mono ())) != raw->dealer) {
            break;
        }
        zmsg_t *msg = zmsg_recv (raw->dealer);
        zframe_t *frame = msg ? zmsg_last (msg) : NULL;
        char err[256];
        gc_group_reply_t *got =
            frame ? gc_wire_group_reply_unpack (zframe_data (frame), zframe_size (frame), err,
                                                sizeof err)
                  : NULL;
        zmsg_destroy (&msg);
        if (got && got->request_id == request_id) {
            reply = got;
        }
        else {
            gc_wire_group_reply_free (&got);
        }
    }
    zpoller_destroy (&poller);
    if (!reply) {
        fprintf (stderr, "no reply to request %" PRIu64 "\n", request_id);
    }
    return reply;
}

//  Sends text with client message id msg_id (retry as given) and waits for the reply.
static gc_group_reply_t *
s_raw_message (s_raw_t *raw, const char *text, const uint8_t *msg_id, bool retry)
{
    gc_group_request_t request = GROUPCAST__V1__GROUP_REQUEST__INIT;
    Groupcast__V1__Send send = GROUPCAST__V1__SEND__INIT;
    send.text.data = (uint8_t *) text;
    send.text.len = strlen (text);
    send.client_msg_id.data = (uint8_t *) msg_id;
    send.client_msg_id.len = GC_MSG_ID_SIZE;
    send.retry = retry;
    request.body_case = GROUPCAST__V1__GROUP_REQUEST__BODY_SEND;
    request.send = &send;
    uint64_t id = s_raw_send (raw, &request);
    return id ? s_raw_reply (raw, id) : NULL;
}

//  True when the reply is an OK acknowledgement of seq (and, when ts_us is not 0, ts_us).
static bool
s_acked_as (gc_group_reply_t *reply, uint64_t seq, int64_t ts_us)
{
    bool ok = reply && reply->status == GROUPCAST__V1__STATUS__STATUS_OK && reply->seq == seq
              && (ts_us == 0 || reply->ts_us == ts_us);
    if (!ok) {
        fprintf (stderr,
                 "reply: %s status %d seq %" PRIu64 " ts %" PRId64 ", expected seq %" PRIu64
                 " ts %" PRId64 " (%s)\n",
                 reply ? "" : "none", reply ? (int) reply->status : -1, reply ? reply->seq : 0,
                 reply ? reply->ts_us : 0, seq, ts_us, reply && reply->error ? reply->error : "");
    }
    gc_wire_group_reply_free (&reply);
    return ok;
}

//  The whole history as the raw member sees it: a Fetch of up to 1000 entries; owned or NULL.
static gc_group_reply_t *
s_raw_history (s_raw_t *raw)
{
    gc_group_request_t request = GROUPCAST__V1__GROUP_REQUEST__INIT;
    Groupcast__V1__Fetch fetch = GROUPCAST__V1__FETCH__INIT;
    request.body_case = GROUPCAST__V1__GROUP_REQUEST__BODY_FETCH;
    request.fetch = &fetch;
    uint64_t id = s_raw_send (raw, &request);
    gc_group_reply_t *reply = id ? s_raw_reply (raw, id) : NULL;
    if (reply && reply->status != GROUPCAST__V1__STATUS__STATUS_OK) {
        gc_wire_group_reply_free (&reply);
    }
    return reply;
}

//  The retry cases, on a joined raw member.
static void
s_retry_body (gc_itest_t *sys, s_raw_t *raw, gc_proc_t **group_p, const char *ep,
              const char *pub)
{
    uint8_t x[GC_MSG_ID_SIZE], y[GC_MSG_ID_SIZE], z[GC_MSG_ID_SIZE];
    CHECK_INT_EQ (gc_wire_new_msg_id (x), 0);
    CHECK_INT_EQ (gc_wire_new_msg_id (y), 0);
    CHECK_INT_EQ (gc_wire_new_msg_id (z), 0);

    //  X, then the same again with retry = true: the same seq and timestamp.
    gc_group_reply_t *reply = s_raw_message (raw, "x", x, false);
    CHECK (reply);
    int64_t x_ts = reply->ts_us;
    CHECK (x_ts > 0);
    CHECK (s_acked_as (reply, 2, x_ts));
    CHECK (s_acked_as (s_raw_message (raw, "x", x, true), 2, x_ts));

    //  Y and its retry back to back (most likely in one batch: the retry is answered with the
    //  queued original's seq), then Y's retry once more after the commit.
    gc_group_request_t requests[2];
    Groupcast__V1__Send sends[2];
    uint64_t ids[2];
    for (int i = 0; i < 2; i++) {
        gc_group_request_t request = GROUPCAST__V1__GROUP_REQUEST__INIT;
        Groupcast__V1__Send send = GROUPCAST__V1__SEND__INIT;
        requests[i] = request;
        sends[i] = send;
        sends[i].text.data = (uint8_t *) "y";
        sends[i].text.len = 1;
        sends[i].client_msg_id.data = y;
        sends[i].client_msg_id.len = GC_MSG_ID_SIZE;
        sends[i].retry = i == 1;
        requests[i].body_case = GROUPCAST__V1__GROUP_REQUEST__BODY_SEND;
        requests[i].send = &sends[i];
        ids[i] = s_raw_send (raw, &requests[i]);
        CHECK (ids[i]);
    }
    reply = s_raw_reply (raw, ids[0]);
    CHECK (reply);
    int64_t y_ts = reply->ts_us;
    CHECK (s_acked_as (reply, 3, 0));
    CHECK (s_acked_as (s_raw_reply (raw, ids[1]), 3, y_ts));
    CHECK (s_acked_as (s_raw_message (raw, "y", y, true), 3, y_ts));

    //  A retry of an id the group never saw (its first attempt was lost): stored as new.
    CHECK (s_acked_as (s_raw_message (raw, "z", z, true), 4, 0));

    //  After kill -9 and a restart on the same ports, X's retry is still found in the store.
    *group_p = s_restart (sys, *group_p, SIGKILL, ep, pub);
    CHECK (*group_p);
    CHECK (s_acked_as (s_raw_message (raw, "x", x, true), 2, x_ts));
    CHECK (s_acked_as (s_raw_message (raw, "y", y, true), 3, y_ts));

    //  History holds the join and each message once.
    reply = s_raw_history (raw);
    CHECK (reply);
    size_t count = reply->n_entries;
    bool as_sent = count == 4;
    const char *texts[] = {"", "x", "y", "z"};
    for (size_t i = 0; as_sent && i < count; i++) {
        const Groupcast__V1__Entry *entry = reply->entries[i];
        as_sent = entry->seq == i + 1 && entry->text.len == strlen (texts[i])
                  && (entry->text.len == 0
                      || memcmp (entry->text.data, texts[i], entry->text.len) == 0);
    }
    uint64_t last_seq = reply->last_seq;
    gc_wire_group_reply_free (&reply);
    CHECK_INT_EQ (count, 4);
    CHECK (as_sent);
    CHECK_INT_EQ (last_seq, 4);
    //  And the next message takes the next seq: the retries consumed none.
    uint8_t w[GC_MSG_ID_SIZE];
    CHECK_INT_EQ (gc_wire_new_msg_id (w), 0);
    CHECK (s_acked_as (s_raw_message (raw, "w", w, false), 5, 0));
}

static void
s_retry_stored_once (gc_itest_t *sys)
{
    char ep[256], pub[256];
    gc_proc_t *group = gc_itest_group (sys, "ops", NULL, ep, pub);
    CHECK (group);
    s_raw_t raw;
    memset (&raw, 0, sizeof raw);
    raw.next_request_id = 1;
    gc_wire_new_uuid (raw.id);
    CHECK_INT_EQ (gc_wire_random (raw.token, sizeof raw.token), 0);
    raw.dealer = zsock_new_dealer (ep);
    CHECK (raw.dealer);
    zsock_set_linger (raw.dealer, 0);
    gc_group_request_t request = GROUPCAST__V1__GROUP_REQUEST__INIT;
    Groupcast__V1__Join join = GROUPCAST__V1__JOIN__INIT;
    join.name = "raw";
    request.body_case = GROUPCAST__V1__GROUP_REQUEST__BODY_JOIN;
    request.join = &join;
    uint64_t id = s_raw_send (&raw, &request);
    if (id && s_acked_as (s_raw_reply (&raw, id), 1, 0)) {
        s_retry_body (sys, &raw, &group, ep, pub);
    }
    else {
        fprintf (stderr, "the raw member could not join\n");
        gc_test_failed = 1;
    }
    zsock_destroy (&raw.dealer);
}

static void
test_retry_stored_once (void)
{
    s_with_system ("durable-retry", s_retry_stored_once);
}

//  ---------------------------------------------------------------------------------------------
//  A full disk, and a read-only one at start

//  Fills the filesystem that holds path by writing a new file there until ENOSPC. Returns true
//  once the filesystem is full.
static bool
s_fill (const char *path)
{
    int fd = open (path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
        fprintf (stderr, "cannot create '%s': %s\n", path, strerror (errno));
        return false;
    }
    static char chunk[65536];
    memset (chunk, 'f', sizeof chunk);
    const size_t sizes[] = {sizeof chunk, 4096, 1};
    bool full = false;
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        full = false;
        //  Bounded: the filesystem is a few MiB, so a few thousand writes at most fill it.
        for (int round = 0; round < 100000 && !full; round++) {
            ssize_t n = write (fd, chunk, sizes[i]);
            if (n < 0 && errno == ENOSPC) {
                full = true;
            }
            else if (n < 0 && errno != EINTR) {
                fprintf (stderr, "cannot write '%s': %s\n", path, strerror (errno));
                break;
            }
        }
    }
    close (fd);
    return full;
}

static void
s_full_disk_body (gc_itest_t *sys, const char *mnt)
{
    char data[1200], db[1300], filler[1200];
    snprintf (data, sizeof data, "%s/ops", mnt);
    snprintf (db, sizeof db, "%s/group.db", data);
    snprintf (filler, sizeof filler, "%s/filler", mnt);
    const char *args[] = {"--data", data, NULL};
    gc_proc_t *group = gc_itest_group (sys, "ops", args, NULL, NULL);
    CHECK (group);
    CHECK_INT_EQ (CLIENT (sys, "alice", NULL, NULL, NULL, "join", "ops"), 0);
    CHECK_INT_EQ (s_send_one (sys, "alice", "before"), 2);
    CHECK (s_fill (filler));

    //  One send, and a stream of sends: each fails with the reason, none is acknowledged.
    char *out = NULL, *err = NULL;
    CHECK_INT_EQ (CLIENT (sys, "alice", NULL, &out, &err, "send", "ops", "full-1", "--json"), 1);
    CHECK_INT_EQ (gc_jsonl_count (out), 0);
    CHECK_CONTAINS (err, "not stored");
    free (out);
    free (err);
    CHECK_INT_EQ (CLIENT (sys, "alice", "full-2\nfull-3\nfull-4\n", &out, &err, "send", "ops",
                          "--json"),
                  1);
    CHECK_INT_EQ (gc_jsonl_count (out), 0);
    CHECK_CONTAINS (err, "not stored");
    free (out);
    free (err);
    //  A join needs a commit too: refused, and bob is no member.
    CHECK_INT_EQ (CLIENT (sys, "bob", NULL, NULL, &err, "join", "ops"), 1);
    CHECK_CONTAINS (err, "groupcast: ");
    free (err);
    char *log = gc_proc_stderr (group);
    CHECK_CONTAINS (log, "cannot store");
    free (log);

    //  History still reads: the join and "before", nothing else.
    CHECK_INT_EQ (CLIENT (sys, "alice", NULL, &out, NULL, "history", "ops", "--json"), 0);
    s_lines_t *history = s_lines_parse (out);
    free (out);
    CHECK (history);
    bool as_before = history->count == 2 && s_contiguous_from_one (history)
                     && strcmp (history->text[1], "before") == 0;
    s_lines_destroy (&history);
    CHECK (as_before);
    CHECK_INT_EQ (CLIENT (sys, "alice", NULL, &out, NULL, "members", "ops", "--json"), 0);
    CHECK_INT_EQ (gc_jsonl_count (out), 1);
    free (out);

    //  With room again, sends are stored, at the next seq: the failures consumed none.
    CHECK_INT_EQ (unlink (filler), 0);
    CHECK_INT_EQ (s_send_one (sys, "alice", "after"), 3);
    CHECK_INT_EQ (CLIENT (sys, "alice", NULL, &out, NULL, "history", "ops", "--json"), 0);
    history = s_lines_parse (out);
    free (out);
    CHECK (history);
    bool as_after = history->count == 3 && s_contiguous_from_one (history)
                    && strcmp (history->text[2], "after") == 0;
    s_lines_destroy (&history);
    CHECK (as_after);
    CHECK (s_integrity_ok (db));
    bool clean = false;
    CHECK_INT_EQ (gc_itest_stop (sys, group, &clean), 0);
    CHECK (clean);

    //  A read-only database: the group refuses to start on it, and says why.
    CHECK_INT_EQ (mount ("tmpfs", mnt, "tmpfs", MS_REMOUNT | MS_RDONLY, NULL), 0);
    err = s_group_refused (sys, "ops", data);
    CHECK (err);
    CHECK_CONTAINS (err, "cannot open store '");
    CHECK_CONTAINS (err, "Read-only file system");
    free (err);
}

static void
test_full_disk (void)
{
    gc_itest_t *sys = gc_itest_new (GC_BIN_DIR, "durable-full", true, NULL);
    CHECK (sys);
    char mnt[1100];
    snprintf (mnt, sizeof mnt, "%s/mnt", sys->dir);
    bool made = mkdir (mnt, 0700) == 0;
    int mounted = made ? mount ("tmpfs", mnt, "tmpfs", MS_NOSUID | MS_NODEV, "size=2m,mode=0700")
                       : -1;
    int mount_errno = errno;
    if (mounted == 0) {
        s_full_disk_body (sys, mnt);
    }
    else if (made && mount_errno == EPERM) {
        printf ("skip full_disk: cannot mount a tmpfs: %s\n", strerror (mount_errno));
    }
    else {
        fprintf (stderr, "cannot mount a tmpfs on '%s': %s\n", mnt, strerror (mount_errno));
    }
    //  Whatever happened: nothing may hold the tmpfs when it is unmounted.
    bool stopped = s_stop_groups_and_clients (sys);
    bool unmounted = true;
    if (mounted == 0 && umount (mnt) != 0) {
        fprintf (stderr, "cannot unmount '%s': %s\n", mnt, strerror (errno));
        umount2 (mnt, MNT_DETACH);
        unmounted = false;
    }
    bool clean = gc_itest_destroy (&sys);
    CHECK (made);
    CHECK (mounted == 0 || mount_errno == EPERM);
    CHECK (stopped);
    CHECK (unmounted);
    CHECK (clean);
}

//  ---------------------------------------------------------------------------------------------
//  A database that turns read-only while the group runs

//  Sets or clears the immutable flag of the file at path. Returns 0 or -1 (errno set).
static int
s_set_immutable (const char *path, bool on)
{
    int fd = open (path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) {
        return -1;
    }
    int flags = 0;
    int rc = ioctl (fd, FS_IOC_GETFLAGS, &flags);
    if (rc == 0) {
        flags = on ? flags | FS_IMMUTABLE_FL : flags & ~FS_IMMUTABLE_FL;
        rc = ioctl (fd, FS_IOC_SETFLAGS, &flags);
    }
    int saved = errno;
    close (fd);
    errno = saved;
    return rc;
}

//  True when the filesystem of dir refuses writes to an open file once it is made immutable
//  (ext4 does; tmpfs takes the flag and goes on writing). Probes with a file of its own; else
//  says why not in why.
static bool
s_immutable_refuses_writes (const char *dir, char *why, size_t whylen)
{
    char probe[1200];
    snprintf (probe, sizeof probe, "%s/probe", dir);
    int fd = open (probe, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
        snprintf (why, whylen, "cannot create a probe file: %s", strerror (errno));
        return false;
    }
    bool refused = false;
    if (s_set_immutable (probe, true) != 0) {
        snprintf (why, whylen, "cannot set the immutable flag: %s", strerror (errno));
    }
    else {
        refused = write (fd, "x", 1) < 0 && errno == EPERM;
        if (!refused) {
            snprintf (why, whylen, "the filesystem still writes to an immutable file");
        }
        s_set_immutable (probe, false);
    }
    close (fd);
    unlink (probe);
    return refused;
}

static void
s_read_only_body (gc_itest_t *sys, const char *db, const char *wal)
{
    gc_proc_t *group = gc_itest_group (sys, "ops", NULL, NULL, NULL);
    CHECK (group);
    CHECK_INT_EQ (CLIENT (sys, "alice", NULL, NULL, NULL, "join", "ops"), 0);
    CHECK_INT_EQ (s_send_one (sys, "alice", "before"), 2);
    CHECK (s_file_size (wal) > 0);
    CHECK_INT_EQ (s_set_immutable (db, true), 0);
    CHECK_INT_EQ (s_set_immutable (wal, true), 0);

    char *out = NULL, *err = NULL;
    CHECK_INT_EQ (CLIENT (sys, "alice", NULL, &out, &err, "send", "ops", "ro-1", "--json"), 1);
    CHECK_INT_EQ (gc_jsonl_count (out), 0);
    CHECK_CONTAINS (err, "not stored");
    free (out);
    free (err);
    CHECK_INT_EQ (CLIENT (sys, "alice", "ro-2\nro-3\n", &out, &err, "send", "ops", "--json"), 1);
    CHECK_INT_EQ (gc_jsonl_count (out), 0);
    CHECK_CONTAINS (err, "not stored");
    free (out);
    free (err);
    CHECK_INT_EQ (CLIENT (sys, "alice", NULL, &out, NULL, "history", "ops", "--json"), 0);
    s_lines_t *history = s_lines_parse (out);
    free (out);
    CHECK (history);
    bool as_before = history->count == 2 && s_contiguous_from_one (history)
                     && strcmp (history->text[1], "before") == 0;
    s_lines_destroy (&history);
    CHECK (as_before);

    //  Writable again: the next send is stored at the next seq.
    CHECK_INT_EQ (s_set_immutable (db, false), 0);
    CHECK_INT_EQ (s_set_immutable (wal, false), 0);
    CHECK_INT_EQ (s_send_one (sys, "alice", "after"), 3);
    CHECK_INT_EQ (CLIENT (sys, "alice", NULL, &out, NULL, "history", "ops", "--json"), 0);
    history = s_lines_parse (out);
    free (out);
    CHECK (history);
    bool as_after = history->count == 3 && s_contiguous_from_one (history)
                    && strcmp (history->text[2], "after") == 0;
    s_lines_destroy (&history);
    CHECK (as_after);
    bool clean = false;
    CHECK_INT_EQ (gc_itest_stop (sys, group, &clean), 0);
    CHECK (clean);
    CHECK (s_absent_or_empty (wal));
    CHECK (s_integrity_ok (db));
}

static void
test_read_only_database (void)
{
    gc_itest_t *sys = gc_itest_new (GC_BIN_DIR, "durable-ro", true, NULL);
    CHECK (sys);
    char db[1200], wal[1300], why[256] = "";
    snprintf (db, sizeof db, "%s/data/ops/group.db", sys->dir);
    snprintf (wal, sizeof wal, "%s-wal", db);
    if (s_immutable_refuses_writes (sys->dir, why, sizeof why)) {
        s_read_only_body (sys, db, wal);
    }
    else {
        printf ("skip read_only_database: %s\n", why);
    }
    //  Whatever happened: an immutable file could not be removed, even by root.
    s_set_immutable (db, false);
    s_set_immutable (wal, false);
    bool clean = gc_itest_destroy (&sys);
    CHECK (clean);
}

//  ---------------------------------------------------------------------------------------------
//  Refused at start: a corrupt database, a foreign file, a data directory in use

static void
s_corrupt_body (gc_itest_t *sys)
{
    char data[1100], db[1200];
    snprintf (data, sizeof data, "%s/data/ops", sys->dir);
    snprintf (db, sizeof db, "%s/group.db", data);
    gc_proc_t *group = gc_itest_group (sys, "ops", NULL, NULL, NULL);
    CHECK (group);
    CHECK_INT_EQ (CLIENT (sys, "alice", NULL, NULL, NULL, "join", "ops"), 0);
    //  Enough text for a few pages of entries.
    char *input = (char *) malloc (200 * 101 + 1);
    CHECK (input);
    for (int i = 0; i < 200; i++) {
        memset (input + i * 101, 'a' + i % 26, 100);
        input[i * 101 + 100] = '\n';
    }
    input[200 * 101] = '\0';
    int rc = CLIENT (sys, "alice", input, NULL, NULL, "send", "ops");
    free (input);
    CHECK_INT_EQ (rc, 0);
    bool clean = false;
    CHECK_INT_EQ (gc_itest_stop (sys, group, &clean), 0);
    CHECK (clean);

    //  Damage the last page (in use: nothing was ever deleted, the free list is empty).
    sqlite3 *check = NULL;
    sqlite3_stmt *stmt = NULL;
    long long free_pages = -1;
    if (sqlite3_open_v2 (db, &check, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK
        && sqlite3_prepare_v2 (check, "PRAGMA freelist_count", -1, &stmt, NULL) == SQLITE_OK
        && sqlite3_step (stmt) == SQLITE_ROW) {
        free_pages = sqlite3_column_int64 (stmt, 0);
    }
    sqlite3_finalize (stmt);
    sqlite3_close (check);
    CHECK_INT_EQ (free_pages, 0);
    size_t size = 0;
    char *bytes = s_read_file (db, &size);
    CHECK (bytes);
    bool paged = size >= 4 * 4096 && size % 4096 == 0;
    if (paged) {
        memset (bytes + size - 4096, 0x5a, 4096);
    }
    FILE *file = paged ? fopen (db, "wb") : NULL;
    bool written = file && fwrite (bytes, 1, size, file) == size;
    if (file) {
        written = fclose (file) == 0 && written;
    }
    if (!paged || !written) {
        free (bytes);
    }
    CHECK (paged);
    CHECK (written);
    //  The check the other cases rely on sees the damage too.
    CHECK (!s_integrity (db, true));
    char *err = s_group_refused (sys, "ops", data);
    bool unchanged = s_file_is (db, bytes, size);
    free (bytes);
    CHECK (err);
    CHECK_CONTAINS (err, "cannot open store '");
    bool says_corrupt = strstr (err, "corrupt") || strstr (err, "malformed");
    if (!says_corrupt) {
        fprintf (stderr, "refusal does not say the database is corrupt:\n%s\n", err);
    }
    free (err);
    CHECK (says_corrupt);
    CHECK (unchanged);

    //  A file that is not SQLite at all.
    char junk_dir[1100], junk[1200];
    snprintf (junk_dir, sizeof junk_dir, "%s/data/junk", sys->dir);
    snprintf (junk, sizeof junk, "%s/group.db", junk_dir);
    CHECK_INT_EQ (mkdir (junk_dir, 0700), 0);
    char text[8192];
    for (size_t i = 0; i < sizeof text; i++) {
        text[i] = "not a database\n"[i % 15];
    }
    file = fopen (junk, "wb");
    CHECK (file);
    written = fwrite (text, 1, sizeof text, file) == sizeof text;
    CHECK (fclose (file) == 0 && written);
    err = s_group_refused (sys, "junk", junk_dir);
    CHECK (err);
    CHECK_CONTAINS (err, "cannot open store '");
    CHECK_CONTAINS (err, "not a database");
    free (err);
    CHECK (s_file_is (junk, text, sizeof text));

    //  Somebody else's SQLite database.
    char other_dir[1100], other[1200];
    snprintf (other_dir, sizeof other_dir, "%s/data/other", sys->dir);
    snprintf (other, sizeof other, "%s/group.db", other_dir);
    CHECK_INT_EQ (mkdir (other_dir, 0700), 0);
    sqlite3 *foreign = NULL;
    rc = sqlite3_open (other, &foreign);
    if (rc == SQLITE_OK) {
        rc = sqlite3_exec (foreign, "CREATE TABLE notes (x TEXT); INSERT INTO notes VALUES ('hi')",
                           NULL, NULL, NULL);
    }
    sqlite3_close (foreign);
    CHECK_INT_EQ (rc, SQLITE_OK);
    size_t other_size = 0;
    char *other_bytes = s_read_file (other, &other_size);
    CHECK (other_bytes);
    err = s_group_refused (sys, "other", other_dir);
    bool other_unchanged = s_file_is (other, other_bytes, other_size);
    free (other_bytes);
    CHECK (err);
    CHECK_CONTAINS (err, "not a groupcast database");
    free (err);
    CHECK (other_unchanged);
}

static void
test_corrupt_database_refused (void)
{
    s_with_system ("durable-corrupt", s_corrupt_body);
}

static void
s_locked_body (gc_itest_t *sys)
{
    char data[1100];
    snprintf (data, sizeof data, "%s/data/ops", sys->dir);
    gc_proc_t *group = gc_itest_group (sys, "ops", NULL, NULL, NULL);
    CHECK (group);
    CHECK_INT_EQ (CLIENT (sys, "alice", NULL, NULL, NULL, "join", "ops"), 0);
    CHECK_INT_EQ (s_send_one (sys, "alice", "one"), 2);
    //  A second group on the same data, under another name and under the same one.
    const char *names[] = {"ops2", "ops"};
    for (int i = 0; i < 2; i++) {
        char *err = s_group_refused (sys, names[i], data);
        CHECK (err);
        CHECK_CONTAINS (err, "locked by another process");
        CHECK_CONTAINS (err, data);
        free (err);
    }
    //  The first goes on as before; the second never registered.
    CHECK_INT_EQ (s_send_one (sys, "alice", "two"), 3);
    char *out = NULL;
    CHECK_INT_EQ (CLIENT (sys, "alice", NULL, &out, NULL, "history", "ops", "--json"), 0);
    s_lines_t *history = s_lines_parse (out);
    free (out);
    CHECK (history);
    bool as_sent = history->count == 3 && s_contiguous_from_one (history)
                   && strcmp (history->text[1], "one") == 0
                   && strcmp (history->text[2], "two") == 0;
    s_lines_destroy (&history);
    CHECK (as_sent);
    CHECK_INT_EQ (CLIENT (sys, "alice", NULL, &out, NULL, "groups", "--json"), 0);
    CHECK_INT_EQ (gc_jsonl_count (out), 1);
    free (out);
}

static void
test_locked_data_directory_refused (void)
{
    s_with_system ("durable-locked", s_locked_body);
}

static const gc_test_case_t cases[] = {
    {"kill_under_load", test_kill_under_load},
    {"sigterm_checkpoints", test_sigterm_checkpoints},
    {"sender_order_across_restart", test_sender_order_across_restart},
    {"restart_keeps_members_and_seq", test_restart_keeps_members_and_seq},
    {"retry_stored_once", test_retry_stored_once},
    {"full_disk", test_full_disk},
    {"read_only_database", test_read_only_database},
    {"corrupt_database_refused", test_corrupt_database_refused},
    {"locked_data_directory_refused", test_locked_data_directory_refused},
    {NULL, NULL}};

int
main (int argc, char **argv)
{
    signal (SIGPIPE, SIG_IGN);
    return gc_test_run (argc, argv, cases);
}
