// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * criu check. Every answer comes from kerndat (one probe run); this file
 * only decides which feature belongs to which category and words the
 * result as CRIU does:
 *
 *   1. required: criu cannot dump or restore without it. Any missing one
 *      is named and the run ends in "Does not look good." (exit 1).
 *   2. extra (--extra, --all): needed for some trees or options only.
 *   3. experimental (--experimental, --all).
 *
 * A missing feature of category 2 or 3 gives "Looks good but some kernel
 * features are missing ..." (exit 1); nothing missing gives "Looks good."
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define LOG_PREFIX "check: "
#include <criu/log.h>

#include "actions.h"
#include "check/check.h"
#include "check/kerndat.h"
#include "options/options.h"

#define CHECK_GOOD "Looks good."
#define CHECK_BAD "Does not look good."
#define CHECK_MAYBE                                          \
	"Looks good but some kernel features are missing\n"  \
	"which, depending on your process tree, may cause\n" \
	"dump or restore failure."

enum check_cat {
	CAT_NONE = 0, /* only with --feature */
	CAT_REQUIRED,
	CAT_EXTRA,
	CAT_EXPERIMENTAL,
};

/*
 * A check returns NULL when the feature is there, else why it is not.
 * *NOTE may be set to a detail worth printing either way.
 */
typedef const char *(*check_fn)(const struct kerndat *kd, const char **note);

struct check_feature {
	const char *name;
	enum check_cat cat;
	bool listed;  /* one of CRIU's --feature names */
	size_t field; /* offset of a bool in struct kerndat, when FN is NULL */
	const char *missing;
	check_fn fn;
};

#define FLAG(f) offsetof(struct kerndat, f)
#define NOFLAG ((size_t)-1)

static const char *chk_dirty_track(const struct kerndat *kd, const char **note)
{
	const char *how;

	if (!kerndat_has_dirty_tracking(kd, &how))
		return "neither soft-dirty (CONFIG_MEM_SOFT_DIRTY) nor uffd-wp async with PAGEMAP_SCAN";
	*note = kd->soft_dirty ? "mem_dirty_track: using soft-dirty" :
				 "mem_dirty_track: using uffd-wp async with PAGEMAP_SCAN "
				 "(soft-dirty is not available)";
	return NULL;
}

static const char *chk_uffd_noncoop(const struct kerndat *kd, const char **note)
{
	(void)note;
	if (!kd->uffd)
		return "userfaultfd is not supported";
	return kd->uffd_noncoop ? NULL : "userfaultfd lacks the fork/remap/remove/unmap events";
}

static const char *chk_pidfd_store(const struct kerndat *kd, const char **note)
{
	(void)note;
	if (!kd->pidfd_open)
		return "pidfd_open() is not supported";
	return kd->pidfd_getfd ? NULL : "pidfd_getfd() is not supported";
}

static const char *chk_external_net_ns(const struct kerndat *kd, const char **note)
{
	/* Not a kernel feature: it says this criu knows --external net[]. */
	(void)kd;
	(void)note;
	return NULL;
}

static const char *chk_nftables(const struct kerndat *kd, const char **note)
{
	(void)kd;
	(void)note;
	return "this criu is built without libnftables: nftables rulesets are not saved";
}

/* Is there an executable NAME in $PATH? */
static bool chk_in_path(const char *name)
{
	const char *path = getenv("PATH");
	char buf[4096];

	if (!path)
		path = "/usr/sbin:/usr/bin:/sbin:/bin";
	while (*path) {
		size_t n = strcspn(path, ":");

		if (n && n + strlen(name) + 2 < sizeof(buf)) {
			memcpy(buf, path, n);
			buf[n] = '/';
			strcpy(buf + n + 1, name);
			if (access(buf, X_OK) == 0)
				return true;
		}
		path += n;
		if (*path)
			path++;
	}
	return false;
}

static const char *chk_ipt_legacy(const struct kerndat *kd, const char **note)
{
	(void)kd;
	(void)note;
	if (!chk_in_path("iptables-legacy-restore") && !chk_in_path("iptables-legacy"))
		return "no iptables-legacy in $PATH";
	if (!chk_in_path("ip6tables-legacy-restore") && !chk_in_path("ip6tables-legacy"))
		return "no ip6tables-legacy in $PATH";
	return NULL;
}

static const char *chk_nft_lock(const struct kerndat *kd, const char **note)
{
	(void)note;
	if (!kd->nftables_kernel)
		return "the kernel does not answer nf_tables requests";
	return chk_in_path("nft") ? NULL : "no nft tool in $PATH";
}

