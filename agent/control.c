/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The control socket: one JSON request per connection, one JSON reply. Anyone may read state;
 * changes to the register and exceptions need root or the configured admin group, decided
 * from the kernel's peer credentials, and every change records who made it.
 */
#define _GNU_SOURCE
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <syslog.h>
#include <unistd.h>

#include <json-c/json.h>

#include "cleanup.h"
#include "control.h"
#include "event.h"
#include "idle-lock.h"
#include "intake.h"
#include "manager.h"
#include "own-records.h"
#include "socket-server.h"
#include "notify.h"
#include "retention.h"
#include "termguard/account.h"
#include "termguard/central.h"
#include "termguard/control-proto.h"
#include "termguard/escape.h"
#include "termguard/macro.h"

#define CONNECTIONS_MAX 64
/* Administrators can always get in: other users share fewer slots, a few each. */
#define CONNECTIONS_NON_ADMIN_MAX 48
#define CONNECTIONS_PER_USER_MAX 4
/* At most one admin.denied record per user in this interval; the rest are counted. */
#define DENIED_RECORD_INTERVAL_USEC (10 * 1000000ULL)
#define CONNECTION_TIMEOUT_USEC (5 * 1000000ULL)

typedef struct {
        ServerConnection base; /* first: the socket server's part */
        char *in;
        size_t in_len;
        char *out;
        size_t out_len, out_off;
        ControlPeer peer;
} Connection;

static void connection_done(ServerConnection *sc) {
        Connection *c = (Connection *) sc;
        free(c->in);
        free(c->out);
}

static void connection_free(Connection *c) {
        socket_server_close(&c->base);
}

/* "alice" for a user; for root, also the login user the audit subsystem recorded, so
 * "sudo termguardctl" is attributed to the person. */
static void actor_name(const ControlPeer *p, char *buf, size_t size) {
        uid_t login = (uid_t) -1;

        if (p->cred.uid == 0 && tg_loginuid_read(p->cred.pid, &login) < 0)
                login = (uid_t) -1;
        tg_actor_describe(p->cred.uid, login, buf, size);
}

/* The forwarder's user, looked up at each call: termguardctl central enroll may create it while
 * the daemon runs. A lookup that fails is no match: only root moves the mark then. */
static bool is_forwarder(const ControlPeer *p) {
        tg_account a;
        if (p->cred.uid == 0)
                return true;
        return tg_account_by_name(TG_FORWARDER_USER, &a) == 0 && a.uid == p->cred.uid;
}

static bool is_admin(const Manager *m, const ControlPeer *p) {
        gid_t admin;

        if (p->cred.uid == 0)
                return true;
        if (!m->cfg.admin_group[0] || tg_group_gid(m->cfg.admin_group, &admin) <= 0)
                return false;
        if (p->cred.gid == admin)
                return true;
        for (int i = 0; i < p->n_groups; i++)
                if (p->groups[i] == admin)
                        return true;
        return false;
}

/* A change to the register in the making: the handlers of mutating commands change a copy and
 * stage the records that describe the change; the dispatcher saves the copy, then makes every
 * staged record, then applies the change. A saved change is always recorded, and nothing is
 * recorded as done that was not saved. */
#define RECORD_PAIRS_MAX 10
typedef struct {
        const char *type, *message;
        char *kv[2 * RECORD_PAIRS_MAX];
} Record;

typedef struct {
        tg_register reg;
        const char *trigger; /* what the gate is told when the change applies */
        Record *records;
        size_t n_records;
} Change;

static void change_clear(Change *ch) {
        tg_register_clear(&ch->reg);
        for (size_t i = 0; i < ch->n_records; i++)
                for (size_t k = 0; k < ELEMENTSOF(ch->records[i].kv); k++)
                        free(ch->records[i].kv[k]);
        free(ch->records);
        *ch = (Change){0};
}

/* Stages a record: pairs of key and already-escaped value, terminated by NULL. The strings
 * belong to ch->records (change_clear() frees them); gcc 12's analyzer loses them once they
 * are stored at a computed index of a realloc()ed array and reports them as leaked. */
static int change_record(Change *ch, const char *type, const char *message, ...) __attribute__((sentinel));
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wpragmas" /* gcc without -fanalyzer */
#pragma GCC diagnostic ignored "-Wanalyzer-malloc-leak"
#endif
static int change_record(Change *ch, const char *type, const char *message, ...) {
        Record *p, *rec;
        va_list ap;
        size_t k = 0;
        int r = 0;

        p = realloc(ch->records, (ch->n_records + 1) * sizeof(*p));
        if (!p)
                return -ENOMEM;
        ch->records = p;
        rec = &ch->records[ch->n_records++];
        *rec = (Record){.type = type, .message = message};
        va_start(ap, message);
        for (const char *key = va_arg(ap, const char *); key && r == 0; key = va_arg(ap, const char *)) {
                const char *value = va_arg(ap, const char *);
                char *dk, *dv;

                if (k + 2 > ELEMENTSOF(rec->kv)) {
                        r = -E2BIG; /* a bug in a handler: refuse the change rather than cut its record */
                        break;
                }
                dk = strdup(key);
                dv = strdup(value ? value : "");
                rec->kv[k] = dk;
                rec->kv[k + 1] = dv;
                if (!dk || !dv)
                        r = -ENOMEM;
                k += 2;
        }
        va_end(ap);
        return r;
}
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

static void change_emit(const Change *ch) {
        for (size_t i = 0; i < ch->n_records; i++) {
                char *const *kv = ch->records[i].kv;
                /* unused pairs are NULL: the first NULL key ends the list */
                event_emit(ch->records[i].type, LOG_NOTICE, ch->records[i].message, kv[0], kv[1], kv[2], kv[3], kv[4],
                           kv[5], kv[6], kv[7], kv[8], kv[9], kv[10], kv[11], kv[12], kv[13], kv[14], kv[15], kv[16],
                           kv[17], kv[18], kv[19], NULL);
        }
}

typedef struct {
        Manager *m;
        const tg_ctl_request *req;
        const char *actor;
        uid_t uid;
        pid_t pid;
        bool admin;
        int fd;           /* the connection (peer->fd) */
        bool handed_over; /* the connection is notify.c's now */
        Change *change;   /* mutating commands only */
} Call;

static json_object *oom_reply(void) {
        return tg_ctl_reply_error(TG_CTL_ERR_INTERNAL, "out of memory");
}

