/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The journal store: encoding, key chain, recovery, cap and reserve, retention, verify and
 * tampering, on real files in a temporary directory. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <gcrypt.h>
#include <pthread.h>

#include "helpers.h"
#include "journal-format.h"
#include "termguard/journal.h"
#include "termguard/macro.h"

static char base[TEST_PATH_MAX], dir[TEST_PATH_MAX], hostid[TEST_PATH_MAX];
static tg_journal_options opts;
static const uint8_t seed[TG_JOURNAL_SEED_SIZE] = {1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11, 12, 13, 14, 15, 16,
                                                   17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32};

static int setup(void **state) {
        (void) state;
        test_journal_tmpdir("journal-test", base, dir, hostid);
        opts = (tg_journal_options){.host_id_path = hostid};
        return 0;
}

static int teardown(void **state) {
        (void) state;
        test_rmtree(base);
        return 0;
}

static void path_of(char *buf, size_t size, const char *name) {
        snprintf(buf, size, "%s/%s", dir, name);
}

static tg_journal *init_and_open(void) {
        tg_journal *j = NULL;
        assert_int_equal(tg_journal_init(dir, seed, &opts), 0);
        assert_int_equal(tg_journal_open(dir, &opts, &j), 0);
        return j;
}

static uint64_t append_n(tg_journal *j, const char *type, const char *value, unsigned flags) {
        tg_journal_field f[] = {{"device", "1-2"}, {"label", value}};
        tg_journal_entry e = {.type = type,
                              .priority = 6,
                              .uid = 1000,
                              .pid = 42,
                              .comm = "termguardd",
                              .time_usec = 1764460800000000,
                              .clock = TG_JOURNAL_CLOCK_SYNCED,
                              .fields = f,
                              .n_fields = 2};
        uint64_t seq = 0;
        assert_int_equal(tg_journal_append(j, &e, flags, &seq), 0);
        return seq;
}

typedef struct {
        tg_journal_problem_kind kinds[64];
        uint64_t seqs[64];
        char files[64][SEGMENT_NAME_MAX];
        size_t n;
} problems;

static void collect(const tg_journal_problem *p, void *userdata) {
        problems *ps = userdata;
        if (ps->n < ELEMENTSOF(ps->kinds)) {
                ps->kinds[ps->n] = p->kind;
                ps->seqs[ps->n] = p->seq;
                snprintf(ps->files[ps->n], SEGMENT_NAME_MAX, "%s", p->file ? p->file : "");
                ps->n++;
        }
}

static tg_journal_verify_result verify(const uint8_t *key, problems *ps) {
        tg_journal_verify_result res;
        tg_journal_verify_options o = {.seed = key, .report = collect, .userdata = ps};
        memset(ps, 0, sizeof(*ps));
        assert_int_equal(tg_journal_verify(dir, &o, &res), 0);
        return res;
}

static bool has_problem(const problems *ps, tg_journal_problem_kind k) {
        for (size_t i = 0; i < ps->n; i++)
                if (ps->kinds[i] == k)
                        return true;
        return false;
}

/* Reads all records: seqs and types into the arrays, returns the count. */
static size_t read_all(uint64_t *seqs, char types[][TG_JOURNAL_TYPE_MAX + 1], size_t max) {
        tg_journal_reader *r = NULL;
        const tg_journal_record *rec;
        size_t n = 0;
        int k;
        assert_int_equal(tg_journal_reader_open(dir, &r), 0);
        while ((k = tg_journal_reader_next(r, &rec)) == 1) {
                if (n < max) {
                        seqs[n] = tg_journal_record_seq(rec);
                        snprintf(types[n], TG_JOURNAL_TYPE_MAX + 1, "%s", tg_journal_record_type(rec));
                }
                n++;
        }
        assert_int_equal(k, 0);
        tg_journal_reader_free(r);
        return n;
}

static size_t file_size_of(const char *name) {
        char path[400];
        struct stat st;
        path_of(path, sizeof(path), name);
        assert_int_equal(stat(path, &st), 0);
        return (size_t) st.st_size;
}

static uint8_t *read_whole(const char *name, size_t *ret_len) {
        char path[400];
        FILE *f;
        size_t len = file_size_of(name);
        uint8_t *buf = malloc(len + 1);
        if (!buf)
                abort();
        path_of(path, sizeof(path), name);
        f = fopen(path, "rb");
        assert_non_null(f);
        assert_int_equal(fread(buf, 1, len, f), len);
        fclose(f);
        *ret_len = len;
        return buf;
}

static void write_whole(const char *name, const uint8_t *buf, size_t len) {
        char path[400];
        FILE *f;
        path_of(path, sizeof(path), name);
        f = fopen(path, "wb");
        assert_non_null(f);
        assert_int_equal(fwrite(buf, 1, len, f), len);
        fclose(f);
}

/* Offsets of the records in a segment's bytes. */
static size_t record_offsets(const uint8_t *buf, size_t len, size_t *offs, size_t max) {
        static tg_journal_record rec;
        size_t off = SEGMENT_HEADER_SIZE, n = 0;
        while (off < len && n < max) {
                ssize_t size = journal_record_decode(buf + off, len - off, &rec);
                assert_true(size > 0);
                offs[n++] = off;
                off += (size_t) size;
        }
        return n;
}

/* The HMAC handle the writer and verify keep open gives what libgcrypt's one-shot HMAC gives,
 * for each key it is given in turn, as often as it is asked. */
static void mac_handle_matches_one_shot(void **state) {
        uint8_t key[TG_JOURNAL_MAC_SIZE], data[300], got[TG_JOURNAL_MAC_SIZE], want[TG_JOURNAL_MAC_SIZE],
                first[TG_JOURNAL_MAC_SIZE];
        journal_mac m;
        (void) state;
        for (size_t i = 0; i < sizeof(data); i++)
                data[i] = (uint8_t) (i * 7);
        assert_int_equal(journal_mac_open(&m), 0);
        journal_key_first(seed, key);
        for (int k = 0; k < 5; k++) {
                gcry_buffer_t iov[2] = {{.data = key, .len = sizeof(key)}, {.data = data, .len = sizeof(data) - k}};
                assert_int_equal(gcry_md_hash_buffers(GCRY_MD_SHA256, GCRY_MD_FLAG_HMAC, want, iov, 2), 0);
                journal_mac_setkey(m, key);
                for (int again = 0; again < 2; again++) {
                        journal_mac_compute(m, data, sizeof(data) - (size_t) k, got);
                        assert_memory_equal(got, want, sizeof(want));
                }
                if (k == 0)
                        memcpy(first, got, sizeof(first));
                else
                        assert_memory_not_equal(got, first, sizeof(first));
                journal_key_evolve(key);
        }
        journal_mac_close(m);
        journal_mac_close(NULL);
}

static void *crc_of_check(void *arg) {
        (void) arg;
        return (void *) (uintptr_t) journal_crc32("123456789", 9);
}

/* CRC-32 as zlib computes it (the check value of "123456789"), from a handle kept per thread. */
static void crc32_check_value(void **state) {
        pthread_t t;
        void *other;
        (void) state;
        assert_int_equal(journal_crc32("123456789", 9), 0xcbf43926);
        assert_int_equal(journal_crc32("123456789", 9), 0xcbf43926);
        assert_int_equal(journal_crc32("", 0), 0);
        assert_int_equal(pthread_create(&t, NULL, crc_of_check, NULL), 0);
        assert_int_equal(pthread_join(t, &other), 0);
        assert_int_equal((uint32_t) (uintptr_t) other, 0xcbf43926);
}

static void encode_decode_roundtrip(void **state) {
        static uint8_t buf[TG_JOURNAL_RECORD_MAX];
        static tg_journal_record rec;
        uint8_t key[TG_JOURNAL_MAC_SIZE] = {7}, mac[TG_JOURNAL_MAC_SIZE], prev[TG_JOURNAL_MAC_SIZE] = {9};
        uint8_t host[TG_JOURNAL_ID_SIZE] = {1}, boot[TG_JOURNAL_ID_SIZE] = {2};
        tg_journal_field f[] = {{"label", "総務課-USB01"}, {"user", "tanaka"}, {"empty", ""}};
        tg_journal_entry e = {.type = "usb.decision",
                              .priority = 5,
                              .uid = 1000,
                              .pid = 77,
                              .comm = "termguardd",
                              .unit = NULL,
                              .fields = f,
                              .n_fields = 3};
        record_header h = {.seq = 12,
                           .host_id = host,
                           .boot_id = boot,
                           .time_usec = 1764460800123456,
                           .clock = TG_JOURNAL_CLOCK_UNSYNCED,
                           .prev_mac = prev};
        ssize_t size;
        (void) state;

        size = journal_record_encode(&e, &h, key, buf, mac);
        assert_true(size > 0);
        assert_int_equal(journal_record_decode(buf, (size_t) size, &rec), size);
        assert_int_equal(rec.seq, 12);
        assert_int_equal(rec.time_usec, 1764460800123456);
        assert_int_equal(rec.clock, TG_JOURNAL_CLOCK_UNSYNCED);
        assert_int_equal(rec.priority, 5);
        assert_int_equal(rec.uid, 1000);
        assert_int_equal(rec.pid, 77);
        assert_string_equal(rec.type, "usb.decision");
        assert_string_equal(rec.comm, "termguardd");
        assert_string_equal(rec.unit, "");
        assert_int_equal(rec.n_fields, 3);
        assert_string_equal(tg_journal_record_get(&rec, "label"), "総務課-USB01");
        assert_string_equal(tg_journal_record_get(&rec, "empty"), "");
        assert_null(tg_journal_record_get(&rec, "nothing"));
        assert_memory_equal(rec.host_id, host, sizeof(host));
        assert_memory_equal(rec.boot_id, boot, sizeof(boot));
        assert_memory_equal(rec.prev_mac, prev, sizeof(prev));
        assert_memory_equal(rec.mac, mac, sizeof(mac));
        /* the encoding is canonical: the same entry encodes to the same bytes */
        {
                static uint8_t again[TG_JOURNAL_RECORD_MAX];
                assert_int_equal(journal_record_encode(&e, &h, key, again, mac), size);
                assert_memory_equal(again, buf, (size_t) size);
        }
        /* cut short anywhere: incomplete, never a record */
        for (ssize_t n = 0; n < size; n++)
                assert_int_equal(journal_record_decode(buf, (size_t) n, &rec), -EAGAIN);
        /* any one byte flipped: refused */
        for (ssize_t i = 0; i < size; i++) {
                ssize_t k;
                buf[i] ^= 0x20;
                k = journal_record_decode(buf, (size_t) size, &rec);
                assert_true(k == -EBADMSG || k == -EAGAIN);
                buf[i] ^= 0x20;
        }
}

