/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * Carry-out records: every file written, created, renamed or deleted on a medium mounted
 * read-write (fanotify). Read-only media are not watched: nothing can be written to them.
 *
 * The events this module records, with their fields (docs/admin-guide.md, "Events"):
 *
 *   media.watch-started   device vid pid serial label exception devnode mountpoint fstype observable
 *                         not_observable
 *   media.file-written    FILE path size sha256 | hash ("not hashed: larger than cap", "... queue
 *                         full", "... not a regular file", "... <error>")
 *   media.file-created    FILE path kind (file, directory)
 *   media.file-deleted    FILE path kind
 *   media.file-renamed    FILE from to kind
 *   media.audit-overflow  source (queue, kernel) events_lost | group
 *   media.audit-unavailable  error (the mount table cannot be followed: nothing is watched)
 *   media.watch-ended     device serial label exception mountpoint why files_written
 *                         bytes_written files_created files_renamed files_deleted not_hashed
 *                         events_lost complete not_observable
 *
 * FILE: device serial label exception mountpoint, then pid comm uid user of the process.
 * Paths are from the root of the medium, escaped (lib/escape.c) and bounded
 * (TG_MEDIA_PATH_MAX); "?" where the kernel no longer knew the directory.
 */

#include "daemon.h"

/* Follows the mount table; call media_audit_rescan() once the devices are known. */
int media_audit_start(Manager *m);
/* Watches every read-write mount of a medium whose decision is read-write, and ends the watches
 * of mounts that went or became read-only. */
void media_audit_rescan(Manager *m);
/* The storage of the USB device at syspath was cut off or is gone: its watches end with why
 * (their summaries follow the events already reported). */
void media_audit_device_ended(Manager *m, const char *syspath, const char *why);
/* After the configuration was (re)loaded: [MediaAudit] HashMaxSize=. */
void media_audit_configure(Manager *m);
void media_audit_stop(Manager *m);
