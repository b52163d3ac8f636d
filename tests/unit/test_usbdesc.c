/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <string.h>

#include <cmocka.h>

#include "termguard/usbdesc.h"
#include "usbdesc_fixtures.h"

static void parses_a_stick(void **state) {
        blob b;
        tg_usb_descriptors d;
        (void) state;
        blob_device(&b, 0x0951, 0x1666, 1);
        blob_config(&b, 1);
        blob_interface(&b, 0, 0, 0x08, 0x06, 0x50);
        assert_int_equal(tg_usb_parse_descriptors(b.buf, b.len, &d), 0);
        assert_int_equal(d.vid, 0x0951);
        assert_int_equal(d.pid, 0x1666);
        assert_int_equal(d.n_interfaces, 1);
        assert_int_equal(d.interfaces[0].cls, 0x08);
        assert_int_equal(d.interfaces[0].config_value, 1);
        assert_int_equal(tg_usb_interface_kind(&d.interfaces[0]), TG_IFACE_STORAGE);
        /* Known answer, computed independently (Python hashlib) over the same bytes. */
        assert_string_equal(d.hash, "606b7471470ef5d525f65e574979ae578dde0f15a5037097289f7ef570657f81");
}

static void parses_composite_and_multiple_configs(void **state) {
        blob b;
        tg_usb_descriptors d;
        (void) state;
        blob_device(&b, 0x1234, 0x5678, 2);
        blob_config(&b, 1);
        blob_interface(&b, 0, 0, 0x03, 0x01, 0x01);
        blob_interface(&b, 1, 0, 0x08, 0x06, 0x50);
        blob_config(&b, 2);
        blob_interface(&b, 0, 0, 0xff, 0xff, 0x00);
        assert_int_equal(tg_usb_parse_descriptors(b.buf, b.len, &d), 0);
        assert_int_equal(d.n_interfaces, 3);
        assert_int_equal(d.interfaces[1].number, 1);
        assert_int_equal(d.interfaces[2].config_value, 2);
        assert_int_equal(tg_usb_interface_kind(&d.interfaces[2]), TG_IFACE_STILL_IMAGE);
}

static void hash_identifies_the_blob(void **state) {
        blob a, b;
        tg_usb_descriptors da, db;
        (void) state;
        blob_device(&a, 0x0951, 0x1666, 1);
        blob_config(&a, 1);
        blob_interface(&a, 0, 0, 0x08, 0x06, 0x50);
        b = a;
        b.buf[13] ^= 1; /* bcdDevice differs */
        assert_int_equal(tg_usb_parse_descriptors(a.buf, a.len, &da), 0);
        assert_int_equal(tg_usb_parse_descriptors(b.buf, b.len, &db), 0);
        assert_string_not_equal(da.hash, db.hash);
}

static void rejects_malformed(void **state) {
        blob b;
        tg_usb_descriptors d;
        (void) state;

        blob_device(&b, 1, 2, 1);
        assert_int_equal(tg_usb_parse_descriptors(b.buf, 10, &d), -EBADMSG); /* truncated device */
        b.buf[1] = 2;
        assert_int_equal(tg_usb_parse_descriptors(b.buf, b.len, &d), -EBADMSG); /* wrong type */

        blob_device(&b, 1, 2, 1);
        blob_config(&b, 1);
        blob_interface(&b, 0, 0, 8, 6, 0x50);
        b.buf[b.cfg_start + 2] = 0xff; /* wTotalLength overruns the blob */
        assert_int_equal(tg_usb_parse_descriptors(b.buf, b.len, &d), -EBADMSG);

        blob_device(&b, 1, 2, 1);
        blob_config(&b, 1);
        blob_interface(&b, 0, 0, 8, 6, 0x50);
        b.buf[b.cfg_start + 9] = 0; /* zero-length descriptor would loop forever */
        assert_int_equal(tg_usb_parse_descriptors(b.buf, b.len, &d), -EBADMSG);

        blob_device(&b, 1, 2, 1);
        blob_config(&b, 1);
        blob_interface(&b, 0, 0, 8, 6, 0x50);
        b.buf[b.cfg_start + 9] = 200; /* descriptor longer than its config */
        assert_int_equal(tg_usb_parse_descriptors(b.buf, b.len, &d), -EBADMSG);

        blob_device(&b, 1, 2, 1);
        blob_config(&b, 1);
        blob_interface(&b, 0, 0, 8, 6, 0x50);
        b.buf[b.cfg_start + 9] = 5; /* interface descriptor too short */
        b.buf[b.cfg_start + 9 + 5] = 4;
        assert_int_equal(tg_usb_parse_descriptors(b.buf, b.len, &d), -EBADMSG);

        blob_device(&b, 1, 2, 99); /* claims too many configs */
        assert_int_equal(tg_usb_parse_descriptors(b.buf, b.len, &d), -EBADMSG);

        assert_int_equal(tg_usb_parse_descriptors(NULL, 0, &d), -EINVAL);
}

static void rejects_too_many_interfaces(void **state) {
        blob b;
        tg_usb_descriptors d;
        (void) state;
        blob_device(&b, 1, 2, 1);
        blob_config(&b, 1);
        for (int i = 0; i < TG_USB_MAX_INTERFACES + 1; i++)
                blob_interface(&b, (uint8_t) i, 0, 3, 0, 0);
        assert_int_equal(tg_usb_parse_descriptors(b.buf, b.len, &d), -EBADMSG);
}

