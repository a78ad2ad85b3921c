/*  gc_registrar - register, heartbeat and unregister a group
    SPDX-License-Identifier: MPL-2.0
*/
#include "gc_registrar.h"

#include "gc_req.h"
#include "gc_wire.h"

struct gc_registrar {
    char server[GC_MAX_ENDPOINT + 1];         //  registry endpoint
    char name[GC_MAX_NAME + 1];               //  group name
    char endpoint[GC_MAX_ENDPOINT + 1];       //  advertised ROUTER endpoint
    char pub_endpoint[GC_MAX_ENDPOINT + 1];   //  advertised PUB endpoint
    char group_id[GC_UUID_STR_LEN + 1];       //  group instance UUID
    int timeout_ms;                           //  per request
    int heartbeat_ms;                         //  as the registry asked (the thread's, once started)
    zactor_t *actor;                          //  heartbeat thread
};

//  The RegisterGroup request, packed (owned), or NULL if out of memory. Registering again is
//  the heartbeat.
static zframe_t *
s_register_frame (gc_registrar_t *self, uint64_t request_id)
{
    Groupcast__V1__GroupInfo info = GROUPCAST__V1__GROUP_INFO__INIT;
    info.name = self->name;
    info.endpoint = self->endpoint;
    info.pub_endpoint = self->pub_endpoint;
    info.group_id = self->group_id;
    Groupcast__V1__RegisterGroup body = GROUPCAST__V1__REGISTER_GROUP__INIT;
    body.group = &info;
    gc_registry_request_t request = GROUPCAST__V1__REGISTRY_REQUEST__INIT;
    request.request_id = request_id;
    request.client_id = self->group_id;
    request.body_case = GROUPCAST__V1__REGISTRY_REQUEST__BODY_REGISTER_GROUP;
    request.register_group = &body;
    return gc_wire_pack (&request.base);
}

//  Reads a register reply. Returns its status (GC_PROTOCOL if it is not a registry reply), with
//  the reason in err, and sets *heartbeat_ms when the registry asked for an interval.
static gc_status_t
s_register_reply (zframe_t **answer_p, int *heartbeat_ms, char *err, size_t errlen)
{
    zframe_t *answer = *answer_p;
    *answer_p = NULL;
    gc_registry_reply_t *reply =
        gc_wire_registry_reply_unpack (zframe_data (answer), zframe_size (answer), err, errlen);
    zframe_destroy (&answer);
    if (!reply) {
        return GC_PROTOCOL;
    }
    gc_status_t status = (gc_status_t) reply->status;
    if (status != GC_OK) {
        snprintf (err, errlen, "%s", reply->error[0] ? reply->error : gc_status_str (status));
    }
    else if (reply->heartbeat_ms > 0 && reply->heartbeat_ms <= 3600000) {
        *heartbeat_ms = (int) reply->heartbeat_ms;
    }
    gc_wire_registry_reply_free (&reply);
    return status;
}

//  A fresh REQ socket to the registry, or NULL.
static zsock_t *
s_req_new (gc_registrar_t *self)
{
    zsock_t *req = zsock_new (ZMQ_REQ);
    if (!req) {
        return NULL;
    }
    zsock_set_linger (req, 0);
    zsock_set_maxmsgsize (req, GC_MAX_FRAME);
    if (zsock_connect (req, "%s", self->server) != 0) {
        zsock_destroy (&req);
    }
    return req;
}

//  Logs a change of health once: a warning when heartbeats start failing, info when one is
//  accepted again.
static void
s_health (gc_registrar_t *self, bool *healthy, gc_status_t status, const char *err)
{
    if (status != GC_OK && *healthy) {
        zsys_warning ("cannot heartbeat group '%s': %s; retrying", self->name, err);
        *healthy = false;
    }
    else if (status == GC_OK && !*healthy) {
        zsys_info ("REGISTERED AGAIN with %s name=%s", self->server, self->name);
        *healthy = true;
    }
}

