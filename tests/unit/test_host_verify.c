/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Central verification of one terminal: rows made from a real journal (written by
 * tg_journal, read back raw by its reader), then altered as a database administrator could:
 * columns, raw bytes, rows deleted, conflicts, silence. */
#define _GNU_SOURCE
/* gcc's analyzer does not follow the verifier's result out of its calloc'ed state and reports
 * the copied result as uninitialised; nothing else here is covered by this. */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wpragmas" /* gcc without -fanalyzer */
#pragma GCC diagnostic ignored "-Wanalyzer-use-of-uninitialized-value"
#endif
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <json-c/json.h>

#include "journal-format.h"
#include "termguard/host-verify.h"
#include "termguard/journal.h"
#include "termguard/macro.h"

#define ROWS_MAX 16
#define HOUR_USEC (3600LL * 1000000)
#define T0 1764460800000000LL /* 2025-12-01 00:00 UTC */

static const uint8_t seed[TG_JOURNAL_SEED_SIZE] = {9, 8, 7, 6, 5, 4, 3, 2, 1};

typedef struct {
        uint8_t raw[TG_JOURNAL_RECORD_MAX];
        size_t raw_len;
        uint8_t boot_id[TG_JOURNAL_ID_SIZE], prev_mac[TG_JOURNAL_MAC_SIZE], mac[TG_JOURNAL_MAC_SIZE];
        char type[TG_JOURNAL_TYPE_MAX + 1], comm[TG_JOURNAL_COMM_MAX + 1], unit[TG_JOURNAL_COMM_MAX + 1];
        char *fields_json;
        tg_host_row row;
} stored_row;

static stored_row rows[ROWS_MAX];
static size_t n_rows;
static uint8_t host[TG_JOURNAL_ID_SIZE];
static int64_t checkpoint_time;
static char base[256];

typedef struct {
        tg_host_finding f[32];
        char columns[32][16];
        size_t n;
} findings;

static void collect(const tg_host_finding *f, void *userdata) {
        findings *fs = userdata;
        if (fs->n < ELEMENTSOF(fs->f)) {
                fs->f[fs->n] = *f;
                snprintf(fs->columns[fs->n], sizeof(fs->columns[0]), "%s", f->column ? f->column : "");
                fs->n++;
        }
}

static void append(tg_journal *j, const char *type, int64_t time_usec, tg_journal_clock clock, const char *label) {
        tg_journal_field f[] = {{"device", "1-2"}, {"label", label}};
        tg_journal_entry e = {.type = type,
                              .priority = 6,
                              .uid = 1000,
                              .pid = 42,
                              .comm = "termguardd",
                              .unit = "termguardd.service",
                              .time_usec = time_usec,
                              .clock = clock,
                              .fields = f,
                              .n_fields = 2};
        assert_int_equal(tg_journal_append(j, &e, TG_JOURNAL_SYNC, NULL), 0);
}

