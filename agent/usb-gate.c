/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The USB gate: keeps every controller deny-by-default, judges each device from its raw
 * descriptors, records the decision, then authorizes exactly the interfaces that may pass.
 * Read-only storage is made read-only (BLKROSET) as its block device appears.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <syslog.h>
#include <unistd.h>

#include "cleanup.h"
#include "event.h"
#include "idle-lock.h"
#include "media-audit.h"
#include "mounts.h"
#include "notify.h"
#include "seat.h"
#include "sysfs.h"
#include "usb-gate.h"
#include "usb-worker.h"
#include "termguard/decision-file.h"
#include "termguard/escape.h"
#include "termguard/fileio.h"
#include "termguard/macro.h"

/* Events dropped at most after a loss of events, before re-reading everything (about what
 * the 4 MiB receive buffer holds). */
#define TG_MONITOR_DRAIN_MAX 65536

/* ---- device table ---- */

static Device *device_find(Manager *m, const char *syspath) {
        for (Device *d = m->devices; d; d = d->next)
                if (strcmp(d->syspath, syspath) == 0)
                        return d;
        return NULL;
}

static void device_forget(Manager *m, Device *d) {
        for (Device **p = &m->devices; *p; p = &(*p)->next)
                if (*p == d) {
                        *p = d->next;
                        m->n_devices--;
                        free(d);
                        return;
                }
}

static void decision_dir(Manager *m, char buf[static PATH_MAX]) {
        snprintf(buf, PATH_MAX, "%s/devices", m->cfg.runtime_dir);
}

/* Records d's decision for the udev helper. On failure no decision file is left: the helper
 * then makes the medium read-only. */
static void decision_file_write(Manager *m, const Device *d) {
        tg_decision_record rec = {.busnum = d->busnum,
                                  .devnum = d->devnum,
                                  .mode = d->decision.storage_mode,
                                  .raw_access = d->decision.raw_access};
        char dir[PATH_MAX];
        int r;

        decision_dir(m, dir);
        snprintf(rec.label, sizeof(rec.label), "%s", d->decision.label);
        r = tg_decision_file_write(dir, d->sysname, &rec);
        if (r < 0)
                log_msg(LOG_ERR, "Failed to record decision for %s: %s (storage stays read-only)", d->sysname,
                        strerror(-r));
}

static void decision_file_remove(Manager *m, const char *sysname) {
        char dir[PATH_MAX];
        int r;

        decision_dir(m, dir);
        r = tg_decision_file_remove(dir, sysname);
        if (r < 0)
                log_msg(LOG_ERR, "Failed to remove the decision file of %s: %s", sysname, strerror(-r));
}

/* ---- judging ---- */

/* Exceptions do not apply while the clock is behind the latest time seen; say so once. */
int64_t usb_gate_observe_clock(Manager *m) {
        int64_t now = tg_now();
        bool back = tg_register_observe_clock(&m->reg, now);
        if (back && !m->clock_back_reported) {
                char seen[32], cur[32];
                tg_format_iso8601(m->reg.clock_high_water, seen, sizeof(seen));
                tg_format_iso8601(now, cur, sizeof(cur));
                event_emit("clock.set-back", LOG_WARNING,
                           "The clock is behind the latest time seen; write exceptions do not apply", "now", cur,
                           "latest_seen", seen, NULL);
        }
        m->clock_back_reported = back;
        return now;
}

static void device_judge(Manager *m, Device *d, tg_decision *ret) {
        int64_t now = usb_gate_observe_clock(m);
        const char *user = seat_user();
        if (!d->descriptors_ok) {
                *ret = (tg_decision){0};
                snprintf(ret->reason, sizeof(ret->reason), "malformed or unreadable descriptors");
                return;
        }
        tg_usb_decide(&m->cfg.usb, &m->reg, &m->tokens, &d->desc, d->serial, user, now, ret);
}

static int emit_decision(const Device *d, const char *trigger) {
        char vid[8], pid[8], ifaces[1024] = "", excid[24] = "";
        size_t o = 0;
        const char *user = seat_user();

        snprintf(vid, sizeof(vid), "%04x", d->desc.vid);
        snprintf(pid, sizeof(pid), "%04x", d->desc.pid);
        for (size_t i = 0; i < d->decision.n_ifaces && o < sizeof(ifaces) - 1; i++) {
                const tg_iface_verdict *v = &d->decision.ifaces[i];
                int k = snprintf(ifaces + o, sizeof(ifaces) - o, "%s%u.%u:%02x:%s", o ? "," : "", v->config_value,
                                 v->number, v->cls, v->allow ? "allow" : "deny");
                if (k < 0 || (size_t) k >= sizeof(ifaces) - o)
                        break;
                o += (size_t) k;
        }
        if (d->decision.exception_id)
                snprintf(excid, sizeof(excid), "%" PRIu64, d->decision.exception_id);
        const char *verdict = !d->decision.authorize_device                    ? "blocked"
                              : !d->decision.has_storage                       ? "allowed"
                              : d->decision.storage_mode == TG_MODE_READ_WRITE ? "read-write"
                              : d->decision.storage_mode == TG_MODE_READ_ONLY  ? "read-only"
                                                                               : "partial";
        /* A composite device whose storage is denied but other interfaces pass. */
        if (d->decision.authorize_device && d->decision.has_storage) {
                bool storage_allowed = false;
                for (size_t i = 0; i < d->decision.n_ifaces; i++)
                        if (d->decision.ifaces[i].kind != TG_IFACE_OTHER && d->decision.ifaces[i].allow)
                                storage_allowed = true;
                if (!storage_allowed)
                        verdict = "storage-blocked";
        }
        return event_emit("usb.decision", d->decision.authorize_device ? LOG_INFO : LOG_WARNING, d->decision.reason,
                          "device", d->sysname, "vid", vid, "pid", pid, "serial", d->serial_esc, "manufacturer",
                          d->manufacturer_esc, "product", d->product_esc, "descriptor_sha256",
                          d->descriptors_ok ? d->desc.hash : "", "decision", verdict, "label",
                          d->decision.label[0] ? d->decision.label : NULL, "exception", excid[0] ? excid : NULL,
                          "interfaces", ifaces, "raw_access", d->decision.raw_access ? "yes" : "no", "user",
                          user ? user : "", "trigger", trigger, NULL);
}

/* A decision's record is durable before the decision takes effect. When the audit journal
 * cannot take it (full, unwritable, never created), nothing is admitted as storage on an
 * unrecorded decision: its storage interfaces are denied (fail closed; keyboards and other
 * classes still pass) and that is recorded where it can be, with the journal's reason (the
 * journal has said why: journal.full/-unwritable). */
