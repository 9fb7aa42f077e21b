// SPDX-License-Identifier: GPL-2.0
#include "smmu_fixture.h"

#include <stdlib.h>

static u64 l2_alloc(void *cookie)
{
	struct smmu_fixture *f = cookie;
	u64 pa = f->l2_next;

	if (pa + HYP_PAGE_SIZE > f->mem_pa + FX_MEM_SIZE)
		return 0;
	f->l2_next += HYP_PAGE_SIZE;
	f->l2_allocs++;
	return pa;
}

int fx_init(struct smmu_fixture *f, const struct smmu_model_cfg *mcfg)
{
	return fx_init_at(f, mcfg, FX_MEM_PA);
}

int fx_init_at(struct smmu_fixture *f, const struct smmu_model_cfg *mcfg, u64 pa)
{
	int ret;

	memset(f, 0, sizeof(*f));
	f->mem_pa = pa;
	if (posix_memalign(&f->regs, 0x10000, SMMU_MODEL_REGS_SIZE) ||
	    posix_memalign(&f->mem, HYP_PAGE_SIZE, FX_MEM_SIZE))
		return -ENOMEM;
	memset(f->mem, 0xa5, FX_MEM_SIZE);	/* the driver must not rely on zeroes */
	ret = sim_phys_map(pa, FX_MEM_SIZE, f->mem);
	if (ret)
		return ret;
	ret = smmu_model_init(&f->model, f->regs, mcfg);
	if (ret)
		return ret;
	f->l2_next = pa + (FX_L2_PA - FX_MEM_PA);
	f->dcfg = (struct smmu_dev_config){
		.regs = f->regs,
		.pa_bits = 34,
		.strtab_pa = pa + (FX_STRTAB_PA - FX_MEM_PA),
		.strtab_size = 0x10000,
		.strtab_fmt = SMMU_STRTAB_AUTO,
		/* A linear table of all 2^16 StreamIDs would not fit in 64 KiB. */
		.sid_bits = mcfg->two_level ? 0 : 8,
		.cmdq_pa = pa + (FX_CMDQ_PA - FX_MEM_PA),
		.cmdq_log2 = 8,
		.evtq_pa = pa + (FX_EVTQ_PA - FX_MEM_PA),
		.evtq_log2 = 7,
		.l2_pages = { l2_alloc, f },
		.timeout_ns = 20 * 1000 * 1000,
	};
	return 0;
}

int fx_dev_init(struct smmu_fixture *f)
{
	return smmu_dev_init(&f->dev, &f->dcfg);
}

void fx_fini(struct smmu_fixture *f)
{
	if (f->regs)
		smmu_model_fini(&f->model);
	if (f->mem)
		sim_phys_unmap(f->mem_pa);
	free(f->regs);
	free(f->mem);
	f->regs = f->mem = NULL;
}

unsigned int fx_events(struct smmu_fixture *f, struct smmu_event *ev,
		       unsigned int n, bool *overflow)
{
	struct smmu_event tmp;
	unsigned int got = 0;
	bool ovf;

	*overflow = false;
	while (smmu_evtq_pop(&f->dev.evtq, got < n ? &ev[got] : &tmp, &ovf)) {
		*overflow |= ovf;
		got++;
	}
	*overflow |= ovf;
	return got < n ? got : n;
}
