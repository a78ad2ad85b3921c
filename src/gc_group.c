/*  gc_group - a group's members, ordered stream and request handling
    SPDX-License-Identifier: MPL-2.0
*/
#include "gc_group.h"

#include "gc_time.h"
#include "gc_wire.h"

#define GC_DIGEST_SIZE 20
#define GC_LOG_SENDERS 8            //  senders named in the send log; the rest are "others"
#define GC_LOG_INTERVAL_US 1000000  //  the send log's period
#define GC_GROUP_ARENA_FLUSH (8 * 1024 * 1024)   //  request memory that makes a turn commit

typedef struct {
    char id[GC_UUID_STR_LEN + 1];          //  user UUID, the key
    char name[GC_MAX_NAME + 1];            //  display name
    int64_t joined_us;                     //  when the member (last) joined
    uint8_t token_digest[GC_DIGEST_SIZE];  //  SHA-1 of the token it joined with
    bool token_known;                      //  token below is verified against the digest
    uint8_t token[GC_TOKEN_SIZE];          //  cached token, so sends skip hashing
} s_member_t;

//  A Send or a SendBatch waiting for the next commit.
typedef struct {
    void *cookie;                  //  the caller's envelope, handed back with the reply
    uint64_t request_id;           //  echoed in the acknowledgement
    size_t first;                  //  its messages' seqs and timestamps are ack_seqs[first ..
    size_t count;                  //  first + count) and ack_ts[...]; count is 1 for a Send
    bool batch;                    //  a SendBatch: acknowledged with seqs and ts_list
} s_pending_t;

//  Accepted sends counted per sender since the last send log line.
typedef struct {
    char senders[GC_LOG_SENDERS][GC_UUID_STR_LEN + 1];  //  the first distinct senders
    size_t counts[GC_LOG_SENDERS];                      //  messages of each
    size_t distinct;                                    //  senders named
    size_t others;                                      //  messages of the rest
    int64_t next_us;                                    //  when the next lines may go out
} s_send_log_t;

//  Figures for Stats requests, counted since the group started.
#define GC_STATS_SAMPLES 11   //  the rate is taken over ten intervals of a second or more

typedef struct {
    int64_t started_us;                          //  wall clock at start
    int64_t started_ms;                          //  monotonic clock at start
    uint64_t messages;                           //  messages accepted
    uint64_t bytes;                              //  bytes of their text
    size_t subscribers;                          //  live subscriptions (group_main counts)
    int64_t sample_ms[GC_STATS_SAMPLES];         //  ring of rate samples: monotonic time
    uint64_t sample_messages[GC_STATS_SAMPLES];  //  and messages accepted by then
    size_t samples;                              //  samples ever taken
} s_stats_t;

struct gc_group {
    char name[GC_MAX_NAME + 1];                //  group name
    char pub_endpoint[GC_MAX_ENDPOINT + 1];    //  advertised PUB endpoint
    char group_id[GC_UUID_STR_LEN + 1];        //  instance UUID
    gc_store_t *store;                         //  owned
    zhashx_t *members;                         //  id -> s_member_t, owned
    uint64_t last_seq;                         //  newest committed sequence number
    int64_t last_ts_us;                        //  its timestamp; timestamps never go back
    s_pending_t *pending;                      //  queued sends and send batches
    size_t pending_count;                      //  how many
    size_t pending_capacity;                   //  allocated slots
    uint64_t *ack_seqs;                        //  seq of each queued message, in arrival order
    int64_t *ack_ts;                           //  and its timestamp
    size_t ack_count;                          //  how many
    size_t ack_capacity;                       //  allocated slots in both
    gc_store_entry_t *batch;                   //  entries of the queued sends (new ones only)
    size_t batch_count;                        //  how many
    size_t batch_bytes;                        //  bytes of text in them
    size_t batch_capacity;                     //  allocated slots
    size_t max_batch;                          //  flush by itself at this many
    uint64_t retain_messages;                  //  0: unlimited
    int64_t retain_age_us;                     //  0: unlimited
    int64_t next_prune_us;                     //  when retention is next applied
    bool verbose;                              //  log every message
    gc_wire_arena_t *arena;                    //  requests are unpacked here; reset once no
                                               //  queued send points into it
    Groupcast__V1__Entry *pub_items;           //  published entries, reused by every batch
    Groupcast__V1__Entry **pub_list;           //  pointers to them
    size_t pub_capacity;                       //  allocated slots in both
    s_send_log_t send_log;                     //  sends not logged yet
    gc_group_reply_fn *reply_fn;               //  reply sink
    gc_group_publish_fn *publish_fn;           //  publish sink
    void *sink_arg;                            //  passed to both sinks
    s_stats_t stats;                           //  figures for Stats requests
};

static void s_log_sends (gc_group_t *self, bool force);

static void
s_member_destroy (void **item)
{
    free (*item);
    *item = NULL;
}

static void
s_digest (const uint8_t *token, uint8_t *digest)
{
    zdigest_t *sha = zdigest_new ();
    assert (sha);
    zdigest_update (sha, token, GC_TOKEN_SIZE);
    memcpy (digest, zdigest_data (sha), GC_DIGEST_SIZE);
    zdigest_destroy (&sha);
}

//  Compares without an early exit, so timing does not tell how much of a secret matched.
static bool
s_equal (const uint8_t *a, const uint8_t *b, size_t size)
{
    uint8_t diff = 0;
    for (size_t i = 0; i < size; i++) {
        diff |= a[i] ^ b[i];
    }
    return diff == 0;
}

