/*  gc_itest - a groupcast system on loopback for integration tests: a registry, groups and
    users, each user with its own state directory, all in the test's own temp directory
    SPDX-License-Identifier: MPL-2.0

    Every process binds port 0 on 127.0.0.1 (the kernel picks a free port) and reports the
    endpoint on its READY line, so tests never guess ports and ctest -j is safe.
*/
#ifndef GC_ITEST_H_INCLUDED
#define GC_ITEST_H_INCLUDED

#include <stdbool.h>

#include "gc_proc.h"

#define GC_ITEST_MAX_PROCS 32

typedef struct {
    char *dir;                              //  the test's temp directory, owned
    char *bin_dir;                          //  where the binaries are
    gc_proc_t *server;                      //  the registry, or NULL
    char server_ep[256];                    //  its endpoint
    gc_proc_t *procs[GC_ITEST_MAX_PROCS];   //  every other long-running process started
    int nprocs;                             //  how many
    int timeout_ms;                         //  deadline for READY lines and commands
} gc_itest_t;

//  A temp directory and, if with_server, a running registry (extra args may be NULL, a
//  NULL-terminated list). Returns NULL on failure (printed).
gc_itest_t *gc_itest_new (const char *bin_dir, const char *tag, bool with_server,
                          const char *const *server_args);

//  Starts (or restarts) the registry. Returns 0 or -1.
int gc_itest_start_server (gc_itest_t *self, const char *const *args);

//  Starts group `name` with --server, --bind/--pub on 127.0.0.1:0 and --data <dir>/data/<name>,
//  plus extra args (NULL-terminated, may be NULL), and waits for its READY line. Copies its
//  endpoints into ep and pub (256 bytes each, either may be NULL). Returns the process (owned by
//  self; stop it with gc_itest_stop) or NULL.
gc_proc_t *gc_itest_group (gc_itest_t *self, const char *name, const char *const *args, char *ep,
                           char *pub);

//  Runs `groupcast --home <dir>/users/<user> --server <registry> ARGS...` to completion (the
//  argument list ends with NULL). input (may be NULL) goes to its stdin. *out and *err (may be
//  NULL) get owned output. Returns the exit status, -1 on deadline.
int gc_itest_client (gc_itest_t *self, const char *user, const char *input, char **out,
                     char **err, ...) __attribute__ ((sentinel));

//  Starts a long-running client (e.g. listen) the same way; the list ends with NULL.
gc_proc_t *gc_itest_client_start (gc_itest_t *self, const char *user, int with_stdin, ...)
    __attribute__ ((sentinel));

//  Stops one process started through self (SIGTERM, then SIGKILL) and checks its output is
//  clean. Returns its exit status (-1 if it had to be killed), and sets *clean if not NULL.
int gc_itest_stop (gc_itest_t *self, gc_proc_t *proc, bool *clean);

//  Stops everything still running, checks each process's output is clean (no dangling sockets,
//  no sanitizer reports) and removes the temp directory. Returns true if all were clean.
bool gc_itest_destroy (gc_itest_t **self_p);

#endif