/* Sets a record's CRC after a change, as somebody forging it would. */
static void fix_crc(uint8_t *p) {
        uint32_t size = get32(p + 4);
        put32(p + size - 4, journal_crc32(p, size - 4));
}

static void hostile_records(void **state) {
        static uint8_t buf[TG_JOURNAL_RECORD_MAX], copy[TG_JOURNAL_RECORD_MAX];
        static tg_journal_record rec;
        uint8_t key[TG_JOURNAL_MAC_SIZE] = {0}, mac[TG_JOURNAL_MAC_SIZE], zero[TG_JOURNAL_MAC_SIZE] = {0};
        tg_journal_field f[] = {{"label", "x"}};
        tg_journal_entry e = {.type = "usb.attach", .priority = 6, .fields = f, .n_fields = 1};
        record_header h = {.seq = 1, .host_id = zero, .boot_id = zero, .time_usec = 1, .prev_mac = zero};
        ssize_t size = journal_record_encode(&e, &h, key, buf, mac);
        (void) state;
        assert_true(size > 0);

        struct {
                size_t off;
                uint8_t value;
        } changes[] = {
                {8, 2},                       /* schema 2 */
                {10, 3},                      /* clock out of range */
                {11, 8},                      /* priority 8 */
                {68, 65},                     /* 65 fields */
                {69, 0xff},                   /* 65,000 fields */
                {RECORD_FIXED_SIZE, 0xff},    /* type longer than the record */
                {RECORD_FIXED_SIZE + 2, 'U'}, /* type with an upper-case letter */
                {RECORD_FIXED_SIZE + 2, 0},   /* NUL in the type */
                {12, 0},                      /* seq 0 (seq was 1) */
        };
        for (size_t i = 0; i < ELEMENTSOF(changes); i++) {
                memcpy(copy, buf, (size_t) size);
                copy[changes[i].off] = changes[i].value;
                fix_crc(copy);
                assert_int_equal(journal_record_decode(copy, (size_t) size, &rec), -EBADMSG);
        }
        /* lengths that point outside the record, with a valid checksum */
        memcpy(copy, buf, (size_t) size);
        put32(copy + 4, 10); /* shorter than any record */
        assert_int_equal(journal_record_decode(copy, (size_t) size, &rec), -EBADMSG);
        put32(copy + 4, TG_JOURNAL_RECORD_MAX + 1);
        assert_int_equal(journal_record_decode(copy, (size_t) size, &rec), -EBADMSG);
        put32(copy, 0);
        assert_int_equal(journal_record_decode(copy, (size_t) size, &rec), -EBADMSG);
        /* a record whose field list ends early: bytes left over */
        memcpy(copy, buf, (size_t) size);
        put16(copy + 68, 0);
        fix_crc(copy);
        assert_int_equal(journal_record_decode(copy, (size_t) size, &rec), -EBADMSG);
}

static void rejects_bad_entries(void **state) {
        tg_journal *j;
        char big[TG_JOURNAL_VALUE_MAX + 2];
        tg_journal_field many[TG_JOURNAL_FIELDS_MAX + 1];
        tg_journal_field bad_key[] = {{"bad-key", "v"}};
        tg_journal_field long_value[] = {{"k", big}};
        tg_journal_entry cases[] = {
                {.type = "USB.attach"},
                {.type = ""},
                {.type = NULL},
                {.type = "usb.attach", .priority = 8},
                {.type = "usb.attach", .fields = bad_key, .n_fields = 1},
                {.type = "usb.attach", .fields = long_value, .n_fields = 1},
                {.type = "usb.attach", .fields = many, .n_fields = ELEMENTSOF(many)},
                {.type = "usb.attach", .time_usec = -1},
        };
        uint64_t seq = 99;
        (void) state;
        memset(big, 'a', sizeof(big) - 1);
        big[sizeof(big) - 1] = 0;
        for (size_t i = 0; i < ELEMENTSOF(many); i++)
                many[i] = (tg_journal_field){"k", "v"};
        j = init_and_open();
        for (size_t i = 0; i < ELEMENTSOF(cases); i++)
                assert_int_equal(tg_journal_append(j, &cases[i], TG_JOURNAL_SYNC, &seq), -EINVAL);
        assert_int_equal(seq, 99);
        /* the refusals left no trace: the next record is seq 2, after journal.initialized */
        assert_int_equal(append_n(j, "usb.attach", "ok", TG_JOURNAL_SYNC), 2);
        tg_journal_close(j);
}

static void chain_and_key_evolution(void **state) {
        tg_journal *j = init_and_open();
        uint8_t keys[12][TG_JOURNAL_MAC_SIZE], mac[TG_JOURNAL_MAC_SIZE], prev[TG_JOURNAL_MAC_SIZE] = {0};
        static tg_journal_record rec;
        size_t len, offs[16] = {0}, n;
        uint8_t *seg, *st;
        problems ps;
        (void) state;

        for (int i = 0; i < 9; i++)
                assert_int_equal(append_n(j, "usb.attach", "A", TG_JOURNAL_SYNC), (uint64_t) i + 2);
        journal_key_first(seed, keys[1]);
        for (int i = 2; i < 12; i++) {
                memcpy(keys[i], keys[i - 1], TG_JOURNAL_MAC_SIZE);
                journal_key_evolve(keys[i]);
        }
        seg = read_whole("seg-0000000000000001.tgj", &len);
        n = record_offsets(seg, len, offs, ELEMENTSOF(offs));
        assert_int_equal(n, 10);
        for (size_t i = 0; i < n; i++) {
                assert_true(journal_record_decode(seg + offs[i], len - offs[i], &rec) > 0);
                assert_int_equal(rec.seq, i + 1);
                assert_memory_equal(rec.prev_mac, prev, sizeof(prev));
                /* record i verifies with K_i, and with no other key */
                journal_record_mac(seg + offs[i], &rec, keys[i + 1], mac);
                assert_memory_equal(mac, rec.mac, sizeof(mac));
                journal_record_mac(seg + offs[i], &rec, keys[i + 2], mac);
                assert_memory_not_equal(mac, rec.mac, sizeof(mac));
                journal_record_mac(seg + offs[i], &rec, keys[i ? i : 2], mac);
                assert_memory_not_equal(mac, rec.mac, sizeof(mac));
                memcpy(prev, rec.mac, sizeof(prev));
        }
        /* the key state holds K_11 only: no key of a written record can be read from it */
        st = read_whole(STATE_FILE, &len);
        assert_int_equal(len, STATE_SIZE);
        for (int i = 1; i < 11; i++)
                assert_null(memmem(st, len, keys[i], TG_JOURNAL_MAC_SIZE));
        assert_non_null(memmem(st, len, keys[11], TG_JOURNAL_MAC_SIZE));
        assert_null(memmem(st, len, seed, sizeof(seed)));
        free(seg);
        free(st);
        tg_journal_close(j);

        assert_int_equal(verify(seed, &ps).problems, 0);
        assert_int_equal(verify(NULL, &ps).problems, 0);
        /* another seed: every record fails its MAC */
        {
                uint8_t other[TG_JOURNAL_SEED_SIZE] = {0};
                tg_journal_verify_result res = verify(other, &ps);
                assert_int_equal(res.problems, 10);
                assert_int_equal(res.first.kind, TG_JOURNAL_PROBLEM_MAC);
                assert_int_equal(res.first.seq, 1);
        }
}

/* An entry without a time is stamped by the journal: the time now, and the clock's state as
 * adjtimex reports it (read again at most every 100 ms, which this test cannot outwait). */
static void journal_stamps_time_and_clock(void **state) {
        tg_journal *j = init_and_open();
        tg_journal_reader *r;
        const tg_journal_record *rec;
        tg_journal_field f[] = {{"device", "1-2"}};
        tg_journal_entry e = {.type = "usb.attach", .priority = 6, .comm = "termguardd", .fields = f, .n_fields = 1};
        tg_journal_clock clock = tg_journal_clock_state();
        struct timespec ts;
        int64_t before, after;
        uint64_t seq;
        (void) state;
        clock_gettime(CLOCK_REALTIME, &ts);
        before = (int64_t) ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
        for (int i = 0; i < 3; i++)
                assert_int_equal(tg_journal_append(j, &e, i == 1 ? TG_JOURNAL_SYNC : 0, &seq), 0);
        assert_int_equal(tg_journal_sync(j), 0);
        clock_gettime(CLOCK_REALTIME, &ts);
        after = (int64_t) ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
        tg_journal_close(j);
        assert_int_equal(tg_journal_reader_open(dir, &r), 0);
        assert_int_equal(tg_journal_reader_seek_seq(r, 2), 0);
        for (int i = 0; i < 3; i++) {
                assert_int_equal(tg_journal_reader_next(r, &rec), 1);
                assert_int_equal(tg_journal_record_seq(rec), 2 + i);
                assert_in_range(tg_journal_record_time(rec), before, after);
                assert_int_equal(tg_journal_record_clock(rec), clock);
        }
        assert_int_equal(tg_journal_reader_next(r, &rec), 0);
        tg_journal_reader_free(r);
}

