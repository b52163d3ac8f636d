/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * pam_termguard: the possession factor (TOTP, or a single-use recovery code) for users whose
 * policy requires multi-factor authentication. The password stays with pam_unix.
 *
 *   auth  requisite                    pam_termguard.so preauth    refuse on a configuration error
 *   auth  [success=1 default=ignore]   pam_unix.so nullok
 *   auth  [default=die]                pam_termguard.so authfail   count a failed password
 *   auth  required                     pam_termguard.so            ask for the code
 *
 * Nothing tells from outside whether an account exists, is covered, or is locked: every name
 * that fails gets the same prompts (the password, then the code, even after a wrong password)
 * and the same message. A lock is enforced at the code step, where a locked attempt fails and
 * counts like a wrong code; only a right code learns of the lock.
 *
 * Every path that cannot establish the second factor (not enrolled, state missing,
 * unreadable, wrong owner or mode, config errors, helper missing) fails: fail closed. When
 * PAM runs as the user (screen lockers), the setuid helper termguard-mfa-verify does the
 * check for the caller's own account; the module never sees a secret. Users the
 * policy does not cover get PAM_IGNORE.
 *
 *   account  required                 pam_termguard.so            refuse a login without the code
 *
 * Some stacks log in without common-auth's auth phase (sshd with a public key alone, GDM's
 * fingerprint and smart-card stacks, login -f). In the account phase of the services that
 * MFAServices= names, a covered user must have passed the second factor in this same PAM
 * transaction: a successful code leaves module data in the handle, which the application
 * cannot set (libpam refuses pam_set_data and pam_get_data from outside a module).
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

#include "termguard/account.h"
#include "termguard/config.h"
#include "termguard/escape.h"
#include "termguard/fileio.h"
#include "termguard/macro.h"
#include "termguard/mfa.h"
#include "termguard/mfa-event.h"
#include "termguard/mfa-verdict.h"

#define _(s) dgettext("termguard", s)
#define MSG_FAILED _("Authentication failed.")
#define MSG_CLOCK _("The system clock is wrong, so the verification code cannot be checked. Tell your administrator.")
/* Module data: the canonical name of the user who passed the second factor in this handle. */
#define DATA_PASSED "pam_termguard.mfa-passed"

typedef struct {
        tg_mfa_step mode;
        const char *config_root;
        const char *helper;
} module_args;

