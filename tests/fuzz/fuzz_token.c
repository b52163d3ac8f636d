/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The token registry (JSON) through tg_token_registry_load(); what loads is saved and loads
 * again the same (the daemon saves what it loaded after every change), and matching never
 * reads past an entry. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz-file.h"
#include "termguard/token.h"

int LLVMFuzzerInitialize(int *argc, char ***argv) {
        (void) argc, (void) argv;
        fuzz_dir_create("tokens.json");
        return 0;
}

static bool same(const tg_token *x, const tg_token *y) {
        return strcmp(x->label, y->label) == 0 && x->kind == y->kind && x->vid == y->vid && x->pid == y->pid &&
               strcmp(x->serial, y->serial) == 0 && strcmp(x->owner, y->owner) == 0 &&
               strcmp(x->added_by, y->added_by) == 0 && x->added_at == y->added_at;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        tg_token_registry reg, again;
        char err[512];
        fuzz_file_write(data, size, 0600);
        if (tg_token_registry_load(fuzz_file_path, &reg, err, sizeof(err)) < 0)
                return 0;
        for (size_t i = 0; i < reg.n_tokens; i++)
                if (tg_token_match(&reg, reg.tokens[i].vid, reg.tokens[i].pid, reg.tokens[i].serial) == NULL)
                        abort(); /* every entry matches its own device */
        if (tg_token_registry_save(fuzz_file_path, &reg) < 0 ||
            tg_token_registry_load(fuzz_file_path, &again, err, sizeof(err)) < 0 || again.n_tokens != reg.n_tokens)
                abort();
        for (size_t i = 0; i < reg.n_tokens; i++)
                if (!same(&reg.tokens[i], &again.tokens[i]))
                        abort();
        tg_token_registry_clear(&again);
        tg_token_registry_clear(&reg);
        return 0;
}
