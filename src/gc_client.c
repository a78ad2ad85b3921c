/*  gc_client - requests to the registry and to groups, with timeouts and retries
    SPDX-License-Identifier: MPL-2.0
*/
#include "gc_client_impl.h"

#include "gc_time.h"

#define GC_CLIENT_SLICE_MS 250   //  longest single wait, so that an interrupt is seen soon

#define GC_CLIENT_PIPELINE 4               //  batches in flight per group before sends wait
#define GC_CLIENT_BATCH_MAX 1024           //  messages in one batch at most
#define GC_CLIENT_BATCH_BYTES (256 * 1024) //  a batch with this much text goes at once
#define GC_CLIENT_SPARES 8                 //  finished batches kept for reuse

//  One async send (gc_client_send_async), in its batch.
typedef struct {
    uint64_t tag;                       //  caller's handle
    uint8_t msg_id[GC_MSG_ID_SIZE];     //  client message id, the same on every attempt
    size_t offset;                      //  of its text in the batch's text buffer
    size_t len;                         //  bytes of text
} s_msg_t;

//  Closes a connection's sockets (the monitor first: libzmq requires it).
static void
s_conn_close (s_conn_t *conn)
{
    if (conn->dealer && conn->monitor) {
        zmq_socket_monitor (zsock_resolve (conn->dealer), NULL, 0);
    }
    zsock_destroy (&conn->monitor);
    zsock_destroy (&conn->dealer);
}

static void
s_conn_destroy (void **item)
{
    s_conn_t *conn = (s_conn_t *) *item;
    if (conn) {
        s_conn_close (conn);
        free (conn);
        *item = NULL;
    }
}

gc_client_t *
gc_client_new (const char *server, gc_identity_t *identity)
{
    assert (identity);
    if (!server || !*server) {
        server = getenv ("GROUPCAST_SERVER");
    }
    if (!server || !*server) {
        server = "tcp://127.0.0.1:5555";
    }
    gc_client_t *self = (gc_client_t *) calloc (1, sizeof (gc_client_t));
    if (!self) {
        return NULL;
    }
    snprintf (self->server, sizeof self->server, "%s", server);
    self->identity = identity;
    self->timeout_ms = 3000;
    self->window = 100;
    self->attempts = 3;
    self->next_request_id = 1;
    self->registry = gc_req_new (self->server);
    self->conns = zhashx_new ();
    if (!self->registry || !self->conns) {
        gc_client_destroy (&self);
        return NULL;
    }
    zhashx_set_destructor (self->conns, s_conn_destroy);
    return self;
}

static void s_free_batches (gc_client_t *self);

void
gc_client_destroy (gc_client_t **self_p)
{
    assert (self_p);
    gc_client_t *self = *self_p;
    if (self) {
        s_free_batches (self);
        zhashx_destroy (&self->conns);
        gc_req_destroy (&self->registry);
        gc_wire_registry_reply_free (&self->groups_reply);
        gc_wire_group_reply_free (&self->members_reply);
        free (self->group_infos);
        free (self->members);
        free (self->scratch);
        free (self->send_items);
        free (self->send_list);
        free (self->poll_items);
        free (self->poll_conns);
        free (self);
        *self_p = NULL;
    }
}

void
gc_client_set_timeout (gc_client_t *self, int timeout_ms)
{
    assert (self && timeout_ms > 0);
    self->timeout_ms = timeout_ms;
}

void
gc_client_set_attempts (gc_client_t *self, int attempts)
{
    assert (self && attempts > 0);
    self->attempts = attempts;
}

const char *
gc_client_error (const gc_client_t *self)
{
    assert (self);
    return self->error;
}

gc_identity_t *
gc_client_identity (gc_client_t *self)
{
    assert (self);
    return self->identity;
}

gc_status_t
gc_client_fail (gc_client_t *self, gc_status_t status, const char *fmt, ...)
{
    va_list args;
    va_start (args, fmt);
    vsnprintf (self->error, sizeof self->error, fmt, args);
    va_end (args);
    return status;
}

//  --------------------------------------------------------------------------------------------
//  Registry

gc_status_t
gc_client_groups (gc_client_t *self, const gc_group_info_t **list, size_t *count)
{
    assert (self && list && count);
    self->error[0] = '\0';
    gc_registry_request_t request = GROUPCAST__V1__REGISTRY_REQUEST__INIT;
    Groupcast__V1__ListGroups body = GROUPCAST__V1__LIST_GROUPS__INIT;
    request.request_id = self->next_request_id++;
    request.client_id = (char *) gc_identity_id (self->identity);
    request.body_case = GROUPCAST__V1__REGISTRY_REQUEST__BODY_LIST_GROUPS;
    request.list_groups = &body;
    zframe_t *frame = gc_wire_pack (&request.base);
    if (!frame) {
        return gc_client_fail (self, GC_IO, "out of memory");
    }
    zframe_t *answer = gc_req_call (self->registry, &frame, self->timeout_ms);
    if (!answer) {
        return gc_client_fail (self, GC_TIMEOUT, "registry %s is not answering: %s",
                               self->server, gc_req_error (self->registry));
    }
    char err[256];
    gc_registry_reply_t *reply =
        gc_wire_registry_reply_unpack (zframe_data (answer), zframe_size (answer), err,
                                       sizeof err);
    zframe_destroy (&answer);
    if (!reply) {
        return gc_client_fail (self, GC_PROTOCOL, "registry %s: %s", self->server, err);
    }
    if (reply->status != GROUPCAST__V1__STATUS__STATUS_OK) {
        gc_status_t status = (gc_status_t) reply->status;
        gc_client_fail (self, status, "registry: %s", reply->error);
        gc_wire_registry_reply_free (&reply);
        return status;
    }
    gc_group_info_t *infos = calloc (reply->n_groups ? reply->n_groups : 1, sizeof *infos);
    if (!infos) {
        gc_wire_registry_reply_free (&reply);
        return gc_client_fail (self, GC_IO, "out of memory");
    }
    for (size_t i = 0; i < reply->n_groups; i++) {
        infos[i].name = reply->groups[i]->name;
        infos[i].endpoint = reply->groups[i]->endpoint;
        infos[i].pub_endpoint = reply->groups[i]->pub_endpoint;
    }
    gc_wire_registry_reply_free (&self->groups_reply);
    free (self->group_infos);
    self->groups_reply = reply;
    self->group_infos = infos;
    *list = infos;
    *count = reply->n_groups;
    return GC_OK;
}

//  --------------------------------------------------------------------------------------------
//  Group connections

