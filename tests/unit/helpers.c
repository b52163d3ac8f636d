/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Helpers of several unit tests: temporary directories and termguardd's captured events. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/types.h>
#include <unistd.h>

#include <cmocka.h>

#include "helpers.h"
#include "termguard/fileio.h"
#include "termguard/macro.h"

/* What a case's events may fill: more is a failing case, not a cut-off. */
#define EVENTS_MAX 65536
/* Directory levels nftw keeps open while removing a tree. */
#define RMTREE_FDS 16

void test_tmpdir(const char *name, char *buf, size_t size) {
        assert_true((size_t) snprintf(buf, size, "/tmp/tg-%s.XXXXXX", name) < size);
        assert_non_null(mkdtemp(buf));
}

static int remove_one(const char *path, const struct stat *st, int type, struct FTW *ftw) {
        (void) st;
        (void) type;
        (void) ftw;
        return remove(path);
}

void test_rmtree(const char *path) {
        assert_int_equal(nftw(path, remove_one, RMTREE_FDS, FTW_DEPTH | FTW_PHYS), 0);
}

void test_journal_tmpdir(const char *name, char base[TEST_PATH_MAX], char dir[TEST_PATH_MAX],
                         char hostid[TEST_PATH_MAX]) {
        test_tmpdir(name, base, TEST_PATH_MAX);
        assert_true(snprintf(dir, TEST_PATH_MAX, "%s/journal", base) < TEST_PATH_MAX);
        assert_true(snprintf(hostid, TEST_PATH_MAX, "%s/host-id", base) < TEST_PATH_MAX);
}

static char events_path[TEST_PATH_MAX];
static int saved_stderr = -1;

void test_events_capture(const char *dir) {
        assert_true(snprintf(events_path, sizeof(events_path), "%s/events", dir) < (int) sizeof(events_path));
        /* termguardd's events go to stderr as JSON lines (the journal only where it runs). */
        unsetenv("JOURNAL_STREAM");
        fflush(stderr);
        saved_stderr = dup(STDERR_FILENO);
        _cleanup_close_ int fd = open(events_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        assert_true(fd >= 0 && saved_stderr >= 0);
        assert_int_equal(dup2(fd, STDERR_FILENO), STDERR_FILENO);
}

char *test_events_read(void) {
        static char buf[EVENTS_MAX];
        ssize_t n;

        fflush(stderr);
        n = tg_read_file(events_path, buf, sizeof(buf) - 1);
        assert_true(n >= 0);
        buf[n] = '\0';
        return buf;
}

void test_events_release(void) {
        fflush(stderr);
        assert_int_equal(dup2(saved_stderr, STDERR_FILENO), STDERR_FILENO);
        close(saved_stderr);
        saved_stderr = -1;
}
