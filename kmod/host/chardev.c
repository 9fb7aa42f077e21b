// SPDX-License-Identifier: GPL-2.0
/*
 * /dev/pkvm-iommu: root-only ioctls (pkvm_iommu(4)). Each argument starts
 * with its own size: smaller than the first version is -EINVAL, larger is
 * accepted when the extra bytes are zero (copy_struct_from_user: -E2BIG
 * otherwise), and only what the caller has room for is written back.
 */
#include <linux/capability.h>
#include <linux/fs.h>
#include <linux/gfp.h>
#include <linux/miscdevice.h>
#include <linux/uaccess.h>

#include "pkvm_iommu.h"

static int get_arg(void *karg, size_t ksize, size_t ver0, const void __user *uarg,
		   u32 *usize)
{
	if (get_user(*usize, (const u32 __user *)uarg))
		return -EFAULT;
	if (*usize < ver0)
		return -EINVAL;
	return copy_struct_from_user(karg, ksize, uarg, *usize);
}

static int put_arg(void __user *uarg, const void *karg, size_t ksize, u32 usize)
{
	return copy_to_user(uarg, karg, min_t(size_t, ksize, usize)) ? -EFAULT : 0;
}

static s64 stat_read(u32 id)
{
	return pkvm_iommu_call(PKVM_IOMMU_HVC_STATS_READ, id, 0, 0, 0, 0, 0);
}

static long ioc_info(void __user *uarg)
{
	struct pkvm_iommu_info k;
	u32 usize;
	int ret = get_arg(&k, sizeof(k), PKVM_IOMMU_INFO_SIZE_VER0, uarg, &usize);

	if (ret)
		return ret;
	k.size = sizeof(k);
	k.abi_version = PKVM_IOMMU_ABI_VERSION;
	k.backend = PKVM_IOMMU_BACKEND_HOST;
	mutex_lock(&pkvm->lock);
	k.nr_smmus = pkvm->nr_smmus;
	k.split_policy = (u32)stat_read(PKVM_IOMMU_STAT_SPLIT_POLICY);
	k.ias = pkvm->hyp->pgt.ias;
	k.mem_bytes = (u64)stat_read(PKVM_IOMMU_STAT_MEM_PAGES) << PAGE_SHIFT;
	k.generation = pkvm->generation;
	mutex_unlock(&pkvm->lock);
	return put_arg(uarg, &k, sizeof(k), usize);
}

static struct pkvm_smmu *smmu_by_index(u32 index)
{
	return index < pkvm->nr_smmus ? &pkvm->smmu[index] : NULL;
}

static long ioc_smmu_info(void __user *uarg)
{
	struct pkvm_iommu_smmu_info k;
	const struct smmu_features *f;
	struct pkvm_smmu *s;
	u32 usize;
	int ret = get_arg(&k, sizeof(k), PKVM_IOMMU_SMMU_INFO_SIZE_VER0, uarg, &usize);

	if (ret)
		return ret;
	mutex_lock(&pkvm->lock);
	s = smmu_by_index(k.index);
	if (!s) {
		mutex_unlock(&pkvm->lock);
		return -ENODEV;
	}
	f = &pkvm->hyp->smmu[s->index].dev.feat;
	memset(&k, 0, sizeof(k));
	k.size = sizeof(k);
	k.index = s - pkvm->smmu;
	k.base = s->base;
	k.idr[0] = f->idr0;
	k.idr[1] = f->idr1;
	k.idr[3] = f->idr3;
	k.idr[5] = f->idr5;
	k.features = (f->s1 ? PKVM_IOMMU_FEAT_S1 : 0) | (f->s2 ? PKVM_IOMMU_FEAT_S2 : 0) |
		     (f->two_level ? PKVM_IOMMU_FEAT_2LVL_STRTAB : 0) |
		     (f->coherent ? PKVM_IOMMU_FEAT_COHERENT : 0) |
		     (f->ril ? PKVM_IOMMU_FEAT_RIL : 0) |
		     (f->vmid16 ? PKVM_IOMMU_FEAT_VMID16 : 0) |
		     (f->gran4k ? PKVM_IOMMU_FEAT_GRAN4K : 0);
	k.sidsize = f->sidsize;
	k.oas = f->oas_bits;
	k.bbml = f->bbml;
	k.events = pkvm->hyp->smmu[s->index].dev.evtq.nr_events;
	k.overflows = pkvm->hyp->smmu[s->index].dev.evtq.nr_overflows;
	mutex_unlock(&pkvm->lock);
	return put_arg(uarg, &k, sizeof(k), usize);
}

