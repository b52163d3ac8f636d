/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The built pam_termguard.so through the real libpam (pam_start_confdir), root path. */
#define _GNU_SOURCE
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <security/pam_appl.h>

#include "termguard/mfa.h"
#include "termguard/config.h"
#include "termguard/mfa-event.h"
#include "termguard/record.h"

static char root[256], conf[300], state[300], pamdir[300], mfadir[320];
static const char *answer; /* what the "user" types at the prompt */
static int prompts;        /* how many times the module asked */
static char shown[4096];   /* info and error messages shown */

static int conv(int n, const struct pam_message **msg, struct pam_response **resp, void *data) {
        struct pam_response *r = calloc((size_t) n, sizeof(*r));
        (void) data;
        if (!r)
                return PAM_BUF_ERR;
        for (int i = 0; i < n; i++) {
                if (msg[i]->msg_style == PAM_PROMPT_ECHO_OFF || msg[i]->msg_style == PAM_PROMPT_ECHO_ON) {
                        prompts++;
                        r[i].resp = strdup(answer ? answer : "");
                } else {
                        strncat(shown, msg[i]->msg, sizeof(shown) - strlen(shown) - 2);
                        strcat(shown, "\n");
                }
        }
        *resp = r;
        return PAM_SUCCESS;
}

/* The records, as termguardd would take them in: no termguardd runs here, so the module and
 * the setuid helper (root) spool each record, and journal_read() takes the spool in as the
 * daemon does, in order, into the fields the daemon's journald mirror gives them. The test runs
 * in its own mount namespace with tmpfs on the default runtime and state directories (records
 * made before the configuration is read go there) and on journald's socket directory, where a
 * socket of ours checks that nothing goes to journald directly: journald is termguardd's
 * mirror only. */
#define JOURNAL_DIR "/run/systemd/journal"
static int journal_fd = -1;
static int journald_direct; /* datagrams sent to journald by anything under test */
typedef struct {
        char text[4096];
        uid_t uid;
} record;
static record records[64];
static int n_records;
static const char *rhost; /* PAM_RHOST of the next authentications, if set */
/* What the calling application does to itself before PAM runs (an attacker's su or locker). */
static rlim_t child_fsize = RLIM_INFINITY; /* its RLIMIT_FSIZE, with SIGXFSZ ignored */
static bool child_closes_stdin;

static void private_tmpfs(const char *dir) {
        char cmd[200];
        snprintf(cmd, sizeof(cmd), "mkdir -p %s", dir);
        if (system(cmd) != 0 || mount("tmpfs", dir, "tmpfs", 0, "mode=0755") < 0) {
                fprintf(stderr, "test_pam: tmpfs on %s: %s\n", dir, strerror(errno));
                exit(1);
        }
}

static void journal_open(void) {
        struct sockaddr_un sa = {.sun_family = AF_UNIX, .sun_path = JOURNAL_DIR "/socket"};
        if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) {
                perror("test_pam: private mount namespace");
                exit(1);
        }
        private_tmpfs(JOURNAL_DIR);
        private_tmpfs(TG_RUNTIME_DIR_DEFAULT);
        private_tmpfs(TG_STATE_DIR_DEFAULT);
        /* Accounts also through the case-insensitive test NSS module, when it can be loaded
         * (LD_LIBRARY_PATH from ctest): an nsswitch.conf of our own, for this namespace only. */
        char nss[] = "/tmp/tg-nsswitch.XXXXXX";
        int nfd = mkstemp(nss);
        const char *text = "passwd: files tgci\ngroup: files\nshadow: files\n";
        if (nfd < 0 || write(nfd, text, strlen(text)) != (ssize_t) strlen(text) || fchmod(nfd, 0644) < 0 ||
            mount(nss, "/etc/nsswitch.conf", NULL, MS_BIND, NULL) < 0) {
                perror("test_pam: nsswitch.conf");
                exit(1);
        }
        close(nfd);
        unlink(nss);
        journal_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (journal_fd < 0 || bind(journal_fd, (struct sockaddr *) &sa, sizeof(sa)) < 0 ||
            chmod(sa.sun_path, 0666) < 0) {
                perror("test_pam: journal socket");
                exit(1);
        }
}

static int by_name(const void *a, const void *b) {
        return strcmp(strrchr(*(char *const *) a, '/'), strrchr(*(char *const *) b, '/'));
}

/* One spooled record as the daemon's journald mirror shows it, each field "\nKEY=value\n". */
static void mirror_text(const tg_record *rec, record *r) {
        char *p = r->text, *end = r->text + sizeof(r->text);
        p += snprintf(p, (size_t) (end - p),
                      "\nMESSAGE=%s\nPRIORITY=%d\nTERMGUARD_EVENT=%s\nMESSAGE_ID=%s\n"
                      "SYSLOG_IDENTIFIER=%s\nSYSLOG_FACILITY=10\n",
                      rec->message, rec->priority, rec->event->type, rec->event->message_id, rec->producer);
        for (size_t i = 0; i < rec->n_fields && p < end; i++) {
                char key[64];
                size_t j;
                for (j = 0; rec->fields[i].name[j] && j < sizeof(key) - 1; j++)
                        key[j] = (char) toupper((unsigned char) rec->fields[i].name[j]);
                key[j] = '\0';
                p += snprintf(p, (size_t) (end - p), "TERMGUARD_%s=%s\n", key, rec->fields[i].value);
        }
        /* the fields the producer left empty, as the journald records had them */
        static const char *const mfa_fields[] = {"USER", "SERVICE", "RHOST", "TTY", "ACTOR", "DETAIL"};
        for (size_t i = 0; i < sizeof(mfa_fields) / sizeof(mfa_fields[0]) && p < end; i++) {
                char needle[40];
                snprintf(needle, sizeof(needle), "\nTERMGUARD_%s=", mfa_fields[i]);
                if (!strstr(r->text, needle))
                        p += snprintf(p, (size_t) (end - p), "TERMGUARD_%s=\n", mfa_fields[i]);
        }
}

