// SPDX-License-Identifier: GPL-2.0
/*
 * Aligned text tables (table.h).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "output.h"
#include "table.h"

struct cell {
	char *text;
	const char *color;
};

struct table {
	unsigned int ncols;
	char **headers;
	bool *right;
	struct cell *cells;	/* row-major */
	size_t ncells, cap;
};

/* Columns on a terminal: UTF-8 continuation bytes take none. */
static size_t width(const char *s)
{
	size_t w = 0;

	for (; *s; s++)
		w += ((unsigned char)*s & 0xc0) != 0x80;
	return w;
}

struct table *table_new(const char *const *headers)
{
	struct table *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	while (headers[t->ncols])
		t->ncols++;
	t->headers = calloc(t->ncols, sizeof(*t->headers));
	t->right = calloc(t->ncols, sizeof(*t->right));
	if (!t->headers || !t->right)
		goto fail;
	for (unsigned int i = 0; i < t->ncols; i++) {
		t->headers[i] = strdup(headers[i]);
		if (!t->headers[i])
			goto fail;
	}
	return t;
fail:
	table_free(t);
	return NULL;
}

void table_free(struct table *t)
{
	if (!t)
		return;
	for (unsigned int i = 0; t->headers && i < t->ncols; i++)
		free(t->headers[i]);
	for (size_t i = 0; i < t->ncells; i++)
		free(t->cells[i].text);
	free(t->headers);
	free(t->right);
	free(t->cells);
	free(t);
}

void table_align_right(struct table *t, unsigned int col)
{
	if (col < t->ncols)
		t->right[col] = true;
}

static int add_owned(struct table *t, const char *color, char *text)
{
	if (!text)
		return -ENOMEM;
	if (GROW_ARRAY(t->cells, t->cap, t->ncells + 1, 64) < 0) {
		free(text);
		return -ENOMEM;
	}
	t->cells[t->ncells++] = (struct cell){ .text = text, .color = color };
	return 0;
}

int table_add(struct table *t, const char *color, const char *text)
{
	return add_owned(t, color, strdup(text ? text : ""));
}

int table_addf(struct table *t, const char *color, const char *fmt, ...)
{
	char *s = NULL;
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vasprintf(&s, fmt, ap);
	va_end(ap);
	return add_owned(t, color, r < 0 ? NULL : s);
}

unsigned int table_rows(const struct table *t)
{
	return t->ncols ? (unsigned int)(t->ncells / t->ncols) : 0;
}

static void print_cell(FILE *f, const char *text, const char *color, size_t w, bool right,
		       bool last)
{
	size_t pad = w - width(text);

	if (right)
		fprintf(f, "%*s", (int)pad, "");
	fprintf(f, "%s%s%s", color ? color : "", text, color ? ANSI_NORMAL : "");
	/* No trailing blanks: a left-aligned last column ends at its text. */
	if (!right && !last)
		fprintf(f, "%*s", (int)pad, "");
}

int table_print(const struct table *t, FILE *f, bool legend, bool color)
{
	size_t *w = calloc(t->ncols ? t->ncols : 1, sizeof(*w));
	size_t nrows = t->ncols ? t->ncells / t->ncols : 0;

	if (!w)
		return -ENOMEM;
	for (unsigned int c = 0; c < t->ncols; c++) {
		w[c] = legend ? width(t->headers[c]) : 0;
		for (size_t r = 0; r < nrows; r++) {
			size_t x = width(t->cells[r * t->ncols + c].text);

			if (x > w[c])
				w[c] = x;
		}
	}
	if (legend) {
		for (unsigned int c = 0; c < t->ncols; c++) {
			if (c)
				fputc(' ', f);
			print_cell(f, t->headers[c], color ? ANSI_HEADER : NULL, w[c], t->right[c],
				   c + 1 == t->ncols);
		}
		fputc('\n', f);
	}
	for (size_t r = 0; r < nrows; r++) {
		for (unsigned int c = 0; c < t->ncols; c++) {
			const struct cell *x = &t->cells[r * t->ncols + c];

			if (c)
				fputc(' ', f);
			print_cell(f, x->text, color ? x->color : NULL, w[c], t->right[c],
				   c + 1 == t->ncols);
		}
		fputc('\n', f);
	}
	free(w);
	return ferror(f) ? -EIO : 0;
}
