/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Paths and digests of files written to removable media (termguardd's media audit). SHA-256
 * with libgcrypt, which the daemon maps already through libsystemd (lib/usbdesc.c says why not
 * OpenSSL).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <gcrypt.h>

#include "termguard/escape.h"
#include "termguard/hex.h"
#include "termguard/macro.h"
#include "termguard/media-record.h"

/* Read in pieces this large: small enough to stay on a worker's stack budget. */
#define HASH_CHUNK (16 * 1024)

/* dir relative to mountpoint ("" for the root itself), or NULL when it is not below it. */
static const char *below(const char *mountpoint, const char *dir) {
        size_t n = strlen(mountpoint);

        /* "/" as mount point: everything is below it. */
        while (n > 0 && mountpoint[n - 1] == '/')
                n--;
        if (strncmp(dir, mountpoint, n) != 0)
                return NULL;
        if (dir[n] == '\0')
                return "";
        if (dir[n] != '/')
                return NULL;
        return dir + n + 1;
}

int tg_media_path(const char *mountpoint, const char *dir, const char *name, char ret[static TG_MEDIA_PATH_ESCAPED]) {
        char raw[TG_MEDIA_PATH_MAX + 2];
        const char *rel = NULL;
        bool have_name = name && name[0];
        int r = 0;

        if (dir && dir[0] && mountpoint)
                rel = below(mountpoint, dir);
        if (!rel && dir && dir[0])
                r = -EXDEV;
        if (!rel && !have_name) {
                snprintf(ret, TG_MEDIA_PATH_ESCAPED, "?");
                return r;
        }
        /* One more byte than is kept, so that an over-long path is cut and marked. */
        if (rel)
                snprintf(raw, sizeof(raw), "/%s%s%s", rel, rel[0] && have_name ? "/" : "", have_name ? name : "");
        else
                snprintf(raw, sizeof(raw), "%s", name);
        tg_escape(raw, strlen(raw), TG_MEDIA_PATH_MAX, ret, TG_MEDIA_PATH_ESCAPED);
        return r;
}

int tg_mountinfo_unescape(const char *in, char *ret, size_t ret_size) {
        size_t o = 0;

        assert_return(in && ret && ret_size > 0, -EINVAL);
        for (const char *p = in; *p; p++) {
                char c = *p;
                if (c == '\\') {
                        if (p[1] < '0' || p[1] > '3' || p[2] < '0' || p[2] > '7' || p[3] < '0' || p[3] > '7')
                                return -EINVAL;
                        c = (char) ((p[1] - '0') * 64 + (p[2] - '0') * 8 + (p[3] - '0'));
                        if (c == '\0')
                                return -EINVAL;
                        p += 3;
                }
                if (o + 1 >= ret_size)
                        return -ENAMETOOLONG;
                ret[o++] = c;
        }
        ret[o] = '\0';
        return 0;
}

static int gcrypt_ready(void) {
        if (!gcry_control(GCRYCTL_INITIALIZATION_FINISHED_P)) {
                if (!gcry_check_version(GCRYPT_VERSION))
                        return -EIO;
                gcry_control(GCRYCTL_DISABLE_SECMEM, 0); /* files on a medium are not key material */
                gcry_control(GCRYCTL_INITIALIZATION_FINISHED, 0);
        }
        return gcry_md_get_algo_dlen(GCRY_MD_SHA256) == 32 ? 0 : -EIO;
}

DEFINE_TRIVIAL_CLEANUP_FUNC(gcry_md_hd_t, gcry_md_close)

int tg_media_hash_fd(int fd, uint64_t cap, char ret_hex[static TG_SHA256_HEX], uint64_t *ret_size) {
        _cleanup_(gcry_md_closep) gcry_md_hd_t h = NULL;
        unsigned char buf[HASH_CHUNK];
        uint64_t total = 0;
        int r;

        assert_return(fd >= 0 && ret_size, -EINVAL);
        r = gcrypt_ready();
        if (r < 0)
                return r;
        if (gcry_md_open(&h, GCRY_MD_SHA256, 0) != 0)
                return -ENOMEM;
        for (;;) {
                /* Never more than cap + 1 bytes: enough to know the file is larger. */
                uint64_t left = cap - total + 1;
                size_t want = left < sizeof(buf) ? (size_t) left : sizeof(buf);
                ssize_t n = read(fd, buf, want);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (n == 0)
                        break;
                total += (uint64_t) n;
                if (total > cap) {
                        *ret_size = cap + 1;
                        return -EFBIG;
                }
                gcry_md_write(h, buf, (size_t) n);
        }
        r = tg_hex_encode(gcry_md_read(h, GCRY_MD_SHA256), 32, ret_hex, TG_SHA256_HEX);
        if (r < 0)
                return r;
        *ret_size = total;
        return 0;
}