static const char *chk_vdso(const struct kerndat *kd, const char **note)
{
	(void)note;
	return kd->vdso.vdso_start ? NULL : "no [vdso] in /proc/self/maps";
}

static const char *chk_compat(const struct kerndat *kd, const char **note)
{
	(void)note;
	return kd->arch_map_vdso_32 ? NULL : "the kernel cannot map a 32-bit vDSO (no IA32 emulation)";
}

/*
 * The first 45 rows are CRIU's --feature names in CRIU's order; the rows
 * after them are features of ours that `criu check` runs but that have no
 * CRIU name.
 */
static const struct check_feature check_features[] = {
	{ "mnt_id", CAT_REQUIRED, true, FLAG(fdinfo_mnt_id), "no mnt_id in /proc/PID/fdinfo", NULL },
	{ "mem_dirty_track", CAT_EXTRA, true, NOFLAG, NULL, chk_dirty_track },
	{ "aio_remap", CAT_EXTRA, true, FLAG(aio_remap), "an AIO ring does not survive mremap", NULL },
	{ "timerfd", CAT_EXTRA, true, FLAG(timerfd_set_ticks), "TFD_IOC_SET_TICKS is not supported", NULL },
	{ "tun", CAT_NONE, true, FLAG(tun), "tun devices cannot be checkpointed (no /dev/net/tun or TUNSETIFINDEX)",
	  NULL },
	{ "tun_ns", CAT_NONE, true, FLAG(tun_ns), "TUNGETDEVNETNS is not supported", NULL },
	{ "userns", CAT_EXTRA, true, FLAG(userns), "no user namespaces or PR_SET_MM_MAP_SIZE", NULL },
	{ "fdinfo_lock", CAT_EXTRA, true, FLAG(fdinfo_lock), "no lock: lines in /proc/PID/fdinfo", NULL },
	{ "seccomp_suspend", CAT_EXTRA, true, FLAG(ptrace_suspend_seccomp), "PTRACE_O_SUSPEND_SECCOMP is not supported",
	  NULL },
	{ "seccomp_filters", CAT_EXTRA, true, FLAG(ptrace_seccomp_filter), "PTRACE_SECCOMP_GET_FILTER is not supported",
	  NULL },
	{ "loginuid", CAT_EXTRA, true, FLAG(loginuid), "loginuid cannot be restored", NULL },
	{ "cgroupns", CAT_EXTRA, true, FLAG(cgroupns), "cgroup namespaces are not supported", NULL },
	{ "autofs", CAT_EXPERIMENTAL, true, FLAG(autofs), "/dev/autofs does not answer", NULL },
	{ "tcp_half_closed", CAT_EXTRA, true, FLAG(tcp_half_closed), "TCP_REPAIR on a half-closed socket is refused",
	  NULL },
	{ "compat_cr", CAT_EXPERIMENTAL, true, NOFLAG, NULL, chk_compat },
	{ "uffd", CAT_EXTRA, true, FLAG(uffd), "userfaultfd is not supported", NULL },
	{ "uffd-noncoop", CAT_EXTRA, true, NOFLAG, NULL, chk_uffd_noncoop },
	{ "can_map_vdso", CAT_EXTRA, true, FLAG(arch_map_vdso),
	  "ARCH_MAP_VDSO_64 is not supported; restore will mremap() the vDSO", NULL },
	{ "sk_ns", CAT_EXTRA, true, FLAG(sk_ns), "SIOCGSKNS is not supported", NULL },
	{ "sk_unix_file", CAT_NONE, true, FLAG(sk_unix_file), "SIOCUNIXFILE is not supported", NULL },
	{ "net_diag_raw", CAT_EXTRA, true, FLAG(net_diag_raw),
	  "sock_diag cannot list raw sockets (CONFIG_INET_RAW_DIAG)", NULL },
	{ "nsid", CAT_NONE, true, FLAG(nsid), "RTM_GETNSID is not supported", NULL },
	{ "link_nsid", CAT_NONE, true, FLAG(link_nsid), "links do not report IFLA_LINK_NETNSID", NULL },
	{ "kcmp_epoll", CAT_EXTRA, true, FLAG(kcmp_epoll_tfd), "kcmp(KCMP_EPOLL_TFD) is not supported", NULL },
	{ "timens", CAT_EXTRA, true, FLAG(timens), "time namespaces are not supported", NULL },
	{ "external_net_ns", CAT_NONE, true, NOFLAG, NULL, chk_external_net_ns },
	{ "clone3_set_tid", CAT_REQUIRED, true, FLAG(clone3_set_tid), "clone3() with set_tid is not supported", NULL },
	{ "newifindex", CAT_EXTRA, true, FLAG(newifindex), "IFLA_NEW_IFINDEX is not supported", NULL },
	{ "nftables", CAT_NONE, true, NOFLAG, NULL, chk_nftables },
	{ "has_ipt_legacy", CAT_NONE, true, NOFLAG, NULL, chk_ipt_legacy },
	{ "pidfd_store", CAT_REQUIRED, true, NOFLAG, NULL, chk_pidfd_store },
	{ "ns_pid", CAT_EXTRA, true, FLAG(ns_pid), "no NSpid in /proc/PID/status", NULL },
	{ "apparmor_stacking", CAT_NONE, true, FLAG(apparmor_stacking), "AppArmor namespace stacking is not available",
	  NULL },
	{ "network_lock_nftables", CAT_NONE, true, NOFLAG, NULL, chk_nft_lock },
	{ "sockopt_buf_lock", CAT_EXTRA, true, FLAG(sockopt_buf_lock), "SO_BUF_LOCK is not supported", NULL },
	{ "memfd_hugetlb", CAT_EXTRA, true, FLAG(memfd_hugetlb), "memfd_create(MFD_HUGETLB) is not supported", NULL },
	{ "move_mount_set_group", CAT_EXTRA, true, FLAG(move_mount_set_group),
	  "move_mount(MOVE_MOUNT_SET_GROUP) is not supported", NULL },
	{ "openat2", CAT_EXTRA, true, FLAG(openat2), "openat2() is not supported", NULL },
	{ "get_rseq_conf", CAT_EXTRA, true, FLAG(ptrace_get_rseq_conf),
	  "PTRACE_GET_RSEQ_CONFIGURATION is not supported", NULL },
	{ "ipv6_freebind", CAT_EXTRA, true, FLAG(ipv6_freebind), "IPV6_FREEBIND is not supported", NULL },
	{ "pagemap_scan", CAT_EXTRA, true, FLAG(pagemap_scan), "the PAGEMAP_SCAN ioctl is not supported", NULL },
	{ "timer_cr_ids", CAT_EXTRA, true, FLAG(timer_cr_ids), "PR_TIMER_CREATE_RESTORE_IDS is not supported", NULL },
	{ "overlayfs_maps", CAT_EXTRA, true, FLAG(overlayfs_maps),
	  "/proc/PID/maps does not show overlayfs files as they are", NULL },
	{ "breakpoints", CAT_EXTRA, true, FLAG(hw_breakpoints),
	  "hardware breakpoints do not fire; the parasite will use int3", NULL },
	{ "pagemap_scan_guard_pages", CAT_EXTRA, true, FLAG(pagemap_scan_guard),
	  "PAGEMAP_SCAN does not report guard pages", NULL },

	{ "ptrace_seize", CAT_REQUIRED, false, FLAG(ptrace_seize), "PTRACE_SEIZE/PTRACE_INTERRUPT do not work", NULL },
	{ "ptrace_peeksiginfo", CAT_REQUIRED, false, FLAG(ptrace_peeksiginfo),
	  "PTRACE_PEEKSIGINFO/PTRACE_GETSIGMASK do not work", NULL },
	{ "proc_children", CAT_REQUIRED, false, FLAG(proc_children),
	  "no /proc/PID/task/TID/children (CONFIG_PROC_CHILDREN)", NULL },
	{ "map_files", CAT_REQUIRED, false, FLAG(map_files), "/proc/PID/map_files cannot be read", NULL },
	{ "kcmp", CAT_REQUIRED, false, FLAG(kcmp), "kcmp() is not supported (CONFIG_KCMP)", NULL },
	{ "prctl_mm_map", CAT_REQUIRED, false, FLAG(prctl_mm_map), "PR_SET_MM_MAP is refused", NULL },
	{ "memfd", CAT_REQUIRED, false, FLAG(memfd), "memfd_create() is not supported", NULL },
	{ "vdso", CAT_REQUIRED, false, NOFLAG, NULL, chk_vdso },
	{ "tcp_repair", CAT_EXTRA, false, FLAG(tcp_repair), "TCP_REPAIR is refused", NULL },
	{ "tcp_repair_window", CAT_EXTRA, false, FLAG(tcp_repair_window), "TCP_REPAIR_WINDOW is not supported", NULL },
	{ "guard_regions", CAT_EXTRA, false, FLAG(guard_regions), "MADV_GUARD_INSTALL is not supported", NULL },
};

