/*  gc_identity - the user's UUID, token, display name, joined groups and listen cursors, kept in
    a state directory
    SPDX-License-Identifier: MPL-2.0

    The state directory holds three text files and a lock file:

        identity    id=<uuid>, token=<32 hex chars>, name=<display name>   (key=value lines)
        groups      <name> <endpoint> <pub_endpoint>                       (one line per group)
        cursors     <group> <seq>                                          (one line per group)
        lock        empty; flock()ed while a file is read, changed and written

    Every save writes a temp file in the same directory, fsyncs it and renames it over the old one,
    so a reader never sees a torn file. Changes to groups and cursors re-read the file under the
    lock and apply only the one change, so concurrent invocations (two `listen --resume` in two
    terminals, say) do not undo each other's updates. Everything read back is validated; a bad
    file gives an error naming the file and line, never an assert.
*/
#include "groupcast.h"
#include "gc_wire.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#define S_IDENTITY_FILE "identity"
#define S_GROUPS_FILE   "groups"
#define S_CURSORS_FILE  "cursors"
#define S_LOCK_FILE     "lock"

//  Size limits for what we read back: far above anything we write, low enough to refuse junk.
#define S_IDENTITY_MAX_SIZE 4096
#define S_LIST_MAX_SIZE     (4 * 1024 * 1024)
#define S_IDENTITY_MAX_LINE (5 + GC_MAX_NAME)  //  "name=" + name, the longest identity line
#define S_GROUPS_MAX_LINE   (GC_MAX_NAME + 1 + GC_MAX_ENDPOINT + 1 + GC_MAX_ENDPOINT)
#define S_CURSORS_MAX_LINE  (GC_MAX_NAME + 1 + 20)

//  Longest state directory we accept, leaving room for "/.cursors.XXXXXX".
#define S_HOME_MAX (PATH_MAX - 32)

typedef struct {
    char *name;            //  group name, owned
    char *endpoint;        //  ROUTER endpoint, owned
    char *pub_endpoint;    //  PUB endpoint, owned
    gc_group_info_t info;  //  borrowed view of the three strings above, handed to callers
} s_group_t;

typedef struct {
    s_group_t *items;  //  sorted by name (strcmp), names unique
    size_t count;      //  number of items
} s_groups_t;

typedef struct {
    char *group;   //  group name, owned
    uint64_t seq;  //  last sequence number printed, never 0
} s_cursor_t;

typedef struct {
    s_cursor_t *items;  //  sorted by group (strcmp), groups unique
    size_t count;       //  number of items
} s_cursors_t;

struct gc_identity {
    char *home;                       //  state directory, owned; NULL when ephemeral
    char id[GC_UUID_STR_LEN + 1];     //  user UUID, canonical lowercase
    uint8_t token[GC_TOKEN_SIZE];     //  secret token
    char name[GC_MAX_NAME + 1];       //  display name, "" if none
    s_groups_t groups;                //  remembered groups
    s_cursors_t cursors;              //  listen cursors
};

static void s_err (char *err, size_t errlen, const char *fmt, ...)
    __attribute__ ((format (printf, 3, 4)));

//  Formats a message into err, which may be NULL.
static void
s_err (char *err, size_t errlen, const char *fmt, ...)
{
    if (err && errlen > 0) {
        va_list args;
        va_start (args, fmt);
        vsnprintf (err, errlen, fmt, args);
        va_end (args);
    }
}

//  "<dir>/<file>" as an owned string, or NULL if out of memory.
static char *
s_join (const char *dir, const char *file)
{
    size_t size = strlen (dir) + 1 + strlen (file) + 1;
    char *path = malloc (size);
    if (path) {
        snprintf (path, size, "%s/%s", dir, file);
    }
    return path;
}

//  ---------------------------------------------------------------------------------------------
//  Groups and cursors as sorted arrays.

static void
s_groups_clear (s_groups_t *self)
{
    for (size_t i = 0; i < self->count; i++) {
        free (self->items[i].name);
        free (self->items[i].endpoint);
        free (self->items[i].pub_endpoint);
    }
    free (self->items);
    self->items = NULL;
    self->count = 0;
}

//  The index of `name` in the list, or where it would be inserted; *found says which.
static size_t
s_groups_index (const s_groups_t *self, const char *name, bool *found)
{
    size_t lo = 0, hi = self->count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int cmp = strcmp (self->items[mid].name, name);
        if (cmp == 0) {
            *found = true;
            return mid;
        }
        if (cmp < 0) {
            lo = mid + 1;
        }
        else {
            hi = mid;
        }
    }
    *found = false;
    return lo;
}

