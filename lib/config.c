/* SPDX-License-Identifier: GPL-2.0-or-later */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <ini.h>

#include "termguard/config.h"
#include "termguard/escape.h"
#include "termguard/macro.h"

void tg_config_default(tg_config *c) {
        memset(c, 0, sizeof(*c));
        snprintf(c->state_dir, sizeof(c->state_dir), "/var/lib/termguard");
        snprintf(c->runtime_dir, sizeof(c->runtime_dir), "/run/termguard");
        tg_usb_policy_default(&c->usb);
        c->max_exception_duration = 31 * 24 * 3600;
        c->mfa_max_failures = 5;
        c->mfa_lockout = 15 * 60;
}

int tg_parse_duration(const char *s, int64_t *ret) {
        char *end;
        long long v;
        int64_t mult = 1;

        if (!s || !*s || *s == '-' || *s == '+' || *s == ' ')
                return -EINVAL;
        errno = 0;
        v = strtoll(s, &end, 10);
        if (errno || end == s)
                return -EINVAL;
        if (*end == '\0' || strcmp(end, "s") == 0)
                mult = 1;
        else if (strcmp(end, "m") == 0 || strcmp(end, "min") == 0)
                mult = 60;
        else if (strcmp(end, "h") == 0)
                mult = 3600;
        else if (strcmp(end, "d") == 0)
                mult = 86400;
        else
                return -EINVAL;
        if (v > INT64_MAX / mult / 2)
                return -ERANGE;
        *ret = (int64_t) v * mult;
        return 0;
}

typedef struct {
        tg_config *cfg;
        const char *file;
        FILE *f;
        unsigned line, err_line;
        char *err;
        size_t err_size;
        bool failed;
} parse_ctx;

static int parse_path(const char *v, char *buf, size_t size) {
        if (v[0] != '/' || strlen(v) >= size || strstr(v, "/../") || !tg_valid_text(v, size - 1, 0))
                return -EINVAL;
        snprintf(buf, size, "%s", v);
        return 0;
}

static bool valid_name_list(const char *v) {
        for (const char *p = v; *p; p++)
                if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '_' ||
                      *p == '.' || *p == '@' || *p == '-' || *p == ' '))
                        return false;
        return true;
}

static int parse_classes(const char *v, tg_usb_policy *p) {
        _cleanup_free_ char *copy = strdup(v);
        char *save = NULL;
        bool allow[256] = {false};

        if (!copy)
                return -ENOMEM;
        for (char *t = strtok_r(copy, " \t,", &save); t; t = strtok_r(NULL, " \t,", &save)) {
                uint8_t cls;
                if (tg_usb_class_from_string(t, &cls) < 0)
                        return -EINVAL;
                /* Storage classes pass only through the register; they cannot be allowed
                 * wholesale by a configuration line. */
                if (cls == 0x08 || cls == 0x06)
                        return -EPERM;
                allow[cls] = true;
        }
        memcpy(p->allow_class, allow, sizeof(allow));
        return 0;
}

