// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Small helpers of the C/R runner: formatting, time, files, argument
 * splitting and %VAR% expansion, wait statuses.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "run.h"

/* snprintf that truncates silently: paths here are far below PATH_MAX. */
int xsnprintf(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;
	int ret;

	va_start(ap, fmt);
	ret = vsnprintf(buf, len, fmt, ap);
	va_end(ap);
	return ret;
}

void set_reason(struct run *r, const char *fmt, ...)
{
	va_list ap;

	if (r->reason[0])
		return; /* keep the first cause */
	va_start(ap, fmt);
	vsnprintf(r->reason, sizeof(r->reason), fmt, ap);
	va_end(ap);
}

double now_sec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

bool past(const struct timespec *deadline)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec > deadline->tv_sec || (ts.tv_sec == deadline->tv_sec && ts.tv_nsec >= deadline->tv_nsec);
}

void nap_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000 * 1000 };

	nanosleep(&ts, NULL);
}

void nap(void)
{
	nap_ms(10);
}

/* Read a whole small file into a malloc'ed string; NULL on error. */
char *read_file(const char *path)
{
	FILE *f = fopen(path, "re");
	char *buf = NULL;
	size_t len = 0;
	FILE *m;
	int c;

	if (!f)
		return NULL;
	m = open_memstream(&buf, &len);
	if (!m) {
		fclose(f);
		return NULL;
	}
	while ((c = getc(f)) != EOF)
		putc(c, m);
	fclose(f);
	fclose(m);
	return buf;
}

bool file_exists(const char *path)
{
	return access(path, F_OK) == 0;
}

/* Print the last LINES lines of PATH, indented. */
void print_tail(const char *path, int lines)
{
	char *buf = read_file(path), *p;
	int n = 0;

	if (!buf) {
		printf("    --- %s: (missing)\n", path);
		return;
	}
	p = buf + strlen(buf);
	if (p > buf && p[-1] == '\n')
		p--;
	while (p > buf && n <= lines) {
		p--;
		if (*p == '\n')
			n++;
	}
	if (*p == '\n')
		p++;
	printf("    --- tail of %s\n", path);
	while (*p) {
		char *nl = strchr(p, '\n');
		int len = nl ? (int)(nl - p) : (int)strlen(p);

		printf("    | %.*s\n", len, p);
		p += len + (nl ? 1 : 0);
	}
	free(buf);
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if (flag == FTW_DP)
		return rmdir(path) ? 0 : 0;
	unlink(path);
	return 0;
}

void rm_tree(const char *path)
{
	nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* Split S at blanks into ARGV (appending after *ARGC); S is modified. */
void split_args(char *s, char **argv, int *argc)
{
	char *tok, *save = NULL;

	for (tok = strtok_r(s, " \t", &save); tok && *argc < MAX_ARGS - 1; tok = strtok_r(NULL, " \t", &save))
		argv[(*argc)++] = tok;
	argv[*argc] = NULL;
}

/* Copy SRC to DST (size LEN), replacing %SRCDIR%, %BINDIR%, %DIR% and %PID%. */
void expand(const struct run *r, const char *src, char *dst, size_t len)
{
	size_t o = 0;

	while (*src && o + 1 < len) {
		const char *val = NULL;
		char pid[16];
		size_t skip = 0;

		if (!strncmp(src, "%SRCDIR%", 8)) {
			val = r->cfg->srcdir;
			skip = 8;
		} else if (!strncmp(src, "%BINDIR%", 8)) {
			val = r->cfg->bindir;
			skip = 8;
		} else if (!strncmp(src, "%DIR%", 5)) {
			val = r->dir;
			skip = 5;
		} else if (!strncmp(src, "%PID%", 5)) {
			xsnprintf(pid, sizeof(pid), "%d", r->pid);
			val = pid;
			skip = 5;
		}
		if (val) {
			o += (size_t)xsnprintf(dst + o, len - o, "%s", val);
			if (o >= len)
				o = len - 1;
			src += skip;
		} else {
			dst[o++] = *src++;
		}
	}
	dst[o] = '\0';
}


void describe_status(int status, char *buf, size_t len)
{
	if (status == -ETIMEDOUT)
		xsnprintf(buf, len, "timed out");
	else if (status < 0)
		xsnprintf(buf, len, "%s", strerror(-status));
	else if (WIFEXITED(status))
		xsnprintf(buf, len, "exit code %d", WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		xsnprintf(buf, len, "killed by signal %d (%s)", WTERMSIG(status), strsignal(WTERMSIG(status)));
	else
		xsnprintf(buf, len, "status 0x%x", status);
}

static bool is_word_char(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

/* Does TEXT contain WORD, not as part of a longer number or name? */
static bool has_word(const char *text, const char *word)
{
	size_t len = strlen(word);
	const char *p = text;

	while ((p = strcasestr(p, word))) {
		bool left = p == text || !is_word_char(p[-1]);
		bool right = !is_word_char(p[len]);

		if (left && right)
			return true;
		p++;
	}
	return false;
}

/* Every token of WORDS (the desc's dump-error or restore-error) must be in the log or output. */
int check_error_words(struct run *r, const char *words, const char *action, const char *log, const char *out)
{
	char want[1024], *tok, *save = NULL;
	char *a = read_file(log), *b = read_file(out);
	int ret = 0;

	expand(r, words, want, sizeof(want));
	for (tok = strtok_r(want, " \t", &save); tok; tok = strtok_r(NULL, " \t", &save)) {
		if ((a && has_word(a, tok)) || (b && has_word(b, tok)))
			continue;
		set_reason(r, "the %s failed as expected, but its message does not name \"%s\"", action, tok);
		ret = -EINVAL;
		break;
	}
	free(a);
	free(b);
	return ret;
}
