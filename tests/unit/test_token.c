/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The token registry (lib/token.c): models as RawAccess= writes them, matching, validation, the
 * file, and the models of RawAccess= merged in. */
#define _GNU_SOURCE
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "termguard/token.h"

static char dir[64], path[128];

static int setup(void **state) {
        (void) state;
        snprintf(dir, sizeof(dir), "/tmp/tg-token-XXXXXX");
        assert_non_null(mkdtemp(dir));
        snprintf(path, sizeof(path), "%s/tokens.json", dir);
        return 0;
}

static int teardown(void **state) {
        (void) state;
        unlink(path);
        rmdir(dir);
        return 0;
}

static tg_token token(const char *label, uint16_t vid, uint16_t pid, const char *serial, const char *owner) {
        tg_token t = {.kind = TG_TOKEN_SECURITY_KEY, .vid = vid, .pid = pid, .added_at = 1800000000};
        snprintf(t.label, sizeof(t.label), "%s", label);
        snprintf(t.serial, sizeof(t.serial), "%s", serial);
        snprintf(t.owner, sizeof(t.owner), "%s", owner);
        snprintf(t.added_by, sizeof(t.added_by), "root");
        return t;
}

static void write_text(const char *text) {
        FILE *f = fopen(path, "w");
        assert_non_null(f);
        fputs(text, f);
        fclose(f);
}

/* A key registered by serial is that key; a model entry stands for every other one. */
static void serial_comes_before_model(void **state) {
        tg_token_registry reg = {0};
        tg_token a = token("yubikey-tanaka", 0x1050, 0x0407, "12345678", "tanaka");
        tg_token m = token("yubikey-model", 0x1050, 0x0407, "", "");
        char err[256];
        (void) state;
        assert_int_equal(tg_token_add(&reg, &m, err, sizeof(err)), 0);
        assert_int_equal(tg_token_add(&reg, &a, err, sizeof(err)), 0);
        assert_string_equal(tg_token_match(&reg, 0x1050, 0x0407, "12345678")->label, "yubikey-tanaka");
        assert_string_equal(tg_token_match(&reg, 0x1050, 0x0407, "99999999")->label, "yubikey-model");
        assert_string_equal(tg_token_match(&reg, 0x1050, 0x0407, NULL)->label, "yubikey-model");
        assert_null(tg_token_match(&reg, 0x1050, 0x0408, "12345678"));
        assert_int_equal(tg_token_remove(&reg, "yubikey-model"), 0);
        assert_null(tg_token_match(&reg, 0x1050, 0x0407, "99999999"));
        assert_int_equal(tg_token_remove(&reg, "yubikey-model"), -ENOENT);
        tg_token_registry_clear(&reg);
}

static void bad_tokens_are_refused(void **state) {
        tg_token_registry reg = {0};
        tg_token t = token("key-1", 0x1050, 0x0407, "1", "tanaka");
        char err[256] = "";
        (void) state;
        assert_int_equal(tg_token_add(&reg, &t, err, sizeof(err)), 0);
        /* the same label, the same device twice */
        t = token("key-1", 0x1050, 0x0408, "", "");
        assert_int_equal(tg_token_add(&reg, &t, err, sizeof(err)), -EINVAL);
        assert_non_null(strstr(err, "already registered"));
        t = token("key-2", 0x1050, 0x0407, "1", "suzuki");
        assert_int_equal(tg_token_add(&reg, &t, err, sizeof(err)), -EINVAL);
        assert_non_null(strstr(err, "key-1"));
        /* hostile text */
        t = token("bad label", 1, 2, "", "");
        assert_int_equal(tg_token_add(&reg, &t, err, sizeof(err)), -EINVAL);
        t = token("key-3", 1, 2, "\x1b[2J", "");
        assert_int_equal(tg_token_add(&reg, &t, err, sizeof(err)), -EINVAL);
        t = token("key-3", 1, 2, "A B", ""); /* serials: printable ASCII without spaces, quotes, backslashes */
        assert_int_equal(tg_token_add(&reg, &t, err, sizeof(err)), -EINVAL);
        t = token("key-3", 1, 2, "A\\B", "");
        assert_int_equal(tg_token_add(&reg, &t, err, sizeof(err)), -EINVAL);
        t = token("key-3", 1, 2, "\xe3\x81\x82", "");
        assert_int_equal(tg_token_add(&reg, &t, err, sizeof(err)), -EINVAL);
        t = token("key-3", 1, 2, "A\u200bB", "");
        assert_int_equal(tg_token_add(&reg, &t, err, sizeof(err)), -EINVAL);
        t = token("key\u202e3", 1, 2, "", ""); /* bidi control in a label */
        assert_int_equal(tg_token_add(&reg, &t, err, sizeof(err)), -EINVAL);
        t = token("key-4", 1, 2, "", "tanaka suzuki");
        assert_int_equal(tg_token_add(&reg, &t, err, sizeof(err)), -EINVAL);
        t = token("key-5", 1, 2, "", "");
        t.kind = _TG_TOKEN_KIND_MAX;
        assert_int_equal(tg_token_add(&reg, &t, err, sizeof(err)), -EINVAL);
        assert_int_equal(reg.n_tokens, 1);
        tg_token_registry_clear(&reg);
}

