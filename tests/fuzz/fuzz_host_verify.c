/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Central verification of rows a database administrator may have written anything into: the
 * input is split at the first NUL into the stored fields column (JSON text) and the raw bytes
 * of the row; the rest of the row is taken from the raw record when it decodes, so that the
 * column comparison is reached. The verifier must finish, and never take such a row for intact
 * when its columns differ. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "termguard/host-verify.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        static const uint8_t host[TG_JOURNAL_ID_SIZE] = {0}, seed[TG_JOURNAL_SEED_SIZE] = {1};
        const uint8_t *nul = memchr(data, 0, size);
        size_t json_len = nul ? (size_t) (nul - data) : size;
        char *json = strndup((const char *) data, json_len);
        const uint8_t *raw = nul ? nul + 1 : data + size;
        size_t raw_len = nul ? size - json_len - 1 : 0;
        tg_host_verify_options o = {.host_id = host, .seed = seed, .now_usec = 1, .known_last_seq = 2};
        tg_host_verify *v = NULL;
        tg_journal_record *rec = NULL;
        tg_host_verify_result res;
        tg_host_row row = {.fields_json = json, .raw = raw, .raw_len = raw_len};

        if (!json || tg_host_verify_new(&o, &v) < 0 || tg_journal_record_new(&rec) < 0)
                abort();
        if (tg_journal_record_decode(raw, raw_len, rec) == 0) {
                row.seq = tg_journal_record_seq(rec);
                row.boot_id = tg_journal_record_boot_id(rec);
                row.time_usec = tg_journal_record_time(rec);
                row.clock = (int) tg_journal_record_clock(rec);
                row.priority = tg_journal_record_priority(rec);
                row.uid = tg_journal_record_uid(rec);
                row.pid = tg_journal_record_pid(rec);
                row.type = tg_journal_record_type(rec);
                row.comm = tg_journal_record_comm(rec);
                row.unit = tg_journal_record_unit(rec);
                row.prev_mac = tg_journal_record_prev_mac(rec);
                row.mac = tg_journal_record_mac(rec);
        }
        if (tg_host_verify_feed(v, &row, NULL) < 0)
                abort();
        tg_host_verify_conflict(v, 1);
        tg_host_verify_end(v, &res);
        /* a conflict was given: never intact */
        if (res.problems == 0 || !res.tampered)
                abort();
        tg_host_verify_free(v);
        tg_journal_record_free(rec);
        free(json);
        return 0;
}
