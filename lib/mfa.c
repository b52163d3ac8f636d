/* SPDX-License-Identifier: GPL-2.0-or-later */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <crypt.h>
#include <json-c/json.h>
#include <json-c/printbuf.h>

#include "termguard/account.h"
#include "termguard/fileio.h"
#include "termguard/hex.h"
#include "termguard/json-util.h"
#include "termguard/macro.h"
#include "termguard/mfa.h"

#define STATE_FILE_MAX (64 * 1024)
/* 2: recovery codes as yescrypt hashes, a salt each. 1 (or no version): one SHA-256 with one
 * salt for all ten codes; read, but those codes are no longer accepted. */
#define STATE_VERSION 2
/* yescrypt's cost for recovery codes: 1, about 12 ms a hash here, where pam_unix's passwords
 * get 5 (about 260 ms). A code carries 50 random bits, which no cost factor needs to make up
 * for, and a recovery-code answer is checked against up to ten hashes under the user's lock. */
#define RECOVERY_HASH_COST 1

void tg_mfa_user_wipe(tg_mfa_user *u) {
        explicit_bzero(u, sizeof(*u));
}

bool tg_mfa_valid_user(const char *user) {
        size_t n;
        if (!user || !*user || user[0] == '.' || user[0] == '-')
                return false;
        n = strlen(user);
        if (n > TG_MFA_USER_MAX)
                return false;
        for (size_t i = 0; i < n; i++) {
                char c = user[i];
                if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
                      c == '.' || c == '@' || c == '-'))
                        return false;
        }
        return true;
}

static int check_owner_mode(const struct stat *st, mode_t type, mode_t mode) {
        if ((st->st_mode & S_IFMT) != type)
                return -EPERM;
        if (st->st_uid != 0 || st->st_gid != 0)
                return -EPERM;
        if ((st->st_mode & 07777) != mode)
                return -EPERM;
        return 0;
}

int tg_mfa_open_dir(const char *state_dir, bool create, char *err, size_t err_size) {
        return tg_open_root_only_dir(state_dir, "mfa", create, err, err_size);
}

int tg_mfa_lock_user(int dirfd, const char *user) {
        char name[TG_MFA_USER_MAX + 8];
        _cleanup_close_ int fd = -EBADF;
        struct stat st;
        if (!tg_mfa_valid_user(user))
                return -EINVAL;
        snprintf(name, sizeof(name), "%s.lock", user);
        fd = openat(dirfd, name, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd < 0)
                return -errno;
        /* root:root 0600 like every file here, whatever the caller's group (su keeps the
         * user's) and umask. The file holds nothing, so one left with the caller's group by an
         * earlier version is set right rather than refused. */
        if (fstat(fd, &st) < 0)
                return -errno;
        if (!S_ISREG(st.st_mode))
                return -EPERM;
        if (check_owner_mode(&st, S_IFREG, 0600) < 0 && (fchown(fd, 0, 0) < 0 || fchmod(fd, 0600) < 0))
                return -errno;
        /* Asked again and again rather than waited for: a blocking flock could be cut short
         * only by a signal, and a PAM module must not take signals of the application it runs
         * in. Short pauses at first (the usual holder is done within milliseconds). */
        struct timespec start, t;
        if (clock_gettime(CLOCK_MONOTONIC, &start) < 0)
                return -errno;
        for (long pause_ms = 1;; pause_ms = pause_ms < 100 ? pause_ms * 2 : 100) {
                if (flock(fd, LOCK_EX | LOCK_NB) == 0)
                        return TAKE_FD(fd);
                if (errno != EWOULDBLOCK && errno != EINTR)
                        return -errno;
                if (clock_gettime(CLOCK_MONOTONIC, &t) < 0)
                        return -errno;
                if (t.tv_sec - start.tv_sec > TG_MFA_LOCK_WAIT_SECONDS ||
                    (t.tv_sec - start.tv_sec == TG_MFA_LOCK_WAIT_SECONDS && t.tv_nsec >= start.tv_nsec))
                        return -EBUSY;
                (void) nanosleep(&(struct timespec){.tv_nsec = pause_ms * 1000 * 1000}, NULL);
        }
}

static const char *alg_name(tg_otp_algorithm a) {
        return a == TG_OTP_SHA256 ? "SHA256" : a == TG_OTP_SHA512 ? "SHA512" : "SHA1";
}

