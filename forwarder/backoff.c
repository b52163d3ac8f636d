/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Waiting while the centre (or termguardd) cannot be reached. */
#include "forwarder.h"

uint64_t fwd_backoff_next(fwd_backoff *b, uint64_t random) {
        uint64_t half;

        b->ceiling = b->ceiling == 0 ? FWD_BACKOFF_MIN_USEC : b->ceiling * 2;
        if (b->ceiling > FWD_BACKOFF_MAX_USEC)
                b->ceiling = FWD_BACKOFF_MAX_USEC;
        /* from the upper half: never less than half the ceiling, spread over the rest */
        half = b->ceiling / 2;
        return half + random % (b->ceiling - half + 1);
}

void fwd_backoff_reset(fwd_backoff *b) {
        b->ceiling = 0;
}
