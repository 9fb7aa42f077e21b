// SPDX-License-Identifier: GPL-2.0
/*
 * The metrics file (metrics_export.h): a timer in the daemon's sd-event
 * loop renders metrics.h's text and replaces the file atomically.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "atomic_write.h"
#include "macro.h"
#include "metrics.h"
#include "metrics_export.h"

#define USEC_PER_SEC 1000000ull

struct metrics_export {
	char *path;			/* where it writes now */
	uint32_t interval_s;
	sd_event_source *timer;
	int last_error;			/* of the last write: log changes only */
};

int metrics_write_atomic(const char *path, const char *text, size_t len)
{
	/* node_exporter reads it as another user. */
	return write_file_atomic(path, text, len, 0644);
}

/*
 * The temp files a write of path left when the daemon was killed between
 * creating one and renaming it (write_file_atomic(): ".NAME.XXXXXX" beside
 * the file). Before the first write to a path: this daemon is the file's
 * only writer (one instance holds the bus name), and it has not begun.
 */
static void clean_stale_temps(const char *path)
{
	_cleanup_free_ char *copy = strdup(path);
	const char *dir = ".", *name = path;
	char *slash = copy ? strrchr(copy, '/') : NULL;
	int n;

	if (!copy)
		return;
	if (slash) {
		*slash = '\0';
		dir = slash == copy ? "/" : copy;
		name = slash + 1;
	}
	if (!*name)
		return;
	n = write_file_atomic_clean(dir, name);
	if (n > 0)
		syslog(LOG_NOTICE, "metrics: %s: removed %d temp file%s an interrupted write left",
		       dir, n, n == 1 ? "" : "s");
	else if (n < 0 && n != -ENOENT)
		syslog(LOG_WARNING, "metrics: %s: cannot look for stale temp files: %s", dir,
		       strerror(-n));
}

int metrics_export_now(struct daemon *d)
{
	struct metrics_export *m = d->metrics;
	_cleanup_free_ char *text = NULL;
	size_t len = 0;
	int ret;

	if (!m || !m->path)
		return 0;
	ret = metrics_text(d, &text, &len);
	if (!ret)
		ret = metrics_write_atomic(m->path, text, len);
	if (ret) {
		d->ctr.metrics_errors++;
		/* Once per kind of failure, not every interval. */
		if (ret != m->last_error)
			syslog(LOG_ERR, "metrics: cannot write %s: %s (retrying every %u s)",
			       m->path, strerror(-ret), m->interval_s);
	} else if (m->last_error) {
		syslog(LOG_NOTICE, "metrics: %s written again", m->path);
	}
	m->last_error = ret;
	return ret;
}

static int on_timer(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct daemon *d = userdata;

	metrics_export_now(d);
	/* From the planned time, so the interval does not drift. */
	return sd_event_source_set_time(s, usec + d->metrics->interval_s * USEC_PER_SEC);
}

void metrics_export_free(struct daemon *d)
{
	struct metrics_export *m = d ? d->metrics : NULL;

	if (!m)
		return;
	d->metrics = NULL;
	sd_event_source_disable_unref(m->timer);
	free(m->path);
	free(m);
}

int metrics_export_update(struct daemon *d)
{
	const char *path = d->policy.metrics.path;
	uint32_t interval = d->policy.metrics.interval_s;
	struct metrics_export *m = d->metrics;
	bool moved;
	int ret;

	if (!d->event)
		return 0;
	if (!path) {
		if (m)
			syslog(LOG_NOTICE, "metrics: export off, %s left as it is", m->path);
		metrics_export_free(d);
		return 0;
	}
	if (!m) {
		m = d->metrics = calloc(1, sizeof(*m));
		if (!m)
			return -ENOMEM;
	}
	moved = !m->path || strcmp(m->path, path);
	/* Same file, same interval: keep the timer's rhythm. */
	if (!moved && m->interval_s == interval)
		return 0;
	if (moved) {
		char *p = strdup(path);

		if (!p) {
			metrics_export_free(d);
			return -ENOMEM;
		}
		if (m->path)
			syslog(LOG_NOTICE, "metrics: moving to %s, %s left as it is", p, m->path);
		free(m->path);
		m->path = p;
		m->last_error = 0;
		clean_stale_temps(m->path);
	}
	m->interval_s = interval;
	if (!m->timer)
		ret = sd_event_add_time_relative(d->event, &m->timer, CLOCK_MONOTONIC,
						 interval * USEC_PER_SEC, 0, on_timer, d);
	else
		ret = sd_event_source_set_time_relative(m->timer, interval * USEC_PER_SEC);
	if (ret >= 0)
		ret = sd_event_source_set_enabled(m->timer, SD_EVENT_ON);
	if (ret < 0) {
		syslog(LOG_ERR, "metrics: timer: %s; export off", strerror(-ret));
		metrics_export_free(d);
		return ret;
	}
	syslog(LOG_INFO, "metrics: writing %s every %u s", m->path, m->interval_s);
	/* A new file appears at once, not one interval later. */
	if (moved)
		metrics_export_now(d);
	return 0;
}
