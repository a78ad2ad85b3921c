/*  gc_wire - the only place that packs and unpacks protobuf, enforces size limits and validates
    fields of the groupcast wire protocol
    SPDX-License-Identifier: MPL-2.0

    Unpack functions validate everything a handler relies on (sizes, UUID and name syntax, known
    request body) so handlers never see a malformed message. A message returned by an unpack
    function is owned by the caller and freed with the matching _free function.
*/
#ifndef GC_WIRE_H_INCLUDED
#define GC_WIRE_H_INCLUDED

#include <czmq.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "groupcast.h"
#include "groupcast.pb-c.h"

//  The largest frame any groupcast socket accepts (also set as ZMQ_MAXMSGSIZE on server sockets).
#define GC_MAX_FRAME (4 * 1024 * 1024)

//  A SendBatch carries 2 to GC_MAX_BATCH_SENDS messages and at most GC_MAX_BATCH_TEXT bytes of
//  text in all, so its frame, its reply and the group's published batch stay under GC_MAX_FRAME.
#define GC_MAX_BATCH_SENDS 4096
#define GC_MAX_BATCH_TEXT (1024 * 1024)

//  Short aliases for the generated types.
typedef Groupcast__V1__RegistryRequest gc_registry_request_t;
typedef Groupcast__V1__RegistryReply gc_registry_reply_t;
typedef Groupcast__V1__GroupRequest gc_group_request_t;
typedef Groupcast__V1__GroupReply gc_group_reply_t;
typedef Groupcast__V1__Publish gc_publish_t;
typedef Groupcast__V1__Entry gc_wire_entry_t;

//  True when text is a canonical lowercase UUID string.
bool gc_wire_valid_uuid (const char *text);
//  True when text is a valid group name: [A-Za-z0-9._-]{1,64}.
bool gc_wire_valid_group_name (const char *text);
//  True when text is a valid display name: at most GC_MAX_NAME bytes, no control characters.
bool gc_wire_valid_display_name (const char *text);
//  True when text looks like a connectable ZeroMQ endpoint (tcp://, ipc://, inproc://), at most
//  GC_MAX_ENDPOINT bytes, and for tcp not a wildcard host ("*", 0.0.0.0 or [::]).
bool gc_wire_valid_endpoint (const char *text);

//  The connectable form of an endpoint a socket actually bound (zsock_last_endpoint): a
//  wildcard tcp host (0.0.0.0, [::]) becomes `host` (NULL: 127.0.0.1). Writes into buf (at
//  least GC_MAX_ENDPOINT + 1 bytes). Returns 0, or -1 if it does not fit.
int gc_wire_advertise (const char *bound, const char *host, char *buf, size_t buflen);

//  Unpacks and validates a registry request. Returns the request, or NULL with *status set
//  (GC_BAD_REQUEST, GC_TOO_LARGE, GC_UNKNOWN_REQUEST) and the reason in err. When the envelope
//  decoded but failed validation, *request_id still gets its id (else 0) so the error reply can
//  carry it.
gc_registry_request_t *gc_wire_registry_request_unpack (const uint8_t *data, size_t size,
                                                        uint64_t *request_id,
                                                        gc_status_t *status, char *err,
                                                        size_t errlen);
void gc_wire_registry_request_free (gc_registry_request_t **self_p);

//  Unpacks and validates a group request, as for registry requests. Validation: sender is a
//  UUID, token is GC_TOKEN_SIZE bytes, send text is 1..GC_MAX_TEXT bytes, client_msg_id empty or
//  GC_MSG_ID_SIZE bytes (for each message of a send_batch too, which holds 2..GC_MAX_BATCH_SENDS
//  of them and at most GC_MAX_BATCH_TEXT bytes of text), join name a valid display name, a body
//  is set.
gc_group_request_t *gc_wire_group_request_unpack (const uint8_t *data, size_t size,
                                                  uint64_t *request_id, gc_status_t *status,
                                                  char *err, size_t errlen);
void gc_wire_group_request_free (gc_group_request_t **self_p);

//  Replies as received by a client: validated to be well-formed (status in range, entries with
//  valid senders). Return NULL with the reason in err when malformed.
gc_registry_reply_t *gc_wire_registry_reply_unpack (const uint8_t *data, size_t size, char *err,
                                                    size_t errlen);
void gc_wire_registry_reply_free (gc_registry_reply_t **self_p);
gc_group_reply_t *gc_wire_group_reply_unpack (const uint8_t *data, size_t size, char *err,
                                              size_t errlen);
void gc_wire_group_reply_free (gc_group_reply_t **self_p);

