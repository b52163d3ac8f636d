/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * central-gen: a year of a city's journal records, for the central store's benchmark.
 *
 *   central-gen [--hosts N] [--records N] [--fiscal-year Y] [--departments N]
 *               --hosts-out FILE --events-out FILE --heartbeats-out FILE [--escrow DIR]
 *   central-gen --batches [--batch-size N] --hosts N --records N ...
 *               (JSON lines on stdout: one ingest batch of a host per line, hosts one after the other)
 *
 * Every record is a real journal record: encoded by lib/'s encoder, chained and MACed with a
 * per-host key chain from a per-host seed (written to --escrow DIR as the auditors' seed
 * files, so central verification can check every MAC). Output is PostgreSQL COPY text for
 * termguard.hosts, termguard.events and termguard.heartbeats (checkpoints), in (host, seq)
 * order. Deterministic: the same arguments give the same bytes.
 *
 * The mix, per terminal and working day (245 days, 08:30-17:30 Asia/Tokyo): a boot
 * (daemon.started), logins and unlocks (mfa.success, now and then mfa.failure, rarely a
 * lockout), the seat user and idle lock, checkpoints, on some days a medium (usb.attach,
 * usb.decision, storage.read-only or media.watch-started, files written, usb.detach,
 * media.watch-ended), now and then a refused stick, and the stop (daemon.stopping).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <gcrypt.h>

#include "journal-format.h"
#include "termguard/base64.h"
#include "termguard/hex.h"
#include "termguard/journal.h"
#include "termguard/macro.h"

#define WORKING_DAYS 245
#define FIELDS_MAX 16
#define JST_OFFSET_USEC (9LL * 3600 * 1000000)
#define DAY_USEC (86400LL * 1000000)

static const char *const departments[] = {
        "総務課",     "企画課",       "財政課",         "税務課",         "市民課",     "保険年金課",
        "福祉課",     "子育て支援課", "健康課",         "環境課",         "産業振興課", "農政課",
        "建設課",     "都市計画課",   "下水道課",       "会計課",         "教育総務課", "学校教育課",
        "生涯学習課", "議会事務局",   "選挙管理委員会", "監査委員事務局", "消防総務課", "上下水道局",
        "情報政策課", "人事課",       "防災危機管理課", "地域振興課",     "観光課",     "秘書広報課",
};

/* splitmix64: small, fast, deterministic */
static uint64_t rng_state;
static uint64_t rnd(void) {
        uint64_t z = (rng_state += UINT64_C(0x9e3779b97f4a7c15));
        z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
        z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
        return z ^ (z >> 31);
}
static unsigned below(unsigned n) {
        return (unsigned) (rnd() % n);
}
static bool chance(unsigned per_mille) {
        return below(1000) < per_mille;
}

typedef struct {
        uint8_t id[TG_JOURNAL_ID_SIZE], boot[TG_JOURNAL_ID_SIZE];
        uint8_t key[TG_JOURNAL_MAC_SIZE], prev_mac[TG_JOURNAL_MAC_SIZE];
        uint64_t seq;
        char id_text[37];
        int64_t now_usec; /* time of the next record */
        unsigned index;
} host;

static FILE *events_out, *heartbeats_out;
static bool batches;
static uint64_t budget, written; /* records of this host */

static void uuid_text(const uint8_t id[16], char ret[37]) {
        snprintf(ret, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", id[0], id[1], id[2],
                 id[3], id[4], id[5], id[6], id[7], id[8], id[9], id[10], id[11], id[12], id[13], id[14], id[15]);
}

static void random_uuid(uint8_t id[16]) {
        for (int i = 0; i < 16; i += 8) {
                uint64_t v = rnd();
                memcpy(id + i, &v, 8);
        }
        id[6] = (uint8_t) ((id[6] & 0x0f) | 0x40);
        id[8] = (uint8_t) ((id[8] & 0x3f) | 0x80);
}

/* COPY text escaping of a string (backslash, tab, newline, carriage return). */
static void copy_text(FILE *f, const char *s) {
        for (; *s; s++) {
                switch (*s) {
                case '\\': fputs("\\\\", f); break;
                case '\t': fputs("\\t", f); break;
                case '\n': fputs("\\n", f); break;
                case '\r': fputs("\\r", f); break;
                default: fputc(*s, f);
                }
        }
}

