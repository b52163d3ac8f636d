/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Device strings (manufacturer, product, serial from sysfs and uevent properties): escaped
 * for logs and checked as register text by lib/escape.c, shown in tables by lib/textwidth.c. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "termguard/escape.h"
#include "termguard/textwidth.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        char esc[TG_DEVICE_STRING_MAX * 12 + 8], small[16], shown[512];
        char *s = strndup((const char *) data, size);
        if (!s)
                return 0;

        /* As the gate reads a string attribute: raw bytes, NUL included. */
        tg_escape((const char *) data, size, TG_DEVICE_STRING_MAX * 3, esc, sizeof(esc));
        if (!tg_text_is_escaped(esc, strlen(esc)))
                abort();
        /* Cut by the bound and by a small buffer: still whole characters and escapes. */
        tg_escape((const char *) data, size, size / 2, small, 1 + size % sizeof(small));
        if (!tg_text_is_escaped(small, strlen(small)))
                abort();
        (void) tg_text_is_escaped((const char *) data, size);
        (void) tg_valid_text(s, TG_DEVICE_STRING_MAX, true);
        (void) tg_valid_text(s, TG_DEVICE_STRING_MAX, false);

        /* The CLI's tables. */
        size_t width = tg_display_width(s);
        tg_display_text(s, shown, sizeof(shown));
        if (strlen(s) < sizeof(shown) / 12 && tg_display_width(shown) != width)
                abort();
        free(s);
        return 0;
}
