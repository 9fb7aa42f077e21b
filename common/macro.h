/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Small helpers every user-space part shares (daemon, CLI, tests), in the
 * manner of systemd's basic/macro.h: scope-bound cleanup and array growth.
 */
#ifndef PKVM_COMMON_MACRO_H
#define PKVM_COMMON_MACRO_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define _cleanup_(f) __attribute__((cleanup(f)))

#define ELEMENTSOF(a) (sizeof(a) / sizeof((a)[0]))

/* funcp(type *p) calls func(*p) unless it is NULL: for _cleanup_(funcp). */
#define DEFINE_TRIVIAL_CLEANUP_FUNC(type, func)	\
	static inline void func##p(type *p)	\
	{					\
		if (*p)				\
			func(*p);		\
	}

static inline void freep(void *p)
{
	free(*(void **)p);
}
#define _cleanup_free_ _cleanup_(freep)

static inline void closep(int *fd)
{
	if (*fd >= 0)
		close(*fd);
}
#define _cleanup_close_ _cleanup_(closep)

static inline void fclosep(FILE **f)
{
	if (*f)
		fclose(*f);
}
#define _cleanup_fclose_ _cleanup_(fclosep)

/* Hands *p over to a new owner: its cleanup attribute then frees nothing. */
#define TAKE_PTR(p) ({ __typeof__(p) _p_ = (p); (p) = NULL; _p_; })
#define TAKE_FD(fd) ({ int _fd_ = (fd); (fd) = -1; _fd_; })

/*
 * Make room for need elements of size bytes in *p, which holds *cap: the
 * capacity at least doubles (starting at min_cap), so n appends cost O(n).
 * 0, or -ENOMEM with *p and *cap unchanged.
 */
int grow_array(void **p, size_t *cap, size_t need, size_t size, size_t min_cap);
#define GROW_ARRAY(p, cap, need, min_cap) \
	grow_array((void **)&(p), &(cap), (need), sizeof(*(p)), (min_cap))

#endif /* PKVM_COMMON_MACRO_H */
