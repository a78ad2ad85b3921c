/*  gc_time - clock, time parsing and formatting
    SPDX-License-Identifier: MPL-2.0
*/
#ifndef GC_TIME_H_INCLUDED
#define GC_TIME_H_INCLUDED

#include <stddef.h>
#include <stdint.h>

//  The wall clock, UTC microseconds since the Unix epoch.
int64_t gc_time_now_us (void);

//  Parses a point in time into UTC microseconds:
//    ISO-8601   2026-11-25T10:00:00Z, 2026-11-25T10:00:00.250Z, 2026-11-25T10:00:00+01:00,
//               2026-11-25 (midnight UTC); a time without zone is UTC
//    epoch      1795600800 or 1795600800.5 (seconds)
//    relative   90s, 10m, 2h, 1d, 1w (that long before now_us)
//  Returns 0, or -1 with the reason in err (never truncated silently: the input is rejected).
int gc_time_parse (const char *text, int64_t now_us, int64_t *out_us, char *err, size_t errlen);

//  Parses a duration: a positive integer followed by us, ms, s, m, h, d or w (seconds when no
//  unit). Returns 0, or -1 with the reason in err.
int gc_time_parse_duration (const char *text, int64_t *out_us, char *err, size_t errlen);

//  Formats ts_us as ISO-8601 UTC with microseconds: 2026-11-25T10:00:00.000000Z. buf must hold
//  at least GC_TIME_ISO_SIZE bytes. Returns buf.
#define GC_TIME_ISO_SIZE 32
char *gc_time_format_iso (int64_t ts_us, char *buf);

//  Formats ts_us as local time for people: "HH:MM:SS" today, "YYYY-MM-DD HH:MM:SS" otherwise.
//  buf must hold at least GC_TIME_LOCAL_SIZE bytes. Returns buf.
#define GC_TIME_LOCAL_SIZE 32
char *gc_time_format_local (int64_t ts_us, int64_t now_us, char *buf);

#endif
