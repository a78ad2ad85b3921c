/*  test_wire - gc_wire: field validators, advertised endpoints, and the unpacking and validation
    of every request, reply and publish frame
    SPDX-License-Identifier: MPL-2.0
*/
#include "gc_test.h"
#include "gc_wire.h"

#define USER_ID  "0f8fad5b-d9cb-469f-a165-70867728950e"
#define GROUP_ID "7c9e6679-7425-40de-944b-e07fc1f90ae7"
#define SENTINEL_STATUS ((gc_status_t) 77)   //  not a status: shows the out-parameter was set
#define SENTINEL_ID     UINT64_C (0xdeadbeef)

//  The outcome of one unpack.
typedef struct {
    void *req;           //  the unpacked request (group or registry), or NULL
    uint64_t rid;        //  request_id as reported
    gc_status_t status;  //  status as reported
    char err[256];       //  reason
} result_t;

static const uint8_t s_token[GC_TOKEN_SIZE] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15,
                                                16 };
static const uint8_t s_msg_id[GC_MSG_ID_SIZE] = { 0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7,
                                                  0xa8, 0xa9, 0xaa, 0xab, 0xac, 0xad, 0xae, 0xaf };

//  A request with a valid header (request_id 42, user, token) and no body.
static void
s_group_header (gc_group_request_t *req)
{
    groupcast__v1__group_request__init (req);
    req->request_id = 42;
    req->sender = (char *) USER_ID;
    req->token.data = (uint8_t *) s_token;
    req->token.len = GC_TOKEN_SIZE;
}

static void
s_unpack_group_bytes (const uint8_t *data, size_t size, result_t *r)
{
    r->rid = SENTINEL_ID;
    r->status = SENTINEL_STATUS;
    r->err[0] = '\0';
    r->req = gc_wire_group_request_unpack (data, size, &r->rid, &r->status, r->err, sizeof r->err);
}

static void
s_unpack_group (const gc_group_request_t *req, result_t *r)
{
    zframe_t *frame = gc_wire_pack (&req->base);
    assert (frame);
    s_unpack_group_bytes (zframe_data (frame), zframe_size (frame), r);
    zframe_destroy (&frame);
}

static void
s_unpack_registry_bytes (const uint8_t *data, size_t size, result_t *r)
{
    r->rid = SENTINEL_ID;
    r->status = SENTINEL_STATUS;
    r->err[0] = '\0';
    r->req =
        gc_wire_registry_request_unpack (data, size, &r->rid, &r->status, r->err, sizeof r->err);
}

static void
s_unpack_registry (const gc_registry_request_t *req, result_t *r)
{
    zframe_t *frame = gc_wire_pack (&req->base);
    assert (frame);
    s_unpack_registry_bytes (zframe_data (frame), zframe_size (frame), r);
    zframe_destroy (&frame);
}

//  A refused unpack: no message, the status, the request id and a fragment of the reason.
#define CHECK_REFUSED(r, want_status, want_rid, fragment)                                      \
    do {                                                                                       \
        CHECK ((r).req == NULL);                                                               \
        CHECK_INT_EQ ((r).status, (want_status));                                              \
        CHECK_INT_EQ ((r).rid, (want_rid));                                                    \
        CHECK_CONTAINS ((r).err, (fragment));                                                  \
    } while (0)

//  --------------------------------------------------------------------------------------------
//  Validators

static void
test_valid_uuid (void)
{
    CHECK (gc_wire_valid_uuid (USER_ID));
    CHECK (gc_wire_valid_uuid ("00000000-0000-0000-0000-000000000000"));
    char fresh[GC_UUID_STR_LEN + 1];
    gc_wire_new_uuid (fresh);
    CHECK (gc_wire_valid_uuid (fresh));

    CHECK (!gc_wire_valid_uuid (NULL));
    CHECK (!gc_wire_valid_uuid (""));
    CHECK (!gc_wire_valid_uuid ("0F8FAD5B-D9CB-469F-A165-70867728950E"));   //  uppercase
    CHECK (!gc_wire_valid_uuid ("0f8fad5b-d9cb-469f-a165-70867728950"));    //  35 chars
    CHECK (!gc_wire_valid_uuid ("0f8fad5b-d9cb-469f-a165-70867728950e0"));  //  37 chars
    CHECK (!gc_wire_valid_uuid ("0f8fad5bd-9cb-469f-a165-70867728950e"));   //  dash moved
    CHECK (!gc_wire_valid_uuid ("0f8fad5b-d9cb-469f-a165-70867728950g"));   //  not hex
    CHECK (!gc_wire_valid_uuid ("0f8fad5b+d9cb-469f-a165-70867728950e"));   //  not a dash
    CHECK (!gc_wire_valid_uuid ("{f8fad5b-d9cb-469f-a165-70867728950e}"));
    CHECK (!gc_wire_valid_uuid ("0f8fad5bxd9cbx469fxa165x70867728950e"));
}

static void
test_valid_group_name (void)
{
    char name[GC_MAX_NAME + 2];
    memset (name, 'a', GC_MAX_NAME);
    name[GC_MAX_NAME] = '\0';
    CHECK (gc_wire_valid_group_name (name));   //  exactly 64
    name[GC_MAX_NAME] = 'a';
    name[GC_MAX_NAME + 1] = '\0';
    CHECK (!gc_wire_valid_group_name (name));  //  65

    CHECK (gc_wire_valid_group_name ("ops"));
    CHECK (gc_wire_valid_group_name ("a"));
    CHECK (gc_wire_valid_group_name ("Ops.team_2-B"));
    CHECK (gc_wire_valid_group_name ("..."));
    CHECK (gc_wire_valid_group_name ("0"));

    CHECK (!gc_wire_valid_group_name (NULL));
    CHECK (!gc_wire_valid_group_name (""));
    CHECK (!gc_wire_valid_group_name ("two words"));
    CHECK (!gc_wire_valid_group_name ("a/b"));        //  would break the PUB topic
    CHECK (!gc_wire_valid_group_name ("a@b"));        //  would break NAME@ENDPOINT
    CHECK (!gc_wire_valid_group_name ("caf\xc3\xa9"));  //  UTF-8 letters are not ASCII
    CHECK (!gc_wire_valid_group_name ("tab\there"));
    CHECK (!gc_wire_valid_group_name ("nl\n"));
}

static void
test_valid_display_name (void)
{
    char name[GC_MAX_NAME + 2];
    memset (name, 'x', GC_MAX_NAME);
    name[GC_MAX_NAME] = '\0';
    CHECK (gc_wire_valid_display_name (name));   //  exactly 64 bytes
    name[GC_MAX_NAME] = 'x';
    name[GC_MAX_NAME + 1] = '\0';
    CHECK (!gc_wire_valid_display_name (name));  //  65 bytes

    CHECK (gc_wire_valid_display_name (""));     //  no name is allowed
    CHECK (gc_wire_valid_display_name ("Alice"));
    CHECK (gc_wire_valid_display_name ("Alice Smith (ops)"));
    CHECK (gc_wire_valid_display_name ("Jos\xc3\xa9"));   //  UTF-8 is fine

    CHECK (!gc_wire_valid_display_name (NULL));
    CHECK (!gc_wire_valid_display_name ("tab\tname"));
    CHECK (!gc_wire_valid_display_name ("line\nbreak"));
    CHECK (!gc_wire_valid_display_name ("esc\x1b[31m"));
    CHECK (!gc_wire_valid_display_name ("del\x7f"));
}

