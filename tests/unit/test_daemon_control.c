/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * termguardd's control dispatcher (agent/control.c, from the termguardd_lib library): who may
 * run what, and the register transaction of every mutating command: saved, then recorded,
 * then applied. The real manager saves and applies (with no USB devices); the test watches
 * the order through the linker (--wrap of manager_save_register and manager_apply, each of
 * which calls the real function) and reads termguardd's events from its stderr.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "control.h"
#include "helpers.h"
#include "event.h"
#include "manager.h"
#include "termguard/fileio.h"
#include "termguard/journal.h"
#include "termguard/macro.h"

static char dir[64];
static Manager m;
/* What happened, in order: "save", "record:TYPE" (read from the events), "apply:TRIGGER". */
static char trail[1024];
/* How much termguardd had written to its events when the request was dispatched. */
static size_t events_at_call;

int __real_manager_save_register(Manager *mgr, tg_register *reg);
void __real_manager_apply(Manager *mgr, const char *trigger);

static size_t count(const char *haystack, const char *needle) {
        size_t n = 0;
        for (const char *p = strstr(haystack, needle); p; p = strstr(p + 1, needle))
                n++;
        return n;
}

static void trail_add(const char *what, const char *arg) {
        size_t o = strlen(trail);
        snprintf(trail + o, sizeof(trail) - o, "%s%s%s%s", o ? " " : "", what, arg ? ":" : "", arg ? arg : "");
}

int __wrap_manager_save_register(Manager *mgr, tg_register *reg) {
        /* Nothing of the change is on the record before it is saved. */
        assert_int_equal(strlen(test_events_read()), events_at_call);
        trail_add("save", NULL);
        return __real_manager_save_register(mgr, reg);
}

void __wrap_manager_apply(Manager *mgr, const char *trigger) {
        char type[64];

        /* Recorded (after the save) before it takes effect: each event since the dispatch. */
        for (const char *p = strstr(test_events_read() + events_at_call, "\"event\":\""); p;
             p = strstr(p + 1, "\"event\":\"")) {
                assert_int_equal(sscanf(p, "\"event\":\"%63[^\"]", type), 1);
                trail_add("record", type);
        }
        trail_add("apply", trigger);
        __real_manager_apply(mgr, trigger);
}

static int setup(void **state) {
        char path[256];
        (void) state;

        test_tmpdir("daemon-control", dir, sizeof(dir));
        test_events_capture(dir);

        m = (Manager){.reg = {.next_exception_id = 1}};
        tg_config_default(&m.cfg);
        snprintf(m.cfg.state_dir, sizeof(m.cfg.state_dir), "%s/state", dir);
        snprintf(m.cfg.runtime_dir, sizeof(m.cfg.runtime_dir), "%s/run", dir);
        snprintf(path, sizeof(path), "%s/state", dir);
        assert_int_equal(mkdir(path, 0700), 0);
        snprintf(m.register_path, sizeof(m.register_path), "%s/state/register.json", dir);
        assert_int_equal(sd_event_new(&m.event), 0);
        trail[0] = '\0';
        return 0;
}

static int teardown(void **state) {
        (void) state;

        test_events_release();
        m.expiry_source = sd_event_source_unref(m.expiry_source);
        m.ending_source = sd_event_source_unref(m.ending_source);
        free(m.ending_told);
        m.ending_told = NULL;
        m.n_ending_told = 0;
        m.event = sd_event_unref(m.event);
        tg_register_clear(&m.reg);
        test_rmtree(dir);
        return 0;
}

static const ControlPeer root_peer = {.cred = {.pid = 1, .uid = 0, .gid = 0}, .admin = true, .fd = -1};

static ControlPeer user_peer(uid_t uid) {
        return (ControlPeer){.cred = {.pid = 1, .uid = uid, .gid = uid}, .admin = false, .fd = -1};
}