//  The heartbeat thread. A register request is always outstanding while the registry is down:
//  ZeroMQ delivers it the moment the registry is back (it reconnects every 100 ms), so a
//  restarted registry hears from the group within one heartbeat. A request left unanswered for
//  a whole interval may have died with the old registry: its socket is closed and a fresh one
//  sent (Lazy Pirate). $TERM on the pipe ends the thread at once, whatever is outstanding.
static void
s_heartbeat_actor (zsock_t *pipe, void *arg)
{
    gc_registrar_t *self = (gc_registrar_t *) arg;
    zsock_signal (pipe, 0);
    zsock_t *req = NULL;
    bool waiting = false;       //  a request is outstanding on req
    bool healthy = true;        //  the last heartbeat was accepted
    uint64_t request_id = 1;
    int64_t next_send = zclock_mono () + self->heartbeat_ms;
    //  Bounded by $TERM: the parent always destroys the actor.
    while (true) {
        zmq_pollitem_t items[2] = {{zsock_resolve (pipe), 0, ZMQ_POLLIN, 0},
                                   {req ? zsock_resolve (req) : NULL, 0, ZMQ_POLLIN, 0}};
        int64_t wait = next_send - zclock_mono ();
        int rc = zmq_poll (items, waiting ? 2 : 1, wait > 0 ? (long) wait : 0);
        if (rc < 0 && zmq_errno () != EINTR) {
            zsys_error ("heartbeat thread of group '%s' stops: %s", self->name,
                        zmq_strerror (zmq_errno ()));
            break;
        }
        if (rc > 0 && (items[0].revents & ZMQ_POLLIN)) {
            char *command = zstr_recv (pipe);
            bool term = !command || streq (command, "$TERM");
            zstr_free (&command);
            if (term) {
                break;
            }
        }
        if (rc > 0 && waiting && (items[1].revents & ZMQ_POLLIN)) {
            zframe_t *answer = zframe_recv (req);
            waiting = false;
            char err[512] = "";
            gc_status_t status = GC_PROTOCOL;
            if (answer && !zframe_more (answer)) {
                status = s_register_reply (&answer, &self->heartbeat_ms, err, sizeof err);
            }
            else {
                snprintf (err, sizeof err, "invalid reply from %s", self->server);
                zframe_destroy (&answer);
                zsock_destroy (&req);   //  a REQ socket out of step cannot be trusted again
            }
            s_health (self, &healthy, status, err);
        }
        if (zclock_mono () < next_send) {
            continue;
        }
        if (waiting) {
            char err[512];
            snprintf (err, sizeof err, "registry %s did not answer within %d ms", self->server,
                      self->heartbeat_ms);
            s_health (self, &healthy, GC_TIMEOUT, err);
            zsock_destroy (&req);
            waiting = false;
        }
        if (!req) {
            req = s_req_new (self);
        }
        zframe_t *frame = req ? s_register_frame (self, request_id++) : NULL;
        if (frame && zframe_send (&frame, req, ZFRAME_DONTWAIT) == 0) {
            waiting = true;
        }
        else {
            zframe_destroy (&frame);
            zsock_destroy (&req);
            char err[512];
            snprintf (err, sizeof err, "cannot send to %s: %s", self->server,
                      zmq_strerror (zmq_errno ()));
            s_health (self, &healthy, GC_IO, err);
        }
        next_send = zclock_mono () + self->heartbeat_ms;
    }
    zsock_destroy (&req);
}

gc_registrar_t *
gc_registrar_new (const char *server, const char *name, const char *endpoint,
                  const char *pub_endpoint, const char *group_id, int timeout_ms, char *err,
                  size_t errlen)
{
    assert (server && name && endpoint && pub_endpoint && group_id);
    gc_registrar_t *self = (gc_registrar_t *) calloc (1, sizeof (gc_registrar_t));
    if (!self) {
        snprintf (err, errlen, "out of memory");
        return NULL;
    }
    snprintf (self->server, sizeof self->server, "%s", server);
    snprintf (self->name, sizeof self->name, "%s", name);
    snprintf (self->endpoint, sizeof self->endpoint, "%s", endpoint);
    snprintf (self->pub_endpoint, sizeof self->pub_endpoint, "%s", pub_endpoint);
    snprintf (self->group_id, sizeof self->group_id, "%s", group_id);
    self->timeout_ms = timeout_ms;
    self->heartbeat_ms = 1000;

    char reason[512] = "out of memory";
    gc_status_t status = GC_IO;
    gc_req_t *req = gc_req_new (server);
    zframe_t *frame = req ? s_register_frame (self, 1) : NULL;
    if (frame) {
        zframe_t *answer = gc_req_call (req, &frame, timeout_ms);
        if (answer) {
            status = s_register_reply (&answer, &self->heartbeat_ms, reason, sizeof reason);
        }
        else {
            snprintf (reason, sizeof reason, "registry %s: %s", server, gc_req_error (req));
            status = GC_TIMEOUT;
        }
    }
    gc_req_destroy (&req);
    if (status != GC_OK) {
        snprintf (err, errlen, "cannot register group '%s': %s", name, reason);
        free (self);
        return NULL;
    }
    self->actor = zactor_new (s_heartbeat_actor, self);
    if (!self->actor) {
        snprintf (err, errlen, "cannot start heartbeat thread");
        free (self);
        return NULL;
    }
    return self;
}

void
gc_registrar_destroy (gc_registrar_t **self_p)
{
    assert (self_p);
    gc_registrar_t *self = *self_p;
    if (!self) {
        return;
    }
    zactor_destroy (&self->actor);

    Groupcast__V1__UnregisterGroup body = GROUPCAST__V1__UNREGISTER_GROUP__INIT;
    body.name = self->name;
    body.group_id = self->group_id;
    gc_registry_request_t request = GROUPCAST__V1__REGISTRY_REQUEST__INIT;
    request.request_id = 2;
    request.client_id = self->group_id;
    request.body_case = GROUPCAST__V1__REGISTRY_REQUEST__BODY_UNREGISTER_GROUP;
    request.unregister_group = &body;
    gc_req_t *req = gc_req_new (self->server);
    zframe_t *frame = gc_wire_pack (&request.base);
    zframe_t *answer = req && frame ? gc_req_call (req, &frame, self->timeout_ms) : NULL;
    if (!answer) {
        zsys_warning ("cannot unregister group '%s': %s", self->name,
                      req ? gc_req_error (req) : "out of memory");
    }
    zframe_destroy (&frame);
    zframe_destroy (&answer);
    gc_req_destroy (&req);
    free (self);
    *self_p = NULL;
}
