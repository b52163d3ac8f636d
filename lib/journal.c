/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The journal's writer: segment files, the key state, recovery after a crash, the cap and its
 * reserve, forwarding marks and retention. The encoding is journal-format.c's.
 *
 * Order of writes, which recovery relies on: a record is written to its segment, then (when
 * it is to be durable) the segment is fdatasync'ed, then the key state is overwritten with the
 * next key, the next seq and the chain head, and fdatasync'ed. So the key state never runs
 * ahead of durable records, and records past it are checked with the key it still holds.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/timex.h>
#include <time.h>
#include <unistd.h>

#include "journal-format.h"
#include "termguard/fileio.h"
#include "termguard/hex.h"
#include "termguard/macro.h"

#define BOOT_ID_PATH "/proc/sys/kernel/random/boot_id"
#define WRITE_BUF_SIZE (64 * 1024)
/* How old the clock state a record is stamped with may be. adjtimex(2) is a system call that
 * also stirs the entropy pool, and cost more than the rest of a buffered append together; the
 * state it reports changes when an NTP client decides, seconds apart at best. */
#define CLOCK_STATE_MAX_AGE_USEC (100 * 1000)

struct tg_journal {
        pthread_mutex_t lock;
        int dirfd, statefd, segfd;
        uint64_t seg_first, seg_size; /* the segment being written */
        uint8_t seg_host[TG_JOURNAL_ID_SIZE];
        uint64_t next_seq;
        uint64_t reserved_seq;            /* seqs below it may have been handed out: on disk in the state */
        bool dirty;                       /* records written since the last sync */
        uint8_t key[TG_JOURNAL_MAC_SIZE]; /* K_next_seq */
        journal_mac mac;                  /* set to key, whenever key changes (key_changed) */
        uint8_t head_mac[TG_JOURNAL_MAC_SIZE];
        uint8_t host_id[TG_JOURNAL_ID_SIZE], boot_id[TG_JOURNAL_ID_SIZE];
        uint64_t used, max, reserve, segment_bytes;
        uint64_t forwarded;
        bool shared; /* segments readable by the reader group (gid) */
        gid_t gid;
        int failed;       /* a buffered write failed: the chain went past records not on disk */
        bool clock_known; /* clock holds what adjtimex said at clock_read */
        tg_journal_clock clock;
        int64_t clock_read; /* CLOCK_REALTIME, µs */
        size_t wlen;
        uint8_t buf[TG_JOURNAL_RECORD_MAX];
        /* Buffered records wait here, not in a write() each: they are not acknowledged until
         * a sync anyway, and a system call per record would cost more than the record. */
        uint8_t wbuf[WRITE_BUF_SIZE];
};

tg_journal_clock tg_journal_clock_state(void) {
        struct timex tx = {0};
        int r = adjtimex(&tx);
        /* TIME_ERROR (with STA_UNSYNC) is what the kernel reports until an NTP client
         * (chrony, systemd-timesyncd) disciplines the clock; timedatectl's "System clock
         * synchronized" reads the same. */
        if (r < 0)
                return TG_JOURNAL_CLOCK_UNKNOWN;
        if (r == TIME_ERROR || (tx.status & STA_UNSYNC))
                return TG_JOURNAL_CLOCK_UNSYNCED;
        return TG_JOURNAL_CLOCK_SYNCED;
}

const char *tg_journal_clock_to_string(tg_journal_clock c) {
        static const char *const names[] = {"unknown", "synced", "unsynced"};
        return (unsigned) c < ELEMENTSOF(names) ? names[c] : "unknown";
}

static int64_t now_usec(void) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        return (int64_t) ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* The clock state for a record stamped at now (CLOCK_REALTIME): read again once
 * CLOCK_STATE_MAX_AGE_USEC old. The record's own time measures the age, so a suspend (which
 * the monotonic clock would not count) or a clock set either way reads it again. */
static tg_journal_clock journal_clock(tg_journal *j, int64_t now) {
        if (!j->clock_known || now < j->clock_read || now - j->clock_read >= CLOCK_STATE_MAX_AGE_USEC) {
                j->clock = tg_journal_clock_state();
                j->clock_read = now;
                j->clock_known = true;
        }
        return j->clock;
}

static int parse_uuid(const char *s, size_t len, uint8_t ret[TG_JOURNAL_ID_SIZE]) {
        char hex[2 * TG_JOURNAL_ID_SIZE + 1];
        size_t n = 0, got;
        for (size_t i = 0; i < len && s[i] != '\n'; i++) {
                if (s[i] == '-')
                        continue;
                if (n >= sizeof(hex) - 1)
                        return -EBADMSG;
                hex[n++] = s[i];
        }
        hex[n] = 0;
        if (n != 2 * TG_JOURNAL_ID_SIZE || tg_hex_decode(hex, ret, TG_JOURNAL_ID_SIZE, &got) < 0)
                return -EBADMSG;
        return 0;
}

static int read_id(const char *path, uint8_t ret[TG_JOURNAL_ID_SIZE]) {
        char buf[64];
        ssize_t n = tg_read_file(path, buf, sizeof(buf) - 1);
        if (n < 0)
                return (int) n;
        return parse_uuid(buf, (size_t) n, ret);
}

static void format_uuid(const uint8_t id[TG_JOURNAL_ID_SIZE], char ret[38]) {
        char hex[2 * TG_JOURNAL_ID_SIZE + 1];
        (void) tg_hex_encode(id, TG_JOURNAL_ID_SIZE, hex, sizeof(hex));
        snprintf(ret, 38, "%.8s-%.4s-%.4s-%.4s-%.12s\n", hex, hex + 8, hex + 12, hex + 16, hex + 20);
}

int tg_journal_set_host_id(const char *path, const uint8_t id[TG_JOURNAL_ID_SIZE]) {
        char text[38];
        assert_return(id, -EINVAL);
        format_uuid(id, text);
        return tg_write_file_atomic(AT_FDCWD, path ? path : TG_JOURNAL_HOST_ID_FILE, text, strlen(text), geteuid(),
                                    getegid(), 0644);
}

int tg_journal_host_id(const char *path, uint8_t ret[TG_JOURNAL_ID_SIZE]) {
        uint8_t id[TG_JOURNAL_ID_SIZE] = {0};
        int r;

        path = path ? path : TG_JOURNAL_HOST_ID_FILE;
        r = read_id(path, id);
        if (r == -ENOENT) {
                if (getrandom(id, sizeof(id), 0) != (ssize_t) sizeof(id))
                        return -EIO;
                id[6] = (uint8_t) ((id[6] & 0x0f) | 0x40); /* a version 4 UUID */
                id[8] = (uint8_t) ((id[8] & 0x3f) | 0x80);
                r = tg_journal_set_host_id(path, id);
        }
        if (r < 0)
                return r;
        memcpy(ret, id, sizeof(id));
        return 0;
}

