/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What termguardd takes as the host's mount namespace (agent/mounts.c): the unit hands it
 * over through the service manager's fd store, and only a mount namespace is accepted; a
 * refusal keeps termguardd from starting (it would unmount in the wrong place). Entering it
 * and unmounting there is the VM tier's (tests/vm/systemd.sh).
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include <cmocka.h>

#include "mounts.h"

static void regular_file_is_refused(void **state) {
        (void) state;
        int fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);

        assert_true(fd >= 0);
        assert_int_equal(mounts_set_host_namespace(fd), -ENOTTY);
        assert_int_equal(close(fd), 0); /* not taken */
}

static void other_namespace_type_is_refused(void **state) {
        (void) state;
        int fd = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);

        assert_true(fd >= 0);
        assert_int_equal(mounts_set_host_namespace(fd), -EINVAL);
        assert_int_equal(close(fd), 0);
}

static void closed_fd_is_refused(void **state) {
        (void) state;
        assert_int_equal(mounts_set_host_namespace(-1), -EBADF);
}

static void own_namespace_is_nothing_to_enter(void **state) {
        (void) state;
        int fd = open("/proc/self/ns/mnt", O_RDONLY | O_CLOEXEC);

        assert_true(fd >= 0);
        assert_int_equal(mounts_set_host_namespace(fd), 0);
        /* Taken and closed: termguardd runs in the host's namespace and unmounts there. */
        assert_int_equal(fcntl(fd, F_GETFD), -1);
        assert_int_equal(errno, EBADF);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(regular_file_is_refused),
                cmocka_unit_test(other_namespace_type_is_refused),
                cmocka_unit_test(closed_fd_is_refused),
                cmocka_unit_test(own_namespace_is_nothing_to_enter),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
