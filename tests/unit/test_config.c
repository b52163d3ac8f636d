/* SPDX-License-Identifier: GPL-2.0-or-later */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "termguard/config.h"
#include "termguard/register.h"

static char root[256];

static void write_file(const char *rel, const char *text, mode_t mode) {
        char p[512];
        FILE *f;
        snprintf(p, sizeof(p), "%s/%s", root, rel);
        f = fopen(p, "w");
        assert_non_null(f);
        fputs(text, f);
        fclose(f);
        chmod(p, mode);
}

static void unlink_file(const char *rel) {
        char p[512];
        snprintf(p, sizeof(p), "%s/%s", root, rel);
        assert_int_equal(unlink(p), 0);
}

static int setup(void **state) {
        char p[300];
        (void) state;
        snprintf(root, sizeof(root), "/tmp/tg-config-test.XXXXXX");
        assert_non_null(mkdtemp(root));
        snprintf(p, sizeof(p), "%s/termguard.conf.d", root);
        mkdir(p, 0755);
        return 0;
}

static int teardown(void **state) {
        char cmd[300];
        (void) state;
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
        assert_int_equal(system(cmd), 0);
        return 0;
}

static void missing_file_gives_defaults(void **state) {
        tg_config c;
        char err[512] = "";
        (void) state;
        assert_int_equal(tg_config_load(root, &c, err, sizeof(err)), 0);
        assert_string_equal(c.state_dir, "/var/lib/termguard");
        assert_true(c.usb.allow_class[0x03]);
        assert_false(c.usb.allow_class[0x08]);
        assert_int_equal(c.max_exception_duration, 31 * 86400);
        assert_int_equal(c.media_hash_max, 256 * 1024 * 1024);
        assert_int_equal(c.journal_checkpoint_interval, 5 * 60);
        assert_int_equal(c.journal_max_bytes, 512 * 1024 * 1024);
}

static void values_and_dropins(void **state) {
        tg_config c;
        char err[512] = "";
        (void) state;
        write_file("termguard.conf", "[Daemon]\nAdminGroup=tgadmin\n[USB]\nAllowInterfaceClasses=hid hub\n", 0644);
        write_file("termguard.conf.d/10-a.conf", "[Exceptions]\nMaxDuration=8h\n", 0644);
        write_file("termguard.conf.d/20-b.conf", "[USB]\nAllowInterfaceClasses=hid,0x0b\n", 0644);
        write_file("termguard.conf.d/ignored.txt", "garbage\n", 0644);
        assert_int_equal(tg_config_load(root, &c, err, sizeof(err)), 0);
        assert_string_equal(c.admin_group, "tgadmin");
        assert_int_equal(c.max_exception_duration, 8 * 3600);
        assert_true(c.usb.allow_class[0x03]);
        assert_true(c.usb.allow_class[0x0b]);
        assert_false(c.usb.allow_class[0x09]); /* the later drop-in replaced the list */
}

static void expect_error(const char *file, const char *text, const char *needle) {
        tg_config c;
        char err[512] = "";
        write_file(file, text, 0644);
        assert_true(tg_config_load(root, &c, err, sizeof(err)) < 0);
        if (!strstr(err, needle))
                fail_msg("error \"%s\" does not contain \"%s\"", err, needle);
}

static void unknown_key_names_file_line_key(void **state) {
        (void) state;
        expect_error("termguard.conf", "[Daemon]\n# comment\nAdminGroup=x\nAdminGrup=y\n",
                     "termguard.conf:4: Daemon.AdminGrup: unknown key");
}

static void unknown_section(void **state) {
        (void) state;
        expect_error("termguard.conf", "[Usb]\nAllowInterfaceClasses=hid\n",
                     ":2: Usb.AllowInterfaceClasses: unknown key");
}

static void bad_values(void **state) {
        (void) state;
        expect_error("termguard.conf", "[Exceptions]\nMaxDuration=forever\n", ":2: Exceptions.MaxDuration");
        expect_error("termguard.conf", "[Exceptions]\nMaxDuration=400d\n", "at most 366d");
        expect_error("termguard.conf", "[USB]\nAllowInterfaceClasses=hid keyboard\n", "USB.AllowInterfaceClasses");
        expect_error("termguard.conf", "[Daemon]\nStateDirectory=relative/path\n", "Daemon.StateDirectory");
        expect_error("termguard.conf", "[Daemon]\nStateDirectory=/a/../etc\n", "Daemon.StateDirectory");
}

