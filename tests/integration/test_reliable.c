/*  test_reliable - the live stream under failure: a group killed and restarted under a running
    listener, a listener too slow for the stream, a registry restarted, groups expiring, replay
    seams (--after-seq, --since, --resume) and membership events, Ctrl-C while all is down
    SPDX-License-Identifier: MPL-2.0

    The same few checks run everywhere: a listener's --json lines have contiguous sequence
    numbers (so nothing is missed and nothing printed twice), and every message a sender had
    acknowledged is printed at the sequence number it was acknowledged with.
*/
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gc_itest.h"
#include "gc_jsonl.h"
#include "gc_test.h"

#define CLIENT(sys, user, input, out, err, ...)                                                \
    gc_itest_client (sys, user, input, out, err, __VA_ARGS__, (const char *) NULL)

#define S_MAX_LINES 2048

//  A registry that asks for heartbeats every 200 ms and drops a group unheard for 1 s.
static const char *const s_fast_registry[] = {"--heartbeat", "200", "--ttl", "1000", NULL};

//  The entries a listener printed (or a sender had acknowledged), in output order.
typedef struct {
    long long seq[S_MAX_LINES];     //  sequence number of each line
    char text[S_MAX_LINES][16];     //  message text ("" for events)
    char event[S_MAX_LINES][8];     //  "join" / "leave", "" for messages
    char name[S_MAX_LINES][16];     //  display name
    int count;                      //  lines read
} s_lines_t;

static bool
s_collect (void *arg, const char *line)
{
    s_lines_t *lines = (s_lines_t *) arg;
    long long seq = gc_jsonl_num (line, "seq");
    if (seq < 0 || lines->count == S_MAX_LINES) {
        return true;
    }
    int i = lines->count++;
    lines->seq[i] = seq;
    if (!gc_jsonl_str (line, "text", lines->text[i], sizeof lines->text[i])) {
        lines->text[i][0] = '\0';
    }
    if (!gc_jsonl_str (line, "event", lines->event[i], sizeof lines->event[i])) {
        lines->event[i][0] = '\0';
    }
    if (!gc_jsonl_str (line, "name", lines->name[i], sizeof lines->name[i])) {
        lines->name[i][0] = '\0';
    }
    return true;
}

//  Parses a process's --json stdout so far; owned result.
static s_lines_t *
s_lines (gc_proc_t *proc)
{
    s_lines_t *lines = (s_lines_t *) calloc (1, sizeof (s_lines_t));
    char *text = gc_proc_stdout (proc);
    gc_jsonl_each (text, s_collect, lines);
    free (text);
    return lines;
}

//  True when the lines' seqs go up by exactly one from `first` (0: from whatever the first is)
//  to `last` (0: wherever they end); prints the first break otherwise.
static bool
s_contiguous (const s_lines_t *lines, long long first, long long last)
{
    if (lines->count == 0) {
        fprintf (stderr, "no lines\n");
        return false;
    }
    if (first && lines->seq[0] != first) {
        fprintf (stderr, "first seq %lld, expected %lld\n", lines->seq[0], first);
        return false;
    }
    for (int i = 1; i < lines->count; i++) {
        if (lines->seq[i] != lines->seq[i - 1] + 1) {
            fprintf (stderr, "seq %lld follows %lld (line %d)\n", lines->seq[i],
                     lines->seq[i - 1], i);
            return false;
        }
    }
    if (last && lines->seq[lines->count - 1] != last) {
        fprintf (stderr, "last seq %lld, expected %lld\n", lines->seq[lines->count - 1], last);
        return false;
    }
    return true;
}

//  True when every acknowledged message is printed by the listener at its acknowledged seq
//  (the listener's lines must be contiguous already).
static bool
s_all_acked_printed (const s_lines_t *printed, const s_lines_t *acked)
{
    for (int i = 0; i < acked->count; i++) {
        long long at = acked->seq[i] - printed->seq[0];
        if (at < 0 || at >= printed->count || strcmp (printed->text[at], acked->text[i]) != 0) {
            fprintf (stderr, "acknowledged '%s' #%lld is not printed there\n", acked->text[i],
                     acked->seq[i]);
            return false;
        }
    }
    return true;
}