/* Takes in every record spooled since the last call, oldest first, and deletes it. */
static void journal_read(void) {
        char dirs[2][400], *names[256];
        int n = 0;
        snprintf(dirs[0], sizeof(dirs[0]), "%s/%s", state, TG_RECORD_SPOOL);
        snprintf(dirs[1], sizeof(dirs[1]), "%s/%s", TG_STATE_DIR_DEFAULT, TG_RECORD_SPOOL);
        for (int d = 0; d < 2; d++) {
                DIR *dir = opendir(dirs[d]);
                for (struct dirent *de; dir && (de = readdir(dir));) {
                        if (!tg_record_spool_name_valid(de->d_name) || n == 256)
                                continue;
                        if (asprintf(&names[n], "%s/%s", dirs[d], de->d_name) > 0)
                                n++;
                }
                if (dir)
                        closedir(dir);
        }
        qsort(names, (size_t) n, sizeof(names[0]), by_name);
        n_records = 0;
        for (int i = 0; i < n; i++) {
                static record overflow;
                record *r = n_records < (int) (sizeof(records) / sizeof(records[0])) ? &records[n_records] : &overflow;
                char buf[TG_RECORD_WIRE_MAX + 1], err[256];
                struct stat st;
                tg_record rec;
                int fd = open(names[i], O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
                ssize_t len = fd < 0 ? -1 : read(fd, buf, sizeof(buf));
                /* root's alone, as the daemon demands */
                assert_true(fd >= 0 && fstat(fd, &st) == 0 && st.st_uid == 0 && (st.st_mode & 0777) == 0600);
                close(fd);
                assert_true(len > 0);
                if (tg_record_decode(buf, (size_t) len, true, &rec, err, sizeof(err)) < 0)
                        fail_msg("%s: %s", names[i], err);
                mirror_text(&rec, r);
                r->uid = rec.sender.uid;
                tg_record_done(&rec);
                unlink(names[i]);
                free(names[i]);
                n_records += r != &overflow;
        }
        for (char buf[64]; recv(journal_fd, buf, sizeof(buf), 0) >= 0;)
                journald_direct++;
}

/* How many records since the last journal_read() have all the given "FIELD=value" lines. */
static int count_records(const char *field, ...) {
        int count = 0;
        for (int i = 0; i < n_records; i++) {
                va_list ap;
                bool all = true;
                va_start(ap, field);
                for (const char *f = field; f; f = va_arg(ap, const char *)) {
                        char line[512];
                        snprintf(line, sizeof(line), "\n%s\n", f);
                        all = all && strstr(records[i].text, line);
                }
                va_end(ap);
                count += all;
        }
        return count;
}

/* The one record of type for user; returns its index. */
static int the_record(const char *type, const char *user) {
        char t[64], u[96];
        snprintf(t, sizeof(t), "TERMGUARD_EVENT=%s", type);
        snprintf(u, sizeof(u), "TERMGUARD_USER=%s", user);
        assert_int_equal(count_records(t, u, NULL), 1);
        for (int i = 0; i < n_records; i++)
                if (strstr(records[i].text, t) && strstr(records[i].text, u))
                        return i;
        return -1;
}

static void write_file(const char *path, const char *text) {
        FILE *f = fopen(path, "w");
        assert_non_null(f);
        fputs(text, f);
        fclose(f);
}

static void write_config(const char *mfa_extra) {
        char p[400], text[2048];
        snprintf(p, sizeof(p), "%s/termguard.conf", conf);
        snprintf(text, sizeof(text),
                 "[Daemon]\nStateDirectory=%s\n[MFA]\nRequireUsers=tanaka suzuki\nMaxFailures=3\nLockoutTime=15m\n%s",
                 state, mfa_extra ? mfa_extra : "");
        write_file(p, text);
}

static int setup(void **s) {
        char p[400], text[1024], err[256];
        (void) s;
        /* not in /tmp: every directory above the state directory must be root's alone */
        snprintf(root, sizeof(root), "/run/tg-pam-test.XXXXXX");
        assert_non_null(mkdtemp(root));
        snprintf(conf, sizeof(conf), "%s/conf", root);
        snprintf(state, sizeof(state), "%s/state", root);
        snprintf(pamdir, sizeof(pamdir), "%s/pam.d", root);
        snprintf(mfadir, sizeof(mfadir), "%s/mfa", state);
        assert_int_equal(mkdir(conf, 0755), 0);
        assert_int_equal(mkdir(state, 0700), 0);
        assert_int_equal(mkdir(pamdir, 0755), 0);
        write_config(NULL);
        /* The second factor after a (here omitted) password module; pam_permit stands for the
         * rest of the stack, so a module that ignores lets authentication through. */
        snprintf(p, sizeof(p), "%s/tgtest", pamdir);
        snprintf(text, sizeof(text), "auth required %s config=%s\nauth required pam_permit.so\n", TG_PAM_MODULE, conf);
        write_file(p, text);
        int dfd = tg_mfa_open_dir(state, true, err, sizeof(err));
        assert_true(dfd >= 0);
        close(dfd);
        answer = NULL;
        rhost = NULL;
        child_fsize = RLIM_INFINITY;
        child_closes_stdin = false;
        prompts = 0;
        shown[0] = '\0';
        journal_read(); /* forget what earlier tests recorded */
        return 0;
}

static int teardown(void **s) {
        char cmd[300];
        (void) s;
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
        assert_int_equal(system(cmd), 0);
        return 0;
}

static int authenticate(const char *user) {
        struct pam_conv c = {.conv = conv};
        pam_handle_t *h = NULL;
        int r;
        prompts = 0;
        shown[0] = '\0';
        assert_int_equal(pam_start_confdir("tgtest", user, &c, pamdir, &h), PAM_SUCCESS);
        pam_set_item(h, PAM_TTY, "pts/3");
        if (rhost)
                pam_set_item(h, PAM_RHOST, rhost);
        r = pam_authenticate(h, 0);
        pam_end(h, r);
        return r;
}

static tg_mfa_user enroll(const char *user) {
        tg_mfa_user u = {0};
        char err[256];
        int dfd = tg_mfa_open_dir(state, false, err, sizeof(err));
        assert_true(dfd >= 0);
        assert_int_equal(tg_mfa_enroll(&u, user, time(NULL)), 0);
        assert_int_equal(tg_mfa_save(dfd, &u), 0);
        close(dfd);
        return u;
}

static tg_mfa_user load(const char *user) {
        tg_mfa_user u;
        char err[256];
        int dfd = tg_mfa_open_dir(state, false, err, sizeof(err));
        assert_true(dfd >= 0);
        assert_int_equal(tg_mfa_load(dfd, user, &u, err, sizeof(err)), 0);
        close(dfd);
        return u;
}

static void save(const tg_mfa_user *u) {
        char err[256];
        int dfd = tg_mfa_open_dir(state, false, err, sizeof(err));
        assert_true(dfd >= 0);
        assert_int_equal(tg_mfa_save(dfd, u), 0);
        close(dfd);
}

/* The code for now + offset steps. */
static const char *code_for(const tg_mfa_user *u, int offset) {
        static char buf[9];
        uint32_t v;
        uint64_t step = (uint64_t) time(NULL) / u->params.period + (uint64_t) (int64_t) offset;
        assert_int_equal(tg_hotp(u->params.algorithm, u->secret, u->secret_len, step, u->params.digits, &v), 0);
        snprintf(buf, sizeof(buf), "%06u", v);
        return buf;
}

static void valid_code_passes_once_and_shows_last_login(void **s) {
        tg_mfa_user u = enroll("tanaka");
        (void) s;
        answer = code_for(&u, 0);
        assert_int_equal(authenticate("tanaka"), PAM_SUCCESS);
        assert_int_equal(prompts, 1);
        assert_int_equal(authenticate("tanaka"), PAM_AUTH_ERR); /* the same code again */
        assert_non_null(strstr(shown, "Authentication failed."));
        answer = code_for(&u, 1); /* next step (window of one step) */
        assert_int_equal(authenticate("tanaka"), PAM_SUCCESS);
        assert_non_null(strstr(shown, "Last login: "));
        assert_non_null(strstr(shown, "from pts/3"));
        assert_non_null(strstr(shown, "1 failed attempt since the last login."));
}

static void wrong_code_fails_and_counts(void **s) {
        tg_mfa_user u = enroll("tanaka");
        (void) s;
        answer = "000000";
        if (strcmp(code_for(&u, 0), "000000") == 0)
                answer = "000001";
        assert_int_equal(authenticate("tanaka"), PAM_AUTH_ERR);
        answer = "not a code";
        assert_int_equal(authenticate("tanaka"), PAM_AUTH_ERR);
        answer = "";
        assert_int_equal(authenticate("tanaka"), PAM_AUTH_ERR);
        assert_int_equal(load("tanaka").failures, 3);
}

static void lockout_survives_restart_and_unlock(void **s) {
        tg_mfa_user u = enroll("tanaka");
        (void) s;
        answer = "12345x";
        for (int i = 0; i < 3; i++)
                assert_int_equal(authenticate("tanaka"), PAM_AUTH_ERR);
        answer = code_for(&u, 0);
        assert_int_equal(authenticate("tanaka"), PAM_AUTH_ERR); /* locked: even the right code */
        assert_int_equal(prompts, 1);                           /* asked all the same */
        assert_true(tg_mfa_locked(&u, 0) == false);
        tg_mfa_user l = load("tanaka"); /* the lock is in the root-owned file: survives reboot */
        assert_true(tg_mfa_locked(&l, time(NULL)));
        tg_mfa_unlock(&l);
        save(&l);
        answer = code_for(&u, 0);
        assert_int_equal(authenticate("tanaka"), PAM_SUCCESS);
}

static void not_enrolled_is_refused(void **s) {
        (void) s;
        answer = "123456";
        assert_int_equal(authenticate("suzuki"), PAM_AUTH_ERR);
        assert_int_equal(prompts, 1);
        /* an unknown user: same prompt, same refusal */
        assert_int_equal(authenticate("ghost"), PAM_AUTH_ERR);
        assert_int_equal(prompts, 1);
        assert_int_equal(authenticate("no-such-user-xyz"), PAM_AUTH_ERR);
        assert_int_equal(prompts, 1);
        /* the failures of a user who is not enrolled count too, and stay readable */
        assert_int_equal(authenticate("suzuki"), PAM_AUTH_ERR);
        assert_int_equal(load("suzuki").failures, 2);
        /* names the system does not know leave no files behind (names come from the network) */
        char p[400];
        const char *const unknown[] = {"ghost.json", "ghost.lock", "no-such-user-xyz.json", "no-such-user-xyz.lock"};
        for (size_t i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++) {
                snprintf(p, sizeof(p), "%s/%s", mfadir, unknown[i]);
                assert_int_equal(access(p, F_OK), -1);
        }
}

/* The line after pam_unix, "[default=die] pam_termguard.so authfail": counts the failed
 * password for covered users, refuses for everyone (never an ignore under die), after asking
 * everyone for the code, as a right password would have been. */
static void authfail_counts_and_always_refuses(void **s) {
        char p[400], text[600];
        struct pam_conv c = {.conv = conv};
        const char *const users[] = {"tanaka", "daemon", "ghost", "bad\\name"};
        (void) s;
        enroll("tanaka");
        snprintf(p, sizeof(p), "%s/tgfail", pamdir);
        snprintf(text, sizeof(text), "auth [default=die] %s authfail config=%s\nauth required pam_permit.so\n",
                 TG_PAM_MODULE, conf);
        write_file(p, text);
        for (size_t i = 0; i < sizeof(users) / sizeof(users[0]); i++) {
                pam_handle_t *h = NULL;
                assert_int_equal(pam_start_confdir("tgfail", users[i], &c, pamdir, &h), PAM_SUCCESS);
                prompts = 0;
                shown[0] = '\0';
                int r = pam_authenticate(h, 0);
                pam_end(h, r);
                assert_int_equal(r, PAM_AUTH_ERR);
                assert_int_equal(prompts, 1);
                assert_string_equal(shown, "Authentication failed.\n");
        }
        assert_int_equal(load("tanaka").failures, 1);
        snprintf(p, sizeof(p), "%s/ghost.json", mfadir);
        assert_int_equal(access(p, F_OK), -1);
}

/* One attempt through the whole profile: preauth, a password module that fails (pam_deny) or
 * passes (pam_permit) in pam_unix's place, authfail, the code. Returns the PAM result. */
static int authenticate_stack(const char *user, bool password_right) {
        char p[400], text[4096];
        struct pam_conv c = {.conv = conv};
        pam_handle_t *h = NULL;
        snprintf(p, sizeof(p), "%s/tgstack", pamdir);
        snprintf(text, sizeof(text),
                 "auth requisite %s preauth config=%s\n"
                 "auth [success=1 default=ignore] %s\n"
                 "auth [default=die] %s authfail config=%s\n"
                 "auth required %s config=%s\n"
                 "auth required pam_permit.so\n",
                 TG_PAM_MODULE, conf, password_right ? "pam_permit.so" : "pam_deny.so", TG_PAM_MODULE, conf,
                 TG_PAM_MODULE, conf);
        write_file(p, text);
        prompts = 0;
        shown[0] = '\0';
        assert_int_equal(pam_start_confdir("tgstack", user, &c, pamdir, &h), PAM_SUCCESS);
        pam_set_item(h, PAM_TTY, "pts/3");
        int r = pam_authenticate(h, 0);
        pam_end(h, r);
        journal_read(); /* its records read, so that the journal socket never fills */
        return r;
}

/* Nothing tells from outside which names are accounts, which are under the policy and which are
 * locked: a failed attempt of a covered user (enrolled, locked or not), of a user the policy
 * does not cover and of an unknown name gets the same prompts, message and result. Only the
 * holder of the password and a right code learns of a lock. */
static void failures_look_alike_for_every_name_and_lock_state(void **s) {
        tg_mfa_user u = enroll("tanaka");
        const char *const names[] = {"tanaka", "daemon", "ghost", "no-such-user-xyz"};
        const char *const failed = "Authorized staff only.\n\nAuthentication failed.\n";
        char p[400], line[500];
        (void) s;
        /* with a banner, which comes before the code prompt: it must come after a wrong
         * password too */
        snprintf(p, sizeof(p), "%s/banner.txt", conf);
        write_file(p, "Authorized staff only.\n");
        snprintf(line, sizeof(line), "BannerFile=%s\n", p);
        write_config(line);
        answer = strcmp(code_for(&u, 0), "000000") == 0 ? "000001" : "000000";
        for (int round = 0; round < 2; round++) {
                for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
                        assert_int_equal(authenticate_stack(names[i], false), PAM_AUTH_ERR);
                        assert_int_equal(prompts, 1);
                        assert_string_equal(shown, failed);
                }
                /* two more wrong passwords lock tanaka (MaxFailures=3): the next round looks the same */
                for (int i = 0; round == 0 && i < 2; i++)
                        assert_int_equal(authenticate_stack("tanaka", false), PAM_AUTH_ERR);
                tg_mfa_user l = load("tanaka");
                assert_true(tg_mfa_locked(&l, time(NULL)));
        }
        /* locked, with the right password and a wrong code: as before the lock */
        assert_int_equal(authenticate_stack("tanaka", true), PAM_AUTH_ERR);
        assert_int_equal(prompts, 1);
        assert_string_equal(shown, failed);
        /* the right code too: refused, and now the user is told why */
        answer = code_for(&u, 0);
        assert_int_equal(authenticate_stack("tanaka", true), PAM_AUTH_ERR);
        assert_int_equal(prompts, 1);
        assert_non_null(strstr(shown, "locked after too many failed attempts"));
        /* every failure counted, none of them for other names */
        assert_int_equal(load("tanaka").failures, 6);
        snprintf(p, sizeof(p), "%s/ghost.json", mfadir);
        assert_int_equal(access(p, F_OK), -1);
        snprintf(p, sizeof(p), "%s/daemon.json", mfadir);
        assert_int_equal(access(p, F_OK), -1);
        /* unlocked: the right password and code pass */
        tg_mfa_user l = load("tanaka");
        tg_mfa_unlock(&l);
        save(&l);
        answer = code_for(&u, 1);
        assert_int_equal(authenticate_stack("tanaka", true), PAM_SUCCESS);
}

