// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The "memfd" kind of the files plugin, against the mock core: a sealed
 * memfd with contents and an offset, dumped through two fds (one inode
 * saved once), then restored in this process: the first fd gets a new
 * memfd with the name, size, contents, offset and seals, and the second
 * open of the same inode finds that memfd where the first fd was placed
 * (one object: a write through one shows through the other). A second
 * process using the same memfd is refused. A plain file is not a memfd,
 * and a malformed entry is refused.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "files.h"
#include "memfd.pb-c.h"
#include "mock-sdk.h"

extern const struct cp_plugin_desc criu_plugin_descriptor;

/* Open F as the core does: then move it to TARGET. */
static int open_at(const struct mock_file *f, int target)
{
	const char *kind = NULL;
	int fd = -1;

	CHECK_EQ(mock_open_file(f, target, &fd, &kind), 0);
	CHECK(kind && !strcmp(kind, "memfd"));
	if (fd < 0) {
		printf("# log:\n%s", mock_log_text());
		return -1;
	}
	CHECK_EQ(dup2(fd, target), target);
	close(fd);
	return target;
}

static void t_sealed(void)
{
	struct mock_file f1, f2;
	MemfdFileEntry *e1, *e2;
	char link[128], buf[16];
	int m, d, r1, r2;
	ssize_t n;

	mock_plugin_start("files", criu_plugin_descriptor.init);
	m = memfd_create("unit-memfd", MFD_ALLOW_SEALING);
	CHECK(m >= 0);
	CHECK_EQ(write(m, "0123456789", 10), 10);
	CHECK_EQ(fcntl(m, F_ADD_SEALS, F_SEAL_GROW | F_SEAL_SHRINK), 0);
	CHECK_EQ(lseek(m, 3, SEEK_SET), 3);
	d = fcntl(m, F_DUPFD_CLOEXEC, 0);
	CHECK_EQ(mock_dump_own_fd(m, 1, &f1), 0);
	CHECK_EQ(mock_dump_own_fd(d, 2, &f2), 0);
	CHECK_EQ(f1.type, FILES_TYPE_MEMFD);
	CHECK_EQ(f1.field, FILES_FIELD_MEMFD);
	CHECK_EQ(mock_run_hooks(CP_STAGE_POST_DUMP), 0);
	e1 = memfd_file_entry__unpack(NULL, f1.len, f1.payload);
	e2 = memfd_file_entry__unpack(NULL, f2.len, f2.payload);
	CHECK(e1 && e2);
	if (e1 && e2) {
		CHECK_EQ(e1->inode_id, e2->inode_id); /* one inode, saved once */
		CHECK_EQ(e1->pos, 3);
	}
	if (e1)
		memfd_file_entry__free_unpacked(e1, NULL);
	if (e2)
		memfd_file_entry__free_unpacked(e2, NULL);
	close(m);
	close(d);

	r1 = open_at(&f1, 40);
	r2 = open_at(&f2, 41);
	CHECK(r1 >= 0 && r2 >= 0);
	if (r1 < 0 || r2 < 0)
		return;
	n = readlink("/proc/self/fd/40", link, sizeof(link) - 1);
	link[n > 0 ? n : 0] = 0;
	CHECK(!strcmp(link, "/memfd:unit-memfd (deleted)"));
	CHECK_EQ(fcntl(r1, F_GET_SEALS), F_SEAL_GROW | F_SEAL_SHRINK);
	CHECK_EQ(lseek(r1, 0, SEEK_CUR), 3);
	CHECK_EQ(pread(r1, buf, 10, 0), 10);
	CHECK(!memcmp(buf, "0123456789", 10));
	CHECK_EQ(ftruncate(r1, 100), -1);
	CHECK_EQ(errno, EPERM);
	CHECK_EQ(pwrite(r1, "X", 1, 0), 1);
	CHECK_EQ(pread(r2, buf, 1, 0), 1);
	CHECK_EQ(buf[0], 'X');
	close(r1);
	close(r2);
	mock_file_free(&f1);
	mock_file_free(&f2);
}

/* A second process using the same memfd is refused, naming both pids. */
static void t_other_process(void)
{
	struct cp_fd_desc d;
	struct mock_file f1, f2;
	char want[96];
	int m;

	mock_plugin_start("files", criu_plugin_descriptor.init);
	m = memfd_create("unit-shared", 0);
	CHECK(m >= 0);
	CHECK_EQ(mock_dump_own_fd(m, 1, &f1), 0);
	CHECK_EQ(mock_fd_desc(m, &d), 0);
	d.pid = getpid() + 1;
	CHECK_EQ(mock_dump_fd(&d, 2, &f2), -EOPNOTSUPP);
	snprintf(want, sizeof(want), "is also used by pid %d", (int)getpid());
	CHECK_LOG(want);
	CHECK_LOG("not supported yet");
	mock_fd_desc_free(&d);
	mock_file_free(&f1);
	close(m);
}

static void t_not_memfd(void)
{
	struct mock_file f;
	char path[128];
	int fd;

	mock_plugin_start("files", criu_plugin_descriptor.init);
	snprintf(path, sizeof(path), "%s/memfd:lookalike", mock_tmpdir());
	fd = open(path, O_RDWR | O_CREAT, 0600);
	CHECK(fd >= 0);
	CHECK_EQ(mock_dump_own_fd(fd, 1, &f), 0);
	CHECK_EQ(f.type, FILES_TYPE_REG);
	mock_file_free(&f);
	close(fd);
}

static void t_malformed(void)
{
	struct mock_file f = { .id = 1, .type = FILES_TYPE_MEMFD, .field = FILES_FIELD_MEMFD };
	static uint8_t junk[] = { 0xff, 0xff, 0xff };
	int fd = -1;

	mock_plugin_start("files", criu_plugin_descriptor.init);
	f.payload = junk;
	f.len = sizeof(junk);
	CHECK_EQ(mock_open_file(&f, 5, &fd, NULL), -EINVAL);
	CHECK_LOG("malformed MemfdFileEntry");
}

int main(void)
{
	static const struct tap_test tests[] = {
		TAP_TEST(t_sealed),
		TAP_TEST(t_other_process),
		TAP_TEST(t_not_memfd),
		TAP_TEST(t_malformed),
	};

	return tap_run(tests, TAP_COUNT(tests), &mock_tap_opts);
}
