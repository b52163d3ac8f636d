/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * pam-bench: the time pam_termguard adds to an authentication, next to pam_oath (Debian's
 * libpam-oath), and TOTP verifications per second of both libraries. Built and run by
 * bench/pam.sh; see bench/README.md.
 *
 *   pam-bench --termguard PAM_TERMGUARD_SO --oath PAM_OATH_SO [-n N] [--seconds S] [--dir DIR]
 *             [--user NAME]
 *
 * Three PAM stacks in a private confdir (pam_start_confdir), all for the same user (an
 * existing account, root by default: pam_termguard refuses names the system does not know):
 *   baseline    auth required pam_permit.so
 *   termguard   auth required pam_termguard.so config=...   + pam_permit.so
 *   oath        auth required pam_oath.so usersfile=... window=1 digits=6   + pam_permit.so
 * Timed: pam_start_confdir .. pam_set_item(PAM_TTY) .. pam_authenticate .. pam_end. Before
 * every timed run (untimed) the user gets a new secret (termguard: state written with
 * tg_mfa_enroll/tg_mfa_save; pam_oath: a new usersfile line) and the conversation answers
 * with the current code, so that every run is a first use of a valid code. Each run must
 * return PAM_SUCCESS after exactly one prompt, and the module must have recorded the code
 * (termguard: last_step in the state; pam_oath: the OTP in the usersfile); anything else is
 * a failure, reported, and makes the exit status 1.
 *
 * Two modes: "fresh process" forks one child per authentication (as login, su, sudo, sshd
 * do: one authentication per process, so the module and its libraries are loaded each time);
 * "same process" runs all authentications of one stack in one child (libraries that stay
 * loaded after pam_end are then loaded once). This program links the termguard core,
 * json-c, liboath and libcrypt statically, so none of the modules' shared libraries is in
 * the process before libpam loads a module (checked in /proc/self/maps).
 *
 * Exit status: 0 ran and every authentication succeeded; 1 failures or could not run; 2 usage.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <getopt.h>
#include <inttypes.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <liboath/oath.h>
#include <security/pam_appl.h>

#include "termguard/mfa.h"
#include "termguard/totp.h"

#define PERIOD 30
#define DIGITS 6
#define SECRET_BYTES 20
#define MAX_FAIL_SHOWN 5

enum { ST_BASE, ST_TG, ST_OATH, ST_N };
static const char *const stack_label[ST_N] = {"pam_permit (baseline)", "pam_termguard + pam_permit",
                                              "pam_oath + pam_permit"};
static const char *const service[ST_N] = {"bench-baseline", "bench-termguard", "bench-oath"};
static const int expected_prompts[ST_N] = {0, 1, 1};

/* One timed authentication, as reported by the child that ran it. */
typedef struct {
        int64_t ns;
        int64_t cpu_ns; /* CPU time (user + system) of the process in the same interval */
        int rc, prompts;
        long maxrss_kib;
        bool ok;
        char msg[120]; /* the last message the modules showed */
        char why[512]; /* why the run counts as failed */
} record;

/* What the next authentication must answer and what the module must then have recorded. */
typedef struct {
        uint8_t key[SECRET_BYTES];
        char code[DIGITS + 1];
        uint64_t step;
} attempt;

typedef struct {
        int64_t *ns;
        int64_t *cpu; /* CPU time of the same runs */
        size_t n;
        long maxrss_kib; /* median over the runs, fresh-process mode only */
        unsigned failures;
} series;

static const char *user = "root";
static char root[256], confdir[300], statedir[300], pamdir[300], usersfile[320];
static int mfa_dfd = -1;
static pid_t main_pid;

/* Conversation: every prompt gets `answer`; messages are kept for failure reports. */
static const char *answer = "";
static int prompts;
static char last_msg[sizeof(((record *) NULL)->msg)];

static int conv(int n, const struct pam_message **msg, struct pam_response **resp, void *data) {
        struct pam_response *r = calloc((size_t) n, sizeof(*r));
        (void) data;
        if (!r)
                return PAM_BUF_ERR;
        for (int i = 0; i < n; i++) {
                if (msg[i]->msg_style == PAM_PROMPT_ECHO_OFF || msg[i]->msg_style == PAM_PROMPT_ECHO_ON) {
                        prompts++;
                        r[i].resp = strdup(answer);
                        if (!r[i].resp) {
                                for (int k = 0; k < i; k++)
                                        free(r[k].resp);
                                free(r);
                                return PAM_BUF_ERR;
                        }
                } else
                        snprintf(last_msg, sizeof(last_msg), "%s", msg[i]->msg ? msg[i]->msg : "");
        }
        *resp = r;
        return PAM_SUCCESS;
}

