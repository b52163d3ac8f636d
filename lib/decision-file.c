/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The decision file between termguardd and termguard-udev-helper: written and read here only. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "termguard/decision-file.h"
#include "termguard/escape.h"
#include "termguard/fileio.h"
#include "termguard/macro.h"

typedef enum { KEY_BUSNUM, KEY_DEVNUM, KEY_MODE, KEY_LABEL, KEY_RAW, _KEY_MAX } key;

static const char *const key_names[_KEY_MAX] = {
        [KEY_BUSNUM] = "BUSNUM", [KEY_DEVNUM] = "DEVNUM", [KEY_MODE] = "MODE", [KEY_LABEL] = "LABEL", [KEY_RAW] = "RAW",
};

static bool label_ok(const char *label) {
        return label[0] == '\0' || tg_valid_text(label, TG_LABEL_MAX, 0);
}

/* A number as the kernel prints busnum and devnum: decimal, no sign, no leading zero. */
static int parse_number(const char *s, size_t len, unsigned *ret) {
        unsigned v = 0;

        if (len == 0 || len > 5 || (len > 1 && s[0] == '0'))
                return -EBADMSG;
        for (size_t i = 0; i < len; i++) {
                if (s[i] < '0' || s[i] > '9')
                        return -EBADMSG;
                v = v * 10 + (unsigned) (s[i] - '0');
        }
        if (v > TG_DECISION_NUMBER_MAX)
                return -EBADMSG;
        *ret = v;
        return 0;
}

int tg_decision_record_format(const tg_decision_record *rec, char *buf, size_t size) {
        int n;

        assert_return(rec && buf, -EINVAL);
        if (rec->busnum > TG_DECISION_NUMBER_MAX || rec->devnum > TG_DECISION_NUMBER_MAX ||
            (unsigned) rec->mode > TG_MODE_READ_WRITE || strnlen(rec->label, sizeof(rec->label)) > TG_LABEL_MAX ||
            !label_ok(rec->label))
                return -EINVAL;
        n = snprintf(buf, size, "%s=%u\n%s=%u\n%s=%s\n%s=%s\n%s=%s\n", key_names[KEY_BUSNUM], rec->busnum,
                     key_names[KEY_DEVNUM], rec->devnum, key_names[KEY_MODE], tg_mode_to_string(rec->mode),
                     key_names[KEY_LABEL], rec->label, key_names[KEY_RAW], rec->raw_access ? "yes" : "no");
        if (n < 0 || (size_t) n >= size)
                return -ENOBUFS;
        return n;
}

int tg_decision_record_parse(const char *text, size_t len, tg_decision_record *ret) {
        tg_decision_record rec = {0};
        bool seen[_KEY_MAX] = {false};
        char value[TG_LABEL_MAX + 1];

        assert_return(text && ret, -EINVAL);
        if (len > TG_DECISION_FILE_MAX || memchr(text, '\0', len) || (len > 0 && text[len - 1] != '\n'))
                return -EBADMSG;
        for (const char *line = text, *end = text + len; line < end;) {
                const char *nl = memchr(line, '\n', (size_t) (end - line));
                const char *eq = memchr(line, '=', (size_t) (nl - line));
                size_t k, vlen;

                if (!eq)
                        return -EBADMSG;
                for (k = 0; k < _KEY_MAX; k++)
                        if ((size_t) (eq - line) == strlen(key_names[k]) &&
                            memcmp(line, key_names[k], (size_t) (eq - line)) == 0)
                                break;
                if (k == _KEY_MAX || seen[k])
                        return -EBADMSG; /* unknown or repeated */
                seen[k] = true;
                vlen = (size_t) (nl - eq - 1);
                if (vlen >= sizeof(value))
                        return -EBADMSG;
                memcpy(value, eq + 1, vlen);
                value[vlen] = '\0';
                switch ((key) k) {
                case KEY_BUSNUM:
                        if (parse_number(value, vlen, &rec.busnum) < 0)
                                return -EBADMSG;
                        break;
                case KEY_DEVNUM:
                        if (parse_number(value, vlen, &rec.devnum) < 0)
                                return -EBADMSG;
                        break;
                case KEY_MODE:
                        if (tg_mode_from_string(value, &rec.mode) < 0)
                                return -EBADMSG;
                        break;
                case KEY_LABEL:
                        if (!label_ok(value))
                                return -EBADMSG;
                        memcpy(rec.label, value, vlen + 1);
                        break;
                case KEY_RAW:
                        if (strcmp(value, "yes") == 0)
                                rec.raw_access = true;
                        else if (strcmp(value, "no") != 0)
                                return -EBADMSG;
                        break;
                case _KEY_MAX: break;
                }
                line = nl + 1;
        }
        for (size_t k = 0; k < _KEY_MAX; k++)
                if (!seen[k])
                        return -EBADMSG;
        *ret = rec;
        return 0;
}

