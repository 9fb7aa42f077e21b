// SPDX-License-Identifier: GPL-2.0
/* The daemon's idle compaction of the sim backend (see compact.h). */
#include <errno.h>
#include <string.h>
#include <syslog.h>

#include "compact.h"

/* Fires with the wait's end a little late rather than coalesced 250 ms late. */
#define COMPACT_ACCURACY_USEC	1000u

static bool applies(const struct daemon *d)
{
	return d->event && d->backend && d->backend->ops->compact &&
	       d->policy.fold.mode == PKVM_FOLD_LAZY && d->policy.fold.idle_ms;
}

static int arm(struct daemon *d, uint64_t usec);

static int on_compact(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct daemon *d = userdata;
	uint32_t folded;
	bool more;
	int r;

	(void)s;
	if (!applies(d))
		return 0;
	r = d->backend->ops->compact(d->backend, &folded, &more);
	if (r < 0) {
		syslog(LOG_WARNING, "compaction: %s; trying again after the next change",
		       strerror(-r));
		return 0;
	}
	/* More left: the next call after whatever else waits in the loop. */
	return more ? arm(d, usec) : 0;
}

static int arm(struct daemon *d, uint64_t usec)
{
	int r;

	if (!d->compact_timer) {
		r = sd_event_add_time(d->event, &d->compact_timer, CLOCK_MONOTONIC, usec,
				      COMPACT_ACCURACY_USEC, on_compact, d);
		if (r < 0)
			return r;
	} else {
		r = sd_event_source_set_time(d->compact_timer, usec);
		if (r < 0)
			return r;
	}
	return sd_event_source_set_enabled(d->compact_timer, SD_EVENT_ONESHOT);
}

int compact_kick(struct daemon *d)
{
	uint64_t now;
	int r;

	if (!applies(d)) {
		if (d->compact_timer)
			sd_event_source_set_enabled(d->compact_timer, SD_EVENT_OFF);
		return 0;
	}
	r = sd_event_now(d->event, CLOCK_MONOTONIC, &now);
	if (r < 0)
		return r;
	r = arm(d, now + (uint64_t)d->policy.fold.idle_ms * 1000u);
	if (r < 0)
		syslog(LOG_WARNING, "compaction timer: %s", strerror(-r));
	return r;
}

void compact_free(struct daemon *d)
{
	d->compact_timer = sd_event_source_disable_unref(d->compact_timer);
}