/* A request with the arguments the command needs; pairs of field and text, then -1. */
static json_object *call(const ControlPeer *peer, tg_ctl_command c, ...) {
        tg_ctl_request req;
        _cleanup_free_ char *text = NULL;
        tg_ctl_command got;
        va_list ap;
        json_object *reply;

        tg_ctl_request_init(&req, c);
        va_start(ap, c);
        for (int f = va_arg(ap, int); f >= 0; f = va_arg(ap, int))
                assert_int_equal(tg_ctl_request_set(&req, (tg_ctl_field) f, va_arg(ap, const char *)), 0);
        va_end(ap);
        assert_int_equal(tg_ctl_request_encode(&req, &text), 0);
        tg_ctl_request_done(&req);
        events_at_call = strlen(test_events_read());
        reply = control_dispatch(&m, peer, text, strlen(text), &got);
        assert_non_null(reply);
        assert_int_equal(got, c);
        return reply;
}

static const char *reply_code(json_object *reply) {
        json_object *ok, *code;
        assert_true(json_object_object_get_ex(reply, "ok", &ok));
        if (json_object_get_boolean(ok))
                return "ok";
        assert_true(json_object_object_get_ex(reply, "code", &code));
        return json_object_get_string(code);
}

static void expect(json_object *reply, const char *code) {
        assert_string_equal(reply_code(reply), code);
        json_object_put(reply);
}

static char until_text[TG_ISO8601_MAX];

/* The minimal valid request of every command, to be asked by anyone. */
static json_object *ask(const ControlPeer *peer, tg_ctl_command c) {
        switch (c) {
        case TG_CTL_MEDIA_ADD:
                return call(peer, c, TG_F_VID, "0951", TG_F_PID, "1666", TG_F_SERIAL, "S-1", TG_F_LABEL, "stick-1", -1);
        case TG_CTL_MEDIA_REMOVE: return call(peer, c, TG_F_LABEL, "stick-1", -1);
        case TG_CTL_EXCEPTION_GRANT:
                return call(peer, c, TG_F_LABEL, "stick-1", TG_F_UNTIL, until_text, TG_F_APPROVER, "kacho", TG_F_REASON,
                            "one file", -1);
        case TG_CTL_EXCEPTION_REVOKE: return call(peer, c, TG_F_ID, "1", -1);
        case TG_CTL_TOKEN_ADD:
                return call(peer, c, TG_F_LABEL, "key-1", TG_F_KIND, "security-key", TG_F_VID, "1050", TG_F_PID, "0407",
                            -1);
        case TG_CTL_TOKEN_REMOVE: return call(peer, c, TG_F_LABEL, "key-1", -1);
        case TG_CTL_SESSION_IDLE: return call(peer, c, TG_F_SESSION, "c1", TG_F_IDLE_MS, "0", -1);
        case TG_CTL_JOURNAL_FORWARDED: return call(peer, c, TG_F_SEQ, "1", -1);
        case TG_CTL_FORWARDER_STATUS:
                return call(peer, c, TG_F_LAST_COMMIT_USEC, "0", TG_F_PENDING, "0", TG_F_LAST_ERROR, "", -1);
        case TG_CTL_SESSION_NOTIFY: return call(peer, c, TG_F_SESSION, "c1", -1);
        default: return call(peer, c, -1);
        }
}

/* Who may run what: the policy as the admin guide states it, independent of the table.
 * recorded: a refusal is on the record (attempted changes and actions, not reads). */
static const struct {
        tg_ctl_command command;
        bool needs_admin, recorded;
} policy[] = {
        {TG_CTL_STATUS, false, false},
        {TG_CTL_DEVICES, false, false},
        {TG_CTL_MEDIA_LIST, true, false},
        {TG_CTL_EXCEPTION_LIST, true, false},
        {TG_CTL_MEDIA_ADD, true, true},
        {TG_CTL_MEDIA_REMOVE, true, true},
        {TG_CTL_EXCEPTION_GRANT, true, true},
        {TG_CTL_EXCEPTION_REVOKE, true, true},
        {TG_CTL_LOCK, true, true},
        {TG_CTL_TOKEN_LIST, true, false},
        {TG_CTL_TOKEN_ADD, true, true},
        {TG_CTL_TOKEN_REMOVE, true, true},
        /* anyone, for their own session; here no logind is attached: "io" */
        {TG_CTL_SESSION_IDLE, false, false},
        /* anyone: the caller's own records; here no journal was created: "not-found" */
        {TG_CTL_LOG_OWN, false, false},
        /* root and the forwarder's user only (forwarder_only_moves_the_mark) */
        {TG_CTL_JOURNAL_FORWARDED, true, true},
        {TG_CTL_FORWARDER_STATUS, true, true},
        /* anyone, for their own session, on a connection of its own (none here: "invalid") */
        {TG_CTL_SESSION_NOTIFY, false, false},
};

