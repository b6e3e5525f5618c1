/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Private to core/dump: the state of one dump action, shared by the files
 * that write its images. Everything a task contributes is collected into a
 * struct dump_task while it is infected, then written out.
 */
#ifndef CORE_DUMP_DUMP_H
#define CORE_DUMP_DUMP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <criu/plugin.h>
#include <parasite/protocol.h>

#include "dump/proc.h"
#include "images/image.h"
#include "infect/infect.h"
#include "mem/pages.h"
#include "mem/vma.h"

struct options;
struct pstree;
struct pstree_item;

/* An fd whose open file description has a files.img entry (dedup across the tree; sorted, files.c). */
struct dump_fd_seen {
	pid_t pid;
	int fd;
	dev_t dev;
	ino_t ino;
	unsigned int flags; /* open flags but O_CLOEXEC, which is per fd */
	uint64_t pos;
	uint32_t id;
	uint32_t type;
};

/* A process dumped so far, to find the kernel objects it shares with the next. */
struct dump_task_ref {
	pid_t pid;
	uint32_t files_id, fs_id;
};

#define DUMP_MAX_PLUGINS 64

struct dump_ctx {
	struct options *o;
	struct img_dir *dir;
	struct image *files;	   /* files.img, shared by every task */
	uint32_t next_file_id;	   /* files.img ids */
	uint32_t next_obj_id;	   /* vm/files/fs/sighand and namespace ids */
	uint32_t pages_id;	   /* last pages-N.img */
	int ps_sk;		   /* --page-server connection, or -1 */
	char **written;		   /* images we created, removed if the dump fails */
	size_t n_written;
	const char *plugins_used[DUMP_MAX_PLUGINS];
	size_t n_plugins_used;
	struct mem_stats mem;
	uint64_t freezing_us, frozen_start_us;
	struct task_ids_info *ids; /* the root task's ids, for the inventory */
	struct {
		uint64_t ino;
		uint32_t id;
	} ns_map[64];		   /* namespace inode -> id, shared across tasks */
	size_t n_ns_map;
	struct dump_fd_seen *fds_seen; /* every open file description dumped, tree-wide */
	size_t n_fds_seen, cap_fds_seen;
	struct dump_task_ref *tasks;   /* processes whose ids are known */
	size_t n_tasks;
};

/* Namespace inodes and the ids given to them. */
#define DUMP_NR_NS 8
struct task_ids_info {
	uint32_t vm_id, files_id, fs_id, sighand_id;
	uint32_t ns_id[DUMP_NR_NS]; /* pid net ipc uts mnt user cgroup time */
	uint64_t ns_ino[DUMP_NR_NS];
};

struct dump_posix_timer {
	struct proc_posix_timer p;
	int32_t overrun;
	struct k_itimerspec val;
};

/* What is per thread: everything in a core-TID.img but the task part. */
struct dump_thread {
	pid_t tid;	/* as criu sees it */
	pid_t vtid;	/* in the image (its own pid namespace) */
	struct seized_task *seized;
	struct parasite_thread thread; /* from the parasite, run in this thread */
	struct proc_status status;     /* creds are per thread */
	char comm[32];
	int sched_policy, sched_prio, sched_nice;
	uint64_t robust_list, robust_len;
};

/* Everything read about one process. */
struct dump_task {
	pid_t pid;		/* as criu sees it */
	pid_t vpid;		/* in the image */
	struct seized_task *seized; /* the leader's */
	struct infect_ctx *ictx;
	struct dump_thread *thr; /* thr[0] is the leader */
	size_t n_thr;
	struct proc_stat stat;
	struct proc_status status; /* the leader's: umask, seccomp */
	struct proc_rlimit rlim[PROC_NR_RLIMITS];
	struct parasite_misc misc;
	struct parasite_sigacts sigacts;
	struct parasite_itimers itimers;
	struct dump_posix_timer *timers;
	size_t n_timers;
	struct vma_list vmas;
	struct task_ids_info ids;
	char comm[32];
	uint32_t personality;
	int oom_score_adj;
	uint32_t loginuid;
	bool has_loginuid;
	uint32_t exe_file_id;
	bool files_shared;	/* its fd table is another process's (CLONE_FILES): dumped there */
	uint64_t *auxv;
	size_t n_auxv;
};

