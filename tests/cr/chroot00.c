// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Root directory across the dump: the task chroot()s into a directory
 * made in its test dir (holding a marker file) and works in a
 * subdirectory of it. After restore "/" is the same directory (device,
 * inode, the marker is there at /marker), getcwd() is relative to the new
 * root, and ".." at the root stays at the root. The outfile is kept open
 * because its path is outside the new root.
 */
#define _GNU_SOURCE
#include "lib/crtest.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	struct stat root_before, root_after, up;
	char cwd[PATH_MAX];
	int fd;

	test_init(argc, argv);
	if ((mkdir("chroot00.root", 0755) && errno != EEXIST) || (mkdir("chroot00.root/sub", 0755) && errno != EEXIST))
		fail("mkdir: %m");
	fd = open("chroot00.root/marker", O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0 || write(fd, "root\n", 5) != 5 || close(fd))
		fail("marker: %m");
	test_keep_outfile();
	if (chroot("chroot00.root") || chdir("/sub") || stat("/", &root_before))
		fail("chroot: %m");

	test_daemon();
	test_waitsig();

	if (stat("/", &root_after))
		test_error("stat /: %m");
	else if (root_after.st_dev != root_before.st_dev || root_after.st_ino != root_before.st_ino)
		test_error("/ is another directory now");
	if (access("/marker", R_OK))
		test_error("/marker: %m");
	if (stat("/..", &up) || up.st_ino != root_after.st_ino)
		test_error("/.. leaves the root");
	if (!getcwd(cwd, sizeof(cwd)))
		test_error("getcwd: %m");
	else if (strcmp(cwd, "/sub"))
		test_error("cwd is %s, want /sub", cwd);
	test_finish();
}
