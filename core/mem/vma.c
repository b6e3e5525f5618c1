// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * /proc/PID/smaps into a classified VMA list.
 */
#define _GNU_SOURCE
#define LOG_PREFIX "mem: "
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <criu/log.h>

#include <pie/kabi.h>

#include "mem/vma.h"

/* madvise() advice numbers, kept as bits in VmaEntry.madv. */
#define ADV_RANDOM 1
#define ADV_SEQUENTIAL 2
#define ADV_DONTFORK 10
#define ADV_MERGEABLE 12
#define ADV_HUGEPAGE 14
#define ADV_NOHUGEPAGE 15
#define ADV_DONTDUMP 16
#define ADV_WIPEONFORK 18

int mem_vma_list_add(struct vma_list *list, const struct vma *v)
{
	if (list->n == list->cap) {
		size_t cap = list->cap ? list->cap * 2 : 64;
		struct vma *nv = realloc(list->v, cap * sizeof(*nv));

		if (!nv)
			return -ENOMEM;
		list->v = nv;
		list->cap = cap;
	}
	list->v[list->n++] = *v;
	return 0;
}

void mem_vma_list_free(struct vma_list *list)
{
	for (size_t i = 0; i < list->n; i++)
		free(list->v[i].path);
	free(list->v);
	memset(list, 0, sizeof(*list));
}

static void parse_vmflags(const char *s, struct vma *v)
{
	while (*s) {
		char a, b;

		s += strspn(s, " \t");
		if (!s[0] || !s[1])
			break;
		a = s[0];
		b = s[1];
#define F(x, y) (a == (x) && b == (y))
		if (F('g', 'd'))
			v->vmflags |= VMF_GROWSDOWN;
		else if (F('l', 'o'))
			v->vmflags |= VMF_LOCKED;
		else if (F('n', 'r'))
			v->vmflags |= VMF_NORESERVE;
		else if (F('h', 't'))
			v->vmflags |= VMF_HUGETLB;
		else if (F('i', 'o') || F('p', 'f'))
			v->vmflags |= VMF_IO;
		else if (F('d', 'p'))
			v->vmflags |= VMF_DROPPABLE;
		else if (F('g', 'u'))
			v->vmflags |= VMF_GUARD;
		else if (F('s', 'l'))
			v->vmflags |= VMF_SEALED;
		else if (F('s', 's'))
			v->vmflags |= VMF_SHSTK;
		else if (F('u', 'w'))
			v->vmflags |= VMF_UFFD_WP;
		else if (F('r', 'r'))
			v->madv |= 1ULL << ADV_RANDOM;
		else if (F('s', 'r'))
			v->madv |= 1ULL << ADV_SEQUENTIAL;
		else if (F('d', 'c'))
			v->madv |= 1ULL << ADV_DONTFORK;
		else if (F('m', 'g'))
			v->madv |= 1ULL << ADV_MERGEABLE;
		else if (F('h', 'g'))
			v->madv |= 1ULL << ADV_HUGEPAGE;
		else if (F('n', 'h'))
			v->madv |= 1ULL << ADV_NOHUGEPAGE;
		else if (F('d', 'd'))
			v->madv |= 1ULL << ADV_DONTDUMP;
		else if (F('w', 'f'))
			v->madv |= 1ULL << ADV_WIPEONFORK;
#undef F
		s += 2;
	}
}

/* The inode behind a mapping, as map_files sees it (the shmem identity, facts 3.2). */
static int map_files_ino(pid_t pid, const struct vma *v, uint64_t *ino)
{
	char path[96];
	struct stat st;

	snprintf(path, sizeof(path), "/proc/%d/map_files/%llx-%llx", pid,
		 (unsigned long long)v->start, (unsigned long long)v->end);
	if (stat(path, &st)) {
		int err = -errno;

		pr_perror("cannot stat %s", path);
		return err;
	}
	*ino = st.st_ino;
	return 0;
}

static bool is_shmem_anon_path(const char *p)
{
	return !strncmp(p, "/dev/zero", 9) || !strncmp(p, "/SYSV", 5) || !strncmp(p, "[anon_shmem", 11);
}

