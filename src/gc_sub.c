/*  gc_sub - live entries from groups, exactly once and in order
    SPDX-License-Identifier: MPL-2.0

    The zguide's Clone pattern: subscribe first, then fetch what came before from history, and
    drop what was already delivered. Each group's stream keeps two numbers: `queued`, the last
    sequence number queued for the application, and `known_last`, the newest one the group is
    known to hold (from Info replies and from the last_seq of every published frame, heartbeats
    included). Whatever lies between the two is fetched from history, a page at a time, before
    the stream delivers anything newer; live entries at or below `queued` are dropped.

    The queue of entries waiting for the application is bounded. gc_sub_recv takes every frame
    waiting on the SUB socket on each call, so a slow application does not back frames up into
    the group; a live entry that finds the queue full is dropped and fetched again from history
    once the application has caught up (the group keeps it, and a page costs one request).

    A group heard from neither by a batch nor by a heartbeat for 3.5 heartbeat intervals is
    silent: we say so, ask it (or the registry) where it is, and say so again when it is back.
    A group whose newest sequence number is below what we already delivered was restarted
    without its history (a --memory group): it is followed again from its first entry.
*/
#include "gc_client_impl.h"

#define GC_SUB_SILENCE_MS     3500     //  silent this long is down, until heartbeats are timed
#define GC_SUB_SILENCE_MIN_MS 2000     //  and never less than this
#define GC_SUB_QUEUE_MAX      10000    //  entries waiting for the application, at most
#define GC_SUB_QUEUE_BYTES    (16 * 1024 * 1024)   //  bytes they may hold, about
#define GC_SUB_RETRY_MS       1000     //  a failed fetch is retried, a check repeated, after this
#define GC_SUB_DRAIN_MAX      1000     //  frames taken off the SUB socket per turn, at most
#define GC_SUB_SLICE_MS       250      //  longest single wait, so that an interrupt is seen

typedef struct {
    char name[GC_MAX_NAME + 1];                    //  group name, the key
    char group_id[GC_UUID_STR_LEN + 1];            //  instance followed ("" until known)
    char spec[GC_MAX_NAME + GC_MAX_ENDPOINT + 2];  //  how the caller named it
    char pub_endpoint[GC_MAX_ENDPOINT + 1];        //  connected PUB endpoint
    uint64_t queued;                               //  last sequence number queued
    uint64_t returned;                             //  last one handed to the application
    uint64_t known_last;                           //  newest the group is known to hold
    bool can_fetch;                                //  history repair possible (a member)
    bool behind;                                   //  missed live entries (told the user)
    bool fetch_failing;                            //  the last history fetch failed
    bool silent;                                   //  told the user the group went silent
    bool suspect;                                  //  a frame went backwards: ask the group
    int64_t last_heard;                            //  monotonic ms of the last frame
    int64_t last_heartbeat;                        //  monotonic ms of the last heartbeat, or 0
    int64_t silence_ms;                            //  this long without a frame is silence
    int64_t retry_at;                              //  no fetch before this (monotonic ms)
    int64_t verify_at;                             //  no suspect check before this
} s_stream_t;

//  An entry waiting to be delivered, with its own copies of every string, which follow the
//  struct in the same allocation (one malloc per entry on the delivery path).
typedef struct s_item {
    gc_entry_t entry;       //  view into the strings after this struct
    s_stream_t *stream;     //  its stream (streams live as long as the subscription)
    struct s_item *next;    //  next in the queue
    size_t size;            //  bytes counted against the queue's budget
} s_item_t;

