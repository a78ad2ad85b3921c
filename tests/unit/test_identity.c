/*  test_identity - gc_identity: state directory, identity file, groups, cursors
    SPDX-License-Identifier: MPL-2.0
*/
#include "gc_proc.h"
#include "gc_test.h"
#include "groupcast.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

//  The test's own temp directory; each case works in a subdirectory named after it.
static char *s_root;

//  "<root>/<name>" written into buf; returns buf.
static const char *
s_dir (const char *name, char *buf, size_t size)
{
    snprintf (buf, size, "%s/%s", s_root, name);
    return buf;
}

static int
s_write (const char *dir, const char *file, const char *data, size_t len)
{
    char path[1024];
    snprintf (path, sizeof path, "%s/%s", dir, file);
    int fd = open (path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0) {
        return -1;
    }
    ssize_t put = write (fd, data, len);
    close (fd);
    return put == (ssize_t) len ? 0 : -1;
}

//  The file's contents as an owned string, or NULL.
static char *
s_read (const char *dir, const char *file)
{
    char path[1024];
    snprintf (path, sizeof path, "%s/%s", dir, file);
    FILE *in = fopen (path, "r");
    if (!in) {
        return NULL;
    }
    char *data = calloc (1, 65536);
    if (data) {
        size_t got = fread (data, 1, 65535, in);
        data[got] = '\0';
    }
    fclose (in);
    return data;
}

static int
s_mode (const char *path)
{
    struct stat st;
    return stat (path, &st) == 0 ? (int) (st.st_mode & 07777) : -1;
}

static bool
s_valid_uuid (const char *id)
{
    if (strlen (id) != GC_UUID_STR_LEN) {
        return false;
    }
    for (int i = 0; i < GC_UUID_STR_LEN; i++) {
        bool dash = i == 8 || i == 13 || i == 18 || i == 23;
        if (dash ? id[i] != '-' : !strchr ("0123456789abcdef", id[i])) {
            return false;
        }
    }
    return id[14] == '4';  //  a random (version 4) UUID
}

static void
test_create_and_reload (void)
{
    char home[1024], err[512], path[1100];
    s_dir ("create", home, sizeof home);
    gc_identity_t *identity = gc_identity_load (home, err, sizeof err);
    CHECK (identity);
    CHECK_STR_EQ (gc_identity_home (identity), home);
    CHECK (s_valid_uuid (gc_identity_id (identity)));
    CHECK_STR_EQ (gc_identity_name (identity), "");
    uint8_t token[GC_TOKEN_SIZE];
    memcpy (token, gc_identity_token (identity), GC_TOKEN_SIZE);
    static const uint8_t zero[GC_TOKEN_SIZE] = { 0 };
    CHECK (memcmp (token, zero, GC_TOKEN_SIZE) != 0);
    char id[GC_UUID_STR_LEN + 1];
    snprintf (id, sizeof id, "%s", gc_identity_id (identity));
    CHECK_INT_EQ (gc_identity_group_count (identity), 0);
    gc_identity_destroy (&identity);
    CHECK (identity == NULL);
    gc_identity_destroy (&identity);  //  safe twice

    //  The file is what the contract says, private to the user.
    CHECK_INT_EQ (s_mode (home), 0700);
    snprintf (path, sizeof path, "%s/identity", home);
    CHECK_INT_EQ (s_mode (path), 0600);
    char *text = s_read (home, "identity");
    CHECK (text);
    char want[256];
    int len = snprintf (want, sizeof want, "id=%s\ntoken=", id);
    for (int i = 0; i < GC_TOKEN_SIZE; i++) {
        len += snprintf (want + len, sizeof want - (size_t) len, "%02x", token[i]);
    }
    snprintf (want + len, sizeof want - (size_t) len, "\nname=\n");
    bool same = strcmp (text, want) == 0;
    free (text);
    CHECK (same);

    //  Loaded again: the same user, not a new one.
    identity = gc_identity_load (home, err, sizeof err);
    CHECK (identity);
    CHECK_STR_EQ (gc_identity_id (identity), id);
    CHECK (memcmp (gc_identity_token (identity), token, GC_TOKEN_SIZE) == 0);
    gc_identity_destroy (&identity);

    //  Another directory: another user.
    s_dir ("create-other", home, sizeof home);
    identity = gc_identity_load (home, err, sizeof err);
    CHECK (identity);
    CHECK (strcmp (gc_identity_id (identity), id) != 0);
    CHECK (memcmp (gc_identity_token (identity), token, GC_TOKEN_SIZE) != 0);
    gc_identity_destroy (&identity);
}

