/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdio.h>
#include <string.h>

#include <libusb-1.0/libusb.h>

#include "termguard/policy.h"

static tg_iface_verdict *verdict_for(tg_decision *d, uint8_t config_value, uint8_t number) {
        for (size_t i = 0; i < d->n_ifaces; i++)
                if (d->ifaces[i].config_value == config_value && d->ifaces[i].number == number)
                        return &d->ifaces[i];
        return NULL;
}

const tg_iface_verdict *tg_decision_iface(const tg_decision *d, uint8_t config_value, uint8_t number) {
        return verdict_for((tg_decision *) d, config_value, number);
}

/* Judges one interface descriptor (one altsetting). */
static void judge_altsetting(const tg_usb_policy *policy, const tg_usb_interface *i, const tg_medium *m, tg_mode mode,
                             bool *ret_allow, char *reason, size_t reason_size) {
        tg_iface_kind kind = tg_usb_interface_kind(i);
        const char *cname = tg_usb_class_name(i->cls);

        *ret_allow = false; /* anything not decided below is denied */
        snprintf(reason, reason_size, "not permitted");

        if (kind == TG_IFACE_OTHER) {
                if (policy->allow_class[i->cls]) {
                        *ret_allow = true;
                        snprintf(reason, reason_size, "class %02x (%s) allowed by policy", i->cls, cname);
                } else {
                        *ret_allow = false;
                        snprintf(reason, reason_size, "class %02x (%s) not allowed by policy", i->cls, cname);
                }
                return;
        }
        if (!m) {
                *ret_allow = false;
                snprintf(reason, reason_size, "unregistered %s",
                         kind == TG_IFACE_STORAGE ? "storage" : "still-image/MTP device");
                return;
        }
        switch (mode) {
        case TG_MODE_BLOCKED:
                *ret_allow = false;
                snprintf(reason, reason_size, "registered as blocked");
                return;
        case TG_MODE_READ_ONLY:
                if (kind == TG_IFACE_STILL_IMAGE) {
                        /* MTP/PTP have no block device the kernel could make read-only. */
                        *ret_allow = false;
                        snprintf(reason, reason_size,
                                 "still-image/MTP cannot be read-only; needs read-write or an exception");
                        return;
                }
                *ret_allow = true;
                snprintf(reason, reason_size, "registered, read-only");
                return;
        case TG_MODE_READ_WRITE:
                *ret_allow = true;
                snprintf(reason, reason_size, "registered, read-write");
                return;
        }
}

/* Through usbfs a program sends its own requests to every interface and to the device's control
 * endpoint, authorized or not; hidraw passes reports both ways. So raw access follows the whole
 * device: none while anything of it is denied as storage or the storage is not read-write. */
static bool raw_access_granted(const tg_token_registry *tokens, const tg_usb_descriptors *desc, const char *serial,
                               const tg_decision *d) {
        if (!d->authorize_device)
                return false;
        for (size_t k = 0; k < d->n_ifaces; k++)
                if (d->ifaces[k].kind != TG_IFACE_OTHER && !d->ifaces[k].allow)
                        return false;
        if (d->has_storage)
                return d->storage_mode == TG_MODE_READ_WRITE;
        return tg_token_match(tokens, desc->vid, desc->pid, serial) != NULL;
}

void tg_usb_decide(const tg_usb_policy *policy, const tg_register *reg, const tg_token_registry *tokens,
                   const tg_usb_descriptors *desc, const char *serial, const char *user, int64_t now,
                   tg_decision *ret) {
        tg_decision d = {0};
        const tg_medium *m = NULL;
        const tg_exception *e = NULL;
        tg_mode mode = TG_MODE_BLOCKED;
        size_t n_storage_allowed = 0;

        if (serial && *serial)
                m = tg_register_match(reg, desc->vid, desc->pid, serial);
        if (m) {
                mode = m->mode;
                snprintf(d.label, sizeof(d.label), "%s", m->label);
                e = tg_register_active_exception(reg, m->label, user, now);
                /* An exception opens writing, but never unblocks a medium registered as
                 * blocked: blocking is the stronger administrative statement. */
                if (e && mode == TG_MODE_READ_ONLY) {
                        mode = TG_MODE_READ_WRITE;
                        d.exception_id = e->id;
                }
        }
        d.storage_mode = mode;

        /* An interface passes only if every one of its altsettings passes: an altsetting can
         * switch to another class after the interface was authorized. */
        for (size_t k = 0; k < desc->n_interfaces; k++) {
                const tg_usb_interface *i = &desc->interfaces[k];
                tg_iface_verdict *v = verdict_for(&d, i->config_value, i->number);
                bool allow = false;
                char reason[80];

                judge_altsetting(policy, i, m, mode, &allow, reason, sizeof(reason));
                if (!v) {
                        v = &d.ifaces[d.n_ifaces++];
                        v->config_value = i->config_value;
                        v->number = i->number;
                        v->allow = allow;
                        v->kind = tg_usb_interface_kind(i);
                        v->cls = i->cls;
                        snprintf(v->reason, sizeof(v->reason), "%s", reason);
                } else if (v->allow && !allow) {
                        v->allow = false;
                        v->kind = tg_usb_interface_kind(i);
                        v->cls = i->cls;
                        snprintf(v->reason, sizeof(v->reason), "altsetting %u: %s", i->alt, reason);
                }
        }

        for (size_t k = 0; k < d.n_ifaces; k++) {
                if (d.ifaces[k].kind != TG_IFACE_OTHER)
                        d.has_storage = true;
                if (d.ifaces[k].allow) {
                        d.authorize_device = true;
                        if (d.ifaces[k].kind != TG_IFACE_OTHER)
                                n_storage_allowed++;
                }
        }

        if (d.n_ifaces == 0)
                snprintf(d.reason, sizeof(d.reason), "no interfaces declared");
        else if (d.has_storage && n_storage_allowed == 0)
                snprintf(d.reason, sizeof(d.reason), "storage blocked: %s",
                         !m ? "not in the media register" : "registered as blocked or not permitted in this mode");
        else if (d.has_storage && e && d.exception_id)
                snprintf(d.reason, sizeof(d.reason),
                         "registered medium \"%s\", writable under exception %llu until expiry", d.label,
                         (unsigned long long) d.exception_id);
        else if (d.has_storage)
                snprintf(d.reason, sizeof(d.reason), "registered medium \"%s\", %s", d.label, tg_mode_to_string(mode));
        else if (d.authorize_device)
                snprintf(d.reason, sizeof(d.reason), "no storage; allowed interface classes pass");
        else
                snprintf(d.reason, sizeof(d.reason), "no interface class is allowed");
        if (!d.has_storage)
                d.storage_mode = TG_MODE_BLOCKED;
        d.raw_access = raw_access_granted(tokens, desc, serial, &d);
        *ret = d;
}

bool tg_decision_equal(const tg_decision *a, const tg_decision *b) {
        if (a->authorize_device != b->authorize_device || a->storage_mode != b->storage_mode ||
            a->raw_access != b->raw_access || a->n_ifaces != b->n_ifaces)
                return false;
        for (size_t i = 0; i < a->n_ifaces; i++)
                if (a->ifaces[i].allow != b->ifaces[i].allow)
                        return false;
        return true;
}
