/* SPDX-License-Identifier: GPL-2.0-or-later */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <gcrypt.h>

#include "termguard/config.h"
#include "termguard/mfa.h"

/* The state directory's parents must be root's alone: not /tmp (sticky, but others write it). */
#define TEST_BASE "/run"
static char state[256], dir[300], file[400];
static int dfd = -1;

/* A clock the test sets. */
static int64_t fixed_now;
static int64_t fixed_clock(void) {
        return fixed_now;
}
static bool fail_at(tg_mfa_user *u, int64_t t, unsigned max_failures, int64_t lockout) {
        fixed_now = t;
        return tg_mfa_record_failure(u, fixed_clock, max_failures, lockout);
}

static int setup(void **s) {
        char err[256];
        (void) s;
        snprintf(state, sizeof(state), "%s/tg-mfa-test.XXXXXX", TEST_BASE);
        assert_non_null(mkdtemp(state));
        snprintf(dir, sizeof(dir), "%s/mfa", state);
        snprintf(file, sizeof(file), "%s/tanaka.json", dir);
        dfd = tg_mfa_open_dir(state, true, err, sizeof(err));
        assert_true(dfd >= 0);
        return 0;
}

static int teardown(void **s) {
        char cmd[300];
        (void) s;
        close(dfd);
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", state);
        assert_int_equal(system(cmd), 0);
        return 0;
}

static tg_mfa_user enrolled(void) {
        tg_mfa_user u = {0};
        assert_int_equal(tg_mfa_enroll(&u, "tanaka", 1800000000), 0);
        return u;
}

static void code_now(const tg_mfa_user *u, int64_t t, char out[9]) {
        uint32_t v;
        assert_int_equal(tg_hotp(u->params.algorithm, u->secret, u->secret_len, (uint64_t) t / u->params.period,
                                 u->params.digits, &v),
                         0);
        snprintf(out, 9, "%06u", v);
}

static void round_trip_and_permissions(void **s) {
        tg_mfa_user u = enrolled(), l;
        char err[256];
        struct stat st;
        (void) s;
        assert_int_equal(tg_mfa_load(dfd, "tanaka", &l, err, sizeof(err)), -ENOENT);
        assert_int_equal(tg_mfa_save(dfd, &u), 0);
        assert_int_equal(stat(file, &st), 0);
        assert_int_equal(st.st_mode & 07777, 0600);
        assert_int_equal(st.st_uid, 0);
        assert_int_equal(tg_mfa_load(dfd, "tanaka", &l, err, sizeof(err)), 0);
        assert_true(l.enrolled);
        assert_int_equal(l.secret_len, 20);
        assert_memory_equal(l.secret, u.secret, 20);
        assert_int_equal(l.params.digits, 6);
        assert_int_equal(l.params.period, 30);
}

static void expect_load(int want) {
        tg_mfa_user l;
        char err[256] = "";
        assert_int_equal(tg_mfa_load(dfd, "tanaka", &l, err, sizeof(err)), want);
        assert_true(err[0] != '\0');
}

static void counters_only_state_round_trips(void **s) {
        tg_mfa_user u = {0}, l;
        char err[256];
        (void) s;
        snprintf(u.user, sizeof(u.user), "tanaka");
        assert_false(fail_at(&u, 1800000000, 5, 900));
        assert_int_equal(tg_mfa_save(dfd, &u), 0);
        assert_int_equal(tg_mfa_load(dfd, "tanaka", &l, err, sizeof(err)), 0);
        assert_false(l.enrolled);
        assert_int_equal(l.failures, 1);
        assert_int_equal(tg_mfa_check(&l, "000000", 1800000000), TG_MFA_FAIL);
}

static void unsafe_files_are_errors(void **s) {
        tg_mfa_user u = enrolled();
        (void) s;
        assert_int_equal(tg_mfa_save(dfd, &u), 0);
        assert_int_equal(chmod(file, 0644), 0); /* readable by others */
        expect_load(-EPERM);
        assert_int_equal(chmod(file, 0600), 0);
        assert_int_equal(chown(file, 1000, 0), 0); /* owned by the user */
        expect_load(-EPERM);
        assert_int_equal(chown(file, 0, 1000), 0); /* group of the user */
        expect_load(-EPERM);
        assert_int_equal(unlink(file), 0);
        assert_int_equal(symlink("/etc/shadow", file), 0); /* symlink */
        expect_load(-EPERM);
        assert_int_equal(unlink(file), 0);
        assert_int_equal(mkdir(file, 0700), 0); /* not a regular file */
        expect_load(-EPERM);
        assert_int_equal(rmdir(file), 0);
}

