/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* base64 (RFC 4648 section 4: the standard alphabet, padded with '=', no line breaks): a
 * journal record's exact bytes in the central store's ingest batches. */

/* The buffer size tg_base64_encode needs for len bytes, its NUL included. */
#define TG_BASE64_SIZE(len) ((((len) + 2) / 3) * 4 + 1)

/* Writes the base64 text of data and a NUL into ret. Returns 0, or -ENOBUFS when ret_size is
 * less than TG_BASE64_SIZE(len) (ret untouched). */
int tg_base64_encode(const void *data, size_t len, char *ret, size_t ret_size);

/* Decodes text, which must be canonical base64: a multiple of four characters of the standard
 * alphabet, '=' only as the last one or two, and the bits the padding leaves over zero (so every
 * byte string has exactly one text). Returns 0 with the byte count in ret_len, -EINVAL for
 * anything else, -E2BIG when more than ret_size bytes would result. ret and ret_len are
 * untouched on failure. */
int tg_base64_decode(const char *text, uint8_t *ret, size_t ret_size, size_t *ret_len);
