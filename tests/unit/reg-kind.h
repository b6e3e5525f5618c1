/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A stand-in for the files plugin's regular-file kind, linked into unit
 * tests that run a whole dump or restore in-process: the core has the
 * exe, cwd, root and mapped files dumped and opened by the kind that
 * takes those uses, and these tests load no plugin files. It saves the
 * path and the open flags, and opens the path again (an error names it).
 */
#ifndef TESTS_UNIT_REG_KIND_H
#define TESTS_UNIT_REG_KIND_H

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <criu/plugin.h>

#include "fown.pb-c.h"
#include "regfile.pb-c.h"

#include "plugins/registry.h"

static int tk_match(struct cp_plugin *p, const struct cp_fd_desc *fd)
{
	(void)p;
	return fd->link[0] == '/' && (S_ISREG(fd->st.st_mode) || S_ISDIR(fd->st.st_mode)) ? 0 : -ENOTSUP;
}

static int tk_dump(struct cp_plugin *p, const struct cp_fd_desc *fd, uint32_t id, struct cp_payload *out)
{
	RegFileEntry re = REG_FILE_ENTRY__INIT;
	FownEntry fown = FOWN_ENTRY__INIT;

	(void)p;
	re.id = id;
	re.flags = fd->flags;
	re.fown = &fown;
	re.name = (char *)fd->link;
	return cp_payload_pack(out, &re.base);
}

static int tk_open(struct cp_plugin *p, const struct cp_file *file, int *out_fd)
{
	RegFileEntry *re = reg_file_entry__unpack(NULL, file->payload_len, file->payload);
	int fd, ret = 0;

	(void)p;
	if (!re)
		return -EINVAL;
	fd = open(re->name, (int)(re->flags & (O_ACCMODE | O_DIRECTORY)) | O_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
		pr_perror("cannot open %s", re->name);
	}
	reg_file_entry__free_unpacked(re, NULL);
	*out_fd = fd;
	return ret;
}

static const struct cp_fd_ops tk_ops = {
	.size = sizeof(struct cp_fd_ops),
	.name = "test regular file",
	.type = 1,
	.payload_field = 3,
	.match = tk_match,
	.dump = tk_dump,
	.open = tk_open,
	.uses = CP_USES(CP_USE_EXE) | CP_USES(CP_USE_CWD) | CP_USES(CP_USE_ROOT) | CP_USES(CP_USE_MAP),
};

static int tk_init(struct cp_plugin *p)
{
	return cp_register_fd_kind(p, &tk_ops);
}

static const struct cp_plugin_desc tk_desc = {
	.abi_major = CP_ABI_MAJOR,
	.abi_minor = CP_ABI_MINOR,
	.name = "test-reg",
	.version = "0",
	.description = "regular files for the core's own files (unit tests)",
	.init = tk_init,
};

/* Register the kind before the tests fork; 0 or a negative errno. */
static inline int reg_kind_start(void)
{
	struct cp_plugin *p = plugin_new(&tk_desc, "(linked in)", NULL);

	return p ? plugin_start(p) : -ENOMEM;
}

#endif /* TESTS_UNIT_REG_KIND_H */
