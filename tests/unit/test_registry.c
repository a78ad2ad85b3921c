/*  test_registry - gc_registry: registration, heartbeats, names, expiry and refused requests,
    driven through gc_registry_handle with packed requests and synthetic clock values
    SPDX-License-Identifier: MPL-2.0
*/
#include "gc_registry.h"
#include "gc_test.h"
#include "gc_wire.h"

#define ID_A "11111111-1111-4111-8111-111111111111"
#define ID_B "22222222-2222-4222-8222-222222222222"

#define HEARTBEAT_MS 1000
#define TTL_MS       3000
#define T0           INT64_C (1800000000000000)   //  an arbitrary synthetic "now"
#define TTL_US       ((int64_t) TTL_MS * 1000)

//  Packs a request, hands it to the registry at now_us and unpacks the reply (NULL when the
//  reply is missing or malformed, which no case expects).
static gc_registry_reply_t *
s_call (gc_registry_t *registry, const gc_registry_request_t *req, int64_t now_us)
{
    zframe_t *request = gc_wire_pack (&req->base);
    assert (request);
    zframe_t *frame =
        gc_registry_handle (registry, zframe_data (request), zframe_size (request), "test", now_us);
    zframe_destroy (&request);
    if (!frame) {
        return NULL;
    }
    char err[256];
    gc_registry_reply_t *reply =
        gc_wire_registry_reply_unpack (zframe_data (frame), zframe_size (frame), err, sizeof err);
    if (!reply) {
        fprintf (stderr, "registry reply does not unpack: %s\n", err);
    }
    zframe_destroy (&frame);
    return reply;
}

//  Hands raw bytes to the registry and unpacks the reply.
static gc_registry_reply_t *
s_call_bytes (gc_registry_t *registry, const uint8_t *data, size_t size, int64_t now_us)
{
    zframe_t *frame = gc_registry_handle (registry, data, size, NULL, now_us);
    if (!frame) {
        return NULL;
    }
    char err[256];
    gc_registry_reply_t *reply =
        gc_wire_registry_reply_unpack (zframe_data (frame), zframe_size (frame), err, sizeof err);
    zframe_destroy (&frame);
    return reply;
}

//  Registers (or heartbeats) a group; returns the reply.
static gc_registry_reply_t *
s_register (gc_registry_t *registry, uint64_t request_id, const char *name, const char *group_id,
            const char *endpoint, const char *pub_endpoint, int64_t now_us)
{
    Groupcast__V1__GroupInfo info = GROUPCAST__V1__GROUP_INFO__INIT;
    info.name = (char *) name;
    info.endpoint = (char *) endpoint;
    info.pub_endpoint = (char *) pub_endpoint;
    info.group_id = (char *) group_id;
    Groupcast__V1__RegisterGroup reg = GROUPCAST__V1__REGISTER_GROUP__INIT;
    reg.group = &info;
    gc_registry_request_t req = GROUPCAST__V1__REGISTRY_REQUEST__INIT;
    req.request_id = request_id;
    req.client_id = (char *) group_id;
    req.body_case = GROUPCAST__V1__REGISTRY_REQUEST__BODY_REGISTER_GROUP;
    req.register_group = &reg;
    return s_call (registry, &req, now_us);
}

static gc_registry_reply_t *
s_unregister (gc_registry_t *registry, uint64_t request_id, const char *name,
              const char *group_id, int64_t now_us)
{
    Groupcast__V1__UnregisterGroup unreg = GROUPCAST__V1__UNREGISTER_GROUP__INIT;
    unreg.name = (char *) name;
    unreg.group_id = (char *) group_id;
    gc_registry_request_t req = GROUPCAST__V1__REGISTRY_REQUEST__INIT;
    req.request_id = request_id;
    req.body_case = GROUPCAST__V1__REGISTRY_REQUEST__BODY_UNREGISTER_GROUP;
    req.unregister_group = &unreg;
    return s_call (registry, &req, now_us);
}

static gc_registry_reply_t *
s_list (gc_registry_t *registry, uint64_t request_id, int64_t now_us)
{
    Groupcast__V1__ListGroups list = GROUPCAST__V1__LIST_GROUPS__INIT;
    gc_registry_request_t req = GROUPCAST__V1__REGISTRY_REQUEST__INIT;
    req.request_id = request_id;
    req.body_case = GROUPCAST__V1__REGISTRY_REQUEST__BODY_LIST_GROUPS;
    req.list_groups = &list;
    return s_call (registry, &req, now_us);
}

