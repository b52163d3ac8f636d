/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * termguardctl mfa ...: enrollment and administration of the second factor. These act on the
 * root-owned state directly (root only) and record each action in the system log.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <libintl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>
#include <qrencode.h>

#include "ctl.h"
#include "termguard/account.h"
#include "termguard/config.h"
#include "termguard/json-util.h"
#include "termguard/mfa.h"
#include "termguard/mfa-event.h"

#define _(s) gettext(s)

/* Administrator actions are events, with who did them. */
static void audit(const tg_config *cfg, const char *action, const char *user) {
        char type[32], actor[128];
        uid_t login = (uid_t) -1;
        snprintf(type, sizeof(type), "mfa.%s", action);
        /* The login uid, not SUDO_USER: anyone can set an environment variable. */
        (void) tg_loginuid_read(0, &login);
        tg_actor_describe(getuid(), login, actor, sizeof(actor));
        /* Done already: a record that reaches neither termguardd nor the spool goes to syslog. */
        (void) tg_mfa_event(&(tg_mfa_event_ctx){.identifier = "termguardctl",
                                                .actor = actor,
                                                .runtime_dir = cfg->runtime_dir,
                                                .state_dir = cfg->state_dir},
                            type, LOG_NOTICE, user, NULL);
}

/* Prints the QR code with half blocks: two modules per character, with a quiet zone. */
static void print_qr(const char *text) {
        QRcode *q = QRcode_encodeString(text, 0, QR_ECLEVEL_M, QR_MODE_8, 1);
        const int quiet = 2;
        if (!q) {
                fprintf(stderr, "%s\n", _("termguardctl: cannot draw the QR code; use the URI above."));
                return;
        }
        int w = q->width;
        for (int y = -quiet; y < w + quiet; y += 2) {
                for (int x = -quiet; x < w + quiet; x++) {
                        bool top = y >= 0 && y < w && x >= 0 && x < w && (q->data[y * w + x] & 1);
                        bool bottom = y + 1 >= 0 && y + 1 < w && x >= 0 && x < w && (q->data[(y + 1) * w + x] & 1);
                        /* dark modules as background: light-on-dark terminals scan best inverted */
                        fputs(top && bottom ? " " : top ? "\u2584" : bottom ? "\u2580" : "\u2588", stdout);
                }
                fputc('\n', stdout);
        }
        QRcode_free(q);
}

/* The user's state for one command: configuration, and the state held under the user's lock
 * (tg_mfa_session). Returns 0 or an exit status, with the reason on stderr. */
static int open_user(const char *config_root, const char *user, bool create, tg_config *cfg, tg_mfa_session *s) {
        char err[512];
        int r;

        if (geteuid() != 0) {
                fprintf(stderr, "%s\n", _("termguardctl: mfa commands must be run as root (for example with sudo)."));
                return EXIT_DENIED;
        }
        tg_account account;
        r = tg_mfa_valid_user(user) ? tg_account_by_name(user, &account) : -ENOENT;
        if (r == -ENOENT) {
                fprintf(stderr, _("termguardctl: no such user: %s\n"), tg_mfa_valid_user(user) ? user : "?");
                return EXIT_DAEMON_ERROR;
        }
        if (r < 0) {
                fprintf(stderr, "termguardctl: %s: %s\n", user, strerror(-r));
                return EXIT_DAEMON_ERROR;
        }
        r = tg_config_load(config_root, cfg, err, sizeof(err));
        if (r < 0) {
                fprintf(stderr, "termguardctl: %s\n", err);
                return EXIT_DAEMON_ERROR;
        }
        /* Still usable for enrolling and unlocking, but the administrator must know that the
         * PAM module refuses every login until this is fixed. */
        if (tg_mfa_check_config(cfg, err, sizeof(err)) < 0)
                fprintf(stderr,
                        _("termguardctl: warning: %s; every login through pam_termguard is refused until "
                          "this is fixed.\n"),
                        err);
        if (create && mkdir(cfg->state_dir, 0700) < 0 && errno != EEXIST) {
                fprintf(stderr, "termguardctl: %s: %s\n", cfg->state_dir, strerror(errno));
                return EXIT_DAEMON_ERROR;
        }
        r = tg_mfa_session_open(cfg->state_dir, user, create, s, err, sizeof(err));
        if (r == -ENOENT && !create) {
                /* Nobody was ever enrolled here; an unsafe directory is still an error. */
                *s = TG_MFA_SESSION_NULL;
                snprintf(s->u.user, sizeof(s->u.user), "%s", user);
                return 0;
        }
        if (r == -EBUSY) {
                fprintf(stderr,
                        _("termguardctl: the MFA state of %s is busy: locked by another process for more than %d "
                          "s; try again.\n"),
                        user, TG_MFA_LOCK_WAIT_SECONDS);
                return EXIT_DAEMON_ERROR;
        }
        if (r < 0) {
                fprintf(stderr, "termguardctl: %s\n", err);
                return EXIT_DAEMON_ERROR;
        }
        return 0;
}