struct gc_sub {
    size_t undrained;         //  entries returned since the SUB socket was last drained
    gc_wire_arena_t *arena;   //  each Publish frame is unpacked here, reset per frame
    gc_client_t *client;      //  borrowed
    zsock_t *sub;             //  one SUB socket for every group
    zhashx_t *streams;        //  name -> s_stream_t, owned
    zlistx_t *order;          //  the same streams in the order added, borrowed
    s_item_t *head;           //  the queue of entries to deliver, oldest first, owned
    s_item_t *tail;           //  its newest entry
    size_t queue_size;        //  how many entries it holds
    size_t queue_bytes;       //  bytes of the entries in queue
    size_t queue_max;         //  most entries queue holds
    s_item_t *current;        //  the entry last returned, freed by the next recv
    gc_notice_fn *notice_fn;  //  health notices
    void *notice_arg;         //  its argument
    char error[1024];         //  last failure
};

static void
s_item_destroy (void **item_p)
{
    s_item_t *item = (s_item_t *) *item_p;
    if (item) {
        free (item);
        *item_p = NULL;
    }
}

static void
s_stream_destroy (void **item)
{
    free (*item);
    *item = NULL;
}

gc_sub_t *
gc_sub_new (gc_client_t *client)
{
    assert (client);
    gc_sub_t *self = (gc_sub_t *) calloc (1, sizeof (gc_sub_t));
    if (!self) {
        return NULL;
    }
    self->client = client;
    self->queue_max = GC_SUB_QUEUE_MAX;
    self->sub = zsock_new (ZMQ_SUB);
    self->streams = zhashx_new ();
    self->order = zlistx_new ();
    self->arena = gc_wire_arena_new (0);
    if (!self->arena || !self->sub || !self->streams || !self->order) {
        gc_sub_destroy (&self);
        return NULL;
    }
    zsock_set_linger (self->sub, 0);
    zsock_set_rcvtimeo (self->sub, 0);   //  s_drain reads until nothing is left
    zsock_set_maxmsgsize (self->sub, GC_MAX_FRAME);
    zhashx_set_destructor (self->streams, s_stream_destroy);
    //  Test knob: a tiny high-water mark makes a slow reader drop live entries on purpose.
    const char *hwm = getenv ("GROUPCAST_SUB_RCVHWM");
    if (hwm && *hwm) {
        char *end = NULL;
        long value = strtol (hwm, &end, 10);
        if (*end || value < 1 || value > 1000000) {
            zsys_warning ("ignoring GROUPCAST_SUB_RCVHWM='%s': not a number 1-1000000", hwm);
        }
        else {
            self->queue_max = (size_t) value;
            zsock_set_rcvhwm (self->sub, (int) value);
        }
    }
    return self;
}

void
gc_sub_destroy (gc_sub_t **self_p)
{
    assert (self_p);
    gc_sub_t *self = *self_p;
    if (self) {
        s_item_destroy ((void **) &self->current);
        while (self->head) {
            s_item_t *item = self->head;
            self->head = item->next;
            free (item);
        }
        zlistx_destroy (&self->order);
        zhashx_destroy (&self->streams);
        zsock_destroy (&self->sub);
        gc_wire_arena_destroy (&self->arena);
        free (self);
        *self_p = NULL;
    }
}

const char *
gc_sub_error (const gc_sub_t *self)
{
    assert (self);
    return self->error;
}

void
gc_sub_set_notice_handler (gc_sub_t *self, gc_notice_fn *fn, void *arg)
{
    assert (self);
    self->notice_fn = fn;
    self->notice_arg = arg;
}

uint64_t
gc_sub_last_seq (gc_sub_t *self, const char *group)
{
    assert (self && group);
    s_stream_t *stream = (s_stream_t *) zhashx_lookup (self->streams, group);
    return stream ? stream->returned : 0;
}

int
gc_sub_fd (gc_sub_t *self)
{
    assert (self);
    return zsock_fd (self->sub);
}

static void s_notice (gc_sub_t *self, const char *group, const char *fmt, ...)
    __attribute__ ((format (printf, 3, 4)));

static void
s_notice (gc_sub_t *self, const char *group, const char *fmt, ...)
{
    if (!self->notice_fn) {
        return;
    }
    char text[1024];
    va_list args;
    va_start (args, fmt);
    vsnprintf (text, sizeof text, fmt, args);
    va_end (args);
    self->notice_fn (self->notice_arg, group, text);
}

