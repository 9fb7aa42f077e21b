// SPDX-License-Identifier: GPL-2.0
/* User-space environment: simulated physical memory windows and time. */
#include <pkvm_env.h>
#include <time.h>

struct sim_phys_window sim_phys_windows[SIM_PHYS_WINDOWS];

int sim_phys_map(u64 pa, u64 size, void *buf)
{
	for (unsigned int i = 0; i < SIM_PHYS_WINDOWS; i++) {
		struct sim_phys_window *w = &sim_phys_windows[i];

		if (w->size && pa < w->pa + w->size && w->pa < pa + size)
			return -EINVAL;
	}
	for (unsigned int i = 0; i < SIM_PHYS_WINDOWS; i++) {
		struct sim_phys_window *w = &sim_phys_windows[i];

		if (!w->size) {
			w->pa = pa;
			w->size = size;
			w->va = buf;
			return 0;
		}
	}
	return -ENOSPC;
}

void sim_phys_unmap(u64 pa)
{
	for (unsigned int i = 0; i < SIM_PHYS_WINDOWS; i++) {
		if (sim_phys_windows[i].size && sim_phys_windows[i].pa == pa) {
			sim_phys_windows[i] = (struct sim_phys_window){ 0 };
			return;
		}
	}
}

void *sim_phys_to_virt_or_null(u64 pa)
{
	for (unsigned int i = 0; i < SIM_PHYS_WINDOWS; i++) {
		struct sim_phys_window *w = &sim_phys_windows[i];

		if (w->size && pa - w->pa < w->size)
			return w->va + (pa - w->pa);
	}
	return NULL;
}

u64 sim_virt_to_phys_slow(const void *va)
{
	const uint8_t *p = va;

	for (unsigned int i = 0; i < SIM_PHYS_WINDOWS; i++) {
		struct sim_phys_window *w = &sim_phys_windows[i];

		if (w->size && p >= w->va && (u64)(p - w->va) < w->size)
			return w->pa + (u64)(p - w->va);
	}
	return ~0ull;
}

/* The whole of [pa, pa + size) inside one window, or NULL. */
static void *window_span(u64 pa, u64 size)
{
	for (unsigned int i = 0; i < SIM_PHYS_WINDOWS; i++) {
		struct sim_phys_window *w = &sim_phys_windows[i];

		if (w->size && pa - w->pa < w->size && size <= w->size - (pa - w->pa))
			return w->va + (pa - w->pa);
	}
	return NULL;
}

void *hyp_mmio_map(u64 pa, u64 size)
{
	return window_span(pa, size);
}

void *hyp_mem_map(u64 pa, u64 size)
{
	return window_span(pa, size);
}

int hyp_copy_from_host(void *dst, u64 pa, u64 size)
{
	void *src = window_span(pa, size);

	if (!src)
		return -EFAULT;
	memcpy(dst, src, size);
	return 0;
}

int hyp_copy_to_host(u64 pa, const void *src, u64 size)
{
	void *dst = window_span(pa, size);

	if (!dst)
		return -EFAULT;
	memcpy(dst, src, size);
	return 0;
}

u64 hyp_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (u64)ts.tv_sec * 1000000000ull + (u64)ts.tv_nsec;
}
