/*  test_group - gc_group over a memory store: membership, tokens, group commit of sends, history
    queries, idempotent retries, malformed input, storage failures and restarts
    SPDX-License-Identifier: MPL-2.0

    The group runs over a probe store: a gc_store_wrap backend that delegates to a memory store,
    counts commits and fails appends on demand. The reply and publish sinks decode every frame
    into arrays; cookies are request numbers cast to pointers, and every case ends by checking
    that each cookie came back exactly once, with its own request id.
*/
#include "gc_group.h"
#include "gc_store_impl.h"
#include "gc_test.h"
#include "gc_wire.h"

#define PUB_ENDPOINT "tcp://127.0.0.1:6602"

//  --------------------------------------------------------------------------------------------
//  The probe store

typedef struct {
    gc_store_t *inner;   //  the memory store doing the work, owned by the fixture
    size_t appends;      //  append calls that reached the backend
    size_t commits;      //  of those, how many succeeded
    bool fail_append;    //  make appends fail (nothing stored)
    bool fail_find;      //  make message id lookups fail (a storage error)
    bool destroyed;      //  the wrapping gc_store_t was destroyed
} probe_t;

static void
s_probe_destroy (void *impl)
{
    //  The fixture owns both probe and inner store, so a group can be restarted over them.
    ((probe_t *) impl)->destroyed = true;
}

static uint64_t
s_probe_last_seq (void *impl)
{
    return gc_store_last_seq (((probe_t *) impl)->inner);
}

static uint64_t
s_probe_first_seq (void *impl)
{
    return gc_store_first_seq (((probe_t *) impl)->inner);
}

static int
s_probe_append (void *impl, const gc_store_entry_t *entries, size_t count, char *err,
                size_t errlen)
{
    probe_t *probe = (probe_t *) impl;
    probe->appends++;
    if (probe->fail_append) {
        snprintf (err, errlen, "injected failure: disk full");
        return -1;
    }
    int rc = gc_store_append (probe->inner, entries, count, err, errlen);
    if (rc == 0) {
        probe->commits++;
    }
    return rc;
}

static int
s_probe_find_msg_id (void *impl, const char *sender, const uint8_t *msg_id, uint64_t *seq,
                     int64_t *ts_us)
{
    probe_t *probe = (probe_t *) impl;
    if (probe->fail_find) {
        return -1;
    }
    return gc_store_find_msg_id (probe->inner, sender, msg_id, seq, ts_us);
}

static int
s_probe_fetch (void *impl, const gc_store_query_t *query, gc_store_entry_fn *fn, void *arg,
               bool *more, char *err, size_t errlen)
{
    return gc_store_fetch (((probe_t *) impl)->inner, query, fn, arg, more, err, errlen);
}

static int
s_probe_members (void *impl, gc_store_member_fn *fn, void *arg, char *err, size_t errlen)
{
    return gc_store_members (((probe_t *) impl)->inner, fn, arg, err, errlen);
}

static int64_t
s_probe_prune (void *impl, uint64_t keep_from_seq, int64_t keep_from_us, char *err,
               size_t errlen)
{
    return gc_store_prune (((probe_t *) impl)->inner, keep_from_seq, keep_from_us, err, errlen);
}

static char *
s_probe_meta_get (void *impl, const char *key)
{
    return gc_store_meta_get (((probe_t *) impl)->inner, key);
}

static int
s_probe_meta_set (void *impl, const char *key, const char *value, char *err, size_t errlen)
{
    return gc_store_meta_set (((probe_t *) impl)->inner, key, value, err, errlen);
}

static const gc_store_ops_t s_probe_ops = {
    .destroy = s_probe_destroy,
    .last_seq = s_probe_last_seq,
    .first_seq = s_probe_first_seq,
    .append = s_probe_append,
    .find_msg_id = s_probe_find_msg_id,
    .fetch = s_probe_fetch,
    .members = s_probe_members,
    .prune = s_probe_prune,
    .meta_get = s_probe_meta_get,
    .meta_set = s_probe_meta_set,
};

//  --------------------------------------------------------------------------------------------
//  The fixture: a group, its probe store, and what its sinks received

typedef struct {
    size_t cookie;             //  the cookie it came with
    gc_group_reply_t *reply;   //  decoded reply, NULL if the frame was missing or malformed
} captured_t;

typedef struct {
    gc_group_t *group;         //  the group under test
    probe_t probe;             //  its store (wrapped)
    gc_store_t *inner;         //  the memory store behind the probe
    captured_t *replies;       //  every reply, in order
    size_t n_replies;
    size_t cap_replies;
    gc_publish_t **pubs;       //  every published frame, decoded, in order
    size_t n_pubs;
    size_t cap_pubs;
    unsigned *delivered;       //  by cookie: how many times the reply sink got it
    uint64_t *expected_rid;    //  by cookie: the request id its reply must carry
    size_t n_cookies;          //  cookies handed out are 1 .. n_cookies - 1
    size_t cap_cookies;
    size_t stray;              //  cookies the sink got that were never handed out
    size_t bad_frames;         //  frames the sinks could not decode
    size_t max_frame;          //  bytes of the largest published frame
} fixture_t;

typedef struct {
    char id[GC_UUID_STR_LEN + 1];    //  user UUID
    uint8_t token[GC_TOKEN_SIZE];    //  its secret
} user_t;

static void *
s_grow (void *array, size_t *cap, size_t need, size_t item_size)
{
    if (need <= *cap) {
        return array;
    }
    size_t cap_new = *cap ? *cap * 2 : 64;
    while (cap_new < need) {
        cap_new *= 2;
    }
    void *grown = realloc (array, cap_new * item_size);
    if (!grown) {
        fprintf (stderr, "test_group: out of memory\n");
        abort ();
    }
    *cap = cap_new;
    return grown;
}

static void
s_on_reply (void *arg, void *cookie, zframe_t **reply_p)
{
    fixture_t *fx = (fixture_t *) arg;
    size_t c = (size_t) (uintptr_t) cookie;
    if (c == 0 || c >= fx->n_cookies) {
        fx->stray++;
    }
    else {
        fx->delivered[c]++;
    }
    gc_group_reply_t *reply = NULL;
    if (reply_p && *reply_p) {
        char err[256];
        reply = gc_wire_group_reply_unpack (zframe_data (*reply_p), zframe_size (*reply_p), err,
                                            sizeof err);
        if (!reply) {
            fprintf (stderr, "reply does not unpack: %s\n", err);
        }
    }
    if (!reply) {
        fx->bad_frames++;
    }
    fx->replies = s_grow (fx->replies, &fx->cap_replies, fx->n_replies + 1, sizeof *fx->replies);
    fx->replies[fx->n_replies].cookie = c;
    fx->replies[fx->n_replies].reply = reply;
    fx->n_replies++;
    if (reply_p) {
        zframe_destroy (reply_p);
    }
}

static void
s_on_publish (void *arg, zframe_t **frame_p)
{
    fixture_t *fx = (fixture_t *) arg;
    char err[256];
    gc_publish_t *pub = NULL;
    if (frame_p && *frame_p) {
        if (zframe_size (*frame_p) > fx->max_frame) {
            fx->max_frame = zframe_size (*frame_p);
        }
        pub = gc_wire_publish_unpack (zframe_data (*frame_p), zframe_size (*frame_p), NULL, err,
                                      sizeof err);
        if (!pub) {
            fprintf (stderr, "publish frame does not unpack: %s\n", err);
        }
        zframe_destroy (frame_p);
    }
    if (!pub) {
        fx->bad_frames++;
        return;
    }
    fx->pubs = s_grow (fx->pubs, &fx->cap_pubs, fx->n_pubs + 1, sizeof *fx->pubs);
    fx->pubs[fx->n_pubs++] = pub;
}

//  The seqs published in frames from..n_pubs-1 must run first, first + 1, ... without a gap or
//  a repeat. Returns the last one (first - 1 if none was published), or 0 at the first entry
//  out of line (reported on stderr).
static uint64_t
s_published_run (const fixture_t *fx, size_t from, uint64_t first)
{
    uint64_t next = first;
    for (size_t i = from; i < fx->n_pubs; i++) {
        for (size_t k = 0; k < fx->pubs[i]->n_entries; k++) {
            if (fx->pubs[i]->entries[k]->seq != next) {
                fprintf (stderr, "published frame %zu entry %zu: seq %" PRIu64
                                 ", expected %" PRIu64 "\n",
                         i, k, fx->pubs[i]->entries[k]->seq, next);
                return 0;
            }
            next++;
        }
    }
    return next - 1;
}

//  Starts (or restarts) the group over the fixture's store. Returns false on failure.
static bool
s_start (fixture_t *fx)
{
    fx->probe.destroyed = false;
    gc_store_t *store = gc_store_wrap (&s_probe_ops, &fx->probe);
    if (!store) {
        return false;
    }
    char err[256] = "";
    fx->group = gc_group_new ("ops", PUB_ENDPOINT, &store, err, sizeof err);
    if (!fx->group) {
        fprintf (stderr, "cannot create group: %s\n", err);
        return false;
    }
    if (store != NULL) {
        return false;   //  ownership passed: *store_p must be nulled
    }
    gc_group_set_sinks (fx->group, s_on_reply, s_on_publish, fx);
    return true;
}

static bool
s_setup (fixture_t *fx)
{
    memset (fx, 0, sizeof *fx);
    fx->n_cookies = 1;   //  cookie 0 would be NULL
    fx->inner = gc_store_new_memory ();
    fx->probe.inner = fx->inner;
    return fx->inner && s_start (fx);
}

//  Flushes and destroys the group (the store survives, for a restart).
static bool
s_stop (fixture_t *fx)
{
    gc_group_flush (fx->group);
    gc_group_destroy (&fx->group);
    return fx->group == NULL && fx->probe.destroyed;
}

//  Ends a case: flushes, checks that every cookie came back exactly once with its request id
//  and that every frame decoded, and frees everything. Returns false if a check failed.
static bool
s_finish (fixture_t *fx)
{
    bool ok = true;
    if (fx->group) {
        ok = s_stop (fx);
    }
    for (size_t c = 1; c < fx->n_cookies; c++) {
        if (fx->delivered[c] != 1) {
            fprintf (stderr, "cookie %zu came back %u times\n", c, fx->delivered[c]);
            ok = false;
        }
    }
    for (size_t i = 0; i < fx->n_replies; i++) {
        const captured_t *cap = &fx->replies[i];
        if (cap->reply && cap->cookie > 0 && cap->cookie < fx->n_cookies
            && cap->reply->request_id != fx->expected_rid[cap->cookie]) {
            fprintf (stderr, "reply for cookie %zu carries request_id %" PRIu64 "\n",
                     cap->cookie, cap->reply->request_id);
            ok = false;
        }
        gc_wire_group_reply_free (&fx->replies[i].reply);
    }
    if (fx->stray || fx->bad_frames) {
        fprintf (stderr, "%zu stray cookies, %zu bad frames\n", fx->stray, fx->bad_frames);
        ok = false;
    }
    for (size_t i = 0; i < fx->n_pubs; i++) {
        gc_wire_publish_free (&fx->pubs[i], NULL);
    }
    gc_store_destroy (&fx->inner);
    free (fx->replies);
    free (fx->pubs);
    free (fx->delivered);
    free (fx->expected_rid);
    memset (fx, 0, sizeof *fx);
    return ok;
}

static size_t
s_new_cookie (fixture_t *fx, uint64_t expected_rid)
{
    size_t cap_delivered = fx->cap_cookies, cap_rid = fx->cap_cookies;
    fx->delivered =
        s_grow (fx->delivered, &cap_delivered, fx->n_cookies + 1, sizeof *fx->delivered);
    fx->expected_rid =
        s_grow (fx->expected_rid, &cap_rid, fx->n_cookies + 1, sizeof *fx->expected_rid);
    assert (cap_delivered == cap_rid);
    fx->cap_cookies = cap_delivered;
    size_t cookie = fx->n_cookies++;
    fx->delivered[cookie] = 0;
    fx->expected_rid[cookie] = expected_rid;
    return cookie;
}

//  Hands raw bytes to the group with a fresh cookie whose reply must carry expected_rid.
static size_t
s_submit_bytes (fixture_t *fx, const uint8_t *data, size_t size, uint64_t expected_rid)
{
    size_t cookie = s_new_cookie (fx, expected_rid);
    gc_group_request (fx->group, data, size, (void *) (uintptr_t) cookie);
    return cookie;
}

//  Packs req with request_id = its cookie and hands it to the group. Returns the cookie.
static size_t
s_submit (fixture_t *fx, gc_group_request_t *req)
{
    size_t cookie = s_new_cookie (fx, 0);
    fx->expected_rid[cookie] = cookie;
    req->request_id = cookie;
    zframe_t *frame = gc_wire_pack (&req->base);
    assert (frame);
    gc_group_request (fx->group, zframe_data (frame), zframe_size (frame),
                      (void *) (uintptr_t) cookie);
    zframe_destroy (&frame);
    return cookie;
}

static void
s_user (user_t *user)
{
    gc_wire_new_uuid (user->id);
    int rc = gc_wire_random (user->token, sizeof user->token);
    assert (rc == 0);
    (void) rc;
}

static void
s_header (gc_group_request_t *req, const user_t *user)
{
    groupcast__v1__group_request__init (req);
    req->sender = (char *) user->id;
    req->token.data = (uint8_t *) user->token;
    req->token.len = GC_TOKEN_SIZE;
}

static size_t
s_join (fixture_t *fx, const user_t *user, const char *name)
{
    gc_group_request_t req;
    s_header (&req, user);
    Groupcast__V1__Join join = GROUPCAST__V1__JOIN__INIT;
    join.name = (char *) name;
    req.body_case = GROUPCAST__V1__GROUP_REQUEST__BODY_JOIN;
    req.join = &join;
    return s_submit (fx, &req);
}

static size_t
s_leave (fixture_t *fx, const user_t *user)
{
    gc_group_request_t req;
    s_header (&req, user);
    Groupcast__V1__Leave leave = GROUPCAST__V1__LEAVE__INIT;
    req.body_case = GROUPCAST__V1__GROUP_REQUEST__BODY_LEAVE;
    req.leave = &leave;
    return s_submit (fx, &req);
}

