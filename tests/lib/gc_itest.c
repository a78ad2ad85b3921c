/*  gc_itest - a groupcast system on loopback for integration tests
    SPDX-License-Identifier: MPL-2.0
*/
#include "gc_itest.h"

#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define S_MAX_ARGS 64

//  Every process binds port 0: the kernel picks a random free port. czmq's `*` would scan up
//  from 49152 and hand a port that a killed process just freed to the next test running in
//  parallel, which then answers requests meant for the restarted process.

static void
s_track (gc_itest_t *self, gc_proc_t *proc)
{
    if (proc && self->nprocs < GC_ITEST_MAX_PROCS) {
        self->procs[self->nprocs++] = proc;
    }
}

int
gc_itest_start_server (gc_itest_t *self, const char *const *args)
{
    char *bin = gc_bin (self->bin_dir, "groupcast-server");
    const char *argv[S_MAX_ARGS] = {bin, "--bind", "tcp://127.0.0.1:0"};
    int argc = 3;
    for (int i = 0; args && args[i] && argc < S_MAX_ARGS - 1; i++) {
        argv[argc++] = args[i];
    }
    argv[argc] = NULL;
    //  A restart keeps the port: clients and groups already know it.
    if (self->server_ep[0]) {
        argv[2] = self->server_ep;
    }
    self->server = gc_proc_start (self->dir, "server", (char *const *) argv, NULL, false);
    free (bin);
    if (!self->server) {
        return -1;
    }
    char line[256];
    if (gc_proc_wait_line (self->server, "READY ", self->timeout_ms, line, sizeof line) != 0) {
        fprintf (stderr, "registry did not start\n");
        return -1;
    }
    snprintf (self->server_ep, sizeof self->server_ep, "%s", line);
    return 0;
}

gc_itest_t *
gc_itest_new (const char *bin_dir, const char *tag, bool with_server,
              const char *const *server_args)
{
    gc_itest_t *self = (gc_itest_t *) calloc (1, sizeof (gc_itest_t));
    if (!self) {
        return NULL;
    }
    self->timeout_ms = 15000;
    self->bin_dir = strdup (bin_dir);
    self->dir = gc_tmpdir_new (tag);
    if (!self->dir || !self->bin_dir) {
        gc_itest_destroy (&self);
        return NULL;
    }
    if (with_server && gc_itest_start_server (self, server_args) != 0) {
        gc_itest_destroy (&self);
        return NULL;
    }
    return self;
}

gc_proc_t *
gc_itest_group (gc_itest_t *self, const char *name, const char *const *args, char *ep, char *pub)
{
    char *bin = gc_bin (self->bin_dir, "groupcast-group");
    char data[1024];
    snprintf (data, sizeof data, "%s/data/%s", self->dir, name);
    const char *argv[S_MAX_ARGS] = {bin,    "--name", name,   "--server",
                                    self->server_ep[0] ? self->server_ep : "tcp://127.0.0.1:1",
                                    "--bind", "tcp://127.0.0.1:0", "--pub",
                                    "tcp://127.0.0.1:0", "--data", data};
    int argc = 11;
    for (int i = 0; args && args[i] && argc < S_MAX_ARGS - 1; i++) {
        argv[argc++] = args[i];
    }
    argv[argc] = NULL;
    char tag[128];
    snprintf (tag, sizeof tag, "group-%s-%d", name, self->nprocs);
    gc_proc_t *proc = gc_proc_start (self->dir, tag, (char *const *) argv, NULL, false);
    free (bin);
    if (!proc) {
        return NULL;
    }
    s_track (self, proc);
    char line[600];
    if (gc_proc_wait_line (proc, "READY ", self->timeout_ms, line, sizeof line) != 0) {
        char *err = gc_proc_stderr (proc);
        fprintf (stderr, "group '%s' did not start:\n%s\n", name, err ? err : "");
        free (err);
        return NULL;
    }
    char first[256] = "", second[256] = "";
    if (sscanf (line, "%255s %255s", first, second) != 2) {
        return NULL;
    }
    if (ep) {
        snprintf (ep, 256, "%s", first);
    }
    if (pub) {
        snprintf (pub, 256, "%s", second);
    }
    return proc;
}

