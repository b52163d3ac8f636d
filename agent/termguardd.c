/* SPDX-License-Identifier: GPL-2.0-or-later */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include <systemd/sd-daemon.h>

#include "control.h"
#include "event.h"
#include "intake.h"
#include "manager.h"
#include "mounts.h"
#include "retention.h"
#include "termguard/account.h"
#include "termguard/journal.h"
#include "termguard/macro.h"

static int on_sighup(sd_event_source *s _unused_, const struct signalfd_siginfo *si _unused_, void *userdata) {
        Manager *m = userdata;
        sd_notify(0, "RELOADING=1");
        /* A journal created since ("termguardctl journal init") first: the decisions the
         * reload applies again are then recorded, and storage is admitted. */
        (void) event_journal_open(m->cfg.state_dir, (uint64_t) m->cfg.journal_max_bytes,
                                  m->cfg.journal_auditor_group); /* logged there */
        manager_reload(userdata);
        (void) intake_spool(userdata); /* logged there */
        retention_kick(m);             /* MaxAge= may have changed, or a journal opened */
        sd_notify(0, "READY=1");
        return 0;
}

static int on_sigterm(sd_event_source *s, const struct signalfd_siginfo *si _unused_, void *userdata _unused_) {
        sd_notify(0, "STOPPING=1");
        return sd_event_exit(sd_event_source_get_event(s), 0);
}

/* A checkpoint of the journal every CheckpointInterval, on a timer (nothing polls). */
static int on_checkpoint(sd_event_source *s, uint64_t usec _unused_, void *userdata) {
        Manager *m = userdata;
        (void) event_journal_checkpoint(); /* logged there */
        (void) sd_event_source_set_time_relative(s, (uint64_t) m->cfg.journal_checkpoint_interval * 1000000ULL);
        return sd_event_source_set_enabled(s, SD_EVENT_ONESHOT);
}

/* malloc: allocations from this size on are mapped (and unmapped on free); a free top of the
 * heap above the trim size is given back. */
#define MALLOC_MMAP_THRESHOLD (32 * 1024)
#define MALLOC_TRIM_THRESHOLD (64 * 1024)

/* Name of the host's mount namespace in the service manager's file descriptor store. */
#define HOST_NS_FDNAME "host-mount-ns"
/* How long --pass-host-namespace waits for the service manager to take the namespace. */
#define HOST_NS_BARRIER_USEC (10 * 1000000ULL)

/* ExecStartPre=+ of the unit: runs outside the unit's sandbox with full privileges and leaves
 * the host's mount namespace in the service manager's file descriptor store, which hands it to
 * termguardd (LISTEN_FDNAMES). termguardd then needs no ptrace right over PID 1 to reach the
 * users' mounts. PID 1's namespace, not this process's own: systemd runs even a "+" command
 * of a unit with mount settings in a namespace of its own (a copy of the host's). */
static int pass_host_namespace(void) {
        _cleanup_close_ int fd = open("/proc/1/ns/mnt", O_RDONLY | O_CLOEXEC);
        int r;

        if (fd < 0) {
                log_msg(LOG_ERR, "Failed to open the host's mount namespace: %s", strerror(errno));
                return 1;
        }
        r = sd_pid_notify_with_fds(0, false, "FDSTORE=1\nFDNAME=" HOST_NS_FDNAME, &fd, 1);
        if (r == 0) {
                log_msg(LOG_ERR, "--pass-host-namespace: not started by systemd (no NOTIFY_SOCKET)");
                return 1;
        }
        /* The barrier: the namespace is in the store before ExecStart= runs. */
        if (r < 0 || (r = sd_notify_barrier(0, HOST_NS_BARRIER_USEC)) < 0) {
                log_msg(LOG_ERR, "Failed to hand the host's mount namespace to systemd: %s", strerror(-r));
                return 1;
        }
        return 0;
}

