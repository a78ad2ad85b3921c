/*  gc_cli - the groupcast command line: one-shot commands, listen, and the interactive shell
    SPDX-License-Identifier: MPL-2.0
*/
#ifndef GC_CLI_H_INCLUDED
#define GC_CLI_H_INCLUDED

#include <stdio.h>

//  Runs the command line in argv (argv[0] is the program). Writes results to out and one-line
//  errors ("groupcast: ...") to err. Returns the exit status: 0 ok, 1 failure, 2 usage.
int gc_cli_main (int argc, char **argv, FILE *out, FILE *err);

//  Writes text (len bytes, may hold NULs or invalid UTF-8) as a JSON string with quotes;
//  invalid UTF-8 becomes U+FFFD.
void gc_cli_json_string (FILE *out, const char *text, size_t len);

#endif
