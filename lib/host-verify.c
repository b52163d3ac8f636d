/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Central verification of one terminal's rows. The raw bytes are the evidence: they are
 * decoded and verified by the journal's own code (tg_journal_chain), and every column stored
 * beside them must say the same, since auditors' tools and reports read the columns.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "termguard/host-verify.h"
#include "termguard/json-util.h"
#include "termguard/macro.h"

struct tg_host_verify {
        tg_host_verify_options opt;
        tg_host_verify_result res;
        tg_journal_chain *chain;
        bool clock_noted;
        uint64_t gap_seq; /* the record the last gap showed at */
};

static const struct {
        const char *name, *text;
} journal_names[] = {
        [TG_JOURNAL_PROBLEM_CORRUPT] = {"corrupt", "raw bytes are no valid record (length, checksum or contents)"},
        [TG_JOURNAL_PROBLEM_MAC] = {"mac", "record altered: its MAC does not match"},
        [TG_JOURNAL_PROBLEM_CHAIN] = {"chain", "chain broken: the record before it was changed or removed"},
        [TG_JOURNAL_PROBLEM_GAP] = {"gap", "records missing before it"},
        [TG_JOURNAL_PROBLEM_REORDER] = {"reorder", "record out of order"},
        [TG_JOURNAL_PROBLEM_TRUNCATED] = {"truncated", "records missing after it: the host had gone further"},
        [TG_JOURNAL_PROBLEM_ROLLBACK] = {"rollback", "record differs from the head the host reported"},
        [TG_JOURNAL_PROBLEM_HOST] = {"host", "record of another host"},
        [TG_JOURNAL_PROBLEM_SKIPPED] = {"skipped", "seqs skipped after a crash (noted by the journal)"},
        [TG_JOURNAL_PROBLEM_LOST] = {"lost", "durable records lost on the terminal (noted by the journal)"},
};

static const struct {
        const char *name, *text;
} finding_names[] = {
        [TG_HOST_FINDING_COLUMNS] = {"columns", "stored columns differ from the record's raw bytes"},
        [TG_HOST_FINDING_CONFLICT] = {"conflict", "another record was sent under this seq"},
        [TG_HOST_FINDING_SILENT] = {"silent", "no checkpoint for longer than allowed"},
        [TG_HOST_FINDING_CLOCK] = {"clock", "records stamped while the clock was not synchronised"},
};

const char *tg_host_finding_name(const tg_host_finding *f) {
        if (!f || (unsigned) f->kind >= _TG_HOST_FINDING_MAX)
                return NULL;
        if (f->kind == TG_HOST_FINDING_JOURNAL)
                return (size_t) f->journal < ELEMENTSOF(journal_names) ? journal_names[f->journal].name : NULL;
        return finding_names[f->kind].name;
}

const char *tg_host_finding_text(const tg_host_finding *f) {
        if (!f || (unsigned) f->kind >= _TG_HOST_FINDING_MAX)
                return NULL;
        if (f->kind == TG_HOST_FINDING_JOURNAL)
                return (size_t) f->journal < ELEMENTSOF(journal_names) ? journal_names[f->journal].text : NULL;
        return finding_names[f->kind].text;
}

static void found(tg_host_verify *v, const tg_host_finding *f) {
        tg_host_verify_result *res = &v->res;
        bool tamper = false;

        if (f->note) {
                res->notes++;
        } else {
                if (res->problems++ == 0)
                        res->first = *f;
                switch (f->kind) {
                case TG_HOST_FINDING_JOURNAL:
                        switch (f->journal) {
                        case TG_JOURNAL_PROBLEM_CHAIN:
                                /* the record after missing ones cannot link to them: part of
                                 * the gap, not a sign of tampering by itself */
                                tamper = f->seq != v->gap_seq;
                                break;
                        case TG_JOURNAL_PROBLEM_GAP:
                        case TG_JOURNAL_PROBLEM_LOST:
                        case TG_JOURNAL_PROBLEM_TRUNCATED:
                                res->gaps++;
                                v->gap_seq = f->seq;
                                if (f->expected > f->seq && f->journal == TG_JOURNAL_PROBLEM_TRUNCATED)
                                        res->missing += f->expected - f->seq;
                                else if (f->seq > f->expected && f->journal != TG_JOURNAL_PROBLEM_TRUNCATED)
                                        res->missing += f->seq - f->expected;
                                break;
                        default: tamper = true;
                        }
                        break;
                case TG_HOST_FINDING_COLUMNS:
                case TG_HOST_FINDING_CONFLICT: tamper = true; break;
                default: break;
                }
                if (tamper && !res->tampered) {
                        res->tampered = true;
                        res->first_bad_seq = f->seq;
                }
        }
        if (v->opt.report)
                v->opt.report(f, v->opt.userdata);
}