static void
test_valid_endpoint (void)
{
    CHECK (gc_wire_valid_endpoint ("tcp://127.0.0.1:5555"));
    CHECK (gc_wire_valid_endpoint ("tcp://localhost:1"));
    CHECK (gc_wire_valid_endpoint ("tcp://host.example.org:65535"));
    CHECK (gc_wire_valid_endpoint ("tcp://[::1]:5555"));
    CHECK (gc_wire_valid_endpoint ("ipc:///tmp/groupcast.sock"));
    CHECK (gc_wire_valid_endpoint ("inproc://group"));

    CHECK (!gc_wire_valid_endpoint (NULL));
    CHECK (!gc_wire_valid_endpoint (""));
    CHECK (!gc_wire_valid_endpoint ("127.0.0.1:5555"));         //  no transport
    CHECK (!gc_wire_valid_endpoint ("udp://127.0.0.1:5555"));   //  unknown transport
    CHECK (!gc_wire_valid_endpoint ("tcp://127.0.0.1"));        //  no port
    CHECK (!gc_wire_valid_endpoint ("tcp://127.0.0.1:"));       //  empty port
    CHECK (!gc_wire_valid_endpoint ("tcp://:5555"));            //  empty host
    CHECK (!gc_wire_valid_endpoint ("tcp://127.0.0.1:55x5"));   //  port not numeric
    CHECK (!gc_wire_valid_endpoint ("tcp://127.0.0.1:*"));      //  ephemeral port: bind only
    CHECK (!gc_wire_valid_endpoint ("tcp://127.0.0.1 :5555"));  //  space
    CHECK (!gc_wire_valid_endpoint ("tcp://h\x7fst:5555"));     //  control character
    CHECK (!gc_wire_valid_endpoint ("ipc://"));
    CHECK (!gc_wire_valid_endpoint ("inproc://"));

    //  Wildcard hosts can be bound but not connected to: never advertised
    CHECK (!gc_wire_valid_endpoint ("tcp://*:5555"));
    CHECK (!gc_wire_valid_endpoint ("tcp://0.0.0.0:5555"));

    //  Length: GC_MAX_ENDPOINT bytes fit, one more does not
    char long_ep[GC_MAX_ENDPOINT + 2];
    const char *prefix = "ipc:///";
    memset (long_ep, 'p', sizeof long_ep);
    memcpy (long_ep, prefix, strlen (prefix));
    long_ep[GC_MAX_ENDPOINT] = '\0';
    CHECK (gc_wire_valid_endpoint (long_ep));
    long_ep[GC_MAX_ENDPOINT] = 'p';
    long_ep[GC_MAX_ENDPOINT + 1] = '\0';
    CHECK (!gc_wire_valid_endpoint (long_ep));
}

//  BUG (gc_wire.c:126, gc_wire_valid_endpoint): only "*" and 0.0.0.0 are refused as wildcard tcp
//  hosts; the IPv6 wildcard [::] passes, although gc_wire_advertise treats it as a wildcard and
//  a group advertising it is unreachable from other hosts.
static void
test_valid_endpoint_ipv6_wildcard (void)
{
    CHECK (!gc_wire_valid_endpoint ("tcp://[::]:5555"));
}

static void
test_advertise (void)
{
    char buf[GC_MAX_ENDPOINT + 1];
    CHECK_INT_EQ (gc_wire_advertise ("tcp://0.0.0.0:5601", NULL, buf, sizeof buf), 0);
    CHECK_STR_EQ (buf, "tcp://127.0.0.1:5601");
    CHECK (gc_wire_valid_endpoint (buf));
    CHECK_INT_EQ (gc_wire_advertise ("tcp://0.0.0.0:5601", "gc.example.org", buf, sizeof buf), 0);
    CHECK_STR_EQ (buf, "tcp://gc.example.org:5601");
    CHECK_INT_EQ (gc_wire_advertise ("tcp://[::]:41000", NULL, buf, sizeof buf), 0);
    CHECK_STR_EQ (buf, "tcp://127.0.0.1:41000");
    CHECK_INT_EQ (gc_wire_advertise ("tcp://[::]:41000", "10.1.2.3", buf, sizeof buf), 0);
    CHECK_STR_EQ (buf, "tcp://10.1.2.3:41000");

    //  Not a wildcard: unchanged, whatever host is given
    CHECK_INT_EQ (gc_wire_advertise ("tcp://10.0.0.7:5601", "other", buf, sizeof buf), 0);
    CHECK_STR_EQ (buf, "tcp://10.0.0.7:5601");
    CHECK_INT_EQ (gc_wire_advertise ("ipc:///tmp/gc.sock", NULL, buf, sizeof buf), 0);
    CHECK_STR_EQ (buf, "ipc:///tmp/gc.sock");

    //  Never truncated: an exact fit works, one byte less fails
    char small[sizeof "tcp://127.0.0.1:5601"];
    CHECK_INT_EQ (gc_wire_advertise ("tcp://0.0.0.0:5601", NULL, small, sizeof small), 0);
    CHECK_STR_EQ (small, "tcp://127.0.0.1:5601");
    CHECK_INT_EQ (gc_wire_advertise ("tcp://0.0.0.0:5601", NULL, small, sizeof small - 1), -1);
    CHECK_INT_EQ (gc_wire_advertise ("tcp://10.0.0.7:5601", NULL, small, 5), -1);
}

static void
test_helpers (void)
{
    char topic[GC_MAX_NAME + 2];
    CHECK_INT_EQ (gc_wire_topic ("ops", topic), 4);
    CHECK_STR_EQ (topic, "ops/");
    char name[GC_MAX_NAME + 1];
    memset (name, 'n', GC_MAX_NAME);
    name[GC_MAX_NAME] = '\0';
    CHECK_INT_EQ (gc_wire_topic (name, topic), GC_MAX_NAME + 1);
    CHECK_INT_EQ (topic[GC_MAX_NAME], '/');

    char a[GC_UUID_STR_LEN + 1], b[GC_UUID_STR_LEN + 1];
    gc_wire_new_uuid (a);
    gc_wire_new_uuid (b);
    CHECK (gc_wire_valid_uuid (a) && gc_wire_valid_uuid (b));
    CHECK (strcmp (a, b) != 0);

    uint8_t r1[32] = { 0 }, r2[32] = { 0 }, zero[32] = { 0 };
    CHECK_INT_EQ (gc_wire_random (r1, sizeof r1), 0);
    CHECK_INT_EQ (gc_wire_random (r2, sizeof r2), 0);
    CHECK (memcmp (r1, r2, sizeof r1) != 0);
    CHECK (memcmp (r1, zero, sizeof r1) != 0);

    //  Every status has text; unknown values too
    for (int s = 0; s <= 10; s++) {
        CHECK (gc_status_str ((gc_status_t) s)[0] != '\0');
    }
    CHECK_STR_EQ (gc_status_str (GC_NOT_MEMBER), "not a member");
    CHECK_STR_EQ (gc_status_str (GC_TIMEOUT), "timeout");
    CHECK (gc_status_str ((gc_status_t) 55) != NULL);

    //  gc_wire_pack: exactly the packed size, and it round-trips
    gc_group_reply_t reply = GROUPCAST__V1__GROUP_REPLY__INIT;
    reply.request_id = 9;
    reply.group = (char *) "ops";
    zframe_t *frame = gc_wire_pack (&reply.base);
    CHECK (frame);
    CHECK_INT_EQ (zframe_size (frame), protobuf_c_message_get_packed_size (&reply.base));
    char err[128] = "";
    gc_group_reply_t *back = gc_wire_group_reply_unpack (zframe_data (frame), zframe_size (frame),
                                                         err, sizeof err);
    zframe_destroy (&frame);
    CHECK (back);
    CHECK_INT_EQ (back->request_id, 9);
    CHECK_STR_EQ (back->group, "ops");
    gc_wire_group_reply_free (&back);
    CHECK (back == NULL);
    gc_wire_group_reply_free (&back);   //  safe twice
}

//  --------------------------------------------------------------------------------------------
//  Group requests

