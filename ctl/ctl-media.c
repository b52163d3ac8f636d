/* SPDX-License-Identifier: GPL-2.0-or-later */
/* termguardctl media list|add|remove: the media register. */
#include <stdio.h>

#include "ctl.h"
#include "termguard/macro.h"

int ctl_media_list(const ctl_context *ctx, tg_ctl_request *req, char **args _unused_) {
        tg_ctl_reply reply;
        json_object *a;
        int rc = ctl_call(ctx, req, &reply);

        if (rc)
                return rc;
        if (ctx->json)
                ctl_print_json(reply.json, TG_F_MEDIA);
        else if ((a = tg_ctl_get_list(reply.json, TG_F_MEDIA))) {
                ctl_table *t = ctl_table_new(6);
                ctl_table_add(t, _("LABEL"), _("ID"), _("SERIAL"), _("MODE"), _("DEPARTMENT"), _("ADDED BY"));
                for (size_t i = 0; i < json_object_array_length(a); i++) {
                        json_object *d = json_object_array_get_idx(a, i);
                        char id[16];
                        snprintf(id, sizeof(id), "%s:%s", tg_ctl_get_string(d, TG_F_VID),
                                 tg_ctl_get_string(d, TG_F_PID));
                        ctl_table_add(t, tg_ctl_get_string(d, TG_F_LABEL), id, tg_ctl_get_string(d, TG_F_SERIAL),
                                      tg_ctl_get_string(d, TG_F_MODE), tg_ctl_get_string(d, TG_F_DEPARTMENT),
                                      tg_ctl_get_string(d, TG_F_ADDED_BY));
                }
                ctl_table_print(t, stdout);
                ctl_table_free(t);
        }
        tg_ctl_reply_done(&reply);
        return 0;
}

/* media add, media remove */
int ctl_media_change(const ctl_context *ctx, tg_ctl_request *req, char **args _unused_) {
        tg_ctl_reply reply;
        int rc = ctl_call(ctx, req, &reply);

        if (rc)
                return rc;
        if (ctx->json)
                ctl_print_json(reply.json, _TG_F_MAX);
        else
                fputs(req->command == TG_CTL_MEDIA_ADD ? _("Added to the media register.\n")
                                                       : _("Removed from the media register.\n"),
                      stdout);
        tg_ctl_reply_done(&reply);
        return 0;
}
