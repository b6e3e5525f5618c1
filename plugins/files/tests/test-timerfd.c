// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The "timerfd" kind of the files plugin, against the mock core: clock,
 * interval, time left, settime flags, O_NONBLOCK and unread expirations
 * survive a dump and an open; a periodic timer that expired unread keeps
 * running; bad entries are refused.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "files.h"
#include "mock-sdk.h"
#include "timerfd.pb-c.h"

#ifndef TFD_IOC_SET_TICKS
#define TFD_IOC_SET_TICKS _IOW('T', 0, uint64_t)
#endif

extern const struct cp_plugin_desc criu_plugin_descriptor;

static int round_trip(int fd, TimerfdEntry **entry)
{
	const char *kind = NULL;
	struct mock_file f;
	int nfd = -1;

	CHECK_EQ(mock_dump_own_fd(fd, 7, &f), 0);
	CHECK_EQ(f.type, FILES_TYPE_TIMERFD);
	CHECK_EQ(f.field, FILES_FIELD_TFD);
	if (entry)
		*entry = timerfd_entry__unpack(NULL, f.len, f.payload);
	close(fd);
	CHECK_EQ(mock_open_file(&f, fd, &nfd, &kind), 0);
	CHECK(kind && !strcmp(kind, "timerfd"));
	if (nfd < 0)
		printf("# log:\n%s", mock_log_text());
	mock_file_free(&f);
	return nfd;
}

static double secs(const struct timespec *ts)
{
	return (double)ts->tv_sec + (double)ts->tv_nsec / 1e9;
}

/* A one-shot timer with ticks set by hand: the ticks and the time left come back. */
static void t_oneshot_ticks(void)
{
	struct itimerspec its = { .it_value = { 100, 0 } }, got;
	uint64_t ticks = 5;
	TimerfdEntry *e = NULL;
	int fd, nfd;

	mock_plugin_start("files", criu_plugin_descriptor.init);
	fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK);
	CHECK(fd >= 0);
	CHECK_EQ(timerfd_settime(fd, 0, &its, NULL), 0);
	CHECK_EQ(ioctl(fd, TFD_IOC_SET_TICKS, &ticks), 0);
	nfd = round_trip(fd, &e);
	CHECK(e != NULL);
	if (e) {
		CHECK_EQ(e->clockid, CLOCK_MONOTONIC);
		CHECK_EQ(e->ticks, 5);
		CHECK(e->vsec >= 98 && e->vsec <= 100);
		CHECK_EQ(e->isec, 0);
		timerfd_entry__free_unpacked(e, NULL);
	}
	if (nfd < 0)
		return;
	CHECK(fcntl(nfd, F_GETFL) & O_NONBLOCK);
	CHECK_EQ(timerfd_gettime(nfd, &got), 0);
	CHECK(secs(&got.it_value) > 95 && secs(&got.it_value) <= 100);
	ticks = 0;
	CHECK_EQ(read(nfd, &ticks, sizeof(ticks)), sizeof(ticks));
	CHECK_EQ(ticks, 5);
	close(nfd);
}

/* Absolute, on CLOCK_REALTIME: the deadline is kept as time left, and the flag too. */
static void t_abstime(void)
{
	struct itimerspec its = { 0 }, got;
	TimerfdEntry *e = NULL;
	struct timespec now;
	int fd, nfd;

	mock_plugin_start("files", criu_plugin_descriptor.init);
	fd = timerfd_create(CLOCK_REALTIME, 0);
	CHECK(fd >= 0);
	clock_gettime(CLOCK_REALTIME, &now);
	its.it_value.tv_sec = now.tv_sec + 3600;
	its.it_interval.tv_sec = 60;
	CHECK_EQ(timerfd_settime(fd, TFD_TIMER_ABSTIME, &its, NULL), 0);
	nfd = round_trip(fd, &e);
	CHECK(e != NULL);
	if (e) {
		CHECK_EQ(e->settime_flags, TFD_TIMER_ABSTIME);
		CHECK_EQ(e->clockid, CLOCK_REALTIME);
		CHECK_EQ(e->isec, 60);
		timerfd_entry__free_unpacked(e, NULL);
	}
	if (nfd < 0)
		return;
	CHECK(!(fcntl(nfd, F_GETFL) & O_NONBLOCK));
	CHECK_EQ(timerfd_gettime(nfd, &got), 0);
	CHECK(secs(&got.it_value) > 3590 && secs(&got.it_value) <= 3600);
	CHECK_EQ(got.it_interval.tv_sec, 60);
	{
		char path[64], buf[512] = "";
		int f;

		snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", nfd);
		f = open(path, O_RDONLY);
		CHECK(f >= 0 && read(f, buf, sizeof(buf) - 1) > 0);
		if (f >= 0)
			close(f);
		CHECK(strstr(buf, "settime flags: 01") != NULL);
	}
	close(nfd);
}

