/*  echo_bot - a groupcast bot: in GROUP, answers "!echo TEXT" with TEXT; Ctrl-C stops it
    SPDX-License-Identifier: MPL-2.0

    cc -o echo_bot echo_bot.c $(pkg-config --cflags --libs groupcast)
    GROUPCAST_SERVER=tcp://host:5555 ./echo_bot GROUP   (state in $GROUPCAST_HOME, as groupcast)
*/
#include <groupcast.h>
#include <stdio.h>
#include <string.h>

int
main (int argc, char **argv)
{
    if (argc != 2) {
        fprintf (stderr, "usage: echo_bot GROUP\n");
        return 2;
    }
    const char *group = argv[1];
    char err[256];
    gc_identity_t *me = gc_identity_load (NULL, err, sizeof err);
    if (!me || gc_identity_set_name (me, "echo-bot", err, sizeof err) != 0) {
        fprintf (stderr, "echo_bot: %s\n", err);
        gc_identity_destroy (&me);
        return 1;
    }
    gc_client_t *client = gc_client_new (NULL, me);
    gc_sub_t *sub = client ? gc_sub_new (client) : NULL;
    int rc = 1;
    if (!sub) {
        fprintf (stderr, "echo_bot: out of memory\n");
        goto cleanup;
    }
    //  Join (a member can fetch what the live stream misses), then listen from now on.
    if (gc_client_join (client, group, NULL) != GC_OK) {
        fprintf (stderr, "echo_bot: %s\n", gc_client_error (client));
        goto cleanup;
    }
    if (gc_sub_add (sub, group, UINT64_MAX) != GC_OK) {
        fprintf (stderr, "echo_bot: %s\n", gc_sub_error (sub));
        goto cleanup;
    }
    printf ("READY echoing in %s\n", group);
    fflush (stdout);
    while (!gc_interrupted ()) {
        const gc_entry_t *entry = NULL;
        gc_status_t status = gc_sub_recv (sub, 1000, &entry);
        if (status != GC_OK && status != GC_TIMEOUT) {
            fprintf (stderr, "echo_bot: %s\n", gc_sub_error (sub));
            goto cleanup;
        }
        //  The entry stays valid until the next gc_sub call: answer it at once.
        bool ask = status == GC_OK && entry->kind == GC_ENTRY_MESSAGE && entry->text_len > 6
                   && strncmp (entry->text, "!echo ", 6) == 0
                   && strcmp (entry->sender, gc_identity_id (me)) != 0;
        if (ask && gc_client_send (client, group, entry->text + 6, entry->text_len - 6, NULL)
                       != GC_OK) {
            fprintf (stderr, "echo_bot: cannot answer: %s\n", gc_client_error (client));
        }
    }
    rc = 0;
cleanup:
    gc_sub_destroy (&sub);
    gc_client_destroy (&client);
    gc_identity_destroy (&me);
    return rc;
}
