/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Linked into every unit test program: picks cases by name from the environment, for the
 * inner loop and for run-as-root.sh (cmocka 1.1 reads no environment of its own).
 *   TG_TEST_ONLY=glob   run only the cases whose names match (cmocka_set_test_filter)
 *   TG_TEST_SKIP=glob   leave out the cases whose names match (cmocka_set_skip_filter) */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

__attribute__((constructor)) static void test_filter_from_environment(void) {
        const char *only = getenv("TG_TEST_ONLY");
        const char *skip = getenv("TG_TEST_SKIP");

        if (only && *only)
                cmocka_set_test_filter(only);
        if (skip && *skip)
                cmocka_set_skip_filter(skip);
}