/* Periodic, expired unread several times: missed expirations counted, still running. */
static void t_periodic_missed(void)
{
	struct itimerspec its = { .it_value = { 0, 10000000 }, .it_interval = { 0, 10000000 } }, got;
	struct timespec pause = { 0, 100000000 };
	TimerfdEntry *e = NULL;
	uint64_t ticks = 0;
	int fd, nfd;

	mock_plugin_start("files", criu_plugin_descriptor.init);
	fd = timerfd_create(CLOCK_BOOTTIME, TFD_NONBLOCK);
	CHECK(fd >= 0);
	CHECK_EQ(timerfd_settime(fd, 0, &its, NULL), 0);
	nanosleep(&pause, NULL);
	nfd = round_trip(fd, &e);
	CHECK(e != NULL);
	if (e) {
		CHECK_EQ(e->clockid, CLOCK_BOOTTIME);
		CHECK(e->ticks >= 5); /* 100 ms of a 10 ms timer, generously */
		CHECK(e->vsec || e->vnsec); /* moved on to its next expiry */
		timerfd_entry__free_unpacked(e, NULL);
	}
	if (nfd < 0)
		return;
	CHECK_EQ(timerfd_gettime(nfd, &got), 0);
	CHECK_EQ(got.it_interval.tv_nsec, 10000000);
	CHECK_EQ(read(nfd, &ticks, sizeof(ticks)), sizeof(ticks));
	CHECK(ticks >= 5);
	close(nfd);
}

static void t_bad(void)
{
	struct cp_file file = { .size = sizeof(file), .id = 9, .type = FILES_TYPE_TIMERFD, .fd = 3 };
	static const uint8_t junk[] = { 0x08, 0x01 };
	TimerfdEntry e = TIMERFD_ENTRY__INIT;
	FownEntry fown = FOWN_ENTRY__INIT;
	uint8_t buf[128];
	int fd = -1;

	mock_plugin_start("files", criu_plugin_descriptor.init);
	file.payload = junk;
	file.payload_len = sizeof(junk);
	CHECK_EQ(files_timerfd_ops.open(NULL, &file, &fd), -EINVAL);
	CHECK_LOG("file id 9: malformed TimerfdEntry");

	e.id = 9;
	e.fown = &fown;
	e.vsec = 1;
	e.vnsec = 1000000000;
	file.payload_len = timerfd_entry__pack(&e, buf);
	file.payload = buf;
	CHECK_EQ(files_timerfd_ops.open(NULL, &file, &fd), -EINVAL);
	CHECK_LOG("times out of range");

	e.vnsec = 0;
	e.clockid = 1234;
	file.payload_len = timerfd_entry__pack(&e, buf);
	CHECK_EQ(files_timerfd_ops.open(NULL, &file, &fd), -EINVAL);
	CHECK_LOG("cannot make it on clock 1234");
}

int main(void)
{
	static const struct tap_test tests[] = {
		TAP_TEST(t_oneshot_ticks),
		TAP_TEST(t_abstime),
		TAP_TEST(t_periodic_missed),
		TAP_TEST(t_bad),
	};

	return tap_run(tests, TAP_COUNT(tests), &mock_tap_opts);
}
