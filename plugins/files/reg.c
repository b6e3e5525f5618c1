// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * fd kind "regular file": regular files and directories opened by path,
 * saved as CRIU's RegFileEntry (FileEntry type REG, field 3).
 *
 * Dump saves the path, the status flags, the offset, st_mode and, for a
 * regular file, its size. Restore opens the path again with those flags,
 * checks that it is still the same kind of file and, for a regular file,
 * that it has the size it had (--file-validation), and seeks back to the
 * offset.
 *
 * The devices plugin registers a kind for the same FileEntry type: CRIU
 * saves character devices as RegFileEntry too. On restore the kinds of
 * one type are asked in turn, so open() answers -ENOTSUP for an entry
 * whose mode says character device.
 *
 * A regular file deleted while open is saved whole (ghost.c); one whose
 * name is gone but that can be linked is linked back (remap.c). Under
 * --file-validation buildid the ELF build-id is saved and compared too.
 *
 * The kind also takes the core's own files (the exe, cwd, root and the
 * files behind mappings): fd->fd is -1 for them, fd->use says which.
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

#include <elf.h>

#include <criu/plugin.h>

#include "files.h"
#include "regfile.pb-c.h"

#define DELETED_SUFFIX " (deleted)"

/* open() flags that only make sense when a file is created. */
#define REG_CREATE_FLAGS (O_CREAT | O_EXCL | O_TRUNC | O_NOCTTY | (O_TMPFILE & ~O_DIRECTORY))

const char *files_what(const struct cp_fd_desc *fd)
{
	static char buf[96];

	switch (fd->size >= sizeof(*fd) ? fd->use : CP_USE_FD) {
	case CP_USE_EXE:
		return "the exe";
	case CP_USE_CWD:
		return "the cwd";
	case CP_USE_ROOT:
		return "the root";
	case CP_USE_MAP:
		snprintf(buf, sizeof(buf), "the file mapped at %#llx-%#llx",
			 (unsigned long long)fd->map_start, (unsigned long long)fd->map_end);
		return buf;
	default:
		snprintf(buf, sizeof(buf), "fd %d", fd->fd);
		return buf;
	}
}

int files_reopen(int fd, int flags)
{
	char proc[64];

	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	return open(proc, flags | O_CLOEXEC);
}

bool files_link_deleted(const char *link)
{
	size_t n = strlen(link), s = strlen(DELETED_SUFFIX);

	return n > s && !strcmp(link + n - s, DELETED_SUFFIX);
}

static const char *reg_kind_name(mode_t mode)
{
	switch (mode & S_IFMT) {
	case S_IFREG:
		return "regular file";
	case S_IFDIR:
		return "directory";
	case S_IFCHR:
		return "character device";
	case S_IFBLK:
		return "block device";
	case S_IFIFO:
		return "FIFO";
	case S_IFLNK:
		return "symbolic link";
	case S_IFSOCK:
		return "socket";
	}
	return "file of unknown type";
}

/*
 * The kernel names what has no path as "type:[inode]" or
 * "anon_inode:name"; a memfd as "/memfd:NAME (deleted)". Those belong to
 * other kinds.
 */
static bool reg_is_pseudo(const char *link)
{
	if (link[0] != '/')
		return strchr(link, ':') != NULL;
	return !strncmp(link, "/memfd:", 7) && files_link_deleted(link);
}

static int reg_match(struct cp_plugin *p, const struct cp_fd_desc *fd)
{
	(void)p;
	if (!S_ISREG(fd->st.st_mode) && !S_ISDIR(fd->st.st_mode))
		return -ENOTSUP;
	if (!fd->link || !fd->link[0] || reg_is_pseudo(fd->link))
		return -ENOTSUP;
	return 0;
}

/*
 * Check that PATH (absolute) still names the file the task has open, so
 * that restore finds it there. An unlinked name shows as " (deleted)":
 * then PATH loses the suffix, and 1 says the file has no name left (a
 * ghost to save), 2 that it lives on under other names (a link-remap).
 */
