/* SPDX-License-Identifier: GPL-2.0-or-later */
#define _GNU_SOURCE
#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "termguard/control-proto.h"
#include "termguard/escape.h"
#include "termguard/json-util.h"
#include "termguard/macro.h"
#include "termguard/register.h"
#include "termguard/timeutil.h"
#include "termguard/token.h"

/* T_MAP: an object whose values are all strings, at most TG_CTL_MAP_MAX of them. */
typedef enum { T_STRING, T_INT, T_BOOL, T_LIST, T_MAP } field_type;
#define TG_CTL_MAP_MAX 64

/* How a request argument is checked beyond its JSON type. */
typedef enum {
        CHECK_NONE,
        CHECK_HEX16,
        CHECK_MODE,
        CHECK_TIME,
        CHECK_POSITIVE,
        CHECK_SESSION_ID,
        CHECK_TOKEN_KIND,
        CHECK_IDLE_MS,
        CHECK_COUNT, /* an integer >= 0 */
        CHECK_ONE_LINE
} field_check;

typedef struct {
        tg_ctl_field field;
        bool optional;
} member;
/* F: a field that is always there; OPT: one that may be missing. */
#define F(f)                                                                                                           \
        { .field = (f), .optional = false }
#define OPT(f)                                                                                                         \
        { .field = (f), .optional = true }
#define END F(_TG_F_MAX)

typedef struct {
        const char *name;
        field_type type;
        size_t max;        /* request strings: longest accepted, in bytes */
        field_check check; /* request arguments */
        const char *expect;
        const member *items; /* lists: the fields of each element */
} field_info;

static const member interface_members[] = {
        F(TG_F_CONFIG), F(TG_F_INTERFACE), F(TG_F_CLASS), F(TG_F_CLASS_NAME), F(TG_F_ALLOWED), F(TG_F_REASON), END,
};
static const member device_members[] = {
        F(TG_F_DEVICE),
        F(TG_F_VID),
        F(TG_F_PID),
        F(TG_F_SERIAL),
        F(TG_F_MANUFACTURER),
        F(TG_F_PRODUCT),
        F(TG_F_DESCRIPTOR_SHA256),
        F(TG_F_AUTHORIZED),
        F(TG_F_STORAGE),
        F(TG_F_LABEL),
        F(TG_F_EXCEPTION),
        F(TG_F_REASON),
        F(TG_F_INTERFACES),
        END,
};
static const member medium_members[] = {
        F(TG_F_LABEL),    F(TG_F_VID),      F(TG_F_PID), F(TG_F_SERIAL), F(TG_F_DEPARTMENT), F(TG_F_MODE),
        F(TG_F_ADDED_BY), F(TG_F_ADDED_AT), END,
};
static const member exception_members[] = {
        F(TG_F_ID),           F(TG_F_LABEL),        F(TG_F_UNTIL), F(TG_F_STATE),      F(TG_F_APPROVER),
        F(TG_F_REASON),       F(TG_F_TICKET),       F(TG_F_USER),  F(TG_F_GRANTED_BY), F(TG_F_GRANTED_AT),
        OPT(TG_F_REVOKED_AT), OPT(TG_F_REVOKED_BY), END,
};

static const member session_members[] = {
        F(TG_F_SESSION),
        F(TG_F_USER),
        F(TG_F_SESSION_TYPE),
        F(TG_F_SEAT),
        F(TG_F_TTY),
        F(TG_F_REMOTE),
        F(TG_F_IDLE),
        F(TG_F_IDLE_SINCE),
        F(TG_F_LOCKED),
        F(TG_F_STATE),
        F(TG_F_LOCK_AFTER),
        F(TG_F_DEADLINE),
        F(TG_F_LOGOFF_AT),
        OPT(TG_F_HELPER_REPORT_AT),
        END,
};

static const member record_members[] = {
        F(TG_F_SEQ),  F(TG_F_TIME),   F(TG_F_CLOCK), F(TG_F_EVENT_TYPE), F(TG_F_PRIORITY), F(TG_F_UID),
        F(TG_F_COMM), F(TG_F_FIELDS), END,
};

static const member token_members[] = {
        F(TG_F_LABEL), F(TG_F_KIND),     F(TG_F_VID),      F(TG_F_PID), F(TG_F_SERIAL),
        F(TG_F_OWNER), F(TG_F_ADDED_BY), F(TG_F_ADDED_AT), END,
};