static void reader_returns_fields(void **state) {
        tg_journal *j = init_and_open();
        tg_journal_reader *r;
        const tg_journal_record *rec;
        const char *k, *v;
        (void) state;
        append_n(j, "storage.read-only", "総務課", TG_JOURNAL_SYNC);
        tg_journal_close(j);
        assert_int_equal(tg_journal_reader_open(dir, &r), 0);
        assert_int_equal(tg_journal_reader_seek_seq(r, 2), 0);
        assert_int_equal(tg_journal_reader_next(r, &rec), 1);
        assert_int_equal(tg_journal_record_seq(rec), 2);
        assert_string_equal(tg_journal_record_type(rec), "storage.read-only");
        assert_int_equal(tg_journal_record_uid(rec), 1000);
        assert_int_equal(tg_journal_record_pid(rec), 42);
        assert_string_equal(tg_journal_record_comm(rec), "termguardd");
        assert_int_equal(tg_journal_record_time(rec), 1764460800000000);
        assert_int_equal(tg_journal_record_clock(rec), TG_JOURNAL_CLOCK_SYNCED);
        assert_int_equal(tg_journal_record_n_fields(rec), 2);
        tg_journal_record_field(rec, 1, &k, &v);
        assert_string_equal(k, "label");
        assert_string_equal(v, "総務課");
        tg_journal_record_field(rec, 2, &k, &v);
        assert_null(k);
        assert_int_equal(tg_journal_reader_next(r, &rec), 0);
        tg_journal_reader_free(r);
}

static void torn_tail_is_recovered(void **state) {
        tg_journal *j = init_and_open();
        static const uint8_t garbage[] = "TGJR\x40\x01\x00\x00partial record";
        uint64_t seqs[16];
        char types[16][TG_JOURNAL_TYPE_MAX + 1];
        problems ps;
        size_t n, len;
        uint8_t *seg;
        (void) state;

        for (int i = 0; i < 3; i++)
                append_n(j, "usb.attach", "A", TG_JOURNAL_SYNC);
        tg_journal_close(j);
        /* a record cut short by a crash, after the last acknowledged one */
        seg = read_whole("seg-0000000000000001.tgj", &len);
        seg = realloc(seg, len + sizeof(garbage));
        if (!seg)
                abort();
        memcpy(seg + len, garbage, sizeof(garbage));
        write_whole("seg-0000000000000001.tgj", seg, len + sizeof(garbage));
        free(seg);
        /* verify shows the tail before recovery */
        assert_true(verify(seed, &ps).problems > 0);
        assert_true(has_problem(&ps, TG_JOURNAL_PROBLEM_TRUNCATED));

        assert_int_equal(tg_journal_open(dir, &opts, &j), 0);
        assert_int_equal(append_n(j, "usb.detach", "A", TG_JOURNAL_SYNC), 6);
        tg_journal_close(j);
        n = read_all(seqs, types, ELEMENTSOF(seqs));
        assert_int_equal(n, 6);
        assert_int_equal(seqs[4], 5);
        assert_string_equal(types[4], TG_JOURNAL_TYPE_RECOVERED);
        /* the recovered journal verifies, and the recovery says what was cut */
        assert_int_equal(verify(seed, &ps).problems, 0);
        {
                tg_journal_reader *r;
                const tg_journal_record *rec;
                assert_int_equal(tg_journal_reader_open(dir, &r), 0);
                assert_int_equal(tg_journal_reader_seek_seq(r, 5), 0);
                assert_int_equal(tg_journal_reader_next(r, &rec), 1);
                char off[32], bytes[32];
                snprintf(off, sizeof(off), "%zu", len);
                snprintf(bytes, sizeof(bytes), "%zu", sizeof(garbage));
                assert_string_equal(tg_journal_record_get(rec, "torn_offset"), off);
                assert_string_equal(tg_journal_record_get(rec, "torn_bytes"), bytes);
                assert_null(tg_journal_record_get(rec, "skipped_first"));
                tg_journal_reader_free(r);
        }
}

static void seq_never_reused_after_crash(void **state) {
        tg_journal *j = init_and_open();
        uint64_t seqs[64], handed = 0;
        char types[64][TG_JOURNAL_TYPE_MAX + 1];
        int pipefd[2], status;
        problems ps;
        tg_journal_verify_result res;
        pid_t pid;
        size_t n;
        (void) state;

        append_n(j, "usb.attach", "A", TG_JOURNAL_SYNC);
        tg_journal_close(j);
        /* A writer hands out seqs of buffered records, then dies without syncing. */
        assert_int_equal(pipe(pipefd), 0);
        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                tg_journal *c;
                uint64_t last = 0;
                if (tg_journal_open(dir, &opts, &c) < 0)
                        _exit(1);
                for (int i = 0; i < 5; i++)
                        last = append_n(c, "usb.attach", "B", 0);
                if (write(pipefd[1], &last, sizeof(last)) != sizeof(last))
                        _exit(1);
                _exit(0); /* no sync, no close: a crash */
        }
        close(pipefd[1]);
        assert_int_equal(read(pipefd[0], &handed, sizeof(handed)), sizeof(handed));
        close(pipefd[0]);
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_int_equal(status, 0);
        assert_int_equal(handed, 7);

        /* The buffered records died with the writer; a reader could not have seen them, but
         * their seqs were handed out: the next seq is past the reservation. */
        assert_int_equal(tg_journal_open(dir, &opts, &j), 0);
        assert_true(append_n(j, "usb.detach", "C", TG_JOURNAL_SYNC) > handed);
        tg_journal_close(j);
        n = read_all(seqs, types, ELEMENTSOF(seqs));
        assert_int_equal(n, 2 + 2);
        assert_string_equal(types[2], TG_JOURNAL_TYPE_RECOVERED);
        /* the child reserved seqs 3 .. 3 + SEQ_RESERVE_BLOCK - 1 */
        assert_int_equal(seqs[2], 3 + SEQ_RESERVE_BLOCK);
        res = verify(seed, &ps);
        assert_int_equal(res.problems, 0);
        assert_int_equal(res.notes, 1);
        assert_int_equal(ps.kinds[0], TG_JOURNAL_PROBLEM_SKIPPED);

        /* A clean close leaves nothing to skip. */
        assert_int_equal(tg_journal_open(dir, &opts, &j), 0);
        {
                uint64_t a = append_n(j, "usb.attach", "D", 0);
                tg_journal_close(j);
                assert_int_equal(tg_journal_open(dir, &opts, &j), 0);
                assert_int_equal(append_n(j, "usb.attach", "E", TG_JOURNAL_SYNC), a + 1);
                tg_journal_close(j);
        }
        assert_int_equal(verify(seed, &ps).problems, 0);
}

static void lost_records_are_reported(void **state) {
        tg_journal *j = init_and_open();
        uint8_t *seg;
        size_t len, offs[16] = {0}, n;
        problems ps;
        tg_journal_verify_result res;
        (void) state;

        for (int i = 0; i < 5; i++)
                append_n(j, "usb.attach", "A", TG_JOURNAL_SYNC);
        tg_journal_close(j);
        /* durable records cut off the end (the key state knows they were there) */
        seg = read_whole("seg-0000000000000001.tgj", &len);
        n = record_offsets(seg, len, offs, ELEMENTSOF(offs));
        assert_int_equal(n, 6);
        write_whole("seg-0000000000000001.tgj", seg, offs[4]);
        free(seg);
        assert_int_equal(tg_journal_open(dir, &opts, &j), 0);
        /* never the seq of a lost record */
        assert_int_equal(append_n(j, "usb.attach", "B", TG_JOURNAL_SYNC), 8);
        tg_journal_close(j);
        res = verify(seed, &ps);
        assert_int_equal(res.problems, 1);
        assert_int_equal(res.first.kind, TG_JOURNAL_PROBLEM_LOST);
        assert_int_equal(res.first.seq, 7);
        assert_int_equal(res.first.expected, 5);
}

static void cap_and_reserve(void **state) {
        tg_journal *j;
        static char big[4001];
        tg_journal_field f[] = {{"data", big}};
        tg_journal_entry e = {.type = "usb.attach", .priority = 6, .fields = f, .n_fields = 1};
        tg_journal_usage_info u;
        uint64_t seq;
        int r, normal = 0, reserved = 0;
        (void) state;
        memset(big, 'x', sizeof(big) - 1);
        opts.segment_bytes = SEGMENT_HEADER_SIZE + TG_JOURNAL_RECORD_MAX;
        opts.max_bytes = 200000;
        opts.reserve_bytes = 40000;
        j = init_and_open();
        while ((r = tg_journal_append(j, &e, TG_JOURNAL_SYNC, &seq)) == 0)
                normal++;
        assert_int_equal(r, -ENOSPC);
        assert_int_equal(tg_journal_usage(j, &u), 0);
        assert_true(u.used_bytes <= 200000 - 40000);
        assert_true(u.used_bytes + 4200 > 200000 - 40000);
        assert_int_equal(u.max_bytes, 200000);
        assert_int_equal(u.reserve_bytes, 40000);
        /* the reserve is there for those allowed to use it, until it is gone too */
        while ((r = tg_journal_append(j, &e, TG_JOURNAL_SYNC | TG_JOURNAL_RESERVE, &seq)) == 0)
                reserved++;
        assert_int_equal(r, -ENOSPC);
        assert_true(normal > 30);
        assert_true(reserved >= 8);
        assert_int_equal(tg_journal_append(j, &e, TG_JOURNAL_SYNC, &seq), -ENOSPC);
        assert_int_equal(tg_journal_usage(j, &u), 0);
        assert_true(u.used_bytes <= 200000);
        assert_int_equal(u.next_seq, (uint64_t) (2 + normal + reserved));
        tg_journal_close(j);
        /* usage is counted again from the files on open */
        assert_int_equal(tg_journal_open(dir, &opts, &j), 0);
        assert_int_equal(tg_journal_append(j, &e, TG_JOURNAL_SYNC, &seq), -ENOSPC);
        tg_journal_close(j);
}

