/*  gc_group - a group's members, its ordered stream and the handling of its requests
    SPDX-License-Identifier: MPL-2.0

    The handler does no socket I/O. group_main.c feeds it request frames with an opaque cookie
    (the ROUTER envelope) and gives it two sinks: one that sends a reply for a cookie, one that
    publishes a batch. Sends are queued and committed together by gc_group_flush, which the loop
    calls once per turn: one store transaction, then one acknowledgement per send, then one
    published frame for the whole batch (acknowledged means stored; published only after commit).
*/
#ifndef GC_GROUP_H_INCLUDED
#define GC_GROUP_H_INCLUDED

#include <czmq.h>
#include <stdbool.h>

#include "gc_store.h"

typedef struct gc_group gc_group_t;

//  Sends reply (owned; the sink takes it and nulls *reply_p) for the request that came with
//  cookie. Called exactly once per gc_group_request.
typedef void (gc_group_reply_fn) (void *arg, void *cookie, zframe_t **reply_p);
//  Publishes one Publish frame (owned; the sink takes it).
typedef void (gc_group_publish_fn) (void *arg, zframe_t **frame_p);

//  A group named `name` that advertises pub_endpoint in join replies, over `store` (ownership
//  passes to the group, *store_p is nulled). Loads members and the last sequence number from the
//  store and gets (or makes and saves) the group's instance UUID. Returns NULL with the reason in
//  err on failure (the store is destroyed then too).
gc_group_t *gc_group_new (const char *name, const char *pub_endpoint, gc_store_t **store_p,
                          char *err, size_t errlen);
void gc_group_destroy (gc_group_t **self_p);

void gc_group_set_sinks (gc_group_t *self, gc_group_reply_fn *reply, gc_group_publish_fn *publish,
                         void *arg);

//  The most bytes one published batch or one history page carries, so every frame stays well
//  under GC_MAX_FRAME: a batch is flushed, and a page ends (with `more`), once it holds this much
//  (for a batch: text plus GC_GROUP_ENTRY_OVERHEAD per entry; for a page: text).
#define GC_GROUP_MAX_BATCH_BYTES (1024 * 1024)
//  What an entry adds to a Publish frame besides its text, at most: seq, ts, kind, sender UUID,
//  a 64-byte display name and the tags and lengths (136 bytes, rounded up).
#define GC_GROUP_ENTRY_OVERHEAD 160

//  Largest batch gc_group_request queues before flushing by itself (default 4096).
void gc_group_set_max_batch (gc_group_t *self, size_t max_batch);

//  Retention applied after each flush: keep at most `messages` entries (0: unlimited) and none
//  older than `age_us` (0: unlimited).
void gc_group_set_retention (gc_group_t *self, uint64_t messages, int64_t age_us);

//  Logs one debug line per accepted message (seq, sender, size; never the text) when verbose.
void gc_group_set_verbose (gc_group_t *self, bool verbose);

//  Handles one request frame. The cookie is handed back to the reply sink exactly once: at once
//  for reads and errors, at the next flush for queued sends.
void gc_group_request (gc_group_t *self, const uint8_t *data, size_t size, void *cookie);

//  Commits every queued send in one transaction, replies to each, and publishes the batch.
void gc_group_flush (gc_group_t *self);

//  Publishes a heartbeat (a Publish with no entries and the current last_seq).
void gc_group_heartbeat (gc_group_t *self);

const char *gc_group_name (gc_group_t *self);
//  The group's instance UUID (stable across restarts of a durable store).
const char *gc_group_id (gc_group_t *self);
uint64_t gc_group_last_seq (gc_group_t *self);
size_t gc_group_member_count (gc_group_t *self);

//  How many subscriptions to the group's messages its PUB socket has now, for Stats: the socket
//  is the caller's (group_main counts subscribe and unsubscribe messages on an XPUB).
void gc_group_set_subscribers (gc_group_t *self, size_t count);

#endif
