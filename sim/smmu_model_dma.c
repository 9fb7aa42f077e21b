// SPDX-License-Identifier: GPL-2.0
/*
 * The SMMU model's translation path: StreamID -> STE (linear or two-level
 * stream table, IHI 0070 H.a 5.1/5.2) -> stage-2 walk of the VMSAv8-64
 * 4 KiB-granule table (Arm ARM DDI 0487, D8.2/D8.3) through the TLB and
 * walk cache, with faults written as event records (7.3).
 */
#include "smmu_model_int.h"

#define EVT_C_BAD_STREAMID	0x02u
#define EVT_F_STE_FETCH		0x03u
#define EVT_C_BAD_STE		0x04u
#define EVT_F_WALK_EABT		0x0bu
#define EVT_F_TRANSLATION	0x10u
#define EVT_F_ADDR_SIZE		0x11u
#define EVT_F_ACCESS		0x12u
#define EVT_F_PERMISSION	0x13u

#define CLASS_IN		2u	/* the fault is on the input transaction */

#define STE_CFG_ABORT		0u
#define STE_CFG_BYPASS		4u
#define STE_CFG_S2		6u

/* A decoded stage-2-only STE. */
struct s2ctx {
	u32 sid;
	u16 vmid;
	u32 ias;
	u32 start_level;
	u64 ttb;
	u32 ps_bits;
	bool record;		/* S2R */
};

static u32 level_shift(u32 level)
{
	return 12 + 9 * (3 - level);
}

static u64 load64(const void *p)
{
	return __atomic_load_n((const u64 *)p, __ATOMIC_RELAXED);
}

static int config_event(struct smmu_model *m, u32 type, u32 sid, u64 fetch)
{
	u64 rec[4] = { type | (u64)sid << 32, 0, 0, fetch & mmask(51, 3) };

	model_record(m, rec);
	return (int)type;
}

static int fault(struct smmu_model *m, const struct s2ctx *c, u32 type,
		 u64 addr, bool write, u64 fetch)
{
	u64 rec[4];

	rec[0] = type | (u64)c->sid << 32;
	/* RnW [35], S2 [39], CLASS [41:40] */
	rec[1] = (write ? 0 : 1ull << 35) | 1ull << 39 | (u64)CLASS_IN << 40;
	rec[2] = addr;
	rec[3] = type == EVT_F_WALK_EABT ? fetch & mmask(51, 3) : addr & mmask(51, 12);
	/* S2R=0 silences translation-related faults; an external abort is always recorded. */
	if (type == EVT_F_WALK_EABT || c->record)
		model_record(m, rec);
	return (int)type;
}

static int bad_sid(struct smmu_model *m, u32 sid)
{
	/* CR2.RECINVSID decides whether an invalid StreamID is reported. */
	if (model_rd32(m, MR_CR2) & (1u << 1))
		return config_event(m, EVT_C_BAD_STREAMID, sid, 0);
	return EVT_C_BAD_STREAMID;
}

/* Where sid's STE lives, or an event type. */
static int locate_ste(struct smmu_model *m, u32 sid, u64 *addr)
{
	u64 base = model_rd64(m, MR_STRTAB_BASE) & mmask(51, 6);
	u32 cfg = model_rd32(m, MR_STRTAB_CFG);
	u32 log2size = (u32)mbits(cfg, 5, 0);
	u32 split = (u32)mbits(cfg, 10, 6);
	u32 fmt = (u32)mbits(cfg, 17, 16);
	u64 l1a, l1;
	u32 span, idx;
	const void *p;

	if (log2size > m->cfg.sidsize)
		log2size = m->cfg.sidsize;
	if ((u64)sid >> log2size)
		return bad_sid(m, sid);
	if (fmt == 0) {
		*addr = base + (u64)sid * 64;
		return 0;
	}
	if (fmt != 1 || !m->cfg.two_level || (split != 6 && split != 8 && split != 10))
		return bad_sid(m, sid);
	l1a = base + (u64)(sid >> split) * 8;
	p = sim_phys_to_virt_or_null(l1a);
	if (!p)
		return config_event(m, EVT_F_STE_FETCH, sid, l1a);
	l1 = load64(p);
	span = (u32)mbits(l1, 4, 0);
	idx = sid & ((1u << split) - 1);
	/* SPAN 0: no L2 table; SPAN-1 bits of StreamID are all it covers. */
	if (!span || span > split + 1 || (idx >> (span - 1)))
		return bad_sid(m, sid);
	*addr = (l1 & mmask(51, 6)) + (u64)idx * 64;
	return 0;
}

