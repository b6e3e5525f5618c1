// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The GNU build-id of an ELF file (--file-validation buildid, as CRIU):
 * the NT_GNU_BUILD_ID note found through the program headers (PT_NOTE),
 * for 64- and 32-bit ELF of either byte order of this machine. Files that
 * are not ELF, or have no such note, have none.
 */
#define _GNU_SOURCE
#include <elf.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "files.h"

#define BUILDID_MAX_PHDRS 256
#define BUILDID_MAX_NOTES (64 * 1024)

static int read_at(int fd, void *buf, size_t len, uint64_t off)
{
	ssize_t n = pread(fd, buf, len, (off_t)off);

	if (n < 0)
		return -errno;
	return (size_t)n == len ? 0 : -ENODATA;
}

/* Look for the GNU build-id in the notes of BUF (LEN bytes). */
static int find_in_notes(const uint8_t *buf, size_t len, uint8_t *out, size_t max)
{
	size_t off = 0;

	while (off + sizeof(Elf64_Nhdr) <= len) {
		Elf64_Nhdr nh; /* the same layout as Elf32_Nhdr */
		size_t name, desc;

		memcpy(&nh, buf + off, sizeof(nh));
		off += sizeof(nh);
		name = ((size_t)nh.n_namesz + 3) & ~(size_t)3;
		desc = ((size_t)nh.n_descsz + 3) & ~(size_t)3;
		if (name > len - off || desc > len - off - name)
			break;
		if (nh.n_type == NT_GNU_BUILD_ID && nh.n_namesz == 4 && !memcmp(buf + off, "GNU", 4)) {
			size_t n = nh.n_descsz < max ? nh.n_descsz : max;

			memcpy(out, buf + off + name, n);
			return (int)n;
		}
		off += name + desc;
	}
	return 0;
}

/* Program header I at PHOFF: its type, offset and size in the file; 0 or -ENODATA. */
static int read_phdr(int fd, bool is64, uint64_t phoff, unsigned int i, uint32_t *type, uint64_t *off,
		     uint64_t *size)
{
	Elf64_Phdr p64;
	Elf32_Phdr p32;
	int ret;

	if (is64) {
		ret = read_at(fd, &p64, sizeof(p64), phoff + (uint64_t)i * sizeof(p64));
		*type = p64.p_type;
		*off = p64.p_offset;
		*size = p64.p_filesz;
	} else {
		ret = read_at(fd, &p32, sizeof(p32), phoff + (uint64_t)i * sizeof(p32));
		*type = p32.p_type;
		*off = p32.p_offset;
		*size = p32.p_filesz;
	}
	return ret;
}

int files_elf_build_id(int fd, uint8_t *out, size_t max)
{
	unsigned char ident[EI_NIDENT];
	uint64_t phoff;
	unsigned int phnum;
	bool is64;
	int ret;

	ret = read_at(fd, ident, sizeof(ident), 0);
	if (ret)
		return ret == -ENODATA ? 0 : ret;
	if (memcmp(ident, ELFMAG, SELFMAG))
		return 0;
	is64 = ident[EI_CLASS] == ELFCLASS64;
	if (is64) {
		Elf64_Ehdr eh;

		if (read_at(fd, &eh, sizeof(eh), 0) || eh.e_phentsize != sizeof(Elf64_Phdr))
			return 0;
		phoff = eh.e_phoff;
		phnum = eh.e_phnum;
	} else {
		Elf32_Ehdr eh;

		if (ident[EI_CLASS] != ELFCLASS32 || read_at(fd, &eh, sizeof(eh), 0) ||
		    eh.e_phentsize != sizeof(Elf32_Phdr))
			return 0;
		phoff = eh.e_phoff;
		phnum = eh.e_phnum;
	}
	if (phnum > BUILDID_MAX_PHDRS)
		phnum = BUILDID_MAX_PHDRS;
	for (unsigned int i = 0; i < phnum; i++) {
		uint64_t off, size;
		uint32_t type;
		uint8_t *buf;

		if (read_phdr(fd, is64, phoff, i, &type, &off, &size))
			return 0;
		if (type != PT_NOTE || !size || size > BUILDID_MAX_NOTES)
			continue;
		buf = malloc(size);
		if (!buf)
			return -ENOMEM;
		ret = read_at(fd, buf, size, off);
		if (!ret)
			ret = find_in_notes(buf, size, out, max);
		free(buf);
		if (ret)
			return ret == -ENODATA ? 0 : ret;
	}
	return 0;
}