static void record_decision(Device *d, const char *trigger) {
        bool admits_storage = false;

        if (emit_decision(d, trigger) >= 0)
                return;
        for (size_t i = 0; i < d->decision.n_ifaces; i++) {
                tg_iface_verdict *v = &d->decision.ifaces[i];
                if (v->kind == TG_IFACE_OTHER || !v->allow)
                        continue;
                admits_storage = true;
                v->allow = false;
                snprintf(v->reason, sizeof(v->reason), "decision not recorded");
        }
        if (!admits_storage)
                return;
        d->decision.authorize_device = false;
        for (size_t i = 0; i < d->decision.n_ifaces; i++)
                d->decision.authorize_device |= d->decision.ifaces[i].allow;
        d->decision.storage_mode = TG_MODE_BLOCKED;
        snprintf(d->decision.reason, sizeof(d->decision.reason),
                 "storage blocked: the decision could not be recorded (%s)", event_journal_unusable_reason());
        log_msg(LOG_ERR, "%s: %s", d->sysname, d->decision.reason);
        (void) emit_decision(d, trigger); /* journald at least */
}

/* The verdict for an interface named "X:C.N", or NULL when the descriptors never declared it. */
static const tg_iface_verdict *interface_verdict(const Device *d, const char *intf_name) {
        unsigned cfg, num;
        const char *colon = strrchr(intf_name, ':');
        if (!d || !colon || sscanf(colon + 1, "%u.%u", &cfg, &num) != 2 || cfg > 255 || num > 255)
                return NULL;
        return tg_decision_iface(&d->decision, (uint8_t) cfg, (uint8_t) num);
}

/* The attachment a job is for: the device number d had when judged; 0 (whatever is at the
 * path) for devices not tracked. */
static unsigned attachment_of(const Device *d) {
        return d ? d->devnum : 0;
}

/* Queues a kernel write that admits target; a failure leaves it blocked (logged). */
static void gate_allow(Manager *m, GateOp op, const char *key, unsigned devnum, const char *target, const char *why) {
        int r = usb_worker_submit(m, op, key, devnum, target, why);
        if (r < 0)
                log_msg(LOG_ERR, "Failed to queue admitting %s: %s; it stays blocked", target, strerror(-r));
}

/* Queues the write that cuts target off; a failure is logged and recorded. */
static void gate_deny(Manager *m, GateOp op, const char *key, unsigned devnum, const char *target, const char *why) {
        int r = usb_worker_submit(m, op, key, devnum, target, why);
        if (r < 0)
                event_cut_off_failed(key, target, "queue", r, why);
}

/* Has udev apply d's decision to its raw nodes (72-termguard-raw.rules): usbfs is created with
 * the device, before termguardd decided, so the rule met no decision file then and left the node
 * root's; a grant needs a change uevent. A revocation needs one for every node: the device's and
 * hidraw's below it. Without udev no rule runs and the uevent changes nothing. */
static void raw_nodes_refresh(Manager *m, const Device *d, bool with_hidraw) {
        int r;

        r = usb_worker_submit(m, GATE_OP_REFRESH_NODES, d->syspath, d->devnum, d->syspath, "raw access decided");
        if (r < 0)
                log_msg(LOG_ERR, "Failed to queue the node refresh of %s: %s", d->sysname, strerror(-r));
        if (!with_hidraw)
                return;

        _cleanup_udev_enumerate_ struct udev_enumerate *en = udev_enumerate_new(m->udev);
        size_t len = strlen(d->syspath);
        struct udev_list_entry *e;
        if (!en)
                return;
        udev_enumerate_add_match_subsystem(en, "hidraw");
        udev_enumerate_scan_devices(en);
        udev_list_entry_foreach(e, udev_enumerate_get_list_entry(en)) {
                const char *p = udev_list_entry_get_name(e);
                if (strncmp(p, d->syspath, len) != 0 || p[len] != '/')
                        continue;
                r = usb_worker_submit(m, GATE_OP_REFRESH_NODES, d->syspath, d->devnum, p, "raw access decided");
                if (r < 0)
                        log_msg(LOG_ERR, "Failed to queue the node refresh of %s: %s", p, strerror(-r));
        }
}

/* Brings one interface to the device's decision. The kernel writes run on the device's worker,
 * in order; the state read here only spares a job when nothing is queued that could change it. */
static void apply_interface(Manager *m, Device *d, const char *intf_syspath, const char *intf_name) {
        const tg_iface_verdict *v = interface_verdict(d, intf_name);
        bool allow = v && v->allow;
        int authorized = sysfs_read_bool(intf_syspath, "authorized");

        if (!usb_worker_pending(intf_syspath) && authorized == (allow ? 1 : 0))
                return;
        if (authorized < 0 && !allow)
                return; /* gone */
        if (allow)
                gate_allow(m, GATE_OP_ALLOW_INTERFACE, d->syspath, d->devnum, intf_syspath, "interface permitted");
        else
                gate_deny(m, GATE_OP_DENY_INTERFACE, d->syspath, d->devnum, intf_syspath,
                          "interface no longer permitted");
}

typedef void (*interface_fn)(Manager *m, void *userdata, const char *syspath, const char *name);

/* Calls fn for each interface of the USB device at syspath (not for those of devices behind it). */
static void foreach_interface(Manager *m, const char *syspath, interface_fn fn, void *userdata) {
        _cleanup_udev_enumerate_ struct udev_enumerate *en = udev_enumerate_new(m->udev);
        _cleanup_udev_device_ struct udev_device *parent = udev_device_new_from_syspath(m->udev, syspath);
        const char *sysname = parent ? udev_device_get_sysname(parent) : NULL;
        struct udev_list_entry *e;
        char prefix[80];
        size_t len;

        if (!en || !sysname)
                return;
        /* Root hub usbN names its interfaces N-0:C.I; other devices X name them X:C.I. */
        if (strncmp(sysname, "usb", 3) == 0)
                snprintf(prefix, sizeof(prefix), "%s-0:", sysname + 3);
        else
                snprintf(prefix, sizeof(prefix), "%s:", sysname);
        len = strlen(prefix);
        /* Interfaces by name alone: matching DEVTYPE would read each one's uevent file, which
         * waits for the interface's lock while its driver probe is stalled. */
        udev_enumerate_add_match_subsystem(en, "usb");
        udev_enumerate_add_match_parent(en, parent);
        udev_enumerate_scan_devices(en);
        udev_list_entry_foreach(e, udev_enumerate_get_list_entry(en)) {
                const char *p = udev_list_entry_get_name(e);
                const char *name = strrchr(p, '/');
                if (name && strncmp(name + 1, prefix, len) == 0)
                        fn(m, userdata, p, name + 1);
        }
}

/* ---- drivers ---- */

