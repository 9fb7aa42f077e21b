/* SPDX-License-Identifier: GPL-2.0 */
/* json-c cleanups for the parts that use json-c (policy files, the CLI). */
#ifndef PKVM_COMMON_JSON_UTIL_H
#define PKVM_COMMON_JSON_UTIL_H

#include <json-c/json.h>

#include "macro.h"

DEFINE_TRIVIAL_CLEANUP_FUNC(json_object *, json_object_put);
#define _cleanup_json_ _cleanup_(json_object_putp)
DEFINE_TRIVIAL_CLEANUP_FUNC(json_tokener *, json_tokener_free);
#define _cleanup_json_tokener_ _cleanup_(json_tokener_freep)

#endif /* PKVM_COMMON_JSON_UTIL_H */
