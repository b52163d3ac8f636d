/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The client end of the control socket: one request, one reply, both in the shape
 * lib/control-proto.c defines. termguardctl and the session helper both call termguardd here.
 */
#define _GNU_SOURCE
/* gcc's analyzer reports the request text, NULL from its declaration, as read uninitialised
 * by its cleanup on the early returns; nothing else here is covered by this. */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wpragmas" /* gcc without -fanalyzer */
#pragma GCC diagnostic ignored "-Wanalyzer-use-of-uninitialized-value"
#endif
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "termguard/control-proto.h"
#include "termguard/macro.h"

static int send_all(int fd, const char *p, size_t len) {
        while (len > 0) {
                ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return -errno;
                p += n;
                len -= (size_t) n;
        }
        return 0;
}

static int set_timeout(int fd, uint64_t usec) {
        struct timeval tv = {.tv_sec = (time_t) (usec / 1000000), .tv_usec = (suseconds_t) (usec % 1000000)};
        if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0 ||
            setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) < 0)
                return -errno;
        return 0;
}

int tg_ctl_call(const char *socket_path, const tg_ctl_request *req, uint64_t timeout_usec, tg_ctl_reply *ret) {
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        _cleanup_close_ int fd = -EBADF;
        _cleanup_free_ char *text = NULL, *buf = NULL;
        size_t len = 0, cap = 0;
        int r;

        assert_return(socket_path && req && ret, -EINVAL);
        if (strlen(socket_path) >= sizeof(sa.sun_path))
                return -ENAMETOOLONG;
        r = tg_ctl_request_encode(req, &text);
        if (r < 0)
                return r;
        strcpy(sa.sun_path, socket_path);
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -errno;
        if (timeout_usec && (r = set_timeout(fd, timeout_usec)) < 0)
                return r;
        if (connect(fd, (struct sockaddr *) &sa, sizeof(sa)) < 0)
                return -errno;
        r = send_all(fd, text, strlen(text));
        if (r < 0)
                return r;
        (void) shutdown(fd, SHUT_WR);
        for (;;) {
                ssize_t n;
                if (len + 4096 + 1 > cap) {
                        char *p;
                        if (cap > TG_CTL_REPLY_MAX)
                                return -E2BIG;
                        cap = cap ? cap * 2 : 65536;
                        p = realloc(buf, cap);
                        if (!p)
                                return -ENOMEM;
                        buf = p;
                }
                n = read(fd, buf + len, cap - len - 1);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return errno == EAGAIN ? -ETIMEDOUT : -errno;
                if (n == 0)
                        break;
                len += (size_t) n;
        }
        if (len == 0)
                return -ECONNRESET;
        return tg_ctl_reply_decode(req->command, buf, len, ret);
}