static void storage_cannot_be_allowed_by_config(void **state) {
        (void) state;
        expect_error("termguard.conf", "[USB]\nAllowInterfaceClasses=hid mass-storage\n",
                     "only through the media register");
        expect_error("termguard.conf", "[USB]\nAllowInterfaceClasses=06\n", "only through the media register");
}

static void syntax_error_and_long_line(void **state) {
        char big[600];
        (void) state;
        expect_error("termguard.conf", "[Daemon\nAdminGroup=x\n", "termguard.conf:1: syntax error");
        expect_error("termguard.conf", "[Daemon]\njust words\n", ":2: syntax error");
        snprintf(big, sizeof(big), "[Daemon]\nAdminGroup=%0500d\n", 0);
        expect_error("termguard.conf", big, ":2: line longer than");
}

static void error_in_dropin_names_the_dropin(void **state) {
        (void) state;
        write_file("termguard.conf", "[Daemon]\nAdminGroup=x\n", 0644);
        expect_error("termguard.conf.d/50-local.conf", "[USB]\n\nBogus=1\n", "50-local.conf:3: USB.Bogus: unknown key");
}

static void hostile_value_is_escaped_in_error(void **state) {
        (void) state;
        expect_error("termguard.conf", "[Daemon]\nAdminGroup=a\x1b[2Jb\n", "\\x1b");
}

static void expect_ok(const char *text, tg_config *ret) {
        char err[512] = "";
        write_file("termguard.conf", text, 0644);
        if (tg_config_load(root, ret, err, sizeof(err)) < 0)
                fail_msg("\"%s\" refused: %s", text, err);
}

