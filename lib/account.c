/* SPDX-License-Identifier: GPL-2.0-or-later */
#define _GNU_SOURCE
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <unistd.h>

#include "termguard/account.h"
#include "termguard/fileio.h"
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

#define PASSWD_BUFFER_MAX (1u << 20)

/* One lookup, by name when name is set, else by uid. */
static int account_lookup(const char *name, uid_t uid, tg_account *ret) {
        long start = sysconf(_SC_GETPW_R_SIZE_MAX);

        for (size_t size = start > 0 && start <= (long) PASSWD_BUFFER_MAX ? (size_t) start : 1024;; size *= 2) {
                struct passwd pw, *res = NULL;
                _cleanup_free_ char *buf = malloc(size);
                if (!buf)
                        return -ENOMEM;
                int r = name ? getpwnam_r(name, &pw, buf, size, &res) : getpwuid_r(uid, &pw, buf, size, &res);
                if (r == ERANGE && size < PASSWD_BUFFER_MAX)
                        continue;
                if (r != 0) /* even ENOENT here is a failed lookup (a source unavailable), not "none" */
                        return r == ENOENT ? -EIO : -r;
                if (!res)
                        return -ENOENT;
                if (strlen(res->pw_name) > TG_ACCOUNT_NAME_MAX)
                        return -ENAMETOOLONG;
                tg_account a = {.uid = res->pw_uid, .gid = res->pw_gid};
                memcpy(a.name, res->pw_name, strlen(res->pw_name) + 1);
                *ret = a;
                return 0;
        }
}

int tg_account_by_name(const char *name, tg_account *ret) {
        assert_return(name && ret, -EINVAL);
        if (!*name)
                return -ENOENT;
        return account_lookup(name, 0, ret);
}

int tg_account_by_uid(uid_t uid, tg_account *ret) {
        assert_return(ret, -EINVAL);
        return account_lookup(NULL, uid, ret);
}

int tg_canonical_user(const char *name, char *ret, size_t size) {
        tg_account a;
        int r = tg_account_by_name(name, &a);
        if (r < 0 && r != -ENOENT)
                return r;
        const char *canon = r == 0 ? a.name : name;
        if (strlen(canon) >= size)
                return -ENAMETOOLONG;
        snprintf(ret, size, "%s", canon);
        return r == 0 ? 1 : 0;
}

int tg_loginuid_read(pid_t pid, uid_t *ret) {
        char path[64], text[16];
        uint64_t v = 0;
        ssize_t n;

        assert_return(pid >= 0 && ret, -EINVAL);
        if (pid == 0)
                snprintf(path, sizeof(path), "/proc/self/loginuid");
        else
                snprintf(path, sizeof(path), "/proc/%d/loginuid", (int) pid);
        n = tg_read_file(path, text, sizeof(text) - 1);
        if (n < 0)
                return (int) n;
        if (n > 0 && text[n - 1] == '\n')
                n--;
        if (n == 0 || n > 10)
                return -EBADMSG;
        for (ssize_t i = 0; i < n; i++) {
                if (text[i] < '0' || text[i] > '9')
                        return -EBADMSG;
                v = v * 10 + (uint64_t) (text[i] - '0');
        }
        if (v > UINT32_MAX)
                return -EBADMSG;
        if (v == UINT32_MAX) /* the kernel's "unset" */
                return -ENODATA;
        *ret = (uid_t) v;
        return 0;
}

void tg_actor_describe(uid_t uid, uid_t loginuid, char *buf, size_t size) {
        tg_account a;
        int o;

        if (!buf || size == 0)
                return;
        if (tg_account_by_uid(uid, &a) == 0)
                o = snprintf(buf, size, "%s", a.name);
        else
                o = snprintf(buf, size, "uid:%u", (unsigned) uid);
        if (uid != 0 || loginuid == (uid_t) -1 || loginuid == 0 || o < 0 || (size_t) o >= size)
                return;
        if (tg_account_by_uid(loginuid, &a) == 0)
                snprintf(buf + o, size - (size_t) o, " (login %s)", a.name);
        else
                snprintf(buf + o, size - (size_t) o, " (login uid %u)", (unsigned) loginuid);
}
