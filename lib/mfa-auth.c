/* SPDX-License-Identifier: GPL-2.0-or-later */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "termguard/account.h"
#include "termguard/macro.h"
#include "termguard/mfa.h"
#include "termguard/timeutil.h"

const char *tg_auth_outcome_to_string(tg_auth_outcome o) {
        switch (o) {
        case TG_AUTH_OK: return "ok";
        case TG_AUTH_OK_RECOVERY: return "ok-recovery-code";
        case TG_AUTH_ROLLOUT: return "rollout-not-enrolled";
        case TG_AUTH_WRONG_CODE: return "wrong-or-reused-code";
        case TG_AUTH_LOCKED: return "locked";
        case TG_AUTH_NOT_ENROLLED: return "not-enrolled";
        case TG_AUTH_ERROR: return "error";
        }
        return "error";
}

/* Opens and locks the user's state, the directory created when missing (before the first
 * enrollment, a rollout must work; the state directory above it must exist and be root's). */
static int state_open(const tg_config *cfg, const char *user, tg_mfa_session *s, tg_auth_result *ret) {
        return tg_mfa_session_open(cfg->state_dir, user, true, s, ret->err, sizeof(ret->err));
}

/* Whether the system knows the account. Names it does not know get no state file: any name
 * can be tried from the network, and each must not leave files behind. A lookup that fails
 * counts as known, so that the attempt is counted rather than forgotten. */
static bool known_account(const char *user) {
        tg_account a;
        return tg_account_by_name(user, &a) != -ENOENT;
}

/* A time before TG_MFA_CLOCK_FLOOR: the attempt is an error, and nothing is counted or saved. */
static bool clock_refused(int64_t now, tg_auth_result *ret) {
        char t[TG_ISO8601_MAX], floor[TG_ISO8601_MAX];
        if (tg_mfa_clock_plausible(now))
                return false;
        tg_format_iso8601(now, t, sizeof(t));
        tg_format_iso8601(TG_MFA_CLOCK_FLOOR, floor, sizeof(floor));
        ret->outcome = TG_AUTH_ERROR;
        snprintf(ret->err, sizeof(ret->err),
                 "the system clock shows %s, before %s: nothing checked or counted; set the clock", t, floor);
        snprintf(ret->clock_note, sizeof(ret->clock_note), "clock before %s: now=%s", floor, t);
        return true;
}

static void note_add(tg_auth_result *ret, const char *what, int64_t old, int64_t now) {
        char o[TG_ISO8601_MAX], n[TG_ISO8601_MAX];
        size_t len = strlen(ret->clock_note);
        tg_format_iso8601(old, o, sizeof(o));
        tg_format_iso8601(now, n, sizeof(n));
        snprintf(ret->clock_note + len, sizeof(ret->clock_note) - len, "%s%s=%s now=%s", len ? " " : "", what, o, n);
}

/* Repairs what a jump of the clock left in the state (see TG_MFA_CLOCK_JUMP_SECONDS): a lock
 * ending later than LockoutTime from now (set while the clock was ahead, or under a longer
 * LockoutTime) ends LockoutTime from now; a last-used step far ahead of the clock is moved
 * back to the end of the current window. Sets *ret_moved for the latter. Returns whether u
 * changed (to be saved), with the old and new times in ret->clock_note. */
static bool clock_repair(tg_mfa_user *u, const tg_config *cfg, int64_t now, bool *ret_moved, tg_auth_result *ret) {
        int64_t lockout = cfg->mfa_lockout > 0 ? cfg->mfa_lockout : 1;
        bool changed = false;
        *ret_moved = false;
        if (u->locked_until > now && u->locked_until - now > lockout) {
                note_add(ret, "lock-end", u->locked_until, now);
                u->locked_until = now + lockout;
                changed = true;
        }
        uint64_t period = u->params.period;
        if (u->enrolled && period > 0 && u->last_step > ((uint64_t) now + TG_MFA_CLOCK_JUMP_SECONDS) / period) {
                uint64_t at =
                        u->last_step > (uint64_t) INT64_MAX / period ? (uint64_t) INT64_MAX : u->last_step * period;
                note_add(ret, "last-code", (int64_t) at, now);
                u->last_step = (uint64_t) now / period + u->params.window;
                *ret_moved = changed = true;
        }
        return changed;
}