static int64_t now_ns(void) {
        struct timespec t;
        (void) clock_gettime(CLOCK_MONOTONIC, &t);
        return (int64_t) t.tv_sec * 1000000000 + t.tv_nsec;
}

/* CPU time of this process: unlike the elapsed time, it does not count waiting for a CPU that
 * other processes hold, so on a busy machine it still shows what a module costs. */
static int64_t cpu_ns(void) {
        struct timespec t;
        (void) clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
        return (int64_t) t.tv_sec * 1000000000 + t.tv_nsec;
}

static int write_text(const char *path, mode_t mode, const char *text) {
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode);
        size_t len = strlen(text), off = 0;
        int r = 0;
        if (fd < 0)
                return -errno;
        while (off < len) {
                ssize_t k = write(fd, text + off, len - off);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0) {
                        r = -errno;
                        break;
                }
                off += (size_t) k;
        }
        /* Flushed like the state that tg_mfa_save writes, so that no dirty data of the
         * preparation is left for the timed run to write back. */
        if (r == 0 && fsync(fd) < 0)
                r = -errno;
        if (close(fd) < 0 && r == 0)
                r = -errno;
        return r;
}

static int code_at(const uint8_t *key, uint64_t step, char out[DIGITS + 1]) {
        uint32_t v;
        int r = tg_hotp(TG_OTP_SHA1, key, SECRET_BYTES, step, DIGITS, &v);
        if (r < 0)
                return r;
        snprintf(out, DIGITS + 1, "%0*" PRIu32, DIGITS, v);
        return 0;
}

/* A code that no step of the window around step accepts. */
static int wrong_code(const uint8_t *key, uint64_t step, char out[DIGITS + 1]) {
        char valid[3][DIGITS + 1];
        for (int d = -1; d <= 1; d++)
                if (code_at(key, step + (uint64_t) (int64_t) d, valid[d + 1]) < 0)
                        return -EIO;
        for (unsigned v = 0;; v++) {
                snprintf(out, DIGITS + 1, "%0*u", DIGITS, v);
                if (strcmp(out, valid[0]) && strcmp(out, valid[1]) && strcmp(out, valid[2]))
                        return 0;
        }
}

/* Untimed: a new secret for the stack's module and the current code for it. */
static int prepare(int stack, attempt *a, char *err, size_t err_size) {
        int64_t now = (int64_t) time(NULL);
        int r;

        *a = (attempt){.step = (uint64_t) now / PERIOD};
        if (stack == ST_BASE)
                return 0;
        if (stack == ST_TG) {
                tg_mfa_user u = {0};
                r = tg_mfa_enroll(&u, user, now);
                if (r == 0 && (u.params.algorithm != TG_OTP_SHA1 || u.params.digits != DIGITS ||
                               u.params.period != PERIOD || u.params.window != 1 || u.secret_len != SECRET_BYTES))
                        r = -EPROTO; /* the enrollment defaults changed: the comparison would be unfair */
                if (r == 0)
                        r = tg_mfa_save(mfa_dfd, &u);
                if (r == 0) {
                        memcpy(a->key, u.secret, SECRET_BYTES);
                        r = code_at(a->key, a->step, a->code);
                }
                explicit_bzero(&u, sizeof(u));
                if (r < 0)
                        snprintf(err, err_size, "termguard state: %s", strerror(-r));
                return r;
        }
        char line[TG_MFA_USER_MAX + 32 + 2 * SECRET_BYTES + 1], hex[2 * SECRET_BYTES + 1];
        if (getrandom(a->key, sizeof(a->key), 0) != (ssize_t) sizeof(a->key)) {
                snprintf(err, err_size, "getrandom failed");
                return -EIO;
        }
        oath_bin2hex((const char *) a->key, sizeof(a->key), hex);
        snprintf(line, sizeof(line), "HOTP/T%u %s - %s\n", PERIOD, user, hex);
        r = write_text(usersfile, 0600, line);
        if (r == 0)
                r = code_at(a->key, a->step, a->code);
        if (r < 0)
                snprintf(err, err_size, "%s: %s", usersfile, strerror(-r));
        explicit_bzero(line, sizeof(line));
        return r;
}