//  Registers name for group_id at now_us and checks the reply is OK. For use in CHECK.
static bool
s_register_ok (gc_registry_t *registry, const char *name, const char *group_id, const char *ep,
               const char *pub, int64_t now_us)
{
    gc_registry_reply_t *reply = s_register (registry, 1, name, group_id, ep, pub, now_us);
    bool ok = reply && reply->status == GROUPCAST__V1__STATUS__STATUS_OK;
    if (reply && !ok) {
        fprintf (stderr, "register '%s' refused: %s\n", name, reply->error);
    }
    gc_wire_registry_reply_free (&reply);
    return ok;
}

//  The names a list request at now_us returns, joined with ',' into buf ("" if none); false if
//  the list failed.
static bool
s_names (gc_registry_t *registry, int64_t now_us, char *buf, size_t buflen)
{
    gc_registry_reply_t *reply = s_list (registry, 77, now_us);
    if (!reply || reply->status != GROUPCAST__V1__STATUS__STATUS_OK || reply->request_id != 77) {
        gc_wire_registry_reply_free (&reply);
        return false;
    }
    buf[0] = '\0';
    for (size_t i = 0; i < reply->n_groups; i++) {
        size_t len = strlen (buf);
        snprintf (buf + len, buflen - len, "%s%s", i ? "," : "", reply->groups[i]->name);
    }
    gc_wire_registry_reply_free (&reply);
    return true;
}

static void
test_register_and_list (void)
{
    gc_registry_t *registry = gc_registry_new (HEARTBEAT_MS, TTL_MS);
    CHECK (registry);
    CHECK_INT_EQ (gc_registry_size (registry), 0);

    gc_registry_reply_t *reply = s_list (registry, 1, T0);
    CHECK (reply);
    CHECK_INT_EQ (reply->status, GC_OK);
    CHECK_INT_EQ (reply->n_groups, 0);
    gc_wire_registry_reply_free (&reply);

    //  registered out of order on purpose
    reply = s_register (registry, 501, "beta", ID_B, "tcp://127.0.0.1:5611", "tcp://127.0.0.1:5612",
                        T0);
    CHECK (reply);
    CHECK_INT_EQ (reply->status, GC_OK);
    CHECK_INT_EQ (reply->request_id, 501);
    CHECK_STR_EQ (reply->error, "");
    CHECK_INT_EQ (reply->heartbeat_ms, HEARTBEAT_MS);
    CHECK_INT_EQ (reply->ttl_ms, TTL_MS);
    gc_wire_registry_reply_free (&reply);
    reply = s_register (registry, 502, "alpha", ID_A, "tcp://127.0.0.1:5601", "ipc:///tmp/alpha",
                        T0 + 10);
    CHECK (reply);
    CHECK_INT_EQ (reply->status, GC_OK);
    CHECK_INT_EQ (reply->request_id, 502);
    gc_wire_registry_reply_free (&reply);
    CHECK_INT_EQ (gc_registry_size (registry), 2);

    reply = s_list (registry, 503, T0 + 20);
    CHECK (reply);
    CHECK_INT_EQ (reply->status, GC_OK);
    CHECK_INT_EQ (reply->request_id, 503);
    CHECK_INT_EQ (reply->n_groups, 2);
    const Groupcast__V1__GroupInfo *a = reply->groups[0];
    const Groupcast__V1__GroupInfo *b = reply->groups[1];
    CHECK_STR_EQ (a->name, "alpha");
    CHECK_STR_EQ (a->endpoint, "tcp://127.0.0.1:5601");
    CHECK_STR_EQ (a->pub_endpoint, "ipc:///tmp/alpha");
    //  group_id proves ownership of the name (unregister, takeover): never listed
    CHECK_STR_EQ (a->group_id, "");
    CHECK_INT_EQ (a->last_seen_us, T0 + 10);
    CHECK_STR_EQ (b->name, "beta");
    CHECK_STR_EQ (b->endpoint, "tcp://127.0.0.1:5611");
    CHECK_STR_EQ (b->pub_endpoint, "tcp://127.0.0.1:5612");
    CHECK_STR_EQ (b->group_id, "");
    CHECK_INT_EQ (b->last_seen_us, T0);
    gc_wire_registry_reply_free (&reply);

    gc_registry_destroy (&registry);
    CHECK (registry == NULL);
    gc_registry_destroy (&registry);
}