static void
test_group_request_bodies (void)
{
    gc_group_request_t req;
    result_t r;

    //  join
    Groupcast__V1__Join join = GROUPCAST__V1__JOIN__INIT;
    join.name = (char *) "Alice";
    s_group_header (&req);
    req.body_case = GROUPCAST__V1__GROUP_REQUEST__BODY_JOIN;
    req.join = &join;
    s_unpack_group (&req, &r);
    CHECK (r.req);
    gc_group_request_t *got = (gc_group_request_t *) r.req;
    CHECK_INT_EQ (r.status, GC_OK);
    CHECK_INT_EQ (r.rid, 42);
    CHECK_INT_EQ (got->request_id, 42);
    CHECK_STR_EQ (got->sender, USER_ID);
    CHECK_INT_EQ (got->token.len, GC_TOKEN_SIZE);
    CHECK (memcmp (got->token.data, s_token, GC_TOKEN_SIZE) == 0);
    CHECK_INT_EQ (got->body_case, GROUPCAST__V1__GROUP_REQUEST__BODY_JOIN);
    CHECK_STR_EQ (got->join->name, "Alice");
    gc_wire_group_request_free (&got);
    CHECK (got == NULL);
    gc_wire_group_request_free (&got);   //  safe twice

    //  join without a display name
    join.name = (char *) "";
    s_unpack_group (&req, &r);
    CHECK (r.req);
    got = (gc_group_request_t *) r.req;
    CHECK_STR_EQ (got->join->name, "");
    gc_wire_group_request_free (&got);

    //  leave
    Groupcast__V1__Leave leave = GROUPCAST__V1__LEAVE__INIT;
    s_group_header (&req);
    req.body_case = GROUPCAST__V1__GROUP_REQUEST__BODY_LEAVE;
    req.leave = &leave;
    s_unpack_group (&req, &r);
    CHECK (r.req);
    got = (gc_group_request_t *) r.req;
    CHECK_INT_EQ (got->body_case, GROUPCAST__V1__GROUP_REQUEST__BODY_LEAVE);
    gc_wire_group_request_free (&got);

    //  send, with and without a client message id, and a retry
    Groupcast__V1__Send send = GROUPCAST__V1__SEND__INIT;
    send.text.data = (uint8_t *) "hello";
    send.text.len = 5;
    s_group_header (&req);
    req.body_case = GROUPCAST__V1__GROUP_REQUEST__BODY_SEND;
    req.send = &send;
    s_unpack_group (&req, &r);
    CHECK (r.req);
    got = (gc_group_request_t *) r.req;
    CHECK_INT_EQ (got->send->text.len, 5);
    CHECK (memcmp (got->send->text.data, "hello", 5) == 0);
    CHECK_INT_EQ (got->send->client_msg_id.len, 0);
    CHECK (!got->send->retry);
    gc_wire_group_request_free (&got);

    send.client_msg_id.data = (uint8_t *) s_msg_id;
    send.client_msg_id.len = GC_MSG_ID_SIZE;
    send.retry = true;
    s_unpack_group (&req, &r);
    CHECK (r.req);
    got = (gc_group_request_t *) r.req;
    CHECK_INT_EQ (got->send->client_msg_id.len, GC_MSG_ID_SIZE);
    CHECK (memcmp (got->send->client_msg_id.data, s_msg_id, GC_MSG_ID_SIZE) == 0);
    CHECK (got->send->retry);
    gc_wire_group_request_free (&got);

    //  fetch with every filter
    Groupcast__V1__Fetch fetch = GROUPCAST__V1__FETCH__INIT;
    fetch.since_us = 1000;
    fetch.until_us = 2000;
    fetch.after_seq = 3;
    fetch.before_seq = 9;
    fetch.limit = 5;
    fetch.newest = true;
    s_group_header (&req);
    req.body_case = GROUPCAST__V1__GROUP_REQUEST__BODY_FETCH;
    req.fetch = &fetch;
    s_unpack_group (&req, &r);
    CHECK (r.req);
    got = (gc_group_request_t *) r.req;
    CHECK_INT_EQ (got->fetch->since_us, 1000);
    CHECK_INT_EQ (got->fetch->until_us, 2000);
    CHECK_INT_EQ (got->fetch->after_seq, 3);
    CHECK_INT_EQ (got->fetch->before_seq, 9);
    CHECK_INT_EQ (got->fetch->limit, 5);
    CHECK (got->fetch->newest);
    gc_wire_group_request_free (&got);

    //  members
    Groupcast__V1__Members members = GROUPCAST__V1__MEMBERS__INIT;
    s_group_header (&req);
    req.body_case = GROUPCAST__V1__GROUP_REQUEST__BODY_MEMBERS;
    req.members = &members;
    s_unpack_group (&req, &r);
    CHECK (r.req);
    got = (gc_group_request_t *) r.req;
    CHECK_INT_EQ (got->body_case, GROUPCAST__V1__GROUP_REQUEST__BODY_MEMBERS);
    gc_wire_group_request_free (&got);

    //  info, with a header, and with none at all: info needs no identity
    Groupcast__V1__Info info = GROUPCAST__V1__INFO__INIT;
    s_group_header (&req);
    req.body_case = GROUPCAST__V1__GROUP_REQUEST__BODY_INFO;
    req.info = &info;
    s_unpack_group (&req, &r);
    CHECK (r.req);
    got = (gc_group_request_t *) r.req;
    gc_wire_group_request_free (&got);

    gc_group_request_t bare = GROUPCAST__V1__GROUP_REQUEST__INIT;
    bare.request_id = 5;
    bare.body_case = GROUPCAST__V1__GROUP_REQUEST__BODY_INFO;
    bare.info = &info;
    s_unpack_group (&bare, &r);
    CHECK (r.req);
    CHECK_INT_EQ (r.status, GC_OK);
    CHECK_INT_EQ (r.rid, 5);
    got = (gc_group_request_t *) r.req;
    CHECK_INT_EQ (got->body_case, GROUPCAST__V1__GROUP_REQUEST__BODY_INFO);
    gc_wire_group_request_free (&got);
}

//  A bad header refuses every body that acts as a user; the request id still comes back.
static void
test_group_request_bad_header (void)
{
    Groupcast__V1__Join join = GROUPCAST__V1__JOIN__INIT;
    Groupcast__V1__Leave leave = GROUPCAST__V1__LEAVE__INIT;
    Groupcast__V1__Send send = GROUPCAST__V1__SEND__INIT;
    send.text.data = (uint8_t *) "x";
    send.text.len = 1;
    Groupcast__V1__Fetch fetch = GROUPCAST__V1__FETCH__INIT;
    Groupcast__V1__Members members = GROUPCAST__V1__MEMBERS__INIT;
    Groupcast__V1__Send *batch_sends[2] = { &send, &send };
    Groupcast__V1__SendBatch batch = GROUPCAST__V1__SEND_BATCH__INIT;
    batch.sends = batch_sends;
    batch.n_sends = 2;

    uint8_t long_token[GC_TOKEN_SIZE + 1] = { 0 };
    const char *bad_senders[] = { "", "alice", "0F8FAD5B-D9CB-469F-A165-70867728950E",
                                  "0f8fad5b-d9cb-469f-a165-70867728950e " };
    for (int body = 0; body < 6; body++) {
        gc_group_request_t req;
        s_group_header (&req);
        req.request_id = 100 + (uint64_t) body;
        switch (body) {
        case 0:
            req.body_case = GROUPCAST__V1__GROUP_REQUEST__BODY_JOIN;
            req.join = &join;
            break;
        case 1:
            req.body_case = GROUPCAST__V1__GROUP_REQUEST__BODY_LEAVE;
            req.leave = &leave;
            break;
        case 2:
            req.body_case = GROUPCAST__V1__GROUP_REQUEST__BODY_SEND;
            req.send = &send;
            break;
        case 3:
            req.body_case = GROUPCAST__V1__GROUP_REQUEST__BODY_FETCH;
            req.fetch = &fetch;
            break;
        case 4:
            req.body_case = GROUPCAST__V1__GROUP_REQUEST__BODY_SEND_BATCH;
            req.send_batch = &batch;
            break;
        default:
            req.body_case = GROUPCAST__V1__GROUP_REQUEST__BODY_MEMBERS;
            req.members = &members;
            break;
        }
        result_t r;
        //  the valid header passes
        s_unpack_group (&req, &r);
        CHECK (r.req);
        gc_group_request_t *got = (gc_group_request_t *) r.req;
        gc_wire_group_request_free (&got);

        for (size_t i = 0; i < sizeof bad_senders / sizeof bad_senders[0]; i++) {
            req.sender = (char *) bad_senders[i];
            s_unpack_group (&req, &r);
            CHECK_REFUSED (r, GC_BAD_REQUEST, 100 + (uint64_t) body, "sender");
        }
        req.sender = (char *) USER_ID;

        size_t token_sizes[] = { 0, 1, GC_TOKEN_SIZE - 1, GC_TOKEN_SIZE + 1 };
        req.token.data = long_token;
        for (size_t i = 0; i < sizeof token_sizes / sizeof token_sizes[0]; i++) {
            req.token.len = token_sizes[i];
            s_unpack_group (&req, &r);
            CHECK_REFUSED (r, GC_BAD_REQUEST, 100 + (uint64_t) body, "token");
        }
    }
}

