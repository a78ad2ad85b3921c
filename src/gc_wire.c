/*  gc_wire - pack, unpack and validate the groupcast wire protocol
    SPDX-License-Identifier: MPL-2.0
*/
#include "gc_wire.h"

#include <ctype.h>
#include <stddef.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <uuid/uuid.h>

const char *
gc_status_str (gc_status_t status)
{
    switch (status) {
    case GC_OK:
        return "ok";
    case GC_BAD_REQUEST:
        return "bad request";
    case GC_UNKNOWN_REQUEST:
        return "unknown request";
    case GC_TOO_LARGE:
        return "too large";
    case GC_NOT_MEMBER:
        return "not a member";
    case GC_NOT_FOUND:
        return "no such group";
    case GC_NAME_TAKEN:
        return "name already taken";
    case GC_FORBIDDEN:
        return "forbidden";
    case GC_STORE_FAILED:
        return "storage failed";
    case GC_UNAVAILABLE:
        return "unavailable";
    case GC_INTERNAL:
        return "internal error";
    case GC_TIMEOUT:
        return "timeout";
    case GC_PROTOCOL:
        return "protocol error";
    case GC_IO:
        return "local i/o error";
    case GC_INVALID:
        return "invalid argument";
    }
    return "unknown status";
}

bool
gc_wire_valid_uuid (const char *text)
{
    if (!text || strlen (text) != GC_UUID_STR_LEN) {
        return false;
    }
    for (int i = 0; i < GC_UUID_STR_LEN; i++) {
        char c = text[i];
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (c != '-') {
                return false;
            }
        }
        else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
            return false;
        }
    }
    return true;
}

bool
gc_wire_valid_group_name (const char *text)
{
    if (!text) {
        return false;
    }
    size_t len = strlen (text);
    if (len == 0 || len > GC_MAX_NAME) {
        return false;
    }
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char) text[i];
        if (!(isalnum (c) || c == '.' || c == '_' || c == '-') || c > 127) {
            return false;
        }
    }
    return true;
}

bool
gc_wire_valid_display_name (const char *text)
{
    if (!text || strlen (text) > GC_MAX_NAME) {
        return false;
    }
    for (const unsigned char *p = (const unsigned char *) text; *p; p++) {
        if (*p < 0x20 || *p == 0x7f) {
            return false;
        }
    }
    return true;
}

bool
gc_wire_valid_endpoint (const char *text)
{
    if (!text) {
        return false;
    }
    size_t len = strlen (text);
    if (len == 0 || len > GC_MAX_ENDPOINT) {
        return false;
    }
    for (size_t i = 0; i < len; i++) {
        if ((unsigned char) text[i] <= 0x20 || (unsigned char) text[i] >= 0x7f) {
            return false;
        }
    }
    if (strncmp (text, "tcp://", 6) == 0) {
        const char *host = text + 6;
        const char *colon = strrchr (host, ':');
        if (!colon || colon == host || colon[1] == '\0') {
            return false;
        }
        if (strncmp (host, "*:", 2) == 0 || strncmp (host, "0.0.0.0:", 8) == 0
            || strncmp (host, "[::]:", 5) == 0) {
            return false;
        }
        for (const char *p = colon + 1; *p; p++) {
            if (!isdigit ((unsigned char) *p)) {
                return false;
            }
        }
        return true;
    }
    return (strncmp (text, "ipc://", 6) == 0 && len > 6)
           || (strncmp (text, "inproc://", 9) == 0 && len > 9);
}

int
gc_wire_advertise (const char *bound, const char *host, char *buf, size_t buflen)
{
    assert (bound && buf);
    const char *rest = NULL;
    if (strncmp (bound, "tcp://0.0.0.0:", 14) == 0) {
        rest = bound + 13;
    }
    else if (strncmp (bound, "tcp://[::]:", 11) == 0) {
        rest = bound + 10;
    }
    int len = rest ? snprintf (buf, buflen, "tcp://%s%s", host ? host : "127.0.0.1", rest)
                   : snprintf (buf, buflen, "%s", bound);
    return len < 0 || (size_t) len >= buflen ? -1 : 0;
}