#define N_CHECKS (sizeof(check_features) / sizeof(check_features[0]))

/* NULL when F is present, else the reason. */
static const char *check_run(const struct check_feature *f, const struct kerndat *kd, const char **note)
{
	*note = NULL;
	if (f->fn)
		return f->fn(kd, note);
	return *(const bool *)((const char *)kd + f->field) ? NULL : f->missing;
}

size_t check_feature_count(void)
{
	size_t n = 0, i;

	for (i = 0; i < N_CHECKS; i++)
		n += check_features[i].listed;
	return n;
}

const char *check_feature_name(size_t i)
{
	return i < N_CHECKS && check_features[i].listed ? check_features[i].name : NULL;
}

static const struct check_feature *check_lookup(const char *name)
{
	size_t i;

	for (i = 0; i < N_CHECKS; i++)
		if (check_features[i].listed && !strcmp(check_features[i].name, name))
			return &check_features[i];
	return NULL;
}

int check_feature(const char *name)
{
	const struct check_feature *f = check_lookup(name);
	const char *why, *note;

	if (!f) {
		pr_err("Unknown feature %s", name);
		return -ENOENT;
	}
	why = check_run(f, kerndat_get(), &note);
	if (note)
		pr_msg("%s", note);
	if (why) {
		pr_warn("%s is not supported: %s", f->name, why);
		return 0;
	}
	pr_msg("%s is supported", f->name);
	return 1;
}