/* Untimed, after a run: did it succeed, and did the module record the code? */
static void check(int stack, const attempt *a, record *rec) {
        char err[512] = "";
        rec->ok = false;
        if (rec->rc != PAM_SUCCESS) {
                snprintf(rec->why, sizeof(rec->why), "%s (message: \"%s\")", pam_strerror(NULL, rec->rc), rec->msg);
                return;
        }
        if (rec->prompts != expected_prompts[stack]) {
                snprintf(rec->why, sizeof(rec->why), "%d prompts, expected %d", rec->prompts, expected_prompts[stack]);
                return;
        }
        if (stack == ST_TG) {
                tg_mfa_user u;
                int r = tg_mfa_load(mfa_dfd, user, &u, err, sizeof(err));
                if (r < 0) {
                        snprintf(rec->why, sizeof(rec->why), "state unreadable after the run: %s", err);
                        return;
                }
                /* The code was for a->step; the module may have run one step later. */
                bool recorded = u.last_step + 1 >= a->step && u.last_step <= a->step + 1 && u.failures == 0;
                uint64_t last = u.last_step;
                explicit_bzero(&u, sizeof(u));
                if (!recorded) {
                        snprintf(rec->why, sizeof(rec->why),
                                 "state not updated (last_step %" PRIu64 ", step %" PRIu64 ")", last, a->step);
                        return;
                }
        } else if (stack == ST_OATH) {
                /* pam_oath rewrites the line as: TYPE USER PASSWORD SECRET COUNTER LAST-OTP TIME */
                char buf[512], *save = NULL, *f[8] = {0};
                int fd = open(usersfile, O_RDONLY | O_CLOEXEC), nf = 0;
                ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof(buf) - 1);
                if (fd >= 0)
                        close(fd);
                if (n < 0) {
                        snprintf(rec->why, sizeof(rec->why), "usersfile unreadable after the run");
                        return;
                }
                buf[n] = '\0';
                for (char *t = strtok_r(buf, " \t\n", &save); t && nf < 8; t = strtok_r(NULL, " \t\n", &save))
                        f[nf++] = t;
                bool recorded = nf >= 6 && strcmp(f[1], user) == 0 && strcmp(f[5], a->code) == 0;
                explicit_bzero(buf, sizeof(buf));
                if (!recorded) {
                        snprintf(rec->why, sizeof(rec->why), "usersfile does not record the code");
                        return;
                }
        }
        rec->ok = true;
}

/* The timed part. */
static void authenticate(int stack, const char *code, record *rec) {
        struct pam_conv c = {.conv = conv};
        pam_handle_t *h = NULL;
        int64_t t0, c0;
        int r;

        answer = code;
        prompts = 0;
        last_msg[0] = '\0';
        c0 = cpu_ns();
        t0 = now_ns();
        r = pam_start_confdir(service[stack], user, &c, pamdir, &h);
        if (r == PAM_SUCCESS) {
                r = pam_set_item(h, PAM_TTY, "pts/0");
                if (r == PAM_SUCCESS)
                        r = pam_authenticate(h, 0);
                int e = pam_end(h, r);
                if (r == PAM_SUCCESS)
                        r = e;
        }
        rec->ns = now_ns() - t0;
        rec->cpu_ns = cpu_ns() - c0;
        rec->rc = r;
        rec->prompts = prompts;
        memcpy(rec->msg, last_msg, sizeof(rec->msg));
}

static int write_full(int fd, const void *p, size_t len) {
        for (size_t off = 0; off < len;) {
                ssize_t k = write(fd, (const char *) p + off, len - off);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k <= 0)
                        return -1;
                off += (size_t) k;
        }
        return 0;
}

static int read_full(int fd, void *p, size_t len) {
        for (size_t off = 0; off < len;) {
                ssize_t k = read(fd, (char *) p + off, len - off);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k <= 0)
                        return -1;
                off += (size_t) k;
        }
        return 0;
}

