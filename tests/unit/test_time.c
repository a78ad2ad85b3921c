/*  test_time - gc_time: parsing points in time and durations, formatting
    SPDX-License-Identifier: MPL-2.0
*/
#include "gc_test.h"
#include "gc_time.h"

#include <time.h>

#define S INT64_C (1000000)

//  2026-11-25T10:00:00Z, checked against `date -u -d 2026-11-25T10:00:00Z +%s`
#define T2026 (INT64_C (1795600800) * S)

typedef struct {
    const char *text;  //  input
    int64_t want_us;   //  expected result
} good_t;

typedef struct {
    const char *text;  //  input
    const char *why;   //  a fragment the error must contain
} bad_t;

//  Absolute times; now_us is irrelevant to them.
static const good_t s_good_absolute[] = {
    { "2026-11-25T10:00:00Z", T2026 },
    { "2026-11-25T10:00:00z", T2026 },
    { "2026-11-25t10:00:00Z", T2026 },
    { "2026-11-25 10:00:00Z", T2026 },
    { "2026-11-25T10:00:00", T2026 },   //  no zone: UTC
    { "2026-11-25T10:00", T2026 },      //  no seconds
    { "2026-11-25T10:00Z", T2026 },
    { "2026-11-25", INT64_C (1795564800) * S },
    { "2026-11-25T10:00:00.250Z", T2026 + 250000 },
    { "2026-11-25T10:00:00.1Z", T2026 + 100000 },
    { "2026-11-25T10:00:00.000001Z", T2026 + 1 },
    { "2026-11-25T10:00:00.123456", T2026 + 123456 },
    { "2026-11-25T10:00:00.999999+00:00", T2026 + 999999 },
    { "2026-11-25T10:00:00+01:00", T2026 - 3600 * S },
    { "2026-11-25T10:00:00+0100", T2026 - 3600 * S },
    { "2026-11-25T10:00:00+01", T2026 - 3600 * S },
    { "2026-11-25T10:00:00-05:30", T2026 + 5 * 3600 * S + 30 * 60 * S },
    { "2026-11-25T10:00:00-0530", T2026 + 5 * 3600 * S + 30 * 60 * S },
    { "2026-11-25T10:00:00.5-00:01", T2026 + 60 * S + 500000 },
    { "2026-11-25T00:30:00+01:00", INT64_C (1795564800) * S - 30 * 60 * S },  //  previous day
    { "2026-11-25T23:59:59-23:59",
      T2026 + (13 * 3600 + 59 * 60 + 59) * S + (23 * 3600 + 59 * 60) * S },
    //  leap days
    { "2024-02-29", INT64_C (1709164800) * S },
    { "2000-02-29T23:59:59Z", INT64_C (951868799) * S },
    //  edges of the range and of the epoch
    { "1970-01-01T00:00:00Z", 0 },
    { "1969-12-31T23:59:59.999999Z", -1 },
    { "1900-03-01", INT64_C (-2203891200) * S },
    { "0001-01-01", INT64_C (-62135596800) * S },
    { "9999-12-31T23:59:59.999999Z", INT64_C (253402300799) * S + 999999 },
    //  epoch seconds
    { "1795600800", T2026 },
    { "1795600800.5", T2026 + 500000 },
    { "1795600800.000001", T2026 + 1 },
    { "0", 0 },
    { "0.25", 250000 },
    { "00001", S },
    { "9223372036853.999999", INT64_C (9223372036853999999) },
};

