/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * usbfs-claim DEVNODE INTERFACE SECONDS : detaches the kernel driver of one interface of a USB
 * device and claims the interface through usbfs, as libusb_detach_kernel_driver() and
 * libusb_claim_interface() do (the detach sends an unbind uevent, the claim none), then holds
 * the claim for SECONDS. Prints "usbfs-claim: claimed" or the error; exit status 0 only if the
 * claim succeeded.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/usbdevice_fs.h>

int main(int argc, char **argv) {
        unsigned int ifnum;
        int fd;

        if (argc != 4) {
                fprintf(stderr, "usage: usbfs-claim DEVNODE INTERFACE SECONDS\n");
                return 2;
        }
        ifnum = (unsigned int) strtoul(argv[2], NULL, 10);
        fd = open(argv[1], O_RDWR | O_CLOEXEC);
        if (fd < 0) {
                fprintf(stderr, "usbfs-claim: open %s: %s\n", argv[1], strerror(errno));
                return 1;
        }
        struct usbdevfs_ioctl detach = {.ifno = (int) ifnum, .ioctl_code = USBDEVFS_DISCONNECT};
        if (ioctl(fd, USBDEVFS_IOCTL, &detach) < 0 && errno != ENODATA)
                fprintf(stderr, "usbfs-claim: detach interface %u: %s\n", ifnum, strerror(errno));
        if (ioctl(fd, USBDEVFS_CLAIMINTERFACE, &ifnum) < 0) {
                fprintf(stderr, "usbfs-claim: claim interface %u: %s\n", ifnum, strerror(errno));
                return 1;
        }
        printf("usbfs-claim: claimed\n");
        fflush(stdout);
        sleep((unsigned int) strtoul(argv[3], NULL, 10));
        close(fd);
        return 0;
}
