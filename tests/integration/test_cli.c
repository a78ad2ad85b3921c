/*  test_cli - the command line beyond the core: stats, --help and --version of every program,
    colours, and the shell on a terminal (through script(1), which gives it a pty)
    SPDX-License-Identifier: MPL-2.0
*/
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "groupcast.h"
#include "gc_itest.h"
#include "gc_jsonl.h"
#include "gc_test.h"

#define CLIENT(sys, user, input, out, err, ...)                                                \
    gc_itest_client (sys, user, input, out, err, __VA_ARGS__, (const char *) NULL)

//  The floating-point number after "key": in line, or -1 if absent.
static double
s_json_double (const char *line, const char *key)
{
    char pattern[64];
    snprintf (pattern, sizeof pattern, "\"%s\":", key);
    const char *at = strstr (line, pattern);
    return at ? strtod (at + strlen (pattern), NULL) : -1;
}

static int64_t
s_now_ms (void)
{
    struct timespec now;
    clock_gettime (CLOCK_MONOTONIC, &now);
    return (int64_t) now.tv_sec * 1000 + now.tv_nsec / 1000000;
}

//  Asks for the group's stats until it reports `want` subscribers (they reach the group
//  asynchronously), for at most fifteen seconds. Returns true once it does.
static bool
s_wait_subscribers (gc_itest_t *sys, const char *user, long long want)
{
    int64_t deadline = s_now_ms () + 15000;
    long long have = -1;
    while (s_now_ms () < deadline) {
        //  Each round trip is one request to the group: the loop waits on its answers.
        char *out = NULL;
        int rc = CLIENT (sys, user, NULL, &out, NULL, "stats", "ops", "--json");
        have = rc == 0 && out ? gc_jsonl_num (out, "subscribers") : -1;
        free (out);
        if (have == want) {
            return true;
        }
    }
    fprintf (stderr, "stats reported %lld subscribers, never %lld\n", have, want);
    return false;
}

static void
test_stats (void)
{
    gc_itest_t *sys = gc_itest_new (GC_BIN_DIR, "cli-stats", true, NULL);
    CHECK (sys);
    CHECK (gc_itest_group (sys, "ops", NULL, NULL, NULL));
    CHECK (gc_itest_group (sys, "dev", NULL, NULL, NULL));
    CHECK_INT_EQ (CLIENT (sys, "alice", NULL, NULL, NULL, "--name", "alice", "join", "ops"), 0);
    CHECK_INT_EQ (CLIENT (sys, "alice", "a\nbb\nccc\n", NULL, NULL, "send", "ops"), 0);

    //  Figures: three messages of 6 bytes, one join before them, one member, two groups.
    char *out = NULL;
    CHECK_INT_EQ (CLIENT (sys, "alice", NULL, &out, NULL, "stats", "ops", "--json"), 0);
    CHECK_CONTAINS (out, "{\"group\":\"ops\",");
    CHECK_INT_EQ (gc_jsonl_num (out, "members"), 1);
    CHECK_INT_EQ (gc_jsonl_num (out, "messages"), 3);
    CHECK_INT_EQ (gc_jsonl_num (out, "bytes"), 6);
    CHECK_INT_EQ (gc_jsonl_num (out, "entries"), 4);
    CHECK_INT_EQ (gc_jsonl_num (out, "first_seq"), 1);
    CHECK_INT_EQ (gc_jsonl_num (out, "last_seq"), 4);
    CHECK_INT_EQ (gc_jsonl_num (out, "registry_groups"), 2);
    CHECK_INT_EQ (gc_jsonl_num (out, "subscribers"), 0);
    CHECK (gc_jsonl_num (out, "uptime_s") >= 0);
    CHECK (gc_jsonl_num (out, "started_us") > 0);
    //  The messages came within the rate's window.
    CHECK (s_json_double (out, "rate") > 0);
    free (out);

    //  Text, not coloured: the output is not a terminal.
    CHECK_INT_EQ (CLIENT (sys, "alice", NULL, &out, NULL, "stats", "ops"), 0);
    CHECK_CONTAINS (out, "ops\n  members      1\n");
    CHECK_CONTAINS (out, "  messages     3 since start");
    CHECK_CONTAINS (out, "  bytes        6 B since start");
    CHECK_CONTAINS (out, "  history      4 entries, #1 to #4");
    CHECK_CONTAINS (out, " 2 groups\n");
    CHECK (!strchr (out, '\033'));
    free (out);

    //  Without GROUP: every joined group (alice is in ops only).
    CHECK_INT_EQ (CLIENT (sys, "alice", NULL, &out, NULL, "stats", "--json"), 0);
    CHECK_CONTAINS (out, "\"group\":\"ops\"");
    CHECK (!strstr (out, "\"group\":\"dev\""));
    free (out);
    //  ...and with none joined, the registry's count alone.
    CHECK_INT_EQ (CLIENT (sys, "bob", NULL, &out, NULL, "stats", "--json"), 0);
    CHECK_STR_EQ (out, "{\"registry_groups\":2}\n");
    free (out);

    //  Members only; a usage error is a usage error.
    char *err = NULL;
    CHECK_INT_EQ (CLIENT (sys, "bob", NULL, NULL, &err, "stats", "ops"), 1);
    CHECK_CONTAINS (err, "not a member");
    free (err);
    CHECK_INT_EQ (CLIENT (sys, "alice", NULL, NULL, NULL, "stats", "ops", "dev"), 2);

    //  A listener is a subscriber while it runs, also after being killed outright.
    gc_proc_t *listener = gc_itest_client_start (sys, "alice", 0, "listen", "ops", NULL);
    CHECK (listener);
    CHECK_INT_EQ (gc_proc_wait_output (listener, "listening", 1, 15000), 0);
    CHECK (s_wait_subscribers (sys, "alice", 1));
    gc_proc_t *second = gc_itest_client_start (sys, "alice", 0, "listen", "ops", NULL);
    CHECK (second);
    CHECK_INT_EQ (gc_proc_wait_output (second, "listening", 1, 15000), 0);
    CHECK (s_wait_subscribers (sys, "alice", 2));
    bool clean = false;
    CHECK_INT_EQ (gc_itest_stop (sys, listener, &clean), 0);
    CHECK (clean);
    CHECK (s_wait_subscribers (sys, "alice", 1));
    CHECK_INT_EQ (gc_proc_kill (second, SIGKILL), 0);
    CHECK (s_wait_subscribers (sys, "alice", 0));
    CHECK (gc_itest_destroy (&sys));
}

