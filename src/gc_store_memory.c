/*  gc_store_memory - the gc_store backend that keeps a group's state in memory only
    SPDX-License-Identifier: MPL-2.0

    Entries live in a growable array of pointers, oldest first; the entries held are
    items[head..tail). Each entry is one allocation carrying its name and text behind it, so an
    append costs one malloc per entry plus an amortised array slot. Prune frees from the front
    and advances head; the array is compacted only once at least half of it is dead, which keeps
    both append and prune amortised O(1).

    Because seq is contiguous over what is held, an entry's index is head + (seq - first_seq);
    because ts_us never decreases along seq, a time bound is a binary search.

    Client message ids are indexed in a zhashx whose keys are the entries themselves (no copy),
    hashed with SipHash-2-4 under a random per-store key: ids are chosen by clients, and a
    predictable hash would let one member flood a bucket and make every lookup slow.
*/
#include "gc_store.h"
#include "gc_store_impl.h"

#include <czmq.h>

#include <assert.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

typedef struct mem_store mem_store_t;

typedef struct {
    const mem_store_t *owner;            //  the store, whose hash key the msg-id index uses
    uint64_t seq;                        //  sequence number
    int64_t ts_us;                       //  acceptance time
    size_t text_len;                     //  bytes of text
    const char *name;                    //  display name, in data
    const uint8_t *text;                 //  text, in data after the name (NULL when empty)
    gc_entry_kind_t kind;                //  message, join or leave
    bool has_msg_id;                     //  msg_id is set
    bool indexed;                        //  msg_ids points at this entry (its id's first use)
    char sender[GC_UUID_STR_LEN + 1];    //  sender, zero-padded (hashed and compared whole)
    uint8_t msg_id[GC_MSG_ID_SIZE];      //  client message id
    char data[];                         //  name, NUL, text, NUL
} mem_entry_t;

typedef struct {
    int64_t joined_us;                   //  when the member last joined
    uint8_t token_digest[20];            //  SHA-1 of the member's token
    char id[GC_UUID_STR_LEN + 1];        //  user UUID
    char name[];                         //  display name
} mem_member_t;

struct mem_store {
    mem_entry_t **items;    //  entry pointers; the held ones are items[head..tail)
    size_t head;            //  index of the oldest held entry
    size_t tail;            //  one past the newest held entry
    size_t cap;             //  slots in items
    uint64_t last_seq;      //  newest seq ever stored
    zhashx_t *msg_ids;      //  mem_entry_t * (key and value) by (sender, msg_id)
    zhashx_t *members;      //  mem_member_t * by id
    zhashx_t *meta;         //  char * value by key
    uint64_t hash_key[2];   //  SipHash key for msg_ids
};

//  ---------------------------------------------------------------------------------------------
//  SipHash-2-4 (Aumasson and Bernstein), over the sender and message id of an entry

static uint64_t
s_rotl (uint64_t x, int b)
{
    return (x << b) | (x >> (64 - b));
}

static void
s_sipround (uint64_t v[4])
{
    v[0] += v[1];
    v[1] = s_rotl (v[1], 13);
    v[1] ^= v[0];
    v[0] = s_rotl (v[0], 32);
    v[2] += v[3];
    v[3] = s_rotl (v[3], 16);
    v[3] ^= v[2];
    v[0] += v[3];
    v[3] = s_rotl (v[3], 21);
    v[3] ^= v[0];
    v[2] += v[1];
    v[1] = s_rotl (v[1], 17);
    v[1] ^= v[2];
    v[2] = s_rotl (v[2], 32);
}

static uint64_t
s_siphash (const uint64_t key[2], const uint8_t *in, size_t len)
{
    uint64_t v[4] = { 0x736f6d6570736575ULL ^ key[0], 0x646f72616e646f6dULL ^ key[1],
                      0x6c7967656e657261ULL ^ key[0], 0x7465646279746573ULL ^ key[1] };
    size_t blocks = len / 8;
    for (size_t i = 0; i < blocks; i++, in += 8) {
        uint64_t m = 0;
        for (int k = 0; k < 8; k++) {
            m |= (uint64_t) in[k] << (8 * k);
        }
        v[3] ^= m;
        s_sipround (v);
        s_sipround (v);
        v[0] ^= m;
    }
    uint64_t last = (uint64_t) len << 56;
    for (size_t k = 0; k < len % 8; k++) {
        last |= (uint64_t) in[k] << (8 * k);
    }
    v[3] ^= last;
    s_sipround (v);
    s_sipround (v);
    v[0] ^= last;
    v[2] ^= 0xff;
    for (int r = 0; r < 4; r++) {
        s_sipround (v);
    }
    return v[0] ^ v[1] ^ v[2] ^ v[3];
}

