/*  test_hostile - malformed, unknown, oversized and forged frames sent straight to the group's
    ROUTER and the registry's REP socket: each gets an error reply (or, past the transport's
    size limit, a dropped connection), and the process keeps serving
    SPDX-License-Identifier: MPL-2.0
*/
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "gc_itest.h"
#include "gc_test.h"
#include "gc_wire.h"

#define CLIENT(sys, user, input, out, err, ...)                                                \
    gc_itest_client (sys, user, input, out, err, __VA_ARGS__, (const char *) NULL)

//  Waits up to 5 s for one reply frame on a DEALER (skipping an empty delimiter); owned or NULL.
static zframe_t *
s_recv (zsock_t *sock)
{
    zpoller_t *poller = zpoller_new (sock, NULL);
    zframe_t *frame = NULL;
    if (zpoller_wait (poller, 5000) == sock) {
        zmsg_t *msg = zmsg_recv (sock);
        frame = zmsg_last (msg) ? zframe_dup (zmsg_last (msg)) : NULL;
        zmsg_destroy (&msg);
    }
    zpoller_destroy (&poller);
    return frame;
}

//  Sends raw frames (count of them) from a fresh DEALER and returns the decoded reply or NULL.
static gc_group_reply_t *
s_raw_group (const char *endpoint, const void *const *parts, const size_t *sizes, int count)
{
    zsock_t *dealer = zsock_new_dealer (endpoint);
    assert (dealer);
    zsock_set_linger (dealer, 0);
    zmsg_t *msg = zmsg_new ();
    for (int i = 0; i < count; i++) {
        zmsg_addmem (msg, parts[i], sizes[i]);
    }
    zmsg_send (&msg, dealer);
    zframe_t *frame = s_recv (dealer);
    zsock_destroy (&dealer);
    if (!frame) {
        return NULL;
    }
    char err[256];
    gc_group_reply_t *reply =
        gc_wire_group_reply_unpack (zframe_data (frame), zframe_size (frame), err, sizeof err);
    zframe_destroy (&frame);
    return reply;
}

static gc_group_reply_t *
s_raw_one (const char *endpoint, const void *data, size_t size)
{
    const void *parts[1] = {data};
    size_t sizes[1] = {size};
    return s_raw_group (endpoint, parts, sizes, 1);
}

//  Packs a group request as a client would, with the given identity.
static zframe_t *
s_pack (gc_group_request_t *request, const char *sender, const uint8_t *token)
{
    request->sender = (char *) sender;
    request->token.data = (uint8_t *) token;
    request->token.len = GC_TOKEN_SIZE;
    return gc_wire_pack (&request->base);
}

//  True when the group still answers an Info request with OK.
static bool
s_still_serving (const char *endpoint)
{
    gc_group_request_t request = GROUPCAST__V1__GROUP_REQUEST__INIT;
    Groupcast__V1__Info info = GROUPCAST__V1__INFO__INIT;
    request.request_id = 77;
    request.body_case = GROUPCAST__V1__GROUP_REQUEST__BODY_INFO;
    request.info = &info;
    zframe_t *frame = gc_wire_pack (&request.base);
    gc_group_reply_t *reply = s_raw_one (endpoint, zframe_data (frame), zframe_size (frame));
    zframe_destroy (&frame);
    bool ok = reply && reply->status == GROUPCAST__V1__STATUS__STATUS_OK
              && reply->request_id == 77 && streq (reply->group, "ops");
    gc_wire_group_reply_free (&reply);
    return ok;
}

