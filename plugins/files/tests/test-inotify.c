// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The "inotify" kind of the files plugin, against the mock core: watches
 * keep their numbers (also past a removed one), masks and paths; the new
 * instance sees a new event on a watched dir under the old watch number;
 * a watch whose inode has no name left fails the dump.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "files.h"
#include "fsnotify.pb-c.h"
#include "mock-sdk.h"

extern const struct cp_plugin_desc criu_plugin_descriptor;

static void t_watches(void)
{
	char dir[PATH_MAX], file[PATH_MAX], sub[PATH_MAX + 8], evbuf[4096];
	const char *kind = NULL;
	InotifyFileEntry *e;
	struct mock_file f;
	int fd, nfd = -1, wd_dir, wd_file, gone, fl;
	ssize_t n;

	mock_plugin_start("files", criu_plugin_descriptor.init);
	snprintf(dir, sizeof(dir), "%s/watched", mock_tmpdir());
	snprintf(file, sizeof(file), "%s/file", mock_tmpdir());
	snprintf(sub, sizeof(sub), "%s/new", dir);
	CHECK_EQ(mkdir(dir, 0700), 0);
	fl = open(file, O_CREAT | O_WRONLY, 0600);
	CHECK(fl >= 0);
	close(fl);
	fd = inotify_init1(IN_NONBLOCK);
	CHECK(fd >= 0);
	gone = inotify_add_watch(fd, mock_tmpdir(), IN_ATTRIB);
	wd_dir = inotify_add_watch(fd, dir, IN_CREATE | IN_DELETE | IN_EXCL_UNLINK);
	CHECK_EQ(inotify_rm_watch(fd, gone), 0);
	wd_file = inotify_add_watch(fd, file, IN_MODIFY | IN_ONESHOT);
	CHECK(gone == 1 && wd_dir == 2 && wd_file == 3);
	/* Drain the IN_IGNORED of the removed watch. */
	while (read(fd, evbuf, sizeof(evbuf)) > 0)
		;

	CHECK_EQ(mock_dump_own_fd(fd, 5, &f), 0);
	CHECK_EQ(f.type, FILES_TYPE_INOTIFY);
	CHECK_EQ(f.field, FILES_FIELD_IFY);
	e = inotify_file_entry__unpack(NULL, f.len, f.payload);
	CHECK(e && e->n_wd == 2);
	for (size_t i = 0; e && i < e->n_wd; i++) {
		const InotifyWdEntry *w = e->wd[i];

		CHECK(w->f_handle && w->f_handle->path && w->f_handle->n_handle == 16);
		if (w->wd == 2) {
			CHECK_EQ(w->mask, IN_CREATE | IN_DELETE | IN_EXCL_UNLINK);
			CHECK(w->f_handle->path && !strcmp(w->f_handle->path, dir));
		} else {
			CHECK_EQ(w->wd, 3);
			CHECK_EQ(w->mask, IN_MODIFY | IN_ONESHOT);
			CHECK(w->f_handle->path && !strcmp(w->f_handle->path, file));
		}
	}
	if (e)
		inotify_file_entry__free_unpacked(e, NULL);
	close(fd);

	CHECK_EQ(mock_open_file(&f, fd, &nfd, &kind), 0);
	CHECK(kind && !strcmp(kind, "inotify"));
	mock_file_free(&f);
	if (nfd < 0) {
		printf("# log:\n%s", mock_log_text());
		return;
	}
	CHECK(fcntl(nfd, F_GETFL) & O_NONBLOCK);
	errno = 0;
	CHECK_EQ(read(nfd, evbuf, sizeof(evbuf)), -1);
	CHECK_EQ(errno, EAGAIN);
	CHECK_EQ(mkdir(sub, 0700), 0);
	n = read(nfd, evbuf, sizeof(evbuf));
	CHECK(n >= (ssize_t)sizeof(struct inotify_event));
	if (n >= (ssize_t)sizeof(struct inotify_event)) {
		struct inotify_event *ev = (struct inotify_event *)evbuf;

		CHECK_EQ(ev->wd, 2);
		CHECK_EQ(ev->mask, IN_CREATE | IN_ISDIR);
		CHECK(ev->len && !strcmp(ev->name, "new"));
	}
	fl = open(file, O_WRONLY);
	CHECK(fl >= 0 && write(fl, "x", 1) == 1);
	close(fl);
	n = read(nfd, evbuf, sizeof(evbuf));
	CHECK(n >= (ssize_t)sizeof(struct inotify_event));
	if (n >= (ssize_t)sizeof(struct inotify_event))
		CHECK_EQ(((struct inotify_event *)evbuf)->wd, 3);
	/* A new watch continues after the old numbers. */
	CHECK_EQ(inotify_add_watch(nfd, mock_tmpdir(), IN_ATTRIB), 4);
	rmdir(sub);
	close(nfd);
}

