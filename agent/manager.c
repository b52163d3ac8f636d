/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The model: configuration and register, loaded, reloaded and saved here, and applied to the
 * devices (re-judge, then re-arm the expiry timer); exceptions expire here. The control socket
 * and the seat change the model through manager_save_register() and manager_apply(); the USB
 * gate below judges devices by it.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>

#include "event.h"
#include "idle-lock.h"
#include "manager.h"
#include "media-audit.h"
#include "notify.h"
#include "seat.h"
#include "termguard/macro.h"
#include "termguard/timeutil.h"
#include "usb-gate.h"

/* How long before its end a write exception's end is told to the staff member (seconds). */
#define ENDING_NOTICE_SEC (5 * 60)

static int mkdir_p(const char *path, mode_t mode) {
        char buf[PATH_MAX];
        snprintf(buf, sizeof(buf), "%s", path);
        for (char *p = buf + 1; *p; p++)
                if (*p == '/') {
                        *p = '\0';
                        if (mkdir(buf, 0755) < 0 && errno != EEXIST)
                                return -errno;
                        *p = '/';
                }
        if (mkdir(buf, mode) < 0 && errno != EEXIST)
                return -errno;
        return 0;
}

int manager_load(Manager *m, char *err, size_t err_size) {
        /* The candidate configuration (11 KiB) on the heap, not on the stack: at start the stack
         * is as deep as main, this and the parser; stack pages touched once stay resident, freed
         * heap is used again. */
        _cleanup_free_ tg_config *cfg = malloc(sizeof(*cfg));
        tg_register reg;
        tg_token_registry tokens;
        char path[PATH_MAX], tokens_path[PATH_MAX];
        int r;

        if (!cfg) {
                snprintf(err, err_size, "out of memory");
                return -ENOMEM;
        }
        r = tg_config_load(m->config_root, cfg, err, err_size);
        if (r < 0)
                return r;
        r = mkdir_p(cfg->state_dir, 0700);
        if (r >= 0)
                r = mkdir_p(cfg->runtime_dir, 0755);
        if (r < 0) {
                snprintf(err, err_size, "cannot create %s or %s: %s", cfg->state_dir, cfg->runtime_dir, strerror(-r));
                return r;
        }
        snprintf(path, sizeof(path), "%s/register.json", cfg->state_dir);
        r = tg_register_load(path, &reg, err, err_size);
        if (r < 0)
                return r;
        snprintf(tokens_path, sizeof(tokens_path), "%s/tokens.json", cfg->state_dir);
        r = tg_token_registry_load(tokens_path, &tokens, err, err_size);
        if (r >= 0)
                r = tg_token_registry_add_models(&tokens, &cfg->usb.raw_access, err, err_size);
        if (r < 0) {
                tg_register_clear(&reg);
                tg_token_registry_clear(&tokens);
                return r;
        }
        /* The runtime directory cannot move while the gate and socket are live. */
        if (m->cfg.runtime_dir[0] && strcmp(m->cfg.runtime_dir, cfg->runtime_dir) != 0) {
                tg_register_clear(&reg);
                tg_token_registry_clear(&tokens);
                snprintf(err, err_size, "RuntimeDirectory cannot change on reload; restart the daemon");
                return -EINVAL;
        }
        m->cfg = *cfg;
        snprintf(m->register_path, sizeof(m->register_path), "%s", path);
        tg_register_clear(&m->reg);
        m->reg = reg;
        snprintf(m->tokens_path, sizeof(m->tokens_path), "%s", tokens_path);
        tg_token_registry_clear(&m->tokens);
        m->tokens = tokens;
        m->last_reload_at = tg_now();
        return 0;
}

void manager_reload(Manager *m) {
        char err[512] = "";
        int r;

        r = manager_load(m, err, sizeof(err));
        if (r < 0) {
                snprintf(m->last_reload_error, sizeof(m->last_reload_error), "%s", err);
                event_emit("config.reload-failed", LOG_ERR, "Reload refused; the last good policy stays in force",
                           "error", err, NULL);
                return;
        }
        m->last_reload_error[0] = '\0';
        media_audit_configure(m);
        event_emit("config.reloaded", LOG_NOTICE, "Configuration and register reloaded", "config", m->config_root,
                   NULL);
        manager_apply(m, "reload");
        idle_lock_apply(m);
}

