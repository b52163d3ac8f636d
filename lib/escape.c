/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdint.h>
#include <string.h>

#include "termguard/escape.h"
#include "termguard/hex.h"

/* Length of the valid UTF-8 sequence at p (1..4), or 0 when it is not valid UTF-8. Rejects
 * overlong forms, surrogates and code points above U+10FFFF. */
static size_t utf8_seq_len(const unsigned char *p, size_t left) {
        unsigned char c = p[0];
        size_t n;
        uint32_t cp;

        if (c < 0x80)
                return 1;
        if (c >= 0xc2 && c <= 0xdf) {
                n = 2;
                cp = c & 0x1f;
        } else if (c >= 0xe0 && c <= 0xef) {
                n = 3;
                cp = c & 0x0f;
        } else if (c >= 0xf0 && c <= 0xf4) {
                n = 4;
                cp = c & 0x07;
        } else
                return 0;
        if (left < n)
                return 0;
        for (size_t i = 1; i < n; i++) {
                if ((p[i] & 0xc0) != 0x80)
                        return 0;
                cp = (cp << 6) | (p[i] & 0x3f);
        }
        if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
                return 0;
        /* C1 controls (U+0080..U+009F) are escaped like C0 controls. */
        if (cp >= 0x80 && cp <= 0x9f)
                return 0;
        return n;
}

void tg_escape(const char *in, size_t in_len, size_t max_chars, char *ret, size_t ret_size) {
        static const char ellipsis[] = "\xe2\x80\xa6"; /* … */
        const unsigned char *p = (const unsigned char *) in;
        size_t o = 0, i = 0;

        if (ret_size == 0)
                return;
        if (!in)
                in_len = 0;
        /* Reserve room for the ellipsis and the NUL so truncation can always be marked. */
        size_t room = ret_size > sizeof(ellipsis) ? ret_size - sizeof(ellipsis) : 0;

        while (i < in_len && p[i] != '\0') {
                char buf[5];
                size_t n = 0, adv;
                size_t seq = utf8_seq_len(p + i, in_len - i);

                if (i >= max_chars)
                        break;
                if (seq == 0 || (seq == 1 && (p[i] < 0x20 || p[i] == 0x7f))) {
                        buf[0] = '\\';
                        buf[1] = 'x';
                        (void) tg_hex_encode(p + i, 1, buf + 2, sizeof(buf) - 2);
                        n = 4;
                        adv = 1;
                } else if (seq == 1 && p[i] == '\\') {
                        buf[0] = buf[1] = '\\';
                        n = 2;
                        adv = 1;
                } else {
                        memcpy(buf, p + i, seq);
                        n = seq;
                        adv = seq;
                }
                if (o + n > room)
                        break;
                memcpy(ret + o, buf, n);
                o += n;
                i += adv;
        }
        if (i < in_len && p[i] != '\0' && o + sizeof(ellipsis) <= ret_size) {
                memcpy(ret + o, ellipsis, sizeof(ellipsis) - 1);
                o += sizeof(ellipsis) - 1;
        }
        ret[o < ret_size ? o : ret_size - 1] = '\0';
}

void tg_escape_str(const char *in, char *ret, size_t ret_size) {
        tg_escape(in, in ? strlen(in) : 0, TG_DEVICE_STRING_MAX * 4, ret, ret_size);
}

bool tg_text_is_escaped(const char *s, size_t len) {
        const unsigned char *p = (const unsigned char *) s;

        if (!s)
                return len == 0;
        for (size_t i = 0; i < len;) {
                size_t seq = utf8_seq_len(p + i, len - i);
                if (seq == 0 || (seq == 1 && (p[i] < 0x20 || p[i] == 0x7f)))
                        return false;
                i += seq;
        }
        return true;
}

bool tg_valid_text(const char *s, size_t max_len, bool allow_space) {
        const unsigned char *p = (const unsigned char *) s;
        size_t len;

        if (!s || !*s)
                return false;
        len = strlen(s);
        if (len > max_len)
                return false;
        for (size_t i = 0; i < len;) {
                size_t seq = utf8_seq_len(p + i, len - i);
                if (seq == 0)
                        return false;
                if (seq == 1) {
                        if (p[i] < 0x20 || p[i] == 0x7f || p[i] == '\\' || p[i] == '"')
                                return false;
                        if (p[i] == ' ' && !allow_space)
                                return false;
                }
                i += seq;
        }
        return true;
}