//  Adds or replaces a group (inputs already validated). Returns 0, or -1 if out of memory, in
//  which case the list is unchanged.
static int
s_groups_put (s_groups_t *self, const char *name, const char *endpoint, const char *pub_endpoint)
{
    s_group_t group = { strdup (name), strdup (endpoint), strdup (pub_endpoint), { 0 } };
    if (!group.name || !group.endpoint || !group.pub_endpoint) {
        goto cleanup;
    }
    group.info.name = group.name;
    group.info.endpoint = group.endpoint;
    group.info.pub_endpoint = group.pub_endpoint;

    bool found;
    size_t index = s_groups_index (self, name, &found);
    if (found) {
        free (self->items[index].name);
        free (self->items[index].endpoint);
        free (self->items[index].pub_endpoint);
        self->items[index] = group;
        return 0;
    }
    s_group_t *items = realloc (self->items, (self->count + 1) * sizeof *items);
    if (!items) {
        goto cleanup;
    }
    memmove (items + index + 1, items + index, (self->count - index) * sizeof *items);
    items[index] = group;
    self->items = items;
    self->count++;
    return 0;

cleanup:
    free (group.name);
    free (group.endpoint);
    free (group.pub_endpoint);
    return -1;
}

static void
s_groups_remove (s_groups_t *self, const char *name)
{
    bool found;
    size_t index = s_groups_index (self, name, &found);
    if (found) {
        free (self->items[index].name);
        free (self->items[index].endpoint);
        free (self->items[index].pub_endpoint);
        memmove (self->items + index, self->items + index + 1,
                 (self->count - index - 1) * sizeof *self->items);
        self->count--;
    }
}

static void
s_cursors_clear (s_cursors_t *self)
{
    for (size_t i = 0; i < self->count; i++) {
        free (self->items[i].group);
    }
    free (self->items);
    self->items = NULL;
    self->count = 0;
}

static size_t
s_cursors_index (const s_cursors_t *self, const char *group, bool *found)
{
    size_t lo = 0, hi = self->count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int cmp = strcmp (self->items[mid].group, group);
        if (cmp == 0) {
            *found = true;
            return mid;
        }
        if (cmp < 0) {
            lo = mid + 1;
        }
        else {
            hi = mid;
        }
    }
    *found = false;
    return lo;
}

//  Sets a cursor; seq 0 removes it. Returns 0, or -1 if out of memory (list unchanged).
static int
s_cursors_set (s_cursors_t *self, const char *group, uint64_t seq)
{
    bool found;
    size_t index = s_cursors_index (self, group, &found);
    if (found && seq == 0) {
        free (self->items[index].group);
        memmove (self->items + index, self->items + index + 1,
                 (self->count - index - 1) * sizeof *self->items);
        self->count--;
        return 0;
    }
    if (found) {
        self->items[index].seq = seq;
        return 0;
    }
    if (seq == 0) {
        return 0;
    }
    char *copy = strdup (group);
    if (!copy) {
        return -1;
    }
    s_cursor_t *items = realloc (self->items, (self->count + 1) * sizeof *items);
    if (!items) {
        free (copy);
        return -1;
    }
    memmove (items + index + 1, items + index, (self->count - index) * sizeof *items);
    items[index].group = copy;
    items[index].seq = seq;
    self->items = items;
    self->count++;
    return 0;
}

//  ---------------------------------------------------------------------------------------------
//  Files.

//  Reads a whole file of at most max_size bytes into an owned NUL-terminated buffer. Returns 0,
//  1 when the file does not exist, or -1 with the reason in err.
static int
s_read_file (const char *path, size_t max_size, char **data_p, char *err, size_t errlen)
{
    *data_p = NULL;
    int fd = open (path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT) {
            return 1;
        }
        s_err (err, errlen, "cannot open '%s': %s", path, strerror (errno));
        return -1;
    }
    int rc = -1;
    char *data = malloc (max_size + 1);
    if (!data) {
        s_err (err, errlen, "cannot read '%s': out of memory", path);
        goto cleanup;
    }
    //  Read one byte past the limit to tell "exactly max_size" from "too large".
    size_t len = 0;
    while (len <= max_size) {
        ssize_t got = read (fd, data + len, max_size + 1 - len);
        if (got < 0 && errno == EINTR) {
            continue;
        }
        if (got < 0) {
            s_err (err, errlen, "cannot read '%s': %s", path, strerror (errno));
            goto cleanup;
        }
        if (got == 0) {
            break;
        }
        len += (size_t) got;
    }
    if (len > max_size) {
        s_err (err, errlen, "cannot read '%s': file larger than %zu bytes", path, max_size);
        goto cleanup;
    }
    data[len] = '\0';
    if (strlen (data) != len) {
        s_err (err, errlen, "cannot read '%s': file contains a NUL byte", path);
        goto cleanup;
    }
    *data_p = data;
    data = NULL;
    rc = 0;