#define HEX16_EXPECT(example) "expected 4 hex digits, e.g. " example
static const field_info fields[_TG_F_MAX] = {
        [TG_F_VID] = {.name = "vid", .type = T_STRING, .max = 4, .check = CHECK_HEX16, .expect = HEX16_EXPECT("0951")},
        [TG_F_PID] = {.name = "pid", .type = T_STRING, .max = 4, .check = CHECK_HEX16, .expect = HEX16_EXPECT("1666")},
        [TG_F_SERIAL] = {.name = "serial", .type = T_STRING, .max = TG_SERIAL_MAX},
        [TG_F_LABEL] = {.name = "label", .type = T_STRING, .max = TG_LABEL_MAX},
        [TG_F_DEPARTMENT] = {.name = "department", .type = T_STRING, .max = TG_NAME_MAX},
        [TG_F_MODE] = {.name = "mode",
                       .type = T_STRING,
                       .max = 16,
                       .check = CHECK_MODE,
                       .expect = "expected read-only, read-write or blocked"},
        [TG_F_UNTIL] =
                {.name = "until",
                 .type = T_STRING,
                 .max = 64,
                 .check = CHECK_TIME,
                 .expect =
                         "expected an ISO 8601 time with zone, e.g. 2026-12-01T17:00:00Z or 2026-12-01T17:00:00+09:00"},
        [TG_F_APPROVER] = {.name = "approver", .type = T_STRING, .max = TG_NAME_MAX},
        [TG_F_REASON] = {.name = "reason", .type = T_STRING, .max = TG_REASON_MAX},
        [TG_F_TICKET] = {.name = "ticket", .type = T_STRING, .max = TG_NAME_MAX},
        [TG_F_USER] = {.name = "user", .type = T_STRING, .max = TG_USER_MAX},
        [TG_F_ID] = {.name = "id",
                     .type = T_INT,
                     .max = 0,
                     .check = CHECK_POSITIVE,
                     .expect = "expected the exception's number (see exception list)"},
        [TG_F_VERSION] = {.name = "version", .type = T_STRING},
        [TG_F_PROCESS_ID] = {.name = "pid", .type = T_INT},
        [TG_F_STARTED_AT] = {.name = "started_at", .type = T_STRING},
        [TG_F_CONFIG_ROOT] = {.name = "config_root", .type = T_STRING},
        [TG_F_STATE_DIRECTORY] = {.name = "state_directory", .type = T_STRING},
        [TG_F_ADMIN_GROUP] = {.name = "admin_group", .type = T_STRING},
        [TG_F_CONTROLLERS_LOCKED] = {.name = "controllers_locked", .type = T_INT},
        [TG_F_DEVICE_COUNT] = {.name = "devices", .type = T_INT},
        [TG_F_MEDIA_REGISTERED] = {.name = "media_registered", .type = T_INT},
        [TG_F_EXCEPTIONS_ACTIVE] = {.name = "exceptions_active", .type = T_INT},
        [TG_F_NEXT_EXPIRY] = {.name = "next_expiry", .type = T_STRING},
        [TG_F_UDEV_RUNNING] = {.name = "udev_running", .type = T_BOOL},
        [TG_F_LAST_RELOAD_AT] = {.name = "last_reload_at", .type = T_STRING},
        [TG_F_LAST_RELOAD_ERROR] = {.name = "last_reload_error", .type = T_STRING},
        [TG_F_JOURNAL] = {.name = "journal", .type = T_STRING},
        [TG_F_JOURNAL_USED] = {.name = "journal_used_bytes", .type = T_INT},
        [TG_F_JOURNAL_MAX] = {.name = "journal_max_bytes", .type = T_INT},
        [TG_F_JOURNAL_NEXT_SEQ] = {.name = "journal_next_seq", .type = T_INT},
        /* -1: the spool cannot be read */
        [TG_F_SPOOL_WAITING] = {.name = "spool_waiting", .type = T_INT},
        [TG_F_DEVICES] = {.name = "devices", .type = T_LIST, .items = device_members},
        [TG_F_MEDIA] = {.name = "media", .type = T_LIST, .items = medium_members},
        [TG_F_EXCEPTIONS] = {.name = "exceptions", .type = T_LIST, .items = exception_members},
        [TG_F_INTERFACES] = {.name = "interfaces", .type = T_LIST, .items = interface_members},
        [TG_F_DEVICE] = {.name = "device", .type = T_STRING},
        [TG_F_MANUFACTURER] = {.name = "manufacturer", .type = T_STRING},
        [TG_F_PRODUCT] = {.name = "product", .type = T_STRING},
        [TG_F_DESCRIPTOR_SHA256] = {.name = "descriptor_sha256", .type = T_STRING},
        [TG_F_AUTHORIZED] = {.name = "authorized", .type = T_BOOL},
        [TG_F_STORAGE] = {.name = "storage", .type = T_STRING},
        [TG_F_EXCEPTION] = {.name = "exception", .type = T_INT},
        [TG_F_CONFIG] = {.name = "config", .type = T_INT},
        [TG_F_INTERFACE] = {.name = "interface", .type = T_INT},
        [TG_F_CLASS] = {.name = "class", .type = T_STRING},
        [TG_F_CLASS_NAME] = {.name = "class_name", .type = T_STRING},
        [TG_F_ALLOWED] = {.name = "allowed", .type = T_BOOL},
        [TG_F_ADDED_BY] = {.name = "added_by", .type = T_STRING},
        [TG_F_ADDED_AT] = {.name = "added_at", .type = T_STRING},
        [TG_F_STATE] = {.name = "state", .type = T_STRING},
        [TG_F_GRANTED_BY] = {.name = "granted_by", .type = T_STRING},
        [TG_F_GRANTED_AT] = {.name = "granted_at", .type = T_STRING},
        [TG_F_REVOKED_AT] = {.name = "revoked_at", .type = T_STRING},
        [TG_F_REVOKED_BY] = {.name = "revoked_by", .type = T_STRING},
        [TG_F_SESSION] = {.name = "session",
                          .type = T_STRING,
                          .max = 64,
                          .check = CHECK_SESSION_ID,
                          .expect = "expected a logind session id (see termguardctl status)"},
        [TG_F_ALL] = {.name = "all", .type = T_BOOL, .expect = "expected true"},
        [TG_F_LOCK_REQUESTED] = {.name = "lock_requested", .type = T_INT},
        [TG_F_IDLE_LOCK] = {.name = "idle_lock", .type = T_STRING},
        [TG_F_SESSIONS] = {.name = "sessions", .type = T_LIST, .items = session_members},
        [TG_F_SESSION_TYPE] = {.name = "type", .type = T_STRING},
        [TG_F_SEAT] = {.name = "seat", .type = T_STRING},
        [TG_F_TTY] = {.name = "tty", .type = T_STRING},
        [TG_F_REMOTE] = {.name = "remote", .type = T_BOOL},
        [TG_F_IDLE] = {.name = "idle", .type = T_BOOL},
        [TG_F_IDLE_SINCE] = {.name = "idle_since", .type = T_STRING},
        [TG_F_LOCKED] = {.name = "locked", .type = T_BOOL},
        [TG_F_LOCK_AFTER] = {.name = "lock_after", .type = T_INT},
        [TG_F_DEADLINE] = {.name = "deadline", .type = T_STRING},
        [TG_F_LOGOFF_AT] = {.name = "logoff_at", .type = T_STRING},
        [TG_F_KIND] = {.name = "kind",
                       .type = T_STRING,
                       .max = 16,
                       .check = CHECK_TOKEN_KIND,
                       .expect = "expected security-key or card-reader"},
        [TG_F_OWNER] = {.name = "owner", .type = T_STRING, .max = TG_USER_MAX},
        [TG_F_TOKENS] = {.name = "tokens", .type = T_LIST, .items = token_members},
        [TG_F_IDLE_MS] = {.name = "idle_ms",
                          .type = T_INT,
                          .check = CHECK_IDLE_MS,
                          .expect = "expected milliseconds of input idle time, 0 to 604800000"},
        [TG_F_REPORT_INTERVAL_MS] = {.name = "report_interval_ms", .type = T_INT},
        [TG_F_HELPER_REPORT_AT] = {.name = "helper_report_at", .type = T_STRING},
        [TG_F_SINCE] =
                {.name = "since",
                 .type = T_STRING,
                 .max =
                         64,
                 .check = CHECK_TIME,
                 .expect =
                         "expected an ISO 8601 time with zone, e.g. 2026-12-01T17:00:00Z or 2026-12-01T17:00:00+09:00"},
        [TG_F_RECORDS] = {.name = "records", .type = T_LIST, .items = record_members},
        /* the oldest seq looked at: older records were not searched */
        [TG_F_SCANNED_FROM] = {.name = "scanned_from", .type = T_INT},
        /* more records matched than one reply carries: the newest are in it */
        [TG_F_TRUNCATED] = {.name = "truncated", .type = T_BOOL},
        [TG_F_TIME] = {.name = "time_usec", .type = T_INT},
        [TG_F_CLOCK] = {.name = "clock", .type = T_STRING},
        [TG_F_EVENT_TYPE] = {.name = "type", .type = T_STRING},
        [TG_F_PRIORITY] = {.name = "priority", .type = T_INT},
        [TG_F_UID] = {.name = "uid", .type = T_INT},
        [TG_F_COMM] = {.name = "comm", .type = T_STRING},
        [TG_F_FIELDS] = {.name = "fields", .type = T_MAP},
        [TG_F_SEQ] = {.name = "seq",
                      .type = T_INT,
                      .check = CHECK_POSITIVE,
                      .expect = "expected the seq of the last record committed centrally"},
        [TG_F_LAST_COMMIT_USEC] = {.name = "last_commit_usec",
                                   .type = T_INT,
                                   .check = CHECK_COUNT,
                                   .expect = "expected microseconds since the epoch, 0 for never"},
        [TG_F_PENDING] = {.name = "pending", .type = T_INT, .check = CHECK_COUNT, .expect = "expected a count"},
        [TG_F_LAST_ERROR] = {.name = "last_error",
                             .type = T_STRING,
                             .max = TG_CTL_FORWARDER_ERROR_MAX,
                             .check = CHECK_ONE_LINE,
                             .expect = "expected one line of text"},
        [TG_F_FORWARDED_SEQ] = {.name = "forwarded_seq", .type = T_INT},
        [TG_F_JOURNAL_FORWARDED_SEQ] = {.name = "journal_forwarded_seq", .type = T_INT},
        [TG_F_JOURNAL_PENDING] = {.name = "journal_pending", .type = T_INT},
        [TG_F_FORWARDER_REPORT_AT] = {.name = "forwarder_report_at", .type = T_STRING},
        [TG_F_FORWARDER_LAST_COMMIT_AT] = {.name = "forwarder_last_commit_at", .type = T_STRING},
        [TG_F_FORWARDER_LAST_ERROR] = {.name = "forwarder_last_error", .type = T_STRING},
        [TG_F_JOURNAL_MAX_AGE] = {.name = "journal_max_age", .type = T_INT},
        [TG_F_JOURNAL_OLDEST_SEQ] = {.name = "journal_oldest_seq", .type = T_INT},
        [TG_F_JOURNAL_OLDEST_AT] = {.name = "journal_oldest_at", .type = T_STRING},
        [TG_F_JOURNAL_PRUNED_THROUGH] = {.name = "journal_pruned_through", .type = T_INT},
        [TG_F_JOURNAL_NEXT_PRUNE_AT] = {.name = "journal_next_prune_at", .type = T_STRING},
        [TG_F_JOURNAL_PRUNE_ERROR] = {.name = "journal_prune_error", .type = T_STRING},
        /* session-notify: the helper measures no idle time (Wayland) and sends no reports */
        [TG_F_NOTIFY_ONLY] = {.name = "notify_only", .type = T_BOOL, .expect = "expected true"},
};

