// SPDX-License-Identifier: GPL-2.0
/*
 * The SMMU model's programming interface: registers, command queue and
 * event queue (IHI 0070 H.a, chapters 3.5, 4, 6, 7).
 */
#include "smmu_model_int.h"
#include "sim_mmio.h"

/* Command opcodes (4.1.1). */
#define OP_PREFETCH_CONFIG	0x01u
#define OP_PREFETCH_ADDR	0x02u
#define OP_CFGI_STE		0x03u
#define OP_CFGI_STE_RANGE	0x04u
#define OP_CFGI_CD		0x05u
#define OP_CFGI_CD_ALL		0x06u
#define OP_TLBI_NH_ALL		0x10u
#define OP_TLBI_NH_ASID		0x11u
#define OP_TLBI_NH_VA		0x12u
#define OP_TLBI_NH_VAA		0x13u
#define OP_TLBI_EL2_ALL		0x20u
#define OP_TLBI_EL2_ASID	0x21u
#define OP_TLBI_EL2_VA		0x22u
#define OP_TLBI_EL2_VAA		0x23u
#define OP_TLBI_S12_VMALL	0x28u
#define OP_TLBI_S2_IPA		0x2au
#define OP_TLBI_NSNH_ALL	0x30u
#define OP_CMD_SYNC		0x46u

/* CMDQ_CONS.ERR codes (7.1). */
#define CERROR_ILL		1u
#define CERROR_ABT		2u

void smmu_model_default_cfg(struct smmu_model_cfg *cfg)
{
	*cfg = (struct smmu_model_cfg){
		.s1 = true,
		.s2 = true,
		.ttf = 2,
		.two_level = true,
		.coherent = true,
		.ttendian = 0,
		.vmid16 = true,
		.sev = true,
		.sidsize = 16,
		.cmdqs = 19,
		.evtqs = 19,
		.ril = true,
		.bbml = 2,
		.gran4k = true,
		.gran16k = false,
		.gran64k = true,
		.oas = 4,
		.config_cache = true,
		.walk_cache = true,
		.sync_ns = 1000,
	};
}

u32 model_oas_bits(u32 field)
{
	static const u32 bits[] = { 32, 36, 40, 42, 44, 48, 52 };

	return field < 7 ? bits[field] : 48;
}

u32 model_rd32(const struct smmu_model *m, u32 off)
{
	u32 v;

	memcpy(&v, m->regs + off, sizeof(v));
	return v;
}

u64 model_rd64(const struct smmu_model *m, u32 off)
{
	u64 v;

	memcpy(&v, m->regs + off, sizeof(v));
	return v;
}

static void wr32(struct smmu_model *m, u32 off, u32 v)
{
	memcpy(m->regs + off, &v, sizeof(v));
}

/* Registers the SMMU owns always read as the model's state. */
static void mirror(struct smmu_model *m)
{
	static const u32 idr_off[6] = { MR_IDR0, MR_IDR1, MR_IDR2, MR_IDR3,
					MR_IDR4, MR_IDR5 };

	for (u32 i = 0; i < 6; i++)
		wr32(m, idr_off[i], m->idr[i]);
	wr32(m, MR_CR0ACK, m->cr0ack);
	wr32(m, MR_IRQ_CTRLACK, m->irq_ctrlack);
	wr32(m, MR_GERROR, m->gerror);
	wr32(m, MR_GBPA, m->gbpa);
	wr32(m, MR_CMDQ_CONS, m->cmdq_cons);
	wr32(m, MR_EVTQ_PROD, m->evtq_prod);
}

static bool gerror_active(const struct smmu_model *m, u32 bit)
{
	return (m->gerror ^ model_rd32(m, MR_GERRORN)) & bit;
}

/* Base register of a queue: address [51:5], LOG2SIZE [4:0] capped at max. */
static void queue_geometry(const struct smmu_model *m, u32 off, u32 max,
			   u64 *base, u32 *log2size)
{
	u64 reg = model_rd64(m, off);

	*base = reg & mmask(51, 5);
	*log2size = (u32)mbits(reg, 4, 0);
	if (*log2size > max)
		*log2size = max;
}

