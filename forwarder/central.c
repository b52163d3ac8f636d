/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The central store through libpq: the enrolment's central.conf, a TLS connection with the
 * host's client certificate (the role is the certificate's CN, no password), and one
 * transaction per batch. Only a successful COMMIT counts: an error, a lost connection or an
 * unknown outcome means "not stored", and the batch is sent again (the centre ignores a record
 * it already holds with the same MAC).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "forwarder.h"
#include "termguard/central.h"
#include "termguard/macro.h"

struct fwd_central {
        PGconn *conn;
};

/* How long a connection attempt may take, in seconds (libpq's connect_timeout). */
#define CONNECT_TIMEOUT "10"
/* A cut network must not hold a batch for TCP's quarter of an hour: unacknowledged data fails
 * the connection after this many milliseconds, and an idle one is probed (keepalives). */
#define TCP_USER_TIMEOUT_MS "20000"
#define KEEPALIVE_IDLE_S "20"
#define KEEPALIVE_INTERVAL_S "5"
#define KEEPALIVE_COUNT "3"

/* libpq's messages end in a newline and may hold several lines: one line for status. */
static void one_line(const char *in, char *err, size_t err_size) {
        size_t o = 0;
        for (; in && *in && o + 1 < err_size; in++) {
                unsigned char c = (unsigned char) *in;
                if (c == '\n' || c == '\r' || c == '\t')
                        c = ' ';
                if (c < 0x20 || c == 0x7f)
                        continue;
                err[o++] = (char) c;
        }
        while (o > 0 && err[o - 1] == ' ')
                o--;
        err[o] = '\0';
}

int fwd_central_connect(const tg_central_config *cfg, const char *ca, const char *cert, const char *key,
                        fwd_central **ret, char *err, size_t err_size) {
        /* keywords and values apart: nothing in the configuration is parsed as a conninfo */
        const char *const keywords[] = {"host",
                                        "port",
                                        "dbname",
                                        "user",
                                        "sslmode",
                                        "sslrootcert",
                                        "sslcert",
                                        "sslkey",
                                        "connect_timeout",
                                        "tcp_user_timeout",
                                        "keepalives",
                                        "keepalives_idle",
                                        "keepalives_interval",
                                        "keepalives_count",
                                        "application_name",
                                        NULL};
        const char *const values[] = {cfg->host,
                                      cfg->port,
                                      cfg->database,
                                      cfg->role,
                                      "verify-full",
                                      ca,
                                      cert,
                                      key,
                                      CONNECT_TIMEOUT,
                                      TCP_USER_TIMEOUT_MS,
                                      "1",
                                      KEEPALIVE_IDLE_S,
                                      KEEPALIVE_INTERVAL_S,
                                      KEEPALIVE_COUNT,
                                      "termguard-forwarder",
                                      NULL};
        fwd_central *c;

        c = calloc(1, sizeof(*c));
        if (!c)
                return -ENOMEM;
        c->conn = PQconnectdbParams(keywords, values, 0);
        if (!c->conn || PQstatus(c->conn) != CONNECTION_OK) {
                one_line(c->conn ? PQerrorMessage(c->conn) : "out of memory", err, err_size);
                fwd_central_free(c);
                return -ECONNREFUSED;
        }
        *ret = c;
        return 0;
}

void fwd_central_free(fwd_central *c) {
        if (!c)
                return;
        PQfinish(c->conn);
        free(c);
}

bool fwd_central_usable(fwd_central *c) {
        return c && PQconsumeInput(c->conn) == 1 && PQstatus(c->conn) == CONNECTION_OK;
}

static int exec_ok(fwd_central *c, const char *sql, char *err, size_t err_size) {
        PGresult *res = PQexec(c->conn, sql);
        int r = res && PQresultStatus(res) == PGRES_COMMAND_OK ? 0 : -EIO;
        if (r < 0)
                one_line(PQerrorMessage(c->conn), err, err_size);
        PQclear(res);
        return r;
}

int fwd_central_send(fwd_central *c, fwd_batch *b, int64_t *ret_stored, char *err, size_t err_size) {
        const char *params[1];
        PGresult *res;
        int64_t stored = 0;
        int r;

        assert_return(c && b && b->n > 0, -EINVAL);
        params[0] = fwd_batch_text(b);
        if (!params[0])
                return -ENOMEM;
        r = exec_ok(c, "BEGIN", err, err_size);
        if (r < 0)
                return r;
        res = PQexecParams(c->conn, "SELECT termguard.ingest($1::jsonb)", 1, NULL, params, NULL, NULL, 0);
        if (!res || PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1) {
                one_line(PQerrorMessage(c->conn), err, err_size);
                PQclear(res);
                return -EIO;
        }
        stored = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
        PQclear(res);
        /* Only COMMIT's success says the records are there; a COMMIT after a failed
         * statement would report ROLLBACK, which PGRES_COMMAND_OK does not tell apart. */
        res = PQexec(c->conn, "COMMIT");
        r = res && PQresultStatus(res) == PGRES_COMMAND_OK && strcmp(PQcmdStatus(res), "COMMIT") == 0 ? 0 : -EIO;
        if (r < 0)
                one_line(PQerrorMessage(c->conn), err, err_size);
        PQclear(res);
        if (r == 0 && ret_stored)
                *ret_stored = stored;
        return r;
}
