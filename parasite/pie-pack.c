// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * pie-pack: turn a linked blob into C the core can embed.
 *
 *   pie-pack NAME BLOB.elf BLOB.bin OUT.c OUT.h
 *
 * BLOB.elf is the output of ld -pie with parasite/pie.lds, BLOB.bin its
 * objcopy -O binary. The tool checks that the only dynamic relocations are
 * R_X86_64_RELATIVE and that nothing is left undefined, then writes a
 * struct pie_blob NAME_blob (see parasite/include/pie/blob.h) and, for every
 * symbol called __export_X, a macro NAME_OFF_X with its offset.
 * It is a build tool: it runs on the build machine and prints to stderr.
 */
#include <ctype.h>
#include <elf.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct buf {
	uint8_t *data;
	size_t len;
};

static int read_file(const char *path, struct buf *b)
{
	FILE *f = fopen(path, "rb");
	long n;

	if (!f) {
		fprintf(stderr, "pie-pack: %s: %s\n", path, strerror(errno));
		return -1;
	}
	if (fseek(f, 0, SEEK_END) || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET)) {
		fprintf(stderr, "pie-pack: %s: cannot size\n", path);
		fclose(f);
		return -1;
	}
	b->len = (size_t)n;
	b->data = malloc(b->len ? b->len : 1);
	if (!b->data || fread(b->data, 1, b->len, f) != b->len) {
		fprintf(stderr, "pie-pack: %s: short read\n", path);
		fclose(f);
		return -1;
	}
	fclose(f);
	return 0;
}

struct elf {
	const char *path;
	struct buf b;
	const Elf64_Ehdr *eh;
	const Elf64_Shdr *sh;
	const char *shstr;
};

static const void *elf_at(const struct elf *e, uint64_t off, uint64_t len)
{
	if (off > e->b.len || len > e->b.len - off) {
		fprintf(stderr, "pie-pack: %s: truncated (offset %#llx)\n", e->path,
			(unsigned long long)off);
		return NULL;
	}
	return e->b.data + off;
}

static int elf_open(struct elf *e)
{
	const Elf64_Shdr *strsh;

	e->eh = elf_at(e, 0, sizeof(*e->eh));
	if (!e->eh)
		return -1;
	if (memcmp(e->eh->e_ident, ELFMAG, SELFMAG) || e->eh->e_ident[EI_CLASS] != ELFCLASS64 ||
	    e->eh->e_machine != EM_X86_64 || e->eh->e_shentsize != sizeof(Elf64_Shdr)) {
		fprintf(stderr, "pie-pack: %s: not an x86_64 ELF64 file\n", e->path);
		return -1;
	}
	e->sh = elf_at(e, e->eh->e_shoff, (uint64_t)e->eh->e_shnum * sizeof(Elf64_Shdr));
	if (!e->sh || e->eh->e_shstrndx >= e->eh->e_shnum)
		return -1;
	strsh = &e->sh[e->eh->e_shstrndx];
	e->shstr = elf_at(e, strsh->sh_offset, strsh->sh_size);
	return e->shstr ? 0 : -1;
}

static const char *sec_name(const struct elf *e, const Elf64_Shdr *s)
{
	return e->shstr + s->sh_name;
}

struct export {
	char name[64];
	uint64_t off;
};

struct packed {
	uint64_t rw_start, end, entry;
	int have_rw, have_end, have_entry;
	struct export exp[64];
	int nr_exp;
	Elf64_Rela *relas;
	size_t nr_relas;
};

