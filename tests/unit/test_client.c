/*  test_client - gc_client's async sends against a fake group: batching, acknowledgements,
    malformed and failed acknowledgements, timeouts, disconnects and resends
    SPDX-License-Identifier: MPL-2.0

    The fake group is a ROUTER bound to tcp://127.0.0.1:0 and driven by the test thread: it
    decodes each request with gc_wire_group_request_unpack and answers (or withholds the answer)
    with GroupReply frames made by gc_wire_pack, giving seqs from 1 in the order it answers. The
    client blocks in gc_client_flush while the fake must answer, so it lives in a zactor of its
    own, with its identity in the case's temp directory, addressing the group as
    "fake@tcp://127.0.0.1:PORT" (no registry). The test drives it over the actor's pipe:

        SEND n len    n gc_client_send_async, message k's text s_text (k, len); replies status,
                      how many were queued and their tags
        FLUSH         gc_client_flush; replies its status and gc_client_error (only FLUSH may be
                      outstanding while the test serves requests)
        ACKS          every ack handler call since the last ACKS, as ack_rec_t records
        QUEUED        the client's count of sends collected or in flight (white box)
        PUMP          gc_client_pump (client, 0); replies its result

    Every wait has a deadline; nothing sleeps.
*/
#include "gc_client_impl.h"
#include "gc_proc.h"
#include "gc_test.h"
#include "gc_wire.h"

#include <assert.h>

#define S_GROUP "fake"
#define S_MAX_REQS 256          //  requests one case may receive
#define S_TEXT_MAX 4096         //  the longest text a case sends
#define S_WAIT_MS 5000          //  deadline of one step that needs no timeout to pass
#define S_TS_BASE 1700000000000000LL

//  One call of the ack handler.
typedef struct {
    uint64_t tag;           //  the send's tag
    int status;             //  the gc_status_t it got
    bool has_ack;           //  whether ack was given (not NULL)
    gc_ack_t ack;           //  that ack
    char error[200];        //  the error text it got ("" for none; cut short here)
} ack_rec_t;

//  What the client actor is made from; borrowed from the fixture.
typedef struct {
    const char *home;       //  the identity's state directory
    const char *spec;       //  the group, NAME@ENDPOINT
    int timeout_ms;         //  gc_client_set_timeout
    int attempts;           //  gc_client_set_attempts
    size_t window;          //  gc_client_set_window
} client_args_t;

//  One request the fake group received.
typedef struct {
    zframe_t *peer;             //  the client DEALER's routing id, owned
    gc_group_request_t *req;    //  the decoded request, owned
} fake_req_t;

typedef struct {
    char *dir;                          //  the case's temp directory, owned
    char home[1024];                    //  the identity's state directory, in dir
    char endpoint[64];                  //  where the fake group is bound
    char spec[128];                     //  "fake@" endpoint
    client_args_t args;                 //  the client actor's
    zsock_t *router;                    //  the fake group
    zactor_t *client;                   //  the client, in its own thread
    bool flushing;                      //  a FLUSH is outstanding
    int flush_status;                   //  the last FLUSH's status, once in
    char *flush_error;                  //  and its gc_client_error, owned
    fake_req_t reqs[S_MAX_REQS];        //  every request received, in arrival order
    size_t nreqs;                       //  how many
    uint64_t answered[S_MAX_REQS][2];   //  request_id and first seq of each acknowledged one
    size_t nanswered;                   //  how many
    uint64_t next_seq;                  //  the fake group's next seq
    uint64_t *tags;                     //  tags of every send queued, in send order, owned
    size_t ntags;                       //  how many
    ack_rec_t *acks;                    //  the last ACKS, owned
    size_t nacks;                       //  how many
} fixture_t;

//  --------------------------------------------------------------------------------------------
//  The client actor

//  The text of the k-th message a client sends: "m<k>." padded with one letter to len bytes
//  (or not at all when len is shorter). Writes into buf (S_TEXT_MAX + 1 bytes); returns the size.
static size_t
s_text (size_t k, size_t len, char *buf)
{
    int n = snprintf (buf, S_TEXT_MAX + 1, "m%06zu.", k);
    assert (n > 0 && len <= S_TEXT_MAX);
    size_t used = (size_t) n;
    if (len > used) {
        memset (buf + used, 'a' + (int) (k % 26), len - used);
        used = len;
    }
    buf[used] = '\0';
    return used;
}

typedef struct {
    ack_rec_t *recs;        //  calls recorded, owned
    size_t count;           //  how many
    size_t capacity;        //  allocated
    bool lost;              //  a call could not be recorded (out of memory)
} ack_log_t;

static void
s_on_ack (void *arg, uint64_t tag, gc_status_t status, const gc_ack_t *ack, const char *error)
{
    ack_log_t *log = (ack_log_t *) arg;
    if (log->count == log->capacity) {
        size_t capacity = log->capacity ? log->capacity * 2 : 256;
        ack_rec_t *recs = (ack_rec_t *) realloc (log->recs, capacity * sizeof *recs);
        if (!recs) {
            log->lost = true;
            return;
        }
        log->recs = recs;
        log->capacity = capacity;
    }
    ack_rec_t *rec = &log->recs[log->count++];
    memset (rec, 0, sizeof *rec);
    rec->tag = tag;
    rec->status = (int) status;
    rec->has_ack = ack != NULL;
    if (ack) {
        rec->ack = *ack;
    }
    snprintf (rec->error, sizeof rec->error, "%s", error ? error : "");
}

