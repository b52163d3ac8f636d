/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/* Strings that come from USB devices or files are hostile: bound and escape them before
 * they are shown or logged. Control characters become \xNN, backslash becomes \\, bytes
 * that are not valid UTF-8 become \xNN; the result is cut at max_chars input bytes and then
 * marked with "…". Always returns a NUL-terminated string in ret (size ret_size). */
#define TG_DEVICE_STRING_MAX 126 /* a USB string descriptor holds at most 126 UTF-16 units */

void tg_escape(const char *in, size_t in_len, size_t max_chars, char *ret, size_t ret_size);

/* Convenience: escape a NUL-terminated string with the device string bound. */
void tg_escape_str(const char *in, char *ret, size_t ret_size);

/* Whether the len bytes at s could be output of tg_escape: valid UTF-8 without control
 * characters (C0, DEL, C1) or NUL, so safe to show as they are. */
bool tg_text_is_escaped(const char *s, size_t len);

/* True when s is a non-empty printable ASCII identifier usable as a label or name in the
 * register: letters, digits and "-_.:@/" plus UTF-8 multibyte text without controls. */
bool tg_valid_text(const char *s, size_t max_len, bool allow_space);