//  Unpacks a published batch, validating the entries (contiguous ascending seq ending at
//  last_seq, valid sender UUIDs). Uses `allocator` for every allocation when not NULL (an arena
//  per frame avoids per-message malloc). Returns NULL with the reason in err when malformed.
gc_publish_t *gc_wire_publish_unpack (const uint8_t *data, size_t size,
                                      ProtobufCAllocator *allocator, char *err, size_t errlen);
void gc_wire_publish_free (gc_publish_t **self_p, ProtobufCAllocator *allocator);

//  An arena for protobuf-c unpacking: allocations come from a few large blocks and are never
//  freed one by one; gc_wire_arena_reset makes all of them reusable at once. Unpacking many
//  small messages (a listener's batches, a group's requests) then costs no malloc or free per
//  field. One thread uses an arena at a time. Messages unpacked with its allocator are valid until
//  the next reset or destroy, and need no _free call (one does no harm: free is a no-op). Every
//  allocation is followed by a zero byte, so a non-empty bytes field unpacked into an arena is
//  also a NUL-terminated string (protobuf-c leaves an empty one's data NULL). An arena hands out
//  at most 64 MiB between resets (an unpack needing more fails) and keeps at most GC_MAX_FRAME
//  across a reset.
typedef struct gc_wire_arena gc_wire_arena_t;

//  An arena whose blocks hold at least block_size bytes (0: 64 KiB). Returns NULL if out of
//  memory.
gc_wire_arena_t *gc_wire_arena_new (size_t block_size);
void gc_wire_arena_destroy (gc_wire_arena_t **self_p);

//  The allocator to pass to protobuf-c or to the unpack functions here; borrowed, valid while
//  the arena lives. Its alloc returns NULL when memory runs out (protobuf-c then fails the
//  unpack cleanly).
ProtobufCAllocator *gc_wire_arena_allocator (gc_wire_arena_t *self);

//  Forgets every allocation. Memory is kept for reuse: after the first few resets an arena that
//  serves similar loads allocates nothing.
void gc_wire_arena_reset (gc_wire_arena_t *self);

//  Bytes handed out since the last reset.
size_t gc_wire_arena_used (const gc_wire_arena_t *self);

//  As gc_wire_group_request_unpack, with every allocation from `allocator` (NULL: malloc).
//  With an arena's allocator, drop the request by resetting the arena; otherwise free it with
//  gc_wire_group_request_free_with and the same allocator.
gc_group_request_t *gc_wire_group_request_unpack_with (const uint8_t *data, size_t size,
                                                       ProtobufCAllocator *allocator,
                                                       uint64_t *request_id, gc_status_t *status,
                                                       char *err, size_t errlen);
void gc_wire_group_request_free_with (gc_group_request_t **self_p, ProtobufCAllocator *allocator);

//  Packs any message into a new frame of exactly its packed size. Returns the owned frame, or
//  NULL if out of memory.
zframe_t *gc_wire_pack (const ProtobufCMessage *message);

//  The most bytes gc_wire_pack_ack writes.
#define GC_WIRE_ACK_MAX 44

//  Packs the GroupReply that acknowledges a send (status OK; request_id, seq, ts_us and last_seq
//  as given, every other field empty) into buf, which holds GC_WIRE_ACK_MAX bytes at least.
//  The bytes are exactly those gc_wire_pack makes of that reply, written without protobuf-c's
//  descriptor walk: a group sends one acknowledgement per message. Returns the size.
size_t gc_wire_pack_ack (uint8_t *buf, uint64_t request_id, uint64_t seq, int64_t ts_us,
                         uint64_t last_seq);

//  The PUB topic frame for a group: "<name>/". Writes at most GC_MAX_NAME + 2 bytes into buf and
//  returns the topic length.
size_t gc_wire_topic (const char *group, char *buf);

//  A fresh random UUID in canonical lowercase text (buf of GC_UUID_STR_LEN + 1).
void gc_wire_new_uuid (char *buf);

//  A fresh client message id (GC_MSG_ID_SIZE bytes): 8 bytes of the wall clock in microseconds,
//  big-endian, then 8 random bytes. Time-ordered ids append at the end of the store's index
//  instead of landing at random places in it (10x faster SQLite appends). Returns 0 or -1.
int gc_wire_new_msg_id (uint8_t *id);
//  The same with the 8 random bytes supplied by the caller (who may draw them from a pool, to
//  keep a system call off every send).
void gc_wire_msg_id_from (uint8_t *id, const uint8_t *random);

//  Fills buf with `size` cryptographically random bytes. Returns 0 or -1.
int gc_wire_random (uint8_t *buf, size_t size);

#endif
