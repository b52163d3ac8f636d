/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include "daemon.h"

/* IC card readers through pcsc-lite: a thread waits in SCardGetStatusChange (pcscd's calls
 * block) and hands each card inserted or removed to the event loop, which calls
 * changed(m, reader, present). reader is pcscd's name of the reader, escaped. */
int pcsc_start(Manager *m, void (*changed)(Manager *m, const char *reader, bool present));
void pcsc_stop(Manager *m);
