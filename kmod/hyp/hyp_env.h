/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The whole world the hyp core may see. kmod/hyp/ runs at EL2 under pKVM,
 * as plain kernel code in host mode, and in user space for tests and the
 * simulation backend; it therefore uses nothing but what this header names.
 * Each build puts its own <pkvm_env.h> first on the include path:
 *   kmod/host/pkvm_env.h  (Linux kernel, EL1 host mode)
 *   sim/pkvm_env.h        (user space)
 *
 * An environment provides:
 *   types     u8 u16 u32 u64 s32 s64, bool/true/false, NULL
 *   errors    the Linux errno names (EINVAL, ERANGE, ...) as positive ints
 *   memory    hyp_memset(), hyp_memcpy()
 *             hyp_phys_to_virt(pa), hyp_virt_to_phys(va): the hyp core keeps
 *             physical addresses in descriptors and registers and converts
 *             only to touch memory (the names are those of nVHE hyp code)
 *   pte       hyp_read_pte(ptep), hyp_write_pte(ptep, v): single-copy-atomic
 *             64-bit access, since the SMMU walks the table concurrently
 *   caches    hyp_clean_dcache(va, size): push table writes to the point of
 *             coherency for an SMMU that walks without snooping
 *             (SMMU_IDR0.COHACC == 0)
 *   barriers  hyp_wmb_dev(): descriptor/queue writes visible to the SMMU
 *             before a later MMIO write or command (DSB ST on arm64)
 *             hyp_mb(): full barrier
 *   locks     hyp_spinlock_t, hyp_spin_lock_init/lock/unlock
 *   mmio      hyp_readl/hyp_writel/hyp_readq/hyp_writeq (relaxed accessors;
 *             ordering is requested explicitly with the barriers above)
 *             hyp_mmio_map(pa, size): the va of a device's registers, or
 *             NULL when this environment cannot reach them
 *   host mem  hyp_mem_map(pa, size): the va of memory the host hands over
 *             (table pool, SMMU tables), or NULL when it is not memory
 *             this environment can reach
 *             hyp_copy_from_host(dst, pa, size), hyp_copy_to_host(pa, src,
 *             size): 0 or -EFAULT when [pa, pa+size) is not memory this
 *             environment can reach; ownership is the caller's check
 *   time      hyp_now_ns(): monotonic, for bounded waits only
 *   cpu       hyp_cpu_relax()
 *   bugs      hyp_bug(msg): an invariant of the hyp core broke, which is a
 *             bug in it and not an error a caller could act on; does not
 *             return. Errors are for what the host asked; a table the core
 *             can no longer vouch for must not go on isolating devices.
 */
#ifndef PKVM_HYP_ENV_H
#define PKVM_HYP_ENV_H

#include <pkvm_env.h>
#include <linux/pkvm_iommu.h>

#define HYP_PAGE_SHIFT		12
#define HYP_PAGE_SIZE		(1ull << HYP_PAGE_SHIFT)
#define HYP_PAGE_MASK		(~(HYP_PAGE_SIZE - 1))

#define HYP_BIT(n)		(1ull << (n))
/* Bits h..l inclusive, as the Arm ARM writes field positions. */
#define HYP_GENMASK(h, l)	((~0ull >> (63 - (h))) & (~0ull << (l)))
#define HYP_FIELD_GET(mask, v)	(((u64)(v) & (mask)) >> __builtin_ctzll(mask))
#define HYP_FIELD_PREP(mask, v)	(((u64)(v) << __builtin_ctzll(mask)) & (mask))

#define HYP_ALIGN_DOWN(x, a)	((x) & ~((u64)(a) - 1))
#define HYP_IS_ALIGNED(x, a)	(((x) & ((u64)(a) - 1)) == 0)
#define HYP_MIN(a, b)		((a) < (b) ? (a) : (b))
#define HYP_MAX(a, b)		((a) > (b) ? (a) : (b))
#define HYP_ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
#define HYP_OFFSETOF(t, m)	__builtin_offsetof(t, m)

#endif /* PKVM_HYP_ENV_H */