/* Takes what the service manager passes (the host's mount namespace); refuses anything else. */
static int take_passed_fds(void) {
        char **names = NULL;
        struct stat st;
        bool got = false;
        int n, r = 0;

        n = sd_listen_fds_with_names(true, &names);
        if (n < 0) {
                log_msg(LOG_ERR, "Failed to read the passed file descriptors: %s", strerror(-n));
                return n;
        }
        for (int i = 0; i < n; i++) {
                int fd = SD_LISTEN_FDS_START + i;
                if (r == 0 && !got && names && strcmp(names[i], HOST_NS_FDNAME) == 0) {
                        r = mounts_set_host_namespace(fd);
                        if (r < 0)
                                log_msg(LOG_ERR, "Passed %s is no mount namespace: %s", HOST_NS_FDNAME, strerror(-r));
                        else {
                                got = true;
                                continue; /* kept */
                        }
                }
                close(fd);
        }
        for (int i = 0; names && i < n; i++)
                free(names[i]);
        free(names);
        /* Started by the service manager, nothing handed over, and PID 1's namespace out of
         * reach (no ptrace right over it; with ProtectProc=invisible PID 1 is not even listed):
         * a confined termguardd whose unit lost the hand-over would unmount only its own
         * copies of the users' mounts. */
        if (r == 0 && !got && getppid() == 1 && stat("/proc/1/ns/mnt", &st) < 0 &&
            (errno == EACCES || errno == EPERM || errno == ENOENT)) {
                r = -errno;
                log_msg(LOG_ERR,
                        "No host mount namespace was handed over (%s) and PID 1's is out of reach: "
                        "refusing to unmount where the users' mounts may not be",
                        HOST_NS_FDNAME);
        }
        return r;
}

/* --share-journal: for the unit's ExecStartPre=+, with root's privileges and before the
 * confined daemon: gives the journal to [Journal] AuditorGroup= (directory set-group-ID, so that
 * the daemon's new segments get the group without CAP_CHOWN, which it does not keep). Never
 * stops the daemon from starting: a journal it cannot share, termguardd judges itself. */
static _noinline_ int share_journal(const char *config_root) {
        char err[512], dir[PATH_MAX];
        tg_config cfg;
        gid_t gid = (gid_t) -1;
        int r;

        if (tg_config_load(config_root, &cfg, err, sizeof(err)) < 0) {
                log_msg(LOG_WARNING, "--share-journal: %s", err);
                return 0;
        }
        snprintf(dir, sizeof(dir), "%s/journal", cfg.state_dir);
        r = cfg.journal_auditor_group[0] ? tg_group_gid(cfg.journal_auditor_group, &gid) : 0;
        if (r < 0)
                log_msg(LOG_WARNING, "--share-journal: group %s: %s", cfg.journal_auditor_group, strerror(-r));
        r = tg_journal_share(dir, &(tg_journal_options){.reader_group = r > 0, .reader_gid = gid});
        if (r < 0 && r != -ENOENT)
                log_msg(LOG_WARNING, "--share-journal: %s: %s", dir, strerror(-r));
        return 0;
}

static void usage(void) {
        printf("Usage: termguardd [--config DIR]\n\n"
               "Resident termguard agent: keeps USB storage under the media register.\n\n"
               "  -c, --config DIR          configuration root (default %s)\n"
               "      --pass-host-namespace for the unit's ExecStartPre=+: hand the host's mount\n"
               "                            namespace to systemd, to unmount users' media in\n"
               "      --share-journal       for the unit's ExecStartPre=+: give the journal to\n"
               "                            [Journal] AuditorGroup=\n"
               "  -h, --help                show this help\n"
               "      --version             show the version\n",
               TG_CONFIG_ROOT);
}