//  (Re)opens conn's DEALER to conn->endpoint; whatever the old socket still queued is dropped.
//  Returns 0 or -1.
//  A disconnect of the DEALER is reported on conn->monitor, so in-flight sends can be resent in
//  order before anything queued behind them reaches a restarted group (s_restart_conn).
static int
s_conn_open (s_conn_t *conn)
{
    static int counter = 0;
    s_conn_close (conn);
    conn->dealer = zsock_new (ZMQ_DEALER);
    if (!conn->dealer) {
        return -1;
    }
    zsock_set_linger (conn->dealer, 0);
    zsock_set_maxmsgsize (conn->dealer, GC_MAX_FRAME);
    zsock_set_sndhwm (conn->dealer, 0);
    zsock_set_rcvhwm (conn->dealer, 0);
    //  Gives the client time to see a disconnect before the socket reconnects by itself.
    zsock_set_reconnect_ivl (conn->dealer, 500);
    char monitor[64];
    snprintf (monitor, sizeof monitor, "inproc://gc-client-monitor-%p-%d", (void *) conn,
              counter++);
    if (zmq_socket_monitor (zsock_resolve (conn->dealer), monitor, ZMQ_EVENT_DISCONNECTED) == 0) {
        conn->monitor = zsock_new_pair (monitor);
    }
    if (zsock_connect (conn->dealer, "%s", conn->endpoint) != 0) {
        s_conn_close (conn);
        return -1;
    }
    return 0;
}

//  True when the monitor reported a disconnect since the last call (events are drained).
static bool
s_conn_disconnected (s_conn_t *conn)
{
    bool disconnected = false;
    //  Bounded: only what is already queued is read.
    for (int i = 0; i < 64 && conn->monitor && (zsock_events (conn->monitor) & ZMQ_POLLIN);
         i++) {
        zmsg_t *event = zmsg_recv (conn->monitor);
        zframe_t *frame = event ? zmsg_first (event) : NULL;
        if (frame && zframe_size (frame) >= 2) {
            uint16_t id;
            memcpy (&id, zframe_data (frame), sizeof id);
            disconnected = disconnected || id == ZMQ_EVENT_DISCONNECTED;
        }
        zmsg_destroy (&event);
    }
    return disconnected;
}

//  The connection for a group at endpoint, made or re-pointed as needed. A connection is never
//  freed while the client lives: in-flight async sends hold pointers to it.
static s_conn_t *
s_conn_for (gc_client_t *self, const char *name, const char *endpoint, const char *pub_endpoint)
{
    s_conn_t *conn = (s_conn_t *) zhashx_lookup (self->conns, name);
    if (conn && strcmp (conn->endpoint, endpoint) != 0) {
        //  The group moved: point the same socket at its new endpoint.
        zsock_disconnect (conn->dealer, "%s", conn->endpoint);
        if (zsock_connect (conn->dealer, "%s", endpoint) != 0) {
            return NULL;
        }
        snprintf (conn->endpoint, sizeof conn->endpoint, "%s", endpoint);
    }
    if (!conn) {
        conn = (s_conn_t *) calloc (1, sizeof (s_conn_t));
        if (!conn) {
            return NULL;
        }
        snprintf (conn->name, sizeof conn->name, "%s", name);
        snprintf (conn->endpoint, sizeof conn->endpoint, "%s", endpoint);
        if (s_conn_open (conn) != 0) {
            free (conn);
            return NULL;
        }
        zhashx_insert (self->conns, conn->name, conn);
    }
    if (pub_endpoint && *pub_endpoint) {
        snprintf (conn->pub_endpoint, sizeof conn->pub_endpoint, "%s", pub_endpoint);
    }
    return conn;
}

//  Splits NAME@ENDPOINT. Returns 1 if spec had an endpoint, 0 if just a name, -1 if invalid.
static int
s_split_spec (const char *spec, char *name, const char **endpoint)
{
    const char *at = strchr (spec, '@');
    size_t len = at ? (size_t) (at - spec) : strlen (spec);
    if (len == 0 || len > GC_MAX_NAME) {
        return -1;
    }
    memcpy (name, spec, len);
    name[len] = '\0';
    if (!gc_wire_valid_group_name (name)) {
        return -1;
    }
    *endpoint = at ? at + 1 : NULL;
    if (at && !gc_wire_valid_endpoint (*endpoint)) {
        return -1;
    }
    return at ? 1 : 0;
}

//  Finds the group through the registry; sets *conn. fallback_ok: use the remembered endpoint
//  when the registry does not answer.
static gc_status_t
s_lookup (gc_client_t *self, const char *name, bool fallback_ok, s_conn_t **conn)
{
    const gc_group_info_t *list = NULL;
    size_t count = 0;
    gc_status_t status = gc_client_groups (self, &list, &count);
    if (status == GC_OK) {
        for (size_t i = 0; i < count; i++) {
            if (streq (list[i].name, name)) {
                *conn = s_conn_for (self, name, list[i].endpoint, list[i].pub_endpoint);
                return *conn ? GC_OK : gc_client_fail (self, GC_IO, "cannot create socket");
            }
        }
    }
    const gc_group_info_t *known = gc_identity_find (self->identity, name);
    if (known && (status == GC_OK || fallback_ok)) {
        *conn = s_conn_for (self, name, known->endpoint, known->pub_endpoint);
        return *conn ? GC_OK : gc_client_fail (self, GC_IO, "cannot create socket");
    }
    if (status == GC_OK) {
        return gc_client_fail (self, GC_NOT_FOUND, "no group named '%s' is registered", name);
    }
    return status;
}

gc_status_t
gc_client_conn (gc_client_t *self, const char *spec, bool prefer_known, s_conn_t **conn)
{
    char name[GC_MAX_NAME + 1];
    const char *endpoint = NULL;
    int kind = s_split_spec (spec, name, &endpoint);
    if (kind < 0) {
        return gc_client_fail (self, GC_INVALID,
                               "invalid group '%s': use NAME or NAME@tcp://host:port", spec);
    }
    if (kind == 1) {
        *conn = s_conn_for (self, name, endpoint, NULL);
        return *conn ? GC_OK : gc_client_fail (self, GC_IO, "cannot connect to %s", endpoint);
    }
    *conn = (s_conn_t *) zhashx_lookup (self->conns, name);
    if (*conn) {
        return GC_OK;
    }
    const gc_group_info_t *known = gc_identity_find (self->identity, name);
    if (prefer_known && known) {
        *conn = s_conn_for (self, name, known->endpoint, known->pub_endpoint);
        return *conn ? GC_OK : gc_client_fail (self, GC_IO, "cannot create socket");
    }
    return s_lookup (self, name, true, conn);
}

