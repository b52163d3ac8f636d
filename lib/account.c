/* SPDX-License-Identifier: GPL-2.0-or-later */
#define _GNU_SOURCE
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>

#include "termguard/account.h"
#include "termguard/macro.h"

#define GROUP_BUFFER_MAX (16u << 20)

int tg_group_gid(const char *name, gid_t *ret) {
        for (size_t size = 16384;; size *= 2) {
                struct group gr, *g = NULL;
                _cleanup_free_ char *buf = malloc(size);
                if (!buf)
                        return -ENOMEM;
                int r = getgrnam_r(name, &gr, buf, size, &g);
                if (r == ERANGE && size < GROUP_BUFFER_MAX)
                        continue;
                if (r != 0)
                        return -r;
                if (!g)
                        return 0;
                *ret = g->gr_gid;
                return 1;
        }
}

int tg_canonical_user(const char *name, char *ret, size_t size) {
        struct passwd pw, *res = NULL;
        char buf[16384];
        int r = getpwnam_r(name, &pw, buf, sizeof(buf), &res);
        if (r != 0)
                return -r;
        const char *canon = res ? res->pw_name : name;
        if (strlen(canon) >= size)
                return -ENAMETOOLONG;
        snprintf(ret, size, "%s", canon);
        return res ? 1 : 0;
}