static void
s_load_member (void *arg, const gc_store_member_t *stored)
{
    gc_group_t *self = (gc_group_t *) arg;
    s_member_t *member = (s_member_t *) calloc (1, sizeof (s_member_t));
    assert (member);
    snprintf (member->id, sizeof member->id, "%s", stored->id);
    snprintf (member->name, sizeof member->name, "%s", stored->name ? stored->name : "");
    member->joined_us = stored->joined_us;
    memcpy (member->token_digest, stored->token_digest, GC_DIGEST_SIZE);
    zhashx_update (self->members, member->id, member);
}

static void
s_load_last_ts (void *arg, const gc_store_entry_t *entry)
{
    ((gc_group_t *) arg)->last_ts_us = entry->ts_us;
}

gc_group_t *
gc_group_new (const char *name, const char *pub_endpoint, gc_store_t **store_p, char *err,
              size_t errlen)
{
    assert (name && pub_endpoint && store_p && *store_p);
    assert (gc_wire_valid_group_name (name));
    gc_group_t *self = (gc_group_t *) calloc (1, sizeof (gc_group_t));
    if (!self) {
        gc_store_destroy (store_p);
        snprintf (err, errlen, "cannot create group '%s': out of memory", name);
        return NULL;
    }
    self->store = *store_p;
    *store_p = NULL;
    snprintf (self->name, sizeof self->name, "%s", name);
    snprintf (self->pub_endpoint, sizeof self->pub_endpoint, "%s", pub_endpoint);
    self->max_batch = 4096;
    self->stats.started_us = gc_time_now_us ();
    self->stats.started_ms = zclock_mono ();
    self->members = zhashx_new ();
    self->arena = gc_wire_arena_new (0);
    if (!self->members || !self->arena) {
        snprintf (err, errlen, "cannot create group '%s': out of memory", name);
        goto cleanup;
    }
    zhashx_set_destructor (self->members, s_member_destroy);
    if (gc_store_members (self->store, s_load_member, self, err, errlen) != 0) {
        goto cleanup;
    }
    self->last_seq = gc_store_last_seq (self->store);
    char *id = gc_store_meta_get (self->store, "group_id");
    if (id && gc_wire_valid_uuid (id)) {
        snprintf (self->group_id, sizeof self->group_id, "%s", id);
    }
    else {
        gc_wire_new_uuid (self->group_id);
        if (gc_store_meta_set (self->store, "group_id", self->group_id, err, errlen) != 0) {
            free (id);
            goto cleanup;
        }
    }
    free (id);
    //  The last timestamp, so timestamps stay non-decreasing across restarts.
    if (self->last_seq > 0) {
        gc_store_query_t query = {0};
        query.limit = 1;
        query.newest = true;
        bool more = false;
        if (gc_store_fetch (self->store, &query, s_load_last_ts, self, &more, err, errlen) != 0) {
            goto cleanup;
        }
    }
    return self;

cleanup:
    gc_group_destroy (&self);
    return NULL;
}

void
gc_group_destroy (gc_group_t **self_p)
{
    assert (self_p);
    gc_group_t *self = *self_p;
    if (self) {
        //  A group is destroyed after its last flush; a pending send here is a caller bug.
        assert (self->pending_count == 0);
        s_log_sends (self, true);
        zhashx_destroy (&self->members);
        gc_wire_arena_destroy (&self->arena);
        free (self->pub_items);
        free (self->pub_list);
        gc_store_destroy (&self->store);
        free (self->pending);
        free (self->ack_seqs);
        free (self->ack_ts);
        free (self->batch);
        free (self);
        *self_p = NULL;
    }
}

void
gc_group_set_sinks (gc_group_t *self, gc_group_reply_fn *reply, gc_group_publish_fn *publish,
                    void *arg)
{
    assert (self);
    self->reply_fn = reply;
    self->publish_fn = publish;
    self->sink_arg = arg;
}

void
gc_group_set_max_batch (gc_group_t *self, size_t max_batch)
{
    assert (self && max_batch > 0);
    self->max_batch = max_batch;
}

void
gc_group_set_retention (gc_group_t *self, uint64_t messages, int64_t age_us)
{
    assert (self);
    self->retain_messages = messages;
    self->retain_age_us = age_us;
}

void
gc_group_set_verbose (gc_group_t *self, bool verbose)
{
    assert (self);
    self->verbose = verbose;
}

const char *
gc_group_name (gc_group_t *self)
{
    assert (self);
    return self->name;
}

const char *
gc_group_id (gc_group_t *self)
{
    assert (self);
    return self->group_id;
}

uint64_t
gc_group_last_seq (gc_group_t *self)
{
    assert (self);
    return self->last_seq;
}

size_t
gc_group_member_count (gc_group_t *self)
{
    assert (self);
    return zhashx_size (self->members);
}

//  --------------------------------------------------------------------------------------------
//  Replies

static void
s_send_reply (gc_group_t *self, void *cookie, gc_group_reply_t *reply)
{
    if (reply->group && reply->group[0]) {
        //  Every reply but a send's ack names the instance, so a client can tell a restarted
        //  --memory group (counting from 1 again) from the one it knew.
        reply->group_id = self->group_id;
    }
    zframe_t *frame = gc_wire_pack (&reply->base);
    assert (self->reply_fn);
    //  Out of memory leaves frame NULL; the sink still gets its cookie back to free it.
    self->reply_fn (self->sink_arg, cookie, &frame);
    zframe_destroy (&frame);
}

static void
s_reply_error (gc_group_t *self, void *cookie, uint64_t request_id, gc_status_t status,
               const char *error)
{
    gc_group_reply_t reply = GROUPCAST__V1__GROUP_REPLY__INIT;
    reply.request_id = request_id;
    reply.status = (Groupcast__V1__Status) status;
    reply.error = (char *) error;
    reply.group = self->name;
    s_send_reply (self, cookie, &reply);
}