static void on_chain_problem(const tg_journal_problem *p, void *userdata) {
        tg_host_verify *v = userdata;
        tg_host_finding f = {.kind = TG_HOST_FINDING_JOURNAL,
                             .journal = p->kind,
                             .note = p->kind == TG_JOURNAL_PROBLEM_SKIPPED,
                             .seq = p->seq,
                             .expected = p->expected};
        found(v, &f);
}

void tg_host_verify_free(tg_host_verify *v) {
        if (!v)
                return;
        tg_journal_chain_free(v->chain);
        free(v);
}
DEFINE_TRIVIAL_CLEANUP_FUNC(tg_host_verify *, tg_host_verify_free);

int tg_host_verify_new(const tg_host_verify_options *opt, tg_host_verify **ret) {
        _cleanup_(tg_host_verify_freep) tg_host_verify *v = NULL;
        tg_journal_verify_options jo;
        int r;

        assert_return(opt && opt->host_id && ret, -EINVAL);
        assert_return(opt->silent_after_usec >= 0, -EINVAL);
        v = calloc(1, sizeof(*v));
        if (!v)
                return -ENOMEM;
        v->opt = *opt;
        if (v->opt.silent_after_usec == 0)
                v->opt.silent_after_usec = TG_HOST_VERIFY_SILENT_AFTER_USEC;
        jo = (tg_journal_verify_options){.seed = opt->seed,
                                         .host_id = opt->host_id,
                                         .have_checkpoint = opt->have_head,
                                         .checkpoint_seq = opt->head_seq,
                                         .have_start = opt->have_start,
                                         .start_seq = opt->start_seq,
                                         .start_key = opt->start_key,
                                         .report = on_chain_problem,
                                         .userdata = v};
        memcpy(jo.checkpoint_mac, opt->head_mac, sizeof(jo.checkpoint_mac));
        memcpy(jo.start_mac, opt->start_mac, sizeof(jo.start_mac));
        v->opt.start_key = NULL; /* the chain has its copy */
        r = tg_journal_chain_new(&jo, &v->chain);
        if (r < 0)
                return r;
        v->res.macs_checked = opt->seed != NULL;
        *ret = TAKE_PTR(v);
        return 0;
}

static bool same_string(const char *stored, const char *decoded) {
        return strcmp(stored ? stored : "", decoded) == 0;
}

/* Whether fields_json is exactly the record's fields: [["key","value"],...] in order. */
static bool same_fields(const char *fields_json, const tg_journal_record *rec) {
        _cleanup_(tg_json_putp) json_object *a = NULL;
        size_t n = tg_journal_record_n_fields(rec);

        if (!fields_json)
                return false;
        a = json_tokener_parse(fields_json);
        if (!a || !json_object_is_type(a, json_type_array) || json_object_array_length(a) != n)
                return false;
        for (size_t i = 0; i < n; i++) {
                json_object *pair = json_object_array_get_idx(a, i), *k, *val;
                const char *key, *value;
                if (!json_object_is_type(pair, json_type_array) || json_object_array_length(pair) != 2)
                        return false;
                k = json_object_array_get_idx(pair, 0);
                val = json_object_array_get_idx(pair, 1);
                if (!json_object_is_type(k, json_type_string) || !json_object_is_type(val, json_type_string))
                        return false;
                tg_journal_record_field(rec, i, &key, &value);
                /* a NUL inside a JSON string would end the C string early: compare lengths */
                if ((size_t) json_object_get_string_len(k) != strlen(key) ||
                    strcmp(json_object_get_string(k), key) != 0 ||
                    (size_t) json_object_get_string_len(val) != strlen(value) ||
                    strcmp(json_object_get_string(val), value) != 0)
                        return false;
        }
        return true;
}

/* The first column that does not say what the raw bytes say, or NULL. */
static const char *column_differs(const tg_host_row *row, const tg_journal_record *rec) {
        if (row->seq != tg_journal_record_seq(rec))
                return "seq";
        if (!row->boot_id || memcmp(row->boot_id, tg_journal_record_boot_id(rec), TG_JOURNAL_ID_SIZE) != 0)
                return "boot_id";
        if (row->time_usec != tg_journal_record_time(rec))
                return "time_usec";
        if (row->clock != (int) tg_journal_record_clock(rec))
                return "clock";
        if (row->priority != tg_journal_record_priority(rec))
                return "priority";
        if (!row->type || strcmp(row->type, tg_journal_record_type(rec)) != 0)
                return "type";
        if (row->uid != (int64_t) tg_journal_record_uid(rec))
                return "uid";
        if (row->pid != (int64_t) tg_journal_record_pid(rec))
                return "pid";
        if (!same_string(row->comm, tg_journal_record_comm(rec)))
                return "comm";
        if (!same_string(row->unit, tg_journal_record_unit(rec)))
                return "unit";
        if (!same_fields(row->fields_json, rec))
                return "fields";
        if (!row->prev_mac || memcmp(row->prev_mac, tg_journal_record_prev_mac(rec), TG_JOURNAL_MAC_SIZE) != 0)
                return "prev_mac";
        if (!row->mac || memcmp(row->mac, tg_journal_record_mac(rec), TG_JOURNAL_MAC_SIZE) != 0)
                return "mac";
        return NULL;
}