static void write_raw(const char *text) {
        int fd = open(file, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        assert_true(fd >= 0);
        assert_int_equal(write(fd, text, strlen(text)), (ssize_t) strlen(text));
        close(fd);
        chmod(file, 0600);
}

static void corrupt_files_are_errors(void **s) {
        (void) s;
        write_raw("{");
        expect_load(-EBADMSG);
        write_raw("{\"user\":\"suzuki\"}"); /* somebody else's state under this name */
        expect_load(-EBADMSG);
        write_raw("{\"user\":\"tanaka\",\"secret\":\"zz\"}");
        expect_load(-EBADMSG);
        write_raw("{\"user\":\"tanaka\",\"secret\":\"0011\",\"digits\":6,\"period\":30}"); /* 2-byte secret */
        expect_load(-EBADMSG);
        write_raw("{\"user\":\"tanaka\",\"secret\":\"00112233445566778899aabbccddeeff00112233\",\"digits\":4,"
                  "\"period\":30}");
        expect_load(-EBADMSG);
        write_raw("{\"user\":\"tanaka\",\"failures\":-1}");
        expect_load(-EBADMSG);
        /* recovery that is no list (a fuzzing finding: json-c asserted on its length) */
        const char *const not_lists[] = {"\"tanaka\"", "{}", "7", "null", "true"};
        for (size_t i = 0; i < sizeof(not_lists) / sizeof(not_lists[0]); i++) {
                char raw[256];
                snprintf(raw, sizeof(raw), "{\"version\":2,\"user\":\"tanaka\",\"recovery\":%s}", not_lists[i]);
                write_raw(raw);
                expect_load(-EBADMSG);
        }
}

static void unsafe_directory_is_refused(void **s) {
        char err[256];
        (void) s;
        assert_int_equal(chmod(dir, 0755), 0);
        assert_int_equal(tg_mfa_open_dir(state, false, err, sizeof(err)), -EPERM);
        assert_int_equal(chmod(dir, 0700), 0);
        assert_int_equal(chown(dir, 1000, 0), 0);
        assert_int_equal(tg_mfa_open_dir(state, false, err, sizeof(err)), -EPERM);
        assert_int_equal(chown(dir, 0, 0), 0);
        int fd = tg_mfa_open_dir(state, false, err, sizeof(err));
        assert_true(fd >= 0);
        close(fd);
}

static void user_names(void **s) {
        (void) s;
        assert_true(tg_mfa_valid_user("tanaka"));
        assert_true(tg_mfa_valid_user("t.tanaka@city.example"));
        assert_false(tg_mfa_valid_user("../etc/passwd"));
        assert_false(tg_mfa_valid_user(".hidden"));
        assert_false(tg_mfa_valid_user("-rf"));
        assert_false(tg_mfa_valid_user("a/b"));
        assert_false(tg_mfa_valid_user(""));
        assert_false(tg_mfa_valid_user(NULL));
        assert_false(tg_mfa_valid_user("user name"));
}

static void totp_once_and_recovery_once(void **s) {
        tg_mfa_user u = enrolled();
        char codes[TG_MFA_RECOVERY_CODES][12], c[9], lower[16];
        const int64_t now = 1800000030;
        (void) s;
        code_now(&u, now, c);
        assert_int_equal(tg_mfa_check(&u, c, now), TG_MFA_OK_TOTP);
        assert_int_equal(tg_mfa_check(&u, c, now), TG_MFA_FAIL); /* replay */
        assert_int_equal(tg_mfa_new_recovery_codes(&u, codes), 0);
        assert_int_equal(strlen(codes[3]), 11);
        assert_int_equal(codes[3][5], '-');
        /* typed in lower case without the dash: accepted once */
        snprintf(lower, sizeof(lower), "%.5s%.5s", codes[3], codes[3] + 6);
        for (char *p = lower; *p; p++)
                if (*p >= 'A' && *p <= 'Z')
                        *p = (char) (*p - 'A' + 'a');
        assert_int_equal(tg_mfa_check(&u, lower, now), TG_MFA_OK_RECOVERY);
        assert_int_equal(tg_mfa_check(&u, codes[3], now), TG_MFA_FAIL);
        /* used state survives save/load; others still work */
        char err[256];
        tg_mfa_user l;
        assert_int_equal(tg_mfa_save(dfd, &u), 0);
        assert_int_equal(tg_mfa_load(dfd, "tanaka", &l, err, sizeof(err)), 0);
        assert_int_equal(tg_mfa_check(&l, codes[3], now), TG_MFA_FAIL);
        assert_int_equal(tg_mfa_check(&l, codes[4], now), TG_MFA_OK_RECOVERY);
        assert_int_equal(tg_mfa_check(&l, "AAAAA-AAAAA", now), TG_MFA_FAIL);
        assert_int_equal(tg_mfa_check(&l, "AAAAA-AAAAA-A", now), TG_MFA_FAIL);
        /* a replayed TOTP also stays refused after reload */
        assert_int_equal(tg_mfa_check(&l, c, now), TG_MFA_FAIL);
}

static tg_config auth_config(void);
static tg_mfa_user enrolled_daemon(unsigned failures, int64_t at);

/* Each recovery code is a yescrypt hash (libcrypt) with a salt of its own. */
static void recovery_codes_are_yescrypt_hashes_with_a_salt_each(void **s) {
        tg_mfa_user u = enrolled(), l;
        char codes[TG_MFA_RECOVERY_CODES][12], salts[TG_MFA_RECOVERY_CODES][64], err[256], text[8192];
        (void) s;
        assert_int_equal(tg_mfa_new_recovery_codes(&u, codes), 0);
        for (int i = 0; i < TG_MFA_RECOVERY_CODES; i++) {
                assert_memory_equal(u.recovery[i], "$y$", 3);
                /* $y$PARAMS$SALT$HASH */
                const char *p = strchr(u.recovery[i] + 3, '$');
                assert_non_null(p);
                const char *q = strchr(p + 1, '$');
                assert_non_null(q);
                assert_true(q - p - 1 >= 16 && q - p - 1 < 64);
                snprintf(salts[i], sizeof(salts[i]), "%.*s", (int) (q - p - 1), p + 1);
                for (int k = 0; k < i; k++)
                        assert_string_not_equal(salts[i], salts[k]);
                assert_null(strstr(u.recovery[i], codes[i]));
        }
        assert_int_equal(tg_mfa_save(dfd, &u), 0);
        int fd = open(file, O_RDONLY | O_CLOEXEC);
        ssize_t n = read(fd, text, sizeof(text) - 1);
        close(fd);
        assert_true(n > 0);
        text[n] = '\0';
        assert_null(strstr(text, "recovery_salt"));
        assert_non_null(strstr(text, "\"version\":2"));
        assert_int_equal(tg_mfa_load(dfd, "tanaka", &l, err, sizeof(err)), 0);
        assert_int_equal(tg_mfa_check(&l, codes[9], 1800000000), TG_MFA_OK_RECOVERY);
        assert_int_equal(tg_mfa_check(&l, codes[9], 1800000000), TG_MFA_FAIL);
        /* a hash that is not yescrypt's, or not crypt's alphabet, is a corrupt file */
        const char *const bad[] = {"\"$1$abc$def\"", "\"$y$j75$a b$c\"", "\"$y$\"", "7"};
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                char raw[512];
                snprintf(raw, sizeof(raw), "{\"version\":2,\"user\":\"tanaka\",\"recovery\":[%s]}", bad[i]);
                write_raw(raw);
                expect_load(-EBADMSG);
        }
}