/* Drivers that turn an interface into a disk. */
static const struct {
        const char *name;
        bool prefix;
} storage_drivers[] = {
        {"usb-storage", false},
        {"uas", false},
        {"ums-", true}, /* usb-storage's sub-drivers: ums-realtek, ums-alauda, ... */
};

static bool is_storage_driver(const char *driver) {
        for (size_t i = 0; i < ELEMENTSOF(storage_drivers); i++) {
                const char *n = storage_drivers[i].name;
                if (storage_drivers[i].prefix ? strncmp(driver, n, strlen(n)) == 0 : strcmp(driver, n) == 0)
                        return true;
        }
        return false;
}

static bool is_admitted_storage(const tg_iface_verdict *v) {
        return v && v->allow && v->kind == TG_IFACE_STORAGE;
}

static bool has_denied_storage(const Device *d) {
        for (size_t i = 0; d && i < d->decision.n_ifaces; i++)
                if (d->decision.ifaces[i].kind != TG_IFACE_OTHER && !d->decision.ifaces[i].allow)
                        return true;
        return false;
}

/* Why driver may not drive the interface (verdict v of device d, either NULL when unknown), or
 * NULL when it may. The read-only flag lives on the block device, so on a read-only medium
 * nothing but a storage driver may hold the interface: through usbfs a program sends its own
 * SCSI WRITEs. usbfs elsewhere is how pcscd and FIDO tools work and passes, except on a device
 * with denied storage: usbfs reaches the whole device through its control endpoint. */
static const char *driver_refusal(const Device *d, const tg_iface_verdict *v, const char *driver) {
        if (is_storage_driver(driver))
                return is_admitted_storage(v) ? NULL : "storage driver on an interface not admitted as storage";
        if (is_admitted_storage(v) && d->decision.storage_mode != TG_MODE_READ_WRITE)
                return "driver other than a storage driver on a read-only medium";
        if (strcmp(driver, "usbfs") == 0 && has_denied_storage(d))
                return "raw access (usbfs) to a device whose storage is denied";
        return NULL;
}

/* Cuts the interface off (the worker unmounts below it first) when driver may not drive it. */
static void driver_check(Manager *m, Device *d, const char *usb, const char *intf_syspath, const char *intf_name,
                         const char *driver) {
        const tg_iface_verdict *v = interface_verdict(d, intf_name);
        const char *why = driver_refusal(d, v, driver);
        char driver_esc[TG_ESCAPED_MAX];
        const char *user = seat_user();

        if (!why)
                return;
        tg_escape(driver, strlen(driver), 64, driver_esc, sizeof(driver_esc));
        event_emit("usb.driver-refused", LOG_WARNING, "Driver may not drive this interface; cutting it off", "device",
                   strrchr(usb, '/') + 1, "interface", intf_name, "driver", driver_esc, "reason", why, "label",
                   d && d->decision.label[0] ? d->decision.label : NULL, "user", user ? user : "", NULL);
        gate_deny(m, GATE_OP_DENY_INTERFACE, usb, attachment_of(d), intf_syspath, why);
}

/* A driver already bound (found at start, on resync or when judging again). An interface with
 * a job queued is being cut off, or re-admitted and then probed again (a bind uevent follows). */
static void driver_check_present(Manager *m, Device *d, const char *intf_syspath, const char *intf_name) {
        char driver[256];

        if (usb_worker_pending(intf_syspath) || sysfs_read_bool(intf_syspath, "authorized") != 1 ||
            sysfs_read_link_name(intf_syspath, "driver", driver, sizeof(driver)) < 0)
                return;
        driver_check(m, d, d->syspath, intf_syspath, intf_name, driver);
}

static void apply_interface_cb(Manager *m, void *userdata, const char *syspath, const char *name) {
        apply_interface(m, userdata, syspath, name);
        driver_check_present(m, userdata, syspath, name);
}

static void apply_interfaces(Manager *m, Device *d) {
        foreach_interface(m, d->syspath, apply_interface_cb, d);
}

/* A root hub's own interface is created after the hub's uevent: when the controller was locked
 * in between, the interface starts unauthorized, the hub driver never binds and every port of
 * the controller is dead. Root hub interfaces are hubs; they always pass. */
static void root_hub_interface(Manager *m, void *userdata _unused_, const char *syspath, const char *name _unused_) {
        char cls[8], hub[PATH_MAX];
        const char *slash = strrchr(syspath, '/');

        if (sysfs_read(syspath, "bInterfaceClass", cls, sizeof(cls)) <= 0 || strcmp(cls, "09") != 0)
                return;
        if (sysfs_read_bool(syspath, "authorized") != 0 || !slash)
                return;
        snprintf(hub, sizeof(hub), "%.*s", (int) (slash - syspath), syspath);
        gate_allow(m, GATE_OP_ALLOW_INTERFACE, hub, 0, syspath, "root hub");
}

static void apply_device(Manager *m, Device *d) {
        int authorized = sysfs_read_bool(d->syspath, "authorized");
        bool queued = usb_worker_pending(d->syspath);

        if (!d->decision.authorize_device) {
                if (authorized != 0 || queued)
                        gate_deny(m, GATE_OP_DENY_DEVICE, d->syspath, d->devnum, d->syspath,
                                  "device no longer permitted");
                return;
        }
        if (authorized == 0 || queued)
                gate_allow(m, GATE_OP_ALLOW_DEVICE, d->syspath, d->devnum, d->syspath, "attach");
        /* Interfaces already present (coldplug, re-judging); new ones come as uevents. */
        apply_interfaces(m, d);
}

static void read_string_attr(const char *syspath, const char *attr, char *raw, size_t raw_size, char *esc,
                             size_t esc_size) {
        char buf[TG_DEVICE_STRING_MAX * 4 + 1];
        ssize_t n = sysfs_read(syspath, attr, buf, sizeof(buf));
        if (n < 0)
                n = 0, buf[0] = '\0';
        if (raw)
                snprintf(raw, raw_size, "%.*s", (int) (raw_size - 1), buf);
        tg_escape(buf, (size_t) n, TG_DEVICE_STRING_MAX * 3, esc, esc_size);
}

static bool serial_too_long(const char *syspath) {
        char buf[TG_SERIAL_MAX + 2];
        return sysfs_read(syspath, "serial", buf, sizeof(buf)) > TG_SERIAL_MAX;
}

/* Decisions of devices unplugged while the daemon was down would mislead anyone reading the
 * directory (they can never grant anything: DEVNUM differs). Coldplug writes the live ones. */
static void clear_decision_files(const char *devdir) {
        _cleanup_closedir_ DIR *dir = opendir(devdir);
        struct dirent *e;
        if (!dir)
                return;
        while ((e = readdir(dir)))
                if (e->d_name[0] != '.' && unlinkat(dirfd(dir), e->d_name, 0) < 0)
                        log_msg(LOG_WARNING, "Failed to remove the stale decision file %s: %m", e->d_name);
}

