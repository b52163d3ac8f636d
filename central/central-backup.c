/* SPDX-License-Identifier: GPL-2.0-or-later */
/* backup and restore: the database through pg_dump/pg_restore (custom format) and the CA
 * directory through tar, each run with posix_spawn, never through a shell. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "central.h"

#define DUMP_FILE "termguard.dump"
#define CA_TAR "ca.tar"
#define ARGV_MAX 16

extern char **environ;

int central_spawn(char *const *argv, int in_fd, int out_fd) {
        posix_spawn_file_actions_t fa;
        pid_t pid;
        int r, status;

        r = posix_spawn_file_actions_init(&fa);
        if (r != 0)
                return -r;
        if (in_fd >= 0)
                r = posix_spawn_file_actions_adddup2(&fa, in_fd, STDIN_FILENO);
        if (r == 0 && out_fd >= 0)
                r = posix_spawn_file_actions_adddup2(&fa, out_fd, STDOUT_FILENO);
        if (r == 0)
                r = posix_spawn(&pid, argv[0], &fa, NULL, argv, environ);
        posix_spawn_file_actions_destroy(&fa);
        if (r != 0) {
                fprintf(stderr, "termguard-central: cannot run %s: %s\n", argv[0], strerror(r));
                return -r;
        }
        while (waitpid(pid, &status, 0) < 0)
                if (errno != EINTR)
                        return -errno;
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
                fprintf(stderr, "termguard-central: %s failed\n", argv[0]);
                return -EIO;
        }
        return 0;
}

/* The CA directory as the parent it lives in and its own name, for tar -C. */
static int ca_parts(const char *ca_dir, char parent[PATH_MAX], char name[PATH_MAX]) {
        char a[PATH_MAX], b[PATH_MAX];

        if (strlen(ca_dir) >= PATH_MAX)
                return -ENAMETOOLONG;
        strcpy(a, ca_dir);
        strcpy(b, ca_dir);
        strcpy(parent, dirname(a));
        strcpy(name, basename(b));
        return 0;
}

static int create_file(int dirfd, const char *name) {
        int fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);

        if (fd < 0)
                fprintf(stderr, "termguard-central: cannot create %s: %m\n", name);
        return fd < 0 ? -errno : fd;
}

int central_backup(const central_context *ctx, int argc, char **argv) {
        const char *out = NULL;
        central_option opts[] = {{"out", true, &out}};
        _cleanup_close_ int dirfd = -EBADF, dump = -EBADF, tar = -EBADF;
        _cleanup_free_ char *dbarg = NULL;
        char *cmd[ARGV_MAX] = {};
        char parent[PATH_MAX], name[PATH_MAX];
        char **args;
        size_t k;
        int n, r;

        r = central_parse("backup", argc, argv, opts, ELEMENTSOF(opts), 0, 0, &args, &n);
        if (r < 0)
                return r;
        r = ca_parts(ctx->ca_dir, parent, name);
        if (r < 0)
                return r;
        if (mkdir(out, 0700) < 0) {
                fprintf(stderr, "termguard-central: cannot create %s: %m (it must not exist)\n", out);
                return -errno;
        }
        dirfd = open(out, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (dirfd < 0)
                return -errno;
        dump = create_file(dirfd, DUMP_FILE);
        if (dump < 0)
                return dump;
        /* --create: the database's own grants and its owner (termguard_owner) travel with it. */
        r = central_client_argv(ctx, TG_PG_BINDIR "/pg_dump", CENTRAL_DATABASE, cmd, ARGV_MAX - 4, &k, &dbarg);
        if (r < 0)
                return r;
        cmd[k++] = (char *) "--format=custom";
        cmd[k++] = (char *) "--create";
        cmd[k++] = dbarg;
        r = central_spawn(cmd, -1, dump);
        if (r < 0)
                return r;
        if (fsync(dump) < 0)
                return -errno;
        tar = create_file(dirfd, CA_TAR);
        if (tar < 0)
                return tar;
        {
                char *tar_cmd[] = {(char *) "/bin/tar", (char *) "-C", parent, (char *) "-cf",
                                   (char *) "-",        name,          NULL};
                r = central_spawn(tar_cmd, -1, tar);
        }
        if (r < 0)
                return r;
        if (fsync(tar) < 0 || fsync(dirfd) < 0)
                return -errno;
        printf("backup written to %s (" DUMP_FILE ", " CA_TAR ")\n", out);
        return 0;
}

static int open_backup_file(int dirfd, const char *name) {
        int fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);

        if (fd < 0)
                fprintf(stderr, "termguard-central: cannot open %s: %m\n", name);
        return fd < 0 ? -errno : fd;
}

