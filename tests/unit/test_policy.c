/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "termguard/policy.h"
#include "usbdesc_fixtures.h"

#define NOW 1800000000LL

typedef struct {
        tg_usb_policy policy;
        tg_register reg;
        tg_token_registry tokens;
} fixture;

/* Models of RawAccess=, added to the token registry as termguardd does when it loads. */
static void allow_models(fixture *f, const char *text) {
        tg_token_list l = {0};
        char err[256];
        assert_int_equal(tg_token_list_extend(&l, text), 0);
        assert_int_equal(tg_token_registry_add_models(&f->tokens, &l, err, sizeof(err)), 0);
}

static int setup(void **state) {
        static fixture f;
        tg_medium m = {.vid = 0x0951, .pid = 0x1666, .mode = TG_MODE_READ_ONLY};
        tg_medium rw = {.vid = 0x0951, .pid = 0x1666, .mode = TG_MODE_READ_WRITE};
        tg_medium bl = {.vid = 0x0951, .pid = 0x1666, .mode = TG_MODE_BLOCKED};
        char err[256];

        memset(&f, 0, sizeof(f));
        tg_register_clear(&f.reg);
        tg_usb_policy_default(&f.policy);
        strcpy(m.label, "ro-stick");
        strcpy(m.serial, "RO1");
        strcpy(rw.label, "rw-stick");
        strcpy(rw.serial, "RW1");
        strcpy(bl.label, "bad-stick");
        strcpy(bl.serial, "BL1");
        assert_int_equal(tg_register_add_medium(&f.reg, &m, err, sizeof(err)), 0);
        assert_int_equal(tg_register_add_medium(&f.reg, &rw, err, sizeof(err)), 0);
        assert_int_equal(tg_register_add_medium(&f.reg, &bl, err, sizeof(err)), 0);
        *state = &f;
        return 0;
}

static int teardown(void **state) {
        fixture *f = *state;
        tg_register_clear(&f->reg);
        tg_token_registry_clear(&f->tokens);
        return 0;
}

static tg_usb_descriptors stick(void) {
        blob b;
        tg_usb_descriptors d;
        blob_device(&b, 0x0951, 0x1666, 1);
        blob_config(&b, 1);
        blob_interface(&b, 0, 0, 0x08, 0x06, 0x50);
        assert_int_equal(tg_usb_parse_descriptors(b.buf, b.len, &d), 0);
        return d;
}

static void unregistered_storage_is_blocked(void **state) {
        fixture *f = *state;
        tg_usb_descriptors d = stick();
        tg_decision dec;
        tg_usb_decide(&f->policy, &f->reg, &f->tokens, &d, "UNKNOWN", NULL, NOW, &dec);
        assert_false(dec.authorize_device);
        assert_false(dec.ifaces[0].allow);
        assert_non_null(strstr(dec.reason, "not in the media register"));
        /* no serial: never matches */
        tg_usb_decide(&f->policy, &f->reg, &f->tokens, &d, NULL, NULL, NOW, &dec);
        assert_false(dec.authorize_device);
        tg_usb_decide(&f->policy, &f->reg, &f->tokens, &d, "", NULL, NOW, &dec);
        assert_false(dec.authorize_device);
}

static void match_needs_vid_pid_and_serial(void **state) {
        fixture *f = *state;
        tg_usb_descriptors d = stick();
        tg_decision dec;
        d.pid = 0x1667; /* same serial, other product */
        tg_usb_decide(&f->policy, &f->reg, &f->tokens, &d, "RO1", NULL, NOW, &dec);
        assert_false(dec.authorize_device);
        d = stick();
        tg_usb_decide(&f->policy, &f->reg, &f->tokens, &d, "ro1", NULL, NOW, &dec); /* serials are exact */
        assert_false(dec.authorize_device);
}

static void registered_modes(void **state) {
        fixture *f = *state;
        tg_usb_descriptors d = stick();
        tg_decision dec;

        tg_usb_decide(&f->policy, &f->reg, &f->tokens, &d, "RO1", NULL, NOW, &dec);
        assert_true(dec.authorize_device);
        assert_int_equal(dec.storage_mode, TG_MODE_READ_ONLY);
        assert_string_equal(dec.label, "ro-stick");

        tg_usb_decide(&f->policy, &f->reg, &f->tokens, &d, "RW1", NULL, NOW, &dec);
        assert_true(dec.authorize_device);
        assert_int_equal(dec.storage_mode, TG_MODE_READ_WRITE);

        tg_usb_decide(&f->policy, &f->reg, &f->tokens, &d, "BL1", NULL, NOW, &dec);
        assert_false(dec.authorize_device);
}