static size_t count_segments(void) {
        char cmd[400];
        FILE *p;
        size_t n = 0;
        snprintf(cmd, sizeof(cmd), "ls '%s' | grep -c '^seg-'", dir);
        p = popen(cmd, "r");
        assert_non_null(p);
        assert_int_equal(fscanf(p, "%zu", &n), 1);
        pclose(p);
        return n;
}

static void prune_keeps_unforwarded(void **state) {
        tg_journal *j;
        static char big[4001];
        tg_journal_usage_info u;
        problems ps;
        uint64_t seq, segs_before;
        (void) state;
        memset(big, 'y', sizeof(big) - 1);
        opts.segment_bytes = SEGMENT_HEADER_SIZE + TG_JOURNAL_RECORD_MAX;
        j = init_and_open();
        for (int i = 0; i < 200; i++)
                append_n(j, "usb.attach", big, 0);
        assert_int_equal(tg_journal_sync(j), 0);
        segs_before = count_segments();
        assert_true(segs_before >= 6);
        /* nothing forwarded: nothing goes, however old */
        assert_int_equal(tg_journal_prune(j, 0), 0);
        assert_int_equal(count_segments(), segs_before);
        assert_int_equal(tg_journal_mark_forwarded(j, 1000), -ERANGE);
        /* forwarded up to the middle of the third segment: the first two go */
        assert_int_equal(tg_journal_usage(j, &u), 0);
        seq = 2 * 31 + 10;
        assert_int_equal(tg_journal_mark_forwarded(j, seq), 0);
        /* marks never move back */
        assert_int_equal(tg_journal_mark_forwarded(j, 3), 0);
        assert_int_equal(tg_journal_usage(j, &u), 0);
        assert_int_equal(u.forwarded_seq, seq);
        /* not old enough yet */
        assert_int_equal(tg_journal_prune(j, INT64_C(3600) * 1000000), 0);
        assert_int_equal(count_segments(), segs_before);
        assert_int_equal(tg_journal_prune(j, 0), 2);
        assert_int_equal(count_segments(), segs_before - 2);
        assert_int_equal(tg_journal_usage(j, &u), 0);
        assert_true(u.first_seq <= seq + 1);
        assert_true(u.first_seq > 31);
        tg_journal_close(j);
        /* the journal still verifies: the prune record vouches for its new start */
        assert_int_equal(verify(seed, &ps).problems, 0);
        assert_int_equal(verify(NULL, &ps).problems, 0);
        /* a forwarded mark survives reopening */
        assert_int_equal(tg_journal_open(dir, &opts, &j), 0);
        assert_int_equal(tg_journal_usage(j, &u), 0);
        assert_int_equal(u.forwarded_seq, seq);
        tg_journal_close(j);
}

/* Sets the last write of the segment starting at first to age_sec seconds ago. */
static void age_segment(uint64_t first, int64_t age_sec) {
        char name[SEGMENT_NAME_MAX], path[400];
        struct timespec ts[2];
        clock_gettime(CLOCK_REALTIME, &ts[0]);
        ts[0].tv_sec -= age_sec;
        ts[1] = ts[0];
        journal_segment_name(first, name);
        path_of(path, sizeof(path), name);
        assert_int_equal(utimensat(AT_FDCWD, path, ts, 0), 0);
}

/* The first seqs of the segments, oldest first. */
static int list_segments(uint64_t **ret) {
        int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), n;
        assert_true(fd >= 0);
        n = journal_list_segments(fd, ret);
        close(fd);
        return n;
}

static void prune_step_bounded_by_age_then_by_room(void **state) {
        static char big[4001];
        const int64_t day = INT64_C(86400), day_usec = day * 1000000;
        tg_journal_prune_result res;
        tg_journal_usage_info u;
        tg_journal *j;
        uint64_t *segs = NULL, oldest_seq, forwarded;
        int64_t oldest_usec, before;
        problems ps;
        int n;
        (void) state;
        memset(big, 'y', sizeof(big) - 1);
        opts.segment_bytes = SEGMENT_HEADER_SIZE + TG_JOURNAL_RECORD_MAX;
        j = init_and_open();
        for (int i = 0; i < 300; i++)
                append_n(j, "usb.attach", big, 0);
        assert_int_equal(tg_journal_sync(j), 0);
        n = list_segments(&segs);
        assert_true(n >= 9);
        /* the first four segments are 40 days old, the rest young; all but the last three
         * segments are forwarded, the last forwarded one only in part */
        for (int i = 0; i < 4; i++)
                age_segment(segs[i], 40 * day);
        forwarded = segs[n - 3] + 1;
        assert_int_equal(tg_journal_mark_forwarded(j, forwarded), 0);
        assert_int_equal(tg_journal_oldest(j, &oldest_seq, &oldest_usec), 0);
        assert_int_equal(oldest_seq, 1);
        assert_true(oldest_usec > 0);

        /* no age, no room wanted: nothing, and no moment to come back */
        assert_int_equal(tg_journal_prune_step(j, &(tg_journal_prune_options){.max_age_usec = -1}, &res), 0);
        assert_int_equal(res.deleted, 0);
        assert_int_equal(res.next_usec, 0);
        assert_false(res.more);
        /* by age, at most three at a time: three, then the fourth; the fifth is young and
         * says when it will be old enough */
        tg_journal_prune_options o = {.max_age_usec = 30 * day_usec, .max_segments = 3};
        assert_int_equal(tg_journal_prune_step(j, &o, &res), 0);
        assert_int_equal(res.deleted, 3);
        assert_true(res.more);
        assert_int_equal(res.pruned_through, segs[3] - 1);
        before = (int64_t) time(NULL) * 1000000;
        assert_int_equal(tg_journal_prune_step(j, &o, &res), 0);
        assert_int_equal(res.deleted, 1);
        assert_false(res.more);
        assert_int_equal(res.pruned_through, segs[4] - 1);
        assert_true(res.next_usec >= before + 30 * day_usec - 2000000);
        assert_true(res.next_usec <= (int64_t) time(NULL) * 1000000 + 30 * day_usec + 2000000);
        assert_int_equal(tg_journal_oldest(j, &oldest_seq, &oldest_usec), 0);
        assert_int_equal(oldest_seq, segs[4]);
        /* again: nothing more is old */
        assert_int_equal(tg_journal_prune_step(j, &o, &res), 0);
        assert_int_equal(res.deleted, 0);
        /* the cap needs room: young forwarded segments go, oldest first, never one with a
         * record not forwarded, however much room is asked for */
        assert_int_equal(tg_journal_usage(j, &u), 0);
        o = (tg_journal_prune_options){.max_age_usec = -1, .room_bytes = u.max_bytes};
        assert_int_equal(tg_journal_prune_step(j, &o, &res), 0);
        assert_int_equal(res.deleted, (unsigned) (n - 3 - 4));
        assert_int_equal(res.pruned_through, segs[n - 3] - 1);
        assert_int_equal(res.next_usec, 0);
        assert_int_equal(tg_journal_usage(j, &u), 0);
        assert_int_equal(u.first_seq, segs[n - 3]);
        assert_true(u.first_seq <= forwarded);
        tg_journal_close(j);
        assert_int_equal(verify(seed, &ps).problems, 0);
        assert_int_equal(verify(NULL, &ps).problems, 0);
        free(segs);
}

static void prune_step_for_room_stops_when_there_is_room(void **state) {
        static char big[4001];
        tg_journal_prune_result res;
        tg_journal_usage_info u;
        tg_journal *j;
        uint64_t *segs = NULL;
        int n;
        (void) state;
        memset(big, 'y', sizeof(big) - 1);
        opts.segment_bytes = SEGMENT_HEADER_SIZE + TG_JOURNAL_RECORD_MAX;
        opts.max_bytes = 4 * 1024 * 1024;
        opts.reserve_bytes = 256 * 1024;
        j = init_and_open();
        for (int i = 0; i < 300; i++)
                append_n(j, "usb.attach", big, 0);
        assert_int_equal(tg_journal_sync(j), 0);
        n = list_segments(&segs);
        assert_int_equal(tg_journal_mark_forwarded(j, segs[n - 1] - 1), 0);
        assert_int_equal(tg_journal_usage(j, &u), 0);
        /* room for one segment and a bit more than what is free now: two segments go */
        uint64_t free_now = u.max_bytes - u.reserve_bytes - u.used_bytes;
        tg_journal_prune_options o = {.max_age_usec = -1, .room_bytes = free_now + TG_JOURNAL_RECORD_MAX + 1};
        assert_int_equal(tg_journal_prune_step(j, &o, &res), 0);
        assert_int_equal(res.deleted, 2);
        assert_int_equal(tg_journal_prune_step(j, &o, &res), 0);
        assert_int_equal(res.deleted, 0);
        /* bad arguments */
        assert_int_equal(tg_journal_prune_step(NULL, &o, &res), -EINVAL);
        assert_int_equal(tg_journal_prune_step(j, NULL, &res), -EINVAL);
        assert_int_equal(tg_journal_prune(j, -1), -EINVAL);
        tg_journal_close(j);
        free(segs);
}

static mode_t mode_of(const char *name, gid_t *ret_gid) {
        char path[400];
        struct stat st;
        if (name)
                path_of(path, sizeof(path), name);
        else
                snprintf(path, sizeof(path), "%s", dir);
        assert_int_equal(stat(path, &st), 0);
        if (ret_gid)
                *ret_gid = st.st_gid;
        return st.st_mode & 07777;
}