//  A send; msg_id (GC_MSG_ID_SIZE bytes) may be NULL.
static size_t
s_send (fixture_t *fx, const user_t *user, const char *text, const uint8_t *msg_id, bool retry)
{
    gc_group_request_t req;
    s_header (&req, user);
    Groupcast__V1__Send send = GROUPCAST__V1__SEND__INIT;
    send.text.data = (uint8_t *) text;
    send.text.len = strlen (text);
    if (msg_id) {
        send.client_msg_id.data = (uint8_t *) msg_id;
        send.client_msg_id.len = GC_MSG_ID_SIZE;
    }
    send.retry = retry;
    req.body_case = GROUPCAST__V1__GROUP_REQUEST__BODY_SEND;
    req.send = &send;
    return s_submit (fx, &req);
}

//  A SendBatch of n messages: texts[i], ids[i] (GC_MSG_ID_SIZE bytes; ids or ids[i] may be NULL
//  for none), every one with the retry flag given.
static size_t
s_send_batch (fixture_t *fx, const user_t *user, size_t n, const char *const *texts,
              const uint8_t *const *ids, bool retry)
{
    gc_group_request_t req;
    s_header (&req, user);
    Groupcast__V1__Send *items = (Groupcast__V1__Send *) calloc (n, sizeof *items);
    Groupcast__V1__Send **list = (Groupcast__V1__Send **) calloc (n, sizeof *list);
    assert (items && list);
    for (size_t i = 0; i < n; i++) {
        groupcast__v1__send__init (&items[i]);
        items[i].text.data = (uint8_t *) texts[i];
        items[i].text.len = strlen (texts[i]);
        if (ids && ids[i]) {
            items[i].client_msg_id.data = (uint8_t *) ids[i];
            items[i].client_msg_id.len = GC_MSG_ID_SIZE;
        }
        items[i].retry = retry;
        list[i] = &items[i];
    }
    Groupcast__V1__SendBatch batch = GROUPCAST__V1__SEND_BATCH__INIT;
    batch.sends = list;
    batch.n_sends = n;
    req.body_case = GROUPCAST__V1__GROUP_REQUEST__BODY_SEND_BATCH;
    req.send_batch = &batch;
    size_t cookie = s_submit (fx, &req);
    free (items);
    free (list);
    return cookie;
}

static size_t
s_stats (fixture_t *fx, const user_t *user)
{
    gc_group_request_t req;
    s_header (&req, user);
    Groupcast__V1__Stats stats = GROUPCAST__V1__STATS__INIT;
    req.body_case = GROUPCAST__V1__GROUP_REQUEST__BODY_STATS;
    req.stats = &stats;
    return s_submit (fx, &req);
}

static size_t
s_fetch (fixture_t *fx, const user_t *user, const Groupcast__V1__Fetch *fetch)
{
    gc_group_request_t req;
    s_header (&req, user);
    Groupcast__V1__Fetch copy = *fetch;
    req.body_case = GROUPCAST__V1__GROUP_REQUEST__BODY_FETCH;
    req.fetch = &copy;
    return s_submit (fx, &req);
}

static size_t
s_members (fixture_t *fx, const user_t *user)
{
    gc_group_request_t req;
    s_header (&req, user);
    Groupcast__V1__Members members = GROUPCAST__V1__MEMBERS__INIT;
    req.body_case = GROUPCAST__V1__GROUP_REQUEST__BODY_MEMBERS;
    req.members = &members;
    return s_submit (fx, &req);
}

//  An info request; user may be NULL (no header at all).
static size_t
s_info (fixture_t *fx, const user_t *user)
{
    gc_group_request_t req;
    if (user) {
        s_header (&req, user);
    }
    else {
        groupcast__v1__group_request__init (&req);
    }
    Groupcast__V1__Info info = GROUPCAST__V1__INFO__INIT;
    req.body_case = GROUPCAST__V1__GROUP_REQUEST__BODY_INFO;
    req.info = &info;
    return s_submit (fx, &req);
}

//  The reply that came with cookie (the last one, should there be several), or NULL.
static const gc_group_reply_t *
s_reply (const fixture_t *fx, size_t cookie)
{
    for (size_t i = fx->n_replies; i > 0; i--) {
        if (fx->replies[i - 1].cookie == cookie) {
            return fx->replies[i - 1].reply;
        }
    }
    return NULL;
}

//  The status of the reply that came with cookie, or -1 if none came (or it did not decode).
static int
s_status (const fixture_t *fx, size_t cookie)
{
    const gc_group_reply_t *reply = s_reply (fx, cookie);
    return reply ? (int) reply->status : -1;
}

//  The seq of the reply that came with cookie, or UINT64_MAX if none came.
static uint64_t
s_seq (const fixture_t *fx, size_t cookie)
{
    const gc_group_reply_t *reply = s_reply (fx, cookie);
    return reply ? reply->seq : UINT64_MAX;
}

//  The ts_us of the reply that came with cookie, or INT64_MIN if none came.
static int64_t
s_ts (const fixture_t *fx, size_t cookie)
{
    const gc_group_reply_t *reply = s_reply (fx, cookie);
    return reply ? reply->ts_us : INT64_MIN;
}

static unsigned
s_delivered (const fixture_t *fx, size_t cookie)
{
    return cookie < fx->n_cookies ? fx->delivered[cookie] : 0;
}

//  The seqs of a reply's or publish's entries as "1,2,3" ("" if none).
static const char *
s_seqs (Groupcast__V1__Entry **entries, size_t count, char *buf, size_t buflen)
{
    buf[0] = '\0';
    for (size_t i = 0; i < count; i++) {
        size_t len = strlen (buf);
        snprintf (buf + len, buflen - len, "%s%" PRIu64, i ? "," : "", entries[i]->seq);
    }
    return buf;
}

//  A batch acknowledgement's seqs as "2,3,4", or "-" if no OK reply came with cookie, or "!" if
//  its seqs and ts_list differ in length.
static const char *
s_ack_seqs (const fixture_t *fx, size_t cookie, char *buf, size_t buflen)
{
    const gc_group_reply_t *reply = s_reply (fx, cookie);
    if (!reply || (int) reply->status != GC_OK) {
        return "-";
    }
    if (reply->n_seqs != reply->n_ts_list) {
        return "!";
    }
    buf[0] = '\0';
    for (size_t i = 0; i < reply->n_seqs; i++) {
        size_t len = strlen (buf);
        snprintf (buf + len, buflen - len, "%s%" PRIu64, i ? "," : "", reply->seqs[i]);
    }
    return buf;
}

//  True when the batch acknowledgement that came with cookie has timestamps strictly increasing
//  and all after floor_us.
static bool
s_ack_ts_rising (const fixture_t *fx, size_t cookie, int64_t floor_us)
{
    const gc_group_reply_t *reply = s_reply (fx, cookie);
    if (!reply || reply->n_ts_list == 0) {
        return false;
    }
    for (size_t i = 0; i < reply->n_ts_list; i++) {
        if (reply->ts_list[i] <= floor_us) {
            return false;
        }
        floor_us = reply->ts_list[i];
    }
    return true;
}

//  The position of cookie's (last) reply among all replies, or SIZE_MAX if none came.
static size_t
s_reply_index (const fixture_t *fx, size_t cookie)
{
    for (size_t i = fx->n_replies; i > 0; i--) {
        if (fx->replies[i - 1].cookie == cookie) {
            return i - 1;
        }
    }
    return SIZE_MAX;
}

static bool
s_text_is (const Groupcast__V1__Entry *entry, const char *text)
{
    return entry->text.len == strlen (text)
           && memcmp (entry->text.data, text, entry->text.len) == 0;
}

//  Fills id with a recognisable client message id.
static void
s_msg_id (uint8_t *id, uint8_t seed)
{
    for (size_t i = 0; i < GC_MSG_ID_SIZE; i++) {
        id[i] = (uint8_t) (seed + i);
    }
}

//  --------------------------------------------------------------------------------------------
//  Cases

static void
test_join (void)
{
    fixture_t fx;
    CHECK (s_setup (&fx));
    CHECK_STR_EQ (gc_group_name (fx.group), "ops");
    CHECK (gc_wire_valid_uuid (gc_group_id (fx.group)));
    CHECK_INT_EQ (gc_group_last_seq (fx.group), 0);
    CHECK_INT_EQ (gc_group_member_count (fx.group), 0);

    user_t alice;
    s_user (&alice);
    size_t c = s_join (&fx, &alice, "Alice");
    CHECK_INT_EQ (s_delivered (&fx, c), 1);   //  membership is answered at once
    const gc_group_reply_t *r = s_reply (&fx, c);
    CHECK (r);
    CHECK_INT_EQ (r->status, GC_OK);
    CHECK_INT_EQ (r->request_id, c);
    CHECK_INT_EQ (r->seq, 1);
    CHECK_INT_EQ (r->last_seq, 1);
    CHECK_INT_EQ (r->first_seq, 1);
    CHECK (r->ts_us > 0);
    CHECK_STR_EQ (r->group, "ops");
    CHECK_STR_EQ (r->pub_endpoint, PUB_ENDPOINT);
    CHECK_INT_EQ (gc_group_last_seq (fx.group), 1);
    CHECK_INT_EQ (gc_group_member_count (fx.group), 1);
    CHECK_INT_EQ (fx.probe.commits, 1);

    //  published at once, as one entry
    CHECK_INT_EQ (fx.n_pubs, 1);
    const gc_publish_t *pub = fx.pubs[0];
    CHECK_STR_EQ (pub->group, "ops");
    CHECK_INT_EQ (pub->last_seq, 1);
    CHECK_INT_EQ (pub->n_entries, 1);
    CHECK_INT_EQ (pub->entries[0]->seq, 1);
    CHECK_INT_EQ (pub->entries[0]->kind, GROUPCAST__V1__ENTRY_KIND__ENTRY_JOIN);
    CHECK_STR_EQ (pub->entries[0]->sender, alice.id);
    CHECK_STR_EQ (pub->entries[0]->name, "Alice");
    CHECK_INT_EQ (pub->entries[0]->text.len, 0);
    CHECK_INT_EQ (pub->entries[0]->ts_us, r->ts_us);

    //  and stored
    Groupcast__V1__Fetch all = GROUPCAST__V1__FETCH__INIT;
    c = s_fetch (&fx, &alice, &all);
    r = s_reply (&fx, c);
    CHECK (r);
    CHECK_INT_EQ (r->status, GC_OK);
    CHECK_INT_EQ (r->n_entries, 1);
    CHECK_INT_EQ (r->entries[0]->kind, GROUPCAST__V1__ENTRY_KIND__ENTRY_JOIN);
    CHECK_STR_EQ (r->entries[0]->name, "Alice");
    CHECK (s_finish (&fx));
}

static void
test_not_member (void)
{
    fixture_t fx;
    CHECK (s_setup (&fx));
    user_t alice, bob;
    s_user (&alice);
    s_user (&bob);
    CHECK_INT_EQ (s_status (&fx, s_join (&fx, &alice, "Alice")), GC_OK);

    size_t c = s_send (&fx, &bob, "hello", NULL, false);
    CHECK_INT_EQ (s_delivered (&fx, c), 1);   //  refused at once, not at the flush
    const gc_group_reply_t *r = s_reply (&fx, c);
    CHECK (r);
    CHECK_INT_EQ (r->status, GC_NOT_MEMBER);
    CHECK_CONTAINS (r->error, "'ops'");
    CHECK_CONTAINS (r->error, "not a member");
    CHECK_STR_EQ (r->group, "ops");

    Groupcast__V1__Fetch all = GROUPCAST__V1__FETCH__INIT;
    CHECK_INT_EQ (s_status (&fx, s_fetch (&fx, &bob, &all)), GC_NOT_MEMBER);
    CHECK_INT_EQ (s_status (&fx, s_members (&fx, &bob)), GC_NOT_MEMBER);
    CHECK_INT_EQ (s_status (&fx, s_leave (&fx, &bob)), GC_NOT_MEMBER);

    gc_group_flush (fx.group);
    CHECK_INT_EQ (gc_group_last_seq (fx.group), 1);
    CHECK_INT_EQ (fx.n_pubs, 1);
    CHECK_INT_EQ (fx.probe.appends, 1);
    CHECK (s_finish (&fx));
}

//  A member is bound to the token it joined with.
static void
test_wrong_token (void)
{
    fixture_t fx;
    CHECK (s_setup (&fx));
    user_t alice, mallory;
    s_user (&alice);
    mallory = alice;
    mallory.token[0] ^= 0x01;   //  alice's id, another token
    CHECK_INT_EQ (s_status (&fx, s_join (&fx, &alice, "Alice")), GC_OK);

    size_t c = s_send (&fx, &mallory, "i am alice", NULL, false);
    CHECK_INT_EQ (s_delivered (&fx, c), 1);
    const gc_group_reply_t *r = s_reply (&fx, c);
    CHECK (r);
    CHECK_INT_EQ (r->status, GC_FORBIDDEN);
    CHECK_CONTAINS (r->error, "'ops'");

    //  re-join, with the same or another name
    r = s_reply (&fx, s_join (&fx, &mallory, "Alice"));
    CHECK (r);
    CHECK_INT_EQ (r->status, GC_FORBIDDEN);
    CHECK_CONTAINS (r->error, "cannot join group 'ops'");
    r = s_reply (&fx, s_join (&fx, &mallory, "Mallory"));
    CHECK (r);
    CHECK_INT_EQ (r->status, GC_FORBIDDEN);

    Groupcast__V1__Fetch all = GROUPCAST__V1__FETCH__INIT;
    CHECK_INT_EQ (s_status (&fx, s_fetch (&fx, &mallory, &all)), GC_FORBIDDEN);
    CHECK_INT_EQ (s_status (&fx, s_members (&fx, &mallory)), GC_FORBIDDEN);
    CHECK_INT_EQ (s_status (&fx, s_leave (&fx, &mallory)), GC_FORBIDDEN);

    gc_group_flush (fx.group);
    CHECK_INT_EQ (gc_group_last_seq (fx.group), 1);
    CHECK_INT_EQ (gc_group_member_count (fx.group), 1);
    CHECK_INT_EQ (fx.n_pubs, 1);

    //  alice herself is unaffected, name unchanged
    c = s_send (&fx, &alice, "still me", NULL, false);
    gc_group_flush (fx.group);
    r = s_reply (&fx, c);
    CHECK (r);
    CHECK_INT_EQ (r->status, GC_OK);
    CHECK_INT_EQ (r->seq, 2);
    CHECK_INT_EQ (fx.n_pubs, 2);
    CHECK_STR_EQ (fx.pubs[1]->entries[0]->name, "Alice");
    CHECK (s_finish (&fx));
}

