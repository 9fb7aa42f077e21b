/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The metrics file of pkvm-iommud: when the policy sets metrics.path, the
 * OpenMetrics text of metrics.h is written there at once and then every
 * metrics.interval_s seconds, for node_exporter's textfile collector.
 * Each write replaces the file atomically (temp file in the same
 * directory, fsync, rename, fsync of the directory), so a reader sees the
 * previous exposition or the next, never part of one. Failures are logged and counted
 * (daemon_counters.metrics_errors), never fatal.
 */
#ifndef PKVMD_METRICS_EXPORT_H
#define PKVMD_METRICS_EXPORT_H

#include <stddef.h>

#include "daemon.h"

/*
 * Follows d->policy.metrics: starts, moves to a new path, re-arms for a new
 * interval, or stops. A path no longer configured is left as it is (its
 * owner decides about it). A no-op until d->event exists; call it again
 * once it does. Returns 0 or -ENOMEM (the export is then off).
 */
int metrics_export_update(struct daemon *d);

/* Stops the timer and frees the state; the file stays. Safe twice. */
void metrics_export_free(struct daemon *d);

/* Writes the file now (when configured): 0, or -errno, counted as an error. */
int metrics_export_now(struct daemon *d);

/*
 * len bytes of text to path, all or nothing for readers, with mode 0644:
 * write_file_atomic() (its hidden temp file never matches node_exporter's
 * *.prom). Returns 0 or -errno.
 */
int metrics_write_atomic(const char *path, const char *text, size_t len);

#endif
