// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The "regular file" kind of the files plugin, against the mock core:
 * dump an fd of this process, close it, open it again from the entry,
 * and compare: offset, status flags, file, type. Refusals (a deleted
 * file, a file that changed size or type) must say what and where.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "files.h"
#include "mock-sdk.h"
#include "fdinfo.pb-c.h"
#include "regfile.pb-c.h"

#define SIZE 10000

extern const struct cp_plugin_desc criu_plugin_descriptor;

static void start_files(void)
{
	mock_plugin_start("files", criu_plugin_descriptor.init);
}

/* A file of SIZE bytes in the scratch dir; PATH gets its name. */
static void make_file(const char *name, char *path, size_t len)
{
	static char buf[SIZE];
	int fd;

	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (char)(i * 7 + 3);
	snprintf(path, len, "%s/%s", mock_tmpdir(), name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	CHECK(fd >= 0);
	CHECK_EQ(write(fd, buf, SIZE), SIZE);
	close(fd);
}

static RegFileEntry *unpack(const struct mock_file *f)
{
	return reg_file_entry__unpack(NULL, f->len, f->payload);
}

/* Dump FD, close it, restore it; returns the new fd (or -1). */
static int round_trip(int fd, struct mock_file *f)
{
	const char *kind = NULL;
	int nfd = -1, ret;

	ret = mock_dump_own_fd(fd, 7, f);
	CHECK_EQ(ret, 0);
	if (ret)
		return -1;
	CHECK_EQ(f->type, FILES_TYPE_REG);
	CHECK_EQ(f->field, FILES_FIELD_REG);
	close(fd);
	ret = mock_open_file(f, fd, &nfd, &kind);
	CHECK_EQ(ret, 0);
	CHECK(kind && !strcmp(kind, "regular file"));
	if (ret)
		printf("# log:\n%s", mock_log_text());
	return ret ? -1 : nfd;
}

static void check_same_file(int fd, const char *path)
{
	struct stat a, b;

	CHECK_EQ(fstat(fd, &a), 0);
	CHECK_EQ(stat(path, &b), 0);
	CHECK_EQ(a.st_ino, b.st_ino);
	CHECK_EQ(a.st_dev, b.st_dev);
}

static void t_init_registers(void)
{
	struct cp_fd_desc d;
	int fd;

	start_files();
	/* The kind is there: a regular file matches. */
	fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
	CHECK(fd >= 0);
	CHECK_EQ(mock_fd_desc(fd, &d), 0);
	CHECK_EQ(files_reg_ops.match(NULL, &d), 0);
	mock_fd_desc_free(&d);
	close(fd);
}

static void t_rdwr_offset(void)
{
	struct mock_file f;
	char path[256], rd[16], want[16];
	RegFileEntry *re;
	int fd, nfd;

	start_files();
	make_file("rw", path, sizeof(path));
	fd = open(path, O_RDWR);
	CHECK(fd >= 0);
	CHECK_EQ(pread(fd, want, sizeof(want), 4321), sizeof(want));
	CHECK_EQ(lseek(fd, 4321, SEEK_SET), 4321);
	nfd = round_trip(fd, &f);
	re = unpack(&f);
	CHECK(re != NULL);
	if (re) {
		CHECK(!strcmp(re->name, path));
		CHECK_EQ(re->pos, 4321);
		CHECK(re->has_size && re->size == SIZE);
		CHECK(re->has_mode && S_ISREG(re->mode));
		CHECK_EQ(re->flags & O_ACCMODE, O_RDWR);
		reg_file_entry__free_unpacked(re, NULL);
	}
	CHECK(nfd >= 0);
	if (nfd >= 0) {
		CHECK_EQ(lseek(nfd, 0, SEEK_CUR), 4321);
		CHECK_EQ(fcntl(nfd, F_GETFL) & (O_ACCMODE | O_APPEND), O_RDWR);
		CHECK_EQ(read(nfd, rd, sizeof(rd)), sizeof(rd));
		CHECK(!memcmp(rd, want, sizeof(rd)));
		check_same_file(nfd, path);
		close(nfd);
	}
	mock_file_free(&f);
}

static void t_append(void)
{
	struct mock_file f;
	char path[256];
	int fd, nfd;

	start_files();
	make_file("append", path, sizeof(path));
	fd = open(path, O_WRONLY | O_APPEND);
	CHECK(fd >= 0);
	CHECK_EQ(write(fd, "abc", 3), 3);
	nfd = round_trip(fd, &f);
	CHECK(nfd >= 0);
	if (nfd >= 0) {
		CHECK_EQ(lseek(nfd, 0, SEEK_CUR), SIZE + 3);
		CHECK_EQ(fcntl(nfd, F_GETFL) & (O_ACCMODE | O_APPEND), O_WRONLY | O_APPEND);
		CHECK_EQ(write(nfd, "d", 1), 1);
		CHECK_EQ(lseek(nfd, 0, SEEK_END), SIZE + 4);
		close(nfd);
	}
	mock_file_free(&f);
}

static void t_rdonly_cloexec_nonblock(void)
{
	struct mock_file f;
	char path[256];
	RegFileEntry *re;
	int fd, nfd;

	start_files();
	make_file("ro", path, sizeof(path));
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOATIME);
	CHECK(fd >= 0);
	CHECK_EQ(lseek(fd, 777, SEEK_SET), 777);
	nfd = round_trip(fd, &f);
	re = unpack(&f);
	CHECK(re != NULL);
	/* O_CLOEXEC is per fd: it lives in FdinfoEntry, not in the file's flags. */
	if (re) {
		CHECK(!(re->flags & O_CLOEXEC));
		CHECK(re->flags & O_NONBLOCK);
		reg_file_entry__free_unpacked(re, NULL);
	}
	CHECK(nfd >= 0);
	if (nfd >= 0) {
		int fl = fcntl(nfd, F_GETFL);

		CHECK_EQ(lseek(nfd, 0, SEEK_CUR), 777);
		CHECK_EQ(fl & O_ACCMODE, O_RDONLY);
		CHECK(fl & O_NONBLOCK);
		CHECK(fl & O_NOATIME);
		close(nfd);
	}
	mock_file_free(&f);
}

