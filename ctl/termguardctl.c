/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * termguardctl: the administration CLI. main() takes the global options, finds the verb in
 * one table and parses the verb's own options with getopt_long; the verbs live in one file
 * per group (ctl-status.c, ctl-devices.c, ctl-media.c, ctl-exception.c, ctl-lock.c, ctl-token.c, ctl-mfa.c,
 * ctl-central.c).
 */
#define _GNU_SOURCE
#include <getopt.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctl.h"
#include "termguard/macro.h"
#include "termguard/textwidth.h"

#define OPTIONS_MAX 8

/* --NAME VALUE sets the request argument field; a flag (--NAME alone) sets it to true. */
typedef enum { OPTIONAL, REQUIRED, FLAG } option_kind;
typedef struct {
        const char *name;
        tg_ctl_field field;
        option_kind kind;
} verb_option;

enum {
        NEEDS_DAEMON = 1 << 0, /* talks to termguardd */
        NEEDS_ADMIN = 1 << 1,  /* root or AdminGroup, decided by the daemon */
        NEEDS_ROOT = 1 << 2,   /* acts on root-owned state itself */
};

typedef struct {
        const char *group, *name; /* "media", "add"; a verb of its own has no name */
        const char *synopsis;     /* its arguments and options, translatable */
        const char *summary;      /* translatable */
        int min_args, max_args;   /* positional arguments */
        tg_ctl_field arg_field;   /* the request argument the first positional argument sets */
        const char *bad_arg;      /* message when it is refused */
        unsigned needs;
        tg_ctl_command command; /* the request sent, or _TG_CTL_COMMAND_INVALID */
        verb_option options[OPTIONS_MAX];
        int (*run)(const ctl_context *ctx, tg_ctl_request *req, char **args);
        const char *mfa_verb; /* mfa verbs: the subcommand handed to ctl_mfa() */
        /* verbs that read the journal where it lies parse their own options */
        int (*run_raw)(const ctl_context *ctx, int argc, char **argv);
} verb;

static int run_mfa(const ctl_context *ctx, tg_ctl_request *req, char **args);

#define NO_FIELD _TG_F_MAX
#define DAEMON_ADMIN (NEEDS_DAEMON | NEEDS_ADMIN)
#define MFA(verb_, summary_)                                                                                           \
        {                                                                                                              \
                .group = "mfa", .name = verb_, .synopsis = N_("USER"), .summary = summary_, .min_args = 1,             \
                .max_args = 1, .arg_field = NO_FIELD, .needs = NEEDS_ROOT, .command = _TG_CTL_COMMAND_INVALID,         \
                .run = run_mfa, .mfa_verb = verb_                                                                      \
        }
