/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The event catalogue (include/termguard/event-catalogue.h): one row per type of record. A new
 * event is one row here and the regenerated table in docs/admin-guide.md (the unit test
 * event_catalogue prints it). The MESSAGE_IDs of existing types never change: auditors'
 * journald queries select on them.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "termguard/event-catalogue.h"
#include "termguard/macro.h"

static const tg_event_field fields[] = {
        {"action", "what the gate did about it (`re-admitted`, `none`)"},
        {"actor",
         "who acted: the account name; for root also the login user (`root (login tanaka)`); `uid:N` from the helper"},
        {"admitted", "how many keyboards and mice were admitted"},
        {"approver", "who approved the exception"},
        {"asked", "sessions asked to lock"},
        {"bytes_written", "bytes written to the medium while it was watched"},
        {"cap", "the journal's size cap, bytes"},
        {"claimed_type", "the type a refused record claimed"},
        {"comm", "the program of the process that did it (`?` once it has ended)"},
        {"command", "the control command refused"},
        {"complete", "`yes` when no file event of the watch was lost, else `no`"},
        {"config", "the configuration root"},
        {"controller", "the USB controller (root hub)"},
        {"deadline", "when the session will be locked (UTC)"},
        {"decision", "the verdict: `allowed`, `read-only`, `read-write`, `blocked`, ..."},
        {"department", "owner department of the medium"},
        {"descriptor_sha256", "SHA-256 of the device's raw descriptors"},
        {"detail", "what happened, in words (MFA: `totp`, `wrong-or-reused-code`, the error, ...)"},
        {"device", "the USB device (sysfs name, `1-2`)"},
        {"devnode", "the block device node"},
        {"devnum", "the device number the kernel gave this attachment"},
        {"driver", "the kernel driver that holds the interface"},
        {"error", "the error, in words"},
        {"events_lost", "how many file events were lost"},
        {"exception", "the exception's number"},
        {"files_created", "names created on the medium while it was watched"},
        {"files_deleted", "names deleted on the medium while it was watched"},
        {"files_renamed", "names renamed on the medium while it was watched"},
        {"files_written", "files written to the medium while it was watched"},
        {"from", "a renamed file's old path on the medium"},
        {"fstype", "the medium's filesystem type"},
        {"group", "which kernel queue overflowed: `names` or `written`"},
        {"hash", "why a written file has no SHA-256 (`not hashed: larger than cap`, `... queue full`, ...)"},
        {"head_mac", "MAC of the chain head (hex)"},
        {"head_seq", "seq of the chain head"},
        {"host_id", "the host's id (UUID)"},
        {"how", "how the medium was unmounted"},
        {"interface", "the USB interface (`1-2:1.0`)"},
        {"interfaces", "per-interface result: number, class, allowed or not"},
        {"kind", "`file` or `directory` (media); `key` or `reader` (token registry)"},
        {"label", "the medium's label in the register"},
        {"latest_seen", "the latest time termguard has seen (UTC)"},
        {"locked", "sessions confirmed locked"},
        {"logoff_at", "when the session will be logged off (UTC)"},
        {"lost_first", "first seq of durable records found missing"},
        {"lost_last", "last seq of durable records found missing"},
        {"lun", "the SCSI LUN (host:channel:target:lun)"},
        {"manufacturer", "manufacturer string the device claims (escaped)"},
        {"mode", "the medium's mode: `read-only`, `read-write`, `blocked`"},
        {"mountpoint", "where the medium was mounted"},
        {"not_hashed", "written files recorded without their SHA-256"},
        {"not_observable", "file operations the kernel cannot report on this filesystem"},
        {"now", "the clock's time when it was noticed (UTC)"},
        {"observable", "file operations recorded on this medium"},
        {"operation", "the kernel step: authorize, probe, unmount, deauthorize"},
        {"owner", "the token's owner (a user name)"},
        {"path", "the file's path from the root of the medium (escaped, at most 1,024 bytes)"},
        {"pid", "product id the device claims (4 hex digits)"},
        {"process_id", "the process that did it (pid)"},
        {"product", "product string the device claims (escaped)"},
        {"pruned_through", "last seq of the deleted segments"},
        {"raw_access", "`yes` when the seat user may use the device's usbfs and hidraw nodes"},
        {"reader", "the IC card reader (PC/SC name, escaped)"},
        {"reason", "why (the policy's reason, the exception's reason)"},
        {"records", "how many records"},
        {"refusals", "how many refusals this record stands for"},
        {"removed", "`yes` when the written file was deleted before it could be hashed"},
        {"result", "`ok` or the error"},
        {"rhost", "the PAM remote host (ssh)"},
        {"scope",
         "whose sessions an IC card removal locked: `owner` (the reader's), `seat` (the reader's seat), `terminal`"},
        {"scsi_type", "the SCSI peripheral type the LUN claims (0 disk, 5 CD-ROM, 8 changer, ...)"},
        {"seat", "the logind seat (of the session, or of the device)"},
        {"seat_user", "the user holding the seat when it happened"},
        {"seconds", "how long the step took so far"},
        {"segment", "the journal segment file"},
        {"serial", "serial number the device claims (escaped)"},
        {"service", "the PAM service (`login`, `sshd`, `sudo`, `gdm-password`, ...)"},
        {"session", "the logind session id"},
        {"sessions", "how many sessions were asked to lock"},
        {"sha256", "SHA-256 of the written file"},
        {"size", "bytes: the size hashed, or the size at close"},
        {"skipped_first", "first seq skipped after a crash (never used)"},
        {"skipped_last", "last seq skipped after a crash"},
        {"source", "where events were lost: `queue` (termguardd's), `kernel`, `memory`"},
        {"state",
         "`slow`, `done`, `failed`, `waiting` (USB steps); the idle lock's link to logind (`connecting`, ...)"},
        {"step", "the step that failed: unmount, queue, deauthorize"},
        {"target", "the device or interface the step acted on"},
        {"ticket", "the approval's ticket or file number"},
        {"to", "a renamed file's new path on the medium"},
        {"token", "the token's label in the token registry"},
        {"torn_bytes", "bytes of the torn record cut off"},
        {"torn_offset", "where the torn record began"},
        {"trigger",
         "why the device was judged: attach, startup, register-change, exception-*, reload, seat, token-change"},
        {"tty", "the PAM terminal"},
        {"uid", "the uid of the process that did it (`?` once it has ended)"},
        {"until", "when the exception ends (UTC)"},
        {"used", "bytes the journal uses"},
        {"user", "the user: on the seat (USB), logging in (MFA), or the exception's user"},
        {"version", "termguard's version"},
        {"vid", "vendor id the device claims (4 hex digits)"},
        {"warned", "how the staff member was warned: `console`, `notification`, `console notification` or `none`"},
        {"why", "why it was done"},
};