static gc_status_t
s_fail (gc_sub_t *self, gc_status_t status, const char *text)
{
    snprintf (self->error, sizeof self->error, "%s", text);
    return status;
}

//  How many more entries the queue takes (0: full, by count or by bytes).
static size_t
s_room (gc_sub_t *self)
{
    size_t size = self->queue_size;
    if (size >= self->queue_max || self->queue_bytes >= GC_SUB_QUEUE_BYTES) {
        return 0;
    }
    return self->queue_max - size;
}

//  True when the queue is at most half full: time to fetch a page for a stream that is behind
//  (fetching at every free slot would cost one request per entry).
static bool
s_low (gc_sub_t *self)
{
    return self->queue_size <= self->queue_max / 2
           && self->queue_bytes <= GC_SUB_QUEUE_BYTES / 2;
}

//  Queues a copy of an entry for delivery. Returns 0, or -1 if out of memory.
static int
s_enqueue (gc_sub_t *self, s_stream_t *stream, uint64_t seq, int64_t ts_us, int kind,
           const char *sender, const char *name, const void *text, size_t text_len)
{
    size_t name_len = strlen (name);
    size_t sender_len = strlen (sender);
    size_t size = sender_len + name_len + text_len + 3;
    s_item_t *item = (s_item_t *) malloc (sizeof (s_item_t) + size);
    if (!item) {
        return -1;
    }
    char *block = (char *) (item + 1);
    memcpy (block, sender, sender_len + 1);
    memcpy (block + sender_len + 1, name, name_len + 1);
    char *copy = block + sender_len + name_len + 2;
    if (text_len) {
        memcpy (copy, text, text_len);
    }
    copy[text_len] = '\0';
    item->next = NULL;
    item->stream = stream;
    item->size = size;
    item->entry.group = stream->name;
    item->entry.seq = seq;
    item->entry.ts_us = ts_us;
    item->entry.kind = (gc_entry_kind_t) kind;
    item->entry.sender = block;
    item->entry.name = block + sender_len + 1;
    item->entry.text = copy;
    item->entry.text_len = text_len;
    if (self->tail) {
        self->tail->next = item;
    }
    else {
        self->head = item;
    }
    self->tail = item;
    self->queue_size++;
    self->queue_bytes += size;
    stream->queued = seq;
    return 0;
}

typedef struct {
    gc_sub_t *self;        //  the subscription
    s_stream_t *stream;    //  the stream being repaired
    bool failed;           //  an entry could not be queued (out of memory)
} s_repair_t;

static void
s_repair_entry (void *arg, const gc_entry_t *entry)
{
    s_repair_t *repair = (s_repair_t *) arg;
    s_stream_t *stream = repair->stream;
    if (repair->failed || entry->seq <= stream->queued || entry->seq > stream->known_last) {
        return;
    }
    if (entry->seq > stream->queued + 1) {
        s_notice (repair->self, stream->name,
                  "entries %" PRIu64 "-%" PRIu64 " are no longer in history", stream->queued + 1,
                  entry->seq - 1);
    }
    if (s_enqueue (repair->self, stream, entry->seq, entry->ts_us, entry->kind, entry->sender,
                   entry->name, entry->text, entry->text_len)
        != 0) {
        repair->failed = true;
    }
}

