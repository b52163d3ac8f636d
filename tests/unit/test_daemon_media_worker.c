/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The media audit's worker (agent/media-worker.c, from termguardd_lib) with real files: written
 * files are recorded with their SHA-256 or why not (the size cap), names are escaped, and a
 * full queue loses nothing silently: a written file is recorded without its digest, a lost
 * name event is counted in media.audit-overflow and in the summary, which says it is not
 * complete. Without fanotify (no marks here) the watch records what it could not observe.
 * termguardd's events are read from its stderr (JSON lines).
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/fanotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "media-worker.h"
#include "termguard/fileio.h"
#include "termguard/macro.h"

static char dir[64], events_path[160];
static int saved_stderr = -1;
static char *events;

static const char *read_events(void) {
        ssize_t n;
        fflush(stderr);
        n = tg_read_file(events_path, events, 8 * 1024 * 1024 - 1);
        assert_true(n >= 0);
        events[n] = '\0';
        return events;
}

static size_t count(const char *haystack, const char *needle) {
        size_t n = 0;
        for (const char *p = strstr(haystack, needle); p; p = strstr(p + 1, needle))
                n++;
        return n;
}

/* The one line of the event of type whose text contains what, or NULL. */
static char *line_with(const char *type, const char *what) {
        static char line[8192];
        char key[96];
        snprintf(key, sizeof(key), "{\"event\":\"%s\"", type);
        for (const char *p = strstr(events, key); p; p = strstr(p + 1, key)) {
                size_t len = strcspn(p, "\n");
                snprintf(line, sizeof(line), "%.*s", (int) len, p);
                if (strstr(line, what))
                        return line;
        }
        return NULL;
}