int tg_host_verify_feed(tg_host_verify *v, const tg_host_row *row, const tg_journal_record **ret_rec) {
        const tg_journal_record *rec = NULL;
        const char *column;
        int r;

        assert_return(v && row && (row->raw || row->raw_len == 0), -EINVAL);
        v->res.records++;
        r = tg_journal_chain_feed(v->chain, row->raw ? row->raw : "", row->raw_len, &rec);
        if (r <= 0 || !rec)
                return r < 0 ? r : 0;
        if (v->res.first_seq == 0)
                v->res.first_seq = tg_journal_record_seq(rec);
        if (tg_journal_record_seq(rec) > v->res.last_seq)
                v->res.last_seq = tg_journal_record_seq(rec);
        if (tg_journal_record_time(rec) > v->res.last_seen_usec)
                v->res.last_seen_usec = tg_journal_record_time(rec);
        column = column_differs(row, rec);
        if (column) {
                tg_host_finding f = {
                        .kind = TG_HOST_FINDING_COLUMNS, .seq = tg_journal_record_seq(rec), .column = column};
                found(v, &f);
        }
        if (strcmp(tg_journal_record_type(rec), TG_JOURNAL_TYPE_CHECKPOINT) == 0 &&
            tg_journal_record_time(rec) > v->res.last_checkpoint_usec)
                v->res.last_checkpoint_usec = tg_journal_record_time(rec);
        if (tg_journal_record_clock(rec) == TG_JOURNAL_CLOCK_UNSYNCED) {
                /* one note per host (the first such record), the count in the result */
                v->res.clock_unsynchronised++;
                if (!v->clock_noted) {
                        tg_host_finding f = {
                                .kind = TG_HOST_FINDING_CLOCK, .note = true, .seq = tg_journal_record_seq(rec)};
                        v->clock_noted = true;
                        found(v, &f);
                }
        }
        if (ret_rec)
                *ret_rec = rec;
        return 1;
}

void tg_host_verify_conflict(tg_host_verify *v, uint64_t seq) {
        tg_host_finding f = {.kind = TG_HOST_FINDING_CONFLICT, .seq = seq};
        if (!v)
                return;
        v->res.conflicts++;
        found(v, &f);
}

bool tg_host_verify_state(const tg_host_verify *v, uint64_t *ret_seq, uint8_t ret_mac[TG_JOURNAL_MAC_SIZE],
                          uint8_t ret_key[TG_JOURNAL_MAC_SIZE]) {
        /* silence says nothing about the rows: a host switched off for the night keeps its state */
        if (!v || v->res.problems > (v->res.silent ? 1U : 0U))
                return false;
        return tg_journal_chain_state(v->chain, ret_seq, ret_mac, ret_key);
}

void tg_host_verify_end(tg_host_verify *v, tg_host_verify_result *ret) {
        tg_journal_verify_result jr;
        uint64_t last;
        int64_t since;

        if (!v || !ret)
                return;
        tg_journal_chain_end(v->chain, &jr);
        /* the records up to the start went by retention: only those after it may be missing */
        last = v->opt.have_start && v->opt.start_seq > v->res.last_seq ? v->opt.start_seq : v->res.last_seq;
        if (v->opt.known_last_seq > last) {
                tg_host_finding f = {.kind = TG_HOST_FINDING_JOURNAL,
                                     .journal = TG_JOURNAL_PROBLEM_TRUNCATED,
                                     .seq = last,
                                     .expected = v->opt.known_last_seq};
                found(v, &f);
        }
        if (v->opt.last_heartbeat_usec > 0)
                v->res.last_checkpoint_usec = v->opt.last_heartbeat_usec;
        since = v->res.last_checkpoint_usec > 0 ? v->res.last_checkpoint_usec : v->opt.enrolled_usec;
        if (v->opt.now_usec > 0 && v->opt.now_usec - since > v->opt.silent_after_usec) {
                tg_host_finding f = {.kind = TG_HOST_FINDING_SILENT,
                                     .seq = v->res.last_seq,
                                     .since_usec = v->res.last_checkpoint_usec};
                v->res.silent = true;
                found(v, &f);
        }
        *ret = v->res;
}