static long ioc_stream(void __user *uarg, bool set)
{
	struct pkvm_iommu_stream k;
	struct pkvm_smmu *s;
	u32 usize, sidsize;
	s64 ret = get_arg(&k, sizeof(k), PKVM_IOMMU_STREAM_SIZE_VER0, uarg, &usize);

	if (ret)
		return ret;
	mutex_lock(&pkvm->lock);
	s = smmu_by_index(k.smmu);
	if (!s) {
		ret = -ENODEV;
		goto out;
	}
	sidsize = pkvm->hyp->smmu[s->index].dev.feat.sidsize;
	if (sidsize < 32 && k.sid >= 1u << sidsize) {
		ret = -ERANGE;
		goto out;
	}
	if (!set) {
		void *v = xa_load(&s->streams, k.sid);

		k.policy = v ? (u32)xa_to_value(v) : PKVM_STREAM_BLOCK;
		k.size = sizeof(k);
		mutex_unlock(&pkvm->lock);
		return put_arg(uarg, &k, sizeof(k), usize);
	}
	if (k.policy != PKVM_STREAM_BLOCK && k.policy != PKVM_STREAM_ISOLATE) {
		ret = -EINVAL;
		goto out;
	}
	ret = pkvm_iommu_call(PKVM_IOMMU_HVC_STREAM_ATTACH, s->index, k.sid, k.policy, 0, 0, 0);
	if (!ret)
		ret = xa_err(xa_store(&s->streams, k.sid, xa_mk_value(k.policy), GFP_KERNEL));
out:
	mutex_unlock(&pkvm->lock);
	if (!ret && set)
		pkvm_iommu_genl_policy_event(k.smmu, k.sid, k.policy);
	return ret;
}

static long ioc_split(void __user *uarg)
{
	struct pkvm_iommu_split k;
	u32 usize;
	s64 ret = get_arg(&k, sizeof(k), PKVM_IOMMU_SPLIT_SIZE_VER0, uarg, &usize);

	if (ret)
		return ret;
	if (k.reserved)
		return -EINVAL;
	mutex_lock(&pkvm->lock);
	ret = pkvm_iommu_call(PKVM_IOMMU_HVC_SPLIT_POLICY, k.policy, k.level, 0, 0, 0, 0);
	mutex_unlock(&pkvm->lock);
	if (!ret)
		pkvm_iommu_genl_policy_event(~0u, ~0u, k.policy);
	return ret;
}

static long ioc_stats(void __user *uarg)
{
	struct pkvm_iommu_stats k;
	u32 usize;
	int ret = get_arg(&k, sizeof(k), PKVM_IOMMU_STATS_SIZE_VER0, uarg, &usize);

	if (ret)
		return ret;
	k.size = sizeof(k);
	k.nr = PKVM_IOMMU_STAT_NR;
	mutex_lock(&pkvm->lock);
	for (u32 i = 0; i < PKVM_IOMMU_STAT_NR; i++)
		k.counter[i] = (u64)stat_read(i);
	mutex_unlock(&pkvm->lock);
	return put_arg(uarg, &k, sizeof(k), usize);
}

static long ioc_range(void __user *uarg, u32 op)
{
	struct pkvm_iommu_range k;
	u32 usize;
	int ret = get_arg(&k, sizeof(k), PKVM_IOMMU_RANGE_SIZE_VER0, uarg, &usize);

	if (ret)
		return ret;
	if (k.flags || k.reserved)
		return -EINVAL;
	return pkvm_iommu_batch_single(op, k.addr, k.len, k.owner);
}