static void sha256_hex(const char *text, char out[65]) {
        unsigned char md[32];
        gcry_md_hash_buffer(GCRY_MD_SHA256, md, text, strlen(text));
        for (int i = 0; i < 32; i++)
                snprintf(out + 2 * i, 3, "%02x", md[i]);
}

/* A state of the first format: every recovery code as hex SHA-256(salt:code), one salt for all
 * ten. Read, with its TOTP factor working; its recovery codes are refused even when right,
 * with the reason for the administrator, until new ones are issued. */
static void old_format_recovery_codes_are_refused_with_a_reason(void **s) {
        const int64_t t0 = 1800000000;
        tg_config cfg = auth_config();
        tg_mfa_user u = enrolled_daemon(0, t0 - 60), l;
        tg_auth_result res;
        char hex[41], h1[65], h2[65], raw[1024], err[256], c[9], codes[TG_MFA_RECOVERY_CODES][12];
        (void) s;
        for (size_t i = 0; i < u.secret_len; i++)
                snprintf(hex + 2 * i, 3, "%02x", u.secret[i]);
        sha256_hex("00112233445566778899aabbccddeeff:ABCDE-FGHJK", h1);
        sha256_hex("00112233445566778899aabbccddeeff:KLMNP-QRSTU", h2);
        snprintf(raw, sizeof(raw),
                 "{\"version\":1,\"user\":\"daemon\",\"secret\":\"%s\",\"algorithm\":\"SHA1\",\"digits\":6,"
                 "\"period\":30,\"window\":1,\"last_step\":0,\"enrolled_at\":%lld,"
                 "\"recovery_salt\":\"00112233445566778899aabbccddeeff\",\"recovery\":[\"%s\",\"%s\"],"
                 "\"failures\":0,\"locked_until\":0,\"last_login_at\":0,\"last_login_from\":\"\","
                 "\"failed_since_login\":0}",
                 hex, (long long) (t0 - 60), h1, h2);
        char daemon_file[400];
        snprintf(daemon_file, sizeof(daemon_file), "%s/daemon.json", dir);
        int fd = open(daemon_file, O_WRONLY | O_TRUNC | O_CLOEXEC);
        assert_true(fd >= 0);
        assert_int_equal(write(fd, raw, strlen(raw)), (ssize_t) strlen(raw));
        close(fd);
        assert_int_equal(tg_mfa_load(dfd, "daemon", &l, err, sizeof(err)), 0);
        assert_true(l.enrolled);
        assert_int_equal(l.recovery_old_format, 2);
        assert_int_equal(tg_mfa_check(&l, "ABCDE-FGHJK", t0), TG_MFA_FAIL);

        fixed_now = t0;
        tg_mfa_authenticate(&cfg, "daemon", "abcde fghjk", "pts/1", fixed_clock, &res);
        assert_int_equal(res.outcome, TG_AUTH_ERROR);
        assert_non_null(strstr(res.err, "termguardctl mfa recovery-codes daemon"));
        /* a wrong TOTP code is only that */
        code_now(&u, t0, c);
        c[5] = c[5] == '0' ? '1' : '0';
        tg_mfa_authenticate(&cfg, "daemon", c, "pts/1", fixed_clock, &res);
        assert_int_equal(res.outcome, TG_AUTH_WRONG_CODE);
        code_now(&u, t0, c);
        tg_mfa_authenticate(&cfg, "daemon", c, "pts/1", fixed_clock, &res);
        assert_int_equal(res.outcome, TG_AUTH_OK);
        /* saved in the new format, the count stays until new codes are issued */
        assert_int_equal(tg_mfa_load(dfd, "daemon", &l, err, sizeof(err)), 0);
        assert_int_equal(l.recovery_old_format, 2);
        assert_int_equal(tg_mfa_new_recovery_codes(&l, codes), 0);
        assert_int_equal(l.recovery_old_format, 0);
        assert_int_equal(tg_mfa_save(dfd, &l), 0);
        fixed_now = t0 + 60;
        tg_mfa_authenticate(&cfg, "daemon", codes[0], "pts/1", fixed_clock, &res);
        assert_int_equal(res.outcome, TG_AUTH_OK_RECOVERY);
}

static void not_enrolled_never_passes(void **s) {
        tg_mfa_user u = {0};
        (void) s;
        snprintf(u.user, sizeof(u.user), "tanaka");
        assert_int_equal(tg_mfa_check(&u, "000000", 1800000000), TG_MFA_FAIL);
        assert_int_equal(tg_mfa_check(&u, "", 1800000000), TG_MFA_FAIL);
}

