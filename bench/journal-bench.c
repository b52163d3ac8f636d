/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * journal-bench DIR SEEDFILE_OUT: figures of the journal store in DIR (a fresh directory on the
 * file system to measure): appends with fdatasync per record, buffered appends with one sync
 * per batch, verify over the whole journal, with and without the key, and retention: every
 * segment forwarded and pruned in termguardd's bounded steps (cold cache), each step being how
 * long an append (a storage decision's record) may wait for it. Prints figures; decides
 * nothing.
 */
#define _GNU_SOURCE
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "termguard/journal.h"

static double now(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

static void die(const char *what, int r) {
        fprintf(stderr, "journal-bench: %s: %s\n", what, strerror(-r));
        exit(1);
}

int main(int argc, char **argv) {
        /* a record like usb.decision: about 300 bytes encoded */
        tg_journal_field f[] = {{"device", "1-2"},
                                {"vid", "0781"},
                                {"pid", "5581"},
                                {"serial", "4C530001230805112454"},
                                {"label", "総務課-USB01"},
                                {"decision", "read-only"},
                                {"interfaces", "1.0:08:allow"},
                                {"user", "tanaka"},
                                {"trigger", "attach"}};
        tg_journal_entry e = {.type = "usb.decision",
                              .priority = 6,
                              .uid = 0,
                              .pid = 1,
                              .comm = "termguardd",
                              .fields = f,
                              .n_fields = sizeof(f) / sizeof(f[0])};
        tg_journal_options opt = {.max_bytes = 4ULL << 30};
        unsigned long n_sync = argc > 3 ? strtoul(argv[3], NULL, 10) : 20000;
        unsigned long n_batch = argc > 4 ? strtoul(argv[4], NULL, 10) : 1000000;
        unsigned long batch = 1000;
        uint8_t seed[TG_JOURNAL_SEED_SIZE];
        char hostid[4096];
        tg_journal_verify_result res;
        tg_journal *j;
        uint64_t seq;
        double t0, t;
        int r;

        if (argc < 3) {
                fprintf(stderr, "usage: journal-bench DIR HOSTID [SYNC_RECORDS] [BATCHED_RECORDS]\n");
                return 2;
        }
        /* what the device gives: a 300-byte append and fdatasync, no journal */
        {
                char path[4096], rec[300] = {0};
                snprintf(path, sizeof(path), "%s/baseline", argv[1]);
                FILE *f = fopen(path, "w");
                if (!f)
                        die("baseline", -2);
                t0 = now();
                for (unsigned i = 0; i < 2000; i++)
                        if (fwrite(rec, sizeof(rec), 1, f) != 1 || fflush(f) != 0 || fdatasync(fileno(f)) != 0)
                                die("baseline", -5);
                t = now() - t0;
                fclose(f);
                unlink(path);
                printf("baseline, 300-byte write + fdatasync, no journal: %.0f/s\n", 2000 / t);
        }
        snprintf(hostid, sizeof(hostid), "%s", argv[2]);
        opt.host_id_path = hostid;
        if (getrandom(seed, sizeof(seed), 0) != sizeof(seed))
                die("getrandom", -5);
        if ((r = tg_journal_init(argv[1], seed, &opt)) < 0 || (r = tg_journal_open(argv[1], &opt, &j)) < 0)
                die("init/open", r);

        t0 = now();
        for (unsigned long i = 0; i < n_sync; i++)
                if ((r = tg_journal_append(j, &e, TG_JOURNAL_SYNC, &seq)) < 0)
                        die("append", r);
        t = now() - t0;
        printf("append, fdatasync per record: %lu records in %.2f s = %.0f records/s\n", n_sync, t, n_sync / t);

        t0 = now();
        for (unsigned long i = 0; i < n_batch; i++) {
                if ((r = tg_journal_append(j, &e, 0, &seq)) < 0)
                        die("append", r);
                if ((i + 1) % batch == 0 && (r = tg_journal_sync(j)) < 0)
                        die("sync", r);
        }
        if ((r = tg_journal_sync(j)) < 0)
                die("sync", r);
        t = now() - t0;
        printf("append, batches of %lu then sync: %lu records in %.2f s = %.0f records/s\n", batch, n_batch, t,
               n_batch / t);
        tg_journal_usage_info u;
        if (tg_journal_usage(j, &u) == 0)
                printf("journal: %" PRIu64 " records, %.1f MiB in %" PRIu64 " segments\n", u.next_seq - 1,
                       u.used_bytes / 1048576.0, u.n_segments);
        tg_journal_close(j);

        /* verify reads what the page cache holds: drop it for a cold figure */
        sync();
        FILE *dc = fopen("/proc/sys/vm/drop_caches", "w");
        if (dc) {
                fputs("3\n", dc);
                fclose(dc);
        }
        t0 = now();
        if ((r = tg_journal_verify(argv[1], &(tg_journal_verify_options){0}, &res)) < 0)
                die("verify", r);
        t = now() - t0;
        printf("verify, structure and chain (cold cache): %" PRIu64 " records in %.2f s, %" PRIu64 " problems\n",
               res.records, t, res.problems);
        t0 = now();
        if ((r = tg_journal_verify(argv[1], &(tg_journal_verify_options){.seed = seed}, &res)) < 0)
                die("verify", r);
        t = now() - t0;
        printf("verify, every MAC with the key: %" PRIu64 " records in %.2f s, %" PRIu64 " problems\n", res.records, t,
               res.problems);

        /* Retention as termguardd runs it (agent/retention.c: PRUNE_STEP_SEGMENTS), cold cache:
         * everything forwarded and old, steps until nothing is left to delete. */
        enum { STEP_SEGMENTS = 4 };
        tg_journal_prune_result pr;
        double step_max = 0, steps_total = 0;
        unsigned steps = 0, deleted = 0;
        if ((r = tg_journal_open(argv[1], &opt, &j)) < 0)
                die("open", r);
        if ((r = tg_journal_usage(j, &u)) < 0 || (r = tg_journal_mark_forwarded(j, u.next_seq - 1)) < 0)
                die("forwarded", r);
        sync();
        dc = fopen("/proc/sys/vm/drop_caches", "w");
        if (dc) {
                fputs("3\n", dc);
                fclose(dc);
        }
        do {
                t0 = now();
                r = tg_journal_prune_step(
                        j, &(tg_journal_prune_options){.max_age_usec = 0, .max_segments = STEP_SEGMENTS}, &pr);
                t = now() - t0;
                if (r < 0)
                        die("prune", r);
                steps++;
                deleted += pr.deleted;
                steps_total += t;
                step_max = t > step_max ? t : step_max;
        } while (pr.more);
        printf("prune, steps of %d segments (cold cache): %u segments in %u steps, %.1f ms per step on average, "
               "%.1f ms at most\n",
               STEP_SEGMENTS, deleted, steps, steps_total * 1000 / steps, step_max * 1000);
        tg_journal_close(j);
        return 0;
}
