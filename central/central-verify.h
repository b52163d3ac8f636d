/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <libpq-fe.h>
#include <stdbool.h>
#include <stdint.h>

#include "central.h"
#include "termguard/host-verify.h"

/* Central verification, fleet reports and alerts of termguard-central (central-verify.c,
 * central-report.c, central-watch.c). */

/* verify's exit status when a host is not intact: as termguardctl journal verify's. */
#define CENTRAL_EXIT_NOT_INTACT 5

typedef struct {
        const char *host_id, *department, *hostname; /* as the hosts view holds them */
        uint8_t id[TG_JOURNAL_ID_SIZE];
        int64_t enrolled_usec, last_heartbeat_usec;
        uint64_t known_last_seq;
        /* the newest prune mark: the records up to pruned_through were dropped by retention */
        uint64_t pruned_through;
        uint8_t pruned_head_mac[TG_JOURNAL_MAC_SIZE];
        /* the watermark of an earlier verification (options' watermarks): the chain verified
         * through verified_seq, whose MAC and key K are these; 0: none */
        uint64_t verified_seq;
        uint8_t verified_mac[TG_JOURNAL_MAC_SIZE];
        uint8_t verified_key[TG_JOURNAL_MAC_SIZE];
        bool revoked;
        bool have_seed;
        uint8_t seed[TG_JOURNAL_SEED_SIZE];
} central_host_info;

typedef struct {
        const char *host;   /* one host id, NULL: all */
        const char *escrow; /* the auditors' escrow directory (HOSTID.seed files), NULL: none */
        /* where each host's verification watermark is kept (HOSTID.verified): a host verified
         * before is checked from there on, and an intact host's new watermark written; NULL:
         * every row every time. Needs escrow. */
        const char *watermarks;
        int64_t silent_after_usec; /* 0: TG_HOST_VERIFY_SILENT_AFTER_USEC */
        int64_t now_usec;          /* 0: the database server's now() */
        /* each finding of a host, then the host's result; either may be NULL */
        void (*report)(const central_host_info *h, const tg_host_finding *f, void *userdata);
        void (*done)(const central_host_info *h, const tg_host_verify_result *res, void *userdata);
        void *userdata;
} central_verify_options;

/* Verifies the hosts through the termguard_report views. Returns the number of hosts not
 * intact, or a negative errno (database errors printed; an escrow file that exists but is
 * unusable fails the whole run). */
int central_verify_hosts(PGconn *conn, const central_verify_options *opt);
/* A directory for watermarks: this user's, mode 0700 (a watermark's key forges records like
 * the seed). 0 or a negative errno, printed. */
int central_check_watermark_dir(const char *dir);
/* A UUID in its canonical text form. */
int central_parse_uuid(const char *s, uint8_t ret[TG_JOURNAL_ID_SIZE]);

/* pgaudit for reads of staff records (init). */
int central_configure_audit(const central_context *ctx, PGconn *conn);

int central_verify(const central_context *ctx, int argc, char **argv);
int central_watch(const central_context *ctx, int argc, char **argv);
int central_report(const central_context *ctx, int argc, char **argv);
