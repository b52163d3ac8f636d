/* SPDX-License-Identifier: GPL-2.0-or-later */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "termguard/register.h"

static char dir[256], path[300];

static int setup(void **state) {
        (void) state;
        snprintf(dir, sizeof(dir), "/tmp/tg-register-test.XXXXXX");
        assert_non_null(mkdtemp(dir));
        snprintf(path, sizeof(path), "%s/register.json", dir);
        return 0;
}

static int teardown(void **state) {
        char cmd[300];
        (void) state;
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
        assert_int_equal(system(cmd), 0);
        return 0;
}

static tg_medium medium(const char *label, const char *serial) {
        tg_medium m = {.vid = 0x0951, .pid = 0x1666, .mode = TG_MODE_READ_ONLY, .added_at = 1700000000};
        snprintf(m.label, sizeof(m.label), "%s", label);
        snprintf(m.serial, sizeof(m.serial), "%s", serial);
        snprintf(m.department, sizeof(m.department), "総務課");
        snprintf(m.added_by, sizeof(m.added_by), "root (login tanaka)");
        return m;
}

static void round_trip(void **state) {
        tg_register r = {0}, l;
        tg_medium m = medium("stick-1", "S1");
        tg_exception e = {.until = 1800003600};
        char err[256];
        uint64_t id;
        struct stat st;
        (void) state;

        tg_register_clear(&r);
        assert_int_equal(tg_register_add_medium(&r, &m, err, sizeof(err)), 0);
        strcpy(e.label, "stick-1");
        strcpy(e.approver, "情報セキュリティ責任者");
        strcpy(e.reason, "議事録 \"final\" を持ち出し");
        strcpy(e.ticket, "REQ-42");
        assert_int_equal(tg_register_add_exception(&r, &e, 1800000000, 86400, &id, err, sizeof(err)), -EINVAL);
        strcpy(e.reason, "議事録を持ち出し");
        assert_int_equal(tg_register_add_exception(&r, &e, 1800000000, 86400, &id, err, sizeof(err)), 0);
        assert_int_equal(id, 1);
        assert_false(tg_register_observe_clock(&r, 1800000123));
        assert_int_equal(tg_register_save(path, &r), 0);
        assert_int_equal(stat(path, &st), 0);
        assert_int_equal(st.st_mode & 0777, 0600);

        assert_int_equal(tg_register_load(path, &l, err, sizeof(err)), 0);
        assert_int_equal(l.n_media, 1);
        assert_string_equal(l.media[0].department, "総務課");
        assert_int_equal(l.media[0].mode, TG_MODE_READ_ONLY);
        assert_int_equal(l.n_exceptions, 1);
        assert_string_equal(l.exceptions[0].approver, "情報セキュリティ責任者");
        assert_int_equal(l.exceptions[0].until, 1800003600);
        assert_int_equal(l.next_exception_id, 2);                 /* ids are never reused */
        assert_int_equal(l.clock_high_water, r.clock_high_water); /* survives restarts */
        tg_register_clear(&r);
        tg_register_clear(&l);
}

static void missing_file_is_empty(void **state) {
        tg_register l;
        char err[256];
        (void) state;
        assert_int_equal(tg_register_load(path, &l, err, sizeof(err)), 0);
        assert_int_equal(l.n_media, 0);
        tg_register_clear(&l);
}

static void expect_load_error(const char *text, const char *needle) {
        tg_register l;
        char err[512] = "";
        FILE *f = fopen(path, "w");
        assert_non_null(f);
        fputs(text, f);
        fclose(f);
        assert_int_equal(tg_register_load(path, &l, err, sizeof(err)), -EBADMSG);
        if (!strstr(err, needle))
                fail_msg("error \"%s\" does not contain \"%s\"", err, needle);
}

static void corrupt_files_are_errors_not_empty(void **state) {
        (void) state;
        expect_load_error("{\"media\": [", "not valid JSON");
        expect_load_error("{\"media\": []} trailing", "not valid JSON");
        expect_load_error("[]", "not valid JSON");
        expect_load_error("{\"media\": {}}", "\"media\" is not an array");
        expect_load_error(
                "{\"media\": [{\"label\":\"a\",\"vid\":\"x\",\"pid\":1,\"serial\":\"s\",\"mode\":\"read-only\"}]}",
                "vid");
        expect_load_error(
                "{\"media\": [{\"label\":\"a\",\"vid\":70000,\"pid\":1,\"serial\":\"s\",\"mode\":\"read-only\"}]}",
                "out of range");
        expect_load_error("{\"media\": [{\"label\":\"a\",\"vid\":1,\"pid\":1,\"serial\":\"s\",\"mode\":\"write\"}]}",
                          "invalid mode");
        expect_load_error(
                "{\"media\": [{\"label\":\"a b\",\"vid\":1,\"pid\":1,\"serial\":\"s\",\"mode\":\"blocked\"}]}",
                "label");
        expect_load_error(
                "{\"media\": [{\"label\":\"a\",\"vid\":1,\"pid\":1,\"serial\":\"s\\u0000x\",\"mode\":\"blocked\"}]}",
                "NUL");
        expect_load_error("{\"media\": [{\"label\":\"a\",\"vid\":1,\"pid\":1,\"serial\":\"s\",\"mode\":\"blocked\"},"
                          "{\"label\":\"a\",\"vid\":1,\"pid\":1,\"serial\":\"t\",\"mode\":\"blocked\"}]}",
                          "already registered");
        expect_load_error(
                "{\"exceptions\": [{\"id\":1,\"label\":\"a\",\"until\":5,\"approver\":\"x\",\"reason\":\"y\"},"
                "{\"id\":1,\"label\":\"a\",\"until\":5,\"approver\":\"x\",\"reason\":\"y\"}]}",
                "duplicate id");
        expect_load_error("{\"exceptions\": [{\"id\":1,\"label\":\"a\",\"until\":5,\"reason\":\"y\"}]}", "approver");
        /* a register written by hand or by an older version with a look-alike label */
        expect_load_error(
                "{\"media\": [{\"label\":\"a\\u200bb\",\"vid\":1,\"pid\":1,\"serial\":\"s\",\"mode\":\"blocked\"}]}",
                "invisible");
        expect_load_error("{\"exceptions\": [{\"id\":1,\"label\":\"a\",\"until\":5,\"approver\":\"x\","
                          "\"reason\":\"y\u202e\"}]}",
                          "reason");
        /* times past the year 9999 and ids past 2^53 are corruption (timers would overflow) */
        expect_load_error("{\"exceptions\": [{\"id\":1,\"label\":\"a\",\"until\":18446744073710,"
                          "\"approver\":\"x\",\"reason\":\"y\"}]}",
                          "until");
        expect_load_error("{\"exceptions\": [{\"id\":9223372036854775807,\"label\":\"a\",\"until\":5,"
                          "\"approver\":\"x\",\"reason\":\"y\"}]}",
                          "id");
}

