/* SPDX-License-Identifier: GPL-2.0-or-later */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <unistd.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <sys/eventfd.h>
#include <sys/uio.h>

#include <json-c/json.h>
#include <systemd/sd-journal.h>

#include "cleanup.h"
#include "event.h"
#include "termguard/account.h"
#include "termguard/event-catalogue.h"
#include "termguard/macro.h"
#include "termguard/hex.h"
#include "termguard/journal.h"
#include "termguard/record.h"

/* USB workers (unmounting) record too: one record, one line, never interleaved. */
static pthread_mutex_t output_lock = PTHREAD_MUTEX_INITIALIZER;

/* The audit journal (lib/journal.c), the record itself; journald is its mirror. NULL while it
 * is not open: never initialised or unwritable. Either way no record is kept, so nothing that
 * must be recorded first takes effect (storage stays blocked; root producers spool). */
static pthread_mutex_t journal_lock = PTHREAD_MUTEX_INITIALIZER;
static tg_journal *journal;
static event_journal_state journal_state = EVENT_JOURNAL_NOT_INITIALISED;
static tg_journal_clock last_clock = TG_JOURNAL_CLOCK_UNKNOWN;
static bool journal_opened_before; /* whether event_journal_open() ran already */
/* "near its cap": nine tenths of what records other than the reserve's may use. */
#define NEAR_CAP_PERCENT 90
/* Near the cap, retention frees forwarded segments until the journal is down to this share of
 * it: well below NEAR_CAP_PERCENT, so one prune buys room for a while, not for one record. */
#define ROOM_TARGET_PERCENT 75
/* Readable when the journal came near its cap or to it (retention.c makes room). Written
 * from any thread that records; an eventfd, so the event loop needs no lock to learn it. */
static int pressure_fd = -EBADF;
/* Retention is making room (from NEAR_CAP_PERCENT down to ROOM_TARGET_PERCENT): the bounded
 * steps go on past the near-cap mark until a step finds nothing more to delete. */
static bool making_room;

/* stderr is the journal under systemd: then journald gets the structured record only. */
static bool stderr_is_journal(void) {
        return getenv("JOURNAL_STREAM") != NULL;
}

static bool journal_available(void) {
        return access("/run/systemd/journal/socket", W_OK) == 0;
}

void log_msg(int priority, const char *fmt, ...) {
        static const char *const level[] = {"emerg", "alert", "crit", "error", "warning", "notice", "info", "debug"};
        va_list ap;
        va_start(ap, fmt);
        pthread_mutex_lock(&output_lock);
        if (stderr_is_journal() && journal_available()) {
                sd_journal_printv(priority, fmt, ap);
        } else {
                fprintf(stderr, "termguardd: %s: ", level[priority & 7]);
                vfprintf(stderr, fmt, ap);
                fputc('\n', stderr);
        }
        pthread_mutex_unlock(&output_lock);
        va_end(ap);
}

/* Appends one journald field; fields has room (the caller bounds n). */
__attribute__((format(printf, 3, 4))) static int add_field(char **fields, size_t *n, const char *fmt, ...) {
        va_list ap;
        int r;

        va_start(ap, fmt);
        r = vasprintf(&fields[*n], fmt, ap);
        va_end(ap);
        if (r < 0)
                return -ENOMEM;
        (*n)++;
        return 0;
}

/* "descriptor_sha256" as journald's DESCRIPTOR_SHA256. */
static void journald_name(const char *name, char *ret, size_t size) {
        size_t j;
        for (j = 0; name[j] && j < size - 1; j++)
                ret[j] = name[j] == '-' ? '_' : (char) toupper((unsigned char) name[j]);
        ret[j] = '\0';
}

static const char *const via_names[] = {
        [TG_RECORD_VIA_DAEMON] = "daemon",
        [TG_RECORD_VIA_SOCKET] = "socket",
        [TG_RECORD_VIA_SPOOL] = "spool",
};

/* The journald mirror: MESSAGE_ID, the fields, and for records handed in, the sender as
 * termguardd established it. Returns the number of fields. */