void model_record(struct smmu_model *m, const u64 rec[4])
{
	u64 base;
	u32 log2size, mask, prod, cons;
	void *slot;

	if (!(m->cr0ack & MB_EVTQEN)) {
		m->stats.events_lost++;
		return;
	}
	queue_geometry(m, MR_EVTQ_BASE, m->cfg.evtqs, &base, &log2size);
	mask = (2u << log2size) - 1;
	prod = m->evtq_prod & mask;
	cons = model_rd32(m, MR_EVTQ_CONS);
	if (((prod ^ cons) & mask) == (1u << log2size) || m->evtq_drop) {
		/* Full: flag the overflow once, until software acknowledges it. */
		if (!((m->evtq_prod ^ cons) & (1u << 31)))
			m->evtq_prod ^= 1u << 31;
		m->stats.events_lost++;
		return;
	}
	slot = sim_phys_to_virt_or_null(base + (u64)(prod & ((1u << log2size) - 1)) * 32);
	if (!slot) {
		if (!gerror_active(m, MB_EVTQ_ABT))
			m->gerror ^= MB_EVTQ_ABT;
		m->stats.events_lost++;
		return;
	}
	memcpy(slot, rec, 32);
	__atomic_thread_fence(__ATOMIC_RELEASE);
	m->evtq_prod = (m->evtq_prod & (1u << 31)) | ((prod + 1) & mask);
	m->stats.events++;
}

/* CMD_TLBI_S2_IPA (4.4): one address (TG 0) or a range (TG != 0, RIL). */
static u32 tlbi_s2_ipa(struct smmu_model *m, u64 w0, u64 w1)
{
	u16 vmid = (u16)mbits(w0, 47, 32);
	bool leaf = w1 & 1;
	u32 ttl = (u32)mbits(w1, 9, 8);
	u32 tg = (u32)mbits(w1, 11, 10);
	u64 addr = w1 & mmask(51, 12);
	u64 lo = addr, hi = addr + 1;

	if (!m->cfg.vmid16)
		vmid &= 0xff;
	if (tg) {
		u64 num = mbits(w0, 16, 12) + 1;
		u32 scale = (u32)mbits(w0, 24, 20);

		/* The range fields are RES0 without IDR3.RIL. */
		if (!m->cfg.ril)
			return CERROR_ILL;
		/* Only the 4 KiB granule's entries exist here; others match nothing. */
		if (tg != 1)
			return 0;
		hi = addr + (num << (scale + 12));
		if (hi < addr)
			hi = ~0ull;
	} else {
		ttl = 0;
	}
	model_tlb_inval(m, false, vmid, lo, hi, ttl);
	if (!leaf)
		model_walk_inval(m, false, vmid, lo, hi);
	return 0;
}

/*
 * The time of this step, read once: a step is one instant of the SMMU's
 * life, and a clock read per command would be simulation cost charged to
 * the poll that ran the step.
 */
static u64 clock_seen;	/* the latest hyp_now_ns() a model read */

static u64 read_clock(void)
{
	u64 now = hyp_now_ns();

	__atomic_store_n(&clock_seen, now, __ATOMIC_RELAXED);
	return now;
}

static u64 step_now(struct smmu_model *m)
{
	if (!m->now)
		m->now = read_clock();
	return m->now;
}

static void cmd_sync(struct smmu_model *m, u64 w0, u64 w1)
{
	/* CS == SIG_IRQ with an address: completion also writes MSIData there. */
	if (mbits(w0, 13, 12) == 1) {
		u64 addr = w1 & mmask(51, 2);
		void *p = addr ? sim_phys_to_virt_or_null(addr) : NULL;

		if (p) {
			u32 data = (u32)mbits(w0, 63, 32);

			memcpy(p, &data, sizeof(data));
		}
	}
	m->stats.syncs++;
	m->stats.sync_done_ns = step_now(m);
}