//  Sends are queued and committed together: one transaction, then the acks, then one frame.
static void
test_group_commit (void)
{
    fixture_t fx;
    CHECK (s_setup (&fx));
    user_t alice;
    s_user (&alice);
    const gc_group_reply_t *joined = s_reply (&fx, s_join (&fx, &alice, "Alice"));
    CHECK (joined);
    CHECK_INT_EQ (joined->seq, 1);
    int64_t join_ts = joined->ts_us;
    size_t replies = fx.n_replies;

    const char *texts[] = { "one", "two", "three" };
    size_t cookies[3];
    for (int i = 0; i < 3; i++) {
        cookies[i] = s_send (&fx, &alice, texts[i], NULL, false);
    }
    //  nothing acknowledged, stored or published before the flush
    CHECK_INT_EQ (fx.n_replies, replies);
    CHECK_INT_EQ (fx.n_pubs, 1);
    CHECK_INT_EQ (fx.probe.appends, 1);
    CHECK_INT_EQ (gc_group_last_seq (fx.group), 1);

    gc_group_flush (fx.group);
    CHECK_INT_EQ (fx.probe.appends, 2);   //  one commit for the three
    CHECK_INT_EQ (fx.probe.commits, 2);
    CHECK_INT_EQ (fx.n_replies, replies + 3);
    CHECK_INT_EQ (gc_group_last_seq (fx.group), 4);
    int64_t prev_ts = join_ts;
    for (int i = 0; i < 3; i++) {
        //  acknowledged in the order sent
        CHECK_INT_EQ (fx.replies[replies + (size_t) i].cookie, cookies[i]);
        const gc_group_reply_t *r = s_reply (&fx, cookies[i]);
        CHECK (r);
        CHECK_INT_EQ (r->status, GC_OK);
        CHECK_INT_EQ (r->seq, 2 + i);
        CHECK_INT_EQ (r->last_seq, 4);
        CHECK (r->ts_us >= prev_ts);
        prev_ts = r->ts_us;
    }

    //  exactly one frame, carrying the three in order
    CHECK_INT_EQ (fx.n_pubs, 2);
    const gc_publish_t *pub = fx.pubs[1];
    CHECK_STR_EQ (pub->group, "ops");
    CHECK_INT_EQ (pub->last_seq, 4);
    CHECK_INT_EQ (pub->n_entries, 3);
    for (int i = 0; i < 3; i++) {
        const Groupcast__V1__Entry *e = pub->entries[i];
        CHECK_INT_EQ (e->seq, 2 + i);
        CHECK_INT_EQ (e->kind, GROUPCAST__V1__ENTRY_KIND__ENTRY_MESSAGE);
        CHECK_STR_EQ (e->sender, alice.id);
        CHECK_STR_EQ (e->name, "Alice");
        CHECK (s_text_is (e, texts[i]));
        CHECK_INT_EQ (e->ts_us, s_ts (&fx, cookies[i]));
    }

    //  a flush with nothing queued does nothing
    gc_group_flush (fx.group);
    CHECK_INT_EQ (fx.probe.appends, 2);
    CHECK_INT_EQ (fx.n_pubs, 2);
    CHECK_INT_EQ (fx.n_replies, replies + 3);
    CHECK (s_finish (&fx));
}

//  The seqs a fetch returns, and its more flag; CHECKs the reply is OK.
typedef struct {
    Groupcast__V1__Fetch fetch;   //  the query
    const char *seqs;             //  expected seqs
    bool more;                    //  expected more flag
} fetch_case_t;

static void
test_fetch_filters (void)
{
    fixture_t fx;
    CHECK (s_setup (&fx));
    user_t alice;
    s_user (&alice);
    CHECK_INT_EQ (s_status (&fx, s_join (&fx, &alice, "Alice")), GC_OK);
    for (int i = 2; i <= 10; i++) {
        char text[16];
        snprintf (text, sizeof text, "message %d", i);
        s_send (&fx, &alice, text, NULL, false);
        if (i == 5) {
            gc_group_flush (fx.group);   //  two batches
        }
    }
    gc_group_flush (fx.group);
    CHECK_INT_EQ (gc_group_last_seq (fx.group), 10);

    //  everything, to learn the timestamps
    Groupcast__V1__Fetch all = GROUPCAST__V1__FETCH__INIT;
    const gc_group_reply_t *r = s_reply (&fx, s_fetch (&fx, &alice, &all));
    CHECK (r);
    CHECK_INT_EQ (r->status, GC_OK);
    CHECK_INT_EQ (r->n_entries, 10);
    CHECK (!r->more);
    CHECK_INT_EQ (r->first_seq, 1);
    CHECK_INT_EQ (r->last_seq, 10);
    CHECK_STR_EQ (r->group, "ops");
    int64_t ts[11] = { 0 };
    for (size_t i = 0; i < 10; i++) {
        CHECK_INT_EQ (r->entries[i]->seq, i + 1);
        ts[i + 1] = r->entries[i]->ts_us;
        if (i > 0) {
            char text[16];
            snprintf (text, sizeof text, "message %zu", i + 1);
            CHECK (s_text_is (r->entries[i], text));
            CHECK_STR_EQ (r->entries[i]->name, "Alice");
            CHECK (ts[i + 1] >= ts[i]);
        }
    }

    fetch_case_t cases[] = {
        { { .after_seq = 3 }, "4,5,6,7,8,9,10", false },
        { { .before_seq = 5 }, "1,2,3,4", false },
        { { .after_seq = 3, .before_seq = 8 }, "4,5,6,7", false },
        { { .limit = 3 }, "1,2,3", true },
        { { .limit = 3, .newest = true }, "8,9,10", true },
        { { .after_seq = 3, .limit = 2 }, "4,5", true },
        { { .before_seq = 8, .limit = 2, .newest = true }, "6,7", true },
        { { .limit = 20, .newest = true }, "1,2,3,4,5,6,7,8,9,10", false },
        { { .limit = 10 }, "1,2,3,4,5,6,7,8,9,10", false },
        { { .limit = 9 }, "1,2,3,4,5,6,7,8,9", true },
        { { .after_seq = 10 }, "", false },
        { { .after_seq = 1000 }, "", false },
        { { .before_seq = 1 }, "", false },
        { { .after_seq = 5, .before_seq = 6 }, "", false },
        { { .before_seq = 1000 }, "1,2,3,4,5,6,7,8,9,10", false },
        { { .until_us = 1 }, "", false },
        { { .since_us = ts[10] + 1 }, "", false },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        Groupcast__V1__Fetch fetch = GROUPCAST__V1__FETCH__INIT;
        fetch.since_us = cases[i].fetch.since_us;
        fetch.until_us = cases[i].fetch.until_us;
        fetch.after_seq = cases[i].fetch.after_seq;
        fetch.before_seq = cases[i].fetch.before_seq;
        fetch.limit = cases[i].fetch.limit;
        fetch.newest = cases[i].fetch.newest;
        r = s_reply (&fx, s_fetch (&fx, &alice, &fetch));
        CHECK (r);
        CHECK_INT_EQ (r->status, GC_OK);
        char buf[64];
        s_seqs (r->entries, r->n_entries, buf, sizeof buf);
        if (strcmp (buf, cases[i].seqs) != 0 || r->more != cases[i].more) {
            fprintf (stderr, "fetch case %zu: got \"%s\" more=%d\n", i, buf, r->more);
        }
        CHECK_STR_EQ (buf, cases[i].seqs);
        CHECK_INT_EQ (r->more, cases[i].more);
        CHECK_INT_EQ (r->first_seq, 1);
        CHECK_INT_EQ (r->last_seq, 10);
    }

    //  time bounds: since inclusive, until exclusive; expected sets come from the timestamps
    //  (equal timestamps are possible, so they are computed, not assumed)
    const int pairs[][2] = { { 6, 0 }, { 0, 6 }, { 3, 8 }, { 1, 0 }, { 0, 10 }, { 10, 0 } };
    for (size_t p = 0; p < sizeof pairs / sizeof pairs[0]; p++) {
        int64_t since = pairs[p][0] ? ts[pairs[p][0]] : 0;
        int64_t until = pairs[p][1] ? ts[pairs[p][1]] : 0;
        char want[64] = "";
        size_t matches = 0;
        int first_match = 0, last_match = 0;
        for (int s = 1; s <= 10; s++) {
            if ((since == 0 || ts[s] >= since) && (until == 0 || ts[s] < until)) {
                size_t len = strlen (want);
                snprintf (want + len, sizeof want - len, "%s%d", len ? "," : "", s);
                first_match = first_match ? first_match : s;
                last_match = s;
                matches++;
            }
        }
        Groupcast__V1__Fetch fetch = GROUPCAST__V1__FETCH__INIT;
        fetch.since_us = since;
        fetch.until_us = until;
        r = s_reply (&fx, s_fetch (&fx, &alice, &fetch));
        CHECK (r);
        CHECK_INT_EQ (r->status, GC_OK);
        char buf[64];
        CHECK_STR_EQ (s_seqs (r->entries, r->n_entries, buf, sizeof buf), want);
        CHECK (!r->more);
        //  the same with a limit of 1, oldest then newest
        fetch.limit = 1;
        r = s_reply (&fx, s_fetch (&fx, &alice, &fetch));
        CHECK (r);
        CHECK_INT_EQ (r->n_entries, matches ? 1 : 0);
        CHECK_INT_EQ (r->more, matches > 1);
        if (matches) {
            CHECK_INT_EQ (r->entries[0]->seq, first_match);
        }
        fetch.newest = true;
        r = s_reply (&fx, s_fetch (&fx, &alice, &fetch));
        CHECK (r);
        CHECK_INT_EQ (r->n_entries, matches ? 1 : 0);
        CHECK_INT_EQ (r->more, matches > 1);
        if (matches) {
            CHECK_INT_EQ (r->entries[0]->seq, last_match);
        }
    }
    CHECK (s_finish (&fx));
}

//  A page is at most GC_FETCH_DEFAULT entries without a limit, GC_FETCH_MAX with any limit.
static void
test_fetch_limit_cap (void)
{
    fixture_t fx;
    CHECK (s_setup (&fx));
    user_t alice;
    s_user (&alice);
    CHECK_INT_EQ (s_status (&fx, s_join (&fx, &alice, "Alice")), GC_OK);
    for (int i = 0; i < GC_FETCH_MAX + 1; i++) {
        s_send (&fx, &alice, "x", NULL, false);
    }
    gc_group_flush (fx.group);
    CHECK_INT_EQ (gc_group_last_seq (fx.group), GC_FETCH_MAX + 2);

    Groupcast__V1__Fetch fetch = GROUPCAST__V1__FETCH__INIT;
    const gc_group_reply_t *r = s_reply (&fx, s_fetch (&fx, &alice, &fetch));
    CHECK (r);
    CHECK_INT_EQ (r->status, GC_OK);
    CHECK_INT_EQ (r->n_entries, GC_FETCH_DEFAULT);
    CHECK (r->more);
    CHECK_INT_EQ (r->entries[0]->seq, 1);

    fetch.limit = GC_FETCH_MAX * 2;
    r = s_reply (&fx, s_fetch (&fx, &alice, &fetch));
    CHECK (r);
    CHECK_INT_EQ (r->n_entries, GC_FETCH_MAX);
    CHECK (r->more);
    CHECK_INT_EQ (r->entries[GC_FETCH_MAX - 1]->seq, GC_FETCH_MAX);

    fetch.newest = true;
    r = s_reply (&fx, s_fetch (&fx, &alice, &fetch));
    CHECK (r);
    CHECK_INT_EQ (r->n_entries, GC_FETCH_MAX);
    CHECK_INT_EQ (r->entries[0]->seq, 3);
    CHECK_INT_EQ (r->entries[GC_FETCH_MAX - 1]->seq, GC_FETCH_MAX + 2);
    CHECK (r->more);
    CHECK (s_finish (&fx));
}

//  Reads and membership changes see every send queued before them.
static void
test_reads_flush_first (void)
{
    fixture_t fx;
    CHECK (s_setup (&fx));
    user_t alice, bob;
    s_user (&alice);
    s_user (&bob);
    CHECK_INT_EQ (s_status (&fx, s_join (&fx, &alice, "Alice")), GC_OK);

    size_t s1 = s_send (&fx, &alice, "first", NULL, false);
    size_t s2 = s_send (&fx, &alice, "second", NULL, false);
    CHECK_INT_EQ (s_delivered (&fx, s1), 0);
    Groupcast__V1__Fetch all = GROUPCAST__V1__FETCH__INIT;
    size_t f = s_fetch (&fx, &alice, &all);
    //  the acks, then the fetch reply, which includes the two
    CHECK (fx.n_replies >= 3);
    CHECK_INT_EQ (fx.replies[fx.n_replies - 3].cookie, s1);
    CHECK_INT_EQ (fx.replies[fx.n_replies - 2].cookie, s2);
    CHECK_INT_EQ (fx.replies[fx.n_replies - 1].cookie, f);
    CHECK_INT_EQ (s_seq (&fx, s1), 2);
    CHECK_INT_EQ (s_seq (&fx, s2), 3);
    const gc_group_reply_t *r = s_reply (&fx, f);
    CHECK (r);
    CHECK_INT_EQ (r->n_entries, 3);
    CHECK (s_text_is (r->entries[2], "second"));
    CHECK_INT_EQ (r->last_seq, 3);

    //  a join commits queued sends before its own entry
    size_t s3 = s_send (&fx, &alice, "third", NULL, false);
    size_t j = s_join (&fx, &bob, "Bob");
    CHECK_INT_EQ (s_seq (&fx, s3), 4);
    CHECK_INT_EQ (s_seq (&fx, j), 5);
    //  members too
    size_t s4 = s_send (&fx, &alice, "fourth", NULL, false);
    size_t m = s_members (&fx, &bob);
    CHECK_INT_EQ (s_seq (&fx, s4), 6);
    CHECK (s_reply (&fx, m));
    CHECK_INT_EQ (s_reply (&fx, m)->last_seq, 6);
    //  and a leave
    size_t s5 = s_send (&fx, &bob, "bye", NULL, false);
    size_t l = s_leave (&fx, &bob);
    CHECK_INT_EQ (s_seq (&fx, s5), 7);
    CHECK_INT_EQ (s_status (&fx, s5), GC_OK);
    CHECK_INT_EQ (s_seq (&fx, l), 8);
    //  published in seq order, each batch contiguous
    CHECK_INT_EQ (s_published_run (&fx, 0, 1), 8);
    CHECK (s_finish (&fx));
}

