/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The policy of pkvm-iommud: a JSON file (schema version 1, documented in
 * pkvm-iommu.json(5)) parsed with json-c into struct pkvm_policy, strictly:
 * unknown keys, duplicate keys, wrong types, fractions and out-of-range
 * numbers are errors, each naming its JSON path ("$.streams[1].sid: ...").
 *
 * Parsing is all-or-nothing: on failure the caller's policy is untouched,
 * so a bad reload keeps the policy in force. Where the file lives is the
 * daemon's business, not this module's. Errors are negative errno values.
 * Constants shared with the kernel (stream actions, split policies,
 * levels) are the uapi's, not copies.
 */
#ifndef PKVMD_POLICY_H
#define PKVMD_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <linux/pkvm_iommu.h>

#define POLICY_SCHEMA_VERSION	1
#define POLICY_MAX_ERRORS	16	/* messages kept; more are only counted */
#define POLICY_ERROR_LEN	256
#define POLICY_FILE_MAX		(1u << 20)	/* policy_load_file refuses more */
#define POLICY_PCI_NAME_MAX	18	/* "ffffffff:ff:1f.7" and its NUL */

/* Defaults of every optional key, as pkvm-iommu.json(5) states them. */
#define POLICY_DEFAULT_ACTION		PKVM_STREAM_BLOCK
#define POLICY_DEFAULT_SPLIT		PKVM_SPLIT_AUTO
#define POLICY_DEFAULT_BATCH_MAX_OPS	1u
#define POLICY_DEFAULT_BATCH_WINDOW_US	0u
#define POLICY_DEFAULT_FOLD_MODE	PKVM_FOLD_LAZY
#define POLICY_DEFAULT_COMPACT_BUDGET	PKVM_IOMMU_FOLD_DEFAULT_BUDGET
#define POLICY_DEFAULT_IDLE_MS		PKVM_IOMMU_FOLD_DEFAULT_IDLE_MS
#define POLICY_DEFAULT_FAULTS		100u
#define POLICY_DEFAULT_FAULT_SECONDS	10u
#define POLICY_DEFAULT_QUARANTINE	true
#define POLICY_DEFAULT_METRICS_INTERVAL	15u

enum policy_rule_kind {
	POLICY_RULE_SID,	/* matches (smmu, sid) */
	POLICY_RULE_PCI,	/* matches a PCI function, resolved by the daemon */
};

struct pkvm_stream_rule {
	enum policy_rule_kind kind;
	uint32_t smmu, sid;		/* POLICY_RULE_SID */
	char pci[POLICY_PCI_NAME_MAX];	/* POLICY_RULE_PCI: "dddd:bb:dd.f", lowercase */
	enum pkvm_stream_policy action;
};

struct pkvm_policy {
	int version;				/* POLICY_SCHEMA_VERSION */
	enum pkvm_stream_policy default_action;
	struct pkvm_stream_rule *streams;	/* in file order */
	size_t nr_streams;
	struct {
		enum pkvm_split_policy mode;
		uint32_t level;		/* PKVM_LEVEL_*, PRESPLIT only; else 0 */
	} split;
	struct {
		uint32_t batch_max_ops;		/* 1..4096 */
		uint32_t batch_window_us;	/* 0..100000 */
	} invalidation;
	struct {
		enum pkvm_fold_mode mode;
		uint32_t compact_budget;	/* 1..PKVM_IOMMU_COMPACT_MAX */
		uint32_t idle_ms;		/* 0..PKVM_IOMMU_FOLD_IDLE_MAX_MS */
	} fold;
	struct {
		uint32_t faults;	/* 1..1000000 faults ... */
		uint32_t seconds;	/* ... in 1..86400 s trip the limit */
		bool quarantine;	/* then switch the stream to block */
	} fault_limit;
	struct {
		char *path;		/* absolute; NULL: metrics disabled */
		uint32_t interval_s;	/* 1..3600 */
	} metrics;
};

