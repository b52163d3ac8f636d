/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* Inside the report module: a finished report is a list of sections, each a table of text
 * cells under named columns; the formatters (report-format.c) know nothing of the kinds
 * (report-kinds.c), the kinds nothing of the formats. */

#include "termguard/report.h"

/* Words in both languages. The report is written in the language asked for (--lang), not in
 * the process's locale: the central server writes Japanese and English reports side by side,
 * and the HTML page must hold its own words; gettext would tie it to the locale. */
typedef struct {
        const char *en, *ja;
} report_words;

typedef struct {
        const char *id; /* JSON key, CSV header */
        report_words label;
        bool number; /* JSON number; the cell holds decimal digits */
} report_column;

#define REPORT_SECTIONS_MAX 8
#define REPORT_CELL_MAX (4 * TG_REPORT_VALUE_MAX + 8) /* a value escaped: every byte may become \xNN */

typedef struct {
        const char *id; /* JSON key, CSV block name, HTML id */
        report_words title;
        const report_column *columns;
        size_t n_columns;
        size_t *cells; /* row by row: offsets into text */
        char *text;    /* every cell's text and NUL, one after the other */
        size_t text_len, text_alloc;
        int64_t *order_time;
        uint64_t *order_seq;
        size_t n_rows, alloc;
        bool sort;                    /* rows sorted by (order_time, host column, order_seq) at the end */
        int host_column;              /* -1: none */
        int chart_label, chart_value; /* a bar chart of these columns; -1: none */
} report_section;

struct tg_report {
        tg_report_kind kind;
        tg_report_period period;
        report_section sections[REPORT_SECTIONS_MAX];
        size_t n_sections;
        bool finished;
        void *state; /* the kind's own */
};

typedef struct {
        report_words title;
        report_words grouping; /* which department it groups by */
        int (*init)(tg_report *r);
        int (*add_record)(tg_report *r, const tg_report_record *rec);
        int (*add_host)(tg_report *r, const tg_report_host *h);
        int (*finish)(tg_report *r);
        void (*free)(tg_report *r);
} report_kind_ops;

extern const report_kind_ops *const report_kinds[_TG_REPORT_KIND_MAX];

const char *report_word(const report_words *w, tg_report_lang lang);

/* Adds a section; the columns stay the caller's (static). */
report_section *report_section_new(tg_report *r, const char *id, report_words title, const report_column *columns,
                                   size_t n_columns);
/* Adds a row of n_columns cells (NULL is ""); cells are copied as they are: escape record
 * values first (report_value). -E2BIG past TG_REPORT_ROWS_MAX, -ENOMEM. */
int report_section_add(report_section *s, int64_t order_time, uint64_t order_seq, const char *const *cells);
void report_sections_sort(tg_report *r);
/* The text of a cell. */
static inline const char *report_cell(const report_section *s, size_t row, size_t col) {
        return s->text + s->cells[row * s->n_columns + col];
}

/* A record's value of key (first match), escaped and cut into buf (REPORT_CELL_MAX); "" when
 * absent. Returns buf. */
const char *report_value(const tg_report_record *rec, const char *key, char *buf);
/* A raw value of key or NULL. */
const char *report_get(const tg_report_record *rec, const char *key);
/* Escapes and cuts s (NULL is "") into buf (REPORT_CELL_MAX). Returns buf. */
const char *report_escape(const char *s, char *buf);
/* "YYYY-MM" in Asia/Tokyo. */
void report_month(int64_t usec, char buf[static 8]);
