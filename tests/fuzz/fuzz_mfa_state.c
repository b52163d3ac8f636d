/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A user's MFA state file through tg_mfa_load(). It reads only root:root files of mode 0600:
 * as root, the input goes to such a file in a directory of root's alone. What loads is saved
 * and loads again. */
#include <stdint.h>

#include "fuzz-file.h"
#include "termguard/mfa.h"

static int dirfd_state = -1;

int LLVMFuzzerInitialize(int *argc, char ***argv) {
        (void) argc, (void) argv;
        if (geteuid() != 0 || getegid() != 0) {
                fprintf(stderr, "fuzz_mfa_state: tg_mfa_load reads root:root files only; run as root\n");
                exit(1);
        }
        fuzz_dir_create("tanaka.json");
        dirfd_state = open(fuzz_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dirfd_state < 0)
                abort();
        return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        tg_mfa_user u = {0}, again = {0};
        char err[512];
        fuzz_file_write(data, size, 0600);
        if (tg_mfa_load(dirfd_state, "tanaka", &u, err, sizeof(err)) < 0)
                return 0;
        if (tg_mfa_save(dirfd_state, &u) < 0 || tg_mfa_load(dirfd_state, "tanaka", &again, err, sizeof(err)) < 0)
                abort();
        tg_mfa_user_wipe(&again);
        tg_mfa_user_wipe(&u);
        return 0;
}