gc_status_t
gc_client_resolve (gc_client_t *self, const char *spec, const gc_group_info_t **info)
{
    assert (self && spec && info);
    self->error[0] = '\0';
    s_conn_t *conn = NULL;
    gc_status_t status = gc_client_conn (self, spec, true, &conn);
    if (status != GC_OK) {
        return status;
    }
    self->resolved.name = conn->name;
    self->resolved.endpoint = conn->endpoint;
    self->resolved.pub_endpoint = conn->pub_endpoint;
    *info = &self->resolved;
    return GC_OK;
}

//  Sends a request on a connection without waiting. Returns 0 or -1.
static int
s_send_request (gc_client_t *self, s_conn_t *conn, gc_group_request_t *request)
{
    request->group = conn->name;
    request->sender = (char *) gc_identity_id (self->identity);
    request->token.data = (uint8_t *) gc_identity_token (self->identity);
    request->token.len = GC_TOKEN_SIZE;
    zframe_t *frame = gc_wire_pack (&request->base);
    if (!frame) {
        return -1;
    }
    if (zframe_send (&frame, conn->dealer, ZFRAME_DONTWAIT) != 0) {
        zframe_destroy (&frame);
        return -1;
    }
    return 0;
}

//  Handles a reply that is not the one being waited for: an acknowledgement of an async send,
//  or a late answer to an abandoned request (dropped).
static void s_async_reply (gc_client_t *self, s_conn_t *conn, gc_group_reply_t *reply);

//  Receives one reply from conn within the deadline (monotonic ms). Returns the owned reply,
//  NULL on timeout or interrupt.
static gc_group_reply_t *
s_recv_reply (gc_client_t *self, s_conn_t *conn, int64_t deadline)
{
    zmq_pollitem_t item = {zsock_resolve (conn->dealer), 0, ZMQ_POLLIN, 0};
    while (!zsys_interrupted) {
        //  In slices: a signal that lands just before the poll (or while zmq_poll loops on
        //  its own) does not interrupt it, so the flag is looked at again every slice.
        int64_t left = deadline - zclock_mono ();
        int rc = zmq_poll (&item, 1, left > GC_CLIENT_SLICE_MS ? GC_CLIENT_SLICE_MS
                                     : left > 0               ? (long) left
                                                              : 0);
        if (rc < 0 && zmq_errno () == EINTR) {
            continue;
        }
        if (rc == 0 && left > GC_CLIENT_SLICE_MS) {
            continue;
        }
        if (rc <= 0) {
            return NULL;
        }
        zframe_t *frame = zframe_recv (conn->dealer);
        if (!frame) {
            continue;
        }
        //  A ROUTER peer may echo a REQ-style empty delimiter: skip it.
        if (zframe_size (frame) == 0 && zframe_more (frame)) {
            zframe_destroy (&frame);
            continue;
        }
        char err[256];
        gc_group_reply_t *reply =
            gc_wire_group_reply_unpack (zframe_data (frame), zframe_size (frame), err, sizeof err);
        zframe_destroy (&frame);
        if (reply) {
            return reply;
        }
        gc_client_fail (self, GC_PROTOCOL, "group '%s': %s", conn->name, err);
    }
    return NULL;
}

gc_status_t
gc_client_call (gc_client_t *self, s_conn_t *conn, gc_group_request_t *request,
                gc_group_reply_t **reply_p)
{
    *reply_p = NULL;
    request->request_id = self->next_request_id++;
    if (s_send_request (self, conn, request) != 0) {
        return gc_client_fail (self, GC_IO, "cannot send to group '%s' at %s: %s", conn->name,
                               conn->endpoint, zmq_strerror (zmq_errno ()));
    }
    int64_t deadline = zclock_mono () + self->timeout_ms;
    while (true) {
        gc_group_reply_t *reply = s_recv_reply (self, conn, deadline);
        if (!reply) {
            return gc_client_fail (self, GC_TIMEOUT,
                                   "group '%s' at %s did not answer within %d ms", conn->name,
                                   conn->endpoint, self->timeout_ms);
        }
        if (reply->request_id != request->request_id) {
            s_async_reply (self, conn, reply);
            continue;
        }
        if (reply->group[0] && strcmp (reply->group, conn->name) != 0) {
            gc_status_t status = gc_client_fail (
                self, GC_NOT_FOUND, "%s serves group '%s', not '%s'", conn->endpoint,
                reply->group, conn->name);
            gc_wire_group_reply_free (&reply);
            return status;
        }
        gc_status_t status = (gc_status_t) reply->status;
        if (status != GC_OK) {
            gc_client_fail (self, status, "%s", reply->error[0] ? reply->error
                                                                 : gc_status_str (status));
            gc_wire_group_reply_free (&reply);
            return status;
        }
        *reply_p = reply;
        return GC_OK;
    }
}

//  Calls a group by name: the remembered or cached endpoint first; when it does not answer,
//  asks the registry where the group is now and, if it moved, tries there once.
gc_status_t
gc_client_call_group (gc_client_t *self, const char *spec, gc_group_request_t *request,
                      gc_group_reply_t **reply_p, s_conn_t **conn_p)
{
    s_conn_t *conn = NULL;
    gc_status_t status = gc_client_conn (self, spec, true, &conn);
    if (status != GC_OK) {
        return status;
    }
    status = gc_client_call (self, conn, request, reply_p);
    //  Not after an interrupt: the registry lookup would wait out its whole timeout.
    if ((status == GC_TIMEOUT || status == GC_NOT_FOUND) && !strchr (spec, '@')
        && !zsys_interrupted) {
        char endpoint[GC_MAX_ENDPOINT + 1];
        snprintf (endpoint, sizeof endpoint, "%s", conn->endpoint);
        char saved[sizeof self->error];
        memcpy (saved, self->error, sizeof saved);
        s_conn_t *moved = NULL;
        if (s_lookup (self, spec, false, &moved) == GC_OK && strcmp (moved->endpoint, endpoint)) {
            conn = moved;
            status = gc_client_call (self, conn, request, reply_p);
            //  Remember where it went, so the next command does not wait on the old endpoint.
            char err[256];
            if (status == GC_OK && gc_identity_find (self->identity, conn->name)
                && gc_identity_remember (self->identity, conn->name, conn->endpoint,
                                         conn->pub_endpoint, err, sizeof err)
                       != 0) {
                zsys_warning ("cannot remember the new endpoint of '%s': %s", conn->name, err);
            }
        }
        else {
            memcpy (self->error, saved, sizeof saved);
        }
    }
    if (conn_p) {
        *conn_p = conn;
    }
    return status;
}

static void
s_fill_ack (gc_ack_t *ack, const gc_group_reply_t *reply)
{
    if (ack) {
        ack->seq = reply->seq;
        ack->ts_us = reply->ts_us;
        ack->last_seq = reply->last_seq;
    }
}

