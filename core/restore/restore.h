/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Private to core/restore: the state one restore carries through its
 * stages, and the stage entry points. The stages, in order:
 *
 *   images.c     read and check the images into struct rst_ctx (criu)
 *   fork.c       clone3 with the dumped pid, seize the child (criu)
 *   stage1.c     in the child, with glibc: task state, fds, memory plan,
 *                bootstrap region, jump into the restorer blob
 *     task.c       personality, umask, cwd/root, sigactions, and the args
 *                  for rlimits, timers, signals, seccomp, creds (child)
 *     files.c      the task's fds through the plugins (child)
 *     mem.c        VMAs, files behind mappings, page runs, vDSO (child)
 *     mem-parent.c page runs an incremental dump left in its parent (child)
 *     vdso-proxy.c the dumped vDSO of another kernel, jumping to ours (child)
 *     sigframe.c   the rt_sigframe with GPRs and xsave (child)
 *     bootstrap.c  the bootstrap region and the blob copy (child)
 *   catch.c      the blob's reports, the sigreturn catch, bootstrap
 *                munmap, detach (criu)
 *   restore.c    action_restore(): runs the above, hooks, waiting
 *
 * fault.h names the points where CRIU_RESTORE_FAULT injects a failure.
 * Threads: the leader runs stage 1; the restorer clones the others with
 * their tids; criu seizes them once they wait in the restorer.
 */
#ifndef CORE_RESTORE_RESTORE_H
#define CORE_RESTORE_RESTORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "images/core.pb-c.h"
#include "images/fdinfo.pb-c.h"
#include "images/fs.pb-c.h"
#include "images/inventory.pb-c.h"
#include "images/mm.pb-c.h"
#include "images/pagemap.pb-c.h"
#include "images/pstree.pb-c.h"
#include "images/seccomp.pb-c.h"

#include "restorer/restorer-args.h"

struct img_dir;
struct action_result;

/* VmaEntry.status bits (CRIU's image ABI). */
#define RST_VMA_AREA_REGULAR (1u << 0)
#define RST_VMA_AREA_STACK (1u << 1)
#define RST_VMA_AREA_VSYSCALL (1u << 2)
#define RST_VMA_AREA_VDSO (1u << 3)
#define RST_VMA_AREA_HEAP (1u << 5)
#define RST_VMA_FILE_PRIVATE (1u << 6)
#define RST_VMA_FILE_SHARED (1u << 7)
#define RST_VMA_ANON_SHARED (1u << 8)
#define RST_VMA_ANON_PRIVATE (1u << 9)
#define RST_VMA_AREA_SYSVIPC (1u << 10)
#define RST_VMA_AREA_SOCKET (1u << 11)
#define RST_VMA_AREA_VVAR (1u << 12)
#define RST_VMA_AREA_AIORING (1u << 13)
#define RST_VMA_AREA_MEMFD (1u << 14)
#define RST_VMA_AREA_SHSTK (1u << 15)
#define RST_VMA_AREA_GUARD (1u << 16)
#define RST_VMA_AREA_UPROBES (1u << 17)
#define RST_VMA_UNSUPP (1u << 31)

/* PagemapEntry.flags */
#define RST_PE_PARENT (1u << 0)
#define RST_PE_LAZY (1u << 1)
#define RST_PE_PRESENT (1u << 2)

/* What the user asked for (filled from struct options by restore.c). */
struct rst_opts {
	const char *images_dir;
	bool detached;	      /* -d: return once the task runs */
	bool leave_stopped;   /* -s: leave it stopped (SIGSTOP) */
	bool restore_sibling; /* the task becomes criu's sibling (only with -d) */
	bool shell_job;	      /* -j: the task joins criu's session, group and terminal */
	const char *pidfile;  /* write the restored pid here, or NULL */
	struct options *o;    /* for notify_event() and --display-stats */
};

/* One files.img entry, kept packed for the plugin's open(). */
struct rst_file {
	uint32_t id;
	uint32_t type;
	FileEntry *fe; /* unpacked, for the core's own look-ups */
};

struct rst_tree;

