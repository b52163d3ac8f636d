/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Records as the central store's ingest function takes them, and batches of them read from
 * the journal after a cursor. Nothing here talks to the network or the daemon: the cursor
 * comes in, a batch goes out.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "forwarder.h"
#include "termguard/base64.h"
#include "termguard/hex.h"
#include "termguard/macro.h"

static json_object *uuid_json(const uint8_t id[TG_JOURNAL_ID_SIZE]) {
        char hex[2 * TG_JOURNAL_ID_SIZE + 1], text[37];
        (void) tg_hex_encode(id, TG_JOURNAL_ID_SIZE, hex, sizeof(hex));
        snprintf(text, sizeof(text), "%.8s-%.4s-%.4s-%.4s-%.12s", hex, hex + 8, hex + 12, hex + 16, hex + 20);
        return json_object_new_string(text);
}

static json_object *mac_json(const uint8_t mac[TG_JOURNAL_MAC_SIZE]) {
        char hex[2 * TG_JOURNAL_MAC_SIZE + 1];
        (void) tg_hex_encode(mac, TG_JOURNAL_MAC_SIZE, hex, sizeof(hex));
        return json_object_new_string(hex);
}

int fwd_record_json(const tg_journal_record *rec, const uint8_t *raw, size_t raw_len, json_object **ret) {
        _cleanup_free_ char *b64 = NULL;
        json_object *o, *fields;

        assert_return(rec && raw && ret, -EINVAL);
        if (raw_len == 0 || raw_len > TG_JOURNAL_RECORD_MAX)
                return -EINVAL;
        b64 = malloc(TG_BASE64_SIZE(raw_len));
        o = json_object_new_object();
        fields = json_object_new_array();
        if (!b64 || !o || !fields) {
                json_object_put(o);
                json_object_put(fields);
                return -ENOMEM;
        }
        /* The reader checked every string (bounded UTF-8 without NUL): json-c escapes the
         * rest, and the centre stores the values as they are. */
        json_object_object_add(o, "seq", json_object_new_int64((int64_t) tg_journal_record_seq(rec)));
        json_object_object_add(o, "boot_id", uuid_json(tg_journal_record_boot_id(rec)));
        json_object_object_add(o, "time_usec", json_object_new_int64(tg_journal_record_time(rec)));
        json_object_object_add(o, "clock", json_object_new_int((int) tg_journal_record_clock(rec)));
        json_object_object_add(o, "priority", json_object_new_int(tg_journal_record_priority(rec)));
        json_object_object_add(o, "type", json_object_new_string(tg_journal_record_type(rec)));
        json_object_object_add(o, "uid", json_object_new_int64((int64_t) tg_journal_record_uid(rec)));
        json_object_object_add(o, "pid", json_object_new_int64((int64_t) tg_journal_record_pid(rec)));
        json_object_object_add(o, "comm", json_object_new_string(tg_journal_record_comm(rec)));
        json_object_object_add(o, "unit", json_object_new_string(tg_journal_record_unit(rec)));
        for (size_t i = 0; i < tg_journal_record_n_fields(rec); i++) {
                const char *k, *v;
                json_object *pair = json_object_new_array();
                tg_journal_record_field(rec, i, &k, &v);
                json_object_array_add(pair, json_object_new_string(k));
                json_object_array_add(pair, json_object_new_string(v));
                json_object_array_add(fields, pair);
        }
        json_object_object_add(o, "fields", fields);
        json_object_object_add(o, "prev_mac", mac_json(tg_journal_record_prev_mac(rec)));
        json_object_object_add(o, "mac", mac_json(tg_journal_record_mac(rec)));
        (void) tg_base64_encode(raw, raw_len, b64, TG_BASE64_SIZE(raw_len));
        json_object_object_add(o, "raw", json_object_new_string(b64));
        *ret = o;
        return 0;
}

