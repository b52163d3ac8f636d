/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What termguardd tells a session helper to show (include/termguard/notice.h). */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "termguard/escape.h"
#include "termguard/json-util.h"
#include "termguard/macro.h"
#include "termguard/notice.h"
#include "termguard/textwidth.h"
#include "termguard/timeutil.h"

#define ELLIPSIS "\u2026"

/* Which fields each kind carries; the others are left out of the line and refused in one. */
enum {
        N_DEVICE = 1 << 0,
        N_LABEL = 1 << 1, /* optional for read-only media (a model allowed by class has none) */
        N_SECONDS = 1 << 2,
        N_UNTIL = 1 << 3,
};

static const struct {
        const char *name;
        unsigned required, optional;
} kinds[_TG_NOTICE_KIND_MAX] = {
        [TG_NOTICE_STORAGE_BLOCKED] = {"storage-blocked", N_DEVICE, 0},
        [TG_NOTICE_STORAGE_READ_ONLY] = {"storage-read-only", N_DEVICE, N_LABEL},
        [TG_NOTICE_EXCEPTION_ENDING] = {"exception-ending", N_LABEL | N_SECONDS | N_UNTIL, 0},
        [TG_NOTICE_IDLE_WARNING] = {"idle-warning", N_SECONDS, 0},
        [TG_NOTICE_LOGOFF_WARNING] = {"logoff-warning", N_SECONDS, 0},
};

const char *tg_notice_kind_to_string(tg_notice_kind k) {
        return k >= 0 && k < _TG_NOTICE_KIND_MAX ? kinds[k].name : NULL;
}

tg_notice_kind tg_notice_kind_from_string(const char *s) {
        for (size_t i = 0; s && i < ELEMENTSOF(kinds); i++)
                if (strcmp(kinds[i].name, s) == 0)
                        return (tg_notice_kind) i;
        return _TG_NOTICE_KIND_INVALID;
}

void tg_notice_set_device(tg_notice *n, const char *escaped_name, uint16_t vid, uint16_t pid) {
        /* "NAME (vvvv:pppp)": the ids and their frame take 12 bytes, the name the rest */
        char ids[16], name[TG_NOTICE_DEVICE_MAX - 12 + 1];

        snprintf(ids, sizeof(ids), "%04x:%04x", vid, pid);
        tg_display_text(escaped_name ? escaped_name : "", name, sizeof(name));
        /* a name cut here is marked as tg_escape marks one cut at the device's bound */
        if (escaped_name && strlen(name) < strlen(escaped_name)) {
                tg_display_text(escaped_name, name, sizeof(name) - strlen(ELLIPSIS));
                strcat(name, ELLIPSIS);
        }
        if (name[0])
                snprintf(n->device, sizeof(n->device), "%.*s (%.9s)", (int) (sizeof(name) - 1), name, ids);
        else
                snprintf(n->device, sizeof(n->device), "%.9s", ids);
}

static bool text_ok(const char *s, size_t max) {
        size_t len = strlen(s);
        return len <= max && tg_text_is_escaped(s, len);
}

int tg_notice_encode(const tg_notice *n, char **ret) {
        _cleanup_json_ json_object *o = NULL;
        unsigned want;
        const char *text;
        char *line;

        assert_return(n && ret, -EINVAL);
        if (!tg_notice_kind_to_string(n->kind))
                return -EINVAL;
        want = kinds[n->kind].required | kinds[n->kind].optional;
        if ((kinds[n->kind].required & N_DEVICE && !n->device[0]) ||
            (kinds[n->kind].required & N_LABEL && !n->label[0]) || !text_ok(n->device, TG_NOTICE_DEVICE_MAX) ||
            !text_ok(n->label, TG_LABEL_MAX) || n->seconds < 0 || n->seconds > TG_NOTICE_SECONDS_MAX || n->until < 0 ||
            n->until > TG_TIME_MAX || n->dropped > TG_NOTICE_DROPPED_MAX)
                return -EINVAL;
        o = json_object_new_object();
        if (!o)
                return -ENOMEM;
        json_object_object_add(o, "notice", json_object_new_string(kinds[n->kind].name));
        if (want & N_DEVICE)
                json_object_object_add(o, "device", json_object_new_string(n->device));
        if (want & N_LABEL && n->label[0])
                json_object_object_add(o, "label", json_object_new_string(n->label));
        if (want & N_SECONDS)
                json_object_object_add(o, "seconds", json_object_new_int64(n->seconds));
        if (want & N_UNTIL)
                json_object_object_add(o, "until", json_object_new_int64(n->until));
        if (n->dropped)
                json_object_object_add(o, "dropped", json_object_new_int64((int64_t) n->dropped));
        text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
        if (!text)
                return -ENOMEM;
        if (asprintf(&line, "%s\n", text) < 0)
                return -ENOMEM;
        *ret = line;
        return 0;
}

