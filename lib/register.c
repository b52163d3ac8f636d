/* SPDX-License-Identifier: GPL-2.0-or-later */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <json-c/json.h>

#include "termguard/escape.h"
#include "termguard/fileio.h"
#include "termguard/json-util.h"
#include "termguard/macro.h"
#include "termguard/register.h"
#include "termguard/timeutil.h"

#define REGISTER_FILE_MAX (16 * 1024 * 1024)
#define ID_MAX (1LL << 53)

static const char *const mode_names[] = {
        [TG_MODE_BLOCKED] = "blocked",
        [TG_MODE_READ_ONLY] = "read-only",
        [TG_MODE_READ_WRITE] = "read-write",
};

const char *tg_mode_to_string(tg_mode m) {
        return (unsigned) m < ELEMENTSOF(mode_names) ? mode_names[m] : "invalid";
}

int tg_mode_from_string(const char *s, tg_mode *ret) {
        for (size_t i = 0; i < ELEMENTSOF(mode_names); i++)
                if (s && strcmp(s, mode_names[i]) == 0) {
                        *ret = (tg_mode) i;
                        return 0;
                }
        return -EINVAL;
}

void tg_register_clear(tg_register *reg) {
        free(reg->media);
        free(reg->exceptions);
        *reg = (tg_register){.next_exception_id = 1};
}

int tg_register_copy(const tg_register *src, tg_register *ret) {
        tg_register n = *src;

        n.media = malloc((src->n_media ? src->n_media : 1) * sizeof(*src->media));
        n.exceptions = malloc((src->n_exceptions ? src->n_exceptions : 1) * sizeof(*src->exceptions));
        if (!n.media || !n.exceptions) {
                free(n.media);
                free(n.exceptions);
                return -ENOMEM;
        }
        if (src->n_media)
                memcpy(n.media, src->media, src->n_media * sizeof(*src->media));
        if (src->n_exceptions)
                memcpy(n.exceptions, src->exceptions, src->n_exceptions * sizeof(*src->exceptions));
        *ret = n;
        return 0;
}

/* ---- validation ---- */

static int fail(char *err, size_t err_size, const char *fmt, const char *what) {
        if (err)
                snprintf(err, err_size, fmt, what);
        return -EINVAL;
}

const tg_medium *tg_register_find_label(const tg_register *reg, const char *label) {
        for (size_t i = 0; i < reg->n_media; i++)
                if (strcmp(reg->media[i].label, label) == 0)
                        return &reg->media[i];
        return NULL;
}

const tg_medium *tg_register_match(const tg_register *reg, uint16_t vid, uint16_t pid, const char *serial) {
        if (!serial || !*serial)
                return NULL;
        for (size_t i = 0; i < reg->n_media; i++)
                if (reg->media[i].vid == vid && reg->media[i].pid == pid && strcmp(reg->media[i].serial, serial) == 0)
                        return &reg->media[i];
        return NULL;
}

/* Text that would let one entry pass for another (tg_char_is_invisible_format) is refused. */
#define INVISIBLE "no invisible characters (zero-width, direction or line controls such as U+200B, U+202E)"

static int validate_medium(const tg_register *reg, const tg_medium *m, char *err, size_t err_size) {
        if (!tg_valid_text(m->label, TG_LABEL_MAX, false))
                return fail(err, err_size,
                            "%s: a label is 1-64 characters without spaces, quotes, backslashes or control "
                            "characters; " INVISIBLE,
                            "label");
        if (!tg_valid_text(m->serial, TG_SERIAL_MAX, true))
                return fail(err, err_size,
                            "%s: a serial number is required (1-126 printable characters); a device without one cannot "
                            "be registered; " INVISIBLE,
                            "serial");
        if (m->department[0] && !tg_valid_text(m->department, TG_NAME_MAX, true))
                return fail(err, err_size, "%s: at most 128 printable characters; " INVISIBLE, "department");
        if (m->vid == 0)
                return fail(err, err_size, "%s: vendor id 0000 is not a valid USB vendor", "vid");
        if ((unsigned) m->mode > TG_MODE_READ_WRITE)
                return fail(err, err_size, "%s: must be read-only, read-write or blocked", "mode");
        if (reg) {
                if (tg_register_find_label(reg, m->label))
                        return fail(err, err_size, "label \"%s\" is already registered", m->label);
                if (tg_register_match(reg, m->vid, m->pid, m->serial))
                        return fail(err, err_size, "%s: this device (vid, pid, serial) is already registered",
                                    "serial");
                if (reg->n_media >= TG_MEDIA_MAX)
                        return fail(err, err_size, "%s: the register is full", "media");
        }
        return 0;
}

