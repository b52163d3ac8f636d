/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* The tamper-evident audit journal: append-only segment files under one root-only directory,
 * one self-delimiting record per event, each authenticated by a forward-secure HMAC-SHA256
 * chain (libgcrypt). The encoding is in docs/journal-format.md; this module is its only writer
 * and its only parser.
 *
 * Keys: record seq i is authenticated with K_i; K_{i+1} = SHA-256(K_i || constant) and K_i is
 * wiped from memory and from the key state on disk as soon as record i is durable. K_1 derives
 * from a 32-byte seed that auditors keep off the host (tg_journal_init), so nobody who becomes
 * root later can recompute the MAC of an earlier record.
 *
 * Errors are negative errno values; outputs (ret_*) are untouched on failure. */

#define TG_JOURNAL_DIR "/var/lib/termguard/journal"
/* The host id: a random UUID written once (tg_journal_host_id), not derived from
 * /etc/machine-id, which cloned images share. Central enrolment may set it. */
#define TG_JOURNAL_HOST_ID_FILE "/var/lib/termguard/host-id"

#define TG_JOURNAL_SCHEMA 1 /* in every segment header and every record */
#define TG_JOURNAL_ID_SIZE 16
#define TG_JOURNAL_MAC_SIZE 32
#define TG_JOURNAL_SEED_SIZE 32

/* Bounds of an entry; a record over any of them is refused on append and is corrupt on read. */
#define TG_JOURNAL_TYPE_MAX 64             /* "usb.decision": [a-z0-9.-] */
#define TG_JOURNAL_KEY_MAX 64              /* field names: [A-Za-z0-9_] */
#define TG_JOURNAL_VALUE_MAX 4096          /* bytes of one value: UTF-8 text without NUL */
#define TG_JOURNAL_COMM_MAX 64             /* sender's comm or unit */
#define TG_JOURNAL_FIELDS_MAX 64           /* fields per record */
#define TG_JOURNAL_RECORD_MAX (128 * 1024) /* encoded bytes of one record */

/* Record types this module writes itself. */
#define TG_JOURNAL_TYPE_RECOVERED "journal.recovered"     /* a torn tail cut off, seqs skipped */
#define TG_JOURNAL_TYPE_CHECKPOINT "journal.checkpoint"   /* the chain head: head_seq, head_mac */
#define TG_JOURNAL_TYPE_PRUNED "journal.pruned"           /* segments deleted by retention */
#define TG_JOURNAL_TYPE_INITIALIZED "journal.initialized" /* first record of a new key chain */

typedef enum {
        TG_JOURNAL_CLOCK_UNKNOWN = 0,
        TG_JOURNAL_CLOCK_SYNCED = 1,   /* the kernel says an NTP daemon disciplines the clock */
        TG_JOURNAL_CLOCK_UNSYNCED = 2, /* adjtimex() reports TIME_ERROR / STA_UNSYNC */
} tg_journal_clock;

/* The clock state right now, from adjtimex(2) (see docs/journal-format.md for why). */
tg_journal_clock tg_journal_clock_state(void);
const char *tg_journal_clock_to_string(tg_journal_clock c);

typedef struct {
        const char *key;   /* [A-Za-z0-9_], 1..TG_JOURNAL_KEY_MAX */
        const char *value; /* UTF-8 without NUL, at most TG_JOURNAL_VALUE_MAX bytes */
} tg_journal_field;

/* One event as handed to tg_journal_append. The sender is what termguardd stamped from the
 * peer's credentials, never what the peer claimed. */
typedef struct {
        const char *type; /* from the event catalogue */
        int priority;     /* syslog priority 0..7 */
        uid_t uid;
        pid_t pid;
        const char *comm;               /* may be NULL or "" */
        const char *unit;               /* may be NULL or "" */
        int64_t time_usec;              /* UTC, microseconds since the epoch; 0: now */
        tg_journal_clock clock;         /* ignored when time_usec is 0 (then measured, at most 100 ms old) */
        const tg_journal_field *fields; /* in this order */
        size_t n_fields;
} tg_journal_entry;