static void non_admin_is_refused_what_needs_admin(void **state) {
        const ControlPeer user = user_peer(4242);
        struct stat st;
        (void) state;

        assert_int_equal(ELEMENTSOF(policy), _TG_CTL_COMMAND_MAX);
        tg_format_iso8601(tg_now() + 3600, until_text, sizeof(until_text));
        for (size_t i = 0; i < ELEMENTSOF(policy); i++) {
                const char *ev = test_events_read();
                size_t denied_before = count(ev, "\"event\":\"admin.denied\"");
                expect(ask(&user, policy[i].command), policy[i].needs_admin                        ? "permission-denied"
                                                      : policy[i].command == TG_CTL_SESSION_IDLE   ? "io"
                                                      : policy[i].command == TG_CTL_LOG_OWN        ? "not-found"
                                                      : policy[i].command == TG_CTL_SESSION_NOTIFY ? "invalid"
                                                                                                   : "ok");
                ev = test_events_read();
                /* A refused change is on the record, with the caller; a refused read is not. */
                assert_int_equal(count(ev, "\"event\":\"admin.denied\""),
                                 denied_before + (policy[i].needs_admin && policy[i].recorded));
        }
        assert_int_equal(count(test_events_read(), "\"actor\":\"uid:4242\""), 9);
        /* Nothing was saved, nothing applied. */
        assert_string_equal(trail, "");
        assert_int_equal(stat(m.register_path, &st), -1);
        assert_int_equal(m.reg.n_media, 0);
}

static void privilege_comes_before_arguments(void **state) {
        const ControlPeer user = user_peer(4243);
        (void) state;

        /* A refused caller learns nothing from the checks of its arguments. */
        expect(call(&user, TG_CTL_MEDIA_ADD, TG_F_VID, "zzzz", TG_F_PID, "1666", TG_F_SERIAL, "S", TG_F_LABEL, "x", -1),
               "permission-denied");
        expect(call(&root_peer, TG_CTL_MEDIA_ADD, TG_F_VID, "zzzz", TG_F_PID, "1666", TG_F_SERIAL, "S", TG_F_LABEL, "x",
                    -1),
               "invalid");
        assert_string_equal(trail, "");
}

static void admin_change_is_saved_recorded_applied(void **state) {
        char buf[4096];
        ssize_t n;
        (void) state;

        tg_format_iso8601(tg_now() + 3600, until_text, sizeof(until_text));
        for (size_t i = 0; i < ELEMENTSOF(policy); i++)
                if (!policy[i].recorded && policy[i].needs_admin) /* the reads */
                        expect(ask(&root_peer, policy[i].command), "ok");
        assert_string_equal(trail, ""); /* reading changes nothing */

        expect(ask(&root_peer, TG_CTL_MEDIA_ADD), "ok");
        assert_string_equal(trail, "save record:register.media-added apply:register-change");
        n = tg_read_file(m.register_path, buf, sizeof(buf) - 1);
        assert_true(n > 0);
        buf[n] = '\0';
        assert_non_null(strstr(buf, "\"stick-1\""));
        assert_int_equal(m.reg.n_media, 1);
        assert_non_null(strstr(test_events_read(), "\"actor\":\"root\""));

        trail[0] = '\0';
        expect(ask(&root_peer, TG_CTL_EXCEPTION_GRANT), "ok");
        assert_string_equal(trail, "save record:exception.granted apply:exception-granted");
        /* The real manager_apply() ran: the expiry timer is armed at the exception's end. */
        assert_non_null(m.expiry_source);
        int enabled = SD_EVENT_OFF;
        assert_int_equal(sd_event_source_get_enabled(m.expiry_source, &enabled), 1);
        assert_int_equal(enabled, SD_EVENT_ONESHOT);
        /* and the staff member is to be told 5 minutes before it (nobody is on the seat here) */
        int64_t until = 0;
        uint64_t at = 0;
        assert_int_equal(tg_parse_iso8601(until_text, &until), 0);
        assert_non_null(m.ending_source);
        assert_int_equal(sd_event_source_get_time(m.ending_source, &at), 0);
        assert_int_equal(at, (uint64_t) (until - 5 * 60) * 1000000);

        /* One change, several records: the medium and the exception that ends with it. */
        trail[0] = '\0';
        expect(ask(&root_peer, TG_CTL_MEDIA_REMOVE), "ok");
        assert_string_equal(trail, "save record:register.media-removed record:exception.revoked apply:register-change");
}

