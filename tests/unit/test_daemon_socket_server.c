/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The bounded socket server of termguardd's control and record sockets (agent/socket-server.c,
 * from the termguardd_lib library), on a real Unix socket and sd-event loop: the peer's
 * credentials from the kernel, the limits in all, for callers who are not privileged and per
 * caller, the timeout, and stopping. The loop runs until what is awaited happened (or a
 * generous bound of rounds is spent); only states are asserted, never durations.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>

#include "helpers.h"
#include "socket-server.h"
#include "termguard/macro.h"

#define ROUNDS_MAX 100
#define ROUND_USEC (100 * 1000)
#define CLIENTS_MAX 8

typedef struct {
        ServerConnection base;
        unsigned number; /* in the order accepted, from 1 */
} TestConnection;

static char dir[64], path[96];
static sd_event *event;
static SocketServer *server;
static SocketServerProtocol protocol;
static bool privileged;
static unsigned n_admitted, n_done, n_io;
static struct ucred seen;

static bool test_admit(ServerConnection *c, void *userdata) {
        assert_ptr_equal(userdata, &protocol);
        ((TestConnection *) c)->number = ++n_admitted;
        seen = c->cred;
        return privileged;
}

/* Answers "ok N" to what the peer sends, then closes; closes at the peer's EOF. */
static void test_io(ServerConnection *c, void *userdata) {
        char buf[64];
        ssize_t n = read(c->fd, buf, sizeof(buf));

        assert_ptr_equal(userdata, &protocol);
        n_io++;
        if (n < 0 && errno == EAGAIN)
                return;
        if (n > 0) {
                int k = snprintf(buf, sizeof(buf), "ok %u", ((TestConnection *) c)->number);
                assert_int_equal(send(c->fd, buf, (size_t) k, MSG_NOSIGNAL), k);
        }
        socket_server_close(c);
}

static void test_done(ServerConnection *c) {
        assert_non_null(c);
        n_done++;
}

static void run_until(const unsigned *counter, unsigned want) {
        for (int i = 0; i < ROUNDS_MAX && *counter < want; i++)
                assert_true(sd_event_run(event, ROUND_USEC) >= 0);
        assert_int_equal(*counter, want);
}

/* A client connected and accepted (admitted, whether or not it may stay). */
static int client(void) {
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        unsigned before = n_admitted;
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

        assert_true(fd >= 0);
        snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
        assert_int_equal(connect(fd, (struct sockaddr *) &sa, sizeof(sa)), 0);
        run_until(&n_admitted, before + 1);
        return fd;
}

/* Whether the server still holds the client's connection (the server closing it is an EOF). */
static bool held(int fd) {
        char c;
        ssize_t n = recv(fd, &c, 1, MSG_DONTWAIT);
        if (n == 0)
                return false;
        assert_true(n < 0 && errno == EAGAIN);
        return true;
}

static int setup(void **state) {
        (void) state;
        test_tmpdir("daemon-socket-server", dir, sizeof(dir));
        snprintf(path, sizeof(path), "%s/test.socket", dir);
        assert_int_equal(sd_event_new(&event), 0);
        protocol = (SocketServerProtocol){.name = "test.socket",
                                          .type = SOCK_STREAM,
                                          .backlog = 16,
                                          .size = sizeof(TestConnection),
                                          .max = 4,
                                          .max_unprivileged = 3,
                                          .max_per_user = 2,
                                          .timeout_usec = 3600 * 1000000ULL,
                                          .admit = test_admit,
                                          .io = test_io,
                                          .done = test_done};
        privileged = false;
        n_admitted = n_done = n_io = 0;
        server = NULL;
        return 0;
}

static int teardown(void **state) {
        (void) state;
        socket_server_stop(server);
        event = sd_event_unref(event);
        test_rmtree(dir);
        return 0;
}

static void start(void) {
        assert_int_equal(socket_server_start(event, dir, &protocol, &protocol, &server), 0);
}

