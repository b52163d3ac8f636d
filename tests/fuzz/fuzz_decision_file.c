/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The decision file as termguard-udev-helper parses it; what parses formats and parses back
 * the same. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "termguard/decision-file.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        tg_decision_record rec, again;
        char text[TG_DECISION_FILE_MAX + 1];
        if (tg_decision_record_parse((const char *) data, size, &rec) < 0)
                return 0;
        int n = tg_decision_record_format(&rec, text, sizeof(text));
        if (n < 0 || tg_decision_record_parse(text, (size_t) n, &again) < 0)
                abort();
        if (again.busnum != rec.busnum || again.devnum != rec.devnum || again.mode != rec.mode ||
            strcmp(again.label, rec.label) != 0)
                abort();
        (void) tg_decision_grants_read_write(&rec, "1", "5");
        return 0;
}
