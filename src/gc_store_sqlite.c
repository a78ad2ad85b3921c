/*  gc_store_sqlite - the gc_store backend that keeps one group's history in one SQLite file
    SPDX-License-Identifier: MPL-2.0

    Layout (schema 1; the file carries application_id GC_STORE_APP_ID and user_version 1, so a
    foreign SQLite file is refused rather than changed):

        meta    (key TEXT PRIMARY KEY, value TEXT)      store.schema_version, store.last_seq, and
                                                        the caller's keys (group_id ...)
        entries (seq INTEGER PRIMARY KEY, ts_us, kind, sender, name, text BLOB, msg_id BLOB)
                index entries_ts on ts_us; index entries_msg_id on msg_id where msg_id is
                not null (files made by earlier builds have it on (sender, msg_id); either
                serves the lookup by sender and msg_id). Message ids start with the client's
                clock (gc_wire_new_msg_id), so a key on msg_id alone grows at its right edge,
                where SQLite appends without splitting pages in half.
        members (id TEXT PRIMARY KEY, name, joined_us, token_digest BLOB)

    store.last_seq is written in the same transaction as the entries, so the next seq never
    reuses one, whatever has been pruned (prune also never drops the newest entry).

    Every query is a range on the rowid (seq) or one probe of the ts index: a time bound is
    first turned into a seq bound (ts_us never decreases along seq, which gc_store_append
    enforces), then the page is read by seq. `newest` first walks the seq keys downwards to find
    where the page starts, then reads the page upwards, so no row is buffered and no OFFSET is
    used. A page costs O(page + log n) whatever the size of the history.

    Concurrency: one process per file, enforced with flock on <path>.lock (held until destroy);
    one thread uses the store object (its connection is opened without SQLite's mutex); the
    checkpointer thread below has a connection of its own.

    WAL checkpoints run off the commit path. SQLite's automatic checkpoint runs inside the
    commit that pushes the WAL past 1000 pages: that commit then copies up to 4 MB into the
    database and fsyncs it, and with random client message ids (each insert dirties a random
    leaf of the msg_id index) that was one commit in ~70 at 10-13 ms, so p99 commit latency
    broke 5 ms (tools/bench_store.c). Turning checkpoints off without a replacement would grow
    the WAL without bound in a long-running group. So the store runs a checkpointer thread
    with its own connection: the commit's WAL hook only signals it once the WAL holds
    GC_STORE_CKPT_FRAMES frames, and the thread runs a PASSIVE checkpoint, which never blocks
    the writer or readers.

    A PASSIVE checkpoint copies the frames that exist when it starts, and SQLite only rewinds
    the WAL when a write begins with every frame copied and no checkpoint running: under a
    steady stream of commits the thread never quite catches up, and the WAL would grow. So once
    the WAL reaches GC_STORE_WAL_MAX_FRAMES the hook holds the thread back and lets the writer
    itself copy the few frames the thread has not reached yet (inline, right after its commit);
    the next write then rewinds the WAL.
    That bounds the WAL at about 32 MB and costs one commit in several thousand a short
    checkpoint, instead of one in ~70 a long one.

    The thread touches nothing but its own connection and the fields under ckpt_mutex. If
    SQLite is built without threads, or the thread cannot start, the store falls back to
    SQLite's automatic checkpoint.
*/
#include "gc_store.h"
#include "gc_store_impl.h"

#include <czmq.h>
#include <sqlite3.h>

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#define GC_STORE_APP_ID  1195594580  //  0x47435354, "GCST": the SQLite header's application_id
#define GC_STORE_SCHEMA  1           //  user_version and store.schema_version
#define GC_STORE_CKPT_FRAMES 1000    //  WAL frames that call for a checkpoint (SQLite's default)
#define GC_STORE_WAL_MAX_FRAMES 8192 //  WAL frames at which the writer catches up itself

#define S_STR_(x) #x
#define S_STR(x)  S_STR_ (x)

static const char s_schema_sql[] =
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT);"
    "CREATE TABLE entries (seq INTEGER PRIMARY KEY, ts_us INTEGER NOT NULL, kind INTEGER,"
    " sender TEXT, name TEXT, text BLOB, msg_id BLOB);"
    "CREATE INDEX entries_ts ON entries (ts_us);"
    "CREATE INDEX entries_msg_id ON entries (msg_id) WHERE msg_id IS NOT NULL;"
    "CREATE TABLE members (id TEXT PRIMARY KEY, name TEXT, joined_us INTEGER,"
    " token_digest BLOB);"
    "INSERT INTO meta (key, value) VALUES ('store.schema_version', '" S_STR (GC_STORE_SCHEMA) "'),"
    " ('store.last_seq', '0');"
    "PRAGMA application_id = " S_STR (GC_STORE_APP_ID) ";"
    "PRAGMA user_version = " S_STR (GC_STORE_SCHEMA) ";";

//  Messages go in S_MULTI rows per INSERT: one statement step instead of 32 saves most of the
//  per-row interpretation cost of a big batch (appends ran about 20% faster end to end).
#define S_MULTI 32
#define S_ROW    "(?,?,?,?,?,?,?)"
#define S_ROWS4  S_ROW "," S_ROW "," S_ROW "," S_ROW
#define S_ROWS16 S_ROWS4 "," S_ROWS4 "," S_ROWS4 "," S_ROWS4
#define S_INSERT_MANY                                                                           \
    "INSERT INTO entries (seq, ts_us, kind, sender, name, text, msg_id) VALUES " S_ROWS16 ","   \
    S_ROWS16

