/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What termguardd tells a session helper (lib/notice.c) and the markup escaping of the body. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "termguard/escape.h"
#include "termguard/notice.h"

static void round_trip(const tg_notice *n, const char *want_line) {
        char *line = NULL, err[256];
        tg_notice back;

        assert_int_equal(tg_notice_encode(n, &line), 0);
        if (want_line)
                assert_string_equal(line, want_line);
        assert_int_equal(tg_notice_decode(line, strlen(line), &back, err, sizeof(err)), 0);
        assert_int_equal(back.kind, n->kind);
        assert_string_equal(back.device, n->device);
        assert_string_equal(back.label, n->label);
        assert_int_equal(back.seconds, n->seconds);
        assert_int_equal(back.until, n->until);
        assert_int_equal(back.dropped, n->dropped);
        free(line);
}

static void every_kind_round_trips(void **state) {
        tg_notice n = {.kind = TG_NOTICE_STORAGE_BLOCKED};
        (void) state;

        tg_notice_set_device(&n, "DataTraveler", 0x0951, 0x1666);
        assert_string_equal(n.device, "DataTraveler (0951:1666)");
        round_trip(&n, "{\"notice\":\"storage-blocked\",\"device\":\"DataTraveler (0951:1666)\"}\n");
        n.kind = TG_NOTICE_STORAGE_READ_ONLY;
        snprintf(n.label, sizeof(n.label), "総務課USB-01");
        n.dropped = 3;
        round_trip(&n, NULL);
        n = (tg_notice){.kind = TG_NOTICE_EXCEPTION_ENDING, .seconds = 120, .until = 1800000000};
        snprintf(n.label, sizeof(n.label), "USB-KEIRI-01");
        round_trip(&n, "{\"notice\":\"exception-ending\",\"label\":\"USB-KEIRI-01\",\"seconds\":120,"
                       "\"until\":1800000000}\n");
        n = (tg_notice){.kind = TG_NOTICE_IDLE_WARNING, .seconds = 30};
        round_trip(&n, "{\"notice\":\"idle-warning\",\"seconds\":30}\n");
        n = (tg_notice){.kind = TG_NOTICE_LOGOFF_WARNING, .seconds = 120};
        round_trip(&n, "{\"notice\":\"logoff-warning\",\"seconds\":120}\n");
        n.seconds = 0; /* LogoffGrace=0: logged off at once, told all the same */
        round_trip(&n, "{\"notice\":\"logoff-warning\",\"seconds\":0}\n");
}

static void device_text_is_bounded_whole(void **state) {
        char name[600];
        tg_notice n = {.kind = TG_NOTICE_STORAGE_BLOCKED};
        (void) state;

        /* three-byte characters: the cut may not split one */
        name[0] = '\0';
        for (int i = 0; i < 150; i++)
                strcat(name, "総");
        tg_notice_set_device(&n, name, 0xabcd, 0x0001);
        assert_true(strlen(n.device) <= TG_NOTICE_DEVICE_MAX);
        assert_true(tg_text_is_escaped(n.device, strlen(n.device)));
        assert_non_null(strstr(n.device, "… (abcd:0001)"));
        round_trip(&n, NULL);
        tg_notice_set_device(&n, "", 0x0951, 0x1666);
        assert_string_equal(n.device, "0951:1666");
}