int main(int argc, char **argv) {
        static const struct option opts[] = {
                {"config", required_argument, NULL, 'c'},  {"help", no_argument, NULL, 'h'},
                {"version", no_argument, NULL, 'V'},       {"pass-host-namespace", no_argument, NULL, 'P'},
                {"share-journal", no_argument, NULL, 'S'}, {},
        };
        Manager m = {.reg = {.next_exception_id = 1}};
        char err[512] = "";
        sigset_t ss;
        bool share = false;
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
                case 'P': return pass_host_namespace();
                case 'S': share = true; break;
                default: return 2;
                }
        }
        if (share)
                return share_journal(m.config_root);
        if (optind < argc) {
                fprintf(stderr, "termguardd: unexpected argument '%s'\n", argv[optind]);
                return 2;
        }

        /* USB worker threads would each get a malloc arena of their own: one is enough for a
         * daemon that must stay small. */
        (void) mallopt(M_ARENA_MAX, 1);
        /* Buffers of a record's or a journal read's size are used once and freed: mapped, they
         * go back to the kernel on free; the heap is given back above a small free top. glibc's
         * defaults (a threshold that grows to 32 MiB, a 128 KiB trim) keep them resident. */
        (void) mallopt(M_MMAP_THRESHOLD, MALLOC_MMAP_THRESHOLD);
        (void) mallopt(M_TRIM_THRESHOLD, MALLOC_TRIM_THRESHOLD);

        /* Fail closed: unmounting in the wrong namespace would leave the users' mounts writable. */
        if (take_passed_fds() < 0)
                return 1;

        m.started_at = tg_now();
        r = manager_load(&m, err, sizeof(err));
        if (r < 0) {
                /* Refuse to run on a policy we cannot read. The kernel keeps whatever
                 * authorization defaults it has; with usbcore.authorized_default=0 or a
                 * previous run, new storage stays blocked. */
                log_msg(LOG_ERR, "Refusing to start: %s", err);
                return 1;
        }

        /* The journal first: every record from here on goes into it. */
        r = event_journal_open(m.cfg.state_dir, (uint64_t) m.cfg.journal_max_bytes, m.cfg.journal_auditor_group);
        if (r < 0)
                log_msg(LOG_ERR, "Running without a writable audit journal: storage stays blocked"); /* recorded */

        sigemptyset(&ss);
        sigaddset(&ss, SIGTERM);
        sigaddset(&ss, SIGINT);
        sigaddset(&ss, SIGHUP);
        sigprocmask(SIG_BLOCK, &ss, NULL);

        if ((r = sd_event_default(&m.event)) < 0 ||
            (r = sd_event_add_signal(m.event, NULL, SIGTERM, on_sigterm, &m)) < 0 ||
            (r = sd_event_add_signal(m.event, NULL, SIGINT, on_sigterm, &m)) < 0 ||
            (r = sd_event_add_signal(m.event, NULL, SIGHUP, on_sighup, &m)) < 0 ||
            (r = sd_event_add_time_relative(m.event, NULL, CLOCK_MONOTONIC,
                                            (uint64_t) m.cfg.journal_checkpoint_interval * 1000000ULL, 0, on_checkpoint,
                                            &m)) < 0 ||
            (r = sd_event_set_watchdog(m.event, true)) < 0) {
                log_msg(LOG_ERR, "Failed to set up the event loop: %s", strerror(-r));
                return 1;
        }

        r = manager_start(&m);
        if (r < 0)
                return 1; /* logged there */
        r = control_start(&m);
        if (r < 0) {
                log_msg(LOG_ERR, "Failed to open the control socket in %s: %s", m.cfg.runtime_dir, strerror(-r));
                return 1;
        }

        r = intake_start(&m);
        if (r < 0) {
                log_msg(LOG_ERR, "Failed to open the record socket in %s: %s", m.cfg.runtime_dir, strerror(-r));
                return 1;
        }

        /* After the spool's records are in (below, on the loop): a prune never comes first. */
        r = retention_start(&m);
        if (r < 0)
                /* Nothing is deleted without it; the cap still fails closed and says so. */
                log_msg(LOG_ERR, "Failed to set up the journal's retention: %s; nothing will be pruned", strerror(-r));

        event_emit("daemon.started", LOG_INFO, "termguardd started", "version", TG_VERSION, "config", m.config_root,
                   NULL);
        /* What root producers spooled while we were not running, in order, before anything new. */
        (void) intake_spool(&m);
        sd_notify(0, "READY=1\nSTATUS=Guarding USB storage");
        /* Start-up (configuration, coldplug, the spool) is done: what it freed in the heap goes
         * back now rather than when a later free happens to cross the trim threshold. */
        (void) malloc_trim(0);

        r = sd_event_loop(m.event);

        event_emit("daemon.stopping", LOG_INFO, "termguardd stopping; controllers stay deny-by-default", NULL);
        (void) event_journal_checkpoint();
        retention_stop(&m);
        intake_stop(&m);
        control_stop(&m);
        manager_stop(&m);
        sd_event_unref(m.event);
        event_journal_close();
        return r < 0 ? 1 : 0;
}
