/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>

#include "daemon.h"

/* Kernel operations a device can stall, run in order per device (key) on worker threads. Each
 * names the state wanted; a deny cancels allows of its target not yet started (never a cut-off
 * or a refresh). */
typedef enum {
        GATE_OP_ALLOW_DEVICE,
        GATE_OP_DENY_DEVICE,     /* unmounts below the device first */
        GATE_OP_ALLOW_INTERFACE, /* authorize, then drivers_probe */
        GATE_OP_DENY_INTERFACE,  /* unmounts below the interface first */
        GATE_OP_DELETE_SCSI,     /* removes a SCSI device (a LUN) from the kernel; a cut-off */
        GATE_OP_REFRESH_NODES,   /* a change uevent, so udev applies the decision to its nodes */
} GateOp;

int usb_worker_start(Manager *m);
void usb_worker_stop(Manager *m);
/* devnum names the attachment of the device at key (its "devnum" when judged): a job whose
 * device is gone by the time it runs does nothing, even if another device took the same port
 * and so the same paths. 0: whatever is at key (root hubs, devices not tracked). */
int usb_worker_submit(Manager *m, GateOp op, const char *key, unsigned devnum, const char *target, const char *why);
/* True while a job for target is queued or running. */
bool usb_worker_pending(const char *target);
/* Drops the jobs not yet started of a device that is gone. */
void usb_worker_forget(const char *key);