/* The device number of the device at syspath now; 0 when it is gone or unreadable (USB device
 * numbers start at 1). Read without the device's lock, so safe while a probe is stalled. */
static unsigned current_devnum(const char *syspath) {
        unsigned devnum = 0;
        if (sysfs_read_uint(syspath, "devnum", &devnum) < 0)
                return 0;
        return devnum;
}

/* False once d's attachment is unplugged: the port's next device gets the same sysfs path, so
 * an event about d that is read late must not act on whatever is at the path now. */
static bool device_is_current(const Device *d) {
        return current_devnum(d->syspath) == d->devnum;
}

/* The device number a kernel uevent of a USB device carries (DEVNUM=), i.e. the attachment it
 * is about, whatever is at its path by the time it is read. Only for events from the monitor:
 * for an enumerated device libudev would read the uevent file, under the device's lock. */
static bool event_devnum(struct udev_device *dev, unsigned *ret) {
        const char *v = udev_device_get_property_value(dev, "DEVNUM");
        char *end;
        unsigned long n;

        if (!v || *v < '0' || *v > '9')
                return false;
        errno = 0;
        n = strtoul(v, &end, 10);
        if (errno != 0 || *end != '\0' || n == 0 || n > 255)
                return false;
        *ret = (unsigned) n;
        return true;
}

/* Reads the device at dev's path into *d (new, or the entry found at that path). expected:
 * the attachment an event is about (0: whatever is there). -ESTALE when that attachment is gone,
 * or the device was replaced while being read: what was read may be another device's, and the
 * newer device's own events follow. */
static int device_add(Manager *m, struct udev_device *dev, unsigned expected, Device **ret) {
        const char *syspath = udev_device_get_syspath(dev);
        const char *sysname = udev_device_get_sysname(dev);
        _cleanup_free_ Device *n = calloc(1, sizeof(*n));
        _cleanup_free_ uint8_t *raw = malloc(TG_USB_DESCRIPTORS_MAX + 1);
        Device *d = device_find(m, syspath);
        unsigned devnum = current_devnum(syspath);
        char num[16], path[PATH_MAX + 16];
        ssize_t len = -ENAMETOOLONG;
        bool fresh;

        if (!n || !raw)
                return -ENOMEM;
        if (devnum == 0 || (expected != 0 && devnum != expected))
                return -ESTALE;
        if (!d && m->n_devices >= TG_DEVICES_MAX) {
                log_msg(LOG_ERR, "Too many USB devices tracked; %s stays unauthorized", sysname);
                return -ENOSPC;
        }
        /* Same port, new device number: another attachment whose removal was missed. It is a
         * new device, never one that inherits the old entry. */
        fresh = !d || d->devnum != devnum;
        if (!fresh)
                *n = *d;
        snprintf(n->syspath, sizeof(n->syspath), "%s", syspath);
        snprintf(n->sysname, sizeof(n->sysname), "%s", sysname);
        n->busnum = sysfs_read(syspath, "busnum", num, sizeof(num)) > 0 ? (unsigned) strtoul(num, NULL, 10) : 0;
        n->devnum = devnum;

        if ((size_t) snprintf(path, sizeof(path), "%s/descriptors", syspath) < sizeof(path))
                len = tg_read_file(path, raw, TG_USB_DESCRIPTORS_MAX + 1);
        /* More than the bound is malformed too: the parser refuses it. */
        n->descriptors_ok = len > 0 && tg_usb_parse_descriptors(raw, (size_t) len, &n->desc) == 0;
        /* The kernel reads these strings under the device's lock (a stalled probe holds it);
         * one attachment's strings do not change, so a known one is not asked again. */
        if (fresh) {
                read_string_attr(syspath, "serial", n->serial, sizeof(n->serial), n->serial_esc, sizeof(n->serial_esc));
                read_string_attr(syspath, "manufacturer", NULL, 0, n->manufacturer_esc, sizeof(n->manufacturer_esc));
                read_string_attr(syspath, "product", NULL, 0, n->product_esc, sizeof(n->product_esc));
                /* A serial with control characters, invalid UTF-8 or longer than the register
                 * allows (compared cut short, two serials could collide) never matches it. */
                if (!tg_valid_text(n->serial, TG_SERIAL_MAX, true) || serial_too_long(syspath))
                        n->serial[0] = '\0';
        }
        if (current_devnum(syspath) != devnum)
                return -ESTALE;

        if (d) {
                n->next = d->next;
                *d = *n;
        } else {
                d = TAKE_PTR(n);
                d->next = m->devices;
                m->devices = d;
                m->n_devices++;
        }
        if (fresh) {
                char vid[8], pid[8];
                snprintf(vid, sizeof(vid), "%04x", d->desc.vid);
                snprintf(pid, sizeof(pid), "%04x", d->desc.pid);
                const char *user = seat_user();
                event_emit("usb.attach", LOG_INFO, "USB device attached", "device", d->sysname, "vid", vid, "pid", pid,
                           "serial", d->serial_esc, "manufacturer", d->manufacturer_esc, "product", d->product_esc,
                           "descriptor_sha256", d->descriptors_ok ? d->desc.hash : "", "user", user ? user : "", NULL);
        }
        *ret = d;
        return 0;
}

/* An add event of an attachment that was unplugged before it could be judged (the next device
 * on the port may be there already). It was never authorized by termguardd: recorded with what
 * the event itself says, and not judged, as judging would read the device now at the path. */
static void device_missed(struct udev_device *dev, unsigned devnum) {
        const char *product = udev_device_get_property_value(dev, "PRODUCT");
        unsigned vid = 0, pid = 0;
        char vids[8] = "", pids[8] = "", num[12];

        /* PRODUCT=vid/pid/bcdDevice in hex, formatted by the kernel; checked all the same. */
        if (product && sscanf(product, "%4x/%4x/", &vid, &pid) == 2) {
                snprintf(vids, sizeof(vids), "%04x", vid);
                snprintf(pids, sizeof(pids), "%04x", pid);
        }
        snprintf(num, sizeof(num), "%u", devnum);
        event_emit("usb.missed", LOG_NOTICE, "USB device was gone before it could be judged; it was not authorized",
                   "device", udev_device_get_sysname(dev), "devnum", num, "vid", vids[0] ? vids : NULL, "pid",
                   pids[0] ? pids : NULL, NULL);
}

/* Judges a device, records the decision (event, then the file the udev helper reads), and only
 * then touches the kernel's authorization. */
