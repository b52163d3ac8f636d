/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The token registry (lib/token.c): matching, validation, the file. */
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
        t = token("key-4", 1, 2, "", "tanaka suzuki");
        assert_int_equal(tg_token_add(&reg, &t, err, sizeof(err)), -EINVAL);
        t = token("key-5", 1, 2, "", "");
        t.kind = _TG_TOKEN_KIND_MAX;
        assert_int_equal(tg_token_add(&reg, &t, err, sizeof(err)), -EINVAL);
        assert_int_equal(reg.n_tokens, 1);
        tg_token_registry_clear(&reg);
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
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(serial_comes_before_model),
                cmocka_unit_test(bad_tokens_are_refused),
                cmocka_unit_test_setup_teardown(file_round_trip, setup, teardown),
                cmocka_unit_test_setup_teardown(malformed_files_are_refused, setup, teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
