/*  gc_registrar - keeps a group registered with the registry: registers at start, heartbeats
    from its own thread, unregisters when destroyed
    SPDX-License-Identifier: MPL-2.0

    Heartbeats run in a zactor so the group's loop never waits on the registry: a group keeps
    serving while the registry is down and re-registers as soon as it is back.
*/
#ifndef GC_REGISTRAR_H_INCLUDED
#define GC_REGISTRAR_H_INCLUDED

#include <stddef.h>

typedef struct gc_registrar gc_registrar_t;

//  Registers group `name` (endpoints and group_id copied) with the registry at `server`, waiting
//  up to timeout_ms for its answer, then heartbeats at the interval the registry asks for.
//  Returns NULL with the reason in err if the registry did not answer in time or refused.
gc_registrar_t *gc_registrar_new (const char *server, const char *name, const char *endpoint,
                                  const char *pub_endpoint, const char *group_id, int timeout_ms,
                                  char *err, size_t errlen);

//  Unregisters (waiting up to the registrar's timeout) and stops the thread. Accepts NULL.
void gc_registrar_destroy (gc_registrar_t **self_p);

#endif
