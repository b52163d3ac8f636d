/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The journal's encoding: records, segment headers, the key chain. Every length is checked
 * against the bytes at hand and against the bounds of journal.h before it is used, so a
 * hostile record can make decoding fail but never read past the buffer.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <gcrypt.h>

#include "journal-format.h"
#include "termguard/macro.h"

static const char key_evolve_constant[] = "termguard journal key evolution v1";
static const char key_first_constant[] = "termguard journal first key v1";

void journal_gcrypt_init(void) {
        if (!gcry_control(GCRYCTL_INITIALIZATION_FINISHED_P)) {
                if (!gcry_check_version(GCRYPT_VERSION))
                        abort();
                /* Keys are wiped by hand (explicit_bzero): libgcrypt's secure memory would need
                 * a fixed pool set up before anything else in the process uses libgcrypt. */
                gcry_control(GCRYCTL_DISABLE_SECMEM, 0);
                gcry_control(GCRYCTL_INITIALIZATION_FINISHED, 0);
        }
}

/* One CRC-32 handle per thread, kept open: libgcrypt's one-shot hash of a few hundred bytes
 * opens, allocates and wipes a handle each time, which cost more than the checksum itself,
 * and every record read or written is checksummed. Closed when its thread ends. */
static pthread_key_t crc_handle_key;
static pthread_once_t crc_handle_once = PTHREAD_ONCE_INIT;
static bool crc_handle_key_ok;

static void crc_handle_free(void *h) {
        gcry_md_close(h);
}

static void crc_handle_key_make(void) {
        crc_handle_key_ok = pthread_key_create(&crc_handle_key, crc_handle_free) == 0;
}

static gcry_md_hd_t crc_handle(void) {
        gcry_md_hd_t h;
        (void) pthread_once(&crc_handle_once, crc_handle_key_make);
        if (!crc_handle_key_ok)
                return NULL;
        h = pthread_getspecific(crc_handle_key);
        if (h) {
                gcry_md_reset(h);
                return h;
        }
        journal_gcrypt_init();
        if (gcry_md_open(&h, GCRY_MD_CRC32, 0) != 0)
                return NULL;
        if (pthread_setspecific(crc_handle_key, h) != 0) {
                gcry_md_close(h);
                return NULL;
        }
        return h;
}

uint32_t journal_crc32(const void *data, size_t len) {
        gcry_md_hd_t h = crc_handle();
        uint8_t out[4];
        if (h) {
                gcry_md_write(h, data, len);
                memcpy(out, gcry_md_read(h, GCRY_MD_CRC32), sizeof(out));
        } else {
                journal_gcrypt_init(); /* no handle to keep (out of memory): the one-shot way */
                gcry_md_hash_buffer(GCRY_MD_CRC32, out, data, len);
        }
        /* libgcrypt gives the CRC most significant byte first */
        return ((uint32_t) out[0] << 24) | ((uint32_t) out[1] << 16) | ((uint32_t) out[2] << 8) | out[3];
}

void journal_key_first(const uint8_t seed[TG_JOURNAL_SEED_SIZE], uint8_t ret[TG_JOURNAL_MAC_SIZE]) {
        uint8_t buf[TG_JOURNAL_SEED_SIZE + sizeof(key_first_constant) - 1];
        journal_gcrypt_init();
        memcpy(buf, seed, TG_JOURNAL_SEED_SIZE);
        memcpy(buf + TG_JOURNAL_SEED_SIZE, key_first_constant, sizeof(key_first_constant) - 1);
        gcry_md_hash_buffer(GCRY_MD_SHA256, ret, buf, sizeof(buf));
        explicit_bzero(buf, sizeof(buf));
}

void journal_key_evolve(uint8_t key[TG_JOURNAL_MAC_SIZE]) {
        uint8_t buf[TG_JOURNAL_MAC_SIZE + sizeof(key_evolve_constant) - 1];
        journal_gcrypt_init();
        memcpy(buf, key, TG_JOURNAL_MAC_SIZE);
        memcpy(buf + TG_JOURNAL_MAC_SIZE, key_evolve_constant, sizeof(key_evolve_constant) - 1);
        gcry_md_hash_buffer(GCRY_MD_SHA256, key, buf, sizeof(buf));
        explicit_bzero(buf, sizeof(buf));
}

