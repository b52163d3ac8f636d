/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * What several unit tests need around the code under test (helpers.c, linked into those that
 * use it): a temporary directory per case, and termguardd's events captured from stderr.
 * Failures are cmocka assertions: a case whose fixture fails, fails.
 */
#include <stddef.h>

#define TEST_PATH_MAX 300

/* A new temporary directory "/tmp/tg-NAME.XXXXXX", its path in buf. */
void test_tmpdir(const char *name, char *buf, size_t size);
/* Removes path and everything in it; symbolic links are removed, never followed. */
void test_rmtree(const char *path);
/* A journal's place in a new temporary directory base: the journal dir base/journal and its
 * host id file base/host-id. */
void test_journal_tmpdir(const char *name, char base[TEST_PATH_MAX], char dir[TEST_PATH_MAX],
                         char hostid[TEST_PATH_MAX]);

/* termguardd's events (JSON lines on stderr where it runs without the journal): from now until
 * test_events_release(), stderr goes to the file dir/events. */
void test_events_capture(const char *dir);
/* What termguardd wrote to its events since the capture began (a buffer of the helper's). */
char *test_events_read(void);
/* stderr back where it was. */
void test_events_release(void);
