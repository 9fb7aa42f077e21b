// SPDX-License-Identifier: GPL-2.0
/*
 * Faults of the SMMU itself, injected into the software SMMU in the middle
 * of a donation and of a batch, through the hypercall entry: a CMD_SYNC
 * that never completes, a command refused with CERROR_ILL, an event queue
 * that overflows. For each: the error the call returns, ownership and the
 * shadow table equal to the reference model (the change is made: under
 * pKVM it cannot be undone), no TLB entry of the model maps a page the
 * host gave away, the SMMU failed closed (registers and STEs), the
 * counters and notices the host reads, and operations after the fault
 * is cleared succeed.
 */
#include <check.h>
#include <stdlib.h>

#include "hostbuf.h"
#include "hvc.h"
#include "refmodel.h"
#include "s2_optimal.h"
#include "smmu_model.h"
#include "test_registry.h"

#define MiB (1ull << 20)
/* The reference model's window: both of hostbuf's regions, 1 GiB to 9 GiB + 12 KiB. */
#define WIN_LO (1ull << 30)
#define WIN_HI ((9ull << 30) + 0x3000)

/* In hostbuf (hostbuf.h): answers, batch records, the SMMU's own memory. */
#define EVENT_PA (HOSTBUF_PA + 0x1000)
#define BATCH_PA (HOSTBUF_PA + 0x2000)
#define SMMU_MEM_PA (HOSTBUF_PA + 2 * MiB)
#define SMMU_MEM_PAGES 64ull
#define REGS_PA 0x09000000ull

#define SID 5u
#define GUEST 2u
/* In a 2 MiB block of host memory: the donation splits it. */
#define PAGE_A (0x80000000ull + 7 * MiB + 0x3000)
#define PAGE_B (0x80000000ull + 9 * MiB)
#define PAGE_C (0x80000000ull + 11 * MiB + 0x1000)
#define F_TRANSLATION 0x10u
#define LOST 4u

static struct pkvm_iommu_hyp hyp;
static struct smmu_model model;
static struct refmodel ref;
static void *hostbuf, *regs;

static s64 call(u64 fn, u64 a0, u64 a1, u64 a2, u64 a3, u64 a4, u64 a5)
{
	const u64 a[6] = { a0, a1, a2, a3, a4, a5 };

	return pkvm_iommu_hvc(&hyp, fn, a);
}

static void *host(u64 pa)
{
	return (u8 *)hostbuf + (pa - HOSTBUF_PA);
}

static void setup(void)
{
	struct smmu_model_cfg mc;

	hostbuf = hostbuf_map(HOSTBUF_PA, HOSTBUF_SIZE);
	ck_assert_ptr_nonnull(hostbuf);
	smmu_model_default_cfg(&mc);
	ck_assert_int_eq(posix_memalign(&regs, 65536, SMMU_MODEL_REGS_SIZE), 0);
	ck_assert_int_eq(smmu_model_init(&model, regs, &mc), 0);
	ck_assert_int_eq(sim_phys_map(REGS_PA, SMMU_MODEL_REGS_SIZE, regs), 0);
	memcpy(hostbuf, hostbuf_two_regions, sizeof(hostbuf_two_regions));
	pkvm_iommu_hyp_setup(&hyp);
	ck_assert_int_eq(call(PKVM_IOMMU_HVC_INIT, REGIONS_PA, 2, POOL_PA, POOL_PAGES,
			      PKVM_SPLIT_AUTO, 0), 0);
	ck_assert_int_eq(ref_init(&ref, hyp.pgt.ias, WIN_LO, WIN_HI, hostbuf_two_regions, 2), 0);
	ref_pin(&ref, POOL_PA, POOL_PAGES * 4096ull);
	ck_assert_int_eq(call(PKVM_IOMMU_HVC_SMMU_ADD, REGS_PA, SMMU_MEM_PA,
			      SMMU_MEM_PAGES, 0, 0, 0), 0);
	ref_pin(&ref, SMMU_MEM_PA, SMMU_MEM_PAGES * 4096);
	ck_assert_int_eq(call(PKVM_IOMMU_HVC_STREAM_ATTACH, 0, SID, PKVM_STREAM_ISOLATE,
			      0, 0, 0), 0);
	/* A wedged SMMU is found out in 20 ms, not the driver's 1 s. */
	hyp.smmu[0].dev.cmdq.timeout_ns = 20 * 1000 * 1000;
}

