/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Paths and digests of carry-out records (lib/media-record.c): names on a medium are hostile
 * (control characters, invalid UTF-8, any length), mount points come escaped from the kernel,
 * and a file above the cap is never read past it.
 */
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
#include <unistd.h>

#include <cmocka.h>

#include "termguard/escape.h"
#include "termguard/macro.h"
#include "termguard/media-record.h"

static void path_from_the_root_of_the_medium(void **state) {
        char p[TG_MEDIA_PATH_ESCAPED];
        (void) state;
        assert_int_equal(tg_media_path("/media/staff/STICK", "/media/staff/STICK", "a.txt", p), 0);
        assert_string_equal(p, "/a.txt");
        assert_int_equal(tg_media_path("/media/staff/STICK", "/media/staff/STICK/資料/2026", "議事録 第1回.txt", p), 0);
        assert_string_equal(p, "/資料/2026/議事録 第1回.txt");
        assert_int_equal(tg_media_path("/media/staff/STICK/", "/media/staff/STICK/d", "x", p), 0);
        assert_string_equal(p, "/d/x");
        /* A directory itself (a written file's full path). */
        assert_int_equal(tg_media_path("/mnt", "/mnt/d/file", NULL, p), 0);
        assert_string_equal(p, "/d/file");
        assert_int_equal(tg_media_path("/mnt", "/mnt", NULL, p), 0);
        assert_string_equal(p, "/");
        assert_int_equal(tg_media_path("/", "/x/y", "z", p), 0);
        assert_string_equal(p, "/x/y/z");
}

static void path_outside_the_mount_point_is_refused(void **state) {
        char p[TG_MEDIA_PATH_ESCAPED];
        (void) state;
        /* A prefix of the name is not a parent. */
        assert_int_equal(tg_media_path("/mnt/aud", "/mnt/aud2/x", "f", p), -EXDEV);
        assert_string_equal(p, "f");
        assert_int_equal(tg_media_path("/mnt/aud", "/etc", NULL, p), -EXDEV);
        assert_string_equal(p, "?");
        /* The directory could not be found: the name alone, marked as such by its lack of "/". */
        assert_int_equal(tg_media_path("/mnt/aud", "", "f", p), 0);
        assert_string_equal(p, "f");
        assert_int_equal(tg_media_path(NULL, NULL, NULL, p), 0);
        assert_string_equal(p, "?");
}

static void hostile_names_are_escaped(void **state) {
        char p[TG_MEDIA_PATH_ESCAPED];
        (void) state;
        assert_int_equal(tg_media_path("/m", "/m", "evil\033[2J\r\nname\x7f.txt", p), 0);
        assert_string_equal(p, "/evil\\x1b[2J\\x0d\\x0aname\\x7f.txt");
        assert_int_equal(tg_media_path("/m", "/m/\xff\xfe", "a\xc3(", p), 0);
        assert_string_equal(p, "/\\xff\\xfe/a\\xc3(");
        /* Right-to-left override: "txt.exe" that shows as "exe.txt". */
        assert_int_equal(tg_media_path("/m", "/m", "report\xe2\x80\xaetxt.exe", p), 0);
        assert_string_equal(p, "/report\\u202etxt.exe");
        assert_int_equal(tg_media_path("/m", "/m", "back\\slash", p), 0);
        assert_string_equal(p, "/back\\\\slash");
        assert_true(tg_text_is_escaped(p, strlen(p)));
}

static void over_long_paths_are_bounded_and_marked(void **state) {
        char p[TG_MEDIA_PATH_ESCAPED], dir[4096], name[300];
        (void) state;
        /* Deep folders of 255-byte names, every byte to be escaped: the worst case. */
        snprintf(dir, sizeof(dir), "/m");
        for (int i = 0; i < 15; i++) {
                size_t o = strlen(dir);
                dir[o++] = '/';
                memset(dir + o, '\001', 255);
                dir[o + 255] = '\0';
        }
        memset(name, '\x1b', 255);
        name[255] = '\0';
        assert_int_equal(tg_media_path("/m", dir, name, p), 0);
        assert_true(strlen(p) < sizeof(p));
        assert_true(strlen(p) <= TG_MEDIA_PATH_MAX * 4 + STRLEN("…"));
        assert_non_null(strstr(p, "…"));
        assert_true(tg_text_is_escaped(p, strlen(p)));
        /* Exactly at the bound: kept whole, no mark. */
        char exact[TG_MEDIA_PATH_MAX];
        memset(exact, 'a', sizeof(exact) - 1);
        exact[sizeof(exact) - 1] = '\0';
        assert_int_equal(tg_media_path("/m", "/m", exact, p), 0);
        assert_int_equal(strlen(p), TG_MEDIA_PATH_MAX);
        assert_null(strstr(p, "…"));
}

