/*  groupcast.h - public C API of libgroupcast, the groupcast client library
    SPDX-License-Identifier: MPL-2.0

    A program talks to a groupcast registry and its groups through three objects:

    gc_identity_t   who you are: a user UUID, a secret token bound to it when you join a
                    group, a display name and the groups you joined, kept in a state directory.
    gc_client_t     requests with timeouts: list groups, join, leave, send (blocking or with
                    several in flight), fetch history, members, stats.
    gc_sub_t        a live subscription to one or more groups' PUB sockets, with gap repair
                    and de-duplication; read it with gc_sub_recv, or poll gc_sub_fd in your loop.

    Ownership follows czmq's CLASS rules: `_new` returns an owned object or NULL, `_destroy (&p)`
    accepts NULL, frees and nulls the pointer. `const char *` results are borrowed and stay valid
    until the next call on the same object. Failing calls return a gc_status_t other than GC_OK;
    gc_client_error () then gives a one-line detail. Each object belongs to one thread.

    Build: cc prog.c $(pkg-config --cflags --libs groupcast). A whole bot in about 50 lines:
    examples/echo_bot.c.
*/
#ifndef GROUPCAST_H_INCLUDED
#define GROUPCAST_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define GROUPCAST_VERSION "0.1.0"

//  Marks the library's public functions: libgroupcast.so is built with -fvisibility=hidden and
//  exports these only (the wire codec and protobuf-c's generated code stay inside).
#if defined(__GNUC__) || defined(__clang__)
#    define GC_EXPORT __attribute__ ((visibility ("default")))
#else
#    define GC_EXPORT
#endif

//  Statuses: values below 100 are the wire's (proto/groupcast.proto, enum Status); 100 and up
//  arise in the client only.
typedef enum {
    GC_OK = 0,
    GC_BAD_REQUEST = 1,
    GC_UNKNOWN_REQUEST = 2,
    GC_TOO_LARGE = 3,
    GC_NOT_MEMBER = 4,
    GC_NOT_FOUND = 5,
    GC_NAME_TAKEN = 6,
    GC_FORBIDDEN = 7,
    GC_STORE_FAILED = 8,
    GC_UNAVAILABLE = 9,
    GC_INTERNAL = 10,
    GC_TIMEOUT = 100,   //  the peer did not answer in time
    GC_PROTOCOL = 101,  //  the peer answered with something that is not a valid reply
    GC_IO = 102,        //  local failure: state directory, sockets, memory
    GC_INVALID = 103    //  the caller passed an invalid argument
} gc_status_t;

//  Default text of a status ("not a member", "timeout", ...). Never NULL.
GC_EXPORT const char *gc_status_str (gc_status_t status);

//  The version of the library the program runs with (GROUPCAST_VERSION is the one it was
//  compiled against). Never NULL.
GC_EXPORT const char *gc_version (void);

//  True once the process got SIGINT or SIGTERM. The library catches both (through czmq) from the
//  first socket it makes, unless the environment sets ZSYS_SIGHANDLER=false; a blocking call
//  then returns early (gc_sub_recv with GC_TIMEOUT, a request with GC_TIMEOUT or GC_IO), so a
//  loop checks this to end cleanly.
GC_EXPORT bool gc_interrupted (void);

//  Limits, the same on both sides of the wire.
#define GC_MAX_TEXT       65536  //  bytes of one message's text
#define GC_MAX_NAME       64     //  bytes of a group name or display name
#define GC_MAX_ENDPOINT   256    //  bytes of an endpoint
#define GC_FETCH_DEFAULT  1000   //  entries per history page when no limit is given
#define GC_FETCH_MAX      10000  //  the most entries one fetch returns
#define GC_UUID_STR_LEN   36     //  canonical text of a UUID, without the NUL
#define GC_TOKEN_SIZE     16     //  bytes of a member's secret token
#define GC_MSG_ID_SIZE    16     //  bytes of a client message id

typedef enum {
    GC_ENTRY_MESSAGE = 0,
    GC_ENTRY_JOIN = 1,
    GC_ENTRY_LEAVE = 2
} gc_entry_kind_t;

//  One entry of a group's stream: a message or a membership event. A borrowed view: valid only
//  during the callback or until the next call on the object that gave it.
typedef struct {
    const char *group;       //  group name
    uint64_t seq;            //  per-group sequence number, from 1
    int64_t ts_us;           //  group's clock, UTC microseconds
    gc_entry_kind_t kind;    //  message, join or leave
    const char *sender;      //  sender's user UUID
    const char *name;        //  sender's display name ("" if none)
    const char *text;        //  message text, NUL-terminated for convenience
    size_t text_len;         //  bytes of text, without the NUL
} gc_entry_t;