static void exception_opens_writing_until_expiry(void **state) {
        fixture *f = *state;
        tg_usb_descriptors d = stick();
        tg_decision dec;
        tg_exception e = {.until = NOW + 3600};
        uint64_t id;
        char err[256];

        strcpy(e.label, "ro-stick");
        strcpy(e.approver, "CISO");
        strcpy(e.reason, "minutes");
        assert_int_equal(tg_register_add_exception(&f->reg, &e, NOW, 86400, &id, err, sizeof(err)), 0);
        tg_usb_decide(&f->policy, &f->reg, &f->tokens, &d, "RO1", NULL, NOW, &dec);
        assert_int_equal(dec.storage_mode, TG_MODE_READ_WRITE);
        assert_int_equal(dec.exception_id, id);
        assert_int_equal(tg_register_next_expiry(&f->reg, NOW), NOW + 3600);

        /* at and after the expiry instant it no longer applies */
        tg_usb_decide(&f->policy, &f->reg, &f->tokens, &d, "RO1", NULL, NOW + 3600, &dec);
        assert_int_equal(dec.storage_mode, TG_MODE_READ_ONLY);
        assert_int_equal(dec.exception_id, 0);
        assert_int_equal(tg_register_next_expiry(&f->reg, NOW + 3600), 0);

        /* revoked: gone at once */
        assert_int_equal(tg_register_revoke_exception(&f->reg, id, "admin", NOW + 10), 0);
        tg_usb_decide(&f->policy, &f->reg, &f->tokens, &d, "RO1", NULL, NOW + 11, &dec);
        assert_int_equal(dec.storage_mode, TG_MODE_READ_ONLY);
        assert_int_equal(tg_register_revoke_exception(&f->reg, id, "admin", NOW + 12), -EALREADY);
}

static void setting_the_clock_back_revives_nothing(void **state) {
        fixture *f = *state;
        tg_usb_descriptors d = stick();
        tg_decision dec;
        tg_exception e = {.until = NOW + 7 * 86400, .granted_at = NOW};
        char err[256];
        strcpy(e.label, "ro-stick");
        strcpy(e.approver, "CISO");
        strcpy(e.reason, "a week");
        assert_int_equal(tg_register_add_exception(&f->reg, &e, NOW, 30 * 86400, NULL, err, sizeof(err)), 0);
        /* a week later the exception has expired; termguard saw that time */
        assert_false(tg_register_observe_clock(&f->reg, NOW + 8 * 86400));
        /* the clock is set back into the week of the exception */
        assert_true(tg_register_observe_clock(&f->reg, NOW + 3 * 86400));
        tg_usb_decide(&f->policy, &f->reg, &f->tokens, &d, "RO1", NULL, NOW + 3 * 86400, &dec);
        assert_int_equal(dec.storage_mode, TG_MODE_READ_ONLY);
        /* small adjustments within the tolerance are not a rollback */
        assert_false(tg_register_observe_clock(&f->reg, NOW + 8 * 86400 - 60));
}

static void exception_does_not_apply_before_its_grant(void **state) {
        fixture *f = *state;
        tg_usb_descriptors d = stick();
        tg_decision dec;
        tg_exception e = {.until = NOW + 86400, .granted_at = NOW};
        char err[256];
        strcpy(e.label, "ro-stick");
        strcpy(e.approver, "CISO");
        strcpy(e.reason, "x");
        assert_int_equal(tg_register_add_exception(&f->reg, &e, NOW, 30 * 86400, NULL, err, sizeof(err)), 0);
        tg_usb_decide(&f->policy, &f->reg, &f->tokens, &d, "RO1", NULL, NOW - 3600, &dec);
        assert_int_equal(dec.storage_mode, TG_MODE_READ_ONLY);
        tg_usb_decide(&f->policy, &f->reg, &f->tokens, &d, "RO1", NULL, NOW + 10, &dec);
        assert_int_equal(dec.storage_mode, TG_MODE_READ_WRITE);
}

static void exception_never_unblocks_a_blocked_medium(void **state) {
        fixture *f = *state;
        tg_usb_descriptors d = stick();
        tg_decision dec;
        tg_exception e = {.until = NOW + 3600};
        char err[256];
        strcpy(e.label, "bad-stick");
        strcpy(e.approver, "CISO");
        strcpy(e.reason, "x");
        assert_int_equal(tg_register_add_exception(&f->reg, &e, NOW, 86400, NULL, err, sizeof(err)), 0);
        tg_usb_decide(&f->policy, &f->reg, &f->tokens, &d, "BL1", NULL, NOW, &dec);
        assert_false(dec.authorize_device);
}

