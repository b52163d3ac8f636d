/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * termguard-forwarder: ships the audit journal to the central store, as its own unprivileged
 * user (termguard-forwarder, a member of [Journal] AuditorGroup=), so that libpq, TLS and the
 * network stay out of termguardd.
 *
 * The cursor is the daemon's forwarded mark (status). Records after it go in batches, in seq
 * order, each in one transaction; only after COMMIT is the daemon told the new mark
 * (journal.forwarded), and only then may retention delete them. A crash anywhere resends from
 * the mark: the centre ignores a record it holds with the same MAC. New records are waited for
 * with inotify on the journal directory; while the centre or the daemon cannot be reached the
 * forwarder backs off (1 s doubling to 5 min, jittered). termguardd never waits for it.
 *
 * The connection to the centre is kept between batches while records keep coming (a new TLS
 * handshake and a new server process per batch cost the centre more than the batch itself)
 * and closed once nothing was sent for --idle-disconnect seconds, so that a city's quiet
 * terminals hold no server process. A connection the server closed meanwhile is noticed
 * before a batch is sent on it, and a new one made.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "forwarder.h"
#include "termguard/central.h"
#include "termguard/config.h"
#include "termguard/control-proto.h"
#include "termguard/escape.h"
#include "termguard/macro.h"

/* How long one control call may take: the daemon answers at once or is not there. */
#define CONTROL_TIMEOUT_USEC (5 * 1000000ULL)
/* With nothing to send, a report to the daemon at least this often (status shows its age),
 * and a mark the daemon missed is told again. */
#define IDLE_REPORT_MS (60 * 1000)
#define INOTIFY_MASK (IN_MODIFY | IN_CREATE | IN_MOVED_TO | IN_CLOSE_WRITE | IN_ATTRIB)
/* How long a connection with nothing to send is kept, by default and at most (seconds). */
#define IDLE_DISCONNECT_DEFAULT_S 60
#define IDLE_DISCONNECT_MAX_S 86400

typedef struct {
        const char *journal_dir, *central_dir, *socket_path;
        size_t batch_records;
        unsigned idle_disconnect_s;
        bool once;
        char ca[PATH_MAX], cert[PATH_MAX], key[PATH_MAX], conf[PATH_MAX];
        tg_central_config cfg;
        bool have_cfg;
        fwd_central *central;
        int64_t central_used_msec; /* CLOCK_MONOTONIC of its last batch */
        bool have_cursor;
        uint64_t committed; /* every record up to it is committed centrally */
        uint64_t marked;    /* the daemon's mark as last heard */
        uint64_t next_seq;  /* the journal's next seq as last heard */
        int64_t last_commit_usec;
        char last_error[TG_CTL_FORWARDER_ERROR_MAX + 1];
        fwd_backoff backoff;
        int inotify_fd;
        bool watching;
} Forwarder;