static int reap(pid_t pid) {
        int status;
        while (waitpid(pid, &status, 0) < 0)
                if (errno != EINTR)
                        return -1;
        return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

/* One authentication in a new child process; the parent prepared the attempt. */
static int run_fresh(int stack, const attempt *a, record *rec) {
        int fds[2];
        pid_t pid;

        if (pipe2(fds, O_CLOEXEC) < 0)
                return -1;
        fflush(NULL);
        pid = fork();
        if (pid < 0) {
                close(fds[0]);
                close(fds[1]);
                return -1;
        }
        if (pid == 0) {
                struct rusage ru;
                record x = {0};
                close(fds[0]);
                authenticate(stack, a->code, &x);
                x.maxrss_kib = getrusage(RUSAGE_SELF, &ru) == 0 ? ru.ru_maxrss : -1;
                _exit(write_full(fds[1], &x, sizeof(x)) < 0 ? 1 : 0);
        }
        close(fds[1]);
        int r = read_full(fds[0], rec, sizeof(*rec));
        close(fds[0]);
        if (reap(pid) < 0 || r < 0)
                return -1;
        check(stack, a, rec);
        return 0;
}

static void note_failure(int stack, const char *mode, series *s, const record *rec) {
        if (s->failures++ < MAX_FAIL_SHOWN)
                fprintf(stderr, "pam-bench: FAILED %s, %s: %s\n", stack_label[stack], mode, rec->why);
}

static int cmp_i64(const void *a, const void *b) {
        int64_t x = *(const int64_t *) a, y = *(const int64_t *) b;
        return (x > y) - (x < y);
}
static int cmp_long(const void *a, const void *b) {
        long x = *(const long *) a, y = *(const long *) b;
        return (x > y) - (x < y);
}

/* Fresh-process mode: the stacks take turns (rotating order), one child per authentication. */
static int measure_fresh(size_t n, series s[ST_N]) {
        long *rss[ST_N];
        int ret = 0;

        for (int st = 0; st < ST_N; st++) {
                s[st] = (series){.ns = calloc(n, sizeof(int64_t)), .cpu = calloc(n, sizeof(int64_t))};
                rss[st] = calloc(n, sizeof(long));
                if (!s[st].ns || !s[st].cpu || !rss[st])
                        return -ENOMEM;
        }
        for (size_t i = 0; i <= n && ret == 0; i++) /* i == 0: one warm-up run per stack */
                for (int k = 0; k < ST_N; k++) {
                        int st = (int) ((i + (size_t) k) % ST_N);
                        char err[512];
                        attempt a;
                        record rec = {0};
                        if (prepare(st, &a, err, sizeof(err)) < 0) {
                                fprintf(stderr, "pam-bench: %s\n", err);
                                ret = -1;
                                break;
                        }
                        if (run_fresh(st, &a, &rec) < 0) {
                                fprintf(stderr, "pam-bench: the child for %s died\n", stack_label[st]);
                                ret = -1;
                                break;
                        }
                        if (!rec.ok)
                                note_failure(st, "fresh process", &s[st], &rec);
                        else if (i > 0) {
                                s[st].ns[s[st].n] = rec.ns;
                                s[st].cpu[s[st].n] = rec.cpu_ns;
                                rss[st][s[st].n++] = rec.maxrss_kib;
                        }
                }
        for (int st = 0; st < ST_N; st++) {
                if (s[st].n) {
                        qsort(rss[st], s[st].n, sizeof(long), cmp_long);
                        s[st].maxrss_kib = rss[st][s[st].n / 2];
                }
                free(rss[st]);
        }
        return ret;
}

/* Same-process mode: one child runs warmup + n authentications of one stack and reports each. */
static int measure_same(int stack, size_t n, size_t warmup, series *s) {
        int fds[2];
        pid_t pid;

        *s = (series){.ns = calloc(n, sizeof(int64_t)), .cpu = calloc(n, sizeof(int64_t))};
        if (!s->ns || !s->cpu || pipe2(fds, O_CLOEXEC) < 0)
                return -1;
        fflush(NULL);
        pid = fork();
        if (pid < 0) {
                close(fds[0]);
                close(fds[1]);
                return -1;
        }
        if (pid == 0) {
                close(fds[0]);
                for (size_t i = 0; i < warmup + n; i++) {
                        record rec = {0};
                        attempt a;
                        if (prepare(stack, &a, rec.why, sizeof(rec.why)) < 0) {
                                fprintf(stderr, "pam-bench: %s\n", rec.why);
                                _exit(1);
                        }
                        authenticate(stack, a.code, &rec);
                        check(stack, &a, &rec);
                        if (write_full(fds[1], &rec, sizeof(rec)) < 0)
                                _exit(1);
                }
                _exit(0);
        }
        close(fds[1]);
        size_t got = 0;
        for (record rec; got < warmup + n && read_full(fds[0], &rec, sizeof(rec)) == 0; got++) {
                if (!rec.ok)
                        note_failure(stack, "same process", s, &rec);
                else if (got >= warmup) {
                        s->cpu[s->n] = rec.cpu_ns;
                        s->ns[s->n++] = rec.ns;
                }
        }
        close(fds[0]);
        if (reap(pid) < 0 || got < warmup + n) {
                fprintf(stderr, "pam-bench: the same-process child for %s stopped after %zu runs\n", stack_label[stack],
                        got);
                return -1;
        }
        return 0;
}

/* A wrong code must be refused after one prompt: proves that success depends on the code. */
static int control_wrong_code(int stack) {
        char err[512];
        attempt a;
        record rec = {0};

        if (prepare(stack, &a, err, sizeof(err)) < 0) {
                fprintf(stderr, "pam-bench: %s\n", err);
                return -1;
        }
        if (wrong_code(a.key, a.step, a.code) < 0 || run_fresh(stack, &a, &rec) < 0) {
                fprintf(stderr, "pam-bench: control run for %s could not run\n", stack_label[stack]);
                return -1;
        }
        if (rec.rc == PAM_SUCCESS || rec.prompts != 1) {
                fprintf(stderr, "pam-bench: control FAILED: %s with a wrong code returned %s after %d prompts\n",
                        stack_label[stack], pam_strerror(NULL, rec.rc), rec.prompts);
                return -1;
        }
        return 0;
}

/* ---- library level ------------------------------------------------------------------- */

typedef enum { LIB_TG, LIB_OATH } lib_kind;

/* Verifications per second of one library for one code, each result checked. */
static double lib_rate(lib_kind lib, const uint8_t *key, time_t now, const char *code, bool valid, double seconds,
                       uint64_t *bad) {
        const tg_totp_params p = {.algorithm = TG_OTP_SHA1, .digits = DIGITS, .period = PERIOD, .window = 1};
        int64_t t0 = now_ns(), limit = (int64_t) (seconds * 1e9), t = 0;
        uint64_t count = 0;

        do {
                for (int i = 0; i < 256; i++) {
                        bool accepted;
                        if (lib == LIB_TG) {
                                uint64_t step;
                                int r = tg_totp_verify(&p, key, SECRET_BYTES, (int64_t) now, code, 0, &step);
                                accepted = r == 0;
                                if (r != 0 && r != -EACCES)
                                        (*bad)++;
                        } else {
                                int r = oath_totp_validate((const char *) key, SECRET_BYTES, now, PERIOD, 0, 1, code);
                                accepted = r >= 0;
                                if (r < 0 && r != OATH_INVALID_OTP)
                                        (*bad)++;
                        }
                        if (accepted != valid)
                                (*bad)++;
                }
                count += 256;
                t = now_ns() - t0;
        } while (t < limit);
        return (double) count * 1e9 / (double) t;
}

/* Both libraries must agree on codes and on the window (steps -1..+1, not +-2). */
static int lib_agree(const uint8_t *key, time_t now) {
        const tg_totp_params p = {.algorithm = TG_OTP_SHA1, .digits = DIGITS, .period = PERIOD, .window = 1};
        uint64_t step = (uint64_t) now / PERIOD;
        char mine[DIGITS + 1], theirs[DIGITS + 1];

        if (code_at(key, step, mine) < 0 ||
            oath_totp_generate((const char *) key, SECRET_BYTES, now, PERIOD, 0, DIGITS, theirs) != OATH_OK ||
            strcmp(mine, theirs) != 0)
                return -1;
        for (int d = -2; d <= 2; d++) {
                char c[DIGITS + 1];
                uint64_t got;
                if (code_at(key, step + (uint64_t) (int64_t) d, c) < 0)
                        return -1;
                bool want = d >= -1 && d <= 1;
                bool tg = tg_totp_verify(&p, key, SECRET_BYTES, (int64_t) now, c, 0, &got) == 0;
                bool oa = oath_totp_validate((const char *) key, SECRET_BYTES, now, PERIOD, 0, 1, c) >= 0;
                if (tg != want || oa != want)
                        return -1;
        }
        return 0;
}

static int lib_bench(double seconds) {
        uint8_t key[SECRET_BYTES];
        time_t now = time(NULL); /* fixed for the whole loop: same candidates every time */
        char good[DIGITS + 1], bad_code[DIGITS + 1];
        double rate[2][2];
        uint64_t bad = 0;

        if (getrandom(key, sizeof(key), 0) != (ssize_t) sizeof(key) || oath_init() != OATH_OK)
                return -1;
        if (lib_agree(key, now) < 0) {
                fprintf(stderr, "pam-bench: termguard and liboath disagree on codes or on the window\n");
                return -1;
        }
        if (code_at(key, (uint64_t) now / PERIOD, good) < 0 || wrong_code(key, (uint64_t) now / PERIOD, bad_code) < 0)
                return -1;
        for (int lib = LIB_TG; lib <= LIB_OATH; lib++) {
                rate[lib][0] = lib_rate((lib_kind) lib, key, now, good, true, seconds, &bad);
                rate[lib][1] = lib_rate((lib_kind) lib, key, now, bad_code, false, seconds, &bad);
        }
        (void) oath_done();
        printf("\nTOTP verifications per second, library level (HMAC-SHA-1, %d digits, %d s, window +-1 step,\n"
               "same secret and time; each loop %.1f s; every result checked)\n\n",
               DIGITS, PERIOD, seconds);
        printf("%-44s %14s %14s\n", "function", "current code", "wrong code");
        printf("%-44s %14.0f %14.0f\n", "termguard  tg_totp_verify", rate[LIB_TG][0], rate[LIB_TG][1]);
        printf("%-44s %14.0f %14.0f\n", "liboath    oath_totp_validate", rate[LIB_OATH][0], rate[LIB_OATH][1]);
        if (bad) {
                fprintf(stderr, "pam-bench: FAILED: %" PRIu64 " library verifications gave a wrong result\n", bad);
                return -1;
        }
        return 0;
}

/* ---- setup, report ------------------------------------------------------------------- */

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
        (void) st;
        (void) ftw;
        return (flag == FTW_DP ? rmdir(path) : unlink(path)) < 0 ? -1 : 0;
}