static const bad_t s_bad_absolute[] = {
    { "", "empty" },
    { "yesterday", "expected ISO-8601" },
    { " 2026-11-25", "expected ISO-8601" },
    { "2026-11-25 ", "expected a time of day" },
    { "2026-11-25T", "expected a time of day" },
    { "2026-11-25T10", "expected a time of day" },
    { "2026-11-25T10:", "expected a time of day" },
    { "2026-11-25T10:0", "expected a time of day" },
    { "2026-11-25T10:00:", "expected seconds" },
    { "2026-11-25T10:00:0", "expected seconds" },
    { "2026-11-25T10:00:00.", "expected digits after '.'" },
    { "2026-11-25T10:00:00.1234567Z", "at most 6 fractional digits" },
    { "2026-11-25T10:00:00Zjunk", "unexpected 'junk'" },
    { "2026-11-25T10:00:00Z ", "unexpected ' '" },
    { "2026-11-25T10:00:00+1", "zone offset" },
    { "2026-11-25T10:00:00+01:0", "zone offset" },
    { "2026-11-25T10:00:00+010", "zone offset" },
    { "2026-11-25T10:00:00+01:00:00", "unexpected ':00'" },
    { "2026-11-25T10:00:00+24:00", "zone offset out of range" },
    { "2026-11-25T10:00:00+01:60", "zone offset out of range" },
    { "2026-11-25T10:00:00 +01:00", "unexpected ' +01:00'" },
    { "2026-11-25Z", "unexpected 'Z'" },
    { "2026-11-25x", "unexpected 'x'" },
    { "2026-11", "expected a date" },
    { "2026-1-25", "expected a date" },
    { "2026-11-5", "expected a date" },
    { "26-11-25", "unknown unit" },
    { "+2026-11-25", "expected ISO-8601" },
    { "2026/11/25", "unknown unit" },
    { "2026-00-10", "month 00 out of range" },
    { "2026-13-10", "month 13 out of range" },
    { "2026-11-00", "day 00 out of range" },
    { "2026-11-31", "day 31 out of range" },
    { "2026-01-32", "day 32 out of range" },
    { "2023-02-29", "day 29 out of range" },  //  not a leap year
    { "1900-02-29", "day 29 out of range" },  //  divisible by 100, not by 400
    { "2026-11-25T24:00:00Z", "out of range" },
    { "2026-11-25T10:60:00Z", "out of range" },
    { "2026-11-25T10:00:60Z", "out of range" },  //  no leap seconds
    { "1795600800x", "unknown unit 'x'" },
    { "1795600800.", "expected digits after '.'" },
    { "1795600800.1234567", "at most 6 fractional digits" },
    { "1795600800.5.5", "unexpected '.5'" },
    { "-1", "expected ISO-8601" },
    { "+1", "expected ISO-8601" },
    { "0x10", "unknown unit" },
    { "1e9", "unknown unit" },
    { "9223372036854", "out of range" },  //  INT64_MAX microseconds is 9223372036854.775807 s
    { "99999999999999999999999", "out of range" },
    { "2026-11-25T10:00:00\n", "unexpected" },
};

static void
test_parse_absolute (void)
{
    char err[256];
    for (size_t i = 0; i < sizeof s_good_absolute / sizeof s_good_absolute[0]; i++) {
        const good_t *c = &s_good_absolute[i];
        int64_t got = 42;
        err[0] = '\0';
        int rc = gc_time_parse (c->text, INT64_C (123) * S, &got, err, sizeof err);
        if (rc != 0 || got != c->want_us) {
            fprintf (stderr, "input '%s': rc %d err '%s' got %" PRId64 " want %" PRId64 "\n",
                     c->text, rc, err, got, c->want_us);
        }
        CHECK_INT_EQ (rc, 0);
        CHECK_INT_EQ (got, c->want_us);
    }
}

static void
test_reject_garbage (void)
{
    char err[256];
    for (size_t i = 0; i < sizeof s_bad_absolute / sizeof s_bad_absolute[0]; i++) {
        const bad_t *c = &s_bad_absolute[i];
        int64_t got = 42;
        err[0] = '\0';
        int rc = gc_time_parse (c->text, INT64_C (1000) * S, &got, err, sizeof err);
        if (rc != -1 || !strstr (err, c->why)) {
            fprintf (stderr, "input '%s': rc %d err '%s' want '%s'\n", c->text, rc, err, c->why);
        }
        CHECK_INT_EQ (rc, -1);
        CHECK_INT_EQ (got, 42);  //  output untouched on failure
        CHECK_CONTAINS (err, "cannot parse time '");
        CHECK_CONTAINS (err, c->why);
    }
}

