/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * The control socket's protocol between termguardd and termguardctl, defined once. One JSON
 * object each way per connection, ended by a newline:
 *   request  {"command": NAME, ARGUMENT: VALUE, ...}
 *   reply    {"ok": true, FIELD: VALUE, ...}  or  {"ok": false, "code": CODE, "error": TEXT}
 * Both ends encode and decode through this module: a field has one name, one type and, as a
 * request argument, one check. The tables in control-proto.c say which command takes which
 * arguments and replies with which fields.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#define TG_CTL_REQUEST_MAX (64 * 1024)
#define TG_CTL_REPLY_MAX (64 * 1024 * 1024)
/* The longest idle time a session helper may report: a week, far beyond any LockAfter=. */
#define TG_CTL_IDLE_MS_MAX (INT64_C(7) * 24 * 3600 * 1000)
/* The forwarder's last error as it reports it: one line for status, cut beyond this. */
#define TG_CTL_FORWARDER_ERROR_MAX 256

typedef enum {
        TG_CTL_STATUS,
        TG_CTL_DEVICES,
        TG_CTL_MEDIA_LIST,
        TG_CTL_MEDIA_ADD,
        TG_CTL_MEDIA_REMOVE,
        TG_CTL_EXCEPTION_LIST,
        TG_CTL_EXCEPTION_GRANT,
        TG_CTL_EXCEPTION_REVOKE,
        TG_CTL_LOCK,
        TG_CTL_TOKEN_LIST,
        TG_CTL_TOKEN_ADD,
        TG_CTL_TOKEN_REMOVE,
        TG_CTL_SESSION_IDLE,
        TG_CTL_LOG_OWN,
        TG_CTL_JOURNAL_FORWARDED,
        TG_CTL_FORWARDER_STATUS,
        TG_CTL_SESSION_NOTIFY,
        _TG_CTL_COMMAND_MAX,
        _TG_CTL_COMMAND_INVALID = -1,
} tg_ctl_command;

/* Every field of a request or a reply. Two fields may share a wire name when no object holds
 * both ("pid": a product id in a medium, the daemon's process id in status). */
