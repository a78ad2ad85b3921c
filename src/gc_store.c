/*  gc_store - the store interface: checks the caller's contract, then dispatches to a backend
    SPDX-License-Identifier: MPL-2.0

    The checks every backend relies on live here, once: an append must continue last_seq
    without a gap and keep ts_us non-decreasing, so that the held entries are always one
    contiguous run of seq ordered by time as well. Backends may then find a time bound by
    binary search (memory) or one index probe (SQLite) instead of scanning.
*/
#include "gc_store.h"
#include "gc_store_impl.h"

#include <assert.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct gc_store {
    const gc_store_ops_t *ops;  //  the backend's operations
    void *impl;                 //  the backend's state, owned
    bool last_ts_known;         //  last_ts_us is loaded
    int64_t last_ts_us;         //  ts_us of the newest entry (valid when last_ts_known)
    bool in_callback;           //  inside a fetch or members callback (no re-entry)
};

//  Metadata keys with this prefix belong to the backends themselves.
#define GC_STORE_RESERVED_PREFIX "store."

void
gc_store_set_err (char *err, size_t errlen, const char *format, ...)
{
    if (err && errlen > 0) {
        va_list args;
        va_start (args, format);
        vsnprintf (err, errlen, format, args);
        va_end (args);
    }
}

gc_store_t *
gc_store_wrap (const gc_store_ops_t *ops, void *impl)
{
    assert (ops);
    assert (impl);
    gc_store_t *self = (gc_store_t *) calloc (1, sizeof (gc_store_t));
    if (!self) {
        ops->destroy (impl);
        return NULL;
    }
    self->ops = ops;
    self->impl = impl;
    return self;
}

void
gc_store_destroy (gc_store_t **self_p)
{
    assert (self_p);
    gc_store_t *self = *self_p;
    if (self) {
        assert (!self->in_callback);
        self->ops->destroy (self->impl);
        free (self);
        *self_p = NULL;
    }
}

uint64_t
gc_store_last_seq (gc_store_t *self)
{
    assert (self);
    return self->ops->last_seq (self->impl);
}

uint64_t
gc_store_first_seq (gc_store_t *self)
{
    assert (self);
    return self->ops->first_seq (self->impl);
}

static void
s_take_last_ts (void *arg, const gc_store_entry_t *entry)
{
    gc_store_t *self = (gc_store_t *) arg;
    self->last_ts_us = entry->ts_us;
}

//  Loads the newest entry's ts_us once; later appends keep it current. Returns 0 or -1.
static int
s_load_last_ts (gc_store_t *self, char *err, size_t errlen)
{
    if (self->last_ts_known) {
        return 0;
    }
    self->last_ts_us = INT64_MIN;   //  no entry yet: any ts_us is acceptable
    gc_store_query_t query = { .limit = 1, .newest = true };
    bool more;
    if (self->ops->fetch (self->impl, &query, s_take_last_ts, self, &more, err, errlen) != 0) {
        return -1;
    }
    self->last_ts_known = true;
    return 0;
}

