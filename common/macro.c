// SPDX-License-Identifier: GPL-2.0
#include "macro.h"

int grow_array(void **p, size_t *cap, size_t need, size_t size, size_t min_cap)
{
	size_t c = *cap ? *cap : (min_cap ? min_cap : 1);
	void *q;

	if (need <= *cap)
		return 0;
	while (c < need) {
		if (c > SIZE_MAX / 2)
			return -ENOMEM;
		c *= 2;
	}
	if (c > SIZE_MAX / size)
		return -ENOMEM;
	q = realloc(*p, c * size);
	if (!q)
		return -ENOMEM;
	*p = q;
	*cap = c;
	return 0;
}
