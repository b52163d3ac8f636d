/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * The decision file: termguardd's decision for one attached USB device, read by
 * termguard-udev-helper when a block device of that device appears. One file per device,
 * RuntimeDirectory/devices/SYSNAME, five lines in this order:
 *
 *   BUSNUM=1
 *   DEVNUM=5
 *   MODE=read-only
 *   LABEL=USB-JINJI-03
 *   RAW=no
 *
 * BUSNUM and DEVNUM tie it to one attachment: a later device on the same port gets another
 * DEVNUM, so a stale file never grants it anything. MODE is blocked, read-only or
 * read-write; LABEL is the medium's register label or empty. RAW (yes or no) says whether the
 * seat user may have the device's raw nodes (usbfs, hidraw) as udev's rules would give them.
 * The reader is strict and the helper fails closed: any file it cannot parse, or that is not
 * for this attachment, means read-only and no raw access.
 *
 * Root's alone (directory 0700, files 0600): which present device is read-write, and its
 * register label, is nobody else's business; the helper runs as root from udev.
 */

#include <stdbool.h>
#include <stddef.h>

#include "termguard/register.h"

#define TG_DECISION_FILE_MAX 256 /* bytes; the longest valid file is about 125 */
#define TG_DECISION_NUMBER_MAX 65535

typedef struct {
        unsigned busnum, devnum;
        tg_mode mode;
        char label[TG_LABEL_MAX + 1];
        bool raw_access;
} tg_decision_record;

/* The file's text into buf (NUL-terminated). Returns its length, -EINVAL for a record that
 * has no valid text (numbers out of range, a label the register would refuse), -ENOBUFS
 * when buf is too small. */
int tg_decision_record_format(const tg_decision_record *rec, char *buf, size_t size);

/* Parses len bytes of a decision file. Every key exactly once, no other key, numbers in
 * decimal without sign or leading zeros up to TG_DECISION_NUMBER_MAX, every line ended by a
 * newline, no NUL byte, at most TG_DECISION_FILE_MAX bytes. Returns 0 or -EBADMSG; ret is
 * untouched on failure. */
int tg_decision_record_parse(const char *text, size_t len, tg_decision_record *ret);

/* Creates the directory of decision files, mode 0700; an existing one (from an older version,
 * 0755) is made 0700. Returns 0 or a negative errno. */
int tg_decision_dir_prepare(const char *dir);

/* Writes dir/sysname through tg_write_file_atomic() (fsynced, renamed into place), owned by
 * the caller, mode 0600. On failure no file is left under that name: the previous decision
 * (maybe read-write) must not outlive the one that could not be written. Returns 0 or a
 * negative errno (-EINVAL for a sysname that is not a plain file name). */
int tg_decision_file_write(const char *dir, const char *sysname, const tg_decision_record *rec);

/* Reads and parses dir/sysname (never through a symlink). Returns 0, -ENOENT, -EBADMSG or
 * another negative errno; ret is untouched on failure. */
int tg_decision_file_read(const char *dir, const char *sysname, tg_decision_record *ret);

/* Removes dir/sysname; a missing file is no error. Returns 0 or a negative errno. */
int tg_decision_file_remove(const char *dir, const char *sysname);

/* True only when rec grants read-write to the attachment whose sysfs attributes busnum and
 * devnum read as given (NULL: unknown, never read-write). */
bool tg_decision_grants_read_write(const tg_decision_record *rec, const char *busnum, const char *devnum);

/* True only when rec grants raw access to that attachment (NULL: unknown, never). */
bool tg_decision_grants_raw_access(const tg_decision_record *rec, const char *busnum, const char *devnum);