//  Fetches one page (at most `limit` entries) of what follows stream->queued up to known_last,
//  and queues it. Returns the fetch's status (GC_IO if out of memory).
static gc_status_t
s_fetch_page (gc_sub_t *self, s_stream_t *stream, size_t limit)
{
    gc_query_t query;
    memset (&query, 0, sizeof query);
    query.after_seq = stream->queued;
    query.before_seq = stream->known_last + 1;
    query.limit = limit < GC_FETCH_DEFAULT ? (uint32_t) limit : GC_FETCH_DEFAULT;
    uint64_t before = stream->queued;
    s_repair_t repair = {self, stream, false};
    gc_status_t status = gc_client_fetch (self->client, stream->spec, &query, s_repair_entry,
                                          &repair, NULL, NULL);
    if (status == GC_OK && repair.failed) {
        return s_fail (self, GC_IO, "out of memory");
    }
    if (status != GC_OK) {
        return s_fail (self, status, gc_client_error (self->client));
    }
    if (stream->queued == before) {
        //  Nothing in range any more (pruned): skip what history no longer holds.
        s_notice (self, stream->name,
                  "entries %" PRIu64 "-%" PRIu64 " are no longer in history", before + 1,
                  stream->known_last);
        stream->queued = stream->known_last;
    }
    return GC_OK;
}

//  Fetches from history, page by page while the queue has room, what each stream lacks up to
//  the newest entry its group is known to hold. A failed fetch is retried a second later.
static void
s_catch_up (gc_sub_t *self)
{
    for (s_stream_t *stream = (s_stream_t *) zlistx_first (self->order); stream;
         stream = (s_stream_t *) zlistx_next (self->order)) {
        //  Bounded: every page advances queued or ends the loop.
        while (stream->queued < stream->known_last && !stream->silent && !zsys_interrupted
               && s_low (self) && zclock_mono () >= stream->retry_at) {
            if (!stream->can_fetch) {
                s_notice (self, stream->name,
                          "missed entries %" PRIu64 "-%" PRIu64
                          " (join the group to repair gaps)",
                          stream->queued + 1, stream->known_last);
                stream->queued = stream->known_last;
                break;
            }
            size_t room = s_room (self);
            gc_status_t status = s_fetch_page (self, stream, room ? room : 1);
            if (status == GC_NOT_MEMBER || status == GC_FORBIDDEN) {
                stream->can_fetch = false;
                continue;
            }
            if (status != GC_OK) {
                if (!stream->fetch_failing && !zsys_interrupted) {
                    s_notice (self, stream->name,
                              "cannot fetch missed entries %" PRIu64 "-%" PRIu64
                              ": %s; retrying",
                              stream->queued + 1, stream->known_last, self->error);
                }
                stream->fetch_failing = true;
                stream->retry_at = zclock_mono () + GC_SUB_RETRY_MS;
                break;
            }
            stream->fetch_failing = false;
        }
        if (stream->behind && stream->queued >= stream->known_last) {
            stream->behind = false;
        }
    }
}

//  What an Info reply tells: the newest entry the group holds. Below what we already have, it
//  is a new instance of the group, counting from 1 again (for one instance, last_seq never goes
//  down, and every number we hold was committed before the Info was asked).
static void
s_apply_info (gc_sub_t *self, s_stream_t *stream, uint64_t last_seq, const char *group_id)
{
    bool new_instance = stream->group_id[0] && group_id[0] && !streq (stream->group_id, group_id);
    if (gc_wire_valid_uuid (group_id)) {
        snprintf (stream->group_id, sizeof stream->group_id, "%s", group_id);
    }
    if (new_instance || last_seq < stream->queued || last_seq < stream->known_last) {
        s_notice (self, stream->name,
                  "group restarted without its history (it ends at #%" PRIu64
                  ", we had #%" PRIu64 "); following it from its first entry",
                  last_seq, stream->queued > stream->known_last ? stream->queued
                                                                : stream->known_last);
        stream->queued = 0;
        stream->known_last = last_seq;
        stream->behind = false;
        stream->retry_at = 0;
    }
    else if (last_seq > stream->known_last) {
        stream->known_last = last_seq;
    }
}

