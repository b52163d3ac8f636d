/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The idle lock's deadlines: pure functions of a session, the policy and a given time. */
#include <errno.h>
#include <string.h>

#include "termguard/idle.h"
#include "termguard/macro.h"

static const char *const phase_names[_TG_IDLE_PHASE_MAX] = {
        [TG_IDLE_ACTIVE] = "active",         [TG_IDLE_LOCK_REQUESTED] = "lock-requested",
        [TG_IDLE_LOCKED] = "locked",         [TG_IDLE_LOGOFF_PENDING] = "logoff-pending",
        [TG_IDLE_LOGGED_OFF] = "logged-off",
};

static const char *const action_names[] = {
        [TG_IDLE_DO_NOTHING] = "nothing",         [TG_IDLE_DO_WARN] = "warn",     [TG_IDLE_DO_LOCK] = "lock",
        [TG_IDLE_DO_LOCK_FAILED] = "lock-failed", [TG_IDLE_DO_LOGOFF] = "logoff", [TG_IDLE_DO_CANCEL] = "cancel",
};

const char *tg_idle_phase_to_string(tg_idle_phase p) {
        return p >= 0 && p < _TG_IDLE_PHASE_MAX ? phase_names[p] : NULL;
}

int tg_idle_phase_from_string(const char *s, tg_idle_phase *ret) {
        for (size_t i = 0; s && i < ELEMENTSOF(phase_names); i++)
                if (strcmp(phase_names[i], s) == 0) {
                        *ret = (tg_idle_phase) i;
                        return 0;
                }
        return -EINVAL;
}

const char *tg_idle_action_to_string(tg_idle_action a) {
        return a >= 0 && (size_t) a < ELEMENTSOF(action_names) ? action_names[a] : NULL;
}

