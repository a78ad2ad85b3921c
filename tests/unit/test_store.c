/*  test_store - gc_store: every case against both backends (memory, SQLite), plus the SQLite
    backend's durability, locking and refusal of bad files
    SPDX-License-Identifier: MPL-2.0
*/
#include "gc_proc.h"
#include "gc_store.h"
#include "gc_test.h"

#include <sqlite3.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdbool.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

//  ---------------------------------------------------------------------------------------------
//  Fixture: a temp dir and a store of one backend, torn down whatever the case did

typedef struct {
    const char *name;   //  "memory" or "sqlite"
    bool durable;       //  reopening the same path restores the store
} backend_t;

static const backend_t s_memory = { "memory", false };
static const backend_t s_sqlite = { "sqlite", true };

typedef struct {
    const backend_t *backend;   //  which store
    char *dir;                  //  the case's own temp dir
    char path[512];             //  dir/group.db
    gc_store_t *store;          //  the store under test
    char err[512];              //  the last error text
} fixture_t;

static gc_store_t *
s_open (fixture_t *fx, gc_store_sync_t sync)
{
    fx->err[0] = '\0';
    if (fx->backend->durable) {
        return gc_store_new_sqlite (fx->path, sync, fx->err, sizeof fx->err);
    }
    return gc_store_new_memory ();
}

//  Closes and reopens the store (durable backends only).
static bool
s_reopen (fixture_t *fx)
{
    gc_store_destroy (&fx->store);
    fx->store = s_open (fx, GC_STORE_SYNC_FULL);
    if (!fx->store) {
        fprintf (stderr, "reopen failed: %s\n", fx->err);
    }
    return fx->store != NULL;
}

typedef void (case_fn) (fixture_t *fx);

static void
s_run_case (const backend_t *backend, case_fn *fn)
{
    fixture_t fx;
    memset (&fx, 0, sizeof fx);
    fx.backend = backend;
    fx.dir = gc_tmpdir_new ("store");
    CHECK (fx.dir);
    snprintf (fx.path, sizeof fx.path, "%s/group.db", fx.dir);
    fx.store = s_open (&fx, GC_STORE_SYNC_FULL);
    if (!fx.store) {
        fprintf (stderr, "cannot open the %s store: %s\n", backend->name, fx.err);
    }
    else {
        fn (&fx);
    }
    gc_store_destroy (&fx.store);
    chmod (fx.dir, 0700);   //  a case may have made it read-only
    gc_tmpdir_destroy (&fx.dir);
}

//  ---------------------------------------------------------------------------------------------
//  Helpers

#define SENDER_A "0b5c1a8e-1111-4aaa-8aaa-00000000000a"
#define SENDER_B "0b5c1a8e-2222-4bbb-8bbb-00000000000b"
#define SENDER_C "0b5c1a8e-3333-4ccc-8ccc-00000000000c"

//  An entry with borrowed name and text (text may be NULL for none).
static gc_store_entry_t
s_entry (uint64_t seq, int64_t ts_us, gc_entry_kind_t kind, const char *sender, const char *name,
         const char *text)
{
    gc_store_entry_t entry;
    memset (&entry, 0, sizeof entry);
    entry.seq = seq;
    entry.ts_us = ts_us;
    entry.kind = kind;
    snprintf (entry.sender, sizeof entry.sender, "%s", sender);
    entry.name = name;
    entry.text = (const uint8_t *) text;
    entry.text_len = text ? strlen (text) : 0;
    return entry;
}

static void
s_set_msg_id (gc_store_entry_t *entry, uint8_t fill)
{
    entry->has_msg_id = true;
    memset (entry->msg_id, fill, sizeof entry->msg_id);
    entry->msg_id[0] = (uint8_t) (entry->seq & 0xff);
}

//  A copy of everything fetched, in delivery order.
typedef struct {
    size_t count;
    gc_store_entry_t items[64];     //  the first 64 entries, with name and text copied
    char names[64][GC_MAX_NAME + 1];
    uint8_t *texts[64];
    uint64_t seqs[20000];           //  every delivered seq
} collect_t;

static void
s_collect (void *arg, const gc_store_entry_t *entry)
{
    collect_t *c = (collect_t *) arg;
    if (c->count < 64) {
        c->items[c->count] = *entry;
        snprintf (c->names[c->count], sizeof c->names[c->count], "%s", entry->name);
        c->items[c->count].name = c->names[c->count];
        c->texts[c->count] = NULL;
        if (entry->text_len > 0) {
            c->texts[c->count] = (uint8_t *) malloc (entry->text_len);
            memcpy (c->texts[c->count], entry->text, entry->text_len);
        }
        c->items[c->count].text = c->texts[c->count];
    }
    if (c->count < sizeof c->seqs / sizeof c->seqs[0]) {
        c->seqs[c->count] = entry->seq;
    }
    c->count++;
}

static collect_t *
s_collect_new (void)
{
    return (collect_t *) calloc (1, sizeof (collect_t));
}

static void
s_collect_destroy (collect_t **c_p)
{
    collect_t *c = *c_p;
    if (c) {
        for (size_t i = 0; i < 64; i++) {
            free (c->texts[i]);
        }
        free (c);
        *c_p = NULL;
    }
}

//  Fetches into a fresh collector (owned by the caller); NULL if the fetch failed.
static collect_t *
s_fetch (fixture_t *fx, gc_store_query_t query, bool *more)
{
    collect_t *c = s_collect_new ();
    if (gc_store_fetch (fx->store, &query, s_collect, c, more, fx->err, sizeof fx->err) != 0) {
        fprintf (stderr, "fetch failed: %s\n", fx->err);
        s_collect_destroy (&c);
    }
    return c;
}

//  The number of entries a fetch of everything returns.
static long
s_count_all (fixture_t *fx)
{
    gc_store_query_t query = { .limit = 20000 };
    bool more = true;
    collect_t *c = s_fetch (fx, query, &more);
    long count = c && !more ? (long) c->count : -1;
    s_collect_destroy (&c);
    return count;
}

//  Appends messages seq from..to with ts_us = ts_base + seq * ts_step, from SENDER_A.
static int
s_append_range (fixture_t *fx, uint64_t from, uint64_t to, int64_t ts_base, int64_t ts_step)
{
    size_t count = (size_t) (to - from + 1);
    gc_store_entry_t *entries = (gc_store_entry_t *) calloc (count, sizeof (gc_store_entry_t));
    for (size_t i = 0; i < count; i++) {
        uint64_t seq = from + i;
        entries[i] = s_entry (seq, ts_base + (int64_t) seq * ts_step, GC_ENTRY_MESSAGE, SENDER_A,
                              "alice", "hello");
        s_set_msg_id (&entries[i], 0x5a);
        entries[i].msg_id[1] = (uint8_t) (seq >> 8);
        entries[i].msg_id[2] = (uint8_t) (seq >> 16);
    }
    int rc = gc_store_append (fx->store, entries, count, fx->err, sizeof fx->err);
    if (rc != 0) {
        fprintf (stderr, "append failed: %s\n", fx->err);
    }
    free (entries);
    return rc;
}

