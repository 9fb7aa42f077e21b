// SPDX-License-Identifier: GPL-2.0
/*
 * The Manager object of pkvm-iommud, /org/pkvm/Iommu1, interface
 * org.pkvm.Iommu1.Manager: state as properties, counters, metrics, policy,
 * ledger and history in one call each, the changing methods (behind
 * bus_auth.c), and the daemon's signals. Also bus_setup()/bus_teardown()
 * and the core's emit hooks for Manager-level changes. Documented in
 * org.pkvm.Iommu1(5).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "bus.h"
#include "metrics.h"
#include "names.h"

#define HISTORY_MAX (1u << 20)	/* GetHistory never returns more */

_Static_assert(BUS_PAGE_SIZE == LEDGER_PAGE_SIZE, "the API counts the ledger's pages");

static const char *event_name(uint32_t kind)
{
	switch (kind) {
	case BACKEND_EV_FAULT: return "fault";
	case BACKEND_EV_POLICY: return "policy";
	default: return pkvm_op_name(kind);
	}
}

static const char *str_or_empty(const char *s)
{
	return s ? s : "";
}

/* ---- properties ---- */

static int prop_backend(sd_bus *bus, const char *path, const char *iface, const char *prop,
			sd_bus_message *reply, void *userdata, sd_bus_error *error)
{
	struct daemon *d = userdata;

	return sd_bus_message_append(reply, "s", d->backend->ops->name);
}

static int prop_abi_version(sd_bus *bus, const char *path, const char *iface, const char *prop,
			    sd_bus_message *reply, void *userdata, sd_bus_error *error)
{
	struct daemon *d = userdata;
	struct pkvm_iommu_info info = { .size = sizeof(info) };
	int r = d->backend->ops->info(d->backend, &info);

	if (r < 0)
		return bus_map_errno(error, r, "backend info");
	return sd_bus_message_append(reply, "u", info.abi_version);
}

static int prop_version(sd_bus *bus, const char *path, const char *iface, const char *prop,
			sd_bus_message *reply, void *userdata, sd_bus_error *error)
{
	return sd_bus_message_append(reply, "s", PKVM_IOMMU_VERSION);
}

static int prop_generation(sd_bus *bus, const char *path, const char *iface, const char *prop,
			   sd_bus_message *reply, void *userdata, sd_bus_error *error)
{
	struct daemon *d = userdata;

	return sd_bus_message_append(reply, "t", ledger_generation(d->ledger));
}

static int prop_split_policy(sd_bus *bus, const char *path, const char *iface, const char *prop,
			     sd_bus_message *reply, void *userdata, sd_bus_error *error)
{
	struct daemon *d = userdata;

	return sd_bus_message_append(reply, "s", str_or_empty(policy_split_name(d->policy.split.mode)));
}

static int prop_fold_mode(sd_bus *bus, const char *path, const char *iface, const char *prop,
			  sd_bus_message *reply, void *userdata, sd_bus_error *error)
{
	struct daemon *d = userdata;

	return sd_bus_message_append(reply, "s", str_or_empty(policy_fold_name(d->policy.fold.mode)));
}

static int prop_default_action(sd_bus *bus, const char *path, const char *iface, const char *prop,
			       sd_bus_message *reply, void *userdata, sd_bus_error *error)
{
	struct daemon *d = userdata;

	return sd_bus_message_append(reply, "s",
				     str_or_empty(policy_action_name(d->policy.default_action)));
}

static int prop_donated(sd_bus *bus, const char *path, const char *iface, const char *prop,
			sd_bus_message *reply, void *userdata, sd_bus_error *error)
{
	struct daemon *d = userdata;

	return sd_bus_message_append(reply, "t", ledger_donated_pages(d->ledger));
}

static int prop_shared(sd_bus *bus, const char *path, const char *iface, const char *prop,
		       sd_bus_message *reply, void *userdata, sd_bus_error *error)
{
	struct daemon *d = userdata;

	return sd_bus_message_append(reply, "t", ledger_shared_pages(d->ledger));
}

/* ledger_for_each_owner() stops at non-zero: 0 to go on. */
static int append_owner(uint32_t owner, uint64_t pages, void *arg)
{
	int r = sd_bus_message_append(arg, "(ut)", owner, pages);

	return r < 0 ? r : 0;
}

static int prop_ledger_totals(sd_bus *bus, const char *path, const char *iface, const char *prop,
			      sd_bus_message *reply, void *userdata, sd_bus_error *error)
{
	struct daemon *d = userdata;
	int r;

	r = sd_bus_message_open_container(reply, 'a', "(ut)");
	if (r < 0)
		return r;
	r = ledger_for_each_owner(d->ledger, append_owner, reply);
	if (r < 0)
		return r;
	return sd_bus_message_close_container(reply);
}

static int prop_iommufd_status(sd_bus *bus, const char *path, const char *iface, const char *prop,
			       sd_bus_message *reply, void *userdata, sd_bus_error *error)
{
	struct daemon *d = userdata;

	return sd_bus_message_append(reply, "s", d->iommufd_status);
}

