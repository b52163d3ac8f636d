/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include "termguard/mfa.h"

/* MFA events: one journal record per security event, with a stable MESSAGE_ID and
 * TERMGUARD_* fields, facility authpriv; syslog(3) when journald is not there. Every string
 * is escaped before it is written. */

typedef struct {
        const char *identifier; /* SYSLOG_IDENTIFIER: pam_termguard, termguard-mfa-verify, termguardctl */
        const char *service;    /* PAM service, or NULL */
        const char *rhost;      /* PAM_RHOST, or NULL */
        const char *tty;        /* PAM_TTY, or NULL */
        const char *actor;      /* who acted (administrator commands, the helper's caller), or NULL */
} tg_mfa_event_ctx;

typedef enum { TG_MFA_STEP_VERIFY, TG_MFA_STEP_PREAUTH, TG_MFA_STEP_AUTHFAIL } tg_mfa_step;

/* A PAM service name the helper accepts from its caller: [A-Za-z0-9._-], 1 to 32 characters. */
bool tg_mfa_valid_service(const char *service);

/* The MESSAGE_ID of an event type ("mfa.success", ...); NULL for an unknown type. */
const char *tg_mfa_event_id(const char *type);

void tg_mfa_event(const tg_mfa_event_ctx *ctx, const char *type, int priority, const char *user, const char *detail);

/* The events of one authentication step's result: success, rollout pass, failure, lockout,
 * refusal while locked, error. Nothing for a preauth that finds the account free. */
void tg_mfa_outcome_events(const tg_mfa_event_ctx *ctx, tg_mfa_step step, const char *user, const tg_auth_result *res);