typedef struct {
    size_t count;
    gc_store_member_t items[16];    //  names copied below
    char names[16][GC_MAX_NAME + 1];
} members_t;

static void
s_collect_member (void *arg, const gc_store_member_t *member)
{
    members_t *m = (members_t *) arg;
    if (m->count < 16) {
        m->items[m->count] = *member;
        snprintf (m->names[m->count], sizeof m->names[m->count], "%s", member->name);
        m->items[m->count].name = m->names[m->count];
    }
    m->count++;
}

static bool
s_members (fixture_t *fx, members_t *m)
{
    memset (m, 0, sizeof *m);
    return gc_store_members (fx->store, s_collect_member, m, fx->err, sizeof fx->err) == 0;
}

//  ---------------------------------------------------------------------------------------------
//  Cases for both backends

static void
case_empty (fixture_t *fx)
{
    CHECK_INT_EQ (gc_store_last_seq (fx->store), 0);
    CHECK_INT_EQ (gc_store_first_seq (fx->store), 0);
    bool more = true;
    gc_store_query_t query = { .limit = 10 };
    collect_t *c = s_fetch (fx, query, &more);
    CHECK (c);
    size_t count = c->count;
    s_collect_destroy (&c);
    CHECK_INT_EQ (count, 0);
    CHECK (!more);
    query.newest = true;
    c = s_fetch (fx, query, &more);
    CHECK (c);
    count = c->count;
    s_collect_destroy (&c);
    CHECK_INT_EQ (count, 0);
    CHECK (!more);
    members_t m;
    CHECK (s_members (fx, &m));
    CHECK_INT_EQ (m.count, 0);
    uint8_t msg_id[GC_MSG_ID_SIZE] = { 1 };
    CHECK_INT_EQ (gc_store_find_msg_id (fx->store, SENDER_A, msg_id, NULL, NULL), 0);
    CHECK (gc_store_meta_get (fx->store, "group_id") == NULL);
    CHECK_INT_EQ (gc_store_prune (fx->store, 100, 0, fx->err, sizeof fx->err), 0);
    CHECK_INT_EQ (gc_store_append (fx->store, NULL, 0, fx->err, sizeof fx->err), 0);
    CHECK_INT_EQ (gc_store_last_seq (fx->store), 0);
}

static void
case_roundtrip (fixture_t *fx)
{
    //  Text with NUL bytes inside, no text, the largest text, a join with a token digest.
    static char big[GC_MAX_TEXT + 1];
    for (size_t i = 0; i < GC_MAX_TEXT; i++) {
        big[i] = (char) ('a' + i % 26);
    }
    gc_store_entry_t entries[5];
    entries[0] = s_entry (1, 1000, GC_ENTRY_JOIN, SENDER_A, "alice", NULL);
    memset (entries[0].token_digest, 0xd1, sizeof entries[0].token_digest);
    entries[1] = s_entry (2, 1000, GC_ENTRY_MESSAGE, SENDER_A, "alice", NULL);
    entries[1].text = (const uint8_t *) "a\0b\0c";
    entries[1].text_len = 5;
    s_set_msg_id (&entries[1], 0x11);
    entries[2] = s_entry (3, 2000, GC_ENTRY_MESSAGE, SENDER_B, NULL, NULL);
    entries[3] = s_entry (4, 3000, GC_ENTRY_MESSAGE, SENDER_B, "bob", big);
    s_set_msg_id (&entries[3], 0x22);
    entries[4] = s_entry (5, 3000, GC_ENTRY_LEAVE, SENDER_B, "bob", NULL);
    CHECK_INT_EQ (gc_store_append (fx->store, entries, 5, fx->err, sizeof fx->err), 0);
    CHECK_INT_EQ (gc_store_last_seq (fx->store), 5);
    CHECK_INT_EQ (gc_store_first_seq (fx->store), 1);

    for (int pass = 0; pass < 2; pass++) {
        bool more = true;
        gc_store_query_t query = { .limit = 100 };
        collect_t *c = s_fetch (fx, query, &more);
        CHECK (c);
        bool ok = c->count == 5 && !more;
        for (size_t i = 0; ok && i < 5; i++) {
            const gc_store_entry_t *a = &c->items[i], *b = &entries[i];
            ok = a->seq == b->seq && a->ts_us == b->ts_us && a->kind == b->kind
                 && strcmp (a->sender, b->sender) == 0
                 && strcmp (a->name, b->name ? b->name : "") == 0 && a->text_len == b->text_len
                 && (a->text_len == 0 || memcmp (a->text, b->text, a->text_len) == 0)
                 && (a->text_len != 0 || a->text == NULL) && a->has_msg_id == b->has_msg_id
                 && (!a->has_msg_id || memcmp (a->msg_id, b->msg_id, GC_MSG_ID_SIZE) == 0);
            if (!ok) {
                fprintf (stderr, "entry %zu differs (pass %d)\n", i, pass);
            }
        }
        s_collect_destroy (&c);
        CHECK (ok);
        if (!fx->backend->durable) {
            break;
        }
        CHECK (s_reopen (fx));  //  the same again, read back from the file
    }
}

//  The filters, newest, limit and more, checked against a model over every combination.
static bool
s_check_query (fixture_t *fx, const int64_t *ts_of, uint64_t first, uint64_t last,
               gc_store_query_t query)
{
    uint64_t expect[64];
    size_t matches = 0;
    for (uint64_t seq = first; first && seq <= last; seq++) {
        int64_t ts = ts_of[seq];
        if ((query.since_us == 0 || ts >= query.since_us)
            && (query.until_us == 0 || ts < query.until_us) && seq > query.after_seq
            && (query.before_seq == 0 || seq < query.before_seq)) {
            expect[matches++] = seq;
        }
    }
    size_t take = matches < query.limit ? matches : query.limit;
    size_t start = query.newest ? matches - take : 0;
    bool more = !(matches > take);
    collect_t *c = s_fetch (fx, query, &more);
    bool ok = c && c->count == take && more == (matches > take);
    for (size_t i = 0; ok && i < take; i++) {
        ok = c->seqs[i] == expect[start + i];
    }
    if (!ok) {
        fprintf (stderr,
                 "query since=%" PRId64 " until=%" PRId64 " after=%" PRIu64 " before=%" PRIu64
                 " limit=%u newest=%d: got %zu entries (more=%d), expected %zu (more=%d)\n",
                 query.since_us, query.until_us, query.after_seq, query.before_seq, query.limit,
                 query.newest, c ? c->count : 0, more, take, matches > take);
    }
    s_collect_destroy (&c);
    return ok;
}

