// SPDX-License-Identifier: GPL-2.0
/*
 * Drives Linux's io-pgtable-arm.c (compiled from the Debian linux-source
 * tree behind shim/) the way the pKVM SMMUv3 series' hypervisor driver
 * does for the host identity map, and counts what it hands the SMMU.
 */
#include <inttypes.h>
#include <sys/mman.h>

#include "lpae_shim.h"
#include <linux/io-pgtable.h>

#include "lpae_engine.h"

const char *const lpae_source = LPAE_SOURCE;
u64 lpae_shim_desc_writes;

void lpae_shim_warn(const char *file, int line)
{
	fprintf(stderr, "pkvm-iommu-bench: io-pgtable-arm warning at %s:%d\n", file, line);
}

struct lpae_engine {
	struct io_pgtable *iop;
	struct io_pgtable_cfg cfg;
	struct iommu_iotlb_gather gather;
	bool gathered;
	/*
	 * Table pages come from one huge-page-backed arena, as ours come from
	 * the simulator's pool: in the kernel both live in a linear map of
	 * block mappings, so neither engine should pay a TLB miss a page.
	 */
	uint8_t *arena;
	size_t arena_size, arena_used;
	void *free_pages;	/* freed 4 KiB pages, linked through their first word */
	struct lpae_stats st;
	u64 desc_writes0;	/* the shim's counter is global: where this table's began */
};

static void *table_alloc(void *cookie, size_t size, gfp_t gfp)
{
	struct lpae_engine *e = cookie;
	size_t bytes = ALIGN(size, SZ_4K);
	void *p = NULL;

	(void)gfp;
	/* The S2 root may be concatenated pages: only single pages are recycled. */
	if (bytes == SZ_4K && e->free_pages) {
		p = e->free_pages;
		e->free_pages = *(void **)p;
	} else if (e->arena_size - e->arena_used >= bytes) {
		p = e->arena + e->arena_used;
		e->arena_used += bytes;
	}
	if (p) {
		memset(p, 0, bytes);
		e->st.table_pages += bytes / SZ_4K;
	}
	return p;
}

static void table_free(void *cookie, void *pages, size_t size)
{
	struct lpae_engine *e = cookie;

	e->st.table_pages -= DIV_ROUND_UP(size, SZ_4K);
	for (size_t off = 0; off < ALIGN(size, SZ_4K); off += SZ_4K) {
		void *pg = (uint8_t *)pages + off;

		*(void **)pg = e->free_pages;
		e->free_pages = pg;
	}
}

/* What arm-smmu-v3 does for each: a command, then CMD_SYNC at the end of the call. */
static void flush_all(void *cookie)
{
	struct lpae_engine *e = cookie;

	e->st.tlbi_ranges++;
	e->st.syncs++;
}

static void flush_walk(unsigned long iova, size_t size, size_t granule, void *cookie)
{
	(void)iova;
	(void)size;
	(void)granule;
	flush_all(cookie);
}

/* Pages of one unmap call gather into one range, synced once after the call. */
static void add_page(struct iommu_iotlb_gather *gather, unsigned long iova, size_t granule,
		     void *cookie)
{
	struct lpae_engine *e = cookie;

	(void)gather;
	(void)iova;
	(void)granule;
	e->gathered = true;
}

static const struct iommu_flush_ops flush_ops = {
	.tlb_flush_all = flush_all,
	.tlb_flush_walk = flush_walk,
	.tlb_add_page = add_page,
};

int lpae_map(struct lpae_engine *e, uint64_t addr, uint64_t len)
{
	struct io_pgtable_ops *ops = &e->iop->ops;

	while (len) {
		size_t mapped = 0;
		int ret = ops->map_pages(ops, addr, addr, SZ_4K, len / SZ_4K,
					 IOMMU_READ | IOMMU_WRITE | IOMMU_CACHE, GFP_ATOMIC,
					 &mapped);

		if (ret)
			return ret;
		if (!mapped)
			return -EINVAL;
		addr += mapped;
		len -= mapped;
	}
	return 0;
}

int lpae_unmap(struct lpae_engine *e, uint64_t addr, uint64_t len)
{
	struct io_pgtable_ops *ops = &e->iop->ops;
	int ret = 0;

	e->gathered = false;
	while (len) {
		size_t n = ops->unmap_pages(ops, addr, SZ_4K, len / SZ_4K, &e->gather);

		if (!n) {
			ret = -ENOENT;
			break;
		}
		addr += n;
		len -= n;
	}
	if (e->gathered) {	/* the driver's iotlb_sync: one range, one sync */
		e->st.tlbi_ranges++;
		e->st.syncs++;
	}
	return ret;
}

int lpae_engine_new(struct lpae_engine **out, uint64_t base, uint64_t size,
		    char *err, size_t errlen)
{
	struct lpae_engine *e = calloc(1, sizeof(*e));
	int ret;

	if (!e)
		return -ENOMEM;
	/* A 4 KiB table per 2 MiB mapped, one per 1 GiB, and room to spare. */
	e->arena_size = ALIGN(size / 512 + size / (512 * 512) + (64ull << 20), 2ull << 20);
	e->arena = mmap(NULL, e->arena_size, PROT_READ | PROT_WRITE,
			MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (e->arena == MAP_FAILED) {
		snprintf(err, errlen, "no memory for io-pgtable-arm's tables: %s", strerror(errno));
		free(e);
		return -ENOMEM;
	}
	(void)madvise(e->arena, e->arena_size, MADV_HUGEPAGE);
	e->desc_writes0 = lpae_shim_desc_writes;
	e->cfg = (struct io_pgtable_cfg){
		.pgsize_bitmap = SZ_4K,	/* never a block: unmap cannot split one */
		.ias = 40,		/* the benchmark engine's own IPA size */
		.oas = 48,		/* tables live at user addresses */
		/* Non-coherent only so every descriptor store reaches the counting sync. */
		.coherent_walk = false,
		.tlb = &flush_ops,
		.alloc = table_alloc,
		.free = table_free,
	};
	e->iop = io_pgtable_arm_64_lpae_s2_init_fns.alloc(&e->cfg, e);
	if (!e->iop) {
		snprintf(err, errlen, "io-pgtable-arm refused the ARM_64_LPAE_S2 configuration");
		lpae_engine_free(e);
		return -EINVAL;
	}
	/* What alloc_io_pgtable_ops() (io-pgtable.c, not built) fills in. */
	e->iop->fmt = ARM_64_LPAE_S2;
	e->iop->cookie = e;
	e->iop->cfg = e->cfg;
	ret = lpae_map(e, base, size);
	if (ret) {
		snprintf(err, errlen, "mapping the %" PRIu64 " MiB identity: %s", size >> 20,
			 strerror(-ret));
		lpae_engine_free(e);
		return ret;
	}
	*out = e;
	return 0;
}

void lpae_engine_free(struct lpae_engine *e)
{
	if (!e)
		return;
	if (e->iop)
		io_pgtable_arm_64_lpae_s2_init_fns.free(e->iop);
	munmap(e->arena, e->arena_size);
	free(e);
}

void lpae_engine_stats(const struct lpae_engine *e, struct lpae_stats *s)
{
	*s = e->st;
	s->desc_writes = lpae_shim_desc_writes - e->desc_writes0;
}
