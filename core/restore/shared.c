// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Objects several tasks of the tree share: an open file description
 * inherited through fork (one offset, one set of flags), the two ends of a
 * pipe held by different tasks, and MAP_SHARED anonymous memory. Each is
 * made once, in stage 1 of the lowest common ancestor of the tasks that
 * use it, before that task forks its children; the users inherit it by
 * fork and take it from the table below (which they inherit too). No fd
 * passing, no second copy.
 *
 * Shared memory is made the way the kernel made it: a MAP_SHARED |
 * MAP_ANONYMOUS mapping, filled from pagemap-shmem-SHMID.img, whose object
 * is then held through /proc/self/map_files, so that every mapping of it
 * is "/dev/zero (deleted)" again, one object for all.
 */
#define _GNU_SOURCE
#define LOG_PREFIX "restore: "
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <criu/log.h>

#include "images/image.h"
#include "log/log.h"
#include "plugins/plugins.h"
#include "restore/files.h"
#include "restore/restore.h"

#define PAGE 4096ull

bool rst_task_under(const struct rst_ctx *c, const struct rst_ctx *d)
{
	for (; d; d = d->parent)
		if (d == c)
			return true;
	return false;
}

static size_t depth(const struct rst_ctx *c)
{
	size_t n = 0;

	for (; c->parent; c = c->parent)
		n++;
	return n;
}

/* The lowest common ancestor of tasks A and B (indexes). */
static size_t lca(struct rst_tree *t, size_t a, size_t b)
{
	const struct rst_ctx *x = &t->tasks[a], *y = &t->tasks[b];
	size_t dx = depth(x), dy = depth(y);

	for (; dx > dy; dx--)
		x = x->parent;
	for (; dy > dx; dy--)
		y = y->parent;
	while (x != y) {
		x = x->parent;
		y = y->parent;
	}
	return x->idx;
}

/* A plugin's group of a file (cp_fd_ops.group()): its key, and whose key it is. */
struct file_key {
	uint64_t key;
	const void *owner;
};

struct group_item {
	uintptr_t owner; /* the plugin that gave the key */
	uint64_t key;
	size_t fi;
};

/* FI's group key, when its plugin gave one. */
static bool group_key(size_t fi, const struct file_key *keys, struct group_item *it)
{
	if (!keys[fi].key)
		return false;
	it->fi = fi;
	it->owner = (uintptr_t)keys[fi].owner;
	it->key = keys[fi].key;
	return true;
}

static int cmp_group_item(const void *a, const void *b)
{
	const struct group_item *x = a, *y = b;

	if (x->owner != y->owner)
		return x->owner < y->owner ? -1 : 1;
	if (x->key != y->key)
		return x->key < y->key ? -1 : 1;
	return x->fi < y->fi ? -1 : x->fi > y->fi;
}

/*
 * Files that only work as a group (the plugin says so through its key:
 * the ends of one pipe or FIFO, the master and slave of one pty) are
 * made by one task.
 * GROUP[fi] gets the first file of fi's group (fi itself for a file of
 * its own). By sorting: a task with thousands of pipes must not cost a
 * scan per file.
 */
static int make_groups(const struct rst_tree *t, const struct file_key *keys, size_t *group)
{
	struct group_item *items = malloc((t->nr_files + 1) * sizeof(*items));
	size_t n = 0;

	if (!items)
		return -ENOMEM;
	for (size_t fi = 0; fi < t->nr_files; fi++) {
		group[fi] = fi;
		if (group_key(fi, keys, &items[n]))
			n++;
	}
	qsort(items, n, sizeof(*items), cmp_group_item);
	for (size_t k = 1; k < n; k++)
		if (items[k].owner == items[k - 1].owner && items[k].key == items[k - 1].key)
			group[items[k].fi] = group[items[k - 1].fi];
	free(items);
	return 0;
}

static int add_shared(struct rst_tree *t, size_t *cap, uint64_t key, bool shmem, size_t owner,
		      uint64_t size)
{
	if (t->nr_shared == *cap) {
		struct rst_shared *n = realloc(t->shared, (*cap = *cap ? *cap * 2 : 16) * sizeof(*n));

		if (!n)
			return -ENOMEM;
		t->shared = n;
	}
	t->shared[t->nr_shared++] = (struct rst_shared){
		.key = key, .shmem = shmem, .owner = owner, .fd = -1, .shmem_size = size,
	};
	return 0;
}

#define NONE SIZE_MAX