int manager_save_register(Manager *m, tg_register *reg) {
        /* Every save carries the latest time seen, so a clock set back after a reboot is
         * recognised (expiries are saved when they are recorded). Reporting a clock set back
         * is usb_gate_observe_clock()'s. */
        (void) tg_register_observe_clock(reg, tg_now());
        return tg_register_save(m->register_path, reg);
}

/* ---- expiry ---- */

/* Records every expiry since the last recorded one (also those that passed while termguardd
 * or the terminal was off), and remembers how far it got across restarts. */
static void record_expiries(Manager *m, int64_t now) {
        int64_t since = m->reg.expiries_recorded_until;
        bool any = false;
        for (size_t i = 0; i < m->reg.n_exceptions; i++) {
                const tg_exception *e = &m->reg.exceptions[i];
                if (!e->revoked_at && e->until > since && e->until <= now) {
                        char id[24], until[TG_ISO8601_MAX];
                        snprintf(id, sizeof(id), "%" PRIu64, e->id);
                        tg_format_iso8601(e->until, until, sizeof(until));
                        event_emit("exception.expired", LOG_NOTICE, "Write exception expired", "exception", id, "label",
                                   e->label, "until", until, "approver", e->approver, NULL);
                        any = true;
                }
        }
        if (!any || since >= now)
                return;
        m->reg.expiries_recorded_until = now;
        if (manager_save_register(m, &m->reg) < 0)
                log_msg(LOG_ERR, "Failed to save how far expiries are recorded; they may be recorded again");
}

static void expiry_schedule(Manager *m);

static int expiry_handler(sd_event_source *s _unused_, uint64_t usec _unused_, void *userdata) {
        Manager *m = userdata;
        record_expiries(m, tg_now());
        manager_apply(m, "exception-expired");
        return 0;
}

/* One timer at the next expiry, none while nothing can expire (no polling). */
static void expiry_schedule(Manager *m) {
        int64_t next = tg_register_next_expiry(&m->reg, tg_now());
        uint64_t usec;
        int r;

        if (next == 0) {
                if (m->expiry_source)
                        sd_event_source_set_enabled(m->expiry_source, SD_EVENT_OFF);
                return;
        }
        usec = (uint64_t) next * 1000000ULL; /* next <= TG_TIME_MAX: no overflow */
        if (!m->expiry_source) {
                r = sd_event_add_time(m->event, &m->expiry_source, CLOCK_REALTIME, usec, 0, expiry_handler, m);
                if (r < 0) {
                        log_msg(LOG_ERR, "Failed to arm the exception expiry timer: %s", strerror(-r));
                        return;
                }
        } else
                sd_event_source_set_time(m->expiry_source, usec);
        sd_event_source_set_enabled(m->expiry_source, SD_EVENT_ONESHOT);
}

/* ---- "your write exception ends soon" ---- */

static bool ending_was_told(const Manager *m, uint64_t id) {
        for (size_t i = 0; i < m->n_ending_told; i++)
                if (m->ending_told[i] == id)
                        return true;
        return false;
}

/* Tells the staff member on the seat that exception e ends: the active session on seat0, if
 * the exception is for anyone or for that session's user. */
static void ending_tell(Manager *m, const tg_exception *e, int64_t now) {
        const IdleSession *s = idle_lock_active_session(m, "seat0");
        tg_notice n = {.kind = TG_NOTICE_EXCEPTION_ENDING, .until = e->until};

        if (!s || (e->user[0] && strcmp(e->user, s->info.user) != 0)) {
                log_msg(LOG_INFO, "Exception %" PRIu64 " ends soon; nobody on the seat to tell", e->id);
                return;
        }
        n.seconds = e->until > now ? e->until - now : 0;
        if (n.seconds > TG_NOTICE_SECONDS_MAX)
                n.seconds = TG_NOTICE_SECONDS_MAX;
        snprintf(n.label, sizeof(n.label), "%s", e->label);
        notify_session(m, s->info.id, s->info.uid, &n);
}

static int ending_handler(sd_event_source *s _unused_, uint64_t usec _unused_, void *userdata);

