// SPDX-License-Identifier: GPL-2.0
/*
 * Built when meson found no Linux source tree at configure time (meson never
 * downloads one), or found one whose io-pgtable-arm.c needs more than our
 * shim provides: --compare then says which, and how to get one, and exits.
 */
#include <errno.h>
#include <stdio.h>

#include "lpae_engine.h"

const char *const lpae_source = NULL;

int lpae_engine_new(struct lpae_engine **out, uint64_t base, uint64_t size,
		    char *err, size_t errlen)
{
	(void)out;
	(void)base;
	(void)size;
	snprintf(err, errlen,
		 "this build has no io-pgtable-arm: %s. Run tests/vm/fetch.sh, then "
		 "tests/vm/build-kernel.sh (which unpacks Debian's linux-source into the VM "
		 "cache before building the guest kernel), or give a tree with "
		 "drivers/iommu/io-pgtable-arm.c as -Dlinux_source=DIR (or PKVM_LINUX_SOURCE "
		 "when configuring); then meson setup --reconfigure BUILDDIR",
		 LPAE_STUB_WHY);
	return -ENOENT;
}

void lpae_engine_free(struct lpae_engine *e) { (void)e; }
int lpae_unmap(struct lpae_engine *e, uint64_t addr, uint64_t len)
{
	(void)e;
	(void)addr;
	(void)len;
	return -ENOENT;
}
int lpae_map(struct lpae_engine *e, uint64_t addr, uint64_t len)
{
	(void)e;
	(void)addr;
	(void)len;
	return -ENOENT;
}
void lpae_engine_stats(const struct lpae_engine *e, struct lpae_stats *s)
{
	(void)e;
	*s = (struct lpae_stats){ 0 };
}
