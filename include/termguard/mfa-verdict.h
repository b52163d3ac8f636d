/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stddef.h>

#include "termguard/mfa.h"

/* The answer of the setuid helper termguard-mfa-verify to pam_termguard, on the helper's
 * standard output: one KEY=VALUE line per key, each key exactly once, nothing else:
 *
 *   OUTCOME=ok|ok-recovery-code|rollout-not-enrolled|wrong-or-reused-code|locked|not-enrolled|error
 *   LOCKED_NOW=0|1
 *   PREV_LOGIN_AT=seconds since the epoch (decimal, 0 when none)
 *   PREV_LOGIN_FROM=where the last login came from, escaped (tg_escape), at most TG_MFA_FROM_MAX bytes
 *   PREV_FAILED=failed attempts since then (decimal, at most TG_MFA_FAILURES_MAX)
 *   RECORDED=1                 the helper recorded the events itself
 *
 * The whole answer is at most TG_MFA_VERDICT_MAX bytes. */
#define TG_MFA_VERDICT_MAX 512

/* Writes the answer for r into ret (NUL-terminated). PREV_LOGIN_FROM is escaped here, whatever
 * the state holds: the module shows it at login. Returns its length, or -ENOBUFS (ret then
 * holds nothing usable). */
int tg_mfa_verdict_format(const tg_auth_result *r, char *ret, size_t size);

/* Parses the len bytes of an answer. Anything but a complete, well-formed answer (a key missing,
 * repeated or unknown, a number with anything but digits or out of range, a line too long, a
 * NUL or control character, no final newline, more than TG_MFA_VERDICT_MAX bytes) is -EBADMSG:
 * the caller treats the helper's answer as an error. On success fills outcome, locked_now,
 * prev_login_at, prev_login_from, prev_failed_since and recorded of ret (other fields are left
 * as they are); on failure ret is untouched. */
int tg_mfa_verdict_parse(const char *buf, size_t len, tg_auth_result *ret);
