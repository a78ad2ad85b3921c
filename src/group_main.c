/*  group_main - groupcast-group, one process per group: ROUTER for requests, PUB for live
    messages, the group's history in SQLite
    SPDX-License-Identifier: MPL-2.0
*/
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "gc_group.h"
#include "gc_registrar.h"
#include "gc_time.h"
#include "gc_wire.h"

typedef struct {
    const char *name;          //  --name
    const char *server;        //  --server
    const char *bind;          //  --bind
    const char *pub;           //  --pub
    const char *advertise;     //  --advertise
    const char *data;          //  --data
    bool memory;               //  --memory
    gc_store_sync_t sync;      //  --sync
    uint64_t retain_messages;  //  --retain-messages
    int64_t retain_age_us;     //  --retain-age
    int timeout_ms;            //  --timeout
    int heartbeat_ms;          //  --heartbeat: PUB heartbeats
    long max_batch;            //  --max-batch: sends per commit at most
    bool verbose;              //  --verbose
} s_options_t;

//  A request's envelope, handed to the group as its cookie and back to the reply sink: the
//  ROUTER routing id, and the frame between it and the payload when there was one (a REQ peer's
//  empty delimiter). Envelopes are pooled: the reply sink puts each back on the free list, so
//  a busy loop allocates none.
typedef struct s_envelope {
    struct s_envelope *next;     //  next free envelope
    zmq_msg_t middle;            //  the frame between id and payload, if has_middle
    bool has_middle;             //  a frame to send back between id and reply
    size_t id_size;              //  bytes of id
    uint8_t id[256];             //  routing id (ZeroMQ makes them at most 255 bytes)
} s_envelope_t;

//  The sockets the sinks write to.
typedef struct {
    zsock_t *router;             //  requests and replies
    void *router_handle;         //  its libzmq socket
    zsock_t *pub;                //  live batches
    void *pub_handle;            //  its libzmq socket
    char topic[GC_MAX_NAME + 2]; //  "<name>/"
    size_t topic_len;            //  its length
    s_envelope_t *free;          //  pooled envelopes
    size_t subscribers;          //  subscriptions to topic, counted off the XPUB
} s_wiring_t;

static void
s_usage (FILE *out)
{
    fprintf (out,
        "usage: groupcast-group --name NAME [--server ENDPOINT] [--bind ENDPOINT]\n"
        "                       [--pub ENDPOINT] [--advertise HOST] [--data DIR | --memory]\n"
        "                       [--sync full|normal] [--retain-messages N]\n"
        "                       [--retain-age DURATION] [--timeout MS] [--heartbeat MS]\n"
        "                       [--max-batch N] [--verbose] [--help] [--version]\n"
        "\n"
        "One groupcast group: serves join, leave, send, history and members on a ROUTER socket,\n"
        "publishes every accepted message on a PUB socket, keeps members and history.\n"
        "\n"
        "  --name NAME            group name, 1-64 of A-Z a-z 0-9 . _ -  (required)\n"
        "  --server ENDPOINT      the registry (default $GROUPCAST_SERVER, else\n"
        "                         tcp://127.0.0.1:5555)\n"
        "  --bind ENDPOINT        request socket (default tcp://*:*, a free port)\n"
        "  --pub ENDPOINT         publish socket (default tcp://*:*, a free port)\n"
        "  --advertise HOST       host clients use to reach a wildcard bind (default 127.0.0.1)\n"
        "  --data DIR             where the group's database lives\n"
        "                         (default <state dir>/groups/NAME)\n"
        "  --memory               keep history in memory only (lost at exit)\n"
        "  --sync full|normal     full (default): an acknowledged message survives power loss;\n"
        "                         normal: it survives a crash of this process only\n"
        "  --retain-messages N    keep only the newest N entries\n"
        "  --retain-age DURATION  drop entries older than this (90s, 10m, 2h, 7d)\n"
        "  --timeout MS           registry timeout (default 3000)\n"
        "  --heartbeat MS         how often the PUB socket announces last_seq (default 1000)\n"
        "  --max-batch N          commit at most N sends per transaction (default 4096;\n"
        "                         1 = one transaction per message, for comparison)\n"
        "  --verbose              log per-message detail\n"
        "\n"
        "Prints \"READY <endpoint> <pub_endpoint>\" on stdout once registered.\n"
        "\n"
        "examples:\n"
        "  groupcast-group --name ops\n"
        "  groupcast-group --name ops --bind tcp://*:5601 --pub tcp://*:5602 --advertise myhost\n");
}