static gc_status_t
s_connect (gc_sub_t *self, s_stream_t *stream, const char *pub_endpoint)
{
    if (streq (stream->pub_endpoint, pub_endpoint)) {
        //  ZeroMQ reconnects by itself to an endpoint that went away and came back.
        return GC_OK;
    }
    if (stream->pub_endpoint[0]) {
        zsock_disconnect (self->sub, "%s", stream->pub_endpoint);
        stream->pub_endpoint[0] = '\0';
    }
    if (zsock_connect (self->sub, "%s", pub_endpoint) != 0) {
        char text[512];
        snprintf (text, sizeof text, "cannot subscribe to %s: %s", pub_endpoint,
                  zmq_strerror (zmq_errno ()));
        return s_fail (self, GC_IO, text);
    }
    snprintf (stream->pub_endpoint, sizeof stream->pub_endpoint, "%s", pub_endpoint);
    return GC_OK;
}

gc_status_t
gc_sub_add (gc_sub_t *self, const char *spec, uint64_t after_seq)
{
    assert (self && spec);
    self->error[0] = '\0';
    gc_group_reply_t *reply = NULL;
    s_conn_t *conn = NULL;
    gc_status_t status = gc_client_info (self->client, spec, &reply, &conn);
    if (status != GC_OK) {
        return s_fail (self, status, gc_client_error (self->client));
    }
    if (!reply->pub_endpoint[0]) {
        gc_wire_group_reply_free (&reply);
        return s_fail (self, GC_PROTOCOL, "group did not say where it publishes");
    }
    s_stream_t *stream = (s_stream_t *) zhashx_lookup (self->streams, conn->name);
    bool fresh = stream == NULL;
    if (fresh) {
        stream = (s_stream_t *) calloc (1, sizeof (s_stream_t));
        if (!stream || !zlistx_add_end (self->order, stream)) {
            free (stream);
            gc_wire_group_reply_free (&reply);
            return s_fail (self, GC_IO, "out of memory");
        }
        snprintf (stream->name, sizeof stream->name, "%s", conn->name);
        stream->silence_ms = GC_SUB_SILENCE_MS;
        zhashx_insert (self->streams, stream->name, stream);
        char topic[GC_MAX_NAME + 2];
        gc_wire_topic (stream->name, topic);
        zsock_set_subscribe (self->sub, topic);
    }
    snprintf (stream->spec, sizeof stream->spec, "%s", spec);
    stream->can_fetch = true;
    stream->last_heard = zclock_mono ();
    uint64_t last_seq = reply->last_seq;
    char group_id[GC_UUID_STR_LEN + 1];
    snprintf (group_id, sizeof group_id, "%s", reply->group_id);
    status = s_connect (self, stream, reply->pub_endpoint);
    gc_wire_group_reply_free (&reply);
    if (status != GC_OK) {
        return status;
    }
    //  Subscribed before fetching: whatever is published from here on arrives live, or is
    //  fetched when a later frame or heartbeat shows it missing.
    if (fresh && gc_wire_valid_uuid (group_id)) {
        snprintf (stream->group_id, sizeof stream->group_id, "%s", group_id);
    }
    if (!fresh) {
        //  Already followed: it keeps its place.
        s_apply_info (self, stream, last_seq, group_id);
    }
    else if (after_seq == UINT64_MAX) {
        stream->queued = last_seq;
        stream->known_last = last_seq;
    }
    else {
        if (after_seq > last_seq) {
            s_notice (self, stream->name,
                      "history ends at #%" PRIu64 ", before #%" PRIu64
                      " (restarted without its history?); following it from its first entry",
                      last_seq, after_seq);
            after_seq = 0;
        }
        stream->queued = after_seq;
        stream->known_last = last_seq;
    }
    if (stream->queued >= stream->known_last) {
        return GC_OK;
    }
    //  The first page at once, so that a refused replay fails here and not later as a notice.
    size_t room = s_room (self);
    status = s_fetch_page (self, stream, room ? room : 1);
    if (status == GC_NOT_MEMBER || status == GC_FORBIDDEN) {
        stream->can_fetch = false;
        return s_fail (self, GC_NOT_MEMBER, "cannot replay history: not a member");
    }
    return status;
}

