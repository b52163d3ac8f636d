/* SPDX-License-Identifier: GPL-2.0-or-later */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "termguard/json-util.h"

static int bad(char *err, size_t err_size, const char *fmt, const char *key) {
        if (err && err_size)
                snprintf(err, err_size, fmt, key);
        return -EBADMSG;
}

/* Finds the field: 1 present (*ret NULL for a JSON null, unless null counts as missing), 0
 * missing (an error when required). */
static int field(json_object *o, const char *key, tg_json_need need, bool null_is_missing, json_object **ret, char *err,
                 size_t err_size) {
        json_object *v = NULL;
        if (!json_object_is_type(o, json_type_object))
                return bad(err, err_size, "not an object where \"%s\" was expected", key);
        bool present = json_object_object_get_ex(o, key, &v) && !(null_is_missing && !v);
        if (!present && need == TG_JSON_REQUIRED)
                return bad(err, err_size, "missing field \"%s\"", key);
        *ret = v;
        return present;
}

int tg_json_get_string_ref(json_object *o, const char *key, tg_json_need need, size_t max_len, const char **ret,
                           char *err, size_t err_size) {
        json_object *v;
        int r;

        assert_return(key && ret, -EINVAL);
        r = field(o, key, need, true, &v, err, err_size);
        if (r < 0)
                return r;
        if (r == 0) {
                *ret = "";
                return 0;
        }
        if (!json_object_is_type(v, json_type_string))
                return bad(err, err_size, "field \"%s\" is not a string", key);
        const char *s = json_object_get_string(v);
        size_t len = (size_t) json_object_get_string_len(v);
        if (len > max_len)
                return bad(err, err_size, "field \"%s\" is too long", key);
        if (strlen(s) != len)
                return bad(err, err_size, "field \"%s\" contains a NUL byte", key);
        *ret = s;
        return 0;
}

int tg_json_get_string(json_object *o, const char *key, tg_json_need need, char *ret, size_t size, char *err,
                       size_t err_size) {
        const char *s;
        int r;

        assert_return(key && ret && size > 0, -EINVAL);
        r = tg_json_get_string_ref(o, key, need, size - 1, &s, err, err_size);
        if (r < 0)
                return r;
        memcpy(ret, s, strlen(s) + 1);
        return 0;
}

int tg_json_get_int64(json_object *o, const char *key, tg_json_need need, int64_t min, int64_t max, int64_t *ret,
                      char *err, size_t err_size) {
        json_object *v;
        int r;

        assert_return(key && ret && min <= max, -EINVAL);
        r = field(o, key, need, false, &v, err, err_size);
        if (r < 0)
                return r;
        if (r == 0) {
                *ret = 0;
                return 0;
        }
        if (!json_object_is_type(v, json_type_int))
                return bad(err, err_size, "field \"%s\" is not an integer", key);
        /* json-c gives INT64_MAX for a number above it (kept as uint64): out of range too. */
        int64_t x = json_object_get_int64(v);
        if (x < min || x > max || (x == INT64_MAX && json_object_get_uint64(v) != (uint64_t) INT64_MAX))
                return bad(err, err_size, "field \"%s\" is out of range", key);
        *ret = x;
        return 0;
}

int tg_json_get_bool(json_object *o, const char *key, tg_json_need need, bool *ret, char *err, size_t err_size) {
        json_object *v;
        int r;

        assert_return(key && ret, -EINVAL);
        r = field(o, key, need, false, &v, err, err_size);
        if (r < 0)
                return r;
        if (r == 0) {
                *ret = false;
                return 0;
        }
        if (!json_object_is_type(v, json_type_boolean))
                return bad(err, err_size, "field \"%s\" is not true or false", key);
        *ret = json_object_get_boolean(v);
        return 0;
}

void tg_json_wipe_string(json_object *o, const char *key) {
        json_object *v;
        if (o && json_object_object_get_ex(o, key, &v) && json_object_is_type(v, json_type_string))
                explicit_bzero((char *) json_object_get_string(v), (size_t) json_object_get_string_len(v));
}