//  True when no message text is printed twice (texts are "<prefix><n>", n < S_MAX_LINES).
static bool
s_no_text_twice (const s_lines_t *lines)
{
    for (int i = 0; i < lines->count; i++) {
        for (int k = i + 1; lines->text[i][0] && k < lines->count; k++) {
            if (strcmp (lines->text[i], lines->text[k]) == 0) {
                fprintf (stderr, "'%s' printed at #%lld and #%lld\n", lines->text[i],
                         lines->seq[i], lines->seq[k]);
                return false;
            }
        }
    }
    return true;
}

//  Writes lines "<prefix><from>" .. "<prefix><to - 1>" to a process's stdin.
static int
s_write_lines (gc_proc_t *proc, const char *prefix, int from, int to)
{
    char buffer[16384];
    size_t len = 0;
    for (int i = from; i < to; i++) {
        len += (size_t) snprintf (buffer + len, sizeof buffer - len, "%s%d\n", prefix, i);
    }
    return gc_proc_write (proc, buffer, len);
}

//  Lines "<prefix><from>" .. as one owned string, for a command's stdin.
static char *
s_input (const char *prefix, int from, int to)
{
    char *buffer = (char *) malloc (16384);
    size_t len = 0;
    buffer[0] = '\0';
    for (int i = from; i < to; i++) {
        len += (size_t) snprintf (buffer + len, 16384 - len, "%s%d\n", prefix, i);
    }
    return buffer;
}

//  Starts `groupcast --home <dir>/users/<user> --server <registry> ARGS` with extra environment
//  entries (gc_itest_client_start takes none), tracked by sys like its own processes.
static gc_proc_t *
s_client_env (gc_itest_t *sys, const char *user, const char *tag, char *const *env,
              const char *const *args)
{
    char *bin = gc_bin (sys->bin_dir, "groupcast");
    char home[1024];
    snprintf (home, sizeof home, "%s/users/%s", sys->dir, user);
    const char *argv[32] = {bin, "--home", home, "--server", sys->server_ep};
    int argc = 5;
    for (int i = 0; args[i] && argc < 31; i++) {
        argv[argc++] = args[i];
    }
    argv[argc] = NULL;
    gc_proc_t *proc = gc_proc_start (sys->dir, tag, (char *const *) argv, env, false);
    free (bin);
    if (proc && sys->nprocs < GC_ITEST_MAX_PROCS) {
        sys->procs[sys->nprocs++] = proc;
    }
    return proc;
}

//  A group name of this test process's own. A test that kills a group frees its ports, which
//  a group of another test running alongside may take; a listener reconnecting there must not
//  take that group's frames for ours (the topic is the name).
static void
s_unique (char *name, size_t size, const char *base)
{
    snprintf (name, size, "%s-%d", base, (int) getpid ());
}

//  "<group>: <text>", a notice as the client prints it.
static const char *
s_notice (char *buffer, size_t size, const char *group, const char *text)
{
    snprintf (buffer, size, "%s: %s", group, text);
    return buffer;
}

//  The acknowledged message with the highest seq; its text is what a listener prints last.
static const char *
s_last_acked (const s_lines_t *acked, long long *seq)
{
    int best = 0;
    for (int i = 1; i < acked->count; i++) {
        if (acked->seq[i] > acked->seq[best]) {
            best = i;
        }
    }
    *seq = acked->count ? acked->seq[best] : 0;
    return acked->count ? acked->text[best] : "";
}