int tg_notice_decode(const char *buf, size_t len, tg_notice *ret, char *err, size_t err_size) {
        _cleanup_json_tokener_ struct json_tokener *tok = NULL;
        _cleanup_json_ json_object *o = NULL;
        tg_notice n = {0};
        const char *kind;
        int64_t dropped = 0;
        unsigned want, need;

        assert_return(buf && ret, -EINVAL);
        if (len > 0 && buf[len - 1] == '\n')
                len--;
        if (len == 0 || len >= TG_NOTICE_LINE_MAX || memchr(buf, '\n', len) || memchr(buf, '\0', len)) {
                snprintf(err, err_size, "not one line of at most %d bytes", TG_NOTICE_LINE_MAX - 1);
                return -EBADMSG;
        }
        tok = json_tokener_new();
        if (!tok)
                return -ENOMEM;
        o = json_tokener_parse_ex(tok, buf, (int) len);
        if (!o || json_tokener_get_error(tok) != json_tokener_success || json_tokener_get_parse_end(tok) != len ||
            !json_object_is_type(o, json_type_object)) {
                snprintf(err, err_size, "not a JSON object");
                return -EBADMSG;
        }
        if (tg_json_get_string_ref(o, "notice", TG_JSON_REQUIRED, 32, &kind, err, err_size) < 0)
                return -EBADMSG;
        n.kind = tg_notice_kind_from_string(kind);
        if (n.kind < 0) {
                snprintf(err, err_size, "notice: unknown kind");
                return -EBADMSG;
        }
        need = kinds[n.kind].required;
        want = need | kinds[n.kind].optional;
        json_object_object_foreach(o, key, val) {
                static const struct {
                        const char *key;
                        unsigned bit;
                } known[] = {{"device", N_DEVICE}, {"label", N_LABEL}, {"seconds", N_SECONDS}, {"until", N_UNTIL}};
                bool ok = strcmp(key, "notice") == 0 || strcmp(key, "dropped") == 0;
                (void) val;
                for (size_t i = 0; i < ELEMENTSOF(known); i++)
                        if (strcmp(key, known[i].key) == 0 && want & known[i].bit)
                                ok = true;
                if (!ok) {
                        snprintf(err, err_size, "a %s notice has no field like this", kinds[n.kind].name);
                        return -EBADMSG;
                }
        }
#define NEED(bit) (need & (bit) ? TG_JSON_REQUIRED : TG_JSON_OPTIONAL)
        if (tg_json_get_string(o, "device", NEED(N_DEVICE), n.device, sizeof(n.device), err, err_size) < 0 ||
            tg_json_get_string(o, "label", NEED(N_LABEL), n.label, sizeof(n.label), err, err_size) < 0 ||
            tg_json_get_int64(o, "seconds", NEED(N_SECONDS), 0, TG_NOTICE_SECONDS_MAX, &n.seconds, err, err_size) < 0 ||
            tg_json_get_int64(o, "until", NEED(N_UNTIL), 0, TG_TIME_MAX, &n.until, err, err_size) < 0 ||
            tg_json_get_int64(o, "dropped", TG_JSON_OPTIONAL, 0, TG_NOTICE_DROPPED_MAX, &dropped, err, err_size) < 0)
                return -EBADMSG;
#undef NEED
        if ((need & N_DEVICE && !n.device[0]) || (need & N_LABEL && !n.label[0])) {
                snprintf(err, err_size, "a %s notice needs its text", kinds[n.kind].name);
                return -EBADMSG;
        }
        if (!text_ok(n.device, TG_NOTICE_DEVICE_MAX) || !text_ok(n.label, TG_LABEL_MAX)) {
                snprintf(err, err_size, "text not in escaped form");
                return -EBADMSG;
        }
        n.dropped = (uint64_t) dropped;
        *ret = n;
        return 0;
}
