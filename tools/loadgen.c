/*  groupcast-loadgen - how fast groupcast is, measured on the real binaries
    SPDX-License-Identifier: MPL-2.0

    Starts its own registry and groups on 127.0.0.1 (or uses a running registry with --server),
    then runs S senders and L listeners as threads of this process, each a real libgroupcast
    client with its own identity: senders use gc_client_send_async with a window, listeners a
    gc_sub. Every message carries a 24-byte header (run id, sender, per-sender counter, send
    time on CLOCK_MONOTONIC) so listeners measure send->delivery latency on the same clock and
    check that nothing was lost, duplicated or reordered. Reports what nats bench reports, plus
    latency percentiles from log-linear histograms; --baseline measures bare libzmq PUB/SUB and
    DEALER/ROUTER with the same sizes and fan-out in the same run.

    Threads, not zactors: a worker only reads the run's phase and bumps its own counters, and
    the coordinator never waits on one particular worker; a pipe per worker would cost two more
    sockets each (a thousand listeners already need two thousand) for nothing the atomics do not
    already give.

    Processes are started and stopped with tests/lib/gc_proc (compiled into this tool), the
    same code the integration tests use: output captured to files in the run's temp directory,
    every wait with a deadline, only our own pids signalled and reaped.

    Every loop is bounded by a count, a deadline or the run's phase, which SIGINT/SIGTERM
    (czmq's zsys_interrupted) moves to the end.
*/
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <czmq.h>

#include "gc_proc.h"
#include "gc_time.h"
#include "gc_wire.h"
#include "groupcast.h"

#define S_HEADER_SIZE     24       //  run id 4, sender 4, counter 8, send time 8
#define S_MAX_GROUPS      1000
#define S_MAX_WORKERS     5000
#define S_SETUP_TIMEOUT   60000    //  ms a request may take while setting up (joins queue up)
#define S_STACK_SIZE      (512 * 1024)

//  ---------------------------------------------------------------------------------------------
//  Options

typedef struct {
    const char *server;      //  --server: a running registry; NULL starts our own
    const char *bin_dir;     //  --bin-dir: where groupcast-server and groupcast-group are
    const char *prefix;      //  --prefix: group names
    int senders;             //  --senders
    int listeners;           //  --listeners
    int groups;              //  --groups
    size_t size;             //  --size: bytes per message
    double rate;             //  --rate: messages per second over all senders (0: full speed)
    uint64_t count;          //  --count: messages over all senders (0: --duration)
    int64_t duration_us;     //  --duration
    size_t window;           //  --window: sends in flight per sender
    bool spread;             //  --spread: listener i subscribes to group i mod G only
    bool memory;             //  --memory: groups keep history in memory
    const char *sync;        //  --sync full|normal
    int timeout_ms;          //  --timeout: per request while sending
    int drain_ms;            //  --drain: how long listeners may stay silent at the end
    bool json;               //  --json
    const char *csv;         //  --csv FILE: latency distribution
    const char *plot;        //  --plot FILE.png
    bool baseline;           //  --baseline
    bool history;            //  --history: read group 1's history page by page at the end
    uint32_t page;           //  --page: entries per history page
    bool quiet;              //  --quiet: no progress line
    bool keep;               //  --keep: keep the temp directory (logs, data)
    int repeat;              //  --repeat: runs, reported with their medians
} s_opts_t;

static void
s_usage (FILE *out)
{
    fprintf (out,
        "usage: groupcast-loadgen [--senders S] [--listeners L] [--groups G] [--size BYTES]\n"
        "                         [--rate MSGS_PER_S] [--count N | --duration D] [--window W]\n"
        "                         [--spread] [--memory] [--sync full|normal] [--baseline]\n"
        "                         [--history [--page N]] [--json] [--csv FILE] [--plot FILE.png]\n"
        "                         [--server ENDPOINT] [--bin-dir DIR] [--prefix NAME]\n"
        "                         [--repeat N] [--quiet] [--keep]\n"
        "\n"
        "Measures groupcast on the real binaries: starts a registry and G groups on 127.0.0.1\n"
        "(data in a temp directory under $TMPDIR), runs S senders and L listeners (threads, each\n"
        "a real libgroupcast client), and reports messages and bytes per second sent,\n"
        "acknowledged and delivered (summed over listeners), latency percentiles from send to\n"
        "acknowledgement and from send to delivery, and messages lost, duplicated or out of\n"
        "order. Exits 0 only when none was lost, duplicated or reordered and every send was\n"
        "acknowledged; 1 otherwise; 2 on a usage error.\n"
        "\n"
        "  --senders S        sending clients (default 1); each sends to every group in turn\n"
        "                     (its share of them with --spread)\n"
        "  --listeners L      listening clients (default 1); each joins and subscribes to every\n"
        "                     group, or to one with --spread\n"
        "  --groups G         groups (default 1), named PREFIX (one) or PREFIX-1 ... PREFIX-G\n"
        "  --size BYTES       message size, %d to %d (default 100)\n"
        "  --rate N           target messages per second over all senders (default: full speed)\n"
        "  --count N          messages over all senders\n"
        "  --duration D       how long to send: 10s, 1m ... (default 5s unless --count)\n"
        "  --window W         sends in flight per sender (default 100)\n"
        "  --spread           listener i subscribes to group i mod G only, and sender j sends\n"
        "                     to groups j, j+S, j+2S ... only\n"
        "  --memory           groups keep history in memory (default: SQLite in the temp dir)\n"
        "  --sync MODE        full (default) or normal, passed to the groups\n"
        "  --timeout MS       request timeout while sending (default 5000)\n"
        "  --drain MS         how long the end waits for missing deliveries (default 5000)\n"
        "  --baseline         also measure bare libzmq PUB/SUB and DEALER/ROUTER, same sizes\n"
        "                     and fan-out, and print groupcast's figures as a ratio of them\n"
        "  --history          then read the first group's whole history page by page\n"
        "  --page N           entries per history page (default %d, at most %d)\n"
        "  --json             print one JSON object instead of the summary\n"
        "  --csv FILE         write the latency distribution (percentile, microseconds)\n"
        "  --plot FILE.png    plot the latency distribution with gnuplot\n"
        "  --server ENDPOINT  use a running registry and its groups instead of starting them\n"
        "  --bin-dir DIR      where groupcast-server and groupcast-group are (default: next to\n"
        "                     this program, else the build tree's)\n"
        "  --prefix NAME      group name prefix (default loadgen)\n"
        "  --repeat N         run N times (each on a fresh system) and report the medians; a\n"
        "                     baseline ratio is taken within each run, then its median\n"
        "  --quiet            no progress line\n"
        "  --keep             keep the temp directory (process logs, databases)\n"
        "\n"
        "examples:\n"
        "  groupcast-loadgen --listeners 10 --duration 10s --baseline\n"
        "  groupcast-loadgen --senders 4 --listeners 0 --window 1000\n"
        "  groupcast-loadgen --listeners 10 --rate 10000 --plot latency.png\n",
        S_HEADER_SIZE, GC_MAX_TEXT, GC_FETCH_DEFAULT, GC_FETCH_MAX);
}

//  Parses a whole number in [min, max]. Returns 0 or -1.
static int
s_parse_u64 (const char *text, uint64_t min, uint64_t max, uint64_t *value)
{
    char *end = NULL;
    errno = 0;
    unsigned long long v = strtoull (text, &end, 10);
    if (!*text || *end || errno || text[0] == '-' || v < min || v > max) {
        return -1;
    }
    *value = v;
    return 0;
}

//  Returns -1 to go on, else the exit status.
static int
s_parse_options (int argc, char **argv, s_opts_t *opts)
{
    memset (opts, 0, sizeof *opts);
    opts->prefix = "loadgen";
    opts->senders = 1;
    opts->listeners = 1;
    opts->groups = 1;
    opts->size = 100;
    opts->window = 100;
    opts->sync = "full";
    opts->timeout_ms = 5000;
    opts->drain_ms = 5000;
    opts->page = GC_FETCH_DEFAULT;
    opts->repeat = 1;
    static const struct option options[] = {
        {"senders", required_argument, NULL, 's'},  {"listeners", required_argument, NULL, 'l'},
        {"groups", required_argument, NULL, 'g'},   {"size", required_argument, NULL, 'z'},
        {"rate", required_argument, NULL, 'r'},     {"count", required_argument, NULL, 'c'},
        {"duration", required_argument, NULL, 'd'}, {"window", required_argument, NULL, 'w'},
        {"spread", no_argument, NULL, 'S'},         {"memory", no_argument, NULL, 'm'},
        {"sync", required_argument, NULL, 'Y'},     {"timeout", required_argument, NULL, 't'},
        {"drain", required_argument, NULL, 'D'},    {"json", no_argument, NULL, 'j'},
        {"csv", required_argument, NULL, 'C'},      {"plot", required_argument, NULL, 'P'},
        {"baseline", no_argument, NULL, 'B'},       {"history", no_argument, NULL, 'H'},
        {"page", required_argument, NULL, 'p'},     {"server", required_argument, NULL, 'e'},
        {"bin-dir", required_argument, NULL, 'b'},  {"prefix", required_argument, NULL, 'x'},
        {"quiet", no_argument, NULL, 'q'},          {"keep", no_argument, NULL, 'k'},
        {"repeat", required_argument, NULL, 'n'},   {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0}};
    int opt;
    uint64_t value = 0;
    char err[256];
    const char *bad = NULL;
    while ((opt = getopt_long (argc, argv, "hq", options, NULL)) != -1) {
        switch (opt) {
        case 's':
            bad = s_parse_u64 (optarg, 0, 1000, &value) ? "--senders (0-1000)" : NULL;
            opts->senders = (int) value;
            break;
        case 'l':
            bad = s_parse_u64 (optarg, 0, 4000, &value) ? "--listeners (0-4000)" : NULL;
            opts->listeners = (int) value;
            break;
        case 'g':
            bad = s_parse_u64 (optarg, 1, S_MAX_GROUPS, &value) ? "--groups (1-1000)" : NULL;
            opts->groups = (int) value;
            break;
        case 'z':
            bad = s_parse_u64 (optarg, S_HEADER_SIZE, GC_MAX_TEXT, &value) ? "--size" : NULL;
            opts->size = (size_t) value;
            break;
        case 'r':
            bad = s_parse_u64 (optarg, 1, 100000000, &value) ? "--rate" : NULL;
            opts->rate = (double) value;
            break;
        case 'c':
            bad = s_parse_u64 (optarg, 1, UINT64_C (1) << 40, &value) ? "--count" : NULL;
            opts->count = value;
            break;
        case 'd':
            if (gc_time_parse_duration (optarg, &opts->duration_us, err, sizeof err) != 0) {
                fprintf (stderr, "groupcast-loadgen: invalid --duration: %s\n", err);
                return 2;
            }
            break;
        case 'w':
            bad = s_parse_u64 (optarg, 1, 100000, &value) ? "--window (1-100000)" : NULL;
            opts->window = (size_t) value;
            break;
        case 'S':
            opts->spread = true;
            break;
        case 'm':
            opts->memory = true;
            break;
        case 'Y':
            bad = streq (optarg, "full") || streq (optarg, "normal") ? NULL : "--sync";
            opts->sync = optarg;
            break;
        case 't':
            bad = s_parse_u64 (optarg, 10, 600000, &value) ? "--timeout" : NULL;
            opts->timeout_ms = (int) value;
            break;
        case 'D':
            bad = s_parse_u64 (optarg, 100, 600000, &value) ? "--drain" : NULL;
            opts->drain_ms = (int) value;
            break;
        case 'j':
            opts->json = true;
            break;
        case 'C':
            opts->csv = optarg;
            break;
        case 'P':
            opts->plot = optarg;
            break;
        case 'B':
            opts->baseline = true;
            break;
        case 'H':
            opts->history = true;
            break;
        case 'p':
            bad = s_parse_u64 (optarg, 1, GC_FETCH_MAX, &value) ? "--page" : NULL;
            opts->page = (uint32_t) value;
            break;
        case 'e':
            opts->server = optarg;
            break;
        case 'b':
            opts->bin_dir = optarg;
            break;
        case 'x':
            opts->prefix = optarg;
            break;
        case 'q':
            opts->quiet = true;
            break;
        case 'k':
            opts->keep = true;
            break;
        case 'n':
            bad = s_parse_u64 (optarg, 1, 64, &value) ? "--repeat (1-64)" : NULL;
            opts->repeat = (int) value;
            break;
        case 'h':
            s_usage (stdout);
            return 0;
        case 'V':
            printf ("groupcast-loadgen %s\n", GROUPCAST_VERSION);
            return 0;
        default:
            s_usage (stderr);
            return 2;
        }
        if (bad) {
            fprintf (stderr, "groupcast-loadgen: invalid %s '%s'\n", bad, optarg);
            return 2;
        }
    }
    if (optind < argc) {
        fprintf (stderr, "groupcast-loadgen: unexpected argument '%s'\n", argv[optind]);
        return 2;
    }
    if (opts->count && opts->duration_us) {
        fprintf (stderr, "groupcast-loadgen: give --count or --duration, not both\n");
        return 2;
    }
    if (!opts->count && !opts->duration_us) {
        opts->duration_us = 5000000;
    }
    if (!opts->count && (opts->duration_us <= 0 || opts->duration_us > INT64_C (86400000000))) {
        fprintf (stderr, "groupcast-loadgen: --duration must be between 1us and 1d\n");
        return 2;
    }
    if (opts->count && opts->senders == 0) {
        fprintf (stderr, "groupcast-loadgen: --count needs at least one sender\n");
        return 2;
    }
    if ((size_t) opts->senders + (size_t) opts->listeners > S_MAX_WORKERS) {
        fprintf (stderr, "groupcast-loadgen: at most %d senders and listeners\n", S_MAX_WORKERS);
        return 2;
    }
    //  Group names: PREFIX or PREFIX-<G>, each a valid group name.
    char name[GC_MAX_NAME + 16];
    snprintf (name, sizeof name, "%s-%d", opts->prefix, opts->groups);
    if (!gc_wire_valid_group_name (opts->groups == 1 ? opts->prefix : name)) {
        fprintf (stderr, "groupcast-loadgen: invalid --prefix '%s'\n", opts->prefix);
        return 2;
    }
    return -1;
}

