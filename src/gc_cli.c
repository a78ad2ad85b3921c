/*  gc_cli - the groupcast command line
    SPDX-License-Identifier: MPL-2.0
*/
#include "gc_cli.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <editline/readline.h>

#include "groupcast.h"
#include "gc_client_impl.h"
#include "gc_time.h"

#define GC_CLI_MAX_ARGS 64

//  Everything a command needs: parsed options and the objects made from them.
typedef struct {
    FILE *out;                  //  results
    FILE *err;                  //  errors and notices
    const char *server;         //  --server
    const char *home;           //  --home
    const char *name;           //  --name
    bool json;                  //  --json
    int timeout_ms;             //  --timeout
    const char *since;          //  --since
    const char *until;          //  --until
    const char *after_seq;      //  --after-seq
    const char *before_seq;     //  --before-seq
    const char *last;           //  --last
    const char *limit;          //  --limit
    const char *window;         //  --window (send from standard input)
    bool resume;                //  --resume
    bool help;                  //  --help
    bool version;               //  --version
    bool color;                 //  colour the text output (a terminal, and no NO_COLOR)
    const char *args[GC_CLI_MAX_ARGS];  //  positional arguments, command first
    int nargs;                  //  how many
    gc_identity_t *identity;    //  loaded by s_setup
    gc_client_t *client;        //  made by s_setup
} s_cli_t;

static const char *s_usage_text =
    "usage: groupcast [OPTIONS] [COMMAND [ARGS...]]\n"
    "\n"
    "commands:\n"
    "  groups                      list the registered groups\n"
    "  join GROUP...               join groups (NAME, or NAME@tcp://host:port)\n"
    "  leave GROUP...              leave groups\n"
    "  send GROUP [TEXT...]        send TEXT, or one message per line of standard input\n"
    "  history GROUP [FILTERS]     print history (the whole of it, page by page, by default)\n"
    "  members GROUP               list a group's members\n"
    "  stats [GROUP]               a group's figures (members only; all joined groups by\n"
    "                              default) and the registry's group count\n"
    "  listen [GROUP...]           print live messages (all joined groups by default)\n"
    "  shell                       interactive chat (the default command): line editing,\n"
    "                              history, Tab completes commands and group names\n"
    "  whoami                      print your user id, display name and state directory\n"
    "\n"
    "options (before or after the command; -- ends options):\n"
    "  --server ENDPOINT   registry (default $GROUPCAST_SERVER or tcp://127.0.0.1:5555)\n"
    "  --home DIR          state directory (default $GROUPCAST_HOME, else\n"
    "                      $XDG_STATE_HOME/groupcast, else ~/.local/state/groupcast)\n"
    "  --name NAME         set your display name (kept for later runs)\n"
    "  --json              print JSON lines for scripts\n"
    "  --timeout MS        per-request timeout (default 3000)\n"
    "  --window N          send from standard input: messages in flight at most (default\n"
    "                      100; a burst beyond 4 requests in flight travels in batches)\n"
    "  --help, --version\n"
    "\n"
    "history filters (TIME: 2026-11-25T10:00:00Z, epoch seconds, or 90s / 10m / 2h / 1d ago):\n"
    "  --since TIME  --until TIME  --after-seq N  --before-seq N  --last N  --limit N\n"
    "listen: --since TIME, --after-seq N or --resume replay history first, then go live.\n"
    "\n"
    "examples:\n"
    "  groupcast --name alice join ops\n"
    "  groupcast send ops 'deploy done'\n"
    "  groupcast history ops --since 1h --json\n"
    "  groupcast listen ops\n"
    "  groupcast stats ops --json\n"
    "  groupcast join ops@tcp://10.0.0.5:5601\n"
    "\n"
    "Text output is coloured on a terminal unless NO_COLOR is set. Exit status: 0 ok,\n"
    "1 failure, 2 usage error.\n";

//  --------------------------------------------------------------------------------------------
//  Output

void
gc_cli_json_string (FILE *out, const char *text, size_t len)
{
    const unsigned char *p = (const unsigned char *) text;
    fputc ('"', out);
    size_t i = 0;
    while (i < len) {
        unsigned char c = p[i];
        if (c == '"' || c == '\\') {
            fputc ('\\', out);
            fputc (c, out);
            i++;
        }
        else if (c < 0x20 || c == 0x7f) {
            if (c == '\n') {
                fputs ("\\n", out);
            }
            else if (c == '\t') {
                fputs ("\\t", out);
            }
            else if (c == '\r') {
                fputs ("\\r", out);
            }
            else {
                fprintf (out, "\\u%04x", c);
            }
            i++;
        }
        else if (c < 0x80) {
            fputc (c, out);
            i++;
        }
        else {
            //  A well-formed UTF-8 sequence passes through; anything else becomes U+FFFD.
            //  Continuation bytes the lead byte announces (0: not a lead byte).
            size_t need = c >= 0xf5 ? 0 : c >= 0xf0 ? 3 : c >= 0xe0 ? 2 : c >= 0xc2 ? 1 : 0;
            bool ok = need > 0 && i + need < len;
            for (size_t k = 1; ok && k <= need; k++) {
                if ((p[i + k] & 0xc0) != 0x80) {
                    ok = false;
                }
            }
            if (ok && need == 2) {
                //  No overlong forms and no surrogates.
                if ((c == 0xe0 && p[i + 1] < 0xa0) || (c == 0xed && p[i + 1] >= 0xa0)) {
                    ok = false;
                }
            }
            if (ok && need == 3) {
                if ((c == 0xf0 && p[i + 1] < 0x90) || (c == 0xf4 && p[i + 1] >= 0x90)) {
                    ok = false;
                }
            }
            if (ok) {
                fwrite (p + i, 1, need + 1, out);
                i += need + 1;
            }
            else {
                fputs ("\\ufffd", out);
                i++;
            }
        }
    }
    fputc ('"', out);
}

static void
s_json_key (FILE *out, const char *key, const char *value, bool first)
{
    fprintf (out, "%s\"%s\":", first ? "{" : ",", key);
    gc_cli_json_string (out, value, strlen (value));
}

static const char *
s_kind_name (gc_entry_kind_t kind)
{
    return kind == GC_ENTRY_JOIN ? "join" : kind == GC_ENTRY_LEAVE ? "leave" : "message";
}

static void
s_print_entry (s_cli_t *cli, const gc_entry_t *entry)
{
    FILE *out = cli->out;
    if (cli->json) {
        s_json_key (out, "group", entry->group, true);
        fprintf (out, ",\"seq\":%" PRIu64 ",\"ts_us\":%" PRId64, entry->seq, entry->ts_us);
        if (entry->kind != GC_ENTRY_MESSAGE) {
            s_json_key (out, "event", s_kind_name (entry->kind), false);
        }
        s_json_key (out, "sender", entry->sender, false);
        s_json_key (out, "name", entry->name, false);
        if (entry->kind == GC_ENTRY_MESSAGE) {
            fputs (",\"text\":", out);
            gc_cli_json_string (out, entry->text, entry->text_len);
        }
        fputs ("}\n", out);
    }
    else {
        char when[GC_TIME_LOCAL_SIZE];
        gc_time_format_local (entry->ts_us, gc_time_now_us (), when);
        //  Without a display name, the first block of the UUID tells people apart.
        char who[GC_MAX_NAME + 1];
        if (entry->name[0]) {
            snprintf (who, sizeof who, "%s", entry->name);
        }
        else {
            snprintf (who, sizeof who, "%.8s", entry->sender);
        }
        //  Colours: the group bold, sequence and time dim, each sender in a colour of its own
        //  (from its UUID), membership events dim.
        const char *bold = cli->color ? "\033[1m" : "";
        const char *dim = cli->color ? "\033[2m" : "";
        const char *reset = cli->color ? "\033[0m" : "";
        char person[16] = "";
        if (cli->color) {
            unsigned hash = 0;
            for (const char *p = entry->sender; *p; p++) {
                hash = hash * 31 + (unsigned char) *p;
            }
            snprintf (person, sizeof person, "\033[1;%um", 31 + hash % 6);
        }
        if (entry->kind == GC_ENTRY_MESSAGE) {
            fprintf (out, "%s%s%s %s#%" PRIu64 " %s%s %s%s%s: ", bold, entry->group, reset, dim,
                     entry->seq, when, reset, person, who, reset);
            //  Control characters would let a sender rewrite the reader's terminal.
            for (size_t i = 0; i < entry->text_len; i++) {
                unsigned char c = (unsigned char) entry->text[i];
                fputc (c < 0x20 && c != '\t' ? '?' : c, out);
            }
            fputc ('\n', out);
        }
        else {
            fprintf (out, "%s%s%s %s#%" PRIu64 " %s * %s %s%s\n", bold, entry->group, reset, dim,
                     entry->seq, when, who, entry->kind == GC_ENTRY_JOIN ? "joined" : "left",
                     reset);
        }
    }
    fflush (out);
}

