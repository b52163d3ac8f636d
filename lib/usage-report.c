/* SPDX-License-Identifier: GPL-2.0-or-later */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "termguard/macro.h"
#include "termguard/usage-report.h"

void tg_usage_report_init(tg_usage_report *r, int64_t from_usec, int64_t to_usec) {
        *r = (tg_usage_report){.from_usec = from_usec, .to_usec = to_usec};
}

void tg_usage_report_clear(tg_usage_report *r) {
        free(r->uses);
        free(r->open);
        r->uses = NULL;
        r->open = NULL;
        r->n_uses = r->alloc = r->n_open = r->open_alloc = 0;
}

static const char *get(const tg_usage_record *rec, const char *key) {
        for (size_t i = 0; i < rec->n_fields; i++)
                if (strcmp(rec->keys[i], key) == 0)
                        return rec->values[i];
        return NULL;
}

static void set(char *dst, size_t size, const char *v) {
        if (v && *v)
                snprintf(dst, size, "%s", v);
}

/* The use of this device in this boot that is still open, or NULL. */
static tg_usage_use *find_open(tg_usage_report *r, const char *boot_device) {
        for (size_t i = r->n_open; i-- > 0;)
                if (strcmp(r->uses[r->open[i]].boot_device, boot_device) == 0)
                        return &r->uses[r->open[i]];
        return NULL;
}

static void close_use(tg_usage_report *r, tg_usage_use *u) {
        size_t idx = (size_t) (u - r->uses);
        u->open = false;
        for (size_t i = 0; i < r->n_open; i++)
                if (r->open[i] == idx) {
                        r->open[i] = r->open[--r->n_open];
                        return;
                }
}

static int new_use(tg_usage_report *r, const char *boot_device, int64_t t, tg_usage_use **ret) {
        if (r->n_uses == r->alloc) {
                size_t alloc = r->alloc ? r->alloc * 2 : 64;
                tg_usage_use *p;
                if (r->n_uses >= TG_USAGE_USES_MAX)
                        return -E2BIG;
                p = realloc(r->uses, alloc * sizeof(*p));
                if (!p)
                        return -ENOMEM;
                r->uses = p;
                r->alloc = alloc;
        }
        if (r->n_open == r->open_alloc) {
                size_t alloc = r->open_alloc ? r->open_alloc * 2 : 16;
                size_t *p = realloc(r->open, alloc * sizeof(*p));
                if (!p)
                        return -ENOMEM;
                r->open = p;
                r->open_alloc = alloc;
        }
        r->open[r->n_open++] = r->n_uses;
        tg_usage_use *u = &r->uses[r->n_uses++];
        *u = (tg_usage_use){.attached_usec = t, .open = true};
        snprintf(u->boot_device, sizeof(u->boot_device), "%s", boot_device);
        *ret = u;
        return 0;
}

static void take_identity(tg_usage_use *u, const tg_usage_record *rec) {
        set(u->vid, sizeof(u->vid), get(rec, "vid"));
        set(u->pid, sizeof(u->pid), get(rec, "pid"));
        set(u->serial, sizeof(u->serial), get(rec, "serial"));
        set(u->label, sizeof(u->label), get(rec, "label"));
        set(u->user, sizeof(u->user), get(rec, "user"));
        set(u->exception, sizeof(u->exception), get(rec, "exception"));
        set(u->host_id, sizeof(u->host_id), rec->host_id);
        set(u->department, sizeof(u->department), rec->department);
}

bool tg_usage_decision_is_storage(const char *decision, const char *interfaces) {
        static const char *const storage[] = {"read-only", "read-write", "storage-blocked", "partial"};
        for (size_t i = 0; i < ELEMENTSOF(storage); i++)
                if (strcmp(decision, storage[i]) == 0)
                        return true;
        return interfaces && (strstr(interfaces, ":08:") || strstr(interfaces, ":06:"));
}

