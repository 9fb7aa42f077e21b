// SPDX-License-Identifier: GPL-2.0
/*
 * bus-flood ADDRESS N: N SetSplitPolicy("bbm", 0) calls to pkvm-iommud on
 * ONE connection, all sent before any reply is read, as a hostile local
 * user floods the daemon's polkit questions. Prints "sent N" once they are
 * all on the bus, "outstanding K" whenever it has nothing to read and K
 * calls still wait for their reply (K changed since the last such line),
 * then, when every reply is in (or after 60 s), one "reply NAME COUNT"
 * line per D-Bus error name ("reply ok COUNT" for successes) and "done".
 * Exit 0 when all replies came, 1 otherwise.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <systemd/sd-bus.h>

#define MAX_NAMES 16

static uint64_t now_usec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static struct {
	char name[128];
	unsigned int count;
} seen[MAX_NAMES];
static unsigned int nr_seen, replies;

static void count(const char *name)
{
	unsigned int i;

	for (i = 0; i < nr_seen; i++)
		if (!strcmp(seen[i].name, name))
			break;
	if (i == nr_seen) {
		if (nr_seen == MAX_NAMES)
			i = MAX_NAMES - 1;	/* the rest, under the last name */
		else
			snprintf(seen[nr_seen++].name, sizeof(seen[0].name), "%s", name);
	}
	seen[i].count++;
}

static int on_reply(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
	const sd_bus_error *e = sd_bus_message_get_error(m);

	(void)userdata;
	(void)ret_error;
	count(e ? e->name : "ok");
	replies++;
	return 0;
}

int main(int argc, char **argv)
{
	sd_bus *bus = NULL;
	unsigned int n;
	uint64_t end;
	int r;

	if (argc != 3) {
		fprintf(stderr, "usage: bus-flood ADDRESS N\n");
		return 2;
	}
	n = (unsigned int)strtoul(argv[2], NULL, 0);
	if ((r = sd_bus_new(&bus)) < 0 || (r = sd_bus_set_address(bus, argv[1])) < 0 ||
	    (r = sd_bus_set_bus_client(bus, 1)) < 0 || (r = sd_bus_start(bus)) < 0) {
		fprintf(stderr, "bus-flood: %s: %s\n", argv[1], strerror(-r));
		return 1;
	}
	for (unsigned int i = 0; i < n; i++) {
		r = sd_bus_call_method_async(bus, NULL, "org.pkvm.Iommu1", "/org/pkvm/Iommu1",
					     "org.pkvm.Iommu1.Manager", "SetSplitPolicy",
					     on_reply, NULL, "su", "bbm", 0);
		if (r < 0) {
			fprintf(stderr, "bus-flood: call %u: %s\n", i, strerror(-r));
			return 1;
		}
	}
	r = sd_bus_flush(bus);
	if (r < 0) {
		fprintf(stderr, "bus-flood: flush: %s\n", strerror(-r));
		return 1;
	}
	printf("sent %u\n", n);
	fflush(stdout);
	end = now_usec() + 60 * 1000000ull;
	while (replies < n) {
		static unsigned int told = ~0u;
		uint64_t now;

		r = sd_bus_process(bus, NULL);
		if (r < 0)
			break;
		if (r > 0)
			continue;
		if (n - replies != told) {
			told = n - replies;
			printf("outstanding %u\n", told);
			fflush(stdout);
		}
		now = now_usec();
		if (now >= end)
			break;
		sd_bus_wait(bus, end - now);
	}
	for (unsigned int i = 0; i < nr_seen; i++)
		printf("reply %s %u\n", seen[i].name, seen[i].count);
	printf("done %u of %u\n", replies, n);
	sd_bus_flush_close_unref(bus);
	return replies == n ? 0 : 1;
}