static int reg_check_path(const struct cp_fd_desc *fd, char *path)
{
	struct stat st;

	if (stat(path, &st) == 0 && st.st_dev == fd->st.st_dev && st.st_ino == fd->st.st_ino)
		return 0;
	if (files_link_deleted(path)) {
		path[strlen(path) - strlen(DELETED_SUFFIX)] = '\0';
		return fd->st.st_nlink == 0 ? 1 : 2;
	}
	pr_err("%s of pid %d: %s no longer names the open %s (inode %lu on %u:%u), so "
	       "restore could not find it there",
	       files_what(fd), (int)fd->pid, path, reg_kind_name(fd->st.st_mode), (unsigned long)fd->st.st_ino,
	       major(fd->st.st_dev), minor(fd->st.st_dev));
	return -ESTALE;
}

/* --file-validation is METHOD (buildid when unset, CRIU's default)? */
static bool reg_method_is(const char *method)
{
	const char *m = NULL;

	if (cp_opt_string("file-validation", &m) || !m)
		m = "buildid";
	return !strcmp(m, method);
}

/* Write-only and appending: a log file, whose size CRIU does not check. */
static bool reg_is_log(unsigned int flags)
{
	return (flags & O_ACCMODE) == O_WRONLY && (flags & O_APPEND);
}

/* The build-id of the ELF file behind FD (any fd: read through a new open), 0 if none. */
static int reg_build_id(int fd, uint8_t *out, const char *path)
{
	int rfd, n;

	rfd = files_reopen(fd, O_RDONLY);
	if (rfd < 0) {
		n = -errno;
		pr_perror("cannot open %s to read its build-id", path);
		return n;
	}
	n = files_elf_build_id(rfd, out, FILES_BUILD_ID_MAX);
	close(rfd);
	if (n < 0) {
		errno = -n;
		pr_perror("cannot read the build-id of %s", path);
	}
	return n;
}

/* RegFileEntry.build_id holds the bytes of the build-id one per word, as CRIU writes it. */
static int reg_dump_build_id(const struct cp_fd_desc *fd, RegFileEntry *re, uint32_t *words, const char *path)
{
	uint8_t id[FILES_BUILD_ID_MAX];
	int n;

	if (fd->st.st_size < (off_t)sizeof(Elf32_Ehdr))
		return 0;
	n = reg_build_id(fd->local_fd, id, path);
	if (n <= 0)
		return n;
	for (int i = 0; i < n; i++)
		words[i] = id[i];
	re->n_build_id = (size_t)n;
	re->build_id = words;
	return 0;
}

static int reg_dump(struct cp_plugin *p, const struct cp_fd_desc *fd, uint32_t id, struct cp_payload *out)
{
	RegFileEntry re = REG_FILE_ENTRY__INIT;
	FownEntry fown = FOWN_ENTRY__INIT;
	uint32_t build_id[FILES_BUILD_ID_MAX];
	char path[PATH_MAX + 1];
	bool link_remap = false;
	int ret;

	if (cp_opt_bool("link-remap", &link_remap))
		link_remap = false;

	if (!fd->link || !fd->link[0]) {
		pr_err("%s of pid %d: no path to save", files_what(fd), (int)fd->pid);
		return -EINVAL;
	}
	/* CRIU writes names absolute, as seen from the task's root. */
	ret = snprintf(path, sizeof(path), "%s%s", fd->link[0] == '/' ? "" : "/", fd->link);
	if (ret < 0 || (size_t)ret >= sizeof(path)) {
		pr_err("%s of pid %d: path too long: %s", files_what(fd), (int)fd->pid, fd->link);
		return -ENAMETOOLONG;
	}
	ret = reg_check_path(fd, path);
	if (ret == 2)
		ret = files_link_remap_dump(p, fd, id, path);
	if (ret == 1 && link_remap) {
		/* --link-remap: link it back; the kernel allows it only for O_TMPFILE files. */
		ret = files_link_remap_dump(p, fd, id, path);
		if (ret == -ENOENT)
			ret = 1;
	}
	if (ret == 1)
		ret = files_ghost_dump(p, fd, id, path);
	if (ret)
		return ret;
	ret = files_fown_dump(fd->local_fd, fd->pid, fd->fd, &fown);
	if (ret)
		return ret;

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
	/* A log file (write-only, appending) may grow meanwhile: CRIU keeps no size for it. */
	if (S_ISREG(fd->st.st_mode) && !reg_is_log(re.flags)) {
		re.has_size = true;
		re.size = (uint64_t)fd->st.st_size;
	}
	if (S_ISREG(fd->st.st_mode) && reg_method_is("buildid")) {
		ret = reg_dump_build_id(fd, &re, build_id, path);
		if (ret)
			return ret;
	}
	pr_debug("%s of pid %d: %s %s, flags %#o, pos %llu", files_what(fd), (int)fd->pid, reg_kind_name(fd->st.st_mode),
		 path, re.flags, (unsigned long long)re.pos);
	return cp_payload_pack(out, &re.base);
}

