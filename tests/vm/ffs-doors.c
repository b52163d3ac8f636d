/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ffs-doors MOUNTPOINT KIND [SCSI_TYPE] : a hostile (or a plain) USB function for the VM tests of
 * the raw doors, played through FunctionFS. One interface, KIND being
 *
 *   bot0b   class 0b (smart card) declaring SCSI/Bulk-Only (subclass 06, protocol 50), and
 *           behind it a Bulk-Only SCSI target of one LUN of SCSI_TYPE (default 0, a disk):
 *           INQUIRY, TEST UNIT READY, REQUEST SENSE, READ CAPACITY, READ(10) and WRITE(10)
 *   reader  class 0b/00/00 with bulk endpoints, as a CCID card reader declares itself
 *   ptp     class 06/01/01 (PTP camera) with bulk endpoints
 *   fido    class 03 HID whose report descriptor has the FIDO usage page (f1d0)
 *
 * Every kind answers vendor control requests both ways (IN: a pattern of the length asked;
 * OUT: the data is taken), which usbfs sends even to an unauthorized device: a data channel.
 * Prints "ffs-doors: ready" once its descriptors are accepted, then one line per request
 * ("vendor-in N", "vendor-out N", "scsi OPCODE", "wrote N"), so a test sees what got through.
 */
#define _GNU_SOURCE
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ffs-common.h"

#define CONTROL_MAX 4096
#define BLOCKS 2048 /* of 512 bytes: what READ CAPACITY reports */

/* FIDO U2F/CTAPHID report descriptor: usage page f1d0, 64-byte reports both ways. */
static const uint8_t fido_report[] = {0x06, 0xd0, 0xf1, 0x09, 0x01, 0xa1, 0x01, 0x09, 0x20, 0x15, 0x00, 0x26,
                                      0xff, 0x00, 0x75, 0x08, 0x95, 0x40, 0x81, 0x02, 0x09, 0x21, 0x15, 0x00,
                                      0x26, 0xff, 0x00, 0x75, 0x08, 0x95, 0x40, 0x91, 0x02, 0xc0};

/* Interface, optional HID descriptor, two endpoints (IN first: ep1, then OUT: ep2). */
struct descs {
        struct usb_interface_descriptor intf;
        struct usb_endpoint_descriptor_no_audio in, out;
} __attribute__((packed));

struct hid_descs {
        struct usb_interface_descriptor intf;
        struct hid_class_descriptor hid;
        struct usb_endpoint_descriptor_no_audio in, out;
} __attribute__((packed));

static uint8_t desc_buf[512];
static size_t desc_len;

static struct usb_interface_descriptor intf_desc(uint8_t cls, uint8_t sub, uint8_t proto) {
        return (struct usb_interface_descriptor){.bLength = sizeof(struct usb_interface_descriptor),
                                                 .bDescriptorType = USB_DT_INTERFACE,
                                                 .bNumEndpoints = 2,
                                                 .bInterfaceClass = cls,
                                                 .bInterfaceSubClass = sub,
                                                 .bInterfaceProtocol = proto,
                                                 .iInterface = 1};
}

static struct usb_endpoint_descriptor_no_audio ep_desc(uint8_t addr, uint8_t type, uint16_t mps, uint8_t interval) {
        return (struct usb_endpoint_descriptor_no_audio){.bLength = USB_DT_ENDPOINT_SIZE,
                                                         .bDescriptorType = USB_DT_ENDPOINT,
                                                         .bEndpointAddress = addr,
                                                         .bmAttributes = type,
                                                         .wMaxPacketSize = LE16(mps),
                                                         .bInterval = interval};
}

/* One speed's descriptors at buf; returns their length, count in *ret_count. */
static size_t speed_descriptors(const char *kind, bool high, uint8_t *buf, __le32 *ret_count) {
        uint16_t bulk = high ? 512 : 64;

        if (strcmp(kind, "fido") == 0) {
                struct hid_descs h = {
                        .intf = intf_desc(USB_CLASS_HID, 0, 0),
                        .hid = {.bLength = sizeof(struct hid_class_descriptor),
                                .bDescriptorType = 0x21,
                                .bcdHID = LE16(0x0111),
                                .bNumDescriptors = 1,
                                .bReportType = 0x22,
                                .wReportLength = LE16(sizeof(fido_report))},
                        .in = ep_desc(1 | USB_DIR_IN, USB_ENDPOINT_XFER_INT, 64, high ? 4 : 5),
                        .out = ep_desc(2 | USB_DIR_OUT, USB_ENDPOINT_XFER_INT, 64, high ? 4 : 5),
                };
                *ret_count = LE32(4);
                memcpy(buf, &h, sizeof(h));
                return sizeof(h);
        }
        struct descs d = {
                .in = ep_desc(1 | USB_DIR_IN, USB_ENDPOINT_XFER_BULK, bulk, 0),
                .out = ep_desc(2 | USB_DIR_OUT, USB_ENDPOINT_XFER_BULK, bulk, 0),
        };
        if (strcmp(kind, "bot0b") == 0)
                d.intf = intf_desc(USB_CLASS_CSCID, 0x06, 0x50);
        else if (strcmp(kind, "reader") == 0)
                d.intf = intf_desc(USB_CLASS_CSCID, 0, 0);
        else
                d.intf = intf_desc(USB_CLASS_STILL_IMAGE, 1, 1);
        *ret_count = LE32(3);
        memcpy(buf, &d, sizeof(d));
        return sizeof(d);
}

