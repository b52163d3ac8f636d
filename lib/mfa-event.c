/* SPDX-License-Identifier: GPL-2.0-or-later */
#define _GNU_SOURCE
#include <stdio.h>
#include <errno.h>
#include <string.h>
#include <syslog.h>

#include "termguard/escape.h"
#include "termguard/config.h"
#include "termguard/event-catalogue.h"
#include "termguard/macro.h"
#include "termguard/mfa-event.h"
#include "termguard/record.h"

bool tg_mfa_valid_service(const char *service) {
        size_t n = strspn(service, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-");
        return n > 0 && n <= 32 && service[n] == '\0';
}

const char *tg_mfa_event_id(const char *type) {
        const tg_event_type *t = tg_event_lookup(type);
        return t ? t->message_id : NULL;
}

int tg_mfa_event(const tg_mfa_event_ctx *ctx, const char *type, int priority, const char *user, const char *detail) {
        char u[4 * 64 + 1], svc[4 * 32 + 1], rhost[4 * 64 + 1], tty[4 * 32 + 1], actor[4 * 64 + 1], det[4 * 128 + 1];
        char message[2048], err[512] = "";
        tg_record rec;
        int r;

        /* Bounded and escaped: PAM items and names come from the application or the network. */
        tg_escape(user ? user : "", user ? strlen(user) : 0, 64, u, sizeof(u));
        tg_escape(ctx->service ? ctx->service : "", ctx->service ? strlen(ctx->service) : 0, 32, svc, sizeof(svc));
        tg_escape(ctx->rhost ? ctx->rhost : "", ctx->rhost ? strlen(ctx->rhost) : 0, 64, rhost, sizeof(rhost));
        tg_escape(ctx->tty ? ctx->tty : "", ctx->tty ? strlen(ctx->tty) : 0, 32, tty, sizeof(tty));
        tg_escape(ctx->actor ? ctx->actor : "", ctx->actor ? strlen(ctx->actor) : 0, 64, actor, sizeof(actor));
        tg_escape(detail ? detail : "", detail ? strlen(detail) : 0, 128, det, sizeof(det));
        snprintf(message, sizeof(message), "%s user=%s service=%s rhost=%s tty=%s%s%s%s%s", type, u, svc, rhost, tty,
                 actor[0] ? " actor=" : "", actor, det[0] ? " " : "", det);

        r = tg_record_init(&rec, type, priority, ctx->identifier, message);
        if (r >= 0) {
                const char *const kv[][2] = {{"user", u},  {"service", svc}, {"rhost", rhost},
                                             {"tty", tty}, {"actor", actor}, {"detail", det}};
                for (size_t i = 0; r >= 0 && i < ELEMENTSOF(kv); i++)
                        r = tg_record_set_escaped(&rec, kv[i][0], kv[i][1]);
                if (r >= 0)
                        r = tg_record_submit(ctx->runtime_dir ? ctx->runtime_dir : TG_RUNTIME_DIR_DEFAULT,
                                             ctx->state_dir ? ctx->state_dir : TG_STATE_DIR_DEFAULT, &rec, err,
                                             sizeof(err));
                tg_record_done(&rec);
        } else
                snprintf(err, sizeof(err), "cannot make the record: %s", strerror(-r));
        if (r < 0)
                /* Neither termguardd nor the spool has it (a user's process while termguardd is not
                 * running, a full disk): syslog, without touching the caller's openlog(), says what
                 * was not recorded and why. */
                syslog(LOG_AUTHPRIV | priority, "%s: %s (not in the termguard journal: %s)", ctx->identifier, message,
                       err);
        return r;
}

void tg_mfa_outcome_events(const tg_mfa_event_ctx *ctx, tg_mfa_step step, const char *user, const tg_auth_result *res) {
        switch (res->outcome) {
        case TG_AUTH_OK:
        case TG_AUTH_OK_RECOVERY:
                if (step == TG_MFA_STEP_VERIFY)
                        tg_mfa_event(ctx, "mfa.success", LOG_INFO, user,
                                     res->outcome == TG_AUTH_OK_RECOVERY ? "recovery code" : "totp");
                return;
        case TG_AUTH_ROLLOUT:
                tg_mfa_event(ctx, "mfa.rollout-pass", LOG_NOTICE, user, "not enrolled; rollout window");
                return;
        case TG_AUTH_LOCKED: tg_mfa_event(ctx, "mfa.refused-locked", LOG_WARNING, user, "account locked"); return;
        case TG_AUTH_ERROR:
                tg_mfa_event(ctx, "mfa.failure", LOG_ERR, user, res->err[0] ? res->err : "MFA state unavailable");
                break;
        case TG_AUTH_WRONG_CODE:
        case TG_AUTH_NOT_ENROLLED:
                tg_mfa_event(ctx, "mfa.failure", LOG_WARNING, user,
                             step == TG_MFA_STEP_AUTHFAIL ? "password" : tg_auth_outcome_to_string(res->outcome));
                break;
        }
        if (res->locked_now)
                tg_mfa_event(ctx, "mfa.lockout", LOG_WARNING, user, "attempt limit reached");
}