static void t_directory(void)
{
	struct mock_file f;
	char path[256];
	RegFileEntry *re;
	struct stat st;
	int fd, nfd;

	start_files();
	snprintf(path, sizeof(path), "%s/dir", mock_tmpdir());
	CHECK_EQ(mkdir(path, 0755), 0);
	fd = open(path, O_RDONLY | O_DIRECTORY);
	CHECK(fd >= 0);
	nfd = round_trip(fd, &f);
	re = unpack(&f);
	CHECK(re != NULL);
	if (re) {
		CHECK(S_ISDIR(re->mode));
		CHECK(!re->has_size);
		reg_file_entry__free_unpacked(re, NULL);
	}
	CHECK(nfd >= 0);
	if (nfd >= 0) {
		CHECK_EQ(fstat(nfd, &st), 0);
		CHECK(S_ISDIR(st.st_mode));
		check_same_file(nfd, path);
		close(nfd);
	}
	mock_file_free(&f);
}

/* What the core hands over for cwd, root and exe: an O_PATH fd it opened. */
static void t_opath(void)
{
	const char *what[] = { "file", "dir" };

	start_files();
	for (size_t i = 0; i < 2; i++) {
		struct mock_file f;
		char path[256];
		int fd, nfd;

		if (i == 0) {
			make_file("opath", path, sizeof(path));
		} else {
			snprintf(path, sizeof(path), "%s/opath-dir", mock_tmpdir());
			CHECK_EQ(mkdir(path, 0755), 0);
		}
		printf("# O_PATH %s\n", what[i]);
		fd = open(path, O_PATH);
		CHECK(fd >= 0);
		nfd = round_trip(fd, &f);
		CHECK(nfd >= 0);
		if (nfd >= 0) {
			CHECK(fcntl(nfd, F_GETFL) & O_PATH);
			check_same_file(nfd, path);
			close(nfd);
		}
		mock_file_free(&f);
	}
}

