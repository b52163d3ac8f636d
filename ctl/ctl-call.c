/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Talking to termguardd over its control socket (lib/control-client.c), and what the CLI says
 * when that fails.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "termguard/macro.h"

int ctl_call(const ctl_context *ctx, const tg_ctl_request *req, tg_ctl_reply *ret) {
        tg_ctl_reply reply = {0};
        int r = tg_ctl_call(ctx->socket_path, req, 0, &reply);

        if (r == -EBADMSG) {
                fprintf(stderr, _("termguardctl: termguardd sent a reply this version does not understand\n"));
                return EXIT_DAEMON_ERROR;
        }
        if (r < 0) {
                fprintf(stderr,
                        _("termguardctl: cannot reach termguardd at %s: %s\n"
                          "Is the agent running? (systemctl status termguardd)\n"),
                        ctx->socket_path, strerror(-r));
                return EXIT_UNREACHABLE;
        }
        if (!reply.ok) {
                bool denied = reply.code == TG_CTL_ERR_PERMISSION_DENIED;
                if (denied)
                        fprintf(stderr, "%s\n",
                                _("termguardctl: permission denied: only administrators may read or change the media "
                                  "register or exceptions."));
                else
                        fprintf(stderr, _("termguardctl: refused: %s\n"), reply.error);
                tg_ctl_reply_done(&reply);
                return denied ? EXIT_DENIED : EXIT_DAEMON_ERROR;
        }
        *ret = reply;
        return 0;
}

void ctl_print_json(json_object *o, tg_ctl_field f) {
        json_object *v = o;
        if (f != _TG_F_MAX)
                json_object_object_get_ex(o, tg_ctl_field_name(f), &v);
        printf("%s\n", json_object_to_json_string_ext(v, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
}

int ctl_call_list(const ctl_context *ctx, const tg_ctl_request *req, tg_ctl_field f, const char *const *headers,
                  size_t n_columns, ctl_list_row row) {
        tg_ctl_reply reply;
        json_object *a;
        int rc = ctl_call(ctx, req, &reply);

        if (rc)
                return rc;
        if (ctx->json)
                ctl_print_json(reply.json, f);
        else if ((a = tg_ctl_get_list(reply.json, f))) {
                const char *titles[CTL_TABLE_COLUMNS_MAX];
                ctl_table *t = ctl_table_new(n_columns);
                for (size_t i = 0; i < n_columns; i++)
                        titles[i] = _(headers[i]);
                ctl_table_add_array(t, titles);
                for (size_t i = 0; i < json_object_array_length(a); i++)
                        row(t, json_object_array_get_idx(a, i));
                ctl_table_print(t, stdout);
                ctl_table_free(t);
        }
        tg_ctl_reply_done(&reply);
        return 0;
}

ctl_usb_id ctl_list_usb_id(json_object *item) {
        ctl_usb_id id;
        snprintf(id.s, sizeof(id.s), "%s:%s", tg_ctl_get_string(item, TG_F_VID), tg_ctl_get_string(item, TG_F_PID));
        return id;
}

int ctl_call_change(const ctl_context *ctx, const tg_ctl_request *req, const char *message, tg_ctl_field f) {
        tg_ctl_reply reply;
        int rc = ctl_call(ctx, req, &reply);

        if (rc)
                return rc;
        if (ctx->json)
                ctl_print_json(reply.json, _TG_F_MAX);
        else if (f == _TG_F_MAX)
                fputs(message, stdout);
        else
                printf(message, tg_ctl_get_string(reply.json, f));
        tg_ctl_reply_done(&reply);
        return 0;
}