int journal_mac_open(journal_mac *ret) {
        gcry_md_hd_t h;
        journal_gcrypt_init();
        if (gcry_md_open(&h, GCRY_MD_SHA256, GCRY_MD_FLAG_HMAC) != 0)
                return -ENOMEM;
        *ret = h;
        return 0;
}

void journal_mac_setkey(journal_mac m, const uint8_t key[TG_JOURNAL_MAC_SIZE]) {
        /* libgcrypt computes the inner and outer pads into the same places for every key of
         * the same length: the previous key's are overwritten */
        if (gcry_md_setkey(m, key, TG_JOURNAL_MAC_SIZE) != 0)
                abort(); /* a 32-byte key for HMAC-SHA256 cannot be refused */
}

void journal_mac_compute(journal_mac m, const uint8_t *data, size_t len, uint8_t ret[TG_JOURNAL_MAC_SIZE]) {
        gcry_md_reset(m); /* back to the key's inner pad */
        gcry_md_write(m, data, len);
        memcpy(ret, gcry_md_read(m, GCRY_MD_SHA256), TG_JOURNAL_MAC_SIZE);
}

void journal_mac_close(journal_mac m) {
        if (m)
                gcry_md_close(m); /* wipes the key schedule */
}

static void hmac(const uint8_t key[TG_JOURNAL_MAC_SIZE], const uint8_t *data, size_t len,
                 uint8_t ret[TG_JOURNAL_MAC_SIZE]) {
        journal_mac m;
        if (journal_mac_open(&m) < 0)
                abort(); /* only out of memory: nothing unauthenticated may be written */
        journal_mac_setkey(m, key);
        journal_mac_compute(m, data, len, ret);
        journal_mac_close(m);
}

void journal_record_mac(const uint8_t *raw, const tg_journal_record *rec, const uint8_t key[TG_JOURNAL_MAC_SIZE],
                        uint8_t ret[TG_JOURNAL_MAC_SIZE]) {
        hmac(key, raw, rec->mac_offset, ret);
}

static bool valid_name(const char *s, size_t max, bool is_type) {
        size_t n = 0;
        if (!s || !*s)
                return false;
        for (; s[n]; n++) {
                char c = s[n];
                bool ok =
                        is_type ? ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '_')
                                : ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                                   c == '_');
                if (!ok || n >= max)
                        return false;
        }
        return true;
}

static bool valid_bytes(const char *s, size_t max) {
        return !s || strnlen(s, max + 1) <= max;
}

int journal_entry_validate(const tg_journal_entry *e) {
        if (!e || !valid_name(e->type, TG_JOURNAL_TYPE_MAX, true))
                return -EINVAL;
        if (e->priority < 0 || e->priority > 7 || (unsigned) e->clock > TG_JOURNAL_CLOCK_UNSYNCED)
                return -EINVAL;
        if (!valid_bytes(e->comm, TG_JOURNAL_COMM_MAX) || !valid_bytes(e->unit, TG_JOURNAL_COMM_MAX))
                return -EINVAL;
        if (e->n_fields > TG_JOURNAL_FIELDS_MAX || (e->n_fields > 0 && !e->fields))
                return -EINVAL;
        if (e->time_usec < 0)
                return -EINVAL;
        for (size_t i = 0; i < e->n_fields; i++) {
                if (!valid_name(e->fields[i].key, TG_JOURNAL_KEY_MAX, false) || !e->fields[i].value ||
                    !valid_bytes(e->fields[i].value, TG_JOURNAL_VALUE_MAX))
                        return -EINVAL;
        }
        return 0;
}

static uint8_t *put_string(uint8_t *p, const char *s) {
        size_t n = s ? strlen(s) : 0;
        put16(p, (uint16_t) n);
        if (n)
                memcpy(p + 2, s, n);
        return p + 2 + n;
}

