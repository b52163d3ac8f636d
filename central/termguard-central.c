/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * termguard-central: sets up and administers the central store (PostgreSQL) that terminals
 * forward their journals to. main() takes the global options and finds the verb in one table;
 * each verb parses its own --name VALUE options through central_parse(). It runs on the
 * central server only, never on a terminal.
 */
#define _GNU_SOURCE
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "central.h"
#include "central-verify.h"

typedef struct {
        const char *name;
        const char *synopsis;
        const char *summary;
        int (*run)(const central_context *ctx, int argc, char **argv);
} verb;

static const verb verbs[] = {
        {"init", "[--server-name NAME] [--escrow DIR] [--listen ADDRESSES]",
         "create the database, roles, schema, CA, server certificate, TLS and pg_hba settings", central_init},
        {"migrate", "", "apply the migrations not applied yet", central_migrate},
        {"enroll-host", "--department D [--hostname N] --out DIR [--escrow DIR] [--central-host H] [--port P]",
         "enrol a terminal: new host id, login role, client certificate, journal seed", central_enroll_host},
        {"revoke-host", "HOSTID", "lock a terminal out for good (its records stay)", central_revoke_host},
        {"reenroll-host", "HOSTID --out DIR [--central-host H] [--port P]",
         "a new client certificate for an enrolled terminal (same host id and journal)", central_reenroll_host},
        {"list-hosts", "", "list enrolled terminals", central_list_hosts},
        {"prune", "--older-than MONTHS", "drop whole monthly event partitions older than MONTHS", central_prune},
        {"verify", "[--host HOSTID] [--escrow DIR [--watermarks DIR]] [--silent-after DURATION] [--format text|json]",
         "verify every terminal's records: chain, MACs with the escrowed seeds, gaps, silence (exit 5: not intact)",
         central_verify},
        {"report",
         "usage|media|exceptions|blocked|mfa|hosts (--fiscal-year Y | --month YYYY-MM | --from D --to D) "
         "[--department D] [--host HOSTID] [--format table|csv|json|html] [--lang ja|en] [--escrow DIR]",
         "the fleet's audit reports, as termguardctl report makes them", central_report},
        {"watch", "[--config FILE]",
         "alert service: database alerts at once, periodic verification, to the journal and AlertCommand=",
         central_watch},
        {"backup", "--out DIR", "dump the database and the CA directory into DIR (new, 0700)", central_backup},
        {"restore", "DIR", "restore a backup into a cluster without the database", central_restore},
};

static void usage(FILE *f) {
        fprintf(f, "Usage: termguard-central [--dsn CONNINFO] [--ca-dir DIR] VERB [OPTIONS]\n\n"
                   "  --dsn CONNINFO  libpq key=value connection of a superuser (default: the local\n"
                   "                  cluster's " CENTRAL_PG_SUPERUSER " role over its Unix socket, as root)\n"
                   "  --ca-dir DIR    the CA directory (default " CENTRAL_DEFAULT_CA_DIR ")\n\nVerbs:\n");
        for (size_t i = 0; i < ELEMENTSOF(verbs); i++)
                fprintf(f, "  %s %s\n      %s\n", verbs[i].name, verbs[i].synopsis, verbs[i].summary);
}

int central_parse(const char *verb_name, int argc, char **argv, central_option *opts, size_t n_opts, int min_args,
                  int max_args, char ***ret_args, int *ret_n) {
        struct option longopts[16] = {};
        int c, idx;

        if (n_opts >= ELEMENTSOF(longopts))
                return -EINVAL;
        for (size_t i = 0; i < n_opts; i++)
                longopts[i] = (struct option){opts[i].name, required_argument, NULL, 0};
        optind = 0; /* a fresh scan of this argument vector (GNU getopt) */
        while ((c = getopt_long(argc, argv, ":", longopts, &idx)) >= 0) {
                switch (c) {
                case 0:
                        if (*opts[idx].value) {
                                fprintf(stderr, "termguard-central %s: --%s given twice\n", verb_name, opts[idx].name);
                                return -EINVAL;
                        }
                        *opts[idx].value = optarg;
                        break;
                case ':':
                        fprintf(stderr, "termguard-central %s: %s needs a value\n", verb_name, argv[optind - 1]);
                        return -EINVAL;
                default:
                        fprintf(stderr, "termguard-central %s: unknown option %s\n", verb_name, argv[optind - 1]);
                        return -EINVAL;
                }
        }
        for (size_t i = 0; i < n_opts; i++)
                if (opts[i].required && !*opts[i].value) {
                        fprintf(stderr, "termguard-central %s: --%s is required\n", verb_name, opts[i].name);
                        return -EINVAL;
                }
        if (argc - optind < min_args || argc - optind > max_args) {
                fprintf(stderr, "termguard-central %s: expects %d to %d arguments\n", verb_name, min_args, max_args);
                return -EINVAL;
        }
        *ret_args = argv + optind;
        *ret_n = argc - optind;
        return 0;
}

int main(int argc, char **argv) {
        static const struct option opts[] = {
                {"help", no_argument, NULL, 'h'},
                {"dsn", required_argument, NULL, 'd'},
                {"ca-dir", required_argument, NULL, 'C'},
                {},
        };
        central_context ctx = {.ca_dir = CENTRAL_DEFAULT_CA_DIR, .sql_dir = TG_CENTRAL_SQL_DIR};
        const char *sql_dir = getenv("TG_CENTRAL_SQL_DIR"); /* tests run from the source tree */
        int c;

        if (sql_dir && *sql_dir)
                ctx.sql_dir = sql_dir;
        while ((c = getopt_long(argc, argv, "+h", opts, NULL)) >= 0) {
                switch (c) {
                case 'h': usage(stdout); return EXIT_SUCCESS;
                case 'd': ctx.dsn = optarg; break;
                case 'C': ctx.ca_dir = optarg; break;
                default: usage(stderr); return 2;
                }
        }
        if (optind >= argc) {
                usage(stderr);
                return 2;
        }
        for (size_t i = 0; i < ELEMENTSOF(verbs); i++) {
                if (strcmp(argv[optind], verbs[i].name) != 0)
                        continue;
                int r = verbs[i].run(&ctx, argc - optind, argv + optind);
                if (r == CENTRAL_EXIT_NOT_INTACT) /* verify's verdict, not an error */
                        return r;
                return r == -EINVAL ? 2 : r < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
        }
        fprintf(stderr, "termguard-central: unknown verb %s\n", argv[optind]);
        usage(stderr);
        return 2;
}
