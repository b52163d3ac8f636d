/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * The token registry: security keys and IC card readers the administrator registered, by
 * model (vendor and product id) and, where given, serial number, each with an optional owner.
 * One registry serves every use of it: the idle lock locks the owner's sessions when the
 * owner's token is pulled, and the USB gate's raw-access allow-list can look devices up in it
 * (tg_token_match). Kept in its own file (StateDirectory/tokens.json), written atomically.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "termguard/register.h" /* TG_LABEL_MAX, TG_SERIAL_MAX, TG_USER_MAX, TG_NAME_MAX */

#define TG_TOKENS_MAX 1000

typedef enum {
        TG_TOKEN_SECURITY_KEY, /* FIDO2/U2F and similar keys */
        TG_TOKEN_CARD_READER,  /* PC/SC IC card readers (CCID) */
        _TG_TOKEN_KIND_MAX,
} tg_token_kind;

const char *tg_token_kind_to_string(tg_token_kind k);
int tg_token_kind_from_string(const char *s, tg_token_kind *ret);

typedef struct {
        char label[TG_LABEL_MAX + 1];
        tg_token_kind kind;
        uint16_t vid, pid;
        char serial[TG_SERIAL_MAX + 1]; /* empty: every device of the model */
        char owner[TG_USER_MAX + 1];    /* empty: nobody's (the allow-list only) */
        char added_by[TG_NAME_MAX + 1];
        int64_t added_at;
} tg_token;

typedef struct {
        tg_token *tokens;
        size_t n_tokens;
} tg_token_registry;

void tg_token_registry_clear(tg_token_registry *reg);
int tg_token_registry_copy(const tg_token_registry *src, tg_token_registry *ret);

/* A missing file is an empty registry; a malformed or unreadable one is an error (-EBADMSG,
 * -EACCES...) with the file and entry named in err. ret is untouched on error. */
int tg_token_registry_load(const char *path, tg_token_registry *ret, char *err, size_t err_size);
/* Atomically (temporary file, fsync, rename), mode 0600. */
int tg_token_registry_save(const char *path, const tg_token_registry *reg);

/* Validates t (label, serial, owner as text; a label not yet used; not the same device twice)
 * and appends it. -EINVAL (bad or duplicate) or -E2BIG with the reason in err. */
int tg_token_add(tg_token_registry *reg, const tg_token *t, char *err, size_t err_size);
/* -ENOENT when no token has that label. */
int tg_token_remove(tg_token_registry *reg, const char *label);
const tg_token *tg_token_find_label(const tg_token_registry *reg, const char *label);

/* The token a device is: an entry for its serial comes before one for its whole model.
 * serial may be NULL or empty (a device without one matches model entries only). */
const tg_token *tg_token_match(const tg_token_registry *reg, uint16_t vid, uint16_t pid, const char *serial);
