/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Connections to the cluster, SQL files and migrations. */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "central.h"
#include "termguard/fileio.h"

#define SQL_FILE_MAX (4 * 1024 * 1024)

/* As root without --dsn: peer authentication as the cluster's superuser. The server reads the
 * peer's credentials once, at connect(): the effective ids are the superuser's for that call
 * only. */
static int connect_as_superuser(const char *dbname, PGconn **ret) {
        const char *keys[] = {"user", "dbname", NULL};
        const char *values[] = {CENTRAL_PG_SUPERUSER, dbname, NULL};
        struct passwd *pw = getpwnam(CENTRAL_PG_SUPERUSER);
        PGconn *conn;

        if (!pw) {
                fprintf(stderr, "termguard-central: no user %s: is postgresql installed? (or give --dsn)\n",
                        CENTRAL_PG_SUPERUSER);
                return -ENOENT;
        }
        if (setegid(pw->pw_gid) < 0 || seteuid(pw->pw_uid) < 0) {
                int r = -errno;
                if (setegid(0) < 0)
                        abort();
                fprintf(stderr, "termguard-central: cannot become %s: %s\n", CENTRAL_PG_SUPERUSER, strerror(-r));
                return r;
        }
        conn = PQconnectdbParams(keys, values, 0);
        if (seteuid(0) < 0 || setegid(0) < 0)
                abort(); /* never go on with another identity than the one the program started as */
        *ret = conn;
        return 0;
}

static void notice_ignore(void *arg, const char *msg) {
        (void) arg;
        (void) msg;
}

int central_connect(const central_context *ctx, const char *dbname, PGconn **ret) {
        /* The dsn comes first and is expanded; the later dbname overrides the one it may hold. */
        const char *keys[] = {"dbname", "dbname", NULL};
        const char *values[] = {ctx->dsn, dbname, NULL};
        PGconn *conn = NULL;
        int r;

        if (!ctx->dsn && geteuid() == 0) {
                r = connect_as_superuser(dbname, &conn);
                if (r < 0)
                        return r;
        } else
                conn = PQconnectdbParams(keys, values, 1);
        if (!conn)
                return -ENOMEM;
        if (PQstatus(conn) != CONNECTION_OK) {
                fprintf(stderr, "termguard-central: cannot connect to database %s: %s", dbname, PQerrorMessage(conn));
                PQfinish(conn);
                return -ECONNREFUSED;
        }
        /* Notices of CREATE ... IF NOT EXISTS and the like are not for the administrator. */
        PQsetNoticeProcessor(conn, notice_ignore, NULL);
        *ret = conn;
        return 0;
}

int central_exec(PGconn *conn, const char *sql) {
        _cleanup_pgresult_ PGresult *res = NULL;

        res = PQexec(conn, sql);
        if (PQresultStatus(res) != PGRES_COMMAND_OK && PQresultStatus(res) != PGRES_TUPLES_OK) {
                fprintf(stderr, "termguard-central: %s", PQerrorMessage(conn));
                return -EIO;
        }
        return 0;
}

int central_query(PGconn *conn, const char *sql, int n, const char *const *params, PGresult **ret) {
        PGresult *res = PQexecParams(conn, sql, n, NULL, params, NULL, NULL, 0);

        if (PQresultStatus(res) != PGRES_COMMAND_OK && PQresultStatus(res) != PGRES_TUPLES_OK) {
                fprintf(stderr, "termguard-central: %s", PQerrorMessage(conn));
                PQclear(res);
                return -EIO;
        }
        *ret = res;
        return 0;
}

static int read_sql(const char *dir, const char *name, char **ret) {
        _cleanup_free_ char *path = NULL, *buf = NULL;
        ssize_t n;

        if (central_asprintf(&path, "%s/%s", dir, name) < 0)
                return -ENOMEM;
        buf = malloc(SQL_FILE_MAX + 1);
        if (!buf)
                return -ENOMEM;
        n = tg_read_file(path, buf, SQL_FILE_MAX + 1);
        if (n < 0) {
                fprintf(stderr, "termguard-central: cannot read %s: %s\n", path, strerror((int) -n));
                return (int) n;
        }
        if (n > SQL_FILE_MAX)
                return -EFBIG;
        buf[n] = 0;
        *ret = TAKE_PTR(buf);
        return 0;
}

