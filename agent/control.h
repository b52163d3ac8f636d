/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/types.h>

#include <json-c/json.h>

#include "daemon.h"
#include "socket-server.h"
#include "termguard/control-proto.h"

/* Who is asking, from the kernel's peer credentials; admin is decided when it connects (root,
 * or a member of the configured admin group). */
typedef struct {
        struct ucred cred;
        gid_t groups[SERVER_PEER_GROUPS_MAX];
        int n_groups;
        bool admin;
        int fd; /* the connection, for a command that keeps it (session-notify); -1: none */
} ControlPeer;

/* The control socket, RuntimeDirectory/control.socket. */
int control_start(Manager *m);
void control_stop(Manager *m);

/* Answers one request (len bytes of buf) from peer: by the table of commands, who may run
 * what; a mutating command is saved, then recorded, then applied (manager_apply()). Returns
 * the reply; ret_command is the command when it was recognised. NULL when the connection was
 * handed over (session-notify: notify.c answers on a copy of peer->fd): close it, reply nothing. */
json_object *control_dispatch(Manager *m, const ControlPeer *peer, const char *buf, size_t len,
                              tg_ctl_command *ret_command);