/* True if a block device below syspath is writable (its read-only flag is not set). */
static bool has_writable_block(Manager *m, const char *syspath) {
        _cleanup_udev_enumerate_ struct udev_enumerate *en = udev_enumerate_new(m->udev);
        _cleanup_udev_device_ struct udev_device *parent = udev_device_new_from_syspath(m->udev, syspath);
        struct udev_list_entry *e;

        if (!en || !parent)
                return false;
        udev_enumerate_add_match_subsystem(en, "block");
        udev_enumerate_add_match_parent(en, parent);
        udev_enumerate_scan_devices(en);
        udev_list_entry_foreach(e, udev_enumerate_get_list_entry(en)) {
                char ro[8];
                if (sysfs_read(udev_list_entry_get_name(e), "ro", ro, sizeof(ro)) > 0 && strcmp(ro, "0") == 0)
                        return true;
        }
        return false;
}

/* Cuts off the storage interfaces currently admitted, after unmounting what is on them. The
 * unmount stays here, before the new decision is recorded and before a block device of the
 * medium could be set read-only under a live read-write mount; the deauthorizing writes go to
 * the device's worker (they wait for the device's lock while one of its probes is stalled). */
static void storage_cut_off(Manager *m, Device *d, const tg_decision *admitted, const char *why) {
        int r = mounts_unmount_below(m->udev, d->syspath, why);
        if (r < 0)
                event_cut_off_failed(d->syspath, d->syspath, "unmount", r, why);
        media_audit_device_ended(m, d->syspath, why);
        for (size_t i = 0; i < admitted->n_ifaces; i++) {
                const tg_iface_verdict *v = &admitted->ifaces[i];
                char intf[PATH_MAX + 80];
                if (v->kind == TG_IFACE_OTHER || !v->allow)
                        continue;
                snprintf(intf, sizeof(intf), "%s/%s:%u.%u", d->syspath, d->sysname, v->config_value, v->number);
                if (access(intf, F_OK) == 0)
                        gate_deny(m, GATE_OP_DENY_INTERFACE, d->syspath, d->devnum, intf, why);
        }
}

/* Tells the staff member at the seat what became of the storage just plugged in: refused, or
 * read-only. Other devices and read-write media pass without a word. */
static void notice_plugged(Manager *m, const Device *d) {
        const IdleSession *s;
        bool storage_allowed = false;
        tg_notice n = {0};

        if (!d->decision.has_storage)
                return;
        for (size_t i = 0; i < d->decision.n_ifaces; i++)
                if (d->decision.ifaces[i].kind != TG_IFACE_OTHER && d->decision.ifaces[i].allow)
                        storage_allowed = true;
        if (!storage_allowed || d->decision.storage_mode == TG_MODE_BLOCKED)
                n.kind = TG_NOTICE_STORAGE_BLOCKED;
        else if (d->decision.storage_mode == TG_MODE_READ_ONLY) {
                n.kind = TG_NOTICE_STORAGE_READ_ONLY;
                snprintf(n.label, sizeof(n.label), "%s", d->decision.label);
        } else
                return;
        tg_notice_set_device(&n, d->product_esc[0] ? d->product_esc : d->manufacturer_esc, d->desc.vid, d->desc.pid);
        s = idle_lock_active_session(m, "seat0");
        if (s)
                notify_session(m, s->info.id, s->info.uid, &n);
}

static void device_process(Manager *m, Device *d, const char *trigger) {
        device_judge(m, d, &d->decision);
        record_decision(d, trigger);
        decision_file_write(m, d);
        raw_nodes_refresh(m, d, true);
        /* Found writable at start although the decision is read-only (its exception expired
         * while termguardd was not running): unmount and re-admit it, as a mode change. The
         * read-only flag must never go under a live read-write mount. */
        if (d->decision.storage_mode != TG_MODE_READ_WRITE && has_writable_block(m, d->syspath)) {
                log_msg(LOG_NOTICE, "%s is writable but its decision is not: re-admitting it", d->sysname);
                storage_cut_off(m, d, &d->decision, "mode changed while termguardd was not running");
        }
        apply_device(m, d);
}

static void controller_lock(Manager *m, struct udev_device *dev) {
        const char *syspath = udev_device_get_syspath(dev);
        int r1 = sysfs_write(syspath, "authorized_default", "0");
        int r2 = sysfs_write(syspath, "interface_authorized_default", "0");
        if (r1 < 0)
                log_msg(LOG_ERR, "Failed to lock controller %s: %s", udev_device_get_sysname(dev), strerror(-r1));
        if (r2 < 0)
                log_msg(LOG_WARNING, "Failed to set interface_authorized_default on %s: %s",
                        udev_device_get_sysname(dev), strerror(-r2));
        m->n_controllers++;
        foreach_interface(m, syspath, root_hub_interface, NULL);
        event_emit("usb.controller-locked", r1 < 0 ? LOG_ERR : LOG_INFO,
                   r1 < 0 ? "Failed to lock controller" : "Controller set to deny new devices by default", "controller",
                   udev_device_get_sysname(dev), "result", r1 < 0 ? strerror(-r1) : "ok", NULL);
}

static bool is_root_hub(struct udev_device *dev) {
        return strncmp(udev_device_get_sysname(dev), "usb", 3) == 0;
}

/* A USB interface name: "B-P[.P...]:C.I" ("B-0:C.I" on a root hub). */
static bool is_interface_name(const char *s, size_t len) {
        const char *e = s + len;
        const char *p = s;
        size_t n;
        if ((n = strspn(p, "0123456789")) == 0 || p + n >= e || p[n] != '-')
                return false;
        p += n + 1;
        if ((n = strspn(p, "0123456789.")) == 0 || p + n >= e || p[n] != ':')
                return false;
        p += n + 1;
        if ((n = strspn(p, "0123456789")) == 0 || p + n >= e || p[n] != '.')
                return false;
        p += n + 1;
        n = strspn(p, "0123456789");
        return n > 0 && p + n == e;
}

/* The USB interface a sysfs path is or lies below, and its device, from the path alone. Asking
 * libudev for a parent by type reads the parent's uevent file, which the kernel serves under
 * the device's lock: while a driver probe of the device is stalled, that read would stall the
 * event loop. */
static bool usb_ancestors(const char *syspath, char ret_intf[static PATH_MAX], char ret_dev[static PATH_MAX]) {
        const char *found = NULL, *found_end = NULL;
        for (const char *c = syspath; *c;) {
                const char *slash = strchr(c, '/');
                const char *end = slash ? slash : c + strlen(c);
                if (is_interface_name(c, (size_t) (end - c)))
                        found = c, found_end = end;
                c = slash ? slash + 1 : end;
        }
        if (!found || found == syspath || (size_t) (found_end - syspath) >= PATH_MAX)
                return false;
        snprintf(ret_intf, PATH_MAX, "%.*s", (int) (found_end - syspath), syspath);
        snprintf(ret_dev, PATH_MAX, "%.*s", (int) (found - 1 - syspath), syspath);
        return true;
}