static void
test_programs_answer_version_and_help (void)
{
    char *dir = gc_tmpdir_new ("cli-programs");
    CHECK (dir);
    static const char *programs[] = {"groupcast", "groupcast-server", "groupcast-group", NULL};
    for (int i = 0; programs[i]; i++) {
        char *bin = gc_bin (GC_BIN_DIR, programs[i]);
        CHECK (bin);
        char *out = NULL, *err = NULL;
        const char *version[] = {bin, "--version", NULL};
        CHECK_INT_EQ (gc_run (dir, (char *const *) version, NULL, NULL, 15000, &out, NULL), 0);
        char expected[128];
        snprintf (expected, sizeof expected, "%s %s\n", programs[i], GROUPCAST_VERSION);
        CHECK_STR_EQ (out, expected);
        free (out);
        const char *help[] = {bin, "--help", NULL};
        CHECK_INT_EQ (gc_run (dir, (char *const *) help, NULL, NULL, 15000, &out, NULL), 0);
        CHECK_CONTAINS (out, "usage: ");
        CHECK_CONTAINS (out, "examples:\n");
        free (out);
        const char *bad[] = {bin, "--no-such-option", NULL};
        CHECK_INT_EQ (gc_run (dir, (char *const *) bad, NULL, NULL, 15000, &out, &err), 2);
        CHECK_STR_EQ (out, "");
        CHECK (err && strlen (err) > 0);
        free (out);
        free (err);
        free (bin);
    }
    gc_tmpdir_destroy (&dir);
}

//  Runs `groupcast --home ... --server ... ARGS` on a terminal: script(1) gives it a pty, feeds
//  it input and copies what it shows to *out. env_prefix goes before the command (env(1)
//  arguments). Returns the exit status.
static int
s_on_terminal (gc_itest_t *sys, const char *user, const char *env_prefix, const char *args,
               const char *input, char **out)
{
    char command[4096];
    snprintf (command, sizeof command,
              "env -u NO_COLOR TERM=xterm %s %s/groupcast --home %s/users/%s --server %s %s",
              env_prefix, GC_BIN_DIR, sys->dir, user, sys->server_ep, args);
    const char *argv[] = {"/usr/bin/script", "-qec", command, "/dev/null", NULL};
    return gc_run (sys->dir, (char *const *) argv, NULL, input, 30000, out, NULL);
}