static void mountinfo_escapes_are_decoded(void **state) {
        char out[64];
        (void) state;
        assert_int_equal(tg_mountinfo_unescape("/media/staff/MY\\040STICK", out, sizeof(out)), 0);
        assert_string_equal(out, "/media/staff/MY STICK");
        assert_int_equal(tg_mountinfo_unescape("/a\\011b\\012c\\134d", out, sizeof(out)), 0);
        assert_string_equal(out, "/a\tb\nc\\d");
        assert_int_equal(tg_mountinfo_unescape("/bad\\9", out, sizeof(out)), -EINVAL);
        assert_int_equal(tg_mountinfo_unescape("/nul\\000", out, sizeof(out)), -EINVAL);
        assert_int_equal(tg_mountinfo_unescape("/cut\\04", out, sizeof(out)), -EINVAL);
        assert_int_equal(tg_mountinfo_unescape("/0123456789", out, 11), -ENAMETOOLONG);
        assert_int_equal(tg_mountinfo_unescape("/012345678", out, 11), 0);
}

static int temp_file(const char *data, size_t len) {
        char path[] = "/tmp/tg-media-XXXXXX";
        int fd = mkstemp(path);
        assert_true(fd >= 0);
        unlink(path);
        assert_int_equal(write(fd, data, len), (ssize_t) len);
        assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
        return fd;
}

static void digests_match_known_values(void **state) {
        char hex[TG_SHA256_HEX];
        uint64_t size = 0;
        int fd;
        (void) state;
        fd = temp_file("abc", 3);
        assert_int_equal(tg_media_hash_fd(fd, 1024, hex, &size), 0);
        assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        assert_int_equal(size, 3);
        close(fd);
        fd = temp_file("", 0);
        assert_int_equal(tg_media_hash_fd(fd, 0, hex, &size), 0);
        assert_string_equal(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
        assert_int_equal(size, 0);
        close(fd);
}

static void files_above_the_cap_are_not_hashed(void **state) {
        char hex[TG_SHA256_HEX] = "untouched", *big = malloc(100000);
        uint64_t size = 0;
        int fd;
        (void) state;
        assert_non_null(big);
        memset(big, 'x', 100000);
        fd = temp_file(big, 100000);
        /* Exactly the cap: hashed. One byte more: not, and never read past cap + 1. */
        assert_int_equal(tg_media_hash_fd(fd, 100000, hex, &size), 0);
        assert_int_equal(size, 100000);
        assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
        assert_int_equal(tg_media_hash_fd(fd, 99999, hex, &size), -EFBIG);
        assert_int_equal(size, 100000);
        assert_int_equal(lseek(fd, 0, SEEK_CUR), 100000);
        assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
        assert_int_equal(tg_media_hash_fd(fd, 0, hex, &size), -EFBIG);
        assert_int_equal(lseek(fd, 0, SEEK_CUR), 1);
        close(fd);
        free(big);
}

static void unreadable_input_is_an_error(void **state) {
        char hex[TG_SHA256_HEX];
        uint64_t size = 7;
        int fd = open("/tmp", O_RDONLY | O_DIRECTORY);
        (void) state;
        assert_true(fd >= 0);
        assert_int_equal(tg_media_hash_fd(fd, 1024, hex, &size), -EISDIR);
        assert_int_equal(size, 7);
        close(fd);
        assert_int_equal(tg_media_hash_fd(-1, 1024, hex, &size), -EINVAL);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(path_from_the_root_of_the_medium),
                cmocka_unit_test(path_outside_the_mount_point_is_refused),
                cmocka_unit_test(hostile_names_are_escaped),
                cmocka_unit_test(over_long_paths_are_bounded_and_marked),
                cmocka_unit_test(mountinfo_escapes_are_decoded),
                cmocka_unit_test(digests_match_known_values),
                cmocka_unit_test(files_above_the_cap_are_not_hashed),
                cmocka_unit_test(unreadable_input_is_an_error),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
