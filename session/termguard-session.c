/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * termguard-session: one per graphical session, started by the desktop's autostart. On X11 it
 * measures the session's real input idle time with the XScreenSaver extension and reports it
 * to termguardd (control command session-idle), for desktops that give logind no IdleHint.
 * termguardd believes a report only from a process of the session it names, so the helper
 * holds no privilege and needs none. When and how often it reports: lib/idle-report.c.
 *
 * On Wayland it reports nothing: an X client there sees only other X clients' input, and the
 * Wayland desktops termguard supports report IdleHint to logind themselves.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <X11/Xlib.h>
#include <X11/extensions/scrnsaver.h>
#include <systemd/sd-login.h>

#include "termguard/control-proto.h"
#include "termguard/idle-report.h"
#include "termguard/macro.h"

#define DEFAULT_SOCKET "/run/termguard/control.socket"
#define SESSION_ID_MAX 64
/* A daemon that does not answer within this time is treated as down: the helper tries again. */
#define CALL_TIMEOUT_USEC (UINT64_C(5) * 1000000)
#define EXIT_X_GONE 3

static uint64_t now_usec(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000000 + (uint64_t) ts.tv_nsec / 1000;
}

static bool valid_session_id(const char *s) {
        size_t len = strlen(s);
        return len > 0 && len <= SESSION_ID_MAX &&
               strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") == len;
}

/* The X server went away (the session ended): nothing is left to measure. termguardd records
 * that the reports stopped and keeps the deadline of the last one. */
static int on_x_io_error(Display *d _unused_) {
        fprintf(stderr, "termguard-session: the X server is gone; stopping\n");
        _exit(EXIT_X_GONE);
}

typedef struct {
        const char *socket_path;
        const char *session;
        char last_error[256]; /* said once until it changes: no log storm from a daemon that is down */
} Reporter;

static void say_once(Reporter *rp, const char *text) {
        if (strcmp(rp->last_error, text) == 0)
                return;
        snprintf(rp->last_error, sizeof(rp->last_error), "%s", text);
        if (text[0])
                fprintf(stderr, "termguard-session: %s\n", text);
}

/* One report. Returns 0 with the interval termguardd asks for (µs), or a negative errno. */
static int report(Reporter *rp, uint64_t idle_ms, uint64_t *ret_interval) {
        tg_ctl_request req;
        tg_ctl_reply reply = {0};
        json_object *v;
        char ms[24], text[256];
        int r;

        snprintf(ms, sizeof(ms), "%" PRIu64,
                 idle_ms > (uint64_t) TG_CTL_IDLE_MS_MAX ? (uint64_t) TG_CTL_IDLE_MS_MAX : idle_ms);
        tg_ctl_request_init(&req, TG_CTL_SESSION_IDLE);
        if ((r = tg_ctl_request_set(&req, TG_F_SESSION, rp->session)) < 0 ||
            (r = tg_ctl_request_set(&req, TG_F_IDLE_MS, ms)) < 0)
                return r;
        r = tg_ctl_call(rp->socket_path, &req, CALL_TIMEOUT_USEC, &reply);
        if (r < 0) {
                snprintf(text, sizeof(text), "cannot reach termguardd at %s: %s", rp->socket_path, strerror(-r));
                say_once(rp, text);
                return r;
        }
        if (!reply.ok) {
                snprintf(text, sizeof(text), "termguardd refused the report: %s", reply.error ? reply.error : "?");
                say_once(rp, text);
                tg_ctl_reply_done(&reply);
                return -EPERM;
        }
        if (!json_object_object_get_ex(reply.json, tg_ctl_field_name(TG_F_REPORT_INTERVAL_MS), &v) ||
            json_object_get_int64(v) <= 0) {
                tg_ctl_reply_done(&reply);
                return -EBADMSG;
        }
        *ret_interval = (uint64_t) json_object_get_int64(v) * 1000;
        tg_ctl_reply_done(&reply);
        say_once(rp, "");
        return 0;
}