static void
test_nested_dirs (void)
{
    char base[1024], home[1100], err[512];
    s_dir ("nested", base, sizeof base);
    snprintf (home, sizeof home, "%s/a/b/c", base);
    gc_identity_t *identity = gc_identity_load (home, err, sizeof err);
    CHECK (identity);
    gc_identity_destroy (&identity);
    CHECK_INT_EQ (s_mode (base), 0700);
    snprintf (home, sizeof home, "%s/a", base);
    CHECK_INT_EQ (s_mode (home), 0700);
    snprintf (home, sizeof home, "%s/a/b", base);
    CHECK_INT_EQ (s_mode (home), 0700);
    snprintf (home, sizeof home, "%s/a/b/c", base);
    CHECK_INT_EQ (s_mode (home), 0700);
}

static void
test_bad_home (void)
{
    char home[1024], err[512];
    s_dir ("bad-home", home, sizeof home);
    CHECK_INT_EQ (mkdir (home, 0700), 0);
    CHECK_INT_EQ (s_write (home, "file", "x", 1), 0);

    strcat (home, "/file");
    err[0] = '\0';
    CHECK (gc_identity_load (home, err, sizeof err) == NULL);
    CHECK_CONTAINS (err, "not a directory");

    strcat (home, "/below");
    err[0] = '\0';
    CHECK (gc_identity_load (home, err, sizeof err) == NULL);
    CHECK_CONTAINS (err, "cannot create state directory");

    err[0] = '\0';
    CHECK (gc_identity_load ("", err, sizeof err) == NULL);
    CHECK_CONTAINS (err, "empty path");
}

static void
test_set_name (void)
{
    char home[1024], err[512];
    s_dir ("name", home, sizeof home);
    gc_identity_t *identity = gc_identity_load (home, err, sizeof err);
    CHECK (identity);
    CHECK_INT_EQ (gc_identity_set_name (identity, "Zoë = the boss", err, sizeof err), 0);
    CHECK_STR_EQ (gc_identity_name (identity), "Zoë = the boss");

    char max[GC_MAX_NAME + 2];
    memset (max, 'n', GC_MAX_NAME);
    max[GC_MAX_NAME] = '\0';
    CHECK_INT_EQ (gc_identity_set_name (identity, max, err, sizeof err), 0);
    CHECK_STR_EQ (gc_identity_name (identity), max);

    //  Rejected names change nothing, in memory or on disk.
    char *before = s_read (home, "identity");
    CHECK (before);
    max[GC_MAX_NAME] = 'n';
    max[GC_MAX_NAME + 1] = '\0';
    const char *bad[] = { NULL, "tab\there", "new\nline", "del\x7f", "esc\x1b[31m", "\r" };
    bad[0] = max;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err[0] = '\0';
        if (gc_identity_set_name (identity, bad[i], err, sizeof err) != -1) {
            free (before);
            CHECK (!"bad name accepted");
        }
        if (!strstr (err, "cannot set display name")) {
            free (before);
            CHECK_CONTAINS (err, "cannot set display name");
        }
    }
    max[GC_MAX_NAME] = '\0';
    char *after = s_read (home, "identity");
    bool unchanged = after && strcmp (before, after) == 0;
    free (before);
    free (after);
    CHECK (unchanged);
    CHECK_STR_EQ (gc_identity_name (identity), max);
    gc_identity_destroy (&identity);

    identity = gc_identity_load (home, err, sizeof err);
    CHECK (identity);
    CHECK_STR_EQ (gc_identity_name (identity), max);
    CHECK_INT_EQ (gc_identity_set_name (identity, "", err, sizeof err), 0);
    gc_identity_destroy (&identity);
    identity = gc_identity_load (home, err, sizeof err);
    CHECK (identity);
    CHECK_STR_EQ (gc_identity_name (identity), "");
    gc_identity_destroy (&identity);
}

