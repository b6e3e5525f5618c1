// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Reading the text of /proc/PID/fdinfo/N, which the core hands over whole
 * (cp_fd_desc.fdinfo): single "key: value" lines, and the repeated lines
 * of epoll targets, inotify watches and fanotify marks, which carry
 * several "name:value" fields each.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>

#include "files.h"

bool files_fdinfo_value(const char *text, const char *key, int base, uint64_t *out)
{
	const char *s = text;
	size_t n = strlen(key);
	char *end;

	while (s && *s) {
		if (!strncmp(s, key, n) && s[n] == ':') {
			errno = 0;
			*out = strtoull(s + n + 1, &end, base);
			return !errno && end != s + n + 1;
		}
		s = strchr(s, '\n');
		if (s)
			s++;
	}
	return false;
}

const char *files_fdinfo_next(const char *text, const char *prefix, const char **line)
{
	const char *s = *line ? strchr(*line, '\n') : text;
	size_t n = strlen(prefix);

	if (*line && s)
		s++;
	while (s && *s) {
		if (!strncmp(s, prefix, n)) {
			*line = s;
			return s;
		}
		s = strchr(s, '\n');
		if (s)
			s++;
	}
	*line = NULL;
	return NULL;
}

bool files_field_u64(const char *line, const char *name, int base, uint64_t *out)
{
	size_t n = strlen(name);
	const char *s = line;
	char *end;

	while (s && *s && *s != '\n') {
		/* A field starts the line or follows a blank. */
		if ((s == line || s[-1] == ' ' || s[-1] == '\t') && !strncmp(s, name, n) && s[n] == ':') {
			s += n + 1;
			while (*s == ' ' || *s == '\t')
				s++;
			errno = 0;
			*out = strtoull(s, &end, base);
			return !errno && end != s;
		}
		s++;
	}
	return false;
}

int files_field_handle(const char *line, FhEntry *fh, uint64_t *words, size_t max_words)
{
	const char *s = strstr(line, "f_handle:");
	uint64_t bytes, type;
	size_t nhex;

	if (!s || !files_field_u64(line, "fhandle-bytes", 16, &bytes) ||
	    !files_field_u64(line, "fhandle-type", 16, &type))
		return -EINVAL;
	if (bytes == 0 || bytes > max_words * 8)
		return -E2BIG;
	s += strlen("f_handle:");
	memset(words, 0, max_words * sizeof(*words));
	/* The kernel prints the handle's bytes in order, two hex digits each. */
	for (nhex = 0; nhex < bytes * 2; nhex++) {
		char c = s[nhex];
		unsigned int v;

		if (c >= '0' && c <= '9')
			v = (unsigned int)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v = (unsigned int)(c - 'a' + 10);
		else
			return -EINVAL;
		((uint8_t *)words)[nhex / 2] |= (uint8_t)(nhex % 2 ? v : v << 4);
	}
	fh->bytes = (uint32_t)bytes;
	fh->type = (uint32_t)type;
	fh->n_handle = (bytes + 7) / 8;
	if (fh->n_handle < FH_ENTRY_SIZES__min_entries)
		fh->n_handle = FH_ENTRY_SIZES__min_entries; /* CRIU always writes 16 words */
	fh->handle = words;
	return 0;
}

dev_t files_kdev_to_dev(uint64_t kdev)
{
	/* The kernel's internal dev_t: 12 bits of major above 20 bits of minor. */
	return makedev((unsigned int)(kdev >> 20), (unsigned int)(kdev & 0xfffff));
}
