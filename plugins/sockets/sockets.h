/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Private to the sockets plugin: the unix socket kind (unix-dump.c,
 * unix-restore.c), what sock_diag tells about a unix socket
 * (unix-diag.c), and the plugin's state. Nothing here crosses the
 * plugin boundary.
 */
#ifndef PLUGINS_SOCKETS_SOCKETS_H
#define PLUGINS_SOCKETS_SOCKETS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <criu/plugin.h>

#include "fdinfo.pb-c.h"
#include "sk-unix.pb-c.h"

/* CRIU's fd_types (FileEntry.type) and FileEntry field numbers. */
#define SK_TYPE_UNIX 5
#define SK_FIELD_USK 16

/* CRIU's image names and magics. */
#define SK_QUEUES_IMG "sk-queues.img"
#define SK_QUEUES_MAGIC 0x56264026
#define SK_FILES_IMG "files.img"
#define SK_FILES_MAGIC 0x56303138

/* CRIU's UnixSkEntry.uflags. */
#define USK_EXTERN (1u << 0)  /* the peer is outside the tree (--ext-unix-sk) */
#define USK_SERVICE (1u << 1) /* connected to criu's RPC socket: a self-dump */
#define USK_CALLBACK (1u << 2)
#define USK_INHERIT (1u << 3)

/* The kernel's TCP states as unix sockets use them. */
#define USK_ESTABLISHED 1
#define USK_CLOSE 7
#define USK_LISTEN 10

/* sk_shutdown bits as sock_diag reports them (the kernel's RCV/SEND_SHUTDOWN). */
#define USK_RCV_SHUTDOWN 1
#define USK_SEND_SHUTDOWN 2

/* ------------------------------------------------------------------ */
/* sock_diag (unix-diag.c)                                              */

#define USK_NAME_MAX 108 /* sizeof(sun_path) */

/* What NETLINK_SOCK_DIAG says about one unix socket. */
struct usk_diag {
	uint32_t ino;
	uint32_t peer;	  /* the peer's inode; 0: none */
	uint8_t type;	  /* SOCK_STREAM, SOCK_DGRAM, SOCK_SEQPACKET */
	uint8_t state;	  /* USK_ESTABLISHED, USK_CLOSE, USK_LISTEN */
	uint8_t shutdown; /* USK_RCV_SHUTDOWN | USK_SEND_SHUTDOWN */
	bool has_rqlen;
	uint32_t rqlen; /* listening: pending connections; else bytes queued */
	uint32_t wqlen; /* listening: the backlog; else bytes sent, not yet read */
	bool has_vfs;	/* bound to a path: the inode of the socket file */
	uint32_t vfs_dev, vfs_ino;
	size_t namelen; /* 0: not bound; an abstract name starts with a NUL */
	char name[USK_NAME_MAX + 1];
	uint32_t n_icons;  /* listening: connections not accepted yet */
	const void *icons; /* their clients' inodes (u32), in the answer parsed; may be unaligned */
};

/*
 * Parse one answer of NETLINK_SOCK_DIAG for a unix socket (a message of
 * type SOCK_DIAG_BY_FAMILY, or an error message) of LEN bytes at BUF.
 * Returns 0, the error the kernel answered (negative), or -EBADMSG.
 */
int usk_diag_parse(const void *buf, size_t len, struct usk_diag *out);

/* Ask the kernel about the unix socket with inode INO. -ENOENT: no such socket here. */
int usk_diag_get(uint32_t ino, struct usk_diag *out);

/*
 * The listening socket on which the stream socket CLIENT waits to be
 * accepted (CLIENT is among its in-flight connections): its inode in
 * *LISTENER. -ENOENT when there is none in this network namespace.
 */
int usk_diag_find_listener(uint32_t client, uint32_t *listener);

/* ------------------------------------------------------------------ */
/* The plugin's state                                                   */

/* A unix socket dumped in this run: checked once the tree is dumped. */
struct usk_dumped {
	uint32_t ino, peer, id;
	pid_t pid;
	int fd;
	bool no_check; /* criu's RPC socket, or saved as outside the tree: no peer to check */
	bool listening;
	bool inflight; /* a connection not accepted yet; peer is the listening socket */
};

/* A unix socket in the images (files.img), for restore. */
struct usk_image {
	uint32_t id;
	FileEntry *fe; /* fe->usk is the entry */
};

/* A queued message of sk-queues.img. */
struct usk_packet {
	uint32_t id_for; /* the file id of the socket it waits in */
	size_t len;
	uint8_t *data;
};

/* One pair of sockets made in this task, kept at high fds until both ends are handed out. */
struct usk_pair {
	uint32_t ino[2]; /* image inodes of the two ends */
	int fds[2];
	ino_t new_ino[2]; /* the new sockets' inodes, to check a kept end is still ours */
};

/* A listening socket made early (for the connections waiting on it), kept until asked for. */
struct usk_listener {
	uint32_t ino;
	int fd; /* -1 once handed out */
	ino_t new_ino;
};

struct sk_state {
	/* dump */
	struct usk_dumped *dumped;
	size_t n_dumped;
	struct cp_image *queues;
	uint32_t *tree_inos; /* sockets the tree holds (unix-tree.c) */
	size_t n_tree_inos;
	bool tree_known;
	const struct usk_diag *ext_peer; /* for sk_unix_ext_ops.dump() */
	/* restore (read in criu, inherited by the tasks) */
	struct usk_image *images;
	size_t n_images;
	struct usk_packet *packets;
	size_t n_packets;
	bool loaded;
	/* restore, per task */
	struct usk_pair *pairs;
	size_t n_pairs;
	struct usk_listener *listeners;
	size_t n_listeners;
};

struct sk_state *sk_state(struct cp_plugin *p);

/* ------------------------------------------------------------------ */
/* The unix kind                                                        */

/* The cp_fd_ops of unix sockets (registered by sockets.c). */
int usk_match(struct cp_plugin *p, const struct cp_fd_desc *fd);
int usk_dump(struct cp_plugin *p, const struct cp_fd_desc *fd, uint32_t id, struct cp_payload *out);
int usk_ext_dump(struct cp_plugin *p, const struct cp_fd_desc *fd, uint32_t id, struct cp_payload *out);
int usk_group(struct cp_plugin *p, const struct cp_file *file, uint64_t *key);
int usk_open(struct cp_plugin *p, const struct cp_file *file, int *out_fd);

/* Dump side, CP_STAGE_NETWORK_LOCK: the sockets the frozen tree holds. */
int usk_collect_tree(struct cp_plugin *p, const struct cp_hook_ctx *ctx);
/* Is socket INO held by the tree (true when that is not known)? */
bool usk_in_tree(const struct sk_state *st, uint32_t ino);
/* The kind that writes the entry of a peer outside the tree (--ext-unix-sk); never matches an fd. */
extern const struct cp_fd_ops sk_unix_ext_ops;

/* Dump side: every peer dumped too (or allowed outside), then the queues image closed. */
int usk_post_dump(struct cp_plugin *p, const struct cp_hook_ctx *ctx);
/* Restore side, criu: read the unix entries of files.img and sk-queues.img. */
int usk_restore_init(struct cp_plugin *p, const struct cp_hook_ctx *ctx);
/* Restore side, each task: close the kept ends nobody took. */
int usk_restore_task_done(struct cp_plugin *p, const struct cp_hook_ctx *ctx);

#endif /* PLUGINS_SOCKETS_SOCKETS_H */
