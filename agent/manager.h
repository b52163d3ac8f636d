/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stddef.h>

#include "daemon.h"
#include "termguard/register.h"

/* The model: configuration and register, loaded, reloaded and saved here, and applied to the
 * devices; the exception expiry timer. */

/* Loads config and register into m; on error nothing changes and err says why. */
int manager_load(Manager *m, char *err, size_t err_size);
/* SIGHUP: loads again and applies; on error the last good policy stays (config.reload-failed). */
void manager_reload(Manager *m);
/* Saves reg (m's or a changed copy) to m's register file, with the latest time seen. */
int manager_save_register(Manager *m, tg_register *reg);
/* After a change of the register, the configuration or the seat: re-judges every device, then
 * re-arms the expiry timer. */
void manager_apply(Manager *m, const char *trigger);

/* Starts the USB gate, records expiries missed while down, judges present devices, follows
 * the seat. m->event must be set. */
int manager_start(Manager *m);
void manager_stop(Manager *m);
