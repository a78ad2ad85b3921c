/*  bench_store - throughput and commit latency of the gc_store backends
    SPDX-License-Identifier: MPL-2.0

    Appends 1,000,000 entries in batches of 1000 into a SQLite store (synchronous FULL), reads
    them all back in pages of 1000 by after_seq, and prints rows/s for both. Then: reopen time
    (which includes PRAGMA quick_check), single-page latency at both ends of the history, commit
    latency of small batches (10 entries, as at ~10k msgs/s), and the memory backend's append
    rate for comparison.

        bench_store [DIR] [COUNT]     DIR defaults to a fresh directory under /tmp (removed after)

    Not built by CMake; compile by hand, see the report of issue h2 or:
        cc -O2 -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -Isrc -Iinclude \
           tools/bench_store.c build/src/libgc_core.a \
           $(pkg-config --libs libczmq libzmq sqlite3 uuid libprotobuf-c) -lpthread -o bench_store
*/
#include "gc_store.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define BATCH     1000
#define PAGE      1000
#define SENDERS   10
#define SMALL     10      //  entries per commit in the latency run
#define COMMITS   5000    //  commits in the latency run

static double
s_now (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

static uint64_t
s_rand (uint64_t *state)
{
    //  xorshift64*: msg ids as random as a client's, without the cost of a system call
    *state ^= *state >> 12;
    *state ^= *state << 25;
    *state ^= *state >> 27;
    return *state * 0x2545f4914f6cdd1dULL;
}

static const char s_text[] = "The quick brown fox jumps over the lazy dog; a message of about a "
                             "hundred bytes, like most chat lines.";

//  Fills a batch of messages from seq on, ts advancing 1 us per entry.
static void
s_fill (gc_store_entry_t *batch, size_t count, uint64_t seq, uint64_t *rng)
{
    for (size_t i = 0; i < count; i++, seq++) {
        gc_store_entry_t *entry = &batch[i];
        memset (entry, 0, sizeof *entry);
        entry->seq = seq;
        entry->ts_us = 1700000000000000LL + (int64_t) seq;
        entry->kind = GC_ENTRY_MESSAGE;
        snprintf (entry->sender, sizeof entry->sender, "0b5c1a8e-0000-4000-8000-%012u",
                  (unsigned) (seq % SENDERS));
        entry->name = "bench";
        entry->text = (const uint8_t *) s_text;
        entry->text_len = sizeof s_text - 1;
        entry->has_msg_id = true;
        uint64_t a = s_rand (rng), b = s_rand (rng);
        memcpy (entry->msg_id, &a, 8);
        memcpy (entry->msg_id + 8, &b, 8);
    }
}

typedef struct {
    uint64_t count;     //  entries seen
    uint64_t last;      //  the last seq seen
    bool ordered;       //  every seq was last + 1
} reader_t;

static void
s_read (void *arg, const gc_store_entry_t *entry)
{
    reader_t *reader = (reader_t *) arg;
    reader->ordered = reader->ordered && entry->seq == reader->last + 1;
    reader->last = entry->seq;
    reader->count++;
}

//  The size of a file in MB (0 if missing).
static double
s_file_mb (const char *path, const char *suffix)
{
    char file[4200];
    snprintf (file, sizeof file, "%s%s", path, suffix);
    struct stat st;
    return stat (file, &st) == 0 ? (double) st.st_size / 1048576.0 : 0.0;
}

//  The size of the WAL file now, in MB (it must stay bounded while the store runs).
static double
s_wal_mb (const char *path)
{
    return s_file_mb (path, "-wal");
}

static int
s_compare_double (const void *a, const void *b)
{
    double x = *(const double *) a, y = *(const double *) b;
    return (x > y) - (x < y);
}

//  Times one fetch of one page, in microseconds.
static double
s_page_us (gc_store_t *store, gc_store_query_t query)
{
    reader_t reader = { 0, 0, true };
    char err[256];
    double t0 = s_now ();
    bool more;
    if (gc_store_fetch (store, &query, s_read, &reader, &more, err, sizeof err) != 0) {
        fprintf (stderr, "bench_store: %s\n", err);
        return -1;
    }
    return (s_now () - t0) * 1e6;
}

int
main (int argc, char **argv)
{
    char dir_buf[] = "/tmp/gc-bench-XXXXXX";
    const char *dir = argc > 1 ? argv[1] : mkdtemp (dir_buf);
    uint64_t total = argc > 2 ? strtoull (argv[2], NULL, 10) : 1000000;
    if (!dir || total < BATCH || total % BATCH != 0) {
        fprintf (stderr, "usage: bench_store [DIR] [COUNT, a multiple of %d]\n", BATCH);
        return 2;
    }
    char path[4096];
    snprintf (path, sizeof path, "%s/bench.db", dir);
    char err[512];
    gc_store_t *store = gc_store_new_sqlite (path, GC_STORE_SYNC_FULL, err, sizeof err);
    if (!store) {
        fprintf (stderr, "bench_store: %s\n", err);
        return 1;
    }
    uint64_t base = gc_store_last_seq (store);
    gc_store_entry_t *batch = (gc_store_entry_t *) calloc (BATCH, sizeof (gc_store_entry_t));
    uint64_t rng = 0x9e3779b97f4a7c15ULL ^ (uint64_t) time (NULL);
    int rc = 0;

    //  1. Append in batches of 1000, one transaction each.
    double t0 = s_now ();
    for (uint64_t seq = base + 1; seq <= base + total; seq += BATCH) {
        s_fill (batch, BATCH, seq, &rng);
        if (gc_store_append (store, batch, BATCH, err, sizeof err) != 0) {
            fprintf (stderr, "bench_store: %s\n", err);
            rc = 1;
            goto cleanup;
        }
    }
    double append_s = s_now () - t0;
    printf ("sqlite append (sync FULL, batches of %d): %" PRIu64 " rows in %.2f s = %.0f rows/s"
            " (WAL now %.1f MB)\n",
            BATCH, total, append_s, (double) total / append_s, s_wal_mb (path));

    //  2. Read everything back, a page of 1000 at a time by after_seq.
    reader_t reader = { 0, base, true };
    t0 = s_now ();
    bool more = true;
    gc_store_query_t query = { .after_seq = base, .limit = PAGE };
    while (more) {
        if (gc_store_fetch (store, &query, s_read, &reader, &more, err, sizeof err) != 0) {
            fprintf (stderr, "bench_store: %s\n", err);
            rc = 1;
            goto cleanup;
        }
        query.after_seq = reader.last;
    }
    double read_s = s_now () - t0;
    printf ("sqlite read (pages of %d by after_seq): %" PRIu64 " rows in %.2f s = %.0f rows/s%s\n",
            PAGE, reader.count, read_s, (double) reader.count / read_s,
            reader.ordered && reader.count == total ? "" : "  ** WRONG ROWS **");

    //  3. Reopen (quick_check runs over the whole file), then single pages at both ends.
    gc_store_destroy (&store);
    t0 = s_now ();
    store = gc_store_new_sqlite (path, GC_STORE_SYNC_FULL, err, sizeof err);
    if (!store) {
        fprintf (stderr, "bench_store: %s\n", err);
        rc = 1;
        goto cleanup;
    }
    printf ("sqlite reopen with quick_check: %.0f ms (database %.0f MB)\n", (s_now () - t0) * 1e3,
            s_file_mb (path, ""));
    uint64_t last = gc_store_last_seq (store);
    int64_t mid_ts = 1700000000000000LL + (int64_t) (last / 2);
    struct {
        const char *what;
        gc_store_query_t query;
    } pages[] = {
        { "oldest page", { .limit = PAGE } },
        { "newest page", { .limit = PAGE, .newest = true } },
        { "page after_seq=last-5000", { .after_seq = last - 5000, .limit = PAGE } },
        { "page since_us=middle", { .since_us = mid_ts, .limit = PAGE } },
        { "newest page until_us=middle", { .until_us = mid_ts, .limit = PAGE, .newest = true } },
    };
    for (size_t i = 0; i < sizeof pages / sizeof pages[0]; i++) {
        s_page_us (store, pages[i].query);   //  warm
        printf ("sqlite %s: %.0f us\n", pages[i].what, s_page_us (store, pages[i].query));
    }

    //  4. Commit latency of small batches, as a group sees at ~10k msgs/s.
    double *lat = (double *) calloc (COMMITS, sizeof (double));
    uint64_t seq = last + 1;
    t0 = s_now ();
    for (int i = 0; i < COMMITS; i++, seq += SMALL) {
        s_fill (batch, SMALL, seq, &rng);
        double c0 = s_now ();
        if (gc_store_append (store, batch, SMALL, err, sizeof err) != 0) {
            fprintf (stderr, "bench_store: %s\n", err);
            rc = 1;
            free (lat);
            goto cleanup;
        }
        lat[i] = (s_now () - c0) * 1e3;
    }
    double small_s = s_now () - t0;
    qsort (lat, COMMITS, sizeof (double), s_compare_double);
    printf ("sqlite commits of %d (sync FULL): %d commits, %.0f rows/s, latency ms p50 %.2f "
            "p99 %.2f p99.9 %.2f max %.2f (WAL now %.1f MB)\n",
            SMALL, COMMITS, (double) COMMITS * SMALL / small_s, lat[COMMITS / 2],
            lat[COMMITS * 99 / 100], lat[COMMITS * 999 / 1000], lat[COMMITS - 1],
            s_wal_mb (path));
    free (lat);
    gc_store_destroy (&store);

    //  5. The memory backend, for comparison.
    store = gc_store_new_memory ();
    t0 = s_now ();
    for (seq = 1; seq <= total; seq += BATCH) {
        s_fill (batch, BATCH, seq, &rng);
        if (gc_store_append (store, batch, BATCH, err, sizeof err) != 0) {
            fprintf (stderr, "bench_store: %s\n", err);
            rc = 1;
            goto cleanup;
        }
    }
    double mem_s = s_now () - t0;
    printf ("memory append (batches of %d): %.0f rows/s\n", BATCH, (double) total / mem_s);

cleanup:
    gc_store_destroy (&store);
    free (batch);
    if (argc <= 1) {
        char file[4200];
        const char *suffixes[] = { "", "-wal", "-shm", ".lock" };
        for (size_t i = 0; i < 4; i++) {
            snprintf (file, sizeof file, "%s%s", path, suffixes[i]);
            unlink (file);
        }
        rmdir (dir);
    }
    return rc;
}
