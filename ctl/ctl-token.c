/* SPDX-License-Identifier: GPL-2.0-or-later */
/* termguardctl token list|add|remove: the token registry (security keys, card readers). */
#include <stdio.h>

#include "ctl.h"
#include "termguard/macro.h"

static void token_list_row(ctl_table *t, json_object *d) {
        const char *serial = tg_ctl_get_string(d, TG_F_SERIAL);
        ctl_table_add(t, tg_ctl_get_string(d, TG_F_LABEL), tg_ctl_get_string(d, TG_F_KIND), ctl_list_usb_id(d).s,
                      *serial ? serial : "*", tg_ctl_get_string(d, TG_F_OWNER), tg_ctl_get_string(d, TG_F_ADDED_BY));
}

int ctl_token_list(const ctl_context *ctx, tg_ctl_request *req, char **args _unused_) {
        static const char *const headers[] = {
                N_("LABEL"), N_("KIND"), N_("ID"), N_("SERIAL"), N_("OWNER"), N_("ADDED BY"),
        };
        return ctl_call_list(ctx, req, TG_F_TOKENS, headers, ELEMENTSOF(headers), token_list_row);
}

/* token add, token remove */
int ctl_token_change(const ctl_context *ctx, tg_ctl_request *req, char **args _unused_) {
        return ctl_call_change(ctx, req,
                               req->command == TG_CTL_TOKEN_ADD ? _("Added to the token registry.\n")
                                                                : _("Removed from the token registry.\n"),
                               _TG_F_MAX);
}
