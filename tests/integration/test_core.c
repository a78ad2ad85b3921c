/*  test_core - the real registry, groups and client on loopback, end to end
    SPDX-License-Identifier: MPL-2.0
*/
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "gc_itest.h"
#include "gc_jsonl.h"
#include "gc_test.h"

#define CLIENT(sys, user, input, out, err, ...)                                                \
    gc_itest_client (sys, user, input, out, err, __VA_ARGS__, (const char *) NULL)

//  Seqs of the lines in --json output, in order; returns how many (at most max).
typedef struct {
    long long seqs[4096];   //  seq of each message line
    char texts[4096][32];   //  text of each (truncated for the check)
    int count;              //  how many message lines
    int events;             //  how many join/leave lines
} s_lines_t;

static bool
s_collect (void *arg, const char *line)
{
    s_lines_t *lines = (s_lines_t *) arg;
    if (strstr (line, "\"event\":") && strstr (line, "\"event\":") < strchr (line, '\n')) {
        lines->events++;
        return true;
    }
    long long seq = gc_jsonl_num (line, "seq");
    if (seq >= 0 && lines->count < 4096) {
        lines->seqs[lines->count] = seq;
        gc_jsonl_str (line, "text", lines->texts[lines->count], 32);
        lines->count++;
    }
    return true;
}

static s_lines_t *
s_parse (const char *text)
{
    s_lines_t *lines = (s_lines_t *) calloc (1, sizeof (s_lines_t));
    gc_jsonl_each (text, s_collect, lines);
    return lines;
}

static void
test_groups_and_duplicate_name (void)
{
    gc_itest_t *sys = gc_itest_new (GC_BIN_DIR, "core-groups", true, NULL);
    CHECK (sys);
    CHECK (gc_itest_group (sys, "ops", NULL, NULL, NULL));
    CHECK (gc_itest_group (sys, "dev", NULL, NULL, NULL));
    char *out = NULL, *err = NULL;
    CHECK_INT_EQ (CLIENT (sys, "alice", NULL, &out, &err, "groups", "--json"), 0);
    CHECK_INT_EQ (gc_jsonl_count (out), 2);
    //  Sorted by name, with both endpoints.
    CHECK (strstr (out, "\"name\":\"dev\"") < strstr (out, "\"name\":\"ops\""));
    CHECK_CONTAINS (out, "\"pub_endpoint\":\"tcp://127.0.0.1:");
    free (out);
    free (err);

    //  A second group under a taken name is refused and exits non-zero with a clear error.
    char *bin = gc_bin (GC_BIN_DIR, "groupcast-group");
    const char *argv[] = {bin, "--name", "ops", "--server", sys->server_ep, "--memory",
                          "--bind", "tcp://127.0.0.1:*", "--pub", "tcp://127.0.0.1:*", NULL};
    int rc = gc_run (sys->dir, (char *const *) argv, NULL, NULL, 15000, NULL, &err);
    free (bin);
    CHECK_INT_EQ (rc, 1);
    CHECK_CONTAINS (err, "cannot register group 'ops': name already taken");
    free (err);
    err = NULL;

    //  The original is untouched.
    CHECK_INT_EQ (CLIENT (sys, "alice", NULL, &out, &err, "--json", "groups"), 0);
    CHECK_INT_EQ (gc_jsonl_count (out), 2);
    free (out);
    free (err);
    CHECK (gc_itest_destroy (&sys));
}

