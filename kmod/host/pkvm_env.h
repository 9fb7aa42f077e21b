/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Kernel (EL1 host mode) environment of the hyp core; the contract is in
 * kmod/hyp/hyp_env.h. The hyp core runs as ordinary kernel code here, so
 * memory is the linear map and MMIO goes through the module's ioremap.
 */
#ifndef PKVM_HOST_ENV_H
#define PKVM_HOST_ENV_H

#include <linux/bug.h>
#include <linux/errno.h>
#include <linux/io.h>
#include <linux/ktime.h>
#include <linux/printk.h>
#include <linux/processor.h>
#include <linux/spinlock.h>
#include <linux/string.h>
#include <linux/types.h>
#include <asm/barrier.h>
#include <asm/memory.h>

#define hyp_memset memset
#define hyp_memcpy memcpy

static inline void *hyp_phys_to_virt(u64 pa)
{
	return phys_to_virt(pa);
}

static inline u64 hyp_virt_to_phys(const void *va)
{
	return virt_to_phys((void *)va);
}

static inline u64 hyp_read_pte(const u64 *ptep)
{
	return READ_ONCE(*ptep);
}

static inline void hyp_write_pte(u64 *ptep, u64 v)
{
	WRITE_ONCE(*ptep, v);
}

/*
 * dcache_clean_poc() is not exported to modules, so the module refuses an
 * SMMU that does not snoop (SMMU_IDR0.COHACC == 0) and this is never
 * reached with work to do.
 */
#define hyp_clean_dcache(va, size)	do { (void)(va); (void)(size); } while (0)

#define hyp_wmb_dev()	wmb()
#define hyp_mb()	mb()

typedef spinlock_t hyp_spinlock_t;
#define hyp_spin_lock_init(l)	spin_lock_init(l)
#define hyp_spin_lock(l)	spin_lock(l)
#define hyp_spin_unlock(l)	spin_unlock(l)

static inline u32 hyp_readl(const volatile void *addr)
{
	return readl_relaxed((const volatile void __iomem *)addr);
}

static inline void hyp_writel(u32 v, volatile void *addr)
{
	writel_relaxed(v, (volatile void __iomem *)addr);
}

static inline u64 hyp_readq(const volatile void *addr)
{
	return readq_relaxed((const volatile void __iomem *)addr);
}

static inline void hyp_writeq(u64 v, volatile void *addr)
{
	writeq_relaxed(v, (volatile void __iomem *)addr);
}

/* kmod/host/env.c */
void *hyp_mmio_map(u64 pa, u64 size);
void *hyp_mem_map(u64 pa, u64 size);
int hyp_copy_from_host(void *dst, u64 pa, u64 size);
int hyp_copy_to_host(u64 pa, const void *src, u64 size);
/* The host driver registers what it ioremapped, for hyp_mmio_map(). */
int pkvm_env_mmio_register(u64 pa, u64 size, void __iomem *va);
void pkvm_env_mmio_unregister(u64 pa);

static inline u64 hyp_now_ns(void)
{
	return ktime_get_ns();
}

#define hyp_cpu_relax()	cpu_relax()

/*
 * BUG(), not WARN(): the core cannot undo a half-made table change, and a
 * table nobody can vouch for must not keep confining DMA (at EL2 this is
 * hyp_panic()).
 */
#define hyp_bug(msg) do {						\
	pr_crit("pkvm_iommu: hyp core bug: %s\n", (msg));		\
	BUG();								\
} while (0)

#endif /* PKVM_HOST_ENV_H */
