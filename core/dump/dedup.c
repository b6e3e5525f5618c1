// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * criu dedup -D DIR: free the space that DIR's ancestors (the "parent"
 * link, its "parent", ...) spend on pages DIR has a copy of, as CRIU
 * does. For every pagemap-ID.img (and pagemap-shmem-ID.img) of the
 * parent that DIR has too, each run DIR holds itself (not PE_PARENT) is
 * looked up in every ancestor's pagemap of that name, and where an
 * ancestor holds the pages in its pages-N.img they are punched out
 * (fallocate PUNCH_HOLE, the file keeps its size). Restoring DIR never
 * reads them; restoring an ancestor afterwards gets zeroes there, which
 * is what dedup means in CRIU as well.
 */
#define _GNU_SOURCE
#define LOG_PREFIX "dedup: "

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criu/log.h>

#include "pagemap.pb-c.h"

#include "actions.h"
#include "dump/dump.h"
#include "mem/page-xfer.h"

#define DEDUP_MAX_DEPTH 64 /* a loop of parent links is corruption */

/* One pagemap image, with where each present run's data is in its pages file. */
struct pm {
	PagemapEntry **pe;
	uint64_t *off;
	size_t n;
	int pages_fd; /* -1: none opened (not needed or no data) */
	char pages_name[32];
};

static uint64_t pe_len(const PagemapEntry *pe)
{
	return (pe->has_nr_pages ? pe->nr_pages : pe->compat_nr_pages) * 4096;
}

static bool pe_parent(const PagemapEntry *pe)
{
	return (pe->has_in_parent && pe->in_parent) || (pe->has_flags && (pe->flags & PS_PE_PARENT));
}

static bool pe_present(const PagemapEntry *pe)
{
	return !pe_parent(pe) && (!pe->has_flags || (pe->flags & PS_PE_PRESENT));
}

static void pm_free(struct pm *m)
{
	for (size_t i = 0; i < m->n; i++)
		protobuf_c_message_free_unpacked(&m->pe[i]->base, NULL);
	free(m->pe);
	free(m->off);
	if (m->pages_fd >= 0)
		close(m->pages_fd);
	memset(m, 0, sizeof(*m));
	m->pages_fd = -1;
}

/* Load pagemap NAME of DIR; *FOUND is false when DIR has none. WRITE: open its pages to punch. */
static int pm_load(const struct img_dir *dir, const char *name, bool write, struct pm *m, bool *found)
{
	PagemapHead *head = NULL;
	struct image *img = NULL;
	uint64_t off = 0;
	size_t cap = 0;
	int ret;

	memset(m, 0, sizeof(*m));
	m->pages_fd = -1;
	*found = faccessat(img_dir_fd(dir), name, F_OK, 0) == 0;
	if (!*found)
		return 0;
	ret = img_open_read(dir, name, PAGEMAP_MAGIC, IMG_MUST_EXIST, &img);
	if (!ret)
		ret = img_read_one(img, &pagemap_head__descriptor, (ProtobufCMessage **)&head);
	if (ret)
		goto out;
	snprintf(m->pages_name, sizeof(m->pages_name), "pages-%u.img", head->pages_id);
	for (;;) {
		PagemapEntry *pe;

		ret = img_read_msg(img, &pagemap_entry__descriptor, (ProtobufCMessage **)&pe);
		if (ret <= 0)
			break;
		if (m->n == cap) {
			size_t ncap = cap ? cap * 2 : 64;
			PagemapEntry **npe = realloc(m->pe, ncap * sizeof(*npe));
			uint64_t *noff = npe ? realloc(m->off, ncap * sizeof(*noff)) : NULL;

			if (npe)
				m->pe = npe;
			if (!noff) {
				protobuf_c_message_free_unpacked(&pe->base, NULL);
				ret = -ENOMEM;
				break;
			}
			m->off = noff;
			cap = ncap;
		}
		if (pe->vaddr % 4096 || (m->n && pe->vaddr < m->pe[m->n - 1]->vaddr + pe_len(m->pe[m->n - 1]))) {
			pr_err("%s/%s: entry at %#llx is unaligned or out of order", img_dir_path(dir), name,
			       (unsigned long long)pe->vaddr);
			protobuf_c_message_free_unpacked(&pe->base, NULL);
			ret = -EINVAL;
			break;
		}
		m->pe[m->n] = pe;
		m->off[m->n++] = off;
		if (pe_present(pe))
			off += pe_len(pe);
	}
	if (!ret && write && off) {
		m->pages_fd = openat(img_dir_fd(dir), m->pages_name, O_RDWR | O_CLOEXEC);
		if (m->pages_fd < 0) {
			ret = -errno;
			pr_perror("Can't open %s/%s", img_dir_path(dir), m->pages_name);
		}
	}
out:
	if (head)
		protobuf_c_message_free_unpacked(&head->base, NULL);
	img_close(img);
	if (ret)
		pm_free(m);
	return ret;
}

