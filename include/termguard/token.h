/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * The token registry: the security keys and IC card readers (マイナンバーカード, JPKI, FIDO) of
 * this terminal, by model (vendor and product id) and, where given, serial number, each with a
 * kind, a label and an optional owner. One registry, one lookup (tg_token_match) for every use:
 *
 *   - the USB gate gives the seat user raw access (usbfs, hidraw) to a device that matches an
 *     entry (and has no storage that is not read-write: lib/policy.c);
 *   - the idle lock locks the owner's sessions when the owner's key is unplugged or the IC card
 *     leaves the owner's reader, and the seat's sessions for an ownerless reader.
 *
 * Entries come from two places: the registry file (StateDirectory/tokens.json, written
 * atomically by termguardctl token add/remove through termguardd) and the configuration, where
 * every model in [USB] RawAccess= is an ownerless entry labelled "RawAccess=MODEL" of kind
 * "any" (tg_token_registry_add_models). A configuration entry is never saved to the file; an
 * entry of the file for the same device (same model and serial) takes its place.
 *
 * A model as text is VID:PID or VID:PID/SERIAL: four hex digits each (either case), and a serial
 * of 1 to TG_SERIAL_MAX printable ASCII characters without spaces, exactly as the device reports
 * it. Serials in the file follow the same rule. VID, PID and serial are what the device claims:
 * a clone of a registered model matches it too. A serial narrows a model to one device.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "termguard/register.h" /* TG_LABEL_MAX, TG_SERIAL_MAX, TG_USER_MAX, TG_NAME_MAX */

#define TG_TOKENS_MAX 1000
#define TG_RAW_ACCESS_MODELS_MAX 64 /* models in RawAccess= */
/* The longest model as text: "vvvv:pppp/" and the serial. */
#define TG_TOKEN_TEXT_MAX (10 + TG_SERIAL_MAX)
/* Labels of configuration entries start with this; registered labels may not. */
#define TG_TOKEN_CONFIG_LABEL_PREFIX "RawAccess="

typedef enum {
        TG_TOKEN_SECURITY_KEY, /* FIDO2/U2F and similar keys */
        TG_TOKEN_CARD_READER,  /* PC/SC IC card readers (CCID) */
        TG_TOKEN_ANY,          /* either: entries of RawAccess=, which does not say */
        _TG_TOKEN_KIND_MAX,
} tg_token_kind;

const char *tg_token_kind_to_string(tg_token_kind k);
int tg_token_kind_from_string(const char *s, tg_token_kind *ret);

typedef struct {
        char label[TG_LABEL_MAX + 1];
        tg_token_kind kind;
        uint16_t vid, pid;
        char serial[TG_SERIAL_MAX + 1]; /* empty: every device of the model */
        char owner[TG_USER_MAX + 1];    /* empty: nobody's */
        char added_by[TG_NAME_MAX + 1];
        int64_t added_at;
        bool from_config; /* a model of RawAccess=: not saved, not removable by label */
} tg_token;

typedef struct {
        tg_token *tokens;
        size_t n_tokens;
} tg_token_registry;

/* A model as RawAccess= names it. */
typedef struct {
        uint16_t vid, pid;
        char serial[TG_SERIAL_MAX + 1]; /* empty: any serial */
} tg_token_model;

/* RawAccess=: every line adds models, an empty one empties the list (as systemd's list
 * settings). */
typedef struct {
        size_t n;
        tg_token_model models[TG_RAW_ACCESS_MODELS_MAX];
} tg_token_list;

/* Parses one model of len bytes. Returns 0 or -EINVAL; ret is untouched on failure. */
int tg_token_model_parse(const char *text, size_t len, tg_token_model *ret);
/* "vvvv:pppp" or "vvvv:pppp/SERIAL", lower-case hex. Returns the length, or -ENOBUFS. */
int tg_token_model_format(const tg_token_model *model, char *buf, size_t size);
/* Parses models separated by spaces or tabs and adds them to list; an empty text empties it.
 * Returns 0, -EINVAL for a model that does not parse, -E2BIG past TG_RAW_ACCESS_MODELS_MAX;
 * list is untouched on failure. */
int tg_token_list_extend(tg_token_list *list, const char *text);

void tg_token_registry_clear(tg_token_registry *reg);
int tg_token_registry_copy(const tg_token_registry *src, tg_token_registry *ret);

/* A missing file is an empty registry; a malformed or unreadable one is an error (-EBADMSG,
 * -EACCES...) with the file and entry named in err. ret is untouched on error. */
int tg_token_registry_load(const char *path, tg_token_registry *ret, char *err, size_t err_size);
/* The entries of the file alone (not those of the configuration), atomically (temporary file,
 * fsync, rename), mode 0600. */
int tg_token_registry_save(const char *path, const tg_token_registry *reg);

/* Adds the models of RawAccess= as ownerless configuration entries. A model the registry
 * holds already (same VID, PID and serial), or named twice, is added once. Returns 0, or
 * -E2BIG (registry full) with reg untouched. */
int tg_token_registry_add_models(tg_token_registry *reg, const tg_token_list *models, char *err, size_t err_size);

/* Validates t (label, kind, serial, owner as text; a label not yet used; not the same device
 * twice) and appends it. A configuration entry for the same device gives way to t. -EINVAL
 * (bad or duplicate) or -E2BIG with the reason in err. */
int tg_token_add(tg_token_registry *reg, const tg_token *t, char *err, size_t err_size);
/* -ENOENT when no token has that label, -EPERM for a configuration entry. */
int tg_token_remove(tg_token_registry *reg, const char *label);
const tg_token *tg_token_find_label(const tg_token_registry *reg, const char *label);

/* True when reader, a PC/SC reader's name as pcscd gives it, carries serial the way pcsc-lite
 * names USB readers: "NAME (SERIAL) 00 00", the serial in parentheses after a space and before
 * a space or the end. Serials that break the model rule (empty, spaces...) never match. */
bool tg_token_reader_names_serial(const char *reader, const char *serial);

/* The token a device is: an entry for its serial comes before one for its whole model, so a
 * registered key's owner is found even where RawAccess= names its model. serial may be NULL
 * or empty (a device without one matches model entries only). NULL: not a registered token. */
const tg_token *tg_token_match(const tg_token_registry *reg, uint16_t vid, uint16_t pid, const char *serial);