static size_t
s_msg_id_hash (const void *key)
{
    const mem_entry_t *entry = (const mem_entry_t *) key;
    uint8_t buf[sizeof entry->sender + sizeof entry->msg_id];
    memcpy (buf, entry->sender, sizeof entry->sender);
    memcpy (buf + sizeof entry->sender, entry->msg_id, sizeof entry->msg_id);
    return (size_t) s_siphash (entry->owner->hash_key, buf, sizeof buf);
}

static int
s_msg_id_compare (const void *key1, const void *key2)
{
    const mem_entry_t *a = (const mem_entry_t *) key1;
    const mem_entry_t *b = (const mem_entry_t *) key2;
    int rc = memcmp (a->sender, b->sender, sizeof a->sender);
    return rc ? rc : memcmp (a->msg_id, b->msg_id, sizeof a->msg_id);
}

//  Copies a NUL-terminated sender into a zero-padded field. Returns false if it does not fit.
static bool
s_copy_sender (char dest[GC_UUID_STR_LEN + 1], const char *sender)
{
    size_t len = strnlen (sender, GC_UUID_STR_LEN + 1);
    if (len > GC_UUID_STR_LEN) {
        return false;
    }
    memset (dest, 0, GC_UUID_STR_LEN + 1);
    memcpy (dest, sender, len);
    return true;
}

static void
s_free_item (void **item_p)
{
    free (*item_p);
    *item_p = NULL;
}

//  ---------------------------------------------------------------------------------------------
//  Entries

//  Index of the first held entry with ts_us >= ts_us (tail if none).
static size_t
s_lower_bound_ts (const mem_store_t *self, int64_t ts_us)
{
    size_t lo = self->head, hi = self->tail;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (self->items[mid]->ts_us < ts_us) {
            lo = mid + 1;
        }
        else {
            hi = mid;
        }
    }
    return lo;
}

//  Makes room for `count` more entries after tail. Returns 0 or -1 if out of memory.
static int
s_reserve (mem_store_t *self, size_t count)
{
    if (self->tail + count <= self->cap) {
        return 0;
    }
    size_t held = self->tail - self->head;
    //  Compacting costs `held` moves; doing it only when head >= held pays for them with the
    //  prunes that made the dead space.
    if (self->head > 0 && self->head >= held && held + count <= self->cap) {
        memmove (self->items, self->items + self->head, held * sizeof (mem_entry_t *));
        self->head = 0;
        self->tail = held;
        return 0;
    }
    size_t cap = self->cap ? self->cap * 2 : 1024;
    while (cap < self->tail + count) {
        cap *= 2;
    }
    mem_entry_t **items = (mem_entry_t **) realloc (self->items, cap * sizeof (mem_entry_t *));
    if (!items) {
        return -1;
    }
    self->items = items;
    self->cap = cap;
    return 0;
}

static mem_entry_t *
s_entry_new (const mem_store_t *self, const gc_store_entry_t *source)
{
    const char *name = source->name ? source->name : "";
    size_t name_len = strlen (name);
    if (source->text_len > SIZE_MAX / 2 || name_len > SIZE_MAX / 4) {
        return NULL;
    }
    mem_entry_t *entry = (mem_entry_t *) malloc (sizeof (mem_entry_t) + name_len + 1
                                                 + source->text_len + 1);
    if (!entry) {
        return NULL;
    }
    entry->owner = self;
    entry->seq = source->seq;
    entry->ts_us = source->ts_us;
    entry->kind = source->kind;
    entry->has_msg_id = source->has_msg_id;
    memcpy (entry->msg_id, source->msg_id, sizeof entry->msg_id);
    bool fits = s_copy_sender (entry->sender, source->sender);
    assert (fits);  //  gc_store_append checked it
    (void) fits;
    memcpy (entry->data, name, name_len + 1);
    entry->name = entry->data;
    uint8_t *text = (uint8_t *) entry->data + name_len + 1;
    if (source->text_len > 0) {
        memcpy (text, source->text, source->text_len);
    }
    text[source->text_len] = 0;
    entry->text = source->text_len > 0 ? text : NULL;
    entry->text_len = source->text_len;
    return entry;
}