//  Makes room for count entries in the publish arrays. Returns 0 or -1.
static int
s_reserve_publish (gc_group_t *self, size_t count)
{
    if (count <= self->pub_capacity) {
        return 0;
    }
    size_t capacity = self->pub_capacity ? self->pub_capacity : 256;
    while (capacity < count) {
        capacity *= 2;
    }
    Groupcast__V1__Entry *items = realloc (self->pub_items, capacity * sizeof *items);
    if (!items) {
        return -1;
    }
    self->pub_items = items;
    Groupcast__V1__Entry **list = realloc (self->pub_list, capacity * sizeof *list);
    if (!list) {
        return -1;
    }
    self->pub_list = list;
    self->pub_capacity = capacity;
    return 0;
}

static void
s_publish (gc_group_t *self, const gc_store_entry_t *entries, size_t count)
{
    if (s_reserve_publish (self, count) != 0) {
        //  Listeners repair the gap from history; the entries are stored.
        zsys_error ("cannot publish %zu entries of group '%s': out of memory", count,
                    self->name);
        return;
    }
    Groupcast__V1__Entry *items = self->pub_items;
    Groupcast__V1__Entry **list = self->pub_list;
    for (size_t i = 0; i < count; i++) {
        groupcast__v1__entry__init (&items[i]);
        items[i].seq = entries[i].seq;
        items[i].ts_us = entries[i].ts_us;
        items[i].kind = (Groupcast__V1__EntryKind) entries[i].kind;
        items[i].sender = (char *) entries[i].sender;
        items[i].name = (char *) (entries[i].name ? entries[i].name : "");
        items[i].text.data = (uint8_t *) entries[i].text;
        items[i].text.len = entries[i].text_len;
        list[i] = &items[i];
    }
    gc_publish_t publish = GROUPCAST__V1__PUBLISH__INIT;
    publish.group = self->name;
    publish.group_id = self->group_id;
    publish.last_seq = self->last_seq;
    publish.ts_us = gc_time_now_us ();
    publish.entries = list;
    publish.n_entries = count;
    zframe_t *frame = gc_wire_pack (&publish.base);
    if (frame && self->publish_fn) {
        self->publish_fn (self->sink_arg, &frame);
    }
    zframe_destroy (&frame);
}

//  Takes a rate sample, at most one a second (the heartbeat calls this).
static void
s_stats_sample (gc_group_t *self)
{
    s_stats_t *stats = &self->stats;
    int64_t now = zclock_mono ();
    if (stats->samples > 0
        && now - stats->sample_ms[(stats->samples - 1) % GC_STATS_SAMPLES] < 1000) {
        return;
    }
    stats->sample_ms[stats->samples % GC_STATS_SAMPLES] = now;
    stats->sample_messages[stats->samples % GC_STATS_SAMPLES] = stats->messages;
    stats->samples++;
}

void
gc_group_set_subscribers (gc_group_t *self, size_t count)
{
    assert (self);
    self->stats.subscribers = count;
}

void
gc_group_heartbeat (gc_group_t *self)
{
    assert (self);
    s_stats_sample (self);
    s_publish (self, NULL, 0);
    s_log_sends (self, false);
}

//  --------------------------------------------------------------------------------------------
//  Membership and authorisation

//  Checks that the request's sender is a member holding the token it joined with. `action`
//  completes "cannot ... group 'x'" in the error ("send in", "leave"). Returns the member, or
//  NULL after replying with the error.
static s_member_t *
s_authorize (gc_group_t *self, gc_group_request_t *req, void *cookie, const char *action)
{
    s_member_t *member = (s_member_t *) zhashx_lookup (self->members, req->sender);
    char error[256];
    if (!member) {
        snprintf (error, sizeof error, "cannot %s group '%s': %s is not a member", action,
                  self->name, req->sender);
        zsys_warning ("REFUSED %s FROM %s: not a member", action, req->sender);
        s_reply_error (self, cookie, req->request_id, GC_NOT_MEMBER, error);
        return NULL;
    }
    bool match = false;
    if (member->token_known) {
        match = s_equal (member->token, req->token.data, GC_TOKEN_SIZE);
    }
    else {
        uint8_t digest[GC_DIGEST_SIZE];
        s_digest (req->token.data, digest);
        match = s_equal (digest, member->token_digest, GC_DIGEST_SIZE);
        if (match) {
            memcpy (member->token, req->token.data, GC_TOKEN_SIZE);
            member->token_known = true;
        }
    }
    if (!match) {
        snprintf (error, sizeof error,
                  "cannot %s group '%s': %s is bound to another key", action, self->name,
                  req->sender);
        zsys_warning ("REFUSED %s FROM %s: token mismatch", action, req->sender);
        s_reply_error (self, cookie, req->request_id, GC_FORBIDDEN, error);
        return NULL;
    }
    return member;
}

//  A timestamp after floor_us: the clock, or floor_us + 1 when the clock has not moved past it
//  (several entries in one microsecond, or a clock stepped back). Strictly increasing, so a
//  time bound (--since) never splits entries that share a microsecond.
static int64_t
s_next_ts (int64_t floor_us)
{
    int64_t now = gc_time_now_us ();
    return now > floor_us ? now : floor_us + 1;
}

//  The reply to a join or leave: the entry made (seq 0: none), where to subscribe, and the
//  range of history held.
static void
s_reply_membership (gc_group_t *self, void *cookie, uint64_t request_id, uint64_t seq,
                    int64_t ts_us)
{
    gc_group_reply_t reply = GROUPCAST__V1__GROUP_REPLY__INIT;
    reply.request_id = request_id;
    reply.seq = seq;
    reply.ts_us = ts_us;
    reply.last_seq = self->last_seq;
    reply.first_seq = gc_store_first_seq (self->store);
    reply.group = self->name;
    reply.pub_endpoint = self->pub_endpoint;
    s_send_reply (self, cookie, &reply);
}

