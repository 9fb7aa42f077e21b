// SPDX-License-Identifier: GPL-2.0
/* Guest-side hardware access for the VM checks; see hw.h. */
#include "hw.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

int read_text(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -errno;
	buf[n] = 0;
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		buf[--n] = 0;
	return 0;
}

int edu_find(struct edu *e)
{
	DIR *d = opendir("/sys/bus/pci/devices");
	struct dirent *de;
	int found = 0;

	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		char p[512], v[32], dv[32];
		unsigned int dom, bus, dev, fn;

		if (de->d_name[0] == '.')
			continue;
		snprintf(p, sizeof(p), "/sys/bus/pci/devices/%s/vendor", de->d_name);
		if (read_text(p, v, sizeof(v)))
			continue;
		snprintf(p, sizeof(p), "/sys/bus/pci/devices/%s/device", de->d_name);
		if (read_text(p, dv, sizeof(dv)))
			continue;
		if (strtoul(v, NULL, 0) != EDU_VENDOR || strtoul(dv, NULL, 0) != EDU_DEVICE)
			continue;
		if (sscanf(de->d_name, "%x:%x:%x.%x", &dom, &bus, &dev, &fn) != 4)
			continue;
		found++;
		snprintf(e->bdf, sizeof(e->bdf), "%s", de->d_name);
		snprintf(e->path, sizeof(e->path), "/sys/bus/pci/devices/%s", de->d_name);
		e->sid = bus << 8 | dev << 3 | fn;
	}
	closedir(d);
	if (!found)
		return -ENOENT;
	return found == 1 ? 0 : -EEXIST;
}

int edu_open(struct edu *e, char *err, size_t errlen)
{
	char p[512];
	uint16_t cmd;
	void *bar;
	int fd;

	/* pci_enable_device(): memory decode on, resources claimed for use. */
	snprintf(p, sizeof(p), "%s/enable", e->path);
	fd = open(p, O_WRONLY | O_CLOEXEC);
	if (fd < 0 || write(fd, "1", 1) != 1) {
		snprintf(err, errlen, "%s: %s", p, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -EIO;
	}
	close(fd);
	/* Bus mastering (PCI_COMMAND bit 2) and memory space (bit 1). */
	snprintf(p, sizeof(p), "%s/config", e->path);
	fd = open(p, O_RDWR | O_CLOEXEC);
	if (fd < 0 || pread(fd, &cmd, 2, 4) != 2) {
		snprintf(err, errlen, "%s: %s", p, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -EIO;
	}
	cmd |= 0x6;
	if (pwrite(fd, &cmd, 2, 4) != 2 || pread(fd, &cmd, 2, 4) != 2 || (cmd & 0x6) != 0x6) {
		snprintf(err, errlen, "PCI command 0x%x after setting bits 1,2: %s", cmd,
			 strerror(errno));
		close(fd);
		return -EIO;
	}
	close(fd);
	snprintf(p, sizeof(p), "%s/resource0", e->path);
	fd = open(p, O_RDWR | O_SYNC | O_CLOEXEC);
	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", p, strerror(errno));
		return -EIO;
	}
	bar = mmap(NULL, EDU_BAR_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (bar == MAP_FAILED) {
		snprintf(err, errlen, "mmap %s: %s", p, strerror(errno));
		return -EIO;
	}
	e->bar = bar;
	/* Identification register: 0xRRrr00edu, major.minor in the top bytes. */
	if ((*(volatile uint32_t *)e->bar & 0xff) != 0xed) {
		snprintf(err, errlen, "BAR0[0] = 0x%08x, not edu's 0x..0000ed",
			 *(volatile uint32_t *)e->bar);
		return -EIO;
	}
	snprintf(err, errlen, "%s BAR0 mapped, id 0x%08x, command 0x%x", e->bdf,
		 *(volatile uint32_t *)e->bar, cmd);
	return 0;
}

static uint64_t rd64(struct edu *e, unsigned int reg)
{
	return *(volatile uint64_t *)(e->bar + reg);
}

static void wr64(struct edu *e, unsigned int reg, uint64_t v)
{
	*(volatile uint64_t *)(e->bar + reg) = v;
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static int wait_idle(struct edu *e)
{
	uint64_t t0 = now_ms();

	/* edu runs a transfer 100 ms (virtual clock) after it is started. */
	while (rd64(e, EDU_REG_DMA_CMD) & EDU_DMA_RUN) {
		if (now_ms() - t0 > 5000)
			return -ETIMEDOUT;
		usleep(2000);
	}
	return 0;
}

int edu_dma(struct edu *e, uint64_t pa, uint32_t off, uint32_t cnt, bool to_ram)
{
	int ret = wait_idle(e);

	if (ret)
		return ret;
	__sync_synchronize();
	if (to_ram) {
		wr64(e, EDU_REG_DMA_SRC, EDU_BUF_ADDR + off);
		wr64(e, EDU_REG_DMA_DST, pa);
	} else {
		wr64(e, EDU_REG_DMA_SRC, pa);
		wr64(e, EDU_REG_DMA_DST, EDU_BUF_ADDR + off);
	}
	wr64(e, EDU_REG_DMA_CNT, cnt);
	wr64(e, EDU_REG_DMA_CMD, EDU_DMA_RUN | (to_ram ? EDU_DMA_TO_RAM : 0));
	ret = wait_idle(e);
	__sync_synchronize();
	return ret;
}

uint64_t virt_to_phys(const void *va)
{
	uint64_t ent;
	int fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	off_t off = (off_t)((uintptr_t)va / PAGE_SZ * 8);

	if (fd < 0)
		return 0;
	if (pread(fd, &ent, 8, off) != 8) {
		close(fd);
		return 0;
	}
	close(fd);
	/* Bit 63 present, bits 0..54 the PFN (zero unless CAP_SYS_ADMIN). */
	if (!(ent >> 63) || !(ent & ((1ull << 55) - 1)))
		return 0;
	return (ent & ((1ull << 55) - 1)) * PAGE_SZ + (uintptr_t)va % PAGE_SZ;
}

int ram_ranges(struct ram_range *r, int max)
{
	FILE *f = fopen("/proc/iomem", "re");
	char line[256];
	int n = 0;

	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		uint64_t s, e;
		char name[128];

		/* Top level only: nested lines are indented. */
		if (line[0] == ' ')
			continue;
		if (sscanf(line, "%" SCNx64 "-%" SCNx64 " : %127[^\n]", &s, &e, name) != 3)
			continue;
		if (strcmp(name, "System RAM") || n >= max)
			continue;
		r[n].start = s;
		r[n].end = e + 1;
		n++;
	}
	fclose(f);
	return n;
}

int module_load(const char *path)
{
	const char *params = getenv("PKVM_GUEST_MODPARAMS");
	int fd = open(path, O_RDONLY | O_CLOEXEC), ret = 0;

	if (fd < 0)
		return -errno;
	if (syscall(SYS_finit_module, fd, params ? params : "", 0) < 0)
		ret = -errno;
	close(fd);
	return ret;
}

int module_unload(const char *name)
{
	if (syscall(SYS_delete_module, name, O_NONBLOCK) < 0)
		return -errno;
	return 0;
}