static void per_user_exception(void **state) {
        fixture *f = *state;
        tg_usb_descriptors d = stick();
        tg_decision dec;
        tg_exception e = {.until = NOW + 3600};
        char err[256];
        strcpy(e.label, "ro-stick");
        strcpy(e.approver, "CISO");
        strcpy(e.reason, "x");
        strcpy(e.user, "tanaka");
        assert_int_equal(tg_register_add_exception(&f->reg, &e, NOW, 86400, NULL, err, sizeof(err)), 0);
        tg_usb_decide(&f->policy, &f->reg, &f->tokens, &d, "RO1", "tanaka", NOW, &dec);
        assert_int_equal(dec.storage_mode, TG_MODE_READ_WRITE);
        tg_usb_decide(&f->policy, &f->reg, &f->tokens, &d, "RO1", "suzuki", NOW, &dec);
        assert_int_equal(dec.storage_mode, TG_MODE_READ_ONLY);
        tg_usb_decide(&f->policy, &f->reg, &f->tokens, &d, "RO1", NULL, NOW, &dec);
        assert_int_equal(dec.storage_mode, TG_MODE_READ_ONLY);
}

static void composite_gets_exactly_allowed_interfaces(void **state) {
        fixture *f = *state;
        blob b;
        tg_usb_descriptors d;
        tg_decision dec;
        blob_device(&b, 0x1234, 0x0001, 1);
        blob_config(&b, 1);
        blob_interface(&b, 0, 0, 0x08, 0x06, 0x50);
        blob_interface(&b, 1, 0, 0x03, 0x01, 0x01);
        blob_interface(&b, 2, 0, 0xe0, 0x01, 0x01); /* wireless: not allowed by default */
        assert_int_equal(tg_usb_parse_descriptors(b.buf, b.len, &d), 0);
        tg_usb_decide(&f->policy, &f->reg, &f->tokens, &d, "X", NULL, NOW, &dec);
        assert_true(dec.authorize_device);
        assert_false(tg_decision_iface(&dec, 1, 0)->allow);
        assert_true(tg_decision_iface(&dec, 1, 1)->allow);
        assert_false(tg_decision_iface(&dec, 1, 2)->allow);
        assert_null(tg_decision_iface(&dec, 1, 3)); /* undeclared interface never passes */
        assert_null(tg_decision_iface(&dec, 2, 1));
}

static void altsetting_switching_class_is_denied(void **state) {
        fixture *f = *state;
        blob b;
        tg_usb_descriptors d;
        tg_decision dec;
        blob_device(&b, 0x1234, 0x0001, 1);
        blob_config(&b, 1);
        blob_interface(&b, 0, 0, 0x03, 0x01, 0x01);
        blob_interface(&b, 0, 1, 0x08, 0x06, 0x50); /* same interface, altsetting 1 is storage */
        assert_int_equal(tg_usb_parse_descriptors(b.buf, b.len, &d), 0);
        tg_usb_decide(&f->policy, &f->reg, &f->tokens, &d, "X", NULL, NOW, &dec);
        assert_false(tg_decision_iface(&dec, 1, 0)->allow);
        assert_false(dec.authorize_device);
}

static void mtp_and_ptp(void **state) {
        fixture *f = *state;
        blob b;
        tg_usb_descriptors d;
        tg_decision dec;
        blob_device(&b, 0x0951, 0x1666, 1);
        blob_config(&b, 1);
        blob_interface(&b, 0, 0, 0xff, 0xff, 0x00); /* Android MTP */
        assert_int_equal(tg_usb_parse_descriptors(b.buf, b.len, &d), 0);
        tg_usb_decide(&f->policy, &f->reg, &f->tokens, &d, "UNREG", NULL, NOW, &dec);
        assert_false(dec.authorize_device);
        assert_true(dec.has_storage);
        /* read-only cannot be enforced on MTP: blocked even when registered read-only */
        tg_usb_decide(&f->policy, &f->reg, &f->tokens, &d, "RO1", NULL, NOW, &dec);
        assert_false(dec.authorize_device);
        tg_usb_decide(&f->policy, &f->reg, &f->tokens, &d, "RW1", NULL, NOW, &dec);
        assert_true(dec.authorize_device);

        blob_device(&b, 0x04a9, 0x0001, 1);
        blob_config(&b, 1);
        blob_interface(&b, 0, 0, 0x06, 0x01, 0x01); /* PTP camera */
        assert_int_equal(tg_usb_parse_descriptors(b.buf, b.len, &d), 0);
        tg_usb_decide(&f->policy, &f->reg, &f->tokens, &d, "CAM", NULL, NOW, &dec);
        assert_false(dec.authorize_device);
}

