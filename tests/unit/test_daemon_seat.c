/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * termguardd following the user on seat0 (agent/seat.c, from the termguardd_lib library) against
 * the real sd-login: it reads logind's seat file /run/systemd/seats/seat0 (ACTIVE_UID=) and
 * watches /run/systemd/seats/ with inotify. The test writes those files itself on a tmpfs of
 * its own over /run/systemd, in a mount namespace of its own (root of a user namespace through
 * run-as-root.sh, or root), so the host's seat state is never read nor touched.
 *
 * The gap at start: seat_start() subscribes to the seat state first and reads the user second,
 * so a change of user in between is reported by the monitor. The change is put exactly after
 * the read, through the linker (--wrap of sd_seat_get_active: the wrapper calls the real
 * function, then rewrites seat0 as logind does), with no timing: the event loop runs until the
 * change arrived or a generous bound of rounds is spent, and only the state is asserted.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <systemd/sd-event.h>
#include <systemd/sd-login.h>

#include "cleanup.h"
#include "helpers.h"
#include "seat.h"
#include "termguard/fileio.h"
#include "termguard/macro.h"

#define SYSTEMD_RUN "/run/systemd"
#define SEATS_DIR SYSTEMD_RUN "/seats"
#define SEAT0 SEATS_DIR "/seat0"
/* Rounds of the event loop waited for a change, each at most ROUND_USEC: generous, as only
 * the state is asserted (a change that is lost spends them all and fails). */
#define ROUNDS_MAX 50
#define ROUND_USEC (100 * 1000)
/* Accounts of every Debian system: root and daemon. */
#define OLD_UID 0
#define OLD_USER "root"
#define NEW_UID 1
#define NEW_USER "daemon"
/* A uid with no account (and neither -1 nor 65535, which sd-login refuses). */
#define NO_ACCOUNT_UID 4123456
#define STR_(x) #x
#define STRINGIFY(x) STR_(x)

static char dir[64];
static Manager m;
/* The triggers of the manager's `changed` calls, in order, and how many. */
static char triggers[256];
static unsigned n_changed;
/* Reads of the seat through sd_seat_get_active, and what the first read of seat_start got. */
static unsigned n_reads;
static int first_read_result;
static uid_t first_read_uid;
/* When set, the next read rewrites seat0 with this content right after reading it. */
static const char *change_after_read;

int __real_sd_seat_get_active(const char *seat, char **session, uid_t *uid);

/* As logind writes it: a temporary file renamed over the seat file (one IN_MOVED_TO). */
static void write_seat(const char *content) {
        const char *tmp = SEATS_DIR "/.#seat0-test";
        _cleanup_close_ int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

        assert_true(fd >= 0);
        assert_int_equal(write(fd, content, strlen(content)), (ssize_t) strlen(content));
        assert_int_equal(rename(tmp, SEAT0), 0);
}

int __wrap_sd_seat_get_active(const char *seat, char **session, uid_t *uid) {
        int r = __real_sd_seat_get_active(seat, session, uid);

        if (n_reads++ == 0) {
                first_read_result = r;
                first_read_uid = r >= 0 && uid ? *uid : (uid_t) -1;
        }
        if (change_after_read) {
                const char *content = change_after_read;
                change_after_read = NULL;
                write_seat(content);
        }
        return r;
}

static void changed(Manager *mgr, const char *trigger) {
        size_t o = strlen(triggers);

        assert_ptr_equal(mgr, &m);
        snprintf(triggers + o, sizeof(triggers) - o, "%s%s", o ? " " : "", trigger);
        n_changed++;
}

/* Runs the event loop until `changed` was called or, with `reads`, until the seat was read
 * that many times in all; at most ROUNDS_MAX rounds. */
static void run_until(unsigned reads) {
        for (int i = 0; i < ROUNDS_MAX && n_changed == 0 && (reads == 0 || n_reads < reads); i++)
                assert_true(sd_event_run(m.event, ROUND_USEC) >= 0);
}