static int chmod_in(const char *name, mode_t mode) {
        char path[400];
        if (name)
                path_of(path, sizeof(path), name);
        else
                snprintf(path, sizeof(path), "%s", dir);
        return chmod(path, mode);
}

/* [Journal] AuditorGroup=: the group reads records (directory 02750, segments 0640), never the
 * key state; exactly these modes, or the private ones, are accepted and nothing looser. */
static void reader_group_modes(void **state) {
        static const char *const seg1 = "seg-0000000000000001.tgj";
        tg_journal *j = NULL;
        gid_t gid;
        (void) state;
        opts.reader_group = true;
        opts.reader_gid = getegid();
        j = init_and_open();
        append_n(j, "usb.attach", "shared", TG_JOURNAL_SYNC);
        tg_journal_close(j);
        assert_int_equal(mode_of(NULL, &gid), 02750);
        assert_int_equal(gid, getegid());
        assert_int_equal(mode_of(seg1, &gid), 0640);
        assert_int_equal(gid, getegid());
        assert_int_equal(mode_of(STATE_FILE, NULL), 0600);
        /* looser than the group's read: refused, each one */
        static const struct {
                const char *name;
                mode_t bad, good;
        } loose[] = {
                {NULL, 02755, 02750},
                {NULL, 02770, 02750},
                {NULL, 02751, 02750},
                {NULL, 0750, 02750},
                {"seg-0000000000000001.tgj", 0644, 0640},
                {"seg-0000000000000001.tgj", 0660, 0640},
                {"seg-0000000000000001.tgj", 0604, 0640},
                {STATE_FILE, 0640, 0600},
                {STATE_FILE, 0604, 0600},
        };
        for (size_t i = 0; i < ELEMENTSOF(loose); i++) {
                assert_int_equal(chmod_in(loose[i].name, loose[i].bad), 0);
                assert_int_equal(tg_journal_open(dir, &opts, &j), -EPERM);
                assert_int_equal(chmod_in(loose[i].name, loose[i].good), 0);
        }
        /* sharing (done before a confined writer starts) refuses the same */
        assert_int_equal(chmod_in(seg1, 0644), 0);
        assert_int_equal(tg_journal_share(dir, &opts), -EPERM);
        assert_int_equal(chmod_in(seg1, 0640), 0);
        /* and waits for no writer: a writer holds the lock */
        assert_int_equal(tg_journal_open(dir, &opts, &j), 0);
        assert_int_equal(tg_journal_share(dir, &opts), -EBUSY);
        tg_journal_close(j);
        /* the right modes, but of another group than the configured one */
        opts.reader_gid = getegid() + 1;
        assert_int_equal(tg_journal_open(dir, &opts, &j), -EPERM);
        /* the group taken out of the configuration: a group-readable journal is refused too */
        opts.reader_group = false;
        assert_int_equal(tg_journal_open(dir, &opts, &j), -EPERM);
        /* a private journal (made before the group was configured) is shared on open, and
         * made private again when the group goes */
        assert_int_equal(chmod_in(NULL, 0700), 0);
        assert_int_equal(chmod_in(seg1, 0600), 0);
        opts.reader_group = true;
        opts.reader_gid = getegid();
        assert_int_equal(tg_journal_open(dir, &opts, &j), 0);
        tg_journal_close(j);
        assert_int_equal(mode_of(NULL, NULL), 02750);
        assert_int_equal(mode_of(seg1, NULL), 0640);
        assert_int_equal(mode_of(STATE_FILE, NULL), 0600);
        /* the same by tg_journal_share, without opening the journal; a shared journal with no
         * group configured is refused as by the writer */
        opts.reader_group = false;
        assert_int_equal(tg_journal_share(dir, &opts), -EPERM);
        assert_int_equal(mode_of(NULL, NULL), 02750);
        assert_int_equal(chmod_in(NULL, 0700), 0);
        assert_int_equal(chmod_in(seg1, 0600), 0);
        opts.reader_group = true;
        assert_int_equal(tg_journal_share(dir, &opts), 0);
        assert_int_equal(mode_of(NULL, &gid), 02750);
        assert_int_equal(gid, getegid());
        assert_int_equal(mode_of(seg1, NULL), 0640);
        assert_int_equal(mode_of(STATE_FILE, NULL), 0600);
        assert_int_equal(chmod_in(NULL, 0700), 0);
        assert_int_equal(chmod_in(seg1, 0600), 0);
        opts.reader_group = false;
        assert_int_equal(tg_journal_open(dir, &opts, &j), 0);
        tg_journal_close(j);
        assert_int_equal(mode_of(NULL, NULL), 0700);
        assert_int_equal(mode_of(seg1, NULL), 0600);
}

/* Segments made by rotation get the group's mode too. */
static void reader_group_new_segments(void **state) {
        static char big[4001];
        tg_journal *j;
        (void) state;
        memset(big, 'g', sizeof(big) - 1);
        opts.reader_group = true;
        opts.reader_gid = getegid();
        opts.segment_bytes = SEGMENT_HEADER_SIZE + TG_JOURNAL_RECORD_MAX;
        j = init_and_open();
        for (int i = 0; i < 40; i++)
                append_n(j, "usb.attach", big, 0);
        tg_journal_close(j);
        assert_true(count_segments() >= 2);
        {
                char cmd[500];
                /* every segment 0640: find prints those that are not */
                snprintf(cmd, sizeof(cmd), "test -z \"$(find '%s' -name 'seg-*' ! -perm 0640)\"", dir);
                assert_int_equal(system(cmd), 0);
        }
}

/* The reader hands out each record's exact bytes: they decode to the record it returned and
 * are the bytes in the segment file. */
static void reader_raw_bytes(void **state) {
        tg_journal *j = init_and_open();
        tg_journal_reader *r = NULL;
        const tg_journal_record *rec;
        tg_journal_record *dec = malloc(sizeof(*dec));
        const void *raw;
        size_t len, n = 0;
        (void) state;
        assert_non_null(dec);
        for (int i = 0; i < 5; i++)
                append_n(j, "usb.attach", i % 2 ? "日本語" : "x", TG_JOURNAL_SYNC);
        tg_journal_close(j);
        assert_int_equal(tg_journal_reader_open(dir, &r), 0);
        /* nothing returned yet */
        assert_int_equal(tg_journal_reader_raw(r, &raw, &len), -ENODATA);
        while (tg_journal_reader_next(r, &rec) == 1) {
                const char *file;
                uint64_t off;
                uint8_t *seg;
                size_t seg_len;
                assert_int_equal(tg_journal_reader_raw(r, &raw, &len), 0);
                assert_int_equal(journal_record_decode(raw, len, dec), (ssize_t) len);
                assert_int_equal(dec->seq, tg_journal_record_seq(rec));
                assert_memory_equal(dec->mac, tg_journal_record_mac(rec), TG_JOURNAL_MAC_SIZE);
                tg_journal_reader_position(r, &file, &off);
                seg = read_whole(file, &seg_len);
                assert_true(off + len <= seg_len);
                assert_memory_equal(seg + off, raw, len);
                free(seg);
                n++;
        }
        assert_int_equal(n, 6);
        /* at the end: no record */
        assert_int_equal(tg_journal_reader_raw(r, &raw, &len), -ENODATA);
        /* after a seek, not before the next record */
        assert_int_equal(tg_journal_reader_seek_seq(r, 3), 0);
        assert_int_equal(tg_journal_reader_raw(r, &raw, &len), -ENODATA);
        assert_int_equal(tg_journal_reader_next(r, &rec), 1);
        assert_int_equal(tg_journal_reader_raw(r, &raw, &len), 0);
        assert_int_equal(journal_record_decode(raw, len, dec), (ssize_t) len);
        assert_int_equal(dec->seq, 3);
        tg_journal_reader_free(r);
        free(dec);
}

static void deleted_head_segment_is_a_gap(void **state) {
        tg_journal *j;
        static char big[4001];
        char path[400];
        problems ps;
        tg_journal_verify_result res;
        (void) state;
        memset(big, 'z', sizeof(big) - 1);
        opts.segment_bytes = SEGMENT_HEADER_SIZE + TG_JOURNAL_RECORD_MAX;
        j = init_and_open();
        for (int i = 0; i < 80; i++)
                append_n(j, "usb.attach", big, 0);
        tg_journal_close(j);
        /* somebody deletes the oldest segment by hand: no prune record explains it */
        path_of(path, sizeof(path), "seg-0000000000000001.tgj");
        assert_int_equal(unlink(path), 0);
        res = verify(NULL, &ps);
        assert_int_equal(res.problems, 1);
        assert_int_equal(res.first.kind, TG_JOURNAL_PROBLEM_GAP);
        assert_int_equal(res.first.expected, 1);
}

/* Tampering: each change is found by verify, which names the record and file. */
static void tamper_setup(uint8_t **seg, size_t *len, size_t *offs, size_t *n) {
        tg_journal *j = init_and_open();
        for (int i = 0; i < 9; i++)
                append_n(j, "usb.attach", "A", TG_JOURNAL_SYNC);
        tg_journal_close(j);
        *seg = read_whole("seg-0000000000000001.tgj", len);
        *n = record_offsets(*seg, *len, offs, 16);
        assert_int_equal(*n, 10);
}

static void tamper_flip_byte(void **state) {
        uint8_t *seg;
        size_t len, offs[16] = {0}, n;
        problems ps;
        tg_journal_verify_result res;
        (void) state;
        tamper_setup(&seg, &len, offs, &n);
        seg[offs[4] + RECORD_FIXED_SIZE + 3] ^= 1; /* a byte of record 5's type */
        write_whole("seg-0000000000000001.tgj", seg, len);
        res = verify(NULL, &ps);
        assert_true(res.problems > 0);
        assert_int_equal(res.first.kind, TG_JOURNAL_PROBLEM_CORRUPT);
        assert_string_equal(res.first_file, "seg-0000000000000001.tgj");
        assert_int_equal(res.first.offset, offs[4]);
        free(seg);
}

