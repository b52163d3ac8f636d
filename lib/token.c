/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The token registry (security keys and card readers, their owners, the models of RawAccess=):
 * one file, one API, one lookup. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>

#include "termguard/escape.h"
#include "termguard/fileio.h"
#include "termguard/hex.h"
#include "termguard/json-util.h"
#include "termguard/macro.h"
#include "termguard/timeutil.h"
#include "termguard/token.h"

#define TOKENS_FILE_MAX (1024 * 1024)

static const char *const kind_names[_TG_TOKEN_KIND_MAX] = {
        [TG_TOKEN_SECURITY_KEY] = "security-key",
        [TG_TOKEN_CARD_READER] = "card-reader",
        [TG_TOKEN_ANY] = "any",
};

const char *tg_token_kind_to_string(tg_token_kind k) {
        return k >= 0 && k < _TG_TOKEN_KIND_MAX ? kind_names[k] : NULL;
}

int tg_token_kind_from_string(const char *s, tg_token_kind *ret) {
        for (size_t i = 0; s && i < ELEMENTSOF(kind_names); i++)
                if (strcmp(kind_names[i], s) == 0) {
                        *ret = (tg_token_kind) i;
                        return 0;
                }
        return -EINVAL;
}

/* Exactly four hex digits. */
static int parse_id(const char *s, uint16_t *ret) {
        char text[5];
        uint8_t b[2];
        size_t n;

        memcpy(text, s, 4);
        text[4] = '\0';
        if (tg_hex_decode(text, b, sizeof(b), &n) < 0 || n != 2)
                return -EINVAL;
        *ret = (uint16_t) (b[0] << 8 | b[1]);
        return 0;
}

/* Printable ASCII without space, quote or backslash: a serial that passes is also safe in
 * logs, in udev properties, in a label and in a RawAccess= line as it stands. Where the
 * registry file and RawAccess= had different rules, this is the stricter of both (the file
 * allowed spaces and non-ASCII text, RawAccess= quotes and backslashes). */
static bool serial_ok(const char *s, size_t len) {
        if (len == 0 || len > TG_SERIAL_MAX)
                return false;
        for (size_t i = 0; i < len; i++)
                if (s[i] <= ' ' || s[i] > '~' || s[i] == '"' || s[i] == '\\')
                        return false;
        return true;
}

int tg_token_model_parse(const char *text, size_t len, tg_token_model *ret) {
        tg_token_model m = {0};

        assert_return(text && ret, -EINVAL);
        if (len < 9 || text[4] != ':' || parse_id(text, &m.vid) < 0 || parse_id(text + 5, &m.pid) < 0)
                return -EINVAL;
        if (len > 9) {
                if (text[9] != '/' || !serial_ok(text + 10, len - 10))
                        return -EINVAL;
                memcpy(m.serial, text + 10, len - 10);
        }
        *ret = m;
        return 0;
}

int tg_token_model_format(const tg_token_model *model, char *buf, size_t size) {
        int n;

        assert_return(model && buf, -EINVAL);
        n = snprintf(buf, size, "%04x:%04x%s%s", model->vid, model->pid, model->serial[0] ? "/" : "", model->serial);
        if (n < 0 || (size_t) n >= size)
                return -ENOBUFS;
        return n;
}

int tg_token_list_extend(tg_token_list *list, const char *text) {
        tg_token_list l;

        assert_return(text && list, -EINVAL);
        if (text[strspn(text, " \t")] == '\0') {
                list->n = 0;
                return 0;
        }
        l = *list;
        for (const char *p = text + strspn(text, " \t"); *p; p += strspn(p, " \t")) {
                size_t n = strcspn(p, " \t");
                if (l.n >= TG_RAW_ACCESS_MODELS_MAX)
                        return -E2BIG;
                if (tg_token_model_parse(p, n, &l.models[l.n]) < 0)
                        return -EINVAL;
                l.n++;
                p += n;
        }
        *list = l;
        return 0;
}

void tg_token_registry_clear(tg_token_registry *reg) {
        if (!reg)
                return;
        free(reg->tokens);
        *reg = (tg_token_registry){0};
}

int tg_token_registry_copy(const tg_token_registry *src, tg_token_registry *ret) {
        tg_token_registry c = {0};
        assert_return(src && ret, -EINVAL);
        c.tokens = calloc(src->n_tokens ? src->n_tokens : 1, sizeof(tg_token));
        if (!c.tokens)
                return -ENOMEM;
        if (src->n_tokens)
                memcpy(c.tokens, src->tokens, src->n_tokens * sizeof(tg_token));
        c.n_tokens = src->n_tokens;
        *ret = c;
        return 0;
}

