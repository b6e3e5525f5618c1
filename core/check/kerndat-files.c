// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * kerndat probes about files and mounts: fdinfo contents, kcmp, openat2,
 * move_mount(MOVE_MOUNT_SET_GROUP), overlayfs in /proc/PID/maps, autofs,
 * AppArmor stacking. Mounting happens in children that first move into a
 * private mount namespace, on a temporary directory the parent removes.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/auto_dev-ioctl.h>
#include <linux/kcmp.h>
#include <linux/openat2.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#define LOG_PREFIX "kerndat: "
#include <criu/log.h>

#include "check/kerndat-priv.h"

#ifndef MOVE_MOUNT_SET_GROUP
#define MOVE_MOUNT_SET_GROUP 0x00000100
#endif

static void kd_probe_fdinfo(struct kerndat *kd)
{
	char path[64], buf[1024];
	int fd;

	fd = (int)syscall(SYS_memfd_create, "criu-kerndat", MFD_CLOEXEC);
	if (fd < 0)
		fd = open("/proc/self/stat", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	if (kd_read_file(path, buf, sizeof(buf)) == 0)
		kd->fdinfo_mnt_id = strstr(buf, "mnt_id:") != NULL;
	if (flock(fd, LOCK_EX | LOCK_NB) == 0 && kd_read_file(path, buf, sizeof(buf)) == 0)
		kd->fdinfo_lock = strstr(buf, "lock:") != NULL;
	close(fd);
}

static void kd_probe_kcmp(struct kerndat *kd)
{
	struct kcmp_epoll_slot slot;
	struct epoll_event ev = { .events = EPOLLIN };
	pid_t pid = getpid();
	int p[2], dup_fd, efd;

	if (pipe2(p, O_CLOEXEC))
		return;
	dup_fd = fcntl(p[0], F_DUPFD_CLOEXEC, 0);
	if (dup_fd >= 0) {
		kd->kcmp = syscall(SYS_kcmp, pid, pid, KCMP_FILE, p[0], dup_fd) == 0;
		if (!kd->kcmp)
			pr_debug("kcmp(KCMP_FILE): %s", strerror(errno));
		close(dup_fd);
	}
	efd = epoll_create1(EPOLL_CLOEXEC);
	if (efd >= 0) {
		if (epoll_ctl(efd, EPOLL_CTL_ADD, p[0], &ev) == 0) {
			slot.efd = (uint32_t)efd;
			slot.tfd = (uint32_t)p[0];
			slot.toff = 0;
			kd->kcmp_epoll_tfd = syscall(SYS_kcmp, pid, pid, KCMP_EPOLL_TFD, p[0], (unsigned long)&slot) ==
					     0;
		}
		close(efd);
	}
	close(p[0]);
	close(p[1]);
}

static void kd_probe_openat2(struct kerndat *kd)
{
	struct open_how how;
	int fd;

	memset(&how, 0, sizeof(how));
	how.flags = O_RDONLY | O_DIRECTORY | O_CLOEXEC;
	how.resolve = RESOLVE_NO_MAGICLINKS;
	fd = (int)syscall(SYS_openat2, AT_FDCWD, "/", &how, sizeof(how));
	if (fd < 0) {
		pr_debug("openat2: %s", strerror(errno));
		return;
	}
	kd->openat2 = true;
	close(fd);
}

/* Enter a private mount namespace and put a tmpfs on DIR. */
static int kd_private_tmpfs(const char *dir)
{
	if (unshare(CLONE_NEWNS))
		return -errno;
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL))
		return -errno;
	if (mount("criu-kerndat", dir, "tmpfs", 0, NULL))
		return -errno;
	return 0;
}

static int kd_subdir(char *buf, size_t size, const char *dir, const char *name)
{
	snprintf(buf, size, "%s/%s", dir, name);
	return mkdir(buf, 0700) ? -errno : 0;
}

