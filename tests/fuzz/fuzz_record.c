/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A record handed to termguardd (the first byte chooses: over the socket, or from the spool,
 * where a sender may be named); what decodes encodes and decodes back the same. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "termguard/record.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        tg_record rec, again;
        char err[256], *text = NULL;
        bool spool;

        if (size < 1)
                return 0;
        spool = data[0] & 1;
        if (tg_record_decode((const char *) data + 1, size - 1, spool, &rec, err, sizeof(err)) < 0)
                return 0;
        if (tg_record_encode(&rec, rec.has_sender, &text) < 0 ||
            tg_record_decode(text, strlen(text), rec.has_sender, &again, err, sizeof(err)) < 0)
                abort();
        if (again.event != rec.event || again.priority != rec.priority || again.time != rec.time ||
            strcmp(again.id, rec.id) != 0 || strcmp(again.message, rec.message) != 0 ||
            again.n_fields != rec.n_fields || again.has_sender != rec.has_sender)
                abort();
        for (size_t i = 0; i < rec.n_fields; i++)
                if (strcmp(tg_record_get(&again, rec.fields[i].name), rec.fields[i].value) != 0)
                        abort();
        tg_record_done(&again);
        tg_record_done(&rec);
        free(text);
        return 0;
}