static void fuzz_never_overreads(void **state) {
        blob b;
        tg_usb_descriptors d;
        uint32_t x = 12345;
        (void) state;
        /* Random corruption of a valid blob: must return 0 or -EBADMSG, never crash (ASan). */
        for (int round = 0; round < 20000; round++) {
                blob_device(&b, 1, 2, 1);
                blob_config(&b, 1);
                blob_interface(&b, 0, 0, 3, 1, 1);
                blob_interface(&b, 1, 0, 8, 6, 0x50);
                for (int k = 0; k < 3; k++) {
                        x = x * 1103515245u + 12345u;
                        b.buf[(x >> 8) % b.len] = (uint8_t) (x >> 16);
                }
                x = x * 1103515245u + 12345u;
                size_t len = (x >> 8) % (b.len + 1);
                int r = tg_usb_parse_descriptors(b.buf, len, &d);
                assert_true(r == 0 || r == -EBADMSG);
        }
}

static void class_names_round_trip(void **state) {
        uint8_t c;
        (void) state;
        assert_int_equal(tg_usb_class_from_string("hid", &c), 0);
        assert_int_equal(c, 3);
        assert_int_equal(tg_usb_class_from_string("0x0b", &c), 0);
        assert_int_equal(c, 0x0b);
        assert_int_equal(tg_usb_class_from_string("e0", &c), 0);
        assert_int_equal(c, 0xe0);
        assert_int_equal(tg_usb_class_from_string("100", &c), -EINVAL);
        assert_int_equal(tg_usb_class_from_string("keyboard", &c), -EINVAL);
        assert_int_equal(tg_usb_class_from_string("", &c), -EINVAL);
        assert_string_equal(tg_usb_class_name(8), "mass-storage");
}

/* The degraded mode's rule: HID boot keyboards and mice only, every interface of every
 * configuration and alternate setting. */
static void boot_hid_only(void **state) {
        static const struct {
                uint8_t cls, subclass, protocol, cls2;
                int n_ifaces;
                bool want;
        } cases[] = {
                {0x03, 0x01, 0x01, 0, 1, true},     /* boot keyboard */
                {0x03, 0x01, 0x02, 0, 1, true},     /* boot mouse */
                {0x03, 0x01, 0x01, 0x03, 2, true},  /* keyboard + its boot mouse */
                {0x03, 0x00, 0x00, 0, 1, false},    /* HID, not boot: a vendor device, a FIDO key */
                {0x03, 0x01, 0x00, 0, 1, false},    /* boot subclass, no boot protocol */
                {0x03, 0x01, 0x03, 0, 1, false},    /* reserved protocol */
                {0x08, 0x06, 0x50, 0, 1, false},    /* storage */
                {0x03, 0x01, 0x01, 0x08, 2, false}, /* keyboard with storage behind it */
                {0x09, 0x00, 0x00, 0, 1, false},    /* hub */
        };
        (void) state;
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                blob b;
                tg_usb_descriptors d;
                blob_device(&b, 0x046d, 0xc31c, 1);
                blob_config(&b, 1);
                blob_interface(&b, 0, 0, cases[i].cls, cases[i].subclass, cases[i].protocol);
                if (cases[i].n_ifaces == 2)
                        blob_interface(&b, 1, 0, cases[i].cls2, cases[i].cls2 == 0x03 ? 0x01 : 0x06,
                                       cases[i].cls2 == 0x03 ? 0x02 : 0x50);
                assert_int_equal(tg_usb_parse_descriptors(b.buf, b.len, &d), 0);
                if (tg_usb_is_boot_hid(&d) != cases[i].want)
                        fail_msg("case %zu", i);
        }
}

/* A keyboard whose alternate setting or second configuration is storage is not a keyboard. */
static void boot_hid_every_alt_and_config(void **state) {
        blob b;
        tg_usb_descriptors d;
        (void) state;
        blob_device(&b, 0x046d, 0xc31c, 1);
        blob_config(&b, 1);
        blob_interface(&b, 0, 0, 0x03, 0x01, 0x01);
        blob_interface(&b, 0, 1, 0x08, 0x06, 0x50);
        assert_int_equal(tg_usb_parse_descriptors(b.buf, b.len, &d), 0);
        assert_false(tg_usb_is_boot_hid(&d));

        blob_device(&b, 0x046d, 0xc31c, 2);
        blob_config(&b, 1);
        blob_interface(&b, 0, 0, 0x03, 0x01, 0x01);
        blob_config(&b, 2);
        blob_interface(&b, 0, 0, 0xff, 0xff, 0x00);
        assert_int_equal(tg_usb_parse_descriptors(b.buf, b.len, &d), 0);
        assert_false(tg_usb_is_boot_hid(&d));

        /* No interface at all: nothing to admit. */
        blob_device(&b, 0x046d, 0xc31c, 1);
        blob_config(&b, 1);
        assert_int_equal(tg_usb_parse_descriptors(b.buf, b.len, &d), 0);
        assert_false(tg_usb_is_boot_hid(&d));
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(parses_a_stick),
                cmocka_unit_test(parses_composite_and_multiple_configs),
                cmocka_unit_test(hash_identifies_the_blob),
                cmocka_unit_test(rejects_malformed),
                cmocka_unit_test(rejects_too_many_interfaces),
                cmocka_unit_test(fuzz_never_overreads),
                cmocka_unit_test(class_names_round_trip),
                cmocka_unit_test(boot_hid_only),
                cmocka_unit_test(boot_hid_every_alt_and_config),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