static void user_not_covered_by_policy_is_ignored(void **s) {
        (void) s;
        answer = "whatever";
        assert_int_equal(authenticate("daemon"), PAM_SUCCESS); /* ignore + pam_permit */
        assert_int_equal(prompts, 0);
        write_config("Profile=mynumber\n"); /* My Number terminal: everyone */
        assert_int_equal(authenticate("daemon"), PAM_AUTH_ERR);
        assert_int_equal(prompts, 1);
}

static void rollout_window(void **s) {
        (void) s;
        answer = "123456";
        write_config("RolloutUntil=2099-01-01T00:00:00Z\n");
        /* before the first enrollment there is no mfa directory yet: the rollout works all the same */
        char cmd[400];
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", mfadir);
        assert_int_equal(system(cmd), 0);
        assert_int_equal(authenticate("suzuki"), PAM_SUCCESS);
        struct stat st;
        assert_int_equal(stat(mfadir, &st), 0);
        assert_int_equal(st.st_mode & 07777, 0700);
        assert_non_null(strstr(shown, "not yet enrolled"));
        write_config("RolloutUntil=2020-01-01T00:00:00Z\n");
        assert_int_equal(authenticate("suzuki"), PAM_AUTH_ERR);
}

static void unsafe_or_missing_state_fails_closed(void **s) {
        char p[400];
        tg_mfa_user u = enroll("tanaka");
        (void) s;
        snprintf(p, sizeof(p), "%s/tanaka.json", mfadir);
        assert_int_equal(chmod(p, 0640), 0);
        answer = code_for(&u, 0);
        assert_int_equal(authenticate("tanaka"), PAM_AUTH_ERR);
        assert_int_equal(chmod(p, 0600), 0);
        assert_int_equal(chown(p, 65534, 0), 0);
        assert_int_equal(authenticate("tanaka"), PAM_AUTH_ERR);
        assert_int_equal(chown(p, 0, 0), 0);
        write_file(p, "{\"user\":\"tanaka\",\"secret\":");
        chmod(p, 0600);
        assert_int_equal(authenticate("tanaka"), PAM_AUTH_ERR);
        assert_int_equal(chmod(mfadir, 0755), 0);
        assert_int_equal(authenticate("tanaka"), PAM_AUTH_ERR);
        char cmd[400];
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", mfadir);
        assert_int_equal(system(cmd), 0);
        assert_int_equal(authenticate("tanaka"), PAM_AUTH_ERR);
        /* a state directory others can write is refused, enrolled state or not */
        u = enroll("tanaka");
        answer = code_for(&u, 0);
        assert_int_equal(chmod(state, 0777), 0);
        assert_int_equal(authenticate("tanaka"), PAM_AUTH_ERR);
        assert_int_equal(chmod(state, 0700), 0);
        assert_int_equal(authenticate("tanaka"), PAM_SUCCESS);
}

static void hostile_config_fails_closed(void **s) {
        tg_mfa_user u = enroll("tanaka");
        (void) s;
        write_config("Bogus=1\n");
        answer = code_for(&u, 0);
        assert_int_equal(authenticate("tanaka"), PAM_AUTH_ERR);
        assert_int_equal(authenticate("daemon"), PAM_AUTH_ERR); /* cannot tell who is covered */
        /* a misspelt group would leave its members without the second factor */
        write_config("RequireGroups=no-such-group-xyz\n");
        journal_read();
        assert_int_equal(authenticate("daemon"), PAM_AUTH_ERR);
        journal_read();
        int i = the_record("mfa.config-error", "daemon");
        assert_non_null(strstr(records[i].text, "no-such-group-xyz: no such group"));
        /* a misspelt user, or the right one in another case, would cover nobody: refused for
         * everyone, the name in the record; "Tanaka" finds tanaka here (case-insensitive NSS) */
        const char *const wrong[][2] = {{"tanaka ghost", "ghost: no such user"},
                                        {"Tanaka", "Tanaka: the account is named tanaka"}};
        for (size_t k = 0; k < sizeof(wrong) / sizeof(wrong[0]); k++) {
                char line[200];
                snprintf(line, sizeof(line), "RequireUsers=%s\n", wrong[k][0]);
                write_config(line);
                journal_read();
                answer = code_for(&u, 0);
                assert_int_equal(authenticate("tanaka"), PAM_AUTH_ERR);
                assert_int_equal(authenticate("daemon"), PAM_AUTH_ERR);
                journal_read();
                i = the_record("mfa.config-error", "tanaka");
                assert_non_null(strstr(records[i].text, wrong[k][1]));
                the_record("mfa.config-error", "daemon");
        }
        write_config("RequireUsers=tanaka\n");
        answer = code_for(&u, 0);
        assert_int_equal(authenticate("tanaka"), PAM_SUCCESS);
        /* no configuration at all is not "nobody is covered" */
        char p[400];
        snprintf(p, sizeof(p), "%s/termguard.conf", conf);
        assert_int_equal(unlink(p), 0);
        assert_int_equal(authenticate("daemon"), PAM_AUTH_ERR);
}