//  A group that stops answering is reported silent, then back. kill -9 it under a running
//  listener while a sender keeps sending, and restart it on the same data and ports: every
//  acknowledged message is printed once, in order.
static void
s_group_killed_and_restarted (gc_itest_t *sys)
{
    char ops[64], note[128];
    s_unique (ops, sizeof ops, "ops");
    char ep[256], pub[256];
    const char *group_args[] = {"--heartbeat", "200", NULL};
    gc_proc_t *group = gc_itest_group (sys, ops, group_args, ep, pub);
    CHECK (group);
    CHECK_INT_EQ (CLIENT (sys, "alice", NULL, NULL, NULL, "join", ops), 0);
    CHECK_INT_EQ (CLIENT (sys, "bob", NULL, NULL, NULL, "join", ops), 0);
    gc_proc_t *listener = gc_itest_client_start (sys, "bob", 0, "listen", ops, "--json",
                                                 (const char *) NULL);
    CHECK (listener);
    CHECK_INT_EQ (gc_proc_wait_output (listener, "listening", 1, 15000), 0);

    //  Frozen (its ports stay taken), then thawed.
    CHECK_INT_EQ (gc_proc_kill (group, SIGSTOP), 0);
    CHECK_INT_EQ (gc_proc_wait_output (listener, s_notice (note, sizeof note, ops,
                                                           "group is silent"),
                                       1, 15000),
                  0);
    CHECK_INT_EQ (gc_proc_kill (group, SIGCONT), 0);
    CHECK_INT_EQ (gc_proc_wait_output (listener, s_notice (note, sizeof note, ops,
                                                           "group is back"),
                                       1, 15000),
                  0);

    gc_proc_t *sender = gc_itest_client_start (sys, "alice", 1, "send", ops, "--json",
                                               (const char *) NULL);
    CHECK (sender);
    CHECK_INT_EQ (s_write_lines (sender, "t", 0, 100), 0);
    CHECK_INT_EQ (gc_proc_wait_output (sender, "\"text\":\"t99\"", 1, 15000), 0);

    //  Some in flight when it dies, more sent while it is down; restarted at once, so that
    //  nothing else takes its ports meanwhile.
    CHECK_INT_EQ (s_write_lines (sender, "t", 100, 150), 0);
    CHECK_INT_EQ (gc_proc_kill (group, SIGKILL), 0);
    CHECK_INT_EQ (gc_itest_stop (sys, group, NULL), 128 + SIGKILL);
    CHECK_INT_EQ (s_write_lines (sender, "t", 150, 200), 0);
    const char *again_args[] = {"--heartbeat", "200", "--bind", ep, "--pub", pub, NULL};
    char ep2[256], pub2[256];
    group = gc_itest_group (sys, ops, again_args, ep2, pub2);
    CHECK (group);
    CHECK_STR_EQ (ep2, ep);
    CHECK_STR_EQ (pub2, pub);
    CHECK_INT_EQ (s_write_lines (sender, "t", 200, 300), 0);
    gc_proc_close_stdin (sender);
    //  Retries with the same message ids carried every message across the restart.
    CHECK_INT_EQ (gc_proc_wait (sender, 30000), 0);

    s_lines_t *acked = s_lines (sender);
    CHECK_INT_EQ (acked->count, 300);
    long long last = 0;
    char needle[64];
    snprintf (needle, sizeof needle, "\"text\":\"%s\"", s_last_acked (acked, &last));
    CHECK_INT_EQ (gc_proc_wait_output (listener, needle, 1, 15000), 0);
    s_lines_t *printed = s_lines (listener);
    CHECK (s_contiguous (printed, 3, last));
    CHECK (s_all_acked_printed (printed, acked));
    CHECK (s_no_text_twice (printed));
    CHECK_INT_EQ (printed->count, 300);
    free (printed);
    free (acked);
}