//  Sets status and formats err; always returns NULL so callers can `return s_fail (...)`.
static void *s_fail (gc_status_t *status, gc_status_t value, char *err, size_t errlen,
                     const char *fmt, ...) __attribute__ ((format (printf, 5, 6)));

static void *
s_fail (gc_status_t *status, gc_status_t value, char *err, size_t errlen, const char *fmt, ...)
{
    *status = value;
    if (err && errlen) {
        va_list args;
        va_start (args, fmt);
        vsnprintf (err, errlen, fmt, args);
        va_end (args);
    }
    return NULL;
}

gc_registry_request_t *
gc_wire_registry_request_unpack (const uint8_t *data, size_t size, uint64_t *request_id,
                                 gc_status_t *status, char *err, size_t errlen)
{
    assert (request_id && status);
    *request_id = 0;
    if (size > GC_MAX_FRAME) {
        return s_fail (status, GC_TOO_LARGE, err, errlen, "request of %zu bytes exceeds %d",
                       size, GC_MAX_FRAME);
    }
    gc_registry_request_t *req = groupcast__v1__registry_request__unpack (NULL, size, data);
    if (!req) {
        return s_fail (status, GC_BAD_REQUEST, err, errlen, "malformed registry request");
    }
    *request_id = req->request_id;
    const char *why = NULL;
    gc_status_t code = GC_BAD_REQUEST;
    if (req->client_id[0] && !gc_wire_valid_uuid (req->client_id)) {
        why = "client_id is not a UUID";
    }
    else if (req->body_case == GROUPCAST__V1__REGISTRY_REQUEST__BODY_REGISTER_GROUP) {
        const Groupcast__V1__GroupInfo *info = req->register_group->group;
        if (!info) {
            why = "register_group without group";
        }
        else if (!gc_wire_valid_group_name (info->name)) {
            why = "group name must be 1-64 characters of A-Z a-z 0-9 . _ -";
        }
        else if (!gc_wire_valid_endpoint (info->endpoint)
                 || !gc_wire_valid_endpoint (info->pub_endpoint)) {
            why = "endpoints must be connectable (tcp://host:port, not a wildcard)";
        }
        else if (!gc_wire_valid_uuid (info->group_id)) {
            why = "group_id is not a UUID";
        }
    }
    else if (req->body_case == GROUPCAST__V1__REGISTRY_REQUEST__BODY_UNREGISTER_GROUP) {
        if (!gc_wire_valid_group_name (req->unregister_group->name)) {
            why = "invalid group name";
        }
    }
    else if (req->body_case != GROUPCAST__V1__REGISTRY_REQUEST__BODY_LIST_GROUPS) {
        code = GC_UNKNOWN_REQUEST;
        why = "unknown registry request";
    }
    if (why) {
        groupcast__v1__registry_request__free_unpacked (req, NULL);
        return s_fail (status, code, err, errlen, "%s", why);
    }
    *status = GC_OK;
    return req;
}

void
gc_wire_registry_request_free (gc_registry_request_t **self_p)
{
    assert (self_p);
    if (*self_p) {
        groupcast__v1__registry_request__free_unpacked (*self_p, NULL);
        *self_p = NULL;
    }
}

gc_group_request_t *
gc_wire_group_request_unpack (const uint8_t *data, size_t size, uint64_t *request_id,
                              gc_status_t *status, char *err, size_t errlen)
{
    return gc_wire_group_request_unpack_with (data, size, NULL, request_id, status, err, errlen);
}

//  Reads a varint at *p (before end). Returns 0, or -1 if it is cut short or too long.
static int
s_varint (const uint8_t **p, const uint8_t *end, uint64_t *value)
{
    *value = 0;
    for (int shift = 0; shift < 64 && *p < end; shift += 7) {
        uint8_t byte = *(*p)++;
        *value |= (uint64_t) (byte & 0x7f) << shift;
        if (!(byte & 0x80)) {
            return 0;
        }
    }
    return -1;
}

