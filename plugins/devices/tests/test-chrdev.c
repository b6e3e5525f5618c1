// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The "character device" kind of the devices plugin, against the mock
 * core: /dev/null, /dev/zero, /dev/full and /dev/urandom dumped and opened
 * again; ttys and regular files left to other kinds; --evasive-devices
 * with device nodes made in the scratch dir.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "devices.h"
#include "mock-sdk.h"
#include "regfile.pb-c.h"

extern const struct cp_plugin_desc criu_plugin_descriptor;

static void start_devices(void)
{
	mock_plugin_start("devices", criu_plugin_descriptor.init);
}

static RegFileEntry *unpack(const struct mock_file *f)
{
	return reg_file_entry__unpack(NULL, f->len, f->payload);
}

/* Dump FD, close it and open it again; the new fd, or -1. */
static int round_trip(int fd, struct mock_file *f)
{
	const char *kind = NULL;
	int nfd = -1, ret;

	ret = mock_dump_own_fd(fd, 11, f);
	CHECK_EQ(ret, 0);
	if (ret) {
		printf("# log:\n%s", mock_log_text());
		return -1;
	}
	CHECK_EQ(f->type, DEVICES_TYPE_REG);
	CHECK_EQ(f->field, DEVICES_FIELD_REG);
	close(fd);
	ret = mock_open_file(f, fd, &nfd, &kind);
	CHECK_EQ(ret, 0);
	CHECK(kind && !strcmp(kind, "character device"));
	if (ret)
		printf("# log:\n%s", mock_log_text());
	return ret ? -1 : nfd;
}

static void check_rdev(int fd, unsigned int ma, unsigned int mi)
{
	struct stat st;

	CHECK_EQ(fstat(fd, &st), 0);
	CHECK(S_ISCHR(st.st_mode));
	CHECK_EQ(major(st.st_rdev), ma);
	CHECK_EQ(minor(st.st_rdev), mi);
}

static void t_devnull(void)
{
	struct mock_file f;
	RegFileEntry *re;
	int fd, nfd;

	start_devices();
	fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	CHECK(fd >= 0);
	nfd = round_trip(fd, &f);
	re = unpack(&f);
	CHECK(re != NULL);
	if (re) {
		CHECK(!strcmp(re->name, "/dev/null"));
		CHECK(re->has_mode && S_ISCHR(re->mode));
		CHECK(!re->has_size);
		CHECK(!(re->flags & O_CLOEXEC));
		CHECK_EQ(re->flags & O_ACCMODE, O_RDWR);
		reg_file_entry__free_unpacked(re, NULL);
	}
	CHECK(nfd >= 0);
	if (nfd >= 0) {
		check_rdev(nfd, 1, 3);
		CHECK_EQ(fcntl(nfd, F_GETFL) & O_ACCMODE, O_RDWR);
		CHECK_EQ(write(nfd, "x", 1), 1);
		close(nfd);
	}
	/* A stateless device is reopened without a warning. */
	CHECK(!strstr(mock_log_text(), "Warn"));
	mock_file_free(&f);
}

static void t_devzero_nonblock(void)
{
	struct mock_file f;
	char buf[8] = "xxxxxxx";
	int fd, nfd;

	start_devices();
	fd = open("/dev/zero", O_RDONLY | O_NONBLOCK);
	CHECK(fd >= 0);
	nfd = round_trip(fd, &f);
	CHECK(nfd >= 0);
	if (nfd >= 0) {
		check_rdev(nfd, 1, 5);
		CHECK(fcntl(nfd, F_GETFL) & O_NONBLOCK);
		CHECK_EQ(fcntl(nfd, F_GETFL) & O_ACCMODE, O_RDONLY);
		CHECK_EQ(read(nfd, buf, sizeof(buf)), sizeof(buf));
		CHECK(!memcmp(buf, "\0\0\0\0\0\0\0\0", sizeof(buf)));
		close(nfd);
	}
	mock_file_free(&f);
}

static void t_urandom_full(void)
{
	struct mock_file f;
	char buf[16];
	int fd, nfd;

	start_devices();
	fd = open("/dev/urandom", O_RDONLY);
	CHECK(fd >= 0);
	nfd = round_trip(fd, &f);
	CHECK(nfd >= 0);
	if (nfd >= 0) {
		check_rdev(nfd, 1, 9);
		CHECK_EQ(read(nfd, buf, sizeof(buf)), sizeof(buf));
		close(nfd);
	}
	mock_file_free(&f);

	fd = open("/dev/full", O_WRONLY);
	CHECK(fd >= 0);
	nfd = round_trip(fd, &f);
	CHECK(nfd >= 0);
	if (nfd >= 0) {
		check_rdev(nfd, 1, 7);
		errno = 0;
		CHECK_EQ(write(nfd, "x", 1), -1);
		CHECK_EQ(errno, ENOSPC);
		close(nfd);
	}
	mock_file_free(&f);
}