static int classify(pid_t pid, struct vma *v, bool shared, bool allow_uprobes)
{
	const char *p = v->path;

	if (v->vmflags & VMF_GROWSDOWN)
		v->flags |= MAP_GROWSDOWN;
	if (v->vmflags & VMF_NORESERVE)
		v->flags |= MAP_NORESERVE;

	if (p && !strcmp(p, "[vdso]")) {
		v->status = VMA_AREA_REGULAR | VMA_AREA_VDSO;
		v->flags = MAP_PRIVATE | MAP_ANONYMOUS;
		v->dump = VMA_DUMP_WHOLE;
		return 0;
	}
	if (p && (!strcmp(p, "[vvar]") || !strcmp(p, "[vvar_vclock]"))) {
		/* Kernel data: described, never dumped (facts 4.7, 7.1). */
		v->status = VMA_AREA_REGULAR | VMA_AREA_VVAR;
		v->flags = MAP_PRIVATE | MAP_ANONYMOUS;
		v->dump = VMA_DUMP_NONE;
		return 0;
	}
	if (p && !strcmp(p, "[uprobes]")) {
		if (!allow_uprobes) {
			pr_err("pid %d has a [uprobes] area at %#llx; dump with --allow-uprobes", pid,
			       (unsigned long long)v->start);
			return -EOPNOTSUPP;
		}
		v->status = VMA_AREA_UPROBES;
		v->flags = MAP_PRIVATE | MAP_ANONYMOUS;
		v->dump = VMA_DUMP_NONE;
		return 0;
	}
	if (v->vmflags & VMF_HUGETLB) {
		pr_err("pid %d: hugetlb mapping %#llx-%#llx is not supported", pid,
		       (unsigned long long)v->start, (unsigned long long)v->end);
		return -EOPNOTSUPP;
	}
	if (v->vmflags & VMF_SHSTK) {
		pr_err("pid %d: shadow stack %#llx-%#llx is not supported", pid,
		       (unsigned long long)v->start, (unsigned long long)v->end);
		return -EOPNOTSUPP;
	}
	if (v->vmflags & VMF_IO) {
		pr_err("pid %d: device memory (VM_IO/VM_PFNMAP) %#llx-%#llx %s is not supported", pid,
		       (unsigned long long)v->start, (unsigned long long)v->end, p ? p : "");
		return -EOPNOTSUPP;
	}
	if (v->vmflags & VMF_DROPPABLE) {
		/* A mapping type of its own; its contents may vanish anyway (facts 7.5). */
		v->status = VMA_AREA_REGULAR | VMA_ANON_PRIVATE;
		v->flags = (v->flags & ~(uint32_t)(MAP_PRIVATE | MAP_SHARED)) | MAP_ANONYMOUS |
			   K_MAP_DROPPABLE;
		v->dump = VMA_DUMP_NONE;
		return 0;
	}

	if (!p || p[0] == '[') {
		/* Anonymous: [heap], [stack], [anon:NAME] or nothing. */
		if (shared) {
			v->status = VMA_AREA_REGULAR | VMA_ANON_SHARED;
			v->flags |= MAP_SHARED | MAP_ANONYMOUS;
			v->dump = VMA_DUMP_SHMEM;
			return map_files_ino(pid, v, &v->shmid);
		}
		v->status = VMA_AREA_REGULAR | VMA_ANON_PRIVATE;
		v->flags |= MAP_PRIVATE | MAP_ANONYMOUS;
		if (p && !strcmp(p, "[heap]"))
			v->status |= VMA_AREA_HEAP;
		else if (p && !strcmp(p, "[stack]"))
			v->status |= VMA_AREA_STACK;
		v->dump = VMA_DUMP_PRIVATE;
		return 0;
	}

	if (!strncmp(p, "/memfd:", 7) && v->dev_major == 0) {
		/* A memfd is a file: the plugin that owns memfds saves it, with its contents. */
		v->status = VMA_AREA_REGULAR | VMA_AREA_MEMFD |
			    (shared ? VMA_FILE_SHARED : VMA_FILE_PRIVATE);
		v->flags |= shared ? MAP_SHARED : MAP_PRIVATE;
		v->fdflags = shared && (v->prot & PROT_WRITE) ? O_RDWR : O_RDONLY;
		v->dump = shared ? VMA_DUMP_NONE : VMA_DUMP_PRIVATE;
		return 0;
	}
	if (is_shmem_anon_path(p) && v->dev_major == 0) {
		if (!strncmp(p, "/SYSV", 5)) {
			/* The segment's contents belong to the IPC namespace dump. */
			v->status = VMA_AREA_REGULAR | VMA_AREA_SYSVIPC | VMA_ANON_SHARED;
			v->flags |= MAP_SHARED;
			v->shmid = v->ino;
			v->dump = VMA_DUMP_NONE;
			return 0;
		}
		if (shared) {
			v->status = VMA_AREA_REGULAR | VMA_ANON_SHARED;
			v->flags |= MAP_SHARED | MAP_ANONYMOUS;
			v->dump = VMA_DUMP_SHMEM;
			return map_files_ino(pid, v, &v->shmid);
		}
		/* A private mapping of /dev/zero is private anonymous memory. */
		v->status = VMA_AREA_REGULAR | VMA_ANON_PRIVATE;
		v->flags |= MAP_PRIVATE | MAP_ANONYMOUS;
		v->dump = VMA_DUMP_PRIVATE;
		return 0;
	}

	/* A file: the mm writer gives it a files.img id (shmid). */
	if (shared) {
		v->status = VMA_AREA_REGULAR | VMA_FILE_SHARED;
		v->flags |= MAP_SHARED;
		v->fdflags = (v->prot & PROT_WRITE) ? O_RDWR : O_RDONLY;
		v->dump = VMA_DUMP_NONE;
	} else {
		v->status = VMA_AREA_REGULAR | VMA_FILE_PRIVATE;
		v->flags |= MAP_PRIVATE;
		v->fdflags = O_RDONLY;
		v->dump = VMA_DUMP_PRIVATE;
	}
	return 0;
}