static void
s_client_actor (zsock_t *pipe, void *arg)
{
    const client_args_t *args = (const client_args_t *) arg;
    char err[256] = "out of memory";
    ack_log_t log = {NULL, 0, 0, false};
    gc_identity_t *identity = gc_identity_load (args->home, err, sizeof err);
    //  Never asked: the group is addressed with its endpoint.
    gc_client_t *client = identity ? gc_client_new ("tcp://127.0.0.1:1", identity) : NULL;
    char *text = (char *) malloc (S_TEXT_MAX + 1);
    uint64_t *tags = NULL;
    size_t next_text = 0;
    if (client && text) {
        gc_client_set_timeout (client, args->timeout_ms);
        gc_client_set_attempts (client, args->attempts);
        gc_client_set_window (client, args->window);
        gc_client_set_ack_handler (client, s_on_ack, &log);
    }
    else {
        fprintf (stderr, "cannot make the client: %s\n", err);
        gc_client_destroy (&client);
    }
    zsock_signal (pipe, 0);
    //  Bounded by the test: it ends every case with $TERM.
    while (true) {
        zmsg_t *msg = zmsg_recv (pipe);
        if (!msg) {
            break;
        }
        char *command = zmsg_popstr (msg);
        bool term = !command || streq (command, "$TERM");
        if (term) {
            free (command);
            zmsg_destroy (&msg);
            break;
        }
        if (!client) {
            zsock_send (pipe, "i", -1);
        }
        else if (streq (command, "SEND")) {
            char *count = zmsg_popstr (msg);
            char *len = zmsg_popstr (msg);
            int n = count ? atoi (count) : 0;
            size_t size = len ? (size_t) atoi (len) : 0;
            free (count);
            free (len);
            free (tags);
            tags = (uint64_t *) calloc (n > 0 ? (size_t) n : 1, sizeof *tags);
            int status = tags ? GC_OK : GC_IO;
            int sent = 0;
            while (status == GC_OK && sent < n) {
                size_t used = s_text (next_text, size, text);
                status = gc_client_send_async (client, args->spec, text, used, &tags[sent]);
                if (status == GC_OK) {
                    next_text++;
                    sent++;
                }
            }
            zsock_send (pipe, "iib", status, sent, (byte *) tags, (size_t) sent * sizeof *tags);
        }
        else if (streq (command, "FLUSH")) {
            int status = gc_client_flush (client);
            zsock_send (pipe, "is", status, gc_client_error (client));
        }
        else if (streq (command, "ACKS")) {
            zsock_send (pipe, "ib", log.lost ? -1 : 0, (byte *) log.recs,
                        log.count * sizeof *log.recs);
            log.count = 0;
        }
        else if (streq (command, "PUMP")) {
            zsock_send (pipe, "i", gc_client_pump (client, 0));
        }
        else if (streq (command, "QUEUED")) {
            zsock_send (pipe, "8", (uint64_t) client->queued);
        }
        else {
            zsock_send (pipe, "i", -1);
        }
        free (command);
        zmsg_destroy (&msg);
    }
    gc_client_destroy (&client);
    gc_identity_destroy (&identity);
    free (log.recs);
    free (tags);
    free (text);
}

//  --------------------------------------------------------------------------------------------
//  The fixture and the test's side of the actor

//  Waits up to timeout_ms until the client actor has something to say. Returns true if it has.
static bool
s_client_ready (fixture_t *fx, int timeout_ms)
{
    int64_t deadline = zclock_mono () + timeout_ms;
    //  Bounded by the deadline.
    while (true) {
        int64_t left = deadline - zclock_mono ();
        zmq_pollitem_t item = {zsock_resolve (fx->client), 0, ZMQ_POLLIN, 0};
        int rc = zmq_poll (&item, 1, left > 0 ? (long) left : 0);
        if (rc > 0) {
            return true;
        }
        if ((rc < 0 && zmq_errno () != EINTR) || left <= 0) {
            return false;
        }
    }
}

static uint64_t s_queued (fixture_t *fx);

//  Makes the fake group and the client. Returns true, or false (printed) on failure.
static bool
s_setup (fixture_t *fx, int timeout_ms, int attempts, size_t window)
{
    memset (fx, 0, sizeof *fx);
    fx->next_seq = 1;
    fx->dir = gc_tmpdir_new ("client");
    if (!fx->dir) {
        fprintf (stderr, "cannot make a temp directory\n");
        return false;
    }
    snprintf (fx->home, sizeof fx->home, "%s/home", fx->dir);
    fx->router = zsock_new (ZMQ_ROUTER);
    if (!fx->router) {
        fprintf (stderr, "cannot make the fake group's socket\n");
        return false;
    }
    zsock_set_linger (fx->router, 0);
    zsock_set_sndhwm (fx->router, 0);
    zsock_set_rcvhwm (fx->router, 0);
    //  Port 0: the kernel picks a free port (czmq's ":*" scans from 49152, where concurrent
    //  tests collide, and one of them could take the port the disconnect case binds again).
    char *bound = zsock_bind (fx->router, "tcp://127.0.0.1:0") >= 0
                      ? zsock_last_endpoint (fx->router)
                      : NULL;
    const char *port = bound ? strrchr (bound, ':') : NULL;
    if (!port || streq (port, ":0") || strlen (bound) >= sizeof fx->endpoint) {
        fprintf (stderr, "cannot bind the fake group: %s\n", zmq_strerror (zmq_errno ()));
        zstr_free (&bound);
        return false;
    }
    snprintf (fx->endpoint, sizeof fx->endpoint, "%s", bound);
    zstr_free (&bound);
    snprintf (fx->spec, sizeof fx->spec, "%s@%s", S_GROUP, fx->endpoint);
    fx->args.home = fx->home;
    fx->args.spec = fx->spec;
    fx->args.timeout_ms = timeout_ms;
    fx->args.attempts = attempts;
    fx->args.window = window;
    fx->client = zactor_new (s_client_actor, &fx->args);
    if (!fx->client) {
        fprintf (stderr, "cannot start the client actor\n");
        return false;
    }
    //  The actor answers every command with -1 when it could not make its client.
    if (s_queued (fx) != 0) {
        fprintf (stderr, "the client actor has no client\n");
        return false;
    }
    return true;
}

static void
s_teardown (fixture_t *fx)
{
    //  A FLUSH still outstanding ends within the client's timeouts; zactor_destroy waits.
    zactor_destroy (&fx->client);
    zsock_destroy (&fx->router);
    for (size_t i = 0; i < fx->nreqs; i++) {
        zframe_destroy (&fx->reqs[i].peer);
        gc_wire_group_request_free (&fx->reqs[i].req);
    }
    free (fx->flush_error);
    free (fx->tags);
    free (fx->acks);
    gc_tmpdir_destroy (&fx->dir);
}

