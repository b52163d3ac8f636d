/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * journal-list DIR: prints "SEQ MACHEX" for every record of the journal in DIR, in journal
 * order, with the journal library's reader: what the forwarder tests compare with the central
 * store's (host, seq, mac).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "termguard/hex.h"
#include "termguard/journal.h"

int main(int argc, char **argv) {
        tg_journal_reader *r = NULL;
        const tg_journal_record *rec;
        char hex[2 * TG_JOURNAL_MAC_SIZE + 1];
        int k;

        if (argc != 2) {
                fprintf(stderr, "usage: journal-list DIR\n");
                return 2;
        }
        k = tg_journal_reader_open(argv[1], &r);
        if (k < 0) {
                fprintf(stderr, "journal-list: %s: %s\n", argv[1], strerror(-k));
                return 1;
        }
        while ((k = tg_journal_reader_next(r, &rec)) == 1) {
                (void) tg_hex_encode(tg_journal_record_mac(rec), TG_JOURNAL_MAC_SIZE, hex, sizeof(hex));
                printf("%" PRIu64 " %s\n", tg_journal_record_seq(rec), hex);
        }
        tg_journal_reader_free(r);
        if (k < 0) {
                fprintf(stderr, "journal-list: %s: %s\n", argv[1], strerror(-k));
                return 1;
        }
        return 0;
}