static void tamper_forged_checksum(void **state) {
        uint8_t *seg;
        size_t len, offs[16] = {0}, n;
        problems ps;
        tg_journal_verify_result res;
        (void) state;
        tamper_setup(&seg, &len, offs, &n);
        /* a field of record 6 changed and its checksum recomputed: only the MAC shows it */
        {
                uint8_t *rec = seg + offs[5];
                uint32_t size = get32(rec + 4);
                /* the label "A" is the record's last text byte before the trailer */
                assert_int_equal(rec[size - RECORD_TRAILER_SIZE - 1], 'A');
                rec[size - RECORD_TRAILER_SIZE - 1] = 'B';
                fix_crc(rec);
        }
        write_whole("seg-0000000000000001.tgj", seg, len);
        assert_int_equal(verify(NULL, &ps).problems, 0);
        res = verify(seed, &ps);
        assert_int_equal(res.problems, 1);
        assert_int_equal(res.first.kind, TG_JOURNAL_PROBLEM_MAC);
        assert_int_equal(res.first.seq, 6);
        free(seg);
}

/* The reader hands out each record's exact bytes, and those bytes decode alone to the same
 * record: what a forwarder sends and the central store keeps. */
static void reader_raw_and_record_decode(void **state) {
        tg_journal *j = init_and_open();
        tg_journal_reader *r = NULL;
        tg_journal_record *rec = NULL;
        const tg_journal_record *got;
        const void *raw;
        size_t size;
        uint8_t copy[TG_JOURNAL_RECORD_MAX + 1];
        (void) state;
        append_n(j, "usb.attach", "総務課-USB01", TG_JOURNAL_SYNC);
        tg_journal_close(j);
        assert_int_equal(tg_journal_reader_open(dir, &r), 0);
        assert_int_equal(tg_journal_reader_raw(r, &raw, &size), -ENODATA); /* nothing returned yet */
        assert_int_equal(tg_journal_reader_next(r, &got), 1);              /* journal.initialized */
        assert_int_equal(tg_journal_reader_next(r, &got), 1);
        assert_int_equal(tg_journal_reader_raw(r, &raw, &size), 0);
        assert_true(size <= TG_JOURNAL_RECORD_MAX);
        memcpy(copy, raw, size);
        assert_int_equal(tg_journal_record_new(&rec), 0);
        assert_int_equal(tg_journal_record_decode(copy, size, rec), 0);
        assert_int_equal(tg_journal_record_seq(rec), 2);
        assert_string_equal(tg_journal_record_type(rec), "usb.attach");
        assert_string_equal(tg_journal_record_get(rec, "label"), "総務課-USB01");
        assert_memory_equal(tg_journal_record_mac(rec), tg_journal_record_mac(got), TG_JOURNAL_MAC_SIZE);
        /* exactly one record: a byte more or less, or one changed, is no record */
        copy[size] = 0;
        assert_int_equal(tg_journal_record_decode(copy, size + 1, rec), -EBADMSG);
        assert_int_equal(tg_journal_record_decode(copy, size - 1, rec), -EBADMSG);
        assert_int_equal(tg_journal_record_decode(copy, 0, rec), -EBADMSG);
        copy[RECORD_FIXED_SIZE + 1] ^= 1;
        assert_int_equal(tg_journal_record_decode(copy, size, rec), -EBADMSG);
        assert_int_equal(tg_journal_reader_next(r, &got), 0);
        assert_int_equal(tg_journal_reader_raw(r, &raw, &size), -ENODATA);
        tg_journal_record_free(rec);
        tg_journal_reader_free(r);
}

/* Verification of records fed one by one (the central store's rows of one host). */
static tg_journal_verify_result feed_all(const uint8_t *seg, const size_t *offs, const size_t *order, size_t n,
                                         const tg_journal_verify_options *opt, problems *ps) {
        tg_journal_verify_options o = *opt;
        tg_journal_chain *c = NULL;
        tg_journal_verify_result res;
        o.report = collect;
        o.userdata = ps;
        memset(ps, 0, sizeof(*ps));
        assert_int_equal(tg_journal_chain_new(&o, &c), 0);
        for (size_t i = 0; i < n; i++) {
                const uint8_t *p = seg + offs[order[i]];
                const tg_journal_record *rec = NULL;
                int k = tg_journal_chain_feed(c, p, get32(p + 4), &rec);
                assert_true(k == 0 || k == 1);
                if (k == 1)
                        assert_non_null(rec);
        }
        tg_journal_chain_end(c, &res);
        tg_journal_chain_free(c);
        return res;
}

static void chain_over_stream(void **state) {
        uint8_t *seg, other[TG_JOURNAL_ID_SIZE] = {0xee};
        size_t len, offs[16] = {0}, n, order[16];
        problems ps;
        tg_journal_verify_result res;
        tg_journal_verify_options o = {.seed = seed};
        uint8_t host[TG_JOURNAL_ID_SIZE];
        (void) state;
        tamper_setup(&seg, &len, offs, &n);
        memcpy(host, seg + offs[0] + 20, sizeof(host));
        for (size_t i = 0; i < n; i++)
                order[i] = i;

        /* intact, MACs checked, host checked */
        o.host_id = host;
        res = feed_all(seg, offs, order, n, &o, &ps);
        assert_int_equal(res.problems, 0);
        assert_true(res.macs_checked);
        assert_int_equal(res.records, 10);
        assert_int_equal(res.first_seq, 1);
        assert_int_equal(res.last_seq, 10);

        /* another host's records */
        o.host_id = other;
        res = feed_all(seg, offs, order, n, &o, &ps);
        assert_int_equal(res.first.kind, TG_JOURNAL_PROBLEM_HOST);
        assert_int_equal(res.first.seq, 1);
        assert_string_equal(res.first_file, "");
        o.host_id = host;

        /* a row deleted: the gap and the broken link */
        for (size_t i = 4; i < n; i++)
                order[i - 1] = i;
        res = feed_all(seg, offs, order, n - 1, &o, &ps);
        assert_int_equal(res.first.kind, TG_JOURNAL_PROBLEM_GAP);
        assert_int_equal(res.first.seq, 5);
        assert_int_equal(res.first.expected, 4);
        assert_true(has_problem(&ps, TG_JOURNAL_PROBLEM_CHAIN));
        for (size_t i = 0; i < n; i++)
                order[i] = i;

        /* the oldest rows deleted: a gap at the start, no prune says why */
        res = feed_all(seg, offs, order + 3, n - 3, &o, &ps);
        assert_int_equal(res.first.kind, TG_JOURNAL_PROBLEM_GAP);
        assert_int_equal(res.first.seq, 4);
        assert_int_equal(res.first.expected, 1);

        /* two rows swapped */
        order[6] = 7;
        order[7] = 6;
        res = feed_all(seg, offs, order, n, &o, &ps);
        assert_true(has_problem(&ps, TG_JOURNAL_PROBLEM_REORDER));
        order[6] = 6;
        order[7] = 7;

        /* the tail cut off before a checkpoint kept elsewhere */
        o.have_checkpoint = true;
        o.checkpoint_seq = 10;
        memcpy(o.checkpoint_mac, seg + offs[9] + get32(seg + offs[9] + 4) - 4 - TG_JOURNAL_MAC_SIZE,
               TG_JOURNAL_MAC_SIZE);
        res = feed_all(seg, offs, order, n, &o, &ps);
        assert_int_equal(res.problems, 0);
        res = feed_all(seg, offs, order, n - 2, &o, &ps);
        assert_int_equal(res.first.kind, TG_JOURNAL_PROBLEM_TRUNCATED);
        assert_int_equal(res.first.seq, 8);
        assert_int_equal(res.first.expected, 10);
        o.have_checkpoint = false;

        /* a field changed and its checksum recomputed: only the MAC shows it, with the seed */
        {
                uint8_t *rec = seg + offs[5];
                uint32_t size = get32(rec + 4);
                assert_int_equal(rec[size - RECORD_TRAILER_SIZE - 1], 'A');
                rec[size - RECORD_TRAILER_SIZE - 1] = 'B';
                fix_crc(rec);
        }
        res = feed_all(seg, offs, order, n, &o, &ps);
        assert_int_equal(res.problems, 1);
        assert_int_equal(res.first.kind, TG_JOURNAL_PROBLEM_MAC);
        assert_int_equal(res.first.seq, 6);
        o.seed = NULL;
        res = feed_all(seg, offs, order, n, &o, &ps);
        assert_int_equal(res.problems, 0);
        assert_false(res.macs_checked);
        o.seed = seed;

        /* bytes that are no record: corrupt, the chain is unknown until the next record */
        seg[offs[2] + RECORD_FIXED_SIZE + 2] ^= 0x40;
        res = feed_all(seg, offs, order, n, &o, &ps);
        assert_int_equal(res.first.kind, TG_JOURNAL_PROBLEM_CORRUPT);
        assert_int_equal(res.first.expected, 3);
        assert_int_equal(res.records, 9);
        free(seg);
}

static void chain_rejects_bad_arguments(void **state) {
        tg_journal_verify_options o = {0};
        tg_journal_chain *c = NULL;
        tg_journal_verify_result res;
        (void) state;
        assert_int_equal(tg_journal_chain_new(NULL, &c), -EINVAL);
        assert_int_equal(tg_journal_chain_new(&o, &c), 0);
        assert_int_equal(tg_journal_chain_feed(c, NULL, 5, NULL), -EINVAL);
        assert_int_equal(tg_journal_chain_feed(c, "", 0, NULL), 0); /* empty: corrupt */
        tg_journal_chain_end(c, &res);
        assert_int_equal(res.problems, 1);
        assert_int_equal(res.first.kind, TG_JOURNAL_PROBLEM_CORRUPT);
        tg_journal_chain_free(c);
        tg_journal_chain_free(NULL);
}