//  Runs one case body between setup and teardown, so that a failed CHECK still cleans up.
static void
s_run (void (*body) (fixture_t *), int timeout_ms, int attempts, size_t window)
{
    fixture_t *fx = (fixture_t *) malloc (sizeof *fx);
    CHECK (fx);
    if (s_setup (fx, timeout_ms, attempts, window)) {
        body (fx);
    }
    else {
        gc_test_failed = 1;
    }
    s_teardown (fx);
    free (fx);
}

//  Queues n async sends (texts s_text (k, len)), appending their tags to fx->tags. Returns the
//  status of gc_client_send_async, or -1 if the actor did not answer in time or queued fewer.
static int
s_send (fixture_t *fx, int n, int len)
{
    assert (!fx->flushing);
    zsock_send (fx->client, "sii", "SEND", n, len);
    if (!s_client_ready (fx, S_WAIT_MS)) {
        fprintf (stderr, "SEND %d: the client did not return in time\n", n);
        return -1;
    }
    int status = -1;
    int sent = 0;
    byte *data = NULL;
    size_t size = 0;
    if (zsock_recv (fx->client, "iib", &status, &sent, &data, &size) != 0) {
        return -1;
    }
    uint64_t *tags = (uint64_t *) realloc (fx->tags, (fx->ntags + (size_t) sent + 1)
                                                         * sizeof *tags);
    if (tags && size == (size_t) sent * sizeof *tags) {
        fx->tags = tags;
        memcpy (fx->tags + fx->ntags, data, size);
        fx->ntags += (size_t) sent;
    }
    else {
        fx->tags = tags ? tags : fx->tags;
        status = -1;
    }
    free (data);
    if (status == GC_OK && sent != n) {
        status = -1;
    }
    return status;
}

static void
s_flush_start (fixture_t *fx)
{
    assert (!fx->flushing);
    zstr_send (fx->client, "FLUSH");
    fx->flushing = true;
}

//  Takes the outstanding FLUSH's result, which the actor has ready.
static void
s_flush_take (fixture_t *fx)
{
    free (fx->flush_error);
    fx->flush_error = NULL;
    fx->flush_status = -1;
    zsock_recv (fx->client, "is", &fx->flush_status, &fx->flush_error);
    fx->flushing = false;
}

//  Waits up to timeout_ms for the outstanding FLUSH (starting one if none is). Returns its
//  status (error text in fx->flush_error), or -1 on deadline.
static int
s_flush (fixture_t *fx, int timeout_ms)
{
    if (!fx->flushing) {
        s_flush_start (fx);
    }
    if (!s_client_ready (fx, timeout_ms)) {
        fprintf (stderr, "FLUSH: the client did not return in time\n");
        return -1;
    }
    s_flush_take (fx);
    return fx->flush_status;
}

//  Fetches the ack handler's calls since the last time into fx->acks. Returns their number, or
//  SIZE_MAX if the actor did not answer or lost some.
static size_t
s_acks (fixture_t *fx)
{
    assert (!fx->flushing);
    zstr_send (fx->client, "ACKS");
    if (!s_client_ready (fx, S_WAIT_MS)) {
        return SIZE_MAX;
    }
    int lost = -1;
    byte *data = NULL;
    size_t size = 0;
    free (fx->acks);
    fx->acks = NULL;
    fx->nacks = 0;
    if (zsock_recv (fx->client, "ib", &lost, &data, &size) != 0 || lost != 0
        || size % sizeof (ack_rec_t)) {
        free (data);
        return SIZE_MAX;
    }
    fx->acks = (ack_rec_t *) data;
    fx->nacks = size / sizeof (ack_rec_t);
    return fx->nacks;
}

//  The client's count of sends collected or in flight, or UINT64_MAX if it did not answer.
static uint64_t
s_queued (fixture_t *fx)
{
    assert (!fx->flushing);
    zstr_send (fx->client, "QUEUED");
    uint64_t queued = UINT64_MAX;
    if (s_client_ready (fx, S_WAIT_MS)) {
        zsock_recv (fx->client, "8", &queued);
    }
    return queued;
}

//  --------------------------------------------------------------------------------------------
//  The fake group

//  Waits up to timeout_ms for the next request, or (while a FLUSH is outstanding) for the
//  flush's result, whichever comes first. Returns the request (borrowed from fx->reqs), or NULL:
//  the flush's result came in (fx->flushing is false then), the deadline passed, or the
//  request was malformed (printed).
static fake_req_t *
s_next (fixture_t *fx, int timeout_ms)
{
    int64_t deadline = zclock_mono () + timeout_ms;
    //  Bounded by the deadline.
    while (true) {
        int64_t left = deadline - zclock_mono ();
        zmq_pollitem_t items[2] = {{zsock_resolve (fx->router), 0, ZMQ_POLLIN, 0},
                                   {zsock_resolve (fx->client), 0, ZMQ_POLLIN, 0}};
        int rc = zmq_poll (items, fx->flushing ? 2 : 1, left > 0 ? (long) left : 0);
        if ((rc < 0 && zmq_errno () != EINTR) || (rc <= 0 && left <= 0)) {
            return NULL;
        }
        if (rc <= 0) {
            continue;
        }
        if (items[0].revents & ZMQ_POLLIN) {
            break;
        }
        s_flush_take (fx);
        return NULL;
    }
    zmsg_t *msg = zmsg_recv (fx->router);
    if (!msg || zmsg_size (msg) != 2 || fx->nreqs == S_MAX_REQS) {
        fprintf (stderr, "fake group: unexpected message (%zu frames, %zu requests so far)\n",
                 msg ? zmsg_size (msg) : 0, fx->nreqs);
        zmsg_destroy (&msg);
        return NULL;
    }
    zframe_t *peer = zmsg_pop (msg);
    zframe_t *body = zmsg_pop (msg);
    zmsg_destroy (&msg);
    uint64_t request_id = 0;
    gc_status_t status = GC_OK;
    char err[256];
    gc_group_request_t *req = gc_wire_group_request_unpack (
        zframe_data (body), zframe_size (body), &request_id, &status, err, sizeof err);
    zframe_destroy (&body);
    if (!req) {
        fprintf (stderr, "fake group: bad request %" PRIu64 ": %s\n", request_id, err);
        zframe_destroy (&peer);
        return NULL;
    }
    fake_req_t *r = &fx->reqs[fx->nreqs++];
    r->peer = peer;
    r->req = req;
    return r;
}

