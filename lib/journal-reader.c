/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Reading the journal, and verifying it. The reader takes nothing on trust: every segment
 * header and record is checked (journal-format.c) before a field of it is used, a bad record
 * is reported with its file and offset, and reading goes on at the next segment.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "journal-format.h"
#include "termguard/hex.h"
#include "termguard/macro.h"

struct tg_journal_reader {
        int dirfd;
        uint64_t *segs;
        int n_segs, cur; /* cur: index of the open segment, -1 before the first */
        int segfd;
        journal_cursor cursor;
        uint64_t off, seg_first;
        uint8_t seg_host[TG_JOURNAL_ID_SIZE];
        char name[SEGMENT_NAME_MAX];
        uint64_t rec_off; /* where the record last returned or refused starts */
        uint64_t min_seq; /* seek */
        bool seg_started; /* the first record of the open segment was not returned yet */
        bool torn_tail;   /* the last segment ends in an incomplete record */
        uint64_t torn_offset;
        tg_journal_record rec;
};

void tg_journal_reader_free(tg_journal_reader *r) {
        if (!r)
                return;
        journal_cursor_done(&r->cursor);
        if (r->segfd >= 0)
                close(r->segfd);
        if (r->dirfd >= 0)
                close(r->dirfd);
        free(r->segs);
        free(r);
}
DEFINE_TRIVIAL_CLEANUP_FUNC(tg_journal_reader *, tg_journal_reader_free);

int tg_journal_reader_open(const char *dir, tg_journal_reader **ret) {
        _cleanup_(tg_journal_reader_freep) tg_journal_reader *r = NULL;
        int n;

        assert_return(dir && ret, -EINVAL);
        journal_gcrypt_init();
        r = calloc(1, sizeof(*r));
        if (!r)
                return -ENOMEM;
        r->dirfd = r->segfd = -EBADF;
        r->cur = -1;
        if (journal_cursor_init(&r->cursor, -EBADF) < 0)
                return -ENOMEM;
        r->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (r->dirfd < 0)
                return -errno;
        n = journal_list_segments(r->dirfd, &r->segs);
        if (n < 0)
                return n;
        r->n_segs = n;
        *ret = TAKE_PTR(r);
        return 0;
}

int tg_journal_reader_seek_seq(tg_journal_reader *r, uint64_t seq) {
        int k = 0;
        assert_return(r, -EINVAL);
        while (k + 1 < r->n_segs && r->segs[k + 1] <= seq)
                k++;
        if (r->segfd >= 0)
                close(r->segfd);
        r->segfd = -EBADF;
        r->cur = k - 1; /* next() opens segment k */
        r->min_seq = seq;
        return 0;
}

void tg_journal_reader_position(const tg_journal_reader *r, const char **ret_file, uint64_t *ret_offset) {
        if (ret_file)
                *ret_file = r->cur >= 0 ? r->name : NULL;
        if (ret_offset)
                *ret_offset = r->rec_off;
}

/* Opens segment cur+1. Returns 1, 0 when there is none, or -EBADMSG for a bad header (the
 * segment is then skipped by the next call). */