/* Reads the clock for an attempt that holds the user's lock, refuses an implausible time and
 * repairs (and saves) what a clock jump left. Returns false when the attempt ends here (ret
 * is set), else true with the time in *ret_now and *ret_moved as clock_repair sets it. */
static int state_save(tg_mfa_session *s, tg_auth_result *ret);
static bool attempt_clock(tg_mfa_session *s, const tg_config *cfg, tg_mfa_clock clock, int64_t *ret_now,
                          bool *ret_moved, tg_auth_result *ret) {
        int64_t now = clock();
        if (clock_refused(now, ret))
                return false;
        if (clock_repair(&s->u, cfg, now, ret_moved, ret) && state_save(s, ret) < 0) {
                ret->outcome = TG_AUTH_ERROR;
                return false;
        }
        *ret_now = now;
        return true;
}

static int state_save(tg_mfa_session *s, tg_auth_result *ret) {
        int r = tg_mfa_session_save(s);
        if (r < 0)
                snprintf(ret->err, sizeof(ret->err), "cannot save the MFA state: %s", strerror(-r));
        return r;
}

void tg_mfa_authenticate(const tg_config *cfg, const char *user, const char *code, const char *from, tg_mfa_clock clock,
                         tg_auth_result *ret) {
        _cleanup_mfa_session_ tg_mfa_session s = TG_MFA_SESSION_NULL;
        int64_t now;
        bool moved;
        *ret = (tg_auth_result){.outcome = TG_AUTH_ERROR};

        if (!tg_mfa_valid_user(user)) {
                snprintf(ret->err, sizeof(ret->err), "user name not usable");
                return;
        }
        if (!known_account(user)) {
                /* The same refusal as for a known name, a wrong clock included. */
                if (!clock_refused(clock(), ret))
                        ret->outcome = TG_AUTH_NOT_ENROLLED;
                return;
        }
        if (state_open(cfg, user, &s, ret) < 0)
                return;
        /* The time of this attempt is the time it holds the lock, after its code arrived and
         * after any wait for other attempts: see tg_mfa_clock. */
        if (!attempt_clock(&s, cfg, clock, &now, &moved, ret))
                return;
        if (moved) {
                /* The code typed now belongs to the window just made used: an error of the
                 * clock, not of the user, so not counted. */
                snprintf(ret->err, sizeof(ret->err),
                         "the clock was set back by more than %d s (%s): codes of the current window count "
                         "as used, a code a minute later works",
                         TG_MFA_CLOCK_JUMP_SECONDS, ret->clock_note);
                return;
        }
        /* A lock shows only to whoever has the factor: a locked attempt counts and fails like a
         * wrong code, and says "locked" only when the code was right. */
        bool locked = tg_mfa_locked(&s.u, now);
        if (!s.u.enrolled) {
                if (!locked && cfg->mfa_rollout_until > now) {
                        ret->outcome = TG_AUTH_ROLLOUT;
                        return;
                }
                ret->locked_now = tg_mfa_record_failure(&s.u, clock, cfg->mfa_max_failures, cfg->mfa_lockout);
                ret->outcome = state_save(&s, ret) < 0 ? TG_AUTH_ERROR : TG_AUTH_NOT_ENROLLED;
                return;
        }
        /* The attempt counts as a failure, and is saved as one, before the code is looked at:
         * an attempt whose failure cannot be recorded (a file size limit, a full disk, a kill
         * at the right moment) must not tell a right code from a wrong one. A right code
         * then replaces this record with the success. */
        _cleanup_(tg_mfa_user_wipe) tg_mfa_user counted = s.u;
        bool locks = tg_mfa_record_failure(&counted, clock, cfg->mfa_max_failures, cfg->mfa_lockout);
        int r = tg_mfa_save(s.dirfd, &counted);
        if (r < 0) {
                snprintf(ret->err, sizeof(ret->err), "cannot save the MFA state: %s", strerror(-r));
                return;
        }
        if (locked) {
                /* Checked on a copy that is not saved: a recovery code stays unused. */
                _cleanup_(tg_mfa_user_wipe) tg_mfa_user probe = s.u;
                ret->outcome = tg_mfa_check(&probe, code, now) == TG_MFA_FAIL ? TG_AUTH_WRONG_CODE : TG_AUTH_LOCKED;
                return;
        }
        tg_mfa_result res = tg_mfa_check(&s.u, code, now);
        if (res == TG_MFA_FAIL) {
                ret->locked_now = locks;
                ret->outcome = TG_AUTH_WRONG_CODE;
                /* What may be a recovery code of the first state format, which is no longer
                 * checked: the staff member sees the usual refusal, the record tells the
                 * administrator what to do. */
                if (s.u.recovery_old_format > 0 && tg_mfa_recovery_form(code)) {
                        ret->outcome = TG_AUTH_ERROR;
                        snprintf(ret->err, sizeof(ret->err),
                                 "recovery codes of the old format are no longer accepted: issue new ones with "
                                 "'termguardctl mfa recovery-codes %s'",
                                 user);
                }
                return;
        }
        ret->prev_login_at = s.u.last_login_at;
        snprintf(ret->prev_login_from, sizeof(ret->prev_login_from), "%s", s.u.last_login_from);
        ret->prev_failed_since = s.u.failed_since_login;
        tg_mfa_record_success(&s.u, now, from);
        /* Not recorded means the code could be used again: no success without the save. */
        ret->outcome = state_save(&s, ret) < 0     ? TG_AUTH_ERROR
                       : res == TG_MFA_OK_RECOVERY ? TG_AUTH_OK_RECOVERY
                                                   : TG_AUTH_OK;
}