/* True while the disk an event is about is still there under its device number. Disk names are
 * reused by the next disk; a node opened after this holds is this event's disk. */
static bool block_is_current(struct udev_device *dev) {
        dev_t devnum = udev_device_get_devnum(dev);
        char want[32], have[32];

        snprintf(want, sizeof(want), "%u:%u", major(devnum), minor(devnum));
        return sysfs_read(udev_device_get_syspath(dev), "dev", have, sizeof(have)) > 0 && strcmp(have, want) == 0;
}

/* A block device below a device whose storage is not read-write becomes read-only now. */
static void block_guard(Manager *m, struct udev_device *dev) {
        const char *node = udev_device_get_devnode(dev);
        char intf[PATH_MAX], usb[PATH_MAX];
        Device *d;
        _cleanup_close_ int fd = -EBADF;
        int one = 1;

        if (!node || !usb_ancestors(udev_device_get_syspath(dev), intf, usb))
                return;
        d = device_find(m, usb);
        /* A disk of an attachment that is unplugged (its event read late): the path and the
         * node name may be the next device's by now; that device's own events follow. A disk
         * gone already is nothing to judge either. */
        if ((d && !device_is_current(d)) || !block_is_current(dev))
                return;
        /* A disk may only come from an interface admitted as mass storage. Drivers bind by more
         * than the declared class (usb-storage's unusual-devices table matches vendor and
         * product alone), so an interface admitted as, say, audio can still grow a disk. */
        const char *intf_name = strrchr(intf, '/') + 1;
        const tg_iface_verdict *v = interface_verdict(d, intf_name);
        if (!v || !v->allow || v->kind != TG_IFACE_STORAGE) {
                event_emit("storage.unexpected", LOG_WARNING,
                           "Block device from an interface not admitted as storage; cutting it off", "devnode", node,
                           "device", strrchr(usb, '/') + 1, "interface", intf_name, NULL);
                gate_deny(m, GATE_OP_DENY_INTERFACE, usb, attachment_of(d), intf, "not admitted as storage");
                return;
        }
        if (d->decision.storage_mode == TG_MODE_READ_WRITE)
                return;
        fd = open(node, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
        /* Unplugged meanwhile: the node may name the next disk by now, or nothing. */
        if (!block_is_current(dev) || !device_is_current(d))
                return;
        if (fd < 0 || ioctl(fd, BLKROSET, &one) < 0) {
                int r = -errno;
                /* Gone meanwhile (a LUN that is not a disk, deleted by scsi_guard(); a medium
                 * pulled): nothing is left to protect, and the rest of the medium stays. */
                if (access(udev_device_get_syspath(dev), F_OK) < 0 && errno == ENOENT)
                        return;
                event_emit("storage.error", LOG_ERR, "Could not make removable medium read-only; cutting it off",
                           "devnode", node, "error", strerror(-r), NULL);
                /* Fail closed: a medium that cannot be made read-only must not stay attached. */
                gate_deny(m, GATE_OP_DENY_INTERFACE, d->syspath, d->devnum, intf, "could not be made read-only");
                return;
        }
        event_emit("storage.read-only", LOG_INFO, "Removable medium set read-only", "devnode", node, "device",
                   d->sysname, "label", d->decision.label, NULL);
}

/* SCSI peripheral types that sd drives as disks (direct access, optical memory, RBC): the ones
 * BLKROSET covers. Any other LUN (CD-ROM, changer, processor, ...) has nodes, sg above all,
 * through which SG_IO writes whatever the read-only flag says. */
static const unsigned disk_scsi_types[] = {0x00, 0x07, 0x0e};

static bool is_disk_scsi_type(const char *type) {
        char *end;
        unsigned long t;

        errno = 0;
        t = strtoul(type, &end, 10);
        if (errno || end == type || *end)
                return false;
        for (size_t i = 0; i < ELEMENTSOF(disk_scsi_types); i++)
                if (t == disk_scsi_types[i])
                        return true;
        return false;
}

/* A SCSI device (a LUN) below a USB interface. Drivers bind by more than the declared class
 * (usb-storage's unusual-devices table), so a LUN may come from an interface admitted as, say,
 * a smart-card reader: the interface is cut off. On a medium that is not read-write, a LUN
 * that is not a disk is removed from the kernel, sg and sr nodes with it; the disks stay,
 * read-only. Both are recorded. */
static void scsi_guard(Manager *m, struct udev_device *dev) {
        const char *syspath = udev_device_get_syspath(dev);
        const char *lun = udev_device_get_sysname(dev);
        const char *user = seat_user();
        char intf[PATH_MAX], usb[PATH_MAX], type[16];
        Device *d;

        if (!usb_ancestors(syspath, intf, usb))
                return;
        d = device_find(m, usb);
        const char *intf_name = strrchr(intf, '/') + 1;
        const tg_iface_verdict *v = interface_verdict(d, intf_name);
        if (sysfs_read(syspath, "type", type, sizeof(type)) <= 0)
                snprintf(type, sizeof(type), "unknown");
        if (!is_admitted_storage(v)) {
                event_emit("storage.unexpected", LOG_WARNING,
                           "SCSI device from an interface not admitted as storage; cutting it off", "device",
                           strrchr(usb, '/') + 1, "interface", intf_name, "lun", lun, "scsi_type", type, "user",
                           user ? user : "", NULL);
                gate_deny(m, GATE_OP_DENY_INTERFACE, usb, d ? d->devnum : 0, intf,
                          "SCSI device on an interface not admitted as storage");
                return;
        }
        if (d->decision.storage_mode == TG_MODE_READ_WRITE || is_disk_scsi_type(type))
                return;
        event_emit("storage.lun-removed", LOG_WARNING,
                   "A read-only medium has a SCSI device that is not a disk; removing it", "device", d->sysname,
                   "interface", intf_name, "lun", lun, "scsi_type", type, "label",
                   d->decision.label[0] ? d->decision.label : NULL, "user", user ? user : "", NULL);
        gate_deny(m, GATE_OP_DELETE_SCSI, usb, d->devnum, syspath, "not a disk on a read-only medium");
}

static void interface_added(Manager *m, struct udev_device *dev, const char *usb) {
        Device *d;

        if (strncmp(strrchr(usb, '/') + 1, "usb", 3) == 0) {
                root_hub_interface(m, NULL, udev_device_get_syspath(dev), udev_device_get_sysname(dev));
                return;
        }
        d = device_find(m, usb);
        if (!d) {
                _cleanup_udev_device_ struct udev_device *parent = udev_device_new_from_syspath(m->udev, usb);
                if (!parent || device_add(m, parent, 0, &d) < 0)
                        return;
                device_judge(m, d, &d->decision);
                record_decision(d, "attach");
                decision_file_write(m, d);
                raw_nodes_refresh(m, d, false);
        }
        apply_interface(m, d, udev_device_get_syspath(dev), udev_device_get_sysname(dev));
}

/* The kernel's bind uevent names the driver (DRIVER=); usbfs claims by pcscd, FIDO tools or
 * any libusb program appear here as driver "usbfs". */
static void interface_bound(Manager *m, struct udev_device *dev, const char *usb) {
        const char *driver = udev_device_get_driver(dev);

        if (!driver || strncmp(strrchr(usb, '/') + 1, "usb", 3) == 0)
                return; /* root hubs: the hub driver */
        driver_check(m, device_find(m, usb), usb, udev_device_get_syspath(dev), udev_device_get_sysname(dev), driver);
}

/* A driver left an admitted storage interface (usb-storage unbound by sysfs or by libusb's
 * detach), recorded. usbfs claims and releases send no uevent at all, so on a read-only medium
 * the unbind is the last sign before a claim that would send SCSI writes past the read-only
 * flag: the interface is cut off and admitted again, which drops any claim and probes the
 * storage driver anew. The unbind of termguardd's own cut-off is skipped: a job is still
 * queued, or the storage driver is back. */
static void interface_unbound(Manager *m, struct udev_device *dev, const char *usb) {
        const char *syspath = udev_device_get_syspath(dev);
        const char *name = udev_device_get_sysname(dev);
        Device *d = device_find(m, usb);
        const char *user = seat_user();
        char driver[256] = "", driver_esc[TG_ESCAPED_MAX];

        if (!is_admitted_storage(interface_verdict(d, name)) || usb_worker_pending(syspath) ||
            sysfs_read_bool(syspath, "authorized") != 1)
                return;
        if (sysfs_read_link_name(syspath, "driver", driver, sizeof(driver)) < 0)
                driver[0] = '\0';
        if (is_storage_driver(driver))
                return;
        bool reset = d->decision.storage_mode != TG_MODE_READ_WRITE;
        tg_escape(driver, strlen(driver), 64, driver_esc, sizeof(driver_esc));
        event_emit("usb.driver-unbound", reset ? LOG_WARNING : LOG_NOTICE,
                   reset ? "Storage driver left a read-only medium; re-admitting the interface"
                         : "Driver left an admitted storage interface",
                   "device", d->sysname, "interface", name, "driver", driver_esc, "action",
                   reset ? "re-admitted" : "none", "label", d->decision.label[0] ? d->decision.label : NULL, "user",
                   user ? user : "", NULL);
        if (!reset)
                return;
        gate_deny(m, GATE_OP_DENY_INTERFACE, usb, d->devnum, syspath, "storage driver left a read-only medium");
        gate_allow(m, GATE_OP_ALLOW_INTERFACE, usb, d->devnum, syspath, "re-admitted with its storage driver");
}

static const struct {
        const char *action;
        void (*handle)(Manager *m, struct udev_device *dev, const char *usb);
} interface_actions[] = {
        {"add", interface_added},
        {"bind", interface_bound},
        {"unbind", interface_unbound},
};

static void handle_device(Manager *m, struct udev_device *dev, const char *action) {
        const char *subsystem = udev_device_get_subsystem(dev);
        const char *devtype = udev_device_get_devtype(dev);

        if (!subsystem)
                return;
        if (strcmp(subsystem, "block") == 0) {
                if (strcmp(action, "add") == 0 || strcmp(action, "change") == 0)
                        block_guard(m, dev);
                return;
        }
        if (strcmp(subsystem, "scsi") == 0) {
                if (strcmp(action, "add") == 0 && devtype && strcmp(devtype, "scsi_device") == 0)
                        scsi_guard(m, dev);
                return;
        }
        if (strcmp(subsystem, "usb") != 0 || !devtype)
                return;

        if (strcmp(devtype, "usb_device") == 0) {
                if (strcmp(action, "remove") == 0) {
                        Device *d = device_find(m, udev_device_get_syspath(dev));
                        const char *user = seat_user();
                        unsigned devnum;
                        /* The entry at this path is a later attachment (found on a resync while
                         * this removal was still queued): it stays, with its decision file. */
                        bool other = d && event_devnum(dev, &devnum) && devnum != d->devnum;
                        event_emit("usb.detach", LOG_INFO, "USB device detached", "device",
                                   udev_device_get_sysname(dev), "label",
                                   d && !other && d->decision.label[0] ? d->decision.label : NULL, "serial",
                                   d && !other ? d->serial_esc : NULL, "user", user ? user : "", NULL);
                        if (other)
                                return;
                        decision_file_remove(m, udev_device_get_sysname(dev));
                        usb_worker_forget(udev_device_get_syspath(dev));
                        media_audit_device_ended(m, udev_device_get_syspath(dev), "detached");
                        if (d) {
                                /* A registered key pulled: its owner's sessions are locked. */
                                idle_lock_token_removed(m, d->desc.vid, d->desc.pid, d->serial, d->sysname);
                                device_forget(m, d);
                        }
                        return;
                }
                if (strcmp(action, "add") != 0)
                        return;
                if (is_root_hub(dev)) {
                        controller_lock(m, dev);
                        return;
                }
                unsigned devnum = 0;
                Device *d;
                /* Without DEVNUM (not from the kernel) the device at the path is the one. */
                (void) event_devnum(dev, &devnum);
                int r = device_add(m, dev, devnum, &d);
                if (r == -ESTALE && devnum != 0)
                        device_missed(dev, devnum);
                if (r >= 0) {
                        device_process(m, d, "attach");
                        notice_plugged(m, d);
                }
        } else if (strcmp(devtype, "usb_interface") == 0) {
                char intf[PATH_MAX], usb[PATH_MAX];
                if (!usb_ancestors(udev_device_get_syspath(dev), intf, usb))
                        return;
                /* An event of an attachment that is unplugged: its path may be the next
                 * device's already, which this event is not about. */
                Device *d = device_find(m, usb);
                if (d && !device_is_current(d))
                        return;
                for (size_t i = 0; i < ELEMENTSOF(interface_actions); i++)
                        if (strcmp(action, interface_actions[i].action) == 0) {
                                interface_actions[i].handle(m, dev, usb);
                                return;
                        }
        }
}

static void coldplug(Manager *m, const char *subsystem, const char *trigger);

/* Kernel events were lost (the socket buffer overflowed): judge everything present again and
 * forget what is gone, as at start. */
static void resync(Manager *m) {
        event_emit("usb.resync", LOG_WARNING, "Kernel events were lost; re-reading all USB devices", NULL);
        for (Device *d = m->devices, *next; d; d = next) {
                next = d->next;
                if (!device_is_current(d)) {
                        event_emit("usb.detach", LOG_INFO, "USB device detached (noticed on resync)", "device",
                                   d->sysname, "label", d->decision.label[0] ? d->decision.label : NULL, "serial",
                                   d->serial_esc, NULL);
                        decision_file_remove(m, d->sysname);
                        usb_worker_forget(d->syspath);
                        media_audit_device_ended(m, d->syspath, "detached");
                        idle_lock_token_removed(m, d->desc.vid, d->desc.pid, d->serial, d->sysname);
                        device_forget(m, d);
                }
        }
        coldplug(m, "usb", "resync");
        coldplug(m, "scsi", "resync");
        coldplug(m, "block", "resync");
}

/* Drops what is queued on the monitor. After an overflow the kernel reports the next loss only
 * once the queue was empty: events lost while it stays full (a device the resync admits grows
 * interfaces) would be lost unnoticed. What is dropped here predates the re-reading that
 * follows. Bounded, as events keep coming while it runs. */
static void monitor_drain(Manager *m) {
        for (unsigned i = 0; i < TG_MONITOR_DRAIN_MAX; i++) {
                _cleanup_udev_device_ struct udev_device *dev = udev_monitor_receive_device(m->monitor);
                if (!dev && errno != ENOBUFS)
                        return;
        }
}

static int monitor_handler(sd_event_source *s _unused_, int fd _unused_, uint32_t revents _unused_, void *userdata) {
        Manager *m = userdata;

        for (;;) {
                errno = 0;
                _cleanup_udev_device_ struct udev_device *dev = udev_monitor_receive_device(m->monitor);
                if (!dev)
                        break;
                const char *action = udev_device_get_action(dev);
                if (action)
                        handle_device(m, dev, action);
        }
        if (errno == ENOBUFS) {
                monitor_drain(m);
                resync(m);
        }
        return 0;
}

static void coldplug(Manager *m, const char *subsystem, const char *trigger) {
        _cleanup_udev_enumerate_ struct udev_enumerate *en = udev_enumerate_new(m->udev);
        struct udev_list_entry *e;

        if (!en)
                return;
        udev_enumerate_add_match_subsystem(en, subsystem);
        udev_enumerate_scan_devices(en);
        udev_list_entry_foreach(e, udev_enumerate_get_list_entry(en)) {
                _cleanup_udev_device_ struct udev_device *dev =
                        udev_device_new_from_syspath(m->udev, udev_list_entry_get_name(e));
                if (!dev)
                        continue;
                const char *devtype = udev_device_get_devtype(dev);
                if (strcmp(subsystem, "block") == 0 || strcmp(subsystem, "scsi") == 0) {
                        handle_device(m, dev, "add");
                } else if (devtype && strcmp(devtype, "usb_device") == 0) {
                        if (is_root_hub(dev))
                                controller_lock(m, dev);
                        else {
                                Device *d;
                                if (device_add(m, dev, 0, &d) >= 0)
                                        device_process(m, d, trigger);
                        }
                }
        }
}

/* ---- expiry and re-judging ---- */

void usb_gate_rejudge_all(Manager *m, const char *trigger) {
        for (Device *d = m->devices; d; d = d->next) {
                tg_decision n;
                device_judge(m, d, &n);
                if (tg_decision_equal(&n, &d->decision)) {
                        /* Same effect on the kernel; if the label or the exception in force
                         * changed, the record and the decision file must say so. */
                        bool info_changed =
                                n.exception_id != d->decision.exception_id || strcmp(n.label, d->decision.label) != 0;
                        d->decision = n;
                        if (info_changed) {
                                record_decision(d, trigger);
                                decision_file_write(m, d);
                        }
                        continue;
                }
                bool mode_changed = n.storage_mode != d->decision.storage_mode;
                bool raw_changed = n.raw_access != d->decision.raw_access;
                /* Storage leaves the system before its mode changes: unmount, then cut the
                 * interface off, so nothing mounted read-write survives into read-only. */
                if (mode_changed || !n.authorize_device)
                        storage_cut_off(m, d, &d->decision, trigger);
                d->decision = n;
                record_decision(d, trigger);
                decision_file_write(m, d);
                if (raw_changed || mode_changed)
                        raw_nodes_refresh(m, d, true);
                apply_device(m, d);
        }
}

int usb_gate_start(Manager *m) {
        char devdir[PATH_MAX];
        int r;

        m->udev = udev_new();
        if (!m->udev)
                return -ENOMEM;
        m->udev_running = access("/run/udev/control", F_OK) == 0;
        r = usb_worker_start(m);
        if (r < 0)
                return r;
        snprintf(devdir, sizeof(devdir), "%s/devices", m->cfg.runtime_dir);
        r = tg_decision_dir_prepare(devdir);
        if (r < 0)
                return r;
        clear_decision_files(devdir);

        /* Kernel uevents directly: decisions do not wait for udev, and no udev is needed. */
        m->monitor = udev_monitor_new_from_netlink(m->udev, "kernel");
        if (!m->monitor)
                return -EIO;
        udev_monitor_filter_add_match_subsystem_devtype(m->monitor, "usb", NULL);
        udev_monitor_filter_add_match_subsystem_devtype(m->monitor, "block", NULL);
        udev_monitor_filter_add_match_subsystem_devtype(m->monitor, "scsi", "scsi_device");
        udev_monitor_set_receive_buffer_size(m->monitor, 4 * 1024 * 1024);
        r = udev_monitor_enable_receiving(m->monitor);
        if (r < 0)
                return r;
        r = sd_event_add_io(m->event, &m->monitor_source, udev_monitor_get_fd(m->monitor), EPOLLIN, monitor_handler, m);
        if (r < 0)
                return r;
        /* A device waiting for its decision goes before any request or record in the queue: a
         * user sending request after request cannot hold a plug back by more than one of them. */
        r = sd_event_source_set_priority(m->monitor_source, SD_EVENT_PRIORITY_IMPORTANT);
        if (r < 0)
                return r;

        return media_audit_start(m);
}

/* After usb_gate_start(): monitor first, then enumerate, so nothing that appears in between is
 * missed. Devices already present are judged like new ones. */
void usb_gate_coldplug(Manager *m, const char *trigger) {
        coldplug(m, "usb", trigger);
        coldplug(m, "scsi", trigger);
        coldplug(m, "block", trigger);
        /* Media mounted read-write before termguardd started. */
        media_audit_rescan(m);
}

void usb_gate_stop(Manager *m) {
        /* Controllers stay deny-by-default: after we are gone, new storage stays out. */
        media_audit_stop(m);
        usb_worker_stop(m);
        m->monitor_source = sd_event_source_unref(m->monitor_source);
        udev_monitor_unref(m->monitor);
        m->monitor = NULL;
        while (m->devices)
                device_forget(m, m->devices);
        udev_unref(m->udev);
        m->udev = NULL;
}