static void
test_remember_forget (void)
{
    char home[1024], err[512];
    s_dir ("groups", home, sizeof home);
    gc_identity_t *identity = gc_identity_load (home, err, sizeof err);
    CHECK (identity);
    static const char *names[] = { "ops", "zeta", "alpha", "mid.dle_x-1" };
    for (size_t i = 0; i < 4; i++) {
        char ep[64], pub[64];
        snprintf (ep, sizeof ep, "tcp://127.0.0.1:%zu", 5000 + 2 * i);
        snprintf (pub, sizeof pub, "tcp://127.0.0.1:%zu", 5001 + 2 * i);
        CHECK_INT_EQ (gc_identity_remember (identity, names[i], ep, pub, err, sizeof err), 0);
    }
    //  Replacing keeps one record.
    CHECK_INT_EQ (gc_identity_remember (identity, "ops", "ipc:///tmp/ops", "tcp://host.example:9",
                                        err, sizeof err),
                  0);
    CHECK_INT_EQ (gc_identity_group_count (identity), 4);
    CHECK_STR_EQ (gc_identity_group (identity, 0)->name, "alpha");
    CHECK_STR_EQ (gc_identity_group (identity, 1)->name, "mid.dle_x-1");
    CHECK_STR_EQ (gc_identity_group (identity, 2)->name, "ops");
    CHECK_STR_EQ (gc_identity_group (identity, 3)->name, "zeta");
    const gc_group_info_t *ops = gc_identity_find (identity, "ops");
    CHECK (ops);
    CHECK_STR_EQ (ops->endpoint, "ipc:///tmp/ops");
    CHECK_STR_EQ (ops->pub_endpoint, "tcp://host.example:9");
    CHECK (gc_identity_find (identity, "nope") == NULL);
    CHECK (gc_identity_find (identity, "") == NULL);

    //  Bad input is refused and changes nothing.
    char long_name[GC_MAX_NAME + 2];
    memset (long_name, 'g', GC_MAX_NAME + 1);
    long_name[GC_MAX_NAME + 1] = '\0';
    const char *bad_names[] = { NULL, "", "a b", "ops/x", "caf\xc3\xa9", "ops\n" };
    bad_names[0] = long_name;
    for (size_t i = 0; i < sizeof bad_names / sizeof bad_names[0]; i++) {
        err[0] = '\0';
        CHECK_INT_EQ (gc_identity_remember (identity, bad_names[i], "tcp://h:1", "tcp://h:2",
                                            err, sizeof err),
                      -1);
        CHECK_CONTAINS (err, "cannot remember group");
        CHECK_INT_EQ (gc_identity_forget (identity, bad_names[i], err, sizeof err), -1);
    }
    static const char *bad_endpoints[] = { "", "tcp://*:5000", "tcp://0.0.0.0:5000",
                                           "tcp://h:1 x", "tcp://h", "bogus" };
    for (size_t i = 0; i < sizeof bad_endpoints / sizeof bad_endpoints[0]; i++) {
        err[0] = '\0';
        CHECK_INT_EQ (gc_identity_remember (identity, "new", bad_endpoints[i], "tcp://h:2", err,
                                            sizeof err),
                      -1);
        CHECK_CONTAINS (err, "invalid endpoint");
        CHECK_INT_EQ (gc_identity_remember (identity, "new", "tcp://h:2", bad_endpoints[i], err,
                                            sizeof err),
                      -1);
    }
    CHECK_INT_EQ (gc_identity_group_count (identity), 4);

    char *text = s_read (home, "groups");
    CHECK (text);
    bool same = strcmp (text, "alpha tcp://127.0.0.1:5004 tcp://127.0.0.1:5005\n"
                              "mid.dle_x-1 tcp://127.0.0.1:5006 tcp://127.0.0.1:5007\n"
                              "ops ipc:///tmp/ops tcp://host.example:9\n"
                              "zeta tcp://127.0.0.1:5002 tcp://127.0.0.1:5003\n")
                == 0;
    free (text);
    CHECK (same);

    CHECK_INT_EQ (gc_identity_forget (identity, "mid.dle_x-1", err, sizeof err), 0);
    CHECK_INT_EQ (gc_identity_forget (identity, "never-joined", err, sizeof err), 0);
    CHECK_INT_EQ (gc_identity_group_count (identity), 3);
    gc_identity_destroy (&identity);

    identity = gc_identity_load (home, err, sizeof err);
    CHECK (identity);
    CHECK_INT_EQ (gc_identity_group_count (identity), 3);
    CHECK_STR_EQ (gc_identity_group (identity, 0)->name, "alpha");
    CHECK_STR_EQ (gc_identity_group (identity, 1)->name, "ops");
    CHECK_STR_EQ (gc_identity_group (identity, 2)->name, "zeta");
    CHECK_STR_EQ (gc_identity_find (identity, "ops")->endpoint, "ipc:///tmp/ops");
    CHECK_STR_EQ (gc_identity_find (identity, "zeta")->pub_endpoint, "tcp://127.0.0.1:5003");
    gc_identity_destroy (&identity);
}

static void
test_cursors (void)
{
    char home[1024], err[512];
    s_dir ("cursors", home, sizeof home);
    gc_identity_t *identity = gc_identity_load (home, err, sizeof err);
    CHECK (identity);
    CHECK_INT_EQ (gc_identity_cursor (identity, "ops"), 0);
    CHECK_INT_EQ (gc_identity_set_cursor (identity, "ops", 5, err, sizeof err), 0);
    CHECK_INT_EQ (gc_identity_set_cursor (identity, "dev", 7, err, sizeof err), 0);
    CHECK_INT_EQ (gc_identity_set_cursor (identity, "ops", 6, err, sizeof err), 0);
    CHECK_INT_EQ (gc_identity_set_cursor (identity, "big", UINT64_MAX, err, sizeof err), 0);
    CHECK_INT_EQ (gc_identity_set_cursor (identity, "bad name", 1, err, sizeof err), -1);
    CHECK_CONTAINS (err, "cannot set cursor of group 'bad name'");
    CHECK_INT_EQ (gc_identity_cursor (identity, "ops"), 6);
    gc_identity_destroy (&identity);

    char *text = s_read (home, "cursors");
    CHECK (text);
    bool same = strcmp (text, "big 18446744073709551615\ndev 7\nops 6\n") == 0;
    free (text);
    CHECK (same);

    identity = gc_identity_load (home, err, sizeof err);
    CHECK (identity);
    CHECK_INT_EQ (gc_identity_cursor (identity, "ops"), 6);
    CHECK_INT_EQ (gc_identity_cursor (identity, "dev"), 7);
    CHECK (gc_identity_cursor (identity, "big") == UINT64_MAX);
    CHECK_INT_EQ (gc_identity_cursor (identity, "other"), 0);
    //  Zero means none: the record goes away.
    CHECK_INT_EQ (gc_identity_set_cursor (identity, "dev", 0, err, sizeof err), 0);
    CHECK_INT_EQ (gc_identity_set_cursor (identity, "never", 0, err, sizeof err), 0);
    gc_identity_destroy (&identity);

    identity = gc_identity_load (home, err, sizeof err);
    CHECK (identity);
    CHECK_INT_EQ (gc_identity_cursor (identity, "dev"), 0);
    CHECK_INT_EQ (gc_identity_cursor (identity, "ops"), 6);
    gc_identity_destroy (&identity);
    text = s_read (home, "cursors");
    CHECK (text);
    same = strcmp (text, "big 18446744073709551615\nops 6\n") == 0;
    free (text);
    CHECK (same);
}

