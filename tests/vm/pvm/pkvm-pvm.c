// SPDX-License-Identifier: GPL-2.0
/*
 * pkvm-pvm: runs one small VM through /dev/kvm so that pKVM really moves
 * memory between the host and a guest, and reports which page frames moved
 * and how long the moves took. It is the workload of issue 11's pKVM checks:
 * another tool can DMA to the reported frames while the VM is held.
 *
 * The VM is either protected (KVM_VM_TYPE_ARM_PROTECTED, include/uapi/
 * linux/kvm.h in Linux 7.3) or an ordinary one. Its memory is one memslot of
 * PAGES + 1 anonymous (or memfd) pages: page 0 holds the guest code, pages
 * 1..PAGES are data. pKVM's protected fault path (pkvm_mem_abort() in
 * arch/arm64/kvm/mmu.c) pins the slot's user pages with GUP and refuses
 * anything not swap-backed, so anonymous memory and memfd work; guest_memfd
 * is not used for protected VMs in 7.3.
 *
 * The guest writes one word to each data page, reports progress by MMIO
 * writes (KVM_EXIT_MMIO), then asks the host for SMCCC calls by MMIO reads
 * (so the host can have it share/unshare a page with pKVM's MEM_SHARE and
 * MEM_UNSHARE hypercalls), and ends with PSCI SYSTEM_OFF.
 *
 * Output, one record per line, "key=value" fields:
 *   pvm-vm mode=protected|normal pages=N ...
 *   pvm-page idx=I role=code|data gpa=0x.. pfn=0x.. moved=0|1  (after the touch)
 *   pvm-time fault_in_ns=T pages=N per_page_ns=T first_run_ns=T
 *   pvm-share / pvm-unshare idx=I ret=R
 *   pvm-probe name=user|write|procmem idx=I result=... content=...
 *   pvm-hold point=touched|shared|probed|unshared|destroyed pid=P
 *                                                 (then waits, see --hold)
 *   pvm-destroy destroy_ns=T
 *   pvm-after zero=Z guest=G host=H other=O
 *   pvm-result ok | pvm-result fail stage=S errno=E
 * A page's content is "guest" (the guest's word), "host" (the host's fill),
 * "zero" (poisoned by pKVM on reclaim) or "other".
 *
 * usage: pkvm-pvm [-n PAGES] [--protected|--normal] [--memfd] [--hold]
 *                 [--share IDX] [--probe user,write,procmem] [--probe-page IDX]
 * --hold: at each hold point (touched; shared, if --share; probed, if
 * there are probes; unshared, if --share; destroyed) print pvm-hold and
 * wait until a line arrives on stdin, stdin
 * reaches EOF (which releases every later point too), or SIGUSR1.
 * Needs root: /dev/kvm, PFNs in /proc/self/pagemap, and CAP_IPC_LOCK, since
 * pKVM accounts a protected VM's pages against RLIMIT_MLOCK.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <linux/kvm.h>

#include "a64.h"
#include "hw.h"

/* include/uapi/linux/kvm.h (Linux 7.3); the cross sysroot's headers are older. */
#ifndef KVM_VM_TYPE_ARM_PROTECTED
#define KVM_VM_TYPE_ARM_PROTECTED	(1UL << 31)
#endif

/*
 * SMCCC function ids (Arm DEN0028, "SMC Calling Convention", 2.5: bit 31
 * fast call, bit 30 SMC64, bits 29:24 owner, 15:0 function): PSCI
 * SYSTEM_OFF (Arm DEN0022, PSCI 5.1) and KVM's vendor-hyp MEM_SHARE and
 * MEM_UNSHARE (owner 6, functions 3 and 4, include/linux/arm-smccc.h),
 * which pKVM handles itself for protected guests (hyp/nvhe/pkvm.c).
 */
#define PSCI_SYSTEM_OFF		0x84000008u
#define KVM_HYP_MEM_SHARE	0xc6000003u
#define KVM_HYP_MEM_UNSHARE	0xc6000004u

