/* SPDX-License-Identifier: GPL-2.0-or-later */
/* termguardctl status: the agent's state. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "termguard/macro.h"

/* The journal's state in words: what an administrator must do is in the admin guide. */
static const char *journal_state(const char *state) {
        static const struct {
                const char *state, *text;
        } states[] = {
                {"ok", N_("ok")},
                {"near-cap", N_("NEAR ITS SIZE CAP (see the admin guide: journal)")},
                {"full", N_("FULL: storage stays blocked (see the admin guide: journal)")},
                {"unwritable", N_("CANNOT BE WRITTEN: storage stays blocked (see the admin guide: journal)")},
                {"not-initialised",
                 N_("NOT CREATED: storage stays blocked until termguardctl journal init (see the admin guide: "
                    "journal)")},
        };
        for (size_t i = 0; i < ELEMENTSOF(states); i++)
                if (strcmp(states[i].state, state) == 0)
                        return _(states[i].text);
        return state;
}

/* Bytes as MiB with one decimal, for the status line. */
typedef struct {
        char s[32];
} mib_text;
static mib_text mib(const char *bytes) {
        mib_text t;
        snprintf(t.s, sizeof(t.s), "%.1f", strtod(bytes, NULL) / (1024.0 * 1024.0));
        return t;
}

/* The idle lock's sessions: idle and lock state, the next deadline. */
static void print_sessions(json_object *a) {
        ctl_table *t;

        if (!a || json_object_array_length(a) == 0)
                return;
        putchar('\n');
        t = ctl_table_new(8);
        ctl_table_add(t, _("SESSION"), _("USER"), _("TYPE"), _("TTY"), _("IDLE SINCE"), _("LOCKED"), _("STATE"),
                      _("LOCK AT / LOGOFF AT"));
        for (size_t i = 0; i < json_object_array_length(a); i++) {
                json_object *s = json_object_array_get_idx(a, i);
                const char *logoff = tg_ctl_get_string(s, TG_F_LOGOFF_AT);
                ctl_table_add(t, tg_ctl_get_string(s, TG_F_SESSION), tg_ctl_get_string(s, TG_F_USER),
                              tg_ctl_get_string(s, TG_F_SESSION_TYPE), tg_ctl_get_string(s, TG_F_TTY),
                              tg_ctl_get_bool(s, TG_F_IDLE) ? tg_ctl_get_string(s, TG_F_IDLE_SINCE) : _("not idle"),
                              tg_ctl_get_bool(s, TG_F_LOCKED) ? _("yes") : _("no"), tg_ctl_get_string(s, TG_F_STATE),
                              *logoff ? logoff : tg_ctl_get_string(s, TG_F_DEADLINE));
        }
        ctl_table_print(t, stdout);
        ctl_table_free(t);
}

/* Forwarding to the central store: the last commit the forwarder reported and the records the
 * journal holds past the forwarded mark (what retention must keep). */
static char *forwarding_text(json_object *r) {
        const char *commit = tg_ctl_get_string(r, TG_F_FORWARDER_LAST_COMMIT_AT);
        const char *pending = tg_ctl_get_string(r, TG_F_JOURNAL_PENDING);
        char *text = NULL;
        int k;

        if (!*tg_ctl_get_string(r, TG_F_FORWARDER_REPORT_AT))
                k = asprintf(&text,
                             _("no report from termguard-forwarder since termguardd started; %s records pending"),
                             pending);
        else if (!*commit)
                k = asprintf(&text, _("nothing committed centrally yet; %s records pending"), pending);
        else
                k = asprintf(&text, _("last commit %s, %s records pending"), commit, pending);
        return k < 0 ? NULL : text;
}

/* Retention of the journal: rows for the table; the texts are freed by the caller. */
typedef struct {
        char *period, *oldest, *pruned;
} retention_text;

static void retention_text_done(retention_text *t) {
        free(t->period);
        free(t->oldest);
        free(t->pruned);
}

static void add_retention(ctl_table *t, json_object *r, retention_text *text) {
        long long days = strtoll(tg_ctl_get_string(r, TG_F_JOURNAL_MAX_AGE), NULL, 10) / 86400;
        const char *oldest = tg_ctl_get_string(r, TG_F_JOURNAL_OLDEST_SEQ);
        const char *through = tg_ctl_get_string(r, TG_F_JOURNAL_PRUNED_THROUGH);
        const char *next = tg_ctl_get_string(r, TG_F_JOURNAL_NEXT_PRUNE_AT);

        if (days <= 0)
                text->period = strdup(_("records are kept for ever (MaxAge=infinity); forwarded ones go only when "
                                        "the size cap needs room"));
        else if (asprintf(&text->period, _("%lld days for forwarded records (MaxAge=); never a record not forwarded"),
                          days) < 0)
                text->period = NULL;
        ctl_table_add(t, _("  retention:"), text->period);
        if (*oldest) {
                if (asprintf(&text->oldest, _("seq %s, from %s"), oldest,
                             tg_ctl_get_string(r, TG_F_JOURNAL_OLDEST_AT)) < 0)
                        text->oldest = NULL;
                ctl_table_add(t, _("  oldest record kept:"), text->oldest);
                if (strcmp(through, "0") == 0)
                        ctl_table_add(t, _("  pruned through:"), _("nothing pruned"));
                else {
                        if (asprintf(&text->pruned, _("seq %s"), through) < 0)
                                text->pruned = NULL;
                        ctl_table_add(t, _("  pruned through:"), text->pruned);
                }
        }
        ctl_table_add(t, _("  next prune:"),
                      *next ? next : _("when the forwarded mark moves or the journal comes near its cap"));
        /* strerror() text from termguardd */
        if (*tg_ctl_get_string(r, TG_F_JOURNAL_PRUNE_ERROR))
                ctl_table_add(t, _("  PRUNE FAILED:"), tg_ctl_get_string(r, TG_F_JOURNAL_PRUNE_ERROR));
}