static void
test_parse_relative (void)
{
    const int64_t now = T2026 + 123456;
    static const good_t cases[] = {
        { "90s", 90 * S },
        { "10m", 600 * S },
        { "2h", 7200 * S },
        { "1d", 86400 * S },
        { "1w", 7 * 86400 * S },
        { "500ms", 500000 },
        { "7us", 7 },
        { "007s", 7 * S },
    };
    char err[256];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int64_t got = 0;
        CHECK_INT_EQ (gc_time_parse (cases[i].text, now, &got, err, sizeof err), 0);
        CHECK_INT_EQ (got, now - cases[i].want_us);
    }
    static const bad_t bad[] = {
        { "0s", "must be positive" },
        { "90x", "unknown unit 'x'" },
        { "90sec", "unexpected 'ec'" },
        { "90 s", "unknown unit ' s'" },
        { "90S", "unknown unit 'S'" },
        { "1.5h", "unexpected 'h'" },
        { "9223372036854775807w", "too large" },
        { "99999999999999999999s", "too large" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int64_t got = 42;
        CHECK_INT_EQ (gc_time_parse (bad[i].text, now, &got, err, sizeof err), -1);
        CHECK_INT_EQ (got, 42);
        CHECK_CONTAINS (err, bad[i].why);
    }
    //  Subtracting from a "now" near the bottom of the range must not wrap around.
    int64_t got = 42;
    CHECK_INT_EQ (gc_time_parse ("2us", INT64_MIN + 1, &got, err, sizeof err), -1);
    CHECK_CONTAINS (err, "too far in the past");
    CHECK_INT_EQ (gc_time_parse ("1us", INT64_MIN + 1, &got, err, sizeof err), 0);
    CHECK_INT_EQ (got, INT64_MIN);
}

static void
test_parse_duration (void)
{
    static const good_t good[] = {
        { "5", 5 * S },            //  no unit: seconds
        { "1us", 1 },
        { "250ms", 250000 },
        { "30s", 30 * S },
        { "5m", 300 * S },
        { "3h", 3 * 3600 * S },
        { "2d", 2 * 86400 * S },
        { "3w", 3 * 7 * 86400 * S },
        { "9223372036854775807us", INT64_MAX },
        { "9223372036854s", INT64_C (9223372036854) * S },
    };
    char err[256];
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        int64_t got = 0;
        int rc = gc_time_parse_duration (good[i].text, &got, err, sizeof err);
        if (rc != 0) {
            fprintf (stderr, "input '%s': %s\n", good[i].text, err);
        }
        CHECK_INT_EQ (rc, 0);
        CHECK_INT_EQ (got, good[i].want_us);
    }
    static const bad_t bad[] = {
        { "", "empty" },
        { "0", "must be positive" },
        { "0ms", "must be positive" },
        { "-1s", "expected a positive integer" },
        { "+1s", "expected a positive integer" },
        { "s", "expected a positive integer" },
        { " 5s", "expected a positive integer" },
        { "5s ", "unexpected ' '" },
        { "5 s", "unknown unit ' s'" },
        { "5sec", "unexpected 'ec'" },
        { "5y", "unknown unit 'y'" },
        { "1.5s", "unknown unit '.5s'" },
        { "5msx", "unexpected 'x'" },
        { "9223372036854775808us", "number too large" },
        { "9223372036855s", "duration too large" },
        { "9223372036854775807w", "duration too large" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int64_t got = 42;
        err[0] = '\0';
        int rc = gc_time_parse_duration (bad[i].text, &got, err, sizeof err);
        if (rc != -1 || !strstr (err, bad[i].why)) {
            fprintf (stderr, "input '%s': rc %d err '%s' want '%s'\n", bad[i].text, rc, err,
                     bad[i].why);
        }
        CHECK_INT_EQ (rc, -1);
        CHECK_INT_EQ (got, 42);
        CHECK_CONTAINS (err, "cannot parse duration '");
        CHECK_CONTAINS (err, bad[i].why);
    }
}

//  err may be NULL or tiny: the result is still right and nothing overflows.
static void
test_err_buffer (void)
{
    int64_t got = 0;
    CHECK_INT_EQ (gc_time_parse ("nonsense", 0, &got, NULL, 0), -1);
    CHECK_INT_EQ (gc_time_parse_duration ("nonsense", &got, NULL, 0), -1);
    char tiny[8];
    CHECK_INT_EQ (gc_time_parse ("nonsense", 0, &got, tiny, sizeof tiny), -1);
    CHECK_INT_EQ (strlen (tiny), sizeof tiny - 1);
    CHECK_INT_EQ (gc_time_parse ("1970-01-01", 5, &got, NULL, 0), 0);
    CHECK_INT_EQ (got, 0);
}

