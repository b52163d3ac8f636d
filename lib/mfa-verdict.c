/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "termguard/escape.h"
#include "termguard/macro.h"
#include "termguard/mfa-verdict.h"

int tg_mfa_verdict_format(const tg_auth_result *r, char *ret, size_t size) {
        /* room for the whole origin escaped: at most four bytes (\xNN) for each byte */
        char from[4 * TG_MFA_FROM_MAX + 4];
        size_t len = strnlen(r->prev_login_from, sizeof(r->prev_login_from));
        int n;

        assert_return(r && ret, -EINVAL);
        /* tg_escape keeps room for its "…" in the buffer it is given: escaped into a field-sized
         * buffer, an origin of the field's length would lose its end although it fits. */
        tg_escape(r->prev_login_from, len, TG_MFA_FROM_MAX, from, sizeof(from));
        if (strlen(from) > TG_MFA_FROM_MAX)
                tg_escape(r->prev_login_from, len, TG_MFA_FROM_MAX, from, TG_MFA_FROM_MAX + 1);
        n = snprintf(ret, size,
                     "OUTCOME=%s\nLOCKED_NOW=%d\nPREV_LOGIN_AT=%" PRId64 "\nPREV_LOGIN_FROM=%s\nPREV_FAILED=%u\n"
                     "RECORDED=1\n",
                     tg_auth_outcome_to_string(r->outcome), r->locked_now ? 1 : 0,
                     r->prev_login_at > 0 ? r->prev_login_at : 0, from, r->prev_failed_since);
        if (n < 0 || (size_t) n >= size || n > TG_MFA_VERDICT_MAX)
                return -ENOBUFS;
        return n;
}

/* A decimal number of digits only (no sign, space or leading zero), at most max. */
static int parse_decimal(const char *v, size_t len, uint64_t max, uint64_t *ret) {
        uint64_t x = 0;
        if (len == 0 || len > 20 || (len > 1 && v[0] == '0'))
                return -EBADMSG;
        for (size_t i = 0; i < len; i++) {
                if (v[i] < '0' || v[i] > '9')
                        return -EBADMSG;
                unsigned d = (unsigned) (v[i] - '0');
                if (x > (max - d) / 10)
                        return -EBADMSG;
                x = x * 10 + d;
        }
        *ret = x;
        return 0;
}

static int parse_outcome(const char *v, size_t len, tg_auth_result *r) {
        for (int o = TG_AUTH_OK; o <= TG_AUTH_ERROR; o++) {
                const char *s = tg_auth_outcome_to_string((tg_auth_outcome) o);
                if (strlen(s) == len && memcmp(s, v, len) == 0) {
                        r->outcome = (tg_auth_outcome) o;
                        return 0;
                }
        }
        return -EBADMSG;
}

static int parse_locked_now(const char *v, size_t len, tg_auth_result *r) {
        if (len != 1 || (v[0] != '0' && v[0] != '1'))
                return -EBADMSG;
        r->locked_now = v[0] == '1';
        return 0;
}

static int parse_prev_login_at(const char *v, size_t len, tg_auth_result *r) {
        uint64_t x;
        if (parse_decimal(v, len, INT64_MAX, &x) < 0)
                return -EBADMSG;
        r->prev_login_at = (int64_t) x;
        return 0;
}

static int parse_prev_login_from(const char *v, size_t len, tg_auth_result *r) {
        if (len > TG_MFA_FROM_MAX || !tg_text_is_escaped(v, len))
                return -EBADMSG;
        memcpy(r->prev_login_from, v, len);
        r->prev_login_from[len] = '\0';
        return 0;
}

static int parse_prev_failed(const char *v, size_t len, tg_auth_result *r) {
        uint64_t x;
        if (parse_decimal(v, len, TG_MFA_FAILURES_MAX, &x) < 0)
                return -EBADMSG;
        r->prev_failed_since = (unsigned) x;
        return 0;
}

static int parse_recorded(const char *v, size_t len, tg_auth_result *r) {
        if (len != 1 || v[0] != '1')
                return -EBADMSG;
        r->recorded = true;
        return 0;
}

static const struct {
        const char *key;
        int (*parse)(const char *v, size_t len, tg_auth_result *r);
} keys[] = {
        {"OUTCOME", parse_outcome},
        {"LOCKED_NOW", parse_locked_now},
        {"PREV_LOGIN_AT", parse_prev_login_at},
        {"PREV_LOGIN_FROM", parse_prev_login_from},
        {"PREV_FAILED", parse_prev_failed},
        {"RECORDED", parse_recorded},
};

int tg_mfa_verdict_parse(const char *buf, size_t len, tg_auth_result *ret) {
        tg_auth_result r;
        unsigned seen = 0;

        assert_return(buf && ret, -EINVAL);
        if (len == 0 || len > TG_MFA_VERDICT_MAX || buf[len - 1] != '\n' || memchr(buf, '\0', len))
                return -EBADMSG;
        r = *ret;
        for (size_t off = 0; off < len;) {
                const char *line = buf + off, *eol = memchr(line, '\n', len - off), *eq;
                size_t n = (size_t) (eol - line), i;
                eq = memchr(line, '=', n);
                if (!eq)
                        return -EBADMSG;
                for (i = 0; i < ELEMENTSOF(keys); i++)
                        if (strlen(keys[i].key) == (size_t) (eq - line) && memcmp(keys[i].key, line, eq - line) == 0)
                                break;
                if (i == ELEMENTSOF(keys) || (seen & (1u << i)))
                        return -EBADMSG;
                seen |= 1u << i;
                if (keys[i].parse(eq + 1, n - (size_t) (eq - line) - 1, &r) < 0)
                        return -EBADMSG;
                off += n + 1;
        }
        if (seen != (1u << ELEMENTSOF(keys)) - 1)
                return -EBADMSG;
        *ret = r;
        return 0;
}