/* (cdev, SMMU_IDR0..5, BBML, RIL, stage 2) of every device iommufd described. */
static int prop_iommufd_devices(sd_bus *bus, const char *path, const char *iface,
				const char *prop, sd_bus_message *reply, void *userdata,
				sd_bus_error *error)
{
	struct daemon *d = userdata;
	int r = sd_bus_message_open_container(reply, 'a', "(sauubb)");

	for (size_t i = 0; r >= 0 && i < d->nr_iommufd_devs; i++) {
		const struct daemon_iommufd_dev *v = &d->iommufd_devs[i];

		r = sd_bus_message_open_container(reply, 'r', "sauubb");
		if (r >= 0)
			r = sd_bus_message_append(reply, "s", v->name);
		if (r >= 0)
			r = sd_bus_message_append_array(reply, 'u', v->idr, sizeof(v->idr));
		if (r >= 0)
			r = sd_bus_message_append(reply, "ubb", v->bbml, (int)v->ril, (int)v->stage2);
		if (r >= 0)
			r = sd_bus_message_close_container(reply);
	}
	return r < 0 ? r : sd_bus_message_close_container(reply);
}

static int prop_string_ptr(sd_bus *bus, const char *path, const char *iface, const char *prop,
			   sd_bus_message *reply, void *userdata, sd_bus_error *error)
{
	/* userdata is d + offset of a char * member (SD_BUS_PROPERTY offset) */
	return sd_bus_message_append(reply, "s", str_or_empty(*(char **)userdata));
}

static int prop_test_mode(sd_bus *bus, const char *path, const char *iface, const char *prop,
			  sd_bus_message *reply, void *userdata, sd_bus_error *error)
{
	struct daemon *d = userdata;

	/* "b" is an int on the wire side of sd-bus, not a C bool: no offset. */
	return sd_bus_message_append(reply, "b", (int)d->test_mode);
}

/* ---- reading methods ---- */

/* daemon_for_each_counter() stops at non-zero: 0 to go on. */
static int append_counter(const char *name, uint64_t value, void *arg)
{
	int r = sd_bus_message_append(arg, "{st}", name, value);

	return r < 0 ? r : 0;
}

static int method_get_counters(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	_cleanup_msg_ sd_bus_message *reply = NULL;
	struct daemon *d = userdata;
	int r;

	r = sd_bus_message_new_method_return(m, &reply);
	if (r < 0)
		return r;
	r = sd_bus_message_open_container(reply, 'a', "{st}");
	if (r < 0)
		return r;
	r = daemon_for_each_counter(d, append_counter, reply);
	if (r < 0)
		return bus_map_errno(error, r, "backend counters");
	r = sd_bus_message_close_container(reply);
	if (r < 0)
		return r;
	return sd_bus_send(NULL, reply, NULL);
}

/* The OpenMetrics text the metrics file holds (metrics.h), made now. */
static int method_get_metrics(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	_cleanup_free_ char *text = NULL;
	struct daemon *d = userdata;
	int r = metrics_text(d, &text, NULL);

	if (r < 0)
		return bus_map_errno(error, r, "metrics");
	return sd_bus_reply_method_return(m, "s", text);
}

/*
 * The policy in force: the file with the runtime changes merged over it,
 * in the file's own schema (policy_to_json's canonical form), so
 * "policy check" takes it back.
 */
static int method_get_policy(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	_cleanup_free_ char *json = NULL;
	struct daemon *d = userdata;

	json = policy_to_json(&d->policy);
	if (!json)
		return -ENOMEM;
	return sd_bus_reply_method_return(m, "s", json);
}

/* A method's reply that is one array of 'contents': one() appends item i. */
typedef int (*append_item_fn)(sd_bus_message *reply, size_t i, const void *arg);

static int reply_array(sd_bus_message *m, const char *contents, size_t n,
		       append_item_fn one, const void *arg)
{
	_cleanup_msg_ sd_bus_message *reply = NULL;
	int r = sd_bus_message_new_method_return(m, &reply);

	if (r >= 0)
		r = sd_bus_message_open_container(reply, 'a', contents);
	for (size_t i = 0; r >= 0 && i < n; i++)
		r = one(reply, i, arg);
	if (r >= 0)
		r = sd_bus_message_close_container(reply);
	return r < 0 ? r : sd_bus_send(NULL, reply, NULL);
}

static int append_bucket(sd_bus_message *reply, size_t i, const void *arg)
{
	const uint64_t *latency = arg;
	/* The last bucket takes everything slower. */
	uint64_t upper = i + 1 < DAEMON_LATENCY_BUCKETS ? 1ull << (i + 10) : UINT64_MAX;

	return sd_bus_message_append(reply, "(tt)", upper, latency[i]);
}

static int method_get_latency(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	struct daemon *d = userdata;

	return reply_array(m, "(tt)", DAEMON_LATENCY_BUCKETS, append_bucket, d->ctr.latency);
}