void check_print_features(FILE *f, const char *indent, int width)
{
	int pos = 0;
	size_t i;

	for (i = 0; i < N_CHECKS; i++) {
		int len;

		if (!check_features[i].listed)
			continue;
		len = (int)strlen(check_features[i].name);
		if (pos && pos + 2 + len > width) {
			fprintf(f, ",\n%s", indent);
			pos = (int)strlen(indent);
		} else if (pos) {
			fputs(", ", f);
			pos += 2;
		}
		fputs(check_features[i].name, f);
		pos += len;
	}
	fputc('\n', f);
}

int check_features_rpc(bool *mem_track, bool *lazy_pages, bool *pidfd_store)
{
	const struct kerndat *kd = kerndat_get();

	if (mem_track)
		*mem_track = kerndat_has_dirty_tracking(kd, NULL);
	if (lazy_pages)
		*lazy_pages = kd->uffd && kd->uffd_noncoop;
	if (pidfd_store)
		*pidfd_store = kd->pidfd_open && kd->pidfd_getfd;
	return 0;
}

/* --feature NAME ...: each name answered; "list" lists the names. */
static int check_named(struct options *o)
{
	size_t n = opt_list_len(o, OPT_FEATURE), i, j;
	int ret = 0;

	for (i = 0; i < n; i++) {
		const char *name = opt_list_at(o, OPT_FEATURE, i);

		if (!strcmp(name, "list")) {
			for (j = 0; j < N_CHECKS; j++)
				if (check_features[j].listed)
					pr_msg("%s", check_features[j].name);
			continue;
		}
		switch (check_feature(name)) {
		case 1:
			break;
		case 0:
			ret = -ENOTSUP;
			break;
		default:
			if (!ret || ret == -ENOTSUP)
				ret = -EINVAL;
			break;
		}
	}
	return ret;
}

/* Run every check of category CAT; returns how many are missing. */
static int check_category(const struct kerndat *kd, enum check_cat cat)
{
	int missing = 0;
	size_t i;

	for (i = 0; i < N_CHECKS; i++) {
		const struct check_feature *f = &check_features[i];
		const char *why, *note;

		if (f->cat != cat)
			continue;
		why = check_run(f, kd, &note);
		if (note)
			pr_info("%s", note);
		if (!why) {
			pr_debug("%s: ok", f->name);
			continue;
		}
		missing++;
		if (cat == CAT_REQUIRED)
			pr_err("%s: %s", f->name, why);
		else
			pr_warn("%s: %s", f->name, why);
	}
	return missing;
}

int action_check(struct options *o, struct action_result *res)
{
	bool extra = opt_bool(o, OPT_EXTRA) || opt_bool(o, OPT_ALL);
	bool experimental = opt_bool(o, OPT_EXPERIMENTAL) || opt_bool(o, OPT_ALL);
	const struct kerndat *kd;
	int missing = 0;

	(void)res;
	if (opt_list_len(o, OPT_FEATURE))
		return check_named(o);

	if (geteuid() != 0)
		pr_warn("not running as root: some probes cannot succeed");
	kd = kerndat_get();
	if (check_category(kd, CAT_REQUIRED)) {
		pr_msg("%s", CHECK_BAD);
		return -ENOTSUP;
	}
	if (extra)
		missing += check_category(kd, CAT_EXTRA);
	if (experimental)
		missing += check_category(kd, CAT_EXPERIMENTAL);
	pr_msg("%s", missing ? CHECK_MAYBE : CHECK_GOOD);
	return missing ? -ENOTSUP : 0;
}