static void
test_listeners_get_every_message_once_in_order (void)
{
    gc_itest_t *sys = gc_itest_new (GC_BIN_DIR, "core-listen", true, NULL);
    CHECK (sys);
    CHECK (gc_itest_group (sys, "ops", NULL, NULL, NULL));
    const char *users[] = {"alice", "bob", "carol"};
    for (int i = 0; i < 3; i++) {
        CHECK_INT_EQ (CLIENT (sys, users[i], NULL, NULL, NULL, "--name", users[i], "join", "ops"),
                      0);
    }
    gc_proc_t *listeners[2];
    for (int i = 0; i < 2; i++) {
        listeners[i] = gc_itest_client_start (sys, users[i + 1], 0, "listen", "ops", "--json",
                                              (const char *) NULL);
        CHECK (listeners[i]);
        CHECK_INT_EQ (gc_proc_wait_output (listeners[i], "listening", 1, 15000), 0);
    }
    //  Alice sends 200 lines with many in flight while bob sends 20 one by one.
    char input[200 * 16] = "";
    for (int i = 0; i < 200; i++) {
        char line[16];
        snprintf (line, sizeof line, "a%d\n", i);
        strcat (input, line);
    }
    char *out = NULL;
    CHECK_INT_EQ (CLIENT (sys, "alice", input, &out, NULL, "send", "ops", "--json"), 0);
    CHECK_INT_EQ (gc_jsonl_count (out), 200);
    free (out);
    for (int i = 0; i < 20; i++) {
        char text[16];
        snprintf (text, sizeof text, "b%d", i);
        CHECK_INT_EQ (CLIENT (sys, "bob", NULL, NULL, NULL, "send", "ops", text), 0);
    }
    for (int i = 0; i < 2; i++) {
        //  The last message, then the whole stream: 220 lines, seq 4.. contiguous, no repeat.
        CHECK_INT_EQ (gc_proc_wait_output (listeners[i], "\"text\":\"b19\"", 1, 15000), 0);
        char *text = gc_proc_stdout (listeners[i]);
        s_lines_t *lines = s_parse (text);
        free (text);
        CHECK_INT_EQ (lines->count, 220);
        for (int k = 0; k < lines->count; k++) {
            CHECK_INT_EQ (lines->seqs[k], 4 + k);
        }
        //  Alice's lines keep her order.
        CHECK_STR_EQ (lines->texts[0], "a0");
        CHECK_STR_EQ (lines->texts[199], "a199");
        CHECK_STR_EQ (lines->texts[200], "b0");
        free (lines);
    }
    CHECK (gc_itest_destroy (&sys));
}

