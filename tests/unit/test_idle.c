/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The idle lock's deadlines (lib/idle.c) with an injected clock: every time is made up. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "termguard/idle.h"

#define S(n) ((uint64_t) (n) *TG_USEC_PER_SEC)
#define T0 S(1800000000) /* 2027-01-15: any absolute time */

static const tg_idle_policy policy = {
        .lock_after = S(600), .warn_before = S(60), .confirm_timeout = S(5), .logoff_grace = S(120)};

static tg_idle_session idle_since(uint64_t t) {
        return (tg_idle_session){.idle_hint = true, .idle_since = t, .first_seen = T0, .phase = TG_IDLE_ACTIVE};
}

static void expect_step(const tg_idle_session *s, const tg_idle_policy *p, uint64_t now, tg_idle_action want,
                        uint64_t want_next) {
        uint64_t next = 12345;
        tg_idle_action a = tg_idle_step(s, p, now, &next);
        if (a != want)
                fail_msg("at %llu: %s, want %s", (unsigned long long) now, tg_idle_action_to_string(a),
                         tg_idle_action_to_string(want));
        if (next != want_next)
                fail_msg("at %llu: next %llu, want %llu", (unsigned long long) now, (unsigned long long) next,
                         (unsigned long long) want_next);
}

/* The deadline is IdleSinceHint + LockAfter, absolute: a daemon started late (or restarted)
 * computes the same deadline and locks at once when it has passed. */
static void deadline_counts_from_idle_since(void **state) {
        (void) state;
        tg_idle_session s = idle_since(T0 + S(100));
        assert_int_equal(tg_idle_lock_deadline(&s, &policy), T0 + S(700));
        expect_step(&s, &policy, T0 + S(100), TG_IDLE_DO_NOTHING, T0 + S(640));
        expect_step(&s, &policy, T0 + S(639), TG_IDLE_DO_NOTHING, T0 + S(640));
        expect_step(&s, &policy, T0 + S(640), TG_IDLE_DO_WARN, T0 + S(640));
        tg_idle_apply(&s, &policy, TG_IDLE_DO_WARN, T0 + S(640));
        expect_step(&s, &policy, T0 + S(640), TG_IDLE_DO_NOTHING, T0 + S(700));
        expect_step(&s, &policy, T0 + S(700), TG_IDLE_DO_LOCK, T0 + S(700));
        /* long after (the machine slept, the daemon was down): the lock, without a warning */
        s = idle_since(T0 + S(100));
        expect_step(&s, &policy, T0 + S(5000), TG_IDLE_DO_LOCK, T0 + S(5000));
}

/* Input moves IdleSinceHint (or ends IdleHint): the countdown starts again, and a warning
 * given for the old deadline does not count for the new one. */
static void activity_resets_the_countdown(void **state) {
        (void) state;
        tg_idle_session s = idle_since(T0);
        tg_idle_apply(&s, &policy, TG_IDLE_DO_WARN, T0 + S(540));
        s.idle_hint = false; /* the user is back */
        expect_step(&s, &policy, T0 + S(599), TG_IDLE_DO_NOTHING, 0);
        expect_step(&s, &policy, T0 + S(10000), TG_IDLE_DO_NOTHING, 0);
        s.idle_hint = true;
        s.idle_since = T0 + S(590);
        expect_step(&s, &policy, T0 + S(600), TG_IDLE_DO_NOTHING, T0 + S(1130));
        expect_step(&s, &policy, T0 + S(1130), TG_IDLE_DO_WARN, T0 + S(1130));
}

/* Text consoles: logind reports the terminal's last input in IdleSinceHint while IdleHint is
 * false and signals nothing; the deadline counts from it all the same. */
static void console_counts_from_last_input(void **state) {
        (void) state;
        tg_idle_session s = {.idle_since = T0, .idle_since_is_input = true, .first_seen = T0};
        expect_step(&s, &policy, T0 + S(1), TG_IDLE_DO_NOTHING, T0 + S(540));
        /* a graphical session that does not say it is idle has no deadline */
        s.idle_since_is_input = false;
        expect_step(&s, &policy, T0 + S(1), TG_IDLE_DO_NOTHING, 0);
        assert_int_equal(tg_idle_lock_deadline(&s, &policy), 0);
}