#define MIRROR_FIELDS_MAX (TG_EVENT_FIELDS_MAX + 16)
static size_t mirror_fields(const tg_record *rec, uint64_t seq, char *fields[static MIRROR_FIELDS_MAX]) {
        bool mfa = strncmp(rec->event->type, "mfa.", 4) == 0;
        size_t n = 0;
        int r;

        r = add_field(fields, &n, "MESSAGE=%s", rec->message);
        if (r >= 0)
                r = add_field(fields, &n, "PRIORITY=%d", rec->priority);
        if (r >= 0)
                r = add_field(fields, &n, "TERMGUARD_EVENT=%s", rec->event->type);
        if (r >= 0)
                r = add_field(fields, &n, "MESSAGE_ID=%s", rec->event->message_id);
        if (r >= 0)
                r = add_field(fields, &n, "TERMGUARD_RECORD_ID=%s", rec->id);
        if (r >= 0 && seq)
                r = add_field(fields, &n, "TERMGUARD_SEQ=%" PRIu64, seq);
        /* The producer's name, as before the records went through termguardd: queries by
         * SYSLOG_IDENTIFIER=pam_termguard keep working. Who really sent it is TERMGUARD_SENDER_*. */
        if (r >= 0)
                r = add_field(fields, &n, "SYSLOG_IDENTIFIER=%s", rec->producer);
        if (r >= 0 && mfa)
                r = add_field(fields, &n, "SYSLOG_FACILITY=%d", LOG_AUTHPRIV >> 3);
        if (r >= 0 && rec->sender.via != TG_RECORD_VIA_DAEMON) {
                r = add_field(fields, &n, "TERMGUARD_VIA=%s", via_names[rec->sender.via]);
                if (r >= 0)
                        r = add_field(fields, &n, "TERMGUARD_SENDER_UID=%u", (unsigned) rec->sender.uid);
                if (r >= 0)
                        r = add_field(fields, &n, "TERMGUARD_SENDER_PID=%d", (int) rec->sender.pid);
                if (r >= 0)
                        r = add_field(fields, &n, "TERMGUARD_SENDER_COMM=%s", rec->sender.comm);
                if (r >= 0 && rec->sender.unit[0])
                        r = add_field(fields, &n, "TERMGUARD_SENDER_UNIT=%s", rec->sender.unit);
        }
        for (size_t i = 0; r >= 0 && i < rec->n_fields; i++) {
                char key[64];
                journald_name(rec->fields[i].name, key, sizeof(key));
                r = add_field(fields, &n, "TERMGUARD_%s=%s", key, rec->fields[i].value);
        }
        return n; /* out of memory: the fields made so far */
}

static char *json_line(const tg_record *rec, uint64_t seq) {
        _cleanup_json_ json_object *o = json_object_new_object();
        char *line = NULL;

        if (!o)
                return NULL;
        json_object_object_add(o, "event", json_object_new_string(rec->event->type));
        json_object_object_add(o, "message", json_object_new_string(rec->message));
        if (seq)
                json_object_object_add(o, "seq", json_object_new_int64((int64_t) seq));
        for (size_t i = 0; i < rec->n_fields; i++)
                json_object_object_add(o, rec->fields[i].name, json_object_new_string(rec->fields[i].value));
        if (rec->sender.via != TG_RECORD_VIA_DAEMON) {
                json_object_object_add(o, "record_id", json_object_new_string(rec->id));
                json_object_object_add(o, "producer", json_object_new_string(rec->producer));
                json_object_object_add(o, "via", json_object_new_string(via_names[rec->sender.via]));
                json_object_object_add(o, "sender_uid", json_object_new_int64(rec->sender.uid));
                json_object_object_add(o, "sender_pid", json_object_new_int64(rec->sender.pid));
                json_object_object_add(o, "sender_comm", json_object_new_string(rec->sender.comm));
                json_object_object_add(o, "sender_unit", json_object_new_string(rec->sender.unit));
        }
        if (asprintf(&line, "%s\n",
                     json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE)) < 0)
                return NULL;
        return line;
}