//  Commits one membership entry by itself and replies; members change only after the commit.
static void
s_commit_membership (gc_group_t *self, gc_group_request_t *req, void *cookie,
                     gc_store_entry_t *entry)
{
    char err[256] = "";
    entry->seq = self->last_seq + 1;
    entry->ts_us = s_next_ts (self->last_ts_us);
    snprintf (entry->sender, sizeof entry->sender, "%s", req->sender);
    if (gc_store_append (self->store, entry, 1, err, sizeof err) != 0) {
        zsys_error ("cannot store %s of %s in group '%s': %s",
                    entry->kind == GC_ENTRY_JOIN ? "join" : "leave", req->sender, self->name,
                    err);
        char error[512];
        snprintf (error, sizeof error, "cannot store membership change: %s", err);
        s_reply_error (self, cookie, req->request_id, GC_STORE_FAILED, error);
        return;
    }
    self->last_seq = entry->seq;
    self->last_ts_us = entry->ts_us;
    if (entry->kind == GC_ENTRY_JOIN) {
        s_member_t *member = (s_member_t *) zhashx_lookup (self->members, req->sender);
        if (!member) {
            member = (s_member_t *) calloc (1, sizeof (s_member_t));
            assert (member);
            snprintf (member->id, sizeof member->id, "%s", req->sender);
            zhashx_insert (self->members, member->id, member);
        }
        snprintf (member->name, sizeof member->name, "%s", entry->name);
        member->joined_us = entry->ts_us;
        memcpy (member->token_digest, entry->token_digest, GC_DIGEST_SIZE);
        memcpy (member->token, req->token.data, GC_TOKEN_SIZE);
        member->token_known = true;
    }
    else {
        zhashx_delete (self->members, req->sender);
    }
    s_publish (self, entry, 1);
    s_reply_membership (self, cookie, req->request_id, entry->seq, entry->ts_us);
}

static void
s_join (gc_group_t *self, gc_group_request_t *req, void *cookie)
{
    zsys_info ("JOIN REQUEST FROM %s name=%s", req->sender, req->join->name);
    s_member_t *member = (s_member_t *) zhashx_lookup (self->members, req->sender);
    //  A member joining again must hold the key it joined with, as for any other request.
    if (member && !s_authorize (self, req, cookie, "join")) {
        return;
    }
    if (member && strcmp (member->name, req->join->name) == 0) {
        //  Already a member under that name: nothing to record.
        s_reply_membership (self, cookie, req->request_id, 0, 0);
        return;
    }
    uint8_t digest[GC_DIGEST_SIZE];
    s_digest (req->token.data, digest);
    gc_store_entry_t entry;
    memset (&entry, 0, sizeof entry);
    entry.kind = GC_ENTRY_JOIN;
    entry.name = req->join->name;
    memcpy (entry.token_digest, digest, GC_DIGEST_SIZE);
    s_commit_membership (self, req, cookie, &entry);
}

static void
s_leave (gc_group_t *self, gc_group_request_t *req, void *cookie)
{
    zsys_info ("LEAVE REQUEST FROM %s", req->sender);
    s_member_t *member = s_authorize (self, req, cookie, "leave");
    if (!member) {
        return;
    }
    //  The member (and its name) is freed by the commit, before the entry is published.
    char name[GC_MAX_NAME + 1];
    snprintf (name, sizeof name, "%s", member->name);
    gc_store_entry_t entry;
    memset (&entry, 0, sizeof entry);
    entry.kind = GC_ENTRY_LEAVE;
    entry.name = name;
    s_commit_membership (self, req, cookie, &entry);
}

//  --------------------------------------------------------------------------------------------
//  Reads

typedef struct {
    Groupcast__V1__Entry *items;   //  copied entries; those before `skip` are already dropped
    size_t count;                  //  how many were copied
    size_t skip;                   //  newest pages: oldest entries dropped to fit the budget
    size_t capacity;               //  allocated
    size_t bytes;                  //  bytes of text in the kept entries
    bool newest;                   //  a newest-first page: trim its oldest entries instead
    bool full;                     //  reached the byte budget: the page ends here
    bool failed;                   //  out of memory
} s_page_t;

static void
s_collect (void *arg, const gc_store_entry_t *stored)
{
    s_page_t *page = (s_page_t *) arg;
    if (page->failed || (page->full && !page->newest)) {
        return;
    }
    //  Always at least one entry per page, so paging makes progress.
    if (!page->newest && page->count > 0
        && page->bytes + stored->text_len > GC_GROUP_MAX_BATCH_BYTES) {
        page->full = true;
        return;
    }
    page->bytes += stored->text_len;
    if (page->count == page->capacity) {
        size_t capacity = page->capacity ? page->capacity * 2 : 64;
        Groupcast__V1__Entry *items = realloc (page->items, capacity * sizeof *items);
        if (!items) {
            page->failed = true;
            return;
        }
        page->items = items;
        page->capacity = capacity;
    }
    //  The store's strings live only during this call: copy name, sender and text in one block.
    size_t name_len = stored->name ? strlen (stored->name) : 0;
    char *block = (char *) malloc (GC_UUID_STR_LEN + 1 + name_len + 1 + stored->text_len + 1);
    if (!block) {
        page->failed = true;
        return;
    }
    Groupcast__V1__Entry *item = &page->items[page->count++];
    groupcast__v1__entry__init (item);
    item->seq = stored->seq;
    item->ts_us = stored->ts_us;
    item->kind = (Groupcast__V1__EntryKind) stored->kind;
    item->sender = block;
    memcpy (block, stored->sender, GC_UUID_STR_LEN + 1);
    item->name = block + GC_UUID_STR_LEN + 1;
    memcpy (item->name, stored->name ? stored->name : "", name_len + 1);
    item->text.data = (uint8_t *) item->name + name_len + 1;
    if (stored->text_len) {
        memcpy (item->text.data, stored->text, stored->text_len);
    }
    item->text.len = stored->text_len;
    //  A newest page keeps the newest entries that fit: memory stays within the budget.
    while (page->newest && page->bytes > GC_GROUP_MAX_BATCH_BYTES
           && page->skip + 1 < page->count) {
        Groupcast__V1__Entry *oldest = &page->items[page->skip++];
        page->bytes -= oldest->text.len;
        free (oldest->sender);
        oldest->sender = NULL;
        page->full = true;
    }
}