static void
test_group_request_bad_send (void)
{
    gc_group_request_t req;
    Groupcast__V1__Send send = GROUPCAST__V1__SEND__INIT;
    s_group_header (&req);
    req.request_id = 7;
    req.body_case = GROUPCAST__V1__GROUP_REQUEST__BODY_SEND;
    req.send = &send;
    result_t r;

    //  empty text
    s_unpack_group (&req, &r);
    CHECK_REFUSED (r, GC_BAD_REQUEST, 7, "empty");

    //  exactly GC_MAX_TEXT is fine, one more byte is too large
    uint8_t *big = (uint8_t *) malloc (GC_MAX_TEXT + 1);
    CHECK (big);
    memset (big, 'b', GC_MAX_TEXT + 1);
    send.text.data = big;
    send.text.len = GC_MAX_TEXT;
    s_unpack_group (&req, &r);
    if (!r.req) {
        free (big);
    }
    CHECK (r.req);
    gc_group_request_t *got = (gc_group_request_t *) r.req;
    CHECK_INT_EQ (got->send->text.len, GC_MAX_TEXT);
    gc_wire_group_request_free (&got);
    send.text.len = GC_MAX_TEXT + 1;
    s_unpack_group (&req, &r);
    free (big);
    CHECK_REFUSED (r, GC_TOO_LARGE, 7, "65536");

    //  client_msg_id: empty or exactly 16 bytes
    send.text.data = (uint8_t *) "hi";
    send.text.len = 2;
    uint8_t id[GC_MSG_ID_SIZE + 1] = { 0 };
    send.client_msg_id.data = id;
    size_t bad_sizes[] = { 1, GC_MSG_ID_SIZE - 1, GC_MSG_ID_SIZE + 1 };
    for (size_t i = 0; i < sizeof bad_sizes / sizeof bad_sizes[0]; i++) {
        send.client_msg_id.len = bad_sizes[i];
        s_unpack_group (&req, &r);
        CHECK_REFUSED (r, GC_BAD_REQUEST, 7, "client_msg_id");
    }
}

//  A SendBatch built by the test: its messages and the list pointing at them.
typedef struct {
    Groupcast__V1__Send *items;        //  the messages, owned
    Groupcast__V1__Send **list;        //  pointers to them, owned
    Groupcast__V1__SendBatch batch;    //  sends = list
} batch_t;

//  Fills b with n copies of *proto (text, id, retry borrowed). Returns false out of memory
//  (s_batch_free still frees what was made).
static bool
s_batch_new (batch_t *b, size_t n, const Groupcast__V1__Send *proto)
{
    b->items = (Groupcast__V1__Send *) calloc (n ? n : 1, sizeof *b->items);
    b->list = (Groupcast__V1__Send **) calloc (n ? n : 1, sizeof *b->list);
    groupcast__v1__send_batch__init (&b->batch);
    if (!b->items || !b->list) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        b->items[i] = *proto;
        b->list[i] = &b->items[i];
    }
    b->batch.sends = b->list;
    b->batch.n_sends = n;
    return true;
}

static void
s_batch_free (batch_t *b)
{
    free (b->items);
    free (b->list);
    b->items = NULL;
    b->list = NULL;
}

//  Unpacks req with batch b as its body, into r.
static void
s_unpack_batch (gc_group_request_t *req, batch_t *b, result_t *r)
{
    req->body_case = GROUPCAST__V1__GROUP_REQUEST__BODY_SEND_BATCH;
    req->send_batch = &b->batch;
    s_unpack_group (req, r);
}

//  A valid batch round-trips in order; each bound is exact (2..4096 messages, 1 MiB of text in
//  all, each message checked as a Send), with the status and reason of a refusal.
static void
test_group_request_send_batch (void)
{
    gc_group_request_t req;
    s_group_header (&req);
    req.request_id = 61;
    result_t r;
    Groupcast__V1__Send proto = GROUPCAST__V1__SEND__INIT;
    proto.text.data = (uint8_t *) "m";
    proto.text.len = 1;

    //  a valid batch of three, with ids, a retry and distinct texts, round-trips in order
    batch_t b;
    CHECK (s_batch_new (&b, 3, &proto));
    uint8_t ids[3][GC_MSG_ID_SIZE];
    const char *texts[3] = { "first", "second message", "3" };
    for (size_t i = 0; i < 3; i++) {
        memset (ids[i], (int) (0x10 + i), GC_MSG_ID_SIZE);
        b.items[i].text.data = (uint8_t *) texts[i];
        b.items[i].text.len = strlen (texts[i]);
        b.items[i].client_msg_id.data = ids[i];
        b.items[i].client_msg_id.len = i == 1 ? 0 : GC_MSG_ID_SIZE;   //  the middle one has none
        b.items[i].retry = i == 2;
    }
    s_unpack_batch (&req, &b, &r);
    s_batch_free (&b);
    CHECK (r.req);
    CHECK_INT_EQ (r.status, GC_OK);
    CHECK_INT_EQ (r.rid, 61);
    gc_group_request_t *got = (gc_group_request_t *) r.req;
    bool same = got->body_case == GROUPCAST__V1__GROUP_REQUEST__BODY_SEND_BATCH
                && got->send_batch->n_sends == 3;
    for (size_t i = 0; same && i < 3; i++) {
        const Groupcast__V1__Send *send = got->send_batch->sends[i];
        same = send->text.len == strlen (texts[i])
               && memcmp (send->text.data, texts[i], send->text.len) == 0
               && send->client_msg_id.len == (i == 1 ? 0 : GC_MSG_ID_SIZE)
               && (i == 1 || memcmp (send->client_msg_id.data, ids[i], GC_MSG_ID_SIZE) == 0)
               && send->retry == (i == 2);
    }
    gc_wire_group_request_free (&got);
    CHECK (same);

    //  message count: 0 and 1 are bad requests, 2 and 4096 fine, 4097 too large
    const struct {
        size_t n;
        gc_status_t status;   //  GC_OK: accepted
        const char *why;
    } counts[] = {
        { 0, GC_BAD_REQUEST, "at least 2" },
        { 1, GC_BAD_REQUEST, "at least 2" },
        { 2, GC_OK, NULL },
        { GC_MAX_BATCH_SENDS, GC_OK, NULL },
        { GC_MAX_BATCH_SENDS + 1, GC_TOO_LARGE, "at most 4096" },
        { 3 * GC_MAX_BATCH_SENDS, GC_TOO_LARGE, "at most 4096" },
    };
    for (size_t k = 0; k < sizeof counts / sizeof counts[0]; k++) {
        CHECK (s_batch_new (&b, counts[k].n, &proto));
        s_unpack_batch (&req, &b, &r);
        s_batch_free (&b);
        if (counts[k].status == GC_OK) {
            CHECK (r.req);
            got = (gc_group_request_t *) r.req;
            size_t n = got->send_batch->n_sends;
            gc_wire_group_request_free (&got);
            CHECK_INT_EQ (n, counts[k].n);
        }
        else {
            CHECK_REFUSED (r, counts[k].status, 61, counts[k].why);
        }
    }

    //  text in all: exactly 1 MiB (16 full messages) is fine, one byte more is too large,
    //  although each message is within GC_MAX_TEXT
    uint8_t *big = (uint8_t *) malloc (GC_MAX_TEXT + 1);
    CHECK (big);
    memset (big, 'b', GC_MAX_TEXT + 1);
    const size_t full = GC_MAX_BATCH_TEXT / GC_MAX_TEXT;   //  16
    proto.text.data = big;
    proto.text.len = GC_MAX_TEXT;
    bool made = s_batch_new (&b, full + 1, &proto);
    result_t at_limit = { 0 }, over = { 0 }, one_big = { 0 };
    if (made) {
        b.batch.n_sends = full;
        s_unpack_batch (&req, &b, &at_limit);
        b.items[full].text.len = 1;
        b.batch.n_sends = full + 1;
        s_unpack_batch (&req, &b, &over);
        //  one message over GC_MAX_TEXT inside an otherwise small batch
        b.items[0].text.len = GC_MAX_TEXT + 1;
        b.items[1].text.len = 1;
        b.batch.n_sends = 2;
        s_unpack_batch (&req, &b, &one_big);
    }
    s_batch_free (&b);
    free (big);
    got = (gc_group_request_t *) at_limit.req;
    size_t at_limit_n = got ? got->send_batch->n_sends : 0;
    gc_wire_group_request_free (&got);
    CHECK (made);
    CHECK_INT_EQ (at_limit.status, GC_OK);
    CHECK_INT_EQ (at_limit_n, full);
    CHECK_REFUSED (over, GC_TOO_LARGE, 61, "1048576");
    CHECK_REFUSED (one_big, GC_TOO_LARGE, 61, "65536");

    //  each message is checked as a Send, wherever it stands: empty text, a bad id length
    proto.text.data = (uint8_t *) "ok";
    proto.text.len = 2;
    uint8_t id[GC_MSG_ID_SIZE + 1] = { 0 };
    const size_t where[] = { 0, 1, 99 };
    for (size_t w = 0; w < sizeof where / sizeof where[0]; w++) {
        CHECK (s_batch_new (&b, 100, &proto));
        b.items[where[w]].text.len = 0;
        s_unpack_batch (&req, &b, &r);
        result_t empty = r;
        b.items[where[w]].text.len = 2;
        const size_t bad_sizes[] = { 1, GC_MSG_ID_SIZE - 1, GC_MSG_ID_SIZE + 1 };
        result_t bad_id[3];
        for (size_t i = 0; i < 3; i++) {
            b.items[where[w]].client_msg_id.data = id;
            b.items[where[w]].client_msg_id.len = bad_sizes[i];
            s_unpack_batch (&req, &b, &bad_id[i]);
        }
        s_batch_free (&b);
        CHECK_REFUSED (empty, GC_BAD_REQUEST, 61, "empty");
        for (size_t i = 0; i < 3; i++) {
            CHECK_REFUSED (bad_id[i], GC_BAD_REQUEST, 61, "client_msg_id");
        }
    }

    //  an empty message in a batch that is also too long: refused either way, never accepted
    CHECK (s_batch_new (&b, GC_MAX_BATCH_SENDS + 1, &proto));
    b.items[GC_MAX_BATCH_SENDS].text.len = 0;
    s_unpack_batch (&req, &b, &r);
    s_batch_free (&b);
    CHECK (r.req == NULL);
    CHECK (r.status == GC_BAD_REQUEST || r.status == GC_TOO_LARGE);

    //  a batch carries the header like any send: a bad sender is refused
    CHECK (s_batch_new (&b, 2, &proto));
    req.sender = (char *) "not-a-uuid";
    s_unpack_batch (&req, &b, &r);
    s_batch_free (&b);
    CHECK_REFUSED (r, GC_BAD_REQUEST, 61, "sender");
}

