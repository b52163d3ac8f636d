/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ffs-hid-stall MOUNTPOINT : a hostile USB device for the VM tests, played through FunctionFS.
 *
 * Declares one HID boot-keyboard interface on the functionfs mounted at MOUNTPOINT, then never
 * answers a control request: the host's usbhid probe (SET_IDLE, GET_DESCRIPTOR(Report)) waits
 * for its control timeouts. Prints "ffs-hid-stall: ready" once the descriptors are accepted and
 * "ffs-hid-stall: setup ..." for the first request that reaches it (its probe has begun); after
 * that it reads nothing more, because reading ep0 while a request is pending would answer it
 * with a stall, and the point is to answer nothing at all.
 */
#include <endian.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "ffs-common.h"

#define REPORT_DESC_LEN 63 /* the boot keyboard report descriptor the device claims to have */

struct function_descs {
        struct usb_interface_descriptor intf;
        struct hid_class_descriptor hid;
        struct usb_endpoint_descriptor_no_audio in;
} __attribute__((packed));

static const struct {
        struct usb_functionfs_descs_head_v2 header;
        __le32 fs_count, hs_count;
        struct function_descs fs, hs;
} __attribute__((packed)) descriptors = {
        .header =
                {
                        .magic = LE32(FUNCTIONFS_DESCRIPTORS_MAGIC_V2),
                        .length = LE32(sizeof(descriptors)),
                        .flags = LE32(FUNCTIONFS_HAS_FS_DESC | FUNCTIONFS_HAS_HS_DESC),
                },
        .fs_count = LE32(3),
        .hs_count = LE32(3),
#define FUNCTION_DESCS(max_packet, interval)                                                                           \
        {                                                                                                              \
                .intf = {.bLength = sizeof(struct usb_interface_descriptor),                                           \
                         .bDescriptorType = USB_DT_INTERFACE,                                                          \
                         .bNumEndpoints = 1,                                                                           \
                         .bInterfaceClass = USB_CLASS_HID,                                                             \
                         .bInterfaceSubClass = 1,                                                                      \
                         .bInterfaceProtocol = 1,                                                                      \
                         .iInterface = 1},                                                                             \
                .hid = {.bLength = sizeof(struct hid_class_descriptor),                                                \
                        .bDescriptorType = 0x21,                                                                       \
                        .bcdHID = LE16(0x0111),                                                                        \
                        .bNumDescriptors = 1,                                                                          \
                        .bReportType = 0x22,                                                                           \
                        .wReportLength = LE16(REPORT_DESC_LEN)},                                                       \
                .in = {.bLength = USB_DT_ENDPOINT_SIZE,                                                                \
                       .bDescriptorType = USB_DT_ENDPOINT,                                                             \
                       .bEndpointAddress = 1 | USB_DIR_IN,                                                             \
                       .bmAttributes = USB_ENDPOINT_XFER_INT,                                                          \
                       .wMaxPacketSize = LE16(max_packet),                                                             \
                       .bInterval = (interval)},                                                                       \
        }
        .fs = FUNCTION_DESCS(8, 10),
        .hs = FUNCTION_DESCS(8, 7),
};

static const char *const event_names[] = {"BIND", "UNBIND", "ENABLE", "DISABLE", "SETUP", "SUSPEND", "RESUME"};

int main(int argc, char **argv) {
        struct usb_functionfs_event ev;
        int ep0;

        if (argc != 2) {
                fprintf(stderr, "usage: ffs-hid-stall MOUNTPOINT\n");
                return 2;
        }
        setvbuf(stdout, NULL, _IOLBF, 0);
        ep0 = ffs_start("ffs-hid-stall", argv[1], &descriptors, sizeof(descriptors), "Silent Keyboard");
        if (ep0 < 0)
                return 1;
        printf("ffs-hid-stall: ready\n");
        for (;;) {
                ssize_t n = read(ep0, &ev, sizeof(ev));
                if (n < 0 && (errno == EINTR || errno == EIDRM))
                        continue;
                if (n != (ssize_t) sizeof(ev)) {
                        fprintf(stderr, "ffs-hid-stall: ep0 read: %s\n", n < 0 ? strerror(errno) : "short");
                        return 1;
                }
                if (ev.type < sizeof(event_names) / sizeof(event_names[0]))
                        printf("ffs-hid-stall: event %s\n", event_names[ev.type]);
                if (ev.type == FUNCTIONFS_SETUP) {
                        printf("ffs-hid-stall: setup bRequestType=0x%02x bRequest=0x%02x wValue=0x%04x wIndex=%u\n",
                               ev.u.setup.bRequestType, ev.u.setup.bRequest, le16toh(ev.u.setup.wValue),
                               le16toh(ev.u.setup.wIndex));
                        break;
                }
        }
        /* Never answer: the host waits for its timeouts. */
        for (;;)
                pause();
}
