/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Idle compaction of a lazy shadow table where no host side does it. The
 * kernel module compacts on its own timer (PKVM_IOMMU_IOC_FOLD); the
 * simulation backend has nothing running between the daemon's calls, so
 * the daemon does the module's job from its event loop: fold.idle_ms after
 * the last ownership change it ingested, one COMPACT call (at most
 * fold.compact_budget folds, so one call's hold stays bounded) per loop
 * iteration until the hyp core says nothing remains. Each change restarts
 * the wait, so a busy table is never compacted, as with the module. A
 * backend without ops->compact never arms the timer.
 */
#ifndef PKVMD_COMPACT_H
#define PKVMD_COMPACT_H

#include "daemon.h"

/*
 * A change was ingested or the fold section changed: (re)starts the idle
 * wait when compaction applies (ops->compact, an event loop, mode lazy,
 * idle_ms > 0), else stops it. 0, or a negative errno from sd-event (then
 * the next change tries again; compaction is an optimisation, never
 * needed for isolation).
 */
int compact_kick(struct daemon *d);

/* Stops the timer. Safe twice. */
void compact_free(struct daemon *d);

#endif