static int save_user(tg_mfa_session *s) {
        int r = tg_mfa_session_save(s);
        if (r < 0)
                fprintf(stderr, "termguardctl: cannot save: %s\n", strerror(-r));
        return r < 0 ? EXIT_DAEMON_ERROR : 0;
}

static void print_recovery_codes(const char *user, char codes[TG_MFA_RECOVERY_CODES][12]) {
        printf(_("New recovery codes for %s (each works once; earlier codes no longer work):\n"), user);
        for (int i = 0; i < TG_MFA_RECOVERY_CODES; i++)
                printf("  %s\n", codes[i]);
        printf("%s\n", _("Give them to the user on paper, to be kept apart from the phone."));
}

static int mfa_enroll(const char *config_root, const char *user) {
        _cleanup_mfa_session_ tg_mfa_session s = TG_MFA_SESSION_NULL;
        tg_config cfg;
        _cleanup_(tg_mfa_user_wipe) tg_mfa_user fresh = {0};
        char secret[64] = "", uri[512] = "", line[64] = "";
        int rc = open_user(config_root, user, true, &cfg, &s);
        if (rc)
                goto out;
        if (s.u.enrolled) {
                fprintf(stderr, _("termguardctl: %s is already enrolled; run 'termguardctl mfa reset %s' first.\n"),
                        user, user);
                rc = EXIT_DAEMON_ERROR;
                goto out;
        }
        /* The new factor is prepared in memory; the user's state is not held locked while
         * waiting for the administrator (that user's logins would wait as long). */
        fresh = s.u;
        tg_mfa_session_close(&s);
        if (tg_mfa_enroll(&fresh, user, (int64_t) time(NULL)) < 0 ||
            tg_base32_encode(fresh.secret, fresh.secret_len, secret, sizeof(secret)) < 0) {
                rc = EXIT_DAEMON_ERROR;
                goto out;
        }
        /* User names are [A-Za-z0-9_.@-]; '@' is the only one to escape in the label. */
        char label[3 * TG_MFA_USER_MAX + 1];
        size_t o = 0;
        for (const char *p = user; *p; p++)
                o += (size_t) snprintf(label + o, sizeof(label) - o, *p == '@' ? "%%40" : "%c", *p);
        snprintf(uri, sizeof(uri),
                 "otpauth://totp/termguard:%s?secret=%s&issuer=termguard&algorithm=SHA1&digits=%u&period=%u", label,
                 secret, fresh.params.digits, fresh.params.period);
        printf(_("Scan this QR code with the authenticator app of %s, or enter the key by hand.\n\n"), user);
        print_qr(uri);
        printf("\n%s\n%s %s\n\n", uri, _("Key:"), secret);
        explicit_bzero(secret, sizeof(secret));
        for (int attempt = 0; attempt < 3; attempt++) {
                printf("%s", _("Enter the code the app shows to confirm: "));
                fflush(stdout);
                if (!fgets(line, sizeof(line), stdin))
                        break;
                line[strcspn(line, "\r\n")] = '\0';
                if (tg_mfa_check(&fresh, line, (int64_t) time(NULL)) == TG_MFA_OK_TOTP) {
                        /* Under the lock again, onto the state as it is now (counters may
                         * have moved meanwhile); somebody else may have enrolled the user. */
                        rc = open_user(config_root, user, true, &cfg, &s);
                        if (rc == 0 && s.u.enrolled) {
                                fprintf(stderr,
                                        _("termguardctl: %s is already enrolled; run 'termguardctl mfa reset %s' "
                                          "first.\n"),
                                        user, user);
                                rc = EXIT_DAEMON_ERROR;
                        }
                        if (rc) {
                                goto out;
                        }
                        memcpy(s.u.secret, fresh.secret, sizeof(s.u.secret));
                        s.u.secret_len = fresh.secret_len;
                        s.u.params = fresh.params;
                        s.u.last_step = fresh.last_step;
                        s.u.enrolled = true;
                        s.u.enrolled_at = fresh.enrolled_at;
                        tg_mfa_user_wipe(&fresh);
                        /* Recovery codes come with the enrollment: a lost phone must not
                         * mean a locked-out user. */
                        char codes[TG_MFA_RECOVERY_CODES][12];
                        rc = tg_mfa_new_recovery_codes(&s.u, codes) < 0 ? EXIT_DAEMON_ERROR : save_user(&s);
                        if (rc == 0) {
                                audit(&cfg, "enroll", user);
                                printf(_("%s is enrolled.\n"), user);
                                print_recovery_codes(user, codes);
                        }
                        explicit_bzero(codes, sizeof(codes));
                        goto out;
                }
                fprintf(stderr, "%s\n", _("That code does not match. Check the time on the phone and try again."));
        }
        fprintf(stderr, "%s\n", _("termguardctl: enrollment not confirmed; nothing was saved."));
        rc = EXIT_DAEMON_ERROR;
out:
        /* The key, the URI that holds it and the codes typed: none stays behind. */
        explicit_bzero(secret, sizeof(secret));
        explicit_bzero(uri, sizeof(uri));
        explicit_bzero(line, sizeof(line));
        return rc;
}

