/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The options of the verbs that take their own (journal init, verify, log, report): one
 * getopt_long loop, and one way of saying what is wrong with them.
 */
#define _GNU_SOURCE
#include <getopt.h>
#include <stdio.h>

#include "ctl.h"

static int usage_error(const char *usage) {
        fprintf(stderr, _("Usage: termguardctl %s\n"), usage);
        return EXIT_USAGE;
}

int ctl_parse_options(int argc, char **argv, const struct option *options, const char *usage, ctl_option_handler handle,
                      void *userdata) {
        int c, r;

        optind = 0; /* a fresh scan of this argument vector (GNU getopt) */
        opterr = 0;
        while ((c = getopt_long(argc, argv, ":h", options, NULL)) >= 0) {
                switch (c) {
                case 'h': printf(_("Usage: termguardctl %s\n"), usage); return -1;
                case ':':
                        fprintf(stderr, _("termguardctl: option %s needs a value\n"), argv[optind - 1]);
                        return usage_error(usage);
                case '?':
                        fprintf(stderr, _("termguardctl: unknown option %s\n"), argv[optind - 1]);
                        return usage_error(usage);
                default:
                        r = handle(c, optarg, userdata);
                        if (r)
                                return r;
                }
        }
        if (optind != argc) {
                fprintf(stderr, _("termguardctl: wrong number of arguments\n"));
                return usage_error(usage);
        }
        return 0;
}
