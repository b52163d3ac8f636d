/* SPDX-License-Identifier: GPL-2.0-or-later */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <systemd/sd-daemon.h>

#include "daemon.h"
#include "termguard/macro.h"

int manager_save_register(Manager *m, tg_register *reg) {
        /* Every save carries the latest time seen, so a clock set back after a reboot is
         * recognised (expiries are saved when they are recorded). */
        (void) tg_register_observe_clock(reg, tg_now());
        return tg_register_save(m->register_path, reg);
}

static int mkdir_p(const char *path, mode_t mode) {
        char buf[PATH_MAX];
        snprintf(buf, sizeof(buf), "%s", path);
        for (char *p = buf + 1; *p; p++)
                if (*p == '/') {
                        *p = '\0';
                        if (mkdir(buf, 0755) < 0 && errno != EEXIST)
                                return -errno;
                        *p = '/';
                }
        if (mkdir(buf, mode) < 0 && errno != EEXIST)
                return -errno;
        return 0;
}

/* Loads config and register into the manager; on error nothing changes. */
static int manager_load(Manager *m, char *err, size_t err_size) {
        tg_config cfg;
        tg_register reg;
        char path[PATH_MAX];
        int r;

        r = tg_config_load(m->config_root, &cfg, err, err_size);
        if (r < 0)
                return r;
        if ((r = mkdir_p(cfg.state_dir, 0700)) < 0 || (r = mkdir_p(cfg.runtime_dir, 0755)) < 0) {
                snprintf(err, err_size, "cannot create %s or %s: %s", cfg.state_dir, cfg.runtime_dir, strerror(-r));
                return r;
        }
        snprintf(path, sizeof(path), "%s/register.json", cfg.state_dir);
        r = tg_register_load(path, &reg, err, err_size);
        if (r < 0)
                return r;
        /* The runtime directory cannot move while the gate and socket are live. */
        if (m->cfg.runtime_dir[0] && strcmp(m->cfg.runtime_dir, cfg.runtime_dir) != 0) {
                tg_register_clear(&reg);
                snprintf(err, err_size, "RuntimeDirectory cannot change on reload; restart the daemon");
                return -EINVAL;
        }
        m->cfg = cfg;
        snprintf(m->register_path, sizeof(m->register_path), "%s", path);
        tg_register_clear(&m->reg);
        m->reg = reg;
        m->last_reload_at = tg_now();
        return 0;
}

static int on_sighup(sd_event_source *s _unused_, const struct signalfd_siginfo *si _unused_, void *userdata) {
        Manager *m = userdata;
        char err[512] = "";
        int r;

        sd_notify(0, "RELOADING=1");
        r = manager_load(m, err, sizeof(err));
        if (r < 0) {
                snprintf(m->last_reload_error, sizeof(m->last_reload_error), "%s", err);
                tg_emit("config.reload-failed", LOG_ERR, "Reload refused; the last good policy stays in force", "error",
                        err, NULL);
        } else {
                m->last_reload_error[0] = '\0';
                tg_emit("config.reloaded", LOG_NOTICE, "Configuration and register reloaded", "config", m->config_root,
                        NULL);
                usb_gate_rejudge_all(m, "reload");
                usb_gate_schedule_expiry(m);
        }
        sd_notify(0, "READY=1");
        return 0;
}

static int on_sigterm(sd_event_source *s, const struct signalfd_siginfo *si _unused_, void *userdata _unused_) {
        sd_notify(0, "STOPPING=1");
        return sd_event_exit(sd_event_source_get_event(s), 0);
}

static void usage(void) {
        printf("Usage: termguardd [--config DIR]\n\n"
               "Resident termguard agent: keeps USB storage under the media register.\n\n"
               "  -c, --config DIR   configuration root (default %s)\n"
               "  -h, --help         show this help\n"
               "      --version      show the version\n",
               TG_CONFIG_ROOT);
}

int main(int argc, char **argv) {
        static const struct option opts[] = {
                {"config", required_argument, NULL, 'c'},
                {"help", no_argument, NULL, 'h'},
                {"version", no_argument, NULL, 'V'},
                {},
        };
        Manager m = {.control_fd = -1, .reg = {.next_exception_id = 1}};
        char err[512] = "";
        sigset_t ss;
        int c, r;

        snprintf(m.config_root, sizeof(m.config_root), "%s", TG_CONFIG_ROOT);
        while ((c = getopt_long(argc, argv, "c:h", opts, NULL)) >= 0) {
                switch (c) {
                case 'c':
                        if (strlen(optarg) >= sizeof(m.config_root)) {
                                fprintf(stderr, "termguardd: --config path too long\n");
                                return 2;
                        }
                        snprintf(m.config_root, sizeof(m.config_root), "%s", optarg);
                        break;
                case 'h': usage(); return 0;
                case 'V': printf("termguardd %s\n", TG_VERSION); return 0;
                default: return 2;
                }
        }
        if (optind < argc) {
                fprintf(stderr, "termguardd: unexpected argument '%s'\n", argv[optind]);
                return 2;
        }

        /* USB worker threads would each get a malloc arena of their own: one is enough for a
         * daemon that must stay small. */
        (void) mallopt(M_ARENA_MAX, 1);

        m.started_at = tg_now();
        r = manager_load(&m, err, sizeof(err));
        if (r < 0) {
                /* Refuse to run on a policy we cannot read. The kernel keeps whatever
                 * authorization defaults it has; with usbcore.authorized_default=0 or a
                 * previous run, new storage stays blocked. */
                tg_log(LOG_ERR, "Refusing to start: %s", err);
                return 1;
        }

        sigemptyset(&ss);
        sigaddset(&ss, SIGTERM);
        sigaddset(&ss, SIGINT);
        sigaddset(&ss, SIGHUP);
        sigprocmask(SIG_BLOCK, &ss, NULL);

        if ((r = sd_event_default(&m.event)) < 0 ||
            (r = sd_event_add_signal(m.event, NULL, SIGTERM, on_sigterm, &m)) < 0 ||
            (r = sd_event_add_signal(m.event, NULL, SIGINT, on_sigterm, &m)) < 0 ||
            (r = sd_event_add_signal(m.event, NULL, SIGHUP, on_sighup, &m)) < 0 ||
            (r = sd_event_set_watchdog(m.event, true)) < 0) {
                tg_log(LOG_ERR, "Failed to set up the event loop: %s", strerror(-r));
                return 1;
        }

        r = usb_gate_start(&m);
        if (r < 0) {
                tg_log(LOG_ERR, "Failed to start the USB gate: %s", strerror(-r));
                return 1;
        }
        r = seat_start(&m);
        if (r < 0) {
                tg_log(LOG_ERR, "Failed to follow the seat: %s", strerror(-r));
                return 1;
        }
        r = control_start(&m);
        if (r < 0) {
                tg_log(LOG_ERR, "Failed to open the control socket in %s: %s", m.cfg.runtime_dir, strerror(-r));
                return 1;
        }

        tg_emit("daemon.started", LOG_INFO, "termguardd started", "version", TG_VERSION, "config", m.config_root, NULL);
        sd_notify(0, "READY=1\nSTATUS=Guarding USB storage");

        r = sd_event_loop(m.event);

        tg_emit("daemon.stopping", LOG_INFO, "termguardd stopping; controllers stay deny-by-default", NULL);
        control_stop(&m);
        seat_stop(&m);
        usb_gate_stop(&m);
        tg_register_clear(&m.reg);
        sd_event_unref(m.event);
        return r < 0 ? 1 : 0;
}