static json_object *medium_json(const tg_medium *md) {
        json_object *o = json_object_new_object();
        char vid[8], pid[8], t[32];
        snprintf(vid, sizeof(vid), "%04x", md->vid);
        snprintf(pid, sizeof(pid), "%04x", md->pid);
        tg_format_iso8601(md->added_at, t, sizeof(t));
        tg_ctl_put_string(o, TG_F_LABEL, md->label);
        tg_ctl_put_string(o, TG_F_VID, vid);
        tg_ctl_put_string(o, TG_F_PID, pid);
        tg_ctl_put_string(o, TG_F_SERIAL, md->serial);
        tg_ctl_put_string(o, TG_F_DEPARTMENT, md->department);
        tg_ctl_put_string(o, TG_F_MODE, tg_mode_to_string(md->mode));
        tg_ctl_put_string(o, TG_F_ADDED_BY, md->added_by);
        tg_ctl_put_string(o, TG_F_ADDED_AT, t);
        return o;
}

static json_object *exception_json(const tg_exception *e, int64_t now) {
        json_object *o = json_object_new_object();
        char t[32];
        tg_ctl_put_int(o, TG_F_ID, (int64_t) e->id);
        tg_ctl_put_string(o, TG_F_LABEL, e->label);
        tg_format_iso8601(e->until, t, sizeof(t));
        tg_ctl_put_string(o, TG_F_UNTIL, t);
        tg_ctl_put_string(o, TG_F_STATE, tg_exception_state_to_string(tg_exception_state_at(e, now)));
        tg_ctl_put_string(o, TG_F_APPROVER, e->approver);
        tg_ctl_put_string(o, TG_F_REASON, e->reason);
        tg_ctl_put_string(o, TG_F_TICKET, e->ticket);
        tg_ctl_put_string(o, TG_F_USER, e->user);
        tg_ctl_put_string(o, TG_F_GRANTED_BY, e->granted_by);
        tg_format_iso8601(e->granted_at, t, sizeof(t));
        tg_ctl_put_string(o, TG_F_GRANTED_AT, t);
        if (e->revoked_at) {
                tg_format_iso8601(e->revoked_at, t, sizeof(t));
                tg_ctl_put_string(o, TG_F_REVOKED_AT, t);
                tg_ctl_put_string(o, TG_F_REVOKED_BY, e->revoked_by);
        }
        return o;
}

static void copy_arg(const tg_ctl_request *req, tg_ctl_field f, char *buf, size_t size) {
        /* the protocol bounded it by the register's limit */
        snprintf(buf, size, "%s", req->has[f] ? req->str[f] : "");
}

static json_object *cmd_media_add(Call *call) {
        const tg_ctl_request *req = call->req;
        Change *ch = call->change;
        tg_medium md = {0};
        char err[256], vid[8], pid[8];

        md.vid = (uint16_t) req->num[TG_F_VID];
        md.pid = (uint16_t) req->num[TG_F_PID];
        copy_arg(req, TG_F_LABEL, md.label, sizeof(md.label));
        copy_arg(req, TG_F_SERIAL, md.serial, sizeof(md.serial));
        copy_arg(req, TG_F_DEPARTMENT, md.department, sizeof(md.department));
        /* the write-ban is the default */
        md.mode = req->has[TG_F_MODE] ? (tg_mode) req->num[TG_F_MODE] : TG_MODE_READ_ONLY;
        snprintf(md.added_by, sizeof(md.added_by), "%s", call->actor);
        md.added_at = tg_now();
        if (tg_register_add_medium(&ch->reg, &md, err, sizeof(err)) < 0)
                return tg_ctl_reply_error(TG_CTL_ERR_INVALID, "%s", err);
        snprintf(vid, sizeof(vid), "%04x", md.vid);
        snprintf(pid, sizeof(pid), "%04x", md.pid);
        if (change_record(ch, "register.media-added", "Medium added to the register", "label", md.label, "vid", vid,
                          "pid", pid, "serial", md.serial, "department", md.department, "mode",
                          tg_mode_to_string(md.mode), "actor", call->actor, NULL) < 0)
                return oom_reply();
        ch->trigger = "register-change";
        return tg_ctl_reply_ok();
}

static json_object *cmd_media_remove(Call *call) {
        Change *ch = call->change;
        const char *label = call->req->str[TG_F_LABEL];
        int64_t now = tg_now();
        char esc[128];

        if (!tg_register_find_label(&ch->reg, label)) {
                tg_escape_str(label, esc, sizeof(esc));
                return tg_ctl_reply_error(TG_CTL_ERR_NOT_FOUND, "no medium with label \"%s\" in the register", esc);
        }
        (void) tg_register_remove_medium(&ch->reg, label);
        if (change_record(ch, "register.media-removed", "Medium removed from the register", "label", label, "actor",
                          call->actor, NULL) < 0)
                return oom_reply();
        /* Exceptions for a label that no longer exists end with it, each on the record. */
        for (size_t i = 0; i < ch->reg.n_exceptions; i++) {
                const tg_exception *e = &ch->reg.exceptions[i];
                char idbuf[24];
                int r;

                if (strcmp(e->label, label) != 0 || tg_exception_state_at(e, now) != TG_EXC_ACTIVE)
                        continue;
                r = tg_register_revoke_exception(&ch->reg, e->id, call->actor, now);
                if (r < 0)
                        return tg_ctl_reply_error(TG_CTL_ERR_INTERNAL, "could not end exception %" PRIu64 ": %s", e->id,
                                                  strerror(-r));
                snprintf(idbuf, sizeof(idbuf), "%" PRIu64, e->id);
                r = change_record(ch, "exception.revoked", "Write exception revoked with its medium", "exception",
                                  idbuf, "label", label, "actor", call->actor, NULL);
                if (r < 0)
                        return oom_reply();
        }
        ch->trigger = "register-change";
        return tg_ctl_reply_ok();
}

static json_object *cmd_exception_grant(Call *call) {
        const tg_ctl_request *req = call->req;
        Change *ch = call->change;
        tg_exception ex = {0};
        char err[256], idbuf[24], until[32];
        uint64_t id;
        json_object *o;

        copy_arg(req, TG_F_LABEL, ex.label, sizeof(ex.label));
        copy_arg(req, TG_F_APPROVER, ex.approver, sizeof(ex.approver));
        copy_arg(req, TG_F_REASON, ex.reason, sizeof(ex.reason));
        copy_arg(req, TG_F_TICKET, ex.ticket, sizeof(ex.ticket));
        copy_arg(req, TG_F_USER, ex.user, sizeof(ex.user));
        ex.until = req->num[TG_F_UNTIL];
        if (ex.user[0]) {
                tg_account a;
                int r = tg_account_by_name(ex.user, &a);
                /* A lookup that failed is not "no such user": nothing is granted on it. */
                if (r == -ENOENT)
                        return tg_ctl_reply_error(TG_CTL_ERR_INVALID, "user: no such user on this terminal");
                if (r < 0)
                        return tg_ctl_reply_error(TG_CTL_ERR_INTERNAL, "user: cannot look up %s: %s", ex.user,
                                                  strerror(-r));
        }
        snprintf(ex.granted_by, sizeof(ex.granted_by), "%s", call->actor);
        ex.granted_at = tg_now();
        if (tg_register_add_exception(&ch->reg, &ex, tg_now(), call->m->cfg.max_exception_duration, &id, err,
                                      sizeof(err)) < 0)
                return tg_ctl_reply_error(TG_CTL_ERR_INVALID, "%s", err);
        snprintf(idbuf, sizeof(idbuf), "%" PRIu64, id);
        tg_format_iso8601(ex.until, until, sizeof(until));
        if (change_record(ch, "exception.granted", "Write exception granted", "exception", idbuf, "label", ex.label,
                          "until", until, "approver", ex.approver, "reason", ex.reason, "ticket", ex.ticket, "user",
                          ex.user, "actor", call->actor, NULL) < 0)
                return oom_reply();
        ch->trigger = "exception-granted";
        o = tg_ctl_reply_ok();
        tg_ctl_put_int(o, TG_F_ID, (int64_t) id);
        return o;
}