static int parse(const char *text, tg_token_model *ret) {
        return tg_token_model_parse(text, strlen(text), ret);
}

static void models_parse_and_format(void **state) {
        tg_token_model m;
        char buf[TG_TOKEN_TEXT_MAX + 1];
        (void) state;

        assert_int_equal(parse("04E6:5116", &m), 0);
        assert_int_equal(m.vid, 0x04e6);
        assert_int_equal(m.pid, 0x5116);
        assert_string_equal(m.serial, "");
        assert_int_equal(tg_token_model_format(&m, buf, sizeof(buf)), 9);
        assert_string_equal(buf, "04e6:5116");

        assert_int_equal(parse("1050:0407/CC-0001_x", &m), 0);
        assert_string_equal(m.serial, "CC-0001_x");
        assert_int_equal(tg_token_model_format(&m, buf, sizeof(buf)), 19);
        assert_string_equal(buf, "1050:0407/CC-0001_x");
        assert_int_equal(tg_token_model_format(&m, buf, 19), -ENOBUFS);
}

static void bad_models_are_refused(void **state) {
        static const char *const bad[] = {
                "",
                "04e6",
                "04e6:",
                "04e6:511",
                "4e6:5116",
                "04e6-5116",
                "04e6:5116/",
                "04e6:5116x",
                "04e6:51160",
                "g4e6:5116",
                "04e6:5116/a b",
                "04e6:5116/\x01",
                "04e6:5116/\xe3\x81\x82",
                "+4e6:5116",
        };
        tg_token_model m = {.vid = 7};
        char longest[TG_TOKEN_TEXT_MAX + 2];
        (void) state;

        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                assert_int_equal(parse(bad[i], &m), -EINVAL);
                assert_int_equal(m.vid, 7); /* untouched */
        }
        /* The serial's bound, and one past it. */
        snprintf(longest, sizeof(longest), "0001:0002/%0*d", TG_SERIAL_MAX, 0);
        assert_int_equal(parse(longest, &m), 0);
        assert_int_equal(strlen(m.serial), TG_SERIAL_MAX);
        snprintf(longest, sizeof(longest), "0001:0002/%0*d", TG_SERIAL_MAX + 1, 0);
        assert_int_equal(parse(longest, &m), -EINVAL);
}

