/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include "daemon.h"

/* The control socket, RuntimeDirectory/control.socket. */
int control_start(Manager *m);
void control_stop(Manager *m);