/* No IdleSinceHint: the time termguard first saw the session stands in (never earlier). */
static void unknown_idle_since_counts_from_first_seen(void **state) {
        (void) state;
        tg_idle_session s = idle_since(0);
        s.first_seen = T0 + S(50);
        assert_int_equal(tg_idle_lock_deadline(&s, &policy), T0 + S(650));
}

static void no_warning_when_off_and_no_lock_when_off(void **state) {
        (void) state;
        tg_idle_policy p = policy;
        tg_idle_session s = idle_since(T0);
        p.warn_before = 0;
        expect_step(&s, &p, T0 + S(1), TG_IDLE_DO_NOTHING, T0 + S(600));
        expect_step(&s, &p, T0 + S(600), TG_IDLE_DO_LOCK, T0 + S(600));
        p.lock_after = 0;
        expect_step(&s, &p, T0 + S(100000), TG_IDLE_DO_NOTHING, 0);
        /* a warning longer than the countdown is due at once */
        p = policy;
        p.warn_before = S(3600);
        expect_step(&s, &p, T0 + S(1), TG_IDLE_DO_WARN, T0 + S(1));
}

/* Lock requested: LockedHint confirms it; none within ConfirmTimeout fails it, and the
 * session is logged off LogoffGrace later. */
static void unconfirmed_lock_logs_off_after_the_grace(void **state) {
        (void) state;
        tg_idle_session s = idle_since(T0);
        tg_idle_apply(&s, &policy, TG_IDLE_DO_LOCK, T0 + S(600));
        assert_int_equal(s.phase, TG_IDLE_LOCK_REQUESTED);
        expect_step(&s, &policy, T0 + S(601), TG_IDLE_DO_NOTHING, T0 + S(605));
        expect_step(&s, &policy, T0 + S(605), TG_IDLE_DO_LOCK_FAILED, T0 + S(605));
        tg_idle_apply(&s, &policy, TG_IDLE_DO_LOCK_FAILED, T0 + S(605));
        assert_int_equal(s.phase, TG_IDLE_LOGOFF_PENDING);
        assert_int_equal(s.logoff_at, T0 + S(725));
        expect_step(&s, &policy, T0 + S(606), TG_IDLE_DO_NOTHING, T0 + S(725));
        expect_step(&s, &policy, T0 + S(725), TG_IDLE_DO_LOGOFF, T0 + S(725));
        tg_idle_apply(&s, &policy, TG_IDLE_DO_LOGOFF, T0 + S(725));
        assert_int_equal(s.phase, TG_IDLE_LOGGED_OFF);
        expect_step(&s, &policy, T0 + S(99999), TG_IDLE_DO_NOTHING, 0);
}

static void confirmed_lock_waits_for_unlock(void **state) {
        (void) state;
        tg_idle_session s = idle_since(T0);
        tg_idle_apply(&s, &policy, TG_IDLE_DO_LOCK, T0 + S(600));
        assert_true(tg_idle_locked_changed(&s, true, T0 + S(601)));
        assert_int_equal(s.phase, TG_IDLE_LOCKED);
        expect_step(&s, &policy, T0 + S(99999), TG_IDLE_DO_NOTHING, 0);
        /* unlocked with IdleHint still stale: the countdown starts from the unlock */
        assert_true(tg_idle_locked_changed(&s, false, T0 + S(2000)));
        assert_int_equal(s.phase, TG_IDLE_ACTIVE);
        assert_int_equal(tg_idle_lock_deadline(&s, &policy), T0 + S(2600));
        expect_step(&s, &policy, T0 + S(2001), TG_IDLE_DO_NOTHING, T0 + S(2540));
        /* an unchanged hint changes nothing */
        assert_false(tg_idle_locked_changed(&s, false, T0 + S(2002)));
        /* a lock confirmed during the grace ends the logoff */
        tg_idle_apply(&s, &policy, TG_IDLE_DO_LOCK, T0 + S(2600));
        tg_idle_apply(&s, &policy, TG_IDLE_DO_LOCK_FAILED, T0 + S(2605));
        assert_true(tg_idle_locked_changed(&s, true, T0 + S(2610)));
        assert_int_equal(s.phase, TG_IDLE_LOCKED);
        assert_int_equal(s.logoff_at, 0);
}

