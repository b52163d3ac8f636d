/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * termguard-session: one per graphical session, started by the desktop's autostart. On X11 it
 * measures the session's real input idle time with the XScreenSaver extension and reports it
 * to termguardd (control command session-idle), for desktops that give logind no IdleHint.
 * termguardd believes a report only from a process of the session it names, so the helper
 * holds no privilege and needs none. When and how often it reports: lib/idle-report.c.
 *
 * It also shows the staff member what termguardd has to tell this session (storage blocked or
 * read-only, a write exception ending, the idle-lock warning): it asks for the session's
 * notices (session-notify, attributed like the reports), keeps that connection open and turns
 * each notice into a desktop notification (session/notification.c).
 *
 * On Wayland it measures nothing and reports nothing: an X client there sees only other X
 * clients' input, and the Wayland desktops termguard supports report IdleHint to logind
 * themselves. It runs there for the notices alone: it tells termguardd so when it asks for them
 * (notify-only), and termguardd then believes no idle report for the session.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <libintl.h>
#include <locale.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <X11/Xlib.h>
#include <X11/extensions/scrnsaver.h>
#include <systemd/sd-login.h>

#include "termguard/control-proto.h"
#include "termguard/idle-report.h"
#include "notification.h"
#include "termguard/macro.h"
#include "termguard/notice.h"

#define DEFAULT_SOCKET "/run/termguard/control.socket"
#define SESSION_ID_MAX 64
/* A daemon that does not answer within this time is treated as down: the helper tries again. */
#define CALL_TIMEOUT_USEC (UINT64_C(5) * 1000000)
#define EXIT_X_GONE 3
/* Without X, the longest sleep when nothing happens (notices and the bus wake it earlier). */
#define NOTICES_ONLY_WAIT_USEC (UINT64_C(60) * 1000000)
/* The longest line the helper says about its daemon (a refusal quotes the daemon's reason). */
#define SAY_MAX 400

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

/* Where translations are: TERMGUARD_LOCALEDIR overrides the installed place (a build tree). */
static const char *locale_dir(void) {
        const char *d = getenv("TERMGUARD_LOCALEDIR");
        return d && *d ? d : TG_LOCALEDIR;
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
        bool notify_only;           /* Wayland: notices only, no idle reports */
        char last_error[SAY_MAX];   /* said once until it changes: no log storm from a daemon that is down */
        char notice_error[SAY_MAX]; /* the same for the notice connection */
} Reporter;

static void say_once_in(char *last, size_t size, const char *text) {
        if (strcmp(last, text) == 0)
                return;
        snprintf(last, size, "%s", text);
        if (text[0])
                fprintf(stderr, "termguard-session: %s\n", text);
}

static void say_once(Reporter *rp, const char *text) {
        say_once_in(rp->last_error, sizeof(rp->last_error), text);
}

static void say_once_notices(Reporter *rp, const char *text) {
        say_once_in(rp->notice_error, sizeof(rp->notice_error), text);
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

/* ---- notices: one connection to termguardd kept open (session-notify) ---- */

typedef struct {
        int fd;            /* -1: not connected */
        bool subscribed;   /* termguardd's ok reply came */
        uint64_t next_try; /* when to connect again */
        char buf[TG_NOTICE_LINE_MAX];
        size_t len;
} Channel;

static void channel_close(Channel *ch, uint64_t now) {
        if (ch->fd >= 0)
                close(ch->fd);
        *ch = (Channel){.fd = -1, .next_try = now + TG_IDLE_REPORT_RETRY_USEC};
}

/* Connects and asks for the session's notices; the answer is read with the notices. */
static void channel_open(Channel *ch, Reporter *rp, uint64_t now) {
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        _cleanup_free_ char *text = NULL;
        _cleanup_close_ int fd = -EBADF;
        struct timeval tv = {.tv_sec = (time_t) (CALL_TIMEOUT_USEC / 1000000)};
        tg_ctl_request req;
        char msg[256];
        int r;

        ch->next_try = now + TG_IDLE_REPORT_RETRY_USEC;
        tg_ctl_request_init(&req, TG_CTL_SESSION_NOTIFY);
        if (strlen(rp->socket_path) >= sizeof(sa.sun_path) || tg_ctl_request_set(&req, TG_F_SESSION, rp->session) < 0 ||
            (rp->notify_only && tg_ctl_request_set(&req, TG_F_NOTIFY_ONLY, "true") < 0) ||
            tg_ctl_request_encode(&req, &text) < 0)
                return;
        strcpy(sa.sun_path, rp->socket_path);
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return;
        /* a daemon that does not accept holds the helper up no longer than a report */
        if (setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) < 0 ||
            connect(fd, (struct sockaddr *) &sa, sizeof(sa)) < 0 ||
            send(fd, text, strlen(text), MSG_NOSIGNAL) != (ssize_t) strlen(text) ||
            fcntl(fd, F_SETFL, O_NONBLOCK) < 0) {
                r = -errno;
                snprintf(msg, sizeof(msg), "cannot ask termguardd at %s for notices: %s", rp->socket_path,
                         strerror(-r));
                say_once_notices(rp, msg);
                return;
        }
        ch->fd = TAKE_FD(fd);
        ch->len = 0;
        ch->subscribed = false;
}

