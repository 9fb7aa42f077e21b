/* SPDX-License-Identifier: GPL-2.0 */
/* Internal to the policy parser: the schema walk (policy_schema.c). */
#ifndef PKVMD_POLICY_SCHEMA_H
#define PKVMD_POLICY_SCHEMA_H

#include "policy_errors.h"

/*
 * Fills p (defaulted by the caller) from root, reporting into c every key,
 * type, range or rule that schema version 1 refuses.
 */
void policy_read_schema(struct policy_ctx *c, json_object *root, struct pkvm_policy *p);

#endif /* PKVMD_POLICY_SCHEMA_H */