//  Counts the messages of the SendBatch bodies (field 17, repeated Send field 1) in a packed
//  GroupRequest, without unpacking it: protobuf-c would allocate for every one of them first,
//  and a 4 MiB frame of empty Sends unpacks into a few hundred megabytes. Stops counting past
//  `most`. Malformed bytes count as none (the unpack refuses them). *request_id gets field 1,
//  so that a refusal can still be matched to its request.
static size_t
s_count_batch_sends (const uint8_t *data, size_t size, size_t most, uint64_t *request_id)
{
    const uint8_t *p = data, *end = data + size;
    size_t count = 0;
    //  Bounded: every step consumes at least one byte.
    while (p < end && count <= most) {
        uint64_t key, len;
        if (s_varint (&p, end, &key) != 0) {
            return 0;
        }
        switch (key & 7) {
        case 0:
            if (s_varint (&p, end, &len) != 0) {
                return 0;
            }
            if ((key >> 3) == 1) {
                *request_id = len;
            }
            break;
        case 1:
            p += (size_t) (end - p) < 8 ? (size_t) (end - p) : 8;
            break;
        case 5:
            p += (size_t) (end - p) < 4 ? (size_t) (end - p) : 4;
            break;
        case 2:
            if (s_varint (&p, end, &len) != 0 || len > (uint64_t) (end - p)) {
                return 0;
            }
            if ((key >> 3) == GROUPCAST__V1__GROUP_REQUEST__BODY_SEND_BATCH) {
                const uint8_t *q = p, *stop = p + len;
                while (q < stop && count <= most) {
                    uint64_t inner, skip;
                    if (s_varint (&q, stop, &inner) != 0 || (inner & 7) != 2
                        || s_varint (&q, stop, &skip) != 0 || skip > (uint64_t) (stop - q)) {
                        break;   //  not a plain list of Sends: the unpack judges it
                    }
                    count += (inner >> 3) == 1;
                    q += skip;
                }
            }
            p += len;
            break;
        default:
            return 0;
        }
    }
    return count;
}

//  Checks one message of a Send or SendBatch; returns the reason (setting *code) or NULL.
static const char *
s_check_send (const Groupcast__V1__Send *send, gc_status_t *code)
{
    if (send->text.len == 0) {
        return "empty message";
    }
    if (send->text.len > GC_MAX_TEXT) {
        *code = GC_TOO_LARGE;
        return "message text exceeds 65536 bytes";
    }
    if (send->client_msg_id.len != 0 && send->client_msg_id.len != GC_MSG_ID_SIZE) {
        return "client_msg_id must be 16 bytes";
    }
    return NULL;
}