typedef struct {
    char *path;                 //  database file
    sqlite3 *db;                //  connection
    int lock_fd;                //  <path>.lock, flock'd exclusively (-1 if not open)
    bool wal;                   //  the database is in WAL mode: checkpoint at close
    uint64_t first_seq;         //  oldest seq held, 0 if none
    uint64_t last_seq;          //  newest seq ever stored
    sqlite3_stmt *begin;        //  BEGIN IMMEDIATE
    sqlite3_stmt *commit;       //  COMMIT
    sqlite3_stmt *rollback;     //  ROLLBACK
    sqlite3_stmt *insert;       //  one entry
    sqlite3_stmt *insert_many;  //  S_MULTI messages
    sqlite3_stmt *member_put;   //  a join's member, replacing one of that id
    sqlite3_stmt *member_del;   //  a leave's member
    sqlite3_stmt *set_last;     //  store.last_seq
    sqlite3_stmt *find_msg_id;  //  by (sender, msg_id), on the unique index
    sqlite3_stmt *seq_at_ts;    //  the first seq with ts_us >= ?, on the ts index
    sqlite3_stmt *page;         //  entries in a seq range, ascending, limited
    sqlite3_stmt *newest;       //  seqs in a seq range, descending, limited
    sqlite3_stmt *members;      //  all members by id
    sqlite3_stmt *meta_get;     //  a meta value
    sqlite3_stmt *meta_set;     //  a meta value, replacing
    sqlite3_stmt *prune;        //  entries below a seq
    sqlite3_stmt *bounds;       //  MIN(seq), MAX(seq), store.last_seq
    sqlite3 *ckpt_db;           //  the checkpointer thread's own connection
    pthread_t ckpt_thread;      //  runs WAL checkpoints off the commit path
    bool ckpt_started;          //  ckpt_thread is running (and the fields below are set up)
    pthread_mutex_t ckpt_mutex; //  guards the fields below
    pthread_cond_t ckpt_cond;   //  wakes the thread
    bool ckpt_wanted;           //  the WAL has grown past GC_STORE_CKPT_FRAMES
    bool ckpt_running;          //  a checkpoint (the thread's or the writer's) is under way
    bool ckpt_hold;             //  the WAL is at its cap: the writer catches up, not the thread
    bool ckpt_stop;             //  destroy waits for the thread to end
    int ckpt_error;             //  the last failed checkpoint's result code, 0 if none
} sql_store_t;

//  Statements prepared once in new; the order matches the struct.
typedef struct {
    size_t offset;      //  of the sqlite3_stmt * in sql_store_t
    const char *sql;    //  its text
} s_stmt_def_t;

static const s_stmt_def_t s_stmt_defs[] = {
    { offsetof (sql_store_t, begin), "BEGIN IMMEDIATE" },
    { offsetof (sql_store_t, commit), "COMMIT" },
    { offsetof (sql_store_t, rollback), "ROLLBACK" },
    { offsetof (sql_store_t, insert),
      "INSERT INTO entries (seq, ts_us, kind, sender, name, text, msg_id)"
      " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)" },
    { offsetof (sql_store_t, insert_many), S_INSERT_MANY },
    { offsetof (sql_store_t, member_put),
      "INSERT OR REPLACE INTO members (id, name, joined_us, token_digest)"
      " VALUES (?1, ?2, ?3, ?4)" },
    { offsetof (sql_store_t, member_del), "DELETE FROM members WHERE id = ?1" },
    { offsetof (sql_store_t, set_last),
      "UPDATE meta SET value = ?1 WHERE key = 'store.last_seq'" },
    { offsetof (sql_store_t, find_msg_id),
      "SELECT seq, ts_us FROM entries WHERE msg_id = ?2 AND sender = ?1 ORDER BY seq LIMIT 1" },
    { offsetof (sql_store_t, seq_at_ts),
      "SELECT seq FROM entries WHERE ts_us >= ?1 ORDER BY ts_us, seq LIMIT 1" },
    { offsetof (sql_store_t, page),
      "SELECT seq, ts_us, kind, sender, name, text, msg_id FROM entries"
      " WHERE seq > ?1 AND seq < ?2 ORDER BY seq LIMIT ?3" },
    { offsetof (sql_store_t, newest),
      "SELECT seq FROM entries WHERE seq > ?1 AND seq < ?2 ORDER BY seq DESC LIMIT ?3" },
    { offsetof (sql_store_t, members),
      "SELECT id, name, joined_us, token_digest FROM members ORDER BY id" },
    { offsetof (sql_store_t, meta_get), "SELECT value FROM meta WHERE key = ?1" },
    { offsetof (sql_store_t, meta_set),
      "INSERT OR REPLACE INTO meta (key, value) VALUES (?1, ?2)" },
    { offsetof (sql_store_t, prune), "DELETE FROM entries WHERE seq < ?1" },
    { offsetof (sql_store_t, bounds),
      "SELECT (SELECT MIN(seq) FROM entries), (SELECT MAX(seq) FROM entries),"
      " (SELECT value FROM meta WHERE key = 'store.last_seq')" },
};

#define S_STMT_COUNT (sizeof s_stmt_defs / sizeof s_stmt_defs[0])

static sqlite3_stmt **
s_stmt_slot (sql_store_t *self, size_t index)
{
    return (sqlite3_stmt **) ((char *) self + s_stmt_defs[index].offset);
}

//  ---------------------------------------------------------------------------------------------
//  The checkpointer thread

static void *
s_checkpointer (void *arg)
{
    sql_store_t *self = (sql_store_t *) arg;
    pthread_mutex_lock (&self->ckpt_mutex);
    while (!self->ckpt_stop) {
        if (!self->ckpt_wanted || self->ckpt_hold || self->ckpt_running) {
            pthread_cond_wait (&self->ckpt_cond, &self->ckpt_mutex);
            continue;
        }
        self->ckpt_wanted = false;
        self->ckpt_running = true;
        pthread_mutex_unlock (&self->ckpt_mutex);
        //  PASSIVE copies what it can without waiting on the writer or readers; whatever it
        //  leaves (or a failure, e.g. a full disk) is retried at the next signal.
        int rc = sqlite3_wal_checkpoint_v2 (self->ckpt_db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL,
                                            NULL);
        pthread_mutex_lock (&self->ckpt_mutex);
        self->ckpt_running = false;
        //  SQLITE_BUSY: the WAL index was changing under us; the next commit signals again.
        if (rc != SQLITE_OK && rc != SQLITE_BUSY) {
            self->ckpt_error = rc;
        }
    }
    pthread_mutex_unlock (&self->ckpt_mutex);
    return NULL;
}