static void
s_fetch (gc_group_t *self, gc_group_request_t *req, void *cookie)
{
    zsys_info ("MESSAGE REQUEST FROM %s", req->sender);
    if (!s_authorize (self, req, cookie, "fetch history in")) {
        return;
    }
    const Groupcast__V1__Fetch *fetch = req->fetch;
    gc_store_query_t query;
    memset (&query, 0, sizeof query);
    query.since_us = fetch->since_us;
    query.until_us = fetch->until_us;
    query.after_seq = fetch->after_seq;
    query.before_seq = fetch->before_seq;
    query.limit = fetch->limit == 0 ? GC_FETCH_DEFAULT
                  : fetch->limit > GC_FETCH_MAX ? GC_FETCH_MAX
                                                : fetch->limit;
    query.newest = fetch->newest;

    s_page_t page;
    memset (&page, 0, sizeof page);
    page.newest = query.newest;
    bool more = false;
    char err[256] = "";
    int rc = gc_store_fetch (self->store, &query, s_collect, &page, &more, err, sizeof err);
    //  A trimmed newest page ends at its oldest kept entry: the reader scrolls up with before_seq.
    size_t skip = page.skip;
    if (rc != 0 || page.failed) {
        char error[512];
        snprintf (error, sizeof error, "cannot fetch history of '%s': %s", self->name,
                  rc != 0 ? err : "out of memory");
        zsys_error ("%s", error);
        s_reply_error (self, cookie, req->request_id, GC_STORE_FAILED, error);
    }
    else {
        Groupcast__V1__Entry **list = page.count ? malloc (page.count * sizeof *list) : NULL;
        if (page.count && !list) {
            s_reply_error (self, cookie, req->request_id, GC_INTERNAL, "out of memory");
        }
        else {
            for (size_t i = skip; i < page.count; i++) {
                list[i - skip] = &page.items[i];
            }
            gc_group_reply_t reply = GROUPCAST__V1__GROUP_REPLY__INIT;
            reply.request_id = req->request_id;
            reply.last_seq = self->last_seq;
            reply.first_seq = gc_store_first_seq (self->store);
            reply.group = self->name;
            reply.entries = list;
            reply.n_entries = page.count - skip;
            reply.more = more || page.full;
            s_send_reply (self, cookie, &reply);
            free (list);
        }
    }
    for (size_t i = 0; i < page.count; i++) {
        free (page.items[i].sender);
    }
    free (page.items);
}

static int
s_compare_members (const void *a, const void *b)
{
    const Groupcast__V1__Member *x = *(Groupcast__V1__Member *const *) a;
    const Groupcast__V1__Member *y = *(Groupcast__V1__Member *const *) b;
    return strcmp (x->id, y->id);
}

static void
s_members (gc_group_t *self, gc_group_request_t *req, void *cookie)
{
    zsys_info ("MEMBERS REQUEST FROM %s", req->sender);
    if (!s_authorize (self, req, cookie, "list members in")) {
        return;
    }
    size_t count = zhashx_size (self->members);
    Groupcast__V1__Member *items = calloc (count ? count : 1, sizeof *items);
    Groupcast__V1__Member **list = calloc (count ? count : 1, sizeof *list);
    if (!items || !list) {
        s_reply_error (self, cookie, req->request_id, GC_INTERNAL, "out of memory");
    }
    else {
        size_t i = 0;
        for (s_member_t *member = (s_member_t *) zhashx_first (self->members); member;
             member = (s_member_t *) zhashx_next (self->members)) {
            groupcast__v1__member__init (&items[i]);
            items[i].id = member->id;
            items[i].name = member->name;
            items[i].joined_us = member->joined_us;
            list[i] = &items[i];
            i++;
        }
        qsort (list, count, sizeof *list, s_compare_members);
        gc_group_reply_t reply = GROUPCAST__V1__GROUP_REPLY__INIT;
        reply.request_id = req->request_id;
        reply.last_seq = self->last_seq;
        reply.group = self->name;
        reply.members = list;
        reply.n_members = count;
        s_send_reply (self, cookie, &reply);
    }
    free (items);
    free (list);
}

static void
s_info (gc_group_t *self, gc_group_request_t *req, void *cookie)
{
    gc_group_reply_t reply = GROUPCAST__V1__GROUP_REPLY__INIT;
    reply.request_id = req->request_id;
    reply.last_seq = self->last_seq;
    reply.first_seq = gc_store_first_seq (self->store);
    reply.group = self->name;
    reply.pub_endpoint = self->pub_endpoint;
    reply.member_count = zhashx_size (self->members);
    s_send_reply (self, cookie, &reply);
}

