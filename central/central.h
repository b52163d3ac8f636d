/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "termguard/macro.h"

/* termguard-central: the central store's administration program (docs/central.md). Shared
 * declarations of its files: termguard-central.c (main, verb table), central-db.c (connections,
 * SQL files, migrations), central-ca.c (CA, certificates, CRL; OpenSSL libcrypto),
 * central-setup.c (init, migrate, prune, the server's TLS and pg_hba), central-enroll.c (hosts),
 * central-backup.c (backup, restore, child programs). */

#define CENTRAL_DATABASE "termguard"
#define CENTRAL_DEFAULT_CA_DIR "/var/lib/termguard-central/ca"
#define CENTRAL_DEFAULT_ESCROW_DIR "/var/lib/termguard-central/escrow"
/* Without --dsn, root reaches the local cluster as its superuser over the Unix socket. */
#define CENTRAL_PG_SUPERUSER "postgres"
#define CENTRAL_PG_PORT 5432

/* Files init puts into the cluster's data directory (owned by the cluster's owner). */
#define CENTRAL_SERVER_CERT "termguard-server.crt"
#define CENTRAL_SERVER_KEY "termguard-server.key"
#define CENTRAL_SERVER_CA "termguard-ca.crt"
#define CENTRAL_SERVER_CRL "termguard-crl.pem"

typedef struct {
        const char *dsn;     /* libpq key=value conninfo of a superuser or admin; NULL: local default */
        const char *ca_dir;  /* CA directory */
        const char *sql_dir; /* migrations */
} central_context;

/* asprintf that leaves *ret NULL on failure (glibc leaves it undefined), so that a
 * _cleanup_free_ pointer is always safe to free. */
#define central_asprintf(ret, ...)                                                                                     \
        ({                                                                                                             \
                int _r_ = asprintf(ret, __VA_ARGS__);                                                                  \
                if (_r_ < 0)                                                                                           \
                        *(ret) = NULL;                                                                                 \
                _r_;                                                                                                   \
        })

/* central-db.c */
DEFINE_TRIVIAL_CLEANUP_FUNC(PGconn *, PQfinish)
DEFINE_TRIVIAL_CLEANUP_FUNC(PGresult *, PQclear)
#define _cleanup_pgconn_ _cleanup_(PQfinishp)
#define _cleanup_pgresult_ _cleanup_(PQclearp)

int central_connect(const central_context *ctx, const char *dbname, PGconn **ret);
/* Runs sql (one or more statements); NULL on success, else prints the server's message. */
int central_exec(PGconn *conn, const char *sql);
/* One statement with text parameters; ret gets a PGRES_TUPLES_OK or COMMAND_OK result. */
int central_query(PGconn *conn, const char *sql, int n, const char *const *params, PGresult **ret);
int central_run_file(PGconn *conn, const char *dir, const char *name);
int central_apply_migrations(const central_context *ctx, PGconn *conn, int *ret_applied);
/* The argv prefix that runs a PostgreSQL client program with the same identity as
 * central_connect, and its -d argument for dbname. */
int central_client_argv(const central_context *ctx, const char *program, const char *dbname, char **ret_argv,
                        size_t max, size_t *ret_n, char **ret_dbarg);

/* central-ca.c */
#define CENTRAL_SERIAL_HEX_MAX 41
typedef struct {
        char serial[CENTRAL_SERIAL_HEX_MAX]; /* lowercase hex */
        time_t not_after;
} central_cert_info;
int central_ca_create(const char *ca_dir);
bool central_ca_exists(const char *ca_dir);
/* A new key and certificate signed by the CA: a client certificate with CN = cn, or a server
 * certificate (CN = cn, subjectAltName = sans). Key 0600, certificate 0644, both created
 * exclusively in dirfd and given to owner:group. */
int central_ca_issue(const char *ca_dir, const char *cn, const char *const *sans, size_t n_sans, int dirfd,
                     const char *cert_name, const char *key_name, uid_t owner, gid_t group, central_cert_info *ret);
/* Writes the CA's CRL listing serials (hex) to dirfd/name (replaced atomically). */
int central_ca_write_crl(const char *ca_dir, const char *const *serials, size_t n, int dirfd, const char *name,
                         uid_t owner, gid_t group);
/* Copies the CA certificate to dirfd/name. */
int central_ca_copy_cert(const char *ca_dir, int dirfd, const char *name, uid_t owner, gid_t group);
int central_random(void *buf, size_t len);

/* central-setup.c */
int central_init(const central_context *ctx, int argc, char **argv);
int central_migrate(const central_context *ctx, int argc, char **argv);
int central_prune(const central_context *ctx, int argc, char **argv);
/* Rewrites the CRL in the cluster's data directory from termguard.certificates and reloads. */
int central_update_crl(const central_context *ctx, PGconn *conn);

/* central-enroll.c */
int central_enroll_host(const central_context *ctx, int argc, char **argv);
int central_revoke_host(const central_context *ctx, int argc, char **argv);
int central_reenroll_host(const central_context *ctx, int argc, char **argv);
int central_list_hosts(const central_context *ctx, int argc, char **argv);

/* central-backup.c */
int central_backup(const central_context *ctx, int argc, char **argv);
int central_restore(const central_context *ctx, int argc, char **argv);
/* Runs argv (no shell) with stdin/stdout from the given fds (-1: inherited); 0 if it exited 0. */
int central_spawn(char *const *argv, int in_fd, int out_fd);

/* termguard-central.c: a verb's options. */
typedef struct {
        const char *name;
        bool required;
        const char **value;
} central_option;
/* Parses --name VALUE options and up to max_args positional arguments; 0 or -EINVAL (printed). */
int central_parse(const char *verb, int argc, char **argv, central_option *opts, size_t n_opts, int min_args,
                  int max_args, char ***ret_args, int *ret_n);