static int plan_files(struct rst_tree *t, size_t *cap)
{
	size_t nf = t->nr_files, *owner, *group;
	struct file_key *keys;
	bool *multi, *used;
	int ret = 0;

	if (!nf)
		return 0;
	owner = calloc(nf, sizeof(*owner));
	group = calloc(nf, sizeof(*group));
	multi = calloc(nf, sizeof(*multi));
	used = calloc(nf, sizeof(*used));
	keys = calloc(nf, sizeof(*keys));
	if (!owner || !group || !multi || !used || !keys) {
		ret = -ENOMEM;
		goto out;
	}
	/* Ask the plugins for their groups, once per file, as for its first user. */
	for (size_t i = 0; i < t->nr_tasks && !ret; i++) {
		struct rst_ctx *c = &t->tasks[i];

		if (c->shares_files)
			continue; /* as below */
		for (size_t k = 0; k < c->nr_fdinfo && !ret; k++) {
			const struct rst_file *f = rst_file_find(c, c->fdinfo[k]->id);

			if (!f || used[f - t->files])
				continue;
			used[f - t->files] = true;
			ret = rst_file_group(c, f->id, (int)c->fdinfo[k]->fd, &keys[f - t->files].key,
					     &keys[f - t->files].owner);
		}
	}
	if (ret)
		goto out;
	for (size_t fi = 0; fi < nf; fi++)
		owner[fi] = NONE;
	ret = make_groups(t, keys, group);
	if (ret)
		goto out;
	for (size_t i = 0; i < t->nr_tasks; i++) {
		const struct rst_ctx *c = &t->tasks[i];

		if (c->shares_files)
			continue; /* its table is its parent's: nothing of its own to open */
		for (size_t k = 0; k < c->nr_fdinfo; k++) {
			const struct rst_file *f = rst_file_find(c, c->fdinfo[k]->id);
			size_t g;

			if (!f)
				continue; /* rst_open_file() names it later */
			g = group[f - t->files];
			used[f - t->files] = true;
			if (owner[g] == NONE) {
				owner[g] = i;
			} else if (owner[g] != i) {
				owner[g] = lca(t, owner[g], i);
				multi[g] = true;
			}
		}
	}
	for (size_t fi = 0; fi < nf && !ret; fi++) {
		if (!used[fi] || !multi[group[fi]])
			continue;
		/* An epoll set is filled after its task's fds (post_open): one per task for now. */
		if (t->files[fi].type == FD_TYPES__EVENTPOLL) {
			pr_warn("file id %u: an epoll instance shared by several tasks is restored as one "
				"per task", t->files[fi].id);
			continue;
		}
		/* On a table shared with its parent, the table's owner opens it (stage1.c). */
		ret = add_shared(t, cap, fi, false, rst_table_owner(&t->tasks[owner[group[fi]]])->idx,
				 0);
		if (!ret)
			pr_debug("file id %u is shared: pid %d opens it", t->files[fi].id,
				 t->tasks[t->shared[t->nr_shared - 1].owner].pid);
	}
out:
	free(owner);
	free(group);
	free(multi);
	free(used);
	free(keys);
	return ret;
}

static struct rst_shared *find_shmem(struct rst_tree *t, uint64_t shmid)
{
	for (size_t i = 0; i < t->nr_shared; i++)
		if (t->shared[i].shmem && t->shared[i].key == shmid)
			return &t->shared[i];
	return NULL;
}

/* Every MAP_SHARED anonymous object, made by the common ancestor of its users. */
static int plan_shmem(struct rst_tree *t, size_t *cap)
{
	for (size_t i = 0; i < t->nr_tasks; i++) {
		const struct rst_ctx *c = &t->tasks[i];

		for (size_t k = 0; c->mm && k < c->mm->n_vmas; k++) {
			const VmaEntry *v = c->mm->vmas[k];
			uint64_t end = v->pgoff + (v->end - v->start);
			struct rst_shared *s;
			size_t user;
			int ret;

			if (!(v->status & RST_VMA_ANON_SHARED) || (v->status & RST_VMA_AREA_SYSVIPC))
				continue;
			if (v->pgoff % PAGE) {
				pr_err("mm-%d.img: VMA %zu: shared memory offset %#llx is unaligned",
				       c->pid, k, (unsigned long long)v->pgoff);
				return -EINVAL;
			}
			/* A task on its parent's fd table cannot hold objects of its own. */
			user = rst_table_owner(&t->tasks[i])->idx;
			s = find_shmem(t, v->shmid);
			if (!s) {
				ret = add_shared(t, cap, v->shmid, true, user, end);
				if (ret)
					return ret;
				continue;
			}
			if (end > s->shmem_size)
				s->shmem_size = end;
			if (s->owner != user)
				s->owner = lca(t, s->owner, user);
		}
	}
	return 0;
}

struct rst_ctx *rst_table_owner(struct rst_ctx *c)
{
	while (c->shares_files)
		c = c->parent;
	return c;
}