/* Header, the count of each speed's descriptors, then the descriptors of each speed. */
static void build_descriptors(const char *kind) {
        struct usb_functionfs_descs_head_v2 head = {
                .magic = LE32(FUNCTIONFS_DESCRIPTORS_MAGIC_V2),
                /* Requests to the device itself, and before any configuration is set (an
                 * unauthorized device): what usbfs lets a user send to a blocked device. */
                .flags = LE32(FUNCTIONFS_HAS_FS_DESC | FUNCTIONFS_HAS_HS_DESC | FUNCTIONFS_ALL_CTRL_RECIP |
                              FUNCTIONFS_CONFIG0_SETUP),
        };
        __le32 counts[2];
        size_t o = sizeof(head) + sizeof(counts);

        o += speed_descriptors(kind, false, desc_buf + o, &counts[0]);
        o += speed_descriptors(kind, true, desc_buf + o, &counts[1]);
        head.length = LE32((uint32_t) o);
        memcpy(desc_buf, &head, sizeof(head));
        memcpy(desc_buf + sizeof(head), counts, sizeof(counts));
        desc_len = o;
}

static const char *dir, *kind;
static int scsi_type;
static pthread_mutex_t out_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t bulk_once = PTHREAD_ONCE_INIT;

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...) {
        va_list ap;
        pthread_mutex_lock(&out_lock);
        va_start(ap, fmt);
        fputs("ffs-doors: ", stdout);
        vprintf(fmt, ap);
        va_end(ap);
        fputc('\n', stdout);
        pthread_mutex_unlock(&out_lock);
}

static int open_ep(int n, int flags) {
        char path[4096];
        snprintf(path, sizeof(path), "%s/ep%d", dir, n);
        return open(path, flags);
}

static int full_read(int fd, void *buf, size_t len) {
        size_t got = 0;
        while (got < len) {
                ssize_t n = read(fd, (char *) buf + got, len - got);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        return -1;
                got += (size_t) n;
        }
        return 0;
}

/* Bulk-Only: CBW in, data, CSW out. Everything the host writes is taken and counted. */
static void *bot_main(void *arg) {
        int in = open_ep(1, O_RDWR), out = open_ep(2, O_RDWR);
        static uint8_t data[65536];
        (void) arg;

        if (in < 0 || out < 0) {
                say("cannot open bulk endpoints: %s", strerror(errno));
                return NULL;
        }
        for (;;) {
                uint8_t cbw[31], csw[13] = {'U', 'S', 'B', 'S'};
                uint32_t len, residue = 0;
                uint8_t status = 0;
                ssize_t n = read(out, cbw, sizeof(cbw));
                if (n < 0 && (errno == EINTR || errno == ESHUTDOWN || errno == ECONNRESET)) {
                        usleep(10000); /* not enabled yet, or reset: the host starts over */
                        continue;
                }
                if (n != (ssize_t) sizeof(cbw) || memcmp(cbw, "USBC", 4) != 0)
                        continue;
                memcpy(&len, cbw + 8, 4);
                len = le32toh(len);
                bool dir_in = cbw[12] & 0x80;
                const uint8_t *cb = cbw + 15;
                size_t give = 0;
                if (len > sizeof(data))
                        len = sizeof(data);
                memset(data, 0, len);
                say("scsi %02x len %u", cb[0], len);
                switch (cb[0]) {
                case 0x12: /* INQUIRY */
                        data[0] = (uint8_t) scsi_type;
                        data[1] = 0x80;
                        data[2] = 0x04;
                        data[3] = 0x02;
                        data[4] = 31;
                        memcpy(data + 8, "TGTEST  Door LUN        0001", 28);
                        give = 36;
                        break;
                case 0x03: /* REQUEST SENSE */
                        data[0] = 0x70;
                        data[7] = 10;
                        give = 18;
                        break;
                case 0x25: /* READ CAPACITY(10) */
                        data[2] = (BLOCKS - 1) >> 8;
                        data[3] = (BLOCKS - 1) & 0xff;
                        data[6] = 0x02;
                        give = 8;
                        break;
                case 0x1a: /* MODE SENSE(6) */
                        data[0] = 3;
                        give = 4;
                        break;
                case 0x28: /* READ(10) */
                        memset(data, 0xa5, len);
                        give = len;
                        break;
                case 0x00: /* TEST UNIT READY */
                case 0x1e: /* PREVENT ALLOW MEDIUM REMOVAL */
                case 0x2a: /* WRITE(10) */
                case 0x35: /* SYNCHRONIZE CACHE */ break;
                default: status = 1; break;
                }
                if (dir_in && len > 0) {
                        if (give > len)
                                give = len;
                        if (write(in, data, give) < 0)
                                continue;
                        residue = len - (uint32_t) give;
                } else if (len > 0) {
                        if (full_read(out, data, len) < 0)
                                continue;
                        if (cb[0] == 0x2a)
                                say("wrote %u", len);
                }
                memcpy(csw + 4, cbw + 4, 4); /* tag */
                residue = htole32(residue);
                memcpy(csw + 8, &residue, 4);
                csw[12] = status;
                (void) !write(in, csw, sizeof(csw));
        }
        return NULL;
}

