/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The report formats: an aligned table for a terminal, CSV for spreadsheets, JSON for tools,
 * and one self-contained HTML page for auditors (inline CSS, charts as inline SVG, a content
 * security policy that forbids loading anything, print CSS for PDF). They write the sections a
 * finished report holds and know nothing of the kinds.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report-internal.h"
#include "termguard/csv.h"
#include "termguard/macro.h"
#include "termguard/textwidth.h"
#include "termguard/timeutil.h"

#define W(en, ja) ((report_words){en, ja})

static const report_words w_period = W("Period", "期間"), w_times = W("Times", "時刻"),
                          w_times_text = W("Asia/Tokyo (UTC+09:00)", "日本時間 (UTC+09:00)"),
                          w_department = W("Departments", "部署の基準"), w_scope = W("Scope", "対象"),
                          w_generated = W("Generated", "作成日時"), w_none = W("No entries.", "該当なし"),
                          w_rows = W("rows", "件"), w_chart = W("Chart", "グラフ");

static const char *cell(const report_section *s, size_t row, size_t col) {
        return report_cell(s, row, col);
}

/* "YYYY-MM-DD" of the first and of the last day of the period. */
static void period_days(const tg_report *r, char from[static TG_REPORT_TIME_MAX], char to[static TG_REPORT_TIME_MAX]) {
        tg_report_format_time(r->period.from_usec, from, TG_REPORT_TIME_MAX);
        tg_report_format_time(r->period.to_usec - 1, to, TG_REPORT_TIME_MAX);
        from[10] = to[10] = 0;
}

static const report_kind_ops *ops(const tg_report *r) {
        return report_kinds[r->kind];
}

/* ---- table ---- */

static int write_table(const tg_report *r, FILE *f, const tg_report_output *o) {
        char from[TG_REPORT_TIME_MAX], to[TG_REPORT_TIME_MAX], gen[TG_REPORT_TIME_MAX];
        char scope[REPORT_CELL_MAX];

        period_days(r, from, to);
        fprintf(f, "%s\n", report_word(&ops(r)->title, o->lang));
        fprintf(f, "%s: %s .. %s\n", report_word(&w_period, o->lang), from, to);
        fprintf(f, "%s: %s\n", report_word(&w_times, o->lang), report_word(&w_times_text, o->lang));
        fprintf(f, "%s: %s\n", report_word(&w_department, o->lang), report_word(&ops(r)->grouping, o->lang));
        if (o->scope) {
                char shown[4 * REPORT_CELL_MAX];
                fprintf(f, "%s: %s\n", report_word(&w_scope, o->lang),
                        tg_display_text(report_escape(o->scope, scope), shown, sizeof(shown)));
        }
        if (o->generated_usec) {
                tg_report_format_time(o->generated_usec, gen, sizeof(gen));
                fprintf(f, "%s: %s\n", report_word(&w_generated, o->lang), gen);
        }
        for (size_t i = 0; i < r->n_sections; i++) {
                const report_section *s = &r->sections[i];
                size_t n = (s->n_rows + 1) * s->n_columns;
                _cleanup_free_ const char **cells = calloc(n, sizeof(*cells));
                if (!cells)
                        return -ENOMEM;
                fprintf(f, "\n%s (%zu %s)\n", report_word(&s->title, o->lang), s->n_rows,
                        report_word(&w_rows, o->lang));
                if (s->n_rows == 0) {
                        fprintf(f, "%s\n", report_word(&w_none, o->lang));
                        continue;
                }
                for (size_t c = 0; c < s->n_columns; c++)
                        cells[c] = report_word(&s->columns[c].label, o->lang);
                for (size_t k = 0; k < s->n_rows * s->n_columns; k++)
                        cells[s->n_columns + k] = *cell(s, k / s->n_columns, k % s->n_columns)
                                                          ? cell(s, k / s->n_columns, k % s->n_columns)
                                                          : "-";
                if (tg_display_table(f, cells, s->n_columns, n) < 0)
                        return -ENOMEM;
        }
        return 0;
}

