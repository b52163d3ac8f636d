/* SPDX-License-Identifier: GPL-2.0-or-later */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <libintl.h>
#include <locale.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <json-c/json.h>

#include "ctl.h"
#include "termguard/escape.h"
#include "termguard/macro.h"

#define _(s) gettext(s)
#define REPLY_MAX (64 * 1024 * 1024)

static const char *socket_path = "/run/termguard/control.socket";
static const char *config_root = TG_CONFIG_ROOT;
static bool arg_json = false;

static void usage(FILE *f) {
        fprintf(f, "%s",
                _("Usage: termguardctl [--json] [--socket PATH] [--config DIR] COMMAND ...\n"
                  "\n"
                  "Commands:\n"
                  "  status                                show the agent's state\n"
                  "  devices                               list USB devices with decision and reason\n"
                  "  media list                            show the media register\n"
                  "  media add --vid VID --pid PID --serial SERIAL --label LABEL\n"
                  "            [--department DEPT] [--mode read-only|read-write|blocked]\n"
                  "  media remove LABEL\n"
                  "  exception list                        show write exceptions\n"
                  "  exception grant LABEL --until TIME --approver NAME --reason TEXT\n"
                  "            [--ticket ID] [--user USER]  (TIME: ISO 8601, e.g. 2026-12-01T17:00:00+09:00)\n"
                  "  exception revoke ID\n"
                  "  mfa enroll USER                       set up the second factor (QR code, then a code)\n"
                  "  mfa status USER                       enrollment, recovery codes left, failures, lock\n"
                  "  mfa reset USER                        remove the second factor\n"
                  "  mfa recovery-codes USER               issue new single-use recovery codes\n"
                  "  mfa unlock USER                       lift an attempt-limit lock\n"));
}

static int request(json_object *req, json_object **ret) {
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        _cleanup_close_ int fd = -EBADF;
        const char *text = json_object_to_json_string_ext(req, JSON_C_TO_STRING_PLAIN);
        _cleanup_free_ char *buf = NULL;
        size_t len = 0, cap = 0;

        if (strlen(socket_path) >= sizeof(sa.sun_path))
                return -ENAMETOOLONG;
        strcpy(sa.sun_path, socket_path);
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0 || connect(fd, (struct sockaddr *) &sa, sizeof(sa)) < 0)
                return -errno;
        if (send(fd, text, strlen(text), MSG_NOSIGNAL) < 0 || send(fd, "\n", 1, MSG_NOSIGNAL) < 0)
                return -errno;
        shutdown(fd, SHUT_WR);
        for (;;) {
                if (len + 4096 + 1 > cap) {
                        char *p;
                        if (cap > REPLY_MAX)
                                return -E2BIG;
                        cap = cap ? cap * 2 : 65536;
                        p = realloc(buf, cap);
                        if (!p)
                                return -ENOMEM;
                        buf = p;
                }
                ssize_t n = read(fd, buf + len, cap - len - 1);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return -errno;
                if (n == 0)
                        break;
                len += (size_t) n;
        }
        if (!buf || len == 0)
                return -ECONNRESET;
        buf[len] = '\0';
        *ret = json_tokener_parse(buf);
        return *ret ? 0 : -EBADMSG;
}

static const char *s(json_object *o, const char *key) {
        json_object *v;
        if (!json_object_object_get_ex(o, key, &v) || json_object_is_type(v, json_type_null))
                return "";
        return json_object_get_string(v);
}

static int call(json_object *req, json_object **ret) {
        json_object *reply = NULL;
        int r = request(req, &reply);
        json_object_put(req);
        if (r < 0) {
                fprintf(stderr,
                        _("termguardctl: cannot reach termguardd at %s: %s\n"
                          "Is the agent running? (systemctl status termguardd)\n"),
                        socket_path, strerror(-r));
                return EXIT_UNREACHABLE;
        }
        json_object *ok;
        if (!json_object_object_get_ex(reply, "ok", &ok) || !json_object_get_boolean(ok)) {
                bool denied = strcmp(s(reply, "code"), "permission-denied") == 0;
                if (denied)
                        fprintf(stderr, "%s\n",
                                _("termguardctl: permission denied: only administrators may read or change the media "
                                  "register or exceptions."));
                else
                        fprintf(stderr, _("termguardctl: refused: %s\n"), s(reply, "error"));
                json_object_put(reply);
                return denied ? EXIT_DENIED : EXIT_DAEMON_ERROR;
        }
        *ret = reply;
        return 0;
}

static json_object *new_req(const char *cmd) {
        json_object *o = json_object_new_object();
        json_object_object_add(o, "command", json_object_new_string(cmd));
        return o;
}

