/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Private to the files plugin: the fd kinds files.c registers, and the
 * helpers they share. Nothing here crosses the plugin boundary.
 */
#ifndef PLUGINS_FILES_FILES_H
#define PLUGINS_FILES_FILES_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <criu/plugin.h>

#include "fh.pb-c.h"
#include "fown.pb-c.h"

/* CRIU's fd_types (FileEntry.type) and FileEntry field numbers. */
#define FILES_TYPE_REG 1
#define FILES_TYPE_PIPE 2
#define FILES_TYPE_FIFO 3
#define FILES_TYPE_EVENTFD 6
#define FILES_TYPE_EVENTPOLL 7
#define FILES_TYPE_INOTIFY 8
#define FILES_TYPE_SIGNALFD 9
#define FILES_TYPE_FANOTIFY 12
#define FILES_TYPE_TIMERFD 17
#define FILES_TYPE_MEMFD 18

/* cp_fd_ops.group() keys: the kind in the high half, the pipe id in the low. */
#define FILES_GROUP_PIPE ((uint64_t)FILES_TYPE_PIPE << 32)
#define FILES_GROUP_FIFO ((uint64_t)FILES_TYPE_FIFO << 32)
#define FILES_FIELD_REG 3
#define FILES_FIELD_EFD 8
#define FILES_FIELD_EPFD 9
#define FILES_FIELD_SGFD 10
#define FILES_FIELD_TFD 12
#define FILES_FIELD_IFY 13
#define FILES_FIELD_FFY 14
#define FILES_FIELD_FIFO 17
#define FILES_FIELD_PIPE 18
#define FILES_FIELD_MEMFD 20

/* CRIU's image names and magics. */
#define FILES_PIPES_DATA_MAGIC 0x56453709
#define FILES_PIPES_DATA_IMG "pipes-data.img"
#define FILES_FIFO_DATA_MAGIC 0x59333054
#define FILES_FIFO_DATA_IMG "fifo-data.img"
#define FILES_MEMFD_MAGIC 0x48453499
#define FILES_MEMFD_IMG "memfd.img"
#define FILES_GHOST_MAGIC 0x52583605
#define FILES_GHOST_IMG "ghost-file-%x.img"
#define FILES_REMAP_MAGIC 0x59133954
#define FILES_REMAP_IMG "remap-fpath.img"
#define FILES_FILES_MAGIC 0x56303138 /* files.img: the core's, read for ghost names */

/* One pipe this task's restore has made, kept until all its ends are placed. */
struct files_pipe_rst {
	uint32_t pipe_id;
	ino_t ino;    /* of the new pipe, to check a kept end is still it */
	int fds[2];   /* kept ends (read, write), moved to high numbers */
	bool used[2]; /* the end was handed out once already */
};

/* Where the saved queue of one pipe is in pipes-data.img or fifo-data.img (restore). */
struct files_pipe_data {
	uint32_t pipe_id;
	uint32_t bytes;
	bool has_size;
	uint32_t size;
	off_t off; /* of the bytes, in the image file */
};

/* One entry of remap-fpath.img (restore). */
struct files_remap {
	uint32_t orig_id;  /* the RegFileEntry id */
	uint32_t remap_id; /* without CRIU's old ghost bit */
	int type;	   /* FILES_REMAP_* (the ghost bit of old images read as GHOST) */
};

/* A deleted file saved in this dump: ghost-file-ID.img. */
struct files_ghost {
	dev_t dev;
	ino_t ino;
	uint32_t id;
};

/*
 * A memfd: dump, one saved inode and the process that uses it (fd
 * unused); restore, one made in this task and the fd number where it can
 * be found (checked by inode; pid unused).
 */
struct files_memfd {
	ino_t ino;
	uint32_t inode_id;
	int fd;
	pid_t pid;
};

/* Where the bytes queued in pipes (or FIFOs) go: pipes-data.img or fifo-data.img. */
enum files_pdata_kind { FILES_PDATA_PIPE, FILES_PDATA_FIFO, FILES_PDATA__N };

