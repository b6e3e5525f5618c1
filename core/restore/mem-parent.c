// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Pages that an incremental dump left in its parent: a pagemap run with
 * PE_PARENT (or the old in_parent) says "these pages did not change since
 * the previous dump", whose images the "parent" link in the images dir
 * points at. Each such run is looked up, by address, in the parent's
 * pagemap-PID.img, and from there maybe in its parent, and so on; the
 * runs found become page runs of the restorer that read the ancestor's
 * pages-N.img.
 */
#define LOG_PREFIX "restore: "
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criu/log.h>
#include <pie/kabi.h>

#include "images/image.h"
#include "restore/mem.h"

#define RST_PARENT_DEPTH 64 /* a loop of parent links is corruption */

struct rst_parent {
	struct img_dir *dir;
	PagemapEntry **pm;
	uint64_t *off; /* offset in pages-N.img of each present run */
	size_t n;
	int pages_fd;  /* owned by the plan (closed by the restorer) */
	unsigned int depth;
	struct rst_parent *up;
};

static uint64_t nr_pages(const PagemapEntry *pe)
{
	return pe->has_nr_pages ? pe->nr_pages : pe->compat_nr_pages;
}

static bool in_parent(const PagemapEntry *pe)
{
	return (pe->has_in_parent && pe->in_parent) || (pe->has_flags && (pe->flags & RST_PE_PARENT));
}

static bool present(const PagemapEntry *pe)
{
	return !in_parent(pe) && (!pe->has_flags || (pe->flags & RST_PE_PRESENT));
}

static int load(struct rst_ctx *c, struct rst_mem_plan *p, const struct img_dir *child,
		unsigned int depth, struct rst_parent **out)
{
	struct rst_parent *r;
	PagemapHead *head = NULL;
	struct image *img = NULL;
	char name[64], pages[64];
	uint64_t off = 0;
	size_t cap = 0;
	int fd, ret;

	if (depth > RST_PARENT_DEPTH) {
		pr_err("%s: more than %d parent images (a loop of parent links?)",
		       img_dir_path(child), RST_PARENT_DEPTH);
		return -ELOOP;
	}
	fd = openat(img_dir_fd(child), "parent", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
		pr_perror("%s: pages are in the parent images, but there is no parent link",
			  img_dir_path(child));
		return ret;
	}
	r = calloc(1, sizeof(*r));
	if (!r) {
		close(fd);
		return -ENOMEM;
	}
	r->pages_fd = -1;
	r->depth = depth;
	snprintf(name, sizeof(name), "%s/parent", img_dir_path(child));
	ret = img_dir_adopt(fd, name, &r->dir);
	snprintf(name, sizeof(name), "pagemap-%d.img", c->pid);
	if (!ret)
		ret = img_open_read(r->dir, name, PAGEMAP_MAGIC, IMG_MUST_EXIST, &img);
	if (!ret)
		ret = img_read_one(img, &pagemap_head__descriptor, (ProtobufCMessage **)&head);
	for (; ret >= 0;) {
		PagemapEntry *pe;

		ret = img_read_msg(img, &pagemap_entry__descriptor, (ProtobufCMessage **)&pe);
		if (ret <= 0)
			break;
		if (r->n == cap) {
			void *a = realloc(r->pm, (cap = cap ? cap * 2 : 64) * sizeof(*r->pm));
			void *b = a ? realloc(r->off, cap * sizeof(*r->off)) : NULL;

			if (a)
				r->pm = a;
			if (!b) {
				protobuf_c_message_free_unpacked(&pe->base, NULL);
				ret = -ENOMEM;
				break;
			}
			r->off = b;
		}
		r->pm[r->n] = pe;
		r->off[r->n++] = off;
		if (present(pe))
			off += nr_pages(pe) * K_PAGE_SIZE;
	}
	img_close(img);
	if (ret >= 0 && head) {
		snprintf(pages, sizeof(pages), "pages-%u.img", head->pages_id);
		r->pages_fd = openat(img_dir_fd(r->dir), pages, O_RDONLY | O_CLOEXEC);
		if (r->pages_fd < 0) {
			ret = -errno;
			pr_perror("%s: cannot open %s", img_dir_path(r->dir), pages);
		} else {
			ret = rst_mem_add_fd(p, r->pages_fd);
		}
	}
	if (head)
		protobuf_c_message_free_unpacked(&head->base, NULL);
	if (ret < 0) {
		rst_parent_free(r);
		return ret;
	}
	*out = r;
	return 0;
}

/* Add the runs for [ADDR, ADDR+LEN), which the level below left to R's level. */
static int lookup(struct rst_ctx *c, struct rst_mem_plan *p, const struct img_dir *child,
		  struct rst_parent **slot, unsigned int depth, uint64_t addr, uint64_t len,
		  size_t *cap)
{
	uint64_t end = addr + len;
	struct rst_parent *r;
	int ret;

	if (!*slot) {
		ret = load(c, p, child, depth, slot);
		if (ret)
			return ret;
	}
	r = *slot;
	for (size_t i = 0; i < r->n && addr < end; i++) {
		const PagemapEntry *pe = r->pm[i];
		uint64_t s = pe->vaddr, e = s + nr_pages(pe) * K_PAGE_SIZE, lo, hi;

		if (e <= addr || s >= end)
			continue;
		if (s > addr)
			break; /* a hole: reported below */
		lo = addr;
		hi = e < end ? e : end;
		if (present(pe))
			ret = rst_mem_add_iov(p, cap, lo, hi - lo, r->off[i] + (lo - s), r->pages_fd);
		else if (in_parent(pe))
			ret = lookup(c, p, r->dir, &r->up, depth + 1, lo, hi - lo, cap);
		else
			ret = -ENOENT;
		if (ret)
			return ret;
		addr = hi;
	}
	if (addr < end) {
		pr_err("%s: pagemap-%d.img has no pages at %#llx, which the dump after it left "
		       "there", img_dir_path(r->dir), c->pid, (unsigned long long)addr);
		return -ENOENT;
	}
	return 0;
}

int rst_parent_pages(struct rst_ctx *c, struct rst_mem_plan *p, struct rst_parent **pp,
		     uint64_t addr, uint64_t len, size_t *cap)
{
	return lookup(c, p, c->dir, pp, 1, addr, len, cap);
}

void rst_parent_free(struct rst_parent *r)
{
	while (r) {
		struct rst_parent *up = r->up;

		for (size_t i = 0; i < r->n; i++)
			protobuf_c_message_free_unpacked(&r->pm[i]->base, NULL);
		free(r->pm);
		free(r->off);
		img_dir_close(r->dir);
		free(r);
		r = up;
	}
}