#define FIELDS(...) ((const char *const[]){__VA_ARGS__, NULL})
#define NO_FIELDS ((const char *const[]){NULL})
#define DEVICE_IDENTITY "vid", "pid", "serial", "manufacturer", "product", "descriptor_sha256"
#define MFA_FIELDS FIELDS("user", "service", "rhost", "tty", "actor", "detail")

#define DAEMON TG_SENDER_DAEMON
#define ROOT (TG_SENDER_DAEMON | TG_SENDER_ROOT)
/* Only failures and configuration errors, which a PAM module inside a screen locker (running
 * as the user) reports when the helper cannot: a user can add noise, never a success. */
#define ANYONE (TG_SENDER_DAEMON | TG_SENDER_ROOT | TG_SENDER_USER)

#define D "7c1b9a8c4f2e4d0fa1a1e3b0b0a1"
#define M "5d0f0c9e3a7b4c1f9e2d8a6b4c3e2f"
static const tg_event_type catalogue[] = {
        {"usb.attach", D "0001", LOG_INFO, DAEMON, 1, "a USB device appeared; its identity and the seat user",
         FIELDS("device", DEVICE_IDENTITY, "user")},
        {"usb.decision", D "0002", LOG_INFO, DAEMON, 1,
         "every decision (warning when something was refused): verdict, reason, per-interface result, label, "
         "exception, seat user, trigger",
         FIELDS("device", DEVICE_IDENTITY, "decision", "label", "exception", "interfaces", "raw_access", "user",
                "trigger")},
        {"usb.detach", D "0003", LOG_INFO, DAEMON, 1, "a USB device went", FIELDS("device", "label", "serial", "user")},
        {"usb.controller-locked", D "0004", LOG_INFO, DAEMON, 1,
         "a controller was set deny-by-default (err: it failed)", FIELDS("controller", "result")},
        {"storage.read-only", D "0005", LOG_INFO, DAEMON, 1, "the write-ban was applied to a medium",
         FIELDS("devnode", "device", "label")},
        {"storage.unmounted", D "0006", LOG_NOTICE, DAEMON, 1, "a medium was unmounted",
         FIELDS("mountpoint", "how", "why")},
        {"register.media-added", D "0007", LOG_NOTICE, DAEMON, 1, "a medium was added to the register",
         FIELDS("label", "vid", "pid", "serial", "department", "mode", "actor")},
        {"register.media-removed", D "0008", LOG_NOTICE, DAEMON, 1, "a medium was removed from the register",
         FIELDS("label", "actor")},
        {"exception.granted", D "0009", LOG_NOTICE, DAEMON, 1, "a write exception was granted",
         FIELDS("exception", "label", "until", "approver", "reason", "ticket", "user", "actor")},
        {"exception.revoked", D "000a", LOG_NOTICE, DAEMON, 1,
         "a write exception was revoked (alone or with its medium)", FIELDS("exception", "label", "actor")},
        {"exception.expired", D "000b", LOG_NOTICE, DAEMON, 1, "a write exception reached its end",
         FIELDS("exception", "label", "until", "approver")},
        {"admin.denied", D "000c", LOG_WARNING, DAEMON, 1, "a non-admin tried to change the register or exceptions",
         FIELDS("command", "actor", "refusals")},
        {"daemon.started", D "000d", LOG_INFO, DAEMON, 1, "termguardd started", FIELDS("version", "config")},
        {"daemon.stopping", D "000e", LOG_INFO, DAEMON, 1, "termguardd is stopping", NO_FIELDS},
        {"config.reloaded", D "000f", LOG_NOTICE, DAEMON, 1, "configuration and register were reloaded",
         FIELDS("config")},
        {"config.reload-failed", D "0010", LOG_ERR, DAEMON, 1, "a reload was refused; the last good policy stays",
         FIELDS("error")},
        {"storage.error", D "0011", LOG_ERR, DAEMON, 1, "a medium could not be made read-only; it was cut off",
         FIELDS("devnode", "error")},
        {"seat.user-changed", D "0012", LOG_INFO, DAEMON, 1,
         "the user holding seat0 changed (devices are judged again)", FIELDS("user")},
        {"storage.unexpected", D "0013", LOG_WARNING, DAEMON, 1,
         "a block device appeared under an interface not admitted as storage; it was cut off",
         FIELDS("devnode", "device", "interface", "lun", "scsi_type", "user")},
        {"clock.set-back", D "0014", LOG_WARNING, DAEMON, 1,
         "the clock is behind the latest time seen: write exceptions do not apply until it catches up",
         FIELDS("now", "latest_seen")},
        {"usb.resync", D "0015", LOG_WARNING, DAEMON, 1, "kernel events were lost; every device was judged again",
         NO_FIELDS},
        {"usb.operation", D "0016", LOG_NOTICE, DAEMON, 1,
         "a kernel step on a device took longer than 5 s, then ended, or failed",
         FIELDS("device", "target", "operation", "state", "seconds", "error")},
        {"storage.cut-off-failed", D "0017", LOG_ERR, DAEMON, 1,
         "a step that cuts removable storage off failed; the remaining steps still ran",
         FIELDS("device", "target", "step", "error", "why")},
        {"usb.driver-refused", D "0018", LOG_WARNING, DAEMON, 1,
         "a driver bound to an interface it may not drive; the interface was cut off",
         FIELDS("device", "interface", "driver", "reason", "label", "user")},
        {"usb.driver-unbound", D "0019", LOG_NOTICE, DAEMON, 1,
         "a driver left an admitted storage interface (warning: a read-only one, re-admitted)",
         FIELDS("device", "interface", "driver", "action", "label", "user")},
        {"media.watch-started", D "0025", LOG_INFO, DAEMON, 1,
         "a medium admitted read-write was mounted read-write and is watched (warning: some operations not "
         "observable)",
         FIELDS("device", "vid", "pid", "serial", "label", "exception", "devnode", "mountpoint", "fstype", "observable",
                "not_observable")},
        {"media.file-written", D "0026", LOG_INFO, DAEMON, 1,
         "a file on a watched medium was closed after writing: its size and SHA-256, or why there is none",
         FIELDS("device", "serial", "label", "exception", "mountpoint", "path", "size", "sha256", "hash", "removed",
                "process_id", "comm", "uid", "user", "seat_user")},
        {"media.file-created", D "0027", LOG_INFO, DAEMON, 1, "a name on a watched medium was created",
         FIELDS("device", "serial", "label", "exception", "mountpoint", "path", "kind", "process_id", "comm", "uid",
                "user", "seat_user")},
        {"media.file-deleted", D "0028", LOG_INFO, DAEMON, 1, "a name on a watched medium was deleted",
         FIELDS("device", "serial", "label", "exception", "mountpoint", "path", "kind", "process_id", "comm", "uid",
                "user", "seat_user")},
        {"media.file-renamed", D "0029", LOG_INFO, DAEMON, 1, "a name on a watched medium was renamed",
         FIELDS("device", "serial", "label", "exception", "mountpoint", "from", "to", "kind", "process_id", "comm",
                "uid", "user", "seat_user")},
        {"media.audit-overflow", D "002a", LOG_ERR, DAEMON, 1,
         "file events on removable media were lost (termguardd's queue full, the kernel's queue overflowed, no memory)",
         FIELDS("device", "source", "events_lost", "group", "error")},
        {"media.audit-unavailable", D "002b", LOG_ERR, DAEMON, 1,
         "termguardd cannot follow the mount table: media are judged as before, but no file written is recorded",
         FIELDS("error")},
        {"media.watch-ended", D "002c", LOG_INFO, DAEMON, 1,
         "the summary of one watch (warning: incomplete or not everything observable)",
         FIELDS("device", "serial", "label", "exception", "mountpoint", "why", "files_written", "bytes_written",
                "files_created", "files_renamed", "files_deleted", "not_hashed", "events_lost", "complete",
                "not_observable")},
        {"idle.attached", D "002d", LOG_INFO, DAEMON, 1,
         "the idle lock follows logind (at start, and after the bus or logind came back)", NO_FIELDS},
        {"idle.unavailable", D "002e", LOG_WARNING, DAEMON, 1,
         "no system bus, no logind or no sleep inhibitor: no session is locked until idle.attached",
         FIELDS("state", "why")},
        {"idle.warning", D "002f", LOG_INFO, DAEMON, 1, "the staff member was warned that the session will be locked",
         FIELDS("session", "user", "seat", "tty", "deadline")},
        {"idle.lock-requested", D "0030", LOG_NOTICE, DAEMON, 1,
         "logind was asked to lock the session (reason: idle, admin, suspend)",
         FIELDS("session", "user", "seat", "tty", "reason", "deadline", "actor")},
        {"idle.lock-confirmed", D "0031", LOG_NOTICE, DAEMON, 1, "logind's LockedHint confirmed the lock",
         FIELDS("session", "user", "seat", "tty")},
        {"idle.lock-failed", D "0032", LOG_WARNING, DAEMON, 1,
         "the lock was not confirmed within ConfirmTimeout: the session is logged off at logoff_at; warned says "
         "how the staff member was told (console, notification, both, or none)",
         FIELDS("session", "user", "seat", "tty", "logoff_at", "warned")},
        {"idle.logoff-cancelled", D "0033", LOG_NOTICE, DAEMON, 1,
         "input during the grace: the session stays and the countdown starts again",
         FIELDS("session", "user", "seat", "tty")},
        {"idle.logged-off", D "0034", LOG_NOTICE, DAEMON, 1,
         "the session was terminated because it could not be locked", FIELDS("session", "user", "seat", "tty")},
        {"idle.logoff-failed", D "0035", LOG_ERR, DAEMON, 1,
         "logind refused to terminate the session: check it by hand",
         FIELDS("session", "user", "seat", "tty", "error")},
        {"idle.suspend-lock", D "0036", LOG_NOTICE, DAEMON, 1,
         "before sleep every session was asked to lock (warning when not all were confirmed)",
         FIELDS("asked", "locked")},
        {"idle.token-lock", D "0037", LOG_NOTICE, DAEMON, 1,
         "a registered token with an owner was unplugged: the owner's sessions were asked to lock",
         FIELDS("token", "owner", "device", "serial", "sessions", "error")},
        {"idle.card-lock", D "0038", LOG_NOTICE, DAEMON, 2,
         "an IC card left a reader named in CardReaders=: its owner's sessions, its seat's local sessions, or (a "
         "reader not placed on one USB device) every local session were asked to lock",
         FIELDS("reader", "scope", "token", "owner", "device", "seat", "sessions", "error")},
        {"token.added", D "0039", LOG_NOTICE, DAEMON, 1, "a token (security key, card reader) was registered",
         FIELDS("label", "kind", "vid", "pid", "serial", "owner", "actor")},
        {"token.removed", D "003a", LOG_NOTICE, DAEMON, 1, "a token was removed from the registry",
         FIELDS("label", "actor")},
        {"usb.missed", D "003b", LOG_NOTICE, DAEMON, 1,
         "a device was unplugged before termguardd could judge it; it was never authorized",
         FIELDS("device", "devnum", "vid", "pid")},
        {"fallback.started", D "003c", LOG_WARNING, DAEMON, 1,
         "termguardd could not start: the degraded mode admits only the USB keyboards and mice present", NO_FIELDS},
        {"fallback.hid-admitted", D "003d", LOG_WARNING, DAEMON, 1,
         "the degraded mode admitted a keyboard or mouse (error when that failed)",
         FIELDS("device", "vid", "pid", "serial", "product", "error")},
        {"fallback.blocked", D "003e", LOG_NOTICE, DAEMON, 1,
         "the degraded mode left a device that is no keyboard or mouse blocked",
         FIELDS("device", "vid", "pid", "serial", "product")},
        {"fallback.done", D "003f", LOG_NOTICE, DAEMON, 1, "the degraded mode finished", FIELDS("admitted")},
        {"storage.lun-removed", D "0040", LOG_WARNING, DAEMON, 1,
         "a LUN that is not a disk on a medium that is not read-write was deleted (SG_IO ignores the read-only flag)",
         FIELDS("device", "interface", "lun", "scsi_type", "label", "user")},
        {"idle.helper-refused", D "0041", LOG_WARNING, DAEMON, 1,
         "a session helper's idle report was refused: the reporting process is not in the session it named, or not "
         "its owner's, or the session's idle time is logind's alone (Wayland, a notify-only helper)",
         FIELDS("session", "uid", "process_id", "why")},
        {"idle.helper-gone", D "0042", LOG_WARNING, DAEMON, 1,
         "the session helper of a session whose desktop gives no IdleHint stopped reporting: the session is locked at "
         "the deadline counted from its last report",
         FIELDS("session", "user", "seat", "tty", "deadline")},
        {"clock.sync-lost", D "001a", LOG_WARNING, DAEMON, 1, "the clock is no longer synchronised", FIELDS("detail")},
        {"clock.sync-regained", D "001b", LOG_NOTICE, DAEMON, 1, "the clock is synchronised again", FIELDS("detail")},
        {"journal.recovered", D "001c", LOG_WARNING, DAEMON, 1,
         "at open the journal ended in a torn record (cut off) or seqs were skipped or lost after a crash",
         FIELDS("segment", "torn_offset", "torn_bytes", "lost_first", "lost_last", "skipped_first", "skipped_last")},
        {"journal.checkpoint", D "001d", LOG_INFO, DAEMON, 1,
         "the chain head, every CheckpointInterval and at shutdown: keep it off the host for verify --checkpoint",
         FIELDS("head_seq", "head_mac")},
        {"journal.near-cap", D "001e", LOG_WARNING, DAEMON, 1, "the journal is close to its size cap",
         FIELDS("used", "cap")},
        {"journal.full", D "001f", LOG_CRIT, DAEMON, 1,
         "the journal reached its cap: storage decisions fail closed, MFA records spool", FIELDS("used", "cap")},
        {"journal.unwritable", D "0020", LOG_CRIT, DAEMON, 1,
         "the journal cannot be written (disk full, I/O error): storage decisions fail closed", FIELDS("error")},
        {"journal.pruned", D "0023", LOG_INFO, DAEMON, 1, "retention deleted forwarded segments; the chain goes on",
         FIELDS("pruned_through", "head_mac")},
        {"journal.prune-failed", D "0043", LOG_ERR, DAEMON, 1,
         "retention could not delete old forwarded segments (the directory or a file cannot be changed): nothing "
         "unforwarded is at risk, but the journal may fill up",
         FIELDS("error", "pruned_through")},
        {"journal.initialized", D "0024", LOG_NOTICE, DAEMON, 1, "the first record of a new journal and key chain",
         FIELDS("host_id")},
        {"spool.taken-in", D "0021", LOG_NOTICE, DAEMON, 1,
         "records spooled while termguardd was not running were taken into the journal", FIELDS("records", "error")},
        {"record.refused", D "0022", LOG_WARNING, DAEMON, 1,
         "a process handed termguardd a record it may not submit (type not allowed for it, malformed)",
         FIELDS("claimed_type", "reason", "refusals")},
        {"mfa.success", M "01", LOG_INFO, ROOT, 1, "code or recovery code accepted", MFA_FIELDS},
        {"mfa.failure", M "02", LOG_WARNING, ANYONE, 1,
         "wrong password or code, not enrolled, unusable user name, state or helper error (err)", MFA_FIELDS},
        {"mfa.lockout", M "03", LOG_WARNING, ROOT, 1, "this failure reached MaxFailures", MFA_FIELDS},
        {"mfa.refused-locked", M "04", LOG_WARNING, ROOT, 1, "refused because the account is locked", MFA_FIELDS},
        {"mfa.rollout-pass", M "05", LOG_NOTICE, ROOT, 1, "not enrolled, let through in the rollout window",
         MFA_FIELDS},
        {"mfa.config-error", M "06", LOG_ERR, ANYONE, 1, "configuration unreadable or invalid: refused", MFA_FIELDS},
        {"mfa.enroll", M "07", LOG_NOTICE, ROOT, 1, "`termguardctl mfa enroll` saved a new factor", MFA_FIELDS},
        {"mfa.reset", M "08", LOG_NOTICE, ROOT, 1, "`termguardctl mfa reset` removed the factor", MFA_FIELDS},
        {"mfa.recovery-codes", M "09", LOG_NOTICE, ROOT, 1, "`termguardctl mfa recovery-codes` issued new codes",
         MFA_FIELDS},
        {"mfa.unlock", M "0a", LOG_NOTICE, ROOT, 1, "`termguardctl mfa unlock` lifted a lock", MFA_FIELDS},
        {"mfa.helper-refused", M "0b", LOG_WARNING, ROOT, 1, "the helper was asked about another account", MFA_FIELDS},
        {"mfa.account-refused", M "0c", LOG_WARNING, ROOT, 1,
         "the account phase refused a covered user who gave no code in that login", MFA_FIELDS},
        {"mfa.clock-jump", M "0d", LOG_WARNING, ROOT, 1,
         "the clock was before 2026, or set back or far ahead of a stored time: that attempt was not counted, "
         "a lock was cut to LockoutTime (detail: old and new times)",
         MFA_FIELDS},
};
#undef D
#undef M