//  ---------------------------------------------------------------------------------------------
//  Clock and histogram

static int64_t
s_now_ns (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (int64_t) ts.tv_sec * 1000000000 + ts.tv_nsec;
}

//  A log-linear histogram of nanoseconds, like HdrHistogram with 64 sub-buckets per power of
//  two: values below 128 are exact, larger ones land in a bucket 1/64 of their magnitude wide,
//  reported at its middle (within 0.8%). 3776 buckets cover all of uint64.
#define S_SUB_BITS 6
#define S_SUB      (1 << S_SUB_BITS)
#define S_BUCKETS  (2 * S_SUB + (64 - S_SUB_BITS - 1) * S_SUB)

typedef struct {
    uint64_t counts[S_BUCKETS];  //  values per bucket
    uint64_t count;              //  values recorded
    uint64_t max;                //  the largest, exactly
    double sum;                  //  for the mean
} s_hist_t;

static size_t
s_hist_index (uint64_t value)
{
    if (value < 2 * S_SUB) {
        return (size_t) value;
    }
    int msb = 63 - __builtin_clzll (value);
    int shift = msb - S_SUB_BITS;
    return (size_t) (2 * S_SUB + (msb - S_SUB_BITS - 1) * S_SUB
                     + (int) ((value >> shift) - S_SUB));
}

//  The middle of bucket index.
static uint64_t
s_hist_value (size_t index)
{
    if (index < 2 * S_SUB) {
        return index;
    }
    size_t j = index - 2 * S_SUB;
    int shift = (int) (j / S_SUB) + 1;
    uint64_t lower = (uint64_t) (S_SUB + j % S_SUB) << shift;
    return lower + ((UINT64_C (1) << shift) >> 1);
}

static void
s_hist_add (s_hist_t *self, int64_t value)
{
    uint64_t v = value > 0 ? (uint64_t) value : 0;
    self->counts[s_hist_index (v)]++;
    self->count++;
    self->sum += (double) v;
    if (v > self->max) {
        self->max = v;
    }
}

static void
s_hist_merge (s_hist_t *into, const s_hist_t *from)
{
    for (size_t i = 0; i < S_BUCKETS; i++) {
        into->counts[i] += from->counts[i];
    }
    into->count += from->count;
    into->sum += from->sum;
    if (from->max > into->max) {
        into->max = from->max;
    }
}

//  The value at quantile q (0..1), in nanoseconds; 0 when empty.
static uint64_t
s_hist_quantile (const s_hist_t *self, double q)
{
    if (self->count == 0) {
        return 0;
    }
    uint64_t rank = (uint64_t) ceil (q * (double) self->count);
    if (rank < 1) {
        rank = 1;
    }
    uint64_t seen = 0;
    for (size_t i = 0; i < S_BUCKETS; i++) {
        seen += self->counts[i];
        if (seen >= rank) {
            uint64_t value = s_hist_value (i);
            return value < self->max ? value : self->max;
        }
    }
    return self->max;
}

//  ---------------------------------------------------------------------------------------------
//  The run and its workers

typedef enum {
    S_SETUP,     //  workers join and subscribe
    S_GO,        //  senders send
    S_DRAIN,     //  senders are done; listeners take what is still coming
    S_DONE       //  everyone stops
} s_phase_t;

typedef struct s_run s_run_t;

typedef struct {
    uint64_t tag;    //  the send's tag
    int64_t ts_ns;   //  when it was handed to the client
    int group;       //  group index
} s_slot_t;

typedef struct {
    s_run_t *run;                 //  shared
    int index;                    //  among senders or among listeners
    bool is_sender;               //  sender or listener
    pthread_t thread;             //  its thread
    bool started;                 //  thread was created
    atomic_int state;             //  0 setting up, 1 ready, 2 live/done sending, -1 failed
    char error[512];              //  why it failed
    s_hist_t hist;                //  send->ack (sender) or send->delivery (listener) latency
    _Atomic uint64_t sent;        //  sender: messages handed to the client
    _Atomic uint64_t acked;       //  sender: acknowledged
    _Atomic uint64_t failed;      //  sender: failed (timeout, refused)
    _Atomic uint64_t received;    //  listener: messages of this run delivered
    uint64_t *acked_per_group;    //  sender: acknowledged per group
    int64_t first_ns;             //  sender: first send
    int64_t last_ns;              //  last send / last ack / last delivery
    int64_t last_ack_ns;          //  sender: last acknowledgement
    s_slot_t *ring;               //  sender: send times by tag
    size_t ring_mask;             //  its size - 1
    int *my_groups;               //  listener: the groups it subscribes to
    int my_count;                 //  how many
    const char **group_ptr;       //  listener: entry->group pointer per my group, once seen
    bool *probe_seen;             //  listener: the probe's join seen, per my group
    uint64_t *last_seq;           //  listener: last seq per my group
    uint64_t *last_counter;       //  listener: 1 + last counter per (my group, sender)
    uint64_t expected;            //  listener: messages it should get (set at drain)
    uint64_t duplicated;          //  listener: entries delivered twice
    uint64_t out_of_order;        //  listener: a sender's messages in another order
    uint64_t foreign;             //  listener: messages not from this run
} s_worker_t;

struct s_run {
    const s_opts_t *opts;         //  options
    char server[GC_MAX_ENDPOINT + 1];  //  registry endpoint
    char **names;                 //  group names
    char **specs;                 //  NAME@ENDPOINT of each group
    atomic_int phase;             //  s_phase_t
    uint32_t run_id;              //  marks this run's messages
    char probe_id[GC_UUID_STR_LEN + 1];  //  the identity whose joins tell listeners are live
    int64_t start_ns;             //  when sending started
    int64_t end_ns;               //  when sending stops (duration runs)
    s_worker_t **senders;         //  opts->senders of them
    s_worker_t **listeners;       //  opts->listeners of them
    uint64_t *expected_per_group; //  acknowledged per group, known at drain
};

static void
s_fail (s_worker_t *self, const char *fmt, ...) __attribute__ ((format (printf, 2, 3)));

static void
s_fail (s_worker_t *self, const char *fmt, ...)
{
    va_list args;
    va_start (args, fmt);
    vsnprintf (self->error, sizeof self->error, fmt, args);
    va_end (args);
    atomic_store (&self->state, -1);
}

static s_phase_t
s_phase (s_run_t *run)
{
    return (s_phase_t) atomic_load_explicit (&run->phase, memory_order_acquire);
}

static void
s_bump (_Atomic uint64_t *counter)
{
    //  Each counter has one writer; others only read it for progress.
    atomic_store_explicit (counter, atomic_load_explicit (counter, memory_order_relaxed) + 1,
                           memory_order_relaxed);
}

//  A client with a fresh identity that joins the given groups. Returns 0 or -1 (failed).
static int
s_setup_client (s_worker_t *self, gc_identity_t **identity, gc_client_t **client,
                const int *groups, int count)
{
    s_run_t *run = self->run;
    *identity = gc_identity_new_ephemeral ();
    *client = *identity ? gc_client_new (run->server, *identity) : NULL;
    if (!*client) {
        s_fail (self, "cannot create a client: out of memory");
        return -1;
    }
    //  Hundreds of joins queue up at one group, each its own commit: be patient here.
    gc_client_set_timeout (*client, S_SETUP_TIMEOUT);
    for (int i = 0; i < count && !zsys_interrupted; i++) {
        gc_status_t status = gc_client_join (*client, run->specs[groups[i]], NULL);
        if (status != GC_OK) {
            s_fail (self, "cannot join '%s': %s", run->names[groups[i]],
                    gc_client_error (*client));
            return -1;
        }
    }
    return zsys_interrupted ? -1 : 0;
}

//  --- Senders ---

static void
s_on_ack (void *arg, uint64_t tag, gc_status_t status, const gc_ack_t *ack, const char *error)
{
    (void) ack;
    s_worker_t *self = (s_worker_t *) arg;
    int64_t now = s_now_ns ();
    const s_slot_t *slot = &self->ring[tag & self->ring_mask];
    if (status == GC_OK) {
        if (slot->tag == tag) {
            s_hist_add (&self->hist, now - slot->ts_ns);
            self->acked_per_group[slot->group]++;
        }
        s_bump (&self->acked);
        self->last_ack_ns = now;
    }
    else {
        if (self->error[0] == '\0') {
            snprintf (self->error, sizeof self->error, "send failed: %s", error);
        }
        s_bump (&self->failed);
    }
}