//  A registered group, as the registry lists it. Borrowed strings.
typedef struct {
    const char *name;          //  group name
    const char *endpoint;      //  ROUTER endpoint clients send requests to
    const char *pub_endpoint;  //  PUB endpoint clients subscribe to
} gc_group_info_t;

//  A group member. Borrowed strings.
typedef struct {
    const char *id;     //  user UUID
    const char *name;   //  display name
    int64_t joined_us;  //  when the member joined
} gc_member_t;

//  ---------------------------------------------------------------------------------------------
//  gc_identity: the user's UUID, token, display name and joined groups.

typedef struct gc_identity gc_identity_t;

//  Loads the identity kept in `home`, creating the directory (mode 0700), a new UUID and token on
//  first use. `home` NULL means the default: $GROUPCAST_HOME, else $XDG_STATE_HOME/groupcast,
//  else ~/.local/state/groupcast. Returns NULL on failure with the reason in err.
GC_EXPORT gc_identity_t *gc_identity_load (const char *home, char *err, size_t errlen);

//  The default state directory as gc_identity_load resolves it (nothing is created). Returns an
//  owned string, or NULL when no variable gives one (no HOME).
GC_EXPORT char *gc_identity_default_home (void);

//  An identity that lives only in memory: fresh UUID and token, no state directory.
GC_EXPORT gc_identity_t *gc_identity_new_ephemeral (void);

GC_EXPORT void gc_identity_destroy (gc_identity_t **self_p);

//  The user UUID (canonical lowercase text), borrowed.
GC_EXPORT const char *gc_identity_id (const gc_identity_t *self);
//  The secret token, GC_TOKEN_SIZE bytes, borrowed.
GC_EXPORT const uint8_t *gc_identity_token (const gc_identity_t *self);
//  The display name, "" if none; borrowed.
GC_EXPORT const char *gc_identity_name (const gc_identity_t *self);
//  The state directory, or NULL for an ephemeral identity; borrowed.
GC_EXPORT const char *gc_identity_home (const gc_identity_t *self);

//  Sets the display name (at most GC_MAX_NAME bytes, no control characters) and saves it.
//  Returns 0, or -1 with the reason in err.
GC_EXPORT int gc_identity_set_name (gc_identity_t *self, const char *name, char *err,
                                    size_t errlen);

//  Remembers a joined group with its endpoints (replacing an earlier record of that name) and
//  saves the list. Returns 0 or -1 with the reason in err.
GC_EXPORT int gc_identity_remember (gc_identity_t *self, const char *group, const char *endpoint,
                                    const char *pub_endpoint, char *err, size_t errlen);
//  Forgets a group. Returns 0 (also when it was not remembered) or -1 with the reason in err.
GC_EXPORT int gc_identity_forget (gc_identity_t *self, const char *group, char *err, size_t errlen);
//  The number of remembered groups, and the i-th of them (sorted by name); borrowed.
GC_EXPORT size_t gc_identity_group_count (const gc_identity_t *self);
GC_EXPORT const gc_group_info_t *gc_identity_group (const gc_identity_t *self, size_t index);
//  The remembered group of that name, or NULL; borrowed.
GC_EXPORT const gc_group_info_t *gc_identity_find (const gc_identity_t *self, const char *group);

//  The last sequence number a listener printed for a group (0 if none), and setting it; used by
//  `listen --resume`. Setting saves it. Returns 0 or -1 with the reason in err.
GC_EXPORT uint64_t gc_identity_cursor (const gc_identity_t *self, const char *group);
GC_EXPORT int gc_identity_set_cursor (gc_identity_t *self, const char *group, uint64_t seq,
                                      char *err, size_t errlen);

//  ---------------------------------------------------------------------------------------------
//  gc_client: requests to the registry and to groups.

typedef struct gc_client gc_client_t;

//  A client of the registry at `server` (e.g. "tcp://127.0.0.1:5555"; NULL means
//  $GROUPCAST_SERVER, else tcp://127.0.0.1:5555), acting as `identity`, which is borrowed and
//  must outlive the client. Sockets are created lazily. Returns NULL if out of memory.
GC_EXPORT gc_client_t *gc_client_new (const char *server, gc_identity_t *identity);
GC_EXPORT void gc_client_destroy (gc_client_t **self_p);