/* The commands: arguments (in the order they are checked) and the fields of an ok reply. */
static const struct {
        const char *name;
        const member *args;
        const member *reply;
} commands[_TG_CTL_COMMAND_MAX] = {
        [TG_CTL_STATUS] = {"status", (const member[]){END},
                           (const member[]){F(TG_F_VERSION),
                                            F(TG_F_PROCESS_ID),
                                            F(TG_F_STARTED_AT),
                                            F(TG_F_CONFIG_ROOT),
                                            F(TG_F_STATE_DIRECTORY),
                                            F(TG_F_ADMIN_GROUP),
                                            F(TG_F_CONTROLLERS_LOCKED),
                                            F(TG_F_DEVICE_COUNT),
                                            F(TG_F_MEDIA_REGISTERED),
                                            F(TG_F_EXCEPTIONS_ACTIVE),
                                            OPT(TG_F_NEXT_EXPIRY),
                                            F(TG_F_UDEV_RUNNING),
                                            F(TG_F_LAST_RELOAD_AT),
                                            F(TG_F_LAST_RELOAD_ERROR),
                                            F(TG_F_JOURNAL),
                                            F(TG_F_JOURNAL_USED),
                                            F(TG_F_JOURNAL_MAX),
                                            F(TG_F_JOURNAL_NEXT_SEQ),
                                            F(TG_F_SPOOL_WAITING),
                                            F(TG_F_JOURNAL_FORWARDED_SEQ),
                                            F(TG_F_JOURNAL_PENDING),
                                            F(TG_F_FORWARDER_REPORT_AT),
                                            F(TG_F_FORWARDER_LAST_COMMIT_AT),
                                            F(TG_F_FORWARDER_LAST_ERROR),
                                            F(TG_F_JOURNAL_MAX_AGE),
                                            OPT(TG_F_JOURNAL_OLDEST_SEQ),
                                            OPT(TG_F_JOURNAL_OLDEST_AT),
                                            OPT(TG_F_JOURNAL_PRUNED_THROUGH),
                                            F(TG_F_JOURNAL_NEXT_PRUNE_AT),
                                            F(TG_F_JOURNAL_PRUNE_ERROR),
                                            F(TG_F_IDLE_LOCK),
                                            F(TG_F_SESSIONS),
                                            END}},
        [TG_CTL_DEVICES] = {"devices", (const member[]){END}, (const member[]){F(TG_F_DEVICES), END}},
        [TG_CTL_MEDIA_LIST] = {"media-list", (const member[]){END}, (const member[]){F(TG_F_MEDIA), END}},
        [TG_CTL_MEDIA_ADD] = {"media-add",
                              (const member[]){F(TG_F_VID), F(TG_F_PID), F(TG_F_SERIAL), F(TG_F_LABEL),
                                               OPT(TG_F_DEPARTMENT), OPT(TG_F_MODE), END},
                              (const member[]){END}},
        [TG_CTL_MEDIA_REMOVE] = {"media-remove", (const member[]){F(TG_F_LABEL), END}, (const member[]){END}},
        [TG_CTL_EXCEPTION_LIST] = {"exception-list", (const member[]){END}, (const member[]){F(TG_F_EXCEPTIONS), END}},
        [TG_CTL_EXCEPTION_GRANT] = {"exception-grant",
                                    (const member[]){F(TG_F_LABEL), F(TG_F_UNTIL), F(TG_F_APPROVER), F(TG_F_REASON),
                                                     OPT(TG_F_TICKET), OPT(TG_F_USER), END},
                                    (const member[]){F(TG_F_ID), END}},
        [TG_CTL_EXCEPTION_REVOKE] = {"exception-revoke", (const member[]){F(TG_F_ID), END}, (const member[]){END}},
        /* exactly one of session and all (the daemon checks) */
        [TG_CTL_LOCK] = {"lock", (const member[]){OPT(TG_F_SESSION), OPT(TG_F_ALL), END},
                         (const member[]){F(TG_F_LOCK_REQUESTED), END}},
        [TG_CTL_TOKEN_LIST] = {"token-list", (const member[]){END}, (const member[]){F(TG_F_TOKENS), END}},
        [TG_CTL_TOKEN_ADD] = {"token-add",
                              (const member[]){F(TG_F_LABEL), F(TG_F_KIND), F(TG_F_VID), F(TG_F_PID), OPT(TG_F_SERIAL),
                                               OPT(TG_F_OWNER), END},
                              (const member[]){END}},
        [TG_CTL_TOKEN_REMOVE] = {"token-remove", (const member[]){F(TG_F_LABEL), END}, (const member[]){END}},
        /* termguard-session: the input idle time of the caller's own session */
        [TG_CTL_SESSION_IDLE] = {"session-idle", (const member[]){F(TG_F_SESSION), F(TG_F_IDLE_MS), END},
                                 (const member[]){F(TG_F_REPORT_INTERVAL_MS), END}},
        /* termguardctl log for staff: the caller's own records (the daemon knows who asks) */
        [TG_CTL_LOG_OWN] = {"log-own", (const member[]){OPT(TG_F_SINCE), OPT(TG_F_UNTIL), END},
                            (const member[]){F(TG_F_RECORDS), F(TG_F_SCANNED_FROM), F(TG_F_TRUNCATED), END}},
        /* termguard-forwarder: every record up to seq is committed centrally (root or the
         * forwarder's user only, the daemon checks); the reply is the mark now */
        [TG_CTL_JOURNAL_FORWARDED] = {"journal.forwarded", (const member[]){F(TG_F_SEQ), END},
                                      (const member[]){F(TG_F_FORWARDED_SEQ), F(TG_F_JOURNAL_NEXT_SEQ), END}},
        /* termguard-forwarder: its state, for termguardctl status */
        [TG_CTL_FORWARDER_STATUS] = {"forwarder.status",
                                     (const member[]){F(TG_F_LAST_COMMIT_USEC), F(TG_F_PENDING), F(TG_F_LAST_ERROR),
                                                      END},
                                     (const member[]){F(TG_F_FORWARDED_SEQ), F(TG_F_JOURNAL_NEXT_SEQ), END}},
        /* termguard-session: notices for the caller's own session; after the ok reply the
         * connection stays open and carries notices (termguard/notice.h). notify_only: the
         * helper of a session whose idle time it cannot see (Wayland): the daemon takes no
         * idle report for the session from then on */
        [TG_CTL_SESSION_NOTIFY] = {"session-notify", (const member[]){F(TG_F_SESSION), OPT(TG_F_NOTIFY_ONLY), END},
                                   (const member[]){END}},
};