static int append_run(sd_bus_message *reply, size_t i, const void *arg)
{
	const struct ledger_run *run = (const struct ledger_run *)arg + i;

	return sd_bus_message_append(reply, "(ttub)", run->addr, run->len, run->owner,
				     (int)run->shared);
}

static int method_get_ledger(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	_cleanup_free_ struct ledger_run *runs = NULL;
	struct daemon *d = userdata;
	size_t n;

	n = ledger_runs(d->ledger, NULL, 0);
	runs = calloc(n ? n : 1, sizeof(*runs));
	if (!runs)
		return -ENOMEM;
	n = ledger_runs(d->ledger, runs, n);
	return reply_array(m, "(ttub)", n, append_run, runs);
}

/* Is the ledger exactly what the backend holds now? Anyone may ask. */
static int method_check_ledger(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	struct daemon *d = userdata;
	uint64_t runs, gen;
	bool in_sync;
	int r = daemon_check_ledger(d, &in_sync, &runs, &gen);

	if (r < 0)
		return bus_map_errno(error, r, "ledger dump");
	return sd_bus_reply_method_return(m, "btt", in_sync, runs, gen);
}

static int append_record(sd_bus_message *reply, size_t i, const void *arg)
{
	const struct ledger_record *rec = (const struct ledger_record *)arg + i;

	return sd_bus_message_append(reply, "(ttsttu)", rec->usec, rec->generation,
				     ledger_op_name(rec->op), rec->addr, rec->len, rec->owner);
}

static int method_get_history(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	_cleanup_free_ struct ledger_record *rec = NULL;
	struct daemon *d = userdata;
	size_t cap = 0, n;

	/* The ring's size is the ledger's business: grow until it all fits. */
	do {
		if (GROW_ARRAY(rec, cap, cap + 1, LEDGER_HISTORY_DEFAULT) < 0)
			return -ENOMEM;
		n = ledger_history(d->ledger, rec, cap);
	} while (n == cap && cap < HISTORY_MAX);
	return reply_array(m, "(ttsttu)", n, append_record, rec);
}

/* ---- changing methods ---- */

static int method_set_stream_policy(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	struct daemon *d = userdata;
	const char *action;
	uint32_t smmu, sid;
	char what[96];
	int r, a;

	r = sd_bus_message_read(m, "uus", &smmu, &sid, &action);
	if (r < 0)
		return r;
	r = bus_check_manage(d, m, error);
	if (r <= 0)
		return r < 0 ? r : 1;
	if (smmu >= d->nr_smmus)
		return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS,
					 "smmu %" PRIu32 ": no such SMMU (there are %" PRIu32 ")",
					 smmu, d->nr_smmus);
	a = policy_action_from_name(action);
	if (a < 0)
		return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS,
					 "action \"%s\": expected \"isolate\" or \"block\"", action);
	r = daemon_set_stream_policy(d, smmu, sid, (uint32_t)a);
	if (r < 0) {
		snprintf(what, sizeof(what), "sid %" PRIu32 " of smmu %" PRIu32
			 ": outside the stream table", sid, smmu);
		/* The hyp core says -ERANGE for a StreamID the SMMU cannot hold. */
		if (r == -ERANGE)
			return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "%s", what);
		return bus_map_errno(error, r, r == -EINVAL ? what : "set stream policy");
	}
	return sd_bus_reply_method_return(m, NULL);
}

static int method_set_split_policy(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	struct daemon *d = userdata;
	const char *mode;
	uint32_t level;
	int r, s;

	r = sd_bus_message_read(m, "su", &mode, &level);
	if (r < 0)
		return r;
	r = bus_check_manage(d, m, error);
	if (r <= 0)
		return r < 0 ? r : 1;
	s = policy_split_from_name(mode);
	if (s < 0)
		return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS,
					 "mode \"%s\": expected \"auto\", \"hitless\", \"bbm\" or \"presplit\"",
					 mode);
	r = daemon_set_split_policy(d, (uint32_t)s, level);
	if (r < 0)
		return bus_map_errno(error, r, r == -EINVAL ?
				     "level: \"presplit\" takes 1..3, other modes take 0" :
				     "set split policy");
	return sd_bus_reply_method_return(m, NULL);
}

static int method_set_fold_policy(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	struct daemon *d = userdata;
	const char *mode;
	uint32_t budget, idle_ms;
	int r, f;

	r = sd_bus_message_read(m, "suu", &mode, &budget, &idle_ms);
	if (r < 0)
		return r;
	r = bus_check_manage(d, m, error);
	if (r <= 0)
		return r < 0 ? r : 1;
	f = policy_fold_from_name(mode);
	if (f < 0)
		return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS,
					 "mode \"%s\": expected \"eager\" or \"lazy\"", mode);
	if (!budget || budget > PKVM_IOMMU_COMPACT_MAX)
		return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS,
					 "compact_budget %" PRIu32 ": expected 1..%u", budget,
					 PKVM_IOMMU_COMPACT_MAX);
	if (idle_ms > PKVM_IOMMU_FOLD_IDLE_MAX_MS)
		return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS,
					 "idle_ms %" PRIu32 ": expected 0..%u", idle_ms,
					 PKVM_IOMMU_FOLD_IDLE_MAX_MS);
	r = daemon_set_fold_policy(d, (uint32_t)f, budget, idle_ms);
	if (r < 0)
		return bus_map_errno(error, r, "set fold policy");
	return sd_bus_reply_method_return(m, NULL);
}

