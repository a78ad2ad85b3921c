/*  test_install - the installed copy: `cmake --install` into a temp prefix puts everything in
    its place, examples/echo_bot.c builds against it with pkg-config (shared and static), and
    the bot answers "!echo hi" on the installed registry and group
    SPDX-License-Identifier: MPL-2.0
*/
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "groupcast.h"
#include "gc_itest.h"
#include "gc_test.h"

#define CLIENT(sys, user, input, out, err, ...)                                                \
    gc_itest_client (sys, user, input, out, err, __VA_ARGS__, (const char *) NULL)

//  Runs a shell command line in dir with extra environment; *out gets its stdout (may be NULL).
//  Returns the exit status (printing its stderr when not 0).
static int
s_sh (const char *dir, char *const env[], const char *command, char **out)
{
    const char *argv[] = {"/bin/sh", "-c", command, NULL};
    char *err = NULL;
    int rc = gc_run (dir, (char *const *) argv, env, NULL, 120000, out, &err);
    if (rc != 0) {
        fprintf (stderr, "'%s' exited with %d:\n%s\n", command, rc, err ? err : "");
    }
    free (err);
    return rc;
}

static bool
s_exists (const char *prefix, const char *dir, const char *name)
{
    char path[2048];
    snprintf (path, sizeof path, "%s/%s/%s", prefix, dir, name);
    struct stat info;
    if (stat (path, &info) != 0) {
        fprintf (stderr, "not installed: %s\n", path);
        return false;
    }
    return true;
}

//  Starts a built bot on `group` as the user "bot", waits for its READY line, has alice ask
//  it to echo `word` and waits for a listener to show the answer. Then stops it with SIGINT,
//  which it must survive cleanly (exit 0, nothing from the sanitizers).
static void
s_run_bot (gc_itest_t *sys, const char *bot_path, const char *libdir, const char *word)
{
    char server[300], home[1100], library[1100];
    snprintf (server, sizeof server, "GROUPCAST_SERVER=%s", sys->server_ep);
    snprintf (home, sizeof home, "GROUPCAST_HOME=%s/users/bot", sys->dir);
    snprintf (library, sizeof library, "LD_LIBRARY_PATH=%s", libdir);
    const char *env[] = {server, home, library, NULL};
    const char *argv[] = {bot_path, "ops", NULL};
    gc_proc_t *bot = gc_proc_start (sys->dir, word, (char *const *) argv, (char *const *) env,
                                    false);
    CHECK (bot);
    CHECK_INT_EQ (gc_proc_wait_line (bot, "READY ", 15000, NULL, 0), 0);

    gc_proc_t *listener = gc_itest_client_start (sys, "alice", 0, "listen", "ops", NULL);
    CHECK (listener);
    CHECK_INT_EQ (gc_proc_wait_output (listener, "listening", 1, 15000), 0);
    char text[64], answer[80];
    snprintf (text, sizeof text, "!echo %s", word);
    snprintf (answer, sizeof answer, "echo-bot: %s\n", word);
    CHECK_INT_EQ (CLIENT (sys, "alice", NULL, NULL, NULL, "send", "ops", text), 0);
    CHECK_INT_EQ (gc_proc_wait_output (listener, answer, 1, 15000), 0);
    bool clean = false;
    CHECK_INT_EQ (gc_itest_stop (sys, listener, &clean), 0);
    CHECK (clean);

    //  And the answer is in the history, from the bot.
    char *out = NULL;
    CHECK_INT_EQ (CLIENT (sys, "alice", NULL, &out, NULL, "history", "ops", "--json"), 0);
    char line[128];
    snprintf (line, sizeof line, "\"name\":\"echo-bot\",\"text\":\"%s\"}", word);
    CHECK_CONTAINS (out, line);
    free (out);

    CHECK_INT_EQ (gc_proc_kill (bot, SIGINT), 0);
    CHECK_INT_EQ (gc_proc_wait (bot, 15000), 0);
    CHECK (gc_proc_clean (bot));
    gc_proc_destroy (&bot);
}