/* The directory and files are the caller's alone: nobody else may change a record or swap a
 * file in, nor read the key. With a reader group (tg_journal_options.reader_gid) the directory
 * and the segments are also readable by that group, and by nobody else: the forwarder and the
 * auditors read records, never the key state. Exactly these modes are accepted, the private
 * ones too (a journal made before the group was configured); anything looser refuses. */
#define DIR_MODE_PRIVATE 0700
/* set-group-ID: segments made in it get the group without a chown, which the confined daemon
 * could not do (root is no member of the group, and it keeps no CAP_CHOWN) */
#define DIR_MODE_SHARED 02750
#define SEGMENT_MODE_PRIVATE 0600
#define SEGMENT_MODE_SHARED 0640
#define SECRET_MODE 0600

typedef enum {
        FILE_SEGMENT, /* records: group-readable with a reader group */
        FILE_SECRET,  /* the key state and the forwarded mark: the owner's only */
} file_kind;

static bool mode_acceptable(const tg_journal *j, const struct stat *st, mode_t private_mode, mode_t shared_mode) {
        mode_t mode = st->st_mode & 07777;
        if (st->st_uid != geteuid())
                return false;
        if (mode == private_mode)
                return true;
        return j->shared && mode == shared_mode && st->st_gid == j->gid;
}

/* Brings an accepted directory or segment to the mode the configuration asks for: group
 * readable, or private again when the group was taken out of the configuration. */
static int mode_apply(const tg_journal *j, int fd, const struct stat *st, mode_t private_mode, mode_t shared_mode) {
        mode_t want = j->shared ? shared_mode : private_mode;
        if (j->shared && st->st_gid != j->gid && fchown(fd, (uid_t) -1, j->gid) < 0)
                return -errno;
        if ((st->st_mode & 07777) != want && fchmod(fd, want) < 0)
                return -errno;
        return 0;
}

static int check_dir(const tg_journal *j, int fd) {
        struct stat st;
        if (fstat(fd, &st) < 0)
                return -errno;
        if (!S_ISDIR(st.st_mode) || !mode_acceptable(j, &st, DIR_MODE_PRIVATE, DIR_MODE_SHARED))
                return -EPERM;
        return mode_apply(j, fd, &st, DIR_MODE_PRIVATE, DIR_MODE_SHARED);
}

static int check_file(const tg_journal *j, int fd, file_kind kind) {
        struct stat st;
        if (fstat(fd, &st) < 0)
                return -errno;
        if (!S_ISREG(st.st_mode))
                return -EPERM;
        if (kind == FILE_SECRET)
                return st.st_uid == geteuid() && (st.st_mode & 07777) == SECRET_MODE ? 0 : -EPERM;
        if (!mode_acceptable(j, &st, SEGMENT_MODE_PRIVATE, SEGMENT_MODE_SHARED))
                return -EPERM;
        return mode_apply(j, fd, &st, SEGMENT_MODE_PRIVATE, SEGMENT_MODE_SHARED);
}

static int open_file(const tg_journal *j, const char *name, int flags, file_kind kind) {
        int fd = openat(j->dirfd, name, flags | O_CLOEXEC | O_NOFOLLOW, 0600);
        int r;
        if (fd < 0)
                return -errno;
        /* created private first: the group gets it once it is ours and checked */
        if ((flags & O_CREAT) && fchmod(fd, 0600) < 0) {
                r = -errno;
                close(fd);
                return r;
        }
        r = check_file(j, fd, kind);
        if (r < 0) {
                close(fd);
                return r;
        }
        return fd;
}

static int pwrite_full(int fd, const void *data, size_t len, uint64_t off) {
        size_t done = 0;
        while (done < len) {
                ssize_t k = pwrite(fd, (const char *) data + done, len - done, (off_t) (off + done));
                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0)
                        return -errno;
                if (k == 0)
                        return -EIO;
                done += (size_t) k;
        }
        return 0;
}

static ssize_t pread_full(int fd, void *buf, size_t len, uint64_t off) {
        size_t done = 0;
        while (done < len) {
                ssize_t k = pread(fd, (char *) buf + done, len - done, (off_t) (off + done));
                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0)
                        return -errno;
                if (k == 0)
                        break;
                done += (size_t) k;
        }
        return (ssize_t) done;
}

/* After every change of j->key: the MAC handle takes the new key's schedule in place of the old
 * key's, so no more of an old key stays in memory than before the handle was kept open. */
static void key_changed(tg_journal *j) {
        journal_mac_setkey(j->mac, j->key);
}

static void key_evolve(tg_journal *j) {
        journal_key_evolve(j->key);
        key_changed(j);
}

/* The key state: one block written in place, so the previous key is overwritten on disk
 * rather than left in a freed block as a rename would leave it. 128 bytes lie in one sector,
 * which the disk writes whole or not at all; the checksum catches anything else. */
static void state_encode(const tg_journal *j, uint64_t next, uint64_t reserved, uint8_t buf[STATE_SIZE]) {
        memset(buf, 0, STATE_SIZE);
        memcpy(buf, STATE_MAGIC, 8);
        put16(buf + 8, TG_JOURNAL_SCHEMA);
        put16(buf + 10, STATE_SIZE);
        put64(buf + 16, next);
        put64(buf + 24, reserved);
        memcpy(buf + 32, j->key, TG_JOURNAL_MAC_SIZE);
        memcpy(buf + 64, j->head_mac, TG_JOURNAL_MAC_SIZE);
        memcpy(buf + 96, j->host_id, TG_JOURNAL_ID_SIZE);
        put32(buf + 124, journal_crc32(buf, 124));
}

static int state_write(tg_journal *j, uint64_t reserved) {
        uint8_t buf[STATE_SIZE];
        int r;
        state_encode(j, j->next_seq, reserved, buf);
        r = pwrite_full(j->statefd, buf, sizeof(buf), 0);
        explicit_bzero(buf, sizeof(buf));
        if (r < 0)
                return r;
        if (fdatasync(j->statefd) < 0)
                return -errno;
        j->reserved_seq = reserved;
        return 0;
}