/* ---- CSV ---- */

/* The same bytes for the same records wherever they are written: column ids and the records'
 * codes only, no words of a language, no time of generation. One block per section after a
 * block that names the report, each block a name row, a header row and its rows, separated by
 * an empty line. */
static void write_csv(const tg_report *r, FILE *f) {
        char from[TG_REPORT_TIME_MAX], to[TG_REPORT_TIME_MAX];
        static const char *const grouping[_TG_REPORT_KIND_MAX] = {
                [TG_REPORT_USAGE] = "medium: media register; terminal: enrolment",
                [TG_REPORT_MEDIA] = "medium: media register",
                [TG_REPORT_EXCEPTIONS] = "medium: media register",
                [TG_REPORT_BLOCKED] = "terminal: enrolment",
                [TG_REPORT_MFA] = "terminal: enrolment",
                [TG_REPORT_HOSTS] = "terminal: enrolment",
        };
        const char *meta[][2] = {
                {"report", tg_report_kind_to_string(r->kind)}, {"from", from}, {"to", to}, {"time_zone", "Asia/Tokyo"},
                {"department_basis", grouping[r->kind]},
        };

        period_days(r, from, to);
        tg_csv_begin(f);
        for (size_t i = 0; i < ELEMENTSOF(meta); i++) {
                tg_csv_cell(f, meta[i][0], true);
                tg_csv_cell(f, meta[i][1], false);
                tg_csv_end_row(f);
        }
        for (size_t i = 0; i < r->n_sections; i++) {
                const report_section *s = &r->sections[i];
                tg_csv_end_row(f);
                tg_csv_cell(f, "section", true);
                tg_csv_cell(f, s->id, false);
                tg_csv_end_row(f);
                for (size_t c = 0; c < s->n_columns; c++)
                        tg_csv_cell(f, s->columns[c].id, c == 0);
                tg_csv_end_row(f);
                for (size_t row = 0; row < s->n_rows; row++) {
                        for (size_t c = 0; c < s->n_columns; c++)
                                tg_csv_cell(f, cell(s, row, c), c == 0);
                        tg_csv_end_row(f);
                }
        }
}

/* ---- JSON ---- */

/* A number column's cell as a JSON number when it is one (a record's "size" is whatever the
 * record says), else as text. */
static json_object *json_cell(const char *s, bool number) {
        if (number && *s && strlen(s) <= 19 && strspn(s, "0123456789") == strlen(s))
                return json_object_new_uint64(strtoull(s, NULL, 10));
        return json_object_new_string(s);
}

