// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The log: CRIU's levels and line format, one destination, and a copy of
 * the first error with the context the core had when it was logged.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log/log.h"

static int log_level = CP_LOG_WARN;
static int log_fd = STDERR_FILENO;
static bool log_fd_owned;
static bool log_timestamps;
static const char *log_plugin;
static struct timespec log_start;

static struct err_context err_ctx = { .fd = -1, .entry = -1 };

static bool first_err_set;
static char first_err_msg[1024];
static char first_err_summary[1536];
static char first_err_remedy[256];

void log_set_level(int level)
{
	if (level < 0)
		level = 0;
	if (level > CP_LOG_DEBUG)
		level = CP_LOG_DEBUG;
	log_level = level;
}

CP_EXPORT int cp_log_get_level(void)
{
	return log_level;
}

void log_set_fd(int fd)
{
	log_close();
	log_fd = fd;
	log_fd_owned = false;
	log_timestamps = false;
}

int log_get_fd(void)
{
	return log_fd;
}

void log_close(void)
{
	if (log_fd_owned)
		close(log_fd);
	log_fd = STDERR_FILENO;
	log_fd_owned = false;
	log_timestamps = false;
}

int log_open_file(const char *path, bool per_pid)
{
	char name[4096];
	int fd;

	if (!strcmp(path, "-")) {
		log_set_fd(STDOUT_FILENO);
		return 0;
	}
	if (per_pid)
		snprintf(name, sizeof(name), "%s.%d", path, (int)getpid());
	else
		snprintf(name, sizeof(name), "%s", path);

	fd = open(name, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0600);
	if (fd < 0) {
		int err = errno;

		pr_perror("Can't open log file %s", name);
		return -err;
	}
	log_close();
	log_fd = fd;
	log_fd_owned = true;
	log_timestamps = true;
	clock_gettime(CLOCK_MONOTONIC, &log_start);
	return 0;
}

const char *log_set_plugin(const char *name)
{
	const char *old = log_plugin;

	log_plugin = name;
	return old;
}

void err_ctx_reset(void)
{
	memset(&err_ctx, 0, sizeof(err_ctx));
	err_ctx.fd = -1;
	err_ctx.entry = -1;
}

void err_ctx_set_stage(const char *stage)
{
	err_ctx.stage = stage;
}

void err_ctx_set_task(pid_t pid, pid_t tid)
{
	err_ctx.pid = pid;
	err_ctx.tid = tid;
}

void err_ctx_set_fd(int fd, const char *path)
{
	err_ctx.fd = fd;
	err_ctx.path = path;
}

void err_ctx_set_image(const char *image, int entry)
{
	err_ctx.image = image;
	err_ctx.entry = entry;
}

void err_ctx_set_remedy(const char *remedy)
{
	if (first_err_set && remedy && !first_err_remedy[0])
		snprintf(first_err_remedy, sizeof(first_err_remedy), "%s", remedy);
	err_ctx.remedy = remedy;
}

const char *err_first_message(void)
{
	return first_err_set ? first_err_msg : NULL;
}

const char *err_first_summary(void)
{
	return first_err_set ? first_err_summary : NULL;
}

const char *err_first_remedy(void)
{
	return first_err_set && first_err_remedy[0] ? first_err_remedy : NULL;
}

void err_first_reset(void)
{
	first_err_set = false;
	first_err_msg[0] = first_err_summary[0] = first_err_remedy[0] = '\0';
}

/* "stage, pid 12, fd 3 (/tmp/x), image core-12.img entry 0" */
static void format_context(char *buf, size_t size)
{
	size_t n = 0;

	buf[0] = '\0';
#define ADD(...)                                                            \
	do {                                                                \
		if (n < size)                                               \
			n += snprintf(buf + n, size - n, "%s", n ? ", " : ""); \
		if (n < size)                                               \
			n += snprintf(buf + n, size - n, __VA_ARGS__);      \
	} while (0)
	if (err_ctx.stage)
		ADD("%s", err_ctx.stage);
	if (err_ctx.pid)
		ADD("pid %d", (int)err_ctx.pid);
	if (err_ctx.tid && err_ctx.tid != err_ctx.pid)
		ADD("tid %d", (int)err_ctx.tid);
	if (err_ctx.fd >= 0)
		ADD("fd %d%s%s%s", err_ctx.fd, err_ctx.path ? " (" : "",
		    err_ctx.path ? err_ctx.path : "", err_ctx.path ? ")" : "");
	else if (err_ctx.path)
		ADD("%s", err_ctx.path);
	if (err_ctx.image && err_ctx.entry >= 0)
		ADD("image %s entry %d", err_ctx.image, err_ctx.entry);
	else if (err_ctx.image)
		ADD("image %s", err_ctx.image);
#undef ADD
}