//  Called by SQLite after each commit on the main connection with the WAL's size in frames.
static int
s_wal_hook (void *arg, sqlite3 *db, const char *name, int frames)
{
    (void) name;
    sql_store_t *self = (sql_store_t *) arg;
    //  ckpt_hold is written only here, on this thread, so reading it unlocked is safe.
    if (frames < GC_STORE_CKPT_FRAMES && !self->ckpt_hold) {
        return SQLITE_OK;
    }
    pthread_mutex_lock (&self->ckpt_mutex);
    if (frames < GC_STORE_WAL_MAX_FRAMES) {
        //  Below the cap (again: the WAL has been rewound): the thread does the work.
        self->ckpt_hold = false;
        if (frames >= GC_STORE_CKPT_FRAMES) {
            self->ckpt_wanted = true;
        }
        if (self->ckpt_wanted) {
            pthread_cond_signal (&self->ckpt_cond);
        }
    }
    else {
        //  At the cap: hold the thread back until the WAL is rewound, which the next write
        //  does once every frame is copied and no checkpoint is running. Copy the rest here,
        //  unless the thread is mid-checkpoint (then after a later commit).
        self->ckpt_hold = true;
        if (!self->ckpt_running) {
            self->ckpt_running = true;
            pthread_mutex_unlock (&self->ckpt_mutex);
            int rc = sqlite3_wal_checkpoint_v2 (db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
            pthread_mutex_lock (&self->ckpt_mutex);
            self->ckpt_running = false;
            if (rc != SQLITE_OK && rc != SQLITE_BUSY) {
                self->ckpt_error = rc;
            }
        }
    }
    pthread_mutex_unlock (&self->ckpt_mutex);
    return SQLITE_OK;
}

//  Starts the checkpointer; on any failure leaves SQLite's automatic checkpoint in place.
static void
s_checkpointer_start (sql_store_t *self, gc_store_sync_t sync)
{
    if (!sqlite3_threadsafe ()) {
        return;
    }
    int rc = sqlite3_open_v2 (self->path, &self->ckpt_db,
                              SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX
                                  | SQLITE_OPEN_EXRESCODE,
                              NULL);
    if (rc == SQLITE_OK) {
        //  The checkpoint syncs as this connection is told to.
        rc = sqlite3_exec (self->ckpt_db,
                           sync == GC_STORE_SYNC_FULL ? "PRAGMA synchronous = FULL"
                                                      : "PRAGMA synchronous = NORMAL",
                           NULL, NULL, NULL);
    }
    if (rc != SQLITE_OK) {
        zsys_warning ("store '%s': checkpoints stay on the commit path: %s", self->path,
                      self->ckpt_db ? sqlite3_errmsg (self->ckpt_db) : sqlite3_errstr (rc));
        sqlite3_close (self->ckpt_db);
        self->ckpt_db = NULL;
        return;
    }
    if (pthread_mutex_init (&self->ckpt_mutex, NULL) != 0) {
        sqlite3_close (self->ckpt_db);
        self->ckpt_db = NULL;
        return;
    }
    if (pthread_cond_init (&self->ckpt_cond, NULL) != 0) {
        pthread_mutex_destroy (&self->ckpt_mutex);
        sqlite3_close (self->ckpt_db);
        self->ckpt_db = NULL;
        return;
    }
    if (pthread_create (&self->ckpt_thread, NULL, s_checkpointer, self) != 0) {
        zsys_warning ("store '%s': checkpoints stay on the commit path: cannot start thread",
                      self->path);
        pthread_cond_destroy (&self->ckpt_cond);
        pthread_mutex_destroy (&self->ckpt_mutex);
        sqlite3_close (self->ckpt_db);
        self->ckpt_db = NULL;
        return;
    }
    self->ckpt_started = true;
    //  Replaces SQLite's automatic checkpoint, which is itself a WAL hook.
    sqlite3_wal_hook (self->db, s_wal_hook, self);
}

static void
s_checkpointer_stop (sql_store_t *self)
{
    if (!self->ckpt_started) {
        return;
    }
    sqlite3_wal_hook (self->db, NULL, NULL);
    pthread_mutex_lock (&self->ckpt_mutex);
    self->ckpt_stop = true;
    pthread_cond_signal (&self->ckpt_cond);
    pthread_mutex_unlock (&self->ckpt_mutex);
    pthread_join (self->ckpt_thread, NULL);
    if (self->ckpt_error != 0) {
        zsys_warning ("store '%s': a background checkpoint failed: %s", self->path,
                      sqlite3_errstr (self->ckpt_error));
    }
    pthread_cond_destroy (&self->ckpt_cond);
    pthread_mutex_destroy (&self->ckpt_mutex);
    sqlite3_close (self->ckpt_db);
    self->ckpt_db = NULL;
    self->ckpt_started = false;
}

//  ---------------------------------------------------------------------------------------------

static void
s_destroy (void *impl)
{
    sql_store_t *self = (sql_store_t *) impl;
    s_checkpointer_stop (self);
    if (self->db) {
        for (size_t i = 0; i < S_STMT_COUNT; i++) {
            sqlite3_finalize (*s_stmt_slot (self, i));
            *s_stmt_slot (self, i) = NULL;
        }
        if (self->wal) {
            int rc = sqlite3_wal_checkpoint_v2 (self->db, NULL, SQLITE_CHECKPOINT_TRUNCATE, NULL,
                                                NULL);
            if (rc != SQLITE_OK) {
                zsys_error ("cannot checkpoint store '%s': %s", self->path,
                            sqlite3_errmsg (self->db));
            }
        }
        if (sqlite3_close (self->db) != SQLITE_OK) {
            zsys_error ("cannot close store '%s': %s", self->path, sqlite3_errmsg (self->db));
        }
        self->db = NULL;
    }
    if (self->lock_fd >= 0) {
        close (self->lock_fd);  //  releases the flock
    }
    free (self->path);
    free (self);
}

//  Steps a statement that returns no row (or whose rows are not wanted) and resets it. Returns
//  0, or -1 with "cannot <what> store '<path>': <sqlite error>" in err.
static int
s_run (sql_store_t *self, sqlite3_stmt *stmt, const char *what, char *err, size_t errlen)
{
    int rc = sqlite3_step (stmt);
    if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
        gc_store_set_err (err, errlen, "cannot %s store '%s': %s", what, self->path,
                   sqlite3_errmsg (self->db));
        sqlite3_reset (stmt);
        return -1;
    }
    sqlite3_reset (stmt);
    return 0;
}

//  Runs one SQL text that yields an integer in its first row. Returns 0 or -1 (err set).
static int
s_query_int (sql_store_t *self, const char *sql, int64_t *value, char *err, size_t errlen)
{
    sqlite3_stmt *stmt = NULL;
    int rc = sqlite3_prepare_v2 (self->db, sql, -1, &stmt, NULL);
    if (rc == SQLITE_OK) {
        rc = sqlite3_step (stmt);
    }
    if (rc != SQLITE_ROW) {
        gc_store_set_err (err, errlen, "cannot open store '%s': %s", self->path,
                   sqlite3_errmsg (self->db));
        sqlite3_finalize (stmt);
        return -1;
    }
    *value = sqlite3_column_int64 (stmt, 0);
    sqlite3_finalize (stmt);
    return 0;
}

