/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Cards inserted in and removed from IC card readers, as pcscd reports it (pcsc-lite).
 * pcsc-lite's calls block, so one thread waits in SCardGetStatusChange on every reader and on
 * pcscd's reader-list notification, and writes one line per change into a pipe ("+" or "-",
 * then the reader's name); the event loop reads the pipe and calls the idle lock. A card
 * already in a reader when the thread starts or the reader list changes counts as inserted. No polling: the thread
 * sleeps in pcscd's call until something changes. Without pcscd (not installed, not started yet) it tries again every
 * PCSC_RETRY_SEC seconds, since pcscd has no notification of its own start.
 * libpcsclite is loaded on demand (dlopen) by the first start: a terminal without
 * CardReaders= maps none of it.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <PCSC/winscard.h>

#include "event.h"
#include "pcsc.h"
#include "termguard/escape.h"
#include "termguard/macro.h"

#define PCSC_READERS_MAX 16
#define PCSC_RETRY_SEC 30
#define PCSC_READER_NAME_MAX 256

typedef struct Pcsc {
        Manager *m;
        void (*changed)(Manager *m, const char *reader, bool present);
        pthread_t thread;
        bool thread_started;
        int pipe[2];
        sd_event_source *source;
        pthread_mutex_t lock;
        bool stopping;
        SCARDCONTEXT context;
        bool has_context;
        char buf[PCSC_READER_NAME_MAX * 2];
        size_t buf_len;
} Pcsc;

static Pcsc *pcsc; /* one per process: the thread needs it */

/* libpcsclite's calls, once loaded; it stays loaded (a thread left behind may still be in it). */
static struct {
        void *dl;
        __typeof__(SCardEstablishContext) *establish_context;
        __typeof__(SCardReleaseContext) *release_context;
        __typeof__(SCardListReaders) *list_readers;
        __typeof__(SCardGetStatusChange) *get_status_change;
        __typeof__(SCardFreeMemory) *free_memory;
        __typeof__(SCardCancel) *cancel;
        __typeof__(pcsc_stringify_error) *stringify_error;
} api;

#define PCSC_LIBRARY "libpcsclite.so.1"

static int api_load(void) {
        void *dl;

        if (api.dl)
                return 0;
        dl = dlopen(PCSC_LIBRARY, RTLD_NOW | RTLD_LOCAL);
        if (!dl) {
                log_msg(LOG_ERR, "Cannot load %s: %s", PCSC_LIBRARY, dlerror());
                return -ENOENT;
        }
        if (!(api.establish_context = (__typeof__(api.establish_context)) dlsym(dl, "SCardEstablishContext")) ||
            !(api.release_context = (__typeof__(api.release_context)) dlsym(dl, "SCardReleaseContext")) ||
            !(api.list_readers = (__typeof__(api.list_readers)) dlsym(dl, "SCardListReaders")) ||
            !(api.get_status_change = (__typeof__(api.get_status_change)) dlsym(dl, "SCardGetStatusChange")) ||
            !(api.free_memory = (__typeof__(api.free_memory)) dlsym(dl, "SCardFreeMemory")) ||
            !(api.cancel = (__typeof__(api.cancel)) dlsym(dl, "SCardCancel")) ||
            !(api.stringify_error = (__typeof__(api.stringify_error)) dlsym(dl, "pcsc_stringify_error"))) {
                log_msg(LOG_ERR, "%s lacks a call termguardd needs", PCSC_LIBRARY);
                dlclose(dl);
                return -ELIBBAD;
        }
        api.dl = dl;
        return 0;
}

static bool stopping(Pcsc *p) {
        bool s;
        pthread_mutex_lock(&p->lock);
        s = p->stopping;
        pthread_mutex_unlock(&p->lock);
        return s;
}