//  Guards a fixed use-after-free: the LEAVE entry must not borrow the display name from the
//  member record, which the commit frees before the entry is published (s_leave copies it).
//  Only the sanitizer build sees a regression (heap-use-after-free in gc_wire_pack).
static void
test_leave (void)
{
    fixture_t fx;
    CHECK (s_setup (&fx));
    user_t alice, bob;
    s_user (&alice);
    s_user (&bob);
    CHECK_INT_EQ (s_status (&fx, s_join (&fx, &alice, "Alice")), GC_OK);
    CHECK_INT_EQ (s_status (&fx, s_join (&fx, &bob, "Bob")), GC_OK);
    CHECK_INT_EQ (gc_group_member_count (fx.group), 2);

    const gc_group_reply_t *r = s_reply (&fx, s_leave (&fx, &alice));
    CHECK (r);
    CHECK_INT_EQ (r->status, GC_OK);
    CHECK_INT_EQ (r->seq, 3);
    CHECK_INT_EQ (r->last_seq, 3);
    CHECK_INT_EQ (gc_group_member_count (fx.group), 1);
    CHECK_INT_EQ (fx.n_pubs, 3);
    const Groupcast__V1__Entry *e = fx.pubs[2]->entries[0];
    CHECK_INT_EQ (e->seq, 3);
    CHECK_INT_EQ (e->kind, GROUPCAST__V1__ENTRY_KIND__ENTRY_LEAVE);
    CHECK_STR_EQ (e->sender, alice.id);
    CHECK_STR_EQ (e->name, "Alice");

    //  gone: everything that needs membership is refused
    size_t c = s_send (&fx, &alice, "still here?", NULL, false);
    CHECK_INT_EQ (s_delivered (&fx, c), 1);
    CHECK_INT_EQ (s_status (&fx, c), GC_NOT_MEMBER);
    Groupcast__V1__Fetch all = GROUPCAST__V1__FETCH__INIT;
    CHECK_INT_EQ (s_status (&fx, s_fetch (&fx, &alice, &all)), GC_NOT_MEMBER);
    CHECK_INT_EQ (s_status (&fx, s_leave (&fx, &alice)), GC_NOT_MEMBER);
    gc_group_flush (fx.group);
    CHECK_INT_EQ (gc_group_last_seq (fx.group), 3);

    //  the members list no longer has her
    r = s_reply (&fx, s_members (&fx, &bob));
    CHECK (r);
    CHECK_INT_EQ (r->n_members, 1);
    CHECK_STR_EQ (r->members[0]->id, bob.id);

    //  and she may come back: a new join entry
    r = s_reply (&fx, s_join (&fx, &alice, "Alice"));
    CHECK (r);
    CHECK_INT_EQ (r->status, GC_OK);
    CHECK_INT_EQ (r->seq, 4);
    CHECK_INT_EQ (gc_group_member_count (fx.group), 2);
    CHECK (s_finish (&fx));
}

static void
test_rejoin (void)
{
    fixture_t fx;
    CHECK (s_setup (&fx));
    user_t alice;
    s_user (&alice);
    CHECK_INT_EQ (s_status (&fx, s_join (&fx, &alice, "Alice")), GC_OK);

    //  same name: nothing to record
    const gc_group_reply_t *r = s_reply (&fx, s_join (&fx, &alice, "Alice"));
    CHECK (r);
    CHECK_INT_EQ (r->status, GC_OK);
    CHECK_INT_EQ (r->seq, 0);
    CHECK_INT_EQ (r->last_seq, 1);
    CHECK_STR_EQ (r->pub_endpoint, PUB_ENDPOINT);
    CHECK_INT_EQ (gc_group_last_seq (fx.group), 1);
    CHECK_INT_EQ (fx.n_pubs, 1);
    CHECK_INT_EQ (fx.probe.appends, 1);
    CHECK_INT_EQ (gc_group_member_count (fx.group), 1);

    //  a new name: a new join entry carrying it
    r = s_reply (&fx, s_join (&fx, &alice, "Alice B."));
    CHECK (r);
    CHECK_INT_EQ (r->status, GC_OK);
    CHECK_INT_EQ (r->seq, 2);
    CHECK_INT_EQ (r->last_seq, 2);
    CHECK_INT_EQ (fx.n_pubs, 2);
    CHECK_INT_EQ (fx.pubs[1]->entries[0]->kind, GROUPCAST__V1__ENTRY_KIND__ENTRY_JOIN);
    CHECK_STR_EQ (fx.pubs[1]->entries[0]->name, "Alice B.");
    CHECK_INT_EQ (gc_group_member_count (fx.group), 1);

    r = s_reply (&fx, s_members (&fx, &alice));
    CHECK (r);
    CHECK_INT_EQ (r->n_members, 1);
    CHECK_STR_EQ (r->members[0]->name, "Alice B.");
    //  later messages carry the new name
    size_t c = s_send (&fx, &alice, "renamed", NULL, false);
    gc_group_flush (fx.group);
    CHECK_INT_EQ (s_seq (&fx, c), 3);
    CHECK_STR_EQ (fx.pubs[2]->entries[0]->name, "Alice B.");
    //  and the same new name again records nothing
    r = s_reply (&fx, s_join (&fx, &alice, "Alice B."));
    CHECK (r);
    CHECK_INT_EQ (r->seq, 0);
    CHECK_INT_EQ (gc_group_last_seq (fx.group), 3);
    CHECK (s_finish (&fx));
}

//  A retried send whose original is stored is acknowledged with the original's seq.
static void
test_retry_after_commit (void)
{
    fixture_t fx;
    CHECK (s_setup (&fx));
    user_t alice, bob;
    s_user (&alice);
    s_user (&bob);
    CHECK_INT_EQ (s_status (&fx, s_join (&fx, &alice, "Alice")), GC_OK);
    CHECK_INT_EQ (s_status (&fx, s_join (&fx, &bob, "Bob")), GC_OK);
    uint8_t id[GC_MSG_ID_SIZE];
    s_msg_id (id, 0x10);

    size_t first = s_send (&fx, &alice, "once", id, false);
    gc_group_flush (fx.group);
    const gc_group_reply_t *orig = s_reply (&fx, first);
    CHECK (orig);
    CHECK_INT_EQ (orig->status, GC_OK);
    CHECK_INT_EQ (orig->seq, 3);
    size_t pubs = fx.n_pubs;
    size_t commits = fx.probe.commits;

    size_t again = s_send (&fx, &alice, "once", id, true);
    gc_group_flush (fx.group);
    const gc_group_reply_t *r = s_reply (&fx, again);
    CHECK (r);
    CHECK_INT_EQ (r->status, GC_OK);
    CHECK_INT_EQ (r->seq, 3);
    CHECK_INT_EQ (r->ts_us, orig->ts_us);
    CHECK_INT_EQ (r->last_seq, 3);
    CHECK_INT_EQ (gc_group_last_seq (fx.group), 3);
    CHECK_INT_EQ (fx.n_pubs, pubs);
    CHECK_INT_EQ (fx.probe.commits, commits);

    //  the same id from another sender is another message
    size_t other = s_send (&fx, &bob, "mine", id, true);
    gc_group_flush (fx.group);
    CHECK_INT_EQ (s_status (&fx, other), GC_OK);
    CHECK_INT_EQ (s_seq (&fx, other), 4);
    //  a retry of an id never seen is stored as new
    uint8_t id2[GC_MSG_ID_SIZE];
    s_msg_id (id2, 0x40);
    size_t fresh = s_send (&fx, &alice, "lost original", id2, true);
    gc_group_flush (fx.group);
    CHECK_INT_EQ (s_seq (&fx, fresh), 5);

    //  history holds each message once
    Groupcast__V1__Fetch all = GROUPCAST__V1__FETCH__INIT;
    r = s_reply (&fx, s_fetch (&fx, &alice, &all));
    CHECK (r);
    char buf[64];
    CHECK_STR_EQ (s_seqs (r->entries, r->n_entries, buf, sizeof buf), "1,2,3,4,5");
    CHECK (s_finish (&fx));
}

//  A retry arriving while its original is still queued is acknowledged with the original's seq.
static void
test_retry_in_batch (void)
{
    fixture_t fx;
    CHECK (s_setup (&fx));
    user_t alice;
    s_user (&alice);
    CHECK_INT_EQ (s_status (&fx, s_join (&fx, &alice, "Alice")), GC_OK);
    uint8_t id[GC_MSG_ID_SIZE];
    s_msg_id (id, 0x20);

    size_t a = s_send (&fx, &alice, "before", NULL, false);
    size_t orig = s_send (&fx, &alice, "queued", id, false);
    size_t retry = s_send (&fx, &alice, "queued", id, true);
    size_t b = s_send (&fx, &alice, "after", NULL, false);
    CHECK_INT_EQ (s_delivered (&fx, orig), 0);
    CHECK_INT_EQ (s_delivered (&fx, retry), 0);
    gc_group_flush (fx.group);
    CHECK_INT_EQ (s_seq (&fx, a), 2);
    CHECK_INT_EQ (s_seq (&fx, orig), 3);
    CHECK_INT_EQ (s_status (&fx, retry), GC_OK);
    CHECK_INT_EQ (s_seq (&fx, retry), 3);
    CHECK_INT_EQ (s_ts (&fx, retry), s_ts (&fx, orig));
    CHECK_INT_EQ (s_seq (&fx, b), 4);
    CHECK_INT_EQ (gc_group_last_seq (fx.group), 4);
    CHECK_INT_EQ (fx.n_pubs, 2);
    char buf[64];
    CHECK_STR_EQ (s_seqs (fx.pubs[1]->entries, fx.pubs[1]->n_entries, buf, sizeof buf), "2,3,4");

    //  and a retry of it after the commit still finds it
    size_t late = s_send (&fx, &alice, "queued", id, true);
    gc_group_flush (fx.group);
    CHECK_INT_EQ (s_seq (&fx, late), 3);
    CHECK_INT_EQ (gc_group_last_seq (fx.group), 4);
    CHECK (s_finish (&fx));
}

//  A send that reuses a client_msg_id with retry=false is a first attempt as far as the group
//  knows (ids are looked up only on retry, to keep lookups off the message path): it is stored
//  again. What matters is that it never fails anyone else's message in the same batch.
static void
test_duplicate_id_without_retry (void)
{
    fixture_t fx;
    CHECK (s_setup (&fx));
    user_t alice, bob;
    s_user (&alice);
    s_user (&bob);
    CHECK_INT_EQ (s_status (&fx, s_join (&fx, &alice, "Alice")), GC_OK);
    CHECK_INT_EQ (s_status (&fx, s_join (&fx, &bob, "Bob")), GC_OK);
    uint8_t id[GC_MSG_ID_SIZE];
    s_msg_id (id, 0x30);
    size_t first = s_send (&fx, &alice, "original", id, false);
    gc_group_flush (fx.group);
    CHECK_INT_EQ (s_seq (&fx, first), 3);

    //  the id is already stored
    size_t b1 = s_send (&fx, &bob, "b1", NULL, false);
    size_t dup = s_send (&fx, &alice, "original", id, false);
    size_t b2 = s_send (&fx, &bob, "b2", NULL, false);
    gc_group_flush (fx.group);
    int b1_status = s_status (&fx, b1);
    int b2_status = s_status (&fx, b2);
    uint64_t b1_seq = s_seq (&fx, b1), b2_seq = s_seq (&fx, b2);
    unsigned dup_delivered = s_delivered (&fx, dup);
    uint64_t last_seq_1 = gc_group_last_seq (fx.group);

    //  the id twice in one batch
    uint8_t id2[GC_MSG_ID_SIZE];
    s_msg_id (id2, 0x50);
    size_t b3 = s_send (&fx, &bob, "b3", NULL, false);
    size_t once = s_send (&fx, &alice, "twice", id2, false);
    size_t twice = s_send (&fx, &alice, "twice", id2, false);
    gc_group_flush (fx.group);
    int b3_status = s_status (&fx, b3);
    int once_status = s_status (&fx, once);
    unsigned twice_delivered = s_delivered (&fx, twice);
    uint64_t last_seq_2 = gc_group_last_seq (fx.group);

    //  checked after cleaning up, so that a failure here reports no leak
    CHECK (s_finish (&fx));
    CHECK_INT_EQ (dup_delivered, 1);
    CHECK_INT_EQ (b1_status, GC_OK);
    CHECK_INT_EQ (b2_status, GC_OK);
    CHECK_INT_EQ (b2_seq, b1_seq + 2);
    CHECK_INT_EQ (last_seq_1, 6);
    CHECK_INT_EQ (twice_delivered, 1);
    CHECK_INT_EQ (b3_status, GC_OK);
    CHECK_INT_EQ (once_status, GC_OK);
    CHECK_INT_EQ (last_seq_2, 9);
}

static void
test_members (void)
{
    fixture_t fx;
    CHECK (s_setup (&fx));
    user_t users[3];
    const char *names[3] = { "Carol", "Alice", "" };
    int64_t joined[3];
    for (int i = 0; i < 3; i++) {
        s_user (&users[i]);
        const gc_group_reply_t *r = s_reply (&fx, s_join (&fx, &users[i], names[i]));
        CHECK (r);
        CHECK_INT_EQ (r->status, GC_OK);
        joined[i] = r->ts_us;
    }
    const gc_group_reply_t *r = s_reply (&fx, s_members (&fx, &users[0]));
    CHECK (r);
    CHECK_INT_EQ (r->status, GC_OK);
    CHECK_INT_EQ (r->n_members, 3);
    CHECK_INT_EQ (r->last_seq, 3);
    CHECK_STR_EQ (r->group, "ops");
    for (size_t i = 0; i < 3; i++) {
        if (i > 0) {
            CHECK (strcmp (r->members[i - 1]->id, r->members[i]->id) < 0);   //  sorted by id
        }
        int k = 0;
        while (k < 3 && strcmp (users[k].id, r->members[i]->id) != 0) {
            k++;
        }
        CHECK (k < 3);
        CHECK_STR_EQ (r->members[i]->name, names[k]);
        CHECK_INT_EQ (r->members[i]->joined_us, joined[k]);
    }
    CHECK (s_finish (&fx));
}