int fwd_batch_init(fwd_batch *b, size_t max_records, size_t max_bytes) {
        assert_return(b, -EINVAL);
        *b = (fwd_batch){
                .max_records = max_records ? max_records : FWD_BATCH_RECORDS_MAX,
                .max_bytes = max_bytes ? max_bytes : FWD_BATCH_BYTES_MAX,
        };
        b->array = json_object_new_array();
        return b->array ? 0 : -ENOMEM;
}

void fwd_batch_done(fwd_batch *b) {
        if (!b)
                return;
        json_object_put(b->array);
        b->array = NULL;
}

void fwd_batch_clear(fwd_batch *b) {
        size_t max_records = b->max_records, max_bytes = b->max_bytes;
        fwd_batch_done(b);
        (void) fwd_batch_init(b, max_records, max_bytes);
}

int fwd_batch_add(fwd_batch *b, const tg_journal_record *rec, const uint8_t *raw, size_t raw_len) {
        json_object *o = NULL;
        const char *text;
        size_t len;
        int r;

        assert_return(b && b->array && rec, -EINVAL);
        if (b->n > 0 && tg_journal_record_seq(rec) <= b->last_seq)
                return -EINVAL;
        if (b->n >= b->max_records)
                return 0;
        r = fwd_record_json(rec, raw, raw_len, &o);
        if (r < 0)
                return r;
        text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
        len = text ? strlen(text) + 1 : 0; /* and its comma */
        /* the first record always goes: a batch that could never be sent would stop forwarding */
        if (!text || (b->n > 0 && b->bytes + len > b->max_bytes)) {
                json_object_put(o);
                return text ? 0 : -ENOMEM;
        }
        if (json_object_array_add(b->array, o) < 0) {
                json_object_put(o);
                return -ENOMEM;
        }
        if (b->n == 0)
                b->first_seq = tg_journal_record_seq(rec);
        b->last_seq = tg_journal_record_seq(rec);
        b->n++;
        b->bytes += len;
        return 1;
}

const char *fwd_batch_text(fwd_batch *b) {
        return json_object_to_json_string_ext(b->array, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
}

DEFINE_TRIVIAL_CLEANUP_FUNC(tg_journal_reader *, tg_journal_reader_free);

int fwd_batch_fill(fwd_batch *b, const char *dir, uint64_t cursor, fwd_read_notes *notes) {
        _cleanup_(tg_journal_reader_freep) tg_journal_reader *reader = NULL;
        int added = 0, r;

        assert_return(b && dir, -EINVAL);
        /* A new reader each time: it lists the segments when opened, and new ones appear. */
        r = tg_journal_reader_open(dir, &reader);
        if (r < 0)
                return r;
        r = tg_journal_reader_seek_seq(reader, cursor + 1);
        if (r < 0)
                return r;
        for (;;) {
                const tg_journal_record *rec = NULL;
                const void *raw;
                size_t raw_len;

                r = tg_journal_reader_next(reader, &rec);
                if (r == 0)
                        break;
                if (r == -EBADMSG) {
                        /* Skipped, never repaired or invented: the reader goes on at the next
                         * segment, and the centre shows the seqs missing. */
                        const char *file;
                        uint64_t off;
                        tg_journal_reader_position(reader, &file, &off);
                        if (notes) {
                                notes->corrupt++;
                                snprintf(notes->corrupt_where, sizeof(notes->corrupt_where), "%s:%" PRIu64,
                                         file ? file : "?", off);
                        }
                        continue;
                }
                if (r < 0)
                        return r;
                /* a record out of order (tampering) is not shipped ahead of its place */
                if (tg_journal_record_seq(rec) <= cursor || (b->n > 0 && tg_journal_record_seq(rec) <= b->last_seq))
                        continue;
                r = tg_journal_reader_raw(reader, &raw, &raw_len);
                if (r < 0)
                        return r;
                r = fwd_batch_add(b, rec, raw, raw_len);
                if (r < 0)
                        return r;
                if (r == 0)
                        break;
                added++;
        }
        return added;
}
