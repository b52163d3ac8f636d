/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <json-c/json.h>
#include <sys/types.h>

#include "daemon.h"
#include "termguard/control-proto.h"

/* The reply to log-own: the records of the audit journal that belong to uid (it sent them,
 * or their "user" field is uid's name), between since and until (µs, 0: open), oldest first,
 * every value escaped. Bounded: the newest 20000 records are searched (scanned_from says
 * where it began) and the newest 500 that match are sent (truncated says there were more). */
json_object *own_records_reply(Manager *m, uid_t uid, int64_t since_usec, int64_t until_usec);
