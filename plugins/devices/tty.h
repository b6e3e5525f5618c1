/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Private to the devices plugin: terminals. tty.c is the fd kind (match,
 * dump, open), tty-dump.c writes tty-info.img and tty-data.img at the end
 * of a dump, pty.c makes pty pairs again and the controlling terminal.
 *
 * Terminals are named as CRIU names them: a TtyInfoEntry id is
 * (index << 1) + 1 for the master of pty INDEX and (index << 1) for its
 * slave, so the two ends of one pty are neighbours; other terminals get
 * fixed ids above every pty index.
 */
#ifndef PLUGINS_DEVICES_TTY_H
#define PLUGINS_DEVICES_TTY_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <termios.h>

#include <criu/plugin.h>

#include "tty.pb-c.h"

#define TTY_INFO_IMG "tty-info.img"
#define TTY_INFO_MAGIC 0x59453036 /* CRIU's TTY_INFO */
#define TTY_DATA_IMG "tty-data.img"
#define TTY_DATA_MAGIC 0x59413026 /* CRIU's TTY_DATA */

/* The highest pty index we save (CRIU's limit), and the ids of other terminals. */
#define TTY_MAX_PTY_INDEX 1000
#define TTY_ID_CONSOLE 2004
#define TTY_ID_VT 2008
#define TTY_ID_CTTY 2012
#define TTY_ID_SERIAL 2014

/* Control characters of the kernel's termios, as CRIU saves them. */
#define TTY_KERNEL_NCC 19

/* How much queued data one direction of a pty may hold in the image. */
#define TTY_DATA_MAX 65536

/* One terminal seen by the dump: the first open file of it. */
struct tty_dumped {
	uint32_t info_id;
	TtyType type;
	bool master;	    /* a pty master (/dev/ptmx) */
	uint32_t index;	    /* pty index */
	int lfd;	    /* a dup of the task's open file, read at the end */
	unsigned int flags; /* its status flags, to put back after reading */
	dev_t rdev, dev;
	uid_t uid;
	gid_t gid;
	pid_t pid; /* the first task seen with it, for messages */
	int fd;
};

/* The restore side's view of one terminal of tty-info.img. */
struct tty_rst_info {
	TtyInfoEntry *ie;
	ProtobufCBinaryData data; /* its queued bytes from tty-data.img, if any */
};

/* A pty made on restore, in the process that made it (children inherit this). */
struct pty_pair {
	uint32_t index;	    /* its index in the images */
	uint32_t new_index; /* its index now */
	int master;	    /* the master, kept at a high fd number */
	dev_t master_rdev;  /* what the kept fd must still be */
	ino_t master_ino;
	pid_t maker;	    /* the process that made it (getpid()) */
	bool relock;	    /* lock it again once the maker's fds are open */
};

struct tty_state {
	/* dump */
	struct tty_dumped *dumped;
	size_t n_dumped;
	/* restore */
	struct tty_rst_info *infos;
	size_t n_infos;
	bool loaded;
	TtyDataEntry **data; /* kept for the bytes infos[].data point at */
	size_t n_data;
	struct pty_pair *pairs;
	size_t n_pairs;
	pid_t ctty_pgrp;   /* foreground group to set in CP_STAGE_RESTORE_TASK, or 0 */
	pid_t ctty_leader; /* by this process (getpid()), which set the terminal */
};

struct tty_state *tty_state(struct cp_plugin *p);

bool tty_shell_job(void);
/* CRIU's TtyType of a terminal device, and whether it is a pty master. */
TtyType tty_type_of(dev_t rdev, bool *master);

/* tty-dump.c: write the images at the end of a dump (CP_STAGE_POST_DUMP). */
int tty_dump_finish(struct cp_plugin *p, const struct cp_hook_ctx *ctx);

/* pty.c */
int tty_load_images(struct cp_plugin *p);
const struct tty_rst_info *tty_info_find(struct tty_state *st, uint32_t id);
/* A new fd of the master (MASTER) or of a slave of pty INFO, made the first time. */
int pty_open_end(struct cp_plugin *p, const struct tty_rst_info *info, bool master, unsigned int flags,
		 int *out_fd);
/*
 * In session leader PID, make the pty whose session it led its
 * controlling terminal again. -ENOENT: PID led no such session. EARLY
 * (from an fd's open()): CP_RETRY while the pty is not there yet.
 */
int pty_set_ctty(struct tty_state *st, pid_t pid, bool early);
/* The controlling terminal: CP_STAGE_RESTORE_TASK_FDS and CP_STAGE_RESTORE_TASK hooks. */
int pty_restore_task_fds(struct cp_plugin *p, const struct cp_hook_ctx *ctx);
int pty_restore_task(struct cp_plugin *p, const struct cp_hook_ctx *ctx);
/*
 * A new open file of the slave of MASTER with status flags FLAGS, as
 * open() would make it (O_LARGEFILE; close-on-exec on the fd, not in the
 * file's flags, where TIOCGPTPEER would leave it). -1 and errno on failure.
 */
int pty_peer(int master, unsigned int flags);
/*
 * Queue LEN BYTES in the pty of MASTER again, as they were read: into the
 * slave's input (TO_MASTER: written to the master with echo, signals and
 * input mapping off for the moment) or into the master's (written to a
 * slave with output processing off). 0 or a negative errno.
 */
int pty_inject(int master, bool to_master, const uint8_t *bytes, size_t len);
/* Apply TE to termios T (zeroed first). -EINVAL on a malformed entry. */
int tty_termios_from(const TermiosEntry *te, struct termios *t);

#endif /* PLUGINS_DEVICES_TTY_H */
