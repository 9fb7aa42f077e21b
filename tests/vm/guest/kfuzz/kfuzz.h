/* SPDX-License-Identifier: GPL-2.0 */
/*
 * pkvm-kfuzz: the kernel side's fuzzer, run inside the arm64 guest against
 * /dev/pkvm-iommu and the pkvm_iommu generic-netlink family (see main.c).
 * Shared state lives in one MAP_SHARED mapping so the unprivileged child
 * process counts into the same tables as the root threads.
 */
#ifndef PKVM_KFUZZ_H
#define PKVM_KFUZZ_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <linux/pkvm_iommu.h>

#include "hw.h"

/* What gets counted: every ioctl, an unknown number, every genl command. */
enum kf_call {
	KF_IOC_FIRST,
	KF_IOC_UNKNOWN = KF_IOC_FIRST + 13,	/* 13 ioctls, 0x00..0x0c */
	KF_GENL_FIRST,
	KF_GENL_UNKNOWN = KF_GENL_FIRST + PKVM_IOMMU_CMD_MAX + 1,
	KF_GENL_CTRL,		/* messages to nlctrl about the family */
	KF_DMA,			/* edu reads, so faults race the changes */
	KF_NR,
};

#define KF_ERRNO_MAX	140	/* errno histogram width; above counts in the last */

struct kf_counts {
	_Atomic uint64_t calls[KF_NR];
	_Atomic uint64_t ok[KF_NR];
	_Atomic uint64_t unpriv[KF_NR];	/* of calls: from the uid-65534 child */
	_Atomic uint64_t err[KF_NR][KF_ERRNO_MAX + 1];
	_Atomic uint64_t violations;
	_Atomic uint64_t checked;	/* results an oracle looked at */
	_Atomic int stop;		/* 1: workers finish their current call */
	_Atomic int finished;		/* workers that returned */
};

/* splitmix64: one 64-bit state, reproducible from the printed seed. */
struct kf_rng {
	uint64_t s;
};

static inline uint64_t kf_rand(struct kf_rng *r)
{
	uint64_t z = (r->s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* Uniform in [0, n); n 0 gives 0. */
static inline uint32_t kf_below(struct kf_rng *r, uint32_t n)
{
	return n ? (uint32_t)((kf_rand(r) >> 32) * n >> 32) : 0;
}

/* True with probability 1/n. */
static inline bool kf_one_in(struct kf_rng *r, uint32_t n)
{
	return kf_below(r, n) == 0;
}

/* What the generators know about the machine, set once before the run. */
struct kf_env {
	int dev_fd;		/* /dev/pkvm-iommu, opened by root */
	uint16_t family;	/* genl family id */
	uint32_t ev_group;	/* its "events" multicast group */
	uint32_t ias;		/* shadow stage-2 input bits */
	uint32_t sidsize;	/* SMMU StreamID bits */
	uint32_t edu_sid;	/* edu's stream, or ~0 without edu */
	struct ram_range ram[16];
	int nr_ram;
	uint64_t pool_pa[64];	/* pages of our own, locked: donation targets */
	int nr_pool;
	struct edu *edu;	/* NULL without edu */
};

extern struct kf_counts *kf;
extern const struct kf_env *kf_env;

/* Records a call's outcome: ret 0 counts ok, else errno e. */
void kf_count(enum kf_call c, bool priv, int ret, int e);
/* An oracle failed: counted, and the first ones printed with the detail. */
void kf_violation(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
const char *kf_call_name(enum kf_call c);

/* One fuzzed ioctl (ioctl.c); priv false: the caller dropped root. */
void kf_ioctl_one(struct kf_rng *r, int fd, bool priv);
/* Per-thread buffers the ioctl fuzzer writes into (guard page after). */
int kf_ioctl_thread_init(void);

/* One fuzzed generic-netlink exchange (netlink.c) on the thread's socket. */
void kf_genl_one(struct kf_rng *r, bool priv);
int kf_genl_thread_init(void);
void kf_genl_thread_exit(void);

/* The checks after the run (checks.c): results printed, count of failures. */
struct kf_baseline {
	struct pkvm_iommu_info info;
	struct pkvm_iommu_stats stats;
	struct pkvm_iommu_invalidation inval;
	struct pkvm_iommu_fold fold;
};
int kf_baseline_take(struct kf_baseline *b);
/* Reads the kernel log before the run, while it still holds the boot lines. */
void kf_kernel_log_baseline(void);
/* The ledger after the load, which the one after the run must equal. */
int kf_baseline_ledger(void);
void kf_result(const char *name, bool ok, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void kf_checks_after(const struct kf_baseline *b);
/* Prints "N passed, M failed"; the exit status. */
int kf_summary(void);

#endif
