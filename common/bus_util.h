/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Scope-bound cleanup of sd-bus and sd-event objects, for the daemon's bus
 * side and the CLI (needs libsystemd).
 */
#ifndef PKVM_COMMON_BUS_UTIL_H
#define PKVM_COMMON_BUS_UTIL_H

#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "macro.h"

#define _cleanup_msg_ _cleanup_(sd_bus_message_unrefp)
#define _cleanup_bus_error_ _cleanup_(sd_bus_error_free)
/* A connection of our own: flush what is queued, then close it. */
#define _cleanup_bus_ _cleanup_(sd_bus_flush_close_unrefp)
#define _cleanup_event_ _cleanup_(sd_event_unrefp)

#endif /* PKVM_COMMON_BUS_UTIL_H */