//  A listener with a tiny high-water mark, stopped while 300 messages go by and then reading
//  slowly, prints each once in order, catching up from history; meanwhile the sender and a
//  second listener are not held up.
static void
s_slow_listener_catches_up (gc_itest_t *sys)
{
    char ops[64], note[128];
    s_unique (ops, sizeof ops, "ops");
    CHECK (gc_itest_group (sys, ops, NULL, NULL, NULL));
    const char *users[] = {"alice", "bob", "carol"};
    for (int i = 0; i < 3; i++) {
        CHECK_INT_EQ (CLIENT (sys, users[i], NULL, NULL, NULL, "join", ops), 0);
    }
    char *env[] = {"GROUPCAST_SUB_RCVHWM=4", "GROUPCAST_LISTEN_DELAY_MS=3", NULL};
    const char *args[] = {"listen", ops, "--json", NULL};
    gc_proc_t *slow = s_client_env (sys, "bob", "slow-listener", env, args);
    CHECK (slow);
    gc_proc_t *fast = gc_itest_client_start (sys, "carol", 0, "listen", ops, "--json",
                                             (const char *) NULL);
    CHECK (fast);
    CHECK_INT_EQ (gc_proc_wait_output (slow, "listening", 1, 15000), 0);
    CHECK_INT_EQ (gc_proc_wait_output (fast, "listening", 1, 15000), 0);

    CHECK_INT_EQ (gc_proc_kill (slow, SIGSTOP), 0);
    char *input = s_input ("m", 0, 300);
    char *out = NULL;
    //  One message in flight: each is a frame of its own, so the tiny high-water mark must
    //  drop some (a burst would travel in a few batches, a few frames).
    int rc = CLIENT (sys, "alice", input, &out, NULL, "send", ops, "--json", "--window", "1");
    free (input);
    CHECK_INT_EQ (rc, 0);
    CHECK_INT_EQ (gc_jsonl_count (out), 300);
    free (out);
    CHECK_INT_EQ (gc_proc_wait_output (fast, "\"text\":\"m299\"", 1, 15000), 0);
    CHECK_INT_EQ (gc_proc_kill (slow, SIGCONT), 0);

    CHECK_INT_EQ (gc_proc_wait_output (slow, "\"text\":\"m299\"", 1, 30000), 0);
    s_lines_t *lines = s_lines (slow);
    CHECK (s_contiguous (lines, 4, 303));
    for (int i = 0; i < lines->count; i++) {
        char text[16];
        snprintf (text, sizeof text, "m%d", i);
        CHECK_STR_EQ (lines->text[i], text);
    }
    free (lines);
    //  It really did lose live entries and fetch them again.
    char *err = gc_proc_stderr (slow);
    CHECK_CONTAINS (err, s_notice (note, sizeof note, ops,
                                   "missed live entries; catching up from history"));
    free (err);
    lines = s_lines (fast);
    CHECK (s_contiguous (lines, 4, 303));
    free (lines);
}