/* Every bounded key: the bound itself is accepted, one past it is refused with the key named. */
static void bounds_of_every_bounded_key(void **state) {
        tg_config c;
        char line[300];
        (void) state;
        expect_ok("[Exceptions]\nMaxDuration=366d\n", &c);
        assert_int_equal(c.max_exception_duration, 366 * 86400);
        expect_ok("[Exceptions]\nMaxDuration=1s\n", &c);
        assert_int_equal(c.max_exception_duration, 1);
        expect_error("termguard.conf", "[Exceptions]\nMaxDuration=31622401\n", ":2: Exceptions.MaxDuration: expects");
        expect_error("termguard.conf", "[Exceptions]\nMaxDuration=0\n", ":2: Exceptions.MaxDuration: expects");

        expect_ok("[MFA]\nLockoutTime=30d\n", &c);
        assert_int_equal(c.mfa_lockout, 30 * 86400);
        expect_error("termguard.conf", "[MFA]\nLockoutTime=2592001\n", ":2: MFA.LockoutTime: expects");
        expect_error("termguard.conf", "[MFA]\nLockoutTime=-5m\n", ":2: MFA.LockoutTime: expects");

        expect_ok("[MFA]\nMaxFailures=100\n", &c);
        assert_int_equal(c.mfa_max_failures, 100);
        expect_ok("[MFA]\nMaxFailures=0\n", &c);
        assert_int_equal(c.mfa_max_failures, 0);
        expect_error("termguard.conf", "[MFA]\nMaxFailures=101\n", ":2: MFA.MaxFailures: expects");
        expect_error("termguard.conf", "[MFA]\nMaxFailures=18446744073709551617\n", ":2: MFA.MaxFailures");
        expect_error("termguard.conf", "[MFA]\nMaxFailures=\n", ":2: MFA.MaxFailures");
        expect_error("termguard.conf", "[MFA]\nMaxFailures=3x\n", ":2: MFA.MaxFailures");

        /* HashMaxSize: bytes with binary suffixes, 0 to 1T */
        expect_ok("[MediaAudit]\nHashMaxSize=1T\n", &c);
        assert_true(c.media_hash_max == UINT64_C(1) << 40);
        expect_ok("[MediaAudit]\nHashMaxSize=0\n", &c);
        assert_true(c.media_hash_max == 0);
        expect_ok("[MediaAudit]\nHashMaxSize=512K\n", &c);
        assert_true(c.media_hash_max == 512 * 1024);
        expect_ok("[MediaAudit]\nHashMaxSize=1099511627776\n", &c);
        assert_true(c.media_hash_max == UINT64_C(1) << 40);
        expect_error("termguard.conf", "[MediaAudit]\nHashMaxSize=1099511627777\n",
                     ":2: MediaAudit.HashMaxSize: expects");
        expect_error("termguard.conf", "[MediaAudit]\nHashMaxSize=1025G\n", ":2: MediaAudit.HashMaxSize: expects");
        /* n << 40 would wrap to 0 in 64 bits: refused, not read as 0. */
        expect_error("termguard.conf", "[MediaAudit]\nHashMaxSize=16777216T\n", ":2: MediaAudit.HashMaxSize");
        expect_error("termguard.conf", "[MediaAudit]\nHashMaxSize=99999999999999999999\n",
                     ":2: MediaAudit.HashMaxSize");
        expect_error("termguard.conf", "[MediaAudit]\nHashMaxSize=-1\n", ":2: MediaAudit.HashMaxSize");
        expect_error("termguard.conf", "[MediaAudit]\nHashMaxSize=1.5G\n", ":2: MediaAudit.HashMaxSize");
        expect_error("termguard.conf", "[MediaAudit]\nHashMaxSize=256MB\n", ":2: MediaAudit.HashMaxSize");
        expect_error("termguard.conf", "[MediaAudit]\nHashMaxSize=256m\n", ":2: MediaAudit.HashMaxSize");
        expect_error("termguard.conf", "[MediaAudit]\nHashMaxSize=\n", ":2: MediaAudit.HashMaxSize");
        expect_ok("[Journal]\nCheckpointInterval=10s\n", &c);
        assert_int_equal(c.journal_checkpoint_interval, 10);
        expect_ok("[Journal]\nCheckpointInterval=1d\n", &c);
        assert_int_equal(c.journal_checkpoint_interval, 86400);
        expect_error("termguard.conf", "[Journal]\nCheckpointInterval=9s\n", ":2: Journal.CheckpointInterval: expects");
        expect_error("termguard.conf", "[Journal]\nCheckpointInterval=86401\n", ":2: Journal.CheckpointInterval");
        expect_error("termguard.conf", "[Journal]\nCheckpointInterval=never\n", ":2: Journal.CheckpointInterval");

        expect_ok("[Journal]\nMaxUse=64K\n", &c);
        assert_int_equal(c.journal_max_bytes, 64 * 1024);
        expect_ok("[Journal]\nMaxUse=2G\n", &c);
        assert_int_equal(c.journal_max_bytes, INT64_C(2) << 30);
        expect_ok("[Journal]\nMaxUse=1024G\n", &c);
        assert_int_equal(c.journal_max_bytes, INT64_C(1) << 40);
        expect_ok("[Journal]\nMaxUse=1048576\n", &c);
        assert_int_equal(c.journal_max_bytes, 1048576);
        expect_error("termguard.conf", "[Journal]\nMaxUse=63K\n", ":2: Journal.MaxUse: expects a size");
        /* who may read the records: a group, by default the forwarder's; empty means root only */
        expect_ok("", &c);
        assert_string_equal(c.journal_auditor_group, "termguard-audit");
        expect_ok("[Journal]\nAuditorGroup=監査\n", &c);
        assert_string_equal(c.journal_auditor_group, "監査");
        expect_ok("[Journal]\nAuditorGroup=\n", &c);
        assert_string_equal(c.journal_auditor_group, "");
        expect_error("termguard.conf", "[Journal]\nAuditorGroup=audit\x01\n", ":2: Journal.AuditorGroup");
        expect_error("termguard.conf", "[Journal]\nMaxUse=1025G\n", ":2: Journal.MaxUse");
        expect_error("termguard.conf", "[Journal]\nMaxUse=18446744073709551615G\n", ":2: Journal.MaxUse");
        expect_error("termguard.conf", "[Journal]\nMaxUse=-1M\n", ":2: Journal.MaxUse");
        expect_error("termguard.conf", "[Journal]\nMaxUse=2T\n", ":2: Journal.MaxUse");

        /* retention: by default for ever; whole days at least; infinity or 0 for ever */
        expect_ok("", &c);
        assert_int_equal(c.journal_max_age, 0);
        expect_ok("[Journal]\nMaxAge=1825d\n", &c);
        assert_int_equal(c.journal_max_age, INT64_C(1825) * 86400);
        expect_ok("[Journal]\nMaxAge=1d\n", &c);
        assert_int_equal(c.journal_max_age, 86400);
        expect_ok("[Journal]\nMaxAge=36500d\n", &c);
        assert_int_equal(c.journal_max_age, INT64_C(36500) * 86400);
        expect_ok("[Journal]\nMaxAge=24h\n", &c);
        assert_int_equal(c.journal_max_age, 86400);
        expect_ok("[Journal]\nMaxAge=30d\nMaxAge=infinity\n", &c);
        assert_int_equal(c.journal_max_age, 0);
        expect_ok("[Journal]\nMaxAge=30d\nMaxAge=0\n", &c);
        assert_int_equal(c.journal_max_age, 0);
        expect_error("termguard.conf", "[Journal]\nMaxAge=23h\n", ":2: Journal.MaxAge: expects a duration");
        expect_error("termguard.conf", "[Journal]\nMaxAge=5\n", ":2: Journal.MaxAge");
        expect_error("termguard.conf", "[Journal]\nMaxAge=36501d\n", ":2: Journal.MaxAge");
        expect_error("termguard.conf", "[Journal]\nMaxAge=-30d\n", ":2: Journal.MaxAge");
        expect_error("termguard.conf", "[Journal]\nMaxAge=5y\n", ":2: Journal.MaxAge");
        expect_error("termguard.conf", "[Journal]\nMaxAge=never\n", ":2: Journal.MaxAge");
        expect_error("termguard.conf", "[Journal]\nMaxAge=Infinity\n", ":2: Journal.MaxAge");
        expect_error("termguard.conf", "[Journal]\nMaxAge=\n", ":2: Journal.MaxAge");
        expect_error("termguard.conf", "[Journal]\nMaxAge=99999999999999999999d\n", ":2: Journal.MaxAge");
        expect_error("termguard.conf", "[Journal]\nMaxAge=00\n", ":2: Journal.MaxAge");
        expect_error("termguard.conf", "[Journal]\nMaxUse=1MM\n", ":2: Journal.MaxUse");
        expect_error("termguard.conf", "[Journal]\nMaxUse=\n", ":2: Journal.MaxUse");

        /* strings are bounded by their field */
        snprintf(line, sizeof(line), "[Daemon]\nStateDirectory=/%0*d\n", TG_PATH_MAX - 1, 0);
        expect_ok(line, &c);
        assert_int_equal(strlen(c.state_dir), TG_PATH_MAX);
        snprintf(line, sizeof(line), "[Daemon]\nRuntimeDirectory=/%0*d\n", TG_PATH_MAX, 0);
        expect_error("termguard.conf", line, ":2: Daemon.RuntimeDirectory: must be an absolute path of at most 96");
        snprintf(line, sizeof(line), "[MFA]\nBannerFile=/%0*d\n", TG_PATH_MAX, 0);
        expect_error("termguard.conf", line, ":2: MFA.BannerFile");
        snprintf(line, sizeof(line), "[Daemon]\nAdminGroup=%0*d\n", TG_USER_MAX, 0);
        expect_ok(line, &c);
        assert_int_equal(strlen(c.admin_group), TG_USER_MAX);
        snprintf(line, sizeof(line), "[Daemon]\nAdminGroup=%0*d\n", TG_USER_MAX + 1, 0);
        expect_error("termguard.conf", line, ":2: Daemon.AdminGroup: must be a group name");

        /* MFAServices: each name at most 32 characters, the list at most 127 */
        char svc[300], big[400];
        snprintf(line, sizeof(line), "[MFA]\nMFAServices=sshd %0*d\n", TG_MFA_SERVICE_MAX, 0);
        expect_ok(line, &c);
        snprintf(line, sizeof(line), "[MFA]\nMFAServices=sshd %0*d\n", TG_MFA_SERVICE_MAX + 1, 0);
        expect_error("termguard.conf", line, ":2: MFA.MFAServices: expects PAM service names");
        svc[0] = '\0';
        for (int i = 0; i < 8; i++) /* 8 * 16 - 1 = 127 characters */
                snprintf(svc + strlen(svc), sizeof(svc) - strlen(svc), "%s%015d", i ? " " : "", i);
        snprintf(big, sizeof(big), "[MFA]\nMFAServices=%s\n", svc);
        expect_ok(big, &c);
        assert_string_equal(c.mfa_services, svc);
        snprintf(big, sizeof(big), "[MFA]\nMFAServices=%sx\n", svc);
        expect_error("termguard.conf", big, ":2: MFA.MFAServices");
        expect_error("termguard.conf", "[MFA]\nMFAServices=sshd gdm/fingerprint\n", ":2: MFA.MFAServices");
        expect_error("termguard.conf", "[MFA]\nMFAServices=sshd,login\n", ":2: MFA.MFAServices");
        expect_error("termguard.conf", "[MFA]\nMFAServices=sshd\tlogin\n", ":2: MFA.MFAServices");
}