static void
case_filters (fixture_t *fx)
{
    //  30 entries, three per timestamp: 1000 1000 1000 1010 1010 1010 ... 1090
    int64_t ts_of[31] = { 0 };
    gc_store_entry_t entries[30];
    for (uint64_t seq = 1; seq <= 30; seq++) {
        ts_of[seq] = 1000 + 10 * (int64_t) ((seq - 1) / 3);
        entries[seq - 1] = s_entry (seq, ts_of[seq], GC_ENTRY_MESSAGE, SENDER_A, "a", "x");
    }
    CHECK_INT_EQ (gc_store_append (fx->store, entries, 30, fx->err, sizeof fx->err), 0);

    static const int64_t since[] = { 0, 995, 1000, 1005, 1040, 1095 };
    static const int64_t until[] = { 0, 1000, 1010, 1055, 1090, 1095 };
    static const uint64_t after[] = { 0, 1, 6, 14, 29, 30 };
    static const uint64_t before[] = { 0, 1, 2, 8, 30, 100 };
    static const uint32_t limit[] = { 1, 2, 5, 100 };
    for (int pass = 0; pass < 2; pass++) {
        if (pass == 1) {
            //  Again over what a prune leaves: entries 7..30.
            CHECK_INT_EQ (gc_store_prune (fx->store, 7, 0, fx->err, sizeof fx->err), 6);
        }
        uint64_t first = gc_store_first_seq (fx->store);
        uint64_t last = gc_store_last_seq (fx->store);
        size_t checked = 0;
        for (size_t a = 0; a < 6; a++) {
            for (size_t b = 0; b < 6; b++) {
                for (size_t c = 0; c < 6; c++) {
                    for (size_t d = 0; d < 6; d++) {
                        for (size_t l = 0; l < 4; l++) {
                            for (int newest = 0; newest < 2; newest++) {
                                gc_store_query_t query = { since[a], until[b], after[c],
                                                           before[d], limit[l], newest };
                                CHECK (s_check_query (fx, ts_of, first, last, query));
                                checked++;
                            }
                        }
                    }
                }
            }
        }
        CHECK_INT_EQ (checked, 6 * 6 * 6 * 6 * 4 * 2);
    }
}

static void
case_newest_more (fixture_t *fx)
{
    CHECK_INT_EQ (s_append_range (fx, 1, 10, 0, 100), 0);
    bool more = false;
    gc_store_query_t query = { .limit = 3, .newest = true };
    collect_t *c = s_fetch (fx, query, &more);
    CHECK (c);
    uint64_t got[3] = { c->seqs[0], c->seqs[1], c->seqs[2] };
    size_t count = c->count;
    s_collect_destroy (&c);
    CHECK_INT_EQ (count, 3);
    CHECK (got[0] == 8 && got[1] == 9 && got[2] == 10);     //  the newest, ascending
    CHECK (more);                                           //  older ones remain

    //  The next page back: before the oldest seen.
    query.before_seq = 8;
    c = s_fetch (fx, query, &more);
    CHECK (c);
    count = c->count;
    uint64_t first_got = c->seqs[0];
    s_collect_destroy (&c);
    CHECK_INT_EQ (count, 3);
    CHECK_INT_EQ (first_got, 5);
    CHECK (more);

    //  Exactly as many as match: no more. One fewer: more.
    gc_store_query_t all = { .limit = 10 };
    c = s_fetch (fx, all, &more);
    CHECK (c);
    count = c->count;
    s_collect_destroy (&c);
    CHECK_INT_EQ (count, 10);
    CHECK (!more);
    all.limit = 9;
    c = s_fetch (fx, all, &more);
    CHECK (c);
    count = c->count;
    uint64_t last_got = c->seqs[8];
    s_collect_destroy (&c);
    CHECK_INT_EQ (count, 9);
    CHECK_INT_EQ (last_got, 9);
    CHECK (more);
    all.newest = true;
    c = s_fetch (fx, all, &more);
    CHECK (c);
    first_got = c->seqs[0];
    s_collect_destroy (&c);
    CHECK_INT_EQ (first_got, 2);
    CHECK (more);
    all.limit = 1;
    all.newest = false;
    c = s_fetch (fx, all, &more);
    CHECK (c);
    count = c->count;
    first_got = c->seqs[0];
    s_collect_destroy (&c);
    CHECK_INT_EQ (count, 1);
    CHECK_INT_EQ (first_got, 1);
    CHECK (more);
}

//  Paging through a larger history by after_seq forward and by before_seq backward sees every
//  entry exactly once.
static void
case_paging (fixture_t *fx)
{
    for (uint64_t from = 1; from <= 5000; from += 1000) {
        CHECK_INT_EQ (s_append_range (fx, from, from + 999, 1000000, 7), 0);
    }
    uint64_t next = 1, pages = 0;
    bool more = true;
    for (uint64_t after = 0; more && pages < 100; pages++) {
        gc_store_query_t query = { .after_seq = after, .limit = 333 };
        collect_t *c = s_fetch (fx, query, &more);
        CHECK (c);
        bool ok = c->count > 0;
        for (size_t i = 0; ok && i < c->count; i++) {
            ok = c->seqs[i] == next++;
        }
        after = c->count ? c->seqs[c->count - 1] : after;
        s_collect_destroy (&c);
        CHECK (ok);
    }
    CHECK_INT_EQ (next, 5001);
    CHECK_INT_EQ (pages, (5000 + 332) / 333);

    uint64_t expect = 5000;
    more = true;
    pages = 0;
    for (uint64_t before = 0; more && pages < 100; pages++) {
        gc_store_query_t query = { .before_seq = before, .limit = 333, .newest = true };
        collect_t *c = s_fetch (fx, query, &more);
        CHECK (c);
        bool ok = c->count > 0;
        for (size_t i = c->count; ok && i > 0; i--) {
            ok = c->seqs[i - 1] == expect--;
        }
        before = c->count ? c->seqs[0] : before;
        s_collect_destroy (&c);
        CHECK (ok);
    }
    CHECK_INT_EQ (expect, 0);
}