static int parse_args(pam_handle_t *pamh, int argc, const char **argv, module_args *a) {
        *a = (module_args){.mode = TG_MFA_STEP_VERIFY, .config_root = TG_CONFIG_ROOT, .helper = TG_MFA_HELPER};
        for (int i = 0; i < argc; i++) {
                if (strcmp(argv[i], "preauth") == 0)
                        a->mode = TG_MFA_STEP_PREAUTH;
                else if (strcmp(argv[i], "authfail") == 0)
                        a->mode = TG_MFA_STEP_AUTHFAIL;
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

/* Who, where and through which service: the context of every event. Records go to the
 * termguardd and spool of cfg (the defaults until the configuration is read). */
static tg_mfa_event_ctx event_ctx(pam_handle_t *pamh, const tg_config *cfg) {
        const void *service = NULL, *rhost = NULL, *tty = NULL;
        (void) pam_get_item(pamh, PAM_SERVICE, &service);
        (void) pam_get_item(pamh, PAM_RHOST, &rhost);
        (void) pam_get_item(pamh, PAM_TTY, &tty);
        return (tg_mfa_event_ctx){.identifier = "pam_termguard",
                                  .service = service,
                                  .rhost = rhost,
                                  .tty = tty,
                                  .runtime_dir = cfg ? cfg->runtime_dir : NULL,
                                  .state_dir = cfg ? cfg->state_dir : NULL};
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

/* Where the login comes from, escaped: it is shown at the next login. */
static void origin(pam_handle_t *pamh, char *ret, size_t size) {
        const void *rhost = NULL, *tty = NULL;
        (void) pam_get_item(pamh, PAM_RHOST, &rhost);
        (void) pam_get_item(pamh, PAM_TTY, &tty);
        const char *o = rhost && *(const char *) rhost ? rhost : tty ? tty : "";
        tg_escape(o, strlen(o), 40, ret, size);
}

/* Asks for the code even when the outcome is already known (unknown user, locked, not
 * enrolled), so that nothing about the account shows from outside. */
static int ask_code(pam_handle_t *pamh, char **ret) {
        return pam_prompt(pamh, PAM_PROMPT_ECHO_OFF, ret, "%s", _("Verification code: "));
}

/* The message of every failure, whoever the user is: the clock is the machine's. */
static void show_failure(pam_handle_t *pamh) {
        pam_error(pamh, "%s", tg_mfa_clock_plausible(tg_mfa_clock_system()) ? MSG_FAILED : MSG_CLOCK);
}

/* Not root (a screen locker): the setuid helper does the same work for the caller's own
 * account. Fills ret from its answer (lib/mfa-verdict.c); anything unexpected is an error. */
static void run_helper(const char *helper, const char *mode, const char *user, const char *service, const char *code,
                       tg_auth_result *ret) {
        int in[2] = {-1, -1}, out[2] = {-1, -1}, status = -1;
        struct sigaction sa = {.sa_handler = SIG_DFL}, old;
        char buf[TG_MFA_VERDICT_MAX + 2];
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
                /* The application may have fd 0, 1 or 2 closed, so that a pipe end already
                 * sits there: move both ends above 2 first (dup2 onto a different fd also
                 * clears close-on-exec), and give the helper an open stderr. */
                int i0 = fcntl(in[0], F_DUPFD_CLOEXEC, 3), o1 = fcntl(out[1], F_DUPFD_CLOEXEC, 3);
                if (i0 < 0 || o1 < 0 || dup2(i0, 0) < 0 || dup2(o1, 1) < 0)
                        _exit(2);
                if (fcntl(2, F_GETFD) < 0 && open("/dev/null", O_WRONLY) != 2)
                        _exit(2);
                execle(helper, helper, mode, user, service && tg_mfa_valid_service(service) ? service : "-",
                       (char *) NULL, env);
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
                /* An answer that is not exactly as lib/mfa-verdict.c writes it is an error. */
                if (tg_mfa_verdict_parse(buf, (size_t) n, ret) < 0)
                        ret->outcome = TG_AUTH_ERROR; /* as set above; ret is untouched */
                /* The exit status must agree with the outcome it printed. */
                bool ok = status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 0;
                if (ok != tg_auth_succeeded(ret->outcome) && strcmp(mode, "verify") == 0) {
                        ret->outcome = TG_AUTH_ERROR;
                        ret->recorded = false;
                }
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

/* One step through the root path or, when PAM runs as the user, through the helper. */
static void run_step(pam_handle_t *pamh, const module_args *a, const tg_config *cfg, const char *user, const char *code,
                     tg_auth_result *res) {
        static const char *const helper_mode[] = {[TG_MFA_STEP_VERIFY] = "verify",
                                                  [TG_MFA_STEP_PREAUTH] = "preauth",
                                                  [TG_MFA_STEP_AUTHFAIL] = "authfail"};
        if (geteuid() != 0) {
                const void *service = NULL;
                (void) pam_get_item(pamh, PAM_SERVICE, &service);
                run_helper(a->helper, helper_mode[a->mode], user, service, code, res);
        } else if (a->mode == TG_MFA_STEP_PREAUTH)
                tg_mfa_check_lock(cfg, user, tg_mfa_clock_system, res);
        else if (a->mode == TG_MFA_STEP_AUTHFAIL)
                tg_mfa_record_other_failure(cfg, user, tg_mfa_clock_system, res);
        else {
                char from[TG_MFA_FROM_MAX + 1];
                origin(pamh, from, sizeof(from));
                tg_mfa_authenticate(cfg, user, code, from, tg_mfa_clock_system, res);
        }
        if (!res->recorded) {
                tg_mfa_event_ctx ctx = event_ctx(pamh, cfg);
                tg_mfa_outcome_events(&ctx, a->mode, user, res);
                if (res->clock_note[0])
                        tg_mfa_event(&ctx, "mfa.clock-jump", LOG_WARNING, user, res->clock_note);
        }
}

static void free_data(pam_handle_t *pamh _unused_, void *data, int error_status _unused_) {
        free(data);
}

/* The second factor passed (or, in the rollout window, was not yet needed) for user. No
 * success without the record: the account phase would refuse what auth let through. */
static int set_passed(pam_handle_t *pamh, const char *user) {
        char *copy = strdup(user);
        if (!copy)
                return PAM_BUF_ERR;
        int r = pam_set_data(pamh, DATA_PASSED, copy, free_data);
        if (r != PAM_SUCCESS)
                free(copy);
        return r;
}

static int authenticate(pam_handle_t *pamh, const module_args *a) {
        tg_config cfg;
        tg_auth_result res;
        tg_mfa_event_ctx ctx = event_ctx(pamh, NULL);
        const char *given = NULL;
        _cleanup_erase_free_ char *code = NULL;
        char err[512] = "", user[256];
        int r;

        /* A new authentication: only its own outcome counts for the account phase. */
        if (pam_set_data(pamh, DATA_PASSED, NULL, NULL) != PAM_SUCCESS)
                return PAM_AUTH_ERR;
        if (pam_get_user(pamh, &given, NULL) != PAM_SUCCESS || !given || !*given)
                return PAM_AUTH_ERR;
        /* Policy and state by the account's own name, however it was typed. */
        if (tg_canonical_user(given, user, sizeof(user)) < 0) {
                if (a->mode != TG_MFA_STEP_PREAUTH)
                        (void) ask_code(pamh, &code); /* answered, and wiped unread */
                tg_mfa_event(&ctx, "mfa.failure", LOG_ERR, "(lookup failed)", "user database lookup failed");
                if (a->mode != TG_MFA_STEP_PREAUTH)
                        show_failure(pamh);
                return PAM_AUTH_ERR;
        }
        r = tg_config_load_required(a->config_root, &cfg, err, sizeof(err));
        if (r >= 0) {
                ctx = event_ctx(pamh, &cfg);
                r = tg_mfa_check_config(&cfg, err, sizeof(err));
        }
        if (r < 0) {
                tg_mfa_event(&ctx, "mfa.config-error", LOG_ERR, user, err);
                return PAM_AUTH_ERR;
        }
        /* A lock is not refused here, before the password: that would tell anyone which names
         * are accounts under the policy, and which of them are locked. The code step refuses. */
        if (a->mode == TG_MFA_STEP_PREAUTH)
                return PAM_IGNORE;
        bool required = tg_mfa_required(&cfg, user);
        /* Not covered by the policy, at the code step: the rest of the stack decides. */
        if (!required && a->mode == TG_MFA_STEP_VERIFY)
                return PAM_IGNORE;
        /* From here every name sees the same: the banner, the code prompt, the same refusal.
         * After a failed password (authfail) too, for every name, covered or not: the prompts
         * tell nothing about the password, the account or its lock. Its answer is wiped
         * unread. */
        show_banner(pamh, &cfg);
        if (ask_code(pamh, &code) != PAM_SUCCESS || !code)
                return PAM_AUTH_ERR;
        if (required && !tg_mfa_valid_user(user)) {
                tg_mfa_event(&ctx, "mfa.failure", LOG_WARNING, "(invalid name)", "user name not usable");
                show_failure(pamh);
                return PAM_AUTH_ERR;
        }
        /* After a failed password: counted for covered users, and always a refusal (an ignore
         * under [default=die] is not one). */
        if (a->mode == TG_MFA_STEP_AUTHFAIL) {
                if (required)
                        run_step(pamh, a, &cfg, user, NULL, &res);
                show_failure(pamh);
                return PAM_AUTH_ERR;
        }
        run_step(pamh, a, &cfg, user, code, &res);

        switch (res.outcome) {
        case TG_AUTH_OK:
        case TG_AUTH_OK_RECOVERY:
                show_last_login(pamh, &res);
                if (res.outcome == TG_AUTH_OK_RECOVERY)
                        pam_info(pamh, "%s",
                                 _("A recovery code was used. Ask your administrator for new ones if few are left."));
                return set_passed(pamh, user) == PAM_SUCCESS ? PAM_SUCCESS : PAM_AUTH_ERR;
        case TG_AUTH_ROLLOUT:
                pam_info(pamh, "%s",
                         _("You are not yet enrolled for the second factor. Enroll before the rollout ends."));
                return set_passed(pamh, user) == PAM_SUCCESS ? PAM_SUCCESS : PAM_AUTH_ERR;
        case TG_AUTH_LOCKED:
                /* The code was right: the user has the factor, and may know why it fails. */
                pam_error(pamh, "%s",
                          _("This account is locked after too many failed attempts. Ask your administrator to "
                            "unlock it, or try again later."));
                return PAM_AUTH_ERR;
        default: break;
        }
        show_failure(pamh);
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

/* The account phase refuses with PAM_PERM_DENIED, which sshd, GDM and login treat as a refusal
 * (they let only PAM_SUCCESS and PAM_NEW_AUTHTOK_REQD through). */
static int refuse_account(pam_handle_t *pamh, int flags, const tg_mfa_event_ctx *ctx, const char *type, int priority,
                          const char *user, const char *detail) {
        tg_mfa_event(ctx, type, priority, user, detail);
        if (!(flags & PAM_SILENT))
                pam_error(pamh, "%s",
                          _("This login method does not ask for the verification code. Log in with one that does."));
        return PAM_PERM_DENIED;
}

static int account(pam_handle_t *pamh, int flags, const module_args *a) {
        tg_config cfg;
        tg_mfa_event_ctx ctx = event_ctx(pamh, NULL);
        const void *passed = NULL;
        const char *given = NULL;
        char err[512] = "", user[256];
        int r;

        r = tg_config_load_required(a->config_root, &cfg, err, sizeof(err));
        if (r < 0) {
                /* The configured services are unknown: those of the default hold. Other services
                 * (cron, systemd-user) go on, so that a typo does not stop every job. */
                tg_config_default(&cfg);
                ctx = event_ctx(pamh, &cfg);
                tg_mfa_event(&ctx, "mfa.config-error", LOG_ERR, "", err);
                if (!tg_mfa_service_covered(&cfg, ctx.service))
                        return PAM_IGNORE;
                return refuse_account(pamh, flags, &ctx, "mfa.account-refused", LOG_ERR, "",
                                      "configuration error: cannot tell who is covered");
        }
        ctx = event_ctx(pamh, &cfg);
        if (!tg_mfa_service_covered(&cfg, ctx.service))
                return PAM_IGNORE;
        if (pam_get_user(pamh, &given, NULL) != PAM_SUCCESS || !given || !*given)
                return refuse_account(pamh, flags, &ctx, "mfa.account-refused", LOG_WARNING, "", "no user name");
        if (tg_canonical_user(given, user, sizeof(user)) < 0)
                return refuse_account(pamh, flags, &ctx, "mfa.account-refused", LOG_ERR, "(lookup failed)",
                                      "user database lookup failed");
        r = tg_mfa_check_config(&cfg, err, sizeof(err));
        if (r < 0) {
                tg_mfa_event(&ctx, "mfa.config-error", LOG_ERR, user, err);
                return refuse_account(pamh, flags, &ctx, "mfa.account-refused", LOG_ERR, user,
                                      "configuration error: cannot tell who is covered");
        }
        if (!tg_mfa_required(&cfg, user))
                return PAM_IGNORE;
        /* Passed in this transaction, by this account (a module may have changed PAM_USER). */
        if (pam_get_data(pamh, DATA_PASSED, &passed) == PAM_SUCCESS && passed && strcmp(passed, user) == 0)
                return PAM_SUCCESS;
        return refuse_account(pamh, flags, &ctx, "mfa.account-refused", LOG_WARNING, user,
                              "second factor not given in this login");
}

PAM_EXTERN int pam_sm_acct_mgmt(pam_handle_t *pamh, int flags, int argc, const char **argv) {
        module_args a;
        bindtextdomain("termguard", TG_LOCALEDIR);
        if (parse_args(pamh, argc, argv, &a) < 0)
                return PAM_PERM_DENIED;
        return account(pamh, flags, &a);
}

PAM_EXTERN int pam_sm_setcred(pam_handle_t *pamh, int flags, int argc, const char **argv) {
        (void) pamh;
        (void) flags;
        (void) argc;
        (void) argv;
        return PAM_SUCCESS;
}