static void cleanup(void) {
        if (getpid() != main_pid || !root[0])
                return;
        if (mfa_dfd >= 0)
                close(mfa_dfd);
        if (nftw(root, rm_entry, 16, FTW_DEPTH | FTW_PHYS) < 0)
                fprintf(stderr, "pam-bench: could not remove %s\n", root);
}

static const char *fs_name(const char *path) {
        static const struct {
                unsigned long magic;
                const char *name;
        } fs[] = {{0xEF53, "ext4"},          {0x01021994, "tmpfs"}, {0x58465342, "xfs"}, {0x9123683E, "btrfs"},
                  {0x794C7630, "overlayfs"}, {0x2FC12FC1, "zfs"},   {0xF2F52010, "f2fs"}};
        struct statfs sf;
        if (statfs(path, &sf) < 0)
                return "?";
        for (size_t i = 0; i < sizeof(fs) / sizeof(fs[0]); i++)
                if ((unsigned long) sf.f_type == fs[i].magic)
                        return fs[i].name;
        return "other";
}

/* Libraries of the modules that should not be in this process before a module loads them.
 * Returns how many are (a warning, not an error). */
static int check_clean_process(void) {
        static const char *const libs[] = {"libcrypto.so",  "libjson-c.so", "liboath.so", "libcrypt.so",
                                           "libsystemd.so", "libgcrypt.so", "libinih.so"};
        bool seen[sizeof(libs) / sizeof(libs[0])] = {false};
        char line[1024];
        int found = 0;
        FILE *f = fopen("/proc/self/maps", "re");
        if (!f)
                return -1;
        while (fgets(line, sizeof(line), f))
                for (size_t i = 0; i < sizeof(libs) / sizeof(libs[0]); i++)
                        if (!seen[i] && strstr(line, libs[i])) {
                                seen[i] = true;
                                found++;
                        }
        fclose(f);
        if (!found)
                return 0;
        fprintf(stderr, "pam-bench: warning: already loaded in the bench process:");
        for (size_t i = 0; i < sizeof(libs) / sizeof(libs[0]); i++)
                if (seen[i])
                        fprintf(stderr, " %s", libs[i]);
        fprintf(stderr, "\npam-bench: warning: the times do not include loading them (pam.sh links the bench "
                        "statically against them)\n");
        return found;
}

