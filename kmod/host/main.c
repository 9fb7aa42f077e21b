// SPDX-License-Identifier: GPL-2.0
/*
 * pkvm_iommu.ko: host side of pkvm-iommu. Reaches the hyp core (host mode:
 * ordinary kernel code behind the same entry the EL2 build uses; pKVM: the
 * hypervisor of a kernel built with kmod/pkvm/patches, by HVC), gives it
 * the RAM layout and a table pool, and binds every unclaimed SMMUv3 by
 * driver_override, so it never races the kernel's own arm-smmu-v3 driver.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/gfp.h>
#include <linux/mm.h>
#include <linux/io.h>
#include <linux/ioport.h>
#include <linux/module.h>
#include <linux/of.h>
#include <linux/of_platform.h>
#include <linux/slab.h>
#include <asm/virt.h>

#include "pkvm_iommu.h"
#include "smmu_regs.h"

static char *transport = "host";
module_param(transport, charp, 0444);
MODULE_PARM_DESC(transport, "hyp transport: host (EL1, default) or pkvm (EL2)");

static unsigned int pool_pages = 1024;
module_param(pool_pages, uint, 0444);
MODULE_PARM_DESC(pool_pages, "table pool size in pages (rounded up to a power of two)");

static unsigned int split_policy = PKVM_SPLIT_AUTO;
module_param(split_policy, uint, 0444);
MODULE_PARM_DESC(split_policy, "0 hitless, 1 bbm, 2 presplit, 3 auto from SMMU_IDR3.BBML (default)");

static unsigned int poll_ms = 10;
module_param(poll_ms, uint, 0444);
MODULE_PARM_DESC(poll_ms, "event queue polling period in ms");

#define SMMU_MEM_ORDER	6	/* queues, stream table, level-2 pages: 64 pages */
#define SMMU_REGS_BYTES	0x20000

struct pkvm_iommu *pkvm;
/* transport=pkvm: the hyp core and everything given to it are EL2's. */
static bool on_el2;
static bool pool_at_el2;

/* The transport: the one way into the hyp core, from the host core. */
static s64 host_call(void *ctx, u64 fn, const u64 args[6])
{
	lockdep_assert_held(&pkvm->lock);
	/* Host mode: a direct call. The pKVM transport would be an HVC here. */
	return pkvm_iommu_hvc(pkvm->hyp, fn, args);
}

/* Stream tables: a few entries as a rule, 2^SIDSIZE at worst. */
static void *host_alloc(void *ctx, u64 bytes)
{
	return kvmalloc(bytes, GFP_KERNEL);
}

static void host_free(void *ctx, void *p)
{
	kvfree(p);
}

static const struct pkvm_core_env host_env = {
	.call = host_call,
	.alloc = host_alloc,
	.free = host_free,
	.event = pkvm_iommu_events_sink,
};

static const struct pkvm_core_env el2_env = {
	.call = pkvm_iommu_el2_call,
	.alloc = host_alloc,
	.free = host_free,
	.event = pkvm_iommu_events_sink,
};

/*
 * System RAM as the kernel's resource tree has it: the memory the shadow
 * maps. The top-level walk without resource_lock is fine at load time on
 * a machine without memory hotplug (the only kind this module supports).
 */
static int collect_ram(void)
{
	struct resource *r;
	u32 n = 0;

	pkvm->regions = kcalloc(S2_MAX_REGIONS, sizeof(*pkvm->regions), GFP_KERNEL);
	if (!pkvm->regions)
		return -ENOMEM;
	for (r = iomem_resource.child; r; r = r->sibling) {
		u64 start = PAGE_ALIGN(r->start), end = (r->end + 1) & PAGE_MASK;

		if ((r->flags & IORESOURCE_SYSTEM_RAM) != IORESOURCE_SYSTEM_RAM ||
		    end <= start)
			continue;
		if (n == S2_MAX_REGIONS) {
			pr_err("more than %u RAM regions\n", S2_MAX_REGIONS);
			return -E2BIG;
		}
		/* Adjacent resources make one region: the engine wants them disjoint. */
		if (n && pkvm->regions[n - 1].base + pkvm->regions[n - 1].size == start) {
			pkvm->regions[n - 1].size += end - start;
			continue;
		}
		pkvm->regions[n++] = (struct s2_region){ start, end - start };
	}
	if (!n) {
		pr_err("no System RAM in the resource tree\n");
		return -ENODEV;
	}
	pkvm->nr_regions = n;
	return 0;
}

