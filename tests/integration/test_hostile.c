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