//  Sorted by name with many groups, whatever the hash order.
static void
test_list_sorted (void)
{
    gc_registry_t *registry = gc_registry_new (HEARTBEAT_MS, TTL_MS);
    CHECK (registry);
    const char *names[] = { "m", "Z", "a.b", "a", "zz", "0", "a-b", "a_b", "B", "mm" };
    const char *sorted = "0,B,Z,a,a-b,a.b,a_b,m,mm,zz";   //  strcmp order
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        char id[GC_UUID_STR_LEN + 1];
        gc_wire_new_uuid (id);
        CHECK (s_register_ok (registry, names[i], id, "tcp://127.0.0.1:1", "tcp://127.0.0.1:2",
                              T0));
    }
    char buf[256];
    CHECK (s_names (registry, T0, buf, sizeof buf));
    CHECK_STR_EQ (buf, sorted);
    gc_registry_destroy (&registry);
}

static void
test_name_taken (void)
{
    gc_registry_t *registry = gc_registry_new (HEARTBEAT_MS, TTL_MS);
    CHECK (registry);
    CHECK (s_register_ok (registry, "ops", ID_A, "tcp://127.0.0.1:5601", "tcp://127.0.0.1:5602",
                          T0));

    //  another instance asks for the same name while the first is alive
    gc_registry_reply_t *reply = s_register (registry, 9, "ops", ID_B, "tcp://127.0.0.1:7001",
                                             "tcp://127.0.0.1:7002", T0 + TTL_US / 2);
    CHECK (reply);
    CHECK_INT_EQ (reply->status, GC_NAME_TAKEN);
    CHECK_INT_EQ (reply->request_id, 9);
    CHECK_CONTAINS (reply->error, "cannot register group 'ops'");
    CHECK_CONTAINS (reply->error, "already taken");
    //  it names who holds the name
    CHECK_CONTAINS (reply->error, "tcp://127.0.0.1:5601");
    gc_wire_registry_reply_free (&reply);

    //  nothing changed: still the first instance, its last_seen untouched
    CHECK_INT_EQ (gc_registry_size (registry), 1);
    reply = s_list (registry, 10, T0 + TTL_US / 2);
    CHECK (reply);
    CHECK_INT_EQ (reply->n_groups, 1);
    CHECK_STR_EQ (reply->groups[0]->endpoint, "tcp://127.0.0.1:5601");
    CHECK_INT_EQ (reply->groups[0]->last_seen_us, T0);
    gc_wire_registry_reply_free (&reply);
    gc_registry_destroy (&registry);
}

//  The same group_id registering again is a heartbeat: accepted, refreshes last_seen and may
//  move endpoints (a restart with the same durable id).
static void
test_heartbeat (void)
{
    gc_registry_t *registry = gc_registry_new (HEARTBEAT_MS, TTL_MS);
    CHECK (registry);
    gc_registry_set_verbose (registry, true);
    CHECK (s_register_ok (registry, "ops", ID_A, "tcp://127.0.0.1:5601", "tcp://127.0.0.1:5602",
                          T0));
    //  heartbeats keep it alive well past one TTL
    int64_t now = T0;
    for (int i = 0; i < 10; i++) {
        now += TTL_US / 2;
        CHECK (s_register_ok (registry, "ops", ID_A, "tcp://127.0.0.1:5601",
                              "tcp://127.0.0.1:5602", now));
        CHECK_INT_EQ (gc_registry_size (registry), 1);
    }
    CHECK_INT_EQ (gc_registry_expire (registry, now + TTL_US), 0);
    gc_registry_reply_t *reply = s_list (registry, 3, now);
    CHECK (reply);
    CHECK_INT_EQ (reply->n_groups, 1);
    CHECK_INT_EQ (reply->groups[0]->last_seen_us, now);
    gc_wire_registry_reply_free (&reply);

    //  restarted on other ports, same id
    CHECK (s_register_ok (registry, "ops", ID_A, "tcp://127.0.0.1:6601", "tcp://127.0.0.1:6602",
                          now + 1));
    reply = s_list (registry, 4, now + 1);
    CHECK (reply);
    CHECK_INT_EQ (reply->n_groups, 1);
    CHECK_STR_EQ (reply->groups[0]->endpoint, "tcp://127.0.0.1:6601");
    CHECK_STR_EQ (reply->groups[0]->pub_endpoint, "tcp://127.0.0.1:6602");
    gc_wire_registry_reply_free (&reply);
    gc_registry_destroy (&registry);
}