static const char *const error_codes[_TG_CTL_ERR_MAX] = {
        [TG_CTL_ERR_INVALID] = "invalid",     [TG_CTL_ERR_PERMISSION_DENIED] = "permission-denied",
        [TG_CTL_ERR_NOT_FOUND] = "not-found", [TG_CTL_ERR_IO] = "io",
        [TG_CTL_ERR_INTERNAL] = "internal",
};

static bool valid_command(tg_ctl_command c) {
        return c >= 0 && c < _TG_CTL_COMMAND_MAX;
}

static bool valid_field(tg_ctl_field f) {
        return f >= 0 && f < _TG_F_MAX;
}

const char *tg_ctl_command_to_string(tg_ctl_command c) {
        return valid_command(c) ? commands[c].name : NULL;
}

tg_ctl_command tg_ctl_command_from_string(const char *s) {
        for (size_t i = 0; s && i < ELEMENTSOF(commands); i++)
                if (strcmp(commands[i].name, s) == 0)
                        return (tg_ctl_command) i;
        return _TG_CTL_COMMAND_INVALID;
}

const char *tg_ctl_field_name(tg_ctl_field f) {
        return valid_field(f) ? fields[f].name : NULL;
}

static const member *find_member(const member *list, const char *name) {
        for (const member *m = list; m->field != _TG_F_MAX; m++)
                if (strcmp(fields[m->field].name, name) == 0)
                        return m;
        return NULL;
}

