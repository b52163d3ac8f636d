/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "termguard/csv.h"

void tg_csv_begin(FILE *f) {
        fputs("\xef\xbb\xbf", f);
}

void tg_csv_cell(FILE *f, const char *s, bool first) {
        if (!first)
                fputc(',', f);
        fputc('"', f);
        if (!s)
                s = "";
        if (*s == '=' || *s == '+' || *s == '-' || *s == '@' || *s == '\t' || *s == '\r')
                fputc('\'', f);
        for (; *s; s++) {
                if (*s == '"')
                        fputc('"', f);
                fputc(*s, f);
        }
        fputc('"', f);
}

void tg_csv_end_row(FILE *f) {
        fputs("\r\n", f);
}
