// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The "tty" kind of the devices plugin with ptys, against the mock core:
 * a pair dumped (tty-info.img, tty-data.img written at post-dump),
 * closed and made again as one pair with its termios, window size,
 * packet mode and queued bytes; group() gives both ends one key; a slave
 * without its master is refused without --shell-job; a malformed
 * tty-info.img is refused naming the entry.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <termios.h>
#include <unistd.h>

#include "devices.h"
#include "mock-sdk.h"
#include "tty.h"

extern const struct cp_plugin_desc criu_plugin_descriptor;

static struct cp_plugin *start_devices(void)
{
	return mock_plugin_start("devices", criu_plugin_descriptor.init);
}

static int open_pair(int *m, int *s)
{
	*m = posix_openpt(O_RDWR | O_NOCTTY);
	if (*m < 0 || grantpt(*m) || unlockpt(*m))
		return -1;
	*s = open(ptsname(*m), O_RDWR | O_NOCTTY);
	return *s < 0 ? -1 : 0;
}

static ssize_t read_wait(int fd, void *buf, size_t len)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	if (poll(&p, 1, 2000) <= 0)
		return -1;
	return read(fd, buf, len);
}

static void t_pair_round_trip(void)
{
	struct winsize ws = { .ws_row = 40, .ws_col = 100 }, ws2;
	struct mock_file fm, fs;
	struct termios t, t2;
	int m, s, nm = -1, ns = -1, one = 1, pkt = 0;
	char buf[64];
	ssize_t n;

	start_devices();
	CHECK_EQ(open_pair(&m, &s), 0);
	CHECK_EQ(tcgetattr(s, &t), 0);
	cfmakeraw(&t);
	CHECK_EQ(tcsetattr(s, TCSANOW, &t), 0);
	CHECK_EQ(tcgetattr(s, &t), 0);
	CHECK_EQ(ioctl(s, TIOCSWINSZ, &ws), 0);
	CHECK_EQ(ioctl(m, TIOCPKT, &one), 0);
	CHECK_EQ(write(m, "down", 4), 4);
	CHECK_EQ(write(s, "up", 2), 2);
	CHECK_EQ(mock_dump_own_fd(m, 1, &fm), 0);
	CHECK_EQ(mock_dump_own_fd(s, 2, &fs), 0);
	CHECK_EQ(mock_run_hooks(CP_STAGE_POST_DUMP), 0);
	close(s);
	close(m);

	CHECK_EQ(mock_run_hooks(CP_STAGE_RESTORE_INIT), 0);
	CHECK_EQ(mock_open_file(&fm, 10, &nm, NULL), 0);
	CHECK_EQ(mock_open_file(&fs, 11, &ns, NULL), 0);
	if (nm < 0 || ns < 0) {
		printf("# log:\n%s", mock_log_text());
		return;
	}
	{
		struct stat st;
		int idx = -1;

		CHECK_EQ(ioctl(nm, TIOCGPTN, &idx), 0);
		CHECK_EQ(fstat(ns, &st), 0);
		CHECK_EQ((int)((major(st.st_rdev) - 136) * 256 + minor(st.st_rdev)), idx);
	}
	CHECK_EQ(tcgetattr(ns, &t2), 0);
	CHECK_EQ(t2.c_lflag, t.c_lflag);
	CHECK_EQ(t2.c_iflag, t.c_iflag);
	CHECK_EQ(t2.c_oflag, t.c_oflag);
	CHECK_EQ(ioctl(ns, TIOCGWINSZ, &ws2), 0);
	CHECK_EQ(ws2.ws_row, 40);
	CHECK_EQ(ws2.ws_col, 100);
	CHECK_EQ(ioctl(nm, TIOCGPKT, &pkt), 0);
	CHECK_EQ(pkt, 1);
	n = read_wait(ns, buf, sizeof(buf));
	CHECK_EQ(n, 4);
	CHECK(n == 4 && !memcmp(buf, "down", 4));
	n = read_wait(nm, buf, sizeof(buf));
	CHECK_EQ(n, 3); /* packet mode: a TIOCPKT_DATA byte, then the data */
	CHECK(n == 3 && buf[0] == TIOCPKT_DATA && !memcmp(buf + 1, "up", 2));
	close(ns);
	close(nm);
	mock_file_free(&fm);
	mock_file_free(&fs);
}

static void t_group_key(void)
{
	struct cp_plugin *p = start_devices();
	struct mock_file fm, fs;
	uint64_t km = 0, ks = 0;
	int m, s;

	CHECK_EQ(open_pair(&m, &s), 0);
	CHECK_EQ(mock_dump_own_fd(m, 1, &fm), 0);
	CHECK_EQ(mock_dump_own_fd(s, 2, &fs), 0);
	CHECK_EQ(mock_run_hooks(CP_STAGE_POST_DUMP), 0);
	CHECK_EQ(mock_run_hooks(CP_STAGE_RESTORE_INIT), 0);
	{
		struct cp_file a = { .size = sizeof(a), .id = 1, .type = fm.type, .payload = fm.payload,
				     .payload_len = fm.len, .pid = getpid(), .fd = 3 };
		struct cp_file b = a;

		b.id = 2;
		b.payload = fs.payload;
		b.payload_len = fs.len;
		CHECK_EQ(devices_tty_ops.group(p, &a, &km), 0);
		CHECK_EQ(devices_tty_ops.group(p, &b, &ks), 0);
	}
	CHECK(km != 0);
	CHECK_EQ(km, ks);
	close(s);
	close(m);
	mock_file_free(&fm);
	mock_file_free(&fs);
}

static void t_unpaired_slave(void)
{
	struct mock_file fs;
	int m, s;

	start_devices();
	CHECK_EQ(open_pair(&m, &s), 0);
	CHECK_EQ(mock_dump_own_fd(s, 2, &fs), 0);
	CHECK_EQ(mock_run_hooks(CP_STAGE_POST_DUMP), -EINVAL);
	CHECK_LOG("whose master is not in the dumped tree");
	CHECK_LOG("--shell-job");
	mock_file_free(&fs);
	close(s);
	close(m);
}

static void t_bad_info(void)
{
	struct cp_plugin *p = start_devices();
	TtyInfoEntry ie = TTY_INFO_ENTRY__INIT;
	struct cp_image *img;

	ie.id = 7;
	ie.type = TTY_TYPE__PTY; /* but no pty index */
	img = cp_image_open_write(p, TTY_INFO_IMG, TTY_INFO_MAGIC);
	CHECK(img != NULL);
	if (!img)
		return;
	CHECK_EQ(cp_image_write_msg(img, &ie.base), 0);
	CHECK_EQ(cp_image_close(img), 0);
	CHECK_EQ(mock_run_hooks(CP_STAGE_RESTORE_INIT), -EINVAL);
	CHECK_LOG("tty-info.img: entry 1 (terminal 7)");
}

int main(void)
{
	static const struct tap_test tests[] = {
		TAP_TEST(t_pair_round_trip),
		TAP_TEST(t_group_key),
		TAP_TEST(t_unpaired_slave),
		TAP_TEST(t_bad_info),
	};

	return tap_run(tests, TAP_COUNT(tests), &mock_tap_opts);
}