bool tg_ctl_command_takes(tg_ctl_command c, tg_ctl_field f) {
        if (!valid_command(c) || !valid_field(f))
                return false;
        for (const member *m = commands[c].args; m->field != _TG_F_MAX; m++)
                if (m->field == f)
                        return true;
        return false;
}

void tg_ctl_request_init(tg_ctl_request *req, tg_ctl_command c) {
        *req = (tg_ctl_request){.command = c};
}

void tg_ctl_request_done(tg_ctl_request *req) {
        if (!req)
                return;
        json_object_put(req->json);
        req->json = NULL;
}

static int parse_positive(const char *s, int64_t *ret) {
        char *end;
        long long v;
        if (!s || !isdigit((unsigned char) s[0]))
                return -EINVAL;
        errno = 0;
        v = strtoll(s, &end, 10);
        if (errno || *end || v <= 0)
                return -EINVAL;
        *ret = v;
        return 0;
}

int tg_ctl_request_set(tg_ctl_request *req, tg_ctl_field f, const char *value) {
        assert_return(req && value, -EINVAL);
        if (!tg_ctl_command_takes(req->command, f))
                return -EINVAL;
        if (req->has[f])
                return -EEXIST;
        if (fields[f].type == T_INT) {
                int64_t v = 0;
                /* an idle time may be 0; ids and counts may not */
                bool zero =
                        (fields[f].check == CHECK_IDLE_MS || fields[f].check == CHECK_COUNT) && strcmp(value, "0") == 0;
                if (!zero && parse_positive(value, &v) < 0)
                        return -EINVAL;
                if (fields[f].check == CHECK_IDLE_MS && v > TG_CTL_IDLE_MS_MAX)
                        return -EINVAL;
                req->num[f] = v;
        } else if (fields[f].type == T_BOOL) {
                if (strcmp(value, "true") != 0)
                        return -EINVAL;
                req->num[f] = 1;
        } else
                req->str[f] = value;
        req->has[f] = true;
        return 0;
}