/* The parsed state holds the secret in json-c's own buffers: wiped before they are freed. */
static void state_json_freep(json_object **o) {
        tg_json_wipe_string(*o, "secret");
        json_object_put(*o);
}

static void wipe_state_text(char (*buf)[STATE_FILE_MAX + 1]) {
        explicit_bzero(*buf, sizeof(*buf));
}

static void wipe_hex_secret(char (*hex)[2 * TG_OTP_KEY_MAX + 1]) {
        explicit_bzero(*hex, sizeof(*hex));
}

/* Parses the len bytes of text, which hold the secret. json-c collects every string in its
 * tokener's buffer, which would grow by realloc (leaving what it held in freed memory) and is
 * freed as it is: it is grown to the whole text before parsing, so it never moves, and wiped
 * before it is freed, as is any object of an unfinished parse (a truncated file). */
static json_object *parse_secret_json(const char *text, size_t len) {
        struct json_tokener *tok = len < STATE_FILE_MAX + 1 ? json_tokener_new_ex(JSON_TOKENER_DEFAULT_DEPTH) : NULL;
        json_object *o = NULL;
        if (!tok)
                return NULL;
        if (printbuf_memset(tok->pb, 0, 0, (int) len + 1) == 0) {
                printbuf_reset(tok->pb);
                o = json_tokener_parse_ex(tok, text, (int) len);
                if (o &&
                    (json_tokener_get_error(tok) != json_tokener_success || json_tokener_get_parse_end(tok) != len)) {
                        state_json_freep(&o);
                        o = NULL;
                }
        }
        for (int i = 0; i <= tok->depth && i < JSON_TOKENER_DEFAULT_DEPTH; i++) {
                json_object *c = tok->stack[i].current;
                if (json_object_is_type(c, json_type_string))
                        explicit_bzero((char *) json_object_get_string(c), (size_t) json_object_get_string_len(c));
                else
                        tg_json_wipe_string(c, "secret");
        }
        explicit_bzero(tok->pb->buf, (size_t) tok->pb->size);
        json_tokener_free(tok);
        return o;
}

/* A recovery-code hash as crypt(3) writes it for yescrypt: "$y$" and crypt's alphabet. */
static bool valid_recovery_hash(const char *h) {
        size_t n = strlen(h);
        return n > 3 && n < TG_MFA_RECOVERY_HASH_MAX && strncmp(h, "$y$", 3) == 0 &&
               strspn(h, "$./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz") == n;
}