static void teardown(void)
{
	ref_fini(&ref);
	sim_phys_unmap(REGS_PA);
	smmu_model_fini(&model);
	free(regs);
	hostbuf_unmap(HOSTBUF_PA, hostbuf);
}

/* ---- the change in the middle of which the fault comes ---- */

struct change {
	u32 op;
	u64 addr;
	u32 owner;
};

static const struct change changes[] = {
	{ PKVM_IOMMU_OP_DONATE, PAGE_A, GUEST },
	{ PKVM_IOMMU_OP_SHARE, PAGE_C, 0 },
	{ PKVM_IOMMU_OP_DONATE, PAGE_B, GUEST + 1 },
};
#define NR_CHANGES (sizeof(changes) / sizeof(changes[0]))

/* One donation (batch false) or the three changes in one BATCH call. */
static s64 make_changes(bool batch)
{
	struct pkvm_iommu_op *ops = host(BATCH_PA);
	s64 ret;

	if (!batch) {
		ret = call(PKVM_IOMMU_HVC_DONATE, PAGE_A, 4096, GUEST, 0, 0, 0);
		ref_apply(&ref, PKVM_IOMMU_OP_DONATE, PAGE_A, 4096, GUEST);
		return ret;
	}
	for (u32 i = 0; i < NR_CHANGES; i++)
		ops[i] = (struct pkvm_iommu_op){ .op = changes[i].op, .owner = changes[i].owner,
						 .addr = changes[i].addr, .len = 4096 };
	ret = call(PKVM_IOMMU_HVC_BATCH, BATCH_PA, NR_CHANGES, 0, 0, 0, 0);
	/* A failed flush outranks the changes: each was made all the same. */
	for (u32 i = 0; i < NR_CHANGES; i++)
		ref_apply(&ref, changes[i].op, changes[i].addr, 4096, changes[i].owner);
	return ret;
}

/* Owner and sharing of every page of the changes and around them. */
static void shadow_equals_ref(void)
{
	for (u32 i = 0; i < NR_CHANGES; i++) {
		for (s64 d = -2; d <= 2; d++) {
			u64 pa = changes[i].addr + d * 4096;
			u32 owner, state = ref_state(&ref, pa);
			bool shared;

			ck_assert_int_eq(s2_owner_of(&hyp.pgt, pa, &owner, &shared), 0);
			ck_assert_uint_eq(state, owner != PKVM_OWNER_HOST ? OPT_OWNER(owner) :
						 shared ? OPT_HOST_SHARED : OPT_HOST);
		}
	}
}

static int tlb_entry_ok(const struct smmu_model_tlbe *e, void *arg)
{
	(void)arg;
	return e->valid && (e->pa != e->ipa || !ref_host_range(&ref, e->pa, e->size));
}

/* The model has run what the driver handed it: its TLB maps host pages only. */
static void no_stale_tlb(void)
{
	smmu_model_step(&model);
	ck_assert_int_eq(smmu_model_tlb_for_each(&model, tlb_entry_ok, NULL), 0);
}

static const struct pkvm_iommu_event *pop(void)
{
	ck_assert_int_eq(call(PKVM_IOMMU_HVC_EVENT_POP, 0, EVENT_PA, 0, 0, 0, 0), 1);
	return host(EVENT_PA);
}

static struct pkvm_iommu_hyp_smmu_info *smmu_info(void)
{
	ck_assert_int_eq(call(PKVM_IOMMU_HVC_SMMU_INFO, 0, EVENT_PA, 0, 0, 0, 0), 0);
	return host(EVENT_PA);
}

