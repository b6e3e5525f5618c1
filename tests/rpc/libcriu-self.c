// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The libcriu task of self-dump.t: a C program that dumps itself with
 * criu_dump() and no pid (libcriu then starts criu swrk detached, and
 * criu dumps its client). After its restore the program is back in
 * criu_dump(), which must return 1 ("restored"). It writes "restored"
 * (or what it got instead) to the result file and exits.
 *
 * Usage: libcriu-self CRIU-BINARY IMAGES-DIR RESULT-FILE
 * The plugin dir comes from $CRIU_LIBS_DIR.
 */
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <unistd.h>

#include <criu.h>

int main(int argc, char **argv)
{
	FILE *f;
	int dfd, ret;

	if (argc != 4) {
		fprintf(stderr, "usage: %s CRIU IMAGES-DIR RESULT-FILE\n", argv[0]);
		return 2;
	}
	dfd = open(argv[2], O_DIRECTORY | O_RDONLY);
	if (dfd < 0 || criu_init_opts() < 0) {
		perror(argv[2]);
		return 2;
	}
	criu_set_service_binary(argv[1]);
	criu_set_images_dir_fd(dfd);
	criu_set_log_file("dump.log");
	criu_set_log_level(4);
	criu_set_leave_running(false);
	printf("dumping pid %d\n", (int)getpid());
	fflush(stdout);
	ret = criu_dump();
	f = fopen(argv[3], "w");
	if (!f)
		return 2;
	if (ret == 1)
		fprintf(f, "restored\n");
	else
		fprintf(f, "criu_dump() returned %d\n", ret);
	fclose(f);
	return 0;
}
