/* SPDX-License-Identifier: GPL-2.0-or-later */
/* termguardctl devices: present USB devices with decision and reason. */
#include <stdio.h>

#include "ctl.h"
#include "termguard/macro.h"

static void devices_row(ctl_table *t, json_object *d) {
        ctl_table_add(t, tg_ctl_get_string(d, TG_F_DEVICE), ctl_list_usb_id(d).s, tg_ctl_get_string(d, TG_F_SERIAL),
                      tg_ctl_get_bool(d, TG_F_AUTHORIZED) ? _("yes") : _("no"), tg_ctl_get_string(d, TG_F_STORAGE),
                      tg_ctl_get_string(d, TG_F_REASON));
}

int ctl_devices(const ctl_context *ctx, tg_ctl_request *req, char **args _unused_) {
        static const char *const headers[] = {
                N_("DEVICE"), N_("ID"), N_("SERIAL"), N_("AUTHORIZED"), N_("STORAGE"), N_("REASON"),
        };
        return ctl_call_list(ctx, req, TG_F_DEVICES, headers, ELEMENTSOF(headers), devices_row);
}
