// SPDX-License-Identifier: GPL-2.0
#include "s2_fixture.h"

#include <stdlib.h>
#include <sys/mman.h>

int s2_fixture_init(struct s2_fixture *f, struct s2_config *cfg)
{
	size_t bytes = cfg->pool_pages * HYP_PAGE_SIZE;
	int ret;

	f->pool_pa = cfg->pool_pa;
	f->pool_pages = cfg->pool_pages;
	/*
	 * The hypervisor reaches its pool through a linear map of blocks:
	 * huge pages keep the simulator from paying a TLB miss per table.
	 */
	if (posix_memalign(&f->pool_buf, 2u << 20, bytes))
		return -ENOMEM;
	(void)madvise(f->pool_buf, bytes, MADV_HUGEPAGE);
#ifdef MADV_POPULATE_WRITE
	/*
	 * And backed from the start, as the hypervisor's pool is: a table's
	 * first use must not be a page fault and a zeroed huge page, which
	 * the EL2 engine never pays and which would land in whatever the
	 * benchmark times. Best effort: older kernels fault on first use.
	 */
	(void)madvise(f->pool_buf, bytes, MADV_POPULATE_WRITE);
#endif
	ret = sim_phys_map(cfg->pool_pa, bytes, f->pool_buf);
	if (ret) {
		free(f->pool_buf);
		f->pool_buf = NULL;
		return ret;
	}
	ret = s2_init(&f->pgt, cfg);
	if (ret)
		s2_fixture_fini(f);
	return ret;
}

void s2_fixture_fini(struct s2_fixture *f)
{
	if (!f->pool_buf)
		return;
	sim_phys_unmap(f->pool_pa);
	free(f->pool_buf);
	f->pool_buf = NULL;
}