static uint64_t add_sat(uint64_t a, uint64_t b) {
        return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

static uint64_t max_u64(uint64_t a, uint64_t b) {
        return a > b ? a : b;
}

/* Does termguard know the session's input time, not only whether it is idle? */
static bool input_known(const tg_idle_session *s) {
        return s->idle_since_is_input || (!s->idle_hint && s->helper_report_at);
}

uint64_t tg_idle_last_input(const tg_idle_session *s) {
        /* The desktop's IdleHint comes first: it sees input the helper may not (Wayland). */
        if (!s->idle_hint && !s->idle_since_is_input && s->helper_report_at)
                return max_u64(s->helper_input, s->not_before);
        if (!s->idle_hint && !s->idle_since_is_input)
                return 0;
        /* Without IdleSinceHint the input is unknown: counting from the time termguard first
         * saw the session never locks earlier than due. */
        return max_u64(s->idle_since ? s->idle_since : s->first_seen, s->not_before);
}

uint64_t tg_idle_lock_deadline(const tg_idle_session *s, const tg_idle_policy *p) {
        uint64_t input;

        if (s->phase != TG_IDLE_ACTIVE || s->locked_hint || p->lock_after == 0)
                return 0;
        input = tg_idle_last_input(s);
        if (input == 0)
                return 0;
        return add_sat(input, p->lock_after);
}

static tg_idle_action due(uint64_t when, uint64_t now, tg_idle_action a, uint64_t *next) {
        if (now >= when)
                return a;
        *next = when;
        return TG_IDLE_DO_NOTHING;
}

tg_idle_action tg_idle_step(const tg_idle_session *s, const tg_idle_policy *p, uint64_t now, uint64_t *ret_next) {
        uint64_t next = 0, deadline, input;
        tg_idle_action a = TG_IDLE_DO_NOTHING;

        switch (s->phase) {
        case TG_IDLE_ACTIVE:
                deadline = tg_idle_lock_deadline(s, p);
                if (deadline == 0)
                        break;
                /* The warning once per deadline, and never after the deadline (a lock is due). */
                if (p->warn_before && s->warned_for != deadline && now < deadline) {
                        uint64_t warn_at = deadline > p->warn_before ? deadline - p->warn_before : 0;
                        a = due(warn_at, now, TG_IDLE_DO_WARN, &next);
                        break;
                }
                a = due(deadline, now, TG_IDLE_DO_LOCK, &next);
                break;
        case TG_IDLE_LOCK_REQUESTED:
                if (s->locked_hint)
                        break;
                a = due(add_sat(s->lock_requested_at, p->confirm_timeout), now, TG_IDLE_DO_LOCK_FAILED, &next);
                break;
        case TG_IDLE_LOGOFF_PENDING:
                /* Someone used the session after the lock was asked for: the staff member is
                 * back (a session that cannot be locked is as open to them as before). */
                input = tg_idle_last_input(s);
                if (s->locked_hint || (input_known(s) ? input > s->lock_requested_at : !s->idle_hint)) {
                        a = TG_IDLE_DO_CANCEL;
                        break;
                }
                a = due(s->logoff_at, now, TG_IDLE_DO_LOGOFF, &next);
                break;
        case TG_IDLE_LOCKED:
        case TG_IDLE_LOGGED_OFF:
        default: break;
        }
        if (ret_next)
                *ret_next = a == TG_IDLE_DO_NOTHING ? next : now;
        return a;
}

void tg_idle_apply(tg_idle_session *s, const tg_idle_policy *p, tg_idle_action a, uint64_t now) {
        switch (a) {
        case TG_IDLE_DO_WARN: s->warned_for = tg_idle_lock_deadline(s, p); break;
        case TG_IDLE_DO_LOCK:
                s->phase = TG_IDLE_LOCK_REQUESTED;
                s->lock_requested_at = now;
                break;
        case TG_IDLE_DO_LOCK_FAILED:
                s->phase = TG_IDLE_LOGOFF_PENDING;
                s->logoff_at = add_sat(now, p->logoff_grace);
                break;
        case TG_IDLE_DO_LOGOFF: s->phase = TG_IDLE_LOGGED_OFF; break;
        case TG_IDLE_DO_CANCEL:
                s->phase = s->locked_hint ? TG_IDLE_LOCKED : TG_IDLE_ACTIVE;
                s->logoff_at = 0;
                s->warned_for = 0;
                s->not_before = max_u64(s->not_before, now);
                break;
        case TG_IDLE_DO_NOTHING:
        default: break;
        }
}

void tg_idle_helper_report(tg_idle_session *s, uint64_t idle_ms, uint64_t now) {
        uint64_t idle = idle_ms > UINT64_MAX / 1000 ? UINT64_MAX : idle_ms * 1000;
        /* An idle time longer than the clock (a bogus report) puts the input at the epoch's
         * start: the lock comes at once rather than never. 1 µs: 0 means no input known. */
        s->helper_input = idle >= now ? 1 : now - idle;
        s->helper_report_at = now;
}

#define REPORT_INTERVAL_MIN TG_USEC_PER_SEC
#define REPORT_INTERVAL_MAX (60 * TG_USEC_PER_SEC)
#define HELPER_GONE_INTERVALS 3

uint64_t tg_idle_report_interval(const tg_idle_policy *p) {
        uint64_t i = p->lock_after / 4;
        if (p->lock_after == 0 || i > REPORT_INTERVAL_MAX)
                return REPORT_INTERVAL_MAX;
        return i < REPORT_INTERVAL_MIN ? REPORT_INTERVAL_MIN : i;
}

uint64_t tg_idle_helper_gone_at(const tg_idle_session *s, const tg_idle_policy *p) {
        if (!s->helper_report_at)
                return 0;
        return add_sat(s->helper_report_at, HELPER_GONE_INTERVALS * tg_idle_report_interval(p));
}

bool tg_idle_locked_changed(tg_idle_session *s, bool locked, uint64_t now) {
        tg_idle_phase before = s->phase;

        s->locked_hint = locked;
        if (s->phase == TG_IDLE_LOGGED_OFF)
                return false;
        if (locked) {
                s->phase = TG_IDLE_LOCKED;
                s->logoff_at = 0;
        } else if (s->phase == TG_IDLE_LOCKED) {
                /* Unlocked: the user is back, whatever IdleSinceHint says yet. */
                s->phase = TG_IDLE_ACTIVE;
                s->warned_for = 0;
                s->not_before = max_u64(s->not_before, now);
        }
        return s->phase != before;
}
