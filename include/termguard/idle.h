/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * The idle lock's deadlines, as pure functions of a session's state, the policy and a time
 * handed in (an injected clock): what is due now, and when to look again. termguardd keeps
 * one timer at the earliest of these times (no polling); the unit tests drive the same
 * functions with made-up times.
 *
 * Times are microseconds of CLOCK_REALTIME, as logind's IdleSinceHint; 0 means unknown or
 * none.
 */

#include <stdbool.h>
#include <stdint.h>

/* What termguard has done to a session, kept across daemon restarts. */
typedef enum {
        TG_IDLE_ACTIVE,         /* counting down to the lock */
        TG_IDLE_LOCK_REQUESTED, /* logind was asked to lock; waiting for LockedHint */
        TG_IDLE_LOCKED,         /* LockedHint seen */
        TG_IDLE_LOGOFF_PENDING, /* the lock was not confirmed: logged off at logoff_at */
        TG_IDLE_LOGGED_OFF,     /* logind was asked to terminate the session */
        _TG_IDLE_PHASE_MAX,
} tg_idle_phase;

typedef struct {
        /* From logind. */
        bool idle_hint;
        uint64_t idle_since; /* IdleSinceHint */
        bool locked_hint;
        /* idle_since is the last input even while idle_hint is false: text consoles, where
         * logind takes it from the terminal's access time and signals no change. */
        bool idle_since_is_input;
        uint64_t first_seen; /* when termguard first saw the session: stands for an unknown IdleSinceHint */

        /* From the session helper (termguard-session), only where logind has no IdleHint: the
         * last input it measured (the report's time less its idle time) and when it last
         * reported; 0 when it never did. */
        uint64_t helper_input;
        uint64_t helper_report_at;

        /* The countdown counts from here at the earliest: set when the user is back (an
         * unlock, input after a failed lock) before logind's hints say so. */
        uint64_t not_before;

        /* Termguard's own state. */
        tg_idle_phase phase;
        uint64_t warned_for;        /* the lock deadline the warning was given for */
        uint64_t lock_requested_at; /* TG_IDLE_LOCK_REQUESTED and after */
        uint64_t logoff_at;         /* TG_IDLE_LOGOFF_PENDING */
} tg_idle_session;

typedef struct {
        uint64_t lock_after;      /* idle time before the lock; 0: no idle lock */
        uint64_t warn_before;     /* warning this long before the lock; 0: none */
        uint64_t confirm_timeout; /* how long LockedHint may take */
        uint64_t logoff_grace;    /* from the failed lock to the logoff */
} tg_idle_policy;

typedef enum {
        TG_IDLE_DO_NOTHING,
        TG_IDLE_DO_WARN,        /* tell the user the lock comes at the deadline */
        TG_IDLE_DO_LOCK,        /* ask logind to lock */
        TG_IDLE_DO_LOCK_FAILED, /* no LockedHint in time: warn and start the grace */
        TG_IDLE_DO_LOGOFF,      /* grace over: terminate the session */
        TG_IDLE_DO_CANCEL,      /* input after the failed lock: the logoff is called off */
} tg_idle_action;

#define TG_USEC_PER_SEC UINT64_C(1000000)

const char *tg_idle_phase_to_string(tg_idle_phase p);
int tg_idle_phase_from_string(const char *s, tg_idle_phase *ret);
const char *tg_idle_action_to_string(tg_idle_action a);

/* The last input termguard can attribute to the session, 0 when none is known (a graphical
 * session whose desktop says it is not idle and whose session helper never reported: no
 * deadline until one of them says otherwise). Where logind has no IdleHint, the helper's last
 * report counts: a helper that stops reporting leaves the deadline where its last report put
 * it. */
uint64_t tg_idle_last_input(const tg_idle_session *s);

/* The time the session is to be locked, 0 when no lock is counting down. */
uint64_t tg_idle_lock_deadline(const tg_idle_session *s, const tg_idle_policy *p);

/* What is due at now for s. ret_next (optional) is the next time this function must be called
 * again if nothing changes meanwhile, or 0 when only a change of the session can make
 * anything due. Call again after acting (and updating s with tg_idle_apply()): several
 * actions can be due at once after a long sleep. */
tg_idle_action tg_idle_step(const tg_idle_session *s, const tg_idle_policy *p, uint64_t now, uint64_t *ret_next);

/* A session helper reported idle_ms of input idle time at now (trusted: the caller
 * attributed the report to the session). */
void tg_idle_helper_report(tg_idle_session *s, uint64_t idle_ms, uint64_t now);

/* How often the session helper reports (its reply tells it), µs: a quarter of the lock time,
 * so that a silent helper is noticed long before the deadline, and 1 s to 60 s. */
uint64_t tg_idle_report_interval(const tg_idle_policy *p);
/* When a helper that stopped reporting counts as gone: three intervals after its last report
 * (one late report is not a disappearance); 0 when no helper ever reported. */
uint64_t tg_idle_helper_gone_at(const tg_idle_session *s, const tg_idle_policy *p);

/* Updates s for action a taken at now (phase and its times). */
void tg_idle_apply(tg_idle_session *s, const tg_idle_policy *p, tg_idle_action a, uint64_t now);

/* logind reported a new LockedHint: locked moves a lock in progress (or any phase) to
 * TG_IDLE_LOCKED; an unlock starts the countdown again. Returns true when the phase changed. */
bool tg_idle_locked_changed(tg_idle_session *s, bool locked, uint64_t now);