static void recovery_code_works_once(void **s) {
        tg_mfa_user u = enroll("tanaka");
        char codes[TG_MFA_RECOVERY_CODES][12];
        (void) s;
        assert_int_equal(tg_mfa_new_recovery_codes(&u, codes), 0);
        save(&u);
        answer = codes[0];
        assert_int_equal(authenticate("tanaka"), PAM_SUCCESS);
        assert_non_null(strstr(shown, "recovery code was used"));
        assert_int_equal(authenticate("tanaka"), PAM_AUTH_ERR);
        answer = codes[1];
        assert_int_equal(authenticate("tanaka"), PAM_SUCCESS);
}

static void banner_is_shown(void **s) {
        char p[400], line[500];
        tg_mfa_user u = enroll("tanaka");
        (void) s;
        snprintf(p, sizeof(p), "%s/banner.txt", conf);
        write_file(p, "許可された職員のみ利用できます。 Authorized staff only.\n");
        snprintf(line, sizeof(line), "BannerFile=%s\n", p);
        write_config(line);
        answer = code_for(&u, 0);
        assert_int_equal(authenticate("tanaka"), PAM_SUCCESS);
        assert_non_null(strstr(shown, "Authorized staff only."));
        /* a FIFO named as the banner does not hang the login: no banner, the code is asked */
        assert_int_equal(unlink(p), 0);
        assert_int_equal(mkfifo(p, 0644), 0);
        answer = code_for(&u, 1);
        assert_int_equal(authenticate("tanaka"), PAM_SUCCESS);
        assert_null(strstr(shown, "Authorized staff only."));
}

/* Each outcome is one record with a stable MESSAGE_ID, in authpriv, naming service and tty. */
static void events_record_each_outcome(void **s) {
        tg_mfa_user u = enroll("tanaka");
        (void) s;
        answer = code_for(&u, 0);
        assert_int_equal(authenticate("tanaka"), PAM_SUCCESS);
        journal_read();
        assert_int_equal(n_records, 1);
        assert_int_equal(count_records("TERMGUARD_EVENT=mfa.success", "MESSAGE_ID=5d0f0c9e3a7b4c1f9e2d8a6b4c3e2f01",
                                       "TERMGUARD_USER=tanaka", "TERMGUARD_SERVICE=tgtest", "TERMGUARD_TTY=pts/3",
                                       "TERMGUARD_DETAIL=totp", "PRIORITY=6", "SYSLOG_FACILITY=10",
                                       "SYSLOG_IDENTIFIER=pam_termguard", NULL),
                         1);

        answer = strcmp(code_for(&u, 0), "000000") == 0 ? "000001" : "000000";
        for (int i = 0; i < 3; i++)
                assert_int_equal(authenticate("tanaka"), PAM_AUTH_ERR);
        journal_read();
        assert_int_equal(count_records("TERMGUARD_EVENT=mfa.failure", "MESSAGE_ID=5d0f0c9e3a7b4c1f9e2d8a6b4c3e2f02",
                                       "TERMGUARD_DETAIL=wrong-or-reused-code", "PRIORITY=4", NULL),
                         3);
        the_record("mfa.lockout", "tanaka");
        assert_int_equal(
                count_records("TERMGUARD_EVENT=mfa.lockout", "MESSAGE_ID=5d0f0c9e3a7b4c1f9e2d8a6b4c3e2f03", NULL), 1);
        assert_int_equal(n_records, 4);

        answer = code_for(&u, 1);
        assert_int_equal(authenticate("tanaka"), PAM_AUTH_ERR);
        journal_read();
        the_record("mfa.refused-locked", "tanaka");
        assert_int_equal(count_records("MESSAGE_ID=5d0f0c9e3a7b4c1f9e2d8a6b4c3e2f04", NULL), 1);

        write_config("Bogus=1\n");
        assert_int_equal(authenticate("tanaka"), PAM_AUTH_ERR);
        journal_read();
        int i = the_record("mfa.config-error", "tanaka");
        assert_non_null(strstr(records[i].text, "MESSAGE_ID=5d0f0c9e3a7b4c1f9e2d8a6b4c3e2f06\n"));
        assert_non_null(strstr(records[i].text, "termguard.conf:"));
        assert_non_null(strstr(records[i].text, "Bogus"));
        /* the module wrote none of them to journald itself */
        assert_int_equal(journald_direct, 0);
}

/* Where the user database matches names without case (SSSD, Winbind), "TANAKA" is tanaka:
 * the same policy, the same code, the same attempt counter. */
static void name_spelling_is_the_same_account(void **s) {
        char p[400];
        struct passwd *pw = getpwnam("TANAKA");
        (void) s;
        assert_non_null(pw); /* the test NSS module is in place */
        assert_string_equal(pw->pw_name, "tanaka");
        tg_mfa_user u = enroll("tanaka");
        answer = strcmp(code_for(&u, 0), "000000") == 0 ? "000001" : "000000";
        assert_int_equal(authenticate("TANAKA"), PAM_AUTH_ERR);
        assert_int_equal(prompts, 1);
        assert_int_equal(load("tanaka").failures, 1);
        answer = code_for(&u, 0);
        assert_int_equal(authenticate("Tanaka"), PAM_SUCCESS);
        assert_int_equal(authenticate("tanaka"), PAM_AUTH_ERR); /* the same code, once only */
        snprintf(p, sizeof(p), "%s/TANAKA.json", mfadir);
        assert_int_equal(access(p, F_OK), -1);
        /* by group too: the group lists tanaka, not TANAKA */
        assert_int_equal(system("groupadd -f tg-mfa-case && usermod -a -G tg-mfa-case tanaka"), 0);
        write_config("RequireUsers=\nRequireGroups=tg-mfa-case\n");
        answer = "000000";
        int r = authenticate("TANAKA");
        assert_int_equal(system("groupdel tg-mfa-case"), 0);
        assert_int_equal(r, PAM_AUTH_ERR);
        assert_int_equal(prompts, 1);
}

/* Items from the application or the network cannot forge fields or terminal controls. */
static void events_escape_hostile_items(void **s) {
        tg_mfa_user u = enroll("tanaka");
        (void) s;
        rhost = "10.0.0.1\nMESSAGE_ID=00000000000000000000000000000000\x1b[2J";
        answer = code_for(&u, 0);
        assert_int_equal(authenticate("tanaka"), PAM_SUCCESS);
        journal_read();
        int i = the_record("mfa.success", "tanaka");
        assert_int_equal(count_records("MESSAGE_ID=00000000000000000000000000000000", NULL), 0);
        assert_null(strchr(records[i].text, '\x1b'));
        assert_non_null(strstr(records[i].text, "\nTERMGUARD_RHOST=10.0.0.1\\"));
}

/* A screen locker runs PAM as the user, who cannot read the state: the setuid helper verifies
 * for the caller's own account. The test installs a setuid copy built with a fixed test
 * configuration root. */
static char helper_dir[64];

/* Stages the module and a setuid copy of the helper in a directory every user can reach (the
 * build tree may sit below a private directory), and a PAM service naming them. */
static void install_helper_as(const char *helper_arg) {
        char cmd[900], p[400];
        snprintf(helper_dir, sizeof(helper_dir), "/tmp/tg-helper.XXXXXX");
        assert_non_null(mkdtemp(helper_dir));
        assert_int_equal(chmod(helper_dir, 0755), 0);
        snprintf(cmd, sizeof(cmd),
                 "install -o root -g root -m 4755 '%s' '%s/termguard-mfa-verify' && "
                 "install -o root -g root -m 0644 '%s' '%s/pam_termguard.so'",
                 TG_MFA_HELPER_TEST, helper_dir, TG_PAM_MODULE, helper_dir);
        assert_int_equal(system(cmd), 0);
        /* the helper's compiled-in configuration root points at this test's state */
        assert_int_equal(system("mkdir -p /run/termguard-pamtest/conf && chmod 0755 /run/termguard-pamtest"), 0);
        snprintf(cmd, sizeof(cmd), "cp '%s/termguard.conf' /run/termguard-pamtest/conf/", conf);
        assert_int_equal(system(cmd), 0);
        snprintf(p, sizeof(p), "%s/tgtest", pamdir);
        snprintf(cmd, sizeof(cmd),
                 "auth required %s/pam_termguard.so config=%s helper=%s\nauth required pam_permit.so\n", helper_dir,
                 conf, helper_arg ? helper_arg : "");
        if (!helper_arg) {
                char h[128];
                snprintf(h, sizeof(h), "%s/termguard-mfa-verify", helper_dir);
                snprintf(cmd, sizeof(cmd),
                         "auth required %s/pam_termguard.so config=%s helper=%s\nauth required pam_permit.so\n",
                         helper_dir, conf, h);
        }
        write_file(p, cmd);
        assert_int_equal(chmod(root, 0755), 0); /* users read PAM and termguard configuration */
}

static void install_helper(void) {
        install_helper_as(NULL);
}

static void remove_helper(void) {
        char cmd[200];
        snprintf(cmd, sizeof(cmd), "rm -rf '%s' /run/termguard-pamtest", helper_dir);
        assert_int_equal(system(cmd), 0);
}