static int hyp_init(void)
{
	s64 ret;

	pkvm->pool_order = order_base_2(max(pool_pages, 16u));
	pkvm->pool = alloc_pages(GFP_KERNEL | __GFP_ZERO, pkvm->pool_order);
	if (!pkvm->pool) {
		pr_err("cannot allocate a %u-page table pool\n", 1u << pkvm->pool_order);
		return -ENOMEM;
	}
	mutex_lock(&pkvm->lock);
	ret = pkvm_core_call(&pkvm->core, PKVM_IOMMU_HVC_INIT, virt_to_phys(pkvm->regions),
			     pkvm->nr_regions, page_to_phys(pkvm->pool),
			     1ull << pkvm->pool_order, split_policy, 0);
	mutex_unlock(&pkvm->lock);
	if (ret) {
		pr_err("hyp core refused init: %lld\n", ret);
		return (int)ret;
	}
	/* From now on the pool is the hypervisor's: never freed. */
	pool_at_el2 = on_el2;
	if (on_el2)
		pr_info("shadow stage 2 at EL2 over %u RAM region(s), %u pool pages donated to the hypervisor\n",
			pkvm->nr_regions, 1u << pkvm->pool_order);
	else
		pr_info("shadow stage 2 over %u RAM region(s), %u pool pages\n",
			pkvm->nr_regions, 1u << pkvm->pool_order);
	return 0;
}

/* Host mode only: stop translating before the memory goes back to Linux. */
static void smmu_quiesce(struct pkvm_smmu *s)
{
	u64 deadline = ktime_get_ns() + 100 * NSEC_PER_MSEC;

	writel_relaxed(SMMU_GBPA_ABORT | SMMU_GBPA_UPDATE, s->regs + SMMU_GBPA);
	writel(0, s->regs + SMMU_CR0);
	while (readl_relaxed(s->regs + SMMU_CR0ACK) & SMMU_CR0_SMMUEN &&
	       ktime_get_ns() < deadline)
		cpu_relax();
}

/*
 * Host mode: the hyp core reaches the registers through the module's
 * mapping. Under pKVM the hypervisor maps them itself (and cleans its
 * caches for an SMMU that does not snoop), so the host maps nothing.
 */
static int smmu_map_regs(struct pkvm_smmu *s, struct device *dev)
{
	int ret;

	s->regs = ioremap(s->base, SMMU_REGS_BYTES);
	if (!s->regs)
		return -ENOMEM;
	ret = pkvm_env_mmio_register(s->base, SMMU_REGS_BYTES, s->regs);
	if (ret)
		goto out_unmap;
	/* The hyp core refuses what it cannot serve; say why here. */
	if (!(readl_relaxed(s->regs + SMMU_IDR0) & SMMU_IDR0_COHACC)) {
		dev_err(dev, "SMMU walks without snooping (IDR0.COHACC=0): unsupported in host mode\n");
		ret = -EOPNOTSUPP;
		goto out_unreg;
	}
	return 0;

out_unreg:
	pkvm_env_mmio_unregister(s->base);
out_unmap:
	iounmap(s->regs);
	s->regs = NULL;
	return ret;
}

static void smmu_unmap_regs(struct pkvm_smmu *s)
{
	if (!s->regs)
		return;
	pkvm_env_mmio_unregister(s->base);
	iounmap(s->regs);
	s->regs = NULL;
}