static void
test_unregister (void)
{
    gc_registry_t *registry = gc_registry_new (HEARTBEAT_MS, TTL_MS);
    CHECK (registry);
    CHECK (s_register_ok (registry, "ops", ID_A, "tcp://127.0.0.1:5601", "tcp://127.0.0.1:5602",
                          T0));
    CHECK (s_register_ok (registry, "dev", ID_B, "tcp://127.0.0.1:5603", "tcp://127.0.0.1:5604",
                          T0));

    //  another instance may not remove it
    gc_registry_reply_t *reply = s_unregister (registry, 21, "ops", ID_B, T0 + 1);
    CHECK (reply);
    CHECK_INT_EQ (reply->status, GC_FORBIDDEN);
    CHECK_INT_EQ (reply->request_id, 21);
    CHECK_CONTAINS (reply->error, "cannot unregister group 'ops'");
    gc_wire_registry_reply_free (&reply);
    CHECK_INT_EQ (gc_registry_size (registry), 2);

    //  nor can an empty id
    reply = s_unregister (registry, 22, "ops", "", T0 + 1);
    CHECK (reply);
    CHECK_INT_EQ (reply->status, GC_FORBIDDEN);
    gc_wire_registry_reply_free (&reply);

    //  an unknown name
    reply = s_unregister (registry, 23, "nope", ID_A, T0 + 1);
    CHECK (reply);
    CHECK_INT_EQ (reply->status, GC_NOT_FOUND);
    CHECK_INT_EQ (reply->request_id, 23);
    CHECK_CONTAINS (reply->error, "'nope'");
    gc_wire_registry_reply_free (&reply);

    //  the owner may
    reply = s_unregister (registry, 24, "ops", ID_A, T0 + 2);
    CHECK (reply);
    CHECK_INT_EQ (reply->status, GC_OK);
    CHECK_INT_EQ (reply->request_id, 24);
    gc_wire_registry_reply_free (&reply);
    CHECK_INT_EQ (gc_registry_size (registry), 1);
    char buf[64];
    CHECK (s_names (registry, T0 + 3, buf, sizeof buf));
    CHECK_STR_EQ (buf, "dev");

    //  twice: gone
    reply = s_unregister (registry, 25, "ops", ID_A, T0 + 4);
    CHECK (reply);
    CHECK_INT_EQ (reply->status, GC_NOT_FOUND);
    gc_wire_registry_reply_free (&reply);

    //  and the name is free for anyone now
    CHECK (s_register_ok (registry, "ops", ID_B, "tcp://127.0.0.1:5605", "tcp://127.0.0.1:5606",
                          T0 + 5));
    gc_registry_destroy (&registry);
}

//  Groups not heard from for more than the TTL disappear, judged by now_us only.
static void
test_expiry (void)
{
    gc_registry_t *registry = gc_registry_new (HEARTBEAT_MS, TTL_MS);
    CHECK (registry);
    CHECK (s_register_ok (registry, "old", ID_A, "tcp://127.0.0.1:5601", "tcp://127.0.0.1:5602",
                          T0));
    CHECK (s_register_ok (registry, "new", ID_B, "tcp://127.0.0.1:5603", "tcp://127.0.0.1:5604",
                          T0 + TTL_US / 2));
    char buf[64];
    CHECK (s_names (registry, T0 + TTL_US - 1, buf, sizeof buf));
    CHECK_STR_EQ (buf, "new,old");
    CHECK_INT_EQ (gc_registry_expire (registry, T0 + TTL_US - 1), 0);
    CHECK_INT_EQ (gc_registry_size (registry), 2);

    //  a list just past old's TTL leaves it out
    CHECK (s_names (registry, T0 + TTL_US + 1, buf, sizeof buf));
    CHECK_STR_EQ (buf, "new");
    CHECK_INT_EQ (gc_registry_size (registry), 1);

    //  gc_registry_expire by itself
    CHECK_INT_EQ (gc_registry_expire (registry, T0 + TTL_US + 2), 0);
    CHECK_INT_EQ (gc_registry_expire (registry, T0 + TTL_US / 2 + TTL_US + 1), 1);
    CHECK_INT_EQ (gc_registry_size (registry), 0);
    CHECK (s_names (registry, T0 + 2 * TTL_US, buf, sizeof buf));
    CHECK_STR_EQ (buf, "");

    //  an expired group that heartbeats again simply comes back
    CHECK (s_register_ok (registry, "old", ID_A, "tcp://127.0.0.1:5601", "tcp://127.0.0.1:5602",
                          T0 + 3 * TTL_US));
    CHECK_INT_EQ (gc_registry_size (registry), 1);
    gc_registry_destroy (&registry);
}

