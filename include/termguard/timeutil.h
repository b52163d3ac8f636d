/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* Times are seconds since the epoch, UTC, in int64_t: past 2038 on every architecture. */

/* 9999-12-31T23:59:59Z, the last time four digits of year can write. Later times are
 * corruption, and would overflow timers counting microseconds. */
#define TG_TIME_MAX INT64_C(253402300799)
/* "YYYY-MM-DDTHH:MM:SSZ" and its NUL. */
#define TG_ISO8601_MAX 21

/* The wall clock now. */
int64_t tg_now(void);

/* Parses an ISO 8601 date-time with its zone: "2026-12-01T17:00:00Z" or "…+09:00"/"…-05:00",
 * exactly that shape (four-digit year, two digits for every other field, no spaces, nothing
 * after the zone). A time without a zone is refused: on a fleet it is ambiguous. Every field
 * must exist in the calendar (no 2026-02-29, no 24:00:00, no leap second), and the time must
 * lie between 1970-01-01T00:00:00Z and TG_TIME_MAX. Returns 0 or -EINVAL; ret is untouched
 * on failure. */
int tg_parse_iso8601(const char *s, int64_t *ret);

/* Formats t as "YYYY-MM-DDTHH:MM:SSZ" into buf (TG_ISO8601_MAX bytes suffice). A time the
 * calendar cannot format is written as its number of seconds. */
void tg_format_iso8601(int64_t t, char *buf, size_t size);

/* A duration: "30d", "12h", "45m" (or "45min"), "90s" or plain seconds; no sign, no spaces.
 * Returns 0, -EINVAL, or -ERANGE when it is too large; ret is untouched on failure. */
int tg_parse_duration(const char *s, int64_t *ret);
