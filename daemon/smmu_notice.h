/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What an SMMU says about itself among the fault events (fault types
 * above its 8-bit event numbers, or the lost-records flag): it failed
 * closed, it refused a command, its event queue overflowed. Each is a
 * Fault signal and a log line with the journal fields (PKVM_EVENT=
 * smmu-failed, command-error, events-lost; PKVM_SMMU=); the counts are
 * the SMMU's own, in the metrics (metrics.c).
 */
#ifndef PKVMD_SMMU_NOTICE_H
#define PKVMD_SMMU_NOTICE_H

#include <stdbool.h>

#include "daemon.h"

/* bit 2 of backend_event.fault_flags */
#define SMMU_NOTICE_FLAG_LOST	4u

/*
 * Tells ev if it carries an SMMU's notice. True when that is all it
 * carries; false when it is (also) a stream's fault, for the caller.
 */
bool smmu_notice(struct daemon *d, const struct backend_event *ev);

#endif