/* rows[] as the central store would hold them after ingest. */
static void make_rows(void) {
        char dir[300], hostid[300];
        tg_journal_options opts;
        tg_journal *j = NULL;
        tg_journal_reader *r = NULL;
        const tg_journal_record *rec;
        uint64_t cp_seq;
        uint8_t cp_mac[TG_JOURNAL_MAC_SIZE];

        snprintf(base, sizeof(base), "/tmp/tg-host-verify.XXXXXX");
        assert_non_null(mkdtemp(base));
        snprintf(dir, sizeof(dir), "%s/journal", base);
        snprintf(hostid, sizeof(hostid), "%s/host-id", base);
        opts = (tg_journal_options){.host_id_path = hostid};
        assert_int_equal(tg_journal_init(dir, seed, &opts), 0);
        assert_int_equal(tg_journal_open(dir, &opts, &j), 0);
        append(j, "usb.attach", T0, TG_JOURNAL_CLOCK_SYNCED, "総務課-USB01");
        append(j, "usb.decision", T0 + 1, TG_JOURNAL_CLOCK_UNSYNCED, "\"quoted\" ,=cmd");
        append(j, "usb.detach", T0 + 2, TG_JOURNAL_CLOCK_UNSYNCED, "");
        assert_int_equal(tg_journal_checkpoint(j, &cp_seq, cp_mac), 0);
        append(j, "usb.attach", T0 + 3, TG_JOURNAL_CLOCK_SYNCED, "B");
        tg_journal_close(j);

        n_rows = 0;
        assert_int_equal(tg_journal_reader_open(dir, &r), 0);
        while (tg_journal_reader_next(r, &rec) == 1) {
                stored_row *s = &rows[n_rows++];
                const void *raw;
                json_object *a = json_object_new_array();
                assert_true(n_rows <= ROWS_MAX);
                assert_int_equal(tg_journal_reader_raw(r, &raw, &s->raw_len), 0);
                memcpy(s->raw, raw, s->raw_len);
                memcpy(s->boot_id, tg_journal_record_boot_id(rec), TG_JOURNAL_ID_SIZE);
                memcpy(s->prev_mac, tg_journal_record_prev_mac(rec), TG_JOURNAL_MAC_SIZE);
                memcpy(s->mac, tg_journal_record_mac(rec), TG_JOURNAL_MAC_SIZE);
                memcpy(host, tg_journal_record_host_id(rec), TG_JOURNAL_ID_SIZE);
                snprintf(s->type, sizeof(s->type), "%s", tg_journal_record_type(rec));
                snprintf(s->comm, sizeof(s->comm), "%s", tg_journal_record_comm(rec));
                snprintf(s->unit, sizeof(s->unit), "%s", tg_journal_record_unit(rec));
                for (size_t i = 0; i < tg_journal_record_n_fields(rec); i++) {
                        const char *k, *v;
                        json_object *pair = json_object_new_array();
                        tg_journal_record_field(rec, i, &k, &v);
                        json_object_array_add(pair, json_object_new_string(k));
                        json_object_array_add(pair, json_object_new_string(v));
                        json_object_array_add(a, pair);
                }
                s->fields_json = strdup(json_object_to_json_string_ext(a, JSON_C_TO_STRING_PLAIN));
                json_object_put(a);
                if (strcmp(s->type, TG_JOURNAL_TYPE_CHECKPOINT) == 0)
                        checkpoint_time = tg_journal_record_time(rec);
                s->row = (tg_host_row){.seq = tg_journal_record_seq(rec),
                                       .boot_id = s->boot_id,
                                       .time_usec = tg_journal_record_time(rec),
                                       .clock = (int) tg_journal_record_clock(rec),
                                       .priority = tg_journal_record_priority(rec),
                                       .uid = tg_journal_record_uid(rec),
                                       .pid = tg_journal_record_pid(rec),
                                       .type = s->type,
                                       .comm = s->comm,
                                       .unit = s->unit,
                                       .fields_json = s->fields_json,
                                       .prev_mac = s->prev_mac,
                                       .mac = s->mac,
                                       .raw = s->raw,
                                       .raw_len = s->raw_len};
        }
        tg_journal_reader_free(r);
        /* journal.initialized, three events, the checkpoint, one more */
        assert_int_equal(n_rows, 6);
        assert_int_equal(cp_seq, 5);
        assert_int_equal(rows[4].row.seq, 5);
}

static int setup(void **state) {
        (void) state;
        make_rows();
        return 0;
}

static int teardown(void **state) {
        char cmd[300];
        (void) state;
        for (size_t i = 0; i < n_rows; i++)
                free(rows[i].fields_json);
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", base);
        assert_int_equal(system(cmd), 0);
        return 0;
}

static tg_host_verify_options options(findings *fs) {
        memset(fs, 0, sizeof(*fs));
        return (tg_host_verify_options){.host_id = host, .seed = seed, .report = collect, .userdata = fs};
}

/* Feeds rows[skip excluded], a conflict at conflict_seq (0: none). */
static tg_host_verify_result run(const tg_host_verify_options *o, size_t skip, uint64_t conflict_seq) {
        tg_host_verify *v = NULL;
        tg_host_verify_result res = {0};
        assert_int_equal(tg_host_verify_new(o, &v), 0);
        for (size_t i = 0; i < n_rows; i++)
                if (i != skip)
                        assert_true(tg_host_verify_feed(v, &rows[i].row, NULL) >= 0);
        if (conflict_seq)
                tg_host_verify_conflict(v, conflict_seq);
        tg_host_verify_end(v, &res);
        tg_host_verify_free(v);
        return res;
}

static bool has(const findings *fs, tg_host_finding_kind k, tg_journal_problem_kind jk) {
        for (size_t i = 0; i < fs->n; i++)
                if (fs->f[i].kind == k && (k != TG_HOST_FINDING_JOURNAL || fs->f[i].journal == jk))
                        return true;
        return false;
}

