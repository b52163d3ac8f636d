/* SPDX-License-Identifier: GPL-2.0-or-later */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "termguard/decision-file.h"
#include "termguard/fileio.h"

static char dir[256];

static int setup(void **state) {
        (void) state;
        snprintf(dir, sizeof(dir), "/tmp/tg-decision-test.XXXXXX");
        assert_non_null(mkdtemp(dir));
        return 0;
}

static int teardown(void **state) {
        char cmd[300];
        (void) state;
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
        assert_int_equal(system(cmd), 0);
        return 0;
}

static void put(const char *name, const char *text, size_t len) {
        char path[300];
        snprintf(path, sizeof(path), "%s/%s", dir, name);
        assert_int_equal(tg_write_file_atomic(AT_FDCWD, path, text, len, geteuid(), getegid(), 0600), 0);
}

static int parse(const char *text, tg_decision_record *ret) {
        return tg_decision_record_parse(text, strlen(text), ret);
}

static void round_trip(void **state) {
        tg_decision_record rec = {.busnum = 3, .devnum = 17, .mode = TG_MODE_READ_WRITE, .label = "USB-JINJI-03"};
        tg_decision_record back = {0};
        char text[TG_DECISION_FILE_MAX + 1];
        (void) state;

        assert_int_equal(tg_decision_record_format(&rec, text, sizeof(text)), 61);
        assert_string_equal(text, "BUSNUM=3\nDEVNUM=17\nMODE=read-write\nLABEL=USB-JINJI-03\nRAW=no\n");
        assert_int_equal(tg_decision_file_write(dir, "3-1.2", &rec), 0);
        assert_int_equal(tg_decision_file_read(dir, "3-1.2", &back), 0);
        assert_memory_equal(&rec, &back, sizeof(rec));
        assert_true(tg_decision_grants_read_write(&back, "3", "17"));

        /* What the daemon writes for a device without a medium. */
        rec = (tg_decision_record){.busnum = 1, .devnum = 2, .mode = TG_MODE_BLOCKED};
        assert_int_equal(tg_decision_file_write(dir, "1-1", &rec), 0);
        assert_int_equal(tg_decision_file_read(dir, "1-1", &back), 0);
        assert_int_equal(back.mode, TG_MODE_BLOCKED);
        assert_string_equal(back.label, "");
        assert_false(back.raw_access);

        /* A reader allowed raw access. */
        rec = (tg_decision_record){.busnum = 1, .devnum = 3, .mode = TG_MODE_BLOCKED, .raw_access = true};
        assert_int_equal(tg_decision_record_format(&rec, text, sizeof(text)), 46);
        assert_string_equal(text, "BUSNUM=1\nDEVNUM=3\nMODE=blocked\nLABEL=\nRAW=yes\n");
        assert_int_equal(tg_decision_file_write(dir, "1-2", &rec), 0);
        assert_int_equal(tg_decision_file_read(dir, "1-2", &back), 0);
        assert_memory_equal(&rec, &back, sizeof(rec));

        assert_int_equal(tg_decision_file_remove(dir, "1-1"), 0);
        assert_int_equal(tg_decision_file_read(dir, "1-1", &back), -ENOENT);
        assert_int_equal(tg_decision_file_remove(dir, "1-1"), 0); /* gone already: fine */
}

static void other_key_orders_parse(void **state) {
        tg_decision_record rec;
        (void) state;
        assert_int_equal(parse("RAW=yes\nLABEL=x\nMODE=read-only\nDEVNUM=0\nBUSNUM=65535\n", &rec), 0);
        assert_true(rec.raw_access);
        assert_int_equal(rec.busnum, 65535);
        assert_int_equal(rec.devnum, 0);
        assert_int_equal(rec.mode, TG_MODE_READ_ONLY);
        assert_string_equal(rec.label, "x");
}