int tg_mfa_load(int dirfd, const char *user, tg_mfa_user *ret, char *err, size_t err_size) {
        _cleanup_close_ int fd = -EBADF;
        _cleanup_(wipe_state_text) char buf[STATE_FILE_MAX + 1];
        _cleanup_(wipe_hex_secret) char hex[2 * TG_OTP_KEY_MAX + 1];
        _cleanup_(tg_mfa_user_wipe) tg_mfa_user u = {0};
        _cleanup_(state_json_freep) json_object *o = NULL;
        char name[TG_MFA_USER_MAX + 8], alg[8] = "";
        struct stat st;
        json_object *arr;
        int64_t x = 0;
        ssize_t n;
        int r = 0;

        if (!tg_mfa_valid_user(user))
                return -EINVAL;
        snprintf(name, sizeof(name), "%s.json", user);
        fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0) {
                r = -errno;
                if (r != -ENOENT)
                        snprintf(err, err_size, "%s: %s", name, strerror(errno));
                return r == -ELOOP ? -EPERM : r;
        }
        if (fstat(fd, &st) < 0 || check_owner_mode(&st, S_IFREG, 0600) < 0) {
                snprintf(err, err_size, "%s: must be a regular file owned by root:root with mode 0600", name);
                return -EPERM;
        }
        n = tg_read_full(fd, buf, sizeof(buf));
        if (n < 0 || n > STATE_FILE_MAX) {
                snprintf(err, err_size, "%s: unreadable or too large", name);
                return n < 0 ? (int) n : -EBADMSG;
        }
        buf[n] = '\0';
        o = parse_secret_json(buf, (size_t) n);
        if (!o || !json_object_is_type(o, json_type_object)) {
                snprintf(err, err_size, "%s: not valid JSON", name);
                return -EBADMSG;
        }
        if (tg_json_get_string(o, "user", TG_JSON_OPTIONAL, u.user, sizeof(u.user), NULL, 0) < 0 ||
            strcmp(u.user, user) != 0)
                r = -EBADMSG;
        int64_t version = 1;
        if (r == 0 && tg_json_get_int64(o, "version", TG_JSON_OPTIONAL, 0, STATE_VERSION, &version, NULL, 0) < 0)
                r = -EBADMSG;
        if (r == 0 && tg_json_get_string(o, "secret", TG_JSON_OPTIONAL, hex, sizeof(hex), NULL, 0) < 0)
                r = -EBADMSG;
        if (r == 0 && hex[0]) {
                u.enrolled = true;
                if (tg_hex_decode(hex, u.secret, sizeof(u.secret), &u.secret_len) < 0 || u.secret_len < 16)
                        r = -EBADMSG;
        }
        if (r == 0 && tg_json_get_string(o, "algorithm", TG_JSON_OPTIONAL, alg, sizeof(alg), NULL, 0) < 0)
                r = -EBADMSG;
        u.params.algorithm = strcmp(alg, "SHA256") == 0   ? TG_OTP_SHA256
                             : strcmp(alg, "SHA512") == 0 ? TG_OTP_SHA512
                                                          : TG_OTP_SHA1;
        if (r == 0 && u.enrolled && strcmp(alg, alg_name(u.params.algorithm)) != 0)
                r = -EBADMSG;
        /* Without a factor (counters only) the parameters are 0. */
        if (r == 0 &&
            (tg_json_get_int64(o, "digits", TG_JSON_OPTIONAL, 0, 8, &x, NULL, 0) < 0 || (u.enrolled ? x < 6 : x != 0)))
                r = -EBADMSG;
        u.params.digits = (unsigned) x;
        if (r == 0 && (tg_json_get_int64(o, "period", TG_JSON_OPTIONAL, 0, 120, &x, NULL, 0) < 0 ||
                       (u.enrolled ? x < 10 : x != 0)))
                r = -EBADMSG;
        u.params.period = (unsigned) x;
        if (r == 0 && tg_json_get_int64(o, "window", TG_JSON_OPTIONAL, 0, 3, &x, NULL, 0) < 0)
                r = -EBADMSG;
        u.params.window = (unsigned) x;
        if (r == 0 && tg_json_get_int64(o, "last_step", TG_JSON_OPTIONAL, 0, INT64_MAX, &x, NULL, 0) < 0)
                r = -EBADMSG;
        u.last_step = (uint64_t) x;
        if (r == 0 &&
            (tg_json_get_int64(o, "enrolled_at", TG_JSON_OPTIONAL, 0, INT64_MAX, &u.enrolled_at, NULL, 0) < 0 ||
             tg_json_get_int64(o, "locked_until", TG_JSON_OPTIONAL, 0, INT64_MAX, &u.locked_until, NULL, 0) < 0 ||
             tg_json_get_int64(o, "last_login_at", TG_JSON_OPTIONAL, 0, INT64_MAX, &u.last_login_at, NULL, 0) < 0 ||
             tg_json_get_string(o, "last_login_from", TG_JSON_OPTIONAL, u.last_login_from, sizeof(u.last_login_from),
                                NULL, 0) < 0))
                r = -EBADMSG;
        if (r == 0 && tg_json_get_int64(o, "failures", TG_JSON_OPTIONAL, 0, TG_MFA_FAILURES_MAX, &x, NULL, 0) < 0)
                r = -EBADMSG;
        u.failures = (unsigned) x;
        if (r == 0 &&
            tg_json_get_int64(o, "failed_since_login", TG_JSON_OPTIONAL, 0, TG_MFA_FAILURES_MAX, &x, NULL, 0) < 0)
                r = -EBADMSG;
        u.failed_since_login = (unsigned) x;
        if (r == 0 &&
            tg_json_get_int64(o, "recovery_old_format", TG_JSON_OPTIONAL, 0, TG_MFA_RECOVERY_CODES, &x, NULL, 0) < 0)
                r = -EBADMSG;
        u.recovery_old_format = (unsigned) x;
        if (r == 0 && json_object_object_get_ex(o, "recovery", &arr)) {
                /* The type first: json-c asserts on the length of anything but an array. */
                size_t k = json_object_is_type(arr, json_type_array) ? json_object_array_length(arr) : SIZE_MAX;
                if (k > TG_MFA_RECOVERY_CODES)
                        r = -EBADMSG;
                for (size_t i = 0; r == 0 && i < k; i++) {
                        json_object *e = json_object_array_get_idx(arr, i);
                        const char *h = json_object_is_type(e, json_type_string) ? json_object_get_string(e) : NULL;
                        /* The first format: 64 hex digits of SHA-256(salt:code). Only counted. */
                        if (version < 2 && h && strlen(h) == 64 && strspn(h, "0123456789abcdef") == 64)
                                u.recovery_old_format++;
                        else if (version >= 2 && h && valid_recovery_hash(h))
                                snprintf(u.recovery[i], sizeof(u.recovery[i]), "%s", h);
                        else
                                r = -EBADMSG;
                }
        }
        if (r < 0) {
                snprintf(err, err_size, "%s: malformed state", name);
                return r;
        }
        *ret = u;
        return 0;
}

