/*  gc_sub - live entries from groups, exactly once and in order
    SPDX-License-Identifier: MPL-2.0

    The zguide's Clone pattern: subscribe first, then fetch what came before from history, and
    drop what was already delivered. Each group's stream keeps two numbers: `queued`, the last
    sequence number queued for the application, and `known_last`, the newest one the group is
    known to hold (from Info replies and from the last_seq of every published frame, heartbeats
    included). Whatever lies between the two is fetched from history, a page at a time, before
    the stream delivers anything newer; live entries at or below `queued` are dropped.

    Live frames are queued as they arrive and unpacked only when the application reaches them;
    their entries are handed out as views into the unpacked frame, with no copy per entry (the
    arena it is unpacked into ends every bytes field with a NUL, which the view's text needs).
    Entries fetched from history are copied into a second queue. Delivery order: what is left
    of the frame being handed out (all at or below `queued`), then history entries, then the
    next frame. Both queues are bounded. gc_sub_recv takes every frame waiting on the SUB
    socket, so a slow application does not back frames up into the group (whose PUB socket
    would hold up to 1000 of them, of up to 1 MiB each, for this subscriber); a frame that
    finds the queue full is dropped unread, and the next frame opened shows the gap, which is
    fetched from history once the application has caught up (the group keeps it, and a page
    costs one request).

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

//  A frame from the SUB socket, waiting to be unpacked.
typedef struct s_frame {
    zmq_msg_t payload;        //  the Publish
    s_stream_t *stream;       //  the stream its topic names
    int64_t arrived;          //  monotonic ms when it was taken off the socket
    struct s_frame *next;     //  next in the queue, or in the spare list
} s_frame_t;

struct gc_sub {
    size_t undrained;         //  entries returned since the SUB socket was last drained
    s_frame_t *frames;        //  frames waiting to be unpacked, oldest first, owned
    s_frame_t *frames_tail;   //  the newest of them
    size_t frame_count;       //  how many
    size_t frame_bytes;       //  bytes of their payloads
    s_frame_t *spare;         //  frames kept for reuse (payload closed), owned
    s_frame_t *open;          //  the frame being handed out (or NULL), owned
    gc_publish_t *pub;        //  open frame unpacked, in the arena
    size_t next_entry;        //  index of the next entry of pub to hand out
    size_t end_entry;         //  one past the last one
    gc_entry_t view;          //  the entry last handed out from the open frame
    gc_wire_arena_t *arena;   //  the open frame is unpacked here, reset per frame
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

//  Keeps a frame that is done with for reuse (its payload is closed).
static void
s_recycle (gc_sub_t *self, s_frame_t *frame)
{
    zmq_msg_close (&frame->payload);
    frame->next = self->spare;
    self->spare = frame;
}

//  Ends the open frame, if any, keeping it for reuse.
static void
s_close_frame (gc_sub_t *self)
{
    if (self->open) {
        s_recycle (self, self->open);
        self->open = NULL;
        self->pub = NULL;
    }
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
        s_close_frame (self);
        while (self->frames) {
            s_frame_t *frame = self->frames;
            self->frames = frame->next;
            zmq_msg_close (&frame->payload);
            free (frame);
        }
        while (self->spare) {
            s_frame_t *frame = self->spare;
            self->spare = frame->next;
            free (frame);
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

//  Takes one message off the SUB socket into the frame queue. A message that is not a topic
//  and one payload, or whose topic names no group we follow, is dropped. Returns false when
//  nothing was waiting (the socket's receive timeout is 0) or out of memory.
static bool
s_take (gc_sub_t *self)
{
    void *sub = zsock_resolve (self->sub);
    s_frame_t *frame = self->spare;
    if (frame) {
        self->spare = frame->next;
    }
    else if (!(frame = (s_frame_t *) malloc (sizeof (s_frame_t)))) {
        return false;
    }
    zmq_msg_t topic;
    zmq_msg_init (&topic);
    zmq_msg_init (&frame->payload);
    bool taken = zmq_msg_recv (&topic, sub, ZMQ_DONTWAIT) >= 0;
    bool valid = false;
    if (taken && zmq_msg_more (&topic)) {
        valid = zmq_msg_recv (&frame->payload, sub, ZMQ_DONTWAIT) >= 0;
        //  A third part makes the message invalid; the rest of it is read and dropped.
        //  Bounded: a message has finitely many parts, all there once the first is.
        bool more = valid && zmq_msg_more (&frame->payload);
        valid = valid && !more;
        while (more) {
            zmq_msg_t extra;
            zmq_msg_init (&extra);
            more = zmq_msg_recv (&extra, sub, ZMQ_DONTWAIT) >= 0 && zmq_msg_more (&extra);
            zmq_msg_close (&extra);
        }
    }
    s_stream_t *stream = NULL;
    size_t len = zmq_msg_size (&topic);
    if (valid && len >= 2 && len - 1 <= GC_MAX_NAME) {
        char name[GC_MAX_NAME + 1];
        memcpy (name, zmq_msg_data (&topic), len - 1);
        name[len - 1] = '\0';
        stream = (s_stream_t *) zhashx_lookup (self->streams, name);
    }
    zmq_msg_close (&topic);
    if (!stream) {
        s_recycle (self, frame);
        return taken;
    }
    frame->stream = stream;
    frame->arrived = zclock_mono ();
    frame->next = NULL;
    //  Heard from, whatever the frame holds: liveness does not wait for the application.
    stream->last_heard = frame->arrived;
    if (stream->silent) {
        stream->silent = false;
        stream->last_heartbeat = 0;   //  an outage is not a heartbeat interval
        s_notice (self, stream->name, "group is back");
    }
    if (self->frame_count >= self->queue_max || self->frame_bytes >= GC_SUB_QUEUE_BYTES) {
        //  Dropped unread: the next frame opened starts past `queued` (or the next heartbeat
        //  announces more), and the gap is fetched from history in order from there.
        s_recycle (self, frame);
        return true;
    }
    if (self->frames_tail) {
        self->frames_tail->next = frame;
    }
    else {
        self->frames = frame;
    }
    self->frames_tail = frame;
    self->frame_count++;
    self->frame_bytes += zmq_msg_size (&frame->payload);
    return true;
}

//  Unpacks the oldest queued frame and opens it: its entries that follow `queued` without a
//  gap become the ones to hand out. A frame that is not a valid Publish of its stream's group
//  is dropped. Returns false when no frame was queued.
static bool
s_open_next (gc_sub_t *self)
{
    s_close_frame (self);
    s_frame_t *frame = self->frames;
    if (!frame) {
        return false;
    }
    self->frames = frame->next;
    if (!self->frames) {
        self->frames_tail = NULL;
    }
    self->frame_count--;
    self->frame_bytes -= zmq_msg_size (&frame->payload);
    self->open = frame;
    s_stream_t *stream = frame->stream;
    char err[256];
    gc_wire_arena_reset (self->arena);
    ProtobufCAllocator *allocator = gc_wire_arena_allocator (self->arena);
    gc_publish_t *pub =
        gc_wire_publish_unpack ((const uint8_t *) zmq_msg_data (&frame->payload),
                                zmq_msg_size (&frame->payload), allocator, err, sizeof err);
    if (!pub || !streq (pub->group, stream->name)) {
        s_close_frame (self);
        return true;
    }
    if (pub->n_entries == 0) {
        //  Silence is judged against the group's own heartbeat interval.
        if (stream->last_heartbeat) {
            int64_t silence = (frame->arrived - stream->last_heartbeat) * 7 / 2;
            stream->silence_ms = silence > GC_SUB_SILENCE_MIN_MS ? silence
                                                                 : GC_SUB_SILENCE_MIN_MS;
        }
        stream->last_heartbeat = frame->arrived;
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
    //  The entries are contiguous (checked by the unpack): skip what was delivered, and take
    //  the rest when it follows `queued`; after a gap it is all fetched from history instead.
    size_t first = 0;
    while (first < pub->n_entries && pub->entries[first]->seq <= stream->queued) {
        first++;
    }
    size_t end = first;
    if (first < pub->n_entries && pub->entries[first]->seq == stream->queued + 1) {
        end = pub->n_entries;
        stream->queued = pub->entries[end - 1]->seq;
    }
    if (pub->last_seq > stream->known_last) {
        stream->known_last = pub->last_seq;
    }
    if (missed && !stream->behind && stream->known_last > stream->queued) {
        stream->behind = true;
        s_notice (self, stream->name, "missed live entries; catching up from history");
    }
    self->pub = pub;
    self->next_entry = first;
    self->end_entry = end;
    return true;
}

//  Takes every frame waiting on the SUB socket, bounded so that the checks still run.
static void
s_drain (gc_sub_t *self)
{
    //  A receive that finds nothing costs one look at the socket; ZMQ_EVENTS before each
    //  frame cost two system calls per frame.
    for (int i = 0; i < GC_SUB_DRAIN_MAX && s_take (self); i++) {
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
        //  What is left of the open frame comes first: it is all at or below `queued`.
        if (self->pub && self->next_entry < self->end_entry) {
            const Groupcast__V1__Entry *wire = self->pub->entries[self->next_entry++];
            gc_entry_t *view = &self->view;
            view->group = self->open->stream->name;
            view->seq = wire->seq;
            view->ts_us = wire->ts_us;
            view->kind = (gc_entry_kind_t) wire->kind;
            view->sender = wire->sender;
            view->name = wire->name;
            view->text = wire->text.len ? (const char *) wire->text.data : "";
            view->text_len = wire->text.len;
            self->open->stream->returned = wire->seq;
            self->undrained++;
            *entry = view;
            return GC_OK;
        }
        //  Taking frames off the socket costs a system call even when there are none: do it
        //  when nothing is queued, and every 64 entries so the socket never backs up.
        if ((self->queue_size == 0 && self->frame_count == 0) || self->undrained >= 64) {
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
        if (s_open_next (self)) {
            continue;
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
