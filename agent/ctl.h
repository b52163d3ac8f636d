/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>

enum { EXIT_DAEMON_ERROR = 1, EXIT_USAGE = 2, EXIT_UNREACHABLE = 3, EXIT_DENIED = 4 };

/* termguardctl mfa SUBCOMMAND USER */
int ctl_mfa(const char *config_root, int argc, char **argv, bool json);
