// SPDX-License-Identifier: GPL-2.0
/* See smmu_notice.h. */
#include <inttypes.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include "log_journal.h"
#include "smmu_notice.h"

/* An overflow repeats as long as the queue stays full: one line a window. */
#define LOST_LOG_USEC	(10 * 1000000ull)
#define LOST_LOG_SMMUS	16u

static const char *cerror_name(uint64_t err)
{
	/* IHI 0070 H.a, 7.1: SMMU_CMDQ_CONS.ERR */
	switch (err) {
	case 1: return "CERROR_ILL";
	case 2: return "CERROR_ABT";
	case 3: return "CERROR_ATC_INV_SYNC";
	default: return "unknown";
	}
}

static uint64_t mono_usec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static void lost(const struct backend_event *ev)
{
	static uint64_t last[LOST_LOG_SMMUS];
	uint64_t now = mono_usec();

	if (ev->smmu < LOST_LOG_SMMUS) {
		if (last[ev->smmu] && now - last[ev->smmu] < LOST_LOG_USEC)
			return;
		last[ev->smmu] = now;
	}
	log_struct(LOG_WARNING, &(struct log_ids){ "events-lost", ev->smmu, LOG_ID_NONE,
						   LOG_ID_NONE },
		   "smmu %" PRIu32 ": event queue overflowed: fault records were lost", ev->smmu);
}

bool smmu_notice(struct daemon *d, const struct backend_event *ev)
{
	const struct log_ids ids = { NULL, ev->smmu, LOG_ID_NONE, LOG_ID_NONE };

	switch (ev->fault_type) {
	case PKVM_IOMMU_EVT_SMMU_FAILED:
		log_struct(LOG_CRIT, &(struct log_ids){ "smmu-failed", ids.smmu, ids.sid, ids.owner },
			   "smmu %" PRIu32 ": failed closed (%s): it aborts all DMA from now on",
			   ev->smmu, strerror((int)ev->addr));
		bus_emit_fault(d, ev);
		return true;
	case PKVM_IOMMU_EVT_CMD_ERROR:
		log_struct(LOG_ERR, &(struct log_ids){ "command-error", ids.smmu, ids.sid, ids.owner },
			   "smmu %" PRIu32 ": command refused (%s)", ev->smmu, cerror_name(ev->addr));
		bus_emit_fault(d, ev);
		return true;
	default:
		break;
	}
	if (!(ev->fault_flags & SMMU_NOTICE_FLAG_LOST))
		return false;
	lost(ev);
	if (ev->fault_type)
		return false;	/* a fault came with it: the caller signals that */
	bus_emit_fault(d, ev);
	return true;
}
