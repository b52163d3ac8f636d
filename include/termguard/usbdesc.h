/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Bounds on what a device may claim; a device claiming more is refused as malformed. */
#define TG_USB_MAX_CONFIGS 8
#define TG_USB_MAX_INTERFACES 64 /* interface descriptors (all configs, all altsettings) */
#define TG_USB_DESCRIPTORS_MAX 65536

typedef struct {
        uint8_t config_value; /* bConfigurationValue of the configuration holding it */
        uint8_t number;       /* bInterfaceNumber */
        uint8_t alt;          /* bAlternateSetting */
        uint8_t cls, subclass, protocol;
} tg_usb_interface;

typedef struct {
        uint16_t vid, pid, bcd_device, bcd_usb;
        uint8_t device_class, device_subclass, device_protocol;
        uint8_t n_configs; /* bNumConfigurations as claimed */
        size_t n_interfaces;
        tg_usb_interface interfaces[TG_USB_MAX_INTERFACES];
        char hash[65]; /* SHA-256 of the raw descriptors, lower-case hex */
} tg_usb_descriptors;

/* Parses the raw descriptors the kernel exposes in sysfs ("descriptors": device descriptor
 * followed by each configuration's full descriptor set). Returns 0, or -EBADMSG when the
 * blob is malformed (truncated, lengths that overrun, too many configs or interfaces). */
int tg_usb_parse_descriptors(const uint8_t *buf, size_t len, tg_usb_descriptors *ret);

/* Interface class categories the policy distinguishes. */
typedef enum {
        TG_IFACE_OTHER,
        TG_IFACE_STORAGE,     /* mass storage, class 08 */
        TG_IFACE_STILL_IMAGE, /* still image / PTP, class 06, and vendor MTP (ff/ff/00) */
} tg_iface_kind;

tg_iface_kind tg_usb_interface_kind(const tg_usb_interface *i);
/* True when the device is nothing but HID boot keyboards and mice: at least one interface, and
 * every interface of every configuration and alternate setting class 03, subclass 01 (boot),
 * protocol 1 (keyboard) or 2 (mouse). What the degraded mode admits (termguard-hid-fallback). */
bool tg_usb_is_boot_hid(const tg_usb_descriptors *d);
const char *tg_usb_class_name(uint8_t cls);
/* Parses a class given as a name ("hid", "mass-storage") or hex ("03", "0x03"). */
int tg_usb_class_from_string(const char *s, uint8_t *ret);
