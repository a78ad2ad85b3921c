/*  server_main - groupcast-server, the registry: groups register, clients list them
    SPDX-License-Identifier: MPL-2.0
*/
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "gc_registry.h"
#include "gc_time.h"
#include "gc_wire.h"

static void
s_usage (FILE *out)
{
    fprintf (out,
             "usage: groupcast-server [--bind ENDPOINT] [--heartbeat MS] [--ttl MS] [--verbose]\n"
             "                        [--help] [--version]\n"
             "\n"
             "The groupcast registry: groups register here and clients list them.\n"
             "\n"
             "  --bind ENDPOINT  where to listen (default tcp://*:5555; tcp://127.0.0.1:* picks\n"
             "                   a free port)\n"
             "  --heartbeat MS   how often groups must heartbeat (default 1000)\n"
             "  --ttl MS         drop a group not heard from for this long (default 5000)\n"
             "  --verbose        log every heartbeat too\n"
             "\n"
             "Prints \"READY <endpoint>\" on stdout once listening.\n"
             "\n"
             "examples:\n"
             "  groupcast-server\n"
             "  groupcast-server --bind tcp://127.0.0.1:* --ttl 3000\n");
}

static int
s_parse_ms (const char *text, long *out)
{
    char *end = NULL;
    long value = strtol (text, &end, 10);
    if (!*text || *end || value <= 0 || value > 3600000) {
        return -1;
    }
    *out = value;
    return 0;
}

int
main (int argc, char **argv)
{
    zsys_init ();
    zsys_set_logident ("groupcast-server");
    zsys_set_logstream (stderr);
    zsys_set_logsystem (false);

    const char *bind = "tcp://*:5555";
    long heartbeat_ms = 1000, ttl_ms = 5000;
    bool verbose = false;
    static const struct option options[] = {
        {"bind", required_argument, NULL, 'b'},   {"heartbeat", required_argument, NULL, 'H'},
        {"ttl", required_argument, NULL, 't'},    {"verbose", no_argument, NULL, 'v'},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},      {NULL, 0, NULL, 0}};
    int opt;
    while ((opt = getopt_long (argc, argv, "b:hv", options, NULL)) != -1) {
        switch (opt) {
        case 'b':
            bind = optarg;
            break;
        case 'H':
            if (s_parse_ms (optarg, &heartbeat_ms) != 0) {
                fprintf (stderr, "groupcast-server: invalid --heartbeat '%s'\n", optarg);
                return 2;
            }
            break;
        case 't':
            if (s_parse_ms (optarg, &ttl_ms) != 0) {
                fprintf (stderr, "groupcast-server: invalid --ttl '%s'\n", optarg);
                return 2;
            }
            break;
        case 'v':
            verbose = true;
            break;
        case 'h':
            s_usage (stdout);
            return 0;
        case 'V':
            printf ("groupcast-server %s\n", GROUPCAST_VERSION);
            return 0;
        default:
            s_usage (stderr);
            return 2;
        }
    }
    if (optind < argc) {
        fprintf (stderr, "groupcast-server: unexpected argument '%s'\n", argv[optind]);
        return 2;
    }
    if (ttl_ms <= heartbeat_ms) {
        fprintf (stderr, "groupcast-server: --ttl must be longer than --heartbeat\n");
        return 2;
    }

    int status = 1;
    gc_registry_t *registry = gc_registry_new ((uint32_t) heartbeat_ms, (uint32_t) ttl_ms);
    zsock_t *rep = zsock_new (ZMQ_REP);
    zpoller_t *poller = NULL;
    if (!registry || !rep) {
        zsys_error ("cannot start: out of memory or sockets");
        goto cleanup;
    }
    gc_registry_set_verbose (registry, verbose);
    zsock_set_maxmsgsize (rep, GC_MAX_FRAME);
    zsock_set_linger (rep, 0);
    if (zsock_bind (rep, "%s", bind) < 0) {
        zsys_error ("cannot bind %s: %s", bind, zmq_strerror (zmq_errno ()));
        goto cleanup;
    }
    char *bound = zsock_last_endpoint (rep);
    char endpoint[GC_MAX_ENDPOINT + 1];
    gc_wire_advertise (bound, NULL, endpoint, sizeof endpoint);
    zstr_free (&bound);
    poller = zpoller_new (rep, NULL);
    if (!poller) {
        goto cleanup;
    }
    zsys_info ("registry listening on %s heartbeat_ms=%ld ttl_ms=%ld", endpoint, heartbeat_ms,
               ttl_ms);
    printf ("READY %s\n", endpoint);
    fflush (stdout);

    while (!zsys_interrupted) {
        zsock_t *which = (zsock_t *) zpoller_wait (poller, (int) heartbeat_ms);
        int64_t now = gc_time_now_us ();
        if (which == rep) {
            zmsg_t *msg = zmsg_recv (rep);
            if (!msg) {
                continue;
            }
            zframe_t *frame = zmsg_first (msg);
            const char *peer = frame ? zframe_meta (frame, "Peer-Address") : NULL;
            zframe_t *reply = NULL;
            if (zmsg_size (msg) == 1) {
                reply = gc_registry_handle (registry, zframe_data (frame), zframe_size (frame),
                                            peer, now);
            }
            else {
                zsys_warning ("BAD REQUEST FROM %s: %zu frames", peer ? peer : "?",
                              zmsg_size (msg));
                reply = gc_registry_reject (GC_BAD_REQUEST, "a request must be one frame");
            }
            zmsg_destroy (&msg);
            if (!reply || zframe_send (&reply, rep, 0) != 0) {
                zsys_error ("cannot send reply: %s", zmq_strerror (zmq_errno ()));
                zframe_destroy (&reply);
            }
        }
        else if (zpoller_terminated (poller)) {
            break;
        }
        gc_registry_expire (registry, now);
    }
    zsys_info ("registry stopping");
    status = 0;

cleanup:
    zpoller_destroy (&poller);
    zsock_destroy (&rep);
    gc_registry_destroy (&registry);
    return status;
}