/* Execute one command; returns a CMDQ_CONS.ERR code, 0 for success. */
static u32 exec(struct smmu_model *m, u64 w0, u64 w1)
{
	u32 op = (u32)mbits(w0, 7, 0);
	u64 sid = mbits(w0, 63, 32);
	u16 vmid = (u16)mbits(w0, 47, 32);
	u32 err = 0;

	if (!m->cfg.vmid16)
		vmid &= 0xff;
	switch (op) {
	case OP_PREFETCH_CONFIG:
	case OP_PREFETCH_ADDR:
	case OP_CFGI_CD:
	case OP_CFGI_CD_ALL:
		break;	/* no context descriptors are cached */
	case OP_CFGI_STE:
		model_cfgc_inval(m, sid, sid);
		break;
	case OP_CFGI_STE_RANGE: {
		/* 2^(Range+1) StreamIDs from sid aligned down; 31 means all. */
		u32 range = (u32)mbits(w1, 4, 0);

		if (range == 31) {
			model_cfgc_inval(m, 0, ~0ull);
		} else {
			u64 n = 2ull << range;

			model_cfgc_inval(m, sid & ~(n - 1), (sid & ~(n - 1)) + n - 1);
		}
		break;
	}
	case OP_TLBI_NH_ALL:
	case OP_TLBI_NH_ASID:
	case OP_TLBI_NH_VA:
	case OP_TLBI_NH_VAA:
	case OP_TLBI_EL2_ALL:
	case OP_TLBI_EL2_ASID:
	case OP_TLBI_EL2_VA:
	case OP_TLBI_EL2_VAA:
		break;	/* stage 1 entries are never cached here */
	case OP_TLBI_S12_VMALL:
		model_tlb_inval(m, false, vmid, 0, ~0ull, 0);
		model_walk_inval(m, false, vmid, 0, ~0ull);
		break;
	case OP_TLBI_S2_IPA:
		err = tlbi_s2_ipa(m, w0, w1);
		break;
	case OP_TLBI_NSNH_ALL:
		model_tlb_inval(m, true, 0, 0, ~0ull, 0);
		model_walk_inval(m, true, 0, 0, ~0ull);
		break;
	case OP_CMD_SYNC:
		cmd_sync(m, w0, w1);
		break;
	default:
		err = CERROR_ILL;
		break;
	}
	if (!err)
		m->stats.cmds[op]++;
	return err;
}

/*
 * A priced CMD_SYNC holds the queue at its slot until it is due; false
 * while it drains. It drains from when the SMMU got it (kick_ns: the PROD
 * write, or the end of the sync before it), one sync at a time.
 */
static bool sync_drained(struct smmu_model *m, u64 w0)
{
	u64 now;

	if (mbits(w0, 7, 0) != OP_CMD_SYNC)
		return true;
	if (!m->sync_ns) {
		m->stats.sync_reached_ns = step_now(m);
		return true;
	}
	/* sync_due is read without the lock by on_read(). */
	if (!m->sync_due) {
		m->stats.sync_reached_ns = m->kick_ns ? m->kick_ns : step_now(m);
		__atomic_store_n(&m->sync_due, m->stats.sync_reached_ns + m->sync_ns,
				 __ATOMIC_RELAXED);
	}
	now = step_now(m);
	if (now < m->sync_due)
		return false;
	__atomic_store_n(&m->sync_due, 0, __ATOMIC_RELAXED);
	m->kick_ns = now;
	return true;
}

/* CERROR_ILL for a command that cerror_next says must fail. */
static u32 injected_error(struct smmu_model *m, u64 w0)
{
	if (!m->cerror_next || mbits(w0, 7, 0) == OP_CMD_SYNC)
		return 0;
	if (m->cerror_next != SMMU_MODEL_CERROR_ALWAYS)
		m->cerror_next--;
	return CERROR_ILL;
}

/*
 * Consume from CONS to PROD. A failing command stops the queue with CONS
 * on it and CMDQ_ERR active in GERROR until software acknowledges (7.1).
 */
static void cmdq_step(struct smmu_model *m, u64 now)
{
	u64 base;
	u32 log2size, mask, prod;

	m->now = now;	/* 0: read the clock when a command needs it */

	if (!(m->cr0ack & MB_CMDQEN) || m->stall_cmdq ||
	    gerror_active(m, MB_CMDQ_ERR))
		return;
	queue_geometry(m, MR_CMDQ_BASE, m->cfg.cmdqs, &base, &log2size);
	mask = (2u << log2size) - 1;
	prod = model_rd32(m, MR_CMDQ_PROD) & mask;
	while ((m->cmdq_cons & mask) != prod) {
		u32 cons = m->cmdq_cons & mask;
		const u64 *slot = sim_phys_to_virt_or_null(
			base + (u64)(cons & ((1u << log2size) - 1)) * 16);
		u32 err;

		if (slot && mbits(slot[0], 7, 0) == OP_CMD_SYNC && m->stall_sync)
			return;	/* the SMMU never gets past this sync */
		if (slot && !sync_drained(m, slot[0])) {
			/* All that is left before the sync is time. */
			__atomic_store_n(&m->pending, false, __ATOMIC_RELAXED);
			return;
		}
		err = slot ? injected_error(m, slot[0]) : CERROR_ABT;
		if (!err)
			err = exec(m, slot[0], slot[1]);

		if (err) {
			m->cmdq_cons = cons | (err << 24);
			m->gerror ^= MB_CMDQ_ERR;
			m->stats.cmd_errors++;
			return;
		}
		m->cmdq_cons = (m->cmdq_cons & ~mask) | ((cons + 1) & mask);
	}
	__atomic_store_n(&m->pending, false, __ATOMIC_RELAXED);
}

