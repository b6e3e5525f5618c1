// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The vDSO proxy (fact 5.13), for images from another kernel build: the
 * task's libc cached the addresses of the dumped vDSO's functions, so the
 * dumped vDSO comes back as an ordinary private mapping at its address,
 * and the entry of each function it exports is overwritten with a jump to
 * the same function of this kernel's vDSO, which the restorer moves to a
 * place that is free in the task's layout. The dumped vvar is not mapped:
 * nothing but the patched entries of the old code runs any more.
 */
#define LOG_PREFIX "restore: "
#include <elf.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criu/log.h>
#include <pie/kabi.h>

#include "restore/mem.h"

struct vdso_sym {
	const char *name;
	uint64_t off; /* from the start of the image */
};

/* A byte range of IMG, or NULL when it is outside (images are input). */
static const void *at(const uint8_t *img, size_t len, uint64_t off, uint64_t n)
{
	if (off > len || n > len - off)
		return NULL;
	return img + off;
}

/*
 * The exported functions of a vDSO image (as mapped: file offset ==
 * address - first PT_LOAD address), through DT_SYMTAB/DT_STRTAB/DT_HASH.
 */
static int elf_syms(const uint8_t *img, size_t len, struct vdso_sym **out, size_t *nr)
{
	const Elf64_Ehdr *eh = at(img, len, 0, sizeof(*eh));
	const Elf64_Phdr *ph;
	const Elf64_Dyn *dyn = NULL;
	uint64_t base = UINT64_MAX, symtab = 0, strtab = 0, hash = 0, strsz = 0, dynsz = 0;
	const Elf64_Sym *syms;
	const uint32_t *h;
	struct vdso_sym *v;
	size_t n = 0;

	if (!eh || memcmp(eh->e_ident, ELFMAG, SELFMAG) || eh->e_ident[EI_CLASS] != ELFCLASS64)
		return -EINVAL;
	ph = at(img, len, eh->e_phoff, (uint64_t)eh->e_phnum * sizeof(*ph));
	if (!ph)
		return -EINVAL;
	for (int i = 0; i < eh->e_phnum; i++) {
		if (ph[i].p_type == PT_LOAD && ph[i].p_vaddr - ph[i].p_offset < base)
			base = ph[i].p_vaddr - ph[i].p_offset;
		if (ph[i].p_type == PT_DYNAMIC) {
			dyn = at(img, len, ph[i].p_offset, ph[i].p_filesz);
			dynsz = ph[i].p_filesz / sizeof(*dyn);
		}
	}
	if (!dyn || base == UINT64_MAX)
		return -EINVAL;
	for (size_t i = 0; i < dynsz && dyn[i].d_tag != DT_NULL; i++) {
		if (dyn[i].d_tag == DT_SYMTAB)
			symtab = dyn[i].d_un.d_ptr - base;
		else if (dyn[i].d_tag == DT_STRTAB)
			strtab = dyn[i].d_un.d_ptr - base;
		else if (dyn[i].d_tag == DT_STRSZ)
			strsz = dyn[i].d_un.d_val;
		else if (dyn[i].d_tag == DT_HASH)
			hash = dyn[i].d_un.d_ptr - base;
	}
	h = hash ? at(img, len, hash, 8) : NULL;
	if (!symtab || !strtab || !h || !at(img, len, strtab, strsz))
		return -EINVAL;
	syms = at(img, len, symtab, (uint64_t)h[1] * sizeof(*syms));
	v = calloc(h[1] + 1, sizeof(*v));
	if (!syms || !v) {
		free(v);
		return syms ? -ENOMEM : -EINVAL;
	}
	for (uint32_t i = 0; i < h[1]; i++) {
		const Elf64_Sym *s = &syms[i];

		if (ELF64_ST_TYPE(s->st_info) != STT_FUNC || s->st_shndx == SHN_UNDEF ||
		    s->st_name >= strsz || !memchr(img + strtab + s->st_name, 0, strsz - s->st_name))
			continue;
		v[n].name = (const char *)img + strtab + s->st_name;
		v[n].off = s->st_value - base;
		n++;
	}
	*out = v;
	*nr = n;
	return 0;
}

/* The dumped vDSO's bytes, from the pages image. */
static int read_dumped(struct rst_ctx *c, struct rst_mem_plan *p, const struct rst_vma *dv,
		       uint8_t *buf)
{
	uint64_t off = 0, got = 0;

	for (size_t i = 0; i < c->nr_pm; i++) {
		const PagemapEntry *pe = c->pm[i];
		uint64_t nr = pe->has_nr_pages ? pe->nr_pages : pe->compat_nr_pages;

		if ((pe->has_flags && !(pe->flags & RST_PE_PRESENT)) ||
		    (pe->has_in_parent && pe->in_parent))
			continue;
		for (uint64_t k = 0; k < nr; k++, off += K_PAGE_SIZE) {
			uint64_t a = pe->vaddr + k * K_PAGE_SIZE;

			if (a < dv->start || a >= dv->end)
				continue;
			if (p->pages_fd < 0 || pread(p->pages_fd, buf + (a - dv->start), K_PAGE_SIZE,
						     (off_t)off) != (ssize_t)K_PAGE_SIZE)
				return -EIO;
			got += K_PAGE_SIZE;
		}
	}
	return got == dv->end - dv->start ? 0 : -ENOENT;
}

