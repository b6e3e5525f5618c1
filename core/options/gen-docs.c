// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Build-time generator of the documents that list every option:
 *   gen-docs config            etc/criu.conf on stdout
 *   gen-docs man TEMPLATE      docs/criu.8 on stdout, from docs/criu.8.in
 * `make update-generated` runs both into the source tree; a unit test
 * fails when the committed copies differ from what the table gives.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "options/gen.h"

static char *read_all(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf = NULL;
	size_t len = 0;
	long size;

	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (size = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0) {
		buf = malloc((size_t)size + 1);
		if (buf) {
			len = fread(buf, 1, (size_t)size, f);
			buf[len] = '\0';
		}
	}
	fclose(f);
	return buf;
}

int main(int argc, char **argv)
{
	char *tmpl;
	int ret;

	if (argc == 2 && !strcmp(argv[1], "config"))
		return opts_gen_config(stdout) || fflush(stdout) ? 1 : 0;
	if (argc != 3 || strcmp(argv[1], "man")) {
		fprintf(stderr, "Usage: gen-docs config | gen-docs man TEMPLATE\n");
		return 1;
	}
	tmpl = read_all(argv[2]);
	if (!tmpl) {
		fprintf(stderr, "gen-docs: can't read %s: %s\n", argv[2], strerror(errno));
		return 1;
	}
	ret = opts_gen_man(stdout, tmpl);
	free(tmpl);
	return ret || fflush(stdout) ? 1 : 0;
}