static void on_write(void *ctx, u64 off, unsigned int size)
{
	struct smmu_model *m = ctx;

	(void)size;
	pthread_mutex_lock(&m->lock);
	switch (off) {
	case MR_CR0:
		if (!m->stall_cr0ack)
			m->cr0ack = model_rd32(m, MR_CR0) & (MB_SMMUEN | MB_EVTQEN | MB_CMDQEN);
		break;
	case MR_GBPA:
		/* Only a write with UPDATE set changes GBPA; it completes at once. */
		if (model_rd32(m, MR_GBPA) & (1u << 31))
			m->gbpa = model_rd32(m, MR_GBPA) & ~(1u << 31);
		break;
	case MR_IRQ_CTRL:
		m->irq_ctrlack = model_rd32(m, MR_IRQ_CTRL);
		break;
	case MR_CMDQ_CONS:
		/* Software may set CONS only while the queue is off. */
		if (!(m->cr0ack & MB_CMDQEN))
			m->cmdq_cons = model_rd32(m, MR_CMDQ_CONS);
		break;
	case MR_EVTQ_PROD:
		if (!(m->cr0ack & MB_EVTQEN))
			m->evtq_prod = model_rd32(m, MR_EVTQ_PROD);
		break;
	default:
		break;
	}
	/*
	 * A priced SMMU works while the CPU goes on: a PROD write only hands
	 * it the commands, and they run when the driver polls. So issuing to
	 * several SMMUs costs the CPU little and their drains overlap.
	 */
	if (off == MR_CMDQ_PROD && m->sync_ns) {
		if (!m->pending && !m->sync_due)
			m->kick_ns = hyp_now_ns();
		__atomic_store_n(&m->pending, true, __ATOMIC_RELAXED);
		/* No register the SMMU owns moved: nothing to mirror. */
	} else {
		cmdq_step(m, 0);
		mirror(m);
	}
	pthread_mutex_unlock(&m->lock);
}

/*
 * A read of CONS (or GERROR) is how the driver polls: run commands handed
 * over by a priced PROD write, and let a draining CMD_SYNC complete once
 * it is due. Nothing else moves on a read.
 */
/*
 * Every priced model, so that one SMMU's poll lets the others run what
 * they were handed: SMMUs work at the same time, while the CPU waits.
 */
#define MAX_MODELS	16u
static struct smmu_model *models[MAX_MODELS];
static pthread_mutex_t models_lock = PTHREAD_MUTEX_INITIALIZER;

static void models_set(struct smmu_model *old, struct smmu_model *new)
{
	pthread_mutex_lock(&models_lock);
	for (u32 i = 0; i < MAX_MODELS; i++)
		if (__atomic_load_n(&models[i], __ATOMIC_RELAXED) == old) {
			__atomic_store_n(&models[i], new, __ATOMIC_RELEASE);
			break;
		}
	pthread_mutex_unlock(&models_lock);
}

static void step_locked(struct smmu_model *m, u64 now)
{
	pthread_mutex_lock(&m->lock);
	cmdq_step(m, now);
	mirror(m);
	pthread_mutex_unlock(&m->lock);
}

/* Run the commands other models were handed (not their sync's end). */
static void step_others(const struct smmu_model *self)
{
	for (u32 i = 0; i < MAX_MODELS; i++) {
		struct smmu_model *o = __atomic_load_n(&models[i], __ATOMIC_ACQUIRE);

		if (o && o != self && __atomic_load_n(&o->pending, __ATOMIC_RELAXED) &&
		    !pthread_mutex_trylock(&models_lock)) {
			/* Still registered (not in fini) while models_lock is held. */
			if (__atomic_load_n(&models[i], __ATOMIC_RELAXED) == o)
				step_locked(o, 0);
			pthread_mutex_unlock(&models_lock);
		}
	}
}

