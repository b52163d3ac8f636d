/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Talking to termguardd over its control socket: one request, one reply, both in the shape
 * lib/control-proto.c defines.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "ctl.h"
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

static int request(const char *socket_path, const tg_ctl_request *req, tg_ctl_reply *ret) {
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        _cleanup_close_ int fd = -EBADF;
        _cleanup_free_ char *text = NULL, *buf = NULL;
        size_t len = 0, cap = 0;
        int r;

        if (strlen(socket_path) >= sizeof(sa.sun_path))
                return -ENAMETOOLONG;
        r = tg_ctl_request_encode(req, &text);
        if (r < 0)
                return r;
        strcpy(sa.sun_path, socket_path);
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -errno;
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
                        return -errno;
                if (n == 0)
                        break;
                len += (size_t) n;
        }
        if (len == 0)
                return -ECONNRESET;
        return tg_ctl_reply_decode(req->command, buf, len, ret);
}

int ctl_call(const ctl_context *ctx, const tg_ctl_request *req, tg_ctl_reply *ret) {
        tg_ctl_reply reply = {0};
        int r = request(ctx->socket_path, req, &reply);

        if (r == -EBADMSG) {
                fprintf(stderr, _("termguardctl: termguardd sent a reply this version does not understand\n"));
                return EXIT_DAEMON_ERROR;
        }
        if (r < 0) {
                fprintf(stderr,
                        _("termguardctl: cannot reach termguardd at %s: %s\n"
                          "Is the agent running? (systemctl status termguardd)\n"),
                        ctx->socket_path, strerror(-r));
                return EXIT_UNREACHABLE;
        }
        if (!reply.ok) {
                bool denied = reply.code == TG_CTL_ERR_PERMISSION_DENIED;
                if (denied)
                        fprintf(stderr, "%s\n",
                                _("termguardctl: permission denied: only administrators may read or change the media "
                                  "register or exceptions."));
                else
                        fprintf(stderr, _("termguardctl: refused: %s\n"), reply.error);
                tg_ctl_reply_done(&reply);
                return denied ? EXIT_DENIED : EXIT_DAEMON_ERROR;
        }
        *ret = reply;
        return 0;
}

void ctl_print_json(json_object *o, tg_ctl_field f) {
        json_object *v = o;
        if (f != _TG_F_MAX)
                json_object_object_get_ex(o, tg_ctl_field_name(f), &v);
        printf("%s\n", json_object_to_json_string_ext(v, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
}
