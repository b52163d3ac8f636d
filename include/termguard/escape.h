/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Strings that come from USB devices or files are hostile: bound and escape them before
 * they are shown or logged. Control characters become \xNN, backslash becomes \\, bytes
 * that are not valid UTF-8 become \xNN, invisible format characters (see
 * tg_char_is_invisible_format) become \uXXXX (\UXXXXXXXX beyond U+FFFF); other text, Japanese
 * included, stays as it is. The result is cut at max_chars input bytes and then marked with
 * "…". Always returns a NUL-terminated string in ret (size ret_size). */
#define TG_DEVICE_STRING_MAX 126 /* a USB string descriptor holds at most 126 UTF-16 units */

void tg_escape(const char *in, size_t in_len, size_t max_chars, char *ret, size_t ret_size);

/* Convenience: escape a NUL-terminated string with the device string bound. */
void tg_escape_str(const char *in, char *ret, size_t ret_size);

/* Whether the len bytes at s could be output of tg_escape: valid UTF-8 without control
 * characters (C0, DEL, C1), invisible format characters or NUL, so safe to show as they are. */
bool tg_text_is_escaped(const char *s, size_t len);

/* True when s is a non-empty printable ASCII identifier usable as a label or name in the
 * register: letters, digits and "-_.:@/" plus UTF-8 multibyte text without controls or
 * invisible format characters. */
bool tg_valid_text(const char *s, size_t max_len, bool allow_space);

/* Characters that are invisible or change the order or lines of the text around them, so
 * that one string can pass for another: zero-width characters (U+200B..U+200D, U+2060,
 * U+FEFF), direction marks, embeddings, overrides and isolates (U+200E, U+200F, U+061C,
 * U+202A..U+202E, U+2066..U+2069), line and paragraph separators (U+2028, U+2029), the soft
 * hyphen (U+00AD) and the other default-ignorable format characters. Never Japanese text:
 * variation selectors and the ideographic space stay. */
bool tg_char_is_invisible_format(uint32_t cp);
/* Length of the valid UTF-8 sequence at p (1..4, at most left bytes) with its code point in
 * ret_cp, or 0 when it is not valid UTF-8 (overlong forms, surrogates, code points above
 * U+10FFFF, cut short) or is a C1 control (U+0080..U+009F). ret_cp is untouched on 0. */
size_t tg_utf8_decode(const unsigned char *p, size_t left, uint32_t *ret_cp);

/* Writes how tg_escape shows code point cp ("\u202e", "\U000e0001") into ret and returns its
 * length (6 or 10). */
#define TG_ESCAPE_CHAR_MAX 11
size_t tg_escape_char(uint32_t cp, char ret[static TG_ESCAPE_CHAR_MAX]);

/* Text for the body of a desktop notification, which servers may read as markup (the
 * Desktop Notifications Specification's body markup): "&", "<" and ">" become "&amp;", "&lt;"
 * and "&gt;". Cut at a whole character or entity when ret is too small. Returns ret. */
char *tg_escape_markup(const char *in, char *ret, size_t ret_size);