/* What a process of the tree is on restore. */
enum rst_task_kind {
	RST_TASK_LIVE,	 /* restored with its memory, threads and state */
	RST_TASK_ZOMBIE, /* forked, then exits with its dumped status */
	RST_TASK_HELPER, /* not dumped: holds a process group id whose leader is gone */
};

/*
 * Everything read from the images for one process of the tree. The
 * images dir, inventory, files and seccomp filters are the tree's, shared
 * by every task (only the tree frees them).
 */
struct rst_ctx {
	struct rst_opts opts;
	struct rst_tree *tree;
	struct img_dir *dir;
	int keep_fd_min; /* in the task: above every fd number it gets (files.c), or 0 */
	InventoryEntry *inv;
	PstreeEntry *pstree;
	enum rst_task_kind kind;
	size_t idx;		  /* in tree->tasks */
	struct rst_ctx *parent;	  /* NULL for the root */
	pid_t pid; /* the task's pid in the image, and the one it gets */
	pid_t sid, pgid;
	int exit_status;	  /* a zombie's wait status (TaskCoreEntry.exit_code) */
	bool hello;		  /* it exists (said hello) */
	bool shares_files;	  /* its parent's fd table (CLONE_FILES), not a copy */
	int barrier;		  /* the last tree barrier it reached */
	CoreEntry *core; /* the leader's, also thread_cores[0] */
	size_t nr_threads;
	pid_t *tids;		  /* tids[0] == pid */
	pid_t *htids;		  /* criu: the threads' tids as criu sees them (pid namespace) */
	CoreEntry **thread_cores; /* core-TID.img of each thread */
	TaskKobjIdsEntry *ids;
	MmEntry *mm;
	PagemapHead *pm_head;
	PagemapEntry **pm;
	size_t nr_pm;
	FsEntry *fs;
	FdinfoEntry **fdinfo;
	size_t nr_fdinfo;
	struct rst_file *files;
	size_t nr_files;
	SeccompEntry *seccomp;
	char pages_name[32];

	/* criu <-> child channels (fork.c, catch.c). */
	int report_rd, report_wr; /* child -> criu: struct rst_report */
	int go_rd, go_wr;	  /* criu -> child: one byte per step */
	pid_t child;		  /* the restored task, 0 before fork */
	bool seized;
	size_t nr_seized_threads; /* tids[1..] criu traces */
	unsigned long ptrace_opts; /* PTRACE_SEIZE options, for the threads too */
	uint64_t bootstrap_start, bootstrap_len, syscall_insn; /* from the child */
};

/* An object opened once by one task for several (shared.c). */
struct rst_shared {
	uint64_t key;	       /* files.img index, or the shmid for shared memory */
	bool shmem;
	size_t owner;	       /* the task that opens it: the users' lowest common ancestor */
	int fd;		       /* in the owner and its descendants, once opened; else -1 */
	uint64_t shmem_size;   /* shared memory: the size of the object */
};

/* --inherit-fd fd[N]:KEY (inherit.c). */
struct rst_inherit {
	int fd;	   /* criu's fd N, moved above the task's fds in each task */
	int old;   /* while moving: the number it had, or -1 */
	char *key; /* the resource it stands for, as CRIU names it */
};

/* The whole restore: every task, and what they share. */
struct rst_tree {
	struct rst_opts opts;
	struct img_dir *dir;
	InventoryEntry *inv;
	struct rst_file *files;
	size_t nr_files;
	SeccompEntry *seccomp;
	struct rst_ctx *tasks; /* tasks[0] is the root; parents before children */
	size_t nr_tasks;
	struct rst_shared *shared;
	size_t nr_shared;
	ssize_t *file_shared; /* per files.img entry: its index in shared[], or -1 */
	bool new_pidns; /* the root is the init (pid 1) of its own pid namespace */
	struct rst_inherit *inherit;
	size_t nr_inherit;
};

/*
 * restore.c: the whole restore for OPTS (action_restore() without the
 * options table; unit tests call it directly). 0 or a negative errno.
 */
int rst_run(const struct rst_opts *opts, struct action_result *res);