typedef struct {
        uint64_t max_bytes;       /* cap of all segments; 0: TG_JOURNAL_DEFAULT_MAX */
        uint64_t reserve_bytes;   /* of the cap, kept for TG_JOURNAL_RESERVE entries; 0: default */
        uint64_t segment_bytes;   /* a segment is closed once it passes this; 0: default */
        const char *host_id_path; /* NULL: TG_JOURNAL_HOST_ID_FILE */
        const char *boot_id_path; /* NULL: /proc/sys/kernel/random/boot_id */
        /* The group that may read the records ([Journal] AuditorGroup=): the directory becomes
         * 02750 (set-group-ID: new segments get the group) and the segments 0640,
         * owner:reader_gid; the key state stays 0600. Without it everything is the owner's
         * only (0700, 0600). Giving files to the group needs CAP_CHOWN unless the caller is a
         * member: tg_journal_share does it before a confined writer opens the journal. */
        bool reader_group;
        gid_t reader_gid;
} tg_journal_options;

#define TG_JOURNAL_DEFAULT_MAX (512ULL * 1024 * 1024)
#define TG_JOURNAL_DEFAULT_RESERVE (16ULL * 1024 * 1024)
#define TG_JOURNAL_DEFAULT_SEGMENT (8ULL * 1024 * 1024)

typedef struct tg_journal tg_journal;

/* Creates the journal in dir (created 0700 if missing, parents must exist) with a key chain
 * starting from seed, and appends a journal.initialized record. Refuses (-EEXIST) when dir
 * already holds key state. The seed is not kept: the caller wipes its copy after escrow. */
int tg_journal_init(const char *dir, const uint8_t seed[TG_JOURNAL_SEED_SIZE], const tg_journal_options *opt);

/* Opens the journal in dir for appending: one writer per journal (an exclusive lock on the
 * directory, -EBUSY when another holds it); one tg_journal may be used from several threads,
 * its calls are serialised inside. dir and every file in it must be the caller's (root's, for
 * the daemon), dir 0700 and files 0600, or with opt->reader_group dir 02750 and segments 0640 of
 * that group (-EPERM for anything else; what is accepted is brought to what opt asks for); -ENOKEY when the journal was
 * never initialised. A torn tail (a record cut short or failing its checksum at the end of the last segment) is cut
 * off, and the recovery is appended as a journal.recovered record, as is a skip of seqs that may have been handed out
 * before a crash: a seq is never used twice. A record that passes its checksum but not its MAC refuses the open
 * (-EBADMSG): tampering is left for verify to show, never repaired. opt may be NULL. */
int tg_journal_open(const char *dir, const tg_journal_options *opt, tg_journal **ret);
/* Brings the modes of dir and its segments to what opt asks for (a reader group or none), as
 * tg_journal_open would, without opening the journal for writing: run by root with its
 * privileges before the confined daemon starts (termguardd --share-journal). Takes the
 * writer's lock (-EBUSY while a writer holds it); -EPERM for modes looser than either form. */
int tg_journal_share(const char *dir, const tg_journal_options *opt);
/* Syncs what is buffered, writes the key state and closes. NULL is fine. */
void tg_journal_close(tg_journal *j);

enum {
        TG_JOURNAL_SYNC = 1 << 0,    /* durable (fdatasync, key state advanced) before return */
        TG_JOURNAL_RESERVE = 1 << 1, /* may use the reserve (MFA and journal-health records) */
};

/* Appends one record and returns its seq. Without TG_JOURNAL_SYNC the record is written but
 * may be lost in a crash until the next tg_journal_sync (or a later SYNC append); its seq is
 * still never reused. -EINVAL for an entry out of bounds, -ENOSPC when the journal is at its
 * cap (less the reserve unless TG_JOURNAL_RESERVE), -EIO etc. from the file system. A SYNC
 * record whose write fails takes no seq; when buffered records cannot be written, every later
 * call fails with that error until the journal is closed and opened again (which recovers and
 * records the seqs skipped): fail closed. */
int tg_journal_append(tg_journal *j, const tg_journal_entry *e, unsigned flags, uint64_t *ret_seq);
/* Makes every record appended so far durable and advances the key state on disk. */
int tg_journal_sync(tg_journal *j);

/* Appends a journal.checkpoint record (durable) and returns the chain head after it: its seq
 * and MAC. Keep that pair off the host: verify --checkpoint shows truncation and rollback
 * against it. */
