/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Kernel operations of the USB gate that a device can stall, off the event loop.
 *
 * Writing a device's or an interface's `authorized` and `/sys/bus/usb/drivers_probe` runs the
 * kernel's enumeration and driver probes synchronously: a device that never answers control
 * requests holds the writer for the driver's control timeouts (usbhid: about 25 s per
 * interface), and an interface being probed keeps its device locked, so even a deauthorizing
 * write on that device waits. Such writes run here, on a few short-lived threads:
 *
 *  - Jobs of one device (its key, the device's syspath) run one at a time, in the order they
 *    were submitted: authorize the device, then its interfaces, each followed by its probe.
 *    Different devices run in parallel, up to TG_WORKERS_MAX threads.
 *  - Each job says what the kernel state should be (allow or deny a device or an interface);
 *    the worker reads the state first and writes only what differs.
 *  - Each job belongs to one attachment: the device number its device had when it was judged.
 *    The next device on the same port gets the same sysfs paths; a job that runs after its
 *    device was unplugged must not authorize (or cut off) the device that took its place, so
 *    the device number is checked before every write.
 *  - Fail closed: a deny job cancels the allow jobs of the same target (of the whole device for
 *    a device-level deny) that have not started, so storage never becomes reachable because
 *    an older allow was still queued. Deny jobs unmount what is on the target before cutting
 *    it off, in the same job, so the order of the two is kept.
 *  - The event loop never waits for a worker: it submits under a short mutex, finished jobs
 *    come back through an eventfd, and a timer records operations that take long.
 *  - At exit, jobs not started are dropped (the controllers stay deny-by-default) and a worker
 *    still blocked in the kernel is not waited for: the process ends when the kernel returns.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "cleanup.h"
#include "event.h"
#include "mounts.h"
#include "sysfs.h"
#include "usb-worker.h"
#include "termguard/macro.h"

#define TG_WORKERS_MAX 16
#define TG_JOBS_MAX 4096
/* Thread stacks are virtual; what is resident is what a job touches (sysfs paths, libudev and
 * libmount while unmounting). */
#define TG_WORKER_STACK (256 * 1024)
/* An operation still unfinished after this long is recorded as slow. */
#define TG_SLOW_USEC (5ULL * 1000000ULL)

typedef struct Job {
        struct Job *next;
        GateOp op;
        char key[PATH_MAX];    /* the device's syspath: one job per key at a time */
        unsigned devnum;       /* the attachment at key the job is for; 0: any */
        char target[PATH_MAX]; /* the device or interface the job acts on */
        char why[64];
        uint64_t submitted;
        const char *step; /* what the worker is doing now (static string), under the lock */
        bool started, reported_slow;
        int result;
} Job;

static struct {
        pthread_mutex_t lock;
        Job *queue; /* submission order; started jobs stay until they finish */
        Job *done;
        size_t n_queued;
        unsigned n_threads, n_running;
        bool stopping;
        int efd;
} W = {.lock = PTHREAD_MUTEX_INITIALIZER, .efd = -1};

static const char *const op_names[] = {
        [GATE_OP_ALLOW_DEVICE] = "authorize",    [GATE_OP_DENY_DEVICE] = "deauthorize",
        [GATE_OP_ALLOW_INTERFACE] = "authorize", [GATE_OP_DENY_INTERFACE] = "deauthorize",
        [GATE_OP_DELETE_SCSI] = "delete",        [GATE_OP_REFRESH_NODES] = "refresh",
};

static uint64_t now_usec(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000000ULL + (uint64_t) ts.tv_nsec / 1000ULL;
}

/* Cut-offs: recorded when they fail, never refused for a full queue. */
static bool is_deny(GateOp op) {
        return op == GATE_OP_DENY_DEVICE || op == GATE_OP_DENY_INTERFACE || op == GATE_OP_DELETE_SCSI;
}

static bool is_allow(GateOp op) {
        return op == GATE_OP_ALLOW_DEVICE || op == GATE_OP_ALLOW_INTERFACE;
}

static const char *basename_of(const char *path) {
        const char *s = strrchr(path, '/');
        return s ? s + 1 : path;
}

static void set_step(Job *j, const char *step) {
        pthread_mutex_lock(&W.lock);
        j->step = step;
        pthread_mutex_unlock(&W.lock);
}

/* True when the device at the job's key is no longer the attachment the job was made for:
 * unplugged, and perhaps another device on the same port already. */
static bool attachment_gone(const Job *j) {
        unsigned devnum;
        int r;

        if (j->devnum == 0)
                return false;
        r = sysfs_read_uint(j->key, "devnum", &devnum);
        if (r < 0)
                /* Unreadable: nothing is admitted, and a cut-off runs unless the device is gone. */
                return !is_deny(j->op) || r == -ENOENT || r == -ENODEV;
        return devnum != j->devnum;
}

/* Runs one job; called without the lock. Returns 0 or a negative errno. A job whose attachment
 * is gone is done: what it would have allowed is gone, and what it would have cut off too. */
static int job_run(Job *j, struct udev **udev) {
        int authorized, r;

        if (attachment_gone(j))
                return 0;
        /* SCSI devices and the change uevent have no authorized attribute. Deleting a SCSI device
         * unmounts nothing: the LUNs cut off this way are never admitted as disks. */
        if (j->op == GATE_OP_DELETE_SCSI) {
                r = sysfs_write(j->target, "delete", "1");
                return r == -ENOENT ? 0 : r;
        }
        if (j->op == GATE_OP_REFRESH_NODES) {
                r = sysfs_write(j->target, "uevent", "change");
                return r == -ENOENT ? 0 : r;
        }
        authorized = sysfs_read_bool(j->target, "authorized");
        switch (j->op) {
        case GATE_OP_ALLOW_DEVICE:
                if (authorized != 0)
                        return 0;
                return sysfs_write(j->target, "authorized", "1");
        case GATE_OP_ALLOW_INTERFACE:
                if (authorized != 0)
                        return 0;
                r = sysfs_write(j->target, "authorized", "1");
                if (r < 0 || attachment_gone(j))
                        return r;
                /* With interface_authorized_default=0 nothing probes the interface by itself. */
                set_step(j, "probe");
                return sysfs_write("/sys/bus/usb", "drivers_probe", basename_of(j->target));
        case GATE_OP_DENY_DEVICE:
        case GATE_OP_DENY_INTERFACE:
                /* Gone already, or never admitted: nothing to cut off. A state that cannot be
                 * read otherwise is cut off all the same. */
                if (authorized == 0 || authorized == -ENOENT)
                        return 0;
                if (!*udev)
                        *udev = udev_new();
                set_step(j, "unmount");
                /* Cut off all the same when unmounting fails: mounts left behind return EIO. */
                r = *udev ? mounts_unmount_below(*udev, j->target, j->why) : -ENOMEM;
                if (r < 0)
                        event_cut_off_failed(j->key, j->target, "unmount", r, j->why);
                /* Unplugged while unmounting: the path may be the next device's by now. */
                if (attachment_gone(j))
                        return 0;
                set_step(j, "deauthorize");
                return sysfs_write(j->target, "authorized", "0");
        case GATE_OP_DELETE_SCSI:
        case GATE_OP_REFRESH_NODES: break;
        }
        return -EINVAL;
}

/* A job may run when no earlier job of its device (started or not) is in the queue. */
static bool runnable(const Job *j) {
        if (j->started)
                return false;
        for (const Job *e = W.queue; e != j; e = e->next)
                if (strcmp(e->key, j->key) == 0)
                        return false;
        return true;
}

/* The first runnable job, in submission order. Under the lock. */
static Job *next_runnable(void) {
        for (Job *j = W.queue; j; j = j->next)
                if (runnable(j))
                        return j;
        return NULL;
}

static unsigned count_runnable(void) {
        unsigned n = 0;
        for (Job *j = W.queue; j; j = j->next)
                n += runnable(j);
        return n;
}

static void unlink_job(Job *j) {
        for (Job **p = &W.queue; *p; p = &(*p)->next)
                if (*p == j) {
                        *p = j->next;
                        W.n_queued--;
                        return;
                }
}

static void *worker_main(void *arg _unused_) {
        _cleanup_udev_ struct udev *udev = NULL;

        pthread_mutex_lock(&W.lock);
        for (;;) {
                Job *j = W.stopping ? NULL : next_runnable();
                if (!j)
                        break;
                j->started = true;
                j->step = op_names[j->op];
                W.n_running++;
                pthread_mutex_unlock(&W.lock);

                int r = job_run(j, &udev);

                pthread_mutex_lock(&W.lock);
                W.n_running--;
                j->result = r;
                unlink_job(j);
                if (W.stopping) {
                        free(j);
                        continue;
                }
                j->next = W.done;
                W.done = j;
                uint64_t one = 1;
                (void) !write(W.efd, &one, sizeof(one));
        }
        W.n_threads--;
        pthread_mutex_unlock(&W.lock);
        return NULL;
}

/* Starts a thread if a runnable job has none to take it (threads not running a job are
 * about to take one). Under the lock. */
static void spawn_if_needed(void) {
        pthread_attr_t attr;
        pthread_t t;
        sigset_t all, old;
        int r;

        if (W.n_threads >= TG_WORKERS_MAX || count_runnable() <= W.n_threads - W.n_running)
                return;
        if (pthread_attr_init(&attr) != 0)
                return;
        (void) pthread_attr_setstacksize(&attr, TG_WORKER_STACK);
        (void) pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        /* Signals belong to the event loop (signalfd). */
        sigfillset(&all);
        pthread_sigmask(SIG_BLOCK, &all, &old);
        r = pthread_create(&t, &attr, worker_main, NULL);
        pthread_sigmask(SIG_SETMASK, &old, NULL);
        pthread_attr_destroy(&attr);
        if (r != 0) {
                /* The job waits for the next thread; the device stays as it is (blocked). */
                log_msg(LOG_ERR, "Failed to start a USB worker thread: %s", strerror(r));
                return;
        }
        W.n_threads++;
}

bool usb_worker_pending(const char *target) {
        bool found = false;
        pthread_mutex_lock(&W.lock);
        for (Job *j = W.queue; j && !found; j = j->next)
                found = strcmp(j->target, target) == 0;
        pthread_mutex_unlock(&W.lock);
        return found;
}

int usb_worker_submit(Manager *m, GateOp op, const char *key, unsigned devnum, const char *target, const char *why) {
        Job *last_same = NULL;

        assert_return(key && target && strlen(key) < PATH_MAX && strlen(target) < PATH_MAX, -EINVAL);

        pthread_mutex_lock(&W.lock);
        if (W.stopping) {
                pthread_mutex_unlock(&W.lock);
                return -ESHUTDOWN;
        }
        for (Job **p = &W.queue; *p;) {
                Job *j = *p;
                bool same_target = strcmp(j->target, target) == 0;
                /* Fail closed: a deny cancels allows not yet started, of the target or, for a
                 * device, of everything below it. */
                if (is_deny(op) && !j->started && is_allow(j->op) &&
                    (same_target || (op == GATE_OP_DENY_DEVICE && strcmp(j->key, key) == 0))) {
                        *p = j->next;
                        W.n_queued--;
                        free(j);
                        continue;
                }
                if (same_target && j->devnum == devnum)
                        last_same = j;
                p = &j->next;
        }
        /* The same request still waiting: once is enough. */
        if (last_same && !last_same->started && last_same->op == op) {
                pthread_mutex_unlock(&W.lock);
                return 0;
        }
        if (W.n_queued >= TG_JOBS_MAX && !is_deny(op)) {
                pthread_mutex_unlock(&W.lock);
                log_msg(LOG_ERR, "Too many USB operations queued; %s stays as it is", basename_of(target));
                return -ENOBUFS;
        }
        Job *j = calloc(1, sizeof(*j));
        if (!j) {
                pthread_mutex_unlock(&W.lock);
                return -ENOMEM;
        }
        j->op = op;
        j->devnum = devnum;
        snprintf(j->key, sizeof(j->key), "%s", key);
        snprintf(j->target, sizeof(j->target), "%s", target);
        snprintf(j->why, sizeof(j->why), "%s", why ? why : "");
        j->submitted = now_usec();
        Job **tail = &W.queue;
        while (*tail)
                tail = &(*tail)->next;
        *tail = j;
        W.n_queued++;
        spawn_if_needed();
        pthread_mutex_unlock(&W.lock);

        /* Arm the slow-operation timer if it is off or later than this job's deadline. */
        uint64_t deadline = j->submitted + TG_SLOW_USEC, cur = 0;
        int enabled = SD_EVENT_OFF;
        if (m->worker_slow_source) {
                (void) sd_event_source_get_enabled(m->worker_slow_source, &enabled);
                (void) sd_event_source_get_time(m->worker_slow_source, &cur);
                if (enabled == SD_EVENT_OFF || deadline < cur) {
                        (void) sd_event_source_set_time(m->worker_slow_source, deadline);
                        (void) sd_event_source_set_enabled(m->worker_slow_source, SD_EVENT_ONESHOT);
                }
        }
        return 0;
}

void usb_worker_forget(const char *key) {
        pthread_mutex_lock(&W.lock);
        for (Job **p = &W.queue; *p;) {
                Job *j = *p;
                if (!j->started && strcmp(j->key, key) == 0) {
                        *p = j->next;
                        W.n_queued--;
                        free(j);
                        continue;
                }
                p = &j->next;
        }
        pthread_mutex_unlock(&W.lock);
}

static void emit_operation(const char *key, const char *target, const char *step, const char *state, int priority,
                           const char *message, uint64_t elapsed, int error) {
        char secs[24];
        snprintf(secs, sizeof(secs), "%" PRIu64, elapsed / UINT64_C(1000000));
        event_emit("usb.operation", priority, message, "device", basename_of(key), "target", basename_of(target),
                   "operation", step, "state", state, "seconds", secs, "error", error < 0 ? strerror(-error) : NULL,
                   NULL);
}

static int done_handler(sd_event_source *s _unused_, int fd, uint32_t revents _unused_, void *userdata) {
        Manager *m = userdata;
        uint64_t n;
        Job *done;
        bool idle;

        (void) !read(fd, &n, sizeof(n));
        pthread_mutex_lock(&W.lock);
        done = W.done;
        W.done = NULL;
        idle = !W.queue;
        pthread_mutex_unlock(&W.lock);
        /* Nothing left that could become slow: no wakeup at a deadline that no longer matters. */
        if (idle && m->worker_slow_source)
                (void) sd_event_source_set_enabled(m->worker_slow_source, SD_EVENT_OFF);

        /* The list is newest first; record in the order the jobs finished. */
        Job *rev = NULL;
        while (done) {
                Job *next = done->next;
                done->next = rev;
                rev = done;
                done = next;
        }
        uint64_t now = now_usec();
        while (rev) {
                Job *j = rev;
                rev = j->next;
                if (j->result < 0)
                        emit_operation(j->key, j->target, j->step, "failed", LOG_ERR,
                                       "USB device operation failed; the device may lack a driver", now - j->submitted,
                                       j->result);
                else if (j->reported_slow)
                        emit_operation(j->key, j->target, j->step, "done", LOG_NOTICE,
                                       "Slow USB device operation finished", now - j->submitted, 0);
                if (j->result < 0 && is_deny(j->op))
                        event_cut_off_failed(j->key, j->target, j->step, j->result, j->why);
                free(j);
        }
        return 0;
}

typedef struct {
        char key[128], target[128]; /* names, not paths */
        const char *step;
        uint64_t submitted;
} SlowReport;

static int slow_handler(sd_event_source *s, uint64_t usec _unused_, void *userdata _unused_) {
        SlowReport reports[8];
        size_t n = 0;
        uint64_t now = now_usec(), next = 0;

        pthread_mutex_lock(&W.lock);
        for (Job *j = W.queue; j; j = j->next) {
                if (j->reported_slow)
                        continue;
                uint64_t deadline = j->submitted + TG_SLOW_USEC;
                if (deadline <= now && n < ELEMENTSOF(reports)) {
                        j->reported_slow = true;
                        snprintf(reports[n].key, sizeof(reports[n].key), "%.127s", basename_of(j->key));
                        snprintf(reports[n].target, sizeof(reports[n].target), "%.127s", basename_of(j->target));
                        reports[n].step = j->started ? j->step : "waiting";
                        reports[n].submitted = j->submitted;
                        n++;
                } else if (next == 0 || deadline < next)
                        next = deadline;
        }
        pthread_mutex_unlock(&W.lock);

        for (size_t i = 0; i < n; i++)
                emit_operation(reports[i].key, reports[i].target, reports[i].step, "slow", LOG_WARNING,
                               "USB device operation is taking long; the device may not be answering",
                               now - reports[i].submitted, 0);
        if (next) {
                (void) sd_event_source_set_time(s, next);
                (void) sd_event_source_set_enabled(s, SD_EVENT_ONESHOT);
        }
        return 0;
}

int usb_worker_start(Manager *m) {
        int r;

        W.efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (W.efd < 0)
                return -errno;
        r = sd_event_add_io(m->event, &m->worker_done_source, W.efd, EPOLLIN, done_handler, m);
        if (r < 0)
                return r;
        r = sd_event_add_time(m->event, &m->worker_slow_source, CLOCK_MONOTONIC, UINT64_MAX, 0, slow_handler, m);
        if (r < 0)
                return r;
        return sd_event_source_set_enabled(m->worker_slow_source, SD_EVENT_OFF);
}

void usb_worker_stop(Manager *m) {
        unsigned blocked;

        m->worker_done_source = sd_event_source_unref(m->worker_done_source);
        m->worker_slow_source = sd_event_source_unref(m->worker_slow_source);
        pthread_mutex_lock(&W.lock);
        W.stopping = true;
        for (Job **p = &W.queue; *p;) {
                Job *j = *p;
                if (!j->started) {
                        *p = j->next;
                        W.n_queued--;
                        free(j);
                        continue;
                }
                p = &j->next;
        }
        while (W.done) {
                Job *j = W.done;
                W.done = j->next;
                free(j);
        }
        blocked = W.n_running;
        /* Workers returning from now on free their job and never touch the eventfd. */
        if (W.efd >= 0)
                close(W.efd);
        W.efd = -1;
        pthread_mutex_unlock(&W.lock);
        if (blocked > 0)
                log_msg(LOG_WARNING, "%u USB device operation(s) still in the kernel; exiting without waiting for them",
                        blocked);
}
