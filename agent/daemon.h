/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <libudev.h>
#include <systemd/sd-event.h>
#include <systemd/sd-login.h>

#include "termguard/config.h"
#include "termguard/escape.h"
#include "termguard/policy.h"
#include "termguard/register.h"
#include "termguard/timeutil.h"
#include "termguard/usbdesc.h"

#define TG_DEVICES_MAX 1024
#define TG_ESCAPED_MAX (TG_DEVICE_STRING_MAX * 4 + 8)

typedef struct tg_device {
        char syspath[PATH_MAX];
        char sysname[64];
        unsigned busnum, devnum;
        bool descriptors_ok;
        tg_usb_descriptors desc;
        char serial[TG_SERIAL_MAX + 1]; /* raw bytes as the device claims them, bounded */
        char serial_esc[TG_ESCAPED_MAX], manufacturer_esc[TG_ESCAPED_MAX], product_esc[TG_ESCAPED_MAX];
        tg_decision decision;
        struct tg_device *next;
} tg_device;

typedef struct {
        sd_event *event;
        struct udev *udev;
        struct udev_monitor *monitor;
        sd_event_source *monitor_source, *expiry_source, *control_source;
        sd_event_source *worker_done_source, *worker_slow_source;
        int control_fd;
        unsigned n_connections;
        struct Connection *connections;

        char config_root[PATH_MAX];
        tg_config cfg;
        tg_register reg;
        char register_path[PATH_MAX];

        tg_device *devices;
        size_t n_devices;
        unsigned n_controllers;
        bool clock_back_reported;

        int64_t started_at, last_reload_at;
        char last_reload_error[512];
        bool udev_running;

        sd_login_monitor *seat_monitor;
        sd_event_source *seat_source;
        char seat_user[TG_USER_MAX + 8];
} Manager;

/* event.c: structured events (journald, and stderr unless stderr is the journal). Pairs of
 * key and already-escaped value, terminated by NULL. */
void tg_emit(const char *type, int priority, const char *message, ...) __attribute__((sentinel));
/* Name of the user on seat0's active session, or NULL. Result is static. */
const char *tg_seat_user(void);
void tg_log(int priority, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* usb-gate.c */
int usb_gate_start(Manager *m);
void usb_gate_stop(Manager *m);
void usb_gate_rejudge_all(Manager *m, const char *trigger);
void usb_gate_schedule_expiry(Manager *m);

/* sysfs.c: attribute I/O. Writes may block as long as the kernel works for them (a device's
 * enumeration, a driver's probe): from the event loop, only reads and instant writes. */
int tg_sysfs_write(const char *syspath, const char *attr, const char *value);
/* Reads into buf (at most size-1 bytes, trailing newline removed); the length or -errno. */
ssize_t tg_sysfs_read(const char *syspath, const char *attr, char *buf, size_t size);
int tg_sysfs_read_bool(const char *syspath, const char *attr);

/* usb-worker.c: kernel operations a device can stall, run in order per device (key) on worker
 * threads. Each names the state wanted; a deny cancels allows of its target not yet started. */
typedef enum {
        TG_OP_ALLOW_DEVICE,
        TG_OP_DENY_DEVICE,     /* unmounts below the device first */
        TG_OP_ALLOW_INTERFACE, /* authorize, then drivers_probe */
        TG_OP_DENY_INTERFACE,  /* unmounts below the interface first */
} tg_gate_op;
int usb_worker_start(Manager *m);
void usb_worker_stop(Manager *m);
int usb_worker_submit(Manager *m, tg_gate_op op, const char *key, const char *target, const char *why);
/* True while a job for target is queued or running. */
bool usb_worker_pending(const char *target);
/* Drops the jobs not yet started of a device that is gone. */
void usb_worker_forget(const char *key);

/* mounts.c: unmounts every filesystem on block devices below syspath. Returns how many were
 * unmounted, or a negative errno. */
int tg_unmount_below(struct udev *udev, const char *syspath, const char *why);

/* seat.c: re-judges devices when the user on seat0 changes. */
int seat_start(Manager *m);
void seat_stop(Manager *m);

/* control.c */
int control_start(Manager *m);
void control_stop(Manager *m);

/* termguardd.c */
int manager_save_register(Manager *m, tg_register *reg);
