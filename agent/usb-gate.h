/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdint.h>

#include "daemon.h"

/* Locks the controllers, follows kernel uevents; usb_gate_coldplug() then judges the devices
 * already present. */
int usb_gate_start(Manager *m);
void usb_gate_coldplug(Manager *m, const char *trigger);
void usb_gate_stop(Manager *m);
/* Judges every device again and brings the kernel and the decision files to the result. */
void usb_gate_rejudge_all(Manager *m, const char *trigger);
/* The clock now, after noting it in the register's high-water mark (clock.set-back once when
 * it went back). */
int64_t usb_gate_observe_clock(Manager *m);