//  Handles one message from the SUB socket: frames that are not a valid Publish of a group we
//  follow are ignored.
static bool
s_receive (gc_sub_t *self)
{
    zmsg_t *msg = zmsg_recv (self->sub);
    if (!msg) {
        return false;   //  nothing waiting (the socket's receive timeout is 0)
    }
    zframe_t *topic = zmsg_first (msg);
    zframe_t *payload = zmsg_next (msg);
    if (zmsg_size (msg) != 2 || zframe_size (topic) < 2
        || zframe_size (topic) - 1 > GC_MAX_NAME) {
        zmsg_destroy (&msg);
        return true;
    }
    char name[GC_MAX_NAME + 1];
    size_t len = zframe_size (topic) - 1;
    memcpy (name, zframe_data (topic), len);
    name[len] = '\0';
    s_stream_t *stream = (s_stream_t *) zhashx_lookup (self->streams, name);
    char err[256];
    gc_wire_arena_reset (self->arena);
    ProtobufCAllocator *allocator = gc_wire_arena_allocator (self->arena);
    gc_publish_t *pub = stream ? gc_wire_publish_unpack (zframe_data (payload),
                                                         zframe_size (payload), allocator, err,
                                                         sizeof err)
                               : NULL;
    if (!pub || !streq (pub->group, stream->name)) {
        gc_wire_publish_free (&pub, allocator);
        zmsg_destroy (&msg);
        return true;
    }
    int64_t now = zclock_mono ();
    if (stream->silent) {
        stream->silent = false;
        stream->last_heartbeat = 0;   //  an outage is not a heartbeat interval
        s_notice (self, stream->name, "group is back");
    }
    stream->last_heard = now;
    if (pub->n_entries == 0) {
        //  Silence is judged against the group's own heartbeat interval.
        if (stream->last_heartbeat) {
            int64_t silence = (now - stream->last_heartbeat) * 7 / 2;
            stream->silence_ms = silence > GC_SUB_SILENCE_MIN_MS ? silence
                                                                 : GC_SUB_SILENCE_MIN_MS;
        }
        stream->last_heartbeat = now;
    }
    if (pub->last_seq < stream->queued || pub->last_seq < stream->known_last
        || (stream->group_id[0] && pub->group_id[0] && !streq (pub->group_id, stream->group_id))) {
        //  Either a frame sent before the Info we started from, or a new instance of the group
        //  counting from 1 again: an Info request tells which (s_check_liveness).
        stream->suspect = true;
    }
    //  Live entries were lost on the way (the SUB socket drops frames past its high-water
    //  mark, and nothing arrives while disconnected) when this frame starts past everything we
    //  know of, or, for a heartbeat, announces more.
    uint64_t have = stream->queued > stream->known_last ? stream->queued : stream->known_last;
    bool missed = pub->n_entries ? pub->entries[0]->seq > have + 1 : pub->last_seq > have;
    for (size_t i = 0; i < pub->n_entries; i++) {
        const Groupcast__V1__Entry *entry = pub->entries[i];
        if (entry->seq <= stream->queued) {
            continue;
        }
        if (entry->seq > stream->queued + 1) {
            break;   //  a gap: fetched from history first (s_catch_up)
        }
        if (s_room (self) == 0) {
            missed = true;   //  the application is slower than the stream
            break;
        }
        if (s_enqueue (self, stream, entry->seq, entry->ts_us, (int) entry->kind, entry->sender,
                       entry->name, entry->text.data, entry->text.len)
            != 0) {
            break;   //  out of memory: fetched from history later
        }
    }
    if (pub->last_seq > stream->known_last) {
        stream->known_last = pub->last_seq;
    }
    if (missed && !stream->behind && stream->known_last > stream->queued) {
        stream->behind = true;
        s_notice (self, stream->name, "missed live entries; catching up from history");
    }
    gc_wire_publish_free (&pub, allocator);
    zmsg_destroy (&msg);
    return true;
}