static void lockout(void **s) {
        tg_mfa_user u = enrolled();
        const int64_t now = 1800000000;
        (void) s;
        assert_false(fail_at(&u, now, 3, 900));
        assert_false(fail_at(&u, now, 3, 900));
        assert_true(fail_at(&u, now, 3, 900));
        assert_true(tg_mfa_locked(&u, now + 899));
        assert_false(tg_mfa_locked(&u, now + 900));
        assert_int_equal(u.failed_since_login, 3);
        tg_mfa_unlock(&u);
        assert_false(tg_mfa_locked(&u, now));
        assert_int_equal(u.failures, 0);
        assert_int_equal(u.failed_since_login, 3); /* still shown at the next login */
        tg_mfa_record_success(&u, now, "pts/1");
        assert_int_equal(u.failed_since_login, 0);
        assert_string_equal(u.last_login_from, "pts/1");
        assert_int_equal(u.last_login_at, now);
}

/* A lock that has run out starts a new count: one more wrong attempt does not lock again. */
static void expired_lock_starts_a_new_count(void **s) {
        tg_mfa_user u = enrolled();
        const int64_t now = 1800000000;
        (void) s;
        for (int i = 0; i < 3; i++)
                fail_at(&u, now, 3, 900);
        assert_true(tg_mfa_locked(&u, now));
        assert_false(fail_at(&u, now + 10, 3, 900)); /* while locked: counted, no new lock */
        assert_int_equal(u.failures, 4);
        assert_int_equal(u.locked_until, now + 900);
        assert_false(fail_at(&u, now + 900, 3, 900));
        assert_false(tg_mfa_locked(&u, now + 900));
        assert_int_equal(u.failures, 1);
        assert_int_equal(u.failed_since_login, 5); /* all of them still shown at the next login */
        assert_false(fail_at(&u, now + 901, 3, 900));
        assert_true(fail_at(&u, now + 902, 3, 900));
        assert_true(tg_mfa_locked(&u, now + 902));
}

/* The clock of an attempt that waited for the user's lock: it shows wait_start while the attempt
 * does not hold the lock yet (a helper started, its code not yet typed, other attempts ahead of
 * it), and wait_start + wait_waited once it holds it. Whether the lock is held is asked of the
 * kernel through a file description of our own; reads without it are counted. */
static int64_t wait_start, wait_waited;
static int unlocked_reads;
static int64_t clock_after_wait(void) {
        char p[400];
        snprintf(p, sizeof(p), "%s/daemon.lock", dir);
        int fd = open(p, O_RDWR | O_CLOEXEC);
        bool held = fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) < 0 && errno == EWOULDBLOCK;
        if (fd >= 0)
                close(fd);
        unlocked_reads += !held;
        return held ? wait_start + wait_waited : wait_start;
}

/* The attempts go through tg_mfa_authenticate & co., which count only accounts the system
 * knows: daemon exists on every Debian system. */
static tg_config auth_config(void) {
        tg_config c;
        tg_config_default(&c);
        assert_true(snprintf(c.state_dir, sizeof(c.state_dir), "%s", state) < (int) sizeof(c.state_dir));
        c.mfa_max_failures = 3;
        c.mfa_lockout = 900;
        return c;
}

static tg_mfa_user enrolled_daemon(unsigned failures, int64_t at) {
        tg_mfa_user u = {0};
        assert_int_equal(tg_mfa_enroll(&u, "daemon", at), 0);
        u.failures = u.failed_since_login = failures;
        assert_int_equal(tg_mfa_save(dfd, &u), 0);
        return u;
}

/* A helper started at T0 and fed a wrong code after the lockout time had passed: the failure
 * that reaches the limit locks from the time it is recorded, not from T0 (a lock already over
 * when written would let the count start again: no lock at all). */
static void a_lock_counts_from_the_time_the_lock_is_held(void **s) {
        const int64_t t0 = 1800000000;
        tg_config cfg = auth_config();
        tg_auth_result res;
        char err[256], c[9];
        tg_mfa_user u = enrolled_daemon(2, t0 - 60), l;
        (void) s;
        wait_start = t0;
        wait_waited = 1000; /* longer than the lockout */
        code_now(&u, t0 + 1000, c);
        c[5] = c[5] == '0' ? '1' : '0'; /* a wrong code */
        unlocked_reads = 0;
        tg_mfa_authenticate(&cfg, "daemon", c, "pts/1", clock_after_wait, &res);
        assert_int_equal(res.outcome, TG_AUTH_WRONG_CODE);
        assert_true(res.locked_now);
        assert_int_equal(tg_mfa_load(dfd, "daemon", &l, err, sizeof(err)), 0);
        assert_int_equal(l.failures, 3);
        assert_true(tg_mfa_locked(&l, t0 + 1000 + 899));
        /* so the next attempt, with the right code, is refused */
        fixed_now = t0 + 1001;
        code_now(&u, fixed_now, c);
        tg_mfa_authenticate(&cfg, "daemon", c, "pts/1", fixed_clock, &res);
        assert_int_equal(res.outcome, TG_AUTH_LOCKED);
        assert_int_equal(unlocked_reads, 0);
}

/* A code is checked at the time the attempt holds the lock: the code of T0, typed into a
 * helper started at T0, is too old 150 s later. */
static void a_code_is_checked_at_the_time_the_lock_is_held(void **s) {
        const int64_t t0 = 1800000000;
        tg_config cfg = auth_config();
        tg_auth_result res;
        char c[9];
        tg_mfa_user u = enrolled_daemon(0, t0 - 60);
        (void) s;
        wait_start = t0;
        wait_waited = 150;
        code_now(&u, t0, c);
        unlocked_reads = 0;
        tg_mfa_authenticate(&cfg, "daemon", c, "pts/1", clock_after_wait, &res);
        assert_int_equal(res.outcome, TG_AUTH_WRONG_CODE);
        code_now(&u, t0 + 150, c);
        tg_mfa_authenticate(&cfg, "daemon", c, "pts/1", clock_after_wait, &res);
        assert_int_equal(res.outcome, TG_AUTH_OK);
        assert_int_equal(unlocked_reads, 0);
}