static int state_read(tg_journal *j, uint64_t *ret_next, uint64_t *ret_reserved) {
        uint8_t buf[STATE_SIZE];
        ssize_t n = pread_full(j->statefd, buf, sizeof(buf), 0);
        int r = 0;
        if (n < 0)
                return (int) n;
        if (n != STATE_SIZE || memcmp(buf, STATE_MAGIC, 8) != 0 || get16(buf + 8) != TG_JOURNAL_SCHEMA ||
            get16(buf + 10) != STATE_SIZE || journal_crc32(buf, 124) != get32(buf + 124) || get64(buf + 16) == 0 ||
            get64(buf + 24) < get64(buf + 16))
                r = -EBADMSG;
        if (r == 0) {
                *ret_next = get64(buf + 16);
                *ret_reserved = get64(buf + 24);
                memcpy(j->key, buf + 32, TG_JOURNAL_MAC_SIZE);
                key_changed(j);
                memcpy(j->head_mac, buf + 64, TG_JOURNAL_MAC_SIZE);
        }
        explicit_bzero(buf, sizeof(buf));
        return r;
}

static void journal_free(tg_journal *j) {
        if (!j)
                return;
        if (j->segfd >= 0)
                close(j->segfd);
        if (j->statefd >= 0)
                close(j->statefd);
        if (j->dirfd >= 0)
                close(j->dirfd); /* drops the lock */
        journal_mac_close(j->mac);
        pthread_mutex_destroy(&j->lock);
        explicit_bzero(j, sizeof(*j));
        free(j);
}
DEFINE_TRIVIAL_CLEANUP_FUNC(tg_journal *, journal_free);

static int journal_new(const char *dir, const tg_journal_options *opt, bool create, tg_journal **ret) {
        _cleanup_(journal_freep) tg_journal *j = calloc(1, sizeof(*j));
        int r;

        if (!j)
                return -ENOMEM;
        pthread_mutex_init(&j->lock, NULL);
        j->dirfd = j->statefd = j->segfd = -EBADF;
        j->max = opt && opt->max_bytes ? opt->max_bytes : TG_JOURNAL_DEFAULT_MAX;
        j->reserve = opt && opt->reserve_bytes ? opt->reserve_bytes : TG_JOURNAL_DEFAULT_RESERVE;
        j->segment_bytes = opt && opt->segment_bytes ? opt->segment_bytes : TG_JOURNAL_DEFAULT_SEGMENT;
        j->shared = opt && opt->reader_group;
        j->gid = j->shared ? opt->reader_gid : (gid_t) -1;
        if (j->reserve >= j->max || j->segment_bytes < SEGMENT_HEADER_SIZE + TG_JOURNAL_RECORD_MAX)
                return -EINVAL;
        r = journal_mac_open(&j->mac);
        if (r < 0)
                return r;
        if (create && mkdir(dir, 0700) < 0 && errno != EEXIST)
                return -errno;
        j->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (j->dirfd < 0)
                return errno == ELOOP || errno == ENOTDIR ? -EPERM : -errno;
        if (create && fchmod(j->dirfd, DIR_MODE_PRIVATE) < 0)
                return -errno;
        r = check_dir(j, j->dirfd);
        if (r < 0)
                return r;
        if (flock(j->dirfd, LOCK_EX | LOCK_NB) < 0)
                return errno == EWOULDBLOCK ? -EBUSY : -errno;
        r = tg_journal_host_id(opt ? opt->host_id_path : NULL, j->host_id);
        if (r < 0)
                return r;
        r = read_id(opt && opt->boot_id_path ? opt->boot_id_path : BOOT_ID_PATH, j->boot_id);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(j);
        return 0;
}

static int segment_create(tg_journal *j, uint64_t first) {
        char name[SEGMENT_NAME_MAX];
        uint8_t hdr[SEGMENT_HEADER_SIZE];
        int fd, r;

        journal_segment_name(first, name);
        fd = open_file(j, name, O_RDWR | O_CREAT | O_EXCL, FILE_SEGMENT);
        if (fd < 0)
                return fd;
        journal_segment_header_encode(hdr, j->host_id, first, now_usec());
        r = pwrite_full(fd, hdr, sizeof(hdr), 0);
        if (r == 0 && fdatasync(fd) < 0)
                r = -errno;
        if (r == 0 && fsync(j->dirfd) < 0)
                r = -errno;
        if (r < 0) {
                close(fd);
                (void) unlinkat(j->dirfd, name, 0);
                return r;
        }
        if (j->segfd >= 0)
                close(j->segfd);
        j->segfd = fd;
        j->seg_first = first;
        j->seg_size = SEGMENT_HEADER_SIZE;
        memcpy(j->seg_host, j->host_id, TG_JOURNAL_ID_SIZE);
        j->used += SEGMENT_HEADER_SIZE;
        return 0;
}

/* Writes the buffered records to the segment and, when durable, makes the segment durable.
 * A failure leaves the journal refusing every further record: the key and the chain have
 * gone past records that are not on disk, and only reopening (recovery) can say what is. */
static int segment_flush(tg_journal *j, bool durable) {
        int r;
        if (j->failed)
                return j->failed;
        if (j->wlen > 0) {
                r = pwrite_full(j->segfd, j->wbuf, j->wlen, j->seg_size - j->wlen);
                if (r < 0) {
                        /* what did reach the file must not be followed by later records */
                        if (ftruncate(j->segfd, (off_t) (j->seg_size - j->wlen)) < 0)
                                r = -errno;
                        j->failed = r;
                        return r;
                }
                j->wlen = 0;
        }
        if (durable && j->dirty) {
                if (fdatasync(j->segfd) < 0) {
                        j->failed = -errno;
                        return j->failed;
                }
                j->dirty = false;
        }
        return 0;
}

