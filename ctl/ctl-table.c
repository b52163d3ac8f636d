/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Tables for people: columns line up by display width, not bytes, so labels, departments and
 * names in Japanese do not shift the columns after them. Cells are shown with control
 * characters and invalid bytes escaped: what reaches the terminal cannot drive it.
 */
#include <assert.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "termguard/textwidth.h"

struct ctl_table {
        size_t n_columns, n_cells;
        char **cells; /* row by row */
};

static void add_cells(ctl_table *t, const char *const *cells) {
        char **p = realloc(t->cells, (t->n_cells + t->n_columns) * sizeof(*p));
        if (!p) {
                fputs("termguardctl: out of memory\n", stderr);
                exit(EXIT_DAEMON_ERROR);
        }
        t->cells = p;
        for (size_t i = 0; i < t->n_columns; i++) {
                const char *s = cells[i];
                size_t size = (s ? strlen(s) : 0) * 4 + 1; /* every byte may become \xNN */
                char *cell = malloc(size);
                if (!cell) {
                        fputs("termguardctl: out of memory\n", stderr);
                        exit(EXIT_DAEMON_ERROR);
                }
                t->cells[t->n_cells++] = tg_display_text(s ? s : "", cell, size);
        }
}

ctl_table *ctl_table_new(size_t n_columns) {
        ctl_table *t = calloc(1, sizeof(*t));
        if (!t) {
                fputs("termguardctl: out of memory\n", stderr);
                exit(EXIT_DAEMON_ERROR);
        }
        assert(n_columns <= CTL_TABLE_COLUMNS_MAX);
        t->n_columns = n_columns;
        return t;
}

void ctl_table_add(ctl_table *t, ...) {
        const char *cells[CTL_TABLE_COLUMNS_MAX];
        va_list ap;
        va_start(ap, t);
        for (size_t i = 0; i < t->n_columns; i++)
                cells[i] = va_arg(ap, const char *);
        va_end(ap);
        add_cells(t, cells);
}

void ctl_table_add_array(ctl_table *t, const char *const *cells) {
        add_cells(t, cells);
}

void ctl_table_print(ctl_table *t, FILE *f) {
        if (tg_display_table(f, (const char *const *) t->cells, t->n_columns, t->n_cells) < 0) {
                fputs("termguardctl: out of memory\n", stderr);
                exit(EXIT_DAEMON_ERROR);
        }
}

void ctl_table_free(ctl_table *t) {
        if (!t)
                return;
        for (size_t i = 0; i < t->n_cells; i++)
                free(t->cells[i]);
        free(t->cells);
        free(t);
}