static json_object *cmd_exception_revoke(Call *call) {
        Change *ch = call->change;
        int64_t id = call->req->num[TG_F_ID];
        char idbuf[24];
        int r;

        r = tg_register_revoke_exception(&ch->reg, (uint64_t) id, call->actor, tg_now());
        if (r == -ENOENT)
                return tg_ctl_reply_error(TG_CTL_ERR_NOT_FOUND, "no exception %" PRId64, id);
        if (r < 0)
                return tg_ctl_reply_error(TG_CTL_ERR_INVALID, "exception %" PRId64 " is not active", id);
        snprintf(idbuf, sizeof(idbuf), "%" PRId64, id);
        if (change_record(ch, "exception.revoked", "Write exception revoked", "exception", idbuf, "actor", call->actor,
                          NULL) < 0)
                return oom_reply();
        ch->trigger = "exception-revoked";
        return tg_ctl_reply_ok();
}

static json_object *cmd_media_list(Call *call) {
        Manager *m = call->m;
        json_object *o = tg_ctl_reply_ok(), *a = json_object_new_array();
        for (size_t i = 0; i < m->reg.n_media; i++)
                json_object_array_add(a, medium_json(&m->reg.media[i]));
        tg_ctl_put_list(o, TG_F_MEDIA, a);
        return o;
}

static json_object *cmd_exception_list(Call *call) {
        Manager *m = call->m;
        json_object *o = tg_ctl_reply_ok(), *a = json_object_new_array();
        int64_t now = tg_now();
        for (size_t i = 0; i < m->reg.n_exceptions; i++)
                json_object_array_add(a, exception_json(&m->reg.exceptions[i], now));
        tg_ctl_put_list(o, TG_F_EXCEPTIONS, a);
        return o;
}

static json_object *cmd_devices(Call *call) {
        json_object *o = tg_ctl_reply_ok(), *a = json_object_new_array();
        for (Device *d = call->m->devices; d; d = d->next) {
                json_object *x = json_object_new_object(), *ifs = json_object_new_array();
                char vid[8], pid[8];
                snprintf(vid, sizeof(vid), "%04x", d->desc.vid);
                snprintf(pid, sizeof(pid), "%04x", d->desc.pid);
                tg_ctl_put_string(x, TG_F_DEVICE, d->sysname);
                tg_ctl_put_string(x, TG_F_VID, vid);
                tg_ctl_put_string(x, TG_F_PID, pid);
                /* Users see why a device was refused, not the serial to clone a registered one. */
                tg_ctl_put_string(x, TG_F_SERIAL, call->admin ? d->serial_esc : "");
                tg_ctl_put_string(x, TG_F_MANUFACTURER, d->manufacturer_esc);
                tg_ctl_put_string(x, TG_F_PRODUCT, d->product_esc);
                tg_ctl_put_string(x, TG_F_DESCRIPTOR_SHA256, d->descriptors_ok ? d->desc.hash : "");
                tg_ctl_put_bool(x, TG_F_AUTHORIZED, d->decision.authorize_device);
                tg_ctl_put_string(x, TG_F_STORAGE,
                                  d->decision.has_storage ? tg_mode_to_string(d->decision.storage_mode) : "none");
                tg_ctl_put_string(x, TG_F_LABEL, d->decision.label);
                tg_ctl_put_int(x, TG_F_EXCEPTION, (int64_t) d->decision.exception_id);
                tg_ctl_put_string(x, TG_F_REASON, d->decision.reason);
                for (size_t i = 0; i < d->decision.n_ifaces; i++) {
                        const tg_iface_verdict *v = &d->decision.ifaces[i];
                        json_object *f = json_object_new_object();
                        char cls[4];
                        snprintf(cls, sizeof(cls), "%02x", v->cls);
                        tg_ctl_put_int(f, TG_F_CONFIG, v->config_value);
                        tg_ctl_put_int(f, TG_F_INTERFACE, v->number);
                        tg_ctl_put_string(f, TG_F_CLASS, cls);
                        tg_ctl_put_string(f, TG_F_CLASS_NAME, tg_usb_class_name(v->cls));
                        tg_ctl_put_bool(f, TG_F_ALLOWED, v->allow);
                        tg_ctl_put_string(f, TG_F_REASON, v->reason);
                        json_object_array_add(ifs, f);
                }
                tg_ctl_put_list(x, TG_F_INTERFACES, ifs);
                json_object_array_add(a, x);
        }
        tg_ctl_put_list(o, TG_F_DEVICES, a);
        return o;
}

static void put_time_usec(json_object *o, tg_ctl_field f, uint64_t t) {
        char buf[TG_ISO8601_MAX] = "";
        if (t)
                tg_format_iso8601((int64_t) (t / 1000000), buf, sizeof(buf));
        tg_ctl_put_string(o, f, buf);
}

/* Retention of the journal: the period, the oldest record kept (and so what was pruned), the
 * next prune planned, the last prune's error. */
static void put_retention(json_object *o, const Manager *m) {
        retention_info ri;
        uint64_t oldest_seq;
        int64_t oldest_usec;

        retention_status(m, &ri);
        tg_ctl_put_int(o, TG_F_JOURNAL_MAX_AGE, ri.max_age);
        if (event_journal_oldest(&oldest_seq, &oldest_usec) == 0) {
                tg_ctl_put_int(o, TG_F_JOURNAL_OLDEST_SEQ, (int64_t) oldest_seq);
                put_time_usec(o, TG_F_JOURNAL_OLDEST_AT, oldest_usec > 0 ? (uint64_t) oldest_usec : 0);
                tg_ctl_put_int(o, TG_F_JOURNAL_PRUNED_THROUGH, (int64_t) (oldest_seq > 0 ? oldest_seq - 1 : 0));
        }
        put_time_usec(o, TG_F_JOURNAL_NEXT_PRUNE_AT, ri.next_prune_at > 0 ? (uint64_t) ri.next_prune_at : 0);
        tg_ctl_put_string(o, TG_F_JOURNAL_PRUNE_ERROR, ri.last_error ? strerror(-ri.last_error) : "");
}