/* Empty values: allowed where they mean "none", refused where a value is needed. */
static void empty_values(void **state) {
        tg_config c;
        (void) state;
        expect_ok("[Daemon]\nAdminGroup=\n[MFA]\nBannerFile=\nRolloutUntil=\nRequireUsers=\n", &c);
        assert_string_equal(c.admin_group, "");
        assert_string_equal(c.mfa_banner_file, "");
        assert_int_equal(c.mfa_rollout_until, 0);
        assert_string_equal(c.mfa_users, "");
        /* no service whose account phase needs the factor: an explicit choice, never the default */
        expect_ok("[MFA]\nMFAServices=\n", &c);
        assert_string_equal(c.mfa_services, "");
        expect_ok("[MFA]\n", &c);
        assert_string_equal(c.mfa_services, "sshd gdm-fingerprint gdm-smartcard login");
        expect_error("termguard.conf", "[Daemon]\nStateDirectory=\n", ":2: Daemon.StateDirectory");
        expect_error("termguard.conf", "[MFA]\nProfile=\n", ":2: MFA.Profile");
        expect_error("termguard.conf", "[MFA]\nLockoutTime=\n", ":2: MFA.LockoutTime");
}

/* Keys are looked up by section and name together, case-sensitively. */
static void keys_belong_to_their_section(void **state) {
        (void) state;
        expect_error("termguard.conf", "[MFA]\nAdminGroup=x\n", ":2: MFA.AdminGroup: unknown key");
        expect_error("termguard.conf", "[Daemon]\nadmingroup=x\n", ":2: Daemon.admingroup: unknown key");
        expect_error("termguard.conf", "AdminGroup=x\n", ":1: AdminGroup: unknown key");
        expect_error("termguard.conf", "[Daemon]\nAdminGroup=x\n[Nonsense]\nAdminGroup=y\n",
                     ":4: Nonsense.AdminGroup: unknown key");
}

