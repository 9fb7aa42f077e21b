/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Names of numbers that cross from one part to another and that people
 * read: the uapi's ownership operations and the SMMU's event numbers.
 */
#ifndef PKVM_COMMON_NAMES_H
#define PKVM_COMMON_NAMES_H

#include <stdint.h>

/*
 * "donate", "reclaim", "share", "unshare" for enum pkvm_iommu_op_code
 * (uapi), as the D-Bus API and the logs spell them; "unknown" otherwise.
 */
const char *pkvm_op_name(uint32_t op);
/* The ledger history's fifth operation (GetHistory): a resync replaced it all. */
#define OP_NAME_RESYNC "resync"

/*
 * The architecture's name of an SMMU event number (IHI 0070 H.a, 7.3
 * Event records), e.g. "F_TRANSLATION" for 0x10; "?" for numbers the
 * driver does not expect.
 */
const char *smmu_event_name(uint32_t type);

#endif /* PKVM_COMMON_NAMES_H */
