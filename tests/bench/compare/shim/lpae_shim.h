/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The kernel environment Linux's io-pgtable-arm.c expects, in user space:
 * every <linux/...> and <asm/...> header it includes (and the ones the
 * kernel's <linux/io-pgtable.h> includes) is a one-line file in this folder
 * that includes this one. Written for this benchmark, not copied: only the
 * names the file uses, with the meaning it relies on.
 *
 * Two shim points carry the measurement (lpae_engine.c):
 *  - the walk is configured non-coherent, so every store to a descriptor
 *    array is followed by dma_sync_single_for_device() over exactly the
 *    entries written; that call counts descriptor writes and costs nothing;
 *  - page-table memory comes from cfg->alloc/free, which count table pages.
 */
#ifndef PKVM_LPAE_SHIM_H
#define PKVM_LPAE_SHIM_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef uint8_t u8;
typedef uint16_t u16;
typedef uint32_t u32;
typedef uint64_t u64;
typedef int64_t s64;
typedef int32_t s32;
typedef u64 phys_addr_t;
typedef u64 dma_addr_t;
typedef unsigned int gfp_t;

#define GFP_KERNEL 0u
#define GFP_ATOMIC 0u
#define __GFP_ZERO 0u
#define NUMA_NO_NODE (-1)

#define PAGE_SIZE 4096UL
#define PAGE_MASK (~(PAGE_SIZE - 1))
#define SZ_4K 0x1000
#define SZ_16K 0x4000
#define SZ_64K 0x10000
#define SZ_2M 0x200000
#define SZ_32M 0x2000000
#define SZ_512M 0x20000000
#define SZ_1G 0x40000000

#define BIT(n) (1UL << (n))
#define BIT_ULL(n) (1ULL << (n))
#define GENMASK(h, l) ((~0UL << (l)) & (~0UL >> (63 - (h))))
#define GENMASK_ULL(h, l) ((~0ULL << (l)) & (~0ULL >> (63 - (h))))
#define ilog2(n) ((int)(63 - __builtin_clzll((unsigned long long)(n))))
#define __ffs(x) ((unsigned long)__builtin_ctzl(x))
#define __fls(x) ((unsigned long)(63 - __builtin_clzl(x)))
#define fls(x) ((x) ? 32 - __builtin_clz((unsigned int)(x)) : 0)
#define is_power_of_2(n) ((n) != 0 && (((n) & ((n) - 1)) == 0))
#define DIV_ROUND_UP(n, d) (((n) + (d) - 1) / (d))
#define ALIGN(x, a) (((x) + (a) - 1) & ~((typeof(x))(a) - 1))
#define IS_ALIGNED(x, a) (((x) & ((typeof(x))(a) - 1)) == 0)
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#define max(a, b) ((a) > (b) ? (a) : (b))
#define min(a, b) ((a) < (b) ? (a) : (b))
#define min_t(t, a, b) ((t)(a) < (t)(b) ? (t)(a) : (t)(b))
#define max_t(t, a, b) ((t)(a) > (t)(b) ? (t)(a) : (t)(b))

#define container_of(ptr, type, member) \
	((type *)(void *)((char *)(ptr) - offsetof(type, member)))

#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)
#define __maybe_unused __attribute__((unused))
#define __init
#define __initdata
#ifndef __always_inline
#define __always_inline inline __attribute__((always_inline))
#endif
#define fallthrough __attribute__((fallthrough))

#define READ_ONCE(x) (*(const volatile typeof(x) *)&(x))
#define WRITE_ONCE(x, v) (*(volatile typeof(x) *)&(x) = (v))

/* The benchmark's table stays in one thread: no barrier orders anything. */
#define wmb() __atomic_thread_fence(__ATOMIC_SEQ_CST)
#define dma_wmb() __atomic_signal_fence(__ATOMIC_SEQ_CST)
#define cmpxchg64_relaxed(p, o, n) \
	({ typeof(*(p)) __old = (o); \
	   __atomic_compare_exchange_n((p), &__old, (n), false, __ATOMIC_RELAXED, __ATOMIC_RELAXED); \
	   __old; })

void lpae_shim_warn(const char *file, int line);
#define WARN_ON(c) ({ bool __c = !!(c); if (unlikely(__c)) lpae_shim_warn(__FILE__, __LINE__); __c; })
#define WARN_ON_ONCE(c) WARN_ON(c)
#define WARN(c, ...) WARN_ON(c)
#define WARN_ONCE(c, ...) WARN_ON(c)
#define pr_err(...) fprintf(stderr, __VA_ARGS__)
#define pr_warn(...) fprintf(stderr, __VA_ARGS__)
#define pr_info(...) ((void)0)
#define dev_err(dev, ...) fprintf(stderr, __VA_ARGS__)
#define EXPORT_SYMBOL_GPL(x)

struct device;
#define dev_to_node(dev) NUMA_NO_NODE

/* Identity: the benchmark's "physical" addresses are user pointers (oas 48). */
#define virt_to_phys(p) ((phys_addr_t)(uintptr_t)(p))
#define phys_to_virt(p) ((void *)(uintptr_t)(p))

static inline void *kmalloc(size_t n, gfp_t g) { (void)g; return malloc(n); }
static inline void *kzalloc(size_t n, gfp_t g) { (void)g; return calloc(1, n); }
#define kmalloc_obj(x, ...) ((typeof(x) *)calloc(1, sizeof(x)))
static inline void kfree(const void *p) { free((void *)p); }

/* DMA API: identity mapping; the sync is the descriptor-write counter. */
enum dma_data_direction { DMA_TO_DEVICE = 1 };
extern u64 lpae_shim_desc_writes;
static inline dma_addr_t dma_map_single(struct device *d, void *p, size_t n, int dir)
{ (void)d; (void)n; (void)dir; return virt_to_phys(p); }
static inline void dma_unmap_single(struct device *d, dma_addr_t a, size_t n, int dir)
{ (void)d; (void)a; (void)n; (void)dir; }
static inline int dma_mapping_error(struct device *d, dma_addr_t a) { (void)d; (void)a; return 0; }
static inline void dma_sync_single_for_device(struct device *d, dma_addr_t a, size_t n, int dir)
{ (void)d; (void)a; (void)dir; lpae_shim_desc_writes += n / sizeof(u64); }

/* iommu-pages.h: never reached, cfg->alloc is always set (lpae_engine.c). */
static inline void *iommu_alloc_pages_node_sz(int nid, gfp_t g, size_t n)
{ (void)nid; (void)g; (void)n; return NULL; }
static inline void iommu_free_pages(void *p) { (void)p; }
static inline int iommu_pages_start_incoherent(void *p, struct device *d)
{ (void)p; (void)d; return -EOPNOTSUPP; }
static inline void iommu_pages_free_incoherent(void *p, struct device *d) { (void)p; (void)d; }

/* linux/iommu.h: what io-pgtable.h and io-pgtable-arm.c name. */
#define IOMMU_READ (1 << 0)
#define IOMMU_WRITE (1 << 1)
#define IOMMU_CACHE (1 << 2)
#define IOMMU_NOEXEC (1 << 3)
#define IOMMU_MMIO (1 << 4)
#define IOMMU_PRIV (1 << 5)

struct iommu_iotlb_gather {
	unsigned long start, end;
	size_t pgsize;
	bool queued;
};
static inline bool iommu_iotlb_gather_queued(struct iommu_iotlb_gather *g)
{ return g && g->queued; }
struct iommu_dirty_bitmap;
#define IOMMU_DIRTY_NO_CLEAR (1 << 0)
static inline void iommu_dirty_bitmap_record(struct iommu_dirty_bitmap *d, unsigned long iova,
					     unsigned long len)
{ (void)d; (void)iova; (void)len; }

static inline void set_bit(long nr, volatile unsigned long *addr) { *addr |= 1UL << nr; }
static inline bool test_and_clear_bit(long nr, volatile unsigned long *addr)
{ bool was = *addr & (1UL << nr); *addr &= ~(1UL << nr); return was; }

#endif
