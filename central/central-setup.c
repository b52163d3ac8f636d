/* SPDX-License-Identifier: GPL-2.0-or-later */
/* init, migrate, prune; the server's TLS files and pg_hba lines; the CRL. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "central.h"
#include "central-verify.h"
#include "termguard/fileio.h"

#define HBA_MAX (1024 * 1024)
#define HBA_BEGIN "# termguard-central: begin\n"
/* First lines of pg_hba.conf, where the first matching line decides: terminals by their
 * certificate only (CN = role name), and nowhere else. */
#define HBA_BLOCK                                                                                                      \
        HBA_BEGIN                                                                                                      \
        "# Terminals log in to the termguard database with their TLS client certificate only.\n"                       \
        "hostssl   " CENTRAL_DATABASE " +termguard_ingest all cert\n"                                                  \
        "hostnossl " CENTRAL_DATABASE " +termguard_ingest all reject\n"                                                \
        "host      all       +termguard_ingest all reject\n"                                                           \
        "local     all       +termguard_ingest     reject\n"                                                           \
        "# termguard-central: end\n"
#define PARTITIONS_AHEAD "2"

static int setting(PGconn *conn, const char *name, char **ret) {
        _cleanup_pgresult_ PGresult *res = NULL;
        const char *params[] = {name};
        int r = central_query(conn, "SELECT current_setting($1)", 1, params, &res);

        if (r < 0)
                return r;
        *ret = strdup(PQgetvalue(res, 0, 0));
        return *ret ? 0 : -ENOMEM;
}

/* The cluster's data directory, opened, and its owner. */
static int open_data_dir(PGconn *conn, int *ret_fd, uid_t *ret_uid, gid_t *ret_gid) {
        _cleanup_free_ char *dir = NULL;
        struct stat st;
        int fd, r = setting(conn, "data_directory", &dir);

        if (r < 0)
                return r;
        fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0 || fstat(fd, &st) < 0) {
                r = -errno;
                fprintf(stderr,
                        "termguard-central: cannot open the cluster's data directory %s (%s): run as root or as the "
                        "cluster's owner on the database server\n",
                        dir, strerror(-r));
                if (fd >= 0)
                        close(fd);
                return r;
        }
        *ret_fd = fd;
        *ret_uid = st.st_uid;
        *ret_gid = st.st_gid;
        return 0;
}

int central_update_crl(const central_context *ctx, PGconn *conn) {
        _cleanup_pgresult_ PGresult *res = NULL;
        _cleanup_close_ int dirfd = -EBADF;
        _cleanup_free_ const char **serials = NULL;
        uid_t uid;
        gid_t gid;
        int n, r;

        r = central_query(conn, "SELECT serial FROM termguard.certificates WHERE revoked_at IS NOT NULL ORDER BY 1", 0,
                          NULL, &res);
        if (r < 0)
                return r;
        n = PQntuples(res);
        serials = calloc((size_t) n + 1, sizeof(char *));
        if (!serials)
                return -ENOMEM;
        for (int i = 0; i < n; i++)
                serials[i] = PQgetvalue(res, i, 0);
        r = open_data_dir(conn, &dirfd, &uid, &gid);
        if (r < 0)
                return r;
        r = central_ca_write_crl(ctx->ca_dir, serials, (size_t) n, dirfd, CENTRAL_SERVER_CRL, uid, gid);
        if (r < 0)
                return r;
        return central_exec(conn, "SELECT pg_reload_conf()");
}

/* Puts HBA_BLOCK first in pg_hba.conf unless it is there; prints it where it cannot. */
static int configure_hba(PGconn *conn) {
        _cleanup_free_ char *path = NULL, *buf = NULL, *out = NULL;
        struct stat st;
        ssize_t n;
        int r = setting(conn, "hba_file", &path);

        if (r < 0)
                return r;
        buf = malloc(HBA_MAX + 1);
        if (!buf)
                return -ENOMEM;
        n = tg_read_file(path, buf, HBA_MAX);
        if (n >= 0 && stat(path, &st) == 0) {
                buf[n] = 0;
                if (strstr(buf, HBA_BEGIN))
                        return 0;
                if (central_asprintf(&out, "%s%s", HBA_BLOCK, buf) < 0)
                        return -ENOMEM;
                r = tg_write_file_atomic(AT_FDCWD, path, out, strlen(out), st.st_uid, st.st_gid, st.st_mode & 07777);
                if (r == 0) {
                        printf("pg_hba: terminals' lines put first in %s\n", path);
                        return 0;
                }
        } else
                r = n < 0 ? (int) n : -errno;
        fprintf(stderr,
                "termguard-central: cannot change %s (%s). Put these lines first in it, then reload PostgreSQL:\n%s",
                path, strerror(-r), HBA_BLOCK);
        return 0;
}

