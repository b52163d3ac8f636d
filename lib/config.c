/* SPDX-License-Identifier: GPL-2.0-or-later */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <ini.h>

#include "termguard/config.h"
#include "termguard/escape.h"
#include "termguard/macro.h"
#include "termguard/timeutil.h"

void tg_config_default(tg_config *c) {
        memset(c, 0, sizeof(*c));
        snprintf(c->state_dir, sizeof(c->state_dir), "%s", TG_STATE_DIR_DEFAULT);
        snprintf(c->runtime_dir, sizeof(c->runtime_dir), "%s", TG_RUNTIME_DIR_DEFAULT);
        tg_usb_policy_default(&c->usb);
        c->max_exception_duration = 31 * 24 * 3600;
        c->media_hash_max = TG_MEDIA_HASH_MAX_DEFAULT;
        c->journal_checkpoint_interval = 5 * 60;
        c->journal_max_bytes = INT64_C(512) << 20;
        snprintf(c->journal_auditor_group, sizeof(c->journal_auditor_group), "%s", TG_AUDITOR_GROUP_DEFAULT);
        c->mfa_max_failures = 5;
        c->mfa_lockout = 15 * 60;
        snprintf(c->mfa_services, sizeof(c->mfa_services), "%s", TG_MFA_SERVICES_DEFAULT);
        c->idle_lock_after = 15 * 60;
        c->idle_privileged_lock_after = 5 * 60;
        c->idle_warn_before = 60;
        c->idle_confirm_timeout = 5;
        c->idle_logoff_grace = 120;
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

/* One row per configuration key: where it lives in tg_config, how its value is read, and its
 * bounds. A new key is one row (and a line in the admin guide). */
typedef struct config_item config_item;
typedef int (*config_parser)(const config_item *item, const char *value, void *field);

struct config_item {
        const char *section;
        const char *key;
        config_parser parse;
        size_t offset;       /* of the field in tg_config */
        size_t size;         /* of the field: bounds every string */
        int64_t min, max;    /* of numbers and durations */
        const char *why;     /* what the key expects, shown when the parser refuses the value */
        const char *refused; /* shown instead when the value is well-formed but not allowed (-EPERM) */
};

/* An absolute path without "/../". */
static int parse_path(const config_item *item, const char *v, void *field) {
        if (v[0] != '/' || strlen(v) >= item->size || strstr(v, "/../") || !tg_valid_text(v, item->size - 1, false))
                return -EINVAL;
        snprintf(field, item->size, "%s", v);
        return 0;
}

/* The same, or empty for none. */
static int parse_optional_path(const config_item *item, const char *v, void *field) {
        if (v[0] == '\0') {
                memset(field, 0, item->size);
                return 0;
        }
        return parse_path(item, v, field);
}

/* A group name; empty means nobody but root. */
static int parse_group(const config_item *item, const char *v, void *field) {
        if (v[0] && !tg_valid_text(v, item->size - 1, false))
                return -EINVAL;
        snprintf(field, item->size, "%s", v);
        return 0;
}

static bool valid_name_list(const char *v) {
        for (const char *p = v; *p; p++)
                if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '_' ||
                      *p == '.' || *p == '@' || *p == '-' || *p == ' '))
                        return false;
        return true;
}

static int parse_name_list(const config_item *item, const char *v, void *field) {
        if (!valid_name_list(v) || strlen(v) >= item->size)
                return -EINVAL;
        snprintf(field, item->size, "%s", v);
        return 0;
}

/* PAM service names separated by spaces, each made of A-Z a-z 0-9 . _ - and at most
 * TG_MFA_SERVICE_MAX long; empty means none. */