static void hostile_files_are_errors(void **state) {
        static const char *const bad[] = {
                "",
                "\n",
                "BUSNUM=1\nDEVNUM=2\nMODE=read-write\nRAW=no\n",                   /* missing label */
                "BUSNUM=1\nDEVNUM=2\nMODE=read-write\nLABEL=x\n",                  /* missing raw */
                "BUSNUM=1\nDEVNUM=2\nMODE=read-write\nLABEL=x\nRAW=yes\nRAW=no\n", /* duplicate */
                "BUSNUM=1\nDEVNUM=2\nMODE=read-write\nLABEL=x\nRAW=1\n",           /* not yes or no */
                "BUSNUM=1\nDEVNUM=2\nMODE=read-write\nLABEL=x\nRAW=YES\n",
                "BUSNUM=1\nDEVNUM=2\nMODE=read-write\nLABEL=x\nRAW=yes \n",
                "BUSNUM=1\nDEVNUM=2\nMODE=read-write\nLABEL=x\nRAW=\n",
                "BUSNUM=1\nMODE=read-write\nLABEL=x\nRAW=no\n",                           /* missing devnum */
                "DEVNUM=2\nMODE=read-write\nLABEL=x\nRAW=no\n",                           /* missing busnum */
                "BUSNUM=1\nDEVNUM=2\nLABEL=x\nRAW=no\n",                                  /* missing mode */
                "BUSNUM=1\nDEVNUM=2\nMODE=read-write\nLABEL=x\nRAW=no",                   /* no final newline */
                "BUSNUM=1\nDEVNUM=2\nMODE=read-write\nLABEL=x\nFOO=bar\n",                /* unknown key */
                "BUSNUM=1\nDEVNUM=2\nMODE=read-write\nLABEL=x\n\n",                       /* empty line */
                "BUSNUM=1\nDEVNUM=2\nMODE=read-only\nMODE=read-write\nLABEL=x\nRAW=no\n", /* duplicate */
                "BUSNUM=1\nDEVNUM=2\nDEVNUM=2\nMODE=read-write\nLABEL=x\nRAW=no\n",
                "BUSNUM=1\nDEVNUM=2\nMODE=read-write\nLABEL=x\nLABEL=y\n",
                "BUSNUM=one\nDEVNUM=2\nMODE=read-write\nLABEL=x\nRAW=no\n", /* non-numeric */
                "BUSNUM=1\nDEVNUM=\nMODE=read-write\nLABEL=x\nRAW=no\n",
                "BUSNUM=1\nDEVNUM=-2\nMODE=read-write\nLABEL=x\nRAW=no\n",
                "BUSNUM=1\nDEVNUM=+2\nMODE=read-write\nLABEL=x\nRAW=no\n",
                "BUSNUM=1\nDEVNUM= 2\nMODE=read-write\nLABEL=x\nRAW=no\n",
                "BUSNUM=1\nDEVNUM=2 \nMODE=read-write\nLABEL=x\nRAW=no\n",
                "BUSNUM=1\nDEVNUM=02\nMODE=read-write\nLABEL=x\nRAW=no\n", /* not as the kernel prints it */
                "BUSNUM=1\nDEVNUM=0x2\nMODE=read-write\nLABEL=x\nRAW=no\n",
                "BUSNUM=1\nDEVNUM=65536\nMODE=read-write\nLABEL=x\nRAW=no\n", /* out of range */
                "BUSNUM=99999999999999999999\nDEVNUM=2\nMODE=read-write\nLABEL=x\nRAW=no\n",
                "BUSNUM=1\nDEVNUM=2\nMODE=READ-WRITE\nLABEL=x\nRAW=no\n", /* unknown mode */
                "BUSNUM=1\nDEVNUM=2\nMODE=read-write \nLABEL=x\nRAW=no\n",
                "BUSNUM=1\nDEVNUM=2\nMODE=rw\nLABEL=x\nRAW=no\n",
                "BUSNUM=1\nDEVNUM=2\nMODE=read-write\r\nLABEL=x\nRAW=no\n",
                "BUSNUM=1\nDEVNUM=2\nMODE=read-write\nLABEL=a b\nRAW=no\n",      /* the register refuses it */
                "BUSNUM=1\nDEVNUM=2\nMODE=read-write\nLABEL=a\x1b[2J\nRAW=no\n", /* control characters */
                "BUSNUM=1\nDEVNUM=2\nMODE=read-write\nLABEL=\xff\xfe\nRAW=no\n", /* invalid UTF-8 */
                "BUSNUM=1\nDEVNUM=2\nMODE=read-write\nLABEL\nRAW=no\n",          /* no '=' */
                "BUSNUM 1\nDEVNUM=2\nMODE=read-write\nLABEL=x\nRAW=no\n",
                "busnum=1\nDEVNUM=2\nMODE=read-write\nLABEL=x\nRAW=no\n",
                "=1\nBUSNUM=1\nDEVNUM=2\nMODE=read-write\nLABEL=x\nRAW=no\n",
        };
        tg_decision_record rec = {.busnum = 7, .label = "untouched"};
        (void) state;

        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
                if (parse(bad[i], &rec) != -EBADMSG)
                        fail_msg("case %zu accepted: \"%s\"", i, bad[i]);
        assert_int_equal(rec.busnum, 7);
        assert_string_equal(rec.label, "untouched");

        /* A NUL byte inside: strlen() would stop there, the parser must not. */
        static const char nul[] = "BUSNUM=1\nDEVNUM=2\nMODE=read-write\nLABEL=x\0y\nRAW=no\n";
        assert_int_equal(tg_decision_record_parse(nul, sizeof(nul) - 1, &rec), -EBADMSG);
}

