/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * journal-writer: appends to a journal for the integration tests, as termguardd will.
 *   journal-writer DIR HOSTID loop
 *       appends until killed; prints each seq once its record is acknowledged (durable):
 *       mostly one SYNC append at a time, now and then a few buffered ones and a sync
 *   journal-writer DIR HOSTID append [--time ISO8601] [--uid N] TYPE [KEY=VALUE...]
 *       appends one record (SYNC) and prints its seq
 *   journal-writer DIR HOSTID checkpoint
 *       appends a checkpoint and prints the chain head, SEQ:MAC
 *   journal-writer DIR HOSTID forwarded SEQ
 *   journal-writer DIR HOSTID prune
 *   journal-writer DIR HOSTID fill N [SIZE]
 *       appends N usb.attach records (buffered, one sync at the end), their label SIZE bytes
 *       (default 16), and prints the last seq
 * TG_JOURNAL_SEGMENT_BYTES in the environment: segments of that size (tests of retention);
 * TG_JOURNAL_READER_GID: the journal is group-readable by that group, as termguardd keeps it.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "termguard/journal.h"
#include "termguard/timeutil.h"

static int fail(const char *what, int r) {
        fprintf(stderr, "journal-writer: %s: %s\n", what, strerror(-r));
        return 1;
}

static int loop(tg_journal *j) {
        tg_journal_field f[] = {{"device", "1-1"}, {"label", "crash-test"}};
        tg_journal_entry e = {
                .type = "usb.attach", .priority = 6, .comm = "journal-writer", .fields = f, .n_fields = 2};
        uint64_t seqs[4];
        int r;

        setvbuf(stdout, NULL, _IOLBF, 0);
        for (unsigned i = 0;; i++) {
                size_t n = i % 7 == 6 ? 3 : 1;
                for (size_t k = 0; k < n; k++) {
                        r = tg_journal_append(j, &e, n == 1 ? TG_JOURNAL_SYNC : 0, &seqs[k]);
                        if (r < 0)
                                return fail("append", r);
                }
                if (n > 1 && (r = tg_journal_sync(j)) < 0)
                        return fail("sync", r);
                for (size_t k = 0; k < n; k++)
                        printf("%llu\n", (unsigned long long) seqs[k]);
        }
}

int main(int argc, char **argv) {
        tg_journal_options opt = {0};
        tg_journal *j;
        int r;

        if (argc < 4) {
                fprintf(stderr, "usage: journal-writer DIR HOSTID loop|append|checkpoint|forwarded|prune|fill ...\n");
                return 2;
        }
        opt.host_id_path = argv[2];
        if (getenv("TG_JOURNAL_SEGMENT_BYTES"))
                opt.segment_bytes = strtoull(getenv("TG_JOURNAL_SEGMENT_BYTES"), NULL, 10);
        if (getenv("TG_JOURNAL_READER_GID")) {
                opt.reader_group = true;
                opt.reader_gid = (gid_t) strtoul(getenv("TG_JOURNAL_READER_GID"), NULL, 10);
        }
        r = tg_journal_open(argv[1], &opt, &j);
        if (r < 0)
                return fail("open", r);
        if (strcmp(argv[3], "loop") == 0)
                return loop(j);
        if (strcmp(argv[3], "append") == 0) {
                tg_journal_field f[TG_JOURNAL_FIELDS_MAX];
                tg_journal_entry e = {.priority = 6, .comm = "journal-writer", .fields = f};
                uint64_t seq;
                int i = 4;
                for (; i + 1 < argc && strncmp(argv[i], "--", 2) == 0; i += 2) {
                        if (strcmp(argv[i], "--time") == 0) {
                                int64_t t;
                                if (tg_parse_iso8601(argv[i + 1], &t) < 0)
                                        return fail("--time", -EINVAL);
                                e.time_usec = t * 1000000;
                                e.clock = TG_JOURNAL_CLOCK_SYNCED;
                        } else if (strcmp(argv[i], "--uid") == 0) {
                                e.uid = (uid_t) strtoul(argv[i + 1], NULL, 10);
                        }
                }
                if (i >= argc)
                        return fail("type", -EINVAL);
                e.type = argv[i++];
                for (; i < argc && e.n_fields < TG_JOURNAL_FIELDS_MAX; i++) {
                        char *eq = strchr(argv[i], '=');
                        if (!eq)
                                return fail(argv[i], -EINVAL);
                        *eq = 0;
                        f[e.n_fields++] = (tg_journal_field){argv[i], eq + 1};
                }
                r = tg_journal_append(j, &e, TG_JOURNAL_SYNC, &seq);
                if (r < 0)
                        return fail("append", r);
                printf("%llu\n", (unsigned long long) seq);
        } else if (strcmp(argv[3], "checkpoint") == 0) {
                uint8_t mac[TG_JOURNAL_MAC_SIZE];
                char text[TG_JOURNAL_HEAD_TEXT_MAX];
                uint64_t seq;
                r = tg_journal_checkpoint(j, &seq, mac);
                if (r < 0)
                        return fail("checkpoint", r);
                tg_journal_head_format(seq, mac, text, sizeof(text));
                printf("%s\n", text);
        } else if (strcmp(argv[3], "forwarded") == 0 && argc > 4) {
                r = tg_journal_mark_forwarded(j, strtoull(argv[4], NULL, 10));
                if (r < 0)
                        return fail("forwarded", r);
        } else if (strcmp(argv[3], "fill") == 0 && argc > 4) {
                static char label[TG_JOURNAL_VALUE_MAX + 1];
                tg_journal_field f[] = {{"device", "1-1"}, {"label", label}};
                tg_journal_entry e = {
                        .type = "usb.attach", .priority = 6, .comm = "journal-writer", .fields = f, .n_fields = 2};
                unsigned long n = strtoul(argv[4], NULL, 10), size = argc > 5 ? strtoul(argv[5], NULL, 10) : 16;
                uint64_t seq = 0;
                if (size > TG_JOURNAL_VALUE_MAX)
                        return fail("fill SIZE", -EINVAL);
                memset(label, 'x', size);
                for (unsigned long i = 0; i < n; i++) {
                        r = tg_journal_append(j, &e, 0, &seq);
                        if (r < 0)
                                return fail("append", r);
                }
                r = tg_journal_sync(j);
                if (r < 0)
                        return fail("sync", r);
                printf("%llu\n", (unsigned long long) seq);
        } else if (strcmp(argv[3], "prune") == 0) {
                r = tg_journal_prune(j, 0);
                if (r < 0)
                        return fail("prune", r);
                printf("%d\n", r);
        } else {
                return fail(argv[3], -EINVAL);
        }
        tg_journal_close(j);
        return 0;
}
