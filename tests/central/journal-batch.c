/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * journal-batch: a terminal's journal for the central tests, made by lib's journal itself from
 * an enrolment bundle (its host id and seed), and its records as an ingest batch.
 *
 *   journal-batch JOURNAL_DIR init BUNDLE_DIR       the journal, keyed by the bundle's seed
 *   journal-batch JOURNAL_DIR append N [TYPE]       N records (usb.decision by default)
 *   journal-batch JOURNAL_DIR checkpoint
 *   journal-batch JOURNAL_DIR batch FROM_SEQ        records from FROM_SEQ as a JSON batch
 *   journal-batch JOURNAL_DIR prune FORWARDED_SEQ   the journal's own retention: the segments
 *                                                   forwarded up to that seq deleted, a
 *                                                   journal.pruned record appended
 *
 * TG_JOURNAL_SEGMENT_BYTES sets the segment size (small: several segments to prune);
 * JOURNAL_BATCH_TIME_USEC stamps appended records with that time (months ago) instead of now.
 *
 * The batch is what a forwarder sends: every column and the record's exact bytes (base64).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "termguard/base64.h"
#include "termguard/hex.h"
#include "termguard/journal.h"

static char host_id_path[4096];

static void die(const char *what, int r) {
        fprintf(stderr, "journal-batch: %s: %s\n", what, strerror(-r));
        exit(1);
}

static json_object *hex(const uint8_t *p, size_t n) {
        char buf[2 * 64 + 1];
        (void) tg_hex_encode(p, n, buf, sizeof(buf));
        return json_object_new_string(buf);
}

static json_object *uuid(const uint8_t *p) {
        char h[33], buf[37];
        (void) tg_hex_encode(p, 16, h, sizeof(h));
        snprintf(buf, sizeof(buf), "%.8s-%.4s-%.4s-%.4s-%.12s", h, h + 8, h + 12, h + 16, h + 20);
        return json_object_new_string(buf);
}

