/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The plugin SDK: everything a plugin may use, and nothing else.
 *
 * A plugin is a shared object that exports exactly one symbol,
 * criu_plugin_descriptor (define it with CP_PLUGIN_DEFINE). The core
 * dlopen()s it, checks the ABI version, and calls init(), in which the
 * plugin registers what it handles: fd kinds, stage hooks, image files
 * and its own config keys. Everything else in the plugin is static.
 *
 * Every function here runs in the criu process unless its comment says
 * otherwise, and returns 0 or a negative errno. Hook and callback return
 * contract:
 *   0          done;
 *   -ENOTSUP   not mine, ask the next plugin;
 *   other < 0  failure (a negative errno), the action stops;
 *   CP_RETRY   my dependency is not restored yet, call me again later.
 *
 * ABI: the core refuses a plugin with a different CP_ABI_MAJOR, or with a
 * CP_ABI_MINOR newer than its own. Structures that cross the boundary are
 * either opaque or start with a size field, so they can grow.
 */
#ifndef CRIU_PLUGIN_H
#define CRIU_PLUGIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <protobuf-c/protobuf-c.h>

#include <criu/log.h>

#ifdef __cplusplus
extern "C" {
#endif

#define CP_ABI_MAJOR 1
#define CP_ABI_MINOR 3

#define CP_RETRY 1

/* Opaque handle of one loaded plugin; passed to every callback. */
struct cp_plugin;

struct cp_plugin_desc {
	uint32_t abi_major;  /* CP_ABI_MAJOR the plugin was built against */
	uint32_t abi_minor;  /* CP_ABI_MINOR the plugin was built against */
	const char *name;    /* one name everywhere: file, section, logs */
	const char *version; /* the plugin's own version string */
	const char *description;
	/* Register everything. Called once, after loading; non-zero fails the load. */
	int (*init)(struct cp_plugin *p);
	/* Release what init() made. May be NULL. */
	void (*fini)(struct cp_plugin *p);
};

#define CP_PLUGIN_DESC_SYMBOL "criu_plugin_descriptor"

#define CP_PLUGIN_DEFINE(NAME, VERSION, DESCRIPTION, INIT, FINI)              \
	CP_EXPORT extern const struct cp_plugin_desc criu_plugin_descriptor;  \
	const struct cp_plugin_desc criu_plugin_descriptor = {                \
		.abi_major = CP_ABI_MAJOR,                                    \
		.abi_minor = CP_ABI_MINOR,                                    \
		.name = NAME,                                                 \
		.version = VERSION,                                           \
		.description = DESCRIPTION,                                   \
		.init = INIT,                                                 \
		.fini = FINI,                                                 \
	}

/* The plugin's name, as in its descriptor. */
CP_EXPORT const char *cp_plugin_name(const struct cp_plugin *p);

/*
 * Private state. The core keeps DATA for the plugin and calls FREE_FN on
 * it (if not NULL) after fini(), or when it is replaced.
 */
CP_EXPORT void cp_plugin_set_data(struct cp_plugin *p, void *data, void (*free_fn)(void *));
CP_EXPORT void *cp_plugin_get_data(const struct cp_plugin *p);

/* ------------------------------------------------------------------ */
/* Options                                                              */

enum cp_opt_type {
	CP_OPT_BOOL,
	CP_OPT_INT,
	CP_OPT_STRING,
	CP_OPT_LIST, /* a string key that may repeat; values accumulate */
};

/*
 * Declare key KEY of section [plugin.NAME]. DEFVAL is the default as it
 * would be written in the INI file (NULL: unset). Only declared keys are
 * accepted in the plugin's section; anything else is a config error.
 * Call from init() only.
 */
CP_EXPORT int cp_register_option(struct cp_plugin *p, const char *key, enum cp_opt_type type,
				 const char *defval, const char *help);

/* Read the plugin's own key. -ENOENT if not declared, -EINVAL on a type mismatch. */
CP_EXPORT int cp_plugin_opt_bool(struct cp_plugin *p, const char *key, bool *out);
CP_EXPORT int cp_plugin_opt_int(struct cp_plugin *p, const char *key, long long *out);
/* *OUT stays owned by the core; NULL if unset. */
CP_EXPORT int cp_plugin_opt_string(struct cp_plugin *p, const char *key, const char **out);
/* Number of values of a list key, and the I-th value. */
CP_EXPORT int cp_plugin_opt_list(struct cp_plugin *p, const char *key, size_t i, const char **out);

/*
 * Read a core option by its long name (e.g. "tcp-established",
 * "ghost-limit", "external"). Read-only. Same return values as above;
 * cp_opt_list() returns the number of values when OUT is NULL.
 */
CP_EXPORT int cp_opt_bool(const char *name, bool *out);
CP_EXPORT int cp_opt_int(const char *name, long long *out);
CP_EXPORT int cp_opt_string(const char *name, const char **out);
CP_EXPORT int cp_opt_list(const char *name, size_t i, const char **out);

/* ------------------------------------------------------------------ */
/* Image files                                                          */

/* An open image file; see core/images for the framing (CRIU-compatible). */
struct cp_image;

/*
 * Declare an image file the plugin writes. NAME may contain one "%u" or
 * "%x" (e.g. "ghost-file-%x.img"). MAGIC is its CRIU type magic, or 0 for
 * a raw image without header. Call from init().
 */
CP_EXPORT int cp_register_image(struct cp_plugin *p, const char *name, uint32_t magic);

/*
 * Open image NAME (already formatted) in the images dir for writing, or
 * for reading. On restore a missing file reads as an empty image, as in
 * CRIU. Return NULL and set errno on failure (after logging the cause).
 */
CP_EXPORT struct cp_image *cp_image_open_write(struct cp_plugin *p, const char *name, uint32_t magic);
CP_EXPORT struct cp_image *cp_image_open_read(struct cp_plugin *p, const char *name, uint32_t magic);
/* Write one length-prefixed protobuf entry. */
CP_EXPORT int cp_image_write_msg(struct cp_image *img, const ProtobufCMessage *msg);
/* Write raw bytes (a payload that follows an entry, or a raw image). */
CP_EXPORT int cp_image_write_raw(struct cp_image *img, const void *buf, size_t len);
/*
 * Read the next entry. Returns 1 and sets *OUT (free it with
 * protobuf_c_message_free_unpacked) when there is one, 0 at a clean end of
 * file, a negative errno on a short or corrupt entry (the error names the
 * file and the entry number).
 */
CP_EXPORT int cp_image_read_msg(struct cp_image *img, const ProtobufCMessageDescriptor *desc,
				ProtobufCMessage **out);
/* Read exactly LEN raw bytes; -EIO (logged) on a short read. */
CP_EXPORT int cp_image_read_raw(struct cp_image *img, void *buf, size_t len);
/* The file descriptor behind IMG (for splice and the like). */
CP_EXPORT int cp_image_fd(struct cp_image *img);
/* Close, flushing writes. Returns the first write error, if any. */
CP_EXPORT int cp_image_close(struct cp_image *img);

/* ------------------------------------------------------------------ */
/* File descriptors                                                     */

/*
 * What a file entry is for (1.1). Besides the task's fds, the core refers
 * to files itself: the exe (MmEntry.exe_file_id), cwd and root
 * (FsEntry.cwd_id, root_id) and the file behind a mapping
 * (VmaEntry.shmid). It has them dumped and opened by the fd kinds that
 * say so in cp_fd_ops.uses, like fds but with fd -1.
 */
enum cp_file_use {
	CP_USE_FD = 0,	 /* an fd of the task */
	CP_USE_EXE = 1,	 /* /proc/PID/exe */
	CP_USE_CWD = 2,	 /* /proc/PID/cwd */
	CP_USE_ROOT = 3, /* /proc/PID/root */
	CP_USE_MAP = 4,	 /* the file behind a mapping: /proc/PID/map_files/START-END */
};
#define CP_USES(u) (1u << (u))

/* What the core knows about one fd of a task being dumped. Read-only. */
struct cp_fd_desc {
	size_t size;	     /* sizeof(struct cp_fd_desc) of the core */
	pid_t pid;	     /* the task, as seen from criu */
	int fd;		     /* the fd number in the task; -1 when use is not CP_USE_FD */
	int local_fd;	     /* criu's dup of it (pidfd_getfd): the same open file
				description, so never change its offset or flags */
	unsigned int flags;  /* open flags from fdinfo, O_CLOEXEC included */
	unsigned long long pos; /* file position from fdinfo */
	int mnt_id;	     /* from fdinfo */
	struct stat st;	     /* fstat() of local_fd */
	const char *link;    /* readlink of /proc/PID/fd/N */
	const char *fdinfo;  /* the whole text of /proc/PID/fdinfo/N; "" when not an fd */
	/* 1.1: what the entry is for. When not an fd, local_fd is an O_PATH
	 * open of the /proc link (reopen it through /proc/self/fd to read),
	 * flags are the ones to open it with on restore, pos is 0. */
	enum cp_file_use use;
	uint64_t map_start, map_end; /* CP_USE_MAP: the mapping, for messages */
};

/* An fd's entry to restore. Read-only. */
struct cp_file {
	size_t size;	     /* sizeof(struct cp_file) of the core */
	uint32_t id;	     /* FileEntry.id */
	uint32_t type;	     /* FileEntry.type (CRIU fd_types) */
	const void *payload; /* the packed message of the kind's FileEntry field */
	size_t payload_len;
	pid_t pid;	     /* the task being restored (its pid in the image) */
	int fd;		     /* the fd number it will get */
	unsigned int flags;  /* FdinfoEntry.flags: the fd flags (FD_CLOEXEC), as CRIU stores them;
				for another use, the open flags the core asks for */
	enum cp_file_use use; /* 1.1: fd is -1 when not CP_USE_FD */
	/*
	 * ABI 1.2 (check with CP_FILE_HAS): no fd of the task is placed at
	 * this number or above, so a plugin keeps what it holds between
	 * open() calls (the other end of a pipe) there:
	 * fcntl(F_DUPFD_CLOEXEC, keep_fd_min). 0 when the core has no such
	 * bound (a file not opened for an fd).
	 */
	int keep_fd_min;
};

/* Does FILE (from a core of any ABI 1.x) carry FIELD? */
#define CP_FILE_HAS(file, field) \
	((file)->size >= offsetof(struct cp_file, field) + sizeof((file)->field))

/* Where a dump callback puts the kind's message; see cp_payload_pack(). */
struct cp_payload;

/* Pack MSG as this fd's FileEntry payload. Call once from dump(). */
CP_EXPORT int cp_payload_pack(struct cp_payload *out, const ProtobufCMessage *msg);

struct cp_fd_ops {
	size_t size;		/* sizeof(struct cp_fd_ops) */
	const char *name;	/* what it is, for messages: "pipe", "eventfd" */
	uint32_t type;		/* FileEntry.type / FdinfoEntry.type (CRIU fd_types) */
	uint32_t payload_field; /* number of the FileEntry field holding the kind's message */
	/*
	 * Dump side, criu process, task frozen. Return 0 if FD is of this
	 * kind, -ENOTSUP if not.
	 */
	int (*match)(struct cp_plugin *p, const struct cp_fd_desc *fd);
	/*
	 * Dump side: describe the open file with ID (one call per open file
	 * description, however many fds of however many processes of the
	 * tree share it) into OUT.
	 */
	int (*dump)(struct cp_plugin *p, const struct cp_fd_desc *fd, uint32_t id,
		    struct cp_payload *out);
	/*
	 * Restore side, in the restored task before the restorer runs (glibc
	 * available). Open the file and store the new descriptor in *OUT_FD;
	 * the core moves it to file->fd and applies the fd flags. May return
	 * CP_RETRY when it needs another file restored first.
	 */
	int (*open)(struct cp_plugin *p, const struct cp_file *file, int *out_fd);
	/*
	 * ABI 1.1, may be NULL. Restore side, in the restored task, after
	 * every fd of the task is open and in place: finish what needs other
	 * fds of the task (an epoll registers its targets). Called once per
	 * open file this kind opened, in fdinfo order; FD is the task's fd that
	 * has it (FILE->fd). -ENOTSUP is a failure here, not "not mine".
	 */
	int (*post_open)(struct cp_plugin *p, const struct cp_file *file, int fd);
	/*
	 * 1.1: the uses other than fds this kind also dumps and opens, as
	 * CP_USES(CP_USE_EXE) | ...; 0 (and a plugin built for 1.0): fds only.
	 * For those the core asks match() and dump() with fd->fd -1 and
	 * fd->use set, writes the entry to files.img itself and stores its
	 * id where the use needs it; on restore it calls open() with
	 * file->fd -1 and keeps the fd it gets (to map, chdir, chroot).
	 */
	uint32_t uses;
	/*
	 * ABI 1.2, may be NULL. Restore side, criu process, after the
	 * CP_STAGE_RESTORE_INIT hooks and before any task is forked: the
	 * group of FILE. Files of this plugin with the same non-zero *KEY
	 * only work together (the master and the slave of one pty), so when
	 * several tasks use them, every one of them is opened by one task,
	 * the lowest common ancestor of those tasks, and the others inherit
	 * it; open() is then called for each in that one process. *KEY = 0
	 * (the default) means no group. FILE->pid and FILE->fd are those of
	 * the first task that has the file. Return 0 or a negative errno.
	 * Only the first kind registered for FILE->type is asked.
	 */
	int (*group)(struct cp_plugin *p, const struct cp_file *file, uint64_t *key);
};

/* Register an fd kind. Call from init(). */
CP_EXPORT int cp_register_fd_kind(struct cp_plugin *p, const struct cp_fd_ops *ops);

/*
 * 1.1: dump FD (as given to match() or dump(), or a copy the plugin made
 * with another link) as an entry of KIND, one of the kinds P registered
 * (the ops it passed to cp_register_fd_kind()), without asking match():
 * the core gives it a new id, writes its FileEntry to files.img and puts
 * the id in *ID. For an entry that refers to another one (a FIFO's
 * FifoEntry.regf_id to the RegFileEntry of its path; a link-remap to the
 * entry of the new name). Only from a dump() callback.
 */
CP_EXPORT int cp_file_dump_as(struct cp_plugin *p, const struct cp_fd_ops *kind, const struct cp_fd_desc *fd,
			      uint32_t *id);
/*
 * 1.1: open file ID of files.img with the kind registered for its type,
 * as for an fd that is not placed (cp_file.fd -1, use CP_USE_FD, FLAGS as
 * cp_file.flags). 0 and *OUT_FD, CP_RETRY, or a negative errno (logged).
 * Only from an open() callback.
 */
CP_EXPORT int cp_file_open_id(uint32_t id, unsigned int flags, int *out_fd);

/*
 * 1.1: save the contents of the shmem file FD (a memfd; readable) of SIZE
 * bytes as shared memory SHMID, the way CRIU saves memfd contents:
 * pagemap-shmem-SHMID.img and a pages image, holes left out. Only from a
 * dump() callback; once per SHMID.
 */
CP_EXPORT int cp_shmem_dump(int fd, uint64_t shmid, uint64_t size);
/*
 * 1.1: put the contents saved for SHMID back into FD (writable, SIZE
 * bytes; nothing saved leaves it as it is). Only from an open() callback.
 */
CP_EXPORT int cp_shmem_restore(int fd, uint64_t shmid, uint64_t size);

/* ------------------------------------------------------------------ */
/* Stage hooks                                                          */

enum cp_stage {
	CP_STAGE_DUMP_INIT,	   /* criu: before any task is seized */
	CP_STAGE_DUMP_TASK,	   /* criu: per task, frozen and infected */
	CP_STAGE_DUMP_NS,	   /* criu: per namespace of the tree */
	CP_STAGE_NETWORK_LOCK,	   /* criu: tasks frozen, before state is read */
	CP_STAGE_NETWORK_UNLOCK,   /* criu: tasks go on running (failure, -R) */
	CP_STAGE_POST_DUMP,	   /* criu: images written; ctx->ret is the result */
	CP_STAGE_RESTORE_INIT,	   /* criu: images opened, nothing created yet */
	CP_STAGE_RESTORE_PRE_FORK, /* criu: namespaces, mounts, cgroups */
	CP_STAGE_RESTORE_TASK,	   /* restored task: fds are open, before the restorer */
	CP_STAGE_POST_RESTORE,	   /* criu: tree restored, not yet resumed */
	CP_STAGE_PRE_RESUME,	   /* criu: just before the tasks run */
	CP_STAGE_POST_RESUME,	   /* criu: tasks run; ctx->ret is the result */
	/*
	 * ABI 1.2. Restored task: every fd is open and at its number
	 * (post_open() done), and the task has its session and, if it leads
	 * one, its process group, but has not forked its children yet: what
	 * children must inherit (a controlling terminal) is set up here.
	 */
	CP_STAGE_RESTORE_TASK_FDS,
	CP_STAGE__MAX
};

struct cp_hook_ctx {
	size_t size;	    /* sizeof(struct cp_hook_ctx) of the core */
	enum cp_stage stage;
	pid_t pid;	    /* the task's pid in the image, or 0 */
	pid_t real_pid;	    /* its pid as seen from criu, or 0 */
	int ret;	    /* result so far, for the final stages */
};

typedef int (*cp_hook_fn)(struct cp_plugin *p, const struct cp_hook_ctx *ctx);

/* Run FN at STAGE. Plugins run in load order. Call from init(). */
CP_EXPORT int cp_register_hook(struct cp_plugin *p, enum cp_stage stage, cp_hook_fn fn);

/* ------------------------------------------------------------------ */
/* Services                                                             */

/* Read LEN bytes at ADDR of a frozen task (process_vm_readv / /proc/PID/mem). */
CP_EXPORT ssize_t cp_task_read_mem(pid_t pid, uint64_t addr, void *buf, size_t len);
/* A dup of fd TARGET_FD of task PID (pidfd_getfd), or a negative errno. */
CP_EXPORT int cp_task_dup_fd(pid_t pid, int target_fd);
/* The images dir, as an fd owned by the core. */
CP_EXPORT int cp_images_dir_fd(void);

/*
 * ABI 1.3. Dump side, criu process: the inode number of the socket on
 * which criu serves the RPC request being run (swrk or a service
 * worker), so that a plugin can tell the client's socket connected to it
 * (a process that dumps itself holds one). -ENOENT when criu was not
 * started for an RPC request (the command line).
 */
CP_EXPORT int cp_rpc_service_sk_ino(uint64_t *ino);
/*
 * ABI 1.3. Restore side, any process: send on FD the answer criu gives a
 * DUMP request that succeeded, marked restored (criu_dump_resp.restored
 * = true): what a process that dumped itself over RPC reads on its RPC
 * socket after its restore. Returns 0 or a negative errno.
 */
CP_EXPORT int cp_rpc_send_dump_restored(int fd);

#ifdef __cplusplus
}
#endif

#endif /* CRIU_PLUGIN_H */
