/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A notice as the session helper decodes it (termguardd's line); what decodes encodes and
 * decodes back the same, and every text in it is safe to show. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "termguard/escape.h"
#include "termguard/notice.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        tg_notice n, again;
        char err[256], *line = NULL, body[4 * TG_NOTICE_DEVICE_MAX + 1];

        if (tg_notice_decode((const char *) data, size, &n, err, sizeof(err)) < 0)
                return 0;
        if (!tg_text_is_escaped(n.device, strlen(n.device)) || !tg_text_is_escaped(n.label, strlen(n.label)))
                abort();
        if (tg_notice_encode(&n, &line) < 0 || tg_notice_decode(line, strlen(line), &again, err, sizeof(err)) < 0)
                abort();
        if (n.kind != again.kind || strcmp(n.device, again.device) != 0 || strcmp(n.label, again.label) != 0 ||
            n.seconds != again.seconds || n.until != again.until || n.dropped != again.dropped)
                abort();
        tg_escape_markup(n.device, body, sizeof(body));
        if (strpbrk(body, "<>"))
                abort();
        free(line);
        return 0;
}