static int handler(void *user, const char *section, const char *name, const char *value) {
        parse_ctx *c = user;
        const char *why = NULL;
        int r = 0;

        if (c->failed)
                return 1; /* report only the first problem */

#define IS(s, k) (strcmp(section, s) == 0 && strcmp(name, k) == 0)
        if (IS("Daemon", "StateDirectory")) {
                if (parse_path(value, c->cfg->state_dir, sizeof(c->cfg->state_dir)) < 0)
                        why = "must be an absolute path of at most 96 characters";
        } else if (IS("Daemon", "RuntimeDirectory")) {
                if (parse_path(value, c->cfg->runtime_dir, sizeof(c->cfg->runtime_dir)) < 0)
                        why = "must be an absolute path of at most 96 characters";
        } else if (IS("Daemon", "AdminGroup")) {
                if (value[0] && !tg_valid_text(value, TG_USER_MAX, 0))
                        why = "must be a group name";
                else
                        snprintf(c->cfg->admin_group, sizeof(c->cfg->admin_group), "%s", value);
        } else if (IS("USB", "AllowInterfaceClasses")) {
                r = parse_classes(value, &c->cfg->usb);
                if (r == -EPERM)
                        why = "mass-storage and still-image pass only through the media register";
                else if (r < 0)
                        why = "expects class names (hid, hub, audio, video, smartcard, ...) or hex codes";
        } else if (IS("Exceptions", "MaxDuration")) {
                int64_t d;
                if (tg_parse_duration(value, &d) < 0 || d <= 0 || d > 366LL * 86400)
                        why = "expects a duration such as 8h or 31d, at most 366d";
                else
                        c->cfg->max_exception_duration = d;
        } else if (IS("MFA", "RequireUsers") || IS("MFA", "RequireGroups")) {
                char *dst = strcmp(name, "RequireUsers") == 0 ? c->cfg->mfa_users : c->cfg->mfa_groups;
                size_t size = sizeof(c->cfg->mfa_users);
                if (!valid_name_list(value) || strlen(value) >= size)
                        why = "expects user or group names separated by spaces (at most 511 characters)";
                else
                        snprintf(dst, size, "%s", value);
        } else if (IS("MFA", "Profile")) {
                if (strcmp(value, "standard") == 0)
                        c->cfg->mfa_everyone = false;
                else if (strcmp(value, "mynumber") == 0)
                        c->cfg->mfa_everyone = true;
                else
                        why = "expects standard or mynumber";
        } else if (IS("MFA", "RolloutUntil")) {
                int64_t t;
                if (value[0] == '\0')
                        c->cfg->mfa_rollout_until = 0;
                else if (tg_parse_iso8601(value, &t) < 0)
                        why = "expects an ISO 8601 time with zone, e.g. 2027-03-31T23:59:59+09:00";
                else
                        c->cfg->mfa_rollout_until = t;
        } else if (IS("MFA", "MaxFailures")) {
                char *end;
                unsigned long v = strtoul(value, &end, 10);
                if (!*value || *end || v > 100 || value[0] == '-')
                        why = "expects a number from 0 (no limit) to 100";
                else
                        c->cfg->mfa_max_failures = (unsigned) v;
        } else if (IS("MFA", "LockoutTime")) {
                int64_t d;
                if (tg_parse_duration(value, &d) < 0 || d <= 0 || d > 30LL * 86400)
                        why = "expects a duration such as 15m or 1h, at most 30d";
                else
                        c->cfg->mfa_lockout = d;
        } else if (IS("MFA", "BannerFile")) {
                if (value[0] && parse_path(value, c->cfg->mfa_banner_file, sizeof(c->cfg->mfa_banner_file)) < 0)
                        why = "must be an absolute path of at most 96 characters";
                else if (!value[0])
                        c->cfg->mfa_banner_file[0] = '\0';
        } else
                why = "unknown key";
#undef IS

        if (why) {
                char esc_name[64], esc_val[64];
                tg_escape_str(name, esc_name, sizeof(esc_name));
                tg_escape(value, strlen(value), 40, esc_val, sizeof(esc_val));
                snprintf(c->err, c->err_size, "%s:%u: %s%s%s: %s (value \"%s\")", c->file, c->line,
                         section[0] ? section : "", section[0] ? "." : "", esc_name, why, esc_val);
                c->failed = true;
                c->err_line = c->line;
                return 0;
        }
        return 1;
}

/* fgets-like reader for ini_parse_stream that counts lines and refuses over-long ones
 * instead of letting them be split silently. */
static char *reader(char *str, int num, void *stream) {
        parse_ctx *c = stream;
        char *s = fgets(str, num, c->f);
        if (!s)
                return NULL;
        c->line++;
        size_t len = strlen(s);
        if (len == (size_t) num - 1 && s[len - 1] != '\n' && !feof(c->f)) {
                if (!c->failed) {
                        snprintf(c->err, c->err_size, "%s:%u: line longer than %d characters", c->file, c->line,
                                 num - 2);
                        c->failed = true;
                        c->err_line = c->line;
                }
                int ch;
                while ((ch = fgetc(c->f)) != EOF && ch != '\n')
                        ;
                str[0] = '\0';
        }
        return s;
}

