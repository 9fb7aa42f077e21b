/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Simulated MMIO: a register page is a buffer; a device model registers it
 * and is called after every write into it, before the writer goes on, so a
 * register write has its effect by the next read as on hardware.
 */
#ifndef PKVM_SIM_MMIO_H
#define PKVM_SIM_MMIO_H

#include <pkvm_env.h>

/* Called with the written offset and access size (4 or 8). */
typedef void (*sim_mmio_write_fn)(void *ctx, u64 off, unsigned int size);
/* Called before a read loads the value: for state that moves with time. */
typedef void (*sim_mmio_read_fn)(void *ctx, u64 off, unsigned int size);

#define SIM_MMIO_REGIONS 8

/* 0, -ENOSPC when full, -EINVAL when overlapping. */
int sim_mmio_register(void *base, u64 size, sim_mmio_write_fn fn, void *ctx);
void sim_mmio_unregister(void *base);
/* Also call fn (with the region's ctx) on reads; -ENOENT if not registered. */
int sim_mmio_on_read(void *base, sim_mmio_read_fn fn);

#endif /* PKVM_SIM_MMIO_H */