int tg_register_add_medium(tg_register *reg, const tg_medium *m, char *err, size_t err_size) {
        tg_medium *n;
        int r = validate_medium(reg, m, err, err_size);
        if (r < 0)
                return r;
        n = realloc(reg->media, (reg->n_media + 1) * sizeof(*n));
        if (!n)
                return -ENOMEM;
        reg->media = n;
        reg->media[reg->n_media++] = *m;
        return 0;
}

int tg_register_remove_medium(tg_register *reg, const char *label) {
        for (size_t i = 0; i < reg->n_media; i++)
                if (strcmp(reg->media[i].label, label) == 0) {
                        memmove(&reg->media[i], &reg->media[i + 1], (reg->n_media - i - 1) * sizeof(reg->media[0]));
                        reg->n_media--;
                        return 0;
                }
        return -ENOENT;
}

static int validate_exception(const tg_exception *e, char *err, size_t err_size) {
        if (!tg_valid_text(e->label, TG_LABEL_MAX, false))
                return fail(err, err_size, "%s: invalid label", "label");
        if (!tg_valid_text(e->approver, TG_NAME_MAX, true))
                return fail(err, err_size, "%s: the approver is required (1-128 printable characters); " INVISIBLE,
                            "approver");
        if (!tg_valid_text(e->reason, TG_REASON_MAX, true))
                return fail(err, err_size, "%s: the reason is required (1-512 printable characters); " INVISIBLE,
                            "reason");
        if (e->ticket[0] && !tg_valid_text(e->ticket, TG_NAME_MAX, true))
                return fail(err, err_size, "%s: at most 128 printable characters; " INVISIBLE, "ticket");
        if (e->user[0] && !tg_valid_text(e->user, TG_USER_MAX, false))
                return fail(err, err_size, "%s: not a valid user name", "user");
        return 0;
}

int tg_register_add_exception(tg_register *reg, const tg_exception *e, int64_t now, int64_t max_duration,
                              uint64_t *ret_id, char *err, size_t err_size) {
        tg_exception *n;
        int r = validate_exception(e, err, err_size);
        if (r < 0)
                return r;
        if (!tg_register_find_label(reg, e->label))
                return fail(err, err_size, "no medium with label \"%s\" in the register", e->label);
        if (e->until <= now)
                return fail(err, err_size, "%s: the expiry time is in the past", "until");
        if (max_duration > 0 && e->until - now > max_duration)
                return fail(err, err_size, "%s: longer than the maximum exception duration in the configuration",
                            "until");
        if (reg->n_exceptions >= TG_EXCEPTIONS_MAX)
                return fail(err, err_size, "%s: the exception register is full", "exceptions");
        n = realloc(reg->exceptions, (reg->n_exceptions + 1) * sizeof(*n));
        if (!n)
                return -ENOMEM;
        reg->exceptions = n;
        n = &reg->exceptions[reg->n_exceptions++];
        *n = *e;
        if (reg->next_exception_id == 0)
                reg->next_exception_id = 1;
        n->id = reg->next_exception_id++;
        n->revoked_at = 0;
        n->revoked_by[0] = '\0';
        if (ret_id)
                *ret_id = n->id;
        return 0;
}

int tg_register_revoke_exception(tg_register *reg, uint64_t id, const char *by, int64_t now) {
        for (size_t i = 0; i < reg->n_exceptions; i++) {
                tg_exception *e = &reg->exceptions[i];
                if (e->id != id)
                        continue;
                if (tg_exception_state_at(e, now) != TG_EXC_ACTIVE)
                        return -EALREADY;
                e->revoked_at = now;
                snprintf(e->revoked_by, sizeof(e->revoked_by), "%s", by ? by : "");
                return 0;
        }
        return -ENOENT;
}

tg_exception_state tg_exception_state_at(const tg_exception *e, int64_t now) {
        if (e->revoked_at)
                return TG_EXC_REVOKED;
        return now < e->until ? TG_EXC_ACTIVE : TG_EXC_EXPIRED;
}

const char *tg_exception_state_to_string(tg_exception_state s) {
        switch (s) {
        case TG_EXC_ACTIVE: return "active";
        case TG_EXC_EXPIRED: return "expired";
        case TG_EXC_REVOKED: return "revoked";
        }
        return "invalid";
}