/* Adds v under k; false (and v released) if v failed to allocate or could not be added. */
static bool put(json_object *o, const char *k, json_object *v) {
        if (v && json_object_object_add(o, k, v) == 0)
                return true;
        json_object_put(v);
        return false;
}

/* crypt(3)'s work area holds the code being hashed: wiped, then freed. */
static void crypt_data_freep(struct crypt_data **d) {
        if (*d)
                explicit_bzero(*d, sizeof(**d));
        free(*d);
}

int tg_mfa_save(int dirfd, const tg_mfa_user *u) {
        _cleanup_(wipe_hex_secret) char hex[2 * TG_OTP_KEY_MAX + 1] = "";
        _cleanup_json_ json_object *o = json_object_new_object();
        _cleanup_json_ json_object *arr = json_object_new_array();
        char name[TG_MFA_USER_MAX + 8];
        const char *text;
        int r;

        if (!o || !arr || !tg_mfa_valid_user(u->user))
                return -EINVAL;
        if (u->enrolled && tg_hex_encode(u->secret, u->secret_len, hex, sizeof(hex)) < 0)
                return -EINVAL;
        /* Every field but the secret, which json-c never sees (see below). */
        bool ok = put(o, "version", json_object_new_int(STATE_VERSION)) &&
                  put(o, "user", json_object_new_string(u->user)) &&
                  put(o, "algorithm", json_object_new_string(alg_name(u->params.algorithm))) &&
                  put(o, "digits", json_object_new_int((int) u->params.digits)) &&
                  put(o, "period", json_object_new_int((int) u->params.period)) &&
                  put(o, "window", json_object_new_int((int) u->params.window)) &&
                  put(o, "last_step", json_object_new_int64((int64_t) u->last_step)) &&
                  put(o, "enrolled_at", json_object_new_int64(u->enrolled_at)) &&
                  put(o, "recovery_old_format", json_object_new_int64(u->recovery_old_format));
        for (size_t i = 0; ok && i < TG_MFA_RECOVERY_CODES; i++)
                if (u->recovery[i][0]) {
                        json_object *c = json_object_new_string(u->recovery[i]);
                        ok = c && json_object_array_add(arr, c) == 0;
                        if (!ok)
                                json_object_put(c);
                }
        ok = ok && put(o, "recovery", json_object_get(arr)) && put(o, "failures", json_object_new_int64(u->failures)) &&
             put(o, "locked_until", json_object_new_int64(u->locked_until)) &&
             put(o, "last_login_at", json_object_new_int64(u->last_login_at)) &&
             put(o, "last_login_from", json_object_new_string(u->last_login_from)) &&
             put(o, "failed_since_login", json_object_new_int64(u->failed_since_login));
        text = ok ? json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN) : NULL;
        /* Every field must be there: never a record with a field missing. */
        if (!text || text[0] != '{' || text[1] == '}')
                return -ENOMEM;
        /* The secret goes in front of the other fields in a buffer of our own: json-c writes its
         * text into a buffer that grows by realloc, which would leave copies of the secret in
         * freed memory. Hex digits need no escaping. */
        size_t len = STRLEN("{\"secret\":\"\",") + strlen(hex) + strlen(text + 1);
        char *file = malloc(len + 1);
        if (!file)
                return -ENOMEM;
        r = snprintf(file, len + 1, "{\"secret\":\"%s\",%s", hex, text + 1);
        snprintf(name, sizeof(name), "%s.json", u->user);
        /* A file size limit inherited from the caller (su keeps it) must not decide which
         * records can be written: tg_write_file_atomic lifts it while writing, when privileged,
         * and otherwise fails with -EFBIG without SIGXFSZ killing the PAM application. */
        r = r < 0 || (size_t) r != len ? -EINVAL : tg_write_file_atomic(dirfd, name, file, len, 0, 0, 0600);
        explicit_bzero(file, len + 1);
        free(file);
        return r;
}

