/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * termguard-mfa-verify: setuid-root helper for pam_termguard when PAM runs as the user
 * (screen lockers). Like unix_chkpwd for passwords, it works only for the calling user's own
 * account (the name the user database gives for the caller's uid: other names sharing that uid
 * are refused), reads the code from stdin, uses compiled-in paths and nothing from its
 * environment, and every failure counts toward the attempt limit.
 *
 *   termguard-mfa-verify verify USER [SERVICE]     code on stdin
 *   termguard-mfa-verify preauth USER [SERVICE]    is the account locked?
 *   termguard-mfa-verify authfail USER [SERVICE]   count a failure of another factor
 *
 * SERVICE is the caller's PAM service, for the record only ("-" when unknown). The helper
 * records the events itself, as root, so that a user's own process cannot suppress them.
 * Prints its answer as KEY=VALUE lines, written and parsed by lib/mfa-verdict.c.
 * Exit status: 0 success, 1 refused, 2 error or misuse.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include "termguard/account.h"
#include "termguard/config.h"
#include "termguard/mfa.h"
#include "termguard/mfa-event.h"
#include "termguard/mfa-verdict.h"

#ifndef TG_HELPER_CONFIG_ROOT
#define TG_HELPER_CONFIG_ROOT TG_CONFIG_ROOT
#endif

static const char usage[] =
        "usage: termguard-mfa-verify verify|preauth|authfail USER [SERVICE] (installed setuid root)\n";

int main(int argc, char **argv) {
        const char *mode, *user;
        tg_account account;
        int r;
        uid_t caller = getuid();
        tg_config cfg;
        tg_auth_result res;
        char err[512], code[72] = "", from[32], actor[32], canon[TG_MFA_USER_MAX + 1];
        tg_mfa_event_ctx ctx = {.identifier = "termguard-mfa-verify"};
        tg_mfa_step step;

        clearenv();
        umask(077);
        /* Root through and through from here: the calling user can no longer signal (stop or
         * kill) us halfway, and our records carry uid 0 as their sender. The caller's group
         * ids go too (before the user id, which they need): whatever we create is root:root,
         * even where we cannot fix an owner afterwards. */
        if (geteuid() != 0 || setgroups(0, NULL) < 0 || setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0) {
                fputs(usage, stderr);
                return 2;
        }
        /* Nothing the caller set up may shape what we write or leave behind: no core dumps
         * (the state holds secrets), no file size limit (a failure record must never be
         * cut off while a success fits), default signal dispositions (but see below). */
        (void) prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
        if (setrlimit(RLIMIT_CORE, &(struct rlimit){0, 0}) < 0 ||
            setrlimit(RLIMIT_FSIZE, &(struct rlimit){RLIM_INFINITY, RLIM_INFINITY}) < 0)
                return 2;
        for (int sig = 1; sig < NSIG; sig++)
                if (sig != SIGKILL && sig != SIGSTOP)
                        (void) signal(sig, SIG_DFL);
        /* Except the stop signals of the caller's terminal (^Z, a background job touching the
         * terminal): stopped, we would hold the user's lock and every login of the account
         * would wait. The user cannot send SIGSTOP to us (all our user ids are root), and
         * what the terminal may still send (^C, hang-up) ends us, which frees the lock. */
        (void) signal(SIGTSTP, SIG_IGN);
        (void) signal(SIGTTIN, SIG_IGN);
        (void) signal(SIGTTOU, SIG_IGN);
        sigset_t none;
        sigemptyset(&none);
        (void) sigprocmask(SIG_SETMASK, &none, NULL);
        openlog("termguard-mfa-verify", LOG_PID, LOG_AUTHPRIV);
        if (argc != 3 && argc != 4) {
                fputs(usage, stderr);
                return 2;
        }
        mode = argv[1];
        user = argv[2];
        if (strcmp(mode, "verify") == 0)
                step = TG_MFA_STEP_VERIFY;
        else if (strcmp(mode, "preauth") == 0)
                step = TG_MFA_STEP_PREAUTH;
        else if (strcmp(mode, "authfail") == 0)
                step = TG_MFA_STEP_AUTHFAIL;
        else
                return 2;
        snprintf(actor, sizeof(actor), "uid:%u", (unsigned) caller);
        ctx.actor = actor;
        ctx.service = argc == 4 && tg_mfa_valid_service(argv[3]) ? argv[3] : NULL;
        r = tg_mfa_valid_user(user) ? tg_account_by_name(user, &account) : -ENOENT;
        if (r < 0 && r != -ENOENT) {
                tg_mfa_event(&ctx, "mfa.failure", LOG_ERR, user, "user database lookup failed");
                return 2;
        }
        /* Only for oneself: a user cannot probe or lock out somebody else through us. The uid
         * alone does not say who that is when several names share it (a second name for an
         * account): each name has its own state, and the kernel cannot tell them apart. Only
         * the name the user database gives for the caller's uid is "oneself". */
        tg_account self;
        int rs = caller != 0 && r == 0 ? tg_account_by_uid(caller, &self) : 0;
        if (rs < 0 && rs != -ENOENT) {
                tg_mfa_event(&ctx, "mfa.failure", LOG_ERR, user, "user database lookup failed");
                return 2;
        }
        if (r < 0 || (caller != 0 && (account.uid != caller || rs < 0 || strcmp(self.name, account.name) != 0))) {
                tg_mfa_event(&ctx, "mfa.helper-refused", LOG_WARNING, tg_mfa_valid_user(user) ? user : "(invalid name)",
                             "asked about another account");
                return 2;
        }
        /* The account's own name, as the module uses it (names may match without case). */
        if (!tg_mfa_valid_user(account.name) || strlen(account.name) >= sizeof(canon))
                return 2;
        memcpy(canon, account.name, strlen(account.name) + 1);
        user = canon;
        if (tg_config_load_required(TG_HELPER_CONFIG_ROOT, &cfg, err, sizeof(err)) < 0 ||
            tg_mfa_check_config(&cfg, err, sizeof(err)) < 0) {
                tg_mfa_event(&ctx, "mfa.config-error", LOG_ERR, user, err);
                return 2;
        }
        ctx.runtime_dir = cfg.runtime_dir;
        ctx.state_dir = cfg.state_dir;
        snprintf(from, sizeof(from), "unlock (uid %u)", (unsigned) caller);

        if (step == TG_MFA_STEP_VERIFY) {
                if (!fgets(code, sizeof(code), stdin))
                        code[0] = '\0';
                code[strcspn(code, "\r\n")] = '\0';
                tg_mfa_authenticate(&cfg, user, code, from, tg_mfa_clock_system, &res);
                explicit_bzero(code, sizeof(code));
        } else if (step == TG_MFA_STEP_PREAUTH)
                tg_mfa_check_lock(&cfg, user, tg_mfa_clock_system, &res);
        else
                tg_mfa_record_other_failure(&cfg, user, tg_mfa_clock_system, &res);

        tg_mfa_outcome_events(&ctx, step, user, &res);
        if (res.clock_note[0])
                tg_mfa_event(&ctx, "mfa.clock-jump", LOG_WARNING, user, res.clock_note);
        char answer[TG_MFA_VERDICT_MAX + 1];
        if (tg_mfa_verdict_format(&res, answer, sizeof(answer)) < 0 || fputs(answer, stdout) == EOF ||
            fflush(stdout) == EOF)
                return 2;
        if (res.outcome == TG_AUTH_ERROR)
                return 2;
        if (strcmp(mode, "authfail") == 0)
                return 1;
        return tg_auth_succeeded(res.outcome) ? 0 : 1;
}
