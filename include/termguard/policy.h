/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>

#include "termguard/register.h"
#include "termguard/token.h"
#include "termguard/usbdesc.h"

typedef struct {
        bool allow_class[256];    /* interface classes that pass without registration */
        tg_token_list raw_access; /* RawAccess=: models added to the token registry as it loads */
} tg_usb_policy;

void tg_usb_policy_default(tg_usb_policy *p);

typedef struct {
        uint8_t config_value, number;
        bool allow;
        tg_iface_kind kind;
        uint8_t cls;
        char reason[96];
} tg_iface_verdict;

typedef struct {
        bool authorize_device;        /* at least one interface may pass */
        bool has_storage;             /* storage-like interfaces present */
        tg_mode storage_mode;         /* mode in force for storage interfaces that pass */
        char label[TG_LABEL_MAX + 1]; /* register label, empty when unregistered */
        uint64_t exception_id;        /* exception in force, 0 if none */
        /* Raw access (usbfs, hidraw) for the seat user: a token of the registry without storage,
         * or a medium whose storage is read-write. Never for a device that is blocked or has
         * storage that is read-only or denied: usbfs reaches every interface of the device. */
        bool raw_access;
        size_t n_ifaces;
        tg_iface_verdict ifaces[TG_USB_MAX_INTERFACES];
        char reason[160]; /* one line for staff and the log */
} tg_decision;

/* Judges one device. serial may be NULL or empty (a device without serial can never match
 * the register). tokens is the token registry with the models of RawAccess= in it (NULL:
 * none). user is the user on the seat or NULL. */
void tg_usb_decide(const tg_usb_policy *policy, const tg_register *reg, const tg_token_registry *tokens,
                   const tg_usb_descriptors *desc, const char *serial, const char *user, int64_t now, tg_decision *ret);

/* The verdict for the interface (config, number), or NULL when the descriptors never declared
 * it (then it must not pass). */
const tg_iface_verdict *tg_decision_iface(const tg_decision *d, uint8_t config_value, uint8_t number);
bool tg_decision_equal(const tg_decision *a, const tg_decision *b);
