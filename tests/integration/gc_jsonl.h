/*  gc_jsonl - reading the client's --json lines in integration tests (header-only)
    SPDX-License-Identifier: MPL-2.0

    The client prints one flat JSON object per line; tests need a few fields of each. These
    helpers find `"key":` in one line and read the number or string after it.
*/
#ifndef GC_JSONL_H_INCLUDED
#define GC_JSONL_H_INCLUDED

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

//  The unsigned number after "key": in line (up to the end of that line), or -1 if absent.
static inline long long
gc_jsonl_num (const char *line, const char *key)
{
    char pattern[64];
    snprintf (pattern, sizeof pattern, "\"%s\":", key);
    const char *end = strchr (line, '\n');
    const char *at = strstr (line, pattern);
    if (!at || (end && at > end)) {
        return -1;
    }
    return strtoll (at + strlen (pattern), NULL, 10);
}

//  Copies the (unescaped only for \" and \\) string after "key": into buf; false if absent.
static inline bool
gc_jsonl_str (const char *line, const char *key, char *buf, size_t buflen)
{
    char pattern[64];
    snprintf (pattern, sizeof pattern, "\"%s\":\"", key);
    const char *end = strchr (line, '\n');
    const char *at = strstr (line, pattern);
    if (!at || (end && at > end) || buflen == 0) {
        return false;
    }
    const char *p = at + strlen (pattern);
    size_t n = 0;
    while (*p && *p != '"' && n + 1 < buflen) {
        if (*p == '\\' && p[1]) {
            p++;
        }
        buf[n++] = *p++;
    }
    buf[n] = '\0';
    return true;
}

//  Calls fn for each line of text; stops early when fn returns false.
static inline void
gc_jsonl_each (const char *text, bool (*fn) (void *arg, const char *line), void *arg)
{
    const char *line = text;
    while (line && *line) {
        if (!fn (arg, line)) {
            return;
        }
        const char *next = strchr (line, '\n');
        line = next ? next + 1 : NULL;
    }
}

//  Counts the lines of text.
static inline int
gc_jsonl_count (const char *text)
{
    int count = 0;
    for (const char *p = text; p && *p; p++) {
        if (*p == '\n') {
            count++;
        }
    }
    return count;
}

#endif