int tg_journal_checkpoint(tg_journal *j, uint64_t *ret_seq, uint8_t ret_mac[TG_JOURNAL_MAC_SIZE]);
/* Writes and parses the text form of a chain head, "SEQ:MACHEX". */
#define TG_JOURNAL_HEAD_TEXT_MAX (20 + 1 + 2 * TG_JOURNAL_MAC_SIZE + 1)
void tg_journal_head_format(uint64_t seq, const uint8_t mac[TG_JOURNAL_MAC_SIZE], char *ret, size_t ret_size);
int tg_journal_head_parse(const char *s, uint64_t *ret_seq, uint8_t ret_mac[TG_JOURNAL_MAC_SIZE]);

typedef struct {
        uint64_t used_bytes;    /* all segment files */
        uint64_t max_bytes;     /* the cap */
        uint64_t reserve_bytes; /* part of the cap only TG_JOURNAL_RESERVE entries may use */
        uint64_t n_segments;
        uint64_t first_seq, next_seq;
        uint64_t forwarded_seq; /* 0: nothing marked forwarded */
} tg_journal_usage_info;
int tg_journal_usage(tg_journal *j, tg_journal_usage_info *ret);

/* Records that every record up to seq is in the central store (durable before return).
 * Never moves backwards; -ERANGE past the last record. */
int tg_journal_mark_forwarded(tg_journal *j, uint64_t seq);
/* Deletes whole closed segments whose records are all forwarded and all older than
 * max_age_usec, oldest first, never the segment being written; appends a journal.pruned
 * record carrying the seq and MAC where the remaining chain now starts. Returns the number of
 * segments deleted. */
int tg_journal_prune(tg_journal *j, int64_t max_age_usec);

typedef struct {
        /* Closed forwarded segments whose newest record is older than this go; < 0: none by
         * age (keep forever). */
        int64_t max_age_usec;
        /* Then, oldest first, closed forwarded segments of any age until the cap less the
         * reserve has this many bytes free (the cap needs room); 0: none for room. A record
         * that is not forwarded is never deleted, whatever the cap says. */
        uint64_t room_bytes;
        /* At most this many segments in one call, so that the journal's lock is held for a
         * bounded time (appends wait for it); 0: no bound. */
        unsigned max_segments;
} tg_journal_prune_options;

typedef struct {
        unsigned deleted;        /* segments deleted by this call */
        uint64_t pruned_through; /* the seq of the last record deleted; 0: none deleted */
        uint64_t record_seq;     /* the journal.pruned record's seq; 0: none written */
        /* the MAC of the record at pruned_through */
        uint8_t head_mac[TG_JOURNAL_MAC_SIZE];
        bool more; /* max_segments stopped it: more may go now, call again */
        /* When the oldest closed segment left turns max_age_usec old, if every record in it is
         * forwarded; 0: no such moment is known (not forwarded yet, no closed segment, no age). */
        int64_t next_usec;
} tg_journal_prune_result;

/* tg_journal_prune with the cap's needs and a bound; the result in *ret (may be NULL). On an
 * error (reading, the journal.pruned record, unlinking) what was deleted before it stays
 * deleted and is counted in *ret, which is then filled too. */
int tg_journal_prune_step(tg_journal *j, const tg_journal_prune_options *opt, tg_journal_prune_result *ret);

/* The oldest record the journal keeps: its seq (the first segment's first) and the time its
 * segment was started (UTC microseconds). -ENODATA when there is no segment. */
int tg_journal_oldest(tg_journal *j, uint64_t *ret_seq, int64_t *ret_usec);

/* The host id (TG_JOURNAL_HOST_ID_FILE or path): read, or created once from a random UUID
 * (0644) when missing. */
int tg_journal_host_id(const char *path, uint8_t ret[TG_JOURNAL_ID_SIZE]);
/* Replaces the host id (central enrolment). */
int tg_journal_set_host_id(const char *path, const uint8_t id[TG_JOURNAL_ID_SIZE]);

/* Reading. Records are checked as they are read: length, checksum, bounds, UTF-8 of strings;
 * nothing a record holds can make the reader overrun or allocate without bound. Strings are
 * returned as stored: escape them (tg_escape) before showing them. */

typedef struct tg_journal_reader tg_journal_reader;
typedef struct tg_journal_record tg_journal_record;