static int method_reload_policy(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	_cleanup_free_ char *msg = NULL;
	_cleanup_free_ struct policy_errors *errs = NULL;
	struct daemon *d = userdata;
	size_t len = 0;
	FILE *f;
	int r;

	r = bus_check_manage(d, m, error);
	if (r <= 0)
		return r < 0 ? r : 1;
	errs = calloc(1, sizeof(*errs));
	if (!errs)
		return -ENOMEM;
	r = daemon_reload_policy(d, errs);
	if (r >= 0)
		return sd_bus_reply_method_return(m, NULL);

	f = open_memstream(&msg, &len);
	if (!f)
		return -ENOMEM;
	/* A file that could not be read is named by its message already. */
	if (!errs->file_named || !errs->n)
		fprintf(f, "%s: ", str_or_empty(d->policy_path));
	for (size_t i = 0; i < errs->n; i++)
		fprintf(f, "%s%s", i ? "; " : "", errs->msg[i]);
	if (errs->dropped)
		fprintf(f, "; and %zu more", errs->dropped);
	if (!errs->n)
		fprintf(f, "%s", strerror(-r));
	fprintf(f, " (the previous policy stays in force)");
	if (fclose(f))
		return -ENOMEM;
	/* Too large is the content's fault, as pkvm-iommuctl policy check has it. */
	return sd_bus_error_set(error, errs->file_named && r != -EFBIG ?
				BUS_ERROR_POLICY_UNREADABLE : BUS_ERROR_INVALID_POLICY, msg);
}

/* ---- refusals of the ownership changes, named (org.pkvm.Iommu1(5), ERRORS) ---- */

/* "the host's", "the hypervisor's", "owner 3's": whose a page is. */
static const char *whose(uint32_t owner, char *buf, size_t len)
{
	if (owner == PKVM_OWNER_HOST)
		return "the host's";
	if (owner == PKVM_OWNER_HYP)
		return "the hypervisor's";
	snprintf(buf, len, "owner %" PRIu32 "'s", owner);
	return buf;
}

/* The first page of a range whose state refuses op, as the ledger has it. */
struct conflict {
	enum pkvm_iommu_op_code op;
	uint32_t owner;		/* what a reclaim names */
	uint64_t cursor, end;	/* pages before cursor are fine */
	const char *name;	/* the D-Bus error; NULL: none found */
	uint64_t page;
	uint32_t page_owner;
	bool page_shared;
};

/* Would the page (owner o, shared) refuse the change? Sets c->name if so. */
static bool conflict_at(struct conflict *c, uint64_t page, uint32_t o, bool shared)
{
	const char *name = NULL;

	switch (c->op) {
	case PKVM_IOMMU_OP_RECLAIM:
		if (o != c->owner)
			name = BUS_ERROR_WRONG_OWNER;
		break;
	case PKVM_IOMMU_OP_UNSHARE:
		name = o != PKVM_OWNER_HOST ? BUS_ERROR_WRONG_OWNER : !shared ? BUS_ERROR_NOT_SHARED : NULL;
		break;
	default:	/* donate, share: plain host pages only */
		name = o != PKVM_OWNER_HOST ? BUS_ERROR_WRONG_OWNER : shared ? BUS_ERROR_SHARED : NULL;
		break;
	}
	if (!name)
		return false;
	c->name = name;
	c->page = page;
	c->page_owner = o;
	c->page_shared = shared;
	return true;
}

/* ledger_for_each(): runs in address order; the gaps are plain host pages. */
static int conflict_run(const struct ledger_run *run, void *arg)
{
	struct conflict *c = arg;

	if (run->addr + run->len <= c->cursor)
		return 0;
	if (run->addr >= c->end)
		return 1;
	if (run->addr > c->cursor && conflict_at(c, c->cursor, PKVM_OWNER_HOST, false))
		return 1;
	if (conflict_at(c, run->addr > c->cursor ? run->addr : c->cursor, run->owner, run->shared))
		return 1;
	c->cursor = run->addr + run->len;
	return c->cursor >= c->end;
}