/* The idle lock's sessions: every one for administrators, their own for other users. */
static json_object *sessions_json(Call *call) {
        json_object *a = json_object_new_array();
        for (const IdleSession *s = idle_lock_sessions(call->m); s; s = s->next) {
                json_object *x;
                if (!call->admin && s->info.uid != call->uid)
                        continue;
                /* the strings were escaped when read from logind */
                x = json_object_new_object();
                tg_ctl_put_string(x, TG_F_SESSION, s->info.id);
                tg_ctl_put_string(x, TG_F_USER, s->info.user);
                tg_ctl_put_string(x, TG_F_SESSION_TYPE, s->info.type);
                tg_ctl_put_string(x, TG_F_SEAT, s->info.seat);
                tg_ctl_put_string(x, TG_F_TTY, s->info.tty);
                tg_ctl_put_bool(x, TG_F_REMOTE, s->info.remote);
                tg_ctl_put_bool(x, TG_F_IDLE, s->info.idle_hint);
                put_time_usec(x, TG_F_IDLE_SINCE, s->info.idle_since);
                tg_ctl_put_bool(x, TG_F_LOCKED, s->info.locked_hint);
                tg_ctl_put_string(x, TG_F_STATE, tg_idle_phase_to_string(s->st.phase));
                tg_ctl_put_int(x, TG_F_LOCK_AFTER,
                               s->privileged ? call->m->cfg.idle_privileged_lock_after : call->m->cfg.idle_lock_after);
                put_time_usec(x, TG_F_DEADLINE, idle_lock_deadline(call->m, s));
                put_time_usec(x, TG_F_LOGOFF_AT, s->st.phase == TG_IDLE_LOGOFF_PENDING ? s->st.logoff_at : 0);
                /* only for sessions whose idle time comes from a session helper */
                if (s->st.helper_report_at && !s->info.idle_hint)
                        put_time_usec(x, TG_F_HELPER_REPORT_AT, s->st.helper_report_at);
                json_object_array_add(a, x);
        }
        return a;
}

static json_object *cmd_status(Call *call) {
        Manager *m = call->m;
        json_object *o = tg_ctl_reply_ok();
        char t[32];
        size_t active = 0;
        int64_t now = tg_now(), next = tg_register_next_expiry(&m->reg, now);

        for (size_t i = 0; i < m->reg.n_exceptions; i++)
                if (tg_exception_state_at(&m->reg.exceptions[i], now) == TG_EXC_ACTIVE)
                        active++;
        tg_ctl_put_string(o, TG_F_VERSION, TG_VERSION);
        tg_ctl_put_int(o, TG_F_PROCESS_ID, (int64_t) getpid());
        tg_format_iso8601(m->started_at, t, sizeof(t));
        tg_ctl_put_string(o, TG_F_STARTED_AT, t);
        tg_ctl_put_string(o, TG_F_CONFIG_ROOT, m->config_root);
        tg_ctl_put_string(o, TG_F_STATE_DIRECTORY, m->cfg.state_dir);
        tg_ctl_put_string(o, TG_F_ADMIN_GROUP, m->cfg.admin_group);
        tg_ctl_put_int(o, TG_F_CONTROLLERS_LOCKED, (int64_t) m->n_controllers);
        tg_ctl_put_int(o, TG_F_DEVICE_COUNT, (int64_t) m->n_devices);
        tg_ctl_put_int(o, TG_F_MEDIA_REGISTERED, (int64_t) m->reg.n_media);
        tg_ctl_put_int(o, TG_F_EXCEPTIONS_ACTIVE, (int64_t) active);
        if (next) {
                tg_format_iso8601(next, t, sizeof(t));
                tg_ctl_put_string(o, TG_F_NEXT_EXPIRY, t);
        }
        tg_ctl_put_bool(o, TG_F_UDEV_RUNNING, m->udev_running);
        tg_format_iso8601(m->last_reload_at, t, sizeof(t));
        tg_ctl_put_string(o, TG_F_LAST_RELOAD_AT, t);
        tg_ctl_put_string(o, TG_F_LAST_RELOAD_ERROR, m->last_reload_error);
        event_journal_info j;
        event_journal_status(&j);
        tg_ctl_put_string(o, TG_F_JOURNAL, event_journal_state_to_string(j.state));
        tg_ctl_put_int(o, TG_F_JOURNAL_USED, (int64_t) j.used_bytes);
        tg_ctl_put_int(o, TG_F_JOURNAL_MAX, (int64_t) j.max_bytes);
        tg_ctl_put_int(o, TG_F_JOURNAL_NEXT_SEQ, (int64_t) j.next_seq);
        int waiting = intake_spool_waiting(m);
        tg_ctl_put_int(o, TG_F_SPOOL_WAITING, waiting < 0 ? -1 : waiting);
        tg_ctl_put_int(o, TG_F_JOURNAL_FORWARDED_SEQ, (int64_t) j.forwarded_seq);
        /* pending from the journal itself, not from the forwarder: what retention must keep */
        tg_ctl_put_int(o, TG_F_JOURNAL_PENDING,
                       (int64_t) (j.next_seq > j.forwarded_seq + 1 ? j.next_seq - 1 - j.forwarded_seq : 0));
        put_time_usec(o, TG_F_FORWARDER_REPORT_AT, (uint64_t) m->forwarder.report_at);
        put_time_usec(o, TG_F_FORWARDER_LAST_COMMIT_AT, (uint64_t) m->forwarder.last_commit_at);
        tg_ctl_put_string(o, TG_F_FORWARDER_LAST_ERROR, m->forwarder.last_error);
        put_retention(o, m);
        tg_ctl_put_string(o, TG_F_IDLE_LOCK, logind_state_to_string(idle_lock_state(m)));
        tg_ctl_put_list(o, TG_F_SESSIONS, sessions_json(call));
        return o;
}

/* ---- the token registry: copy, change, save, record, then take the copy ---- */