static int
s_parse_options (int argc, char **argv, s_options_t *opts)
{
    memset (opts, 0, sizeof *opts);
    opts->server = getenv ("GROUPCAST_SERVER");
    if (!opts->server || !*opts->server) {
        opts->server = "tcp://127.0.0.1:5555";
    }
    opts->bind = "tcp://*:*";
    opts->pub = "tcp://*:*";
    opts->sync = GC_STORE_SYNC_FULL;
    opts->timeout_ms = 3000;
    opts->heartbeat_ms = 1000;
    static const struct option options[] = {
        {"name", required_argument, NULL, 'n'},
        {"server", required_argument, NULL, 's'},
        {"bind", required_argument, NULL, 'b'},
        {"pub", required_argument, NULL, 'p'},
        {"advertise", required_argument, NULL, 'a'},
        {"data", required_argument, NULL, 'd'},
        {"memory", no_argument, NULL, 'm'},
        {"sync", required_argument, NULL, 'S'},
        {"retain-messages", required_argument, NULL, 'R'},
        {"retain-age", required_argument, NULL, 'A'},
        {"timeout", required_argument, NULL, 't'},
        {"heartbeat", required_argument, NULL, 'H'},
        {"max-batch", required_argument, NULL, 'B'},
        {"verbose", no_argument, NULL, 'v'},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0}};
    int opt;
    char err[256];
    while ((opt = getopt_long (argc, argv, "n:s:b:p:a:d:hv", options, NULL)) != -1) {
        char *end = NULL;
        switch (opt) {
        case 'n':
            opts->name = optarg;
            break;
        case 's':
            opts->server = optarg;
            break;
        case 'b':
            opts->bind = optarg;
            break;
        case 'p':
            opts->pub = optarg;
            break;
        case 'a':
            opts->advertise = optarg;
            break;
        case 'd':
            opts->data = optarg;
            break;
        case 'm':
            opts->memory = true;
            break;
        case 'S':
            if (streq (optarg, "full")) {
                opts->sync = GC_STORE_SYNC_FULL;
            }
            else if (streq (optarg, "normal")) {
                opts->sync = GC_STORE_SYNC_NORMAL;
            }
            else {
                fprintf (stderr, "groupcast-group: --sync must be full or normal\n");
                return 2;
            }
            break;
        case 'R':
            opts->retain_messages = strtoull (optarg, &end, 10);
            if (!*optarg || *end || opts->retain_messages == 0 || optarg[0] == '-') {
                fprintf (stderr, "groupcast-group: invalid --retain-messages '%s'\n", optarg);
                return 2;
            }
            break;
        case 'A':
            if (gc_time_parse_duration (optarg, &opts->retain_age_us, err, sizeof err) != 0) {
                fprintf (stderr, "groupcast-group: invalid --retain-age: %s\n", err);
                return 2;
            }
            break;
        case 't':
            opts->timeout_ms = (int) strtol (optarg, &end, 10);
            if (!*optarg || *end || opts->timeout_ms <= 0 || opts->timeout_ms > 600000) {
                fprintf (stderr, "groupcast-group: invalid --timeout '%s'\n", optarg);
                return 2;
            }
            break;
        case 'B':
            opts->max_batch = strtol (optarg, &end, 10);
            if (!*optarg || *end || opts->max_batch < 1 || opts->max_batch > 100000) {
                fprintf (stderr, "groupcast-group: invalid --max-batch '%s' (1-100000)\n", optarg);
                return 2;
            }
            break;
        case 'H':
            opts->heartbeat_ms = (int) strtol (optarg, &end, 10);
            if (!*optarg || *end || opts->heartbeat_ms < 10 || opts->heartbeat_ms > 60000) {
                fprintf (stderr, "groupcast-group: invalid --heartbeat '%s' (10-60000)\n", optarg);
                return 2;
            }
            break;
        case 'v':
            opts->verbose = true;
            break;
        case 'h':
            s_usage (stdout);
            return 0;
        case 'V':
            printf ("groupcast-group %s\n", GROUPCAST_VERSION);
            return 0;
        default:
            s_usage (stderr);
            return 2;
        }
    }
    if (optind < argc) {
        fprintf (stderr, "groupcast-group: unexpected argument '%s'\n", argv[optind]);
        return 2;
    }
    if (!opts->name) {
        fprintf (stderr, "groupcast-group: --name is required (see --help)\n");
        return 2;
    }
    if (!gc_wire_valid_group_name (opts->name)) {
        fprintf (stderr,
                 "groupcast-group: invalid group name '%s': use 1-64 of A-Z a-z 0-9 . _ -\n",
                 opts->name);
        return 2;
    }
    if (opts->advertise && (!*opts->advertise || strchr (opts->advertise, '/'))) {
        fprintf (stderr, "groupcast-group: invalid --advertise host '%s'\n", opts->advertise);
        return 2;
    }
    return -1;
}