static int refuse_conflict(sd_bus_error *error, const struct conflict *c, const char *range)
{
	char a[32], b[32];

	if (!strcmp(c->name, BUS_ERROR_WRONG_OWNER))
		return sd_bus_error_setf(error, c->name, "%s: page 0x%" PRIx64 " is %s, not %s",
					 range, c->page, whose(c->page_owner, a, sizeof(a)),
					 whose(c->op == PKVM_IOMMU_OP_RECLAIM ? c->owner :
					       PKVM_OWNER_HOST, b, sizeof(b)));
	if (!strcmp(c->name, BUS_ERROR_NOT_SHARED))
		return sd_bus_error_setf(error, c->name, "%s: page 0x%" PRIx64 " is not shared",
					 range, c->page);
	return sd_bus_error_setf(error, c->name, "%s: page 0x%" PRIx64 " is %s", range, c->page,
				 c->op == PKVM_IOMMU_OP_SHARE ? "already shared" :
				 "shared: unshare it first");
}

/* -EINVAL: which argument the hyp core's checks refused. */
static int refuse_argument(sd_bus_error *error, const char *range, bool has_owner,
			   uint64_t addr, uint64_t len, uint32_t owner)
{
	if (has_owner && (owner == PKVM_OWNER_HOST || owner > PKVM_OWNER_MAX))
		return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS,
					 "owner %" PRIu32 ": no such owner (1 the hypervisor, "
					 "2..%u guests)", owner, PKVM_OWNER_MAX);
	if (!len)
		return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "len 0: an empty range");
	if (addr % BUS_PAGE_SIZE)
		return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS,
					 "addr 0x%" PRIx64 ": not page aligned (%llu bytes)", addr,
					 BUS_PAGE_SIZE);
	if (len % BUS_PAGE_SIZE)
		return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS,
					 "len 0x%" PRIx64 ": not a whole number of pages (%llu bytes)",
					 len, BUS_PAGE_SIZE);
	if (addr + len < addr)
		return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS,
					 "addr 0x%" PRIx64 " + len 0x%" PRIx64 ": past 2^64", addr, len);
	return bus_map_errno(error, -EINVAL, range);
}

/* -ERANGE: past the shadow's input addresses, or a hole between memory regions. */
static int refuse_range(struct daemon *d, sd_bus_error *error, uint64_t addr, uint64_t len)
{
	struct pkvm_iommu_info info = { .size = sizeof(info) };
	uint64_t top;

	if (d->backend->ops->info(d->backend, &info) == 0 && info.ias && info.ias < 64) {
		top = 1ull << info.ias;
		if (addr + len > top)
			return sd_bus_error_setf(error, BUS_ERROR_OUT_OF_RANGE,
						 "addr 0x%" PRIx64 "+0x%" PRIx64 ": beyond the end of "
						 "the shadow's addresses 0x%" PRIx64, addr, len, top);
	}
	return sd_bus_error_setf(error, BUS_ERROR_OUT_OF_RANGE,
				 "addr 0x%" PRIx64 "+0x%" PRIx64 ": not all memory (the range "
				 "meets a hole in the memory map)", addr, len);
}

/*
 * A refused change, with the name org.pkvm.Iommu1(5) gives it. The hyp
 * core refuses a bad argument with -EINVAL, a range that is not memory with
 * -ERANGE, and a page in the wrong state with -EPERM, -EEXIST, -EALREADY,
 * -EBUSY or -ENOENT (check_leaf() in kmod/hyp/s2_pgtable.c); the ledger says
 * which page and whose. An -EPERM the ledger does not explain is pKVM
 * refusing the host's own changes: AccessDenied, as documented.
 */
static int refuse_range_change(struct daemon *d, sd_bus_error *error, int r,
			       enum pkvm_iommu_op_code op, bool has_owner,
			       uint64_t addr, uint64_t len, uint32_t owner)
{
	struct conflict c = { .op = op, .owner = owner, .cursor = addr, .end = addr + len };
	char range[96];

	snprintf(range, sizeof(range), "%s of 0x%" PRIx64 "+0x%" PRIx64, ledger_op_name(op),
		 addr, len);
	switch (r) {
	case -EINVAL:
		return refuse_argument(error, range, has_owner, addr, len, owner);
	case -ERANGE:
		return refuse_range(d, error, addr, len);
	case -EPERM:
	case -EEXIST:
	case -EALREADY:
	case -EBUSY:
	case -ENOENT:
		ledger_for_each(d->ledger, conflict_run, &c);
		if (!c.name && c.cursor < c.end)
			conflict_at(&c, c.cursor, PKVM_OWNER_HOST, false);
		if (c.name)
			return refuse_conflict(error, &c, range);
		break;
	}
	return bus_map_errno(error, r, range);
}

static int do_range(sd_bus_message *m, struct daemon *d, sd_bus_error *error,
		    enum pkvm_iommu_op_code op, bool has_owner)
{
	uint64_t addr, len;
	uint32_t owner = 0;
	int r;