gc_status_t
gc_client_join (gc_client_t *self, const char *spec, gc_ack_t *ack)
{
    assert (self && spec);
    self->error[0] = '\0';
    char name[GC_MAX_NAME + 1];
    const char *endpoint = NULL;
    if (s_split_spec (spec, name, &endpoint) < 0) {
        return gc_client_fail (self, GC_INVALID,
                               "invalid group '%s': use NAME or NAME@tcp://host:port", spec);
    }
    //  Joining asks the registry first: a remembered endpoint may be stale.
    s_conn_t *conn = NULL;
    gc_status_t status = endpoint ? gc_client_conn (self, spec, false, &conn)
                                  : s_lookup (self, name, true, &conn);
    if (status != GC_OK) {
        return status;
    }
    gc_group_request_t request = GROUPCAST__V1__GROUP_REQUEST__INIT;
    Groupcast__V1__Join body = GROUPCAST__V1__JOIN__INIT;
    body.name = (char *) gc_identity_name (self->identity);
    request.body_case = GROUPCAST__V1__GROUP_REQUEST__BODY_JOIN;
    request.join = &body;
    gc_group_reply_t *reply = NULL;
    status = gc_client_call (self, conn, &request, &reply);
    if (status != GC_OK) {
        return status;
    }
    if (reply->pub_endpoint[0]) {
        snprintf (conn->pub_endpoint, sizeof conn->pub_endpoint, "%s", reply->pub_endpoint);
    }
    s_fill_ack (ack, reply);
    gc_wire_group_reply_free (&reply);
    char err[256];
    if (gc_identity_remember (self->identity, conn->name, conn->endpoint, conn->pub_endpoint,
                              err, sizeof err)
        != 0) {
        return gc_client_fail (self, GC_IO, "joined '%s' but %s", conn->name, err);
    }
    return GC_OK;
}

gc_status_t
gc_client_leave (gc_client_t *self, const char *spec, gc_ack_t *ack)
{
    assert (self && spec);
    self->error[0] = '\0';
    gc_group_request_t request = GROUPCAST__V1__GROUP_REQUEST__INIT;
    Groupcast__V1__Leave body = GROUPCAST__V1__LEAVE__INIT;
    request.body_case = GROUPCAST__V1__GROUP_REQUEST__BODY_LEAVE;
    request.leave = &body;
    gc_group_reply_t *reply = NULL;
    s_conn_t *conn = NULL;
    gc_status_t status = gc_client_call_group (self, spec, &request, &reply, &conn);
    if (status == GC_OK) {
        s_fill_ack (ack, reply);
        gc_wire_group_reply_free (&reply);
    }
    if (conn && (status == GC_OK || status == GC_NOT_MEMBER)) {
        char err[256];
        if (gc_identity_forget (self->identity, conn->name, err, sizeof err) != 0) {
            return gc_client_fail (self, GC_IO, "left '%s' but %s", conn->name, err);
        }
    }
    return status;
}

//  Builds a send request around borrowed text and message id.
static void
s_send_body (gc_group_request_t *request, Groupcast__V1__Send *body, const void *text,
             size_t len, const uint8_t *msg_id, bool retry)
{
    body->text.data = (uint8_t *) text;
    body->text.len = len;
    body->client_msg_id.data = (uint8_t *) msg_id;
    body->client_msg_id.len = GC_MSG_ID_SIZE;
    body->retry = retry;
    request->body_case = GROUPCAST__V1__GROUP_REQUEST__BODY_SEND;
    request->send = body;
}

//  A fresh time-ordered message id; its random half comes from a pool refilled 1 KiB at a time.
static int
s_new_msg_id (gc_client_t *self, uint8_t *id)
{
    size_t need = GC_MSG_ID_SIZE - 8;
    if (self->random_used == 0 || self->random_used + need > sizeof self->random) {
        if (gc_wire_random (self->random, sizeof self->random) != 0) {
            return -1;
        }
        self->random_used = 0;
    }
    gc_wire_msg_id_from (id, self->random + self->random_used);
    self->random_used += need;
    return 0;
}

static gc_status_t
s_check_text (gc_client_t *self, const char *text, size_t len)
{
    if (len == 0) {
        return gc_client_fail (self, GC_INVALID, "cannot send an empty message");
    }
    if (len > GC_MAX_TEXT) {
        return gc_client_fail (self, GC_TOO_LARGE,
                               "cannot send %zu bytes: a message holds at most %d", len,
                               GC_MAX_TEXT);
    }
    (void) text;
    return GC_OK;
}

gc_status_t
gc_client_send (gc_client_t *self, const char *group, const char *text, size_t len,
                gc_ack_t *ack)
{
    assert (self && group && text);
    self->error[0] = '\0';
    gc_status_t status = s_check_text (self, text, len);
    if (status != GC_OK) {
        return status;
    }
    uint8_t msg_id[GC_MSG_ID_SIZE];
    if (s_new_msg_id (self, msg_id) != 0) {
        return gc_client_fail (self, GC_IO, "cannot make a message id: no randomness");
    }
    for (int attempt = 0; attempt < self->attempts; attempt++) {
        gc_group_request_t request = GROUPCAST__V1__GROUP_REQUEST__INIT;
        Groupcast__V1__Send body = GROUPCAST__V1__SEND__INIT;
        s_send_body (&request, &body, text, len, msg_id, attempt > 0);
        gc_group_reply_t *reply = NULL;
        status = gc_client_call_group (self, group, &request, &reply, NULL);
        if (status == GC_OK) {
            s_fill_ack (ack, reply);
            gc_wire_group_reply_free (&reply);
            return GC_OK;
        }
        if (status != GC_TIMEOUT || zsys_interrupted) {
            break;
        }
    }
    return status;
}

//  --------------------------------------------------------------------------------------------
//  Sends with several in flight
//
//  Async sends to a group collect in the connection's open batch. It goes out at once while
//  fewer than GC_CLIENT_PIPELINE batches to that group are in flight (so a lone send is never
//  held back), or once it holds a quarter of the window or GC_CLIENT_BATCH_BYTES of text; else
//  it waits for an acknowledgement to free the pipeline, or for flush or wait_fd. A burst thus
//  crosses the network as a few SendBatch requests, stored in one transaction each and
//  acknowledged with one reply each, instead of a request and a reply per message.

