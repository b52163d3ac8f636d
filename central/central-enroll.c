/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Terminals: enrolment (host id, login role, client certificate, journal seed and its escrow),
 * revocation, re-enrolment (a new certificate only), listing. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "central.h"
#include "termguard/fileio.h"
#include "termguard/journal.h"

#define UUID_TEXT 37
#define ROLE_TEXT 41 /* tg_host_ + 32 hex */

/* The files of an enrolment bundle (docs/central.md); the seed only at enrolment. */
static const char *const bundle_files[] = {"host-id", "department",   "client.crt", "client.key",
                                           "ca.crt",  "central.conf", "seed"};

static void format_uuid(const uint8_t id[16], char ret[UUID_TEXT]) {
        snprintf(ret, UUID_TEXT, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", id[0], id[1],
                 id[2], id[3], id[4], id[5], id[6], id[7], id[8], id[9], id[10], id[11], id[12], id[13], id[14],
                 id[15]);
}

/* Removes what a failed enrolment left in the new bundle directory. */
static void remove_bundle(int dirfd, const char *dir) {
        for (size_t i = 0; i < ELEMENTSOF(bundle_files); i++)
                (void) unlinkat(dirfd, bundle_files[i], 0);
        (void) rmdir(dir);
}

static int write_text(int dirfd, const char *name, const char *text, mode_t mode) {
        int r = tg_write_file_atomic(dirfd, name, text, strlen(text), geteuid(), getegid(), mode);

        if (r < 0)
                fprintf(stderr, "termguard-central: cannot write %s: %s\n", name, strerror(-r));
        return r;
}

static int check_port(const char *port) {
        char *end;
        long p;

        if (!port)
                return 0;
        p = strtol(port, &end, 10);
        if (*end || end == port || p < 1 || p > 65535) {
                fprintf(stderr, "termguard-central: --port takes 1..65535\n");
                return -EINVAL;
        }
        return 0;
}

/* host-id, department, ca.crt and central.conf of a bundle (certificate and key are there). */
static int write_bundle(const central_context *ctx, int dirfd, const char *host_id, const char *department,
                        const char *role, const char *central_host, const char *port) {
        _cleanup_free_ char *conf = NULL, *id_line = NULL, *dep_line = NULL;
        int r;

        if (central_asprintf(&conf, "[Central]\nHost=%s\nPort=%s\nDatabase=" CENTRAL_DATABASE "\nRole=%s\n",
                             central_host, port, role) < 0 ||
            central_asprintf(&id_line, "%s\n", host_id) < 0 || central_asprintf(&dep_line, "%s\n", department) < 0)
                return -ENOMEM;
        if ((r = write_text(dirfd, "host-id", id_line, 0644)) < 0 ||
            (r = write_text(dirfd, "department", dep_line, 0644)) < 0 ||
            (r = write_text(dirfd, "central.conf", conf, 0644)) < 0)
                return r;
        return central_ca_copy_cert(ctx->ca_dir, dirfd, "ca.crt", geteuid(), getegid());
}

