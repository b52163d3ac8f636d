/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * The event catalogue: every type of record termguard makes, once, for every producer
 * (termguardd, pam_termguard.so, termguard-mfa-verify, termguardctl). A type has a stable
 * MESSAGE_ID (auditors' journald queries depend on it), a default priority, the senders that
 * may submit it, a schema version and the fields its records may carry. docs/admin-guide.md
 * lists the same table; a unit test fails when the two disagree, and another when a call
 * site names a type or a field that is not here.
 */

#include <stdbool.h>
#include <stddef.h>

/* Who may submit a type. The daemon stamps every record handed to it with the sender's
 * kernel credentials; these say which senders it accepts. */
typedef enum {
        TG_SENDER_DAEMON = 1 << 0, /* termguardd itself */
        TG_SENDER_ROOT = 1 << 1,   /* a root process: the PAM module in sshd/login/su, the helper, termguardctl */
        TG_SENDER_USER = 1 << 2,   /* any local user (the PAM module inside a screen locker) */
} tg_event_senders;

/* A field's name as it appears in records (journald: TERMGUARD_ and the name in capitals,
 * "-" as "_") and what it means. */
typedef struct {
        const char *name;
        const char *meaning;
} tg_event_field;

#define TG_EVENT_FIELDS_MAX 16

typedef struct {
        const char *type;          /* "usb.decision" */
        const char *message_id;    /* 32 lowercase hex digits */
        int priority;              /* syslog priority (LOG_INFO, ...) of the usual case */
        unsigned senders;          /* tg_event_senders */
        unsigned schema;           /* version of this type's fields; raised when their meaning changes */
        const char *when;          /* what the record says happened */
        const char *const *fields; /* names, NULL-terminated; each in the field dictionary */
} tg_event_type;

/* The whole table, n_ret entries, in the order of the documentation. */
const tg_event_type *tg_event_catalogue(size_t *ret_n);
/* The field dictionary, n_ret entries. */
const tg_event_field *tg_event_fields(size_t *ret_n);

/* The entry of type, or NULL when the catalogue has no such type. */
const tg_event_type *tg_event_lookup(const char *type);
/* Whether records of t may carry field. */
bool tg_event_has_field(const tg_event_type *t, const char *field);
/* The meaning of a field in the dictionary, or NULL. */
const char *tg_event_field_meaning(const char *field);
/* Whether a sender of this kind may submit records of t. */
bool tg_event_sender_may(const tg_event_type *t, tg_event_senders sender);

/* The catalogue as the Markdown table docs/admin-guide.md holds between its markers
 * (TG_EVENT_DOCS_BEGIN, TG_EVENT_DOCS_END). Returns a malloc()ed string or NULL. */
#define TG_EVENT_DOCS_BEGIN "<!-- event catalogue: generated from lib/event-catalogue.c -->"
#define TG_EVENT_DOCS_END "<!-- end of event catalogue -->"
char *tg_event_catalogue_markdown(void);