static int parse_service_list(const config_item *item, const char *v, void *field) {
        if (strlen(v) >= item->size)
                return -EINVAL;
        for (const char *p = v + strspn(v, " "); *p; p += strspn(p, " ")) {
                size_t n = strspn(p, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-");
                if (n == 0 || n > TG_MFA_SERVICE_MAX || (p[n] != ' ' && p[n] != '\0'))
                        return -EINVAL;
                p += n;
        }
        snprintf(field, item->size, "%s", v);
        return 0;
}

static int parse_classes(const config_item *item _unused_, const char *v, void *field) {
        tg_usb_policy *p = field;
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

/* Reader and key models allowed raw access, ownerless entries of the token registry
 * (lib/token.c): a list setting, as in systemd, since one line (inih: 200 bytes) holds only a
 * few models. Each line adds, an empty value empties. */
static int parse_raw_access(const config_item *item _unused_, const char *v, void *field) {
        return tg_token_list_extend(field, v);
}

static int parse_seconds(const config_item *item, const char *v, void *field) {
        int64_t d;
        if (tg_parse_duration(v, &d) < 0 || d < item->min || d > item->max)
                return -ERANGE;
        *(int64_t *) field = d;
        return 0;
}

/* A retention period: a duration, or "infinity" (also "0") to keep for ever. */
static int parse_max_age(const config_item *item, const char *v, void *field) {
        if (strcmp(v, "infinity") == 0 || strcmp(v, "0") == 0) {
                *(int64_t *) field = 0;
                return 0;
        }
        return parse_seconds(item, v, field);
}

static int parse_unsigned(const config_item *item, const char *v, void *field) {
        char *end;
        unsigned long n;

        if (!*v || v[0] == '-')
                return -EINVAL;
        errno = 0;
        n = strtoul(v, &end, 10);
        if (errno || *end || n < (unsigned long) item->min || n > (unsigned long) item->max)
                return -ERANGE;
        *(unsigned *) field = (unsigned) n;
        return 0;
}

/* A size in bytes, with an optional binary suffix: 512, 64K, 256M, 2G, 1T. */
static int parse_size(const config_item *item, const char *v, void *field) {
        static const struct {
                char suffix;
                unsigned shift;
        } units[] = {{'K', 10}, {'M', 20}, {'G', 30}, {'T', 40}};
        unsigned shift = 0;
        char *end;
        unsigned long long n;

        if (v[0] < '0' || v[0] > '9')
                return -EINVAL;
        errno = 0;
        n = strtoull(v, &end, 10);
        if (errno)
                return -ERANGE;
        if (*end) {
                for (size_t i = 0; i < ELEMENTSOF(units) && !shift; i++)
                        if (end[0] == units[i].suffix && end[1] == '\0')
                                shift = units[i].shift;
                if (!shift)
                        return -EINVAL;
        }
        if (n > (unsigned long long) item->max >> shift || (n << shift) < (unsigned long long) item->min)
                return -ERANGE;
        *(uint64_t *) field = (uint64_t) n << shift;
        return 0;
}

/* Profile=standard: the listed users and groups; Profile=mynumber: everyone on this terminal. */
static int parse_profile(const config_item *item _unused_, const char *v, void *field) {
        if (strcmp(v, "standard") == 0)
                *(bool *) field = false;
        else if (strcmp(v, "mynumber") == 0)
                *(bool *) field = true;
        else
                return -EINVAL;
        return 0;
}

/* Free text (a reader name prefix, "*"): printable, spaces allowed; empty means none. */
static int parse_text(const config_item *item, const char *v, void *field) {
        if (strlen(v) >= item->size || (v[0] && !tg_valid_text(v, item->size - 1, true)))
                return -EINVAL;
        snprintf(field, item->size, "%s", v);
        return 0;
}

/* A point in time with zone; empty means none. */
static int parse_time(const config_item *item _unused_, const char *v, void *field) {
        int64_t t = 0;
        if (v[0] && tg_parse_iso8601(v, &t) < 0)
                return -EINVAL;
        *(int64_t *) field = t;
        return 0;
}

#define FIELD(f) offsetof(tg_config, f), sizeof(((tg_config *) 0)->f)
#define DAYS(n) (INT64_C(86400) * (n))
#define STR_(x) #x
#define STR(x) STR_(x)
#define PATH_WHY "must be an absolute path of at most " STR(TG_PATH_MAX) " characters"

static const config_item config_items[] = {
        {"Daemon", "StateDirectory", parse_path, FIELD(state_dir), 0, 0, PATH_WHY, NULL},
        {"Daemon", "RuntimeDirectory", parse_path, FIELD(runtime_dir), 0, 0, PATH_WHY, NULL},
        {"Daemon", "AdminGroup", parse_group, FIELD(admin_group), 0, 0, "must be a group name", NULL},
        {"USB", "AllowInterfaceClasses", parse_classes, FIELD(usb), 0, 0,
         "expects class names (hid, hub, audio, video, smartcard, ...) or hex codes",
         "mass-storage and still-image pass only through the media register"},
        {"USB", "RawAccess", parse_raw_access, FIELD(usb.raw_access), 0, 0,
         "expects reader and key models VID:PID or VID:PID/SERIAL (hex, e.g. 04e6:5116) separated by spaces, at "
         "most " STR(TG_RAW_ACCESS_MODELS_MAX) " in all",
         NULL},
        {"Exceptions", "MaxDuration", parse_seconds, FIELD(max_exception_duration), 1, DAYS(366),
         "expects a duration such as 8h or 31d, at most 366d", NULL},
        {"MediaAudit", "HashMaxSize", parse_size, FIELD(media_hash_max), 0, (int64_t) TG_MEDIA_HASH_MAX_LIMIT,
         "expects a size such as 256M or 2G (K, M, G, T: binary units), at most 1T; 0 hashes nothing", NULL},
        {"Journal", "CheckpointInterval", parse_seconds, FIELD(journal_checkpoint_interval), 10, DAYS(1),
         "expects a duration such as 5m or 1h, from 10s to 1d", NULL},
        {"Journal", "MaxUse", parse_size, FIELD(journal_max_bytes), INT64_C(64) << 10, INT64_C(1) << 40,
         "expects a size such as 512M or 2G, from 64K to 1024G", NULL},
        /* Whole days at least: a record is kept for the policy's period, never for minutes. At
         * most 100 years, so that microseconds of it never overflow. */
        {"Journal", "MaxAge", parse_max_age, FIELD(journal_max_age), DAYS(1), DAYS(36500),
         "expects a duration such as 1825d, from 1d to 36500d, or infinity (0) to keep records for ever", NULL},
        {"Journal", "AuditorGroup", parse_group, FIELD(journal_auditor_group), 0, 0, "must be a group name", NULL},
        {"MFA", "RequireUsers", parse_name_list, FIELD(mfa_users), 0, 0,
         "expects user or group names separated by spaces (at most 511 characters)", NULL},
        {"MFA", "RequireGroups", parse_name_list, FIELD(mfa_groups), 0, 0,
         "expects user or group names separated by spaces (at most 511 characters)", NULL},
        {"MFA", "Profile", parse_profile, FIELD(mfa_everyone), 0, 0, "expects standard or mynumber", NULL},
        {"MFA", "RolloutUntil", parse_time, FIELD(mfa_rollout_until), 0, 0,
         "expects an ISO 8601 time with zone, e.g. 2027-03-31T23:59:59+09:00", NULL},
        {"MFA", "MaxFailures", parse_unsigned, FIELD(mfa_max_failures), 0, 100,
         "expects a number from 0 (no limit) to 100", NULL},
        {"MFA", "LockoutTime", parse_seconds, FIELD(mfa_lockout), 1, DAYS(30),
         "expects a duration such as 15m or 1h, at most 30d", NULL},
        {"MFA", "BannerFile", parse_optional_path, FIELD(mfa_banner_file), 0, 0, PATH_WHY, NULL},
        {"MFA", "MFAServices", parse_service_list, FIELD(mfa_services), 0, 0,
         "expects PAM service names (A-Z a-z 0-9 . _ -, each at most 32 characters) separated by spaces, at most "
         "127 characters in all",
         NULL},
        {"IdleLock", "LockAfter", parse_seconds, FIELD(idle_lock_after), 0, DAYS(1),
         "expects a duration such as 15m, at most 1d; 0 turns the idle lock off", NULL},
        {"IdleLock", "PrivilegedLockAfter", parse_seconds, FIELD(idle_privileged_lock_after), 0, DAYS(1),
         "expects a duration such as 5m, at most 1d; 0 turns the idle lock off for privileged users", NULL},
        {"IdleLock", "PrivilegedGroups", parse_name_list, FIELD(idle_privileged_groups), 0, 0,
         "expects group names separated by spaces (at most 511 characters)", NULL},
        {"IdleLock", "WarnBefore", parse_seconds, FIELD(idle_warn_before), 0, 3600,
         "expects a duration such as 60s, at most 1h; 0 for no warning", NULL},
        {"IdleLock", "ConfirmTimeout", parse_seconds, FIELD(idle_confirm_timeout), 1, 300,
         "expects a duration from 1s to 5m", NULL},
        {"IdleLock", "LogoffGrace", parse_seconds, FIELD(idle_logoff_grace), 0, 3600,
         "expects a duration such as 2m, at most 1h", NULL},
        {"IdleLock", "CardReaders", parse_text, FIELD(idle_card_readers), 0, 0,
         "expects * or the beginning of a reader's name as pcscd shows it (at most 255 characters)", NULL},
};

static const config_item *config_item_find(const char *section, const char *key) {
        for (size_t i = 0; i < ELEMENTSOF(config_items); i++)
                if (strcmp(config_items[i].section, section) == 0 && strcmp(config_items[i].key, key) == 0)
                        return &config_items[i];
        return NULL;
}

/* A key given twice (in one file or in a later drop-in) takes the last value, as in systemd; a
 * list setting (RawAccess=) adds to what earlier lines gave. */
static int handler(void *user, const char *section, const char *name, const char *value) {
        parse_ctx *c = user;
        const config_item *item;
        const char *why = NULL;
        int r;

        if (c->failed)
                return 1; /* report only the first problem */

        item = config_item_find(section, name);
        if (!item)
                why = "unknown key";
        else {
                r = item->parse(item, value, (char *) c->cfg + item->offset);
                if (r == -EPERM && item->refused)
                        why = item->refused;
                else if (r == -ENOMEM)
                        why = "out of memory";
                else if (r < 0)
                        why = item->why;
        }

        if (why) {
                char esc_section[64], esc_name[64], esc_val[64];
                tg_escape_str(section, esc_section, sizeof(esc_section));
                tg_escape_str(name, esc_name, sizeof(esc_name));
                tg_escape(value, strlen(value), 40, esc_val, sizeof(esc_val));
                snprintf(c->err, c->err_size, "%s:%u: %s%s%s: %s (value \"%s\")", c->file, c->line, esc_section,
                         section[0] ? "." : "", esc_name, why, esc_val);
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
        if ((st.st_mode & S_IWOTH) || ((st.st_mode & S_IWGRP) && st.st_gid != 0) ||
            (st.st_uid != 0 && geteuid() == 0)) {
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