/* Writes one record at next_seq; the caller holds the lock and syncs. */
static int append_locked(tg_journal *j, const tg_journal_entry *e, unsigned flags, uint64_t *ret_seq) {
        uint8_t mac[TG_JOURNAL_MAC_SIZE];
        record_header h = {
                .seq = j->next_seq,
                .host_id = j->host_id,
                .boot_id = j->boot_id,
                .time_usec = e->time_usec ? e->time_usec : now_usec(),
                .clock = e->clock,
                .prev_mac = j->head_mac,
        };
        uint64_t limit = j->max - ((flags & TG_JOURNAL_RESERVE) ? 0 : j->reserve);
        bool rotate;
        ssize_t size;
        int r;

        if (j->failed)
                return j->failed;
        if (!e->time_usec)
                h.clock = journal_clock(j, h.time_usec);
        size = journal_record_encode_keyed(e, &h, j->mac, j->buf, mac);
        if (size < 0)
                return (int) size;
        rotate = j->seg_size + (uint64_t) size > j->segment_bytes ||
                 memcmp(j->seg_host, j->host_id, TG_JOURNAL_ID_SIZE) != 0;
        if (j->used + (uint64_t) size + (rotate ? SEGMENT_HEADER_SIZE : 0) > limit)
                return -ENOSPC;
        /* A buffered record needs its seq reserved on disk first (see SEQ_RESERVE_BLOCK). */
        if (!(flags & TG_JOURNAL_SYNC) && j->next_seq >= j->reserved_seq) {
                r = segment_flush(j, true);
                if (r < 0)
                        return r;
                r = state_write(j, j->next_seq + SEQ_RESERVE_BLOCK);
                if (r < 0)
                        return r;
        }
        if (rotate) {
                /* The full segment's records are durable and the key state is at the new
                 * segment's first seq before it exists: recovery checks records past the key
                 * state in the last segment only. */
                r = segment_flush(j, true);
                if (r < 0)
                        return r;
                r = state_write(j, j->reserved_seq > j->next_seq ? j->reserved_seq : j->next_seq);
                if (r < 0)
                        return r;
                r = segment_create(j, j->next_seq);
                if (r < 0)
                        return r;
        }
        if ((flags & TG_JOURNAL_SYNC) || j->wlen + (size_t) size > WRITE_BUF_SIZE) {
                r = segment_flush(j, false);
                if (r < 0)
                        return r;
        }
        if ((flags & TG_JOURNAL_SYNC) || (size_t) size > WRITE_BUF_SIZE) {
                r = pwrite_full(j->segfd, j->buf, (size_t) size, j->seg_size);
                if (r < 0) {
                        /* Nothing of a failed record may stay for the next one to follow; if
                         * it cannot be cut off, nothing may follow it at all. */
                        if (ftruncate(j->segfd, (off_t) j->seg_size) < 0)
                                j->failed = -errno;
                        return r;
                }
        } else {
                memcpy(j->wbuf + j->wlen, j->buf, (size_t) size);
                j->wlen += (size_t) size;
        }
        j->seg_size += (uint64_t) size;
        j->used += (uint64_t) size;
        memcpy(j->head_mac, mac, sizeof(mac));
        key_evolve(j);
        *ret_seq = j->next_seq++;
        j->dirty = true;
        return 0;
}

static int sync_locked(tg_journal *j) {
        int r = segment_flush(j, true);
        if (r < 0)
                return r;
        /* Everything handed out is durable: the reservation is released, so a crash from here
         * on skips no seq. */
        r = state_write(j, j->next_seq);
        return r;
}

int tg_journal_append(tg_journal *j, const tg_journal_entry *e, unsigned flags, uint64_t *ret_seq) {
        uint64_t seq = 0;
        int r;

        assert_return(j && e, -EINVAL);
        pthread_mutex_lock(&j->lock);
        r = append_locked(j, e, flags, &seq);
        if (r == 0 && (flags & TG_JOURNAL_SYNC))
                r = sync_locked(j);
        pthread_mutex_unlock(&j->lock);
        if (r == 0 && ret_seq)
                *ret_seq = seq;
        return r;
}

int tg_journal_sync(tg_journal *j) {
        int r;
        assert_return(j, -EINVAL);
        pthread_mutex_lock(&j->lock);
        r = sync_locked(j);
        pthread_mutex_unlock(&j->lock);
        return r;
}

/* Appends a record of this module's own with fields given as pairs, durable, from the
 * reserve: the journal's health must be recorded even when it is full. */
static int append_own(tg_journal *j, const char *type, int priority, const tg_journal_field *fields, size_t n,
                      uint64_t *ret_seq) {
        char comm[16];
        tg_journal_entry e = {
                .type = type,
                .priority = priority,
                .uid = geteuid(),
                .pid = getpid(),
                .comm = comm,
                .fields = fields,
                .n_fields = n,
        };
        uint64_t seq = 0;
        int r;

        snprintf(comm, sizeof(comm), "%s", program_invocation_short_name); /* as the kernel cuts it */
        r = append_locked(j, &e, TG_JOURNAL_SYNC | TG_JOURNAL_RESERVE, &seq);
        if (r == 0)
                r = sync_locked(j);
        if (r == 0 && ret_seq)
                *ret_seq = seq;
        return r;
}

void tg_journal_head_format(uint64_t seq, const uint8_t mac[TG_JOURNAL_MAC_SIZE], char *ret, size_t ret_size) {
        char hex[2 * TG_JOURNAL_MAC_SIZE + 1];
        (void) tg_hex_encode(mac, TG_JOURNAL_MAC_SIZE, hex, sizeof(hex));
        snprintf(ret, ret_size, "%" PRIu64 ":%s", seq, hex);
}

int tg_journal_head_parse(const char *s, uint64_t *ret_seq, uint8_t ret_mac[TG_JOURNAL_MAC_SIZE]) {
        uint8_t mac[TG_JOURNAL_MAC_SIZE];
        const char *colon;
        uint64_t seq = 0;
        size_t got;

        assert_return(s, -EINVAL);
        colon = strchr(s, ':');
        if (!colon || colon == s || colon - s > 20)
                return -EINVAL;
        for (const char *p = s; p < colon; p++) {
                if (*p < '0' || *p > '9' || seq > (UINT64_MAX - 9) / 10)
                        return -EINVAL;
                seq = seq * 10 + (uint64_t) (*p - '0');
        }
        if (seq == 0 || strlen(colon + 1) != 2 * TG_JOURNAL_MAC_SIZE ||
            tg_hex_decode(colon + 1, mac, sizeof(mac), &got) < 0)
                return -EINVAL;
        *ret_seq = seq;
        memcpy(ret_mac, mac, sizeof(mac));
        return 0;
}

