/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The control socket: one JSON request per connection, one JSON reply. Anyone may read state;
 * changes to the register and exceptions need root or the configured admin group, decided
 * from the kernel's peer credentials, and every change records who made it.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <grp.h>
#include <inttypes.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <syslog.h>
#include <unistd.h>

#include <json-c/json.h>

#include "daemon.h"
#include "termguard/account.h"
#include "termguard/escape.h"
#include "termguard/macro.h"

#define REQUEST_MAX (64 * 1024)
#define CONNECTIONS_MAX 64
/* Administrators can always get in: other users share fewer slots, a few each. */
#define CONNECTIONS_NON_ADMIN_MAX 48
#define CONNECTIONS_PER_USER_MAX 4
/* At most one admin.denied record per user in this interval; the rest are counted. */
#define DENIED_RECORD_INTERVAL_USEC (10 * 1000000ULL)
#define CONNECTION_TIMEOUT_USEC (5 * 1000000ULL)

typedef struct Connection {
        Manager *m;
        struct Connection *next;
        bool admin;
        int fd;
        sd_event_source *io, *timer;
        char *in;
        size_t in_len;
        char *out;
        size_t out_len, out_off;
        struct ucred cred;
        gid_t groups[64];
        int n_groups;
} Connection;

static void connection_free(Connection *c) {
        if (!c)
                return;
        for (Connection **p = &c->m->connections; *p; p = &(*p)->next)
                if (*p == c) {
                        *p = c->next;
                        break;
                }
        sd_event_source_unref(c->io);
        sd_event_source_unref(c->timer);
        if (c->fd >= 0)
                close(c->fd);
        c->m->n_connections--;
        free(c->in);
        free(c->out);
        free(c);
}

/* "alice" for a user; for root, also the login user the audit subsystem recorded, so
 * "sudo termguardctl" is attributed to the person. */
static void actor_name(const Connection *c, char *buf, size_t size) {
        struct passwd pw, *res = NULL;
        char pwbuf[1024], path[64], login[16] = "";
        _cleanup_fclose_ FILE *f = NULL;

        if (getpwuid_r(c->cred.uid, &pw, pwbuf, sizeof(pwbuf), &res) == 0 && res)
                snprintf(buf, size, "%s", res->pw_name);
        else
                snprintf(buf, size, "uid:%u", (unsigned) c->cred.uid);
        if (c->cred.uid != 0)
                return;
        snprintf(path, sizeof(path), "/proc/%d/loginuid", (int) c->cred.pid);
        f = fopen(path, "re");
        if (f && fgets(login, sizeof(login), f)) {
                unsigned long luid = strtoul(login, NULL, 10);
                if (luid != 0 && luid != 4294967295UL) {
                        size_t o = strlen(buf);
                        if (getpwuid_r((uid_t) luid, &pw, pwbuf, sizeof(pwbuf), &res) == 0 && res)
                                snprintf(buf + o, size - o, " (login %s)", res->pw_name);
                        else
                                snprintf(buf + o, size - o, " (login uid %lu)", luid);
                }
        }
}

static bool is_admin(const Connection *c) {
        gid_t admin;

        if (c->cred.uid == 0)
                return true;
        if (!c->m->cfg.admin_group[0] || tg_group_gid(c->m->cfg.admin_group, &admin) <= 0)
                return false;
        if (c->cred.gid == admin)
                return true;
        for (int i = 0; i < c->n_groups; i++)
                if (c->groups[i] == admin)
                        return true;
        return false;
}

