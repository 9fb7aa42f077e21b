// SPDX-License-Identifier: GPL-2.0
/*
 * The pKVM transport: the hyp core runs in the protected hypervisor of a
 * kernel built with kmod/pkvm/patches and is reached by HVC, with the
 * registers pkvm_iommu_hvc() takes. The hypervisor answers as it does
 * pKVM's own host calls: SMCCC_RET_SUCCESS in x0, the result in x1; a
 * hypervisor without the shadow answers SMCCC_RET_NOT_SUPPORTED in x0.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/arm-smccc.h>
#include <linux/printk.h>
#include <asm/virt.h>

#include "pkvm_iommu.h"

s64 pkvm_iommu_el2_call(void *ctx, u64 fn, const u64 a[6])
{
	struct arm_smccc_res res;

	lockdep_assert_held(&pkvm->lock);
	arm_smccc_1_1_hvc(fn, a[0], a[1], a[2], a[3], a[4], a[5], &res);
	/* The probe at load saw the shadow answer: this is not expected. */
	if (res.a0 != SMCCC_RET_SUCCESS)
		return -EOPNOTSUPP;
	return (s64)res.a1;
}

/* Before INIT the shadow answers every call but INIT with -ENODEV. */
static void el2_probe_call(struct arm_smccc_res *res)
{
	arm_smccc_1_1_hvc(PKVM_IOMMU_HVC_STATS_READ, PKVM_IOMMU_STAT_POOL_FREE, res);
}

/*
 * Whether pKVM's hypervisor runs the shadow. Its kernel claims the device
 * tree's SMMUs at pKVM's init (patches 9-12), so their registers fault for
 * the host from then on and host mode must not touch them.
 */
bool pkvm_iommu_el2_has_shadow(void)
{
	struct arm_smccc_res res;

	if (!is_protected_kvm_enabled())
		return false;
	el2_probe_call(&res);
	return res.a0 == SMCCC_RET_SUCCESS;
}

int pkvm_iommu_el2_probe(void)
{
	struct arm_smccc_res res;

	/* Without pKVM an HVC reaches no hypervisor that knows these ids. */
	if (!is_protected_kvm_enabled()) {
		pr_err("transport=pkvm: pKVM is not enabled (boot with kvm-arm.mode=protected)\n");
		return -EOPNOTSUPP;
	}
	el2_probe_call(&res);
	if (res.a0 == SMCCC_RET_NOT_SUPPORTED) {
		pr_err("transport=pkvm: the hypervisor has no shadow (booted with kvm-arm.pkvm_iommu=off, or a kernel without CONFIG_PKVM_IOMMU_SHADOW, see kmod/pkvm/patches)\n");
		return -EOPNOTSUPP;
	}
	if (res.a0 != SMCCC_RET_SUCCESS) {
		pr_err("transport=pkvm: unexpected answer %ld to the probe\n", (long)res.a0);
		return -EIO;
	}
	if ((s64)res.a1 != -ENODEV) {
		pr_err("transport=pkvm: the hypervisor's shadow is already set up (an earlier load; EL2 has no teardown)\n");
		return -EBUSY;
	}
	return 0;
}