static void start_bulk(void) {
        pthread_t t;
        if (strcmp(kind, "bot0b") == 0 && pthread_create(&t, NULL, bot_main, NULL) != 0)
                say("cannot start the Bulk-Only thread");
}

static void setup_request(int ep0, const struct usb_ctrlrequest *c) {
        static uint8_t buf[CONTROL_MAX];
        uint16_t len = le16toh(c->wLength), value = le16toh(c->wValue);
        uint8_t type = c->bRequestType & USB_TYPE_MASK;
        bool in = c->bRequestType & USB_DIR_IN;

        if (len > sizeof(buf))
                len = sizeof(buf);
        if (type == USB_TYPE_VENDOR) {
                if (in) {
                        for (size_t i = 0; i < len; i++)
                                buf[i] = (uint8_t) (i * 7 + c->bRequest);
                        if (write(ep0, buf, len) >= 0)
                                say("vendor-in %u", len);
                } else if (read(ep0, buf, len) >= 0)
                        say("vendor-out %u", len);
                return;
        }
        if (type == USB_TYPE_CLASS && strcmp(kind, "bot0b") == 0 && c->bRequest == 0xfe && in) {
                buf[0] = 0; /* GET MAX LUN: one LUN */
                (void) !write(ep0, buf, len < 1 ? len : 1);
                return;
        }
        if (type == USB_TYPE_STANDARD && in && c->bRequest == USB_REQ_GET_DESCRIPTOR && value >> 8 == 0x22 &&
            strcmp(kind, "fido") == 0) {
                (void) !write(ep0, fido_report, len < sizeof(fido_report) ? len : sizeof(fido_report));
                return;
        }
        if (type == USB_TYPE_CLASS && !in && len == 0) { /* SET_IDLE, Bulk-Only reset */
                (void) !read(ep0, NULL, 0);
                return;
        }
        /* Anything else: stall (a read stalls an IN request, a write an OUT one). */
        if (in)
                (void) !read(ep0, NULL, 0);
        else
                (void) !write(ep0, NULL, 0);
}

int main(int argc, char **argv) {
        struct usb_functionfs_event ev;
        int ep0;

        if (argc < 3 || argc > 4) {
                fprintf(stderr, "usage: ffs-doors MOUNTPOINT bot0b|reader|ptp|fido [SCSI_TYPE]\n");
                return 2;
        }
        dir = argv[1];
        kind = argv[2];
        scsi_type = argc == 4 ? atoi(argv[3]) : 0;
        if (strcmp(kind, "bot0b") && strcmp(kind, "reader") && strcmp(kind, "ptp") && strcmp(kind, "fido")) {
                fprintf(stderr, "ffs-doors: unknown kind %s\n", kind);
                return 2;
        }
        setvbuf(stdout, NULL, _IOLBF, 0);
        build_descriptors(kind);
        ep0 = ffs_start("ffs-doors", dir, desc_buf, desc_len, "Door");
        if (ep0 < 0)
                return 1;
        say("ready");
        for (;;) {
                ssize_t n = read(ep0, &ev, sizeof(ev));
                if (n < 0 && (errno == EINTR || errno == EIDRM || errno == EL2HLT))
                        continue;
                if (n != (ssize_t) sizeof(ev)) {
                        fprintf(stderr, "ffs-doors: ep0 read: %s\n", n < 0 ? strerror(errno) : "short");
                        return 1;
                }
                if (ev.type == FUNCTIONFS_ENABLE)
                        pthread_once(&bulk_once, start_bulk);
                else if (ev.type == FUNCTIONFS_SETUP)
                        setup_request(ep0, &ev.u.setup);
        }
}