static int new_bundle_dir(const char *out) {
        int fd;

        if (mkdir(out, 0700) < 0) {
                fprintf(stderr, "termguard-central: cannot create %s: %m (it must not exist)\n", out);
                return -errno;
        }
        fd = open(out, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        return fd;
}

static void default_host(const char **central_host, const char **port, char *buf, size_t size) {
        if (!*central_host) {
                (void) gethostname(buf, size - 1);
                *central_host = buf;
        }
        if (!*port)
                *port = "5432";
}

int central_enroll_host(const central_context *ctx, int argc, char **argv) {
        const char *department = NULL, *hostname = NULL, *out = NULL, *escrow = NULL, *central_host = NULL,
                   *port = NULL;
        central_option opts[] = {
                {"department", true, &department}, {"hostname", false, &hostname},         {"out", true, &out},
                {"escrow", false, &escrow},        {"central-host", false, &central_host}, {"port", false, &port},
        };
        _cleanup_pgconn_ PGconn *conn = NULL;
        _cleanup_pgresult_ PGresult *res = NULL;
        _cleanup_close_ int dirfd = -EBADF;
        _cleanup_free_ char *escrow_path = NULL;
        uint8_t id[TG_JOURNAL_ID_SIZE], seed[TG_JOURNAL_SEED_SIZE];
        char host_id[UUID_TEXT], role[ROLE_TEXT], not_after[32], host_buf[HOST_NAME_MAX + 1] = "";
        central_cert_info cert;
        char **args;
        int n, r;

        r = central_parse("enroll-host", argc, argv, opts, ELEMENTSOF(opts), 0, 0, &args, &n);
        if (r < 0)
                return r;
        r = check_port(port);
        if (r < 0)
                return r;
        default_host(&central_host, &port, host_buf, sizeof(host_buf));
        if (!escrow)
                escrow = CENTRAL_DEFAULT_ESCROW_DIR;
        r = central_connect(ctx, CENTRAL_DATABASE, &conn);
        if (r < 0)
                return r;

        /* A random (version 4) UUID made here: never derived from anything a cloned disk image
         * carries. */
        if (central_random(id, sizeof(id)) < 0 || central_random(seed, sizeof(seed)) < 0)
                return -EIO;
        id[6] = (uint8_t) ((id[6] & 0x0f) | 0x40);
        id[8] = (uint8_t) ((id[8] & 0x3f) | 0x80);
        format_uuid(id, host_id);
        snprintf(role, sizeof(role), "tg_host_%.8s%.4s%.4s%.4s%.12s", host_id, host_id + 9, host_id + 14, host_id + 19,
                 host_id + 24);

        dirfd = new_bundle_dir(out);
        if (dirfd < 0) {
                explicit_bzero(seed, sizeof(seed));
                return dirfd;
        }
        r = central_ca_issue(ctx->ca_dir, role, NULL, 0, dirfd, "client.crt", "client.key", geteuid(), getegid(),
                             &cert);
        if (r < 0)
                goto fail;
        /* The seed goes to the auditors' escrow and into the bundle, never into the database. */
        if (central_asprintf(&escrow_path, "%s/%s.seed", escrow, host_id) < 0) {
                r = -ENOMEM;
                goto fail;
        }
        r = tg_journal_seed_write(escrow_path, seed, id);
        if (r < 0) {
                fprintf(stderr, "termguard-central: cannot write the escrow file %s: %s\n", escrow_path, strerror(-r));
                free(TAKE_PTR(escrow_path));
                goto fail;
        }
        {
                char path[PATH_MAX];
                snprintf(path, sizeof(path), "%s/seed", out);
                r = tg_journal_seed_write(path, seed, id);
                explicit_bzero(seed, sizeof(seed));
                if (r < 0) {
                        fprintf(stderr, "termguard-central: cannot write %s: %s\n", path, strerror(-r));
                        goto fail;
                }
        }
        r = write_bundle(ctx, dirfd, host_id, department, role, central_host, port);
        if (r < 0)
                goto fail;
        snprintf(not_after, sizeof(not_after), "%lld", (long long) cert.not_after);
        {
                const char *params[] = {host_id, department, hostname, cert.serial, not_after};
                r = central_query(conn, "SELECT termguard.enroll_host($1::uuid, $2, $3, $4, to_timestamp($5::bigint))",
                                  5, params, &res);
        }
        if (r < 0)
                goto fail;
        printf("enrolled host %s (role %s, department %s); bundle in %s, seed escrowed in %s\n", host_id, role,
               department, out, escrow_path);
        return 0;
fail:
        explicit_bzero(seed, sizeof(seed));
        if (escrow_path)
                (void) unlink(escrow_path);
        remove_bundle(dirfd, out);
        fprintf(stderr, "termguard-central: nothing enrolled\n");
        return r;
}

int central_revoke_host(const central_context *ctx, int argc, char **argv) {
        _cleanup_pgconn_ PGconn *conn = NULL;
        _cleanup_pgresult_ PGresult *res = NULL;
        char **args;
        int n, r;

        r = central_parse("revoke-host", argc, argv, NULL, 0, 1, 1, &args, &n);
        if (r < 0)
                return r;
        r = central_connect(ctx, CENTRAL_DATABASE, &conn);
        if (r < 0)
                return r;
        r = central_query(conn, "SELECT termguard.revoke_host($1::uuid)", 1, (const char *const *) args, &res);
        if (r < 0)
                return r;
        printf("host %s revoked: role %s may no longer log in; its records stay\n", args[0], PQgetvalue(res, 0, 0));
        if (central_update_crl(ctx, conn) < 0)
                fprintf(stderr, "termguard-central: the CRL was not updated (the role is locked all the same)\n");
        return 0;
}

int central_reenroll_host(const central_context *ctx, int argc, char **argv) {
        const char *out = NULL, *central_host = NULL, *port = NULL;
        central_option opts[] = {{"out", true, &out}, {"central-host", false, &central_host}, {"port", false, &port}};
        _cleanup_pgconn_ PGconn *conn = NULL;
        _cleanup_pgresult_ PGresult *host = NULL, *res = NULL;
        _cleanup_close_ int dirfd = -EBADF;
        char not_after[32], host_buf[HOST_NAME_MAX + 1] = "";
        central_cert_info cert;
        const char *host_id, *role, *department;
        char **args;
        int n, r;

        r = central_parse("reenroll-host", argc, argv, opts, ELEMENTSOF(opts), 1, 1, &args, &n);
        if (r < 0)
                return r;
        r = check_port(port);
        if (r < 0)
                return r;
        default_host(&central_host, &port, host_buf, sizeof(host_buf));
        r = central_connect(ctx, CENTRAL_DATABASE, &conn);
        if (r < 0)
                return r;
        r = central_query(conn,
                          "SELECT host_id, role, department, revoked_at IS NOT NULL FROM termguard.hosts "
                          "WHERE host_id = $1::uuid",
                          1, (const char *const *) args, &host);
        if (r < 0)
                return r;
        if (PQntuples(host) != 1) {
                fprintf(stderr, "termguard-central: no host %s\n", args[0]);
                return -ENOENT;
        }
        if (strcmp(PQgetvalue(host, 0, 3), "t") == 0) {
                fprintf(stderr, "termguard-central: host %s was revoked: enrol the terminal as a new host\n", args[0]);
                return -EPERM;
        }
        host_id = PQgetvalue(host, 0, 0);
        role = PQgetvalue(host, 0, 1);
        department = PQgetvalue(host, 0, 2);
        dirfd = new_bundle_dir(out);
        if (dirfd < 0)
                return dirfd;
        r = central_ca_issue(ctx->ca_dir, role, NULL, 0, dirfd, "client.crt", "client.key", geteuid(), getegid(),
                             &cert);
        if (r < 0)
                goto fail;
        r = write_bundle(ctx, dirfd, host_id, department, role, central_host, port);
        if (r < 0)
                goto fail;
        snprintf(not_after, sizeof(not_after), "%lld", (long long) cert.not_after);
        {
                const char *params[] = {host_id, cert.serial, not_after};
                r = central_query(conn, "SELECT termguard.reenroll_host($1::uuid, $2, to_timestamp($3::bigint))", 3,
                                  params, &res);
        }
        if (r < 0)
                goto fail;
        printf("host %s has a new certificate in %s; its previous certificates are revoked\n", host_id, out);
        if (central_update_crl(ctx, conn) < 0) {
                fprintf(stderr, "termguard-central: the CRL was not updated: previous certificates still log in "
                                "until it is\n");
                return 0;
        }
        /* PostgreSQL checks a certificate when a connection starts: sessions opened with a
         * replaced (perhaps stolen) one would go on sending. With the CRL in force, they end. */
        {
                _cleanup_pgresult_ PGresult *ended = NULL;
                const char *params[] = {host_id};
                if (central_query(conn, "SELECT termguard.end_host_sessions($1::uuid)", 1, params, &ended) < 0)
                        fprintf(stderr, "termguard-central: sessions of the previous certificate could not be "
                                        "ended: they end when they disconnect\n");
        }
        return 0;
fail:
        remove_bundle(dirfd, out);
        fprintf(stderr, "termguard-central: nothing changed\n");
        return r;
}

int central_list_hosts(const central_context *ctx, int argc, char **argv) {
        _cleanup_pgconn_ PGconn *conn = NULL;
        _cleanup_pgresult_ PGresult *res = NULL;
        char **args;
        int n, r;

        r = central_parse("list-hosts", argc, argv, NULL, 0, 0, 0, &args, &n);
        if (r < 0)
                return r;
        r = central_connect(ctx, CENTRAL_DATABASE, &conn);
        if (r < 0)
                return r;
        r = central_query(conn,
                          "SELECT host_id, department, coalesce(hostname, '-'), "
                          "to_char(enrolled_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), "
                          "coalesce(to_char(revoked_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), '-'), "
                          "last_seq FROM termguard.hosts ORDER BY department, hostname, host_id",
                          0, NULL, &res);
        if (r < 0)
                return r;
        /* Tab-separated: departments are free text (validated at enrolment: no control characters). */
        printf("HOST-ID\tDEPARTMENT\tHOSTNAME\tENROLLED\tREVOKED\tLAST-SEQ\n");
        for (int i = 0; i < PQntuples(res); i++)
                printf("%s\t%s\t%s\t%s\t%s\t%s\n", PQgetvalue(res, i, 0), PQgetvalue(res, i, 1), PQgetvalue(res, i, 2),
                       PQgetvalue(res, i, 3), PQgetvalue(res, i, 4), PQgetvalue(res, i, 5));
        return 0;
}
