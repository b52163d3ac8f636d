/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * central-ingest: terminals sending batches to termguard.ingest, as the forwarder does: each
 * batch over a new TLS connection with the terminal's own certificate, then disconnect.
 *
 *   central-ingest rate WORKERS BUNDLES_FILE < BATCHES      (JSON lines from central-gen --batches)
 *   central-ingest latency N BUNDLE_DIR JOURNAL_DIR
 *
 * rate: WORKERS processes take batch lines in turn; the lines are the terminals' batches one
 * terminal after the other, the same number each, sent with the bundles of BUNDLES_FILE (one
 * directory a line) in that order; prints batches, rows, connections per second and
 * rows per second. latency: N times, a record is appended to a real journal (fdatasync), read
 * back with its raw bytes and committed centrally over a new TLS connection; prints the median
 * and 95th percentile of append-to-commit. Prints figures, decides nothing.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

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

/* One batch over a new connection: the rows stored, or -1. */
static long send_batch(const char *info, const char *batch) {
        PGconn *c = PQconnectdb(info);
        const char *params[] = {batch};
        PGresult *res;
        long n = -1;
        if (PQstatus(c) != CONNECTION_OK) {
                fprintf(stderr, "central-ingest: %s", PQerrorMessage(c));
                PQfinish(c);
                return -1;
        }
        res = PQexecParams(c, "SELECT termguard.ingest($1::jsonb)", 1, NULL, params, NULL, NULL, 0);
        if (PQresultStatus(res) == PGRES_TUPLES_OK)
                n = strtol(PQgetvalue(res, 0, 0), NULL, 10);
        else
                fprintf(stderr, "central-ingest: %s", PQresultErrorMessage(res));
        PQclear(res);
        PQfinish(c);
        return n;
}

static int rate(int workers, const char *bundles_file) {
        static char *infos[BUNDLES_MAX];
        char line[4096], *batch = NULL;
        size_t cap = 0, n_bundles = 0, n_batches = 0;
        char **batches = NULL;
        ssize_t len;
        FILE *f = fopen(bundles_file, "re");
        int pipes[64][2];
        double t0, t1;
        long rows = 0, failed = 0;

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
                        long r[2] = {0, 0};
                        for (size_t i = (size_t) w; i < n_batches; i += (size_t) workers) {
                                /* the batches of one terminal are consecutive lines */
                                long k = send_batch(infos[i * n_bundles / n_batches], batches[i]);
                                if (k < 0)
                                        r[1]++;
                                else
                                        r[0] += k;
                        }
                        if (write(pipes[w][1], r, sizeof(r)) != sizeof(r))
                                _exit(1);
                        _exit(0);
                }
                close(pipes[w][1]);
        }
        for (int w = 0; w < workers; w++) {
                long r[2] = {0, 0};
                if (read(pipes[w][0], r, sizeof(r)) == sizeof(r)) {
                        rows += r[0];
                        failed += r[1];
                }
                close(pipes[w][0]);
        }
        while (wait(NULL) > 0)
                ;
        t1 = now();
        printf("ingest: %zu batches (%d workers, %zu terminals), %ld rows stored, %ld batches failed, %.1f s\n",
               n_batches, workers, n_bundles, rows, failed, t1 - t0);
        printf("ingest: %.0f connections+batches/s, %.0f rows/s\n", (double) n_batches / (t1 - t0),
               (double) rows / (t1 - t0));
        return failed ? 1 : 0;
}

static int cmp_double(const void *a, const void *b) {
        double x = *(const double *) a, y = *(const double *) b;
        return x < y ? -1 : x > y;
}

static void b64(const uint8_t *p, size_t n, char *out) {
        static const char t[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        size_t i = 0, o = 0;
        for (; i + 3 <= n; i += 3) {
                uint32_t v = ((uint32_t) p[i] << 16) | ((uint32_t) p[i + 1] << 8) | p[i + 2];
                out[o++] = t[v >> 18];
                out[o++] = t[(v >> 12) & 63];
                out[o++] = t[(v >> 6) & 63];
                out[o++] = t[v & 63];
        }
        if (n - i >= 1) {
                uint32_t v = (uint32_t) p[i] << 16 | (n - i == 2 ? (uint32_t) p[i + 1] << 8 : 0);
                out[o++] = t[v >> 18];
                out[o++] = t[(v >> 12) & 63];
                out[o++] = n - i == 2 ? t[(v >> 6) & 63] : '=';
                out[o++] = '=';
        }
        out[o] = 0;
}

/* The record last read as a one-element batch (the fields this benchmark appends). */
static char *record_batch(tg_journal_reader *r, const tg_journal_record *rec) {
        static char raw64[(TG_JOURNAL_RECORD_MAX + 2) / 3 * 4 + 1];
        char boot[33], prev[65], mac[65], *out = NULL;
        const void *raw;
        size_t size;
        if (tg_journal_reader_raw(r, &raw, &size) < 0)
                exit(1);
        b64(raw, size, raw64);
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
        if (argc == 4 && strcmp(argv[1], "rate") == 0)
                return rate(atoi(argv[2]), argv[3]);
        if (argc == 5 && strcmp(argv[1], "latency") == 0)
                return latency(atoi(argv[2]), argv[3], argv[4]);
        fprintf(stderr, "usage: central-ingest rate WORKERS BUNDLES_FILE < BATCHES | latency N BUNDLE JOURNAL_DIR\n");
        return 2;
}
