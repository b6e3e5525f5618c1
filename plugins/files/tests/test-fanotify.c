// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The "fanotify" kind of the files plugin, against the mock core: init
 * flags, event flags, inode marks (with an ignored mask and its flag) and
 * mount marks survive a dump and an open (fdinfo lists the same marks,
 * and an open in the marked dir is reported, one of the ignored file is
 * not); a filesystem mark fails the dump with a message naming it.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/fanotify.h>
#include <unistd.h>

#include "files.h"
#include "fsnotify.pb-c.h"
#include "mock-sdk.h"

extern const struct cp_plugin_desc criu_plugin_descriptor;

static int cmp_line(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The "fanotify" lines of FD's fdinfo, sorted, into BUF. */
static void marks(int fd, char *buf, size_t len)
{
	char path[64], info[4096] = "", *s, *lines[16];
	size_t n = 0, used = 0;
	int f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = open(path, O_RDONLY);
	CHECK(f >= 0 && read(f, info, sizeof(info) - 1) > 0);
	close(f);
	for (s = strstr(info, "fanotify"); s && n < 16; s = strstr(s, "fanotify")) {
		lines[n++] = s;
		s += strcspn(s, "\n");
		if (*s)
			*s++ = 0;
	}
	qsort(lines, n, sizeof(*lines), cmp_line);
	buf[0] = 0;
	for (size_t i = 0; i < n; i++)
		used += (size_t)snprintf(buf + used, len - used, "%s\n", lines[i]);
}

/* The mask of the next event (its fd closed), or 0 if none is queued. */
static uint64_t next_event(int fd)
{
	char buf[4096] __attribute__((aligned(8)));
	struct fanotify_event_metadata *ev = (struct fanotify_event_metadata *)buf;

	if (read(fd, buf, sizeof(buf)) < (ssize_t)sizeof(*ev))
		return 0;
	if (ev->fd >= 0)
		close(ev->fd);
	return ev->mask;
}

static void t_marks(void)
{
	char dir[PATH_MAX], quiet[PATH_MAX + 8], loud[PATH_MAX + 8], before[2048], after[2048];
	const char *kind = NULL;
	FanotifyFileEntry *e;
	struct mock_file f;
	int fd, nfd = -1, t;

	mock_plugin_start("files", criu_plugin_descriptor.init);
	snprintf(dir, sizeof(dir), "%s", mock_tmpdir());
	snprintf(quiet, sizeof(quiet), "%s/quiet", dir);
	snprintf(loud, sizeof(loud), "%s/loud", dir);
	close(open(quiet, O_CREAT | O_WRONLY, 0600));
	close(open(loud, O_CREAT | O_WRONLY, 0600));
	fd = fanotify_init(FAN_CLASS_NOTIF | FAN_NONBLOCK, O_RDONLY | O_LARGEFILE);
	CHECK(fd >= 0);
	CHECK_EQ(fanotify_mark(fd, FAN_MARK_ADD, FAN_OPEN | FAN_EVENT_ON_CHILD, AT_FDCWD, dir), 0);
	CHECK_EQ(fanotify_mark(fd, FAN_MARK_ADD | FAN_MARK_IGNORED_MASK | FAN_MARK_IGNORED_SURV_MODIFY, FAN_OPEN,
			       AT_FDCWD, quiet),
		 0);
	CHECK_EQ(fanotify_mark(fd, FAN_MARK_ADD | FAN_MARK_MOUNT, FAN_CLOSE_WRITE, AT_FDCWD, "/proc"), 0);
	marks(fd, before, sizeof(before));

	CHECK_EQ(mock_dump_own_fd(fd, 5, &f), 0);
	CHECK_EQ(f.type, FILES_TYPE_FANOTIFY);
	CHECK_EQ(f.field, FILES_FIELD_FFY);
	e = fanotify_file_entry__unpack(NULL, f.len, f.payload);
	CHECK(e && e->n_mark == 3);
	if (e) {
		CHECK_EQ(e->faflags, FAN_CLASS_NOTIF | FAN_NONBLOCK);
		CHECK_EQ(e->evflags, 0100000); /* the kernel's O_LARGEFILE; glibc's is 0 on 64-bit */
		for (size_t i = 0; i < e->n_mark; i++) {
			const FanotifyMarkEntry *m = e->mark[i];

			if (m->type == MARK_TYPE__MOUNT)
				CHECK(m->me && m->me->path && !strcmp(m->me->path, "/proc") &&
				      m->mask == FAN_CLOSE_WRITE);
			else if (m->ignored_mask)
				CHECK(m->ie && m->ie->f_handle->path && !strcmp(m->ie->f_handle->path, quiet) &&
				      m->mflags == FAN_MARK_IGNORED_SURV_MODIFY && m->mask == 0);
			else
				CHECK(m->ie && m->ie->f_handle->path && !strcmp(m->ie->f_handle->path, dir) &&
				      m->mask == (FAN_OPEN | FAN_EVENT_ON_CHILD));
		}
		fanotify_file_entry__free_unpacked(e, NULL);
	}
	close(fd);
	CHECK_EQ(mock_open_file(&f, fd, &nfd, &kind), 0);
	CHECK(kind && !strcmp(kind, "fanotify"));
	mock_file_free(&f);
	if (nfd < 0) {
		printf("# log:\n%s", mock_log_text());
		return;
	}
	marks(nfd, after, sizeof(after));
	CHECK(!strcmp(before, after));
	if (strcmp(before, after))
		printf("# before:\n%s# after:\n%s", before, after);
	CHECK(fcntl(nfd, F_GETFL) & O_NONBLOCK);
	CHECK_EQ(next_event(nfd), 0);
	t = open(quiet, O_RDONLY);
	close(t);
	CHECK_EQ(next_event(nfd), 0);
	t = open(loud, O_RDONLY);
	close(t);
	CHECK_EQ(next_event(nfd), FAN_OPEN);
	close(nfd);
}

static void t_filesystem_mark(void)
{
	struct mock_file f;
	int fd;

	mock_plugin_start("files", criu_plugin_descriptor.init);
	fd = fanotify_init(FAN_CLASS_NOTIF, O_RDONLY);
	CHECK(fd >= 0);
	CHECK_EQ(fanotify_mark(fd, FAN_MARK_ADD | FAN_MARK_FILESYSTEM, FAN_OPEN, AT_FDCWD, "/proc"), 0);
	CHECK_EQ(mock_dump_own_fd(fd, 5, &f), -EOPNOTSUPP);
	CHECK_LOG("is a filesystem mark (FAN_MARK_FILESYSTEM)");
	close(fd);
}

static void t_bad(void)
{
	struct cp_file file = { .size = sizeof(file), .id = 9, .type = FILES_TYPE_FANOTIFY, .fd = 3 };
	static const uint8_t junk[] = { 0x08, 0x01 };
	FanotifyFileEntry e = FANOTIFY_FILE_ENTRY__INIT;
	FanotifyMarkEntry m = FANOTIFY_MARK_ENTRY__INIT, *mp = &m;
	FownEntry fown = FOWN_ENTRY__INIT;
	uint8_t buf[256];
	int fd = -1;

	mock_plugin_start("files", criu_plugin_descriptor.init);
	file.payload = junk;
	file.payload_len = sizeof(junk);
	CHECK_EQ(files_fanotify_ops.open(NULL, &file, &fd), -EINVAL);
	CHECK_LOG("file id 9: malformed FanotifyFileEntry");

	/* A mount mark without its path. */
	e.id = 9;
	e.fown = &fown;
	e.n_mark = 1;
	e.mark = &mp;
	m.id = 9;
	m.type = MARK_TYPE__MOUNT;
	m.mask = FAN_OPEN;
	file.payload_len = fanotify_file_entry__pack(&e, buf);
	file.payload = buf;
	CHECK_EQ(files_fanotify_ops.open(NULL, &file, &fd), -EINVAL);
	CHECK_LOG("mark of type 2 without what it marks");
}

int main(void)
{
	static const struct tap_test tests[] = {
		TAP_TEST(t_marks),
		TAP_TEST(t_filesystem_mark),
		TAP_TEST(t_bad),
	};

	return tap_run(tests, TAP_COUNT(tests), &mock_tap_opts);
}
