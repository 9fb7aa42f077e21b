// SPDX-License-Identifier: GPL-2.0
/* Kernel environment of the hyp core: what cannot be an inline. */
#include <linux/mm.h>
#include <linux/pfn.h>

#include "pkvm_env.h"

struct mmio_window {
	u64 pa;
	u64 size;
	void __iomem *va;
};

#define MMIO_WINDOWS 8
static struct mmio_window mmio[MMIO_WINDOWS];
static DEFINE_SPINLOCK(mmio_lock);

int pkvm_env_mmio_register(u64 pa, u64 size, void __iomem *va)
{
	int ret = -ENOSPC;

	spin_lock(&mmio_lock);
	for (int i = 0; i < MMIO_WINDOWS; i++) {
		if (!mmio[i].size) {
			mmio[i] = (struct mmio_window){ pa, size, va };
			ret = 0;
			break;
		}
	}
	spin_unlock(&mmio_lock);
	return ret;
}

void pkvm_env_mmio_unregister(u64 pa)
{
	spin_lock(&mmio_lock);
	for (int i = 0; i < MMIO_WINDOWS; i++)
		if (mmio[i].size && mmio[i].pa == pa)
			mmio[i] = (struct mmio_window){ 0 };
	spin_unlock(&mmio_lock);
}

void *hyp_mmio_map(u64 pa, u64 size)
{
	void *va = NULL;

	spin_lock(&mmio_lock);
	for (int i = 0; i < MMIO_WINDOWS; i++) {
		struct mmio_window *w = &mmio[i];

		if (w->size && pa >= w->pa && pa - w->pa < w->size &&
		    size <= w->size - (pa - w->pa)) {
			va = (void __force *)w->va + (pa - w->pa);
			break;
		}
	}
	spin_unlock(&mmio_lock);
	return va;
}

/*
 * Memory the hyp core may touch is RAM in the linear map: every page of
 * the range must have a struct page and not be reserved-for-nothing.
 */
void *hyp_mem_map(u64 pa, u64 size)
{
	u64 end = pa + size;

	if (!size || end < pa)
		return NULL;
	for (u64 pfn = PHYS_PFN(pa); pfn <= PHYS_PFN(end - 1); pfn++)
		if (!pfn_valid(pfn))
			return NULL;
	return phys_to_virt(pa);
}

int hyp_copy_from_host(void *dst, u64 pa, u64 size)
{
	void *src = hyp_mem_map(pa, size);

	if (!src)
		return -EFAULT;
	memcpy(dst, src, size);
	return 0;
}

int hyp_copy_to_host(u64 pa, const void *src, u64 size)
{
	void *dst = hyp_mem_map(pa, size);

	if (!dst)
		return -EFAULT;
	memcpy(dst, src, size);
	return 0;
}
