/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The producers' side of the recorder: hand a record to termguardd over its record socket and
 * wait, within a short bound, for its confirmation that the record is in the journal; without
 * one, a root producer writes the record to the root-only spool, which termguardd takes in
 * when it starts. Plain sockets and files only: the PAM module links nothing more for this.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "termguard/escape.h"
#include "termguard/fileio.h"
#include "termguard/macro.h"
#include "termguard/record.h"

int tg_record_spool_open(const char *state_dir, bool create, char *err, size_t err_size) {
        return tg_open_root_only_dir(state_dir, TG_RECORD_SPOOL, create, err, err_size);
}

static int64_t now_ms(void) {
        struct timespec ts;
        (void) clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* One record, one answer: "ok" once it is in the journal, "refused REASON" when this sender
 * may not submit it. -ETIMEDOUT when no answer came in time. */
static int hand_over(const char *runtime_dir, const char *text, char *err, size_t err_size) {
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        _cleanup_close_ int fd = -EBADF;
        int64_t deadline = now_ms() + TG_RECORD_ACK_TIMEOUT_MS;
        char answer[256];
        ssize_t n;

        if ((size_t) snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/%s", runtime_dir, TG_RECORD_SOCKET) >=
            sizeof(sa.sun_path))
                return -ENAMETOOLONG;
        fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0)
                return -errno;
        /* A full backlog (EAGAIN) is a daemon that does not answer in time either. */
        if (connect(fd, (struct sockaddr *) &sa, sizeof(sa)) < 0)
                return errno == EAGAIN ? -ETIMEDOUT : -errno;
        n = send(fd, text, strlen(text), MSG_NOSIGNAL);
        if (n < 0)
                return errno == EAGAIN ? -ETIMEDOUT : -errno;
        if ((size_t) n != strlen(text))
                return -EMSGSIZE;
        for (;;) {
                int64_t left = deadline - now_ms();
                struct pollfd p = {.fd = fd, .events = POLLIN};
                int r;
                if (left <= 0)
                        return -ETIMEDOUT;
                r = poll(&p, 1, (int) left);
                if (r < 0 && errno == EINTR)
                        continue;
                if (r < 0)
                        return -errno;
                if (r == 0)
                        return -ETIMEDOUT;
                n = recv(fd, answer, sizeof(answer) - 1, 0);
                if (n < 0 && (errno == EINTR || errno == EAGAIN))
                        continue;
                if (n < 0)
                        return -errno;
                break;
        }
        answer[n] = '\0';
        answer[strcspn(answer, "\n")] = '\0';
        if (strcmp(answer, "ok") == 0)
                return 0;
        if (strncmp(answer, "refused ", 8) == 0) {
                char esc[256];
                tg_escape(answer + 8, strlen(answer + 8), 160, esc, sizeof(esc));
                snprintf(err, err_size, "termguardd refused the record: %s", esc);
                return -EPERM;
        }
        /* Closed without an answer (n == 0: the daemon stopped), or an answer from no termguardd
         * this version knows: not confirmed. */
        return n == 0 ? -ECONNRESET : -EPROTO;
}

static void own_comm(char *ret, size_t size) {
        char comm[32] = "";
        ssize_t n = tg_read_file("/proc/self/comm", comm, sizeof(comm) - 1);
        comm[n > 0 ? n : 0] = '\0';
        comm[strcspn(comm, "\n")] = '\0';
        tg_escape(comm, strlen(comm), 15, ret, size);
}

static int spool(const char *state_dir, tg_record *rec, char *err, size_t err_size) {
        _cleanup_close_ int dfd = -EBADF;
        _cleanup_free_ char *text = NULL;
        char name[96];
        int r;

        /* Only root writes here, so what root says of itself is all the proof there is: the
         * spool is as trustworthy as root. */
        rec->has_sender = true;
        rec->sender = (tg_record_sender){.via = TG_RECORD_VIA_SPOOL, .uid = 0, .pid = getpid()};
        own_comm(rec->sender.comm, sizeof(rec->sender.comm));
        dfd = tg_record_spool_open(state_dir, true, err, err_size);
        if (dfd < 0)
                return dfd;
        r = tg_record_encode(rec, true, &text);
        if (r >= 0)
                r = tg_record_spool_name(rec, name, sizeof(name));
        if (r >= 0)
                r = tg_write_file_atomic(dfd, name, text, strlen(text), 0, 0, 0600);
        if (r < 0)
                snprintf(err, err_size, "%s/%s: cannot write the record: %s", state_dir, TG_RECORD_SPOOL, strerror(-r));
        return r;
}

int tg_record_submit(const char *runtime_dir, const char *state_dir, tg_record *rec, char *err, size_t err_size) {
        _cleanup_free_ char *text = NULL;
        int r;

        r = tg_record_encode(rec, false, &text);
        if (r < 0) {
                snprintf(err, err_size, "cannot encode the record: %s", strerror(-r));
                return r;
        }
        r = hand_over(runtime_dir, text, err, err_size);
        if (r == 0)
                return TG_RECORD_JOURNALED;
        if (r == -EPERM)
                return r; /* a refusal is an answer: spooling would only go around it */
        if (geteuid() != 0) {
                snprintf(err, err_size, "termguardd did not take the record (%s/%s: %s); only root can spool it",
                         runtime_dir, TG_RECORD_SOCKET, strerror(-r));
                return r;
        }
        r = spool(state_dir, rec, err, err_size);
        return r < 0 ? r : TG_RECORD_SPOOLED;
}