//  Groups keep serving while the registry is down, reappear as soon as it is back, and a group
//  that died without unregistering is dropped after the TTL.
static void
s_registry_restart_and_ttl (gc_itest_t *sys)
{
    //  Names of our own: a group elsewhere whose registry died keeps heartbeating at that port,
    //  and ours may have it now; the checks below look for our names only.
    char ops[64], dev[64], ops_json[96], dev_json[96], text[128];
    s_unique (ops, sizeof ops, "ops");
    s_unique (dev, sizeof dev, "dev");
    snprintf (ops_json, sizeof ops_json, "\"name\":\"%s\"", ops);
    snprintf (dev_json, sizeof dev_json, "\"name\":\"%s\"", dev);
    CHECK (gc_itest_group (sys, ops, NULL, NULL, NULL));
    gc_proc_t *dev_group = gc_itest_group (sys, dev, NULL, NULL, NULL);
    CHECK (dev_group);
    CHECK_INT_EQ (CLIENT (sys, "alice", NULL, NULL, NULL, "join", ops), 0);

    //  Frozen, it answers nobody; killed, it is restarted at once on the same port (so that
    //  nothing else takes the port meanwhile) and hears from both groups again.
    CHECK_INT_EQ (gc_proc_kill (sys->server, SIGSTOP), 0);
    char *out = NULL;
    CHECK_INT_EQ (CLIENT (sys, "alice", NULL, NULL, NULL, "--timeout", "1000", "send", ops,
                          "while the registry is down"),
                  0);
    CHECK_INT_EQ (CLIENT (sys, "alice", NULL, &out, NULL, "--timeout", "1000", "history", ops,
                          "--json"),
                  0);
    CHECK_CONTAINS (out, "\"text\":\"while the registry is down\"");
    free (out);
    CHECK_INT_EQ (gc_proc_kill (sys->server, SIGKILL), 0);
    CHECK_INT_EQ (gc_itest_stop (sys, sys->server, NULL), 128 + SIGKILL);
    CHECK_INT_EQ (gc_itest_start_server (sys, s_fast_registry), 0);
    snprintf (text, sizeof text, "name=%s ", ops);
    CHECK_INT_EQ (gc_proc_wait_output (sys->server, text, 1, 5000), 0);
    snprintf (text, sizeof text, "name=%s ", dev);
    CHECK_INT_EQ (gc_proc_wait_output (sys->server, text, 1, 5000), 0);
    CHECK_INT_EQ (CLIENT (sys, "alice", NULL, &out, NULL, "groups", "--json"), 0);
    CHECK_CONTAINS (out, ops_json);
    CHECK_CONTAINS (out, dev_json);
    free (out);

    //  Killed, it cannot unregister: the registry drops it after the TTL, and only it.
    CHECK_INT_EQ (gc_proc_kill (dev_group, SIGKILL), 0);
    CHECK_INT_EQ (gc_itest_stop (sys, dev_group, NULL), 128 + SIGKILL);
    snprintf (text, sizeof text, "GROUP EXPIRED name=%s ", dev);
    CHECK_INT_EQ (gc_proc_wait_output (sys->server, text, 1, 10000), 0);
    CHECK_INT_EQ (CLIENT (sys, "alice", NULL, &out, NULL, "groups", "--json"), 0);
    CHECK_CONTAINS (out, ops_json);
    CHECK (!strstr (out, dev_json));
    free (out);
    char *err = gc_proc_stderr (sys->server);
    snprintf (text, sizeof text, "GROUP EXPIRED name=%s ", ops);
    CHECK (!strstr (err, text));
    free (err);
}

//  Ctrl-C ends a listener at once even while its group and the registry are both down and a
//  request to them would wait for 20 s.
static void
s_interrupt_while_all_down (gc_itest_t *sys)
{
    char ops[64], note[128];
    s_unique (ops, sizeof ops, "ops");
    const char *group_args[] = {"--heartbeat", "200", NULL};
    gc_proc_t *group = gc_itest_group (sys, ops, group_args, NULL, NULL);
    CHECK (group);
    CHECK_INT_EQ (CLIENT (sys, "bob", NULL, NULL, NULL, "join", ops), 0);
    gc_proc_t *listener = gc_itest_client_start (sys, "bob", 0, "--timeout", "20000", "listen",
                                                 ops, (const char *) NULL);
    CHECK (listener);
    CHECK_INT_EQ (gc_proc_wait_output (listener, "listening", 1, 15000), 0);
    CHECK_INT_EQ (gc_proc_kill (group, SIGKILL), 0);
    CHECK_INT_EQ (gc_itest_stop (sys, group, NULL), 128 + SIGKILL);
    CHECK_INT_EQ (gc_proc_kill (sys->server, SIGKILL), 0);
    CHECK_INT_EQ (gc_itest_stop (sys, sys->server, NULL), 128 + SIGKILL);
    //  The notice comes just before the listener asks where the group went.
    CHECK_INT_EQ (gc_proc_wait_output (listener, s_notice (note, sizeof note, ops,
                                                           "group is silent"),
                                       1, 15000),
                  0);
    CHECK_INT_EQ (gc_proc_kill (listener, SIGINT), 0);
    CHECK_INT_EQ (gc_proc_wait (listener, 5000), 0);
    CHECK (gc_proc_clean (listener));
}