static void
test_history_filters (void)
{
    gc_itest_t *sys = gc_itest_new (GC_BIN_DIR, "core-history", true, NULL);
    CHECK (sys);
    CHECK (gc_itest_group (sys, "ops", NULL, NULL, NULL));
    CHECK_INT_EQ (CLIENT (sys, "alice", NULL, NULL, NULL, "join", "ops"), 0);
    //  seq 1 is the join; messages m1..m30 are seq 2..31.
    char input[30 * 8] = "";
    for (int i = 1; i <= 30; i++) {
        char line[8];
        snprintf (line, sizeof line, "m%d\n", i);
        strcat (input, line);
    }
    char *out = NULL;
    CHECK_INT_EQ (CLIENT (sys, "alice", input, &out, NULL, "send", "ops", "--json"), 0);
    //  The timestamp of m10 (seq 11), to ask for everything since then.
    const char *m10 = strstr (out, "\"seq\":11,");
    CHECK (m10);
    long long ts_m10 = gc_jsonl_num (m10, "ts_us");
    CHECK (ts_m10 > 0);
    free (out);

    s_lines_t *lines = NULL;
    //  Whole history: join event plus 30 messages.
    CHECK_INT_EQ (CLIENT (sys, "alice", NULL, &out, NULL, "history", "ops", "--json"), 0);
    lines = s_parse (out);
    CHECK_INT_EQ (lines->count, 30);
    CHECK_INT_EQ (lines->events, 1);
    free (lines);
    free (out);

    //  --since includes the message at that time (epoch seconds with microseconds).
    char since[64];
    snprintf (since, sizeof since, "%lld.%06lld", ts_m10 / 1000000, ts_m10 % 1000000);
    CHECK_INT_EQ (CLIENT (sys, "alice", NULL, &out, NULL, "history", "ops", "--json", "--since",
                          since),
                  0);
    lines = s_parse (out);
    CHECK (lines->count >= 21);
    CHECK_INT_EQ (lines->seqs[0], 11);
    CHECK_STR_EQ (lines->texts[0], "m10");
    free (lines);
    free (out);

    //  --after-seq 25: seq 26..31.
    CHECK_INT_EQ (CLIENT (sys, "alice", NULL, &out, NULL, "history", "ops", "--after-seq", "25",
                          "--json"),
                  0);
    lines = s_parse (out);
    CHECK_INT_EQ (lines->count, 6);
    CHECK_INT_EQ (lines->seqs[0], 26);
    CHECK_INT_EQ (lines->seqs[5], 31);
    free (lines);
    free (out);

    //  --before-seq 5 (scrolling up): seq 2..4 and the join.
    CHECK_INT_EQ (CLIENT (sys, "alice", NULL, &out, NULL, "history", "ops", "--before-seq", "5",
                          "--json"),
                  0);
    lines = s_parse (out);
    CHECK_INT_EQ (lines->count, 3);
    CHECK_INT_EQ (lines->events, 1);
    CHECK_INT_EQ (lines->seqs[0], 2);
    CHECK_INT_EQ (lines->seqs[2], 4);
    free (lines);
    free (out);

    //  --last 4: the newest four, oldest first.
    CHECK_INT_EQ (CLIENT (sys, "alice", NULL, &out, NULL, "history", "ops", "--last", "4",
                          "--json"),
                  0);
    lines = s_parse (out);
    CHECK_INT_EQ (lines->count, 4);
    CHECK_INT_EQ (lines->seqs[0], 28);
    CHECK_INT_EQ (lines->seqs[3], 31);
    free (lines);
    free (out);

    //  --last 3 --before-seq 20: 17, 18, 19.
    CHECK_INT_EQ (CLIENT (sys, "alice", NULL, &out, NULL, "history", "ops", "--last", "3",
                          "--before-seq", "20", "--json"),
                  0);
    lines = s_parse (out);
    CHECK_INT_EQ (lines->count, 3);
    CHECK_INT_EQ (lines->seqs[0], 17);
    CHECK_INT_EQ (lines->seqs[2], 19);
    free (lines);
    free (out);

    //  --limit 5 --after-seq 10: 11..15.
    CHECK_INT_EQ (CLIENT (sys, "alice", NULL, &out, NULL, "history", "ops", "--limit", "5",
                          "--after-seq", "10", "--json"),
                  0);
    lines = s_parse (out);
    CHECK_INT_EQ (lines->count, 5);
    CHECK_INT_EQ (lines->seqs[0], 11);
    CHECK_INT_EQ (lines->seqs[4], 15);
    free (lines);
    free (out);

    //  Bad input is a usage error, not a crash.
    char *err = NULL;
    CHECK_INT_EQ (CLIENT (sys, "alice", NULL, NULL, &err, "history", "ops", "--since", "yesterday"),
                  2);
    CHECK_CONTAINS (err, "groupcast: invalid --since");
    free (err);
    CHECK (gc_itest_destroy (&sys));
}

//  --last over more than one page: the group ends a page at about 1 MiB of text, so 24
//  messages of 60,000 bytes take two newest-first pages, which must print oldest first.
static void
test_history_last_spans_pages (void)
{
    gc_itest_t *sys = gc_itest_new (GC_BIN_DIR, "core-pages", true, NULL);
    CHECK (sys);
    CHECK (gc_itest_group (sys, "ops", NULL, NULL, NULL));
    CHECK_INT_EQ (CLIENT (sys, "alice", NULL, NULL, NULL, "join", "ops"), 0);
    enum { COUNT = 24, SIZE = 60000 };
    char *input = (char *) malloc (COUNT * (SIZE + 1) + 1);
    CHECK (input);
    char *p = input;
    for (int i = 0; i < COUNT; i++) {
        //  Each line starts with its number so the order can be read back.
        int n = sprintf (p, "%02d", i);
        memset (p + n, 'x', SIZE - (size_t) n);
        p[SIZE] = '\n';
        p += SIZE + 1;
    }
    *p = '\0';
    int rc = CLIENT (sys, "alice", input, NULL, NULL, "send", "ops");
    free (input);
    CHECK_INT_EQ (rc, 0);
    char *out = NULL;
    CHECK_INT_EQ (CLIENT (sys, "alice", NULL, &out, NULL, "history", "ops", "--last", "24",
                          "--json"),
                  0);
    s_lines_t *lines = s_parse (out);
    free (out);
    CHECK_INT_EQ (lines->count, COUNT);
    for (int k = 0; k < COUNT; k++) {
        char want[8];
        snprintf (want, sizeof want, "%02d", k);
        CHECK_INT_EQ (lines->seqs[k], 2 + k);
        CHECK (strncmp (lines->texts[k], want, 2) == 0);
    }
    free (lines);
    CHECK (gc_itest_destroy (&sys));
}

