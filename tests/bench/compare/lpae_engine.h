/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Linux's io-pgtable-arm as the upstream pKVM SMMUv3 series drives it for
 * the host's identity map: ARM_64_LPAE_S2, 4 KiB granule, every page mapped
 * with a 4 KiB descriptor (the format cannot split a block on unmap), a
 * donation an unmap, a reclaim a map back. Built only when meson found a
 * Linux source tree; lpae_stub.c answers otherwise.
 */
#ifndef PKVM_LPAE_ENGINE_H
#define PKVM_LPAE_ENGINE_H

#include <stddef.h>
#include <stdint.h>

struct lpae_engine;

struct lpae_stats {
	uint64_t desc_writes;	/* descriptors stored (cleared or set) */
	uint64_t tlbi_ranges;	/* invalidations handed to the SMMU */
	uint64_t syncs;		/* CMD_SYNCs: one per call that invalidated */
	uint64_t table_pages;	/* 4 KiB pages of tables held now */
};

/* The tree the engine was compiled from, or NULL when this is the stub. */
extern const char *const lpae_source;

/* Maps [base, base + size) one-to-one; err gets a sentence on failure. */
int lpae_engine_new(struct lpae_engine **out, uint64_t base, uint64_t size,
		    char *err, size_t errlen);
void lpae_engine_free(struct lpae_engine *e);
int lpae_unmap(struct lpae_engine *e, uint64_t addr, uint64_t len);
int lpae_map(struct lpae_engine *e, uint64_t addr, uint64_t len);
void lpae_engine_stats(const struct lpae_engine *e, struct lpae_stats *s);

#endif
