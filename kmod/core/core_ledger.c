// SPDX-License-Identifier: GPL-2.0
/*
 * The ownership ledger as the host reports it (PKVM_IOMMU_CMD_LEDGER_GET,
 * and the daemon's resync): the hyp core's LEDGER_READ, a page of runs at
 * a time, each run memory that is not plain host memory.
 */
#include "core_int.h"

#define RUN_MAX ((HYP_PAGE_SIZE - sizeof(struct pkvm_iommu_ledger_hdr)) / \
		 sizeof(struct pkvm_iommu_ledger_run))

int pkvm_core_ledger_walk(struct pkvm_core *c, u64 from, pkvm_core_run_fn fn, void *arg,
			  u64 *resume)
{
	u8 *page = core_page(c);
	struct pkvm_iommu_ledger_hdr hdr;
	struct pkvm_iommu_ledger_run r;
	int ret;

	*resume = from;
	if (!page)
		return -ENOMEM;
	/* The runs are told at c->generation: the ring's records come first. */
	pkvm_core_sync(c);
	do {
		s64 n = pkvm_core_call(c, PKVM_IOMMU_HVC_LEDGER_READ, from, hyp_virt_to_phys(page),
				       RUN_MAX, 0, 0, 0);

		if (n < 0)
			return (int)n;
		hyp_memcpy(&hdr, page, sizeof(hdr));
		for (s64 i = 0; i < n; i++) {
			struct pkvm_core_run run;

			hyp_memcpy(&r, page + sizeof(hdr) + i * sizeof(r), sizeof(r));
			run = (struct pkvm_core_run){ .addr = r.addr, .len = r.len, .owner = r.owner,
				.shared = r.flags & PKVM_IOMMU_RUN_SHARED };
			ret = fn(&run, arg);
			/* Only a refused run stops the walk early: it is where to go on. */
			if (ret) {
				*resume = r.addr;
				return ret;
			}
		}
		from = hdr.resume;
		*resume = from;
	} while (!(hdr.flags & PKVM_IOMMU_LEDGER_END));
	return 0;
}
