/* SPDX-License-Identifier: GPL-2.0-or-later */
/* termguardctl devices: present USB devices with decision and reason. */
#include <stdio.h>

#include "ctl.h"
#include "termguard/macro.h"

int ctl_devices(const ctl_context *ctx, tg_ctl_request *req, char **args _unused_) {
        tg_ctl_reply reply;
        json_object *a;
        int rc = ctl_call(ctx, req, &reply);

        if (rc)
                return rc;
        if (ctx->json)
                ctl_print_json(reply.json, TG_F_DEVICES);
        else if ((a = tg_ctl_get_list(reply.json, TG_F_DEVICES))) {
                ctl_table *t = ctl_table_new(6);
                ctl_table_add(t, _("DEVICE"), _("ID"), _("SERIAL"), _("AUTHORIZED"), _("STORAGE"), _("REASON"));
                for (size_t i = 0; i < json_object_array_length(a); i++) {
                        json_object *d = json_object_array_get_idx(a, i);
                        char id[16];
                        snprintf(id, sizeof(id), "%s:%s", tg_ctl_get_string(d, TG_F_VID),
                                 tg_ctl_get_string(d, TG_F_PID));
                        ctl_table_add(t, tg_ctl_get_string(d, TG_F_DEVICE), id, tg_ctl_get_string(d, TG_F_SERIAL),
                                      tg_ctl_get_bool(d, TG_F_AUTHORIZED) ? _("yes") : _("no"),
                                      tg_ctl_get_string(d, TG_F_STORAGE), tg_ctl_get_string(d, TG_F_REASON));
                }
                ctl_table_print(t, stdout);
                ctl_table_free(t);
        }
        tg_ctl_reply_done(&reply);
        return 0;
}