static void
test_group_router (void)
{
    gc_itest_t *sys = gc_itest_new (GC_BIN_DIR, "hostile-group", true, NULL);
    CHECK (sys);
    char ep[256];
    gc_proc_t *group = gc_itest_group (sys, "ops", NULL, ep, NULL);
    CHECK (group);
    CHECK (s_still_serving (ep));

    //  Garbage bytes: BAD_REQUEST.
    static const uint8_t garbage[] = {0xff, 0xff, 0xff, 0x01, 0x02};
    gc_group_reply_t *reply = s_raw_one (ep, garbage, sizeof garbage);
    CHECK (reply);
    CHECK_INT_EQ (reply->status, GC_BAD_REQUEST);
    CHECK (reply->error[0]);
    gc_wire_group_reply_free (&reply);
    CHECK (s_still_serving (ep));

    //  An empty frame decodes as a request with no body: UNKNOWN_REQUEST.
    reply = s_raw_one (ep, "", 0);
    CHECK (reply);
    CHECK_INT_EQ (reply->status, GC_UNKNOWN_REQUEST);
    gc_wire_group_reply_free (&reply);

    //  A body this version does not know (field 99, length-delimited): UNKNOWN_REQUEST, with
    //  the request id echoed.
    static const uint8_t unknown[] = {0x08, 0x2a, 0x9a, 0x06, 0x00};
    reply = s_raw_one (ep, unknown, sizeof unknown);
    CHECK (reply);
    CHECK_INT_EQ (reply->status, GC_UNKNOWN_REQUEST);
    CHECK_INT_EQ (reply->request_id, 42);
    gc_wire_group_reply_free (&reply);

    //  Three frames that are not envelope + payload: BAD_REQUEST.
    const void *parts[3] = {"x", "y", "z"};
    size_t sizes[3] = {1, 1, 1};
    reply = s_raw_group (ep, parts, sizes, 3);
    CHECK (reply);
    CHECK_INT_EQ (reply->status, GC_BAD_REQUEST);
    gc_wire_group_reply_free (&reply);
    CHECK (s_still_serving (ep));

    //  A real member, then requests that fail validation or authorisation.
    CHECK_INT_EQ (CLIENT (sys, "alice", NULL, NULL, NULL, "join", "ops"), 0);
    char *out = NULL;
    CHECK_INT_EQ (CLIENT (sys, "alice", NULL, &out, NULL, "whoami", "--json"), 0);
    char alice[GC_UUID_STR_LEN + 1] = "";
    const char *id = strstr (out, "\"id\":\"");
    CHECK (id);
    memcpy (alice, id + 6, GC_UUID_STR_LEN);
    free (out);

    uint8_t forged[GC_TOKEN_SIZE];
    memset (forged, 7, sizeof forged);
    gc_group_request_t request = GROUPCAST__V1__GROUP_REQUEST__INIT;
    Groupcast__V1__Send send = GROUPCAST__V1__SEND__INIT;
    send.text.data = (uint8_t *) "posing as alice";
    send.text.len = strlen ("posing as alice");
    request.request_id = 5;
    request.body_case = GROUPCAST__V1__GROUP_REQUEST__BODY_SEND;
    request.send = &send;
    //  Alice's UUID with another key: FORBIDDEN, and nothing stored.
    zframe_t *frame = s_pack (&request, alice, forged);
    reply = s_raw_one (ep, zframe_data (frame), zframe_size (frame));
    zframe_destroy (&frame);
    CHECK (reply);
    CHECK_INT_EQ (reply->status, GC_FORBIDDEN);
    CHECK_INT_EQ (reply->request_id, 5);
    CHECK_CONTAINS (reply->error, "bound to another key");
    gc_wire_group_reply_free (&reply);

    //  Re-joining under alice's UUID with another key is refused too.
    Groupcast__V1__Join join = GROUPCAST__V1__JOIN__INIT;
    join.name = "mallory";
    request.body_case = GROUPCAST__V1__GROUP_REQUEST__BODY_JOIN;
    request.join = &join;
    frame = s_pack (&request, alice, forged);
    reply = s_raw_one (ep, zframe_data (frame), zframe_size (frame));
    zframe_destroy (&frame);
    CHECK (reply);
    CHECK_INT_EQ (reply->status, GC_FORBIDDEN);
    gc_wire_group_reply_free (&reply);

    //  Text over 64 KiB: TOO_LARGE.
    size_t big = GC_MAX_TEXT + 1;
    uint8_t *text = (uint8_t *) calloc (1, big);
    memset (text, 'x', big);
    send.text.data = text;
    send.text.len = big;
    request.body_case = GROUPCAST__V1__GROUP_REQUEST__BODY_SEND;
    request.send = &send;
    frame = s_pack (&request, alice, forged);
    free (text);
    reply = s_raw_one (ep, zframe_data (frame), zframe_size (frame));
    zframe_destroy (&frame);
    CHECK (reply);
    CHECK_INT_EQ (reply->status, GC_TOO_LARGE);
    gc_wire_group_reply_free (&reply);

    //  A frame over the transport limit: the connection is dropped, no reply, still serving.
    size_t huge = GC_MAX_FRAME + 1024;
    uint8_t *blob = (uint8_t *) calloc (1, huge);
    zsock_t *dealer = zsock_new_dealer (ep);
    zsock_set_linger (dealer, 0);
    zframe_t *too_big = zframe_new (blob, huge);
    free (blob);
    zframe_send (&too_big, dealer, 0);
    zpoller_t *poller = zpoller_new (dealer, NULL);
    CHECK (zpoller_wait (poller, 500) == NULL);
    zpoller_destroy (&poller);
    zsock_destroy (&dealer);
    CHECK (s_still_serving (ep));

    //  A REQ peer (empty delimiter) is served like a DEALER.
    zsock_t *req = zsock_new_req (ep);
    zsock_set_linger (req, 0);
    gc_group_request_t info_request = GROUPCAST__V1__GROUP_REQUEST__INIT;
    Groupcast__V1__Info info = GROUPCAST__V1__INFO__INIT;
    info_request.request_id = 9;
    info_request.body_case = GROUPCAST__V1__GROUP_REQUEST__BODY_INFO;
    info_request.info = &info;
    frame = gc_wire_pack (&info_request.base);
    zframe_send (&frame, req, 0);
    frame = s_recv (req);
    CHECK (frame);
    char err[256];
    reply = gc_wire_group_reply_unpack (zframe_data (frame), zframe_size (frame), err, sizeof err);
    zframe_destroy (&frame);
    zsock_destroy (&req);
    CHECK (reply);
    CHECK_INT_EQ (reply->status, GC_OK);
    CHECK_INT_EQ (reply->request_id, 9);
    gc_wire_group_reply_free (&reply);

    //  Through all of it, history holds exactly alice's join.
    CHECK_INT_EQ (CLIENT (sys, "alice", NULL, &out, NULL, "history", "ops", "--json"), 0);
    CHECK_INT_EQ ((long long) (strchr (out, '\n') - out + 1), (long long) strlen (out));
    CHECK_CONTAINS (out, "\"event\":\"join\"");
    free (out);
    CHECK (gc_itest_destroy (&sys));
}