//  Two objects on one directory, as two processes would be: neither undoes the other's change.
static void
test_two_writers (void)
{
    char home[1024], err[512];
    s_dir ("two", home, sizeof home);
    gc_identity_t *a = gc_identity_load (home, err, sizeof err);
    CHECK (a);
    gc_identity_t *b = gc_identity_load (home, err, sizeof err);
    CHECK (b);
    CHECK_STR_EQ (gc_identity_id (a), gc_identity_id (b));
    CHECK_INT_EQ (gc_identity_remember (a, "x", "tcp://h:1", "tcp://h:2", err, sizeof err), 0);
    CHECK_INT_EQ (gc_identity_remember (b, "y", "tcp://h:3", "tcp://h:4", err, sizeof err), 0);
    CHECK_INT_EQ (gc_identity_group_count (b), 2);
    CHECK_INT_EQ (gc_identity_set_cursor (a, "x", 10, err, sizeof err), 0);
    CHECK_INT_EQ (gc_identity_set_cursor (b, "y", 20, err, sizeof err), 0);
    CHECK_INT_EQ (gc_identity_forget (a, "y", err, sizeof err), 0);
    gc_identity_destroy (&a);
    gc_identity_destroy (&b);

    gc_identity_t *c = gc_identity_load (home, err, sizeof err);
    CHECK (c);
    CHECK_INT_EQ (gc_identity_group_count (c), 1);
    CHECK (gc_identity_find (c, "x"));
    CHECK_INT_EQ (gc_identity_cursor (c, "x"), 10);
    CHECK_INT_EQ (gc_identity_cursor (c, "y"), 20);
    gc_identity_destroy (&c);
}

//  Real processes at once, first use included: one identity, and every group each remembered.
static void
test_concurrent_processes (void)
{
    enum { CHILDREN = 4, GROUPS = 8 };
    char home[1024], err[512];
    s_dir ("concurrent", home, sizeof home);
    pid_t pids[CHILDREN];
    int started = 0;
    for (int i = 0; i < CHILDREN; i++) {
        pid_t pid = fork ();
        if (pid == 0) {
            int status = 0;
            gc_identity_t *self = gc_identity_load (home, err, sizeof err);
            for (int j = 0; self && j < GROUPS && status == 0; j++) {
                char name[32];
                snprintf (name, sizeof name, "c%d-%d", i, j);
                if (gc_identity_remember (self, name, "tcp://h:1", "tcp://h:2", err, sizeof err)
                        != 0
                    || gc_identity_set_cursor (self, name, (uint64_t) j + 1, err, sizeof err)
                           != 0) {
                    status = 1;
                }
            }
            if (!self || status) {
                fprintf (stderr, "child %d: %s\n", i, err);
                status = 1;
            }
            else {
                //  Each child prints the id it got, for the parent to compare.
                char path[1100];
                snprintf (path, sizeof path, "%s/../concurrent-%d.id", home, i);
                FILE *out = fopen (path, "w");
                status = !out || fprintf (out, "%s", gc_identity_id (self)) < 0;
                if (out) {
                    fclose (out);
                }
            }
            gc_identity_destroy (&self);
            _exit (status);
        }
        if (pid > 0) {
            pids[started++] = pid;
        }
    }
    int failures = started == CHILDREN ? 0 : 1;
    for (int i = 0; i < started; i++) {
        int status;
        if (waitpid (pids[i], &status, 0) != pids[i] || !WIFEXITED (status)
            || WEXITSTATUS (status) != 0) {
            failures++;
        }
    }
    CHECK_INT_EQ (failures, 0);

    gc_identity_t *self = gc_identity_load (home, err, sizeof err);
    CHECK (self);
    char id[GC_UUID_STR_LEN + 1];
    snprintf (id, sizeof id, "%s", gc_identity_id (self));
    size_t count = gc_identity_group_count (self);
    int missing = 0;
    for (int i = 0; i < CHILDREN; i++) {
        for (int j = 0; j < GROUPS; j++) {
            char name[32];
            snprintf (name, sizeof name, "c%d-%d", i, j);
            if (!gc_identity_find (self, name)
                || gc_identity_cursor (self, name) != (uint64_t) j + 1) {
                missing++;
            }
        }
    }
    gc_identity_destroy (&self);
    CHECK_INT_EQ (count, CHILDREN * GROUPS);
    CHECK_INT_EQ (missing, 0);
    for (int i = 0; i < CHILDREN; i++) {
        char name[64];
        snprintf (name, sizeof name, "concurrent-%d.id", i);
        char *got = s_read (s_root, name);
        bool same = got && strcmp (got, id) == 0;
        free (got);
        CHECK (same);
    }
}