//  How long one request waits for its reply, in milliseconds (default 3000).
GC_EXPORT void gc_client_set_timeout (gc_client_t *self, int timeout_ms);

//  How many times gc_client_send and gc_client_send_async attempt a message before it fails
//  (default 3; a retry carries the same message id, so it is stored once).
GC_EXPORT void gc_client_set_attempts (gc_client_t *self, int attempts);

//  One line of detail about the last failure ("" after success); borrowed.
GC_EXPORT const char *gc_client_error (const gc_client_t *self);

//  Lists the registered groups, sorted by name. *list is borrowed until the next call.
GC_EXPORT gc_status_t gc_client_groups (gc_client_t *self, const gc_group_info_t **list,
                                        size_t *count);

//  Finds a group's endpoints: `spec` is NAME (asked of the registry, or the remembered endpoint
//  when the registry is down) or NAME@ENDPOINT (the group's ROUTER endpoint, asked directly).
//  *info is borrowed until the next call.
GC_EXPORT gc_status_t gc_client_resolve (gc_client_t *self, const char *spec,
                                         const gc_group_info_t **info);

//  The result of join or send.
typedef struct {
    uint64_t seq;       //  sequence number of the entry made (0: none made, e.g. already a member)
    int64_t ts_us;      //  its timestamp
    uint64_t last_seq;  //  newest sequence number in the group when the reply was made
} gc_ack_t;

//  Joins a group (spec as for resolve) with the identity's display name, and remembers it in the
//  identity. ack may be NULL.
GC_EXPORT gc_status_t gc_client_join (gc_client_t *self, const char *spec, gc_ack_t *ack);
//  Leaves a group and forgets it.
GC_EXPORT gc_status_t gc_client_leave (gc_client_t *self, const char *group, gc_ack_t *ack);

//  Sends one message and waits for its acknowledgement. The send carries a fresh client message
//  id and is retried on timeout until the client's timeout runs out; a retry is stored once.
GC_EXPORT gc_status_t gc_client_send (gc_client_t *self, const char *group, const char *text,
                                      size_t len, gc_ack_t *ack);

//  Sends without waiting: the message is queued with a fresh client message id; *tag (may be
//  NULL) identifies it in the acknowledgement. At most `window` sends may be queued or in flight
//  (see gc_client_set_window); beyond that this waits for an acknowledgement first, delivering
//  it to the ack callback. A send goes out at once while fewer than 4 requests to its group are
//  in flight; beyond that, sends collect into one batch (a SendBatch request: stored in one
//  transaction, acknowledged by one reply) that goes out when an acknowledgement frees the
//  pipeline (read by a later call), when it holds a quarter of the window (at most 1024
//  messages) or 256 KiB, or at the next gc_client_flush or gc_client_pump: call one when a
//  burst ends. The ack handler still hears of every message, in the order sent; it runs inside
//  the client's calls and must not call the client itself (note the tag, act after the call).
typedef void (gc_ack_fn) (void *arg, uint64_t tag, gc_status_t status, const gc_ack_t *ack,
                          const char *error);
GC_EXPORT void gc_client_set_ack_handler (gc_client_t *self, gc_ack_fn *fn, void *arg);
GC_EXPORT void gc_client_set_window (gc_client_t *self, size_t window);
GC_EXPORT gc_status_t gc_client_send_async (gc_client_t *self, const char *group, const char *text,
                                            size_t len, uint64_t *tag);
//  Lets async sends progress without waiting for all of them: sends what has been collected,
//  takes the acknowledgements that arrived (calling the ack handler) and resends what timed
//  out, waiting up to timeout_ms (0: not at all) for acknowledgements while sends are in
//  flight. For an event loop that sends now and then. Returns 0, or -1 when interrupted.
GC_EXPORT int gc_client_pump (gc_client_t *self, int timeout_ms);
//  Waits until every queued send is acknowledged or failed (retrying timed-out ones with the same
//  message id), calling the ack handler for each. Returns GC_OK if all were acknowledged, else the
//  first failure.
GC_EXPORT gc_status_t gc_client_flush (gc_client_t *self);

//  A history query: zero fields are no filter. since_us is inclusive, until_us exclusive;
//  after_seq and before_seq are exclusive; limit 0 means the server's default page.
typedef struct {
    int64_t since_us;
    int64_t until_us;
    uint64_t after_seq;
    uint64_t before_seq;
    uint32_t limit;
    bool newest;   //  the newest `limit` matching entries rather than the oldest
} gc_query_t;

