/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Setting up a FunctionFS function for the VM tests' devices. See ffs-common.h. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ffs-common.h"

/* A string a test device names itself by, NUL included. */
#define STRING_MAX 64

int ffs_start(const char *program, const char *mountpoint, const void *descriptors, size_t len, const char *string) {
        struct {
                struct usb_functionfs_strings_head header;
                __le16 code;
                char str[STRING_MAX];
        } __attribute__((packed)) strings;
        size_t strings_len = sizeof(strings.header) + sizeof(strings.code) + strlen(string) + 1;
        char path[4096];
        int ep0;

        if (strlen(string) >= STRING_MAX) {
                fprintf(stderr, "%s: string too long: %s\n", program, string);
                return -1;
        }
        strings.header = (struct usb_functionfs_strings_head){.magic = LE32(FUNCTIONFS_STRINGS_MAGIC),
                                                              .length = LE32((__u32) strings_len),
                                                              .str_count = LE32(1),
                                                              .lang_count = LE32(1)};
        strings.code = LE16(0x0409);
        memcpy(strings.str, string, strlen(string) + 1);
        snprintf(path, sizeof(path), "%s/ep0", mountpoint);
        ep0 = open(path, O_RDWR);
        if (ep0 < 0) {
                fprintf(stderr, "%s: %s: %s\n", program, path, strerror(errno));
                return -1;
        }
        if (write(ep0, descriptors, len) != (ssize_t) len ||
            write(ep0, &strings, strings_len) != (ssize_t) strings_len) {
                fprintf(stderr, "%s: descriptors refused: %s\n", program, strerror(errno));
                close(ep0);
                return -1;
        }
        return ep0;
}
