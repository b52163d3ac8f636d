/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include <systemd/sd-event.h>

/*
 * A Unix socket in RuntimeDirectory that anyone may connect to, with bounded connections: at
 * most so many in all, fewer for callers who are not privileged and a few for each of them,
 * and each closed after a timeout. Who the peer is comes from the kernel (SO_PEERCRED,
 * SO_PEERGROUPS), never from what it sends. The control socket (control.c) and the record
 * socket (intake.c) each speak their own protocol over one.
 */

#define SERVER_PEER_GROUPS_MAX 64

typedef struct ServerConnection {
        struct SocketServer *server;
        struct ServerConnection *next;
        int fd;
        struct ucred cred;
        gid_t groups[SERVER_PEER_GROUPS_MAX];
        int n_groups;
        sd_event_source *io, *timer;
} ServerConnection;

typedef struct {
        const char *name;          /* the socket's file name in RuntimeDirectory */
        int type;                  /* SOCK_STREAM, SOCK_SEQPACKET */
        int backlog;               /* listen() */
        size_t size;               /* of a connection: a protocol's own struct, ServerConnection first */
        unsigned max;              /* connections in all */
        unsigned max_unprivileged; /* connections in all while a caller who is not privileged connects */
        unsigned max_per_user;     /* connections of one caller who is not privileged */
        uint64_t timeout_usec;     /* a connection is closed this long after it was accepted */
        /* Called once the peer is known, before the limits: whether it is privileged. */
        bool (*admit)(ServerConnection *c, void *userdata);
        /* The connection is readable (or writable, as the protocol asked); it may close it. */
        void (*io)(ServerConnection *c, void *userdata);
        /* Frees what the protocol keeps in the connection; may be NULL. */
        void (*done)(ServerConnection *c);
} SocketServerProtocol;

typedef struct SocketServer SocketServer;

/* Makes RUNTIME_DIR/NAME (mode 0666: what each caller may do is the protocol's decision) and
 * accepts connections on event. Returns 0 or a negative errno. */
int socket_server_start(sd_event *event, const char *runtime_dir, const SocketServerProtocol *protocol, void *userdata,
                        SocketServer **ret);
/* Closes every connection and the socket, and removes its file. NULL is fine. */
void socket_server_stop(SocketServer *s);
/* Closes one connection. */
void socket_server_close(ServerConnection *c);