static void t_tty_not_mine(void)
{
	struct mock_file f;
	int m, s;

	start_devices();
	m = posix_openpt(O_RDWR | O_NOCTTY);
	CHECK(m >= 0);
	if (m < 0)
		return;
	CHECK_EQ(grantpt(m), 0);
	CHECK_EQ(unlockpt(m), 0);
	s = open(ptsname(m), O_RDWR | O_NOCTTY);
	CHECK(s >= 0);
	/* Not a character device of this kind: the tty kind takes both ends. */
	CHECK_EQ(mock_dump_own_fd(m, 1, &f), 0);
	CHECK_EQ(f.type, DEVICES_TYPE_TTY);
	CHECK(f.kind && !strcmp(f.kind, "tty"));
	mock_file_free(&f);
	CHECK_EQ(mock_dump_own_fd(s, 2, &f), 0);
	CHECK_EQ(f.type, DEVICES_TYPE_TTY);
	mock_file_free(&f);
	close(s);
	close(m);
}

/* Regular-file entries (with a mode, or from an old image without) are not mine. */
static void t_regular_entry_not_mine(void)
{
	RegFileEntry re = REG_FILE_ENTRY__INIT;
	FownEntry fown = FOWN_ENTRY__INIT;
	struct cp_file file = { .size = sizeof(file), .id = 4, .type = DEVICES_TYPE_REG, .fd = 3 };
	uint8_t buf[256];
	int fd = -1;

	start_devices();
	re.id = 4;
	re.flags = O_RDONLY;
	re.fown = &fown;
	re.name = "/proc/self/exe";
	re.has_mode = true;
	re.mode = S_IFREG | 0755;
	file.payload = buf;
	file.payload_len = reg_file_entry__pack(&re, buf);
	CHECK_EQ(devices_chr_ops.open(NULL, &file, &fd), -ENOTSUP);
	re.has_mode = false;
	file.payload_len = reg_file_entry__pack(&re, buf);
	CHECK_EQ(devices_chr_ops.open(NULL, &file, &fd), -ENOTSUP);
	CHECK_EQ(fd, -1);

	/* Without a mode, a path that is a device now is taken. */
	re.name = "/dev/null";
	file.payload_len = reg_file_entry__pack(&re, buf);
	CHECK_EQ(devices_chr_ops.open(NULL, &file, &fd), 0);
	CHECK(fd >= 0);
	if (fd >= 0)
		close(fd);
}

/*
 * A node for device MA:MI at DIR/dev/NAME in the scratch dir. False (and
 * a skip note) when the scratch dir's mount does not allow device nodes.
 */
static bool make_node(const char *name, unsigned int ma, unsigned int mi, char *path, size_t len)
{
	char dir[256];
	int fd;

	snprintf(dir, sizeof(dir), "%s/dev", mock_tmpdir());
	mkdir(dir, 0755);
	snprintf(path, len, "%s/%s", dir, name);
	unlink(path);
	if (mknod(path, S_IFCHR | 0666, makedev(ma, mi))) {
		printf("# skip: mknod %s: %s\n", path, strerror(errno));
		return false;
	}
	fd = open(path, O_RDONLY);
	if (fd < 0) {
		printf("# skip: open %s: %s (a nodev mount?)\n", path, strerror(errno));
		return false;
	}
	close(fd);
	return true;
}

/* No temporary node is left behind in DIR. */
static void check_no_leftovers(const char *dir)
{
	struct dirent *de;
	DIR *d = opendir(dir);

	CHECK(d != NULL);
	while (d && (de = readdir(d)))
		CHECK(strncmp(de->d_name, ".criu-dev.", 10) != 0);
	if (d)
		closedir(d);
}