static void
test_info (void)
{
    fixture_t fx;
    CHECK (s_setup (&fx));
    user_t alice, stranger;
    s_user (&alice);
    s_user (&stranger);

    //  an empty group
    const gc_group_reply_t *r = s_reply (&fx, s_info (&fx, NULL));
    CHECK (r);
    CHECK_INT_EQ (r->status, GC_OK);
    CHECK_STR_EQ (r->group, "ops");
    CHECK_STR_EQ (r->pub_endpoint, PUB_ENDPOINT);
    CHECK_INT_EQ (r->member_count, 0);
    CHECK_INT_EQ (r->last_seq, 0);
    CHECK_INT_EQ (r->first_seq, 0);

    CHECK_INT_EQ (s_status (&fx, s_join (&fx, &alice, "Alice")), GC_OK);
    s_send (&fx, &alice, "hi", NULL, false);
    gc_group_flush (fx.group);
    //  no identity at all, or one that is no member
    r = s_reply (&fx, s_info (&fx, NULL));
    CHECK (r);
    CHECK_INT_EQ (r->status, GC_OK);
    CHECK_INT_EQ (r->member_count, 1);
    CHECK_INT_EQ (r->last_seq, 2);
    CHECK_INT_EQ (r->first_seq, 1);
    r = s_reply (&fx, s_info (&fx, &stranger));
    CHECK (r);
    CHECK_INT_EQ (r->status, GC_OK);
    CHECK_INT_EQ (r->member_count, 1);
    CHECK (s_finish (&fx));
}

//  Malformed input gets an error reply with the cookie handed back exactly once; queued sends
//  are not disturbed.
static void
test_malformed (void)
{
    fixture_t fx;
    CHECK (s_setup (&fx));
    user_t alice;
    s_user (&alice);
    CHECK_INT_EQ (s_status (&fx, s_join (&fx, &alice, "Alice")), GC_OK);
    size_t queued = s_send (&fx, &alice, "queued", NULL, false);

    const uint8_t garbage[] = { 0xff, 0xff, 0xff };
    size_t c = s_submit_bytes (&fx, garbage, sizeof garbage, 0);
    CHECK_INT_EQ (s_delivered (&fx, c), 1);
    const gc_group_reply_t *r = s_reply (&fx, c);
    CHECK (r);
    CHECK_INT_EQ (r->status, GC_BAD_REQUEST);
    CHECK_INT_EQ (r->request_id, 0);
    CHECK (r->error[0] != '\0');
    CHECK_STR_EQ (r->group, "ops");

    c = s_submit_bytes (&fx, (const uint8_t *) "", 0, 0);
    CHECK_INT_EQ (s_status (&fx, c), GC_UNKNOWN_REQUEST);

    uint8_t *huge = (uint8_t *) calloc (1, GC_MAX_FRAME + 1);
    CHECK (huge);
    c = s_submit_bytes (&fx, huge, GC_MAX_FRAME + 1, 0);
    free (huge);
    CHECK_INT_EQ (s_delivered (&fx, c), 1);
    CHECK_INT_EQ (s_status (&fx, c), GC_TOO_LARGE);

    //  decodable, but invalid: the request id is echoed
    gc_group_request_t req;
    s_header (&req, &alice);
    req.sender = (char *) "not-a-uuid";
    Groupcast__V1__Leave leave = GROUPCAST__V1__LEAVE__INIT;
    req.body_case = GROUPCAST__V1__GROUP_REQUEST__BODY_LEAVE;
    req.leave = &leave;
    c = s_submit (&fx, &req);
    r = s_reply (&fx, c);
    CHECK (r);
    CHECK_INT_EQ (r->status, GC_BAD_REQUEST);
    CHECK_INT_EQ (r->request_id, c);
    CHECK_CONTAINS (r->error, "sender");

    s_header (&req, &alice);
    c = s_submit (&fx, &req);   //  no body
    r = s_reply (&fx, c);
    CHECK (r);
    CHECK_INT_EQ (r->status, GC_UNKNOWN_REQUEST);
    CHECK_INT_EQ (r->request_id, c);

    s_header (&req, &alice);
    Groupcast__V1__Send send = GROUPCAST__V1__SEND__INIT;
    req.body_case = GROUPCAST__V1__GROUP_REQUEST__BODY_SEND;
    req.send = &send;   //  empty text
    c = s_submit (&fx, &req);
    CHECK_INT_EQ (s_delivered (&fx, c), 1);
    CHECK_INT_EQ (s_status (&fx, c), GC_BAD_REQUEST);

    //  the queued send was neither answered nor lost, and nothing was stored meanwhile
    CHECK_INT_EQ (s_delivered (&fx, queued), 0);
    CHECK_INT_EQ (gc_group_last_seq (fx.group), 1);
    gc_group_flush (fx.group);
    CHECK_INT_EQ (s_delivered (&fx, queued), 1);
    CHECK_INT_EQ (s_seq (&fx, queued), 2);
    CHECK_INT_EQ (gc_group_member_count (fx.group), 1);
    CHECK (s_finish (&fx));
}

static void
test_max_batch (void)
{
    fixture_t fx;
    CHECK (s_setup (&fx));
    gc_group_set_max_batch (fx.group, 3);
    user_t alice;
    s_user (&alice);
    CHECK_INT_EQ (s_status (&fx, s_join (&fx, &alice, "Alice")), GC_OK);

    size_t a = s_send (&fx, &alice, "a", NULL, false);
    size_t b = s_send (&fx, &alice, "b", NULL, false);
    CHECK_INT_EQ (s_delivered (&fx, a), 0);
    CHECK_INT_EQ (fx.n_pubs, 1);
    size_t c = s_send (&fx, &alice, "c", NULL, false);
    //  the third filled the batch: committed without a flush call
    CHECK_INT_EQ (s_delivered (&fx, a), 1);
    CHECK_INT_EQ (s_delivered (&fx, b), 1);
    CHECK_INT_EQ (s_delivered (&fx, c), 1);
    CHECK_INT_EQ (s_seq (&fx, c), 4);
    CHECK_INT_EQ (fx.n_pubs, 2);
    CHECK_INT_EQ (fx.pubs[1]->n_entries, 3);
    CHECK_INT_EQ (fx.probe.commits, 2);

    size_t d = s_send (&fx, &alice, "d", NULL, false);
    CHECK_INT_EQ (s_delivered (&fx, d), 0);
    gc_group_flush (fx.group);
    CHECK_INT_EQ (s_seq (&fx, d), 5);
    CHECK_INT_EQ (fx.n_pubs, 3);

    //  many more: batches of at most 3
    for (int i = 0; i < 10; i++) {
        s_send (&fx, &alice, "more", NULL, false);
    }
    gc_group_flush (fx.group);
    CHECK_INT_EQ (gc_group_last_seq (fx.group), 15);
    for (size_t i = 1; i < fx.n_pubs; i++) {
        CHECK (fx.pubs[i]->n_entries <= 3);
    }
    CHECK (s_finish (&fx));
}

//  A failing store: sends and membership changes are refused with STORE_FAILED, nothing is
//  published, and the stream continues without a gap once the store works again.
static void
test_store_failure (void)
{
    fixture_t fx;
    CHECK (s_setup (&fx));
    user_t alice, bob;
    s_user (&alice);
    s_user (&bob);
    CHECK_INT_EQ (s_status (&fx, s_join (&fx, &alice, "Alice")), GC_OK);
    size_t pubs = fx.n_pubs;

    fx.probe.fail_append = true;
    uint8_t id[GC_MSG_ID_SIZE];
    s_msg_id (id, 0x60);
    size_t s1 = s_send (&fx, &alice, "lost", id, false);
    size_t s2 = s_send (&fx, &alice, "lost too", NULL, false);
    gc_group_flush (fx.group);
    for (int i = 0; i < 2; i++) {
        const gc_group_reply_t *r = s_reply (&fx, i == 0 ? s1 : s2);
        CHECK (r);
        CHECK_INT_EQ (r->status, GC_STORE_FAILED);
        CHECK_CONTAINS (r->error, "not stored");
        CHECK_CONTAINS (r->error, "disk full");
        CHECK_INT_EQ (r->seq, 0);
    }
    CHECK_INT_EQ (fx.n_pubs, pubs);
    CHECK_INT_EQ (gc_group_last_seq (fx.group), 1);

    //  membership changes fail the same way, and change nothing
    const gc_group_reply_t *r = s_reply (&fx, s_join (&fx, &bob, "Bob"));
    CHECK (r);
    CHECK_INT_EQ (r->status, GC_STORE_FAILED);
    CHECK_INT_EQ (gc_group_member_count (fx.group), 1);
    CHECK_INT_EQ (s_status (&fx, s_send (&fx, &bob, "hi", NULL, false)), GC_NOT_MEMBER);
    r = s_reply (&fx, s_leave (&fx, &alice));
    CHECK (r);
    CHECK_INT_EQ (r->status, GC_STORE_FAILED);
    CHECK_INT_EQ (gc_group_member_count (fx.group), 1);
    r = s_reply (&fx, s_join (&fx, &alice, "Alice renamed"));
    CHECK (r);
    CHECK_INT_EQ (r->status, GC_STORE_FAILED);
    CHECK_INT_EQ (fx.n_pubs, pubs);
    CHECK_INT_EQ (gc_group_last_seq (fx.group), 1);
    //  reads still work
    Groupcast__V1__Fetch all = GROUPCAST__V1__FETCH__INIT;
    r = s_reply (&fx, s_fetch (&fx, &alice, &all));
    CHECK (r);
    CHECK_INT_EQ (r->status, GC_OK);
    CHECK_INT_EQ (r->n_entries, 1);

    //  the store recovers: the next entry is seq 2, no gap
    fx.probe.fail_append = false;
    size_t s3 = s_send (&fx, &alice, "works", NULL, false);
    gc_group_flush (fx.group);
    r = s_reply (&fx, s3);
    CHECK (r);
    CHECK_INT_EQ (r->status, GC_OK);
    CHECK_INT_EQ (r->seq, 2);
    CHECK_INT_EQ (fx.n_pubs, pubs + 1);
    CHECK_INT_EQ (fx.pubs[pubs]->n_entries, 1);
    CHECK_INT_EQ (fx.pubs[pubs]->entries[0]->seq, 2);
    CHECK_INT_EQ (fx.pubs[pubs]->last_seq, 2);
    //  the failed send was never stored: its retry is stored now
    size_t s4 = s_send (&fx, &alice, "lost", id, true);
    gc_group_flush (fx.group);
    CHECK_INT_EQ (s_status (&fx, s4), GC_OK);
    CHECK_INT_EQ (s_seq (&fx, s4), 3);
    r = s_reply (&fx, s_join (&fx, &bob, "Bob"));
    CHECK (r);
    CHECK_INT_EQ (r->status, GC_OK);
    CHECK_INT_EQ (r->seq, 4);

    r = s_reply (&fx, s_fetch (&fx, &alice, &all));
    CHECK (r);
    char buf[64];
    CHECK_STR_EQ (s_seqs (r->entries, r->n_entries, buf, sizeof buf), "1,2,3,4");
    CHECK (s_text_is (r->entries[1], "works"));
    CHECK (s_text_is (r->entries[2], "lost"));
    CHECK (s_finish (&fx));
}

//  A group restarted over the same store keeps its id, members, sequence and message ids, and
//  checks tokens against the stored digest.
static void
test_restart (void)
{
    fixture_t fx;
    CHECK (s_setup (&fx));
    user_t alice, mallory;
    s_user (&alice);
    mallory = alice;
    mallory.token[GC_TOKEN_SIZE - 1] ^= 0x80;
    CHECK_INT_EQ (s_status (&fx, s_join (&fx, &alice, "Alice")), GC_OK);
    uint8_t id[GC_MSG_ID_SIZE];
    s_msg_id (id, 0x70);
    size_t sent = s_send (&fx, &alice, "before restart", id, false);
    gc_group_flush (fx.group);
    int64_t last_ts = s_ts (&fx, sent);
    CHECK (last_ts > 0);
    char group_id[GC_UUID_STR_LEN + 1];
    snprintf (group_id, sizeof group_id, "%s", gc_group_id (fx.group));

    CHECK (s_stop (&fx));
    CHECK (s_start (&fx));
    CHECK_STR_EQ (gc_group_id (fx.group), group_id);
    CHECK_INT_EQ (gc_group_last_seq (fx.group), 2);
    CHECK_INT_EQ (gc_group_member_count (fx.group), 1);

    //  the token is checked against what was stored
    CHECK_INT_EQ (s_status (&fx, s_send (&fx, &mallory, "x", NULL, false)), GC_FORBIDDEN);
    CHECK_INT_EQ (s_status (&fx, s_join (&fx, &mallory, "M")), GC_FORBIDDEN);
    //  the retry of a message stored before the restart is found
    size_t retry = s_send (&fx, &alice, "before restart", id, true);
    gc_group_flush (fx.group);
    CHECK_INT_EQ (s_seq (&fx, retry), 2);
    //  new messages continue the sequence, timestamps never going back
    size_t after = s_send (&fx, &alice, "after restart", NULL, false);
    gc_group_flush (fx.group);
    const gc_group_reply_t *r = s_reply (&fx, after);
    CHECK (r);
    CHECK_INT_EQ (r->status, GC_OK);
    CHECK_INT_EQ (r->seq, 3);
    CHECK (r->ts_us >= last_ts);
    //  same name: no new entry
    CHECK_INT_EQ (s_seq (&fx, s_join (&fx, &alice, "Alice")), 0);
    r = s_reply (&fx, s_members (&fx, &alice));
    CHECK (r);
    CHECK_INT_EQ (r->n_members, 1);
    CHECK_STR_EQ (r->members[0]->name, "Alice");
    CHECK (s_finish (&fx));
}

static void
test_heartbeat (void)
{
    fixture_t fx;
    CHECK (s_setup (&fx));
    gc_group_heartbeat (fx.group);
    CHECK_INT_EQ (fx.n_pubs, 1);
    CHECK_STR_EQ (fx.pubs[0]->group, "ops");
    CHECK_INT_EQ (fx.pubs[0]->last_seq, 0);
    CHECK_INT_EQ (fx.pubs[0]->n_entries, 0);
    CHECK (fx.pubs[0]->ts_us > 0);
    user_t alice;
    s_user (&alice);
    CHECK_INT_EQ (s_status (&fx, s_join (&fx, &alice, "Alice")), GC_OK);
    gc_group_heartbeat (fx.group);
    CHECK_INT_EQ (fx.n_pubs, 3);
    CHECK_INT_EQ (fx.pubs[2]->last_seq, 1);
    CHECK_INT_EQ (fx.pubs[2]->n_entries, 0);
    CHECK (s_finish (&fx));
}