//  PRAGMA quick_check: returns 0 if the database is sound, else -1 with the first problem.
static int
s_quick_check (sql_store_t *self, char *err, size_t errlen)
{
    sqlite3_stmt *stmt = NULL;
    int rc = sqlite3_prepare_v2 (self->db, "PRAGMA quick_check", -1, &stmt, NULL);
    if (rc == SQLITE_OK) {
        rc = sqlite3_step (stmt);
    }
    if (rc != SQLITE_ROW) {
        gc_store_set_err (err, errlen, "cannot open store '%s': database is corrupt: %s",
                          self->path, sqlite3_errmsg (self->db));
        sqlite3_finalize (stmt);
        return -1;
    }
    const char *result = (const char *) sqlite3_column_text (stmt, 0);
    if (!result || strcmp (result, "ok") != 0) {
        gc_store_set_err (err, errlen, "cannot open store '%s': database is corrupt: %s",
                          self->path, result ? result : "quick_check failed");
        //  quick_check reports one problem per line: keep the error to one line.
        for (char *p = err; err && *p; p++) {
            if (*p == '\n' || *p == '\r') {
                *p = ' ';
            }
        }
        sqlite3_finalize (stmt);
        return -1;
    }
    sqlite3_finalize (stmt);
    return 0;
}

//  Reads MIN(seq), MAX(seq) and store.last_seq into first_seq and last_seq. Returns 0 or -1.
static int
s_load_bounds (sql_store_t *self, const char *what, char *err, size_t errlen)
{
    int rc = sqlite3_step (self->bounds);
    if (rc != SQLITE_ROW) {
        gc_store_set_err (err, errlen, "cannot %s store '%s': %s", what, self->path,
                   sqlite3_errmsg (self->db));
        sqlite3_reset (self->bounds);
        return -1;
    }
    if (sqlite3_column_type (self->bounds, 2) == SQLITE_NULL) {
        gc_store_set_err (err, errlen, "cannot %s store '%s': store.last_seq is missing", what,
                   self->path);
        sqlite3_reset (self->bounds);
        return -1;
    }
    int64_t min_seq = sqlite3_column_int64 (self->bounds, 0);
    int64_t max_seq = sqlite3_column_int64 (self->bounds, 1);
    int64_t meta_last = sqlite3_column_int64 (self->bounds, 2);
    sqlite3_reset (self->bounds);
    if (min_seq < 0 || max_seq < 0 || meta_last < 0) {
        gc_store_set_err (err, errlen, "cannot %s store '%s': negative sequence number", what,
                   self->path);
        return -1;
    }
    self->first_seq = (uint64_t) min_seq;
    self->last_seq = (uint64_t) (max_seq > meta_last ? max_seq : meta_last);
    return 0;
}

//  The first seq whose ts_us >= ts_us: returns 1 and sets *seq, 0 if there is none, -1 (err
//  set) on error.
static int
s_seq_at_ts (sql_store_t *self, int64_t ts_us, uint64_t *seq, const char *what, char *err,
             size_t errlen)
{
    int rc = sqlite3_bind_int64 (self->seq_at_ts, 1, ts_us);
    if (rc == SQLITE_OK) {
        rc = sqlite3_step (self->seq_at_ts);
    }
    int found = 0;
    if (rc == SQLITE_ROW) {
        *seq = (uint64_t) sqlite3_column_int64 (self->seq_at_ts, 0);
        found = 1;
    }
    else if (rc != SQLITE_DONE) {
        gc_store_set_err (err, errlen, "cannot %s store '%s': %s", what, self->path,
                   sqlite3_errmsg (self->db));
        found = -1;
    }
    sqlite3_reset (self->seq_at_ts);
    return found;
}

//  ---------------------------------------------------------------------------------------------
//  Operations

static uint64_t
s_last_seq (void *impl)
{
    return ((sql_store_t *) impl)->last_seq;
}

static uint64_t
s_first_seq (void *impl)
{
    return ((sql_store_t *) impl)->first_seq;
}

//  Binds one entry to the seven parameters after `base` of an insert statement.
static int
s_bind_row (sqlite3_stmt *stmt, int base, const gc_store_entry_t *entry)
{
    int rc = sqlite3_bind_int64 (stmt, base + 1, (sqlite3_int64) entry->seq);
    if (rc == SQLITE_OK) {
        rc = sqlite3_bind_int64 (stmt, base + 2, entry->ts_us);
    }
    if (rc == SQLITE_OK) {
        rc = sqlite3_bind_int (stmt, base + 3, (int) entry->kind);
    }
    if (rc == SQLITE_OK) {
        rc = sqlite3_bind_text (stmt, base + 4, entry->sender, -1, SQLITE_STATIC);
    }
    if (rc == SQLITE_OK) {
        rc = sqlite3_bind_text (stmt, base + 5, entry->name ? entry->name : "", -1,
                                SQLITE_STATIC);
    }
    if (rc == SQLITE_OK) {
        rc = entry->text_len > 0 ? sqlite3_bind_blob64 (stmt, base + 6, entry->text,
                                                        entry->text_len, SQLITE_STATIC)
                                 : sqlite3_bind_zeroblob (stmt, base + 6, 0);
    }
    if (rc == SQLITE_OK) {
        rc = entry->has_msg_id ? sqlite3_bind_blob (stmt, base + 7, entry->msg_id,
                                                    GC_MSG_ID_SIZE, SQLITE_STATIC)
                               : sqlite3_bind_null (stmt, base + 7);
    }
    return rc;
}

static int
s_bind_entry (sql_store_t *self, const gc_store_entry_t *entry)
{
    return s_bind_row (self->insert, 0, entry);
}