/* One line from termguardd: first its reply, then notices. false: close the connection. */
static bool channel_line(Channel *ch, Reporter *rp, Notifier *nf, const char *line, size_t len) {
        char err[256], msg[SAY_MAX];

        if (!ch->subscribed) {
                tg_ctl_reply reply = {0};
                if (tg_ctl_reply_decode(TG_CTL_SESSION_NOTIFY, line, len, &reply) < 0) {
                        say_once_notices(rp, "termguardd's answer to the notice request is not understood");
                        return false;
                }
                if (!reply.ok) {
                        snprintf(msg, sizeof(msg), "termguardd refused notices: %s", reply.error ? reply.error : "?");
                        say_once_notices(rp, msg);
                        tg_ctl_reply_done(&reply);
                        return false;
                }
                tg_ctl_reply_done(&reply);
                ch->subscribed = true;
                say_once_notices(rp, "");
                return true;
        }
        tg_notice n;
        if (tg_notice_decode(line, len, &n, err, sizeof(err)) < 0) {
                /* not shown: only what decodes is shown, and the stream goes on */
                fprintf(stderr, "termguard-session: a notice that is not understood: %s\n", err);
                return true;
        }
        notifier_show(nf, &n);
        return true;
}

static void channel_read(Channel *ch, Reporter *rp, Notifier *nf, uint64_t now) {
        for (;;) {
                ssize_t k = read(ch->fd, ch->buf + ch->len, sizeof(ch->buf) - ch->len);
                char *nl;

                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0 && errno == EAGAIN)
                        return;
                if (k <= 0) { /* termguardd stopped or closed it: ask again later */
                        channel_close(ch, now);
                        return;
                }
                ch->len += (size_t) k;
                while ((nl = memchr(ch->buf, '\n', ch->len))) {
                        size_t line = (size_t) (nl - ch->buf) + 1;
                        if (!channel_line(ch, rp, nf, ch->buf, line)) {
                                channel_close(ch, now);
                                return;
                        }
                        memmove(ch->buf, ch->buf + line, ch->len - line);
                        ch->len -= line;
                }
                if (ch->len == sizeof(ch->buf)) { /* a line longer than any notice */
                        fprintf(stderr, "termguard-session: termguardd sent an over-long line\n");
                        channel_close(ch, now);
                        return;
                }
        }
}

/* Sleeps up to usec, reading what the X server sends meanwhile (an error on the connection
 * ends the helper through on_x_io_error; d is NULL on Wayland), the notices and the session
 * bus. */
