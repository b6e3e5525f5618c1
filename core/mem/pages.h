/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Dumping memory contents (facts 3.4, 4.1-4.7): find the pages worth
 * saving with PAGEMAP_SCAN, have the parasite vmsplice them into pipes,
 * and splice the pipes into pages-N.img while pagemap-PID.img (and
 * pagemap-shmem-SHMID.img for shared anonymous memory) describe them.
 * Streaming, in rounds of at most MEM_PIPES MiB, so memory of any size
 * goes through with no copy in criu.
 */
#ifndef CORE_MEM_PAGES_H
#define CORE_MEM_PAGES_H

#include <stdint.h>
#include <sys/types.h>

#include "images/image.h"
#include "infect/infect.h"
#include "mem/vma.h"

struct mem_stats {
	uint64_t pages_scanned;	  /* pages in VMAs whose contents we save */
	uint64_t pages_skipped;	  /* never touched or unchanged file pages */
	uint64_t pages_written;
	uint64_t shpages_scanned;
	uint64_t shpages_written;
	uint64_t page_pipes;	  /* pipes used */
	uint64_t page_pipe_bufs;  /* parasite rounds */
	uint64_t memdump_us;	  /* scanning and splicing, all of it */
	uint64_t memwrite_us;	  /* splicing into the image files only */
};

/*
 * Add a VMA_AREA_GUARD entry to LIST for every guard range (facts 7.4)
 * inside VMAs flagged "gu". Needs only /proc/PID/pagemap.
 */
int mem_collect_guards(pid_t pid, struct vma_list *list);

/*
 * Save the private contents of LIST's VMAs of the infected task CTX into
 * DIR: pagemap-VPID.img + pages-ID.img. *PAGES_ID is the last pages image
 * id used (0 at first) and is advanced. Unreadable VMAs are made readable
 * by the parasite for the time of the dump (facts 4.4). Shared anonymous
 * memory is left to mem_dump_shmem(), once for the whole tree.
 * With PS_SK >= 0 (a connected page server, mem/page-xfer.h) the pagemap
 * and pages go there instead of into DIR, and *PAGES_ID stays as it was.
 */
int mem_dump_pages(struct infect_ctx *ctx, const struct img_dir *dir, int ps_sk, pid_t vpid,
		   const struct vma_list *list, uint32_t *pages_id, struct mem_stats *st);

/* A (seized, stopped) task and its VMAs, for mem_dump_shmem(). */
struct mem_shmem_user {
	pid_t pid;
	const struct vma_list *vmas;
};

/*
 * One pagemap-shmem-SHMID.img + pages-ID.img per shared anonymous object
 * (SHMID the inode of its /dev/zero or SYSV file, facts 3.2) mapped by any
 * of USERS: the pages present in any task's mapping of it, as offsets into
 * the object, written once. criu maps the object itself through
 * /proc/PID/map_files to read them. WRITTEN(ARG, NAME) is told each
 * pagemap image before it is created (for cleanup). With PS_SK >= 0 they go
 * to that page server instead of into DIR.
 */
int mem_dump_shmem(const struct img_dir *dir, int ps_sk, const struct mem_shmem_user *users, size_t n,
		   uint32_t *pages_id, struct mem_stats *st,
		   void (*written)(void *arg, const char *name), void *arg);

#endif /* CORE_MEM_PAGES_H */