//  Takes every frame waiting on the SUB socket, bounded so that the checks still run.
static void
s_drain (gc_sub_t *self)
{
    //  A receive that finds nothing costs one look at the socket; ZMQ_EVENTS before each
    //  frame cost two system calls per frame.
    for (int i = 0; i < GC_SUB_DRAIN_MAX && s_receive (self); i++) {
    }
}

//  Notices a group gone silent and asks where it is now (a restarted group may publish
//  elsewhere), or checks a group whose frames went backwards. At most one request per call, as
//  each may wait up to the client's timeout. Returns true if it made one.
static bool
s_check_liveness (gc_sub_t *self)
{
    int64_t now = zclock_mono ();
    for (s_stream_t *stream = (s_stream_t *) zlistx_first (self->order); stream;
         stream = (s_stream_t *) zlistx_next (self->order)) {
        bool silent = now - stream->last_heard >= stream->silence_ms;
        bool verify = stream->suspect && now >= stream->verify_at;
        if (!silent && !verify) {
            continue;
        }
        if (zsys_interrupted) {
            return false;
        }
        if (silent) {
            if (!stream->silent) {
                stream->silent = true;
                s_notice (self, stream->name, "group is silent; waiting for it to return");
            }
            stream->last_heard = now;   //  asked again after another silent period
        }
        stream->suspect = false;
        stream->verify_at = now + GC_SUB_RETRY_MS;
        gc_group_reply_t *reply = NULL;
        s_conn_t *conn = NULL;
        if (gc_client_info (self->client, stream->spec, &reply, &conn) == GC_OK) {
            if (reply->pub_endpoint[0] && s_connect (self, stream, reply->pub_endpoint) != GC_OK) {
                s_notice (self, stream->name, "%s", self->error);
            }
            s_apply_info (self, stream, reply->last_seq, reply->group_id);
            gc_wire_group_reply_free (&reply);
        }
        else if (verify && !silent) {
            stream->suspect = true;   //  asked again a second later
        }
        return true;
    }
    return false;
}

gc_status_t
gc_sub_recv (gc_sub_t *self, int timeout_ms, const gc_entry_t **entry)
{
    assert (self && entry);
    s_item_destroy ((void **) &self->current);
    int64_t deadline = timeout_ms < 0 ? INT64_MAX : zclock_mono () + timeout_ms;
    zmq_pollitem_t item = {zsock_resolve (self->sub), 0, ZMQ_POLLIN, 0};
    //  Bounded by the deadline, or by an interrupt when waiting forever.
    while (true) {
        //  Taking frames off the socket costs a system call even when there are none: do it
        //  when the queue runs dry, and every 64 entries so the socket never backs up.
        if (self->queue_size == 0 || self->undrained >= 64) {
            s_drain (self);
            self->undrained = 0;
        }
        s_catch_up (self);
        if (self->queue_size > 0) {
            s_item_t *next = self->head;
            self->head = next->next;
            if (!self->head) {
                self->tail = NULL;
            }
            self->queue_size--;
            self->queue_bytes -= next->size;
            next->stream->returned = next->entry.seq;
            self->current = next;
            self->undrained++;
            *entry = &next->entry;
            return GC_OK;
        }
        if (s_check_liveness (self)) {
            continue;   //  it may have learnt of entries to fetch
        }
        int64_t now = zclock_mono ();
        if (now >= deadline || zsys_interrupted) {
            return GC_TIMEOUT;
        }
        //  In slices: an interrupt that lands just before the poll does not end it.
        int64_t wait = deadline - now;
        if (wait > GC_SUB_SLICE_MS) {
            wait = GC_SUB_SLICE_MS;
        }
        if (zmq_poll (&item, 1, (long) wait) < 0 && zmq_errno () != EINTR) {
            return s_fail (self, GC_IO, zmq_strerror (zmq_errno ()));
        }
    }
}