/* Opens dir for reading (no lock; sees records complete when they are reached). Files are
 * read without following symlinks. */
int tg_journal_reader_open(const char *dir, tg_journal_reader **ret);
void tg_journal_reader_free(tg_journal_reader *r);
/* Positions at the first record with seq >= seq. */
int tg_journal_reader_seek_seq(tg_journal_reader *r, uint64_t seq);
/* The next record in *ret (valid until the next call or free): 1, 0 at the end, or
 * -EBADMSG for a corrupt record (tg_journal_reader_position tells where; the next call goes
 * on at the next segment). */
int tg_journal_reader_next(tg_journal_reader *r, const tg_journal_record **ret);
/* The segment file name and byte offset of the record last returned or refused. */
void tg_journal_reader_position(const tg_journal_reader *r, const char **ret_file, uint64_t *ret_offset);
/* The exact bytes of the record last returned (what the MAC covers, and what the central store
 * keeps): valid until the next call or free; -ENODATA when no record was just returned. */
int tg_journal_reader_raw(tg_journal_reader *r, const void **ret, size_t *ret_size);

/* A record held apart from any reader, e.g. the bytes of one row of the central store. */
int tg_journal_record_new(tg_journal_record **ret);
void tg_journal_record_free(tg_journal_record *rec);
/* Decodes buf, which must hold exactly one record (len its size), into rec: 0, or -EBADMSG when
 * it is no valid record or bytes are left over. The same checks as the reader's. */
int tg_journal_record_decode(const void *buf, size_t len, tg_journal_record *rec);

uint64_t tg_journal_record_seq(const tg_journal_record *rec);
const uint8_t *tg_journal_record_host_id(const tg_journal_record *rec); /* TG_JOURNAL_ID_SIZE */
const uint8_t *tg_journal_record_boot_id(const tg_journal_record *rec); /* TG_JOURNAL_ID_SIZE */
int64_t tg_journal_record_time(const tg_journal_record *rec);           /* µs, UTC */
tg_journal_clock tg_journal_record_clock(const tg_journal_record *rec);
const char *tg_journal_record_type(const tg_journal_record *rec);
int tg_journal_record_priority(const tg_journal_record *rec);
uid_t tg_journal_record_uid(const tg_journal_record *rec);
pid_t tg_journal_record_pid(const tg_journal_record *rec);
const char *tg_journal_record_comm(const tg_journal_record *rec); /* "" if none */
const char *tg_journal_record_unit(const tg_journal_record *rec); /* "" if none */
size_t tg_journal_record_n_fields(const tg_journal_record *rec);
/* Field i (0-based) in the order appended. */
void tg_journal_record_field(const tg_journal_record *rec, size_t i, const char **ret_key, const char **ret_value);
/* The value of the first field named key, or NULL. */
const char *tg_journal_record_get(const tg_journal_record *rec, const char *key);
const uint8_t *tg_journal_record_mac(const tg_journal_record *rec);      /* TG_JOURNAL_MAC_SIZE */
const uint8_t *tg_journal_record_prev_mac(const tg_journal_record *rec); /* TG_JOURNAL_MAC_SIZE */

/* Verification. */

typedef enum {
        TG_JOURNAL_PROBLEM_CORRUPT,   /* a record fails its length, checksum or bounds */
        TG_JOURNAL_PROBLEM_MAC,       /* fails its MAC (only with the seed) */
        TG_JOURNAL_PROBLEM_CHAIN,     /* prev_mac is not the MAC of the record before */
        TG_JOURNAL_PROBLEM_GAP,       /* seqs missing (records deleted) */
        TG_JOURNAL_PROBLEM_REORDER,   /* seq not greater than the one before */
        TG_JOURNAL_PROBLEM_TRUNCATED, /* the journal ends before the checkpoint's seq */
        TG_JOURNAL_PROBLEM_ROLLBACK,  /* the record at the checkpoint's seq has another MAC */
        TG_JOURNAL_PROBLEM_HOST,      /* a record of another host id */
        TG_JOURNAL_PROBLEM_SKIPPED,   /* seqs skipped after a crash, as a journal.recovered record
                                         says: a note, the journal is intact */
        TG_JOURNAL_PROBLEM_LOST,      /* durable records lost, as a journal.recovered record says */
} tg_journal_problem_kind;

