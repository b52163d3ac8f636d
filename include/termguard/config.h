/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "termguard/policy.h"

#define TG_CONFIG_ROOT_DEFAULT "/etc/termguard"
#define TG_STATE_DIR_DEFAULT "/var/lib/termguard"
#define TG_RUNTIME_DIR_DEFAULT "/run/termguard"
#define TG_PATH_MAX 96 /* keeps RuntimeDirectory/control.socket inside sun_path */
#define TG_CONFIG_DROPINS_MAX 128
/* [Journal] AuditorGroup= when not set: the forwarder's user is a member (the package makes both). */
#define TG_AUDITOR_GROUP_DEFAULT "termguard-audit"

typedef struct {
        char state_dir[TG_PATH_MAX + 1];
        char runtime_dir[TG_PATH_MAX + 1];
        char admin_group[TG_USER_MAX + 1]; /* empty: root only */
        tg_usb_policy usb;
        int64_t max_exception_duration;      /* seconds */
        uint64_t media_hash_max;             /* [MediaAudit] files written to media larger than this are not hashed */
        int64_t journal_checkpoint_interval; /* seconds between checkpoints of the audit journal */
        int64_t journal_max_bytes;           /* the audit journal's size cap */
        int64_t journal_max_age;             /* seconds a forwarded record is kept at least; 0: for ever */
        char journal_auditor_group[TG_USER_MAX + 1]; /* may read the journal's records; empty: root only */

        /* [MFA] who needs a second factor, attempt limit, login display */
        char mfa_users[512];       /* space-separated user names */
        char mfa_groups[512];      /* space-separated group names */
        bool mfa_everyone;         /* Profile=mynumber: everyone on this terminal */
        int64_t mfa_rollout_until; /* until then, users who need MFA but are not enrolled pass */
        unsigned mfa_max_failures; /* 0: no limit */
        int64_t mfa_lockout;       /* seconds */
        char mfa_banner_file[TG_PATH_MAX + 1];
        char mfa_services[128]; /* PAM services whose account phase needs the factor in the same transaction */

        /* [IdleLock] seconds; lock_after 0: no idle lock */
        int64_t idle_lock_after;
        int64_t idle_privileged_lock_after; /* members of idle_privileged_groups, everyone with Profile=mynumber */
        char idle_privileged_groups[512];   /* space-separated group names */
        int64_t idle_warn_before;           /* 0: no warning */
        int64_t idle_confirm_timeout;
        int64_t idle_logoff_grace;
        char idle_card_readers[256]; /* "*", a reader name prefix, or empty: no lock on card removal */
} tg_config;

/* [MediaAudit] HashMaxSize= when not set: hashes what an office copies to a stick (documents,
 * scans, photos), and bounds what one file costs a worker. */
#define TG_MEDIA_HASH_MAX_DEFAULT (UINT64_C(256) * 1024 * 1024)
#define TG_MEDIA_HASH_MAX_LIMIT (UINT64_C(1) << 40)

/* MFAServices= when not set: the stacks that can log in without common-auth's auth phase. */
#define TG_MFA_SERVICES_DEFAULT "sshd gdm-fingerprint gdm-smartcard login"
/* A service name in MFAServices=: as PAM_SERVICE may be (tg_mfa_valid_service). */
#define TG_MFA_SERVICE_MAX 32

void tg_config_default(tg_config *c);

/* Loads ROOT/termguard.conf, then ROOT/termguard.conf.d/ *.conf in lexical order (later files
 * override earlier ones). A missing main file means defaults. Returns 0, or a negative errno
 * with "FILE:LINE: Section.Key: problem" in err. ret is untouched on error. */
int tg_config_load(const char *root, tg_config *ret, char *err, size_t err_size);
/* The same, for authentication: ROOT/termguard.conf must exist (a missing file would silently
 * mean "nobody needs a second factor"). */
int tg_config_load_required(const char *root, tg_config *ret, char *err, size_t err_size);
