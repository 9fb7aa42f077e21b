/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The world the host core (kmod/core) may see, besides what the hyp core's
 * environment already gives it (hyp_env.h: types, errno names,
 * hyp_memset/hyp_memcpy, and hyp_virt_to_phys() for the physical address
 * of an argument in host memory). kmod/core is what the host adds on top
 * of the hyp core: the generation counter, the stream policy tables, the
 * checks and answers of the ioctls, and the events. It builds unchanged
 * into pkvm_iommu.ko (kmod/host) and into the daemon's simulation backend
 * (daemon/backend_sim.c); each hands pkvm_core_init() one of these:
 *
 *   call    the transport: one call into the hyp core, a function id of
 *           enum pkvm_iommu_hvc_fn and six register arguments in, one
 *           signed register out, exactly as pkvm_iommu_hvc() takes them.
 *           Host mode and the simulation call pkvm_iommu_hvc() directly;
 *           the pKVM transport issues an HVC with the same registers.
 *   alloc   memory for the stream policy tables: bytes, or NULL
 *   free    gives back what alloc returned (NULL is fine)
 *   event   the sink of what changed, one event at a time, in the order
 *           the changes were made, from inside the core call that made
 *           them (or, for pKVM's own transitions, that found them in the
 *           hyp core's ring)
 *   scratch (optional) a page of host memory the hyp core may write its
 *           answers into (RING_POP, INFO, SMMU_INFO, LEDGER_READ), one the
 *           host still owns, asked for before each call that needs it.
 *           NULL: the core allocs one page at first use, which must then
 *           be one physically contiguous, page-aligned page (a kmalloc of
 *           a page size is)
 *
 * Locking: the core has none. Its owner serialises every pkvm_core_*()
 * call on one instance (the module with its mutex; the simulation has one
 * thread); that is what numbers generations and orders events.
 */
#ifndef PKVM_CORE_ENV_H
#define PKVM_CORE_ENV_H

#include "hyp_env.h"

/* A change the host core made or saw, as the netlink event says it. */
struct pkvm_core_event {
	u32 cmd;		/* PKVM_IOMMU_CMD_EVT_*: the netlink event */
	u64 generation;		/* ownership generation it produced (or saw) */
	u64 addr, len;		/* ownership events; addr also for faults */
	u32 owner;
	u32 smmu, sid;		/* faults and stream policy; all ones: split policy */
	u32 fault_type;		/* SMMU event number */
	u32 fault_flags;	/* PKVM_CORE_FAULT_* */
	u32 policy;
};

struct pkvm_core_env {
	s64 (*call)(void *ctx, u64 fn, const u64 args[6]);
	void *(*alloc)(void *ctx, u64 bytes);
	void (*free)(void *ctx, void *p);
	void (*event)(void *ctx, const struct pkvm_core_event *ev);
	void *(*scratch)(void *ctx);
};

#endif /* PKVM_CORE_ENV_H */