static int scan_symbols(const struct elf *e, struct packed *p)
{
	for (int i = 0; i < e->eh->e_shnum; i++) {
		const Elf64_Shdr *s = &e->sh[i];
		const Elf64_Sym *sym;
		const char *str;
		size_t n;

		if (s->sh_type != SHT_SYMTAB)
			continue;
		if (s->sh_link >= e->eh->e_shnum)
			return -1;
		sym = elf_at(e, s->sh_offset, s->sh_size);
		str = elf_at(e, e->sh[s->sh_link].sh_offset, e->sh[s->sh_link].sh_size);
		if (!sym || !str)
			return -1;
		n = s->sh_size / sizeof(*sym);
		for (size_t k = 1; k < n; k++) {
			const char *name = str + sym[k].st_name;

			if (sym[k].st_shndx == SHN_UNDEF && name[0]) {
				fprintf(stderr, "pie-pack: %s: undefined symbol %s (blobs have no libc)\n",
					e->path, name);
				return -1;
			}
			if (!strcmp(name, "__pie_rw_start")) {
				p->rw_start = sym[k].st_value;
				p->have_rw = 1;
			} else if (!strcmp(name, "__pie_end")) {
				p->end = sym[k].st_value;
				p->have_end = 1;
			} else if (!strncmp(name, "__export_", 9)) {
				if (p->nr_exp == 64 || strlen(name + 9) >= sizeof(p->exp[0].name))
					return -1;
				strcpy(p->exp[p->nr_exp].name, name + 9);
				p->exp[p->nr_exp].off = sym[k].st_value;
				if (!strcmp(name + 9, "entry")) {
					p->entry = sym[k].st_value;
					p->have_entry = 1;
				}
				p->nr_exp++;
			}
		}
	}
	if (!p->have_rw || !p->have_end || !p->have_entry) {
		fprintf(stderr, "pie-pack: %s: missing __pie_rw_start, __pie_end or __export_entry "
				"(link with parasite/pie.lds)\n", e->path);
		return -1;
	}
	return 0;
}

static int scan_relocs(const struct elf *e, struct packed *p)
{
	for (int i = 0; i < e->eh->e_shnum; i++) {
		const Elf64_Shdr *s = &e->sh[i];
		const Elf64_Rela *r;
		size_t n;

		if (s->sh_type == SHT_REL) {
			fprintf(stderr, "pie-pack: %s: unexpected REL section %s\n", e->path, sec_name(e, s));
			return -1;
		}
		if (s->sh_type != SHT_RELA)
			continue;
		r = elf_at(e, s->sh_offset, s->sh_size);
		if (!r)
			return -1;
		n = s->sh_size / sizeof(*r);
		p->relas = realloc(p->relas, (p->nr_relas + n) * sizeof(*r) + 1);
		if (!p->relas)
			return -1;
		for (size_t k = 0; k < n; k++) {
			uint32_t type = (uint32_t)ELF64_R_TYPE(r[k].r_info);

			if (type != R_X86_64_RELATIVE) {
				fprintf(stderr, "pie-pack: %s: relocation type %u at %#llx in %s; "
						"only R_X86_64_RELATIVE is allowed (make the symbol "
						"hidden/static)\n", e->path, type,
					(unsigned long long)r[k].r_offset, sec_name(e, s));
				return -1;
			}
			if (r[k].r_offset + 8 > p->end || r[k].r_addend < 0 ||
			    (uint64_t)r[k].r_addend >= p->end) {
				fprintf(stderr, "pie-pack: %s: relocation at %#llx outside the blob\n",
					e->path, (unsigned long long)r[k].r_offset);
				return -1;
			}
			p->relas[p->nr_relas++] = r[k];
		}
	}
	return 0;
}

/* Every loaded section must be inside [0, __pie_end); text must not be writable. */
static int check_sections(const struct elf *e, const struct packed *p)
{
	for (int i = 0; i < e->eh->e_shnum; i++) {
		const Elf64_Shdr *s = &e->sh[i];
		const char *name = sec_name(e, s);

		if (!(s->sh_flags & SHF_ALLOC) || !strcmp(name, ".dynamic") ||
		    !strncmp(name, ".rela", 5))
			continue;
		if (s->sh_addr + s->sh_size > p->end) {
			fprintf(stderr, "pie-pack: %s: section %s lies past __pie_end\n", e->path, name);
			return -1;
		}
		if ((s->sh_flags & SHF_WRITE) && s->sh_size && s->sh_addr < p->rw_start) {
			fprintf(stderr, "pie-pack: %s: writable section %s in the text pages\n", e->path,
				name);
			return -1;
		}
	}
	return 0;
}

