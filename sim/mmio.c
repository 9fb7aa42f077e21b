// SPDX-License-Identifier: GPL-2.0
/* hyp_readl/writel/readq/writeq of the user-space environment. */
#include "sim_mmio.h"

struct region {
	uint8_t *base;
	u64 size;
	sim_mmio_write_fn fn;
	sim_mmio_read_fn read_fn;
	void *ctx;
};

static struct region regions[SIM_MMIO_REGIONS];
static pthread_mutex_t regions_lock = PTHREAD_MUTEX_INITIALIZER;
/* Regions with a read_fn: while 0, a read is a plain load, as before. */
static unsigned int nr_read_fns;

int sim_mmio_register(void *base, u64 size, sim_mmio_write_fn fn, void *ctx)
{
	uint8_t *b = base;
	int ret = -ENOSPC;

	pthread_mutex_lock(&regions_lock);
	for (unsigned int i = 0; i < SIM_MMIO_REGIONS; i++) {
		struct region *r = &regions[i];

		if (r->size && b < r->base + r->size && r->base < b + size) {
			ret = -EINVAL;
			goto out;
		}
	}
	for (unsigned int i = 0; i < SIM_MMIO_REGIONS; i++) {
		if (!regions[i].size) {
			regions[i] = (struct region){ b, size, fn, NULL, ctx };
			ret = 0;
			break;
		}
	}
out:
	pthread_mutex_unlock(&regions_lock);
	return ret;
}

void sim_mmio_unregister(void *base)
{
	pthread_mutex_lock(&regions_lock);
	for (unsigned int i = 0; i < SIM_MMIO_REGIONS; i++)
		if (regions[i].size && regions[i].base == base) {
			if (regions[i].read_fn)
				__atomic_sub_fetch(&nr_read_fns, 1, __ATOMIC_RELAXED);
			regions[i] = (struct region){ 0 };
		}
	pthread_mutex_unlock(&regions_lock);
}

int sim_mmio_on_read(void *base, sim_mmio_read_fn fn)
{
	int ret = -ENOENT;

	pthread_mutex_lock(&regions_lock);
	for (unsigned int i = 0; i < SIM_MMIO_REGIONS; i++)
		if (regions[i].size && regions[i].base == base) {
			if (!regions[i].read_fn)
				__atomic_add_fetch(&nr_read_fns, 1, __ATOMIC_RELAXED);
			regions[i].read_fn = fn;
			ret = 0;
		}
	pthread_mutex_unlock(&regions_lock);
	return ret;
}

/* The region holding addr, copied out (zeroed when none). */
static struct region find(const uint8_t *a)
{
	struct region hit = { 0 };

	pthread_mutex_lock(&regions_lock);
	for (unsigned int i = 0; i < SIM_MMIO_REGIONS; i++) {
		struct region *r = &regions[i];

		if (r->size && a >= r->base && (u64)(a - r->base) < r->size) {
			hit = *r;
			break;
		}
	}
	pthread_mutex_unlock(&regions_lock);
	return hit;
}

static void notify_read(const volatile void *addr, unsigned int size)
{
	const uint8_t *a = (const uint8_t *)addr;
	struct region hit;

	if (!__atomic_load_n(&nr_read_fns, __ATOMIC_RELAXED))
		return;
	hit = find(a);
	if (hit.read_fn)
		hit.read_fn(hit.ctx, (u64)(a - hit.base), size);
}

/* Writes to memory no model owns are plain stores (a test's fake page). */
static void notify(const volatile void *addr, unsigned int size)
{
	const uint8_t *a = (const uint8_t *)addr;
	struct region hit = find(a);

	if (hit.fn)
		hit.fn(hit.ctx, (u64)(a - hit.base), size);
}

u32 hyp_readl(const volatile void *addr)
{
	notify_read(addr, 4);
	return *(const volatile u32 *)addr;
}

u64 hyp_readq(const volatile void *addr)
{
	notify_read(addr, 8);
	return *(const volatile u64 *)addr;
}

void hyp_writel(u32 v, volatile void *addr)
{
	*(volatile u32 *)addr = v;
	notify(addr, 4);
}

void hyp_writeq(u64 v, volatile void *addr)
{
	*(volatile u64 *)addr = v;
	notify(addr, 8);
}