static int
s_fail (s_cli_t *cli, const char *fmt, ...) __attribute__ ((format (printf, 2, 3)));

static int
s_fail (s_cli_t *cli, const char *fmt, ...)
{
    va_list args;
    va_start (args, fmt);
    fputs ("groupcast: ", cli->err);
    vfprintf (cli->err, fmt, args);
    fputc ('\n', cli->err);
    va_end (args);
    return 1;
}

static int
s_usage_error (s_cli_t *cli, const char *fmt, ...) __attribute__ ((format (printf, 2, 3)));

static int
s_usage_error (s_cli_t *cli, const char *fmt, ...)
{
    va_list args;
    va_start (args, fmt);
    fputs ("groupcast: ", cli->err);
    vfprintf (cli->err, fmt, args);
    fputs (" (see groupcast --help)\n", cli->err);
    va_end (args);
    return 2;
}

//  --------------------------------------------------------------------------------------------
//  Options

typedef struct {
    const char *name;      //  without the leading --
    size_t offset;         //  of its field in s_cli_t
    bool takes_value;      //  a string value, else a bool flag
} s_option_t;

#define S_OPT(name, field, value) {name, offsetof (s_cli_t, field), value}
static const s_option_t s_options[] = {
    S_OPT ("server", server, true),       S_OPT ("home", home, true),
    S_OPT ("name", name, true),           S_OPT ("json", json, false),
    S_OPT ("since", since, true),         S_OPT ("until", until, true),
    S_OPT ("after-seq", after_seq, true), S_OPT ("before-seq", before_seq, true),
    S_OPT ("last", last, true),           S_OPT ("limit", limit, true),
    S_OPT ("resume", resume, false),      S_OPT ("help", help, false),
    S_OPT ("version", version, false),    S_OPT ("window", window, true),
    {NULL, 0, false}};

static int
s_parse (s_cli_t *cli, int argc, char **argv)
{
    bool options_done = false;
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (!options_done && streq (arg, "--")) {
            options_done = true;
            continue;
        }
        if (!options_done && (streq (arg, "-h"))) {
            cli->help = true;
            continue;
        }
        if (options_done || arg[0] != '-' || arg[1] == '\0' || (arg[1] != '-')) {
            if (!options_done && arg[0] == '-' && arg[1] != '\0') {
                return s_usage_error (cli, "unknown option '%s'", arg);
            }
            if (cli->nargs == GC_CLI_MAX_ARGS) {
                return s_usage_error (cli, "too many arguments");
            }
            cli->args[cli->nargs++] = arg;
            continue;
        }
        const char *name = arg + 2;
        const char *eq = strchr (name, '=');
        size_t name_len = eq ? (size_t) (eq - name) : strlen (name);
        if (name_len == 7 && strncmp (name, "timeout", 7) == 0) {
            const char *value = eq ? eq + 1 : (i + 1 < argc ? argv[++i] : NULL);
            char *end = NULL;
            long ms = value ? strtol (value, &end, 10) : 0;
            if (!value || !*value || *end || ms <= 0 || ms > 3600000) {
                return s_usage_error (cli, "--timeout needs milliseconds (1-3600000)");
            }
            cli->timeout_ms = (int) ms;
            continue;
        }
        const s_option_t *opt = s_options;
        while (opt->name && !(strlen (opt->name) == name_len
                              && strncmp (opt->name, name, name_len) == 0)) {
            opt++;
        }
        if (!opt->name) {
            return s_usage_error (cli, "unknown option '%s'", arg);
        }
        char *field = (char *) cli + opt->offset;
        if (opt->takes_value) {
            const char *value = eq ? eq + 1 : (i + 1 < argc ? argv[++i] : NULL);
            if (!value) {
                return s_usage_error (cli, "--%s needs a value", opt->name);
            }
            *(const char **) field = value;
        }
        else {
            if (eq) {
                return s_usage_error (cli, "--%s takes no value", opt->name);
            }
            *(bool *) field = true;
        }
    }
    return 0;
}

//  Parses a non-negative integer option. Returns 0, or -1 after printing a usage error.
static int
s_parse_u64 (s_cli_t *cli, const char *option, const char *text, uint64_t *out)
{
    if (!text) {
        *out = 0;
        return 0;
    }
    char *end = NULL;
    errno = 0;
    unsigned long long value = strtoull (text, &end, 10);
    if (!*text || *end || text[0] == '-' || errno == ERANGE) {
        s_usage_error (cli, "--%s needs a non-negative integer, not '%s'", option, text);
        return -1;
    }
    *out = value;
    return 0;
}

static int
s_setup (s_cli_t *cli)
{
    char err[512];
    cli->identity = gc_identity_load (cli->home, err, sizeof err);
    if (!cli->identity) {
        return s_fail (cli, "%s", err);
    }
    if (cli->name && !streq (cli->name, gc_identity_name (cli->identity))
        && gc_identity_set_name (cli->identity, cli->name, err, sizeof err) != 0) {
        return s_fail (cli, "%s", err);
    }
    cli->client = gc_client_new (cli->server, cli->identity);
    if (!cli->client) {
        return s_fail (cli, "cannot create client: out of memory");
    }
    gc_client_set_timeout (cli->client, cli->timeout_ms);
    return 0;
}

static int
s_client_fail (s_cli_t *cli, gc_status_t status)
{
    const char *detail = gc_client_error (cli->client);
    return s_fail (cli, "%s", detail[0] ? detail : gc_status_str (status));
}

//  --------------------------------------------------------------------------------------------
//  Commands

static int
s_cmd_groups (s_cli_t *cli)
{
    if (cli->nargs != 1) {
        return s_usage_error (cli, "groups takes no arguments");
    }
    const gc_group_info_t *list = NULL;
    size_t count = 0;
    gc_status_t status = gc_client_groups (cli->client, &list, &count);
    if (status != GC_OK) {
        return s_client_fail (cli, status);
    }
    for (size_t i = 0; i < count; i++) {
        if (cli->json) {
            s_json_key (cli->out, "name", list[i].name, true);
            s_json_key (cli->out, "endpoint", list[i].endpoint, false);
            s_json_key (cli->out, "pub_endpoint", list[i].pub_endpoint, false);
            fputs ("}\n", cli->out);
        }
        else {
            fprintf (cli->out, "%-20s %s %s\n", list[i].name, list[i].endpoint,
                     list[i].pub_endpoint);
        }
    }
    if (!cli->json && count == 0) {
        fprintf (cli->err, "groupcast: no groups are registered\n");
    }
    return 0;
}