static void
test_group_request_bad_join_fetch (void)
{
    gc_group_request_t req;
    Groupcast__V1__Join join = GROUPCAST__V1__JOIN__INIT;
    s_group_header (&req);
    req.request_id = 8;
    req.body_case = GROUPCAST__V1__GROUP_REQUEST__BODY_JOIN;
    req.join = &join;
    result_t r;

    char long_name[GC_MAX_NAME + 2];
    memset (long_name, 'n', GC_MAX_NAME + 1);
    long_name[GC_MAX_NAME + 1] = '\0';
    const char *bad_names[] = { long_name, "bell\a", "new\nline", "del\x7f" };
    for (size_t i = 0; i < sizeof bad_names / sizeof bad_names[0]; i++) {
        join.name = (char *) bad_names[i];
        s_unpack_group (&req, &r);
        CHECK_REFUSED (r, GC_BAD_REQUEST, 8, "display name");
    }

    Groupcast__V1__Fetch fetch = GROUPCAST__V1__FETCH__INIT;
    req.body_case = GROUPCAST__V1__GROUP_REQUEST__BODY_FETCH;
    req.fetch = &fetch;
    fetch.since_us = -1;
    s_unpack_group (&req, &r);
    CHECK_REFUSED (r, GC_BAD_REQUEST, 8, "negative");
    fetch.since_us = 0;
    fetch.until_us = -5;
    s_unpack_group (&req, &r);
    CHECK_REFUSED (r, GC_BAD_REQUEST, 8, "negative");
}

//  A well-formed envelope with no body this peer knows: UNKNOWN_REQUEST, id echoed.
static void
test_group_request_unknown_body (void)
{
    gc_group_request_t req;
    s_group_header (&req);
    req.request_id = 31;
    result_t r;
    s_unpack_group (&req, &r);
    CHECK_REFUSED (r, GC_UNKNOWN_REQUEST, 31, "unknown");

    //  A body from a newer protocol version: field 20, an empty embedded message
    zframe_t *frame = gc_wire_pack (&req.base);
    CHECK (frame);
    size_t size = zframe_size (frame);
    uint8_t buf[256];
    CHECK (size + 3 <= sizeof buf);
    memcpy (buf, zframe_data (frame), size);
    zframe_destroy (&frame);
    buf[size] = 0xa2;   //  (20 << 3) | 2, varint 162
    buf[size + 1] = 0x01;
    buf[size + 2] = 0x00;   //  length 0
    s_unpack_group_bytes (buf, size + 3, &r);
    CHECK_REFUSED (r, GC_UNKNOWN_REQUEST, 31, "unknown");
}

//  Unknown fields are skipped (forward compatibility): in the envelope and inside a body.
static void
test_group_request_unknown_fields (void)
{
    gc_group_request_t req;
    Groupcast__V1__Send send = GROUPCAST__V1__SEND__INIT;
    send.text.data = (uint8_t *) "forward";
    send.text.len = 7;
    s_group_header (&req);
    req.request_id = 300;   //  two-byte varint
    req.body_case = GROUPCAST__V1__GROUP_REQUEST__BODY_SEND;
    req.send = &send;
    zframe_t *frame = gc_wire_pack (&req.base);
    CHECK (frame);
    size_t size = zframe_size (frame);
    uint8_t buf[512];
    CHECK (size + 16 <= sizeof buf);
    memcpy (buf, zframe_data (frame), size);
    zframe_destroy (&frame);

    //  field 99 varint 1, then field 99 length-delimited "abc"
    const uint8_t extra[] = { 0x98, 0x06, 0x01, 0x9a, 0x06, 0x03, 'a', 'b', 'c' };
    memcpy (buf + size, extra, sizeof extra);
    result_t r;
    s_unpack_group_bytes (buf, size + sizeof extra, &r);
    CHECK (r.req);
    CHECK_INT_EQ (r.status, GC_OK);
    CHECK_INT_EQ (r.rid, 300);
    gc_group_request_t *got = (gc_group_request_t *) r.req;
    CHECK_INT_EQ (got->body_case, GROUPCAST__V1__GROUP_REQUEST__BODY_SEND);
    CHECK_INT_EQ (got->send->text.len, 7);
    CHECK (memcmp (got->send->text.data, "forward", 7) == 0);
    CHECK_STR_EQ (got->sender, USER_ID);
    gc_wire_group_request_free (&got);

    //  An unknown field inside the Send body: header fields, then field 12 by hand
    gc_group_request_t header;
    s_group_header (&header);
    header.request_id = 301;
    frame = gc_wire_pack (&header.base);
    CHECK (frame);
    size = zframe_size (frame);
    memcpy (buf, zframe_data (frame), size);
    zframe_destroy (&frame);
    uint8_t body[64];
    size_t body_size = protobuf_c_message_pack (&send.base, body);
    body[body_size++] = 0x20;   //  field 4, varint
    body[body_size++] = 0x01;
    buf[size++] = 0x62;         //  field 12, length-delimited
    buf[size++] = (uint8_t) body_size;
    memcpy (buf + size, body, body_size);
    size += body_size;
    s_unpack_group_bytes (buf, size, &r);
    CHECK (r.req);
    CHECK_INT_EQ (r.rid, 301);
    got = (gc_group_request_t *) r.req;
    CHECK_INT_EQ (got->body_case, GROUPCAST__V1__GROUP_REQUEST__BODY_SEND);
    CHECK_INT_EQ (got->send->text.len, 7);
    gc_wire_group_request_free (&got);
}