//  Makes dir and its parents (mode 0700). Returns 0 or -1 with errno set.
static int
s_mkdirs (const char *dir)
{
    char path[4096];
    if (snprintf (path, sizeof path, "%s", dir) >= (int) sizeof path) {
        errno = ENAMETOOLONG;
        return -1;
    }
    for (char *p = path + 1; *p; p++) {
        if (*p == '/') {
            *p = '\0';
            if (mkdir (path, 0700) != 0 && errno != EEXIST) {
                return -1;
            }
            *p = '/';
        }
    }
    if (mkdir (path, 0700) != 0 && errno != EEXIST) {
        return -1;
    }
    return 0;
}

static gc_store_t *
s_open_store (const s_options_t *opts, char *err, size_t errlen)
{
    if (opts->memory) {
        gc_store_t *store = gc_store_new_memory ();
        if (!store) {
            snprintf (err, errlen, "cannot create memory store: out of memory");
        }
        return store;
    }
    char dir[4096];
    if (opts->data) {
        snprintf (dir, sizeof dir, "%s", opts->data);
    }
    else {
        char *home = gc_identity_default_home ();
        if (!home) {
            snprintf (err, errlen, "no state directory: set --data, GROUPCAST_HOME or HOME");
            return NULL;
        }
        snprintf (dir, sizeof dir, "%s/groups/%s", home, opts->name);
        free (home);
    }
    if (s_mkdirs (dir) != 0) {
        snprintf (err, errlen, "cannot create data directory '%s': %s", dir, strerror (errno));
        return NULL;
    }
    char path[4200];
    snprintf (path, sizeof path, "%s/group.db", dir);
    return gc_store_new_sqlite (path, opts->sync, err, errlen);
}

static s_envelope_t *
s_envelope_take (s_wiring_t *wiring)
{
    s_envelope_t *envelope = wiring->free;
    if (envelope) {
        wiring->free = envelope->next;
    }
    else {
        envelope = (s_envelope_t *) malloc (sizeof (s_envelope_t));
    }
    if (envelope) {
        envelope->next = NULL;
        envelope->has_middle = false;
        envelope->id_size = 0;
    }
    return envelope;
}

static void
s_envelope_put (s_wiring_t *wiring, s_envelope_t *envelope)
{
    if (envelope->has_middle) {
        zmq_msg_close (&envelope->middle);
        envelope->has_middle = false;
    }
    envelope->next = wiring->free;
    wiring->free = envelope;
}