//  Inserts S_MULTI messages (no membership change) with one statement, inside the open
//  transaction. Returns 0 or -1 (err set).
static int
s_append_many (sql_store_t *self, const gc_store_entry_t *entries, char *err, size_t errlen)
{
    int rc = SQLITE_OK;
    for (int i = 0; i < S_MULTI && rc == SQLITE_OK; i++) {
        rc = s_bind_row (self->insert_many, 7 * i, &entries[i]);
    }
    if (rc == SQLITE_OK) {
        rc = sqlite3_step (self->insert_many);
    }
    if (rc != SQLITE_DONE) {
        gc_store_set_err (err, errlen, "cannot append to store '%s': entries %" PRIu64 "-%" PRIu64
                                ": %s",
                   self->path, entries[0].seq, entries[S_MULTI - 1].seq,
                   sqlite3_errmsg (self->db));
        sqlite3_reset (self->insert_many);
        return -1;
    }
    sqlite3_reset (self->insert_many);
    return 0;
}

static int
s_bind_member (sql_store_t *self, const gc_store_entry_t *entry)
{
    sqlite3_stmt *stmt = self->member_put;
    int rc = sqlite3_bind_text (stmt, 1, entry->sender, -1, SQLITE_STATIC);
    if (rc == SQLITE_OK) {
        rc = sqlite3_bind_text (stmt, 2, entry->name ? entry->name : "", -1, SQLITE_STATIC);
    }
    if (rc == SQLITE_OK) {
        rc = sqlite3_bind_int64 (stmt, 3, entry->ts_us);
    }
    if (rc == SQLITE_OK) {
        rc = sqlite3_bind_blob (stmt, 4, entry->token_digest, sizeof entry->token_digest,
                                SQLITE_STATIC);
    }
    return rc;
}

//  Inserts one entry and applies its membership change, inside the open transaction.
static int
s_append_one (sql_store_t *self, const gc_store_entry_t *entry, char *err, size_t errlen)
{
    if (s_bind_entry (self, entry) != SQLITE_OK) {
        gc_store_set_err (err, errlen, "cannot append to store '%s': entry %" PRIu64 ": %s",
                   self->path, entry->seq, sqlite3_errmsg (self->db));
        return -1;
    }
    int rc = sqlite3_step (self->insert);
    if (rc != SQLITE_DONE) {
        if (sqlite3_extended_errcode (self->db) == SQLITE_CONSTRAINT_UNIQUE && entry->has_msg_id) {
            gc_store_set_err (err, errlen,
                       "cannot append entry %" PRIu64 ": duplicate msg_id from sender '%s'",
                       entry->seq, entry->sender);
        }
        else {
            gc_store_set_err (err, errlen, "cannot append to store '%s': %s", self->path,
                       sqlite3_errmsg (self->db));
        }
        sqlite3_reset (self->insert);
        return -1;
    }
    sqlite3_reset (self->insert);
    if (entry->kind == GC_ENTRY_JOIN) {
        if (s_bind_member (self, entry) != SQLITE_OK) {
            gc_store_set_err (err, errlen, "cannot append to store '%s': %s", self->path,
                       sqlite3_errmsg (self->db));
            return -1;
        }
        return s_run (self, self->member_put, "append to", err, errlen);
    }
    if (entry->kind == GC_ENTRY_LEAVE) {
        if (sqlite3_bind_text (self->member_del, 1, entry->sender, -1, SQLITE_STATIC)
            != SQLITE_OK) {
            gc_store_set_err (err, errlen, "cannot append to store '%s': %s", self->path,
                       sqlite3_errmsg (self->db));
            return -1;
        }
        return s_run (self, self->member_del, "append to", err, errlen);
    }
    return 0;
}

static int
s_append (void *impl, const gc_store_entry_t *entries, size_t count, char *err, size_t errlen)
{
    sql_store_t *self = (sql_store_t *) impl;
    int rc = -1;
    if (s_run (self, self->begin, "append to", err, errlen) != 0) {
        goto cleanup;
    }
    //  Bounded: every pass stores one entry or S_MULTI of them.
    for (size_t i = 0; i < count;) {
        size_t run = 0;
        while (run < S_MULTI && i + run < count && entries[i + run].kind == GC_ENTRY_MESSAGE) {
            run++;
        }
        if (run == S_MULTI) {
            if (s_append_many (self, &entries[i], err, errlen) != 0) {
                goto cleanup;
            }
            i += S_MULTI;
        }
        else {
            if (s_append_one (self, &entries[i], err, errlen) != 0) {
                goto cleanup;
            }
            i++;
        }
    }
    uint64_t last = entries[count - 1].seq;
    if (sqlite3_bind_int64 (self->set_last, 1, (sqlite3_int64) last) != SQLITE_OK
        || s_run (self, self->set_last, "append to", err, errlen) != 0) {
        gc_store_set_err (err, errlen, "cannot append to store '%s': %s", self->path,
                   sqlite3_errmsg (self->db));
        goto cleanup;
    }
    if (sqlite3_changes (self->db) != 1) {
        gc_store_set_err (err, errlen, "cannot append to store '%s': store.last_seq is missing",
                   self->path);
        goto cleanup;
    }
    if (s_run (self, self->commit, "append to", err, errlen) != 0) {
        goto cleanup;
    }
    self->last_seq = last;
    if (self->first_seq == 0) {
        self->first_seq = entries[0].seq;
    }
    rc = 0;

cleanup:
    //  The bindings point into the caller's entries: drop them.
    sqlite3_clear_bindings (self->insert);
    sqlite3_clear_bindings (self->insert_many);
    sqlite3_clear_bindings (self->member_put);
    sqlite3_clear_bindings (self->member_del);
    //  A failed statement or COMMIT may leave the transaction open (SQLITE_BUSY, SQLITE_FULL);
    //  an I/O error may already have rolled it back.
    if (rc != 0 && !sqlite3_get_autocommit (self->db)) {
        if (sqlite3_step (self->rollback) != SQLITE_DONE) {
            zsys_error ("cannot roll back store '%s': %s", self->path,
                        sqlite3_errmsg (self->db));
        }
        sqlite3_reset (self->rollback);
    }
    return rc;
}

