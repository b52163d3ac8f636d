/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "termguard/macro.h"
#include "termguard/mfa.h"

int tg_mfa_session_open(const char *state_dir, const char *user, bool create, tg_mfa_session *ret, char *err,
                        size_t err_size) {
        _cleanup_mfa_session_ tg_mfa_session s = TG_MFA_SESSION_NULL;
        int r;

        assert_return(state_dir && user && ret, -EINVAL);
        if (!tg_mfa_valid_user(user)) {
                snprintf(err, err_size, "user name not usable");
                return -EINVAL;
        }
        s.dirfd = tg_mfa_open_dir(state_dir, create, err, err_size);
        if (s.dirfd < 0)
                return s.dirfd;
        s.lockfd = tg_mfa_lock_user(s.dirfd, user);
        if (s.lockfd == -EBUSY) {
                snprintf(err, err_size, "MFA state of %s busy: locked by another process for more than %d s", user,
                         TG_MFA_LOCK_WAIT_SECONDS);
                return -EBUSY;
        }
        if (s.lockfd < 0) {
                snprintf(err, err_size, "cannot lock the state of %s: %s", user, strerror(-s.lockfd));
                return s.lockfd;
        }
        r = tg_mfa_load(s.dirfd, user, &s.u, err, err_size);
        if (r < 0 && r != -ENOENT)
                return r;
        s.exists = r == 0;
        if (!s.exists)
                snprintf(s.u.user, sizeof(s.u.user), "%s", user);
        *ret = s;
        /* The state now lives in ret alone: nothing of it stays behind in this frame. */
        tg_mfa_user_wipe(&s.u);
        s.dirfd = s.lockfd = -EBADF;
        return 0;
}

int tg_mfa_session_save(tg_mfa_session *s) {
        assert_return(s && s->dirfd >= 0 && s->lockfd >= 0, -EINVAL);
        return tg_mfa_save(s->dirfd, &s->u);
}

void tg_mfa_session_close(tg_mfa_session *s) {
        tg_mfa_user_wipe(&s->u);
        tg_closep(&s->lockfd);
        tg_closep(&s->dirfd);
        *s = TG_MFA_SESSION_NULL;
}