//  Builds `groupcast --home ... --server ... ARGS` into argv (storage in home).
static int
s_client_argv (gc_itest_t *self, const char *user, va_list args, const char **argv, char *bin,
               char *home)
{
    snprintf (home, 1024, "%s/users/%s", self->dir, user);
    int argc = 0;
    argv[argc++] = bin;
    argv[argc++] = "--home";
    argv[argc++] = home;
    argv[argc++] = "--server";
    argv[argc++] = self->server_ep[0] ? self->server_ep : "tcp://127.0.0.1:1";
    const char *arg;
    while ((arg = va_arg (args, const char *)) != NULL && argc < S_MAX_ARGS - 1) {
        argv[argc++] = arg;
    }
    argv[argc] = NULL;
    return argc;
}

int
gc_itest_client (gc_itest_t *self, const char *user, const char *input, char **out, char **err,
                 ...)
{
    char *bin = gc_bin (self->bin_dir, "groupcast");
    char home[1024];
    const char *argv[S_MAX_ARGS];
    va_list args;
    va_start (args, err);
    s_client_argv (self, user, args, argv, bin, home);
    va_end (args);
    char *captured_err = NULL;
    int rc = gc_run (self->dir, (char *const *) argv, NULL, input, self->timeout_ms, out,
                     &captured_err);
    free (bin);
    //  A client's stderr is checked for leaks and dangling sockets like any process's.
    if (captured_err && (strstr (captured_err, "dangling") || strstr (captured_err, "Sanitizer")
                         || strstr (captured_err, "runtime error:"))) {
        fprintf (stderr, "client output not clean:\n%s\n", captured_err);
        rc = 99;
    }
    if (err) {
        *err = captured_err;
    }
    else {
        free (captured_err);
    }
    return rc;
}

gc_proc_t *
gc_itest_client_start (gc_itest_t *self, const char *user, int with_stdin, ...)
{
    char *bin = gc_bin (self->bin_dir, "groupcast");
    char home[1024];
    const char *argv[S_MAX_ARGS];
    va_list args;
    va_start (args, with_stdin);
    s_client_argv (self, user, args, argv, bin, home);
    va_end (args);
    char tag[128];
    snprintf (tag, sizeof tag, "client-%s-%d", user, self->nprocs);
    gc_proc_t *proc = gc_proc_start (self->dir, tag, (char *const *) argv, NULL, with_stdin != 0);
    free (bin);
    s_track (self, proc);
    return proc;
}

int
gc_itest_stop (gc_itest_t *self, gc_proc_t *proc, bool *clean)
{
    int status = gc_proc_stop (proc, 10000);
    bool ok = gc_proc_clean (proc);
    if (clean) {
        *clean = ok;
    }
    for (int i = 0; i < self->nprocs; i++) {
        if (self->procs[i] == proc) {
            gc_proc_destroy (&self->procs[i]);
            self->procs[i] = self->procs[--self->nprocs];
            break;
        }
    }
    if (proc == self->server) {
        gc_proc_destroy (&self->server);
    }
    return status;
}

bool
gc_itest_destroy (gc_itest_t **self_p)
{
    gc_itest_t *self = *self_p;
    if (!self) {
        return true;
    }
    bool clean = true;
    //  Groups first (they unregister), the registry last.
    while (self->nprocs > 0) {
        bool ok = true;
        gc_itest_stop (self, self->procs[self->nprocs - 1], &ok);
        clean = clean && ok;
    }
    if (self->server) {
        bool ok = true;
        gc_itest_stop (self, self->server, &ok);
        clean = clean && ok;
    }
    if (clean && !getenv ("GC_KEEP_TMP")) {
        gc_tmpdir_destroy (&self->dir);
    }
    else if (self->dir) {
        fprintf (stderr, "test files kept in %s\n", self->dir);
    }
    free (self->dir);
    free (self->bin_dir);
    free (self);
    *self_p = NULL;
    return clean;
}