int ctl_status(const ctl_context *ctx, tg_ctl_request *req, char **args _unused_) {
        tg_ctl_reply reply;
        json_object *r;
        _cleanup_free_ char *active = NULL, *failed = NULL, *journal = NULL, *forwarding = NULL;
        retention_text retention = {0};
        int rc = ctl_call(ctx, req, &reply);

        if (rc)
                return rc;
        r = reply.json;
        if (ctx->json) {
                ctl_print_json(r, _TG_F_MAX);
                tg_ctl_reply_done(&reply);
                return 0;
        }
        printf(_("termguardd %s (pid %s), running since %s\n"), tg_ctl_get_string(r, TG_F_VERSION),
               tg_ctl_get_string(r, TG_F_PROCESS_ID), tg_ctl_get_string(r, TG_F_STARTED_AT));
        if (asprintf(&active, "%s%s%s", tg_ctl_get_string(r, TG_F_EXCEPTIONS_ACTIVE),
                     *tg_ctl_get_string(r, TG_F_NEXT_EXPIRY) ? _(", next expiry ") : "",
                     tg_ctl_get_string(r, TG_F_NEXT_EXPIRY)) < 0)
                active = NULL;
        journal = strdup(journal_state(tg_ctl_get_string(r, TG_F_JOURNAL)));
        if (journal && strcmp(tg_ctl_get_string(r, TG_F_JOURNAL), "not-initialised") != 0) {
                char *with_use = NULL;
                if (asprintf(&with_use, _("%s, %s of %s MiB used, next record %s"), journal,
                             mib(tg_ctl_get_string(r, TG_F_JOURNAL_USED)).s,
                             mib(tg_ctl_get_string(r, TG_F_JOURNAL_MAX)).s,
                             tg_ctl_get_string(r, TG_F_JOURNAL_NEXT_SEQ)) >= 0) {
                        free(journal);
                        journal = with_use;
                }
        }
        ctl_table *t = ctl_table_new(2);
        ctl_table_add(t, _("  configuration:"), tg_ctl_get_string(r, TG_F_CONFIG_ROOT));
        ctl_table_add(t, _("  controllers locked:"), tg_ctl_get_string(r, TG_F_CONTROLLERS_LOCKED));
        ctl_table_add(t, _("  USB devices:"), tg_ctl_get_string(r, TG_F_DEVICE_COUNT));
        ctl_table_add(t, _("  registered media:"), tg_ctl_get_string(r, TG_F_MEDIA_REGISTERED));
        ctl_table_add(t, _("  active exceptions:"), active);
        ctl_table_add(t, _("  udev running:"), tg_ctl_get_bool(r, TG_F_UDEV_RUNNING) ? _("yes") : _("no"));
        ctl_table_add(t, _("  audit journal:"), journal);
        ctl_table_add(t, _("  records waiting in the spool:"),
                      strcmp(tg_ctl_get_string(r, TG_F_SPOOL_WAITING), "-1") == 0
                              ? _("cannot be read")
                              : tg_ctl_get_string(r, TG_F_SPOOL_WAITING));
        if (strcmp(tg_ctl_get_string(r, TG_F_JOURNAL), "not-initialised") != 0) {
                forwarding = forwarding_text(r);
                ctl_table_add(t, _("  forwarding:"), forwarding);
                /* checked by termguardd: one line of text safe to show */
                if (*tg_ctl_get_string(r, TG_F_FORWARDER_LAST_ERROR))
                        ctl_table_add(t, _("  FORWARDING ERROR:"), tg_ctl_get_string(r, TG_F_FORWARDER_LAST_ERROR));
                add_retention(t, r, &retention);
        }
        if (*tg_ctl_get_string(r, TG_F_LAST_RELOAD_ERROR)) {
                if (asprintf(&failed, _("%s (previous policy in force)"),
                             tg_ctl_get_string(r, TG_F_LAST_RELOAD_ERROR)) < 0)
                        failed = NULL;
                ctl_table_add(t, _("  LAST RELOAD FAILED:"), failed);
        }
        ctl_table_add(t, _("  idle lock:"), tg_ctl_get_string(r, TG_F_IDLE_LOCK));
        ctl_table_print(t, stdout);
        ctl_table_free(t);
        retention_text_done(&retention);
        print_sessions(tg_ctl_get_list(r, TG_F_SESSIONS));
        tg_ctl_reply_done(&reply);
        return 0;
}
