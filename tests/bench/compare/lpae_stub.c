// SPDX-License-Identifier: GPL-2.0
/*
 * Built when meson found no Linux source tree at configure time (meson never
 * downloads one): --compare then says how to get one and exits.
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
		 "this build has no io-pgtable-arm: no Linux source tree was found when meson "
		 "configured. Run tests/vm/fetch.sh and tests/vm/build-kernel.sh (they fetch "
		 "and unpack Debian's linux-source into the VM cache), or pass "
		 "-Dlinux_source=DIR (or set PKVM_LINUX_SOURCE) to a tree with "
		 "drivers/iommu/io-pgtable-arm.c, then reconfigure: meson setup --reconfigure build");
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