static void record_first_error(const char *msg)
{
	char ctx[512];
	size_t len;

	if (first_err_set)
		return;
	first_err_set = true;
	snprintf(first_err_msg, sizeof(first_err_msg), "%s", msg);
	len = strlen(first_err_msg);
	while (len && first_err_msg[len - 1] == '\n')
		first_err_msg[--len] = '\0';
	format_context(ctx, sizeof(ctx));
	/* Built piecewise: a long message simply cuts the context short. */
	snprintf(first_err_summary, sizeof(first_err_summary), "%s", first_err_msg);
	if (ctx[0]) {
		len = strlen(first_err_summary);
		snprintf(first_err_summary + len, sizeof(first_err_summary) - len, " (%s", ctx);
		len = strlen(first_err_summary);
		if (len + 1 < sizeof(first_err_summary))
			strcpy(first_err_summary + len, ")");
	}
	if (err_ctx.remedy)
		snprintf(first_err_remedy, sizeof(first_err_remedy), "%s", err_ctx.remedy);
}

static void write_all(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t n = write(fd, buf, len);

		if (n <= 0) {
			if (n < 0 && errno == EINTR)
				continue;
			return;
		}
		buf += n;
		len -= n;
	}
}

CP_EXPORT void cp_vlog(enum cp_log_level level, const char *file, int line, const char *fmt, va_list args)
{
	char msg[1024], out[1400];
	int saved_errno = errno;
	size_t n = 0, len;

	if ((int)level > log_level && level != CP_LOG_ERROR)
		goto out;

	vsnprintf(msg, sizeof(msg), fmt, args);
	len = strlen(msg);
	while (len && msg[len - 1] == '\n')
		msg[--len] = '\0';

	if (level == CP_LOG_ERROR)
		record_first_error(msg);
	if ((int)level > log_level)
		goto out;

	if (log_timestamps && level != CP_LOG_MSG) {
		struct timespec now;
		long sec, usec;

		clock_gettime(CLOCK_MONOTONIC, &now);
		sec = now.tv_sec - log_start.tv_sec;
		usec = (now.tv_nsec - log_start.tv_nsec) / 1000;
		if (usec < 0) {
			usec += 1000000;
			sec--;
		}
		n += snprintf(out + n, sizeof(out) - n, "(%02ld.%06ld) ", sec, usec);
	}
	if (level == CP_LOG_ERROR)
		n += snprintf(out + n, sizeof(out) - n, "Error (%s:%d): ", file, line);
	else if (level == CP_LOG_WARN)
		n += snprintf(out + n, sizeof(out) - n, "Warn  (%s:%d): ", file, line);
	if (log_plugin && level != CP_LOG_MSG && n < sizeof(out))
		n += snprintf(out + n, sizeof(out) - n, "%s: ", log_plugin);
	if (n < sizeof(out))
		n += snprintf(out + n, sizeof(out) - n, "%s\n", msg);
	if (n > sizeof(out) - 1)
		n = sizeof(out) - 1;
	write_all(log_fd, out, n);
out:
	errno = saved_errno;
}

CP_EXPORT void cp_log(enum cp_log_level level, const char *file, int line, const char *fmt, ...)
{
	va_list args;

	va_start(args, fmt);
	cp_vlog(level, file, line, fmt, args);
	va_end(args);
}

CP_EXPORT void cp_log_errno(int err, const char *file, int line, const char *fmt, ...)
{
	char msg[900];
	va_list args;

	va_start(args, fmt);
	vsnprintf(msg, sizeof(msg), fmt, args);
	va_end(args);
	cp_log(CP_LOG_ERROR, file, line, "%s: %s", msg, strerror(err));
}