//  A raw identity: a UUID and its token.
typedef struct {
    char id[GC_UUID_STR_LEN + 1];    //  user UUID
    uint8_t token[GC_TOKEN_SIZE];    //  its secret
} raw_user_t;

static bool
s_raw_user (raw_user_t *user)
{
    gc_wire_new_uuid (user->id);
    return gc_wire_random (user->token, sizeof user->token) == 0;
}

//  Packs request as user (request_id rid) and sends it on a fresh DEALER; the decoded reply or
//  NULL.
static gc_group_reply_t *
s_raw_request (const char *endpoint, gc_group_request_t *request, const raw_user_t *user,
               uint64_t rid)
{
    request->request_id = rid;
    zframe_t *frame = s_pack (request, user->id, user->token);
    if (!frame) {
        return NULL;
    }
    gc_group_reply_t *reply = s_raw_one (endpoint, zframe_data (frame), zframe_size (frame));
    zframe_destroy (&frame);
    return reply;
}

//  Fills batch with n copies of text (len bytes), in arrays that s_raw_batch_free frees. Returns
//  false out of memory (batch is then empty).
static bool
s_raw_batch (Groupcast__V1__SendBatch *batch, size_t n, const uint8_t *text, size_t len)
{
    groupcast__v1__send_batch__init (batch);
    Groupcast__V1__Send *items = (Groupcast__V1__Send *) calloc (n ? n : 1, sizeof *items);
    Groupcast__V1__Send **list = (Groupcast__V1__Send **) calloc (n ? n : 1, sizeof *list);
    if (!items || !list) {
        free (items);
        free (list);
        return false;
    }
    batch->sends = list;
    list[0] = items;   //  so that s_raw_batch_free finds the array, even for n == 0
    for (size_t i = 0; i < n; i++) {
        groupcast__v1__send__init (&items[i]);
        items[i].text.data = (uint8_t *) text;
        items[i].text.len = len;
        list[i] = &items[i];
    }
    batch->n_sends = n;
    return true;
}

