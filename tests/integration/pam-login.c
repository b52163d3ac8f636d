/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A PAM application for the integration tests: runs the auth phase of SERVICE from the PAM
 * configuration directory CONFDIR for USER, answering every prompt with ANSWER.
 *   pam-login CONFDIR SERVICE USER ANSWER      exit status: the PAM result */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <security/pam_appl.h>

static int conv(int n, const struct pam_message **msg, struct pam_response **resp, void *data) {
        struct pam_response *r = calloc((size_t) n, sizeof(*r));
        if (!r)
                return PAM_BUF_ERR;
        for (int i = 0; i < n; i++)
                if (msg[i]->msg_style == PAM_PROMPT_ECHO_OFF || msg[i]->msg_style == PAM_PROMPT_ECHO_ON)
                        r[i].resp = strdup(data);
        *resp = r;
        return PAM_SUCCESS;
}

int main(int argc, char **argv) {
        pam_handle_t *h = NULL;
        int r;

        if (argc != 5) {
                fprintf(stderr, "usage: pam-login CONFDIR SERVICE USER ANSWER\n");
                return 100;
        }
        struct pam_conv c = {.conv = conv, .appdata_ptr = argv[4]};
        if (pam_start_confdir(argv[2], argv[3], &c, argv[1], &h) != PAM_SUCCESS)
                return 101;
        pam_set_item(h, PAM_TTY, "pts/7");
        r = pam_authenticate(h, 0);
        pam_end(h, r);
        return r;
}
