/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A device's raw descriptors as sysfs gives them: whatever the device answered. */
#include <stdint.h>
#include <stdlib.h>

#include "termguard/usbdesc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        tg_usb_descriptors d;
        if (tg_usb_parse_descriptors(data, size, &d) < 0)
                return 0;
        if (d.n_interfaces > TG_USB_MAX_INTERFACES)
                abort();
        for (size_t i = 0; i < d.n_interfaces; i++)
                (void) tg_usb_interface_kind(&d.interfaces[i]);
        return 0;
}