static int pkvm_smmu_probe(struct platform_device *pdev)
{
	struct resource *res = platform_get_resource(pdev, IORESOURCE_MEM, 0);
	struct pkvm_smmu *s;
	s64 ret;

	if (!res || resource_size(res) < SMMU_REGS_BYTES)
		return dev_err_probe(&pdev->dev, -EINVAL, "no 128 KiB register window\n");
	mutex_lock(&pkvm->lock);
	if (pkvm->core.nr_smmus == PKVM_IOMMU_MAX_SMMUS) {
		ret = -ENOSPC;
		goto out_unlock;
	}
	s = &pkvm->smmu[pkvm->core.nr_smmus];
	s->pdev = pdev;
	s->base = res->start;
	if (!on_el2) {
		ret = smmu_map_regs(s, &pdev->dev);
		if (ret)
			goto out_unlock;
	}
	s->mem_order = SMMU_MEM_ORDER;
	s->mem = alloc_pages(GFP_KERNEL | __GFP_ZERO, s->mem_order);
	if (!s->mem) {
		ret = -ENOMEM;
		goto out_unmap;
	}
	ret = pkvm_core_smmu_add(&pkvm->core, s->base, page_to_phys(s->mem), 1u << s->mem_order);
	if (ret < 0) {
		if (ret == -EACCES)
			dev_err(&pdev->dev, "the hypervisor did not claim the SMMU at %pa at boot (not an arm,smmu-v3 node of the device tree it was handed): refused\n",
				&res->start);
		else
			dev_err(&pdev->dev, "hyp core refused the SMMU: %lld\n", ret);
		/*
		 * After a timeout the hyp core keeps the memory: so do we. At
		 * EL2 the hypervisor decides, and freeing a page it kept would
		 * fault the host later: leak it.
		 */
		if (!on_el2 && ret != -ETIMEDOUT && ret != -EIO)
			__free_pages(s->mem, s->mem_order);
		s->mem = NULL;
		goto out_unmap;
	}
	platform_set_drvdata(pdev, s);
	mutex_unlock(&pkvm->lock);
	dev_info(&pdev->dev, "SMMUv3 at %pa under the shadow stage 2%s (index %d), every stream blocked\n",
		 &res->start, on_el2 ? " at EL2" : "", (int)ret);
	pkvm_iommu_events_start();
	return 0;

out_unmap:
	smmu_unmap_regs(s);
out_unlock:
	mutex_unlock(&pkvm->lock);
	return (int)ret;
}

static struct platform_driver pkvm_smmu_driver = {
	.driver = {
		.name = PKVM_IOMMU_DRV_NAME,
		/* Binding is explicit: never by match, never on a reprobe. */
		.suppress_bind_attrs = true,
	},
	.probe = pkvm_smmu_probe,
};

/* Claim every SMMUv3 no driver owns yet, by driver_override. */
static void bind_smmus(void)
{
	struct device_node *np;

	for_each_compatible_node(np, NULL, "arm,smmu-v3") {
		struct platform_device *pdev = of_find_device_by_node(np);
		int ret;

		if (!pdev)
			continue;
		if (pdev->dev.driver) {
			/* Ours when the override outlived a reload and matched at register. */
			if (pdev->dev.driver != &pkvm_smmu_driver.driver)
				dev_info(&pdev->dev, "already driven by %s: left alone\n",
					 pdev->dev.driver->name);
			put_device(&pdev->dev);
			continue;
		}
		ret = device_set_driver_override(&pdev->dev, PKVM_IOMMU_DRV_NAME);
		if (!ret)
			ret = device_driver_attach(&pkvm_smmu_driver.driver, &pdev->dev);
		if (ret)
			dev_err(&pdev->dev, "bind failed: %d\n", ret);
		put_device(&pdev->dev);
	}
}

static void teardown(void)
{
	for (u32 i = 0; i < pkvm->core.nr_smmus; i++) {
		struct pkvm_smmu *s = &pkvm->smmu[i];

		smmu_quiesce(s);
		device_release_driver(&s->pdev->dev);
		/* "" clears the override (device.h): the next load binds explicitly. */
		device_set_driver_override(&s->pdev->dev, "");
		smmu_unmap_regs(s);
		if (s->mem)
			__free_pages(s->mem, s->mem_order);
	}
	pkvm_core_fini(&pkvm->core);
}