#define GPA_BASE	0x80000000ull	/* the memslot; inside the default 40-bit IPA space */
#define GPA_MMIO	0x10000000ull	/* no memslot here: accesses exit to us */
#define MMIO_START	0x00	/* write: the guest runs, its code page is in */
#define MMIO_DONE	0x08	/* write: every data page is touched */
#define MMIO_CMD	0x10	/* read: next SMCCC function id, 0 to power off */
#define MMIO_ARG	0x18	/* read: its first argument */
#define MMIO_RET	0x20	/* write: its x0 result */
#define PATTERN		0x50564d0000000000ull	/* "PVM", plus the page index */
#define HOST_FILL	0xa5

#define MAX_PAGES	65536

struct vm {
	bool protected_vm;
	unsigned int pages;	/* data pages; the slot has one more */
	int kvm, vmfd, vcpufd;
	struct kvm_run *run;
	size_t run_size;
	uint8_t *mem;
	size_t mem_size;
	uint64_t *pfn_before;	/* per slot page, right after the host faulted it in */
	/* queued SMCCC calls for the guest's command loop */
	uint64_t cmd_fn[4], cmd_arg[4], cmd_ret[4];
	unsigned int ncmd, cmd_next;
	bool cmd_arg_pending;
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int fail(const char *stage, int err)
{
	printf("pvm-result fail stage=%s errno=%d (%s)\n", stage, err, strerror(err));
	fflush(stdout);
	return 1;
}

static uint8_t *page_va(const struct vm *vm, unsigned int idx)
{
	return vm->mem + (size_t)idx * PAGE_SZ;
}

/*
 * The guest program. Host-set registers: x9 MMIO base, x10 first data page,
 * x11 page count, x12 pattern. SMCCC calls clobber x0-x3 only (DEN0028
 * 2.6/2.7), so the loop state lives in x9-x12.
 */
static size_t guest_code(uint32_t *c)
{
	size_t n = 0, loop, cmd, off_at, cbz_done, cbz_off;

	c[n++] = a64_str(12, 9, MMIO_START);
	cbz_done = n++;					/* cbz x11, done */
	loop = n;
	c[n++] = a64_str(12, 10, 0);			/* touch the page */
	c[n++] = a64_add_imm(10, 10, 1, 1);		/* next page: + 4096 */
	c[n++] = a64_add_imm(12, 12, 1, 0);
	c[n++] = a64_subs_imm(11, 11, 1);
	c[n] = a64_bcond(A64_COND_NE, (int)loop - (int)n);
	n++;
	c[cbz_done] = a64_cbz(11, (int)n - (int)cbz_done);
	c[n++] = a64_str(12, 9, MMIO_DONE);
	cmd = n;
	c[n++] = a64_ldr(0, 9, MMIO_CMD);
	cbz_off = n++;					/* cbz x0, off */
	c[n++] = a64_ldr(1, 9, MMIO_ARG);
	c[n++] = a64_movz(2, 0, 0);			/* MEM_SHARE wants x2 = x3 = 0 */
	c[n++] = a64_movz(3, 0, 0);
	c[n++] = a64_hvc(0);
	c[n++] = a64_str(0, 9, MMIO_RET);
	c[n] = a64_b((int)cmd - (int)n);
	n++;
	off_at = n;
	c[cbz_off] = a64_cbz(0, (int)off_at - (int)cbz_off);
	c[n++] = a64_movz(0, PSCI_SYSTEM_OFF & 0xffff, 0);
	c[n++] = a64_movk(0, PSCI_SYSTEM_OFF >> 16, 16);
	c[n++] = a64_hvc(0);
	c[n] = a64_b(0);				/* not reached */
	n++;
	return n;
}

static int set_reg(int vcpufd, uint64_t id, uint64_t val)
{
	struct kvm_one_reg r = { .id = id, .addr = (uint64_t)(uintptr_t)&val };

	return ioctl(vcpufd, KVM_SET_ONE_REG, &r) < 0 ? -errno : 0;
}

/* KVM_REG_ARM_CORE register ids: arch/arm64/include/uapi/asm/kvm.h. */
#define CORE_REG(field) \
	(KVM_REG_ARM64 | KVM_REG_SIZE_U64 | KVM_REG_ARM_CORE | \
	 (offsetof(struct kvm_regs, field) / sizeof(uint32_t)))

static int map_memory(struct vm *vm, bool use_memfd)
{
	int fd = -1;

	vm->mem_size = ((size_t)vm->pages + 1) * PAGE_SZ;
	if (use_memfd) {
		fd = (int)syscall(SYS_memfd_create, "pkvm-pvm", 0u);
		if (fd < 0)
			return -errno;
		if (ftruncate(fd, (off_t)vm->mem_size) < 0) {
			int e = -errno;

			close(fd);
			return e;
		}
		vm->mem = mmap(NULL, vm->mem_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		close(fd);
	} else {
		vm->mem = mmap(NULL, vm->mem_size, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	}
	if (vm->mem == MAP_FAILED)
		return -errno;
	/*
	 * Small pages on both sides of the comparison, and no copy of pinned
	 * pages into a child (which would read donated memory) if we fork.
	 */
	(void)madvise(vm->mem, vm->mem_size, MADV_NOHUGEPAGE);
	(void)madvise(vm->mem, vm->mem_size, MADV_DONTFORK);
	/* Fault the pages in here, so the timed part is pKVM's, not the allocator's. */
	memset(vm->mem, HOST_FILL, vm->mem_size);
	vm->pfn_before = calloc((size_t)vm->pages + 1, sizeof(*vm->pfn_before));
	if (!vm->pfn_before)
		return -ENOMEM;
	for (unsigned int i = 0; i <= vm->pages; i++)
		vm->pfn_before[i] = virt_to_phys(page_va(vm, i)) / PAGE_SZ;
	return 0;
}

static int create_vm(struct vm *vm, const char **stage)
{
	struct kvm_userspace_memory_region region;
	struct kvm_vcpu_init init;
	uint32_t *code;
	size_t ncode;
	int r;

	*stage = "open_kvm";
	vm->kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (vm->kvm < 0)
		return -errno;
	*stage = "create_vm";
	vm->vmfd = ioctl(vm->kvm, KVM_CREATE_VM,
			 vm->protected_vm ? KVM_VM_TYPE_ARM_PROTECTED : 0UL);
	if (vm->vmfd < 0)
		return -errno;

	code = (uint32_t *)page_va(vm, 0);
	ncode = guest_code(code);
	for (size_t i = 0; i < ncode; i++)
		printf("pvm-code off=0x%02zx insn=0x%08" PRIx32 "\n", i * 4, code[i]);

	*stage = "set_memory_region";
	region = (struct kvm_userspace_memory_region){
		.slot = 0,
		.guest_phys_addr = GPA_BASE,
		.memory_size = vm->mem_size,
		.userspace_addr = (uint64_t)(uintptr_t)vm->mem,
	};
	if (ioctl(vm->vmfd, KVM_SET_USER_MEMORY_REGION, &region) < 0)
		return -errno;

	*stage = "create_vcpu";
	vm->vcpufd = ioctl(vm->vmfd, KVM_CREATE_VCPU, 0UL);
	if (vm->vcpufd < 0)
		return -errno;
	r = ioctl(vm->kvm, KVM_GET_VCPU_MMAP_SIZE, 0UL);
	if (r < 0)
		return -errno;
	vm->run_size = (size_t)r;
	vm->run = mmap(NULL, vm->run_size, PROT_READ | PROT_WRITE, MAP_SHARED, vm->vcpufd, 0);
	if (vm->run == MAP_FAILED)
		return -errno;

	/*
	 * KVM_ARM_PREFERRED_TARGET is refused on a protected VM (its cap is
	 * not in kvm_pkvm_ext_allowed()), and GENERIC_V8 is always accepted
	 * (kvm_vcpu_set_target() in arch/arm64/kvm/arm.c).
	 */
	*stage = "vcpu_init";
	memset(&init, 0, sizeof(init));
	init.target = KVM_ARM_TARGET_GENERIC_V8;
	init.features[0] = 1u << KVM_ARM_VCPU_PSCI_0_2;
	if (ioctl(vm->vcpufd, KVM_ARM_VCPU_INIT, &init) < 0)
		return -errno;

	*stage = "set_regs";
	if ((r = set_reg(vm->vcpufd, CORE_REG(regs.pc), GPA_BASE)) ||
	    (r = set_reg(vm->vcpufd, CORE_REG(regs.regs[9]), GPA_MMIO)) ||
	    (r = set_reg(vm->vcpufd, CORE_REG(regs.regs[10]), GPA_BASE + PAGE_SZ)) ||
	    (r = set_reg(vm->vcpufd, CORE_REG(regs.regs[11]), vm->pages)) ||
	    (r = set_reg(vm->vcpufd, CORE_REG(regs.regs[12]), PATTERN + 1)))
		return r;
	return 0;
}

enum stop { STOP_START, STOP_DONE, STOP_RET, STOP_OFF };

/*
 * Runs the vCPU until it reaches the next stop, answering its command reads
 * on the way. Returns the stop, or -errno (KVM_RUN's -EFAULT after a page
 * was force-reclaimed is one).
 */
static int run_until(struct vm *vm, enum stop *stop)
{
	for (;;) {
		struct kvm_run *run = vm->run;

		if (ioctl(vm->vcpufd, KVM_RUN, 0UL) < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		switch (run->exit_reason) {
		case KVM_EXIT_MMIO: {
			uint64_t off = run->mmio.phys_addr - GPA_MMIO, v = 0;

			if (run->mmio.is_write) {
				memcpy(&v, run->mmio.data, run->mmio.len <= 8 ? run->mmio.len : 8);
				if (off == MMIO_START) {
					*stop = STOP_START;
					return 0;
				}
				if (off == MMIO_DONE) {
					*stop = STOP_DONE;
					return 0;
				}
				if (off == MMIO_RET && vm->cmd_next > 0) {
					vm->cmd_ret[vm->cmd_next - 1] = v;
					*stop = STOP_RET;
					return 0;
				}
				fprintf(stderr, "pkvm-pvm: unexpected MMIO write at +0x%" PRIx64 "\n", off);
				return -EPROTO;
			}
			if (off == MMIO_CMD) {
				v = vm->cmd_next < vm->ncmd ? vm->cmd_fn[vm->cmd_next] : 0;
				vm->cmd_arg_pending = v != 0;
				if (v)
					vm->cmd_next++;
			} else if (off == MMIO_ARG && vm->cmd_arg_pending) {
				v = vm->cmd_arg[vm->cmd_next - 1];
				vm->cmd_arg_pending = false;
			} else {
				fprintf(stderr, "pkvm-pvm: unexpected MMIO read at +0x%" PRIx64 "\n", off);
				return -EPROTO;
			}
			memcpy(run->mmio.data, &v, sizeof(v));
			break;
		}
		case KVM_EXIT_SYSTEM_EVENT:
			if (run->system_event.type != KVM_SYSTEM_EVENT_SHUTDOWN) {
				fprintf(stderr, "pkvm-pvm: system event %u\n", run->system_event.type);
				return -EPROTO;
			}
			*stop = STOP_OFF;
			return 0;
		default:
			fprintf(stderr, "pkvm-pvm: exit reason %u\n", run->exit_reason);
			return -EPROTO;
		}
	}
}

/* Queues one SMCCC call and runs the guest until it has made it. */
static int guest_call(struct vm *vm, uint32_t fn, uint64_t arg, uint64_t *ret)
{
	enum stop stop;
	int r;

	if (vm->ncmd >= sizeof(vm->cmd_fn) / sizeof(vm->cmd_fn[0]))
		return -ENOSPC;
	vm->cmd_fn[vm->ncmd] = fn;
	vm->cmd_arg[vm->ncmd] = arg;
	vm->ncmd++;
	r = run_until(vm, &stop);
	if (r)
		return r;
	if (stop != STOP_RET)
		return -EPROTO;
	*ret = vm->cmd_ret[vm->ncmd - 1];
	return 0;
}

static const char *page_content(const uint8_t *p, unsigned int idx)
{
	uint64_t w;
	bool zero = true, fill = true;

	memcpy(&w, p, sizeof(w));
	for (unsigned int i = 0; i < PAGE_SZ; i++) {
		zero = zero && p[i] == 0;
		fill = fill && (i < 8 || p[i] == HOST_FILL);
	}
	if (zero)
		return "zero";
	if (fill && w == PATTERN + idx)
		return "guest";
	if (fill && w == 0xa5a5a5a5a5a5a5a5ull)
		return "host";
	return "other";
}

/*
 * pagemap reads the VMM's own page table, never the page, so it works on
 * donated pages too. pfn_before differs from pfn only if pinning the page
 * for the guest (FOLL_LONGTERM) migrated it.
 */
static void print_pages(const struct vm *vm, const char *tag)
{
	for (unsigned int i = 0; i <= vm->pages; i++) {
		uint64_t pfn = virt_to_phys(page_va(vm, i)) / PAGE_SZ;

		printf("%s idx=%u role=%s gpa=0x%llx pfn=0x%" PRIx64 " moved=%d\n", tag, i,
		       i ? "data" : "code", GPA_BASE + (unsigned long long)i * PAGE_SZ,
		       pfn, pfn != vm->pfn_before[i]);
	}
}

/* ---- probes: what a host access to a page the guest owns does ---- */

static sigjmp_buf probe_jmp;
static volatile sig_atomic_t probe_code;

static void probe_segv(int sig, siginfo_t *si, void *uc)
{
	probe_code = si->si_code;
	siglongjmp(probe_jmp, 1);
}

/* A plain load from user space: pKVM's stage-2 abort becomes SIGSEGV. */
static void probe_user(const struct vm *vm, unsigned int idx)
{
	struct sigaction sa = { .sa_sigaction = probe_segv, .sa_flags = SA_SIGINFO }, old;
	volatile uint64_t *p = (volatile uint64_t *)page_va(vm, idx);

	sigaction(SIGSEGV, &sa, &old);
	probe_code = 0;
	if (!sigsetjmp(probe_jmp, 1)) {
		uint64_t v = *p;

		printf("pvm-probe name=user idx=%u result=read value=0x%" PRIx64 " content=%s\n",
		       idx, v, page_content(page_va(vm, idx), idx));
	} else {
		printf("pvm-probe name=user idx=%u result=SIGSEGV si_code=%d%s\n", idx,
		       (int)probe_code, probe_code == SEGV_ACCERR ? " (SEGV_ACCERR)" : "");
	}
	sigaction(SIGSEGV, &old, NULL);
}

/* copy_from_user in write(2): a uaccess, so the kernel's fixup may answer -EFAULT. */
static void probe_write(const struct vm *vm, unsigned int idx)
{
	static uint8_t buf[PAGE_SZ];
	int p[2];
	ssize_t n;

	if (pipe2(p, O_CLOEXEC | O_NONBLOCK) < 0) {
		printf("pvm-probe name=write idx=%u result=pipe-errno-%d\n", idx, errno);
		return;
	}
	n = write(p[1], page_va(vm, idx), PAGE_SZ);
	if (n < 0) {
		printf("pvm-probe name=write idx=%u result=errno errno=%d (%s)\n", idx, errno,
		       strerror(errno));
	} else {
		ssize_t m = read(p[0], buf, sizeof(buf));

		printf("pvm-probe name=write idx=%u result=wrote bytes=%zd content=%s\n", idx, n,
		       m == PAGE_SZ ? page_content(buf, idx) : "short");
	}
	close(p[0]);
	close(p[1]);
}

/*
 * /proc/self/mem reads through GUP and a kernel mapping, outside uaccess:
 * the abort reaches pKVM's force-reclaim path (arch/arm64/mm/fault.c,
 * is_spurious_el1_translation_fault()).
 */
static void probe_procmem(const struct vm *vm, unsigned int idx)
{
	static uint8_t buf[PAGE_SZ];
	int fd = open("/proc/self/mem", O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0) {
		printf("pvm-probe name=procmem idx=%u result=open-errno-%d\n", idx, errno);
		return;
	}
	n = pread(fd, buf, sizeof(buf), (off_t)(uintptr_t)page_va(vm, idx));
	if (n < 0)
		printf("pvm-probe name=procmem idx=%u result=errno errno=%d (%s)\n", idx, errno,
		       strerror(errno));
	else
		printf("pvm-probe name=procmem idx=%u result=read bytes=%zd content=%s\n", idx, n,
		       n == PAGE_SZ ? page_content(buf, idx) : "short");
	close(fd);
}

static int run_probes(const struct vm *vm, const char *list, unsigned int idx)
{
	char *dup = strdup(list), *save = NULL;

	if (!dup)
		return -ENOMEM;
	for (char *t = strtok_r(dup, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		if (!strcmp(t, "user"))
			probe_user(vm, idx);
		else if (!strcmp(t, "write"))
			probe_write(vm, idx);
		else if (!strcmp(t, "procmem"))
			probe_procmem(vm, idx);
		else {
			free(dup);
			return -EINVAL;
		}
		fflush(stdout);
	}
	free(dup);
	return 0;
}

/* ---- hold: let another tool work on the VM's pages ---- */

static int sigfd = -1;
static bool stdin_eof;

static void hold(const char *point)
{
	struct pollfd pfd[2] = {
		{ .fd = sigfd, .events = POLLIN },
		{ .fd = STDIN_FILENO, .events = POLLIN },
	};

	printf("pvm-hold point=%s pid=%d\n", point, (int)getpid());
	fflush(stdout);
	while (!stdin_eof) {
		if (poll(pfd, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			return;
		}
		if (pfd[0].revents & POLLIN) {
			struct signalfd_siginfo si;

			if (read(sigfd, &si, sizeof(si)) == sizeof(si))
				break;
		}
		if (pfd[1].revents & (POLLIN | POLLHUP | POLLERR)) {
			char c;
			ssize_t n;

			/* One line releases one hold point; EOF releases all. */
			while ((n = read(STDIN_FILENO, &c, 1)) == 1 && c != '\n')
				;
			if (n <= 0)
				stdin_eof = true;
			break;
		}
	}
	printf("pvm-release point=%s\n", point);
	fflush(stdout);
}

static void usage(FILE *f)
{
	fprintf(f, "usage: pkvm-pvm [-n PAGES] [--protected|--normal] [--memfd] [--hold]\n"
		   "                [--share IDX] [--probe user,write,procmem] [--probe-page IDX]\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "pages", required_argument, NULL, 'n' },
		{ "protected", no_argument, NULL, 'p' },
		{ "normal", no_argument, NULL, 'N' },
		{ "memfd", no_argument, NULL, 'm' },
		{ "hold", no_argument, NULL, 'H' },
		{ "share", required_argument, NULL, 's' },
		{ "probe", required_argument, NULL, 'P' },
		{ "probe-page", required_argument, NULL, 'x' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	struct vm vm = { .protected_vm = true, .pages = 1, .kvm = -1, .vmfd = -1, .vcpufd = -1 };
	bool use_memfd = false, do_hold = false;
	long share = -1, probe_page = -1;
	const char *probes = NULL, *stage = "";
	uint64_t t0, t1, t2, ret;
	unsigned int zero = 0, guest = 0, host = 0, other = 0;
	enum stop stop;
	sigset_t ss;
	int c, r;

	while ((c = getopt_long(argc, argv, "n:h", opts, NULL)) != -1) {
		switch (c) {
		case 'n': {
			char *end;
			unsigned long v = strtoul(optarg, &end, 0);

			if (*end || v < 1 || v > MAX_PAGES) {
				fprintf(stderr, "pkvm-pvm: -n wants 1..%d\n", MAX_PAGES);
				return 2;
			}
			vm.pages = (unsigned int)v;
			break;
		}
		case 'p': vm.protected_vm = true; break;
		case 'N': vm.protected_vm = false; break;
		case 'm': use_memfd = true; break;
		case 'H': do_hold = true; break;
		case 's': share = strtol(optarg, NULL, 0); break;
		case 'P': probes = optarg; break;
		case 'x': probe_page = strtol(optarg, NULL, 0); break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc || (share != -1 && (share < 1 || share > vm.pages)) ||
	    (probe_page != -1 && (probe_page < 1 || probe_page > vm.pages))) {
		usage(stderr);
		return 2;
	}
	if (probe_page == -1)
		probe_page = vm.pages;	/* the last data page: the guest never touches it again */

	sigemptyset(&ss);
	sigaddset(&ss, SIGUSR1);
	sigprocmask(SIG_BLOCK, &ss, NULL);
	sigfd = signalfd(-1, &ss, SFD_CLOEXEC);
	setvbuf(stdout, NULL, _IOLBF, 0);

	printf("pvm-vm mode=%s pages=%u memory=%s gpa_base=0x%llx\n",
	       vm.protected_vm ? "protected" : "normal", vm.pages, use_memfd ? "memfd" : "anon",
	       GPA_BASE);
	r = map_memory(&vm, use_memfd);
	if (r)
		return fail(use_memfd ? "memfd" : "mmap", -r);
	r = create_vm(&vm, &stage);
	if (r)
		return fail(stage, -r);

	/* First run: pKVM creates the hyp VM and vCPU, and the code page faults in. */
	t0 = now_ns();
	r = run_until(&vm, &stop);
	t1 = now_ns();
	if (r || stop != STOP_START)
		return fail("run_start", r ? -r : EPROTO);
	r = run_until(&vm, &stop);
	t2 = now_ns();
	if (r || stop != STOP_DONE)
		return fail("run_touch", r ? -r : EPROTO);
	print_pages(&vm, "pvm-page");
	printf("pvm-time fault_in_ns=%" PRIu64 " pages=%u per_page_ns=%" PRIu64
	       " first_run_ns=%" PRIu64 "\n", t2 - t1, vm.pages, (t2 - t1) / vm.pages, t1 - t0);

	if (do_hold)
		hold("touched");
	if (share != -1) {
		r = guest_call(&vm, KVM_HYP_MEM_SHARE, GPA_BASE + (uint64_t)share * PAGE_SZ, &ret);
		if (r)
			return fail("share", -r);
		/* Only a shared page may be read: anything else is SIGSEGV. */
		printf("pvm-share idx=%ld ret=%" PRId64 " content=%s\n", share, (int64_t)ret,
		       ret ? "unread" : page_content(page_va(&vm, (unsigned int)share),
						     (unsigned int)share));
		if (do_hold)
			hold("shared");
	}
	if (probes) {
		r = run_probes(&vm, probes, (unsigned int)probe_page);
		if (r)
			return fail("probe", -r);
		if (do_hold)
			hold("probed");
	}
	if (share != -1) {
		r = guest_call(&vm, KVM_HYP_MEM_UNSHARE, GPA_BASE + (uint64_t)share * PAGE_SZ, &ret);
		if (r)
			return fail("unshare", -r);
		printf("pvm-unshare idx=%ld ret=%" PRId64 "\n", share, (int64_t)ret);
		if (do_hold)
			hold("unshared");
	}
	r = run_until(&vm, &stop);
	if (r || stop != STOP_OFF)
		return fail("run_off", r ? -r : EPROTO);
	printf("pvm-off\n");

	/* The last reference to the VM goes with the VM fd: teardown reclaims every page. */
	t0 = now_ns();
	munmap(vm.run, vm.run_size);
	close(vm.vcpufd);
	close(vm.vmfd);
	t1 = now_ns();
	close(vm.kvm);
	printf("pvm-destroy destroy_ns=%" PRIu64 "\n", t1 - t0);

	for (unsigned int i = 1; i <= vm.pages; i++) {
		const char *what = page_content(page_va(&vm, i), i);

		zero += !strcmp(what, "zero");
		guest += !strcmp(what, "guest");
		host += !strcmp(what, "host");
		other += !strcmp(what, "other");
	}
	printf("pvm-after zero=%u guest=%u host=%u other=%u\n", zero, guest, host, other);
	/* The pages are the host's again: a DMA check can reach them now. */
	if (do_hold)
		hold("destroyed");
	printf("pvm-result ok\n");
	return 0;
}