static int mfa_status(const char *config_root, const char *user, bool json) {
        _cleanup_mfa_session_ tg_mfa_session s = TG_MFA_SESSION_NULL;
        tg_config cfg;
        int left = 0;
        char t1[32] = "", t2[32] = "";
        int rc = open_user(config_root, user, false, &cfg, &s);
        if (rc)
                goto out;
        /* Read under the lock, after any wait for it: a lock can end meanwhile. */
        int64_t now = (int64_t) time(NULL);
        for (int i = 0; i < TG_MFA_RECOVERY_CODES; i++)
                left += s.u.recovery[i][0] != '\0';
        tg_format_iso8601(s.u.enrolled_at, t1, sizeof(t1));
        tg_format_iso8601(s.u.locked_until, t2, sizeof(t2));
        bool required = tg_mfa_required(&cfg, user);
        bool locked = tg_mfa_locked(&s.u, now);
        if (json) {
                _cleanup_json_ json_object *o = json_object_new_object();
                json_object_object_add(o, "user", json_object_new_string(user));
                json_object_object_add(o, "required", json_object_new_boolean(required));
                json_object_object_add(o, "enrolled", json_object_new_boolean(s.u.enrolled));
                json_object_object_add(o, "enrolled_at", s.u.enrolled ? json_object_new_string(t1) : NULL);
                json_object_object_add(o, "recovery_codes_left", json_object_new_int(left));
                json_object_object_add(o, "recovery_codes_old_format",
                                       json_object_new_int((int) s.u.recovery_old_format));
                json_object_object_add(o, "failures", json_object_new_int64(s.u.failures));
                json_object_object_add(o, "locked", json_object_new_boolean(locked));
                json_object_object_add(o, "locked_until", locked ? json_object_new_string(t2) : NULL);
                printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY));
        } else {
                printf(_("%s: MFA %s; %s"), user, required ? _("required") : _("not required"),
                       s.u.enrolled ? _("enrolled") : _("NOT enrolled"));
                if (s.u.enrolled)
                        printf(_(" since %s, %d recovery codes left"), t1, left);
                printf(_("; %u failed attempts"), s.u.failures);
                if (locked)
                        printf(_("; LOCKED until %s"), t2);
                printf("\n");
                /* The first state format's codes: refused at login since yescrypt replaced it. */
                if (s.u.recovery_old_format)
                        printf(_("%s: %u recovery codes of an old format are no longer accepted; issue new ones with "
                                 "'termguardctl mfa recovery-codes %s'.\n"),
                               user, s.u.recovery_old_format, user);
        }