/* Anyone may connect; the peer is the kernel's word; the protocol answers on the connection. */
static void peer_from_the_kernel_and_one_exchange(void **state) {
        struct stat st;
        char buf[16] = "";
        int fd;
        (void) state;

        start();
        assert_int_equal(stat(path, &st), 0);
        assert_true(S_ISSOCK(st.st_mode));
        assert_int_equal(st.st_mode & 0777, 0666);
        fd = client();
        assert_int_equal(seen.uid, getuid());
        assert_int_equal(seen.pid, getpid());
        assert_int_equal(write(fd, "hi", 2), 2);
        run_until(&n_done, 1);
        assert_int_equal(read(fd, buf, sizeof(buf) - 1), 4);
        assert_string_equal(buf, "ok 1");
        assert_false(held(fd));
        close(fd);
}

/* A caller who is not privileged gets a few connections; the next is closed at once, and a
 * slot freed is a slot to use again. */
static void per_user_limit(void **state) {
        int fd[3];
        (void) state;

        start();
        for (size_t i = 0; i < ELEMENTSOF(fd); i++)
                fd[i] = client();
        assert_true(held(fd[0]));
        assert_true(held(fd[1]));
        assert_false(held(fd[2]));
        assert_int_equal(n_done, 1);
        close(fd[2]);
        close(fd[0]); /* the server sees the EOF and closes its end */
        run_until(&n_done, 2);
        fd[0] = client();
        assert_true(held(fd[0]));
        assert_true(held(fd[1]));
        close(fd[0]);
        close(fd[1]);
}

/* A privileged caller is held to the limit in all only, and the callers who are not
 * privileged leave it room. */
static void privileged_limits(void **state) {
        int fd[CLIENTS_MAX], n = 0;
        (void) state;

        protocol.max_per_user = 10;
        start();
        for (; n < 3; n++)
                fd[n] = client();
        for (int i = 0; i < 3; i++)
                assert_true(held(fd[i]));
        fd[n] = client(); /* a fourth one who is not privileged: over max_unprivileged */
        assert_false(held(fd[n++]));
        privileged = true;
        fd[n] = client(); /* the fourth in all: room for a privileged one */
        assert_true(held(fd[n++]));
        fd[n] = client(); /* the fifth: over max */
        assert_false(held(fd[n++]));
        assert_int_equal(n_done, 2);
        for (int i = 0; i < n; i++)
                close(fd[i]);
}

/* A connection that says nothing is closed once its time is over. */
static void idle_connection_times_out(void **state) {
        int fd;
        (void) state;

        protocol.timeout_usec = 1000;
        start();
        fd = client();
        run_until(&n_done, 1);
        assert_false(held(fd));
        assert_int_equal(n_io, 0);
        close(fd);
}

/* Stopping closes every connection and removes the socket; a path that does not fit is
 * refused, and nothing is left. */
static void stop_and_bad_path(void **state) {
        char long_dir[200];
        SocketServer *other = NULL;
        int fd[2];
        (void) state;

        start();
        fd[0] = client();
        fd[1] = client();
        socket_server_stop(server);
        server = NULL;
        assert_int_equal(n_done, 2);
        assert_false(held(fd[0]));
        assert_false(held(fd[1]));
        assert_int_equal(access(path, F_OK), -1);
        close(fd[0]);
        close(fd[1]);

        memset(long_dir, 'x', sizeof(long_dir) - 1);
        long_dir[0] = '/';
        long_dir[sizeof(long_dir) - 1] = '\0';
        assert_int_equal(socket_server_start(event, long_dir, &protocol, &protocol, &other), -ENAMETOOLONG);
        assert_null(other);
        assert_int_equal(socket_server_start(event, "/nonexistent-dir", &protocol, &protocol, &other), -ENOENT);
        assert_null(other);
        socket_server_stop(NULL);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(peer_from_the_kernel_and_one_exchange, setup, teardown),
                cmocka_unit_test_setup_teardown(per_user_limit, setup, teardown),
                cmocka_unit_test_setup_teardown(privileged_limits, setup, teardown),
                cmocka_unit_test_setup_teardown(idle_connection_times_out, setup, teardown),
                cmocka_unit_test_setup_teardown(stop_and_bad_path, setup, teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
