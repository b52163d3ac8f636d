/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* The media audit's work that touches a medium (placing the fanotify marks, resolving names,
 * hashing written files, recording them), on one worker thread behind a bounded queue, so that
 * a stalled stick never stalls the event loop. media-audit.c feeds it. */

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/vfs.h>

#include "termguard/config.h"
#include "termguard/escape.h"
#include "termguard/media-record.h"
#include "termguard/policy.h"
#include "termguard/register.h"

/* Jobs waiting for the worker: beyond this an event is recorded as lost (media.audit-overflow),
 * and a written file is recorded without its digest. Each job is a few hundred bytes at most. */
#define TG_MEDIA_QUEUE_MAX 1024
/* Written files waiting to be hashed hold an open descriptor each: fewer of those. */
#define TG_MEDIA_QUEUE_FDS_MAX 256

typedef struct MediaWatch {
        struct MediaWatch *next;
        /* Set when the watch starts, then read-only. */
        int mount_id;
        dev_t dev;
        char mountpoint[4096];
        char mountpoint_esc[TG_MEDIA_PATH_ESCAPED];
        char fstype[24 * 4 + 8];  /* escaped */
        char devnode[64 * 4 + 8]; /* escaped */
        char syspath[4096];       /* the USB device's */
        char device[64];
        char vid[8], pid[8];
        char serial[TG_DEVICE_STRING_MAX * 4 + 8];
        char label[TG_LABEL_MAX + 1];
        char exception[24];
        /* Set by the worker when the marks are placed. */
        bool have_fsid;
        fsid_t fsid;
        bool names_marked, writes_marked;
        char not_observable[256];
        /* Under the queue's lock. */
        bool ending;
        bool incomplete; /* events were lost */
        uint64_t written, bytes, created, renamed, deleted, not_hashed, lost;
} MediaWatch;

typedef enum {
        MEDIA_JOB_MARK,    /* place the marks of watch */
        MEDIA_JOB_NAME,    /* create, delete, moved from/to: a directory handle and a name */
        MEDIA_JOB_WRITTEN, /* closed after writing: fd to hash */
        MEDIA_JOB_END,     /* the summary of watch, then it is freed */
} MediaJobKind;

typedef struct MediaProcess {
        pid_t pid;
        uid_t uid;                       /* (uid_t) -1 when the process was gone */
        char comm[16 * 4 + 8];           /* escaped; "?" when the process ended before it was asked */
        char seat_user[TG_USER_MAX + 8]; /* who held the seat when the event was read */
} MediaProcess;

typedef struct MediaJob {
        struct MediaJob *next;
        MediaJobKind kind;
        MediaWatch *watch; /* MARK and END */
        uint64_t mask;     /* NAME: FAN_* */
        fsid_t fsid;       /* NAME */
        int fd;            /* WRITTEN */
        char why[48];      /* END */
        MediaProcess proc;
        size_t handle_len; /* NAME: struct file_handle with its bytes, then the name */
        unsigned char data[];
} MediaJob;

/* The fanotify groups the worker places marks with (-1: not available). */
void media_worker_set_groups(int names_fd, int writes_fd);
void media_worker_set_hash_max(uint64_t cap);
/* Hands j to the worker. MARK and END are always taken; others return -ENOBUFS when the queue
 * is full (j is then the caller's, and the loss is counted for media.audit-overflow). */
int media_worker_submit(MediaJob *j);
/* The written file fd when it cannot be queued: recorded at once with its path and size and
 * "not hashed: queue full" (nothing is read from the medium). Closes fd. */
void media_worker_record_unqueued(int fd, const MediaProcess *proc);
/* A watch, under the lock: the live watch whose medium has that device number. */
void media_worker_watch_add(MediaWatch *w);
/* Marks a live watch as ending and queues its summary; false when it was not live. */
bool media_worker_watch_end(MediaWatch *w, const char *why);
/* Calls fn for every live (not ending) watch, under the lock: fn must not call back. */
void media_worker_foreach_watch(void (*fn)(MediaWatch *w, void *userdata), void *userdata);
/* Counts an event the kernel dropped (FAN_Q_OVERFLOW): every live watch is incomplete. */
void media_worker_kernel_overflow(void);
/* While paused, queued jobs wait and no worker thread starts: the benchmark and the tests fill
 * the queue with it; termguardd never pauses. */
void media_worker_pause(bool paused);
/* Waits until every queued job is done, at most timeout_ms: 0 or -ETIMEDOUT (a medium stalls).
 * Only at exit and in tests: never while the event loop has work. */
int media_worker_wait_idle(int timeout_ms);
void media_worker_stop(void);