static void
test_colours_only_on_a_terminal (void)
{
    CHECK (access ("/usr/bin/script", X_OK) == 0);
    gc_itest_t *sys = gc_itest_new (GC_BIN_DIR, "cli-colour", true, NULL);
    CHECK (sys);
    CHECK (gc_itest_group (sys, "ops", NULL, NULL, NULL));
    CHECK_INT_EQ (CLIENT (sys, "alice", NULL, NULL, NULL, "--name", "alice", "join", "ops"), 0);
    CHECK_INT_EQ (CLIENT (sys, "alice", NULL, NULL, NULL, "send", "ops", "in colour"), 0);
    char *out = NULL;
    CHECK_INT_EQ (s_on_terminal (sys, "alice", "", "history ops", NULL, &out), 0);
    CHECK_CONTAINS (out, "\033[1mops\033[0m");
    CHECK_CONTAINS (out, ": in colour");
    free (out);
    CHECK_INT_EQ (s_on_terminal (sys, "alice", "NO_COLOR=1", "history ops", NULL, &out), 0);
    CHECK_CONTAINS (out, "alice: in colour");
    CHECK (!strchr (out, '\033'));
    free (out);
    //  --json is never coloured.
    CHECK_INT_EQ (s_on_terminal (sys, "alice", "", "history ops --json", NULL, &out), 0);
    CHECK_CONTAINS (out, "\"text\":\"in colour\"");
    CHECK (!strchr (out, '\033'));
    free (out);
    CHECK (gc_itest_destroy (&sys));
}

static void
test_shell_on_a_terminal (void)
{
    CHECK (access ("/usr/bin/script", X_OK) == 0);
    gc_itest_t *sys = gc_itest_new (GC_BIN_DIR, "cli-shell", true, NULL);
    CHECK (sys);
    CHECK (gc_itest_group (sys, "ops", NULL, NULL, NULL));
    CHECK (gc_itest_group (sys, "operations", NULL, NULL, NULL));
    CHECK_INT_EQ (CLIENT (sys, "alice", NULL, NULL, NULL, "--name", "alice", "join", "ops"), 0);
    //  Tab completes a command ("/jo" to "/join ") and a group name from the registry
    //  ("operat" to "operations"); a plain line goes to the current group; Ctrl-D on an empty
    //  line leaves.
    char *out = NULL;
    CHECK_INT_EQ (s_on_terminal (sys, "carol", "NO_COLOR=1", "--name carol shell",
                                 "/jo\toperat\t\ncompleted and sent\n/stats\n\004", &out),
                  0);
    CHECK_CONTAINS (out, "joined operations");
    CHECK_CONTAINS (out, "operations>");
    CHECK_CONTAINS (out, "members      1");
    free (out);
    CHECK_INT_EQ (CLIENT (sys, "carol", NULL, &out, NULL, "history", "operations", "--json"), 0);
    CHECK_CONTAINS (out, "\"name\":\"carol\",\"text\":\"completed and sent\"");
    free (out);
    //  The history is kept in the state directory for the next run.
    char path[1024];
    snprintf (path, sizeof path, "%s/users/carol/shell_history", sys->dir);
    FILE *file = fopen (path, "r");
    CHECK (file);
    char text[4096] = "";
    size_t got = fread (text, 1, sizeof text - 1, file);
    fclose (file);
    text[got] = '\0';
    CHECK_CONTAINS (text, "completed");
    CHECK (gc_itest_destroy (&sys));
}

static const gc_test_case_t cases[] = {
    {"stats", test_stats},
    {"programs_answer_version_and_help", test_programs_answer_version_and_help},
    {"colours_only_on_a_terminal", test_colours_only_on_a_terminal},
    {"shell_on_a_terminal", test_shell_on_a_terminal},
    {NULL, NULL}};

int
main (int argc, char **argv)
{
    signal (SIGPIPE, SIG_IGN);
    return gc_test_run (argc, argv, cases);
}