/* Messages of a failed parse or load, in document order. */
struct policy_errors {
	size_t n;		/* messages in msg[], <= POLICY_MAX_ERRORS */
	size_t dropped;		/* further errors found but not kept */
	/*
	 * The file could not be read: the message names it ("PATH: ..."),
	 * so a caller adds no name of its own. Otherwise messages start at
	 * a JSON path or a line and column, and a caller names the file.
	 */
	bool file_named;
	char msg[POLICY_MAX_ERRORS][POLICY_ERROR_LEN];
};

/*
 * Overwrites *p (without freeing it) with the defaults: version 1, block,
 * no rules, auto split, no batching, lazy fold compacted 8 tables a call
 * after 100 ms idle, 100 faults in 10 s quarantine, no metrics.
 */
void policy_init_default(struct pkvm_policy *p);

/* Frees what *p owns and zeroes it: safe twice, and on a zeroed struct. */
void policy_free(struct pkvm_policy *p);
#define _cleanup_policy_ __attribute__((cleanup(policy_free)))

/* Deep copy into *dst (overwritten, not freed); -ENOMEM. */
int policy_copy(struct pkvm_policy *dst, const struct pkvm_policy *src);

/*
 * Parses len bytes of JSON (no NUL needed). *out must hold a valid policy
 * (zeroed, defaulted or parsed before): on success its old content is freed
 * and replaced; on failure it is not touched at all. errs may be NULL.
 * Returns 0, -EINVAL (errs filled) or -ENOMEM.
 */
int policy_parse_string(const char *json, size_t len, struct pkvm_policy *out,
			struct policy_errors *errs);

/*
 * Reads and parses a file, as policy_parse_string(). I/O failures return
 * -errno (-ENOENT, -EACCES, ...; -EFBIG above POLICY_FILE_MAX; -EISDIR for
 * a directory; -EBADFD for a FIFO, device or socket, which are refused
 * without waiting on them) with one message naming the path. Symlinks are
 * followed.
 */
int policy_load_file(const char *path, struct pkvm_policy *out,
		     struct policy_errors *errs);

/*
 * Canonical form: every key written, defaults included, in schema order,
 * pretty-printed with a final newline. Parsing it gives an equal policy.
 * Caller frees. NULL with errno ENOMEM.
 */
char *policy_to_json(const struct pkvm_policy *p);

bool policy_equal(const struct pkvm_policy *a, const struct pkvm_policy *b);

/*
 * Writes policy_to_json(p) to path so that a reader or a crash sees the old
 * file or the new one, never a mix: temp file in the same directory, fsync,
 * rename, fsync of the directory. The text is parsed back first, so an
 * invalid struct is -EINVAL and nothing is written (never persist a file
 * the daemon would refuse on restart). Mode 0644. Returns 0 or -errno.
 */
int policy_write_atomic(const struct pkvm_policy *p, const char *path);

/*
 * Adds a (smmu, sid) rule, or changes the action of the existing one (for
 * runtime changes over D-Bus). -EINVAL for an unknown action, -ENOMEM.
 */
int policy_set_stream(struct pkvm_policy *p, uint32_t smmu, uint32_t sid,
		      enum pkvm_stream_policy action);

/* Names as the JSON spells them; NULL for a value outside the enum. */
const char *policy_action_name(enum pkvm_stream_policy a);
const char *policy_split_name(enum pkvm_split_policy s);
const char *policy_fold_name(enum pkvm_fold_mode m);

/* Inverse of the above: the enum value, or -EINVAL. */
int policy_action_from_name(const char *name);
int policy_split_from_name(const char *name);
int policy_fold_from_name(const char *name);

/*
 * s as printable strict UTF-8, escaped as the parser's messages are (\xNN
 * for a byte that is not UTF-8, \uXXXX for a control): for a name from
 * outside, such as a file name, in JSON output. Caller frees; NULL on ENOMEM.
 */
char *policy_escape_text(const char *s);

/* The fold section is the defaults (a runtime override that says nothing). */
bool policy_fold_is_default(const struct pkvm_policy *p);

#endif