static void symlink_is_refused(void **state) {
        tg_register l;
        char err[256];
        (void) state;
        assert_int_equal(symlink("/etc/passwd", path), 0);
        assert_true(tg_register_load(path, &l, err, sizeof(err)) < 0);
}

static void validation(void **state) {
        tg_register r = {0};
        tg_medium m;
        char err[256];
        (void) state;
        tg_register_clear(&r);
        m = medium("stick-1", "");
        assert_int_equal(tg_register_add_medium(&r, &m, err, sizeof(err)), -EINVAL);
        assert_non_null(strstr(err, "serial"));
        m = medium("stick\x01", "S");
        assert_int_equal(tg_register_add_medium(&r, &m, err, sizeof(err)), -EINVAL);
        m = medium("stick\u200b-1", "S"); /* shows as stick-1 */
        assert_int_equal(tg_register_add_medium(&r, &m, err, sizeof(err)), -EINVAL);
        assert_non_null(strstr(err, "invisible"));
        m = medium("stick-1", "S\u202e");
        assert_int_equal(tg_register_add_medium(&r, &m, err, sizeof(err)), -EINVAL);
        m = medium("stick-1", "S");
        snprintf(m.department, sizeof(m.department), "総務課\u2066");
        assert_int_equal(tg_register_add_medium(&r, &m, err, sizeof(err)), -EINVAL);
        assert_non_null(strstr(err, "department"));
        m = medium("stick-1", "S");
        m.vid = 0;
        assert_int_equal(tg_register_add_medium(&r, &m, err, sizeof(err)), -EINVAL);
        m = medium("stick-1", "S");
        assert_int_equal(tg_register_add_medium(&r, &m, err, sizeof(err)), 0);
        m = medium("stick-2", "S"); /* same device under another label */
        assert_int_equal(tg_register_add_medium(&r, &m, err, sizeof(err)), -EINVAL);
        assert_int_equal(tg_register_remove_medium(&r, "nope"), -ENOENT);
        assert_int_equal(tg_register_remove_medium(&r, "stick-1"), 0);
        assert_int_equal(r.n_media, 0);

        tg_exception e = {.until = 100};
        strcpy(e.label, "stick-1");
        strcpy(e.approver, "a");
        strcpy(e.reason, "r");
        assert_int_equal(tg_register_add_exception(&r, &e, 50, 1000, NULL, err, sizeof(err)), -EINVAL);
        assert_non_null(strstr(err, "no medium"));
        m = medium("stick-1", "S");
        assert_int_equal(tg_register_add_medium(&r, &m, err, sizeof(err)), 0);
        assert_int_equal(tg_register_add_exception(&r, &e, 100, 1000, NULL, err, sizeof(err)), -EINVAL); /* past */
        assert_int_equal(tg_register_add_exception(&r, &e, 50, 10, NULL, err, sizeof(err)), -EINVAL);    /* too long */
        assert_non_null(strstr(err, "maximum"));
        strcpy(e.approver, "");
        assert_int_equal(tg_register_add_exception(&r, &e, 50, 1000, NULL, err, sizeof(err)), -EINVAL);
        tg_register_clear(&r);
}

static void copy_is_deep(void **state) {
        tg_register empty = {0}, c, r = {0};
        tg_medium m = medium("stick-1", "S1");
        char err[256];
        (void) state;

        assert_int_equal(tg_register_copy(&empty, &c), 0); /* empty register: no NULL memcpy */
        assert_int_equal(c.n_media, 0);
        tg_register_clear(&c);

        assert_int_equal(tg_register_add_medium(&r, &m, err, sizeof(err)), 0);
        assert_int_equal(tg_register_copy(&r, &c), 0);
        assert_int_equal(tg_register_remove_medium(&c, "stick-1"), 0);
        assert_int_equal(r.n_media, 1); /* the original is untouched */
        assert_string_equal(r.media[0].label, "stick-1");
        tg_register_clear(&c);
        tg_register_clear(&r);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(round_trip, setup, teardown),
                cmocka_unit_test_setup_teardown(missing_file_is_empty, setup, teardown),
                cmocka_unit_test_setup_teardown(corrupt_files_are_errors_not_empty, setup, teardown),
                cmocka_unit_test_setup_teardown(symlink_is_refused, setup, teardown),
                cmocka_unit_test(validation),
                cmocka_unit_test(copy_is_deep),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