static bool free_in(const struct rst_mem_plan *p, uint64_t lo, uint64_t hi)
{
	for (size_t i = 0; i < p->nr_avoid; i++)
		if (p->avoid[i].start < hi && p->avoid[i].end > lo)
			return false;
	return true;
}

/* Where this kernel's vvar+vdso go: where they are, if the task left that free. */
static int pick_target(struct rst_mem_plan *p, uint64_t lo, uint64_t len, uint64_t *target)
{
	struct rst_span *n;

	*target = lo;
	while (!free_in(p, *target, *target + len)) {
		*target -= 1ull << 21;
		if (*target < (1ull << 32))
			return -ENOSPC;
	}
	/* Keep the bootstrap region out of it too. */
	n = realloc(p->avoid, (p->nr_avoid + 1) * sizeof(*n));
	if (!n)
		return -ENOMEM;
	p->avoid = n;
	p->avoid[p->nr_avoid].start = *target;
	p->avoid[p->nr_avoid++].end = *target + len;
	return 0;
}

static int add_poke(struct rst_mem_plan *p, uint64_t addr, uint64_t to)
{
	struct rst_poke *n = realloc(p->pokes, (p->nr_pokes + 1) * sizeof(*n));
	struct rst_poke *k;

	if (!n)
		return -ENOMEM;
	p->pokes = n;
	k = &p->pokes[p->nr_pokes++];
	memset(k, 0, sizeof(*k));
	k->addr = addr;
	k->len = 12;
	/* movabs $to, %rax; jmp *%rax (rax is scratch at a call) */
	k->bytes[0] = 0x48;
	k->bytes[1] = 0xb8;
	memcpy(&k->bytes[2], &to, 8);
	k->bytes[10] = 0xff;
	k->bytes[11] = 0xe0;
	return 0;
}

int rst_vdso_proxy(struct rst_ctx *c, struct rst_mem_plan *p, struct rst_vma *dv, uint64_t rt_lo,
		   uint64_t rt_hi)
{
	struct vdso_sym *old = NULL, *cur = NULL;
	size_t n_old = 0, n_cur = 0;
	uint64_t target;
	uint8_t *buf;
	int ret;

	buf = malloc(dv->end - dv->start);
	if (!buf)
		return -ENOMEM;
	ret = read_dumped(c, p, dv, buf);
	if (ret) {
		pr_err("%s: the dumped vDSO at %#llx is not all there; cannot build the vDSO proxy",
		       c->pages_name, (unsigned long long)dv->start);
		goto out;
	}
	ret = elf_syms(buf, dv->end - dv->start, &old, &n_old);
	if (!ret)
		ret = elf_syms((const uint8_t *)(uintptr_t)p->rt_vdso_start, p->rt_vdso_len, &cur,
			       &n_cur);
	if (ret) {
		pr_err("pid %d: cannot read the symbols of the %s vDSO", c->pid,
		       old ? "runtime" : "dumped");
		goto out;
	}
	ret = pick_target(p, rt_lo, rt_hi - rt_lo, &target);
	if (ret) {
		pr_err("pid %d: no room for this kernel's vDSO in the task's layout", c->pid);
		goto out;
	}
	for (size_t i = 0; i < n_old && !ret; i++) {
		size_t k;

		for (k = 0; k < n_cur && strcmp(cur[k].name, old[i].name); k++)
			;
		if (k == n_cur) {
			pr_warn("pid %d: vDSO function %s is gone from this kernel's vDSO", c->pid,
				old[i].name);
			continue;
		}
		if (old[i].off + 12 > dv->end - dv->start) {
			ret = -EINVAL;
			break;
		}
		ret = add_poke(p, dv->start + old[i].off,
			       target + (p->rt_vdso_start - rt_lo) + cur[k].off);
	}
	if (ret)
		goto out;
	/* The dumped copy is ordinary private memory now; the restorer fills and patches it. */
	dv->kind = RST_VMA_MAP;
	dv->flags = K_MAP_PRIVATE | K_MAP_ANONYMOUS;
	dv->fd = -1;
	p->vdso_remap = true;
	p->dumped_vvar_start = target + (p->rt_vvar_start - rt_lo);
	p->dumped_vdso_start = target + (p->rt_vdso_start - rt_lo);
	p->park_len = rt_hi - rt_lo;
	pr_info("pid %d: vDSO proxy: %u functions of the dumped vDSO jump to this kernel's at "
		"%#llx", c->pid, p->nr_pokes, (unsigned long long)p->dumped_vdso_start);
out:
	free(old);
	free(cur);
	free(buf);
	return ret;
}
