/*  gc_sub - live entries from groups, exactly once and in order
    SPDX-License-Identifier: MPL-2.0

    The zguide's Clone pattern: subscribe first, then fetch what came before from history, and
    drop what was already delivered. Each group's stream tracks the last sequence number it
    delivered; a live batch that skips ahead, or a heartbeat announcing a newer last_seq, makes
    it fetch the missing range from history before delivering more.
*/
#include "gc_client_impl.h"

#define GC_SUB_SILENCE_MS 3500   //  a group heartbeats every second; this long silent is down

typedef struct {
    char name[GC_MAX_NAME + 1];              //  group name, the key
    char spec[GC_MAX_NAME + GC_MAX_ENDPOINT + 2];  //  how the caller named it
    char pub_endpoint[GC_MAX_ENDPOINT + 1];  //  connected PUB endpoint
    uint64_t delivered;                      //  last sequence number delivered
    bool can_fetch;                          //  history repair possible (we are a member)
    bool silent;                             //  told the user the group went silent
    int64_t last_heard;                      //  monotonic ms of the last frame from it
} s_stream_t;

//  An entry waiting to be delivered, with its own copies of every string.
typedef struct {
    gc_entry_t entry;   //  view into block
    char *block;        //  owned strings
} s_item_t;

struct gc_sub {
    gc_client_t *client;      //  borrowed
    zsock_t *sub;             //  one SUB socket for every group
    zhashx_t *streams;        //  name -> s_stream_t, owned
    zlistx_t *queue;          //  s_item_t to deliver, owned
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
        free (item->block);
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
    self->sub = zsock_new (ZMQ_SUB);
    self->streams = zhashx_new ();
    self->queue = zlistx_new ();
    if (!self->sub || !self->streams || !self->queue) {
        gc_sub_destroy (&self);
        return NULL;
    }
    zsock_set_linger (self->sub, 0);
    zsock_set_maxmsgsize (self->sub, GC_MAX_FRAME);
    zhashx_set_destructor (self->streams, s_stream_destroy);
    zlistx_set_destructor (self->queue, s_item_destroy);
    return self;
}