//  Messages in a send request (0 for any other).
static size_t
s_count (const gc_group_request_t *req)
{
    if (req->body_case == GROUPCAST__V1__GROUP_REQUEST__BODY_SEND) {
        return 1;
    }
    if (req->body_case == GROUPCAST__V1__GROUP_REQUEST__BODY_SEND_BATCH) {
        return req->send_batch->n_sends;
    }
    return 0;
}

//  The i-th message of a send request.
static const Groupcast__V1__Send *
s_item (const gc_group_request_t *req, size_t i)
{
    assert (i < s_count (req));
    return req->body_case == GROUPCAST__V1__GROUP_REQUEST__BODY_SEND ? req->send
                                                                      : req->send_batch->sends[i];
}

static bool
s_is_send (const fake_req_t *r)
{
    return r && r->req->body_case == GROUPCAST__V1__GROUP_REQUEST__BODY_SEND;
}

static bool
s_is_batch (const fake_req_t *r, size_t count)
{
    return r && r->req->body_case == GROUPCAST__V1__GROUP_REQUEST__BODY_SEND_BATCH
           && r->req->send_batch->n_sends == count;
}

//  True when message i of the request is the client's message k (text with len as sent),
//  carries a message id and the given retry flag, and the request is for our group.
static bool
s_item_is (const fake_req_t *r, size_t i, size_t k, size_t len, bool retry)
{
    char expected[S_TEXT_MAX + 1];
    size_t size = s_text (k, len, expected);
    const Groupcast__V1__Send *item = s_item (r->req, i);
    bool ok = item->text.len == size && memcmp (item->text.data, expected, size) == 0
              && item->client_msg_id.len == GC_MSG_ID_SIZE && item->retry == retry
              && streq (r->req->group, S_GROUP);
    if (!ok) {
        fprintf (stderr, "request %" PRIu64 " message %zu: \"%.*s\" retry=%d id %zu bytes, "
                 "expected \"%s\" retry=%d\n", r->req->request_id, i, (int) item->text.len,
                 (const char *) item->text.data, item->retry, item->client_msg_id.len, expected,
                 retry);
    }
    return ok;
}

//  True when `again` is `first` resent whole: same request id and kind, the same messages with
//  the same ids, every one marked retry.
static bool
s_is_resend (const fake_req_t *again, const fake_req_t *first)
{
    if (!again || again->req->request_id != first->req->request_id
        || again->req->body_case != first->req->body_case
        || s_count (again->req) != s_count (first->req)) {
        fprintf (stderr, "request %" PRIu64 " is not resent whole (got %" PRIu64 ")\n",
                 first->req->request_id, again ? again->req->request_id : 0);
        return false;
    }
    for (size_t i = 0; i < s_count (first->req); i++) {
        const Groupcast__V1__Send *a = s_item (again->req, i);
        const Groupcast__V1__Send *b = s_item (first->req, i);
        if (!a->retry || a->text.len != b->text.len
            || memcmp (a->text.data, b->text.data, b->text.len) != 0
            || a->client_msg_id.len != GC_MSG_ID_SIZE
            || memcmp (a->client_msg_id.data, b->client_msg_id.data, GC_MSG_ID_SIZE) != 0) {
            fprintf (stderr, "request %" PRIu64 " message %zu differs in its resend\n",
                     first->req->request_id, i);
            return false;
        }
    }
    return true;
}

static int64_t
s_ts (uint64_t seq)
{
    return S_TS_BASE + (int64_t) seq * 1000;
}

//  Sends reply to peer. Returns 0 or -1.
static int
s_reply_to (fixture_t *fx, zframe_t *peer, const gc_group_reply_t *reply)
{
    zframe_t *frame = gc_wire_pack (&reply->base);
    zframe_t *id = zframe_dup (peer);
    int rc = frame && id && zframe_send (&id, fx->router, ZFRAME_MORE) == 0
                     && zframe_send (&frame, fx->router, 0) == 0
                 ? 0
                 : -1;
    zframe_destroy (&id);
    zframe_destroy (&frame);
    return rc;
}

//  Answers a send request with `nseqs` seqs from `first` (a Send with one gets seq and ts_us,
//  a SendBatch the seqs and ts_list arrays), sent to peer. Returns 0 or -1.
static int
s_reply_seqs (fixture_t *fx, zframe_t *peer, const fake_req_t *r, uint64_t first, size_t nseqs)
{
    gc_group_reply_t reply = GROUPCAST__V1__GROUP_REPLY__INIT;
    reply.request_id = r->req->request_id;
    reply.status = GROUPCAST__V1__STATUS__STATUS_OK;
    reply.last_seq = first + nseqs - 1;
    uint64_t *seqs = (uint64_t *) calloc (nseqs + 1, sizeof *seqs);
    int64_t *ts = (int64_t *) calloc (nseqs + 1, sizeof *ts);
    if (!seqs || !ts) {
        free (seqs);
        free (ts);
        return -1;
    }
    if (s_is_send (r) && nseqs == 1) {
        reply.seq = first;
        reply.ts_us = s_ts (first);
    }
    else {
        for (size_t i = 0; i < nseqs; i++) {
            seqs[i] = first + i;
            ts[i] = s_ts (first + i);
        }
        reply.n_seqs = nseqs;
        reply.seqs = seqs;
        reply.n_ts_list = nseqs;
        reply.ts_list = ts;
    }
    int rc = s_reply_to (fx, peer, &reply);
    free (seqs);
    free (ts);
    return rc;
}

//  Acknowledges a send request as a group does, to `peer` (NULL: the request's own): the next
//  seqs in its order, or the ones given before when this request id was acknowledged already.
//  Returns 0 or -1.
static int
s_ack_to (fixture_t *fx, const fake_req_t *r, zframe_t *peer)
{
    uint64_t first = 0;
    for (size_t i = 0; i < fx->nanswered && !first; i++) {
        if (fx->answered[i][0] == r->req->request_id) {
            first = fx->answered[i][1];
        }
    }
    if (!first) {
        assert (fx->nanswered < S_MAX_REQS);
        first = fx->next_seq;
        fx->next_seq += s_count (r->req);
        fx->answered[fx->nanswered][0] = r->req->request_id;
        fx->answered[fx->nanswered++][1] = first;
    }
    return s_reply_seqs (fx, peer ? peer : r->peer, r, first, s_count (r->req));
}

