/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The control socket: a request as the daemon decodes it, and the same bytes as the reply to
 * a command (chosen by the first byte) as termguardctl decodes it. */
#include <stdint.h>

#include "termguard/control-proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        tg_ctl_request req;
        tg_ctl_reply reply = {0};
        char err[512];
        if (size == 0)
                return 0;

        tg_ctl_request_init(&req, _TG_CTL_COMMAND_INVALID);
        (void) tg_ctl_request_decode((const char *) data + 1, size - 1, &req, err, sizeof(err));
        tg_ctl_request_done(&req);

        tg_ctl_command c = (tg_ctl_command) (data[0] % _TG_CTL_COMMAND_MAX);
        if (tg_ctl_reply_decode(c, (const char *) data + 1, size - 1, &reply) == 0)
                tg_ctl_reply_done(&reply);
        return 0;
}