static void wait_events(Display *d, Channel *ch, Reporter *rp, Notifier *nf, uint64_t usec) {
        struct pollfd p[3] = {{.fd = d ? ConnectionNumber(d) : -1, .events = POLLIN}, {.fd = -1}, {.fd = -1}};
        uint64_t now = now_usec(), bus_timeout;
        int ms;

        if (ch->fd < 0 && ch->next_try > now && ch->next_try - now < usec)
                usec = ch->next_try - now;
        if (ch->fd >= 0)
                p[1] = (struct pollfd){.fd = ch->fd, .events = POLLIN};
        if (nf->bus) {
                p[2] = (struct pollfd){.fd = sd_bus_get_fd(nf->bus), .events = (short) sd_bus_get_events(nf->bus)};
                if (sd_bus_get_timeout(nf->bus, &bus_timeout) >= 0 && bus_timeout != UINT64_MAX) {
                        uint64_t mono = now; /* sd-bus timeouts are CLOCK_MONOTONIC, as now_usec() */
                        uint64_t left = bus_timeout > mono ? bus_timeout - mono : 0;
                        if (left < usec)
                                usec = left;
                }
        }
        ms = (int) ((usec + 999) / 1000);
        if (poll(p, 3, ms) < 0)
                return;
        if (d && p[0].revents) {
                XEvent ev;
                while (XPending(d) > 0)
                        XNextEvent(d, &ev);
        }
        if (ch->fd >= 0 && p[1].revents)
                channel_read(ch, rp, nf, now_usec());
        if (nf->bus) {
                int r;
                while ((r = sd_bus_process(nf->bus, NULL)) > 0)
                        ;
                if (r < 0) { /* the session bus went away: no more notifications */
                        fprintf(stderr, "termguard-session: lost the session bus: %s\n", strerror(-r));
                        notifier_close(nf);
                }
        }
}

/* Wayland: no idle time to measure, only the notices to show. Runs while the session bus is
 * there (the desktop ends the helper with the session). */
static int notices_only(Reporter *rp) {
        Channel ch = {.fd = -1};
        Notifier nf = {0};

        notifier_open(&nf);
        if (!nf.bus)
                return EXIT_SUCCESS; /* nothing to show them with (said by notifier_open) */
        while (nf.bus) {
                if (ch.fd < 0 && now_usec() >= ch.next_try)
                        channel_open(&ch, rp, now_usec());
                wait_events(NULL, &ch, rp, &nf, NOTICES_ONLY_WAIT_USEC);
        }
        channel_close(&ch, 0);
        return EXIT_SUCCESS;
}

static void usage(FILE *f) {
        fputs("Usage: termguard-session [--socket PATH] [--session ID]\n"
              "Reports this graphical session's input idle time (X11) to termguardd and shows\n"
              "termguardd's notices for the session as desktop notifications (X11 and Wayland).\n"
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
        Channel ch = {.fd = -1};
        Notifier nf = {0};
        _cleanup_free_ char *own_session = NULL;
        const char *env, *type = getenv("XDG_SESSION_TYPE"), *display = getenv("DISPLAY");
        const char *wayland = getenv("WAYLAND_DISPLAY");
        tg_idle_reporter state = {0};
        XScreenSaverInfo *info;
        Display *d;
        int c, event_base, error_base;

        setlocale(LC_ALL, "");
        bindtextdomain("termguard", locale_dir());
        bind_textdomain_codeset("termguard", "UTF-8");
        textdomain("termguard");
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
        /* XWayland sets DISPLAY too: WAYLAND_DISPLAY says what the session is */
        rp.notify_only = (type && strcmp(type, "wayland") == 0) || (wayland && *wayland) || !display || !*display;
        if (rp.notify_only)
                fprintf(stderr, "termguard-session: not an X11 session: input idle is the desktop's to report; "
                                "showing termguardd's notices only\n");
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
        if (rp.notify_only)
                return notices_only(&rp);
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
        notifier_open(&nf);
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
                if (ch.fd < 0 && now_usec() >= ch.next_try)
                        channel_open(&ch, &rp, now_usec());
                wait_events(d, &ch, &rp, &nf, tg_idle_report_sleep(&state, idle_ms, now_usec()));
        }
        channel_close(&ch, 0);
        notifier_close(&nf);
        XFree(info);
        XCloseDisplay(d);
        return EXIT_FAILURE;
}
