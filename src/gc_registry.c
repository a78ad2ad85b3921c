/*  gc_registry - the registry's state and request handling
    SPDX-License-Identifier: MPL-2.0
*/
#include "gc_registry.h"

#include "gc_wire.h"

typedef struct {
    char name[GC_MAX_NAME + 1];              //  group name, the key
    char endpoint[GC_MAX_ENDPOINT + 1];      //  ROUTER endpoint
    char pub_endpoint[GC_MAX_ENDPOINT + 1];  //  PUB endpoint
    char group_id[GC_UUID_STR_LEN + 1];      //  instance that owns the name
    int64_t last_seen_us;                    //  last register or heartbeat
} s_group_t;

struct gc_registry {
    zhashx_t *groups;        //  name -> s_group_t, owned
    uint32_t heartbeat_ms;   //  interval asked of groups
    uint32_t ttl_ms;         //  a group unheard for this long is dropped
    bool verbose;            //  log heartbeats
};

static void
s_group_destroy (void **item)
{
    free (*item);
    *item = NULL;
}

gc_registry_t *
gc_registry_new (uint32_t heartbeat_ms, uint32_t ttl_ms)
{
    assert (heartbeat_ms > 0 && ttl_ms > heartbeat_ms);
    gc_registry_t *self = (gc_registry_t *) calloc (1, sizeof (gc_registry_t));
    if (!self) {
        return NULL;
    }
    self->groups = zhashx_new ();
    if (!self->groups) {
        free (self);
        return NULL;
    }
    zhashx_set_destructor (self->groups, s_group_destroy);
    self->heartbeat_ms = heartbeat_ms;
    self->ttl_ms = ttl_ms;
    return self;
}

void
gc_registry_destroy (gc_registry_t **self_p)
{
    assert (self_p);
    gc_registry_t *self = *self_p;
    if (self) {
        zhashx_destroy (&self->groups);
        free (self);
        *self_p = NULL;
    }
}

static bool
s_expired (gc_registry_t *self, const s_group_t *group, int64_t now_us)
{
    return now_us - group->last_seen_us > (int64_t) self->ttl_ms * 1000;
}

size_t
gc_registry_expire (gc_registry_t *self, int64_t now_us)
{
    assert (self);
    zlistx_t *names = zhashx_keys (self->groups);
    size_t dropped = 0;
    for (const char *name = (const char *) zlistx_first (names); name;
         name = (const char *) zlistx_next (names)) {
        s_group_t *group = (s_group_t *) zhashx_lookup (self->groups, name);
        if (s_expired (self, group, now_us)) {
            zsys_info ("GROUP EXPIRED name=%s endpoint=%s", group->name, group->endpoint);
            zhashx_delete (self->groups, name);
            dropped++;
        }
    }
    zlistx_destroy (&names);
    return dropped;
}

void
gc_registry_set_verbose (gc_registry_t *self, bool verbose)
{
    assert (self);
    self->verbose = verbose;
}

size_t
gc_registry_size (gc_registry_t *self)
{
    assert (self);
    return zhashx_size (self->groups);
}

static gc_status_t
s_register (gc_registry_t *self, const Groupcast__V1__GroupInfo *info, int64_t now_us,
            char *err, size_t errlen)
{
    s_group_t *group = (s_group_t *) zhashx_lookup (self->groups, info->name);
    if (group && strcmp (group->group_id, info->group_id) != 0
        && !s_expired (self, group, now_us)) {
        snprintf (err, errlen, "cannot register group '%s': name already taken by %s",
                  info->name, group->endpoint);
        return GC_NAME_TAKEN;
    }
    if (!group) {
        group = (s_group_t *) calloc (1, sizeof (s_group_t));
        if (!group) {
            snprintf (err, errlen, "cannot register group '%s': out of memory", info->name);
            return GC_INTERNAL;
        }
        snprintf (group->name, sizeof group->name, "%s", info->name);
        zhashx_insert (self->groups, group->name, group);
        zsys_info ("JOIN REQUEST FROM %s name=%s pub=%s", info->endpoint, info->name,
                   info->pub_endpoint);
    }
    //  Validated lengths fit: gc_wire checked endpoints against GC_MAX_ENDPOINT.
    snprintf (group->endpoint, sizeof group->endpoint, "%s", info->endpoint);
    snprintf (group->pub_endpoint, sizeof group->pub_endpoint, "%s", info->pub_endpoint);
    snprintf (group->group_id, sizeof group->group_id, "%s", info->group_id);
    group->last_seen_us = now_us;
    return GC_OK;
}

