/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include "daemon.h"

/* Retention of the audit journal ([Journal] MaxAge=, and room at the [Journal] MaxUse= cap):
 * whole segments whose every record is forwarded to the central store are deleted once older
 * than MaxAge, and near the cap whatever their age; a record not forwarded is never deleted.
 * Pruning runs on the event loop in bounded steps (a few segments each, other events in
 * between): at start, when the forwarded mark moves, when the journal comes near its cap, and
 * on a timer at the moment the oldest forwarded segment turns MaxAge old. A failed prune is
 * logged and recorded (journal.prune-failed), never fatal. */
int retention_start(Manager *m);
void retention_stop(Manager *m);
/* Prunes soon (the forwarded mark moved, the configuration was reloaded). */
void retention_kick(Manager *m);

typedef struct {
        int64_t max_age;       /* seconds; 0: for ever */
        int64_t next_prune_at; /* µs; 0: none planned (nothing can become old enough yet) */
        int64_t last_prune_at; /* µs of the last prune that deleted something since start; 0: none */
        int last_error;        /* of the last prune; 0: it worked */
} retention_info;
void retention_status(const Manager *m, retention_info *ret);