static int fetch_ste(struct smmu_model *m, u32 sid, u64 ste[8])
{
	const u64 *cached = model_cfgc_lookup(m, sid);
	const u8 *p;
	u64 addr;
	int ret;

	if (cached) {
		memcpy(ste, cached, 8 * sizeof(u64));
		return 0;
	}
	ret = locate_ste(m, sid, &addr);
	if (ret)
		return ret;
	m->stats.ste_fetches++;
	p = sim_phys_to_virt_or_null(addr);
	if (!p || !sim_phys_to_virt_or_null(addr + 63))
		return config_event(m, EVT_F_STE_FETCH, sid, addr);
	for (u32 i = 0; i < 8; i++)
		ste[i] = load64(p + 8 * i);
	/* Only a valid STE is cached: making one valid needs no invalidation. */
	if (ste[0] & 1)
		model_cfgc_insert(m, sid, ste);
	return 0;
}

/* 5.2 STE, stage 2 fields; anything this model cannot walk is C_BAD_STE. */
static int decode_s2(struct smmu_model *m, u32 sid, const u64 ste[8],
		     struct s2ctx *c)
{
	u64 d2 = ste[2];
	u32 t0sz = (u32)mbits(d2, 37, 32);
	u32 sl0 = (u32)mbits(d2, 39, 38);
	u32 tg = (u32)mbits(d2, 47, 46);
	u32 ps = (u32)mbits(d2, 50, 48);
	u32 oas = model_oas_bits(m->cfg.oas);
	u32 shift;
	u64 root_bytes;

	c->sid = sid;
	c->vmid = (u16)(mbits(d2, 15, 0) & (m->cfg.vmid16 ? 0xffff : 0xff));
	c->record = mbits(d2, 58, 58);
	c->ttb = ste[3] & mmask(51, 4);
	c->ias = 64 - t0sz;
	c->ps_bits = ps < 7 ? model_oas_bits(ps) : oas;
	if (c->ps_bits > oas)
		c->ps_bits = oas;
	/* The 4 KiB granule's descriptors carry 48 output bits without LPA2. */
	if (c->ps_bits > 48)
		c->ps_bits = 48;

	/* S2AA64 [51] required, S2ENDI [52] (big-endian walks) not modelled. */
	if (!m->cfg.s2 || !mbits(d2, 51, 51) || mbits(d2, 52, 52))
		return config_event(m, EVT_C_BAD_STE, sid, 0);
	if (tg != 0 || !m->cfg.gran4k || sl0 == 3)
		return config_event(m, EVT_C_BAD_STE, sid, 0);
	if (t0sz > 64 - 16 || c->ias > oas || c->ias > 48)
		return config_event(m, EVT_C_BAD_STE, sid, 0);
	c->start_level = 2 - sl0;
	shift = level_shift(c->start_level);
	/* The start level resolves 1..9 bits, or up to 13 with 16 concatenated tables. */
	if (c->ias <= shift || c->ias - shift > 13)
		return config_event(m, EVT_C_BAD_STE, sid, 0);
	root_bytes = 8ull << (c->ias - shift);
	if (root_bytes < 64)
		root_bytes = 64;
	if ((c->ttb & (root_bytes - 1)) || (c->ttb >> c->ps_bits))
		return config_event(m, EVT_C_BAD_STE, sid, 0);
	return 0;
}

/* Walk for ipa and fill the TLB; 0 or the fault's event type. */
static int walk(struct smmu_model *m, const struct s2ctx *c, u64 ipa, bool write,
		struct smmu_model_tlbe *out)
{
	struct smmu_model_walke *w = model_walk_lookup(m, c->vmid, ipa);
	u32 level = c->start_level;
	u64 table = c->ttb;

