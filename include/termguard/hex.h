/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* Hexadecimal text of bytes: secrets and salts in the MFA state, hashes of recovery codes and of
 * USB descriptors, \xNN in escaped text. */

/* Writes the 2 * len lowercase hex digits of data and a NUL into ret. Returns 0, or -ENOBUFS when
 * ret_size is less than 2 * len + 1 (ret untouched). */
int tg_hex_encode(const void *data, size_t len, char *ret, size_t ret_size);

/* Decodes hex, which must be exactly two hex digits (either case) per byte and nothing else: no
 * sign, no space, no "0x", not an odd length. Returns 0 with the byte count in ret_len, -EINVAL
 * for anything else, -E2BIG when more than ret_size bytes would result. ret and ret_len are
 * untouched on failure. */
int tg_hex_decode(const char *hex, uint8_t *ret, size_t ret_size, size_t *ret_len);
