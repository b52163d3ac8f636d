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

static void actor_names_root_and_the_login(void **state) {
        char buf[64];
        tg_account daemon;
        (void) state;
        tg_actor_describe(0, (uid_t) -1, buf, sizeof(buf));
        assert_string_equal(buf, "root");
        tg_actor_describe(0, 0, buf, sizeof(buf));
        assert_string_equal(buf, "root");
        tg_actor_describe(0, 4000000000u, buf, sizeof(buf));
        assert_string_equal(buf, "root (login uid 4000000000)");
        tg_actor_describe(4000000000u, 0, buf, sizeof(buf));
        assert_string_equal(buf, "uid:4000000000");
        if (tg_account_by_name("daemon", &daemon) == 0) {
                tg_actor_describe(0, daemon.uid, buf, sizeof(buf));
                assert_string_equal(buf, "root (login daemon)");
                /* the login matters for root only (sudo); a user acts as themselves */
                tg_actor_describe(daemon.uid, 0, buf, sizeof(buf));
                assert_string_equal(buf, "daemon");
        }
        tg_actor_describe(0, 4000000000u, buf, 8);
        assert_string_equal(buf, "root (l");
}

static void loginuid_of_a_process(void **state) {
        uid_t u = 12345;
        (void) state;
        int r = tg_loginuid_read(0, &u);
        assert_true(r == 0 || r == -ENODATA);
        if (r == -ENODATA)
                assert_int_equal(u, 12345);
        assert_int_equal(tg_loginuid_read(999999999, &u), -ENOENT);
        assert_int_equal(tg_loginuid_read(-1, &u), -EINVAL);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(root_by_name_and_by_uid), cmocka_unit_test(unknown_is_enoent_and_leaves_ret),
                cmocka_unit_test(canonical_user),          cmocka_unit_test(actor_names_root_and_the_login),
                cmocka_unit_test(loginuid_of_a_process),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
