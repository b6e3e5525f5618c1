// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Stage 1's last steps: choose the bootstrap address (fact 5.5), map the
 * region, copy and relocate the restorer blob, hand out space for the
 * args, and jump.
 */
#define LOG_PREFIX "restore: "
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <criu/log.h>
#include <pie/blob.h>
#include <pie/kabi.h>

#include "restore/bootstrap.h"
#include "restorer/restorer-blob.h"

/* Leave the lowest addresses alone: NULL-pointer guards and mmap_min_addr. */
#define RST_BOOT_LOW 0x10000ull

static size_t page_up(size_t v)
{
	return (v + K_PAGE_SIZE - 1) & ~(K_PAGE_SIZE - 1);
}

static int span_cmp(const void *a, const void *b)
{
	const struct rst_span *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

/* Our own mappings, then the task's, sorted: the first gap of LEN wins. */
static int find_gap(size_t len, const struct rst_span *avoid, size_t nr_avoid, uint64_t *out)
{
	struct rst_span *s;
	size_t n = 0, cap = nr_avoid + 256, i;
	unsigned long long lo, hi;
	uint64_t cur = RST_BOOT_LOW;
	char line[512];
	FILE *f;
	int ret = -ENOMEM;

	s = malloc(cap * sizeof(*s));
	if (!s)
		return -ENOMEM;
	for (i = 0; i < nr_avoid; i++)
		s[n++] = avoid[i];
	f = fopen("/proc/self/maps", "re");
	if (!f) {
		ret = -errno;
		pr_perror("cannot open /proc/self/maps");
		goto out;
	}
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%llx-%llx", &lo, &hi) != 2)
			continue;
		if (n == cap) {
			struct rst_span *t = realloc(s, (cap *= 2) * sizeof(*s));

			if (!t) {
				fclose(f);
				goto out;
			}
			s = t;
		}
		s[n].start = lo;
		s[n].end = hi;
		n++;
	}
	fclose(f);
	qsort(s, n, sizeof(*s), span_cmp);
	for (i = 0; i < n; i++) {
		if (s[i].start >= cur + len)
			break;
		if (s[i].end > cur)
			cur = page_up(s[i].end);
	}
	if (cur + len > K_TASK_SIZE) {
		pr_err("no %zu-byte gap for the bootstrap region in the task's and criu's layouts",
		       len);
		ret = -ENOSPC;
		goto out;
	}
	*out = cur;
	ret = 0;
out:
	free(s);
	return ret;
}

int rst_boot_map(struct rst_boot *b, size_t payload, size_t park_len, const struct rst_span *avoid,
		 size_t nr_avoid)
{
	const struct pie_blob *blob = &restorer_blob;
	size_t blob_len = page_up(blob->mem_size);
	uint64_t addr;
	void *m;
	int ret;

	memset(b, 0, sizeof(*b));
	payload = page_up(payload);
	park_len = page_up(park_len);
	b->len = blob_len + payload + RST_BOOT_STACK + park_len;
	ret = find_gap(b->len, avoid, nr_avoid, &addr);
	if (ret)
		return ret;
	m = mmap((void *)addr, b->len, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	if (m == MAP_FAILED || m != (void *)addr) {
		ret = m == MAP_FAILED ? -errno : -EEXIST;
		pr_perror("cannot map the %zu-byte bootstrap region at %#llx", b->len,
			  (unsigned long long)addr);
		if (m != MAP_FAILED)
			munmap(m, b->len);
		return ret;
	}
	b->base = m;
	pie_blob_load(blob, b->base, addr);
	b->pos = blob_len;
	b->limit = blob_len + payload;
	b->stack_top = b->limit + RST_BOOT_STACK;
	b->park = park_len ? addr + b->stack_top : 0;
	b->park_len = park_len;
	pr_debug("bootstrap region %#llx-%#llx (blob %zu, args %zu, park %zu)",
		 (unsigned long long)addr, (unsigned long long)(addr + b->len), blob_len, payload,
		 park_len);
	return 0;
}

void *rst_boot_alloc(struct rst_boot *b, size_t len, size_t align)
{
	size_t at = (b->pos + align - 1) & ~(align - 1);

	if (at + len > b->limit || at + len < at) {
		pr_err("bootstrap region: no room for %zu more bytes (%zu of %zu used)", len, b->pos,
		       b->limit);
		return NULL;
	}
	b->pos = at + len;
	memset(b->base + at, 0, len);
	return b->base + at;
}

uint64_t rst_boot_syscall_insn(const struct rst_boot *b)
{
	return (uint64_t)(uintptr_t)b->base + RESTORER_OFF_SYSCALL_INSN;
}

void rst_boot_unmap(struct rst_boot *b)
{
	if (b->base)
		munmap(b->base, b->len);
	b->base = NULL;
}

void rst_boot_jump(struct rst_boot *b, struct rst_args *args)
{
	uint64_t sp = (uint64_t)(uintptr_t)b->base + b->stack_top;
	uint64_t entry = (uint64_t)(uintptr_t)b->base + restorer_blob.entry_off;

	/* W^X (fact 2.6): the text becomes r-x, the rest stays rw-. */
	if (mprotect(b->base, restorer_blob.rw_off, PROT_READ | PROT_EXEC)) {
		pr_perror("cannot make the restorer text executable");
		_exit(1);
	}
	__asm__ volatile("movq %0, %%rsp\n\t"
			 "jmp *%1"
			 :
			 : "r"(sp), "r"(entry), "D"(args)
			 : "memory");
	__builtin_unreachable();
}
