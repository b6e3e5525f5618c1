/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A position-independent blob as embedded in the criu executable by the
 * build (parasite/Makefile.inc, parasite/pie-pack.c): the bytes from
 * objcopy -O binary, the memory layout, and the R_X86_64_RELATIVE
 * relocations to apply once its load address in the target is known.
 *
 * Layout from offset 0: text and rodata (map PROT_READ|PROT_EXEC), then
 * from rw_off (page aligned) data and bss (PROT_READ|PROT_WRITE), up to
 * mem_size. Bytes past image_size up to mem_size are bss and must be zero.
 */
#ifndef PIE_BLOB_H
#define PIE_BLOB_H

#include <stddef.h>
#include <stdint.h>

struct pie_reloc {
	uint32_t offset; /* where the u64 goes, from the blob start */
	uint32_t addend; /* its value is load base + addend */
};

struct pie_blob {
	const char *name;
	const uint8_t *image;	/* image_size bytes */
	size_t image_size;
	size_t mem_size;	/* including bss, page aligned */
	size_t rw_off;		/* first writable byte, page aligned */
	size_t entry_off;	/* __export_entry */
	const struct pie_reloc *relocs;
	size_t nr_relocs;
};

/*
 * Copy blob B into DST (at least B->mem_size bytes, zeroed past the image)
 * and relocate it for load address BASE. DST is the loader's own view of the
 * memory (for example a shared mapping); BASE is where the code will run.
 */
static inline void pie_blob_load(const struct pie_blob *b, void *dst, uint64_t base)
{
	uint8_t *d = dst;
	size_t i;

	for (i = 0; i < b->image_size; i++)
		d[i] = b->image[i];
	for (; i < b->mem_size; i++)
		d[i] = 0;
	for (i = 0; i < b->nr_relocs; i++) {
		uint64_t v = base + b->relocs[i].addend;
		uint8_t *p = d + b->relocs[i].offset;

		for (int k = 0; k < 8; k++)
			p[k] = (uint8_t)(v >> (8 * k));
	}
}

#endif /* PIE_BLOB_H */
