/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The event catalogue: its own consistency, the documentation's copy of it, and every call
 * site in the source naming a type (and, where the call lists them, fields) that it holds.
 *   test_event_catalogue --markdown   prints the table docs/admin-guide.md must hold */
#define _GNU_SOURCE
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "termguard/event-catalogue.h"
#include "termguard/record.h"

/* The whole file, or NULL; NUL-terminated. */
static char *slurp(const char *path) {
        FILE *f = fopen(path, "re");
        char *buf = NULL;
        size_t size = 0;
        if (!f)
                return NULL;
        if (fseek(f, 0, SEEK_END) == 0) {
                long n = ftell(f);
                if (n >= 0 && fseek(f, 0, SEEK_SET) == 0 && (buf = malloc((size_t) n + 1))) {
                        size = fread(buf, 1, (size_t) n, f);
                        buf[size] = '\0';
                }
        }
        fclose(f);
        return buf;
}

static void types_are_unique_and_well_formed(void **state) {
        size_t n, nf;
        const tg_event_type *c = tg_event_catalogue(&n);
        (void) state;
        tg_event_fields(&nf);
        assert_true(n > 40);
        for (size_t i = 0; i < n; i++) {
                size_t k = 0;
                assert_non_null(strchr(c[i].type, '.'));
                assert_int_equal(strlen(c[i].message_id), 32);
                assert_int_equal(strspn(c[i].message_id, "0123456789abcdef"), 32);
                assert_true(c[i].priority >= 0 && c[i].priority <= 7);
                assert_true(c[i].senders & TG_SENDER_DAEMON);
                assert_true(c[i].schema >= 1);
                assert_true(c[i].when && *c[i].when);
                for (const char *const *f = c[i].fields; *f; f++, k++) {
                        if (!tg_event_field_meaning(*f))
                                fail_msg("%s: field %s is not in the field dictionary", c[i].type, *f);
                        for (const char *const *g = f + 1; *g; g++)
                                assert_string_not_equal(*f, *g);
                }
                assert_true(k <= TG_EVENT_FIELDS_MAX);
                for (size_t j = i + 1; j < n; j++) {
                        assert_string_not_equal(c[i].type, c[j].type);
                        assert_string_not_equal(c[i].message_id, c[j].message_id);
                }
                assert_ptr_equal(tg_event_lookup(c[i].type), &c[i]);
        }
        assert_null(tg_event_lookup("usb.nonexistent"));
        assert_null(tg_event_lookup(""));
}

/* The ids auditors' queries already use do not move. */
static void existing_message_ids_are_kept(void **state) {
        static const char *const kept[][2] = {
                {"usb.attach", "7c1b9a8c4f2e4d0fa1a1e3b0b0a10001"},
                {"usb.decision", "7c1b9a8c4f2e4d0fa1a1e3b0b0a10002"},
                {"admin.denied", "7c1b9a8c4f2e4d0fa1a1e3b0b0a1000c"},
                {"storage.cut-off-failed", "7c1b9a8c4f2e4d0fa1a1e3b0b0a10017"},
                {"mfa.success", "5d0f0c9e3a7b4c1f9e2d8a6b4c3e2f01"},
                {"mfa.lockout", "5d0f0c9e3a7b4c1f9e2d8a6b4c3e2f03"},
                {"mfa.account-refused", "5d0f0c9e3a7b4c1f9e2d8a6b4c3e2f0c"},
        };
        (void) state;
        for (size_t i = 0; i < sizeof(kept) / sizeof(kept[0]); i++) {
                const tg_event_type *t = tg_event_lookup(kept[i][0]);
                assert_non_null(t);
                assert_string_equal(t->message_id, kept[i][1]);
        }
}

/* Every field of the dictionary is used by some type: no stale documentation. */
static void every_dictionary_field_is_used(void **state) {
        size_t n, nf;
        const tg_event_type *c = tg_event_catalogue(&n);
        const tg_event_field *f = tg_event_fields(&nf);
        (void) state;
        for (size_t i = 0; i < nf; i++) {
                bool used = false;
                for (size_t j = 0; j < n && !used; j++)
                        used = tg_event_has_field(&c[j], f[i].name);
                if (!used)
                        fail_msg("field %s is in the dictionary but no type has it", f[i].name);
                if (i > 0)
                        assert_true(strcmp(f[i - 1].name, f[i].name) < 0); /* sorted: one place to look */
        }
}