/* Restore: where the queues of one data image are. */
struct files_pdata_index {
	struct files_pipe_data *e;
	size_t n;
	bool read;
};

/* Dump: one data image, open from the first pipe until post-dump. */
struct files_pdata {
	struct cp_image *img;
	uint32_t *dumped; /* pipe_ids whose data is saved */
	size_t n_dumped;
};

/*
 * The plugin's private state (cp_plugin_set_data). The dump side lives in
 * criu for one dump; the restore side in each restored task, which gets
 * its own copy when it is forked.
 */
struct files_state {
	/* Dump: pipes-data.img and fifo-data.img. */
	struct files_pdata pdata[FILES_PDATA__N];
	/* Dump: remap-fpath.img, open from the first ghost until post-dump. */
	struct cp_image *remap;
	struct files_ghost *ghosts;
	size_t n_ghosts;
	/* Dump: the link_remap.* names made, removed if the dump fails. */
	char **links;
	size_t n_links;
	/* Dump: memfd.img, open from the first memfd until post-dump. */
	struct cp_image *memfd_img;
	/* Dump: the memfds saved; restore: those made in this task. */
	struct files_memfd *memfds;
	size_t n_memfds;
	/*
	 * Restore: pipes made in this task, and FIFOs opened (fds[0]:
	 * read-write, fds[1] -1), both of pipes_pid. A task forked by its
	 * restored parent inherits the lists, but their fds are not its own.
	 */
	struct files_pipe_rst *pipes;
	size_t n_pipes;
	struct files_pipe_rst *fifos;
	size_t n_fifos;
	pid_t pipes_pid;
	/* Restore: remap-fpath.img, read once (sorted by orig_id), as the data images below. */
	struct files_remap *remaps;
	size_t n_remaps;
	bool remaps_read;
	/*
	 * Restore: pipes-data.img and fifo-data.img, each indexed once (sorted
	 * by pipe_id); plain memory, so a forked task may use it.
	 */
	struct files_pdata_index pdata_idx[FILES_PDATA__N];
};

/* The state of P (made by files_init()). */
static inline struct files_state *files_state(struct cp_plugin *p)
{
	return cp_plugin_get_data(p);
}

extern const struct cp_fd_ops files_reg_ops;
extern const struct cp_fd_ops files_pipe_ops;
extern const struct cp_fd_ops files_eventfd_ops;
extern const struct cp_fd_ops files_fifo_ops;
extern const struct cp_fd_ops files_memfd_ops;

/* Dump side: forget the memfds saved (memfd.img is closed by the caller). */
void files_memfd_dump_done(struct files_state *st);
extern const struct cp_fd_ops files_signalfd_ops;
extern const struct cp_fd_ops files_timerfd_ops;
extern const struct cp_fd_ops files_epoll_ops;
extern const struct cp_fd_ops files_inotify_ops;
extern const struct cp_fd_ops files_fanotify_ops;

/*
 * Restore side of pipes: forget the ends kept for later open() calls of
 * this task (the core has closed every fd it did not place by then).
 * Called at CP_STAGE_RESTORE_TASK.
 */
int files_pipe_restore_task_done(struct cp_plugin *p, const struct cp_hook_ctx *ctx);
/* Dump side: close pipes-data.img and fifo-data.img and forget the pipes saved. */
int files_pipe_dump_done(struct files_state *st);
/* Dump: save the bytes queued in the pipe or FIFO behind FD (once per PIPE_ID) to KIND's image. */
int files_pipe_dump_data(struct cp_plugin *p, const struct cp_fd_desc *fd, uint32_t pipe_id,
			 enum files_pdata_kind kind);
/*
 * Restore: put the saved bytes of PIPE_ID (and its size) from KIND's
 * image into WR. The image is indexed once per task.
 */