static int
s_cmd_join_leave (s_cli_t *cli, bool join)
{
    if (cli->nargs < 2) {
        return s_usage_error (cli, "%s needs a GROUP", join ? "join" : "leave");
    }
    int rc = 0;
    for (int i = 1; i < cli->nargs; i++) {
        gc_ack_t ack = {0, 0, 0};
        gc_status_t status = join ? gc_client_join (cli->client, cli->args[i], &ack)
                                  : gc_client_leave (cli->client, cli->args[i], &ack);
        if (status != GC_OK) {
            rc = s_client_fail (cli, status);
            continue;
        }
        char name[GC_MAX_NAME + 1];
        snprintf (name, sizeof name, "%.*s", (int) strcspn (cli->args[i], "@"), cli->args[i]);
        if (cli->json) {
            s_json_key (cli->out, "group", name, true);
            fprintf (cli->out, ",\"%s\":true,\"seq\":%" PRIu64 ",\"last_seq\":%" PRIu64 "}\n",
                     join ? "joined" : "left", ack.seq, ack.last_seq);
        }
        else {
            fprintf (cli->out, "%s %s\n", join ? "joined" : "left", name);
        }
    }
    return rc;
}

typedef struct {
    s_cli_t *cli;         //  for output
    const char *group;    //  the group sent to
    size_t acked;         //  acknowledged so far
    size_t failed;        //  failed so far
    uint64_t first_seq;   //  lowest seq acknowledged
    uint64_t last_seq;    //  highest seq acknowledged
    char **texts;         //  text by tag, to print with --json; freed when acknowledged
    size_t texts_size;    //  slots in texts
} s_send_state_t;

static void
s_on_ack (void *arg, uint64_t tag, gc_status_t status, const gc_ack_t *ack, const char *error)
{
    s_send_state_t *state = (s_send_state_t *) arg;
    s_cli_t *cli = state->cli;
    char *text = tag < state->texts_size ? state->texts[tag] : NULL;
    if (status == GC_OK) {
        state->acked++;
        if (!state->first_seq || ack->seq < state->first_seq) {
            state->first_seq = ack->seq;
        }
        if (ack->seq > state->last_seq) {
            state->last_seq = ack->seq;
        }
        if (cli->json) {
            s_json_key (cli->out, "group", state->group, true);
            fprintf (cli->out, ",\"seq\":%" PRIu64 ",\"ts_us\":%" PRId64 ",\"text\":", ack->seq,
                     ack->ts_us);
            gc_cli_json_string (cli->out, text ? text : "", text ? strlen (text) : 0);
            fputs ("}\n", cli->out);
            fflush (cli->out);
        }
    }
    else {
        state->failed++;
        s_fail (cli, "message %" PRIu64 " not sent: %s", tag + 1, error);
    }
    if (text) {
        free (text);
        state->texts[tag] = NULL;
    }
}

//  Standard input, read with read(2) so that the sender can wait for it and for
//  acknowledgements at once (stdio would hide lines in its buffer from poll).
typedef struct {
    char *data;        //  bytes read, not yet taken
    size_t start;      //  first byte not yet taken
    size_t len;        //  bytes in data
    size_t size;       //  allocated
    bool eof;          //  no more to read
    bool skipping;     //  inside an over-long line: drop up to its newline
} s_reader_t;

//  Takes the next complete line (without its newline, NUL-terminated, valid until the next
//  call). Returns 1 with a line, 2 for an over-long line (skipped, *line NULL), 0 if more input
//  is needed, -1 at the end.
static int
s_reader_line (s_reader_t *reader, char **line, size_t *len)
{
    if (!reader->data) {
        return reader->eof ? -1 : 0;
    }
    char *begin = reader->data + reader->start;
    size_t avail = reader->len - reader->start;
    char *newline = avail ? (char *) memchr (begin, '\n', avail) : NULL;
    if (reader->skipping) {
        reader->start = newline ? (size_t) (newline + 1 - reader->data) : reader->len;
        reader->skipping = newline == NULL && !reader->eof;
        return reader->skipping ? 0 : s_reader_line (reader, line, len);
    }
    if (!newline && avail > GC_MAX_TEXT) {
        reader->start = reader->len;
        reader->skipping = !reader->eof;
        *line = NULL;
        return 2;
    }
    if (!newline && !(reader->eof && avail > 0)) {
        return reader->eof ? -1 : 0;
    }
    size_t length = newline ? (size_t) (newline - begin) : avail;
    if (length > GC_MAX_TEXT) {
        reader->start += length + (newline ? 1 : 0);
        *line = NULL;
        return 2;
    }
    if (!newline) {
        //  The last line has no newline: make room for the NUL.
        if (reader->len == reader->size) {
            char *data = (char *) realloc (reader->data, reader->size + 1);
            assert (data);
            reader->data = data;
            reader->size++;
            begin = reader->data + reader->start;
        }
        newline = begin + length;
    }
    *newline = '\0';
    *line = begin;
    *len = length;
    reader->start += length + 1;
    if (reader->start > reader->len) {
        reader->start = reader->len;
    }
    return 1;
}

//  Reads what standard input has now (one read). Returns 0, or -1 on a read error.
static int
s_reader_fill (s_reader_t *reader)
{
    if (reader->start > 0) {
        memmove (reader->data, reader->data + reader->start, reader->len - reader->start);
        reader->len -= reader->start;
        reader->start = 0;
    }
    if (reader->size - reader->len < 65536) {
        size_t size = reader->len + 65536 + GC_MAX_TEXT + 2;
        char *data = (char *) realloc (reader->data, size);
        assert (data);
        reader->data = data;
        reader->size = size;
    }
    ssize_t got = read (STDIN_FILENO, reader->data + reader->len, reader->size - reader->len);
    if (got < 0 && errno == EINTR) {
        return 0;
    }
    if (got <= 0) {
        reader->eof = true;
        return got < 0 ? -1 : 0;
    }
    reader->len += (size_t) got;
    return 0;
}

static int
s_send_stdin (s_cli_t *cli, const char *group)
{
    s_send_state_t state;
    memset (&state, 0, sizeof state);
    state.cli = cli;
    state.group = group;
    gc_client_set_ack_handler (cli->client, s_on_ack, &state);
    //  Check the group exists before reading input, so a typo fails at once.
    const gc_group_info_t *info = NULL;
    gc_status_t status = gc_client_resolve (cli->client, group, &info);
    if (status != GC_OK) {
        return s_client_fail (cli, status);
    }
    s_reader_t reader;
    memset (&reader, 0, sizeof reader);
    uint64_t lines = 0;
    int rc = 0;
    while (!zsys_interrupted) {
        char *line = NULL;
        size_t len = 0;
        int got = s_reader_line (&reader, &line, &len);
        if (got < 0) {
            break;
        }
        if (got == 0) {
            //  While input is quiet, acknowledgements still arrive and timed-out sends are
            //  retried.
            int ready = gc_client_wait_fd (cli->client, STDIN_FILENO, 1000);
            if (ready < 0) {
                break;
            }
            if (ready > 0 && s_reader_fill (&reader) != 0) {
                rc = s_fail (cli, "cannot read standard input: %s", strerror (errno));
            }
            continue;
        }
        lines++;
        if (got == 2) {
            rc = s_fail (cli, "line %" PRIu64 " not sent: longer than %d bytes", lines,
                         GC_MAX_TEXT);
            continue;
        }
        if (len == 0) {
            continue;
        }
        uint64_t tag = 0;
        //  The text is kept until acknowledged, for the --json line.
        char *copy = cli->json ? strdup (line) : NULL;
        status = gc_client_send_async (cli->client, group, line, len, &tag);
        if (status != GC_OK) {
            free (copy);
            rc = s_client_fail (cli, status);
            break;
        }
        if (copy) {
            if (tag >= state.texts_size) {
                size_t size = state.texts_size ? state.texts_size * 2 : 1024;
                while (size <= tag) {
                    size *= 2;
                }
                char **texts = realloc (state.texts, size * sizeof *texts);
                assert (texts);
                memset (texts + state.texts_size, 0, (size - state.texts_size) * sizeof *texts);
                state.texts = texts;
                state.texts_size = size;
            }
            state.texts[tag] = copy;
        }
    }
    free (reader.data);
    if (gc_client_flush (cli->client) != GC_OK || state.failed) {
        rc = 1;
    }
    for (size_t i = 0; i < state.texts_size; i++) {
        free (state.texts[i]);
    }
    free (state.texts);
    gc_client_set_ack_handler (cli->client, NULL, NULL);
    if (!cli->json && state.acked) {
        fprintf (cli->out, "sent %zu messages to %s (#%" PRIu64 "-#%" PRIu64 ")\n", state.acked,
                 group, state.first_seq, state.last_seq);
    }
    return rc;
}