static int alter_system(PGconn *conn, const char *name, const char *value) {
        _cleanup_free_ char *sql = NULL;
        char *lit = PQescapeLiteral(conn, value, strlen(value));
        int r;

        if (!lit)
                return -ENOMEM;
        /* name is one of ours, never input */
        r = central_asprintf(&sql, "ALTER SYSTEM SET %s = %s", name, lit);
        PQfreemem(lit);
        if (r < 0)
                return -ENOMEM;
        return central_exec(conn, sql);
}

/* The server's certificate (made once), the CA certificate, the CRL and ssl settings. */
static int configure_tls(const central_context *ctx, PGconn *conn, const char *server_name, const char *listen) {
        _cleanup_close_ int dirfd = -EBADF;
        _cleanup_free_ char *dns = NULL;
        uid_t uid;
        gid_t gid;
        int r = open_data_dir(conn, &dirfd, &uid, &gid);

        if (r < 0)
                return r;
        if (faccessat(dirfd, CENTRAL_SERVER_CERT, F_OK, 0) < 0) {
                const char *sans[] = {NULL, "DNS:localhost", "IP:127.0.0.1", "IP:::1"};
                if (central_asprintf(&dns, "DNS:%s", server_name) < 0)
                        return -ENOMEM;
                sans[0] = dns;
                r = central_ca_issue(ctx->ca_dir, server_name, sans, ELEMENTSOF(sans), dirfd, CENTRAL_SERVER_CERT,
                                     CENTRAL_SERVER_KEY, uid, gid, NULL);
                if (r < 0)
                        return r;
                printf("server certificate for %s issued\n", server_name);
        }
        r = central_ca_copy_cert(ctx->ca_dir, dirfd, CENTRAL_SERVER_CA, uid, gid);
        if (r < 0)
                return r;
        r = central_update_crl(ctx, conn);
        if (r < 0)
                return r;
        if ((r = alter_system(conn, "ssl_cert_file", CENTRAL_SERVER_CERT)) < 0 ||
            (r = alter_system(conn, "ssl_key_file", CENTRAL_SERVER_KEY)) < 0 ||
            (r = alter_system(conn, "ssl_ca_file", CENTRAL_SERVER_CA)) < 0 ||
            (r = alter_system(conn, "ssl_crl_file", CENTRAL_SERVER_CRL)) < 0 ||
            (r = alter_system(conn, "ssl_min_protocol_version", "TLSv1.2")) < 0 ||
            (r = alter_system(conn, "ssl", "on")) < 0)
                return r;
        if (listen) {
                r = alter_system(conn, "listen_addresses", listen);
                if (r < 0)
                        return r;
                printf("listen_addresses set: restart PostgreSQL for it to take effect\n");
        }
        return 0;
}

static int database_exists(PGconn *conn, bool *ret) {
        _cleanup_pgresult_ PGresult *res = NULL;
        const char *params[] = {CENTRAL_DATABASE};
        int r = central_query(conn, "SELECT FROM pg_database WHERE datname = $1", 1, params, &res);

        if (r < 0)
                return r;
        *ret = PQntuples(res) > 0;
        return 0;
}

/* The group roles, then the database, owned by termguard_owner so that its objects and its
 * database-level grants travel with a dump. */
static int create_database(const central_context *ctx) {
        _cleanup_pgconn_ PGconn *conn = NULL;
        bool exists;
        int r = central_connect(ctx, "postgres", &conn);

        if (r < 0)
                return r;
        r = central_run_file(conn, ctx->sql_dir, "roles.sql");
        if (r < 0)
                return r;
        r = database_exists(conn, &exists);
        if (r < 0 || exists)
                return r;
        r = central_exec(conn, "CREATE DATABASE " CENTRAL_DATABASE " OWNER termguard_owner TEMPLATE template0 "
                               "ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C'");
        if (r == 0)
                printf("database " CENTRAL_DATABASE " created\n");
        return r;
}

static int migrate(const central_context *ctx, PGconn **ret_conn) {
        _cleanup_pgconn_ PGconn *conn = NULL;
        int applied = 0, r;

        r = central_connect(ctx, CENTRAL_DATABASE, &conn);
        if (r < 0)
                return r;
        r = central_apply_migrations(ctx, conn, &applied);
        if (r < 0)
                return r;
        r = central_exec(conn, "SELECT termguard.ensure_partitions_ahead(" PARTITIONS_AHEAD ")");
        if (r < 0)
                return r;
        if (applied == 0)
                printf("schema up to date\n");
        if (ret_conn)
                *ret_conn = TAKE_PTR(conn);
        return 0;
}

