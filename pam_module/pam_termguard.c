/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * pam_termguard: the possession factor (TOTP, or a single-use recovery code) for users whose
 * policy requires multi-factor authentication. The password stays with pam_unix.
 *
 *   auth  requisite                    pam_termguard.so preauth    refuse while locked
 *   auth  [success=1 default=ignore]   pam_unix.so nullok
 *   auth  [default=die]                pam_termguard.so authfail   count a failed password
 *   auth  required                     pam_termguard.so            ask for the code
 *
 * Every path that cannot establish the second factor (not enrolled, state missing,
 * unreadable, wrong owner or mode, config errors, no root) fails: fail closed. Users the
 * policy does not cover get PAM_IGNORE.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <libintl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <security/pam_ext.h>
#include <security/pam_modules.h>
#include <systemd/sd-journal.h>

#include "termguard/config.h"
#include "termguard/fileio.h"
#include "termguard/macro.h"
#include "termguard/mfa.h"

#define _(s) dgettext("termguard", s)
#define MSG_FAILED _("Authentication failed.")

typedef enum { MODE_VERIFY, MODE_PREAUTH, MODE_AUTHFAIL } run_mode;

typedef struct {
        run_mode mode;
        const char *config_root;
        bool debug;
} module_args;

static int parse_args(pam_handle_t *pamh, int argc, const char **argv, module_args *a) {
        *a = (module_args){.mode = MODE_VERIFY, .config_root = TG_CONFIG_ROOT};
        for (int i = 0; i < argc; i++) {
                if (strcmp(argv[i], "preauth") == 0)
                        a->mode = MODE_PREAUTH;
                else if (strcmp(argv[i], "authfail") == 0)
                        a->mode = MODE_AUTHFAIL;
                else if (strcmp(argv[i], "debug") == 0)
                        a->debug = true;
                else if (strncmp(argv[i], "config=", 7) == 0 && argv[i][7] == '/')
                        a->config_root = argv[i] + 7;
                else {
                        pam_syslog(pamh, LOG_ERR, "unknown module argument: %s", argv[i]);
                        return -EINVAL;
                }
        }
        return 0;
}

static const struct {
        const char *type, *id;
} message_ids[] = {
        {"mfa.success", "5d0f0c9e3a7b4c1f9e2d8a6b4c3e2f01"},
        {"mfa.failure", "5d0f0c9e3a7b4c1f9e2d8a6b4c3e2f02"},
        {"mfa.lockout", "5d0f0c9e3a7b4c1f9e2d8a6b4c3e2f03"},
        {"mfa.refused-locked", "5d0f0c9e3a7b4c1f9e2d8a6b4c3e2f04"},
        {"mfa.rollout-pass", "5d0f0c9e3a7b4c1f9e2d8a6b4c3e2f05"},
        {"mfa.config-error", "5d0f0c9e3a7b4c1f9e2d8a6b4c3e2f06"},
};

/* One record per security event, in the journal with a stable id (and syslog via PAM). */
static void event(pam_handle_t *pamh, const char *type, int prio, const char *user, const char *detail) {
        const void *service = NULL, *rhost = NULL, *tty = NULL;
        (void) pam_get_item(pamh, PAM_SERVICE, &service);
        (void) pam_get_item(pamh, PAM_RHOST, &rhost);
        (void) pam_get_item(pamh, PAM_TTY, &tty);
        pam_syslog(pamh, prio, "%s user=%s service=%s rhost=%s tty=%s %s", type, user ? user : "?",
                   service ? (const char *) service : "", rhost ? (const char *) rhost : "",
                   tty ? (const char *) tty : "", detail ? detail : "");
        const char *id = "5d0f0c9e3a7b4c1f9e2d8a6b4c3e2fff";
        for (size_t i = 0; i < ELEMENTSOF(message_ids); i++)
                if (strcmp(message_ids[i].type, type) == 0)
                        id = message_ids[i].id;
        if (access("/run/systemd/journal/socket", W_OK) == 0)
                sd_journal_send("MESSAGE=termguard MFA %s for %s", type, user ? user : "?", "MESSAGE_ID=%s", id,
                                "PRIORITY=%d", prio, "TERMGUARD_EVENT=%s", type, "TERMGUARD_USER=%s", user ? user : "",
                                "TERMGUARD_SERVICE=%s", service ? (const char *) service : "", "TERMGUARD_RHOST=%s",
                                rhost ? (const char *) rhost : "", "TERMGUARD_TTY=%s", tty ? (const char *) tty : "",
                                "TERMGUARD_DETAIL=%s", detail ? detail : "", "SYSLOG_IDENTIFIER=pam_termguard", NULL);
}

