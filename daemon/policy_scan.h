/* SPDX-License-Identifier: GPL-2.0 */
/* Internal to the policy parser: the text to a json-c tree (policy_scan.c). */
#ifndef PKVMD_POLICY_SCAN_H
#define PKVMD_POLICY_SCAN_H

#include "policy_errors.h"

/*
 * len bytes of s (json-c's syntax, then what it accepts but a policy must
 * not) to a tree in *ret the caller puts: 0, with *ret NULL for a document
 * that is only null; -EINVAL with the errors in c, or -ENOMEM (c->nomem).
 */
int policy_parse_syntax(struct policy_ctx *c, const char *s, size_t len, json_object **ret);

#endif /* PKVMD_POLICY_SCAN_H */