//  --after-seq and --since replay history and go live with no gap or repeat at the seam while
//  a sender keeps sending; joins and leaves are entries of the same stream.
static void
s_replay_seams_and_events (gc_itest_t *sys)
{
    char ops[64];
    s_unique (ops, sizeof ops, "ops");
    CHECK (gc_itest_group (sys, ops, NULL, NULL, NULL));
    //  seq 1-3 the joins, 4-23 h0..h19, 24 "mark".
    const char *users[] = {"alice", "bob", "carol"};
    for (int i = 0; i < 3; i++) {
        CHECK_INT_EQ (CLIENT (sys, users[i], NULL, NULL, NULL, "join", ops), 0);
    }
    char *input = s_input ("h", 0, 20);
    int rc = CLIENT (sys, "alice", input, NULL, NULL, "send", ops);
    free (input);
    CHECK_INT_EQ (rc, 0);
    char *out = NULL;
    CHECK_INT_EQ (CLIENT (sys, "alice", NULL, &out, NULL, "send", ops, "mark", "--json"), 0);
    long long mark_seq = gc_jsonl_num (out, "seq");
    long long mark_ts = gc_jsonl_num (out, "ts_us");
    free (out);
    CHECK_INT_EQ (mark_seq, 24);
    char since[64];
    snprintf (since, sizeof since, "%lld.%06lld", mark_ts / 1000000, mark_ts % 1000000);

    //  The listeners start while the sender is busy.
    gc_proc_t *sender = gc_itest_client_start (sys, "alice", 1, "send", ops, "--json",
                                               (const char *) NULL);
    CHECK (sender);
    CHECK_INT_EQ (s_write_lines (sender, "c", 0, 100), 0);
    gc_proc_t *after = gc_itest_client_start (sys, "bob", 0, "listen", ops, "--json",
                                              "--after-seq", "10", (const char *) NULL);
    gc_proc_t *since_l = gc_itest_client_start (sys, "carol", 0, "listen", "--since", since,
                                                ops, "--json", (const char *) NULL);
    CHECK (after && since_l);
    CHECK_INT_EQ (s_write_lines (sender, "c", 100, 200), 0);
    CHECK_INT_EQ (gc_proc_wait_output (after, "listening", 1, 15000), 0);
    CHECK_INT_EQ (gc_proc_wait_output (since_l, "listening", 1, 15000), 0);
    //  dave comes and goes in the middle of it.
    CHECK_INT_EQ (CLIENT (sys, "dave", NULL, NULL, NULL, "--name", "dave", "join", ops), 0);
    CHECK_INT_EQ (CLIENT (sys, "dave", NULL, &out, NULL, "--json", "leave", ops), 0);
    long long leave_seq = gc_jsonl_num (out, "seq");
    free (out);
    CHECK_INT_EQ (s_write_lines (sender, "c", 200, 250), 0);
    gc_proc_close_stdin (sender);
    CHECK_INT_EQ (gc_proc_wait (sender, 30000), 0);
    s_lines_t *acked = s_lines (sender);
    CHECK_INT_EQ (acked->count, 250);
    long long last = 0;
    s_last_acked (acked, &last);
    if (leave_seq > last) {
        last = leave_seq;
    }
    //  mark + 250 messages + join + leave after the 24 first entries.
    CHECK_INT_EQ (last, 24 + 250 + 2);

    char needle[64];
    snprintf (needle, sizeof needle, "\"seq\":%lld,", last);
    gc_proc_t *listeners[2] = {after, since_l};
    long long firsts[2] = {11, mark_seq};
    for (int i = 0; i < 2; i++) {
        CHECK_INT_EQ (gc_proc_wait_output (listeners[i], needle, 1, 15000), 0);
        s_lines_t *printed = s_lines (listeners[i]);
        CHECK (s_contiguous (printed, firsts[i], last));
        CHECK (s_all_acked_printed (printed, acked));
        CHECK (s_no_text_twice (printed));
        //  The events, as objects with an "event" field, at their place in the stream.
        long long at = leave_seq - printed->seq[0];
        CHECK (at >= 1 && at < printed->count);
        CHECK_STR_EQ (printed->event[at], "leave");
        CHECK_STR_EQ (printed->name[at], "dave");
        bool joined = false;
        for (long long k = 0; k < at; k++) {
            joined = joined || (strcmp (printed->event[k], "join") == 0
                                && strcmp (printed->name[k], "dave") == 0);
        }
        CHECK (joined);
        free (printed);
    }
    free (acked);
}