static mem_member_t *
s_member_new (const gc_store_entry_t *source)
{
    const char *name = source->name ? source->name : "";
    size_t name_len = strlen (name);
    mem_member_t *member = (mem_member_t *) malloc (sizeof (mem_member_t) + name_len + 1);
    if (!member) {
        return NULL;
    }
    member->joined_us = source->ts_us;
    memcpy (member->token_digest, source->token_digest, sizeof member->token_digest);
    bool fits = s_copy_sender (member->id, source->sender);
    assert (fits);
    (void) fits;
    memcpy (member->name, name, name_len + 1);
    return member;
}

//  ---------------------------------------------------------------------------------------------
//  Operations

static void
s_destroy (void *impl)
{
    mem_store_t *self = (mem_store_t *) impl;
    for (size_t i = self->head; i < self->tail; i++) {
        free (self->items[i]);
    }
    free (self->items);
    zhashx_destroy (&self->msg_ids);
    zhashx_destroy (&self->members);
    zhashx_destroy (&self->meta);
    free (self);
}

static uint64_t
s_last_seq (void *impl)
{
    return ((mem_store_t *) impl)->last_seq;
}

static uint64_t
s_first_seq (void *impl)
{
    mem_store_t *self = (mem_store_t *) impl;
    return self->head < self->tail ? self->items[self->head]->seq : 0;
}

static int
s_append (void *impl, const gc_store_entry_t *entries, size_t count, char *err, size_t errlen)
{
    mem_store_t *self = (mem_store_t *) impl;
    int rc = -1;
    size_t built = 0;           //  entries allocated into items[tail..tail+built)
    size_t indexed = 0;         //  of those, how many have had their msg_id indexed
    mem_member_t **joins = NULL;
    size_t join_count = 0;

    if (s_reserve (self, count) != 0) {
        gc_store_set_err (err, errlen, "cannot append to memory store: out of memory");
        goto cleanup;
    }
    for (size_t i = 0; i < count; i++) {
        join_count += entries[i].kind == GC_ENTRY_JOIN;
    }
    if (join_count > 0) {
        joins = (mem_member_t **) calloc (join_count, sizeof (mem_member_t *));
        if (!joins) {
            gc_store_set_err (err, errlen, "cannot append to memory store: out of memory");
            goto cleanup;
        }
    }
    //  Allocate everything first, so that nothing can fail once the store starts changing.
    for (size_t i = 0, j = 0; i < count; i++) {
        mem_entry_t *entry = s_entry_new (self, &entries[i]);
        if (!entry) {
            gc_store_set_err (err, errlen, "cannot append to memory store: out of memory");
            goto cleanup;
        }
        self->items[self->tail + built++] = entry;
        if (entries[i].kind == GC_ENTRY_JOIN) {
            joins[j] = s_member_new (&entries[i]);
            if (!joins[j++]) {
                gc_store_set_err (err, errlen, "cannot append to memory store: out of memory");
                goto cleanup;
            }
        }
    }
    //  Index message ids. An id already indexed keeps pointing at its first entry: a lookup
    //  finds the original, as the SQLite backend's ORDER BY seq does.
    for (; indexed < count; indexed++) {
        mem_entry_t *entry = self->items[self->tail + indexed];
        entry->indexed = entry->has_msg_id && zhashx_insert (self->msg_ids, entry, entry) == 0;
    }
    //  Commit: nothing below can fail.
    for (size_t i = 0, j = 0; i < count; i++) {
        mem_entry_t *entry = self->items[self->tail + i];
        if (entry->kind == GC_ENTRY_JOIN) {
            zhashx_update (self->members, joins[j]->id, joins[j]);
            joins[j++] = NULL;
        }
        else if (entry->kind == GC_ENTRY_LEAVE) {
            zhashx_delete (self->members, entry->sender);
        }
    }
    self->tail += count;
    self->last_seq = entries[count - 1].seq;
    built = 0;
    indexed = 0;
    rc = 0;

cleanup:
    for (size_t i = 0; i < indexed; i++) {
        mem_entry_t *entry = self->items[self->tail + i];
        if (entry->indexed) {
            zhashx_delete (self->msg_ids, entry);
        }
    }
    for (size_t i = 0; i < built; i++) {
        free (self->items[self->tail + i]);
    }
    for (size_t j = 0; j < join_count; j++) {
        free (joins[j]);
    }
    free (joins);
    return rc;
}

