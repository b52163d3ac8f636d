/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

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