static int
s_cmd_send (s_cli_t *cli)
{
    if (cli->nargs < 2) {
        return s_usage_error (cli, "send needs a GROUP");
    }
    const char *group = cli->args[1];
    if (cli->window) {
        uint64_t window = 0;
        if (s_parse_u64 (cli, "window", cli->window, &window) != 0) {
            return 2;
        }
        if (window < 1 || window > 100000) {
            return s_usage_error (cli, "--window needs 1-100000 messages, not '%s'", cli->window);
        }
        gc_client_set_window (cli->client, (size_t) window);
    }
    if (cli->nargs == 2) {
        return s_send_stdin (cli, group);
    }
    size_t total = 1;   //  the NUL
    for (int i = 2; i < cli->nargs; i++) {
        total += strlen (cli->args[i]) + 1;
    }
    char *text = (char *) malloc (total);
    if (!text) {
        return s_fail (cli, "out of memory");
    }
    text[0] = '\0';
    for (int i = 2; i < cli->nargs; i++) {
        if (i > 2) {
            strcat (text, " ");
        }
        strcat (text, cli->args[i]);
    }
    gc_ack_t ack = {0, 0, 0};
    gc_status_t status = gc_client_send (cli->client, group, text, strlen (text), &ack);
    int rc = 0;
    if (status != GC_OK) {
        rc = s_client_fail (cli, status);
    }
    else if (cli->json) {
        s_json_key (cli->out, "group", group, true);
        fprintf (cli->out, ",\"seq\":%" PRIu64 ",\"ts_us\":%" PRId64 ",\"text\":", ack.seq,
                 ack.ts_us);
        gc_cli_json_string (cli->out, text, strlen (text));
        fputs ("}\n", cli->out);
    }
    else {
        fprintf (cli->out, "sent to %s as #%" PRIu64 "\n", group, ack.seq);
    }
    free (text);
    return rc;
}

typedef struct {
    s_cli_t *cli;            //  for output
    gc_entry_t *saved;       //  --last: entries kept to print in order
    char **blocks;           //  their owned strings
    size_t count;            //  how many saved
    size_t capacity;         //  allocated
    uint64_t printed;        //  printed so far
    uint64_t lowest;         //  lowest seq seen in this page
    uint64_t highest;        //  highest seq seen in this page
} s_history_t;

static void
s_history_print (void *arg, const gc_entry_t *entry)
{
    s_history_t *history = (s_history_t *) arg;
    s_print_entry (history->cli, entry);
    history->printed++;
    if (!history->lowest || entry->seq < history->lowest) {
        history->lowest = entry->seq;
    }
    if (entry->seq > history->highest) {
        history->highest = entry->seq;
    }
}

static void
s_history_save (void *arg, const gc_entry_t *entry)
{
    s_history_t *history = (s_history_t *) arg;
    if (history->count == history->capacity) {
        size_t capacity = history->capacity ? history->capacity * 2 : 256;
        gc_entry_t *saved = realloc (history->saved, capacity * sizeof *saved);
        char **blocks = saved ? realloc (history->blocks, capacity * sizeof *blocks) : NULL;
        assert (saved && blocks);
        history->saved = saved;
        history->blocks = blocks;
        history->capacity = capacity;
    }
    size_t glen = strlen (entry->group) + 1, slen = strlen (entry->sender) + 1;
    size_t nlen = strlen (entry->name) + 1;
    char *block = (char *) malloc (glen + slen + nlen + entry->text_len + 1);
    assert (block);
    gc_entry_t *copy = &history->saved[history->count];
    *copy = *entry;
    copy->group = memcpy (block, entry->group, glen);
    copy->sender = memcpy (block + glen, entry->sender, slen);
    copy->name = memcpy (block + glen + slen, entry->name, nlen);
    char *text = block + glen + slen + nlen;
    memcpy (text, entry->text, entry->text_len);
    text[entry->text_len] = '\0';
    copy->text = text;
    history->blocks[history->count++] = block;
    if (!history->lowest || entry->seq < history->lowest) {
        history->lowest = entry->seq;
    }
}

static int
s_cmd_history (s_cli_t *cli)
{
    if (cli->nargs != 2) {
        return s_usage_error (cli, "history needs exactly one GROUP");
    }
    const char *group = cli->args[1];
    gc_query_t query;
    memset (&query, 0, sizeof query);
    char err[256];
    int64_t now = gc_time_now_us ();
    if (cli->since && gc_time_parse (cli->since, now, &query.since_us, err, sizeof err) != 0) {
        return s_usage_error (cli, "invalid --since: %s", err);
    }
    if (cli->until && gc_time_parse (cli->until, now, &query.until_us, err, sizeof err) != 0) {
        return s_usage_error (cli, "invalid --until: %s", err);
    }
    uint64_t last = 0, limit = 0;
    if (s_parse_u64 (cli, "after-seq", cli->after_seq, &query.after_seq) != 0
        || s_parse_u64 (cli, "before-seq", cli->before_seq, &query.before_seq) != 0
        || s_parse_u64 (cli, "last", cli->last, &last) != 0
        || s_parse_u64 (cli, "limit", cli->limit, &limit) != 0) {
        return 2;
    }
    if ((cli->last && last == 0) || (cli->limit && limit == 0)) {
        return s_usage_error (cli, "--last and --limit need a positive count");
    }
    s_history_t history;
    memset (&history, 0, sizeof history);
    history.cli = cli;
    gc_status_t status = GC_OK;
    bool more = true;
    if (cli->last || (cli->before_seq && !cli->after_seq && !cli->since)) {
        //  Newest first, page by page backwards, then printed in order: scrolling up.
        uint64_t want = cli->last ? last : (limit ? limit : UINT64_MAX);
        if (cli->last && limit && limit < want) {
            want = limit;
        }
        //  Page k starts at starts[k]; pages come newest first, each ascending.
        size_t *starts = NULL;
        size_t pages = 0;
        while (more && history.count < want && !zsys_interrupted) {
            uint64_t left = want - history.count;
            query.limit = left > GC_FETCH_MAX ? GC_FETCH_MAX : (uint32_t) left;
            query.newest = true;
            history.lowest = 0;
            size_t before = history.count;
            status = gc_client_fetch (cli->client, group, &query, s_history_save, &history, &more,
                                      NULL);
            if (status != GC_OK || history.count == before) {
                break;
            }
            size_t *grown = realloc (starts, (pages + 1) * sizeof *starts);
            assert (grown);
            starts = grown;
            starts[pages++] = before;
            query.before_seq = history.lowest;
        }
        //  Oldest page first: the whole in ascending order, without sorting.
        for (size_t k = pages; k-- > 0;) {
            size_t end = k + 1 < pages ? starts[k + 1] : history.count;
            for (size_t i = starts[k]; i < end; i++) {
                s_print_entry (cli, &history.saved[i]);
            }
        }
        free (starts);
        for (size_t i = 0; i < history.count; i++) {
            free (history.blocks[i]);
        }
        free (history.saved);
        free (history.blocks);
    }
    else {
        //  Oldest first, page by page forwards.
        while (more && !zsys_interrupted && (!limit || history.printed < limit)) {
            uint64_t left = limit ? limit - history.printed : GC_FETCH_DEFAULT;
            query.limit = left > GC_FETCH_DEFAULT ? GC_FETCH_DEFAULT : (uint32_t) left;
            history.highest = 0;
            status = gc_client_fetch (cli->client, group, &query, s_history_print, &history,
                                      &more, NULL);
            if (status != GC_OK || history.highest == 0) {
                break;
            }
            query.after_seq = history.highest;
        }
    }
    if (status != GC_OK) {
        return s_client_fail (cli, status);
    }
    return 0;
}

