/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Token models allowed raw access (RawAccess=): parsed and matched here only. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "termguard/macro.h"
#include "termguard/tokens.h"

static int hex_digit(char c) {
        if (c >= '0' && c <= '9')
                return c - '0';
        if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
        if (c >= 'A' && c <= 'F')
                return c - 'A' + 10;
        return -1;
}

/* Exactly four hex digits. */
static int parse_id(const char *s, uint16_t *ret) {
        unsigned v = 0;
        for (size_t i = 0; i < 4; i++) {
                int d = hex_digit(s[i]);
                if (d < 0)
                        return -EINVAL;
                v = v << 4 | (unsigned) d;
        }
        *ret = (uint16_t) v;
        return 0;
}

/* Printable ASCII without space: a serial that passes is also safe in logs and in udev
 * properties as it stands. */
static bool serial_ok(const char *s, size_t len) {
        if (len == 0 || len > TG_TOKEN_SERIAL_MAX)
                return false;
        for (size_t i = 0; i < len; i++)
                if (s[i] <= ' ' || s[i] > '~')
                        return false;
        return true;
}

int tg_token_model_parse(const char *text, size_t len, tg_token_model *ret) {
        tg_token_model m = {0};

        assert_return(text && ret, -EINVAL);
        if (len < 9 || text[4] != ':' || parse_id(text, &m.vid) < 0 || parse_id(text + 5, &m.pid) < 0)
                return -EINVAL;
        if (len > 9) {
                if (text[9] != '/' || !serial_ok(text + 10, len - 10))
                        return -EINVAL;
                memcpy(m.serial, text + 10, len - 10);
        }
        *ret = m;
        return 0;
}

int tg_token_model_format(const tg_token_model *model, char *buf, size_t size) {
        int n;

        assert_return(model && buf, -EINVAL);
        n = snprintf(buf, size, "%04x:%04x%s%s", model->vid, model->pid, model->serial[0] ? "/" : "", model->serial);
        if (n < 0 || (size_t) n >= size)
                return -ENOBUFS;
        return n;
}

int tg_token_list_extend(tg_token_list *list, const char *text) {
        tg_token_list l;

        assert_return(text && list, -EINVAL);
        if (text[strspn(text, " \t")] == '\0') {
                list->n = 0;
                return 0;
        }
        l = *list;
        for (const char *p = text + strspn(text, " \t"); *p; p += strspn(p, " \t")) {
                size_t n = strcspn(p, " \t");
                if (l.n >= TG_RAW_ACCESS_MODELS_MAX)
                        return -E2BIG;
                if (tg_token_model_parse(p, n, &l.models[l.n]) < 0)
                        return -EINVAL;
                l.n++;
                p += n;
        }
        *list = l;
        return 0;
}

bool tg_token_raw_allowed(const tg_token_list *list, uint16_t vid, uint16_t pid, const char *serial) {
        if (!list)
                return false;
        for (size_t i = 0; i < list->n && i < TG_RAW_ACCESS_MODELS_MAX; i++) {
                const tg_token_model *m = &list->models[i];
                if (m->vid != vid || m->pid != pid)
                        continue;
                if (!m->serial[0] || (serial && strcmp(m->serial, serial) == 0))
                        return true;
        }
        return false;
}
