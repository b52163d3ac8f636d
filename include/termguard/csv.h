/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>
#include <stdio.h>

/* CSV for auditors' spreadsheets (RFC 4180): UTF-8 with a byte order mark, so that Excel in a
 * Japanese locale reads it as UTF-8; CRLF line ends; every cell quoted, quotes doubled. A cell
 * that a spreadsheet would take as a formula (starting with = + - @, a tab or a carriage
 * return) gets a leading apostrophe: a device string or file name must never run as one. */

void tg_csv_begin(FILE *f);
/* Writes one cell, preceded by a comma unless first. */
void tg_csv_cell(FILE *f, const char *s, bool first);
void tg_csv_end_row(FILE *f);