static json_object *error_reply(const char *code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static json_object *error_reply(const char *code, const char *fmt, ...) {
        json_object *o = json_object_new_object();
        char msg[600];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        json_object_object_add(o, "ok", json_object_new_boolean(0));
        json_object_object_add(o, "code", json_object_new_string(code));
        json_object_object_add(o, "error", json_object_new_string(msg));
        return o;
}

static json_object *ok_reply(void) {
        json_object *o = json_object_new_object();
        json_object_object_add(o, "ok", json_object_new_boolean(1));
        return o;
}

static const char *arg_string(json_object *req, const char *key) {
        json_object *v;
        if (!json_object_object_get_ex(req, key, &v) || !json_object_is_type(v, json_type_string))
                return NULL;
        /* Embedded NULs would make what is checked differ from what is stored. */
        if (strlen(json_object_get_string(v)) != (size_t) json_object_get_string_len(v))
                return NULL;
        return json_object_get_string(v);
}

static int arg_hex16(json_object *req, const char *key, uint16_t *ret) {
        const char *s = arg_string(req, key);
        char *end;
        unsigned long v;
        if (!s || strlen(s) != 4)
                return -EINVAL;
        /* exactly four hex digits: strtoul alone would take "0x51", " fff" or "+fff" */
        for (size_t i = 0; i < 4; i++)
                if (!isxdigit((unsigned char) s[i]))
                        return -EINVAL;
        errno = 0;
        v = strtoul(s, &end, 16);
        if (errno || *end || v > 0xffff)
                return -EINVAL;
        *ret = (uint16_t) v;
        return 0;
}

static void copy_arg(json_object *req, const char *key, char *buf, size_t size, bool *too_long) {
        const char *s = arg_string(req, key);
        buf[0] = '\0';
        if (!s)
                return;
        if (strlen(s) >= size) {
                *too_long = true;
                return;
        }
        snprintf(buf, size, "%s", s);
}

static json_object *medium_json(const tg_medium *md) {
        json_object *o = json_object_new_object();
        char vid[8], pid[8], t[32];
        snprintf(vid, sizeof(vid), "%04x", md->vid);
        snprintf(pid, sizeof(pid), "%04x", md->pid);
        tg_format_iso8601(md->added_at, t, sizeof(t));
        json_object_object_add(o, "label", json_object_new_string(md->label));
        json_object_object_add(o, "vid", json_object_new_string(vid));
        json_object_object_add(o, "pid", json_object_new_string(pid));
        json_object_object_add(o, "serial", json_object_new_string(md->serial));
        json_object_object_add(o, "department", json_object_new_string(md->department));
        json_object_object_add(o, "mode", json_object_new_string(tg_mode_to_string(md->mode)));
        json_object_object_add(o, "added_by", json_object_new_string(md->added_by));
        json_object_object_add(o, "added_at", json_object_new_string(t));
        return o;
}

static json_object *exception_json(const tg_exception *e, int64_t now) {
        json_object *o = json_object_new_object();
        char t[32];
        json_object_object_add(o, "id", json_object_new_int64((int64_t) e->id));
        json_object_object_add(o, "label", json_object_new_string(e->label));
        tg_format_iso8601(e->until, t, sizeof(t));
        json_object_object_add(o, "until", json_object_new_string(t));
        json_object_object_add(o, "state",
                               json_object_new_string(tg_exception_state_to_string(tg_exception_state_at(e, now))));
        json_object_object_add(o, "approver", json_object_new_string(e->approver));
        json_object_object_add(o, "reason", json_object_new_string(e->reason));
        json_object_object_add(o, "ticket", json_object_new_string(e->ticket));
        json_object_object_add(o, "user", json_object_new_string(e->user));
        json_object_object_add(o, "granted_by", json_object_new_string(e->granted_by));
        tg_format_iso8601(e->granted_at, t, sizeof(t));
        json_object_object_add(o, "granted_at", json_object_new_string(t));
        if (e->revoked_at) {
                tg_format_iso8601(e->revoked_at, t, sizeof(t));
                json_object_object_add(o, "revoked_at", json_object_new_string(t));
                json_object_object_add(o, "revoked_by", json_object_new_string(e->revoked_by));
        }
        return o;
}

/* Makes n the register: saved first (on failure nothing changed, nothing is recorded as done);
 * the caller records the change, then apply() makes it take effect on present devices. */
static json_object *save(Manager *m, tg_register *n) {
        int r = manager_save_register(m, n);
        if (r < 0) {
                tg_register_clear(n);
                return error_reply("io", "could not save the register: %s; nothing was changed", strerror(-r));
        }
        tg_register_clear(&m->reg);
        m->reg = *n;
        return NULL;
}

static void apply(Manager *m, const char *trigger) {
        usb_gate_rejudge_all(m, trigger);
        usb_gate_schedule_expiry(m);
}

static json_object *cmd_media_add(Connection *c, json_object *req, const char *actor) {
        Manager *m = c->m;
        tg_medium md = {0};
        tg_register n;
        bool too_long = false;
        char err[256], vid[8], pid[8];
        const char *mode = arg_string(req, "mode");
        json_object *e;

        if (arg_hex16(req, "vid", &md.vid) < 0)
                return error_reply("invalid", "vid: expected 4 hex digits, e.g. 0951");
        if (arg_hex16(req, "pid", &md.pid) < 0)
                return error_reply("invalid", "pid: expected 4 hex digits, e.g. 1666");
        copy_arg(req, "label", md.label, sizeof(md.label), &too_long);
        copy_arg(req, "serial", md.serial, sizeof(md.serial), &too_long);
        copy_arg(req, "department", md.department, sizeof(md.department), &too_long);
        if (too_long)
                return error_reply("invalid", "an argument is longer than the register allows");
        md.mode = TG_MODE_READ_ONLY; /* the write-ban is the default */
        if (mode && tg_mode_from_string(mode, &md.mode) < 0)
                return error_reply("invalid", "mode: expected read-only, read-write or blocked");
        snprintf(md.added_by, sizeof(md.added_by), "%s", actor);
        md.added_at = tg_now();
        if (tg_register_copy(&m->reg, &n) < 0)
                return error_reply("internal", "out of memory");
        if (tg_register_add_medium(&n, &md, err, sizeof(err)) < 0) {
                tg_register_clear(&n);
                return error_reply("invalid", "%s", err);
        }
        if ((e = save(m, &n)))
                return e;
        snprintf(vid, sizeof(vid), "%04x", md.vid);
        snprintf(pid, sizeof(pid), "%04x", md.pid);
        tg_emit("register.media-added", LOG_NOTICE, "Medium added to the register", "label", md.label, "vid", vid,
                "pid", pid, "serial", md.serial, "department", md.department, "mode", tg_mode_to_string(md.mode),
                "actor", actor, NULL);
        apply(m, "register-change");
        return ok_reply();
}

static json_object *cmd_media_remove(Connection *c, json_object *req, const char *actor) {
        Manager *m = c->m;
        const char *label = arg_string(req, "label");
        tg_register n;
        json_object *e;
        char esc[128];

        if (!label || !tg_register_find_label(&m->reg, label)) {
                tg_escape_str(label, esc, sizeof(esc));
                return error_reply("not-found", "no medium with label \"%s\" in the register", esc);
        }
        if (tg_register_copy(&m->reg, &n) < 0)
                return error_reply("internal", "out of memory");
        (void) tg_register_remove_medium(&n, label);
        /* Exceptions for a label that no longer exists end with it, each on the record. */
        uint64_t ended[64];
        size_t n_ended = 0;
        for (size_t i = 0; i < n.n_exceptions; i++)
                if (strcmp(n.exceptions[i].label, label) == 0 &&
                    tg_exception_state_at(&n.exceptions[i], tg_now()) == TG_EXC_ACTIVE &&
                    tg_register_revoke_exception(&n, n.exceptions[i].id, actor, tg_now()) == 0 &&
                    n_ended < ELEMENTSOF(ended))
                        ended[n_ended++] = n.exceptions[i].id;
        snprintf(esc, sizeof(esc), "%s", label);
        if ((e = save(m, &n)))
                return e;
        tg_emit("register.media-removed", LOG_NOTICE, "Medium removed from the register", "label", esc, "actor", actor,
                NULL);
        for (size_t i = 0; i < n_ended; i++) {
                char idbuf[24];
                snprintf(idbuf, sizeof(idbuf), "%" PRIu64, ended[i]);
                tg_emit("exception.revoked", LOG_NOTICE, "Write exception revoked with its medium", "exception", idbuf,
                        "label", esc, "actor", actor, NULL);
        }
        apply(m, "register-change");
        return ok_reply();
}

static json_object *cmd_exception_grant(Connection *c, json_object *req, const char *actor) {
        Manager *m = c->m;
        tg_exception ex = {0};
        tg_register n;
        bool too_long = false;
        char err[256], idbuf[24], until[32];
        uint64_t id;
        json_object *e, *o;

        copy_arg(req, "label", ex.label, sizeof(ex.label), &too_long);
        copy_arg(req, "approver", ex.approver, sizeof(ex.approver), &too_long);
        copy_arg(req, "reason", ex.reason, sizeof(ex.reason), &too_long);
        copy_arg(req, "ticket", ex.ticket, sizeof(ex.ticket), &too_long);
        copy_arg(req, "user", ex.user, sizeof(ex.user), &too_long);
        if (too_long)
                return error_reply("invalid", "an argument is longer than the register allows");
        if (tg_parse_iso8601(arg_string(req, "until"), &ex.until) < 0)
                return error_reply("invalid", "until: expected an ISO 8601 time with zone, e.g. 2026-12-01T17:00:00Z "
                                              "or 2026-12-01T17:00:00+09:00");
        if (ex.user[0] && !getpwnam(ex.user))
                return error_reply("invalid", "user: no such user on this terminal");
        snprintf(ex.granted_by, sizeof(ex.granted_by), "%s", actor);
        ex.granted_at = tg_now();
        if (tg_register_copy(&m->reg, &n) < 0)
                return error_reply("internal", "out of memory");
        if (tg_register_add_exception(&n, &ex, tg_now(), m->cfg.max_exception_duration, &id, err, sizeof(err)) < 0) {
                tg_register_clear(&n);
                return error_reply("invalid", "%s", err);
        }
        if ((e = save(m, &n)))
                return e;
        /* Recorded once saved, and before it takes effect on the devices. */
        snprintf(idbuf, sizeof(idbuf), "%" PRIu64, id);
        tg_format_iso8601(ex.until, until, sizeof(until));
        tg_emit("exception.granted", LOG_NOTICE, "Write exception granted", "exception", idbuf, "label", ex.label,
                "until", until, "approver", ex.approver, "reason", ex.reason, "ticket", ex.ticket, "user", ex.user,
                "actor", actor, NULL);
        apply(m, "exception-granted");
        o = ok_reply();
        json_object_object_add(o, "id", json_object_new_int64((int64_t) id));
        return o;
}

static json_object *cmd_exception_revoke(Connection *c, json_object *req, const char *actor) {
        Manager *m = c->m;
        json_object *v, *e;
        tg_register n;
        int64_t id;
        char idbuf[24];
        int r;

        if (!json_object_object_get_ex(req, "id", &v) || !json_object_is_type(v, json_type_int) ||
            (id = json_object_get_int64(v)) <= 0)
                return error_reply("invalid", "id: expected the exception's number (see exception list)");
        if (tg_register_copy(&m->reg, &n) < 0)
                return error_reply("internal", "out of memory");
        r = tg_register_revoke_exception(&n, (uint64_t) id, actor, tg_now());
        if (r < 0) {
                tg_register_clear(&n);
                return error_reply(r == -ENOENT ? "not-found" : "invalid",
                                   r == -ENOENT ? "no exception %" PRId64 : "exception %" PRId64 " is not active", id);
        }
        snprintf(idbuf, sizeof(idbuf), "%" PRId64, id);
        if ((e = save(m, &n)))
                return e;
        tg_emit("exception.revoked", LOG_NOTICE, "Write exception revoked", "exception", idbuf, "actor", actor, NULL);
        apply(m, "exception-revoked");
        return ok_reply();
}

static json_object *cmd_media_list(Manager *m) {
        json_object *o = ok_reply(), *a = json_object_new_array();
        for (size_t i = 0; i < m->reg.n_media; i++)
                json_object_array_add(a, medium_json(&m->reg.media[i]));
        json_object_object_add(o, "media", a);
        return o;
}

static json_object *cmd_exception_list(Manager *m) {
        json_object *o = ok_reply(), *a = json_object_new_array();
        int64_t now = tg_now();
        for (size_t i = 0; i < m->reg.n_exceptions; i++)
                json_object_array_add(a, exception_json(&m->reg.exceptions[i], now));
        json_object_object_add(o, "exceptions", a);
        return o;
}

static json_object *cmd_devices(Manager *m, bool admin) {
        json_object *o = ok_reply(), *a = json_object_new_array();
        for (tg_device *d = m->devices; d; d = d->next) {
                json_object *x = json_object_new_object(), *ifs = json_object_new_array();
                char vid[8], pid[8];
                snprintf(vid, sizeof(vid), "%04x", d->desc.vid);
                snprintf(pid, sizeof(pid), "%04x", d->desc.pid);
                json_object_object_add(x, "device", json_object_new_string(d->sysname));
                json_object_object_add(x, "vid", json_object_new_string(vid));
                json_object_object_add(x, "pid", json_object_new_string(pid));
                /* Users see why a device was refused, not the serial to clone a registered one. */
                json_object_object_add(x, "serial", json_object_new_string(admin ? d->serial_esc : ""));
                json_object_object_add(x, "manufacturer", json_object_new_string(d->manufacturer_esc));
                json_object_object_add(x, "product", json_object_new_string(d->product_esc));
                json_object_object_add(x, "descriptor_sha256",
                                       json_object_new_string(d->descriptors_ok ? d->desc.hash : ""));
                json_object_object_add(x, "authorized", json_object_new_boolean(d->decision.authorize_device));
                json_object_object_add(x, "storage",
                                       json_object_new_string(d->decision.has_storage
                                                                      ? tg_mode_to_string(d->decision.storage_mode)
                                                                      : "none"));
                json_object_object_add(x, "label", json_object_new_string(d->decision.label));
                json_object_object_add(x, "exception", json_object_new_int64((int64_t) d->decision.exception_id));
                json_object_object_add(x, "reason", json_object_new_string(d->decision.reason));
                for (size_t i = 0; i < d->decision.n_ifaces; i++) {
                        const tg_iface_verdict *v = &d->decision.ifaces[i];
                        json_object *f = json_object_new_object();
                        char cls[4];
                        snprintf(cls, sizeof(cls), "%02x", v->cls);
                        json_object_object_add(f, "config", json_object_new_int(v->config_value));
                        json_object_object_add(f, "interface", json_object_new_int(v->number));
                        json_object_object_add(f, "class", json_object_new_string(cls));
                        json_object_object_add(f, "class_name", json_object_new_string(tg_usb_class_name(v->cls)));
                        json_object_object_add(f, "allowed", json_object_new_boolean(v->allow));
                        json_object_object_add(f, "reason", json_object_new_string(v->reason));
                        json_object_array_add(ifs, f);
                }
                json_object_object_add(x, "interfaces", ifs);
                json_object_array_add(a, x);
        }
        json_object_object_add(o, "devices", a);
        return o;
}

static json_object *cmd_status(Manager *m) {
        json_object *o = ok_reply();
        char t[32];
        size_t active = 0;
        int64_t now = tg_now(), next = tg_register_next_expiry(&m->reg, now);

        for (size_t i = 0; i < m->reg.n_exceptions; i++)
                if (tg_exception_state_at(&m->reg.exceptions[i], now) == TG_EXC_ACTIVE)
                        active++;
        json_object_object_add(o, "version", json_object_new_string(TG_VERSION));
        json_object_object_add(o, "pid", json_object_new_int((int) getpid()));
        tg_format_iso8601(m->started_at, t, sizeof(t));
        json_object_object_add(o, "started_at", json_object_new_string(t));
        json_object_object_add(o, "config_root", json_object_new_string(m->config_root));
        json_object_object_add(o, "state_directory", json_object_new_string(m->cfg.state_dir));
        json_object_object_add(o, "admin_group", json_object_new_string(m->cfg.admin_group));
        json_object_object_add(o, "controllers_locked", json_object_new_int((int) m->n_controllers));
        json_object_object_add(o, "devices", json_object_new_int((int) m->n_devices));
        json_object_object_add(o, "media_registered", json_object_new_int((int) m->reg.n_media));
        json_object_object_add(o, "exceptions_active", json_object_new_int((int) active));
        if (next) {
                tg_format_iso8601(next, t, sizeof(t));
                json_object_object_add(o, "next_expiry", json_object_new_string(t));
        }
        json_object_object_add(o, "udev_running", json_object_new_boolean(m->udev_running));
        tg_format_iso8601(m->last_reload_at, t, sizeof(t));
        json_object_object_add(o, "last_reload_at", json_object_new_string(t));
        json_object_object_add(o, "last_reload_error", json_object_new_string(m->last_reload_error));
        return o;
}

/* Every refusal is counted, but a user hammering the socket cannot flood the journal (and
 * push other records past its rate limit): one record per user, command and interval,
 * carrying the number of refusals it stands for. */
static void record_denied(Connection *c, const char *cmd, const char *actor) {
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

        (void) sd_event_now(c->m->event, CLOCK_MONOTONIC, &now);
        /* Keyed by user and command: the administrative commands are a fixed set of four. */
        for (i = 0; i < ELEMENTSOF(seen); i++)
                if (seen[i].last && seen[i].uid == c->cred.uid && strcmp(seen[i].cmd, cmd) == 0)
                        break;
        if (i == ELEMENTSOF(seen)) {
                i = next_slot++ % ELEMENTSOF(seen);
                seen[i].uid = c->cred.uid;
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
        tg_emit("admin.denied", LOG_WARNING, "Refused an administrative request from a non-admin", "command", esc,
                "actor", actor, "refusals", count, NULL);
        seen[i].last = now;
        seen[i].suppressed = 0;
}

static json_object *dispatch(Connection *c, const char *buf, size_t len) {
        json_object *req, *reply;
        struct json_tokener *tok = json_tokener_new_ex(8);
        const char *cmd;
        char actor[TG_NAME_MAX + 1];

        if (!tok)
                return error_reply("internal", "out of memory");
        req = json_tokener_parse_ex(tok, buf, (int) len);
        if (!req || json_tokener_get_error(tok) != json_tokener_success ||
            !json_object_is_type(req, json_type_object)) {
                json_tokener_free(tok);
                json_object_put(req);
                return error_reply("invalid", "request is not a JSON object");
        }
        json_tokener_free(tok);
        cmd = arg_string(req, "command");
        actor_name(c, actor, sizeof(actor));

        if (!cmd)
                reply = error_reply("invalid", "missing command");
        else if (strcmp(cmd, "status") == 0)
                reply = cmd_status(c->m);
        else if (strcmp(cmd, "devices") == 0)
                reply = cmd_devices(c->m, c->admin);
        else if ((strcmp(cmd, "media-list") == 0 || strcmp(cmd, "exception-list") == 0) && !c->admin)
                /* Serials would let a user program a clone of a read-write medium; approvers,
                 * reasons and user names are personal data. */
                reply = error_reply("permission-denied", "only administrators may read the register");
        else if (strcmp(cmd, "media-list") == 0)
                reply = cmd_media_list(c->m);
        else if (strcmp(cmd, "exception-list") == 0)
                reply = cmd_exception_list(c->m);
        else if (strcmp(cmd, "media-add") == 0 || strcmp(cmd, "media-remove") == 0 ||
                 strcmp(cmd, "exception-grant") == 0 || strcmp(cmd, "exception-revoke") == 0) {
                if (!c->admin) {
                        record_denied(c, cmd, actor);
                        reply = error_reply(
                                "permission-denied",
                                "only root or members of the admin group may change the register or exceptions");
                } else if (strcmp(cmd, "media-add") == 0)
                        reply = cmd_media_add(c, req, actor);
                else if (strcmp(cmd, "media-remove") == 0)
                        reply = cmd_media_remove(c, req, actor);
                else if (strcmp(cmd, "exception-grant") == 0)
                        reply = cmd_exception_grant(c, req, actor);
                else
                        reply = cmd_exception_revoke(c, req, actor);
        } else {
                char esc[64];
                tg_escape_str(cmd, esc, sizeof(esc));
                reply = error_reply("invalid", "unknown command \"%s\"", esc);
        }
        json_object_put(req);
        return reply;
}

static int connection_io(sd_event_source *s _unused_, int fd, uint32_t revents _unused_, void *userdata) {
        Connection *c = userdata;

        if (!c->out) {
                char buf[4096];
                ssize_t n = read(fd, buf, sizeof(buf));
                if (n < 0 && (errno == EAGAIN || errno == EINTR))
                        return 0;
                if (n < 0) {
                        connection_free(c);
                        return 0;
                }
                if (n > 0) {
                        if (c->in_len + (size_t) n > REQUEST_MAX) {
                                json_object *r = error_reply("invalid", "request larger than %d bytes", REQUEST_MAX);
                                c->out = strdup(json_object_to_json_string_ext(r, JSON_C_TO_STRING_PLAIN));
                                json_object_put(r);
                        } else {
                                char *p = realloc(c->in, c->in_len + (size_t) n + 1);
                                if (!p) {
                                        connection_free(c);
                                        return 0;
                                }
                                c->in = p;
                                memcpy(c->in + c->in_len, buf, (size_t) n);
                                c->in_len += (size_t) n;
                                /* A request ends at EOF or at a newline. */
                                if (!memchr(buf, '\n', (size_t) n))
                                        return 0;
                        }
                }
                if (!c->out) {
                        json_object *r = dispatch(c, c->in ? c->in : "", c->in_len);
                        c->out = strdup(json_object_to_json_string_ext(r, JSON_C_TO_STRING_PLAIN |
                                                                                  JSON_C_TO_STRING_NOSLASHESCAPE));
                        json_object_put(r);
                }
                if (!c->out) {
                        connection_free(c);
                        return 0;
                }
                c->out_len = strlen(c->out);
                c->out[c->out_len++] = '\n'; /* replaced the NUL; length tracked separately */
                sd_event_source_set_io_events(c->io, EPOLLOUT);
                return 0;
        }
        while (c->out_off < c->out_len) {
                ssize_t n = send(fd, c->out + c->out_off, c->out_len - c->out_off, MSG_NOSIGNAL);
                if (n < 0 && (errno == EAGAIN || errno == EINTR))
                        return 0;
                if (n < 0)
                        break;
                c->out_off += (size_t) n;
        }
        connection_free(c);
        return 0;
}

static int connection_timeout(sd_event_source *s _unused_, uint64_t usec _unused_, void *userdata) {
        connection_free(userdata);
        return 0;
}

static int control_accept(sd_event_source *s _unused_, int fd, uint32_t revents _unused_, void *userdata) {
        Manager *m = userdata;
        Connection *c;
        socklen_t len;
        uint64_t now;
        int cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

        if (cfd < 0)
                return 0;
        c = calloc(1, sizeof(*c));
        if (!c) {
                close(cfd);
                return 0;
        }
        c->m = m;
        c->fd = cfd;
        c->next = m->connections;
        m->connections = c;
        m->n_connections++;
        len = sizeof(c->cred);
        if (getsockopt(cfd, SOL_SOCKET, SO_PEERCRED, &c->cred, &len) < 0) {
                connection_free(c);
                return 0;
        }
        len = sizeof(c->groups);
        if (getsockopt(cfd, SOL_SOCKET, SO_PEERGROUPS, c->groups, &len) == 0)
                c->n_groups = (int) (len / sizeof(gid_t));
        c->admin = is_admin(c);
        if (!c->admin) {
                unsigned mine = 0;
                for (Connection *o = m->connections; o; o = o->next)
                        if (o->cred.uid == c->cred.uid)
                                mine++;
                if (mine > CONNECTIONS_PER_USER_MAX || m->n_connections > CONNECTIONS_NON_ADMIN_MAX) {
                        connection_free(c);
                        return 0;
                }
        } else if (m->n_connections > CONNECTIONS_MAX) {
                connection_free(c);
                return 0;
        }
        if (sd_event_add_io(m->event, &c->io, cfd, EPOLLIN, connection_io, c) < 0 ||
            sd_event_now(m->event, CLOCK_MONOTONIC, &now) < 0 ||
            sd_event_add_time(m->event, &c->timer, CLOCK_MONOTONIC, now + CONNECTION_TIMEOUT_USEC, 0,
                              connection_timeout, c) < 0) {
                connection_free(c);
                return 0;
        }
        return 0;
}

int control_start(Manager *m) {
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        int r;

        if ((size_t) snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/control.socket", m->cfg.runtime_dir) >=
            sizeof(sa.sun_path))
                return -ENAMETOOLONG;
        m->control_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (m->control_fd < 0)
                return -errno;
        (void) unlink(sa.sun_path);
        if (bind(m->control_fd, (struct sockaddr *) &sa, sizeof(sa)) < 0 || chmod(sa.sun_path, 0666) < 0 ||
            listen(m->control_fd, 16) < 0) {
                r = -errno;
                close(m->control_fd);
                m->control_fd = -1;
                return r;
        }
        return sd_event_add_io(m->event, &m->control_source, m->control_fd, EPOLLIN, control_accept, m);
}

void control_stop(Manager *m) {
        m->control_source = sd_event_source_unref(m->control_source);
        if (m->control_fd >= 0) {
                char path[PATH_MAX];
                snprintf(path, sizeof(path), "%s/control.socket", m->cfg.runtime_dir);
                (void) unlink(path);
                close(m->control_fd);
                m->control_fd = -1;
        }
}
