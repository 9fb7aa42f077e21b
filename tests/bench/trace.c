// SPDX-License-Identifier: GPL-2.0
#include "trace.h"
#include "testutil.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

int trace_push(struct trace *t, char kind, uint64_t addr, uint64_t len, uint16_t owner)
{
	if (GROW_ARRAY(t->ops, t->cap, t->nr + 1, 1024))
		return -ENOMEM;
	t->ops[t->nr++] = (struct trace_op){ addr, len, owner, kind };
	return 0;
}

void trace_free(struct trace *t)
{
	free(t->ops);
	memset(t, 0, sizeof(*t));
}

int trace_read(FILE *f, struct trace *t, size_t *line)
{
	char buf[256];

	*line = 0;
	while (fgets(buf, sizeof(buf), f)) {
		char kind, *p = buf, *end;
		uint64_t v[3] = { 0, 0, 2 };
		int n = 0, ret;

		(*line)++;
		p += strspn(p, " \t");
		if (*p == '#' || *p == '\n' || !*p)
			continue;
		kind = *p++;
		if (kind != 'D' && kind != 'R')
			return -EINVAL;
		while (n < 3) {
			p += strspn(p, " \t");
			if (*p == '\n' || !*p)
				break;
			errno = 0;
			v[n] = strtoull(p, &end, 0);
			if (end == p || errno)
				return -EINVAL;
			p = end;
			n++;
		}
		p += strspn(p, " \t\n");
		if (n < 2 || *p || v[2] > UINT16_MAX)
			return -EINVAL;
		ret = trace_push(t, kind, v[0], v[1], (uint16_t)v[2]);
		if (ret)
			return ret;
	}
	return ferror(f) ? -EIO : 0;
}

int trace_write(FILE *f, const struct trace *t)
{
	for (size_t i = 0; i < t->nr; i++) {
		const struct trace_op *op = &t->ops[i];

		if (op->owner == 2)
			fprintf(f, "%c 0x%" PRIx64 " 0x%" PRIx64 "\n", op->kind, op->addr, op->len);
		else
			fprintf(f, "%c 0x%" PRIx64 " 0x%" PRIx64 " %u\n", op->kind,
				op->addr, op->len, op->owner);
	}
	return ferror(f) ? -EIO : 0;
}