static void
test_format_iso (void)
{
    char buf[GC_TIME_ISO_SIZE];
    CHECK_STR_EQ (gc_time_format_iso (0, buf), "1970-01-01T00:00:00.000000Z");
    CHECK_STR_EQ (gc_time_format_iso (-1, buf), "1969-12-31T23:59:59.999999Z");
    CHECK_STR_EQ (gc_time_format_iso (T2026 + 250000, buf), "2026-11-25T10:00:00.250000Z");
    CHECK_STR_EQ (gc_time_format_iso (INT64_C (951868799) * S + 1, buf),
                  "2000-02-29T23:59:59.000001Z");
    CHECK_STR_EQ (gc_time_format_iso (INT64_C (-62135596800) * S, buf),
                  "0001-01-01T00:00:00.000000Z");
    //  The extremes of int64_t fit the buffer (years beyond 9999 are not ISO, but not a crash).
    CHECK (strlen (gc_time_format_iso (INT64_MAX, buf)) < GC_TIME_ISO_SIZE);
    CHECK_STR_EQ (buf, "294247-01-10T04:00:54.775807Z");
    CHECK (strlen (gc_time_format_iso (INT64_MIN, buf)) < GC_TIME_ISO_SIZE);
    CHECK_STR_EQ (buf, "-290308-12-21T19:59:05.224192Z");
}

//  What format_iso writes, parse reads back to the same microsecond.
static void
test_roundtrip (void)
{
    static const int64_t values[] = { 0,
                                      1,
                                      -1,
                                      T2026,
                                      T2026 + 999999,
                                      INT64_C (1709164800) * S + 86399 * S + 123,
                                      INT64_C (-62135596800) * S,
                                      INT64_C (253402300799) * S + 999999 };
    char buf[GC_TIME_ISO_SIZE];
    char err[256];
    for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
        int64_t got = 42;
        gc_time_format_iso (values[i], buf);
        int rc = gc_time_parse (buf, 0, &got, err, sizeof err);
        if (rc != 0) {
            fprintf (stderr, "'%s': %s\n", buf, err);
        }
        CHECK_INT_EQ (rc, 0);
        CHECK_INT_EQ (got, values[i]);
    }
}

static void
test_format_local (void)
{
    char *saved = getenv ("TZ") ? strdup (getenv ("TZ")) : NULL;
    char buf[GC_TIME_LOCAL_SIZE];
    int ok = 0;

    //  A POSIX TZ string needs no tzdata: UTC+5:30 all year.
    setenv ("TZ", "IST-5:30", 1);
    tzset ();
    //  20:00Z on the 25th is 01:30 on the 26th there, the same local day as 00:00Z on the 26th.
    int64_t ts = T2026 + 10 * 3600 * S;
    int64_t now = T2026 + 14 * 3600 * S;
    if (strcmp (gc_time_format_local (ts, now, buf), "01:30:00") != 0) {
        fprintf (stderr, "same local day: got '%s'\n", buf);
        goto cleanup;
    }
    //  A day earlier in local time: the date is shown.
    if (strcmp (gc_time_format_local (T2026, now, buf), "2026-11-25 15:30:00") != 0) {
        fprintf (stderr, "other day: got '%s'\n", buf);
        goto cleanup;
    }
    setenv ("TZ", "UTC0", 1);
    tzset ();
    //  In UTC the same two instants fall on different days.
    if (strcmp (gc_time_format_local (ts, now, buf), "2026-11-25 20:00:00") != 0) {
        fprintf (stderr, "UTC other day: got '%s'\n", buf);
        goto cleanup;
    }
    if (strcmp (gc_time_format_local (-1, 0, buf), "1969-12-31 23:59:59") != 0) {
        fprintf (stderr, "before epoch: got '%s'\n", buf);
        goto cleanup;
    }
    if (strcmp (gc_time_format_local (T2026 + 1, T2026 + 3600 * S, buf), "10:00:00") != 0) {
        fprintf (stderr, "UTC same day: got '%s'\n", buf);
        goto cleanup;
    }
    ok = 1;

cleanup:
    if (saved) {
        setenv ("TZ", saved, 1);
        free (saved);
    }
    else {
        unsetenv ("TZ");
    }
    tzset ();
    CHECK (ok);
}

static void
test_now (void)
{
    int64_t before = (int64_t) time (NULL) * S;
    int64_t now = gc_time_now_us ();
    int64_t after = ((int64_t) time (NULL) + 1) * S;
    CHECK (now >= before);
    CHECK (now <= after);
}

static const gc_test_case_t s_cases[] = {
    { "parse_absolute", test_parse_absolute },
    { "reject_garbage", test_reject_garbage },
    { "parse_relative", test_parse_relative },
    { "parse_duration", test_parse_duration },
    { "err_buffer", test_err_buffer },
    { "format_iso", test_format_iso },
    { "roundtrip", test_roundtrip },
    { "format_local", test_format_local },
    { "now", test_now },
    { NULL, NULL },
};

int
main (int argc, char **argv)
{
    return gc_test_run (argc, argv, s_cases);
}
