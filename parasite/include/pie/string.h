/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Memory and string helpers for freestanding blobs. The compiler may emit
 * calls to memcpy/memset/memmove/memcmp on its own (struct copies), even
 * with -fno-builtin, so parasite/lib/string.c defines them; link it into
 * every blob.
 */
#ifndef PIE_STRING_H
#define PIE_STRING_H

#include <stddef.h>

void *memcpy(void *dst, const void *src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);

size_t pie_strlen(const char *s);
int pie_strcmp(const char *a, const char *b);
/* Copy at most SIZE-1 bytes and always terminate (if SIZE > 0). */
size_t pie_strlcpy(char *dst, const char *src, size_t size);

#endif /* PIE_STRING_H */