static void t_deleted(void)
{
	char dir[PATH_MAX];
	struct mock_file f;
	int fd, keep;

	mock_plugin_start("files", criu_plugin_descriptor.init);
	snprintf(dir, sizeof(dir), "%s/doomed", mock_tmpdir());
	CHECK_EQ(mkdir(dir, 0700), 0);
	keep = open(dir, O_RDONLY | O_DIRECTORY);
	fd = inotify_init1(0);
	CHECK(fd >= 0 && keep >= 0);
	/* IN_EXCL_UNLINK aside, a watch on a removed dir goes away; on a file still open it stays. */
	snprintf(dir, sizeof(dir), "%s/doomed/f", mock_tmpdir());
	close(open(dir, O_CREAT | O_WRONLY, 0600));
	keep = open(dir, O_RDONLY);
	CHECK(inotify_add_watch(fd, dir, IN_MODIFY) > 0);
	CHECK_EQ(unlink(dir), 0);
	CHECK_EQ(mock_dump_own_fd(fd, 5, &f), -ENOENT);
	CHECK_LOG("is not reachable by a name");
	close(keep);
	close(fd);
}

static void t_bad(void)
{
	struct cp_file file = { .size = sizeof(file), .id = 9, .type = FILES_TYPE_INOTIFY, .fd = 3 };
	static const uint8_t junk[] = { 0x08, 0x01 };
	InotifyFileEntry e = INOTIFY_FILE_ENTRY__INIT;
	InotifyWdEntry w = INOTIFY_WD_ENTRY__INIT, *wp = &w;
	FhEntry fh = FH_ENTRY__INIT;
	FownEntry fown = FOWN_ENTRY__INIT;
	uint64_t words[16] = { 0 };
	uint8_t buf[512];
	int fd = -1;

	mock_plugin_start("files", criu_plugin_descriptor.init);
	file.payload = junk;
	file.payload_len = sizeof(junk);
	CHECK_EQ(files_inotify_ops.open(NULL, &file, &fd), -EINVAL);
	CHECK_LOG("file id 9: malformed InotifyFileEntry");

	/* A path that is gone and a handle that opens nothing. */
	e.id = 9;
	e.fown = &fown;
	e.n_wd = 1;
	e.wd = &wp;
	w.id = 9;
	w.wd = 1;
	w.mask = IN_CREATE;
	w.f_handle = &fh;
	fh.bytes = 8;
	fh.type = 1;
	fh.n_handle = 16;
	fh.handle = words;
	fh.path = (char *)"/nonexistent/criu-test-dir";
	file.payload_len = inotify_file_entry__pack(&e, buf);
	file.payload = buf;
	CHECK(files_inotify_ops.open(NULL, &file, &fd) < 0);
	CHECK_LOG("cannot open /nonexistent/criu-test-dir");
}

int main(void)
{
	static const struct tap_test tests[] = {
		TAP_TEST(t_watches),
		TAP_TEST(t_deleted),
		TAP_TEST(t_bad),
	};

	return tap_run(tests, TAP_COUNT(tests), &mock_tap_opts);
}