//  An expired name can be taken by another instance even before anything expired it.
static void
test_expired_name_taken_over (void)
{
    gc_registry_t *registry = gc_registry_new (HEARTBEAT_MS, TTL_MS);
    CHECK (registry);
    CHECK (s_register_ok (registry, "ops", ID_A, "tcp://127.0.0.1:5601", "tcp://127.0.0.1:5602",
                          T0));
    //  still alive at TTL - 1: refused
    gc_registry_reply_t *reply = s_register (registry, 1, "ops", ID_B, "tcp://127.0.0.1:7001",
                                             "tcp://127.0.0.1:7002", T0 + TTL_US - 1);
    CHECK (reply);
    CHECK_INT_EQ (reply->status, GC_NAME_TAKEN);
    gc_wire_registry_reply_free (&reply);
    //  past the TTL: taken over, with no list or expire in between
    reply = s_register (registry, 2, "ops", ID_B, "tcp://127.0.0.1:7001", "tcp://127.0.0.1:7002",
                        T0 + TTL_US + 1);
    CHECK (reply);
    CHECK_INT_EQ (reply->status, GC_OK);
    gc_wire_registry_reply_free (&reply);
    CHECK_INT_EQ (gc_registry_size (registry), 1);
    reply = s_list (registry, 3, T0 + TTL_US + 2);
    CHECK (reply);
    CHECK_INT_EQ (reply->n_groups, 1);
    CHECK_STR_EQ (reply->groups[0]->endpoint, "tcp://127.0.0.1:7001");
    CHECK_INT_EQ (reply->groups[0]->last_seen_us, T0 + TTL_US + 1);
    gc_wire_registry_reply_free (&reply);

    //  the old instance, back, is now the one refused, and may not unregister the new one
    reply = s_register (registry, 4, "ops", ID_A, "tcp://127.0.0.1:5601", "tcp://127.0.0.1:5602",
                        T0 + TTL_US + 3);
    CHECK (reply);
    CHECK_INT_EQ (reply->status, GC_NAME_TAKEN);
    gc_wire_registry_reply_free (&reply);
    reply = s_unregister (registry, 5, "ops", ID_A, T0 + TTL_US + 4);
    CHECK (reply);
    CHECK_INT_EQ (reply->status, GC_FORBIDDEN);
    gc_wire_registry_reply_free (&reply);
    CHECK_INT_EQ (gc_registry_size (registry), 1);
    gc_registry_destroy (&registry);
}

