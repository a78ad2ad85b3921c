/*  gc_req - one request and its reply over REQ, with a deadline, never left stuck
    SPDX-License-Identifier: MPL-2.0

    The zguide's Lazy Pirate: a REQ socket that got no reply in time is closed and a fresh one
    opened for the next request, since a REQ socket must not send twice without a reply.
*/
#ifndef GC_REQ_H_INCLUDED
#define GC_REQ_H_INCLUDED

#include <czmq.h>

typedef struct gc_req gc_req_t;

//  A requester to `endpoint` (copied). The socket is opened by the first call. Returns NULL if
//  out of memory.
gc_req_t *gc_req_new (const char *endpoint);
void gc_req_destroy (gc_req_t **self_p);

//  Sends *request_p (ownership passes; nulled) and waits up to timeout_ms for one reply frame.
//  Returns the owned reply, or NULL on timeout, interrupt or socket error (then the socket is
//  reset and the reason is in gc_req_error).
zframe_t *gc_req_call (gc_req_t *self, zframe_t **request_p, int timeout_ms);

//  The reason of the last failure ("" if none); borrowed.
const char *gc_req_error (gc_req_t *self);

#endif