/*
 * Failed closed: SMMUEN off with GBPA.ABORT (6.3 SMMU_CR0, SMMU_GBPA), the
 * stream's STE abort (5.2 STE.Config 0b000), every DMA aborted, host
 * memory included, and the SMMU refuses stream changes.
 */
static void failed_closed(void)
{
	const u64 *ste = smmu_strtab_ste(&hyp.smmu[0].dev.strtab, SID);

	ck_assert(hyp.smmu[0].dev.dead);
	ck_assert(!(hyp_readl((u8 *)regs + SMMU_CR0ACK) & SMMU_CR0_SMMUEN));
	ck_assert(hyp_readl((u8 *)regs + SMMU_GBPA) & SMMU_GBPA_ABORT);
	ck_assert_ptr_nonnull(ste);
	ck_assert(ste[0] & SMMU_STE_0_V);
	ck_assert_uint_eq(HYP_FIELD_GET(SMMU_STE_0_CONFIG, ste[0]), SMMU_STE_CONFIG_ABORT);
	ck_assert_int_eq(smmu_model_dma(&model, SID, PAGE_A, 64, true), SMMU_MODEL_ABORT);
	ck_assert_int_eq(smmu_model_dma(&model, SID, PAGE_A + 2 * MiB, 64, false),
			 SMMU_MODEL_ABORT);
	ck_assert_int_eq(call(PKVM_IOMMU_HVC_STREAM_ATTACH, 0, SID + 1, PKVM_STREAM_ISOLATE,
			      0, 0, 0), -EIO);
}

/* With the fault gone, changes go on: the dead SMMU is not waited for. */
static void later_changes_succeed(void)
{
	ck_assert_int_eq(call(PKVM_IOMMU_HVC_RECLAIM, PAGE_A, 4096, GUEST, 0, 0, 0), 0);
	ref_apply(&ref, PKVM_IOMMU_OP_RECLAIM, PAGE_A, 4096, GUEST);
	ck_assert_int_eq(call(PKVM_IOMMU_HVC_DONATE, PAGE_A + 0x1000, 4096, GUEST, 0, 0, 0), 0);
	ref_apply(&ref, PKVM_IOMMU_OP_DONATE, PAGE_A + 0x1000, 4096, GUEST);
	shadow_equals_ref();
	/* Nothing more to tell: the notices were read once. */
	ck_assert_int_eq(call(PKVM_IOMMU_HVC_EVENT_POP, 0, EVENT_PA, 0, 0, 0, 0), 0);
}

/* A translation of PAGE_A cached before the change: what must not survive. */
static void warm_tlb(void)
{
	ck_assert_int_eq(smmu_model_dma(&model, SID, PAGE_A, 64, false), 0);
	ck_assert(smmu_model_tlb_maps(&model, PAGE_A));
}

/* _i: 0 a donation, 1 a batch. */
TEST_LOOP("faults", sync_never_completes, 0, 2)
{
	const struct pkvm_iommu_event *ev;
	u64 t0;

	warm_tlb();
	model.stall_sync = true;
	t0 = hyp_now_ns();
	ck_assert_int_eq(make_changes(_i), -ETIMEDOUT);
	/* Bounded: one timeout, not a wait per change or per retry. */
	ck_assert_uint_lt(hyp_now_ns() - t0, 500ull * 1000 * 1000);
	shadow_equals_ref();
	failed_closed();
	ev = pop();
	ck_assert_uint_eq(ev->type, PKVM_IOMMU_EVT_SMMU_FAILED);
	ck_assert_uint_eq(ev->sid, 0xffffffffu);
	ck_assert_uint_eq(ev->addr, ETIMEDOUT);
	ck_assert_uint_eq(smmu_info()->dead, 1);
	ck_assert_uint_eq(smmu_info()->sync_timeouts, 1);
	ck_assert_uint_eq(smmu_info()->cmd_errors, 0);
	model.stall_sync = false;
	no_stale_tlb();
	later_changes_succeed();
	ck_assert_uint_eq(smmu_info()->sync_timeouts, 1);
}
END_TEST