static void overlong_files_are_errors(void **state) {
        char text[TG_DECISION_FILE_MAX * 2], label[TG_LABEL_MAX + 2];
        tg_decision_record rec;
        (void) state;

        /* The longest label the register allows parses; one byte more does not. */
        memset(label, 'a', TG_LABEL_MAX);
        label[TG_LABEL_MAX] = '\0';
        snprintf(text, sizeof(text), "BUSNUM=1\nDEVNUM=2\nMODE=read-write\nLABEL=%s\nRAW=no\n", label);
        assert_int_equal(parse(text, &rec), 0);
        assert_string_equal(rec.label, label);
        label[TG_LABEL_MAX] = 'a';
        label[TG_LABEL_MAX + 1] = '\0';
        snprintf(text, sizeof(text), "BUSNUM=1\nDEVNUM=2\nMODE=read-write\nLABEL=%s\nRAW=no\n", label);
        assert_int_equal(parse(text, &rec), -EBADMSG);

        /* A file larger than any valid one, even of valid lines. */
        size_t o = (size_t) snprintf(text, sizeof(text), "BUSNUM=1\nDEVNUM=2\nMODE=read-write\nLABEL=x\nRAW=no\n");
        memset(text + o, '\n', sizeof(text) - o - 1);
        text[sizeof(text) - 1] = '\0';
        assert_int_equal(parse(text, &rec), -EBADMSG);
        put("big", text, strlen(text));
        assert_int_equal(tg_decision_file_read(dir, "big", &rec), -EBADMSG);
}

static void files_that_are_not_decisions(void **state) {
        char path[300], target[300];
        tg_decision_record rec = {.busnum = 7};
        (void) state;

        /* A symlink is never followed, even to a valid decision. */
        static const char valid[] = "BUSNUM=1\nDEVNUM=2\nMODE=read-write\nLABEL=x\nRAW=no\n";
        put("real", valid, strlen(valid));
        assert_int_equal(tg_decision_file_read(dir, "real", &rec), 0);
        rec.busnum = 7;
        snprintf(target, sizeof(target), "%s/real", dir);
        snprintf(path, sizeof(path), "%s/link", dir);
        assert_int_equal(symlink(target, path), 0);
        assert_int_equal(tg_decision_file_read(dir, "link", &rec), -ELOOP);
        /* Nor is a directory or a FIFO read. */
        snprintf(path, sizeof(path), "%s/sub", dir);
        assert_int_equal(mkdir(path, 0700), 0);
        assert_true(tg_decision_file_read(dir, "sub", &rec) < 0);
        snprintf(path, sizeof(path), "%s/fifo", dir);
        assert_int_equal(mkfifo(path, 0600), 0);
        assert_true(tg_decision_file_read(dir, "fifo", &rec) < 0);
        assert_int_equal(rec.busnum, 7);
        /* Names that are not one file name of the directory. */
        assert_int_equal(tg_decision_file_read(dir, "../real", &rec), -EINVAL);
        assert_int_equal(tg_decision_file_read(dir, "", &rec), -EINVAL);
        assert_int_equal(tg_decision_file_read(dir, ".real.tmp", &rec), -EINVAL);
        assert_int_equal(tg_decision_file_write(dir, "a/b", &(tg_decision_record){0}), -EINVAL);
}

static void failed_write_leaves_no_decision(void **state) {
        tg_decision_record rw = {.busnum = 1, .devnum = 2, .mode = TG_MODE_READ_WRITE, .label = "x"};
        tg_decision_record bad = {.busnum = 1, .devnum = 70000, .mode = TG_MODE_READ_ONLY};
        tg_decision_record rec;
        (void) state;

        assert_int_equal(tg_decision_file_write(dir, "1-1", &rw), 0);
        /* The new decision cannot be written: the old read-write one must not stand. */
        assert_int_equal(tg_decision_file_write(dir, "1-1", &bad), -EINVAL);
        assert_int_equal(tg_decision_file_read(dir, "1-1", &rec), -ENOENT);
        bad = (tg_decision_record){.mode = TG_MODE_READ_ONLY, .label = "a\nMODE=read-write"};
        assert_int_equal(tg_decision_record_format(&bad, (char[TG_DECISION_FILE_MAX]){0}, TG_DECISION_FILE_MAX),
                         -EINVAL);
        bad = (tg_decision_record){.mode = (tg_mode) 7};
        assert_int_equal(tg_decision_record_format(&bad, (char[TG_DECISION_FILE_MAX]){0}, TG_DECISION_FILE_MAX),
                         -EINVAL);
}

