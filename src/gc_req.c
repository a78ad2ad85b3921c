/*  gc_req - request/reply over REQ with a deadline and Lazy Pirate reset
    SPDX-License-Identifier: MPL-2.0
*/
#include "gc_req.h"

#include "gc_wire.h"

struct gc_req {
    char *endpoint;     //  where to connect
    zsock_t *socket;    //  REQ, NULL until used or after a reset
    char error[256];    //  last failure
};

gc_req_t *
gc_req_new (const char *endpoint)
{
    assert (endpoint);
    gc_req_t *self = (gc_req_t *) calloc (1, sizeof (gc_req_t));
    if (self) {
        self->endpoint = strdup (endpoint);
        if (!self->endpoint) {
            free (self);
            self = NULL;
        }
    }
    return self;
}

void
gc_req_destroy (gc_req_t **self_p)
{
    assert (self_p);
    gc_req_t *self = *self_p;
    if (self) {
        zsock_destroy (&self->socket);
        free (self->endpoint);
        free (self);
        *self_p = NULL;
    }
}

const char *
gc_req_error (gc_req_t *self)
{
    assert (self);
    return self->error;
}

static int
s_connect (gc_req_t *self)
{
    self->socket = zsock_new (ZMQ_REQ);
    if (!self->socket) {
        snprintf (self->error, sizeof self->error, "cannot create socket: %s",
                  zmq_strerror (zmq_errno ()));
        return -1;
    }
    //  Closing must not wait for a request the peer never took.
    zsock_set_linger (self->socket, 0);
    zsock_set_maxmsgsize (self->socket, GC_MAX_FRAME);
    if (zsock_connect (self->socket, "%s", self->endpoint) != 0) {
        snprintf (self->error, sizeof self->error, "cannot connect to %s: %s", self->endpoint,
                  zmq_strerror (zmq_errno ()));
        zsock_destroy (&self->socket);
        return -1;
    }
    return 0;
}

zframe_t *
gc_req_call (gc_req_t *self, zframe_t **request_p, int timeout_ms)
{
    assert (self && request_p && *request_p);
    self->error[0] = '\0';
    if (!self->socket && s_connect (self) != 0) {
        zframe_destroy (request_p);
        return NULL;
    }
    if (zframe_send (request_p, self->socket, 0) != 0) {
        snprintf (self->error, sizeof self->error, "cannot send to %s: %s", self->endpoint,
                  zmq_strerror (zmq_errno ()));
        zframe_destroy (request_p);
        zsock_destroy (&self->socket);
        return NULL;
    }
    zmq_pollitem_t item = {zsock_resolve (self->socket), 0, ZMQ_POLLIN, 0};
    int64_t deadline = zclock_mono () + timeout_ms;
    while (true) {
        int64_t left = deadline - zclock_mono ();
        if (left < 0) {
            left = 0;
        }
        //  Short slices: a signal that lands just before the poll is noticed within 250 ms.
        int rc = zmq_poll (&item, 1, (long) (left < 250 ? left : 250));
        if (rc == 0 && left > 0 && !zsys_interrupted) {
            continue;
        }
        if (rc > 0) {
            zframe_t *reply = zframe_recv (self->socket);
            if (reply && !zframe_more (reply)) {
                return reply;
            }
            zframe_destroy (&reply);
            snprintf (self->error, sizeof self->error, "invalid reply from %s", self->endpoint);
            break;
        }
        if (rc < 0 && zmq_errno () == EINTR && !zsys_interrupted && left > 0) {
            continue;
        }
        if (rc < 0 || zsys_interrupted) {
            snprintf (self->error, sizeof self->error, "interrupted");
        }
        else {
            snprintf (self->error, sizeof self->error, "no reply from %s within %d ms",
                      self->endpoint, timeout_ms);
        }
        break;
    }
    zsock_destroy (&self->socket);
    return NULL;
}