static void
test_group_request_garbage (void)
{
    result_t r;
    //  unterminated varint tag
    const uint8_t garbage1[] = { 0xff, 0xff, 0xff };
    s_unpack_group_bytes (garbage1, sizeof garbage1, &r);
    CHECK_REFUSED (r, GC_BAD_REQUEST, 0, "malformed");
    //  field 3 claims 100 bytes, 2 follow
    const uint8_t garbage2[] = { 0x08, 0x2a, 0x1a, 0x64, 0x01, 0x02 };
    s_unpack_group_bytes (garbage2, sizeof garbage2, &r);
    CHECK_REFUSED (r, GC_BAD_REQUEST, 0, "malformed");
    //  plain text
    const char *text = "JOIN ops please";
    s_unpack_group_bytes ((const uint8_t *) text, strlen (text), &r);
    CHECK_REFUSED (r, GC_BAD_REQUEST, 0, "malformed");
    //  an empty frame is a valid empty message: no body
    s_unpack_group_bytes ((const uint8_t *) "", 0, &r);
    CHECK_REFUSED (r, GC_UNKNOWN_REQUEST, 0, "unknown");

    //  over GC_MAX_FRAME: refused before parsing
    uint8_t *huge = (uint8_t *) calloc (1, GC_MAX_FRAME + 1);
    CHECK (huge);
    s_unpack_group_bytes (huge, GC_MAX_FRAME + 1, &r);
    result_t r2;
    s_unpack_registry_bytes (huge, GC_MAX_FRAME + 1, &r2);
    free (huge);
    CHECK_REFUSED (r, GC_TOO_LARGE, 0, "exceeds");
    CHECK_REFUSED (r2, GC_TOO_LARGE, 0, "exceeds");
}

//  --------------------------------------------------------------------------------------------
//  Registry requests

//  A register request for "ops" with valid fields; info must outlive it.
static void
s_register_request (gc_registry_request_t *req, Groupcast__V1__RegisterGroup *reg,
                    Groupcast__V1__GroupInfo *info)
{
    groupcast__v1__registry_request__init (req);
    groupcast__v1__register_group__init (reg);
    groupcast__v1__group_info__init (info);
    info->name = (char *) "ops";
    info->endpoint = (char *) "tcp://127.0.0.1:5601";
    info->pub_endpoint = (char *) "tcp://127.0.0.1:5602";
    info->group_id = (char *) GROUP_ID;
    reg->group = info;
    req->request_id = 11;
    req->client_id = (char *) GROUP_ID;
    req->body_case = GROUPCAST__V1__REGISTRY_REQUEST__BODY_REGISTER_GROUP;
    req->register_group = reg;
}

static void
test_registry_request (void)
{
    gc_registry_request_t req;
    Groupcast__V1__RegisterGroup reg;
    Groupcast__V1__GroupInfo info;
    result_t r;
    s_register_request (&req, &reg, &info);
    s_unpack_registry (&req, &r);
    CHECK (r.req);
    CHECK_INT_EQ (r.status, GC_OK);
    CHECK_INT_EQ (r.rid, 11);
    gc_registry_request_t *got = (gc_registry_request_t *) r.req;
    CHECK_STR_EQ (got->register_group->group->name, "ops");
    CHECK_STR_EQ (got->register_group->group->group_id, GROUP_ID);
    gc_wire_registry_request_free (&got);
    CHECK (got == NULL);
    gc_wire_registry_request_free (&got);

    //  client_id is optional
    req.client_id = (char *) "";
    s_unpack_registry (&req, &r);
    CHECK (r.req);
    got = (gc_registry_request_t *) r.req;
    gc_wire_registry_request_free (&got);
    //  but if set, a UUID
    req.client_id = (char *) "ops-group";
    s_unpack_registry (&req, &r);
    CHECK_REFUSED (r, GC_BAD_REQUEST, 11, "client_id");
    req.client_id = (char *) GROUP_ID;

    //  each invalid field of GroupInfo
    info.name = (char *) "bad name";
    s_unpack_registry (&req, &r);
    CHECK_REFUSED (r, GC_BAD_REQUEST, 11, "group name");
    info.name = (char *) "";
    s_unpack_registry (&req, &r);
    CHECK_REFUSED (r, GC_BAD_REQUEST, 11, "group name");
    info.name = (char *) "ops";
    info.endpoint = (char *) "tcp://*:5601";
    s_unpack_registry (&req, &r);
    CHECK_REFUSED (r, GC_BAD_REQUEST, 11, "endpoint");
    info.endpoint = (char *) "tcp://127.0.0.1:5601";
    info.pub_endpoint = (char *) "tcp://0.0.0.0:5602";
    s_unpack_registry (&req, &r);
    CHECK_REFUSED (r, GC_BAD_REQUEST, 11, "endpoint");
    info.pub_endpoint = (char *) "";
    s_unpack_registry (&req, &r);
    CHECK_REFUSED (r, GC_BAD_REQUEST, 11, "endpoint");
    info.pub_endpoint = (char *) "tcp://127.0.0.1:5602";
    info.group_id = (char *) "";
    s_unpack_registry (&req, &r);
    CHECK_REFUSED (r, GC_BAD_REQUEST, 11, "group_id");
    info.group_id = (char *) "7C9E6679-7425-40DE-944B-E07FC1F90AE7";
    s_unpack_registry (&req, &r);
    CHECK_REFUSED (r, GC_BAD_REQUEST, 11, "group_id");
    info.group_id = (char *) GROUP_ID;
    reg.group = NULL;
    s_unpack_registry (&req, &r);
    CHECK_REFUSED (r, GC_BAD_REQUEST, 11, "without group");
    reg.group = &info;

    //  unregister
    Groupcast__V1__UnregisterGroup unreg = GROUPCAST__V1__UNREGISTER_GROUP__INIT;
    unreg.name = (char *) "ops";
    unreg.group_id = (char *) GROUP_ID;
    req.body_case = GROUPCAST__V1__REGISTRY_REQUEST__BODY_UNREGISTER_GROUP;
    req.unregister_group = &unreg;
    req.request_id = 12;
    s_unpack_registry (&req, &r);
    CHECK (r.req);
    got = (gc_registry_request_t *) r.req;
    CHECK_STR_EQ (got->unregister_group->name, "ops");
    gc_wire_registry_request_free (&got);
    unreg.name = (char *) "a/b";
    s_unpack_registry (&req, &r);
    CHECK_REFUSED (r, GC_BAD_REQUEST, 12, "group name");

    //  list
    Groupcast__V1__ListGroups list = GROUPCAST__V1__LIST_GROUPS__INIT;
    req.body_case = GROUPCAST__V1__REGISTRY_REQUEST__BODY_LIST_GROUPS;
    req.list_groups = &list;
    req.request_id = 13;
    s_unpack_registry (&req, &r);
    CHECK (r.req);
    got = (gc_registry_request_t *) r.req;
    CHECK_INT_EQ (got->body_case, GROUPCAST__V1__REGISTRY_REQUEST__BODY_LIST_GROUPS);
    gc_wire_registry_request_free (&got);

    //  no body
    req.body_case = GROUPCAST__V1__REGISTRY_REQUEST__BODY__NOT_SET;
    req.request_id = 14;
    s_unpack_registry (&req, &r);
    CHECK_REFUSED (r, GC_UNKNOWN_REQUEST, 14, "unknown");

    //  garbage
    const uint8_t garbage[] = { 0x0a, 0x80 };
    s_unpack_registry_bytes (garbage, sizeof garbage, &r);
    CHECK_REFUSED (r, GC_BAD_REQUEST, 0, "malformed");
}

//  --------------------------------------------------------------------------------------------
//  Replies and publish frames

//  Fills n entries seq first.. with a valid sender, kind message.
static void
s_entries (Groupcast__V1__Entry *items, Groupcast__V1__Entry **list, size_t n, uint64_t first)
{
    for (size_t i = 0; i < n; i++) {
        groupcast__v1__entry__init (&items[i]);
        items[i].seq = first + i;
        items[i].ts_us = 1000 + (int64_t) i;
        items[i].sender = (char *) USER_ID;
        items[i].name = (char *) "Alice";
        items[i].text.data = (uint8_t *) "m";
        items[i].text.len = 1;
        list[i] = &items[i];
    }
}