int central_restore(const central_context *ctx, int argc, char **argv) {
        _cleanup_close_ int dirfd = -EBADF, dump = -EBADF, tar = -EBADF;
        _cleanup_free_ char *dbarg = NULL;
        _cleanup_pgconn_ PGconn *conn = NULL, *db = NULL;
        _cleanup_pgresult_ PGresult *res = NULL;
        char *cmd[ARGV_MAX] = {};
        char parent[PATH_MAX], name[PATH_MAX];
        struct stat st;
        char **args;
        size_t k;
        int n, r;

        r = central_parse("restore", argc, argv, NULL, 0, 1, 1, &args, &n);
        if (r < 0)
                return r;
        r = ca_parts(ctx->ca_dir, parent, name);
        if (r < 0)
                return r;
        dirfd = open(args[0], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dirfd < 0) {
                fprintf(stderr, "termguard-central: cannot open %s: %m\n", args[0]);
                return -errno;
        }
        if ((dump = open_backup_file(dirfd, DUMP_FILE)) < 0 || (tar = open_backup_file(dirfd, CA_TAR)) < 0)
                return dump < 0 ? dump : tar;
        /* Never over a CA or a database in place: a restore is for a new server. */
        if (lstat(ctx->ca_dir, &st) == 0) {
                fprintf(stderr, "termguard-central: %s exists: restore needs a server without a CA\n", ctx->ca_dir);
                return -EEXIST;
        }
        r = central_connect(ctx, "postgres", &conn);
        if (r < 0)
                return r;
        {
                const char *params[] = {CENTRAL_DATABASE};
                r = central_query(conn, "SELECT FROM pg_database WHERE datname = $1", 1, params, &res);
        }
        if (r < 0)
                return r;
        if (PQntuples(res) > 0) {
                fprintf(stderr, "termguard-central: database " CENTRAL_DATABASE " exists: restore needs a cluster "
                                "without it\n");
                return -EEXIST;
        }
        /* Roles are the cluster's, not in the dump: the group roles first. */
        r = central_run_file(conn, ctx->sql_dir, "roles.sql");
        if (r < 0)
                return r;
        {
                char *tar_cmd[] = {(char *) "/bin/tar", (char *) "-C", parent, (char *) "-xpf",
                                   (char *) "-",        name,          NULL};
                r = central_spawn(tar_cmd, tar, -1);
        }
        if (r < 0)
                return r;
        r = central_client_argv(ctx, TG_PG_BINDIR "/pg_restore", "postgres", cmd, ARGV_MAX - 4, &k, &dbarg);
        if (r < 0)
                return r;
        cmd[k++] = (char *) "--create";
        cmd[k++] = (char *) "--exit-on-error";
        cmd[k++] = dbarg;
        r = central_spawn(cmd, dump, -1);
        if (r < 0)
                return r;
        /* Then the terminals' login roles, from the restored hosts table. */
        r = central_connect(ctx, CENTRAL_DATABASE, &db);
        if (r < 0)
                return r;
        PQclear(TAKE_PTR(res));
        r = central_query(db, "SELECT termguard.restore_host_roles()", 0, NULL, &res);
        if (r < 0)
                return r;
        printf("restored: database " CENTRAL_DATABASE ", CA in %s, %s host roles made; run termguard-central init "
               "to set up this cluster's TLS and pg_hba\n",
               ctx->ca_dir, PQgetvalue(res, 0, 0));
        return 0;
}
