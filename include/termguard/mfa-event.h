/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include "termguard/mfa.h"

/* MFA events: one record of the event catalogue per security event, handed to termguardd
 * (lib/record-client.c), which journals it and mirrors it to journald with its MESSAGE_ID
 * (facility authpriv); spooled by a root producer while termguardd does not answer. Every
 * string is escaped before it is written. */

typedef struct {
        const char *identifier;  /* SYSLOG_IDENTIFIER: pam_termguard, termguard-mfa-verify, termguardctl */
        const char *service;     /* PAM service, or NULL */
        const char *rhost;       /* PAM_RHOST, or NULL */
        const char *tty;         /* PAM_TTY, or NULL */
        const char *actor;       /* who acted (administrator commands, the helper's caller), or NULL */
        const char *runtime_dir; /* termguardd's record socket is here; NULL: TG_RUNTIME_DIR_DEFAULT */
        const char *state_dir;   /* the spool is here; NULL: TG_STATE_DIR_DEFAULT */
} tg_mfa_event_ctx;

typedef enum { TG_MFA_STEP_VERIFY, TG_MFA_STEP_PREAUTH, TG_MFA_STEP_AUTHFAIL } tg_mfa_step;

/* A PAM service name the helper accepts from its caller: [A-Za-z0-9._-], 1 to 32 characters. */
bool tg_mfa_valid_service(const char *service);

/* The MESSAGE_ID of an event type ("mfa.success", ...); NULL for an unknown type. */
const char *tg_mfa_event_id(const char *type);

/* Records one event and waits until termguardd has it or it is spooled (at most
 * TG_RECORD_ACK_TIMEOUT_MS before it spools). Returns a tg_record_outcome, or a negative errno
 * when neither took it: then the record goes to syslog(3) with the reason. */
int tg_mfa_event(const tg_mfa_event_ctx *ctx, const char *type, int priority, const char *user, const char *detail);

/* The events of one authentication step's result: success, rollout pass, failure, lockout,
 * refusal while locked, error. Nothing for a preauth that finds the account free. */
void tg_mfa_outcome_events(const tg_mfa_event_ctx *ctx, tg_mfa_step step, const char *user, const tg_auth_result *res);