static void keyboard_and_hub_pass(void **state) {
        fixture *f = *state;
        blob b;
        tg_usb_descriptors d;
        tg_decision dec;
        blob_device(&b, 0x046d, 0xc31c, 1);
        blob_config(&b, 1);
        blob_interface(&b, 0, 0, 0x03, 0x01, 0x01);
        assert_int_equal(tg_usb_parse_descriptors(b.buf, b.len, &d), 0);
        tg_usb_decide(&f->policy, &f->reg, &f->tokens, &d, NULL, NULL, NOW, &dec);
        assert_true(dec.authorize_device);
        assert_false(dec.has_storage);

        f->policy.allow_class[0x03] = false; /* policy removes HID */
        tg_usb_decide(&f->policy, &f->reg, &f->tokens, &d, NULL, NULL, NOW, &dec);
        assert_false(dec.authorize_device);
}

static void decision_equality_ignores_exception_identity(void **state) {
        fixture *f = *state;
        tg_usb_descriptors d = stick();
        tg_decision a, b;
        (void) f;
        tg_usb_decide(&f->policy, &f->reg, &f->tokens, &d, "RW1", NULL, NOW, &a);
        b = a;
        b.exception_id = 7;
        assert_true(tg_decision_equal(&a, &b));
        b.storage_mode = TG_MODE_READ_ONLY;
        assert_false(tg_decision_equal(&a, &b));
}

/* A device with one interface of class cls, subclass sub, protocol proto. */
static tg_usb_descriptors single(uint16_t vid, uint16_t pid, uint8_t cls, uint8_t sub, uint8_t proto) {
        blob b;
        tg_usb_descriptors d;
        blob_device(&b, vid, pid, 1);
        blob_config(&b, 1);
        blob_interface(&b, 0, 0, cls, sub, proto);
        assert_int_equal(tg_usb_parse_descriptors(b.buf, b.len, &d), 0);
        return d;
}

static void raw_access_only_for_allowed_models(void **state) {
        fixture *f = *state;
        tg_usb_descriptors reader = single(0x04e6, 0x5116, 0x0b, 0x00, 0x00);
        tg_usb_descriptors fido = single(0x1050, 0x0407, 0x03, 0x00, 0x00);
        tg_decision dec;

        /* Allowed classes pass, but their raw nodes are not the seat user's by default. */
        tg_usb_decide(&f->policy, &f->reg, &f->tokens, &reader, "R1", NULL, NOW, &dec);
        assert_true(dec.authorize_device);
        assert_false(dec.raw_access);
        tg_usb_decide(&f->policy, &f->reg, &f->tokens, &fido, "K1", NULL, NOW, &dec);
        assert_false(dec.raw_access);

        allow_models(f, "04e6:5116 1050:0407/K1");
        tg_usb_decide(&f->policy, &f->reg, &f->tokens, &reader, "R1", NULL, NOW, &dec);
        assert_true(dec.raw_access);
        tg_usb_decide(&f->policy, &f->reg, &f->tokens, &reader, NULL, NULL, NOW, &dec);
        assert_true(dec.raw_access);
        tg_usb_decide(&f->policy, &f->reg, &f->tokens, &fido, "K1", NULL, NOW, &dec);
        assert_true(dec.raw_access);
        tg_usb_decide(&f->policy, &f->reg, &f->tokens, &fido, "K2", NULL, NOW, &dec); /* another key of the model */
        assert_false(dec.raw_access);

        /* A key registered with an owner (termguardctl token add) is in the same registry. */
        tg_token k2 = {.kind = TG_TOKEN_SECURITY_KEY, .vid = 0x1050, .pid = 0x0407};
        char err[256];
        strcpy(k2.label, "key-suzuki");
        strcpy(k2.serial, "K2");
        strcpy(k2.owner, "suzuki");
        assert_int_equal(tg_token_add(&f->tokens, &k2, err, sizeof(err)), 0);
        tg_usb_decide(&f->policy, &f->reg, &f->tokens, &fido, "K2", NULL, NOW, &dec);
        assert_true(dec.raw_access);
        tg_usb_decide(&f->policy, &f->reg, &f->tokens, &fido, "K3", NULL, NOW, &dec);
        assert_false(dec.raw_access);
        tg_usb_decide(&f->policy, &f->reg, NULL, &fido, "K2", NULL, NOW, &dec); /* no registry */
        assert_false(dec.raw_access);

        /* An allowed model whose class the policy no longer allows: blocked, no raw access. */
        f->policy.allow_class[0x0b] = false;
        tg_usb_decide(&f->policy, &f->reg, &f->tokens, &reader, "R1", NULL, NOW, &dec);
        assert_false(dec.authorize_device);
        assert_false(dec.raw_access);
}

