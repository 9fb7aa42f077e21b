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

static long ioc_info(void __user *uarg)
{
	struct pkvm_iommu_info k;
	u32 usize;
	int ret = get_arg(&k, sizeof(k), PKVM_IOMMU_INFO_SIZE_VER0, uarg, &usize);

	if (ret)
		return ret;
	mutex_lock(&pkvm->lock);
	ret = pkvm_core_info(&pkvm->core, &k);
	mutex_unlock(&pkvm->lock);
	return ret ? ret : put_arg(uarg, &k, sizeof(k), usize);
}

static long ioc_smmu_info(void __user *uarg)
{
	struct pkvm_iommu_smmu_info k;
	u32 usize;
	int ret = get_arg(&k, sizeof(k), PKVM_IOMMU_SMMU_INFO_SIZE_VER0, uarg, &usize);

	if (ret)
		return ret;
	mutex_lock(&pkvm->lock);
	ret = pkvm_core_smmu_info(&pkvm->core, k.index, &k);
	mutex_unlock(&pkvm->lock);
	return ret ? ret : put_arg(uarg, &k, sizeof(k), usize);
}

static long ioc_stream(void __user *uarg, bool set)
{
	struct pkvm_iommu_stream k;
	u32 usize;
	int ret = get_arg(&k, sizeof(k), PKVM_IOMMU_STREAM_SIZE_VER0, uarg, &usize);

	if (ret)
		return ret;
	mutex_lock(&pkvm->lock);
	if (set)
		ret = pkvm_core_stream_set(&pkvm->core, k.smmu, k.sid, k.policy);
	else
		ret = pkvm_core_stream_get(&pkvm->core, k.smmu, k.sid, &k.policy);
	mutex_unlock(&pkvm->lock);
	if (ret || set)
		return ret;
	k.size = sizeof(k);
	return put_arg(uarg, &k, sizeof(k), usize);
}

static long ioc_split(void __user *uarg)
{
	struct pkvm_iommu_split k;
	u32 usize;
	int ret = get_arg(&k, sizeof(k), PKVM_IOMMU_SPLIT_SIZE_VER0, uarg, &usize);

	if (ret)
		return ret;
	if (k.reserved)
		return -EINVAL;
	mutex_lock(&pkvm->lock);
	ret = pkvm_core_split_policy(&pkvm->core, k.policy, k.level);
	mutex_unlock(&pkvm->lock);
	return ret;
}

static long ioc_stats(void __user *uarg)
{
	struct pkvm_iommu_stats k;
	u32 usize;
	int ret = get_arg(&k, sizeof(k), PKVM_IOMMU_STATS_SIZE_VER0, uarg, &usize);

	if (ret)
		return ret;
	mutex_lock(&pkvm->lock);
	ret = pkvm_core_stats(&pkvm->core, &k);
	mutex_unlock(&pkvm->lock);
	if (ret)
		return ret;
	/* A caller built against fewer counters gets what fits, and is told so. */
	k.nr = min_t(u32, k.nr, (min_t(size_t, usize, sizeof(k)) -
				 offsetof(struct pkvm_iommu_stats, counter)) / sizeof(k.counter[0]));
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
	mutex_lock(&pkvm->lock);
	ret = pkvm_core_invalidation(&pkvm->core, &k.batch_max_ops, &k.batch_window_us);
	mutex_unlock(&pkvm->lock);
	if (ret)
		return ret;
	k.size = sizeof(k);
	return put_arg(uarg, &k, sizeof(k), usize);
}

static long ioc_fold(void __user *uarg)
{
	struct pkvm_iommu_fold k;
	u32 usize;
	int ret = get_arg(&k, sizeof(k), PKVM_IOMMU_FOLD_SIZE_VER0, uarg, &usize);

	if (ret)
		return ret;
	mutex_lock(&pkvm->lock);
	ret = pkvm_core_fold(&pkvm->core, &k);
	/* A refused EAGER switch may have folded and switched all the same. */
	if (!(k.flags & PKVM_IOMMU_FOLD_READ) && ret != -EINVAL)
		pkvm_iommu_compact_config();
	mutex_unlock(&pkvm->lock);
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
	case PKVM_IOMMU_IOC_FOLD:
		return ioc_fold(uarg);
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
