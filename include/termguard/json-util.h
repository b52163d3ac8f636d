/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "termguard/macro.h"

/* Readers for one field of a JSON object, for every file and message termguard parses. A field
 * that is required and missing (or null), of the wrong type, too long for its buffer, holding a
 * NUL, or out of range is -EBADMSG with the key named in err; an optional field that is missing
 * (or null, for strings) gives "" / 0 / false. On failure the output is untouched. */
typedef enum {
        TG_JSON_OPTIONAL,
        TG_JSON_REQUIRED,
} tg_json_need;

/* Copies the string (at most size - 1 bytes) into ret. */
int tg_json_get_string(json_object *o, const char *key, tg_json_need need, char *ret, size_t size, char *err,
                       size_t err_size);
/* The string in place (valid as long as o is), at most max_len bytes. */
int tg_json_get_string_ref(json_object *o, const char *key, tg_json_need need, size_t max_len, const char **ret,
                           char *err, size_t err_size);
/* An integer (not a string or a double) in [min, max]. null counts as the wrong type. */
int tg_json_get_int64(json_object *o, const char *key, tg_json_need need, int64_t min, int64_t max, int64_t *ret,
                      char *err, size_t err_size);
/* true or false (not 0, 1 or a string). */
int tg_json_get_bool(json_object *o, const char *key, tg_json_need need, bool *ret, char *err, size_t err_size);

/* Overwrites the text of the string field key of o in json-c's own buffer, before the object
 * is freed: for fields that held a secret. */
void tg_json_wipe_string(json_object *o, const char *key);

static inline void tg_json_putp(json_object **o) {
        json_object_put(*o);
}
static inline void tg_json_tokener_freep(struct json_tokener **t) {
        if (*t)
                json_tokener_free(*t);
}
#define _cleanup_json_ _cleanup_(tg_json_putp)
#define _cleanup_json_tokener_ _cleanup_(tg_json_tokener_freep)