static int setup(void **state) {
        (void) state;

        /* Every case starts from an empty /run/systemd: no seats unless it writes them. */
        assert_int_equal(mount("termguard-test-systemd", SYSTEMD_RUN, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755"), 0);
        test_tmpdir("daemon-seat", dir, sizeof(dir));
        test_events_capture(dir);

        m = (Manager){0};
        assert_int_equal(sd_event_new(&m.event), 0);
        triggers[0] = '\0';
        n_changed = n_reads = 0;
        first_read_result = 0;
        first_read_uid = (uid_t) -1;
        change_after_read = NULL;
        return 0;
}

static int teardown(void **state) {
        (void) state;

        seat_stop(&m);
        m.event = sd_event_unref(m.event);
        test_events_release();
        test_rmtree(dir);
        assert_int_equal(umount2(SYSTEMD_RUN, MNT_DETACH), 0);
        return 0;
}

static void make_seats_dir(void) {
        assert_int_equal(mkdir(SEATS_DIR, 0755), 0);
}

/* The user changes right after seat_start read it: the monitor, subscribed before the read,
 * reports it; the old order (read, then subscribe) would keep the old user for good. */
static void change_between_read_and_start_is_followed(void **state) {
        (void) state;
        const char *events;

        make_seats_dir();
        write_seat("IS_SEAT0=1\nACTIVE=c1\nACTIVE_UID=" STRINGIFY(OLD_UID) "\n");
        change_after_read = "IS_SEAT0=1\nACTIVE=c2\nACTIVE_UID=" STRINGIFY(NEW_UID) "\n";
        assert_int_equal(seat_start(&m, changed), 0);
        assert_non_null(m.seat_monitor);
        /* The read got the old user, and the change came after it. */
        assert_int_equal(n_reads, 1);
        assert_int_equal(first_read_result, 0);
        assert_int_equal(first_read_uid, OLD_UID);
        assert_null(change_after_read);
        assert_string_equal(m.seat_user, OLD_USER);
        assert_int_equal(n_changed, 0);

        run_until(0);
        assert_int_equal(n_changed, 1);
        assert_string_equal(triggers, "seat-change");
        assert_string_equal(m.seat_user, NEW_USER);
        /* On the record, with the new user. */
        events = test_events_read();
        assert_non_null(strstr(events, "\"seat.user-changed\""));
        assert_non_null(strstr(events, "\"" NEW_USER "\""));
}

/* After start, the user leaving the seat (no ACTIVE_UID=) is a change to nobody. */
static void user_leaving_is_a_change_to_nobody(void **state) {
        (void) state;

        make_seats_dir();
        write_seat("IS_SEAT0=1\nACTIVE=c1\nACTIVE_UID=" STRINGIFY(NEW_UID) "\n");
        assert_int_equal(seat_start(&m, changed), 0);
        assert_string_equal(m.seat_user, NEW_USER);
        write_seat("IS_SEAT0=1\n");
        run_until(0);
        assert_int_equal(n_changed, 1);
        assert_string_equal(triggers, "seat-change");
        assert_string_equal(m.seat_user, "");
        assert_non_null(strstr(test_events_read(), "Nobody on the seat"));
}

/* logind rewrites seat0 for other reasons too (another session, the same user): the same user
 * is no change, and devices are not judged again. The seat must have been read again (the
 * monitor fired) before that is asserted. */
static void same_user_rewritten_is_no_change(void **state) {
        (void) state;

        make_seats_dir();
        write_seat("IS_SEAT0=1\nACTIVE=c1\nACTIVE_UID=" STRINGIFY(NEW_UID) "\n");
        assert_int_equal(seat_start(&m, changed), 0);
        assert_int_equal(n_reads, 1);
        write_seat("IS_SEAT0=1\nACTIVE=c3\nACTIVE_UID=" STRINGIFY(NEW_UID) "\nSESSIONS=c1 c3\n");
        run_until(2);
        assert_int_equal(n_reads, 2);
        assert_int_equal(n_changed, 0);
        assert_string_equal(m.seat_user, NEW_USER);
}

/* No logind state at all (minimal systems): termguardd starts, and nobody holds the seat. */
static void no_seat_state_is_nobody(void **state) {
        (void) state;

        assert_int_equal(seat_start(&m, changed), 0);
        assert_null(m.seat_monitor);
        assert_null(m.seat_source);
        assert_string_equal(m.seat_user, "");
        assert_null(seat_user());
        assert_int_equal(n_changed, 0);
}

/* A seat whose file names no active user: nobody. */
static void nobody_active_is_nobody(void **state) {
        (void) state;

        make_seats_dir();
        write_seat("IS_SEAT0=1\nCAN_MULTI_SESSION=1\nCAN_TTY=1\nCAN_GRAPHICAL=1\n");
        assert_int_equal(seat_start(&m, changed), 0);
        assert_non_null(m.seat_monitor);
        assert_string_equal(m.seat_user, "");
        assert_null(seat_user());
}

/* A uid with no account (a stale or broken directory entry) is shown as the uid, never as
 * nobody: exceptions of named users do not apply to it, and the record says who it was. */
static void uid_without_account_is_shown_as_uid(void **state) {
        (void) state;

        assert_null(getpwuid(NO_ACCOUNT_UID));
        make_seats_dir();
        write_seat("IS_SEAT0=1\nACTIVE=c1\nACTIVE_UID=" STRINGIFY(NO_ACCOUNT_UID) "\n");
        assert_int_equal(seat_start(&m, changed), 0);
        assert_string_equal(m.seat_user, "uid:" STRINGIFY(NO_ACCOUNT_UID));
        assert_string_equal(seat_user(), "uid:" STRINGIFY(NO_ACCOUNT_UID));
}

/* A seat file that is not logind's (an ACTIVE_UID= that is no number): nobody, not a user. */
static void unreadable_uid_is_nobody(void **state) {
        (void) state;

        make_seats_dir();
        write_seat("IS_SEAT0=1\nACTIVE=c1\nACTIVE_UID=root\n");
        assert_int_equal(seat_start(&m, changed), 0);
        assert_string_equal(m.seat_user, "");
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(change_between_read_and_start_is_followed, setup, teardown),
                cmocka_unit_test_setup_teardown(user_leaving_is_a_change_to_nobody, setup, teardown),
                cmocka_unit_test_setup_teardown(same_user_rewritten_is_no_change, setup, teardown),
                cmocka_unit_test_setup_teardown(no_seat_state_is_nobody, setup, teardown),
                cmocka_unit_test_setup_teardown(nobody_active_is_nobody, setup, teardown),
                cmocka_unit_test_setup_teardown(uid_without_account_is_shown_as_uid, setup, teardown),
                cmocka_unit_test_setup_teardown(unreadable_uid_is_nobody, setup, teardown),
        };

        /* A mount namespace of this program's own, with no propagation back: the tmpfs over
         * /run/systemd is never the host's. Root of a user namespace (run-as-root.sh) may do
         * this; anyone else is skipped. */
        if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) {
                fprintf(stderr, "test_daemon_seat: no mount namespace of its own (%s): skipped\n", strerror(errno));
                return 77;
        }
        if (mkdir(SYSTEMD_RUN, 0755) < 0 && errno != EEXIST) {
                fprintf(stderr, "test_daemon_seat: cannot create %s: %s\n", SYSTEMD_RUN, strerror(errno));
                return 1;
        }
        return cmocka_run_group_tests(tests, NULL, NULL);
}