//  Packs reply and unpacks it again; true when the reply was accepted.
static bool
s_group_reply_ok (const gc_group_reply_t *reply, char *err, size_t errlen)
{
    zframe_t *frame = gc_wire_pack (&reply->base);
    assert (frame);
    err[0] = '\0';
    gc_group_reply_t *got =
        gc_wire_group_reply_unpack (zframe_data (frame), zframe_size (frame), err, errlen);
    zframe_destroy (&frame);
    bool ok = got != NULL;
    gc_wire_group_reply_free (&got);
    return ok;
}

static void
test_group_reply (void)
{
    Groupcast__V1__Entry items[3];
    Groupcast__V1__Entry *list[3];
    s_entries (items, list, 3, 5);
    items[1].seq = 8;   //  gaps are fine in history (pruned, filtered)
    items[2].seq = 9;
    items[1].kind = GROUPCAST__V1__ENTRY_KIND__ENTRY_JOIN;
    items[1].text.len = 0;
    gc_group_reply_t reply = GROUPCAST__V1__GROUP_REPLY__INIT;
    reply.request_id = 3;
    reply.entries = list;
    reply.n_entries = 3;
    reply.more = true;
    reply.last_seq = 9;
    reply.group = (char *) "ops";
    reply.pub_endpoint = (char *) "tcp://127.0.0.1:5602";
    zframe_t *frame = gc_wire_pack (&reply.base);
    CHECK (frame);
    char err[256] = "";
    gc_group_reply_t *got =
        gc_wire_group_reply_unpack (zframe_data (frame), zframe_size (frame), err, sizeof err);
    zframe_destroy (&frame);
    CHECK (got);
    CHECK_INT_EQ (got->n_entries, 3);
    CHECK_INT_EQ (got->entries[1]->kind, GROUPCAST__V1__ENTRY_KIND__ENTRY_JOIN);
    CHECK_INT_EQ (got->entries[2]->seq, 9);
    CHECK (got->more);
    gc_wire_group_reply_free (&got);

    //  an error reply
    gc_group_reply_t error = GROUPCAST__V1__GROUP_REPLY__INIT;
    error.status = GROUPCAST__V1__STATUS__STATUS_NOT_MEMBER;
    error.error = (char *) "cannot send in group 'ops': not a member";
    CHECK (s_group_reply_ok (&error, err, sizeof err));

    //  each malformed entry
    items[0].seq = 0;
    CHECK (!s_group_reply_ok (&reply, err, sizeof err));
    CHECK_CONTAINS (err, "invalid entry");
    items[0].seq = 5;
    items[2].sender = (char *) "mallory";
    CHECK (!s_group_reply_ok (&reply, err, sizeof err));
    CHECK_CONTAINS (err, "invalid entry");
    items[2].sender = (char *) USER_ID;
    items[2].kind = (Groupcast__V1__EntryKind) 3;
    CHECK (!s_group_reply_ok (&reply, err, sizeof err));
    items[2].kind = GROUPCAST__V1__ENTRY_KIND__ENTRY_MESSAGE;
    items[2].seq = 8;   //  repeats the previous seq
    CHECK (!s_group_reply_ok (&reply, err, sizeof err));
    CHECK_CONTAINS (err, "order");
    items[2].seq = 7;   //  goes back
    CHECK (!s_group_reply_ok (&reply, err, sizeof err));
    items[2].seq = 9;
    uint8_t *big = (uint8_t *) calloc (1, GC_MAX_TEXT + 1);
    CHECK (big);
    items[2].text.data = big;
    items[2].text.len = GC_MAX_TEXT + 1;
    bool accepted = s_group_reply_ok (&reply, err, sizeof err);
    items[2].text.len = GC_MAX_TEXT;
    bool accepted_max = s_group_reply_ok (&reply, err, sizeof err);
    free (big);
    CHECK (!accepted);
    CHECK (accepted_max);
    items[2].text.data = (uint8_t *) "m";
    items[2].text.len = 1;
    CHECK (s_group_reply_ok (&reply, err, sizeof err));

    //  a wildcard pub endpoint is not connectable
    reply.pub_endpoint = (char *) "tcp://*:5602";
    CHECK (!s_group_reply_ok (&reply, err, sizeof err));
    CHECK_CONTAINS (err, "endpoint");

    //  garbage
    const uint8_t garbage[] = { 0xff, 0xff };
    got = gc_wire_group_reply_unpack (garbage, sizeof garbage, err, sizeof err);
    CHECK (got == NULL);
    CHECK_CONTAINS (err, "malformed");
}

//  A send batch's acknowledgement lists a seq and a timestamp per message: the two lists must be
//  as long as each other, or the client could not pair them.
static void
test_batch_ack_reply (void)
{
    uint64_t seqs[4] = { 7, 8, 3, 9 };   //  a retried message keeps its original seq
    int64_t ts[4] = { 1000, 1001, 500, 1002 };
    gc_group_reply_t reply = GROUPCAST__V1__GROUP_REPLY__INIT;
    reply.request_id = 12;
    reply.last_seq = 9;
    reply.seqs = seqs;
    reply.n_seqs = 4;
    reply.ts_list = ts;
    reply.n_ts_list = 4;
    zframe_t *frame = gc_wire_pack (&reply.base);
    CHECK (frame);
    char err[256] = "";
    gc_group_reply_t *got =
        gc_wire_group_reply_unpack (zframe_data (frame), zframe_size (frame), err, sizeof err);
    zframe_destroy (&frame);
    CHECK (got);
    bool same = got->request_id == 12 && got->last_seq == 9 && got->n_seqs == 4
                && got->n_ts_list == 4;
    for (size_t i = 0; same && i < 4; i++) {
        same = got->seqs[i] == seqs[i] && got->ts_list[i] == ts[i];
    }
    gc_wire_group_reply_free (&got);
    CHECK (same);

    //  one list longer than the other, or only one of them: refused
    const size_t lengths[][2] = { { 4, 3 }, { 3, 4 }, { 4, 0 }, { 0, 4 }, { 1, 0 } };
    for (size_t i = 0; i < sizeof lengths / sizeof lengths[0]; i++) {
        reply.n_seqs = lengths[i][0];
        reply.n_ts_list = lengths[i][1];
        CHECK (!s_group_reply_ok (&reply, err, sizeof err));
        CHECK_CONTAINS (err, "seqs and ts_list");
    }
    //  neither (every other reply) is fine
    reply.n_seqs = 0;
    reply.n_ts_list = 0;
    CHECK (s_group_reply_ok (&reply, err, sizeof err));
}

//  Only wire statuses (0 .. GC_INTERNAL) may arrive in a reply: 100 and up are client-only, and
//  a peer sending GC_TIMEOUT would otherwise make the client believe it timed out (and retry).
static void
test_reply_status_range (void)
{
    char err[256];
    gc_group_reply_t reply = GROUPCAST__V1__GROUP_REPLY__INIT;
    reply.status = GROUPCAST__V1__STATUS__STATUS_INTERNAL;   //  10: the highest wire status
    CHECK (s_group_reply_ok (&reply, err, sizeof err));
    const int bad[] = { (int) GC_TIMEOUT, (int) GC_PROTOCOL, 1000, -1 };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        reply.status = (Groupcast__V1__Status) bad[i];
        CHECK (!s_group_reply_ok (&reply, err, sizeof err));
    }
    gc_registry_reply_t rreply = GROUPCAST__V1__REGISTRY_REPLY__INIT;
    rreply.status = (Groupcast__V1__Status) GC_TIMEOUT;
    zframe_t *frame = gc_wire_pack (&rreply.base);
    CHECK (frame);
    gc_registry_reply_t *got =
        gc_wire_registry_reply_unpack (zframe_data (frame), zframe_size (frame), err, sizeof err);
    zframe_destroy (&frame);
    bool accepted = got != NULL;
    gc_wire_registry_reply_free (&got);
    CHECK (!accepted);
}