/* Retention dropped rows[0..2] (seqs 1..3): the chain starts after seq 3 with its MAC, as the
 * central store's prune mark says; the key comes from the seed, or is given (K_3, as an earlier
 * verification keeps it). */
static tg_host_verify_result run_from(const tg_host_verify_options *o, size_t from) {
        tg_host_verify *v = NULL;
        tg_host_verify_result res = {0};
        assert_int_equal(tg_host_verify_new(o, &v), 0);
        for (size_t i = from; i < n_rows; i++)
                assert_true(tg_host_verify_feed(v, &rows[i].row, NULL) >= 0);
        tg_host_verify_end(v, &res);
        tg_host_verify_free(v);
        return res;
}

static void start_after_prune(void **state) {
        findings fs;
        tg_host_verify_options o;
        tg_host_verify_result res;
        uint8_t k3[TG_JOURNAL_MAC_SIZE];
        (void) state;

        /* without a start, the missing oldest records are a gap */
        o = options(&fs);
        res = run_from(&o, 3);
        assert_true(has(&fs, TG_HOST_FINDING_JOURNAL, TG_JOURNAL_PROBLEM_GAP));
        assert_int_equal(res.gaps, 1);

        o = options(&fs);
        o.have_start = true;
        o.start_seq = 3;
        memcpy(o.start_mac, rows[2].mac, TG_JOURNAL_MAC_SIZE);
        o.known_last_seq = 6;
        res = run_from(&o, 3);
        assert_int_equal(res.problems, 0);
        assert_true(res.macs_checked);
        assert_int_equal(res.first_seq, 4);
        assert_int_equal(res.records, 3);

        /* the first kept row deleted too: a gap after the start */
        o = options(&fs);
        o.have_start = true;
        o.start_seq = 3;
        memcpy(o.start_mac, rows[2].mac, TG_JOURNAL_MAC_SIZE);
        res = run_from(&o, 4);
        assert_int_equal(res.gaps, 1);
        assert_int_equal(fs.f[0].kind, TG_HOST_FINDING_JOURNAL);
        assert_int_equal(fs.f[0].journal, TG_JOURNAL_PROBLEM_GAP);
        assert_int_equal(fs.f[0].seq, 5);
        assert_int_equal(fs.f[0].expected, 4);

        /* a start MAC the next record does not carry: a broken link, tampering */
        o = options(&fs);
        o.have_start = true;
        o.start_seq = 3;
        memcpy(o.start_mac, rows[1].mac, TG_JOURNAL_MAC_SIZE);
        res = run_from(&o, 3);
        assert_true(res.tampered);
        assert_int_equal(res.first_bad_seq, 4);
        assert_true(has(&fs, TG_HOST_FINDING_JOURNAL, TG_JOURNAL_PROBLEM_CHAIN));

        /* the key given at the start: K_3 checks every MAC; another key fails them */
        journal_key_first(seed, k3);
        journal_key_evolve(k3);
        journal_key_evolve(k3);
        o = options(&fs);
        o.have_start = true;
        o.start_seq = 3;
        memcpy(o.start_mac, rows[2].mac, TG_JOURNAL_MAC_SIZE);
        o.start_key = k3;
        res = run_from(&o, 3);
        assert_int_equal(res.problems, 0);
        k3[0] ^= 1;
        o = options(&fs);
        o.have_start = true;
        o.start_seq = 3;
        memcpy(o.start_mac, rows[2].mac, TG_JOURNAL_MAC_SIZE);
        o.start_key = k3;
        res = run_from(&o, 3);
        assert_true(res.tampered);
        assert_true(has(&fs, TG_HOST_FINDING_JOURNAL, TG_JOURNAL_PROBLEM_MAC));

        /* every row dropped up to the newest: nothing after the start is no truncation, rows
         * the centre stored after it that are gone are */
        o = options(&fs);
        o.have_start = true;
        o.start_seq = 6;
        memcpy(o.start_mac, rows[5].mac, TG_JOURNAL_MAC_SIZE);
        o.known_last_seq = 6;
        res = run_from(&o, n_rows);
        assert_int_equal(res.problems, 0);
        o.known_last_seq = 7;
        res = run_from(&o, n_rows);
        assert_true(has(&fs, TG_HOST_FINDING_JOURNAL, TG_JOURNAL_PROBLEM_TRUNCATED));
}

