/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * central-ingest: terminals sending batches to termguard.ingest, as the forwarder does: each
 * batch over a new TLS connection with the terminal's own certificate, then disconnect.
 *
 *   central-ingest rate WORKERS BUNDLES_FILE [keep] < BATCHES   (JSON lines from central-gen --batches)
 *   central-ingest latency N BUNDLE_DIR JOURNAL_DIR
 *
 * rate: WORKERS processes take batch lines in turn; the lines are the terminals' batches one
 * terminal after the other, the same number each, sent with the bundles of BUNDLES_FILE (one
 * directory a line) in that order; prints batches, rows, connections per second and
 * rows per second, and where the time went: connecting (TLS, authentication, a new backend),
 * the first ingest call on a connection (the backend compiles the PL/pgSQL functions) and the
 * later ones. With keep, each worker sends whole terminals' batches in their order over one
 * connection per terminal, as a forwarder does while records keep coming. latency: N times, a
 * record is appended to a real journal (fdatasync), read back with its raw bytes and committed
 * centrally over a new TLS connection; prints the median and 95th percentile of
 * append-to-commit. Prints figures, decides nothing.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <libpq-fe.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "termguard/base64.h"
#include "termguard/hex.h"
#include "termguard/journal.h"

#define BUNDLES_MAX 4096

