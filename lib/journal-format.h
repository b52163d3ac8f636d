/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* The journal's on-disk encoding, shared by its writer (journal.c) and its reader
 * (journal-reader.c) inside lib/ only: docs/journal-format.md describes the same bytes. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "termguard/journal.h"

#define SEGMENT_MAGIC "TGJSEG01"
#define SEGMENT_HEADER_SIZE 64
#define SEGMENT_PREFIX "seg-"
#define SEGMENT_SUFFIX ".tgj"
#define SEGMENT_NAME_MAX 32 /* "seg-" 16 hex digits ".tgj" */

#define RECORD_MAGIC UINT32_C(0x524a4754) /* "TGJR" little-endian */
#define RECORD_FIXED_SIZE 70
#define RECORD_TRAILER_SIZE (2 * TG_JOURNAL_MAC_SIZE + 4) /* prev_mac, mac, crc32 */
#define RECORD_MIN_SIZE (RECORD_FIXED_SIZE + 3 * 2 + RECORD_TRAILER_SIZE)

#define STATE_FILE "state"
#define STATE_MAGIC "TGJKEY01"
#define STATE_SIZE 128
#define FORWARDED_FILE "forwarded"

/* Buffered appends reserve seqs in blocks, recorded in the key state before any of them is
 * written: after a crash the next seq starts past the block, so a record a reader may have
 * seen before the crash never shares its seq with a later one. */
#define SEQ_RESERVE_BLOCK 4096

struct tg_journal_record {
        uint64_t seq;
        uint8_t host_id[TG_JOURNAL_ID_SIZE], boot_id[TG_JOURNAL_ID_SIZE];
        int64_t time_usec;
        uint8_t clock, priority;
        uint32_t uid, pid;
        const char *type, *comm, *unit;
        size_t n_fields;
        const char *keys[TG_JOURNAL_FIELDS_MAX], *values[TG_JOURNAL_FIELDS_MAX];
        uint8_t prev_mac[TG_JOURNAL_MAC_SIZE], mac[TG_JOURNAL_MAC_SIZE];
        size_t size;       /* encoded bytes */
        size_t mac_offset; /* the MAC covers the encoded bytes before it, prev_mac included */
        /* the strings, each with its NUL: at most the record's bytes plus the NULs */
        char text[TG_JOURNAL_RECORD_MAX + 3 + 2 * TG_JOURNAL_FIELDS_MAX];
};

typedef struct {
        uint64_t seq;
        const uint8_t *host_id, *boot_id;
        int64_t time_usec;
        tg_journal_clock clock;
        const uint8_t *prev_mac;
} record_header;

/* Checks the entry against the bounds and character sets of journal.h: 0 or -EINVAL. */
int journal_entry_validate(const tg_journal_entry *e);

/* An HMAC-SHA256 handle kept open across records: opening one for each record cost more than
 * the rest of the MAC but the hashing. It holds the key schedule of the key set last, which is
 * as secret as that key: a writer sets each new key as soon as it has it (which overwrites the
 * schedule of the one before) and closes the handle (which wipes it) with the key. */
struct gcry_md_handle;
typedef struct gcry_md_handle *journal_mac;
int journal_mac_open(journal_mac *ret); /* 0 or -ENOMEM */
void journal_mac_setkey(journal_mac m, const uint8_t key[TG_JOURNAL_MAC_SIZE]);
void journal_mac_compute(journal_mac m, const uint8_t *data, size_t len, uint8_t ret[TG_JOURNAL_MAC_SIZE]);
void journal_mac_close(journal_mac m);

/* Encodes e as record h->seq into buf (TG_JOURNAL_RECORD_MAX bytes), MAC by key. Returns the
 * record's size (the MAC in ret_mac) or -EINVAL (entry out of bounds, record too large). */
ssize_t journal_record_encode(const tg_journal_entry *e, const record_header *h, const uint8_t key[TG_JOURNAL_MAC_SIZE],
                              uint8_t *buf, uint8_t ret_mac[TG_JOURNAL_MAC_SIZE]);
