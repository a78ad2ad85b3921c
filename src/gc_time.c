/*  gc_time - clock, time parsing and formatting
    SPDX-License-Identifier: MPL-2.0

    Parsing serves external input (argv, env): every form is matched exactly, fields are range
    checked, arithmetic is checked for overflow, and anything left over is an error.
*/
#include "gc_time.h"

#include <assert.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define US_PER_S INT64_C (1000000)

int64_t
gc_time_now_us (void)
{
    struct timespec ts;
    int rc = clock_gettime (CLOCK_REALTIME, &ts);
    assert (rc == 0);
    (void) rc;
    return (int64_t) ts.tv_sec * US_PER_S + ts.tv_nsec / 1000;
}

//  Writes "cannot parse <what> '<text>': <why>" into err (which may be NULL); returns -1.
static int s_fail (char *err, size_t errlen, const char *what, const char *text, const char *fmt,
                   ...) __attribute__ ((format (printf, 5, 6)));

static int
s_fail (char *err, size_t errlen, const char *what, const char *text, const char *fmt, ...)
{
    if (err && errlen > 0) {
        char why[160];
        va_list args;
        va_start (args, fmt);
        vsnprintf (why, sizeof why, fmt, args);
        va_end (args);
        snprintf (err, errlen, "cannot parse %s '%s': %s", what, text, why);
    }
    return -1;
}

static bool
s_isdigit (char c)
{
    return c >= '0' && c <= '9';
}

//  Reads exactly n digits at *p into *out and advances *p. Returns false if they are not there.
static bool
s_fixed_digits (const char **p, int n, int *out)
{
    int value = 0;
    for (int i = 0; i < n; i++) {
        if (!s_isdigit ((*p)[i])) {
            return false;
        }
        value = value * 10 + ((*p)[i] - '0');
    }
    *p += n;
    *out = value;
    return true;
}

//  Reads one or more digits at *p as an unsigned value no larger than max. Returns 0, -1 when
//  there is no digit, -2 when the value exceeds max.
static int
s_uint (const char **p, int64_t max, int64_t *out)
{
    const char *s = *p;
    if (!s_isdigit (*s)) {
        return -1;
    }
    int64_t value = 0;
    for (; s_isdigit (*s); s++) {
        int digit = *s - '0';
        if (value > (max - digit) / 10) {
            return -2;
        }
        value = value * 10 + digit;
    }
    *p = s;
    *out = value;
    return 0;
}

//  Reads ".d{1,6}" at *p (the dot included) as microseconds. No dot leaves *p and gives 0.
//  Returns 0, or -1 with the reason in *why.
static int
s_fraction (const char **p, int64_t *out_us, const char **why)
{
    *out_us = 0;
    if (**p != '.') {
        return 0;
    }
    const char *s = *p + 1;
    int64_t value = 0;
    int digits = 0;
    for (; s_isdigit (*s); s++, digits++) {
        if (digits == 6) {
            *why = "at most 6 fractional digits are allowed";
            return -1;
        }
        value = value * 10 + (*s - '0');
    }
    if (digits == 0) {
        *why = "expected digits after '.'";
        return -1;
    }
    for (int i = digits; i < 6; i++) {
        value *= 10;
    }
    *p = s;
    *out_us = value;
    return 0;
}

static bool
s_leap_year (int year)
{
    return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
}

static int
s_days_in_month (int year, int month)
{
    static const int days[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    return month == 2 && s_leap_year (year) ? 29 : days[month - 1];
}

//  The unit of a duration at *p ("us", "ms", "s", "m", "h", "d", "w") in microseconds; advances
//  *p past it. Returns 0 when no unit is there (*p unchanged).
static int64_t
s_unit (const char **p)
{
    static const struct {
        const char *name;
        int64_t us;
    } units[] = { { "us", 1 },
                  { "ms", 1000 },
                  { "s", US_PER_S },
                  { "m", 60 * US_PER_S },
                  { "h", 3600 * US_PER_S },
                  { "d", 86400 * US_PER_S },
                  { "w", 7 * 86400 * US_PER_S } };
    //  Two-letter units come first so that "ms" is not read as "m" followed by garbage.
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
        size_t len = strlen (units[i].name);
        if (strncmp (*p, units[i].name, len) == 0) {
            *p += len;
            return units[i].us;
        }
    }
    return 0;
}

