/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "termguard/account.h"

static void root_by_name_and_by_uid(void **state) {
        tg_account a;
        (void) state;
        assert_int_equal(tg_account_by_name("root", &a), 0);
        assert_string_equal(a.name, "root");
        assert_int_equal(a.uid, 0);
        assert_int_equal(a.gid, 0);
        memset(&a, 0x55, sizeof(a));
        assert_int_equal(tg_account_by_uid(0, &a), 0);
        assert_string_equal(a.name, "root");
        assert_int_equal(a.uid, 0);
}

static void unknown_is_enoent_and_leaves_ret(void **state) {
        tg_account a = {.name = "untouched", .uid = 7, .gid = 7};
        (void) state;
        assert_int_equal(tg_account_by_name("tg-no-such-account-x9", &a), -ENOENT);
        assert_int_equal(tg_account_by_name("", &a), -ENOENT);
        assert_int_equal(tg_account_by_uid((uid_t) 4000000000u, &a), -ENOENT);
        assert_string_equal(a.name, "untouched");
        assert_int_equal(a.uid, 7);
        assert_int_equal(tg_account_by_name(NULL, &a), -EINVAL);
}

static void canonical_user(void **state) {
        char buf[16];
        (void) state;
        assert_int_equal(tg_canonical_user("root", buf, sizeof(buf)), 1);
        assert_string_equal(buf, "root");
        assert_int_equal(tg_canonical_user("tg-nobody-9", buf, sizeof(buf)), 0);
        assert_string_equal(buf, "tg-nobody-9");
        assert_int_equal(tg_canonical_user("root", buf, 4), -ENAMETOOLONG);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(root_by_name_and_by_uid),
                cmocka_unit_test(unknown_is_enoent_and_leaves_ret),
                cmocka_unit_test(canonical_user),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