const tg_event_type *tg_event_catalogue(size_t *ret_n) {
        *ret_n = ELEMENTSOF(catalogue);
        return catalogue;
}

const tg_event_field *tg_event_fields(size_t *ret_n) {
        *ret_n = ELEMENTSOF(fields);
        return fields;
}

const tg_event_type *tg_event_lookup(const char *type) {
        for (size_t i = 0; type && i < ELEMENTSOF(catalogue); i++)
                if (strcmp(catalogue[i].type, type) == 0)
                        return &catalogue[i];
        return NULL;
}

bool tg_event_has_field(const tg_event_type *t, const char *field) {
        for (const char *const *f = t->fields; *f; f++)
                if (strcmp(*f, field) == 0)
                        return true;
        return false;
}

const char *tg_event_field_meaning(const char *field) {
        for (size_t i = 0; i < ELEMENTSOF(fields); i++)
                if (strcmp(fields[i].name, field) == 0)
                        return fields[i].meaning;
        return NULL;
}

bool tg_event_sender_may(const tg_event_type *t, tg_event_senders sender) {
        return (t->senders & sender) != 0;
}

static const char *priority_name(int priority) {
        static const char *const names[] = {"emerg", "alert", "crit", "err", "warning", "notice", "info", "debug"};
        return names[priority & 7];
}