static int open_next_segment(tg_journal_reader *r) {
        uint8_t hdr[SEGMENT_HEADER_SIZE];
        const uint8_t *p;
        struct stat st;
        ssize_t n;

        if (r->segfd >= 0)
                close(r->segfd);
        r->segfd = -EBADF;
        if (r->cur + 1 >= r->n_segs)
                return 0;
        r->cur++;
        journal_segment_name(r->segs[r->cur], r->name);
        r->rec_off = 0;
        r->seg_started = true;
        r->segfd = openat(r->dirfd, r->name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
        if (r->segfd < 0)
                return errno == ELOOP ? -EBADMSG : -errno;
        if (fstat(r->segfd, &st) < 0)
                return -errno;
        if (!S_ISREG(st.st_mode))
                return -EBADMSG;
        r->cursor.fd = r->segfd;
        r->cursor.len = 0;
        r->cursor.eof = false;
        n = journal_cursor_at(&r->cursor, 0, &p);
        if (n < 0)
                return (int) n;
        if (n < SEGMENT_HEADER_SIZE)
                return -EBADMSG;
        memcpy(hdr, p, sizeof(hdr));
        if (journal_segment_header_decode(hdr, r->seg_host, &r->seg_first) < 0 || r->seg_first != r->segs[r->cur])
                return -EBADMSG;
        r->off = SEGMENT_HEADER_SIZE;
        return 1;
}

int tg_journal_reader_next(tg_journal_reader *r, const tg_journal_record **ret) {
        assert_return(r && ret, -EINVAL);
        for (;;) {
                const uint8_t *p;
                ssize_t n, size;
                int k;

                if (r->segfd < 0) {
                        k = open_next_segment(r);
                        if (k <= 0) {
                                if (k < 0) {
                                        /* skip the rest of this segment on the next call */
                                        if (r->segfd >= 0)
                                                close(r->segfd);
                                        r->segfd = -EBADF;
                                }
                                return k;
                        }
                }
                r->rec_off = r->off;
                n = journal_cursor_at(&r->cursor, r->off, &p);
                if (n < 0)
                        return (int) n;
                if (n == 0) {
                        close(r->segfd);
                        r->segfd = -EBADF;
                        continue;
                }
                size = journal_record_decode(p, (size_t) n, &r->rec);
                if (size == -EAGAIN && r->cur + 1 == r->n_segs) {
                        /* the end of the last segment: a record being written, or torn */
                        r->torn_tail = true;
                        r->torn_offset = r->off;
                        return 0;
                }
                if (size < 0) {
                        close(r->segfd);
                        r->segfd = -EBADF;
                        return -EBADMSG;
                }
                r->off += (uint64_t) size;
                r->seg_started = false;
                if (r->rec.seq < r->min_seq)
                        continue;
                *ret = &r->rec;
                return 1;
        }
}

uint64_t tg_journal_record_seq(const tg_journal_record *rec) {
        return rec->seq;
}
const uint8_t *tg_journal_record_host_id(const tg_journal_record *rec) {
        return rec->host_id;
}
const uint8_t *tg_journal_record_boot_id(const tg_journal_record *rec) {
        return rec->boot_id;
}
int64_t tg_journal_record_time(const tg_journal_record *rec) {
        return rec->time_usec;
}
tg_journal_clock tg_journal_record_clock(const tg_journal_record *rec) {
        return (tg_journal_clock) rec->clock;
}
const char *tg_journal_record_type(const tg_journal_record *rec) {
        return rec->type;
}
int tg_journal_record_priority(const tg_journal_record *rec) {
        return rec->priority;
}
uid_t tg_journal_record_uid(const tg_journal_record *rec) {
        return (uid_t) rec->uid;
}
pid_t tg_journal_record_pid(const tg_journal_record *rec) {
        return (pid_t) rec->pid;
}
const char *tg_journal_record_comm(const tg_journal_record *rec) {
        return rec->comm;
}
const char *tg_journal_record_unit(const tg_journal_record *rec) {
        return rec->unit;
}
size_t tg_journal_record_n_fields(const tg_journal_record *rec) {
        return rec->n_fields;
}
void tg_journal_record_field(const tg_journal_record *rec, size_t i, const char **ret_key, const char **ret_value) {
        bool ok = i < rec->n_fields;
        if (ret_key)
                *ret_key = ok ? rec->keys[i] : NULL;
        if (ret_value)
                *ret_value = ok ? rec->values[i] : NULL;
}
const char *tg_journal_record_get(const tg_journal_record *rec, const char *key) {
        for (size_t i = 0; key && i < rec->n_fields; i++)
                if (strcmp(rec->keys[i], key) == 0)
                        return rec->values[i];
        return NULL;
}
const uint8_t *tg_journal_record_mac(const tg_journal_record *rec) {
        return rec->mac;
}
const uint8_t *tg_journal_record_prev_mac(const tg_journal_record *rec) {
        return rec->prev_mac;
}

int tg_journal_reader_raw(tg_journal_reader *r, const void **ret, size_t *ret_size) {
        const uint8_t *p;
        assert_return(r && ret && ret_size, -EINVAL);
        /* the bytes of the record last returned are still in the cursor's buffer */
        if (r->segfd < 0 || r->seg_started || r->off - r->rec_off != r->rec.size ||
            journal_cursor_at(&r->cursor, r->rec_off, &p) < (ssize_t) r->rec.size)
                return -ENODATA;
        *ret = p;
        *ret_size = r->rec.size;
        return 0;
}

int tg_journal_record_new(tg_journal_record **ret) {
        assert_return(ret, -EINVAL);
        *ret = calloc(1, sizeof(tg_journal_record));
        return *ret ? 0 : -ENOMEM;
}

void tg_journal_record_free(tg_journal_record *rec) {
        free(rec);
}

int tg_journal_record_decode(const void *buf, size_t len, tg_journal_record *rec) {
        ssize_t n;
        assert_return(buf && rec, -EINVAL);
        journal_gcrypt_init();
        /* exactly one record: bytes before or after it would be stored but not authenticated */
        n = journal_record_decode(buf, len, rec);
        return n >= 0 && (size_t) n == len ? 0 : -EBADMSG;
}

/* Verification: one verifier over a stream of records, fed by tg_journal_verify from the
 * segment files and by central verification from the rows of the central store. */

struct tg_journal_chain {
        tg_journal_verify_options opt;
        tg_journal_verify_result res;
        uint8_t key[TG_JOURNAL_MAC_SIZE];
        journal_mac mac;        /* with a seed: the HMAC handle, set to key for each record */
        uint64_t key_seq;       /* key is K_key_seq; 0: none yet */
        uint64_t restarts_left; /* key chains computed again from K_1 (reordered records) */
        uint8_t last_mac[TG_JOURNAL_MAC_SIZE], first_prev[TG_JOURNAL_MAC_SIZE];
        uint64_t last_seq, first_seq, pruned_through;
        bool have_last, checkpoint_seen, start_explained, chain_known;
        /* where the record being checked is: set by tg_journal_verify, NULL for a stream */
        const char *file;
        uint64_t offset;
        tg_journal_record rec; /* the record fed last */
};

void tg_journal_chain_free(tg_journal_chain *c) {
        if (!c)
                return;
        explicit_bzero(c->key, sizeof(c->key));
        journal_mac_close(c->mac);
        free(c);
}
DEFINE_TRIVIAL_CLEANUP_FUNC(tg_journal_chain *, tg_journal_chain_free);

/* KEY_RESTARTS_MAX is below */
static void chain_init(tg_journal_chain *c, const tg_journal_verify_options *opt);

int tg_journal_chain_new(const tg_journal_verify_options *opt, tg_journal_chain **ret) {
        tg_journal_chain *c;
        assert_return(opt && ret, -EINVAL);
        journal_gcrypt_init();
        c = calloc(1, sizeof(*c));
        if (!c)
                return -ENOMEM;
        chain_init(c, opt);
        if (opt->seed && journal_mac_open(&c->mac) < 0) {
                free(c);
                return -ENOMEM;
        }
        *ret = c;
        return 0;
}

static void report(tg_journal_chain *c, tg_journal_problem_kind kind, uint64_t seq, uint64_t expected) {
        tg_journal_problem p = {.kind = kind, .seq = seq, .expected = expected, .file = c->file, .offset = c->offset};
        if (kind == TG_JOURNAL_PROBLEM_SKIPPED) {
                c->res.notes++;
        } else if (c->res.problems++ == 0) {
                c->res.first = p;
                snprintf(c->res.first_file, sizeof(c->res.first_file), "%s", p.file ? p.file : "");
                c->res.first.file = c->res.first_file;
        }
        if (c->opt.report)
                c->opt.report(&p, c->opt.userdata);
}

/* How many key evolutions one record may cost: a record's seq is only covered by its
 * checksum, which anybody can recompute, so a hostile seq must not make verify hash for
 * hours. Far more than a journal skips after a crash (SEQ_RESERVE_BLOCK). */
#define KEY_STEPS_MAX (UINT64_C(1) << 22)
#define KEY_RESTARTS_MAX 64

static void chain_init(tg_journal_chain *c, const tg_journal_verify_options *opt) {
        c->opt = *opt;
        c->restarts_left = KEY_RESTARTS_MAX;
        c->res.macs_checked = opt->seed != NULL;
        if (opt->have_start && opt->start_seq > 0) {
                /* as if the record at start_seq had just been checked */
                c->have_last = true;
                c->chain_known = true;
                c->last_seq = opt->start_seq;
                memcpy(c->last_mac, opt->start_mac, sizeof(c->last_mac));
                if (opt->start_key) {
                        memcpy(c->key, opt->start_key, sizeof(c->key));
                        c->key_seq = opt->start_seq;
                }
        }
        c->opt.start_key = NULL; /* copied: the caller may wipe it */
}

/* K_seq from the seed: evolved forward from the last key, or again from K_1 when the journal
 * goes backwards (a reordered record). False when that is too far to go. */
static bool key_for(tg_journal_chain *c, uint64_t seq) {
        if (c->key_seq == 0 || seq < c->key_seq) {
                if (seq - 1 > KEY_STEPS_MAX)
                        return false;
                /* every record out of order would cost a chain from K_1: a few are checked,
                 * the rest of such a journal is reported unverified */
                if (c->key_seq != 0 && c->restarts_left-- == 0) {
                        c->restarts_left = 0;
                        return false;
                }
                journal_key_first(c->opt.seed, c->key);
                c->key_seq = 1;
        }
        if (seq - c->key_seq > KEY_STEPS_MAX)
                return false;
        while (c->key_seq < seq) {
                journal_key_evolve(c->key);
                c->key_seq++;
        }
        return true;
}

static bool parse_seq(const char *s, uint64_t *ret) {
        uint64_t v = 0;
        if (!s || !*s || strlen(s) > 20)
                return false;
        for (; *s; s++) {
                if (*s < '0' || *s > '9' || v > (UINT64_MAX - 9) / 10)
                        return false;
                v = v * 10 + (uint64_t) (*s - '0');
        }
        *ret = v;
        return true;
}

/* A journal.recovered record explains the seqs before it that are missing when its fields
 * name exactly that range. Returns the kind it explains them as, or -1. */
static int recovered_explains(const tg_journal_record *rec, uint64_t from, uint64_t to) {
        uint64_t lf = 0, ll = 0, sf = 0, sl = 0;
        bool lost = parse_seq(tg_journal_record_get(rec, "lost_first"), &lf) &&
                    parse_seq(tg_journal_record_get(rec, "lost_last"), &ll);
        bool skipped = parse_seq(tg_journal_record_get(rec, "skipped_first"), &sf) &&
                       parse_seq(tg_journal_record_get(rec, "skipped_last"), &sl);
        uint64_t first = lost ? lf : skipped ? sf : 0, last = skipped ? sl : lost ? ll : 0;

        if (strcmp(rec->type, TG_JOURNAL_TYPE_RECOVERED) != 0 || (!lost && !skipped))
                return -1;
        if (lost && skipped && ll + 1 != sf)
                return -1;
        if (first != from || last != to)
                return -1;
        return lost ? TG_JOURNAL_PROBLEM_LOST : TG_JOURNAL_PROBLEM_SKIPPED;
}

/* Checks one decoded record (raw: its bytes) against the records before it. */
static void chain_record(tg_journal_chain *c, const tg_journal_record *rec, const uint8_t *raw) {
        uint8_t mac[TG_JOURNAL_MAC_SIZE];

        c->res.records++;
        if (c->first_seq == 0) {
                c->first_seq = rec->seq;
                memcpy(c->first_prev, rec->prev_mac, sizeof(c->first_prev));
                c->start_explained = rec->seq == 1 || (c->opt.have_start && c->opt.start_seq > 0);
        }
        if (c->opt.host_id && memcmp(rec->host_id, c->opt.host_id, TG_JOURNAL_ID_SIZE) != 0)
                report(c, TG_JOURNAL_PROBLEM_HOST, rec->seq, 0);
        /* seqs: one more than the record before, except where the journal says why */
        if (c->have_last && rec->seq <= c->last_seq) {
                report(c, TG_JOURNAL_PROBLEM_REORDER, rec->seq, c->last_seq + 1);
        } else if (c->have_last && rec->seq > c->last_seq + 1) {
                int kind = recovered_explains(rec, c->last_seq + 1, rec->seq - 1);
                report(c, kind < 0 ? TG_JOURNAL_PROBLEM_GAP : (tg_journal_problem_kind) kind, rec->seq,
                       c->last_seq + 1);
        } else if (!c->have_last && rec->seq > 1) {
                int kind = recovered_explains(rec, 1, rec->seq - 1);
                if (kind >= 0) {
                        report(c, (tg_journal_problem_kind) kind, rec->seq, 1);
                        c->start_explained = true;
                }
        }
        /* the chain: each record carries the MAC of the one before */
        if (c->chain_known && memcmp(rec->prev_mac, c->last_mac, TG_JOURNAL_MAC_SIZE) != 0)
                report(c, TG_JOURNAL_PROBLEM_CHAIN, rec->seq, 0);
        if (c->opt.seed) {
                if (!key_for(c, rec->seq)) {
                        report(c, TG_JOURNAL_PROBLEM_MAC, rec->seq, 0);
                } else {
                        journal_mac_setkey(c->mac, c->key);
                        journal_mac_compute(c->mac, raw, rec->mac_offset, mac);
                        if (memcmp(mac, rec->mac, sizeof(mac)) != 0)
                                report(c, TG_JOURNAL_PROBLEM_MAC, rec->seq, 0);
                }
        }
        if (strcmp(rec->type, TG_JOURNAL_TYPE_PRUNED) == 0) {
                uint64_t through;
                uint8_t head[TG_JOURNAL_MAC_SIZE];
                size_t got;
                const char *h = tg_journal_record_get(rec, "head_mac");
                if (parse_seq(tg_journal_record_get(rec, "pruned_through"), &through) && h &&
                    strlen(h) == 2 * TG_JOURNAL_MAC_SIZE && tg_hex_decode(h, head, sizeof(head), &got) == 0 &&
                    through + 1 == c->first_seq && memcmp(head, c->first_prev, sizeof(head)) == 0)
                        c->pruned_through = through;
        }
        if (c->opt.have_checkpoint && rec->seq == c->opt.checkpoint_seq) {
                c->checkpoint_seen = true;
                if (memcmp(rec->mac, c->opt.checkpoint_mac, TG_JOURNAL_MAC_SIZE) != 0)
                        report(c, TG_JOURNAL_PROBLEM_ROLLBACK, rec->seq, 0);
        }
        if (!c->have_last || rec->seq > c->last_seq)
                c->last_seq = rec->seq;
        c->have_last = true;
        memcpy(c->last_mac, rec->mac, sizeof(c->last_mac));
        c->chain_known = true;
}

/* A record that could not be decoded: where it was, the chain is unknown. */
static void chain_corrupt(tg_journal_chain *c) {
        report(c, TG_JOURNAL_PROBLEM_CORRUPT, 0, c->have_last ? c->last_seq + 1 : 0);
        c->chain_known = false;
}

int tg_journal_chain_feed(tg_journal_chain *c, const void *raw, size_t len, const tg_journal_record **ret_rec) {
        assert_return(c && (raw || len == 0), -EINVAL);
        if (!raw || tg_journal_record_decode(raw, len, &c->rec) < 0) {
                chain_corrupt(c);
                return 0;
        }
        chain_record(c, &c->rec, raw);
        if (ret_rec)
                *ret_rec = &c->rec;
        return 1;
}

bool tg_journal_chain_state(const tg_journal_chain *c, uint64_t *ret_seq, uint8_t ret_mac[TG_JOURNAL_MAC_SIZE],
                            uint8_t ret_key[TG_JOURNAL_MAC_SIZE]) {
        if (!c || !ret_seq || !ret_mac || !ret_key || !c->opt.seed || !c->have_last || !c->chain_known ||
            c->key_seq != c->last_seq)
                return false;
        *ret_seq = c->last_seq;
        memcpy(ret_mac, c->last_mac, TG_JOURNAL_MAC_SIZE);
        memcpy(ret_key, c->key, TG_JOURNAL_MAC_SIZE);
        return true;
}

static void chain_finish(tg_journal_chain *c, tg_journal_verify_result *ret) {
        if (c->first_seq > 1 && !c->start_explained && c->pruned_through + 1 != c->first_seq)
                /* the oldest records are gone, and no prune says so */
                report(c, TG_JOURNAL_PROBLEM_GAP, c->first_seq, 1);
        c->file = NULL;
        c->offset = 0;
        if (c->opt.have_checkpoint && !c->checkpoint_seen && c->opt.checkpoint_seq > c->last_seq)
                report(c, TG_JOURNAL_PROBLEM_TRUNCATED, c->last_seq, c->opt.checkpoint_seq);
        c->res.first_seq = c->first_seq;
        c->res.last_seq = c->last_seq;
        *ret = c->res;
        ret->first.file = ret->first_file;
}

void tg_journal_chain_end(tg_journal_chain *c, tg_journal_verify_result *ret) {
        if (!c || !ret)
                return;
        c->file = NULL;
        c->offset = 0;
        chain_finish(c, ret);
}

int tg_journal_verify(const char *dir, const tg_journal_verify_options *opt, tg_journal_verify_result *ret) {
        _cleanup_(tg_journal_reader_freep) tg_journal_reader *reader = NULL;
        _cleanup_(tg_journal_chain_freep) tg_journal_chain *c = NULL;
        uint64_t seg_expect = 0;
        int r;

        assert_return(dir && opt && ret, -EINVAL);
        r = tg_journal_reader_open(dir, &reader);
        if (r < 0 || !reader)
                return r < 0 ? r : -ENOMEM;
        r = tg_journal_chain_new(opt, &c);
        if (r < 0)
                return r;
        /* the host is each segment's, checked below */
        c->opt.host_id = NULL;
        for (;;) {
                const tg_journal_record *rec = NULL;
                const uint8_t *raw;
                int cur = reader->cur;
                bool first_in_segment;
                r = tg_journal_reader_next(reader, &rec);
                if (r == 0)
                        break;
                tg_journal_reader_position(reader, &c->file, &c->offset);
                if (r == -EBADMSG) {
                        chain_corrupt(c);
                        continue;
                }
                if (r < 0 || !rec)
                        return r < 0 ? r : -EINVAL;
                first_in_segment = reader->cur != cur || c->res.records == 0;
                if (first_in_segment)
                        seg_expect = reader->seg_first;
                if (memcmp(rec->host_id, reader->seg_host, TG_JOURNAL_ID_SIZE) != 0)
                        report(c, TG_JOURNAL_PROBLEM_HOST, rec->seq, 0);
                if (first_in_segment && rec->seq != seg_expect)
                        report(c, TG_JOURNAL_PROBLEM_GAP, rec->seq, seg_expect);
                /* the record's raw bytes are still in the reader's buffer */
                if (journal_cursor_at(&reader->cursor, reader->rec_off, &raw) < (ssize_t) rec->size)
                        return -EIO;
                chain_record(c, rec, raw);
                seg_expect = rec->seq + 1;
        }
        if (reader->torn_tail) {
                reader->rec_off = reader->torn_offset;
                tg_journal_reader_position(reader, &c->file, &c->offset);
                report(c, TG_JOURNAL_PROBLEM_TRUNCATED, 0, c->last_seq + 1);
        }
        c->file = NULL;
        c->offset = 0;
        if (c->first_seq > 1 && !c->start_explained && c->pruned_through + 1 != c->first_seq) {
                reader->rec_off = SEGMENT_HEADER_SIZE;
                tg_journal_reader_position(reader, &c->file, &c->offset);
        }
        chain_finish(c, ret);
        return 0;
}