void
gc_sub_destroy (gc_sub_t **self_p)
{
    assert (self_p);
    gc_sub_t *self = *self_p;
    if (self) {
        s_item_destroy ((void **) &self->current);
        zlistx_destroy (&self->queue);
        zhashx_destroy (&self->streams);
        zsock_destroy (&self->sub);
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
    return stream ? stream->delivered : 0;
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

//  Queues a copy of a wire entry for delivery. Returns 0 or -1 (out of memory).
static int
s_enqueue (gc_sub_t *self, s_stream_t *stream, uint64_t seq, int64_t ts_us, int kind,
           const char *sender, const char *name, const void *text, size_t text_len)
{
    size_t name_len = strlen (name);
    size_t sender_len = strlen (sender);
    s_item_t *item = (s_item_t *) calloc (1, sizeof (s_item_t));
    char *block = item ? (char *) malloc (sender_len + name_len + text_len + 3) : NULL;
    if (!block) {
        free (item);
        return -1;
    }
    memcpy (block, sender, sender_len + 1);
    memcpy (block + sender_len + 1, name, name_len + 1);
    char *copy = block + sender_len + name_len + 2;
    if (text_len) {
        memcpy (copy, text, text_len);
    }
    copy[text_len] = '\0';
    item->block = block;
    item->entry.group = stream->name;
    item->entry.seq = seq;
    item->entry.ts_us = ts_us;
    item->entry.kind = (gc_entry_kind_t) kind;
    item->entry.sender = block;
    item->entry.name = block + sender_len + 1;
    item->entry.text = copy;
    item->entry.text_len = text_len;
    zlistx_add_end (self->queue, item);
    stream->delivered = seq;
    return 0;
}

typedef struct {
    gc_sub_t *self;        //  the subscription
    s_stream_t *stream;    //  the stream being repaired
    uint64_t first_seq;    //  oldest the group holds (from the reply)
} s_repair_t;

static void
s_repair_entry (void *arg, const gc_entry_t *entry)
{
    s_repair_t *repair = (s_repair_t *) arg;
    s_stream_t *stream = repair->stream;
    if (entry->seq <= stream->delivered) {
        return;
    }
    if (entry->seq > stream->delivered + 1) {
        s_notice (repair->self, stream->name,
                  "entries %" PRIu64 "-%" PRIu64 " are no longer in history", stream->delivered + 1,
                  entry->seq - 1);
    }
    s_enqueue (repair->self, stream, entry->seq, entry->ts_us, entry->kind, entry->sender,
               entry->name, entry->text, entry->text_len);
}

//  Fetches from history every entry after stream->delivered up to and including upto.
static gc_status_t
s_repair (gc_sub_t *self, s_stream_t *stream, uint64_t upto)
{
    //  Bounded: every page either advances delivered or ends the loop.
    while (stream->delivered < upto) {
        if (!stream->can_fetch) {
            s_notice (self, stream->name,
                      "missed entries %" PRIu64 "-%" PRIu64 " (join the group to repair gaps)",
                      stream->delivered + 1, upto);
            stream->delivered = upto;
            return GC_OK;
        }
        gc_query_t query;
        memset (&query, 0, sizeof query);
        query.after_seq = stream->delivered;
        query.before_seq = upto + 1;
        query.limit = GC_FETCH_DEFAULT;
        s_repair_t repair = {self, stream, 0};
        bool more = false;
        uint64_t before = stream->delivered;
        gc_status_t status = gc_client_fetch (self->client, stream->spec, &query,
                                              s_repair_entry, &repair, &more, NULL);
        if (status == GC_NOT_MEMBER || status == GC_FORBIDDEN) {
            stream->can_fetch = false;
            continue;
        }
        if (status != GC_OK) {
            return s_fail (self, status, gc_client_error (self->client));
        }
        if (stream->delivered == before) {
            //  Nothing in range any more (pruned): skip what history no longer holds.
            s_notice (self, stream->name,
                      "entries %" PRIu64 "-%" PRIu64 " are no longer in history", before + 1,
                      upto);
            stream->delivered = upto;
        }
    }
    return GC_OK;
}

static gc_status_t
s_connect (gc_sub_t *self, s_stream_t *stream, const char *pub_endpoint)
{
    if (streq (stream->pub_endpoint, pub_endpoint)) {
        return GC_OK;
    }
    if (stream->pub_endpoint[0]) {
        zsock_disconnect (self->sub, "%s", stream->pub_endpoint);
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
    if (!stream) {
        stream = (s_stream_t *) calloc (1, sizeof (s_stream_t));
        if (!stream) {
            gc_wire_group_reply_free (&reply);
            return s_fail (self, GC_IO, "out of memory");
        }
        snprintf (stream->name, sizeof stream->name, "%s", conn->name);
        zhashx_insert (self->streams, stream->name, stream);
        char topic[GC_MAX_NAME + 2];
        gc_wire_topic (stream->name, topic);
        zsock_set_subscribe (self->sub, topic);
    }
    snprintf (stream->spec, sizeof stream->spec, "%s", spec);
    stream->can_fetch = true;
    stream->last_heard = zclock_mono ();
    uint64_t last_seq = reply->last_seq;
    status = s_connect (self, stream, reply->pub_endpoint);
    gc_wire_group_reply_free (&reply);
    if (status != GC_OK) {
        return status;
    }
    //  Subscribed before fetching: whatever is published from here on arrives live or is
    //  repaired when the next batch or heartbeat shows it missing.
    stream->delivered = after_seq == UINT64_MAX ? last_seq : after_seq;
    if (after_seq != UINT64_MAX && after_seq < last_seq) {
        status = s_repair (self, stream, last_seq);
        if (status == GC_OK && !stream->can_fetch) {
            return s_fail (self, GC_NOT_MEMBER, "cannot replay history: not a member");
        }
    }
    return status;
}

//  Handles one frame pair from the SUB socket.
static void
s_receive (gc_sub_t *self)
{
    zmsg_t *msg = zmsg_recv (self->sub);
    if (!msg) {
        return;
    }
    zframe_t *topic = zmsg_first (msg);
    zframe_t *payload = zmsg_next (msg);
    if (zmsg_size (msg) != 2 || zframe_size (topic) < 2) {
        zmsg_destroy (&msg);
        return;
    }
    char name[GC_MAX_NAME + 1];
    size_t len = zframe_size (topic) - 1;
    if (len > GC_MAX_NAME) {
        zmsg_destroy (&msg);
        return;
    }
    memcpy (name, zframe_data (topic), len);
    name[len] = '\0';
    s_stream_t *stream = (s_stream_t *) zhashx_lookup (self->streams, name);
    char err[256];
    gc_publish_t *pub = stream ? gc_wire_publish_unpack (zframe_data (payload),
                                                         zframe_size (payload), NULL, err,
                                                         sizeof err)
                               : NULL;
    if (!pub || !streq (pub->group, stream->name)) {
        gc_wire_publish_free (&pub, NULL);
        zmsg_destroy (&msg);
        return;
    }
    stream->last_heard = zclock_mono ();
    if (stream->silent) {
        stream->silent = false;
        s_notice (self, stream->name, "group is back");
    }
    for (size_t i = 0; i < pub->n_entries; i++) {
        const Groupcast__V1__Entry *entry = pub->entries[i];
        if (entry->seq <= stream->delivered) {
            continue;
        }
        if (entry->seq > stream->delivered + 1
            && s_repair (self, stream, entry->seq - 1) != GC_OK) {
            //  The group answers no fetch right now: deliver nothing past the gap; the next
            //  batch or heartbeat tries again.
            break;
        }
        if (entry->seq == stream->delivered + 1) {
            s_enqueue (self, stream, entry->seq, entry->ts_us, (int) entry->kind, entry->sender,
                       entry->name, entry->text.data, entry->text.len);
        }
    }
    if (pub->last_seq > stream->delivered) {
        s_repair (self, stream, pub->last_seq);
    }
    gc_wire_publish_free (&pub, NULL);
    zmsg_destroy (&msg);
}

//  Notices groups gone silent and looks them up again: a restarted group may publish elsewhere.
static void
s_check_liveness (gc_sub_t *self)
{
    int64_t now = zclock_mono ();
    for (s_stream_t *stream = (s_stream_t *) zhashx_first (self->streams); stream;
         stream = (s_stream_t *) zhashx_next (self->streams)) {
        if (now - stream->last_heard < GC_SUB_SILENCE_MS) {
            continue;
        }
        if (!stream->silent) {
            stream->silent = true;
            s_notice (self, stream->name, "group is silent; waiting for it to return");
        }
        stream->last_heard = now;
        gc_group_reply_t *reply = NULL;
        s_conn_t *conn = NULL;
        if (gc_client_info (self->client, stream->spec, &reply, &conn) == GC_OK) {
            if (reply->pub_endpoint[0]) {
                s_connect (self, stream, reply->pub_endpoint);
            }
            if (reply->last_seq > stream->delivered) {
                s_repair (self, stream, reply->last_seq);
            }
            gc_wire_group_reply_free (&reply);
        }
        //  zhashx iteration is reset by lookups inside the calls above: one stream per check.
        break;
    }
}

gc_status_t
gc_sub_recv (gc_sub_t *self, int timeout_ms, const gc_entry_t **entry)
{
    assert (self && entry);
    s_item_destroy ((void **) &self->current);
    int64_t deadline = timeout_ms < 0 ? INT64_MAX : zclock_mono () + timeout_ms;
    zmq_pollitem_t item = {zsock_resolve (self->sub), 0, ZMQ_POLLIN, 0};
    while (true) {
        if (zlistx_size (self->queue) > 0) {
            self->current = (s_item_t *) zlistx_detach (self->queue, NULL);
            *entry = &self->current->entry;
            return GC_OK;
        }
        int64_t now = zclock_mono ();
        if (now >= deadline || zsys_interrupted) {
            return GC_TIMEOUT;
        }
        int64_t wait = deadline - now;
        if (wait > 1000) {
            wait = 1000;
        }
        int rc = zmq_poll (&item, 1, (long) wait);
        if (rc > 0) {
            //  Take what is waiting, bounded, so one busy group cannot starve the checks.
            for (int i = 0; i < 1000 && (zsock_events (self->sub) & ZMQ_POLLIN); i++) {
                s_receive (self);
            }
        }
        else if (rc < 0 && zmq_errno () != EINTR) {
            return s_fail (self, GC_IO, zmq_strerror (zmq_errno ()));
        }
        s_check_liveness (self);
    }
}