static void
test_registry_reply (void)
{
    Groupcast__V1__GroupInfo a = GROUPCAST__V1__GROUP_INFO__INIT;
    Groupcast__V1__GroupInfo b = GROUPCAST__V1__GROUP_INFO__INIT;
    Groupcast__V1__GroupInfo *groups[2] = { &a, &b };
    a.name = (char *) "alpha";
    a.endpoint = (char *) "tcp://127.0.0.1:1";
    a.pub_endpoint = (char *) "tcp://127.0.0.1:2";
    a.group_id = (char *) GROUP_ID;
    b = a;
    b.name = (char *) "beta";
    gc_registry_reply_t reply = GROUPCAST__V1__REGISTRY_REPLY__INIT;
    reply.request_id = 4;
    reply.groups = groups;
    reply.n_groups = 2;
    reply.heartbeat_ms = 1000;
    reply.ttl_ms = 5000;

    char err[256] = "";
    zframe_t *frame = gc_wire_pack (&reply.base);
    CHECK (frame);
    gc_registry_reply_t *got =
        gc_wire_registry_reply_unpack (zframe_data (frame), zframe_size (frame), err, sizeof err);
    zframe_destroy (&frame);
    CHECK (got);
    CHECK_INT_EQ (got->n_groups, 2);
    CHECK_STR_EQ (got->groups[1]->name, "beta");
    CHECK_INT_EQ (got->ttl_ms, 5000);
    gc_wire_registry_reply_free (&got);
    CHECK (got == NULL);

    const char *fields[][3] = {
        { "bad name", "tcp://127.0.0.1:1", "tcp://127.0.0.1:2" },
        { "beta", "tcp://*:1", "tcp://127.0.0.1:2" },
        { "beta", "tcp://127.0.0.1:1", "tcp://0.0.0.0:2" },
        { "beta", "tcp://127.0.0.1:1", "" },
    };
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
        b.name = (char *) fields[i][0];
        b.endpoint = (char *) fields[i][1];
        b.pub_endpoint = (char *) fields[i][2];
        frame = gc_wire_pack (&reply.base);
        CHECK (frame);
        err[0] = '\0';
        got = gc_wire_registry_reply_unpack (zframe_data (frame), zframe_size (frame), err,
                                             sizeof err);
        zframe_destroy (&frame);
        CHECK (got == NULL);
        CHECK_CONTAINS (err, "invalid group");
    }
    const uint8_t garbage[] = { 0x22, 0x05, 0x0a };
    got = gc_wire_registry_reply_unpack (garbage, sizeof garbage, err, sizeof err);
    CHECK (got == NULL);
    CHECK_CONTAINS (err, "malformed");
}

//  An allocator that counts, to show gc_wire_publish_unpack uses it for everything.
typedef struct {
    size_t allocs;   //  successful allocations
    size_t frees;    //  frees of non-NULL pointers
} counting_t;

static void *
s_count_alloc (void *data, size_t size)
{
    counting_t *c = (counting_t *) data;
    void *p = malloc (size);
    if (p) {
        c->allocs++;
    }
    return p;
}

static void
s_count_free (void *data, void *p)
{
    counting_t *c = (counting_t *) data;
    if (p) {
        c->frees++;
    }
    free (p);
}

//  Packs a Publish and unpacks it with allocator (may be NULL); true when accepted.
static bool
s_publish_ok (const gc_publish_t *pub, ProtobufCAllocator *allocator, char *err, size_t errlen)
{
    zframe_t *frame = gc_wire_pack (&pub->base);
    assert (frame);
    err[0] = '\0';
    gc_publish_t *got =
        gc_wire_publish_unpack (zframe_data (frame), zframe_size (frame), allocator, err, errlen);
    zframe_destroy (&frame);
    bool ok = got != NULL;
    gc_wire_publish_free (&got, allocator);
    return ok;
}

static void
test_publish (void)
{
    Groupcast__V1__Entry items[3];
    Groupcast__V1__Entry *list[3];
    s_entries (items, list, 3, 5);
    gc_publish_t pub = GROUPCAST__V1__PUBLISH__INIT;
    pub.group = (char *) "ops";
    pub.last_seq = 7;
    pub.ts_us = 123;
    pub.entries = list;
    pub.n_entries = 3;

    counting_t counts = { 0, 0 };
    ProtobufCAllocator allocator = { s_count_alloc, s_count_free, &counts };
    zframe_t *frame = gc_wire_pack (&pub.base);
    CHECK (frame);
    char err[256] = "";
    gc_publish_t *got = gc_wire_publish_unpack (zframe_data (frame), zframe_size (frame),
                                                &allocator, err, sizeof err);
    zframe_destroy (&frame);
    CHECK (got);
    CHECK_STR_EQ (got->group, "ops");
    CHECK_INT_EQ (got->last_seq, 7);
    CHECK_INT_EQ (got->n_entries, 3);
    for (size_t i = 0; i < 3; i++) {
        CHECK_INT_EQ (got->entries[i]->seq, 5 + i);
        CHECK_STR_EQ (got->entries[i]->sender, USER_ID);
    }
    CHECK (counts.allocs > 0);
    gc_wire_publish_free (&got, &allocator);
    CHECK (got == NULL);
    CHECK_INT_EQ (counts.frees, counts.allocs);

    //  the default allocator
    CHECK (s_publish_ok (&pub, NULL, err, sizeof err));

    //  a heartbeat: no entries, any last_seq
    pub.n_entries = 0;
    pub.last_seq = 42;
    CHECK (s_publish_ok (&pub, NULL, err, sizeof err));
    pub.n_entries = 3;
    pub.last_seq = 7;

    //  a single entry
    pub.entries = &list[2];
    pub.n_entries = 1;
    CHECK (s_publish_ok (&pub, NULL, err, sizeof err));
    pub.entries = list;
    pub.n_entries = 3;

    //  last_seq must be the last entry's
    pub.last_seq = 9;
    CHECK (!s_publish_ok (&pub, NULL, err, sizeof err));
    CHECK_CONTAINS (err, "contiguous");
    pub.last_seq = 6;
    CHECK (!s_publish_ok (&pub, &allocator, err, sizeof err));
    pub.last_seq = 7;

    //  a gap: 5, 7 ending at 7
    list[1] = &items[2];
    pub.n_entries = 2;
    CHECK (!s_publish_ok (&pub, &allocator, err, sizeof err));
    CHECK_CONTAINS (err, "contiguous");
    list[1] = &items[1];
    pub.n_entries = 3;

    //  out of order: 6, 5, 7
    list[0] = &items[1];
    list[1] = &items[0];
    CHECK (!s_publish_ok (&pub, NULL, err, sizeof err));
    list[0] = &items[0];
    list[1] = &items[1];

    //  an invalid sender
    items[1].sender = (char *) "";
    CHECK (!s_publish_ok (&pub, NULL, err, sizeof err));
    items[1].sender = (char *) USER_ID;
    CHECK (s_publish_ok (&pub, NULL, err, sizeof err));

    //  the refused frames freed everything they allocated through the allocator
    CHECK_INT_EQ (counts.frees, counts.allocs);

    got = gc_wire_publish_unpack ((const uint8_t *) "\xff\xff", 2, NULL, err, sizeof err);
    CHECK (got == NULL);
    CHECK_CONTAINS (err, "malformed");
}

static const gc_test_case_t s_cases[] = {
    { "valid_uuid", test_valid_uuid },
    { "valid_group_name", test_valid_group_name },
    { "valid_display_name", test_valid_display_name },
    { "valid_endpoint", test_valid_endpoint },
    { "valid_endpoint_ipv6_wildcard", test_valid_endpoint_ipv6_wildcard },
    { "advertise", test_advertise },
    { "helpers", test_helpers },
    { "group_request_bodies", test_group_request_bodies },
    { "group_request_bad_header", test_group_request_bad_header },
    { "group_request_bad_send", test_group_request_bad_send },
    { "group_request_send_batch", test_group_request_send_batch },
    { "group_request_bad_join_fetch", test_group_request_bad_join_fetch },
    { "group_request_unknown_body", test_group_request_unknown_body },
    { "group_request_unknown_fields", test_group_request_unknown_fields },
    { "group_request_garbage", test_group_request_garbage },
    { "registry_request", test_registry_request },
    { "group_reply", test_group_reply },
    { "batch_ack_reply", test_batch_ack_reply },
    { "reply_status_range", test_reply_status_range },
    { "registry_reply", test_registry_reply },
    { "publish", test_publish },
    { NULL, NULL },
};

int
main (int argc, char **argv)
{
    return gc_test_run (argc, argv, s_cases);
}