static int
s_cmd_members (s_cli_t *cli)
{
    if (cli->nargs != 2) {
        return s_usage_error (cli, "members needs exactly one GROUP");
    }
    const gc_member_t *list = NULL;
    size_t count = 0;
    gc_status_t status = gc_client_members (cli->client, cli->args[1], &list, &count);
    if (status != GC_OK) {
        return s_client_fail (cli, status);
    }
    for (size_t i = 0; i < count; i++) {
        if (cli->json) {
            s_json_key (cli->out, "id", list[i].id, true);
            s_json_key (cli->out, "name", list[i].name, false);
            fprintf (cli->out, ",\"joined_us\":%" PRId64 "}\n", list[i].joined_us);
        }
        else {
            fprintf (cli->out, "%s %s\n", list[i].id, list[i].name);
        }
    }
    return 0;
}

//  "3d 4h 5m", "2h 3m 4s", "5m 6s", "7s".
static void
s_format_duration (int64_t ms, char *buf, size_t size)
{
    int64_t secs = ms > 0 ? ms / 1000 : 0;
    int64_t d = secs / 86400, h = secs / 3600 % 24, m = secs / 60 % 60, sec = secs % 60;
    if (d) {
        snprintf (buf, size, "%" PRId64 "d %" PRId64 "h %" PRId64 "m", d, h, m);
    }
    else if (h) {
        snprintf (buf, size, "%" PRId64 "h %" PRId64 "m %" PRId64 "s", h, m, sec);
    }
    else if (m) {
        snprintf (buf, size, "%" PRId64 "m %" PRId64 "s", m, sec);
    }
    else {
        snprintf (buf, size, "%" PRId64 "s", sec);
    }
}

//  "512 B", "4.2 KiB", "3.0 MiB", ...
static void
s_format_bytes (uint64_t bytes, char *buf, size_t size)
{
    static const char *units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    double value = (double) bytes;
    size_t unit = 0;
    while (value >= 1024 && unit < 4) {
        value /= 1024;
        unit++;
    }
    if (unit == 0) {
        snprintf (buf, size, "%" PRIu64 " B", bytes);
    }
    else {
        snprintf (buf, size, "%.1f %s", value, units[unit]);
    }
}

//  Prints one group's figures; registry_groups < 0 when the registry did not answer.
static void
s_print_stats (s_cli_t *cli, const char *group, const gc_stats_t *stats,
               int64_t registry_groups)
{
    FILE *out = cli->out;
    if (cli->json) {
        s_json_key (out, "group", group, true);
        fprintf (out,
                 ",\"members\":%" PRIu64 ",\"messages\":%" PRIu64 ",\"bytes\":%" PRIu64
                 ",\"rate\":%.3f,\"subscribers\":%" PRIu64 ",\"uptime_s\":%" PRId64
                 ",\"started_us\":%" PRId64 ",\"entries\":%" PRIu64 ",\"first_seq\":%" PRIu64
                 ",\"last_seq\":%" PRIu64,
                 stats->members, stats->messages, stats->bytes, stats->rate, stats->subscribers,
                 stats->uptime_ms / 1000, stats->started_us, stats->entries, stats->first_seq,
                 stats->last_seq);
        if (registry_groups >= 0) {
            fprintf (out, ",\"registry_groups\":%" PRId64, registry_groups);
        }
        fputs ("}\n", out);
        return;
    }
    char uptime[64], size[32], started[GC_TIME_LOCAL_SIZE];
    s_format_duration (stats->uptime_ms, uptime, sizeof uptime);
    s_format_bytes (stats->bytes, size, sizeof size);
    gc_time_format_local (stats->started_us, gc_time_now_us (), started);
    const char *bold = cli->color ? "\033[1m" : "";
    const char *reset = cli->color ? "\033[0m" : "";
    fprintf (out, "%s%s%s\n", bold, group, reset);
    fprintf (out, "  members      %" PRIu64 "\n", stats->members);
    fprintf (out, "  subscribers  %" PRIu64 "\n", stats->subscribers);
    fprintf (out, "  messages     %" PRIu64 " since start, %.1f per second now\n",
             stats->messages, stats->rate);
    if (stats->bytes < 1024) {
        fprintf (out, "  bytes        %s since start\n", size);
    }
    else {
        fprintf (out, "  bytes        %" PRIu64 " (%s) since start\n", stats->bytes, size);
    }
    if (stats->entries) {
        fprintf (out, "  history      %" PRIu64 " entr%s, #%" PRIu64 " to #%" PRIu64 "\n",
                 stats->entries, stats->entries == 1 ? "y" : "ies", stats->first_seq,
                 stats->last_seq);
    }
    else {
        fprintf (out, "  history      empty\n");
    }
    fprintf (out, "  uptime       %s (started %s)\n", uptime, started);
}

static int
s_cmd_stats (s_cli_t *cli)
{
    if (cli->nargs > 2) {
        return s_usage_error (cli, "stats takes at most one GROUP");
    }
    //  The registry's count first: a group's stats request may re-resolve through it.
    const gc_group_info_t *list = NULL;
    size_t count = 0;
    int64_t registry_groups = -1;
    char registry_error[1024] = "";
    gc_status_t status = gc_client_groups (cli->client, &list, &count);
    if (status == GC_OK) {
        registry_groups = (int64_t) count;
    }
    else {
        const char *detail = gc_client_error (cli->client);
        snprintf (registry_error, sizeof registry_error, "%s",
                  detail[0] ? detail : gc_status_str (status));
    }
    const char *groups[256];
    int ngroups = 0;
    if (cli->nargs == 2) {
        groups[ngroups++] = cli->args[1];
    }
    else {
        size_t joined = gc_identity_group_count (cli->identity);
        for (size_t i = 0; i < joined && ngroups < 256; i++) {
            groups[ngroups++] = gc_identity_group (cli->identity, i)->name;
        }
    }
    int rc = 0;
    for (int i = 0; i < ngroups; i++) {
        gc_stats_t stats;
        status = gc_client_stats (cli->client, groups[i], &stats);
        if (status != GC_OK) {
            rc = s_client_fail (cli, status);
            continue;
        }
        char name[GC_MAX_NAME + 1];
        snprintf (name, sizeof name, "%.*s", (int) strcspn (groups[i], "@"), groups[i]);
        s_print_stats (cli, name, &stats, registry_groups);
    }
    if (registry_groups < 0) {
        rc = s_fail (cli, "%s", registry_error);
    }
    else if (cli->json && ngroups == 0) {
        fprintf (cli->out, "{\"registry_groups\":%" PRId64 "}\n", registry_groups);
    }
    else if (!cli->json) {
        fprintf (cli->out, "registry %s: %" PRId64 " group%s\n", cli->client->server,
                 registry_groups, registry_groups == 1 ? "" : "s");
    }
    return rc;
}

static void
s_on_notice (void *arg, const char *group, const char *text)
{
    s_cli_t *cli = (s_cli_t *) arg;
    fprintf (cli->err, "groupcast: %s: %s\n", group, text);
    fflush (cli->err);
}

