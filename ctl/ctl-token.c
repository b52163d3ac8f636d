/* SPDX-License-Identifier: GPL-2.0-or-later */
/* termguardctl token list|add|remove: the token registry (security keys, card readers). */
#include <stdio.h>

#include "ctl.h"
#include "termguard/macro.h"

int ctl_token_list(const ctl_context *ctx, tg_ctl_request *req, char **args _unused_) {
        tg_ctl_reply reply;
        json_object *a;
        int rc = ctl_call(ctx, req, &reply);

        if (rc)
                return rc;
        if (ctx->json)
                ctl_print_json(reply.json, TG_F_TOKENS);
        else if ((a = tg_ctl_get_list(reply.json, TG_F_TOKENS))) {
                ctl_table *t = ctl_table_new(6);
                ctl_table_add(t, _("LABEL"), _("KIND"), _("ID"), _("SERIAL"), _("OWNER"), _("ADDED BY"));
                for (size_t i = 0; i < json_object_array_length(a); i++) {
                        json_object *d = json_object_array_get_idx(a, i);
                        const char *serial = tg_ctl_get_string(d, TG_F_SERIAL);
                        char id[16];
                        snprintf(id, sizeof(id), "%s:%s", tg_ctl_get_string(d, TG_F_VID),
                                 tg_ctl_get_string(d, TG_F_PID));
                        ctl_table_add(t, tg_ctl_get_string(d, TG_F_LABEL), tg_ctl_get_string(d, TG_F_KIND), id,
                                      *serial ? serial : "*", tg_ctl_get_string(d, TG_F_OWNER),
                                      tg_ctl_get_string(d, TG_F_ADDED_BY));
                }
                ctl_table_print(t, stdout);
                ctl_table_free(t);
        }
        tg_ctl_reply_done(&reply);
        return 0;
}

/* token add, token remove */
int ctl_token_change(const ctl_context *ctx, tg_ctl_request *req, char **args _unused_) {
        tg_ctl_reply reply;
        int rc = ctl_call(ctx, req, &reply);

        if (rc)
                return rc;
        if (ctx->json)
                ctl_print_json(reply.json, _TG_F_MAX);
        else
                fputs(req->command == TG_CTL_TOKEN_ADD ? _("Added to the token registry.\n")
                                                       : _("Removed from the token registry.\n"),
                      stdout);
        tg_ctl_reply_done(&reply);
        return 0;
}
