// SPDX-License-Identifier: GPL-2.0
/*
 * What the host can see of (and do to) the pKVM shadow, for the vm_pkvm
 * suite (guest-test): its counters, the ownership ledger the daemon reads,
 * the ownership ioctls the host may no longer use, and host reads of
 * memory and registers the hypervisor took.
 *
 * usage: shadow-state state           one line: INFO and STATS
 *        shadow-state stats           every counter of STATS
 *        shadow-state ledger          the generic-netlink ledger dump
 *        shadow-state owner PA...     the ledger's owner of each PA
 *        shadow-state host-ops        DONATE/RECLAIM/SHARE/UNSHARE/BATCH
 *        shadow-state fold [eager|lazy IDLE_MS]
 *        shadow-state devmem-read PA|self
 *        shadow-state mmio-peek PA read|write
 *
 * state:  state backend=B generation=G table_pages=T pool_free=P
 *         mem_pages=M errors=E smmu_base=0x.. smmu_events=N
 *         compactions=C compact_folds=F fold_mode=0|1
 * stats:  one "pkvm-stat idx=I value=V" per counter the module fills;
 *         by index, so a counter appended to enum pkvm_iommu_stat needs
 *         no change here (bench/bench-shadow.sh names them from the header)
 * ledger: one "ledger-run addr=0x.. len=0x.. owner=0x.. shared=0|1" per run
 *         (LEDGER_GET, what pkvm-iommud reads), then "ledger runs=N gen=G"
 * owner:  owner pa=0x.. owner=0x.. shared=0|1 (0x0: no run, the host's)
 * host-ops: "host-op name=donate rc=R errno=NAME" per call, on a page of
 *         ours (DONATE to owner 2, then the others on the same page)
 * fold:   PKVM_IOMMU_IOC_FOLD, a read or a set of the mode and idle time
 *         (budget: the default): fold rc=R errno=NAME mode=M budget=B idle_ms=I
 * devmem-read: pread(2) of /dev/mem, a kernel copy that does not fault
 *         (copy_from_kernel_nofault()); "self" reads a page of ours with a
 *         pattern, the control that the path reads RAM at all:
 *         devmem-read pa=0x.. rc=R errno=NAME content=match|zero|data
 * mmio-peek: a child maps the page at PA through /dev/mem and loads (read)
 *         or stores (write, the value 0) 32 bits at it:
 *         mmio-peek pa=0x.. op=read child=exit status=S value=0x..
 *         mmio-peek pa=0x.. op=read child=signal sig=SIGSEGV
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/pkvm_iommu.h>

#include "genl.h"
#include "hw.h"

static int dev_fd(void)
{
	static int fd = -1;

	if (fd < 0)
		fd = open(PKVM_IOMMU_DEVICE, O_RDWR | O_CLOEXEC);
	return fd;
}

static const char *errname(int e)
{
	switch (e) {
	case 0: return "none";
	case EPERM: return "EPERM";
	case EINVAL: return "EINVAL";
	case EFAULT: return "EFAULT";
	case EIO: return "EIO";
	case ENOMEM: return "ENOMEM";
	case ERANGE: return "ERANGE";
	case EACCES: return "EACCES";
	case EOPNOTSUPP: return "EOPNOTSUPP";
	default: return "other";
	}
}

static int state(void)
{
	struct pkvm_iommu_info in = { .size = sizeof(in) };
	struct pkvm_iommu_stats st = { .size = sizeof(st) };
	struct pkvm_iommu_smmu_info si = { .size = sizeof(si), .index = 0 };
	int fd = dev_fd();

	if (fd < 0 || ioctl(fd, PKVM_IOMMU_IOC_INFO, &in) ||
	    ioctl(fd, PKVM_IOMMU_IOC_STATS, &st) || ioctl(fd, PKVM_IOMMU_IOC_SMMU_INFO, &si)) {
		printf("state error=%s\n", strerror(errno));
		return 1;
	}
	printf("state backend=%u generation=%" PRIu64 " table_pages=%" PRIu64 " pool_free=%" PRIu64
	       " mem_pages=%" PRIu64 " errors=%" PRIu64 " smmu_base=0x%" PRIx64
	       " smmu_events=%" PRIu64 " compactions=%" PRIu64 " compact_folds=%" PRIu64
	       " fold_mode=%" PRIu64 "\n", in.backend, (uint64_t)in.generation,
	       (uint64_t)st.counter[PKVM_IOMMU_STAT_TABLE_PAGES],
	       (uint64_t)st.counter[PKVM_IOMMU_STAT_POOL_FREE],
	       (uint64_t)st.counter[PKVM_IOMMU_STAT_MEM_PAGES],
	       (uint64_t)st.counter[PKVM_IOMMU_STAT_ERRORS], (uint64_t)si.base,
	       (uint64_t)si.events, (uint64_t)st.counter[PKVM_IOMMU_STAT_COMPACTIONS],
	       (uint64_t)st.counter[PKVM_IOMMU_STAT_COMPACT_FOLDS],
	       (uint64_t)st.counter[PKVM_IOMMU_STAT_FOLD_MODE]);
	return 0;
}

static int fold(int argc, char **argv)
{
	struct pkvm_iommu_fold f = { .size = sizeof(f), .flags = PKVM_IOMMU_FOLD_READ };
	int r;

	if (argc == 2) {
		if (strcmp(argv[0], "eager") && strcmp(argv[0], "lazy"))
			return 2;
		f.flags = 0;
		f.mode = strcmp(argv[0], "eager") ? PKVM_FOLD_LAZY : PKVM_FOLD_EAGER;
		f.compact_budget = PKVM_IOMMU_FOLD_DEFAULT_BUDGET;
		f.idle_ms = (uint32_t)strtoul(argv[1], NULL, 0);
	} else if (argc) {
		return 2;
	}
	r = dev_fd() < 0 ? -1 : ioctl(dev_fd(), PKVM_IOMMU_IOC_FOLD, &f);
	printf("fold rc=%d errno=%s mode=%u budget=%u idle_ms=%u\n", r, r ? errname(errno) : "none",
	       f.mode, f.compact_budget, f.idle_ms);
	return 0;
}

static int stats(void)
{
	struct pkvm_iommu_stats st = { .size = sizeof(st) };
	int fd = dev_fd();

	if (fd < 0 || ioctl(fd, PKVM_IOMMU_IOC_STATS, &st)) {
		fprintf(stderr, "shadow-state: PKVM_IOMMU_IOC_STATS: %s\n", strerror(errno));
		return 1;
	}
	for (uint32_t i = 0; i < st.nr && i < PKVM_IOMMU_STAT_NR; i++)
		printf("pkvm-stat idx=%" PRIu32 " value=%" PRIu64 "\n", i, (uint64_t)st.counter[i]);
	return 0;
}

struct run {
	uint64_t addr, len;
	uint32_t owner;
	bool shared;
};

#define MAX_RUNS 4096
static struct run runs[MAX_RUNS];
static int nr_runs;
static uint64_t ledger_gen;

static void ledger_cb(const struct genl_msg *m, void *arg)
{
	struct run r = { 0 };

	if (nr_runs >= MAX_RUNS || !genl_u64(m, PKVM_IOMMU_A_ADDR, &r.addr) ||
	    !genl_u64(m, PKVM_IOMMU_A_LEN, &r.len) || !genl_u32(m, PKVM_IOMMU_A_OWNER, &r.owner))
		return;
	r.shared = genl_flag(m, PKVM_IOMMU_A_SHARED);
	genl_u64(m, PKVM_IOMMU_A_GENERATION, &ledger_gen);
	runs[nr_runs++] = r;
}

static int ledger_read(void)
{
	struct genl_sock s = { .fd = -1 };
	uint16_t family;
	uint32_t group;
	int r = genl_open(&s);

	if (!r)
		r = genl_resolve(&s, PKVM_IOMMU_GENL_NAME, PKVM_IOMMU_GENL_MCGRP_EVENTS, &family,
				 &group);
	if (!r)
		r = genl_request(&s, family, PKVM_IOMMU_CMD_LEDGER_GET, true, ledger_cb, NULL, 3000);
	genl_close(&s);
	if (r)
		printf("ledger error=%s\n", strerror(-r));
	return r ? 1 : 0;
}

static int ledger(void)
{
	if (ledger_read())
		return 1;
	for (int i = 0; i < nr_runs; i++)
		printf("ledger-run addr=0x%" PRIx64 " len=0x%" PRIx64 " owner=0x%x shared=%d\n",
		       runs[i].addr, runs[i].len, runs[i].owner, runs[i].shared);
	printf("ledger runs=%d gen=%" PRIu64 "\n", nr_runs, ledger_gen);
	return 0;
}

static int owner(int argc, char **argv)
{
	if (ledger_read())
		return 1;
	for (int a = 0; a < argc; a++) {
		uint64_t pa = strtoull(argv[a], NULL, 0);
		const struct run *r = NULL;

		for (int i = 0; i < nr_runs && !r; i++)
			if (pa >= runs[i].addr && pa - runs[i].addr < runs[i].len)
				r = &runs[i];
		printf("owner pa=0x%" PRIx64 " owner=0x%x shared=%d\n", pa, r ? r->owner : 0,
		       r ? r->shared : 0);
	}
	return 0;
}

static void host_op(const char *name, unsigned long req, void *arg)
{
	int r = ioctl(dev_fd(), req, arg);

	printf("host-op name=%s rc=%d errno=%s\n", name, r, r ? errname(errno) : "none");
}

static int host_ops(void)
{
	uint8_t *p = mmap(NULL, PAGE_SZ, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS | MAP_LOCKED | MAP_POPULATE, -1, 0);
	struct pkvm_iommu_range rg = { .size = sizeof(rg), .len = PAGE_SZ, .owner = 2 };
	struct pkvm_iommu_op op = { .op = PKVM_IOMMU_OP_DONATE, .owner = 2, .len = PAGE_SZ };
	struct pkvm_iommu_batch b = { .size = sizeof(b), .nr = 1 };

	if (p == MAP_FAILED || dev_fd() < 0)
		return 1;
	rg.addr = op.addr = virt_to_phys(p);
	b.ops = (uint64_t)(uintptr_t)&op;
	host_op("donate", PKVM_IOMMU_IOC_DONATE, &rg);
	host_op("reclaim", PKVM_IOMMU_IOC_RECLAIM, &rg);
	host_op("share", PKVM_IOMMU_IOC_SHARE, &rg);
	host_op("unshare", PKVM_IOMMU_IOC_UNSHARE, &rg);
	host_op("batch", PKVM_IOMMU_IOC_BATCH, &b);
	printf("host-op batch done=%u result=%d\n", b.done, op.result);
	return 0;
}

static int devmem_read(const char *what)
{
	static uint8_t buf[PAGE_SZ];
	uint8_t *own = NULL;
	const char *c = "data";
	uint64_t pa;
	ssize_t n;
	int fd, e;

	if (!strcmp(what, "self")) {
		own = mmap(NULL, PAGE_SZ, PROT_READ | PROT_WRITE,
			   MAP_PRIVATE | MAP_ANONYMOUS | MAP_LOCKED | MAP_POPULATE, -1, 0);
		if (own == MAP_FAILED)
			return 1;
		for (size_t i = 0; i < PAGE_SZ; i++)
			own[i] = (uint8_t)(i * 7 + 1);
		pa = virt_to_phys(own);
	} else {
		pa = strtoull(what, NULL, 0);
	}
	fd = open("/dev/mem", O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		printf("devmem-read pa=0x%" PRIx64 " rc=-1 errno=%s open\n", pa, errname(errno));
		return 0;
	}
	memset(buf, 0xee, sizeof(buf));
	n = pread(fd, buf, PAGE_SZ, (off_t)pa);
	e = n < 0 ? errno : 0;
	close(fd);
	if (n == PAGE_SZ) {
		size_t zero = 0;

		for (size_t i = 0; i < PAGE_SZ; i++)
			zero += !buf[i];
		if (own && !memcmp(own, buf, PAGE_SZ))
			c = "match";
		else if (zero == PAGE_SZ)
			c = "zero";
	} else {
		c = "none";
	}
	printf("devmem-read pa=0x%" PRIx64 " rc=%zd errno=%s content=%s\n", pa, n, errname(e), c);
	return 0;
}

static const char *signame(int sig)
{
	switch (sig) {
	case SIGSEGV: return "SIGSEGV";
	case SIGBUS: return "SIGBUS";
	case SIGILL: return "SIGILL";
	case SIGKILL: return "SIGKILL";
	default: return "other";
	}
}

/* Exit status 0: the access happened (read: the value on a pipe). */
static int mmio_peek(uint64_t pa, bool store)
{
	int p[2], status;
	uint32_t v = 0;
	pid_t pid;

	if (pipe(p))
		return 1;
	fflush(stdout);
	pid = fork();
	if (pid < 0)
		return 1;
	if (!pid) {
		int fd = open("/dev/mem", O_RDWR | O_SYNC);
		volatile uint32_t *m;

		close(p[0]);
		if (fd < 0)
			_exit(10);
		m = mmap(NULL, PAGE_SZ, PROT_READ | PROT_WRITE, MAP_SHARED, fd, (off_t)pa);
		if (m == MAP_FAILED)
			_exit(11);
		if (store)
			m[0] = 0;
		else
			v = m[0];
		if (!store && write(p[1], &v, sizeof(v)) != (ssize_t)sizeof(v))
			_exit(12);
		_exit(0);
	}
	close(p[1]);
	if (read(p[0], &v, sizeof(v)) != sizeof(v))
		v = 0;
	close(p[0]);
	if (waitpid(pid, &status, 0) != pid)
		return 1;
	if (WIFSIGNALED(status))
		printf("mmio-peek pa=0x%" PRIx64 " op=%s child=signal sig=%s\n", pa,
		       store ? "write" : "read", signame(WTERMSIG(status)));
	else
		printf("mmio-peek pa=0x%" PRIx64 " op=%s child=exit status=%d value=0x%08x\n", pa,
		       store ? "write" : "read", WEXITSTATUS(status), v);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 2)
		return 2;
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (!strcmp(argv[1], "state"))
		return state();
	if (!strcmp(argv[1], "stats"))
		return stats();
	if (!strcmp(argv[1], "ledger"))
		return ledger();
	if (!strcmp(argv[1], "owner"))
		return owner(argc - 2, argv + 2);
	if (!strcmp(argv[1], "host-ops"))
		return host_ops();
	if (!strcmp(argv[1], "fold"))
		return fold(argc - 2, argv + 2);
	if (!strcmp(argv[1], "devmem-read") && argc == 3)
		return devmem_read(argv[2]);
	if (!strcmp(argv[1], "mmio-peek") && argc == 4)
		return mmio_peek(strtoull(argv[2], NULL, 0), !strcmp(argv[3], "write"));
	return 2;
}
