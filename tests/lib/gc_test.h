/*  gc_test - CHECK macros and a table of named cases for groupcast's tests
    SPDX-License-Identifier: MPL-2.0

    The macros print the failing expression with file and line and still work when NDEBUG is
    defined. A failed CHECK ends the current case (return) and marks the run failed.

        static void test_parse (void) { CHECK (gc_time_parse ("1d", 0, &t, err, sizeof err) == 0); }
        static const gc_test_case_t cases[] = { { "parse", test_parse }, { NULL, NULL } };
        int main (int argc, char **argv) { return gc_test_run (argc, argv, cases); }
*/
#ifndef GC_TEST_H_INCLUDED
#define GC_TEST_H_INCLUDED

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    const char *name;       //  case name, printed and selectable on the command line
    void (*fn) (void);      //  the case
} gc_test_case_t;

//  Set by the CHECK macros when a check fails; read by gc_test_run.
extern int gc_test_failed;

#define CHECK(expr)                                                                            \
    do {                                                                                       \
        if (!(expr)) {                                                                         \
            fprintf (stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #expr);          \
            gc_test_failed = 1;                                                                \
            return;                                                                            \
        }                                                                                      \
    } while (0)

#define CHECK_INT_EQ(a, b)                                                                     \
    do {                                                                                       \
        long long gc_a_ = (long long) (a), gc_b_ = (long long) (b);                            \
        if (gc_a_ != gc_b_) {                                                                  \
            fprintf (stderr, "%s:%d: CHECK failed: %s == %s (%lld != %lld)\n", __FILE__,       \
                     __LINE__, #a, #b, gc_a_, gc_b_);                                          \
            gc_test_failed = 1;                                                                \
            return;                                                                            \
        }                                                                                      \
    } while (0)

#define CHECK_STR_EQ(a, b)                                                                     \
    do {                                                                                       \
        const char *gc_a_ = (a), *gc_b_ = (b);                                                 \
        if (!gc_a_ || !gc_b_ || strcmp (gc_a_, gc_b_) != 0) {                                  \
            fprintf (stderr, "%s:%d: CHECK failed: %s == %s (\"%s\" != \"%s\")\n", __FILE__,   \
                     __LINE__, #a, #b, gc_a_ ? gc_a_ : "(null)", gc_b_ ? gc_b_ : "(null)");    \
            gc_test_failed = 1;                                                                \
            return;                                                                            \
        }                                                                                      \
    } while (0)

#define CHECK_CONTAINS(haystack, needle)                                                       \
    do {                                                                                       \
        const char *gc_h_ = (haystack), *gc_n_ = (needle);                                     \
        if (!gc_h_ || !strstr (gc_h_, gc_n_)) {                                                \
            fprintf (stderr, "%s:%d: CHECK failed: \"%s\" in %s:\n%s\n", __FILE__, __LINE__,   \
                     gc_n_, #haystack, gc_h_ ? gc_h_ : "(null)");                              \
            gc_test_failed = 1;                                                                \
            return;                                                                            \
        }                                                                                      \
    } while (0)

//  Runs every case (or only those named in argv), printing "ok NAME" / "FAIL NAME" and a closing
//  "N passed, N failed" line. Returns the process exit status: 0 if all passed.
int gc_test_run (int argc, char **argv, const gc_test_case_t *cases);

#endif
