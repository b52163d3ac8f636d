/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A journal segment file, as a root who tampers with it or a crash leaves it: decoded record
 * by record (what decodes is encoded again and must give the same bytes), then read through
 * the reader and checked by verify, with and without a key, and every string escaped as the
 * CLI shows it. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz-file.h"
#include "journal-format.h"
#include "termguard/escape.h"
#include "termguard/journal.h"

static tg_journal_record rec;
static uint8_t again[TG_JOURNAL_RECORD_MAX];

int LLVMFuzzerInitialize(int *argc, char ***argv) {
        (void) argc, (void) argv;
        fuzz_dir_create("seg-0000000000000001.tgj");
        return 0;
}

static void reencode(const uint8_t *raw) {
        tg_journal_field f[TG_JOURNAL_FIELDS_MAX];
        uint8_t key[TG_JOURNAL_MAC_SIZE] = {0}, mac[TG_JOURNAL_MAC_SIZE];
        tg_journal_entry e = {.type = rec.type,
                              .priority = rec.priority,
                              .uid = rec.uid,
                              .pid = (pid_t) rec.pid,
                              .comm = rec.comm,
                              .unit = rec.unit,
                              .fields = f,
                              .n_fields = rec.n_fields};
        record_header h = {.seq = rec.seq,
                           .host_id = rec.host_id,
                           .boot_id = rec.boot_id,
                           .time_usec = rec.time_usec,
                           .clock = rec.clock,
                           .prev_mac = rec.prev_mac};
        for (size_t i = 0; i < rec.n_fields; i++)
                f[i] = (tg_journal_field){rec.keys[i], rec.values[i]};
        ssize_t size = journal_record_encode(&e, &h, key, again, mac);
        if (size != (ssize_t) rec.size || memcmp(again, raw, rec.mac_offset - TG_JOURNAL_MAC_SIZE) != 0)
                abort();
}

static void show(const char *s) {
        char buf[4 * TG_JOURNAL_VALUE_MAX + 8];
        tg_escape(s, strlen(s), TG_JOURNAL_VALUE_MAX, buf, sizeof(buf));
        if (!tg_text_is_escaped(buf, strlen(buf)))
                abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        static const uint8_t seed[TG_JOURNAL_SEED_SIZE] = {1};
        tg_journal_verify_options o = {0};
        tg_journal_verify_result res;
        tg_journal_reader *r;
        const tg_journal_record *p;

        tg_journal_chain *c = NULL;

        /* the records one by one, as the central store hands them to its verification */
        o.seed = seed;
        if (tg_journal_chain_new(&o, &c) < 0)
                abort();
        for (size_t off = SEGMENT_HEADER_SIZE; off < size;) {
                ssize_t k = journal_record_decode(data + off, size - off, &rec);
                size_t len = k > 0 ? (size_t) k : size - off;
                if (len > TG_JOURNAL_RECORD_MAX)
                        len = TG_JOURNAL_RECORD_MAX;
                if (tg_journal_chain_feed(c, data + off, len, NULL) < 0)
                        abort();
                if (k <= 0)
                        break;
                reencode(data + off);
                off += (size_t) k;
        }
        tg_journal_chain_end(c, &res);
        tg_journal_chain_free(c);
        o.seed = NULL;

        fuzz_file_write(data, size, 0600);
        if (tg_journal_reader_open(fuzz_dir, &r) == 0) {
                int k;
                while ((k = tg_journal_reader_next(r, &p)) != 0) {
                        if (k < 0)
                                continue;
                        show(tg_journal_record_type(p));
                        show(tg_journal_record_comm(p));
                        show(tg_journal_record_unit(p));
                        for (size_t i = 0; i < tg_journal_record_n_fields(p); i++) {
                                const char *key, *value;
                                tg_journal_record_field(p, i, &key, &value);
                                show(key);
                                show(value);
                        }
                }
                tg_journal_reader_free(r);
        }
        if (tg_journal_verify(fuzz_dir, &o, &res) < 0)
                abort();
        o.seed = seed;
        o.have_checkpoint = true;
        o.checkpoint_seq = 3;
        if (tg_journal_verify(fuzz_dir, &o, &res) < 0)
                abort();
        return 0;
}