/* Where an intact chain stands (a watermark): the newest seq, its MAC and K_seq; a later run
 * from there checks the rest. Nothing without the seed or after a problem. */
static void state_for_resume(void **state) {
        findings fs;
        tg_host_verify_options o = options(&fs);
        tg_host_verify *v = NULL;
        tg_host_verify_result res;
        uint8_t mac[TG_JOURNAL_MAC_SIZE], key[TG_JOURNAL_MAC_SIZE], k[TG_JOURNAL_MAC_SIZE];
        uint64_t seq = 0;
        (void) state;

        assert_int_equal(tg_host_verify_new(&o, &v), 0);
        for (size_t i = 0; i < 4; i++)
                assert_int_equal(tg_host_verify_feed(v, &rows[i].row, NULL), 1);
        tg_host_verify_end(v, &res);
        assert_true(tg_host_verify_state(v, &seq, mac, key));
        tg_host_verify_free(v);
        assert_int_equal(seq, 4);
        assert_memory_equal(mac, rows[3].mac, TG_JOURNAL_MAC_SIZE);
        journal_key_first(seed, k);
        for (int i = 1; i < 4; i++)
                journal_key_evolve(k);
        assert_memory_equal(key, k, TG_JOURNAL_MAC_SIZE);
        /* the rest from there: intact */
        o = options(&fs);
        o.have_start = true;
        o.start_seq = seq;
        memcpy(o.start_mac, mac, TG_JOURNAL_MAC_SIZE);
        o.start_key = key;
        res = run_from(&o, 4);
        assert_int_equal(res.problems, 0);
        assert_int_equal(res.records, 2);
        /* a problem: no state to resume from */
        o = options(&fs);
        assert_int_equal(tg_host_verify_new(&o, &v), 0);
        for (size_t i = 0; i < n_rows; i++)
                if (i != 2)
                        assert_int_equal(tg_host_verify_feed(v, &rows[i].row, NULL), 1);
        tg_host_verify_end(v, &res);
        assert_false(tg_host_verify_state(v, &seq, mac, key));
        tg_host_verify_free(v);
        /* no seed: links only, no key */
        o = options(&fs);
        o.seed = NULL;
        assert_int_equal(tg_host_verify_new(&o, &v), 0);
        for (size_t i = 0; i < n_rows; i++)
                assert_int_equal(tg_host_verify_feed(v, &rows[i].row, NULL), 1);
        tg_host_verify_end(v, &res);
        assert_false(tg_host_verify_state(v, &seq, mac, key));
        tg_host_verify_free(v);
}

static void intact_host(void **state) {
        findings fs;
        tg_host_verify_options o = options(&fs);
        tg_host_verify_result res = {0};
        (void) state;
        o.now_usec = checkpoint_time + HOUR_USEC / 2;
        res = run(&o, SIZE_MAX, 0);
        assert_int_equal(res.problems, 0);
        assert_false(res.tampered);
        assert_false(res.silent);
        assert_true(res.macs_checked);
        assert_int_equal(res.records, 6);
        assert_int_equal(res.first_seq, 1);
        assert_int_equal(res.last_seq, 6);
        assert_int_equal(res.last_checkpoint_usec, checkpoint_time);
        /* records stamped by an unsynchronised clock (two events; the journal's own records
         * carry this machine's clock state): one note at the first, all counted */
        {
                uint64_t n_unsynced = 0, first = 0;
                for (size_t i = 0; i < n_rows; i++)
                        if (rows[i].row.clock == TG_JOURNAL_CLOCK_UNSYNCED && n_unsynced++ == 0)
                                first = rows[i].row.seq;
                assert_true(n_unsynced >= 2);
                assert_int_equal(res.clock_unsynchronised, n_unsynced);
                assert_int_equal(res.notes, 1);
                assert_int_equal(fs.n, 1);
                assert_int_equal(fs.f[0].kind, TG_HOST_FINDING_CLOCK);
                assert_true(fs.f[0].note);
                assert_int_equal(fs.f[0].seq, first);
        }
}

