/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The names of pkvm-iommud's D-Bus contract, as org.pkvm.Iommu1(5)
 * documents them, spelled once for the daemon that serves them and the CLI
 * that calls and matches them:
 *   bus name org.pkvm.Iommu1
 *   /org/pkvm/Iommu1                 org.pkvm.Iommu1.Manager
 *   /org/pkvm/Iommu1/smmu<N>         org.pkvm.Iommu1.Smmu
 *   /org/pkvm/Iommu1/smmu<N>/stream<SID, decimal>  org.pkvm.Iommu1.Stream
 */
#ifndef PKVM_COMMON_BUS_NAMES_H
#define PKVM_COMMON_BUS_NAMES_H

#define DAEMON_BUS_NAME		"org.pkvm.Iommu1"
#define DAEMON_OBJECT_PATH	"/org/pkvm/Iommu1"
#define DAEMON_IFACE_MANAGER	"org.pkvm.Iommu1.Manager"
#define DAEMON_IFACE_SMMU	"org.pkvm.Iommu1.Smmu"
#define DAEMON_IFACE_STREAM	"org.pkvm.Iommu1.Stream"

/* The right every changing method needs (units/org.pkvm.iommu1.policy). */
#define DAEMON_POLKIT_ACTION	"org.pkvm.iommu1.manage"

/* The run-time policy file, under the StateDirectory property. */
#define DAEMON_STATE_POLICY	"policy.json"

/*
 * The page every page count of the API is in (DonatedPages, SharedPages,
 * OwnerTotals, lost_pages): the ledger's, the 4 KiB granule.
 */
#define BUS_PAGE_SIZE		4096ull

/* The daemon's own errors; the standard ones are sd-bus's SD_BUS_ERROR_*. */
#define BUS_ERROR_INVALID_POLICY	"org.pkvm.Iommu1.Error.InvalidPolicy"
/* ReloadPolicy: the file could not be read at all (not its content's fault). */
#define BUS_ERROR_POLICY_UNREADABLE	"org.pkvm.Iommu1.Error.PolicyUnreadable"
#define BUS_ERROR_NOT_IN_TEST_MODE	"org.pkvm.Iommu1.Error.NotInTestMode"
/* Refusals of Donate/Reclaim/Share/Unshare by the pages' state. */
#define BUS_ERROR_OUT_OF_RANGE		"org.pkvm.Iommu1.Error.OutOfRange"
#define BUS_ERROR_WRONG_OWNER		"org.pkvm.Iommu1.Error.WrongOwner"
#define BUS_ERROR_SHARED		"org.pkvm.Iommu1.Error.Shared"
#define BUS_ERROR_NOT_SHARED		"org.pkvm.Iommu1.Error.NotShared"
/* Too many of the caller's changes already wait for polkit: try again. */
#define BUS_ERROR_BUSY			"org.pkvm.Iommu1.Error.Busy"

#endif /* PKVM_COMMON_BUS_NAMES_H */