typedef enum {
        /* request arguments (also reply fields of media and exceptions) */
        TG_F_VID,
        TG_F_PID,
        TG_F_SERIAL,
        TG_F_LABEL,
        TG_F_DEPARTMENT,
        TG_F_MODE,
        TG_F_UNTIL,
        TG_F_APPROVER,
        TG_F_REASON,
        TG_F_TICKET,
        TG_F_USER,
        TG_F_ID,
        /* status */
        TG_F_VERSION,
        TG_F_PROCESS_ID,
        TG_F_STARTED_AT,
        TG_F_CONFIG_ROOT,
        TG_F_STATE_DIRECTORY,
        TG_F_ADMIN_GROUP,
        TG_F_CONTROLLERS_LOCKED,
        TG_F_DEVICE_COUNT,
        TG_F_MEDIA_REGISTERED,
        TG_F_EXCEPTIONS_ACTIVE,
        TG_F_NEXT_EXPIRY,
        TG_F_UDEV_RUNNING,
        TG_F_LAST_RELOAD_AT,
        TG_F_LAST_RELOAD_ERROR,
        TG_F_JOURNAL,
        TG_F_JOURNAL_USED,
        TG_F_JOURNAL_MAX,
        TG_F_JOURNAL_NEXT_SEQ,
        TG_F_SPOOL_WAITING,
        /* lists */
        TG_F_DEVICES,
        TG_F_MEDIA,
        TG_F_EXCEPTIONS,
        TG_F_INTERFACES,
        /* a device */
        TG_F_DEVICE,
        TG_F_MANUFACTURER,
        TG_F_PRODUCT,
        TG_F_DESCRIPTOR_SHA256,
        TG_F_AUTHORIZED,
        TG_F_STORAGE,
        TG_F_EXCEPTION,
        /* an interface of a device */
        TG_F_CONFIG,
        TG_F_INTERFACE,
        TG_F_CLASS,
        TG_F_CLASS_NAME,
        TG_F_ALLOWED,
        /* a medium, an exception */
        TG_F_ADDED_BY,
        TG_F_ADDED_AT,
        TG_F_STATE,
        TG_F_GRANTED_BY,
        TG_F_GRANTED_AT,
        TG_F_REVOKED_AT,
        TG_F_REVOKED_BY,
        /* the idle lock: lock arguments, status, a session */
        TG_F_SESSION,
        TG_F_ALL,
        TG_F_LOCK_REQUESTED,
        TG_F_IDLE_LOCK,
        TG_F_SESSIONS,
        TG_F_SESSION_TYPE,
        TG_F_SEAT,
        TG_F_TTY,
        TG_F_REMOTE,
        TG_F_IDLE,
        TG_F_IDLE_SINCE,
        TG_F_LOCKED,
        TG_F_LOCK_AFTER,
        TG_F_DEADLINE,
        TG_F_LOGOFF_AT,
        /* the token registry */
        TG_F_KIND,
        TG_F_OWNER,
        TG_F_TOKENS,
        /* the session helper's report */
        TG_F_IDLE_MS,
        TG_F_REPORT_INTERVAL_MS,
        TG_F_HELPER_REPORT_AT,
        /* a caller's own records in the audit journal: arguments, reply, a record */
        TG_F_SINCE,
        TG_F_RECORDS,
        TG_F_SCANNED_FROM,
        TG_F_TRUNCATED,
        TG_F_TIME,
        TG_F_CLOCK,
        TG_F_EVENT_TYPE,
        TG_F_PRIORITY,
        TG_F_UID,
        TG_F_COMM,
        TG_F_FIELDS,
        /* forwarding to the central store: the forwarder's mark and report, status */
        TG_F_SEQ,
        TG_F_LAST_COMMIT_USEC,
        TG_F_PENDING,
        TG_F_LAST_ERROR,
        TG_F_FORWARDED_SEQ,
        TG_F_JOURNAL_FORWARDED_SEQ,
        TG_F_JOURNAL_PENDING,
        TG_F_FORWARDER_REPORT_AT,
        TG_F_FORWARDER_LAST_COMMIT_AT,
        TG_F_FORWARDER_LAST_ERROR,
        /* retention of the journal, status */
        TG_F_JOURNAL_MAX_AGE,
        TG_F_JOURNAL_OLDEST_SEQ,
        TG_F_JOURNAL_OLDEST_AT,
        TG_F_JOURNAL_PRUNED_THROUGH,
        TG_F_JOURNAL_NEXT_PRUNE_AT,
        TG_F_JOURNAL_PRUNE_ERROR,
        TG_F_NOTIFY_ONLY,
        _TG_F_MAX,
} tg_ctl_field;

typedef enum {
        TG_CTL_ERR_INVALID,
        TG_CTL_ERR_PERMISSION_DENIED,
        TG_CTL_ERR_NOT_FOUND,
        TG_CTL_ERR_IO,
        TG_CTL_ERR_INTERNAL,
        _TG_CTL_ERR_MAX,
} tg_ctl_error;

const char *tg_ctl_command_to_string(tg_ctl_command c);
tg_ctl_command tg_ctl_command_from_string(const char *s);
const char *tg_ctl_field_name(tg_ctl_field f);
/* True when f is an argument of command c. */
bool tg_ctl_command_takes(tg_ctl_command c, tg_ctl_field f);

/* A request. Decoded on the daemon side: strings point into json (owned), and checked
 * arguments carry their value in num: vid and pid (0..0xffff), mode (tg_mode), until
 * (seconds since the epoch), id and seq (> 0), idle_ms (0..TG_CTL_IDLE_MS_MAX), counts such as
 * pending and last_commit_usec (>= 0) and flags (1). Built on the client side: strings
 * are borrowed. */
