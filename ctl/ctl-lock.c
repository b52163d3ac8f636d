/* SPDX-License-Identifier: GPL-2.0-or-later */
/* termguardctl lock --all | SESSION: lock user sessions now (the idle lock's sessions). */
#include <stdio.h>

#include "ctl.h"
#include "termguard/macro.h"

int ctl_lock(const ctl_context *ctx, tg_ctl_request *req, char **args _unused_) {
        if (req->has[TG_F_SESSION] == req->has[TG_F_ALL]) {
                fputs(_("termguardctl: lock needs either --all or a session id\n"), stderr);
                fputs(_("Usage: termguardctl lock --all | SESSION\n"), stderr);
                return EXIT_USAGE;
        }
        return ctl_call_change(ctx, req, _("Lock requested for %s session(s); logind confirms each (see status).\n"),
                               TG_F_LOCK_REQUESTED);
}