ssize_t journal_record_encode_keyed(const tg_journal_entry *e, const record_header *h, journal_mac m, uint8_t *buf,
                                    uint8_t ret_mac[TG_JOURNAL_MAC_SIZE]) {
        size_t size;
        uint8_t *p;

        if (journal_entry_validate(e) < 0)
                return -EINVAL;
        size = RECORD_FIXED_SIZE + 6 + strlen(e->type) + (e->comm ? strlen(e->comm) : 0) +
               (e->unit ? strlen(e->unit) : 0) + RECORD_TRAILER_SIZE;
        for (size_t i = 0; i < e->n_fields; i++)
                size += 4 + strlen(e->fields[i].key) + strlen(e->fields[i].value);
        if (size > TG_JOURNAL_RECORD_MAX)
                return -EINVAL;

        put32(buf, RECORD_MAGIC);
        put32(buf + 4, (uint32_t) size);
        put16(buf + 8, TG_JOURNAL_SCHEMA);
        buf[10] = (uint8_t) h->clock;
        buf[11] = (uint8_t) e->priority;
        put64(buf + 12, h->seq);
        memcpy(buf + 20, h->host_id, TG_JOURNAL_ID_SIZE);
        memcpy(buf + 36, h->boot_id, TG_JOURNAL_ID_SIZE);
        put64(buf + 52, (uint64_t) h->time_usec);
        put32(buf + 60, (uint32_t) e->uid);
        put32(buf + 64, (uint32_t) e->pid);
        put16(buf + 68, (uint16_t) e->n_fields);
        p = put_string(buf + RECORD_FIXED_SIZE, e->type);
        p = put_string(p, e->comm);
        p = put_string(p, e->unit);
        for (size_t i = 0; i < e->n_fields; i++) {
                p = put_string(p, e->fields[i].key);
                p = put_string(p, e->fields[i].value);
        }
        memcpy(p, h->prev_mac, TG_JOURNAL_MAC_SIZE);
        p += TG_JOURNAL_MAC_SIZE;
        journal_mac_compute(m, buf, (size_t) (p - buf), ret_mac);
        memcpy(p, ret_mac, TG_JOURNAL_MAC_SIZE);
        p += TG_JOURNAL_MAC_SIZE;
        put32(p, journal_crc32(buf, (size_t) (p - buf)));
        return (ssize_t) size;
}

ssize_t journal_record_encode(const tg_journal_entry *e, const record_header *h, const uint8_t key[TG_JOURNAL_MAC_SIZE],
                              uint8_t *buf, uint8_t ret_mac[TG_JOURNAL_MAC_SIZE]) {
        journal_mac m;
        ssize_t size;
        if (journal_mac_open(&m) < 0)
                return -ENOMEM;
        journal_mac_setkey(m, key);
        size = journal_record_encode_keyed(e, h, m, buf, ret_mac);
        journal_mac_close(m);
        return size;
}

/* Takes a string of at most max bytes without NUL from the record into rec->text. */
static int take_string(const uint8_t *raw, size_t *pos, size_t end, size_t max, tg_journal_record *rec,
                       size_t *text_pos, const char **ret) {
        size_t n;
        if (end - *pos < 2)
                return -EBADMSG;
        n = get16(raw + *pos);
        *pos += 2;
        if (n > max || end - *pos < n || memchr(raw + *pos, 0, n))
                return -EBADMSG;
        memcpy(rec->text + *text_pos, raw + *pos, n);
        rec->text[*text_pos + n] = 0;
        *ret = rec->text + *text_pos;
        *text_pos += n + 1;
        *pos += n;
        return 0;
}