//  --resume continues after the last entry printed in an earlier run, even when that run was
//  stopped with entries received but not yet printed.
static void
s_resume_after_listener_restart (gc_itest_t *sys)
{
    char ops[64];
    s_unique (ops, sizeof ops, "ops");
    CHECK (gc_itest_group (sys, ops, NULL, NULL, NULL));
    CHECK_INT_EQ (CLIENT (sys, "alice", NULL, NULL, NULL, "join", ops), 0);
    CHECK_INT_EQ (CLIENT (sys, "bob", NULL, NULL, NULL, "join", ops), 0);
    //  A slow reader: most of the 200 entries wait in its queue when it is stopped.
    char *env[] = {"GROUPCAST_LISTEN_DELAY_MS=20", NULL};
    const char *args[] = {"listen", ops, "--json", NULL};
    gc_proc_t *first = s_client_env (sys, "bob", "resume-first", env, args);
    CHECK (first);
    CHECK_INT_EQ (gc_proc_wait_output (first, "listening", 1, 15000), 0);
    char *input = s_input ("r", 0, 200);
    int rc = CLIENT (sys, "alice", input, NULL, NULL, "send", ops);
    free (input);
    CHECK_INT_EQ (rc, 0);
    CHECK_INT_EQ (gc_proc_wait_output (first, "\"text\":\"r9\"", 1, 15000), 0);
    CHECK_INT_EQ (gc_proc_stop (first, 10000), 0);
    s_lines_t *before = s_lines (first);
    bool clean = false;
    CHECK_INT_EQ (gc_itest_stop (sys, first, &clean), 0);
    CHECK (clean);
    CHECK (s_contiguous (before, 3, 0));
    long long printed_last = before->seq[before->count - 1];
    CHECK (printed_last < 202);
    free (before);

    //  More while nobody listens, then the second run picks up right after the first.
    CHECK_INT_EQ (CLIENT (sys, "alice", NULL, NULL, NULL, "send", ops, "after the break"), 0);
    gc_proc_t *second = gc_itest_client_start (sys, "bob", 0, "listen", ops, "--json",
                                               "--resume", (const char *) NULL);
    CHECK (second);
    CHECK_INT_EQ (gc_proc_wait_output (second, "\"text\":\"after the break\"", 1, 15000), 0);
    s_lines_t *after = s_lines (second);
    CHECK (s_contiguous (after, printed_last + 1, 203));
    free (after);
}