/* "start-end perms offset maj:min inode   path" */
static int parse_head(const char *line, struct vma *v, bool *shared)
{
	unsigned long long start, end, off, ino;
	unsigned int maj, min;
	char perms[8];
	int pos = 0;
	const char *p;

	if (sscanf(line, "%llx-%llx %7s %llx %x:%x %llu%n", &start, &end, perms, &off, &maj, &min,
		   &ino, &pos) != 7 || strlen(perms) != 4)
		return -EINVAL;
	memset(v, 0, sizeof(*v));
	v->start = start;
	v->end = end;
	v->pgoff = off;
	v->dev_major = maj;
	v->dev_minor = min;
	v->ino = ino;
	v->prot = (perms[0] == 'r' ? PROT_READ : 0) | (perms[1] == 'w' ? PROT_WRITE : 0) |
		  (perms[2] == 'x' ? PROT_EXEC : 0);
	*shared = perms[3] == 's';
	p = line + pos;
	p += strspn(p, " \t");
	if (*p && *p != '\n') {
		v->path = strndup(p, strcspn(p, "\n"));
		if (!v->path)
			return -ENOMEM;
	}
	return 0;
}

static bool is_head_line(const char *line)
{
	/* Head lines start with a hex address; field lines with "Name:". */
	const char *c = line + strspn(line, "0123456789abcdef");

	return c != line && *c == '-';
}

int mem_collect_vmas(pid_t pid, bool allow_uprobes, struct vma_list *list)
{
	char path[64], *line = NULL;
	size_t cap = 0;
	struct vma cur;
	bool have = false, shared = false;
	int ret = 0, lineno = 0;
	FILE *f;

	memset(list, 0, sizeof(*list));
	snprintf(path, sizeof(path), "/proc/%d/smaps", pid);
	f = fopen(path, "re");
	if (!f) {
		ret = -errno;
		pr_perror("cannot open %s", path);
		return ret;
	}
	while (getline(&line, &cap, f) > 0) {
		lineno++;
		if (is_head_line(line)) {
			if (have) {
				ret = classify(pid, &cur, shared, allow_uprobes);
				if (!ret)
					ret = mem_vma_list_add(list, &cur);
				if (ret)
					goto err_cur;
				have = false;
			}
			ret = parse_head(line, &cur, &shared);
			if (ret) {
				pr_err("%s:%d: cannot parse \"%.80s\"", path, lineno, line);
				goto out;
			}
			/* Above TASK_SIZE: [vsyscall]. Never dumped, never recreated (facts 4.7). */
			if (cur.start >= K_TASK_SIZE) {
				free(cur.path);
				continue;
			}
			have = true;
		} else if (have && !strncmp(line, "VmFlags:", 8)) {
			parse_vmflags(line + 8, &cur);
		}
	}
	if (have) {
		ret = classify(pid, &cur, shared, allow_uprobes);
		if (!ret)
			ret = mem_vma_list_add(list, &cur);
		if (ret)
			goto err_cur;
	}
	goto out;
err_cur:
	free(cur.path);
out:
	free(line);
	fclose(f);
	if (ret)
		mem_vma_list_free(list);
	return ret;
}