static json_object *token_json(const tg_token *t) {
        json_object *o = json_object_new_object();
        char vid[8], pid[8], at[TG_ISO8601_MAX];
        snprintf(vid, sizeof(vid), "%04x", t->vid);
        snprintf(pid, sizeof(pid), "%04x", t->pid);
        tg_format_iso8601(t->added_at, at, sizeof(at));
        tg_ctl_put_string(o, TG_F_LABEL, t->label);
        tg_ctl_put_string(o, TG_F_KIND, tg_token_kind_to_string(t->kind));
        tg_ctl_put_string(o, TG_F_VID, vid);
        tg_ctl_put_string(o, TG_F_PID, pid);
        tg_ctl_put_string(o, TG_F_SERIAL, t->serial);
        tg_ctl_put_string(o, TG_F_OWNER, t->owner);
        tg_ctl_put_string(o, TG_F_ADDED_BY, t->added_by);
        tg_ctl_put_string(o, TG_F_ADDED_AT, at);
        return o;
}

static json_object *cmd_token_list(Call *call) {
        json_object *o = tg_ctl_reply_ok(), *a = json_object_new_array();
        for (size_t i = 0; i < call->m->tokens.n_tokens; i++)
                json_object_array_add(a, token_json(&call->m->tokens.tokens[i]));
        tg_ctl_put_list(o, TG_F_TOKENS, a);
        return o;
}

/* Saves the changed copy; recorded only once saved. The caller re-judges the devices
 * (token_applied): the registry decides their raw access. */
static json_object *token_commit(Call *call, tg_token_registry *copy) {
        int r = tg_token_registry_save(call->m->tokens_path, copy);
        if (r < 0) {
                tg_token_registry_clear(copy);
                return tg_ctl_reply_error(TG_CTL_ERR_IO, "could not save the token registry: %s; nothing was changed",
                                          strerror(-r));
        }
        tg_token_registry_clear(&call->m->tokens);
        call->m->tokens = *copy;
        return NULL;
}

static json_object *cmd_token_add(Call *call) {
        const tg_ctl_request *req = call->req;
        tg_token_registry copy;
        tg_token t = {0};
        json_object *fail;
        char err[256];

        copy_arg(req, TG_F_LABEL, t.label, sizeof(t.label));
        copy_arg(req, TG_F_SERIAL, t.serial, sizeof(t.serial));
        copy_arg(req, TG_F_OWNER, t.owner, sizeof(t.owner));
        t.kind = (tg_token_kind) req->num[TG_F_KIND];
        t.vid = (uint16_t) req->num[TG_F_VID];
        t.pid = (uint16_t) req->num[TG_F_PID];
        snprintf(t.added_by, sizeof(t.added_by), "%s", call->actor);
        t.added_at = tg_now();
        if (t.owner[0]) {
                tg_account a;
                int r = tg_account_by_name(t.owner, &a);
                if (r == -ENOENT)
                        return tg_ctl_reply_error(TG_CTL_ERR_INVALID, "owner: no such user on this terminal");
                if (r < 0)
                        return tg_ctl_reply_error(TG_CTL_ERR_INTERNAL, "owner: cannot look up %s: %s", t.owner,
                                                  strerror(-r));
        }
        if (tg_token_registry_copy(&call->m->tokens, &copy) < 0)
                return oom_reply();
        if (tg_token_add(&copy, &t, err, sizeof(err)) < 0) {
                tg_token_registry_clear(&copy);
                return tg_ctl_reply_error(TG_CTL_ERR_INVALID, "%s", err);
        }
        fail = token_commit(call, &copy);
        if (fail)
                return fail;
        char vid[8], pid[8];
        snprintf(vid, sizeof(vid), "%04x", t.vid);
        snprintf(pid, sizeof(pid), "%04x", t.pid);
        event_emit("token.added", LOG_NOTICE, "Token registered", "label", t.label, "kind",
                   tg_token_kind_to_string(t.kind), "vid", vid, "pid", pid, "serial", t.serial, "owner", t.owner,
                   "actor", call->actor, NULL);
        manager_apply(call->m, "token-change");
        return tg_ctl_reply_ok();
}

static json_object *cmd_token_remove(Call *call) {
        const char *label = call->req->str[TG_F_LABEL];
        const tg_token *t = tg_token_find_label(&call->m->tokens, label);
        tg_token_registry copy;
        json_object *fail;
        char esc[128], err[256];

        tg_escape_str(label, esc, sizeof(esc));
        if (!t)
                return tg_ctl_reply_error(TG_CTL_ERR_NOT_FOUND, "no token with label \"%s\"", esc);
        if (t->from_config)
                return tg_ctl_reply_error(TG_CTL_ERR_INVALID,
                                          "\"%s\" is a model of RawAccess= in termguard.conf: remove it there", esc);
        if (tg_token_registry_copy(&call->m->tokens, &copy) < 0)
                return oom_reply();
        (void) tg_token_remove(&copy, label);
        /* A RawAccess= model this entry stood in for is the configuration's again. */
        if (tg_token_registry_add_models(&copy, &call->m->cfg.usb.raw_access, err, sizeof(err)) < 0) {
                tg_token_registry_clear(&copy);
                return tg_ctl_reply_error(TG_CTL_ERR_INTERNAL, "%s", err);
        }
        fail = token_commit(call, &copy);
        if (fail)
                return fail;
        event_emit("token.removed", LOG_NOTICE, "Token removed from the registry", "label", label, "actor", call->actor,
                   NULL);
        manager_apply(call->m, "token-change");
        return tg_ctl_reply_ok();
}

static json_object *cmd_lock(Call *call) {
        const tg_ctl_request *req = call->req;
        json_object *o;
        char esc[128];
        int r;

        if (req->has[TG_F_SESSION] == req->has[TG_F_ALL])
                return tg_ctl_reply_error(TG_CTL_ERR_INVALID, "lock: give either a session or all");
        r = idle_lock_request(call->m, req->has[TG_F_SESSION] ? req->str[TG_F_SESSION] : NULL, call->actor);
        if (r == -ENOENT) {
                tg_escape_str(req->str[TG_F_SESSION], esc, sizeof(esc));
                return tg_ctl_reply_error(TG_CTL_ERR_NOT_FOUND, "no user session \"%s\" (see termguardctl status)",
                                          esc);
        }
        if (r == -ENOTCONN)
                return tg_ctl_reply_error(TG_CTL_ERR_IO, "the idle lock is not attached to logind (%s)",
                                          logind_state_to_string(idle_lock_state(call->m)));
        if (r < 0)
                return tg_ctl_reply_error(TG_CTL_ERR_INTERNAL, "lock: %s", strerror(-r));
        o = tg_ctl_reply_ok();
        tg_ctl_put_int(o, TG_F_LOCK_REQUESTED, r);
        return o;
}

/* The session helper's report. Anyone may send one, for a session of their own: the idle lock
 * checks the sender's uid now and its logind session before it believes the report. */