/* Sleeps up to usec, reading what the X server sends meanwhile (an error on the connection
 * ends the helper through on_x_io_error). */
static void wait_x(Display *d, uint64_t usec) {
        struct pollfd p = {.fd = ConnectionNumber(d), .events = POLLIN};
        int ms = (int) ((usec + 999) / 1000);

        if (poll(&p, 1, ms) > 0) {
                XEvent ev;
                while (XPending(d) > 0)
                        XNextEvent(d, &ev);
        }
}

static void usage(FILE *f) {
        fputs("Usage: termguard-session [--socket PATH] [--session ID]\n"
              "Reports this graphical session's input idle time (X11) to termguardd.\n"
              "  --socket PATH  termguardd's control socket (default " DEFAULT_SOCKET ", or $TERMGUARD_SOCKET)\n"
              "  --session ID   the logind session (default $XDG_SESSION_ID, else the caller's)\n",
              f);
}

int main(int argc, char **argv) {
        static const struct option opts[] = {
                {"socket", required_argument, NULL, 's'},
                {"session", required_argument, NULL, 'S'},
                {"help", no_argument, NULL, 'h'},
                {},
        };
        Reporter rp = {.socket_path = DEFAULT_SOCKET};
        _cleanup_free_ char *own_session = NULL;
        const char *env, *type = getenv("XDG_SESSION_TYPE"), *display = getenv("DISPLAY");
        tg_idle_reporter state = {0};
        XScreenSaverInfo *info;
        Display *d;
        int c, event_base, error_base;

        env = getenv("TERMGUARD_SOCKET");
        if (env && *env)
                rp.socket_path = env;
        rp.session = getenv("XDG_SESSION_ID");
        while ((c = getopt_long(argc, argv, "h", opts, NULL)) >= 0) {
                switch (c) {
                case 's': rp.socket_path = optarg; break;
                case 'S': rp.session = optarg; break;
                case 'h': usage(stdout); return EXIT_SUCCESS;
                default: usage(stderr); return EXIT_FAILURE;
                }
        }
        if (optind < argc) {
                usage(stderr);
                return EXIT_FAILURE;
        }
        if ((type && strcmp(type, "wayland") == 0) || !display || !*display) {
                fprintf(stderr, "termguard-session: not an X11 session: input idle is the desktop's to report\n");
                return EXIT_SUCCESS;
        }
        if (!rp.session || !*rp.session) {
                if (sd_pid_get_session(0, &own_session) < 0) {
                        fprintf(stderr, "termguard-session: not in a logind session (no XDG_SESSION_ID)\n");
                        return EXIT_FAILURE;
                }
                rp.session = own_session;
        }
        if (!valid_session_id(rp.session)) {
                fprintf(stderr, "termguard-session: not a logind session id\n");
                return EXIT_FAILURE;
        }
        XSetIOErrorHandler(on_x_io_error);
        d = XOpenDisplay(NULL);
        if (!d) {
                fprintf(stderr, "termguard-session: cannot open the X display\n");
                return EXIT_FAILURE;
        }
        if (!XScreenSaverQueryExtension(d, &event_base, &error_base) || !(info = XScreenSaverAllocInfo())) {
                fprintf(stderr, "termguard-session: the X server has no MIT-SCREEN-SAVER extension\n");
                XCloseDisplay(d);
                return EXIT_FAILURE;
        }
        for (;;) {
                uint64_t now, idle_ms, interval = 0;
                int r;

                if (!XScreenSaverQueryInfo(d, DefaultRootWindow(d), info)) {
                        fprintf(stderr, "termguard-session: the X server does not tell the idle time\n");
                        break;
                }
                idle_ms = info->idle;
                now = now_usec();
                if (tg_idle_report_due(&state, idle_ms, now)) {
                        r = report(&rp, idle_ms, &interval);
                        tg_idle_report_sent(&state, idle_ms, now, r >= 0, interval);
                }
                wait_x(d, tg_idle_report_sleep(&state, idle_ms, now_usec()));
        }
        XFree(info);
        XCloseDisplay(d);
        return EXIT_FAILURE;
}