/* The other two steps read the clock under the lock too: a counted password failure locks from
 * then, and preauth sees that lock. */
static void other_failures_and_preauth_read_the_clock_under_the_lock(void **s) {
        const int64_t t0 = 1800000000;
        tg_config cfg = auth_config();
        tg_auth_result res;
        (void) s;
        enrolled_daemon(2, t0 - 60);
        wait_start = t0;
        wait_waited = 1000;
        unlocked_reads = 0;
        tg_mfa_record_other_failure(&cfg, "daemon", clock_after_wait, &res);
        assert_int_equal(res.outcome, TG_AUTH_WRONG_CODE);
        assert_true(res.locked_now);
        tg_mfa_check_lock(&cfg, "daemon", clock_after_wait, &res);
        assert_int_equal(res.outcome, TG_AUTH_LOCKED);
        assert_int_equal(unlocked_reads, 0);
        /* and once the lock has run out (as seen under the lock), preauth lets the user try */
        wait_waited = 1000 + 900;
        tg_mfa_check_lock(&cfg, "daemon", clock_after_wait, &res);
        assert_int_equal(res.outcome, TG_AUTH_OK);
}

/* The clock set back by more than TG_MFA_CLOCK_JUMP_SECONDS (a login while it was a year ahead
 * left a last-used step in the future): not replay protection for a year. The first attempt
 * finds the jump (an error of the clock, not counted, recorded with both times); codes of the
 * current window are refused once; the next code works. A smaller correction keeps refusing
 * codes until the clock has passed the last used step. */
static void a_clock_set_back_moves_the_replay_bound(void **s) {
        const int64_t t0 = 1800000000, ahead = t0 + 400 * 86400;
        tg_config cfg = auth_config();
        tg_auth_result res;
        char c[9], err[256];
        tg_mfa_user u = enrolled_daemon(0, t0 - 60), l;
        (void) s;
        fixed_now = ahead;
        code_now(&u, ahead, c);
        tg_mfa_authenticate(&cfg, "daemon", c, "pts/1", fixed_clock, &res);
        assert_int_equal(res.outcome, TG_AUTH_OK);
        assert_string_equal(res.clock_note, "");

        fixed_now = t0;
        code_now(&u, t0, c);
        tg_mfa_authenticate(&cfg, "daemon", c, "pts/1", fixed_clock, &res);
        assert_int_equal(res.outcome, TG_AUTH_ERROR);
        assert_non_null(strstr(res.err, "set back"));
        assert_string_equal(res.clock_note, "last-code=2028-02-19T08:00:00Z now=2027-01-15T08:00:00Z");
        assert_int_equal(tg_mfa_load(dfd, "daemon", &l, err, sizeof(err)), 0);
        assert_int_equal(l.failures, 0);
        assert_int_equal(l.last_step, (uint64_t) t0 / 30 + 1);
        /* the window is used once; found once */
        tg_mfa_authenticate(&cfg, "daemon", c, "pts/1", fixed_clock, &res);
        assert_int_equal(res.outcome, TG_AUTH_WRONG_CODE);
        assert_string_equal(res.clock_note, "");
        fixed_now = t0 + 60;
        code_now(&u, fixed_now, c);
        tg_mfa_authenticate(&cfg, "daemon", c, "pts/1", fixed_clock, &res);
        assert_int_equal(res.outcome, TG_AUTH_OK);

        /* set back by less than the bound: ordinary replay protection, no jump */
        fixed_now = t0 + 60 - TG_MFA_CLOCK_JUMP_SECONDS + 30;
        code_now(&u, fixed_now, c);
        tg_mfa_authenticate(&cfg, "daemon", c, "pts/1", fixed_clock, &res);
        assert_int_equal(res.outcome, TG_AUTH_WRONG_CODE);
        assert_string_equal(res.clock_note, "");
}

/* A lock written while the clock was a year ahead ends LockoutTime from now, not in a year;
 * so does one longer than LockoutTime is now. Recorded with both times. */
static void a_lock_from_a_clock_ahead_is_clamped_to_the_lockout_time(void **s) {
        const int64_t t0 = 1800000000;
        tg_config cfg = auth_config(); /* LockoutTime 900 s */
        tg_auth_result res;
        char err[256];
        tg_mfa_user u = enrolled_daemon(3, t0 - 60), l;
        (void) s;
        u.locked_until = t0 + 365 * 86400;
        assert_int_equal(tg_mfa_save(dfd, &u), 0);
        fixed_now = t0;
        tg_mfa_check_lock(&cfg, "daemon", fixed_clock, &res);
        assert_int_equal(res.outcome, TG_AUTH_LOCKED);
        assert_string_equal(res.clock_note, "lock-end=2028-01-15T08:00:00Z now=2027-01-15T08:00:00Z");
        assert_int_equal(tg_mfa_load(dfd, "daemon", &l, err, sizeof(err)), 0);
        assert_int_equal(l.locked_until, t0 + 900);
        fixed_now = t0 + 899;
        tg_mfa_check_lock(&cfg, "daemon", fixed_clock, &res);
        assert_int_equal(res.outcome, TG_AUTH_LOCKED);
        assert_string_equal(res.clock_note, "");
        fixed_now = t0 + 900;
        tg_mfa_check_lock(&cfg, "daemon", fixed_clock, &res);
        assert_int_equal(res.outcome, TG_AUTH_OK);
        /* through a counted password failure too */
        u.locked_until = t0 + 365 * 86400;
        assert_int_equal(tg_mfa_save(dfd, &u), 0);
        fixed_now = t0 + 10;
        tg_mfa_record_other_failure(&cfg, "daemon", fixed_clock, &res);
        assert_int_equal(res.outcome, TG_AUTH_WRONG_CODE);
        assert_non_null(strstr(res.clock_note, "lock-end="));
        assert_int_equal(tg_mfa_load(dfd, "daemon", &l, err, sizeof(err)), 0);
        assert_int_equal(l.locked_until, t0 + 10 + 900);
}

