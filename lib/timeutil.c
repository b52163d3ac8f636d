/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Wall-clock time, ISO 8601 date-times and durations, for every program of termguard. */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "termguard/timeutil.h"

int64_t tg_now(void) {
        return (int64_t) time(NULL);
}

/* Exactly n decimal digits at s, as a number; -1 if any of them is not a digit. */
static int digits(const char *s, size_t n) {
        int v = 0;
        for (size_t i = 0; i < n; i++) {
                if (s[i] < '0' || s[i] > '9')
                        return -1;
                v = v * 10 + (s[i] - '0');
        }
        return v;
}

static bool is_leap(int y) {
        return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(int y, int m) {
        static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
        return m == 2 && is_leap(y) ? 29 : days[m - 1];
}

/* Days from 1970-01-01 to y-m-d of the proleptic Gregorian calendar (Howard Hinnant's
 * days_from_civil): no time zone, no libc limits on time_t. */
static int64_t days_from_civil(int y, int m, int d) {
        y -= m <= 2;
        int64_t era = (y >= 0 ? y : y - 399) / 400;
        int64_t yoe = y - era * 400;
        int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
        int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        return era * 146097 + doe - 719468;
}

int tg_parse_iso8601(const char *s, int64_t *ret) {
        int y, mo, d, h, mi, sec, off = 0;

        if (!s || strnlen(s, 26) < 20)
                return -EINVAL;
        /* YYYY-MM-DDTHH:MM:SS */
        if (s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':')
                return -EINVAL;
        y = digits(s, 4);
        mo = digits(s + 5, 2);
        d = digits(s + 8, 2);
        h = digits(s + 11, 2);
        mi = digits(s + 14, 2);
        sec = digits(s + 17, 2);
        if (y < 0 || mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) || h < 0 || h > 23 || mi < 0 || mi > 59 ||
            sec < 0 || sec > 59)
                return -EINVAL;
        const char *z = s + 19;
        if (strcmp(z, "Z") != 0) {
                int oh, om;
                if ((z[0] != '+' && z[0] != '-') || strlen(z) != 6 || z[3] != ':')
                        return -EINVAL;
                oh = digits(z + 1, 2);
                om = digits(z + 4, 2);
                if (oh < 0 || oh > 23 || om < 0 || om > 59)
                        return -EINVAL;
                off = (oh * 3600 + om * 60) * (z[0] == '-' ? -1 : 1);
        }
        int64_t t = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec - off;
        if (t < 0 || t > TG_TIME_MAX)
                return -EINVAL;
        *ret = t;
        return 0;
}

void tg_format_iso8601(int64_t t, char *buf, size_t size) {
        struct tm tm;
        time_t tt = (time_t) t;
        if ((int64_t) tt != t || !gmtime_r(&tt, &tm) || strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
                snprintf(buf, size, "%" PRId64, t);
}

int tg_parse_duration(const char *s, int64_t *ret) {
        char *end;
        long long v;
        int64_t mult = 1;

        if (!s || *s < '0' || *s > '9')
                return -EINVAL;
        errno = 0;
        v = strtoll(s, &end, 10);
        if (errno || end == s)
                return -EINVAL;
        if (*end == '\0' || strcmp(end, "s") == 0)
                mult = 1;
        else if (strcmp(end, "m") == 0 || strcmp(end, "min") == 0)
                mult = 60;
        else if (strcmp(end, "h") == 0)
                mult = 3600;
        else if (strcmp(end, "d") == 0)
                mult = 86400;
        else
                return -EINVAL;
        if (v > INT64_MAX / mult / 2)
                return -ERANGE;
        *ret = (int64_t) v * mult;
        return 0;
}
