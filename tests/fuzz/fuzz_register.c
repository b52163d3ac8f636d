/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The register (media and exceptions, JSON) through tg_register_load(). */
#include <stdint.h>

#include "fuzz-file.h"
#include "termguard/register.h"

int LLVMFuzzerInitialize(int *argc, char ***argv) {
        (void) argc, (void) argv;
        fuzz_dir_create("register.json");
        return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        tg_register reg;
        char err[512];
        fuzz_file_write(data, size, 0600);
        if (tg_register_load(fuzz_file_path, &reg, err, sizeof(err)) < 0)
                return 0;
        (void) tg_register_next_expiry(&reg, 1700000000);
        tg_register_clear(&reg);
        return 0;
}
