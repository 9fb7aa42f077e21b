/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Netlink messages as kmod/host/genl.c builds them, for the tests and the
 * fuzzer of the daemon's reading (daemon/nl_events.c): a genlmsg_put()
 * header, u64 attributes with the PAD attribute wherever the kernel's
 * nla_put_u64_64bit() inserts one (or never, or always), u32s and the
 * shared flag, in the kernel's attribute order. Every builder can leave
 * out one attribute (skip, 0: none) to make a message the daemon must
 * refuse. Builders return NULL, and putters a negative errno, on failure.
 */
#ifndef PKVM_TESTS_NL_ENCODE_H
#define PKVM_TESTS_NL_ENCODE_H

#include <stdbool.h>
#include <stdint.h>

#include <netlink/msg.h>

#include "backend.h"

/* The family id the messages carry: the parser does not look at it. */
#define NL_ENC_FAMILY 0x20

enum nl_pad {
	NL_PAD_KERNEL,	/* as nla_put_u64_64bit(): only where alignment needs it */
	NL_PAD_NONE,	/* as libnl's nla_put_u64() */
	NL_PAD_ALWAYS,	/* before every u64 */
};

struct nl_msg *nl_enc_new(uint8_t cmd);
int nl_enc_u64(struct nl_msg *m, int attr, uint64_t v, enum nl_pad pad);
int nl_enc_u32(struct nl_msg *m, int attr, uint32_t v);

/* A donate/reclaim/share/unshare event, or any command with those attributes. */
struct nl_msg *nl_enc_range(uint8_t cmd, uint64_t gen, uint64_t addr, uint64_t len,
			    uint32_t owner, enum nl_pad pad, int skip);
/* In the order of pkvm_iommu_genl_fault_event(). */
struct nl_msg *nl_enc_fault(uint64_t gen, uint32_t smmu, uint32_t sid, uint64_t addr,
			    uint32_t type, uint32_t flags, enum nl_pad pad, int skip);
struct nl_msg *nl_enc_policy(uint64_t gen, uint32_t smmu, uint32_t sid, uint32_t policy,
			     enum nl_pad pad, int skip);
/* One run of a ledger dump, as put_run() of genl.c. */
struct nl_msg *nl_enc_run(uint64_t gen, uint64_t addr, uint64_t len, uint32_t owner,
			  bool shared, enum nl_pad pad, int skip);
/* Whichever of the above the module sends for ev. */
struct nl_msg *nl_enc_event(const struct backend_event *ev, enum nl_pad pad);

#endif /* PKVM_TESTS_NL_ENCODE_H */
