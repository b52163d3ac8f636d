/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Audit reports fed hostile records: the first byte chooses the report, each line after it is
 * one record (fields split by \x01: the type, then keys and values), an hour apart, from two
 * hosts. Every format is written; none may hold a control character other than line ends, and
 * the CSV must start with its byte order mark. */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "termguard/report.h"

#define FIELDS_MAX 32
#define RECORDS_MAX 256

static void check(const tg_report *r, tg_report_format format, tg_report_lang lang) {
        char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);
        if (!f)
                return;
        if (tg_report_write(r, f, &(tg_report_output){.format = format, .lang = lang, .scope = "fuzz"}) < 0) {
                fclose(f);
                free(buf);
                return; /* out of memory */
        }
        fclose(f);
        for (size_t i = 0; i < len; i++) {
                unsigned char c = (unsigned char) buf[i];
                if ((c < 0x20 && c != '\n' && c != '\r') || c == 0x7f)
                        abort();
        }
        if (format == TG_REPORT_CSV && (len < 3 || memcmp(buf, "\xef\xbb\xbf", 3) != 0))
                abort();
        if (format == TG_REPORT_HTML && (strstr(buf, "<script") || strstr(buf, "<img")))
                abort();
        free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        static const char *const hosts[] = {"0b7e2c1a-1111-4c3d-9e8f-000000000001",
                                            "0b7e2c1a-2222-4c3d-9e8f-000000000002"};
        tg_report_period period;
        tg_report *r;
        char *text, *line, *save = NULL;
        size_t n = 0;

        if (size < 1 || tg_report_period_month("2026-04", &period) < 0)
                return 0;
        if (tg_report_new((tg_report_kind) (data[0] % _TG_REPORT_KIND_MAX), &period, &r) < 0)
                return 0;
        text = strndup((const char *) data + 1, size - 1);
        if (!text) {
                tg_report_free(r);
                return 0;
        }
        for (line = strtok_r(text, "\n", &save); line && n < RECORDS_MAX; line = strtok_r(NULL, "\n", &save), n++) {
                const char *keys[FIELDS_MAX], *values[FIELDS_MAX], *type;
                char *save2 = NULL, *k, *v;
                tg_report_record rec = {.host_id = hosts[n % 2],
                                        .department = n % 3 ? "総務課" : NULL,
                                        .boot_id = "b",
                                        .seq = n / 2 + 1,
                                        .time_usec = period.from_usec - INT64_C(3600000000) + (int64_t) n * 3600000000,
                                        .keys = keys,
                                        .values = values};
                type = strtok_r(line, "\x01", &save2);
                if (!type)
                        continue;
                rec.type = type;
                while (rec.n_fields < FIELDS_MAX && (k = strtok_r(NULL, "\x01", &save2)) &&
                       (v = strtok_r(NULL, "\x01", &save2))) {
                        keys[rec.n_fields] = k;
                        values[rec.n_fields++] = v;
                }
                if (tg_report_add_host(r, &(tg_report_host){.host_id = type, .detail = line}) < 0 &&
                    tg_report_add_record(r, &rec) < 0)
                        break;
        }
        free(text);
        if (tg_report_finish(r) == 0)
                for (int format = 0; format < _TG_REPORT_FORMAT_MAX; format++)
                        check(r, (tg_report_format) format, (tg_report_lang) (format % _TG_REPORT_LANG_MAX));
        tg_report_free(r);
        return 0;
}