/* A clock before TG_MFA_CLOCK_FLOOR (1970, a negative time, a dead clock battery): each step
 * fails closed for that attempt, with the reason; nothing is counted or locked, for a known
 * account and an unknown name alike. */
static void a_clock_before_the_floor_fails_closed_and_counts_nothing(void **s) {
        const int64_t t0 = 1800000000;
        const int64_t wrong[] = {0, 5, -100, TG_MFA_CLOCK_FLOOR - 1};
        tg_config cfg = auth_config();
        tg_auth_result res;
        char c[9], err[256];
        tg_mfa_user u = enrolled_daemon(2, t0 - 60), l;
        (void) s;
        for (size_t i = 0; i < sizeof(wrong) / sizeof(wrong[0]); i++) {
                fixed_now = wrong[i];
                code_now(&u, wrong[i] < 0 ? 0 : wrong[i], c);
                tg_mfa_authenticate(&cfg, "daemon", c, "pts/1", fixed_clock, &res);
                assert_int_equal(res.outcome, TG_AUTH_ERROR);
                assert_non_null(strstr(res.err, "before 2026-01-01T00:00:00Z"));
                assert_non_null(strstr(res.clock_note, "clock before 2026-01-01T00:00:00Z: now="));
                tg_mfa_record_other_failure(&cfg, "daemon", fixed_clock, &res);
                assert_int_equal(res.outcome, TG_AUTH_ERROR);
                assert_false(res.locked_now);
                tg_mfa_check_lock(&cfg, "daemon", fixed_clock, &res);
                assert_int_equal(res.outcome, TG_AUTH_ERROR);
                tg_mfa_authenticate(&cfg, "no-such-user-xyz", c, "pts/1", fixed_clock, &res);
                assert_int_equal(res.outcome, TG_AUTH_ERROR);
                assert_non_null(strstr(res.err, "before 2026-01-01T00:00:00Z"));
                assert_int_equal(tg_mfa_load(dfd, "daemon", &l, err, sizeof(err)), 0);
                assert_int_equal(l.failures, 2);
                assert_int_equal(l.locked_until, 0);
                assert_int_equal(l.last_step, 0);
        }
        fixed_now = TG_MFA_CLOCK_FLOOR;
        tg_mfa_check_lock(&cfg, "daemon", fixed_clock, &res);
        assert_int_equal(res.outcome, TG_AUTH_OK);
}

/* While locked, every attempt fails and counts like a wrong code; only a right code learns of
 * the lock, and a right recovery code is not used up by it. */
static void a_locked_attempt_fails_like_a_wrong_code(void **s) {
        const int64_t t0 = 1800000000;
        tg_config cfg = auth_config();
        tg_auth_result res;
        char c[9], err[256], codes[TG_MFA_RECOVERY_CODES][12];
        tg_mfa_user u = enrolled_daemon(0, t0 - 60), l;
        (void) s;
        assert_int_equal(tg_mfa_new_recovery_codes(&u, codes), 0);
        u.failures = 3;
        u.locked_until = t0 + 600;
        assert_int_equal(tg_mfa_save(dfd, &u), 0);
        fixed_now = t0;
        code_now(&u, t0, c);
        c[5] = c[5] == '0' ? '1' : '0';
        tg_mfa_authenticate(&cfg, "daemon", c, "pts/1", fixed_clock, &res);
        assert_int_equal(res.outcome, TG_AUTH_WRONG_CODE);
        assert_false(res.locked_now);
        code_now(&u, t0, c);
        tg_mfa_authenticate(&cfg, "daemon", c, "pts/1", fixed_clock, &res);
        assert_int_equal(res.outcome, TG_AUTH_LOCKED);
        tg_mfa_authenticate(&cfg, "daemon", codes[0], "pts/1", fixed_clock, &res);
        assert_int_equal(res.outcome, TG_AUTH_LOCKED);
        assert_int_equal(tg_mfa_load(dfd, "daemon", &l, err, sizeof(err)), 0);
        assert_int_equal(l.failures, 6);
        assert_int_equal(l.locked_until, t0 + 600); /* not extended */
        fixed_now = t0 + 600;
        tg_mfa_authenticate(&cfg, "daemon", codes[0], "pts/1", fixed_clock, &res);
        assert_int_equal(res.outcome, TG_AUTH_OK_RECOVERY);
}

/* A lock another process keeps for longer than TG_MFA_LOCK_WAIT_SECONDS (one stopped or stuck
 * while holding it) is reported busy instead of being waited for without end: every login of
 * the account would wait with it. (Two opens are two holders, even in one process.) */
static void a_lock_held_elsewhere_is_busy_after_the_wait(void **s) {
        (void) s;
        int held = tg_mfa_lock_user(dfd, "tanaka");
        assert_true(held >= 0);
        assert_int_equal(tg_mfa_lock_user(dfd, "tanaka"), -EBUSY);
        close(held);
        int fd = tg_mfa_lock_user(dfd, "tanaka");
        assert_true(fd >= 0);
        close(fd);
}