//  Parses "<positive integer><unit>" (unit optional unless unit_required) into microseconds.
static int
s_duration (const char *text, bool unit_required, const char *what, int64_t *out_us, char *err,
            size_t errlen)
{
    const char *p = text;
    int64_t value;
    int rc = s_uint (&p, INT64_MAX, &value);
    if (rc == -1) {
        return s_fail (err, errlen, what, text, "expected a positive integer and a unit "
                                                "(us, ms, s, m, h, d, w)");
    }
    if (rc == -2) {
        return s_fail (err, errlen, what, text, "number too large");
    }
    int64_t unit = s_unit (&p);
    if (unit == 0) {
        if (unit_required || *p != '\0') {
            return s_fail (err, errlen, what, text, "unknown unit '%s' (use us, ms, s, m, h, d, w)",
                           p);
        }
        unit = US_PER_S;
    }
    if (*p != '\0') {
        return s_fail (err, errlen, what, text, "unexpected '%s' after the unit", p);
    }
    if (value == 0) {
        return s_fail (err, errlen, what, text, "must be positive");
    }
    if (value > INT64_MAX / unit) {
        return s_fail (err, errlen, what, text, "duration too large");
    }
    *out_us = value * unit;
    return 0;
}

int
gc_time_parse_duration (const char *text, int64_t *out_us, char *err, size_t errlen)
{
    assert (text);
    assert (out_us);
    if (*text == '\0') {
        return s_fail (err, errlen, "duration", text, "empty");
    }
    return s_duration (text, false, "duration", out_us, err, errlen);
}

//  YYYY-MM-DD[(T|t| )HH:MM[:SS[.ffffff]][Z|z|(+|-)HH[[:]MM]]]
static int
s_parse_iso (const char *text, int64_t *out_us, char *err, size_t errlen)
{
    const char *p = text;
    int year, month, day, hour = 0, min = 0, sec = 0;
    int64_t frac_us = 0, offset_s = 0;
    if (!s_fixed_digits (&p, 4, &year) || *p++ != '-' || !s_fixed_digits (&p, 2, &month)
        || *p++ != '-' || !s_fixed_digits (&p, 2, &day)) {
        return s_fail (err, errlen, "time", text, "expected a date as YYYY-MM-DD");
    }
    if (month < 1 || month > 12) {
        return s_fail (err, errlen, "time", text, "month %02d out of range", month);
    }
    if (day < 1 || day > s_days_in_month (year, month)) {
        return s_fail (err, errlen, "time", text, "day %02d out of range for %04d-%02d", day,
                       year, month);
    }
    if (*p == 'T' || *p == 't' || *p == ' ') {
        p++;
        if (!s_fixed_digits (&p, 2, &hour) || *p++ != ':' || !s_fixed_digits (&p, 2, &min)) {
            return s_fail (err, errlen, "time", text, "expected a time of day as HH:MM[:SS]");
        }
        if (*p == ':') {
            p++;
            if (!s_fixed_digits (&p, 2, &sec)) {
                return s_fail (err, errlen, "time", text, "expected seconds as two digits");
            }
            const char *why = NULL;
            if (s_fraction (&p, &frac_us, &why) != 0) {
                return s_fail (err, errlen, "time", text, "%s", why);
            }
        }
        if (hour > 23 || min > 59 || sec > 59) {
            return s_fail (err, errlen, "time", text, "time of day %02d:%02d:%02d out of range",
                           hour, min, sec);
        }
        if (*p == 'Z' || *p == 'z') {
            p++;
        }
        else if (*p == '+' || *p == '-') {
            int sign = *p++ == '-' ? -1 : 1;
            int off_h, off_m = 0;
            if (!s_fixed_digits (&p, 2, &off_h)) {
                return s_fail (err, errlen, "time", text, "expected a zone offset as +HH:MM");
            }
            if (*p == ':') {
                p++;
                if (!s_fixed_digits (&p, 2, &off_m)) {
                    return s_fail (err, errlen, "time", text, "expected a zone offset as +HH:MM");
                }
            }
            else if (s_isdigit (*p) && !s_fixed_digits (&p, 2, &off_m)) {
                return s_fail (err, errlen, "time", text, "expected a zone offset as +HHMM");
            }
            if (off_h > 23 || off_m > 59) {
                return s_fail (err, errlen, "time", text, "zone offset out of range");
            }
            offset_s = sign * (off_h * 3600 + off_m * 60);
        }
    }
    if (*p != '\0') {
        return s_fail (err, errlen, "time", text, "unexpected '%s'", p);
    }
    struct tm tm = { 0 };
    tm.tm_year = year - 1900;
    tm.tm_mon = month - 1;
    tm.tm_mday = day;
    tm.tm_hour = hour;
    tm.tm_min = min;
    tm.tm_sec = sec;
    //  Every field is in range and years are 0000..9999, so timegm cannot fail or overflow here
    //  with a 64-bit time_t, and the microsecond value fits int64_t with room to spare.
    time_t t = timegm (&tm);
    *out_us = ((int64_t) t - offset_s) * US_PER_S + frac_us;
    return 0;
}