cleanup:
    free (data);
    close (fd);
    return rc;
}

//  The next line of a NUL-terminated buffer, split in place; NULL at the end. A last line
//  without a newline counts.
static char *
s_next_line (char **cursor)
{
    char *line = *cursor;
    if (*line == '\0') {
        return NULL;
    }
    char *newline = strchr (line, '\n');
    if (newline) {
        *newline = '\0';
        *cursor = newline + 1;
    }
    else {
        *cursor = line + strlen (line);
    }
    return line;
}

//  Replaces <dir>/<file> with `data` atomically: temp file in dir, fsync, rename, fsync dir.
//  Returns 0, or -1 with the reason in err (the old file is then untouched).
static int
s_write_file (const char *dir, const char *file, const char *data, size_t len, char *err,
              size_t errlen)
{
    int rc = -1;
    int fd = -1;
    char tmp[PATH_MAX];
    char *path = s_join (dir, file);
    if (!path) {
        s_err (err, errlen, "cannot save '%s/%s': out of memory", dir, file);
        return -1;
    }
    snprintf (tmp, sizeof tmp, "%s/.%s.XXXXXX", dir, file);
    fd = mkstemp (tmp);
    if (fd < 0) {
        s_err (err, errlen, "cannot save '%s': cannot create temp file: %s", path,
               strerror (errno));
        tmp[0] = '\0';
        goto cleanup;
    }
    if (fchmod (fd, 0600) != 0) {
        s_err (err, errlen, "cannot save '%s': %s", path, strerror (errno));
        goto cleanup;
    }
    size_t done = 0;
    while (done < len) {
        ssize_t put = write (fd, data + done, len - done);
        if (put < 0 && errno == EINTR) {
            continue;
        }
        if (put < 0) {
            s_err (err, errlen, "cannot save '%s': %s", path, strerror (errno));
            goto cleanup;
        }
        done += (size_t) put;
    }
    if (fsync (fd) != 0) {
        s_err (err, errlen, "cannot save '%s': %s", path, strerror (errno));
        goto cleanup;
    }
    int closed = close (fd);
    fd = -1;
    if (closed != 0) {
        s_err (err, errlen, "cannot save '%s': %s", path, strerror (errno));
        goto cleanup;
    }
    if (rename (tmp, path) != 0) {
        s_err (err, errlen, "cannot save '%s': %s", path, strerror (errno));
        goto cleanup;
    }
    tmp[0] = '\0';
    //  Make the rename itself durable. Some filesystems refuse fsync on a directory; the file is
    //  in place either way, so that is not an error.
    int dirfd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dirfd >= 0) {
        (void) fsync (dirfd);
        close (dirfd);
    }
    rc = 0;

cleanup:
    if (fd >= 0) {
        close (fd);
    }
    if (tmp[0]) {
        unlink (tmp);
    }
    free (path);
    return rc;
}

//  Takes the state directory's lock. Returns the lock's fd (close it to unlock), or -1 with the
//  reason in err.
static int
s_lock (const char *home, char *err, size_t errlen)
{
    char *path = s_join (home, S_LOCK_FILE);
    if (!path) {
        s_err (err, errlen, "cannot lock '%s': out of memory", home);
        return -1;
    }
    int fd = open (path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) {
        s_err (err, errlen, "cannot lock '%s': %s", path, strerror (errno));
        free (path);
        return -1;
    }
    while (flock (fd, LOCK_EX) != 0) {
        if (errno != EINTR) {
            s_err (err, errlen, "cannot lock '%s': %s", path, strerror (errno));
            close (fd);
            free (path);
            return -1;
        }
    }
    free (path);
    return fd;
}

static void
s_unlock (int fd)
{
    if (fd >= 0) {
        close (fd);
    }
}

