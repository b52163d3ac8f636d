/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* termguard-forwarder: ships the audit journal's records to the central store (PostgreSQL,
 * termguard.ingest) and tells termguardd what was committed. Its parts, each testable alone:
 * batch.c (records as the central contract's JSON, batches bounded by count and bytes, read
 * from a cursor), central.c (central.conf and the database: one transaction per batch),
 * backoff.c (waits while the centre is unreachable). */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "termguard/central.h"
#include "termguard/journal.h"

/* A batch is one ingest call: bounded so that one transaction stays short and one failed
 * send costs little to repeat. One record always fits (its JSON is under BATCH_BYTES_MAX). */
#define FWD_BATCH_RECORDS_MAX 500
#define FWD_BATCH_BYTES_MAX (4 * 1024 * 1024)

typedef struct {
        json_object *array; /* the records, in seq order */
        size_t n, bytes;    /* records, and the bytes of their JSON text */
        size_t max_records, max_bytes;
        uint64_t first_seq, last_seq;
} fwd_batch;

/* max_records/max_bytes 0: the defaults above. */
int fwd_batch_init(fwd_batch *b, size_t max_records, size_t max_bytes);
void fwd_batch_done(fwd_batch *b);
/* Drops the records (after a commit), keeps the bounds. */
void fwd_batch_clear(fwd_batch *b);

/* The record as the contract's JSON object (docs/central-contract in the admin guide):
 * seq, boot_id, time_usec, clock, priority, type, uid, pid, comm, unit, fields as [key, value]
 * pairs in record order, prev_mac and mac in hex, raw the record's exact bytes in base64. */
int fwd_record_json(const tg_journal_record *rec, const uint8_t *raw, size_t raw_len, json_object **ret);

/* Adds the record: 1 when added, 0 when the batch is full (nothing added; send it first),
 * -EINVAL for a record that is not after the last one added. */
int fwd_batch_add(fwd_batch *b, const tg_journal_record *rec, const uint8_t *raw, size_t raw_len);
/* The batch as the text of the ingest function's jsonb argument (owned by the batch). */
const char *fwd_batch_text(fwd_batch *b);

/* What reading the journal found besides records. */
typedef struct {
        uint64_t corrupt;       /* records the reader refused (skipped: the centre sees the gap) */
        char corrupt_where[96]; /* file:offset of the last one */
} fwd_read_notes;

/* Fills b with the records after seq cursor from the journal in dir, in seq order, until the
 * batch is full or the journal ends. Returns the number added or a negative errno. */
int fwd_batch_fill(fwd_batch *b, const char *dir, uint64_t cursor, fwd_read_notes *notes);

/* Backoff while the centre or the daemon is unreachable: 1 s doubling to 5 min, each wait
 * drawn at random from its upper half so that a fleet that lost the centre together does not
 * come back together. */
#define FWD_BACKOFF_MIN_USEC (UINT64_C(1) * 1000000)
#define FWD_BACKOFF_MAX_USEC (UINT64_C(300) * 1000000)
typedef struct {
        uint64_t ceiling; /* 0: no failure yet */
} fwd_backoff;
/* The next wait after a failure; random is a uniform draw (tests pass their own). */
uint64_t fwd_backoff_next(fwd_backoff *b, uint64_t random);
void fwd_backoff_reset(fwd_backoff *b);

typedef struct fwd_central fwd_central;
/* Connects with TLS (verify-full against ca, client certificate cert/key): 0 or -ECONNREFUSED
 * etc. with the server's or libpq's reason in err. */
int fwd_central_connect(const tg_central_config *cfg, const char *ca, const char *cert, const char *key,
                        fwd_central **ret, char *err, size_t err_size);
void fwd_central_free(fwd_central *c);
/* Whether a kept connection can still carry a batch: false when the server has closed it
 * meanwhile (restarted, ended the session, timed it out), which shows without sending
 * anything as an end of stream or a FATAL message waiting to be read. */
bool fwd_central_usable(fwd_central *c);
/* Sends the batch in one transaction: SELECT termguard.ingest($1::jsonb), then COMMIT.
 * 0 only when COMMIT succeeded (the new records' count in ret_stored); otherwise nothing may
 * be taken as stored and the connection should be dropped. */
int fwd_central_send(fwd_central *c, fwd_batch *b, int64_t *ret_stored, char *err, size_t err_size);