//  Saves leave no temp files behind, and a failed save leaves the old state.
static void
test_atomic_save (void)
{
    char home[1024], err[512];
    s_dir ("atomic", home, sizeof home);
    gc_identity_t *identity = gc_identity_load (home, err, sizeof err);
    CHECK (identity);
    for (int i = 0; i < 20; i++) {
        CHECK_INT_EQ (gc_identity_set_cursor (identity, "ops", (uint64_t) i + 1, err, sizeof err),
                      0);
    }
    CHECK_INT_EQ (gc_identity_remember (identity, "ops", "tcp://h:1", "tcp://h:2", err,
                                        sizeof err),
                  0);
    CHECK_INT_EQ (gc_identity_set_name (identity, "me", err, sizeof err), 0);
    DIR *dir = opendir (home);
    CHECK (dir);
    int entries = 0, unexpected = 0;
    struct dirent *entry;
    while ((entry = readdir (dir))) {
        const char *name = entry->d_name;
        if (strcmp (name, ".") == 0 || strcmp (name, "..") == 0) {
            continue;
        }
        entries++;
        if (strcmp (name, "identity") && strcmp (name, "groups") && strcmp (name, "cursors")
            && strcmp (name, "lock")) {
            fprintf (stderr, "unexpected file '%s'\n", name);
            unexpected++;
        }
    }
    closedir (dir);
    CHECK_INT_EQ (unexpected, 0);
    CHECK_INT_EQ (entries, 4);

    //  A directory where the groups file should be: the save fails, memory is unchanged.
    char path[1100];
    snprintf (path, sizeof path, "%s/groups", home);
    CHECK_INT_EQ (unlink (path), 0);
    CHECK_INT_EQ (mkdir (path, 0700), 0);
    err[0] = '\0';
    CHECK_INT_EQ (gc_identity_remember (identity, "dev", "tcp://h:3", "tcp://h:4", err,
                                        sizeof err),
                  -1);
    CHECK_CONTAINS (err, "groups");
    CHECK_INT_EQ (gc_identity_group_count (identity), 1);
    CHECK (gc_identity_find (identity, "dev") == NULL);
    CHECK_INT_EQ (gc_identity_forget (identity, "ops", err, sizeof err), -1);
    CHECK (gc_identity_find (identity, "ops"));
    CHECK_INT_EQ (rmdir (path), 0);

    //  A corrupt cursors file is reported, not overwritten, by the next change.
    CHECK_INT_EQ (s_write (home, "cursors", "ops banana\n", 11), 0);
    err[0] = '\0';
    CHECK_INT_EQ (gc_identity_set_cursor (identity, "ops", 99, err, sizeof err), -1);
    CHECK_CONTAINS (err, "invalid sequence number");
    CHECK_INT_EQ (gc_identity_cursor (identity, "ops"), 20);
    char *text = s_read (home, "cursors");
    bool kept = text && strcmp (text, "ops banana\n") == 0;
    free (text);
    CHECK (kept);
    gc_identity_destroy (&identity);
}

#define UUID  "0f8fad5b-d9cb-469f-a165-70867728950e"
#define TOKEN "00112233445566778899aabbccddeeff"
#define GOOD  "id=" UUID "\ntoken=" TOKEN "\nname=me\n"

typedef struct {
    const char *label;   //  what is wrong
    const char *file;    //  which file to write
    const char *data;    //  its contents
    size_t len;          //  bytes of data (0: strlen)
    const char *why;     //  fragment the error must contain
} corrupt_t;

