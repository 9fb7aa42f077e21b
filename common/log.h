/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Log and hand the error back in one statement, as systemd's
 * log_error_errno(): `return log_error_errno(r, "...: %m");`. %m is the
 * error's text (glibc's syslog(3) expands it from errno, which is set to
 * the error for the call and restored after).
 */
#ifndef PKVM_COMMON_LOG_H
#define PKVM_COMMON_LOG_H

#include <syslog.h>

/* syslog(3)s the message at level; returns error as a negative errno. */
__attribute__((format(printf, 3, 4)))
int log_full_errno(int level, int error, const char *fmt, ...);

#define log_error_errno(error, ...)	log_full_errno(LOG_ERR, (error), __VA_ARGS__)
#define log_warning_errno(error, ...)	log_full_errno(LOG_WARNING, (error), __VA_ARGS__)
#define log_notice_errno(error, ...)	log_full_errno(LOG_NOTICE, (error), __VA_ARGS__)

#endif /* PKVM_COMMON_LOG_H */