static int
s_find_msg_id (void *impl, const char *sender, const uint8_t *msg_id, uint64_t *seq,
               int64_t *ts_us)
{
    sql_store_t *self = (sql_store_t *) impl;
    int rc = sqlite3_bind_text (self->find_msg_id, 1, sender, -1, SQLITE_STATIC);
    if (rc == SQLITE_OK) {
        rc = sqlite3_bind_blob (self->find_msg_id, 2, msg_id, GC_MSG_ID_SIZE, SQLITE_STATIC);
    }
    if (rc == SQLITE_OK) {
        rc = sqlite3_step (self->find_msg_id);
    }
    int found = 0;
    if (rc == SQLITE_ROW) {
        *seq = (uint64_t) sqlite3_column_int64 (self->find_msg_id, 0);
        *ts_us = sqlite3_column_int64 (self->find_msg_id, 1);
        found = 1;
    }
    else if (rc != SQLITE_DONE) {
        zsys_error ("cannot look up msg_id in store '%s': %s", self->path,
                    sqlite3_errmsg (self->db));
        found = -1;
    }
    sqlite3_reset (self->find_msg_id);
    sqlite3_clear_bindings (self->find_msg_id);
    return found;
}

//  Decodes the page statement's current row, checking what the file holds. Returns 0 or -1.
static int
s_row_entry (sqlite3_stmt *stmt, gc_store_entry_t *out)
{
    memset (out, 0, sizeof *out);
    int64_t seq = sqlite3_column_int64 (stmt, 0);
    int kind = sqlite3_column_int (stmt, 2);
    const char *sender = (const char *) sqlite3_column_text (stmt, 3);
    int sender_len = sqlite3_column_bytes (stmt, 3);
    if (seq <= 0 || kind < GC_ENTRY_MESSAGE || kind > GC_ENTRY_LEAVE || !sender
        || sender_len > GC_UUID_STR_LEN) {
        return -1;
    }
    out->seq = (uint64_t) seq;
    out->ts_us = sqlite3_column_int64 (stmt, 1);
    out->kind = (gc_entry_kind_t) kind;
    memcpy (out->sender, sender, (size_t) sender_len);
    const char *name = (const char *) sqlite3_column_text (stmt, 4);
    out->name = name ? name : "";
    out->text = (const uint8_t *) sqlite3_column_blob (stmt, 5);
    out->text_len = (size_t) sqlite3_column_bytes (stmt, 5);
    if (out->text_len == 0) {
        out->text = NULL;
    }
    if (sqlite3_column_type (stmt, 6) != SQLITE_NULL) {
        const void *msg_id = sqlite3_column_blob (stmt, 6);
        if (sqlite3_column_bytes (stmt, 6) != GC_MSG_ID_SIZE || !msg_id) {
            return -1;
        }
        out->has_msg_id = true;
        memcpy (out->msg_id, msg_id, GC_MSG_ID_SIZE);
    }
    return 0;
}

static int
s_fetch (void *impl, const gc_store_query_t *query, gc_store_entry_fn *fn, void *arg,
         bool *more, char *err, size_t errlen)
{
    sql_store_t *self = (sql_store_t *) impl;
    *more = false;
    //  Exclusive bounds on seq, within SQLite's signed integers.
    uint64_t lo = query->after_seq;
    uint64_t hi = query->before_seq;
    if (hi == 0 || hi > (uint64_t) INT64_MAX) {
        hi = (uint64_t) INT64_MAX;
    }
    if (query->since_us != 0) {
        uint64_t seq;
        int found = s_seq_at_ts (self, query->since_us, &seq, "fetch from", err, errlen);
        if (found <= 0) {
            return found;
        }
        lo = seq - 1 > lo ? seq - 1 : lo;
    }
    if (query->until_us != 0) {
        uint64_t seq;
        int found = s_seq_at_ts (self, query->until_us, &seq, "fetch from", err, errlen);
        if (found < 0) {
            return -1;
        }
        if (found) {
            hi = seq < hi ? seq : hi;
        }
    }
    if (lo >= (uint64_t) INT64_MAX || lo + 1 >= hi) {
        return 0;
    }
    int64_t limit = (int64_t) query->limit;
    if (query->newest) {
        //  Find where the page starts: the limit-th seq from the top of the range.
        int64_t rows = 0;
        uint64_t start = 0;
        int rc = sqlite3_bind_int64 (self->newest, 1, (sqlite3_int64) lo);
        if (rc == SQLITE_OK) {
            rc = sqlite3_bind_int64 (self->newest, 2, (sqlite3_int64) hi);
        }
        if (rc == SQLITE_OK) {
            rc = sqlite3_bind_int64 (self->newest, 3, limit + 1);
        }
        if (rc != SQLITE_OK) {
            gc_store_set_err (err, errlen, "cannot fetch from store '%s': %s", self->path,
                       sqlite3_errmsg (self->db));
            return -1;
        }
        while ((rc = sqlite3_step (self->newest)) == SQLITE_ROW) {
            if (++rows <= limit) {
                start = (uint64_t) sqlite3_column_int64 (self->newest, 0);
            }
        }
        sqlite3_reset (self->newest);
        if (rc != SQLITE_DONE) {
            gc_store_set_err (err, errlen, "cannot fetch from store '%s': %s", self->path,
                       sqlite3_errmsg (self->db));
            return -1;
        }
        if (rows == 0) {
            return 0;
        }
        *more = rows > limit;
        lo = start - 1;
    }
    int64_t rows = 0;
    int rc = sqlite3_bind_int64 (self->page, 1, (sqlite3_int64) lo);
    if (rc == SQLITE_OK) {
        rc = sqlite3_bind_int64 (self->page, 2, (sqlite3_int64) hi);
    }
    if (rc == SQLITE_OK) {
        rc = sqlite3_bind_int64 (self->page, 3, query->newest ? limit : limit + 1);
    }
    if (rc != SQLITE_OK) {
        gc_store_set_err (err, errlen, "cannot fetch from store '%s': %s", self->path,
                   sqlite3_errmsg (self->db));
        return -1;
    }
    while ((rc = sqlite3_step (self->page)) == SQLITE_ROW) {
        if (++rows > limit) {
            *more = true;   //  the one row past the page
            break;
        }
        gc_store_entry_t entry;
        if (s_row_entry (self->page, &entry) != 0) {
            int64_t seq = sqlite3_column_int64 (self->page, 0);
            gc_store_set_err (err, errlen,
                              "cannot fetch from store '%s': entry %" PRId64 " is malformed",
                       self->path, seq);
            sqlite3_reset (self->page);
            return -1;
        }
        fn (arg, &entry);
    }
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        gc_store_set_err (err, errlen, "cannot fetch from store '%s': %s", self->path,
                   sqlite3_errmsg (self->db));
        sqlite3_reset (self->page);
        return -1;
    }
    sqlite3_reset (self->page);
    return 0;
}