static int write_c(const char *name, const char *path, const struct packed *p, const struct buf *bin)
{
	FILE *f = fopen(path, "w");

	if (!f) {
		fprintf(stderr, "pie-pack: %s: %s\n", path, strerror(errno));
		return -1;
	}
	fprintf(f, "// SPDX-License-Identifier: LGPL-2.1-or-later\n"
		   "// Generated by parasite/pie-pack from the %s blob. Do not edit.\n"
		   "#include \"%s-blob.h\"\n\n", name, name);
	fprintf(f, "static const uint8_t %s_image[%zu] __attribute__((aligned(16))) = {", name,
		bin->len ? bin->len : 1);
	for (size_t i = 0; i < bin->len; i++)
		fprintf(f, "%s0x%02x,", i % 12 ? " " : "\n\t", bin->data[i]);
	fprintf(f, "\n};\n\nstatic const struct pie_reloc %s_relocs[%zu] = {\n", name,
		p->nr_relas ? p->nr_relas : 1);
	for (size_t i = 0; i < p->nr_relas; i++)
		fprintf(f, "\t{ 0x%llx, 0x%llx },\n", (unsigned long long)p->relas[i].r_offset,
			(unsigned long long)p->relas[i].r_addend);
	fprintf(f, "};\n\nconst struct pie_blob %s_blob = {\n"
		   "\t.name = \"%s\",\n\t.image = %s_image,\n\t.image_size = %zu,\n"
		   "\t.mem_size = 0x%llx,\n\t.rw_off = 0x%llx,\n\t.entry_off = 0x%llx,\n"
		   "\t.relocs = %s_relocs,\n\t.nr_relocs = %zu,\n};\n",
		name, name, name, bin->len, (unsigned long long)p->end,
		(unsigned long long)p->rw_start, (unsigned long long)p->entry, name, p->nr_relas);
	return fclose(f) ? -1 : 0;
}

static int write_h(const char *name, const char *path, const struct packed *p)
{
	FILE *f = fopen(path, "w");
	char up[64];
	size_t i;

	if (!f) {
		fprintf(stderr, "pie-pack: %s: %s\n", path, strerror(errno));
		return -1;
	}
	for (i = 0; name[i] && i < sizeof(up) - 1; i++)
		up[i] = (char)toupper((unsigned char)name[i]);
	up[i] = 0;
	fprintf(f, "/* SPDX-License-Identifier: LGPL-2.1-or-later */\n"
		   "/* Generated by parasite/pie-pack from the %s blob. Do not edit. */\n"
		   "#ifndef %s_BLOB_H\n#define %s_BLOB_H\n\n#include <pie/blob.h>\n\n"
		   "extern const struct pie_blob %s_blob;\n\n", name, up, up, name);
	for (int k = 0; k < p->nr_exp; k++) {
		char sym[64];

		for (i = 0; p->exp[k].name[i] && i < sizeof(sym) - 1; i++)
			sym[i] = (char)toupper((unsigned char)p->exp[k].name[i]);
		sym[i] = 0;
		fprintf(f, "#define %s_OFF_%s 0x%llxUL\n", up, sym, (unsigned long long)p->exp[k].off);
	}
	fprintf(f, "\n#endif\n");
	return fclose(f) ? -1 : 0;
}

int main(int argc, char **argv)
{
	struct elf e = { 0 };
	struct packed p = { 0 };
	struct buf bin = { 0 };

	if (argc != 6) {
		fprintf(stderr, "usage: pie-pack NAME BLOB.elf BLOB.bin OUT.c OUT.h\n");
		return 2;
	}
	e.path = argv[2];
	if (read_file(argv[2], &e.b) || read_file(argv[3], &bin) || elf_open(&e) ||
	    scan_symbols(&e, &p) || scan_relocs(&e, &p) || check_sections(&e, &p))
		goto fail;
	if (bin.len > p.end || p.rw_start % 4096 || p.end % 4096) {
		fprintf(stderr, "pie-pack: %s: bad layout (image %zu, rw %#llx, end %#llx)\n", e.path,
			bin.len, (unsigned long long)p.rw_start, (unsigned long long)p.end);
		goto fail;
	}
	if (write_c(argv[1], argv[4], &p, &bin) || write_h(argv[1], argv[5], &p))
		goto fail;
	free(p.relas);
	free(bin.data);
	free(e.b.data);
	return 0;
fail:
	remove(argv[4]);
	remove(argv[5]);
	free(p.relas);
	free(bin.data);
	free(e.b.data);
	return 1;
}
