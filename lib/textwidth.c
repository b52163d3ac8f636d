/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "termguard/escape.h"
#include "termguard/hex.h"
#include "termguard/macro.h"
#include "termguard/textwidth.h"

typedef struct {
        uint32_t first, last;
} range;

/* Combining marks and variation selectors take no column of their own. (Invisible format
 * characters are shown escaped: tg_char_is_invisible_format.) */
static const range zero_width[] = {
        {0x0300, 0x036f}, {0x0483, 0x0489}, {0x0591, 0x05bd}, {0x0610, 0x061a},   {0x064b, 0x065f}, {0x0e31, 0x0e31},
        {0x0e34, 0x0e3a}, {0x0e47, 0x0e4e}, {0x1ab0, 0x1aff}, {0x1dc0, 0x1dff},   {0x20d0, 0x20ff}, {0x302a, 0x302d},
        {0x3099, 0x309a}, {0xfe00, 0xfe0f}, {0xfe20, 0xfe2f}, {0xe0100, 0xe01ef},
};

/* East Asian Wide and Fullwidth (Unicode's EastAsianWidth W and F), the blocks that matter. */
static const range wide[] = {
        {0x1100, 0x115f},   {0x231a, 0x231b},   {0x2329, 0x232a},   {0x23e9, 0x23ec},   {0x25fd, 0x25fe},
        {0x2614, 0x2615},   {0x2e80, 0x303e},   {0x3041, 0x33ff},   {0x3400, 0x4dbf},   {0x4e00, 0x9fff},
        {0xa000, 0xa4cf},   {0xa960, 0xa97f},   {0xac00, 0xd7a3},   {0xf900, 0xfaff},   {0xfe10, 0xfe19},
        {0xfe30, 0xfe6f},   {0xff00, 0xff60},   {0xffe0, 0xffe6},   {0x1b000, 0x1b2ff}, {0x1f300, 0x1f64f},
        {0x1f900, 0x1f9ff}, {0x20000, 0x2fffd}, {0x30000, 0x3fffd},
};

static bool in(const range *r, size_t n, uint32_t cp) {
        for (size_t i = 0; i < n; i++)
                if (cp >= r[i].first && cp <= r[i].last)
                        return true;
        return false;
}

/* Decodes the character at p: its length, or 0 when the byte must be escaped (a control
 * character, or not valid UTF-8). A NUL ends the string, so a sequence cut by it is invalid. */
static size_t next_char(const unsigned char *p, uint32_t *ret) {
        size_t n = tg_utf8_decode(p, strnlen((const char *) p, 4), ret);
        return n == 1 && (p[0] < 0x20 || p[0] == 0x7f) ? 0 : n;
}

static size_t char_width(uint32_t cp) {
        if (in(zero_width, ELEMENTSOF(zero_width), cp))
                return 0;
        return in(wide, ELEMENTSOF(wide), cp) ? 2 : 1;
}

size_t tg_display_width(const char *s) {
        const unsigned char *p = (const unsigned char *) s;
        size_t w = 0;

        while (p && *p) {
                uint32_t cp;
                size_t n = next_char(p, &cp);
                if (n == 0) {
                        w += 4; /* \xNN */
                        p++;
                } else if (tg_char_is_invisible_format(cp)) {
                        char esc[TG_ESCAPE_CHAR_MAX];
                        w += tg_escape_char(cp, esc); /* \uXXXX */
                        p += n;
                } else {
                        w += char_width(cp);
                        p += n;
                }
        }
        return w;
}

char *tg_display_text(const char *s, char *buf, size_t size) {
        const unsigned char *p = (const unsigned char *) s;
        size_t o = 0;

        if (size == 0)
                return buf;
        while (p && *p) {
                uint32_t cp;
                size_t n = next_char(p, &cp);
                if (n == 0) {
                        if (o + 4 >= size)
                                break;
                        buf[o++] = '\\';
                        buf[o++] = 'x';
                        (void) tg_hex_encode(p, 1, buf + o, size - o);
                        o += 2;
                        p++;
                } else if (tg_char_is_invisible_format(cp)) {
                        char esc[TG_ESCAPE_CHAR_MAX];
                        size_t e = tg_escape_char(cp, esc);
                        if (o + e >= size)
                                break;
                        memcpy(buf + o, esc, e);
                        o += e;
                        p += n;
                } else {
                        if (o + n >= size)
                                break;
                        memcpy(buf + o, p, n);
                        o += n;
                        p += n;
                }
        }
        buf[o] = '\0';
        return buf;
}

int tg_display_table(FILE *f, const char *const *cells, size_t n_columns, size_t n_cells) {
        _cleanup_free_ size_t *width = calloc(n_columns ? n_columns : 1, sizeof(*width));
        _cleanup_free_ char *shown = NULL;
        size_t longest = 0;

        if (!width)
                return -ENOMEM;
        for (size_t i = 0; i < n_cells; i++) {
                const char *s = cells[i] ? cells[i] : "";
                size_t w = tg_display_width(s), len = strlen(s);
                if (w > width[i % n_columns])
                        width[i % n_columns] = w;
                if (len > longest)
                        longest = len;
        }
        shown = malloc(longest * 4 + 1); /* every byte may become \xNN */
        if (!shown)
                return -ENOMEM;
        for (size_t i = 0; i < n_cells; i++) {
                const char *s = cells[i] ? cells[i] : "";
                size_t col = i % n_columns;
                fputs(tg_display_text(s, shown, longest * 4 + 1), f);
                if (col + 1 == n_columns) {
                        fputc('\n', f);
                        continue;
                }
                /* one space between columns, after padding to the widest cell */
                for (size_t w = tg_display_width(s); w <= width[col]; w++)
                        fputc(' ', f);
        }
        return 0;
}