static void show_banner(pam_handle_t *pamh, const tg_config *cfg) {
        char buf[4096];
        ssize_t n;
        if (!cfg->mfa_banner_file[0])
                return;
        n = tg_read_file(cfg->mfa_banner_file, buf, sizeof(buf) - 1);
        if (n <= 0)
                return;
        buf[n] = '\0';
        pam_info(pamh, "%s", buf);
}

static void show_last_login(pam_handle_t *pamh, const tg_mfa_user *u) {
        char when[64] = "";
        struct tm tm;
        time_t t = (time_t) u->last_login_at;
        if (u->last_login_at && localtime_r(&t, &tm))
                strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S %Z", &tm);
        if (when[0])
                pam_info(pamh, _("Last login: %s from %s"), when,
                         u->last_login_from[0] ? u->last_login_from : _("(unknown)"));
        if (u->failed_since_login)
                pam_info(pamh, _("%u failed attempts since the last login."), u->failed_since_login);
}

static const char *origin(pam_handle_t *pamh) {
        const void *rhost = NULL, *tty = NULL;
        (void) pam_get_item(pamh, PAM_RHOST, &rhost);
        (void) pam_get_item(pamh, PAM_TTY, &tty);
        if (rhost && *(const char *) rhost)
                return rhost;
        return tty ? tty : "";
}

/* Asks for the code even when the outcome is already known (unknown user, locked, not
 * enrolled), so that nothing about the account shows from outside. */
static int ask_code(pam_handle_t *pamh, char **ret) {
        return pam_prompt(pamh, PAM_PROMPT_ECHO_OFF, ret, "%s", _("Verification code: "));
}