static void on_read(void *ctx, u64 off, unsigned int size)
{
	struct smmu_model *m = ctx;
	u64 due = __atomic_load_n(&m->sync_due, __ATOMIC_RELAXED);
	bool pending = __atomic_load_n(&m->pending, __ATOMIC_RELAXED);

	u64 now = 0;

	(void)size;
	if ((off != MR_CMDQ_CONS && off != MR_GERROR) || (!due && !pending))
		return;
	if (!pending) {
		/*
		 * Only time is left before the sync at CONS: GERROR cannot
		 * move, and CONS moves once it is due. The driver reads CONS
		 * first; while it waits, the others run what they were handed.
		 */
		if (off == MR_GERROR)
			return;
		/*
		 * A time a model already read has passed: if it is past due,
		 * the sync completes at that instant, never before due, and
		 * without another clock read. SMMUs whose syncs fall due
		 * together then complete for one read, not one read each.
		 */
		now = __atomic_load_n(&clock_seen, __ATOMIC_RELAXED);
		if (now < due)
			now = read_clock();
		if (now < due) {
			step_others(m);
			return;
		}
	}
	step_locked(m, now);
}

void smmu_model_step(struct smmu_model *m)
{
	pthread_mutex_lock(&m->lock);
	cmdq_step(m, 0);
	mirror(m);
	pthread_mutex_unlock(&m->lock);
}

int smmu_model_init(struct smmu_model *m, void *regs,
		    const struct smmu_model_cfg *cfg)
{
	const struct smmu_model_cfg *c = cfg;
	int ret;

	memset(m, 0, sizeof(*m));
	m->regs = regs;
	m->cfg = *cfg;
	m->sync_ns = cfg->sync_ns;
	memset(regs, 0, SMMU_MODEL_REGS_SIZE);
	pthread_mutex_init(&m->lock, NULL);

	/* 6.3 SMMU_IDR0, IDR1, IDR3, IDR5 */
	m->idr[0] = (u32)c->s2 << 0 | (u32)c->s1 << 1 | (c->ttf & 3) << 2 |
		    (u32)c->coherent << 4 | (u32)c->sev << 14 |
		    (u32)c->vmid16 << 18 | (c->ttendian & 3) << 21 |
		    (u32)c->two_level << 27;
	m->idr[1] = (c->sidsize & 0x3f) | (c->evtqs & 0x1f) << 16 |
		    (c->cmdqs & 0x1f) << 21;
	m->idr[3] = (u32)c->ril << 10 | (c->bbml & 3) << 11;
	m->idr[5] = (c->oas & 7) | (u32)c->gran4k << 4 | (u32)c->gran16k << 5 |
		    (u32)c->gran64k << 6;
	/* Out of reset, with SMMUEN 0, traffic bypasses unless GBPA says abort. */
	m->gbpa = 0;
	mirror(m);
	ret = sim_mmio_register(regs, SMMU_MODEL_REGS_SIZE, on_write, m);
	if (!ret)
		ret = sim_mmio_on_read(regs, on_read);
	if (!ret)
		models_set(NULL, m);
	return ret;
}

void smmu_model_fini(struct smmu_model *m)
{
	models_set(m, NULL);
	sim_mmio_unregister(m->regs);
	pthread_mutex_destroy(&m->lock);
}

bool smmu_model_tlb_maps(struct smmu_model *m, u64 pa)
{
	bool hit = false;

	pthread_mutex_lock(&m->lock);
	for (u32 i = 0; i < SMMU_MODEL_TLB_ENTRIES && !hit; i++) {
		const struct smmu_model_tlbe *e = &m->tlb[i];

		hit = e->valid && pa - e->pa < e->size;
	}
	pthread_mutex_unlock(&m->lock);
	return hit;
}

int smmu_model_tlb_for_each(struct smmu_model *m, smmu_model_tlb_fn fn, void *arg)
{
	int ret = 0;

	pthread_mutex_lock(&m->lock);
	for (u32 i = 0; i < SMMU_MODEL_TLB_ENTRIES && !ret; i++)
		if (m->tlb[i].valid)
			ret = fn(&m->tlb[i], arg);
	pthread_mutex_unlock(&m->lock);
	return ret;
}