/* Each column changed in the table while the raw bytes stay: named, the host tampered. */
static void altered_columns(void **state) {
        static const char *const names[] = {"seq", "boot_id", "time_usec", "clock",  "priority", "type", "uid",
                                            "pid", "comm",    "unit",      "fields", "prev_mac", "mac"};
        (void) state;
        for (size_t c = 0; c < ELEMENTSOF(names); c++) {
                stored_row *s = &rows[2];
                tg_host_row saved = s->row;
                uint8_t other[TG_JOURNAL_MAC_SIZE] = {0x55};
                findings fs;
                tg_host_verify_options o = options(&fs);
                tg_host_verify_result res = {0};
                switch (c) {
                case 0: s->row.seq = 99; break;
                case 1: s->row.boot_id = other; break;
                case 2: s->row.time_usec += 1000000; break;
                case 3: s->row.clock = TG_JOURNAL_CLOCK_SYNCED; break;
                case 4: s->row.priority = 3; break;
                case 5: s->row.type = "usb.detach"; break;
                case 6: s->row.uid = 0; break;
                case 7: s->row.pid = 1; break;
                case 8: s->row.comm = "bash"; break;
                case 9: s->row.unit = ""; break;
                case 10: s->row.fields_json = "[[\"device\",\"1-2\"],[\"label\",\"another name\"]]"; break;
                case 11: s->row.prev_mac = other; break;
                case 12: s->row.mac = other; break;
                }
                res = run(&o, SIZE_MAX, 0);
                s->row = saved;
                assert_int_equal(res.problems, 1);
                assert_true(res.tampered);
                assert_int_equal(res.first_bad_seq, 3);
                assert_int_equal(res.first.kind, TG_HOST_FINDING_COLUMNS);
                assert_string_equal(res.first.column, names[c]);
                assert_string_equal(tg_host_finding_name(&res.first), "columns");
        }
}

/* Stored fields that are no faithful copy of the record's: refused, whatever the shape. */
static void hostile_fields_json(void **state) {
        static const char *const bad[] = {
                NULL,
                "",
                "{}",
                "[[\"device\",\"1-2\"]]",
                "[[\"device\",\"1-2\"],[\"label\",\"総務課-USB01\"],[\"x\",\"y\"]]",
                "[[\"device\",\"1-2\"],[\"label\",\"総務課-USB01\\u0000tail\"]]",
                "[[\"device\",\"1-2\"],[\"label\",1]]",
                "[[\"device\",\"1-2\"],[\"label\"]]",
                "[[\"device\",\"1-2\"],[\"label\",\"総務課-USB01\",\"x\"]]",
                "[[\"label\",\"総務課-USB01\"],[\"device\",\"1-2\"]]",
                "[[\"device\",\"1-2\"],[\"label\",\"総務課-USB01\"]",
        };
        (void) state;
        /* the well-formed copy, as PostgreSQL's jsonb gives it back (spaces), passes */
        {
                findings fs;
                tg_host_verify_options o = options(&fs);
                const char *saved = rows[1].row.fields_json;
                rows[1].row.fields_json = "[[\"device\", \"1-2\"], [\"label\", \"総務課-USB01\"]]";
                assert_int_equal(run(&o, SIZE_MAX, 0).problems, 0);
                rows[1].row.fields_json = saved;
        }
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                findings fs;
                tg_host_verify_options o = options(&fs);
                tg_host_verify_result res = {0};
                const char *saved = rows[1].row.fields_json;
                rows[1].row.fields_json = bad[i];
                res = run(&o, SIZE_MAX, 0);
                rows[1].row.fields_json = saved;
                assert_int_equal(res.problems, 1);
                assert_string_equal(res.first.column, "fields");
                assert_int_equal(res.first.seq, 2);
        }
}