struct s_batch {
    s_msg_t *msgs;           //  its messages, in send order
    size_t count;            //  how many
    size_t capacity;         //  allocated slots
    uint8_t *text;           //  their texts, back to back
    size_t text_len;         //  bytes used
    size_t text_capacity;    //  bytes allocated
    uint64_t request_id;     //  every attempt carries it (0 until the first)
    int64_t sent_at;         //  monotonic ms of the latest attempt
    int attempts;            //  attempts so far
    s_batch_t *prev;         //  neighbours in the connection's in-flight list, or the next
    s_batch_t *next;         //  spare batch
};

static void
s_batch_free (s_batch_t *batch)
{
    if (batch) {
        free (batch->msgs);
        free (batch->text);
        free (batch);
    }
}

//  Frees a list linked by next.
static void
s_batch_free_list (s_batch_t *batch)
{
    while (batch) {
        s_batch_t *next = batch->next;
        s_batch_free (batch);
        batch = next;
    }
}

//  An empty batch: a spare one, else a new one. Returns NULL if out of memory.
static s_batch_t *
s_batch_take (gc_client_t *self)
{
    s_batch_t *batch = self->spare;
    if (batch) {
        self->spare = batch->next;
        self->spares--;
    }
    else {
        batch = (s_batch_t *) calloc (1, sizeof (s_batch_t));
        if (!batch) {
            return NULL;
        }
    }
    batch->count = 0;
    batch->text_len = 0;
    batch->request_id = 0;
    batch->attempts = 0;
    batch->prev = batch->next = NULL;
    return batch;
}

//  Keeps a finished batch (and its buffers) for reuse, up to a few.
static void
s_batch_give (gc_client_t *self, s_batch_t *batch)
{
    if (self->spares >= GC_CLIENT_SPARES) {
        s_batch_free (batch);
        return;
    }
    batch->next = self->spare;
    self->spare = batch;
    self->spares++;
}

//  Adds a message to a batch. Returns 0, or -1 if out of memory (the batch is unchanged).
static int
s_batch_add (gc_client_t *self, s_batch_t *batch, const char *text, size_t len, uint64_t tag)
{
    if (batch->count == batch->capacity) {
        size_t capacity = batch->capacity ? batch->capacity * 2 : 16;
        s_msg_t *msgs = (s_msg_t *) realloc (batch->msgs, capacity * sizeof *msgs);
        if (!msgs) {
            return -1;
        }
        batch->msgs = msgs;
        batch->capacity = capacity;
    }
    if (batch->text_len + len > batch->text_capacity) {
        size_t capacity = batch->text_capacity ? batch->text_capacity : 4096;
        while (capacity < batch->text_len + len) {
            capacity *= 2;
        }
        uint8_t *bigger = (uint8_t *) realloc (batch->text, capacity);
        if (!bigger) {
            return -1;
        }
        batch->text = bigger;
        batch->text_capacity = capacity;
    }
    s_msg_t *msg = &batch->msgs[batch->count];
    if (s_new_msg_id (self, msg->msg_id) != 0) {
        return -1;
    }
    msg->tag = tag;
    msg->offset = batch->text_len;
    msg->len = len;
    memcpy (batch->text + batch->text_len, text, len);
    batch->text_len += len;
    batch->count++;
    return 0;
}

//  Frees every batch: open, in flight (their sends are dropped unacknowledged) and spare.
static void
s_free_batches (gc_client_t *self)
{
    for (s_conn_t *conn = self->conns ? (s_conn_t *) zhashx_first (self->conns) : NULL; conn;
         conn = (s_conn_t *) zhashx_next (self->conns)) {
        s_batch_free (conn->open);
        s_batch_free_list (conn->first);
        conn->open = conn->first = conn->last = NULL;
    }
    s_batch_free_list (self->spare);
    self->spare = NULL;
}

//  Appends a batch to the connection's in-flight list.
static void
s_link (s_conn_t *conn, s_batch_t *batch)
{
    batch->prev = conn->last;
    batch->next = NULL;
    if (conn->last) {
        conn->last->next = batch;
    }
    else {
        conn->first = batch;
    }
    conn->last = batch;
    conn->in_flight++;
}

static void
s_unlink (s_conn_t *conn, s_batch_t *batch)
{
    if (batch->prev) {
        batch->prev->next = batch->next;
    }
    else {
        conn->first = batch->next;
    }
    if (batch->next) {
        batch->next->prev = batch->prev;
    }
    else {
        conn->last = batch->prev;
    }
    batch->prev = batch->next = NULL;
    conn->in_flight--;
}

void
gc_client_set_ack_handler (gc_client_t *self, gc_ack_fn *fn, void *arg)
{
    assert (self);
    self->ack_fn = fn;
    self->ack_arg = arg;
}

void
gc_client_set_window (gc_client_t *self, size_t window)
{
    assert (self && window > 0);
    self->window = window;
}

//  Sends (or resends) a batch: a Send for one message, a SendBatch for more. Every attempt keeps
//  the request id and the message ids, so whichever acknowledgement comes first completes it
//  and the group stores each message once. Returns 0 or -1.
static int
s_transmit (gc_client_t *self, s_conn_t *conn, s_batch_t *batch)
{
    bool retry = batch->attempts > 0;
    gc_group_request_t request = GROUPCAST__V1__GROUP_REQUEST__INIT;
    Groupcast__V1__Send one = GROUPCAST__V1__SEND__INIT;
    Groupcast__V1__SendBatch many = GROUPCAST__V1__SEND_BATCH__INIT;
    if (batch->count == 1) {
        s_send_body (&request, &one, batch->text, batch->msgs[0].len, batch->msgs[0].msg_id,
                     retry);
    }
    else {
        if (batch->count > self->send_capacity) {
            size_t capacity = batch->count;
            Groupcast__V1__Send *items = (Groupcast__V1__Send *) realloc (
                self->send_items, capacity * sizeof *items);
            if (!items) {
                return -1;
            }
            self->send_items = items;
            Groupcast__V1__Send **list =
                (Groupcast__V1__Send **) realloc (self->send_list, capacity * sizeof *list);
            if (!list) {
                return -1;
            }
            self->send_list = list;
            self->send_capacity = capacity;
        }
        for (size_t i = 0; i < batch->count; i++) {
            Groupcast__V1__Send *item = &self->send_items[i];
            groupcast__v1__send__init (item);
            item->text.data = batch->text + batch->msgs[i].offset;
            item->text.len = batch->msgs[i].len;
            item->client_msg_id.data = batch->msgs[i].msg_id;
            item->client_msg_id.len = GC_MSG_ID_SIZE;
            item->retry = retry;
            self->send_list[i] = item;
        }
        many.n_sends = batch->count;
        many.sends = self->send_list;
        request.body_case = GROUPCAST__V1__GROUP_REQUEST__BODY_SEND_BATCH;
        request.send_batch = &many;
    }
    if (batch->request_id == 0) {
        batch->request_id = self->next_request_id++;
    }
    request.request_id = batch->request_id;
    batch->sent_at = zclock_mono ();
    batch->attempts++;
    return s_send_request (self, conn, &request);
}