static void
test_install_and_build_the_example (void)
{
    char *dir = gc_tmpdir_new ("install");
    CHECK (dir);
    char prefix[1024], libdir[1200], command[8192];
    snprintf (prefix, sizeof prefix, "%s/prefix", dir);
    snprintf (libdir, sizeof libdir, "%s/%s", prefix, GC_INSTALL_LIBDIR);

    snprintf (command, sizeof command, "'%s' --install '%s' --prefix '%s'", GC_CMAKE,
              GC_BUILD_DIR, prefix);
    CHECK_INT_EQ (s_sh (dir, NULL, command, NULL), 0);
    CHECK (s_exists (prefix, GC_INSTALL_BINDIR, "groupcast"));
    CHECK (s_exists (prefix, GC_INSTALL_BINDIR, "groupcast-server"));
    CHECK (s_exists (prefix, GC_INSTALL_BINDIR, "groupcast-group"));
    CHECK (s_exists (prefix, GC_INSTALL_LIBDIR, "libgroupcast.so"));
    CHECK (s_exists (prefix, GC_INSTALL_LIBDIR, "libgroupcast.so.0"));
    CHECK (s_exists (prefix, GC_INSTALL_LIBDIR, "libgroupcast.a"));
    CHECK (s_exists (prefix, GC_INSTALL_LIBDIR, "pkgconfig/groupcast.pc"));
    CHECK (s_exists (prefix, GC_INSTALL_INCLUDEDIR, "groupcast.h"));
    CHECK (s_exists (prefix, GC_INSTALL_MANDIR, "man1/groupcast.1"));
    CHECK (s_exists (prefix, GC_INSTALL_MANDIR, "man1/groupcast-server.1"));
    CHECK (s_exists (prefix, GC_INSTALL_MANDIR, "man1/groupcast-group.1"));

    //  The shared library exports the public API and nothing else (no protobuf-c code).
    char *out = NULL;
    snprintf (command, sizeof command, "nm -D --defined-only '%s/libgroupcast.so.0'", libdir);
    CHECK_INT_EQ (s_sh (dir, NULL, command, &out), 0);
    CHECK_CONTAINS (out, " T gc_client_new\n");
    CHECK_CONTAINS (out, " T gc_sub_recv\n");
    int symbols = 0;
    char *save = NULL;
    for (char *line = strtok_r (out, "\n", &save); line; line = strtok_r (NULL, "\n", &save)) {
        const char *name = strrchr (line, ' ');
        if (!name || strncmp (name + 1, "gc_", 3) != 0) {
            fprintf (stderr, "exported: %s\n", line);
            CHECK (false);
        }
        symbols++;
    }
    CHECK (symbols > 30);
    free (out);

    //  pkg-config finds it, and the example builds against it, shared and static.
    char pkg_path[1300];
    snprintf (pkg_path, sizeof pkg_path, "PKG_CONFIG_PATH=%s/pkgconfig", libdir);
    const char *env[] = {pkg_path, NULL};
    CHECK_INT_EQ (s_sh (dir, (char *const *) env, "pkg-config --modversion groupcast", &out), 0);
    CHECK_STR_EQ (out, GROUPCAST_VERSION "\n");
    free (out);
    snprintf (command, sizeof command,
              "'%s' %s -std=c11 -Wall -Wextra -pedantic -Werror -o echo_bot "
              "'%s/examples/echo_bot.c' $(pkg-config --cflags --libs groupcast)",
              GC_CC, GC_CC_FLAGS, GC_SOURCE_DIR);
    CHECK_INT_EQ (s_sh (dir, (char *const *) env, command, NULL), 0);
    snprintf (command, sizeof command,
              "'%s' %s -std=c11 -o echo_bot_static '%s/examples/echo_bot.c' "
              "$(pkg-config --cflags groupcast) '%s/libgroupcast.a' "
              "$(pkg-config --libs libczmq libzmq libprotobuf-c uuid) -pthread",
              GC_CC, GC_CC_FLAGS, GC_SOURCE_DIR, libdir);
    CHECK_INT_EQ (s_sh (dir, (char *const *) env, command, NULL), 0);
    //  One uses the installed shared library, the other none.
    char library[1300];
    snprintf (library, sizeof library, "LD_LIBRARY_PATH=%s", libdir);
    const char *ld_env[] = {library, NULL};
    CHECK_INT_EQ (s_sh (dir, (char *const *) ld_env, "ldd ./echo_bot", &out), 0);
    char expected[1400];
    snprintf (expected, sizeof expected, "libgroupcast.so.0 => %s/libgroupcast.so.0", libdir);
    CHECK_CONTAINS (out, expected);
    free (out);
    CHECK_INT_EQ (s_sh (dir, NULL, "ldd ./echo_bot_static", &out), 0);
    CHECK (!strstr (out, "libgroupcast"));
    free (out);

    //  Both answer on the installed registry and group.
    char bin_dir[1200], bot[1200], bot_static[1200];
    snprintf (bin_dir, sizeof bin_dir, "%s/%s", prefix, GC_INSTALL_BINDIR);
    snprintf (bot, sizeof bot, "%s/echo_bot", dir);
    snprintf (bot_static, sizeof bot_static, "%s/echo_bot_static", dir);
    gc_itest_t *sys = gc_itest_new (bin_dir, "install-run", true, NULL);
    CHECK (sys);
    CHECK (gc_itest_group (sys, "ops", NULL, NULL, NULL));
    CHECK_INT_EQ (CLIENT (sys, "alice", NULL, NULL, NULL, "--name", "alice", "join", "ops"), 0);
    s_run_bot (sys, bot, libdir, "hi");
    s_run_bot (sys, bot_static, libdir, "again");
    CHECK (gc_itest_destroy (&sys));
    gc_tmpdir_destroy (&dir);
}

static const gc_test_case_t cases[] = {
    {"install_and_build_the_example", test_install_and_build_the_example}, {NULL, NULL}};

int
main (int argc, char **argv)
{
    signal (SIGPIPE, SIG_IGN);
    return gc_test_run (argc, argv, cases);
}