ssize_t journal_record_decode(const uint8_t *p, size_t len, tg_journal_record *rec) {
        size_t size, pos = RECORD_FIXED_SIZE, text_pos = 0, end;

        if (len < 8)
                return len >= 4 && get32(p) != RECORD_MAGIC ? -EBADMSG : -EAGAIN;
        if (get32(p) != RECORD_MAGIC)
                return -EBADMSG;
        size = get32(p + 4);
        if (size < RECORD_MIN_SIZE || size > TG_JOURNAL_RECORD_MAX)
                return -EBADMSG;
        if (len < size)
                return -EAGAIN;
        if (journal_crc32(p, size - 4) != get32(p + size - 4))
                return -EBADMSG;
        if (get16(p + 8) != TG_JOURNAL_SCHEMA || p[10] > TG_JOURNAL_CLOCK_UNSYNCED || p[11] > 7)
                return -EBADMSG;
        rec->clock = p[10];
        rec->priority = p[11];
        rec->seq = get64(p + 12);
        memcpy(rec->host_id, p + 20, TG_JOURNAL_ID_SIZE);
        memcpy(rec->boot_id, p + 36, TG_JOURNAL_ID_SIZE);
        rec->time_usec = (int64_t) get64(p + 52);
        rec->uid = get32(p + 60);
        rec->pid = get32(p + 64);
        rec->n_fields = get16(p + 68);
        if (rec->n_fields > TG_JOURNAL_FIELDS_MAX || rec->seq == 0 || rec->time_usec < 0)
                return -EBADMSG;
        end = size - RECORD_TRAILER_SIZE;
        if (take_string(p, &pos, end, TG_JOURNAL_TYPE_MAX, rec, &text_pos, &rec->type) < 0 ||
            !valid_name(rec->type, TG_JOURNAL_TYPE_MAX, true))
                return -EBADMSG;
        if (take_string(p, &pos, end, TG_JOURNAL_COMM_MAX, rec, &text_pos, &rec->comm) < 0 ||
            take_string(p, &pos, end, TG_JOURNAL_COMM_MAX, rec, &text_pos, &rec->unit) < 0)
                return -EBADMSG;
        for (size_t i = 0; i < rec->n_fields; i++) {
                if (take_string(p, &pos, end, TG_JOURNAL_KEY_MAX, rec, &text_pos, &rec->keys[i]) < 0 ||
                    !valid_name(rec->keys[i], TG_JOURNAL_KEY_MAX, false) ||
                    take_string(p, &pos, end, TG_JOURNAL_VALUE_MAX, rec, &text_pos, &rec->values[i]) < 0)
                        return -EBADMSG;
        }
        if (pos != end)
                return -EBADMSG;
        memcpy(rec->prev_mac, p + end, TG_JOURNAL_MAC_SIZE);
        memcpy(rec->mac, p + end + TG_JOURNAL_MAC_SIZE, TG_JOURNAL_MAC_SIZE);
        rec->mac_offset = end + TG_JOURNAL_MAC_SIZE;
        rec->size = size;
        return (ssize_t) size;
}

void journal_segment_header_encode(uint8_t buf[SEGMENT_HEADER_SIZE], const uint8_t host_id[TG_JOURNAL_ID_SIZE],
                                   uint64_t first_seq, int64_t created_usec) {
        memset(buf, 0, SEGMENT_HEADER_SIZE);
        memcpy(buf, SEGMENT_MAGIC, 8);
        put16(buf + 8, TG_JOURNAL_SCHEMA);
        put16(buf + 10, SEGMENT_HEADER_SIZE);
        memcpy(buf + 16, host_id, TG_JOURNAL_ID_SIZE);
        put64(buf + 32, first_seq);
        put64(buf + 40, (uint64_t) created_usec);
        put32(buf + 60, journal_crc32(buf, 60));
}

int journal_segment_header_decode(const uint8_t buf[SEGMENT_HEADER_SIZE], uint8_t ret_host_id[TG_JOURNAL_ID_SIZE],
                                  uint64_t *ret_first_seq) {
        if (memcmp(buf, SEGMENT_MAGIC, 8) != 0 || get16(buf + 8) != TG_JOURNAL_SCHEMA ||
            get16(buf + 10) != SEGMENT_HEADER_SIZE || journal_crc32(buf, 60) != get32(buf + 60) || get64(buf + 32) == 0)
                return -EBADMSG;
        memcpy(ret_host_id, buf + 16, TG_JOURNAL_ID_SIZE);
        *ret_first_seq = get64(buf + 32);
        return 0;
}

int64_t journal_segment_header_created(const uint8_t buf[SEGMENT_HEADER_SIZE]) {
        return (int64_t) get64(buf + 40);
}