//  A member asks for the group's figures. The rate runs from the oldest sample in the ring
//  (about ten seconds back), or from the start while there are too few.
static void
s_stats (gc_group_t *self, gc_group_request_t *req, void *cookie)
{
    zsys_info ("STATS REQUEST FROM %s", req->sender);
    if (!s_authorize (self, req, cookie, "ask for statistics in")) {
        return;
    }
    const s_stats_t *stats = &self->stats;
    int64_t now = zclock_mono ();
    int64_t since_ms = stats->started_ms;
    uint64_t since_messages = 0;
    if (stats->samples >= GC_STATS_SAMPLES) {
        since_ms = stats->sample_ms[stats->samples % GC_STATS_SAMPLES];
        since_messages = stats->sample_messages[stats->samples % GC_STATS_SAMPLES];
    }
    gc_group_reply_t reply = GROUPCAST__V1__GROUP_REPLY__INIT;
    reply.request_id = req->request_id;
    reply.last_seq = self->last_seq;
    reply.first_seq = gc_store_first_seq (self->store);
    reply.group = self->name;
    reply.member_count = zhashx_size (self->members);
    reply.message_count = stats->messages;
    reply.byte_count = stats->bytes;
    //  At least a second, so a group just started does not extrapolate from a few messages.
    int64_t span_ms = now - since_ms > 1000 ? now - since_ms : 1000;
    reply.message_rate = (double) (stats->messages - since_messages) * 1000.0 / (double) span_ms;
    reply.subscriber_count = stats->subscribers;
    reply.started_us = stats->started_us;
    reply.uptime_ms = now - stats->started_ms;
    s_send_reply (self, cookie, &reply);
}

//  --------------------------------------------------------------------------------------------
//  Sends

static void
s_reply_ack (gc_group_t *self, void *cookie, uint64_t request_id, uint64_t seq, int64_t ts_us)
{
    //  The same bytes as gc_wire_pack of a GroupReply with these four fields, at a fraction of
    //  the cost: one of these goes out per message.
    uint8_t ack[GC_WIRE_ACK_MAX];
    size_t size = gc_wire_pack_ack (ack, request_id, seq, ts_us, self->last_seq);
    zframe_t *frame = zframe_new (ack, size);
    assert (self->reply_fn);
    //  Out of memory leaves frame NULL; the sink still gets its cookie back to free it.
    self->reply_fn (self->sink_arg, cookie, &frame);
    zframe_destroy (&frame);
}

//  Acknowledges a committed SendBatch: one reply listing each message's seq and timestamp.
static void
s_reply_batch_ack (gc_group_t *self, const s_pending_t *pending)
{
    gc_group_reply_t reply = GROUPCAST__V1__GROUP_REPLY__INIT;
    reply.request_id = pending->request_id;
    reply.last_seq = self->last_seq;
    reply.n_seqs = pending->count;
    reply.seqs = &self->ack_seqs[pending->first];
    reply.n_ts_list = pending->count;
    reply.ts_list = &self->ack_ts[pending->first];
    s_send_reply (self, pending->cookie, &reply);
}

//  For a retried message: the original's seq and ts if it is stored or queued. Returns 1 found,
//  0 not found, -1 storage error.
static int
s_find_retry (gc_group_t *self, const char *sender, const uint8_t *id, uint64_t *seq,
              int64_t *ts_us)
{
    for (size_t i = 0; i < self->batch_count; i++) {
        const gc_store_entry_t *entry = &self->batch[i];
        if (entry->has_msg_id && memcmp (entry->msg_id, id, GC_MSG_ID_SIZE) == 0
            && strcmp (entry->sender, sender) == 0) {
            *seq = entry->seq;
            *ts_us = entry->ts_us;
            return 1;
        }
    }
    return gc_store_find_msg_id (self->store, sender, id, seq, ts_us);
}

//  Makes room for `more` items in an array of *capacity items of `size` bytes holding `count`.
//  Returns 0 or -1 (the array is unchanged then).
static int
s_grow (void **array, size_t *capacity, size_t count, size_t more, size_t size)
{
    if (count + more <= *capacity) {
        return 0;
    }
    size_t grown = *capacity ? *capacity : 256;
    while (grown < count + more) {
        grown *= 2;
    }
    void *bigger = realloc (*array, grown * size);
    if (!bigger) {
        return -1;
    }
    *array = bigger;
    *capacity = grown;
    return 0;
}

//  Room for one more pending request carrying `messages` messages. Returns 0 or -1.
static int
s_reserve (gc_group_t *self, size_t messages)
{
    //  ack_seqs and ack_ts share ack_capacity, which grows only once both have grown.
    size_t acks = self->ack_capacity;
    if (s_grow ((void **) &self->pending, &self->pending_capacity, self->pending_count, 1,
                sizeof *self->pending)
            != 0
        || s_grow ((void **) &self->batch, &self->batch_capacity, self->batch_count, messages,
                   sizeof *self->batch)
               != 0
        || s_grow ((void **) &self->ack_seqs, &acks, self->ack_count, messages,
                   sizeof *self->ack_seqs)
               != 0
        || s_grow ((void **) &self->ack_ts, &self->ack_capacity, self->ack_count, messages,
                   sizeof *self->ack_ts)
               != 0) {
        return -1;
    }
    return 0;
}

//  Queues one message of member's for the next commit (space is reserved): a new entry, or, for
//  a retry of a message already stored or queued, the original's seq and timestamp. The entry
//  borrows the text, which stays in the arena until the commit. Returns 0, or -1 when the
//  retry lookup failed.
static int
s_queue_message (gc_group_t *self, const s_member_t *member, const Groupcast__V1__Send *send)
{
    bool has_id = send->client_msg_id.len == GC_MSG_ID_SIZE;
    uint64_t seq = 0;
    int64_t ts_us = 0;
    if (has_id && send->retry) {
        int found = s_find_retry (self, member->id, send->client_msg_id.data, &seq, &ts_us);
        if (found < 0) {
            return -1;
        }
    }
    if (seq == 0) {
        size_t index = self->batch_count++;
        gc_store_entry_t *entry = &self->batch[index];
        int64_t floor_us = index ? self->batch[index - 1].ts_us : self->last_ts_us;
        entry->seq = seq = self->last_seq + index + 1;
        entry->ts_us = ts_us = s_next_ts (floor_us);
        entry->kind = GC_ENTRY_MESSAGE;
        memcpy (entry->sender, member->id, sizeof entry->sender);
        entry->name = member->name;
        entry->text = send->text.data;
        entry->text_len = send->text.len;
        entry->has_msg_id = has_id;
        if (has_id) {
            memcpy (entry->msg_id, send->client_msg_id.data, GC_MSG_ID_SIZE);
        }
        self->batch_bytes += entry->text_len;
    }
    self->ack_seqs[self->ack_count] = seq;
    self->ack_ts[self->ack_count++] = ts_us;
    return 0;
}