/* Tells of every active exception that ends within ENDING_NOTICE_SEC and was not told of yet (one
 * granted for less than that is told of at once), forgets those no longer active, and sets one
 * timer at the next exception's end minus ENDING_NOTICE_SEC: no polling. */
static void ending_schedule(Manager *m) {
        int64_t now = tg_now(), next = 0;
        size_t kept = 0;
        int r;

        for (size_t i = 0; i < m->n_ending_told; i++) {
                const tg_exception *e = NULL;
                for (size_t k = 0; k < m->reg.n_exceptions && !e; k++)
                        if (m->reg.exceptions[k].id == m->ending_told[i])
                                e = &m->reg.exceptions[k];
                if (e && tg_exception_state_at(e, now) == TG_EXC_ACTIVE)
                        m->ending_told[kept++] = m->ending_told[i];
        }
        m->n_ending_told = kept;
        for (size_t i = 0; i < m->reg.n_exceptions; i++) {
                const tg_exception *e = &m->reg.exceptions[i];
                if (tg_exception_state_at(e, now) != TG_EXC_ACTIVE || ending_was_told(m, e->id))
                        continue;
                if (e->until - now > ENDING_NOTICE_SEC) {
                        if (!next || e->until - ENDING_NOTICE_SEC < next)
                                next = e->until - ENDING_NOTICE_SEC;
                        continue;
                }
                uint64_t *p = realloc(m->ending_told, (m->n_ending_told + 1) * sizeof(*p));
                if (!p) {
                        log_msg(LOG_ERR, "Out of memory: exception %" PRIu64 " ending not told", e->id);
                        continue;
                }
                m->ending_told = p;
                m->ending_told[m->n_ending_told++] = e->id;
                ending_tell(m, e, now);
        }
        if (next == 0) {
                if (m->ending_source)
                        sd_event_source_set_enabled(m->ending_source, SD_EVENT_OFF);
                return;
        }
        if (!m->ending_source) {
                r = sd_event_add_time(m->event, &m->ending_source, CLOCK_REALTIME, (uint64_t) next * 1000000ULL, 0,
                                      ending_handler, m);
                if (r < 0) {
                        log_msg(LOG_ERR, "Failed to arm the exception-ending timer: %s", strerror(-r));
                        return;
                }
        } else
                sd_event_source_set_time(m->ending_source, (uint64_t) next * 1000000ULL);
        sd_event_source_set_enabled(m->ending_source, SD_EVENT_ONESHOT);
}

static int ending_handler(sd_event_source *s _unused_, uint64_t usec _unused_, void *userdata) {
        ending_schedule(userdata);
        return 0;
}

void manager_apply(Manager *m, const char *trigger) {
        usb_gate_rejudge_all(m, trigger);
        expiry_schedule(m);
        ending_schedule(m);
}

int manager_start(Manager *m) {
        int r;

        r = usb_gate_start(m);
        if (r < 0) {
                log_msg(LOG_ERR, "Failed to start the USB gate: %s", strerror(-r));
                return r;
        }
        /* The seat is followed before the devices present are judged by who holds it: a change
         * of user during the judging re-judges them. */
        r = seat_start(m, manager_apply);
        if (r < 0) {
                log_msg(LOG_ERR, "Failed to follow the seat: %s", strerror(-r));
                return r;
        }
        r = idle_lock_start(m);
        if (r < 0) {
                log_msg(LOG_ERR, "Failed to start the idle lock: %s", strerror(-r));
                return r;
        }
        record_expiries(m, usb_gate_observe_clock(m));
        usb_gate_coldplug(m, "startup");
        expiry_schedule(m);
        ending_schedule(m);
        return 0;
}

void manager_stop(Manager *m) {
        notify_stop(m);
        idle_lock_stop(m);
        seat_stop(m);
        usb_gate_stop(m);
        m->expiry_source = sd_event_source_unref(m->expiry_source);
        m->ending_source = sd_event_source_unref(m->ending_source);
        free(m->ending_told);
        m->ending_told = NULL;
        m->n_ending_told = 0;
        tg_register_clear(&m->reg);
        tg_token_registry_clear(&m->tokens);
}
