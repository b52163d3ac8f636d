/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Hex as the MFA state holds secrets; what decodes encodes back to the same in lower case. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "termguard/hex.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        uint8_t bin[64];
        char text[2 * sizeof(bin) + 1];
        size_t n;
        char *s = strndup((const char *) data, size);
        if (!s)
                return 0;
        if (tg_hex_decode(s, bin, sizeof(bin), &n) == 0) {
                if (tg_hex_encode(bin, n, text, sizeof(text)) < 0 || strcasecmp(text, s) != 0)
                        abort();
        }
        free(s);
        return 0;
}
