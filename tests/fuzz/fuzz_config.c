/* SPDX-License-Identifier: GPL-2.0-or-later */
/* termguard.conf through tg_config_load(), from a temporary configuration root. */
#include <stdint.h>

#include "fuzz-file.h"
#include "termguard/config.h"

int LLVMFuzzerInitialize(int *argc, char ***argv) {
        (void) argc, (void) argv;
        fuzz_dir_create("termguard.conf");
        return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        tg_config c;
        char err[512];
        fuzz_file_write(data, size, 0644);
        (void) tg_config_load(fuzz_dir, &c, err, sizeof(err));
        return 0;
}