/* Only failures and configuration errors may come from any user's process. */
static void what_users_may_submit(void **state) {
        size_t n;
        const tg_event_type *c = tg_event_catalogue(&n);
        (void) state;
        for (size_t i = 0; i < n; i++) {
                bool user = tg_event_sender_may(&c[i], TG_SENDER_USER);
                bool expected = strcmp(c[i].type, "mfa.failure") == 0 || strcmp(c[i].type, "mfa.config-error") == 0;
                if (user != expected)
                        fail_msg("%s: users %s submit it", c[i].type, user ? "may" : "may not");
                if (strncmp(c[i].type, "mfa.", 4) != 0)
                        assert_false(tg_event_sender_may(&c[i], TG_SENDER_ROOT));
        }
}

static void documentation_holds_the_catalogue(void **state) {
        char *doc, *table = tg_event_catalogue_markdown();
        const char *docs[] = {TG_SOURCE_DIR "/docs/admin-guide.md", TG_SOURCE_DIR "/docs/admin-guide.ja.md"};
        (void) state;
        assert_non_null(table);
        for (size_t i = 0; i < 2; i++) {
                doc = slurp(docs[i]);
                if (!doc) {
                        fail_msg("%s: cannot read it", docs[i]);
                        return;
                }
                char *b = strstr(doc, TG_EVENT_DOCS_BEGIN), *e = b ? strstr(b, TG_EVENT_DOCS_END) : NULL;
                if (!b || !e)
                        fail_msg("%s: no event catalogue between its markers", docs[i]);
                e += strlen(TG_EVENT_DOCS_END);
                *e = '\0';
                /* the table ends with a newline, the marker in the text before it */
                if (strlen(b) != strlen(table) - 1 || strncmp(b, table, strlen(b)) != 0)
                        fail_msg("%s: the event catalogue differs from lib/event-catalogue.c; replace it with the "
                                 "output of test_event_catalogue --markdown",
                                 docs[i]);
                free(doc);
        }
        free(table);
}

/* ---- call sites ---- */

typedef struct {
        const char *call;   /* "event_emit(" */
        int type_arg;       /* index of the type argument */
        int first_key;      /* index of the first key of key/value pairs, or -1 */
        const char *prefix; /* the type is prefix + the literal ("mfa." for audit()) */
} call_kind;

static const call_kind calls[] = {
        {"event_emit(", 0, 3, ""},      {"change_record(", 1, 3, ""},   {"tg_mfa_event(", 1, -1, ""},
        {"refuse_account(", 3, -1, ""}, {"tg_record_init(", 1, -1, ""}, {"audit(", 0, -1, "mfa."},
};

/* Splits the arguments of the call whose "(" is at p: top-level commas, strings and character
 * literals skipped. A string literal argument (adjacent literals joined) comes back without
 * quotes in lit[i], any other argument as "" (no event type or field name is empty). */
#define ARGS_MAX 48
#define LIT_MAX 128
static int split_args(const char *p, char lit[ARGS_MAX][LIT_MAX]) {
        int depth = 0, n = 0;
        char buf[LIT_MAX];
        size_t len = 0;
        bool only_literal = true, any = false;

        for (int i = 0; i < ARGS_MAX; i++)
                lit[i][0] = '\0';
        for (p++; *p; p++) {
                if (*p == '"') {
                        for (p++; *p && *p != '"'; p++) {
                                if (*p == '\\' && p[1])
                                        p++;
                                if (depth == 0 && len < sizeof(buf) - 1)
                                        buf[len++] = *p;
                        }
                        any = true;
                        continue;
                }
                if (*p == '\'') {
                        for (p++; *p && *p != '\''; p++)
                                if (*p == '\\' && p[1])
                                        p++;
                        only_literal = false;
                        continue;
                }
                if (*p == '(' || *p == '[' || *p == '{') {
                        depth++;
                        only_literal = false;
                        continue;
                }
                if ((*p == ')' || *p == ']' || *p == '}') && depth > 0) {
                        depth--;
                        continue;
                }
                if (depth == 0 && (*p == ',' || *p == ')')) {
                        if (n < ARGS_MAX && any && only_literal) {
                                buf[len] = '\0';
                                memcpy(lit[n], buf, len + 1);
                        }
                        n++;
                        len = 0;
                        only_literal = true;
                        any = false;
                        if (*p == ')')
                                return n;
                        continue;
                }
                if (!isspace((unsigned char) *p))
                        only_literal = false;
        }
        return n;
}

