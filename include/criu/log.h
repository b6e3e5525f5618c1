/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Logging for the core and for plugins (part of the plugin SDK).
 *
 * Levels and format follow CRIU, which users know: -v0 .. -v4, and
 * errors print as "Error (core/mem.c:123): ...". A file may define
 * LOG_PREFIX before including this header; plugins do not need to: the
 * core prefixes every line a plugin logs with the plugin's name, because
 * it knows which plugin it is calling.
 *
 * A trailing newline is optional: the logger ends every message with one.
 * Never pass errno to pr_perror: it appends ": strerror(errno)" itself.
 */
#ifndef CRIU_LOG_H
#define CRIU_LOG_H

#include <errno.h>
#include <stdarg.h>

#ifdef __cplusplus
extern "C" {
#endif

#define CP_EXPORT __attribute__((visibility("default")))

enum cp_log_level {
	CP_LOG_MSG = 0,	  /* always printed, without a prefix */
	CP_LOG_ERROR = 1,
	CP_LOG_WARN = 2,
	CP_LOG_INFO = 3,
	CP_LOG_DEBUG = 4,
};

/*
 * Print one message at LEVEL. FILE and LINE name the caller for errors
 * and warnings. Safe to call from any thread of the criu process; never
 * call it from the parasite or the restorer.
 */
CP_EXPORT void cp_log(enum cp_log_level level, const char *file, int line,
		      const char *fmt, ...) __attribute__((format(printf, 4, 5)));
CP_EXPORT void cp_vlog(enum cp_log_level level, const char *file, int line,
		       const char *fmt, va_list args);
/* The current log level (0..4). */
CP_EXPORT int cp_log_get_level(void);

#ifndef LOG_PREFIX
#define LOG_PREFIX ""
#endif

#define pr_msg(fmt, ...) cp_log(CP_LOG_MSG, __FILE__, __LINE__, fmt, ##__VA_ARGS__)
#define pr_err(fmt, ...) cp_log(CP_LOG_ERROR, __FILE__, __LINE__, LOG_PREFIX fmt, ##__VA_ARGS__)
#define pr_warn(fmt, ...) cp_log(CP_LOG_WARN, __FILE__, __LINE__, LOG_PREFIX fmt, ##__VA_ARGS__)
#define pr_info(fmt, ...) cp_log(CP_LOG_INFO, __FILE__, __LINE__, LOG_PREFIX fmt, ##__VA_ARGS__)
#define pr_debug(fmt, ...) cp_log(CP_LOG_DEBUG, __FILE__, __LINE__, LOG_PREFIX fmt, ##__VA_ARGS__)
#define pr_perror(fmt, ...) \
	cp_log_errno(errno, __FILE__, __LINE__, LOG_PREFIX fmt, ##__VA_ARGS__)

/* An error message followed by ": strerror(ERR)" and a newline. */
CP_EXPORT void cp_log_errno(int err, const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

#ifdef __cplusplus
}
#endif

#endif /* CRIU_LOG_H */