/* Punch [START, END) out of the pages of M wherever M holds them. */
static int punch(const struct img_dir *dir, struct pm *m, uint64_t start, uint64_t end, uint64_t *punched)
{
	size_t lo = 0, hi = m->n;

	/* The first entry that ends after START. */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (m->pe[mid]->vaddr + pe_len(m->pe[mid]) <= start)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (size_t i = lo; i < m->n && m->pe[i]->vaddr < end; i++) {
		const PagemapEntry *pe = m->pe[i];
		uint64_t s = pe->vaddr > start ? pe->vaddr : start;
		uint64_t e = pe->vaddr + pe_len(pe) < end ? pe->vaddr + pe_len(pe) : end;

		if (!pe_present(pe) || s >= e || m->pages_fd < 0)
			continue;
		if (fallocate(m->pages_fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
			      (off_t)(m->off[i] + (s - pe->vaddr)), (off_t)(e - s)) < 0) {
			int ret = -errno;

			pr_perror("Can't punch %llu bytes out of %s/%s", (unsigned long long)(e - s),
				  img_dir_path(dir), m->pages_name);
			return ret;
		}
		*punched += (e - s) / 4096;
	}
	return 0;
}

/* Dedup pagemap NAME of DIR against its ancestors ANC[0..N_ANC). */
static int dedup_one(const struct img_dir *dir, const char *name, struct img_dir **anc, size_t n_anc,
		     uint64_t *punched)
{
	struct pm child, up[DEDUP_MAX_DEPTH];
	size_t n_up = 0;
	bool found;
	int ret;

	ret = pm_load(dir, name, false, &child, &found);
	if (ret)
		return ret;
	if (!found) {
		pr_info("%s is not in %s (the task is gone): its parent copy stays", name, img_dir_path(dir));
		return 0;
	}
	for (; n_up < n_anc; n_up++) {
		ret = pm_load(anc[n_up], name, true, &up[n_up], &found);
		if (ret || !found)
			break;
	}
	for (size_t i = 0; i < child.n && !ret; i++) {
		const PagemapEntry *pe = child.pe[i];

		if (pe_parent(pe))
			continue;
		for (size_t k = 0; k < n_up && !ret; k++)
			ret = punch(anc[k], &up[k], pe->vaddr, pe->vaddr + pe_len(pe), punched);
	}
	for (size_t k = 0; k < n_up; k++)
		pm_free(&up[k]);
	pm_free(&child);
	return ret;
}

static bool is_pagemap_name(const char *name)
{
	unsigned long long id;
	char tail[8];

	return (sscanf(name, "pagemap-%llu.%7s", &id, tail) == 2 ||
		sscanf(name, "pagemap-shmem-%llu.%7s", &id, tail) == 2) &&
	       !strcmp(tail, "img");
}

int dump_dedup(const struct img_dir *dir)
{
	struct img_dir *anc[DEDUP_MAX_DEPTH];
	size_t n_anc = 0;
	uint64_t punched = 0;
	struct dirent *de;
	DIR *d = NULL;
	int ret = 0, fd;

	/* The chain of ancestors, nearest first. */
	for (const struct img_dir *cur = dir; n_anc < DEDUP_MAX_DEPTH; cur = anc[n_anc - 1]) {
		if (faccessat(img_dir_fd(cur), "parent", F_OK, 0))
			break;
		ret = img_dir_open(img_dir_fd(cur), "parent", &anc[n_anc]);
		if (ret)
			goto out;
		n_anc++;
	}
	if (!n_anc) {
		pr_err("%s has no parent images (no \"parent\" link): nothing to dedup against",
		       img_dir_path(dir));
		ret = -ENOENT;
		goto out;
	}
	if (n_anc == DEDUP_MAX_DEPTH) {
		pr_err("%s: more than %d parent links: a loop?", img_dir_path(dir), DEDUP_MAX_DEPTH - 1);
		ret = -ELOOP;
		goto out;
	}
	fd = openat(img_dir_fd(anc[0]), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || !(d = fdopendir(fd))) {
		ret = -errno;
		pr_perror("Can't list the parent images of %s", img_dir_path(dir));
		if (fd >= 0)
			close(fd);
		goto out;
	}
	while (!ret && (de = readdir(d)))
		if (is_pagemap_name(de->d_name))
			ret = dedup_one(dir, de->d_name, anc, n_anc, &punched);
	if (!ret)
		pr_info("%llu pages punched out of the parent images of %s", (unsigned long long)punched,
			img_dir_path(dir));
out:
	if (d)
		closedir(d);
	while (n_anc)
		img_dir_close(anc[--n_anc]);
	return ret;
}

int action_dedup(struct options *o, struct action_result *res)
{
	struct img_dir *dir = NULL;
	int ret;

	(void)res;
	ret = dump_open_images_dir(o, &dir);
	if (!ret)
		ret = dump_dedup(dir);
	img_dir_close(dir);
	return ret;
}
