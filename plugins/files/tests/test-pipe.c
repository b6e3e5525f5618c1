// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The "pipe" kind of the files plugin, against the mock core: both ends
 * of a pipe dumped with the bytes queued in it (which stay queued), then
 * restored in this process as one new pipe with those bytes, its size and
 * the ends' flags; the kept ends are closed after the "restore task"
 * stage, so the pipe sees EOF once the task closes its write end. A FIFO
 * with both ends open and bytes queued comes back as two fds of the same
 * named FIFO, its path in a second (regular-file) entry, with its bytes.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "files.h"
#include "mock-sdk.h"
#include "fifo.pb-c.h"
#include "pipe-data.pb-c.h"
#include "pipe.pb-c.h"

extern const struct cp_plugin_desc criu_plugin_descriptor;

static struct cp_plugin *start_files(void)
{
	return mock_plugin_start("files", criu_plugin_descriptor.init);
}

static void dump_end(int fd, uint32_t id, struct mock_file *f)
{
	CHECK_EQ(mock_dump_own_fd(fd, id, f), 0);
	CHECK_EQ(f->type, FILES_TYPE_PIPE);
	CHECK_EQ(f->field, FILES_FIELD_PIPE);
}

static int open_end(const struct mock_file *f, int target)
{
	const char *kind = NULL;
	int fd = -1;

	CHECK_EQ(mock_open_file(f, target, &fd, &kind), 0);
	CHECK(kind && !strcmp(kind, "pipe"));
	if (fd < 0)
		printf("# log:\n%s", mock_log_text());
	return fd;
}

static void t_both_ends(void)
{
	struct mock_file fr, fw;
	PipeEntry *er, *ew;
	struct cp_plugin *pl;
	char buf[64];
	int p[2], r, w;

	pl = start_files();
	CHECK_EQ(pipe(p), 0);
	CHECK_EQ(fcntl(p[0], F_SETFL, O_NONBLOCK), 0);
	CHECK_EQ(fcntl(p[1], F_SETPIPE_SZ, 128 * 1024), 128 * 1024);
	CHECK_EQ(write(p[1], "hello world", 11), 11);
	dump_end(p[0], 1, &fr);
	dump_end(p[1], 2, &fw);
	CHECK_EQ(mock_run_hooks(CP_STAGE_POST_DUMP), 0);

	/* The dump left the bytes where they were. */
	CHECK_EQ(read(p[0], buf, sizeof(buf)), 11);
	close(p[0]);
	close(p[1]);

	er = pipe_entry__unpack(NULL, fr.len, fr.payload);
	ew = pipe_entry__unpack(NULL, fw.len, fw.payload);
	CHECK(er && ew);
	if (er && ew) {
		CHECK_EQ(er->pipe_id, ew->pipe_id);
		CHECK_EQ(er->flags & O_ACCMODE, O_RDONLY);
		CHECK(er->flags & O_NONBLOCK);
		CHECK_EQ(ew->flags & O_ACCMODE, O_WRONLY);
	}
	if (er)
		pipe_entry__free_unpacked(er, NULL);
	if (ew)
		pipe_entry__free_unpacked(ew, NULL);

	/* Both ends are one group for the restore core, and another pipe is not in it. */
	{
		struct cp_file a = { .size = sizeof(a), .id = 1, .type = fr.type, .payload = fr.payload,
				     .payload_len = fr.len };
		struct cp_file b = a;
		uint64_t ka = 0, kb = 0;

		b.id = 2;
		b.payload = fw.payload;
		b.payload_len = fw.len;
		CHECK_EQ(files_pipe_ops.group(pl, &a, &ka), 0);
		CHECK_EQ(files_pipe_ops.group(pl, &b, &kb), 0);
		CHECK(ka != 0);
		CHECK_EQ(ka, kb);
	}

	/* The write end first: the order must not matter. */
	w = open_end(&fw, 4);
	r = open_end(&fr, 3);
	CHECK(r >= 0 && w >= 0);
	CHECK_EQ(mock_run_hooks(CP_STAGE_RESTORE_TASK), 0);
	if (r >= 0 && w >= 0) {
		struct stat a, b;

		CHECK_EQ(fstat(r, &a), 0);
		CHECK_EQ(fstat(w, &b), 0);
		CHECK_EQ(a.st_ino, b.st_ino);
		CHECK(fcntl(r, F_GETFL) & O_NONBLOCK);
		CHECK(!(fcntl(w, F_GETFL) & O_NONBLOCK));
		CHECK_EQ(fcntl(r, F_GETPIPE_SZ), 128 * 1024);
		CHECK_EQ(read(r, buf, sizeof(buf)), 11);
		CHECK(!memcmp(buf, "hello world", 11));
		CHECK_EQ(write(w, "x", 1), 1);
		CHECK_EQ(read(r, buf, sizeof(buf)), 1);
		/* No other writer is left: closing ours gives EOF. */
		close(w);
		CHECK_EQ(read(r, buf, sizeof(buf)), 0);
		close(r);
	}
	mock_file_free(&fr);
	mock_file_free(&fw);
}

