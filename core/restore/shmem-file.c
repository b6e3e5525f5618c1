// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * cp_shmem_restore() for plugins, in the restored task: put the contents
 * saved by cp_shmem_dump() (pagemap-shmem-SHMID.img and its pages image)
 * back into a new shmem file (a memfd) of SIZE bytes. No image: all zero.
 */
#define _GNU_SOURCE
#define LOG_PREFIX "restore: "
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <criu/log.h>

#include "images/image.h"
#include "images/magic.h"
#include "log/log.h"
#include "restore/files.h"

#define SHF_PAGE 4096ull
#define SHF_BUF (256 * 1024)

/* Copy LEN bytes at POFF of the pages image PFD to OFF of FD. */
static int put_run(int fd, int pfd, uint64_t poff, uint64_t off, uint64_t len, char *buf, const char *pages)
{
	while (len) {
		size_t n = len < SHF_BUF ? (size_t)len : SHF_BUF;
		ssize_t r = pread(pfd, buf, n, (off_t)poff);

		if (r != (ssize_t)n) {
			pr_err("%s: short read of %zu bytes at %llu", pages, n, (unsigned long long)poff);
			return -EIO;
		}
		if (pwrite(fd, buf, n, (off_t)off) != (ssize_t)n) {
			int err = errno ? -errno : -EIO;

			pr_perror("cannot write the shared memory file at %llu", (unsigned long long)off);
			return err;
		}
		poff += n;
		off += n;
		len -= n;
	}
	return 0;
}

int rst_shmem_file_fill(struct rst_ctx *c, int fd, uint64_t shmid, uint64_t size)
{
	PagemapHead *head = NULL;
	struct image *img = NULL;
	char name[64], pages[64];
	uint64_t poff = 0;
	char *buf = NULL;
	int pfd = -1, ret;

	snprintf(name, sizeof(name), "pagemap-shmem-%llu.img", (unsigned long long)shmid);
	ret = img_open_read(c->dir, name, PAGEMAP_MAGIC, 0, &img);
	if (!ret)
		ret = img_read_msg(img, &pagemap_head__descriptor, (ProtobufCMessage **)&head);
	if (ret <= 0)
		goto out; /* no image or no head: nothing saved, all zero */
	snprintf(pages, sizeof(pages), "pages-%u.img", head->pages_id);
	pfd = openat(img_dir_fd(c->dir), pages, O_RDONLY | O_CLOEXEC);
	buf = malloc(SHF_BUF);
	if (pfd < 0 || !buf) {
		ret = pfd < 0 ? -errno : -ENOMEM;
		pr_perror("cannot open %s (for %s)", pages, name);
		goto out;
	}
	for (int n = 2;; n++) {
		PagemapEntry *pe;
		uint64_t nr, len;

		ret = img_read_msg(img, &pagemap_entry__descriptor, (ProtobufCMessage **)&pe);
		if (ret <= 0)
			break;
		nr = pe->has_nr_pages ? pe->nr_pages : pe->compat_nr_pages;
		len = nr * SHF_PAGE;
		ret = 0;
		if (!pe->has_flags || (pe->flags & 4)) {
			/* The last page was padded: write only up to the size. */
			uint64_t want = pe->vaddr >= size ? 0 : (size - pe->vaddr < len ? size - pe->vaddr : len);

			if (pe->vaddr >= size && len)
				pr_warn("%s: entry %d at %llu is past the size %llu", name, n,
					(unsigned long long)pe->vaddr, (unsigned long long)size);
			ret = put_run(fd, pfd, poff, pe->vaddr, want, buf, pages);
			poff += len;
		}
		protobuf_c_message_free_unpacked(&pe->base, NULL);
		if (ret)
			break;
	}
out:
	if (head)
		protobuf_c_message_free_unpacked(&head->base, NULL);
	if (img)
		img_close(img);
	if (pfd >= 0)
		close(pfd);
	free(buf);
	return ret < 0 ? ret : 0;
}
