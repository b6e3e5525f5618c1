// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * fd kind "character device": /dev/null, /dev/zero, /dev/full,
 * /dev/random, /dev/urandom and other character devices opened by path,
 * except ttys (their own kind) and /dev/net/tun (a network device).
 *
 * CRIU saves these as a RegFileEntry (FileEntry type REG) whose mode says
 * S_IFCHR, and restores them by opening the path again. The files plugin
 * registers a kind for the same type; on restore each kind of the type is
 * asked in turn, so open() answers -ENOTSUP for an entry that is not a
 * character device.
 *
 * --evasive-devices: on dump, accept a path that now names another node
 * of the same device (CRIU's meaning); on restore, when the path is gone
 * or names another device, open the device by its number through a
 * temporary node. The image has no device number, so that works for the
 * devices of the table below, whose numbers are fixed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <criu/plugin.h>

#include "devices.h"
#include "regfile.pb-c.h"

#define DELETED_SUFFIX " (deleted)"
#define CHR_CREATE_FLAGS (O_CREAT | O_EXCL | O_TRUNC | O_DIRECTORY | (O_TMPFILE & ~O_DIRECTORY))

/* Devices that keep no state per open file, with their fixed numbers. */
static const struct chr_known {
	const char *path;
	unsigned int major, minor;
} chr_known[] = {
	{ "/dev/null", 1, 3 },	 { "/dev/zero", 1, 5 },	   { "/dev/full", 1, 7 },
	{ "/dev/random", 1, 8 }, { "/dev/urandom", 1, 9 },
};

/* A known device by name: "/dev/null", or ".../dev/null" (a container's /dev seen from outside). */
static const struct chr_known *chr_known_by_path(const char *path)
{
	size_t n = strlen(path);

	for (size_t i = 0; i < sizeof(chr_known) / sizeof(chr_known[0]); i++) {
		size_t k = strlen(chr_known[i].path);

		if (n >= k && !strcmp(path + n - k, chr_known[i].path))
			return &chr_known[i];
	}
	return NULL;
}

static bool chr_known_rdev(dev_t rdev)
{
	for (size_t i = 0; i < sizeof(chr_known) / sizeof(chr_known[0]); i++)
		if (makedev(chr_known[i].major, chr_known[i].minor) == rdev)
			return true;
	return false;
}

/* Is RDEV listed in [plugin.devices] reopen = MAJOR:MINOR? */
static bool chr_listed(struct cp_plugin *p, dev_t rdev)
{
	int n = cp_plugin_opt_list(p, "reopen", 0, NULL);

	for (int i = 0; i < n; i++) {
		const char *v = NULL;
		unsigned int ma, mi;
		char end;

		if (cp_plugin_opt_list(p, "reopen", (size_t)i, &v) || !v)
			continue;
		if (sscanf(v, "%u:%u%c", &ma, &mi, &end) != 2) {
			pr_warn("[plugin.devices] reopen = %s: not MAJOR:MINOR, ignored", v);
			continue;
		}
		if (makedev(ma, mi) == rdev)
			return true;
	}
	return false;
}

static bool chr_evasive(void)
{
	bool on = false;

	return !cp_opt_bool("evasive-devices", &on) && on;
}

/*
 * Terminals are their own kind (ttys and ptys: majors 2-5 and 128-143);
 * isatty() catches the rest (serial drivers with their own majors).
 */
static bool chr_is_tty(const struct cp_fd_desc *fd)
{
	unsigned int ma = major(fd->st.st_rdev);

	if ((ma >= 2 && ma <= 5) || (ma >= 128 && ma <= 143))
		return true;
	return fd->local_fd >= 0 && isatty(fd->local_fd);
}

static int chr_match(struct cp_plugin *p, const struct cp_fd_desc *fd)
{
	(void)p;
	if (!S_ISCHR(fd->st.st_mode) || !fd->link || fd->link[0] != '/')
		return -ENOTSUP;
	/* /dev/net/tun: CRIU's TUNF kind. */
	if (fd->st.st_rdev == makedev(10, 200))
		return -ENOTSUP;
	return chr_is_tty(fd) ? -ENOTSUP : 0;
}

/*
 * Does PATH still name the open device, so that restore finds it there?
 * With --evasive-devices another node of the same device will do, also
 * when the one the task opened was unlinked: PATH loses its " (deleted)".
 */
static int chr_check_path(const struct cp_fd_desc *fd, char *path)
{
	unsigned int ma = major(fd->st.st_rdev), mi = minor(fd->st.st_rdev);
	size_t n = strlen(path), s = strlen(DELETED_SUFFIX);
	bool deleted = n > s && !strcmp(path + n - s, DELETED_SUFFIX);
	struct stat st;

	if (stat(path, &st) == 0 && st.st_dev == fd->st.st_dev && st.st_ino == fd->st.st_ino)
		return 0;
	if (deleted)
		path[n - s] = '\0';
	if (chr_evasive() && stat(path, &st) == 0 && S_ISCHR(st.st_mode) && st.st_rdev == fd->st.st_rdev) {
		pr_info("fd %d of pid %d: %s is another node of device %u:%u (evasive-devices)", fd->fd, (int)fd->pid,
			path, ma, mi);
		return 0;
	}
	if (deleted) {
		pr_err("fd %d of pid %d: the device node %s (%u:%u) was unlinked while open "
		       "(--evasive-devices accepts another node of the same device there)",
		       fd->fd, (int)fd->pid, path, ma, mi);
		return -EOPNOTSUPP;
	}
	pr_err("fd %d of pid %d: %s no longer names the open device %u:%u, so restore could "
	       "not find it there (--evasive-devices accepts another node of the same device)",
	       fd->fd, (int)fd->pid, path, ma, mi);
	return -ESTALE;
}

static int chr_fown_dump(const struct cp_fd_desc *fd, FownEntry *fown)
{
	struct f_owner_ex owner = { 0 };
	int sig, fl;

	if (fd->local_fd < 0)
		return 0;
	fl = fcntl(fd->local_fd, F_GETFL);
	if (fl < 0) {
		pr_perror("cannot read the status flags of fd %d of pid %d", fd->fd, (int)fd->pid);
		return -errno;
	}
	if (fl & O_PATH)
		return 0;
	sig = fcntl(fd->local_fd, F_GETSIG);
	if (fcntl(fd->local_fd, F_GETOWN_EX, &owner) < 0 || sig < 0) {
		pr_perror("cannot read the owner of fd %d of pid %d", fd->fd, (int)fd->pid);
		return -errno;
	}
	fown->pid_type = (uint32_t)owner.type;
	fown->pid = (uint32_t)owner.pid;
	fown->signum = (uint32_t)sig;
	return 0;
}

static int chr_dump(struct cp_plugin *p, const struct cp_fd_desc *fd, uint32_t id, struct cp_payload *out)
{
	RegFileEntry re = REG_FILE_ENTRY__INIT;
	FownEntry fown = FOWN_ENTRY__INIT;
	dev_t rdev = fd->st.st_rdev;
	char path[PATH_MAX + 1];
	int ret;

	ret = snprintf(path, sizeof(path), "%s", fd->link);
	if (ret < 0 || (size_t)ret >= sizeof(path)) {
		pr_err("fd %d of pid %d: path too long: %s", fd->fd, (int)fd->pid, fd->link);
		return -ENAMETOOLONG;
	}
	ret = chr_check_path(fd, path);
	if (!ret)
		ret = chr_fown_dump(fd, &fown);
	if (ret)
		return ret;
	if (!chr_known_rdev(rdev) && !chr_listed(p, rdev))
		pr_warn("fd %d of pid %d: %s (character device %u:%u) will be opened again on "
			"restore; any state the driver keeps for the open file is lost (list it "
			"as reopen = %u:%u in [plugin.devices] if it keeps none)",
			fd->fd, (int)fd->pid, path, major(rdev), minor(rdev), major(rdev), minor(rdev));

	re.id = id;
	/* Close-on-exec is per fd: the core keeps it in FdinfoEntry.flags. */
	re.flags = fd->flags & ~(unsigned int)O_CLOEXEC;
	re.pos = fd->pos;
	re.fown = &fown;
	re.name = path;
	if (fd->mnt_id >= 0) {
		re.has_mnt_id = true;
		re.mnt_id = fd->mnt_id;
	}
	re.has_mode = true;
	re.mode = fd->st.st_mode;
	pr_debug("fd %d of pid %d: character device %s (%u:%u), flags %#o", fd->fd, (int)fd->pid, path, major(rdev),
		 minor(rdev), re.flags);
	return cp_payload_pack(out, &re.base);
}

/*
 * Open device RDEV through a node made for the purpose: in a private
 * directory next to where PATH was (or in /dev, /tmp, /run: the first one
 * whose mount allows device nodes), removed right after the open.
 */
static int chr_open_by_number(const char *path, dev_t rdev, unsigned int flags)
{
	char parent[PATH_MAX], dir[PATH_MAX + 32], node[PATH_MAX + 40];
	const char *where[] = { parent, "/dev", "/tmp", "/run" };
	char *slash;
	int err = ENOENT;

	snprintf(parent, sizeof(parent), "%s", path);
	slash = strrchr(parent, '/');
	if (slash && slash != parent)
		*slash = '\0';
	else
		snprintf(parent, sizeof(parent), "/dev");

	for (size_t i = 0; i < sizeof(where) / sizeof(where[0]); i++) {
		int fd;

		snprintf(dir, sizeof(dir), "%s/.criu-dev.XXXXXX", where[i]);
		if (!mkdtemp(dir)) {
			err = errno;
			continue;
		}
		snprintf(node, sizeof(node), "%s/node", dir);
		if (mknod(node, S_IFCHR | 0600, rdev)) {
			err = errno;
			rmdir(dir);
			continue;
		}
		fd = open(node, (int)flags);
		err = errno;
		unlink(node);
		rmdir(dir);
		if (fd >= 0) {
			pr_info("%s: opened device %u:%u through a temporary node in %s", path, major(rdev),
				minor(rdev), where[i]);
			return fd;
		}
	}
	pr_err("%s: cannot open device %u:%u through a temporary node: %s", path, major(rdev), minor(rdev),
	       strerror(err));
	return -err;
}

/*
 * Open what the entry names and check it is the device it was: a
 * character device, with the number of the table when it is a known one.
 */
static int chr_open_path(const RegFileEntry *re, unsigned int flags, uint32_t id)
{
	const struct chr_known *known = chr_known_by_path(re->name);
	dev_t want = known ? makedev(known->major, known->minor) : 0;
	bool evasive = chr_evasive();
	struct stat st;
	int fd, err;

	fd = open(re->name, (int)flags);
	if (fd < 0) {
		err = errno;
		if (known && evasive && (err == ENOENT || err == ENXIO || err == ENODEV))
			return chr_open_by_number(re->name, want, flags);
		pr_err("cannot open character device %s (file id %u, flags %#o): %s%s", re->name, id, flags,
		       strerror(err), known && err == ENOENT ? " (--evasive-devices would create a node for it)" : "");
		return -err;
	}
	if (fstat(fd, &st)) {
		err = errno;
		pr_perror("cannot stat %s (file id %u)", re->name, id);
		close(fd);
		return -err;
	}
	if (S_ISCHR(st.st_mode) && (!known || st.st_rdev == want))
		return fd;
	close(fd);
	if (known && evasive)
		return chr_open_by_number(re->name, want, flags);
	if (!S_ISCHR(st.st_mode))
		pr_err("%s (file id %u) is not a character device any more (mode %#o)", re->name, id,
		       (unsigned int)st.st_mode);
	else
		pr_err("%s (file id %u) is device %u:%u now, but was %u:%u at dump time", re->name, id,
		       major(st.st_rdev), minor(st.st_rdev), major(want), minor(want));
	return -ESTALE;
}

static int chr_fown_restore(int fd, const FownEntry *fown, unsigned int flags, const char *path)
{
	struct f_owner_ex owner;
	int fl;

	if (fown && fown->signum && fcntl(fd, F_SETSIG, (int)fown->signum) < 0) {
		pr_perror("%s: cannot set signal %u (F_SETSIG)", path, fown->signum);
		return -errno;
	}
	if (fown && fown->pid) {
		owner.type = (int)fown->pid_type;
		owner.pid = (pid_t)fown->pid;
		if (fcntl(fd, F_SETOWN_EX, &owner) < 0) {
			pr_perror("%s: cannot set owner %u (F_SETOWN_EX)", path, fown->pid);
			return -errno;
		}
	}
	/* open() ignores O_ASYNC. */
	if (flags & O_ASYNC) {
		fl = fcntl(fd, F_GETFL);
		if (fl < 0 || fcntl(fd, F_SETFL, fl | O_ASYNC) < 0) {
			pr_perror("%s: cannot set O_ASYNC", path);
			return -errno;
		}
	}
	return 0;
}

static int chr_open(struct cp_plugin *p, const struct cp_file *file, int *out_fd)
{
	unsigned int flags;
	RegFileEntry *re;
	struct stat st;
	int fd = -1, ret;

	(void)p;
	re = reg_file_entry__unpack(NULL, file->payload_len, file->payload);
	if (!re) {
		pr_err("files.img: file id %u: malformed RegFileEntry (%zu bytes)", file->id, file->payload_len);
		return -EINVAL;
	}
	/* Not a device: the next kind (the files plugin's) takes it. Old images have no mode. */
	if (re->has_mode ? !S_ISCHR(re->mode) : (stat(re->name, &st) || !S_ISCHR(st.st_mode))) {
		ret = -ENOTSUP;
		goto out;
	}
	flags = (re->flags & ~(unsigned int)CHR_CREATE_FLAGS) | O_CLOEXEC | O_NOCTTY;
	fd = chr_open_path(re, flags, file->id);
	if (fd < 0) {
		ret = fd;
		goto out;
	}
	/* Most devices ignore the offset; one that cannot seek loses nothing. */
	if (re->pos && !(flags & O_PATH) && lseek(fd, (off_t)re->pos, SEEK_SET) < 0)
		pr_warn("%s (file id %u): offset %llu not restored: %s", re->name, file->id,
			(unsigned long long)re->pos, strerror(errno));
	ret = (flags & O_PATH) ? 0 : chr_fown_restore(fd, re->fown, flags, re->name);
	if (ret) {
		close(fd);
		goto out;
	}
	*out_fd = fd;
out:
	reg_file_entry__free_unpacked(re, NULL);
	return ret;
}

const struct cp_fd_ops devices_chr_ops = {
	.size = sizeof(struct cp_fd_ops),
	.name = "character device",
	.type = DEVICES_TYPE_REG,
	.payload_field = DEVICES_FIELD_REG,
	.match = chr_match,
	.dump = chr_dump,
	.open = chr_open,
};