/* Runs pam_authenticate for user in a child running as uid; returns the PAM result. */
static int authenticate_as(uid_t uid, const char *user) {
        int status, fds[2];
        pid_t pid;
        assert_int_equal(pipe(fds), 0);
        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                struct pam_conv c = {.conv = conv};
                pam_handle_t *h = NULL;
                close(fds[0]);
                prompts = 0;
                shown[0] = '\0';
                if (setgid(uid) < 0 || setuid(uid) < 0)
                        _exit(100);
                if (child_fsize != RLIM_INFINITY) {
                        signal(SIGXFSZ, SIG_IGN);
                        if (setrlimit(RLIMIT_FSIZE, &(struct rlimit){child_fsize, child_fsize}) < 0)
                                _exit(104);
                }
                if (child_closes_stdin)
                        close(0);
                if (pam_start_confdir("tgtest", user, &c, pamdir, &h) != PAM_SUCCESS)
                        _exit(101);
                int r = pam_authenticate(h, 0);
                pam_end(h, r);
                if (write(fds[1], shown, strlen(shown)) < 0)
                        _exit(102);
                _exit(prompts == 1 ? r : 103);
        }
        close(fds[1]);
        shown[0] = '\0';
        ssize_t n = read(fds[0], shown, sizeof(shown) - 1);
        shown[n > 0 ? n : 0] = '\0';
        close(fds[0]);
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFEXITED(status));
        return WEXITSTATUS(status);
}

/* A helper started directly by uid, the way a locker starts it, its standard input a pipe kept
 * open: it waits for its code. nofile, if not 0, is its RLIMIT_NOFILE; own_pgrp puts it in a
 * process group of its own (as a shell does with a job). */
typedef struct {
        pid_t pid;
        int in;
} helper_proc;

static helper_proc start_helper(uid_t uid, const char *mode, const char *user, rlim_t nofile, bool own_pgrp) {
        char path[128];
        int fds[2];
        helper_proc h;
        snprintf(path, sizeof(path), "%s/termguard-mfa-verify", helper_dir);
        assert_int_equal(pipe(fds), 0);
        h.pid = fork();
        assert_true(h.pid >= 0);
        if (h.pid == 0) {
                int null = open("/dev/null", O_WRONLY);
                if (null < 0 || dup2(fds[0], 0) < 0 || dup2(null, 1) < 0)
                        _exit(100);
                /* nothing else of ours: with RLIMIT_NOFILE 4, fd 3 is the only one it gets */
                close_range(3, ~0U, 0);
                if (own_pgrp && setpgid(0, 0) < 0)
                        _exit(101);
                if (setgroups(0, NULL) < 0 || setgid(uid) < 0 || setuid(uid) < 0)
                        _exit(102);
                if (nofile && setrlimit(RLIMIT_NOFILE, &(struct rlimit){nofile, nofile}) < 0)
                        _exit(103);
                execl(path, path, mode, user, "tgtest", (char *) NULL);
                _exit(104);
        }
        close(fds[0]);
        h.in = fds[1];
        return h;
}

/* Waits until the helper sits in read(2) on its standard input, waiting for the code. */
static void wait_until_reading_stdin(const helper_proc *h) {
        char p[64], buf[256];
        snprintf(p, sizeof(p), "/proc/%d/syscall", (int) h->pid);
        for (;;) {
                long nr = -1;
                unsigned long fd = 1;
                FILE *f = fopen(p, "r");
                assert_non_null(f); /* gone: the helper ended without waiting */
                if (fgets(buf, sizeof(buf), f) && sscanf(buf, "%ld %lx", &nr, &fd) == 2 && nr == SYS_read && fd == 0) {
                        fclose(f);
                        return;
                }
                fclose(f);
                assert_int_equal(waitpid(h->pid, NULL, WNOHANG), 0);
                nanosleep(&(struct timespec){.tv_nsec = 10 * 1000 * 1000}, NULL);
        }
}

/* Hands the helper its code and returns its exit status; -1 if it stopped or was killed
 * (a stopped helper is killed: it would hold up the next test). */
static int finish_helper(helper_proc *h, const char *code) {
        int status;
        ssize_t n = write(h->in, code, strlen(code));
        assert_int_equal(n, (ssize_t) strlen(code));
        assert_int_equal(write(h->in, "\n", 1), 1);
        close(h->in);
        assert_int_equal(waitpid(h->pid, &status, WUNTRACED), h->pid);
        if (WIFSTOPPED(status)) {
                kill(h->pid, SIGKILL);
                kill(h->pid, SIGCONT);
                waitpid(h->pid, NULL, 0);
                return -1;
        }
        return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* A helper left waiting for its code (by the user's own malware, with the password it logged)
 * and fed a wrong one after the lockout time has passed: the failure that reaches the limit
 * locks from the time the code came, not from the time the helper started. A lock already
 * over when written would let the count start again, so the account would never lock. */
static void waiting_helper_counts_from_when_the_code_came(void **s) {
        (void) s;
        write_config("RequireUsers=daemon\nLockoutTime=2\n");
        tg_mfa_user d = enroll("daemon");
        install_helper();
        helper_proc h = start_helper(1, "verify", "daemon", 0, false);
        wait_until_reading_stdin(&h);
        time_t waiting = time(NULL); /* the helper started no later than this */
        while (time(NULL) <= waiting + 2)
                nanosleep(&(struct timespec){.tv_nsec = 100 * 1000 * 1000}, NULL);
        answer = strcmp(code_for(&d, 0), "000000") == 0 ? "000001" : "000000";
        for (int k = 0; k < 2; k++)
                assert_int_equal(authenticate("daemon"), PAM_AUTH_ERR);
        time_t fed = time(NULL);
        assert_int_equal(finish_helper(&h, answer), 1);
        tg_mfa_user l = load("daemon");
        assert_int_equal(l.failures, 3);
        assert_true(l.locked_until > fed);
        remove_helper();
}

/* mfa/ is absent, or root:root 0700 holding only root:root 0600 regular files. */
static void assert_state_root_only(void) {
        struct stat st;
        struct dirent *e;
        if (lstat(mfadir, &st) < 0) {
                assert_int_equal(errno, ENOENT);
                return;
        }
        assert_true(S_ISDIR(st.st_mode));
        assert_int_equal(st.st_uid, 0);
        assert_int_equal(st.st_gid, 0);
        assert_int_equal(st.st_mode & 07777, 0700);
        DIR *d = opendir(mfadir);
        assert_non_null(d);
        while ((e = readdir(d))) {
                if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
                        continue;
                assert_int_equal(fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW), 0);
                assert_true(S_ISREG(st.st_mode));
                assert_int_equal(st.st_uid, 0);
                assert_int_equal(st.st_gid, 0);
                assert_int_equal(st.st_mode & 07777, 0600);
        }
        closedir(d);
}

/* Before mfa/ exists, a user runs the helper with a group of their own and with few file
 * descriptors left (RLIMIT_NOFILE from 4, so that each open in turn is the one refused):
 * what it creates is root:root or is not there. Otherwise mfa/ would be refused for every
 * covered user (with Profile=mynumber, root too) and enrollment would fail. The same for su,
 * which authenticates as root with the user's group. */
static void state_created_by_a_user_is_root_owned(void **s) {
        char cmd[400];
        (void) s;
        write_config("RequireUsers=daemon\n");
        install_helper();
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", mfadir);
        for (rlim_t nofile = 4; nofile <= 9; nofile++) {
                assert_int_equal(system(cmd), 0);
                helper_proc h = start_helper(1, "verify", "daemon", nofile == 9 ? 0 : nofile, false);
                int status = finish_helper(&h, "000000");
                /* refused or failed (a sanitizer build may not even start with 4 descriptors) */
                assert_int_not_equal(status, 0);
                assert_state_root_only();
        }
        /* su: root, with the group of the user who ran it */
        assert_int_equal(system(cmd), 0);
        answer = "000000";
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0)
                _exit(setegid(1) == 0 && authenticate("daemon") == PAM_AUTH_ERR ? 0 : 1);
        int status;
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
        assert_state_root_only();
        /* and the user can be enrolled and log in, as root and through the helper */
        tg_mfa_user d = enroll("daemon");
        answer = code_for(&d, 0);
        assert_int_equal(authenticate("daemon"), PAM_SUCCESS);
        answer = code_for(&d, 1);
        assert_int_equal(authenticate_as(1, "daemon"), PAM_SUCCESS);
        assert_state_root_only();
        remove_helper();
}

/* A directory above the state directory that others can write refuses, as root and through
 * the helper: whoever can write it could put a state directory of their own in its place. */
static void state_directory_parent_others_can_write_fails_closed(void **s) {
        char open_dir[320];
        (void) s;
        snprintf(open_dir, sizeof(open_dir), "%s/open", root);
        assert_int_equal(mkdir(open_dir, 0755), 0);
        snprintf(state, sizeof(state), "%s/open/state", root);
        snprintf(mfadir, sizeof(mfadir), "%s/mfa", state);
        assert_int_equal(mkdir(state, 0700), 0);
        char err[512];
        int dfd = tg_mfa_open_dir(state, true, err, sizeof(err));
        assert_true(dfd >= 0);
        close(dfd);
        write_config("RequireUsers=daemon\n");
        tg_mfa_user d = enroll("daemon");
        install_helper();
        assert_int_equal(chmod(open_dir, 0777), 0);
        answer = code_for(&d, 0);
        journal_read();
        assert_int_equal(authenticate("daemon"), PAM_AUTH_ERR);
        assert_int_equal(authenticate_as(1, "daemon"), PAM_AUTH_ERR);
        /* The spool lives in the same state directory: root writes nothing below a directory
         * others can write, so with termguardd down these failures reach syslog only (with
         * termguardd up they are journaled through its socket). */
        char spool[400];
        snprintf(spool, sizeof(spool), "%s/%s", state, TG_RECORD_SPOOL);
        assert_int_equal(access(spool, F_OK), -1);
        journal_read();
        assert_int_equal(n_records, 0);
        assert_int_equal(chmod(open_dir, 0755), 0);
        assert_int_equal(authenticate("daemon"), PAM_SUCCESS); /* the code was not used up */
        answer = code_for(&d, 1);
        assert_int_equal(authenticate_as(1, "daemon"), PAM_SUCCESS);
        remove_helper();
}