static const verb verbs[] = {
        {.group = "status",
         .synopsis = "",
         .summary = N_("show the agent's state"),
         .arg_field = NO_FIELD,
         .needs = NEEDS_DAEMON,
         .command = TG_CTL_STATUS,
         .run = ctl_status},
        {.group = "devices",
         .synopsis = "",
         .summary = N_("list USB devices with decision and reason"),
         .arg_field = NO_FIELD,
         .needs = NEEDS_DAEMON,
         .command = TG_CTL_DEVICES,
         .run = ctl_devices},
        {.group = "media",
         .name = "list",
         .synopsis = "",
         .summary = N_("show the media register"),
         .arg_field = NO_FIELD,
         .needs = DAEMON_ADMIN,
         .command = TG_CTL_MEDIA_LIST,
         .run = ctl_media_list},
        {.group = "media",
         .name = "add",
         .synopsis = N_("--vid VID --pid PID --serial SERIAL --label LABEL [--department DEPT] "
                        "[--mode read-only|read-write|blocked]"),
         .summary = N_("register a medium (default mode read-only)"),
         .arg_field = NO_FIELD,
         .needs = DAEMON_ADMIN,
         .command = TG_CTL_MEDIA_ADD,
         .options = {{"vid", TG_F_VID, REQUIRED},
                     {"pid", TG_F_PID, REQUIRED},
                     {"serial", TG_F_SERIAL, REQUIRED},
                     {"label", TG_F_LABEL, REQUIRED},
                     {"department", TG_F_DEPARTMENT, OPTIONAL},
                     {"mode", TG_F_MODE, OPTIONAL}},
         .run = ctl_media_change},
        {.group = "media",
         .name = "remove",
         .synopsis = N_("LABEL"),
         .summary = N_("remove a medium; its active exceptions end with it"),
         .min_args = 1,
         .max_args = 1,
         .arg_field = TG_F_LABEL,
         .needs = DAEMON_ADMIN,
         .command = TG_CTL_MEDIA_REMOVE,
         .run = ctl_media_change},
        {.group = "exception",
         .name = "list",
         .synopsis = "",
         .summary = N_("show write exceptions"),
         .arg_field = NO_FIELD,
         .needs = DAEMON_ADMIN,
         .command = TG_CTL_EXCEPTION_LIST,
         .run = ctl_exception_list},
        {.group = "exception",
         .name = "grant",
         .synopsis = N_("LABEL --until TIME --approver NAME --reason TEXT [--ticket ID] [--user USER]"),
         .summary = N_("make a registered medium writable until TIME (ISO 8601, e.g. 2026-12-01T17:00:00+09:00)"),
         .min_args = 1,
         .max_args = 1,
         .arg_field = TG_F_LABEL,
         .needs = DAEMON_ADMIN,
         .command = TG_CTL_EXCEPTION_GRANT,
         .options = {{"until", TG_F_UNTIL, REQUIRED},
                     {"approver", TG_F_APPROVER, REQUIRED},
                     {"reason", TG_F_REASON, REQUIRED},
                     {"ticket", TG_F_TICKET, OPTIONAL},
                     {"user", TG_F_USER, OPTIONAL}},
         .run = ctl_exception_change},
        {.group = "exception",
         .name = "revoke",
         .synopsis = N_("ID"),
         .summary = N_("end an exception now"),
         .min_args = 1,
         .max_args = 1,
         .arg_field = TG_F_ID,
         .bad_arg = N_("termguardctl: exception revoke expects the exception's number\n"),
         .needs = DAEMON_ADMIN,
         .command = TG_CTL_EXCEPTION_REVOKE,
         .run = ctl_exception_change},
        {.group = "lock",
         .synopsis = N_("--all | SESSION"),
         .summary = N_("lock one user session now, or every one (sessions: see status)"),
         .min_args = 0,
         .max_args = 1,
         .arg_field = TG_F_SESSION,
         .needs = DAEMON_ADMIN,
         .command = TG_CTL_LOCK,
         .options = {{"all", TG_F_ALL, FLAG}},
         .run = ctl_lock},
        {.group = "token",
         .name = "list",
         .synopsis = "",
         .summary = N_("show the token registry (security keys, card readers)"),
         .arg_field = NO_FIELD,
         .needs = DAEMON_ADMIN,
         .command = TG_CTL_TOKEN_LIST,
         .run = ctl_token_list},
        {.group = "token",
         .name = "add",
         .synopsis = N_("--kind security-key|card-reader --vid VID --pid PID --label LABEL [--serial SERIAL] "
                        "[--owner USER]"),
         .summary = N_("register a token; pulling an owner's token locks the owner's sessions"),
         .arg_field = NO_FIELD,
         .needs = DAEMON_ADMIN,
         .command = TG_CTL_TOKEN_ADD,
         .options = {{"kind", TG_F_KIND, REQUIRED},
                     {"vid", TG_F_VID, REQUIRED},
                     {"pid", TG_F_PID, REQUIRED},
                     {"label", TG_F_LABEL, REQUIRED},
                     {"serial", TG_F_SERIAL, OPTIONAL},
                     {"owner", TG_F_OWNER, OPTIONAL}},
         .run = ctl_token_change},
        {.group = "token",
         .name = "remove",
         .synopsis = N_("LABEL"),
         .summary = N_("remove a token from the registry"),
         .min_args = 1,
         .max_args = 1,
         .arg_field = TG_F_LABEL,
         .needs = DAEMON_ADMIN,
         .command = TG_CTL_TOKEN_REMOVE,
         .run = ctl_token_change},
        MFA("enroll", N_("set up the second factor (QR code, then a code)")),
        MFA("status", N_("enrollment, recovery codes left, failures, lock")),
        MFA("reset", N_("remove the second factor")),
        MFA("recovery-codes", N_("issue new single-use recovery codes")),
        MFA("unlock", N_("lift an attempt-limit lock")),
        {.group = "journal",
         .name = "init",
         .synopsis = N_("--seed-out FILE | --seed-in FILE"),
         .summary = N_("create the audit journal; the seed goes to the auditors"),
         .run_raw = ctl_journal_init},
        {.group = "central",
         .name = "enroll",
         .synopsis = N_("DIR [--journal DIR] [--central-dir DIR]"),
         .summary = N_("install this terminal's enrolment bundle for the central store"),
         .run_raw = ctl_central_enroll},
        {.group = "verify",
         .synopsis = N_("[--key SEEDFILE] [--checkpoint FILE|SEQ:MAC]"),
         .summary = N_("check the audit journal for damage, deletion, truncation and rollback"),
         .run_raw = ctl_journal_verify},
        {.group = "log",
         .synopsis = N_("[--since TIME] [--until TIME] [--type T] [--device D] [--user U] [--csv]"),
         .summary = N_("list audit journal records"),
         .run_raw = ctl_journal_log},
#define REPORT(n, s)                                                                                                   \
        {                                                                                                              \
                .group = "report", .name = n,                                                                          \
                .synopsis = N_(                                                                                        \
                        "(--from DATE --to DATE | --month YYYY-MM | --fiscal-year YYYY) [--format F] [--out FILE]"),   \
                .summary = s, .run_raw = ctl_report                                                                    \
        }
        REPORT("usage", N_("usage register of removable media, per use, medium, user and month")),
        REPORT("media", N_("media register as of the period's end, with its changes")),
        REPORT("exceptions", N_("write exceptions granted, used, expired and revoked")),
        REPORT("blocked", N_("blocked carry-in attempts")),
        REPORT("mfa", N_("MFA failures and lockouts")),
};