static void lists_add_reset_and_are_bounded(void **state) {
        tg_token_list l = {0};
        char many[TG_RAW_ACCESS_MODELS_MAX * 10 + 16] = "";
        (void) state;

        assert_int_equal(tg_token_list_extend(&l, " 04e6:5116\t1050:0407/K1 "), 0);
        assert_int_equal(l.n, 2);
        assert_int_equal(tg_token_list_extend(&l, "096e:0858"), 0);
        assert_int_equal(l.n, 3);
        /* One bad model: nothing of that line is added. */
        assert_int_equal(tg_token_list_extend(&l, "1111:2222 nonsense"), -EINVAL);
        assert_int_equal(l.n, 3);
        /* An empty value empties the list. */
        assert_int_equal(tg_token_list_extend(&l, "  "), 0);
        assert_int_equal(l.n, 0);

        for (int i = 0; i < TG_RAW_ACCESS_MODELS_MAX; i++)
                snprintf(many + strlen(many), sizeof(many) - strlen(many), "%04x:0001 ", i);
        assert_int_equal(tg_token_list_extend(&l, many), 0);
        assert_int_equal(l.n, TG_RAW_ACCESS_MODELS_MAX);
        assert_int_equal(tg_token_list_extend(&l, "ffff:ffff"), -E2BIG);
        assert_int_equal(l.n, TG_RAW_ACCESS_MODELS_MAX);
}

/* RawAccess= models become ownerless entries of the registry: found by the one lookup, never
 * saved, given way to by a registered entry for the same device, and added once. */
static void raw_access_models_merge_into_the_registry(void **state) {
        tg_token_registry reg = {0}, back = {0};
        tg_token_list l = {0};
        tg_token k = token("key-tanaka", 0x1050, 0x0407, "K1", "tanaka");
        const tg_token *t;
        char err[256] = "";
        (void) state;

        assert_int_equal(tg_token_add(&reg, &k, err, sizeof(err)), 0);
        /* a model twice, a device the file has already, a serial too long for a label */
        assert_int_equal(tg_token_list_extend(&l, "04e6:5116 04E6:5116 1050:0407/K1 1050:0407"), 0);
        char longest[TG_TOKEN_TEXT_MAX + 1];
        snprintf(longest, sizeof(longest), "0001:0002/%0*d", TG_SERIAL_MAX, 7);
        assert_int_equal(tg_token_list_extend(&l, longest), 0);
        if (tg_token_registry_add_models(&reg, &l, err, sizeof(err)) != 0)
                fail_msg("%s", err);
        assert_int_equal(reg.n_tokens, 4);
        t = tg_token_match(&reg, 0x04e6, 0x5116, "ANY");
        assert_non_null(t);
        assert_string_equal(t->label, "RawAccess=04e6:5116");
        assert_true(t->from_config);
        assert_int_equal(t->kind, TG_TOKEN_ANY);
        assert_string_equal(t->owner, "");
        /* serial before model: the registered key keeps its owner, other keys of the model
         * are the configuration's entry */
        assert_string_equal(tg_token_match(&reg, 0x1050, 0x0407, "K1")->owner, "tanaka");
        assert_string_equal(tg_token_match(&reg, 0x1050, 0x0407, "K2")->label, "RawAccess=1050:0407");
        assert_string_equal(tg_token_match(&reg, 0x1050, 0x0407, NULL)->label, "RawAccess=1050:0407");
        t = tg_token_match(&reg, 0x0001, 0x0002, longest + 10);
        assert_non_null(t);
        assert_string_equal(t->label, "RawAccess=0001:0002/~5");
        assert_null(tg_token_match(&reg, 0x0001, 0x0002, "7"));
        /* serials are exact */
        assert_null(tg_token_match(&reg, 0x0001, 0x0002, NULL));
        assert_null(tg_token_match(NULL, 0x04e6, 0x5116, NULL));

        /* configuration entries are not the file's, nor removable by label */
        assert_int_equal(tg_token_remove(&reg, "RawAccess=04e6:5116"), -EPERM);
        assert_int_equal(tg_token_registry_save(path, &reg), 0);
        assert_int_equal(tg_token_registry_load(path, &back, err, sizeof(err)), 0);
        assert_int_equal(back.n_tokens, 1);
        assert_string_equal(back.tokens[0].label, "key-tanaka");
        tg_token_registry_clear(&back);

        /* a registered entry takes the place of a RawAccess= model (to give it an owner) */
        k = token("reader-sato", 0x04e6, 0x5116, "", "sato");
        k.kind = TG_TOKEN_CARD_READER;
        assert_int_equal(tg_token_add(&reg, &k, err, sizeof(err)), 0);
        assert_int_equal(reg.n_tokens, 4);
        assert_null(tg_token_find_label(&reg, "RawAccess=04e6:5116"));
        assert_string_equal(tg_token_match(&reg, 0x04e6, 0x5116, "X")->owner, "sato");
        /* but nobody registers a label of the configuration's, nor the kind "any" */
        k = token("RawAccess=1234:5678", 0x1234, 0x5678, "", "");
        assert_int_equal(tg_token_add(&reg, &k, err, sizeof(err)), -EINVAL);
        assert_non_null(strstr(err, "RawAccess="));
        k = token("any-key", 0x1234, 0x5678, "", "");
        k.kind = TG_TOKEN_ANY;
        assert_int_equal(tg_token_add(&reg, &k, err, sizeof(err)), -EINVAL);
        /* and the configuration's entries never take an owner */
        k = token("RawAccess=1234:5678", 0x1234, 0x5678, "", "tanaka");
        k.kind = TG_TOKEN_ANY;
        k.from_config = true;
        assert_int_equal(tg_token_add(&reg, &k, err, sizeof(err)), -EINVAL);
        assert_int_equal(reg.n_tokens, 4);

        /* the registry is full: the models are refused whole */
        tg_token_registry full = {0};
        for (int i = 0; i < TG_TOKENS_MAX; i++) {
                char label[16];
                snprintf(label, sizeof(label), "k%d", i);
                k = token(label, 0x2000, (uint16_t) i, "", "");
                assert_int_equal(tg_token_add(&full, &k, err, sizeof(err)), 0);
        }
        assert_int_equal(tg_token_registry_add_models(&full, &l, err, sizeof(err)), -E2BIG);
        assert_int_equal(full.n_tokens, TG_TOKENS_MAX);
        tg_token_registry_clear(&full);
        tg_token_registry_clear(&reg);
}