int tg_usage_report_add(tg_usage_report *r, const tg_usage_record *rec) {
        char boot_device[3 * TG_USAGE_TEXT_MAX];
        const char *device = get(rec, "device");
        tg_usage_use *u;
        int k;

        if (rec->time_usec >= r->to_usec || !device || !*device)
                return 0;
        snprintf(boot_device, sizeof(boot_device), "%.40s/%.40s/%.*s", rec->host_id ? rec->host_id : "",
                 rec->boot_id ? rec->boot_id : "", TG_USAGE_TEXT_MAX, device);
        u = find_open(r, boot_device);
        if (strcmp(rec->type, "usb.attach") == 0) {
                if (u)
                        close_use(r, u); /* a detach was never recorded: that use ends unknown */
                k = new_use(r, boot_device, rec->time_usec, &u);
                if (k < 0)
                        return k;
                take_identity(u, rec);
        } else if (strcmp(rec->type, "usb.decision") == 0) {
                const char *decision = get(rec, "decision");
                if (!u) { /* judged at startup or again: the device was there already */
                        k = new_use(r, boot_device, rec->time_usec, &u);
                        if (k < 0)
                                return k;
                }
                take_identity(u, rec);
                set(u->decision, sizeof(u->decision), decision);
                if (decision && tg_usage_decision_is_storage(decision, get(rec, "interfaces")))
                        u->storage = true;
        } else if (strcmp(rec->type, "usb.detach") == 0) {
                if (u) {
                        u->detached_usec = rec->time_usec;
                        close_use(r, u);
                }
        } else if (strcmp(rec->type, "media.file-written") == 0) {
                if (u)
                        u->files_written++;
        }
        return 0;
}

void tg_usage_report_finish(tg_usage_report *r) {
        size_t k = 0;
        for (size_t i = 0; i < r->n_uses; i++) {
                tg_usage_use *u = &r->uses[i];
                bool overlaps =
                        u->attached_usec < r->to_usec && (u->detached_usec == 0 || u->detached_usec >= r->from_usec);
                if (!u->storage || !overlaps)
                        continue;
                if (u->label[0])
                        snprintf(u->medium, sizeof(u->medium), "%s", u->label);
                else
                        snprintf(u->medium, sizeof(u->medium), "%s:%s %.100s", u->vid, u->pid, u->serial);
                r->uses[k++] = *u;
        }
        r->n_uses = k;
        r->n_open = 0; /* the indexes no longer hold; nothing is added after finishing */
}

static int cmp_total(const void *a, const void *b) {
        return strcmp(((const tg_usage_total *) a)->key, ((const tg_usage_total *) b)->key);
}

int tg_usage_report_totals(const tg_usage_report *r, bool by_user, tg_usage_total **ret, size_t *ret_n) {
        _cleanup_free_ tg_usage_total *t = calloc(r->n_uses ? r->n_uses : 1, sizeof(*t));
        size_t n = 0;
        if (!t)
                return -ENOMEM;
        /* one total a use, sorted by key, then the equal ones merged: O(n log n) for a fleet */
        for (size_t i = 0; i < r->n_uses; i++) {
                const tg_usage_use *u = &r->uses[i];
                tg_usage_total *x = &t[i];
                snprintf(x->key, sizeof(x->key), "%s", by_user ? u->user : u->medium);
                x->uses = 1;
                x->blocked = strcmp(u->decision, "blocked") == 0 || strcmp(u->decision, "storage-blocked") == 0;
                x->files_written = u->files_written;
                x->first_usec = x->last_usec = u->attached_usec;
        }
        if (r->n_uses > 0)
                qsort(t, r->n_uses, sizeof(*t), cmp_total);
        for (size_t i = 0; i < r->n_uses; i++) {
                tg_usage_total *x = n > 0 && strcmp(t[n - 1].key, t[i].key) == 0 ? &t[n - 1] : NULL;
                if (!x) {
                        t[n++] = t[i];
                        continue;
                }
                x->uses += t[i].uses;
                x->blocked += t[i].blocked;
                x->files_written += t[i].files_written;
                if (t[i].first_usec < x->first_usec)
                        x->first_usec = t[i].first_usec;
                if (t[i].last_usec > x->last_usec)
                        x->last_usec = t[i].last_usec;
        }
        *ret = TAKE_PTR(t);
        *ret_n = n;
        return 0;
}
