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
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <linux/usb/ch9.h>
#include <linux/usb/functionfs.h>

/* Constant initializers; the VM is x86-64, little-endian like USB. */
#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "ffs-hid-stall builds its descriptors for a little-endian host"
#endif
#define LE16(x) ((__le16) (x))
#define LE32(x) ((__le32) (x))

#define REPORT_DESC_LEN 63 /* the boot keyboard report descriptor the device claims to have */

struct hid_class_descriptor {
        __u8 bLength;
        __u8 bDescriptorType;
        __le16 bcdHID;
        __u8 bCountryCode;
        __u8 bNumDescriptors;
        __u8 bReportType;
        __le16 wReportLength;
} __attribute__((packed));

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

static const struct {
        struct usb_functionfs_strings_head header;
        struct {
                __le16 code;
                const char str1[sizeof("Silent Keyboard")];
        } __attribute__((packed)) lang0;
} __attribute__((packed)) strings = {
        .header =
                {
                        .magic = LE32(FUNCTIONFS_STRINGS_MAGIC),
                        .length = LE32(sizeof(strings)),
                        .str_count = LE32(1),
                        .lang_count = LE32(1),
                },
        .lang0 = {LE16(0x0409), "Silent Keyboard"},
};

static const char *const event_names[] = {"BIND", "UNBIND", "ENABLE", "DISABLE", "SETUP", "SUSPEND", "RESUME"};

int main(int argc, char **argv) {
        char path[4096];
        struct usb_functionfs_event ev;
        int ep0;

        if (argc != 2) {
                fprintf(stderr, "usage: ffs-hid-stall MOUNTPOINT\n");
                return 2;
        }
        setvbuf(stdout, NULL, _IOLBF, 0);
        snprintf(path, sizeof(path), "%s/ep0", argv[1]);
        ep0 = open(path, O_RDWR);
        if (ep0 < 0) {
                fprintf(stderr, "ffs-hid-stall: %s: %s\n", path, strerror(errno));
                return 1;
        }
        if (write(ep0, &descriptors, sizeof(descriptors)) != (ssize_t) sizeof(descriptors) ||
            write(ep0, &strings, sizeof(strings)) != (ssize_t) sizeof(strings)) {
                fprintf(stderr, "ffs-hid-stall: descriptors refused: %s\n", strerror(errno));
                return 1;
        }
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
