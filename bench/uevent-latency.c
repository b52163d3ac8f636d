/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * uevent-latency: time from a USB device's kernel "add" uevent to the moment its
 * authorization took effect, as seen on the kernel uevent netlink socket.
 *
 *   uevent-latency [-n COUNT] [-t TIMEOUT_S] [-r READY_FILE]
 *
 * Listens on NETLINK_KOBJECT_UEVENT, multicast group 1 (raw kernel uevents, no udev).
 * For every "add" of a usb_device that is not a root hub (DEVPATH ending in ".../N-P")
 * it records CLOCK_MONOTONIC; when the first "add" of one of that device's own
 * interfaces ("<devpath>/N-P:C.I") arrives it prints
 *
 *   LAT <sysname> <microseconds>
 *
 * on stdout (line buffered). The kernel creates interfaces only once the device is
 * configured, and with authorized_default=0 that happens inside the write of 1 to the
 * device's "authorized" attribute, so the delta covers: uevent delivery to the policy
 * daemon, its decision, the sysfs write, and the kernel's SET_CONFIGURATION.
 * A device removed before its interfaces appear prints "NOAUTH <sysname>".
 *
 * Exits 0 after COUNT measurements (default: never), after TIMEOUT_S seconds (default
 * 600) or on SIGTERM/SIGINT. READY_FILE is created once the socket is bound, so a
 * script can wait for it before plugging anything.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/netlink.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_PENDING 32

struct pending {
        bool used;
        char devpath[512];
        int64_t t0_us;
};

static struct pending pend[MAX_PENDING];
static volatile sig_atomic_t stop;

static void on_signal(int sig) {
        (void) sig;
        stop = 1;
}

static int64_t now_us(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t) ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Value of KEY= in a uevent payload (NUL-separated "KEY=VALUE" strings after the
 * "action@devpath" header), or NULL. */
static const char *uevent_get(const char *buf, size_t len, const char *key) {
        size_t klen = strlen(key);
        for (size_t i = 0; i < len;) {
                const char *s = buf + i;
                size_t slen = strnlen(s, len - i);
                if (slen > klen && strncmp(s, key, klen) == 0 && s[klen] == '=')
                        return s + klen + 1;
                i += slen + 1;
        }
        return NULL;
}

static const char *basename_of(const char *p) {
        const char *s = strrchr(p, '/');
        return s ? s + 1 : p;
}

/* "1-1", "3-1.2": a device behind a root hub port, not the root hub "usb1". */
static bool is_port_device(const char *name) {
        if (strncmp(name, "usb", 3) == 0)
                return false;
        const char *dash = strchr(name, '-');
        return dash && dash != name && !strchr(name, ':');
}

static struct pending *find(const char *devpath) {
        for (int i = 0; i < MAX_PENDING; i++)
                if (pend[i].used && strcmp(pend[i].devpath, devpath) == 0)
                        return &pend[i];
        return NULL;
}

int main(int argc, char **argv) {
        long count = -1, done = 0;
        long timeout_s = 600;
        const char *ready = NULL;
        int c;

        while ((c = getopt(argc, argv, "n:t:r:")) != -1) {
                switch (c) {
                case 'n': count = strtol(optarg, NULL, 10); break;
                case 't': timeout_s = strtol(optarg, NULL, 10); break;
                case 'r': ready = optarg; break;
                default: fprintf(stderr, "usage: %s [-n COUNT] [-t TIMEOUT_S] [-r READY_FILE]\n", argv[0]); return 2;
                }
        }
        setvbuf(stdout, NULL, _IOLBF, 0);

        struct sigaction sa = {.sa_handler = on_signal};
        sigaction(SIGTERM, &sa, NULL);
        sigaction(SIGINT, &sa, NULL);

        int fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_KOBJECT_UEVENT);
        if (fd < 0) {
                perror("uevent-latency: socket");
                return 1;
        }
        int rcv = 4 * 1024 * 1024;
        (void) setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcv, sizeof(rcv));
        struct sockaddr_nl snl = {.nl_family = AF_NETLINK, .nl_pid = 0, .nl_groups = 1};
        if (bind(fd, (struct sockaddr *) &snl, sizeof(snl)) < 0) {
                perror("uevent-latency: bind");
                return 1;
        }
        if (ready) {
                int rfd = open(ready, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
                if (rfd >= 0)
                        close(rfd);
        }

        int64_t deadline = now_us() + (int64_t) timeout_s * 1000000;
        char buf[16384];
        while (!stop && (count < 0 || done < count)) {
                int64_t left_ms = (deadline - now_us()) / 1000;
                if (left_ms <= 0)
                        break;
                struct pollfd pfd = {.fd = fd, .events = POLLIN};
                int r = poll(&pfd, 1, left_ms > 1000 ? 1000 : (int) left_ms);
                if (r < 0 && errno == EINTR)
                        continue;
                if (r <= 0)
                        continue;
                ssize_t n = recv(fd, buf, sizeof(buf) - 1, MSG_DONTWAIT);
                int64_t t = now_us();
                if (n < 0) {
                        if (errno == ENOBUFS)
                                fprintf(stderr, "uevent-latency: receive buffer overrun, events lost\n");
                        continue;
                }
                buf[n] = '\0';
                /* Kernel messages start with "action@devpath"; libudev ones with "libudev". */
                if (!strchr(buf, '@'))
                        continue;
                const char *action = uevent_get(buf, (size_t) n, "ACTION");
                const char *devpath = uevent_get(buf, (size_t) n, "DEVPATH");
                const char *subsys = uevent_get(buf, (size_t) n, "SUBSYSTEM");
                const char *devtype = uevent_get(buf, (size_t) n, "DEVTYPE");
                if (!action || !devpath || !subsys || !devtype || strcmp(subsys, "usb") != 0)
                        continue;

                if (strcmp(devtype, "usb_device") == 0) {
                        if (!is_port_device(basename_of(devpath)))
                                continue;
                        if (strcmp(action, "add") == 0) {
                                struct pending *p = find(devpath);
                                for (int i = 0; !p && i < MAX_PENDING; i++)
                                        if (!pend[i].used)
                                                p = &pend[i];
                                if (!p)
                                        continue;
                                p->used = true;
                                snprintf(p->devpath, sizeof(p->devpath), "%s", devpath);
                                p->t0_us = t;
                        } else if (strcmp(action, "remove") == 0) {
                                struct pending *p = find(devpath);
                                if (p) {
                                        printf("NOAUTH %s\n", basename_of(devpath));
                                        p->used = false;
                                }
                        }
                } else if (strcmp(devtype, "usb_interface") == 0 && strcmp(action, "add") == 0) {
                        /* Parent device path: DEVPATH up to the last '/'. */
                        char parent[512];
                        const char *slash = strrchr(devpath, '/');
                        if (!slash || (size_t) (slash - devpath) >= sizeof(parent))
                                continue;
                        memcpy(parent, devpath, (size_t) (slash - devpath));
                        parent[slash - devpath] = '\0';
                        struct pending *p = find(parent);
                        if (!p)
                                continue;
                        printf("LAT %s %lld\n", basename_of(parent), (long long) (t - p->t0_us));
                        p->used = false;
                        done++;
                }
        }
        close(fd);
        return 0;
}
