/*  gc_client_impl - gc_client's state and the calls gc_sub and gc_cli share (private)
    SPDX-License-Identifier: MPL-2.0
*/
#ifndef GC_CLIENT_IMPL_H_INCLUDED
#define GC_CLIENT_IMPL_H_INCLUDED

#include "groupcast.h"
#include "gc_req.h"
#include "gc_wire.h"

//  Async sends travel in batches: one request carrying one message (a Send) or several (a
//  SendBatch); defined in gc_client.c.
typedef struct s_batch s_batch_t;

//  A connection to one group's ROUTER.
typedef struct {
    char name[GC_MAX_NAME + 1];              //  group name, the key
    char endpoint[GC_MAX_ENDPOINT + 1];      //  ROUTER endpoint
    char pub_endpoint[GC_MAX_ENDPOINT + 1];  //  PUB endpoint ("" until known)
    zsock_t *dealer;                         //  DEALER connected to endpoint
    zsock_t *monitor;                        //  PAIR receiving the DEALER's disconnect events
    s_batch_t *open;                         //  async sends collected, not sent yet (or NULL)
    s_batch_t *first;                        //  batches in flight, in the order sent: the
    s_batch_t *last;                         //  first one is the oldest attempt
    size_t in_flight;                        //  how many
} s_conn_t;

struct gc_client {
    char server[GC_MAX_ENDPOINT + 1];     //  registry endpoint
    gc_identity_t *identity;              //  borrowed
    int timeout_ms;                       //  per request
    int attempts;                         //  per send, counting the first
    size_t window;                        //  async sends in flight at most
    char error[1024];                     //  last failure's detail
    gc_req_t *registry;                   //  REQ to the registry
    zhashx_t *conns;                      //  group name -> s_conn_t, owned
    size_t queued;                        //  async sends collected or in flight
    s_batch_t *spare;                     //  finished batches kept for reuse, owned
    size_t spares;                        //  how many
    Groupcast__V1__Send *send_items;      //  a SendBatch's messages while it is packed
    Groupcast__V1__Send **send_list;      //  pointers to them
    size_t send_capacity;                 //  allocated slots in both
    zmq_pollitem_t *poll_items;           //  what a pump polls
    s_conn_t **poll_conns;                //  the connection of each DEALER item
    size_t poll_capacity;                 //  allocated slots in both
    uint64_t next_request_id;             //  request ids, from 1
    uint64_t next_tag;                    //  async send tags, from 0
    gc_ack_fn *ack_fn;                    //  async acknowledgement handler
    void *ack_arg;                        //  its argument
    gc_status_t first_failure;            //  first failed async send since the last flush
    char first_error[1024];               //  its detail
    gc_registry_reply_t *groups_reply;    //  backs group_infos
    gc_group_info_t *group_infos;         //  last groups list
    gc_group_info_t resolved;             //  last resolve result
    gc_group_reply_t *members_reply;      //  backs members
    gc_member_t *members;                 //  last members list
    uint8_t random[1024];                 //  random bytes for message ids, drawn in bulk
    size_t random_used;                   //  bytes of random already used
    char *scratch;                        //  NUL-terminated copy of an entry's text
    size_t scratch_size;                  //  its allocated size
};

//  Sets self->error from fmt and returns status.
gc_status_t gc_client_fail (gc_client_t *self, gc_status_t status, const char *fmt, ...)
    __attribute__ ((format (printf, 3, 4)));

//  The connection for spec (NAME or NAME@ENDPOINT): cached, else remembered (when
//  prefer_known), else from the registry.
gc_status_t gc_client_conn (gc_client_t *self, const char *spec, bool prefer_known,
                            s_conn_t **conn);

//  One request on a connection, waiting for its reply up to the timeout. On GC_OK *reply_p is
//  the owned reply; otherwise the reason is in self->error.
gc_status_t gc_client_call (gc_client_t *self, s_conn_t *conn, gc_group_request_t *request,
                            gc_group_reply_t **reply_p);

//  As gc_client_call for a group spec, re-resolving through the registry once when the group
//  does not answer where we thought it was. *conn_p (may be NULL) gets the connection used.
gc_status_t gc_client_call_group (gc_client_t *self, const char *spec,
                                  gc_group_request_t *request, gc_group_reply_t **reply_p,
                                  s_conn_t **conn_p);

//  An Info request (no membership needed): the group's last_seq, first_seq and PUB endpoint.
gc_status_t gc_client_info (gc_client_t *self, const char *spec, gc_group_reply_t **reply_p,
                            s_conn_t **conn_p);

//  Fills a borrowed entry view from a wire entry; the text is copied into self's scratch
//  buffer (valid until the next call).
gc_status_t gc_client_fill_entry (gc_client_t *self, const char *group,
                                  const Groupcast__V1__Entry *item, gc_entry_t *entry);

//  Waits up to timeout_ms for fd (borrowed) to become readable, meanwhile taking the
//  acknowledgements of async sends (calling the ack handler) and retrying the ones that timed
//  out. Returns 1 if fd is readable (or at end of file, or in error), 0 if not, -1 if
//  interrupted.
int gc_client_wait_fd (gc_client_t *self, int fd, int timeout_ms);

gc_identity_t *gc_client_identity (gc_client_t *self);

#endif