/* pcsc-lite names a USB reader "NAME [INTERFACE] (SERIAL) 00 00": the serial places the reader
 * on its USB device, and nothing else in the name may pass for it. */
static void reader_names_carry_serials(void **state) {
        (void) state;
        assert_true(tg_token_reader_names_serial("SCM Microsystems Inc. SCR 3310 [CCID Interface] (53311234) 00 00",
                                                 "53311234"));
        assert_true(tg_token_reader_names_serial("Reader (R-1)", "R-1"));
        assert_false(tg_token_reader_names_serial("Reader (R-12) 00 00", "R-1"));
        assert_false(tg_token_reader_names_serial("Reader (XR-1) 00 00", "R-1"));
        assert_false(tg_token_reader_names_serial("Reader(R-1) 00 00", "R-1"));
        assert_false(tg_token_reader_names_serial("Reader (R-1)x 00 00", "R-1"));
        assert_false(tg_token_reader_names_serial("(R-1) 00 00", "R-1")); /* a name before it */
        assert_true(tg_token_reader_names_serial("R-1 (R-1) (R-1) 00 00", "R-1"));
        assert_false(tg_token_reader_names_serial("Virtual PCD 00 00", "00"));
        /* serials outside the rule never match, nor does nothing */
        assert_false(tg_token_reader_names_serial("Reader (A B) 00 00", "A B"));
        assert_false(tg_token_reader_names_serial("Reader () 00 00", ""));
        assert_false(tg_token_reader_names_serial(NULL, "R-1"));
        assert_false(tg_token_reader_names_serial("Reader (R-1) 00 00", NULL));
}