static int write_json(const tg_report *r, FILE *f, const tg_report_output *o) {
        char from[TG_REPORT_TIME_MAX], to[TG_REPORT_TIME_MAX], t[TG_REPORT_TIME_MAX], scope[REPORT_CELL_MAX];
        json_object *j = json_object_new_object(), *period = json_object_new_object(),
                    *sections = json_object_new_object();
        int k = 0;

        if (!j || !period || !sections) {
                json_object_put(j);
                json_object_put(period);
                json_object_put(sections);
                return -ENOMEM;
        }
        period_days(r, from, to);
        json_object_object_add(j, "report", json_object_new_string(tg_report_kind_to_string(r->kind)));
        json_object_object_add(j, "title", json_object_new_string(report_word(&ops(r)->title, o->lang)));
        json_object_object_add(period, "from", json_object_new_string(from));
        json_object_object_add(period, "to", json_object_new_string(to));
        json_object_object_add(period, "time_zone", json_object_new_string("Asia/Tokyo"));
        tg_report_format_time(r->period.from_usec, t, sizeof(t));
        json_object_object_add(period, "start", json_object_new_string(t));
        tg_report_format_time(r->period.to_usec, t, sizeof(t));
        json_object_object_add(period, "end", json_object_new_string(t)); /* excluded */
        json_object_object_add(j, "period", period);
        json_object_object_add(j, "department_basis", json_object_new_string(report_word(&ops(r)->grouping, o->lang)));
        if (o->scope)
                json_object_object_add(j, "scope", json_object_new_string(report_escape(o->scope, scope)));
        if (o->generated_usec) {
                tg_report_format_time(o->generated_usec, t, sizeof(t));
                json_object_object_add(j, "generated", json_object_new_string(t));
        }
        for (size_t i = 0; i < r->n_sections; i++) {
                const report_section *s = &r->sections[i];
                json_object *rows = json_object_new_array_ext((int) (s->n_rows < 1024 ? s->n_rows : 1024));
                for (size_t row = 0; rows && row < s->n_rows; row++) {
                        json_object *x = json_object_new_object();
                        if (!x) {
                                k = -ENOMEM;
                                break;
                        }
                        for (size_t c = 0; c < s->n_columns; c++)
                                json_object_object_add(x, s->columns[c].id,
                                                       json_cell(cell(s, row, c), s->columns[c].number));
                        json_object_array_add(rows, x);
                }
                if (!rows)
                        k = -ENOMEM;
                json_object_object_add(sections, s->id, rows);
        }
        json_object_object_add(j, "sections", sections);
        if (k == 0) {
                const char *text = json_object_to_json_string_ext(j, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
                                                                             JSON_C_TO_STRING_NOSLASHESCAPE);
                if (!text)
                        k = -ENOMEM;
                else
                        fprintf(f, "%s\n", text);
        }
        json_object_put(j);
        return k;
}

/* ---- HTML ---- */

static void html_text(FILE *f, const char *s) {
        for (; *s; s++)
                switch (*s) {
                case '&': fputs("&amp;", f); break;
                case '<': fputs("&lt;", f); break;
                case '>': fputs("&gt;", f); break;
                case '"': fputs("&quot;", f); break;
                case '\'': fputs("&#39;", f); break;
                default: fputc(*s, f);
                }
}

/* Nothing is loaded from anywhere (the content security policy says so too): the page is
 * read on auditors' PCs, often offline, and kept as evidence. */
static const char html_style[] =
        "body{font-family:\"Noto Sans CJK JP\",\"IPAexGothic\",\"Hiragino Sans\",\"Yu Gothic\",\"Meiryo\",sans-serif;"
        "margin:1.5em;color:#111;background:#fff;font-size:14px}"
        "h1{font-size:1.5em;margin:0 0 .5em}h2{font-size:1.15em;margin:1.5em 0 .4em;border-bottom:1px solid #888}"
        "dl.meta{display:grid;grid-template-columns:max-content auto;gap:.2em 1em;margin:0}"
        "dl.meta dt{font-weight:bold}dl.meta dd{margin:0}"
        "table{border-collapse:collapse;width:100%;margin:.3em 0}"
        "th,td{border:1px solid #999;padding:.15em .4em;text-align:left;vertical-align:top;"
        "overflow-wrap:break-word}td.b{overflow-wrap:anywhere}"
        "th{background:#e8e8e8}td.n{text-align:right;font-variant-numeric:tabular-nums}"
        "tbody tr:nth-child(even){background:#f6f6f6}"
        "p.empty{color:#555}svg.chart{max-width:100%;height:auto;margin:.3em 0}"
        "footer{margin-top:2em;color:#666;font-size:.85em}"
        "@media print{@page{size:A4 landscape;margin:12mm}body{margin:0;font-size:9pt}"
        "thead{display:table-header-group}tr{break-inside:avoid}section{break-inside:auto}"
        "h2{break-after:avoid}tbody tr:nth-child(even){background:none}}";

#define LONG_CELL 24 /* bytes */
#define CHART_W 720
#define CHART_H 240
#define CHART_LEFT 48
#define CHART_BOTTOM 40
#define CHART_TOP 16

