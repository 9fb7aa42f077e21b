/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A minimal raw generic-netlink client for the guest test (no libnl): resolve
 * a family and one of its multicast groups, subscribe, run a dump or a doit,
 * and receive multicast messages with a timeout. Attributes are parsed into
 * a flat table by type; nested ones are left to the caller.
 */
#ifndef PKVM_GUEST_GENL_H
#define PKVM_GUEST_GENL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GENL_MAX_ATTR	32

/* One received generic-netlink message, attributes indexed by type. */
struct genl_msg {
	uint8_t cmd;
	uint8_t version;
	const void *attr[GENL_MAX_ATTR + 1];	/* payload, or NULL if absent */
	uint16_t attr_len[GENL_MAX_ATTR + 1];
};

struct genl_sock {
	int fd;
	uint32_t seq;
	uint32_t portid;
};

int genl_open(struct genl_sock *s);
void genl_close(struct genl_sock *s);

/*
 * CTRL_CMD_GETFAMILY for name: *family gets the id, *group the id of the
 * multicast group mcgrp (0 if the family has no such group). Returns 0 or
 * a negative errno (-ENOENT when the family is not registered).
 */
int genl_resolve(struct genl_sock *s, const char *name, const char *mcgrp,
		 uint16_t *family, uint32_t *group);
int genl_subscribe(struct genl_sock *s, uint32_t group);

/*
 * Sends cmd (with NLM_F_DUMP if dump) and calls fn for every reply message
 * until NLMSG_DONE (dump) or the ack (doit). Returns 0, a negative errno from
 * the kernel's NLMSG_ERROR, or -ETIMEDOUT after timeout_ms of silence.
 */
typedef void (*genl_cb)(const struct genl_msg *m, void *arg);
int genl_request(struct genl_sock *s, uint16_t family, uint8_t cmd, bool dump,
		 genl_cb fn, void *arg, int timeout_ms);

/*
 * Receives one datagram (possibly several messages) within timeout_ms and
 * calls fn for each generic-netlink message of family in it. Returns the
 * number of messages passed to fn, 0 on timeout, or a negative errno
 * (-ENOBUFS means the socket overflowed and messages were lost).
 */
int genl_recv(struct genl_sock *s, uint16_t family, genl_cb fn, void *arg,
	      int timeout_ms);

/* Attribute accessors: false when absent or of the wrong size. */
bool genl_u32(const struct genl_msg *m, int type, uint32_t *v);
bool genl_u64(const struct genl_msg *m, int type, uint64_t *v);
bool genl_flag(const struct genl_msg *m, int type);

#endif