static void mirror(const tg_record *rec, uint64_t seq) {
        char *fields[MIRROR_FIELDS_MAX];
        struct iovec iov[MIRROR_FIELDS_MAX];
        _cleanup_free_ char *line = NULL;
        size_t n;

        n = mirror_fields(rec, seq, fields);
        if (!stderr_is_journal())
                line = json_line(rec, seq);
        pthread_mutex_lock(&output_lock);
        if (journal_available()) {
                for (size_t i = 0; i < n; i++)
                        iov[i] = (struct iovec){.iov_base = fields[i], .iov_len = strlen(fields[i])};
                (void) sd_journal_sendv(iov, (int) n); /* a mirror: the record does not depend on it */
        }
        if (line) {
                fputs(line, stderr);
                fflush(stderr);
        }
        pthread_mutex_unlock(&output_lock);
        for (size_t i = 0; i < n; i++)
                free(fields[i]);
}

/* Records that keep their place in the reserve when the journal reaches its cap: logins must
 * go on, and the journal must be able to say that it is full. */
static bool uses_reserve(const tg_event_type *t) {
        return strncmp(t->type, "mfa.", 4) == 0 || strncmp(t->type, "journal.", 8) == 0 ||
               strncmp(t->type, "clock.", 6) == 0;
}

static const char *const sender_daemon_comm = "termguardd";

/* Appends rec, durable before it returns (TG_JOURNAL_SYNC). Called with journal_lock held. */
static int journal_append_locked(const tg_record *rec, uint64_t *ret_seq) {
        tg_journal_field f[TG_EVENT_FIELDS_MAX + 4];
        bool daemon = rec->sender.via == TG_RECORD_VIA_DAEMON;
        size_t n = 0;

        f[n++] = (tg_journal_field){"message", rec->message};
        f[n++] = (tg_journal_field){"record_id", rec->id};
        if (!daemon) {
                f[n++] = (tg_journal_field){"producer", rec->producer};
                f[n++] = (tg_journal_field){"via", rec->sender.via == TG_RECORD_VIA_SPOOL ? "spool" : "socket"};
        }
        for (size_t i = 0; i < rec->n_fields; i++)
                f[n++] = (tg_journal_field){rec->fields[i].name, rec->fields[i].value};
        tg_journal_entry e = {
                .type = rec->event->type,
                .priority = rec->priority,
                .uid = daemon ? 0 : rec->sender.uid,
                .pid = daemon ? getpid() : rec->sender.pid,
                .comm = daemon ? sender_daemon_comm : rec->sender.comm,
                .unit = daemon ? "" : rec->sender.unit,
                /* the producer's time for records handed in; the clock's state is ours now */
                .time_usec = rec->time,
                .clock = tg_journal_clock_state(),
                .fields = f,
                .n_fields = n,
        };
        return tg_journal_append(journal, &e, TG_JOURNAL_SYNC | (uses_reserve(rec->event) ? TG_JOURNAL_RESERVE : 0),
                                 ret_seq);
}

/* The journal's own health, recorded when it changes (the record goes in the reserve). */
static void journal_state_changed(event_journal_state to, int error) {
        char used[24] = "", cap[24] = "";
        tg_journal_usage_info u;

        if (journal && tg_journal_usage(journal, &u) == 0) {
                snprintf(used, sizeof(used), "%" PRIu64, u.used_bytes);
                snprintf(cap, sizeof(cap), "%" PRIu64, u.max_bytes);
        }
        if ((to == EVENT_JOURNAL_NEAR_CAP || to == EVENT_JOURNAL_FULL) && pressure_fd >= 0)
                (void) eventfd_write(pressure_fd, 1); /* only a wake-up: a full counter wakes too */
        switch (to) {
        case EVENT_JOURNAL_NEAR_CAP:
                event_emit("journal.near-cap", LOG_WARNING, "The audit journal is close to its size cap", "used", used,
                           "cap", cap, NULL);
                break;
        case EVENT_JOURNAL_FULL:
                event_emit(
                        "journal.full", LOG_CRIT,
                        "The audit journal is full: storage stays blocked, MFA records go to the reserve or the spool",
                        "used", used, "cap", cap, NULL);
                break;
        case EVENT_JOURNAL_UNWRITABLE:
                event_emit("journal.unwritable", LOG_CRIT, "The audit journal cannot be written: storage stays blocked",
                           "error", strerror(-error), NULL);
                break;
        default: break;
        }
}

