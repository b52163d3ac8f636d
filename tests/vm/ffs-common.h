/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * What the FunctionFS devices of the VM tests (ffs-doors, ffs-hid-stall) share: descriptors in
 * USB's byte order, the HID class descriptor, and setting up ep0 (ffs-common.c).
 */
#include <stddef.h>

#include <linux/usb/ch9.h>
#include <linux/usb/functionfs.h>

/* Constant initializers; the VM is x86-64, little-endian like USB. */
#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the FunctionFS test devices build their descriptors for a little-endian host"
#endif
#define LE16(x) ((__le16) (x))
#define LE32(x) ((__le32) (x))

struct hid_class_descriptor {
        __u8 bLength;
        __u8 bDescriptorType;
        __le16 bcdHID;
        __u8 bCountryCode;
        __u8 bNumDescriptors;
        __u8 bReportType;
        __le16 wReportLength;
} __attribute__((packed));

/* Opens MOUNTPOINT/ep0 and writes the function's descriptors (len bytes) and its one string
 * (language 0x0409), after which the function may bind. Returns ep0, or -1 after saying why on
 * stderr, each line beginning with "PROGRAM: ". */
int ffs_start(const char *program, const char *mountpoint, const void *descriptors, size_t len, const char *string);