static void
test_membership_is_enforced (void)
{
    gc_itest_t *sys = gc_itest_new (GC_BIN_DIR, "core-members", true, NULL);
    CHECK (sys);
    CHECK (gc_itest_group (sys, "ops", NULL, NULL, NULL));
    char *err = NULL, *out = NULL;
    //  Never joined: refused.
    CHECK_INT_EQ (CLIENT (sys, "mallory", NULL, NULL, &err, "send", "ops", "hi"), 1);
    CHECK_CONTAINS (err, "not a member");
    free (err);
    CHECK_INT_EQ (CLIENT (sys, "mallory", NULL, NULL, &err, "history", "ops"), 1);
    CHECK_CONTAINS (err, "not a member");
    free (err);

    //  Joined, sent, left: the send after leaving is refused and stored nowhere.
    CHECK_INT_EQ (CLIENT (sys, "alice", NULL, NULL, NULL, "join", "ops"), 0);
    CHECK_INT_EQ (CLIENT (sys, "bob", NULL, NULL, NULL, "join", "ops"), 0);
    CHECK_INT_EQ (CLIENT (sys, "alice", NULL, NULL, NULL, "send", "ops", "before"), 0);
    CHECK_INT_EQ (CLIENT (sys, "alice", NULL, &out, NULL, "--json", "leave", "ops"), 0);
    CHECK_CONTAINS (out, "\"left\":true");
    free (out);
    CHECK_INT_EQ (CLIENT (sys, "alice", NULL, NULL, &err, "send", "ops", "after"), 1);
    CHECK_CONTAINS (err, "not a member");
    free (err);
    CHECK_INT_EQ (CLIENT (sys, "bob", NULL, &out, NULL, "history", "ops", "--json"), 0);
    CHECK_CONTAINS (out, "\"text\":\"before\"");
    CHECK (!strstr (out, "\"text\":\"after\""));
    CHECK_CONTAINS (out, "\"event\":\"leave\"");
    free (out);

    //  Members lists bob only.
    CHECK_INT_EQ (CLIENT (sys, "bob", NULL, &out, NULL, "members", "ops", "--json"), 0);
    CHECK_INT_EQ (gc_jsonl_count (out), 1);
    free (out);

    //  Unknown group: clear error, exit 1.
    CHECK_INT_EQ (CLIENT (sys, "bob", NULL, NULL, &err, "join", "nosuch"), 1);
    CHECK_CONTAINS (err, "no group named 'nosuch'");
    free (err);
    CHECK (gc_itest_destroy (&sys));
}