gc_group_request_t *
gc_wire_group_request_unpack_with (const uint8_t *data, size_t size,
                                   ProtobufCAllocator *allocator, uint64_t *request_id,
                                   gc_status_t *status, char *err, size_t errlen)
{
    assert (request_id && status);
    *request_id = 0;
    if (size > GC_MAX_FRAME) {
        return s_fail (status, GC_TOO_LARGE, err, errlen, "request of %zu bytes exceeds %d",
                       size, GC_MAX_FRAME);
    }
    uint64_t batch_id = 0;
    if (s_count_batch_sends (data, size, GC_MAX_BATCH_SENDS, &batch_id) > GC_MAX_BATCH_SENDS) {
        *request_id = batch_id;
        return s_fail (status, GC_TOO_LARGE, err, errlen,
                       "a send batch holds at most 4096 messages");
    }
    gc_group_request_t *req = groupcast__v1__group_request__unpack (allocator, size, data);
    if (!req) {
        return s_fail (status, GC_BAD_REQUEST, err, errlen, "malformed group request");
    }
    *request_id = req->request_id;
    const char *why = NULL;
    gc_status_t code = GC_BAD_REQUEST;
    switch (req->body_case) {
    case GROUPCAST__V1__GROUP_REQUEST__BODY_JOIN:
        if (!gc_wire_valid_display_name (req->join->name)) {
            why = "display name must be at most 64 bytes without control characters";
        }
        break;
    case GROUPCAST__V1__GROUP_REQUEST__BODY_SEND:
        why = s_check_send (req->send, &code);
        break;
    case GROUPCAST__V1__GROUP_REQUEST__BODY_SEND_BATCH: {
        const Groupcast__V1__SendBatch *batch = req->send_batch;
        size_t bytes = 0;
        for (size_t i = 0; !why && i < batch->n_sends; i++) {
            why = s_check_send (batch->sends[i], &code);
            bytes += batch->sends[i]->text.len;
        }
        if (why) {
            break;
        }
        if (batch->n_sends < 2) {
            why = "a send batch holds at least 2 messages";
        }
        else if (batch->n_sends > GC_MAX_BATCH_SENDS) {
            code = GC_TOO_LARGE;
            why = "a send batch holds at most 4096 messages";
        }
        else if (bytes > GC_MAX_BATCH_TEXT) {
            code = GC_TOO_LARGE;
            why = "a send batch holds at most 1048576 bytes of text";
        }
        break;
    }
    case GROUPCAST__V1__GROUP_REQUEST__BODY_FETCH:
        if (req->fetch->since_us < 0 || req->fetch->until_us < 0) {
            why = "negative time filter";
        }
        break;
    case GROUPCAST__V1__GROUP_REQUEST__BODY_LEAVE:
    case GROUPCAST__V1__GROUP_REQUEST__BODY_MEMBERS:
    case GROUPCAST__V1__GROUP_REQUEST__BODY_INFO:
    case GROUPCAST__V1__GROUP_REQUEST__BODY_STATS:
        break;
    default:
        code = GC_UNKNOWN_REQUEST;
        why = "unknown group request";
        break;
    }
    if (!why && req->group[0] && !gc_wire_valid_group_name (req->group)) {
        why = "invalid group name";
    }
    //  Info needs no identity; everything else is done as a user.
    if (!why && req->body_case != GROUPCAST__V1__GROUP_REQUEST__BODY_INFO) {
        if (!gc_wire_valid_uuid (req->sender)) {
            why = "sender is not a UUID";
        }
        else if (req->token.len != GC_TOKEN_SIZE) {
            why = "token must be 16 bytes";
        }
    }
    if (why) {
        groupcast__v1__group_request__free_unpacked (req, allocator);
        return s_fail (status, code, err, errlen, "%s", why);
    }
    *status = GC_OK;
    return req;
}

void
gc_wire_group_request_free (gc_group_request_t **self_p)
{
    gc_wire_group_request_free_with (self_p, NULL);
}

void
gc_wire_group_request_free_with (gc_group_request_t **self_p, ProtobufCAllocator *allocator)
{
    assert (self_p);
    if (*self_p) {
        groupcast__v1__group_request__free_unpacked (*self_p, allocator);
        *self_p = NULL;
    }
}

//  Checks entries received from a peer; returns the reason or NULL.
static const char *
s_check_entries (Groupcast__V1__Entry **entries, size_t count)
{
    const char *valid = NULL;   //  the last sender found valid
    for (size_t i = 0; i < count; i++) {
        const Groupcast__V1__Entry *e = entries[i];
        //  A batch often holds one sender's messages: a sender equal to the last valid one
        //  is valid (the comparison is a fraction of the check).
        bool known = valid && strcmp (e->sender, valid) == 0;
        if (!known && !gc_wire_valid_uuid (e->sender)) {
            return "invalid entry";
        }
        valid = e->sender;
        if (e->seq == 0 || e->text.len > GC_MAX_TEXT
            || (int) e->kind < 0 || e->kind > GROUPCAST__V1__ENTRY_KIND__ENTRY_LEAVE) {
            return "invalid entry";
        }
        if (i > 0 && e->seq <= entries[i - 1]->seq) {
            return "entries out of order";
        }
    }
    return NULL;
}