/* A key given twice takes the last value, within one file and across drop-ins; a bad value
 * is an error even when a later line would set a good one. */
static void duplicate_keys_last_wins(void **state) {
        tg_config c;
        char err[512] = "";
        (void) state;
        expect_ok("[MFA]\nMaxFailures=3\nMaxFailures=7\n[Daemon]\nAdminGroup=a\n[MFA]\nMaxFailures=9\n", &c);
        assert_int_equal(c.mfa_max_failures, 9);
        assert_string_equal(c.admin_group, "a");
        write_file("termguard.conf.d/10-a.conf", "[MFA]\nMaxFailures=4\n", 0644);
        write_file("termguard.conf.d/20-b.conf", "[MFA]\nMaxFailures=5\n", 0644);
        assert_int_equal(tg_config_load(root, &c, err, sizeof(err)), 0);
        assert_int_equal(c.mfa_max_failures, 5);
        expect_error("termguard.conf", "[MFA]\nMaxFailures=500\nMaxFailures=5\n", ":2: MFA.MaxFailures");
}

/* RawAccess= is a list: every line adds (one line holds only a few models), an empty one
 * empties, drop-ins add to the main file; a bad model or one too many is an error naming it. */
static void raw_access_models(void **state) {
        tg_config c;
        char err[512] = "", line[200];
        (void) state;

        expect_ok("[USB]\n", &c);
        assert_int_equal(c.usb.raw_access.n, 0);
        expect_ok("[USB]\nRawAccess=04e6:5116 1050:0407/K1\nRawAccess=096E:0858\n", &c);
        assert_int_equal(c.usb.raw_access.n, 3);
        assert_int_equal(c.usb.raw_access.models[2].vid, 0x096e);
        assert_int_equal(c.usb.raw_access.models[2].pid, 0x0858);
        assert_string_equal(c.usb.raw_access.models[1].serial, "K1");
        write_file("termguard.conf.d/50-keys.conf", "[USB]\nRawAccess=2581:f1d0\n", 0644);
        assert_int_equal(tg_config_load(root, &c, err, sizeof(err)), 0);
        assert_int_equal(c.usb.raw_access.n, 4);
        write_file("termguard.conf.d/60-none.conf", "[USB]\nRawAccess=\n", 0644);
        assert_int_equal(tg_config_load(root, &c, err, sizeof(err)), 0);
        assert_int_equal(c.usb.raw_access.n, 0);
        unlink_file("termguard.conf.d/50-keys.conf");
        unlink_file("termguard.conf.d/60-none.conf");

        expect_error("termguard.conf", "[USB]\nRawAccess=04e6:5116 yubikey\n", ":2: USB.RawAccess: expects reader");
        expect_error("termguard.conf", "[USB]\nRawAccess=04e6\n", ":2: USB.RawAccess");
        expect_error("termguard.conf", "[USB]\nRawAccess=04e6:5116/\x1b[2J\n", ":2: USB.RawAccess");
        expect_error("termguard.conf", "[USB]\nRawAccess=04e6:5116/A\"B\n", ":2: USB.RawAccess");
        expect_error("termguard.conf", "[Daemon]\nRawAccess=04e6:5116\n", ":2: Daemon.RawAccess: unknown key");
        /* TG_RAW_ACCESS_MODELS_MAX models in all, over several lines; one more is refused. */
        char text[2048] = "[USB]\n";
        for (int i = 0; i < TG_RAW_ACCESS_MODELS_MAX; i += 8) {
                snprintf(line, sizeof(line), "RawAccess=");
                for (int k = i; k < i + 8; k++)
                        snprintf(line + strlen(line), sizeof(line) - strlen(line), "%04x:0001 ", k);
                snprintf(text + strlen(text), sizeof(text) - strlen(text), "%s\n", line);
        }
        expect_ok(text, &c);
        assert_int_equal(c.usb.raw_access.n, TG_RAW_ACCESS_MODELS_MAX);
        snprintf(text + strlen(text), sizeof(text) - strlen(text), "RawAccess=ffff:ffff\n");
        expect_error("termguard.conf", text, ":10: USB.RawAccess");
}

