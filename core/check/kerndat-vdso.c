// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * kerndat probes about the mm fields, the vDSO and timers: what restore
 * needs to rebuild a task's address space. Since 6.13 the vvar pages are
 * split into [vvar] and [vvar_vclock] (facts 7.1), so the layout is
 * recorded VMA by VMA. Mapping a vDSO and setting the mm map are tried
 * for real, in children that are thrown away.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#define LOG_PREFIX "kerndat: "
#include <criu/log.h>

#include "check/kerndat-priv.h"

/* From linux/timerfd.h, whose fcntl.h clashes with glibc's. */
#ifndef TFD_IOC_SET_TICKS
#define TFD_IOC_SET_TICKS _IOW('T', 0, uint64_t)
#endif

/* The kernel's struct prctl_mm_map, under our own name (facts 7.11). */
struct kd_prctl_mm_map {
	uint64_t start_code, end_code, start_data, end_data;
	uint64_t start_brk, brk, start_stack;
	uint64_t arg_start, arg_end, env_start, env_end;
	uint64_t auxv;
	uint32_t auxv_size;
	uint32_t exe_fd;
};

static void kd_parse_vdso(struct kerndat_vdso *v)
{
	unsigned long start, end;
	char line[512];
	FILE *f;

	memset(v, 0, sizeof(*v));
	f = fopen("/proc/self/maps", "re");
	if (!f) {
		pr_debug("open /proc/self/maps: %s", strerror(errno));
		return;
	}
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%lx-%lx", &start, &end) != 2)
			continue;
		if (strstr(line, "[vvar]")) {
			v->vvar_start = start;
			v->vvar_end = end;
		} else if (strstr(line, "[vvar_vclock]")) {
			v->vclock_start = start;
			v->vclock_end = end;
		} else if (strstr(line, "[vdso]")) {
			v->vdso_start = start;
			v->vdso_end = end;
		} else if (strstr(line, "[vsyscall]")) {
			v->vsyscall_start = start;
			v->vsyscall_end = end;
		}
	}
	fclose(f);
}

struct kd_map_vdso_arg {
	const struct kerndat_vdso *v;
	long code;
};

/*
 * In a child: unmap the vDSO and its vvar pages, then ask for a new vDSO
 * at the same place. ARG selects the 64- or 32-bit image. The child must
 * not call into the vDSO afterwards; it only returns and _exit()s.
 */
static int kd_map_vdso_child(void *arg, void *out)
{
	const struct kd_map_vdso_arg *a = arg;
	const struct kerndat_vdso *v = a->v;
	unsigned long lo = v->vdso_start, hi = v->vdso_end;

	(void)out;
	if (!lo)
		return 0;
	if (v->vvar_start && v->vvar_start < lo)
		lo = v->vvar_start;
	if (v->vclock_start && v->vclock_start < lo)
		lo = v->vclock_start;
	if (v->vvar_end > hi)
		hi = v->vvar_end;
	if (v->vclock_end > hi)
		hi = v->vclock_end;
	if (syscall(SYS_munmap, lo, hi - lo))
		return 0;
	/* Success returns a non-negative value (not always 0). */
	return syscall(SYS_arch_prctl, a->code, lo) >= 0;
}

static bool kd_map_vdso(const struct kerndat_vdso *layout, long code)
{
	struct kd_map_vdso_arg a = { .v = layout, .code = code };

	return kd_in_child("map vdso", kd_map_vdso_child, &a, NULL, 0);
}

/* Fields 26-28 and 45-51 of /proc/self/stat (1-based), parsed after comm. */
static int kd_stat_mm(struct kd_prctl_mm_map *m)
{
	char buf[2048], *p, *save = NULL;
	unsigned long long v[52] = { 0 };
	int field;

	if (kd_read_file("/proc/self/stat", buf, sizeof(buf)))
		return -EIO;
	p = strrchr(buf, ')');
	if (!p)
		return -EINVAL;
	/* The token after ")" is field 3 (state). */
	p = strtok_r(p + 1, " ", &save);
	for (field = 3; p && field < 52; field++) {
		v[field] = strtoull(p, NULL, 10);
		p = strtok_r(NULL, " ", &save);
	}
	if (field < 52)
		return -EINVAL;
	m->start_code = v[26];
	m->end_code = v[27];
	m->start_stack = v[28];
	m->start_data = v[45];
	m->end_data = v[46];
	m->start_brk = v[47];
	m->arg_start = v[48];
	m->arg_end = v[49];
	m->env_start = v[50];
	m->env_end = v[51];
	return 0;
}

/* In a child: PR_SET_MM_MAP with the values the task already has. */
static int kd_mm_map_child(void *arg, void *out)
{
	struct kd_prctl_mm_map m;
	uint64_t auxv[128];
	ssize_t n;
	int fd;

	(void)arg;
	(void)out;
	memset(&m, 0, sizeof(m));
	if (kd_stat_mm(&m))
		return 0;
	m.brk = (uint64_t)syscall(SYS_brk, 0);
	fd = open("/proc/self/auxv", O_RDONLY);
	if (fd < 0)
		return 0;
	n = read(fd, auxv, sizeof(auxv));
	close(fd);
	if (n <= 0)
		return 0;
	m.auxv = (uint64_t)(unsigned long)auxv;
	m.auxv_size = (uint32_t)n;
	m.exe_fd = (uint32_t)-1;
	if (prctl(PR_SET_MM, PR_SET_MM_MAP, (unsigned long)&m, sizeof(m), 0)) {
		pr_debug("PR_SET_MM_MAP: %s", strerror(errno));
		return 0;
	}
	return 1;
}

static void kd_probe_timers(struct kerndat *kd)
{
	uint64_t ticks = 1;
	int fd;

	kd->timer_cr_ids = prctl(KD_PR_TIMER_CREATE_RESTORE_IDS, KD_PR_TIMER_CREATE_RESTORE_IDS_GET, 0, 0, 0) >= 0;
	fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);
	if (fd < 0)
		return;
	/* Zero ticks is refused with EINVAL; the timer is not armed, so 1 is harmless. */
	kd->timerfd_set_ticks = ioctl(fd, TFD_IOC_SET_TICKS, &ticks) == 0;
	close(fd);
}

void kerndat_probe_vdso(struct kerndat *kd)
{
	unsigned int size = 0;

	kd_parse_vdso(&kd->vdso);
	kd->arch_map_vdso = kd_map_vdso(&kd->vdso, KD_ARCH_MAP_VDSO_64);
	kd->arch_map_vdso_32 = kd_map_vdso(&kd->vdso, KD_ARCH_MAP_VDSO_32);

	if (prctl(PR_SET_MM, PR_SET_MM_MAP_SIZE, (unsigned long)&size, 0, 0) == 0 &&
	    size == sizeof(struct kd_prctl_mm_map))
		kd->prctl_mm_map = kd_in_child("PR_SET_MM_MAP", kd_mm_map_child, NULL, NULL, 0);
	else
		pr_debug("PR_SET_MM_MAP_SIZE: %s (size %u)", strerror(errno), size);
	kd_probe_timers(kd);
}