/* Whether the journal is near its cap now. */
static bool near_cap_locked(void) {
        tg_journal_usage_info u;
        if (!journal || tg_journal_usage(journal, &u) < 0 || u.max_bytes <= u.reserve_bytes)
                return false;
        return u.used_bytes * 100 >= (u.max_bytes - u.reserve_bytes) * NEAR_CAP_PERCENT;
}

int event_record(const tg_record *rec) {
        event_journal_state before, after;
        tg_journal_clock clock;
        uint64_t seq = 0;
        int r = 0, error = 0;

        /* Losing or regaining clock synchronisation is itself on the record, before the record
         * that noticed it. */
        clock = tg_journal_clock_state();
        pthread_mutex_lock(&journal_lock);
        tg_journal_clock was = last_clock;
        last_clock = clock;
        pthread_mutex_unlock(&journal_lock);
        if (was != TG_JOURNAL_CLOCK_UNKNOWN && was != clock && strncmp(rec->event->type, "clock.", 6) != 0)
                event_emit(clock == TG_JOURNAL_CLOCK_SYNCED ? "clock.sync-regained" : "clock.sync-lost",
                           clock == TG_JOURNAL_CLOCK_SYNCED ? LOG_NOTICE : LOG_WARNING,
                           clock == TG_JOURNAL_CLOCK_SYNCED ? "The clock is synchronised again"
                                                            : "The clock is no longer synchronised",
                           "detail", tg_journal_clock_to_string(clock), NULL);

        pthread_mutex_lock(&journal_lock);
        before = after = journal_state;
        if (journal) {
                r = journal_append_locked(rec, &seq);
                if (r == -ENOSPC)
                        after = EVENT_JOURNAL_FULL;
                else if (r < 0)
                        after = EVENT_JOURNAL_UNWRITABLE;
                else if (!uses_reserve(rec->event) ||
                         (before != EVENT_JOURNAL_FULL && before != EVENT_JOURNAL_UNWRITABLE))
                        /* A record outside the reserve went in: there is room. The usage is
                         * counted in memory (a directory listing besides): cheap next to the
                         * fdatasync of every append. */
                        after = near_cap_locked() ? EVENT_JOURNAL_NEAR_CAP : EVENT_JOURNAL_OK;
                error = r;
        } else if (journal_state == EVENT_JOURNAL_UNWRITABLE)
                r = -EIO; /* it exists but could not be opened: nothing may depend on a record */
        else if (journal_state == EVENT_JOURNAL_NOT_INITIALISED)
                /* journald alone is no audit record (it rotates, root edits it): a terminal
                 * whose journal was never created keeps nothing, like one whose journal broke. */
                r = -ENOKEY;
        journal_state = after;
        pthread_mutex_unlock(&journal_lock);

        mirror(rec, seq);
        if (after != before)
                journal_state_changed(after, error);
        return r;
}

