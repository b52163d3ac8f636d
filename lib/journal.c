/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>

#include "termguard/journal.h"

/* The API in place for its callers; the implementation follows. */

int tg_journal_init(const char *dir, const uint8_t seed[TG_JOURNAL_SEED_SIZE], const tg_journal_options *opt) {
        (void) dir, (void) seed, (void) opt;
        return -ENOSYS;
}
int tg_journal_open(const char *dir, const tg_journal_options *opt, tg_journal **ret) {
        (void) dir, (void) opt, (void) ret;
        return -ENOSYS;
}
void tg_journal_close(tg_journal *j) {
        (void) j;
}
int tg_journal_append(tg_journal *j, const tg_journal_entry *e, unsigned flags, uint64_t *ret_seq) {
        (void) j, (void) e, (void) flags, (void) ret_seq;
        return -ENOSYS;
}
int tg_journal_sync(tg_journal *j) {
        (void) j;
        return -ENOSYS;
}
int tg_journal_checkpoint(tg_journal *j, uint64_t *ret_seq, uint8_t ret_mac[TG_JOURNAL_MAC_SIZE]) {
        (void) j, (void) ret_seq, (void) ret_mac;
        return -ENOSYS;
}
int tg_journal_usage(tg_journal *j, tg_journal_usage_info *ret) {
        (void) j, (void) ret;
        return -ENOSYS;
}
int tg_journal_mark_forwarded(tg_journal *j, uint64_t seq) {
        (void) j, (void) seq;
        return -ENOSYS;
}
int tg_journal_prune(tg_journal *j, int64_t max_age_usec) {
        (void) j, (void) max_age_usec;
        return -ENOSYS;
}
