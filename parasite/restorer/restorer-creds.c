// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Seccomp filters and credentials, the last things the restorer changes
 * before the sigreturn: the filters could forbid the restorer's own
 * syscalls, and dropping creds removes the privileges everything before
 * needs (facts 5.23, 6.11).
 */
#include "restorer.h"
#include "rst-sys.h"

#define RST_CAP_V3 0x20080522u

struct rst_sock_fprog {
	uint16_t len;
	uint16_t pad[3];
	uint64_t filter;
};

struct rst_cap_header {
	uint32_t version;
	int32_t pid;
};

struct rst_cap_data {
	uint32_t effective;
	uint32_t permitted;
	uint32_t inheritable;
};

void rst_restore_seccomp(const struct rst_args *a)
{
	const struct rst_seccomp_filter *f =
		(const struct rst_seccomp_filter *)(uintptr_t)a->seccomp;
	uint32_t i;
	long r;

	for (i = 0; i < a->nr_seccomp; i++) {
		struct rst_sock_fprog prog = {
			.len = (uint16_t)f[i].len,
			.filter = f[i].insns,
		};

		r = sys3(__NR_seccomp, RST_SECCOMP_SET_MODE_FILTER, f[i].flags, &prog);
		if (r < 0)
			rst_fail(a, RST_STEP_SECCOMP, r, i, f[i].len);
	}
	if (a->seccomp_strict) {
		r = sys2(__NR_prctl, RST_PR_SET_SECCOMP, RST_SECCOMP_SET_MODE_STRICT);
		if (r < 0)
			rst_fail(a, RST_STEP_SECCOMP, r, a->nr_seccomp, 0);
	}
}

static int cap_in(const uint32_t set[2], uint32_t cap)
{
	return (set[cap / 32] >> (cap % 32)) & 1;
}

/* Each failure names its sub-step in arg: 1 setgroups ... 11 no_new_privs. */
void rst_restore_creds(const struct rst_args *a)
{
	const struct rst_creds *c = &a->creds;
	struct rst_cap_header hdr = { .version = RST_CAP_V3, .pid = 0 };
	struct rst_cap_data data[2];
	uint32_t cap;
	long r;

	if (!a->has_creds)
		return;
	if (c->set_groups) {
		r = sys2(__NR_setgroups, c->nr_groups, c->groups);
		if (r < 0)
			rst_fail(a, RST_STEP_CREDS, r, 1, 0);
	}
	/* Keep the capabilities across the uid change; capset follows anyway. */
	r = sys2(__NR_prctl, RST_PR_SET_SECUREBITS, RST_SECBIT_NO_SETUID_FIXUP);
	if (r < 0)
		rst_fail(a, RST_STEP_CREDS, r, 2, 0);
	r = sys3(__NR_setresgid, c->gid, c->egid, c->sgid);
	if (r < 0)
		rst_fail(a, RST_STEP_CREDS, r, 3, c->gid);
	sys1(__NR_setfsgid, c->fsgid);
	if ((uint32_t)sys1(__NR_setfsgid, -1) != c->fsgid)
		rst_fail(a, RST_STEP_CREDS, -RST_EINVAL, 4, c->fsgid);
	r = sys3(__NR_setresuid, c->uid, c->euid, c->suid);
	if (r < 0)
		rst_fail(a, RST_STEP_CREDS, r, 5, c->uid);
	sys1(__NR_setfsuid, c->fsuid);
	if ((uint32_t)sys1(__NR_setfsuid, -1) != c->fsuid)
		rst_fail(a, RST_STEP_CREDS, -RST_EINVAL, 6, c->fsuid);
	r = sys2(__NR_prctl, RST_PR_SET_SECUREBITS, c->secbits);
	if (r < 0)
		rst_fail(a, RST_STEP_CREDS, r, 7, c->secbits);
	for (cap = 0; cap <= c->last_cap && cap < 64; cap++) {
		if (cap_in(c->cap_bnd, cap))
			continue;
		r = sys2(__NR_prctl, RST_PR_CAPBSET_DROP, cap);
		if (r < 0)
			rst_fail(a, RST_STEP_CREDS, r, 8, cap);
	}
	data[0].effective = c->cap_eff[0];
	data[0].permitted = c->cap_prm[0];
	data[0].inheritable = c->cap_inh[0];
	data[1].effective = c->cap_eff[1];
	data[1].permitted = c->cap_prm[1];
	data[1].inheritable = c->cap_inh[1];
	r = sys2(__NR_capset, &hdr, data);
	if (r < 0)
		rst_fail(a, RST_STEP_CREDS, r, 9, 0);
	for (cap = 0; cap <= c->last_cap && cap < 64; cap++) {
		if (!cap_in(c->cap_amb, cap))
			continue;
		r = sys5(__NR_prctl, RST_PR_CAP_AMBIENT, RST_PR_CAP_AMBIENT_RAISE, cap, 0, 0);
		if (r < 0)
			rst_fail(a, RST_STEP_CREDS, r, 10, cap);
	}
	if (c->no_new_privs) {
		r = sys5(__NR_prctl, RST_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
		if (r < 0)
			rst_fail(a, RST_STEP_CREDS, r, 11, 0);
	}
}