int
gc_store_append (gc_store_t *self, const gc_store_entry_t *entries, size_t count, char *err,
                 size_t errlen)
{
    assert (self);
    assert (entries || count == 0);
    assert (!self->in_callback);
    if (count == 0) {
        return 0;
    }
    if (s_load_last_ts (self, err, errlen) != 0) {
        return -1;
    }
    uint64_t expected = self->ops->last_seq (self->impl) + 1;
    int64_t prev_ts = self->last_ts_us;
    for (size_t i = 0; i < count; i++, expected++) {
        const gc_store_entry_t *entry = &entries[i];
        assert (entry->text || entry->text_len == 0);
        if (entry->seq != expected || entry->seq >= (uint64_t) INT64_MAX) {
            gc_store_set_err (err, errlen, "cannot append entry %" PRIu64 ": expected seq %" PRIu64,
                       entry->seq, expected);
            return -1;
        }
        if (entry->ts_us < prev_ts) {
            gc_store_set_err (err, errlen,
                       "cannot append entry %" PRIu64 ": ts_us %" PRId64
                       " is before the previous entry's %" PRId64,
                       entry->seq, entry->ts_us, prev_ts);
            return -1;
        }
        if (entry->kind != GC_ENTRY_MESSAGE && entry->kind != GC_ENTRY_JOIN
            && entry->kind != GC_ENTRY_LEAVE) {
            gc_store_set_err (err, errlen, "cannot append entry %" PRIu64 ": unknown kind %d",
                       entry->seq, (int) entry->kind);
            return -1;
        }
        if (entry->sender[0] == '\0' || !memchr (entry->sender, '\0', sizeof entry->sender)) {
            gc_store_set_err (err, errlen, "cannot append entry %" PRIu64 ": sender is not set",
                       entry->seq);
            return -1;
        }
        prev_ts = entry->ts_us;
    }
    if (self->ops->append (self->impl, entries, count, err, errlen) != 0) {
        return -1;
    }
    self->last_ts_us = prev_ts;
    return 0;
}

int
gc_store_find_msg_id (gc_store_t *self, const char *sender, const uint8_t *msg_id, uint64_t *seq,
                      int64_t *ts_us)
{
    assert (self);
    assert (sender);
    assert (msg_id);
    assert (!self->in_callback);
    uint64_t found_seq = 0;
    int64_t found_ts = 0;
    int rc = self->ops->find_msg_id (self->impl, sender, msg_id, &found_seq, &found_ts);
    if (rc == 1) {
        if (seq) {
            *seq = found_seq;
        }
        if (ts_us) {
            *ts_us = found_ts;
        }
    }
    return rc;
}

int
gc_store_fetch (gc_store_t *self, const gc_store_query_t *query, gc_store_entry_fn *fn,
                void *arg, bool *more, char *err, size_t errlen)
{
    assert (self);
    assert (query);
    assert (query->limit > 0);
    assert (fn);
    assert (!self->in_callback);
    bool more_local = false;
    self->in_callback = true;
    int rc = self->ops->fetch (self->impl, query, fn, arg, &more_local, err, errlen);
    self->in_callback = false;
    if (more) {
        *more = rc == 0 && more_local;
    }
    return rc;
}

int
gc_store_members (gc_store_t *self, gc_store_member_fn *fn, void *arg, char *err, size_t errlen)
{
    assert (self);
    assert (fn);
    assert (!self->in_callback);
    self->in_callback = true;
    int rc = self->ops->members (self->impl, fn, arg, err, errlen);
    self->in_callback = false;
    return rc;
}

int64_t
gc_store_prune (gc_store_t *self, uint64_t keep_from_seq, int64_t keep_from_us, char *err,
                size_t errlen)
{
    assert (self);
    assert (!self->in_callback);
    return self->ops->prune (self->impl, keep_from_seq, keep_from_us, err, errlen);
}

char *
gc_store_meta_get (gc_store_t *self, const char *key)
{
    assert (self);
    assert (key);
    assert (!self->in_callback);
    return self->ops->meta_get (self->impl, key);
}

int
gc_store_meta_set (gc_store_t *self, const char *key, const char *value, char *err,
                   size_t errlen)
{
    assert (self);
    assert (key);
    assert (value);
    assert (!self->in_callback);
    if (*key == '\0') {
        gc_store_set_err (err, errlen, "cannot set store meta '': empty key");
        return -1;
    }
    if (strncmp (key, GC_STORE_RESERVED_PREFIX, strlen (GC_STORE_RESERVED_PREFIX)) == 0) {
        gc_store_set_err (err, errlen, "cannot set store meta '%s': key reserved for the store",
                          key);
        return -1;
    }
    return self->ops->meta_set (self->impl, key, value, err, errlen);
}