static int make_dir(const char *path) {
        struct stat st;

        if (mkdir(path, 0700) < 0 && errno != EEXIST) {
                fprintf(stderr, "termguard-central: cannot create %s: %m\n", path);
                return -errno;
        }
        if (lstat(path, &st) < 0 || !S_ISDIR(st.st_mode) || st.st_uid != geteuid() || (st.st_mode & 0077)) {
                fprintf(stderr, "termguard-central: %s must be a directory of this user with mode 0700\n", path);
                return -EPERM;
        }
        return 0;
}

int central_init(const central_context *ctx, int argc, char **argv) {
        const char *server_name = NULL, *escrow = NULL, *listen = NULL;
        central_option opts[] = {
                {"server-name", false, &server_name},
                {"escrow", false, &escrow},
                {"listen", false, &listen},
        };
        _cleanup_pgconn_ PGconn *conn = NULL;
        char host[HOST_NAME_MAX + 1] = "";
        char **args;
        int n, r;

        r = central_parse("init", argc, argv, opts, ELEMENTSOF(opts), 0, 0, &args, &n);
        if (r < 0)
                return r;
        if (!server_name) {
                (void) gethostname(host, sizeof(host) - 1);
                server_name = host;
        }
        if (!escrow)
                escrow = CENTRAL_DEFAULT_ESCROW_DIR;
        if (central_ca_exists(ctx->ca_dir))
                printf("using the CA in %s\n", ctx->ca_dir);
        else {
                r = central_ca_create(ctx->ca_dir);
                if (r < 0)
                        return r;
                printf("CA created in %s\n", ctx->ca_dir);
        }
        r = make_dir(escrow);
        if (r < 0)
                return r;
        r = create_database(ctx);
        if (r < 0)
                return r;
        r = migrate(ctx, &conn);
        if (r < 0)
                return r;
        r = configure_tls(ctx, conn, server_name, listen);
        if (r < 0)
                return r;
        r = configure_hba(conn);
        if (r < 0)
                return r;
        r = central_configure_audit(ctx, conn);
        if (r < 0)
                return r;
        r = central_exec(conn, "SELECT pg_reload_conf()");
        if (r < 0)
                return r;
        printf("termguard central store ready; seeds escrow: %s\n", escrow);
        /* not enabled by the package: before init there is nothing to watch */
        printf("alerts: systemctl enable --now termguard-central-watch\n");
        return 0;
}

int central_migrate(const central_context *ctx, int argc, char **argv) {
        char **args;
        int n, r = central_parse("migrate", argc, argv, NULL, 0, 0, 0, &args, &n);

        if (r < 0)
                return r;
        r = create_database(ctx);
        if (r < 0)
                return r;
        return migrate(ctx, NULL);
}

int central_prune(const central_context *ctx, int argc, char **argv) {
        const char *months = NULL;
        central_option opts[] = {{"older-than", true, &months}};
        _cleanup_pgconn_ PGconn *conn = NULL;
        _cleanup_pgresult_ PGresult *res = NULL;
        char **args, *end;
        long m;
        int n, r;

        r = central_parse("prune", argc, argv, opts, ELEMENTSOF(opts), 0, 0, &args, &n);
        if (r < 0)
                return r;
        errno = 0;
        m = strtol(months, &end, 10);
        if (errno || *end || end == months || m < 1 || m > 1200) {
                fprintf(stderr, "termguard-central prune: --older-than takes a number of months, 1..1200\n");
                return -EINVAL;
        }
        r = central_connect(ctx, CENTRAL_DATABASE, &conn);
        if (r < 0)
                return r;
        {
                const char *params[] = {months};
                r = central_query(conn,
                                  "SELECT p, (SELECT records FROM termguard.prunes WHERE partition = p "
                                  "ORDER BY dropped_at DESC LIMIT 1) FROM termguard.prune($1::int) p",
                                  1, params, &res);
        }
        if (r < 0)
                return r;
        for (int i = 0; i < PQntuples(res); i++)
                printf("dropped %s (%s records)\n", PQgetvalue(res, i, 0), PQgetvalue(res, i, 1));
        if (PQntuples(res) == 0)
                printf("no partition older than %ld months\n", m);
        return 0;
}
