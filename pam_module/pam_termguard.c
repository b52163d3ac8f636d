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
 * unreadable, wrong owner or mode, config errors, helper missing) fails: fail closed. When
 * PAM runs as the user (screen lockers), the setuid helper termguard-mfa-verify does the
 * check for the caller's own account; the module never sees a secret. Users the
 * policy does not cover get PAM_IGNORE.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
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
        const char *helper;
        bool debug;
} module_args;

static int parse_args(pam_handle_t *pamh, int argc, const char **argv, module_args *a) {
        *a = (module_args){.mode = MODE_VERIFY, .config_root = TG_CONFIG_ROOT, .helper = TG_MFA_HELPER};
        for (int i = 0; i < argc; i++) {
                if (strcmp(argv[i], "preauth") == 0)
                        a->mode = MODE_PREAUTH;
                else if (strcmp(argv[i], "authfail") == 0)
                        a->mode = MODE_AUTHFAIL;
                else if (strcmp(argv[i], "debug") == 0)
                        a->debug = true;
                else if (strncmp(argv[i], "config=", 7) == 0 && argv[i][7] == '/')
                        a->config_root = argv[i] + 7;
                else if (strncmp(argv[i], "helper=", 7) == 0 && argv[i][7] == '/')
                        a->helper = argv[i] + 7;
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

/* Not root (a screen locker): the setuid helper does the same work for the caller's own
 * account. Fills ret from its KEY=VALUE output; anything unexpected is an error. */
static void run_helper(const char *helper, const char *mode, const char *user, const char *code, tg_auth_result *ret) {
        int in[2] = {-1, -1}, out[2] = {-1, -1}, status;
        struct sigaction sa = {.sa_handler = SIG_DFL}, old;
        char buf[1024];
        ssize_t n = 0;
        pid_t pid;

        *ret = (tg_auth_result){.outcome = TG_AUTH_ERROR};
        snprintf(ret->err, sizeof(ret->err), "helper %s failed", helper);
        if (pipe2(in, O_CLOEXEC) < 0 || pipe2(out, O_CLOEXEC) < 0)
                goto out;
        /* The application may reap children itself; we need our exit status. */
        sigemptyset(&sa.sa_mask);
        sigaction(SIGCHLD, &sa, &old);
        pid = fork();
        if (pid == 0) {
                char *const env[] = {NULL};
                if (dup2(in[0], 0) < 0 || dup2(out[1], 1) < 0)
                        _exit(2);
                execle(helper, helper, mode, user, (char *) NULL, env);
                _exit(2);
        }
        if (pid > 0) {
                close(in[0]);
                in[0] = -1;
                close(out[1]);
                out[1] = -1;
                if (code) {
                        /* A helper that died must not take the application down with SIGPIPE. */
                        struct sigaction ign = {.sa_handler = SIG_IGN}, oldpipe;
                        size_t len = strlen(code);
                        sigemptyset(&ign.sa_mask);
                        sigaction(SIGPIPE, &ign, &oldpipe);
                        if (write(in[1], code, len) != (ssize_t) len || write(in[1], "\n", 1) != 1)
                                ret->outcome = TG_AUTH_ERROR;
                        sigaction(SIGPIPE, &oldpipe, NULL);
                }
                close(in[1]);
                in[1] = -1;
                for (ssize_t k;
                     n < (ssize_t) sizeof(buf) - 1 && (k = read(out[0], buf + n, sizeof(buf) - 1 - (size_t) n)) != 0;) {
                        if (k < 0 && errno == EINTR)
                                continue;
                        if (k < 0)
                                break;
                        n += k;
                }
                buf[n] = '\0';
                while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
                        ;
                for (char *line = strtok(buf, "\n"); line; line = strtok(NULL, "\n")) {
                        if (strncmp(line, "OUTCOME=", 8) == 0) {
                                for (int o = TG_AUTH_OK; o <= TG_AUTH_ERROR; o++)
                                        if (strcmp(line + 8, tg_auth_outcome_to_string((tg_auth_outcome) o)) == 0)
                                                ret->outcome = (tg_auth_outcome) o;
                        } else if (strncmp(line, "LOCKED_NOW=", 11) == 0)
                                ret->locked_now = line[11] == '1';
                        else if (strncmp(line, "PREV_LOGIN_AT=", 14) == 0)
                                ret->prev_login_at = strtoll(line + 14, NULL, 10);
                        else if (strncmp(line, "PREV_LOGIN_FROM=", 16) == 0)
                                snprintf(ret->prev_login_from, sizeof(ret->prev_login_from), "%s", line + 16);
                        else if (strncmp(line, "PREV_FAILED=", 12) == 0)
                                ret->prev_failed_since = (unsigned) strtoul(line + 12, NULL, 10);
                }
                /* The exit status must agree with the outcome it printed. */
                bool ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
                if (ok != tg_auth_succeeded(ret->outcome) && strcmp(mode, "verify") == 0)
                        ret->outcome = TG_AUTH_ERROR;
                if (ret->outcome != TG_AUTH_ERROR)
                        ret->err[0] = '\0';
        }
        sigaction(SIGCHLD, &old, NULL);
out:
        explicit_bzero(buf, sizeof(buf));
        for (int i = 0; i < 2; i++) {
                if (in[i] >= 0)
                        close(in[i]);
                if (out[i] >= 0)
                        close(out[i]);
        }
}

static void show_last_login(pam_handle_t *pamh, const tg_auth_result *r) {
        char when[64] = "";
        struct tm tm;
        time_t t = (time_t) r->prev_login_at;
        if (r->prev_login_at && localtime_r(&t, &tm))
                strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S %Z", &tm);
        if (when[0])
                pam_info(pamh, _("Last login: %s from %s"), when,
                         r->prev_login_from[0] ? r->prev_login_from : _("(unknown)"));
        if (r->prev_failed_since)
                pam_info(pamh,
                         dngettext("termguard", "%u failed attempt since the last login.",
                                   "%u failed attempts since the last login.", r->prev_failed_since),
                         r->prev_failed_since);
}

static int authenticate(pam_handle_t *pamh, const module_args *a) {
        tg_config cfg;
        tg_auth_result res;
        const char *user = NULL;
        char err[512] = "", *code = NULL;
        int64_t now = (int64_t) time(NULL);
        bool as_root = geteuid() == 0;
        int r;

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

        if (a->mode == MODE_PREAUTH) {
                if (as_root)
                        tg_mfa_check_lock(&cfg, user, now, &res);
                else
                        run_helper(a->helper, "preauth", user, NULL, &res);
                if (res.outcome == TG_AUTH_OK)
                        return PAM_IGNORE;
                event(pamh, res.outcome == TG_AUTH_LOCKED ? "mfa.refused-locked" : "mfa.failure", LOG_WARNING, user,
                      res.outcome == TG_AUTH_LOCKED ? "account locked" : res.err);
                pam_error(pamh, "%s", MSG_FAILED);
                return PAM_AUTH_ERR;
        }
        if (a->mode == MODE_AUTHFAIL) {
                if (as_root)
                        tg_mfa_record_other_failure(&cfg, user, now, &res);
                else
                        run_helper(a->helper, "authfail", user, NULL, &res);
                event(pamh, "mfa.failure", LOG_WARNING, user, res.outcome == TG_AUTH_ERROR ? res.err : "password");
                if (res.locked_now)
                        event(pamh, "mfa.lockout", LOG_WARNING, user, "attempt limit reached");
                return PAM_AUTH_ERR;
        }

        show_banner(pamh, &cfg);
        if (ask_code(pamh, &code) != PAM_SUCCESS || !code)
                return PAM_AUTH_ERR;
        if (as_root)
                tg_mfa_authenticate(&cfg, user, code, origin(pamh), now, &res);
        else
                run_helper(a->helper, "verify", user, code, &res);
        explicit_bzero(code, strlen(code));
        free(code);

        switch (res.outcome) {
        case TG_AUTH_OK:
        case TG_AUTH_OK_RECOVERY:
                show_last_login(pamh, &res);
                event(pamh, "mfa.success", LOG_INFO, user,
                      res.outcome == TG_AUTH_OK_RECOVERY ? "recovery code" : "totp");
                if (res.outcome == TG_AUTH_OK_RECOVERY)
                        pam_info(pamh, "%s",
                                 _("A recovery code was used. Ask your administrator for new ones if few are left."));
                return PAM_SUCCESS;
        case TG_AUTH_ROLLOUT:
                event(pamh, "mfa.rollout-pass", LOG_NOTICE, user, "not enrolled; rollout window");
                pam_info(pamh, "%s",
                         _("You are not yet enrolled for the second factor. Enroll before the rollout ends."));
                return PAM_SUCCESS;
        case TG_AUTH_LOCKED: event(pamh, "mfa.refused-locked", LOG_WARNING, user, "account locked"); break;
        case TG_AUTH_WRONG_CODE:
        case TG_AUTH_NOT_ENROLLED:
                event(pamh, "mfa.failure", LOG_WARNING, user, tg_auth_outcome_to_string(res.outcome));
                if (res.locked_now)
                        event(pamh, "mfa.lockout", LOG_WARNING, user, "attempt limit reached");
                break;
        case TG_AUTH_ERROR:
                event(pamh, "mfa.failure", LOG_ERR, user, res.err[0] ? res.err : "MFA state unavailable");
                break;
        }
        pam_error(pamh, "%s", MSG_FAILED);
        return PAM_AUTH_ERR;
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