static void root_alone_reads_decisions(void **state) {
        tg_decision_record rec = {.busnum = 1, .devnum = 2, .mode = TG_MODE_READ_WRITE, .label = "x"};
        char devices[300], path[320];
        struct stat st;
        (void) state;

        snprintf(devices, sizeof(devices), "%s/devices", dir);
        assert_int_equal(tg_decision_dir_prepare(devices), 0);
        assert_int_equal(stat(devices, &st), 0);
        assert_int_equal(st.st_mode & 07777, 0700);
        assert_int_equal(tg_decision_file_write(devices, "1-1", &rec), 0);
        snprintf(path, sizeof(path), "%s/1-1", devices);
        assert_int_equal(stat(path, &st), 0);
        assert_int_equal(st.st_mode & 07777, 0600);
        assert_int_equal(st.st_uid, geteuid());

        /* A directory an older version made readable for everyone is closed. */
        assert_int_equal(chmod(devices, 0755), 0);
        assert_int_equal(tg_decision_dir_prepare(devices), 0);
        assert_int_equal(stat(devices, &st), 0);
        assert_int_equal(st.st_mode & 07777, 0700);

        /* Not a directory (a symlink planted in its place): refused, not followed. */
        snprintf(path, sizeof(path), "%s/elsewhere", dir);
        assert_int_equal(mkdir(path, 0755), 0);
        snprintf(devices, sizeof(devices), "%s/devices2", dir);
        assert_int_equal(symlink(path, devices), 0);
        assert_int_equal(tg_decision_dir_prepare(devices), -ENOTDIR);
        assert_int_equal(stat(path, &st), 0);
        assert_int_equal(st.st_mode & 07777, 0755);
}

static void read_write_only_for_this_attachment(void **state) {
        tg_decision_record rec = {.busnum = 1, .devnum = 5, .mode = TG_MODE_READ_WRITE};
        (void) state;

        assert_true(tg_decision_grants_read_write(&rec, "1", "5"));
        assert_false(tg_decision_grants_read_write(&rec, "1", "6")); /* stale: another attachment */
        assert_false(tg_decision_grants_read_write(&rec, "2", "5"));
        assert_false(tg_decision_grants_read_write(&rec, "1", "05"));
        assert_false(tg_decision_grants_read_write(&rec, "1", "5 "));
        assert_false(tg_decision_grants_read_write(&rec, "1", ""));
        assert_false(tg_decision_grants_read_write(&rec, NULL, "5"));
        assert_false(tg_decision_grants_read_write(&rec, "1", NULL));
        assert_false(tg_decision_grants_read_write(NULL, "1", "5"));
        rec.mode = TG_MODE_READ_ONLY;
        assert_false(tg_decision_grants_read_write(&rec, "1", "5"));
        rec.mode = TG_MODE_BLOCKED;
        assert_false(tg_decision_grants_read_write(&rec, "1", "5"));
}

static void raw_access_only_for_this_attachment(void **state) {
        tg_decision_record rec = {.busnum = 1, .devnum = 5, .mode = TG_MODE_BLOCKED, .raw_access = true};
        (void) state;

        assert_true(tg_decision_grants_raw_access(&rec, "1", "5"));
        assert_false(tg_decision_grants_raw_access(&rec, "1", "6")); /* stale: another attachment */
        assert_false(tg_decision_grants_raw_access(&rec, "2", "5"));
        assert_false(tg_decision_grants_raw_access(&rec, "1", "05"));
        assert_false(tg_decision_grants_raw_access(&rec, NULL, "5"));
        assert_false(tg_decision_grants_raw_access(&rec, "1", NULL));
        assert_false(tg_decision_grants_raw_access(NULL, "1", "5"));
        /* Raw access and read-write are separate grants. */
        assert_false(tg_decision_grants_read_write(&rec, "1", "5"));
        rec.raw_access = false;
        rec.mode = TG_MODE_READ_WRITE;
        assert_false(tg_decision_grants_raw_access(&rec, "1", "5"));
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(round_trip, setup, teardown),
                cmocka_unit_test(other_key_orders_parse),
                cmocka_unit_test(hostile_files_are_errors),
                cmocka_unit_test_setup_teardown(overlong_files_are_errors, setup, teardown),
                cmocka_unit_test_setup_teardown(files_that_are_not_decisions, setup, teardown),
                cmocka_unit_test_setup_teardown(failed_write_leaves_no_decision, setup, teardown),
                cmocka_unit_test_setup_teardown(root_alone_reads_decisions, setup, teardown),
                cmocka_unit_test(read_write_only_for_this_attachment),
                cmocka_unit_test(raw_access_only_for_this_attachment),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