static int
s_ack (fixture_t *fx, const fake_req_t *r)
{
    return s_ack_to (fx, r, NULL);
}

//  Answers a request with a failure status.
static int
s_refuse (fixture_t *fx, const fake_req_t *r, int status, const char *error)
{
    gc_group_reply_t reply = GROUPCAST__V1__GROUP_REPLY__INIT;
    reply.request_id = r->req->request_id;
    reply.status = (Groupcast__V1__Status) status;
    reply.error = (char *) error;
    return s_reply_to (fx, r->peer, &reply);
}

//  True when ack record i is send number k of the case acknowledged OK with that seq.
static bool
s_acked (const fixture_t *fx, size_t i, size_t k, uint64_t seq)
{
    const ack_rec_t *rec = &fx->acks[i];
    bool ok = k < fx->ntags && rec->tag == fx->tags[k] && rec->status == GC_OK && rec->has_ack
              && rec->ack.seq == seq && rec->ack.ts_us == s_ts (seq)
              && rec->ack.last_seq >= seq;
    if (!ok) {
        fprintf (stderr, "ack %zu: tag %" PRIu64 " status %d seq %" PRIu64 " ts %" PRId64
                 " last %" PRIu64 " (%s), expected tag %" PRIu64 " OK seq %" PRIu64 "\n", i,
                 rec->tag, rec->status, rec->ack.seq, rec->ack.ts_us, rec->ack.last_seq,
                 rec->error, k < fx->ntags ? fx->tags[k] : 0, seq);
    }
    return ok;
}

//  True when ack record i is send number k of the case failed with status, no ack, and an
//  error containing `error`.
static bool
s_failed (const fixture_t *fx, size_t i, size_t k, int status, const char *error)
{
    const ack_rec_t *rec = &fx->acks[i];
    bool ok = k < fx->ntags && rec->tag == fx->tags[k] && rec->status == status
              && !rec->has_ack && strstr (rec->error, error);
    if (!ok) {
        fprintf (stderr, "ack %zu: tag %" PRIu64 " status %d has_ack %d \"%s\", expected tag %"
                 PRIu64 " status %d \"%s\"\n", i, rec->tag, rec->status, rec->has_ack,
                 rec->error, k < fx->ntags ? fx->tags[k] : 0, status, error);
    }
    return ok;
}

static int
s_cmp_id (const void *a, const void *b)
{
    return memcmp (a, b, GC_MSG_ID_SIZE);
}

//  --------------------------------------------------------------------------------------------
//  The cases

//  A lone async send goes out at once as a plain Send, before any flush; so does the next one
//  once the first is acknowledged.
static void
s_lone_send (fixture_t *fx)
{
    for (size_t k = 0; k < 2; k++) {
        CHECK_INT_EQ (s_send (fx, 1, 0), GC_OK);
        fake_req_t *r = s_next (fx, S_WAIT_MS);
        CHECK (s_is_send (r));
        CHECK (s_item_is (r, 0, k, 0, false));
        CHECK (gc_wire_valid_uuid (r->req->sender));
        if (k > 0) {
            CHECK (r->req->request_id != fx->reqs[0].req->request_id);
            CHECK (memcmp (r->req->send->client_msg_id.data,
                           fx->reqs[0].req->send->client_msg_id.data, GC_MSG_ID_SIZE)
                   != 0);
        }
        CHECK_INT_EQ (s_ack (fx, r), 0);
        CHECK_INT_EQ (s_flush (fx, S_WAIT_MS), GC_OK);
        CHECK_INT_EQ (s_acks (fx), 1);
        CHECK (s_acked (fx, 0, k, k + 1));
        CHECK_INT_EQ (fx->acks[0].ack.last_seq, k + 1);
    }
    CHECK_INT_EQ (fx->nreqs, 2);
}

//  Sends beyond the 4 requests in flight are collected; gc_client_pump sends them (one
//  SendBatch of the six, in order) without waiting for anything, and then takes their acks.
static void
s_pump_sends_collected (fixture_t *fx)
{
    CHECK_INT_EQ (s_send (fx, 10, 0), GC_OK);
    fake_req_t *r[5];
    for (size_t i = 0; i < 4; i++) {
        r[i] = s_next (fx, S_WAIT_MS);
        CHECK (s_is_send (r[i]));
        CHECK (s_item_is (r[i], 0, i, 0, false));
    }
    zstr_send (fx->client, "PUMP");
    CHECK (s_client_ready (fx, S_WAIT_MS));
    int rc = -1;
    CHECK_INT_EQ (zsock_recv (fx->client, "i", &rc), 0);
    CHECK_INT_EQ (rc, 0);
    r[4] = s_next (fx, S_WAIT_MS);
    CHECK (s_is_batch (r[4], 6));
    for (size_t i = 0; i < 6; i++) {
        CHECK (s_item_is (r[4], i, 4 + i, 0, false));
    }
    for (size_t i = 0; i < 5; i++) {
        CHECK_INT_EQ (s_ack (fx, r[i]), 0);
    }
    CHECK_INT_EQ (s_flush (fx, S_WAIT_MS), GC_OK);
    CHECK_INT_EQ (s_acks (fx), 10);
    for (size_t k = 0; k < 10; k++) {
        CHECK (s_acked (fx, k, k, k + 1));
    }
    CHECK_INT_EQ (fx->nreqs, 5);
}