int tg_journal_checkpoint(tg_journal *j, uint64_t *ret_seq, uint8_t ret_mac[TG_JOURNAL_MAC_SIZE]) {
        char head_seq[21], head_mac[2 * TG_JOURNAL_MAC_SIZE + 1];
        tg_journal_field f[] = {{"head_seq", head_seq}, {"head_mac", head_mac}};
        uint64_t seq;
        int r;

        assert_return(j, -EINVAL);
        pthread_mutex_lock(&j->lock);
        snprintf(head_seq, sizeof(head_seq), "%" PRIu64, j->next_seq - 1);
        (void) tg_hex_encode(j->head_mac, TG_JOURNAL_MAC_SIZE, head_mac, sizeof(head_mac));
        r = append_own(j, TG_JOURNAL_TYPE_CHECKPOINT, 6, f, ELEMENTSOF(f), &seq);
        if (r == 0) {
                if (ret_seq)
                        *ret_seq = seq;
                if (ret_mac)
                        memcpy(ret_mac, j->head_mac, TG_JOURNAL_MAC_SIZE);
        }
        pthread_mutex_unlock(&j->lock);
        return r;
}

static int read_forwarded(tg_journal *j) {
        char buf[32];
        _cleanup_close_ int fd = open_file(j, FORWARDED_FILE, O_RDONLY, FILE_SECRET);
        ssize_t n;
        char *end;

        j->forwarded = 0;
        if (fd == -ENOENT)
                return 0;
        if (fd < 0)
                return fd;
        n = tg_read_full(fd, buf, sizeof(buf) - 1);
        if (n < 0)
                return (int) n;
        buf[n] = 0;
        errno = 0;
        j->forwarded = strtoull(buf, &end, 10);
        if (errno || end == buf || (*end && *end != '\n'))
                return -EBADMSG;
        return 0;
}

int tg_journal_mark_forwarded(tg_journal *j, uint64_t seq) {
        char text[32];
        int r = 0;

        assert_return(j, -EINVAL);
        pthread_mutex_lock(&j->lock);
        if (seq >= j->next_seq)
                r = -ERANGE;
        else if (seq > j->forwarded) {
                snprintf(text, sizeof(text), "%" PRIu64 "\n", seq);
                r = tg_write_file_atomic(j->dirfd, FORWARDED_FILE, text, strlen(text), geteuid(), getegid(), 0600);
                if (r == 0)
                        j->forwarded = seq;
        }
        pthread_mutex_unlock(&j->lock);
        return r;
}

static uint64_t file_size(int dirfd, const char *name) {
        struct stat st;
        return fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 ? (uint64_t) st.st_size : 0;
}

int tg_journal_usage(tg_journal *j, tg_journal_usage_info *ret) {
        _cleanup_free_ uint64_t *segs = NULL;
        int n;

        assert_return(j && ret, -EINVAL);
        pthread_mutex_lock(&j->lock);
        n = journal_list_segments(j->dirfd, &segs);
        if (n >= 0)
                *ret = (tg_journal_usage_info){
                        .used_bytes = j->used,
                        .max_bytes = j->max,
                        .reserve_bytes = j->reserve,
                        .n_segments = (uint64_t) n,
                        .first_seq = n > 0 ? segs[0] : j->next_seq,
                        .next_seq = j->next_seq,
                        .forwarded_seq = j->forwarded,
                };
        pthread_mutex_unlock(&j->lock);
        return n < 0 ? n : 0;
}

/* The seq and MAC of the last record in the segment file name. */
static int segment_last(const tg_journal *j, const char *name, uint64_t *ret_seq,
                        uint8_t ret_mac[TG_JOURNAL_MAC_SIZE]) {
        _cleanup_free_ tg_journal_record *rec = malloc(sizeof(*rec));
        _cleanup_close_ int fd = open_file(j, name, O_RDONLY, FILE_SEGMENT);
        uint64_t off = SEGMENT_HEADER_SIZE;
        journal_cursor c;
        bool found = false;
        int r = 0;

        if (!rec)
                return -ENOMEM;
        if (fd < 0)
                return fd;
        r = journal_cursor_init(&c, fd);
        while (r == 0) {
                const uint8_t *p;
                ssize_t n = journal_cursor_at(&c, off, &p), size;
                if (n <= 0) {
                        r = (int) n;
                        break;
                }
                size = journal_record_decode(p, (size_t) n, rec);
                if (size < 0) {
                        r = -EBADMSG;
                        break;
                }
                *ret_seq = rec->seq;
                memcpy(ret_mac, rec->mac, TG_JOURNAL_MAC_SIZE);
                found = true;
                off += (uint64_t) size;
        }
        journal_cursor_done(&c);
        return r < 0 ? r : found ? 0 : -ENODATA;
}

/* The seq and prev_mac of the first record in the segment file name: where the chain goes on
 * after the segments before it, as verify checks a prune (one record read, not the segment
 * before it). -ENODATA when the segment holds no record yet. */
static int segment_first(const tg_journal *j, const char *name, uint64_t *ret_seq,
                         uint8_t ret_prev_mac[TG_JOURNAL_MAC_SIZE]) {
        _cleanup_free_ tg_journal_record *rec = malloc(sizeof(*rec));
        _cleanup_free_ uint8_t *buf = malloc(TG_JOURNAL_RECORD_MAX);
        _cleanup_close_ int fd = open_file(j, name, O_RDONLY, FILE_SEGMENT);
        ssize_t n;

        if (!rec || !buf)
                return -ENOMEM;
        if (fd < 0)
                return fd;
        n = pread_full(fd, buf, TG_JOURNAL_RECORD_MAX, SEGMENT_HEADER_SIZE);
        if (n < 0)
                return (int) n;
        if (n == 0)
                return -ENODATA;
        if (journal_record_decode(buf, (size_t) n, rec) < 0)
                return -EBADMSG;
        *ret_seq = rec->seq;
        memcpy(ret_prev_mac, rec->prev_mac, TG_JOURNAL_MAC_SIZE);
        return 0;
}

static int64_t mtime_usec(const struct stat *st) {
        return (int64_t) st->st_mtim.tv_sec * 1000000 + st->st_mtim.tv_nsec / 1000;
}

