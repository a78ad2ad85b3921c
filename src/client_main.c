/*  client_main - groupcast, the command-line client
    SPDX-License-Identifier: MPL-2.0
*/
#include <czmq.h>

#include "gc_cli.h"

int
main (int argc, char **argv)
{
    zsys_init ();
    zsys_set_logident ("groupcast");
    zsys_set_logstream (stderr);
    zsys_set_logsystem (false);
    int rc = gc_cli_main (argc, argv, stdout, stderr);
    fflush (stdout);
    return rc;
}
