/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The media audit's worker: everything that reads a medium runs here, never on the event loop.
 *
 *  - One thread, started when a job is queued and none is running; it ends when the queue is
 *    empty. Jobs run in the order the kernel reported them, so a watch's marks are placed
 *    before its events are resolved, and its summary comes after its last event.
 *  - The queue is bounded (TG_MEDIA_QUEUE_MAX jobs, TG_MEDIA_QUEUE_FDS_MAX open files). What
 *    does not fit is never dropped silently: a written file is recorded at once without its
 *    digest (its path and size come from the kernel's open file, not from the medium), a lost
 *    name event is counted, recorded as media.audit-overflow and in the watch's summary.
 *  - A stick that stalls reads stalls this thread only; the queue then fills and the losses
 *    are recorded. At exit the thread is not waited for.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/fanotify.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "event.h"
#include "media-worker.h"
#include "termguard/escape.h"
#include "termguard/macro.h"

#define WORKER_STACK (256 * 1024)
#define NAME_EVENTS (FAN_CREATE | FAN_DELETE | FAN_MOVED_FROM | FAN_MOVED_TO | FAN_ONDIR)

static struct {
        pthread_mutex_t lock;
        pthread_cond_t idle;
        MediaJob *head, **tail;
        size_t n_queued, n_fds;
        uint64_t lost; /* since the last media.audit-overflow */
        bool running, stopping, paused;
        MediaWatch *watches;
        int names_fd, writes_fd;
        uint64_t hash_max;
} Q = {
        .lock = PTHREAD_MUTEX_INITIALIZER,
        .idle = PTHREAD_COND_INITIALIZER,
        .tail = &Q.head,
        .names_fd = -1,
        .writes_fd = -1,
        .hash_max = TG_MEDIA_HASH_MAX_DEFAULT,
};

/* State of the worker thread alone. */
static struct {
        /* The last directory resolved: copying 10,000 files into one folder asks for it once. */
        unsigned char handle[128];
        size_t handle_len;
        fsid_t fsid;
        char dir[4096];
        /* A rename is reported as moved-from, then moved-to: kept until its other half. */
        MediaJob *moved_from;
        char moved_from_path[TG_MEDIA_PATH_ESCAPED];
} T;

void media_worker_set_groups(int names_fd, int writes_fd) {
        pthread_mutex_lock(&Q.lock);
        Q.names_fd = names_fd;
        Q.writes_fd = writes_fd;
        pthread_mutex_unlock(&Q.lock);
}

void media_worker_set_hash_max(uint64_t cap) {
        pthread_mutex_lock(&Q.lock);
        Q.hash_max = cap;
        pthread_mutex_unlock(&Q.lock);
}

static bool fsid_equal(const fsid_t *a, const fsid_t *b) {
        return memcmp(a, b, sizeof(*a)) == 0;
}

/* Under the lock. */
static MediaWatch *watch_by_fsid(const fsid_t *fsid) {
        for (MediaWatch *w = Q.watches; w; w = w->next)
                if (w->have_fsid && fsid_equal(&w->fsid, fsid))
                        return w;
        return NULL;
}

static MediaWatch *watch_by_dev(dev_t dev) {
        for (MediaWatch *w = Q.watches; w; w = w->next)
                if (w->dev == dev)
                        return w;
        return NULL;
}

void media_worker_watch_add(MediaWatch *w) {
        pthread_mutex_lock(&Q.lock);
        w->next = Q.watches;
        Q.watches = w;
        pthread_mutex_unlock(&Q.lock);
}

void media_worker_foreach_watch(void (*fn)(MediaWatch *w, void *userdata), void *userdata) {
        pthread_mutex_lock(&Q.lock);
        for (MediaWatch *w = Q.watches; w; w = w->next)
                if (!w->ending)
                        fn(w, userdata);
        pthread_mutex_unlock(&Q.lock);
}

void media_worker_kernel_overflow(void) {
        pthread_mutex_lock(&Q.lock);
        for (MediaWatch *w = Q.watches; w; w = w->next)
                if (!w->ending)
                        w->incomplete = true;
        pthread_mutex_unlock(&Q.lock);
}

/* ---- records ---- */

static void user_name(uid_t uid, char *ret, size_t size) {
        struct passwd pw, *res = NULL;
        char buf[1024];

        if (uid == (uid_t) -1) {
                snprintf(ret, size, "?");
                return;
        }
        if (getpwuid_r(uid, &pw, buf, sizeof(buf), &res) == 0 && res)
                tg_escape(res->pw_name, strlen(res->pw_name), 64, ret, size);
        else
                snprintf(ret, size, "%u", (unsigned) uid);
}

/* One file record: the fields every media.file-* event carries, then the event's own (a pair
 * with a NULL value is left out; keys are never NULL, which would end the list early). */
static void emit_file(const char *type, const char *message, const MediaWatch *w, const MediaProcess *p, const char *k1,
                      const char *v1, const char *k2, const char *v2, const char *k3, const char *v3, const char *k4,
                      const char *v4, const char *k5, const char *v5) {
        char pid[16], uid[16], user[64 * 4 + 8];

        snprintf(pid, sizeof(pid), "%d", (int) p->pid);
        if (p->uid == (uid_t) -1)
                snprintf(uid, sizeof(uid), "?");
        else
                snprintf(uid, sizeof(uid), "%u", (unsigned) p->uid);
        user_name(p->uid, user, sizeof(user));
        event_emit(type, LOG_INFO, message, "device", w ? w->device : "", "serial", w ? w->serial : NULL, "label",
                   w && w->label[0] ? w->label : NULL, "exception", w && w->exception[0] ? w->exception : NULL,
                   "mountpoint", w ? w->mountpoint_esc : NULL, k1, v1, k2, v2, k3, v3, k4, v4, k5, v5, "process_id",
                   pid, "comm", p->comm, "uid", uid, "user", user, "seat_user", p->seat_user, NULL);
}

static void flush_moved_from(void) {
        MediaJob *j = T.moved_from;
        MediaWatch *w;

        if (!j)
                return;
        pthread_mutex_lock(&Q.lock);
        w = watch_by_fsid(&j->fsid);
        if (w)
                w->renamed++;
        pthread_mutex_unlock(&Q.lock);
        /* The other half never came (lost): the old name is what is known. */
        emit_file("media.file-renamed", "File on removable medium renamed", w, &j->proc, "from", T.moved_from_path,
                  "to", "?", "kind", j->mask & FAN_ONDIR ? "directory" : "file", "", NULL, "", NULL);
        free(j);
        T.moved_from = NULL;
}

/* ---- jobs ---- */

static void job_mark(MediaJob *j) {
        MediaWatch *w = j->watch;
        struct stat st;
        struct statfs sfs;
        char why_names[96] = "", why_writes[96] = "", not_obs[256] = "";
        int names_fd, writes_fd;

        pthread_mutex_lock(&Q.lock);
        names_fd = Q.names_fd;
        writes_fd = Q.writes_fd;
        pthread_mutex_unlock(&Q.lock);

        /* The mount point may have gone or be another filesystem by now. */
        if (stat(w->mountpoint, &st) < 0 || st.st_dev != w->dev) {
                snprintf(why_names, sizeof(why_names), "mount point changed before it could be watched");
                snprintf(why_writes, sizeof(why_writes), "%s", why_names);
        } else {
                if (names_fd < 0)
                        snprintf(why_names, sizeof(why_names), "fanotify unavailable");
                else if (fanotify_mark(names_fd, FAN_MARK_ADD | FAN_MARK_FILESYSTEM, NAME_EVENTS, AT_FDCWD,
                                       w->mountpoint) < 0)
                        snprintf(why_names, sizeof(why_names), "%s", strerror(errno));
                else if (statfs(w->mountpoint, &sfs) < 0)
                        snprintf(why_names, sizeof(why_names), "filesystem id: %s", strerror(errno));
                if (writes_fd < 0)
                        snprintf(why_writes, sizeof(why_writes), "fanotify unavailable");
                /* The kernel opens each written file as the event is read, on the event loop;
                 * on FUSE (ntfs-3g) that open waits for the filesystem's own daemon. */
                else if (strncmp(w->fstype, "fuse", 4) == 0)
                        snprintf(why_writes, sizeof(why_writes), "FUSE filesystem, not opened by termguardd");
                else if (fanotify_mark(writes_fd, FAN_MARK_ADD | FAN_MARK_FILESYSTEM, FAN_CLOSE_WRITE, AT_FDCWD,
                                       w->mountpoint) < 0)
                        snprintf(why_writes, sizeof(why_writes), "%s", strerror(errno));
        }
        if (why_names[0] && why_writes[0])
                snprintf(not_obs, sizeof(not_obs), "created, renamed, deleted (%s); written (%s)", why_names,
                         why_writes);
        else if (why_names[0])
                snprintf(not_obs, sizeof(not_obs), "created, renamed, deleted (%s)", why_names);
        else if (why_writes[0])
                snprintf(not_obs, sizeof(not_obs), "written (%s)", why_writes);

        pthread_mutex_lock(&Q.lock);
        w->names_marked = !why_names[0];
        w->writes_marked = !why_writes[0];
        if (w->names_marked) {
                w->fsid = sfs.f_fsid;
                w->have_fsid = true;
        }
        snprintf(w->not_observable, sizeof(w->not_observable), "%s", not_obs);
        pthread_mutex_unlock(&Q.lock);

        const char *observable = w->names_marked && w->writes_marked ? "written, created, renamed, deleted"
                                 : w->writes_marked                  ? "written"
                                 : w->names_marked                   ? "created, renamed, deleted"
                                                                     : "nothing";
        event_emit("media.watch-started", not_obs[0] ? LOG_WARNING : LOG_INFO,
                   not_obs[0] ? "Writable removable medium mounted; some file operations are not observable"
                              : "Writable removable medium mounted; files written to it are recorded",
                   "device", w->device, "vid", w->vid, "pid", w->pid, "serial", w->serial, "label",
                   w->label[0] ? w->label : NULL, "exception", w->exception[0] ? w->exception : NULL, "devnode",
                   w->devnode, "mountpoint", w->mountpoint_esc, "fstype", w->fstype, "observable", observable,
                   "not_observable", not_obs[0] ? not_obs : NULL, NULL);
}

/* The directory of a name event as this host sees it, or "" when it cannot be found. */
static void resolve_dir(const MediaWatch *w, const MediaJob *j, char dir[static 4096]) {
        _cleanup_close_ int mfd = -EBADF, dfd = -EBADF;
        struct file_handle *fh = (struct file_handle *) j->data;
        char proc[64];
        struct stat st;
        ssize_t n;

        dir[0] = '\0';
        if (j->handle_len <= sizeof(T.handle) && T.handle_len == j->handle_len && fsid_equal(&T.fsid, &j->fsid) &&
            memcmp(T.handle, j->data, j->handle_len) == 0) {
                snprintf(dir, 4096, "%s", T.dir);
                return;
        }
        /* Not O_PATH: open_by_handle_at() does not take an O_PATH descriptor as its mount. */
        mfd = open(w->mountpoint, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (mfd < 0 || fstat(mfd, &st) < 0 || st.st_dev != w->dev)
                return;
        dfd = open_by_handle_at(mfd, fh, O_PATH | O_CLOEXEC);
        if (dfd < 0)
                return;
        snprintf(proc, sizeof(proc), "/proc/self/fd/%d", dfd);
        n = readlink(proc, dir, 4095);
        if (n < 0) {
                dir[0] = '\0';
                return;
        }
        dir[n] = '\0';
        if (j->handle_len <= sizeof(T.handle)) {
                memcpy(T.handle, j->data, j->handle_len);
                T.handle_len = j->handle_len;
                T.fsid = j->fsid;
                snprintf(T.dir, sizeof(T.dir), "%s", dir);
        }
}

/* Returns true when j was kept (a moved-from waiting for its moved-to). */
static bool job_name(MediaJob *j) {
        const char *name = (const char *) j->data + j->handle_len;
        const char *kind = j->mask & FAN_ONDIR ? "directory" : "file";
        char dir[4096], path[TG_MEDIA_PATH_ESCAPED];
        MediaWatch *w;

        pthread_mutex_lock(&Q.lock);
        w = watch_by_fsid(&j->fsid);
        pthread_mutex_unlock(&Q.lock);
        if (!(j->mask & FAN_MOVED_TO))
                flush_moved_from();
        if (w)
                resolve_dir(w, j, dir);
        else
                dir[0] = '\0';
        (void) tg_media_path(w ? w->mountpoint : NULL, dir, name, path);
        /* A directory renamed or deleted: the path remembered for its handle may be stale. */
        if (j->mask & FAN_ONDIR && j->mask & (FAN_MOVED_FROM | FAN_MOVED_TO | FAN_DELETE))
                T.handle_len = 0;

        if (j->mask & FAN_MOVED_FROM) {
                T.moved_from = j;
                snprintf(T.moved_from_path, sizeof(T.moved_from_path), "%s", path);
                return true;
        }
        pthread_mutex_lock(&Q.lock);
        if (w && j->mask & FAN_CREATE)
                w->created++;
        else if (w && j->mask & FAN_DELETE)
                w->deleted++;
        else if (w && j->mask & FAN_MOVED_TO)
                w->renamed++;
        pthread_mutex_unlock(&Q.lock);
        if (j->mask & FAN_CREATE)
                emit_file("media.file-created", "File created on removable medium", w, &j->proc, "path", path, "kind",
                          kind, "", NULL, "", NULL, "", NULL);
        else if (j->mask & FAN_DELETE)
                emit_file("media.file-deleted", "File deleted from removable medium", w, &j->proc, "path", path, "kind",
                          kind, "", NULL, "", NULL, "", NULL);
        else if (j->mask & FAN_MOVED_TO) {
                bool paired = T.moved_from && fsid_equal(&T.moved_from->fsid, &j->fsid);
                emit_file("media.file-renamed", "File on removable medium renamed", w, &j->proc, "from",
                          paired ? T.moved_from_path : "?", "to", path, "kind", kind, "", NULL, "", NULL);
                if (paired) {
                        free(T.moved_from);
                        T.moved_from = NULL;
                } else
                        flush_moved_from();
        }
        return false;
}

/* Path on the medium of an open file, from the kernel's record of it (no I/O on the medium). */
static void fd_path(const MediaWatch *w, int fd, bool deleted, char path[static TG_MEDIA_PATH_ESCAPED]) {
        static const char suffix[] = " (deleted)";
        char proc[64], raw[4096];
        ssize_t n;

        snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
        n = readlink(proc, raw, sizeof(raw) - 1);
        if (n < 0) {
                snprintf(path, TG_MEDIA_PATH_ESCAPED, "?");
                return;
        }
        raw[n] = '\0';
        /* Removed before it was recorded: the kernel marks the name it had; the record says so
         * in a field of its own. */
        if (deleted && (size_t) n > STRLEN(suffix) && strcmp(raw + n - STRLEN(suffix), suffix) == 0) {
                n -= (ssize_t) STRLEN(suffix);
                raw[n] = '\0';
        }
        if (tg_media_path(w ? w->mountpoint : "/", raw, NULL, path) < 0)
                tg_escape(raw, (size_t) n, TG_MEDIA_PATH_MAX, path, TG_MEDIA_PATH_ESCAPED);
}

static void record_written(int fd, const MediaProcess *proc, bool queue_full) {
        char path[TG_MEDIA_PATH_ESCAPED], size[24], sha[TG_SHA256_HEX] = "", why[64] = "";
        MediaWatch *w;
        struct stat st;
        uint64_t cap, got = 0;
        int r = -EBADF;

        if (fstat(fd, &st) < 0)
                st = (struct stat){0};
        pthread_mutex_lock(&Q.lock);
        w = watch_by_dev(st.st_dev);
        cap = Q.hash_max;
        pthread_mutex_unlock(&Q.lock);
        bool deleted = S_ISREG(st.st_mode) && st.st_nlink == 0;
        fd_path(w, fd, deleted, path);

        if (queue_full)
                snprintf(why, sizeof(why), "not hashed: queue full");
        else if (!S_ISREG(st.st_mode))
                snprintf(why, sizeof(why), "not hashed: not a regular file");
        else if ((uint64_t) st.st_size > cap)
                snprintf(why, sizeof(why), "not hashed: larger than cap");
        else {
                r = tg_media_hash_fd(fd, cap, sha, &got);
                if (r == -EFBIG)
                        snprintf(why, sizeof(why), "not hashed: larger than cap");
                else if (r < 0)
                        snprintf(why, sizeof(why), "not hashed: %s", strerror(-r));
        }
        /* What was hashed is the size recorded: the file may have changed since it was closed. */
        snprintf(size, sizeof(size), "%" PRIu64, r == 0 ? got : (uint64_t) st.st_size);
        pthread_mutex_lock(&Q.lock);
        if (w) {
                w->written++;
                w->bytes += r == 0 ? got : (uint64_t) st.st_size;
                w->not_hashed += r != 0;
        }
        pthread_mutex_unlock(&Q.lock);
        emit_file("media.file-written", "File written to removable medium", w, proc, "path", path, "size", size,
                  "sha256", r == 0 ? sha : NULL, "hash", r == 0 ? NULL : why, "removed", deleted ? "yes" : NULL);
}

void media_worker_record_unqueued(int fd, const MediaProcess *proc) {
        record_written(fd, proc, true);
        close(fd);
}

static void job_end(MediaJob *j) {
        MediaWatch *w = j->watch;
        char n[7][24];
        int names_fd, writes_fd;

        flush_moved_from();
        pthread_mutex_lock(&Q.lock);
        for (MediaWatch **p = &Q.watches; *p; p = &(*p)->next)
                if (*p == w) {
                        *p = w->next;
                        break;
                }
        names_fd = Q.names_fd;
        writes_fd = Q.writes_fd;
        pthread_mutex_unlock(&Q.lock);
        T.handle_len = 0;

        /* Still mounted (the device went, the mount stays, or it was remounted read-only): the
         * marks would outlive the watch. Unmounting removes them by itself. */
        struct stat st;
        if (stat(w->mountpoint, &st) == 0 && st.st_dev == w->dev) {
                if (w->names_marked && names_fd >= 0)
                        (void) fanotify_mark(names_fd, FAN_MARK_REMOVE | FAN_MARK_FILESYSTEM, NAME_EVENTS, AT_FDCWD,
                                             w->mountpoint);
                if (w->writes_marked && writes_fd >= 0)
                        (void) fanotify_mark(writes_fd, FAN_MARK_REMOVE | FAN_MARK_FILESYSTEM, FAN_CLOSE_WRITE,
                                             AT_FDCWD, w->mountpoint);
        }

        snprintf(n[0], sizeof(n[0]), "%" PRIu64, w->written);
        snprintf(n[1], sizeof(n[1]), "%" PRIu64, w->bytes);
        snprintf(n[2], sizeof(n[2]), "%" PRIu64, w->created);
        snprintf(n[3], sizeof(n[3]), "%" PRIu64, w->renamed);
        snprintf(n[4], sizeof(n[4]), "%" PRIu64, w->deleted);
        snprintf(n[5], sizeof(n[5]), "%" PRIu64, w->not_hashed);
        snprintf(n[6], sizeof(n[6]), "%" PRIu64, w->lost);
        bool complete = !w->incomplete && w->lost == 0;
        event_emit("media.watch-ended", complete && !w->not_observable[0] ? LOG_INFO : LOG_WARNING,
                   "Summary of files written to a removable medium", "device", w->device, "serial", w->serial, "label",
                   w->label[0] ? w->label : NULL, "exception", w->exception[0] ? w->exception : NULL, "mountpoint",
                   w->mountpoint_esc, "why", j->why, "files_written", n[0], "bytes_written", n[1], "files_created",
                   n[2], "files_renamed", n[3], "files_deleted", n[4], "not_hashed", n[5], "events_lost", n[6],
                   "complete", complete ? "yes" : "no", "not_observable",
                   w->not_observable[0] ? w->not_observable : NULL, NULL);
        free(w);
}

/* Returns true when the job was kept by its handler. */
static bool job_run(MediaJob *j) {
        switch (j->kind) {
        case MEDIA_JOB_MARK: job_mark(j); return false;
        case MEDIA_JOB_NAME: return job_name(j);
        case MEDIA_JOB_WRITTEN:
                flush_moved_from();
                record_written(j->fd, &j->proc, false);
                close(j->fd);
                return false;
        case MEDIA_JOB_END: job_end(j); return false;
        }
        return false;
}

static void report_lost(void) {
        uint64_t lost;
        char n[24];

        pthread_mutex_lock(&Q.lock);
        lost = Q.lost;
        Q.lost = 0;
        pthread_mutex_unlock(&Q.lock);
        if (lost == 0)
                return;
        snprintf(n, sizeof(n), "%" PRIu64, lost);
        event_emit("media.audit-overflow", LOG_ERR, "File events on removable media were lost: the queue was full",
                   "source", "queue", "events_lost", n, NULL);
}

static void *worker_main(void *arg _unused_) {
        pthread_mutex_lock(&Q.lock);
        for (;;) {
                MediaJob *j = Q.stopping ? NULL : Q.head;
                if (!j)
                        break;
                Q.head = j->next;
                if (!Q.head)
                        Q.tail = &Q.head;
                Q.n_queued--;
                if (j->kind == MEDIA_JOB_WRITTEN)
                        Q.n_fds--;
                pthread_mutex_unlock(&Q.lock);

                report_lost();
                if (!job_run(j))
                        free(j);

                pthread_mutex_lock(&Q.lock);
        }
        Q.running = false;
        pthread_cond_broadcast(&Q.idle);
        pthread_mutex_unlock(&Q.lock);
        /* Losses counted while the last jobs ran. */
        report_lost();
        return NULL;
}

/* Under the lock. */
static int spawn_if_needed(void) {
        pthread_attr_t attr;
        pthread_t t;
        sigset_t all, old;
        int r;

        if (Q.running || Q.paused)
                return 0;
        r = pthread_attr_init(&attr);
        if (r != 0)
                return -r;
        (void) pthread_attr_setstacksize(&attr, WORKER_STACK);
        (void) pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        sigfillset(&all);
        pthread_sigmask(SIG_BLOCK, &all, &old);
        r = pthread_create(&t, &attr, worker_main, NULL);
        pthread_sigmask(SIG_SETMASK, &old, NULL);
        pthread_attr_destroy(&attr);
        if (r != 0)
                return -r;
        Q.running = true;
        return 0;
}

int media_worker_submit(MediaJob *j) {
        bool always = j->kind == MEDIA_JOB_MARK || j->kind == MEDIA_JOB_END;
        MediaWatch *w;
        int r;

        pthread_mutex_lock(&Q.lock);
        if (Q.stopping) {
                pthread_mutex_unlock(&Q.lock);
                return -ESHUTDOWN;
        }
        if (!always &&
            (Q.n_queued >= TG_MEDIA_QUEUE_MAX || (j->kind == MEDIA_JOB_WRITTEN && Q.n_fds >= TG_MEDIA_QUEUE_FDS_MAX))) {
                if (j->kind == MEDIA_JOB_NAME) {
                        Q.lost++;
                        w = watch_by_fsid(&j->fsid);
                        if (w)
                                w->lost++;
                }
                pthread_mutex_unlock(&Q.lock);
                return -ENOBUFS;
        }
        j->next = NULL;
        *Q.tail = j;
        Q.tail = &j->next;
        Q.n_queued++;
        if (j->kind == MEDIA_JOB_WRITTEN)
                Q.n_fds++;
        r = spawn_if_needed();
        if (r < 0)
                /* The job waits in the queue for the next submission to start a thread. */
                log_msg(LOG_ERR, "Failed to start the media audit worker: %s", strerror(-r));
        pthread_mutex_unlock(&Q.lock);
        return 0;
}

bool media_worker_watch_end(MediaWatch *w, const char *why) {
        MediaJob *j;

        pthread_mutex_lock(&Q.lock);
        bool live = !w->ending;
        w->ending = true;
        pthread_mutex_unlock(&Q.lock);
        if (!live)
                return false;
        j = calloc(1, sizeof(*j));
        if (!j) {
                log_msg(LOG_ERR, "Out of memory: no summary for the medium at %s", w->mountpoint_esc);
                return true;
        }
        j->kind = MEDIA_JOB_END;
        j->watch = w;
        snprintf(j->why, sizeof(j->why), "%s", why);
        if (media_worker_submit(j) < 0)
                free(j);
        return true;
}

void media_worker_pause(bool paused) {
        pthread_mutex_lock(&Q.lock);
        Q.paused = paused;
        if (!paused && Q.head && spawn_if_needed() < 0)
                log_msg(LOG_ERR, "Failed to start the media audit worker");
        pthread_mutex_unlock(&Q.lock);
}

int media_worker_wait_idle(int timeout_ms) {
        struct timespec deadline;
        int r = 0;

        clock_gettime(CLOCK_REALTIME, &deadline);
        deadline.tv_sec += timeout_ms / 1000;
        deadline.tv_nsec += (long) (timeout_ms % 1000) * 1000000L;
        if (deadline.tv_nsec >= 1000000000L) {
                deadline.tv_sec++;
                deadline.tv_nsec -= 1000000000L;
        }
        pthread_mutex_lock(&Q.lock);
        while ((Q.running || Q.head) && r == 0)
                r = pthread_cond_timedwait(&Q.idle, &Q.lock, &deadline);
        pthread_mutex_unlock(&Q.lock);
        return r == 0 ? 0 : -ETIMEDOUT;
}

void media_worker_stop(void) {
        pthread_mutex_lock(&Q.lock);
        Q.stopping = true;
        while (Q.head) {
                MediaJob *j = Q.head;
                Q.head = j->next;
                if (j->kind == MEDIA_JOB_WRITTEN)
                        close(j->fd);
                free(j);
        }
        Q.tail = &Q.head;
        Q.n_queued = Q.n_fds = 0;
        pthread_mutex_unlock(&Q.lock);
}