//  Queues a Send (one message) or a SendBatch (several) for the next commit, all of its
//  messages or none. A single retried message that is already stored is acknowledged at once.
static void
s_send (gc_group_t *self, gc_group_request_t *req, void *cookie)
{
    s_member_t *member = s_authorize (self, req, cookie, "send in");
    if (!member) {
        return;
    }
    bool batch = req->body_case == GROUPCAST__V1__GROUP_REQUEST__BODY_SEND_BATCH;
    Groupcast__V1__Send **sends = batch ? req->send_batch->sends : &req->send;
    size_t count = batch ? req->send_batch->n_sends : 1;
    if (s_reserve (self, count) != 0) {
        s_reply_error (self, cookie, req->request_id, GC_INTERNAL, "out of memory");
        return;
    }
    s_pending_t *pending = &self->pending[self->pending_count];
    pending->cookie = cookie;
    pending->request_id = req->request_id;
    pending->first = self->ack_count;
    pending->count = count;
    pending->batch = batch;
    size_t batch_count = self->batch_count, batch_bytes = self->batch_bytes;
    for (size_t i = 0; i < count; i++) {
        if (s_queue_message (self, member, sends[i]) != 0) {
            //  Nothing of this request stays queued.
            self->batch_count = batch_count;
            self->batch_bytes = batch_bytes;
            self->ack_count = pending->first;
            s_reply_error (self, cookie, req->request_id, GC_STORE_FAILED,
                           "cannot look up a retried message");
            return;
        }
    }
    if (!batch && self->ack_seqs[pending->first] <= self->last_seq) {
        self->ack_count = pending->first;
        s_reply_ack (self, cookie, req->request_id, self->ack_seqs[pending->first],
                     self->ack_ts[pending->first]);
        return;
    }
    self->pending_count++;
}

//  Counts a committed batch for the send log.
static void
s_count_sends (gc_group_t *self)
{
    s_send_log_t *log = &self->send_log;
    for (size_t i = 0; i < self->batch_count; i++) {
        const char *sender = self->batch[i].sender;
        size_t k = 0;
        while (k < log->distinct && strcmp (log->senders[k], sender) != 0) {
            k++;
        }
        if (k < log->distinct) {
            log->counts[k]++;
        }
        else if (log->distinct < GC_LOG_SENDERS) {
            memcpy (log->senders[log->distinct], sender, GC_UUID_STR_LEN + 1);
            log->counts[log->distinct++] = 1;
        }
        else {
            log->others++;
        }
    }
}

//  Logs the teaching project's MESSAGE SEND FROM, one line per distinct sender per second (and
//  at exit, with force), instead of one per message or per batch: at full speed a batch is
//  committed every few hundred microseconds, and a line per batch cost a formatted write to
//  stderr each time on the message path.
static void
s_log_sends (gc_group_t *self, bool force)
{
    s_send_log_t *log = &self->send_log;
    if (log->distinct == 0) {
        return;
    }
    int64_t now = gc_time_now_us ();
    if (!force && now < log->next_us) {
        return;
    }
    for (size_t k = 0; k < log->distinct; k++) {
        zsys_info ("MESSAGE SEND FROM %s count=%zu last_seq=%" PRIu64, log->senders[k],
                   log->counts[k], self->last_seq);
    }
    if (log->others) {
        zsys_info ("MESSAGE SEND FROM others count=%zu", log->others);
    }
    log->distinct = 0;
    log->others = 0;
    log->next_us = now + GC_LOG_INTERVAL_US;
}

static void
s_apply_retention (gc_group_t *self)
{
    if (!self->retain_messages && !self->retain_age_us) {
        return;
    }
    int64_t now = gc_time_now_us ();
    if (now < self->next_prune_us) {
        return;
    }
    self->next_prune_us = now + 1000000;
    uint64_t keep_seq = 0;
    if (self->retain_messages && self->last_seq > self->retain_messages) {
        keep_seq = self->last_seq - self->retain_messages + 1;
    }
    int64_t keep_us = self->retain_age_us ? now - self->retain_age_us : 0;
    char err[256];
    int64_t dropped = gc_store_prune (self->store, keep_seq, keep_us, err, sizeof err);
    if (dropped < 0) {
        zsys_error ("cannot apply retention to group '%s': %s", self->name, err);
    }
    else if (dropped > 0) {
        zsys_info ("RETENTION dropped=%" PRId64 " first_seq=%" PRIu64, dropped,
                   gc_store_first_seq (self->store));
    }
}