/* On any error the caller's configuration is untouched: a reload keeps the last good policy. */
static void error_keeps_last_good_config(void **state) {
        tg_config good, c;
        char err[512] = "";
        (void) state;
        expect_ok("[Daemon]\nAdminGroup=tgadmin\n[MFA]\nMaxFailures=3\n", &good);
        c = good;
        write_file("termguard.conf.d/50-bad.conf", "[MFA]\nMaxFailures=4\nLockoutTime=99d\n", 0644);
        assert_int_equal(tg_config_load(root, &c, err, sizeof(err)), -EINVAL);
        assert_non_null(strstr(err, "50-bad.conf:3: MFA.LockoutTime"));
        assert_memory_equal(&c, &good, sizeof(c));
}

static void hostile_section_is_escaped_in_error(void **state) {
        (void) state;
        expect_error("termguard.conf", "[Dae\x1b[2Jmon]\nAdminGroup=x\n", "Dae\\x1b[2Jmon.AdminGroup: unknown key");
}

static void world_writable_refused(void **state) {
        tg_config c;
        char err[512] = "";
        (void) state;
        write_file("termguard.conf", "[Daemon]\nAdminGroup=x\n", 0666);
        assert_int_equal(tg_config_load(root, &c, err, sizeof(err)), -EPERM);
        assert_non_null(strstr(err, "others can write"));
        /* group-writable is refused unless the group is root's */
        char p[600];
        snprintf(p, sizeof(p), "%s/termguard.conf", root);
        assert_int_equal(chmod(p, 0664), 0);
        if (geteuid() == 0) {
                assert_int_equal(chown(p, 0, 0), 0);
                assert_int_equal(tg_config_load(root, &c, err, sizeof(err)), 0);
                assert_int_equal(chown(p, 0, 100), 0);
                assert_int_equal(tg_config_load(root, &c, err, sizeof(err)), -EPERM);
        }
}