static void
s_envelopes_destroy (s_wiring_t *wiring)
{
    while (wiring->free) {
        s_envelope_t *next = wiring->free->next;
        free (wiring->free);
        wiring->free = next;
    }
}

static void
s_reply_sink (void *arg, void *cookie, zframe_t **reply_p)
{
    s_wiring_t *wiring = (s_wiring_t *) arg;
    s_envelope_t *envelope = (s_envelope_t *) cookie;
    if (*reply_p) {
        //  ROUTER drops a reply to a peer that is gone or over its high-water mark; never
        //  blocks. The reply frame's message moves to libzmq without a copy.
        zmq_send (wiring->router_handle, envelope->id, envelope->id_size, ZMQ_SNDMORE);
        if (envelope->has_middle) {
            zmq_msg_send (&envelope->middle, wiring->router_handle, ZMQ_SNDMORE);
            zmq_msg_init (&envelope->middle);
        }
        zframe_send (reply_p, wiring->router, 0);
    }
    s_envelope_put (wiring, envelope);
}

static void
s_publish_sink (void *arg, zframe_t **frame_p)
{
    s_wiring_t *wiring = (s_wiring_t *) arg;
    //  The batch moves to libzmq without a copy (zsock_send's "f" would copy it).
    zmq_send (wiring->pub_handle, wiring->topic, wiring->topic_len, ZMQ_SNDMORE);
    zframe_send (frame_p, wiring->pub, 0);
}

