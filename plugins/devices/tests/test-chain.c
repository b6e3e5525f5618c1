// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The devices plugin's "character device" kind and the files plugin's
 * "regular file" kind share FileEntry type REG. On dump, match() decides;
 * on restore the mock core asks each kind of the type in turn, as the
 * core does, and each must answer -ENOTSUP for the other's entries. Both
 * load orders are tried.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "devices.h"
#include "files.h"
#include "mock-sdk.h"

static int init_devices(struct cp_plugin *p)
{
	return cp_register_fd_kind(p, &devices_chr_ops);
}

static void free_files_state(void *data)
{
	files_remap_restore_done(data);
	free(data);
}

/* As files_init(): the kinds keep their state (what a restore read once) in the plugin's data. */
static int init_files(struct cp_plugin *p)
{
	struct files_state *st = calloc(1, sizeof(*st));

	if (!st)
		return -ENOMEM;
	cp_plugin_set_data(p, st, free_files_state);
	return cp_register_fd_kind(p, &files_reg_ops);
}

/* Load order: by name, so devices comes first; REVERSED tries the other. */
static void start(bool reversed)
{
	if (reversed) {
		mock_plugin_start("files", init_files);
		mock_plugin_start("devices", init_devices);
	} else {
		mock_plugin_start("devices", init_devices);
		mock_plugin_start("files", init_files);
	}
}

/* Dump FD, close it, open it again; check which kind did each. */
static void check_kind(int fd, const char *want_kind, mode_t want_type)
{
	const char *kind = NULL;
	struct mock_file f;
	struct stat st;
	int nfd = -1;

	CHECK_EQ(mock_dump_own_fd(fd, 3, &f), 0);
	CHECK(f.kind && !strcmp(f.kind, want_kind));
	CHECK_EQ(f.type, 1);
	CHECK_EQ(f.field, 3);
	close(fd);
	CHECK_EQ(mock_open_file(&f, fd, &nfd, &kind), 0);
	CHECK(kind && !strcmp(kind, want_kind));
	if (kind && strcmp(kind, want_kind))
		printf("# restored by %s, want %s\n", kind, want_kind);
	CHECK(nfd >= 0);
	if (nfd >= 0) {
		CHECK_EQ(fstat(nfd, &st), 0);
		CHECK_EQ(st.st_mode & S_IFMT, want_type);
		close(nfd);
	}
	mock_file_free(&f);
}

static void both_kinds(bool reversed)
{
	start(reversed);
	check_kind(open("/dev/null", O_RDWR), "character device", S_IFCHR);
	check_kind(open("/dev/urandom", O_RDONLY), "character device", S_IFCHR);
	check_kind(open("/proc/self/exe", O_RDONLY), "regular file", S_IFREG);
	check_kind(open(mock_tmpdir(), O_RDONLY | O_DIRECTORY), "regular file", S_IFDIR);
	check_kind(open(mock_tmpdir(), O_PATH), "regular file", S_IFDIR);
}

static void t_devices_first(void)
{
	both_kinds(false);
}

static void t_files_first(void)
{
	both_kinds(true);
}

/* An entry neither kind takes is -ENOTSUP from both: the core reports it. */
static void t_nobody(void)
{
	struct mock_file f;
	int fd = -1, p[2];

	start(false);
	CHECK_EQ(pipe(p), 0);
	CHECK_EQ(mock_dump_own_fd(p[0], 3, &f), -ENOTSUP);
	f.type = 2;
	f.field = 18;
	CHECK_EQ(mock_open_file(&f, 3, &fd, NULL), -ENOTSUP);
	close(p[0]);
	close(p[1]);
}

int main(void)
{
	static const struct tap_test tests[] = {
		TAP_TEST(t_devices_first),
		TAP_TEST(t_files_first),
		TAP_TEST(t_nobody),
	};

	return tap_run(tests, TAP_COUNT(tests), &mock_tap_opts);
}
