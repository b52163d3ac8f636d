/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The setuid helper's answer as pam_termguard parses it; what parses formats and parses back
 * the same (PREV_LOGIN_FROM arrives escaped and is escaped again: compared without backslashes). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "termguard/mfa-verdict.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        tg_auth_result r = {0}, again = {0};
        char text[TG_MFA_VERDICT_MAX + 1];
        if (tg_mfa_verdict_parse((const char *) data, size, &r) < 0)
                return 0;
        int n = tg_mfa_verdict_format(&r, text, sizeof(text));
        if (n < 0 || tg_mfa_verdict_parse(text, (size_t) n, &again) < 0)
                abort();
        if (again.outcome != r.outcome || again.locked_now != r.locked_now || again.prev_login_at != r.prev_login_at ||
            again.prev_failed_since != r.prev_failed_since || again.recorded != r.recorded ||
            (!strchr(r.prev_login_from, '\\') && strcmp(again.prev_login_from, r.prev_login_from) != 0))
                abort();
        return 0;
}