//  Counts the subscriptions to this group's messages for Stats, from the subscribe (first byte
//  1) and unsubscribe (0) messages the XPUB passes up: in verbose(r) mode it passes every
//  subscriber's, and a subscriber that goes away is unsubscribed. A topic that is a prefix of
//  ours (the empty one too) gets our messages. Counting only affects the figures.
static void
s_count_subscriptions (gc_group_t *group, s_wiring_t *wiring)
{
    for (int i = 0; i < 1024; i++) {
        zmq_msg_t msg;
        zmq_msg_init (&msg);
        if (zmq_msg_recv (&msg, wiring->pub_handle, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close (&msg);
            break;
        }
        const uint8_t *data = (const uint8_t *) zmq_msg_data (&msg);
        size_t size = zmq_msg_size (&msg);
        if (size >= 1 && size - 1 <= wiring->topic_len
            && memcmp (data + 1, wiring->topic, size - 1) == 0) {
            if (data[0] == 1) {
                wiring->subscribers++;
            }
            else if (data[0] == 0 && wiring->subscribers > 0) {
                wiring->subscribers--;
            }
        }
        zmq_msg_close (&msg);
    }
    gc_group_set_subscribers (group, wiring->subscribers);
}

//  Reads one request off the ROUTER, if one is waiting, and hands it to the group: the routing
//  id and an optional frame (REQ peers send an empty delimiter) make its envelope, the last
//  frame is the payload. Returns 1 if a message was read, 0 if none was waiting.
static int
s_receive (gc_group_t *group, s_wiring_t *wiring)
{
    //  Straight from libzmq into messages on the stack: a request costs no czmq frame or list
    //  allocation, and no ZMQ_EVENTS query (the caller stops at EAGAIN).
    zmq_msg_t parts[3];
    zmq_msg_init (&parts[0]);
    if (zmq_msg_recv (&parts[0], wiring->router_handle, ZMQ_DONTWAIT) < 0) {
        zmq_msg_close (&parts[0]);
        return 0;
    }
    size_t frames = 1;
    bool more = zmq_msg_more (&parts[0]);
    //  Bounded: a multipart message has finitely many frames, all already queued.
    while (more) {
        zmq_msg_t extra;
        zmq_msg_t *part = frames < 3 ? &parts[frames] : &extra;
        zmq_msg_init (part);
        if (zmq_msg_recv (part, wiring->router_handle, 0) < 0) {
            zmq_msg_close (part);
            break;
        }
        more = zmq_msg_more (part);
        frames++;
        if (part == &extra) {
            zmq_msg_close (&extra);
        }
    }
    size_t kept = frames < 3 ? frames : 3;
    s_envelope_t *envelope = s_envelope_take (wiring);
    if (!envelope || zmq_msg_size (&parts[0]) > sizeof envelope->id) {
        zsys_error ("cannot take a request to group '%s': %s", gc_group_name (group),
                    envelope ? "routing id too long" : "out of memory");
        if (envelope) {
            s_envelope_put (wiring, envelope);
        }
        for (size_t i = 0; i < kept; i++) {
            zmq_msg_close (&parts[i]);
        }
        return 1;
    }
    envelope->id_size = zmq_msg_size (&parts[0]);
    memcpy (envelope->id, zmq_msg_data (&parts[0]), envelope->id_size);
    zmq_msg_t *payload = NULL;
    if (frames == 2) {
        payload = &parts[1];
    }
    else if (frames == 3) {
        //  The middle frame goes back with the reply, as a REQ peer expects.
        bool empty = zmq_msg_size (&parts[1]) == 0;
        zmq_msg_init (&envelope->middle);
        zmq_msg_move (&envelope->middle, &parts[1]);
        envelope->has_middle = true;
        payload = empty ? &parts[2] : NULL;
    }
    if (payload) {
        gc_group_request (group, (const uint8_t *) zmq_msg_data (payload), zmq_msg_size (payload),
                          envelope);
    }
    else {
        //  Judge a malformed envelope as an undecodable request, so it gets the error reply.
        static const uint8_t junk[] = {0xff, 0xff};
        zsys_warning ("BAD REQUEST to group '%s': %zu frames", gc_group_name (group), frames);
        gc_group_request (group, junk, sizeof junk, envelope);
    }
    for (size_t i = 0; i < kept; i++) {
        zmq_msg_close (&parts[i]);
    }
    return 1;
}

int
main (int argc, char **argv)
{
    zsys_init ();
    zsys_set_logident ("groupcast-group");
    zsys_set_logstream (stderr);
    zsys_set_logsystem (false);

    s_options_t opts;
    int rc = s_parse_options (argc, argv, &opts);
    if (rc >= 0) {
        return rc;
    }

    int status = 1;
    char err[4400] = "";
    s_wiring_t wiring;
    memset (&wiring, 0, sizeof wiring);
    gc_group_t *group = NULL;
    gc_registrar_t *registrar = NULL;
    zpoller_t *poller = NULL;
    char endpoint[GC_MAX_ENDPOINT + 1], pub_endpoint[GC_MAX_ENDPOINT + 1];

    gc_store_t *store = s_open_store (&opts, err, sizeof err);
    if (!store) {
        zsys_error ("%s", err);
        goto cleanup;
    }
    wiring.router = zsock_new (ZMQ_ROUTER);
    //  An XPUB publishes as a PUB does, and lets us count subscribers (s_count_subscriptions).
    wiring.pub = zsock_new (ZMQ_XPUB);
    if (!wiring.router || !wiring.pub) {
        zsys_error ("cannot create sockets: %s", zmq_strerror (zmq_errno ()));
        gc_store_destroy (&store);
        goto cleanup;
    }
    wiring.router_handle = zsock_resolve (wiring.router);
    wiring.pub_handle = zsock_resolve (wiring.pub);
    zsock_set_maxmsgsize (wiring.router, GC_MAX_FRAME);
    zsock_set_rcvhwm (wiring.router, 100000);
    zsock_set_sndhwm (wiring.router, 100000);
    //  A subscriber that falls 1000 batches behind loses frames and repairs from history; the
    //  group never buffers more than that for it (a batch holds up to 1 MiB).
    zsock_set_sndhwm (wiring.pub, 1000);
    zsock_set_xpub_verbose (wiring.pub, 1);
    zsock_set_xpub_verboser (wiring.pub, 1);
    //  Acknowledgements already committed get a moment to leave at exit.
    zsock_set_linger (wiring.router, 1000);
    zsock_set_linger (wiring.pub, 0);
    const char *binds[2] = {opts.bind, opts.pub};
    zsock_t *socks[2] = {wiring.router, wiring.pub};
    char *advertised[2] = {endpoint, pub_endpoint};
    for (int i = 0; i < 2; i++) {
        if (zsock_bind (socks[i], "%s", binds[i]) < 0) {
            zsys_error ("cannot bind %s: %s", binds[i], zmq_strerror (zmq_errno ()));
            gc_store_destroy (&store);
            goto cleanup;
        }
        char *bound = zsock_last_endpoint (socks[i]);
        int fits = gc_wire_advertise (bound, opts.advertise, advertised[i], GC_MAX_ENDPOINT + 1);
        zstr_free (&bound);
        if (fits != 0 || !gc_wire_valid_endpoint (advertised[i])) {
            zsys_error ("cannot advertise %s: not a connectable endpoint (use --advertise)",
                        binds[i]);
            gc_store_destroy (&store);
            goto cleanup;
        }
    }
    group = gc_group_new (opts.name, pub_endpoint, &store, err, sizeof err);
    if (!group) {
        zsys_error ("%s", err);
        goto cleanup;
    }
    wiring.topic_len = gc_wire_topic (opts.name, wiring.topic);
    gc_group_set_sinks (group, s_reply_sink, s_publish_sink, &wiring);
    gc_group_set_retention (group, opts.retain_messages, opts.retain_age_us);
    gc_group_set_verbose (group, opts.verbose);
    if (opts.max_batch > 0) {
        gc_group_set_max_batch (group, (size_t) opts.max_batch);
    }

    registrar = gc_registrar_new (opts.server, opts.name, endpoint, pub_endpoint,
                                  gc_group_id (group), opts.timeout_ms, err, sizeof err);
    if (!registrar) {
        zsys_error ("%s", err);
        goto cleanup;
    }
    poller = zpoller_new (wiring.router, wiring.pub, NULL);
    if (!poller) {
        goto cleanup;
    }
    zsys_info ("group '%s' serving on %s, publishing on %s, last_seq=%" PRIu64, opts.name,
               endpoint, pub_endpoint, gc_group_last_seq (group));
    printf ("READY %s %s\n", endpoint, pub_endpoint);
    fflush (stdout);

    int64_t next_heartbeat = zclock_mono () + opts.heartbeat_ms;
    while (!zsys_interrupted) {
        int64_t wait = next_heartbeat - zclock_mono ();
        zsock_t *which = (zsock_t *) zpoller_wait (poller, wait > 0 ? (int) wait : 0);
        if (which == wiring.router) {
            //  One turn: take everything already queued (bounded), commit it once.
            for (int i = 0; i < 8192 && s_receive (group, &wiring); i++) {
            }
            gc_group_flush (group);
        }
        else if (which == wiring.pub) {
            s_count_subscriptions (group, &wiring);
        }
        else if (zpoller_terminated (poller)) {
            break;
        }
        if (zclock_mono () >= next_heartbeat) {
            s_count_subscriptions (group, &wiring);   //  the poller favours requests under load
            gc_group_heartbeat (group);
            next_heartbeat = zclock_mono () + opts.heartbeat_ms;
        }
    }
    gc_group_flush (group);
    zsys_info ("group '%s' stopping at last_seq=%" PRIu64, opts.name, gc_group_last_seq (group));
    status = 0;

cleanup:
    gc_registrar_destroy (&registrar);
    zpoller_destroy (&poller);
    gc_group_destroy (&group);
    zsock_destroy (&wiring.pub);
    zsock_destroy (&wiring.router);
    s_envelopes_destroy (&wiring);
    return status;
}