//  <seconds>[.ffffff]
static int
s_parse_epoch (const char *text, int64_t *out_us, char *err, size_t errlen)
{
    const char *p = text;
    int64_t secs, frac_us;
    if (s_uint (&p, INT64_MAX / US_PER_S - 1, &secs) != 0) {
        return s_fail (err, errlen, "time", text, "epoch seconds out of range");
    }
    const char *why = NULL;
    if (s_fraction (&p, &frac_us, &why) != 0) {
        return s_fail (err, errlen, "time", text, "%s", why);
    }
    if (*p != '\0') {
        return s_fail (err, errlen, "time", text, "unexpected '%s'", p);
    }
    *out_us = secs * US_PER_S + frac_us;
    return 0;
}

int
gc_time_parse (const char *text, int64_t now_us, int64_t *out_us, char *err, size_t errlen)
{
    assert (text);
    assert (out_us);
    if (*text == '\0') {
        return s_fail (err, errlen, "time", text, "empty");
    }
    size_t digits = strspn (text, "0123456789");
    if (digits == 4 && text[4] == '-') {
        return s_parse_iso (text, out_us, err, errlen);
    }
    if (digits > 0 && (text[digits] == '\0' || text[digits] == '.')) {
        return s_parse_epoch (text, out_us, err, errlen);
    }
    if (digits > 0) {
        int64_t ago_us;
        if (s_duration (text, true, "time", &ago_us, err, errlen) != 0) {
            return -1;
        }
        if (now_us < INT64_MIN + ago_us) {
            return s_fail (err, errlen, "time", text, "too far in the past");
        }
        *out_us = now_us - ago_us;
        return 0;
    }
    return s_fail (err, errlen, "time", text,
                   "expected ISO-8601 (2026-11-25T10:00:00Z), epoch seconds or a relative time "
                   "(90s, 10m, 2h, 1d, 1w)");
}

//  Splits ts_us into whole seconds and microseconds, rounding towards minus infinity so that
//  times before 1970 format correctly.
static void
s_split (int64_t ts_us, time_t *secs, int *micros)
{
    int64_t s = ts_us / US_PER_S;
    int64_t us = ts_us % US_PER_S;
    if (us < 0) {
        us += US_PER_S;
        s -= 1;
    }
    *secs = (time_t) s;
    *micros = (int) us;
}

//  Fields of a broken-down time, narrowed so that the compiler can see every formatted string
//  fits its buffer: an int64_t microsecond time lies within years -290308..294247, so the year
//  takes at most 7 characters; the other fields take 2 (they are already in range, the modulo
//  only tells the compiler so).
typedef struct {
    char year[16];     //  "%04d" of the year
    unsigned mon;      //  1..12
    unsigned mday;     //  1..31
    unsigned hour;     //  0..23
    unsigned min;      //  0..59
    unsigned sec;      //  0..60
} s_fields_t;

static void
s_fields (const struct tm *tm, s_fields_t *f)
{
    snprintf (f->year, sizeof f->year, "%04d", tm->tm_year + 1900);
    f->mon = (unsigned) (tm->tm_mon + 1) % 100u;
    f->mday = (unsigned) tm->tm_mday % 100u;
    f->hour = (unsigned) tm->tm_hour % 100u;
    f->min = (unsigned) tm->tm_min % 100u;
    f->sec = (unsigned) tm->tm_sec % 100u;
}

char *
gc_time_format_iso (int64_t ts_us, char *buf)
{
    assert (buf);
    time_t secs;
    int micros;
    s_split (ts_us, &secs, &micros);
    struct tm tm;
    if (!gmtime_r (&secs, &tm)) {
        snprintf (buf, GC_TIME_ISO_SIZE, "invalid");
        return buf;
    }
    s_fields_t f;
    s_fields (&tm, &f);
    snprintf (buf, GC_TIME_ISO_SIZE, "%.7s-%02u-%02uT%02u:%02u:%02u.%06uZ", f.year, f.mon,
              f.mday, f.hour, f.min, f.sec, (unsigned) micros % 1000000u);
    return buf;
}

char *
gc_time_format_local (int64_t ts_us, int64_t now_us, char *buf)
{
    assert (buf);
    time_t secs, now_secs;
    int micros;
    s_split (ts_us, &secs, &micros);
    s_split (now_us, &now_secs, &micros);
    struct tm tm, now_tm;
    if (!localtime_r (&secs, &tm) || !localtime_r (&now_secs, &now_tm)) {
        snprintf (buf, GC_TIME_LOCAL_SIZE, "invalid");
        return buf;
    }
    s_fields_t f;
    s_fields (&tm, &f);
    if (tm.tm_year == now_tm.tm_year && tm.tm_yday == now_tm.tm_yday) {
        snprintf (buf, GC_TIME_LOCAL_SIZE, "%02u:%02u:%02u", f.hour, f.min, f.sec);
    }
    else {
        snprintf (buf, GC_TIME_LOCAL_SIZE, "%.7s-%02u-%02u %02u:%02u:%02u", f.year, f.mon, f.mday,
                  f.hour, f.min, f.sec);
    }
    return buf;
}