//  A burst of n sends crosses as at most max_requests requests: the first four alone, then
//  SendBatches of at most max_count messages and max_bytes of text; in send order, each
//  message id once, no retry. Acknowledged with contiguous seqs, the handler hears of each tag
//  once, in order, with its seq.
static void
s_burst (fixture_t *fx, int n, int len, size_t max_count, size_t max_bytes,
         size_t max_requests)
{
    CHECK_INT_EQ (s_send (fx, n, len), GC_OK);
    s_flush_start (fx);
    size_t messages = 0;
    uint8_t(*ids)[GC_MSG_ID_SIZE] = calloc ((size_t) n, GC_MSG_ID_SIZE);
    CHECK (ids);
    int64_t deadline = zclock_mono () + 4 * S_WAIT_MS;
    //  Bounded by the deadline (and S_MAX_REQS).
    while (fx->flushing && zclock_mono () < deadline) {
        fake_req_t *r = s_next (fx, (int) (deadline - zclock_mono ()));
        if (!r) {
            continue;
        }
        size_t count = s_count (r->req);
        bool ok = fx->nreqs <= max_requests && count > 0 && messages + count <= (size_t) n
                  && (fx->nreqs <= 4 ? s_is_send (r) : count <= max_count);
        size_t bytes = 0;
        for (size_t i = 0; ok && i < count; i++) {
            ok = s_item_is (r, i, messages + i, (size_t) len, false);
            memcpy (ids[messages + i], s_item (r->req, i)->client_msg_id.data, GC_MSG_ID_SIZE);
            bytes += s_item (r->req, i)->text.len;
        }
        if (!ok || bytes > max_bytes) {
            fprintf (stderr, "request %zu: %zu messages, %zu bytes, after %zu messages\n",
                     fx->nreqs, count, bytes, messages);
            free (ids);
            CHECK (false);
        }
        messages += count;
        if (s_ack (fx, r) != 0) {
            free (ids);
            CHECK (false);
        }
    }
    qsort (ids, (size_t) n, GC_MSG_ID_SIZE, s_cmp_id);
    size_t same = 0;
    for (size_t i = 1; i < (size_t) n; i++) {
        same += memcmp (ids[i - 1], ids[i], GC_MSG_ID_SIZE) == 0;
    }
    free (ids);
    CHECK (!fx->flushing);
    CHECK_INT_EQ (fx->flush_status, GC_OK);
    CHECK_INT_EQ (messages, n);
    CHECK_INT_EQ (same, 0);
    CHECK (fx->nreqs <= max_requests);
    CHECK_INT_EQ (s_acks (fx), n);
    for (size_t i = 0; i < (size_t) n; i++) {
        CHECK (s_acked (fx, i, i, i + 1));
    }
    CHECK_INT_EQ (s_queued (fx), 0);
}

//  1000 short messages, window 1000: batches of at most a quarter of the window.
static void
s_burst_count (fixture_t *fx)
{
    s_burst (fx, 1000, 0, 250, SIZE_MAX, 20);
}

//  600 messages of 2000 bytes, window 1000: a batch goes once it holds 256 KiB.
static void
s_burst_bytes (fixture_t *fx)
{
    s_burst (fx, 600, 2000, 250, 256 * 1024 - 1 + 2000, 12);
}

//  5000 short messages, window 8000: a batch holds 1024 messages at most.
static void
s_burst_cap (fixture_t *fx)
{
    s_burst (fx, 5000, 0, 1024, SIZE_MAX, 12);
}

//  A SendBatch acknowledged with too few seqs fails exactly its messages with GC_PROTOCOL; the
//  others succeed; flush returns the first failure (not a later STORE_FAILED). A Send
//  acknowledged with two seqs fails with GC_PROTOCOL too.
static void
s_wrong_count (fixture_t *fx)
{
    //  Window 16: a batch goes at 4 messages while four requests are in flight.
    CHECK_INT_EQ (s_send (fx, 14, 0), GC_OK);
    fake_req_t *r[7];
    for (size_t i = 0; i < 6; i++) {
        r[i] = s_next (fx, S_WAIT_MS);
        CHECK (i < 4 ? s_is_send (r[i]) : s_is_batch (r[i], 4));
    }
    for (size_t i = 0; i < 4; i++) {
        CHECK_INT_EQ (s_ack (fx, r[i]), 0);
    }
    CHECK_INT_EQ (s_reply_seqs (fx, r[4]->peer, r[4], 900, 3), 0);
    CHECK_INT_EQ (s_ack (fx, r[5]), 0);
    s_flush_start (fx);
    r[6] = s_next (fx, S_WAIT_MS);
    CHECK (s_is_batch (r[6], 2));
    CHECK_INT_EQ (s_refuse (fx, r[6], GC_STORE_FAILED, "injected: disk full"), 0);
    CHECK_INT_EQ (s_flush (fx, S_WAIT_MS), GC_PROTOCOL);
    CHECK_CONTAINS (fx->flush_error, "acknowledged 3 of 4");
    CHECK_INT_EQ (s_acks (fx), 14);
    for (size_t i = 0; i < 4; i++) {
        CHECK (s_acked (fx, i, i, i + 1));
    }
    for (size_t i = 4; i < 8; i++) {
        CHECK (s_failed (fx, i, i, GC_PROTOCOL, "acknowledged 3 of 4"));
    }
    for (size_t i = 8; i < 12; i++) {
        CHECK (s_acked (fx, i, i, i - 3));
    }
    for (size_t i = 12; i < 14; i++) {
        CHECK (s_failed (fx, i, i, GC_STORE_FAILED, "injected: disk full"));
    }
    //  The failure was reported once.
    CHECK_INT_EQ (s_flush (fx, S_WAIT_MS), GC_OK);
    CHECK_INT_EQ (s_acks (fx), 0);

    CHECK_INT_EQ (s_send (fx, 1, 0), GC_OK);
    fake_req_t *lone = s_next (fx, S_WAIT_MS);
    CHECK (s_is_send (lone));
    CHECK_INT_EQ (s_reply_seqs (fx, lone->peer, lone, 950, 2), 0);
    CHECK_INT_EQ (s_flush (fx, S_WAIT_MS), GC_PROTOCOL);
    CHECK_INT_EQ (s_acks (fx), 1);
    CHECK (s_failed (fx, 0, 14, GC_PROTOCOL, "acknowledged 2 of 1"));
    CHECK_INT_EQ (s_queued (fx), 0);
}