/*
 * The core describes cwd, root, exe and mapped files itself: an fd it
 * opened (no task fd number, no fdinfo text). A directory, as for cwd.
 */
static void t_core_desc(void)
{
	const char *kind = NULL;
	struct cp_fd_desc d;
	struct mock_file f;
	int fd, nfd = -1;

	start_files();
	fd = open(mock_tmpdir(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	CHECK(fd >= 0);
	CHECK_EQ(mock_fd_desc(fd, &d), 0);
	free((char *)d.fdinfo);
	d.fdinfo = NULL;
	d.fd = -1;
	d.mnt_id = -1;
	CHECK_EQ(mock_dump_fd(&d, 2, &f), 0);
	mock_fd_desc_free(&d);
	close(fd);
	CHECK_EQ(mock_open_file(&f, -1, &nfd, &kind), 0);
	CHECK(kind && !strcmp(kind, "regular file"));
	if (nfd >= 0) {
		check_same_file(nfd, mock_tmpdir());
		close(nfd);
	}
	mock_file_free(&f);
}

/* A file opened again through /proc/self/fd/N is saved under its real name. */
static void t_proc_self_fd(void)
{
	struct mock_file f;
	char path[256], via[64];
	RegFileEntry *re;
	int fd, fd2, nfd;

	start_files();
	make_file("via-proc", path, sizeof(path));
	fd = open(path, O_RDONLY);
	CHECK(fd >= 0);
	snprintf(via, sizeof(via), "/proc/self/fd/%d", fd);
	fd2 = open(via, O_RDWR);
	CHECK(fd2 >= 0);
	close(fd);
	CHECK_EQ(lseek(fd2, 55, SEEK_SET), 55);
	nfd = round_trip(fd2, &f);
	re = unpack(&f);
	CHECK(re && !strcmp(re->name, path));
	if (re)
		reg_file_entry__free_unpacked(re, NULL);
	CHECK(nfd >= 0);
	if (nfd >= 0) {
		CHECK_EQ(lseek(nfd, 0, SEEK_CUR), 55);
		CHECK_EQ(fcntl(nfd, F_GETFL) & O_ACCMODE, O_RDWR);
		check_same_file(nfd, path);
		close(nfd);
	}
	mock_file_free(&f);
}

static void t_fown_async(void)
{
	struct f_owner_ex owner = { F_OWNER_PID, 0 };
	struct mock_file f;
	char path[256];
	int fd, nfd, async;

	start_files();
	make_file("fown", path, sizeof(path));
	fd = open(path, O_RDONLY);
	CHECK(fd >= 0);
	owner.pid = getpid();
	CHECK_EQ(fcntl(fd, F_SETOWN_EX, &owner), 0);
	CHECK_EQ(fcntl(fd, F_SETSIG, SIGRTMIN + 1), 0);
	/* Files without ->fasync (ext4, tmpfs) drop O_ASYNC: compare with what stuck. */
	CHECK_EQ(fcntl(fd, F_SETFL, O_ASYNC), 0);
	async = fcntl(fd, F_GETFL) & O_ASYNC;
	nfd = round_trip(fd, &f);
	CHECK(nfd >= 0);
	if (nfd >= 0) {
		struct f_owner_ex got = { 0 };

		CHECK_EQ(fcntl(nfd, F_GETOWN_EX, &got), 0);
		CHECK_EQ(got.type, F_OWNER_PID);
		CHECK_EQ(got.pid, getpid());
		CHECK_EQ(fcntl(nfd, F_GETSIG), SIGRTMIN + 1);
		CHECK_EQ(fcntl(nfd, F_GETFL) & O_ASYNC, async);
		close(nfd);
	}
	mock_file_free(&f);
}

/* Dump FD and expect the file to be refused at restore with ERR. */
static int dump_then_change(const char *path, int fd, struct mock_file *f)
{
	int ret = mock_dump_own_fd(fd, 9, f);

	CHECK_EQ(ret, 0);
	close(fd);
	(void)path;
	return ret;
}

static void t_size_changed(void)
{
	struct mock_file f;
	char path[256];
	int fd, nfd = -1;

	start_files();
	make_file("grows", path, sizeof(path));
	fd = open(path, O_RDONLY);
	CHECK(fd >= 0);
	dump_then_change(path, fd, &f);
	CHECK_EQ(truncate(path, SIZE + 10), 0);

	/* The default (CRIU's "buildid") and "filesize" both check the size. */
	CHECK_EQ(mock_open_file(&f, 5, &nfd, NULL), -ESTALE);
	CHECK_EQ(nfd, -1);
	CHECK_LOG(path);
	CHECK_LOG("size is 10010 bytes, was 10000");
	mock_set_opt("file-validation", "filesize");
	mock_log_clear();
	CHECK_EQ(mock_open_file(&f, 5, &nfd, NULL), -ESTALE);
	CHECK_LOG("changed since the dump");
	mock_file_free(&f);
}

/* Copy this test program (an ELF with a build-id) to PATH; the offset of its build-id bytes. */
static off_t copy_self(const char *path)
{
	int in = open("/proc/self/exe", O_RDONLY), out = open(path, O_RDWR | O_CREAT | O_TRUNC, 0755);
	ssize_t n, total = 0;
	struct stat st;
	char *buf, *note;
	off_t at;

	CHECK(in >= 0 && out >= 0 && !fstat(in, &st) && st.st_size > 0);
	/* Sized by the file: a sanitizer build of this program is several MiB. */
	buf = malloc((size_t)st.st_size);
	CHECK(buf != NULL);
	while (buf && total < st.st_size &&
	       (n = read(in, buf + total, (size_t)(st.st_size - total))) > 0)
		total += n;
	CHECK(total == st.st_size);
	CHECK_EQ(write(out, buf, (size_t)total), total);
	close(in);
	close(out);
	/* The note: namesz 4, descsz, type 3 (NT_GNU_BUILD_ID), "GNU". */
	note = buf ? memmem(buf, (size_t)total, "\x04\0\0\0\x14\0\0\0\x03\0\0\0GNU\0", 16) : NULL;
	CHECK(note != NULL);
	at = note ? note - buf + 16 : -1;
	free(buf);
	return at;
}

static void t_build_id(void)
{
	struct mock_file f;
	char path[256];
	RegFileEntry *re;
	off_t at;
	int fd, nfd = -1;
	unsigned char b = 0;

	start_files();
	snprintf(path, sizeof(path), "%s/elf", mock_tmpdir());
	at = copy_self(path);
	fd = open(path, O_RDONLY);
	CHECK(fd >= 0 && at > 0);
	CHECK_EQ(mock_dump_own_fd(fd, 1, &f), 0);
	close(fd);
	re = unpack(&f);
	CHECK(re && re->n_build_id == 20);
	if (re)
		reg_file_entry__free_unpacked(re, NULL);
	/* Same size, another build-id. */
	fd = open(path, O_RDWR);
	CHECK(fd >= 0 && pread(fd, &b, 1, at) == 1);
	b ^= 0xff;
	CHECK_EQ(pwrite(fd, &b, 1, at), 1);
	close(fd);
	CHECK_EQ(mock_open_file(&f, 5, &nfd, NULL), -ESTALE);
	CHECK_EQ(nfd, -1);
	CHECK_LOG(path);
	CHECK_LOG("ELF build-id is");
	/* filesize looks at the size only. */
	mock_set_opt("file-validation", "filesize");
	CHECK_EQ(mock_open_file(&f, 5, &nfd, NULL), 0);
	if (nfd >= 0)
		close(nfd);
	mock_file_free(&f);
}

static void t_no_build_id(void)
{
	struct mock_file f;
	char path[256];
	RegFileEntry *re;
	int fd;

	start_files();
	make_file("data", path, sizeof(path));
	fd = open(path, O_RDONLY);
	CHECK(fd >= 0);
	CHECK_EQ(mock_dump_own_fd(fd, 1, &f), 0);
	close(fd);
	re = unpack(&f);
	CHECK(re && re->n_build_id == 0 && re->has_size);
	if (re)
		reg_file_entry__free_unpacked(re, NULL);
	mock_file_free(&f);
	/* A log file (write-only, appending) keeps no size, as in CRIU. */
	fd = open(path, O_WRONLY | O_APPEND);
	CHECK_EQ(mock_dump_own_fd(fd, 2, &f), 0);
	close(fd);
	re = unpack(&f);
	CHECK(re && !re->has_size);
	if (re)
		reg_file_entry__free_unpacked(re, NULL);
	mock_file_free(&f);
}

static void t_type_changed(void)
{
	struct mock_file f;
	char path[256];
	int fd, nfd = -1;

	start_files();
	make_file("becomes-dir", path, sizeof(path));
	fd = open(path, O_RDONLY);
	CHECK(fd >= 0);
	dump_then_change(path, fd, &f);
	CHECK_EQ(unlink(path), 0);
	CHECK_EQ(mkdir(path, 0755), 0);
	CHECK_EQ(mock_open_file(&f, 5, &nfd, NULL), -ESTALE);
	CHECK_LOG(path);
	CHECK_LOG("is a directory now, but was a regular file");
	mock_file_free(&f);
}

static void t_missing(void)
{
	struct mock_file f;
	char path[256];
	int fd, nfd = -1;

	start_files();
	make_file("gone", path, sizeof(path));
	fd = open(path, O_RDONLY);
	CHECK(fd >= 0);
	dump_then_change(path, fd, &f);
	CHECK_EQ(unlink(path), 0);
	CHECK_EQ(mock_open_file(&f, 5, &nfd, NULL), -ENOENT);
	CHECK_LOG(path);
	CHECK_LOG("No such file or directory");
	mock_file_free(&f);
}

/* Write files.img as the core would, for the post-restore cleanup to read. */
static void write_files_img(const struct mock_file *f)
{
	FileEntry fe = FILE_ENTRY__INIT;
	struct cp_image *img;

	fe.type = FD_TYPES__REG;
	fe.id = f->id;
	fe.reg = unpack(f);
	img = cp_image_open_write(NULL, "files.img", FILES_FILES_MAGIC);
	CHECK(img && fe.reg);
	if (img && fe.reg)
		CHECK_EQ(cp_image_write_msg(img, &fe.base), 0);
	CHECK_EQ(cp_image_close(img), 0);
	if (fe.reg)
		reg_file_entry__free_unpacked(fe.reg, NULL);
}

/* A file deleted while open comes back from its ghost, under its old name. */
static void t_ghost(void)
{
	char path[256], gpath[300], link[300], want[300], buf[32];
	struct mock_file f, f2;
	RegFileEntry *re;
	struct stat st;
	int fd, fd2, nfd = -1, nfd2 = -1;

	start_files();
	make_file("ghost", path, sizeof(path));
	CHECK_EQ(chmod(path, 0640), 0);
	fd = open(path, O_WRONLY);
	fd2 = open(path, O_RDONLY);
	CHECK(fd >= 0 && fd2 >= 0);
	CHECK_EQ(lseek(fd, 1234, SEEK_SET), 1234);
	CHECK_EQ(unlink(path), 0);
	/* Write-only: the dump must read it through another open. */
	CHECK_EQ(mock_dump_own_fd(fd, 3, &f), 0);
	CHECK_EQ(mock_dump_own_fd(fd2, 4, &f2), 0);
	CHECK_EQ(mock_run_hooks(CP_STAGE_POST_DUMP), 0);
	close(fd);
	close(fd2);
	re = unpack(&f);
	CHECK(re && !strcmp(re->name, path));
	if (re)
		reg_file_entry__free_unpacked(re, NULL);

	/* One ghost for the inode, two remap entries. */
	snprintf(gpath, sizeof(gpath), "%s/ghost-file-1.img", mock_images_dir());
	CHECK_EQ(access(gpath, F_OK), 0);
	snprintf(gpath, sizeof(gpath), "%s/ghost-file-2.img", mock_images_dir());
	CHECK(access(gpath, F_OK) != 0);

	write_files_img(&f);
	CHECK_EQ(mock_open_file(&f, 3, &nfd, NULL), 0);
	CHECK_EQ(mock_open_file(&f2, 4, &nfd2, NULL), 0);
	if (nfd < 0 || nfd2 < 0) {
		printf("# log:\n%s", mock_log_text());
		goto out;
	}
	CHECK_EQ(lseek(nfd, 0, SEEK_CUR), 1234);
	CHECK_EQ(fcntl(nfd, F_GETFL) & O_ACCMODE, O_WRONLY);
	CHECK_EQ(fstat(nfd, &st), 0);
	CHECK_EQ(st.st_size, SIZE);
	CHECK_EQ(st.st_mode & 07777, 0640);
	CHECK_EQ(pread(nfd2, buf, 8, 100), 8);
	CHECK_EQ(buf[0], (char)(100 * 7 + 3));
	/* Both fds are the one restored inode; the old name is gone again. */
	CHECK_EQ(fstat(nfd2, &st), 0);
	CHECK_EQ(access(path, F_OK), -1);
	snprintf(link, sizeof(link), "/proc/self/fd/%d", nfd);
	memset(want, 0, sizeof(want));
	CHECK(readlink(link, want, sizeof(want) - 1) > 0);
	CHECK(!strncmp(want, path, strlen(path)));
	CHECK(strstr(want, "(deleted)") != NULL);

	/* criu removes the ghost after restore; the fds keep the file. */
	snprintf(gpath, sizeof(gpath), "%s.cr.1.ghost", path);
	CHECK_EQ(access(gpath, F_OK), 0);
	CHECK_EQ(mock_run_hooks(CP_STAGE_POST_RESTORE), 0);
	CHECK_EQ(access(gpath, F_OK), -1);
	CHECK_EQ(fstat(nfd, &st), 0);
	CHECK_EQ(st.st_nlink, 0);
out:
	if (nfd >= 0)
		close(nfd);
	if (nfd2 >= 0)
		close(nfd2);
	mock_file_free(&f);
	mock_file_free(&f2);
}

/* A sparse deleted file is saved in chunks: only its data counts against the limit. */
static void t_ghost_sparse(void)
{
	const off_t size = 8 << 20;
	char path[256], buf[8];
	struct mock_file f;
	struct stat st;
	int fd, nfd = -1;

	start_files();
	snprintf(path, sizeof(path), "%s/sparse", mock_tmpdir());
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	CHECK(fd >= 0);
	CHECK_EQ(ftruncate(fd, size), 0);
	CHECK_EQ(pwrite(fd, "head", 4, 0), 4);
	CHECK_EQ(pwrite(fd, "midl", 4, size / 2), 4);
	CHECK_EQ(pwrite(fd, "tail", 4, size - 4), 4);
	CHECK_EQ(unlink(path), 0);

	/* Without --ghost-fiemap the whole 8 MiB counts: over the limit. */
	mock_set_opt("ghost-fiemap", "no");
	CHECK_EQ(mock_dump_own_fd(fd, 3, &f), -EFBIG);
	mock_set_opt("ghost-fiemap", "yes");
	CHECK_EQ(mock_dump_own_fd(fd, 3, &f), 0);
	CHECK_EQ(mock_run_hooks(CP_STAGE_POST_DUMP), 0);
	close(fd);
	if (tap_failed || mock_check_failed)
		return;

	CHECK_EQ(mock_open_file(&f, 3, &nfd, NULL), 0);
	if (nfd >= 0) {
		CHECK_EQ(fstat(nfd, &st), 0);
		CHECK_EQ(st.st_size, size);
		CHECK_EQ(pread(nfd, buf, 4, 0), 4);
		CHECK(!memcmp(buf, "head", 4));
		CHECK_EQ(pread(nfd, buf, 4, size / 2), 4);
		CHECK(!memcmp(buf, "midl", 4));
		CHECK_EQ(pread(nfd, buf, 4, size - 4), 4);
		CHECK(!memcmp(buf, "tail", 4));
		CHECK_EQ(pread(nfd, buf, 4, 1 << 20), 4);
		CHECK(!memcmp(buf, "\0\0\0\0", 4));
		close(nfd);
	} else {
		printf("# log:\n%s", mock_log_text());
	}
	mock_file_free(&f);
}

static void t_ghost_limit(void)
{
	struct mock_file f;
	char path[256];
	int fd;

	start_files();
	mock_set_opt("ghost-limit", "4096");
	make_file("big-ghost", path, sizeof(path));
	fd = open(path, O_RDONLY);
	CHECK(fd >= 0);
	CHECK_EQ(unlink(path), 0);
	CHECK_EQ(mock_dump_own_fd(fd, 3, &f), -EFBIG);
	CHECK_LOG(path);
	CHECK_LOG("more than --ghost-limit (4096)");
	close(fd);
}

/* Unlinked under one name, alive under another: linked back as link_remap.ID. */
static void link_remap_dump(const char *name, char *path, char *lname, struct mock_file *f, int *fd)
{
	char other[300];

	make_file(name, path, 256);
	snprintf(other, sizeof(other), "%s.other", path);
	CHECK_EQ(link(path, other), 0);
	*fd = open(path, O_RDWR);
	CHECK(*fd >= 0);
	CHECK_EQ(unlink(path), 0);
	CHECK_EQ(mock_dump_own_fd(*fd, 3, f), 0);
	snprintf(lname, 300, "%s/link_remap.3", mock_tmpdir());
}

static void t_link_remap(void)
{
	struct mock_file f;
	char path[256], lname[300];
	struct stat a, b;
	int fd, nfd = -1;

	start_files();
	link_remap_dump("linked", path, lname, &f, &fd);
	CHECK_LOG("is linked back as");
	CHECK_EQ(mock_run_hooks(CP_STAGE_POST_DUMP), 0);
	CHECK_EQ(access(lname, F_OK), 0); /* kept for the restore */
	CHECK_EQ(mock_open_file(&f, 5, &nfd, NULL), 0);
	CHECK(nfd >= 0 && !fstat(fd, &a) && !fstat(nfd, &b) && a.st_ino == b.st_ino);
	CHECK(access(path, F_OK) != 0); /* the old name is gone again */
	CHECK_EQ(mock_run_hooks(CP_STAGE_POST_RESTORE), 0);
	CHECK(access(lname, F_OK) != 0);
	if (nfd >= 0)
		close(nfd);
	close(fd);
	mock_file_free(&f);
}

/* A failed dump takes its links away again. */
static void t_link_remap_failed_dump(void)
{
	struct mock_file f;
	char path[256], lname[300];
	int fd;

	start_files();
	link_remap_dump("linked", path, lname, &f, &fd);
	CHECK_EQ(access(lname, F_OK), 0);
	CHECK_EQ(mock_run_hooks_ret(CP_STAGE_POST_DUMP, -EIO), 0);
	CHECK(access(lname, F_OK) != 0);
	close(fd);
	mock_file_free(&f);
}

/* A file really named "x (deleted)" is an ordinary file. */
static void t_named_deleted(void)
{
	struct mock_file f;
	char path[256];
	int fd, nfd;

	start_files();
	make_file("x (deleted)", path, sizeof(path));
	fd = open(path, O_RDONLY);
	CHECK(fd >= 0);
	nfd = round_trip(fd, &f);
	CHECK(nfd >= 0);
	if (nfd >= 0) {
		check_same_file(nfd, path);
		close(nfd);
	}
	mock_file_free(&f);
}

/* What has no path, or is a device, is for other kinds. */
static void t_not_mine(void)
{
	int p[2], fds[5];

	start_files();
	CHECK_EQ(pipe(p), 0);
	fds[0] = p[0];
	fds[1] = socket(AF_UNIX, SOCK_STREAM, 0);
	fds[2] = eventfd(0, 0);
	fds[3] = memfd_create("test", 0);
	fds[4] = open("/dev/null", O_RDWR);
	for (int i = 0; i < 5; i++) {
		struct cp_fd_desc d;

		CHECK(fds[i] >= 0);
		CHECK_EQ(mock_fd_desc(fds[i], &d), 0);
		CHECK_EQ(files_reg_ops.match(NULL, &d), -ENOTSUP);
		mock_fd_desc_free(&d);
		close(fds[i]);
	}
	close(p[1]);
}

/* A character device entry is left to the next kind (the devices plugin). */
static void t_chrdev_entry_not_mine(void)
{
	RegFileEntry re = REG_FILE_ENTRY__INIT;
	FownEntry fown = FOWN_ENTRY__INIT;
	struct cp_file file = { .size = sizeof(file), .id = 4, .type = FILES_TYPE_REG, .fd = 3 };
	uint8_t buf[256];
	int fd = -1;

	start_files();
	re.id = 4;
	re.flags = O_RDWR;
	re.fown = &fown;
	re.name = "/dev/null";
	re.has_mode = true;
	re.mode = S_IFCHR | 0666;
	file.payload = buf;
	file.payload_len = reg_file_entry__pack(&re, buf);
	CHECK_EQ(files_reg_ops.open(NULL, &file, &fd), -ENOTSUP);
	CHECK_EQ(fd, -1);
}

static void t_malformed(void)
{
	struct cp_file file = { .size = sizeof(file), .id = 4, .type = FILES_TYPE_REG, .fd = 3 };
	static const uint8_t junk[] = { 0xff, 0xff, 0xff, 0x01, 0x02 };
	int fd = -1;

	start_files();
	file.payload = junk;
	file.payload_len = sizeof(junk);
	CHECK_EQ(files_reg_ops.open(NULL, &file, &fd), -EINVAL);
	CHECK_LOG("file id 4: malformed RegFileEntry");
	file.payload = NULL;
	file.payload_len = 0;
	CHECK_EQ(files_reg_ops.open(NULL, &file, &fd), -EINVAL);
}

int main(void)
{
	static const struct tap_test tests[] = {
		TAP_TEST(t_init_registers),
		TAP_TEST(t_rdwr_offset),
		TAP_TEST(t_append),
		TAP_TEST(t_rdonly_cloexec_nonblock),
		TAP_TEST(t_directory),
		TAP_TEST(t_opath),
		TAP_TEST(t_core_desc),
		TAP_TEST(t_proc_self_fd),
		TAP_TEST(t_fown_async),
		TAP_TEST(t_size_changed),
		TAP_TEST(t_build_id),
		TAP_TEST(t_no_build_id),
		TAP_TEST(t_type_changed),
		TAP_TEST(t_missing),
		TAP_TEST(t_ghost),
		TAP_TEST(t_ghost_sparse),
		TAP_TEST(t_ghost_limit),
		TAP_TEST(t_link_remap),
		TAP_TEST(t_link_remap_failed_dump),
		TAP_TEST(t_named_deleted),
		TAP_TEST(t_not_mine),
		TAP_TEST(t_chrdev_entry_not_mine),
		TAP_TEST(t_malformed),
	};

	return tap_run(tests, TAP_COUNT(tests), &mock_tap_opts);
}
