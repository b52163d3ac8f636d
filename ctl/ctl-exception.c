/* SPDX-License-Identifier: GPL-2.0-or-later */
/* termguardctl exception list|grant|revoke: write exceptions for registered media. */
#include <stdio.h>

#include "ctl.h"
#include "termguard/macro.h"

static void exception_list_row(ctl_table *t, json_object *d) {
        const char *user = tg_ctl_get_string(d, TG_F_USER);
        ctl_table_add(t, tg_ctl_get_string(d, TG_F_ID), tg_ctl_get_string(d, TG_F_LABEL),
                      tg_ctl_get_string(d, TG_F_STATE), tg_ctl_get_string(d, TG_F_UNTIL),
                      tg_ctl_get_string(d, TG_F_APPROVER), *user ? user : "*", tg_ctl_get_string(d, TG_F_REASON));
}

int ctl_exception_list(const ctl_context *ctx, tg_ctl_request *req, char **args _unused_) {
        static const char *const headers[] = {
                N_("ID"), N_("LABEL"), N_("STATE"), N_("UNTIL"), N_("APPROVER"), N_("USER"), N_("REASON"),
        };
        return ctl_call_list(ctx, req, TG_F_EXCEPTIONS, headers, ELEMENTSOF(headers), exception_list_row);
}

/* exception grant, exception revoke */
int ctl_exception_change(const ctl_context *ctx, tg_ctl_request *req, char **args _unused_) {
        if (req->command == TG_CTL_EXCEPTION_GRANT)
                return ctl_call_change(ctx, req, _("Exception %s granted.\n"), TG_F_ID);
        return ctl_call_change(ctx, req, _("Exception revoked.\n"), _TG_F_MAX);
}