bool tg_register_observe_clock(tg_register *reg, int64_t now) {
        if (now > reg->clock_high_water) {
                reg->clock_high_water = now;
                return false;
        }
        return now < reg->clock_high_water - TG_CLOCK_TOLERANCE;
}

const tg_exception *tg_register_active_exception(const tg_register *reg, const char *label, const char *user,
                                                 int64_t now) {
        if (now < reg->clock_high_water - TG_CLOCK_TOLERANCE)
                return NULL;
        for (size_t i = 0; i < reg->n_exceptions; i++) {
                const tg_exception *e = &reg->exceptions[i];
                if (strcmp(e->label, label) != 0 || tg_exception_state_at(e, now) != TG_EXC_ACTIVE ||
                    now < e->granted_at - TG_CLOCK_TOLERANCE)
                        continue;
                /* A per-user exception applies only while that user holds the seat. */
                if (e->user[0] && (!user || strcmp(e->user, user) != 0))
                        continue;
                return e;
        }
        return NULL;
}

int64_t tg_register_next_expiry(const tg_register *reg, int64_t now) {
        int64_t next = 0;
        for (size_t i = 0; i < reg->n_exceptions; i++) {
                const tg_exception *e = &reg->exceptions[i];
                if (tg_exception_state_at(e, now) == TG_EXC_ACTIVE && (next == 0 || e->until < next))
                        next = e->until;
        }
        return next;
}

/* ---- JSON persistence ---- */

static int medium_from_json(json_object *o, tg_medium *m, char *err, size_t err_size) {
        char mode[16];
        int64_t vid, pid;
        int r;

        if (!json_object_is_type(o, json_type_object))
                return fail(err, err_size, "%s entry is not an object", "media");
        if ((r = tg_json_get_string(o, "label", TG_JSON_REQUIRED, m->label, sizeof(m->label), err, err_size)) < 0 ||
            (r = tg_json_get_int64(o, "vid", TG_JSON_REQUIRED, 0, 0xffff, &vid, err, err_size)) < 0 ||
            (r = tg_json_get_int64(o, "pid", TG_JSON_REQUIRED, 0, 0xffff, &pid, err, err_size)) < 0 ||
            (r = tg_json_get_string(o, "serial", TG_JSON_REQUIRED, m->serial, sizeof(m->serial), err, err_size)) < 0 ||
            (r = tg_json_get_string(o, "department", TG_JSON_OPTIONAL, m->department, sizeof(m->department), err,
                                    err_size)) < 0 ||
            (r = tg_json_get_string(o, "mode", TG_JSON_REQUIRED, mode, sizeof(mode), err, err_size)) < 0 ||
            (r = tg_json_get_string(o, "added_by", TG_JSON_OPTIONAL, m->added_by, sizeof(m->added_by), err, err_size)) <
                    0 ||
            (r = tg_json_get_int64(o, "added_at", TG_JSON_OPTIONAL, 0, TG_TIME_MAX, &m->added_at, err, err_size)) < 0)
                return r;
        m->vid = (uint16_t) vid;
        m->pid = (uint16_t) pid;
        if (tg_mode_from_string(mode, &m->mode) < 0)
                return fail(err, err_size, "invalid mode \"%s\"", mode);
        return 0;
}

static int exception_from_json(json_object *o, tg_exception *e, char *err, size_t err_size) {
        int64_t id;
        int r;

        if (!json_object_is_type(o, json_type_object))
                return fail(err, err_size, "%s entry is not an object", "exceptions");
        if ((r = tg_json_get_int64(o, "id", TG_JSON_REQUIRED, 1, ID_MAX, &id, err, err_size)) < 0 ||
            (r = tg_json_get_string(o, "label", TG_JSON_REQUIRED, e->label, sizeof(e->label), err, err_size)) < 0 ||
            (r = tg_json_get_int64(o, "until", TG_JSON_REQUIRED, 0, TG_TIME_MAX, &e->until, err, err_size)) < 0 ||
            (r = tg_json_get_string(o, "approver", TG_JSON_REQUIRED, e->approver, sizeof(e->approver), err, err_size)) <
                    0 ||
            (r = tg_json_get_string(o, "reason", TG_JSON_REQUIRED, e->reason, sizeof(e->reason), err, err_size)) < 0 ||
            (r = tg_json_get_string(o, "ticket", TG_JSON_OPTIONAL, e->ticket, sizeof(e->ticket), err, err_size)) < 0 ||
            (r = tg_json_get_string(o, "user", TG_JSON_OPTIONAL, e->user, sizeof(e->user), err, err_size)) < 0 ||
            (r = tg_json_get_string(o, "granted_by", TG_JSON_OPTIONAL, e->granted_by, sizeof(e->granted_by), err,
                                    err_size)) < 0 ||
            (r = tg_json_get_int64(o, "granted_at", TG_JSON_OPTIONAL, 0, TG_TIME_MAX, &e->granted_at, err, err_size)) <
                    0 ||
            (r = tg_json_get_int64(o, "revoked_at", TG_JSON_OPTIONAL, 0, TG_TIME_MAX, &e->revoked_at, err, err_size)) <
                    0 ||
            (r = tg_json_get_string(o, "revoked_by", TG_JSON_OPTIONAL, e->revoked_by, sizeof(e->revoked_by), err,
                                    err_size)) < 0)
                return r;
        e->id = (uint64_t) id;
        return 0;
}

