// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The "eventfd" kind of the files plugin, against the mock core: the
 * counter (small and past 32 bits), O_NONBLOCK and EFD_SEMAPHORE survive
 * a dump and an open.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "eventfd.pb-c.h"
#include "files.h"
#include "mock-sdk.h"

extern const struct cp_plugin_desc criu_plugin_descriptor;

static int round_trip(int fd)
{
	const char *kind = NULL;
	struct mock_file f;
	int nfd = -1;

	CHECK_EQ(mock_dump_own_fd(fd, 6, &f), 0);
	CHECK_EQ(f.type, FILES_TYPE_EVENTFD);
	CHECK_EQ(f.field, FILES_FIELD_EFD);
	close(fd);
	CHECK_EQ(mock_open_file(&f, fd, &nfd, &kind), 0);
	CHECK(kind && !strcmp(kind, "eventfd"));
	if (nfd < 0)
		printf("# log:\n%s", mock_log_text());
	mock_file_free(&f);
	return nfd;
}

static void t_counter(void)
{
	uint64_t v = 10;
	int fd, nfd;

	mock_plugin_start("files", criu_plugin_descriptor.init);
	fd = eventfd(5, EFD_NONBLOCK);
	CHECK(fd >= 0);
	CHECK_EQ(write(fd, &v, sizeof(v)), sizeof(v));
	nfd = round_trip(fd);
	if (nfd < 0)
		return;
	CHECK(fcntl(nfd, F_GETFL) & O_NONBLOCK);
	CHECK_EQ(read(nfd, &v, sizeof(v)), sizeof(v));
	CHECK_EQ(v, 15);
	errno = 0;
	CHECK_EQ(read(nfd, &v, sizeof(v)), -1);
	CHECK_EQ(errno, EAGAIN);
	close(nfd);
}

static void t_big_counter_blocking(void)
{
	uint64_t v = 0xfffffffffffffffeULL;
	int fd, nfd;

	mock_plugin_start("files", criu_plugin_descriptor.init);
	fd = eventfd(0, 0);
	CHECK(fd >= 0);
	CHECK_EQ(write(fd, &v, sizeof(v)), sizeof(v));
	nfd = round_trip(fd);
	if (nfd < 0)
		return;
	CHECK(!(fcntl(nfd, F_GETFL) & O_NONBLOCK));
	v = 0;
	CHECK_EQ(read(nfd, &v, sizeof(v)), sizeof(v));
	CHECK(v == 0xfffffffffffffffeULL);
	close(nfd);
}

static void t_semaphore(void)
{
	uint64_t v;
	int fd, nfd;

	mock_plugin_start("files", criu_plugin_descriptor.init);
	fd = eventfd(3, EFD_SEMAPHORE | EFD_NONBLOCK);
	CHECK(fd >= 0);
	nfd = round_trip(fd);
	if (nfd < 0)
		return;
	for (int i = 0; i < 3; i++) {
		v = 0;
		CHECK_EQ(read(nfd, &v, sizeof(v)), sizeof(v));
		CHECK_EQ(v, 1);
	}
	errno = 0;
	CHECK_EQ(read(nfd, &v, sizeof(v)), -1);
	CHECK_EQ(errno, EAGAIN);
	close(nfd);
}

static void t_malformed(void)
{
	struct cp_file file = { .size = sizeof(file), .id = 9, .type = FILES_TYPE_EVENTFD, .fd = 3 };
	static const uint8_t junk[] = { 0x08, 0x01 };
	int fd = -1;

	mock_plugin_start("files", criu_plugin_descriptor.init);
	file.payload = junk;
	file.payload_len = sizeof(junk);
	CHECK_EQ(files_eventfd_ops.open(NULL, &file, &fd), -EINVAL);
	CHECK_LOG("file id 9: malformed EventfdFileEntry");
}

int main(void)
{
	static const struct tap_test tests[] = {
		TAP_TEST(t_counter),
		TAP_TEST(t_big_counter_blocking),
		TAP_TEST(t_semaphore),
		TAP_TEST(t_malformed),
	};

	return tap_run(tests, TAP_COUNT(tests), &mock_tap_opts);
}
