/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* One-time passwords: HOTP (RFC 4226) and TOTP (RFC 6238) with HMAC from liboath. */

typedef enum { TG_OTP_SHA1, TG_OTP_SHA256, TG_OTP_SHA512 } tg_otp_algorithm;

#define TG_OTP_SECRET_BYTES 20 /* 160-bit secrets, as RFC 4226 recommends */
#define TG_OTP_KEY_MAX 64

/* HOTP value for counter, reduced to digits (6..8). Returns 0 or -EINVAL. */
int tg_hotp(tg_otp_algorithm alg, const uint8_t *key, size_t key_len, uint64_t counter, unsigned digits, uint32_t *ret);

typedef struct {
        tg_otp_algorithm algorithm;
        unsigned digits; /* 6..8 */
        unsigned period; /* seconds, usually 30 */
        unsigned window; /* steps accepted on either side of now, usually 1 */
} tg_totp_params;

/* Verifies code at time now. A code is accepted once: its time step must be later than
 * last_step (the last step accepted for this secret). On success sets *ret_step to the step
 * that matched and returns 0; returns -EACCES for a wrong, malformed or replayed code. Every
 * candidate in the window is compared in constant time, whether or not one matched. */
int tg_totp_verify(const tg_totp_params *p, const uint8_t *key, size_t key_len, int64_t now, const char *code,
                   uint64_t last_step, uint64_t *ret_step);

/* RFC 4648 base32 without padding (as authenticator apps expect). */
int tg_base32_encode(const uint8_t *in, size_t len, char *out, size_t out_size);
int tg_base32_decode(const char *in, uint8_t *out, size_t out_size, size_t *ret_len);
