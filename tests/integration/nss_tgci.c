/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A test NSS module ("tgci") that finds /etc/passwd accounts without regard to case, as SSSD
 * or Winbind do for directory accounts: "TANAKA" finds tanaka. Used by test_pam only, in its
 * private mount namespace. */
#define _GNU_SOURCE
#include <errno.h>
#include <nss.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

enum nss_status _nss_tgci_getpwnam_r(const char *name, struct passwd *ret, char *buf, size_t len, int *errnop);

enum nss_status _nss_tgci_getpwnam_r(const char *name, struct passwd *ret, char *buf, size_t len, int *errnop) {
        FILE *f = fopen("/etc/passwd", "re");
        struct passwd *p;
        if (!f) {
                *errnop = errno;
                return NSS_STATUS_UNAVAIL;
        }
        while ((p = fgetpwent(f)))
                if (strcasecmp(p->pw_name, name) == 0) {
                        const char *fields[] = {p->pw_name, p->pw_passwd, p->pw_gecos, p->pw_dir, p->pw_shell};
                        char **dst[] = {&ret->pw_name, &ret->pw_passwd, &ret->pw_gecos, &ret->pw_dir, &ret->pw_shell};
                        size_t used = 0;
                        ret->pw_uid = p->pw_uid;
                        ret->pw_gid = p->pw_gid;
                        for (size_t i = 0; i < 5; i++) {
                                size_t n = strlen(fields[i]) + 1;
                                if (used + n > len) {
                                        fclose(f);
                                        *errnop = ERANGE;
                                        return NSS_STATUS_TRYAGAIN;
                                }
                                *dst[i] = memcpy(buf + used, fields[i], n);
                                used += n;
                        }
                        fclose(f);
                        return NSS_STATUS_SUCCESS;
                }
        fclose(f);
        return NSS_STATUS_NOTFOUND;
}