gc_registry_reply_t *
gc_wire_registry_reply_unpack (const uint8_t *data, size_t size, char *err, size_t errlen)
{
    gc_status_t ignored;
    if (size > GC_MAX_FRAME) {
        return s_fail (&ignored, GC_PROTOCOL, err, errlen, "reply too large");
    }
    gc_registry_reply_t *reply = groupcast__v1__registry_reply__unpack (NULL, size, data);
    if (!reply) {
        return s_fail (&ignored, GC_PROTOCOL, err, errlen, "malformed registry reply");
    }
    if ((int) reply->status < 0 || (int) reply->status > GC_INTERNAL) {
        groupcast__v1__registry_reply__free_unpacked (reply, NULL);
        return s_fail (&ignored, GC_PROTOCOL, err, errlen, "unknown status in registry reply");
    }
    for (size_t i = 0; i < reply->n_groups; i++) {
        if (!gc_wire_valid_group_name (reply->groups[i]->name)
            || !gc_wire_valid_endpoint (reply->groups[i]->endpoint)
            || !gc_wire_valid_endpoint (reply->groups[i]->pub_endpoint)) {
            groupcast__v1__registry_reply__free_unpacked (reply, NULL);
            return s_fail (&ignored, GC_PROTOCOL, err, errlen, "invalid group in registry reply");
        }
    }
    return reply;
}

void
gc_wire_registry_reply_free (gc_registry_reply_t **self_p)
{
    assert (self_p);
    if (*self_p) {
        groupcast__v1__registry_reply__free_unpacked (*self_p, NULL);
        *self_p = NULL;
    }
}

gc_group_reply_t *
gc_wire_group_reply_unpack (const uint8_t *data, size_t size, char *err, size_t errlen)
{
    gc_status_t ignored;
    if (size > GC_MAX_FRAME) {
        return s_fail (&ignored, GC_PROTOCOL, err, errlen, "reply too large");
    }
    gc_group_reply_t *reply = groupcast__v1__group_reply__unpack (NULL, size, data);
    if (!reply) {
        return s_fail (&ignored, GC_PROTOCOL, err, errlen, "malformed group reply");
    }
    const char *why = s_check_entries (reply->entries, reply->n_entries);
    if (!why && ((int) reply->status < 0 || (int) reply->status > GC_INTERNAL)) {
        why = "unknown status in group reply";
    }
    if (!why && reply->n_seqs != reply->n_ts_list) {
        why = "seqs and ts_list differ in length";
    }
    if (!why && reply->pub_endpoint[0] && !gc_wire_valid_endpoint (reply->pub_endpoint)) {
        why = "invalid pub endpoint in reply";
    }
    if (why) {
        groupcast__v1__group_reply__free_unpacked (reply, NULL);
        return s_fail (&ignored, GC_PROTOCOL, err, errlen, "%s", why);
    }
    return reply;
}

void
gc_wire_group_reply_free (gc_group_reply_t **self_p)
{
    assert (self_p);
    if (*self_p) {
        groupcast__v1__group_reply__free_unpacked (*self_p, NULL);
        *self_p = NULL;
    }
}

gc_publish_t *
gc_wire_publish_unpack (const uint8_t *data, size_t size, ProtobufCAllocator *allocator,
                        char *err, size_t errlen)
{
    gc_status_t ignored;
    if (size > GC_MAX_FRAME) {
        return s_fail (&ignored, GC_PROTOCOL, err, errlen, "publish frame too large");
    }
    gc_publish_t *pub = groupcast__v1__publish__unpack (allocator, size, data);
    if (!pub) {
        return s_fail (&ignored, GC_PROTOCOL, err, errlen, "malformed publish frame");
    }
    const char *why = s_check_entries (pub->entries, pub->n_entries);
    if (!why && pub->n_entries > 0) {
        const Groupcast__V1__Entry *last = pub->entries[pub->n_entries - 1];
        if (last->seq != pub->last_seq || last->seq - pub->entries[0]->seq + 1 != pub->n_entries) {
            why = "publish batch not contiguous";
        }
    }
    if (why) {
        groupcast__v1__publish__free_unpacked (pub, allocator);
        return s_fail (&ignored, GC_PROTOCOL, err, errlen, "%s", why);
    }
    return pub;
}

