/* SPDX-License-Identifier: GPL-2.0-or-later */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "termguard/fileio.h"
#include "termguard/macro.h"

static char dir[256];

static int setup(void **state) {
        (void) state;
        snprintf(dir, sizeof(dir), "/tmp/tg-fileio-test.XXXXXX");
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

static void path_of(char *buf, size_t size, const char *name) {
        snprintf(buf, size, "%s/%s", dir, name);
}

static void assert_content(const char *name, const char *expected) {
        char path[300], buf[256];
        path_of(path, sizeof(path), name);
        ssize_t n = tg_read_file(path, buf, sizeof(buf) - 1);
        assert_true(n >= 0);
        buf[n] = '\0';
        assert_string_equal(buf, expected);
}

static bool leftover_tmp(const char *name) {
        char path[300];
        snprintf(path, sizeof(path), "%s/.%s.tmp", dir, name);
        return access(path, F_OK) == 0;
}

static void writes_and_replaces(void **state) {
        char path[300];
        struct stat st;
        (void) state;

        path_of(path, sizeof(path), "state.json");
        assert_int_equal(tg_write_file_atomic(AT_FDCWD, path, "a longer first text\n", 20, geteuid(), getegid(), 0600),
                         0);
        assert_content("state.json", "a longer first text\n");
        /* Shorter content replaces all of the old, nothing of it remains. */
        assert_int_equal(tg_write_file_atomic(AT_FDCWD, path, "short\n", 6, geteuid(), getegid(), 0640), 0);
        assert_content("state.json", "short\n");
        assert_int_equal(stat(path, &st), 0);
        assert_int_equal(st.st_mode & 07777, 0640);
        assert_int_equal(st.st_uid, geteuid());
        assert_false(leftover_tmp("state.json"));
}

static void relative_to_a_directory(void **state) {
        _cleanup_close_ int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        struct stat st;
        (void) state;

        assert_true(dfd >= 0);
        assert_int_equal(tg_write_file_atomic(dfd, "u.json", "{}", 2, geteuid(), getegid(), 0600), 0);
        assert_content("u.json", "{}");
        assert_int_equal(fstatat(dfd, "u.json", &st, 0), 0);
        assert_int_equal(st.st_mode & 07777, 0600);
        /* Empty content is a file of no bytes, not an error. */
        assert_int_equal(tg_write_file_atomic(dfd, "empty", NULL, 0, geteuid(), getegid(), 0600), 0);
        assert_content("empty", "");
}

/* A symlink planted where the temporary file goes, or as the file itself, is replaced; what it
 * points to is never written. */
static void symlinks_are_not_followed(void **state) {
        char path[300], victim[300], tmp[300];
        (void) state;

        path_of(victim, sizeof(victim), "victim");
        path_of(path, sizeof(path), "reg.json");
        path_of(tmp, sizeof(tmp), ".reg.json.tmp");
        assert_int_equal(tg_write_file_atomic(AT_FDCWD, victim, "keep", 4, geteuid(), getegid(), 0600), 0);
        assert_int_equal(symlink(victim, tmp), 0);
        assert_int_equal(symlink(victim, path), 0);
        assert_int_equal(tg_write_file_atomic(AT_FDCWD, path, "new", 3, geteuid(), getegid(), 0600), 0);
        assert_content("victim", "keep");
        assert_content("reg.json", "new");
        struct stat st;
        assert_int_equal(lstat(path, &st), 0);
        assert_true(S_ISREG(st.st_mode));
}

static void bad_arguments(void **state) {
        (void) state;
        assert_int_equal(tg_write_file_atomic(AT_FDCWD, NULL, "x", 1, 0, 0, 0600), -EINVAL);
        assert_int_equal(tg_write_file_atomic(AT_FDCWD, "", "x", 1, 0, 0, 0600), -EINVAL);
        assert_int_equal(tg_write_file_atomic(AT_FDCWD, "/x", NULL, 1, 0, 0, 0600), -EINVAL);
        assert_int_equal(tg_write_file_atomic(AT_FDCWD, "/nonexistent-dir-tg/x", "x", 1, 0, 0, 0600), -ENOENT);
}

/* A hard file size limit the writer cannot lift (no CAP_SYS_RESOURCE): the write fails with
 * EFBIG, the caller is not killed by SIGXFSZ and has none pending, and the old file stands. */
static void file_size_limit_cannot_kill_or_truncate(void **state) {
        char path[300], big[200];
        int status;
        (void) state;

        memset(big, 'x', sizeof(big));
        path_of(path, sizeof(path), "limited");
        assert_int_equal(chmod(dir, 0777), 0);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                /* Without privilege, as anyone who lacks CAP_SYS_RESOURCE. */
                if (geteuid() == 0 && (setresgid(65534, 65534, 65534) < 0 || setresuid(65534, 65534, 65534) < 0))
                        _exit(10);
                if (tg_write_file_atomic(AT_FDCWD, path, "old", 3, geteuid(), getegid(), 0600) < 0)
                        _exit(11);
                if (setrlimit(RLIMIT_FSIZE, &(struct rlimit){64, 64}) < 0)
                        _exit(12);
                if (tg_write_file_atomic(AT_FDCWD, path, big, sizeof(big), geteuid(), getegid(), 0600) != -EFBIG)
                        _exit(13);
                sigset_t pending;
                if (sigpending(&pending) < 0 || sigismember(&pending, SIGXFSZ))
                        _exit(14);
                char buf[16] = "";
                if (tg_read_file(path, buf, sizeof(buf) - 1) != 3 || strcmp(buf, "old") != 0)
                        _exit(15);
                _exit(leftover_tmp("limited") ? 16 : 0);
        }
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 0);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(writes_and_replaces, setup, teardown),
                cmocka_unit_test_setup_teardown(relative_to_a_directory, setup, teardown),
                cmocka_unit_test_setup_teardown(symlinks_are_not_followed, setup, teardown),
                cmocka_unit_test_setup_teardown(bad_arguments, setup, teardown),
                cmocka_unit_test_setup_teardown(file_size_limit_cannot_kill_or_truncate, setup, teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