bool rst_has_sharers(const struct rst_ctx *c)
{
	for (size_t i = 0; c->tree && i < c->tree->nr_tasks; i++)
		if (c->tree->tasks[i].parent == c && c->tree->tasks[i].shares_files)
			return true;
	return false;
}

/*
 * A process made with CLONE_FILES uses its parent's fd table: it is forked
 * that way again and opens nothing itself. Other shapes (two processes
 * sharing a table that is not parent and child) cannot be made by fork.
 */
static int plan_fd_tables(struct rst_tree *t)
{
	for (size_t i = 1; i < t->nr_tasks; i++) {
		struct rst_ctx *a = &t->tasks[i];

		if (!a->ids)
			continue;
		if (a->parent->ids && a->parent->ids->files_id == a->ids->files_id) {
			a->shares_files = true;
			pr_info("pid %d shares the fd table of its parent %d", a->pid, a->parent->pid);
			continue;
		}
		for (size_t k = 0; k < i; k++) {
			const struct rst_ctx *b = &t->tasks[k];

			if (b->ids && b->ids->files_id == a->ids->files_id) {
				pr_err("pids %d and %d share one fd table (files id %u) but are not "
				       "parent and child; this cannot be restored", b->pid, a->pid,
				       a->ids->files_id);
				return -EOPNOTSUPP;
			}
		}
	}
	return 0;
}

int rst_shared_plan(struct rst_tree *t)
{
	size_t cap = 0;
	int ret;

	err_ctx_set_stage("plan shared objects");
	ret = plan_fd_tables(t);
	if (!ret)
		ret = plan_files(t, &cap);
	if (!ret)
		ret = plan_shmem(t, &cap);
	for (size_t i = 0; !ret && i < t->nr_shared; i++)
		t->shared[i].owner = rst_table_owner(&t->tasks[t->shared[i].owner])->idx;
	if (ret)
		return ret;
	/* files.img index -> shared object, for rst_shared_file_fd() on each of 10,000 fds. */
	t->file_shared = malloc((t->nr_files + 1) * sizeof(*t->file_shared));
	if (!t->file_shared)
		return -ENOMEM;
	for (size_t fi = 0; fi < t->nr_files; fi++)
		t->file_shared[fi] = -1;
	for (size_t i = 0; i < t->nr_shared; i++)
		if (!t->shared[i].shmem)
			t->file_shared[t->shared[i].key] = (ssize_t)i;
	return 0;
}

/* Fill the shared memory at BASE from pagemap-shmem-SHMID.img. */
static int fill_shmem(struct rst_ctx *c, uint64_t shmid, uint8_t *base, uint64_t size)
{
	char name[64], pages[64];
	PagemapHead *head = NULL;
	struct image *img = NULL;
	uint64_t off = 0;
	int fd = -1, ret;

	snprintf(name, sizeof(name), "pagemap-shmem-%llu.img", (unsigned long long)shmid);
	ret = img_open_read(c->dir, name, PAGEMAP_MAGIC, 0, &img);
	if (!ret)
		ret = img_read_msg(img, &pagemap_head__descriptor, (ProtobufCMessage **)&head);
	if (ret <= 0) {
		img_close(img);
		return ret; /* no image: never touched, all zero */
	}
	snprintf(pages, sizeof(pages), "pages-%u.img", head->pages_id);
	protobuf_c_message_free_unpacked(&head->base, NULL);
	fd = openat(img_dir_fd(c->dir), pages, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
		pr_perror("cannot open %s for %s", pages, name);
		img_close(img);
		return ret;
	}
	for (unsigned long n = 2;; n++) {
		PagemapEntry *pe;
		uint64_t nr, len;

		err_ctx_set_image(name, (int)n);
		ret = img_read_msg(img, &pagemap_entry__descriptor, (ProtobufCMessage **)&pe);
		if (ret <= 0)
			break;
		ret = 0;
		nr = pe->has_nr_pages ? pe->nr_pages : pe->compat_nr_pages;
		len = nr * PAGE;
		if (pe->has_flags && (pe->flags & RST_PE_PARENT)) {
			pr_err("%s: entry %lu: pages in the parent images are not supported for shared "
			       "memory", name, n);
			ret = -EOPNOTSUPP;
		} else if (pe->vaddr % PAGE || nr > size / PAGE || pe->vaddr > size - len) {
			pr_err("%s: entry %lu: run %#llx + %llu pages is outside the object (%llu bytes)",
			       name, n, (unsigned long long)pe->vaddr, (unsigned long long)nr,
			       (unsigned long long)size);
			ret = -EINVAL;
		} else if (!(pe->has_flags && !(pe->flags & RST_PE_PRESENT))) {
			for (uint64_t done = 0; !ret && done < len;) {
				ssize_t r = pread(fd, base + pe->vaddr + done, len - done,
						  (off_t)(off + done));

				if (r <= 0) {
					ret = r < 0 ? -errno : -EIO;
					pr_err("%s: cannot read %llu bytes at %llu: %s", pages,
					       (unsigned long long)(len - done),
					       (unsigned long long)(off + done),
					       r < 0 ? strerror(errno) : "the image is short");
				}
				done += r > 0 ? (uint64_t)r : 0;
			}
			off += len;
		}
		protobuf_c_message_free_unpacked(&pe->base, NULL);
		if (ret)
			break;
	}
	close(fd);
	img_close(img);
	err_ctx_set_image(NULL, -1);
	return ret < 0 ? ret : 0;
}