static void batch(const char *dir, uint64_t from) {
        static char b64[TG_BASE64_SIZE(TG_JOURNAL_RECORD_MAX)];
        tg_journal_reader *r = NULL;
        const tg_journal_record *rec;
        json_object *a = json_object_new_array();
        int k;

        k = tg_journal_reader_open(dir, &r);
        if (k < 0)
                die("reader", k);
        (void) tg_journal_reader_seek_seq(r, from);
        while ((k = tg_journal_reader_next(r, &rec)) == 1) {
                json_object *o = json_object_new_object(), *fields = json_object_new_array();
                const void *raw;
                size_t size;
                if (tg_journal_reader_raw(r, &raw, &size) < 0)
                        die("raw", -EIO);
                if (tg_base64_encode(raw, size, b64, sizeof(b64)) < 0)
                        die("base64", -ENOBUFS);
                for (size_t i = 0; i < tg_journal_record_n_fields(rec); i++) {
                        const char *key, *value;
                        json_object *pair = json_object_new_array();
                        tg_journal_record_field(rec, i, &key, &value);
                        json_object_array_add(pair, json_object_new_string(key));
                        json_object_array_add(pair, json_object_new_string(value));
                        json_object_array_add(fields, pair);
                }
                json_object_object_add(o, "seq", json_object_new_uint64(tg_journal_record_seq(rec)));
                json_object_object_add(o, "boot_id", uuid(tg_journal_record_boot_id(rec)));
                json_object_object_add(o, "time_usec", json_object_new_int64(tg_journal_record_time(rec)));
                json_object_object_add(o, "clock", json_object_new_int(tg_journal_record_clock(rec)));
                json_object_object_add(o, "priority", json_object_new_int(tg_journal_record_priority(rec)));
                json_object_object_add(o, "type", json_object_new_string(tg_journal_record_type(rec)));
                json_object_object_add(o, "uid", json_object_new_int64(tg_journal_record_uid(rec)));
                json_object_object_add(o, "pid", json_object_new_int64(tg_journal_record_pid(rec)));
                json_object_object_add(o, "comm", json_object_new_string(tg_journal_record_comm(rec)));
                json_object_object_add(o, "unit", json_object_new_string(tg_journal_record_unit(rec)));
                json_object_object_add(o, "fields", fields);
                json_object_object_add(o, "prev_mac", hex(tg_journal_record_prev_mac(rec), TG_JOURNAL_MAC_SIZE));
                json_object_object_add(o, "mac", hex(tg_journal_record_mac(rec), TG_JOURNAL_MAC_SIZE));
                json_object_object_add(o, "raw", json_object_new_string(b64));
                json_object_array_add(a, o);
        }
        if (k < 0)
                die("read", k);
        puts(json_object_to_json_string_ext(a, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
        json_object_put(a);
        tg_journal_reader_free(r);
}

int main(int argc, char **argv) {
        tg_journal_options opt = {.host_id_path = host_id_path};
        const char *stamp = getenv("JOURNAL_BATCH_TIME_USEC");
        tg_journal *j = NULL;
        int r;

        if (argc < 3) {
                fprintf(stderr, "usage: journal-batch JOURNAL_DIR init BUNDLE|append N [TYPE]|checkpoint|batch FROM\n");
                return 2;
        }
        snprintf(host_id_path, sizeof(host_id_path), "%s.host-id", argv[1]);
        if (getenv("TG_JOURNAL_SEGMENT_BYTES"))
                opt.segment_bytes = strtoull(getenv("TG_JOURNAL_SEGMENT_BYTES"), NULL, 10);
        if (strcmp(argv[2], "init") == 0 && argc == 4) {
                uint8_t seed[TG_JOURNAL_SEED_SIZE], id[TG_JOURNAL_ID_SIZE];
                char path[4096];
                snprintf(path, sizeof(path), "%s/seed", argv[3]);
                r = tg_journal_seed_read(path, seed, id);
                if (r < 0)
                        die(path, r);
                r = tg_journal_set_host_id(host_id_path, id);
                if (r < 0)
                        die("host id", r);
                r = tg_journal_init(argv[1], seed, &opt);
                if (r < 0)
                        die("init", r);
                return 0;
        }
        if (strcmp(argv[2], "batch") == 0 && argc == 4) {
                batch(argv[1], strtoull(argv[3], NULL, 10));
                return 0;
        }
        r = tg_journal_open(argv[1], &opt, &j);
        if (r < 0)
                die("open", r);
        if (strcmp(argv[2], "append") == 0 && argc >= 4) {
                unsigned long n = strtoul(argv[3], NULL, 10);
                for (unsigned long i = 0; i < n; i++) {
                        char label[32];
                        tg_journal_field f[] = {{"device", "1-1"}, {"label", label}, {"user", "tanaka"}};
                        tg_journal_entry e = {.type = argc > 4 ? argv[4] : "usb.decision",
                                              .priority = 6,
                                              .comm = "termguardd",
                                              .unit = "termguardd.service",
                                              .fields = f,
                                              .n_fields = 3};
                        if (stamp) {
                                e.time_usec = strtoll(stamp, NULL, 10) + (int64_t) i;
                                e.clock = TG_JOURNAL_CLOCK_SYNCED;
                        }
                        snprintf(label, sizeof(label), "総務課-USB%02lu", i % 100);
                        r = tg_journal_append(j, &e, TG_JOURNAL_SYNC, NULL);
                        if (r < 0)
                                die("append", r);
                }
        } else if (strcmp(argv[2], "checkpoint") == 0) {
                uint64_t seq;
                uint8_t mac[TG_JOURNAL_MAC_SIZE];
                r = tg_journal_checkpoint(j, &seq, mac);
                if (r < 0)
                        die("checkpoint", r);
        } else if (strcmp(argv[2], "prune") == 0 && argc == 4) {
                r = tg_journal_mark_forwarded(j, strtoull(argv[3], NULL, 10));
                if (r < 0)
                        die("forwarded", r);
                r = tg_journal_prune(j, 0);
                if (r < 0)
                        die("prune", r);
                printf("%d\n", r);
        } else {
                fprintf(stderr, "journal-batch: unknown command %s\n", argv[2]);
                return 2;
        }
        tg_journal_close(j);
        return 0;
}