static const verb *current_verb;

static int run_mfa(const ctl_context *ctx, tg_ctl_request *req _unused_, char **args) {
        char *argv[] = {(char *) current_verb->mfa_verb, args[0], NULL};
        return ctl_mfa(ctx->config_root, 2, argv, ctx->json);
}

static void verb_title(const verb *v, char *buf, size_t size) {
        const char *syn = *v->synopsis ? _(v->synopsis) : "";
        snprintf(buf, size, "%s%s%s%s%s", v->group, v->name ? " " : "", v->name ? v->name : "", *syn ? " " : "", syn);
}

static void usage(FILE *f) {
        fputs(_("Usage: termguardctl [--json] [--socket PATH] [--config DIR] COMMAND ...\n"
                "\n"
                "Commands:\n"),
              f);
        for (size_t i = 0; i < ELEMENTSOF(verbs); i++) {
                char title[256];
                size_t w;
                verb_title(&verbs[i], title, sizeof(title));
                w = tg_display_width(title);
                /* summaries line up at column 40; a long synopsis puts its summary below */
                if (w < 38)
                        fprintf(f, "  %s%*s%s\n", title, (int) (38 - w), "", _(verbs[i].summary));
                else
                        fprintf(f, "  %s\n  %38s%s\n", title, "", _(verbs[i].summary));
        }
        fputs(_("\nEvery command takes --json and --help. See termguardctl(1).\n"), f);
}

static void verb_usage(const verb *v, FILE *f) {
        char title[256];
        verb_title(v, title, sizeof(title));
        fprintf(f, _("Usage: termguardctl %s\n"), title);
        fprintf(f, "  %s\n", _(v->summary));
        if (v->needs & NEEDS_ADMIN)
                fputs(_("  Needs root or membership of the configured admin group.\n"), f);
        if (v->needs & NEEDS_ROOT)
                fputs(_("  Needs root; works whether termguardd runs or not.\n"), f);
}

static int usage_error(const verb *v) {
        char title[256];
        verb_title(v, title, sizeof(title));
        fprintf(stderr, _("Usage: termguardctl %s\n"), title);
        return EXIT_USAGE;
}

static const verb *find_verb(int argc, char **argv, int *ret_used) {
        for (size_t i = 0; argc > 0 && i < ELEMENTSOF(verbs); i++) {
                const verb *v = &verbs[i];
                if (strcmp(argv[0], v->group) != 0)
                        continue;
                if (!v->name) {
                        *ret_used = 1;
                        return v;
                }
                if (argc > 1 && strcmp(argv[1], v->name) == 0) {
                        *ret_used = 2;
                        return v;
                }
        }
        return NULL;
}

/* Parses the verb's options into req with getopt_long (options may come before, between and
 * after the arguments; "--" ends them), then checks what is required and how many arguments
 * there are. Returns 0 (or -1 after --help) or the exit status of a usage error. */