void journal_segment_name(uint64_t first_seq, char ret[SEGMENT_NAME_MAX]) {
        snprintf(ret, SEGMENT_NAME_MAX, SEGMENT_PREFIX "%016" PRIx64 SEGMENT_SUFFIX, first_seq);
}

bool journal_segment_name_parse(const char *name, uint64_t *ret_first_seq) {
        uint64_t v = 0;
        if (strlen(name) != STRLEN(SEGMENT_PREFIX) + 16 + STRLEN(SEGMENT_SUFFIX) ||
            strncmp(name, SEGMENT_PREFIX, STRLEN(SEGMENT_PREFIX)) != 0 ||
            strcmp(name + STRLEN(SEGMENT_PREFIX) + 16, SEGMENT_SUFFIX) != 0)
                return false;
        for (size_t i = 0; i < 16; i++) {
                char c = name[STRLEN(SEGMENT_PREFIX) + i];
                int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
                if (d < 0)
                        return false;
                v = v << 4 | (uint64_t) d;
        }
        if (v == 0)
                return false;
        *ret_first_seq = v;
        return true;
}

static int cmp_u64(const void *a, const void *b) {
        uint64_t x = *(const uint64_t *) a, y = *(const uint64_t *) b;
        return x < y ? -1 : x > y;
}

/* More segments than this is not a journal termguard wrote (the cap allows 64 at the default
 * segment size): refuse rather than allocate without bound. */
#define SEGMENTS_MAX 100000

int journal_list_segments(int dirfd, uint64_t **ret) {
        _cleanup_free_ uint64_t *list = NULL;
        size_t n = 0, alloc = 0;
        int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        DIR *d;
        struct dirent *de;

        if (fd < 0)
                return -errno;
        d = fdopendir(fd);
        if (!d) {
                close(fd);
                return -errno;
        }
        while ((de = readdir(d))) {
                uint64_t first;
                if (!journal_segment_name_parse(de->d_name, &first))
                        continue;
                if (n == alloc) {
                        uint64_t *p;
                        if (alloc >= SEGMENTS_MAX) {
                                closedir(d);
                                return -E2BIG;
                        }
                        alloc = alloc ? alloc * 2 : 16;
                        p = realloc(list, alloc * sizeof(*p));
                        if (!p) {
                                closedir(d);
                                return -ENOMEM;
                        }
                        list = p;
                }
                list[n++] = first;
        }
        closedir(d);
        if (n > 1)
                qsort(list, n, sizeof(*list), cmp_u64);
        *ret = TAKE_PTR(list);
        return (int) n;
}

int journal_cursor_init(journal_cursor *c, int fd) {
        *c = (journal_cursor){.fd = fd};
        c->buf = malloc(JOURNAL_CURSOR_BUF);
        return c->buf ? 0 : -ENOMEM;
}

void journal_cursor_done(journal_cursor *c) {
        free(c->buf);
        c->buf = NULL;
}

ssize_t journal_cursor_at(journal_cursor *c, uint64_t off, const uint8_t **ret) {
        if (off < c->buf_off || off > c->buf_off + c->len ||
            (!c->eof && off + TG_JOURNAL_RECORD_MAX > c->buf_off + c->len)) {
                size_t done = 0;
                /* refill from off; a short read is the end of the file (or what of it exists) */
                while (done < JOURNAL_CURSOR_BUF) {
                        ssize_t k = pread(c->fd, c->buf + done, JOURNAL_CURSOR_BUF - done, (off_t) (off + done));
                        if (k < 0 && errno == EINTR)
                                continue;
                        if (k < 0)
                                return -errno;
                        if (k == 0)
                                break;
                        done += (size_t) k;
                }
                c->buf_off = off;
                c->len = done;
                c->eof = done < JOURNAL_CURSOR_BUF;
        }
        *ret = c->buf + (off - c->buf_off);
        size_t avail = (size_t) (c->buf_off + c->len - off);
        return (ssize_t) (avail < TG_JOURNAL_RECORD_MAX ? avail : TG_JOURNAL_RECORD_MAX);
}
