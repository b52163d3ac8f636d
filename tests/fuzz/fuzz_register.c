/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The register (media and exceptions, JSON) through tg_register_load(); what loads is saved
 * and loads again the same (the daemon saves what it loaded after every change). */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz-file.h"
#include "termguard/register.h"

int LLVMFuzzerInitialize(int *argc, char ***argv) {
        (void) argc, (void) argv;
        fuzz_dir_create("register.json");
        return 0;
}

#define SAME_STR(a, b, f) (strcmp((a)->f, (b)->f) == 0)

static bool same(const tg_register *a, const tg_register *b) {
        if (a->n_media != b->n_media || a->n_exceptions != b->n_exceptions ||
            a->next_exception_id != b->next_exception_id || a->clock_high_water != b->clock_high_water ||
            a->expiries_recorded_until != b->expiries_recorded_until)
                return false;
        for (size_t i = 0; i < a->n_media; i++) {
                const tg_medium *x = &a->media[i], *y = &b->media[i];
                if (!SAME_STR(x, y, label) || x->vid != y->vid || x->pid != y->pid || !SAME_STR(x, y, serial) ||
                    !SAME_STR(x, y, department) || x->mode != y->mode || !SAME_STR(x, y, added_by) ||
                    x->added_at != y->added_at)
                        return false;
        }
        for (size_t i = 0; i < a->n_exceptions; i++) {
                const tg_exception *x = &a->exceptions[i], *y = &b->exceptions[i];
                if (x->id != y->id || !SAME_STR(x, y, label) || x->until != y->until || !SAME_STR(x, y, approver) ||
                    !SAME_STR(x, y, reason) || !SAME_STR(x, y, ticket) || !SAME_STR(x, y, user) ||
                    !SAME_STR(x, y, granted_by) || x->granted_at != y->granted_at || x->revoked_at != y->revoked_at ||
                    !SAME_STR(x, y, revoked_by))
                        return false;
        }
        return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        tg_register reg, again;
        char err[512];
        fuzz_file_write(data, size, 0600);
        if (tg_register_load(fuzz_file_path, &reg, err, sizeof(err)) < 0)
                return 0;
        (void) tg_register_next_expiry(&reg, 1700000000);
        if (tg_register_save(fuzz_file_path, &reg) < 0 ||
            tg_register_load(fuzz_file_path, &again, err, sizeof(err)) < 0)
                abort();
        if (!same(&reg, &again))
                abort();
        tg_register_clear(&again);
        tg_register_clear(&reg);
        return 0;
}
