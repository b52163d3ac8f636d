/* SPDX-License-Identifier: GPL-2.0-or-later */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "termguard/account.h"
#include "termguard/macro.h"
#include "termguard/mfa.h"

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
        *ret = (tg_auth_result){.outcome = TG_AUTH_ERROR};

        if (!tg_mfa_valid_user(user)) {
                snprintf(ret->err, sizeof(ret->err), "user name not usable");
                return;
        }
        if (!known_account(user)) {
                ret->outcome = TG_AUTH_NOT_ENROLLED; /* the same refusal as for a known name */
                return;
        }
        if (state_open(cfg, user, &s, ret) < 0)
                return;
        /* The time of this attempt is the time it holds the lock, after its code arrived and
         * after any wait for other attempts: see tg_mfa_clock. */
        now = clock();
        if (tg_mfa_locked(&s.u, now)) {
                ret->outcome = TG_AUTH_LOCKED;
                return;
        }
        if (!s.u.enrolled) {
                if (cfg->mfa_rollout_until > now) {
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
        *ret = (tg_auth_result){.outcome = TG_AUTH_ERROR};
        if (tg_mfa_valid_user(user) && !known_account(user)) {
                ret->outcome = TG_AUTH_WRONG_CODE;
                return;
        }
        if (!tg_mfa_valid_user(user) || state_open(cfg, user, &s, ret) < 0)
                return;
        ret->locked_now = tg_mfa_record_failure(&s.u, clock, cfg->mfa_max_failures, cfg->mfa_lockout);
        ret->outcome = state_save(&s, ret) < 0 ? TG_AUTH_ERROR : TG_AUTH_WRONG_CODE;
}

void tg_mfa_check_lock(const tg_config *cfg, const char *user, tg_mfa_clock clock, tg_auth_result *ret) {
        _cleanup_mfa_session_ tg_mfa_session s = TG_MFA_SESSION_NULL;
        *ret = (tg_auth_result){.outcome = TG_AUTH_ERROR};
        if (tg_mfa_valid_user(user) && !known_account(user)) {
                ret->outcome = TG_AUTH_OK;
                return;
        }
        if (!tg_mfa_valid_user(user) || state_open(cfg, user, &s, ret) < 0)
                return;
        ret->outcome = tg_mfa_locked(&s.u, clock()) ? TG_AUTH_LOCKED : TG_AUTH_OK;
}