//  Every malformed request gets an error reply, with its request id when it decoded, and the
//  registry keeps serving.
static void
test_malformed (void)
{
    gc_registry_t *registry = gc_registry_new (HEARTBEAT_MS, TTL_MS);
    CHECK (registry);
    CHECK (s_register_ok (registry, "ops", ID_A, "tcp://127.0.0.1:5601", "tcp://127.0.0.1:5602",
                          T0));

    //  garbage: no id to echo
    const uint8_t garbage[] = { 0xff, 0xff, 0xff, 0xff };
    gc_registry_reply_t *reply = s_call_bytes (registry, garbage, sizeof garbage, T0);
    CHECK (reply);
    CHECK_INT_EQ (reply->status, GC_BAD_REQUEST);
    CHECK_INT_EQ (reply->request_id, 0);
    CHECK (reply->error[0] != '\0');
    gc_wire_registry_reply_free (&reply);

    //  a decodable envelope with an invalid field: the id comes back
    reply = s_register (registry, 4242, "bad name!", ID_B, "tcp://127.0.0.1:1",
                        "tcp://127.0.0.1:2", T0);
    CHECK (reply);
    CHECK_INT_EQ (reply->status, GC_BAD_REQUEST);
    CHECK_INT_EQ (reply->request_id, 4242);
    CHECK_CONTAINS (reply->error, "group name");
    gc_wire_registry_reply_free (&reply);

    reply = s_register (registry, 4243, "wild", ID_B, "tcp://*:5601", "tcp://127.0.0.1:2", T0);
    CHECK (reply);
    CHECK_INT_EQ (reply->status, GC_BAD_REQUEST);
    CHECK_INT_EQ (reply->request_id, 4243);
    CHECK_CONTAINS (reply->error, "endpoint");
    gc_wire_registry_reply_free (&reply);

    reply = s_register (registry, 4244, "noid", "not-a-uuid", "tcp://127.0.0.1:1",
                        "tcp://127.0.0.1:2", T0);
    CHECK (reply);
    CHECK_INT_EQ (reply->status, GC_BAD_REQUEST);
    CHECK_INT_EQ (reply->request_id, 4244);
    gc_wire_registry_reply_free (&reply);

    //  no body
    gc_registry_request_t empty = GROUPCAST__V1__REGISTRY_REQUEST__INIT;
    empty.request_id = 4245;
    reply = s_call (registry, &empty, T0);
    CHECK (reply);
    CHECK_INT_EQ (reply->status, GC_UNKNOWN_REQUEST);
    CHECK_INT_EQ (reply->request_id, 4245);
    gc_wire_registry_reply_free (&reply);

    //  too large
    uint8_t *huge = (uint8_t *) calloc (1, GC_MAX_FRAME + 1);
    CHECK (huge);
    reply = s_call_bytes (registry, huge, GC_MAX_FRAME + 1, T0);
    free (huge);
    CHECK (reply);
    CHECK_INT_EQ (reply->status, GC_TOO_LARGE);
    gc_wire_registry_reply_free (&reply);

    //  an empty frame: a message with no body
    reply = s_call_bytes (registry, (const uint8_t *) "", 0, T0);
    CHECK (reply);
    CHECK_INT_EQ (reply->status, GC_UNKNOWN_REQUEST);
    gc_wire_registry_reply_free (&reply);

    //  none of it changed the state, and valid requests are still served
    CHECK_INT_EQ (gc_registry_size (registry), 1);
    char buf[64];
    CHECK (s_names (registry, T0 + 1, buf, sizeof buf));
    CHECK_STR_EQ (buf, "ops");
    gc_registry_destroy (&registry);
}

static void
test_reject (void)
{
    zframe_t *frame = gc_registry_reject (GC_BAD_REQUEST, "cannot handle request: 3 frames");
    CHECK (frame);
    char err[128];
    gc_registry_reply_t *reply =
        gc_wire_registry_reply_unpack (zframe_data (frame), zframe_size (frame), err, sizeof err);
    zframe_destroy (&frame);
    CHECK (reply);
    CHECK_INT_EQ (reply->status, GC_BAD_REQUEST);
    CHECK_INT_EQ (reply->request_id, 0);
    CHECK_STR_EQ (reply->error, "cannot handle request: 3 frames");
    CHECK_INT_EQ (reply->n_groups, 0);
    gc_wire_registry_reply_free (&reply);

    frame = gc_registry_reject (GC_UNAVAILABLE, "shutting down");
    CHECK (frame);
    reply =
        gc_wire_registry_reply_unpack (zframe_data (frame), zframe_size (frame), err, sizeof err);
    zframe_destroy (&frame);
    CHECK (reply);
    CHECK_INT_EQ (reply->status, GC_UNAVAILABLE);
    CHECK_STR_EQ (reply->error, "shutting down");
    gc_wire_registry_reply_free (&reply);
}

static const gc_test_case_t s_cases[] = {
    { "register_and_list", test_register_and_list },
    { "list_sorted", test_list_sorted },
    { "name_taken", test_name_taken },
    { "heartbeat", test_heartbeat },
    { "unregister", test_unregister },
    { "expiry", test_expiry },
    { "expired_name_taken_over", test_expired_name_taken_over },
    { "malformed", test_malformed },
    { "reject", test_reject },
    { NULL, NULL },
};

int
main (int argc, char **argv)
{
    //  The registry logs every request; keep stdout for the case results.
    zsys_set_logstream (stderr);
    return gc_test_run (argc, argv, s_cases);
}