static int to_line(json_object *o, char **ret) {
        const char *text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
        char *line;
        if (!text || asprintf(&line, "%s\n", text) < 0)
                return -ENOMEM;
        *ret = line;
        return 0;
}

int tg_ctl_request_encode(const tg_ctl_request *req, char **ret) {
        json_object *o;
        int r;

        assert_return(req && ret && valid_command(req->command), -EINVAL);
        o = json_object_new_object();
        if (!o)
                return -ENOMEM;
        json_object_object_add(o, "command", json_object_new_string(commands[req->command].name));
        for (const member *m = commands[req->command].args; m->field != _TG_F_MAX; m++) {
                if (!req->has[m->field])
                        continue;
                if (fields[m->field].type == T_INT)
                        json_object_object_add(o, fields[m->field].name, json_object_new_int64(req->num[m->field]));
                else if (fields[m->field].type == T_BOOL)
                        json_object_object_add(o, fields[m->field].name, json_object_new_boolean(1));
                else
                        json_object_object_add(o, fields[m->field].name, json_object_new_string(req->str[m->field]));
        }
        r = to_line(o, ret);
        json_object_put(o);
        return r;
}

static int fail(char *err, size_t err_size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(char *err, size_t err_size, const char *fmt, ...) {
        va_list ap;
        if (err && err_size) {
                va_start(ap, fmt);
                vsnprintf(err, err_size, fmt, ap);
                va_end(ap);
        }
        return -EINVAL;
}

/* Only for the error text: hostile names are cut and shown without control characters. */
static void quote(const char *s, char *buf, size_t size) {
        size_t o = 0;
        for (; *s && o + 5 < size; s++) {
                unsigned char c = (unsigned char) *s;
                if (c < 0x20 || c >= 0x7f || c == '"' || c == '\\')
                        o += (size_t) snprintf(buf + o, size - o, "\\x%02x", c);
                else
                        buf[o++] = (char) c;
        }
        buf[o] = '\0';
}

static int check_argument(const field_info *fi, json_object *v, tg_ctl_request *req, tg_ctl_field f, char *err,
                          size_t err_size) {
        const char *s;
        size_t len;

        if (fi->type == T_INT) {
                int64_t min = fi->check == CHECK_IDLE_MS || fi->check == CHECK_COUNT ? 0 : 1;
                int64_t max = fi->check == CHECK_IDLE_MS ? TG_CTL_IDLE_MS_MAX : INT64_MAX;
                if (!json_object_is_type(v, json_type_int) || (req->num[f] = json_object_get_int64(v)) < min ||
                    req->num[f] > max)
                        return fail(err, err_size, "%s: %s", fi->name, fi->expect);
                return 0;
        }
        /* Flags: present means true; false is no way of saying "not given". */
        if (fi->type == T_BOOL) {
                if (!json_object_is_type(v, json_type_boolean) || !json_object_get_boolean(v))
                        return fail(err, err_size, "%s: %s", fi->name, fi->expect);
                req->num[f] = 1;
                return 0;
        }
        if (!json_object_is_type(v, json_type_string))
                return fail(err, err_size, "%s: expected a string", fi->name);
        s = json_object_get_string(v);
        len = (size_t) json_object_get_string_len(v);
        /* Embedded NULs would make what is checked differ from what is stored. */
        if (strlen(s) != len)
                return fail(err, err_size, "%s: contains a NUL byte", fi->name);
        req->str[f] = s;
        switch (fi->check) {
        case CHECK_HEX16:
                /* exactly four hex digits: strtoul alone would take "0x51", " fff" or "+fff" */
                if (len != 4)
                        return fail(err, err_size, "%s: %s", fi->name, fi->expect);
                for (size_t i = 0; i < 4; i++)
                        if (!isxdigit((unsigned char) s[i]))
                                return fail(err, err_size, "%s: %s", fi->name, fi->expect);
                req->num[f] = (int64_t) strtoul(s, NULL, 16);
                return 0;
        case CHECK_MODE: {
                tg_mode mode;
                if (tg_mode_from_string(s, &mode) < 0)
                        return fail(err, err_size, "%s: %s", fi->name, fi->expect);
                req->num[f] = mode;
                return 0;
        }
        case CHECK_TIME:
                if (tg_parse_iso8601(s, &req->num[f]) < 0)
                        return fail(err, err_size, "%s: %s", fi->name, fi->expect);
                return 0;
        case CHECK_TOKEN_KIND: {
                tg_token_kind kind;
                if (tg_token_kind_from_string(s, &kind) < 0)
                        return fail(err, err_size, "%s: %s", fi->name, fi->expect);
                req->num[f] = kind;
                return 0;
        }
        case CHECK_ONE_LINE:
                /* shown by status: no control characters, valid UTF-8 (it may quote a server) */
                if (len > fi->max || !tg_text_is_escaped(s, len))
                        return fail(err, err_size, "%s: %s", fi->name, fi->expect);
                return 0;
        case CHECK_SESSION_ID:
                /* logind's ids: letters, digits, "_" and "-" */
                if (len == 0 || len > fi->max ||
                    strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") != len)
                        return fail(err, err_size, "%s: %s", fi->name, fi->expect);
                return 0;
        default:
                if (len > fi->max)
                        return fail(err, err_size, "%s: longer than the register allows (%zu bytes)", fi->name,
                                    fi->max);
                return 0;
        }
}

int tg_ctl_request_decode(const char *buf, size_t len, tg_ctl_request *ret, char *err, size_t err_size) {
        _cleanup_json_tokener_ struct json_tokener *tok = NULL;
        json_object *o, *v;
        const char *command;
        char q[80];

        assert_return(ret && (buf || len == 0), -EINVAL);
        *ret = (tg_ctl_request){.command = _TG_CTL_COMMAND_INVALID};
        if (len > TG_CTL_REQUEST_MAX)
                return fail(err, err_size, "request larger than %d bytes", TG_CTL_REQUEST_MAX);
        /* Requests are flat: a little depth is all a valid one needs. */
        tok = json_tokener_new_ex(8);
        if (!tok)
                return -ENOMEM;
        o = len > INT32_MAX ? NULL : json_tokener_parse_ex(tok, buf ? buf : "", (int) len);
        if (o && json_tokener_get_error(tok) == json_tokener_success)
                for (size_t i = json_tokener_get_parse_end(tok); i < len; i++)
                        if (!isspace((unsigned char) buf[i])) {
                                json_object_put(o);
                                o = NULL;
                                break;
                        }
        if (!o || !json_object_is_type(o, json_type_object)) {
                json_object_put(o);
                return fail(err, err_size, "request is not a JSON object");
        }
        ret->json = o;
        if (tg_json_get_string_ref(o, "command", TG_JSON_REQUIRED, TG_CTL_REQUEST_MAX, &command, NULL, 0) < 0)
                return fail(err, err_size, "missing command");
        ret->command = tg_ctl_command_from_string(command);
        if (ret->command < 0) {
                quote(command, q, sizeof(q));
                return fail(err, err_size, "unknown command \"%s\"", q);
        }
        json_object_object_foreach(o, key, val) {
                (void) val;
                if (strcmp(key, "command") != 0 && !find_member(commands[ret->command].args, key)) {
                        quote(key, q, sizeof(q));
                        return fail(err, err_size, "%s: unknown argument \"%s\"", commands[ret->command].name, q);
                }
        }
        for (const member *m = commands[ret->command].args; m->field != _TG_F_MAX; m++) {
                const field_info *fi = &fields[m->field];
                int r;
                if (!json_object_object_get_ex(o, fi->name, &v)) {
                        if (!m->optional)
                                return fail(err, err_size, "%s: missing", fi->name);
                        continue;
                }
                r = check_argument(fi, v, ret, m->field, err, err_size);
                if (r < 0)
                        return r;
                ret->has[m->field] = true;
        }
        return 0;
}

json_object *tg_ctl_reply_ok(void) {
        json_object *o = json_object_new_object();
        json_object_object_add(o, "ok", json_object_new_boolean(1));
        return o;
}

json_object *tg_ctl_reply_error(tg_ctl_error code, const char *fmt, ...) {
        json_object *o = json_object_new_object();
        char msg[600];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        json_object_object_add(o, "ok", json_object_new_boolean(0));
        json_object_object_add(
                o, "code", json_object_new_string(error_codes[code < _TG_CTL_ERR_MAX ? code : TG_CTL_ERR_INTERNAL]));
        json_object_object_add(o, "error", json_object_new_string(msg));
        return o;
}

void tg_ctl_put_string(json_object *o, tg_ctl_field f, const char *v) {
        assert(valid_field(f) && fields[f].type == T_STRING);
        json_object_object_add(o, fields[f].name, json_object_new_string(v ? v : ""));
}

void tg_ctl_put_int(json_object *o, tg_ctl_field f, int64_t v) {
        assert(valid_field(f) && fields[f].type == T_INT);
        json_object_object_add(o, fields[f].name, json_object_new_int64(v));
}

void tg_ctl_put_bool(json_object *o, tg_ctl_field f, bool v) {
        assert(valid_field(f) && fields[f].type == T_BOOL);
        json_object_object_add(o, fields[f].name, json_object_new_boolean(v));
}

void tg_ctl_put_list(json_object *o, tg_ctl_field f, json_object *array) {
        assert(valid_field(f) && fields[f].type == T_LIST);
        json_object_object_add(o, fields[f].name, array);
}

void tg_ctl_put_map(json_object *o, tg_ctl_field f, json_object *map) {
        assert(valid_field(f) && fields[f].type == T_MAP);
        json_object_object_add(o, fields[f].name, map);
}

static bool has_type(json_object *v, field_type t) {
        switch (t) {
        case T_STRING: return json_object_is_type(v, json_type_string);
        case T_INT: return json_object_is_type(v, json_type_int);
        case T_BOOL: return json_object_is_type(v, json_type_boolean);
        case T_LIST: return json_object_is_type(v, json_type_array);
        case T_MAP: {
                size_t n = 0;
                if (!json_object_is_type(v, json_type_object))
                        return false;
                json_object_object_foreach(v, key, val) {
                        (void) key;
                        if (!json_object_is_type(val, json_type_string) || ++n > TG_CTL_MAP_MAX)
                                return false;
                }
                return true;
        }
        }
        return false;
}

static int check_object(json_object *o, const member *members, const char *where, bool envelope, char *err,
                        size_t err_size) {
        if (!json_object_is_type(o, json_type_object)) {
                fail(err, err_size, "%s: not an object", where);
                return -EBADMSG;
        }
        json_object_object_foreach(o, key, val) {
                (void) val;
                if (envelope && strcmp(key, "ok") == 0)
                        continue;
                if (!find_member(members, key)) {
                        fail(err, err_size, "%s: unexpected field %s", where, key);
                        return -EBADMSG;
                }
        }
        for (const member *m = members; m->field != _TG_F_MAX; m++) {
                const field_info *fi = &fields[m->field];
                json_object *v;
                if (!json_object_object_get_ex(o, fi->name, &v)) {
                        if (m->optional)
                                continue;
                        fail(err, err_size, "%s: field %s missing", where, fi->name);
                        return -EBADMSG;
                }
                if (!has_type(v, fi->type)) {
                        fail(err, err_size, "%s: field %s has the wrong type", where, fi->name);
                        return -EBADMSG;
                }
                if (fi->type == T_LIST)
                        for (size_t i = 0; i < json_object_array_length(v); i++) {
                                int r = check_object(json_object_array_get_idx(v, i), fi->items, fi->name, false, err,
                                                     err_size);
                                if (r < 0)
                                        return r;
                        }
        }
        return 0;
}

int tg_ctl_reply_check(tg_ctl_command c, json_object *reply, char *err, size_t err_size) {
        assert_return(valid_command(c), -EINVAL);
        return check_object(reply, commands[c].reply, commands[c].name, true, err, err_size);
}

static bool reply_is_ok(json_object *reply) {
        json_object *ok;
        return json_object_object_get_ex(reply, "ok", &ok) && json_object_is_type(ok, json_type_boolean) &&
               json_object_get_boolean(ok);
}

int tg_ctl_reply_encode(tg_ctl_command c, json_object *reply, char **ret) {
        assert_return(reply && ret, -EINVAL);
        if (reply_is_ok(reply) && tg_ctl_reply_check(c, reply, NULL, 0) < 0)
                return -EBADMSG;
        return to_line(reply, ret);
}

int tg_ctl_reply_decode(tg_ctl_command c, const char *buf, size_t len, tg_ctl_reply *ret) {
        _cleanup_json_tokener_ struct json_tokener *tok = NULL;
        _cleanup_json_ json_object *o = NULL;
        bool ok;

        assert_return(ret && valid_command(c) && (buf || len == 0), -EINVAL);
        *ret = (tg_ctl_reply){0};
        if (len > TG_CTL_REPLY_MAX || len > INT32_MAX)
                return -E2BIG;
        tok = json_tokener_new_ex(16);
        if (!tok)
                return -ENOMEM;
        o = json_tokener_parse_ex(tok, buf ? buf : "", (int) len);
        if (!o || json_tokener_get_error(tok) != json_tokener_success ||
            tg_json_get_bool(o, "ok", TG_JSON_REQUIRED, &ok, NULL, 0) < 0)
                return -EBADMSG;
        if (!ok) {
                const char *code, *error;
                if (tg_json_get_string_ref(o, "code", TG_JSON_REQUIRED, TG_CTL_REPLY_MAX, &code, NULL, 0) < 0 ||
                    tg_json_get_string_ref(o, "error", TG_JSON_REQUIRED, TG_CTL_REPLY_MAX, &error, NULL, 0) < 0)
                        return -EBADMSG;
                /* An error this client does not know is still an error. */
                ret->code = TG_CTL_ERR_INTERNAL;
                for (size_t i = 0; i < ELEMENTSOF(error_codes); i++)
                        if (strcmp(error_codes[i], code) == 0)
                                ret->code = (tg_ctl_error) i;
                ret->error = error;
        } else if (tg_ctl_reply_check(c, o, NULL, 0) < 0)
                return -EBADMSG;
        ret->ok = ok;
        ret->json = TAKE_PTR(o);
        return 0;
}

void tg_ctl_reply_done(tg_ctl_reply *reply) {
        if (!reply)
                return;
        json_object_put(reply->json);
        *reply = (tg_ctl_reply){0};
}

const char *tg_ctl_get_string(json_object *o, tg_ctl_field f) {
        json_object *v;
        if (!valid_field(f) || !json_object_object_get_ex(o, fields[f].name, &v) ||
            json_object_is_type(v, json_type_null))
                return "";
        return json_object_get_string(v);
}

bool tg_ctl_get_bool(json_object *o, tg_ctl_field f) {
        json_object *v;
        return valid_field(f) && json_object_object_get_ex(o, fields[f].name, &v) &&
               json_object_is_type(v, json_type_boolean) && json_object_get_boolean(v);
}

json_object *tg_ctl_get_map(json_object *o, tg_ctl_field f) {
        json_object *v;
        if (!valid_field(f) || !json_object_object_get_ex(o, fields[f].name, &v) ||
            !json_object_is_type(v, json_type_object))
                return NULL;
        return v;
}

json_object *tg_ctl_get_list(json_object *o, tg_ctl_field f) {
        json_object *v;
        if (!valid_field(f) || !json_object_object_get_ex(o, fields[f].name, &v) ||
            !json_object_is_type(v, json_type_array))
                return NULL;
        return v;
}
