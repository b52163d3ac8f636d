/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* For parsers that read a file: the input goes to a file in a private temporary directory,
 * which the parser then opens by its real path. */

#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* A new directory (mode 0700, the caller's) removed at exit with what the target put in it;
 * on tmpfs where there is one: writers fsync. */
static char fuzz_dir[] = "/dev/shm/tg-fuzz-XXXXXX";
static char fuzz_file_path[sizeof(fuzz_dir) + 64];

static void fuzz_dir_remove(void) {
        unlink(fuzz_file_path);
        rmdir(fuzz_dir);
}

/* Creates the directory; the file the target writes is fuzz_dir/name. */
static void fuzz_dir_create(const char *name) {
        struct stat st;
        if (stat("/dev/shm", &st) < 0 || !S_ISDIR(st.st_mode))
                memcpy(fuzz_dir, "/tmp/tg-fuzz-XXXXXX", sizeof("/tmp/tg-fuzz-XXXXXX"));
        if (!mkdtemp(fuzz_dir)) {
                perror("mkdtemp");
                abort();
        }
        snprintf(fuzz_file_path, sizeof(fuzz_file_path), "%s/%s", fuzz_dir, name);
        atexit(fuzz_dir_remove);
}

/* Replaces the file's contents with the input, mode as given. */
static void fuzz_file_write(const uint8_t *data, size_t size, mode_t mode) {
        int fd = open(fuzz_file_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode);
        if (fd < 0 || fchmod(fd, mode) < 0) {
                perror(fuzz_file_path);
                abort();
        }
        for (size_t done = 0; done < size;) {
                ssize_t k = write(fd, data + done, size - done);
                if (k <= 0) {
                        perror(fuzz_file_path);
                        abort();
                }
                done += (size_t) k;
        }
        close(fd);
}
