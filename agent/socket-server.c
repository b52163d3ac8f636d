/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A bounded Unix socket server: listening, accepting with the peer's credentials, limits and
 * timeouts. See socket-server.h.
 */
#define _GNU_SOURCE
#include <assert.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "socket-server.h"
#include "termguard/macro.h"

struct SocketServer {
        sd_event *event;
        const SocketServerProtocol *protocol;
        void *userdata;
        int fd;
        sd_event_source *source;
        ServerConnection *connections;
        unsigned n_connections;
        char path[sizeof(((struct sockaddr_un *) NULL)->sun_path)];
};

void socket_server_close(ServerConnection *c) {
        SocketServer *s;

        if (!c)
                return;
        s = c->server;
        for (ServerConnection **p = &s->connections; *p; p = &(*p)->next)
                if (*p == c) {
                        *p = c->next;
                        break;
                }
        sd_event_source_unref(c->io);
        sd_event_source_unref(c->timer);
        if (c->fd >= 0)
                close(c->fd);
        s->n_connections--;
        if (s->protocol->done)
                s->protocol->done(c);
        free(c);
}

static int connection_io(sd_event_source *e _unused_, int fd _unused_, uint32_t revents _unused_, void *userdata) {
        ServerConnection *c = userdata;
        c->server->protocol->io(c, c->server->userdata);
        return 0;
}

static int connection_timeout(sd_event_source *e _unused_, uint64_t usec _unused_, void *userdata) {
        socket_server_close(userdata);
        return 0;
}

/* Within the limits with c counted: a privileged caller needs only room at all. */
static bool within_limits(const SocketServer *s, const ServerConnection *c, bool privileged) {
        unsigned mine = 0;

        if (privileged)
                return s->n_connections <= s->protocol->max;
        for (const ServerConnection *o = s->connections; o; o = o->next)
                mine += o->cred.uid == c->cred.uid;
        return mine <= s->protocol->max_per_user && s->n_connections <= s->protocol->max_unprivileged;
}

static int server_accept(sd_event_source *e _unused_, int fd, uint32_t revents _unused_, void *userdata) {
        SocketServer *s = userdata;
        const SocketServerProtocol *p = s->protocol;
        ServerConnection *c;
        socklen_t len;
        int cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

        if (cfd < 0)
                return 0;
        c = calloc(1, p->size);
        if (!c) {
                close(cfd);
                return 0;
        }
        c->server = s;
        c->fd = cfd;
        c->next = s->connections;
        s->connections = c;
        s->n_connections++;
        len = sizeof(c->cred);
        if (getsockopt(cfd, SOL_SOCKET, SO_PEERCRED, &c->cred, &len) < 0) {
                socket_server_close(c);
                return 0;
        }
        len = sizeof(c->groups);
        if (getsockopt(cfd, SOL_SOCKET, SO_PEERGROUPS, c->groups, &len) == 0)
                c->n_groups = (int) (len / sizeof(gid_t));
        if (!within_limits(s, c, p->admit(c, s->userdata)) ||
            sd_event_add_io(s->event, &c->io, cfd, EPOLLIN, connection_io, c) < 0 ||
            sd_event_add_time_relative(s->event, &c->timer, CLOCK_MONOTONIC, p->timeout_usec, 0, connection_timeout,
                                       c) < 0)
                socket_server_close(c);
        return 0;
}

int socket_server_start(sd_event *event, const char *runtime_dir, const SocketServerProtocol *protocol, void *userdata,
                        SocketServer **ret) {
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        SocketServer *s;
        int r;

        assert(protocol->size >= sizeof(ServerConnection));
        if ((size_t) snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/%s", runtime_dir, protocol->name) >=
            sizeof(sa.sun_path))
                return -ENAMETOOLONG;
        s = calloc(1, sizeof(*s));
        if (!s)
                return -ENOMEM;
        *s = (SocketServer){.event = event, .protocol = protocol, .userdata = userdata};
        memcpy(s->path, sa.sun_path, sizeof(s->path));
        s->fd = socket(AF_UNIX, protocol->type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (s->fd < 0) {
                r = -errno;
                free(s);
                return r;
        }
        (void) unlink(sa.sun_path);
        if (bind(s->fd, (struct sockaddr *) &sa, sizeof(sa)) < 0 || chmod(sa.sun_path, 0666) < 0 ||
            listen(s->fd, protocol->backlog) < 0) {
                r = -errno;
                close(s->fd);
                free(s);
                return r;
        }
        r = sd_event_add_io(event, &s->source, s->fd, EPOLLIN, server_accept, s);
        if (r < 0) {
                close(s->fd);
                free(s);
                return r;
        }
        *ret = s;
        return 0;
}

void socket_server_stop(SocketServer *s) {
        if (!s)
                return;
        while (s->connections)
                socket_server_close(s->connections);
        sd_event_source_unref(s->source);
        (void) unlink(s->path);
        close(s->fd);
        free(s);
}