static json_object *cmd_session_idle(Call *call) {
        const tg_ctl_request *req = call->req;
        uint64_t interval = 0;
        json_object *o;
        int r;

        r = idle_lock_helper_report(call->m, req->str[TG_F_SESSION], (uint64_t) req->num[TG_F_IDLE_MS], call->uid,
                                    call->pid, &interval);
        if (r == -EPERM)
                return tg_ctl_reply_error(TG_CTL_ERR_PERMISSION_DENIED, "session %s is not yours",
                                          req->str[TG_F_SESSION]);
        if (r == -EOPNOTSUPP)
                return tg_ctl_reply_error(TG_CTL_ERR_PERMISSION_DENIED,
                                          "session %s: its idle time is logind's, not its helper's (Wayland)",
                                          req->str[TG_F_SESSION]);
        if (r == -ENOENT)
                return tg_ctl_reply_error(TG_CTL_ERR_NOT_FOUND, "no user session \"%s\"", req->str[TG_F_SESSION]);
        if (r == -ENOTCONN)
                return tg_ctl_reply_error(TG_CTL_ERR_IO, "the idle lock is not attached to logind (%s)",
                                          logind_state_to_string(idle_lock_state(call->m)));
        if (r < 0)
                return tg_ctl_reply_error(TG_CTL_ERR_IO, "session-idle: %s", strerror(-r));
        o = tg_ctl_reply_ok();
        tg_ctl_put_int(o, TG_F_REPORT_INTERVAL_MS, (int64_t) (interval / 1000));
        return o;
}

/* A search holds the loop up for a bounded time (own-records.c: the newest records only), and a
 * device's uevent goes first (usb-gate.c), so a plug waits for one search at most. Each user
 * other than root also has a budget: LOG_OWN_BURST searches at once, then one every
 * LOG_OWN_REFILL_USEC, so that nobody keeps the loop busy with search after search. */
#define LOG_OWN_BURST 10
#define LOG_OWN_REFILL_USEC (1000000ULL)
#define LOG_OWN_USERS 16

static bool log_own_within_budget(Manager *m, uid_t uid) {
        static struct {
                uid_t uid;
                uint64_t at; /* when the budget was last full, counted in refills; 0: unused */
        } users[LOG_OWN_USERS];
        static unsigned next;
        uint64_t now = 0, full_at, budget_start;
        size_t i;

        if (uid == 0)
                return true;
        (void) sd_event_now(m->event, CLOCK_MONOTONIC, &now);
        for (i = 0; i < LOG_OWN_USERS; i++)
                if (users[i].at && users[i].uid == uid)
                        break;
        if (i == LOG_OWN_USERS) {
                i = next++ % LOG_OWN_USERS;
                users[i].uid = uid;
                users[i].at = 0;
        }
        /* A virtual clock per user: each search moves it one refill ahead; the budget is empty
         * when it is LOG_OWN_BURST refills ahead of now. */
        budget_start = now + LOG_OWN_REFILL_USEC; /* never 0 */
        full_at = users[i].at && users[i].at > budget_start ? users[i].at : budget_start;
        if (full_at - budget_start >= LOG_OWN_BURST * LOG_OWN_REFILL_USEC)
                return false;
        users[i].at = full_at + LOG_OWN_REFILL_USEC;
        return true;
}

static json_object *cmd_log_own(Call *call) {
        const tg_ctl_request *req = call->req;
        if (!log_own_within_budget(call->m, call->uid))
                return tg_ctl_reply_error(TG_CTL_ERR_IO, "too many searches: try again in a few seconds");
        return own_records_reply(call->m, call->uid, req->has[TG_F_SINCE] ? req->num[TG_F_SINCE] * 1000000 : 0,
                                 req->has[TG_F_UNTIL] ? req->num[TG_F_UNTIL] * 1000000 : 0);
}

/* ---- the forwarder: the central store's commits move the journal's forwarded mark ---- */

static json_object *forwarded_reply(uint64_t forwarded, uint64_t next) {
        json_object *o = tg_ctl_reply_ok();
        tg_ctl_put_int(o, TG_F_FORWARDED_SEQ, (int64_t) forwarded);
        tg_ctl_put_int(o, TG_F_JOURNAL_NEXT_SEQ, (int64_t) next);
        return o;
}

/* Every record up to seq is committed centrally. The mark is what retention keeps records
 * for, so only the forwarder's user and root may move it (the table says so), and never back. */
static json_object *cmd_journal_forwarded(Call *call) {
        uint64_t seq = (uint64_t) call->req->num[TG_F_SEQ], forwarded = 0, next = 0;
        int r = event_journal_mark_forwarded(seq, &forwarded, &next);

        if (r == -ENOKEY)
                return tg_ctl_reply_error(TG_CTL_ERR_NOT_FOUND, "there is no audit journal");
        if (r == -ERANGE)
                return tg_ctl_reply_error(TG_CTL_ERR_INVALID,
                                          "seq %" PRIu64 " is past the journal's last record (%" PRIu64 ")", seq,
                                          next - 1);
        if (r < 0)
                return tg_ctl_reply_error(TG_CTL_ERR_IO, "could not record the forwarded mark: %s", strerror(-r));
        /* What is forwarded may now be old enough to go, or give the cap its room. Pruned on
         * the loop after this reply, so the forwarder never waits for it. */
        retention_kick(call->m);
        return forwarded_reply(forwarded, next);
}

/* The forwarder's own account of itself, for status; its last error was checked to be one
 * line of text safe to show. */
static json_object *cmd_forwarder_status(Call *call) {
        Manager *m = call->m;
        const tg_ctl_request *req = call->req;
        event_journal_info j;

        m->forwarder.report_at = tg_now() * 1000000;
        m->forwarder.last_commit_at = req->num[TG_F_LAST_COMMIT_USEC];
        m->forwarder.pending = (uint64_t) req->num[TG_F_PENDING];
        snprintf(m->forwarder.last_error, sizeof(m->forwarder.last_error), "%s", req->str[TG_F_LAST_ERROR]);
        event_journal_status(&j);
        return forwarded_reply(j.forwarded_seq, j.next_seq);
}

/* The session helper asks for the notices of its session. The uid is checked here, the session
 * of the process by notify.c once logind answers; the answer then comes from there, on a copy
 * of this connection, which stays open for the notices. */
