/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "termguard/json-util.h"

static json_object *parse(const char *text) {
        json_object *o = json_tokener_parse(text);
        assert_non_null(o);
        return o;
}

static void strings(void **state) {
        _cleanup_json_ json_object *o =
                parse("{\"s\":\"abc\",\"n\":null,\"i\":1,\"nul\":\"a\\u0000b\",\"long\":\"abcdefgh\"}");
        char buf[8] = "keep", err[128] = "";
        const char *ref = NULL;
        (void) state;
        assert_int_equal(tg_json_get_string(o, "s", TG_JSON_REQUIRED, buf, sizeof(buf), err, sizeof(err)), 0);
        assert_string_equal(buf, "abc");
        assert_int_equal(tg_json_get_string(o, "missing", TG_JSON_OPTIONAL, buf, sizeof(buf), err, sizeof(err)), 0);
        assert_string_equal(buf, "");
        assert_int_equal(tg_json_get_string(o, "n", TG_JSON_OPTIONAL, buf, sizeof(buf), err, sizeof(err)), 0);
        memcpy(buf, "keep", 5);
        assert_int_equal(tg_json_get_string(o, "missing", TG_JSON_REQUIRED, buf, sizeof(buf), err, sizeof(err)),
                         -EBADMSG);
        assert_string_equal(err, "missing field \"missing\"");
        assert_int_equal(tg_json_get_string(o, "n", TG_JSON_REQUIRED, buf, sizeof(buf), err, sizeof(err)), -EBADMSG);
        assert_int_equal(tg_json_get_string(o, "i", TG_JSON_OPTIONAL, buf, sizeof(buf), err, sizeof(err)), -EBADMSG);
        assert_string_equal(err, "field \"i\" is not a string");
        assert_int_equal(tg_json_get_string(o, "nul", TG_JSON_OPTIONAL, buf, sizeof(buf), err, sizeof(err)), -EBADMSG);
        assert_string_equal(err, "field \"nul\" contains a NUL byte");
        assert_int_equal(tg_json_get_string(o, "long", TG_JSON_OPTIONAL, buf, sizeof(buf), err, sizeof(err)), -EBADMSG);
        assert_string_equal(err, "field \"long\" is too long");
        assert_string_equal(buf, "keep"); /* untouched on failure */
        assert_int_equal(tg_json_get_string_ref(o, "long", TG_JSON_REQUIRED, 8, &ref, NULL, 0), 0);
        assert_string_equal(ref, "abcdefgh");
        assert_int_equal(tg_json_get_string_ref(o, "long", TG_JSON_REQUIRED, 7, &ref, NULL, 0), -EBADMSG);
}

static void integers(void **state) {
        _cleanup_json_ json_object *o = parse("{\"i\":42,\"neg\":-1,\"d\":1.5,\"s\":\"42\",\"b\":true,\"n\":null,"
                                              "\"big\":9223372036854775807,\"huge\":18446744073709551615}");
        int64_t x = 7;
        char err[128];
        (void) state;
        assert_int_equal(tg_json_get_int64(o, "i", TG_JSON_REQUIRED, 0, 100, &x, err, sizeof(err)), 0);
        assert_int_equal(x, 42);
        assert_int_equal(tg_json_get_int64(o, "missing", TG_JSON_OPTIONAL, 0, 100, &x, err, sizeof(err)), 0);
        assert_int_equal(x, 0);
        x = 7;
        assert_int_equal(tg_json_get_int64(o, "i", TG_JSON_REQUIRED, 0, 41, &x, err, sizeof(err)), -EBADMSG);
        assert_string_equal(err, "field \"i\" is out of range");
        assert_int_equal(tg_json_get_int64(o, "neg", TG_JSON_REQUIRED, 0, 41, &x, err, sizeof(err)), -EBADMSG);
        for (const char *const *k = (const char *const[]){"d", "s", "b", "n", NULL}; *k; k++) {
                assert_int_equal(tg_json_get_int64(o, *k, TG_JSON_OPTIONAL, INT64_MIN, INT64_MAX, &x, err, sizeof(err)),
                                 -EBADMSG);
                assert_non_null(strstr(err, "is not an integer"));
        }
        assert_int_equal(tg_json_get_int64(o, "missing", TG_JSON_REQUIRED, 0, 1, &x, err, sizeof(err)), -EBADMSG);
        assert_int_equal(x, 7); /* untouched on failure */
        assert_int_equal(tg_json_get_int64(o, "big", TG_JSON_REQUIRED, 0, INT64_MAX, &x, err, sizeof(err)), 0);
        assert_true(x == INT64_MAX);
        /* beyond int64: json-c would give INT64_MAX */
        assert_int_equal(tg_json_get_int64(o, "huge", TG_JSON_REQUIRED, 0, INT64_MAX, &x, err, sizeof(err)), -EBADMSG);
}

static void booleans(void **state) {
        _cleanup_json_ json_object *o = parse("{\"t\":true,\"f\":false,\"one\":1,\"s\":\"true\",\"n\":null}");
        bool b = true;
        char err[128];
        (void) state;
        assert_int_equal(tg_json_get_bool(o, "t", TG_JSON_REQUIRED, &b, err, sizeof(err)), 0);
        assert_true(b);
        assert_int_equal(tg_json_get_bool(o, "f", TG_JSON_REQUIRED, &b, err, sizeof(err)), 0);
        assert_false(b);
        b = true;
        for (const char *const *k = (const char *const[]){"one", "s", "n", NULL}; *k; k++)
                assert_int_equal(tg_json_get_bool(o, *k, TG_JSON_OPTIONAL, &b, err, sizeof(err)), -EBADMSG);
        assert_true(b);
        assert_int_equal(tg_json_get_bool(o, "missing", TG_JSON_REQUIRED, &b, err, sizeof(err)), -EBADMSG);
        assert_int_equal(tg_json_get_bool(o, "missing", TG_JSON_OPTIONAL, &b, err, sizeof(err)), 0);
        assert_false(b);
}

static void not_an_object(void **state) {
        _cleanup_json_ json_object *a = parse("[1,2]");
        char buf[8], err[128];
        (void) state;
        assert_int_equal(tg_json_get_string(a, "s", TG_JSON_OPTIONAL, buf, sizeof(buf), err, sizeof(err)), -EBADMSG);
        assert_int_equal(tg_json_get_string(NULL, "s", TG_JSON_OPTIONAL, buf, sizeof(buf), err, sizeof(err)), -EBADMSG);
}

static void wipe_string(void **state) {
        _cleanup_json_ json_object *o = parse("{\"secret\":\"3132333435363738\"}");
        json_object *v;
        (void) state;
        tg_json_wipe_string(o, "secret");
        assert_true(json_object_object_get_ex(o, "secret", &v));
        for (int i = 0; i < 16; i++)
                assert_int_equal(json_object_get_string(v)[i], 0);
        tg_json_wipe_string(o, "missing");
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(strings),       cmocka_unit_test(integers),    cmocka_unit_test(booleans),
                cmocka_unit_test(not_an_object), cmocka_unit_test(wipe_string),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