static int __init pkvm_iommu_init(void)
{
	int ret;

	on_el2 = !strcmp(transport, "pkvm");
	if (!on_el2 && strcmp(transport, "host")) {
		pr_err("transport=%s: not 'host' or 'pkvm'\n", transport);
		return -EINVAL;
	}
	if (on_el2) {
		/* The hyp core is in the hypervisor when its kernel was patched. */
		ret = pkvm_iommu_el2_probe();
		if (ret)
			return ret;
	} else if (pkvm_iommu_el2_has_shadow()) {
		pr_err("transport=host: pKVM's hypervisor runs the shadow and owns the SMMUs on this kernel: load with transport=pkvm\n");
		return -EBUSY;
	} else if (is_protected_kvm_enabled()) {
		pr_warn("pKVM is enabled but the hyp core runs at EL1: the host can undo its isolation\n");
	}
	if (split_policy > PKVM_SPLIT_AUTO) {
		pr_err("split_policy=%u: not 0..3\n", split_policy);
		return -EINVAL;
	}

	pkvm = kzalloc(sizeof(*pkvm), GFP_KERNEL);
	if (!pkvm)
		return -ENOMEM;
	if (!on_el2)
		pkvm->hyp = kzalloc(sizeof(*pkvm->hyp), GFP_KERNEL);
	pkvm->evbuf = kzalloc(sizeof(*pkvm->evbuf), GFP_KERNEL);
	if ((!on_el2 && !pkvm->hyp) || !pkvm->evbuf) {
		ret = -ENOMEM;
		goto err_free;
	}
	mutex_init(&pkvm->lock);
	if (on_el2) {
		pkvm_core_init(&pkvm->core, &el2_env, NULL, PKVM_IOMMU_BACKEND_PKVM);
	} else {
		pkvm_iommu_hyp_setup(pkvm->hyp);
		pkvm_core_init(&pkvm->core, &host_env, NULL, PKVM_IOMMU_BACKEND_HOST);
	}
	pkvm->poll_ms = max(poll_ms, 1u);

	ret = collect_ram();
	if (ret)
		goto err_free;
	ret = hyp_init();
	if (ret)
		goto err_pool;
	pkvm_iommu_compact_start();
	ret = pkvm_iommu_batch_init();
	if (ret)
		goto err_pool;
	ret = pkvm_iommu_genl_init();
	if (ret)
		goto err_batch;
	ret = pkvm_iommu_chardev_init();
	if (ret)
		goto err_genl;
	ret = platform_driver_register(&pkvm_smmu_driver);
	if (ret)
		goto err_chardev;
	bind_smmus();
	/*
	 * The pool and the SMMUs' memory now belong to the hypervisor, which
	 * has no way to give them back or stop the SMMUs: the module stays.
	 */
	if (on_el2)
		__module_get(THIS_MODULE);
	return 0;

err_chardev:
	pkvm_iommu_chardev_exit();
	/* An ioctl in the meantime may have armed it. */
	pkvm_iommu_compact_stop();
err_genl:
	pkvm_iommu_genl_exit();
err_batch:
	pkvm_iommu_batch_exit();
err_pool:
	if (pkvm->pool && !pool_at_el2)
		__free_pages(pkvm->pool, pkvm->pool_order);
err_free:
	kfree(pkvm->regions);
	kfree(pkvm->evbuf);
	kfree(pkvm->hyp);
	kfree(pkvm);
	return ret;
}

static void __exit pkvm_iommu_exit(void)
{
	pkvm_iommu_chardev_exit();
	pkvm_iommu_events_stop();
	/* After the last source of changes, before the core it calls goes. */
	pkvm_iommu_compact_stop();
	teardown();
	platform_driver_unregister(&pkvm_smmu_driver);
	pkvm_iommu_genl_exit();
	pkvm_iommu_batch_exit();
	__free_pages(pkvm->pool, pkvm->pool_order);
	kfree(pkvm->regions);
	kfree(pkvm->evbuf);
	kfree(pkvm->hyp);
	kfree(pkvm);
}

module_init(pkvm_iommu_init);
module_exit(pkvm_iommu_exit);
MODULE_DESCRIPTION("pkvm-iommu: SMMUv3 stage-2 shadow of host-owned memory");
MODULE_LICENSE("GPL");