typedef struct {
        tg_journal_problem_kind kind;
        uint64_t seq;      /* the record where it shows (0: none) */
        uint64_t expected; /* GAP/REORDER/TRUNCATED: the seq expected */
        const char *file;  /* segment file name, or NULL */
        uint64_t offset;   /* byte offset in it */
} tg_journal_problem;

typedef struct {
        const uint8_t *seed;    /* NULL: structure and chain links only */
        const uint8_t *host_id; /* a stream (tg_journal_chain): every record must be this host's;
                                   NULL: not checked. tg_journal_verify checks segment headers. */
        bool have_checkpoint;
        uint64_t checkpoint_seq;
        uint8_t checkpoint_mac[TG_JOURNAL_MAC_SIZE];
        /* A stream (tg_journal_chain) that starts after a known record: the records up to
         * start_seq are gone for a reason the caller vouches for (the central store's prune,
         * an earlier verification), start_mac is the MAC of the record at start_seq. The next
         * record must be start_seq + 1 and carry start_mac as its previous MAC. start_key, if
         * not NULL, is K_start_seq (kept from an earlier verification: as secret as the seed);
         * otherwise the key is evolved from the seed. */
        bool have_start;
        uint64_t start_seq;
        uint8_t start_mac[TG_JOURNAL_MAC_SIZE];
        const uint8_t *start_key;
        /* Called for each problem in journal order; may be NULL. */
        void (*report)(const tg_journal_problem *p, void *userdata);
        void *userdata;
} tg_journal_verify_options;

typedef struct {
        uint64_t records;
        uint64_t first_seq, last_seq;
        uint64_t problems; /* every kind but SKIPPED */
        uint64_t notes;    /* SKIPPED */
        bool macs_checked;
        tg_journal_problem first; /* the first problem (not note), valid if problems > 0 */
        char first_file[64];
} tg_journal_verify_result;

/* Reads the whole journal in dir and checks it. Returns 0 when it could be read (then
 * ret->problems says whether it is intact) or a negative errno (-ENOENT, -EACCES...). */
int tg_journal_verify(const char *dir, const tg_journal_verify_options *opt, tg_journal_verify_result *ret);

/* The same verification over a stream of records that are not in segment files (the central
 * store's rows of one host, in seq order): feed each record's exact bytes, then end. Problems
 * are reported with file NULL and offset 0; CORRUPT for bytes that are no valid record. The
 * seed (if any) is copied by reference: keep it until tg_journal_chain_free. */
typedef struct tg_journal_chain tg_journal_chain;
int tg_journal_chain_new(const tg_journal_verify_options *opt, tg_journal_chain **ret);
void tg_journal_chain_free(tg_journal_chain *c);
/* Returns 1 with the decoded record in *ret_rec (may be NULL; valid until the next feed), 0
 * when the bytes are no valid record (reported), or -EINVAL. */
int tg_journal_chain_feed(tg_journal_chain *c, const void *raw, size_t len, const tg_journal_record **ret_rec);
/* Ends the stream (the oldest records gone without a prune, truncation against the checkpoint)
 * and gives the result. */
void tg_journal_chain_end(tg_journal_chain *c, tg_journal_verify_result *ret);
/* Where the chain stands after the records fed: the newest record's seq and MAC and its key
 * K_seq, from which a later stream can start (tg_journal_verify_options' start). False when
 * that is not known: no seed, no record, or the newest record undecodable. The key is as
 * secret as the seed. */
bool tg_journal_chain_state(const tg_journal_chain *c, uint64_t *ret_seq, uint8_t ret_mac[TG_JOURNAL_MAC_SIZE],
                            uint8_t ret_key[TG_JOURNAL_MAC_SIZE]);

/* The seed file given to auditors (escrow) and read back by verify and by init --seed-in:
 * a small text file, see docs/journal-format.md. Written 0600, exclusively (never over an
 * existing file, never through a symlink). */
int tg_journal_seed_write(const char *path, const uint8_t seed[TG_JOURNAL_SEED_SIZE],
                          const uint8_t host_id[TG_JOURNAL_ID_SIZE]);
int tg_journal_seed_read(const char *path, uint8_t ret_seed[TG_JOURNAL_SEED_SIZE],
                         uint8_t ret_host_id[TG_JOURNAL_ID_SIZE]);
