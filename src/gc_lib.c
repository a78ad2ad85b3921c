/*  gc_lib - library-wide calls of libgroupcast: its version and the interrupt flag
    SPDX-License-Identifier: MPL-2.0
*/
#include <czmq.h>

#include "groupcast.h"

const char *
gc_version (void)
{
    return GROUPCAST_VERSION;
}

bool
gc_interrupted (void)
{
    //  czmq's SIGINT/SIGTERM flag, the one mutable global the house style allows.
    return zsys_interrupted != 0;
}