TEST_LOOP("faults", command_error, 0, 2)
{
	const struct pkvm_iommu_event *ev;

	warm_tlb();
	/* The first command of the change's invalidation is refused. */
	model.cerror_next = 1;
	ck_assert_int_eq(make_changes(_i), -EIO);
	shadow_equals_ref();
	failed_closed();
	/* 7.1: CONS stopped on it with ERR = CERROR_ILL; acknowledged in GERRORN. */
	ck_assert_uint_eq(hyp.smmu[0].dev.cmdq.last_err, SMMU_CERROR_ILL);
	ck_assert_uint_eq(hyp_readl((u8 *)regs + SMMU_GERROR) & SMMU_GERROR_CMDQ_ERR,
			  hyp_readl((u8 *)regs + SMMU_GERRORN) & SMMU_GERROR_CMDQ_ERR);
	ck_assert_uint_eq(model.stats.cmd_errors, 1);
	/* The queue ran on: the driver's cache drop went through it. */
	no_stale_tlb();
	ck_assert(!smmu_model_tlb_maps(&model, PAGE_A));
	ev = pop();
	ck_assert_uint_eq(ev->type, PKVM_IOMMU_EVT_CMD_ERROR);
	ck_assert_uint_eq(ev->addr, SMMU_CERROR_ILL);
	ev = pop();
	ck_assert_uint_eq(ev->type, PKVM_IOMMU_EVT_SMMU_FAILED);
	ck_assert_uint_eq(ev->addr, EIO);
	ck_assert_uint_eq(smmu_info()->cmd_errors, 1);
	ck_assert_uint_eq(smmu_info()->sync_timeouts, 0);
	later_changes_succeed();
}
END_TEST

/*
 * The change's own faults (DMA to the page just given away) are lost
 * while the queue overflows: the host is told once, with the overflow
 * acknowledged (7.4; EVTQ_CONS.OVACKFLG = EVTQ_PROD.OVFLG) and counted,
 * and the records after it come without the flag. Nothing fails closed.
 */
TEST_LOOP("faults", event_queue_overflow, 0, 2)
{
	const struct pkvm_iommu_event *ev;

	warm_tlb();
	model.evtq_drop = true;
	ck_assert_int_eq(make_changes(_i), _i ? (s64)NR_CHANGES : 0);
	for (u32 i = 0; i < 3; i++)
		ck_assert_int_eq(smmu_model_dma(&model, SID, PAGE_A, 64, true), F_TRANSLATION);
	ck_assert_uint_eq(model.stats.events_lost, 3);
	ck_assert(hyp_readl((u8 *)regs + SMMU_EVTQ_PROD) & SMMU_EVTQ_PROD_OVFLG);
	shadow_equals_ref();
	no_stale_tlb();
	ev = pop();
	ck_assert_uint_eq(ev->type, 0);
	ck_assert_uint_eq(ev->flags, LOST);
	ck_assert_uint_eq(hyp_readl((u8 *)regs + SMMU_EVTQ_CONS) & SMMU_EVTQ_CONS_OVACKFLG,
			  SMMU_EVTQ_CONS_OVACKFLG);
	ck_assert_uint_eq(smmu_info()->overflows, 1);
	ck_assert_uint_eq(smmu_info()->dead, 0);
	model.evtq_drop = false;
	ck_assert_int_eq(smmu_model_dma(&model, SID, PAGE_A, 64, true), F_TRANSLATION);
	ev = pop();
	ck_assert_uint_eq(ev->type, F_TRANSLATION);
	ck_assert_uint_eq(ev->flags & LOST, 0);
	ck_assert_uint_eq(smmu_info()->overflows, 1);
	/* The SMMU works on: changes still invalidate it. */
	ck_assert(!hyp.smmu[0].dev.dead);
	ck_assert_int_eq(smmu_model_dma(&model, SID, PAGE_A + 2 * MiB, 64, false), 0);
	later_changes_succeed();
	no_stale_tlb();
}
END_TEST

int main(void)
{
	return TEST_RUN("smmu_faults",
			TCASE("faults", .setup = setup, .teardown = teardown, .timeout = 60));
}