int tg_journal_prune_step(tg_journal *j, const tg_journal_prune_options *opt, tg_journal_prune_result *ret) {
        _cleanup_free_ uint64_t *segs = NULL;
        tg_journal_prune_result res = {0};
        int64_t now = now_usec();
        char name[SEGMENT_NAME_MAX], through[21], mac_hex[2 * TG_JOURNAL_MAC_SIZE + 1];
        uint8_t mac[TG_JOURNAL_MAC_SIZE];
        uint64_t last = 0, freed = 0, limit;
        int n, k = 0, r = 0;

        assert_return(j && opt, -EINVAL);
        pthread_mutex_lock(&j->lock);
        n = journal_list_segments(j->dirfd, &segs);
        if (n < 0) {
                pthread_mutex_unlock(&j->lock);
                return n;
        }
        limit = j->max > j->reserve ? j->max - j->reserve : 0;
        /* Segment i holds seqs segs[i]..segs[i+1]-1; the last is being written and stays. Its
         * age is its file's last write: the time of its newest record. */
        while (k + 1 < n && segs[k + 1] - 1 <= j->forwarded) {
                struct stat st;
                bool old, room;
                journal_segment_name(segs[k], name);
                if (fstatat(j->dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
                        r = -errno;
                        break;
                }
                old = opt->max_age_usec >= 0 && now - mtime_usec(&st) > opt->max_age_usec;
                room = opt->room_bytes > 0 && j->used - freed + opt->room_bytes > limit;
                if (!old && !room) {
                        if (opt->max_age_usec >= 0)
                                res.next_usec = mtime_usec(&st) + opt->max_age_usec + 1;
                        break;
                }
                if (opt->max_segments > 0 && (unsigned) k >= opt->max_segments) {
                        res.more = true;
                        break;
                }
                freed += (uint64_t) st.st_size;
                k++;
        }
        /* A directory that cannot be changed (read-only mount, immutable) would take the
         * journal.pruned record but none of the deletions: said before anything is written, so
         * that retrying does not fill the journal with prune records. */
        if (r == 0 && k > 0 && faccessat(j->dirfd, ".", W_OK, AT_EACCESS) < 0)
                r = -errno;
        if (r == 0 && k > 0) {
                uint64_t first = 0;
                journal_segment_name(segs[k], name);
                if (segment_first(j, name, &first, mac) == 0 && first > 1)
                        last = first - 1;
                else {
                        /* the segment after them has no record on disk yet */
                        journal_segment_name(segs[k - 1], name);
                        r = segment_last(j, name, &last, mac);
                }
        }
        if (r == 0 && k > 0) {
                /* The chain's new start is recorded before the files go: verify then knows the
                 * first remaining record follows a pruned one, not a deleted one. */
                tg_journal_field f[] = {{"pruned_through", through}, {"head_mac", mac_hex}};
                snprintf(through, sizeof(through), "%" PRIu64, last);
                (void) tg_hex_encode(mac, sizeof(mac), mac_hex, sizeof(mac_hex));
                r = append_own(j, TG_JOURNAL_TYPE_PRUNED, 6, f, ELEMENTSOF(f), &res.record_seq);
                memcpy(res.head_mac, mac, sizeof(mac));
        }
        for (int i = 0; r == 0 && i < k; i++) {
                uint64_t size;
                journal_segment_name(segs[i], name);
                size = file_size(j->dirfd, name);
                if (unlinkat(j->dirfd, name, 0) < 0)
                        r = -errno;
                else {
                        j->used -= size < j->used ? size : j->used;
                        res.deleted++;
                }
        }
        if (res.deleted > 0) {
                (void) fsync(j->dirfd); /* a segment that comes back after a crash is still verified */
                res.pruned_through = res.deleted == (unsigned) k ? last : segs[res.deleted] - 1;
        }
        pthread_mutex_unlock(&j->lock);
        if (ret)
                *ret = res;
        return r;
}

int tg_journal_prune(tg_journal *j, int64_t max_age_usec) {
        tg_journal_prune_result res;
        int r;

        assert_return(j && max_age_usec >= 0, -EINVAL);
        r = tg_journal_prune_step(j, &(tg_journal_prune_options){.max_age_usec = max_age_usec}, &res);
        return r < 0 ? r : (int) res.deleted;
}

int tg_journal_oldest(tg_journal *j, uint64_t *ret_seq, int64_t *ret_usec) {
        _cleanup_free_ uint64_t *segs = NULL;
        uint8_t hdr[SEGMENT_HEADER_SIZE], host[TG_JOURNAL_ID_SIZE];
        char name[SEGMENT_NAME_MAX];
        uint64_t first = 0;
        int n, r = 0;

        assert_return(j && ret_seq && ret_usec, -EINVAL);
        pthread_mutex_lock(&j->lock);
        n = journal_list_segments(j->dirfd, &segs);
        if (n < 0)
                r = n;
        else if (n == 0)
                r = -ENODATA;
        else {
                _cleanup_close_ int fd = -EBADF;
                journal_segment_name(segs[0], name);
                fd = open_file(j, name, O_RDONLY, FILE_SEGMENT);
                if (fd < 0)
                        r = fd;
                else if (pread_full(fd, hdr, sizeof(hdr), 0) != SEGMENT_HEADER_SIZE ||
                         journal_segment_header_decode(hdr, host, &first) < 0 || first != segs[0])
                        r = -EBADMSG;
        }
        pthread_mutex_unlock(&j->lock);
        if (r < 0)
                return r;
        *ret_seq = first;
        *ret_usec = journal_segment_header_created(hdr);
        return 0;
}

/* Recovery. */

typedef struct {
        uint64_t last_seq; /* 0: no record */
        uint8_t last_mac[TG_JOURNAL_MAC_SIZE];
        uint64_t torn_offset, torn_bytes;
        bool torn;
} scan_result;

/* Reads the last segment: where its last complete record ends, and what follows it. Records
 * past the key state (seq >= state_next) are checked with the key: they were written but the
 * state was not advanced before a crash. Anything else past them is a torn tail. */
static int scan_tail(tg_journal *j, uint64_t state_next, scan_result *ret) {
        _cleanup_free_ tg_journal_record *rec = malloc(sizeof(*rec));
        uint8_t hdr[SEGMENT_HEADER_SIZE], host[TG_JOURNAL_ID_SIZE], mac[TG_JOURNAL_MAC_SIZE];
        uint64_t off = SEGMENT_HEADER_SIZE, first;
        journal_cursor c;
        struct stat st;
        int r;

        if (!rec)
                return -ENOMEM;
        if (fstat(j->segfd, &st) < 0)
                return -errno;
        if (pread_full(j->segfd, hdr, sizeof(hdr), 0) != SEGMENT_HEADER_SIZE)
                return -EBADMSG;
        r = journal_segment_header_decode(hdr, host, &first);
        if (r < 0 || first != j->seg_first)
                return -EBADMSG;
        memcpy(j->seg_host, host, sizeof(host));
        r = journal_cursor_init(&c, j->segfd);
        while (r == 0 && off < (uint64_t) st.st_size) {
                const uint8_t *p;
                ssize_t n = journal_cursor_at(&c, off, &p), size;
                if (n < 0) {
                        r = (int) n;
                        break;
                }
                size = journal_record_decode(p, (size_t) n, rec);
                if (size < 0)
                        break;
                if (rec->seq >= state_next) {
                        /* must be the next in the chain, with the key the state holds */
                        if (rec->seq != state_next || memcmp(rec->prev_mac, j->head_mac, TG_JOURNAL_MAC_SIZE) != 0) {
                                r = -EBADMSG;
                                break;
                        }
                        journal_mac_compute(j->mac, p, rec->mac_offset, mac);
                        if (memcmp(mac, rec->mac, sizeof(mac)) != 0) {
                                r = -EBADMSG;
                                break;
                        }
                        memcpy(j->head_mac, mac, sizeof(mac));
                        key_evolve(j);
                        state_next++;
                }
                ret->last_seq = rec->seq;
                memcpy(ret->last_mac, rec->mac, TG_JOURNAL_MAC_SIZE);
                off += (uint64_t) size;
        }
        journal_cursor_done(&c);
        if (r < 0)
                return r;
        j->seg_size = off;
        if (off < (uint64_t) st.st_size) {
                ret->torn = true;
                ret->torn_offset = off;
                ret->torn_bytes = (uint64_t) st.st_size - off;
        }
        return 0;
}

static int segments_usage(tg_journal *j, const uint64_t *segs, int n) {
        char name[SEGMENT_NAME_MAX];
        j->used = 0;
        for (int i = 0; i < n; i++) {
                _cleanup_close_ int fd = -EBADF;
                struct stat st;
                journal_segment_name(segs[i], name);
                fd = open_file(j, name, O_RDONLY, FILE_SEGMENT);
                if (fd < 0)
                        return fd;
                if (fstat(fd, &st) < 0)
                        return -errno;
                j->used += (uint64_t) st.st_size;
        }
        return 0;
}

int tg_journal_open(const char *dir, const tg_journal_options *opt, tg_journal **ret) {
        _cleanup_(journal_freep) tg_journal *j = NULL;
        _cleanup_free_ uint64_t *segs = NULL;
        scan_result scan = {0};
        uint64_t state_next = 0, reserved = 0, next;
        char name[SEGMENT_NAME_MAX];
        int n, r;

        assert_return(dir && ret, -EINVAL);
        journal_gcrypt_init();
        r = journal_new(dir, opt, false, &j);
        if (r < 0)
                return r;
        j->statefd = open_file(j, STATE_FILE, O_RDWR, FILE_SECRET);
        if (j->statefd == -ENOENT)
                return -ENOKEY;
        if (j->statefd < 0)
                return j->statefd;
        r = state_read(j, &state_next, &reserved);
        if (r < 0)
                return r;
        if (reserved - state_next > SEQ_RESERVE_BLOCK)
                return -EBADMSG;
        r = read_forwarded(j);
        if (r < 0)
                return r;
        n = journal_list_segments(j->dirfd, &segs);
        if (n < 0)
                return n;
        r = segments_usage(j, segs, n);
        if (r < 0)
                return r;
        if (n > 0) {
                journal_segment_name(segs[n - 1], name);
                j->segfd = open_file(j, name, O_RDWR, FILE_SEGMENT);
                if (j->segfd < 0)
                        return j->segfd;
                j->seg_first = segs[n - 1];
                r = scan_tail(j, state_next, &scan);
                if (r < 0)
                        return r;
        }
        /* Where the chain goes on: after the last record found or the state's next seq,
         * whichever is later, and past every seq that may have been handed out. */
        next = state_next;
        if (scan.last_seq + 1 > next)
                next = scan.last_seq + 1;
        j->next_seq = next;
        if (reserved > next) {
                for (uint64_t s = next; s < reserved; s++)
                        journal_key_evolve(j->key);
                key_changed(j);
                j->next_seq = reserved;
        }
        if (scan.torn) {
                if (ftruncate(j->segfd, (off_t) scan.torn_offset) < 0 || fdatasync(j->segfd) < 0)
                        return -errno;
                j->used -= scan.torn_bytes;
        }
        if (j->segfd < 0 || j->seg_size + RECORD_MIN_SIZE > j->segment_bytes) {
                r = segment_create(j, j->next_seq);
                if (r < 0)
                        return r;
        }
        if (scan.torn || scan.last_seq + 1 < state_next || j->next_seq > next) {
                char torn_off[21], torn_bytes[21], lost_first[21], lost_last[21], skip_first[21], skip_last[21];
                tg_journal_field f[8];
                size_t k = 0;
                f[k++] = (tg_journal_field){"segment", name};
                if (scan.torn) {
                        snprintf(torn_off, sizeof(torn_off), "%" PRIu64, scan.torn_offset);
                        snprintf(torn_bytes, sizeof(torn_bytes), "%" PRIu64, scan.torn_bytes);
                        f[k++] = (tg_journal_field){"torn_offset", torn_off};
                        f[k++] = (tg_journal_field){"torn_bytes", torn_bytes};
                }
                if (scan.last_seq + 1 < state_next) {
                        /* durable records are missing: the files were cut or replaced */
                        snprintf(lost_first, sizeof(lost_first), "%" PRIu64, scan.last_seq + 1);
                        snprintf(lost_last, sizeof(lost_last), "%" PRIu64, state_next - 1);
                        f[k++] = (tg_journal_field){"lost_first", lost_first};
                        f[k++] = (tg_journal_field){"lost_last", lost_last};
                }
                if (j->next_seq > next) {
                        snprintf(skip_first, sizeof(skip_first), "%" PRIu64, next);
                        snprintf(skip_last, sizeof(skip_last), "%" PRIu64, j->next_seq - 1);
                        f[k++] = (tg_journal_field){"skipped_first", skip_first};
                        f[k++] = (tg_journal_field){"skipped_last", skip_last};
                }
                if (n == 0)
                        f[0].value = "";
                /* The recovery record follows the last record that is there: the chain shows
                 * the gap, and this record says why. */
                if (scan.last_seq > 0 && scan.last_seq + 1 < state_next)
                        memcpy(j->head_mac, scan.last_mac, TG_JOURNAL_MAC_SIZE);
                r = append_own(j, TG_JOURNAL_TYPE_RECOVERED, 4, f, k, NULL);
                if (r < 0)
                        return r;
        } else {
                r = state_write(j, j->next_seq);
                if (r < 0)
                        return r;
        }
        *ret = TAKE_PTR(j);
        return 0;
}

/* gcc's analyzer reports segs, NULL from its declaration, as read uninitialised by its cleanup
 * on an early return (as in lib/control-client.c); this function alone is left out of it. */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wpragmas" /* gcc without -fanalyzer */
#pragma GCC diagnostic ignored "-Wanalyzer-use-of-uninitialized-value"
#endif
int tg_journal_share(const char *dir, const tg_journal_options *opt) {
        _cleanup_(journal_freep) tg_journal *j = NULL;
        _cleanup_free_ uint64_t *segs = NULL;
        char name[SEGMENT_NAME_MAX];
        int n, r;

        assert_return(dir, -EINVAL);
        j = calloc(1, sizeof(*j));
        if (!j)
                return -ENOMEM;
        pthread_mutex_init(&j->lock, NULL);
        j->statefd = j->segfd = -EBADF;
        j->shared = opt && opt->reader_group;
        j->gid = j->shared ? opt->reader_gid : (gid_t) -1;
        j->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (j->dirfd < 0)
                return errno == ELOOP || errno == ENOTDIR ? -EPERM : -errno;
        /* the writer's lock: no segment is made while the modes change */
        if (flock(j->dirfd, LOCK_EX | LOCK_NB) < 0)
                return errno == EWOULDBLOCK ? -EBUSY : -errno;
        r = check_dir(j, j->dirfd);
        if (r < 0)
                return r;
        n = journal_list_segments(j->dirfd, &segs);
        if (n < 0)
                return n;
        for (int i = 0; i < n; i++) {
                journal_segment_name(segs[i], name);
                r = open_file(j, name, O_RDONLY, FILE_SEGMENT);
                if (r < 0)
                        return r;
                close(r);
        }
        r = open_file(j, STATE_FILE, O_RDONLY, FILE_SECRET);
        if (r >= 0)
                close(r);
        return r == -ENOENT ? 0 : r < 0 ? r : 0;
}
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

int tg_journal_init(const char *dir, const uint8_t seed[TG_JOURNAL_SEED_SIZE], const tg_journal_options *opt) {
        _cleanup_(journal_freep) tg_journal *j = NULL;
        uint64_t *segs = NULL;
        char host[38], name[SEGMENT_NAME_MAX];
        tg_journal_field f[1] = {{"host_id", host}};
        int r, n;

        assert_return(dir && seed, -EINVAL);
        journal_gcrypt_init();
        r = journal_new(dir, opt, true, &j);
        if (r < 0)
                return r;
        n = journal_list_segments(j->dirfd, &segs);
        free(segs); /* only whether there are any */
        if (n < 0)
                return n;
        if (n > 0)
                return -EEXIST;
        j->statefd = open_file(j, STATE_FILE, O_RDWR | O_CREAT | O_EXCL, FILE_SECRET);
        if (j->statefd < 0)
                return j->statefd;
        journal_key_first(seed, j->key);
        key_changed(j);
        j->next_seq = 1;
        r = state_write(j, 1);
        if (r == 0)
                r = segment_create(j, 1);
        if (r == 0) {
                format_uuid(j->host_id, host);
                host[36] = 0;
                r = append_own(j, TG_JOURNAL_TYPE_INITIALIZED, 5, f, ELEMENTSOF(f), NULL);
        }
        if (r < 0) {
                (void) unlinkat(j->dirfd, STATE_FILE, 0);
                journal_segment_name(1, name);
                (void) unlinkat(j->dirfd, name, 0);
        }
        return r;
}

void tg_journal_close(tg_journal *j) {
        if (!j)
                return;
        pthread_mutex_lock(&j->lock);
        (void) sync_locked(j);
        pthread_mutex_unlock(&j->lock);
        journal_free(j);
}

/* The seed file: text, so that auditors can print it for the safe and type it back. */
#define SEED_HEADER "termguard-journal-seed 1\n"

int tg_journal_seed_write(const char *path, const uint8_t seed[TG_JOURNAL_SEED_SIZE],
                          const uint8_t host_id[TG_JOURNAL_ID_SIZE]) {
        char text[256], seed_hex[2 * TG_JOURNAL_SEED_SIZE + 1], host[38];
        _cleanup_close_ int fd = -EBADF;
        int len, r;

        assert_return(path && seed && host_id, -EINVAL);
        (void) tg_hex_encode(seed, TG_JOURNAL_SEED_SIZE, seed_hex, sizeof(seed_hex));
        format_uuid(host_id, host);
        len = snprintf(text, sizeof(text), SEED_HEADER "host=%sseed=%s\n", host, seed_hex);
        explicit_bzero(seed_hex, sizeof(seed_hex));
        fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd < 0) {
                explicit_bzero(text, sizeof(text));
                return -errno;
        }
        r = fchmod(fd, 0600) < 0 ? -errno : 0;
        if (r == 0)
                r = pwrite_full(fd, text, (size_t) len, 0);
        if (r == 0 && fsync(fd) < 0)
                r = -errno;
        explicit_bzero(text, sizeof(text));
        if (r < 0)
                (void) unlink(path);
        return r;
}