//  Fetches one page of history in ascending order, calling fn for each entry (borrowed), and sets
//  *more if more entries match beyond the page (newer ones, or older ones with `newest`).
//  *first_seq (may be NULL) gets the oldest sequence number the group still holds.
typedef void (gc_entry_fn) (void *arg, const gc_entry_t *entry);
GC_EXPORT gc_status_t gc_client_fetch (gc_client_t *self, const char *group,
                                       const gc_query_t *query, gc_entry_fn *fn, void *arg,
                                       bool *more, uint64_t *first_seq);

//  Lists a group's members; *list is borrowed until the next call.
GC_EXPORT gc_status_t gc_client_members (gc_client_t *self, const char *group,
                                         const gc_member_t **list, size_t *count);

//  A group's figures, as the Stats request returns them. Counters start when the group's
//  process starts.
typedef struct {
    uint64_t members;      //  members now
    uint64_t first_seq;    //  oldest entry the history holds (0: none)
    uint64_t last_seq;     //  newest sequence number given
    uint64_t entries;      //  entries the history holds (messages and membership events)
    uint64_t messages;     //  messages accepted since the group started
    uint64_t bytes;        //  bytes of their text
    double rate;           //  messages per second, over about the last ten seconds
    uint64_t subscribers;  //  live subscriptions to the group's messages
    int64_t started_us;    //  when the group started, by its clock (UTC microseconds)
    int64_t uptime_ms;     //  how long it has been running
} gc_stats_t;

//  Asks a group (spec as for resolve) for its figures. Only members may ask: GC_NOT_MEMBER
//  otherwise.
GC_EXPORT gc_status_t gc_client_stats (gc_client_t *self, const char *group, gc_stats_t *stats);

//  ---------------------------------------------------------------------------------------------
//  gc_sub: live messages from groups, exactly once and in order.

typedef struct gc_sub gc_sub_t;

//  A subscription that uses `client` (borrowed, must outlive it) to fetch what the live stream
//  missed. At most 10000 published frames (and 16 MiB) of live entries, and as many entries
//  fetched from history, wait for the application; live frames beyond that are dropped and
//  their entries fetched again from history once it catches up. Test knob:
//  $GROUPCAST_SUB_RCVHWM=N sets both bounds and the SUB socket's ZMQ_RCVHWM to N. Returns NULL if out of memory.
GC_EXPORT gc_sub_t *gc_sub_new (gc_client_t *client);
GC_EXPORT void gc_sub_destroy (gc_sub_t **self_p);

//  Subscribes to a group (spec as for resolve), delivering entries after sequence number
//  `after_seq` (history first, then live). after_seq UINT64_MAX means "from now on"; beyond
//  the group's newest entry, it means the group was restarted without its history, and it is
//  followed from its first entry (with a notice). Adding a group already subscribed keeps its
//  place. Fails with GC_NOT_MEMBER when history is asked for and the identity is not a member.
GC_EXPORT gc_status_t gc_sub_add (gc_sub_t *self, const char *spec, uint64_t after_seq);

//  Waits up to timeout_ms (-1: forever; 0: only what is already there) for the next entry,
//  fetching from history whatever the live stream missed and checking on silent groups (such a
//  request may wait up to the client's timeout; an interrupt ends it). Returns GC_OK with *entry
//  set (borrowed until the next call), GC_TIMEOUT when none came in time or on an interrupt, or
//  another status when the subscription failed.
GC_EXPORT gc_status_t gc_sub_recv (gc_sub_t *self, int timeout_ms, const gc_entry_t **entry);

//  A file descriptor that becomes readable when gc_sub_recv may have an entry (for poll(2) in the
//  caller's own loop); it is level-agnostic, so call gc_sub_recv with timeout 0 until GC_TIMEOUT.
GC_EXPORT int gc_sub_fd (gc_sub_t *self);

//  The last failure's detail; borrowed.
GC_EXPORT const char *gc_sub_error (const gc_sub_t *self);

//  Receives notices about the stream's health, one line each (a group went silent, came back,
//  was restarted without its history; live entries missed and fetched from history; history
//  that could not be replayed): fn (arg, group, text). Without a handler they are dropped.
typedef void (gc_notice_fn) (void *arg, const char *group, const char *text);
GC_EXPORT void gc_sub_set_notice_handler (gc_sub_t *self, gc_notice_fn *fn, void *arg);

//  The last sequence number gc_sub_recv returned for a group (0 if none or not subscribed): what
//  a later run may resume after.
GC_EXPORT uint64_t gc_sub_last_seq (gc_sub_t *self, const char *group);

#ifdef __cplusplus
}
#endif

#endif