int central_run_file(PGconn *conn, const char *dir, const char *name) {
        _cleanup_free_ char *sql = NULL;
        int r = read_sql(dir, name, &sql);

        if (r < 0)
                return r;
        return central_exec(conn, sql);
}

/* NNN-name.sql: its version, or 0 for any other name. */
static int migration_version(const char *name) {
        size_t len = strlen(name);

        if (len < 9 || strcmp(name + len - 4, ".sql") != 0 || name[3] != '-')
                return 0;
        for (int i = 0; i < 3; i++)
                if (name[i] < '0' || name[i] > '9')
                        return 0;
        return (name[0] - '0') * 100 + (name[1] - '0') * 10 + (name[2] - '0');
}

static int is_migration(const struct dirent *de) {
        return migration_version(de->d_name) > 0;
}

typedef struct {
        struct dirent **list;
        int n;
} dirent_list;

static void dirent_list_free(dirent_list *l) {
        for (int i = 0; i < l->n; i++)
                free(l->list[i]);
        free(l->list);
}

/* Each pending migration in one transaction with its row in termguard.schema_migrations, in
 * the order of their numbers (three digits: the names sort by number). */
int central_apply_migrations(const central_context *ctx, PGconn *conn, int *ret_applied) {
        _cleanup_(dirent_list_free) dirent_list l = {};
        int applied = 0, r, last = 0;

        l.n = scandir(ctx->sql_dir, &l.list, is_migration, alphasort);
        if (l.n < 0) {
                r = -errno;
                l.n = 0;
                fprintf(stderr, "termguard-central: cannot read %s: %s\n", ctx->sql_dir, strerror(-r));
                return r;
        }
        for (int i = 0; i < l.n; i++) {
                _cleanup_pgresult_ PGresult *res = NULL;
                _cleanup_free_ char *sql = NULL, *mark = NULL;
                const char *name = l.list[i]->d_name;
                int v = migration_version(name);
                char version[8];
                const char *params[] = {version};

                if (v == last) {
                        fprintf(stderr, "termguard-central: two migrations numbered %03d\n", v);
                        return -EEXIST;
                }
                last = v;
                snprintf(version, sizeof(version), "%d", v);
                /* Before migration 1 there is no table to ask. */
                r = central_query(conn, "SELECT to_regclass('termguard.schema_migrations') IS NOT NULL", 0, NULL, &res);
                if (r < 0)
                        return r;
                if (strcmp(PQgetvalue(res, 0, 0), "t") == 0) {
                        PQclear(TAKE_PTR(res));
                        r = central_query(conn, "SELECT FROM termguard.schema_migrations WHERE version = $1::int", 1,
                                          params, &res);
                        if (r < 0)
                                return r;
                        if (PQntuples(res) > 0)
                                continue;
                }
                r = read_sql(ctx->sql_dir, name, &sql);
                if (r < 0)
                        return r;
                if (central_asprintf(
                            &mark,
                            "BEGIN;\n%s\n;INSERT INTO termguard.schema_migrations (version) VALUES (%d);\nCOMMIT;", sql,
                            v) < 0)
                        return -ENOMEM;
                r = central_exec(conn, mark);
                if (r < 0) {
                        fprintf(stderr, "termguard-central: migration %s failed, nothing of it applied\n", name);
                        (void) central_exec(conn, "ROLLBACK");
                        return r;
                }
                printf("applied migration %s\n", name);
                applied++;
        }
        if (ret_applied)
                *ret_applied = applied;
        return 0;
}

int central_client_argv(const central_context *ctx, const char *program, const char *dbname, char **ret_argv,
                        size_t max, size_t *ret_n, char **ret_dbarg) {
        size_t n = 0;
        char *dbarg;

        if (max < 6)
                return -ENOBUFS;
        if (!ctx->dsn && geteuid() == 0) {
                ret_argv[n++] = (char *) "/usr/sbin/runuser";
                ret_argv[n++] = (char *) "-u";
                ret_argv[n++] = (char *) CENTRAL_PG_SUPERUSER;
                ret_argv[n++] = (char *) "--";
                if (central_asprintf(&dbarg, "--dbname=dbname=%s", dbname) < 0)
                        return -ENOMEM;
        } else if (central_asprintf(&dbarg, "--dbname=%s dbname=%s", ctx->dsn ? ctx->dsn : "", dbname) < 0)
                return -ENOMEM;
        ret_argv[n++] = (char *) program;
        *ret_n = n;
        *ret_dbarg = dbarg;
        return 0;
}