int tg_journal_seed_read(const char *path, uint8_t ret_seed[TG_JOURNAL_SEED_SIZE],
                         uint8_t ret_host_id[TG_JOURNAL_ID_SIZE]) {
        char text[256], *host, *seed, *end;
        uint8_t s[TG_JOURNAL_SEED_SIZE], h[TG_JOURNAL_ID_SIZE];
        ssize_t n;
        size_t got;
        int r = -EBADMSG;

        assert_return(path && ret_seed, -EINVAL);
        n = tg_read_file(path, text, sizeof(text) - 1);
        if (n < 0)
                return (int) n;
        text[n] = 0;
        if (strncmp(text, SEED_HEADER, STRLEN(SEED_HEADER)) != 0)
                goto out;
        host = text + STRLEN(SEED_HEADER);
        if (strncmp(host, "host=", 5) != 0 || !(end = strchr(host, '\n')))
                goto out;
        seed = end + 1;
        if (parse_uuid(host + 5, (size_t) (end - host - 5), h) < 0)
                goto out;
        if (strncmp(seed, "seed=", 5) != 0 || !(end = strchr(seed, '\n')) || end[1] != 0)
                goto out;
        *end = 0;
        if (strlen(seed + 5) != 2 * TG_JOURNAL_SEED_SIZE || tg_hex_decode(seed + 5, s, sizeof(s), &got) < 0)
                goto out;
        memcpy(ret_seed, s, sizeof(s));
        if (ret_host_id)
                memcpy(ret_host_id, h, sizeof(h));
        r = 0;
out:
        explicit_bzero(text, sizeof(text));
        explicit_bzero(s, sizeof(s));
        return r;
}