static int
s_members (void *impl, gc_store_member_fn *fn, void *arg, char *err, size_t errlen)
{
    sql_store_t *self = (sql_store_t *) impl;
    sqlite3_stmt *stmt = self->members;
    int rc;
    while ((rc = sqlite3_step (stmt)) == SQLITE_ROW) {
        gc_store_member_t member;
        memset (&member, 0, sizeof member);
        const char *id = (const char *) sqlite3_column_text (stmt, 0);
        int id_len = sqlite3_column_bytes (stmt, 0);
        const void *digest = sqlite3_column_blob (stmt, 3);
        int digest_len = sqlite3_column_bytes (stmt, 3);
        if (!id || id_len > GC_UUID_STR_LEN
            || (digest_len != 0 && digest_len != (int) sizeof member.token_digest)) {
            gc_store_set_err (err, errlen,
                              "cannot list members of store '%s': member '%s' is malformed",
                       self->path, id ? id : "");
            sqlite3_reset (stmt);
            return -1;
        }
        memcpy (member.id, id, (size_t) id_len);
        const char *name = (const char *) sqlite3_column_text (stmt, 1);
        member.name = name ? name : "";
        member.joined_us = sqlite3_column_int64 (stmt, 2);
        if (digest_len > 0) {
            memcpy (member.token_digest, digest, sizeof member.token_digest);
        }
        fn (arg, &member);
    }
    if (rc != SQLITE_DONE) {
        gc_store_set_err (err, errlen, "cannot list members of store '%s': %s", self->path,
                   sqlite3_errmsg (self->db));
        sqlite3_reset (stmt);
        return -1;
    }
    sqlite3_reset (stmt);
    return 0;
}

static int64_t
s_prune (void *impl, uint64_t keep_from_seq, int64_t keep_from_us, char *err, size_t errlen)
{
    sql_store_t *self = (sql_store_t *) impl;
    if (self->first_seq == 0) {
        return 0;
    }
    uint64_t cut = keep_from_seq > self->first_seq ? keep_from_seq : self->first_seq;
    if (keep_from_us != 0) {
        uint64_t seq = self->last_seq + 1;   //  every entry is older: drop all it may
        if (s_seq_at_ts (self, keep_from_us, &seq, "prune", err, errlen) < 0) {
            return -1;
        }
        cut = seq > cut ? seq : cut;
    }
    if (cut > self->last_seq) {
        cut = self->last_seq;   //  never the newest entry
    }
    if (cut <= self->first_seq) {
        return 0;
    }
    if (sqlite3_bind_int64 (self->prune, 1, (sqlite3_int64) cut) != SQLITE_OK
        || s_run (self, self->prune, "prune", err, errlen) != 0) {
        gc_store_set_err (err, errlen, "cannot prune store '%s': %s", self->path,
                   sqlite3_errmsg (self->db));
        return -1;
    }
    int64_t dropped = sqlite3_changes64 (self->db);
    if (s_load_bounds (self, "prune", err, errlen) != 0) {
        return -1;
    }
    return dropped;
}

static char *
s_meta_get (void *impl, const char *key)
{
    sql_store_t *self = (sql_store_t *) impl;
    char *value = NULL;
    int rc = sqlite3_bind_text (self->meta_get, 1, key, -1, SQLITE_STATIC);
    if (rc == SQLITE_OK) {
        rc = sqlite3_step (self->meta_get);
    }
    if (rc == SQLITE_ROW) {
        const char *text = (const char *) sqlite3_column_text (self->meta_get, 0);
        if (text) {
            value = strdup (text);
        }
    }
    else if (rc != SQLITE_DONE) {
        zsys_error ("cannot read meta '%s' of store '%s': %s", key, self->path,
                    sqlite3_errmsg (self->db));
    }
    sqlite3_reset (self->meta_get);
    sqlite3_clear_bindings (self->meta_get);
    return value;
}