static void report(Pcsc *p, const char *reader, bool present) {
        char esc[PCSC_READER_NAME_MAX * 4 + 8], line[sizeof(esc) + 3];
        size_t n;
        tg_escape(reader, strlen(reader), 120, esc, sizeof(esc));
        n = (size_t) snprintf(line, sizeof(line), "%c%s\n", present ? '+' : '-', esc);
        /* one line, written whole (at most PIPE_BUF bytes are atomic) */
        if (write(p->pipe[1], line, n < sizeof(line) ? n : sizeof(line) - 1) < 0)
                log_msg(LOG_ERR, "Card removal from %s could not be passed on: %m", esc);
}

/* Waits for changes on every reader until the reader list changes or pcscd goes away. */
static LONG watch_readers(Pcsc *p) {
        SCARD_READERSTATE st[PCSC_READERS_MAX + 1];
        char *names = NULL;
        DWORD len = SCARD_AUTOALLOCATE, n = 0;
        LONG r;

        r = api.list_readers(p->context, NULL, (LPSTR) &names, &len);
        if (r != SCARD_S_SUCCESS && r != SCARD_E_NO_READERS_AVAILABLE)
                return r;
        memset(st, 0, sizeof(st));
        for (const char *s = r == SCARD_S_SUCCESS ? names : NULL; s && *s && n < PCSC_READERS_MAX; s += strlen(s) + 1)
                st[n++] = (SCARD_READERSTATE){.szReader = s, .dwCurrentState = SCARD_STATE_UNAWARE};
        /* the reader list itself: a reader plugged or unplugged */
        st[n] = (SCARD_READERSTATE){.szReader = "\\\\?PnP?\\Notification", .dwCurrentState = SCARD_STATE_UNAWARE};
        r = api.get_status_change(p->context, 0, st, n + 1);
        for (DWORD i = 0; r == SCARD_S_SUCCESS && i < n; i++)
                if (st[i].dwEventState & SCARD_STATE_PRESENT)
                        report(p, st[i].szReader, true);
        while ((r == SCARD_S_SUCCESS || r == SCARD_E_TIMEOUT) && !stopping(p)) {
                for (DWORD i = 0; i < n + 1; i++)
                        st[i].dwCurrentState = st[i].dwEventState & ~SCARD_STATE_CHANGED;
                r = api.get_status_change(p->context, INFINITE, st, n + 1);
                if (r != SCARD_S_SUCCESS)
                        break;
                if (st[n].dwEventState & SCARD_STATE_CHANGED)
                        break; /* new reader list */
                for (DWORD i = 0; i < n; i++) {
                        bool was = st[i].dwCurrentState & SCARD_STATE_PRESENT;
                        bool is = st[i].dwEventState & SCARD_STATE_PRESENT;
                        if (!(st[i].dwEventState & SCARD_STATE_CHANGED) || was == is)
                                continue;
                        report(p, st[i].szReader, is);
                }
        }
        /* A reader unplugged with its card: the card left too. */
        if (r == SCARD_S_SUCCESS)
                for (DWORD i = 0; i < n; i++)
                        if ((st[i].dwCurrentState & SCARD_STATE_PRESENT) &&
                            (st[i].dwEventState & (SCARD_STATE_UNKNOWN | SCARD_STATE_UNAVAILABLE)))
                                report(p, st[i].szReader, false);
        if (names)
                api.free_memory(p->context, names);
        return r;
}

static void *thread_main(void *userdata) {
        Pcsc *p = userdata;
        bool warned = false;

        while (!stopping(p)) {
                LONG r = api.establish_context(SCARD_SCOPE_SYSTEM, NULL, NULL, &p->context);
                if (r == SCARD_S_SUCCESS) {
                        pthread_mutex_lock(&p->lock);
                        p->has_context = !p->stopping;
                        pthread_mutex_unlock(&p->lock);
                        if (p->has_context) {
                                warned = false;
                                while (!stopping(p) && (r = watch_readers(p)) == SCARD_S_SUCCESS)
                                        ;
                        }
                        pthread_mutex_lock(&p->lock);
                        p->has_context = false;
                        pthread_mutex_unlock(&p->lock);
                        api.release_context(p->context);
                }
                if (stopping(p))
                        break;
                if (!warned)
                        log_msg(LOG_INFO, "IC card readers: pcscd not reachable (%s); trying every %d s",
                                api.stringify_error(r), PCSC_RETRY_SEC);
                warned = true;
                for (int i = 0; i < PCSC_RETRY_SEC * 10 && !stopping(p); i++)
                        usleep(100000);
        }
        return NULL;
}