static void raw_access_never_reaches_storage_that_is_not_read_write(void **state) {
        fixture *f = *state;
        blob b;
        tg_usb_descriptors d = stick();
        tg_decision dec;

        /* Even when the model is allowed: usbfs would reach the storage interface. */
        allow_models(f, "0951:1666");
        tg_usb_decide(&f->policy, &f->reg, &f->tokens, &d, "RO1", NULL, NOW, &dec);
        assert_true(dec.authorize_device);
        assert_false(dec.raw_access);
        tg_usb_decide(&f->policy, &f->reg, &f->tokens, &d, "UNREG", NULL, NOW, &dec);
        assert_false(dec.raw_access);
        tg_usb_decide(&f->policy, &f->reg, &f->tokens, &d, "BL1", NULL, NOW, &dec);
        assert_false(dec.raw_access);
        /* Read-write storage: nothing more to keep from the user (MTP works from user space). */
        tg_usb_decide(&f->policy, &f->reg, &f->tokens, &d, "RW1", NULL, NOW, &dec);
        assert_true(dec.raw_access);

        /* A registered read-only stick's clone with one more interface, a smart-card reader. */
        blob_device(&b, 0x0951, 0x1666, 1);
        blob_config(&b, 2);
        blob_interface(&b, 0, 0, 0x08, 0x06, 0x50);
        blob_interface(&b, 1, 0, 0x0b, 0x00, 0x00);
        assert_int_equal(tg_usb_parse_descriptors(b.buf, b.len, &d), 0);
        tg_usb_decide(&f->policy, &f->reg, &f->tokens, &d, "RO1", NULL, NOW, &dec);
        assert_true(dec.authorize_device);
        assert_false(dec.raw_access);

        /* A blocked PTP camera: its control endpoint stays root's. */
        d = single(0x04a9, 0x0001, 0x06, 0x01, 0x01);
        tg_usb_decide(&f->policy, &f->reg, &f->tokens, &d, "CAM", NULL, NOW, &dec);
        assert_false(dec.raw_access);
}

static void raw_access_change_is_a_new_decision(void **state) {
        fixture *f = *state;
        tg_usb_descriptors reader = single(0x04e6, 0x5116, 0x0b, 0x00, 0x00);
        tg_decision a, b;

        tg_usb_decide(&f->policy, &f->reg, &f->tokens, &reader, "R1", NULL, NOW, &a);
        allow_models(f, "04e6:5116");
        tg_usb_decide(&f->policy, &f->reg, &f->tokens, &reader, "R1", NULL, NOW, &b);
        assert_false(tg_decision_equal(&a, &b));
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(unregistered_storage_is_blocked, setup, teardown),
                cmocka_unit_test_setup_teardown(match_needs_vid_pid_and_serial, setup, teardown),
                cmocka_unit_test_setup_teardown(registered_modes, setup, teardown),
                cmocka_unit_test_setup_teardown(exception_opens_writing_until_expiry, setup, teardown),
                cmocka_unit_test_setup_teardown(exception_never_unblocks_a_blocked_medium, setup, teardown),
                cmocka_unit_test_setup_teardown(setting_the_clock_back_revives_nothing, setup, teardown),
                cmocka_unit_test_setup_teardown(exception_does_not_apply_before_its_grant, setup, teardown),
                cmocka_unit_test_setup_teardown(per_user_exception, setup, teardown),
                cmocka_unit_test_setup_teardown(composite_gets_exactly_allowed_interfaces, setup, teardown),
                cmocka_unit_test_setup_teardown(altsetting_switching_class_is_denied, setup, teardown),
                cmocka_unit_test_setup_teardown(mtp_and_ptp, setup, teardown),
                cmocka_unit_test_setup_teardown(keyboard_and_hub_pass, setup, teardown),
                cmocka_unit_test_setup_teardown(decision_equality_ignores_exception_identity, setup, teardown),
                cmocka_unit_test_setup_teardown(raw_access_only_for_allowed_models, setup, teardown),
                cmocka_unit_test_setup_teardown(raw_access_never_reaches_storage_that_is_not_read_write, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(raw_access_change_is_a_new_decision, setup, teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