/* A bar chart of one column against another, as inline SVG. */
static void html_chart(FILE *f, const report_section *s, tg_report_lang lang) {
        uint64_t max = 0;
        size_t n = s->n_rows;
        double plot_w = CHART_W - CHART_LEFT - 8, plot_h = CHART_H - CHART_BOTTOM - CHART_TOP;

        if (n == 0)
                return;
        for (size_t i = 0; i < n; i++) {
                uint64_t v = strtoull(cell(s, i, (size_t) s->chart_value), NULL, 10);
                if (v > max)
                        max = v;
        }
        fprintf(f,
                "<svg class=\"chart\" id=\"c-%s\" xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
                "viewBox=\"0 0 %d %d\" role=\"img\" aria-label=\"",
                s->id, CHART_W, CHART_H, CHART_W, CHART_H);
        html_text(f, report_word(&w_chart, lang));
        fputs(": ", f);
        html_text(f, report_word(&s->title, lang));
        fputs("\">\n", f);
        fprintf(f, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#333\"/>\n", CHART_LEFT,
                CHART_H - CHART_BOTTOM, CHART_W - 8, CHART_H - CHART_BOTTOM);
        fprintf(f, "<text x=\"%d\" y=\"%d\" font-size=\"11\" text-anchor=\"end\">%" PRIu64 "</text>\n", CHART_LEFT - 4,
                CHART_TOP + 4, max);
        fprintf(f, "<text x=\"%d\" y=\"%d\" font-size=\"11\" text-anchor=\"end\">0</text>\n", CHART_LEFT - 4,
                CHART_H - CHART_BOTTOM);
        double step = plot_w / (double) n, bar = step * 0.7;
        /* labels only where they fit: every k-th */
        size_t every = n <= 24 ? 1 : (n + 23) / 24;
        for (size_t i = 0; i < n; i++) {
                const char *label = cell(s, i, (size_t) s->chart_label), *value = cell(s, i, (size_t) s->chart_value);
                uint64_t v = strtoull(value, NULL, 10);
                double h = max ? plot_h * (double) v / (double) max : 0,
                       x = CHART_LEFT + step * (double) i + step * 0.15;
                fprintf(f, "<rect class=\"bar\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"#3a6ea5\">",
                        x, CHART_H - CHART_BOTTOM - h, bar, h);
                fputs("<title>", f);
                html_text(f, label);
                fputs(": ", f);
                html_text(f, value);
                fputs("</title></rect>\n", f);
                if (i % every == 0) {
                        fprintf(f, "<text x=\"%.1f\" y=\"%d\" font-size=\"10\" text-anchor=\"middle\">", x + bar / 2,
                                CHART_H - CHART_BOTTOM + 14);
                        html_text(f, label);
                        fputs("</text>\n", f);
                }
                if (v > 0 && n <= 24) {
                        fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"10\" text-anchor=\"middle\">", x + bar / 2,
                                CHART_H - CHART_BOTTOM - h - 3);
                        html_text(f, value);
                        fputs("</text>\n", f);
                }
        }
        fputs("</svg>\n", f);
}

static void html_meta(FILE *f, const report_words *name, const char *value, tg_report_lang lang) {
        fputs("<dt>", f);
        html_text(f, report_word(name, lang));
        fputs("</dt><dd>", f);
        html_text(f, value);
        fputs("</dd>\n", f);
}