static json_object *cmd_session_notify(Call *call) {
        const char *session = call->req->str[TG_F_SESSION];
        int r, fd;

        if (call->fd < 0)
                return tg_ctl_reply_error(TG_CTL_ERR_INVALID, "session-notify needs a connection of its own");
        r = idle_lock_helper_check(call->m, session, call->uid, call->pid);
        if (r == -EPERM)
                return tg_ctl_reply_error(TG_CTL_ERR_PERMISSION_DENIED, "session %s is not yours", session);
        if (r == -ENOENT)
                return tg_ctl_reply_error(TG_CTL_ERR_NOT_FOUND, "no user session \"%s\"", session);
        if (r == -ENOTCONN)
                return tg_ctl_reply_error(TG_CTL_ERR_IO, "the idle lock is not attached to logind (%s)",
                                          logind_state_to_string(idle_lock_state(call->m)));
        if (r < 0)
                return tg_ctl_reply_error(TG_CTL_ERR_IO, "session-notify: %s", strerror(-r));
        fd = fcntl(call->fd, F_DUPFD_CLOEXEC, 3);
        if (fd < 0)
                return tg_ctl_reply_error(TG_CTL_ERR_INTERNAL, "session-notify: %s", strerror(errno));
        r = notify_adopt(call->m, fd, session, call->uid, call->pid, call->req->has[TG_F_NOTIFY_ONLY]);
        if (r == -EBUSY)
                return tg_ctl_reply_error(TG_CTL_ERR_IO, "too many session helpers; try again later");
        if (r < 0)
                return tg_ctl_reply_error(TG_CTL_ERR_INTERNAL, "session-notify: %s", strerror(-r));
        call->handed_over = true;
        return NULL;
}

/* Every refusal is counted, but a user hammering the socket cannot flood the journal (and
 * push other records past its rate limit): one record per user, command and interval,
 * carrying the number of refusals it stands for. */
static void record_denied(Manager *m, uid_t uid, const char *cmd, const char *actor) {
        static struct {
                uid_t uid;
                char cmd[24];
                uint64_t last;
                unsigned suppressed;
        } seen[32];
        static unsigned next_slot;
        uint64_t now = 0;
        size_t i;
        char esc[64], count[16];

        (void) sd_event_now(m->event, CLOCK_MONOTONIC, &now);
        /* Keyed by user and command: the administrative commands are a small fixed set. */
        for (i = 0; i < ELEMENTSOF(seen); i++)
                if (seen[i].last && seen[i].uid == uid && strcmp(seen[i].cmd, cmd) == 0)
                        break;
        if (i == ELEMENTSOF(seen)) {
                i = next_slot++ % ELEMENTSOF(seen);
                seen[i].uid = uid;
                snprintf(seen[i].cmd, sizeof(seen[i].cmd), "%s", cmd);
                seen[i].last = 0;
                seen[i].suppressed = 0;
        }
        if (seen[i].last && now - seen[i].last < DENIED_RECORD_INTERVAL_USEC) {
                seen[i].suppressed++;
                return;
        }
        tg_escape_str(cmd, esc, sizeof(esc));
        snprintf(count, sizeof(count), "%u", seen[i].suppressed + 1);
        event_emit("admin.denied", LOG_WARNING, "Refused an administrative request from a non-admin", "command", esc,
                   "actor", actor, "refusals", count, NULL);
        seen[i].last = now;
        seen[i].suppressed = 0;
}

#define DENIED_READ "only administrators may read the register"
#define DENIED_CHANGE "only root or members of the admin group may change the register or exceptions"
#define DENIED_LOCK "only root or members of the admin group may lock sessions"
#define DENIED_FORWARDER "only root or the forwarder's user (" TG_FORWARDER_USER ") may report forwarding"

/* Who may call what, whether it changes the register, and whether a refusal is recorded (an
 * attempted action is; a read is not), is in this table, not in branches. */
static const struct {
        json_object *(*handler)(Call *call);
        bool needs_admin, mutates, record_denial;
        const char *denied;
        bool needs_forwarder; /* root or TG_FORWARDER_USER only (admins are not enough) */
} handlers[_TG_CTL_COMMAND_MAX] = {
        [TG_CTL_STATUS] = {cmd_status, false, false, false, NULL},
        [TG_CTL_DEVICES] = {cmd_devices, false, false, false, NULL},
        /* Serials would let a user program a clone of a read-write medium; approvers, reasons
         * and user names are personal data. */
        [TG_CTL_MEDIA_LIST] = {cmd_media_list, true, false, false, DENIED_READ},
        [TG_CTL_EXCEPTION_LIST] = {cmd_exception_list, true, false, false, DENIED_READ},
        [TG_CTL_MEDIA_ADD] = {cmd_media_add, true, true, true, DENIED_CHANGE},
        [TG_CTL_MEDIA_REMOVE] = {cmd_media_remove, true, true, true, DENIED_CHANGE},
        [TG_CTL_EXCEPTION_GRANT] = {cmd_exception_grant, true, true, true, DENIED_CHANGE},
        [TG_CTL_EXCEPTION_REVOKE] = {cmd_exception_revoke, true, true, true, DENIED_CHANGE},
        [TG_CTL_LOCK] = {cmd_lock, true, false, true, DENIED_LOCK},
        /* Owners are personal data; changes are saved and recorded by their handlers. */
        [TG_CTL_TOKEN_LIST] = {cmd_token_list, true, false, false, DENIED_READ},
        [TG_CTL_TOKEN_ADD] = {cmd_token_add, true, false, true, DENIED_CHANGE},
        [TG_CTL_TOKEN_REMOVE] = {cmd_token_remove, true, false, true, DENIED_CHANGE},
        /* Attributed by the idle lock (uid, then logind's session of the pid), which records refusals. */
        [TG_CTL_SESSION_IDLE] = {cmd_session_idle, false, false, false, NULL},
        /* Anyone: the reply holds only the caller's own records. */
        [TG_CTL_LOG_OWN] = {cmd_log_own, false, false, false, NULL},
        /* A mark moved by someone else would let retention delete records never sent. */
        [TG_CTL_JOURNAL_FORWARDED] = {cmd_journal_forwarded, false, false, true, DENIED_FORWARDER, true},
        [TG_CTL_FORWARDER_STATUS] = {cmd_forwarder_status, false, false, true, DENIED_FORWARDER, true},
        /* Attributed like session-idle: the uid here, the session of the process by notify.c. */
        [TG_CTL_SESSION_NOTIFY] = {cmd_session_notify, false, false, false, NULL},
};

static bool reply_ok(json_object *reply) {
        json_object *ok;
        return json_object_object_get_ex(reply, "ok", &ok) && json_object_get_boolean(ok);
}

/* The register transaction, once for every mutating command: copy, change, save, record,
 * apply. Saved first: on failure nothing changed and nothing is recorded as done. Recorded
 * once saved, and before it takes effect on the devices. */