/* JSON string (the generator's values are printable UTF-8 without control characters). */
static void json_string(FILE *f, const char *s, bool in_copy) {
        fputc('"', f);
        for (; *s; s++) {
                if (*s == '"' || *s == '\\')
                        fputs(in_copy ? "\\\\" : "\\", f);
                fputc(*s, f);
        }
        fputc('"', f);
}

static void hex_bytes(FILE *f, const uint8_t *p, size_t n) {
        static const char digits[] = "0123456789abcdef";
        for (size_t i = 0; i < n; i++) {
                fputc(digits[p[i] >> 4], f);
                fputc(digits[p[i] & 15], f);
        }
}

static void base64(FILE *f, const uint8_t *p, size_t n) {
        static char text[TG_BASE64_SIZE(TG_JOURNAL_RECORD_MAX)];
        if (tg_base64_encode(p, n, text, sizeof(text)) < 0)
                exit(1);
        fputs(text, f);
}

static void timestamp(FILE *f, int64_t usec) {
        time_t t = (time_t) (usec / 1000000);
        struct tm tm;
        gmtime_r(&t, &tm);
        fprintf(f, "%04d-%02d-%02d %02d:%02d:%02d.%06" PRId64 "+00", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                tm.tm_hour, tm.tm_min, tm.tm_sec, usec % 1000000);
}

static bool batch_open;
static unsigned batch_size = 100, in_batch;

/* Encodes, MACs and writes one record of h. */
static void emit(host *h, const char *type, int priority, uid_t uid, const tg_journal_field *fields, size_t n) {
        static uint8_t buf[TG_JOURNAL_RECORD_MAX];
        bool checkpoint = strcmp(type, TG_JOURNAL_TYPE_CHECKPOINT) == 0;
        tg_journal_entry e = {.type = type,
                              .priority = priority,
                              .uid = uid,
                              .pid = 700 + (pid_t) below(30000),
                              .comm = uid == 0 ? "termguardd" : "login",
                              .unit = uid == 0 ? "termguardd.service" : "",
                              .fields = fields,
                              .n_fields = n};
        record_header hdr = {.seq = h->seq,
                             .host_id = h->id,
                             .boot_id = h->boot,
                             .time_usec = h->now_usec,
                             .clock = TG_JOURNAL_CLOCK_SYNCED,
                             .prev_mac = h->prev_mac};
        uint8_t mac[TG_JOURNAL_MAC_SIZE];
        char boot[37];
        ssize_t size;
        FILE *f = checkpoint ? heartbeats_out : events_out;

        if (written >= budget)
                return;
        size = journal_record_encode(&e, &hdr, h->key, buf, mac);
        if (size < 0) {
                fprintf(stderr, "central-gen: cannot encode %s\n", type);
                exit(1);
        }
        uuid_text(h->boot, boot);
        if (batches) {
                f = events_out;
                if (batch_open && in_batch == batch_size) {
                        fputs("]\n", f);
                        batch_open = false;
                }
                fputs(batch_open ? "," : "[", f);
                in_batch = batch_open ? in_batch + 1 : 1;
                batch_open = true;
                fprintf(f,
                        "{\"seq\":%" PRIu64 ",\"boot_id\":\"%s\",\"time_usec\":%" PRId64 ",\"clock\":1,\"priority\":%d,"
                        "\"type\":\"%s\",\"uid\":%u,\"pid\":%d,\"comm\":\"%s\",\"unit\":\"%s\",\"fields\":[",
                        h->seq, boot, h->now_usec, priority, type, (unsigned) uid, e.pid, e.comm, e.unit);
                for (size_t i = 0; i < n; i++) {
                        fputs(i ? ",[" : "[", f);
                        json_string(f, fields[i].key, false);
                        fputc(',', f);
                        json_string(f, fields[i].value, false);
                        fputc(']', f);
                }
                fputs("],\"prev_mac\":\"", f);
                hex_bytes(f, h->prev_mac, TG_JOURNAL_MAC_SIZE);
                fputs("\",\"mac\":\"", f);
                hex_bytes(f, mac, TG_JOURNAL_MAC_SIZE);
                fputs("\",\"raw\":\"", f);
                base64(f, buf, (size_t) size);
                fputs("\"}", f);
        } else {
                /* host_id seq time time_usec boot_id clock priority type uid pid comm unit fields prev_mac mac raw
                 * received_at */
                fprintf(f, "%s\t%" PRIu64 "\t", h->id_text, h->seq);
                timestamp(f, h->now_usec);
                fprintf(f, "\t%" PRId64 "\t%s\t1\t%d\t%s\t%u\t%d\t%s\t%s\t[", h->now_usec, boot, priority, type,
                        (unsigned) uid, e.pid, e.comm, e.unit);
                for (size_t i = 0; i < n; i++) {
                        fputs(i ? ", [" : "[", f);
                        json_string(f, fields[i].key, true);
                        fputs(", ", f);
                        json_string(f, fields[i].value, true);
                        fputc(']', f);
                }
                fputs("]\t\\\\x", f);
                hex_bytes(f, h->prev_mac, TG_JOURNAL_MAC_SIZE);
                fputs("\t\\\\x", f);
                hex_bytes(f, mac, TG_JOURNAL_MAC_SIZE);
                fputs("\t\\\\x", f);
                hex_bytes(f, buf, (size_t) size);
                fputc('\t', f);
                /* received a few seconds to minutes after the append (the forwarder's batches) */
                timestamp(f, h->now_usec + (int64_t) (2 + below(240)) * 1000000);
                fputc('\n', f);
        }
        memcpy(h->prev_mac, mac, sizeof(mac));
        journal_key_evolve(h->key);
        h->seq++;
        written++;
        h->now_usec += (int64_t) (5 + below(600)) * 1000000;
}