static const corrupt_t s_corrupt[] = {
    { "empty identity", "identity", "", 0, "missing id" },
    { "no key=value", "identity", "garbage\n", 0, "line 1: expected key=value" },
    { "bad uuid", "identity", "id=not-a-uuid\ntoken=" TOKEN "\n", 0, "line 1: id is not" },
    { "uppercase uuid", "identity", "id=0F8FAD5B-D9CB-469F-A165-70867728950E\ntoken=" TOKEN "\n",
      0, "id is not" },
    { "nil uuid", "identity", "id=00000000-0000-0000-0000-000000000000\ntoken=" TOKEN "\n", 0,
      "id is not" },
    { "uuid with tail", "identity", "id=" UUID "x\ntoken=" TOKEN "\n", 0, "id is not" },
    { "short token", "identity", "id=" UUID "\ntoken=00112233445566778899aabbccddeef\n", 0,
      "line 2: token must be 32 hex characters" },
    { "long token", "identity", "id=" UUID "\ntoken=" TOKEN "00\n", 0, "token must be 32" },
    { "non-hex token", "identity", "id=" UUID "\ntoken=g0112233445566778899aabbccddeeff\n", 0,
      "token must be 32" },
    { "missing token", "identity", "id=" UUID "\nname=me\n", 0, "missing token" },
    { "missing id", "identity", "token=" TOKEN "\n", 0, "missing id" },
    { "unknown key", "identity", GOOD "colour=blue\n", 0, "line 4: unknown key 'colour'" },
    { "spaced key", "identity", "id =" UUID "\n", 0, "unknown key 'id '" },
    { "duplicate id", "identity", GOOD "id=" UUID "\n", 0, "duplicate key 'id'" },
    { "control in name", "identity", "id=" UUID "\ntoken=" TOKEN "\nname=a\tb\n", 0,
      "name must be" },
    { "crlf", "identity", "id=" UUID "\r\ntoken=" TOKEN "\r\n", 0, "id is not" },
    { "over-long name line", "identity",
      "id=" UUID "\ntoken=" TOKEN "\nname=" "0123456789012345678901234567890123456789"
      "0123456789012345678901234\n", 0, "line 3 is too long" },
    { "nul byte", "identity", "id=" UUID "\0\ntoken=" TOKEN "\n", 3 + 36 + 2 + 6 + 32 + 1,
      "NUL byte" },
    { "groups: two fields", "groups", "ops tcp://h:1\n", 0, "line 1: expected '<name>" },
    { "groups: four fields", "groups", "ops tcp://h:1 tcp://h:2 x\n", 0, "expected '<name>" },
    { "groups: double space", "groups", "ops  tcp://h:1 tcp://h:2\n", 0, "expected '<name>" },
    { "groups: bad name", "groups", "a/b tcp://h:1 tcp://h:2\n", 0, "invalid group name" },
    { "groups: wildcard", "groups", "ops tcp://*:1 tcp://h:2\n", 0, "invalid endpoint" },
    { "groups: crlf", "groups", "ops tcp://h:1 tcp://h:2\r\n", 0, "invalid endpoint" },
    { "groups: twice", "groups", "ops tcp://h:1 tcp://h:2\nops tcp://h:3 tcp://h:4\n", 0,
      "line 2: group 'ops' listed twice" },
    { "cursors: no seq", "cursors", "ops\n", 0, "expected '<group> <seq>'" },
    { "cursors: negative", "cursors", "ops -1\n", 0, "invalid sequence number" },
    { "cursors: overflow", "cursors", "ops 18446744073709551616\n", 0,
      "invalid sequence number" },
    { "cursors: hex", "cursors", "ops 0x10\n", 0, "invalid sequence number" },
    { "cursors: empty seq", "cursors", "ops \n", 0, "invalid sequence number" },
    { "cursors: bad name", "cursors", "-- 1\nops\xff 1\n", 0, "line 2: invalid group name" },
    { "cursors: twice", "cursors", "ops 1\ndev 2\nops 3\n", 0, "line 3: group 'ops' listed" },
};

static void
test_corrupt_files (void)
{
    char home[1024], err[512];
    for (size_t i = 0; i < sizeof s_corrupt / sizeof s_corrupt[0]; i++) {
        const corrupt_t *c = &s_corrupt[i];
        char name[64];
        snprintf (name, sizeof name, "corrupt-%zu", i);
        s_dir (name, home, sizeof home);
        CHECK_INT_EQ (mkdir (home, 0700), 0);
        CHECK_INT_EQ (s_write (home, "identity", GOOD, strlen (GOOD)), 0);
        CHECK_INT_EQ (s_write (home, c->file, c->data, c->len ? c->len : strlen (c->data)), 0);
        err[0] = '\0';
        gc_identity_t *identity = gc_identity_load (home, err, sizeof err);
        if (identity || !strstr (err, c->why) || !strstr (err, c->file)) {
            fprintf (stderr, "case '%s': got '%s', want '%s'\n", c->label, err, c->why);
        }
        CHECK (identity == NULL);
        CHECK_CONTAINS (err, c->why);
        CHECK_CONTAINS (err, c->file);  //  the error names the file
    }
}

