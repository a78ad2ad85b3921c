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
    int heartbeat_ms;                         //  as the registry asked
    zactor_t *actor;                          //  heartbeat thread
};

//  One register (or heartbeat) request. Returns the reply status, GC_TIMEOUT if none came;
//  the reason is in err.
static gc_status_t
s_register (gc_registrar_t *self, gc_req_t *req, int timeout_ms, int *heartbeat_ms, char *err,
            size_t errlen)
{
    Groupcast__V1__GroupInfo info = GROUPCAST__V1__GROUP_INFO__INIT;
    info.name = self->name;
    info.endpoint = self->endpoint;
    info.pub_endpoint = self->pub_endpoint;
    info.group_id = self->group_id;
    Groupcast__V1__RegisterGroup body = GROUPCAST__V1__REGISTER_GROUP__INIT;
    body.group = &info;
    gc_registry_request_t request = GROUPCAST__V1__REGISTRY_REQUEST__INIT;
    request.request_id = 1;
    request.client_id = self->group_id;
    request.body_case = GROUPCAST__V1__REGISTRY_REQUEST__BODY_REGISTER_GROUP;
    request.register_group = &body;

    zframe_t *frame = gc_wire_pack (&request.base);
    if (!frame) {
        snprintf (err, errlen, "out of memory");
        return GC_IO;
    }
    zframe_t *answer = gc_req_call (req, &frame, timeout_ms);
    if (!answer) {
        snprintf (err, errlen, "registry %s: %s", self->server, gc_req_error (req));
        return GC_TIMEOUT;
    }
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
    else if (heartbeat_ms && reply->heartbeat_ms > 0) {
        *heartbeat_ms = (int) reply->heartbeat_ms;
    }
    gc_wire_registry_reply_free (&reply);
    return status;
}

static void
s_heartbeat_actor (zsock_t *pipe, void *arg)
{
    gc_registrar_t *self = (gc_registrar_t *) arg;
    gc_req_t *req = gc_req_new (self->server);
    zpoller_t *poller = zpoller_new (pipe, NULL);
    zsock_signal (pipe, 0);
    bool healthy = true;
    //  Bounded by $TERM: the parent always destroys the actor.
    while (req && poller) {
        zsock_t *which = (zsock_t *) zpoller_wait (poller, self->heartbeat_ms);
        if (which == pipe) {
            char *command = zstr_recv (pipe);
            bool term = !command || streq (command, "$TERM");
            zstr_free (&command);
            if (term) {
                break;
            }
            continue;
        }
        if (zpoller_terminated (poller)) {
            break;
        }
        char err[512] = "";
        int timeout = self->heartbeat_ms < self->timeout_ms ? self->heartbeat_ms
                                                            : self->timeout_ms;
        gc_status_t status = s_register (self, req, timeout, NULL, err, sizeof err);
        if (status != GC_OK && healthy) {
            zsys_warning ("cannot heartbeat group '%s': %s; retrying", self->name, err);
            healthy = false;
        }
        else if (status == GC_OK && !healthy) {
            zsys_info ("REGISTERED AGAIN with %s name=%s", self->server, self->name);
            healthy = true;
        }
    }
    zpoller_destroy (&poller);
    gc_req_destroy (&req);
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

    gc_req_t *req = gc_req_new (server);
    char reason[512] = "";
    gc_status_t status = req ? s_register (self, req, timeout_ms, &self->heartbeat_ms, reason,
                                           sizeof reason)
                             : GC_IO;
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