static gc_status_t
s_unregister (gc_registry_t *self, const Groupcast__V1__UnregisterGroup *req, char *err,
              size_t errlen)
{
    s_group_t *group = (s_group_t *) zhashx_lookup (self->groups, req->name);
    if (!group) {
        snprintf (err, errlen, "cannot unregister group '%s': not registered", req->name);
        return GC_NOT_FOUND;
    }
    if (strcmp (group->group_id, req->group_id) != 0) {
        snprintf (err, errlen, "cannot unregister group '%s': registered by another instance",
                  req->name);
        return GC_FORBIDDEN;
    }
    zsys_info ("GROUP UNREGISTERED name=%s", req->name);
    zhashx_delete (self->groups, req->name);
    return GC_OK;
}

static int
s_compare_names (const void *a, const void *b)
{
    const Groupcast__V1__GroupInfo *x = *(Groupcast__V1__GroupInfo *const *) a;
    const Groupcast__V1__GroupInfo *y = *(Groupcast__V1__GroupInfo *const *) b;
    return strcmp (x->name, y->name);
}

//  Packs the list reply; the GroupInfo structs borrow the registry's strings.
static zframe_t *
s_list_reply (gc_registry_t *self, gc_registry_reply_t *reply, int64_t now_us)
{
    gc_registry_expire (self, now_us);
    size_t count = zhashx_size (self->groups);
    Groupcast__V1__GroupInfo *infos = calloc (count ? count : 1, sizeof *infos);
    Groupcast__V1__GroupInfo **list = calloc (count ? count : 1, sizeof *list);
    zframe_t *frame = NULL;
    if (infos && list) {
        size_t i = 0;
        for (s_group_t *group = (s_group_t *) zhashx_first (self->groups); group;
             group = (s_group_t *) zhashx_next (self->groups)) {
            groupcast__v1__group_info__init (&infos[i]);
            infos[i].name = group->name;
            infos[i].endpoint = group->endpoint;
            infos[i].pub_endpoint = group->pub_endpoint;
            //  group_id stays private: it is what proves ownership of the name.
            infos[i].last_seen_us = group->last_seen_us;
            list[i] = &infos[i];
            i++;
        }
        qsort (list, count, sizeof *list, s_compare_names);
        reply->groups = list;
        reply->n_groups = count;
        frame = gc_wire_pack (&reply->base);
        reply->groups = NULL;
        reply->n_groups = 0;
    }
    free (infos);
    free (list);
    return frame;
}

zframe_t *
gc_registry_reject (gc_status_t status, const char *error)
{
    gc_registry_reply_t reply = GROUPCAST__V1__REGISTRY_REPLY__INIT;
    reply.status = (Groupcast__V1__Status) status;
    reply.error = (char *) error;
    return gc_wire_pack (&reply.base);
}

zframe_t *
gc_registry_handle (gc_registry_t *self, const uint8_t *data, size_t size, const char *peer,
                    int64_t now_us)
{
    assert (self);
    char err[512] = "";
    uint64_t request_id = 0;
    gc_status_t status = GC_OK;
    gc_registry_reply_t reply = GROUPCAST__V1__REGISTRY_REPLY__INIT;
    gc_registry_request_t *req =
        gc_wire_registry_request_unpack (data, size, &request_id, &status, err, sizeof err);
    reply.request_id = request_id;
    if (!req) {
        zsys_warning ("BAD REQUEST FROM %s: %s", peer ? peer : "?", err);
    }
    else if (req->body_case == GROUPCAST__V1__REGISTRY_REQUEST__BODY_REGISTER_GROUP) {
        const Groupcast__V1__GroupInfo *info = req->register_group->group;
        if (self->verbose) {
            zsys_debug ("HEARTBEAT FROM %s name=%s", info->endpoint, info->name);
        }
        status = s_register (self, info, now_us, err, sizeof err);
        if (status != GC_OK) {
            zsys_warning ("JOIN REQUEST FROM %s refused: %s", info->endpoint, err);
        }
        reply.heartbeat_ms = self->heartbeat_ms;
        reply.ttl_ms = self->ttl_ms;
    }
    else if (req->body_case == GROUPCAST__V1__REGISTRY_REQUEST__BODY_UNREGISTER_GROUP) {
        zsys_info ("LEAVE REQUEST FROM %s name=%s", peer ? peer : "?",
                   req->unregister_group->name);
        status = s_unregister (self, req->unregister_group, err, sizeof err);
    }
    else {
        zsys_info ("GROUP LIST REQUEST FROM %s", req->client_id[0] ? req->client_id : "?");
    }
    reply.status = (Groupcast__V1__Status) status;
    reply.error = err;
    zframe_t *frame = NULL;
    if (status == GC_OK && req
        && req->body_case == GROUPCAST__V1__REGISTRY_REQUEST__BODY_LIST_GROUPS) {
        frame = s_list_reply (self, &reply, now_us);
    }
    else {
        frame = gc_wire_pack (&reply.base);
    }
    gc_wire_registry_request_free (&req);
    return frame;
}