static int parse_verb(const verb *v, ctl_context *ctx, int argc, char **argv, tg_ctl_request *req) {
        struct option longopts[OPTIONS_MAX + 3] = {};
        size_t n = 0;
        int c, idx;

        for (; n < OPTIONS_MAX && v->options[n].name; n++)
                longopts[n] = (struct option){v->options[n].name,
                                              v->options[n].kind == FLAG ? no_argument : required_argument, NULL, 0};
        longopts[n] = (struct option){"json", no_argument, NULL, 'j'};
        longopts[n + 1] = (struct option){"help", no_argument, NULL, 'h'};

        optind = 0; /* a fresh scan for this argument vector (GNU getopt) */
        opterr = 0; /* our messages, translated */
        while ((c = getopt_long(argc, argv, ":h", longopts, &idx)) >= 0) {
                switch (c) {
                case 0: {
                        int r = tg_ctl_request_set(req, v->options[idx].field,
                                                   v->options[idx].kind == FLAG ? "true" : optarg);
                        if (r == -EEXIST) {
                                fprintf(stderr, _("termguardctl: option %s given twice\n"), argv[optind - 1]);
                                return usage_error(v);
                        }
                        if (r < 0)
                                return usage_error(v);
                        break;
                }
                case 'j': ctx->json = true; break;
                case 'h': verb_usage(v, stdout); return -1;
                case ':':
                        fprintf(stderr, _("termguardctl: option %s needs a value\n"), argv[optind - 1]);
                        return usage_error(v);
                default:
                        fprintf(stderr, _("termguardctl: unknown option %s\n"), argv[optind - 1]);
                        return usage_error(v);
                }
        }
        for (size_t k = 0; k < n; k++)
                if (v->options[k].kind == REQUIRED && !req->has[v->options[k].field]) {
                        fprintf(stderr, _("termguardctl: --%s is required\n"), v->options[k].name);
                        return usage_error(v);
                }
        int args = argc - optind;
        if (args < v->min_args || args > v->max_args) {
                fprintf(stderr, _("termguardctl: wrong number of arguments\n"));
                return usage_error(v);
        }
        if (v->arg_field != NO_FIELD && args > 0 && tg_ctl_request_set(req, v->arg_field, argv[optind]) < 0) {
                if (v->bad_arg)
                        fputs(_(v->bad_arg), stderr);
                return usage_error(v);
        }
        return 0;
}

int main(int argc, char **argv) {
        static const struct option opts[] = {
                {"json", no_argument, NULL, 'j'},
                {"socket", required_argument, NULL, 's'},
                {"config", required_argument, NULL, 'c'},
                {"help", no_argument, NULL, 'h'},
                {},
        };
        ctl_context ctx = {.socket_path = "/run/termguard/control.socket", .config_root = TG_CONFIG_ROOT};
        const char *env = getenv("TERMGUARD_SOCKET");
        tg_ctl_request req;
        const verb *v;
        int c, used, r;

        setlocale(LC_ALL, "");
        bindtextdomain("termguard", TG_LOCALEDIR);
        textdomain("termguard");
        if (env && *env)
                ctx.socket_path = env;
        /* "+": global options end at the verb; the verb's own options follow it. */
        while ((c = getopt_long(argc, argv, "+hs:c:", opts, NULL)) >= 0) {
                switch (c) {
                case 'j': ctx.json = true; break;
                case 's': ctx.socket_path = optarg; break;
                case 'c': ctx.config_root = optarg; break;
                case 'h': usage(stdout); return 0;
                default: return EXIT_USAGE;
                }
        }
        v = find_verb(argc - optind, argv + optind, &used);
        if (!v) {
                usage(stderr);
                return EXIT_USAGE;
        }
        current_verb = v;
        /* The verb's arguments, with the verb's last word standing in for the program name. */
        int vargc = argc - optind - used + 1;
        char **vargv = argv + optind + used - 1;
        if (v->run_raw)
                return v->run_raw(&ctx, vargc, vargv);
        tg_ctl_request_init(&req, v->command);
        r = parse_verb(v, &ctx, vargc, vargv, &req);
        if (r < 0)
                return 0;
        if (r > 0)
                return r;
        if ((v->needs & NEEDS_ROOT) && geteuid() != 0) {
                fprintf(stderr, "%s\n", _("termguardctl: mfa commands must be run as root (for example with sudo)."));
                return EXIT_DENIED;
        }
        return v->run(&ctx, &req, vargv + optind);
}