int tg_register_load(const char *path, tg_register *ret, char *err, size_t err_size) {
        _cleanup_close_ int fd = -EBADF;
        _cleanup_free_ char *buf = NULL;
        tg_register reg = {.next_exception_id = 1};
        _cleanup_json_tokener_ struct json_tokener *tok = NULL;
        _cleanup_json_ json_object *root = NULL;
        json_object *arr;
        struct stat st;
        size_t n = 0;
        int r = 0;

        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0) {
                if (errno == ENOENT) {
                        *ret = reg;
                        return 0;
                }
                r = -errno;
                snprintf(err, err_size, "%s: %s", path, strerror(-r));
                return r;
        }
        if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > REGISTER_FILE_MAX) {
                snprintf(err, err_size, "%s: not a regular file or larger than %d bytes", path, REGISTER_FILE_MAX);
                return -EBADMSG;
        }
        buf = malloc((size_t) st.st_size + 1);
        if (!buf)
                return -ENOMEM;
        ssize_t k = tg_read_full(fd, buf, (size_t) st.st_size);
        if (k != (ssize_t) st.st_size) {
                snprintf(err, err_size, "%s: short read", path);
                return k < 0 ? (int) k : -EIO;
        }
        n = (size_t) k;
        buf[n] = '\0';

        tok = json_tokener_new_ex(16);
        if (!tok)
                return -ENOMEM;
        root = json_tokener_parse_ex(tok, buf, (int) n);
        if (!root || json_tokener_get_error(tok) != json_tokener_success || tok->char_offset != (int) n ||
            !json_object_is_type(root, json_type_object)) {
                snprintf(err, err_size, "%s: not valid JSON (%s at byte %d)", path,
                         json_tokener_error_desc(json_tokener_get_error(tok)), tok->char_offset);
                r = -EBADMSG;
                goto out;
        }

        if (tg_json_get_int64(root, "expiries_recorded_until", TG_JSON_OPTIONAL, 0, TG_TIME_MAX,
                              &reg.expiries_recorded_until, err, err_size) < 0 ||
            tg_json_get_int64(root, "clock_high_water", TG_JSON_OPTIONAL, 0, TG_TIME_MAX, &reg.clock_high_water, err,
                              err_size) < 0) {
                r = -EBADMSG;
                goto out;
        }
        if (json_object_object_get_ex(root, "media", &arr)) {
                if (!json_object_is_type(arr, json_type_array) || json_object_array_length(arr) > TG_MEDIA_MAX) {
                        snprintf(err, err_size, "%s: \"media\" is not an array of at most %d entries", path,
                                 TG_MEDIA_MAX);
                        r = -EBADMSG;
                        goto out;
                }
                size_t len = json_object_array_length(arr);
                reg.media = calloc(len ? len : 1, sizeof(*reg.media));
                if (!reg.media) {
                        r = -ENOMEM;
                        goto out;
                }
                for (size_t i = 0; i < len; i++) {
                        tg_medium m = {0};
                        char e2[256];
                        if (medium_from_json(json_object_array_get_idx(arr, i), &m, e2, sizeof(e2)) < 0 ||
                            validate_medium(&reg, &m, e2, sizeof(e2)) < 0) {
                                snprintf(err, err_size, "%s: media entry %zu: %s", path, i + 1, e2);
                                r = -EBADMSG;
                                goto out;
                        }
                        reg.media[reg.n_media++] = m;
                }
        }
        if (json_object_object_get_ex(root, "exceptions", &arr)) {
                if (!json_object_is_type(arr, json_type_array) || json_object_array_length(arr) > TG_EXCEPTIONS_MAX) {
                        snprintf(err, err_size, "%s: \"exceptions\" is not an array of at most %d entries", path,
                                 TG_EXCEPTIONS_MAX);
                        r = -EBADMSG;
                        goto out;
                }
                size_t len = json_object_array_length(arr);
                reg.exceptions = calloc(len ? len : 1, sizeof(*reg.exceptions));
                if (!reg.exceptions) {
                        r = -ENOMEM;
                        goto out;
                }
                for (size_t i = 0; i < len; i++) {
                        tg_exception e = {0};
                        char e2[256];
                        if (exception_from_json(json_object_array_get_idx(arr, i), &e, e2, sizeof(e2)) < 0 ||
                            validate_exception(&e, e2, sizeof(e2)) < 0) {
                                snprintf(err, err_size, "%s: exception entry %zu: %s", path, i + 1, e2);
                                r = -EBADMSG;
                                goto out;
                        }
                        for (size_t j = 0; j < reg.n_exceptions; j++)
                                if (reg.exceptions[j].id == e.id) {
                                        snprintf(err, err_size, "%s: exception entry %zu: duplicate id %" PRIu64, path,
                                                 i + 1, e.id);
                                        r = -EBADMSG;
                                        goto out;
                                }
                        reg.exceptions[reg.n_exceptions++] = e;
                        if (e.id >= reg.next_exception_id)
                                reg.next_exception_id = e.id + 1;
                }
        }
        *ret = reg;
        return 0;