out:
        return rc;
}

static int mfa_reset(const char *config_root, const char *user) {
        _cleanup_mfa_session_ tg_mfa_session s = TG_MFA_SESSION_NULL;
        tg_config cfg;
        int rc = open_user(config_root, user, false, &cfg, &s);
        if (rc)
                goto out;
        if (!s.exists || !s.u.enrolled) {
                fprintf(stderr, _("termguardctl: %s is not enrolled.\n"), user);
                rc = EXIT_DAEMON_ERROR;
                goto out;
        }
        /* Keep the attempt counters and login history; drop the factor. */
        tg_mfa_user n = {0};
        snprintf(n.user, sizeof(n.user), "%s", user);
        n.failures = s.u.failures;
        n.locked_until = s.u.locked_until;
        n.last_login_at = s.u.last_login_at;
        snprintf(n.last_login_from, sizeof(n.last_login_from), "%s", s.u.last_login_from);
        n.failed_since_login = s.u.failed_since_login;
        s.u = n;
        rc = save_user(&s);
        if (rc == 0) {
                audit(&cfg, "reset", user);
                printf(_("The second factor of %s was removed; enroll again.\n"), user);
        }
out:
        return rc;
}

static int mfa_recovery_codes(const char *config_root, const char *user) {
        _cleanup_mfa_session_ tg_mfa_session s = TG_MFA_SESSION_NULL;
        tg_config cfg;
        char codes[TG_MFA_RECOVERY_CODES][12];
        int rc = open_user(config_root, user, false, &cfg, &s);
        if (rc)
                goto out;
        if (!s.u.enrolled) {
                fprintf(stderr, _("termguardctl: %s is not enrolled.\n"), user);
                rc = EXIT_DAEMON_ERROR;
                goto out;
        }
        if (tg_mfa_new_recovery_codes(&s.u, codes) < 0 || (rc = save_user(&s)) != 0) {
                rc = EXIT_DAEMON_ERROR;
                goto out;
        }
        audit(&cfg, "recovery-codes", user);
        print_recovery_codes(user, codes);
out:
        explicit_bzero(codes, sizeof(codes));
        return rc;
}

static int mfa_unlock(const char *config_root, const char *user) {
        _cleanup_mfa_session_ tg_mfa_session s = TG_MFA_SESSION_NULL;
        tg_config cfg;
        int rc = open_user(config_root, user, false, &cfg, &s);
        if (rc)
                goto out;
        tg_mfa_unlock(&s.u);
        if (s.exists)
                rc = save_user(&s);
        if (rc == 0) {
                audit(&cfg, "unlock", user);
                printf(_("%s is unlocked.\n"), user);
        }
out:
        return rc;
}

int ctl_mfa(const char *config_root, int argc, char **argv, bool json) {
        char user[256];
        if (argc != 2) {
                fprintf(stderr, "%s\n", _("usage: termguardctl mfa enroll|status|reset|recovery-codes|unlock USER"));
                return EXIT_USAGE;
        }
        /* The account's own name, as the PAM module keys state by it; an unknown name is
         * refused below. */
        if (tg_canonical_user(argv[1], user, sizeof(user)) < 0)
                snprintf(user, sizeof(user), "%s", "");
        if (strcmp(argv[0], "enroll") == 0)
                return mfa_enroll(config_root, user);
        if (strcmp(argv[0], "status") == 0)
                return mfa_status(config_root, user, json);
        if (strcmp(argv[0], "reset") == 0)
                return mfa_reset(config_root, user);
        if (strcmp(argv[0], "recovery-codes") == 0)
                return mfa_recovery_codes(config_root, user);
        if (strcmp(argv[0], "unlock") == 0)
                return mfa_unlock(config_root, user);
        fprintf(stderr, "%s\n", _("usage: termguardctl mfa enroll|status|reset|recovery-codes|unlock USER"));
        return EXIT_USAGE;
}