//  In-flight requests (four Sends and a SendBatch) that time out are resent whole, in order,
//  with the same request and message ids, marked retry, on a reopened connection. Answering
//  the resends completes each message once: a duplicate answer is dropped.
static void
s_timeout_resend (fixture_t *fx)
{
    CHECK_INT_EQ (s_send (fx, 6, 0), GC_OK);
    s_flush_start (fx);
    fake_req_t *first[5];
    for (size_t i = 0; i < 5; i++) {
        first[i] = s_next (fx, S_WAIT_MS);
        CHECK (i < 4 ? s_is_send (first[i]) : s_is_batch (first[i], 2));
        for (size_t m = 0; m < s_count (first[i]->req); m++) {
            CHECK (s_item_is (first[i], m, i + m, 0, false));
        }
    }
    fake_req_t *again[5];
    for (size_t i = 0; i < 5; i++) {
        again[i] = s_next (fx, S_WAIT_MS);
        CHECK (s_is_resend (again[i], first[i]));
        //  From the reopened DEALER.
        CHECK (!zframe_eq (again[i]->peer, first[i]->peer));
    }
    for (size_t i = 0; i < 5; i++) {
        //  The resend, then the same answer again, and to the closed connection.
        CHECK_INT_EQ (s_ack (fx, again[i]), 0);
        CHECK_INT_EQ (s_ack (fx, again[i]), 0);
        CHECK_INT_EQ (s_ack_to (fx, first[i], first[i]->peer), 0);
    }
    //  Should this machine be slow enough for a third attempt, it is answered the same way.
    int64_t deadline = zclock_mono () + S_WAIT_MS;
    while (fx->flushing && zclock_mono () < deadline) {
        fake_req_t *late = s_next (fx, (int) (deadline - zclock_mono ()));
        if (late) {
            size_t i = 0;
            while (i < 5 && late->req->request_id != first[i]->req->request_id) {
                i++;
            }
            CHECK (i < 5 && s_is_resend (late, first[i]));
            CHECK_INT_EQ (s_ack (fx, late), 0);
        }
    }
    CHECK (!fx->flushing);
    CHECK_INT_EQ (fx->flush_status, GC_OK);
    CHECK_INT_EQ (s_acks (fx), 6);
    for (size_t i = 0; i < 6; i++) {
        CHECK (s_acked (fx, i, i, i + 1));
    }
    //  A new send is read after the duplicate answers: still one call per message.
    CHECK_INT_EQ (s_send (fx, 1, 0), GC_OK);
    fake_req_t *r = s_next (fx, S_WAIT_MS);
    CHECK (s_is_send (r));
    CHECK (s_item_is (r, 0, 6, 0, false));
    CHECK_INT_EQ (s_ack (fx, r), 0);
    CHECK_INT_EQ (s_flush (fx, S_WAIT_MS), GC_OK);
    CHECK_INT_EQ (s_acks (fx), 1);
    CHECK (s_acked (fx, 0, 6, 7));
}

//  Out of attempts, every message of every request in flight fails with GC_TIMEOUT; the window
//  is free again and later sends work.
static void
s_out_of_attempts (fixture_t *fx)
{
    //  Window 8: four Sends, then two SendBatches of 2; the window is full.
    CHECK_INT_EQ (s_send (fx, 8, 0), GC_OK);
    s_flush_start (fx);
    fake_req_t *r[12];
    for (size_t i = 0; i < 12; i++) {
        r[i] = s_next (fx, S_WAIT_MS);
        CHECK (i % 6 < 4 ? s_is_send (r[i]) : s_is_batch (r[i], 2));
        if (i >= 6) {
            CHECK (s_is_resend (r[i], r[i - 6]));
        }
    }
    CHECK_INT_EQ (s_flush (fx, S_WAIT_MS), GC_TIMEOUT);
    CHECK_CONTAINS (fx->flush_error, "did not acknowledge");
    //  No third attempt.
    CHECK (s_next (fx, 0) == NULL);
    CHECK_INT_EQ (s_acks (fx), 8);
    for (size_t i = 0; i < 8; i++) {
        CHECK (s_failed (fx, i, i, GC_TIMEOUT, "did not acknowledge"));
    }
    CHECK_INT_EQ (s_queued (fx), 0);

    CHECK_INT_EQ (s_send (fx, 8, 0), GC_OK);
    for (size_t i = 0; i < 6; i++) {
        fake_req_t *next = s_next (fx, S_WAIT_MS);
        CHECK (i < 4 ? s_is_send (next) : s_is_batch (next, 2));
        for (size_t j = 0; j < 12; j++) {
            CHECK (next->req->request_id != r[j]->req->request_id);
        }
        CHECK (s_item_is (next, 0, 8 + (i < 4 ? i : 4 + 2 * (i - 4)), 0, false));
        CHECK_INT_EQ (s_ack (fx, next), 0);
    }
    CHECK_INT_EQ (s_flush (fx, S_WAIT_MS), GC_OK);
    CHECK_INT_EQ (s_acks (fx), 8);
    for (size_t i = 0; i < 8; i++) {
        CHECK (s_acked (fx, i, 8 + i, i + 1));
    }
}

//  An error status answering a SendBatch fails all its messages with that status and the
//  group's text; one answering a Send fails that one.
static void
s_error_status (fixture_t *fx)
{
    CHECK_INT_EQ (s_send (fx, 7, 0), GC_OK);
    for (size_t i = 0; i < 4; i++) {
        fake_req_t *r = s_next (fx, S_WAIT_MS);
        CHECK (s_is_send (r));
        CHECK_INT_EQ (s_ack (fx, r), 0);
    }
    s_flush_start (fx);
    fake_req_t *batch = s_next (fx, S_WAIT_MS);
    CHECK (s_is_batch (batch, 3));
    CHECK_INT_EQ (s_refuse (fx, batch, GC_NOT_MEMBER, "not a member of group 'fake'"), 0);
    CHECK_INT_EQ (s_flush (fx, S_WAIT_MS), GC_NOT_MEMBER);
    CHECK_CONTAINS (fx->flush_error, "not a member of group 'fake'");
    CHECK_INT_EQ (s_acks (fx), 7);
    for (size_t i = 0; i < 4; i++) {
        CHECK (s_acked (fx, i, i, i + 1));
    }
    for (size_t i = 4; i < 7; i++) {
        CHECK (s_failed (fx, i, i, GC_NOT_MEMBER, "not a member of group 'fake'"));
    }
    CHECK_INT_EQ (s_queued (fx), 0);

    CHECK_INT_EQ (s_send (fx, 1, 0), GC_OK);
    fake_req_t *lone = s_next (fx, S_WAIT_MS);
    CHECK (s_is_send (lone));
    CHECK_INT_EQ (s_refuse (fx, lone, GC_FORBIDDEN, "token does not match"), 0);
    CHECK_INT_EQ (s_flush (fx, S_WAIT_MS), GC_FORBIDDEN);
    CHECK_INT_EQ (s_acks (fx), 1);
    CHECK (s_failed (fx, 0, 7, GC_FORBIDDEN, "token does not match"));
}