/* One user's state held for a read-modify-write, as the PAM side and termguardctl take it. */
static void session_loads_saves_and_wipes(void **s) {
        _cleanup_mfa_session_ tg_mfa_session m = TG_MFA_SESSION_NULL;
        tg_mfa_user u = enrolled();
        char err[256] = "";
        (void) s;
        /* no state yet: an empty one for the user, not an error */
        assert_int_equal(tg_mfa_session_open(state, "tanaka", false, &m, err, sizeof(err)), 0);
        assert_false(m.exists);
        assert_false(m.u.enrolled);
        assert_string_equal(m.u.user, "tanaka");
        m.u = u;
        assert_int_equal(tg_mfa_session_save(&m), 0);
        tg_mfa_session_close(&m);
        assert_int_equal(m.dirfd, -EBADF);
        assert_int_equal(m.lockfd, -EBADF);
        tg_mfa_session_close(&m); /* again: harmless */
        assert_int_equal(tg_mfa_session_open(state, "tanaka", false, &m, err, sizeof(err)), 0);
        assert_true(m.exists);
        assert_true(m.u.enrolled);
        assert_memory_equal(m.u.secret, u.secret, u.secret_len);
        /* held: a second session of the same user is busy after the wait, and says so */
        tg_mfa_session other = TG_MFA_SESSION_NULL;
        other.u.failures = 42;
        assert_int_equal(tg_mfa_session_open(state, "tanaka", false, &other, err, sizeof(err)), -EBUSY);
        assert_non_null(strstr(err, "busy"));
        assert_int_equal(other.dirfd, -EBADF); /* untouched */
        assert_int_equal(other.u.failures, 42);
        tg_mfa_session_close(&m);
        for (size_t i = 0; i < sizeof(m.u.secret); i++)
                assert_int_equal(m.u.secret[i], 0);
}

static void session_refuses_missing_or_unsafe_directory(void **s) {
        tg_mfa_session m = TG_MFA_SESSION_NULL;
        char err[256] = "", missing[320];
        (void) s;
        snprintf(missing, sizeof(missing), "%s/none", state);
        assert_int_equal(tg_mfa_session_open(missing, "tanaka", true, &m, err, sizeof(err)), -ENOENT);
        assert_int_equal(tg_mfa_session_open(missing, "tanaka", false, &m, err, sizeof(err)), -ENOENT);
        assert_int_equal(chmod(dir, 0755), 0);
        assert_int_equal(tg_mfa_session_open(state, "tanaka", true, &m, err, sizeof(err)), -EPERM);
        assert_non_null(strstr(err, "0700"));
        assert_int_equal(chmod(dir, 0700), 0);
        assert_int_equal(chmod(state, 0777), 0);
        assert_int_equal(tg_mfa_session_open(state, "tanaka", true, &m, err, sizeof(err)), -EPERM);
        assert_int_equal(chmod(state, 0700), 0);
        assert_int_equal(tg_mfa_session_open(state, "../tanaka", true, &m, err, sizeof(err)), -EINVAL);
        assert_int_equal(m.dirfd, -EBADF);
        assert_int_equal(m.lockfd, -EBADF);
}

/* A RequireUsers name that is no account, or another spelling of one, would cover nobody: a
 * configuration error, as an unknown RequireGroups group is. root and daemon exist on every
 * Debian system. */
static void require_users_names_accounts_exactly(void **s) {
        tg_config c;
        char err[256] = "";
        (void) s;
        tg_config_default(&c);
        snprintf(c.mfa_users, sizeof(c.mfa_users), "root  daemon");
        assert_int_equal(tg_mfa_check_users(&c, err, sizeof(err)), 0);
        assert_int_equal(tg_mfa_check_config(&c, err, sizeof(err)), 0);
        snprintf(c.mfa_users, sizeof(c.mfa_users), "root no-such-user-xyz daemon");
        assert_int_equal(tg_mfa_check_users(&c, err, sizeof(err)), -ENOENT);
        assert_string_equal(err, "[MFA] RequireUsers: no-such-user-xyz: no such user");
        err[0] = '\0';
        assert_int_equal(tg_mfa_check_config(&c, err, sizeof(err)), -ENOENT);
        assert_non_null(strstr(err, "no-such-user-xyz"));
        /* with the users right, the groups are checked too */
        snprintf(c.mfa_users, sizeof(c.mfa_users), "daemon");
        snprintf(c.mfa_groups, sizeof(c.mfa_groups), "no-such-group-xyz");
        assert_int_equal(tg_mfa_check_config(&c, err, sizeof(err)), -ENOENT);
        assert_non_null(strstr(err, "RequireGroups: no-such-group-xyz"));
}

/* Every directory above the state directory is checked, up to /: one that others can write
 * (a sticky one too) or that is not root's refuses, and so does a symbolic link on the way. */