static int setup(const char *dir, const char *tg_module, const char *oath_module) {
        char path[400], text[1024], err[256];
        int r;

        snprintf(root, sizeof(root), "%s/tg-pam-bench.XXXXXX", dir);
        if (!mkdtemp(root)) {
                fprintf(stderr, "pam-bench: mkdtemp in %s: %s\n", dir, strerror(errno));
                root[0] = '\0';
                return -1;
        }
        snprintf(confdir, sizeof(confdir), "%s/conf", root);
        snprintf(statedir, sizeof(statedir), "%s/state", root);
        snprintf(pamdir, sizeof(pamdir), "%s/pam.d", root);
        snprintf(usersfile, sizeof(usersfile), "%s/oath/users.oath", root);
        snprintf(path, sizeof(path), "%s/oath", root);
        if (mkdir(confdir, 0755) < 0 || mkdir(statedir, 0700) < 0 || mkdir(pamdir, 0755) < 0 || mkdir(path, 0700) < 0) {
                fprintf(stderr, "pam-bench: mkdir below %s: %s\n", root, strerror(errno));
                return -1;
        }
        /* The user is listed: termguard requires the second factor whatever his groups. */
        snprintf(path, sizeof(path), "%s/termguard.conf", confdir);
        snprintf(text, sizeof(text), "[Daemon]\nStateDirectory=%s\n[MFA]\nRequireUsers=%s\n", statedir, user);
        if ((r = write_text(path, 0644, text)) < 0)
                goto fail;
        snprintf(path, sizeof(path), "%s/%s", pamdir, service[ST_BASE]);
        if ((r = write_text(path, 0644, "auth required pam_permit.so\n")) < 0)
                goto fail;
        snprintf(path, sizeof(path), "%s/%s", pamdir, service[ST_TG]);
        snprintf(text, sizeof(text), "auth required %s config=%s\nauth required pam_permit.so\n", tg_module, confdir);
        if ((r = write_text(path, 0644, text)) < 0)
                goto fail;
        snprintf(path, sizeof(path), "%s/%s", pamdir, service[ST_OATH]);
        snprintf(text, sizeof(text), "auth required %s usersfile=%s window=1 digits=%d\nauth required pam_permit.so\n",
                 oath_module, usersfile, DIGITS);
        if ((r = write_text(path, 0644, text)) < 0)
                goto fail;
        mfa_dfd = tg_mfa_open_dir(statedir, true, err, sizeof(err));
        if (mfa_dfd < 0) {
                fprintf(stderr, "pam-bench: %s\n", err);
                return -1;
        }
        return 0;
fail:
        fprintf(stderr, "pam-bench: %s: %s\n", path, strerror(-r));
        return -1;
}

