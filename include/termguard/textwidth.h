/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stddef.h>
#include <stdio.h>

/*
 * Display width of UTF-8 text in a terminal, for tables that line up with Japanese labels,
 * departments and names (全角 two columns, 半角カナ one). Independent of the locale: services
 * and scripts often run in the C locale, where wcwidth() knows no character beyond ASCII.
 * Text that would break a terminal is shown escaped: a control character (C0, DEL, C1) or a
 * byte that is not valid UTF-8 is printed as \xNN and counts as its four columns; an
 * invisible format character (zero-width, bidi control, line separator:
 * tg_char_is_invisible_format) is printed as tg_escape shows it, \u202e, and counts as six.
 */

/* Columns of s as tg_display_text() prints it. */
size_t tg_display_width(const char *s);

/* Copies s into buf with control characters and invalid bytes as \xNN, invisible format
 * characters as \uXXXX; backslashes stay as they are (replies already carry escaped device
 * strings). Cut at a whole character when buf is too small. Returns buf. */
char *tg_display_text(const char *s, char *buf, size_t size);

/* Prints n_cells cells (row by row, n_columns a row) as a table whose columns line up by
 * display width: each cell shown as tg_display_text() shows it, one space between columns,
 * a newline after each row. Returns 0 or -ENOMEM. */
int tg_display_table(FILE *f, const char *const *cells, size_t n_columns, size_t n_cells);
