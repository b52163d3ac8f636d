/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Builders for raw descriptor blobs as the kernel exposes them in sysfs. */
#pragma once
#include <stdint.h>
#include <string.h>

typedef struct {
        uint8_t buf[4096];
        size_t len;
        size_t cfg_start;
} blob;

static inline void blob_device(blob *b, uint16_t vid, uint16_t pid, uint8_t n_configs) {
        const uint8_t d[18] = {18,       1,          0x00,     0x02, 0,    0, 0, 64, vid & 0xff,
                               vid >> 8, pid & 0xff, pid >> 8, 0x00, 0x01, 1, 2, 3,  n_configs};
        memcpy(b->buf, d, sizeof(d));
        b->len = sizeof(d);
}

static inline void blob_config(blob *b, uint8_t value) {
        const uint8_t c[9] = {9, 2, 9, 0, 0, value, 0, 0x80, 50};
        b->cfg_start = b->len;
        memcpy(b->buf + b->len, c, sizeof(c));
        b->len += sizeof(c);
}

static inline void blob_interface(blob *b, uint8_t number, uint8_t alt, uint8_t cls, uint8_t sub, uint8_t proto) {
        const uint8_t i[9] = {9, 4, number, alt, 2, cls, sub, proto, 0};
        const uint8_t ep[7] = {7, 5, 0x81, 2, 0x00, 0x02, 0}; /* endpoints are skipped over */
        memcpy(b->buf + b->len, i, sizeof(i));
        b->len += sizeof(i);
        memcpy(b->buf + b->len, ep, sizeof(ep));
        b->len += sizeof(ep);
        size_t total = b->len - b->cfg_start;
        b->buf[b->cfg_start + 2] = total & 0xff;
        b->buf[b->cfg_start + 3] = total >> 8;
        b->buf[b->cfg_start + 4]++;
}