//  Ends a batch that is no longer in flight nor open: tells the ack handler the outcome of each
//  of its messages (seqs from reply when status is GC_OK) and recycles it.
static void
s_finish (gc_client_t *self, s_batch_t *batch, gc_status_t status,
          const gc_group_reply_t *reply, const char *error)
{
    assert (self->queued >= batch->count);
    self->queued -= batch->count;
    if (status != GC_OK && self->first_failure == GC_OK) {
        self->first_failure = status;
        snprintf (self->first_error, sizeof self->first_error, "%s", error);
        gc_client_fail (self, status, "%s", error);
    }
    for (size_t i = 0; self->ack_fn && i < batch->count; i++) {
        gc_ack_t ack = {0, 0, 0};
        if (reply) {
            ack.seq = reply->n_seqs ? reply->seqs[i] : reply->seq;
            ack.ts_us = reply->n_seqs ? reply->ts_list[i] : reply->ts_us;
            ack.last_seq = reply->last_seq;
        }
        self->ack_fn (self->ack_arg, batch->msgs[i].tag, status, reply ? &ack : NULL, error);
    }
    s_batch_give (self, batch);
}

//  Sends the connection's open batch, if it has one. Returns 0, or -1 when it could not be sent
//  (its messages have failed then).
static int
s_transmit_open (gc_client_t *self, s_conn_t *conn)
{
    s_batch_t *batch = conn->open;
    if (!batch) {
        return 0;
    }
    conn->open = NULL;
    s_link (conn, batch);
    if (s_transmit (self, conn, batch) != 0) {
        s_unlink (conn, batch);
        s_finish (self, batch, GC_IO, NULL, "cannot send");
        return -1;
    }
    return 0;
}

//  Whether the connection's open batch should go now (see the section comment).
static bool
s_due (gc_client_t *self, const s_conn_t *conn)
{
    const s_batch_t *batch = conn->open;
    size_t full = self->window / GC_CLIENT_PIPELINE;
    full = full < 1 ? 1 : full > GC_CLIENT_BATCH_MAX ? GC_CLIENT_BATCH_MAX : full;
    return batch
           && (conn->in_flight < GC_CLIENT_PIPELINE || batch->count >= full
               || batch->text_len >= GC_CLIENT_BATCH_BYTES);
}

//  Sends every open batch that is due, or every one with `all`.
static void
s_transmit_due (gc_client_t *self, bool all)
{
    for (s_conn_t *conn = (s_conn_t *) zhashx_first (self->conns); conn;
         conn = (s_conn_t *) zhashx_next (self->conns)) {
        if (all ? conn->open != NULL : s_due (self, conn)) {
            s_transmit_open (self, conn);
        }
    }
}

//  Handles a reply that is not the one a synchronous call waits for: the acknowledgement of a
//  batch in flight on conn, or a late answer to an abandoned request (dropped).
static void
s_async_reply (gc_client_t *self, s_conn_t *conn, gc_group_reply_t *reply)
{
    //  Acknowledgements come in the order sent, so the batch is nearly always the first.
    s_batch_t *batch = conn->first;
    while (batch && batch->request_id != reply->request_id) {
        batch = batch->next;
    }
    if (!batch) {
        gc_wire_group_reply_free (&reply);
        return;
    }
    s_unlink (conn, batch);
    gc_status_t status = (gc_status_t) reply->status;
    char error[256];
    snprintf (error, sizeof error, "%s", reply->error[0] ? reply->error : gc_status_str (status));
    size_t acked = batch->count == 1 && reply->n_seqs == 0 ? 1 : reply->n_seqs;
    if (status == GC_OK && acked != batch->count) {
        status = GC_PROTOCOL;
        snprintf (error, sizeof error, "group '%s' acknowledged %zu of %zu messages", conn->name,
                  acked, batch->count);
    }
    s_finish (self, batch, status, status == GC_OK ? reply : NULL, error);
    gc_wire_group_reply_free (&reply);
}

//  Starts a connection over: the DEALER is reopened (dropping what its pipe still held, which
//  would otherwise reach a restarted group ahead of what it lost) and every batch in flight on
//  it is resent in send order with retry=true. What the group had stored is acknowledged with
//  its original seq; the rest is stored in the order it was sent. A batch out of attempts fails
//  with GC_TIMEOUT.
static void
s_restart_conn (gc_client_t *self, s_conn_t *conn)
{
    s_batch_t *batch = conn->first;
    conn->first = conn->last = NULL;
    conn->in_flight = 0;
    bool open = s_conn_open (conn) == 0;
    //  Bounded: the detached list only shrinks.
    while (batch) {
        s_batch_t *next = batch->next;
        batch->prev = batch->next = NULL;
        if (batch->attempts >= self->attempts) {
            char error[512];
            snprintf (error, sizeof error,
                      "group '%s' at %s did not acknowledge in %d attempts (a timeout of %d ms "
                      "or a lost connection each)",
                      conn->name, conn->endpoint, batch->attempts, self->timeout_ms);
            s_finish (self, batch, GC_TIMEOUT, NULL, error);
        }
        else {
            s_link (conn, batch);
            if (!open || s_transmit (self, conn, batch) != 0) {
                s_unlink (conn, batch);
                s_finish (self, batch, GC_IO, NULL, "cannot resend");
            }
        }
        batch = next;
    }
}

//  Restarts every connection that lost its peer or has a batch older than the timeout.
static void
s_retry_expired (gc_client_t *self)
{
    int64_t now = zclock_mono ();
    //  Collected first: an ack handler may add connections while they are restarted. Bounded
    //  per call; the rest are restarted on the next pump.
    s_conn_t *stalled[64];
    size_t nstalled = 0;
    for (s_conn_t *conn = (s_conn_t *) zhashx_first (self->conns); conn && nstalled < 64;
         conn = (s_conn_t *) zhashx_next (self->conns)) {
        bool expired = conn->first && now - conn->first->sent_at >= self->timeout_ms;
        if (s_conn_disconnected (conn) || expired) {
            stalled[nstalled++] = conn;
        }
    }
    for (size_t c = 0; c < nstalled; c++) {
        s_restart_conn (self, stalled[c]);
    }
}