int event_journal_open(const char *state_dir, uint64_t max_bytes, const char *auditor_group) {
        char dir[PATH_MAX], host_id[PATH_MAX];
        tg_journal *j = NULL;
        gid_t gid = (gid_t) -1;
        bool shared = false;
        int r;

        pthread_mutex_lock(&journal_lock);
        bool open = journal != NULL;
        pthread_mutex_unlock(&journal_lock);
        if (open)
                return 0; /* a reload: the journal stays as it is */

        if (pressure_fd < 0) {
                pressure_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
                if (pressure_fd < 0)
                        log_msg(LOG_WARNING,
                                "No eventfd for the journal's cap (%s): retention makes room only on "
                                "its timer and when the forwarded mark moves",
                                strerror(errno));
        }
        snprintf(dir, sizeof(dir), "%s/journal", state_dir);
        snprintf(host_id, sizeof(host_id), "%s/host-id", state_dir);
        /* The reserve is an eighth of the cap, at most the journal's default: room for the
         * MFA and journal-health records once the rest is full. */
        uint64_t reserve = max_bytes / 8 < TG_JOURNAL_DEFAULT_RESERVE ? max_bytes / 8 : TG_JOURNAL_DEFAULT_RESERVE;
        if (auditor_group && auditor_group[0]) {
                r = tg_group_gid(auditor_group, &gid);
                shared = r > 0;
                if (r <= 0)
                        log_msg(LOG_WARNING, "[Journal] AuditorGroup=%s: %s; the journal stays readable by root only",
                                auditor_group, r < 0 ? strerror(-r) : "no such group");
        }
        r = tg_journal_open(dir,
                            &(tg_journal_options){.host_id_path = host_id,
                                                  .max_bytes = max_bytes,
                                                  .reserve_bytes = reserve,
                                                  .reader_group = shared,
                                                  .reader_gid = gid},
                            &j);
        pthread_mutex_lock(&journal_lock);
        bool reopen = journal_opened_before;
        journal_opened_before = true;
        event_journal_state before = journal_state;
        journal = r < 0 ? NULL : j;
        journal_state = r >= 0                         ? EVENT_JOURNAL_OK
                        : r == -ENOKEY || r == -ENOENT ? EVENT_JOURNAL_NOT_INITIALISED
                                                       : EVENT_JOURNAL_UNWRITABLE;
        if (journal_state == EVENT_JOURNAL_OK && near_cap_locked())
                journal_state = EVENT_JOURNAL_NEAR_CAP;
        event_journal_state after = journal_state;
        pthread_mutex_unlock(&journal_lock);
        if (r == -ENOKEY || r == -ENOENT) {
                /* Said on every start and reload while it lasts: the console, journald and
                 * status show why storage is blocked. */
                log_msg(LOG_CRIT,
                        "No audit journal in %s: USB storage stays blocked until \"termguardctl journal init\" "
                        "creates it (then \"systemctl reload termguardd\")",
                        dir);
                /* journald only: there is no journal to hold it */
                event_emit("journal.unwritable", LOG_CRIT,
                           "The audit journal was never created: USB storage stays blocked", "error",
                           EVENT_JOURNAL_NOT_INITIALISED_REASON, NULL);
                return 0;
        }
        if (r < 0) {
                log_msg(LOG_ERR, "Cannot open the audit journal in %s: %s", dir, strerror(-r));
                journal_state_changed(EVENT_JOURNAL_UNWRITABLE, r);
                return r;
        }
        if (reopen && before == EVENT_JOURNAL_NOT_INITIALISED)
                log_msg(LOG_NOTICE, "Audit journal in %s opened: storage decisions are recorded again", dir);
        if (after == EVENT_JOURNAL_NEAR_CAP)
                journal_state_changed(EVENT_JOURNAL_NEAR_CAP, 0);
        return 0;
}

int event_journal_checkpoint(void) {
        uint8_t mac[TG_JOURNAL_MAC_SIZE];
        char head_seq[24], head_mac[2 * TG_JOURNAL_MAC_SIZE + 1];
        uint64_t seq;
        tg_record rec;
        int r;

        pthread_mutex_lock(&journal_lock);
        r = journal ? tg_journal_checkpoint(journal, &seq, mac) : -ENOKEY;
        bool near = r >= 0 && near_cap_locked();
        event_journal_state before = journal_state;
        if (r >= 0 && (before == EVENT_JOURNAL_OK || before == EVENT_JOURNAL_NEAR_CAP))
                journal_state = near ? EVENT_JOURNAL_NEAR_CAP : EVENT_JOURNAL_OK;
        event_journal_state after = journal_state;
        pthread_mutex_unlock(&journal_lock);
        if (r == -ENOKEY)
                return 0;
        if (r < 0) {
                log_msg(LOG_ERR, "Failed to write a journal checkpoint: %s", strerror(-r));
                return r;
        }
        /* The journal wrote the checkpoint record itself: journald gets its mirror. */
        snprintf(head_seq, sizeof(head_seq), "%" PRIu64, seq);
        tg_hex_encode(mac, sizeof(mac), head_mac, sizeof(head_mac));
        if (tg_record_init(&rec, "journal.checkpoint", -1, "termguardd", "Checkpoint of the audit journal") >= 0) {
                (void) tg_record_set(&rec, "head_seq", head_seq);
                (void) tg_record_set(&rec, "head_mac", head_mac);
                mirror(&rec, seq);
                tg_record_done(&rec);
        }
        if (after != before)
                journal_state_changed(after, 0);
        return 0;
}