/* Create image NAME for writing and remember it for cleanup. */
int dump_img_open(struct dump_ctx *dc, uint32_t magic, struct image **out, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* Remember PLUGIN as one whose work the images depend on. */
void dump_note_plugin(struct dump_ctx *dc, const char *plugin);

/* Shared by dump and pre-dump (dump.c). */
/*
 * The start of either: the pid (-t), the images dir with its parent link,
 * the page server and the pidfd store. 0 with *PID, or a negative errno;
 * dump_end() undoes it either way.
 */
int dump_begin(struct dump_ctx *dc, const char *action, pid_t *pid);
void dump_end(struct dump_ctx *dc);
uint64_t dump_now_us(void);
int dump_open_images_dir(struct options *o, struct img_dir **dir);
int dump_link_parent(struct dump_ctx *dc);
int dump_write_inventory(struct dump_ctx *dc, const struct task_ids_info *root_ids,
			 uint32_t pre_dump_mode);
int dump_write_stats(struct dump_ctx *dc);
void dump_remove_images(struct dump_ctx *dc);
/* Remember a file written without dump_img_open() (pages, links), for cleanup. */
void dump_note_written(struct dump_ctx *dc, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* ids-PID data: object and namespace ids of DT. */
int dump_collect_ids(struct dump_ctx *dc, struct dump_task *dt);
void dump_free_written(struct dump_ctx *dc);
/*
 * criu dedup: punch the pages DIR holds out of its ancestors' pages
 * images (dedup.c). Without a "parent" link: -ENOENT, logged.
 */
int dump_dedup(const struct img_dir *dir);
/* --page-server: connect (before anything is frozen); dc->ps_sk stays -1 without. */
int dump_ps_connect(struct dump_ctx *dc);
/* End the transfer: CLOSE when RET is 0, else FORCE_CLOSE. Returns RET, or the close's error. */
int dump_ps_finish(struct dump_ctx *dc, int ret);
/* dump_note_written() for a callback: DC is the struct dump_ctx. */
void dump_note_written_cb(void *dc, const char *name);

/*
 * Run FN for every live process of tree T, each one between its infection
 * and its cure: DTS[i] (T->n of them, zeroed) gets items[i]'s VMAs, read
 * before our own mappings appear, and whatever FN collects. Zombies are
 * skipped. Refuses a tree where two processes share one mm, before
 * infecting any. A failure stops the walk; the task at hand is cured first.
 */
typedef int (*dump_task_fn)(struct dump_ctx *dc, struct pstree_item *it,
			    struct infect_ctx *ictx, struct dump_task *dt);
int dump_tree_each(struct dump_ctx *dc, struct pstree *t, struct dump_task *dts, dump_task_fn fn);
/* pagemap-shmem-SHMID.img and its pages, once per shared object of the whole tree. */
int dump_tree_shmem(struct dump_ctx *dc, const struct pstree *t, const struct dump_task *dts);
/* Named fault-injection point NAME (CRIU_FAULT=name[,name...]): -EIO when chosen. */
int dump_fault(const char *name);
/* Free what dump_ctx collected about fds and tasks. */
void dump_ctx_free_tree(struct dump_ctx *dc);

/* Read what the parasite and /proc know about task DT (infected). */
int dump_collect_task(struct dump_ctx *dc, struct dump_task *dt);
void dump_task_free(struct dump_task *dt);

/*
 * A files.img entry for a file the core itself refers to (USE: exe, cwd,
 * root, or the file mapped at START-END), written by the fd kind that
 * matches it among those that take USE (the files plugin for regular
 * files). FLAGS are the open flags to restore it with. *ID gets the new
 * files.img id. An error names the file and, when no plugin takes it,
 * the one that would.
 */
int dump_core_file(struct dump_ctx *dc, pid_t pid, enum cp_file_use use, unsigned int flags,
		   uint64_t start, uint64_t end, uint32_t *id);
/*
 * Save the contents of the shmem file FD (SIZE bytes) as
 * pagemap-shmem-SHMID.img and a new pages image (shmem-file.c).
 */
int dump_shmem_file(struct dump_ctx *dc, int fd, uint64_t shmid, uint64_t size);
/* Serve cp_file_dump_as() and cp_shmem_dump() from DC while a task's files are dumped; NULL stops it. */
void dump_file_services(struct dump_ctx *dc);
/* fdinfo-ID.img and files.img for every fd of DT, through the plugins. */
int dump_task_fds(struct dump_ctx *dc, struct dump_task *dt);
/* fs-PID.img: cwd, root, umask. */
int dump_task_fs(struct dump_ctx *dc, struct dump_task *dt);
/* mm-PID.img: mm fields, VMAs (file ids given), exe. */
int dump_task_mm(struct dump_ctx *dc, struct dump_task *dt);
/* core-TID.img for every thread (and seccomp.img when filters are set). */
int dump_task_core(struct dump_ctx *dc, struct dump_task *dt);
/* ids-PID.img. */
int dump_task_ids(struct dump_ctx *dc, struct dump_task *dt);
/* core-PID.img of a zombie: task state TASK_DEAD, its exit status and comm, as CRIU writes it. */
int dump_zombie_core(struct dump_ctx *dc, const struct pstree_item *it);

#endif /* CORE_DUMP_DUMP_H */