static void print_json(json_object *o, const char *key) {
        json_object *v = o;
        if (key)
                json_object_object_get_ex(o, key, &v);
        printf("%s\n", json_object_to_json_string_ext(v, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
}

static int cmd_status(void) {
        json_object *r;
        int rc = call(new_req("status"), &r);
        if (rc)
                return rc;
        if (arg_json)
                print_json(r, NULL);
        else {
                printf(_("termguardd %s (pid %s), running since %s\n"), s(r, "version"), s(r, "pid"),
                       s(r, "started_at"));
                printf(_("  configuration:      %s\n"), s(r, "config_root"));
                printf(_("  controllers locked: %s\n"), s(r, "controllers_locked"));
                printf(_("  USB devices:        %s\n"), s(r, "devices"));
                printf(_("  registered media:   %s\n"), s(r, "media_registered"));
                printf(_("  active exceptions:  %s%s%s\n"), s(r, "exceptions_active"),
                       *s(r, "next_expiry") ? _(", next expiry ") : "", s(r, "next_expiry"));
                printf(_("  udev running:       %s\n"), s(r, "udev_running"));
                if (*s(r, "last_reload_error"))
                        printf(_("  LAST RELOAD FAILED: %s (previous policy in force)\n"), s(r, "last_reload_error"));
        }
        json_object_put(r);
        return 0;
}

static int cmd_devices(void) {
        json_object *r, *a;
        int rc = call(new_req("devices"), &r);
        if (rc)
                return rc;
        if (arg_json)
                print_json(r, "devices");
        else if (json_object_object_get_ex(r, "devices", &a)) {
                printf("%-10s %-9s %-16s %-11s %-14s %s\n", "DEVICE", "ID", "SERIAL", "AUTHORIZED", "STORAGE",
                       "REASON");
                for (size_t i = 0; i < json_object_array_length(a); i++) {
                        json_object *d = json_object_array_get_idx(a, i);
                        char id[16];
                        snprintf(id, sizeof(id), "%s:%s", s(d, "vid"), s(d, "pid"));
                        printf("%-10s %-9s %-16s %-11s %-14s %s\n", s(d, "device"), id, s(d, "serial"),
                               strcmp(s(d, "authorized"), "true") == 0 ? _("yes") : _("no"), s(d, "storage"),
                               s(d, "reason"));
                }
        }
        json_object_put(r);
        return 0;
}

static int cmd_media_list(void) {
        json_object *r, *a;
        int rc = call(new_req("media-list"), &r);
        if (rc)
                return rc;
        if (arg_json)
                print_json(r, "media");
        else if (json_object_object_get_ex(r, "media", &a)) {
                printf("%-16s %-9s %-20s %-11s %-16s %s\n", "LABEL", "ID", "SERIAL", "MODE", "DEPARTMENT", "ADDED BY");
                for (size_t i = 0; i < json_object_array_length(a); i++) {
                        json_object *d = json_object_array_get_idx(a, i);
                        char id[16];
                        snprintf(id, sizeof(id), "%s:%s", s(d, "vid"), s(d, "pid"));
                        printf("%-16s %-9s %-20s %-11s %-16s %s\n", s(d, "label"), id, s(d, "serial"), s(d, "mode"),
                               s(d, "department"), s(d, "added_by"));
                }
        }
        json_object_put(r);
        return 0;
}

static int cmd_exception_list(void) {
        json_object *r, *a;
        int rc = call(new_req("exception-list"), &r);
        if (rc)
                return rc;
        if (arg_json)
                print_json(r, "exceptions");
        else if (json_object_object_get_ex(r, "exceptions", &a)) {
                printf("%-4s %-16s %-8s %-21s %-16s %-10s %s\n", "ID", "LABEL", "STATE", "UNTIL", "APPROVER", "USER",
                       "REASON");
                for (size_t i = 0; i < json_object_array_length(a); i++) {
                        json_object *d = json_object_array_get_idx(a, i);
                        printf("%-4s %-16s %-8s %-21s %-16s %-10s %s\n", s(d, "id"), s(d, "label"), s(d, "state"),
                               s(d, "until"), s(d, "approver"), *s(d, "user") ? s(d, "user") : "*", s(d, "reason"));
                }
        }
        json_object_put(r);
        return 0;
}

/* Parses --key value options into the request; rejects unknown ones and repeats. */
static int collect_options(int argc, char **argv, const char *const *allowed, json_object *req, int *ret_optind) {
        int i;
        for (i = 0; i < argc; i++) {
                const char *a = argv[i];
                bool known = false;
                if (strncmp(a, "--", 2) != 0)
                        break;
                for (size_t k = 0; allowed[k]; k++)
                        if (strcmp(a + 2, allowed[k]) == 0)
                                known = true;
                if (!known) {
                        fprintf(stderr, _("termguardctl: unknown option %s\n"), a);
                        return -EINVAL;
                }
                if (i + 1 >= argc) {
                        fprintf(stderr, _("termguardctl: option %s needs a value\n"), a);
                        return -EINVAL;
                }
                if (json_object_object_get_ex(req, a + 2, NULL)) {
                        fprintf(stderr, _("termguardctl: option %s given twice\n"), a);
                        return -EINVAL;
                }
                json_object_object_add(req, a + 2, json_object_new_string(argv[++i]));
        }
        *ret_optind = i;
        return 0;
}

static int require(json_object *req, const char *const *keys) {
        for (size_t k = 0; keys[k]; k++)
                if (!json_object_object_get_ex(req, keys[k], NULL)) {
                        fprintf(stderr, _("termguardctl: --%s is required\n"), keys[k]);
                        return -EINVAL;
                }
        return 0;
}

static int cmd_simple_ok(json_object *req, const char *done) {
        json_object *r;
        int rc = call(req, &r);
        if (rc)
                return rc;
        if (arg_json)
                print_json(r, NULL);
        else {
                json_object *id;
                if (json_object_object_get_ex(r, "id", &id))
                        printf(done, json_object_get_string(id));
                else
                        printf("%s", done);
        }
        json_object_put(r);
        return 0;
}

static int dispatch(int argc, char **argv) {
        /* Column headers stay in English: printf widths count bytes, and scripts use --json. */
        const char *a0 = argc > 0 ? argv[0] : NULL, *a1 = argc > 1 ? argv[1] : NULL;
        int used;

        if (!a0) {
                usage(stderr);
                return EXIT_USAGE;
        }
        if (strcmp(a0, "status") == 0 && argc == 1)
                return cmd_status();
        if (strcmp(a0, "devices") == 0 && argc == 1)
                return cmd_devices();
        if (strcmp(a0, "media") == 0 && a1) {
                if (strcmp(a1, "list") == 0 && argc == 2)
                        return cmd_media_list();
                if (strcmp(a1, "remove") == 0 && argc == 3) {
                        json_object *req = new_req("media-remove");
                        json_object_object_add(req, "label", json_object_new_string(argv[2]));
                        return cmd_simple_ok(req, _("Removed from the media register.\n"));
                }
                if (strcmp(a1, "add") == 0) {
                        static const char *const allowed[] = {"vid",        "pid",  "serial", "label",
                                                              "department", "mode", NULL};
                        static const char *const required[] = {"vid", "pid", "serial", "label", NULL};
                        json_object *req = new_req("media-add");
                        if (collect_options(argc - 2, argv + 2, allowed, req, &used) < 0 || used != argc - 2 ||
                            require(req, required) < 0) {
                                json_object_put(req);
                                return EXIT_USAGE;
                        }
                        return cmd_simple_ok(req, _("Added to the media register.\n"));
                }
        }
        if (strcmp(a0, "mfa") == 0)
                return ctl_mfa(config_root, argc - 1, argv + 1, arg_json);
        if (strcmp(a0, "exception") == 0 && a1) {
                if (strcmp(a1, "list") == 0 && argc == 2)
                        return cmd_exception_list();
                if (strcmp(a1, "revoke") == 0 && argc == 3) {
                        char *end;
                        long long id = strtoll(argv[2], &end, 10);
                        if (*end || id <= 0) {
                                fprintf(stderr, _("termguardctl: exception revoke expects the exception's number\n"));
                                return EXIT_USAGE;
                        }
                        json_object *req = new_req("exception-revoke");
                        json_object_object_add(req, "id", json_object_new_int64(id));
                        return cmd_simple_ok(req, _("Exception revoked.\n"));
                }
                if (strcmp(a1, "grant") == 0 && argc >= 3 && strncmp(argv[2], "--", 2) != 0) {
                        static const char *const allowed[] = {"until", "approver", "reason", "ticket", "user", NULL};
                        static const char *const required[] = {"until", "approver", "reason", NULL};
                        json_object *req = new_req("exception-grant");
                        json_object_object_add(req, "label", json_object_new_string(argv[2]));
                        if (collect_options(argc - 3, argv + 3, allowed, req, &used) < 0 || used != argc - 3 ||
                            require(req, required) < 0) {
                                json_object_put(req);
                                return EXIT_USAGE;
                        }
                        return cmd_simple_ok(req, _("Exception %s granted.\n"));
                }
        }
        usage(stderr);
        return EXIT_USAGE;
}

int main(int argc, char **argv) {
        static const struct option opts[] = {
                {"json", no_argument, NULL, 'j'},
                {"socket", required_argument, NULL, 's'},
                {"config", required_argument, NULL, 'c'},
                {"help", no_argument, NULL, 'h'},
                {},
        };
        const char *env = getenv("TERMGUARD_SOCKET");
        int c;

        setlocale(LC_ALL, "");
        bindtextdomain("termguard", TG_LOCALEDIR);
        textdomain("termguard");
        if (env && *env)
                socket_path = env;
        /* "+": options end at the command; the command's own options follow it. */
        while ((c = getopt_long(argc, argv, "+hs:c:", opts, NULL)) >= 0) {
                switch (c) {
                case 'j': arg_json = true; break;
                case 's': socket_path = optarg; break;
                case 'c': config_root = optarg; break;
                case 'h': usage(stdout); return 0;
                default: return EXIT_USAGE;
                }
        }
        /* --json may also follow the command ("media list --json"). */
        int n = 0;
        char **rest = argv + optind;
        for (int i = 0; i < argc - optind; i++) {
                if (strcmp(rest[i], "--json") == 0)
                        arg_json = true;
                else
                        rest[n++] = rest[i];
        }
        return dispatch(n, rest);
}
