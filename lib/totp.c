/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/core_names.h>
#include <openssl/params.h>

#include "termguard/totp.h"

static const char *digest_name(tg_otp_algorithm alg) {
        switch (alg) {
        case TG_OTP_SHA1: return "SHA1";
        case TG_OTP_SHA256: return "SHA256";
        case TG_OTP_SHA512: return "SHA512";
        }
        return NULL;
}

/* A keyed HMAC context: fetched and keyed once per verification, then reused for each step
 * of the window (OpenSSL 3 fetches the algorithm anew on every one-shot HMAC() call). */
static EVP_MAC_CTX *hmac_new(tg_otp_algorithm alg, const uint8_t *key, size_t key_len) {
        const char *name = digest_name(alg);
        EVP_MAC *mac;
        EVP_MAC_CTX *ctx = NULL;
        if (!name || !key || key_len == 0 || key_len > TG_OTP_KEY_MAX)
                return NULL;
        mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
        if (mac)
                ctx = EVP_MAC_CTX_new(mac);
        EVP_MAC_free(mac); /* the context keeps its own reference */
        OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string("digest", (char *) name, 0), OSSL_PARAM_END};
        if (ctx && !EVP_MAC_init(ctx, key, key_len, params)) {
                EVP_MAC_CTX_free(ctx);
                ctx = NULL;
        }
        return ctx;
}

static int hotp_with(EVP_MAC_CTX *ctx, uint64_t counter, unsigned digits, uint32_t *ret) {
        static const uint32_t pow10[] = {1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000};
        unsigned char msg[8], md[EVP_MAX_MD_SIZE];
        size_t md_len = 0;

        for (int i = 7; i >= 0; i--) {
                msg[i] = (unsigned char) (counter & 0xff);
                counter >>= 8;
        }
        /* init without a key: the same key again, a fresh message */
        if (!EVP_MAC_init(ctx, NULL, 0, NULL) || !EVP_MAC_update(ctx, msg, sizeof(msg)) ||
            !EVP_MAC_final(ctx, md, &md_len, sizeof(md)) || md_len < 20)
                return -EIO;
        /* Dynamic truncation (RFC 4226 5.3). */
        unsigned off = md[md_len - 1] & 0x0f;
        uint32_t bin = ((uint32_t) (md[off] & 0x7f) << 24) | ((uint32_t) md[off + 1] << 16) |
                       ((uint32_t) md[off + 2] << 8) | (uint32_t) md[off + 3];
        OPENSSL_cleanse(md, sizeof(md));
        *ret = bin % pow10[digits];
        return 0;
}

int tg_hotp(tg_otp_algorithm alg, const uint8_t *key, size_t key_len, uint64_t counter, unsigned digits,
            uint32_t *ret) {
        EVP_MAC_CTX *ctx;
        int r;
        if (digits < 6 || digits > 8 || !ret)
                return -EINVAL;
        ctx = hmac_new(alg, key, key_len);
        if (!ctx)
                return -EINVAL;
        r = hotp_with(ctx, counter, digits, ret);
        EVP_MAC_CTX_free(ctx);
        return r;
}

int tg_totp_verify(const tg_totp_params *p, const uint8_t *key, size_t key_len, int64_t now, const char *code,
                   uint64_t last_step, uint64_t *ret_step) {
        char want[9], got[9];
        uint64_t step, matched = 0;
        int found = 0;
        size_t len;

        if (!p || !code || p->period == 0 || p->digits < 6 || p->digits > 8 || p->window > 10 || now < 0)
                return -EINVAL;
        len = strlen(code);
        if (len != p->digits)
                return -EACCES;
        for (size_t i = 0; i < len; i++)
                if (code[i] < '0' || code[i] > '9')
                        return -EACCES;
        memcpy(got, code, len + 1);

        EVP_MAC_CTX *ctx = hmac_new(p->algorithm, key, key_len);
        if (!ctx)
                return -EINVAL;
        step = (uint64_t) now / p->period;
        for (int64_t d = -(int64_t) p->window; d <= (int64_t) p->window; d++) {
                uint32_t v;
                if (d < 0 && (uint64_t) (-d) > step)
                        continue;
                uint64_t s = step + (uint64_t) d;
                if (hotp_with(ctx, s, p->digits, &v) < 0) {
                        EVP_MAC_CTX_free(ctx);
                        return -EINVAL;
                }
                /* snprintf of a fixed-width number: same length for every candidate. */
                (void) snprintf(want, sizeof(want), "%0*u", (int) p->digits, v);
                int eq = CRYPTO_memcmp(want, got, p->digits) == 0;
                /* Replay: a step at or before the last accepted one never counts. */
                int fresh = s > last_step;
                if (eq && fresh && !found) {
                        found = 1;
                        matched = s;
                }
        }
        EVP_MAC_CTX_free(ctx);
        OPENSSL_cleanse(want, sizeof(want));
        OPENSSL_cleanse(got, sizeof(got));
        if (!found)
                return -EACCES;
        if (ret_step)
                *ret_step = matched;
        return 0;
}

static const char b32[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

int tg_base32_encode(const uint8_t *in, size_t len, char *out, size_t out_size) {
        size_t o = 0;
        unsigned buf = 0, bits = 0;

        if ((len * 8 + 4) / 5 + 1 > out_size)
                return -ENOBUFS;
        for (size_t i = 0; i < len; i++) {
                buf = (buf << 8) | in[i];
                bits += 8;
                while (bits >= 5) {
                        out[o++] = b32[(buf >> (bits - 5)) & 31];
                        bits -= 5;
                }
        }
        if (bits > 0)
                out[o++] = b32[(buf << (5 - bits)) & 31];
        out[o] = '\0';
        return 0;
}

int tg_base32_decode(const char *in, uint8_t *out, size_t out_size, size_t *ret_len) {
        size_t o = 0;
        unsigned buf = 0, bits = 0;

        for (const char *c = in; *c; c++) {
                const char *pos;
                char ch = *c;
                if (ch == '=' || ch == ' ' || ch == '-')
                        continue;
                if (ch >= 'a' && ch <= 'z')
                        ch = (char) (ch - 'a' + 'A');
                pos = strchr(b32, ch);
                if (!pos || ch == '\0')
                        return -EINVAL;
                buf = (buf << 5) | (unsigned) (pos - b32);
                bits += 5;
                if (bits >= 8) {
                        if (o >= out_size)
                                return -ENOBUFS;
                        out[o++] = (uint8_t) (buf >> (bits - 8));
                        bits -= 8;
                }
        }
        *ret_len = o;
        return 0;
}
