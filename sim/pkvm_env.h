/* SPDX-License-Identifier: GPL-2.0 */
/*
 * User-space environment of the hyp core (see kmod/hyp/hyp_env.h for the
 * contract). Physical memory is simulated: a few windows of "physical"
 * address space are backed by ordinary buffers, registered with
 * sim_phys_map(). Addresses outside every window are not backed, which is
 * what a 1 TiB memory map needs: only the table pool must be real.
 */
#ifndef PKVM_SIM_ENV_H
#define PKVM_SIM_ENV_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>

typedef uint8_t u8;
typedef uint16_t u16;
typedef uint32_t u32;
typedef uint64_t u64;
typedef int32_t s32;
typedef int64_t s64;

#define hyp_memset memset
#define hyp_memcpy memcpy

struct sim_phys_window {
	u64 pa;
	u64 size;
	uint8_t *va;
};

#define SIM_PHYS_WINDOWS 8
extern struct sim_phys_window sim_phys_windows[SIM_PHYS_WINDOWS];

/* Back [pa, pa+size) by buf; returns 0 or -ENOSPC/-EINVAL. */
int sim_phys_map(u64 pa, u64 size, void *buf);
void sim_phys_unmap(u64 pa);
/* NULL when pa is not backed: the SMMU model turns that into an abort. */
void *sim_phys_to_virt_or_null(u64 pa);
u64 sim_virt_to_phys_slow(const void *va);

static inline void *hyp_phys_to_virt(u64 pa)
{
	/* Window 0 holds the table pool: the hot path of every walk. */
	struct sim_phys_window *w = &sim_phys_windows[0];

	if (pa - w->pa < w->size)
		return w->va + (pa - w->pa);
	return sim_phys_to_virt_or_null(pa);
}

static inline u64 hyp_virt_to_phys(const void *va)
{
	struct sim_phys_window *w = &sim_phys_windows[0];
	const uint8_t *p = (const uint8_t *)va;

	if (p >= w->va && (u64)(p - w->va) < w->size)
		return w->pa + (u64)(p - w->va);
	return sim_virt_to_phys_slow(va);
}

static inline u64 hyp_read_pte(const u64 *ptep)
{
	return __atomic_load_n(ptep, __ATOMIC_RELAXED);
}

static inline void hyp_write_pte(u64 *ptep, u64 v)
{
	__atomic_store_n(ptep, v, __ATOMIC_RELAXED);
}

/* The model reads the same memory as the driver: always coherent. */
#define hyp_clean_dcache(va, size)	do { (void)(va); (void)(size); } while (0)

#define hyp_wmb_dev()	__atomic_thread_fence(__ATOMIC_RELEASE)
#define hyp_mb()	__atomic_thread_fence(__ATOMIC_SEQ_CST)

/* What a spinning CPU does while it waits (x86 PAUSE, Arm YIELD). */
static inline void sim_spin_pause(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ __volatile__("yield" ::: "memory");
#endif
}

/*
 * A spinlock, as at EL2 (and as the module's spin_lock): a mutex's slow
 * path and bookkeeping would put a cost on every call that the hypervisor
 * never pays, and the benchmark would charge it to the engine.
 */
typedef struct {
	int held;
} hyp_spinlock_t;

static inline void hyp_spin_lock_init(hyp_spinlock_t *l)
{
	__atomic_store_n(&l->held, 0, __ATOMIC_RELAXED);
}

/*
 * Inline, as the hypervisor's is: a call into libpthread would put two
 * calls, and the registers saved around them, on every change.
 */
static inline void hyp_spin_lock(hyp_spinlock_t *l)
{
	while (__atomic_exchange_n(&l->held, 1, __ATOMIC_ACQUIRE))
		while (__atomic_load_n(&l->held, __ATOMIC_RELAXED))
			sim_spin_pause();
}

static inline void hyp_spin_unlock(hyp_spinlock_t *l)
{
	__atomic_store_n(&l->held, 0, __ATOMIC_RELEASE);
}

/*
 * MMIO in user space is plain memory that the SMMU model also reads; the
 * model is stepped synchronously from these hooks (sim/smmu_model.c) so that
 * a register write has its effect before the next read, as on hardware.
 */
u32 hyp_readl(const volatile void *addr);
void hyp_writel(u32 v, volatile void *addr);
u64 hyp_readq(const volatile void *addr);
void hyp_writeq(u64 v, volatile void *addr);

void *hyp_mmio_map(u64 pa, u64 size);
void *hyp_mem_map(u64 pa, u64 size);
int hyp_copy_from_host(void *dst, u64 pa, u64 size);
int hyp_copy_to_host(u64 pa, const void *src, u64 size);

u64 hyp_now_ns(void);
#define hyp_cpu_relax()	do { } while (0)

/* An abort, so that a test fails and a fuzzer reports a crash, with the place. */
static inline __attribute__((noreturn)) void
sim_hyp_bug(const char *file, int line, const char *msg)
{
	fprintf(stderr, "%s:%d: hyp core bug: %s\n", file, line, msg);
	abort();
}
#define hyp_bug(msg)	sim_hyp_bug(__FILE__, __LINE__, (msg))

#endif /* PKVM_SIM_ENV_H */