static void log_line(int priority, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void log_line(int priority, const char *fmt, ...) {
        va_list ap;
        /* the "<N>" prefix gives journald the priority */
        fprintf(stderr, "<%d>", priority);
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fputc('\n', stderr);
}

static int64_t now_usec(void) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        return (int64_t) ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int64_t monotonic_msec(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void disconnect(Forwarder *f) {
        fwd_central_free(f->central);
        f->central = NULL;
}

/* The error as status shows it: one line, escaped, bounded. */
static void set_error(Forwarder *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void set_error(Forwarder *f, const char *fmt, ...) {
        char raw[1024], esc[4 * TG_CTL_FORWARDER_ERROR_MAX];
        size_t len;
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(raw, sizeof(raw), fmt, ap);
        va_end(ap);
        tg_escape(raw, strlen(raw), TG_CTL_FORWARDER_ERROR_MAX / 2, esc, sizeof(esc));
        len = strlen(esc);
        /* cut at a character boundary */
        while (len > TG_CTL_FORWARDER_ERROR_MAX)
                for (len--; len > 0 && ((unsigned char) esc[len] & 0xc0) == 0x80; len--)
                        ;
        esc[len] = '\0';
        if (strcmp(esc, f->last_error) != 0)
                log_line(4, "%s", esc);
        memcpy(f->last_error, esc, len + 1);
}

static uint64_t parse_u64(const char *s) {
        return strtoull(s, NULL, 10);
}

static int control(Forwarder *f, tg_ctl_request *req, tg_ctl_reply *ret) {
        int r = tg_ctl_call(f->socket_path, req, CONTROL_TIMEOUT_USEC, ret);
        if (r < 0) {
                set_error(f, "termguardd cannot be reached at %s: %s", f->socket_path, strerror(-r));
                return r;
        }
        if (!ret->ok) {
                set_error(f, "termguardd refused %s: %s", tg_ctl_command_to_string(req->command), ret->error);
                tg_ctl_reply_done(ret);
                return ret->code == TG_CTL_ERR_PERMISSION_DENIED ? -EPERM : -EIO;
        }
        return 0;
}

/* The cursor: the daemon's forwarded mark. */
static int daemon_cursor(Forwarder *f) {
        tg_ctl_request req;
        tg_ctl_reply reply;
        int r;

        tg_ctl_request_init(&req, TG_CTL_STATUS);
        r = control(f, &req, &reply);
        if (r < 0)
                return r;
        f->marked = parse_u64(tg_ctl_get_string(reply.json, TG_F_JOURNAL_FORWARDED_SEQ));
        f->next_seq = parse_u64(tg_ctl_get_string(reply.json, TG_F_JOURNAL_NEXT_SEQ));
        tg_ctl_reply_done(&reply);
        if (f->marked > f->committed)
                f->committed = f->marked;
        f->have_cursor = true;
        return 0;
}

static void take_reply_marks(Forwarder *f, json_object *o) {
        f->marked = parse_u64(tg_ctl_get_string(o, TG_F_FORWARDED_SEQ));
        f->next_seq = parse_u64(tg_ctl_get_string(o, TG_F_JOURNAL_NEXT_SEQ));
}

static int daemon_mark(Forwarder *f) {
        tg_ctl_request req;
        tg_ctl_reply reply;
        char seq[24];
        int r;

        snprintf(seq, sizeof(seq), "%" PRIu64, f->committed);
        tg_ctl_request_init(&req, TG_CTL_JOURNAL_FORWARDED);
        r = tg_ctl_request_set(&req, TG_F_SEQ, seq);
        if (r < 0)
                return r;
        r = control(f, &req, &reply);
        if (r < 0)
                return r;
        take_reply_marks(f, reply.json);
        tg_ctl_reply_done(&reply);
        return 0;
}

static void daemon_report(Forwarder *f) {
        tg_ctl_request req;
        tg_ctl_reply reply;
        char commit[24], pending[24];

        snprintf(commit, sizeof(commit), "%" PRId64, f->last_commit_usec);
        snprintf(pending, sizeof(pending), "%" PRIu64,
                 f->next_seq > f->committed + 1 ? f->next_seq - 1 - f->committed : 0);
        tg_ctl_request_init(&req, TG_CTL_FORWARDER_STATUS);
        if (tg_ctl_request_set(&req, TG_F_LAST_COMMIT_USEC, commit) < 0 ||
            tg_ctl_request_set(&req, TG_F_PENDING, pending) < 0 ||
            tg_ctl_request_set(&req, TG_F_LAST_ERROR, f->last_error) < 0)
                return;
        /* not through control(): a failed report must not overwrite the error it reports */
        if (tg_ctl_call(f->socket_path, &req, CONTROL_TIMEOUT_USEC, &reply) < 0)
                return;
        if (reply.ok)
                take_reply_marks(f, reply.json);
        tg_ctl_reply_done(&reply);
}

static int load_config(Forwarder *f) {
        char err[512];
        int r;

        if (f->have_cfg)
                return 0;
        snprintf(f->conf, sizeof(f->conf), "%s/%s", f->central_dir, TG_CENTRAL_CONF);
        snprintf(f->ca, sizeof(f->ca), "%s/%s", f->central_dir, TG_CENTRAL_CA);
        snprintf(f->cert, sizeof(f->cert), "%s/%s", f->central_dir, TG_CENTRAL_CERT);
        snprintf(f->key, sizeof(f->key), "%s/%s", f->central_dir, TG_CENTRAL_KEY);
        r = tg_central_config_load(f->conf, &f->cfg, err, sizeof(err));
        if (r < 0) {
                set_error(f, "%s (termguardctl central enroll installs it)", err);
                return r;
        }
        f->have_cfg = true;
        return 0;
}

static int watch_journal(Forwarder *f) {
        if (f->watching)
                return 0;
        if (inotify_add_watch(f->inotify_fd, f->journal_dir, INOTIFY_MASK) < 0) {
                set_error(f, "cannot watch the journal %s: %s", f->journal_dir, strerror(errno));
                return -errno;
        }
        f->watching = true;
        return 0;
}

static void drain_inotify(Forwarder *f) {
        char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
        while (read(f->inotify_fd, buf, sizeof(buf)) > 0)
                ;
}

/* Waits for the journal to change, at most timeout_ms (-1: no limit). */
static void wait_journal(Forwarder *f, int timeout_ms) {
        struct pollfd p = {.fd = f->inotify_fd, .events = POLLIN};
        (void) poll(&p, 1, timeout_ms);
}

static void back_off(Forwarder *f) {
        uint64_t random = 0, usec;
        if (getrandom(&random, sizeof(random), GRND_NONBLOCK) != (ssize_t) sizeof(random))
                random = (uint64_t) now_usec();
        usec = fwd_backoff_next(&f->backoff, random);
        log_line(6, "retrying in %" PRIu64 " ms", usec / 1000);
        /* a plain wait: neither the journal nor anything else ends it sooner */
        (void) poll(NULL, 0, (int) (usec / 1000));
}

/* One round: the records after the cursor, one batch, committed and marked. Returns 1 when a
 * batch was committed, 0 when there was nothing to send, <0 on failure (backed off by the
 * caller). */
static int round_once(Forwarder *f, fwd_batch *b) {
        fwd_read_notes notes = {0};
        char err[512] = "";
        int64_t stored = 0;
        int r;

        if (!f->have_cursor) {
                r = daemon_cursor(f);
                if (r < 0)
                        return r;
        }
        /* a commit the daemon did not hear of yet */
        if (f->committed > f->marked)
                (void) daemon_mark(f);
        r = watch_journal(f);
        if (r < 0)
                return r;
        drain_inotify(f);
        fwd_batch_clear(b);
        r = fwd_batch_fill(b, f->journal_dir, f->committed, &notes);
        if (r < 0) {
                set_error(f, "cannot read the journal %s: %s", f->journal_dir, strerror(-r));
                return r;
        }
        if (notes.corrupt > 0)
                log_line(3,
                         "skipped %" PRIu64 " corrupt record(s) of the journal, the last at %s: the central "
                         "verification shows the seqs missing",
                         notes.corrupt, notes.corrupt_where);
        if (b->n == 0)
                return 0;
        r = load_config(f);
        if (r < 0)
                return r;
        if (f->central && !fwd_central_usable(f->central)) {
                log_line(6, "the central store closed the connection; connecting again");
                disconnect(f);
        }
        if (!f->central) {
                r = fwd_central_connect(&f->cfg, f->ca, f->cert, f->key, &f->central, err, sizeof(err));
                if (r < 0) {
                        set_error(f, "cannot connect to the central store %s:%s: %s", f->cfg.host, f->cfg.port, err);
                        return r;
                }
        }
        r = fwd_central_send(f->central, b, &stored, err, sizeof(err));
        if (r < 0) {
                /* not stored, as far as anyone knows: sent again from the same cursor */
                set_error(f, "the central store did not commit records %" PRIu64 "-%" PRIu64 ": %s", b->first_seq,
                          b->last_seq, err);
                disconnect(f);
                return r;
        }
        f->central_used_msec = monotonic_msec();
        f->committed = b->last_seq;
        f->last_commit_usec = now_usec();
        f->last_error[0] = '\0';
        fwd_backoff_reset(&f->backoff);
        log_line(7, "committed records %" PRIu64 "-%" PRIu64 " (%" PRId64 " new)", b->first_seq, b->last_seq, stored);
        /* Only now may retention delete them. A failure here is told again later. */
        (void) daemon_mark(f);
        return 1;
}

/* Nothing to send: closes a connection idle for long enough, and says how long to wait for
 * the journal before looking again (at the latest when the connection's idle time is up). */
static int idle_wait_ms(Forwarder *f) {
        int64_t left;

        if (!f->central)
                return IDLE_REPORT_MS;
        left = f->central_used_msec + (int64_t) f->idle_disconnect_s * 1000 - monotonic_msec();
        if (left <= 0) {
                log_line(7, "closing the idle connection to the central store");
                disconnect(f);
                return IDLE_REPORT_MS;
        }
        return left < IDLE_REPORT_MS ? (int) left : IDLE_REPORT_MS;
}

static int run(Forwarder *f) {
        fwd_batch b;
        int r;

        r = fwd_batch_init(&b, f->batch_records, 0);
        if (r < 0)
                return r;
        for (;;) {
                r = round_once(f, &b);
                if (r > 0) {
                        daemon_report(f);
                        continue;
                }
                if (r < 0) {
                        daemon_report(f);
                        if (f->once)
                                break;
                        back_off(f);
                        continue;
                }
                daemon_report(f);
                if (f->once)
                        break;
                wait_journal(f, idle_wait_ms(f));
        }
        fwd_batch_done(&b);
        return r;
}

static void usage(FILE *out) {
        fprintf(out, "Usage: termguard-forwarder [--journal DIR] [--central DIR] [--socket PATH] [--batch-records N]\n"
                     "                          [--idle-disconnect SECONDS] [--once]\n"
                     "Ships the audit journal to the central store (see termguard-forwarder(8)).\n");
}

int main(int argc, char **argv) {
        static const struct option opts[] = {
                {"journal", required_argument, NULL, 'j'},
                {"central", required_argument, NULL, 'C'},
                {"socket", required_argument, NULL, 's'},
                {"batch-records", required_argument, NULL, 'b'},
                {"idle-disconnect", required_argument, NULL, 'i'},
                {"once", no_argument, NULL, 'o'},
                {"help", no_argument, NULL, 'h'},
                {},
        };
        Forwarder f = {
                .journal_dir = TG_STATE_DIR_DEFAULT "/journal",
                .central_dir = TG_CENTRAL_DIR,
                .socket_path = TG_RUNTIME_DIR_DEFAULT "/control.socket",
                .idle_disconnect_s = IDLE_DISCONNECT_DEFAULT_S,
        };
        int c, r;

        while ((c = getopt_long(argc, argv, "h", opts, NULL)) >= 0) {
                switch (c) {
                case 'j': f.journal_dir = optarg; break;
                case 'C': f.central_dir = optarg; break;
                case 's': f.socket_path = optarg; break;
                case 'b':
                        f.batch_records = strtoul(optarg, NULL, 10);
                        if (f.batch_records == 0 || f.batch_records > FWD_BATCH_RECORDS_MAX) {
                                fprintf(stderr, "termguard-forwarder: --batch-records: 1 to %d\n",
                                        FWD_BATCH_RECORDS_MAX);
                                return 2;
                        }
                        break;
                case 'i': {
                        char *end = NULL;
                        unsigned long v;
                        errno = 0;
                        v = strtoul(optarg, &end, 10);
                        if (errno != 0 || end == optarg || *end != '\0' || optarg[0] == '-' ||
                            v > IDLE_DISCONNECT_MAX_S) {
                                fprintf(stderr, "termguard-forwarder: --idle-disconnect: 0 to %d seconds\n",
                                        IDLE_DISCONNECT_MAX_S);
                                return 2;
                        }
                        f.idle_disconnect_s = (unsigned) v;
                        break;
                }
                case 'o': f.once = true; break;
                case 'h': usage(stdout); return 0;
                default: usage(stderr); return 2;
                }
        }
        if (optind < argc) {
                usage(stderr);
                return 2;
        }
        /* a peer gone mid-reply is an error of that call, not the end of the forwarder */
        signal(SIGPIPE, SIG_IGN);
        f.inotify_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
        if (f.inotify_fd < 0) {
                log_line(3, "inotify: %s", strerror(errno));
                return 1;
        }
        r = run(&f);
        disconnect(&f);
        close(f.inotify_fd);
        /* --once: the exit code says whether everything up to the journal's end was committed */
        return r < 0 ? 1 : 0;
}