int files_pipe_fill(struct cp_plugin *p, uint32_t pipe_id, int wr, enum files_pdata_kind kind);
/* Restore: forget the indexes files_pipe_fill() made. */
void files_pipe_fill_done(struct files_state *st);
/*
 * Restore: move *FD out of the way of the fds the core places (to
 * FILE->keep_fd_min or above). *FD is closed on failure.
 */
int files_keep_high(const struct cp_file *file, int *fd);
/*
 * Restore: forget (without closing) the pipes and FIFOs kept by the
 * parent this task was forked from. Call before using either list.
 */
void files_pipes_forget_inherited(struct files_state *st);
/* Restore: close the kept fds of N entries of PR still ours, and free PR. CP_STAGE_RESTORE_TASK. */
void files_pipes_forget(struct files_pipe_rst *pr, size_t n);
/* Restore: the FIFOs' kept fds. */
int files_fifo_restore_task_done(struct cp_plugin *p, const struct cp_hook_ctx *ctx);

/*
 * Ghost files (ghost.c). Dump: save the deleted regular file behind FD,
 * known by PATH (without " (deleted)"), for the RegFileEntry ID.
 */
int files_ghost_dump(struct cp_plugin *p, const struct cp_fd_desc *fd, uint32_t id, const char *path);
void files_ghost_dump_done(struct files_state *st);
/* The name of RegFileEntry ID in files.img, malloc'd; NULL if none (restore side). */
char *files_reg_name_of(struct cp_plugin *p, uint32_t id);
/* RemapFilePathEntry.remap_type values (CRIU's RemapType). */
#define FILES_REMAP_LINKED 0
#define FILES_REMAP_GHOST 1
/* Dump: tie file ORIG_ID to REMAP_ID in remap-fpath.img (TYPE: FILES_REMAP_*). */
int files_remap_write(struct cp_plugin *p, uint32_t orig_id, uint32_t remap_id, int type);
/*
 * Restore: 1 with *TYPE (FILES_REMAP_*) and *REMAP_ID if file ID is
 * remapped, 0 if not, or a negative errno. Reads remap-fpath.img once.
 */
int files_remap_find(struct cp_plugin *p, uint32_t file_id, int *type, uint32_t *remap_id);
/* Restore: forget remap-fpath.img as files_remap_find() read it. */
void files_remap_restore_done(struct files_state *st);
/* Restore: an fd of the ghost REMAP_ID of PATH opened with FLAGS, or a negative errno. */
int files_ghost_open(struct cp_plugin *p, const char *path, uint32_t remap_id, unsigned int flags, uint32_t id);
/*
 * Link-remap (remap.c). Dump: link the file behind FD, whose name PATH is
 * gone, to "link_remap.ID" in PATH's directory, save that name as a
 * regular-file entry of its own and tie file ID to it. -ENOENT (unlogged)
 * when the kernel refuses the link (no name left, not O_TMPFILE).
 */
int files_link_remap_dump(struct cp_plugin *p, const struct cp_fd_desc *fd, uint32_t id, const char *path);
/* Dump: forget the links made; after a failed dump (FAILED) remove them. */
void files_link_remap_dump_done(struct files_state *st, bool failed);
/* Restore: an fd of PATH, linked for the open from REMAP_ID's name, or a negative errno. */
int files_link_remap_open(struct cp_plugin *p, const char *path, uint32_t remap_id, unsigned int flags, uint32_t id);
/* criu, after restore: remove the link of REMAP_ID. */
void files_link_remap_remove(struct cp_plugin *p, uint32_t remap_id);
/*
 * Restore: open FROM under the name PATH (linked for the open and
 * unlinked again, so the fd shows "PATH (deleted)"); FROM itself if PATH
 * exists again (with a warning). The fd, or a negative errno (logged).
 */
int files_open_linked(const char *from, const char *path, unsigned int flags, uint32_t id);
/* criu, after restore: remove the ghost files made. CP_STAGE_POST_RESTORE, _POST_RESUME. */
int files_ghost_cleanup(struct cp_plugin *p, const struct cp_hook_ctx *ctx);

