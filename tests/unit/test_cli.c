/*  test_cli - the command line's JSON string writer: escaping and UTF-8 repair
    SPDX-License-Identifier: MPL-2.0
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gc_cli.h"
#include "gc_test.h"

//  gc_cli_json_string of len bytes, as an owned string.
static char *
s_json (const char *text, size_t len)
{
    char *buf = NULL;
    size_t size = 0;
    FILE *out = open_memstream (&buf, &size);
    gc_cli_json_string (out, text, len);
    fclose (out);
    return buf;
}

#define CHECK_JSON(bytes, expect)                                                              \
    do {                                                                                       \
        char *got_ = s_json (bytes, sizeof (bytes) - 1);                                       \
        int same_ = strcmp (got_, expect) == 0;                                                \
        if (!same_) {                                                                          \
            fprintf (stderr, "json of %s: got %s, want %s\n", #bytes, got_, expect);           \
        }                                                                                      \
        free (got_);                                                                           \
        CHECK (same_);                                                                         \
    } while (0)

static void
test_escapes (void)
{
    CHECK_JSON ("plain", "\"plain\"");
    CHECK_JSON ("a\"b\\c", "\"a\\\"b\\\\c\"");
    CHECK_JSON ("l1\nl2\tx\r", "\"l1\\nl2\\tx\\r\"");
    CHECK_JSON ("\x01\x7f", "\"\\u0001\\u007f\"");
    CHECK_JSON ("nul\0in", "\"nul\\u0000in\"");
}

static void
test_utf8_passes (void)
{
    CHECK_JSON ("caf\xc3\xa9", "\"caf\xc3\xa9\"");                  //  2 bytes
    CHECK_JSON ("\xe2\x82\xac", "\"\xe2\x82\xac\"");                //  3 bytes
    CHECK_JSON ("\xf0\x9f\x98\x80", "\"\xf0\x9f\x98\x80\"");        //  4 bytes
}

static void
test_invalid_utf8_replaced (void)
{
    CHECK_JSON ("\xc3", "\"\\ufffd\"");                             //  truncated at the end
    CHECK_JSON ("\xe2\x82", "\"\\ufffd\\ufffd\"");                  //  truncated 3-byte
    CHECK_JSON ("\xc0\xaf", "\"\\ufffd\\ufffd\"");                  //  overlong lead
    CHECK_JSON ("\xe0\x80\xaf", "\"\\ufffd\\ufffd\\ufffd\"");       //  overlong 3-byte
    CHECK_JSON ("\xed\xa0\x80", "\"\\ufffd\\ufffd\\ufffd\"");       //  surrogate
    CHECK_JSON ("\xf4\x90\x80\x80", "\"\\ufffd\\ufffd\\ufffd\\ufffd\"");  //  above U+10FFFF
    CHECK_JSON ("\xf5", "\"\\ufffd\"");
    CHECK_JSON ("a\xc3(b", "\"a\\ufffd(b\"");                       //  bad continuation
}

static const gc_test_case_t cases[] = {{"escapes", test_escapes},
                                       {"utf8_passes", test_utf8_passes},
                                       {"invalid_utf8_replaced", test_invalid_utf8_replaced},
                                       {NULL, NULL}};

int
main (int argc, char **argv)
{
    return gc_test_run (argc, argv, cases);
}
