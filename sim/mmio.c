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

/*
 * Writers (register, unregister, on_read) serialise on regions_lock and
 * bump seq around each change; every MMIO access looks its region up
 * without a lock, retrying while seq moved. A register access is a plain
 * load or store on hardware: the lookup that routes it to a model must
 * not cost a mutex per access, or simulation plumbing shows up as the
 * driver's time in every poll loop.
 */
static struct region regions[SIM_MMIO_REGIONS];
static pthread_mutex_t regions_lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned int seq;	/* odd while a writer changes regions */

static void change_begin(void)
{
	__atomic_store_n(&seq, seq + 1, __ATOMIC_RELAXED);
	/* seq odd before any field changes */
	__atomic_thread_fence(__ATOMIC_RELEASE);
}

static void change_end(void)
{
	__atomic_store_n(&seq, seq + 1, __ATOMIC_RELEASE);
}

/* Fields are stored one by one; readers load them the same way. */
static void set_region(struct region *r, const struct region *v)
{
	__atomic_store_n(&r->base, v->base, __ATOMIC_RELAXED);
	__atomic_store_n(&r->size, v->size, __ATOMIC_RELAXED);
	__atomic_store_n(&r->fn, v->fn, __ATOMIC_RELAXED);
	__atomic_store_n(&r->read_fn, v->read_fn, __ATOMIC_RELAXED);
	__atomic_store_n(&r->ctx, v->ctx, __ATOMIC_RELAXED);
}

static struct region get_region(const struct region *r)
{
	return (struct region){
		.base = __atomic_load_n(&r->base, __ATOMIC_RELAXED),
		.size = __atomic_load_n(&r->size, __ATOMIC_RELAXED),
		.fn = __atomic_load_n(&r->fn, __ATOMIC_RELAXED),
		.read_fn = __atomic_load_n(&r->read_fn, __ATOMIC_RELAXED),
		.ctx = __atomic_load_n(&r->ctx, __ATOMIC_RELAXED),
	};
}
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
			change_begin();
			set_region(&regions[i], &(struct region){ b, size, fn, NULL, ctx });
			change_end();
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
			change_begin();
			set_region(&regions[i], &(struct region){ 0 });
			change_end();
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
			change_begin();
			__atomic_store_n(&regions[i].read_fn, fn, __ATOMIC_RELAXED);
			change_end();
			ret = 0;
		}
	pthread_mutex_unlock(&regions_lock);
	return ret;
}

/* The region holding addr, copied out (zeroed when none). */
static struct region find(const uint8_t *a)
{
	struct region hit;
	unsigned int s;

	do {
		while ((s = __atomic_load_n(&seq, __ATOMIC_ACQUIRE)) & 1)
			;
		hit = (struct region){ 0 };
		for (unsigned int i = 0; i < SIM_MMIO_REGIONS; i++) {
			const uint8_t *base = __atomic_load_n(&regions[i].base, __ATOMIC_RELAXED);
			u64 size = __atomic_load_n(&regions[i].size, __ATOMIC_RELAXED);

			if (size && a >= base && (u64)(a - base) < size) {
				hit = get_region(&regions[i]);
				break;
			}
		}
		/* the loads above before the re-check of seq */
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
	} while (__atomic_load_n(&seq, __ATOMIC_RELAXED) != s);
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