static void
case_msg_id (fixture_t *fx)
{
    gc_store_entry_t entries[3];
    entries[0] = s_entry (1, 10, GC_ENTRY_MESSAGE, SENDER_A, "a", "one");
    s_set_msg_id (&entries[0], 0x77);
    entries[1] = s_entry (2, 20, GC_ENTRY_MESSAGE, SENDER_B, "b", "two");
    entries[1].has_msg_id = true;
    memcpy (entries[1].msg_id, entries[0].msg_id, GC_MSG_ID_SIZE);  //  same id, other sender
    entries[2] = s_entry (3, 30, GC_ENTRY_MESSAGE, SENDER_A, "a", "no id");
    CHECK_INT_EQ (gc_store_append (fx->store, entries, 3, fx->err, sizeof fx->err), 0);

    uint64_t seq = 0;
    int64_t ts = 0;
    CHECK_INT_EQ (gc_store_find_msg_id (fx->store, SENDER_A, entries[0].msg_id, &seq, &ts), 1);
    CHECK_INT_EQ (seq, 1);
    CHECK_INT_EQ (ts, 10);
    CHECK_INT_EQ (gc_store_find_msg_id (fx->store, SENDER_B, entries[0].msg_id, &seq, &ts), 1);
    CHECK_INT_EQ (seq, 2);
    CHECK_INT_EQ (ts, 20);
    uint8_t other[GC_MSG_ID_SIZE];
    memset (other, 0x78, sizeof other);
    CHECK_INT_EQ (gc_store_find_msg_id (fx->store, SENDER_A, other, &seq, &ts), 0);
    CHECK_INT_EQ (gc_store_find_msg_id (fx->store, SENDER_C, entries[0].msg_id, &seq, &ts), 0);
    CHECK_INT_EQ (gc_store_find_msg_id (fx->store, "not-a-uuid-and-far-too-long-to-be-one-at-all",
                                        entries[0].msg_id, &seq, &ts),
                  0);

    //  A stored id again, in a later batch: stored (the group decides what is a retry), and a
    //  lookup still finds the original.
    gc_store_entry_t again[2];
    again[0] = s_entry (4, 40, GC_ENTRY_MESSAGE, SENDER_C, "c", "fresh");
    s_set_msg_id (&again[0], 0x99);
    again[1] = entries[1];
    again[1].seq = 5;
    again[1].ts_us = 40;
    CHECK_INT_EQ (gc_store_append (fx->store, again, 2, fx->err, sizeof fx->err), 0);
    CHECK_INT_EQ (gc_store_last_seq (fx->store), 5);
    CHECK_INT_EQ (gc_store_find_msg_id (fx->store, SENDER_B, entries[1].msg_id, &seq, &ts), 1);
    CHECK_INT_EQ (seq, 2);
    CHECK_INT_EQ (gc_store_find_msg_id (fx->store, SENDER_C, again[0].msg_id, &seq, &ts), 1);
    CHECK_INT_EQ (seq, 4);

    //  The same id twice in one batch: both stored, the first one found.
    again[0].seq = 6;
    again[1] = again[0];
    again[1].seq = 7;
    CHECK_INT_EQ (gc_store_append (fx->store, again, 2, fx->err, sizeof fx->err), 0);
    CHECK_INT_EQ (gc_store_find_msg_id (fx->store, SENDER_C, again[0].msg_id, &seq, &ts), 1);
    CHECK_INT_EQ (seq, 4);
    CHECK_INT_EQ (s_count_all (fx), 7);

    //  Pruned entries are forgotten, their ids with them.
    CHECK_INT_EQ (gc_store_prune (fx->store, 2, 0, fx->err, sizeof fx->err), 1);
    CHECK_INT_EQ (gc_store_find_msg_id (fx->store, SENDER_A, entries[0].msg_id, &seq, &ts), 0);
    CHECK_INT_EQ (gc_store_find_msg_id (fx->store, SENDER_B, entries[0].msg_id, &seq, &ts), 1);
}

//  Every invalid batch is refused whole: no entry, member or id of it is stored.
static void
case_append_rejects (fixture_t *fx)
{
    CHECK_INT_EQ (s_append_range (fx, 1, 3, 0, 100), 0);    //  ts 100, 200, 300
    gc_store_entry_t batch[3];
    batch[0] = s_entry (4, 400, GC_ENTRY_JOIN, SENDER_B, "bob", NULL);
    batch[1] = s_entry (5, 500, GC_ENTRY_MESSAGE, SENDER_B, "bob", "hi");
    s_set_msg_id (&batch[1], 0x42);
    batch[2] = s_entry (6, 600, GC_ENTRY_MESSAGE, SENDER_B, "bob", "there");

    struct {
        const char *what;       //  the defect
        int field;              //  which entry to break
        const char *expect;     //  in the error
    } defects[] = {
        { "gap", 2, "expected seq 6" },
        { "reuse", 0, "expected seq 4" },
        { "ts back in batch", 2, "before the previous" },
        { "ts before stored", 0, "before the previous" },
        { "kind", 1, "unknown kind" },
        { "sender", 2, "sender is not set" },
    };
    for (size_t i = 0; i < sizeof defects / sizeof defects[0]; i++) {
        gc_store_entry_t bad[3] = { batch[0], batch[1], batch[2] };
        gc_store_entry_t *victim = &bad[defects[i].field];
        switch (i) {
            case 0: victim->seq = 7; break;
            case 1: victim->seq = 3; break;
            case 2: victim->ts_us = 450; break;
            case 3: victim->ts_us = 250; break;
            case 4: victim->kind = (gc_entry_kind_t) 7; break;
            case 5: victim->sender[0] = '\0'; break;
            default:
                break;
        }
        fx->err[0] = '\0';
        CHECK_INT_EQ (gc_store_append (fx->store, bad, 3, fx->err, sizeof fx->err), -1);
        if (!strstr (fx->err, defects[i].expect)) {
            fprintf (stderr, "defect '%s': error '%s'\n", defects[i].what, fx->err);
        }
        CHECK_CONTAINS (fx->err, defects[i].expect);
        CHECK_INT_EQ (gc_store_last_seq (fx->store), 3);
        CHECK_INT_EQ (s_count_all (fx), 3);
        members_t m;
        CHECK (s_members (fx, &m));
        CHECK_INT_EQ (m.count, 0);
        CHECK_INT_EQ (gc_store_find_msg_id (fx->store, SENDER_B, batch[1].msg_id, NULL, NULL), 0);
    }
    //  The batch as it was is fine, and an equal ts is allowed.
    batch[0].ts_us = 300;
    CHECK_INT_EQ (gc_store_append (fx->store, batch, 3, fx->err, sizeof fx->err), 0);
    CHECK_INT_EQ (gc_store_last_seq (fx->store), 6);
    //  ts may not go below the newest stored entry's even across batches.
    gc_store_entry_t late = s_entry (7, 599, GC_ENTRY_MESSAGE, SENDER_A, "a", "late");
    CHECK_INT_EQ (gc_store_append (fx->store, &late, 1, fx->err, sizeof fx->err), -1);
    CHECK_CONTAINS (fx->err, "before the previous");
}

static bool
s_check_members (fixture_t *fx, const char *b_name, int64_t b_joined, uint8_t b_digest)
{
    members_t m;
    bool ok = s_members (fx, &m) && m.count == 2
              && strcmp (m.items[0].id, SENDER_A) == 0      //  ascending by id
              && strcmp (m.items[0].name, "alice") == 0 && m.items[0].joined_us == 110
              && m.items[0].token_digest[0] == 0xaa && m.items[0].token_digest[19] == 0xaa
              && strcmp (m.items[1].id, SENDER_B) == 0 && strcmp (m.items[1].name, b_name) == 0
              && m.items[1].joined_us == b_joined && m.items[1].token_digest[0] == b_digest;
    if (!ok) {
        fprintf (stderr, "members: %zu, [1] = %s '%s' %" PRId64 "\n", m.count,
                 m.count > 1 ? m.items[1].id : "", m.count > 1 ? m.items[1].name : "",
                 m.count > 1 ? m.items[1].joined_us : 0);
    }
    return ok;
}