static void failed_save_records_and_applies_nothing(void **state) {
        (void) state;

        /* The register cannot be written: its directory is gone. */
        snprintf(m.register_path, sizeof(m.register_path), "%s/missing/register.json", dir);
        expect(ask(&root_peer, TG_CTL_MEDIA_ADD), "io");
        assert_string_equal(trail, "save");
        assert_int_equal(strlen(test_events_read()), events_at_call);
        assert_int_equal(m.reg.n_media, 0); /* the change was thrown away */
}

static void refused_change_is_not_saved(void **state) {
        (void) state;

        /* A change the register refuses (no such medium) saves and applies nothing. */
        expect(call(&root_peer, TG_CTL_MEDIA_REMOVE, TG_F_LABEL, "nothing-here", -1), "not-found");
        expect(call(&root_peer, TG_CTL_EXCEPTION_REVOKE, TG_F_ID, "7", -1), "not-found");
        assert_string_equal(trail, "");
}

/* lock: one of session and all; a bad session id is refused; without logind the
 * administrator is told the idle lock is not attached (nothing is claimed as locked). */
static void lock_arguments_and_no_logind(void **state) {
        json_object *r;
        (void) state;
        expect(call(&root_peer, TG_CTL_LOCK, -1), "invalid");
        expect(call(&root_peer, TG_CTL_LOCK, TG_F_SESSION, "3", TG_F_ALL, "true", -1), "invalid");
        expect(call(&root_peer, TG_CTL_LOCK, TG_F_SESSION, "3;rm", -1), "invalid");
        expect(call(&root_peer, TG_CTL_LOCK, TG_F_SESSION, "", -1), "invalid");
        expect(call(&root_peer, TG_CTL_LOCK, TG_F_SESSION, "3", -1), "io");
        expect(call(&root_peer, TG_CTL_LOCK, TG_F_ALL, "true", -1), "io");
        r = call(&root_peer, TG_CTL_STATUS, -1);
        assert_string_equal(tg_ctl_get_string(r, TG_F_IDLE_LOCK), "waiting for the system bus");
        assert_int_equal(json_object_array_length(tg_ctl_get_list(r, TG_F_SESSIONS)), 0);
        json_object_put(r);
        assert_int_equal(count(test_events_read(), "idle.lock-requested"), 0);
}

/* The forwarded mark is what retention keeps records for: root and the forwarder's user move
 * it, nobody else, not even an administrator; it never moves back nor past the journal. */