static void tamper_delete_record(void **state) {
        uint8_t *seg;
        size_t len, offs[16] = {0}, n;
        problems ps;
        tg_journal_verify_result res;
        (void) state;
        tamper_setup(&seg, &len, offs, &n);
        memmove(seg + offs[3], seg + offs[4], len - offs[4]);
        write_whole("seg-0000000000000001.tgj", seg, len - (offs[4] - offs[3]));
        res = verify(NULL, &ps);
        assert_int_equal(res.first.kind, TG_JOURNAL_PROBLEM_GAP);
        assert_int_equal(res.first.seq, 5);
        assert_int_equal(res.first.expected, 4);
        assert_true(has_problem(&ps, TG_JOURNAL_PROBLEM_CHAIN));
        free(seg);
}

static void tamper_reorder(void **state) {
        uint8_t *seg, *copy;
        size_t len, offs[16] = {0}, n, a, b;
        problems ps;
        tg_journal_verify_result res;
        (void) state;
        tamper_setup(&seg, &len, offs, &n);
        /* records 4 and 5 swapped */
        a = offs[4] - offs[3];
        b = offs[5] - offs[4];
        copy = malloc(len);
        if (!copy)
                abort();
        memcpy(copy, seg, len);
        memcpy(seg + offs[3], copy + offs[4], b);
        memcpy(seg + offs[3] + b, copy + offs[3], a);
        write_whole("seg-0000000000000001.tgj", seg, len);
        res = verify(seed, &ps);
        assert_true(res.problems > 0);
        assert_true(has_problem(&ps, TG_JOURNAL_PROBLEM_REORDER));
        assert_true(has_problem(&ps, TG_JOURNAL_PROBLEM_CHAIN));
        assert_false(has_problem(&ps, TG_JOURNAL_PROBLEM_MAC)); /* each record is genuine */
        free(seg);
        free(copy);
}

/* A journal written backwards: every record would need its key chain computed again from
 * K_1. A few are; the rest are reported unverified rather than costing verify hours. */
static void tamper_reverse_all(void **state) {
        tg_journal *j = init_and_open();
        uint8_t *seg, *rev;
        size_t len, offs[128] = {0}, n, pos = SEGMENT_HEADER_SIZE;
        problems ps;
        tg_journal_verify_result res;
        (void) state;
        for (int i = 0; i < 99; i++)
                append_n(j, "usb.attach", "A", 0);
        tg_journal_close(j);
        seg = read_whole("seg-0000000000000001.tgj", &len);
        n = record_offsets(seg, len, offs, ELEMENTSOF(offs));
        assert_int_equal(n, 100);
        rev = malloc(len);
        if (!rev)
                abort();
        memcpy(rev, seg, SEGMENT_HEADER_SIZE);
        for (size_t i = n; i-- > 0;) {
                size_t size = (i + 1 < n ? offs[i + 1] : len) - offs[i];
                memcpy(rev + pos, seg + offs[i], size);
                pos += size;
        }
        write_whole("seg-0000000000000001.tgj", rev, len);
        res = verify(seed, &ps);
        assert_true(res.problems > 0);
        assert_true(has_problem(&ps, TG_JOURNAL_PROBLEM_REORDER));
        /* each record but the first is out of order and off the chain (2 * 99), and those past
         * the restarts are unverified besides */
        assert_true(res.problems >= 2 * 99 + (99 - 64));
        free(seg);
        free(rev);
}

static void tamper_truncate(void **state) {
        uint8_t *seg;
        size_t len, offs[16] = {0}, n;
        problems ps;
        tg_journal_verify_result res;
        tg_journal_verify_options o = {.report = collect, .userdata = &ps};
        tg_journal *j;
        (void) state;
        tamper_setup(&seg, &len, offs, &n);
        assert_int_equal(tg_journal_open(dir, &opts, &j), 0);
        assert_int_equal(tg_journal_checkpoint(j, &o.checkpoint_seq, o.checkpoint_mac), 0);
        o.have_checkpoint = true;
        assert_int_equal(o.checkpoint_seq, 11);
        tg_journal_close(j);
        free(seg);
        seg = read_whole("seg-0000000000000001.tgj", &len);
        /* cut at a record boundary: the rest is a consistent journal, but shorter than the
         * checkpoint held off the host says */
        write_whole("seg-0000000000000001.tgj", seg, offs[7]);
        assert_int_equal(verify(NULL, &ps).problems, 0);
        memset(&ps, 0, sizeof(ps));
        assert_int_equal(tg_journal_verify(dir, &o, &res), 0);
        assert_int_equal(res.problems, 1);
        assert_int_equal(res.first.kind, TG_JOURNAL_PROBLEM_TRUNCATED);
        assert_int_equal(res.first.seq, 7);
        assert_int_equal(res.first.expected, 11);
        /* and the writer, which knows how far its key went, refuses to pretend */
        assert_int_equal(tg_journal_open(dir, &opts, &j), 0);
        tg_journal_close(j);
        assert_int_equal(verify(NULL, &ps).problems, 1);
        assert_int_equal(ps.kinds[0], TG_JOURNAL_PROBLEM_LOST);
        free(seg);
}

static void copy_dir(const char *from, const char *to) {
        char cmd[2048];
        snprintf(cmd, sizeof(cmd), "rm -rf '%s' && cp -a '%s' '%s'", to, from, to);
        assert_int_equal(system(cmd), 0);
}

static void rollback_shows_against_checkpoint(void **state) {
        tg_journal *j = init_and_open();
        char saved[400];
        problems ps;
        tg_journal_verify_result res;
        tg_journal_verify_options o = {.seed = seed, .report = collect, .userdata = &ps};
        (void) state;
        for (int i = 0; i < 4; i++)
                append_n(j, "usb.attach", "A", TG_JOURNAL_SYNC);
        tg_journal_close(j);
        /* an older copy of the journal and its key state, taken by root */
        snprintf(saved, sizeof(saved), "%s/saved", base);
        copy_dir(dir, saved);
        assert_int_equal(tg_journal_open(dir, &opts, &j), 0);
        for (int i = 0; i < 4; i++)
                append_n(j, "usb.attach", "evidence", TG_JOURNAL_SYNC);
        /* the forwarder ships a checkpoint off the host */
        assert_int_equal(tg_journal_checkpoint(j, &o.checkpoint_seq, o.checkpoint_mac), 0);
        o.have_checkpoint = true;
        tg_journal_close(j);
        /* both put back together: the journal is consistent in itself ... */
        copy_dir(saved, dir);
        assert_int_equal(verify(seed, &ps).problems, 0);
        /* ... but not with the checkpoint */
        assert_int_equal(tg_journal_verify(dir, &o, &res), 0);
        assert_int_equal(res.first.kind, TG_JOURNAL_PROBLEM_TRUNCATED);
        /* and once new records fill the seqs again, the record at the checkpoint differs */
        assert_int_equal(tg_journal_open(dir, &opts, &j), 0);
        for (int i = 0; i < 6; i++)
                append_n(j, "usb.attach", "forged", TG_JOURNAL_SYNC);
        tg_journal_close(j);
        assert_int_equal(verify(seed, &ps).problems, 0);
        memset(&ps, 0, sizeof(ps));
        assert_int_equal(tg_journal_verify(dir, &o, &res), 0);
        assert_int_equal(res.problems, 1);
        assert_int_equal(res.first.kind, TG_JOURNAL_PROBLEM_ROLLBACK);
        assert_int_equal(res.first.seq, o.checkpoint_seq);
}

static void records_past_key_state(void **state) {
        tg_journal *j = init_and_open();
        uint8_t st[STATE_SIZE];
        size_t len, offs[16] = {0}, n;
        uint8_t *seg, *state_old;
        char saved[400];
        problems ps;
        (void) state;
        append_n(j, "usb.attach", "A", TG_JOURNAL_SYNC);
        tg_journal_close(j);
        state_old = read_whole(STATE_FILE, &len);
        memcpy(st, state_old, sizeof(st));
        assert_int_equal(tg_journal_open(dir, &opts, &j), 0);
        append_n(j, "usb.attach", "A", TG_JOURNAL_SYNC);
        tg_journal_close(j);
        /* the key state as it was before record 3 was written: record 3 is "past the state",
         * as after a crash between the segment's sync and the state's. It is adopted (its MAC
         * checks with the key the state holds) and the chain goes on after it. */
        write_whole(STATE_FILE, st, sizeof(st));
        snprintf(saved, sizeof(saved), "%s/saved", base);
        copy_dir(dir, saved);
        assert_int_equal(tg_journal_open(dir, &opts, &j), 0);
        assert_int_equal(append_n(j, "usb.attach", "B", TG_JOURNAL_SYNC), 4);
        tg_journal_close(j);
        assert_int_equal(verify(seed, &ps).problems, 0);
        assert_int_equal(verify(seed, &ps).notes, 0);
        /* a change to it (checksum fixed) fails its MAC: the open is refused */
        copy_dir(saved, dir);
        seg = read_whole("seg-0000000000000001.tgj", &len);
        n = record_offsets(seg, len, offs, ELEMENTSOF(offs));
        assert_int_equal(n, 3);
        {
                uint8_t *rec = seg + offs[2];
                uint32_t size = get32(rec + 4);
                rec[size - RECORD_TRAILER_SIZE - 1] = 'Z';
                fix_crc(rec);
        }
        write_whole("seg-0000000000000001.tgj", seg, len);
        assert_int_equal(tg_journal_open(dir, &opts, &j), -EBADMSG);
        free(seg);
        free(state_old);
}