/* The raw bytes changed and their checksum made good: the MAC, with the escrowed seed. */
static void altered_raw(void **state) {
        findings fs;
        tg_host_verify_options o = options(&fs);
        tg_host_verify_result res = {0};
        stored_row *s = &rows[5];
        uint32_t size = get32(s->raw + 4);
        (void) state;
        assert_int_equal(s->raw[size - RECORD_TRAILER_SIZE - 1], 'B');
        s->raw[size - RECORD_TRAILER_SIZE - 1] = 'C';
        put32(s->raw + size - 4, journal_crc32(s->raw, size - 4));
        /* the columns were changed to match: only the MAC can tell */
        free(s->fields_json);
        s->fields_json = strdup("[[\"device\",\"1-2\"],[\"label\",\"C\"]]");
        s->row.fields_json = s->fields_json;
        res = run(&o, SIZE_MAX, 0);
        assert_int_equal(res.problems, 1);
        assert_true(res.tampered);
        assert_int_equal(res.first.kind, TG_HOST_FINDING_JOURNAL);
        assert_int_equal(res.first.journal, TG_JOURNAL_PROBLEM_MAC);
        assert_int_equal(res.first_bad_seq, 6);
        /* without the seed the chain cannot tell */
        o = options(&fs);
        o.seed = NULL;
        res = run(&o, SIZE_MAX, 0);
        assert_int_equal(res.problems, 0);
        assert_false(res.macs_checked);
        /* bytes that are no record at all */
        s->raw[10] ^= 0x80;
        o = options(&fs);
        res = run(&o, SIZE_MAX, 0);
        assert_int_equal(res.first.journal, TG_JOURNAL_PROBLEM_CORRUPT);
        assert_true(res.tampered);
        s->row.raw_len = 0;
        res = run(&o, SIZE_MAX, 0);
        assert_int_equal(res.first.journal, TG_JOURNAL_PROBLEM_CORRUPT);
}

static void deleted_row(void **state) {
        findings fs;
        tg_host_verify_options o = options(&fs);
        tg_host_verify_result res = {0};
        (void) state;
        res = run(&o, 2, 0);
        assert_int_equal(res.first.kind, TG_HOST_FINDING_JOURNAL);
        assert_int_equal(res.first.journal, TG_JOURNAL_PROBLEM_GAP);
        assert_int_equal(res.first.seq, 4);
        assert_int_equal(res.first.expected, 3);
        assert_int_equal(res.gaps, 1);
        assert_int_equal(res.missing, 1);
        /* the next record's link to the deleted one is broken too: part of the gap */
        assert_true(has(&fs, TG_HOST_FINDING_JOURNAL, TG_JOURNAL_PROBLEM_CHAIN));
        assert_false(res.tampered);
        /* the first row deleted: a gap at the start */
        o = options(&fs);
        res = run(&o, 0, 0);
        assert_true(has(&fs, TG_HOST_FINDING_JOURNAL, TG_JOURNAL_PROBLEM_GAP));
        assert_int_equal(res.missing, 1);
}

/* The tail deleted: truncation against the newest head the host reported. */
static void truncated_against_head(void **state) {
        findings fs;
        tg_host_verify_options o = options(&fs);
        tg_host_verify_result res = {0};
        (void) state;
        o.have_head = true;
        o.head_seq = 6;
        memcpy(o.head_mac, rows[5].mac, TG_JOURNAL_MAC_SIZE);
        assert_int_equal(run(&o, SIZE_MAX, 0).problems, 0);
        res = run(&o, 5, 0);
        assert_int_equal(res.first.journal, TG_JOURNAL_PROBLEM_TRUNCATED);
        assert_int_equal(res.first.seq, 5);
        assert_int_equal(res.first.expected, 6);
        assert_int_equal(res.missing, 1);
        /* the centre's own high-water mark says the same without a MAC */
        o = options(&fs);
        o.known_last_seq = 6;
        assert_int_equal(run(&o, SIZE_MAX, 0).problems, 0);
        res = run(&o, 5, 0);
        assert_int_equal(res.problems, 1);
        assert_int_equal(res.first.journal, TG_JOURNAL_PROBLEM_TRUNCATED);
        assert_int_equal(res.first.seq, 5);
        assert_int_equal(res.first.expected, 6);
        assert_int_equal(res.gaps, 1);
        assert_false(res.tampered);
        /* a different record at the head: rolled back */
        o = options(&fs);
        o.have_head = true;
        o.head_seq = 6;
        memset(o.head_mac, 0x11, TG_JOURNAL_MAC_SIZE);
        res = run(&o, SIZE_MAX, 0);
        assert_int_equal(res.first.journal, TG_JOURNAL_PROBLEM_ROLLBACK);
        assert_true(res.tampered);
}

static void conflict_and_other_host(void **state) {
        findings fs;
        tg_host_verify_options o = options(&fs);
        tg_host_verify_result res = {0};
        uint8_t other[TG_JOURNAL_ID_SIZE] = {1};
        (void) state;
        res = run(&o, SIZE_MAX, 4);
        assert_int_equal(res.problems, 1);
        assert_int_equal(res.conflicts, 1);
        assert_int_equal(res.first.kind, TG_HOST_FINDING_CONFLICT);
        assert_int_equal(res.first_bad_seq, 4);
        assert_true(res.tampered);
        o = options(&fs);
        o.host_id = other;
        res = run(&o, SIZE_MAX, 0);
        assert_int_equal(res.first.journal, TG_JOURNAL_PROBLEM_HOST);
        assert_int_equal(res.problems, n_rows);
}

