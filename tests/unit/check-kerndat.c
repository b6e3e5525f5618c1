// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * kerndat: the probes agree with themselves, with /proc/config.gz and
 * with what the CPU says, and criu check's tables answer for every name.
 * Needs root (ptrace, namespaces, mounts), as criu check does.
 */
#include <cpuid.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check-tap.h"
#include "check/check.h"
#include "check/kerndat.h"

/* The value of CONFIG_NAME in /proc/config.gz: 'y', 'm', 'n' (unset), or 0 if unknown. */
static char config_value(const char *name)
{
	static char *config;
	char key[128], *p;
	size_t klen;

	if (!config) {
		FILE *f = popen("zcat /proc/config.gz 2>/dev/null", "r");
		size_t len = 0, cap = 0, n;
		char buf[65536];

		if (!f)
			return 0;
		while ((n = fread(buf, 1, sizeof(buf), f)) > 0) {
			char *nc;

			if (len + n + 2 > cap) {
				cap = (len + n + 2) * 2;
				nc = realloc(config, cap);
				if (!nc) {
					free(config);
					config = NULL;
					pclose(f);
					return 0;
				}
				config = nc;
			}
			memcpy(config + len, buf, n);
			len += n;
		}
		pclose(f);
		if (!config)
			return 0;
		/* Start with a newline so every key can be matched as "\nKEY=". */
		memmove(config + 1, config, len);
		config[0] = '\n';
		config[len + 1] = '\0';
	}
	snprintf(key, sizeof(key), "\nCONFIG_%s=", name);
	klen = strlen(key);
	p = strstr(config, key);
	return p ? p[klen] : 'n';
}

static bool have_config(void)
{
	return access("/proc/config.gz", R_OK) == 0 && config_value("PROC_FS") == 'y';
}

