// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * A memfd mapped MAP_SHARED by a parent and its child (the mapping
 * inherited by fork). Restore would make one memfd per process, two
 * objects where there was one, so the dump must refuse it, naming the
 * memfd and the pid that has it too, and leave the tree running: the
 * child's write after SIGUSR1 still shows in the parent's mapping.
 */
#define _GNU_SOURCE
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "lib/crtest.h"

int main(int argc, char **argv)
{
	pid_t child;
	char *map;
	int fd;

	test_init(argc, argv);
	fd = memfd_create("memfd_tree00", 0);
	if (fd < 0 || ftruncate(fd, 4096))
		fail("memfd_create: %m");
	map = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (map == MAP_FAILED)
		fail("mmap: %m");
	close(fd);
	strcpy(map, "parent");

	child = test_fork();
	if (child == 0) {
		test_ready();
		test_waitsig();
		strcpy(map, "child");
		test_child_exit();
	}

	test_daemon();
	test_waitsig();

	test_wait_children(&child, 1);
	if (strcmp(map, "child"))
		test_error("the parent's mapping holds \"%.16s\", want the child's \"child\"", map);
	test_finish();
}