//  The group drops the connection (its listener closes): the client reopens its DEALER and
//  resends what is in flight, whole and in order, long before its timeout would.
static void
s_disconnect_resend (fixture_t *fx)
{
    CHECK_INT_EQ (s_send (fx, 6, 0), GC_OK);
    s_flush_start (fx);
    fake_req_t *first[5];
    for (size_t i = 0; i < 5; i++) {
        first[i] = s_next (fx, S_WAIT_MS);
        CHECK (i < 4 ? s_is_send (first[i]) : s_is_batch (first[i], 2));
    }
    //  Unbinding closes the listener and the connections it accepted; the port is bound again
    //  once the monitor reports the listener closed.
    char monitor[64];
    snprintf (monitor, sizeof monitor, "inproc://test-client-monitor-%p", (void *) fx);
    CHECK_INT_EQ (zmq_socket_monitor (zsock_resolve (fx->router), monitor, ZMQ_EVENT_CLOSED), 0);
    zsock_t *events = zsock_new_pair (monitor);
    CHECK (events);
    bool closed = zsock_unbind (fx->router, "%s", fx->endpoint) == 0;
    zsock_set_rcvtimeo (events, S_WAIT_MS);
    zmsg_t *event = closed ? zmsg_recv (events) : NULL;
    zmq_socket_monitor (zsock_resolve (fx->router), NULL, 0);
    zsock_destroy (&events);
    closed = event != NULL;
    zmsg_destroy (&event);
    CHECK (closed);
    int port = zsock_bind (fx->router, "%s", fx->endpoint);
    if (port < 0) {
        fprintf (stderr, "cannot bind %s again: %s\n", fx->endpoint, zmq_strerror (zmq_errno ()));
    }
    CHECK (port >= 0);
    for (size_t i = 0; i < 5; i++) {
        fake_req_t *again = s_next (fx, S_WAIT_MS);
        CHECK (s_is_resend (again, first[i]));
        CHECK_INT_EQ (s_ack (fx, again), 0);
    }
    CHECK_INT_EQ (s_flush (fx, S_WAIT_MS), GC_OK);
    CHECK_INT_EQ (s_acks (fx), 6);
    for (size_t i = 0; i < 6; i++) {
        CHECK (s_acked (fx, i, i, i + 1));
    }
}

//  A failure taken in by a send that waited for room in the window keeps its detail until the
//  flush that reports it.
static void
s_failure_detail (fixture_t *fx)
{
    //  Window 5: each send goes alone; the fifth fills the window.
    CHECK_INT_EQ (s_send (fx, 5, 0), GC_OK);
    fake_req_t *r[7];
    for (size_t i = 0; i < 5; i++) {
        r[i] = s_next (fx, S_WAIT_MS);
        CHECK (s_is_send (r[i]));
    }
    CHECK_INT_EQ (s_refuse (fx, r[0], GC_NOT_MEMBER, "not a member of group 'fake'"), 0);
    CHECK_INT_EQ (s_ack (fx, r[1]), 0);
    //  The sixth send waits for room and takes in both answers; the seventh finds room.
    CHECK_INT_EQ (s_send (fx, 2, 0), GC_OK);
    for (size_t i = 2; i < 5; i++) {
        CHECK_INT_EQ (s_ack (fx, r[i]), 0);
    }
    for (size_t i = 5; i < 7; i++) {
        r[i] = s_next (fx, S_WAIT_MS);
        CHECK (s_is_send (r[i]));
        CHECK_INT_EQ (s_ack (fx, r[i]), 0);
    }
    CHECK_INT_EQ (s_flush (fx, S_WAIT_MS), GC_NOT_MEMBER);
    CHECK_INT_EQ (s_acks (fx), 7);
    CHECK (s_failed (fx, 0, 0, GC_NOT_MEMBER, "not a member"));
    CHECK_CONTAINS (fx->flush_error, "not a member of group 'fake'");
}

static void
test_lone_send (void)
{
    s_run (s_lone_send, 5000, 2, 100);
}

static void
test_pump_sends_collected (void)
{
    s_run (s_pump_sends_collected, 5000, 2, 100);
}

static void
test_burst (void)
{
    s_run (s_burst_count, 5000, 2, 1000);
}

static void
test_burst_bytes (void)
{
    s_run (s_burst_bytes, 5000, 2, 1000);
}

static void
test_burst_cap (void)
{
    s_run (s_burst_cap, 5000, 2, 8000);
}

static void
test_wrong_count (void)
{
    s_run (s_wrong_count, 5000, 2, 16);
}

static void
test_timeout_resend (void)
{
    s_run (s_timeout_resend, 200, 5, 100);
}

static void
test_out_of_attempts (void)
{
    s_run (s_out_of_attempts, 200, 2, 8);
}

static void
test_error_status (void)
{
    s_run (s_error_status, 5000, 2, 100);
}

static void
test_disconnect_resend (void)
{
    //  A timeout well beyond the case's deadlines: only the disconnect can cause the resend.
    s_run (s_disconnect_resend, 8000, 2, 100);
}

static void
test_failure_detail (void)
{
    s_run (s_failure_detail, 5000, 2, 5);
}

static const gc_test_case_t s_cases[] = {
    { "lone_send", test_lone_send },
    { "pump_sends_collected", test_pump_sends_collected },
    { "burst", test_burst },
    { "burst_bytes", test_burst_bytes },
    { "burst_cap", test_burst_cap },
    { "wrong_count", test_wrong_count },
    { "timeout_resend", test_timeout_resend },
    { "out_of_attempts", test_out_of_attempts },
    { "error_status", test_error_status },
    { "disconnect_resend", test_disconnect_resend },
    { "failure_detail", test_failure_detail },
    { NULL, NULL },
};

int
main (int argc, char **argv)
{
    zsys_set_logstream (stderr);
    return gc_test_run (argc, argv, s_cases);
}