static void
test_oversized_files (void)
{
    char home[1024], err[512];
    s_dir ("oversized", home, sizeof home);
    CHECK_INT_EQ (mkdir (home, 0700), 0);
    size_t size = 8192;
    char *data = malloc (size);
    CHECK (data);
    memset (data, 'x', size);
    int rc = s_write (home, "identity", data, size);
    free (data);
    CHECK_INT_EQ (rc, 0);
    err[0] = '\0';
    CHECK (gc_identity_load (home, err, sizeof err) == NULL);
    CHECK_CONTAINS (err, "larger than");

    //  A long line in a list file is refused by length before anything else.
    CHECK_INT_EQ (s_write (home, "identity", GOOD, strlen (GOOD)), 0);
    char line[2048];
    memset (line, 'a', sizeof line - 2);
    line[sizeof line - 2] = '\n';
    line[sizeof line - 1] = '\0';
    CHECK_INT_EQ (s_write (home, "groups", line, strlen (line)), 0);
    err[0] = '\0';
    CHECK (gc_identity_load (home, err, sizeof err) == NULL);
    CHECK_CONTAINS (err, "line 1 is too long");
}

//  Tolerated: no final newline, blank lines, uppercase hex, '=' in the name, unsorted groups.
static void
test_lenient_files (void)
{
    char home[1024], err[512];
    s_dir ("lenient", home, sizeof home);
    CHECK_INT_EQ (mkdir (home, 0700), 0);
    const char *identity_text = "\nname=a=b\ntoken=00112233445566778899AABBCCDDEEFF\n\nid=" UUID;
    CHECK_INT_EQ (s_write (home, "identity", identity_text, strlen (identity_text)), 0);
    const char *groups = "zz tcp://h:1 tcp://h:2\n\naa ipc:///x inproc://y";
    CHECK_INT_EQ (s_write (home, "groups", groups, strlen (groups)), 0);
    CHECK_INT_EQ (s_write (home, "cursors", "aa 0\nzz 3", 9), 0);
    gc_identity_t *identity = gc_identity_load (home, err, sizeof err);
    if (!identity) {
        fprintf (stderr, "%s\n", err);
    }
    CHECK (identity);
    CHECK_STR_EQ (gc_identity_id (identity), UUID);
    CHECK_STR_EQ (gc_identity_name (identity), "a=b");
    static const uint8_t token[GC_TOKEN_SIZE] = { 0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77,
                                                  0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff };
    CHECK (memcmp (gc_identity_token (identity), token, GC_TOKEN_SIZE) == 0);
    CHECK_INT_EQ (gc_identity_group_count (identity), 2);
    CHECK_STR_EQ (gc_identity_group (identity, 0)->name, "aa");
    CHECK_STR_EQ (gc_identity_group (identity, 1)->pub_endpoint, "tcp://h:2");
    CHECK_INT_EQ (gc_identity_cursor (identity, "aa"), 0);
    CHECK_INT_EQ (gc_identity_cursor (identity, "zz"), 3);
    //  A save rewrites the file in canonical form.
    CHECK_INT_EQ (gc_identity_set_name (identity, "b", err, sizeof err), 0);
    gc_identity_destroy (&identity);
    char *text = s_read (home, "identity");
    bool canonical = text && strcmp (text, "id=" UUID "\ntoken=" TOKEN "\nname=b\n") == 0;
    free (text);
    CHECK (canonical);
}

//  Saves and restores one environment variable around the env test.
typedef struct {
    const char *name;
    char *value;  //  owned copy, NULL if unset
} saved_env_t;

static void
s_env_set (const char *name, const char *value)
{
    if (value) {
        setenv (name, value, 1);
    }
    else {
        unsetenv (name);
    }
}

static void
s_env_check (gc_identity_t **identity_p, const char *want, int *failures)
{
    const char *got = *identity_p ? gc_identity_home (*identity_p) : NULL;
    if (!got || strcmp (got, want) != 0) {
        fprintf (stderr, "state dir: got '%s', want '%s'\n", got ? got : "(none)", want);
        (*failures)++;
    }
    gc_identity_destroy (identity_p);
}