/* Input during the grace calls the logoff off; idleness alone does not. */
static void input_during_the_grace_cancels_the_logoff(void **state) {
        (void) state;
        tg_idle_session s = {.idle_since = T0, .idle_since_is_input = true, .first_seen = T0};
        tg_idle_apply(&s, &policy, TG_IDLE_DO_LOCK, T0 + S(600));
        tg_idle_apply(&s, &policy, TG_IDLE_DO_LOCK_FAILED, T0 + S(605));
        expect_step(&s, &policy, T0 + S(700), TG_IDLE_DO_NOTHING, T0 + S(725));
        s.idle_since = T0 + S(650); /* typed on the console */
        expect_step(&s, &policy, T0 + S(700), TG_IDLE_DO_CANCEL, T0 + S(700));
        tg_idle_apply(&s, &policy, TG_IDLE_DO_CANCEL, T0 + S(700));
        assert_int_equal(s.phase, TG_IDLE_ACTIVE);
        /* counted again from the cancel at the earliest */
        assert_int_equal(tg_idle_lock_deadline(&s, &policy), T0 + S(1300));
        /* a graphical session: IdleHint false cancels */
        tg_idle_session g = idle_since(T0);
        tg_idle_apply(&g, &policy, TG_IDLE_DO_LOCK, T0 + S(600));
        tg_idle_apply(&g, &policy, TG_IDLE_DO_LOCK_FAILED, T0 + S(605));
        expect_step(&g, &policy, T0 + S(700), TG_IDLE_DO_NOTHING, T0 + S(725));
        g.idle_hint = false;
        expect_step(&g, &policy, T0 + S(700), TG_IDLE_DO_CANCEL, T0 + S(700));
}

/* A graphical session whose desktop reports no IdleHint: the session helper's reports give
 * the last input; a helper that stops reporting leaves the deadline at its last report. */
static void helper_reports_give_the_input(void **state) {
        (void) state;
        tg_idle_session s = {.first_seen = T0, .phase = TG_IDLE_ACTIVE};
        /* no report: no deadline (nothing known) */
        expect_step(&s, &policy, T0 + S(10000), TG_IDLE_DO_NOTHING, 0);
        assert_int_equal(tg_idle_helper_gone_at(&s, &policy), 0);
        tg_idle_helper_report(&s, 30000, T0 + S(100)); /* idle for 30 s at T0+100 */
        assert_int_equal(s.helper_input, T0 + S(70));
        assert_int_equal(tg_idle_lock_deadline(&s, &policy), T0 + S(670));
        /* input: the next report moves the deadline */
        tg_idle_helper_report(&s, 0, T0 + S(250));
        assert_int_equal(tg_idle_lock_deadline(&s, &policy), T0 + S(850));
        /* the helper is killed: the deadline stays where its last report put it */
        expect_step(&s, &policy, T0 + S(789), TG_IDLE_DO_NOTHING, T0 + S(790));
        expect_step(&s, &policy, T0 + S(790), TG_IDLE_DO_WARN, T0 + S(790));
        tg_idle_apply(&s, &policy, TG_IDLE_DO_WARN, T0 + S(790));
        expect_step(&s, &policy, T0 + S(849), TG_IDLE_DO_NOTHING, T0 + S(850));
        expect_step(&s, &policy, T0 + S(850), TG_IDLE_DO_LOCK, T0 + S(850));
        /* gone three intervals (600 s / 4 = 150 s, at most 60 s: 60 s) after the last report */
        assert_int_equal(tg_idle_report_interval(&policy), S(60));
        assert_int_equal(tg_idle_helper_gone_at(&s, &policy), T0 + S(430));
        /* the desktop's IdleHint comes first where it is given */
        s.idle_hint = true;
        s.idle_since = T0 + S(50);
        assert_int_equal(tg_idle_lock_deadline(&s, &policy), T0 + S(650));
        /* a bogus idle time longer than the clock: locked at once, not never */
        tg_idle_session b = {.first_seen = T0, .phase = TG_IDLE_ACTIVE};
        tg_idle_helper_report(&b, UINT64_MAX, T0);
        expect_step(&b, &policy, T0, TG_IDLE_DO_LOCK, T0);
}

