/* SPDX-License-Identifier: GPL-2.0-or-later */
/* termguardctl media list|add|remove: the media register. */
#include <stdio.h>

#include "ctl.h"
#include "termguard/macro.h"

static void media_list_row(ctl_table *t, json_object *d) {
        ctl_table_add(t, tg_ctl_get_string(d, TG_F_LABEL), ctl_list_usb_id(d).s, tg_ctl_get_string(d, TG_F_SERIAL),
                      tg_ctl_get_string(d, TG_F_MODE), tg_ctl_get_string(d, TG_F_DEPARTMENT),
                      tg_ctl_get_string(d, TG_F_ADDED_BY));
}

int ctl_media_list(const ctl_context *ctx, tg_ctl_request *req, char **args _unused_) {
        static const char *const headers[] = {
                N_("LABEL"), N_("ID"), N_("SERIAL"), N_("MODE"), N_("DEPARTMENT"), N_("ADDED BY"),
        };
        return ctl_call_list(ctx, req, TG_F_MEDIA, headers, ELEMENTSOF(headers), media_list_row);
}

/* media add, media remove */
int ctl_media_change(const ctl_context *ctx, tg_ctl_request *req, char **args _unused_) {
        return ctl_call_change(ctx, req,
                               req->command == TG_CTL_MEDIA_ADD ? _("Added to the media register.\n")
                                                                : _("Removed from the media register.\n"),
                               _TG_F_MAX);
}