static int kd_set_group_child(void *arg, void *out)
{
	const char *dir = arg;
	char a[PATH_MAX], b[PATH_MAX];

	(void)out;
	if (kd_private_tmpfs(dir) || kd_subdir(a, sizeof(a), dir, "a") || kd_subdir(b, sizeof(b), dir, "b"))
		return 0;
	/* B is a private bind of A; then A becomes shared and B joins it. */
	if (mount("criu-kerndat", a, "tmpfs", 0, NULL) || mount(a, b, NULL, MS_BIND, NULL) ||
	    mount(NULL, b, NULL, MS_PRIVATE, NULL) || mount(NULL, a, NULL, MS_SHARED, NULL))
		return 0;
	return syscall(SYS_move_mount, AT_FDCWD, a, AT_FDCWD, b, MOVE_MOUNT_SET_GROUP) == 0;
}

/*
 * In a child: map a file on overlayfs and check that /proc/self/maps and
 * map_files name the overlay file (its dev:ino and path), not the upper
 * layer's, which dump needs to find the file again.
 */
static int kd_overlay_child(void *arg, void *out)
{
	const char *dir = arg;
	char l[PATH_MAX], u[PATH_MAX], w[PATH_MAX], m[PATH_MAX], opts[4 * PATH_MAX];
	char file[PATH_MAX + 16], link[PATH_MAX + 16], line[PATH_MAX + 128], mf[64];
	unsigned long start, end, ino;
	unsigned int maj, min;
	struct stat st;
	int fd, ok = 0;
	ssize_t n;
	FILE *f;
	void *p;

	(void)out;
	if (kd_private_tmpfs(dir) || kd_subdir(l, sizeof(l), dir, "l") || kd_subdir(u, sizeof(u), dir, "u") ||
	    kd_subdir(w, sizeof(w), dir, "w") || kd_subdir(m, sizeof(m), dir, "m"))
		return 0;
	snprintf(opts, sizeof(opts), "lowerdir=%s,upperdir=%s,workdir=%s", l, u, w);
	if (mount("overlay", m, "overlay", 0, opts))
		return 0;
	snprintf(file, sizeof(file), "%s/f", m);
	fd = open(file, O_RDWR | O_CREAT, 0600);
	if (fd < 0 || ftruncate(fd, 4096) || fstat(fd, &st))
		return 0;
	p = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		return 0;

	f = fopen("/proc/self/maps", "re");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%lx-%lx %*s %*x %x:%x %lu", &start, &end, &maj, &min, &ino) != 5 ||
		    start != (unsigned long)p)
			continue;
		ok = makedev(maj, min) == st.st_dev && ino == st.st_ino && strstr(line, file);
		break;
	}
	fclose(f);
	snprintf(mf, sizeof(mf), "/proc/self/map_files/%lx-%lx", (unsigned long)p, (unsigned long)p + 4096);
	n = readlink(mf, link, sizeof(link) - 1);
	if (n <= 0)
		return 0;
	link[n] = '\0';
	return ok && strcmp(link, file) == 0;
}

/* Run FN in a child with a fresh temporary directory to mount on. */
static bool kd_with_tmpdir(const char *what, int (*fn)(void *, void *))
{
	char dir[] = "/tmp/criu-kerndat-XXXXXX";
	bool ret;

	if (!mkdtemp(dir)) {
		pr_debug("%s: mkdtemp: %s", what, strerror(errno));
		return false;
	}
	ret = kd_in_child(what, fn, dir, NULL, 0);
	rmdir(dir);
	return ret;
}

static void kd_probe_autofs(struct kerndat *kd)
{
	struct autofs_dev_ioctl param;
	int fd;

	fd = open("/dev/autofs", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	init_autofs_dev_ioctl(&param);
	kd->autofs = ioctl(fd, AUTOFS_DEV_IOCTL_VERSION, &param) == 0;
	close(fd);
}

void kerndat_probe_files(struct kerndat *kd)
{
	char buf[16];

	kd_probe_fdinfo(kd);
	kd_probe_kcmp(kd);
	kd_probe_openat2(kd);
	kd->move_mount_set_group = kd_with_tmpdir("move_mount set group", kd_set_group_child);
	kd->overlayfs_maps = kd_with_tmpdir("overlayfs maps", kd_overlay_child);
	kd_probe_autofs(kd);
	kd->apparmor_stacking = kd_read_file("/sys/kernel/security/apparmor/features/domain/stack", buf, sizeof(buf)) ==
					0 &&
				strncmp(buf, "yes", 3) == 0;
}