	r = has_owner ? sd_bus_message_read(m, "ttu", &addr, &len, &owner) :
			sd_bus_message_read(m, "tt", &addr, &len);
	if (r < 0)
		return r;
	r = bus_check_manage(d, m, error);
	if (r <= 0)
		return r < 0 ? r : 1;
	if (!d->test_mode)
		return sd_bus_error_set(error, BUS_ERROR_NOT_IN_TEST_MODE,
					"ownership changes over D-Bus need the daemon in test mode "
					"(pkvm-iommud --test-mode, or the sim backend)");
	r = daemon_range(d, op, addr, len, owner);
	if (r < 0)
		return refuse_range_change(d, error, r, op, has_owner, addr, len, owner);
	/* Take the events now, so the signals come before the reply. */
	r = daemon_ingest(d);
	if (r < 0)
		syslog(LOG_WARNING, "ingest after %s: %s", ledger_op_name(op), strerror(-r));
	return sd_bus_reply_method_return(m, NULL);
}

static int method_donate(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	return do_range(m, userdata, error, PKVM_IOMMU_OP_DONATE, true);
}

static int method_reclaim(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	return do_range(m, userdata, error, PKVM_IOMMU_OP_RECLAIM, true);
}

static int method_share(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	return do_range(m, userdata, error, PKVM_IOMMU_OP_SHARE, false);
}

static int method_unshare(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	return do_range(m, userdata, error, PKVM_IOMMU_OP_UNSHARE, false);
}

#define CONST SD_BUS_VTABLE_PROPERTY_CONST
#define CHANGE SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE

/*
 * Every method is SD_BUS_VTABLE_UNPRIVILEGED: sd-bus would otherwise refuse
 * callers without CAP_SYS_ADMIN itself. Reads are for anyone; the changing
 * methods ask bus_check_manage() (uid 0 or polkit).
 */