//  Subscribes to every named group (all joined ones when none), from the point the options ask.
static int
s_subscribe (s_cli_t *cli, gc_sub_t *sub, const char *const *groups, int count)
{
    const char *joined[256];
    if (count == 0) {
        size_t n = gc_identity_group_count (cli->identity);
        for (size_t i = 0; i < n && i < 256; i++) {
            joined[i] = gc_identity_group (cli->identity, i)->name;
        }
        groups = joined;
        count = (int) (n < 256 ? n : 256);
        if (count == 0) {
            return s_fail (cli, "no groups to listen to: join one or name it");
        }
    }
    int64_t since_us = 0;
    char err[256];
    if (cli->since && gc_time_parse (cli->since, gc_time_now_us (), &since_us, err, sizeof err)) {
        return s_usage_error (cli, "invalid --since: %s", err);
    }
    uint64_t after_seq = 0;
    if (s_parse_u64 (cli, "after-seq", cli->after_seq, &after_seq) != 0) {
        return 2;
    }
    for (int i = 0; i < count; i++) {
        uint64_t from = UINT64_MAX;
        if (cli->after_seq) {
            from = after_seq;
        }
        else if (cli->resume) {
            char name[GC_MAX_NAME + 1];
            snprintf (name, sizeof name, "%.*s", (int) strcspn (groups[i], "@"), groups[i]);
            from = gc_identity_cursor (cli->identity, name);
        }
        else if (cli->since && since_us > 0) {
            //  Everything after the newest entry older than the time: timestamps never go down
            //  along seq, so that is exactly what was stamped since, also what is sent while
            //  we subscribe (asking for the first entry since the time would lose those).
            gc_query_t query;
            memset (&query, 0, sizeof query);
            query.until_us = since_us;
            query.newest = true;
            query.limit = 1;
            s_history_t last;
            memset (&last, 0, sizeof last);
            last.cli = cli;
            gc_status_t status = gc_client_fetch (cli->client, groups[i], &query, s_history_save,
                                                  &last, NULL, NULL);
            if (status != GC_OK) {
                return s_client_fail (cli, status);
            }
            from = last.count ? last.saved[0].seq : 0;
            for (size_t k = 0; k < last.count; k++) {
                free (last.blocks[k]);
            }
            free (last.saved);
            free (last.blocks);
        }
        else if (cli->since) {
            from = 0;
        }
        gc_status_t status = gc_sub_add (sub, groups[i], from);
        if (status != GC_OK) {
            return s_fail (cli, "cannot listen to '%s': %s", groups[i], gc_sub_error (sub));
        }
    }
    return 0;
}

static void
s_save_cursors (s_cli_t *cli, gc_sub_t *sub)
{
    size_t n = gc_identity_group_count (cli->identity);
    for (size_t i = 0; i < n; i++) {
        const char *name = gc_identity_group (cli->identity, i)->name;
        uint64_t seq = gc_sub_last_seq (sub, name);
        if (seq > gc_identity_cursor (cli->identity, name)) {
            char err[256];
            if (gc_identity_set_cursor (cli->identity, name, seq, err, sizeof err) != 0) {
                s_fail (cli, "%s", err);
            }
        }
    }
}

static int
s_cmd_listen (s_cli_t *cli)
{
    gc_sub_t *sub = gc_sub_new (cli->client);
    if (!sub) {
        return s_fail (cli, "out of memory");
    }
    gc_sub_set_notice_handler (sub, s_on_notice, cli);
    int rc = s_subscribe (cli, sub, cli->args + 1, cli->nargs - 1);
    if (rc == 0) {
        //  On stderr even with --json: scripts and tests wait for it before sending.
        fprintf (cli->err, "groupcast: listening; Ctrl-C to stop\n");
        fflush (cli->err);
    }
    //  Test knob: a reader this slow per entry, to exercise catching up from history.
    const char *delay_env = getenv ("GROUPCAST_LISTEN_DELAY_MS");
    int delay_ms = delay_env ? atoi (delay_env) : 0;
    if (delay_ms < 0 || delay_ms > 60000) {
        delay_ms = 0;
    }
    int64_t next_save = zclock_mono () + 1000;
    while (rc == 0 && !zsys_interrupted) {
        const gc_entry_t *entry = NULL;
        gc_status_t status = gc_sub_recv (sub, 1000, &entry);
        if (status == GC_OK) {
            s_print_entry (cli, entry);
            if (delay_ms > 0) {
                zclock_sleep (delay_ms);
            }
        }
        else if (status != GC_TIMEOUT) {
            rc = s_fail (cli, "%s", gc_sub_error (sub));
        }
        if (zclock_mono () >= next_save) {
            s_save_cursors (cli, sub);
            next_save = zclock_mono () + 1000;
        }
    }
    if (rc != 2) {
        s_save_cursors (cli, sub);
    }
    gc_sub_destroy (&sub);
    return rc;
}

static int
s_cmd_whoami (s_cli_t *cli)
{
    const char *home = gc_identity_home (cli->identity);
    if (cli->json) {
        s_json_key (cli->out, "id", gc_identity_id (cli->identity), true);
        s_json_key (cli->out, "name", gc_identity_name (cli->identity), false);
        s_json_key (cli->out, "home", home ? home : "", false);
        fputs ("}\n", cli->out);
    }
    else {
        fprintf (cli->out, "%s %s %s\n", gc_identity_id (cli->identity),
                 gc_identity_name (cli->identity), home ? home : "-");
    }
    return 0;
}

//  --------------------------------------------------------------------------------------------
//  Shell

static const char *s_shell_help =
    "Type a message and press Enter to send it to the current group. Commands:\n"
    "  /list                 registered groups        /join GROUP    join and switch to it\n"
    "  /leave [GROUP]        leave a group            /switch GROUP  send to GROUP from now\n"
    "  /history [N]          the last N messages      /members       who is in the group\n"
    "  /stats [GROUP]        the group's figures      /help          this text\n"
    "  /quit                 leave the shell (or Ctrl-D)\n"
    "On a terminal, Tab completes commands and group names; Up and Down walk the history.\n";

//  The shell's commands, for /help and completion.
static const char *s_shell_commands[] = {"/list",    "/join",    "/leave", "/switch", "/history",
                                         "/members", "/stats",   "/help",  "/quit",   NULL};

//  Runs one shell command line (without the leading '/'). Returns false to quit.
static bool
s_shell_command (s_cli_t *cli, gc_sub_t *sub, char *line, char *current, size_t current_size)
{
    char *save = NULL;
    char *cmd = strtok_r (line, " \t", &save);
    char *arg = strtok_r (NULL, " \t", &save);
    if (!cmd) {
        return true;
    }
    const char *argv1[3] = {cmd, arg, NULL};
    cli->nargs = arg ? 2 : 1;
    cli->args[0] = argv1[0];
    cli->args[1] = argv1[1];
    if (streq (cmd, "quit") || streq (cmd, "exit")) {
        return false;
    }
    if (streq (cmd, "help")) {
        fputs (s_shell_help, cli->out);
    }
    else if (streq (cmd, "list") || streq (cmd, "groups")) {
        cli->nargs = 1;
        s_cmd_groups (cli);
    }
    else if (streq (cmd, "join") && arg) {
        gc_ack_t ack = {0, 0, 0};
        gc_status_t status = gc_client_join (cli->client, arg, &ack);
        if (status != GC_OK) {
            s_client_fail (cli, status);
        }
        else {
            snprintf (current, current_size, "%.*s", (int) strcspn (arg, "@"), arg);
            fprintf (cli->out, "joined %s\n", current);
            //  From the join on (the ack's seq), so the user sees their own join and nothing
            //  sent after it is missed.
            uint64_t after = ack.seq ? ack.seq - 1 : ack.last_seq;
            if (gc_sub_add (sub, current, after) != GC_OK) {
                s_fail (cli, "cannot listen to '%s': %s", current, gc_sub_error (sub));
            }
        }
    }
    else if (streq (cmd, "leave")) {
        cli->args[1] = arg ? arg : current;
        cli->nargs = 2;
        if (cli->args[1][0] && s_cmd_join_leave (cli, false) == 0
            && streq (cli->args[1], current)) {
            //  Talk in another joined group, if any is left.
            const gc_group_info_t *next = gc_identity_group_count (cli->identity)
                                              ? gc_identity_group (cli->identity, 0)
                                              : NULL;
            snprintf (current, current_size, "%s", next ? next->name : "");
        }
    }
    else if (streq (cmd, "switch") && arg) {
        if (!gc_identity_find (cli->identity, arg)) {
            s_fail (cli, "not a member of '%s': /join it first", arg);
        }
        else {
            snprintf (current, current_size, "%s", arg);
        }
    }
    else if (streq (cmd, "stats")) {
        cli->args[1] = arg ? arg : current;
        cli->nargs = cli->args[1][0] ? 2 : 1;
        s_cmd_stats (cli);
    }
    else if (streq (cmd, "history") || streq (cmd, "members")) {
        if (!current[0]) {
            s_fail (cli, "no current group: /join or /switch first");
        }
        else {
            cli->args[1] = current;
            cli->nargs = 2;
            cli->last = streq (cmd, "history") ? (arg ? arg : "20") : NULL;
            if (streq (cmd, "history")) {
                s_cmd_history (cli);
            }
            else {
                s_cmd_members (cli);
            }
            cli->last = NULL;
        }
    }
    else {
        s_fail (cli, "unknown command '/%s': /help lists them", cmd);
    }
    return true;
}