/* Compare a built-in option with a probe: =y means present, unset means absent. */
#define EXPECT_CONFIG(opt, probe)                                                         \
	do {                                                                              \
		char v_ = config_value(opt);                                              \
		if (v_ == 'y' || v_ == 'n') {                                             \
			printf("# CONFIG_%s=%c, %s=%d\n", opt, v_, #probe, (int)(probe)); \
			CHECK_EQ((probe), v_ == 'y');                                     \
		}                                                                         \
	} while (0)

static void test_get_is_cached(void)
{
	const struct kerndat *a = kerndat_get(), *b = kerndat_get();

	CHECK(a != NULL);
	CHECK(a == b);
}

/* Two runs give the same answers: no probe depends on luck. */
static void test_probe_twice(void)
{
	struct kerndat *a = calloc(1, sizeof(*a)), *b = calloc(1, sizeof(*b));

	REQUIRE(a && b);
	CHECK_EQ(kerndat_probe(a), 0);
	CHECK_EQ(kerndat_probe(b), 0);
	CHECK(memcmp(a, b, sizeof(*a)) == 0);
	free(a);
	free(b);
}

/* criu's own SIGCHLD disposition must not steal the probes' children. */
static void test_sigchld_ignored(void)
{
	struct kerndat *a = calloc(1, sizeof(*a));

	REQUIRE(a);
	signal(SIGCHLD, SIG_IGN);
	CHECK_EQ(kerndat_probe(a), 0);
	CHECK(signal(SIGCHLD, SIG_DFL) == SIG_IGN);
	CHECK(memcmp(a, kerndat_get(), sizeof(*a)) == 0);
	free(a);
}

static void test_config_consistency(void)
{
	const struct kerndat *kd = kerndat_get();

	if (!have_config())
		TAP_SKIP("no /proc/config.gz");
	EXPECT_CONFIG("USERFAULTFD", kd->uffd);
	EXPECT_CONFIG("MEM_SOFT_DIRTY", kd->soft_dirty);
	EXPECT_CONFIG("TIME_NS", kd->timens);
	EXPECT_CONFIG("KCMP", kd->kcmp);
	EXPECT_CONFIG("PROC_CHILDREN", kd->proc_children);
	EXPECT_CONFIG("MEMFD_CREATE", kd->memfd);
	EXPECT_CONFIG("HUGETLBFS", kd->memfd_hugetlb);
	EXPECT_CONFIG("AIO", kd->aio_remap);
	EXPECT_CONFIG("RSEQ", kd->ptrace_get_rseq_conf);
	EXPECT_CONFIG("IA32_EMULATION", kd->arch_map_vdso_32);
	EXPECT_CONFIG("TUN", kd->tun);
	EXPECT_CONFIG("AUTOFS_FS", kd->autofs);
	EXPECT_CONFIG("OVERLAY_FS", kd->overlayfs_maps);
	EXPECT_CONFIG("CGROUPS", kd->cgroupns);
	EXPECT_CONFIG("NF_TABLES", kd->nftables_kernel);
	if (config_value("INET_DIAG") == 'y')
		EXPECT_CONFIG("INET_RAW_DIAG", kd->net_diag_raw);
	if (config_value("NET_NS") == 'y') {
		EXPECT_CONFIG("VETH", kd->link_nsid);
		EXPECT_CONFIG("VETH", kd->newifindex);
	}
	if (config_value("USERFAULTFD") == 'y')
		EXPECT_CONFIG("HAVE_ARCH_USERFAULTFD_WP", kd->uffd_wp);
	if (config_value("USERFAULTFD") == 'y' && config_value("PROC_PAGE_MONITOR") == 'y')
		EXPECT_CONFIG("PTE_MARKER_UFFD_WP", kd->uffd_wp_async);

	/* What CONFIG_CHECKPOINT_RESTORE turns on. */
	if (config_value("CHECKPOINT_RESTORE") == 'y') {
		CHECK(kd->timerfd_set_ticks);
		CHECK(kd->ptrace_suspend_seccomp);
		CHECK(kd->prctl_mm_map);
		CHECK(kd->fdinfo_mnt_id);
		if (config_value("SECCOMP_FILTER") == 'y')
			CHECK(kd->ptrace_seccomp_filter);
	} else if (config_value("CHECKPOINT_RESTORE") == 'n') {
		CHECK(!kd->timerfd_set_ticks);
		CHECK(!kd->ptrace_suspend_seccomp);
	}
	if (config_value("AUDITSYSCALL") == 'n')
		CHECK(!kd->loginuid);
}

/* Features every kernel criu can run on has (5.x and later, x86-64). */
static void test_basics(void)
{
	const struct kerndat *kd = kerndat_get();

	CHECK(kd->ptrace_seize);
	CHECK(kd->ptrace_peeksiginfo);
	CHECK(kd->pidfd_open);
	CHECK(kd->pidfd_getfd);
	CHECK(kd->map_files);
	CHECK(kd->ns_pid);
	CHECK(kd->openat2);
	CHECK(kd->clone3_set_tid);
	CHECK(kd->sk_ns);
	CHECK(kd->tcp_repair);
	printf("# breakpoints %d soft-dirty %d uffd-wp-async %d pagemap_scan %d guard %d\n", kd->hw_breakpoints,
	       kd->soft_dirty, kd->uffd_wp_async, kd->pagemap_scan, kd->pagemap_scan_guard);
}

static void test_vdso_layout(void)
{
	const struct kerndat_vdso *v = &kerndat_get()->vdso;
	long ps = sysconf(_SC_PAGESIZE);

	REQUIRE(v->vdso_start);
	CHECK(v->vdso_end > v->vdso_start);
	CHECK(v->vdso_start % ps == 0 && v->vdso_end % ps == 0);
	if (v->vvar_start) {
		CHECK(v->vvar_end > v->vvar_start);
		/* 6.13+: [vvar][vvar_vclock][vdso], back to back (facts 8.7). */
		if (v->vclock_start) {
			CHECK_EQ(v->vvar_end, v->vclock_start);
			CHECK_EQ(v->vclock_end, v->vdso_start);
		} else {
			CHECK_EQ(v->vvar_end, v->vdso_start);
		}
	}
	printf("# vvar %#lx-%#lx vclock %#lx-%#lx vdso %#lx-%#lx vsyscall %#lx\n", v->vvar_start, v->vvar_end,
	       v->vclock_start, v->vclock_end, v->vdso_start, v->vdso_end, v->vsyscall_start);
}

static void test_xsave(void)
{
	const struct kerndat *kd = kerndat_get();
	unsigned int a, b, c, d;

	__cpuid_count(1, 0, a, b, c, d);
	if (!(c & (1u << 27)))
		TAP_SKIP("no OSXSAVE");
	__cpuid_count(0xd, 0, a, b, c, d);
	CHECK_EQ(kd->xsave_size, b);
	CHECK_EQ(kd->xsave_size_max, c);
	/* x87 and SSE state are always there; nothing the CPU lacks is claimed. */
	CHECK_EQ(kd->xfeatures & 3, 3);
	CHECK((kd->xfeatures & ~(((unsigned long long)d << 32) | a)) == 0);
}

static void test_dirty_tracking(void)
{
	const struct kerndat *kd = kerndat_get();
	const char *how = NULL;
	bool mem = false, lazy = false, pidfd = false;
	bool has = kerndat_has_dirty_tracking(kd, &how);

	CHECK_EQ(has, kd->soft_dirty || (kd->uffd_wp_async && kd->pagemap_scan));
	CHECK_EQ(has, how != NULL);
	if (kd->soft_dirty)
		CHECK(how && !strcmp(how, "soft-dirty"));
	else if (has)
		CHECK(how && !strcmp(how, "uffd-wp-async"));
	CHECK_EQ(check_features_rpc(&mem, &lazy, &pidfd), 0);
	CHECK_EQ(mem, has);
	CHECK_EQ(lazy, kd->uffd && kd->uffd_noncoop);
	CHECK_EQ(pidfd, kd->pidfd_open && kd->pidfd_getfd);
	CHECK_EQ(check_features_rpc(NULL, NULL, NULL), 0);
}

/* The 45 names of CRIU 4.2, and each answers (supported or not, never unknown). */
static void test_feature_names(void)
{
	static const char *const want[] = {
		"mnt_id",
		"mem_dirty_track",
		"aio_remap",
		"timerfd",
		"tun",
		"tun_ns",
		"userns",
		"fdinfo_lock",
		"seccomp_suspend",
		"seccomp_filters",
		"loginuid",
		"cgroupns",
		"autofs",
		"tcp_half_closed",
		"compat_cr",
		"uffd",
		"uffd-noncoop",
		"can_map_vdso",
		"sk_ns",
		"sk_unix_file",
		"net_diag_raw",
		"nsid",
		"link_nsid",
		"kcmp_epoll",
		"timens",
		"external_net_ns",
		"clone3_set_tid",
		"newifindex",
		"nftables",
		"has_ipt_legacy",
		"pidfd_store",
		"ns_pid",
		"apparmor_stacking",
		"network_lock_nftables",
		"sockopt_buf_lock",
		"memfd_hugetlb",
		"move_mount_set_group",
		"openat2",
		"get_rseq_conf",
		"ipv6_freebind",
		"pagemap_scan",
		"timer_cr_ids",
		"overlayfs_maps",
		"breakpoints",
		"pagemap_scan_guard_pages",
	};
	size_t i, n = sizeof(want) / sizeof(want[0]);

	CHECK_EQ(check_feature_count(), n);
	for (i = 0; i < n; i++) {
		int r;

		CHECK(check_feature_name(i) && !strcmp(check_feature_name(i), want[i]));
		r = check_feature(want[i]);
		CHECK(r == 0 || r == 1);
	}
	CHECK(check_feature_name(n) == NULL);
	CHECK_EQ(check_feature("no_such_feature"), -ENOENT);
	CHECK_EQ(check_feature("list"), -ENOENT);
	/* mem_dirty_track agrees with the RPC answer. */
	{
		bool mem = false;

		check_features_rpc(&mem, NULL, NULL);
		CHECK_EQ(check_feature("mem_dirty_track"), mem);
	}
	CHECK_EQ(check_feature("external_net_ns"), 1);
}

int main(void)
{
	static const struct tap_test tests[] = {
		TAP_TEST(test_get_is_cached),   TAP_TEST(test_probe_twice),
		TAP_TEST(test_sigchld_ignored), TAP_TEST(test_config_consistency),
		TAP_TEST(test_basics),	    TAP_TEST(test_vdso_layout),
		TAP_TEST(test_xsave),	    TAP_TEST(test_dirty_tracking),
		TAP_TEST(test_feature_names),
	};

	if (geteuid() != 0) {
		printf("1..0 # SKIP needs root\n");
		return 0;
	}
	return tap_run(tests, TAP_COUNT(tests), &check_tap_opts);
}