/* Input reported by the helper during the grace calls the logoff off; a report of no input
 * does not. */
static void helper_input_during_the_grace_cancels(void **state) {
        (void) state;
        tg_idle_session s = {.first_seen = T0, .phase = TG_IDLE_ACTIVE};
        tg_idle_helper_report(&s, 600000, T0 + S(600));
        expect_step(&s, &policy, T0 + S(600), TG_IDLE_DO_LOCK, T0 + S(600));
        tg_idle_apply(&s, &policy, TG_IDLE_DO_LOCK, T0 + S(600));
        tg_idle_apply(&s, &policy, TG_IDLE_DO_LOCK_FAILED, T0 + S(605));
        tg_idle_helper_report(&s, 610000, T0 + S(610));
        expect_step(&s, &policy, T0 + S(610), TG_IDLE_DO_NOTHING, T0 + S(725));
        tg_idle_helper_report(&s, 1000, T0 + S(620));
        expect_step(&s, &policy, T0 + S(620), TG_IDLE_DO_CANCEL, T0 + S(620));
}

/* The report interval follows the lock time, within 1 s and 60 s. */
static void report_interval_bounds(void **state) {
        (void) state;
        tg_idle_policy p = policy;
        p.lock_after = S(2);
        assert_int_equal(tg_idle_report_interval(&p), S(1));
        p.lock_after = S(8);
        assert_int_equal(tg_idle_report_interval(&p), S(2));
        p.lock_after = 0;
        assert_int_equal(tg_idle_report_interval(&p), S(60));
}

/* Bad values: times at the end of the range do not wrap around into the past. */
static void saturating_times(void **state) {
        (void) state;
        tg_idle_policy p = policy;
        tg_idle_session s = idle_since(UINT64_MAX - S(1));
        assert_int_equal(tg_idle_lock_deadline(&s, &p), UINT64_MAX);
        expect_step(&s, &p, T0, TG_IDLE_DO_NOTHING, UINT64_MAX - S(60));
        p.logoff_grace = UINT64_MAX;
        tg_idle_apply(&s, &p, TG_IDLE_DO_LOCK_FAILED, T0);
        assert_int_equal(s.logoff_at, UINT64_MAX);
}

static void phase_names(void **state) {
        tg_idle_phase p;
        (void) state;
        for (int i = 0; i < _TG_IDLE_PHASE_MAX; i++) {
                assert_int_equal(tg_idle_phase_from_string(tg_idle_phase_to_string((tg_idle_phase) i), &p), 0);
                assert_int_equal(p, i);
        }
        assert_int_equal(tg_idle_phase_from_string("Locked", &p), -EINVAL);
        assert_int_equal(tg_idle_phase_from_string(NULL, &p), -EINVAL);
        assert_null(tg_idle_phase_to_string(_TG_IDLE_PHASE_MAX));
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(deadline_counts_from_idle_since),
                cmocka_unit_test(activity_resets_the_countdown),
                cmocka_unit_test(console_counts_from_last_input),
                cmocka_unit_test(unknown_idle_since_counts_from_first_seen),
                cmocka_unit_test(no_warning_when_off_and_no_lock_when_off),
                cmocka_unit_test(unconfirmed_lock_logs_off_after_the_grace),
                cmocka_unit_test(confirmed_lock_waits_for_unlock),
                cmocka_unit_test(input_during_the_grace_cancels_the_logoff),
                cmocka_unit_test(helper_reports_give_the_input),
                cmocka_unit_test(helper_input_during_the_grace_cancels),
                cmocka_unit_test(report_interval_bounds),
                cmocka_unit_test(saturating_times),
                cmocka_unit_test(phase_names),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