void tg_mfa_record_other_failure(const tg_config *cfg, const char *user, tg_mfa_clock clock, tg_auth_result *ret) {
        _cleanup_mfa_session_ tg_mfa_session s = TG_MFA_SESSION_NULL;
        int64_t now;
        bool moved;
        *ret = (tg_auth_result){.outcome = TG_AUTH_ERROR};
        if (tg_mfa_valid_user(user) && !known_account(user)) {
                if (!clock_refused(clock(), ret))
                        ret->outcome = TG_AUTH_WRONG_CODE;
                return;
        }
        if (!tg_mfa_valid_user(user) || state_open(cfg, user, &s, ret) < 0)
                return;
        if (!attempt_clock(&s, cfg, clock, &now, &moved, ret))
                return;
        ret->locked_now = tg_mfa_record_failure(&s.u, clock, cfg->mfa_max_failures, cfg->mfa_lockout);
        ret->outcome = state_save(&s, ret) < 0 ? TG_AUTH_ERROR : TG_AUTH_WRONG_CODE;
}

void tg_mfa_check_lock(const tg_config *cfg, const char *user, tg_mfa_clock clock, tg_auth_result *ret) {
        _cleanup_mfa_session_ tg_mfa_session s = TG_MFA_SESSION_NULL;
        int64_t now;
        bool moved;
        *ret = (tg_auth_result){.outcome = TG_AUTH_ERROR};
        if (tg_mfa_valid_user(user) && !known_account(user)) {
                if (!clock_refused(clock(), ret))
                        ret->outcome = TG_AUTH_OK;
                return;
        }
        if (!tg_mfa_valid_user(user) || state_open(cfg, user, &s, ret) < 0)
                return;
        if (!attempt_clock(&s, cfg, clock, &now, &moved, ret))
                return;
        ret->outcome = tg_mfa_locked(&s.u, now) ? TG_AUTH_LOCKED : TG_AUTH_OK;
}
