// SPDX-License-Identifier: GPL-2.0
#include "hostbuf.h"

#include <stdlib.h>

const struct s2_region hostbuf_two_regions[2] = {
	{ 1ull << 30, 3ull << 30 },
	{ (8ull << 30) + 0x3000, 1ull << 30 },
};

void *hostbuf_map(u64 pa, u64 size)
{
	void *buf;

	if (posix_memalign(&buf, HYP_PAGE_SIZE, size))
		return NULL;
	memset(buf, 0, size);
	if (sim_phys_map(pa, size, buf)) {
		free(buf);
		return NULL;
	}
	return buf;
}

void hostbuf_unmap(u64 pa, void *buf)
{
	sim_phys_unmap(pa);
	free(buf);
}