static double median_us(const series *s) {
        if (!s->n)
                return 0;
        return (s->n % 2 ? (double) s->ns[s->n / 2] : ((double) s->ns[s->n / 2 - 1] + (double) s->ns[s->n / 2]) / 2) /
               1e3;
}
static double p95_us(const series *s) {
        if (!s->n)
                return 0;
        size_t rank = (s->n * 95 + 99) / 100; /* nearest rank */
        return (double) s->ns[rank - 1] / 1e3;
}

static void print_cell(const series *s, const series *base, bool is_base) {
        if (!s->n) {
                printf(" %8s %8s %8s", "n/a", "n/a", "");
                return;
        }
        printf(" %8.0f %8.0f", median_us(s), p95_us(s));
        if (is_base || !base->n)
                printf(" %8s", "");
        else
                printf(" %+8.0f", median_us(s) - median_us(base));
}

static void usage(void) {
        fprintf(stderr, "usage: pam-bench --termguard PAM_TERMGUARD_SO --oath PAM_OATH_SO [-n N] [--seconds S] "
                        "[--dir DIR] [--user NAME]\n");
        exit(2);
}

int main(int argc, char **argv) {
        static const struct option opts[] = {{"termguard", required_argument, NULL, 't'},
                                             {"oath", required_argument, NULL, 'o'},
                                             {"seconds", required_argument, NULL, 's'},
                                             {"dir", required_argument, NULL, 'd'},
                                             {"user", required_argument, NULL, 'u'},
                                             {"help", no_argument, NULL, 'h'},
                                             {NULL, 0, NULL, 0}};
        const char *tg_module = NULL, *oath_module = NULL, *dir = "/var/tmp";
        size_t n = 200, warmup = 3;
        double seconds = 1.5;
        series fresh[ST_N] = {0}, same[ST_N] = {0};
        unsigned failures = 0;
        int c, ret = 0;

        while ((c = getopt_long(argc, argv, "n:h", opts, NULL)) != -1) {
                char *end;
                switch (c) {
                case 't': tg_module = optarg; break;
                case 'o': oath_module = optarg; break;
                case 'd': dir = optarg; break;
                case 'u': user = optarg; break;
                case 'n':
                        errno = 0;
                        n = strtoul(optarg, &end, 10);
                        if (errno || *end || optarg[0] == '-' || n < 1 || n > 100000)
                                usage();
                        break;
                case 's':
                        seconds = strtod(optarg, &end);
                        if (*end || !(seconds >= 0.1 && seconds <= 60))
                                usage();
                        break;
                default: usage();
                }
        }
        if (optind != argc || !tg_module || !oath_module || tg_module[0] != '/' || oath_module[0] != '/')
                usage();
        if (access(tg_module, R_OK) < 0 || access(oath_module, R_OK) < 0) {
                fprintf(stderr, "pam-bench: %s: %s\n", access(tg_module, R_OK) < 0 ? tg_module : oath_module,
                        strerror(errno));
                return 2;
        }
        if (!tg_mfa_valid_user(user) || !getpwnam(user)) {
                fprintf(stderr, "pam-bench: --user %s: not an account of this system\n", user);
                return 2;
        }
        if (geteuid() != 0) {
                fprintf(stderr, "pam-bench: must run as root (the MFA state must be root-owned)\n");
                return 2;
        }
        main_pid = getpid();
        umask(022);
        if (atexit(cleanup) != 0 || setup(dir, tg_module, oath_module) < 0)
                return 1;
        (void) check_clean_process();

        if (control_wrong_code(ST_TG) < 0 || control_wrong_code(ST_OATH) < 0)
                return 1;
        if (measure_fresh(n, fresh) < 0)
                return 1;
        for (int st = 0; st < ST_N; st++)
                if (measure_same(st, n, warmup, &same[st]) < 0)
                        return 1;
        for (int st = 0; st < ST_N; st++) {
                qsort(fresh[st].ns, fresh[st].n, sizeof(int64_t), cmp_i64);
                qsort(same[st].ns, same[st].n, sizeof(int64_t), cmp_i64);
                qsort(fresh[st].cpu, fresh[st].n, sizeof(int64_t), cmp_i64);
                qsort(same[st].cpu, same[st].n, sizeof(int64_t), cmp_i64);
                failures += fresh[st].failures + same[st].failures;
        }

        printf("PAM authentication, pam_start_confdir..pam_authenticate..pam_end, microseconds\n"
               "(%zu authentications per stack and mode; user %s; state and usersfile in %s (%s))\n\n",
               n, user, root, fs_name(root));
        printf("%-28s %-26s   %-26s   %s\n", "", "fresh process (1 auth)", "same process (repeated)", "peak RSS KiB");
        printf("%-28s %8s %8s %8s   %8s %8s %8s   %s\n", "stack", "median", "p95", "added", "median", "p95", "added",
               "(fresh, +base)");
        for (int st = 0; st < ST_N; st++) {
                printf("%-28s", stack_label[st]);
                print_cell(&fresh[st], &fresh[ST_BASE], st == ST_BASE);
                printf("  ");
                print_cell(&same[st], &same[ST_BASE], st == ST_BASE);
                if (!fresh[st].n)
                        printf("   n/a\n");
                else if (st == ST_BASE || !fresh[ST_BASE].n)
                        printf("   %ld\n", fresh[st].maxrss_kib);
                else
                        printf("   %ld (%+ld)\n", fresh[st].maxrss_kib,
                               fresh[st].maxrss_kib - fresh[ST_BASE].maxrss_kib);
        }
        printf("\nCPU time (user + system) of the same interval, microseconds: what the stack costs\n"
               "without the waits for a CPU that other processes hold\n\n");
        printf("%-28s %-26s   %-26s\n", "", "fresh process (1 auth)", "same process (repeated)");
        printf("%-28s %8s %8s %8s   %8s %8s %8s\n", "stack", "median", "p95", "added", "median", "p95", "added");
        for (int st = 0; st < ST_N; st++) {
                series f = {.ns = fresh[st].cpu, .n = fresh[st].n},
                       fb = {.ns = fresh[ST_BASE].cpu, .n = fresh[ST_BASE].n};
                series m = {.ns = same[st].cpu, .n = same[st].n}, mb = {.ns = same[ST_BASE].cpu, .n = same[ST_BASE].n};
                printf("%-28s", stack_label[st]);
                print_cell(&f, &fb, st == ST_BASE);
                printf("  ");
                print_cell(&m, &mb, st == ST_BASE);
                printf("\n");
        }
        printf("\nadded = median of the stack - median of the baseline in the same mode\n");
        for (int st = 0; st < ST_N; st++)
                printf("%-28s fresh: %zu ok, %u failed; same: %zu ok, %u failed\n", stack_label[st], fresh[st].n,
                       fresh[st].failures, same[st].n, same[st].failures);
        fflush(stdout);

        if (lib_bench(seconds) < 0)
                ret = 1;
        for (int st = 0; st < ST_N; st++) {
                free(fresh[st].ns);
                free(same[st].ns);
                free(fresh[st].cpu);
                free(same[st].cpu);
        }
        if (failures) {
                fprintf(stderr,
                        "pam-bench: FAILED: %u authentications did not succeed; the figures above leave them out\n",
                        failures);
                ret = 1;
        }
        return ret;
}