/* The helper refuses a RequireUsers name that is no account like the module does: a user who
 * runs it directly does not get past a configuration the module would refuse. */
static void helper_refuses_a_require_users_name_that_is_no_account(void **s) {
        (void) s;
        write_config("RequireUsers=daemon ghost\n");
        tg_mfa_user d = enroll("daemon");
        install_helper();
        journal_read();
        helper_proc h = start_helper(1, "verify", "daemon", 0, false);
        assert_int_equal(finish_helper(&h, code_for(&d, 0)), 2);
        journal_read();
        int i = the_record("mfa.config-error", "daemon");
        assert_int_equal(records[i].uid, 0);
        assert_non_null(strstr(records[i].text, "RequireUsers: ghost: no such user"));
        assert_int_equal(authenticate("daemon"), PAM_AUTH_ERR); /* and the module, as root */
        remove_helper();
}

/* ^Z on the caller's terminal (SIGTSTP to its foreground process group; SIGTTIN and SIGTTOU to
 * a background job) does not stop the helper, which could be holding the user's lock: it goes
 * on and verifies the code. SIGSTOP from the user is refused outright. */
static void terminal_stop_signals_do_not_stop_the_helper(void **s) {
        const int stops[] = {SIGTSTP, SIGTTIN, SIGTTOU};
        int status;
        (void) s;
        write_config("RequireUsers=daemon\n");
        tg_mfa_user d = enroll("daemon");
        install_helper();
        helper_proc h = start_helper(1, "verify", "daemon", 0, true);
        wait_until_reading_stdin(&h);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0)
                _exit(setuid(1) == 0 && kill(h.pid, SIGSTOP) < 0 && errno == EPERM ? 0 : 1);
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
        for (size_t i = 0; i < sizeof(stops) / sizeof(stops[0]); i++)
                assert_int_equal(kill(-h.pid, stops[i]), 0); /* its process group, as the terminal does */
        assert_int_equal(finish_helper(&h, code_for(&d, 0)), 0);
        assert_int_equal(load("daemon").failures, 0);
        remove_helper();
}

/* The user's lock held elsewhere (a process stopped or stuck while holding it): after
 * TG_MFA_LOCK_WAIT_SECONDS the attempt is refused as an error, on the root path and through
 * the helper, instead of waiting with it. The code is not used up. (A wait without end would
 * show as the test's timeout.) */
static void busy_state_is_refused_not_waited_for(void **s) {
        char err[256];
        (void) s;
        write_config("RequireUsers=daemon\n");
        tg_mfa_user d = enroll("daemon");
        install_helper();
        int dfd = tg_mfa_open_dir(state, false, err, sizeof(err));
        assert_true(dfd >= 0);
        int held = tg_mfa_lock_user(dfd, "daemon");
        assert_true(held >= 0);
        answer = code_for(&d, 0);
        journal_read();
        assert_int_equal(authenticate("daemon"), PAM_AUTH_ERR);
        assert_int_equal(authenticate_as(1, "daemon"), PAM_AUTH_ERR);
        journal_read();
        assert_int_equal(count_records("TERMGUARD_EVENT=mfa.failure", "TERMGUARD_USER=daemon", NULL), 2);
        for (int i = 0; i < n_records; i++)
                assert_non_null(strstr(records[i].text, "\nTERMGUARD_DETAIL=MFA state of daemon busy: "));
        close(held);
        close(dfd);
        assert_int_equal(authenticate("daemon"), PAM_SUCCESS);
        remove_helper();
}

static void screen_locker_verifies_through_helper(void **s) {
        (void) s;
        write_config("RequireUsers=daemon bin\n");
        tg_mfa_user d = enroll("daemon"), b = enroll("bin");
        install_helper();
        answer = code_for(&d, 0);
        assert_int_equal(authenticate_as(1, "daemon"), PAM_SUCCESS); /* daemon is uid 1 */
        /* recorded once, by the helper as root: the user's own process cannot suppress it */
        journal_read();
        assert_int_equal(n_records, 1);
        int i = the_record("mfa.success", "daemon");
        assert_int_equal(records[i].uid, 0);
        assert_int_equal(count_records("SYSLOG_IDENTIFIER=termguard-mfa-verify", "TERMGUARD_SERVICE=tgtest",
                                       "TERMGUARD_ACTOR=uid:1", NULL),
                         1);
        assert_int_equal(authenticate_as(1, "daemon"), PAM_AUTH_ERR); /* replay */
        /* daemon cannot verify, probe or lock out bin through the helper */
        answer = code_for(&b, 0);
        journal_read();
        assert_int_equal(authenticate_as(1, "bin"), PAM_AUTH_ERR);
        assert_int_equal(load("bin").failures, 0);
        journal_read();
        i = the_record("mfa.helper-refused", "bin");
        assert_int_equal(records[i].uid, 0);
        assert_non_null(strstr(records[i].text, "MESSAGE_ID=5d0f0c9e3a7b4c1f9e2d8a6b4c3e2f0b\n"));
        assert_int_equal(authenticate("bin"), PAM_SUCCESS); /* bin's code was not consumed */
        /* the helper's failures count toward the same limit */
        answer = "99999x";
        for (int k = 0; k < 3; k++)
                assert_int_equal(authenticate_as(1, "daemon"), PAM_AUTH_ERR);
        assert_true(tg_mfa_locked(&(tg_mfa_user){.locked_until = load("daemon").locked_until}, time(NULL)));
        answer = code_for(&d, 1);
        assert_int_equal(authenticate_as(1, "daemon"), PAM_AUTH_ERR);
        remove_helper();
}

/* Two names for one uid (useradd -o: tg-mfa-alias is a second name of tanaka's uid). Each name
 * has its own state, and the helper cannot tell the two callers apart: it acts only for the
 * name the user database gives for the uid (tanaka), so the second name's state can be neither
 * verified, probed nor locked by a process of that uid. */
static void helper_acts_only_for_the_name_of_the_callers_uid(void **s) {
        (void) s;
        struct passwd *pw = getpwnam("tanaka");
        assert_non_null(pw);
        uid_t uid = pw->pw_uid;
        pw = getpwnam("tg-mfa-alias");
        assert_non_null(pw);
        assert_int_equal(pw->pw_uid, uid);
        assert_string_equal(getpwuid(uid)->pw_name, "tanaka");
        write_config("RequireUsers=tanaka tg-mfa-alias\n");
        tg_mfa_user a = enroll("tg-mfa-alias"), t = enroll("tanaka");
        install_helper();
        answer = "99999x";
        journal_read();
        for (int k = 0; k < 3; k++)
                assert_int_equal(authenticate_as(uid, "tg-mfa-alias"), PAM_AUTH_ERR);
        assert_int_equal(load("tg-mfa-alias").failures, 0);
        assert_false(tg_mfa_locked(&(tg_mfa_user){.locked_until = load("tg-mfa-alias").locked_until}, time(NULL)));
        journal_read();
        assert_int_equal(count_records("TERMGUARD_EVENT=mfa.helper-refused", "TERMGUARD_USER=tg-mfa-alias", NULL), 3);
        answer = code_for(&a, 0);
        assert_int_equal(authenticate_as(uid, "tg-mfa-alias"), PAM_AUTH_ERR);
        assert_int_equal(authenticate("tg-mfa-alias"), PAM_SUCCESS); /* as root (login, sshd): not used up */
        /* the uid's own name works through the helper */
        answer = code_for(&t, 0);
        assert_int_equal(authenticate_as(uid, "tanaka"), PAM_SUCCESS);
        remove_helper();
}

/* Whether this process may raise a hard resource limit (CAP_SYS_RESOURCE; containers often
 * lack it). */
