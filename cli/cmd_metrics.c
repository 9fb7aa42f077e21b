// SPDX-License-Identifier: GPL-2.0
/*
 * pkvm-iommuctl metrics: the OpenMetrics text the daemon makes (GetMetrics),
 * printed as it came, so it can be piped to a file or a push gateway.
 * Its format is OpenMetrics', not ours: no table, no --json.
 */
#include <string.h>

#include "ctl.h"
#include "output.h"

int verb_metrics(struct ctl *c, int argc, char **argv)
{
	_cleanup_bus_error_ sd_bus_error error = SD_BUS_ERROR_NULL;
	_cleanup_bus_ sd_bus *bus = NULL;
	_cleanup_msg_ sd_bus_message *reply = NULL;
	const char *text;
	int r;

	r = ctl_connect(c, &bus);
	if (r)
		return r;
	r = ctl_call(bus, "GetMetrics", &error, &reply, NULL);
	if (r >= 0)
		r = sd_bus_message_read(reply, "s", &text);
	if (r < 0)
		return ctl_bus_fail(c, "GetMetrics", r, &error);
	fputs(text, stdout);
	return output_done(0);
}
