// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Working directory and umask across the dump: the task moves into a
 * subdirectory of its test dir and sets an unusual umask. After restore
 * getcwd() names the same path, "." is the same directory (device and
 * inode), and umask() gives back the value that was set.
 */
#define _GNU_SOURCE
#include "lib/crtest.h"

#include <errno.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	char want[PATH_MAX], got[PATH_MAX];
	struct stat before, after;
	mode_t mask;

	test_init(argc, argv);
	if (mkdir("cwd00.dir", 0755) && errno != EEXIST)
		fail("mkdir: %m");
	if (chdir("cwd00.dir") || !getcwd(want, sizeof(want)) || stat(".", &before))
		fail("chdir: %m");
	umask(0163);

	test_daemon();
	test_waitsig();

	if (!getcwd(got, sizeof(got)))
		test_error("getcwd: %m");
	else if (strcmp(got, want))
		test_error("cwd is %s, want %s", got, want);
	if (stat(".", &after))
		test_error("stat .: %m");
	else if (after.st_dev != before.st_dev || after.st_ino != before.st_ino)
		test_error("cwd is another directory with the same name");
	mask = umask(0);
	if (mask != 0163)
		test_error("umask is %03o, want 163", mask);
	test_finish();
}