typedef struct {
        tg_ctl_command command;
        bool has[_TG_F_MAX];
        const char *str[_TG_F_MAX];
        int64_t num[_TG_F_MAX];
        json_object *json;
} tg_ctl_request;

void tg_ctl_request_init(tg_ctl_request *req, tg_ctl_command c);
void tg_ctl_request_done(tg_ctl_request *req);
/* Client side: sets argument f from its command-line text. The id and seq are decimal numbers
 * > 0, counts >= 0;
 * a flag (such as all) is set by "true"; other arguments are checked by the daemon. -EINVAL when f is not an argument
 * of the command or the id is not a number, -EEXIST when f is already set. */
int tg_ctl_request_set(tg_ctl_request *req, tg_ctl_field f, const char *value);
/* The request as one line of JSON with its newline (free() it). */
int tg_ctl_request_encode(const tg_ctl_request *req, char **ret);
/* Daemon side. On success the request holds a known command and every argument it needs,
 * checked. On failure returns -EINVAL with the reason in err; req->command is the command
 * when it was recognised (authorization comes before the arguments are judged), else
 * _TG_CTL_COMMAND_INVALID. Call tg_ctl_request_done() either way. */
int tg_ctl_request_decode(const char *buf, size_t len, tg_ctl_request *ret, char *err, size_t err_size);

/* Replies (daemon side). Values must match the field's type. */
json_object *tg_ctl_reply_ok(void);
json_object *tg_ctl_reply_error(tg_ctl_error code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void tg_ctl_put_string(json_object *o, tg_ctl_field f, const char *v);
void tg_ctl_put_int(json_object *o, tg_ctl_field f, int64_t v);
void tg_ctl_put_bool(json_object *o, tg_ctl_field f, bool v);
void tg_ctl_put_list(json_object *o, tg_ctl_field f, json_object *array);
/* A map field: an object of string values (a record's fields). */
void tg_ctl_put_map(json_object *o, tg_ctl_field f, json_object *map);
/* Checks an ok reply of command c against the table: every field the command replies with,
 * of its type, nothing else; lists item by item. -EBADMSG with the reason in err. */
int tg_ctl_reply_check(tg_ctl_command c, json_object *reply, char *err, size_t err_size);
/* The reply as one line of JSON with its newline (free() it). An ok reply must pass
 * tg_ctl_reply_check() (-EBADMSG); c may be _TG_CTL_COMMAND_INVALID for error replies. */
int tg_ctl_reply_encode(tg_ctl_command c, json_object *reply, char **ret);

/* Replies (client side). */
typedef struct {
        bool ok;
        tg_ctl_error code; /* when !ok */
        const char *error; /* when !ok */
        json_object *json;
} tg_ctl_reply;

/* Client side: sends req to termguardd's control socket at socket_path and reads the reply.
 * timeout_usec bounds each send and read (0: none). -errno when the daemon cannot be reached,
 * -ETIMEDOUT, -EBADMSG when the reply is not one of req's command. */
int tg_ctl_call(const char *socket_path, const tg_ctl_request *req, uint64_t timeout_usec, tg_ctl_reply *ret);

/* -EBADMSG when buf is not a reply of command c (malformed, fields missing or mistyped). */
int tg_ctl_reply_decode(tg_ctl_command c, const char *buf, size_t len, tg_ctl_reply *ret);
void tg_ctl_reply_done(tg_ctl_reply *reply);
/* Field f of a reply object as text ("" when absent; numbers and booleans spelled out). */
const char *tg_ctl_get_string(json_object *o, tg_ctl_field f);
bool tg_ctl_get_bool(json_object *o, tg_ctl_field f);
/* The list f (NULL when absent). */
json_object *tg_ctl_get_list(json_object *o, tg_ctl_field f);
json_object *tg_ctl_get_map(json_object *o, tg_ctl_field f);