static int parse_one(const char *path, tg_config *cfg, bool must_exist, char *err, size_t err_size) {
        _cleanup_fclose_ FILE *f = NULL;
        struct stat st;
        int r;

        f = fopen(path, "re");
        if (!f) {
                if (errno == ENOENT && !must_exist)
                        return 0;
                r = -errno;
                snprintf(err, err_size, "%s: cannot open: %s", path, strerror(errno));
                return r;
        }
        if (fstat(fileno(f), &st) < 0 || !S_ISREG(st.st_mode)) {
                snprintf(err, err_size, "%s: not a regular file", path);
                return -EBADF;
        }
        /* Policy written by anyone but root is not policy. */
        if ((st.st_mode & S_IWOTH) || ((st.st_mode & S_IWGRP) && st.st_gid != 0) || (st.st_uid != 0 && geteuid() == 0)) {
                snprintf(err, err_size,
                         "%s: refusing a configuration file that is not owned by root or that others can write", path);
                return -EPERM;
        }
        parse_ctx c = {.cfg = cfg, .file = path, .f = f, .err = err, .err_size = err_size};
        r = ini_parse_stream(reader, &c, handler, &c);
        /* inih goes on after a syntax error; report whichever problem comes first. */
        if (c.failed && (r <= 0 || (unsigned) r >= c.err_line))
                return -EINVAL;
        if (r != 0) {
                snprintf(err, err_size, "%s:%d: syntax error: expected [Section] or Key=Value", path, r);
                return -EINVAL;
        }
        return 0;
}

static int dropin_filter(const struct dirent *d) {
        size_t n = strlen(d->d_name);
        return d->d_name[0] != '.' && n > 5 && strcmp(d->d_name + n - 5, ".conf") == 0;
}

static int load(const char *root, bool main_must_exist, tg_config *ret, char *err, size_t err_size);

int tg_config_load(const char *root, tg_config *ret, char *err, size_t err_size) {
        return load(root, false, ret, err, err_size);
}

int tg_config_load_required(const char *root, tg_config *ret, char *err, size_t err_size) {
        return load(root, true, ret, err, err_size);
}

static int load(const char *root, bool main_must_exist, tg_config *ret, char *err, size_t err_size) {
        _cleanup_free_ char *main_path = NULL, *dropdir = NULL;
        struct dirent **list = NULL;
        tg_config cfg;
        int n, r = 0;

        assert_return(root && ret, -EINVAL);
        tg_config_default(&cfg);

        if (asprintf(&main_path, "%s/termguard.conf", root) < 0 || asprintf(&dropdir, "%s/termguard.conf.d", root) < 0)
                return -ENOMEM;
        r = parse_one(main_path, &cfg, main_must_exist, err, err_size);
        if (r < 0)
                return r;

        n = scandir(dropdir, &list, dropin_filter, alphasort);
        if (n < 0) {
                if (errno != ENOENT) {
                        r = -errno;
                        snprintf(err, err_size, "%s: cannot read: %s", dropdir, strerror(errno));
                        return r;
                }
                n = 0;
        }
        if (n > TG_CONFIG_DROPINS_MAX) {
                snprintf(err, err_size, "%s: more than %d drop-in files", dropdir, TG_CONFIG_DROPINS_MAX);
                r = -E2BIG;
        }
        for (int i = 0; i < n; i++) {
                _cleanup_free_ char *p = NULL;
                if (r == 0) {
                        if (asprintf(&p, "%s/%s", dropdir, list[i]->d_name) < 0)
                                r = -ENOMEM;
                        else
                                r = parse_one(p, &cfg, true, err, err_size);
                }
                free(list[i]);
        }
        free(list);
        if (r < 0)
                return r;
        *ret = cfg;
        return 0;
}