static void
test_retention (void)
{
    fixture_t fx;
    CHECK (s_setup (&fx));
    gc_group_set_retention (fx.group, 3, 0);
    user_t alice;
    s_user (&alice);
    CHECK_INT_EQ (s_status (&fx, s_join (&fx, &alice, "Alice")), GC_OK);
    for (int i = 0; i < 5; i++) {
        s_send (&fx, &alice, "m", NULL, false);
    }
    gc_group_flush (fx.group);
    CHECK_INT_EQ (gc_group_last_seq (fx.group), 6);
    Groupcast__V1__Fetch all = GROUPCAST__V1__FETCH__INIT;
    const gc_group_reply_t *r = s_reply (&fx, s_fetch (&fx, &alice, &all));
    CHECK (r);
    char buf[64];
    CHECK_STR_EQ (s_seqs (r->entries, r->n_entries, buf, sizeof buf), "4,5,6");
    CHECK_INT_EQ (r->first_seq, 4);
    CHECK_INT_EQ (r->last_seq, 6);
    r = s_reply (&fx, s_info (&fx, NULL));
    CHECK (r);
    CHECK_INT_EQ (r->first_seq, 4);
    //  membership survives the pruning of its join entry
    CHECK_INT_EQ (gc_group_member_count (fx.group), 1);
    size_t c = s_send (&fx, &alice, "still a member", NULL, false);
    gc_group_flush (fx.group);
    CHECK_INT_EQ (s_seq (&fx, c), 7);
    CHECK (s_finish (&fx));
}

//  A batch is committed by itself once it holds GC_GROUP_MAX_BATCH_BYTES of text, so a
//  published frame stays well under GC_MAX_FRAME.
static void
test_batch_bytes (void)
{
    fixture_t fx;
    CHECK (s_setup (&fx));
    user_t alice;
    s_user (&alice);
    CHECK_INT_EQ (s_status (&fx, s_join (&fx, &alice, "Alice")), GC_OK);
    char *big = (char *) malloc (GC_MAX_TEXT + 1);
    CHECK (big);
    memset (big, 'b', GC_MAX_TEXT);
    big[GC_MAX_TEXT] = '\0';
    const size_t per_batch = GC_GROUP_MAX_BATCH_BYTES / GC_MAX_TEXT;   //  16
    size_t first = 0, last = 0;
    for (size_t i = 0; i < per_batch - 1; i++) {
        last = s_send (&fx, &alice, big, NULL, false);
        first = first ? first : last;
    }
    unsigned early = s_delivered (&fx, first);
    size_t pubs_before = fx.n_pubs;
    last = s_send (&fx, &alice, big, NULL, false);
    unsigned after = s_delivered (&fx, first);
    free (big);
    CHECK_INT_EQ (early, 0);
    CHECK_INT_EQ (pubs_before, 1);
    CHECK_INT_EQ (after, 1);
    CHECK_INT_EQ (s_delivered (&fx, last), 1);
    CHECK_INT_EQ (s_seq (&fx, last), 1 + per_batch);
    CHECK_INT_EQ (fx.n_pubs, 2);
    CHECK_INT_EQ (fx.pubs[1]->n_entries, per_batch);
    CHECK (s_finish (&fx));
}

//  A history page holds at most GC_GROUP_MAX_BATCH_BYTES of text (and at least one entry): it
//  ends early with `more`; a newest-first page keeps its newest entries.
static void
test_fetch_page_bytes (void)
{
    fixture_t fx;
    CHECK (s_setup (&fx));
    user_t alice;
    s_user (&alice);
    CHECK_INT_EQ (s_status (&fx, s_join (&fx, &alice, "Alice")), GC_OK);
    char *big = (char *) malloc (GC_MAX_TEXT + 1);
    CHECK (big);
    memset (big, 'p', GC_MAX_TEXT);
    big[GC_MAX_TEXT] = '\0';
    for (int i = 0; i < 20; i++) {
        s_send (&fx, &alice, big, NULL, false);   //  seq 2 .. 21
    }
    free (big);
    gc_group_flush (fx.group);
    CHECK_INT_EQ (gc_group_last_seq (fx.group), 21);

    //  the join (no text) and 16 full messages fill the budget exactly
    Groupcast__V1__Fetch fetch = GROUPCAST__V1__FETCH__INIT;
    const gc_group_reply_t *r = s_reply (&fx, s_fetch (&fx, &alice, &fetch));
    CHECK (r);
    CHECK_INT_EQ (r->status, GC_OK);
    CHECK_INT_EQ (r->n_entries, 17);
    CHECK_INT_EQ (r->entries[16]->seq, 17);
    CHECK_INT_EQ (r->entries[16]->text.len, GC_MAX_TEXT);
    CHECK (r->more);
    //  the next page
    fetch.after_seq = 17;
    r = s_reply (&fx, s_fetch (&fx, &alice, &fetch));
    CHECK (r);
    CHECK_INT_EQ (r->n_entries, 4);
    CHECK_INT_EQ (r->entries[0]->seq, 18);
    CHECK (!r->more);

    //  newest first: the newest 16 messages, then the older rest
    Groupcast__V1__Fetch newest = GROUPCAST__V1__FETCH__INIT;
    newest.newest = true;
    r = s_reply (&fx, s_fetch (&fx, &alice, &newest));
    CHECK (r);
    CHECK_INT_EQ (r->status, GC_OK);
    char buf[128];
    CHECK_STR_EQ (s_seqs (r->entries, r->n_entries, buf, sizeof buf),
                  "6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21");
    CHECK (r->more);
    newest.before_seq = 6;
    r = s_reply (&fx, s_fetch (&fx, &alice, &newest));
    CHECK (r);
    CHECK_STR_EQ (s_seqs (r->entries, r->n_entries, buf, sizeof buf), "1,2,3,4,5");
    CHECK (!r->more);

    //  a limit below the budget still applies as usual
    fetch.after_seq = 0;
    fetch.limit = 2;
    r = s_reply (&fx, s_fetch (&fx, &alice, &fetch));
    CHECK (r);
    CHECK_STR_EQ (s_seqs (r->entries, r->n_entries, buf, sizeof buf), "1,2");
    CHECK (r->more);
    CHECK (s_finish (&fx));
}

//  --------------------------------------------------------------------------------------------
//  Send batches

//  A batch is acknowledged at the commit with one reply listing each message's seq (contiguous)
//  and timestamp (strictly rising), stored in one transaction and published in one frame, in
//  the order given.
static void
test_batch_ack (void)
{
    fixture_t fx;
    CHECK (s_setup (&fx));
    user_t alice;
    s_user (&alice);
    const gc_group_reply_t *joined = s_reply (&fx, s_join (&fx, &alice, "Alice"));
    CHECK (joined);
    int64_t join_ts = joined->ts_us;
    size_t replies = fx.n_replies;
    size_t appends = fx.probe.appends;

    const char *texts[] = { "one", "two", "three", "four", "five" };
    size_t c = s_send_batch (&fx, &alice, 5, texts, NULL, false);
    //  queued like a send: nothing answered, stored or published before the flush
    CHECK_INT_EQ (s_delivered (&fx, c), 0);
    CHECK_INT_EQ (fx.n_replies, replies);
    CHECK_INT_EQ (fx.probe.appends, appends);
    CHECK_INT_EQ (fx.n_pubs, 1);
    gc_group_flush (fx.group);

    //  one reply for the five
    CHECK_INT_EQ (fx.n_replies, replies + 1);
    CHECK_INT_EQ (s_delivered (&fx, c), 1);
    const gc_group_reply_t *r = s_reply (&fx, c);
    CHECK (r);
    CHECK_INT_EQ (r->status, GC_OK);
    CHECK_INT_EQ (r->request_id, c);
    CHECK_INT_EQ (r->n_seqs, 5);
    CHECK_INT_EQ (r->n_ts_list, 5);
    char buf[128];
    CHECK_STR_EQ (s_ack_seqs (&fx, c, buf, sizeof buf), "2,3,4,5,6");
    CHECK (s_ack_ts_rising (&fx, c, join_ts));
    CHECK_INT_EQ (r->last_seq, 6);
    CHECK_INT_EQ (gc_group_last_seq (fx.group), 6);
    //  one transaction
    CHECK_INT_EQ (fx.probe.appends, appends + 1);
    CHECK_INT_EQ (fx.probe.commits, appends + 1);

    //  one frame, the five in order, with the acknowledged timestamps
    CHECK_INT_EQ (fx.n_pubs, 2);
    const gc_publish_t *pub = fx.pubs[1];
    CHECK_INT_EQ (pub->last_seq, 6);
    CHECK_INT_EQ (pub->n_entries, 5);
    for (size_t i = 0; i < 5; i++) {
        const Groupcast__V1__Entry *e = pub->entries[i];
        CHECK_INT_EQ (e->seq, 2 + i);
        CHECK_INT_EQ (e->kind, GROUPCAST__V1__ENTRY_KIND__ENTRY_MESSAGE);
        CHECK_STR_EQ (e->sender, alice.id);
        CHECK_STR_EQ (e->name, "Alice");
        CHECK (s_text_is (e, texts[i]));
        CHECK_INT_EQ (e->ts_us, r->ts_list[i]);
    }

    //  and stored so
    Groupcast__V1__Fetch all = GROUPCAST__V1__FETCH__INIT;
    const gc_group_reply_t *h = s_reply (&fx, s_fetch (&fx, &alice, &all));
    CHECK (h);
    CHECK_STR_EQ (s_seqs (h->entries, h->n_entries, buf, sizeof buf), "1,2,3,4,5,6");
    for (size_t i = 0; i < 5; i++) {
        CHECK (s_text_is (h->entries[i + 1], texts[i]));
        CHECK_INT_EQ (h->entries[i + 1]->ts_us, r->ts_list[i]);
    }

    //  a single send's ack still carries seq and ts_us, and no lists
    size_t one = s_send (&fx, &alice, "single", NULL, false);
    gc_group_flush (fx.group);
    r = s_reply (&fx, one);
    CHECK (r);
    CHECK_INT_EQ (r->seq, 7);
    CHECK_INT_EQ (r->n_seqs, 0);
    CHECK_INT_EQ (r->n_ts_list, 0);
    CHECK (s_finish (&fx));
}

//  A batch from a non-member or with another member's id but not its token is refused at once,
//  whole, and nothing of it is stored; sends queued before it are untouched.
static void
test_batch_not_member (void)
{
    fixture_t fx;
    CHECK (s_setup (&fx));
    user_t alice, bob, mallory;
    s_user (&alice);
    s_user (&bob);
    mallory = alice;
    mallory.token[3] ^= 0x20;
    CHECK_INT_EQ (s_status (&fx, s_join (&fx, &alice, "Alice")), GC_OK);
    size_t appends = fx.probe.appends;
    size_t queued = s_send (&fx, &alice, "queued", NULL, false);

    const char *texts[] = { "x", "y", "z" };
    size_t c = s_send_batch (&fx, &bob, 3, texts, NULL, false);
    CHECK_INT_EQ (s_delivered (&fx, c), 1);
    const gc_group_reply_t *r = s_reply (&fx, c);
    CHECK (r);
    CHECK_INT_EQ (r->status, GC_NOT_MEMBER);
    CHECK_CONTAINS (r->error, "not a member");
    CHECK_INT_EQ (r->n_seqs, 0);
    c = s_send_batch (&fx, &mallory, 3, texts, NULL, false);
    CHECK_INT_EQ (s_delivered (&fx, c), 1);
    CHECK_INT_EQ (s_status (&fx, c), GC_FORBIDDEN);
    CHECK_INT_EQ (s_delivered (&fx, queued), 0);

    gc_group_flush (fx.group);
    CHECK_INT_EQ (s_seq (&fx, queued), 2);
    CHECK_INT_EQ (gc_group_last_seq (fx.group), 2);
    CHECK_INT_EQ (fx.probe.appends, appends + 1);
    CHECK_INT_EQ (fx.n_pubs, 2);
    CHECK_INT_EQ (fx.pubs[1]->n_entries, 1);
    Groupcast__V1__Fetch all = GROUPCAST__V1__FETCH__INIT;
    r = s_reply (&fx, s_fetch (&fx, &alice, &all));
    CHECK (r);
    char buf[64];
    CHECK_STR_EQ (s_seqs (r->entries, r->n_entries, buf, sizeof buf), "1,2");
    CHECK (s_finish (&fx));
}

//  A batch retried after its commit gets the original seqs and timestamps, and nothing is
//  stored or published again; retried while the original is still queued, the same.
static void
test_batch_retry_after_commit (void)
{
    fixture_t fx;
    CHECK (s_setup (&fx));
    user_t alice;
    s_user (&alice);
    CHECK_INT_EQ (s_status (&fx, s_join (&fx, &alice, "Alice")), GC_OK);
    uint8_t id[3][GC_MSG_ID_SIZE];
    const uint8_t *ids[3];
    for (int i = 0; i < 3; i++) {
        s_msg_id (id[i], (uint8_t) (0x80 + 0x10 * i));
        ids[i] = id[i];
    }
    const char *texts[] = { "a", "b", "c" };
    size_t orig = s_send_batch (&fx, &alice, 3, texts, ids, false);
    gc_group_flush (fx.group);
    char buf[64], again_buf[64];
    CHECK_STR_EQ (s_ack_seqs (&fx, orig, buf, sizeof buf), "2,3,4");
    size_t pubs = fx.n_pubs, commits = fx.probe.commits;

    size_t again = s_send_batch (&fx, &alice, 3, texts, ids, true);
    gc_group_flush (fx.group);
    CHECK_INT_EQ (s_delivered (&fx, again), 1);
    CHECK_STR_EQ (s_ack_seqs (&fx, again, again_buf, sizeof again_buf), "2,3,4");
    const gc_group_reply_t *o = s_reply (&fx, orig);
    const gc_group_reply_t *r = s_reply (&fx, again);
    CHECK (o && r);
    for (size_t i = 0; i < 3; i++) {
        CHECK_INT_EQ (r->ts_list[i], o->ts_list[i]);
    }
    CHECK_INT_EQ (r->last_seq, 4);
    CHECK_INT_EQ (gc_group_last_seq (fx.group), 4);
    CHECK_INT_EQ (fx.n_pubs, pubs);
    CHECK_INT_EQ (fx.probe.commits, commits);

    //  retried while the original is queued in the same turn: stored once, both acknowledged
    //  with its seqs
    uint8_t id2[2][GC_MSG_ID_SIZE];
    s_msg_id (id2[0], 0x01);
    s_msg_id (id2[1], 0x02);
    const uint8_t *ids2[2] = { id2[0], id2[1] };
    const char *texts2[] = { "d", "e" };
    size_t first = s_send_batch (&fx, &alice, 2, texts2, ids2, false);
    size_t retry = s_send_batch (&fx, &alice, 2, texts2, ids2, true);
    gc_group_flush (fx.group);
    CHECK_STR_EQ (s_ack_seqs (&fx, first, buf, sizeof buf), "5,6");
    CHECK_STR_EQ (s_ack_seqs (&fx, retry, again_buf, sizeof again_buf), "5,6");
    CHECK_INT_EQ (gc_group_last_seq (fx.group), 6);
    CHECK_INT_EQ (fx.n_pubs, pubs + 1);
    CHECK_INT_EQ (fx.pubs[pubs]->n_entries, 2);

    //  a single retried send finds a message stored by a batch
    size_t single = s_send (&fx, &alice, "b", id[1], true);
    CHECK_INT_EQ (s_delivered (&fx, single), 1);   //  already stored: answered at once
    CHECK_INT_EQ (s_seq (&fx, single), 3);
    CHECK_INT_EQ (s_ts (&fx, single), o->ts_list[1]);

    Groupcast__V1__Fetch all = GROUPCAST__V1__FETCH__INIT;
    r = s_reply (&fx, s_fetch (&fx, &alice, &all));
    CHECK (r);
    CHECK_STR_EQ (s_seqs (r->entries, r->n_entries, buf, sizeof buf), "1,2,3,4,5,6");
    CHECK (s_finish (&fx));
}