static void
s_raw_batch_free (Groupcast__V1__SendBatch *batch)
{
    if (batch->sends) {
        free (batch->sends[0]);   //  items: the first element is the array
        free (batch->sends);
    }
    batch->sends = NULL;
    batch->n_sends = 0;
}

//  The outcome of one batch sent raw: status, request id, reason, how many seqs.
typedef struct {
    int status;          //  -1: no reply
    uint64_t rid;        //  request id echoed
    char error[256];     //  reason
    size_t n_seqs;       //  seqs in the reply
} outcome_t;

static void
s_outcome (gc_group_reply_t **reply_p, outcome_t *out)
{
    gc_group_reply_t *reply = *reply_p;
    out->status = reply ? (int) reply->status : -1;
    out->rid = reply ? reply->request_id : 0;
    snprintf (out->error, sizeof out->error, "%s", reply && reply->error ? reply->error : "");
    out->n_seqs = reply ? reply->n_seqs : 0;
    gc_wire_group_reply_free (reply_p);
}

//  Malformed send batches straight to the group's ROUTER: each is refused whole with the right
//  status and reason, nothing of any is stored, and the group goes on serving; a valid batch
//  then is stored and acknowledged, and its retry is not stored again.
static void
test_group_router_batch (void)
{
    gc_itest_t *sys = gc_itest_new (GC_BIN_DIR, "hostile-batch", true, NULL);
    CHECK (sys);
    char ep[256];
    CHECK (gc_itest_group (sys, "ops", NULL, ep, NULL));
    raw_user_t alice, stranger;
    CHECK (s_raw_user (&alice));
    CHECK (s_raw_user (&stranger));

    gc_group_request_t request = GROUPCAST__V1__GROUP_REQUEST__INIT;
    Groupcast__V1__Join join = GROUPCAST__V1__JOIN__INIT;
    join.name = "alice";
    request.body_case = GROUPCAST__V1__GROUP_REQUEST__BODY_JOIN;
    request.join = &join;
    gc_group_reply_t *reply = s_raw_request (ep, &request, &alice, 1);
    CHECK (reply);
    CHECK_INT_EQ (reply->status, GC_OK);
    CHECK_INT_EQ (reply->seq, 1);
    gc_wire_group_reply_free (&reply);

    uint8_t *big = (uint8_t *) malloc (GC_MAX_TEXT + 1);
    CHECK (big);
    memset (big, 'h', GC_MAX_TEXT + 1);
    uint8_t short_id[GC_MSG_ID_SIZE - 1] = { 0 };
    const struct {
        const char *what;           //  for the failure message
        size_t n;                   //  messages
        size_t len;                 //  text bytes of each
        size_t odd;                 //  index of the message made odd, if any
        int oddity;                 //  0 none, 1 empty text, 2 15-byte id, 3 text too long
        gc_status_t status;         //  expected
        const char *why;            //  fragment of the reason
    } bad[] = {
        { "no message", 0, 1, 0, 0, GC_BAD_REQUEST, "at least 2" },
        { "one message", 1, 1, 0, 0, GC_BAD_REQUEST, "at least 2" },
        { "4097 messages", GC_MAX_BATCH_SENDS + 1, 1, 0, 0, GC_TOO_LARGE, "at most 4096" },
        { "1 MiB + 64 KiB of text", GC_MAX_BATCH_TEXT / GC_MAX_TEXT + 1, GC_MAX_TEXT, 0, 0,
          GC_TOO_LARGE, "1048576" },
        { "an empty message", 10, 3, 5, 1, GC_BAD_REQUEST, "empty" },
        { "a 15-byte message id", 10, 3, 9, 2, GC_BAD_REQUEST, "client_msg_id" },
        { "a message over 64 KiB", 3, 3, 1, 3, GC_TOO_LARGE, "65536" },
    };
    outcome_t outcomes[sizeof bad / sizeof bad[0]];
    bool built = true;
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        Groupcast__V1__SendBatch batch = GROUPCAST__V1__SEND_BATCH__INIT;
        built = built && s_raw_batch (&batch, bad[k].n, big, bad[k].len);
        if (built && bad[k].oddity == 1) {
            batch.sends[bad[k].odd]->text.len = 0;
        }
        else if (built && bad[k].oddity == 2) {
            batch.sends[bad[k].odd]->client_msg_id.data = short_id;
            batch.sends[bad[k].odd]->client_msg_id.len = sizeof short_id;
        }
        else if (built && bad[k].oddity == 3) {
            batch.sends[bad[k].odd]->text.len = GC_MAX_TEXT + 1;
        }
        request.body_case = GROUPCAST__V1__GROUP_REQUEST__BODY_SEND_BATCH;
        request.send_batch = &batch;
        reply = built ? s_raw_request (ep, &request, &alice, 100 + k) : NULL;
        s_raw_batch_free (&batch);
        s_outcome (&reply, &outcomes[k]);
        if (outcomes[k].status != (int) bad[k].status) {
            fprintf (stderr, "batch with %s: status %d, error '%s'\n", bad[k].what,
                     outcomes[k].status, outcomes[k].error);
        }
    }
    free (big);
    CHECK (built);
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        CHECK_INT_EQ (outcomes[k].status, bad[k].status);
        CHECK_INT_EQ (outcomes[k].rid, 100 + k);
        CHECK_CONTAINS (outcomes[k].error, bad[k].why);
        CHECK_INT_EQ (outcomes[k].n_seqs, 0);
    }
    CHECK (s_still_serving (ep));

    //  a valid batch frame cut short: malformed
    Groupcast__V1__SendBatch batch;
    uint8_t id[3][GC_MSG_ID_SIZE];
    for (size_t i = 0; i < 3; i++) {
        memset (id[i], (int) (0x40 + i), GC_MSG_ID_SIZE);
    }
    CHECK (s_raw_batch (&batch, 3, (const uint8_t *) "raw", 3));
    const char *texts[3] = { "first", "second", "third" };
    for (size_t i = 0; i < 3; i++) {
        batch.sends[i]->text.data = (uint8_t *) texts[i];
        batch.sends[i]->text.len = strlen (texts[i]);
        batch.sends[i]->client_msg_id.data = id[i];
        batch.sends[i]->client_msg_id.len = GC_MSG_ID_SIZE;
    }
    request.body_case = GROUPCAST__V1__GROUP_REQUEST__BODY_SEND_BATCH;
    request.send_batch = &batch;
    request.request_id = 120;
    zframe_t *frame = s_pack (&request, alice.id, alice.token);
    CHECK (frame);
    reply = s_raw_one (ep, zframe_data (frame), zframe_size (frame) - 4);
    zframe_destroy (&frame);
    outcome_t cut;
    s_outcome (&reply, &cut);
    CHECK_INT_EQ (cut.status, GC_BAD_REQUEST);
    CHECK_CONTAINS (cut.error, "malformed");

    //  the same batch, valid, from a stranger and from alice's UUID with another token
    outcome_t stranger_out, forged_out;
    reply = s_raw_request (ep, &request, &stranger, 121);
    s_outcome (&reply, &stranger_out);
    raw_user_t forged = alice;
    forged.token[0] ^= 0xff;
    reply = s_raw_request (ep, &request, &forged, 122);
    s_outcome (&reply, &forged_out);
    CHECK_INT_EQ (stranger_out.status, GC_NOT_MEMBER);
    CHECK_INT_EQ (stranger_out.rid, 121);
    CHECK_INT_EQ (forged_out.status, GC_FORBIDDEN);
    CHECK_INT_EQ (forged_out.rid, 122);
    CHECK (s_still_serving (ep));

    //  from alice: stored as 2, 3, 4 and acknowledged in one reply
    reply = s_raw_request (ep, &request, &alice, 123);
    CHECK (reply);
    bool acked = reply->status == GROUPCAST__V1__STATUS__STATUS_OK && reply->request_id == 123
                 && reply->n_seqs == 3 && reply->n_ts_list == 3 && reply->seqs[0] == 2
                 && reply->seqs[1] == 3 && reply->seqs[2] == 4 && reply->last_seq == 4
                 && reply->ts_list[0] < reply->ts_list[1]
                 && reply->ts_list[1] < reply->ts_list[2];
    if (!acked) {
        fprintf (stderr, "batch ack: status %d, %zu seqs, error '%s'\n", (int) reply->status,
                 reply->n_seqs, reply->error);
    }
    gc_wire_group_reply_free (&reply);
    CHECK (acked);
    //  its retry gets the same seqs and stores nothing
    for (size_t i = 0; i < 3; i++) {
        batch.sends[i]->retry = true;
    }
    reply = s_raw_request (ep, &request, &alice, 124);
    s_raw_batch_free (&batch);
    CHECK (reply);
    acked = reply->status == GROUPCAST__V1__STATUS__STATUS_OK && reply->n_seqs == 3
            && reply->seqs[0] == 2 && reply->seqs[1] == 3 && reply->seqs[2] == 4
            && reply->last_seq == 4;
    gc_wire_group_reply_free (&reply);
    CHECK (acked);

    //  history: the join and the three, nothing else
    Groupcast__V1__Fetch fetch = GROUPCAST__V1__FETCH__INIT;
    request.body_case = GROUPCAST__V1__GROUP_REQUEST__BODY_FETCH;
    request.fetch = &fetch;
    reply = s_raw_request (ep, &request, &alice, 125);
    CHECK (reply);
    bool history = reply->status == GROUPCAST__V1__STATUS__STATUS_OK && reply->n_entries == 4
                   && reply->last_seq == 4 && !reply->more;
    for (size_t i = 0; history && i < 4; i++) {
        const Groupcast__V1__Entry *e = reply->entries[i];
        history = e->seq == i + 1
                  && (i == 0 || (e->text.len == strlen (texts[i - 1])
                                 && memcmp (e->text.data, texts[i - 1], e->text.len) == 0));
    }
    if (!history) {
        fprintf (stderr, "history: status %d, %zu entries, last_seq %" PRIu64 "\n",
                 (int) reply->status, reply->n_entries, reply->last_seq);
    }
    gc_wire_group_reply_free (&reply);
    CHECK (history);
    CHECK (gc_itest_destroy (&sys));
}