static void reg_hex(char *buf, size_t len, const uint8_t *b, size_t n)
{
	for (size_t i = 0; i < n && 2 * i + 2 < len; i++)
		snprintf(buf + 2 * i, len - 2 * i, "%02x", b[i]);
}

/* Under --file-validation buildid, is the ELF build-id of FD the one saved? */
static int reg_validate_build_id(int fd, const RegFileEntry *re, const char *path, uint32_t id)
{
	uint8_t now[FILES_BUILD_ID_MAX], was[FILES_BUILD_ID_MAX];
	char hnow[2 * FILES_BUILD_ID_MAX + 1] = "none", hwas[2 * FILES_BUILD_ID_MAX + 1] = "";
	size_t n = re->n_build_id < FILES_BUILD_ID_MAX ? re->n_build_id : FILES_BUILD_ID_MAX;
	int got;

	if (!n || !reg_method_is("buildid"))
		return 0;
	got = reg_build_id(fd, now, path);
	if (got < 0)
		return got;
	for (size_t i = 0; i < n; i++)
		was[i] = (uint8_t)re->build_id[i];
	if ((size_t)got == n && !memcmp(now, was, n))
		return 0;
	if (got)
		reg_hex(hnow, sizeof(hnow), now, (size_t)got);
	reg_hex(hwas, sizeof(hwas), was, n);
	pr_err("%s (file id %u) changed since the dump: its ELF build-id is %s, was %s (put the file "
	       "back as it was, or restore with --file-validation filesize)",
	       path, id, hnow, hwas);
	return -ESTALE;
}

/* Is the file at FD what the image describes? */
static int reg_validate(int fd, const RegFileEntry *re, const char *path, uint32_t id)
{
	struct stat st;

	if (fstat(fd, &st)) {
		pr_perror("cannot stat %s (file id %u)", path, id);
		return -errno;
	}
	if (re->has_mode && (st.st_mode & S_IFMT) != (re->mode & S_IFMT)) {
		pr_err("%s (file id %u) is a %s now, but was a %s at dump time", path, id, reg_kind_name(st.st_mode),
		       reg_kind_name(re->mode));
		return -ESTALE;
	}
	/* Both methods check the size, as CRIU's do. */
	if (S_ISREG(st.st_mode) && re->has_size && (uint64_t)st.st_size != re->size) {
		pr_err("%s (file id %u) changed since the dump: its size is %lld bytes, was %llu (put "
		       "the file back as it was)",
		       path, id, (long long)st.st_size, (unsigned long long)re->size);
		return -ESTALE;
	}
	return S_ISREG(st.st_mode) ? reg_validate_build_id(fd, re, path, id) : 0;
}