//  A retried batch mixing stored and new ids stores only the new ones; the acknowledgement
//  pairs each message with its own seq, in request order.
static void
test_batch_retry_mixed (void)
{
    fixture_t fx;
    CHECK (s_setup (&fx));
    user_t alice, bob;
    s_user (&alice);
    s_user (&bob);
    CHECK_INT_EQ (s_status (&fx, s_join (&fx, &alice, "Alice")), GC_OK);
    CHECK_INT_EQ (s_status (&fx, s_join (&fx, &bob, "Bob")), GC_OK);
    uint8_t id[5][GC_MSG_ID_SIZE];
    for (int i = 0; i < 5; i++) {
        s_msg_id (id[i], (uint8_t) (0x11 * (i + 1)));
    }
    //  A and B stored, A by a batch, B by a single send
    const uint8_t *first_ids[2] = { id[0], id[4] };
    const char *first_texts[] = { "A", "other" };
    size_t c1 = s_send_batch (&fx, &alice, 2, first_texts, first_ids, false);
    size_t c2 = s_send (&fx, &alice, "B", id[1], false);
    gc_group_flush (fx.group);
    char buf[64];
    CHECK_STR_EQ (s_ack_seqs (&fx, c1, buf, sizeof buf), "3,4");
    CHECK_INT_EQ (s_seq (&fx, c2), 5);
    size_t pubs = fx.n_pubs;

    //  [A, X, B, Y]: A and B keep 3 and 5, X and Y are stored as 6 and 7
    const uint8_t *mixed_ids[4] = { id[0], id[2], id[1], id[3] };
    const char *mixed_texts[] = { "A", "X", "B", "Y" };
    size_t c = s_send_batch (&fx, &alice, 4, mixed_texts, mixed_ids, true);
    gc_group_flush (fx.group);
    CHECK_STR_EQ (s_ack_seqs (&fx, c, buf, sizeof buf), "3,6,5,7");
    const gc_group_reply_t *r = s_reply (&fx, c);
    CHECK (r);
    CHECK_INT_EQ (r->last_seq, 7);
    CHECK (r->ts_list[1] < r->ts_list[3]);
    CHECK_INT_EQ (fx.n_pubs, pubs + 1);
    const gc_publish_t *pub = fx.pubs[pubs];
    CHECK_STR_EQ (s_seqs (pub->entries, pub->n_entries, buf, sizeof buf), "6,7");
    CHECK (s_text_is (pub->entries[0], "X"));
    CHECK (s_text_is (pub->entries[1], "Y"));
    CHECK_INT_EQ (pub->entries[0]->ts_us, r->ts_list[1]);
    CHECK_INT_EQ (pub->entries[1]->ts_us, r->ts_list[3]);

    //  the same id from another sender is another message
    const uint8_t *bob_ids[2] = { id[0], id[1] };
    c = s_send_batch (&fx, &bob, 2, mixed_texts, bob_ids, true);
    gc_group_flush (fx.group);
    CHECK_STR_EQ (s_ack_seqs (&fx, c, buf, sizeof buf), "8,9");

    //  one id twice in a retried batch that was never stored: stored once, both get its seq
    uint8_t fresh[GC_MSG_ID_SIZE];
    s_msg_id (fresh, 0xe0);
    const uint8_t *twice_ids[3] = { fresh, NULL, fresh };
    const char *twice_texts[] = { "T", "no id", "T" };
    c = s_send_batch (&fx, &alice, 3, twice_texts, twice_ids, true);
    gc_group_flush (fx.group);
    CHECK_STR_EQ (s_ack_seqs (&fx, c, buf, sizeof buf), "10,11,10");
    CHECK_INT_EQ (gc_group_last_seq (fx.group), 11);

    //  history holds each message once
    Groupcast__V1__Fetch all = GROUPCAST__V1__FETCH__INIT;
    r = s_reply (&fx, s_fetch (&fx, &alice, &all));
    CHECK (r);
    CHECK_STR_EQ (s_seqs (r->entries, r->n_entries, buf, sizeof buf), "1,2,3,4,5,6,7,8,9,10,11");
    const char *want[] = { "", "", "A", "other", "B", "X", "Y", "A", "X", "T", "no id" };
    for (size_t i = 2; i < 11; i++) {
        CHECK (s_text_is (r->entries[i], want[i]));
    }
    CHECK (s_finish (&fx));
}

//  Batches and single sends queued in one turn keep arrival order: in seqs, in the order of the
//  acknowledgements, and in the published frame.
static void
test_batch_interleaved (void)
{
    fixture_t fx;
    CHECK (s_setup (&fx));
    user_t alice, bob;
    s_user (&alice);
    s_user (&bob);
    CHECK_INT_EQ (s_status (&fx, s_join (&fx, &alice, "Alice")), GC_OK);
    CHECK_INT_EQ (s_status (&fx, s_join (&fx, &bob, "Bob")), GC_OK);
    size_t replies = fx.n_replies;

    const char *b1[] = { "b1", "b2" };
    const char *b2[] = { "b3", "b4", "b5" };
    size_t s1 = s_send (&fx, &alice, "s1", NULL, false);
    size_t c1 = s_send_batch (&fx, &bob, 2, b1, NULL, false);
    size_t s2 = s_send (&fx, &bob, "s2", NULL, false);
    size_t c2 = s_send_batch (&fx, &alice, 3, b2, NULL, false);
    size_t s3 = s_send (&fx, &alice, "s3", NULL, false);
    CHECK_INT_EQ (fx.n_replies, replies);
    gc_group_flush (fx.group);

    CHECK_INT_EQ (fx.n_replies, replies + 5);
    const size_t order[] = { s1, c1, s2, c2, s3 };
    for (size_t i = 0; i < 5; i++) {
        CHECK_INT_EQ (fx.replies[replies + i].cookie, order[i]);
    }
    char buf[64];
    CHECK_INT_EQ (s_seq (&fx, s1), 3);
    CHECK_STR_EQ (s_ack_seqs (&fx, c1, buf, sizeof buf), "4,5");
    CHECK_INT_EQ (s_seq (&fx, s2), 6);
    CHECK_STR_EQ (s_ack_seqs (&fx, c2, buf, sizeof buf), "7,8,9");
    CHECK_INT_EQ (s_seq (&fx, s3), 10);
    //  timestamps rise across all of them
    CHECK (s_ack_ts_rising (&fx, c1, s_ts (&fx, s1)));
    CHECK (s_ts (&fx, s2) > s_reply (&fx, c1)->ts_list[1]);
    CHECK (s_ack_ts_rising (&fx, c2, s_ts (&fx, s2)));
    CHECK (s_ts (&fx, s3) > s_reply (&fx, c2)->ts_list[2]);

    CHECK_INT_EQ (fx.n_pubs, 3);
    const gc_publish_t *pub = fx.pubs[2];
    CHECK_STR_EQ (s_seqs (pub->entries, pub->n_entries, buf, sizeof buf), "3,4,5,6,7,8,9,10");
    const char *texts[] = { "s1", "b1", "b2", "s2", "b3", "b4", "b5", "s3" };
    const char *senders[] = { alice.id, bob.id, bob.id, bob.id,
                              alice.id, alice.id, alice.id, alice.id };
    for (size_t i = 0; i < 8; i++) {
        CHECK (s_text_is (pub->entries[i], texts[i]));
        CHECK_STR_EQ (pub->entries[i]->sender, senders[i]);
    }
    CHECK (s_finish (&fx));
}

//  A batch that would take the turn past max_batch makes the group commit what is queued
//  first: the earlier sends are acknowledged (and published) before the batch. A batch is never
//  split: one larger than max_batch is committed whole, at once.
static void
test_batch_max_batch (void)
{
    fixture_t fx;
    CHECK (s_setup (&fx));
    gc_group_set_max_batch (fx.group, 5);
    user_t alice;
    s_user (&alice);
    CHECK_INT_EQ (s_status (&fx, s_join (&fx, &alice, "Alice")), GC_OK);
    size_t commits = fx.probe.commits;
    char buf[64];

    //  three queued, then a batch of three: 6 > 5
    size_t a = s_send (&fx, &alice, "a", NULL, false);
    size_t b = s_send (&fx, &alice, "b", NULL, false);
    size_t c = s_send (&fx, &alice, "c", NULL, false);
    const char *xyz[] = { "x", "y", "z" };
    size_t batch = s_send_batch (&fx, &alice, 3, xyz, NULL, false);
    CHECK_INT_EQ (s_delivered (&fx, a), 1);
    CHECK_INT_EQ (s_delivered (&fx, b), 1);
    CHECK_INT_EQ (s_delivered (&fx, c), 1);
    CHECK_INT_EQ (s_delivered (&fx, batch), 0);
    CHECK_INT_EQ (s_seq (&fx, a), 2);
    CHECK_INT_EQ (s_seq (&fx, b), 3);
    CHECK_INT_EQ (s_seq (&fx, c), 4);
    CHECK_INT_EQ (s_reply (&fx, c)->last_seq, 4);
    CHECK_INT_EQ (fx.probe.commits, commits + 1);
    CHECK_INT_EQ (fx.n_pubs, 2);
    CHECK_STR_EQ (s_seqs (fx.pubs[1]->entries, fx.pubs[1]->n_entries, buf, sizeof buf),
                  "2,3,4");
    gc_group_flush (fx.group);
    CHECK (s_reply_index (&fx, c) < s_reply_index (&fx, batch));
    CHECK_STR_EQ (s_ack_seqs (&fx, batch, buf, sizeof buf), "5,6,7");
    CHECK (s_ack_ts_rising (&fx, batch, s_ts (&fx, c)));
    CHECK_INT_EQ (fx.probe.commits, commits + 2);
    CHECK_INT_EQ (fx.n_pubs, 3);
    CHECK_STR_EQ (s_seqs (fx.pubs[2]->entries, fx.pubs[2]->n_entries, buf, sizeof buf),
                  "5,6,7");
    CHECK (s_text_is (fx.pubs[2]->entries[0], "x"));

    //  two queued and a batch of three fill the turn exactly: one commit, without a flush call
    size_t d = s_send (&fx, &alice, "d", NULL, false);
    size_t e = s_send (&fx, &alice, "e", NULL, false);
    batch = s_send_batch (&fx, &alice, 3, xyz, NULL, false);
    CHECK_INT_EQ (s_delivered (&fx, d), 1);
    CHECK_INT_EQ (s_delivered (&fx, batch), 1);
    CHECK_INT_EQ (s_seq (&fx, d), 8);
    CHECK_INT_EQ (s_seq (&fx, e), 9);
    CHECK_STR_EQ (s_ack_seqs (&fx, batch, buf, sizeof buf), "10,11,12");
    CHECK (s_reply_index (&fx, e) < s_reply_index (&fx, batch));
    CHECK_INT_EQ (fx.probe.commits, commits + 3);
    CHECK_INT_EQ (fx.n_pubs, 4);
    CHECK_INT_EQ (fx.pubs[3]->n_entries, 5);

    //  one queued, then a batch of seven (more than max_batch): the queued one alone, then the
    //  seven in one commit and one frame, at once
    size_t f = s_send (&fx, &alice, "f", NULL, false);
    const char *seven[] = { "1", "2", "3", "4", "5", "6", "7" };
    batch = s_send_batch (&fx, &alice, 7, seven, NULL, false);
    CHECK_INT_EQ (s_seq (&fx, f), 13);
    CHECK_INT_EQ (s_delivered (&fx, batch), 1);
    CHECK_STR_EQ (s_ack_seqs (&fx, batch, buf, sizeof buf), "14,15,16,17,18,19,20");
    CHECK (s_reply_index (&fx, f) < s_reply_index (&fx, batch));
    CHECK_INT_EQ (fx.probe.commits, commits + 5);
    CHECK_INT_EQ (fx.n_pubs, 6);
    CHECK_INT_EQ (fx.pubs[4]->n_entries, 1);
    CHECK_INT_EQ (fx.pubs[5]->n_entries, 7);
    CHECK_INT_EQ (fx.pubs[5]->last_seq, 20);

    //  a send after it starts a new turn
    size_t g = s_send (&fx, &alice, "g", NULL, false);
    CHECK_INT_EQ (s_delivered (&fx, g), 0);
    gc_group_flush (fx.group);
    CHECK_INT_EQ (s_seq (&fx, g), 21);

    //  every published frame contiguous, every seq once
    CHECK_INT_EQ (s_published_run (&fx, 0, 1), 21);
    CHECK (s_finish (&fx));
}

