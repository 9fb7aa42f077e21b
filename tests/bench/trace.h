/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A workload as data: "D addr len" (donate) and "R addr len" (reclaim), one
 * a line, hex or decimal, an optional third number the owner (default 2).
 * Generated workloads are traces too, so what the benchmark times can be
 * written out and replayed by anyone.
 */
#ifndef PKVM_BENCH_TRACE_H
#define PKVM_BENCH_TRACE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct trace_op {
	uint64_t addr;
	uint64_t len;
	uint16_t owner;
	char kind;	/* 'D' or 'R' */
};

struct trace {
	struct trace_op *ops;
	size_t nr, cap;
};

int trace_push(struct trace *t, char kind, uint64_t addr, uint64_t len, uint16_t owner);
void trace_free(struct trace *t);
/* Returns 0, or -errno with *line set to the offending line number. */
int trace_read(FILE *f, struct trace *t, size_t *line);
int trace_write(FILE *f, const struct trace *t);

#endif