static void write_html(const tg_report *r, FILE *f, const tg_report_output *o) {
        char from[TG_REPORT_TIME_MAX], to[TG_REPORT_TIME_MAX], t[TG_REPORT_TIME_MAX], scope[REPORT_CELL_MAX];
        char period[3 * TG_REPORT_TIME_MAX];
        const char *title = report_word(&ops(r)->title, o->lang);

        period_days(r, from, to);
        snprintf(period, sizeof(period), "%s – %s", from, to);
        fprintf(f, "<!DOCTYPE html>\n<html lang=\"%s\">\n<head>\n<meta charset=\"utf-8\">\n",
                o->lang == TG_REPORT_LANG_JA ? "ja" : "en");
        fputs("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src "
              "'unsafe-inline'\">\n"
              "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>",
              f);
        html_text(f, title);
        fputs(" ", f);
        html_text(f, period);
        fprintf(f, "</title>\n<style>%s</style>\n</head>\n<body data-report=\"%s\">\n<header>\n<h1>", html_style,
                tg_report_kind_to_string(r->kind));
        html_text(f, title);
        fputs("</h1>\n<dl class=\"meta\">\n", f);
        html_meta(f, &w_period, period, o->lang);
        html_meta(f, &w_times, report_word(&w_times_text, o->lang), o->lang);
        html_meta(f, &w_department, report_word(&ops(r)->grouping, o->lang), o->lang);
        if (o->scope)
                html_meta(f, &w_scope, report_escape(o->scope, scope), o->lang);
        if (o->generated_usec) {
                tg_report_format_time(o->generated_usec, t, sizeof(t));
                html_meta(f, &w_generated, t, o->lang);
        }
        fputs("</dl>\n</header>\n<main>\n", f);
        for (size_t i = 0; i < r->n_sections; i++) {
                const report_section *s = &r->sections[i];
                fprintf(f, "<section id=\"s-%s\">\n<h2>", s->id);
                html_text(f, report_word(&s->title, o->lang));
                fprintf(f, " <small>(%zu ", s->n_rows);
                html_text(f, report_word(&w_rows, o->lang));
                fputs(")</small></h2>\n", f);
                if (s->chart_value >= 0)
                        html_chart(f, s, o->lang);
                if (s->n_rows == 0) {
                        fputs("<p class=\"empty\">", f);
                        html_text(f, report_word(&w_none, o->lang));
                        fputs("</p>\n</section>\n", f);
                        continue;
                }
                fprintf(f, "<table id=\"t-%s\">\n<thead><tr>", s->id);
                for (size_t c = 0; c < s->n_columns; c++) {
                        fprintf(f, "<th data-col=\"%s\">", s->columns[c].id);
                        html_text(f, report_word(&s->columns[c].label, o->lang));
                        fputs("</th>", f);
                }
                fputs("</tr></thead>\n<tbody>\n", f);
                for (size_t row = 0; row < s->n_rows; row++) {
                        fputs("<tr>", f);
                        for (size_t c = 0; c < s->n_columns; c++) {
                                /* long values (ids, hashes, paths) may break anywhere; words
                                 * and times stay whole */
                                const char *v = cell(s, row, c);
                                fputs(s->columns[c].number    ? "<td class=\"n\">"
                                      : strlen(v) > LONG_CELL ? "<td class=\"b\">"
                                                              : "<td>",
                                      f);
                                html_text(f, v);
                                fputs("</td>", f);
                        }
                        fputs("</tr>\n", f);
                }
                fputs("</tbody>\n</table>\n</section>\n", f);
        }
        fputs("</main>\n<footer>termguard</footer>\n</body>\n</html>\n", f);
}

int tg_report_write(const tg_report *r, FILE *f, const tg_report_output *o) {
        int k = 0;
        if (!r->finished || o->format >= _TG_REPORT_FORMAT_MAX || o->lang >= _TG_REPORT_LANG_MAX)
                return -EINVAL;
        switch (o->format) {
        case TG_REPORT_TABLE: k = write_table(r, f, o); break;
        case TG_REPORT_CSV: write_csv(r, f); break;
        case TG_REPORT_JSON: k = write_json(r, f, o); break;
        case TG_REPORT_HTML: write_html(r, f, o); break;
        default: return -EINVAL;
        }
        if (k == 0 && (fflush(f) != 0 || ferror(f)))
                k = -EIO;
        return k;
}