//  Handles one line typed in the shell (NUL-terminated, len bytes, changed in place): a /command
//  or a message to the current group. Returns false to quit.
static bool
s_shell_line (s_cli_t *cli, gc_sub_t *sub, char *line, size_t len, char *current,
              size_t current_size)
{
    if (len == 0) {
        return true;
    }
    if (line[0] == '/') {
        return s_shell_command (cli, sub, line + 1, current, current_size);
    }
    if (!current[0]) {
        s_fail (cli, "no current group: /join GROUP first");
        return true;
    }
    gc_ack_t ack;
    gc_status_t status = gc_client_send (cli->client, current, line, len, &ack);
    if (status != GC_OK) {
        s_client_fail (cli, status);
    }
    return true;
}

//  The shell on a terminal: libedit's readline interface in callback mode, so that one poll
//  loop watches the keyboard and the subscription, and live messages are printed above the
//  line being typed without breaking it.
typedef struct {
    s_cli_t *cli;                        //  borrowed
    gc_sub_t *sub;                       //  borrowed
    char *current;                       //  the current group (the caller's buffer)
    size_t current_size;                 //  its size
    bool running;                        //  false after /quit or Ctrl-D
    char prompt[GC_MAX_NAME + 4];        //  "<group>> "
    char **names;                        //  the registry's group names, owned
    size_t name_count;                   //  how many
    int64_t names_at;                    //  when they were fetched (monotonic ms), 0: never
    size_t complete_index;               //  the completion generator's position
    char candidates[512][GC_MAX_NAME + 1];  //  group names the generator offers
    size_t candidate_count;              //  how many
} s_tty_t;

//  libedit's callbacks take no argument: they reach the running shell through this pointer,
//  which s_shell_tty sets for its duration only.
static s_tty_t *s_tty = NULL;

static void
s_tty_set_prompt (s_tty_t *tty)
{
    snprintf (tty->prompt, sizeof tty->prompt, "%s> ", tty->current);
    rl_set_prompt (tty->prompt);
}

//  Called by libedit with each line entered (owned), or NULL at Ctrl-D on an empty line.
static void
s_tty_on_line (char *line)
{
    s_tty_t *tty = s_tty;
    if (!line) {
        fputc ('\n', tty->cli->out);
        tty->running = false;
        return;
    }
    if (*line) {
        add_history (line);
    }
    tty->running = s_shell_line (tty->cli, tty->sub, line, strlen (line), tty->current,
                                 tty->current_size);
    fflush (tty->cli->out);
    free (line);
    if (tty->running) {
        //  libedit leaves callback mode once it hands over a line: enter it again, which also
        //  clears the line and shows the prompt (for the group now current).
        s_tty_set_prompt (tty);
        rl_callback_handler_install (tty->prompt, s_tty_on_line);
    }
}

//  Clears the line being typed (the prompt and the input on the cursor's row) before printing.
static void
s_tty_clear (s_tty_t *tty)
{
    fputs ("\r\033[K", tty->cli->out);
}

static void
s_tty_on_notice (void *arg, const char *group, const char *text)
{
    s_tty_t *tty = (s_tty_t *) arg;
    s_tty_clear (tty);
    fflush (tty->cli->out);
    s_on_notice (tty->cli, group, text);
    rl_forced_update_display ();
}

//  Prints whatever live entries are waiting above the input line, then redraws it.
static void
s_tty_print_entries (s_tty_t *tty)
{
    const gc_entry_t *entry = NULL;
    bool printed = false;
    while (gc_sub_recv (tty->sub, 0, &entry) == GC_OK) {
        if (!printed) {
            s_tty_clear (tty);
            printed = true;
        }
        s_print_entry (tty->cli, entry);
    }
    if (printed) {
        rl_forced_update_display ();
    }
}

static void
s_tty_names_free (s_tty_t *tty)
{
    for (size_t i = 0; i < tty->name_count; i++) {
        free (tty->names[i]);
    }
    free (tty->names);
    tty->names = NULL;
    tty->name_count = 0;
}

//  Gathers the group names completion offers: the joined groups, and the registry's list
//  (fetched again when older than ten seconds, waiting at most a second for it).
static void
s_tty_gather_names (s_tty_t *tty)
{
    s_cli_t *cli = tty->cli;
    int64_t now = zclock_mono ();
    if (!tty->names_at || now - tty->names_at > 10000) {
        const gc_group_info_t *list = NULL;
        size_t count = 0;
        gc_client_set_timeout (cli->client, cli->timeout_ms < 1000 ? cli->timeout_ms : 1000);
        if (gc_client_groups (cli->client, &list, &count) == GC_OK) {
            s_tty_names_free (tty);
            tty->names = (char **) calloc (count ? count : 1, sizeof (char *));
            for (size_t i = 0; tty->names && i < count; i++) {
                tty->names[i] = strdup (list[i].name);
                tty->name_count += tty->names[i] != NULL;
            }
        }
        gc_client_set_timeout (cli->client, cli->timeout_ms);
        tty->names_at = now;
    }
    tty->candidate_count = 0;
    size_t joined = gc_identity_group_count (cli->identity);
    size_t total = joined + tty->name_count;
    for (size_t i = 0; i < total && tty->candidate_count < 512; i++) {
        const char *name = i < joined ? gc_identity_group (cli->identity, i)->name
                                      : tty->names[i - joined];
        bool seen = false;
        for (size_t k = 0; k < tty->candidate_count && !seen; k++) {
            seen = streq (tty->candidates[k], name);
        }
        if (!seen) {
            snprintf (tty->candidates[tty->candidate_count++], GC_MAX_NAME + 1, "%s", name);
        }
    }
}

//  libedit's generators: called with state 0 first, then again until they return NULL; each
//  match is an owned string.
static char *
s_tty_complete_command (const char *text, int state)
{
    if (state == 0) {
        s_tty->complete_index = 0;
    }
    while (s_shell_commands[s_tty->complete_index]) {
        const char *command = s_shell_commands[s_tty->complete_index++];
        if (strncmp (command, text, strlen (text)) == 0) {
            return strdup (command);
        }
    }
    return NULL;
}

static char *
s_tty_complete_group (const char *text, int state)
{
    if (state == 0) {
        s_tty->complete_index = 0;
        s_tty_gather_names (s_tty);
    }
    while (s_tty->complete_index < s_tty->candidate_count) {
        const char *name = s_tty->candidates[s_tty->complete_index++];
        if (strncmp (name, text, strlen (text)) == 0) {
            return strdup (name);
        }
    }
    return NULL;
}

//  Completes a /command at the start of the line, and a group name as the first argument of
//  the commands that take one. Nothing else (no file names).
static char **
s_tty_complete (const char *text, int start, int end)
{
    (void) end;
    rl_attempted_completion_over = 1;
    if (start == 0 && text[0] == '/') {
        return rl_completion_matches (text, s_tty_complete_command);
    }
    const char *buffer = rl_line_buffer;
    if (start == 0 || buffer[0] != '/') {
        return NULL;
    }
    size_t command_len = strcspn (buffer + 1, " \t");
    size_t arg_at = 1 + command_len + strspn (buffer + 1 + command_len, " \t");
    static const char *takes_group[] = {"join", "leave", "switch", "stats", NULL};
    for (int i = 0; takes_group[i]; i++) {
        if (strlen (takes_group[i]) == command_len
            && strncmp (buffer + 1, takes_group[i], command_len) == 0
            && arg_at == (size_t) start) {
            return rl_completion_matches (text, s_tty_complete_group);
        }
    }
    return NULL;
}