static void
case_members (fixture_t *fx)
{
    gc_store_entry_t batch[6];
    batch[0] = s_entry (1, 100, GC_ENTRY_JOIN, SENDER_B, "bob", NULL);
    memset (batch[0].token_digest, 0xbb, sizeof batch[0].token_digest);
    batch[1] = s_entry (2, 110, GC_ENTRY_JOIN, SENDER_A, "alice", NULL);
    memset (batch[1].token_digest, 0xaa, sizeof batch[1].token_digest);
    batch[2] = s_entry (3, 120, GC_ENTRY_JOIN, SENDER_C, "carol", NULL);
    batch[3] = s_entry (4, 130, GC_ENTRY_MESSAGE, SENDER_C, "carol", "bye");
    batch[4] = s_entry (5, 140, GC_ENTRY_LEAVE, SENDER_C, "carol", NULL);
    //  The leave of someone who is not a member changes nothing.
    batch[5] = s_entry (6, 150, GC_ENTRY_LEAVE, "0b5c1a8e-9999-4999-8999-000000000009", "", NULL);
    CHECK_INT_EQ (gc_store_append (fx->store, batch, 6, fx->err, sizeof fx->err), 0);
    CHECK (s_check_members (fx, "bob", 100, 0xbb));

    //  A rejoin replaces the member: new name, time and digest.
    gc_store_entry_t rejoin = s_entry (7, 200, GC_ENTRY_JOIN, SENDER_B, "robert", NULL);
    memset (rejoin.token_digest, 0xcc, sizeof rejoin.token_digest);
    CHECK_INT_EQ (gc_store_append (fx->store, &rejoin, 1, fx->err, sizeof fx->err), 0);
    CHECK (s_check_members (fx, "robert", 200, 0xcc));

    //  Pruning the entries does not touch the members.
    CHECK_INT_EQ (gc_store_prune (fx->store, 7, 0, fx->err, sizeof fx->err), 6);
    CHECK (s_check_members (fx, "robert", 200, 0xcc));

    //  Join and leave in one batch: not a member afterwards.
    gc_store_entry_t both[2];
    both[0] = s_entry (8, 300, GC_ENTRY_JOIN, SENDER_C, "carol", NULL);
    both[1] = s_entry (9, 300, GC_ENTRY_LEAVE, SENDER_C, "carol", NULL);
    CHECK_INT_EQ (gc_store_append (fx->store, both, 2, fx->err, sizeof fx->err), 0);
    CHECK (s_check_members (fx, "robert", 200, 0xcc));
    if (fx->backend->durable) {
        CHECK (s_reopen (fx));
        CHECK (s_check_members (fx, "robert", 200, 0xcc));
    }
}

static void
case_prune (fixture_t *fx)
{
    CHECK_INT_EQ (s_append_range (fx, 1, 100, 0, 10), 0);   //  ts = 10 * seq
    CHECK_INT_EQ (gc_store_prune (fx->store, 0, 0, fx->err, sizeof fx->err), 0);
    CHECK_INT_EQ (gc_store_prune (fx->store, 1, 5, fx->err, sizeof fx->err), 0);
    CHECK_INT_EQ (gc_store_first_seq (fx->store), 1);

    //  By seq: 1..10 go.
    CHECK_INT_EQ (gc_store_prune (fx->store, 11, 0, fx->err, sizeof fx->err), 10);
    CHECK_INT_EQ (gc_store_first_seq (fx->store), 11);
    CHECK_INT_EQ (gc_store_last_seq (fx->store), 100);
    CHECK_INT_EQ (s_count_all (fx), 90);
    //  Below what is held: nothing.
    CHECK_INT_EQ (gc_store_prune (fx->store, 5, 0, fx->err, sizeof fx->err), 0);

    //  By time: ts < 205 is seq <= 20.
    CHECK_INT_EQ (gc_store_prune (fx->store, 0, 205, fx->err, sizeof fx->err), 10);
    CHECK_INT_EQ (gc_store_first_seq (fx->store), 21);

    //  Both: whichever drops more.
    CHECK_INT_EQ (gc_store_prune (fx->store, 26, 300, fx->err, sizeof fx->err), 9);
    CHECK_INT_EQ (gc_store_first_seq (fx->store), 30);
    CHECK_INT_EQ (gc_store_prune (fx->store, 41, 300, fx->err, sizeof fx->err), 11);
    CHECK_INT_EQ (gc_store_first_seq (fx->store), 41);

    //  What is held is contiguous: first..last, every one.
    gc_store_query_t query = { .limit = 1000 };
    bool more = true;
    collect_t *c = s_fetch (fx, query, &more);
    CHECK (c);
    bool ok = c->count == 60 && !more;
    for (size_t i = 0; ok && i < c->count; i++) {
        ok = c->seqs[i] == 41 + i;
    }
    s_collect_destroy (&c);
    CHECK (ok);

    //  Never the newest, however much is asked for.
    CHECK_INT_EQ (gc_store_prune (fx->store, UINT64_MAX, INT64_MAX, fx->err, sizeof fx->err), 59);
    CHECK_INT_EQ (gc_store_first_seq (fx->store), 100);
    CHECK_INT_EQ (gc_store_last_seq (fx->store), 100);
    CHECK_INT_EQ (s_count_all (fx), 1);
    CHECK_INT_EQ (gc_store_prune (fx->store, UINT64_MAX, 0, fx->err, sizeof fx->err), 0);

    //  seq continues, and an old seq is refused.
    CHECK (s_append_range (fx, 100, 100, 0, 10) != 0);
    CHECK_INT_EQ (s_append_range (fx, 101, 105, 0, 10), 0);
    CHECK_INT_EQ (gc_store_first_seq (fx->store), 100);
    CHECK_INT_EQ (s_count_all (fx), 6);
    //  A time filter after the prune still finds the right entries.
    query = (gc_store_query_t) { .since_us = 1020, .limit = 10 };
    c = s_fetch (fx, query, &more);
    CHECK (c);
    ok = c->count == 4 && c->seqs[0] == 102 && !more;
    s_collect_destroy (&c);
    CHECK (ok);
}

static void
case_meta (fixture_t *fx)
{
    CHECK (gc_store_meta_get (fx->store, "group_id") == NULL);
    CHECK_INT_EQ (gc_store_meta_set (fx->store, "group_id", "g-1", fx->err, sizeof fx->err), 0);
    CHECK_INT_EQ (gc_store_meta_set (fx->store, "name", "ops \xc3\xa9quipe", fx->err,
                                     sizeof fx->err),
                  0);
    char *value = gc_store_meta_get (fx->store, "group_id");
    bool ok = value && strcmp (value, "g-1") == 0;
    free (value);
    CHECK (ok);
    CHECK_INT_EQ (gc_store_meta_set (fx->store, "group_id", "g-2", fx->err, sizeof fx->err), 0);
    value = gc_store_meta_get (fx->store, "group_id");
    ok = value && strcmp (value, "g-2") == 0;
    free (value);
    CHECK (ok);
    CHECK_INT_EQ (gc_store_meta_set (fx->store, "empty", "", fx->err, sizeof fx->err), 0);
    value = gc_store_meta_get (fx->store, "empty");
    ok = value && *value == '\0';
    free (value);
    CHECK (ok);

    CHECK_INT_EQ (gc_store_meta_set (fx->store, "", "x", fx->err, sizeof fx->err), -1);
    CHECK_CONTAINS (fx->err, "empty key");
    CHECK_INT_EQ (gc_store_meta_set (fx->store, "store.last_seq", "0", fx->err, sizeof fx->err),
                  -1);
    CHECK_CONTAINS (fx->err, "reserved");

    if (fx->backend->durable) {
        CHECK (s_reopen (fx));
        value = gc_store_meta_get (fx->store, "name");
        ok = value && strcmp (value, "ops \xc3\xa9quipe") == 0;
        free (value);
        CHECK (ok);
        value = gc_store_meta_get (fx->store, "group_id");
        ok = value && strcmp (value, "g-2") == 0;
        free (value);
        CHECK (ok);
    }
}