static int on_pipe(sd_event_source *s _unused_, int fd, uint32_t revents _unused_, void *userdata) {
        Pcsc *p = userdata;
        ssize_t n = read(fd, p->buf + p->buf_len, sizeof(p->buf) - 1 - p->buf_len);
        char *nl;

        if (n <= 0)
                return 0;
        p->buf_len += (size_t) n;
        p->buf[p->buf_len] = '\0';
        while ((nl = strchr(p->buf, '\n'))) {
                *nl = '\0';
                if (p->buf[0] == '+' || p->buf[0] == '-')
                        p->changed(p->m, p->buf + 1, p->buf[0] == '+');
                p->buf_len -= (size_t) (nl + 1 - p->buf);
                memmove(p->buf, nl + 1, p->buf_len + 1);
        }
        if (p->buf_len == sizeof(p->buf) - 1)
                p->buf_len = 0; /* no line that long is ever written */
        return 0;
}

int pcsc_start(Manager *m, void (*changed)(Manager *m, const char *reader, bool present)) {
        Pcsc *p;
        int r;

        if (pcsc)
                return -EBUSY;
        r = api_load();
        if (r < 0)
                return r;
        p = calloc(1, sizeof(*p));
        if (!p)
                return -ENOMEM;
        p->m = m;
        p->changed = changed;
        pthread_mutex_init(&p->lock, NULL);
        if (pipe2(p->pipe, O_CLOEXEC | O_NONBLOCK) < 0) {
                r = -errno;
                free(p);
                return r;
        }
        r = sd_event_add_io(m->event, &p->source, p->pipe[0], EPOLLIN, on_pipe, p);
        if (r >= 0)
                r = -pthread_create(&p->thread, NULL, thread_main, p);
        if (r < 0) {
                p->source = sd_event_source_unref(p->source);
                close(p->pipe[0]);
                close(p->pipe[1]);
                free(p);
                return r;
        }
        p->thread_started = true;
        pcsc = p;
        return 0;
}

void pcsc_stop(Manager *m _unused_) {
        Pcsc *p = pcsc;
        if (!p)
                return;
        pthread_mutex_lock(&p->lock);
        p->stopping = true;
        pthread_mutex_unlock(&p->lock);
        /* SCardCancel ends a blocked SCardGetStatusChange, but not one the thread enters just
         * after it: cancel again until the thread is gone, and leave it behind after 5 s. */
        for (int i = 0; p->thread_started && i < 50; i++) {
                struct timespec ts;
                pthread_mutex_lock(&p->lock);
                if (p->has_context)
                        (void) api.cancel(p->context);
                pthread_mutex_unlock(&p->lock);
                clock_gettime(CLOCK_REALTIME, &ts);
                ts.tv_nsec += 100000000;
                if (ts.tv_nsec >= 1000000000) {
                        ts.tv_sec++;
                        ts.tv_nsec -= 1000000000;
                }
                if (pthread_timedjoin_np(p->thread, NULL, &ts) == 0)
                        p->thread_started = false;
        }
        if (p->thread_started) {
                log_msg(LOG_WARNING, "pcscd does not answer: leaving its thread behind");
                return; /* the thread still uses p */
        }
        p->source = sd_event_source_unref(p->source);
        close(p->pipe[0]);
        close(p->pipe[1]);
        pthread_mutex_destroy(&p->lock);
        free(p);
        pcsc = NULL;
}
