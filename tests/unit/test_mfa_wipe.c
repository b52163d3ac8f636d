/* SPDX-License-Identifier: GPL-2.0-or-later */
/* No freed memory holds the secret after a save or a load of the MFA state: free() and
 * realloc() of this program come before libc's for every library, json-c's included, and
 * search each block for the secret before handing it back to libc. */
#define _GNU_SOURCE
/* This test replaces free() and realloc() to search what is freed; gcc's analyzer models them
 * as libc's and reports the replacements' own blocks as leaks. */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wpragmas" /* gcc without -fanalyzer */
#pragma GCC diagnostic ignored "-Wanalyzer-malloc-leak"
#pragma GCC diagnostic ignored "-Wanalyzer-null-argument"
#endif
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <malloc.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "termguard/hex.h"
#include "termguard/mfa.h"

/* The sanitizer's allocator stands where these would: that build skips the test. */
#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TG_ASAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define TG_ASAN 1
#endif

extern void __libc_free(void *p);
extern void *__libc_malloc(size_t n);

/* What freed blocks must not hold: the secret in hex (as in the file) and as bytes. */
static char needle_hex[2 * TG_OTP_KEY_MAX + 1];
static uint8_t needle_raw[TG_OTP_KEY_MAX];
static size_t needle_raw_len;
static int leaks;

#if !defined(TG_ASAN)
/* Whether any run of k bytes of needle (len bytes) is in the n bytes at p: a part of the
 * secret left behind is as bad as all of it. */
static bool holds_part(const void *p, size_t n, const void *needle, size_t len, size_t k) {
        for (size_t i = 0; i + k <= len; i++)
                if (memmem(p, n, (const char *) needle + i, k))
                        return true;
        return false;
}

void free(void *p) {
        if (p && needle_hex[0]) {
                size_t n = malloc_usable_size(p);
                if (holds_part(p, n, needle_hex, strlen(needle_hex), 16) ||
                    holds_part(p, n, needle_raw, needle_raw_len, 8))
                        leaks++;
        }
        __libc_free(p);
}

/* libc's realloc frees the old block inside libc: done here by hand, so that it is searched. */
void *realloc(void *p, size_t n) {
        if (!p)
                return __libc_malloc(n);
        if (n == 0) {
                free(p);
                return NULL;
        }
        void *q = __libc_malloc(n);
        if (!q)
                return NULL;
        size_t old = malloc_usable_size(p);
        memcpy(q, p, old < n ? old : n);
        free(p);
        return q;
}
#endif

#define TEST_BASE "/run"
static char state[256];
static int dfd = -1;

static int setup(void **s) {
        char err[256];
        (void) s;
        snprintf(state, sizeof(state), "%s/tg-mfa-wipe.XXXXXX", TEST_BASE);
        assert_non_null(mkdtemp(state));
        dfd = tg_mfa_open_dir(state, true, err, sizeof(err));
        assert_true(dfd >= 0);
        return 0;
}

static int teardown(void **s) {
        char cmd[300];
        (void) s;
        close(dfd);
        needle_hex[0] = '\0';
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", state);
        assert_int_equal(system(cmd), 0);
        return 0;
}

static tg_mfa_user enrolled(void) {
        tg_mfa_user u = {0};
        char codes[TG_MFA_RECOVERY_CODES][12];
        assert_int_equal(tg_mfa_enroll(&u, "tanaka", 1800000000), 0);
        assert_int_equal(tg_mfa_new_recovery_codes(&u, codes), 0);
        assert_int_equal(tg_hex_encode(u.secret, u.secret_len, needle_hex, sizeof(needle_hex)), 0);
        memcpy(needle_raw, u.secret, u.secret_len);
        needle_raw_len = u.secret_len;
        return u;
}

/* The search itself finds a secret that is freed unwiped: the test can fail. */
static void the_search_finds_an_unwiped_secret(void **s) {
        (void) s;
        enrolled();
        leaks = 0;
        char *copy = strdup(needle_hex);
        assert_non_null(copy);
        free(copy);
        assert_int_equal(leaks, 1);
        char *grown = malloc(8);
        assert_non_null(grown);
        memcpy(grown, needle_raw, 8);
        grown = realloc(grown, 4096); /* the old block held 8 bytes of it */
        assert_int_equal(leaks, 2);
        explicit_bzero(grown, 8);
        grown = realloc(grown, 8192);
        free(grown);
        assert_int_equal(leaks, 2);
}

static void save_and_load_leave_no_secret_in_freed_memory(void **s) {
        tg_mfa_user u = enrolled(), l;
        char err[256];
        (void) s;
        leaks = 0;
        assert_int_equal(tg_mfa_save(dfd, &u), 0);
        assert_int_equal(leaks, 0);
        assert_int_equal(tg_mfa_load(dfd, "tanaka", &l, err, sizeof(err)), 0);
        assert_memory_equal(l.secret, u.secret, u.secret_len);
        assert_int_equal(leaks, 0);
        tg_mfa_user_wipe(&l);
        tg_mfa_user_wipe(&u);
}

/* A file cut off after the secret (a full disk, an edit): refused, and its parts wiped too. */
static void a_truncated_file_leaves_no_secret_in_freed_memory(void **s) {
        tg_mfa_user u = enrolled(), l;
        char err[256], text[8192], path[400];
        (void) s;
        assert_int_equal(tg_mfa_save(dfd, &u), 0);
        snprintf(path, sizeof(path), "%s/mfa/tanaka.json", state);
        int fd = open(path, O_RDWR | O_CLOEXEC);
        assert_true(fd >= 0);
        ssize_t n = read(fd, text, sizeof(text) - 1);
        assert_true(n > 0);
        text[n] = '\0';
        char *end = strstr(text, needle_hex);
        assert_non_null(end);
        end += strlen(needle_hex);
        const size_t cuts[] = {0, 1, 2}; /* within the string, at its end, after the quote */
        for (size_t i = 0; i < sizeof(cuts) / sizeof(cuts[0]); i++) {
                assert_int_equal(ftruncate(fd, (off_t) (end - text) + (off_t) cuts[i]), 0);
                leaks = 0;
                assert_int_equal(tg_mfa_load(dfd, "tanaka", &l, err, sizeof(err)), -EBADMSG);
                assert_int_equal(leaks, 0);
        }
        close(fd);
        tg_mfa_user_wipe(&u);
}

int main(void) {
#if defined(TG_ASAN)
        fprintf(stderr, "test_mfa_wipe: skipped, the sanitizer's allocator cannot be searched this way\n");
        return 77;
#endif
        if (geteuid() != 0) {
                fprintf(stderr, "test_mfa_wipe: skipped, needs root (root-owned state files)\n");
                return 77;
        }
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(the_search_finds_an_unwiped_secret, setup, teardown),
                cmocka_unit_test_setup_teardown(save_and_load_leave_no_secret_in_freed_memory, setup, teardown),
                cmocka_unit_test_setup_teardown(a_truncated_file_leaves_no_secret_in_freed_memory, setup, teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