//  Creates dir and its missing parents with mode 0700. Existing directories keep their mode.
static int
s_mkdirs (const char *dir, char *err, size_t errlen)
{
    char path[PATH_MAX];
    snprintf (path, sizeof path, "%s", dir);
    for (char *p = path + 1; *p; p++) {
        if (*p != '/') {
            continue;
        }
        *p = '\0';
        if (mkdir (path, 0700) != 0 && errno != EEXIST) {
            s_err (err, errlen, "cannot create state directory '%s': %s", path, strerror (errno));
            return -1;
        }
        *p = '/';
    }
    if (mkdir (path, 0700) != 0 && errno != EEXIST) {
        s_err (err, errlen, "cannot create state directory '%s': %s", path, strerror (errno));
        return -1;
    }
    struct stat st;
    if (stat (path, &st) != 0) {
        s_err (err, errlen, "cannot use state directory '%s': %s", path, strerror (errno));
        return -1;
    }
    if (!S_ISDIR (st.st_mode)) {
        s_err (err, errlen, "cannot use state directory '%s': not a directory", path);
        return -1;
    }
    return 0;
}

//  ---------------------------------------------------------------------------------------------
//  Parsing and formatting the three files.

static int
s_hex_value (char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

//  Decodes exactly 2 * GC_TOKEN_SIZE hex characters. Returns 0 or -1.
static int
s_parse_token (const char *text, uint8_t *token)
{
    if (strlen (text) != 2 * GC_TOKEN_SIZE) {
        return -1;
    }
    for (size_t i = 0; i < GC_TOKEN_SIZE; i++) {
        int hi = s_hex_value (text[2 * i]);
        int lo = s_hex_value (text[2 * i + 1]);
        if (hi < 0 || lo < 0) {
            return -1;
        }
        token[i] = (uint8_t) (hi << 4 | lo);
    }
    return 0;
}

//  Parses the identity file's text (modified in place) into id, token and name.
static int
s_parse_identity (char *data, const char *path, char *id, uint8_t *token, char *name, char *err,
                  size_t errlen)
{
    bool have_id = false, have_token = false, have_name = false;
    name[0] = '\0';
    char *cursor = data;
    char *line;
    for (int lineno = 1; (line = s_next_line (&cursor)); lineno++) {
        if (*line == '\0') {
            continue;
        }
        if (strlen (line) > S_IDENTITY_MAX_LINE) {
            s_err (err, errlen, "cannot load '%s': line %d is too long", path, lineno);
            return -1;
        }
        char *value = strchr (line, '=');
        if (!value) {
            s_err (err, errlen, "cannot load '%s': line %d: expected key=value", path, lineno);
            return -1;
        }
        *value++ = '\0';
        bool *seen = strcmp (line, "id") == 0      ? &have_id
                     : strcmp (line, "token") == 0 ? &have_token
                     : strcmp (line, "name") == 0  ? &have_name
                                                   : NULL;
        if (!seen) {
            s_err (err, errlen, "cannot load '%s': line %d: unknown key '%s'", path, lineno,
                   line);
            return -1;
        }
        if (*seen) {
            s_err (err, errlen, "cannot load '%s': line %d: duplicate key '%s'", path, lineno,
                   line);
            return -1;
        }
        *seen = true;
        if (seen == &have_id) {
            if (!gc_wire_valid_uuid (value)
                || strcmp (value, "00000000-0000-0000-0000-000000000000") == 0) {
                s_err (err, errlen, "cannot load '%s': line %d: id is not a lowercase UUID",
                       path, lineno);
                return -1;
            }
            memcpy (id, value, GC_UUID_STR_LEN + 1);
        }
        else if (seen == &have_token) {
            if (s_parse_token (value, token) != 0) {
                s_err (err, errlen, "cannot load '%s': line %d: token must be %d hex characters",
                       path, lineno, 2 * GC_TOKEN_SIZE);
                return -1;
            }
        }
        else {
            if (!gc_wire_valid_display_name (value)) {
                s_err (err, errlen,
                       "cannot load '%s': line %d: name must be at most %d bytes without control "
                       "characters",
                       path, lineno, GC_MAX_NAME);
                return -1;
            }
            snprintf (name, GC_MAX_NAME + 1, "%s", value);
        }
    }
    if (!have_id || !have_token) {
        s_err (err, errlen, "cannot load '%s': missing %s", path, have_id ? "token" : "id");
        return -1;
    }
    return 0;
}

//  Splits "a b c..." at single spaces into at most max fields. Returns the number of fields.
static size_t
s_split_fields (char *line, char **fields, size_t max)
{
    size_t count = 0;
    char *p = line;
    while (count < max) {
        fields[count++] = p;
        p = strchr (p, ' ');
        if (!p) {
            break;
        }
        *p++ = '\0';
    }
    return p ? max + 1 : count;
}

//  Loads the groups file of `home` into *groups (empty when there is none).
static int
s_load_groups (const char *home, s_groups_t *groups, char *err, size_t errlen)
{
    int rc = -1;
    char *data = NULL;
    s_groups_t list = { NULL, 0 };
    char *path = s_join (home, S_GROUPS_FILE);
    if (!path) {
        s_err (err, errlen, "cannot load groups in '%s': out of memory", home);
        return -1;
    }
    int got = s_read_file (path, S_LIST_MAX_SIZE, &data, err, errlen);
    if (got < 0) {
        goto cleanup;
    }
    char empty[1] = "";
    char *cursor = got == 0 ? data : empty;
    char *line;
    for (int lineno = 1; (line = s_next_line (&cursor)); lineno++) {
        if (*line == '\0') {
            continue;
        }
        if (strlen (line) > S_GROUPS_MAX_LINE) {
            s_err (err, errlen, "cannot load '%s': line %d is too long", path, lineno);
            goto cleanup;
        }
        char *fields[3];
        if (s_split_fields (line, fields, 3) != 3) {
            s_err (err, errlen, "cannot load '%s': line %d: expected '<name> <endpoint> "
                   "<pub_endpoint>'", path, lineno);
            goto cleanup;
        }
        if (!gc_wire_valid_group_name (fields[0])) {
            s_err (err, errlen, "cannot load '%s': line %d: invalid group name", path, lineno);
            goto cleanup;
        }
        if (!gc_wire_valid_endpoint (fields[1]) || !gc_wire_valid_endpoint (fields[2])) {
            s_err (err, errlen, "cannot load '%s': line %d: invalid endpoint", path, lineno);
            goto cleanup;
        }
        bool found;
        s_groups_index (&list, fields[0], &found);
        if (found) {
            s_err (err, errlen, "cannot load '%s': line %d: group '%s' listed twice", path,
                   lineno, fields[0]);
            goto cleanup;
        }
        if (s_groups_put (&list, fields[0], fields[1], fields[2]) != 0) {
            s_err (err, errlen, "cannot load '%s': out of memory", path);
            goto cleanup;
        }
    }
    *groups = list;
    list.items = NULL;
    list.count = 0;
    rc = 0;

cleanup:
    s_groups_clear (&list);
    free (data);
    free (path);
    return rc;
}

//  Parses a decimal uint64 (digits only: no sign, space or "0x"). Returns 0 or -1.
static int
s_parse_seq (const char *text, uint64_t *out)
{
    uint64_t value = 0;
    if (*text == '\0') {
        return -1;
    }
    for (const char *p = text; *p; p++) {
        if (*p < '0' || *p > '9') {
            return -1;
        }
        unsigned digit = (unsigned) (*p - '0');
        if (value > (UINT64_MAX - digit) / 10) {
            return -1;
        }
        value = value * 10 + digit;
    }
    *out = value;
    return 0;
}

//  Loads the cursors file of `home` into *cursors (empty when there is none).
static int
s_load_cursors (const char *home, s_cursors_t *cursors, char *err, size_t errlen)
{
    int rc = -1;
    char *data = NULL;
    s_cursors_t list = { NULL, 0 };
    char *path = s_join (home, S_CURSORS_FILE);
    if (!path) {
        s_err (err, errlen, "cannot load cursors in '%s': out of memory", home);
        return -1;
    }
    int got = s_read_file (path, S_LIST_MAX_SIZE, &data, err, errlen);
    if (got < 0) {
        goto cleanup;
    }
    char empty[1] = "";
    char *cursor = got == 0 ? data : empty;
    char *line;
    for (int lineno = 1; (line = s_next_line (&cursor)); lineno++) {
        if (*line == '\0') {
            continue;
        }
        if (strlen (line) > S_CURSORS_MAX_LINE) {
            s_err (err, errlen, "cannot load '%s': line %d is too long", path, lineno);
            goto cleanup;
        }
        char *fields[2];
        if (s_split_fields (line, fields, 2) != 2) {
            s_err (err, errlen, "cannot load '%s': line %d: expected '<group> <seq>'", path,
                   lineno);
            goto cleanup;
        }
        if (!gc_wire_valid_group_name (fields[0])) {
            s_err (err, errlen, "cannot load '%s': line %d: invalid group name", path, lineno);
            goto cleanup;
        }
        uint64_t seq;
        if (s_parse_seq (fields[1], &seq) != 0) {
            s_err (err, errlen, "cannot load '%s': line %d: invalid sequence number", path,
                   lineno);
            goto cleanup;
        }
        bool found;
        s_cursors_index (&list, fields[0], &found);
        if (found) {
            s_err (err, errlen, "cannot load '%s': line %d: group '%s' listed twice", path,
                   lineno, fields[0]);
            goto cleanup;
        }
        if (s_cursors_set (&list, fields[0], seq) != 0) {
            s_err (err, errlen, "cannot load '%s': out of memory", path);
            goto cleanup;
        }
    }
    *cursors = list;
    list.items = NULL;
    list.count = 0;
    rc = 0;

cleanup:
    s_cursors_clear (&list);
    free (data);
    free (path);
    return rc;
}

//  Runs fn to format a file into memory, then writes it atomically.
static int
s_save (const char *home, const char *file, void (*fn) (FILE *out, const void *arg),
        const void *arg, char *err, size_t errlen)
{
    char *data = NULL;
    size_t len = 0;
    FILE *out = open_memstream (&data, &len);
    if (!out) {
        s_err (err, errlen, "cannot save '%s/%s': out of memory", home, file);
        return -1;
    }
    fn (out, arg);
    bool failed = ferror (out) != 0;
    if (fclose (out) != 0 || failed) {
        free (data);
        s_err (err, errlen, "cannot save '%s/%s': out of memory", home, file);
        return -1;
    }
    int rc = s_write_file (home, file, data, len, err, errlen);
    free (data);
    return rc;
}

static void
s_format_identity (FILE *out, const void *arg)
{
    const gc_identity_t *self = arg;
    fprintf (out, "id=%s\ntoken=", self->id);
    for (size_t i = 0; i < GC_TOKEN_SIZE; i++) {
        fprintf (out, "%02x", self->token[i]);
    }
    fprintf (out, "\nname=%s\n", self->name);
}

static void
s_format_groups (FILE *out, const void *arg)
{
    const s_groups_t *groups = arg;
    for (size_t i = 0; i < groups->count; i++) {
        fprintf (out, "%s %s %s\n", groups->items[i].name, groups->items[i].endpoint,
                 groups->items[i].pub_endpoint);
    }
}

static void
s_format_cursors (FILE *out, const void *arg)
{
    const s_cursors_t *cursors = arg;
    for (size_t i = 0; i < cursors->count; i++) {
        fprintf (out, "%s %" PRIu64 "\n", cursors->items[i].group, cursors->items[i].seq);
    }
}

//  ---------------------------------------------------------------------------------------------
//  Public API.

//  The state directory to use, as an owned string, or NULL with the reason in err.
static char *
s_resolve_home (const char *home, char *err, size_t errlen)
{
    char *path = NULL;
    const char *env;
    if (home) {
        path = strdup (home);
    }
    else if ((env = getenv ("GROUPCAST_HOME")) && *env) {
        path = strdup (env);
    }
    //  The XDG spec says to ignore a relative $XDG_STATE_HOME.
    else if ((env = getenv ("XDG_STATE_HOME")) && *env == '/') {
        path = s_join (env, "groupcast");
    }
    else if ((env = getenv ("HOME")) && *env) {
        path = s_join (env, ".local/state/groupcast");
    }
    else {
        s_err (err, errlen, "cannot find state directory: set GROUPCAST_HOME or HOME");
        return NULL;
    }
    if (!path) {
        s_err (err, errlen, "cannot find state directory: out of memory");
        return NULL;
    }
    if (*path == '\0') {
        s_err (err, errlen, "cannot use state directory '': empty path");
        free (path);
        return NULL;
    }
    if (strlen (path) > S_HOME_MAX) {
        s_err (err, errlen, "cannot use state directory '%.64s...': path too long", path);
        free (path);
        return NULL;
    }
    return path;
}

char *
gc_identity_default_home (void)
{
    char err[256];
    return s_resolve_home (NULL, err, sizeof err);
}

//  Fresh UUID and token into self. Returns 0 or -1.
static int
s_generate (gc_identity_t *self)
{
    gc_wire_new_uuid (self->id);
    return gc_wire_random (self->token, GC_TOKEN_SIZE);
}

gc_identity_t *
gc_identity_load (const char *home, char *err, size_t errlen)
{
    int lock = -1;
    char *path = NULL;
    char *data = NULL;
    gc_identity_t *self = calloc (1, sizeof *self);
    if (!self) {
        s_err (err, errlen, "cannot load identity: out of memory");
        return NULL;
    }
    self->home = s_resolve_home (home, err, errlen);
    if (!self->home || s_mkdirs (self->home, err, errlen) != 0) {
        goto cleanup;
    }
    //  Under the lock, so that two first invocations do not both create an identity.
    lock = s_lock (self->home, err, errlen);
    if (lock < 0) {
        goto cleanup;
    }
    path = s_join (self->home, S_IDENTITY_FILE);
    if (!path) {
        s_err (err, errlen, "cannot load identity: out of memory");
        goto cleanup;
    }
    int got = s_read_file (path, S_IDENTITY_MAX_SIZE, &data, err, errlen);
    if (got < 0) {
        goto cleanup;
    }
    if (got == 1) {
        if (s_generate (self) != 0) {
            s_err (err, errlen, "cannot create identity in '%s': no random bytes: %s",
                   self->home, strerror (errno));
            goto cleanup;
        }
        if (s_save (self->home, S_IDENTITY_FILE, s_format_identity, self, err, errlen) != 0) {
            goto cleanup;
        }
    }
    else if (s_parse_identity (data, path, self->id, self->token, self->name, err, errlen) != 0) {
        goto cleanup;
    }
    if (s_load_groups (self->home, &self->groups, err, errlen) != 0
        || s_load_cursors (self->home, &self->cursors, err, errlen) != 0) {
        goto cleanup;
    }
    s_unlock (lock);
    free (path);
    free (data);
    return self;

cleanup:
    s_unlock (lock);
    free (path);
    free (data);
    gc_identity_destroy (&self);
    return NULL;
}

gc_identity_t *
gc_identity_new_ephemeral (void)
{
    gc_identity_t *self = calloc (1, sizeof *self);
    if (self && s_generate (self) != 0) {
        free (self);
        self = NULL;
    }
    return self;
}

void
gc_identity_destroy (gc_identity_t **self_p)
{
    assert (self_p);
    gc_identity_t *self = *self_p;
    if (self) {
        s_groups_clear (&self->groups);
        s_cursors_clear (&self->cursors);
        free (self->home);
        //  The token is a secret: do not leave it in freed memory.
        memset (self->token, 0, sizeof self->token);
        free (self);
        *self_p = NULL;
    }
}

const char *
gc_identity_id (const gc_identity_t *self)
{
    assert (self);
    return self->id;
}

const uint8_t *
gc_identity_token (const gc_identity_t *self)
{
    assert (self);
    return self->token;
}

const char *
gc_identity_name (const gc_identity_t *self)
{
    assert (self);
    return self->name;
}

const char *
gc_identity_home (const gc_identity_t *self)
{
    assert (self);
    return self->home;
}

int
gc_identity_set_name (gc_identity_t *self, const char *name, char *err, size_t errlen)
{
    assert (self);
    assert (name);
    if (!gc_wire_valid_display_name (name)) {
        s_err (err, errlen,
               "cannot set display name: must be at most %d bytes without control characters",
               GC_MAX_NAME);
        return -1;
    }
    if (!self->home) {
        snprintf (self->name, sizeof self->name, "%s", name);
        return 0;
    }
    int lock = s_lock (self->home, err, errlen);
    if (lock < 0) {
        return -1;
    }
    //  Save a copy with the new name, so that self changes only once it is on disk.
    gc_identity_t updated = *self;
    snprintf (updated.name, sizeof updated.name, "%s", name);
    int rc = s_save (self->home, S_IDENTITY_FILE, s_format_identity, &updated, err, errlen);
    if (rc == 0) {
        memcpy (self->name, updated.name, sizeof self->name);
    }
    memset (updated.token, 0, sizeof updated.token);
    s_unlock (lock);
    return rc;
}

//  The change one call makes to the groups list.
typedef struct {
    const char *group;         //  group name
    const char *endpoint;      //  endpoint to remember, NULL to forget
    const char *pub_endpoint;  //  PUB endpoint to remember
} s_group_change_t;

static int
s_group_apply (s_groups_t *groups, const s_group_change_t *change)
{
    if (change->endpoint) {
        return s_groups_put (groups, change->group, change->endpoint, change->pub_endpoint);
    }
    s_groups_remove (groups, change->group);
    return 0;
}

//  Applies a change to the groups file under the lock (re-reading it first, so concurrent
//  changes by other processes are kept) and, once saved, to self.
static int
s_group_update (gc_identity_t *self, const s_group_change_t *change, char *err, size_t errlen)
{
    if (!self->home) {
        if (s_group_apply (&self->groups, change) != 0) {
            s_err (err, errlen, "cannot update group '%s': out of memory", change->group);
            return -1;
        }
        return 0;
    }
    int rc = -1;
    s_groups_t fresh = { NULL, 0 };
    int lock = s_lock (self->home, err, errlen);
    if (lock < 0) {
        return -1;
    }
    if (s_load_groups (self->home, &fresh, err, errlen) != 0) {
        goto cleanup;
    }
    if (s_group_apply (&fresh, change) != 0) {
        s_err (err, errlen, "cannot update group '%s': out of memory", change->group);
        goto cleanup;
    }
    if (s_save (self->home, S_GROUPS_FILE, s_format_groups, &fresh, err, errlen) != 0) {
        goto cleanup;
    }
    s_groups_clear (&self->groups);
    self->groups = fresh;
    fresh.items = NULL;
    fresh.count = 0;
    rc = 0;

cleanup:
    s_groups_clear (&fresh);
    s_unlock (lock);
    return rc;
}

int
gc_identity_remember (gc_identity_t *self, const char *group, const char *endpoint,
                      const char *pub_endpoint, char *err, size_t errlen)
{
    assert (self);
    assert (group && endpoint && pub_endpoint);
    if (!gc_wire_valid_group_name (group)) {
        s_err (err, errlen,
               "cannot remember group '%.64s': name must be 1-64 characters of A-Z a-z 0-9 . _ -",
               group);
        return -1;
    }
    if (!gc_wire_valid_endpoint (endpoint) || !gc_wire_valid_endpoint (pub_endpoint)) {
        s_err (err, errlen, "cannot remember group '%s': invalid endpoint", group);
        return -1;
    }
    s_group_change_t change = { group, endpoint, pub_endpoint };
    return s_group_update (self, &change, err, errlen);
}

int
gc_identity_forget (gc_identity_t *self, const char *group, char *err, size_t errlen)
{
    assert (self);
    assert (group);
    if (!gc_wire_valid_group_name (group)) {
        s_err (err, errlen,
               "cannot forget group '%.64s': name must be 1-64 characters of A-Z a-z 0-9 . _ -",
               group);
        return -1;
    }
    s_group_change_t change = { group, NULL, NULL };
    return s_group_update (self, &change, err, errlen);
}

size_t
gc_identity_group_count (const gc_identity_t *self)
{
    assert (self);
    return self->groups.count;
}

const gc_group_info_t *
gc_identity_group (const gc_identity_t *self, size_t index)
{
    assert (self);
    assert (index < self->groups.count);
    return &self->groups.items[index].info;
}

const gc_group_info_t *
gc_identity_find (const gc_identity_t *self, const char *group)
{
    assert (self);
    assert (group);
    bool found;
    size_t index = s_groups_index (&self->groups, group, &found);
    return found ? &self->groups.items[index].info : NULL;
}

uint64_t
gc_identity_cursor (const gc_identity_t *self, const char *group)
{
    assert (self);
    assert (group);
    bool found;
    size_t index = s_cursors_index (&self->cursors, group, &found);
    return found ? self->cursors.items[index].seq : 0;
}

int
gc_identity_set_cursor (gc_identity_t *self, const char *group, uint64_t seq, char *err,
                        size_t errlen)
{
    assert (self);
    assert (group);
    if (!gc_wire_valid_group_name (group)) {
        s_err (err, errlen,
               "cannot set cursor of group '%.64s': name must be 1-64 characters of A-Z a-z 0-9 "
               ". _ -",
               group);
        return -1;
    }
    if (!self->home) {
        if (s_cursors_set (&self->cursors, group, seq) != 0) {
            s_err (err, errlen, "cannot set cursor of group '%s': out of memory", group);
            return -1;
        }
        return 0;
    }
    int rc = -1;
    s_cursors_t fresh = { NULL, 0 };
    int lock = s_lock (self->home, err, errlen);
    if (lock < 0) {
        return -1;
    }
    if (s_load_cursors (self->home, &fresh, err, errlen) != 0) {
        goto cleanup;
    }
    if (s_cursors_set (&fresh, group, seq) != 0) {
        s_err (err, errlen, "cannot set cursor of group '%s': out of memory", group);
        goto cleanup;
    }
    if (s_save (self->home, S_CURSORS_FILE, s_format_cursors, &fresh, err, errlen) != 0) {
        goto cleanup;
    }
    s_cursors_clear (&self->cursors);
    self->cursors = fresh;
    fresh.items = NULL;
    fresh.count = 0;
    rc = 0;

cleanup:
    s_cursors_clear (&fresh);
    s_unlock (lock);
    return rc;
}