//  Receives what conn's DEALER holds now, without waiting, at most `most` replies, and hands
//  each to s_async_reply.
static void
s_drain (gc_client_t *self, s_conn_t *conn, size_t most)
{
    void *dealer = zsock_resolve (conn->dealer);
    zmq_msg_t msg;
    zmq_msg_init (&msg);
    for (size_t k = 0; k < most; k++) {
        if (zmq_msg_recv (&msg, dealer, ZMQ_DONTWAIT) < 0) {
            break;
        }
        //  A ROUTER peer may echo a REQ-style empty delimiter: skip it.
        if (zmq_msg_size (&msg) == 0 && zmq_msg_more (&msg)) {
            continue;
        }
        char err[256];
        gc_group_reply_t *reply = gc_wire_group_reply_unpack (
            (const uint8_t *) zmq_msg_data (&msg), zmq_msg_size (&msg), err, sizeof err);
        if (reply) {
            s_async_reply (self, conn, reply);
        }
        else {
            gc_client_fail (self, GC_PROTOCOL, "group '%s': %s", conn->name, err);
        }
    }
    zmq_msg_close (&msg);
}

//  Makes room for n poll items. Returns 0 or -1.
static int
s_reserve_poll (gc_client_t *self, size_t n)
{
    if (n <= self->poll_capacity) {
        return 0;
    }
    zmq_pollitem_t *items =
        (zmq_pollitem_t *) realloc (self->poll_items, n * sizeof *self->poll_items);
    if (!items) {
        return -1;
    }
    self->poll_items = items;
    s_conn_t **conns = (s_conn_t **) realloc (self->poll_conns, n * sizeof *self->poll_conns);
    if (!conns) {
        return -1;
    }
    self->poll_conns = conns;
    self->poll_capacity = n;
    return 0;
}

//  Sends what is due (everything with `all`), then waits for replies on every connection up to
//  the oldest batch's deadline, and at most max_wait ms (-1: no other limit; with nothing in
//  flight and no fd, it does not wait), then retries what expired and sends what became due.
//  When fd >= 0 it is watched too, and *fd_ready says whether it became readable. Returns -1
//  when interrupted, else 0.
static int
s_pump_fd (gc_client_t *self, int fd, int64_t max_wait, bool *fd_ready, bool all)
{
    s_transmit_due (self, all);
    //  Items: the DEALERs (0..n-1), then the optional fd (n), then the monitors.
    size_t nconns = zhashx_size (self->conns);
    if (s_reserve_poll (self, 2 * nconns + 1) != 0) {
        return -1;
    }
    zmq_pollitem_t *items = self->poll_items;
    s_conn_t **conns = self->poll_conns;
    int64_t oldest = INT64_MAX;
    size_t n = 0;
    for (s_conn_t *conn = (s_conn_t *) zhashx_first (self->conns); conn && n < nconns;
         conn = (s_conn_t *) zhashx_next (self->conns)) {
        zmq_pollitem_t item = {zsock_resolve (conn->dealer), 0, ZMQ_POLLIN, 0};
        items[n] = item;
        conns[n++] = conn;
        if (conn->first && conn->first->sent_at < oldest) {
            oldest = conn->first->sent_at;
        }
    }
    size_t total = n;
    if (fd >= 0) {
        zmq_pollitem_t item = {NULL, fd, ZMQ_POLLIN, 0};
        items[total++] = item;
    }
    for (size_t i = 0; i < n; i++) {
        if (conns[i]->monitor) {
            zmq_pollitem_t item = {zsock_resolve (conns[i]->monitor), 0, ZMQ_POLLIN, 0};
            items[total++] = item;
        }
    }
    int64_t wait = oldest == INT64_MAX ? (fd >= 0 ? max_wait : 0)
                                       : oldest + self->timeout_ms - zclock_mono ();
    if (max_wait >= 0 && wait > max_wait) {
        wait = max_wait;
    }
    if (wait > GC_CLIENT_SLICE_MS) {
        wait = GC_CLIENT_SLICE_MS;   //  see s_recv_reply; the callers loop
    }
    int rc = zmq_poll (items, (int) total, wait > 0 ? (long) wait : 0);
    if (rc < 0 && zsys_interrupted) {
        return -1;
    }
    if (fd_ready) {
        *fd_ready = rc > 0 && fd >= 0 && (items[n].revents & (ZMQ_POLLIN | ZMQ_POLLERR));
    }
    for (size_t i = 0; rc > 0 && i < n; i++) {
        if (items[i].revents & ZMQ_POLLIN) {
            //  Bounded by what is in flight, and a few stray replies more.
            s_drain (self, conns[i], conns[i]->in_flight + 16);
        }
    }
    s_retry_expired (self);
    s_transmit_due (self, false);
    return 0;
}

int
gc_client_wait_fd (gc_client_t *self, int fd, int timeout_ms)
{
    assert (self && fd >= 0);
    bool ready = false;
    //  The caller has nothing more to send for now: what is collected goes out.
    if (s_pump_fd (self, fd, timeout_ms, &ready, true) != 0) {
        return -1;
    }
    return ready ? 1 : 0;
}

int
gc_client_pump (gc_client_t *self, int timeout_ms)
{
    assert (self && timeout_ms >= 0);
    return s_pump_fd (self, -1, timeout_ms, NULL, true);
}

gc_status_t
gc_client_send_async (gc_client_t *self, const char *group, const char *text, size_t len,
                      uint64_t *tag)
{
    assert (self && group && text);
    self->error[0] = '\0';
    gc_status_t status = s_check_text (self, text, len);
    if (status != GC_OK) {
        return status;
    }
    s_conn_t *conn = NULL;
    status = gc_client_conn (self, group, true, &conn);
    if (status != GC_OK) {
        return status;
    }
    //  Bounded: each pump either receives, or waits out a timeout that retries or fails a batch.
    while (self->queued >= self->window) {
        if (s_pump_fd (self, -1, -1, NULL, false) != 0) {
            return gc_client_fail (self, GC_IO, "interrupted");
        }
    }
    //  A batch stays within the wire's limits: it goes out before it would pass them.
    if (conn->open && (conn->open->count == GC_CLIENT_BATCH_MAX
                       || conn->open->text_len + len > GC_MAX_BATCH_TEXT)) {
        s_transmit_open (self, conn);
    }
    if (!conn->open) {
        conn->open = s_batch_take (self);
    }
    if (!conn->open || s_batch_add (self, conn->open, text, len, self->next_tag) != 0) {
        return gc_client_fail (self, GC_IO, "out of memory");
    }
    self->queued++;
    if (tag) {
        *tag = self->next_tag;
    }
    self->next_tag++;
    if (s_due (self, conn) && s_transmit_open (self, conn) != 0) {
        return GC_IO;
    }
    return GC_OK;
}