static const sd_bus_vtable manager_vtable[] = {
	SD_BUS_VTABLE_START(0),
	SD_BUS_PROPERTY("Backend", "s", prop_backend, 0, CONST),
	SD_BUS_PROPERTY("AbiVersion", "u", prop_abi_version, 0, CONST),
	SD_BUS_PROPERTY("Version", "s", prop_version, 0, CONST),
	SD_BUS_PROPERTY("SmmuCount", "u", NULL, offsetof(struct daemon, nr_smmus), CONST),
	SD_BUS_PROPERTY("Generation", "t", prop_generation, 0, CHANGE),
	SD_BUS_PROPERTY("SplitPolicy", "s", prop_split_policy, 0, CHANGE),
	SD_BUS_PROPERTY("PresplitLevel", "u", NULL, offsetof(struct daemon, policy.split.level), CHANGE),
	SD_BUS_PROPERTY("InvalidationBatchMaxOps", "u", NULL,
			offsetof(struct daemon, policy.invalidation.batch_max_ops), CHANGE),
	SD_BUS_PROPERTY("InvalidationBatchWindowUsec", "u", NULL,
			offsetof(struct daemon, policy.invalidation.batch_window_us), CHANGE),
	SD_BUS_PROPERTY("FoldMode", "s", prop_fold_mode, 0, CHANGE),
	SD_BUS_PROPERTY("CompactBudget", "u", NULL,
			offsetof(struct daemon, policy.fold.compact_budget), CHANGE),
	SD_BUS_PROPERTY("CompactIdleMsec", "u", NULL,
			offsetof(struct daemon, policy.fold.idle_ms), CHANGE),
	SD_BUS_PROPERTY("DefaultStreamAction", "s", prop_default_action, 0, CHANGE),
	SD_BUS_PROPERTY("DonatedPages", "t", prop_donated, 0, CHANGE),
	SD_BUS_PROPERTY("SharedPages", "t", prop_shared, 0, CHANGE),
	SD_BUS_PROPERTY("LedgerTotals", "a(ut)", prop_ledger_totals, 0, CHANGE),
	SD_BUS_PROPERTY("IommufdStatus", "s", prop_iommufd_status, 0, 0),
	SD_BUS_PROPERTY("IommufdDevices", "a(sauubb)", prop_iommufd_devices, 0, 0),
	SD_BUS_PROPERTY("PolicyPath", "s", prop_string_ptr, offsetof(struct daemon, policy_path), CONST),
	SD_BUS_PROPERTY("StateDirectory", "s", prop_string_ptr, offsetof(struct daemon, state_dir), CONST),
	SD_BUS_PROPERTY("TestMode", "b", prop_test_mode, 0, CONST),

	SD_BUS_METHOD_WITH_ARGS("GetCounters", SD_BUS_NO_ARGS,
				SD_BUS_RESULT("a{st}", counters), method_get_counters,
				SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD_WITH_ARGS("GetLatencyHistogram", SD_BUS_NO_ARGS,
				SD_BUS_RESULT("a(tt)", buckets), method_get_latency,
				SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD_WITH_ARGS("GetMetrics", SD_BUS_NO_ARGS,
				SD_BUS_RESULT("s", text), method_get_metrics,
				SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD_WITH_ARGS("GetPolicy", SD_BUS_NO_ARGS,
				SD_BUS_RESULT("s", json), method_get_policy,
				SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD_WITH_ARGS("GetLedger", SD_BUS_NO_ARGS,
				SD_BUS_RESULT("a(ttub)", runs), method_get_ledger,
				SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD_WITH_ARGS("CheckLedger", SD_BUS_NO_ARGS,
				SD_BUS_RESULT("b", in_sync, "t", runs, "t", generation),
				method_check_ledger, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD_WITH_ARGS("GetHistory", SD_BUS_NO_ARGS,
				SD_BUS_RESULT("a(ttsttu)", records), method_get_history,
				SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD_WITH_ARGS("SetStreamPolicy",
				SD_BUS_ARGS("u", smmu, "u", sid, "s", action), SD_BUS_NO_RESULT,
				method_set_stream_policy, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD_WITH_ARGS("SetSplitPolicy", SD_BUS_ARGS("s", mode, "u", level),
				SD_BUS_NO_RESULT, method_set_split_policy,
				SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD_WITH_ARGS("SetFoldPolicy",
				SD_BUS_ARGS("s", mode, "u", compact_budget, "u", idle_ms),
				SD_BUS_NO_RESULT, method_set_fold_policy,
				SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD("ReloadPolicy", NULL, NULL, method_reload_policy,
		      SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD_WITH_ARGS("Donate", SD_BUS_ARGS("t", addr, "t", len, "u", owner),
				SD_BUS_NO_RESULT, method_donate, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD_WITH_ARGS("Reclaim", SD_BUS_ARGS("t", addr, "t", len, "u", owner),
				SD_BUS_NO_RESULT, method_reclaim, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD_WITH_ARGS("Share", SD_BUS_ARGS("t", addr, "t", len),
				SD_BUS_NO_RESULT, method_share, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD_WITH_ARGS("Unshare", SD_BUS_ARGS("t", addr, "t", len),
				SD_BUS_NO_RESULT, method_unshare, SD_BUS_VTABLE_UNPRIVILEGED),

	SD_BUS_SIGNAL_WITH_ARGS("DonationEvents", SD_BUS_ARGS("a(sttut)", events), 0),
	SD_BUS_SIGNAL_WITH_ARGS("Fault", SD_BUS_ARGS("u", smmu, "u", sid, "t", addr,
						     "u", type, "u", flags), 0),
	SD_BUS_SIGNAL_WITH_ARGS("StreamQuarantined", SD_BUS_ARGS("u", smmu, "u", sid,
								 "t", faults), 0),
	SD_BUS_SIGNAL_WITH_ARGS("Resynced", SD_BUS_ARGS("t", generation, "t", lost_pages), 0),
	SD_BUS_VTABLE_END,
};

/*
 * sd-bus does not mix plain and fallback vtables on one node, and the SMMU
 * and stream vtables are fallbacks at this path: so is the Manager, found
 * only at the path itself.
 */
static int manager_find(sd_bus *bus, const char *path, const char *iface, void *userdata,
			void **found, sd_bus_error *error)
{
	if (strcmp(path, DAEMON_OBJECT_PATH))
		return 0;
	*found = userdata;
	return 1;
}

int bus_manager_add(struct daemon *d)
{
	struct bus_state *st = d->bus_state;

	return sd_bus_add_fallback_vtable(d->bus, &st->manager_slot, DAEMON_OBJECT_PATH,
					  DAEMON_IFACE_MANAGER, manager_vtable, manager_find, d);
}

/* ---- setup ---- */

/* RequestName's answers (D-Bus specification, "org.freedesktop.DBus.RequestName"). */
#define NAME_PRIMARY_OWNER	1u
#define NAME_ALREADY_OWNER	4u

/*
 * pkvm-iommud owns the name before it opens its backend (pkvm-iommud.c);
 * this asks again for a caller of bus_setup() that did not. "Exists" and
 * "in queue" are normal replies, not errors: without the name the daemon
 * serves nobody, so either ends the loop like an error.
 */
static int on_name(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
	struct daemon *d = userdata;
	const sd_bus_error *e = sd_bus_message_get_error(m);
	uint32_t code = 0;
	int r = -EEXIST;

	if (e) {
		syslog(LOG_ERR, "cannot own %s: %s", DAEMON_BUS_NAME,
		       e->message ? e->message : e->name);
		r = -sd_bus_message_get_errno(m);
	} else if (sd_bus_message_read(m, "u", &code) >= 0 &&
		   (code == NAME_PRIMARY_OWNER || code == NAME_ALREADY_OWNER)) {
		return 0;
	} else {
		syslog(LOG_ERR, "cannot own %s: another connection owns it (RequestName: %" PRIu32 ")",
		       DAEMON_BUS_NAME, code);
	}
	if (d->event)
		sd_event_exit(d->event, r < 0 ? r : -EEXIST);
	return 0;
}

/*
 * sd-bus's own signal when the connection is lost (the dbus-daemon ended
 * or dropped us): the daemon is unreachable and, left running, would only
 * fail every emit. Say so once and end the loop with an error, so that
 * the unit's Restart=on-failure starts it again on a new bus.
 */
static int on_disconnected(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
	struct daemon *d = userdata;

	syslog(LOG_ERR, "lost the D-Bus connection (the bus went away): exiting");
	if (d->event)
		sd_event_exit(d->event, -ECONNRESET);
	return 0;
}

void bus_teardown(struct daemon *d)
{
	struct bus_state *st = d ? d->bus_state : NULL;

	if (!st)
		return;
	d->bus_state = NULL;
	bus_auth_free();
	sd_bus_slot_unref(st->name_slot);
	sd_bus_slot_unref(st->disconnect_slot);
	sd_bus_slot_unref(st->stream_enum_slot);
	sd_bus_slot_unref(st->stream_slot);
	sd_bus_slot_unref(st->smmu_enum_slot);
	sd_bus_slot_unref(st->smmu_slot);
	sd_bus_slot_unref(st->object_manager_slot);
	sd_bus_slot_unref(st->manager_slot);
	free(st->known);
	free(st);
}

int bus_setup(struct daemon *d)
{
	struct bus_state *st;
	int r;

	if (!d->bus)
		return -EINVAL;
	if (d->bus_state)
		return -EALREADY;
	st = calloc(1, sizeof(*st));
	if (!st)
		return -ENOMEM;
	d->bus_state = st;
	if (d->event && !sd_bus_get_event(d->bus)) {
		r = sd_bus_attach_event(d->bus, d->event, SD_EVENT_PRIORITY_NORMAL);
		if (r < 0)
			goto fail;
	}
	r = bus_manager_add(d);
	if (r < 0)
		goto fail;
	r = sd_bus_add_object_manager(d->bus, &st->object_manager_slot, DAEMON_OBJECT_PATH);
	if (r < 0)
		goto fail;
	r = bus_smmu_add(d);
	if (r < 0)
		goto fail;
	r = bus_stream_add(d);
	if (r < 0)
		goto fail;
	/* A match on the local pseudo-sender: sd-bus never asks the bus for it. */
	r = sd_bus_match_signal(d->bus, &st->disconnect_slot, "org.freedesktop.DBus.Local",
				"/org/freedesktop/DBus/Local", "org.freedesktop.DBus.Local",
				"Disconnected", on_disconnected, d);
	if (r < 0)
		goto fail;
	r = sd_bus_request_name_async(d->bus, &st->name_slot, DAEMON_BUS_NAME, 0, on_name, d);
	if (r < 0)
		goto fail;
	return 0;
fail:
	syslog(LOG_ERR, "D-Bus objects: %s", strerror(-r));
	bus_teardown(d);
	return r;
}

/* ---- hooks of the core ---- */

void bus_emit_changed(struct daemon *d, const char *const *properties)
{
	if (!bus_ready(d) || !properties || !properties[0])
		return;
	sd_bus_emit_properties_changed_strv(d->bus, DAEMON_OBJECT_PATH, DAEMON_IFACE_MANAGER,
					    (char **)properties);
}

void bus_emit_donations(struct daemon *d, const struct backend_event *ev, size_t n)
{
	_cleanup_msg_ sd_bus_message *m = NULL;
	int r;

	if (!bus_ready(d) || !n)
		return;
	r = sd_bus_message_new_signal(d->bus, &m, DAEMON_OBJECT_PATH, DAEMON_IFACE_MANAGER,
				      "DonationEvents");
	if (r >= 0)
		r = sd_bus_message_open_container(m, 'a', "(sttut)");
	for (size_t i = 0; r >= 0 && i < n; i++)
		r = sd_bus_message_append(m, "(sttut)", event_name(ev[i].kind), ev[i].addr,
					  ev[i].len, ev[i].owner, ev[i].generation);
	if (r >= 0)
		r = sd_bus_message_close_container(m);
	if (r >= 0)
		r = sd_bus_send(d->bus, m, NULL);
	/* A send that finds the connection gone: on_disconnected() tells it. */
	if (r < 0 && sd_bus_is_open(d->bus) > 0)
		syslog(LOG_WARNING, "DonationEvents signal: %s", strerror(-r));
}

void bus_emit_fault(struct daemon *d, const struct backend_event *ev)
{
	if (!bus_ready(d) || !ev)
		return;
	sd_bus_emit_signal(d->bus, DAEMON_OBJECT_PATH, DAEMON_IFACE_MANAGER, "Fault", "uutuu",
			   ev->smmu, ev->sid, ev->addr, ev->fault_type, ev->fault_flags);
}

void bus_emit_quarantine(struct daemon *d, const struct stream_state *s)
{
	if (!bus_ready(d) || !s)
		return;
	sd_bus_emit_signal(d->bus, DAEMON_OBJECT_PATH, DAEMON_IFACE_MANAGER,
			   "StreamQuarantined", "uut", s->smmu, s->sid, s->faults);
}

void bus_emit_resync(struct daemon *d, uint64_t generation, uint64_t lost_pages)
{
	if (!bus_ready(d))
		return;
	sd_bus_emit_signal(d->bus, DAEMON_OBJECT_PATH, DAEMON_IFACE_MANAGER, "Resynced", "tt",
			   generation, lost_pages);
}
