/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * central.conf of a terminal's enrolment ([Central] Host=, Port=, Database=, Role=), made by
 * termguard-central enroll-host and read by termguardctl central enroll (before installing it)
 * and termguard-forwarder. Every value is checked for its form: the forwarder hands them to
 * libpq as separate keywords, and none may carry anything else.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ini.h>

#include "termguard/central.h"
#include "termguard/macro.h"

static bool all_of(const char *s, const char *set) {
        return *s && strspn(s, set) == strlen(s);
}

static bool valid_host(const char *s) {
        /* a DNS name or an address; nothing libpq would read as another keyword */
        return strlen(s) <= TG_CENTRAL_HOST_MAX &&
               all_of(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-:");
}

static bool valid_port(const char *s) {
        char *end;
        long v;
        if (!all_of(s, "0123456789") || strlen(s) > 5)
                return false;
        v = strtol(s, &end, 10);
        return *end == 0 && v >= 1 && v <= 65535;
}

static bool valid_database(const char *s) {
        return strlen(s) <= TG_CENTRAL_NAME_MAX && all_of(s, "abcdefghijklmnopqrstuvwxyz0123456789_");
}

/* tg_host_ and 32 lowercase hex digits: the contract's role of one terminal */
static bool valid_role(const char *s) {
        return strlen(s) == 8 + 32 && strncmp(s, "tg_host_", 8) == 0 && all_of(s + 8, "0123456789abcdef");
}

typedef struct {
        tg_central_config *cfg;
        bool seen[4];
        const char *problem;
} parse_state;

static const struct {
        const char *key;
        size_t offset, size;
        bool (*valid)(const char *s);
        const char *problem;
} keys[] = {
        {"Host", offsetof(tg_central_config, host), TG_CENTRAL_HOST_MAX + 1, valid_host,
         "Host= must be a host name or address"},
        {"Port", offsetof(tg_central_config, port), 6, valid_port, "Port= must be a port number"},
        {"Database", offsetof(tg_central_config, database), TG_CENTRAL_NAME_MAX + 1, valid_database,
         "Database= must be a database name (a-z 0-9 _)"},
        {"Role", offsetof(tg_central_config, role), TG_CENTRAL_NAME_MAX + 1, valid_role,
         "Role= must be tg_host_ and 32 lowercase hex digits"},
};

/* Returns 0 on a problem: ini_parse then returns its line. */
static int handler(void *user, const char *section, const char *name, const char *value) {
        parse_state *st = user;
        if (st->problem)
                return 0;
        if (strcmp(section, "Central") != 0) {
                st->problem = "unknown section (expected [Central])";
                return 0;
        }
        for (size_t i = 0; i < ELEMENTSOF(keys); i++) {
                if (strcmp(name, keys[i].key) != 0)
                        continue;
                if (!keys[i].valid(value)) {
                        st->problem = keys[i].problem;
                        return 0;
                }
                snprintf((char *) st->cfg + keys[i].offset, keys[i].size, "%s", value);
                st->seen[i] = true;
                return 1;
        }
        st->problem = "unknown key";
        return 0;
}

int tg_central_config_load(const char *path, tg_central_config *ret, char *err, size_t err_size) {
        tg_central_config cfg = {0};
        parse_state st = {.cfg = &cfg};
        int r;

        assert_return(path && ret, -EINVAL);
        r = ini_parse(path, handler, &st);
        if (r < 0) {
                snprintf(err, err_size, "cannot read %s", path);
                return -ENOENT;
        }
        if (r > 0) {
                snprintf(err, err_size, "%s:%d: %s", path, r, st.problem ? st.problem : "not an INI line");
                return -EBADMSG;
        }
        for (size_t i = 0; i < ELEMENTSOF(keys); i++)
                if (!st.seen[i]) {
                        snprintf(err, err_size, "%s: %s= is missing", path, keys[i].key);
                        return -EBADMSG;
                }
        *ret = cfg;
        return 0;
}