//  A --memory group restarted without its history (and elsewhere) counts from 1 again: the
//  listener finds it through the registry, says so, and prints the new instance's entries
//  instead of dropping them as already seen.
static void
s_memory_group_restarted (gc_itest_t *sys)
{
    char ops[64], note[128];
    s_unique (ops, sizeof ops, "ops");
    const char *group_args[] = {"--memory", "--heartbeat", "200", NULL};
    gc_proc_t *group = gc_itest_group (sys, ops, group_args, NULL, NULL);
    CHECK (group);
    CHECK_INT_EQ (CLIENT (sys, "alice", NULL, NULL, NULL, "join", ops), 0);
    CHECK_INT_EQ (CLIENT (sys, "bob", NULL, NULL, NULL, "join", ops), 0);
    gc_proc_t *listener = gc_itest_client_start (sys, "bob", 0, "--timeout", "1000", "listen",
                                                 ops, "--json", (const char *) NULL);
    CHECK (listener);
    CHECK_INT_EQ (gc_proc_wait_output (listener, "listening", 1, 15000), 0);
    char *input = s_input ("a", 0, 10);
    int rc = CLIENT (sys, "alice", input, NULL, NULL, "send", ops);
    free (input);
    CHECK_INT_EQ (rc, 0);
    CHECK_INT_EQ (gc_proc_wait_output (listener, "\"text\":\"a9\"", 1, 15000), 0);

    CHECK_INT_EQ (gc_proc_kill (group, SIGKILL), 0);
    CHECK_INT_EQ (gc_itest_stop (sys, group, NULL), 128 + SIGKILL);
    //  The new instance has a new group_id: it may take the name once the old one expired.
    char expired[128];
    snprintf (expired, sizeof expired, "GROUP EXPIRED name=%s", ops);
    CHECK_INT_EQ (gc_proc_wait_output (sys->server, expired, 1, 10000), 0);
    CHECK (gc_itest_group (sys, ops, group_args, NULL, NULL));
    CHECK_INT_EQ (gc_proc_wait_output (listener, s_notice (note, sizeof note, ops,
                                                           "group restarted without its "
                                                           "history"),
                                       1, 15000),
                  0);
    CHECK_INT_EQ (CLIENT (sys, "alice", NULL, NULL, NULL, "join", ops), 0);
    input = s_input ("b", 0, 5);
    rc = CLIENT (sys, "alice", input, NULL, NULL, "send", ops);
    free (input);
    CHECK_INT_EQ (rc, 0);
    CHECK_INT_EQ (gc_proc_wait_output (listener, "\"text\":\"b4\"", 1, 15000), 0);
    s_lines_t *lines = s_lines (listener);
    //  a0..a9 were #3-#12; then the new stream: alice's join #1, b0..b4 #2-#6.
    CHECK_INT_EQ (lines->count, 16);
    CHECK_INT_EQ (lines->seq[9], 12);
    CHECK_STR_EQ (lines->text[9], "a9");
    CHECK_INT_EQ (lines->seq[10], 1);
    CHECK_STR_EQ (lines->event[10], "join");
    CHECK_INT_EQ (lines->seq[15], 6);
    CHECK_STR_EQ (lines->text[15], "b4");
    free (lines);
}

//  Runs a case on a fresh system (a registry started with server_args) and always tears it
//  down, so that a failed CHECK, which returns from the body, leaves no process behind.
static void
s_run (const char *tag, const char *const *server_args, void (*body) (gc_itest_t *sys))
{
    gc_itest_t *sys = gc_itest_new (GC_BIN_DIR, tag, true, server_args);
    CHECK (sys);
    body (sys);
    CHECK (gc_itest_destroy (&sys));
}

static void
test_group_killed_and_restarted (void)
{
    s_run ("rel-kill", NULL, s_group_killed_and_restarted);
}

static void
test_slow_listener_catches_up (void)
{
    s_run ("rel-slow", NULL, s_slow_listener_catches_up);
}

static void
test_registry_restart_and_ttl (void)
{
    s_run ("rel-registry", s_fast_registry, s_registry_restart_and_ttl);
}

static void
test_interrupt_while_all_down (void)
{
    s_run ("rel-intr", NULL, s_interrupt_while_all_down);
}

static void
test_replay_seams_and_events (void)
{
    s_run ("rel-seams", NULL, s_replay_seams_and_events);
}

static void
test_resume_after_listener_restart (void)
{
    s_run ("rel-resume", NULL, s_resume_after_listener_restart);
}

static void
test_memory_group_restarted (void)
{
    s_run ("rel-memory", s_fast_registry, s_memory_group_restarted);
}

static const gc_test_case_t cases[] = {
    {"group_killed_and_restarted", test_group_killed_and_restarted},
    {"slow_listener_catches_up", test_slow_listener_catches_up},
    {"registry_restart_and_ttl", test_registry_restart_and_ttl},
    {"interrupt_while_all_down", test_interrupt_while_all_down},
    {"replay_seams_and_events", test_replay_seams_and_events},
    {"resume_after_listener_restart", test_resume_after_listener_restart},
    {"memory_group_restarted", test_memory_group_restarted},
    {NULL, NULL}};

int
main (int argc, char **argv)
{
    signal (SIGPIPE, SIG_IGN);
    return gc_test_run (argc, argv, cases);
}
