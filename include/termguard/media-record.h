/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Records of files written to removable media: the path on the medium and the file's digest.
 * Names on a medium are hostile (any bytes a filesystem allows, from whoever wrote the stick):
 * they are bounded and escaped before they reach a record. */

/* Raw bytes of a path on a medium that a record keeps; longer ones are cut and marked "…". */
#define TG_MEDIA_PATH_MAX 1024
/* Room for an escaped path: every byte may become "\xNN", plus the mark. */
#define TG_MEDIA_PATH_ESCAPED (TG_MEDIA_PATH_MAX * 4 + 8)
#define TG_SHA256_HEX (64 + 1)

/* The path on the medium mounted at mountpoint of name in directory dir (an absolute path on
 * this host, as /proc/self/fd shows it; dir NULL or empty for a file whose directory is
 * unknown, name NULL or empty for dir itself), escaped and bounded: "/dir/name" from the root of
 * the medium. Returns 0, or -EXDEV when dir is not mountpoint or below it (ret then holds the
 * name alone, or "?"). */
int tg_media_path(const char *mountpoint, const char *dir, const char *name, char ret[static TG_MEDIA_PATH_ESCAPED]);

/* The mount point as /proc/self/mountinfo writes it ("\040" for a space, "\011", "\012",
 * "\134") decoded into ret. Returns 0, or -ENAMETOOLONG / -EINVAL. */
int tg_mountinfo_unescape(const char *in, char *ret, size_t ret_size);

/* SHA-256 of what fd reads from its current offset to its end, if that is at most cap bytes.
 * Returns 0 with the digest in ret_hex and the bytes read in ret_size; -EFBIG when the file is
 * larger than cap (ret_size then holds cap + 1, "more than cap"); another negative errno when
 * it cannot be read. */
int tg_media_hash_fd(int fd, uint64_t cap, char ret_hex[static TG_SHA256_HEX], uint64_t *ret_size);
