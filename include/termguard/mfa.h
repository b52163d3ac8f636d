/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "termguard/totp.h"

/* Per-user MFA state, one root-owned file per user under STATE/mfa/. The directory must be
 * root:root 0700 and each file root:root 0600, regular, not a symlink: anything else is an
 * error, never "not enrolled". */

#define TG_MFA_USER_MAX 64
#define TG_MFA_RECOVERY_CODES 10
#define TG_MFA_FROM_MAX 64
#define TG_MFA_FAILURES_MAX 1000000 /* counters stop here */
/* A recovery code's hash as crypt(3) writes it: "$y$" yescrypt, with a salt of its own. */
#define TG_MFA_RECOVERY_HASH_MAX 128

typedef struct {
        char user[TG_MFA_USER_MAX + 1];
        bool enrolled;
        uint8_t secret[TG_OTP_KEY_MAX];
        size_t secret_len;
        tg_totp_params params;
        uint64_t last_step;
        int64_t enrolled_at;
        char recovery[TG_MFA_RECOVERY_CODES][TG_MFA_RECOVERY_HASH_MAX]; /* yescrypt hashes; "" when used */
        /* Unused codes of the first state format (one SHA-256 and one salt for all ten): no longer
         * accepted, counted until new codes are issued so that the administrator is told. */
        unsigned recovery_old_format;
        /* attempt limit: failures of any factor since the last success */
        unsigned failures;
        int64_t locked_until;
        /* login display */
        int64_t last_login_at;
        char last_login_from[TG_MFA_FROM_MAX + 1];
        unsigned failed_since_login;
} tg_mfa_user;

/* Overwrites u (the secret with it); usable as a cleanup: _cleanup_(tg_mfa_user_wipe). */
void tg_mfa_user_wipe(tg_mfa_user *u);

/* A user name usable as a file name: [A-Za-z0-9_.@-], not starting with '.' or '-'. */
bool tg_mfa_valid_user(const char *user);

/* Opens STATE/mfa (creating it root:root 0700 if create is set) after checking owner and mode,
 * of STATE and of every directory above it up to /: each must be a directory owned by root that
 * neither group nor others can write, reached without a symbolic link. Returns a directory fd
 * or -EPERM (unsafe owner/mode, a symbolic link on the way), -ENOENT, ... */
int tg_mfa_open_dir(const char *state_dir, bool create, char *err, size_t err_size);

/* How long tg_mfa_lock_user waits for another holder of a user's lock. An attempt holds it for
 * the load, check and save of a few hundred bytes only (codes are read before), so this is
 * plenty; a holder that keeps it longer is stuck or stopped, and logins must not wait on it. */
#define TG_MFA_LOCK_WAIT_SECONDS 5

/* Takes an exclusive lock for read-modify-write of one user's state (USER.lock, root:root 0600),
 * waiting at most TG_MFA_LOCK_WAIT_SECONDS. Returns the lock fd, or -EBUSY when another
 * process held it all that time. */
int tg_mfa_lock_user(int dirfd, const char *user);

/* Loads a user's state. -ENOENT: no state (neither enrolled nor any failure recorded);
 * -EPERM: wrong owner/mode/type; -EBADMSG: corrupt. */
int tg_mfa_load(int dirfd, const char *user, tg_mfa_user *ret, char *err, size_t err_size);
/* Atomic replace (temporary file, fsync, rename), root:root 0600. */
int tg_mfa_save(int dirfd, const tg_mfa_user *u);
int tg_mfa_remove(int dirfd, const char *user);

/* One user's state held for a read-modify-write: STATE/mfa open, USER.lock taken, the state
 * loaded. The PAM module, the setuid helper and termguardctl all go through it. */
typedef struct {
        int dirfd;
        int lockfd;
        tg_mfa_user u; /* a user without state: empty, with u.user set */
        bool exists;   /* the user has a state file */
} tg_mfa_session;
#define TG_MFA_SESSION_NULL ((tg_mfa_session){.dirfd = -EBADF, .lockfd = -EBADF})