static bool plain_name(const char *name) {
        return name && name[0] && name[0] != '.' && !strchr(name, '/') && strlen(name) < NAME_MAX;
}

static int file_path(const char *dir, const char *sysname, char *buf, size_t size) {
        if (!dir || !plain_name(sysname))
                return -EINVAL;
        if ((size_t) snprintf(buf, size, "%s/%s", dir, sysname) >= size)
                return -ENAMETOOLONG;
        return 0;
}

int tg_decision_file_write(const char *dir, const char *sysname, const tg_decision_record *rec) {
        char path[PATH_MAX], text[TG_DECISION_FILE_MAX + 1];
        int n, r;

        r = file_path(dir, sysname, path, sizeof(path));
        if (r < 0)
                return r;
        n = tg_decision_record_format(rec, text, sizeof(text));
        if (n < 0)
                r = n;
        else
                r = tg_write_file_atomic(AT_FDCWD, path, text, (size_t) n, geteuid(), getegid(), 0600);
        if (r < 0 && unlink(path) < 0 && errno != ENOENT)
                return -errno; /* the old decision stands: the caller must know it */
        return r;
}

int tg_decision_dir_prepare(const char *dir) {
        struct stat st;

        assert_return(dir, -EINVAL);
        if (mkdir(dir, 0700) < 0 && errno != EEXIST)
                return -errno;
        if (lstat(dir, &st) < 0)
                return -errno;
        if (!S_ISDIR(st.st_mode))
                return -ENOTDIR;
        if ((st.st_mode & 07777) != 0700 && chmod(dir, 0700) < 0)
                return -errno;
        return 0;
}

int tg_decision_file_read(const char *dir, const char *sysname, tg_decision_record *ret) {
        char path[PATH_MAX], text[TG_DECISION_FILE_MAX + 1];
        ssize_t n;
        int r;

        r = file_path(dir, sysname, path, sizeof(path));
        if (r < 0)
                return r;
        n = tg_read_file(path, text, sizeof(text));
        if (n < 0)
                return (int) n;
        return tg_decision_record_parse(text, (size_t) n, ret);
}

int tg_decision_file_remove(const char *dir, const char *sysname) {
        char path[PATH_MAX];
        int r;

        r = file_path(dir, sysname, path, sizeof(path));
        if (r < 0)
                return r;
        if (unlink(path) < 0 && errno != ENOENT)
                return -errno;
        return 0;
}

/* rec was written for the attachment whose sysfs busnum and devnum read as given. */
static bool same_attachment(const tg_decision_record *rec, const char *busnum, const char *devnum) {
        unsigned bus, dev;

        if (!rec || !busnum || !devnum)
                return false;
        if (parse_number(busnum, strlen(busnum), &bus) < 0 || parse_number(devnum, strlen(devnum), &dev) < 0)
                return false;
        return bus == rec->busnum && dev == rec->devnum;
}

bool tg_decision_grants_read_write(const tg_decision_record *rec, const char *busnum, const char *devnum) {
        return same_attachment(rec, busnum, devnum) && rec->mode == TG_MODE_READ_WRITE;
}

bool tg_decision_grants_raw_access(const tg_decision_record *rec, const char *busnum, const char *devnum) {
        return same_attachment(rec, busnum, devnum) && rec->raw_access;
}