static int setup(void **state) {
        int fd;
        (void) state;
        events = malloc(8 * 1024 * 1024);
        snprintf(dir, sizeof(dir), "/tmp/tg-media-XXXXXX");
        if (!events || !mkdtemp(dir))
                return -1;
        snprintf(events_path, sizeof(events_path), "%s/events", dir);
        fflush(stderr);
        saved_stderr = dup(STDERR_FILENO);
        fd = open(events_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        if (fd < 0 || saved_stderr < 0 || dup2(fd, STDERR_FILENO) != STDERR_FILENO)
                return -1;
        close(fd);
        unsetenv("JOURNAL_STREAM");
        return 0;
}

static int teardown(void **state) {
        char cmd[128];
        (void) state;
        fflush(stderr);
        dup2(saved_stderr, STDERR_FILENO);
        snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
        (void) !system(cmd);
        free(events);
        return 0;
}

static MediaWatch *new_watch(const char *label) {
        MediaWatch *w = calloc(1, sizeof(*w));
        struct stat st;
        assert_non_null(w);
        assert_int_equal(stat(dir, &st), 0);
        w->dev = st.st_dev;
        snprintf(w->mountpoint, sizeof(w->mountpoint), "%s", dir);
        snprintf(w->mountpoint_esc, sizeof(w->mountpoint_esc), "%s", dir);
        snprintf(w->device, sizeof(w->device), "1-1");
        snprintf(w->serial, sizeof(w->serial), "AUD-0001");
        snprintf(w->label, sizeof(w->label), "%s", label);
        snprintf(w->fstype, sizeof(w->fstype), "vfat");
        media_worker_watch_add(w);
        return w;
}

static int file_with(const char *name, size_t size, char fill) {
        char path[256], buf[4096];
        int fd;
        snprintf(path, sizeof(path), "%s/%s", dir, name);
        fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        assert_true(fd >= 0);
        memset(buf, fill, sizeof(buf));
        for (size_t left = size; left > 0;) {
                size_t n = left < sizeof(buf) ? left : sizeof(buf);
                assert_int_equal(write(fd, buf, n), (ssize_t) n);
                left -= n;
        }
        close(fd);
        fd = open(path, O_RDONLY | O_CLOEXEC);
        assert_true(fd >= 0);
        return fd;
}

static MediaJob *written_job(int fd) {
        MediaJob *j = calloc(1, sizeof(*j));
        assert_non_null(j);
        j->kind = MEDIA_JOB_WRITTEN;
        j->fd = fd;
        j->proc = (MediaProcess){.pid = 4242, .uid = 0, .comm = "cp"};
        return j;
}

static MediaJob *name_job(const MediaWatch *w, uint64_t mask, const char *name) {
        size_t hl = sizeof(struct file_handle) + 8, nl = strlen(name);
        MediaJob *j = calloc(1, sizeof(*j) + hl + nl + 1);
        assert_non_null(j);
        j->kind = MEDIA_JOB_NAME;
        j->mask = mask;
        j->fsid = w->fsid;
        j->handle_len = hl;
        ((struct file_handle *) j->data)->handle_bytes = 8; /* no such handle: the directory is unknown */
        memcpy(j->data + hl, name, nl);
        j->proc = (MediaProcess){.pid = 4242, .uid = 0, .comm = "mv"};
        return j;
}

static void written_files_are_hashed_up_to_the_cap(void **state) {
        (void) state;
        media_worker_set_groups(-1, -1);
        media_worker_set_hash_max(5000);
        MediaWatch *w = new_watch("hash-01");
        MediaJob *mark = calloc(1, sizeof(*mark));
        assert_non_null(mark);
        mark->kind = MEDIA_JOB_MARK;
        mark->watch = w;
        assert_int_equal(media_worker_submit(mark), 0);
        assert_int_equal(media_worker_submit(written_job(file_with("abc.txt", 0, 0))), 0);
        int fd = file_with("small.txt", 0, 0);
        char path[256];
        snprintf(path, sizeof(path), "%s/small.txt", dir);
        FILE *f = fopen(path, "we");
        assert_non_null(f);
        fputs("abc", f);
        fclose(f);
        assert_int_equal(media_worker_submit(written_job(fd)), 0);
        assert_int_equal(media_worker_submit(written_job(file_with("cap.bin", 5000, 'x'))), 0);
        assert_int_equal(media_worker_submit(written_job(file_with("big.bin", 5001, 'x'))), 0);
        /* Removed before the worker got to it: the name it had, and that it is gone. */
        fd = file_with("gone.txt", 5, 'g');
        snprintf(path, sizeof(path), "%s/gone.txt", dir);
        assert_int_equal(unlink(path), 0);
        assert_int_equal(media_worker_submit(written_job(fd)), 0);
        assert_true(media_worker_watch_end(w, "unmounted"));
        assert_false(media_worker_watch_end(w, "unmounted")); /* once */
        assert_int_equal(media_worker_wait_idle(10000), 0);

        read_events();
        assert_non_null(line_with("media.watch-started",
                                  "\"not_observable\":\"created, renamed, deleted (fanotify unavailable); written "
                                  "(fanotify unavailable)\""));
        assert_non_null(line_with("media.watch-started", "\"observable\":\"nothing\""));
        assert_non_null(line_with("media.file-written",
                                  "\"path\":\"/small.txt\",\"size\":\"3\",\"sha256\":"
                                  "\"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad\""));
        assert_non_null(line_with("media.file-written", "\"path\":\"/abc.txt\",\"size\":\"0\",\"sha256\":\"e3b0c442"));
        assert_non_null(line_with("media.file-written", "\"path\":\"/cap.bin\",\"size\":\"5000\",\"sha256\":"));
        assert_non_null(line_with("media.file-written",
                                  "\"path\":\"/big.bin\",\"size\":\"5001\",\"hash\":\"not hashed: "
                                  "larger than cap\""));
        assert_non_null(line_with("media.file-written",
                                  "\"serial\":\"AUD-0001\",\"label\":\"hash-01\",\"mountpoint\":\"/tmp/tg-media-"));
        assert_non_null(line_with("media.file-written",
                                  "\"process_id\":\"4242\",\"comm\":\"cp\",\"uid\":\"0\",\"user\":\"root\""));
        assert_non_null(line_with("media.watch-ended",
                                  "\"why\":\"unmounted\",\"files_written\":\"5\",\"bytes_written\":\"10009\","
                                  "\"files_created\":\"0\",\"files_renamed\":\"0\",\"files_deleted\":\"0\","
                                  "\"not_hashed\":\"1\",\"events_lost\":\"0\",\"complete\":\"yes\""));
        assert_non_null(line_with("media.file-written", "\"path\":\"/gone.txt\",\"size\":\"5\",\"sha256\":"));
        assert_non_null(line_with("media.file-written", "\"removed\":\"yes\""));
        assert_null(strstr(events, "(deleted)"));
        assert_int_equal(count(events, "\"event\":\"media.watch-ended\""), 1);
}

static void a_full_queue_loses_nothing_silently(void **state) {
        size_t queued = 0;
        int fd;
        (void) state;
        media_worker_set_hash_max(1 << 20);
        MediaWatch *w = new_watch("queue-01");
        w->have_fsid = true;
        w->fsid.__val[0] = 0x5a5a;
        media_worker_pause(true);

        /* A hostile name first, then a rename in two halves. */
        assert_int_equal(media_worker_submit(name_job(w, FAN_CREATE, "evil\033[2J\xff.txt")), 0);
        assert_int_equal(media_worker_submit(name_job(w, FAN_MOVED_FROM, "old\n")), 0);
        assert_int_equal(media_worker_submit(name_job(w, FAN_MOVED_TO, "new")), 0);
        assert_int_equal(media_worker_submit(name_job(w, FAN_DELETE | FAN_ONDIR, "folder")), 0);
        queued = 4;
        /* Open files waiting for the worker are bounded on their own. */
        for (int i = 0; i < TG_MEDIA_QUEUE_FDS_MAX; i++, queued++)
                assert_int_equal(media_worker_submit(written_job(file_with("same.txt", 10, 'a'))), 0);
        fd = file_with("extra.txt", 7, 'b');
        MediaJob *j = written_job(fd);
        assert_int_equal(media_worker_submit(j), -ENOBUFS);
        free(j);
        media_worker_record_unqueued(fd, &(MediaProcess){.pid = 99, .uid = 0, .comm = "dd"});
        assert_int_equal(fcntl(fd, F_GETFD), -1); /* closed */
        /* Then the queue as a whole. */
        for (; queued < TG_MEDIA_QUEUE_MAX; queued++)
                assert_int_equal(media_worker_submit(name_job(w, FAN_CREATE, "f")), 0);
        j = name_job(w, FAN_CREATE, "lost-1");
        assert_int_equal(media_worker_submit(j), -ENOBUFS);
        free(j);
        j = name_job(w, FAN_DELETE, "lost-2");
        assert_int_equal(media_worker_submit(j), -ENOBUFS);
        free(j);
        /* The summary is always taken. */
        assert_true(media_worker_watch_end(w, "exception-expired"));
        media_worker_pause(false);
        assert_int_equal(media_worker_wait_idle(20000), 0);

        read_events();
        assert_non_null(line_with("media.file-written", "\"path\":\"/extra.txt\",\"size\":\"7\",\"hash\":\"not "
                                                        "hashed: queue full\""));
        assert_non_null(line_with("media.file-written", "\"comm\":\"dd\""));
        assert_int_equal(count(events, "\"path\":\"/same.txt\",\"size\":\"10\",\"sha256\":"), TG_MEDIA_QUEUE_FDS_MAX);
        assert_non_null(line_with("media.file-created", "\"path\":\"evil\\\\x1b[2J\\\\xff.txt\",\"kind\":\"file\""));
        /* Every name record says who: the fields after the event's own are all there. */
        assert_non_null(line_with("media.file-created",
                                  "\"kind\":\"file\",\"process_id\":\"4242\",\"comm\":\"mv\",\"uid\":\"0\""));
        assert_non_null(line_with("media.file-renamed", "\"kind\":\"file\",\"process_id\":\"4242\",\"comm\":\"mv\""));
        assert_non_null(line_with("media.file-renamed", "\"from\":\"old\\\\x0a\",\"to\":\"new\",\"kind\":\"file\""));
        assert_non_null(line_with("media.file-deleted", "\"path\":\"folder\",\"kind\":\"directory\""));
        assert_null(strstr(events, "lost-1"));
        assert_non_null(line_with("media.audit-overflow", "\"source\":\"queue\",\"events_lost\":\"2\""));
        size_t created = 1 + TG_MEDIA_QUEUE_MAX - 4 - TG_MEDIA_QUEUE_FDS_MAX;
        char want[256];
        snprintf(want, sizeof(want),
                 "\"why\":\"exception-expired\",\"files_written\":\"%d\",\"bytes_written\":\"%d\",\"files_created\":"
                 "\"%zu\",\"files_renamed\":\"1\",\"files_deleted\":\"1\",\"not_hashed\":\"1\",\"events_lost\":\"2\","
                 "\"complete\":\"no\"",
                 TG_MEDIA_QUEUE_FDS_MAX + 1, TG_MEDIA_QUEUE_FDS_MAX * 10 + 7, created);
        assert_non_null(line_with("media.watch-ended", want));
}

/* The kernel's queue overflowed (FAN_Q_OVERFLOW): what was lost is unknown, so every watch live
 * then says it is not complete; one that starts later is not affected. */
static void a_kernel_overflow_makes_live_watches_incomplete(void **state) {
        (void) state;
        MediaWatch *w = new_watch("kernel-01");
        media_worker_kernel_overflow();
        MediaWatch *later = new_watch("kernel-02");
        assert_true(media_worker_watch_end(w, "unmounted"));
        assert_true(media_worker_watch_end(later, "unmounted"));
        assert_int_equal(media_worker_wait_idle(10000), 0);
        read_events();
        const char *k1 = line_with("media.watch-ended", "\"label\":\"kernel-01\"");
        assert_true(k1 && strstr(k1, "\"events_lost\":\"0\",\"complete\":\"no\""));
        const char *l = line_with("media.watch-ended", "\"label\":\"kernel-02\"");
        assert_true(l && strstr(l, "\"complete\":\"yes\""));
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(written_files_are_hashed_up_to_the_cap),
                cmocka_unit_test(a_full_queue_loses_nothing_silently),
                cmocka_unit_test(a_kernel_overflow_makes_live_watches_incomplete),
        };
        return cmocka_run_group_tests(tests, setup, teardown);
}