static void refuses_unsafe_files(void **state) {
        tg_journal *j = NULL, *j2 = NULL;
        char path[400], link[400];
        (void) state;
        /* never initialised */
        assert_int_equal(mkdir(dir, 0700), 0);
        assert_int_equal(tg_journal_open(dir, &opts, &j), -ENOKEY);
        assert_int_equal(rmdir(dir), 0);
        j = init_and_open();
        /* one writer */
        assert_int_equal(tg_journal_open(dir, &opts, &j2), -EBUSY);
        tg_journal_close(j);
        /* a second init never replaces the key */
        assert_int_equal(tg_journal_init(dir, seed, &opts), -EEXIST);
        /* a directory others may read */
        assert_int_equal(chmod(dir, 0755), 0);
        assert_int_equal(tg_journal_open(dir, &opts, &j), -EPERM);
        assert_int_equal(chmod(dir, 0700), 0);
        /* a key state others may read */
        path_of(path, sizeof(path), STATE_FILE);
        assert_int_equal(chmod(path, 0644), 0);
        assert_int_equal(tg_journal_open(dir, &opts, &j), -EPERM);
        assert_int_equal(chmod(path, 0600), 0);
        /* a segment others may write */
        path_of(path, sizeof(path), "seg-0000000000000001.tgj");
        assert_int_equal(chmod(path, 0666), 0);
        assert_int_equal(tg_journal_open(dir, &opts, &j), -EPERM);
        assert_int_equal(chmod(path, 0600), 0);
        /* the directory as a symlink */
        snprintf(link, sizeof(link), "%s/link", base);
        assert_int_equal(symlink(dir, link), 0);
        assert_int_equal(tg_journal_open(link, &opts, &j), -EPERM);
        /* a corrupt key state: refused, never replaced */
        path_of(path, sizeof(path), STATE_FILE);
        {
                size_t len;
                uint8_t *st = read_whole(STATE_FILE, &len);
                st[40] ^= 1;
                write_whole(STATE_FILE, st, len);
                free(st);
        }
        assert_int_equal(tg_journal_open(dir, &opts, &j), -EBADMSG);
}

static void head_and_seed_files(void **state) {
        char text[TG_JOURNAL_HEAD_TEXT_MAX], path[400];
        uint8_t mac[TG_JOURNAL_MAC_SIZE], back[TG_JOURNAL_MAC_SIZE], s[TG_JOURNAL_SEED_SIZE], host[TG_JOURNAL_ID_SIZE];
        uint8_t host_in[TG_JOURNAL_ID_SIZE] = {0xde, 0xad};
        uint64_t seq;
        struct stat st;
        (void) state;
        for (size_t i = 0; i < sizeof(mac); i++)
                mac[i] = (uint8_t) (i * 7);
        tg_journal_head_format(123456, mac, text, sizeof(text));
        assert_int_equal(tg_journal_head_parse(text, &seq, back), 0);
        assert_int_equal(seq, 123456);
        assert_memory_equal(back, mac, sizeof(mac));
        const char *bad[] = {
                "",
                ":",
                "12",
                "0:"
                "0000000000000000000000000000000000000000000000000000000000000000",
                "-1:0000000000000000000000000000000000000000000000000000000000000000",
                "1:000000000000000000000000000000000000000000000000000000000000000",
                "1:00000000000000000000000000000000000000000000000000000000000000000g",
                "99999999999999999999999:0000000000000000000000000000000000000000000000000000000000000000"};
        for (size_t i = 0; i < ELEMENTSOF(bad); i++)
                assert_int_equal(tg_journal_head_parse(bad[i], &seq, back), -EINVAL);

        snprintf(path, sizeof(path), "%s/seed", base);
        assert_int_equal(tg_journal_seed_write(path, seed, host_in), 0);
        assert_int_equal(stat(path, &st), 0);
        assert_int_equal(st.st_mode & 07777, 0600);
        assert_int_equal(tg_journal_seed_read(path, s, host), 0);
        assert_memory_equal(s, seed, sizeof(s));
        assert_memory_equal(host, host_in, sizeof(host));
        /* never over an existing file */
        assert_int_equal(tg_journal_seed_write(path, seed, host_in), -EEXIST);
        /* a damaged seed file is refused */
        {
                FILE *f = fopen(path, "r+");
                assert_non_null(f);
                assert_int_equal(fseek(f, -3, SEEK_END), 0);
                fputc('x', f);
                fclose(f);
        }
        assert_int_equal(tg_journal_seed_read(path, s, host), -EBADMSG);
        /* the host id is made once and kept */
        assert_int_equal(tg_journal_host_id(hostid, host), 0);
        assert_int_equal(tg_journal_host_id(hostid, back), 0);
        assert_memory_equal(host, back, TG_JOURNAL_ID_SIZE);
        assert_int_equal(tg_journal_set_host_id(hostid, host_in), 0);
        assert_int_equal(tg_journal_host_id(hostid, back), 0);
        assert_memory_equal(back, host_in, TG_JOURNAL_ID_SIZE);
}

/* Writes that fail (here: over the file size limit, as a full disk would) fail closed: a
 * record that could not be written takes no seq, and once buffered records are lost the
 * journal refuses everything until it is opened again and recovers. */
static int write_failures_child(void) {
        static char big[4001];
        tg_journal_field f[] = {{"data", big}};
        tg_journal_entry e = {.type = "usb.attach", .priority = 6, .fields = f, .n_fields = 1};
        tg_journal_entry small = {.type = "usb.detach", .priority = 6};
        struct rlimit rl;
        tg_journal *j;
        uint64_t seq = 0;
        int r;
        memset(big, 'w', sizeof(big) - 1);
        signal(SIGXFSZ, SIG_IGN);
        if (tg_journal_open(dir, &opts, &j) < 0)
                return 10;
        rl.rlim_cur = rl.rlim_max = file_size_of("seg-0000000000000001.tgj") + 1000;
        if (setrlimit(RLIMIT_FSIZE, &rl) < 0)
                return 11;
        if (tg_journal_append(j, &e, TG_JOURNAL_SYNC, &seq) != -EFBIG)
                return 12;
        if (tg_journal_append(j, &small, TG_JOURNAL_SYNC, &seq) < 0 || seq != 2)
                return 13; /* the refused record took no seq */
        for (int i = 0; i < 40 && (r = tg_journal_append(j, &e, 0, &seq)) == 0; i++)
                ;
        if (r != -EFBIG)
                return 14;
        if (tg_journal_append(j, &small, TG_JOURNAL_SYNC, &seq) != -EFBIG || tg_journal_sync(j) != -EFBIG)
                return 15;
        _exit(0);
}

static void write_failures_fail_closed(void **state) {
        tg_journal *j = init_and_open();
        problems ps;
        tg_journal_verify_result res;
        int status;
        pid_t pid;
        (void) state;
        tg_journal_close(j);
        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0)
                _exit(write_failures_child());
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 0);
        /* reopened without the limit: recovery skips what was handed out, nothing is missing */
        assert_int_equal(tg_journal_open(dir, &opts, &j), 0);
        append_n(j, "usb.attach", "after", TG_JOURNAL_SYNC);
        tg_journal_close(j);
        res = verify(seed, &ps);
        assert_int_equal(res.problems, 0);
        assert_int_equal(res.notes, 1);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(mac_handle_matches_one_shot),
                cmocka_unit_test(crc32_check_value),
                cmocka_unit_test(encode_decode_roundtrip),
                cmocka_unit_test(hostile_records),
                cmocka_unit_test_setup_teardown(rejects_bad_entries, setup, teardown),
                cmocka_unit_test_setup_teardown(chain_and_key_evolution, setup, teardown),
                cmocka_unit_test_setup_teardown(reader_returns_fields, setup, teardown),
                cmocka_unit_test_setup_teardown(journal_stamps_time_and_clock, setup, teardown),
                cmocka_unit_test_setup_teardown(torn_tail_is_recovered, setup, teardown),
                cmocka_unit_test_setup_teardown(seq_never_reused_after_crash, setup, teardown),
                cmocka_unit_test_setup_teardown(lost_records_are_reported, setup, teardown),
                cmocka_unit_test_setup_teardown(cap_and_reserve, setup, teardown),
                cmocka_unit_test_setup_teardown(prune_keeps_unforwarded, setup, teardown),
                cmocka_unit_test_setup_teardown(prune_step_bounded_by_age_then_by_room, setup, teardown),
                cmocka_unit_test_setup_teardown(prune_step_for_room_stops_when_there_is_room, setup, teardown),
                cmocka_unit_test_setup_teardown(deleted_head_segment_is_a_gap, setup, teardown),
                cmocka_unit_test_setup_teardown(tamper_flip_byte, setup, teardown),
                cmocka_unit_test_setup_teardown(tamper_forged_checksum, setup, teardown),
                cmocka_unit_test_setup_teardown(tamper_delete_record, setup, teardown),
                cmocka_unit_test_setup_teardown(reader_raw_and_record_decode, setup, teardown),
                cmocka_unit_test_setup_teardown(chain_over_stream, setup, teardown),
                cmocka_unit_test(chain_rejects_bad_arguments),
                cmocka_unit_test_setup_teardown(tamper_reorder, setup, teardown),
                cmocka_unit_test_setup_teardown(tamper_reverse_all, setup, teardown),
                cmocka_unit_test_setup_teardown(tamper_truncate, setup, teardown),
                cmocka_unit_test_setup_teardown(rollback_shows_against_checkpoint, setup, teardown),
                cmocka_unit_test_setup_teardown(records_past_key_state, setup, teardown),
                cmocka_unit_test_setup_teardown(refuses_unsafe_files, setup, teardown),
                cmocka_unit_test_setup_teardown(write_failures_fail_closed, setup, teardown),
                cmocka_unit_test_setup_teardown(head_and_seed_files, setup, teardown),
                cmocka_unit_test_setup_teardown(reader_group_modes, setup, teardown),
                cmocka_unit_test_setup_teardown(reader_group_new_segments, setup, teardown),
                cmocka_unit_test_setup_teardown(reader_raw_bytes, setup, teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