static int checked_sites;

static void check_file(const char *path) {
        char *text = slurp(path);
        if (!text) { /* the analyzer does not know that fail_msg() does not return */
                fail_msg("%s: cannot read it", path);
                return;
        }
        for (size_t k = 0; k < sizeof(calls) / sizeof(calls[0]); k++) {
                const call_kind *ck = &calls[k];
                for (const char *p = strstr(text, ck->call); p; p = strstr(p + 1, ck->call)) {
                        char lit[ARGS_MAX][LIT_MAX], type[LIT_MAX + 16];
                        /* a whole name: not the tail of a longer one */
                        if (p > text && (isalnum((unsigned char) p[-1]) || p[-1] == '_'))
                                continue;
                        int n = split_args(p + strlen(ck->call) - 1, lit);
                        if (n > ck->type_arg && lit[ck->type_arg][0]) {
                                snprintf(type, sizeof(type), "%s%s", ck->prefix, lit[ck->type_arg]);
                                const tg_event_type *t = tg_event_lookup(type);
                                if (!t)
                                        fail_msg("%s: %s\"%s\" names a type that is not in the catalogue", path,
                                                 ck->call, type);
                                checked_sites++;
                                for (int a = ck->first_key; ck->first_key >= 0 && a < n && a < ARGS_MAX; a += 2) {
                                        if (!lit[a][0])
                                                continue; /* NULL (the end), or a computed key */
                                        if (!tg_event_has_field(t, lit[a]))
                                                fail_msg(
                                                        "%s: %s record with field \"%s\", which the catalogue does not "
                                                        "list for it",
                                                        path, type, lit[a]);
                                }
                        }
                }
        }
        free(text);
}

static void call_sites_name_catalogued_types_and_fields(void **state) {
        const char *dirs[] = {"agent", "lib", "pam_module", "ctl", "udev"};
        (void) state;
        for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
                char path[1024];
                snprintf(path, sizeof(path), "%s/%s", TG_SOURCE_DIR, dirs[i]);
                DIR *d = opendir(path);
                assert_non_null(d);
                for (struct dirent *de; (de = readdir(d));) {
                        size_t l = strlen(de->d_name);
                        if (l < 3 || strcmp(de->d_name + l - 2, ".c") != 0)
                                continue;
                        snprintf(path, sizeof(path), "%s/%s/%s", TG_SOURCE_DIR, dirs[i], de->d_name);
                        check_file(path);
                }
                closedir(d);
        }
        /* The scan found the call sites (a renamed function would make it find none). */
        assert_true(checked_sites > 40);
}

/* The scanner itself catches what it is for. */
static void scanner_catches_unknown_types_and_fields(void **state) {
        char lit[ARGS_MAX][LIT_MAX];
        (void) state;
        assert_int_equal(split_args("(\"usb.attach\", LOG_INFO, f(a, b), \"device\", x ? \"a\" : \"b\", NULL)", lit),
                         6);
        assert_string_equal(lit[0], "usb.attach");
        assert_string_equal(lit[1], "");
        assert_string_equal(lit[2], "");
        assert_string_equal(lit[3], "device");
        assert_string_equal(lit[4], "");
        assert_int_equal(split_args("(\"mfa.\" \"success\", ',')", lit), 2);
        assert_string_equal(lit[0], "mfa.success");
}

int main(int argc, char **argv) {
        if (argc == 2 && strcmp(argv[1], "--markdown") == 0) {
                char *t = tg_event_catalogue_markdown();
                if (!t)
                        return 1;
                fputs(t, stdout);
                free(t);
                return 0;
        }
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(types_are_unique_and_well_formed),
                cmocka_unit_test(existing_message_ids_are_kept),
                cmocka_unit_test(every_dictionary_field_is_used),
                cmocka_unit_test(what_users_may_submit),
                cmocka_unit_test(documentation_holds_the_catalogue),
                cmocka_unit_test(scanner_catches_unknown_types_and_fields),
                cmocka_unit_test(call_sites_name_catalogued_types_and_fields),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
