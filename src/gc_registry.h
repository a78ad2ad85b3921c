/*  gc_registry - the registry's state: live groups by name, and the handling of its requests
    SPDX-License-Identifier: MPL-2.0

    The handler does no socket I/O: it takes a request frame and returns the reply frame, so the
    REP loop in server_main.c and the unit tests drive it the same way.
*/
#ifndef GC_REGISTRY_H_INCLUDED
#define GC_REGISTRY_H_INCLUDED

#include <czmq.h>
#include <stdbool.h>
#include <stdint.h>

#include "groupcast.h"

typedef struct gc_registry gc_registry_t;

//  A registry that asks groups to heartbeat every heartbeat_ms and drops a group not heard from
//  for ttl_ms. Returns NULL if out of memory.
gc_registry_t *gc_registry_new (uint32_t heartbeat_ms, uint32_t ttl_ms);
void gc_registry_destroy (gc_registry_t **self_p);

//  Logs every heartbeat (debug) when verbose.
void gc_registry_set_verbose (gc_registry_t *self, bool verbose);

//  Handles one request received from `peer` (a text for logs, may be NULL) at now_us, and returns
//  the owned reply frame; NULL only if out of memory. Every request gets a reply, malformed ones
//  an error status.
zframe_t *gc_registry_handle (gc_registry_t *self, const uint8_t *data, size_t size,
                              const char *peer, int64_t now_us);

//  An error reply (owned) for a request that is not even one frame; NULL if out of memory.
zframe_t *gc_registry_reject (gc_status_t status, const char *error);

//  Drops groups not heard from within the TTL; returns how many were dropped.
size_t gc_registry_expire (gc_registry_t *self, int64_t now_us);

//  The number of registered groups.
size_t gc_registry_size (gc_registry_t *self);

#endif
