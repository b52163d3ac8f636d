/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include "daemon.h"

/* Records other programs hand to termguardd: the record socket (RuntimeDirectory/
 * record.socket, one record a connection, answered "ok" once recorded) and the spool
 * (StateDirectory/spool, written by root producers while termguardd did not answer; watched
 * with inotify and taken in as records land in it, while the journal can take them). The
 * sender of a socket record is the kernel's peer credentials, never what the record says; a
 * sender may submit only the types the event catalogue allows it. */
int intake_start(Manager *m);
void intake_stop(Manager *m);

/* Takes every spool file into the journal, oldest first, and deletes each once it is recorded.
 * Returns the number taken in, or a negative errno when the spool could not be read (a file
 * that could not be recorded stays for the next time). */
int intake_spool(Manager *m);

/* The number of records waiting in the spool (at most 100000), or a negative errno when it
 * cannot be read. */
int intake_spool_waiting(Manager *m);