int event_journal_prune(int64_t max_age_usec, unsigned max_segments, tg_journal_prune_result *ret) {
        char through[24], head_mac[2 * TG_JOURNAL_MAC_SIZE + 1];
        tg_journal_prune_result res = {0};
        tg_journal_usage_info u;
        uint64_t room = 0;
        tg_record rec;
        int r;

        pthread_mutex_lock(&journal_lock);
        if (!journal) {
                pthread_mutex_unlock(&journal_lock);
                return -ENOKEY;
        }
        if (tg_journal_usage(journal, &u) == 0 && u.max_bytes > u.reserve_bytes) {
                uint64_t limit = u.max_bytes - u.reserve_bytes;
                /* Near the cap: forwarded segments are safe centrally, so they go before storage
                 * decisions are refused for want of room, whatever their age. */
                if (u.used_bytes * 100 >= limit * NEAR_CAP_PERCENT)
                        making_room = true;
                if (making_room)
                        room = limit - limit / 100 * ROOM_TARGET_PERCENT;
        }
        r = tg_journal_prune_step(journal,
                                  &(tg_journal_prune_options){.max_age_usec = max_age_usec,
                                                              .room_bytes = room,
                                                              .max_segments = max_segments},
                                  &res);
        if (!res.more)
                making_room = false; /* there is room, or nothing forwarded is left to give it */
        event_journal_state before = journal_state;
        if (res.deleted > 0 &&
            (before == EVENT_JOURNAL_OK || before == EVENT_JOURNAL_NEAR_CAP || before == EVENT_JOURNAL_FULL))
                /* room again: storage decisions are recorded again from the next one */
                journal_state = near_cap_locked() ? EVENT_JOURNAL_NEAR_CAP : EVENT_JOURNAL_OK;
        event_journal_state after = journal_state;
        pthread_mutex_unlock(&journal_lock);

        if (res.record_seq > 0) {
                /* The journal wrote the journal.pruned record itself: journald gets its mirror. */
                snprintf(through, sizeof(through), "%" PRIu64, res.pruned_through);
                tg_hex_encode(res.head_mac, sizeof(res.head_mac), head_mac, sizeof(head_mac));
                if (tg_record_init(&rec, TG_JOURNAL_TYPE_PRUNED, -1, "termguardd",
                                   "Retention deleted forwarded segments of the audit journal") >= 0) {
                        (void) tg_record_set(&rec, "pruned_through", through);
                        (void) tg_record_set(&rec, "head_mac", head_mac);
                        mirror(&rec, res.record_seq);
                        tg_record_done(&rec);
                }
        }
        if (after != before)
                journal_state_changed(after, 0);
        if (before == EVENT_JOURNAL_FULL && after != EVENT_JOURNAL_FULL)
                log_msg(LOG_NOTICE, "Retention made room in the audit journal: storage decisions are recorded again");
        *ret = res;
        return r;
}

int event_journal_pressure_fd(void) {
        return pressure_fd;
}

int event_journal_oldest(uint64_t *ret_seq, int64_t *ret_usec) {
        int r;
        pthread_mutex_lock(&journal_lock);
        r = journal ? tg_journal_oldest(journal, ret_seq, ret_usec) : -ENOKEY;
        pthread_mutex_unlock(&journal_lock);
        return r;
}

