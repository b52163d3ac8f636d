/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include "daemon.h"

/* Name of the user on seat0's active session, or NULL. Result is static. */
const char *seat_user(void);

/* Follows the user on seat0 (logind's seat state) and calls changed(m, "seat-change") when
 * another user (or nobody) holds it. Without logind state nobody ever holds the seat. */
int seat_start(Manager *m, void (*changed)(Manager *m, const char *trigger));
void seat_stop(Manager *m);