static void checkpoint(host *h) {
        char seq[24], mac[2 * TG_JOURNAL_MAC_SIZE + 1];
        tg_journal_field f[] = {{"head_seq", seq}, {"head_mac", mac}};
        snprintf(seq, sizeof(seq), "%" PRIu64, h->seq - 1);
        (void) tg_hex_encode(h->prev_mac, TG_JOURNAL_MAC_SIZE, mac, sizeof(mac));
        emit(h, TG_JOURNAL_TYPE_CHECKPOINT, 6, 0, f, 2);
}

static void day(host *h, const char *dept, unsigned user) {
        char uname[16], label[64], serial[24], path[128], size[16], sha[65], device[8], exc[16];
        unsigned n_med = h->index % 7;
        snprintf(uname, sizeof(uname), "u%05u", user);
        snprintf(label, sizeof(label), "%s-USB%02u", dept, n_med + 1);
        snprintf(serial, sizeof(serial), "4C53%06u%06u", h->index, n_med);
        snprintf(device, sizeof(device), "1-%u", 1 + below(4));
        random_uuid(h->boot);
        {
                tg_journal_field f[] = {{"version", "1.0"}, {"config", "/etc/termguard/termguard.conf"}};
                emit(h, "daemon.started", 6, 0, f, 2);
        }
        checkpoint(h);
        {
                tg_journal_field f[] = {{"user", uname},  {"service", "gdm-password"}, {"rhost", ""}, {"tty", "tty2"},
                                        {"actor", uname}, {"detail", "totp"}};
                if (chance(150)) {
                        tg_journal_field g[] = {{"user", uname},  {"service", "gdm-password"},
                                                {"rhost", ""},    {"tty", "tty2"},
                                                {"actor", uname}, {"detail", "wrong-or-reused-code"}};
                        emit(h, "mfa.failure", 4, 0, g, 6);
                        if (chance(20)) {
                                g[5].value = "attempt limit reached";
                                emit(h, "mfa.lockout", 4, 0, g, 6);
                        }
                }
                emit(h, "mfa.success", 6, 0, f, 6);
        }
        {
                tg_journal_field f[] = {{"user", uname}};
                emit(h, "seat.user-changed", 6, 0, f, 1);
        }
        checkpoint(h);
        if (chance(400)) {
                bool rw = chance(300);
                tg_journal_field a[] = {
                        {"device", device},          {"vid", "0781"},      {"pid", "5581"}, {"serial", serial},
                        {"manufacturer", "SanDisk"}, {"product", "Ultra"}, {"user", uname}};
                tg_journal_field d[] = {{"device", device},
                                        {"vid", "0781"},
                                        {"pid", "5581"},
                                        {"serial", serial},
                                        {"label", label},
                                        {"decision", rw ? "read-write" : "read-only"},
                                        {"exception", rw ? "E-2025-0042" : ""},
                                        {"interfaces", "1.0:08:allow"},
                                        {"user", uname},
                                        {"trigger", "attach"}};
                tg_journal_field x[] = {{"device", device}, {"label", label}, {"serial", serial}, {"user", uname}};
                emit(h, "usb.attach", 6, 0, a, 7);
                emit(h, "usb.decision", 6, 0, d, 10);
                if (rw) {
                        unsigned files = 1 + below(5);
                        snprintf(exc, sizeof(exc), "E-2025-%04u", below(9999));
                        tg_journal_field w[] = {{"device", device},
                                                {"serial", serial},
                                                {"label", label},
                                                {"exception", exc},
                                                {"mountpoint", "/media/usb"},
                                                {"path", path},
                                                {"size", size},
                                                {"sha256", sha},
                                                {"user", uname}};
                        tg_journal_field s[] = {
                                {"device", device}, {"label", label}, {"exception", exc}, {"files_written", size}};
                        tg_journal_field m[] = {
                                {"device", device}, {"label", label}, {"exception", exc}, {"mountpoint", "/media/usb"}};
                        emit(h, "media.watch-started", 6, 0, m, 4);
                        for (unsigned i = 0; i < files; i++) {
                                snprintf(path, sizeof(path), "/media/usb/%s/報告書_%04u_第%u版.xlsx", dept, below(9999),
                                         1 + below(5));
                                snprintf(size, sizeof(size), "%u", 4096 + below(8 << 20));
                                for (int k = 0; k < 64; k++)
                                        sha[k] = "0123456789abcdef"[below(16)];
                                sha[64] = 0;
                                emit(h, "media.file-written", 6, 0, w, 9);
                        }
                        snprintf(size, sizeof(size), "%u", files);
                        emit(h, "media.watch-ended", 6, 0, s, 4);
                } else {
                        tg_journal_field r[] = {{"devnode", "/dev/sdb"}, {"device", device}, {"label", label}};
                        emit(h, "storage.read-only", 6, 0, r, 3);
                }
                emit(h, "usb.detach", 6, 0, x, 4);
        }
        if (chance(40)) {
                /* a stick not in the register: refused */
                tg_journal_field d[] = {{"device", device},
                                        {"vid", "090c"},
                                        {"pid", "1000"},
                                        {"serial", "AA0000FF"},
                                        {"label", ""},
                                        {"decision", "blocked"},
                                        {"interfaces", "1.0:08:deny"},
                                        {"user", uname},
                                        {"trigger", "attach"}};
                emit(h, "usb.decision", 4, 0, d, 9);
        }
        {
                tg_journal_field f[] = {{"session", "2"},   {"user", uname},  {"seat", "seat0"}, {"tty", "tty2"},
                                        {"reason", "idle"}, {"deadline", ""}, {"actor", ""}};
                emit(h, "idle.lock-requested", 5, 0, f, 7);
                emit(h, "idle.lock-confirmed", 5, 0, f, 4);
        }
        checkpoint(h);
        emit(h, "daemon.stopping", 6, 0, NULL, 0);
        checkpoint(h);
}