static void
test_direct_endpoint_options_and_shell (void)
{
    gc_itest_t *sys = gc_itest_new (GC_BIN_DIR, "core-direct", true, NULL);
    CHECK (sys);
    char ep[256];
    CHECK (gc_itest_group (sys, "ops", NULL, ep, NULL));
    char spec[300];
    snprintf (spec, sizeof spec, "ops@%s", ep);
    CHECK_INT_EQ (CLIENT (sys, "alice", NULL, NULL, NULL, "join", spec), 0);
    //  -- ends options: a message may start with a dash.
    CHECK_INT_EQ (CLIENT (sys, "alice", NULL, NULL, NULL, "send", "ops", "--", "-dash", "--json"),
                  0);
    //  The shell: join, a plain line is sent, /quit leaves.
    char *out = NULL;
    CHECK_INT_EQ (CLIENT (sys, "bob", "/join ops\nhello from the shell\n/quit\n", &out, NULL,
                          "--name", "bob", "shell"),
                  0);
    //  The shell follows the group from the join on: bob sees his own join (fetched from history
    //  when he subscribes, so it cannot race the live stream).
    CHECK_CONTAINS (out, "* bob joined");
    free (out);
    CHECK_INT_EQ (CLIENT (sys, "alice", NULL, &out, NULL, "history", "ops", "--json"), 0);
    CHECK_CONTAINS (out, "\"text\":\"-dash --json\"");
    CHECK_CONTAINS (out, "\"name\":\"bob\",\"text\":\"hello from the shell\"");
    free (out);
    //  Usage errors exit 2.
    CHECK_INT_EQ (CLIENT (sys, "alice", NULL, NULL, NULL, "frobnicate"), 2);
    CHECK_INT_EQ (CLIENT (sys, "alice", NULL, NULL, NULL, "groups", "--bogus"), 2);
    CHECK (gc_itest_destroy (&sys));
}

static void
test_registry_down (void)
{
    //  No registry: every command fails within its timeout with one clear line.
    gc_itest_t *sys = gc_itest_new (GC_BIN_DIR, "core-down", false, NULL);
    CHECK (sys);
    char *err = NULL;
    int rc = CLIENT (sys, "alice", NULL, NULL, &err, "--timeout", "500", "groups");
    CHECK_INT_EQ (rc, 1);
    CHECK_CONTAINS (err, "groupcast: registry tcp://127.0.0.1:1 is not answering");
    free (err);
    rc = CLIENT (sys, "alice", NULL, NULL, &err, "--timeout", "500", "join", "ops");
    CHECK_INT_EQ (rc, 1);
    CHECK_CONTAINS (err, "not answering");
    free (err);

    //  A group that cannot register exits non-zero with the reason.
    char *bin = gc_bin (GC_BIN_DIR, "groupcast-group");
    const char *argv[] = {bin, "--name", "ops", "--server", "tcp://127.0.0.1:1", "--memory",
                          "--timeout", "500", "--bind", "tcp://127.0.0.1:*", "--pub",
                          "tcp://127.0.0.1:*", NULL};
    rc = gc_run (sys->dir, (char *const *) argv, NULL, NULL, 15000, NULL, &err);
    free (bin);
    CHECK_INT_EQ (rc, 1);
    CHECK_CONTAINS (err, "cannot register group 'ops'");
    free (err);
    CHECK (gc_itest_destroy (&sys));
}

static void
test_sigterm_unregisters (void)
{
    gc_itest_t *sys = gc_itest_new (GC_BIN_DIR, "core-term", true, NULL);
    CHECK (sys);
    gc_proc_t *group = gc_itest_group (sys, "ops", NULL, NULL, NULL);
    CHECK (group);
    bool clean = false;
    CHECK_INT_EQ (gc_itest_stop (sys, group, &clean), 0);
    CHECK (clean);
    char *out = NULL;
    CHECK_INT_EQ (CLIENT (sys, "alice", NULL, &out, NULL, "groups", "--json"), 0);
    CHECK_INT_EQ (gc_jsonl_count (out), 0);
    free (out);
    CHECK (gc_itest_destroy (&sys));
}

static const gc_test_case_t cases[] = {
    {"groups_and_duplicate_name", test_groups_and_duplicate_name},
    {"listeners_get_every_message_once_in_order", test_listeners_get_every_message_once_in_order},
    {"history_filters", test_history_filters},
    {"history_last_spans_pages", test_history_last_spans_pages},
    {"membership_is_enforced", test_membership_is_enforced},
    {"direct_endpoint_options_and_shell", test_direct_endpoint_options_and_shell},
    {"registry_down", test_registry_down},
    {"sigterm_unregisters", test_sigterm_unregisters},
    {NULL, NULL}};

int
main (int argc, char **argv)
{
    signal (SIGPIPE, SIG_IGN);
    return gc_test_run (argc, argv, cases);
}
