// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The "signalfd" kind of the files plugin, against the mock core: the
 * mask and O_NONBLOCK survive a dump and an open (a signal of the mask is
 * read from the new fd, one outside it is not), and a malformed entry or
 * a mask with SIGKILL is refused with a message naming the file.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "files.h"
#include "mock-sdk.h"
#include "signalfd.pb-c.h"

extern const struct cp_plugin_desc criu_plugin_descriptor;

static void t_mask(void)
{
	struct signalfd_siginfo si;
	const char *kind = NULL;
	struct mock_file f;
	sigset_t set;
	SignalfdEntry *e;
	int fd, nfd = -1;

	mock_plugin_start("files", criu_plugin_descriptor.init);
	sigemptyset(&set);
	sigaddset(&set, SIGUSR2);
	sigaddset(&set, SIGRTMIN + 3);
	sigprocmask(SIG_BLOCK, &set, NULL);
	fd = signalfd(-1, &set, SFD_NONBLOCK);
	CHECK(fd >= 0);
	CHECK_EQ(mock_dump_own_fd(fd, 4, &f), 0);
	CHECK_EQ(f.type, FILES_TYPE_SIGNALFD);
	CHECK_EQ(f.field, FILES_FIELD_SGFD);
	e = signalfd_entry__unpack(NULL, f.len, f.payload);
	CHECK(e != NULL);
	if (e) {
		CHECK_EQ(e->sigmask, (1ULL << (SIGUSR2 - 1)) | (1ULL << (SIGRTMIN + 3 - 1)));
		CHECK(e->flags & O_NONBLOCK);
		signalfd_entry__free_unpacked(e, NULL);
	}
	close(fd);
	CHECK_EQ(mock_open_file(&f, fd, &nfd, &kind), 0);
	CHECK(kind && !strcmp(kind, "signalfd"));
	mock_file_free(&f);
	if (nfd < 0)
		return;
	CHECK(fcntl(nfd, F_GETFL) & O_NONBLOCK);
	errno = 0;
	CHECK_EQ(read(nfd, &si, sizeof(si)), -1);
	CHECK_EQ(errno, EAGAIN);
	kill(getpid(), SIGRTMIN + 3);
	CHECK_EQ(read(nfd, &si, sizeof(si)), sizeof(si));
	CHECK_EQ((int)si.ssi_signo, SIGRTMIN + 3);
	kill(getpid(), SIGUSR2);
	CHECK_EQ(read(nfd, &si, sizeof(si)), sizeof(si));
	CHECK_EQ((int)si.ssi_signo, SIGUSR2);
	close(nfd);
}

static void t_bad(void)
{
	struct cp_file file = { .size = sizeof(file), .id = 9, .type = FILES_TYPE_SIGNALFD, .fd = 3 };
	static const uint8_t junk[] = { 0x08, 0x01 };
	SignalfdEntry e = SIGNALFD_ENTRY__INIT;
	FownEntry fown = FOWN_ENTRY__INIT;
	uint8_t buf[64];
	int fd = -1;

	mock_plugin_start("files", criu_plugin_descriptor.init);
	file.payload = junk;
	file.payload_len = sizeof(junk);
	CHECK_EQ(files_signalfd_ops.open(NULL, &file, &fd), -EINVAL);
	CHECK_LOG("file id 9: malformed SignalfdEntry");

	e.id = 9;
	e.fown = &fown;
	e.sigmask = 1ULL << (SIGKILL - 1);
	file.payload_len = signalfd_entry__pack(&e, buf);
	file.payload = buf;
	CHECK_EQ(files_signalfd_ops.open(NULL, &file, &fd), -EINVAL);
	CHECK_LOG("signal 9 cannot be in a signalfd mask");
}

int main(void)
{
	static const struct tap_test tests[] = {
		TAP_TEST(t_mask),
		TAP_TEST(t_bad),
	};

	return tap_run(tests, TAP_COUNT(tests), &mock_tap_opts);
}