static void file_round_trip(void **state) {
        tg_token_registry reg = {0}, back = {0};
        tg_token a = token("key-a", 0x1050, 0x0407, "ABC", "tanaka");
        tg_token b = token("reader-1", 0x04e6, 0x5116, "", "");
        char err[256];
        struct stat st;
        (void) state;
        b.kind = TG_TOKEN_CARD_READER;
        /* missing file: empty */
        assert_int_equal(tg_token_registry_load(path, &back, err, sizeof(err)), 0);
        assert_int_equal(back.n_tokens, 0);
        assert_int_equal(tg_token_add(&reg, &a, err, sizeof(err)), 0);
        assert_int_equal(tg_token_add(&reg, &b, err, sizeof(err)), 0);
        assert_int_equal(tg_token_registry_save(path, &reg), 0);
        assert_int_equal(stat(path, &st), 0);
        assert_int_equal(st.st_mode & 0777, 0600);
        assert_int_equal(tg_token_registry_load(path, &back, err, sizeof(err)), 0);
        assert_int_equal(back.n_tokens, 2);
        assert_memory_equal(&back.tokens[0], &a, sizeof(a));
        assert_memory_equal(&back.tokens[1], &b, sizeof(b));
        tg_token_registry_clear(&reg);
        tg_token_registry_clear(&back);
}

static void expect_load_error(const char *text, const char *needle) {
        tg_token_registry reg = {.n_tokens = 42};
        char err[512] = "";
        write_text(text);
        assert_int_equal(tg_token_registry_load(path, &reg, err, sizeof(err)), -EBADMSG);
        if (!strstr(err, needle))
                fail_msg("\"%s\": error \"%s\" lacks \"%s\"", text, err, needle);
        assert_int_equal(reg.n_tokens, 42); /* untouched */
}

static void malformed_files_are_refused(void **state) {
        (void) state;
        expect_load_error("", "not a token registry");
        expect_load_error("[]", "not a token registry");
        expect_load_error("{\"tokens\": {}}", "not a token registry");
        expect_load_error("{\"tokens\": []} trailing", "not a token registry");
        expect_load_error("{\"tokens\": [{\"label\": \"k\", \"kind\": \"usb-stick\", \"vid\": 1, \"pid\": 2}]}",
                          "token 1: kind");
        expect_load_error("{\"tokens\": [{\"label\": \"k\", \"kind\": \"security-key\", \"vid\": 65536, \"pid\": 2}]}",
                          "token 1");
        expect_load_error("{\"tokens\": [{\"label\": \"k\", \"kind\": \"security-key\", \"vid\": 1, \"pid\": 2},"
                          " {\"label\": \"k\", \"kind\": \"security-key\", \"vid\": 1, \"pid\": 3}]}",
                          "token 2: label k is already registered");
        expect_load_error("{\"tokens\": [{\"label\": \"k\", \"kind\": \"security-key\", \"vid\": \"1\", \"pid\": 2}]}",
                          "token 1");
        /* the serial rule of RawAccess= holds for the file too; "any" and RawAccess= labels are
         * the configuration's */
        expect_load_error("{\"tokens\": [{\"label\": \"k\", \"kind\": \"security-key\", \"vid\": 1, \"pid\": 2, "
                          "\"serial\": \"A B\"}]}",
                          "token 1: serial");
        expect_load_error("{\"tokens\": [{\"label\": \"k\", \"kind\": \"any\", \"vid\": 1, \"pid\": 2}]}",
                          "token 1: kind");
        expect_load_error("{\"tokens\": [{\"label\": \"RawAccess=0001:0002\", \"kind\": \"card-reader\", \"vid\": 1, "
                          "\"pid\": 2}]}",
                          "token 1: label");
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(models_parse_and_format),
                cmocka_unit_test(bad_models_are_refused),
                cmocka_unit_test(lists_add_reset_and_are_bounded),
                cmocka_unit_test_setup_teardown(raw_access_models_merge_into_the_registry, setup, teardown),
                cmocka_unit_test(serial_comes_before_model),
                cmocka_unit_test(reader_names_carry_serials),
                cmocka_unit_test(bad_tokens_are_refused),
                cmocka_unit_test_setup_teardown(file_round_trip, setup, teardown),
                cmocka_unit_test_setup_teardown(malformed_files_are_refused, setup, teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