static int reg_open(struct cp_plugin *p, const struct cp_file *file, int *out_fd)
{
	char path[PATH_MAX + 1];
	uint32_t remap_id = 0;
	int remap_type = 0;
	RegFileEntry *re;
	unsigned int flags;
	int fd = -1, ret;

	re = reg_file_entry__unpack(NULL, file->payload_len, file->payload);
	if (!re) {
		pr_err("files.img: file id %u: malformed RegFileEntry (%zu bytes)", file->id, file->payload_len);
		return -EINVAL;
	}
	/* A character device is the devices plugin's. */
	if (re->has_mode && S_ISCHR(re->mode)) {
		ret = -ENOTSUP;
		goto out;
	}
	ret = snprintf(path, sizeof(path), "%s%s", re->name[0] == '/' ? "" : "/", re->name);
	if (ret < 0 || (size_t)ret >= sizeof(path)) {
		pr_err("files.img: file id %u: path too long: %s", file->id, re->name);
		ret = -ENAMETOOLONG;
		goto out;
	}

	flags = re->flags & ~(unsigned int)REG_CREATE_FLAGS;
	/* An O_TMPFILE file was opened with O_DIRECTORY on its directory. */
	if (re->has_mode && !S_ISDIR(re->mode))
		flags &= ~(unsigned int)O_DIRECTORY;
	/* A file deleted while open comes back from its ghost-file image. */
	ret = files_remap_find(p, file->id, &remap_type, &remap_id);
	if (ret < 0)
		goto out;
	/* The core sets the fd flags when it moves the fd into place. */
	if (ret == 1 && remap_type == FILES_REMAP_LINKED) {
		fd = files_link_remap_open(p, path, remap_id, flags | O_CLOEXEC, file->id);
		if (fd < 0) {
			ret = fd;
			goto out;
		}
	} else if (ret == 1) {
		fd = files_ghost_open(p, path, remap_id, flags | O_CLOEXEC, file->id);
		if (fd < 0) {
			ret = fd;
			goto out;
		}
	} else {
		fd = open(path, (int)(flags | O_CLOEXEC));
		if (fd < 0) {
			ret = -errno;
			pr_perror("cannot open %s (file id %u, flags %#o) for pid %d", path, file->id, flags,
				  (int)file->pid);
			goto out;
		}
	}
	ret = reg_validate(fd, re, path, file->id);
	if (ret)
		goto out_close;
	/* An O_PATH fd has no offset (lseek answers EBADF) and no owner. */
	if (!(flags & O_PATH)) {
		errno = 0;
		/* A FIFO (the path of a FifoEntry) has no offset either. */
		if (!(re->has_mode && S_ISFIFO(re->mode)) &&
		    lseek(fd, (off_t)re->pos, SEEK_SET) != (off_t)re->pos) {
			ret = errno ? -errno : -EIO;
			pr_perror("cannot seek %s (file id %u) to %llu", path, file->id, (unsigned long long)re->pos);
			goto out_close;
		}
		ret = files_fown_restore(fd, re->fown, path);
		if (!ret)
			ret = files_set_async(fd, flags, path);
		if (ret)
			goto out_close;
	}
	*out_fd = fd;
	fd = -1;
	ret = 0;
out_close:
	if (fd >= 0)
		close(fd);
out:
	reg_file_entry__free_unpacked(re, NULL);
	return ret;
}

const struct cp_fd_ops files_reg_ops = {
	.size = sizeof(struct cp_fd_ops),
	.name = "regular file",
	.type = FILES_TYPE_REG,
	.payload_field = FILES_FIELD_REG,
	.match = reg_match,
	.dump = reg_dump,
	.open = reg_open,
	/* The core's own files are regular files and directories too. */
	.uses = CP_USES(CP_USE_EXE) | CP_USES(CP_USE_CWD) | CP_USES(CP_USE_ROOT) | CP_USES(CP_USE_MAP),
};