static int
s_find_msg_id (void *impl, const char *sender, const uint8_t *msg_id, uint64_t *seq,
               int64_t *ts_us)
{
    mem_store_t *self = (mem_store_t *) impl;
    mem_entry_t probe;
    memset (&probe, 0, sizeof probe);
    probe.owner = self;
    if (!s_copy_sender (probe.sender, sender)) {
        return 0;
    }
    memcpy (probe.msg_id, msg_id, sizeof probe.msg_id);
    const mem_entry_t *entry = (const mem_entry_t *) zhashx_lookup (self->msg_ids, &probe);
    if (!entry) {
        return 0;
    }
    *seq = entry->seq;
    *ts_us = entry->ts_us;
    return 1;
}

static int
s_fetch (void *impl, const gc_store_query_t *query, gc_store_entry_fn *fn, void *arg,
         bool *more, char *err, size_t errlen)
{
    (void) err;
    (void) errlen;
    mem_store_t *self = (mem_store_t *) impl;
    *more = false;
    if (self->head == self->tail) {
        return 0;
    }
    uint64_t first = self->items[self->head]->seq;
    size_t lo = self->head, hi = self->tail;
    if (query->after_seq >= first) {
        if (query->after_seq >= self->last_seq) {
            return 0;
        }
        lo = self->head + (size_t) (query->after_seq + 1 - first);
    }
    if (query->before_seq != 0 && query->before_seq <= self->last_seq) {
        if (query->before_seq <= first) {
            return 0;
        }
        hi = self->head + (size_t) (query->before_seq - first);
    }
    if (query->since_us != 0) {
        size_t bound = s_lower_bound_ts (self, query->since_us);
        lo = bound > lo ? bound : lo;
    }
    if (query->until_us != 0) {
        size_t bound = s_lower_bound_ts (self, query->until_us);
        hi = bound < hi ? bound : hi;
    }
    if (lo >= hi) {
        return 0;
    }
    size_t matches = hi - lo;
    size_t take = matches < query->limit ? matches : query->limit;
    size_t start = query->newest ? hi - take : lo;
    gc_store_entry_t out;
    memset (&out, 0, sizeof out);
    for (size_t i = start; i < start + take; i++) {
        const mem_entry_t *entry = self->items[i];
        out.seq = entry->seq;
        out.ts_us = entry->ts_us;
        out.kind = entry->kind;
        memcpy (out.sender, entry->sender, sizeof out.sender);
        out.name = entry->name;
        out.text = entry->text;
        out.text_len = entry->text_len;
        out.has_msg_id = entry->has_msg_id;
        memcpy (out.msg_id, entry->msg_id, sizeof out.msg_id);
        fn (arg, &out);
    }
    *more = matches > take;
    return 0;
}

static int
s_member_compare (const void *a, const void *b)
{
    const mem_member_t *ma = *(const mem_member_t *const *) a;
    const mem_member_t *mb = *(const mem_member_t *const *) b;
    return strcmp (ma->id, mb->id);
}

