// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdarg.h>

#include "log.h"

int log_full_errno(int level, int error, const char *fmt, ...)
{
	int saved = errno;
	va_list ap;

	if (error > 0)
		error = -error;
	errno = -error;
	va_start(ap, fmt);
	vsyslog(level, fmt, ap);
	va_end(ap);
	errno = saved;
	return error;
}
