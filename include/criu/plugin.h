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
#define CP_ABI_MINOR 2

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

/* What the core knows about one fd of a task being dumped. Read-only. */
struct cp_fd_desc {
	size_t size;	     /* sizeof(struct cp_fd_desc) of the core */
	pid_t pid;	     /* the task, as seen from criu */
	int fd;		     /* the fd number in the task */
	int local_fd;	     /* criu's dup of it (pidfd_getfd): the same open file
				description, so never change its offset or flags */
	unsigned int flags;  /* open flags from fdinfo, O_CLOEXEC included */
	unsigned long long pos; /* file position from fdinfo */
	int mnt_id;	     /* from fdinfo */
	struct stat st;	     /* fstat() of local_fd */
	const char *link;    /* readlink of /proc/PID/fd/N */
	const char *fdinfo;  /* the whole text of /proc/PID/fdinfo/N */
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
	unsigned int flags;  /* FdinfoEntry.flags: the fd flags (FD_CLOEXEC), as CRIU stores them */
	/*
	 * ABI 1.2 (check size): no fd of the task is placed at this number
	 * or above, so a plugin keeps what it holds between open() calls
	 * (the other end of a pipe) there: fcntl(F_DUPFD_CLOEXEC, keep_fd_min).
	 * 0 when the core has no such bound (a file not opened for an fd).
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
};

/* Register an fd kind. Call from init(). */
CP_EXPORT int cp_register_fd_kind(struct cp_plugin *p, const struct cp_fd_ops *ops);

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

#ifdef __cplusplus
}
#endif

#endif /* CRIU_PLUGIN_H */