const tg_token *tg_token_find_label(const tg_token_registry *reg, const char *label) {
        for (size_t i = 0; label && i < reg->n_tokens; i++)
                if (strcmp(reg->tokens[i].label, label) == 0)
                        return &reg->tokens[i];
        return NULL;
}

bool tg_token_reader_names_serial(const char *reader, const char *serial) {
        size_t n;

        if (!reader || !serial || !serial_ok(serial, strlen(serial)))
                return false;
        n = strlen(serial);
        for (const char *p = strstr(reader, serial); p; p = strstr(p + 1, serial))
                if (p - reader >= 2 && p[-1] == '(' && p[-2] == ' ' && p[n] == ')' && (p[n + 1] == ' ' || !p[n + 1]))
                        return true;
        return false;
}

const tg_token *tg_token_match(const tg_token_registry *reg, uint16_t vid, uint16_t pid, const char *serial) {
        const tg_token *model = NULL;
        for (size_t i = 0; reg && i < reg->n_tokens; i++) {
                const tg_token *t = &reg->tokens[i];
                if (t->vid != vid || t->pid != pid)
                        continue;
                if (!t->serial[0]) {
                        if (!model)
                                model = t;
                } else if (serial && strcmp(t->serial, serial) == 0)
                        return t;
        }
        return model;
}