void
gc_group_flush (gc_group_t *self)
{
    assert (self);
    if (self->pending_count == 0) {
        return;
    }
    char err[256] = "";
    int rc = 0;
    if (self->batch_count > 0) {
        rc = gc_store_append (self->store, self->batch, self->batch_count, err, sizeof err);
    }
    if (rc == 0 && self->batch_count > 0) {
        self->last_seq += self->batch_count;
        self->last_ts_us = self->batch[self->batch_count - 1].ts_us;
        self->stats.messages += self->batch_count;
        self->stats.bytes += self->batch_bytes;
        //  Listeners first: the batch is committed, and they wait on no one else.
        s_publish (self, self->batch, self->batch_count);
        s_count_sends (self);
        s_log_sends (self, false);
        for (size_t i = 0; self->verbose && i < self->batch_count; i++) {
            zsys_debug ("MESSAGE seq=%" PRIu64 " sender=%s bytes=%zu", self->batch[i].seq,
                        self->batch[i].sender, self->batch[i].text_len);
        }
    }
    else if (rc != 0) {
        zsys_error ("cannot store %zu messages in group '%s': %s", self->batch_count,
                    self->name, err);
    }
    char error[512];
    snprintf (error, sizeof error, "message not stored: %s", err);
    for (size_t i = 0; i < self->pending_count; i++) {
        const s_pending_t *pending = &self->pending[i];
        if (rc != 0) {
            s_reply_error (self, pending->cookie, pending->request_id, GC_STORE_FAILED, error);
        }
        else if (pending->batch) {
            s_reply_batch_ack (self, pending);
        }
        else {
            s_reply_ack (self, pending->cookie, pending->request_id,
                         self->ack_seqs[pending->first], self->ack_ts[pending->first]);
        }
    }
    self->pending_count = 0;
    self->ack_count = 0;
    self->batch_count = 0;
    self->batch_bytes = 0;
    s_apply_retention (self);
}

//  True when the turn's batch, with `count` more entries holding `bytes` of text, would be full:
//  max_batch entries, or a published frame of GC_GROUP_MAX_BATCH_BYTES (text and per-entry
//  overhead). With count 0: whether it is full already.
static bool
s_over (gc_group_t *self, size_t count, size_t bytes)
{
    size_t entries = self->batch_count + count;
    size_t size = self->batch_bytes + bytes + entries * GC_GROUP_ENTRY_OVERHEAD;
    if (count == 0) {
        return entries >= self->max_batch || size >= GC_GROUP_MAX_BATCH_BYTES;
    }
    return entries > self->max_batch || size > GC_GROUP_MAX_BATCH_BYTES;
}

//  Bytes of text in a (validated) SendBatch.
static size_t
s_batch_bytes (const Groupcast__V1__SendBatch *batch)
{
    size_t bytes = 0;
    for (size_t i = 0; i < batch->n_sends; i++) {
        bytes += batch->sends[i]->text.len;
    }
    return bytes;
}

void
gc_group_request (gc_group_t *self, const uint8_t *data, size_t size, void *cookie)
{
    assert (self && self->reply_fn);
    //  Queued sends point into the arena until their flush; once none is left, every earlier
    //  request is done with and its memory can serve this one. A turn under a steady stream of
    //  batches may never see that moment (a batch that fills the turn is queued right after
    //  the flush it causes), so a full arena commits what is queued first.
    if (self->pending_count > 0 && gc_wire_arena_used (self->arena) >= GC_GROUP_ARENA_FLUSH) {
        gc_group_flush (self);
    }
    if (self->pending_count == 0) {
        gc_wire_arena_reset (self->arena);
    }
    char err[256] = "";
    uint64_t request_id = 0;
    gc_status_t status = GC_OK;
    gc_group_request_t *req = gc_wire_group_request_unpack_with (
        data, size, gc_wire_arena_allocator (self->arena), &request_id, &status, err, sizeof err);
    if (!req) {
        zsys_warning ("BAD REQUEST to group '%s': %s", self->name, err);
        s_reply_error (self, cookie, request_id, status, err);
        return;
    }
    if (req->group[0] && strcmp (req->group, self->name) != 0) {
        //  A client whose group moved may reach whatever now listens on the old port.
        snprintf (err, sizeof err, "this is group '%s', not '%s'", self->name, req->group);
        s_reply_error (self, cookie, req->request_id, GC_NOT_FOUND, err);
        return;   //  req lives in the arena: nothing to free
    }
    switch (req->body_case) {
    case GROUPCAST__V1__GROUP_REQUEST__BODY_SEND:
    case GROUPCAST__V1__GROUP_REQUEST__BODY_SEND_BATCH:
        //  Sends that would take this turn over its limits go in the next one (a turn that
        //  is full is committed after each request, so this matters for batches only).
        if (req->body_case == GROUPCAST__V1__GROUP_REQUEST__BODY_SEND_BATCH
            && s_over (self, req->send_batch->n_sends, s_batch_bytes (req->send_batch))) {
            gc_group_flush (self);
        }
        s_send (self, req, cookie);
        if (s_over (self, 0, 0)) {
            gc_group_flush (self);
        }
        break;
    case GROUPCAST__V1__GROUP_REQUEST__BODY_JOIN:
        //  Membership and reads see every send queued before them.
        gc_group_flush (self);
        s_join (self, req, cookie);
        break;
    case GROUPCAST__V1__GROUP_REQUEST__BODY_LEAVE:
        gc_group_flush (self);
        s_leave (self, req, cookie);
        break;
    case GROUPCAST__V1__GROUP_REQUEST__BODY_FETCH:
        gc_group_flush (self);
        s_fetch (self, req, cookie);
        break;
    case GROUPCAST__V1__GROUP_REQUEST__BODY_MEMBERS:
        gc_group_flush (self);
        s_members (self, req, cookie);
        break;
    case GROUPCAST__V1__GROUP_REQUEST__BODY_INFO:
        s_info (self, req, cookie);
        break;
    case GROUPCAST__V1__GROUP_REQUEST__BODY_STATS:
        gc_group_flush (self);
        s_stats (self, req, cookie);
        break;
    default:
        //  gc_wire refuses unknown bodies; reaching here is a bug.
        assert (false);
        break;
    }
    //  Nothing to free: req lives in the arena (s_send keeps it there until the flush).
}