void event_journal_close(void) {
        pthread_mutex_lock(&journal_lock);
        tg_journal_close(journal);
        journal = NULL;
        pthread_mutex_unlock(&journal_lock);
}

void event_journal_status(event_journal_info *ret) {
        tg_journal_usage_info u = {0};

        pthread_mutex_lock(&journal_lock);
        *ret = (event_journal_info){.state = journal_state};
        if (journal && tg_journal_usage(journal, &u) == 0) {
                ret->used_bytes = u.used_bytes;
                ret->max_bytes = u.max_bytes;
                ret->next_seq = u.next_seq;
                ret->forwarded_seq = u.forwarded_seq;
        }
        pthread_mutex_unlock(&journal_lock);
}

const char *event_journal_unusable_reason(void) {
        pthread_mutex_lock(&journal_lock);
        event_journal_state s = journal_state;
        pthread_mutex_unlock(&journal_lock);
        switch (s) {
        case EVENT_JOURNAL_NOT_INITIALISED: return EVENT_JOURNAL_NOT_INITIALISED_REASON;
        case EVENT_JOURNAL_FULL: return "the audit journal is full";
        case EVENT_JOURNAL_UNWRITABLE: return "the audit journal cannot be written";
        default: return "the audit journal did not take the record";
        }
}

int event_journal_mark_forwarded(uint64_t seq, uint64_t *ret_forwarded, uint64_t *ret_next) {
        tg_journal_usage_info u = {0};
        int r;

        pthread_mutex_lock(&journal_lock);
        r = journal ? tg_journal_mark_forwarded(journal, seq) : -ENOKEY;
        if (journal && tg_journal_usage(journal, &u) == 0) {
                *ret_forwarded = u.forwarded_seq;
                *ret_next = u.next_seq;
        }
        pthread_mutex_unlock(&journal_lock);
        return r;
}

const char *event_journal_state_to_string(event_journal_state s) {
        static const char *const names[] = {
                [EVENT_JOURNAL_OK] = "ok",
                [EVENT_JOURNAL_NEAR_CAP] = "near-cap",
                [EVENT_JOURNAL_FULL] = "full",
                [EVENT_JOURNAL_UNWRITABLE] = "unwritable",
                [EVENT_JOURNAL_NOT_INITIALISED] = "not-initialised",
        };
        return names[s];
}

int event_emit(const char *type, int priority, const char *message, ...) {
        tg_record rec;
        va_list ap;
        int r;

        r = tg_record_init(&rec, type, priority, program_invocation_short_name, message);
        if (r < 0) {
                /* The catalogue's unit test keeps this from happening. */
                log_msg(LOG_ERR, "Cannot record %s (%s): %s", type, message,
                        r == -EINVAL ? "not in the event catalogue" : strerror(-r));
                return r;
        }
        va_start(ap, message);
        for (const char *k = va_arg(ap, const char *); k; k = va_arg(ap, const char *)) {
                const char *v = va_arg(ap, const char *);
                r = tg_record_set_escaped(&rec, k, v);
                if (r < 0)
                        log_msg(LOG_ERR, "Event %s: field %s: %s", type, k,
                                r == -EINVAL ? "not in the event catalogue" : strerror(-r));
        }
        va_end(ap);
        r = event_record(&rec);
        tg_record_done(&rec);
        return r;
}

static const char *name_of(const char *path) {
        const char *slash = strrchr(path, '/');
        return slash ? slash + 1 : path;
}

void event_cut_off_failed(const char *device, const char *target, const char *step, int error, const char *why) {
        log_msg(LOG_ERR, "Failed to cut off storage of %s (%s of %s): %s", name_of(device), step, name_of(target),
                strerror(-error));
        event_emit("storage.cut-off-failed", LOG_ERR, "A step that cuts removable storage off failed", "device",
                   name_of(device), "target", name_of(target), "step", step, "error", strerror(-error), "why", why,
                   NULL);
}
