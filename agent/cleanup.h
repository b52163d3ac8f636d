/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* _cleanup_ for the libraries of the daemon: udev objects and json-c objects. */

#include <json-c/json.h>
#include <libudev.h>

#include "termguard/macro.h"

DEFINE_TRIVIAL_CLEANUP_FUNC(struct udev *, udev_unref)
DEFINE_TRIVIAL_CLEANUP_FUNC(struct udev_device *, udev_device_unref)
DEFINE_TRIVIAL_CLEANUP_FUNC(struct udev_enumerate *, udev_enumerate_unref)
DEFINE_TRIVIAL_CLEANUP_FUNC(json_object *, json_object_put)

#define _cleanup_udev_ _cleanup_(udev_unrefp)
#define _cleanup_udev_device_ _cleanup_(udev_device_unrefp)
#define _cleanup_udev_enumerate_ _cleanup_(udev_enumerate_unrefp)
#define _cleanup_json_ _cleanup_(json_object_putp)