static void state_directory_parents_are_checked(void **s) {
        char open_dir[320], st_dir[340], link_dir[340], via_link[360], err[512] = "";
        (void) s;
        snprintf(open_dir, sizeof(open_dir), "%s/open", state);
        snprintf(st_dir, sizeof(st_dir), "%s/state", open_dir);
        assert_int_equal(mkdir(open_dir, 0755), 0);
        assert_int_equal(mkdir(st_dir, 0700), 0);
        int fd = tg_mfa_open_dir(st_dir, true, err, sizeof(err));
        assert_true(fd >= 0);
        close(fd);
        const mode_t unsafe[] = {0777, 0775, 0757, 01777};
        for (size_t i = 0; i < sizeof(unsafe) / sizeof(unsafe[0]); i++) {
                assert_int_equal(chmod(open_dir, unsafe[i]), 0);
                err[0] = '\0';
                assert_int_equal(tg_mfa_open_dir(st_dir, false, err, sizeof(err)), -EPERM);
                assert_true(strncmp(err, open_dir, strlen(open_dir)) == 0 && err[strlen(open_dir)] == ':');
                assert_non_null(strstr(err, "writable by root only"));
        }
        assert_int_equal(chmod(open_dir, 0755), 0);
        /* symbolic links: as the state directory, and above it */
        snprintf(link_dir, sizeof(link_dir), "%s/link", state);
        assert_int_equal(symlink(st_dir, link_dir), 0);
        assert_int_equal(tg_mfa_open_dir(link_dir, false, err, sizeof(err)), -EPERM);
        assert_non_null(strstr(err, "symbolic link"));
        assert_int_equal(unlink(link_dir), 0);
        assert_int_equal(symlink(open_dir, link_dir), 0);
        snprintf(via_link, sizeof(via_link), "%s/state", link_dir);
        assert_int_equal(tg_mfa_open_dir(via_link, false, err, sizeof(err)), -EPERM);
        assert_true(strncmp(err, link_dir, strlen(link_dir)) == 0);
        /* not absolute; several slashes are one */
        assert_int_equal(tg_mfa_open_dir("run/x", false, err, sizeof(err)), -EINVAL);
        char doubled[360];
        snprintf(doubled, sizeof(doubled), "/%s//state/", open_dir);
        fd = tg_mfa_open_dir(doubled, false, err, sizeof(err));
        assert_true(fd >= 0);
        close(fd);
}

/* The same for an owner other than root (needs a second id). */
static void unsafe_parent_owner_is_refused(void **s) {
        char open_dir[320], st_dir[340], err[512] = "";
        (void) s;
        snprintf(open_dir, sizeof(open_dir), "%s/theirs", state);
        snprintf(st_dir, sizeof(st_dir), "%s/state", open_dir);
        assert_int_equal(mkdir(open_dir, 0755), 0);
        assert_int_equal(mkdir(st_dir, 0700), 0);
        assert_int_equal(chown(open_dir, 1, 0), 0);
        assert_int_equal(tg_mfa_open_dir(st_dir, true, err, sizeof(err)), -EPERM);
        assert_non_null(strstr(err, "owned by root"));
        assert_int_equal(chown(open_dir, 0, 0), 0);
        int fd = tg_mfa_open_dir(st_dir, true, err, sizeof(err));
        assert_true(fd >= 0);
        close(fd);
}

/* Whether the directories down to TEST_BASE are root's here: not in a user namespace of an
 * unprivileged caller (run-as-root.sh), where the host's root shows as the overflow id. */
static bool base_is_root_only(void) {
        struct stat st;
        return stat("/", &st) == 0 && st.st_uid == 0 && !(st.st_mode & 022) && stat(TEST_BASE, &st) == 0 &&
               st.st_uid == 0 && !(st.st_mode & 022);
}

int main(void) {
        if (geteuid() != 0) {
                fprintf(stderr, "test_mfa: skipped, needs root (root-owned state files)\n");
                return 77;
        }
        if (!base_is_root_only()) {
                fprintf(stderr, "test_mfa: skipped, / or " TEST_BASE " is not root's here (a user namespace): the "
                                "state directory's parents must be\n");
                return 77;
        }
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(round_trip_and_permissions, setup, teardown),
                cmocka_unit_test_setup_teardown(counters_only_state_round_trips, setup, teardown),
                cmocka_unit_test_setup_teardown(unsafe_files_are_errors, setup, teardown),
                cmocka_unit_test_setup_teardown(corrupt_files_are_errors, setup, teardown),
                cmocka_unit_test_setup_teardown(unsafe_directory_is_refused, setup, teardown),
                cmocka_unit_test(user_names),
                cmocka_unit_test(require_users_names_accounts_exactly),
                cmocka_unit_test_setup_teardown(totp_once_and_recovery_once, setup, teardown),
                cmocka_unit_test_setup_teardown(recovery_codes_are_yescrypt_hashes_with_a_salt_each, setup, teardown),
                cmocka_unit_test_setup_teardown(old_format_recovery_codes_are_refused_with_a_reason, setup, teardown),
                cmocka_unit_test(not_enrolled_never_passes),
                cmocka_unit_test(lockout),
                cmocka_unit_test(expired_lock_starts_a_new_count),
                cmocka_unit_test_setup_teardown(a_lock_counts_from_the_time_the_lock_is_held, setup, teardown),
                cmocka_unit_test_setup_teardown(a_code_is_checked_at_the_time_the_lock_is_held, setup, teardown),
                cmocka_unit_test_setup_teardown(other_failures_and_preauth_read_the_clock_under_the_lock, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(a_clock_set_back_moves_the_replay_bound, setup, teardown),
                cmocka_unit_test_setup_teardown(a_lock_from_a_clock_ahead_is_clamped_to_the_lockout_time, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(a_clock_before_the_floor_fails_closed_and_counts_nothing, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(a_locked_attempt_fails_like_a_wrong_code, setup, teardown),
                cmocka_unit_test_setup_teardown(a_lock_held_elsewhere_is_busy_after_the_wait, setup, teardown),
                cmocka_unit_test_setup_teardown(session_loads_saves_and_wipes, setup, teardown),
                cmocka_unit_test_setup_teardown(session_refuses_missing_or_unsafe_directory, setup, teardown),
                cmocka_unit_test_setup_teardown(state_directory_parents_are_checked, setup, teardown),
                cmocka_unit_test_setup_teardown(unsafe_parent_owner_is_refused, setup, teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