/* The same with m, set to the key of h->seq. */
ssize_t journal_record_encode_keyed(const tg_journal_entry *e, const record_header *h, journal_mac m, uint8_t *buf,
                                    uint8_t ret_mac[TG_JOURNAL_MAC_SIZE]);

/* Decodes the record at p (len bytes available). Returns its size, -EAGAIN when len ends
 * before the record does (a torn or growing tail), or -EBADMSG when it is not a valid record. */
ssize_t journal_record_decode(const uint8_t *p, size_t len, tg_journal_record *rec);

/* The MAC of an encoded record under key (of rec->seq). */
void journal_record_mac(const uint8_t *raw, const tg_journal_record *rec, const uint8_t key[TG_JOURNAL_MAC_SIZE],
                        uint8_t ret[TG_JOURNAL_MAC_SIZE]);

/* Segment headers: 64 bytes. */
void journal_segment_header_encode(uint8_t buf[SEGMENT_HEADER_SIZE], const uint8_t host_id[TG_JOURNAL_ID_SIZE],
                                   uint64_t first_seq, int64_t created_usec);
int journal_segment_header_decode(const uint8_t buf[SEGMENT_HEADER_SIZE], uint8_t ret_host_id[TG_JOURNAL_ID_SIZE],
                                  uint64_t *ret_first_seq);
/* The time a checked header says its segment was started (UTC microseconds). */
int64_t journal_segment_header_created(const uint8_t buf[SEGMENT_HEADER_SIZE]);
void journal_segment_name(uint64_t first_seq, char ret[SEGMENT_NAME_MAX]);
/* Whether name is a segment file name; its first seq in ret. */
bool journal_segment_name_parse(const char *name, uint64_t *ret_first_seq);

/* Keys: K_1 from the seed; K_{i+1} from K_i in place (the old key is overwritten). */
void journal_key_first(const uint8_t seed[TG_JOURNAL_SEED_SIZE], uint8_t ret[TG_JOURNAL_MAC_SIZE]);
void journal_key_evolve(uint8_t key[TG_JOURNAL_MAC_SIZE]);

uint32_t journal_crc32(const void *data, size_t len);
void journal_gcrypt_init(void);

/* Reads a segment file in large chunks: records are small, and a read per record would copy
 * TG_JOURNAL_RECORD_MAX bytes each time. */
typedef struct {
        int fd;
        uint64_t buf_off; /* file offset of buf[0] */
        size_t len;
        bool eof;     /* buf holds the end of the file */
        uint8_t *buf; /* JOURNAL_CURSOR_BUF bytes */
} journal_cursor;
#define JOURNAL_CURSOR_BUF (1024 * 1024 + TG_JOURNAL_RECORD_MAX)
int journal_cursor_init(journal_cursor *c, int fd);
void journal_cursor_done(journal_cursor *c);
/* The bytes at off: up to TG_JOURNAL_RECORD_MAX of them, fewer only at the end of the file.
 * Returns their count (0 at the end) or a negative errno. */
ssize_t journal_cursor_at(journal_cursor *c, uint64_t off, const uint8_t **ret);

/* Sorted list of the segment files in dirfd: first seqs ascending. Returns the count or a
 * negative errno; *ret is malloc'ed. */
int journal_list_segments(int dirfd, uint64_t **ret);

static inline void put16(uint8_t *p, uint16_t v) {
        p[0] = (uint8_t) v;
        p[1] = (uint8_t) (v >> 8);
}
static inline void put32(uint8_t *p, uint32_t v) {
        for (int i = 0; i < 4; i++)
                p[i] = (uint8_t) (v >> (8 * i));
}
static inline void put64(uint8_t *p, uint64_t v) {
        for (int i = 0; i < 8; i++)
                p[i] = (uint8_t) (v >> (8 * i));
}
static inline uint16_t get16(const uint8_t *p) {
        return (uint16_t) (p[0] | (p[1] << 8));
}
static inline uint32_t get32(const uint8_t *p) {
        return (uint32_t) p[0] | ((uint32_t) p[1] << 8) | ((uint32_t) p[2] << 16) | ((uint32_t) p[3] << 24);
}
static inline uint64_t get64(const uint8_t *p) {
        return (uint64_t) get32(p) | ((uint64_t) get32(p + 4) << 32);
}
