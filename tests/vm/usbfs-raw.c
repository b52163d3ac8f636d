/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * usbfs-raw DEVNODE : what a program can do with a USB device node through usbfs, as libusb
 * would: opens it read-write (else read-only) and sends one vendor control request each way
 * (64 bytes in, 64 bytes out), which usbfs passes even to an unauthorized device. Prints one
 * line per step ("usbfs-raw: open rw: ok", "usbfs-raw: vendor-in: 64", or the error). Exit
 * status 0 only if data went both ways: the node is a data channel for the caller.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/usbdevice_fs.h>

#define LEN 64
#define TIMEOUT_MS 5000

static int control(int fd, unsigned char type, void *data) {
        struct usbdevfs_ctrltransfer t = {
                .bRequestType = type,
                .bRequest = 0x42,
                .wValue = 0,
                .wIndex = 0,
                .wLength = LEN,
                .timeout = TIMEOUT_MS,
                .data = data,
        };
        return ioctl(fd, USBDEVFS_CONTROL, &t);
}

int main(int argc, char **argv) {
        unsigned char buf[LEN];
        int fd, in, out;

        if (argc != 2) {
                fprintf(stderr, "usage: usbfs-raw DEVNODE\n");
                return 2;
        }
        fd = open(argv[1], O_RDWR | O_CLOEXEC);
        printf("usbfs-raw: open rw: %s\n", fd < 0 ? strerror(errno) : "ok");
        if (fd < 0) {
                fd = open(argv[1], O_RDONLY | O_CLOEXEC);
                printf("usbfs-raw: open ro: %s\n", fd < 0 ? strerror(errno) : "ok");
                if (fd < 0)
                        return 1;
        }
        in = control(fd, 0xc0, buf); /* vendor, device, device-to-host */
        if (in < 0)
                printf("usbfs-raw: vendor-in: %s\n", strerror(errno));
        else
                printf("usbfs-raw: vendor-in: %d\n", in);
        memset(buf, 0x5a, sizeof(buf));
        out = control(fd, 0x40, buf); /* vendor, device, host-to-device */
        if (out < 0)
                printf("usbfs-raw: vendor-out: %s\n", strerror(errno));
        else
                printf("usbfs-raw: vendor-out: %d\n", out);
        close(fd);
        return in == LEN && out == LEN ? 0 : 1;
}