static void silence(void **state) {
        findings fs;
        tg_host_verify_options o = options(&fs);
        tg_host_verify_result res = {0};
        (void) state;
        /* the default: an hour */
        o.now_usec = checkpoint_time + HOUR_USEC;
        assert_false(run(&o, SIZE_MAX, 0).silent);
        o.now_usec = checkpoint_time + HOUR_USEC + 1;
        res = run(&o, SIZE_MAX, 0);
        assert_true(res.silent);
        assert_false(res.tampered);
        assert_int_equal(res.first.kind, TG_HOST_FINDING_SILENT);
        assert_int_equal(res.first.since_usec, checkpoint_time);
        assert_string_equal(tg_host_finding_name(&res.first), "silent");
        /* set by the administrator */
        o = options(&fs);
        o.now_usec = checkpoint_time + 3 * HOUR_USEC;
        o.silent_after_usec = 4 * HOUR_USEC;
        assert_false(run(&o, SIZE_MAX, 0).silent);
        /* the centre's arrival time of the newest heartbeat wins over the host's clock */
        o.silent_after_usec = 0;
        o.last_heartbeat_usec = checkpoint_time + 2 * HOUR_USEC + 1;
        assert_false(run(&o, SIZE_MAX, 0).silent);
        /* no checkpoint ever: silent from enrolment */
        o = options(&fs);
        o.enrolled_usec = T0 - 2 * HOUR_USEC;
        o.now_usec = T0;
        res = run(&o, 4, 0); /* the checkpoint's row gone */
        assert_true(res.silent);
        assert_int_equal(res.last_checkpoint_usec, 0);
        /* silence not asked for */
        o.now_usec = 0;
        assert_false(run(&o, 4, 0).silent);
}

static void bad_arguments_and_names(void **state) {
        findings fs;
        tg_host_verify_options o = options(&fs);
        tg_host_verify *v = NULL;
        tg_host_finding f = {0};
        (void) state;
        o.host_id = NULL;
        assert_int_equal(tg_host_verify_new(&o, &v), -EINVAL);
        o = options(&fs);
        o.silent_after_usec = -1;
        assert_int_equal(tg_host_verify_new(&o, &v), -EINVAL);
        assert_int_equal(tg_host_verify_new(NULL, &v), -EINVAL);
        o = options(&fs);
        assert_int_equal(tg_host_verify_new(&o, &v), 0);
        assert_int_equal(tg_host_verify_feed(v, NULL, NULL), -EINVAL);
        tg_host_verify_free(v);
        tg_host_verify_free(NULL);
        for (int k = 0; k < _TG_HOST_FINDING_MAX; k++) {
                f.kind = (tg_host_finding_kind) k;
                for (int j = 0; j <= TG_JOURNAL_PROBLEM_LOST; j++) {
                        f.journal = (tg_journal_problem_kind) j;
                        assert_non_null(tg_host_finding_name(&f));
                        assert_non_null(tg_host_finding_text(&f));
                }
        }
        f.kind = _TG_HOST_FINDING_MAX;
        assert_null(tg_host_finding_name(&f));
        f.kind = TG_HOST_FINDING_JOURNAL;
        f.journal = (tg_journal_problem_kind) 99;
        assert_null(tg_host_finding_text(&f));
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(intact_host, setup, teardown),
                cmocka_unit_test_setup_teardown(altered_columns, setup, teardown),
                cmocka_unit_test_setup_teardown(hostile_fields_json, setup, teardown),
                cmocka_unit_test_setup_teardown(altered_raw, setup, teardown),
                cmocka_unit_test_setup_teardown(deleted_row, setup, teardown),
                cmocka_unit_test_setup_teardown(start_after_prune, setup, teardown),
                cmocka_unit_test_setup_teardown(state_for_resume, setup, teardown),
                cmocka_unit_test_setup_teardown(truncated_against_head, setup, teardown),
                cmocka_unit_test_setup_teardown(conflict_and_other_host, setup, teardown),
                cmocka_unit_test_setup_teardown(silence, setup, teardown),
                cmocka_unit_test_setup_teardown(bad_arguments_and_names, setup, teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
