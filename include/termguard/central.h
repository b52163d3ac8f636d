/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stddef.h>

#include "termguard/config.h"

/* The terminal's side of central reporting: who forwards the journal and where its
 * enrolment lives. termguardd, termguardctl and termguard-forwarder agree on these. */

/* The forwarder's system user: the only one besides root whose journal.forwarded moves the
 * mark. The package creates it (and termguardctl central enroll when it is missing), a member
 * of [Journal] AuditorGroup= (TG_AUDITOR_GROUP_DEFAULT). */
#define TG_FORWARDER_USER "termguard-forwarder"

/* The enrolment installed by termguardctl central enroll: central.conf, ca.crt, and
 * client.crt/client.key readable by the forwarder's user only. */
#define TG_CENTRAL_DIR TG_CONFIG_ROOT_DEFAULT "/central"
#define TG_CENTRAL_CONF "central.conf"
#define TG_CENTRAL_CA "ca.crt"
#define TG_CENTRAL_CERT "client.crt"
#define TG_CENTRAL_KEY "client.key"

/* central.conf: where the central store is and as whom this terminal logs in. */
#define TG_CENTRAL_HOST_MAX 253
#define TG_CENTRAL_NAME_MAX 63
typedef struct {
        char host[TG_CENTRAL_HOST_MAX + 1]; /* a DNS name or an address */
        char port[6];                       /* 1..65535 */
        char database[TG_CENTRAL_NAME_MAX + 1];
        char role[TG_CENTRAL_NAME_MAX + 1]; /* tg_host_ and 32 lowercase hex digits */
} tg_central_config;

/* Reads and checks the file: every key present once at least, each value of its form,
 * nothing else. -ENOENT when it cannot be read, -EBADMSG with "PATH:LINE: problem" in err. */
int tg_central_config_load(const char *path, tg_central_config *ret, char *err, size_t err_size);