static void
test_env_precedence (void)
{
    saved_env_t saved[] = { { "GROUPCAST_HOME", NULL }, { "XDG_STATE_HOME", NULL },
                            { "HOME", NULL } };
    for (size_t i = 0; i < 3; i++) {
        const char *value = getenv (saved[i].name);
        saved[i].value = value ? strdup (value) : NULL;
    }
    char base[1024], gc[1100], xdg[1100], user[1100], want[1200], explicit_home[1100];
    char err[512];
    s_dir ("env", base, sizeof base);
    snprintf (gc, sizeof gc, "%s/gc", base);
    snprintf (xdg, sizeof xdg, "%s/xdg", base);
    snprintf (user, sizeof user, "%s/user", base);
    snprintf (explicit_home, sizeof explicit_home, "%s/explicit", base);
    int failures = 0;
    gc_identity_t *identity;

    s_env_set ("GROUPCAST_HOME", gc);
    s_env_set ("XDG_STATE_HOME", xdg);
    s_env_set ("HOME", user);
    identity = gc_identity_load (explicit_home, err, sizeof err);
    s_env_check (&identity, explicit_home, &failures);
    identity = gc_identity_load (NULL, err, sizeof err);
    s_env_check (&identity, gc, &failures);

    s_env_set ("GROUPCAST_HOME", "");  //  empty counts as unset
    identity = gc_identity_load (NULL, err, sizeof err);
    snprintf (want, sizeof want, "%s/groupcast", xdg);
    s_env_check (&identity, want, &failures);
    if (s_mode (want) != 0700) {
        failures++;
    }

    s_env_set ("GROUPCAST_HOME", NULL);
    s_env_set ("XDG_STATE_HOME", "relative/dir");  //  the XDG spec says to ignore it
    identity = gc_identity_load (NULL, err, sizeof err);
    snprintf (want, sizeof want, "%s/.local/state/groupcast", user);
    s_env_check (&identity, want, &failures);
    //  Created as needed, every level private.
    snprintf (want, sizeof want, "%s/.local", user);
    if (s_mode (want) != 0700) {
        fprintf (stderr, "%s: mode %o\n", want, s_mode (want));
        failures++;
    }

    s_env_set ("XDG_STATE_HOME", NULL);
    identity = gc_identity_load (NULL, err, sizeof err);
    snprintf (want, sizeof want, "%s/.local/state/groupcast", user);
    s_env_check (&identity, want, &failures);

    s_env_set ("HOME", NULL);
    err[0] = '\0';
    identity = gc_identity_load (NULL, err, sizeof err);
    if (identity || !strstr (err, "cannot find state directory")) {
        fprintf (stderr, "no HOME: got '%s'\n", err);
        failures++;
    }
    gc_identity_destroy (&identity);

    for (size_t i = 0; i < 3; i++) {
        s_env_set (saved[i].name, saved[i].value);
        free (saved[i].value);
    }
    CHECK_INT_EQ (failures, 0);
}

static void
test_ephemeral (void)
{
    char err[512];
    gc_identity_t *a = gc_identity_new_ephemeral ();
    CHECK (a);
    gc_identity_t *b = gc_identity_new_ephemeral ();
    CHECK (b);
    CHECK (s_valid_uuid (gc_identity_id (a)));
    CHECK (strcmp (gc_identity_id (a), gc_identity_id (b)) != 0);
    CHECK (memcmp (gc_identity_token (a), gc_identity_token (b), GC_TOKEN_SIZE) != 0);
    CHECK (gc_identity_home (a) == NULL);
    CHECK_STR_EQ (gc_identity_name (a), "");
    CHECK_INT_EQ (gc_identity_set_name (a, "temp", err, sizeof err), 0);
    CHECK_STR_EQ (gc_identity_name (a), "temp");
    CHECK_INT_EQ (gc_identity_set_name (a, "bad\n", err, sizeof err), -1);
    CHECK_INT_EQ (gc_identity_remember (a, "ops", "tcp://h:1", "tcp://h:2", err, sizeof err), 0);
    CHECK_INT_EQ (gc_identity_remember (a, "dev", "tcp://h:3", "tcp://h:4", err, sizeof err), 0);
    CHECK_INT_EQ (gc_identity_remember (a, "bad name", "tcp://h:3", "tcp://h:4", err, sizeof err),
                  -1);
    CHECK_INT_EQ (gc_identity_group_count (a), 2);
    CHECK_STR_EQ (gc_identity_group (a, 0)->name, "dev");
    CHECK_INT_EQ (gc_identity_forget (a, "dev", err, sizeof err), 0);
    CHECK_INT_EQ (gc_identity_group_count (a), 1);
    CHECK_INT_EQ (gc_identity_set_cursor (a, "ops", 3, err, sizeof err), 0);
    CHECK_INT_EQ (gc_identity_cursor (a, "ops"), 3);
    CHECK_INT_EQ (gc_identity_set_cursor (a, "ops", 0, err, sizeof err), 0);
    CHECK_INT_EQ (gc_identity_cursor (a, "ops"), 0);
    gc_identity_destroy (&a);
    gc_identity_destroy (&b);
    CHECK (a == NULL && b == NULL);
}

static const gc_test_case_t s_cases[] = {
    { "create_and_reload", test_create_and_reload },
    { "nested_dirs", test_nested_dirs },
    { "bad_home", test_bad_home },
    { "set_name", test_set_name },
    { "remember_forget", test_remember_forget },
    { "cursors", test_cursors },
    { "two_writers", test_two_writers },
    { "concurrent_processes", test_concurrent_processes },
    { "atomic_save", test_atomic_save },
    { "corrupt_files", test_corrupt_files },
    { "oversized_files", test_oversized_files },
    { "lenient_files", test_lenient_files },
    { "env_precedence", test_env_precedence },
    { "ephemeral", test_ephemeral },
    { NULL, NULL },
};

int
main (int argc, char **argv)
{
    s_root = gc_tmpdir_new ("identity");
    if (!s_root) {
        return 1;
    }
    int rc = gc_test_run (argc, argv, s_cases);
    gc_tmpdir_destroy (&s_root);
    return rc;
}