static void s_arena_free (void *data, void *pointer);

void
gc_wire_publish_free (gc_publish_t **self_p, ProtobufCAllocator *allocator)
{
    assert (self_p);
    if (*self_p) {
        //  An arena frees nothing one by one: walking the message would be wasted.
        if (!allocator || allocator->free != s_arena_free) {
            groupcast__v1__publish__free_unpacked (*self_p, allocator);
        }
        *self_p = NULL;
    }
}

zframe_t *
gc_wire_pack (const ProtobufCMessage *message)
{
    size_t size = protobuf_c_message_get_packed_size (message);
    zframe_t *frame = zframe_new (NULL, size);
    if (frame) {
        //  protobuf-c packs exactly get_packed_size bytes; nothing else can go wrong here.
        protobuf_c_message_pack (message, zframe_data (frame));
    }
    return frame;
}

//  A varint field (wire type 0) if value is not zero, as proto3 packs it; returns the bytes
//  written.
static size_t
s_varint_field (uint8_t *buf, uint8_t tag, uint64_t value)
{
    if (value == 0) {
        return 0;
    }
    size_t n = 0;
    buf[n++] = tag;
    while (value >= 0x80) {
        buf[n++] = (uint8_t) (value | 0x80);
        value >>= 7;
    }
    buf[n++] = (uint8_t) value;
    return n;
}

size_t
gc_wire_pack_ack (uint8_t *buf, uint64_t request_id, uint64_t seq, int64_t ts_us,
                  uint64_t last_seq)
{
    assert (buf);
    //  GroupReply fields 1 request_id, 4 seq, 5 ts_us (int64: a negative one takes ten bytes)
    //  and 6 last_seq, in field order as protobuf-c writes them; status 0 (OK) is not written.
    size_t n = s_varint_field (buf, 1 << 3, request_id);
    n += s_varint_field (buf + n, 4 << 3, seq);
    n += s_varint_field (buf + n, 5 << 3, (uint64_t) ts_us);
    n += s_varint_field (buf + n, 6 << 3, last_seq);
    return n;
}

size_t
gc_wire_topic (const char *group, char *buf)
{
    size_t len = strlen (group);
    assert (len <= GC_MAX_NAME);
    memcpy (buf, group, len);
    buf[len] = '/';
    buf[len + 1] = '\0';
    return len + 1;
}

void
gc_wire_new_uuid (char *buf)
{
    uuid_t uuid;
    uuid_generate_random (uuid);
    uuid_unparse_lower (uuid, buf);
}

void
gc_wire_msg_id_from (uint8_t *id, const uint8_t *random)
{
    struct timespec now;
    clock_gettime (CLOCK_REALTIME, &now);
    uint64_t us = (uint64_t) now.tv_sec * 1000000u + (uint64_t) now.tv_nsec / 1000u;
    for (int i = 7; i >= 0; i--) {
        id[i] = (uint8_t) (us & 0xff);
        us >>= 8;
    }
    memcpy (id + 8, random, GC_MSG_ID_SIZE - 8);
}

int
gc_wire_new_msg_id (uint8_t *id)
{
    uint8_t random[GC_MSG_ID_SIZE - 8];
    if (gc_wire_random (random, sizeof random) != 0) {
        return -1;
    }
    gc_wire_msg_id_from (id, random);
    return 0;
}

int
gc_wire_random (uint8_t *buf, size_t size)
{
    size_t done = 0;
    while (done < size) {
        ssize_t rc = getrandom (buf + done, size - done, 0);
        if (rc < 0) {
            if (errno == EINTR) {
                continue;
            }
            return -1;
        }
        done += (size_t) rc;
    }
    return 0;
}

