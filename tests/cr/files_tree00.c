// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The files plugin's files in a process tree. A FIFO: the parent holds
 * the read end, its child opened the write end itself (two open files of
 * one FIFO in two processes) and queued bytes in it. A deleted file
 * mapped MAP_SHARED before the fork (a ghost behind the mapping of both).
 * The child's own cwd. After restore the child writes more into the FIFO
 * and into the mapping and exits; the parent must read the queued bytes
 * once, then the child's (one FIFO, its bytes put back once for the
 * tree), and see the child's write in its mapping (one file for both),
 * and the child must be in its own cwd again.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/crtest.h"

#define QUEUED "queued"
#define LATER " and later"
#define SUBDIR "files_tree00.d"

static bool in_subdir(void)
{
	char cwd[4096];
	size_t n = strlen("/" SUBDIR);

	return getcwd(cwd, sizeof(cwd)) && strlen(cwd) > n && !strcmp(cwd + strlen(cwd) - n, "/" SUBDIR);
}

int main(int argc, char **argv)
{
	char buf[64] = { 0 };
	pid_t child;
	char *map;
	int r, fd;

	test_init(argc, argv);
	if (mkfifo("files_tree00.fifo", 0600) || mkdir(SUBDIR, 0700))
		fail("mkfifo, mkdir: %m");
	r = open("files_tree00.fifo", O_RDONLY | O_NONBLOCK);
	fd = open("files_tree00.ghost", O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (r < 0 || fd < 0 || ftruncate(fd, 4096))
		fail("open: %m");
	map = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (map == MAP_FAILED)
		fail("mmap: %m");
	strcpy(map, "parent");
	close(fd);
	if (unlink("files_tree00.ghost"))
		fail("unlink: %m");

	child = test_fork();
	if (child == 0) {
		int w = open("files_tree00.fifo", O_WRONLY);

		if (w < 0 || write(w, QUEUED, strlen(QUEUED)) != (ssize_t)strlen(QUEUED))
			fail("child: open or write the FIFO: %m");
		if (chdir(SUBDIR))
			fail("child: chdir: %m");
		test_ready();
		test_waitsig();
		if (!in_subdir())
			test_error("child: not in its cwd " SUBDIR " any more");
		if (strcmp(map, "parent"))
			test_error("child: the mapping holds \"%.16s\", want \"parent\"", map);
		strcpy(map, "child");
		if (write(w, LATER, strlen(LATER)) != (ssize_t)strlen(LATER))
			test_error("child: write to the FIFO: %m");
		test_child_exit();
	}

	test_daemon();
	test_waitsig();

	test_wait_children(&child, 1);
	if (in_subdir())
		test_error("parent: in the child's cwd");
	if (read(r, buf, sizeof(buf) - 1) < 0 || strcmp(buf, QUEUED LATER))
		test_error("parent: read \"%s\" from the FIFO, want \"" QUEUED LATER "\"", buf);
	if (strcmp(map, "child"))
		test_error("parent: the mapping holds \"%.16s\", want the child's \"child\"", map);
	test_finish();
}