int tg_mfa_remove(int dirfd, const char *user) {
        char name[TG_MFA_USER_MAX + 8];
        if (!tg_mfa_valid_user(user))
                return -EINVAL;
        snprintf(name, sizeof(name), "%s.json", user);
        return unlinkat(dirfd, name, 0) < 0 ? -errno : 0;
}

static int random_bytes(void *buf, size_t n) {
        ssize_t k = getrandom(buf, n, 0);
        return k == (ssize_t) n ? 0 : -EIO;
}

int tg_mfa_enroll(tg_mfa_user *u, const char *user, int64_t now) {
        if (!tg_mfa_valid_user(user))
                return -EINVAL;
        _cleanup_(tg_mfa_user_wipe) tg_mfa_user n = *u; /* keep counters and login history */
        snprintf(n.user, sizeof(n.user), "%s", user);
        if (random_bytes(n.secret, TG_OTP_SECRET_BYTES) < 0)
                return -EIO;
        n.secret_len = TG_OTP_SECRET_BYTES;
        n.params = (tg_totp_params){.algorithm = TG_OTP_SHA1, .digits = 6, .period = 30, .window = 1};
        n.enrolled = true;
        n.enrolled_at = now;
        n.last_step = 0;
        memset(n.recovery, 0, sizeof(n.recovery));
        n.recovery_old_format = 0;
        *u = n;
        return 0;
}

/* The yescrypt hash of code with a new salt into out. Returns 0 or -EIO (out untouched). */
static int recovery_hash_new(const char *code, char out[static TG_MFA_RECOVERY_HASH_MAX]) {
        char salt[CRYPT_GENSALT_OUTPUT_SIZE];
        _cleanup_(crypt_data_freep) struct crypt_data *data = calloc(1, sizeof(struct crypt_data));
        if (!data)
                return -ENOMEM;
        if (!crypt_gensalt_rn("$y$", RECOVERY_HASH_COST, NULL, 0, salt, sizeof(salt)))
                return -EIO;
        const char *h = crypt_rn(code, salt, data, sizeof(*data));
        if (!h || !valid_recovery_hash(h))
                return -EIO;
        snprintf(out, TG_MFA_RECOVERY_HASH_MAX, "%s", h);
        return 0;
}

/* Whether code hashes to hash (yescrypt, with the salt hash carries). */
static bool recovery_hash_matches(const char *code, const char *hash) {
        _cleanup_(crypt_data_freep) struct crypt_data *data = calloc(1, sizeof(struct crypt_data));
        if (!data)
                return false;
        const char *h = crypt_rn(code, hash, data, sizeof(*data));
        size_t n = strlen(hash);
        if (!h || strlen(h) != n)
                return false;
        volatile unsigned char d = 0;
        for (size_t i = 0; i < n; i++)
                d |= (unsigned char) (h[i] ^ hash[i]);
        return d == 0;
}

int tg_mfa_new_recovery_codes(tg_mfa_user *u, char codes[TG_MFA_RECOVERY_CODES][12]) {
        static const char alphabet[] = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"; /* no 0/O, 1/I */
        char hashes[TG_MFA_RECOVERY_CODES][TG_MFA_RECOVERY_HASH_MAX];
        uint8_t rnd[10];

        for (size_t i = 0; i < TG_MFA_RECOVERY_CODES; i++) {
                if (random_bytes(rnd, sizeof(rnd)) < 0)
                        return -EIO;
                for (size_t k = 0, o = 0; k < 10; k++) {
                        codes[i][o++] = alphabet[rnd[k] & 31];
                        if (k == 4)
                                codes[i][o++] = '-';
                }
                codes[i][11] = '\0';
                if (recovery_hash_new(codes[i], hashes[i]) < 0) {
                        explicit_bzero(rnd, sizeof(rnd));
                        return -EIO;
                }
        }
        explicit_bzero(rnd, sizeof(rnd));
        memcpy(u->recovery, hashes, sizeof(hashes));
        u->recovery_old_format = 0;
        return 0;
}

