/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* The daemon's state, shared by its modules: types only. Each module declares its functions
 * in its own header (event.h, sysfs.h, mounts.h, seat.h, logind.h, idle-lock.h, usb-worker.h,
 * usb-gate.h, manager.h, control.h), and calls only modules below it in that order. */

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <libudev.h>
#include <systemd/sd-event.h>
#include <systemd/sd-login.h>

#include "termguard/config.h"
#include "termguard/control-proto.h"
#include "termguard/escape.h"
#include "termguard/policy.h"
#include "termguard/register.h"
#include "termguard/timeutil.h"
#include "termguard/token.h"
#include "termguard/usbdesc.h"

#define TG_DEVICES_MAX 1024
#define TG_ESCAPED_MAX (TG_DEVICE_STRING_MAX * 4 + 8)

typedef struct Device {
        char syspath[PATH_MAX];
        char sysname[64];
        unsigned busnum, devnum;
        bool descriptors_ok;
        tg_usb_descriptors desc;
        char serial[TG_SERIAL_MAX + 1]; /* raw bytes as the device claims them, bounded */
        char serial_esc[TG_ESCAPED_MAX], manufacturer_esc[TG_ESCAPED_MAX], product_esc[TG_ESCAPED_MAX];
        tg_decision decision;
        struct Device *next;
} Device;

typedef struct Manager {
        sd_event *event;
        struct udev *udev;
        struct udev_monitor *monitor;
        sd_event_source *monitor_source, *expiry_source;
        sd_event_source *ending_source; /* the next "exception ends soon" notice */
        uint64_t *ending_told;          /* exceptions whose end the staff member was told of */
        size_t n_ending_told;
        sd_event_source *worker_done_source, *worker_slow_source;
        struct SocketServer *control; /* the control socket (control.c) */

        char config_root[PATH_MAX];
        tg_config cfg;
        tg_register reg;
        char register_path[PATH_MAX];
        tg_token_registry tokens; /* security keys and card readers with their owners */
        char tokens_path[PATH_MAX];

        Device *devices;
        size_t n_devices;
        unsigned n_controllers;
        bool clock_back_reported;

        int64_t started_at, last_reload_at;
        char last_reload_error[512];
        bool udev_running;

        sd_login_monitor *seat_monitor;
        sd_event_source *seat_source;
        char seat_user[TG_USER_MAX + 8];
        void (*seat_changed)(struct Manager *m, const char *trigger);

        /* termguard-forwarder's last report (forwarder.status); times in µs, 0: none yet */
        struct {
                int64_t report_at, last_commit_at;
                uint64_t pending;
                char last_error[TG_CTL_FORWARDER_ERROR_MAX + 1];
        } forwarder;

        /* retention.c: pruning of the audit journal; times in µs (CLOCK_REALTIME), 0: none */
        struct {
                sd_event_source *timer, *pressure;
                int64_t next_at, last_prune_at;
                int last_error, reported_error; /* the last prune's; the last one recorded */
        } retention;

        struct Intake *intake; /* intake.c: records from other programs */
        struct Logind *logind; /* logind.c */
        struct IdleLock *idle; /* idle-lock.c */
        struct Notify *notify; /* notify.c: session helpers that show notices */
} Manager;