static void usage(void) {
        fprintf(stderr,
                "usage: central-gen [--hosts N] [--records N] [--fiscal-year Y] [--departments N] [--escrow DIR]\n"
                "                   (--hosts-out F --events-out F --heartbeats-out F | --batches)\n");
        exit(2);
}

/* midnight of 1 April of year in Asia/Tokyo, µs UTC */
static int64_t fiscal_start(int year) {
        struct tm tm = {.tm_year = year - 1900, .tm_mon = 3, .tm_mday = 1};
        return (int64_t) timegm(&tm) * 1000000 - JST_OFFSET_USEC;
}

int main(int argc, char **argv) {
        unsigned n_hosts = 3000, n_depts = ELEMENTSOF(departments), year = 2025;
        uint64_t total = 10000000;
        const char *hosts_path = NULL, *events_path = NULL, *heartbeats_path = NULL, *escrow = NULL;
        FILE *hosts_out = NULL;
        int64_t fy = 0;

        for (int i = 1; i < argc; i++) {
                const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
                if (strcmp(a, "--batches") == 0) {
                        batches = true;
                        continue;
                }
                if (!v)
                        usage();
                i++;
                if (strcmp(a, "--hosts") == 0)
                        n_hosts = (unsigned) strtoul(v, NULL, 10);
                else if (strcmp(a, "--records") == 0)
                        total = strtoull(v, NULL, 10);
                else if (strcmp(a, "--fiscal-year") == 0)
                        year = (unsigned) strtoul(v, NULL, 10);
                else if (strcmp(a, "--departments") == 0)
                        n_depts = (unsigned) strtoul(v, NULL, 10);
                else if (strcmp(a, "--hosts-out") == 0)
                        hosts_path = v;
                else if (strcmp(a, "--events-out") == 0)
                        events_path = v;
                else if (strcmp(a, "--heartbeats-out") == 0)
                        heartbeats_path = v;
                else if (strcmp(a, "--batch-size") == 0)
                        batch_size = (unsigned) strtoul(v, NULL, 10);
                else if (strcmp(a, "--escrow") == 0)
                        escrow = v;
                else
                        usage();
        }
        if (n_hosts == 0 || batch_size == 0 || n_depts == 0 || n_depts > ELEMENTSOF(departments) || total < n_hosts)
                usage();
        if (batches) {
                events_out = stdout;
        } else {
                if (!hosts_path || !events_path || !heartbeats_path)
                        usage();
                hosts_out = fopen(hosts_path, "we");
                events_out = fopen(events_path, "we");
                heartbeats_out = fopen(heartbeats_path, "we");
                if (!hosts_out || !events_out || !heartbeats_out) {
                        perror("central-gen");
                        return 1;
                }
        }
        if (escrow && mkdir(escrow, 0700) < 0 && errno != EEXIST) {
                perror("central-gen: escrow");
                return 1;
        }
        fy = fiscal_start((int) year);
        for (unsigned k = 0; k < n_hosts; k++) {
                host h = {.seq = 1, .index = k};
                uint8_t seed[TG_JOURNAL_SEED_SIZE];
                const char *dept = departments[k % n_depts];

                rng_state = UINT64_C(0x7465726d67756172) ^ ((uint64_t) k << 20);
                random_uuid(h.id);
                uuid_text(h.id, h.id_text);
                for (int i = 0; i < TG_JOURNAL_SEED_SIZE; i += 8) {
                        uint64_t v = rnd();
                        memcpy(seed + i, &v, 8);
                }
                journal_key_first(seed, h.key);
                if (escrow) {
                        char path[4096];
                        snprintf(path, sizeof(path), "%s/%s.seed", escrow, h.id_text);
                        (void) unlink(path);
                        if (tg_journal_seed_write(path, seed, h.id) < 0) {
                                fprintf(stderr, "central-gen: cannot write %s\n", path);
                                return 1;
                        }
                }
                budget = total / n_hosts + (k < total % n_hosts ? 1 : 0);
                written = 0;
                batch_open = false;
                h.now_usec = fy + 8 * 3600 * 1000000LL;
                random_uuid(h.boot);
                emit(&h, TG_JOURNAL_TYPE_INITIALIZED, 5, 0, NULL, 0);
                /* the working days of the year (weekends left out), each day's records placed by
                 * how much of the budget is used, so that every host's budget lasts the year */
                while (written < budget) {
                        unsigned d = (unsigned) (written * WORKING_DAYS / budget);
                        int64_t day_start =
                                fy + (int64_t) (d * 365 / WORKING_DAYS) * DAY_USEC + (8 * 60 + 30) * 60 * 1000000LL;
                        if (h.now_usec < day_start)
                                h.now_usec = day_start + (int64_t) below(1800) * 1000000;
                        day(&h, dept, k * 3 + below(3));
                }
                if (batches) {
                        if (batch_open)
                                fputs("]\n", events_out);
                } else {
                        fprintf(hosts_out, "%s\ttg_host_", h.id_text);
                        for (int i = 0; i < 36; i++)
                                if (h.id_text[i] != '-')
                                        fputc(h.id_text[i], hosts_out);
                        fputc('\t', hosts_out);
                        copy_text(hosts_out, dept);
                        fprintf(hosts_out, "\tpc-%05u\t", k);
                        timestamp(hosts_out, fy - DAY_USEC);
                        fprintf(hosts_out, "\t\\N\t%" PRIu64 "\t", h.seq - 1);
                        timestamp(hosts_out, h.now_usec);
                        fputc('\n', hosts_out);
                }
                explicit_bzero(seed, sizeof(seed));
        }
        if (hosts_out && (fclose(hosts_out) != 0 || fclose(heartbeats_out) != 0))
                return 1;
        if (fclose(events_out) != 0)
                return 1;
        return 0;
}