static double now(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

static char *conninfo(const char *bundle) {
        char path[4096], line[512], host[256] = "127.0.0.1", port[16] = "5432", role[128] = "";
        char *ret = NULL;
        FILE *f;
        snprintf(path, sizeof(path), "%s/central.conf", bundle);
        f = fopen(path, "re");
        if (!f) {
                perror(path);
                exit(1);
        }
        while (fgets(line, sizeof(line), f)) {
                line[strcspn(line, "\n")] = 0;
                if (strncmp(line, "Host=", 5) == 0)
                        snprintf(host, sizeof(host), "%.255s", line + 5);
                else if (strncmp(line, "Port=", 5) == 0)
                        snprintf(port, sizeof(port), "%.15s", line + 5);
                else if (strncmp(line, "Role=", 5) == 0)
                        snprintf(role, sizeof(role), "%.127s", line + 5);
        }
        fclose(f);
        if (asprintf(&ret,
                     "host=%s port=%s dbname=termguard user=%s sslmode=verify-full sslrootcert=%s/ca.crt "
                     "sslcert=%s/client.crt sslkey=%s/client.key",
                     host, port, role, bundle, bundle, bundle) < 0)
                exit(1);
        return ret;
}

static PGconn *connect_to(const char *info) {
        PGconn *c = PQconnectdb(info);
        if (PQstatus(c) != CONNECTION_OK) {
                fprintf(stderr, "central-ingest: %s", PQerrorMessage(c));
                PQfinish(c);
                return NULL;
        }
        return c;
}

/* One ingest call (autocommit: the call and its commit): the rows stored, or -1. */
static long ingest(PGconn *c, const char *batch) {
        const char *params[] = {batch};
        PGresult *res;
        long n = -1;
        res = PQexecParams(c, "SELECT termguard.ingest($1::jsonb)", 1, NULL, params, NULL, NULL, 0);
        if (PQresultStatus(res) == PGRES_TUPLES_OK)
                n = strtol(PQgetvalue(res, 0, 0), NULL, 10);
        else
                fprintf(stderr, "central-ingest: %s", PQresultErrorMessage(res));
        PQclear(res);
        return n;
}

/* One batch over a new connection: the rows stored, or -1. */
static long send_batch(const char *info, const char *batch) {
        PGconn *c = connect_to(info);
        long n;
        if (!c)
                return -1;
        n = ingest(c, batch);
        PQfinish(c);
        return n;
}

/* What one worker measured: where its time went. */
typedef struct {
        long rows, failed, connects, first_calls, later_calls, sampled, private_kib;
        double connect_s, first_s, later_s;
} worker_figures;

/* The server process's own memory (Private_Clean + Private_Dirty of smaps_rollup, KiB): what a
 * kept connection costs the server while it waits. Needs the server on this machine, and root. */
static long backend_private_kib(PGconn *c) {
        char path[64], line[256];
        long kib = 0, v;
        FILE *f;
        snprintf(path, sizeof(path), "/proc/%d/smaps_rollup", PQbackendPID(c));
        f = fopen(path, "re");
        if (!f)
                return -1;
        while (fgets(line, sizeof(line), f))
                if (sscanf(line, "Private_Clean: %ld kB", &v) == 1 || sscanf(line, "Private_Dirty: %ld kB", &v) == 1)
                        kib += v;
        fclose(f);
        return kib;
}

static void finish(PGconn *c, worker_figures *r) {
        long kib = c && r ? backend_private_kib(c) : -1;
        if (kib >= 0) {
                r->sampled++;
                r->private_kib += kib;
        }
        PQfinish(c);
}

static void worker(size_t w, size_t workers, char **infos, size_t n_bundles, char **batches, size_t n_batches,
                   bool keep, worker_figures *r) {
        PGconn *c = NULL;
        size_t terminal = SIZE_MAX;
        for (size_t i = keep ? 0 : w; i < n_batches; i += keep ? 1 : workers) {
                /* the batches of one terminal are consecutive lines */
                size_t t = i * n_bundles / n_batches;
                double t0, t1, t2;
                bool first = false;
                long k;
                if (keep && t % workers != w)
                        continue;
                if (c && (!keep || t != terminal)) {
                        finish(c, keep ? r : NULL);
                        c = NULL;
                }
                t0 = now();
                if (!c) {
                        c = connect_to(infos[t]);
                        terminal = t;
                        first = true;
                        if (!c) {
                                r->failed++;
                                continue;
                        }
                        r->connects++;
                }
                t1 = now();
                k = ingest(c, batches[i]);
                t2 = now();
                r->connect_s += t1 - t0;
                if (first) {
                        r->first_calls++;
                        r->first_s += t2 - t1;
                } else {
                        r->later_calls++;
                        r->later_s += t2 - t1;
                }
                if (k < 0) {
                        r->failed++;
                        PQfinish(c);
                        c = NULL;
                } else {
                        r->rows += k;
                }
        }
        finish(c, keep ? r : NULL);
}

static double per_ms(double s, long n) {
        return n ? s * 1e3 / (double) n : 0;
}

static int rate(int workers, const char *bundles_file, bool keep) {
        static char *infos[BUNDLES_MAX];
        char line[4096], *batch = NULL;
        size_t cap = 0, n_bundles = 0, n_batches = 0;
        char **batches = NULL;
        ssize_t len;
        FILE *f = fopen(bundles_file, "re");
        int pipes[64][2];
        double t0, t1;
        worker_figures sum = {0};

        if (!f || workers < 1 || workers > 64)
                return 2;
        while (n_bundles < BUNDLES_MAX && fgets(line, sizeof(line), f)) {
                line[strcspn(line, "\n")] = 0;
                infos[n_bundles++] = conninfo(line);
        }
        fclose(f);
        while ((len = getline(&batch, &cap, stdin)) > 0) {
                batches = realloc(batches, (n_batches + 1) * sizeof(*batches));
                batch[len - 1] = batch[len - 1] == '\n' ? 0 : batch[len - 1];
                batches[n_batches++] = strdup(batch);
        }
        if (n_bundles == 0 || n_batches == 0)
                return 2;
        t0 = now();
        for (int w = 0; w < workers; w++) {
                if (pipe(pipes[w]) < 0)
                        return 1;
                if (fork() == 0) {
                        worker_figures r = {0};
                        worker((size_t) w, (size_t) workers, infos, n_bundles, batches, n_batches, keep, &r);
                        if (write(pipes[w][1], &r, sizeof(r)) != sizeof(r))
                                _exit(1);
                        _exit(0);
                }
                close(pipes[w][1]);
        }
        for (int w = 0; w < workers; w++) {
                worker_figures r = {0};
                if (read(pipes[w][0], &r, sizeof(r)) == sizeof(r)) {
                        sum.rows += r.rows;
                        sum.failed += r.failed;
                        sum.connects += r.connects;
                        sum.first_calls += r.first_calls;
                        sum.later_calls += r.later_calls;
                        sum.connect_s += r.connect_s;
                        sum.first_s += r.first_s;
                        sum.later_s += r.later_s;
                        sum.sampled += r.sampled;
                        sum.private_kib += r.private_kib;
                }
                close(pipes[w][0]);
        }
        while (wait(NULL) > 0)
                ;
        t1 = now();
        printf("ingest (%s): %zu batches (%d workers, %zu terminals), %ld rows stored, %ld batches failed, %.1f s\n",
               keep ? "connection kept per terminal" : "new connection per batch", n_batches, workers, n_bundles,
               sum.rows, sum.failed, t1 - t0);
        printf("ingest: %.1f batches/s, %ld connections, %.0f rows/s\n", (double) n_batches / (t1 - t0), sum.connects,
               (double) sum.rows / (t1 - t0));
        printf("ingest: per connection %.1f ms (TLS handshake, authentication, backend start); per ingest call "
               "%.1f ms first on a connection (%ld), %.1f ms later (%ld)\n",
               per_ms(sum.connect_s, sum.connects), per_ms(sum.first_s, sum.first_calls), sum.first_calls,
               per_ms(sum.later_s, sum.later_calls), sum.later_calls);
        if (sum.sampled > 0)
                printf("ingest: a kept connection's server process after its batches: %ld KiB of its own memory "
                       "(mean of %ld)\n",
                       sum.private_kib / sum.sampled, sum.sampled);
        return sum.failed ? 1 : 0;
}

static int cmp_double(const void *a, const void *b) {
        double x = *(const double *) a, y = *(const double *) b;
        return x < y ? -1 : x > y;
}

/* The record last read as a one-element batch (the fields this benchmark appends). */
static char *record_batch(tg_journal_reader *r, const tg_journal_record *rec) {
        static char raw64[TG_BASE64_SIZE(TG_JOURNAL_RECORD_MAX)];
        char boot[33], prev[65], mac[65], *out = NULL;
        const void *raw;
        size_t size;
        if (tg_journal_reader_raw(r, &raw, &size) < 0)
                exit(1);
        if (tg_base64_encode(raw, size, raw64, sizeof(raw64)) < 0)
                exit(1);
        (void) tg_hex_encode(tg_journal_record_boot_id(rec), 16, boot, sizeof(boot));
        (void) tg_hex_encode(tg_journal_record_prev_mac(rec), 32, prev, sizeof(prev));
        (void) tg_hex_encode(tg_journal_record_mac(rec), 32, mac, sizeof(mac));
        if (asprintf(&out,
                     "[{\"seq\":%" PRIu64 ",\"boot_id\":\"%.8s-%.4s-%.4s-%.4s-%.12s\",\"time_usec\":%" PRId64
                     ",\"clock\":%d,\"priority\":%d,\"type\":\"%s\",\"uid\":%u,\"pid\":%d,\"comm\":\"%s\","
                     "\"unit\":\"%s\",\"fields\":[[\"device\",\"1-1\"],[\"decision\",\"read-only\"]],"
                     "\"prev_mac\":\"%s\",\"mac\":\"%s\",\"raw\":\"%s\"}]",
                     tg_journal_record_seq(rec), boot, boot + 8, boot + 12, boot + 16, boot + 20,
                     tg_journal_record_time(rec), tg_journal_record_clock(rec), tg_journal_record_priority(rec),
                     tg_journal_record_type(rec), (unsigned) tg_journal_record_uid(rec),
                     (int) tg_journal_record_pid(rec), tg_journal_record_comm(rec), tg_journal_record_unit(rec), prev,
                     mac, raw64) < 0)
                exit(1);
        return out;
}

static int latency(int n, const char *bundle, const char *dir) {
        char *info = conninfo(bundle), host_id_path[4096], seed_path[4096];
        tg_journal_options opt = {.host_id_path = host_id_path};
        uint8_t seed[TG_JOURNAL_SEED_SIZE], id[TG_JOURNAL_ID_SIZE];
        double *t = calloc((size_t) n, sizeof(double));
        tg_journal *j = NULL;
        int r;

        snprintf(host_id_path, sizeof(host_id_path), "%s.host-id", dir);
        snprintf(seed_path, sizeof(seed_path), "%s/seed", bundle);
        if (!t || tg_journal_seed_read(seed_path, seed, id) < 0 || tg_journal_set_host_id(host_id_path, id) < 0 ||
            tg_journal_init(dir, seed, &opt) < 0 || tg_journal_open(dir, &opt, &j) < 0) {
                fprintf(stderr, "central-ingest: cannot make the journal in %s\n", dir);
                return 1;
        }
        for (int i = 0; i < n; i++) {
                tg_journal_field f[] = {{"device", "1-1"}, {"decision", "read-only"}};
                tg_journal_entry e = {.type = "usb.decision",
                                      .priority = 6,
                                      .comm = "termguardd",
                                      .unit = "termguardd.service",
                                      .fields = f,
                                      .n_fields = 2};
                tg_journal_reader *rd = NULL;
                const tg_journal_record *rec;
                uint64_t seq;
                double t0 = now();
                char *batch;
                r = tg_journal_append(j, &e, TG_JOURNAL_SYNC, &seq);
                if (r < 0 || tg_journal_reader_open(dir, &rd) < 0 || tg_journal_reader_seek_seq(rd, seq) < 0 ||
                    tg_journal_reader_next(rd, &rec) != 1)
                        return 1;
                batch = record_batch(rd, rec);
                if (send_batch(info, batch) != 1) {
                        fprintf(stderr, "central-ingest: record %" PRIu64 " was not stored\n", seq);
                        return 1;
                }
                t[i] = now() - t0;
                free(batch);
                tg_journal_reader_free(rd);
        }
        tg_journal_close(j);
        qsort(t, (size_t) n, sizeof(double), cmp_double);
        printf("append-to-commit: %d records, median %.1f ms, p95 %.1f ms, max %.1f ms "
               "(append+fdatasync, read back, new TLS connection, ingest, commit; no batching delay)\n",
               n, t[n / 2] * 1e3, t[n * 95 / 100] * 1e3, t[n - 1] * 1e3);
        return 0;
}

int main(int argc, char **argv) {
        if ((argc == 4 || (argc == 5 && strcmp(argv[4], "keep") == 0)) && strcmp(argv[1], "rate") == 0)
                return rate(atoi(argv[2]), argv[3], argc == 5);
        if (argc == 5 && strcmp(argv[1], "latency") == 0)
                return latency(atoi(argv[2]), argv[3], argv[4]);
        fprintf(stderr,
                "usage: central-ingest rate WORKERS BUNDLES_FILE [keep] < BATCHES | latency N BUNDLE JOURNAL_DIR\n");
        return 2;
}