static json_object *run_change(Call *call, json_object *(*handler)(Call *call)) {
        Manager *m = call->m;
        Change ch = {0};
        _cleanup_json_ json_object *reply = NULL;
        int r;

        if (tg_register_copy(&m->reg, &ch.reg) < 0)
                return oom_reply();
        call->change = &ch;
        reply = handler(call);
        call->change = NULL;
        if (!reply_ok(reply)) {
                change_clear(&ch);
                return TAKE_PTR(reply);
        }
        r = manager_save_register(m, &ch.reg);
        if (r < 0) {
                change_clear(&ch);
                return tg_ctl_reply_error(TG_CTL_ERR_IO, "could not save the register: %s; nothing was changed",
                                          strerror(-r));
        }
        tg_register_clear(&m->reg);
        m->reg = ch.reg;
        ch.reg = (tg_register){0};
        change_emit(&ch);
        manager_apply(m, ch.trigger);
        change_clear(&ch);
        return TAKE_PTR(reply);
}

json_object *control_dispatch(Manager *m, const ControlPeer *peer, const char *buf, size_t len,
                              tg_ctl_command *ret_command) {
        tg_ctl_request req;
        json_object *reply;
        char actor[TG_NAME_MAX + 1], err[512];
        int r;

        r = tg_ctl_request_decode(buf, len, &req, err, sizeof(err));
        *ret_command = req.command;
        if (req.command < 0) {
                tg_ctl_request_done(&req);
                return tg_ctl_reply_error(TG_CTL_ERR_INVALID, "%s", err);
        }
        actor_name(peer, actor, sizeof(actor));
        /* Privilege before arguments: a refused caller learns nothing from validation. */
        if ((handlers[req.command].needs_admin && !peer->admin) ||
            (handlers[req.command].needs_forwarder && !is_forwarder(peer))) {
                const char *name = tg_ctl_command_to_string(req.command);
                const char *denied = handlers[req.command].denied;
                if (handlers[req.command].record_denial)
                        record_denied(m, peer->cred.uid, name, actor);
                tg_ctl_request_done(&req);
                return tg_ctl_reply_error(TG_CTL_ERR_PERMISSION_DENIED, "%s", denied);
        }
        if (r < 0) {
                tg_ctl_request_done(&req);
                return tg_ctl_reply_error(TG_CTL_ERR_INVALID, "%s", err);
        }
        Call call = {.m = m,
                     .req = &req,
                     .actor = actor,
                     .uid = peer->cred.uid,
                     .pid = peer->cred.pid,
                     .admin = peer->admin,
                     .fd = peer->fd};
        if (handlers[req.command].mutates)
                reply = run_change(&call, handlers[req.command].handler);
        else
                reply = handlers[req.command].handler(&call);
        tg_ctl_request_done(&req);
        if (!reply && !call.handed_over)
                reply = oom_reply();
        return reply;
}

/* The reply as a line; a reply the protocol does not describe is a bug, answered as one. */
static char *reply_text(tg_ctl_command command, json_object *reply) {
        char *text = NULL;
        if (tg_ctl_reply_encode(command, reply, &text) == -EBADMSG) {
                _cleanup_json_ json_object *e = tg_ctl_reply_error(TG_CTL_ERR_INTERNAL, "malformed reply");
                log_msg(LOG_ERR, "reply to %s does not match the control protocol", tg_ctl_command_to_string(command));
                int r = tg_ctl_reply_encode(command, e, &text);
                if (r < 0) /* the connection closes without a reply */
                        log_msg(LOG_ERR, "Failed to encode an error reply: %s", strerror(-r));
        }
        return text;
}

static void connection_io(ServerConnection *sc, void *userdata) {
        Connection *c = (Connection *) sc;
        Manager *m = userdata;
        int fd = sc->fd;

        if (!c->out) {
                char buf[4096];
                ssize_t n = read(fd, buf, sizeof(buf));
                if (n < 0 && (errno == EAGAIN || errno == EINTR))
                        return;
                if (n < 0) {
                        connection_free(c);
                        return;
                }
                if (n > 0) {
                        if (c->in_len + (size_t) n > TG_CTL_REQUEST_MAX) {
                                _cleanup_json_ json_object *r = tg_ctl_reply_error(
                                        TG_CTL_ERR_INVALID, "request larger than %d bytes", TG_CTL_REQUEST_MAX);
                                c->out = reply_text(_TG_CTL_COMMAND_INVALID, r);
                        } else {
                                char *p = realloc(c->in, c->in_len + (size_t) n + 1);
                                if (!p) {
                                        connection_free(c);
                                        return;
                                }
                                c->in = p;
                                memcpy(c->in + c->in_len, buf, (size_t) n);
                                c->in_len += (size_t) n;
                                /* A request ends at EOF or at a newline. */
                                if (!memchr(buf, '\n', (size_t) n))
                                        return;
                        }
                }
                if (!c->out) {
                        tg_ctl_command command;
                        _cleanup_json_ json_object *r =
                                control_dispatch(m, &c->peer, c->in ? c->in : "", c->in_len, &command);
                        if (!r) { /* handed over */
                                connection_free(c);
                                return;
                        }
                        c->out = reply_text(command, r);
                }
                if (!c->out) {
                        connection_free(c);
                        return;
                }
                c->out_len = strlen(c->out);
                sd_event_source_set_io_events(c->base.io, EPOLLOUT);
                return;
        }
        while (c->out_off < c->out_len) {
                ssize_t n = send(fd, c->out + c->out_off, c->out_len - c->out_off, MSG_NOSIGNAL);
                if (n < 0 && (errno == EAGAIN || errno == EINTR))
                        return;
                if (n < 0)
                        break;
                c->out_off += (size_t) n;
        }
        connection_free(c);
}

/* The peer as the dispatcher sees it; administrators are not held to the per-user limits. */
static bool connection_admit(ServerConnection *sc, void *userdata) {
        Connection *c = (Connection *) sc;
        c->peer.cred = sc->cred;
        memcpy(c->peer.groups, sc->groups, sizeof(c->peer.groups));
        c->peer.n_groups = sc->n_groups;
        c->peer.fd = sc->fd;
        c->peer.admin = is_admin(userdata, &c->peer);
        return c->peer.admin;
}

static const SocketServerProtocol control_protocol = {
        .name = "control.socket",
        .type = SOCK_STREAM,
        .backlog = 16,
        .size = sizeof(Connection),
        .max = CONNECTIONS_MAX,
        .max_unprivileged = CONNECTIONS_NON_ADMIN_MAX,
        .max_per_user = CONNECTIONS_PER_USER_MAX,
        .timeout_usec = CONNECTION_TIMEOUT_USEC,
        .admit = connection_admit,
        .io = connection_io,
        .done = connection_done,
};

int control_start(Manager *m) {
        return socket_server_start(m->event, m->cfg.runtime_dir, &control_protocol, m, &m->control);
}

void control_stop(Manager *m) {
        socket_server_stop(m->control);
        m->control = NULL;
}
