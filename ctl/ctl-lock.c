/* SPDX-License-Identifier: GPL-2.0-or-later */
/* termguardctl lock --all | SESSION: lock user sessions now (the idle lock's sessions). */
#include <stdio.h>

#include "ctl.h"
#include "termguard/macro.h"

int ctl_lock(const ctl_context *ctx, tg_ctl_request *req, char **args _unused_) {
        tg_ctl_reply reply;
        int rc;

        if (req->has[TG_F_SESSION] == req->has[TG_F_ALL]) {
                fputs(_("termguardctl: lock needs either --all or a session id\n"), stderr);
                fputs(_("Usage: termguardctl lock --all | SESSION\n"), stderr);
                return EXIT_USAGE;
        }
        rc = ctl_call(ctx, req, &reply);
        if (rc)
                return rc;
        if (ctx->json)
                ctl_print_json(reply.json, _TG_F_MAX);
        else
                printf(_("Lock requested for %s session(s); logind confirms each (see status).\n"),
                       tg_ctl_get_string(reply.json, TG_F_LOCK_REQUESTED));
        tg_ctl_reply_done(&reply);
        return 0;
}