static const char *senders_name(unsigned senders) {
        if (senders & TG_SENDER_USER)
                return "any process";
        if (senders & TG_SENDER_ROOT)
                return "root";
        return "termguardd";
}

char *tg_event_catalogue_markdown(void) {
        _cleanup_free_ char *buf = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&buf, &size);

        if (!f)
                return NULL;
        fprintf(f, "%s\n\n", TG_EVENT_DOCS_BEGIN);
        fputs("| event | `MESSAGE_ID` | priority | sent by | schema | fields | when |\n", f);
        fputs("|---|---|---|---|---|---|---|\n", f);
        for (size_t i = 0; i < ELEMENTSOF(catalogue); i++) {
                const tg_event_type *t = &catalogue[i];
                fprintf(f, "| `%s` | `%s` | %s (%d) | %s | %u | ", t->type, t->message_id, priority_name(t->priority),
                        t->priority, senders_name(t->senders), t->schema);
                for (const char *const *n = t->fields; *n; n++)
                        fprintf(f, "%s`%s`", n == t->fields ? "" : ", ", *n);
                fprintf(f, " | %s |\n", t->when);
        }
        fputs("\n| field | meaning |\n|---|---|\n", f);
        for (size_t i = 0; i < ELEMENTSOF(fields); i++)
                fprintf(f, "| `%s` | %s |\n", fields[i].name, fields[i].meaning);
        fprintf(f, "\n%s\n", TG_EVENT_DOCS_END);
        if (fclose(f) != 0)
                return NULL;
        return TAKE_PTR(buf);
}
