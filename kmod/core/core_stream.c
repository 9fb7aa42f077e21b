// SPDX-License-Identifier: GPL-2.0
/*
 * Stream policies as the host set them: per SMMU, a table of the streams
 * whose policy was set, sorted by StreamID. A stream never set is blocked,
 * which is also what the hyp core starts every STE as.
 */
#include "core_int.h"

/* The sid must exist on the SMMU: IDR1.SIDSIZE bounds the stream table. */
static int stream_check(struct pkvm_core *c, u32 smmu, u32 sid)
{
	u32 sidsize;

	if (!core_smmu(c, smmu))
		return -ENODEV;
	/* Under pKVM only the hyp core knows SIDSIZE; STREAM_ATTACH checks it. */
	if (!c->hyp)
		return 0;
	sidsize = c->hyp->smmu[c->smmu[smmu].hyp_index].dev.feat.sidsize;
	if (sidsize < 32 && sid >= 1u << sidsize)
		return -ERANGE;
	return 0;
}

/* Binary search: the entry's index, or where it would go. */
static u32 stream_pos(const struct pkvm_core_smmu *s, u32 sid)
{
	u32 lo = 0, hi = s->nr_streams;

	while (lo < hi) {
		u32 mid = lo + (hi - lo) / 2;

		if (s->streams[mid].sid < sid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static struct pkvm_core_stream *stream_find(struct pkvm_core_smmu *s, u32 sid)
{
	u32 i = stream_pos(s, sid);

	return i < s->nr_streams && s->streams[i].sid == sid ? &s->streams[i] : NULL;
}

/* The stream's entry, added as blocked (what an absent one means) if new. */
static struct pkvm_core_stream *stream_slot(struct pkvm_core *c, struct pkvm_core_smmu *s,
					    u32 sid)
{
	u32 i = stream_pos(s, sid);

	if (i < s->nr_streams && s->streams[i].sid == sid)
		return &s->streams[i];
	if (s->nr_streams == s->cap_streams) {
		u32 cap = s->cap_streams ? s->cap_streams * 2 : 16;
		struct pkvm_core_stream *p = c->env->alloc(c->ctx, (u64)cap * sizeof(*p));

		if (!p)
			return NULL;
		if (s->nr_streams)
			hyp_memcpy(p, s->streams, s->nr_streams * sizeof(*p));
		c->env->free(c->ctx, s->streams);
		s->streams = p;
		s->cap_streams = cap;
	}
	for (u32 j = s->nr_streams; j > i; j--)
		s->streams[j] = s->streams[j - 1];
	s->streams[i] = (struct pkvm_core_stream){ sid, PKVM_STREAM_BLOCK };
	s->nr_streams++;
	return &s->streams[i];
}

int pkvm_core_stream_get(struct pkvm_core *c, u32 smmu, u32 sid, u32 *policy)
{
	const struct pkvm_core_stream *e;
	int ret = stream_check(c, smmu, sid);

	if (ret)
		return ret;
	e = stream_find(&c->smmu[smmu], sid);
	*policy = e ? e->policy : PKVM_STREAM_BLOCK;
	return 0;
}

int pkvm_core_stream_set(struct pkvm_core *c, u32 smmu, u32 sid, u32 policy)
{
	struct pkvm_core_event ev = {
		.cmd = PKVM_IOMMU_CMD_EVT_POLICY, .smmu = smmu, .sid = sid, .policy = policy,
	};
	struct pkvm_core_stream *e;
	int ret = stream_check(c, smmu, sid);
	s64 r;

	if (ret)
		return ret;
	if (policy != PKVM_STREAM_BLOCK && policy != PKVM_STREAM_ISOLATE)
		return -EINVAL;
	/* Room first, so that what the hyp core did is always recorded. */
	e = stream_slot(c, &c->smmu[smmu], sid);
	if (!e)
		return -ENOMEM;
	r = pkvm_core_call(c, PKVM_IOMMU_HVC_STREAM_ATTACH, c->smmu[smmu].hyp_index, sid, policy,
			   0, 0, 0);
	if (r)
		return (int)r;
	e->policy = policy;
	core_emit(c, &ev);
	return 0;
}