/*
 * F_SETOWN/F_SETSIG state of the open file behind LFD (criu's dup of the
 * task's fd) into FOWN, which the caller has initialised; the numbers stay
 * zero for an O_PATH fd, which has no owner. Returns 0 or a negative errno
 * (logged, naming FD of PID).
 */
int files_fown_dump(int lfd, pid_t pid, int fd, FownEntry *fown);
/* Set the owner and signal of the freshly opened FD; PATH is for messages. */
int files_fown_restore(int fd, const FownEntry *fown, const char *path);

/*
 * Status flags a restored file gets with F_SETFL after open(): the kernel
 * ignores O_ASYNC at open time. Returns 0 or a negative errno (logged).
 */
int files_set_async(int fd, unsigned int flags, const char *what);

/*
 * The GNU build-id of the ELF file behind FD (readable), at most MAX bytes
 * into OUT (buildid.c). Its length, 0 when it has none (not ELF, no
 * note), or a negative errno.
 */
#define FILES_BUILD_ID_MAX 64
int files_elf_build_id(int fd, uint8_t *out, size_t max);

/* "fd 3", "the exe", "the file mapped at A-B": what FD is, for messages (static buffer). */
const char *files_what(const struct cp_fd_desc *fd);

/*
 * A new open file (close-on-exec) of what FD is open on, through
 * /proc/self/fd: to read a file the task has write-only, or an O_PATH
 * handle. Returns the fd, or -1 with errno set, as open() does.
 */
int files_reopen(int fd, int flags);

/*
 * fdinfo text (fdinfo.c). The value of the line "KEY: value" of TEXT in
 * BASE; false if the line is missing or the value is not a number.
 */
bool files_fdinfo_value(const char *text, const char *key, int base, uint64_t *out);
/*
 * The next line of TEXT starting with PREFIX after *LINE (NULL: from the
 * start); sets *LINE to it and returns it, or NULL when there is no more.
 */
const char *files_fdinfo_next(const char *text, const char *prefix, const char **line);
/* The field "NAME:value" of one fdinfo LINE (up to its newline), in BASE. */
bool files_field_u64(const char *line, const char *name, int base, uint64_t *out);
/*
 * The file handle of an inotify watch or fanotify mark LINE (fhandle-bytes,
 * fhandle-type, f_handle) into FH, its bytes into WORDS (MAX_WORDS of them,
 * at least FH_ENTRY_SIZES__min_entries: CRIU always stores that many).
 * 0, -EINVAL if the line has none or a bad one, -E2BIG if it is too long.
 */
int files_field_handle(const char *line, FhEntry *fh, uint64_t *words, size_t max_words);
/* The kernel's internal dev_t (as fdinfo prints "sdev") as a user dev_t. */
dev_t files_kdev_to_dev(uint64_t kdev);

/*
 * Inodes of inotify watches and fanotify marks (fsnotify.c). Dump: the
 * path of inode INO of device DEV that the handle FH opens, checked to
 * lead to that inode, into *PATH (malloc'd). Restore: an O_PATH fd of
 * FH->path, or of the handle when the path cannot be opened. Both log
 * their errors, starting with WHAT.
 */
int files_fsnotify_path(const char *what, uint64_t ino, dev_t dev, FhEntry *fh, char **path);
int files_fsnotify_open(const char *what, const FhEntry *fh, uint32_t s_dev, uint64_t ino);

/*
 * The last steps of restoring an anonymous file (eventfd, signalfd,
 * timerfd, epoll, inotify, fanotify) made as *FD: O_NONBLOCK and O_ASYNC
 * from FLAGS, and the owner; then it is handed over: *OUT_FD gets it and
 * *FD becomes -1 (on failure *FD stays, for the caller to close). WHAT
 * names it in messages.
 */
int files_open_done(int *fd, unsigned int flags, const FownEntry *fown, const char *what,
		    int *out_fd);

/* Does LINK end in " (deleted)"? */
bool files_link_deleted(const char *link);

#endif /* PLUGINS_FILES_FILES_H */