static int make_shmem(struct rst_ctx *c, struct rst_shared *s, int *out)
{
	char path[64];
	void *base;
	int fd, ret;

	base = mmap(NULL, s->shmem_size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (base == MAP_FAILED) {
		ret = -errno;
		pr_perror("pid %d: cannot make shared memory %llu (%llu bytes)", c->pid,
			  (unsigned long long)s->key, (unsigned long long)s->shmem_size);
		return ret;
	}
	ret = fill_shmem(c, s->key, base, s->shmem_size);
	if (!ret) {
		snprintf(path, sizeof(path), "/proc/self/map_files/%lx-%lx", (unsigned long)base,
			 (unsigned long)base + (unsigned long)s->shmem_size);
		fd = open(path, O_RDWR | O_CLOEXEC);
		if (fd < 0) {
			ret = -errno;
			pr_perror("pid %d: cannot hold shared memory %llu through %s", c->pid,
				  (unsigned long long)s->key, path);
		} else {
			*out = fd;
		}
	}
	munmap(base, s->shmem_size);
	return ret;
}

int rst_shared_open(struct rst_ctx *c, int min_fd)
{
	struct rst_tree *t = c->tree;
	int ret = 0;

	for (size_t i = 0; i < t->nr_shared && !ret; i++) {
		struct rst_shared *s = &t->shared[i];
		int fd = -1, hi;

		if (s->owner != c->idx)
			continue;
		if (s->shmem) {
			ret = make_shmem(c, s, &fd);
		} else {
			ret = rst_open_file(c, t->files[s->key].id, -1, 0, &fd);
			if (ret == CP_RETRY) {
				pr_err("pid %d: file id %u is shared with other tasks, and its plugin "
				       "cannot open it on its own yet", c->pid, t->files[s->key].id);
				ret = -EOPNOTSUPP;
			}
		}
		if (ret)
			break;
		/* Above every fd number a task of this subtree will take. */
		hi = fcntl(fd, F_DUPFD_CLOEXEC, min_fd);
		if (hi < 0) {
			ret = -errno;
			pr_perror("pid %d: cannot move a shared fd above %d", c->pid, min_fd);
			close(fd);
			break;
		}
		close(fd);
		s->fd = hi;
	}
	return ret;
}

int rst_shared_file_fd(const struct rst_ctx *c, uint32_t id)
{
	const struct rst_tree *t = c->tree;
	const struct rst_file *f;
	ssize_t s;

	if (!t || !t->file_shared)
		return -1;
	f = rst_file_find(c, id);
	if (!f || f < t->files || f >= t->files + t->nr_files)
		return -1;
	s = t->file_shared[f - t->files];
	return s < 0 ? -1 : t->shared[s].fd;
}

int rst_shared_shmem_fd(const struct rst_ctx *c, uint64_t shmid, uint64_t *size)
{
	const struct rst_tree *t = c->tree;

	for (size_t i = 0; t && i < t->nr_shared; i++) {
		const struct rst_shared *s = &t->shared[i];

		if (s->shmem && s->key == shmid) {
			if (size)
				*size = s->shmem_size;
			return s->fd;
		}
	}
	return -1;
}

size_t rst_shared_keep(const struct rst_ctx *c, int *keep, size_t max)
{
	const struct rst_tree *t = c->tree;
	bool all = c->shares_files || rst_has_sharers(c);
	size_t n = 0;

	for (size_t i = 0; t && i < t->nr_shared && n < max; i++) {
		const struct rst_shared *s = &t->shared[i];

		if (s->fd < 0)
			continue;
		/* On a shared table, what one task closes the others lose: keep them all. */
		if (all) {
			keep[n++] = s->fd;
			continue;
		}
		if (!s->shmem || !c->mm)
			continue;
		for (size_t k = 0; k < c->mm->n_vmas; k++) {
			if (c->mm->vmas[k]->shmid == s->key &&
			    (c->mm->vmas[k]->status & RST_VMA_ANON_SHARED)) {
				keep[n++] = s->fd;
				break;
			}
		}
	}
	return n;
}
