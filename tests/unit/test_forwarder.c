/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * termguard-forwarder's logic without a network: records as the central contract's JSON (read
 * back and compared with the journal's own reader, raw bytes included), batches bounded by
 * count and bytes, the cursor, corrupt records, the backoff and central.conf. The journal is a
 * real one in a temporary directory.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "helpers.h"
#include "forwarder.h"
#include "termguard/base64.h"
#include "termguard/hex.h"
#include "termguard/macro.h"

static char base[TEST_PATH_MAX], dir[TEST_PATH_MAX], hostid[TEST_PATH_MAX];
static tg_journal_options opts;
static const uint8_t seed[TG_JOURNAL_SEED_SIZE] = {7};
/* a value that makes about 30 records a segment with the smallest segments */
static char big[4001];

static int setup(void **state) {
        (void) state;
        test_journal_tmpdir("forwarder-test", base, dir, hostid);
        opts = (tg_journal_options){.host_id_path = hostid};
        return 0;
}

static int teardown(void **state) {
        (void) state;
        test_rmtree(base);
        return 0;
}

/* A journal with n records after journal.initialized (seq 1): seqs 2..n+1. */
static void make_journal(int n, const char *value) {
        tg_journal *j = NULL;
        assert_int_equal(tg_journal_init(dir, seed, &opts), 0);
        assert_int_equal(tg_journal_open(dir, &opts, &j), 0);
        for (int i = 0; i < n; i++) {
                char idx[16];
                snprintf(idx, sizeof(idx), "%d", i);
                tg_journal_field f[] = {{"device", "1-1"}, {"label", value}, {"index", idx}};
                tg_journal_entry e = {.type = "usb.decision",
                                      .priority = 6,
                                      .uid = 1000 + (uid_t) i,
                                      .pid = 4242,
                                      .comm = "termguardd",
                                      .unit = "termguardd.service",
                                      .time_usec = 1764500000000000 + i,
                                      .clock = TG_JOURNAL_CLOCK_SYNCED,
                                      .fields = f,
                                      .n_fields = ELEMENTSOF(f)};
                assert_int_equal(tg_journal_append(j, &e, 0, NULL), 0);
        }
        tg_journal_close(j);
}

static const char *get_str(json_object *o, const char *key) {
        json_object *v;
        assert_true(json_object_object_get_ex(o, key, &v));
        assert_true(json_object_is_type(v, json_type_string));
        return json_object_get_string(v);
}

static int64_t get_int(json_object *o, const char *key) {
        json_object *v;
        assert_true(json_object_object_get_ex(o, key, &v));
        assert_true(json_object_is_type(v, json_type_int));
        return json_object_get_int64(v);
}

/* Every column of the contract, from the text the ingest function receives, against the
 * journal's reader: what the centre stores is what the terminal holds, byte for byte. */
static void records_as_contract_json(void **state) {
        static const char value[] = "総務課 \"USB\" \\ tab\there";
        tg_journal_reader *r = NULL;
        const tg_journal_record *rec;
        fwd_batch b;
        json_object *parsed;
        size_t i = 0;
        (void) state;

        make_journal(5, value);
        assert_int_equal(fwd_batch_init(&b, 0, 0), 0);
        assert_int_equal(fwd_batch_fill(&b, dir, 0, NULL), 6);
        assert_int_equal(b.first_seq, 1);
        assert_int_equal(b.last_seq, 6);
        parsed = json_tokener_parse(fwd_batch_text(&b));
        assert_non_null(parsed);
        assert_true(json_object_is_type(parsed, json_type_array));
        assert_int_equal(json_object_array_length(parsed), 6);

        assert_int_equal(tg_journal_reader_open(dir, &r), 0);
        while (tg_journal_reader_next(r, &rec) == 1) {
                json_object *o = json_object_array_get_idx(parsed, i++), *fields;
                const void *raw;
                size_t raw_len;
                char hex[2 * TG_JOURNAL_MAC_SIZE + 1], boot[2 * TG_JOURNAL_ID_SIZE + 1], boot_uuid[37];
                static uint8_t decoded[TG_JOURNAL_RECORD_MAX];

                assert_int_equal(get_int(o, "seq"), (int64_t) tg_journal_record_seq(rec));
                (void) tg_hex_encode(tg_journal_record_boot_id(rec), TG_JOURNAL_ID_SIZE, boot, sizeof(boot));
                snprintf(boot_uuid, sizeof(boot_uuid), "%.8s-%.4s-%.4s-%.4s-%.12s", boot, boot + 8, boot + 12,
                         boot + 16, boot + 20);
                assert_string_equal(get_str(o, "boot_id"), boot_uuid);
                assert_int_equal(get_int(o, "time_usec"), tg_journal_record_time(rec));
                assert_int_equal(get_int(o, "clock"), (int64_t) tg_journal_record_clock(rec));
                assert_int_equal(get_int(o, "priority"), tg_journal_record_priority(rec));
                assert_string_equal(get_str(o, "type"), tg_journal_record_type(rec));
                assert_int_equal(get_int(o, "uid"), (int64_t) tg_journal_record_uid(rec));
                assert_int_equal(get_int(o, "pid"), (int64_t) tg_journal_record_pid(rec));
                assert_string_equal(get_str(o, "comm"), tg_journal_record_comm(rec));
                assert_string_equal(get_str(o, "unit"), tg_journal_record_unit(rec));
                assert_true(json_object_object_get_ex(o, "fields", &fields));
                assert_int_equal(json_object_array_length(fields), tg_journal_record_n_fields(rec));
                for (size_t k = 0; k < tg_journal_record_n_fields(rec); k++) {
                        json_object *pair = json_object_array_get_idx(fields, k);
                        const char *key, *val;
                        tg_journal_record_field(rec, k, &key, &val);
                        assert_int_equal(json_object_array_length(pair), 2);
                        assert_string_equal(json_object_get_string(json_object_array_get_idx(pair, 0)), key);
                        assert_string_equal(json_object_get_string(json_object_array_get_idx(pair, 1)), val);
                }
                (void) tg_hex_encode(tg_journal_record_mac(rec), TG_JOURNAL_MAC_SIZE, hex, sizeof(hex));
                assert_string_equal(get_str(o, "mac"), hex);
                (void) tg_hex_encode(tg_journal_record_prev_mac(rec), TG_JOURNAL_MAC_SIZE, hex, sizeof(hex));
                assert_string_equal(get_str(o, "prev_mac"), hex);
                assert_int_equal(tg_journal_reader_raw(r, &raw, &raw_len), 0);
                size_t decoded_len = 0;
                assert_int_equal(tg_base64_decode(get_str(o, "raw"), decoded, sizeof(decoded), &decoded_len), 0);
                assert_int_equal(decoded_len, raw_len);
                assert_memory_equal(decoded, raw, raw_len);
        }
        assert_int_equal(i, 6);
        /* the value went through JSON and came back as it was */
        assert_string_equal(json_object_get_string(json_object_array_get_idx(
                                    json_object_array_get_idx(
                                            json_object_object_get(json_object_array_get_idx(parsed, 1), "fields"), 1),
                                    1)),
                            value);
        tg_journal_reader_free(r);
        json_object_put(parsed);
        fwd_batch_done(&b);
}

/* Batches hold at most max_records, in seq order, and go on from the cursor: the records up
 * to the cursor (committed) are never in a batch again, those after it always. */
static void batches_follow_the_cursor(void **state) {
        fwd_batch b;
        uint64_t cursor = 0, seen = 0;
        int n;
        (void) state;

        opts.segment_bytes = (64 + TG_JOURNAL_RECORD_MAX);
        memset(big, 'v', sizeof(big) - 1);
        make_journal(80, big);
        assert_int_equal(fwd_batch_init(&b, 7, 0), 0);
        while ((n = fwd_batch_fill(&b, dir, cursor, NULL)) > 0) {
                assert_true(n <= 7);
                assert_int_equal(b.first_seq, cursor + 1);
                assert_int_equal(b.last_seq, cursor + (uint64_t) n);
                seen += (uint64_t) n;
                cursor = b.last_seq;
                fwd_batch_clear(&b);
        }
        assert_int_equal(n, 0);
        assert_int_equal(seen, 81);
        /* a cursor in the middle of a later segment */
        assert_int_equal(fwd_batch_fill(&b, dir, 45, NULL), 7);
        assert_int_equal(b.first_seq, 46);
        fwd_batch_clear(&b);
        /* past the end: nothing */
        assert_int_equal(fwd_batch_fill(&b, dir, 81, NULL), 0);
        assert_int_equal(fwd_batch_fill(&b, dir, 1000, NULL), 0);
        fwd_batch_done(&b);
        /* no journal: the reader's error */
        assert_int_equal(fwd_batch_init(&b, 0, 0), 0);
        assert_int_equal(fwd_batch_fill(&b, "/nonexistent/journal", 0, NULL), -ENOENT);
        fwd_batch_done(&b);
}

/* The byte bound: a batch stops before it would pass it, except that one record always goes
 * (else a large record would stop forwarding for good). */
static void batches_bounded_by_bytes(void **state) {
        fwd_batch b;
        int n;
        (void) state;
        memset(big, 'b', 2999);
        big[2999] = '\0';
        make_journal(10, big);
        assert_int_equal(fwd_batch_init(&b, 0, 10000), 0);
        n = fwd_batch_fill(&b, dir, 1, NULL);
        /* each record's JSON is over 3000 (value) + 4/3 of its raw bytes */
        assert_true(n >= 1 && n < 3);
        assert_true(b.bytes <= 10000);
        assert_int_equal(strlen(fwd_batch_text(&b)), b.bytes + 1); /* the brackets, less one comma */
        fwd_batch_done(&b);
        assert_int_equal(fwd_batch_init(&b, 0, 100), 0);
        assert_int_equal(fwd_batch_fill(&b, dir, 1, NULL), 1);
        assert_true(b.bytes > 100);
        fwd_batch_done(&b);
}

/* A record out of order is refused by the batch; a corrupt record is skipped and noted, and
 * the records after it still go (the centre shows the gap). */
static void corrupt_and_out_of_order(void **state) {
        fwd_batch b;
        fwd_read_notes notes = {0};
        char path[400];
        int fd;
        uint8_t byte;
        int n;
        tg_journal_reader *r = NULL;
        const tg_journal_record *rec;
        const void *raw;
        size_t raw_len;
        (void) state;

        opts.segment_bytes = (64 + TG_JOURNAL_RECORD_MAX);
        memset(big, 'v', sizeof(big) - 1);
        make_journal(80, big);
        /* the batch itself refuses going backwards */
        assert_int_equal(fwd_batch_init(&b, 0, 0), 0);
        assert_int_equal(tg_journal_reader_open(dir, &r), 0);
        assert_int_equal(tg_journal_reader_seek_seq(r, 5), 0);
        assert_int_equal(tg_journal_reader_next(r, &rec), 1);
        assert_int_equal(tg_journal_reader_raw(r, &raw, &raw_len), 0);
        assert_int_equal(fwd_batch_add(&b, rec, raw, raw_len), 1);
        assert_int_equal(fwd_batch_add(&b, rec, raw, raw_len), -EINVAL);
        tg_journal_reader_free(r);
        fwd_batch_clear(&b);

        /* flip a byte in a value of the second record of the first segment (seq 2; seq 1 is
         * journal.initialized, about 300 bytes) */
        snprintf(path, sizeof(path), "%s/seg-0000000000000001.tgj", dir);
        fd = open(path, O_RDWR);
        assert_true(fd >= 0);
        assert_int_equal(pread(fd, &byte, 1, 64 + 1000), 1);
        byte ^= 0x55;
        assert_int_equal(pwrite(fd, &byte, 1, 64 + 1000), 1);
        close(fd);
        n = fwd_batch_fill(&b, dir, 0, &notes);
        if (n <= 0)
                fail_msg("fill: %d", n);
        assert_int_equal(notes.corrupt, 1);
        assert_non_null(strstr(notes.corrupt_where, "seg-0000000000000001.tgj:"));
        /* seq 1 came; the rest of that segment is skipped by the reader; later ones come, in
         * order, to the end */
        assert_int_equal(b.first_seq, 1);
        assert_int_equal(json_object_array_length(b.array), (size_t) n);
        assert_int_equal(get_int(json_object_array_get_idx(b.array, 1), "seq"), 33);
        assert_int_equal(b.last_seq, 81);
        fwd_batch_done(&b);
}

/* 1 s doubling to 5 min, each wait in the upper half of its ceiling, back to 1 s after a
 * success. */
static void backoff_bounds(void **state) {
        fwd_backoff b = {0};
        uint64_t ceiling = FWD_BACKOFF_MIN_USEC;
        (void) state;
        for (int i = 0; i < 20; i++) {
                uint64_t lo, hi;
                fwd_backoff tmp = b;
                lo = fwd_backoff_next(&tmp, 0);
                tmp = b;
                hi = fwd_backoff_next(&tmp, UINT64_MAX);
                assert_int_equal(lo, ceiling / 2);
                assert_true(hi <= ceiling && hi >= lo);
                (void) fwd_backoff_next(&b, (uint64_t) i * 7919);
                ceiling = ceiling * 2 > FWD_BACKOFF_MAX_USEC ? FWD_BACKOFF_MAX_USEC : ceiling * 2;
        }
        assert_int_equal(b.ceiling, FWD_BACKOFF_MAX_USEC);
        fwd_backoff_reset(&b);
        assert_true(fwd_backoff_next(&b, 12345) <= FWD_BACKOFF_MIN_USEC);
}

static int load_conf(const char *text, tg_central_config *c, char *err, size_t err_size) {
        char path[400];
        FILE *f;
        snprintf(path, sizeof(path), "%s/central.conf", base);
        f = fopen(path, "w");
        assert_non_null(f);
        fputs(text, f);
        fclose(f);
        return tg_central_config_load(path, c, err, err_size);
}

#define ROLE "tg_host_0123456789abcdef0123456789abcdef"
static void central_config(void **state) {
        static const struct {
                const char *text, *problem;
        } bad[] = {
                {"[Central]\nHost=db\nPort=5432\nDatabase=termguard\n", "Role= is missing"},
                {"[Central]\nHost=db\nPort=0\nDatabase=termguard\nRole=" ROLE "\n", "Port="},
                {"[Central]\nHost=db\nPort=65536\nDatabase=termguard\nRole=" ROLE "\n", "Port="},
                {"[Central]\nHost=db sslmode=disable\nPort=5432\nDatabase=termguard\nRole=" ROLE "\n", ":2: Host="},
                {"[Central]\nHost=db\nPort=5432\nDatabase=termguard\nRole=postgres\n", ":5: Role="},
                {"[Central]\nHost=db\nPort=5432\nDatabase=Term'guard\nRole=" ROLE "\n", "Database="},
                {"[Central]\nHost=db\nPassword=x\n", ":3: unknown key"},
                {"[Other]\nHost=db\n", ":2: unknown section"},
                {"garbage\n", ":1:"},
        };
        tg_central_config c;
        char err[512];
        (void) state;
        assert_int_equal(load_conf("[Central]\nHost=central.example.lg.jp\nPort=5432\nDatabase=termguard\nRole=" ROLE
                                   "\n",
                                   &c, err, sizeof(err)),
                         0);
        assert_string_equal(c.host, "central.example.lg.jp");
        assert_string_equal(c.port, "5432");
        assert_string_equal(c.database, "termguard");
        assert_string_equal(c.role, ROLE);
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                err[0] = '\0';
                if (load_conf(bad[i].text, &c, err, sizeof(err)) != -EBADMSG || !strstr(err, bad[i].problem))
                        fail_msg("case %zu: %s", i, err);
        }
        assert_int_equal(tg_central_config_load("/nonexistent/central.conf", &c, err, sizeof(err)), -ENOENT);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(records_as_contract_json, setup, teardown),
                cmocka_unit_test_setup_teardown(batches_follow_the_cursor, setup, teardown),
                cmocka_unit_test_setup_teardown(batches_bounded_by_bytes, setup, teardown),
                cmocka_unit_test_setup_teardown(corrupt_and_out_of_order, setup, teardown),
                cmocka_unit_test(backoff_bounds),
                cmocka_unit_test_setup_teardown(central_config, setup, teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
