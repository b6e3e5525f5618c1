/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The VMAs of a task, from /proc/PID/smaps (facts 3.1, 3.2, 4.7, 7.1-7.6),
 * classified the way the mm image describes them: status bits VMA_*,
 * MAP_* flags, madvise bits, and whether and how their pages are dumped.
 */
#ifndef CORE_MEM_VMA_H
#define CORE_MEM_VMA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* VmaEntry.status bits (CRIU's image ABI). */
#define VMA_AREA_REGULAR (1u << 0)
#define VMA_AREA_STACK (1u << 1)
#define VMA_AREA_VSYSCALL (1u << 2)
#define VMA_AREA_VDSO (1u << 3)
#define VMA_AREA_HEAP (1u << 5)
#define VMA_FILE_PRIVATE (1u << 6)
#define VMA_FILE_SHARED (1u << 7)
#define VMA_ANON_SHARED (1u << 8)
#define VMA_ANON_PRIVATE (1u << 9)
#define VMA_AREA_SYSVIPC (1u << 10)
#define VMA_AREA_SOCKET (1u << 11)
#define VMA_AREA_VVAR (1u << 12)
#define VMA_AREA_AIORING (1u << 13)
#define VMA_AREA_MEMFD (1u << 14)
#define VMA_AREA_SHSTK (1u << 15)
#define VMA_AREA_GUARD (1u << 16)
#define VMA_AREA_UPROBES (1u << 17)
#define VMA_UNSUPP (1u << 31)

/* VmFlags of smaps we act on (our own bit numbers). */
#define VMF_GROWSDOWN (1u << 0)	  /* gd */
#define VMF_LOCKED (1u << 1)	  /* lo */
#define VMF_NORESERVE (1u << 2)	  /* nr */
#define VMF_HUGETLB (1u << 3)	  /* ht */
#define VMF_IO (1u << 4)	  /* io or pf */
#define VMF_DROPPABLE (1u << 5)	  /* dp */
#define VMF_GUARD (1u << 6)	  /* gu: may contain guard regions */
#define VMF_SEALED (1u << 7)	  /* sl */
#define VMF_SHSTK (1u << 8)	  /* ss */
#define VMF_UFFD_WP (1u << 9)	  /* uw */

/* How the contents of a VMA are saved. */
enum vma_dump {
	VMA_DUMP_NONE,	  /* nothing (file-shared, vvar, droppable, guard entries ...) */
	VMA_DUMP_PRIVATE, /* changed pages into pagemap-PID.img */
	VMA_DUMP_WHOLE,	  /* every page into pagemap-PID.img (vdso) */
	VMA_DUMP_SHMEM,	  /* into pagemap-shmem-SHMID.img, once per shmid */
};

struct vma {
	uint64_t start, end;
	uint64_t pgoff;	    /* byte offset into the file */
	uint32_t prot;	    /* PROT_* */
	uint32_t flags;	    /* MAP_* */
	uint32_t status;    /* VMA_* */
	uint32_t vmflags;   /* VMF_* */
	uint64_t madv;	    /* bit n: madvise(n) applies */
	uint32_t dev_major, dev_minor;
	uint64_t ino;	    /* from the maps line */
	uint64_t shmid;	    /* shared memory identity (map_files inode), or files.img id */
	uint32_t fdflags;   /* O_RDONLY / O_RDWR of the backing file */
	enum vma_dump dump;
	char *path;	    /* NULL for anonymous memory */
};

struct vma_list {
	struct vma *v;
	size_t n, cap;
};

/*
 * Read /proc/PID/smaps into LIST (sorted by address, [vsyscall] left out)
 * and classify every VMA. ALLOW_UPROBES accepts a [uprobes] area. Fails
 * with an error naming the pid and the area for what cannot be dumped
 * (hugetlb, VM_IO device memory, shadow stacks).
 */
int mem_collect_vmas(pid_t pid, bool allow_uprobes, struct vma_list *list);
void mem_vma_list_free(struct vma_list *list);

/* Append a VMA_AREA_GUARD entry (used for guard ranges). */
int mem_vma_list_add(struct vma_list *list, const struct vma *v);

#endif /* CORE_MEM_VMA_H */
