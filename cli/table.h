/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Aligned text tables for people: a header row, cells added left to right,
 * columns as wide as their widest cell, numbers right-aligned. Cells may
 * carry a colour, used only when the table is printed with colour.
 */
#ifndef PKVM_CLI_TABLE_H
#define PKVM_CLI_TABLE_H

#include <stdbool.h>
#include <stdio.h>

struct table;

/* Columns named by the NULL-terminated headers; NULL on -ENOMEM. */
struct table *table_new(const char *const *headers);
void table_free(struct table *t);
#define _cleanup_table_ _cleanup_(table_freep)
static inline void table_freep(struct table **t)
{
	table_free(*t);
}

/* Right-align column col (numbers). */
void table_align_right(struct table *t, unsigned int col);

/* The next cell, row after row; color is an ANSI_* or NULL. 0 or -ENOMEM. */
int table_add(struct table *t, const char *color, const char *text);
int table_addf(struct table *t, const char *color, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

unsigned int table_rows(const struct table *t);

/* The header only with legend; colour codes only with color. 0 or -errno. */
int table_print(const struct table *t, FILE *f, bool legend, bool color);

#endif /* PKVM_CLI_TABLE_H */