/* Opens STATE/mfa (created when create is set, see tg_mfa_open_dir), takes the user's lock
 * (tg_mfa_lock_user: -EBUSY after TG_MFA_LOCK_WAIT_SECONDS) and loads the state (none is an
 * empty state, not an error). Returns 0, or -errno with a message in err: -ENOENT (no state
 * directory), -EPERM (unsafe owner or mode), -EBUSY, -EBADMSG (corrupt). ret is untouched on
 * failure. */
int tg_mfa_session_open(const char *state_dir, const char *user, bool create, tg_mfa_session *ret, char *err,
                        size_t err_size);
/* Saves s->u (tg_mfa_save). */
int tg_mfa_session_save(tg_mfa_session *s);
/* Wipes the state in memory, releases the lock, closes; s is then TG_MFA_SESSION_NULL. Safe to
 * call again. */
void tg_mfa_session_close(tg_mfa_session *s);
#define _cleanup_mfa_session_ __attribute__((cleanup(tg_mfa_session_close)))

/* Enrollment: new random 160-bit secret (params: SHA-1, 6 digits, 30 s, window 1). */
int tg_mfa_enroll(tg_mfa_user *u, const char *user, int64_t now);
/* New recovery codes ("XXXXX-XXXXX"); only their hashes are kept in u (yescrypt through
 * libcrypt, a salt each), the codes are returned once. Codes of the old format are dropped. */
int tg_mfa_new_recovery_codes(tg_mfa_user *u, char codes[TG_MFA_RECOVERY_CODES][12]);

/* The factors a user answers at the code prompt, tried in this order; a result names the
 * factor that verified. A new factor (a FIDO2 key) is one more entry: whether the user has it,
 * and the check of one answer, which on success records what makes it single-use (the TOTP
 * step, the used recovery code) in u, under the caller's lock, before the caller saves. */
typedef enum { TG_MFA_OK_TOTP, TG_MFA_OK_RECOVERY, TG_MFA_FAIL } tg_mfa_result;
typedef struct {
        const char *name;
        bool (*enrolled)(const tg_mfa_user *u);
        bool (*check)(tg_mfa_user *u, const char *answer, int64_t now);
} tg_mfa_factor;
extern const tg_mfa_factor tg_mfa_factors[TG_MFA_FAIL];
/* Whether answer has the form of a recovery code (ten letters and digits, dashes and spaces
 * aside), whatever its value. */
bool tg_mfa_recovery_form(const char *answer);
/* Checks code (TOTP or recovery code) and updates u (replay step, used recovery code). Does
 * not touch the attempt counters: see tg_mfa_record_*. */
tg_mfa_result tg_mfa_check(tg_mfa_user *u, const char *code, int64_t now);

/* Whether policy requires a second factor for user: Profile=mynumber, RequireUsers or a
 * RequireGroups group. A user unknown to the system counts as required, so that unknown and
 * known accounts go through the same prompts. */
#include "termguard/config.h"
bool tg_mfa_required(const tg_config *c, const char *user);
/* Whether MFAServices= names service: its account phase refuses a covered user who has not
 * passed the second factor in the same PAM transaction. */
bool tg_mfa_service_covered(const tg_config *c, const char *service);
/* Whether every group RequireGroups names exists: a misspelt group would otherwise leave its
 * members without the second factor, silently. Returns 0, or -ENOENT with the name in err
 * (-errno when the lookup itself failed). */
int tg_mfa_check_groups(const tg_config *c, char *err, size_t err_size);
/* Whether every name RequireUsers lists is an account whose own name is exactly that name: a
 * misspelt name, or another spelling of a name (Tanaka where the account is tanaka, which a
 * case-insensitive directory still finds), would otherwise cover nobody, silently. Returns 0,
 * -ENOENT with the name in err, or -errno when the lookup itself failed (a directory service
 * down: who is covered cannot be told). */
int tg_mfa_check_users(const tg_config *c, char *err, size_t err_size);
/* The MFA policy's names as a whole: tg_mfa_check_users, then tg_mfa_check_groups. Every
 * program that acts on the policy refuses a configuration that fails it. */
int tg_mfa_check_config(const tg_config *c, char *err, size_t err_size);

/* The time of an attempt (seconds since the epoch) is passed as a clock to read, not as a value:
 * an attempt reads it once it holds the user's lock. A time read earlier (when a helper
 * started, long before its code arrived) can be of any age by then: a lock counted from it may
 * already be over when it is written, and an old code would still match. Tests pass their own
 * clock. */
