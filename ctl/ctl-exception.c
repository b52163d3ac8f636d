/* SPDX-License-Identifier: GPL-2.0-or-later */
/* termguardctl exception list|grant|revoke: write exceptions for registered media. */
#include <stdio.h>

#include "ctl.h"
#include "termguard/macro.h"

int ctl_exception_list(const ctl_context *ctx, tg_ctl_request *req, char **args _unused_) {
        tg_ctl_reply reply;
        json_object *a;
        int rc = ctl_call(ctx, req, &reply);

        if (rc)
                return rc;
        if (ctx->json)
                ctl_print_json(reply.json, TG_F_EXCEPTIONS);
        else if ((a = tg_ctl_get_list(reply.json, TG_F_EXCEPTIONS))) {
                ctl_table *t = ctl_table_new(7);
                ctl_table_add(t, _("ID"), _("LABEL"), _("STATE"), _("UNTIL"), _("APPROVER"), _("USER"), _("REASON"));
                for (size_t i = 0; i < json_object_array_length(a); i++) {
                        json_object *d = json_object_array_get_idx(a, i);
                        const char *user = tg_ctl_get_string(d, TG_F_USER);
                        ctl_table_add(t, tg_ctl_get_string(d, TG_F_ID), tg_ctl_get_string(d, TG_F_LABEL),
                                      tg_ctl_get_string(d, TG_F_STATE), tg_ctl_get_string(d, TG_F_UNTIL),
                                      tg_ctl_get_string(d, TG_F_APPROVER), *user ? user : "*",
                                      tg_ctl_get_string(d, TG_F_REASON));
                }
                ctl_table_print(t, stdout);
                ctl_table_free(t);
        }
        tg_ctl_reply_done(&reply);
        return 0;
}

/* exception grant, exception revoke */
int ctl_exception_change(const ctl_context *ctx, tg_ctl_request *req, char **args _unused_) {
        tg_ctl_reply reply;
        int rc = ctl_call(ctx, req, &reply);

        if (rc)
                return rc;
        if (ctx->json)
                ctl_print_json(reply.json, _TG_F_MAX);
        else if (req->command == TG_CTL_EXCEPTION_GRANT)
                printf(_("Exception %s granted.\n"), tg_ctl_get_string(reply.json, TG_F_ID));
        else
                fputs(_("Exception revoked.\n"), stdout);
        tg_ctl_reply_done(&reply);
        return 0;
}
