/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * Token models: the readers and keys (IC card readers for マイナンバーカード and JPKI, FIDO
 * keys) whose users need raw access to the USB device (usbfs, /dev/bus/usb/BBB/DDD) and to its
 * hidraw nodes. Anything else gets those nodes root's alone, whatever udev's rules would give.
 *
 * One model is written VID:PID or VID:PID/SERIAL: four hex digits each (either case), and a
 * serial of 1 to TG_TOKEN_SERIAL_MAX printable ASCII characters without spaces, exactly as the
 * device reports it. A list is models separated by spaces, at most TG_RAW_ACCESS_MODELS_MAX of them; in
 * termguard.conf every RawAccess= line adds to it and an empty one empties it, e.g.
 *
 *   [USB]
 *   RawAccess=04e6:5116 1050:0407/12345678
 *   RawAccess=096e:0858
 *
 * VID, PID and serial are what the device claims: a clone of an allowed model gets the same
 * access. A serial narrows a model to one key.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TG_RAW_ACCESS_MODELS_MAX 64
#define TG_TOKEN_SERIAL_MAX 126 /* as the media register's serials */
/* The longest model as text: "vvvv:pppp/" and the serial. */
#define TG_TOKEN_TEXT_MAX (10 + TG_TOKEN_SERIAL_MAX)

typedef struct {
        uint16_t vid, pid;
        char serial[TG_TOKEN_SERIAL_MAX + 1]; /* empty: any serial */
} tg_token_model;

typedef struct {
        size_t n;
        tg_token_model models[TG_RAW_ACCESS_MODELS_MAX];
} tg_token_list;

/* Parses one model of len bytes. Returns 0 or -EINVAL; ret is untouched on failure. */
int tg_token_model_parse(const char *text, size_t len, tg_token_model *ret);

/* The model as text into buf: "vvvv:pppp" or "vvvv:pppp/SERIAL", lower-case hex. Returns the
 * length, or -ENOBUFS when buf is too small. */
int tg_token_model_format(const tg_token_model *model, char *buf, size_t size);

/* Parses models separated by spaces or tabs and adds them to list; an empty text empties it (as
 * systemd's list settings: RawAccess= resets, each further line adds). Returns 0, -EINVAL for a
 * model that does not parse, -E2BIG when the list would hold more than TG_RAW_ACCESS_MODELS_MAX; list is
 * untouched on failure. */
int tg_token_list_extend(tg_token_list *list, const char *text);

/* True when the device claiming vid, pid and serial (NULL or empty: none) is a model of list
 * that may have raw access. A model with a serial matches that serial alone. */
bool tg_token_raw_allowed(const tg_token_list *list, uint16_t vid, uint16_t pid, const char *serial);
