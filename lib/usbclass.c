/* SPDX-License-Identifier: GPL-2.0-or-later */
/* USB interface class names and the default class policy: kept apart from the descriptor code, so that what parses the
 * configuration (the PAM module too) does not link the descriptor hashing. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libusb-1.0/libusb.h>

#include "termguard/policy.h"
#include "termguard/usbdesc.h"

static const struct {
        uint8_t cls;
        const char *name;
} class_names[] = {
        {LIBUSB_CLASS_AUDIO, "audio"},
        {LIBUSB_CLASS_COMM, "comm"},
        {LIBUSB_CLASS_HID, "hid"},
        {LIBUSB_CLASS_PHYSICAL, "physical"},
        {LIBUSB_CLASS_IMAGE, "still-image"},
        {LIBUSB_CLASS_PRINTER, "printer"},
        {LIBUSB_CLASS_MASS_STORAGE, "mass-storage"},
        {LIBUSB_CLASS_HUB, "hub"},
        {LIBUSB_CLASS_DATA, "cdc-data"},
        {LIBUSB_CLASS_SMART_CARD, "smartcard"},
        {LIBUSB_CLASS_CONTENT_SECURITY, "content-security"},
        {LIBUSB_CLASS_VIDEO, "video"},
        {LIBUSB_CLASS_PERSONAL_HEALTHCARE, "healthcare"},
        {0x10, "audio-video"},
        {0x11, "billboard"},
        {0x12, "type-c-bridge"},
        {LIBUSB_CLASS_DIAGNOSTIC_DEVICE, "diagnostic"},
        {LIBUSB_CLASS_WIRELESS, "wireless"},
        {LIBUSB_CLASS_MISCELLANEOUS, "misc"},
        {LIBUSB_CLASS_APPLICATION, "application"},
        {LIBUSB_CLASS_VENDOR_SPEC, "vendor"},
};

const char *tg_usb_class_name(uint8_t cls) {
        for (size_t i = 0; i < sizeof(class_names) / sizeof(class_names[0]); i++)
                if (class_names[i].cls == cls)
                        return class_names[i].name;
        return "unknown";
}

int tg_usb_class_from_string(const char *s, uint8_t *ret) {
        char *end;
        unsigned long v;

        if (!s || !*s)
                return -EINVAL;
        for (size_t i = 0; i < sizeof(class_names) / sizeof(class_names[0]); i++)
                if (strcasecmp(class_names[i].name, s) == 0) {
                        *ret = class_names[i].cls;
                        return 0;
                }
        errno = 0;
        v = strtoul(s, &end, 16);
        if (errno || *end || v > 0xff || s[0] == '-' || s[0] == '+' || s[0] == ' ')
                return -EINVAL;
        *ret = (uint8_t) v;
        return 0;
}

void tg_usb_policy_default(tg_usb_policy *p) {
        memset(p, 0, sizeof(*p));
        p->allow_class[LIBUSB_CLASS_HID] = true;
        p->allow_class[LIBUSB_CLASS_HUB] = true;
        p->allow_class[LIBUSB_CLASS_AUDIO] = true;
        p->allow_class[LIBUSB_CLASS_VIDEO] = true;
        /* IC card readers are how staff authenticate and lock on card removal. */
        p->allow_class[LIBUSB_CLASS_SMART_CARD] = true;
}