//  ---------------------------------------------------------------------------------------------
//  SQLite only

//  Everything survives a reopen, seq continues with no reuse, the WAL is folded in at close.
static void
case_reopen (fixture_t *fx)
{
    gc_store_entry_t join = s_entry (1, 50, GC_ENTRY_JOIN, SENDER_A, "alice", NULL);
    memset (join.token_digest, 0xab, sizeof join.token_digest);
    CHECK_INT_EQ (gc_store_append (fx->store, &join, 1, fx->err, sizeof fx->err), 0);
    CHECK_INT_EQ (s_append_range (fx, 2, 20, 0, 100), 0);
    CHECK_INT_EQ (gc_store_meta_set (fx->store, "group_id", "g-7", fx->err, sizeof fx->err), 0);
    CHECK_INT_EQ (gc_store_prune (fx->store, 5, 0, fx->err, sizeof fx->err), 4);

    //  Closed and opened with the other sync setting: all there.
    gc_store_destroy (&fx->store);
    char wal_path[600];
    snprintf (wal_path, sizeof wal_path, "%s-wal", fx->path);
    struct stat st;
    CHECK (stat (wal_path, &st) != 0 || st.st_size == 0);
    fx->store = s_open (fx, GC_STORE_SYNC_NORMAL);
    CHECK (fx->store);
    CHECK_INT_EQ (gc_store_first_seq (fx->store), 5);
    CHECK_INT_EQ (gc_store_last_seq (fx->store), 20);
    CHECK_INT_EQ (s_count_all (fx), 16);
    members_t m;
    CHECK (s_members (fx, &m));
    CHECK_INT_EQ (m.count, 1);
    CHECK_STR_EQ (m.items[0].id, SENDER_A);
    CHECK (m.items[0].token_digest[7] == 0xab);
    char *value = gc_store_meta_get (fx->store, "group_id");
    bool ok = value && strcmp (value, "g-7") == 0;
    free (value);
    CHECK (ok);
    gc_store_query_t query = { .limit = 1, .after_seq = 9 };
    collect_t *c = s_fetch (fx, query, NULL);
    CHECK (c);
    gc_store_entry_t got = c->items[0];
    s_collect_destroy (&c);
    uint64_t seq = 0;
    CHECK_INT_EQ (gc_store_find_msg_id (fx->store, SENDER_A, got.msg_id, &seq, NULL), 1);
    CHECK_INT_EQ (seq, 10);

    //  Prune all it can, reopen: last_seq stays, the next seq follows it.
    CHECK_INT_EQ (gc_store_prune (fx->store, UINT64_MAX, 0, fx->err, sizeof fx->err), 15);
    CHECK (s_reopen (fx));
    CHECK_INT_EQ (gc_store_first_seq (fx->store), 20);
    CHECK_INT_EQ (gc_store_last_seq (fx->store), 20);
    CHECK (s_append_range (fx, 20, 20, 0, 100) != 0);
    CHECK_CONTAINS (fx->err, "expected seq 21");
    //  ts must still not go back after a reopen.
    gc_store_entry_t early = s_entry (21, 1999, GC_ENTRY_MESSAGE, SENDER_A, "a", "x");
    CHECK_INT_EQ (gc_store_append (fx->store, &early, 1, fx->err, sizeof fx->err), -1);
    CHECK_INT_EQ (s_append_range (fx, 21, 21, 0, 100), 0);
    CHECK_INT_EQ (gc_store_last_seq (fx->store), 21);

    //  The file is marked as ours and in WAL mode.
    gc_store_destroy (&fx->store);
    sqlite3 *db = NULL;
    CHECK (sqlite3_open_v2 (fx->path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK);
    sqlite3_stmt *stmt = NULL;
    int64_t app_id = 0;
    char mode[16] = "";
    if (sqlite3_prepare_v2 (db, "PRAGMA application_id", -1, &stmt, NULL) == SQLITE_OK
        && sqlite3_step (stmt) == SQLITE_ROW) {
        app_id = sqlite3_column_int64 (stmt, 0);
    }
    sqlite3_finalize (stmt);
    if (sqlite3_prepare_v2 (db, "PRAGMA journal_mode", -1, &stmt, NULL) == SQLITE_OK
        && sqlite3_step (stmt) == SQLITE_ROW) {
        snprintf (mode, sizeof mode, "%s", (const char *) sqlite3_column_text (stmt, 0));
    }
    sqlite3_finalize (stmt);
    sqlite3_close (db);
    CHECK_INT_EQ (app_id, 0x47435354);
    CHECK_STR_EQ (mode, "wal");
    CHECK (s_reopen (fx));
}

//  Runs fn in a child process and returns its exit status (-1 if it could not run).
static int
s_in_child (int (*fn) (fixture_t *fx), fixture_t *fx)
{
    fflush (stdout);
    fflush (stderr);
    pid_t pid = fork ();
    if (pid < 0) {
        return -1;
    }
    if (pid == 0) {
        _exit (fn (fx));    //  _exit: no atexit handlers, leak checks or stdio flushes of ours
    }
    int status = 0;
    if (waitpid (pid, &status, 0) != pid || !WIFEXITED (status)) {
        return -1;
    }
    return WEXITSTATUS (status);
}

//  In a child: opening the store must be refused as locked.
static int
s_child_open_locked (fixture_t *fx)
{
    char err[512] = "";
    gc_store_t *store = gc_store_new_sqlite (fx->path, GC_STORE_SYNC_FULL, err, sizeof err);
    if (store) {
        return 1;
    }
    fprintf (stderr, "child: %s\n", err);
    return strstr (err, "locked by another process") ? 0 : 2;
}

static void
case_locked (fixture_t *fx)
{
    CHECK_INT_EQ (s_append_range (fx, 1, 3, 0, 1), 0);
    char err[512] = "";
    gc_store_t *second = gc_store_new_sqlite (fx->path, GC_STORE_SYNC_FULL, err, sizeof err);
    bool refused = second == NULL;
    gc_store_destroy (&second);
    CHECK (refused);
    char expect[700];
    snprintf (expect, sizeof expect, "cannot open store '%s': locked by another process",
              fx->path);
    CHECK_STR_EQ (err, expect);
    CHECK_INT_EQ (s_in_child (s_child_open_locked, fx), 0);
    //  The first is untouched; once it is closed the file opens again.
    CHECK_INT_EQ (s_append_range (fx, 4, 4, 0, 1), 0);
    CHECK (s_reopen (fx));
    CHECK_INT_EQ (gc_store_last_seq (fx->store), 4);
}

static int
s_write_file (const char *path, const void *data, size_t len)
{
    FILE *file = fopen (path, "wb");
    if (!file) {
        return -1;
    }
    size_t written = fwrite (data, 1, len, file);
    return (fclose (file) == 0 && written == len) ? 0 : -1;
}

static int
s_raw_exec (const char *path, const char *sql)
{
    sqlite3 *db = NULL;
    int rc = sqlite3_open (path, &db);
    if (rc == SQLITE_OK) {
        rc = sqlite3_exec (db, sql, NULL, NULL, NULL);
    }
    sqlite3_close (db);
    return rc == SQLITE_OK ? 0 : -1;
}

static bool
s_refused (fixture_t *fx, const char *path, const char *expect)
{
    fx->err[0] = '\0';
    gc_store_t *store = gc_store_new_sqlite (path, GC_STORE_SYNC_FULL, fx->err, sizeof fx->err);
    if (store) {
        fprintf (stderr, "'%s' was opened, expected refusal with '%s'\n", path, expect);
        gc_store_destroy (&store);
        return false;
    }
    if (!strstr (fx->err, expect) || !strstr (fx->err, "cannot open store '")) {
        fprintf (stderr, "refusal of '%s': '%s', expected '%s'\n", path, fx->err, expect);
        return false;
    }
    return true;
}

static void
case_refuse_files (fixture_t *fx)
{
    gc_store_destroy (&fx->store);   //  the fixture's own store is not used here
    char path[600];

    //  Not a database at all; left as it was (not turned into a WAL database).
    char garbage[8192];
    for (size_t i = 0; i < sizeof garbage; i++) {
        garbage[i] = "this is not a database "[i % 23];
    }
    snprintf (path, sizeof path, "%s/garbage.db", fx->dir);
    CHECK (s_write_file (path, garbage, sizeof garbage) == 0);
    CHECK (s_refused (fx, path, "file is not a database"));
    FILE *file = fopen (path, "rb");
    CHECK (file);
    char back[sizeof garbage];
    size_t n = fread (back, 1, sizeof back, file);
    fclose (file);
    CHECK (n == sizeof garbage && memcmp (back, garbage, n) == 0);

    //  Some other program's SQLite database.
    snprintf (path, sizeof path, "%s/foreign.db", fx->dir);
    CHECK (s_raw_exec (path, "CREATE TABLE notes (x TEXT); INSERT INTO notes VALUES ('hi');")
           == 0);
    CHECK (s_refused (fx, path, "not a groupcast database"));

    //  A groupcast database from a future schema.
    snprintf (path, sizeof path, "%s/future.db", fx->dir);
    gc_store_t *store = gc_store_new_sqlite (path, GC_STORE_SYNC_FULL, fx->err, sizeof fx->err);
    CHECK (store);
    gc_store_destroy (&store);
    CHECK (s_raw_exec (path, "PRAGMA user_version = 2") == 0);
    CHECK (s_refused (fx, path, "unsupported schema version 2"));

    //  A corrupt one: a page in the middle overwritten.
    snprintf (path, sizeof path, "%s/corrupt.db", fx->dir);
    store = gc_store_new_sqlite (path, GC_STORE_SYNC_NORMAL, fx->err, sizeof fx->err);
    CHECK (store);
    static char text[1500];
    memset (text, 'x', sizeof text - 1);
    gc_store_entry_t entries[200];
    for (uint64_t i = 0; i < 200; i++) {
        entries[i] = s_entry (i + 1, (int64_t) i, GC_ENTRY_MESSAGE, SENDER_A, "a", text);
    }
    int rc = gc_store_append (store, entries, 200, fx->err, sizeof fx->err);
    gc_store_destroy (&store);
    CHECK_INT_EQ (rc, 0);
    struct stat st;
    CHECK (stat (path, &st) == 0 && st.st_size > 40 * 4096);
    int fd = open (path, O_WRONLY);
    CHECK (fd >= 0);
    char junk[4096];
    memset (junk, 0xff, sizeof junk);
    off_t middle = (st.st_size / 4096 / 2) * 4096;
    ssize_t written = pwrite (fd, junk, sizeof junk, middle);
    close (fd);
    CHECK (written == (ssize_t) sizeof junk);
    CHECK (s_refused (fx, path, "corrupt"));

    //  Paths that cannot be a store.
    snprintf (path, sizeof path, "%s/missing/group.db", fx->dir);
    CHECK (s_refused (fx, path, "No such file or directory"));
    CHECK (s_refused (fx, fx->dir, "Is a directory"));
    CHECK (s_refused (fx, "", "empty path"));
}

//  In a child that has dropped root: the read-only file in the read-only dir must be refused.
static int
s_child_open_readonly (fixture_t *fx)
{
    if (getuid () == 0) {
        if (setgroups (0, NULL) != 0 || setgid (65534) != 0 || setuid (65534) != 0) {
            fprintf (stderr, "child: cannot drop root: %s\n", strerror (errno));
            return 77;
        }
    }
    char err[512] = "";
    gc_store_t *store = gc_store_new_sqlite (fx->path, GC_STORE_SYNC_FULL, err, sizeof err);
    if (store) {
        return 1;
    }
    fprintf (stderr, "child: %s\n", err);
    return strstr (err, "Permission denied") && strstr (err, fx->path) ? 0 : 2;
}

//  An unwritable file (and directory) is refused at open. Root ignores file modes, so as root
//  the attempt is made in a child that runs as nobody.
static void
case_refuse_readonly (fixture_t *fx)
{
    CHECK_INT_EQ (s_append_range (fx, 1, 3, 0, 1), 0);
    gc_store_destroy (&fx->store);
    CHECK (chmod (fx->path, 0444) == 0);
    CHECK (chmod (fx->dir, 0555) == 0);
    int status = s_in_child (s_child_open_readonly, fx);
    chmod (fx->dir, 0700);
    chmod (fx->path, 0600);
    if (status == 77) {
        printf ("skip readonly refusal: running as root and cannot switch to uid 65534\n");
    }
    else {
        CHECK_INT_EQ (status, 0);
    }
    fx->store = s_open (fx, GC_STORE_SYNC_FULL);
    CHECK (fx->store);
    CHECK_INT_EQ (gc_store_last_seq (fx->store), 3);
}

typedef struct {
    int append_rc;          //  the append made while writes fail
    char append_err[512];   //  its error
    int fetch_rc;           //  a fetch made while writes fail
    size_t fetched;         //  what it returned
    int find_rc;            //  find_msg_id of the refused entry
    int meta_rc;            //  a meta_set while writes fail
} failed_write_t;

//  A write that fails inside a commit (a full disk, or here the file size limit, which works as
//  root too): the append reports it, nothing is stored, reads go on, and the store recovers.
static void
case_failed_write (fixture_t *fx)
{
    CHECK_INT_EQ (s_append_range (fx, 1, 50, 0, 1), 0);
    static char text[8192];
    memset (text, 'w', sizeof text - 1);
    gc_store_entry_t batch[20];
    for (uint64_t i = 0; i < 20; i++) {
        batch[i] = s_entry (51 + i, 100, i == 0 ? GC_ENTRY_JOIN : GC_ENTRY_MESSAGE, SENDER_B, "b",
                            text);
        s_set_msg_id (&batch[i], 0x3c);
    }
    failed_write_t r;
    memset (&r, 0, sizeof r);

    struct rlimit old_limit, limit;
    CHECK (getrlimit (RLIMIT_FSIZE, &old_limit) == 0);
    limit = old_limit;
    limit.rlim_cur = 0;     //  no write to any file may succeed
    void (*old_handler) (int) = signal (SIGXFSZ, SIG_IGN);
    CHECK (setrlimit (RLIMIT_FSIZE, &limit) == 0);
    r.append_rc = gc_store_append (fx->store, batch, 20, r.append_err, sizeof r.append_err);
    gc_store_query_t query = { .limit = 1000 };
    collect_t *c = s_collect_new ();
    r.fetch_rc = gc_store_fetch (fx->store, &query, s_collect, c, NULL, NULL, 0);
    r.fetched = c->count;
    s_collect_destroy (&c);
    r.find_rc = gc_store_find_msg_id (fx->store, SENDER_B, batch[5].msg_id, NULL, NULL);
    r.meta_rc = gc_store_meta_set (fx->store, "k", "v", NULL, 0);
    setrlimit (RLIMIT_FSIZE, &old_limit);
    signal (SIGXFSZ, old_handler);

    fprintf (stderr, "append while writes fail: %s\n", r.append_err);
    CHECK_INT_EQ (r.append_rc, -1);
    CHECK_CONTAINS (r.append_err, "cannot append to store '");
    CHECK_INT_EQ (r.fetch_rc, 0);
    CHECK_INT_EQ (r.fetched, 50);
    CHECK_INT_EQ (r.find_rc, 0);
    CHECK_INT_EQ (r.meta_rc, -1);
    CHECK_INT_EQ (gc_store_last_seq (fx->store), 50);
    members_t m;
    CHECK (s_members (fx, &m));
    CHECK_INT_EQ (m.count, 0);

    //  The same batch goes in once writes work again, and survives a reopen.
    CHECK_INT_EQ (gc_store_append (fx->store, batch, 20, fx->err, sizeof fx->err), 0);
    CHECK_INT_EQ (gc_store_last_seq (fx->store), 70);
    CHECK (s_reopen (fx));
    CHECK_INT_EQ (gc_store_last_seq (fx->store), 70);
    CHECK_INT_EQ (s_count_all (fx), 70);
    CHECK (s_members (fx, &m));
    CHECK_INT_EQ (m.count, 1);
    CHECK_INT_EQ (gc_store_find_msg_id (fx->store, SENDER_B, batch[5].msg_id, NULL, NULL), 1);
}

//  Back-to-back commits that write far more than the WAL may hold: checkpoints move the data
//  into the database file while the store is open, the WAL stays bounded (its cap is 8192
//  frames, about 33 MB, plus the last commits), and everything reads back, also after a reopen.
static void
case_checkpoints (fixture_t *fx)
{
    static char text[8000];
    memset (text, 'c', sizeof text - 1);
    gc_store_entry_t batch[50];
    uint64_t seq = 1;
    char wal_path[600];
    snprintf (wal_path, sizeof wal_path, "%s-wal", fx->path);
    off_t wal_max = 0;
    for (int commit = 0; commit < 100; commit++) {
        for (size_t i = 0; i < 50; i++, seq++) {
            batch[i] = s_entry (seq, (int64_t) seq, GC_ENTRY_MESSAGE, SENDER_A, "a", text);
            s_set_msg_id (&batch[i], (uint8_t) commit);
            batch[i].msg_id[1] = (uint8_t) (seq >> 8);
        }
        CHECK_INT_EQ (gc_store_append (fx->store, batch, 50, fx->err, sizeof fx->err), 0);
        struct stat st;
        if (stat (wal_path, &st) == 0 && st.st_size > wal_max) {
            wal_max = st.st_size;
        }
    }
    //  5000 entries of 8 kB: about 40 MB of text went through the WAL.
    struct stat st;
    CHECK (stat (fx->path, &st) == 0);
    fprintf (stderr, "database %lld bytes, WAL at most %lld bytes\n", (long long) st.st_size,
             (long long) wal_max);
    CHECK (st.st_size > 20 * 1024 * 1024);
    CHECK (wal_max < 38 * 1024 * 1024);
    CHECK_INT_EQ (s_count_all (fx), 5000);
    CHECK (s_reopen (fx));
    CHECK_INT_EQ (s_count_all (fx), 5000);
    CHECK_INT_EQ (gc_store_last_seq (fx->store), 5000);
}

//  ---------------------------------------------------------------------------------------------
//  The table: cases x backends

#define BOTH(name)                                                                             \
    static void name##_memory (void)                                                           \
    {                                                                                          \
        s_run_case (&s_memory, case_##name);                                                   \
    }                                                                                          \
    static void name##_sqlite (void)                                                           \
    {                                                                                          \
        s_run_case (&s_sqlite, case_##name);                                                   \
    }
#define SQLITE_ONLY(name)                                                                      \
    static void name##_sqlite (void)                                                           \
    {                                                                                          \
        s_run_case (&s_sqlite, case_##name);                                                   \
    }
#define ROW_BOTH(name) { #name "/memory", name##_memory }, { #name "/sqlite", name##_sqlite }
#define ROW_SQLITE(name) { #name "/sqlite", name##_sqlite }

BOTH (empty)
BOTH (roundtrip)
BOTH (filters)
BOTH (newest_more)
BOTH (paging)
BOTH (msg_id)
BOTH (append_rejects)
BOTH (members)
BOTH (prune)
BOTH (meta)
SQLITE_ONLY (reopen)
SQLITE_ONLY (locked)
SQLITE_ONLY (refuse_files)
SQLITE_ONLY (refuse_readonly)
SQLITE_ONLY (failed_write)
SQLITE_ONLY (checkpoints)

static const gc_test_case_t s_cases[] = {
    ROW_BOTH (empty),
    ROW_BOTH (roundtrip),
    ROW_BOTH (filters),
    ROW_BOTH (newest_more),
    ROW_BOTH (paging),
    ROW_BOTH (msg_id),
    ROW_BOTH (append_rejects),
    ROW_BOTH (members),
    ROW_BOTH (prune),
    ROW_BOTH (meta),
    ROW_SQLITE (reopen),
    ROW_SQLITE (locked),
    ROW_SQLITE (refuse_files),
    ROW_SQLITE (refuse_readonly),
    ROW_SQLITE (failed_write),
    ROW_SQLITE (checkpoints),
    { NULL, NULL },
};

int
main (int argc, char **argv)
{
    return gc_test_run (argc, argv, s_cases);
}