//  Sends frames on a fresh REQ to the registry; returns the decoded reply or NULL.
static gc_registry_reply_t *
s_raw_registry (const char *endpoint, const void *const *parts, const size_t *sizes, int count)
{
    zsock_t *req = zsock_new_req (endpoint);
    assert (req);
    zsock_set_linger (req, 0);
    zmsg_t *msg = zmsg_new ();
    for (int i = 0; i < count; i++) {
        zmsg_addmem (msg, parts[i], sizes[i]);
    }
    zmsg_send (&msg, req);
    zframe_t *frame = s_recv (req);
    zsock_destroy (&req);
    if (!frame) {
        return NULL;
    }
    char err[256];
    gc_registry_reply_t *reply =
        gc_wire_registry_reply_unpack (zframe_data (frame), zframe_size (frame), err, sizeof err);
    zframe_destroy (&frame);
    return reply;
}

static void
test_registry_rep (void)
{
    gc_itest_t *sys = gc_itest_new (GC_BIN_DIR, "hostile-registry", true, NULL);
    CHECK (sys);
    CHECK (gc_itest_group (sys, "ops", NULL, NULL, NULL));
    static const uint8_t garbage[] = {0xff, 0x00, 0xfe};
    const void *one[1] = {garbage};
    size_t one_size[1] = {sizeof garbage};
    gc_registry_reply_t *reply = s_raw_registry (sys->server_ep, one, one_size, 1);
    CHECK (reply);
    CHECK_INT_EQ (reply->status, GC_BAD_REQUEST);
    gc_wire_registry_reply_free (&reply);

    const void *two[2] = {"a", "b"};
    size_t two_size[2] = {1, 1};
    reply = s_raw_registry (sys->server_ep, two, two_size, 2);
    CHECK (reply);
    CHECK_INT_EQ (reply->status, GC_BAD_REQUEST);
    gc_wire_registry_reply_free (&reply);

    //  A registration with a wildcard (unconnectable) endpoint is refused.
    Groupcast__V1__GroupInfo info = GROUPCAST__V1__GROUP_INFO__INIT;
    info.name = "evil";
    info.endpoint = "tcp://*:1234";
    info.pub_endpoint = "tcp://127.0.0.1:1235";
    info.group_id = "00000000-0000-4000-8000-000000000001";
    Groupcast__V1__RegisterGroup reg = GROUPCAST__V1__REGISTER_GROUP__INIT;
    reg.group = &info;
    gc_registry_request_t request = GROUPCAST__V1__REGISTRY_REQUEST__INIT;
    request.request_id = 3;
    request.body_case = GROUPCAST__V1__REGISTRY_REQUEST__BODY_REGISTER_GROUP;
    request.register_group = &reg;
    zframe_t *frame = gc_wire_pack (&request.base);
    const void *packed[1] = {zframe_data (frame)};
    size_t packed_size[1] = {zframe_size (frame)};
    reply = s_raw_registry (sys->server_ep, packed, packed_size, 1);
    zframe_destroy (&frame);
    CHECK (reply);
    CHECK_INT_EQ (reply->status, GC_BAD_REQUEST);
    CHECK_INT_EQ (reply->request_id, 3);
    gc_wire_registry_reply_free (&reply);

    //  Taking a live group's name: NAME_TAKEN.
    info.name = "ops";
    info.endpoint = "tcp://127.0.0.1:1234";
    frame = gc_wire_pack (&request.base);
    packed[0] = zframe_data (frame);
    packed_size[0] = zframe_size (frame);
    reply = s_raw_registry (sys->server_ep, packed, packed_size, 1);
    zframe_destroy (&frame);
    CHECK (reply);
    CHECK_INT_EQ (reply->status, GC_NAME_TAKEN);
    gc_wire_registry_reply_free (&reply);

    //  And the registry still lists exactly the real group.
    char *out = NULL;
    CHECK_INT_EQ (CLIENT (sys, "alice", NULL, &out, NULL, "groups", "--json"), 0);
    CHECK_INT_EQ ((long long) (strchr (out, '\n') - out + 1), (long long) strlen (out));
    CHECK_CONTAINS (out, "\"name\":\"ops\"");
    free (out);
    CHECK (gc_itest_destroy (&sys));
}

static const gc_test_case_t cases[] = {{"group_router", test_group_router},
                                       {"group_router_batch", test_group_router_batch},
                                       {"registry_rep", test_registry_rep},
                                       {NULL, NULL}};

int
main (int argc, char **argv)
{
    signal (SIGPIPE, SIG_IGN);
    zsys_init ();
    zsys_set_logstream (stderr);
    return gc_test_run (argc, argv, cases);
}