gc_status_t
gc_client_flush (gc_client_t *self)
{
    assert (self);
    //  Bounded: each pump sends everything collected, then receives or waits out a timeout.
    while (self->queued > 0) {
        if (s_pump_fd (self, -1, -1, NULL, true) != 0) {
            return gc_client_fail (self, GC_IO, "interrupted");
        }
    }
    gc_status_t status = self->first_failure;
    self->first_failure = GC_OK;
    if (status != GC_OK) {
        //  The failure may have been taken in by an earlier call that then reset the detail.
        gc_client_fail (self, status, "%s", self->first_error);
    }
    return status;
}

//  --------------------------------------------------------------------------------------------
//  History and members

gc_status_t
gc_client_fill_entry (gc_client_t *self, const char *group, const Groupcast__V1__Entry *item,
                      gc_entry_t *entry)
{
    if (item->text.len + 1 > self->scratch_size) {
        char *scratch = realloc (self->scratch, item->text.len + 1);
        if (!scratch) {
            return gc_client_fail (self, GC_IO, "out of memory");
        }
        self->scratch = scratch;
        self->scratch_size = item->text.len + 1;
    }
    if (item->text.len) {
        memcpy (self->scratch, item->text.data, item->text.len);
    }
    self->scratch[item->text.len] = '\0';
    entry->group = group;
    entry->seq = item->seq;
    entry->ts_us = item->ts_us;
    entry->kind = (gc_entry_kind_t) item->kind;
    entry->sender = item->sender;
    entry->name = item->name;
    entry->text = self->scratch;
    entry->text_len = item->text.len;
    return GC_OK;
}

gc_status_t
gc_client_fetch (gc_client_t *self, const char *group, const gc_query_t *query, gc_entry_fn *fn,
                 void *arg, bool *more, uint64_t *first_seq)
{
    assert (self && group && query && fn);
    self->error[0] = '\0';
    gc_group_request_t request = GROUPCAST__V1__GROUP_REQUEST__INIT;
    Groupcast__V1__Fetch body = GROUPCAST__V1__FETCH__INIT;
    body.since_us = query->since_us;
    body.until_us = query->until_us;
    body.after_seq = query->after_seq;
    body.before_seq = query->before_seq;
    body.limit = query->limit;
    body.newest = query->newest;
    request.body_case = GROUPCAST__V1__GROUP_REQUEST__BODY_FETCH;
    request.fetch = &body;
    gc_group_reply_t *reply = NULL;
    s_conn_t *conn = NULL;
    gc_status_t status = gc_client_call_group (self, group, &request, &reply, &conn);
    if (status != GC_OK) {
        return status;
    }
    for (size_t i = 0; i < reply->n_entries && status == GC_OK; i++) {
        gc_entry_t entry;
        status = gc_client_fill_entry (self, conn->name, reply->entries[i], &entry);
        if (status == GC_OK) {
            fn (arg, &entry);
        }
    }
    if (more) {
        *more = reply->more;
    }
    if (first_seq) {
        *first_seq = reply->first_seq;
    }
    gc_wire_group_reply_free (&reply);
    return status;
}

gc_status_t
gc_client_members (gc_client_t *self, const char *group, const gc_member_t **list,
                   size_t *count)
{
    assert (self && group && list && count);
    self->error[0] = '\0';
    gc_group_request_t request = GROUPCAST__V1__GROUP_REQUEST__INIT;
    Groupcast__V1__Members body = GROUPCAST__V1__MEMBERS__INIT;
    request.body_case = GROUPCAST__V1__GROUP_REQUEST__BODY_MEMBERS;
    request.members = &body;
    gc_group_reply_t *reply = NULL;
    gc_status_t status = gc_client_call_group (self, group, &request, &reply, NULL);
    if (status != GC_OK) {
        return status;
    }
    gc_member_t *members = calloc (reply->n_members ? reply->n_members : 1, sizeof *members);
    if (!members) {
        gc_wire_group_reply_free (&reply);
        return gc_client_fail (self, GC_IO, "out of memory");
    }
    for (size_t i = 0; i < reply->n_members; i++) {
        members[i].id = reply->members[i]->id;
        members[i].name = reply->members[i]->name;
        members[i].joined_us = reply->members[i]->joined_us;
    }
    gc_wire_group_reply_free (&self->members_reply);
    free (self->members);
    self->members_reply = reply;
    self->members = members;
    *list = members;
    *count = reply->n_members;
    return GC_OK;
}

gc_status_t
gc_client_info (gc_client_t *self, const char *spec, gc_group_reply_t **reply_p,
                s_conn_t **conn_p)
{
    gc_group_request_t request = GROUPCAST__V1__GROUP_REQUEST__INIT;
    Groupcast__V1__Info body = GROUPCAST__V1__INFO__INIT;
    request.body_case = GROUPCAST__V1__GROUP_REQUEST__BODY_INFO;
    request.info = &body;
    gc_status_t status = gc_client_call_group (self, spec, &request, reply_p, conn_p);
    if (status == GC_OK && (*reply_p)->pub_endpoint[0] && conn_p && *conn_p) {
        snprintf ((*conn_p)->pub_endpoint, sizeof (*conn_p)->pub_endpoint, "%s",
                  (*reply_p)->pub_endpoint);
    }
    return status;
}

gc_status_t
gc_client_stats (gc_client_t *self, const char *group, gc_stats_t *stats)
{
    assert (self && group && stats);
    self->error[0] = '\0';
    gc_group_request_t request = GROUPCAST__V1__GROUP_REQUEST__INIT;
    Groupcast__V1__Stats body = GROUPCAST__V1__STATS__INIT;
    request.body_case = GROUPCAST__V1__GROUP_REQUEST__BODY_STATS;
    request.stats = &body;
    gc_group_reply_t *reply = NULL;
    gc_status_t status = gc_client_call_group (self, group, &request, &reply, NULL);
    if (status != GC_OK) {
        return status;
    }
    memset (stats, 0, sizeof *stats);
    stats->members = reply->member_count;
    stats->first_seq = reply->first_seq;
    stats->last_seq = reply->last_seq;
    //  The history holds a contiguous run of sequence numbers (retention drops the oldest).
    if (reply->first_seq > 0 && reply->last_seq >= reply->first_seq) {
        stats->entries = reply->last_seq - reply->first_seq + 1;
    }
    stats->messages = reply->message_count;
    stats->bytes = reply->byte_count;
    //  A figure from the network: no NaN, infinity or negative rate reaches the caller.
    stats->rate = reply->message_rate >= 0 && reply->message_rate < 1e12 ? reply->message_rate
                                                                         : 0;
    stats->subscribers = reply->subscriber_count;
    stats->started_us = reply->started_us;
    stats->uptime_ms = reply->uptime_ms;
    gc_wire_group_reply_free (&reply);
    return GC_OK;
}
