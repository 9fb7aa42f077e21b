/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Guest-side access to the hardware the checks drive: QEMU's edu PCI device
 * (BAR0 through sysfs, DMA engine), physical addresses of locked pages
 * (/proc/self/pagemap), System RAM ranges (/proc/iomem), and module loading.
 * All of it needs root.
 */
#ifndef PKVM_GUEST_HW_H
#define PKVM_GUEST_HW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PAGE_SZ		4096u

/* hw/misc/edu.c */
#define EDU_VENDOR	0x1234
#define EDU_DEVICE	0x11e8
#define EDU_BAR_SIZE	(1u << 20)
#define EDU_REG_DMA_SRC	0x80
#define EDU_REG_DMA_DST	0x88
#define EDU_REG_DMA_CNT	0x90
#define EDU_REG_DMA_CMD	0x98
#define EDU_DMA_RUN	0x1
#define EDU_DMA_TO_RAM	0x2	/* direction 1: edu buffer -> RAM */
#define EDU_BUF_ADDR	0x40000ull
#define EDU_BUF_SIZE	4096u

struct edu {
	char path[256];		/* /sys/bus/pci/devices/DDDD:BB:DD.F */
	char bdf[32];
	uint32_t sid;		/* bus << 8 | devfn: QEMU virt's iommu-map is 1:1 */
	volatile uint8_t *bar;
};

/* Finds the single edu device; 0, -ENOENT or -EEXIST (more than one). */
int edu_find(struct edu *e);
/* Enables memory decode and bus mastering, maps BAR0. 0 or -errno. */
int edu_open(struct edu *e, char *err, size_t errlen);
/*
 * One DMA transfer of cnt bytes; to_ram: edu buffer (EDU_BUF_ADDR + off) to
 * RAM at pa, else RAM at pa to the edu buffer. Waits (bounded, 5 s) for the
 * engine to finish: 0, or -ETIMEDOUT if the run bit never cleared.
 */
int edu_dma(struct edu *e, uint64_t pa, uint32_t off, uint32_t cnt, bool to_ram);

/* Physical address of the page at va (must be resident): 0 on failure. */
uint64_t virt_to_phys(const void *va);

struct ram_range {
	uint64_t start, end;	/* [start, end) */
};
/* Top-level "System RAM" ranges of /proc/iomem; count, or -errno. */
int ram_ranges(struct ram_range *r, int max);

/*
 * finit_module / delete_module; 0 or -errno. The module's parameters are
 * $PKVM_GUEST_MODPARAMS (e.g. "transport=pkvm"), none when unset.
 */
int module_load(const char *path);
int module_unload(const char *name);

/* Reads a small sysfs file into buf, trailing newline removed; 0 or -errno. */
int read_text(const char *path, char *buf, size_t len);

#endif