	if (w && w->level > level) {
		level = w->level;
		table = w->table;
	}
	m->stats.walks++;
	for (;;) {
		u32 shift = level_shift(level);
		u64 idx = level == c->start_level ? mbits(ipa, c->ias - 1, shift) :
						    mbits(ipa, shift + 8, shift);
		u64 da = table + idx * 8;
		const void *dp = sim_phys_to_virt_or_null(da);
		u64 d, oa;

		if (!dp)
			return fault(m, c, EVT_F_WALK_EABT, ipa, write, da);
		d = load64(dp);
		if (!(d & 1))
			return fault(m, c, EVT_F_TRANSLATION, ipa, write, 0);
		if (level < 3 && (d & 2)) {
			u64 next = d & mmask(47, 12);
			struct smmu_model_walke we = {
				.vmid = c->vmid,
				.level = (u8)(level + 1),
				.ipa = ipa & ~((1ull << shift) - 1),
				.size = 1ull << shift,
				.table = next,
			};

			if (next >> c->ps_bits)
				return fault(m, c, EVT_F_ADDR_SIZE, ipa, write, 0);
			model_walk_insert(m, &we);
			table = next;
			level++;
			continue;
		}
		/* Page descriptors are 0b11 at level 3; 4 KiB has no level 0 blocks. */
		if ((level == 3 && !(d & 2)) || level == 0)
			return fault(m, c, EVT_F_TRANSLATION, ipa, write, 0);
		oa = d & mmask(47, shift);
		if (oa >> c->ps_bits)
			return fault(m, c, EVT_F_ADDR_SIZE, ipa, write, 0);
		/* AF [10] clear: an Access flag fault, there is no HTTU here. */
		if (!(d & (1ull << 10)))
			return fault(m, c, EVT_F_ACCESS, ipa, write, 0);
		*out = (struct smmu_model_tlbe){
			.vmid = c->vmid,
			.level = (u8)level,
			.ipa = ipa & ~((1ull << shift) - 1),
			.size = 1ull << shift,
			.pa = oa,
			.r = d & (1ull << 6),	/* S2AP[0] */
			.w = d & (1ull << 7),	/* S2AP[1] */
		};
		model_tlb_insert(m, out);
		return 0;
	}
}

/* Translate the page holding a; *next is where the translated block ends. */
static int translate(struct smmu_model *m, const struct s2ctx *c, u64 a,
		     bool write, u64 *next)
{
	struct smmu_model_tlbe e;
	const struct smmu_model_tlbe *hit;
	int ret;

	/* An IPA beyond S2T0SZ's range has no table entry: Translation fault. */
	if (a >> c->ias)
		return fault(m, c, EVT_F_TRANSLATION, a, write, 0);
	hit = model_tlb_lookup(m, c->vmid, a);
	if (hit) {
		m->stats.tlb_hits++;
		e = *hit;
	} else {
		m->stats.tlb_misses++;
		ret = walk(m, c, a, write, &e);
		if (ret)
			return ret;
	}
	if (write ? !e.w : !e.r)
		return fault(m, c, EVT_F_PERMISSION, a, write, 0);
	*next = e.ipa + e.size;
	return 0;
}

static int dma_locked(struct smmu_model *m, u32 sid, u64 addr, u64 end,
		      bool write)
{
	struct s2ctx c;
	u64 ste[8];
	int ret;

	if (!(m->cr0ack & MB_SMMUEN))
		return (m->gbpa & (1u << 20)) ? SMMU_MODEL_ABORT : 0;
	ret = fetch_ste(m, sid, ste);
	if (ret)
		return ret;
	if (!(ste[0] & 1))
		return config_event(m, EVT_C_BAD_STE, sid, 0);
	switch (mbits(ste[0], 3, 1)) {
	case STE_CFG_ABORT:
		return SMMU_MODEL_ABORT;
	case STE_CFG_BYPASS:
		/* As hardware would: a checker must see the stream reach everything. */
		return 0;
	case STE_CFG_S2:
		break;
	default:
		return config_event(m, EVT_C_BAD_STE, sid, 0);
	}
	ret = decode_s2(m, sid, ste, &c);
	if (ret)
		return ret;
	for (u64 page = addr & ~0xfffull; page < end;) {
		u64 next;

		ret = translate(m, &c, page > addr ? page : addr, write, &next);
		if (ret)
			return ret;
		if (next <= page)
			break;
		page = next;
	}
	return 0;
}

int smmu_model_dma(struct smmu_model *m, u32 sid, u64 addr, u64 len, bool write)
{
	u64 end = addr + (len ? len : 1);
	int ret;

	if (end < addr)
		end = ~0ull;
	pthread_mutex_lock(&m->lock);
	m->stats.dma++;
	ret = dma_locked(m, sid, addr, end, write);
	/* Event queue PROD moved: make it visible to the driver's next read. */
	memcpy(m->regs + MR_EVTQ_PROD, &m->evtq_prod, sizeof(m->evtq_prod));
	memcpy(m->regs + MR_GERROR, &m->gerror, sizeof(m->gerror));
	pthread_mutex_unlock(&m->lock);
	return ret;
}