static long ioc_batch(void __user *uarg)
{
	struct pkvm_iommu_batch k;
	struct pkvm_iommu_op *ops;
	size_t bytes;
	u32 usize, done = 0;
	long ret = get_arg(&k, sizeof(k), PKVM_IOMMU_BATCH_SIZE_VER0, uarg, &usize);

	if (ret)
		return ret;
	if (k.flags || !k.nr || k.nr > PKVM_IOMMU_BATCH_MAX)
		return -EINVAL;
	bytes = (size_t)k.nr * sizeof(*ops);
	/* The hyp core reads the records by physical address: one run of pages. */
	ops = alloc_pages_exact(bytes, GFP_KERNEL);
	if (!ops)
		return -ENOMEM;
	if (copy_from_user(ops, u64_to_user_ptr(k.ops), bytes)) {
		ret = -EFAULT;
		goto out;
	}
	for (u32 i = 0; i < k.nr; i++)
		ops[i].result = -ECANCELED;	/* not tried, unless said otherwise */
	ret = pkvm_iommu_batch_apply(ops, k.nr, &done);
	k.done = done;
	k.size = sizeof(k);
	if (copy_to_user(u64_to_user_ptr(k.ops), ops, bytes) ||
	    put_arg(uarg, &k, sizeof(k), usize))
		ret = -EFAULT;
out:
	free_pages_exact(ops, bytes);
	return ret;
}

static long ioc_invalidation(void __user *uarg)
{
	struct pkvm_iommu_invalidation k;
	u32 usize;
	int ret = get_arg(&k, sizeof(k), PKVM_IOMMU_INVALIDATION_SIZE_VER0, uarg, &usize);

	if (ret)
		return ret;
	if (k.reserved)
		return -EINVAL;
	ret = pkvm_iommu_batch_config(&k.batch_max_ops, &k.batch_window_us);
	if (ret)
		return ret;
	k.size = sizeof(k);
	return put_arg(uarg, &k, sizeof(k), usize);
}

static long pkvm_iommu_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	void __user *uarg = (void __user *)arg;

	/* The mode keeps others out; this keeps out root-less holders of an fd. */
	if (!capable(CAP_SYS_ADMIN))
		return -EPERM;
	switch (cmd) {
	case PKVM_IOMMU_IOC_INFO:
		return ioc_info(uarg);
	case PKVM_IOMMU_IOC_SMMU_INFO:
		return ioc_smmu_info(uarg);
	case PKVM_IOMMU_IOC_STREAM_GET:
		return ioc_stream(uarg, false);
	case PKVM_IOMMU_IOC_STREAM_SET:
		return ioc_stream(uarg, true);
	case PKVM_IOMMU_IOC_SPLIT_POLICY:
		return ioc_split(uarg);
	case PKVM_IOMMU_IOC_STATS:
		return ioc_stats(uarg);
	case PKVM_IOMMU_IOC_DONATE:
		return ioc_range(uarg, PKVM_IOMMU_OP_DONATE);
	case PKVM_IOMMU_IOC_RECLAIM:
		return ioc_range(uarg, PKVM_IOMMU_OP_RECLAIM);
	case PKVM_IOMMU_IOC_SHARE:
		return ioc_range(uarg, PKVM_IOMMU_OP_SHARE);
	case PKVM_IOMMU_IOC_UNSHARE:
		return ioc_range(uarg, PKVM_IOMMU_OP_UNSHARE);
	case PKVM_IOMMU_IOC_BATCH:
		return ioc_batch(uarg);
	case PKVM_IOMMU_IOC_INVALIDATION:
		return ioc_invalidation(uarg);
	default:
		return -ENOTTY;
	}
}

static const struct file_operations pkvm_iommu_fops = {
	.owner = THIS_MODULE,
	.unlocked_ioctl = pkvm_iommu_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
};

static struct miscdevice pkvm_iommu_misc = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "pkvm-iommu",
	.fops = &pkvm_iommu_fops,
	.mode = 0600,
};

int pkvm_iommu_chardev_init(void)
{
	return misc_register(&pkvm_iommu_misc);
}

void pkvm_iommu_chardev_exit(void)
{
	misc_deregister(&pkvm_iommu_misc);
}