/* For authentication the main file must exist: missing is not "nobody is covered". */
static void missing_main_file(void **state) {
        tg_config c;
        char err[512] = "";
        (void) state;
        assert_int_equal(tg_config_load(root, &c, err, sizeof(err)), 0);
        assert_int_equal(tg_config_load_required(root, &c, err, sizeof(err)), -ENOENT);
        assert_non_null(strstr(err, "termguard.conf: cannot open"));
}

static void mfa_policy(void **state) {
        tg_config c;
        char err[512] = "";
        (void) state;
        write_file("termguard.conf",
                   "[MFA]\nRequireUsers=tanaka suzuki\nRequireGroups=soumu\nProfile=mynumber\n"
                   "RolloutUntil=2027-03-31T23:59:59+09:00\nMaxFailures=3\nLockoutTime=30m\n"
                   "BannerFile=/etc/termguard/banner.txt\n",
                   0644);
        assert_int_equal(tg_config_load(root, &c, err, sizeof(err)), 0);
        assert_string_equal(c.mfa_users, "tanaka suzuki");
        assert_string_equal(c.mfa_groups, "soumu");
        assert_true(c.mfa_everyone);
        assert_int_equal(c.mfa_rollout_until, 1806505199);
        assert_int_equal(c.mfa_max_failures, 3);
        assert_int_equal(c.mfa_lockout, 1800);
        assert_string_equal(c.mfa_banner_file, "/etc/termguard/banner.txt");
        expect_error("termguard.conf", "[MFA]\nProfile=strict\n", ":2: MFA.Profile");
        expect_error("termguard.conf", "[MFA]\nRequireUsers=tanaka;rm\n", ":2: MFA.RequireUsers");
        expect_error("termguard.conf", "[MFA]\nMaxFailures=-1\n", ":2: MFA.MaxFailures");
        expect_error("termguard.conf", "[MFA]\nRolloutUntil=2027-03-31\n", ":2: MFA.RolloutUntil");
        expect_error("termguard.conf", "[MFA]\nLockoutTime=0\n", ":2: MFA.LockoutTime");
}