static void
s_shell_tty (s_cli_t *cli, gc_sub_t *sub, char *current, size_t current_size)
{
    s_tty_t *tty = (s_tty_t *) calloc (1, sizeof (s_tty_t));
    if (!tty) {
        s_fail (cli, "out of memory");
        return;
    }
    tty->cli = cli;
    tty->sub = sub;
    tty->current = current;
    tty->current_size = current_size;
    tty->running = true;
    s_tty = tty;
    //  History lives in the state directory (not for an identity without one).
    const char *home = gc_identity_home (cli->identity);
    char *history = home ? zsys_sprintf ("%s/shell_history", home) : NULL;
    rl_readline_name = "groupcast";
    rl_catch_signals = 0;   //  czmq's handler ends the loop on Ctrl-C
    rl_attempted_completion_function = s_tty_complete;
    using_history ();
    stifle_history (1000);
    if (history) {
        read_history (history);
    }
    gc_sub_set_notice_handler (sub, s_tty_on_notice, tty);
    s_tty_set_prompt (tty);
    rl_callback_handler_install (tty->prompt, s_tty_on_line);
    while (tty->running && !zsys_interrupted) {
        struct pollfd fds[2] = {{STDIN_FILENO, POLLIN, 0}, {gc_sub_fd (sub), POLLIN, 0}};
        //  The timeout lets the subscription check on silent groups.
        int rc = poll (fds, 2, 1000);
        if (rc < 0 && errno != EINTR) {
            s_fail (cli, "cannot wait for input: %s", strerror (errno));
            break;
        }
        if (rc > 0 && (fds[0].revents & (POLLHUP | POLLERR | POLLNVAL))) {
            //  The terminal hung up: take what it still holds, then stop (libedit would
            //  return nothing, and poll wake us, forever).
            int pending = 0;
            if (ioctl (STDIN_FILENO, FIONREAD, &pending) != 0 || pending <= 0) {
                break;
            }
        }
        if (rc > 0 && (fds[0].revents & (POLLIN | POLLHUP | POLLERR))) {
            rl_callback_read_char ();
        }
        if (tty->running && !zsys_interrupted) {
            s_tty_print_entries (tty);
        }
    }
    rl_callback_handler_remove ();
    if (zsys_interrupted) {
        fputc ('\n', cli->out);
    }
    if (history && write_history (history) != 0) {
        s_fail (cli, "cannot save the shell history in '%s'", history);
    }
    zstr_free (&history);
    clear_history ();
    gc_sub_set_notice_handler (sub, s_on_notice, cli);
    s_tty_names_free (tty);
    s_tty = NULL;
    free (tty);
}

static int
s_cmd_shell (s_cli_t *cli)
{
    gc_sub_t *sub = gc_sub_new (cli->client);
    if (!sub) {
        return s_fail (cli, "out of memory");
    }
    gc_sub_set_notice_handler (sub, s_on_notice, cli);
    char current[GC_MAX_NAME + 1] = "";
    size_t joined = gc_identity_group_count (cli->identity);
    for (size_t i = 0; i < joined; i++) {
        const char *name = gc_identity_group (cli->identity, i)->name;
        if (gc_sub_add (sub, name, UINT64_MAX) != GC_OK) {
            s_fail (cli, "cannot listen to '%s': %s", name, gc_sub_error (sub));
        }
        else if (!current[0]) {
            snprintf (current, sizeof current, "%s", name);
        }
    }
    bool tty = isatty (STDIN_FILENO);
    if (tty) {
        fprintf (cli->out, "groupcast shell as %s%s%s; /help for commands\n",
                 gc_identity_name (cli->identity)[0] ? gc_identity_name (cli->identity)
                                                     : gc_identity_id (cli->identity),
                 current[0] ? ", talking in " : "", current);
    }
    if (tty && isatty (fileno (cli->out))) {
        s_shell_tty (cli, sub, current, sizeof current);
        gc_sub_destroy (&sub);
        return 0;
    }
    //  Not a terminal: line by line from standard input.
    char *line = NULL;
    size_t capacity = 0;
    bool running = true;
    while (running && !zsys_interrupted) {
        if (tty) {
            fprintf (cli->out, "%s> ", current);
            fflush (cli->out);
        }
        //  Wait for a typed line, printing live entries meanwhile.
        bool have_line = false;
        while (!have_line && !zsys_interrupted) {
            struct pollfd fds[1] = {{STDIN_FILENO, POLLIN, 0}};
            int rc = poll (fds, 1, 50);
            if (rc > 0) {
                have_line = true;
                break;
            }
            const gc_entry_t *entry = NULL;
            while (gc_sub_recv (sub, 0, &entry) == GC_OK) {
                if (tty) {
                    fputs ("\r", cli->out);
                }
                s_print_entry (cli, entry);
                if (tty) {
                    fprintf (cli->out, "%s> ", current);
                    fflush (cli->out);
                }
            }
        }
        if (!have_line) {
            break;
        }
        ssize_t len = getline (&line, &capacity, stdin);
        if (len < 0) {
            break;
        }
        if (len > 0 && line[len - 1] == '\n') {
            line[--len] = '\0';
        }
        running = s_shell_line (cli, sub, line, (size_t) len, current, sizeof current);
    }
    free (line);
    //  Show what arrived while the last line was handled.
    const gc_entry_t *entry = NULL;
    while (gc_sub_recv (sub, 200, &entry) == GC_OK) {
        s_print_entry (cli, entry);
    }
    gc_sub_destroy (&sub);
    return 0;
}

//  --------------------------------------------------------------------------------------------

int
gc_cli_main (int argc, char **argv, FILE *out, FILE *err)
{
    s_cli_t cli;
    memset (&cli, 0, sizeof cli);
    cli.out = out;
    cli.err = err;
    cli.timeout_ms = 3000;
    //  https://no-color.org: a NO_COLOR that is set and not empty turns colours off.
    const char *no_color = getenv ("NO_COLOR");
    cli.color = isatty (fileno (out)) && !(no_color && *no_color);
    int rc = s_parse (&cli, argc, argv);
    if (rc != 0) {
        return rc;
    }
    if (cli.help) {
        fputs (s_usage_text, out);
        return 0;
    }
    if (cli.version) {
        fprintf (out, "groupcast %s\n", GROUPCAST_VERSION);
        return 0;
    }
    const char *command = cli.nargs ? cli.args[0] : "shell";
    if (!cli.nargs) {
        cli.args[cli.nargs++] = command;
    }
    static const char *commands[] = {"groups",  "join",   "leave", "send",   "history",
                                     "members", "listen", "shell", "whoami", "stats",
                                     NULL};
    const char **known = commands;
    while (*known && !streq (*known, command)) {
        known++;
    }
    if (!*known) {
        return s_usage_error (&cli, "unknown command '%s'", command);
    }
    rc = s_setup (&cli);
    if (rc == 0) {
        if (streq (command, "groups")) {
            rc = s_cmd_groups (&cli);
        }
        else if (streq (command, "join")) {
            rc = s_cmd_join_leave (&cli, true);
        }
        else if (streq (command, "leave")) {
            rc = s_cmd_join_leave (&cli, false);
        }
        else if (streq (command, "send")) {
            rc = s_cmd_send (&cli);
        }
        else if (streq (command, "history")) {
            rc = s_cmd_history (&cli);
        }
        else if (streq (command, "members")) {
            rc = s_cmd_members (&cli);
        }
        else if (streq (command, "listen")) {
            rc = s_cmd_listen (&cli);
        }
        else if (streq (command, "whoami")) {
            rc = s_cmd_whoami (&cli);
        }
        else if (streq (command, "stats")) {
            rc = s_cmd_stats (&cli);
        }
        else {
            rc = s_cmd_shell (&cli);
        }
    }
    gc_client_destroy (&cli.client);
    gc_identity_destroy (&cli.identity);
    return rc;
}