static bool can_raise_limits(void) {
        pid_t pid = fork();
        int status;
        assert_true(pid >= 0);
        if (pid == 0) {
                struct rlimit low = {64, 64}, inf = {RLIM_INFINITY, RLIM_INFINITY};
                _exit(setrlimit(RLIMIT_FSIZE, &low) == 0 && setrlimit(RLIMIT_FSIZE, &inf) == 0 ? 0 : 1);
        }
        assert_int_equal(waitpid(pid, &status, 0), pid);
        return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

/* A file size limit set by the caller (su and lockers keep the caller's limits) must not let
 * a failure record fail to save while a success still fits. The state is set up so that the
 * failure record is 2 bytes longer than the file (9 -> 10 failures) and the success record
 * 2 bytes shorter, and the limit lies between. Where the limit can be lifted, every wrong
 * guess is counted; where it cannot, no code is looked at, so a right one is refused as well.
 * On the root path (su) and through the helper (a locker). */
static void file_size_limit_cannot_hide_failures(void **s) {
        (void) s;
        bool lifted = can_raise_limits();
        char p[400];
        struct stat st;
        write_config("RequireUsers=daemon\nMaxFailures=50\n");
        tg_mfa_user d = enroll("daemon");
        install_helper();
        snprintf(p, sizeof(p), "%s/daemon.json", mfadir);
        for (uid_t uid = 0; uid <= 1; uid++) {
                tg_mfa_user l = load("daemon");
                l.failures = l.failed_since_login = 9;
                l.last_login_at = time(NULL);
                l.last_step = (uint64_t) time(NULL) / 30 - 10; /* same number of digits as the next */
                snprintf(l.last_login_from, sizeof(l.last_login_from), "%s", uid ? "unlock (uid 1)" : "");
                save(&l);
                assert_int_equal(stat(p, &st), 0);
                child_fsize = (rlim_t) st.st_size + 1;
                answer = strcmp(code_for(&d, 0), "000000") == 0 ? "000001" : "000000";
                assert_int_equal(authenticate_as(uid, "daemon"), PAM_AUTH_ERR);
                assert_int_equal(load("daemon").failures, lifted ? 10 : 9);
                answer = code_for(&d, (int) uid);
                assert_int_equal(authenticate_as(uid, "daemon"), lifted ? PAM_SUCCESS : PAM_AUTH_ERR);
        }
        child_fsize = RLIM_INFINITY;
        answer = code_for(&d, 1);
        if (!lifted) /* without the limit, the code works: nothing was used up */
                assert_int_equal(authenticate_as(1, "daemon"), PAM_SUCCESS);
        remove_helper();
}

/* A locker started with stdin closed still hands the code to the helper. */
static void screen_locker_with_closed_stdin(void **s) {
        (void) s;
        write_config("RequireUsers=daemon\n");
        tg_mfa_user d = enroll("daemon");
        install_helper();
        child_closes_stdin = true;
        answer = code_for(&d, 0);
        assert_int_equal(authenticate_as(1, "daemon"), PAM_SUCCESS);
        assert_int_equal(load("daemon").failures, 0);
        child_closes_stdin = false;
        remove_helper();
}

static void screen_locker_without_helper_fails_closed(void **s) {
        char text[300];
        (void) s;
        write_config("RequireUsers=daemon\n");
        tg_mfa_user d = enroll("daemon");
        install_helper_as("/nonexistent/helper");
        answer = code_for(&d, 0);
        journal_read();
        assert_int_equal(authenticate_as(1, "daemon"), PAM_AUTH_ERR);
        /* Nothing recorded it as root, and the module, running as the user, cannot write the
         * root-only spool: with termguardd down the failure is not in the journal (the module
         * tells syslog why). With termguardd up it is (tests/integration/test_records.py). */
        journal_read();
        assert_int_equal(count_records("TERMGUARD_EVENT=mfa.failure", NULL), 0);
        remove_helper();
        /* and an unprivileged copy of the helper (not setuid) cannot read the state either */
        install_helper();
        snprintf(text, sizeof(text), "chmod 0755 '%s/termguard-mfa-verify'", helper_dir);
        assert_int_equal(system(text), 0);
        assert_int_equal(authenticate_as(1, "daemon"), PAM_AUTH_ERR);
        assert_int_equal(authenticate("daemon"), PAM_SUCCESS); /* the code was not consumed */
        remove_helper();
}

/* ---- The account phase: the second factor on stacks that skip common-auth's auth ---- */

/* A stack as Debian's common-auth and common-account make it, under a service's name. */
static void write_stack(const char *service) {
        char p[400], text[1200];
        snprintf(p, sizeof(p), "%s/%s", pamdir, service);
        snprintf(text, sizeof(text),
                 "auth required %s config=%s\nauth required pam_permit.so\n"
                 "account required pam_permit.so\naccount required %s config=%s\n",
                 TG_PAM_MODULE, conf, TG_PAM_MODULE, conf);
        write_file(p, text);
}

/* One login through service: pam_authenticate (when auth, its result in *ret_auth), then
 * pam_acct_mgmt in the same handle, as sshd, GDM and login do. Returns pam_acct_mgmt's result.
 * switch_to, when set, is the PAM_USER a module could set between the two. */
static int login_as(const char *service, const char *user, bool auth, int *ret_auth, const char *switch_to) {
        struct pam_conv c = {.conv = conv};
        pam_handle_t *h = NULL;
        int r;
        write_stack(service);
        prompts = 0;
        shown[0] = '\0';
        assert_int_equal(pam_start_confdir(service, user, &c, pamdir, &h), PAM_SUCCESS);
        pam_set_item(h, PAM_TTY, "pts/3");
        if (auth) {
                r = pam_authenticate(h, 0);
                if (ret_auth)
                        *ret_auth = r;
        }
        if (switch_to)
                pam_set_item(h, PAM_USER, switch_to);
        r = pam_acct_mgmt(h, 0);
        pam_end(h, r);
        return r;
}

static int account_only(const char *service, const char *user) {
        return login_as(service, user, false, NULL, NULL);
}

static int refusals(const char *service, const char *user) {
        char svc[64], u[96];
        snprintf(svc, sizeof(svc), "TERMGUARD_SERVICE=%s", service);
        snprintf(u, sizeof(u), "TERMGUARD_USER=%s", user);
        return count_records("TERMGUARD_EVENT=mfa.account-refused", "MESSAGE_ID=5d0f0c9e3a7b4c1f9e2d8a6b4c3e2f0c", svc,
                             u, NULL);
}

/* sshd with a public key alone, GDM's fingerprint and smart-card stacks, login -f: no auth
 * phase, only the account phase. */
static void account_without_the_code_is_refused_on_listed_services(void **s) {
        const char *const services[] = {"sshd", "gdm-fingerprint", "gdm-smartcard", "login"};
        (void) s;
        enroll("tanaka");
        for (size_t i = 0; i < sizeof(services) / sizeof(services[0]); i++) {
                journal_read();
                assert_int_equal(account_only(services[i], "tanaka"), PAM_PERM_DENIED);
                assert_int_equal(prompts, 0);
                assert_non_null(strstr(shown, "This login method does not ask for the verification code."));
                journal_read();
                assert_int_equal(refusals(services[i], "tanaka"), 1);
                int k = the_record("mfa.account-refused", "tanaka");
                assert_non_null(strstr(records[k].text, "\nPRIORITY=4\n"));
                assert_non_null(strstr(records[k].text, "\nTERMGUARD_DETAIL=second factor not given in this login\n"));
        }
        /* not enrolled: refused the same way */
        assert_int_equal(account_only("sshd", "suzuki"), PAM_PERM_DENIED);
        /* another spelling of the name is the same account */
        if (getpwnam("TANAKA"))
                assert_int_equal(account_only("sshd", "TANAKA"), PAM_PERM_DENIED);
}

static void account_after_the_code_in_the_same_handle_passes(void **s) {
        tg_mfa_user u = enroll("tanaka");
        int auth = -1;
        (void) s;
        answer = code_for(&u, 0);
        assert_int_equal(login_as("sshd", "tanaka", true, &auth, NULL), PAM_SUCCESS);
        assert_int_equal(auth, PAM_SUCCESS);
        assert_int_equal(prompts, 1);
        answer = code_for(&u, 1);
        assert_int_equal(login_as("gdm-smartcard", "tanaka", true, &auth, NULL), PAM_SUCCESS);
        assert_int_equal(auth, PAM_SUCCESS);
        journal_read();
        assert_int_equal(count_records("TERMGUARD_EVENT=mfa.account-refused", NULL), 0);
        /* the pass lives in that handle only: the next login without auth is refused */
        assert_int_equal(account_only("sshd", "tanaka"), PAM_PERM_DENIED);
        /* a recovery code is a second factor too */
        char codes[TG_MFA_RECOVERY_CODES][12];
        tg_mfa_user l = load("tanaka");
        assert_int_equal(tg_mfa_new_recovery_codes(&l, codes), 0);
        save(&l);
        answer = codes[0];
        assert_int_equal(login_as("sshd", "tanaka", true, &auth, NULL), PAM_SUCCESS);
        assert_int_equal(auth, PAM_SUCCESS);
}

/* Only the latest authentication in the handle counts, and only for the account it was for. */
static void failed_or_other_users_code_does_not_count(void **s) {
        tg_mfa_user u = enroll("tanaka");
        struct pam_conv c = {.conv = conv};
        pam_handle_t *h = NULL;
        int auth = -1;
        (void) s;
        answer = strcmp(code_for(&u, 0), "000000") == 0 ? "000001" : "000000";
        assert_int_equal(login_as("sshd", "tanaka", true, &auth, NULL), PAM_PERM_DENIED);
        assert_int_equal(auth, PAM_AUTH_ERR);
        /* a pass, then a failed attempt in the same handle */
        write_stack("sshd");
        assert_int_equal(pam_start_confdir("sshd", "tanaka", &c, pamdir, &h), PAM_SUCCESS);
        answer = code_for(&u, 0);
        assert_int_equal(pam_authenticate(h, 0), PAM_SUCCESS);
        answer = "12345x";
        assert_int_equal(pam_authenticate(h, 0), PAM_AUTH_ERR);
        assert_int_equal(pam_acct_mgmt(h, 0), PAM_PERM_DENIED);
        pam_end(h, PAM_PERM_DENIED);
        /* tanaka's code, then PAM_USER changed to suzuki (also covered) before the account phase */
        answer = code_for(&u, 1);
        assert_int_equal(login_as("sshd", "tanaka", true, &auth, "suzuki"), PAM_PERM_DENIED);
        assert_int_equal(auth, PAM_SUCCESS);
        journal_read();
        assert_int_equal(refusals("sshd", "suzuki"), 1);
}

/* cron, systemd-user, su, sudo with a remembered authentication: not in the list. */
static void unlisted_services_and_uncovered_users_are_not_refused(void **s) {
        const char *const services[] = {"cron", "systemd-user", "su", "sudo", "tgtest"};
        (void) s;
        enroll("tanaka");
        journal_read();
        for (size_t i = 0; i < sizeof(services) / sizeof(services[0]); i++)
                assert_int_equal(account_only(services[i], "tanaka"), PAM_SUCCESS);
        assert_int_equal(account_only("sshd", "daemon"), PAM_SUCCESS); /* not covered */
        assert_int_equal(account_only("sshd", "root"), PAM_SUCCESS);
        journal_read();
        assert_int_equal(n_records, 0);
        assert_string_equal(shown, "");
        /* everyone on a My Number terminal, root included */
        write_config("Profile=mynumber\n");
        assert_int_equal(account_only("sshd", "root"), PAM_PERM_DENIED);
        assert_int_equal(account_only("cron", "root"), PAM_SUCCESS);
}

static void mfa_services_setting(void **s) {
        (void) s;
        enroll("tanaka");
        write_config("MFAServices=xrdp cron\n");
        assert_int_equal(account_only("cron", "tanaka"), PAM_PERM_DENIED);
        assert_int_equal(account_only("xrdp", "tanaka"), PAM_PERM_DENIED);
        assert_int_equal(account_only("sshd", "tanaka"), PAM_SUCCESS);
        assert_int_equal(account_only("xrdp-sesman", "tanaka"), PAM_SUCCESS); /* whole names only */
        write_config("MFAServices=\n");
        assert_int_equal(account_only("sshd", "tanaka"), PAM_SUCCESS);
}

/* Rollout: a pass in the rollout window (the password alone, recorded as mfa.rollout-pass)
 * counts in its own handle; a login with no auth phase at all is still refused. */
static void rollout_pass_counts_only_in_its_handle(void **s) {
        int auth = -1;
        (void) s;
        write_config("RolloutUntil=2099-01-01T00:00:00Z\n");
        answer = "123456";
        assert_int_equal(login_as("sshd", "suzuki", true, &auth, NULL), PAM_SUCCESS);
        assert_int_equal(auth, PAM_SUCCESS);
        assert_int_equal(account_only("sshd", "suzuki"), PAM_PERM_DENIED);
}

/* A configuration that cannot be read: the default services refuse, the others go on. */
static void config_error_refuses_default_services_only(void **s) {
        char p[400];
        (void) s;
        write_config("Bogus=1\n");
        journal_read();
        assert_int_equal(account_only("sshd", "daemon"), PAM_PERM_DENIED);
        assert_int_equal(account_only("gdm-fingerprint", "tanaka"), PAM_PERM_DENIED);
        journal_read();
        assert_true(count_records("TERMGUARD_EVENT=mfa.config-error", NULL) >= 2);
        assert_int_equal(count_records("TERMGUARD_EVENT=mfa.account-refused", "TERMGUARD_SERVICE=sshd", NULL), 1);
        assert_int_equal(account_only("cron", "tanaka"), PAM_SUCCESS);
        assert_int_equal(account_only("systemd-user", "daemon"), PAM_SUCCESS);
        /* readable, but a policy name that is no group: who is covered is unknown */
        write_config("RequireGroups=no-such-group-xyz\n");
        assert_int_equal(account_only("sshd", "daemon"), PAM_PERM_DENIED);
        assert_int_equal(account_only("cron", "daemon"), PAM_SUCCESS);
        snprintf(p, sizeof(p), "%s/termguard.conf", conf);
        assert_int_equal(unlink(p), 0);
        assert_int_equal(account_only("login", "daemon"), PAM_PERM_DENIED);
}

int main(void) {
        if (geteuid() != 0) {
                fprintf(stderr, "test_pam: skipped, needs root (root-owned state)\n");
                return 77;
        }
        journal_open();
        /* tanaka and suzuki are accounts the system knows (state is kept only for those);
         * ghost is unknown; tg-mfa-alias is a second name of tanaka's uid, after it. */
        bool made[3] = {false, false, false};
        const char *const accounts[3] = {"tanaka", "suzuki", "tg-mfa-alias"};
        for (int i = 0; i < 3; i++)
                if (!getpwnam(accounts[i])) {
                        char cmd[300], same_uid[64] = "";
                        struct passwd *first = i == 2 ? getpwnam("tanaka") : NULL;
                        if (first)
                                snprintf(same_uid, sizeof(same_uid), "--non-unique --uid %u ",
                                         (unsigned) first->pw_uid);
                        snprintf(cmd, sizeof(cmd), "useradd --system --no-create-home --shell /usr/sbin/nologin %s%s",
                                 same_uid, accounts[i]);
                        if (system(cmd) != 0)
                                return 1;
                        made[i] = true;
                }
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(valid_code_passes_once_and_shows_last_login, setup, teardown),
                cmocka_unit_test_setup_teardown(wrong_code_fails_and_counts, setup, teardown),
                cmocka_unit_test_setup_teardown(lockout_survives_restart_and_unlock, setup, teardown),
                cmocka_unit_test_setup_teardown(not_enrolled_is_refused, setup, teardown),
                cmocka_unit_test_setup_teardown(user_not_covered_by_policy_is_ignored, setup, teardown),
                cmocka_unit_test_setup_teardown(authfail_counts_and_always_refuses, setup, teardown),
                cmocka_unit_test_setup_teardown(failures_look_alike_for_every_name_and_lock_state, setup, teardown),
                cmocka_unit_test_setup_teardown(rollout_window, setup, teardown),
                cmocka_unit_test_setup_teardown(unsafe_or_missing_state_fails_closed, setup, teardown),
                cmocka_unit_test_setup_teardown(state_directory_parent_others_can_write_fails_closed, setup, teardown),
                cmocka_unit_test_setup_teardown(hostile_config_fails_closed, setup, teardown),
                cmocka_unit_test_setup_teardown(recovery_code_works_once, setup, teardown),
                cmocka_unit_test_setup_teardown(banner_is_shown, setup, teardown),
                cmocka_unit_test_setup_teardown(events_record_each_outcome, setup, teardown),
                cmocka_unit_test_setup_teardown(events_escape_hostile_items, setup, teardown),
                cmocka_unit_test_setup_teardown(name_spelling_is_the_same_account, setup, teardown),
                cmocka_unit_test_setup_teardown(screen_locker_verifies_through_helper, setup, teardown),
                cmocka_unit_test_setup_teardown(screen_locker_without_helper_fails_closed, setup, teardown),
                cmocka_unit_test_setup_teardown(helper_acts_only_for_the_name_of_the_callers_uid, setup, teardown),
                cmocka_unit_test_setup_teardown(file_size_limit_cannot_hide_failures, setup, teardown),
                cmocka_unit_test_setup_teardown(screen_locker_with_closed_stdin, setup, teardown),
                cmocka_unit_test_setup_teardown(waiting_helper_counts_from_when_the_code_came, setup, teardown),
                cmocka_unit_test_setup_teardown(state_created_by_a_user_is_root_owned, setup, teardown),
                cmocka_unit_test_setup_teardown(helper_refuses_a_require_users_name_that_is_no_account, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(terminal_stop_signals_do_not_stop_the_helper, setup, teardown),
                cmocka_unit_test_setup_teardown(busy_state_is_refused_not_waited_for, setup, teardown),
                cmocka_unit_test_setup_teardown(account_without_the_code_is_refused_on_listed_services, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(account_after_the_code_in_the_same_handle_passes, setup, teardown),
                cmocka_unit_test_setup_teardown(failed_or_other_users_code_does_not_count, setup, teardown),
                cmocka_unit_test_setup_teardown(unlisted_services_and_uncovered_users_are_not_refused, setup, teardown),
                cmocka_unit_test_setup_teardown(mfa_services_setting, setup, teardown),
                cmocka_unit_test_setup_teardown(rollout_pass_counts_only_in_its_handle, setup, teardown),
                cmocka_unit_test_setup_teardown(config_error_refuses_default_services_only, setup, teardown),
        };
        int failed = cmocka_run_group_tests(tests, NULL, NULL);
        for (int i = 2; i >= 0; i--)
                if (made[i]) {
                        char cmd[100];
                        snprintf(cmd, sizeof(cmd), "userdel %s", accounts[i]);
                        if (system(cmd) != 0)
                                failed = 1;
                }
        return failed;
}