/* images.c: every task's images (helpers added for dead group leaders). */
int rst_images_read(struct rst_tree *t);
void rst_images_free(struct rst_tree *t);
const struct rst_file *rst_file_find(const struct rst_ctx *c, uint32_t id);
/* The packed bytes of FE's kind field (FileEntry field FIELDNO); free *OUT. */
int rst_file_payload(const struct rst_file *f, uint32_t fieldno, void **out, size_t *len);

/*
 * inherit.c: --inherit-fd. Parse the option into T (checking that each fd
 * is open), before anything is made; 0 or a negative errno (logged).
 */
int rst_inherit_parse(struct rst_tree *t);
void rst_inherit_free(struct rst_tree *t);
/* In a task: move the inherited fds to MIN or above, out of the way of its fds. */
int rst_inherit_move_high(struct rst_tree *t, int min);
/*
 * If an inherited fd stands for file F: 1 and a dup of it in *OUT
 * (close-on-exec); 0 if none does; a negative errno (logged).
 */
int rst_inherit_open(const struct rst_ctx *c, const struct rst_file *f, int *out);

/*
 * fork.c: create task C with its pid, from criu (the root) or from its
 * parent's stage 1; C starts in rst_stage1().
 */
int rst_fork(struct rst_ctx *c);
/* criu: seize C once it said hello, and let it start stage 1. */
int rst_seize_task(struct rst_ctx *c);

/* tree.c (criu side): run the tree through its barriers until every task is forked and placed. */
int rst_tree_start(struct rst_tree *t);
/* Kill every task made so far and reap what criu may reap. */
void rst_tree_kill(struct rst_tree *t);

/* shared.c: which task opens what several tasks share. */
int rst_shared_plan(struct rst_tree *t);
/* In task C (stage 1): open what C owns for its descendants. */
int rst_shared_open(struct rst_ctx *c, int min_fd);
/* The fd of a shared object (files.img id ID, or SHMID), or -1. */
int rst_shared_file_fd(const struct rst_ctx *c, uint32_t id);
int rst_shared_shmem_fd(const struct rst_ctx *c, uint64_t shmid, uint64_t *size);
/*
 * Put into KEEP[MAX] the shared objects' fds task C must keep until its
 * restorer runs (what it maps, or all when tasks share its fd table).
 */
size_t rst_shared_keep(const struct rst_ctx *c, int *keep, size_t max);
/* The task whose fd table C uses: C, or the ancestor it shares it with. */
struct rst_ctx *rst_table_owner(struct rst_ctx *c);
/* Has C children that share its fd table? */
bool rst_has_sharers(const struct rst_ctx *c);
/*
 * tree.c: tid THREAD of task C as criu sees it: in a new pid namespace the
 * tasks have other pids outside (criu's view) than inside (the images').
 */
pid_t rst_host_tid(const struct rst_ctx *c, size_t thread);
/* criu: learn the threads' tids outside the pid namespace (once they exist). */
int rst_map_host_tids(struct rst_ctx *c);
/* Is task D C itself or one of its descendants? */
bool rst_task_under(const struct rst_ctx *c, const struct rst_ctx *d);

/* stage1.c: the child's side; never returns. */
__attribute__((noreturn)) void rst_stage1(struct rst_ctx *c);

/* catch.c */
/* One report from C's channel: 1 read, 0 the channel closed, < 0 an error. */
int rst_read_report(struct rst_ctx *c, struct rst_report *r, char *text);
/* Act on a report of the blob or stage 1: 1 for READY, 0 to go on, < 0 a failure (logged). */
int rst_handle_report(struct rst_ctx *c, const struct rst_report *r, char *text);
int rst_wait_ready(struct rst_ctx *c);
int rst_finish_task(struct rst_ctx *c);
/* Detach the threads but the leader (restore.c detaches that one last). */
int rst_detach_threads(struct rst_ctx *c);
/* Send a stage-1 failure from the child (before the blob runs). */
void rst_child_report_error(struct rst_ctx *c, int err);

/* Kill the child (if any) and reap it; for every failure path. */
void rst_kill_child(struct rst_ctx *c);

#endif /* CORE_RESTORE_RESTORE_H */