static void bad_notices_are_refused(void **state) {
        static const char *const bad[] = {
                "",
                "not json",
                "[1]",
                "{\"notice\":\"format-disk\"}",
                "{\"notice\":\"storage-blocked\"}",                                /* device missing */
                "{\"notice\":\"storage-blocked\",\"device\":\"\"}",                /* empty */
                "{\"notice\":\"storage-blocked\",\"device\":\"a\\nb\"}",           /* a control character */
                "{\"notice\":\"storage-blocked\",\"device\":\"a\\u001b[31m\"}",    /* escape sequence */
                "{\"notice\":\"storage-blocked\",\"device\":\"\\u202egnp.exe\"}",  /* bidi override */
                "{\"notice\":\"storage-blocked\",\"device\":\"x\",\"seconds\":5}", /* not a field of the kind */
                "{\"notice\":\"idle-warning\",\"seconds\":-1}",                    /* out of range */
                "{\"notice\":\"idle-warning\",\"seconds\":604801}",                /* out of range */
                "{\"notice\":\"idle-warning\",\"seconds\":\"30\"}",                /* mistyped */
                "{\"notice\":\"idle-warning\",\"seconds\":30,\"dropped\":-2}",     /* out of range */
                "{\"notice\":\"exception-ending\",\"seconds\":30,\"until\":5}",    /* label missing */
                "{\"notice\":\"logoff-warning\"}",                                 /* seconds missing */
                "{\"notice\":\"logoff-warning\",\"seconds\":604801}",              /* out of range */
                "{\"notice\":\"logoff-warning\",\"seconds\":9,\"device\":\"x\"}",  /* not a field of the kind */
                "{\"notice\":\"idle-warning\",\"seconds\":30}\n{\"notice\":\"idle-warning\",\"seconds\":1}",
                "{\"notice\":\"idle-warning\",\"seconds\":30} trailing",
        };
        tg_notice n = {.kind = TG_NOTICE_IDLE_WARNING, .seconds = 9};
        char err[256], longdev[TG_NOTICE_DEVICE_MAX + 40], line[TG_NOTICE_DEVICE_MAX + 100];
        (void) state;

        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                tg_notice out = n;
                err[0] = '\0';
                if (tg_notice_decode(bad[i], strlen(bad[i]), &out, err, sizeof(err)) != -EBADMSG)
                        fail_msg("accepted: %s", bad[i]);
                assert_true(err[0] != '\0');
                assert_int_equal(out.seconds, 9); /* untouched */
        }
        memset(longdev, 'x', sizeof(longdev) - 1);
        longdev[sizeof(longdev) - 1] = '\0';
        snprintf(line, sizeof(line), "{\"notice\":\"storage-blocked\",\"device\":\"%s\"}", longdev);
        assert_int_equal(tg_notice_decode(line, strlen(line), &n, err, sizeof(err)), -EBADMSG);
}

static void encode_refuses_what_decode_would(void **state) {
        tg_notice n = {.kind = TG_NOTICE_STORAGE_BLOCKED};
        char *line = NULL;
        (void) state;

        assert_int_equal(tg_notice_encode(&n, &line), -EINVAL); /* no device */
        snprintf(n.device, sizeof(n.device), "bad\x1b[2J");
        assert_int_equal(tg_notice_encode(&n, &line), -EINVAL);
        n = (tg_notice){.kind = TG_NOTICE_IDLE_WARNING, .seconds = TG_NOTICE_SECONDS_MAX + 1};
        assert_int_equal(tg_notice_encode(&n, &line), -EINVAL);
        n = (tg_notice){.kind = TG_NOTICE_LOGOFF_WARNING, .seconds = -1};
        assert_int_equal(tg_notice_encode(&n, &line), -EINVAL);
        n.kind = _TG_NOTICE_KIND_MAX;
        assert_int_equal(tg_notice_encode(&n, &line), -EINVAL);
        assert_null(line);
}

static void markup_is_escaped(void **state) {
        char out[64];
        (void) state;

        assert_string_equal(tg_escape_markup("<b>Evil</b> & \"co\" 総務", out, sizeof(out)),
                            "&lt;b&gt;Evil&lt;/b&gt; &amp; \"co\" 総務");
        assert_string_equal(tg_escape_markup("&amp;", out, sizeof(out)), "&amp;amp;");
        /* cut at a whole entity or character, never inside one */
        assert_string_equal(tg_escape_markup("ab<cd", out, 6), "ab");
        assert_string_equal(tg_escape_markup("a総", out, 4), "a");
        assert_string_equal(tg_escape_markup(NULL, out, sizeof(out)), "");
        assert_string_equal(tg_escape_markup("x", out, 1), "");
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(every_kind_round_trips),  cmocka_unit_test(device_text_is_bounded_whole),
                cmocka_unit_test(bad_notices_are_refused), cmocka_unit_test(encode_refuses_what_decode_would),
                cmocka_unit_test(markup_is_escaped),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