//  ---------------------------------------------------------------------------------------------
//  Arena

typedef struct s_block {
    struct s_block *next;   //  older block
    size_t size;            //  bytes in data
    size_t used;            //  bytes handed out
    max_align_t data[];     //  the memory
} s_block_t;

struct gc_wire_arena {
    ProtobufCAllocator allocator;   //  handed to protobuf-c; allocator_data is self
    s_block_t *blocks;              //  newest first
    size_t block_size;              //  least size of a new block
    size_t used;                    //  bytes handed out since the last reset
    size_t peak;                    //  most bytes handed out between two resets
};

//  An arena hands out at most this much between two resets (then alloc fails, and so does the
//  unpack), and keeps at most GC_MAX_FRAME of it across a reset: a hostile frame that unpacks
//  into far more than its size costs a failed request, not the process's memory.
#define GC_ARENA_LIMIT (16 * GC_MAX_FRAME)

static void *
s_arena_alloc (void *data, size_t size)
{
    gc_wire_arena_t *self = (gc_wire_arena_t *) data;
    size_t align = sizeof (max_align_t);
    size_t asked = size;
    //  One byte more, zeroed: unpacked bytes fields read as NUL-terminated strings.
    size = (size + 1 + align - 1) / align * align;
    if (asked >= GC_ARENA_LIMIT || self->used + size > GC_ARENA_LIMIT) {
        return NULL;
    }
    s_block_t *block = self->blocks;
    if (!block || block->size - block->used < size) {
        size_t want = size > self->block_size ? size : self->block_size;
        block = (s_block_t *) malloc (sizeof (s_block_t) + want);
        if (!block) {
            return NULL;
        }
        block->size = want;
        block->used = 0;
        block->next = self->blocks;
        self->blocks = block;
    }
    char *p = (char *) block->data + block->used;
    p[asked] = '\0';
    block->used += size;
    self->used += size;
    return p;
}

static void
s_arena_free (void *data, void *pointer)
{
    (void) data;
    (void) pointer;
}

gc_wire_arena_t *
gc_wire_arena_new (size_t block_size)
{
    gc_wire_arena_t *self = (gc_wire_arena_t *) calloc (1, sizeof (gc_wire_arena_t));
    if (self) {
        self->allocator.alloc = s_arena_alloc;
        self->allocator.free = s_arena_free;
        self->allocator.allocator_data = self;
        self->block_size = block_size ? block_size : 64 * 1024;
    }
    return self;
}

static void
s_free_blocks (s_block_t *block)
{
    while (block) {
        s_block_t *next = block->next;
        free (block);
        block = next;
    }
}

void
gc_wire_arena_destroy (gc_wire_arena_t **self_p)
{
    assert (self_p);
    gc_wire_arena_t *self = *self_p;
    if (self) {
        s_free_blocks (self->blocks);
        free (self);
        *self_p = NULL;
    }
}

ProtobufCAllocator *
gc_wire_arena_allocator (gc_wire_arena_t *self)
{
    assert (self);
    return &self->allocator;
}

void
gc_wire_arena_reset (gc_wire_arena_t *self)
{
    assert (self);
    if (self->used > self->peak) {
        self->peak = self->used;
    }
    self->used = 0;
    if (!self->blocks) {
        return;
    }
    if (!self->blocks->next && self->blocks->size <= GC_MAX_FRAME) {
        self->blocks->used = 0;
        return;
    }
    //  Several blocks: the load outgrew the arena. Free them; the next allocation makes one
    //  block big enough for the largest load seen, so the arena settles at a single block.
    s_free_blocks (self->blocks);
    self->blocks = NULL;
    if (self->peak > self->block_size) {
        self->block_size = self->peak < GC_MAX_FRAME ? self->peak : GC_MAX_FRAME;
    }
}

size_t
gc_wire_arena_used (const gc_wire_arena_t *self)
{
    assert (self);
    return self->used;
}