typedef int64_t (*tg_mfa_clock)(void);
int64_t tg_mfa_clock_system(void); /* time(2) */

/* Clock jumps (docs/admin-guide.md, "Clock"). An attempt at a time before TG_MFA_CLOCK_FLOOR
 * (2026-01-01T00:00:00Z, before this release; 1970 too) is an error: a clock that wrong would
 * otherwise lock accounts, or turn a lock into none. Nothing is checked or counted. */
#define TG_MFA_CLOCK_FLOOR INT64_C(1767225600)
/* A last-used TOTP step more than this ahead of the clock means the clock was set back: the
 * replay bound moves to the end of the current window (its codes count as used; a code a
 * minute later works) instead of refusing every code until the clock is back there. Less
 * than this is a small correction: codes are refused until the clock has passed the step. */
#define TG_MFA_CLOCK_JUMP_SECONDS 600
/* Whether now is a time an attempt can be judged at. */
static inline bool tg_mfa_clock_plausible(int64_t now) {
        return now >= TG_MFA_CLOCK_FLOOR;
}

bool tg_mfa_locked(const tg_mfa_user *u, int64_t now);
/* Counts a failure at the time clock shows as it is recorded. Returns true when this failure
 * locked the account; such a lock ends after that time, never at or before it. */
bool tg_mfa_record_failure(tg_mfa_user *u, tg_mfa_clock clock, unsigned max_failures, int64_t lockout_seconds);
void tg_mfa_record_success(tg_mfa_user *u, int64_t now, const char *from);
void tg_mfa_unlock(tg_mfa_user *u);

/* The whole second-factor check for one attempt, under the user's lock: load the state, read
 * the clock (refuse a time before TG_MFA_CLOCK_FLOOR; repair what a clock jump left in the
 * state), count the attempt, verify the code (TOTP or recovery), record the outcome (replay
 * step, counters, last login), save. A success that cannot be saved is an error. While the
 * account is locked every attempt fails and counts: TG_AUTH_LOCKED when the code was right
 * (only the holder of the factor learns of the lock), TG_AUTH_WRONG_CODE otherwise. */
typedef enum {
        TG_AUTH_OK,
        TG_AUTH_OK_RECOVERY,
        TG_AUTH_ROLLOUT, /* not enrolled, inside the rollout window */
        TG_AUTH_WRONG_CODE,
        TG_AUTH_LOCKED, /* locked; the code was right (the verify step) */
        TG_AUTH_NOT_ENROLLED,
        TG_AUTH_ERROR, /* state missing, unsafe, corrupt, unsavable */
} tg_auth_outcome;

typedef struct {
        tg_auth_outcome outcome;
        bool locked_now;       /* this attempt reached the attempt limit */
        int64_t prev_login_at; /* for "last login ... from ..." */
        char prev_login_from[TG_MFA_FROM_MAX + 1];
        unsigned prev_failed_since;
        bool recorded; /* its events are already recorded (by the setuid helper) */
        char err[512];
        /* A clock jump this attempt found and handled (old and new times), for an mfa.clock-jump
         * record; "" when none. Not carried in the helper's answer: the helper records it. */
        char clock_note[160];
} tg_auth_result;

static inline bool tg_auth_succeeded(tg_auth_outcome o) {
        return o == TG_AUTH_OK || o == TG_AUTH_OK_RECOVERY || o == TG_AUTH_ROLLOUT;
}
const char *tg_auth_outcome_to_string(tg_auth_outcome o);

void tg_mfa_authenticate(const tg_config *cfg, const char *user, const char *code, const char *from, tg_mfa_clock clock,
                         tg_auth_result *ret);
/* A failure of another factor (the password): counts toward the attempt limit. */
void tg_mfa_record_other_failure(const tg_config *cfg, const char *user, tg_mfa_clock clock, tg_auth_result *ret);
/* Whether the user is locked now (TG_AUTH_LOCKED), free (TG_AUTH_OK) or unknown (TG_AUTH_ERROR). */
void tg_mfa_check_lock(const tg_config *cfg, const char *user, tg_mfa_clock clock, tg_auth_result *ret);