//  Sleeps until monotonic time `when` (ns), at most 100 ms so the phase is rechecked.
static void
s_sleep_until (int64_t when)
{
    int64_t cap = s_now_ns () + 100000000;
    if (when > cap) {
        when = cap;
    }
    struct timespec ts = {(time_t) (when / 1000000000), (long) (when % 1000000000)};
    clock_nanosleep (CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
}

static void *
s_sender_main (void *arg)
{
    s_worker_t *self = (s_worker_t *) arg;
    s_run_t *run = self->run;
    const s_opts_t *opts = run->opts;
    //  Short sleeps when pacing: the default 50 us timer slack is half a send at 10,000/s.
    prctl (PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
    gc_identity_t *identity = NULL;
    gc_client_t *client = NULL;
    uint8_t *text = (uint8_t *) malloc (opts->size);
    int *all = (int *) malloc ((size_t) opts->groups * sizeof (int));
    if (!text || !all) {
        s_fail (self, "out of memory");
        goto cleanup;
    }
    //  The groups this sender sends to, in turn: every group, or with --spread its share
    //  (groups index, index + S, ...; group index mod G when there are more senders).
    int mine = 0;
    for (int g = 0; g < opts->groups; g++) {
        bool take = !opts->spread
                    || (opts->senders <= opts->groups ? g % opts->senders == self->index
                                                      : g == self->index % opts->groups);
        if (take) {
            all[mine++] = g;
        }
    }
    if (s_setup_client (self, &identity, &client, all, mine) != 0) {
        goto cleanup;
    }
    gc_client_set_timeout (client, opts->timeout_ms);
    gc_client_set_window (client, opts->window);
    gc_client_set_ack_handler (client, s_on_ack, self);
    for (size_t i = S_HEADER_SIZE; i < opts->size; i++) {
        text[i] = (uint8_t) ('a' + i % 26);
    }
    memcpy (text, &run->run_id, 4);
    uint32_t me = (uint32_t) self->index;
    memcpy (text + 4, &me, 4);
    atomic_store (&self->state, 1);

    //  Bounded by the phase: the coordinator moves it on, also on SIGINT.
    while (s_phase (run) == S_SETUP && !zsys_interrupted) {
        zclock_sleep (1);
    }
    uint64_t quota = UINT64_MAX;
    if (opts->count) {
        quota = opts->count / (uint64_t) opts->senders
                + ((uint64_t) self->index < opts->count % (uint64_t) opts->senders ? 1 : 0);
    }
    double interval = opts->rate > 0 ? 1e9 * opts->senders / opts->rate : 0;
    //  Senders take turns within one interval, so they do not all send at the same instant.
    int64_t origin = run->start_ns + (int64_t) (interval * self->index / opts->senders);
    self->first_ns = s_now_ns ();
    for (uint64_t k = 0; k < quota;) {
        if (s_phase (run) != S_GO || zsys_interrupted) {
            break;
        }
        int64_t now = s_now_ns ();
        if (now >= run->end_ns) {
            break;
        }
        if (interval > 0) {
            int64_t due = origin + (int64_t) (interval * (double) k);
            if (now < due) {
                uint64_t done = atomic_load_explicit (&self->acked, memory_order_relaxed)
                                + atomic_load_explicit (&self->failed, memory_order_relaxed);
                //  libgroupcast reads acknowledgements only inside its calls: while idle, wait
                //  for them in flush rather than let them sit unread and inflate the latency.
                if (done < k) {
                    gc_client_flush (client);
                }
                else {
                    s_sleep_until (due < run->end_ns ? due : run->end_ns);
                }
                continue;
            }
        }
        int group = all[(k + (uint64_t) self->index) % (uint64_t) mine];
        memcpy (text + 8, &k, 8);
        int64_t ts = s_now_ns ();
        memcpy (text + 16, &ts, 8);
        uint64_t tag = UINT64_MAX;
        gc_status_t status = gc_client_send_async (client, run->names[group], (const char *) text,
                                                   opts->size, &tag);
        if (tag != UINT64_MAX) {
            s_slot_t *slot = &self->ring[tag & self->ring_mask];
            slot->tag = tag;
            slot->ts_ns = ts;
            slot->group = group;
        }
        else if (status != GC_OK) {
            //  Refused before it was queued: the ack handler never hears of it.
            if (self->error[0] == '\0') {
                snprintf (self->error, sizeof self->error, "cannot send: %s",
                          gc_client_error (client));
            }
            s_bump (&self->failed);
        }
        s_bump (&self->sent);
        k++;
        self->last_ns = ts;
    }
    //  Bounded: each queued send is acknowledged, or fails after its attempts time out.
    gc_client_flush (client);
    atomic_store_explicit (&self->state, 2, memory_order_release);

cleanup:
    gc_client_destroy (&client);
    gc_identity_destroy (&identity);
    free (text);
    free (all);
    if (atomic_load (&self->state) != 2 && atomic_load (&self->state) != -1) {
        s_fail (self, "interrupted");
    }
    return NULL;
}

//  --- Listeners ---

//  Which of my groups an entry belongs to, or -1.
static int
s_my_group (s_worker_t *self, const char *group)
{
    for (int i = 0; i < self->my_count; i++) {
        if (self->group_ptr[i] == group) {
            return i;
        }
    }
    for (int i = 0; i < self->my_count; i++) {
        if (streq (self->run->names[self->my_groups[i]], group)) {
            self->group_ptr[i] = group;
            return i;
        }
    }
    return -1;
}

static void
s_on_entry (s_worker_t *self, const gc_entry_t *entry, int64_t now)
{
    s_run_t *run = self->run;
    int mine = s_my_group (self, entry->group);
    if (mine < 0) {
        return;
    }
    if (entry->seq <= self->last_seq[mine]) {
        self->duplicated++;
        return;
    }
    self->last_seq[mine] = entry->seq;
    if (entry->kind == GC_ENTRY_JOIN) {
        if (streq (entry->sender, run->probe_id) && !self->probe_seen[mine]) {
            self->probe_seen[mine] = true;
            bool all = true;
            for (int i = 0; i < self->my_count; i++) {
                all = all && self->probe_seen[i];
            }
            if (all) {
                atomic_store (&self->state, 2);
            }
        }
        return;
    }
    uint32_t run_id, sender;
    if (entry->kind != GC_ENTRY_MESSAGE || entry->text_len < S_HEADER_SIZE) {
        self->foreign++;
        return;
    }
    memcpy (&run_id, entry->text, 4);
    memcpy (&sender, entry->text + 4, 4);
    if (run_id != run->run_id || sender >= (uint32_t) run->opts->senders) {
        self->foreign++;
        return;
    }
    uint64_t counter;
    int64_t ts;
    memcpy (&counter, entry->text + 8, 8);
    memcpy (&ts, entry->text + 16, 8);
    uint64_t *last = &self->last_counter[(size_t) mine * (size_t) run->opts->senders + sender];
    if (counter + 1 <= *last) {
        self->out_of_order++;
    }
    else {
        *last = counter + 1;
    }
    s_hist_add (&self->hist, now - ts);
    s_bump (&self->received);
    self->last_ns = now;
}

static void *
s_listener_main (void *arg)
{
    s_worker_t *self = (s_worker_t *) arg;
    s_run_t *run = self->run;
    gc_identity_t *identity = NULL;
    gc_client_t *client = NULL;
    gc_sub_t *sub = NULL;
    if (s_setup_client (self, &identity, &client, self->my_groups, self->my_count) != 0) {
        goto cleanup;
    }
    sub = gc_sub_new (client);
    if (!sub) {
        s_fail (self, "cannot create a subscription: out of memory");
        goto cleanup;
    }
    for (int i = 0; i < self->my_count; i++) {
        gc_status_t status = gc_sub_add (sub, run->specs[self->my_groups[i]], UINT64_MAX);
        if (status != GC_OK) {
            s_fail (self, "cannot subscribe to '%s': %s", run->names[self->my_groups[i]],
                    gc_sub_error (sub));
            goto cleanup;
        }
        //  Entries are checked from here on: the next one must come after this.
        self->last_seq[i] = gc_sub_last_seq (sub, run->names[self->my_groups[i]]);
    }
    gc_client_set_timeout (client, run->opts->timeout_ms);
    atomic_store (&self->state, 1);

    bool failing = false;
    while (!zsys_interrupted) {
        s_phase_t phase = s_phase (run);
        if (phase == S_DONE) {
            break;
        }
        if (phase == S_DRAIN) {
            //  expected was set before the phase moved to drain.
            if (atomic_load_explicit (&self->received, memory_order_relaxed) >= self->expected) {
                break;
            }
        }
        const gc_entry_t *entry = NULL;
        gc_status_t status = gc_sub_recv (sub, 50, &entry);
        if (status == GC_OK) {
            s_on_entry (self, entry, s_now_ns ());
            failing = false;
        }
        else if (status != GC_TIMEOUT) {
            if (!failing) {
                snprintf (self->error, sizeof self->error, "%s", gc_sub_error (sub));
            }
            failing = true;
            zclock_sleep (10);   //  a failing subscription returns at once: do not spin
        }
    }

cleanup:
    gc_sub_destroy (&sub);
    gc_client_destroy (&client);
    gc_identity_destroy (&identity);
    if (atomic_load (&self->state) == 0) {
        s_fail (self, "interrupted");
    }
    return NULL;
}

static s_worker_t *
s_worker_new (s_run_t *run, int index, bool is_sender)
{
    const s_opts_t *opts = run->opts;
    s_worker_t *self = (s_worker_t *) calloc (1, sizeof (s_worker_t));
    if (!self) {
        return NULL;
    }
    self->run = run;
    self->index = index;
    self->is_sender = is_sender;
    self->expected = UINT64_MAX;
    bool ok = true;
    if (is_sender) {
        size_t ring = 16;
        while (ring < opts->window * 4) {
            ring *= 2;
        }
        self->ring = (s_slot_t *) calloc (ring, sizeof (s_slot_t));
        self->ring_mask = ring - 1;
        self->acked_per_group = (uint64_t *) calloc ((size_t) opts->groups, sizeof (uint64_t));
        for (size_t i = 0; self->ring && i < ring; i++) {
            self->ring[i].tag = UINT64_MAX;
        }
        ok = self->ring && self->acked_per_group;
    }
    else {
        int count = opts->spread ? 1 : opts->groups;
        self->my_count = count;
        self->my_groups = (int *) calloc ((size_t) count, sizeof (int));
        self->group_ptr = (const char **) calloc ((size_t) count, sizeof (char *));
        self->probe_seen = (bool *) calloc ((size_t) count, sizeof (bool));
        self->last_seq = (uint64_t *) calloc ((size_t) count, sizeof (uint64_t));
        self->last_counter = (uint64_t *) calloc ((size_t) count * (size_t) (opts->senders + 1),
                                                  sizeof (uint64_t));
        ok = self->my_groups && self->group_ptr && self->probe_seen && self->last_seq
             && self->last_counter;
        for (int i = 0; ok && i < count; i++) {
            self->my_groups[i] = opts->spread ? index % opts->groups : i;
        }
    }
    if (!ok) {
        free (self->ring);
        free (self->acked_per_group);
        free (self->my_groups);
        free ((void *) self->group_ptr);
        free (self->probe_seen);
        free (self->last_seq);
        free (self->last_counter);
        free (self);
        return NULL;
    }
    return self;
}

static void
s_worker_destroy (s_worker_t **self_p)
{
    s_worker_t *self = *self_p;
    if (self) {
        if (self->started) {
            pthread_join (self->thread, NULL);
        }
        free (self->ring);
        free (self->acked_per_group);
        free (self->my_groups);
        free ((void *) self->group_ptr);
        free (self->probe_seen);
        free (self->last_seq);
        free (self->last_counter);
        free (self);
        *self_p = NULL;
    }
}

static int
s_worker_start (s_worker_t *self)
{
    pthread_attr_t attr;
    pthread_attr_init (&attr);
    pthread_attr_setstacksize (&attr, S_STACK_SIZE);
    int rc = pthread_create (&self->thread, &attr,
                             self->is_sender ? s_sender_main : s_listener_main, self);
    pthread_attr_destroy (&attr);
    self->started = rc == 0;
    return rc == 0 ? 0 : -1;
}

//  Waits until every worker's state reaches `want` (or fails), up to timeout_ms. Returns 0, or
//  -1 after printing the first failure.
static int
s_wait_workers (s_worker_t **workers, int count, int want, int timeout_ms, const char *what)
{
    int64_t deadline = zclock_mono () + timeout_ms;
    while (!zsys_interrupted) {
        int reached = 0;
        for (int i = 0; i < count; i++) {
            int state = atomic_load (&workers[i]->state);
            if (state < 0) {
                fprintf (stderr, "groupcast-loadgen: %s %d: %s\n",
                         workers[i]->is_sender ? "sender" : "listener", i, workers[i]->error);
                return -1;
            }
            reached += state >= want;
        }
        if (reached == count) {
            return 0;
        }
        if (zclock_mono () >= deadline) {
            fprintf (stderr, "groupcast-loadgen: %d of %d %s within %d ms\n", reached, count,
                     what, timeout_ms);
            for (int i = 0; i < count; i++) {
                s_worker_t *w = workers[i];
                if (atomic_load (&w->state) < want && !w->is_sender) {
                    fprintf (stderr, "groupcast-loadgen: listener %d: at seq %" PRIu64
                                     " of its first group, %s\n",
                             i, w->my_count ? w->last_seq[0] : 0,
                             w->error[0] ? w->error : "no error");
                }
            }
            return -1;
        }
        zclock_sleep (5);
    }
    return -1;
}

//  ---------------------------------------------------------------------------------------------
//  The system under test

typedef struct {
    char *dir;                      //  temp directory: logs, data, plot data
    char *bin_dir;                  //  where the binaries are
    gc_proc_t *server;              //  our registry, or NULL
    gc_proc_t **groups;             //  our groups (NULL entries when --server)
    int count;                      //  how many groups
} s_system_t;

//  Where groupcast-server and groupcast-group are: next to this program if they are there
//  (installed), else where the build put them. Returns an owned string.
static char *
s_default_bin_dir (void)
{
    char path[4096];
    ssize_t len = readlink ("/proc/self/exe", path, sizeof path - 1);
    if (len > 0) {
        path[len] = '\0';
        char *slash = strrchr (path, '/');
        if (slash) {
            *slash = '\0';
            char *group = zsys_sprintf ("%s/groupcast-group", path);
            bool here = group && access (group, X_OK) == 0;
            zstr_free (&group);
            if (here) {
                return strdup (path);
            }
        }
    }
#ifdef GC_LOADGEN_BIN_DIR
    return strdup (GC_LOADGEN_BIN_DIR);
#else
    return strdup (".");
#endif
}

//  The group's resident memory in kB from /proc, or 0.
static long
s_rss_kb (gc_proc_t *proc)
{
    if (!proc) {
        return 0;
    }
    char path[64];
    snprintf (path, sizeof path, "/proc/%d/status", (int) gc_proc_pid (proc));
    FILE *file = fopen (path, "r");
    if (!file) {
        return 0;
    }
    char line[256];
    long kb = 0;
    while (fgets (line, sizeof line, file)) {
        if (strncmp (line, "VmRSS:", 6) == 0) {
            kb = strtol (line + 6, NULL, 10);
            break;
        }
    }
    fclose (file);
    return kb;
}

static long
s_rss_total (s_system_t *sys)
{
    long total = 0;
    for (int g = 0; g < sys->count; g++) {
        total += s_rss_kb (sys->groups[g]);
    }
    return total;
}

//  Stops every process we started. Returns true if all exited cleanly (status 0, no
//  sanitizer report, no dangling socket).
static bool
s_system_stop (s_system_t *sys)
{
    bool clean = true;
    for (int g = 0; g < sys->count; g++) {
        if (sys->groups[g]) {
            int rc = gc_proc_stop (sys->groups[g], 10000);
            if (rc != 0 || !gc_proc_clean (sys->groups[g])) {
                fprintf (stderr, "groupcast-loadgen: group %d exited with status %d\n", g + 1,
                         rc);
                clean = false;
            }
            gc_proc_destroy (&sys->groups[g]);
        }
    }
    if (sys->server) {
        int rc = gc_proc_stop (sys->server, 10000);
        if (rc != 0 || !gc_proc_clean (sys->server)) {
            fprintf (stderr, "groupcast-loadgen: registry exited with status %d\n", rc);
            clean = false;
        }
        gc_proc_destroy (&sys->server);
    }
    return clean;
}

static void
s_system_destroy (s_system_t *sys, bool keep)
{
    s_system_stop (sys);
    free (sys->groups);
    if (sys->dir && keep) {
        fprintf (stderr, "groupcast-loadgen: logs and data kept in %s\n", sys->dir);
        free (sys->dir);
        sys->dir = NULL;
    }
    gc_tmpdir_destroy (&sys->dir);
    free (sys->bin_dir);
}

//  Starts a process and waits for its READY line; returns it, or NULL after printing why.
static gc_proc_t *
s_spawn (s_system_t *sys, const char *tag, char *const argv[], char *ready, size_t readylen)
{
    gc_proc_t *proc = gc_proc_start (sys->dir, tag, argv, NULL, false);
    if (proc && gc_proc_wait_line (proc, "READY ", 30000, ready, readylen) == 0) {
        return proc;
    }
    fprintf (stderr, "groupcast-loadgen: cannot start %s\n", argv[0]);
    if (proc) {
        gc_proc_stop (proc, 5000);
        char *err = gc_proc_stderr (proc);
        if (err && *err) {
            fprintf (stderr, "%s", err);
        }
        free (err);
        gc_proc_destroy (&proc);
    }
    return NULL;
}

//  Starts the registry and the groups (or finds them with --server) and fills run->specs.
static int
s_system_start (s_system_t *sys, s_run_t *run)
{
    const s_opts_t *opts = run->opts;
    sys->count = opts->groups;
    sys->groups = (gc_proc_t **) calloc ((size_t) opts->groups, sizeof (gc_proc_t *));
    sys->dir = gc_tmpdir_new ("loadgen");
    //  Absolute: the processes start in the temp directory.
    sys->bin_dir = opts->bin_dir ? realpath (opts->bin_dir, NULL) : s_default_bin_dir ();
    if (!sys->bin_dir) {
        fprintf (stderr, "groupcast-loadgen: cannot use --bin-dir '%s': %s\n",
                 opts->bin_dir ? opts->bin_dir : "", strerror (errno));
        return -1;
    }
    if (!sys->groups || !sys->dir) {
        fprintf (stderr, "groupcast-loadgen: cannot create a temp directory\n");
        return -1;
    }
    if (opts->server) {
        //  Find each group's endpoint once, so workers never ask the registry.
        gc_identity_t *identity = gc_identity_new_ephemeral ();
        gc_client_t *client = identity ? gc_client_new (opts->server, identity) : NULL;
        int rc = client ? 0 : -1;
        for (int g = 0; rc == 0 && g < opts->groups; g++) {
            const gc_group_info_t *info = NULL;
            if (gc_client_resolve (client, run->names[g], &info) != GC_OK) {
                fprintf (stderr, "groupcast-loadgen: cannot find group '%s': %s\n",
                         run->names[g], gc_client_error (client));
                rc = -1;
                break;
            }
            run->specs[g] = zsys_sprintf ("%s@%s", run->names[g], info->endpoint);
        }
        snprintf (run->server, sizeof run->server, "%s", opts->server);
        gc_client_destroy (&client);
        gc_identity_destroy (&identity);
        return rc;
    }
    char *server_bin = gc_bin (sys->bin_dir, "groupcast-server");
    char *group_bin = gc_bin (sys->bin_dir, "groupcast-group");
    int rc = -1;
    if (!server_bin || !group_bin) {
        goto cleanup;
    }
    char *server_argv[] = {server_bin, (char *) "--bind", (char *) "tcp://127.0.0.1:*", NULL};
    sys->server = s_spawn (sys, "server", server_argv, run->server, sizeof run->server);
    if (!sys->server) {
        goto cleanup;
    }
    //  Start every group, then wait for each: a hundred groups start in parallel.
    for (int g = 0; g < opts->groups; g++) {
        char data[4200], tag[32];
        snprintf (data, sizeof data, "%s/data/%s", sys->dir, run->names[g]);
        snprintf (tag, sizeof tag, "group-%d", g + 1);
        char *argv[16];
        int n = 0;
        argv[n++] = group_bin;
        argv[n++] = (char *) "--name";
        argv[n++] = run->names[g];
        argv[n++] = (char *) "--server";
        argv[n++] = run->server;
        argv[n++] = (char *) "--bind";
        argv[n++] = (char *) "tcp://127.0.0.1:*";
        argv[n++] = (char *) "--pub";
        argv[n++] = (char *) "tcp://127.0.0.1:*";
        argv[n++] = (char *) "--sync";
        argv[n++] = (char *) opts->sync;
        if (opts->memory) {
            argv[n++] = (char *) "--memory";
        }
        else {
            argv[n++] = (char *) "--data";
            argv[n++] = data;
        }
        argv[n] = NULL;
        sys->groups[g] = gc_proc_start (sys->dir, tag, argv, NULL, false);
        if (!sys->groups[g]) {
            fprintf (stderr, "groupcast-loadgen: cannot start %s\n", group_bin);
            goto cleanup;
        }
    }
    for (int g = 0; g < opts->groups; g++) {
        char ready[2 * GC_MAX_ENDPOINT + 2];
        if (gc_proc_wait_line (sys->groups[g], "READY ", 30000, ready, sizeof ready) != 0) {
            fprintf (stderr, "groupcast-loadgen: group '%s' did not start\n", run->names[g]);
            gc_proc_stop (sys->groups[g], 5000);
            char *err = gc_proc_stderr (sys->groups[g]);
            fprintf (stderr, "%s", err ? err : "");
            free (err);
            goto cleanup;
        }
        char *space = strchr (ready, ' ');
        if (space) {
            *space = '\0';
        }
        run->specs[g] = zsys_sprintf ("%s@%s", run->names[g], ready);
    }
    rc = 0;

cleanup:
    free (server_bin);
    free (group_bin);
    return rc;
}

//  ---------------------------------------------------------------------------------------------
//  History: read the first group's whole history page by page

typedef struct {
    uint64_t count;     //  entries read
    uint64_t last;      //  the last seq read
    bool ordered;       //  each seq followed the previous one
} s_history_t;

static void
s_history_entry (void *arg, const gc_entry_t *entry)
{
    s_history_t *history = (s_history_t *) arg;
    if (history->last && entry->seq != history->last + 1) {
        history->ordered = false;
    }
    history->last = entry->seq;
    history->count++;
}

//  Returns entries per second, or -1 on failure.
static double
s_read_history (s_run_t *run, gc_client_t *client, s_history_t *history)
{
    memset (history, 0, sizeof *history);
    history->ordered = true;
    int64_t start = s_now_ns ();
    bool more = true;
    //  Bounded: every page advances after_seq, or ends.
    while (more && !zsys_interrupted) {
        gc_query_t query;
        memset (&query, 0, sizeof query);
        query.after_seq = history->last;
        query.limit = run->opts->page;
        uint64_t before = history->last;
        if (gc_client_fetch (client, run->names[0], &query, s_history_entry, history, &more, NULL)
            != GC_OK) {
            fprintf (stderr, "groupcast-loadgen: cannot read history: %s\n",
                     gc_client_error (client));
            return -1;
        }
        if (history->last == before) {
            break;
        }
    }
    double elapsed = (double) (s_now_ns () - start) / 1e9;
    return elapsed > 0 ? (double) history->count / elapsed : 0;
}

//  ---------------------------------------------------------------------------------------------
//  Baseline: bare libzmq with the same sizes and fan-out

typedef struct {
    void *ctx;                   //  the subscribers' (or dealers') context
    const char *endpoint;        //  where to connect
    size_t size;                 //  request size (dealers)
    size_t window;               //  requests in flight (dealers)
    int64_t end_ns;              //  dealers: stop sending then
    atomic_int *done;            //  publisher finished (subscribers)
    uint64_t count;              //  messages received
    int64_t last_ns;             //  last reception
    int rc;                      //  0 or -1
    pthread_t thread;            //  its thread
    bool started;                //  thread was created
} s_peer_t;

static void *
s_bsub_main (void *arg)
{
    s_peer_t *self = (s_peer_t *) arg;
    void *sock = zmq_socket (self->ctx, ZMQ_SUB);
    int hwm = 100000, timeout = 100, linger = 0;
    if (!sock || zmq_setsockopt (sock, ZMQ_RCVHWM, &hwm, sizeof hwm) != 0
        || zmq_setsockopt (sock, ZMQ_RCVTIMEO, &timeout, sizeof timeout) != 0
        || zmq_setsockopt (sock, ZMQ_LINGER, &linger, sizeof linger) != 0
        || zmq_setsockopt (sock, ZMQ_SUBSCRIBE, "", 0) != 0
        || zmq_connect (sock, self->endpoint) != 0) {
        self->rc = -1;
        if (sock) {
            zmq_close (sock);
        }
        return NULL;
    }
    zmq_msg_t msg;
    zmq_msg_init (&msg);
    //  Bounded: after the publisher is done, 300 ms of silence ends it (the end marker may be
    //  dropped like any other message at the high-water mark).
    while (true) {
        int rc = zmq_msg_recv (&msg, sock, 0);
        int64_t now = s_now_ns ();
        if (rc < 0) {
            bool quiet = self->last_ns == 0 || now - self->last_ns > 300000000;
            if (atomic_load (self->done) && quiet) {
                break;
            }
            continue;
        }
        if (zmq_msg_size (&msg) == 1) {
            break;   //  end marker
        }
        self->count++;
        self->last_ns = now;
    }
    zmq_msg_close (&msg);
    zmq_close (sock);
    return NULL;
}

//  PUB/SUB: one publisher, `listeners` subscribers, `size`-byte messages, as fast as possible
//  for duration_ns. Returns delivered messages per second summed over subscribers, or -1.
static double
s_baseline_pubsub (int listeners, size_t size, int64_t duration_ns)
{
    void *pub_ctx = zmq_ctx_new ();
    void *sub_ctx = zmq_ctx_new ();
    s_peer_t *subs = (s_peer_t *) calloc ((size_t) listeners, sizeof (s_peer_t));
    void *pub = pub_ctx ? zmq_socket (pub_ctx, ZMQ_XPUB) : NULL;
    char *payload = (char *) calloc (1, size);
    double result = -1;
    atomic_int done = 0;
    int hwm = 100000, verbose = 1, linger = 0, timeout = 100;
    char endpoint[256];
    size_t len = sizeof endpoint;
    if (!sub_ctx || !subs || !pub || !payload
        || zmq_setsockopt (pub, ZMQ_SNDHWM, &hwm, sizeof hwm) != 0
        || zmq_setsockopt (pub, ZMQ_XPUB_VERBOSE, &verbose, sizeof verbose) != 0
        || zmq_setsockopt (pub, ZMQ_LINGER, &linger, sizeof linger) != 0
        || zmq_setsockopt (pub, ZMQ_RCVTIMEO, &timeout, sizeof timeout) != 0
        || zmq_bind (pub, "tcp://127.0.0.1:*") != 0
        || zmq_getsockopt (pub, ZMQ_LAST_ENDPOINT, endpoint, &len) != 0) {
        fprintf (stderr, "groupcast-loadgen: baseline PUB/SUB: %s\n", zmq_strerror (zmq_errno ()));
        goto cleanup;
    }
    memset (payload, 'x', size);
    zmq_ctx_set (sub_ctx, ZMQ_MAX_SOCKETS, listeners + 16);
    for (int i = 0; i < listeners; i++) {
        subs[i].ctx = sub_ctx;
        subs[i].endpoint = endpoint;
        subs[i].done = &done;
        subs[i].started = pthread_create (&subs[i].thread, NULL, s_bsub_main, &subs[i]) == 0;
        if (!subs[i].started) {
            subs[i].rc = -1;
        }
    }
    //  Wait until every subscription reached the publisher (XPUB shows each one).
    int subscribed = 0;
    int64_t deadline = s_now_ns () + INT64_C (10000000000);
    char frame[64];
    while (subscribed < listeners && s_now_ns () < deadline && !zsys_interrupted) {
        if (zmq_recv (pub, frame, sizeof frame, 0) >= 1 && frame[0] == 1) {
            subscribed++;
        }
    }
    for (int i = 0; i < listeners; i++) {
        if (subs[i].rc != 0) {
            subscribed = -1;
        }
    }
    if (subscribed != listeners) {
        fprintf (stderr, "groupcast-loadgen: baseline PUB/SUB: subscribers did not connect\n");
        atomic_store (&done, 1);
        goto cleanup;
    }
    int64_t start = s_now_ns ();
    int64_t end = start + duration_ns;
    for (uint64_t n = 0; !zsys_interrupted; n++) {
        if ((n & 255) == 0 && s_now_ns () >= end) {
            break;
        }
        zmq_send (pub, payload, size, 0);
    }
    atomic_store (&done, 1);
    for (int i = 0; i < 3; i++) {
        zmq_send (pub, "E", 1, ZMQ_DONTWAIT);
    }
    uint64_t total = 0;
    int64_t last = start;
    for (int i = 0; i < listeners; i++) {
        if (subs[i].started) {
            pthread_join (subs[i].thread, NULL);
            subs[i].started = false;
        }
        total += subs[i].count;
        last = subs[i].last_ns > last ? subs[i].last_ns : last;
    }
    result = last > start ? (double) total * 1e9 / (double) (last - start) : 0;

cleanup:
    atomic_store (&done, 1);
    for (int i = 0; subs && i < listeners; i++) {
        if (subs[i].started) {
            pthread_join (subs[i].thread, NULL);
        }
    }
    if (pub) {
        zmq_close (pub);
    }
    if (pub_ctx) {
        zmq_ctx_term (pub_ctx);
    }
    if (sub_ctx) {
        zmq_ctx_term (sub_ctx);
    }
    free (subs);
    free (payload);
    return result;
}

static void *
s_bdealer_main (void *arg)
{
    s_peer_t *self = (s_peer_t *) arg;
    void *sock = zmq_socket (self->ctx, ZMQ_DEALER);
    int timeout = 1000, linger = 0, hwm = 0;
    char *payload = (char *) calloc (1, self->size);
    if (!sock || !payload || zmq_setsockopt (sock, ZMQ_RCVTIMEO, &timeout, sizeof timeout) != 0
        || zmq_setsockopt (sock, ZMQ_LINGER, &linger, sizeof linger) != 0
        || zmq_setsockopt (sock, ZMQ_SNDHWM, &hwm, sizeof hwm) != 0
        || zmq_connect (sock, self->endpoint) != 0) {
        self->rc = -1;
        goto cleanup;
    }
    memset (payload, 'x', self->size);
    size_t in_flight = 0;
    for (; in_flight < self->window; in_flight++) {
        zmq_send (sock, payload, self->size, 0);
    }
    char reply[64];
    //  Bounded: a reply keeps the window full until end_ns; then the window drains, and a
    //  second without replies ends it.
    while (in_flight > 0) {
        if (zmq_recv (sock, reply, sizeof reply, 0) < 0) {
            break;
        }
        int64_t now = s_now_ns ();
        in_flight--;
        if (now < self->end_ns) {
            self->count++;
            self->last_ns = now;
            zmq_send (sock, payload, self->size, 0);
            in_flight++;
        }
    }

cleanup:
    if (sock) {
        zmq_close (sock);
    }
    free (payload);
    return NULL;
}

//  DEALER/ROUTER: `senders` dealers with `window` requests of `size` bytes in flight, one
//  ROUTER answering each with 16 bytes. Returns replies per second, or -1.
static double
s_baseline_dealer (int senders, size_t window, size_t size, int64_t duration_ns)
{
    void *router_ctx = zmq_ctx_new ();
    void *dealer_ctx = zmq_ctx_new ();
    s_peer_t *dealers = (s_peer_t *) calloc ((size_t) senders, sizeof (s_peer_t));
    void *router = router_ctx ? zmq_socket (router_ctx, ZMQ_ROUTER) : NULL;
    double result = -1;
    int timeout = 100, linger = 0, hwm = 0;
    char endpoint[256];
    size_t len = sizeof endpoint;
    zmq_msg_t id, body;
    zmq_msg_init (&id);
    zmq_msg_init (&body);
    if (!dealer_ctx || !dealers || !router
        || zmq_setsockopt (router, ZMQ_RCVTIMEO, &timeout, sizeof timeout) != 0
        || zmq_setsockopt (router, ZMQ_LINGER, &linger, sizeof linger) != 0
        || zmq_setsockopt (router, ZMQ_SNDHWM, &hwm, sizeof hwm) != 0
        || zmq_setsockopt (router, ZMQ_RCVHWM, &hwm, sizeof hwm) != 0
        || zmq_bind (router, "tcp://127.0.0.1:*") != 0
        || zmq_getsockopt (router, ZMQ_LAST_ENDPOINT, endpoint, &len) != 0) {
        fprintf (stderr, "groupcast-loadgen: baseline DEALER/ROUTER: %s\n",
                 zmq_strerror (zmq_errno ()));
        goto cleanup;
    }
    int64_t start = s_now_ns ();
    for (int i = 0; i < senders; i++) {
        dealers[i].ctx = dealer_ctx;
        dealers[i].endpoint = endpoint;
        dealers[i].size = size;
        dealers[i].window = window;
        dealers[i].end_ns = start + duration_ns;
        dealers[i].started =
            pthread_create (&dealers[i].thread, NULL, s_bdealer_main, &dealers[i]) == 0;
    }
    static const char ack[16] = "ack.ack.ack.ack";
    //  Bounded: replies while requests come; 100 ms without any after the end stops it.
    while (!zsys_interrupted) {
        if (zmq_msg_recv (&id, router, 0) < 0) {
            if (s_now_ns () > start + duration_ns) {
                break;
            }
            continue;
        }
        if (zmq_msg_recv (&body, router, 0) < 0) {
            continue;
        }
        zmq_msg_send (&id, router, ZMQ_SNDMORE);
        zmq_send (router, ack, sizeof ack, 0);
    }
    uint64_t total = 0;
    int64_t last = start;
    for (int i = 0; i < senders; i++) {
        if (dealers[i].started) {
            pthread_join (dealers[i].thread, NULL);
            dealers[i].started = false;
        }
        total += dealers[i].count;
        last = dealers[i].last_ns > last ? dealers[i].last_ns : last;
    }
    result = last > start ? (double) total * 1e9 / (double) (last - start) : 0;

cleanup:
    for (int i = 0; dealers && i < senders; i++) {
        if (dealers[i].started) {
            pthread_join (dealers[i].thread, NULL);
        }
    }
    zmq_msg_close (&id);
    zmq_msg_close (&body);
    if (router) {
        zmq_close (router);
    }
    if (router_ctx) {
        zmq_ctx_term (router_ctx);
    }
    if (dealer_ctx) {
        zmq_ctx_term (dealer_ctx);
    }
    free (dealers);
    return result;
}

//  ---------------------------------------------------------------------------------------------
//  Results

typedef struct {
    uint64_t sent, acked, failed, delivered, expected, duplicated, out_of_order, foreign;
    uint64_t lost;               //  expected deliveries that never came
    double send_s;               //  first send to last send
    double ack_s;                //  start to last acknowledgement
    double deliver_s;            //  start to last delivery
    s_hist_t ack;                //  send -> ack, all senders
    s_hist_t delivery;           //  send -> delivery, all listeners
    long rss_before_kb;          //  groups' RSS before anyone joined
    long rss_setup_kb;           //  after every member joined and subscribed
    long rss_after_kb;           //  at the end
    double pubsub;               //  baseline delivered msgs/s (0: not run)
    double dealer;               //  baseline req/s (0: not run)
    double history_rate;         //  history msgs/s (0: not run)
    s_history_t history;         //  what the history read saw
    double loadavg;              //  1-minute load average at the start
    bool clean_exit;             //  every process we started exited cleanly
} s_results_t;

//  The figures of one run, or the medians of several, all as doubles so that a median is taken
//  the same way for each. Latencies in microseconds.
enum {
    F_SENT_PS, F_ACKED_PS, F_DELIVERED_PS,
    F_ACK_P50, F_ACK_P90, F_ACK_P99, F_ACK_P999, F_ACK_MAX, F_ACK_MEAN,
    F_DEL_P50, F_DEL_P90, F_DEL_P99, F_DEL_P999, F_DEL_MAX, F_DEL_MEAN,
    F_PUBSUB, F_DEALER, F_DELIVERED_RATIO, F_ACKED_RATIO, F_HISTORY_PS,
    F_RSS_BEFORE, F_RSS_SETUP, F_RSS_AFTER, F_LOADAVG,
    F_COUNT
};

typedef struct {
    double v[F_COUNT];   //  indexed by F_*
} s_figures_t;

static double
s_loadavg (void)
{
    double load = 0;
    FILE *file = fopen ("/proc/loadavg", "r");
    if (file) {
        if (fscanf (file, "%lf", &load) != 1) {
            load = 0;
        }
        fclose (file);
    }
    return load;
}

static double
s_per_s (uint64_t n, double seconds)
{
    return seconds > 0 ? (double) n / seconds : 0;
}

static const double s_quantiles[] = {0.50, 0.90, 0.99, 0.999};

//  p50, p90, p99, p99.9, max and mean of hist, in microseconds, into v[0..5].
static void
s_latencies (const s_hist_t *hist, double *v)
{
    for (size_t i = 0; i < 4; i++) {
        v[i] = (double) s_hist_quantile (hist, s_quantiles[i]) / 1e3;
    }
    v[4] = (double) hist->max / 1e3;
    v[5] = hist->count ? hist->sum / (double) hist->count / 1e3 : 0;
}

static void
s_figures (const s_results_t *r, s_figures_t *f)
{
    memset (f, 0, sizeof *f);
    f->v[F_SENT_PS] = s_per_s (r->sent, r->send_s);
    f->v[F_ACKED_PS] = s_per_s (r->acked, r->ack_s);
    f->v[F_DELIVERED_PS] = s_per_s (r->delivered, r->deliver_s);
    s_latencies (&r->ack, &f->v[F_ACK_P50]);
    s_latencies (&r->delivery, &f->v[F_DEL_P50]);
    f->v[F_PUBSUB] = r->pubsub;
    f->v[F_DEALER] = r->dealer;
    //  Ratios are taken within a run: both sides saw the same machine at about the same time.
    f->v[F_DELIVERED_RATIO] = r->pubsub > 0 ? f->v[F_DELIVERED_PS] / r->pubsub : 0;
    f->v[F_ACKED_RATIO] = r->dealer > 0 ? f->v[F_ACKED_PS] / r->dealer : 0;
    f->v[F_HISTORY_PS] = r->history_rate;
    f->v[F_RSS_BEFORE] = (double) r->rss_before_kb;
    f->v[F_RSS_SETUP] = (double) r->rss_setup_kb;
    f->v[F_RSS_AFTER] = (double) r->rss_after_kb;
    f->v[F_LOADAVG] = r->loadavg;
}

static int
s_compare_doubles (const void *a, const void *b)
{
    double x = *(const double *) a, y = *(const double *) b;
    return x < y ? -1 : x > y ? 1 : 0;
}

//  Each figure's median over count runs (the mean of the middle two for an even count).
static void
s_median (const s_figures_t *runs, size_t count, s_figures_t *median)
{
    double values[64];
    assert (count > 0 && count <= 64);
    for (size_t k = 0; k < F_COUNT; k++) {
        for (size_t i = 0; i < count; i++) {
            values[i] = runs[i].v[k];
        }
        qsort (values, count, sizeof (double), s_compare_doubles);
        median->v[k] = count % 2 ? values[count / 2]
                                 : (values[count / 2 - 1] + values[count / 2]) / 2;
    }
}

//  Adds one run's counts and latency distributions to the totals.
static void
s_accumulate (s_results_t *total, const s_results_t *r)
{
    total->sent += r->sent;
    total->acked += r->acked;
    total->failed += r->failed;
    total->delivered += r->delivered;
    total->expected += r->expected;
    total->duplicated += r->duplicated;
    total->out_of_order += r->out_of_order;
    total->foreign += r->foreign;
    total->lost += r->lost;
    s_hist_merge (&total->ack, &r->ack);
    s_hist_merge (&total->delivery, &r->delivery);
    total->history.count += r->history.count;
}

//  "1,234,567"
static const char *
s_commas (double value, char *buf, size_t size)
{
    char digits[32];
    snprintf (digits, sizeof digits, "%.0f", value < 0 ? 0 : value);
    size_t len = strlen (digits), out = 0;
    for (size_t i = 0; i < len && out + 2 < size; i++) {
        if (i > 0 && (len - i) % 3 == 0) {
            buf[out++] = ',';
        }
        buf[out++] = digits[i];
    }
    buf[out] = '\0';
    return buf;
}

static void
s_print_latency_row (FILE *out, const char *label, const double *v, uint64_t count)
{
    fprintf (out, "    %-17s", label);
    if (count == 0) {
        fprintf (out, "  (none)\n");
        return;
    }
    for (size_t i = 0; i < 6; i++) {
        fprintf (out, " %9.1f", v[i]);
    }
    fprintf (out, "\n");
}

static const char *
s_store_name (const s_opts_t *opts)
{
    return opts->memory                 ? "memory store"
           : streq (opts->sync, "full") ? "SQLite synchronous=FULL"
                                        : "SQLite synchronous=NORMAL";
}

//  The summary for people: counts are totals over `runs` runs, rates and latencies the
//  figures f (one run's, or the medians).
static void
s_print_summary (FILE *out, const s_opts_t *opts, const s_results_t *r, const s_figures_t *f,
                 int runs)
{
    char a[32], b[32], c[32];
    char rate[64];
    const double *v = f->v;
    if (opts->rate > 0) {
        snprintf (rate, sizeof rate, "%s msgs/s", s_commas (opts->rate, a, sizeof a));
    }
    else {
        snprintf (rate, sizeof rate, "full speed (window %zu)", opts->window);
    }
    fprintf (out,
             "groupcast-loadgen: %d sender%s, %d listener%s, %d group%s, %zu-byte messages, %s, "
             "%s\n",
             opts->senders, opts->senders == 1 ? "" : "s", opts->listeners,
             opts->listeners == 1 ? "" : "s", opts->groups, opts->groups == 1 ? "" : "s",
             opts->size, rate, s_store_name (opts));
    if (runs > 1) {
        fprintf (out, "  medians of %d runs (message counts are totals)\n", runs);
    }
    fprintf (out, "  %-13s %15s msgs %13s msgs/s %9.1f MB/s\n", "sent",
             s_commas ((double) r->sent, a, sizeof a), s_commas (v[F_SENT_PS], b, sizeof b),
             v[F_SENT_PS] * (double) opts->size / 1e6);
    fprintf (out, "  %-13s %15s msgs %13s msgs/s %9.1f MB/s\n", "acknowledged",
             s_commas ((double) r->acked, a, sizeof a), s_commas (v[F_ACKED_PS], b, sizeof b),
             v[F_ACKED_PS] * (double) opts->size / 1e6);
    if (opts->listeners > 0) {
        fprintf (out, "  %-13s %15s msgs %13s msgs/s %9.1f MB/s  (summed over %d listeners)\n",
                 "delivered", s_commas ((double) r->delivered, a, sizeof a),
                 s_commas (v[F_DELIVERED_PS], b, sizeof b),
                 v[F_DELIVERED_PS] * (double) opts->size / 1e6, opts->listeners);
    }
    fprintf (out, "  lost %" PRIu64 "  duplicated %" PRIu64 "  out of order %" PRIu64
                  "  failed sends %" PRIu64 "\n",
             r->lost, r->duplicated, r->out_of_order, r->failed);
    fprintf (out, "  latency (us)              p50       p90       p99     p99.9       max      "
                  "mean\n");
    s_print_latency_row (out, "send -> ack", &v[F_ACK_P50], r->ack.count);
    if (opts->listeners > 0) {
        s_print_latency_row (out, "send -> delivery", &v[F_DEL_P50], r->delivery.count);
    }
    if (v[F_RSS_SETUP] > 0) {
        //  A sender joins every group or (--spread) its share, a listener every group or one;
        //  and the probe joins every group.
        int senders = opts->spread ? (opts->senders > opts->groups ? opts->senders : opts->groups)
                                   : opts->senders * opts->groups;
        int members = senders + opts->groups
                      + (opts->spread ? opts->listeners : opts->listeners * opts->groups);
        fprintf (out, "  group memory  %s kB RSS before joins, %s kB with %d members (%.1f kB per "
                      "member), %s kB at the end\n",
                 s_commas (v[F_RSS_BEFORE], a, sizeof a), s_commas (v[F_RSS_SETUP], b, sizeof b),
                 members, (v[F_RSS_SETUP] - v[F_RSS_BEFORE]) / (double) members,
                 s_commas (v[F_RSS_AFTER], c, sizeof c));
    }
    if (opts->history) {
        fprintf (out, "  history       %s entries read in pages of %u: %s msgs/s%s\n",
                 s_commas ((double) r->history.count, a, sizeof a), opts->page,
                 s_commas (v[F_HISTORY_PS], b, sizeof b),
                 r->history.ordered ? "" : " (NOT IN ORDER)");
    }
    //  A ratio to a full-speed ceiling means something only when groupcast ran at full speed.
    const char *limited = opts->rate > 0 ? " (groupcast rate-limited)" : "";
    if (v[F_PUBSUB] > 0) {
        fprintf (out, "  baseline      bare libzmq PUB/SUB delivered %s msgs/s to %d subscribers; "
                      "groupcast delivered %.2fx%s\n",
                 s_commas (v[F_PUBSUB], a, sizeof a), opts->listeners, v[F_DELIVERED_RATIO],
                 limited);
    }
    if (v[F_DEALER] > 0) {
        fprintf (out, "  baseline      bare libzmq DEALER/ROUTER %s req/s with %zu in flight x %d; "
                      "groupcast acknowledged %.2fx%s\n",
                 s_commas (v[F_DEALER], a, sizeof a), opts->window, opts->senders,
                 v[F_ACKED_RATIO], limited);
    }
    fprintf (out, "  load average at start %.2f on %ld CPUs\n", v[F_LOADAVG],
             sysconf (_SC_NPROCESSORS_ONLN));
}

//  One line per run when there are several, before the medians.
static void
s_print_run_line (FILE *out, int run, const s_figures_t *f)
{
    const double *v = f->v;
    char a[32], b[32], c[32];
    fprintf (out, "  run %d: acked %s/s delivered %s/s, ack p50/p99 %.0f/%.0f us, delivery "
                  "p50/p99 %.0f/%.0f us",
             run, s_commas (v[F_ACKED_PS], a, sizeof a), s_commas (v[F_DELIVERED_PS], b, sizeof b),
             v[F_ACK_P50], v[F_ACK_P99], v[F_DEL_P50], v[F_DEL_P99]);
    if (v[F_PUBSUB] > 0 || v[F_DEALER] > 0) {
        fprintf (out, ", PUB/SUB %s/s (%.2fx)", s_commas (v[F_PUBSUB], c, sizeof c),
                 v[F_DELIVERED_RATIO]);
        fprintf (out, ", DEALER/ROUTER %s/s (%.2fx)", s_commas (v[F_DEALER], c, sizeof c),
                 v[F_ACKED_RATIO]);
    }
    fprintf (out, ", load %.2f\n", v[F_LOADAVG]);
}

static void
s_json_latency (FILE *out, const char *key, const double *v, uint64_t count)
{
    fprintf (out, "\"%s\":{\"count\":%" PRIu64 ",\"p50\":%.1f,\"p90\":%.1f,\"p99\":%.1f,"
                  "\"p999\":%.1f,\"max\":%.1f,\"mean\":%.1f}",
             key, count, v[0], v[1], v[2], v[3], v[4], v[5]);
}

//  One JSON object: run is 1, 2 ... with --repeat, 0 for the medians (then counts are totals),
//  -1 for a single run.
static void
s_print_json (FILE *out, const s_opts_t *opts, const s_results_t *r, const s_figures_t *f,
              int run)
{
    const double *v = f->v;
    fprintf (out, "{");
    if (run > 0) {
        fprintf (out, "\"run\":%d,", run);
    }
    else if (run == 0) {
        fprintf (out, "\"run\":\"median\",");
    }
    fprintf (out, "\"senders\":%d,\"listeners\":%d,\"groups\":%d,\"size\":%zu,\"rate\":%.0f,"
                  "\"window\":%zu,\"spread\":%s,\"store\":\"%s\",\"cpus\":%ld,\"loadavg\":%.2f,",
             opts->senders, opts->listeners, opts->groups, opts->size, opts->rate, opts->window,
             opts->spread ? "true" : "false",
             opts->memory ? "memory" : streq (opts->sync, "full") ? "sqlite-full" : "sqlite-normal",
             sysconf (_SC_NPROCESSORS_ONLN), v[F_LOADAVG]);
    fprintf (out, "\"sent\":%" PRIu64 ",\"acked\":%" PRIu64 ",\"failed\":%" PRIu64
                  ",\"delivered\":%" PRIu64 ",\"expected_deliveries\":%" PRIu64
                  ",\"lost\":%" PRIu64 ",\"duplicated\":%" PRIu64 ",\"out_of_order\":%" PRIu64 ",",
             r->sent, r->acked, r->failed, r->delivered, r->expected, r->lost, r->duplicated,
             r->out_of_order);
    fprintf (out, "\"sent_per_s\":%.0f,\"acked_per_s\":%.0f,\"delivered_per_s\":%.0f,"
                  "\"sent_bytes_per_s\":%.0f,\"acked_bytes_per_s\":%.0f,"
                  "\"delivered_bytes_per_s\":%.0f,",
             v[F_SENT_PS], v[F_ACKED_PS], v[F_DELIVERED_PS], v[F_SENT_PS] * (double) opts->size,
             v[F_ACKED_PS] * (double) opts->size, v[F_DELIVERED_PS] * (double) opts->size);
    s_json_latency (out, "ack_latency_us", &v[F_ACK_P50], r->ack.count);
    fprintf (out, ",");
    s_json_latency (out, "delivery_latency_us", &v[F_DEL_P50], r->delivery.count);
    fprintf (out, ",\"group_rss_kb\":{\"before\":%.0f,\"setup\":%.0f,\"after\":%.0f}",
             v[F_RSS_BEFORE], v[F_RSS_SETUP], v[F_RSS_AFTER]);
    if (opts->history) {
        fprintf (out, ",\"history\":{\"entries\":%" PRIu64 ",\"page\":%u,\"per_s\":%.0f,"
                      "\"ordered\":%s}",
                 r->history.count, opts->page, v[F_HISTORY_PS],
                 r->history.ordered ? "true" : "false");
    }
    if (opts->baseline) {
        fprintf (out, ",\"baseline\":{\"pubsub_delivered_per_s\":%.0f,\"dealer_router_per_s\":%.0f,"
                      "\"delivered_ratio\":%.3f,\"acked_ratio\":%.3f}",
                 v[F_PUBSUB], v[F_DEALER], v[F_DELIVERED_RATIO], v[F_ACKED_RATIO]);
    }
    fprintf (out, "}\n");
}

//  Writes the latency distribution, HdrHistogram style: percentile, 1/(1-p) for a log axis,
//  and both latencies in microseconds. Returns 0 or -1.
static int
s_write_distribution (const char *path, const s_results_t *r)
{
    FILE *file = fopen (path, "w");
    if (!file) {
        fprintf (stderr, "groupcast-loadgen: cannot write '%s': %s\n", path, strerror (errno));
        return -1;
    }
    fprintf (file, "percentile,inverse,ack_us,delivery_us\n");
    //  Five points per halving of what remains above p, up to 99.999%.
    for (int k = 0; k <= 85; k++) {
        double p = 1 - pow (0.5, k / 5.0);
        fprintf (file, "%.6f,%.3f,%.1f,%.1f\n", p * 100, 1 / (1 - p),
                 (double) s_hist_quantile (&r->ack, p) / 1e3,
                 (double) s_hist_quantile (&r->delivery, p) / 1e3);
    }
    int rc = fclose (file);
    return rc == 0 ? 0 : -1;
}

//  gnuplot's path from $PATH, owned, or NULL.
static char *
s_find_program (const char *name)
{
    const char *path = getenv ("PATH");
    char *copy = strdup (path && *path ? path : "/usr/bin:/bin");
    char *result = NULL;
    char *save = NULL;
    for (char *dir = copy ? strtok_r (copy, ":", &save) : NULL; dir && !result;
         dir = strtok_r (NULL, ":", &save)) {
        char *candidate = zsys_sprintf ("%s/%s", dir, name);
        if (candidate && access (candidate, X_OK) == 0) {
            result = candidate;
        }
        else {
            zstr_free (&candidate);
        }
    }
    free (copy);
    return result;
}

//  Appends text to a gnuplot single-quoted string ('' stands for ').
static void
s_gnuplot_quote (char *buf, size_t size, const char *text)
{
    size_t out = strlen (buf);
    for (const char *p = text; *p && out + 3 < size; p++) {
        if (*p == '\'') {
            buf[out++] = '\'';
        }
        buf[out++] = *p;
    }
    buf[out] = '\0';
}

static int
s_plot (const char *png, const s_results_t *r, bool listeners)
{
    char *gnuplot = s_find_program ("gnuplot");
    if (!gnuplot) {
        fprintf (stderr, "groupcast-loadgen: cannot plot: gnuplot not found (apt install "
                         "gnuplot-nox)\n");
        return -1;
    }
    char *dir = gc_tmpdir_new ("loadgen-plot");
    if (!dir) {
        free (gnuplot);
        return -1;
    }
    char data[4200];
    snprintf (data, sizeof data, "%s/latency.csv", dir);
    int rc = s_write_distribution (data, r);
    //  gnuplot runs in the temp directory: a relative output path is ours, not its.
    char cwd[4096] = "";
    if (png[0] != '/' && !getcwd (cwd, sizeof cwd)) {
        cwd[0] = '\0';
    }
    char script[12000] = "set terminal pngcairo size 1000,600\nset output '";
    if (cwd[0]) {
        s_gnuplot_quote (script, sizeof script, cwd);
        s_gnuplot_quote (script, sizeof script, "/");
    }
    s_gnuplot_quote (script, sizeof script, png);
    strcat (script, "'\nset datafile separator ','\nset logscale x\nset grid\n"
                    "set key top left\nset xlabel 'percentile'\nset ylabel 'latency (us)'\n"
                    "set xtics ('50%%' 2, '90%%' 10, '99%%' 100, '99.9%%' 1000, '99.99%%' 10000, "
                    "'99.999%%' 100000)\nset title 'groupcast latency by percentile'\n"
                    "plot '");
    s_gnuplot_quote (script, sizeof script, data);
    strcat (script, "' every ::1 using 2:3 with lines lw 2 title 'send -> ack'");
    if (listeners) {
        strcat (script, ", '' every ::1 using 2:4 with lines lw 2 title 'send -> delivery'");
    }
    strcat (script, "\n");
    char *err = NULL;
    char *argv[] = {gnuplot, NULL};
    if (rc == 0) {
        rc = gc_run (dir, argv, NULL, script, 30000, NULL, &err) == 0 ? 0 : -1;
        if (rc != 0) {
            fprintf (stderr, "groupcast-loadgen: gnuplot failed: %s\n", err ? err : "");
        }
    }
    free (err);
    free (gnuplot);
    gc_tmpdir_destroy (&dir);
    return rc;
}

//  ---------------------------------------------------------------------------------------------
//  The run

static void
s_progress (const s_opts_t *opts, s_run_t *run, int64_t now, uint64_t *prev, int64_t *prev_ns,
            bool tty)
{
    uint64_t cur[3] = {0, 0, 0};
    for (int i = 0; i < opts->senders; i++) {
        cur[0] += atomic_load_explicit (&run->senders[i]->sent, memory_order_relaxed);
        cur[1] += atomic_load_explicit (&run->senders[i]->acked, memory_order_relaxed);
    }
    for (int i = 0; i < opts->listeners; i++) {
        cur[2] += atomic_load_explicit (&run->listeners[i]->received, memory_order_relaxed);
    }
    double dt = (double) (now - *prev_ns) / 1e9;
    char a[32], b[32], c[32];
    fprintf (stderr, "%s%6.1fs  sent %11s/s  acked %11s/s  delivered %12s/s  in flight %-8" PRIu64
                     "%s",
             tty ? "\r" : "", (double) (now - run->start_ns) / 1e9,
             s_commas ((double) (cur[0] - prev[0]) / dt, a, sizeof a),
             s_commas ((double) (cur[1] - prev[1]) / dt, b, sizeof b),
             s_commas ((double) (cur[2] - prev[2]) / dt, c, sizeof c), cur[0] - cur[1],
             tty ? "" : "\n");
    memcpy (prev, cur, sizeof cur);
    *prev_ns = now;
}

static uint64_t
s_total_received (s_run_t *run)
{
    uint64_t total = 0;
    for (int i = 0; i < run->opts->listeners; i++) {
        total += atomic_load_explicit (&run->listeners[i]->received, memory_order_relaxed);
    }
    return total;
}

//  Sends and listens; fills r. Returns 0, or -1 if the run could not be set up.
static int
s_run (s_run_t *run, s_system_t *sys, s_results_t *r)
{
    const s_opts_t *opts = run->opts;
    int rc = -1;
    gc_identity_t *probe_identity = gc_identity_new_ephemeral ();
    gc_client_t *probe = probe_identity ? gc_client_new (run->server, probe_identity) : NULL;
    if (!probe) {
        fprintf (stderr, "groupcast-loadgen: out of memory\n");
        goto cleanup;
    }
    snprintf (run->probe_id, sizeof run->probe_id, "%s", gc_identity_id (probe_identity));
    gc_client_set_timeout (probe, S_SETUP_TIMEOUT);
    r->rss_before_kb = s_rss_total (sys);

    for (int i = 0; i < opts->listeners; i++) {
        run->listeners[i] = s_worker_new (run, i, false);
        if (!run->listeners[i] || s_worker_start (run->listeners[i]) != 0) {
            fprintf (stderr, "groupcast-loadgen: cannot start listener %d\n", i);
            goto cleanup;
        }
    }
    for (int i = 0; i < opts->senders; i++) {
        run->senders[i] = s_worker_new (run, i, true);
        if (!run->senders[i] || s_worker_start (run->senders[i]) != 0) {
            fprintf (stderr, "groupcast-loadgen: cannot start sender %d\n", i);
            goto cleanup;
        }
    }
    int setup_ms = 30000 + 100 * (opts->listeners + opts->senders) * opts->groups;
    if (s_wait_workers (run->listeners, opts->listeners, 1, setup_ms, "listeners subscribed") != 0
        || s_wait_workers (run->senders, opts->senders, 1, setup_ms, "senders joined") != 0) {
        goto cleanup;
    }
    //  The probe joins every group; a listener that has seen those joins is receiving, live or
    //  through its history repair, so no message is sent before anyone listens.
    for (int g = 0; g < opts->groups; g++) {
        if (gc_client_join (probe, run->specs[g], NULL) != GC_OK) {
            fprintf (stderr, "groupcast-loadgen: cannot join '%s': %s\n", run->names[g],
                     gc_client_error (probe));
            goto cleanup;
        }
    }
    if (s_wait_workers (run->listeners, opts->listeners, 2, setup_ms, "listeners live") != 0) {
        goto cleanup;
    }
    r->rss_setup_kb = s_rss_total (sys);

    bool tty = isatty (STDERR_FILENO);
    uint64_t prev[3] = {0, 0, 0};
    run->start_ns = s_now_ns ();
    run->end_ns = opts->count ? INT64_MAX : run->start_ns + opts->duration_us * 1000;
    int64_t prev_ns = run->start_ns;
    int64_t next_progress = run->start_ns + 1000000000;
    atomic_store_explicit (&run->phase, S_GO, memory_order_release);
    //  Bounded: senders stop at end_ns or their quota, or when interrupted.
    while (!zsys_interrupted) {
        int done = 0;
        for (int i = 0; i < opts->senders; i++) {
            done += atomic_load_explicit (&run->senders[i]->state, memory_order_acquire) != 1;
        }
        if (done == opts->senders) {
            break;
        }
        zclock_sleep (20);
        int64_t now = s_now_ns ();
        if (now >= next_progress && !opts->quiet) {
            s_progress (opts, run, now, prev, &prev_ns, tty);
            next_progress += 1000000000;
        }
    }
    for (int i = 0; i < opts->senders; i++) {
        for (int g = 0; g < opts->groups; g++) {
            run->expected_per_group[g] += run->senders[i]->acked_per_group[g];
        }
    }
    for (int i = 0; i < opts->listeners; i++) {
        s_worker_t *w = run->listeners[i];
        w->expected = 0;
        for (int k = 0; k < w->my_count; k++) {
            w->expected += run->expected_per_group[w->my_groups[k]];
        }
    }
    atomic_store_explicit (&run->phase, S_DRAIN, memory_order_release);
    //  Bounded: ends when every listener has all it should, or when deliveries stop for
    //  drain_ms (a listener that missed something never gets it).
    uint64_t last_total = s_total_received (run);
    int64_t quiet_since = s_now_ns ();
    while (!zsys_interrupted) {
        int done = 0;
        for (int i = 0; i < opts->listeners; i++) {
            done += atomic_load (&run->listeners[i]->received) >= run->listeners[i]->expected;
        }
        if (done == opts->listeners) {
            break;
        }
        zclock_sleep (20);
        int64_t now = s_now_ns ();
        uint64_t total = s_total_received (run);
        if (total != last_total) {
            last_total = total;
            quiet_since = now;
        }
        if (now - quiet_since > (int64_t) opts->drain_ms * 1000000) {
            break;
        }
        if (now >= next_progress && !opts->quiet) {
            s_progress (opts, run, now, prev, &prev_ns, tty);
            next_progress += 1000000000;
        }
    }
    if (!opts->quiet && tty) {
        fprintf (stderr, "\n");
    }
    rc = zsys_interrupted ? -1 : 0;

cleanup:
    atomic_store_explicit (&run->phase, S_DONE, memory_order_release);
    for (int i = 0; i < opts->senders; i++) {
        if (run->senders[i] && run->senders[i]->started) {
            pthread_join (run->senders[i]->thread, NULL);
            run->senders[i]->started = false;
        }
    }
    for (int i = 0; i < opts->listeners; i++) {
        if (run->listeners[i] && run->listeners[i]->started) {
            pthread_join (run->listeners[i]->thread, NULL);
            run->listeners[i]->started = false;
        }
    }
    if (rc == 0 && opts->history) {
        r->history_rate = s_read_history (run, probe, &r->history);
        if (r->history_rate < 0) {
            rc = -1;
        }
    }
    r->rss_after_kb = s_rss_total (sys);
    gc_client_destroy (&probe);
    gc_identity_destroy (&probe_identity);
    return rc;
}

static void
s_collect (s_run_t *run, s_results_t *r)
{
    const s_opts_t *opts = run->opts;
    int64_t last_send = run->start_ns, last_ack = run->start_ns, last_delivery = run->start_ns;
    int64_t first_send = INT64_MAX;
    for (int i = 0; i < opts->senders; i++) {
        s_worker_t *w = run->senders[i];
        r->sent += w->sent;
        r->acked += w->acked;
        r->failed += w->failed;
        s_hist_merge (&r->ack, &w->hist);
        last_send = w->last_ns > last_send ? w->last_ns : last_send;
        last_ack = w->last_ack_ns > last_ack ? w->last_ack_ns : last_ack;
        first_send = w->first_ns && w->first_ns < first_send ? w->first_ns : first_send;
        if (w->error[0]) {
            fprintf (stderr, "groupcast-loadgen: sender %d: %s\n", i, w->error);
        }
    }
    for (int i = 0; i < opts->listeners; i++) {
        s_worker_t *w = run->listeners[i];
        uint64_t expected = w->expected == UINT64_MAX ? 0 : w->expected;
        r->delivered += w->received;
        r->expected += expected;
        r->lost += w->received < expected ? expected - w->received : 0;
        r->duplicated += w->duplicated;
        r->out_of_order += w->out_of_order;
        r->foreign += w->foreign;
        s_hist_merge (&r->delivery, &w->hist);
        last_delivery = w->last_ns > last_delivery ? w->last_ns : last_delivery;
        if (w->error[0]) {
            fprintf (stderr, "groupcast-loadgen: listener %d: %s\n", i, w->error);
        }
    }
    if (first_send == INT64_MAX) {
        first_send = run->start_ns;
    }
    r->send_s = (double) (last_send - first_send) / 1e9;
    r->ack_s = (double) (last_ack - run->start_ns) / 1e9;
    r->deliver_s = (double) (last_delivery - run->start_ns) / 1e9;
}

//  One measurement: starts the system (unless --server), runs, stops it, then the baseline.
//  Returns 0 with r filled, or -1 if the run could not be set up or was interrupted.
static int
s_measure (const s_opts_t *opts, s_results_t *r)
{
    int rc = -1;
    s_run_t run;
    memset (&run, 0, sizeof run);
    s_system_t sys;
    memset (&sys, 0, sizeof sys);
    run.opts = opts;
    run.names = (char **) calloc ((size_t) opts->groups, sizeof (char *));
    run.specs = (char **) calloc ((size_t) opts->groups, sizeof (char *));
    run.expected_per_group = (uint64_t *) calloc ((size_t) opts->groups, sizeof (uint64_t));
    run.senders = (s_worker_t **) calloc ((size_t) opts->senders + 1, sizeof (s_worker_t *));
    run.listeners = (s_worker_t **) calloc ((size_t) opts->listeners + 1, sizeof (s_worker_t *));
    if (!run.names || !run.specs || !run.expected_per_group || !run.senders || !run.listeners
        || gc_wire_random ((uint8_t *) &run.run_id, sizeof run.run_id) != 0) {
        fprintf (stderr, "groupcast-loadgen: out of memory\n");
        goto cleanup;
    }
    atomic_init (&run.phase, S_SETUP);
    for (int g = 0; g < opts->groups; g++) {
        run.names[g] = opts->groups == 1 ? zsys_sprintf ("%s", opts->prefix)
                                         : zsys_sprintf ("%s-%d", opts->prefix, g + 1);
        if (!run.names[g]) {
            goto cleanup;
        }
    }
    r->loadavg = s_loadavg ();
    if (s_system_start (&sys, &run) != 0 || s_run (&run, &sys, r) != 0) {
        goto cleanup;
    }
    s_collect (&run, r);
    //  The system under test is stopped before the baseline runs, so it competes for nothing.
    r->clean_exit = s_system_stop (&sys);
    if (opts->baseline && !zsys_interrupted) {
        int64_t duration_ns = opts->duration_us ? opts->duration_us * 1000 : INT64_C (3000000000);
        if (duration_ns > INT64_C (10000000000)) {
            duration_ns = INT64_C (10000000000);
        }
        if (opts->listeners > 0) {
            r->pubsub = s_baseline_pubsub (opts->listeners, opts->size, duration_ns);
        }
        if (opts->senders > 0) {
            r->dealer = s_baseline_dealer (opts->senders, opts->window, opts->size, duration_ns);
        }
    }
    rc = zsys_interrupted ? -1 : 0;

cleanup:
    atomic_store (&run.phase, S_DONE);
    for (int i = 0; run.senders && i < opts->senders; i++) {
        s_worker_destroy (&run.senders[i]);
    }
    for (int i = 0; run.listeners && i < opts->listeners; i++) {
        s_worker_destroy (&run.listeners[i]);
    }
    s_system_destroy (&sys, opts->keep);
    for (int g = 0; g < opts->groups; g++) {
        if (run.names) {
            zstr_free (&run.names[g]);
        }
        if (run.specs) {
            zstr_free (&run.specs[g]);
        }
    }
    free (run.names);
    free (run.specs);
    free (run.expected_per_group);
    free (run.senders);
    free (run.listeners);
    return rc;
}

//  True when a run delivered everything exactly once, in order; says why not otherwise.
static bool
s_correct (const s_opts_t *opts, const s_results_t *r, int run)
{
    bool correct = r->lost == 0 && r->duplicated == 0 && r->out_of_order == 0 && r->failed == 0
                   && r->acked == r->sent && (!opts->history || r->history.ordered);
    if (!correct) {
        fprintf (stderr, "groupcast-loadgen: run %d FAILED: %" PRIu64 " lost, %" PRIu64
                         " duplicated, %" PRIu64 " out of order, %" PRIu64 " of %" PRIu64
                         " sends not acknowledged%s\n",
                 run, r->lost, r->duplicated, r->out_of_order, r->sent - r->acked, r->sent,
                 opts->history && !r->history.ordered ? ", history out of order" : "");
    }
    if (!r->clean_exit) {
        fprintf (stderr, "groupcast-loadgen: run %d FAILED: a process did not exit cleanly\n",
                 run);
    }
    return correct && r->clean_exit;
}

int
main (int argc, char **argv)
{
    s_opts_t opts;
    int status = s_parse_options (argc, argv, &opts);
    if (status >= 0) {
        return status;
    }
    //  A thousand listeners need more than czmq's default 1024 sockets, and two descriptors
    //  or more each.
    zsys_set_max_sockets (0);
    zsys_init ();
    zsys_set_logident ("groupcast-loadgen");
    zsys_set_logstream (stderr);
    zsys_set_logsystem (false);
    struct rlimit limit;
    if (getrlimit (RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
        limit.rlim_cur = limit.rlim_max;
        setrlimit (RLIMIT_NOFILE, &limit);
    }

    status = 1;
    bool ok = true;
    int done = 0;
    s_results_t *total = (s_results_t *) calloc (1, sizeof (s_results_t));
    s_results_t *r = (s_results_t *) calloc (1, sizeof (s_results_t));
    s_figures_t *figures = (s_figures_t *) calloc ((size_t) opts.repeat, sizeof (s_figures_t));
    if (!total || !r || !figures) {
        fprintf (stderr, "groupcast-loadgen: out of memory\n");
        goto cleanup;
    }
    total->history.ordered = true;
    //  Bounded by --repeat; each run by its own deadlines.
    for (int k = 0; k < opts.repeat && !zsys_interrupted; k++) {
        memset (r, 0, sizeof *r);
        if (s_measure (&opts, r) != 0) {
            goto cleanup;
        }
        s_figures (r, &figures[k]);
        ok = s_correct (&opts, r, k + 1) && ok;
        s_accumulate (total, r);
        total->history.ordered = total->history.ordered && r->history.ordered;
        total->clean_exit = r->clean_exit;
        if (opts.json) {
            s_print_json (stdout, &opts, r, &figures[k], opts.repeat > 1 ? k + 1 : -1);
        }
        else if (opts.repeat > 1) {
            s_print_run_line (stdout, k + 1, &figures[k]);
        }
        else {
            s_print_summary (stdout, &opts, r, &figures[k], 1);
        }
        fflush (stdout);
        done++;
    }
    if (done < opts.repeat) {
        goto cleanup;
    }
    if (opts.repeat > 1) {
        s_figures_t median;
        s_median (figures, (size_t) opts.repeat, &median);
        if (opts.json) {
            s_print_json (stdout, &opts, total, &median, 0);
        }
        else {
            s_print_summary (stdout, &opts, total, &median, opts.repeat);
        }
        fflush (stdout);
    }
    //  The distribution of every run together.
    if (opts.csv && s_write_distribution (opts.csv, total) != 0) {
        ok = false;
    }
    if (opts.plot && s_plot (opts.plot, total, opts.listeners > 0) != 0) {
        ok = false;
    }
    status = ok ? 0 : 1;

cleanup:
    free (total);
    free (r);
    free (figures);
    if (zsys_interrupted && status == 0) {
        status = 1;
    }
    return status;
}