static void t_evasive_node_gone(void)
{
	struct mock_file f;
	char path[300], dir[256];
	int fd, nfd = -1;

	start_devices();
	if (!make_node("null", 1, 3, path, sizeof(path)))
		return;
	fd = open(path, O_RDWR);
	CHECK(fd >= 0);
	CHECK_EQ(mock_dump_own_fd(fd, 5, &f), 0);
	close(fd);
	CHECK_EQ(unlink(path), 0);

	CHECK_EQ(mock_open_file(&f, 5, &nfd, NULL), -ENOENT);
	CHECK_LOG(path);
	CHECK_LOG("--evasive-devices would create a node");

	mock_set_opt("evasive-devices", "yes");
	mock_log_clear();
	CHECK_EQ(mock_open_file(&f, 5, &nfd, NULL), 0);
	CHECK(nfd >= 0);
	if (nfd >= 0) {
		check_rdev(nfd, 1, 3);
		CHECK_EQ(fcntl(nfd, F_GETFL) & O_ACCMODE, O_RDWR);
		close(nfd);
	}
	snprintf(dir, sizeof(dir), "%s/dev", mock_tmpdir());
	check_no_leftovers(dir);
	mock_file_free(&f);
}

static void t_evasive_other_device(void)
{
	struct mock_file f;
	char path[300];
	int fd, nfd = -1;

	start_devices();
	if (!make_node("null", 1, 3, path, sizeof(path)))
		return;
	fd = open(path, O_WRONLY);
	CHECK(fd >= 0);
	CHECK_EQ(mock_dump_own_fd(fd, 5, &f), 0);
	close(fd);
	/* The name now leads to /dev/zero's number. */
	if (!make_node("null", 1, 5, path, sizeof(path)))
		goto out;
	CHECK_EQ(mock_open_file(&f, 5, &nfd, NULL), -ESTALE);
	CHECK_LOG("is device 1:5 now, but was 1:3");

	mock_set_opt("evasive-devices", "yes");
	CHECK_EQ(mock_open_file(&f, 5, &nfd, NULL), 0);
	if (nfd >= 0) {
		check_rdev(nfd, 1, 3);
		close(nfd);
	}
out:
	mock_file_free(&f);
}

/* The task's node was unlinked and made again: only --evasive-devices accepts it. */
static void t_dump_node_remade(void)
{
	struct mock_file f;
	char path[300];
	RegFileEntry *re;
	int fd;

	start_devices();
	if (!make_node("zero", 1, 5, path, sizeof(path)))
		return;
	fd = open(path, O_RDONLY);
	CHECK(fd >= 0);
	if (!make_node("zero", 1, 5, path, sizeof(path)))
		goto out;
	CHECK_EQ(mock_dump_own_fd(fd, 5, &f), -EOPNOTSUPP);
	CHECK_LOG("was unlinked while open");

	mock_set_opt("evasive-devices", "yes");
	CHECK_EQ(mock_dump_own_fd(fd, 5, &f), 0);
	re = unpack(&f);
	CHECK(re && !strcmp(re->name, path));
	if (re)
		reg_file_entry__free_unpacked(re, NULL);
	mock_file_free(&f);
out:
	close(fd);
}

/* A device not known to keep no state is dumped with a warning, unless listed. */
static void t_unknown_device(void)
{
	struct mock_file f;
	int fd;

	fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK);
	if (fd < 0) {
		printf("# skip: /dev/kmsg: %s\n", strerror(errno));
		return;
	}
	start_devices();
	CHECK_EQ(mock_dump_own_fd(fd, 5, &f), 0);
	CHECK_LOG("Warn: ");
	CHECK_LOG("reopen = 1:11");
	mock_file_free(&f);

	mock_log_clear();
	mock_add_plugin_opt("reopen", "1:11");
	CHECK_EQ(mock_dump_own_fd(fd, 5, &f), 0);
	CHECK(!strstr(mock_log_text(), "Warn"));
	mock_file_free(&f);
	close(fd);
}

static void t_tun_not_mine(void)
{
	struct mock_file f;
	int fd = open("/dev/net/tun", O_RDWR);

	start_devices();
	if (fd < 0) {
		printf("# skip: /dev/net/tun: %s\n", strerror(errno));
		return;
	}
	CHECK_EQ(mock_dump_own_fd(fd, 1, &f), -ENOTSUP);
	close(fd);
}

int main(void)
{
	static const struct tap_test tests[] = {
		TAP_TEST(t_devnull),
		TAP_TEST(t_devzero_nonblock),
		TAP_TEST(t_urandom_full),
		TAP_TEST(t_tty_not_mine),
		TAP_TEST(t_regular_entry_not_mine),
		TAP_TEST(t_evasive_node_gone),
		TAP_TEST(t_evasive_other_device),
		TAP_TEST(t_dump_node_remade),
		TAP_TEST(t_unknown_device),
		TAP_TEST(t_tun_not_mine),
	};

	return tap_run(tests, TAP_COUNT(tests), &mock_tap_opts);
}
