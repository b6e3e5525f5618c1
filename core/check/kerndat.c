// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * kerndat: the one place where criu asks the kernel what it can do.
 * This file holds the entry points and the helpers the probe groups
 * share; the probes live in kerndat-{task,mem,files,net,vdso}.c.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#define LOG_PREFIX "kerndat: "
#include <criu/log.h>

#include "check/kerndat-priv.h"
#include "cpu/cpu.h"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

static struct kerndat kd_cache;
static bool kd_cached;

int kd_read_file(const char *path, char *buf, size_t size)
{
	size_t off = 0;
	int fd, ret = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	while (off + 1 < size) {
		ssize_t n = read(fd, buf + off, size - 1 - off);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			ret = -errno;
			break;
		}
		if (n == 0)
			break;
		off += (size_t)n;
	}
	buf[off] = '\0';
	close(fd);
	return ret;
}

int kd_in_child(const char *what, int (*fn)(void *arg, void *out), void *arg, void *out, size_t out_size)
{
	size_t map_size = out_size ? out_size : 1;
	void *shared;
	int status, ret = 0;
	pid_t pid;

	shared = mmap(NULL, map_size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (shared == MAP_FAILED) {
		pr_debug("%s: no shared page: %s", what, strerror(errno));
		return 0;
	}

	pid = fork();
	if (pid < 0) {
		pr_debug("%s: fork: %s", what, strerror(errno));
		goto out_unmap;
	}
	if (pid == 0) {
		/* The parent's atexit handlers and sanitizer reports are not ours. */
		int r = fn(arg, shared);

		_exit(r == 1 ? 1 : 0);
	}

	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR) {
			pr_debug("%s: waitpid %d: %s", what, pid, strerror(errno));
			goto out_unmap;
		}
	}
	if (WIFEXITED(status))
		ret = WEXITSTATUS(status) == 1;
	else if (WIFSIGNALED(status))
		pr_debug("%s: probe child %d killed by signal %d", what, pid, WTERMSIG(status));
	if (out && out_size)
		memcpy(out, shared, out_size);
out_unmap:
	munmap(shared, map_size);
	return ret;
}

static bool kd_path_exists(const char *path)
{
	return access(path, F_OK) == 0;
}

static int kd_timens_child(void *arg, void *out)
{
	(void)arg;
	(void)out;
	return unshare(CLONE_NEWTIME) == 0;
}

/*
 * Writing the current value back is what restoring it needs; it fails
 * with EPERM without CAP_AUDIT_CONTROL or when loginuid is immutable.
 * Done in a child so criu's own audit identity never changes.
 */
static int kd_loginuid_child(void *arg, void *out)
{
	char buf[32];
	int fd, ok;

	(void)arg;
	(void)out;
	if (kd_read_file("/proc/self/loginuid", buf, sizeof(buf)))
		return 0;
	fd = open("/proc/self/loginuid", O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	ok = write(fd, buf, strlen(buf)) == (ssize_t)strlen(buf);
	close(fd);
	return ok;
}

static void kerndat_probe_ns(struct kerndat *kd)
{
	unsigned int size = 0;

	kd->timens = kd_path_exists("/proc/self/ns/time") && kd_in_child("timens", kd_timens_child, NULL, NULL, 0);
	kd->cgroupns = kd_path_exists("/proc/self/ns/cgroup");
	kd->userns = kd_path_exists("/proc/self/ns/user") &&
		     prctl(PR_SET_MM, PR_SET_MM_MAP_SIZE, (unsigned long)&size, 0, 0) == 0;
	kd->loginuid = kd_path_exists("/proc/self/loginuid") &&
		       kd_in_child("loginuid", kd_loginuid_child, NULL, NULL, 0);
}

int kerndat_probe(struct kerndat *kd)
{
	struct sigaction dfl = { .sa_handler = SIG_DFL }, old_act;
	sigset_t chld, old_mask;
	struct cpu_xsave xs;

	/*
	 * The probes wait for their own children. A SIGCHLD handler that
	 * reaps (the RPC server's) or SIG_IGN (the kernel then reaps) would
	 * take them first and turn a present feature into a missing one.
	 */
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	sigprocmask(SIG_BLOCK, &chld, &old_mask);
	sigaction(SIGCHLD, &dfl, &old_act);

	memset(kd, 0, sizeof(*kd));
	kerndat_probe_task(kd);
	kerndat_probe_mem(kd);
	kerndat_probe_vdso(kd);
	kerndat_probe_ns(kd);
	kerndat_probe_files(kd);
	kerndat_probe_net(kd);

	if (cpu_xsave_info(&xs) == 0) {
		kd->xfeatures = xs.xfeatures;
		kd->xsave_size = xs.xsave_size;
		kd->xsave_size_max = xs.xsave_size_max;
	}
	pr_debug("xfeatures %#llx xsave size %u max %u", (unsigned long long)kd->xfeatures, kd->xsave_size,
		 kd->xsave_size_max);

	sigaction(SIGCHLD, &old_act, NULL);
	sigprocmask(SIG_SETMASK, &old_mask, NULL);
	return 0;
}

const struct kerndat *kerndat_get(void)
{
	if (!kd_cached) {
		kerndat_probe(&kd_cache);
		kd_cached = true;
	}
	return &kd_cache;
}

bool kerndat_has_dirty_tracking(const struct kerndat *kd, const char **how)
{
	const char *mech = NULL;

	if (kd->soft_dirty)
		mech = "soft-dirty";
	else if (kd->uffd_wp_async && kd->pagemap_scan)
		mech = "uffd-wp-async";
	if (how)
		*how = mech;
	return mech != NULL;
}
