/*  gc_store_impl - the table of operations every gc_store backend provides (private)
    SPDX-License-Identifier: MPL-2.0
*/
#ifndef GC_STORE_IMPL_H_INCLUDED
#define GC_STORE_IMPL_H_INCLUDED

#include "gc_store.h"

typedef struct {
    void (*destroy) (void *impl);
    uint64_t (*last_seq) (void *impl);
    uint64_t (*first_seq) (void *impl);
    int (*append) (void *impl, const gc_store_entry_t *entries, size_t count, char *err,
                   size_t errlen);
    int (*find_msg_id) (void *impl, const char *sender, const uint8_t *msg_id, uint64_t *seq,
                        int64_t *ts_us);
    int (*fetch) (void *impl, const gc_store_query_t *query, gc_store_entry_fn *fn, void *arg,
                  bool *more, char *err, size_t errlen);
    int (*members) (void *impl, gc_store_member_fn *fn, void *arg, char *err, size_t errlen);
    int64_t (*prune) (void *impl, uint64_t keep_from_seq, int64_t keep_from_us, char *err,
                      size_t errlen);
    char *(*meta_get) (void *impl, const char *key);
    int (*meta_set) (void *impl, const char *key, const char *value, char *err, size_t errlen);
} gc_store_ops_t;

//  Formats a reason into err (err may be NULL or errlen 0: then nothing is written).
void gc_store_set_err (char *err, size_t errlen, const char *format, ...)
    __attribute__ ((format (printf, 3, 4)));

//  Wraps a backend's state and operations in a gc_store_t; takes ownership of impl (destroyed
//  through ops->destroy). Returns NULL (after destroying impl) if out of memory.
gc_store_t *gc_store_wrap (const gc_store_ops_t *ops, void *impl);

#endif
