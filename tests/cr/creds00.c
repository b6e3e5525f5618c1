// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Credentials across the dump: supplementary groups, distinct real,
 * effective and saved gids and uids (setresgid/setresuid, all non-zero),
 * and capabilities reduced with capset() (a few kept in the permitted,
 * effective and inheritable sets, kept over the uid change with
 * PR_SET_KEEPCAPS) and dropped from the bounding set, one ambient
 * capability (CAP_KILL, in prm and inh) and no_new_privs. After restore
 * every id, the group list, the four capability sets, the bounding set,
 * the keep-caps flag and no_new_privs must be as they were.
 */
#define _GNU_SOURCE
#include "lib/crtest.h"

#include <grp.h>
#include <linux/capability.h>
#include <sys/fsuid.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#define CAPBIT(c) (1U << (c))

static const gid_t groups[] = { 5, 1001, 2002, 60000 };

static int capget_raw(struct __user_cap_data_struct d[2])
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };

	return (int)syscall(SYS_capget, &h, d);
}

static int capset_raw(struct __user_cap_data_struct d[2])
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };

	return (int)syscall(SYS_capset, &h, d);
}

int main(int argc, char **argv)
{
	struct __user_cap_data_struct want[2] = { 0 }, got[2];
	uid_t r, e, s;
	gid_t gr, ge, gs, gl[64];
	int n;

	test_init(argc, argv);

	/* Bounding set first: dropping needs CAP_SETPCAP, which goes next. */
	if (prctl(PR_CAPBSET_DROP, CAP_SYS_BOOT, 0, 0, 0) || prctl(PR_CAPBSET_DROP, CAP_MKNOD, 0, 0, 0))
		fail("PR_CAPBSET_DROP: %m");
	if (setgroups(sizeof(groups) / sizeof(groups[0]), groups))
		fail("setgroups: %m");
	if (setresgid(1001, 1002, 1003))
		fail("setresgid: %m");
	if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0))
		fail("PR_SET_KEEPCAPS: %m");
	if (setresuid(2001, 2002, 2003))
		fail("setresuid: %m");

	want[0].permitted = CAPBIT(CAP_CHOWN) | CAPBIT(CAP_KILL) | CAPBIT(CAP_NET_BIND_SERVICE) | CAPBIT(CAP_SETUID);
	want[0].effective = CAPBIT(CAP_KILL) | CAPBIT(CAP_NET_BIND_SERVICE);
	want[0].inheritable = CAPBIT(CAP_KILL);
	if (capset_raw(want))
		fail("capset: %m");
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_KILL, 0, 0))
		fail("PR_CAP_AMBIENT_RAISE CAP_KILL: %m");
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
		fail("PR_SET_NO_NEW_PRIVS: %m");

	test_daemon();
	test_waitsig();

	if (getresuid(&r, &e, &s) || r != 2001 || e != 2002 || s != 2003)
		test_error("uids are %u/%u/%u, want 2001/2002/2003", r, e, s);
	if (getresgid(&gr, &ge, &gs) || gr != 1001 || ge != 1002 || gs != 1003)
		test_error("gids are %u/%u/%u, want 1001/1002/1003", gr, ge, gs);
	if (setfsuid((uid_t)-1) != 2002)
		test_error("fsuid changed");
	if (setfsgid((gid_t)-1) != 1002)
		test_error("fsgid changed");
	n = getgroups(64, gl);
	if (n != (int)(sizeof(groups) / sizeof(groups[0])))
		test_error("%d supplementary groups, want %zu", n, sizeof(groups) / sizeof(groups[0]));
	else
		for (int i = 0; i < n; i++)
			if (gl[i] != groups[i])
				test_error("group %d is %u, want %u", i, gl[i], groups[i]);
	if (capget_raw(got))
		test_error("capget: %m");
	else
		for (int i = 0; i < 2; i++)
			if (got[i].permitted != want[i].permitted || got[i].effective != want[i].effective ||
			    got[i].inheritable != want[i].inheritable)
				test_error("caps[%d] prm %#x eff %#x inh %#x, want %#x %#x %#x", i, got[i].permitted,
					   got[i].effective, got[i].inheritable, want[i].permitted, want[i].effective,
					   want[i].inheritable);
	if (prctl(PR_CAPBSET_READ, CAP_SYS_BOOT, 0, 0, 0) != 0 || prctl(PR_CAPBSET_READ, CAP_MKNOD, 0, 0, 0) != 0)
		test_error("dropped bounding capabilities are back");
	if (prctl(PR_CAPBSET_READ, CAP_KILL, 0, 0, 0) != 1)
		test_error("CAP_KILL left the bounding set");
	if (prctl(PR_GET_KEEPCAPS, 0, 0, 0, 0) != 1)
		test_error("PR_SET_KEEPCAPS was lost");
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, CAP_KILL, 0, 0) != 1)
		test_error("ambient CAP_KILL was lost");
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, CAP_CHOWN, 0, 0) != 0)
		test_error("CAP_CHOWN became ambient");
	if (prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 1)
		test_error("no_new_privs was lost");
	test_finish();
}
