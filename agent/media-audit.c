/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Carry-out records on the event loop's side: which mounts to watch, and reading fanotify.
 *
 * Two fanotify groups, because one cannot do both: a group reporting directory handles and
 * names (FAN_REPORT_DFID_NAME) gives created, renamed and deleted names, but no open file; a
 * classic group gives FAN_CLOSE_WRITE with an open descriptor of the file to hash. Both mark the
 * whole filesystem, not one mount: a bind mount or a mount in another namespace (a sandboxed
 * application's) writes to the same medium. The event loop only reads the kernel's events, adds
 * who caused them (from /proc, never from the medium) and queues them; media-worker.c does
 * everything that reads the medium. The mount table is followed through /proc/self/mountinfo
 * (EPOLLPRI on change), parsed here: libmount would cost the daemon's memory all the time
 * (mounts.c says how much).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/fanotify.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "event.h"
#include "media-audit.h"
#include "media-worker.h"
#include "termguard/escape.h"
#include "termguard/macro.h"

/* One read of a group: many events per wakeup while 10,000 files are copied. */
#define READ_BUFFER 8192
/* Processes remembered, and for how long: pids are reused, but not within a second. */
#define PROCESS_CACHE 16
#define PROCESS_CACHE_USEC (1000ULL * 1000ULL)

static struct {
        int names_fd, writes_fd, mountinfo_fd;
        sd_event_source *names_source, *writes_source, *mountinfo_source;
        bool unavailable_reported;
        /* Who caused recent events: a copy of 10,000 files is one process, and a short copy
         * is often gone by the time its close is read but was alive at its create. */
        struct {
                MediaProcess p;
                uint64_t seen;
        } recent[PROCESS_CACHE];
        unsigned next_recent;
} A = {.names_fd = -1, .writes_fd = -1, .mountinfo_fd = -1};

/* ---- who ---- */

static uint64_t now_usec(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000000ULL + (uint64_t) ts.tv_nsec / 1000ULL;
}

/* The process as /proc shows it now; a process already gone is recorded by pid alone. */
static void process_of(Manager *m, pid_t pid, MediaProcess *ret) {
        char path[64], buf[1024], comm[17] = "";
        unsigned uid = (unsigned) -1;
        _cleanup_close_ int fd = -EBADF;
        ssize_t n;

        uint64_t now = now_usec();
        for (size_t i = 0; i < PROCESS_CACHE && pid > 0; i++)
                if (A.recent[i].p.pid == pid && now - A.recent[i].seen < PROCESS_CACHE_USEC) {
                        *ret = A.recent[i].p;
                        snprintf(ret->seat_user, sizeof(ret->seat_user), "%s", m->seat_user);
                        return;
                }
        *ret = (MediaProcess){.pid = pid, .uid = (uid_t) -1};
        snprintf(ret->seat_user, sizeof(ret->seat_user), "%s", m->seat_user);
        snprintf(path, sizeof(path), "/proc/%d/status", (int) pid);
        fd = open(path, O_RDONLY | O_CLOEXEC);
        n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;
        if (n <= 0) {
                snprintf(ret->comm, sizeof(ret->comm), "?");
                return;
        }
        buf[n] = '\0';
        /* "Name:\t<comm>\n" is first; the kernel escapes nothing but newlines in it. */
        if (strncmp(buf, "Name:\t", 6) == 0) {
                size_t len = strcspn(buf + 6, "\n");
                if (len > 16)
                        len = 16;
                memcpy(comm, buf + 6, len);
                comm[len] = '\0';
        }
        const char *u = strstr(buf, "\nUid:\t");
        if (u)
                uid = (unsigned) strtoul(u + 6, NULL, 10);
        ret->uid = (uid_t) uid;
        tg_escape(comm, strlen(comm), 16, ret->comm, sizeof(ret->comm));
        A.recent[A.next_recent].p = *ret;
        A.recent[A.next_recent].seen = now;
        A.next_recent = (A.next_recent + 1) % PROCESS_CACHE;
}

/* ---- fanotify ---- */

static void overflow(const char *group) {
        media_worker_kernel_overflow();
        event_emit("media.audit-overflow", LOG_ERR,
                   "The kernel dropped file events on removable media (its queue overflowed)", "source", "kernel",
                   "group", group, NULL);
}

static void queue_name_event(Manager *m, const struct fanotify_event_metadata *e) {
        const struct fanotify_event_info_fid *fid = NULL;
        MediaJob *j;

        for (size_t off = e->metadata_len; off + sizeof(struct fanotify_event_info_header) <= e->event_len;) {
                const struct fanotify_event_info_header *h = (const void *) ((const char *) e + off);
                if (h->len == 0 || off + h->len > e->event_len)
                        break;
                if (h->info_type == FAN_EVENT_INFO_TYPE_DFID_NAME)
                        fid = (const void *) h;
                off += h->len;
        }
        if (!fid)
                return;
        const struct file_handle *fh = (const void *) fid->handle;
        size_t handle_len = sizeof(*fh) + fh->handle_bytes;
        const char *name = (const char *) fh + handle_len;
        size_t room = fid->hdr.len - sizeof(*fid);
        if (handle_len >= room)
                return;
        size_t name_len = strnlen(name, room - handle_len);
        j = calloc(1, sizeof(*j) + handle_len + name_len + 1);
        if (!j) {
                log_msg(LOG_ERR, "Out of memory: a file event on removable media is not recorded");
                return;
        }
        j->kind = MEDIA_JOB_NAME;
        j->mask = e->mask;
        memcpy(&j->fsid, &fid->fsid, sizeof(j->fsid));
        j->handle_len = handle_len;
        memcpy(j->data, fh, handle_len);
        memcpy(j->data + handle_len, name, name_len);
        process_of(m, e->pid, &j->proc);
        if (media_worker_submit(j) < 0)
                free(j); /* counted; recorded by the worker as media.audit-overflow */
}

static void queue_written(Manager *m, const struct fanotify_event_metadata *e) {
        MediaJob *j = calloc(1, sizeof(*j));
        MediaProcess p;

        process_of(m, e->pid, &p);
        if (!j || (j->kind = MEDIA_JOB_WRITTEN, j->fd = e->fd, j->proc = p, media_worker_submit(j) < 0)) {
                free(j);
                media_worker_record_unqueued(e->fd, &p);
        }
}

/* Reads what one group has; returns how many events (0 when none was waiting). */
static int read_group(Manager *m, int fd, bool names) {
        char buf[READ_BUFFER] __attribute__((aligned(__alignof__(struct fanotify_event_metadata))));
        ssize_t n = read(fd, buf, sizeof(buf));
        int count = 0;

        if (n <= 0)
                return 0;
        for (const struct fanotify_event_metadata *e = (const void *) buf; FAN_EVENT_OK(e, n);
             e = FAN_EVENT_NEXT(e, n)) {
                count++;
                if (e->vers != FANOTIFY_METADATA_VERSION)
                        continue;
                if (e->mask & FAN_Q_OVERFLOW) {
                        overflow(names ? "names" : "written");
                        continue;
                }
                if (names)
                        queue_name_event(m, e);
                else if (e->fd >= 0)
                        queue_written(m, e);
        }
        return count;
}

static int names_handler(sd_event_source *s _unused_, int fd, uint32_t revents _unused_, void *userdata) {
        read_group(userdata, fd, true);
        return 0;
}

static int writes_handler(sd_event_source *s _unused_, int fd, uint32_t revents _unused_, void *userdata) {
        read_group(userdata, fd, false);
        return 0;
}

/* Everything the kernel reported so far, before a watch ends: its summary comes last. Bounded:
 * a process still writing cannot keep the loop here. */
static void drain(Manager *m) {
        for (int i = 0; i < 64; i++) {
                int n = 0;
                if (A.names_fd >= 0)
                        n += read_group(m, A.names_fd, true);
                if (A.writes_fd >= 0)
                        n += read_group(m, A.writes_fd, false);
                if (n == 0)
                        return;
        }
}

/* ---- which mounts ---- */

/* The USB device whose storage a block device is, if it is one termguard admitted read-write. */
static const Device *writable_device(Manager *m, dev_t dev) {
        char link[64], target[PATH_MAX];

        snprintf(link, sizeof(link), "/sys/dev/block/%u:%u", major(dev), minor(dev));
        if (!realpath(link, target))
                return NULL;
        for (const Device *d = m->devices; d; d = d->next) {
                size_t n = strlen(d->syspath);
                if (strncmp(target, d->syspath, n) == 0 && target[n] == '/')
                        return d->decision.authorize_device && d->decision.storage_mode == TG_MODE_READ_WRITE ? d
                                                                                                              : NULL;
        }
        return NULL;
}

typedef struct {
        int mount_id;
        dev_t dev;
        char mountpoint[PATH_MAX];
        char fstype[24 * 4 + 8];
        char source[64 * 4 + 8];
        bool rw;
} MountLine;

/* One line of /proc/self/mountinfo: "ID PARENT MAJ:MIN ROOT POINT OPTS [TAGS...] - TYPE SRC SOPTS". */
static bool parse_mountinfo_line(char *line, MountLine *ret) {
        char *save = NULL, *f[6], *t;
        unsigned maj, mnr;
        size_t i;

        for (i = 0; i < 6 && (t = strtok_r(i ? NULL : line, " \n", &save)); i++)
                f[i] = t;
        if (i < 6)
                return false;
        while ((t = strtok_r(NULL, " \n", &save)) && strcmp(t, "-") != 0)
                ;
        char *type = t ? strtok_r(NULL, " \n", &save) : NULL;
        char *source = type ? strtok_r(NULL, " \n", &save) : NULL;
        char *sopts = source ? strtok_r(NULL, " \n", &save) : NULL;
        if (!sopts || sscanf(f[2], "%u:%u", &maj, &mnr) != 2 || maj == 0)
                return false;
        if (tg_mountinfo_unescape(f[4], ret->mountpoint, sizeof(ret->mountpoint)) < 0)
                return false;
        ret->mount_id = atoi(f[0]);
        ret->dev = makedev(maj, mnr);
        /* "fuse.NAME": NAME is the mounting program's choice. */
        tg_escape(type, strlen(type), 24, ret->fstype, sizeof(ret->fstype));
        tg_escape(source, strlen(source), 64, ret->source, sizeof(ret->source));
        /* Writable only when both the mount and the filesystem are. */
        ret->rw = strncmp(f[5], "rw", 2) == 0 && (f[5][2] == '\0' || f[5][2] == ',') && strncmp(sopts, "rw", 2) == 0 &&
                  (sopts[2] == '\0' || sopts[2] == ',');
        return true;
}

/* The live watches when the table changed, and whether each mount is still there, read-write. */
typedef struct {
        MediaWatch *w[64];
        bool present[64], rw[64];
        size_t n;
} Known;

static void collect(MediaWatch *w, void *userdata) {
        Known *k = userdata;
        if (k->n < ELEMENTSOF(k->w))
                k->w[k->n++] = w;
}

static void watch_start(Manager *m, const MountLine *l, const Device *d) {
        MediaWatch *w = calloc(1, sizeof(*w));
        MediaJob *j = calloc(1, sizeof(*j));

        if (!w || !j) {
                free(w);
                free(j);
                event_emit("media.audit-overflow", LOG_ERR, "Out of memory: a writable medium is not watched", "source",
                           "memory", "device", d->sysname, NULL);
                return;
        }
        (void) m;
        w->mount_id = l->mount_id;
        w->dev = l->dev;
        snprintf(w->mountpoint, sizeof(w->mountpoint), "%s", l->mountpoint);
        tg_escape(l->mountpoint, strlen(l->mountpoint), TG_MEDIA_PATH_MAX, w->mountpoint_esc,
                  sizeof(w->mountpoint_esc));
        snprintf(w->fstype, sizeof(w->fstype), "%s", l->fstype);
        snprintf(w->devnode, sizeof(w->devnode), "%s", l->source);
        snprintf(w->syspath, sizeof(w->syspath), "%s", d->syspath);
        snprintf(w->device, sizeof(w->device), "%s", d->sysname);
        snprintf(w->vid, sizeof(w->vid), "%04x", d->desc.vid);
        snprintf(w->pid, sizeof(w->pid), "%04x", d->desc.pid);
        snprintf(w->serial, sizeof(w->serial), "%s", d->serial_esc);
        snprintf(w->label, sizeof(w->label), "%s", d->decision.label);
        if (d->decision.exception_id)
                snprintf(w->exception, sizeof(w->exception), "%" PRIu64, d->decision.exception_id);
        media_worker_watch_add(w);
        j->kind = MEDIA_JOB_MARK;
        j->watch = w;
        (void) media_worker_submit(j); /* always taken */
}

/* One line at a time: the daemon's memory stays the same whatever the size of the table. */
void media_audit_rescan(Manager *m) {
        _cleanup_fclose_ FILE *f = NULL;
        _cleanup_free_ char *line = NULL;
        size_t cap = 0;
        Known k = {0};
        MountLine l;

        if (A.mountinfo_fd < 0)
                return;
        f = fopen("/proc/self/mountinfo", "re");
        if (!f) {
                log_msg(LOG_ERR, "Cannot read the mount table: %m; writable media are not followed now");
                return;
        }
        media_worker_foreach_watch(collect, &k);
        while (getline(&line, &cap, f) > 0) {
                bool watched = false;
                const Device *d;
                if (!parse_mountinfo_line(line, &l))
                        continue;
                for (size_t i = 0; i < k.n; i++)
                        if (k.w[i]->mount_id == l.mount_id) {
                                k.present[i] = true;
                                k.rw[i] = l.rw;
                                watched = true;
                        }
                if (!l.rw || watched || !(d = writable_device(m, l.dev)))
                        continue;
                if (A.names_fd < 0 && A.writes_fd < 0 && !A.unavailable_reported) {
                        A.unavailable_reported = true;
                        log_msg(LOG_ERR, "fanotify is not available: files written to media cannot be recorded");
                }
                watch_start(m, &l, d);
        }
        bool any_gone = false;
        for (size_t i = 0; i < k.n; i++)
                any_gone |= !k.rw[i];
        if (!any_gone)
                return;
        /* What the kernel reported before the mount went belongs to the watch. */
        drain(m);
        for (size_t i = 0; i < k.n; i++)
                if (!k.rw[i])
                        media_worker_watch_end(k.w[i], k.present[i] ? "remounted read-only" : "unmounted");
}

typedef struct {
        const char *syspath;
        MediaWatch *hit[64];
        size_t n;
} ByDevice;

static void find_device(MediaWatch *w, void *userdata) {
        ByDevice *b = userdata;
        if (strcmp(w->syspath, b->syspath) == 0 && b->n < ELEMENTSOF(b->hit))
                b->hit[b->n++] = w;
}

void media_audit_device_ended(Manager *m, const char *syspath, const char *why) {
        ByDevice b = {.syspath = syspath};

        media_worker_foreach_watch(find_device, &b);
        if (b.n == 0)
                return;
        drain(m);
        for (size_t i = 0; i < b.n; i++)
                media_worker_watch_end(b.hit[i], why);
}

static int mountinfo_handler(sd_event_source *s _unused_, int fd _unused_, uint32_t revents _unused_, void *userdata) {
        media_audit_rescan(userdata);
        return 0;
}

void media_audit_configure(Manager *m) {
        media_worker_set_hash_max(m->cfg.media_hash_max);
}

int media_audit_start(Manager *m) {
        int r;

        media_audit_configure(m);
        /* Non-blocking reads on the loop; descriptors of written files read-only, never
         * inherited. Without fanotify (no CAP_SYS_ADMIN, an old kernel) each watch records what
         * it could not observe. */
        A.names_fd = fanotify_init(FAN_CLASS_NOTIF | FAN_CLOEXEC | FAN_NONBLOCK | FAN_REPORT_DFID_NAME, O_RDONLY);
        if (A.names_fd < 0)
                log_msg(LOG_WARNING, "fanotify (names) unavailable: %m");
        A.writes_fd = fanotify_init(FAN_CLASS_NOTIF | FAN_CLOEXEC | FAN_NONBLOCK,
                                    O_RDONLY | O_CLOEXEC | O_LARGEFILE | O_NOATIME);
        if (A.writes_fd < 0)
                log_msg(LOG_WARNING, "fanotify (written files) unavailable: %m");
        media_worker_set_groups(A.names_fd, A.writes_fd);
        if (A.names_fd >= 0) {
                r = sd_event_add_io(m->event, &A.names_source, A.names_fd, EPOLLIN, names_handler, m);
                if (r < 0)
                        return r;
        }
        if (A.writes_fd >= 0) {
                r = sd_event_add_io(m->event, &A.writes_source, A.writes_fd, EPOLLIN, writes_handler, m);
                if (r < 0)
                        return r;
        }
        /* The kernel flags a change of the mount table as an exceptional condition. Without it
         * (no /proc, or a /proc that cannot be polled) the gate still runs: storage is judged
         * as before, and the record says that writes to media are not recorded. */
        A.mountinfo_fd = open("/proc/self/mountinfo", O_RDONLY | O_CLOEXEC);
        r = A.mountinfo_fd < 0
                    ? -errno
                    : sd_event_add_io(m->event, &A.mountinfo_source, A.mountinfo_fd, EPOLLPRI, mountinfo_handler, m);
        if (r < 0) {
                if (A.mountinfo_fd >= 0)
                        close(A.mountinfo_fd);
                A.mountinfo_fd = -1;
                event_emit("media.audit-unavailable", LOG_ERR,
                           "Cannot follow the mount table: files written to removable media are not recorded", "error",
                           strerror(-r), NULL);
        }
        return 0;
}

static void end_all(MediaWatch *w, void *userdata) {
        ByDevice *b = userdata;
        if (b->n < ELEMENTSOF(b->hit))
                b->hit[b->n++] = w;
}

void media_audit_stop(Manager *m) {
        ByDevice b = {0};

        A.mountinfo_source = sd_event_source_unref(A.mountinfo_source);
        if (A.mountinfo_fd >= 0) {
                media_worker_foreach_watch(end_all, &b);
                drain(m);
                for (size_t i = 0; i < b.n; i++)
                        media_worker_watch_end(b.hit[i], "termguardd stopping");
                /* The summaries, unless a medium stalls the worker. */
                if (media_worker_wait_idle(2000) < 0)
                        log_msg(LOG_WARNING, "The media audit worker is stalled; exiting without its last records");
        }
        media_worker_stop();
        A.names_source = sd_event_source_unref(A.names_source);
        A.writes_source = sd_event_source_unref(A.writes_source);
        int *fds[] = {&A.names_fd, &A.writes_fd, &A.mountinfo_fd};
        for (size_t i = 0; i < ELEMENTSOF(fds); i++)
                if (*fds[i] >= 0) {
                        close(*fds[i]);
                        *fds[i] = -1;
                }
}