static bool totp_enrolled(const tg_mfa_user *u) {
        return u->secret_len > 0;
}

static bool totp_check(tg_mfa_user *u, const char *code, int64_t now) {
        uint64_t step;
        if (tg_totp_verify(&u->params, u->secret, u->secret_len, now, code, u->last_step, &step) < 0)
                return false;
        u->last_step = step;
        return true;
}

static bool recovery_enrolled(const tg_mfa_user *u) {
        for (int i = 0; i < TG_MFA_RECOVERY_CODES; i++)
                if (u->recovery[i][0])
                        return true;
        return false;
}

/* Case-insensitive, dash and spaces optional: the code as issued, XXXXX-XXXXX, into ret.
 * Returns false when answer is not ten letters and digits. */
static bool recovery_normalize(const char *answer, char ret[static 12]) {
        size_t k = 0, m = 0;
        for (const char *c = answer; *c; c++) {
                char ch = *c;
                if (ch == '-' || ch == ' ')
                        continue;
                if (k >= 10 || !((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9')))
                        return false;
                ret[m++] = (char) (ch >= 'a' && ch <= 'z' ? ch - 'a' + 'A' : ch);
                if (++k == 5)
                        ret[m++] = '-';
        }
        ret[m] = '\0';
        return k == 10;
}

bool tg_mfa_recovery_form(const char *answer) {
        char tmp[12];
        bool r = answer && recovery_normalize(answer, tmp);
        explicit_bzero(tmp, sizeof(tmp));
        return r;
}

/* Each code works once. A wrong answer costs a hash per unused code; a six-digit TOTP code
 * costs none. */
static bool recovery_check(tg_mfa_user *u, const char *code, int64_t now) {
        char tmp[12];
        int match = -1;
        (void) now;
        if (recovery_normalize(code, tmp))
                for (int i = 0; i < TG_MFA_RECOVERY_CODES && match < 0; i++)
                        if (u->recovery[i][0] && recovery_hash_matches(tmp, u->recovery[i]))
                                match = i;
        explicit_bzero(tmp, sizeof(tmp));
        if (match < 0)
                return false;
        u->recovery[match][0] = '\0';
        return true;
}

const tg_mfa_factor tg_mfa_factors[TG_MFA_FAIL] = {
        [TG_MFA_OK_TOTP] = {"totp", totp_enrolled, totp_check},
        [TG_MFA_OK_RECOVERY] = {"recovery-code", recovery_enrolled, recovery_check},
};

tg_mfa_result tg_mfa_check(tg_mfa_user *u, const char *code, int64_t now) {
        if (!u->enrolled || !code)
                return TG_MFA_FAIL;
        for (int f = 0; f < TG_MFA_FAIL; f++)
                if (tg_mfa_factors[f].enrolled(u) && tg_mfa_factors[f].check(u, code, now))
                        return (tg_mfa_result) f;
        return TG_MFA_FAIL;
}

/* The next name of a space-separated list (at most the list's own size); false at the end. */
static bool next_name(const char **p, char name[static sizeof(((tg_config *) 0)->mfa_groups)]) {
        *p += strspn(*p, " ");
        size_t k = strcspn(*p, " ");
        if (k == 0)
                return false;
        memcpy(name, *p, k);
        name[k] = '\0';
        *p += k;
        return true;
}

static bool in_list(const char *list, const char *name) {
        char item[sizeof(((tg_config *) 0)->mfa_users)];
        for (const char *p = list; next_name(&p, item);)
                if (strcmp(item, name) == 0)
                        return true;
        return false;
}

bool tg_mfa_required(const tg_config *c, const char *user) {
        tg_account a;
        gid_t groups[256];
        int n = (int) ELEMENTSOF(groups);

        if (c->mfa_everyone || in_list(c->mfa_users, user))
                return true;
        if (tg_account_by_name(user, &a) < 0)
                return true;
        if (!c->mfa_groups[0])
                return false;
        if (getgrouplist(user, a.gid, groups, &n) < 0)
                return true; /* more groups than we can check: do not guess "not required" */
        /* Each policy group by name to its gid: a lookup that fails (a directory service
         * down, a group too large to read) means "cannot tell", which is "required". */
        char name[sizeof(c->mfa_groups)];
        for (const char *p = c->mfa_groups; next_name(&p, name);) {
                gid_t gid;
                int r = tg_group_gid(name, &gid);
                if (r < 0)
                        return true;
                for (int i = 0; r > 0 && i < n; i++)
                        if (groups[i] == gid)
                                return true;
        }
        return false;
}

bool tg_mfa_service_covered(const tg_config *c, const char *service) {
        return service && in_list(c->mfa_services, service);
}

int tg_mfa_check_users(const tg_config *c, char *err, size_t err_size) {
        char name[sizeof(c->mfa_users)];
        for (const char *p = c->mfa_users; next_name(&p, name);) {
                tg_account a;
                int r = tg_account_by_name(name, &a);
                if (r == -ENOENT) {
                        snprintf(err, err_size, "[MFA] RequireUsers: %s: no such user", name);
                        return -ENOENT;
                }
                if (r < 0) {
                        snprintf(err, err_size,
                                 "[MFA] RequireUsers: %s: the user database lookup failed (%s): cannot tell who is "
                                 "covered",
                                 name, strerror(-r));
                        return r;
                }
                /* Policy compares the account's own name: another spelling covers nobody. */
                if (strcmp(a.name, name) != 0) {
                        snprintf(err, err_size, "[MFA] RequireUsers: %s: the account is named %s", name, a.name);
                        return -ENOENT;
                }
        }
        return 0;
}

int tg_mfa_check_config(const tg_config *c, char *err, size_t err_size) {
        int r = tg_mfa_check_users(c, err, err_size);
        return r < 0 ? r : tg_mfa_check_groups(c, err, err_size);
}

int tg_mfa_check_groups(const tg_config *c, char *err, size_t err_size) {
        char name[sizeof(c->mfa_groups)];
        for (const char *p = c->mfa_groups; next_name(&p, name);) {
                gid_t gid;
                int r = tg_group_gid(name, &gid);
                if (r <= 0) {
                        snprintf(err, err_size, "[MFA] RequireGroups: %s: %s", name,
                                 r == 0 ? "no such group" : strerror(-r));
                        return r == 0 ? -ENOENT : r;
                }
        }
        return 0;
}

int64_t tg_mfa_clock_system(void) {
        return (int64_t) time(NULL);
}

bool tg_mfa_locked(const tg_mfa_user *u, int64_t now) {
        return u->locked_until > now;
}

bool tg_mfa_record_failure(tg_mfa_user *u, tg_mfa_clock clock, unsigned max_failures, int64_t lockout_seconds) {
        /* Read here, as the failure is recorded, whatever time the caller used for its own
         * checks: a lock must never be written already over. */
        int64_t now = clock();
        /* A lock that has run out starts a new count: one wrong attempt after it must not
         * lock the account again at once (which would let anyone keep it locked). */
        if (u->locked_until != 0 && !tg_mfa_locked(u, now)) {
                u->failures = 0;
                u->locked_until = 0;
        }
        if (u->failures < TG_MFA_FAILURES_MAX)
                u->failures++;
        if (u->failed_since_login < TG_MFA_FAILURES_MAX)
                u->failed_since_login++;
        if (max_failures > 0 && u->failures >= max_failures && !tg_mfa_locked(u, now)) {
                /* At least a second, whatever the caller passed (the configuration allows no
                 * less): a lock ending at the time it is written would be none. */
                u->locked_until = now + (lockout_seconds > 0 ? lockout_seconds : 1);
                return true;
        }
        return false;
}

void tg_mfa_record_success(tg_mfa_user *u, int64_t now, const char *from) {
        u->failures = 0;
        u->locked_until = 0;
        u->last_login_at = now;
        snprintf(u->last_login_from, sizeof(u->last_login_from), "%s", from ? from : "");
        u->failed_since_login = 0;
}

void tg_mfa_unlock(tg_mfa_user *u) {
        u->failures = 0;
        u->locked_until = 0;
}