out:
        tg_register_clear(&reg);
        return r;
}

static json_object *str_or_null(const char *s) {
        return s && *s ? json_object_new_string(s) : NULL;
}

int tg_register_save(const char *path, const tg_register *reg) {
        _cleanup_json_ json_object *root = json_object_new_object(), *media = json_object_new_array(),
                                   *exc = json_object_new_array();
        _cleanup_free_ char *text = NULL;
        const char *s;
        size_t len;

        if (!root || !media || !exc)
                return -ENOMEM;
        json_object_object_add(root, "version", json_object_new_int(1));
        json_object_object_add(root, "expiries_recorded_until", json_object_new_int64(reg->expiries_recorded_until));
        json_object_object_add(root, "clock_high_water", json_object_new_int64(reg->clock_high_water));
        for (size_t i = 0; i < reg->n_media; i++) {
                const tg_medium *m = &reg->media[i];
                json_object *o = json_object_new_object();
                json_object_object_add(o, "label", json_object_new_string(m->label));
                json_object_object_add(o, "vid", json_object_new_int(m->vid));
                json_object_object_add(o, "pid", json_object_new_int(m->pid));
                json_object_object_add(o, "serial", json_object_new_string(m->serial));
                json_object_object_add(o, "department", str_or_null(m->department));
                json_object_object_add(o, "mode", json_object_new_string(tg_mode_to_string(m->mode)));
                json_object_object_add(o, "added_by", str_or_null(m->added_by));
                json_object_object_add(o, "added_at", json_object_new_int64(m->added_at));
                json_object_array_add(media, o);
        }
        for (size_t i = 0; i < reg->n_exceptions; i++) {
                const tg_exception *e = &reg->exceptions[i];
                json_object *o = json_object_new_object();
                json_object_object_add(o, "id", json_object_new_int64((int64_t) e->id));
                json_object_object_add(o, "label", json_object_new_string(e->label));
                json_object_object_add(o, "until", json_object_new_int64(e->until));
                json_object_object_add(o, "approver", json_object_new_string(e->approver));
                json_object_object_add(o, "reason", json_object_new_string(e->reason));
                json_object_object_add(o, "ticket", str_or_null(e->ticket));
                json_object_object_add(o, "user", str_or_null(e->user));
                json_object_object_add(o, "granted_by", str_or_null(e->granted_by));
                json_object_object_add(o, "granted_at", json_object_new_int64(e->granted_at));
                json_object_object_add(o, "revoked_at", json_object_new_int64(e->revoked_at));
                json_object_object_add(o, "revoked_by", str_or_null(e->revoked_by));
                json_object_array_add(exc, o);
        }
        json_object_object_add(root, "media", TAKE_PTR(media));
        json_object_object_add(root, "exceptions", TAKE_PTR(exc));
        s = json_object_to_json_string_ext(root, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE);
        if (!s)
                return -ENOMEM;
        len = strlen(s);
        text = malloc(len + 2);
        if (!text)
                return -ENOMEM;
        memcpy(text, s, len);
        memcpy(text + len, "\n", 2);
        return tg_write_file_atomic(AT_FDCWD, path, text, len + 1, geteuid(), getegid(), 0600);
}