static int
s_members (void *impl, gc_store_member_fn *fn, void *arg, char *err, size_t errlen)
{
    mem_store_t *self = (mem_store_t *) impl;
    size_t count = zhashx_size (self->members);
    if (count == 0) {
        return 0;
    }
    const mem_member_t **list = (const mem_member_t **) malloc (count * sizeof *list);
    if (!list) {
        gc_store_set_err (err, errlen, "cannot list members of memory store: out of memory");
        return -1;
    }
    size_t n = 0;
    for (const mem_member_t *member = (const mem_member_t *) zhashx_first (self->members);
         member; member = (const mem_member_t *) zhashx_next (self->members)) {
        list[n++] = member;
    }
    assert (n == count);
    qsort (list, n, sizeof *list, s_member_compare);
    for (size_t i = 0; i < n; i++) {
        gc_store_member_t out;
        memcpy (out.id, list[i]->id, sizeof out.id);
        out.name = list[i]->name;
        out.joined_us = list[i]->joined_us;
        memcpy (out.token_digest, list[i]->token_digest, sizeof out.token_digest);
        fn (arg, &out);
    }
    free (list);
    return 0;
}

static int64_t
s_prune (void *impl, uint64_t keep_from_seq, int64_t keep_from_us, char *err, size_t errlen)
{
    (void) err;
    (void) errlen;
    mem_store_t *self = (mem_store_t *) impl;
    if (self->head == self->tail) {
        return 0;
    }
    uint64_t first = self->items[self->head]->seq;
    size_t held = self->tail - self->head;
    size_t cut = self->head;
    if (keep_from_seq > first) {
        uint64_t drop = keep_from_seq - first;
        cut = self->head + (drop < held ? (size_t) drop : held);
    }
    if (keep_from_us != 0) {
        size_t bound = s_lower_bound_ts (self, keep_from_us);
        cut = bound > cut ? bound : cut;
    }
    if (cut > self->tail - 1) {
        cut = self->tail - 1;   //  never the newest entry: it carries last_seq
    }
    for (size_t i = self->head; i < cut; i++) {
        if (self->items[i]->indexed) {
            zhashx_delete (self->msg_ids, self->items[i]);
        }
        free (self->items[i]);
    }
    int64_t dropped = (int64_t) (cut - self->head);
    self->head = cut;
    return dropped;
}

static char *
s_meta_get (void *impl, const char *key)
{
    mem_store_t *self = (mem_store_t *) impl;
    const char *value = (const char *) zhashx_lookup (self->meta, key);
    return value ? strdup (value) : NULL;
}

static int
s_meta_set (void *impl, const char *key, const char *value, char *err, size_t errlen)
{
    mem_store_t *self = (mem_store_t *) impl;
    char *copy = strdup (value);
    if (!copy) {
        gc_store_set_err (err, errlen, "cannot set store meta '%s': out of memory", key);
        return -1;
    }
    zhashx_update (self->meta, key, copy);
    return 0;
}

static const gc_store_ops_t s_ops = {
    .destroy = s_destroy,
    .last_seq = s_last_seq,
    .first_seq = s_first_seq,
    .append = s_append,
    .find_msg_id = s_find_msg_id,
    .fetch = s_fetch,
    .members = s_members,
    .prune = s_prune,
    .meta_get = s_meta_get,
    .meta_set = s_meta_set,
};

gc_store_t *
gc_store_new_memory (void)
{
    mem_store_t *self = (mem_store_t *) calloc (1, sizeof (mem_store_t));
    if (!self) {
        return NULL;
    }
    if (getrandom (self->hash_key, sizeof self->hash_key, 0) != (ssize_t) sizeof self->hash_key) {
        //  No entropy source: still better than a fixed key.
        self->hash_key[0] = (uint64_t) time (NULL) ^ (uint64_t) (uintptr_t) self;
        self->hash_key[1] = (uint64_t) clock () ^ 0x9e3779b97f4a7c15ULL;
    }
    self->msg_ids = zhashx_new ();
    self->members = zhashx_new ();
    self->meta = zhashx_new ();
    if (!self->msg_ids || !self->members || !self->meta) {
        s_destroy (self);
        return NULL;
    }
    zhashx_set_key_hasher (self->msg_ids, s_msg_id_hash);
    zhashx_set_key_comparator (self->msg_ids, s_msg_id_compare);
    zhashx_set_key_duplicator (self->msg_ids, NULL);
    zhashx_set_key_destructor (self->msg_ids, NULL);
    zhashx_set_destructor (self->members, s_free_item);
    zhashx_set_destructor (self->meta, s_free_item);
    return gc_store_wrap (&s_ops, self);
}