static int fail(char *err, size_t err_size, int r, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static int fail(char *err, size_t err_size, int r, const char *fmt, ...) {
        va_list ap;
        if (err && err_size) {
                va_start(ap, fmt);
                vsnprintf(err, err_size, fmt, ap);
                va_end(ap);
        }
        return r;
}

static bool same_device(const tg_token *a, const tg_token *b) {
        return a->vid == b->vid && a->pid == b->pid && strcmp(a->serial, b->serial) == 0;
}

static int validate(const tg_token_registry *reg, const tg_token *t, char *err, size_t err_size) {
        if (!tg_valid_text(t->label, TG_LABEL_MAX, false))
                return fail(err, err_size, -EINVAL, "label: expected a name of at most %d characters without spaces",
                            TG_LABEL_MAX);
        if (t->from_config !=
            (strncmp(t->label, TG_TOKEN_CONFIG_LABEL_PREFIX, strlen(TG_TOKEN_CONFIG_LABEL_PREFIX)) == 0))
                return fail(err, err_size, -EINVAL,
                            "label: %s... is kept for the models of RawAccess=", TG_TOKEN_CONFIG_LABEL_PREFIX);
        if (!tg_token_kind_to_string(t->kind) || (t->kind == TG_TOKEN_ANY) != t->from_config)
                return fail(err, err_size, -EINVAL, "kind: expected security-key or card-reader");
        if (t->serial[0] && !serial_ok(t->serial, strlen(t->serial)))
                return fail(err, err_size, -EINVAL,
                            "serial: expected 1 to %d printable ASCII characters without spaces", TG_SERIAL_MAX);
        if (t->owner[0] && (t->from_config || !tg_valid_text(t->owner, TG_USER_MAX, false)))
                return fail(err, err_size, -EINVAL, "owner: expected a user name of at most %d characters",
                            TG_USER_MAX);
        if (t->added_by[0] && !tg_valid_text(t->added_by, TG_NAME_MAX, true))
                return fail(err, err_size, -EINVAL, "added_by: not printable text");
        if (t->added_at < 0 || t->added_at > TG_TIME_MAX)
                return fail(err, err_size, -EINVAL, "added_at: out of range");
        if (tg_token_find_label(reg, t->label))
                return fail(err, err_size, -EINVAL, "label %s is already registered", t->label);
        for (size_t i = 0; i < reg->n_tokens; i++) {
                const tg_token *o = &reg->tokens[i];
                /* A registered entry may take the place of a RawAccess= model (to give it an
                 * owner): both allow the same raw access. */
                if (same_device(o, t) && !(o->from_config && !t->from_config))
                        return fail(err, err_size, -EINVAL, "%04x:%04x%s%s is already registered as %s", t->vid, t->pid,
                                    t->serial[0] ? " serial " : "", t->serial, o->label);
        }
        if (reg->n_tokens >= TG_TOKENS_MAX)
                return fail(err, err_size, -E2BIG, "the registry holds at most %d tokens", TG_TOKENS_MAX);
        return 0;
}

static void remove_at(tg_token_registry *reg, size_t i) {
        memmove(&reg->tokens[i], &reg->tokens[i + 1], (reg->n_tokens - i - 1) * sizeof(tg_token));
        reg->n_tokens--;
}

int tg_token_add(tg_token_registry *reg, const tg_token *t, char *err, size_t err_size) {
        tg_token *p;
        int r;

        assert_return(reg && t, -EINVAL);
        r = validate(reg, t, err, err_size);
        if (r < 0)
                return r;
        for (size_t i = 0; i < reg->n_tokens; i++)
                if (reg->tokens[i].from_config && same_device(&reg->tokens[i], t)) {
                        remove_at(reg, i);
                        break;
                }
        p = realloc(reg->tokens, (reg->n_tokens + 1) * sizeof(*p));
        if (!p)
                return -ENOMEM;
        reg->tokens = p;
        reg->tokens[reg->n_tokens++] = *t;
        return 0;
}

int tg_token_remove(tg_token_registry *reg, const char *label) {
        for (size_t i = 0; label && i < reg->n_tokens; i++)
                if (strcmp(reg->tokens[i].label, label) == 0) {
                        if (reg->tokens[i].from_config)
                                return -EPERM;
                        remove_at(reg, i);
                        return 0;
                }
        return -ENOENT;
}

int tg_token_registry_add_models(tg_token_registry *reg, const tg_token_list *models, char *err, size_t err_size) {
        tg_token_registry c;
        int r;

        assert_return(reg && models, -EINVAL);
        r = tg_token_registry_copy(reg, &c);
        if (r < 0)
                return r;
        for (size_t i = 0; i < models->n && i < TG_RAW_ACCESS_MODELS_MAX; i++) {
                const tg_token_model *m = &models->models[i];
                tg_token t = {.kind = TG_TOKEN_ANY, .vid = m->vid, .pid = m->pid, .from_config = true};
                char text[TG_TOKEN_TEXT_MAX + 1];
                bool known = false;

                snprintf(t.serial, sizeof(t.serial), "%s", m->serial);
                for (size_t k = 0; k < c.n_tokens && !known; k++)
                        known = same_device(&c.tokens[k], &t);
                if (known)
                        continue;
                (void) tg_token_model_format(m, text, sizeof(text)); /* fits: TG_TOKEN_TEXT_MAX */
                /* "RawAccess=" and a model fit TG_LABEL_MAX only without a long serial: then
                 * the serial is left out of the label and its place in the list makes it
                 * unique (the entry keeps the whole serial). */
                if ((size_t) snprintf(t.label, sizeof(t.label), "%s%s", TG_TOKEN_CONFIG_LABEL_PREFIX, text) >=
                    sizeof(t.label))
                        snprintf(t.label, sizeof(t.label), "%s%04x:%04x/~%zu", TG_TOKEN_CONFIG_LABEL_PREFIX, m->vid,
                                 m->pid, i + 1);
                snprintf(t.added_by, sizeof(t.added_by), "%s", "termguard.conf");
                r = tg_token_add(&c, &t, err, err_size);
                if (r < 0) {
                        tg_token_registry_clear(&c);
                        return r;
                }
        }
        tg_token_registry_clear(reg);
        *reg = c;
        return 0;
}

static int token_from_json(json_object *o, tg_token *t, char *err, size_t err_size) {
        char kind[32];
        int64_t vid, pid;

        if (!json_object_is_type(o, json_type_object))
                return fail(err, err_size, -EBADMSG, "not an object");
        if (tg_json_get_string(o, "label", TG_JSON_REQUIRED, t->label, sizeof(t->label), err, err_size) < 0 ||
            tg_json_get_string(o, "kind", TG_JSON_REQUIRED, kind, sizeof(kind), err, err_size) < 0 ||
            tg_json_get_int64(o, "vid", TG_JSON_REQUIRED, 0, 0xffff, &vid, err, err_size) < 0 ||
            tg_json_get_int64(o, "pid", TG_JSON_REQUIRED, 0, 0xffff, &pid, err, err_size) < 0 ||
            tg_json_get_string(o, "serial", TG_JSON_OPTIONAL, t->serial, sizeof(t->serial), err, err_size) < 0 ||
            tg_json_get_string(o, "owner", TG_JSON_OPTIONAL, t->owner, sizeof(t->owner), err, err_size) < 0 ||
            tg_json_get_string(o, "added_by", TG_JSON_OPTIONAL, t->added_by, sizeof(t->added_by), err, err_size) < 0 ||
            tg_json_get_int64(o, "added_at", TG_JSON_OPTIONAL, 0, TG_TIME_MAX, &t->added_at, err, err_size) < 0)
                return -EBADMSG;
        if (tg_token_kind_from_string(kind, &t->kind) < 0)
                return fail(err, err_size, -EBADMSG, "kind: expected security-key or card-reader");
        t->vid = (uint16_t) vid;
        t->pid = (uint16_t) pid;
        return 0;
}

int tg_token_registry_load(const char *path, tg_token_registry *ret, char *err, size_t err_size) {
        _cleanup_free_ char *buf = malloc(TOKENS_FILE_MAX + 1);
        _cleanup_json_tokener_ struct json_tokener *tok = NULL;
        _cleanup_json_ json_object *root = NULL;
        tg_token_registry reg = {0};
        json_object *arr;
        ssize_t n;

        assert_return(path && ret, -EINVAL);
        if (!buf)
                return -ENOMEM;
        n = tg_read_file(path, buf, TOKENS_FILE_MAX + 1);
        if (n == -ENOENT) {
                *ret = reg;
                return 0;
        }
        if (n < 0)
                return fail(err, err_size, (int) n, "%s: %s", path, strerror((int) -n));
        if (n > TOKENS_FILE_MAX)
                return fail(err, err_size, -EBADMSG, "%s: larger than %d bytes", path, TOKENS_FILE_MAX);
        tok = json_tokener_new_ex(8);
        if (!tok)
                return -ENOMEM;
        root = json_tokener_parse_ex(tok, buf, (int) n);
        if (!root || json_tokener_get_error(tok) != json_tokener_success ||
            json_tokener_get_parse_end(tok) != (size_t) n || !json_object_is_type(root, json_type_object) ||
            !json_object_object_get_ex(root, "tokens", &arr) || !json_object_is_type(arr, json_type_array))
                return fail(err, err_size, -EBADMSG, "%s: not a token registry (an object with a \"tokens\" array)",
                            path);
        if (json_object_array_length(arr) > TG_TOKENS_MAX)
                return fail(err, err_size, -EBADMSG, "%s: more than %d tokens", path, TG_TOKENS_MAX);
        for (size_t i = 0; i < json_object_array_length(arr); i++) {
                tg_token t = {0};
                char e2[256];
                int r = token_from_json(json_object_array_get_idx(arr, i), &t, e2, sizeof(e2));
                if (r >= 0)
                        r = tg_token_add(&reg, &t, e2, sizeof(e2));
                if (r < 0) {
                        tg_token_registry_clear(&reg);
                        return fail(err, err_size, r == -ENOMEM ? r : -EBADMSG, "%s: token %zu: %s", path, i + 1, e2);
                }
        }
        *ret = reg;
        return 0;
}

int tg_token_registry_save(const char *path, const tg_token_registry *reg) {
        _cleanup_json_ json_object *root = json_object_new_object();
        json_object *arr = json_object_new_array();
        const char *text;

        assert_return(path && reg, -EINVAL);
        if (!root || !arr) {
                json_object_put(arr);
                return -ENOMEM;
        }
        json_object_object_add(root, "version", json_object_new_int(1));
        json_object_object_add(root, "tokens", arr);
        for (size_t i = 0; i < reg->n_tokens; i++) {
                const tg_token *t = &reg->tokens[i];
                json_object *o;
                if (t->from_config)
                        continue; /* the configuration's, not the file's */
                o = json_object_new_object();
                json_object_object_add(o, "label", json_object_new_string(t->label));
                json_object_object_add(o, "kind", json_object_new_string(tg_token_kind_to_string(t->kind)));
                json_object_object_add(o, "vid", json_object_new_int(t->vid));
                json_object_object_add(o, "pid", json_object_new_int(t->pid));
                json_object_object_add(o, "serial", json_object_new_string(t->serial));
                json_object_object_add(o, "owner", json_object_new_string(t->owner));
                json_object_object_add(o, "added_by", json_object_new_string(t->added_by));
                json_object_object_add(o, "added_at", json_object_new_int64(t->added_at));
                json_object_array_add(arr, o);
        }
        text = json_object_to_json_string_ext(root, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE);
        if (!text)
                return -ENOMEM;
        return tg_write_file_atomic(AT_FDCWD, path, text, strlen(text), geteuid(), getegid(), 0600);
}