/* An empty pipe comes back empty; with pipe-data = no, so does a full one. */
static void empty_round_trip(bool fill)
{
	struct mock_file fr, fw;
	char buf[8];
	int p[2], r, w;

	CHECK_EQ(pipe(p), 0);
	if (fill)
		CHECK_EQ(write(p[1], "lost", 4), 4);
	dump_end(p[0], 1, &fr);
	dump_end(p[1], 2, &fw);
	CHECK_EQ(mock_run_hooks(CP_STAGE_POST_DUMP), 0);
	close(p[0]);
	close(p[1]);
	r = open_end(&fr, 3);
	w = open_end(&fw, 4);
	CHECK_EQ(mock_run_hooks(CP_STAGE_RESTORE_TASK), 0);
	if (r >= 0 && w >= 0) {
		CHECK_EQ(fcntl(r, F_SETFL, O_NONBLOCK), 0);
		errno = 0;
		CHECK_EQ(read(r, buf, sizeof(buf)), -1);
		CHECK_EQ(errno, EAGAIN);
	}
	if (r >= 0)
		close(r);
	if (w >= 0)
		close(w);
	mock_file_free(&fr);
	mock_file_free(&fw);
}

static void t_empty(void)
{
	start_files();
	empty_round_trip(false);
}

static void t_no_data(void)
{
	mock_add_plugin_opt("pipe-data", "no");
	start_files();
	empty_round_trip(true);
}

/* Two pipes in one image: each gets its own bytes, whatever the order. */
static void t_two_pipes(void)
{
	struct mock_file f[4];
	int a[2], b[2], fd[4];
	char buf[32];

	start_files();
	CHECK_EQ(pipe(a), 0);
	CHECK_EQ(pipe(b), 0);
	CHECK_EQ(write(a[1], "first pipe", 10), 10);
	CHECK_EQ(write(b[1], "second", 6), 6);
	dump_end(a[0], 1, &f[0]);
	dump_end(a[1], 2, &f[1]);
	dump_end(b[0], 3, &f[2]);
	dump_end(b[1], 4, &f[3]);
	CHECK_EQ(mock_run_hooks(CP_STAGE_POST_DUMP), 0);
	close(a[0]);
	close(a[1]);
	close(b[0]);
	close(b[1]);

	fd[2] = open_end(&f[2], 12);
	fd[0] = open_end(&f[0], 10);
	fd[3] = open_end(&f[3], 13);
	fd[1] = open_end(&f[1], 11);
	CHECK_EQ(mock_run_hooks(CP_STAGE_RESTORE_TASK), 0);
	CHECK_EQ(read(fd[0], buf, sizeof(buf)), 10);
	CHECK(!memcmp(buf, "first pipe", 10));
	CHECK_EQ(read(fd[2], buf, sizeof(buf)), 6);
	CHECK(!memcmp(buf, "second", 6));
	for (int i = 0; i < 4; i++) {
		if (fd[i] >= 0)
			close(fd[i]);
		mock_file_free(&f[i]);
	}
}

/* The read end opened twice (two open files): both come back, on one pipe. */
static void t_same_end_twice(void)
{
	struct mock_file f[3];
	int p[2], r2, fd[3];
	char path[64], buf[8];
	struct stat a, b;

	start_files();
	CHECK_EQ(pipe(p), 0);
	snprintf(path, sizeof(path), "/proc/self/fd/%d", p[0]);
	r2 = open(path, O_RDONLY | O_NONBLOCK);
	CHECK(r2 >= 0);
	CHECK_EQ(write(p[1], "ab", 2), 2);
	dump_end(p[0], 1, &f[0]);
	dump_end(r2, 2, &f[1]);
	dump_end(p[1], 3, &f[2]);
	CHECK_EQ(mock_run_hooks(CP_STAGE_POST_DUMP), 0);
	close(p[0]);
	close(p[1]);
	close(r2);

	for (int i = 0; i < 3; i++)
		fd[i] = open_end(&f[i], 20 + i);
	CHECK_EQ(mock_run_hooks(CP_STAGE_RESTORE_TASK), 0);
	CHECK_EQ(fstat(fd[0], &a), 0);
	CHECK_EQ(fstat(fd[1], &b), 0);
	CHECK_EQ(a.st_ino, b.st_ino);
	CHECK(fcntl(fd[1], F_GETFL) & O_NONBLOCK);
	CHECK(!(fcntl(fd[0], F_GETFL) & O_NONBLOCK));
	CHECK_EQ(read(fd[1], buf, 1), 1);
	CHECK_EQ(read(fd[0], buf, 1), 1);
	CHECK_EQ(buf[0], 'b');
	for (int i = 0; i < 3; i++) {
		if (fd[i] >= 0)
			close(fd[i]);
		mock_file_free(&f[i]);
	}
}

