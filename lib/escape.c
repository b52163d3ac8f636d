/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "termguard/escape.h"
#include "termguard/hex.h"
#include "termguard/macro.h"

/* Invisible characters and those that reorder or break the text around them: a device named
 * "KINGSTON<U+202E>exe.txt" or a label with a zero-width space would otherwise look like
 * another. Variation selectors stay: Japanese names use them (異体字, U+E0100..). */
static const struct {
        uint32_t first, last;
} invisible_format[] = {
        {0x00ad, 0x00ad},   /* soft hyphen */
        {0x061c, 0x061c},   /* Arabic letter mark */
        {0x180e, 0x180e},   /* Mongolian vowel separator */
        {0x200b, 0x200f},   /* zero width space, non-joiner, joiner; left-to-right, right-to-left mark */
        {0x2028, 0x202e},   /* line and paragraph separator; embeddings, overrides, pop */
        {0x2060, 0x206f},   /* word joiner, invisible operators, isolates (U+2066..U+2069), deprecated */
        {0xfeff, 0xfeff},   /* zero width no-break space (byte order mark) */
        {0xfff9, 0xfffb},   /* interlinear annotation */
        {0xe0000, 0xe007f}, /* tags */
};

bool tg_char_is_invisible_format(uint32_t cp) {
        for (size_t i = 0; i < ELEMENTSOF(invisible_format); i++)
                if (cp >= invisible_format[i].first && cp <= invisible_format[i].last)
                        return true;
        return false;
}

size_t tg_escape_char(uint32_t cp, char ret[static TG_ESCAPE_CHAR_MAX]) {
        int n = snprintf(ret, TG_ESCAPE_CHAR_MAX, cp <= 0xffff ? "\\u%04" PRIx32 : "\\U%08" PRIx32, cp);
        return n > 0 ? (size_t) n : 0;
}

size_t tg_utf8_decode(const unsigned char *p, size_t left, uint32_t *ret_cp) {
        unsigned char c = p[0];
        size_t n;
        uint32_t cp;

        if (c < 0x80) {
                *ret_cp = c;
                return 1;
        }
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
        *ret_cp = cp;
        return n;
}

/* Whether the character at p must not be shown as it is: invalid UTF-8, a control character
 * or an invisible format character. */
static bool unsafe_char(const unsigned char *p, size_t seq, uint32_t cp) {
        return seq == 0 || (seq == 1 && (p[0] < 0x20 || p[0] == 0x7f)) || tg_char_is_invisible_format(cp);
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
                char buf[TG_ESCAPE_CHAR_MAX];
                size_t n = 0, adv;
                uint32_t cp = 0;
                size_t seq = tg_utf8_decode(p + i, in_len - i, &cp);

                if (i >= max_chars)
                        break;
                if (seq > 1 && tg_char_is_invisible_format(cp)) {
                        n = tg_escape_char(cp, buf);
                        adv = seq;
                } else if (unsafe_char(p + i, seq, cp)) {
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
                uint32_t cp = 0;
                size_t seq = tg_utf8_decode(p + i, len - i, &cp);
                if (unsafe_char(p + i, seq, cp))
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
                uint32_t cp = 0;
                size_t seq = tg_utf8_decode(p + i, len - i, &cp);
                if (seq == 0 || tg_char_is_invisible_format(cp))
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

char *tg_escape_markup(const char *in, char *ret, size_t ret_size) {
        size_t o = 0;

        if (!ret || ret_size == 0)
                return ret;
        for (const unsigned char *p = (const unsigned char *) (in ? in : ""); *p;) {
                const char *rep = *p == '&' ? "&amp;" : *p == '<' ? "&lt;" : *p == '>' ? "&gt;" : NULL;
                size_t n = 1;

                if (!rep)
                        /* a multibyte character is copied whole or not at all */
                        while ((p[n] & 0xc0) == 0x80 && n < 4)
                                n++;
                if (rep)
                        n = strlen(rep);
                if (o + n >= ret_size)
                        break;
                memcpy(ret + o, rep ? rep : (const char *) p, n);
                o += n;
                p += rep ? 1 : n;
        }
        ret[o] = '\0';
        return ret;
}
