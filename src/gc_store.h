/*  gc_store - a group's durable state: its ordered stream of entries and its members
    SPDX-License-Identifier: MPL-2.0

    One interface, two backends: memory (tests, --memory) and SQLite (the default). The group
    hands the store whole batches: one gc_store_append is one transaction, so every send that
    arrived in one turn of the event loop costs one commit (group commit).
*/
#ifndef GC_STORE_H_INCLUDED
#define GC_STORE_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "groupcast.h"

typedef struct gc_store gc_store_t;

//  One entry as stored. Strings and text are borrowed by whoever holds the struct.
typedef struct {
    uint64_t seq;                        //  sequence number, contiguous within the store
    int64_t ts_us;                       //  acceptance time, UTC microseconds
    gc_entry_kind_t kind;                //  message, join or leave
    char sender[GC_UUID_STR_LEN + 1];    //  sender's UUID
    const char *name;                    //  sender's display name ("" if none)
    const uint8_t *text;                 //  message text (NULL when text_len is 0)
    size_t text_len;                     //  bytes of text
    bool has_msg_id;                     //  msg_id is set
    uint8_t msg_id[GC_MSG_ID_SIZE];      //  client message id, for idempotent sends
    //  join only: the member's token digest, stored with the member (zero in fetched entries)
    uint8_t token_digest[20];            //  SHA-1 of the member's token
} gc_store_entry_t;

//  A member as stored.
typedef struct {
    char id[GC_UUID_STR_LEN + 1];        //  user UUID
    const char *name;                    //  display name, borrowed
    int64_t joined_us;                   //  when the member (last) joined
    uint8_t token_digest[20];            //  SHA-1 of the token the member joined with
} gc_store_member_t;

//  A history query (see gc_query_t in groupcast.h); limit is already clamped by the caller.
typedef struct {
    int64_t since_us;    //  ts_us >= since_us (0: no filter)
    int64_t until_us;    //  ts_us < until_us (0: no filter)
    uint64_t after_seq;  //  seq > after_seq (0: no filter)
    uint64_t before_seq; //  seq < before_seq (0: no filter)
    uint32_t limit;      //  at most this many, > 0
    bool newest;         //  take the newest `limit` matches instead of the oldest
} gc_store_query_t;

typedef enum {
    GC_STORE_SYNC_FULL,    //  survives power loss (SQLite synchronous=FULL)
    GC_STORE_SYNC_NORMAL   //  survives a process crash (synchronous=NORMAL in WAL mode)
} gc_store_sync_t;

//  A store held in memory only.
gc_store_t *gc_store_new_memory (void);

//  A store in the SQLite database at `path` (created if missing, mode 0600, WAL mode). Fails,
//  with the reason in err, if the file is not a groupcast database, is corrupt or unwritable, or
//  another process holds it: the store holds an exclusive flock on `<path>.lock` (created next to
//  it and left there) until destroy. Opening runs PRAGMA quick_check, which reads the whole file
//  (about 0.3 s for 1,000,000 entries). The store runs one background thread of its own, which
//  only checkpoints the WAL on its own connection.
gc_store_t *gc_store_new_sqlite (const char *path, gc_store_sync_t sync, char *err,
                                 size_t errlen);

//  Closes the store (for SQLite: checkpoints the WAL first). Accepts NULL.
void gc_store_destroy (gc_store_t **self_p);

//  The newest sequence number ever given (0 if none), and the oldest one still held (0 if the
//  store holds no entry).
uint64_t gc_store_last_seq (gc_store_t *self);
uint64_t gc_store_first_seq (gc_store_t *self);

//  Appends entries, whose seq must continue last_seq without a gap, as one atomic transaction:
//  a join entry also stores its member (replacing one of that id), a leave entry removes it.
//  ts_us must not decrease along seq (nor fall below the newest stored entry's), the sender must
//  be set, and a (sender, msg_id) pair may be stored only once. Returns 0, or -1 with the reason
//  in err and nothing stored (the store stays usable, e.g. after a full disk).
int gc_store_append (gc_store_t *self, const gc_store_entry_t *entries, size_t count, char *err,
                     size_t errlen);

//  Looks up a message by sender and client message id among the entries still held (pruned
//  ones are forgotten). Returns 1 and sets *seq and *ts_us (either may be NULL) when found, 0
//  when not, -1 on a storage error (logged).
int gc_store_find_msg_id (gc_store_t *self, const char *sender, const uint8_t *msg_id,
                          uint64_t *seq, int64_t *ts_us);

//  Calls fn for each entry matching query, ascending by seq (entry borrowed during the call; fn
//  must not call into the store). Sets *more (may be NULL) when further entries match beyond the
//  page: newer ones, or older ones with `newest`. Returns 0 or -1 with reason in err. The cost is
//  that of the page, whatever the size of the history.
typedef void (gc_store_entry_fn) (void *arg, const gc_store_entry_t *entry);
int gc_store_fetch (gc_store_t *self, const gc_store_query_t *query, gc_store_entry_fn *fn,
                    void *arg, bool *more, char *err, size_t errlen);

//  Calls fn for each stored member, ascending by id (borrowed during the call; fn must not call
//  into the store). Returns 0 or -1 with the reason in err.
typedef void (gc_store_member_fn) (void *arg, const gc_store_member_t *member);
int gc_store_members (gc_store_t *self, gc_store_member_fn *fn, void *arg, char *err,
                      size_t errlen);

//  Drops entries with seq < keep_from_seq or ts_us < keep_from_us (0: no such bound), never the
//  newest entry. Returns the number dropped, or -1 with the reason in err.
int64_t gc_store_prune (gc_store_t *self, uint64_t keep_from_seq, int64_t keep_from_us,
                        char *err, size_t errlen);

//  A metadata value (e.g. "group_id"): returns an owned copy, or NULL if unset (or on a storage
//  error, which is logged). Keys starting with "store." belong to the backend.
char *gc_store_meta_get (gc_store_t *self, const char *key);
//  Sets a metadata value. Returns 0 or -1 with the reason in err (also for an empty key or one
//  starting with "store.").
int gc_store_meta_set (gc_store_t *self, const char *key, const char *value, char *err,
                       size_t errlen);

#endif
