/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * One record of the event catalogue, and its hand-over encoding: what pam_termguard.so,
 * termguard-mfa-verify and termguardctl send termguardd over its record socket, and what a
 * root producer writes to the spool when termguardd does not answer. One JSON object:
 *   {"v":1,"id":HEX32,"type":TYPE,"priority":0..7,"time":USEC,"producer":NAME,
 *    "message":TEXT,"fields":{NAME:TEXT,...}[,"sender":{"uid":N,"pid":N,"comm":TEXT}]}
 * "sender" exists only in spool files (written by root, in a directory only root can write);
 * over the socket the daemon takes the sender from the kernel's peer credentials, and a record
 * that claims a sender is refused. Every value is bounded and escaped by the producer and
 * checked again by the reader: the type must be in the catalogue, each field one of its type.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "termguard/event-catalogue.h"
#include "termguard/timeutil.h"

#define TG_RECORD_VERSION 1
#define TG_RECORD_VALUE_MAX 512   /* input bytes of a field value kept before it is cut */
#define TG_RECORD_MESSAGE_MAX 256 /* input bytes of the message kept */
#define TG_RECORD_PRODUCER_MAX 32 /* [A-Za-z0-9._-] */
#define TG_RECORD_COMM_MAX 64     /* escaped: the kernel keeps 15 bytes */
#define TG_RECORD_UNIT_MAX 128
#define TG_RECORD_ID_LEN 32
/* The latest time a record may carry: the end of the year 9999 (UTC), what the central store
 * (PostgreSQL's timestamptz) and every report can hold. A later time would be a record the
 * centre refuses, and the forwarder could never get past it. */
#define TG_RECORD_TIME_MAX (TG_TIME_MAX * 1000000 + 999999) /* µs */
/* Every record fits: escaped values are at most 4 bytes an input byte, plus the JSON around. */
#define TG_RECORD_WIRE_MAX (8 * 1024 + TG_EVENT_FIELDS_MAX * (TG_RECORD_VALUE_MAX * 4 * 2 + 64))

/* Who handed the record in: from SO_PEERCRED (socket), the spool file's owner and what the
 * root producer wrote (spool), or termguardd itself. */
typedef enum {
        TG_RECORD_VIA_DAEMON,
        TG_RECORD_VIA_SOCKET,
        TG_RECORD_VIA_SPOOL,
} tg_record_via;

typedef struct {
        tg_record_via via;
        uid_t uid;
        pid_t pid;
        char comm[TG_RECORD_COMM_MAX + 1]; /* escaped */
        char unit[TG_RECORD_UNIT_MAX + 1]; /* the systemd unit or scope of the sender, escaped; may be "" */
} tg_record_sender;

typedef struct {
        const tg_event_type *event;
        char id[TG_RECORD_ID_LEN + 1]; /* random, to tell a record taken in twice */
        int priority;
        int64_t time; /* µs since the epoch, UTC, as the producer saw it */
        char producer[TG_RECORD_PRODUCER_MAX + 1];
        char *message;
        size_t n_fields;
        struct {
                const char *name; /* the catalogue's string */
                char *value;      /* escaped */
        } fields[TG_EVENT_FIELDS_MAX];
        bool has_sender;
        tg_record_sender sender;
} tg_record;

/* A new record of type: -EINVAL (a programming error) when the catalogue has no such type or
 * producer is not a program name. priority < 0 takes the catalogue's default. The message is
 * escaped and cut. */
int tg_record_init(tg_record *rec, const char *type, int priority, const char *producer, const char *message);
/* Sets field name to value (escaped, cut at TG_RECORD_VALUE_MAX input bytes; NULL leaves the
 * field out): -EINVAL when the type has no such field, -EEXIST when it is set already. */
int tg_record_set(tg_record *rec, const char *name, const char *value);
/* The same for a value that may already be escaped (termguardd's own events pass device strings
 * escaped once): text tg_escape could have written is kept as it is, anything else escaped. */
int tg_record_set_escaped(tg_record *rec, const char *name, const char *value);
/* The value of field name, or NULL. */
const char *tg_record_get(const tg_record *rec, const char *name);
void tg_record_done(tg_record *rec);

/* The record as one JSON line with its newline (free() it); with_sender for the spool. */
int tg_record_encode(const tg_record *rec, bool with_sender, char **ret);
/* Parses what tg_record_encode wrote; anything else (unknown keys, types or fields, values
 * that are not escaped text or too long, a "sender" when !accept_sender) is -EBADMSG with the
 * reason in err. Call tg_record_done() on success only. */
int tg_record_decode(const char *buf, size_t len, bool accept_sender, tg_record *ret, char *err, size_t err_size);

/* The hand-over to termguardd (lib/record-client.c). The record socket is
 * RUNTIME_DIR/record.socket; the spool STATE_DIR/spool (root:root 0700, one file a record,
 * named so that their order is the order they were written). */
#define TG_RECORD_SOCKET "record.socket"
#define TG_RECORD_SPOOL "spool"
/* How long a producer waits for termguardd's answer before it spools. */
#define TG_RECORD_ACK_TIMEOUT_MS 200

typedef enum {
        TG_RECORD_JOURNALED = 0, /* termguardd confirmed it */
        TG_RECORD_SPOOLED = 1,   /* written durably to the spool (root only) */
} tg_record_outcome;

/* Hands rec to termguardd and waits at most TG_RECORD_ACK_TIMEOUT_MS for its confirmation.
 * Without one, a root caller writes it to the spool (fsync'd before this returns). Returns a
 * tg_record_outcome, or a negative errno with the reason in err: -EPERM when termguardd
 * refused the record (not this sender's to submit), the error of reaching termguardd for a
 * caller that is not root (it cannot write the spool), or the spool's error. */
int tg_record_submit(const char *runtime_dir, const char *state_dir, tg_record *rec, char *err, size_t err_size);

/* Spool files (both ends). */
int tg_record_spool_name(const tg_record *rec, char *ret, size_t size);
bool tg_record_spool_name_valid(const char *name);
/* Opens STATE_DIR/spool (creating it when create), which must be a directory of root:root
 * with mode 0700 in a state directory that is root's alone. Returns the fd or -errno. */
int tg_record_spool_open(const char *state_dir, bool create, char *err, size_t err_size);