//  The same by text: a batch that would take the turn past GC_GROUP_MAX_BATCH_BYTES commits
//  what is queued first; a batch of the full 1 MiB is committed at once.
static void
test_batch_max_bytes (void)
{
    fixture_t fx;
    CHECK (s_setup (&fx));
    user_t alice;
    s_user (&alice);
    CHECK_INT_EQ (s_status (&fx, s_join (&fx, &alice, "Alice")), GC_OK);
    char *big = (char *) malloc (GC_MAX_TEXT + 1);
    CHECK (big);
    memset (big, 'B', GC_MAX_TEXT);
    big[GC_MAX_TEXT] = '\0';
    const size_t full = GC_GROUP_MAX_BATCH_BYTES / GC_MAX_TEXT;   //  16
    const char *texts[16];
    for (size_t i = 0; i < full && i < 16; i++) {
        texts[i] = big;
    }
    size_t one = s_send (&fx, &alice, "small", NULL, false);
    unsigned one_early = s_delivered (&fx, one);
    size_t batch = s_send_batch (&fx, &alice, full, texts, NULL, false);
    //  one full message queued, then a batch of seven more: half the budget, stays queued
    size_t two = s_send (&fx, &alice, big, NULL, false);
    size_t half = s_send_batch (&fx, &alice, full / 2 - 1, texts, NULL, false);
    unsigned half_early = s_delivered (&fx, half);
    gc_group_flush (fx.group);
    free (big);
    CHECK (full == 16);
    CHECK_INT_EQ (one_early, 0);
    CHECK_INT_EQ (s_seq (&fx, one), 2);
    char buf[256];
    CHECK_STR_EQ (s_ack_seqs (&fx, batch, buf, sizeof buf),
                  "3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18");
    CHECK (s_reply_index (&fx, one) < s_reply_index (&fx, batch));
    CHECK_INT_EQ (half_early, 0);
    CHECK_INT_EQ (s_seq (&fx, two), 19);
    CHECK_STR_EQ (s_ack_seqs (&fx, half, buf, sizeof buf), "20,21,22,23,24,25,26");
    CHECK_INT_EQ (fx.n_pubs, 4);
    CHECK_INT_EQ (fx.pubs[1]->n_entries, 1);
    CHECK_INT_EQ (fx.pubs[2]->n_entries, full);
    CHECK_INT_EQ (fx.pubs[3]->n_entries, full / 2);
    CHECK (s_finish (&fx));
}

//  A store failure fails the whole batch, with the single sends of its turn; nothing is
//  published, and once the store works the retried batch is stored without a gap.
static void
test_batch_store_failure (void)
{
    fixture_t fx;
    CHECK (s_setup (&fx));
    user_t alice;
    s_user (&alice);
    CHECK_INT_EQ (s_status (&fx, s_join (&fx, &alice, "Alice")), GC_OK);
    size_t pubs = fx.n_pubs;
    uint8_t id[3][GC_MSG_ID_SIZE];
    const uint8_t *ids[3];
    for (int i = 0; i < 3; i++) {
        s_msg_id (id[i], (uint8_t) (0x31 + i * 0x20));
        ids[i] = id[i];
    }
    const char *texts[] = { "p", "q", "r" };

    fx.probe.fail_append = true;
    size_t s1 = s_send (&fx, &alice, "lost", NULL, false);
    size_t c = s_send_batch (&fx, &alice, 3, texts, ids, false);
    gc_group_flush (fx.group);
    CHECK_INT_EQ (s_delivered (&fx, c), 1);
    const gc_group_reply_t *r = s_reply (&fx, c);
    CHECK (r);
    CHECK_INT_EQ (r->status, GC_STORE_FAILED);
    CHECK_CONTAINS (r->error, "not stored");
    CHECK_CONTAINS (r->error, "disk full");
    CHECK_INT_EQ (r->n_seqs, 0);
    CHECK_INT_EQ (r->n_ts_list, 0);
    CHECK_INT_EQ (s_status (&fx, s1), GC_STORE_FAILED);
    CHECK_INT_EQ (fx.n_pubs, pubs);
    CHECK_INT_EQ (gc_group_last_seq (fx.group), 1);

    //  the store recovers: the retried batch is new to it, stored from seq 2
    fx.probe.fail_append = false;
    c = s_send_batch (&fx, &alice, 3, texts, ids, true);
    gc_group_flush (fx.group);
    char buf[64];
    CHECK_STR_EQ (s_ack_seqs (&fx, c, buf, sizeof buf), "2,3,4");
    CHECK_INT_EQ (fx.n_pubs, pubs + 1);
    CHECK_STR_EQ (s_seqs (fx.pubs[pubs]->entries, fx.pubs[pubs]->n_entries, buf, sizeof buf),
                  "2,3,4");
    Groupcast__V1__Fetch all = GROUPCAST__V1__FETCH__INIT;
    r = s_reply (&fx, s_fetch (&fx, &alice, &all));
    CHECK (r);
    CHECK_STR_EQ (s_seqs (r->entries, r->n_entries, buf, sizeof buf), "1,2,3,4");
    CHECK (s_finish (&fx));
}

//  A retry lookup that fails refuses the whole batch at once (STORE_FAILED): the messages of
//  it already queued are taken back, and what was queued before it is committed as if the
//  batch had never come.
static void
test_batch_lookup_failure (void)
{
    fixture_t fx;
    CHECK (s_setup (&fx));
    user_t alice;
    s_user (&alice);
    CHECK_INT_EQ (s_status (&fx, s_join (&fx, &alice, "Alice")), GC_OK);
    uint8_t id[2][GC_MSG_ID_SIZE];
    s_msg_id (id[0], 0x05);
    s_msg_id (id[1], 0x06);
    size_t before = s_send (&fx, &alice, "kept", NULL, false);

    //  the first two messages have no id (queued as new), the third's lookup fails
    fx.probe.fail_find = true;
    const uint8_t *ids[3] = { NULL, NULL, id[0] };
    const char *texts[] = { "gone 1", "gone 22", "gone 333" };
    size_t c = s_send_batch (&fx, &alice, 3, texts, ids, true);
    CHECK_INT_EQ (s_delivered (&fx, c), 1);
    const gc_group_reply_t *r = s_reply (&fx, c);
    CHECK (r);
    CHECK_INT_EQ (r->status, GC_STORE_FAILED);
    CHECK_CONTAINS (r->error, "look up");
    CHECK_INT_EQ (r->n_seqs, 0);
    fx.probe.fail_find = false;
    CHECK_INT_EQ (s_delivered (&fx, before), 0);

    const char *after_texts[] = { "next", "next too" };
    const uint8_t *after_ids[2] = { id[0], id[1] };
    size_t after = s_send_batch (&fx, &alice, 2, after_texts, after_ids, true);
    gc_group_flush (fx.group);
    CHECK_INT_EQ (s_seq (&fx, before), 2);
    char buf[64];
    CHECK_STR_EQ (s_ack_seqs (&fx, after, buf, sizeof buf), "3,4");
    CHECK_INT_EQ (fx.n_pubs, 2);
    CHECK_STR_EQ (s_seqs (fx.pubs[1]->entries, fx.pubs[1]->n_entries, buf, sizeof buf),
                  "2,3,4");
    CHECK (s_text_is (fx.pubs[1]->entries[0], "kept"));
    CHECK (s_text_is (fx.pubs[1]->entries[1], "next"));
    //  the refused batch's text is not counted either
    r = s_reply (&fx, s_stats (&fx, &alice));
    CHECK (r);
    CHECK_INT_EQ (r->status, GC_OK);
    CHECK_INT_EQ (r->message_count, 3);
    CHECK_INT_EQ (r->byte_count, strlen ("kept") + strlen ("next") + strlen ("next too"));

    //  a single retried send whose lookup fails is refused the same way
    fx.probe.fail_find = true;
    size_t single = s_send (&fx, &alice, "x", id[1], true);
    fx.probe.fail_find = false;
    CHECK_INT_EQ (s_delivered (&fx, single), 1);
    CHECK_INT_EQ (s_status (&fx, single), GC_STORE_FAILED);
    gc_group_flush (fx.group);
    CHECK_INT_EQ (gc_group_last_seq (fx.group), 4);
    CHECK (s_finish (&fx));
}

//  A batch survives a restart like single sends: its ids are found by a retry afterwards.
static void
test_batch_restart (void)
{
    fixture_t fx;
    CHECK (s_setup (&fx));
    user_t alice;
    s_user (&alice);
    CHECK_INT_EQ (s_status (&fx, s_join (&fx, &alice, "Alice")), GC_OK);
    uint8_t id[2][GC_MSG_ID_SIZE];
    s_msg_id (id[0], 0x71);
    s_msg_id (id[1], 0x72);
    const uint8_t *ids[2] = { id[0], id[1] };
    const char *texts[] = { "kept 1", "kept 2" };
    size_t c = s_send_batch (&fx, &alice, 2, texts, ids, false);
    CHECK (s_stop (&fx));
    char buf[64];
    CHECK_STR_EQ (s_ack_seqs (&fx, c, buf, sizeof buf), "2,3");
    CHECK (s_start (&fx));
    CHECK_INT_EQ (gc_group_last_seq (fx.group), 3);
    c = s_send_batch (&fx, &alice, 2, texts, ids, true);
    gc_group_flush (fx.group);
    CHECK_STR_EQ (s_ack_seqs (&fx, c, buf, sizeof buf), "2,3");
    CHECK_INT_EQ (gc_group_last_seq (fx.group), 3);
    CHECK (s_finish (&fx));
}

//  A turn of many tiny messages from a member with the longest display name, with max_batch far
//  above the default: the byte budget counts each entry's overhead, so every published frame
//  stays within GC_GROUP_MAX_BATCH_BYTES plus one entry (a subscriber refuses frames over
//  GC_MAX_FRAME, and entries without text are mostly overhead).
static void
test_publish_frame_bound (void)
{
    fixture_t fx;
    CHECK (s_setup (&fx));
    gc_group_set_max_batch (fx.group, 100000);
    user_t alice;
    s_user (&alice);
    char name[GC_MAX_NAME + 1];
    memset (name, 'n', GC_MAX_NAME);
    name[GC_MAX_NAME] = '\0';
    CHECK_INT_EQ (s_status (&fx, s_join (&fx, &alice, name)), GC_OK);
    size_t pubs = fx.n_pubs;
    size_t last = 0;
    for (int i = 0; i < 20000; i++) {
        last = s_send (&fx, &alice, "x", NULL, false);
    }
    gc_group_flush (fx.group);
    CHECK_INT_EQ (s_status (&fx, last), GC_OK);
    CHECK_INT_EQ (s_seq (&fx, last), 20001);
    //  The budget split the turn: several frames, none over the bound, all entries once.
    CHECK (fx.n_pubs - pubs >= 3);
    CHECK (fx.max_frame <= GC_GROUP_MAX_BATCH_BYTES + GC_GROUP_ENTRY_OVERHEAD);
    CHECK_INT_EQ (s_published_run (&fx, pubs, 2), 20001);
    CHECK_INT_EQ (fx.bad_frames, 0);
    CHECK (s_finish (&fx));
}

//  A steady stream of batches in one long turn (the loop keeps reading while requests wait):
//  each batch that fills the turn is queued right after the flush it causes, so the request
//  arena never finds the group without queued sends. It must still be emptied (by an early
//  commit) rather than grow until an unpack fails: 400 batches of 1024 x 100-byte messages
//  unpack into about 80 MB, past the arena's 64 MiB limit.
static void
test_long_turn_of_batches (void)
{
    fixture_t fx;
    CHECK (s_setup (&fx));
    user_t alice;
    s_user (&alice);
    CHECK_INT_EQ (s_status (&fx, s_join (&fx, &alice, "Alice")), GC_OK);
    enum { BATCHES = 400, SIZE = 1024 };
    char text[101];
    memset (text, 't', 100);
    text[100] = '\0';
    const char *texts[SIZE];
    for (size_t i = 0; i < SIZE; i++) {
        texts[i] = text;
    }
    size_t cookies[BATCHES];
    for (size_t b = 0; b < BATCHES; b++) {
        cookies[b] = s_send_batch (&fx, &alice, SIZE, texts, NULL, false);
    }
    gc_group_flush (fx.group);
    for (size_t b = 0; b < BATCHES; b++) {
        const gc_group_reply_t *reply = s_reply (&fx, cookies[b]);
        CHECK (reply);
        CHECK_INT_EQ (reply->status, GC_OK);
        CHECK_INT_EQ (reply->n_seqs, SIZE);
        CHECK_INT_EQ (reply->seqs[0], 2 + b * SIZE);
    }
    CHECK_INT_EQ (gc_group_last_seq (fx.group), 1 + BATCHES * SIZE);
    CHECK (s_finish (&fx));
}

static const gc_test_case_t s_cases[] = {
    { "join", test_join },
    { "not_member", test_not_member },
    { "wrong_token", test_wrong_token },
    { "group_commit", test_group_commit },
    { "fetch_filters", test_fetch_filters },
    { "fetch_limit_cap", test_fetch_limit_cap },
    { "reads_flush_first", test_reads_flush_first },
    { "leave", test_leave },
    { "rejoin", test_rejoin },
    { "retry_after_commit", test_retry_after_commit },
    { "retry_in_batch", test_retry_in_batch },
    { "duplicate_id_without_retry", test_duplicate_id_without_retry },
    { "members", test_members },
    { "info", test_info },
    { "malformed", test_malformed },
    { "max_batch", test_max_batch },
    { "batch_bytes", test_batch_bytes },
    { "fetch_page_bytes", test_fetch_page_bytes },
    { "store_failure", test_store_failure },
    { "restart", test_restart },
    { "heartbeat", test_heartbeat },
    { "retention", test_retention },
    { "batch_ack", test_batch_ack },
    { "batch_not_member", test_batch_not_member },
    { "batch_retry_after_commit", test_batch_retry_after_commit },
    { "batch_retry_mixed", test_batch_retry_mixed },
    { "batch_interleaved", test_batch_interleaved },
    { "batch_max_batch", test_batch_max_batch },
    { "batch_max_bytes", test_batch_max_bytes },
    { "batch_store_failure", test_batch_store_failure },
    { "batch_lookup_failure", test_batch_lookup_failure },
    { "batch_restart", test_batch_restart },
    { "publish_frame_bound", test_publish_frame_bound },
    { "long_turn_of_batches", test_long_turn_of_batches },
    { NULL, NULL },
};

int
main (int argc, char **argv)
{
    //  The group logs every request; keep stdout for the case results.
    zsys_set_logstream (stderr);
    return gc_test_run (argc, argv, s_cases);
}