static void forwarder_only_moves_the_mark(void **state) {
        const ControlPeer admin = {.cred = {.pid = 1, .uid = 4244, .gid = 4244}, .admin = true};
        const ControlPeer user = user_peer(4245);
        char journal_dir[128], host_id[128];
        json_object *r;
        (void) state;

        /* no journal yet */
        expect(call(&root_peer, TG_CTL_JOURNAL_FORWARDED, TG_F_SEQ, "1", -1), "not-found");
        snprintf(journal_dir, sizeof(journal_dir), "%s/journal", m.cfg.state_dir);
        snprintf(host_id, sizeof(host_id), "%s/host-id", m.cfg.state_dir);
        assert_int_equal(tg_journal_init(journal_dir, (const uint8_t[TG_JOURNAL_SEED_SIZE]){1},
                                         &(tg_journal_options){.host_id_path = host_id}),
                         0);
        assert_int_equal(event_journal_open(m.cfg.state_dir, 1 << 20, ""), 0);
        /* the refusals below are records too: the journal holds seqs 1 to 4 then */

        expect(call(&admin, TG_CTL_JOURNAL_FORWARDED, TG_F_SEQ, "1", -1), "permission-denied");
        expect(call(&user, TG_CTL_JOURNAL_FORWARDED, TG_F_SEQ, "1", -1), "permission-denied");
        expect(call(&user, TG_CTL_FORWARDER_STATUS, TG_F_LAST_COMMIT_USEC, "5", TG_F_PENDING, "0", TG_F_LAST_ERROR,
                    "spoofed", -1),
               "permission-denied");
        r = call(&root_peer, TG_CTL_STATUS, -1);
        assert_string_equal(tg_ctl_get_string(r, TG_F_JOURNAL_FORWARDED_SEQ), "0");
        assert_string_equal(tg_ctl_get_string(r, TG_F_FORWARDER_LAST_ERROR), "");
        json_object_put(r);

        r = call(&root_peer, TG_CTL_JOURNAL_FORWARDED, TG_F_SEQ, "1", -1);
        assert_string_equal(reply_code(r), "ok");
        assert_string_equal(tg_ctl_get_string(r, TG_F_FORWARDED_SEQ), "1");
        json_object_put(r);
        /* past the last record: refused; back: the mark stays */
        expect(call(&root_peer, TG_CTL_JOURNAL_FORWARDED, TG_F_SEQ, "1000", -1), "invalid");
        r = call(&root_peer, TG_CTL_JOURNAL_FORWARDED, TG_F_SEQ, "2", -1);
        assert_string_equal(tg_ctl_get_string(r, TG_F_FORWARDED_SEQ), "2");
        json_object_put(r);
        r = call(&root_peer, TG_CTL_JOURNAL_FORWARDED, TG_F_SEQ, "1", -1);
        assert_string_equal(tg_ctl_get_string(r, TG_F_FORWARDED_SEQ), "2");
        json_object_put(r);

        /* a last error with a control character is refused; a good report shows in status */
        expect(call(&root_peer, TG_CTL_FORWARDER_STATUS, TG_F_LAST_COMMIT_USEC, "5", TG_F_PENDING, "0", TG_F_LAST_ERROR,
                    "a\x1b[2Jb", -1),
               "invalid");
        expect(call(&root_peer, TG_CTL_FORWARDER_STATUS, TG_F_LAST_COMMIT_USEC, "1764500000000000", TG_F_PENDING, "3",
                    TG_F_LAST_ERROR, "サーバーに接続できません", -1),
               "ok");
        r = call(&root_peer, TG_CTL_STATUS, -1);
        assert_string_equal(tg_ctl_get_string(r, TG_F_JOURNAL_FORWARDED_SEQ), "2");
        assert_string_equal(tg_ctl_get_string(r, TG_F_FORWARDER_LAST_ERROR), "サーバーに接続できません");
        assert_string_equal(tg_ctl_get_string(r, TG_F_FORWARDER_LAST_COMMIT_AT), "2025-11-30T10:53:20Z");
        /* pending is the journal's own count of records past the mark */
        assert_true(strcmp(tg_ctl_get_string(r, TG_F_JOURNAL_PENDING), "0") != 0);
        json_object_put(r);
        event_journal_close();
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(non_admin_is_refused_what_needs_admin, setup, teardown),
                cmocka_unit_test_setup_teardown(privilege_comes_before_arguments, setup, teardown),
                cmocka_unit_test_setup_teardown(admin_change_is_saved_recorded_applied, setup, teardown),
                cmocka_unit_test_setup_teardown(failed_save_records_and_applies_nothing, setup, teardown),
                cmocka_unit_test_setup_teardown(refused_change_is_not_saved, setup, teardown),
                cmocka_unit_test_setup_teardown(lock_arguments_and_no_logind, setup, teardown),
                cmocka_unit_test_setup_teardown(forwarder_only_moves_the_mark, setup, teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