/* Only the read end is in the task: the bytes are there, then EOF. */
static void t_read_end_only(void)
{
	struct mock_file f;
	char buf[16];
	int p[2], r;

	start_files();
	CHECK_EQ(pipe(p), 0);
	CHECK_EQ(write(p[1], "tail", 4), 4);
	close(p[1]);
	dump_end(p[0], 1, &f);
	CHECK_EQ(mock_run_hooks(CP_STAGE_POST_DUMP), 0);
	close(p[0]);
	r = open_end(&f, 3);
	CHECK_EQ(mock_run_hooks(CP_STAGE_RESTORE_TASK), 0);
	CHECK_EQ(read(r, buf, sizeof(buf)), 4);
	CHECK_EQ(read(r, buf, sizeof(buf)), 0);
	if (r >= 0)
		close(r);
	mock_file_free(&f);
}

static void t_malformed(void)
{
	struct cp_file file = { .size = sizeof(file), .id = 8, .type = FILES_TYPE_PIPE, .fd = 3 };
	static const uint8_t junk[] = { 0x08 };
	int fd = -1;

	start_files();
	file.payload = junk;
	file.payload_len = sizeof(junk);
	CHECK_EQ(files_pipe_ops.open(NULL, &file, &fd), -EINVAL);
	CHECK_LOG("file id 8: malformed PipeEntry");
}

static void t_fifo(void)
{
	struct mock_file fr, fw;
	const char *kind = NULL;
	char path[128], buf[16];
	FifoEntry *er = NULL;
	struct stat a, b;
	int r, w;

	start_files();
	snprintf(path, sizeof(path), "%s/fifo", mock_tmpdir());
	CHECK_EQ(mkfifo(path, 0600), 0);
	r = open(path, O_RDONLY | O_NONBLOCK);
	w = open(path, O_WRONLY);
	CHECK(r >= 0 && w >= 0);
	CHECK_EQ(write(w, "queued", 6), 6);
	CHECK_EQ(mock_dump_own_fd(r, 1, &fr), 0);
	CHECK_EQ(mock_dump_own_fd(w, 2, &fw), 0);
	CHECK_EQ(fr.type, FILES_TYPE_FIFO);
	CHECK_EQ(fr.field, FILES_FIELD_FIFO);
	CHECK_EQ(mock_run_hooks(CP_STAGE_POST_DUMP), 0);
	CHECK_EQ(read(r, buf, sizeof(buf)), 6); /* the dump left the bytes queued */
	close(r);
	close(w);
	er = fifo_entry__unpack(NULL, fr.len, fr.payload);
	CHECK(er && er->has_regf_id && er->regf_id >= 1000);
	if (er)
		fifo_entry__free_unpacked(er, NULL);

	r = w = -1;
	CHECK_EQ(mock_open_file(&fr, 5, &r, &kind), 0);
	CHECK(kind && !strcmp(kind, "FIFO"));
	CHECK_EQ(mock_open_file(&fw, 6, &w, &kind), 0);
	CHECK_EQ(mock_run_hooks(CP_STAGE_RESTORE_TASK), 0);
	CHECK(r >= 0 && w >= 0);
	CHECK(!fstat(r, &a) && !stat(path, &b) && S_ISFIFO(a.st_mode) && a.st_ino == b.st_ino);
	CHECK_EQ(fcntl(r, F_GETFL) & (O_ACCMODE | O_NONBLOCK), O_RDONLY | O_NONBLOCK);
	CHECK_EQ(fcntl(w, F_GETFL) & O_ACCMODE, O_WRONLY);
	memset(buf, 0, sizeof(buf));
	CHECK_EQ(read(r, buf, sizeof(buf)), 6);
	CHECK(!memcmp(buf, "queued", 6));
	CHECK_EQ(write(w, "x", 1), 1);
	CHECK_EQ(read(r, buf, sizeof(buf)), 1);
	close(r);
	close(w);
	mock_file_free(&fr);
	mock_file_free(&fw);
}

int main(void)
{
	static const struct tap_test tests[] = {
		TAP_TEST(t_both_ends),	     TAP_TEST(t_empty),	 TAP_TEST(t_no_data),	 TAP_TEST(t_two_pipes),
		TAP_TEST(t_same_end_twice), TAP_TEST(t_read_end_only), TAP_TEST(t_malformed), TAP_TEST(t_fifo),
	};

	return tap_run(tests, TAP_COUNT(tests), &mock_tap_opts);
}