static int
s_meta_set (void *impl, const char *key, const char *value, char *err, size_t errlen)
{
    sql_store_t *self = (sql_store_t *) impl;
    int rc = sqlite3_bind_text (self->meta_set, 1, key, -1, SQLITE_STATIC);
    if (rc == SQLITE_OK) {
        rc = sqlite3_bind_text (self->meta_set, 2, value, -1, SQLITE_STATIC);
    }
    if (rc == SQLITE_OK) {
        rc = sqlite3_step (self->meta_set);
    }
    if (rc != SQLITE_DONE) {
        gc_store_set_err (err, errlen, "cannot set meta '%s' of store '%s': %s", key, self->path,
                   sqlite3_errmsg (self->db));
    }
    sqlite3_reset (self->meta_set);
    sqlite3_clear_bindings (self->meta_set);
    return rc == SQLITE_DONE ? 0 : -1;
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

//  ---------------------------------------------------------------------------------------------
//  Opening

//  Creates the file if missing (mode 0600: it holds the group's messages) and checks that we
//  may write it, for a plain error before SQLite would silently fall back to read-only.
static int
s_check_file (const char *path, char *err, size_t errlen)
{
    int fd = open (path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) {
        gc_store_set_err (err, errlen, "cannot open store '%s': %s", path, strerror (errno));
        return -1;
    }
    struct stat st;
    int rc = fstat (fd, &st);
    close (fd);
    if (rc != 0 || !S_ISREG (st.st_mode)) {
        gc_store_set_err (err, errlen, "cannot open store '%s': not a regular file", path);
        return -1;
    }
    return 0;
}

//  Takes the exclusive lock on <path>.lock, held until destroy. Returns 0 or -1.
static int
s_lock (sql_store_t *self, char *err, size_t errlen)
{
    char *lock_path = zsys_sprintf ("%s.lock", self->path);
    if (!lock_path) {
        gc_store_set_err (err, errlen, "cannot open store '%s': out of memory", self->path);
        return -1;
    }
    self->lock_fd = open (lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (self->lock_fd < 0) {
        gc_store_set_err (err, errlen, "cannot open store '%s': cannot open lock file '%s': %s",
                   self->path, lock_path, strerror (errno));
        zstr_free (&lock_path);
        return -1;
    }
    zstr_free (&lock_path);
    if (flock (self->lock_fd, LOCK_EX | LOCK_NB) != 0) {
        if (errno == EWOULDBLOCK) {
            gc_store_set_err (err, errlen, "cannot open store '%s': locked by another process",
                       self->path);
        }
        else {
            gc_store_set_err (err, errlen, "cannot open store '%s': cannot lock: %s", self->path,
                       strerror (errno));
        }
        return -1;
    }
    return 0;
}

//  Checks that an existing database is ours and sound, or creates the schema in an empty one.
static int
s_open_schema (sql_store_t *self, char *err, size_t errlen)
{
    int64_t app_id, version, objects;
    //  The first read of the file: a file that is not SQLite fails here.
    if (s_query_int (self, "PRAGMA application_id", &app_id, err, errlen) != 0
        || s_query_int (self, "PRAGMA user_version", &version, err, errlen) != 0
        || s_query_int (self, "SELECT count(*) FROM sqlite_schema", &objects, err, errlen) != 0) {
        return -1;
    }
    bool fresh = app_id == 0 && version == 0 && objects == 0;
    if (!fresh) {
        if (app_id != GC_STORE_APP_ID) {
            gc_store_set_err (err, errlen, "cannot open store '%s': not a groupcast database",
                       self->path);
            return -1;
        }
        if (version != GC_STORE_SCHEMA) {
            gc_store_set_err (err, errlen,
                       "cannot open store '%s': unsupported schema version %" PRId64
                       " (this groupcast knows %d)",
                       self->path, version, GC_STORE_SCHEMA);
            return -1;
        }
        if (s_quick_check (self, err, errlen) != 0) {
            return -1;
        }
    }
    //  Only now that the file is known to be ours may we change it.
    sqlite3_stmt *stmt = NULL;
    int rc = sqlite3_prepare_v2 (self->db, "PRAGMA journal_mode = WAL", -1, &stmt, NULL);
    if (rc == SQLITE_OK) {
        rc = sqlite3_step (stmt);
    }
    const char *mode = rc == SQLITE_ROW ? (const char *) sqlite3_column_text (stmt, 0) : NULL;
    if (!mode || strcasecmp (mode, "wal") != 0) {
        gc_store_set_err (err, errlen, "cannot open store '%s': cannot enable WAL mode: %s",
                          self->path,
                   mode ? mode : sqlite3_errmsg (self->db));
        sqlite3_finalize (stmt);
        return -1;
    }
    sqlite3_finalize (stmt);
    self->wal = true;
    if (fresh) {
        char *sqlerr = NULL;
        rc = sqlite3_exec (self->db, "BEGIN IMMEDIATE", NULL, NULL, &sqlerr);
        if (rc == SQLITE_OK) {
            rc = sqlite3_exec (self->db, s_schema_sql, NULL, NULL, &sqlerr);
        }
        if (rc == SQLITE_OK) {
            rc = sqlite3_exec (self->db, "COMMIT", NULL, NULL, &sqlerr);
        }
        if (rc != SQLITE_OK) {
            gc_store_set_err (err, errlen, "cannot create store '%s': %s", self->path,
                       sqlerr ? sqlerr : sqlite3_errstr (rc));
            sqlite3_free (sqlerr);
            if (!sqlite3_get_autocommit (self->db)) {
                sqlite3_exec (self->db, "ROLLBACK", NULL, NULL, NULL);
            }
            return -1;
        }
    }
    return 0;
}

gc_store_t *
gc_store_new_sqlite (const char *path, gc_store_sync_t sync, char *err, size_t errlen)
{
    assert (path);
    assert (sync == GC_STORE_SYNC_FULL || sync == GC_STORE_SYNC_NORMAL);
    if (*path == '\0') {
        gc_store_set_err (err, errlen, "cannot open store '': empty path");
        return NULL;
    }
    int rc;
    char *sqlerr = NULL;
    sql_store_t *self = (sql_store_t *) calloc (1, sizeof (sql_store_t));
    if (!self) {
        gc_store_set_err (err, errlen, "cannot open store '%s': out of memory", path);
        return NULL;
    }
    self->lock_fd = -1;
    self->path = strdup (path);
    if (!self->path) {
        gc_store_set_err (err, errlen, "cannot open store '%s': out of memory", path);
        goto failed;
    }
    if (s_check_file (path, err, errlen) != 0 || s_lock (self, err, errlen) != 0) {
        goto failed;
    }
    rc = sqlite3_open_v2 (path, &self->db,
                              SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX
                                  | SQLITE_OPEN_EXRESCODE,
                              NULL);
    if (rc != SQLITE_OK) {
        gc_store_set_err (err, errlen, "cannot open store '%s': %s", path,
                   self->db ? sqlite3_errmsg (self->db) : sqlite3_errstr (rc));
        goto failed;
    }
    if (sqlite3_db_readonly (self->db, "main") != 0) {
        gc_store_set_err (err, errlen, "cannot open store '%s': file is read-only", path);
        goto failed;
    }
    if (s_open_schema (self, err, errlen) != 0) {
        goto failed;
    }
    rc = sqlite3_exec (self->db,
                       sync == GC_STORE_SYNC_FULL ? "PRAGMA synchronous = FULL"
                                                  : "PRAGMA synchronous = NORMAL",
                       NULL, NULL, &sqlerr);
    if (rc == SQLITE_OK) {
        //  After a checkpoint resets the WAL, trim it back if a big transaction grew it.
        rc = sqlite3_exec (self->db, "PRAGMA journal_size_limit = 67108864", NULL, NULL,
                           &sqlerr);
    }
    if (rc != SQLITE_OK) {
        gc_store_set_err (err, errlen, "cannot open store '%s': %s", path,
                   sqlerr ? sqlerr : sqlite3_errstr (rc));
        sqlite3_free (sqlerr);
        goto failed;
    }
    for (size_t i = 0; i < S_STMT_COUNT; i++) {
        rc = sqlite3_prepare_v3 (self->db, s_stmt_defs[i].sql, -1, SQLITE_PREPARE_PERSISTENT,
                                 s_stmt_slot (self, i), NULL);
        if (rc != SQLITE_OK) {
            gc_store_set_err (err, errlen, "cannot open store '%s': %s", path,
                       sqlite3_errmsg (self->db));
            goto failed;
        }
    }
    if (s_load_bounds (self, "open", err, errlen) != 0) {
        goto failed;
    }
    s_checkpointer_start (self, sync);
    return gc_store_wrap (&s_ops, self);

failed:
    s_destroy (self);
    return NULL;
}