static void idle_lock_policy(void **state) {
        tg_config c;
        char err[512] = "";
        (void) state;
        expect_ok("", &c);
        assert_int_equal(c.idle_lock_after, 15 * 60);
        assert_int_equal(c.idle_privileged_lock_after, 5 * 60);
        assert_int_equal(c.idle_warn_before, 60);
        assert_int_equal(c.idle_confirm_timeout, 5);
        assert_int_equal(c.idle_logoff_grace, 120);
        assert_string_equal(c.idle_privileged_groups, "");
        assert_string_equal(c.idle_card_readers, "");
        expect_ok("[IdleLock]\nCardReaders=SCM Microsystems Inc. SCR 3310\n", &c);
        assert_string_equal(c.idle_card_readers, "SCM Microsystems Inc. SCR 3310");
        expect_ok("[IdleLock]\nCardReaders=*\n", &c);
        assert_string_equal(c.idle_card_readers, "*");
        expect_error("termguard.conf", "[IdleLock]\nCardReaders=bad\x01name\n", ":2: IdleLock.CardReaders");
        write_file("termguard.conf",
                   "[IdleLock]\nLockAfter=10m\nPrivilegedLockAfter=3m\nPrivilegedGroups=mynumber soumu-admin\n"
                   "WarnBefore=30s\nConfirmTimeout=10s\nLogoffGrace=5m\n",
                   0644);
        assert_int_equal(tg_config_load(root, &c, err, sizeof(err)), 0);
        assert_int_equal(c.idle_lock_after, 600);
        assert_int_equal(c.idle_privileged_lock_after, 180);
        assert_string_equal(c.idle_privileged_groups, "mynumber soumu-admin");
        assert_int_equal(c.idle_warn_before, 30);
        assert_int_equal(c.idle_confirm_timeout, 10);
        assert_int_equal(c.idle_logoff_grace, 300);
        /* 0 turns the lock (or the warning, or the grace) off; the confirmation needs time */
        expect_ok("[IdleLock]\nLockAfter=0\nWarnBefore=0\nLogoffGrace=0\n", &c);
        assert_int_equal(c.idle_lock_after, 0);
        expect_ok("[IdleLock]\nLockAfter=1d\nWarnBefore=1h\nConfirmTimeout=5m\nLogoffGrace=1h\n", &c);
        expect_error("termguard.conf", "[IdleLock]\nLockAfter=86401\n", ":2: IdleLock.LockAfter: expects");
        expect_error("termguard.conf", "[IdleLock]\nLockAfter=-1m\n", ":2: IdleLock.LockAfter: expects");
        expect_error("termguard.conf", "[IdleLock]\nLockAfter=\n", ":2: IdleLock.LockAfter");
        expect_error("termguard.conf", "[IdleLock]\nPrivilegedLockAfter=2d\n", ":2: IdleLock.PrivilegedLockAfter");
        expect_error("termguard.conf", "[IdleLock]\nConfirmTimeout=0\n", ":2: IdleLock.ConfirmTimeout");
        expect_error("termguard.conf", "[IdleLock]\nConfirmTimeout=301\n", ":2: IdleLock.ConfirmTimeout");
        expect_error("termguard.conf", "[IdleLock]\nWarnBefore=3601\n", ":2: IdleLock.WarnBefore");
        expect_error("termguard.conf", "[IdleLock]\nLogoffGrace=2h\n", ":2: IdleLock.LogoffGrace");
        expect_error("termguard.conf", "[IdleLock]\nPrivilegedGroups=a;b\n", ":2: IdleLock.PrivilegedGroups");
        expect_error("termguard.conf", "[IdleLock]\nLockAfterSeconds=5\n",
                     ":2: IdleLock.LockAfterSeconds: unknown key");
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(missing_file_gives_defaults, setup, teardown),
                cmocka_unit_test_setup_teardown(values_and_dropins, setup, teardown),
                cmocka_unit_test_setup_teardown(unknown_key_names_file_line_key, setup, teardown),
                cmocka_unit_test_setup_teardown(unknown_section, setup, teardown),
                cmocka_unit_test_setup_teardown(bad_values, setup, teardown),
                cmocka_unit_test_setup_teardown(storage_cannot_be_allowed_by_config, setup, teardown),
                cmocka_unit_test_setup_teardown(syntax_error_and_long_line, setup, teardown),
                cmocka_unit_test_setup_teardown(error_in_dropin_names_the_dropin, setup, teardown),
                cmocka_unit_test_setup_teardown(hostile_value_is_escaped_in_error, setup, teardown),
                cmocka_unit_test_setup_teardown(world_writable_refused, setup, teardown),
                cmocka_unit_test_setup_teardown(missing_main_file, setup, teardown),
                cmocka_unit_test_setup_teardown(mfa_policy, setup, teardown),
                cmocka_unit_test_setup_teardown(idle_lock_policy, setup, teardown),
                cmocka_unit_test_setup_teardown(bounds_of_every_bounded_key, setup, teardown),
                cmocka_unit_test_setup_teardown(empty_values, setup, teardown),
                cmocka_unit_test_setup_teardown(keys_belong_to_their_section, setup, teardown),
                cmocka_unit_test_setup_teardown(duplicate_keys_last_wins, setup, teardown),
                cmocka_unit_test_setup_teardown(error_keeps_last_good_config, setup, teardown),
                cmocka_unit_test_setup_teardown(raw_access_models, setup, teardown),
                cmocka_unit_test_setup_teardown(hostile_section_is_escaped_in_error, setup, teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
