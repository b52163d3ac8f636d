/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <libudev.h>

/* Unmounts every filesystem on block devices below syspath (a busy one is detached). Returns
 * how many were unmounted, or a negative errno when it could not look or one could not be
 * unmounted; each failure is logged with its reason here. */
int mounts_unmount_below(struct udev *udev, const char *syspath, const char *why);

/* Takes fd, the host's mount namespace (handed over by the unit), as the place to unmount in;
 * without it termguardd unmounts where it runs. Call before the USB workers start. Returns 0 or
 * a negative errno (-EINVAL: fd is no mount namespace). */
int mounts_set_host_namespace(int fd);