static int authenticate(pam_handle_t *pamh, const module_args *a) {
        tg_config cfg;
        tg_mfa_user u = {0};
        const char *user = NULL;
        char err[512] = "", *code = NULL;
        int64_t now = (int64_t) time(NULL);
        int dfd = -1, lockfd = -1, r, ret = PAM_AUTH_ERR;
        bool have_state = false, dirty = false;

        if (pam_get_user(pamh, &user, NULL) != PAM_SUCCESS || !user || !*user)
                return PAM_AUTH_ERR;
        r = tg_config_load(a->config_root, &cfg, err, sizeof(err));
        if (r < 0) {
                event(pamh, "mfa.config-error", LOG_ERR, user, err);
                return PAM_AUTH_ERR;
        }
        if (!tg_mfa_valid_user(user)) {
                if (a->mode == MODE_VERIFY && ask_code(pamh, &code) == PAM_SUCCESS)
                        free(code);
                event(pamh, "mfa.failure", LOG_WARNING, "(invalid name)", "user name not usable");
                return PAM_AUTH_ERR;
        }
        if (!tg_mfa_required(&cfg, user))
                return PAM_IGNORE;

        if (geteuid() != 0) {
                /* Screen lockers run as the user and cannot read the state; they verify
                 * through the root helper (not available in this build): refuse. */
                if (a->mode == MODE_VERIFY && ask_code(pamh, &code) == PAM_SUCCESS)
                        free(code);
                event(pamh, "mfa.failure", LOG_ERR, user, "not running as root; cannot reach MFA state");
                pam_error(pamh, "%s", MSG_FAILED);
                return PAM_AUTH_ERR;
        }

        dfd = tg_mfa_open_dir(cfg.state_dir, false, err, sizeof(err));
        if (dfd >= 0)
                lockfd = tg_mfa_lock_user(dfd, user);
        if (dfd >= 0 && lockfd >= 0) {
                r = tg_mfa_load(dfd, user, &u, err, sizeof(err));
                if (r == 0)
                        have_state = true;
                else if (r == -ENOENT) {
                        snprintf(u.user, sizeof(u.user), "%s", user);
                        err[0] = '\0';
                } else
                        dfd = dfd >= 0 ? (close(dfd), -1) : -1; /* unusable state: fail below */
        }

        if (a->mode == MODE_PREAUTH) {
                if (dfd < 0 || lockfd < 0) {
                        event(pamh, "mfa.failure", LOG_ERR, user, err[0] ? err : "MFA state unavailable");
                        ret = PAM_AUTH_ERR;
                } else if (tg_mfa_locked(&u, now)) {
                        event(pamh, "mfa.refused-locked", LOG_WARNING, user, "account locked");
                        pam_error(pamh, "%s", MSG_FAILED);
                        ret = PAM_AUTH_ERR;
                } else
                        ret = PAM_IGNORE;
                goto out;
        }
        if (a->mode == MODE_AUTHFAIL) {
                if (dfd >= 0 && lockfd >= 0) {
                        bool locked = tg_mfa_record_failure(&u, now, cfg.mfa_max_failures, cfg.mfa_lockout);
                        dirty = true;
                        event(pamh, "mfa.failure", LOG_WARNING, user, "password");
                        if (locked)
                                event(pamh, "mfa.lockout", LOG_WARNING, user, "attempt limit reached");
                }
                ret = PAM_AUTH_ERR;
                goto out;
        }

        show_banner(pamh, &cfg);
        if (ask_code(pamh, &code) != PAM_SUCCESS || !code) {
                ret = PAM_AUTH_ERR;
                goto out;
        }
        if (dfd < 0 || lockfd < 0) {
                event(pamh, "mfa.failure", LOG_ERR, user, err[0] ? err : "MFA state unavailable");
                ret = PAM_AUTH_ERR;
        } else if (tg_mfa_locked(&u, now)) {
                event(pamh, "mfa.refused-locked", LOG_WARNING, user, "account locked");
                ret = PAM_AUTH_ERR;
        } else if (!u.enrolled) {
                if (cfg.mfa_rollout_until > now) {
                        event(pamh, "mfa.rollout-pass", LOG_NOTICE, user, "not enrolled; rollout window");
                        pam_info(pamh, "%s",
                                 _("You are not yet enrolled for the second factor. Enroll before the rollout ends."));
                        ret = PAM_SUCCESS;
                } else {
                        bool locked = tg_mfa_record_failure(&u, now, cfg.mfa_max_failures, cfg.mfa_lockout);
                        dirty = true;
                        event(pamh, "mfa.failure", LOG_WARNING, user, "not enrolled");
                        if (locked)
                                event(pamh, "mfa.lockout", LOG_WARNING, user, "attempt limit reached");
                        ret = PAM_AUTH_ERR;
                }
        } else {
                tg_mfa_result res = tg_mfa_check(&u, code, now);
                if (res == TG_MFA_FAIL) {
                        bool locked = tg_mfa_record_failure(&u, now, cfg.mfa_max_failures, cfg.mfa_lockout);
                        event(pamh, "mfa.failure", LOG_WARNING, user, "wrong or reused code");
                        if (locked)
                                event(pamh, "mfa.lockout", LOG_WARNING, user, "attempt limit reached");
                        ret = PAM_AUTH_ERR;
                } else {
                        show_last_login(pamh, &u);
                        tg_mfa_record_success(&u, now, origin(pamh));
                        event(pamh, "mfa.success", LOG_INFO, user,
                              res == TG_MFA_OK_RECOVERY ? "recovery code" : "totp");
                        if (res == TG_MFA_OK_RECOVERY)
                                pam_info(pamh, "%s",
                                         _("A recovery code was used. Ask your administrator for new ones if few are "
                                           "left."));
                        ret = PAM_SUCCESS;
                }
                dirty = true;
        }
        if (ret != PAM_SUCCESS)
                pam_error(pamh, "%s", MSG_FAILED);

out:
        /* Nothing is granted that was not recorded: a success whose state cannot be saved
         * (the code could be replayed) is a failure. */
        if (dirty && dfd >= 0 && (have_state || u.failures || u.locked_until || u.last_login_at)) {
                r = tg_mfa_save(dfd, &u);
                if (r < 0) {
                        event(pamh, "mfa.failure", LOG_ERR, user, "cannot save MFA state");
                        ret = PAM_AUTH_ERR;
                }
        }
        if (code) {
                explicit_bzero(code, strlen(code));
                free(code);
        }
        explicit_bzero(&u, sizeof(u));
        if (lockfd >= 0)
                close(lockfd);
        if (dfd >= 0)
                close(dfd);
        return ret;
}

PAM_EXTERN int pam_sm_authenticate(pam_handle_t *pamh, int flags, int argc, const char **argv) {
        module_args a;
        (void) flags;
        bindtextdomain("termguard", TG_LOCALEDIR);
        if (parse_args(pamh, argc, argv, &a) < 0)
                return PAM_AUTH_ERR;
        return authenticate(pamh, &a);
}

PAM_EXTERN int pam_sm_setcred(pam_handle_t *pamh, int flags, int argc, const char **argv) {
        (void) pamh;
        (void) flags;
        (void) argc;
        (void) argv;
        return PAM_SUCCESS;
}
