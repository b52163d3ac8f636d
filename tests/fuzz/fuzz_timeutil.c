/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Times and durations from the command line, the control socket and the register; a time that
 * parses formats and parses back to the same instant. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "termguard/timeutil.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        char text[TG_ISO8601_MAX + 1];
        int64_t t, again, d;
        char *s = strndup((const char *) data, size);
        if (!s)
                return 0;
        if (tg_parse_iso8601(s, &t) == 0) {
                tg_format_iso8601(t, text, sizeof(text));
                if (tg_parse_iso8601(text, &again) < 0 || again != t)
                        abort();
        }
        (void) tg_parse_duration(s, &d);
        free(s);
        return 0;
}
