/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Private to the core: setting up the log that include/criu/log.h writes
 * to, and the first-error record that the CLI summary and the RPC reply
 * (cr_errmsg) report.
 */
#ifndef CORE_LOG_LOG_H
#define CORE_LOG_LOG_H

#include <stdbool.h>
#include <sys/types.h>

#include <criu/log.h>

/* Level 0..4 (CRIU's -v); default 2 (errors and warnings). */
void log_set_level(int level);
/*
 * Send the log to PATH ("-" = stdout), relative to the current directory
 * (the work dir). With PER_PID, the name gets ".PID" appended, as
 * CRIU's --log-pid does. Returns 0 or a negative errno.
 */
int log_open_file(const char *path, bool per_pid);
/* Send the log to an already open fd (stderr by default). */
void log_set_fd(int fd);
int log_get_fd(void);
/* Close the log file; later messages go to stderr. */
void log_close(void);
/*
 * Name the plugin on whose behalf the core is calling; its messages get
 * "NAME: " in front. NULL when back in the core. Returns the previous one.
 */
const char *log_set_plugin(const char *name);

/*
 * The error context: what the core is working on. Set fields as you walk
 * (stage, task, fd, image entry, config line); the first error logged
 * keeps a copy, so the summary names the thing. Each setter returns the
 * previous value where that is useful for restoring it.
 */
struct err_context {
	const char *stage; /* "seize", "dump memory", "restore fds" ... */
	pid_t pid;	   /* 0: none */
	pid_t tid;
	int fd;		   /* -1: none */
	const char *path;
	const char *image; /* image file name */
	int entry;	   /* entry number in it, -1: none */
	const char *remedy; /* a hint the user can act on, or NULL */
};

void err_ctx_reset(void);
void err_ctx_set_stage(const char *stage);
void err_ctx_set_task(pid_t pid, pid_t tid);
void err_ctx_set_fd(int fd, const char *path);
void err_ctx_set_image(const char *image, int entry);
/* Attach a remedy to the next (or the current first) error. */
void err_ctx_set_remedy(const char *remedy);

/* The first error logged since the last err_first_reset(), or NULL. */
const char *err_first_message(void);
/* The same as one line with its context: "(stage, pid N, fd 3 /x): msg". */
const char *err_first_summary(void);
const char *err_first_remedy(void);
void err_first_reset(void);

#endif /* CORE_LOG_LOG_H */
